/*
 * OLIA, the opportunistic linked increases algorithm (Khalili, Gast, Popovic,
 * Le Boudec, "MPTCP is not Pareto-optimal", CoNEXT 2012), in bytes. In
 * congestion avoidance, for each ACK on path r the paper adds, in packets,
 *
 *	(w_r / rtt_r^2) / (sum_p w_p / rtt_p)^2 + alpha_r / w_r
 *
 * over the set P of coupled paths (the group's members with an RTT, cc.h),
 * w_p = cwnd_p / mss_p. An ack of bytes_acked stands for bytes_acked / mss_r
 * packets and a packet on path r is mss_r bytes, so cwnd_r grows by
 * bytes_acked times that expression. With
 *
 *	l1r = bytes acked between the last two losses on r,
 *	l2r = bytes acked since the last loss on r, l_r = max(l1r, l2r),
 *	M = the paths with the largest w_p,
 *	B = the presumably best paths: the largest l_p / rtt_p^2,
 *
 * alpha_r = 1 / (|P| * |B\M|) for r in B\M, -1 / (|P| * |M|) for r in M when
 * B\M is not empty, and 0 otherwise. l_r estimates 1 / loss rate, and a
 * Reno flow's rate squared goes as 1 / (p_r * rtt_r^2), hence l_r / rtt_r^2
 * for "best" (the same quantity the authors' Linux mptcp_olia.c compares). The
 * alphas sum to 0: they move window from the largest paths to the best ones
 * without changing the total, and the first term summed over a round is at
 * most one packet, so the aggregate is no more aggressive than one Reno flow.
 *
 * M compares windows in whole datagrams, as the paper's (and TCP's) packet
 * windows are: in bytes, two equal windows would trade places in M with every
 * ack, each ack landing on the smaller one with a positive alpha, and the
 * alphas would no longer cancel. B compares l / rtt^2 exactly. A path in M can
 * shrink; never below the minimum window, and ssthresh follows it down so that
 * it stays in congestion avoidance (cc.c, mpq_cc_add_fraction).
 *
 * A loss halves w_r (NewReno's reduction, once per recovery period) and
 * shifts l2r into l1r; an undo puts them back. Slow start, the recovery
 * period and persistent congestion are NewReno's; a path that is not coupled
 * runs NewReno exactly.
 */
#include "quic/cc/cc.h"

static mpq_cc_olia *olia_of(mpq_cc *cc)
{
	return container_of(cc, mpq_cc_olia, cc);
}

/* A sibling's state: the group only couples members with the same ops. */
static const mpq_cc_olia *sibling_of(const mpq_cc *cc)
{
	return (const mpq_cc_olia *)(const void *)((const char *)cc - offsetof(mpq_cc_olia, cc));
}

static double packets(const mpq_cc *cc)
{
	return (double)cc->cwnd / (double)cc->max_datagram_size;
}

/* The window in whole datagrams, as TCP counts it, for the set M. */
static uint64_t whole_packets(const mpq_cc *cc)
{
	return cc->cwnd / cc->max_datagram_size;
}

/* l_r / rtt_r^2, the measure of a best path. */
static double best_measure(const mpq_cc *cc)
{
	const mpq_cc_olia *o = sibling_of(cc);
	double l = (double)(o->l1r > o->l2r ? o->l1r : o->l2r);
	double rtt = (double)cc->srtt;

	return l / (rtt * rtt);
}

/* alpha_r for |cc| among the |n| coupled paths |m| (|cc| is one of them). */
static double alpha_r(const mpq_cc *cc, const mpq_cc *const *m, size_t n)
{
	uint64_t w_max = 0;
	double best = 0;
	size_t in_m = 0, in_b_not_m = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t w = whole_packets(m[i]);
		double b = best_measure(m[i]);

		if (w > w_max)
			w_max = w;
		if (b > best)
			best = b;
	}
	for (size_t i = 0; i < n; i++) {
		if (whole_packets(m[i]) == w_max)
			in_m++;
		else if (best_measure(m[i]) == best)
			in_b_not_m++;
	}
	if (in_b_not_m == 0)
		return 0;
	if (whole_packets(cc) == w_max)
		return -1.0 / (double)(n * in_m);
	if (best_measure(cc) == best)
		return 1.0 / (double)(n * in_b_not_m);
	return 0;
}

