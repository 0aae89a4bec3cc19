/*
 * Congestion controllers driven with synthetic sent/acked/lost events and
 * timestamps: slow start, recovery periods, congestion avoidance, CUBIC's
 * curve, persistent congestion, app-limited, undo, lookup and groups.
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
#define SEC 1000000000ULL

static const char *const both[] = {"newreno", "cubic"};

static mpq_cc *start(mpq_cc_any *any, const char *name, uint32_t iw_packets, uint64_t ts)
{
	const struct mpq_cc_ops *ops = mpq_cc_find(name);

	assert_non_null(ops);
	assert_int_equal(mpq_cc_init(any, ops, MDS, iw_packets, ts), 0);
	return &any->cc;
}

static mpq_rtt rtt_of(uint64_t srtt)
{
	mpq_rtt r;

	mpq_rtt_init(&r, srtt);
	return r;
}

/* One round trip of acks: every packet of the current window, sent during
 * [ts - rtt, ts), is acknowledged one rtt later. Returns the round's end. */
static uint64_t ack_round(mpq_cc *cc, uint64_t ts, uint64_t rtt)
{
	mpq_rtt r = rtt_of(rtt);
	uint64_t n = mpq_cc_cwnd(cc) / MDS;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t at = ts + i * rtt / n;
		mpq_cc_on_packets_acked(cc, MDS, at - rtt, &r, at);
	}
	return ts + rtt;
}

/* An ack clock: one datagram acked at a time, acks arriving at cwnd per rtt,
 * each for a packet sent one rtt earlier. Acks from |ts| until |until|;
 * returns the time of the next ack. */
static uint64_t drive(mpq_cc *cc, uint64_t ts, uint64_t until, uint64_t rtt)
{
	mpq_rtt r = rtt_of(rtt);

	while (ts < until) {
		mpq_cc_on_packets_acked(cc, MDS, ts - rtt, &r, ts);
		/* A runaway window fails here instead of stalling the clock. */
		assert_true(mpq_cc_cwnd(cc) < rtt * MDS / 1000);
		ts += rtt * MDS / mpq_cc_cwnd(cc);
	}
	return ts;
}

static void find_by_name(void **state)
{
	(void)state;
	assert_ptr_equal(mpq_cc_find("newreno"), &mpq_cc_newreno_ops);
	assert_ptr_equal(mpq_cc_find("reno"), &mpq_cc_newreno_ops);
	assert_ptr_equal(mpq_cc_find("cubic"), &mpq_cc_cubic_ops);
	assert_string_equal(mpq_cc_find("reno")->name, "newreno");
	assert_string_equal(mpq_cc_find("cubic")->name, "cubic");
	assert_null(mpq_cc_find("bbr"));
	assert_null(mpq_cc_find("Cubic"));
	assert_null(mpq_cc_find(""));
	assert_null(mpq_cc_find(NULL));
}

static void initial_window(void **state)
{
	(void)state;
	for (size_t a = 0; a < 2; a++) {
		const struct mpq_cc_ops *ops = mpq_cc_find(both[a]);
		mpq_cc_any any;

		assert_int_equal(mpq_cc_init(&any, ops, 1200, 0, 0), 0);
		assert_int_equal(mpq_cc_cwnd(&any.cc), 12000); /* 10 * 1200 */
		assert_int_equal(mpq_cc_ssthresh(&any.cc), UINT64_MAX);
		assert_true(mpq_cc_in_slow_start(&any.cc));
		assert_false(mpq_cc_in_recovery(&any.cc));
		assert_false(mpq_cc_app_limited(&any.cc));
		assert_null(any.cc.group);
		assert_int_equal(mpq_cc_init(&any, ops, 1500, 0, 0), 0);
		assert_int_equal(mpq_cc_cwnd(&any.cc), 14720); /* capped */
		assert_int_equal(mpq_cc_init(&any, ops, 9000, 0, 0), 0);
		assert_int_equal(mpq_cc_cwnd(&any.cc), 18000); /* 2 * mds above the cap */
		assert_int_equal(mpq_cc_init(&any, ops, 1200, 4, 0), 0); /* -c 4 */
		assert_int_equal(mpq_cc_cwnd(&any.cc), 4800);
		assert_int_equal(mpq_cc_init(&any, ops, 1200, 100, 0), 0);
		assert_int_equal(mpq_cc_cwnd(&any.cc), 120000);
		assert_int_equal(mpq_cc_init(&any, ops, 1200, 1, 0), 0); /* minimum window */
		assert_int_equal(mpq_cc_cwnd(&any.cc), 2400);
		assert_int_equal(mpq_cc_init(&any, ops, 0, 0, 0), MPQ_ERR_INVALID_ARGUMENT);
		assert_int_equal(mpq_cc_init(&any, ops, UINT64_MAX / 2, 0, 0),
				 MPQ_ERR_INVALID_ARGUMENT);
	}
	mpq_cc_any any;
	assert_int_equal(mpq_cc_init(&any, NULL, 1200, 0, 0), MPQ_ERR_INVALID_ARGUMENT);
}

