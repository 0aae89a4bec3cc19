/* Congestion control: lookup by name, the wrappers around the ops, the rules
 * every algorithm shares (recovery period, app-limited, minimum window, undo)
 * and the group of coupled paths. See cc.h. */
#include <string.h>

#include "quic/cc/cc.h"

static const struct {
	const char *name;
	const struct mpq_cc_ops *ops;
} algorithms[] = {
	{"newreno", &mpq_cc_newreno_ops}, {"reno", &mpq_cc_newreno_ops},
	{"cubic", &mpq_cc_cubic_ops},	  {"lia", &mpq_cc_lia_ops},
	{"olia", &mpq_cc_olia_ops},
};

const struct mpq_cc_ops *mpq_cc_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++)
		if (strcmp(algorithms[i].name, name) == 0)
			return algorithms[i].ops;
	return NULL;
}

int mpq_cc_init(mpq_cc_any *any, const struct mpq_cc_ops *ops, uint64_t max_datagram_size,
		uint32_t initial_window_packets, uint64_t ts)
{
	mpq_cc *cc = &any->cc;
	uint64_t mds = max_datagram_size;
	uint64_t iw;

	if (!ops || mds == 0 || mds > UINT64_MAX / UINT32_MAX)
		return MPQ_ERR_INVALID_ARGUMENT;
	memset(any, 0, sizeof(*any));
	cc->ops = ops;
	cc->max_datagram_size = mds;
	cc->min_window = MPQ_CC_MIN_WINDOW_PACKETS * mds;
	if (initial_window_packets == 0) {
		/* min(10 * mds, max(14720, 2 * mds)) */
		iw = cc->min_window > MPQ_CC_INITIAL_WINDOW_CAP ? cc->min_window
								: MPQ_CC_INITIAL_WINDOW_CAP;
		if (iw > MPQ_CC_DEFAULT_INITIAL_PACKETS * mds)
			iw = MPQ_CC_DEFAULT_INITIAL_PACKETS * mds;
	} else {
		iw = initial_window_packets * mds;
	}
	cc->cwnd = iw > cc->min_window ? iw : cc->min_window;
	cc->ssthresh = UINT64_MAX;
	cc->recovery_start = 0;
	cc->srtt = 0;
	cc->group = NULL;
	mpq_hystart_init(&cc->hystart, true);
	return ops->init(cc, mds, initial_window_packets, ts);
}

void mpq_cc_set_max_datagram_size(mpq_cc *cc, uint64_t max_datagram_size)
{
	if (max_datagram_size == 0 || max_datagram_size > UINT64_MAX / UINT32_MAX)
		return;
	cc->max_datagram_size = max_datagram_size;
	cc->min_window = MPQ_CC_MIN_WINDOW_PACKETS * max_datagram_size;
	if (cc->cwnd < cc->min_window)
		cc->cwnd = cc->min_window;
}

void mpq_cc_on_packet_sent(mpq_cc *cc, uint64_t bytes, uint64_t ts)
{
	if (cc->ops->on_packet_sent)
		cc->ops->on_packet_sent(cc, bytes, ts);
}

void mpq_cc_on_packets_acked(mpq_cc *cc, uint64_t bytes_acked, uint64_t largest_acked_sent_time,
			     const mpq_rtt *rtt, uint64_t ts)
{
	if (rtt)
		cc->srtt = rtt->smoothed;
	cc->ops->on_packets_acked(cc, bytes_acked, largest_acked_sent_time, rtt, ts);
}

void mpq_cc_on_congestion_event(mpq_cc *cc, uint64_t sent_time_of_lost_or_ce_packet, uint64_t ts)
{
	cc->ops->on_congestion_event(cc, sent_time_of_lost_or_ce_packet, ts);
}

void mpq_cc_on_persistent_congestion(mpq_cc *cc, uint64_t ts)
{
	cc->ops->on_persistent_congestion(cc, ts);
}

int mpq_cc_on_spurious_congestion(mpq_cc *cc, uint64_t ts)
{
	if (!cc->ops->on_spurious_congestion || !cc->undo.valid)
		return MPQ_ERR_NOT_FOUND;
	cc->ops->on_spurious_congestion(cc, ts);
	return 0;
}

static bool sent_in_recovery(const mpq_cc *cc, uint64_t sent_time)
{
	return cc->recovery_started && sent_time <= cc->recovery_start;
}

bool mpq_cc_ack_may_grow(mpq_cc *cc, uint64_t largest_acked_sent_time)
{
	if (sent_in_recovery(cc, largest_acked_sent_time))
		return false;
	cc->in_recovery = false;
	return !cc->app_limited;
}

bool mpq_cc_begin_reduction(mpq_cc *cc, uint64_t sent_time, uint64_t ts)
{
	if (sent_in_recovery(cc, sent_time))
		return false;
	cc->undo.cwnd = cc->cwnd;
	cc->undo.ssthresh = cc->ssthresh;
	cc->undo.recovery_start = cc->recovery_start;
	cc->undo.recovery_started = cc->recovery_started;
	cc->undo.in_recovery = cc->in_recovery;
	cc->undo.valid = true;
	cc->recovery_start = ts;
	cc->recovery_started = true;
	cc->in_recovery = true;
	return true;
}

