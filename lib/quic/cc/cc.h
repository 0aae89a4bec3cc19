/*
 * Congestion control behind one ops table (RFC 9002 §7), one controller per
 * path. Sizes are bytes, times are ns from the caller; nothing here reads a
 * clock or allocates.
 *
 * Each algorithm's state embeds struct mpq_cc first and recovers itself with
 * container_of. The connection embeds one union mpq_cc_any per path, chooses
 * the ops by name with mpq_cc_find() and calls the mpq_cc_* wrappers below,
 * never the ops directly (some ops are optional).
 *
 * What the base struct holds (cwnd, ssthresh, the recovery period, the
 * app-limited flag, the last smoothed RTT) is common to every algorithm, so it
 * is read through inline accessors rather than ops; a coupled controller reads
 * the same fields of its siblings through mpq_cc_group.
 */
#ifndef MPQ_CC_H
#define MPQ_CC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/mpq.h"
#include "quic/cc/hystart.h"
#include "quic/rtt.h"

#define MPQ_CC_DEFAULT_INITIAL_PACKETS 10
#define MPQ_CC_MIN_WINDOW_PACKETS 2	/* kMinimumWindow = 2 * max_datagram_size */
#define MPQ_CC_INITIAL_WINDOW_CAP 14720 /* RFC 9002 §7.2 */
#define MPQ_CC_GROUP_MAX 16		/* paths one group can couple */
#define MPQ_CC_NO_TIME UINT64_MAX

#ifndef container_of
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#endif

typedef struct mpq_cc mpq_cc;
typedef struct mpq_cc_group mpq_cc_group;

/* What a spurious-congestion undo restores (RFC 9438 §4.9 for CUBIC). */
struct mpq_cc_undo {
	uint64_t cwnd;
	uint64_t ssthresh;
	uint64_t recovery_start;
	bool recovery_started;
	bool in_recovery;
	bool valid; /* a reduction happened and nothing since forbids undoing it */
};

struct mpq_cc {
	const struct mpq_cc_ops *ops;
	mpq_cc_group *group; /* set by mpq_cc_group_add; NULL when not coupled */
	uint64_t max_datagram_size;
	uint64_t min_window;
	uint64_t cwnd;
	uint64_t ssthresh;	 /* UINT64_MAX until the first congestion event */
	uint64_t recovery_start; /* when the current/last recovery period began */
	uint64_t srtt;		 /* smoothed RTT at the last ack, for coupled siblings */
	bool recovery_started;	 /* recovery_start is meaningful */
	bool in_recovery;	 /* no packet sent after recovery_start acked yet */
	bool app_limited;
	struct mpq_cc_undo undo;
	struct mpq_hystart hystart; /* the first slow start's exit (on by default) */
};

/*
 * The algorithm. Every function gets the base struct; the algorithm finds its
 * own state with container_of. Ops marked optional may be NULL.
 */
struct mpq_cc_ops {
	const char *name;
	/* Algorithm-specific part of init; the base fields are already set. */
	int (*init)(mpq_cc *cc, uint64_t max_datagram_size, uint32_t initial_window_packets,
		    uint64_t ts);
	/* Optional. An in-flight packet of |bytes| left at |ts|. */
	void (*on_packet_sent)(mpq_cc *cc, uint64_t bytes, uint64_t ts);
	/* One ACK newly acknowledged |bytes_acked| in-flight bytes; the largest of
	 * those packets was sent at |largest_acked_sent_time|. */
	void (*on_packets_acked)(mpq_cc *cc, uint64_t bytes_acked,
				 uint64_t largest_acked_sent_time, const mpq_rtt *rtt,
				 uint64_t ts);
	/* A packet sent at |sent_time| was declared lost or acked with ECN-CE. */
	void (*on_congestion_event)(mpq_cc *cc, uint64_t sent_time, uint64_t ts);
	void (*on_persistent_congestion)(mpq_cc *cc, uint64_t ts);
	/* Optional. The last reduction was spurious: undo it. */
	void (*on_spurious_congestion)(mpq_cc *cc, uint64_t ts);
};