static void slow_start_doubles_per_rtt(void **state)
{
	(void)state;
	for (size_t a = 0; a < 2; a++) {
		mpq_cc_any any;
		mpq_cc *cc = start(&any, both[a], 0, 0);
		uint64_t ts = 100 * MS;

		mpq_cc_on_packet_sent(cc, MDS, 0); /* optional op: fine either way */
		for (uint64_t want = 24000; want <= 384000; want *= 2) {
			ts = ack_round(cc, ts, 100 * MS);
			assert_int_equal(mpq_cc_cwnd(cc), want);
			assert_true(mpq_cc_in_slow_start(cc));
		}
	}
}

/* Grows to 48000 in slow start, then loses a packet sent at 250 ms at 300 ms. */
static mpq_cc *grown_then_lost(mpq_cc_any *any, const char *name)
{
	mpq_cc *cc = start(any, name, 0, 0);
	uint64_t ts = ack_round(cc, 100 * MS, 100 * MS);

	ts = ack_round(cc, ts, 100 * MS);
	assert_int_equal(ts, 300 * MS);
	assert_int_equal(mpq_cc_cwnd(cc), 48000);
	mpq_cc_on_congestion_event(cc, 250 * MS, 300 * MS);
	return cc;
}

static void one_reduction_per_recovery_period(void **state)
{
	(void)state;
	static const uint64_t after_one[] = {24000, 33600}; /* 0.5, 0.7 of 48000 */
	static const uint64_t factor_pct[] = {50, 70};
	mpq_rtt r = rtt_of(100 * MS);

	for (size_t a = 0; a < 2; a++) {
		mpq_cc_any any;
		mpq_cc *cc = grown_then_lost(&any, both[a]);

		assert_int_equal(mpq_cc_cwnd(cc), after_one[a]);
		assert_int_equal(mpq_cc_ssthresh(cc), after_one[a]);
		assert_true(mpq_cc_in_recovery(cc));
		assert_false(mpq_cc_in_slow_start(cc));

		/* More losses from before the period, or sent right at its start. */
		mpq_cc_on_congestion_event(cc, 260 * MS, 310 * MS);
		mpq_cc_on_congestion_event(cc, 299 * MS, 320 * MS);
		mpq_cc_on_congestion_event(cc, 300 * MS, 330 * MS);
		assert_int_equal(mpq_cc_cwnd(cc), after_one[a]);
		assert_int_equal(mpq_cc_ssthresh(cc), after_one[a]);

		/* Acks for packets sent before recovery began: no growth. */
		for (int i = 0; i < 40; i++)
			mpq_cc_on_packets_acked(cc, MDS, 299 * MS, &r, 340 * MS);
		mpq_cc_on_packets_acked(cc, MDS, 300 * MS, &r, 341 * MS);
		assert_int_equal(mpq_cc_cwnd(cc), after_one[a]);
		assert_true(mpq_cc_in_recovery(cc));

		/* A packet sent during recovery is acked: the period is over. */
		mpq_cc_on_packets_acked(cc, MDS, 301 * MS, &r, 401 * MS);
		assert_false(mpq_cc_in_recovery(cc));
		uint64_t grown = mpq_cc_cwnd(cc);
		assert_true(grown >= after_one[a] && grown < after_one[a] + MDS);

		/* A loss from before the old period still changes nothing... */
		mpq_cc_on_congestion_event(cc, 290 * MS, 402 * MS);
		assert_int_equal(mpq_cc_cwnd(cc), grown);
		/* ...one sent after it starts a new period. */
		mpq_cc_on_congestion_event(cc, 301 * MS, 403 * MS);
		assert_int_equal(mpq_cc_cwnd(cc), grown * factor_pct[a] / 100);
		assert_true(mpq_cc_in_recovery(cc));
		assert_int_equal(any.cc.recovery_start, 403 * MS);
	}
}

