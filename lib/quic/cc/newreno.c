/*
 * NewReno as RFC 9002 §7 and Appendix B describe it: slow start adds the
 * bytes acked; congestion avoidance adds one max_datagram_size per cwnd of
 * bytes acked (byte counting, RFC 3465); a congestion event halves the window
 * once per recovery period, never below the minimum window; persistent
 * congestion collapses to the minimum window.
 */
#include "quic/cc/cc.h"

static mpq_cc_newreno *newreno_of(mpq_cc *cc)
{
	return container_of(cc, mpq_cc_newreno, cc);
}

static int newreno_init(mpq_cc *cc, uint64_t max_datagram_size, uint32_t initial_window_packets,
			uint64_t ts)
{
	newreno_of(cc)->acked_in_ca = 0;
	return 0;
}

static void newreno_on_packets_acked(mpq_cc *cc, uint64_t bytes_acked,
				     uint64_t largest_acked_sent_time, const mpq_rtt *rtt,
				     uint64_t ts)
{
	if (mpq_cc_ack_in_ca(cc, bytes_acked, largest_acked_sent_time))
		mpq_cc_reno_increase(cc, &newreno_of(cc)->acked_in_ca, bytes_acked);
}

static void newreno_on_congestion_event(mpq_cc *cc, uint64_t sent_time, uint64_t ts)
{
	if (!mpq_cc_begin_reduction(cc, sent_time, ts))
		return;
	mpq_cc_reno_halve(cc);
	newreno_of(cc)->acked_in_ca = 0;
}

static void newreno_on_persistent_congestion(mpq_cc *cc, uint64_t ts)
{
	mpq_cc_collapse(cc);
	newreno_of(cc)->acked_in_ca = 0;
}

static void newreno_on_spurious_congestion(mpq_cc *cc, uint64_t ts)
{
	mpq_cc_undo_reduction(cc);
}

const struct mpq_cc_ops mpq_cc_newreno_ops = {
	.name = "newreno",
	.init = newreno_init,
	.on_packet_sent = NULL,
	.on_packets_acked = newreno_on_packets_acked,
	.on_congestion_event = newreno_on_congestion_event,
	.on_persistent_congestion = newreno_on_persistent_congestion,
	.on_spurious_congestion = newreno_on_spurious_congestion,
};
