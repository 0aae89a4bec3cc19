/*
 * HyStart++ (RFC 9406) through the shared slow start of every congestion
 * controller: rounds of the path's packet numbers with RTT samples chosen by
 * the test. An RTT rise of at least lastRoundMinRTT / 8 (clamped to 4-16 ms)
 * over N_RTT_SAMPLE samples enters conservative slow start (CSS, a quarter of
 * the growth); a round minimum below the baseline goes back to slow start;
 * CSS_ROUNDS rounds in CSS end slow start; fewer samples decide nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "quic/cc/cc.h"

#define MDS 1200
#define MS 1000000ULL

static const char *const all[] = {"newreno", "cubic", "lia", "olia"};
#define NALL (sizeof(all) / sizeof(all[0]))

struct sender {
	mpq_cc_any any;
	mpq_cc *cc;
	uint64_t next_pn;
	uint64_t ts;
};

static void start(struct sender *s, const char *name)
{
	const struct mpq_cc_ops *ops = mpq_cc_find(name);

	memset(s, 0, sizeof(*s));
	assert_non_null(ops);
	assert_int_equal(mpq_cc_init(&s->any, ops, MDS, 0, 0), 0);
	s->cc = &s->any.cc;
	s->ts = 1000 * MS;
}

/* One round: |n| packets sent, then each acknowledged alone with an RTT
 * sample of |rtt| ns. Returns the cwnd growth of the round. */
static uint64_t round_of(struct sender *s, unsigned n, uint64_t rtt)
{
	uint64_t first = s->next_pn, before = mpq_cc_cwnd(s->cc);
	mpq_rtt r;

	mpq_rtt_init(&r, rtt);
	for (unsigned i = 0; i < n; i++)
		mpq_cc_hystart_on_sent(s->cc, s->next_pn++);
	for (unsigned i = 0; i < n; i++) {
		s->ts += MS;
		r.latest = rtt;
		mpq_cc_hystart_on_ack(s->cc, first + i, rtt);
		mpq_cc_on_packets_acked(s->cc, MDS, s->ts - rtt, &r, s->ts);
	}
	return mpq_cc_cwnd(s->cc) - before;
}

/* Round 1 at |base|, round 2 at |base| + |rise|, each of |n| samples. */
static void rise(struct sender *s, uint64_t base, uint64_t rise_ns, unsigned n)
{
	round_of(s, n, base);
	round_of(s, n, base + rise_ns);
}

/* A fresh |name| after rise(): in CSS? */
static bool css_after_rise(struct sender *s, const char *name, uint64_t base, uint64_t rise_ns,
			   unsigned n)
{
	start(s, name);
	rise(s, base, rise_ns, n);
	return mpq_cc_in_css(s->cc);
}

static void rtt_increase_enters_css(void **state)
{
	(void)state;
	for (size_t i = 0; i < NALL; i++) {
		struct sender s;

		/* 100 ms: the threshold is 12.5 ms. Just below it: slow start. */
		assert_false(
			css_after_rise(&s, all[i], 100 * MS, 12 * MS, MPQ_HYSTART_N_RTT_SAMPLE));
		assert_int_equal(round_of(&s, 8, 112 * MS), 8 * MDS);

		assert_true(
			css_after_rise(&s, all[i], 100 * MS, 13 * MS, MPQ_HYSTART_N_RTT_SAMPLE));
		assert_true(mpq_cc_in_slow_start(s.cc));
		assert_int_equal(mpq_cc_ssthresh(s.cc), UINT64_MAX);
		/* A quarter of what is acked. */
		assert_int_equal(round_of(&s, 8, 113 * MS),
				 8 * MDS / MPQ_HYSTART_CSS_GROWTH_DIVISOR);

		/* Short RTTs: at least MIN_RTT_THRESH (10 ms / 8 would be 1.25 ms). */
		assert_false(
			css_after_rise(&s, all[i], 10 * MS, 3 * MS, MPQ_HYSTART_N_RTT_SAMPLE));
		assert_true(css_after_rise(&s, all[i], 10 * MS, 4 * MS, MPQ_HYSTART_N_RTT_SAMPLE));
		/* Long ones: at most MAX_RTT_THRESH (400 ms / 8 would be 50 ms). */
		assert_true(
			css_after_rise(&s, all[i], 400 * MS, 16 * MS, MPQ_HYSTART_N_RTT_SAMPLE));
	}
}