static void newreno_congestion_avoidance_one_mds_per_rtt(void **state)
{
	(void)state;
	mpq_cc_any any;
	mpq_cc *cc = grown_then_lost(&any, "reno");
	uint64_t ts = 401 * MS; /* acks of packets sent after the loss */

	for (int round = 1; round <= 20; round++) {
		uint64_t before = mpq_cc_cwnd(cc);
		mpq_rtt r = rtt_of(100 * MS);

		/* All but the last datagram of the window: nothing yet. */
		for (uint64_t i = 0; i + 1 < before / MDS; i++)
			mpq_cc_on_packets_acked(cc, MDS, ts - 100 * MS, &r, ts);
		assert_int_equal(mpq_cc_cwnd(cc), before);
		mpq_cc_on_packets_acked(cc, MDS, ts - 100 * MS, &r, ts);
		assert_int_equal(mpq_cc_cwnd(cc), before + MDS);
		assert_int_equal(mpq_cc_cwnd(cc), 24000 + round * MDS);
		ts += 100 * MS;
	}
	/* Byte counting: one big ACK of two windows is worth two datagrams. */
	uint64_t before = mpq_cc_cwnd(cc);
	mpq_rtt r = rtt_of(100 * MS);
	mpq_cc_on_packets_acked(cc, 2 * before + MDS, ts - 100 * MS, &r, ts);
	assert_int_equal(mpq_cc_cwnd(cc), before + 2 * MDS);
}

static void persistent_congestion_collapses(void **state)
{
	(void)state;
	static const uint64_t reduced[] = {24000, 33600};
	static const uint64_t floor_or_07[] = {2 * MDS, 3 * MDS * 7 / 10};
	mpq_rtt r = rtt_of(100 * MS);

	for (size_t a = 0; a < 2; a++) {
		mpq_cc_any any;
		mpq_cc *cc = grown_then_lost(&any, both[a]);

		mpq_cc_on_persistent_congestion(cc, 300 * MS);
		assert_int_equal(mpq_cc_cwnd(cc), 2 * MDS);
		assert_int_equal(mpq_cc_ssthresh(cc), reduced[a]);
		assert_false(mpq_cc_in_recovery(cc));
		assert_true(mpq_cc_in_slow_start(cc));
		/* Nothing to undo after persistent congestion. */
		assert_int_equal(mpq_cc_on_spurious_congestion(cc, 310 * MS), MPQ_ERR_NOT_FOUND);
		/* The recovery period is gone: any ack grows the window again. */
		mpq_cc_on_packets_acked(cc, MDS, 290 * MS, &r, 320 * MS);
		assert_int_equal(mpq_cc_cwnd(cc), 3 * MDS);
		/* Never below the minimum window (NewReno: 1800 -> 2400). */
		mpq_cc_on_congestion_event(cc, 330 * MS, 400 * MS);
		assert_int_equal(mpq_cc_cwnd(cc), floor_or_07[a]);
		mpq_cc_on_packets_acked(cc, MDS, 401 * MS, &r, 500 * MS);
		mpq_cc_on_congestion_event(cc, 401 * MS, 501 * MS);
		assert_int_equal(mpq_cc_cwnd(cc), 2 * MDS);
		mpq_cc_on_persistent_congestion(cc, 400 * MS);
		assert_int_equal(mpq_cc_cwnd(cc), 2 * MDS);
	}
}

