/*
 * Path I/O: the one interface both backends implement (udp now, AF_XDP later),
 * so the loop, the tools and the tests do not care which is in use (DESIGN.md
 * "Path I/O"). A backend is a static const ops table; an open object starts
 * with struct mpq_pathio.
 *
 * Datagrams move in batches of descriptors. Received descriptors point into
 * buffers the object allocated at open and stay valid until the next
 * recv_batch or close; sent descriptors point at the caller's bytes, which
 * the kernel has copied by the time send_batch returns. Nothing is allocated
 * per datagram.
 */
#ifndef MPQ_IO_PATHIO_H
#define MPQ_IO_PATHIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/conn.h"
#include "mpq/io/capture.h"
#include "mpq/io/oserr.h"

/* Most segments one GSO descriptor may carry (the kernel's UDP_MAX_SEGMENTS
 * is 64 on older kernels) and the most bytes it may carry (an IPv4 UDP payload). */
#define MPQ_PATHIO_MAX_SEGMENTS 64
#define MPQ_PATHIO_MAX_GSO_BYTES 65507

/* Capabilities of an open object (mpq_pathio.caps). */
#define MPQ_PATHIO_GSO 0x1u /* send_batch hands gso_size to the kernel */
#define MPQ_PATHIO_GRO 0x2u /* the kernel may coalesce receives (split again here) */

typedef struct mpq_dgram {
	uint8_t *data;
	size_t len;
	/* Receive: where it arrived. Send: the source address to use (family 0 =
	 * let the kernel choose; ignored by sockets bound to one address, which
	 * must then match it). The port is the object's. */
	mpq_addr local;
	mpq_addr remote;  /* receive: who sent it; send: where it goes */
	uint32_t ifindex; /* receive: interface it came in on; send: 0 or the one to use */
	uint8_t ecn;	  /* MPQ_ECN_*: seen on receive, set on send */
	/* Send only: when non-zero and |len| is larger, |data| is a run of datagrams
	 * of |gso_size| bytes (the last may be shorter), at most
	 * MPQ_PATHIO_MAX_SEGMENTS of them and MPQ_PATHIO_MAX_GSO_BYTES in all,
	 * sent with one system call when the object has MPQ_PATHIO_GSO and split
	 * in user space otherwise. Always 0 on receive. */
	uint16_t gso_size;
} mpq_dgram;

/* Versioned as the core's structs (mpq.h): fill with mpq_pathio_config_default.
 * Read during open only: nothing in it (ifname included) need outlive the call. */
#define MPQ_PATHIO_CONFIG_V1 1
#define MPQ_PATHIO_CONFIG_VERSION MPQ_PATHIO_CONFIG_V1
typedef struct mpq_pathio_config {
	uint32_t struct_version; /* MPQ_PATHIO_CONFIG_VERSION, set by the default */
	mpq_addr local;		 /* udp: address and port to bind (wildcard, port 0 allowed) */
	const char *ifname;	 /* udp: SO_BINDTODEVICE to it (NULL: no); xdp: the interface */
	size_t batch;		 /* datagrams per system call the buffers are sized for */
	size_t max_dgram;	 /* largest datagram received whole (larger ones are dropped) */
	int sockbuf;		 /* SO_RCVBUF and SO_SNDBUF in bytes, 0: leave the kernel's */
	bool gro;		 /* let the kernel coalesce receives where it can */
	bool no_gso;		 /* never hand segments to the kernel (split here instead) */
	bool reuseaddr;		 /* SO_REUSEADDR (off: a port in use is an error) */
	bool reuseport;		 /* udp: SO_REUSEPORT, to join a group (io/reuseport.h) */
} mpq_pathio_config;

typedef struct mpq_pathio {
	const struct mpq_pathio_ops *ops;
	mpq_addr local;	   /* bound address, with the port chosen for port 0 */
	uint32_t ifindex;  /* the interface it is bound to, 0 for none */
	unsigned int caps; /* MPQ_PATHIO_* in use */
	/* The largest datagram it sends whole (its interface's MTU less the IP
	 * and UDP headers; xdp: what a frame holds too), the local limit of PMTU
	 * discovery (mpq_settings.pmtud_max_udp_payload); 0: unknown. */
	uint32_t max_udp_payload;
	mpq_oserr err; /* the system call that failed last */
	/* Sees every datagram sent and received (io/capture.h); NULL: off.
	 * Kept: the hook and its user_data must outlive the object or be
	 * unset first. */
	const struct mpq_capture *capture;
} mpq_pathio;

struct mpq_pathio_ops {
	const char *name;
	/* Opens an object as |cfg| says. Returns 0; MPQ_ERR_INVALID_ARGUMENT (also
	 * a struct_version the library does not know, before any other field);
	 * MPQ_ERR_NOT_FOUND (no such interface or local address); MPQ_ERR_NOMEM;
	 * or, with the errno and the failing call in |err| (may be NULL),
	 * whatever mpq_oserr_set maps it to (EADDRINUSE, EPERM:
	 * MPQ_ERR_INTERNAL). */
	int (*open)(mpq_pathio **out, const mpq_pathio_config *cfg, mpq_oserr *err);
	/* Fills up to |n| descriptors with received datagrams. Returns how many
	 * (0: none waiting) or a negative MPQ_ERR_* with io->err set. */
	int (*recv_batch)(mpq_pathio *io, mpq_dgram *dgrams, size_t n);
	/* Sends |n| descriptors in order. Returns how many the kernel took: fewer
	 * than |n| when its buffers are full (wait for writability, then send the
	 * rest). When the first one fails, returns its MPQ_ERR_* with io->err set
	 * (EMSGSIZE: MPQ_ERR_INVALID_ARGUMENT) and the caller may drop it and go on.
	 * Returns MPQ_ERR_INVALID_ARGUMENT without sending anything when a
	 * descriptor is malformed (wrong family, too many segments). A descriptor
	 * split in user space (no GSO) whose tail found the buffers full counts as
	 * sent: its last segments are lost, as they could be in the network. */
	int (*send_batch)(mpq_pathio *io, const mpq_dgram *dgrams, size_t n);
	/* The descriptor to poll for MPQ_LOOP_READ (and MPQ_LOOP_WRITE). */
	int (*fd)(const mpq_pathio *io);
	void (*close)(mpq_pathio *io);
};

/* Defaults: the struct version, batch 32, max_dgram 2048, sockbuf 4 MiB, gro
 * on, everything else off or empty (local is left zeroed: set it). */
MPQ_EXPORT void mpq_pathio_config_default(mpq_pathio_config *cfg);

/* The backend called |name| ("udp"), NULL when there is none. */
MPQ_EXPORT const struct mpq_pathio_ops *mpq_pathio_find(const char *name);

static inline int mpq_pathio_recv(mpq_pathio *io, mpq_dgram *dgrams, size_t n)
{
	return io->ops->recv_batch(io, dgrams, n);
}

static inline int mpq_pathio_send(mpq_pathio *io, const mpq_dgram *dgrams, size_t n)
{
	return io->ops->send_batch(io, dgrams, n);
}

static inline int mpq_pathio_fd(const mpq_pathio *io)
{
	return io->ops->fd(io);
}

/* NULL is a no-op. */
static inline void mpq_pathio_close(mpq_pathio *io)
{
	if (io)
		io->ops->close(io);
}

#endif