/*
 * The controllers of one connection's paths, so that a coupled algorithm can
 * see its siblings. The connection owns the group (no allocation: a fixed
 * array of pointers into its paths), adds a path's controller when the path
 * starts sending and removes it when the path is abandoned. Every member uses
 * the same ops.
 *
 * Uncoupled algorithms (newreno, cubic) never read it. LIA (RFC 6356 §3)
 * reads, for each member, cwnd and srtt from the base struct: alpha from the
 * max over paths of cwnd_i / srtt_i^2 against (sum of cwnd_i / srtt_i)^2, and
 * the increase on its own path bounded by the total cwnd. OLIA (Khalili et
 * al., CoNEXT 2012) reads the same two values and, from each sibling's own
 * state (same ops, so container_of is safe), the bytes acked between its last
 * two losses and since the last one, to find the best and the max-window
 * paths. Members without an RTT yet (srtt 0) are left out of the sums; a path
 * that is then alone runs plain NewReno.
 */
struct mpq_cc_group {
	mpq_cc *members[MPQ_CC_GROUP_MAX];
	size_t count;
};

/* NewReno (RFC 9002 §7, Appendix B), cc/newreno.c. */
typedef struct mpq_cc_newreno {
	mpq_cc cc;
	uint64_t acked_in_ca; /* bytes acked in congestion avoidance not yet worth a mds */
} mpq_cc_newreno;

/* The part of CUBIC's state a spurious-congestion undo restores. */
struct mpq_cc_cubic_vars {
	uint64_t w_max;	     /* bytes: window before the last reduction (after fast convergence) */
	uint64_t cwnd_prior; /* bytes: cwnd when ssthresh was last set */
	uint64_t epoch_start; /* start of this congestion avoidance stage, or MPQ_CC_NO_TIME */
	double k;	      /* seconds from epoch_start until W_cubic reaches w_max */
	double w_est;	      /* bytes: the Reno-friendly estimate */
	double frac;	      /* sub-byte cwnd growth carried to the next ack */
};

/* CUBIC (RFC 9438), cc/cubic.c. */
typedef struct mpq_cc_cubic {
	mpq_cc cc;
	struct mpq_cc_cubic_vars v;
	struct mpq_cc_cubic_vars undo_v;
	uint64_t app_limited_since; /* first event seen app-limited, or MPQ_CC_NO_TIME */
} mpq_cc_cubic;

/* LIA, the linked increases algorithm (RFC 6356), cc/lia.c. */
typedef struct mpq_cc_lia {
	mpq_cc cc;
	uint64_t acked_in_ca; /* NewReno's counter, for a path alone */
	double frac;	      /* sub-byte coupled growth carried to the next ack */
} mpq_cc_lia;

/* OLIA, the opportunistic linked increases algorithm (Khalili et al.), cc/olia.c. */
typedef struct mpq_cc_olia {
	mpq_cc cc;
	uint64_t acked_in_ca; /* NewReno's counter, for a path alone */
	double frac;	      /* sub-byte coupled change (either sign) for the next ack */
	uint64_t l1r;	      /* bytes acked between the last two losses */
	uint64_t l2r;	      /* bytes acked since the last loss */
	uint64_t undo_l1r;    /* l1r before the last loss, for a spurious-congestion undo */
} mpq_cc_olia;

/* Room for any algorithm: embed one per path, no allocation. */
typedef union mpq_cc_any {
	mpq_cc cc;
	mpq_cc_newreno newreno;
	mpq_cc_cubic cubic;
	mpq_cc_lia lia;
	mpq_cc_olia olia;
} mpq_cc_any;

extern const struct mpq_cc_ops mpq_cc_newreno_ops;
extern const struct mpq_cc_ops mpq_cc_cubic_ops;
extern const struct mpq_cc_ops mpq_cc_lia_ops;
extern const struct mpq_cc_ops mpq_cc_olia_ops;

/* The algorithm called |name| ("newreno", its alias "reno", "cubic", "lia",
 * "olia"), or NULL. */