static void no_exit_without_n_rtt_samples(void **state)
{
	(void)state;
	for (size_t i = 0; i < NALL; i++) {
		struct sender s;

		start(&s, all[i]);
		/* Twice the RTT, but one sample short in the round. */
		rise(&s, 50 * MS, 50 * MS, MPQ_HYSTART_N_RTT_SAMPLE - 1);
		assert_false(mpq_cc_in_css(s.cc));
		/* Nor with enough samples when the round before had none to compare. */
		start(&s, all[i]);
		round_of(&s, 1, 50 * MS);
		assert_false(mpq_cc_in_css(s.cc));
		/* The N-th sample of a round decides. */
		start(&s, all[i]);
		round_of(&s, MPQ_HYSTART_N_RTT_SAMPLE, 50 * MS);
		round_of(&s, MPQ_HYSTART_N_RTT_SAMPLE - 1, 100 * MS);
		assert_false(mpq_cc_in_css(s.cc));
		/* One more sample in the same round (its ACKs cover no newer packet). */
		mpq_cc_hystart_on_ack(s.cc, s.next_pn - 1, 100 * MS);
		assert_true(mpq_cc_in_css(s.cc));
	}
}

static void rtt_drop_returns_to_slow_start(void **state)
{
	(void)state;
	for (size_t i = 0; i < NALL; i++) {
		struct sender s;

		assert_true(
			css_after_rise(&s, all[i], 100 * MS, 20 * MS, MPQ_HYSTART_N_RTT_SAMPLE));
		/* At the baseline (120 ms): CSS goes on. */
		round_of(&s, 8, 120 * MS);
		assert_true(mpq_cc_in_css(s.cc));
		/* Below it: the rise was a fluctuation, full growth again. */
		round_of(&s, 8, 110 * MS);
		assert_false(mpq_cc_in_css(s.cc));
		assert_int_equal(mpq_cc_ssthresh(s.cc), UINT64_MAX);
		assert_int_equal(round_of(&s, 8, 110 * MS), 8 * MDS);
	}
}

static void css_rounds_end_slow_start(void **state)
{
	(void)state;
	for (size_t i = 0; i < NALL; i++) {
		struct sender s;

		assert_true(
			css_after_rise(&s, all[i], 100 * MS, 20 * MS, MPQ_HYSTART_N_RTT_SAMPLE));
		/* The round that entered CSS ends with the next one's first ACK. */
		for (int r = 1; r < MPQ_HYSTART_CSS_ROUNDS; r++) {
			round_of(&s, 8, 120 * MS);
			assert_true(mpq_cc_in_css(s.cc));
		}
		uint64_t cwnd = mpq_cc_cwnd(s.cc);
		/* The first ACK of the next round completes CSS_ROUNDS rounds. */
		mpq_cc_hystart_on_sent(s.cc, s.next_pn++);
		mpq_cc_hystart_on_ack(s.cc, s.next_pn - 1, 120 * MS);
		assert_int_equal(mpq_cc_ssthresh(s.cc), cwnd);
		assert_false(mpq_cc_in_slow_start(s.cc));
		assert_false(mpq_cc_in_css(s.cc));
		/* Congestion avoidance: far less than a window per round. */
		assert_true(round_of(&s, 8, 120 * MS) < 8 * MDS / MPQ_HYSTART_CSS_GROWTH_DIVISOR);
	}
}

static void off_or_after_a_loss_plain_slow_start(void **state)
{
	(void)state;
	for (size_t i = 0; i < NALL; i++) {
		struct sender s;

		start(&s, all[i]);
		mpq_cc_set_hystart(s.cc, false);
		rise(&s, 100 * MS, 100 * MS, MPQ_HYSTART_N_RTT_SAMPLE);
		assert_false(mpq_cc_in_css(s.cc));
		assert_int_equal(round_of(&s, 8, 200 * MS), 8 * MDS);

		/* Only the first slow start: after a loss and persistent congestion
		 * slow start runs to the ssthresh the loss set. */
		start(&s, all[i]);
		round_of(&s, 8, 100 * MS);
		mpq_cc_on_congestion_event(s.cc, s.ts, s.ts);
		mpq_cc_on_persistent_congestion(s.cc, s.ts);
		s.ts += MS;
		round_of(&s, 8, 100 * MS);
		round_of(&s, 8, 200 * MS);
		assert_false(mpq_cc_in_css(s.cc));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rtt_increase_enters_css),
		cmocka_unit_test(no_exit_without_n_rtt_samples),
		cmocka_unit_test(rtt_drop_returns_to_slow_start),
		cmocka_unit_test(css_rounds_end_slow_start),
		cmocka_unit_test(off_or_after_a_loss_plain_slow_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