void mpq_cc_collapse(mpq_cc *cc)
{
	cc->cwnd = cc->min_window;
	cc->recovery_started = false;
	cc->recovery_start = 0;
	cc->in_recovery = false;
	cc->undo.valid = false;
}

bool mpq_cc_undo_reduction(mpq_cc *cc)
{
	if (!cc->undo.valid)
		return false;
	if (cc->undo.cwnd > cc->cwnd)
		cc->cwnd = cc->undo.cwnd;
	cc->ssthresh = cc->undo.ssthresh;
	cc->recovery_start = cc->undo.recovery_start;
	cc->recovery_started = cc->undo.recovery_started;
	cc->in_recovery = cc->undo.in_recovery;
	cc->undo.valid = false;
	return true;
}

bool mpq_cc_ack_in_ca(mpq_cc *cc, uint64_t bytes_acked, uint64_t largest_acked_sent_time)
{
	if (!mpq_cc_ack_may_grow(cc, largest_acked_sent_time))
		return false;
	if (cc->cwnd < cc->ssthresh) {
		cc->cwnd += mpq_hystart_increase(&cc->hystart, bytes_acked);
		return false;
	}
	return true;
}

void mpq_cc_set_hystart(mpq_cc *cc, bool enabled)
{
	cc->hystart.enabled = enabled;
	if (!enabled)
		cc->hystart.in_css = false;
}

void mpq_cc_hystart_on_sent(mpq_cc *cc, uint64_t pn)
{
	mpq_hystart_on_sent(&cc->hystart, pn);
}

void mpq_cc_hystart_on_ack(mpq_cc *cc, uint64_t largest_pn, uint64_t rtt_sample)
{
	/* Only the first slow start (RFC 9406 §4.3): later ones end at the
	 * ssthresh the first congestion event set. */
	if (cc->ssthresh != UINT64_MAX || cc->cwnd >= cc->ssthresh) {
		cc->hystart.in_css = false;
		return;
	}
	if (mpq_hystart_on_ack(&cc->hystart, largest_pn, rtt_sample) == MPQ_HYSTART_LEAVE)
		cc->ssthresh = cc->cwnd;
}

void mpq_cc_reno_increase(mpq_cc *cc, uint64_t *acked_in_ca, uint64_t bytes_acked)
{
	*acked_in_ca += bytes_acked;
	while (*acked_in_ca >= cc->cwnd) {
		*acked_in_ca -= cc->cwnd;
		cc->cwnd += cc->max_datagram_size;
	}
}

void mpq_cc_reno_halve(mpq_cc *cc)
{
	cc->ssthresh = cc->cwnd / 2; /* kLossReductionFactor = 0.5 */
	cc->cwnd = cc->ssthresh > cc->min_window ? cc->ssthresh : cc->min_window;
}

void mpq_cc_add_fraction(mpq_cc *cc, double *frac, double bytes)
{
	double v = bytes + *frac;
	uint64_t whole;

	if (v >= 0) {
		whole = (uint64_t)v;
		*frac = v - (double)whole;
		cc->cwnd += whole;
		return;
	}
	whole = (uint64_t)-v;
	*frac = v + (double)whole;
	if (cc->cwnd >= cc->min_window + whole) {
		cc->cwnd -= whole;
	} else {
		cc->cwnd = cc->min_window;
		*frac = 0;
	}
	/* Window given up to siblings is not to be probed for again: stay in
	 * congestion avoidance rather than slow-start back to ssthresh. */
	if (cc->ssthresh > cc->cwnd)
		cc->ssthresh = cc->cwnd;
}

size_t mpq_cc_group_coupled(const mpq_cc *cc, const mpq_cc **out)
{
	const mpq_cc_group *g = cc->group;
	size_t n = 0;

	if (!g || cc->srtt == 0)
		return 0;
	for (size_t i = 0; i < g->count; i++) {
		const mpq_cc *m = g->members[i];
		if (m->ops == cc->ops && m->srtt != 0)
			out[n++] = m;
	}
	return n >= 2 ? n : 0;
}

int mpq_cc_group_add(mpq_cc_group *g, mpq_cc *cc)
{
	if (cc->group && cc->group != g)
		return MPQ_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < g->count; i++)
		if (g->members[i] == cc)
			return 0;
	if (g->count > 0 && g->members[0]->ops != cc->ops)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (g->count == MPQ_CC_GROUP_MAX)
		return MPQ_ERR_NOBUF;
	g->members[g->count++] = cc;
	cc->group = g;
	return 0;
}

int mpq_cc_group_remove(mpq_cc_group *g, mpq_cc *cc)
{
	for (size_t i = 0; i < g->count; i++) {
		if (g->members[i] != cc)
			continue;
		g->members[i] = g->members[--g->count];
		g->members[g->count] = NULL;
		cc->group = NULL;
		return 0;
	}
	return MPQ_ERR_NOT_FOUND;
}
