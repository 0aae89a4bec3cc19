/*
 * The one header xdp/mpq_reuseport.bpf.c and lib/io/reuseport.c share: map
 * names, sizes and counters of the SO_REUSEPORT steering program (DESIGN.md
 * "Path I/O": several workers on one UDP address and port).
 *
 * The program runs when a datagram reaches a UDP SO_REUSEPORT group. It
 * reads the QUIC header at the start of the payload: long header → DCID of
 * its explicit length; short header → DCID of MPQ_REUSEPORT_CID_LEN bytes.
 *   1. the DCID has our layout (lib/quic/cid.h: MPQ_REUSEPORT_CID_LEN octets,
 *      octet 0 == MPQ_REUSEPORT_CID_FIRST_OCTET) → the socket of the worker
 *      ID in octet 1 (MPQ_REUSEPORT_MAP_SOCKS[worker])
 *   2. anything else (client-chosen Initial/0-RTT DCIDs, not QUIC, short
 *      reads), or no socket in that slot → SK_PASS without a selection:
 *      the kernel picks a socket by its 4-tuple hash
 * Every datagram bumps exactly one counter.
 */
#ifndef MPQ_XDP_REUSEPORT_H
#define MPQ_XDP_REUSEPORT_H

#include <linux/types.h>

#define MPQ_REUSEPORT_PROG mpq_reuseport
#define MPQ_REUSEPORT_MAP_SOCKS mpq_rp_socks	   /* REUSEPORT_SOCKARRAY: worker → socket */
#define MPQ_REUSEPORT_MAP_COUNTERS mpq_rp_counters /* PERCPU_ARRAY: MPQ_REUSEPORT_CNT_* → __u64 */

#define MPQ_REUSEPORT_MAX_WORKERS 256 /* the worker ID is one octet */

/* Our CIDs (lib/quic/cid.h); same values as mpq_steer.h. */
#define MPQ_REUSEPORT_CID_LEN 8
#define MPQ_REUSEPORT_CID_FIRST_OCTET 0x07
#define MPQ_REUSEPORT_CID_WORKER_OFFSET 1

/* X(enum suffix, name user space shows). */
#define MPQ_REUSEPORT_COUNTERS(X) \
	X(SHORT_HIT, short_hit) /* short header, our CID: its worker */ \
	X(LONG_HIT, long_hit)	/* long header, our CID: its worker */ \
	X(NOT_OURS, not_ours)	/* DCID not of our layout: kernel hash */ \
	X(NO_SOCKET, no_socket) /* our CID, no socket for its worker: hash */ \
	X(TRUNCATED, truncated) /* payload too short for the header: hash */

enum mpq_reuseport_counter {
#define MPQ_REUSEPORT_CNT_ENUM_(id, name) MPQ_REUSEPORT_CNT_##id,
	MPQ_REUSEPORT_COUNTERS(MPQ_REUSEPORT_CNT_ENUM_)
#undef MPQ_REUSEPORT_CNT_ENUM_
		MPQ_REUSEPORT_CNT__MAX
};

#endif
