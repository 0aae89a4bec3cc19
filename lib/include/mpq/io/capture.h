/*
 * The capture hook of path I/O (DESIGN.md "AF_XDP and captures"): every
 * backend hands each datagram it sends or receives to io->capture, one
 * record per QUIC datagram (after GRO splits, before GSO joins), because no
 * kernel tap sees what AF_XDP moves. With no hook set, a backend pays one
 * NULL check per batch (or per frame on AF_XDP).
 */
#ifndef MPQ_IO_CAPTURE_H
#define MPQ_IO_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mpq/conn.h"

typedef struct mpq_capture_dgram {
	uint64_t ts_ns;	     /* CLOCK_REALTIME, nanoseconds since the epoch */
	uint32_t ifindex;    /* 0: not known (an unbound UDP socket sending) */
	bool sent;	     /* false: received */
	const mpq_addr *src; /* IP address and UDP port; family 0: not known */
	const mpq_addr *dst;
	const uint8_t *data; /* the UDP payload */
	size_t len;
	/* The whole Ethernet frame as sent or received when the backend builds
	 * frames itself (AF_XDP), else NULL. */
	const uint8_t *frame;
	size_t frame_len;
} mpq_capture_dgram;

typedef struct mpq_capture {
	/* Called on the thread of the backend's call; must not fail or block long. */
	void (*dgram)(void *user_data, const mpq_capture_dgram *d);
	void *user_data;
} mpq_capture;

static inline uint64_t mpq_capture_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct mpq_pathio;
struct mpq_dgram;

/* Hands |n| descriptors to io->capture, a GSO run as its segments. Sent
 * descriptors without a source address take the object's; every record
 * gets the object's interface when the descriptor has none. */
MPQ_EXPORT void mpq_capture_descs(struct mpq_pathio *io, bool sent, const struct mpq_dgram *d,
				  size_t n);

#endif