static void app_limited_blocks_growth(void **state)
{
	(void)state;
	mpq_rtt r = rtt_of(100 * MS);

	for (size_t a = 0; a < 2; a++) {
		mpq_cc_any any;
		mpq_cc *cc = start(&any, both[a], 0, 0);

		/* Slow start. */
		mpq_cc_set_app_limited(cc, true);
		assert_true(mpq_cc_app_limited(cc));
		ack_round(cc, 100 * MS, 100 * MS);
		assert_int_equal(mpq_cc_cwnd(cc), 12000);
		mpq_cc_set_app_limited(cc, false);
		ack_round(cc, 200 * MS, 100 * MS);
		assert_int_equal(mpq_cc_cwnd(cc), 24000);

		/* Congestion avoidance; an app-limited ack still ends recovery. */
		mpq_cc_on_congestion_event(cc, 250 * MS, 300 * MS);
		uint64_t reduced = mpq_cc_cwnd(cc);
		mpq_cc_set_app_limited(cc, true);
		mpq_cc_on_packets_acked(cc, MDS, 350 * MS, &r, 450 * MS);
		assert_false(mpq_cc_in_recovery(cc));
		uint64_t ts = drive(cc, 451 * MS, 5 * SEC, 100 * MS);
		assert_int_equal(mpq_cc_cwnd(cc), reduced);
		mpq_cc_set_app_limited(cc, false);
		drive(cc, ts, ts + SEC, 100 * MS);
		assert_true(mpq_cc_cwnd(cc) > reduced);
	}
}

static void spurious_loss_is_undone(void **state)
{
	(void)state;
	mpq_rtt r = rtt_of(100 * MS);

	for (size_t a = 0; a < 2; a++) {
		mpq_cc_any any;
		mpq_cc *cc = start(&any, both[a], 0, 0);

		/* Nothing to undo yet. */
		assert_int_equal(mpq_cc_on_spurious_congestion(cc, 0), MPQ_ERR_NOT_FOUND);
		cc = grown_then_lost(&any, both[a]);
		assert_int_equal(mpq_cc_on_spurious_congestion(cc, 320 * MS), 0);
		assert_int_equal(mpq_cc_cwnd(cc), 48000);
		assert_int_equal(mpq_cc_ssthresh(cc), UINT64_MAX);
		assert_false(mpq_cc_in_recovery(cc));
		assert_int_equal(mpq_cc_on_spurious_congestion(cc, 330 * MS), MPQ_ERR_NOT_FOUND);
		/* Slow start goes on, and the undone period no longer shields. */
		mpq_cc_on_packets_acked(cc, MDS, 299 * MS, &r, 340 * MS);
		assert_int_equal(mpq_cc_cwnd(cc), 48000 + MDS);
		mpq_cc_on_congestion_event(cc, 301 * MS, 350 * MS);
		assert_true(mpq_cc_cwnd(cc) < 48000);
	}
	/* CUBIC restores its curve too. */
	mpq_cc_any any;
	mpq_cc *cc = grown_then_lost(&any, "cubic");
	assert_int_equal(any.cubic.v.w_max, 48000);
	mpq_cc_on_spurious_congestion(cc, 320 * MS);
	assert_int_equal(any.cubic.v.w_max, 0);
	assert_int_equal(any.cubic.v.epoch_start, MPQ_CC_NO_TIME);
}

/* W_cubic(t) in bytes, straight from RFC 9438 Figure 1. */
static double w_cubic(double t, double k, double w_max)
{
	return 0.4 * MDS * (t - k) * (t - k) * (t - k) + w_max;
}

/*
 * W_max = 288 datagrams; the reduction to 0.7 * W_max gives
 * K = cbrt(0.3 * 345600 / (0.4 * 1200)) = cbrt(216) = 6 s exactly.
 */
static mpq_cc *cubic_after_loss(mpq_cc_any *any, uint64_t *epoch)
{
	mpq_cc *cc = start(any, "cubic", 288, 0);
	mpq_rtt r = rtt_of(100 * MS);

	mpq_cc_on_congestion_event(cc, 50 * MS, 100 * MS);
	assert_int_equal(mpq_cc_cwnd(cc), 241920);
	assert_int_equal(any->cubic.v.w_max, 345600);
	/* First ack of a packet sent after the loss starts the epoch. */
	*epoch = 300 * MS;
	mpq_cc_on_packets_acked(cc, MDS, *epoch - 100 * MS, &r, *epoch);
	assert_int_equal(any->cubic.v.epoch_start, *epoch);
	assert_true(any->cubic.v.k > 6 - 1e-9 && any->cubic.v.k < 6 + 1e-9);
	return cc;
}