const struct mpq_cc_ops *mpq_cc_find(const char *name);

/*
 * Starts a controller in |any| with |ops|. The initial window is
 * |initial_window_packets| datagrams of |max_datagram_size| bytes, at least the
 * minimum window; 0 means RFC 9002's min(10 * mds, max(14720, 2 * mds)).
 * ssthresh starts unlimited, no recovery period, not app-limited, in no group.
 * Returns 0 or MPQ_ERR_INVALID_ARGUMENT (NULL ops, mds 0 or a window that
 * overflows).
 */
int mpq_cc_init(mpq_cc_any *any, const struct mpq_cc_ops *ops, uint64_t max_datagram_size,
		uint32_t initial_window_packets, uint64_t ts);

void mpq_cc_on_packet_sent(mpq_cc *cc, uint64_t bytes, uint64_t ts);
/* Also records rtt->smoothed in cc->srtt for coupled siblings. */
void mpq_cc_on_packets_acked(mpq_cc *cc, uint64_t bytes_acked, uint64_t largest_acked_sent_time,
			     const mpq_rtt *rtt, uint64_t ts);
/* At most one reduction per recovery period: a packet sent at or before the
 * start of the current period (RFC 9002 §7.3.2) changes nothing. */
void mpq_cc_on_congestion_event(mpq_cc *cc, uint64_t sent_time_of_lost_or_ce_packet, uint64_t ts);
/* Collapses to the minimum window and ends recovery (RFC 9002 §7.6.2). Call
 * it after mpq_cc_on_congestion_event for the same losses, as §B.8 does, so
 * that ssthresh is reduced first. */
void mpq_cc_on_persistent_congestion(mpq_cc *cc, uint64_t ts);
/* Undoes the last reduction when the losses behind it turned out spurious
 * (the "lost" packets were acknowledged). Returns 0, or MPQ_ERR_NOT_FOUND when
 * there is nothing to undo (no reduction, already undone, or persistent
 * congestion since) or the algorithm has no undo. */
int mpq_cc_on_spurious_congestion(mpq_cc *cc, uint64_t ts);
/* The path's largest datagram changed (RFC 9002 §7.2, PMTU discovery): the
 * window's increments and its minimum follow; the window keeps its bytes,
 * raised to the new minimum if below it. */
void mpq_cc_set_max_datagram_size(mpq_cc *cc, uint64_t max_datagram_size);

/* HyStart++ on (the default) or off: off, the first slow start runs until
 * the first congestion event. */
void mpq_cc_set_hystart(mpq_cc *cc, bool enabled);
/* HyStart++'s rounds are the path's 1-RTT packet numbers: the connection
 * reports each 1-RTT packet |pn| it sends on the path, and, before
 * mpq_cc_on_packets_acked for an ACK of 1-RTT packets, the ACK's largest
 * packet number and its RTT sample (0: it gave none). In the first slow start
 * this may enter or leave conservative slow start, or end slow start. */
void mpq_cc_hystart_on_sent(mpq_cc *cc, uint64_t pn);
void mpq_cc_hystart_on_ack(mpq_cc *cc, uint64_t largest_pn, uint64_t rtt_sample);

/* Adds |cc| to |g| (idempotent) and points cc->group at it. Returns 0,
 * MPQ_ERR_NOBUF (full) or MPQ_ERR_INVALID_ARGUMENT (cc in another group, or
 * its ops differ from the members'). */
__attribute__((warn_unused_result)) int mpq_cc_group_add(mpq_cc_group *g, mpq_cc *cc);
/* Returns 0 or MPQ_ERR_NOT_FOUND. */
int mpq_cc_group_remove(mpq_cc_group *g, mpq_cc *cc);

/* LIA's alpha (RFC 6356 eq. 2) for |cc|'s group as it stands:
 * cwnd_total * max_i(cwnd_i / rtt_i^2) / (sum_i cwnd_i / rtt_i)^2 over the
 * members with an RTT; 1 (Reno's increase) when |cc| is not coupled. */
