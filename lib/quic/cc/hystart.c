/* HyStart++ (RFC 9406 §4.2): see hystart.h. */
#include <string.h>

#include "quic/cc/hystart.h"

#define NO_RTT UINT64_MAX

void mpq_hystart_init(struct mpq_hystart *h, bool enabled)
{
	memset(h, 0, sizeof(*h));
	h->enabled = enabled;
	h->last_round_min_rtt = NO_RTT;
	h->current_round_min_rtt = NO_RTT;
	h->css_baseline_min_rtt = NO_RTT;
}

void mpq_hystart_on_sent(struct mpq_hystart *h, uint64_t pn)
{
	if (!h->sent_any || pn >= h->next_pn)
		h->next_pn = pn + 1;
	h->sent_any = true;
}

static void start_round(struct mpq_hystart *h)
{
	h->last_round_min_rtt = h->current_round_min_rtt;
	h->current_round_min_rtt = NO_RTT;
	h->rtt_sample_count = 0;
	h->window_end = h->next_pn;
	h->in_round = true;
}

/* lastRoundMinRTT / MIN_RTT_DIVISOR within [MIN_RTT_THRESH, MAX_RTT_THRESH]. */
static uint64_t rtt_thresh(uint64_t last_round_min_rtt)
{
	uint64_t t = last_round_min_rtt / MPQ_HYSTART_MIN_RTT_DIVISOR;

	if (t > MPQ_HYSTART_MAX_RTT_THRESH)
		t = MPQ_HYSTART_MAX_RTT_THRESH;
	return t < MPQ_HYSTART_MIN_RTT_THRESH ? MPQ_HYSTART_MIN_RTT_THRESH : t;
}

static enum mpq_hystart_verdict verdict(const struct mpq_hystart *h)
{
	return h->in_css ? MPQ_HYSTART_CSS : MPQ_HYSTART_SLOW_START;
}

enum mpq_hystart_verdict mpq_hystart_on_ack(struct mpq_hystart *h, uint64_t largest_pn,
					    uint64_t rtt_sample)
{
	if (!h->enabled || !h->sent_any)
		return MPQ_HYSTART_SLOW_START;
	if (!h->in_round || largest_pn >= h->window_end) {
		if (h->in_round && h->in_css && ++h->css_rounds >= MPQ_HYSTART_CSS_ROUNDS) {
			h->in_css = false;
			h->enabled = false; /* only the first slow start */
			return MPQ_HYSTART_LEAVE;
		}
		start_round(h);
	}
	if (rtt_sample == 0)
		return verdict(h);
	if (rtt_sample < h->current_round_min_rtt)
		h->current_round_min_rtt = rtt_sample;
	h->rtt_sample_count++;
	if (h->rtt_sample_count < MPQ_HYSTART_N_RTT_SAMPLE)
		return verdict(h);
	if (!h->in_css) {
		uint64_t last = h->last_round_min_rtt;

		if (last != NO_RTT && h->current_round_min_rtt >= last + rtt_thresh(last)) {
			h->css_baseline_min_rtt = h->current_round_min_rtt;
			h->in_css = true;
			h->css_rounds = 0;
			h->css_carry = 0;
		}
	} else if (h->current_round_min_rtt < h->css_baseline_min_rtt) {
		/* The RTT rise was a fluctuation: back to slow start. */
		h->css_baseline_min_rtt = NO_RTT;
		h->in_css = false;
	}
	return verdict(h);
}

uint64_t mpq_hystart_increase(struct mpq_hystart *h, uint64_t bytes_acked)
{
	uint64_t v;

	if (!h->in_css)
		return bytes_acked;
	v = h->css_carry + bytes_acked;
	h->css_carry = v % MPQ_HYSTART_CSS_GROWTH_DIVISOR;
	return v / MPQ_HYSTART_CSS_GROWTH_DIVISOR;
}