static void cubic_follows_w_cubic(void **state)
{
	(void)state;
	mpq_cc_any any;
	uint64_t epoch;
	mpq_cc *cc = cubic_after_loss(&any, &epoch);
	uint64_t ts = epoch + 1;
	double prev = 0, prev_step = 0;

	for (int half = 1; half <= 20; half++) {
		double t = half * 0.5;

		ts = drive(cc, ts, epoch + (uint64_t)(t * SEC), 100 * MS);
		double want = w_cubic(t, 6, 345600);
		double got = (double)mpq_cc_cwnd(cc);
		/* Within 0.1% of the curve (it runs ~0.03% off: the lag of
		 * chasing W_cubic(t + srtt) one ack at a time). */
		assert_true(got > want * 0.999 && got < want * 1.001);
		/* Never the Reno-friendly estimate here: it stays far below. */
		assert_true(any.cubic.v.w_est < want - 10 * MDS);
		/* Concave below W_max, steps shrinking; convex above, growing. */
		double step = got - prev;
		if (half >= 2 && t <= 5.5) {
			assert_true(got < 345600);
			assert_true(step < prev_step);
		}
		if (t >= 7.5) {
			assert_true(got > 345600);
			assert_true(step > prev_step);
		}
		prev = got;
		prev_step = step;
	}
}

static void cubic_per_ack_step(void **state)
{
	(void)state;
	mpq_cc_any any;
	uint64_t epoch;
	mpq_cc *cc = cubic_after_loss(&any, &epoch);
	mpq_rtt r = rtt_of(100 * MS);

	/* One ack of 10 datagrams at t = 2 s: cwnd moves (target - cwnd) *
	 * acked / cwnd towards target = W_cubic(t + srtt). */
	double cwnd = (double)mpq_cc_cwnd(cc);
	double target = w_cubic(2.1, 6, 345600);
	double want = cwnd + (target - cwnd) * 10 * MDS / cwnd;
	mpq_cc_on_packets_acked(cc, 10 * MDS, epoch + SEC, &r, epoch + 2 * SEC);
	assert_true((double)mpq_cc_cwnd(cc) > want - 1.5 && (double)mpq_cc_cwnd(cc) < want + 1.5);

	/* Far past K the target is capped at 1.5 * cwnd. */
	cwnd = (double)mpq_cc_cwnd(cc);
	want = cwnd + 0.5 * cwnd * MDS / cwnd;
	mpq_cc_on_packets_acked(cc, MDS, epoch + 99 * SEC, &r, epoch + 100 * SEC);
	assert_true((double)mpq_cc_cwnd(cc) > want - 1.5 && (double)mpq_cc_cwnd(cc) < want + 1.5);
}

static void cubic_reno_friendly_region(void **state)
{
	(void)state;
	mpq_cc_any any;
	mpq_cc *cc = start(&any, "cubic", 36, 0);
	mpq_rtt r = rtt_of(10 * MS);

	/* W_max = 43200, cwnd 30240, K = 3 s. With a 10 ms RTT, Reno (alpha =
	 * 3 * 0.3 / 1.7 datagrams per RTT) outgrows the flat start of the curve. */
	mpq_cc_on_congestion_event(cc, 0, 1 * MS);
	assert_int_equal(mpq_cc_cwnd(cc), 30240);
	uint64_t ts = 20 * MS;
	mpq_cc_on_packets_acked(cc, MDS, ts - 10 * MS, &r, ts);
	assert_true(any.cubic.v.k > 3 - 1e-9 && any.cubic.v.k < 3 + 1e-9);
	ts += 10 * MS;
	for (int round = 0; round < 5; round++) {
		uint64_t before = mpq_cc_cwnd(cc);
		ts = ack_round(cc, ts, 10 * MS);
		double step = (double)(mpq_cc_cwnd(cc) - before);
		/* alpha * mds = 635 bytes a round, within rounding. */
		assert_true(step > 0.529 * MDS - 30 && step < 0.529 * MDS + 30);
		double t = (double)(ts - any.cubic.v.epoch_start) / SEC;
		assert_true((double)mpq_cc_cwnd(cc) > w_cubic(t, 3, 43200));
	}
	/* Once W_est reaches cwnd_prior (43200), alpha becomes 1. */
	while (mpq_cc_cwnd(cc) < 44000)
		ts = ack_round(cc, ts, 10 * MS);
	uint64_t before = mpq_cc_cwnd(cc);
	ts = ack_round(cc, ts, 10 * MS);
	double step = (double)(mpq_cc_cwnd(cc) - before);
	assert_true(step > MDS - 30 && step < MDS + 30);
}

