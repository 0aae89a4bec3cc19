/*
 * HyStart++ (RFC 9406): leaves the initial slow start when the RTT grows by
 * more than a threshold from one round to the next, before the bottleneck's
 * queue overflows. One per path, inside struct mpq_cc, shared by every
 * algorithm through the common slow start (cc.c).
 *
 * A round is one window of the path's own 1-RTT packet numbers: it ends when
 * an ACK covers the first packet sent after it began (windowEnd = SND.NXT).
 * Each ACK that acknowledges a new largest packet is one RTT sample. With at
 * least N_RTT_SAMPLE samples in the round, a minimum RTT at least
 * lastRoundMinRTT + clamp(lastRoundMinRTT / 8, 4 ms, 16 ms) enters
 * conservative slow start (CSS): growth by a quarter of what is acked. In CSS
 * a round minimum below the RTT that triggered it goes back to slow start;
 * CSS_ROUNDS rounds in CSS end slow start (ssthresh = cwnd). Only the first
 * slow start uses it (ssthresh not yet set, §4.3); the sender paces, so there
 * is no burst limit L. Nothing here reads a clock.
 */
#ifndef MPQ_CC_HYSTART_H
#define MPQ_CC_HYSTART_H

#include <stdbool.h>
#include <stdint.h>

#define MPQ_HYSTART_MIN_RTT_THRESH 4000000ULL  /* ns */
#define MPQ_HYSTART_MAX_RTT_THRESH 16000000ULL /* ns */
#define MPQ_HYSTART_MIN_RTT_DIVISOR 8
#define MPQ_HYSTART_N_RTT_SAMPLE 8
#define MPQ_HYSTART_CSS_GROWTH_DIVISOR 4
#define MPQ_HYSTART_CSS_ROUNDS 5

enum mpq_hystart_verdict {
	MPQ_HYSTART_SLOW_START, /* grow by what is acked */
	MPQ_HYSTART_CSS,	/* grow by a CSS_GROWTH_DIVISOR-th of it */
	MPQ_HYSTART_LEAVE,	/* CSS_ROUNDS done: set ssthresh = cwnd */
};

struct mpq_hystart {
	bool enabled;
	bool in_css;
	bool sent_any;		     /* next_pn is meaningful */
	bool in_round;		     /* window_end is meaningful */
	uint64_t next_pn;	     /* SND.NXT */
	uint64_t window_end;	     /* the round ends when this is acked */
	uint64_t css_carry;	     /* acked bytes not yet worth a CSS increase */
	uint64_t last_round_min_rtt; /* UINT64_MAX: none */
	uint64_t current_round_min_rtt;
	uint64_t css_baseline_min_rtt;
	uint32_t rtt_sample_count;
	uint32_t css_rounds;
};

void mpq_hystart_init(struct mpq_hystart *h, bool enabled);
/* A 1-RTT packet |pn| of the path left. */
void mpq_hystart_on_sent(struct mpq_hystart *h, uint64_t pn);
/*
 * An ACK in slow start whose largest acknowledged 1-RTT packet is
 * |largest_pn|, with the RTT sample it gave (0: none, the largest was not
 * newly acknowledged). Ends rounds, counts the sample and decides how slow
 * start grows from now on. Without packets sent (or disabled): slow start.
 */
enum mpq_hystart_verdict mpq_hystart_on_ack(struct mpq_hystart *h, uint64_t largest_pn,
					    uint64_t rtt_sample);
/* What slow start adds for |bytes_acked|: all of it, or in CSS a
 * CSS_GROWTH_DIVISOR-th with the remainder carried to the next ACK. */
uint64_t mpq_hystart_increase(struct mpq_hystart *h, uint64_t bytes_acked);

#endif
