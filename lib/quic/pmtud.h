/*
 * Datagram packetization layer PMTU discovery (RFC 8899, RFC 9000 §14.3) of
 * one path: the largest UDP payload the path carries, found by sending probes
 * (a PING padded to the size tried, alone in its datagram) and raising the
 * size in use when one is acknowledged. Sizes are UDP payload bytes. This is
 * the state machine only; the connection sends the probes and reports their
 * fate, and every other acknowledged or lost packet, for black hole detection.
 *
 * The search: first the largest size allowed (the local limit, the peer's
 * max_udp_payload_size and the caller's buffer), because a path usually
 * carries what its interfaces do (a 9000-byte LAN or veth pair); once
 * MAX_PROBES probes of it are lost, the common IP MTUs above the size in use,
 * smallest first, until one fails the same way. A failed size is tried again
 * after PMTU_RAISE_TIMER. Lost probes say nothing about congestion (RFC 9000
 * §14.4): the connection keeps them out of its congestion controller.
 *
 * Black holes (RFC 8899 §4.3): when BLACKHOLE_ROUNDS rounds of loss detection
 * in a row declare packets larger than the base lost that were sent after the
 * newest acknowledged packet larger than the base (the smaller ones got
 * through, the large ones no longer do), the path falls back to the base size
 * and searches again below the size that stopped working.
 */
#ifndef MPQ_PMTUD_H
#define MPQ_PMTUD_H

#include <stdbool.h>
#include <stdint.h>

#define MPQ_PMTUD_BASE 1200 /* BASE_PLPMTU for QUIC: every path carries it */
#define MPQ_PMTUD_MAX_PROBES 3
#define MPQ_PMTUD_RAISE_TIMER (600ULL * 1000000000ULL) /* ns */
#define MPQ_PMTUD_BLACKHOLE_ROUNDS 3

typedef struct mpq_pmtud {
	uint32_t size;		 /* the path's largest datagram now */
	uint32_t initial;	 /* where the path started: a new address starts there again */
	uint32_t limit;		 /* the local limit; 0: no discovery, |size| stays */
	uint32_t hdr;		 /* IP and UDP header bytes of the path's family */
	uint32_t failed;	 /* the smallest size whose probes were all lost; 0: none */
	uint32_t probe;		 /* the size being tried; 0: none chosen */
	uint8_t lost;		 /* probes of |probe| lost in a row */
	bool probe_out;		 /* one is in flight */
	bool tried_limit;	 /* the optimistic first probe was made */
	bool complete;		 /* nothing left to try until raise_at */
	uint64_t raise_at;	 /* complete below the ceiling: search again then; 0: never */
	uint64_t big_acked_sent; /* send time of the newest acked packet above the base */
	uint8_t suspect_rounds;
	uint64_t probes_sent, probes_lost, black_holes;
} mpq_pmtud;

/* A path that sends datagrams of |size| bytes, and probes up to |limit| (0:
 * never) with |hdr| bytes of IP and UDP headers under each datagram. */
void mpq_pmtud_init(mpq_pmtud *m, uint32_t size, uint32_t limit, uint32_t hdr);
/* The path moved to a new address: back to the initial size, search anew. */
void mpq_pmtud_restart(mpq_pmtud *m);
/* The size of the probe to send now, at most |max|, or 0: none is due. */
uint32_t mpq_pmtud_want_probe(mpq_pmtud *m, uint32_t max, uint64_t ts);
void mpq_pmtud_on_probe_sent(mpq_pmtud *m);
/* A probe of |size| was acknowledged: returns true when the size in use grew. */
bool mpq_pmtud_on_probe_acked(mpq_pmtud *m, uint32_t size, uint64_t ts);
void mpq_pmtud_on_probe_lost(mpq_pmtud *m, uint32_t size, uint64_t ts);
/* Any other packet of |size| sent at |sent| was acknowledged. */
void mpq_pmtud_on_acked(mpq_pmtud *m, uint32_t size, uint64_t sent);
/* A round of loss detection declared packets lost, the newest of those larger
 * than the base sent at |big_sent| (0: none). Returns true when the path is a
 * black hole for its size: it is back at the base. */
bool mpq_pmtud_on_losses(mpq_pmtud *m, uint64_t big_sent, uint64_t ts);

/* Discovery is on: sizes change. */
static inline bool mpq_pmtud_enabled(const mpq_pmtud *m)
{
	return m->limit != 0;
}

#endif
