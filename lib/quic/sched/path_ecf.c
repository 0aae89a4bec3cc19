/*
 * Earliest Completion First (ECF) path scheduler: Y.-s. Lim, E. M. Nahum,
 * D. Towsley, R. J. Gibbens, "ECF: An MPTCP Path Scheduler to Manage
 * Heterogeneous Paths", ACM CoNEXT 2017, Algorithm 1. The Linux MPTCP
 * implementation (multipath-tcp/mptcp net/mptcp/mptcp_ecf.c) uses the same
 * inequalities with beta = 1/4.
 *
 * The fastest path f (lowest srtt) takes the packet when it has window room.
 * Otherwise let s be the fastest path that has room and k the bytes queued:
 *
 *	n = 1 + k / cwnd_f,  delta = max(rttvar_f, rttvar_s)
 *	if n * srtt_f < (1 + waiting * beta) * (srtt_s + delta):
 *		if (k / cwnd_s) * srtt_s >= 2 * srtt_f + delta:
 *			waiting = 1, send nothing (f frees up sooner)
 *		else
 *			send on s
 *	else:
 *		waiting = 0, send on s
 *
 * The first test asks whether f, sending k in n rounds, finishes before one
 * round on s; the second whether s would still be busy after f's next two
 * rounds. waiting widens the first test by beta once ECF has chosen to wait,
 * so that small changes of k around the boundary do not flip the decision.
 *
 * Paths are AVAILABLE ones, or BACKUP ones when none is AVAILABLE (as for
 * minrtt). Without an RTT sample on f or s there is nothing to weigh, and s
 * is used.
 */
#include "quic/sched/path_sched.h"

typedef unsigned __int128 u128;

/* Inputs are clamped so that every product below fits in 128 bits exactly. */
#define ECF_MAX (1ULL << 62)
#define ECF_R_BETA 4 /* beta = 1 / ECF_R_BETA */

static u128 clamp(uint64_t v)
{
	return v < ECF_MAX ? v : ECF_MAX;
}

/* Whether to wait for |f| rather than send on |s|, updating the waiting flag.
 * Both inequalities are multiplied out (by ECF_R_BETA * cwnd_f and by cwnd_s)
 * so that they compare integers without dividing. */
static bool ecf_wait(mpq_path_sched *sch, const mpq_path_info *f, const mpq_path_info *s,
		     uint64_t queued)
{
	u128 k = clamp(queued);
	u128 srtt_f = clamp(f->srtt), cwnd_f = clamp(f->cwnd);
	u128 srtt_s = clamp(s->srtt), cwnd_s = clamp(s->cwnd);
	u128 delta = clamp(f->rttvar > s->rttvar ? f->rttvar : s->rttvar);
	u128 r_wait = ECF_R_BETA + (sch->ecf_waiting ? 1 : 0);

	/* n * srtt_f < (1 + waiting * beta) * (srtt_s + delta) */
	if (ECF_R_BETA * srtt_f * (cwnd_f + k) >= r_wait * (srtt_s + delta) * cwnd_f) {
		sch->ecf_waiting = false;
		return false;
	}
	/* (k / cwnd_s) * srtt_s >= 2 * srtt_f + delta */
	if (k * srtt_s >= (2 * srtt_f + delta) * cwnd_s) {
		sch->ecf_waiting = true;
		return true;
	}
	return false;
}

static int ecf_select(mpq_path_sched *sch, const mpq_path_info *paths, size_t n, size_t bytes,
		      uint64_t queued, uint64_t ts)
{
	int use = mpq_path_sched_tier(paths, n);
	int fi, si;

	if (use < 0)
		return -1;
	fi = mpq_path_sched_fastest(paths, n, use, false, 0, ts);
	if (mpq_path_info_ready(&paths[fi], bytes, ts))
		return fi;
	/* Only its pacer holds f back: it sends within a packet's time. */
	if (mpq_path_info_has_room(&paths[fi], bytes))
		return -1;
	si = mpq_path_sched_fastest(paths, n, use, true, bytes, ts);
	if (si < 0)
		return -1;
	if (!paths[fi].has_rtt_sample || !paths[si].has_rtt_sample)
		return si;
	return ecf_wait(sch, &paths[fi], &paths[si], queued) ? -1 : si;
}

const struct mpq_path_sched_ops mpq_path_sched_ecf = {
	.name = "ecf",
	.select = ecf_select,
};
