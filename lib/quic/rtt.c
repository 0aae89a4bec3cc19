/* RTT estimation, RFC 9002 §5. */
#include "quic/rtt.h"

void mpq_rtt_init(mpq_rtt *rtt, uint64_t initial_rtt)
{
	rtt->latest = 0;
	rtt->smoothed = initial_rtt;
	rtt->rttvar = initial_rtt / 2;
	rtt->min = 0;
	rtt->has_sample = false;
}

void mpq_rtt_update(mpq_rtt *rtt, uint64_t latest, uint64_t ack_delay, bool confirmed,
		    uint64_t max_ack_delay)
{
	rtt->latest = latest;
	if (!rtt->has_sample) {
		rtt->has_sample = true;
		rtt->min = latest;
		rtt->smoothed = latest;
		rtt->rttvar = latest / 2;
		return;
	}
	if (latest < rtt->min)
		rtt->min = latest;
	if (confirmed && ack_delay > max_ack_delay)
		ack_delay = max_ack_delay;
	/* Only subtract the peer's delay when the sample stays above min_rtt. */
	uint64_t adjusted = latest;
	if (latest >= rtt->min + ack_delay)
		adjusted = latest - ack_delay;
	uint64_t diff = rtt->smoothed > adjusted ? rtt->smoothed - adjusted
						 : adjusted - rtt->smoothed;
	rtt->rttvar = (3 * rtt->rttvar + diff) / 4;
	rtt->smoothed = (7 * rtt->smoothed + adjusted) / 8;
}

uint64_t mpq_rtt_pto_base(const mpq_rtt *rtt)
{
	uint64_t var = 4 * rtt->rttvar;
	return rtt->smoothed + (var > MPQ_GRANULARITY ? var : MPQ_GRANULARITY);
}