double mpq_cc_olia_alpha(const mpq_cc *cc)
{
	const mpq_cc *m[MPQ_CC_GROUP_MAX];
	size_t n = mpq_cc_group_coupled(cc, m);

	return n ? alpha_r(cc, m, n) : 0;
}

/* The per-packet increase in packets: (w_r / rtt_r^2) / (sum_p w_p / rtt_p)^2 + alpha_r / w_r. */
static double increase_per_packet(const mpq_cc *cc, const mpq_cc *const *m, size_t n)
{
	double w = packets(cc), rtt = (double)cc->srtt;
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += packets(m[i]) / (double)m[i]->srtt;
	return w / (rtt * rtt) / (sum * sum) + alpha_r(cc, m, n) / w;
}

static int olia_init(mpq_cc *cc, uint64_t max_datagram_size, uint32_t initial_window_packets,
		     uint64_t ts)
{
	mpq_cc_olia *o = olia_of(cc);

	o->acked_in_ca = 0;
	o->frac = 0;
	o->l1r = 0;
	o->l2r = 0;
	o->undo_l1r = 0;
	return 0;
}

static void olia_on_packets_acked(mpq_cc *cc, uint64_t bytes_acked,
				  uint64_t largest_acked_sent_time, const mpq_rtt *rtt,
				  uint64_t ts)
{
	mpq_cc_olia *o = olia_of(cc);
	const mpq_cc *m[MPQ_CC_GROUP_MAX];
	size_t n;

	o->l2r += bytes_acked; /* every acknowledged byte, growth or not */
	if (!mpq_cc_ack_in_ca(cc, bytes_acked, largest_acked_sent_time))
		return;
	n = mpq_cc_group_coupled(cc, m);
	if (n == 0) {
		mpq_cc_reno_increase(cc, &o->acked_in_ca, bytes_acked);
		return;
	}
	mpq_cc_add_fraction(cc, &o->frac, (double)bytes_acked * increase_per_packet(cc, m, n));
}

static void olia_on_congestion_event(mpq_cc *cc, uint64_t sent_time, uint64_t ts)
{
	mpq_cc_olia *o = olia_of(cc);

	if (!mpq_cc_begin_reduction(cc, sent_time, ts))
		return;
	mpq_cc_reno_halve(cc);
	o->acked_in_ca = 0;
	o->frac = 0;
	o->undo_l1r = o->l1r;
	o->l1r = o->l2r;
	o->l2r = 0;
}

static void olia_on_persistent_congestion(mpq_cc *cc, uint64_t ts)
{
	mpq_cc_olia *o = olia_of(cc);

	/* The losses behind it were counted by on_congestion_event. */
	mpq_cc_collapse(cc);
	o->acked_in_ca = 0;
	o->frac = 0;
}

static void olia_on_spurious_congestion(mpq_cc *cc, uint64_t ts)
{
	mpq_cc_olia *o = olia_of(cc);

	if (!mpq_cc_undo_reduction(cc))
		return;
	/* That loss never happened: the bytes since the one before count on. */
	o->l2r += o->l1r;
	o->l1r = o->undo_l1r;
}

const struct mpq_cc_ops mpq_cc_olia_ops = {
	.name = "olia",
	.init = olia_init,
	.on_packet_sent = NULL,
	.on_packets_acked = olia_on_packets_acked,
	.on_congestion_event = olia_on_congestion_event,
	.on_persistent_congestion = olia_on_persistent_congestion,
	.on_spurious_congestion = olia_on_spurious_congestion,
};
