/*
 * The one header xdp/mpq_steer.bpf.c and lib/io/xdp_prog.c share (STYLE.md
 * §2.5): map names, key and value layouts, sizes, the counters and the
 * configuration of the steering program (DESIGN.md "steering (xdp/)").
 * SEC(".maps") lives only in the BPF source; user space reaches every map
 * through the skeleton (skel->maps.MPQ_STEER_MAP_*), so no map name is ever
 * written as a string.
 *
 * What the program does with a frame, in order:
 *   Ethernet (one 802.1Q/802.1ad tag allowed) → IPv4 (options skipped, no
 *   fragments) or IPv6 (no extension headers) → UDP to one of cfg.ports and
 *   to an address in MPQ_STEER_MAP_ADDRS → QUIC: long header → DCID of its
 *   explicit length (≤ 20); short header → DCID of MPQ_STEER_CID_LEN bytes.
 *   Then:
 *     1. the DCID has our layout (lib/quic/cid.h)     → the worker ID it carries
 *     2. an Initial or 0-RTT packet (v1 or v2)        → hash of the 4-tuple
 *     3. anything else                                → XDP_PASS
 *   Every CID we issue carries its worker's ID, so no CID → worker table is
 *   kept: a client-chosen DCID only comes in Initial and 0-RTT packets, and
 *   their 4-tuple hash sends them all to one worker.
 *   A worker becomes XSKMAP slot MPQ_STEER_SLOT(rx queue, worker); a slot
 *   without a socket makes bpf_redirect_map fall back to XDP_PASS.
 * Every frame bumps exactly one decision counter (MPQ_STEER_CNT_NOT_IP ..
 * MPQ_STEER_CNT_ZERO_RTT_HASH) and exactly one of REDIRECTED or PASSED;
 * REDIRECT_FAILED counts the passes that were meant to be redirects.
 */
#ifndef MPQ_XDP_STEER_H
#define MPQ_XDP_STEER_H

#include <linux/types.h>

/* Bumped whenever the maps, the configuration or the decisions change. */
#define MPQ_STEER_VERSION 2

/* The program (its function name, also its kernel name) and its maps. */
#define MPQ_STEER_PROG mpq_steer
#define MPQ_STEER_MAP_XSKS mpq_xsks	    /* XSKMAP: slot → AF_XDP socket */
#define MPQ_STEER_MAP_ADDRS mpq_addrs	    /* HASH: mpq_steer_addr_key → __u32 (1) */
#define MPQ_STEER_MAP_COUNTERS mpq_counters /* PERCPU_ARRAY: MPQ_STEER_CNT_* → __u64 */
#define MPQ_STEER_STR_(x) #x
#define MPQ_STEER_STR(x) MPQ_STEER_STR_(x)

#define MPQ_STEER_XSKMAP_SIZE 256 /* slots: rx queues × workers */
#define MPQ_STEER_MAX_WORKERS 256 /* the worker ID is one octet */
#define MPQ_STEER_MAX_PORTS 8
#define MPQ_STEER_MAX_ADDRS 64 /* local addresses served, both families */

/* The CIDs we issue (lib/quic/cid.h, QUIC-LB plaintext layout): 8 octets,
 * octet 0 = config rotation 0 ‖ length of the rest (7), octet 1 = worker ID,
 * then random. Short headers are parsed with this fixed length. */
#define MPQ_STEER_CID_LEN 8
#define MPQ_STEER_CID_FIRST_OCTET 0x07
#define MPQ_STEER_CID_WORKER_OFFSET 1
#define MPQ_STEER_MAX_CID_LEN 20 /* QUIC v1 and v2 */

/* The XSKMAP slot of |worker| for frames received on rx queue |queue|. */
#define MPQ_STEER_SLOT(queue, worker, n_workers) ((queue) * (n_workers) + (worker))

/* Configuration, a const volatile global of the program (.rodata) that the
 * loader fills before the program is loaded. */
struct mpq_steer_config {
	__u16 ports[MPQ_STEER_MAX_PORTS]; /* UDP destination ports, host order; 0 = unused */
	__u32 n_workers;		  /* 1..MPQ_STEER_MAX_WORKERS */
	__u32 hash_seed;		  /* seed of the 4-tuple hash */
	__u32 version;			  /* MPQ_STEER_VERSION of the loader */
	__u32 pad;
};