double mpq_cc_lia_alpha(const mpq_cc *cc);
/* OLIA's alpha_r for |cc|'s path as the group stands: 1 / (|P| * |B\M|) on a
 * best path without the largest window, -1 / (|P| * |M|) on a largest-window
 * path while B\M is not empty, else 0 (also when |cc| is not coupled). */
double mpq_cc_olia_alpha(const mpq_cc *cc);

static inline uint64_t mpq_cc_cwnd(const mpq_cc *cc)
{
	return cc->cwnd;
}

static inline uint64_t mpq_cc_ssthresh(const mpq_cc *cc)
{
	return cc->ssthresh;
}

static inline bool mpq_cc_in_recovery(const mpq_cc *cc)
{
	return cc->in_recovery;
}

static inline bool mpq_cc_in_slow_start(const mpq_cc *cc)
{
	return cc->cwnd < cc->ssthresh;
}

/* In slow start, HyStart++'s conservative part (RFC 9406 §4.2). */
static inline bool mpq_cc_in_css(const mpq_cc *cc)
{
	return mpq_cc_in_slow_start(cc) && cc->hystart.in_css;
}

/* The sender had less in flight than cwnd and was not pacing-limited: no
 * growth until cleared (RFC 9002 §7.8). The connection sets it as it sends. */
static inline void mpq_cc_set_app_limited(mpq_cc *cc, bool app_limited)
{
	cc->app_limited = app_limited;
}

static inline bool mpq_cc_app_limited(const mpq_cc *cc)
{
	return cc->app_limited;
}

/*
 * For algorithm implementations (cc/<algo>.c) only.
 */

/* Ends the recovery period if the ack covers a packet sent after it began;
 * true when the ack may grow cwnd (not for a packet sent before or at the start
 * of recovery, not app-limited). */
bool mpq_cc_ack_may_grow(mpq_cc *cc, uint64_t largest_acked_sent_time);
/* false when |sent_time| falls in the current recovery period; otherwise
 * snapshots the state for undo, starts a new period at |ts| and returns true:
 * the algorithm then sets ssthresh and cwnd. */
bool mpq_cc_begin_reduction(mpq_cc *cc, uint64_t sent_time, uint64_t ts);
/* cwnd to the minimum window, no recovery period, nothing to undo. */
void mpq_cc_collapse(mpq_cc *cc);
/* Restores the snapshot (cwnd never shrinks); false when none is valid. */
bool mpq_cc_undo_reduction(mpq_cc *cc);
/* Ends recovery and applies slow start like NewReno (RFC 9002 §7.3.1), or
 * HyStart++'s conservative slow start while it says so; true
 * when the ack falls in congestion avoidance and may grow cwnd, for the
 * algorithm to apply its own increase. */
bool mpq_cc_ack_in_ca(mpq_cc *cc, uint64_t bytes_acked, uint64_t largest_acked_sent_time);
/* NewReno's congestion avoidance: one max_datagram_size per cwnd of bytes
 * acked, counted in *|acked_in_ca| (byte counting, RFC 3465). */
void mpq_cc_reno_increase(mpq_cc *cc, uint64_t *acked_in_ca, uint64_t bytes_acked);
/* NewReno's reduction, after mpq_cc_begin_reduction said yes: ssthresh to
 * half the window, cwnd to that, never below the minimum window. */
void mpq_cc_reno_halve(mpq_cc *cc);
/* Adds |bytes| (either sign, fractional) to cwnd: whole bytes now, the rest
 * carried in *|frac|. cwnd never drops below the minimum window, and a
 * decrease takes ssthresh down with it (no slow start back up). */
void mpq_cc_add_fraction(mpq_cc *cc, double *frac, double bytes);
/*
 * The members of |cc|'s group that take part in coupling: those with the same
 * ops and an RTT (srtt, set at their first ack). Fills |out| (room for
 * MPQ_CC_GROUP_MAX) and returns how many; 0 when |cc| is in no group, has no
 * RTT itself, or is the only one, so that the algorithm runs plain NewReno.
 */
size_t mpq_cc_group_coupled(const mpq_cc *cc, const mpq_cc **out);

#endif
