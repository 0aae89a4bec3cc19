/*
 * Path schedulers: which path carries the next packet of stream data. One ops
 * table, chosen by name (CLI.md -sc: rr | minrtt (alias mrtt) | redundant |
 * backup | ecf). The connection describes its paths in a small array of
 * mpq_path_info each time it asks; schedulers keep only their own state.
 */
#ifndef MPQ_PATH_SCHED_H
#define MPQ_PATH_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mpq_path_use {
	MPQ_PATH_USE_AVAILABLE = 0, /* validated, PATH_STATUS_AVAILABLE (default) */
	MPQ_PATH_USE_BACKUP,	    /* validated, PATH_STATUS_BACKUP */
	MPQ_PATH_USE_NONE,	    /* validating, failed or abandoned: never picked */
};

/* What a scheduler may know of one path. Times in ns, sizes in bytes. */
typedef struct mpq_path_info {
	uint32_t path_id;
	int use; /* enum mpq_path_use */
	bool has_rtt_sample;
	uint64_t srtt, rttvar, min_rtt;
	uint64_t cwnd;
	uint64_t bytes_in_flight;
	uint64_t pacing_ready; /* earliest time the pacer lets a packet out (<= ts: now) */
	uint64_t max_datagram; /* its packets' size (PMTU discovery); 0: the |bytes| asked about */
} mpq_path_info;

typedef struct mpq_path_sched {
	const struct mpq_path_sched_ops *ops;
	uint32_t last_path_id; /* rr: the path used last */
	bool ecf_waiting;      /* ecf: hysteresis state */
} mpq_path_sched;

struct mpq_path_sched_ops {
	const char *name;
	/* Stream data is sent on every usable path, not one (redundant). */
	bool duplicate;
	/* The index in |paths| for the next packet of |bytes| new stream data,
	 * or -1 when no path should send now (every suitable one is congestion
	 * limited, or, for ecf, waiting for the fast path is better). |queued| is
	 * the stream data waiting to be sent, for schedulers that weigh it. */
	int (*select)(mpq_path_sched *s, const mpq_path_info *paths, size_t n, size_t bytes,
		      uint64_t queued, uint64_t ts);
};

extern const struct mpq_path_sched_ops mpq_path_sched_rr;
extern const struct mpq_path_sched_ops mpq_path_sched_minrtt;
extern const struct mpq_path_sched_ops mpq_path_sched_redundant;
extern const struct mpq_path_sched_ops mpq_path_sched_backup;
extern const struct mpq_path_sched_ops mpq_path_sched_ecf;

/* The scheduler called |name| (aliases included), or NULL. */
const struct mpq_path_sched_ops *mpq_path_sched_find(const char *name);

/* Sets |s| up to run |ops|; rr then starts with the lowest path ID. */
static inline void mpq_path_sched_init(mpq_path_sched *s, const struct mpq_path_sched_ops *ops)
{
	s->ops = ops;
	s->last_path_id = UINT32_MAX;
	s->ecf_waiting = false;
}

/* Helpers the schedulers share. */

/* The paths that may carry data: MPQ_PATH_USE_AVAILABLE when any path is
 * AVAILABLE (full or not), else MPQ_PATH_USE_BACKUP when any is BACKUP, else
 * -1 (no usable path). */
int mpq_path_sched_tier(const mpq_path_info *paths, size_t n);

/* The index of the fastest path whose use is |use|: paths with an RTT sample
 * before those without, then the lowest srtt, then the lowest path_id. With
 * |need_ready| only paths that may send |bytes| at |ts| count. -1 if none. */
int mpq_path_sched_fastest(const mpq_path_info *paths, size_t n, int use, bool need_ready,
			   size_t bytes, uint64_t ts);

/* A path with room in its congestion window for |bytes| more (for a packet
 * of its own size, when it says). */
static inline bool mpq_path_info_has_room(const mpq_path_info *p, size_t bytes)
{
	return p->bytes_in_flight + (p->max_datagram ? p->max_datagram : bytes) <= p->cwnd;
}

/* A path that may send now: window room, and its pacer lets a packet out at
 * |ts|. A path waiting for its pacer is passed over, not waited for: else a
 * fast path paced below its window (slow start, or a sender woken late on a
 * busy machine) held every other path idle with it. */
static inline bool mpq_path_info_ready(const mpq_path_info *p, size_t bytes, uint64_t ts)
{
	return mpq_path_info_has_room(p, bytes) && p->pacing_ready <= ts;
}

#endif
