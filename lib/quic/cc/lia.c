/*
 * LIA, the linked increases algorithm of RFC 6356 §3, in bytes. Only the
 * increase in congestion avoidance is coupled: for each ACK of bytes_acked on
 * path i,
 *
 *	cwnd_i += min(alpha * bytes_acked * mss_i / cwnd_total,
 *		      bytes_acked * mss_i / cwnd_i)
 *
 *	alpha = cwnd_total * max_i(cwnd_i / rtt_i^2) / (sum_i cwnd_i / rtt_i)^2
 *
 * over the members of the connection's group (cc.h) that have an RTT, with
 * cwnd_total their sum. The second term is what Reno would add on its own, so
 * no path grows faster than Reno would alone. Slow start, the halving on
 * loss, the recovery period, persistent congestion and undo are NewReno's. A
 * path that is not coupled (no group, or no sibling with an RTT) runs NewReno
 * exactly, its byte counter included.
 *
 * The arithmetic is in double, once per ack over at most MPQ_CC_GROUP_MAX
 * paths; RTTs stay in ns (alpha has no unit). Sub-byte growth is carried to
 * the next ack.
 */
#include "quic/cc/cc.h"

static mpq_cc_lia *lia_of(mpq_cc *cc)
{
	return container_of(cc, mpq_cc_lia, cc);
}

/* alpha / cwnd_total: max_i(cwnd_i / rtt_i^2) / (sum_i cwnd_i / rtt_i)^2. */
static double alpha_over_total(const mpq_cc *const *m, size_t n)
{
	double best = 0, sum = 0;

	for (size_t i = 0; i < n; i++) {
		double cwnd = (double)m[i]->cwnd, rtt = (double)m[i]->srtt;
		double v = cwnd / (rtt * rtt);

		if (v > best)
			best = v;
		sum += cwnd / rtt;
	}
	return best / (sum * sum);
}

double mpq_cc_lia_alpha(const mpq_cc *cc)
{
	const mpq_cc *m[MPQ_CC_GROUP_MAX];
	size_t n = mpq_cc_group_coupled(cc, m);
	double total = 0;

	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		total += (double)m[i]->cwnd;
	return total * alpha_over_total(m, n);
}

static int lia_init(mpq_cc *cc, uint64_t max_datagram_size, uint32_t initial_window_packets,
		    uint64_t ts)
{
	mpq_cc_lia *l = lia_of(cc);

	l->acked_in_ca = 0;
	l->frac = 0;
	return 0;
}

static void lia_on_packets_acked(mpq_cc *cc, uint64_t bytes_acked,
				 uint64_t largest_acked_sent_time, const mpq_rtt *rtt, uint64_t ts)
{
	mpq_cc_lia *l = lia_of(cc);
	const mpq_cc *m[MPQ_CC_GROUP_MAX];
	size_t n;

	if (!mpq_cc_ack_in_ca(cc, bytes_acked, largest_acked_sent_time))
		return;
	n = mpq_cc_group_coupled(cc, m);
	if (n == 0) {
		mpq_cc_reno_increase(cc, &l->acked_in_ca, bytes_acked);
		return;
	}

	/* alpha * b * mss / cwnd_total, without forming cwnd_total twice. */
	double b_mss = (double)bytes_acked * (double)cc->max_datagram_size;
	double coupled = b_mss * alpha_over_total(m, n);
	double reno = b_mss / (double)cc->cwnd;

	mpq_cc_add_fraction(cc, &l->frac, coupled < reno ? coupled : reno);
}

static void lia_on_congestion_event(mpq_cc *cc, uint64_t sent_time, uint64_t ts)
{
	mpq_cc_lia *l = lia_of(cc);

	if (!mpq_cc_begin_reduction(cc, sent_time, ts))
		return;
	mpq_cc_reno_halve(cc);
	l->acked_in_ca = 0;
	l->frac = 0;
}

static void lia_on_persistent_congestion(mpq_cc *cc, uint64_t ts)
{
	mpq_cc_lia *l = lia_of(cc);

	mpq_cc_collapse(cc);
	l->acked_in_ca = 0;
	l->frac = 0;
}

static void lia_on_spurious_congestion(mpq_cc *cc, uint64_t ts)
{
	mpq_cc_undo_reduction(cc);
}

const struct mpq_cc_ops mpq_cc_lia_ops = {
	.name = "lia",
	.init = lia_init,
	.on_packet_sent = NULL,
	.on_packets_acked = lia_on_packets_acked,
	.on_congestion_event = lia_on_congestion_event,
	.on_persistent_congestion = lia_on_persistent_congestion,
	.on_spurious_congestion = lia_on_spurious_congestion,
};