static void cubic_fast_convergence(void **state)
{
	(void)state;
	mpq_rtt r = rtt_of(100 * MS);
	mpq_cc_any any;
	mpq_cc *cc = grown_then_lost(&any, "cubic");

	assert_int_equal(any.cubic.v.w_max, 48000);
	assert_int_equal(any.cubic.v.cwnd_prior, 48000);
	/* Lost again below W_max: W_max = cwnd * (1 + 0.7) / 2. */
	mpq_cc_on_packets_acked(cc, MDS, 301 * MS, &r, 401 * MS);
	uint64_t cwnd = mpq_cc_cwnd(cc);
	mpq_cc_on_congestion_event(cc, 301 * MS, 402 * MS);
	assert_int_equal(any.cubic.v.w_max, cwnd * 17 / 20);
	assert_int_equal(mpq_cc_cwnd(cc), cwnd * 7 / 10);
	/* Lost above W_max: W_max = cwnd. */
	uint64_t ts = drive(cc, 600 * MS, 20 * SEC, 100 * MS);
	cwnd = mpq_cc_cwnd(cc);
	assert_true(cwnd > any.cubic.v.w_max);
	mpq_cc_on_congestion_event(cc, ts - 100 * MS, ts);
	assert_int_equal(any.cubic.v.w_max, cwnd);
	assert_int_equal(mpq_cc_cwnd(cc), cwnd * 7 / 10);
}

static void cubic_after_persistent_congestion(void **state)
{
	(void)state;
	mpq_cc_any any;
	mpq_cc *cc = grown_then_lost(&any, "cubic");

	mpq_cc_on_persistent_congestion(cc, 300 * MS);
	/* Slow start back to ssthresh, then a stage with K = 0 and W_max =
	 * cwnd at its start (RFC 9438 §4.8). */
	mpq_rtt r = rtt_of(100 * MS);
	uint64_t ts = 400 * MS;
	while (mpq_cc_in_slow_start(cc)) {
		mpq_cc_on_packets_acked(cc, MDS, ts - 100 * MS, &r, ts);
		ts += 10 * MS;
	}
	assert_int_equal(any.cubic.v.epoch_start, MPQ_CC_NO_TIME);
	uint64_t cwnd_epoch = mpq_cc_cwnd(cc);
	mpq_cc_on_packets_acked(cc, MDS, ts - 100 * MS, &r, ts);
	assert_int_equal(any.cubic.v.epoch_start, ts);
	assert_true(any.cubic.v.k == 0);
	assert_int_equal(any.cubic.v.w_max, cwnd_epoch);
	/* Convex from the start. */
	drive(cc, ts + 1, ts + 2 * SEC, 100 * MS);
	assert_true(mpq_cc_cwnd(cc) > cwnd_epoch);
}

static void cubic_app_limited_time_is_not_counted(void **state)
{
	(void)state;
	mpq_cc_any a, b;
	uint64_t epoch_a, epoch_b;
	mpq_cc *ca = cubic_after_loss(&a, &epoch_a);
	mpq_cc *cb = cubic_after_loss(&b, &epoch_b);
	mpq_rtt r = rtt_of(100 * MS);

	uint64_t ta = drive(ca, epoch_a + 1, epoch_a + 2 * SEC, 100 * MS);
	uint64_t tb = drive(cb, epoch_b + 1, epoch_b + 2 * SEC, 100 * MS);
	assert_int_equal(ta, tb);
	assert_int_equal(mpq_cc_cwnd(ca), mpq_cc_cwnd(cb));

	/* b pauses for 5 s: sends and acks while app-limited grow nothing. */
	uint64_t frozen = mpq_cc_cwnd(cb);
	mpq_cc_set_app_limited(cb, true);
	mpq_cc_on_packet_sent(cb, MDS, tb);
	mpq_cc_on_packets_acked(cb, MDS, tb + SEC, &r, tb + 2 * SEC);
	mpq_cc_on_packet_sent(cb, MDS, tb + 3 * SEC);
	assert_int_equal(mpq_cc_cwnd(cb), frozen);
	mpq_cc_set_app_limited(cb, false);
	mpq_cc_on_packet_sent(cb, MDS, tb + 5 * SEC);
	assert_int_equal(b.cubic.v.epoch_start, epoch_b + 5 * SEC);

	/* b resumes where a is, 5 s later, as if the pause had not happened. */
	ta = drive(ca, ta, ta + 3 * SEC, 100 * MS);
	tb = drive(cb, tb + 5 * SEC, tb + 8 * SEC, 100 * MS);
	assert_int_equal(tb, ta + 5 * SEC);
	assert_int_equal(mpq_cc_cwnd(cb), mpq_cc_cwnd(ca));
}

