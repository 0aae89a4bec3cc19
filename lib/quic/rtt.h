/* RTT estimation (RFC 9002 §5), one estimator per path. Times in ns. */
#ifndef MPQ_RTT_H
#define MPQ_RTT_H

#include <stdbool.h>
#include <stdint.h>

#define MPQ_GRANULARITY (1000000ULL) /* kGranularity: 1 ms */

typedef struct mpq_rtt {
	uint64_t latest;
	uint64_t smoothed;
	uint64_t rttvar;
	uint64_t min;
	bool has_sample;
} mpq_rtt;

void mpq_rtt_init(mpq_rtt *rtt, uint64_t initial_rtt);

/* A new sample: |latest| from send to ack, |ack_delay| as the peer reported it
 * (already scaled to ns). Before the handshake is confirmed the ack delay is
 * not capped by |max_ack_delay|; after, it is (RFC 9002 §5.3). */
void mpq_rtt_update(mpq_rtt *rtt, uint64_t latest, uint64_t ack_delay, bool confirmed,
		    uint64_t max_ack_delay);

/* smoothed + max(4 * rttvar, granularity), without max_ack_delay or backoff. */
uint64_t mpq_rtt_pto_base(const mpq_rtt *rtt);

#endif
