/*
 * A router leg: whole Ethernet frames in and out of one interface, behind
 * an ops table: AF_XDP (port_xsk.c, lib/io's raw mode, the default) or
 * AF_PACKET (port_packet.c, where AF_XDP cannot be had).
 *
 * A frame's bytes are opaque to the emulator apart from hdr_len bytes in
 * front of the Ethernet header that the backend needs back on send (the
 * AF_PACKET backend's virtio-net header, which carries a checksum the
 * sender left to offload across the emulator).
 */
#ifndef MPQ_LINKEMU_PORT_H
#define MPQ_LINKEMU_PORT_H

#include <stdint.h>
#include <sys/uio.h>

#define EMU_BATCH 64
#define EMU_FRAME_MAX 9216 /* bytes of one frame and its header; longer are dropped */

typedef struct emu_port {
	const struct emu_port_ops *ops;
	int fd;
	int ifindex;
	uint32_t hdr_len;		/* backend bytes before the Ethernet header */
	uint64_t rx_truncated;		/* frames longer than EMU_FRAME_MAX */
	uint64_t rx_dropped;		/* frames the kernel dropped before we read them */
	uint8_t (*bufs)[EMU_FRAME_MAX]; /* EMU_BATCH receive buffers (packet) */
	void *priv;			/* the backend's own state (xdp) */
	char why[160];			/* why open failed, when errno does not say it all */
} emu_port;

typedef struct emu_port_ops {
	const char *name;
	/* 0, or -1 with errno. */
	int (*open)(emu_port *p, const char *ifname);
	/* Up to max frames, data[i] of len[i] bytes (header included; the
	 * backend's until the next recv), when each arrived in at_ns[i]
	 * (CLOCK_MONOTONIC; 0 when the kernel did not say); 0 when none waits,
	 * -1 with errno. */
	int (*recv)(emu_port *p, uint8_t **data, uint32_t *len, uint64_t *at_ns, int max);
	/* Sends n frames (header included); returns how many went, -1 with errno. */
	int (*send)(emu_port *p, const struct iovec *frames, int n);
	/* Brings rx_dropped up to date. */
	void (*update_stats)(emu_port *p);
	void (*close)(emu_port *p);
} emu_port_ops;

extern const emu_port_ops emu_port_packet;
extern const emu_port_ops emu_port_xsk;

#endif