static void group_of_paths(void **state)
{
	(void)state;
	mpq_cc_group g = {0};
	mpq_cc_any paths[MPQ_CC_GROUP_MAX + 1];
	mpq_cc_any other;
	mpq_cc *c[MPQ_CC_GROUP_MAX + 1];

	for (size_t i = 0; i <= MPQ_CC_GROUP_MAX; i++)
		c[i] = start(&paths[i], "newreno", (uint32_t)(10 + i), 0);
	assert_int_equal(mpq_cc_group_add(&g, c[0]), 0);
	assert_int_equal(mpq_cc_group_add(&g, c[1]), 0);
	assert_int_equal(mpq_cc_group_add(&g, c[1]), 0); /* idempotent */
	assert_int_equal(g.count, 2);
	assert_ptr_equal(c[0]->group, &g);

	/* One algorithm per group; one group per controller. */
	mpq_cc *cu = start(&other, "cubic", 0, 0);
	assert_int_equal(mpq_cc_group_add(&g, cu), MPQ_ERR_INVALID_ARGUMENT);
	mpq_cc_group h = {0};
	assert_int_equal(mpq_cc_group_add(&h, c[0]), MPQ_ERR_INVALID_ARGUMENT);

	/* What a coupled controller reads of its siblings: cwnd and srtt. */
	mpq_rtt r1 = rtt_of(20 * MS), r2 = rtt_of(80 * MS);
	mpq_cc_on_packets_acked(c[0], MDS, 0, &r1, 20 * MS);
	mpq_cc_on_packets_acked(c[1], MDS, 0, &r2, 80 * MS);
	uint64_t total = 0;
	for (size_t i = 0; i < g.count; i++)
		total += mpq_cc_cwnd(g.members[i]);
	assert_int_equal(total, 11 * MDS + 12 * MDS);
	assert_int_equal(g.members[0]->srtt, 20 * MS);
	assert_int_equal(g.members[1]->srtt, 80 * MS);

	for (size_t i = 2; i < MPQ_CC_GROUP_MAX; i++)
		assert_int_equal(mpq_cc_group_add(&g, c[i]), 0);
	assert_int_equal(mpq_cc_group_add(&g, c[MPQ_CC_GROUP_MAX]), MPQ_ERR_NOBUF);
	assert_null(c[MPQ_CC_GROUP_MAX]->group);

	assert_int_equal(mpq_cc_group_remove(&g, c[0]), 0);
	assert_null(c[0]->group);
	assert_int_equal(mpq_cc_group_remove(&g, c[0]), MPQ_ERR_NOT_FOUND);
	assert_int_equal(g.count, MPQ_CC_GROUP_MAX - 1);
	for (size_t i = 0; i < g.count; i++)
		assert_ptr_not_equal(g.members[i], c[0]);
	assert_int_equal(mpq_cc_group_add(&g, c[MPQ_CC_GROUP_MAX]), 0);
	assert_int_equal(mpq_cc_group_add(&h, c[0]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(find_by_name),
		cmocka_unit_test(initial_window),
		cmocka_unit_test(slow_start_doubles_per_rtt),
		cmocka_unit_test(one_reduction_per_recovery_period),
		cmocka_unit_test(newreno_congestion_avoidance_one_mds_per_rtt),
		cmocka_unit_test(persistent_congestion_collapses),
		cmocka_unit_test(app_limited_blocks_growth),
		cmocka_unit_test(spurious_loss_is_undone),
		cmocka_unit_test(cubic_follows_w_cubic),
		cmocka_unit_test(cubic_per_ack_step),
		cmocka_unit_test(cubic_reno_friendly_region),
		cmocka_unit_test(cubic_fast_convergence),
		cmocka_unit_test(cubic_after_persistent_congestion),
		cmocka_unit_test(cubic_app_limited_time_is_not_counted),
		cmocka_unit_test(group_of_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