/* Key of MPQ_STEER_MAP_ADDRS: a local address whose datagrams to our ports
 * are ours. IPv4 in the first 4 octets of |addr|, the rest zero. */
struct mpq_steer_addr_key {
	__u8 family; /* 4 or 6 */
	__u8 pad[3]; /* zero */
	__u8 addr[16];
};

_Static_assert(sizeof(struct mpq_steer_config) == 32, "mpq_steer_config layout");
_Static_assert(sizeof(struct mpq_steer_addr_key) == 20, "mpq_steer_addr_key layout");
_Static_assert(MPQ_STEER_MAX_WORKERS <= 256, "worker ID is one octet");

/* The counters: X(enum suffix, name user space shows). The decisions come
 * first, then the verdicts. */
#define MPQ_STEER_COUNTERS(X) \
	X(NOT_IP, not_ip)		    /* neither IPv4 nor IPv6 (ARP, ...) */ \
	X(BAD_IP, bad_ip)		    /* IPv4 version or IHL wrong */ \
	X(IP_FRAGMENT, ip_fragment)	    /* an IPv4 fragment */ \
	X(NOT_UDP, not_udp)		    /* TCP, ICMP, IPv6 extension headers */ \
	X(NOT_OUR_PORT, not_our_port)	    /* UDP to another port */ \
	X(NOT_OUR_ADDR, not_our_addr)	    /* to our port, not an address we serve */ \
	X(TRUNCATED, truncated)		    /* the frame ends inside a header */ \
	X(BAD_CID_LEN, bad_cid_len)	    /* long header DCID longer than 20 */ \
	X(NO_ROUTE, no_route)		    /* QUIC, DCID not ours, not an Initial */ \
	X(BAD_WORKER, bad_worker)	    /* worker ID ≥ n_workers, or no such slot */ \
	X(SHORT_WORKER_ID, short_worker_id) /* short header, worker ID from our CID */ \
	X(LONG_WORKER_ID, long_worker_id)   /* long header, worker ID from our CID */ \
	X(INITIAL_HASH, initial_hash)	    /* Initial, DCID not ours: 4-tuple hash */ \
	X(ZERO_RTT_HASH, zero_rtt_hash)	    /* 0-RTT, DCID not ours: 4-tuple hash */ \
	X(REDIRECTED, redirected)	    /* verdict XDP_REDIRECT */ \
	X(REDIRECT_FAILED, redirect_failed) /* no socket in the slot: XDP_PASS */ \
	X(PASSED, passed)		    /* verdict XDP_PASS (failed redirects too) */

enum mpq_steer_counter {
#define MPQ_STEER_CNT_ENUM_(id, name) MPQ_STEER_CNT_##id,
	MPQ_STEER_COUNTERS(MPQ_STEER_CNT_ENUM_)
#undef MPQ_STEER_CNT_ENUM_
		MPQ_STEER_CNT__MAX
};

/* The 4-tuple hash (murmur3's 32-bit mixing) over words read from the packet
 * as they lie in memory: IPv4 source, destination, then the UDP ports word;
 * IPv6 the same with four words per address. Shared so that tests compute
 * the worker an Initial goes to. */
static inline __attribute__((always_inline)) __u32 mpq_steer_hash_mix(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51u;
	k = (k << 15) | (k >> 17);
	k *= 0x1b873593u;
	h ^= k;
	h = (h << 13) | (h >> 19);
	return h * 5 + 0xe6546b64u;
}

static inline __attribute__((always_inline)) __u32 mpq_steer_hash_final(__u32 h, __u32 nwords)
{
	h ^= nwords * 4;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}

/* The hash of |n| words (3 for IPv4, 9 for IPv6). */
static inline __attribute__((always_inline)) __u32 mpq_steer_hash(__u32 seed, const __u32 *w,
								  __u32 n)
{
	__u32 h = seed;

	for (__u32 i = 0; i < n; i++)
		h = mpq_steer_hash_mix(h, w[i]);
	return mpq_steer_hash_final(h, n);
}

#endif
