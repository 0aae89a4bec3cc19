/*
 * The coupled controllers, LIA (RFC 6356) and OLIA (Khalili et al.), with
 * two or three controllers in a group driven by synthetic acks, losses and
 * RTTs: alpha against hand computations, the aggregate increase against one
 * Reno flow, the shift of window towards the less lossy path, a path alone
 * against NewReno step for step, losses confined to the path that lost.
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

static const char *const coupled[] = {"lia", "olia"};

static mpq_cc *start(mpq_cc_any *any, const char *name, uint32_t iw_packets)
{
	const struct mpq_cc_ops *ops = mpq_cc_find(name);

	assert_non_null(ops);
	assert_int_equal(mpq_cc_init(any, ops, MDS, iw_packets, 0), 0);
	return &any->cc;
}

static mpq_rtt rtt_of(uint64_t srtt)
{
	mpq_rtt r;

	mpq_rtt_init(&r, srtt);
	return r;
}

static bool near(double got, double want, double tolerance)
{
	return got > want - tolerance && got < want + tolerance;
}

/*
 * A path in |g| in congestion avoidance with a window of |packets| and an RTT
 * of |srtt|: it starts at twice the window, loses a packet at 1 ms (halved,
 * ssthresh = cwnd) and gets an ack of nothing new, which records the RTT. Acks
 * of packets sent after 1 ms then grow it.
 */
static mpq_cc *in_ca(mpq_cc_any *any, const char *name, mpq_cc_group *g, uint32_t packets,
		     uint64_t srtt)
{
	mpq_cc *cc = start(any, name, 2 * packets);
	mpq_rtt r = rtt_of(srtt);

	assert_int_equal(mpq_cc_group_add(g, cc), 0);
	mpq_cc_on_congestion_event(cc, 0, 1 * MS);
	mpq_cc_on_packets_acked(cc, 0, 0, &r, 1 * MS);
	assert_int_equal(mpq_cc_cwnd(cc), packets * MDS);
	assert_false(mpq_cc_in_slow_start(cc));
	assert_int_equal(cc->srtt, srtt);
	return cc;
}

/* One ack of a datagram sent after the losses in_ca() made. */
static void ack_one(mpq_cc *cc, uint64_t srtt, uint64_t ts)
{
	mpq_rtt r = rtt_of(srtt);

	mpq_cc_on_packets_acked(cc, MDS, ts - srtt, &r, ts);
}

/*
 * One round trip on every path of |c| with the same |rtt|: each acks, one
 * datagram at a time, the window it had when the round began, spread over the
 * round; the acks of all paths are interleaved in time order. Returns the
 * round's end.
 */
static uint64_t round_of_acks(mpq_cc *const *c, size_t n, uint64_t ts, uint64_t rtt)
{
	uint64_t count[3], next[3] = {0};

	assert_true(n <= 3);
	for (size_t i = 0; i < n; i++)
		count[i] = mpq_cc_cwnd(c[i]) / MDS;
	for (;;) {
		size_t pick = n;
		uint64_t at = UINT64_MAX;

		for (size_t i = 0; i < n; i++) {
			uint64_t t = ts + next[i] * rtt / count[i];
			if (next[i] < count[i] && t < at) {
				at = t;
				pick = i;
			}
		}
		if (pick == n)
			return ts + rtt;
		ack_one(c[pick], rtt, at);
		next[pick]++;
	}
}

static uint64_t total_cwnd(mpq_cc *const *c, size_t n)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += mpq_cc_cwnd(c[i]);
	return total;
}

static void find_by_name(void **state)
{
	(void)state;
	assert_ptr_equal(mpq_cc_find("lia"), &mpq_cc_lia_ops);
	assert_ptr_equal(mpq_cc_find("olia"), &mpq_cc_olia_ops);
	assert_string_equal(mpq_cc_find("lia")->name, "lia");
	assert_string_equal(mpq_cc_find("olia")->name, "olia");
	assert_null(mpq_cc_find("LIA"));
	assert_null(mpq_cc_find("olia "));
	assert_null(mpq_cc_find("balia"));
	/* The others are still there. */
	assert_ptr_equal(mpq_cc_find("reno"), &mpq_cc_newreno_ops);
	assert_ptr_equal(mpq_cc_find("cubic"), &mpq_cc_cubic_ops);

	/* Both fit the union and start like every controller. */
	for (size_t a = 0; a < 2; a++) {
		mpq_cc_any any;
		mpq_cc *cc = start(&any, coupled[a], 0);

		assert_int_equal(mpq_cc_cwnd(cc), 12000);
		assert_int_equal(mpq_cc_ssthresh(cc), UINT64_MAX);
		assert_null(cc->group);
		assert_true(mpq_cc_lia_alpha(cc) == 1);
		assert_true(mpq_cc_olia_alpha(cc) == 0);
	}
}

/* A small deterministic generator for event scripts. */
static uint64_t next_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/*
 * Drives every controller of |c| with the same pseudo-random script of acks
 * (RTTs of 20-200 ms), losses, persistent congestion, spurious undos and
 * app-limited periods; after each event all of them match c[0]. Returns how
 * many acks grew the window in congestion avoidance.
 */
static int same_script(mpq_cc *const *c, size_t n, uint64_t seed)
{
	uint64_t ts = 100 * MS;
	int grew_in_ca = 0;

	for (int ev = 0; ev < 4000; ev++) {
		uint64_t kind = next_rand(&seed) % 100;
		uint64_t back = (next_rand(&seed) % 150) * MS;
		uint64_t bytes = (1 + next_rand(&seed) % 3) * MDS;
		mpq_rtt r = rtt_of((20 + next_rand(&seed) % 180) * MS);
		bool app_limited = !mpq_cc_app_limited(c[0]);
		int rc = 0;

		ts += (1 + next_rand(&seed) % 20) * MS;
		uint64_t before = mpq_cc_cwnd(c[0]);
		bool in_ca = !mpq_cc_in_slow_start(c[0]);
		for (size_t i = 0; i < n; i++) {
			int got = 0;

			if (kind < 75)
				mpq_cc_on_packets_acked(c[i], bytes, ts - back, &r, ts);
			else if (kind < 88)
				mpq_cc_on_congestion_event(c[i], ts - back, ts);
			else if (kind < 90)
				mpq_cc_on_persistent_congestion(c[i], ts);
			else if (kind < 94)
				got = mpq_cc_on_spurious_congestion(c[i], ts);
			else if (kind < 97)
				mpq_cc_set_app_limited(c[i], app_limited);
			else
				mpq_cc_on_packet_sent(c[i], MDS, ts);
			if (i == 0)
				rc = got;
			assert_int_equal(got, rc);
			assert_int_equal(mpq_cc_cwnd(c[i]), mpq_cc_cwnd(c[0]));
			assert_int_equal(mpq_cc_ssthresh(c[i]), mpq_cc_ssthresh(c[0]));
			assert_int_equal(mpq_cc_in_recovery(c[i]), mpq_cc_in_recovery(c[0]));
		}
		if (kind < 75 && in_ca && mpq_cc_cwnd(c[0]) > before)
			grew_in_ca++;
	}
	return grew_in_ca;
}

static void alone_equals_newreno(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		mpq_cc_any reno, lone[2], one[2], pair[2], idle[2];
		mpq_cc_group g1[2], g2[2];
		mpq_cc *c[7];
		size_t n = 0;

		memset(g1, 0, sizeof(g1));
		memset(g2, 0, sizeof(g2));
		c[n++] = start(&reno, "newreno", 0);
		for (size_t a = 0; a < 2; a++) {
			/* No group at all. */
			c[n++] = start(&lone[a], coupled[a], 0);
			/* A group of one. */
			c[n] = start(&one[a], coupled[a], 0);
			assert_int_equal(mpq_cc_group_add(&g1[a], c[n++]), 0);
			/* A group of two whose other path has no RTT yet: it is
			 * left out of the sums, so this one is alone. */
			c[n] = start(&pair[a], coupled[a], 0);
			assert_int_equal(mpq_cc_group_add(&g2[a], c[n++]), 0);
			mpq_cc *never_acked = start(&idle[a], coupled[a], 20);
			assert_int_equal(mpq_cc_group_add(&g2[a], never_acked), 0);
		}
		/* The script goes through congestion avoidance, not just slow start. */
		assert_true(same_script(c, n, seed) > 20);
		assert_true(mpq_cc_lia_alpha(&pair[0].cc) == 1);
		assert_true(mpq_cc_olia_alpha(&pair[1].cc) == 0);
	}
}

/*
 * Windows 20, 10 and 30 datagrams (24000, 12000, 36000 bytes), RTTs 10, 20
 * and 40 ms. In bytes and ms: cwnd_i / rtt_i = 2400, 600, 900 (sum 3900);
 * cwnd_i / rtt_i^2 = 240, 30, 22.5 (max 240); cwnd_total = 72000, so
 *	alpha = 72000 * 240 / 3900^2 = 1728 / 1521 = 1.13609...
 * and one datagram acked on the second path adds
 *	min(alpha * 1200 * 1200 / 72000, 1200 * 1200 / 12000)
 *	= min(1728 / 1521 * 20, 120) = 22.72... bytes.
 */
static void lia_alpha_by_hand(void **state)
{
	(void)state;
	mpq_cc_group g = {0};
	mpq_cc_any any[4];
	mpq_cc *a = in_ca(&any[0], "lia", &g, 20, 10 * MS);
	mpq_cc *b = in_ca(&any[1], "lia", &g, 10, 20 * MS);
	mpq_cc *c = in_ca(&any[2], "lia", &g, 30, 40 * MS);
	const double alpha = 1728.0 / 1521.0;

	assert_true(near(mpq_cc_lia_alpha(a), alpha, 1e-12));
	assert_true(near(mpq_cc_lia_alpha(b), alpha, 1e-12));
	assert_true(near(mpq_cc_lia_alpha(c), alpha, 1e-12));

	/* A fourth path without an RTT is left out of every sum. */
	mpq_cc *d = start(&any[3], "lia", 100);
	assert_int_equal(mpq_cc_group_add(&g, d), 0);
	assert_int_equal(d->srtt, 0);
	assert_true(near(mpq_cc_lia_alpha(a), alpha, 1e-12));

	ack_one(b, 20 * MS, 100 * MS);
	assert_int_equal(mpq_cc_cwnd(b), 12022);
	assert_true(near(any[1].lia.frac, alpha * 20 - 22, 1e-9));
	assert_int_equal(mpq_cc_cwnd(a), 24000);
	assert_int_equal(mpq_cc_cwnd(c), 36000);
}

/*
 * Windows 10 and 100 datagrams, RTTs 10 and 100 ms: cwnd_i / rtt_i = 1200 and
 * 1200, cwnd_i / rtt_i^2 = 120 and 12, cwnd_total = 132000, so alpha =
 * 132000 * 120 / 2400^2 = 2.75 and alpha * 1200^2 / 132000 = 30 bytes a
 * datagram on either path. That is under Reno's 1200^2 / 12000 = 120 on the
 * short path but over Reno's 1200^2 / 120000 = 12 on the long one, which
 * therefore grows by exactly 12: no faster than Reno alone.
 */
static void lia_capped_at_reno(void **state)
{
	(void)state;
	for (int first_long = 0; first_long < 2; first_long++) {
		mpq_cc_group g = {0};
		mpq_cc_any any[2];
		mpq_cc *s = in_ca(&any[0], "lia", &g, 10, 10 * MS);
		mpq_cc *l = in_ca(&any[1], "lia", &g, 100, 100 * MS);

		assert_true(near(mpq_cc_lia_alpha(s), 2.75, 1e-12));
		/* cwnd plus the fraction carried: 30 may come out a hair under. */
		if (first_long) {
			ack_one(l, 100 * MS, 200 * MS);
			assert_true(near((double)mpq_cc_cwnd(l) + any[1].lia.frac, 120012, 1e-6));
			assert_int_equal(mpq_cc_cwnd(s), 12000);
		} else {
			ack_one(s, 10 * MS, 200 * MS);
			assert_true(near((double)mpq_cc_cwnd(s) + any[0].lia.frac, 12030, 1e-6));
			assert_int_equal(mpq_cc_cwnd(l), 120000);
		}
	}
}

/*
 * Random windows, RTTs and acks on three coupled paths: the growth of each
 * path never exceeds what Reno would add for the same acks, the sum of
 * bytes_acked * mds / cwnd before each ack (to the byte carried over).
 */
static void lia_never_faster_than_reno(void **state)
{
	(void)state;
	uint64_t seed = 7;

	for (int trial = 0; trial < 50; trial++) {
		mpq_cc_group g = {0};
		mpq_cc_any any[3];
		mpq_cc *c[3];
		uint64_t rtt[3], start_cwnd[3];
		double reno[3] = {0};
		uint64_t ts = 500 * MS;

		for (size_t i = 0; i < 3; i++) {
			rtt[i] = (5 + next_rand(&seed) % 300) * MS;
			c[i] = in_ca(&any[i], "lia", &g, (uint32_t)(2 + next_rand(&seed) % 200),
				     rtt[i]);
			start_cwnd[i] = mpq_cc_cwnd(c[i]);
		}
		for (int ev = 0; ev < 3000; ev++) {
			size_t i = next_rand(&seed) % 3;
			uint64_t bytes = (1 + next_rand(&seed) % 4) * MDS;
			mpq_rtt r = rtt_of(rtt[i]);

			reno[i] += (double)bytes * MDS / (double)mpq_cc_cwnd(c[i]);
			ts += MS;
			mpq_cc_on_packets_acked(c[i], bytes, ts - rtt[i], &r, ts);
			assert_true((double)(mpq_cc_cwnd(c[i]) - start_cwnd[i]) <= reno[i] + 1e-6);
		}
		/* And it did grow: coupled, not stalled. */
		assert_true(total_cwnd(c, 3) > start_cwnd[0] + start_cwnd[1] + start_cwnd[2]);
	}
}

/*
 * Equal RTTs: alpha = max_i cwnd_i / cwnd_total, so a round trip of acks on
 * all paths (whole datagrams: |acked| of the |total| bytes of window) adds
 * alpha * mds * acked / total (the windows move a little during the round),
 * never more than the one mds a single Reno flow adds. Two uncoupled Reno
 * paths would add two.
 */
static void lia_aggregate_no_more_than_one_reno(void **state)
{
	(void)state;
	static const uint32_t windows[][3] = {
		{20, 20, 0}, {30, 10, 0}, {90, 10, 0}, {10, 20, 30}, {5, 5, 5},
	};

	for (size_t k = 0; k < sizeof(windows) / sizeof(windows[0]); k++) {
		mpq_cc_group g = {0};
		mpq_cc_any any[3];
		mpq_cc *c[3];
		size_t n = 0;
		uint64_t ts = 200 * MS; /* the first acks are of packets sent after the loss */

		for (size_t i = 0; i < 3 && windows[k][i]; i++) {
			c[n] = in_ca(&any[n], "lia", &g, windows[k][i], 100 * MS);
			n++;
		}
		for (int round = 0; round < 20; round++) {
			uint64_t before = total_cwnd(c, n), acked = 0;
			double alpha = mpq_cc_lia_alpha(c[0]);

			for (size_t i = 0; i < n; i++)
				acked += mpq_cc_cwnd(c[i]) / MDS * MDS;
			ts = round_of_acks(c, n, ts, 100 * MS);
			double step = (double)(total_cwnd(c, n) - before);
			assert_true(alpha < 1);
			assert_true(step <= MDS);
			assert_true(near(step, alpha * MDS * (double)acked / (double)before,
					 0.01 * MDS));
		}
	}
	/* One path far larger: close to, and still under, one mds a round. */
	mpq_cc_group g = {0};
	mpq_cc_any any[2];
	mpq_cc *c[2] = {in_ca(&any[0], "lia", &g, 200, 100 * MS),
			in_ca(&any[1], "lia", &g, 2, 100 * MS)};
	uint64_t before = total_cwnd(c, 2);
	round_of_acks(c, 2, 200 * MS, 100 * MS);
	assert_true(total_cwnd(c, 2) - before > MDS * 95 / 100);
	assert_true(total_cwnd(c, 2) - before <= MDS);
}

/*
 * Two paths with the same RTT, one losing a datagram in every 40, the other
 * one in every 320, run for 3000 round trips. Per path, Reno's window goes as
 * 1 / sqrt(p) (a ratio near sqrt(8)); LIA's as 1 / p (near 8), and OLIA
 * sends on the best path. Returns the mean windows over the last 2500 rounds.
 */
static void two_lossy_paths(const char *name, bool grouped, double mean[2])
{
	static const uint64_t loss_every[2] = {40, 320};
	const uint64_t rtt = 100 * MS;
	mpq_cc_group g = {0};
	mpq_cc_any any[2];
	mpq_cc *c[2];
	uint64_t counter[2] = {0, 0};
	uint64_t ts = rtt;
	mpq_rtt r = rtt_of(rtt);

	for (size_t i = 0; i < 2; i++) {
		c[i] = start(&any[i], name, 0);
		mean[i] = 0;
		if (grouped)
			assert_int_equal(mpq_cc_group_add(&g, c[i]), 0);
	}
	for (int round = 0; round < 3000; round++) {
		uint64_t count[2], next[2] = {0, 0};

		for (size_t i = 0; i < 2; i++) {
			count[i] = mpq_cc_cwnd(c[i]) / MDS;
			if (round >= 500)
				mean[i] += (double)mpq_cc_cwnd(c[i]) / MDS / 2500;
		}
		for (;;) {
			uint64_t t0 = ts + next[0] * rtt / count[0];
			uint64_t t1 = ts + next[1] * rtt / count[1];
			size_t i;

			if (next[0] < count[0] && (next[1] == count[1] || t0 <= t1))
				i = 0;
			else if (next[1] < count[1])
				i = 1;
			else
				break;
			uint64_t at = i == 0 ? t0 : t1;
			next[i]++;
			if (++counter[i] == loss_every[i]) {
				counter[i] = 0;
				mpq_cc_on_congestion_event(c[i], at - rtt, at);
			} else {
				mpq_cc_on_packets_acked(c[i], MDS, at - rtt, &r, at);
			}
		}
		ts += rtt;
	}
}

static void coupled_moves_window_to_less_lossy_path(void **state)
{
	(void)state;
	double reno[2];

	/* Here about 6.2 and 20.4 datagrams; LIA 2.7 and 18.0; OLIA 2.1 and 18.6. */
	two_lossy_paths("newreno", false, reno);
	assert_true(reno[1] / reno[0] > 2 && reno[1] / reno[0] < 4);
	for (size_t a = 0; a < 2; a++) {
		double both[2], alone[2];

		two_lossy_paths(coupled[a], true, both);
		two_lossy_paths(coupled[a], false, alone);
		/* Uncoupled, each is Reno. */
		assert_true(near(alone[0], reno[0], 1e-9) && near(alone[1], reno[1], 1e-9));
		/* Reno splits about as 1 / sqrt(p); coupled, much further. */
		assert_true(both[1] > both[0]);
		assert_true(both[1] / both[0] > 1.5 * (reno[1] / reno[0]));
		/* And in total they take less than two Reno flows. */
		assert_true(both[0] + both[1] < reno[0] + reno[1]);
	}
}

/*
 * An OLIA path in |g| with a window of |packets|, an RTT of |srtt|, |l1|
 * bytes acked between its last two losses and |l2| since: it starts at four
 * times the window, loses, gets l1 bytes acked (sent before that loss, so
 * nothing grows), loses again and gets l2 bytes acked the same way.
 */
static mpq_cc *olia_path(mpq_cc_any *any, mpq_cc_group *g, uint32_t packets, uint64_t srtt,
			 uint64_t l1, uint64_t l2)
{
	mpq_cc *cc = start(any, "olia", 4 * packets);
	mpq_rtt r = rtt_of(srtt);

	assert_int_equal(mpq_cc_group_add(g, cc), 0);
	mpq_cc_on_congestion_event(cc, 0, 1 * MS);
	mpq_cc_on_packets_acked(cc, l1, 0, &r, 2 * MS);
	mpq_cc_on_congestion_event(cc, 2 * MS, 3 * MS);
	mpq_cc_on_packets_acked(cc, l2, 3 * MS, &r, 4 * MS);
	assert_int_equal(mpq_cc_cwnd(cc), packets * MDS);
	assert_int_equal(mpq_cc_ssthresh(cc), packets * MDS);
	assert_int_equal(any->olia.l1r, l1);
	assert_int_equal(any->olia.l2r, l2);
	return cc;
}

struct olia_case {
	uint32_t packets;
	uint64_t rtt_ms, l1, l2;
};

/*
 * |n| OLIA paths as |p| says; for each, alpha_r against |alpha| and, on a
 * fresh copy of the group, the window after one datagram acked on that path
 * against |after| (when not 0).
 */
static void olia_check(const struct olia_case *p, size_t n, const double *alpha,
		       const uint64_t *after)
{
	double sum = 0;

	for (size_t k = 0; k < n; k++) {
		mpq_cc_group g = {0};
		mpq_cc_any any[3];
		mpq_cc *c[3];

		for (size_t i = 0; i < n; i++)
			c[i] = olia_path(&any[i], &g, p[i].packets, p[i].rtt_ms * MS, p[i].l1,
					 p[i].l2);
		assert_true(near(mpq_cc_olia_alpha(c[k]), alpha[k], 1e-12));
		sum += mpq_cc_olia_alpha(c[k]);
		if (!after)
			continue;
		ack_one(c[k], p[k].rtt_ms * MS, 1000 * MS);
		assert_int_equal(mpq_cc_cwnd(c[k]), after[k]);
		for (size_t i = 0; i < n; i++)
			if (i != k)
				assert_int_equal(mpq_cc_cwnd(c[i]), p[i].packets * MDS);
	}
	/* The alphas only move window between paths. */
	assert_true(near(sum, 0, 1e-12));
}

/*
 * Three paths, in packets and ms (MDS 1200):
 *	A: w 20, rtt 100, l = max(100000, 20000) = 100000, l / rtt^2 = 10
 *	B: w 10, rtt 100, l = max(200000, 50000) = 200000, l / rtt^2 = 20
 *	C: w 10, rtt  50, l = max(40000, 10000) = 40000,   l / rtt^2 = 16
 * M = {A}, B = {B}, B\M = {B}, |P| = 3: alpha = -1/3, +1/3, 0.
 * sum_p w_p / rtt_p = 0.2 + 0.1 + 0.2 = 0.5, so a datagram acked adds, in
 * packets, w_r / rtt_r^2 / 0.25 + alpha_r / w_r:
 *	A: 0.002 / 0.25 - 1/60 = -0.008667 -> -10.4 bytes -> 23990 (0.4 owed)
 *	B: 0.001 / 0.25 + 1/30 =  0.037333 -> +44.8 bytes -> 12044
 *	C: 0.004 / 0.25 + 0    =  0.016    -> +19.2 bytes -> 12019
 */
static void olia_alpha_by_hand(void **state)
{
	(void)state;
	static const struct olia_case p[] = {
		{20, 100, 100000, 20000},
		{10, 100, 200000, 50000},
		{10, 50, 40000, 10000},
	};
	static const double alpha[] = {-1.0 / 3, 1.0 / 3, 0};
	static const uint64_t after[] = {23990, 12044, 12019};

	olia_check(p, 3, alpha, after);
}

static void olia_alpha_sets(void **state)
{
	(void)state;
	/* The best path has the largest window: B\M is empty, no alpha. */
	static const struct olia_case best_is_max[] = {
		{20, 100, 300000, 0},
		{10, 100, 200000, 0},
		{10, 50, 40000, 0},
	};
	static const double zero[] = {0, 0, 0};
	/* Two best paths (the same l and rtt) outside M: 1/(3*2) each. C's l2r
	 * is the larger of its two. */
	static const struct olia_case two_best[] = {
		{20, 100, 100000, 20000},
		{10, 100, 200000, 0},
		{10, 100, 0, 200000},
	};
	static const double two_best_alpha[] = {-1.0 / 3, 1.0 / 6, 1.0 / 6};
	/* Two paths share the largest window: -1/(3*2) each. */
	static const struct olia_case two_max[] = {
		{20, 100, 100000, 0},
		{20, 100, 100000, 0},
		{10, 100, 200000, 0},
	};
	static const double two_max_alpha[] = {-1.0 / 6, -1.0 / 6, 1.0 / 3};
	/* Two paths: |P| = 2. Equal windows are all M: no alpha. */
	static const struct olia_case pair[] = {
		{20, 100, 100000, 0},
		{10, 100, 200000, 0},
	};
	static const double pair_alpha[] = {-0.5, 0.5};
	static const struct olia_case equal[] = {
		{10, 100, 100000, 0},
		{10, 100, 200000, 0},
	};
	/* l is the larger of l1r and l2r, here l2r alone. */
	static const struct olia_case fresh[] = {
		{20, 100, 0, 0},
		{10, 10, 0, 24000},
	};

	olia_check(best_is_max, 3, zero, NULL);
	olia_check(two_best, 3, two_best_alpha, NULL);
	olia_check(two_max, 3, two_max_alpha, NULL);
	olia_check(pair, 2, pair_alpha, NULL);
	olia_check(equal, 2, zero, NULL);
	olia_check(fresh, 2, pair_alpha, NULL);
}

/*
 * Equal RTTs: per round the first term adds sum_r w_r^2 / (sum_p w_p)^2 <= 1
 * datagram and the alphas add nothing, so OLIA's aggregate stays within one
 * mds a round too, while window moves from the largest path to the best.
 */
static void olia_aggregate_no_more_than_one_reno(void **state)
{
	(void)state;
	static const struct olia_case cases[][3] = {
		{{30, 100, 100000, 0}, {10, 100, 10000000, 0}, {0, 0, 0, 0}},
		{{20, 100, 100000, 0}, {20, 100, 100000, 0}, {0, 0, 0, 0}},
		{{30, 100, 100000, 0}, {10, 100, 10000000, 0}, {20, 100, 1000, 0}},
		{{10, 100, 100000, 0}, {20, 100, 100000, 0}, {30, 100, 100000, 0}},
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		mpq_cc_group g = {0};
		mpq_cc_any any[3];
		mpq_cc *c[3];
		size_t n = 0;
		uint64_t ts = 200 * MS;

		for (size_t i = 0; i < 3 && cases[k][i].packets; i++) {
			const struct olia_case *p = &cases[k][i];
			c[n] = olia_path(&any[n], &g, p->packets, p->rtt_ms * MS, p->l1, p->l2);
			n++;
		}
		uint64_t start0 = mpq_cc_cwnd(c[0]), start1 = mpq_cc_cwnd(c[1]);
		for (int round = 0; round < 30; round++) {
			uint64_t before = total_cwnd(c, n);

			ts = round_of_acks(c, n, ts, 100 * MS);
			assert_true(total_cwnd(c, n) <= before + MDS);
			assert_true(total_cwnd(c, n) > before);
		}
		/*
		 * First case: M = {0}, B\M = {1}, alpha -1/2 and +1/2. A round
		 * adds 30 * 30 / 40^2 - 1/2 = 0.06 datagrams to the largest
		 * window and 10 * 10 / 40^2 + 1/2 = 0.56 to the best path.
		 */
		int64_t grew0 = (int64_t)mpq_cc_cwnd(c[0]) - (int64_t)start0;
		int64_t grew1 = (int64_t)mpq_cc_cwnd(c[1]) - (int64_t)start1;
		if (k == 0)
			assert_true(grew1 > 5 * grew0 && grew1 > 10 * MDS);
	}
}

/* A loss, persistent congestion or an undo on one path leaves the others be. */
static void loss_halves_only_that_path(void **state)
{
	(void)state;
	for (size_t a = 0; a < 2; a++) {
		mpq_cc_group g = {0};
		mpq_cc_any any[3];
		mpq_cc *c[3];
		uint64_t ts = 500 * MS;

		for (size_t i = 0; i < 3; i++)
			c[i] = in_ca(&any[i], coupled[a], &g, (uint32_t)(20 + 10 * i),
				     (50 + 50 * i) * MS);
		for (int round = 0; round < 5; round++)
			for (size_t i = 0; i < 3; i++)
				ack_one(c[i], (50 + 50 * i) * MS, ts += MS);
		uint64_t cwnd[3], ssthresh[3];
		for (size_t i = 0; i < 3; i++) {
			cwnd[i] = mpq_cc_cwnd(c[i]);
			ssthresh[i] = mpq_cc_ssthresh(c[i]);
			assert_false(mpq_cc_in_recovery(c[i]));
		}
		uint64_t l1 = any[1].olia.l1r, l2 = any[1].olia.l2r, l2_other = any[0].olia.l2r;

		ts += MS;
		mpq_cc_on_congestion_event(c[1], ts - 10 * MS, ts);
		assert_int_equal(mpq_cc_cwnd(c[1]), cwnd[1] / 2);
		assert_int_equal(mpq_cc_ssthresh(c[1]), cwnd[1] / 2);
		assert_true(mpq_cc_in_recovery(c[1]));
		for (size_t i = 0; i < 3; i += 2) {
			assert_int_equal(mpq_cc_cwnd(c[i]), cwnd[i]);
			assert_int_equal(mpq_cc_ssthresh(c[i]), ssthresh[i]);
			assert_false(mpq_cc_in_recovery(c[i]));
		}
		if (a == 1) {
			/* OLIA: the loss moved this path's l2r to l1r only. */
			assert_int_equal(any[1].olia.l1r, l2);
			assert_int_equal(any[1].olia.l2r, 0);
			assert_int_equal(any[0].olia.l2r, l2_other);
		}

		/* A second loss in the same recovery period changes nothing. */
		mpq_cc_on_congestion_event(c[1], ts - 5 * MS, ts + MS);
		assert_int_equal(mpq_cc_cwnd(c[1]), cwnd[1] / 2);

		/* The loss was spurious: all back as it was. */
		assert_int_equal(mpq_cc_on_spurious_congestion(c[1], ts + 2 * MS), 0);
		assert_int_equal(mpq_cc_cwnd(c[1]), cwnd[1]);
		assert_int_equal(mpq_cc_ssthresh(c[1]), ssthresh[1]);
		if (a == 1) {
			assert_int_equal(any[1].olia.l1r, l1);
			assert_int_equal(any[1].olia.l2r, l2);
		}

		/* Persistent congestion collapses that path alone. */
		mpq_cc_on_congestion_event(c[2], ts, ts + 3 * MS);
		mpq_cc_on_persistent_congestion(c[2], ts + 3 * MS);
		assert_int_equal(mpq_cc_cwnd(c[2]), 2 * MDS);
		assert_int_equal(mpq_cc_cwnd(c[0]), cwnd[0]);
		assert_int_equal(mpq_cc_cwnd(c[1]), cwnd[1]);
		/* It slow-starts back while the others stay coupled. */
		ack_one(c[2], 150 * MS, ts + 200 * MS);
		assert_int_equal(mpq_cc_cwnd(c[2]), 3 * MDS);
	}
}

/* Leaving the group (path abandoned) leaves the last path plain NewReno. */
static void last_path_is_newreno(void **state)
{
	(void)state;
	for (size_t a = 0; a < 2; a++) {
		mpq_cc_group g = {0};
		mpq_cc_any any[2];
		mpq_cc *c = in_ca(&any[0], coupled[a], &g, 20, 100 * MS);
		mpq_cc *d = in_ca(&any[1], coupled[a], &g, 10, 100 * MS);
		uint64_t ts = 200 * MS;

		assert_true(a == 0 ? mpq_cc_lia_alpha(c) < 1 : mpq_cc_olia_alpha(c) != 0);
		assert_int_equal(mpq_cc_group_remove(&g, d), 0);
		assert_true(mpq_cc_lia_alpha(c) == 1);
		assert_true(mpq_cc_olia_alpha(c) == 0);
		/* NewReno: nothing until a full window is acked, then one mds. */
		for (int i = 0; i < 19; i++)
			ack_one(c, 100 * MS, ts += MS);
		assert_int_equal(mpq_cc_cwnd(c), 20 * MDS);
		ack_one(c, 100 * MS, ts += MS);
		assert_int_equal(mpq_cc_cwnd(c), 21 * MDS);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(find_by_name),
		cmocka_unit_test(alone_equals_newreno),
		cmocka_unit_test(lia_alpha_by_hand),
		cmocka_unit_test(lia_capped_at_reno),
		cmocka_unit_test(lia_never_faster_than_reno),
		cmocka_unit_test(lia_aggregate_no_more_than_one_reno),
		cmocka_unit_test(coupled_moves_window_to_less_lossy_path),
		cmocka_unit_test(olia_alpha_by_hand),
		cmocka_unit_test(olia_alpha_sets),
		cmocka_unit_test(olia_aggregate_no_more_than_one_reno),
		cmocka_unit_test(loss_halves_only_that_path),
		cmocka_unit_test(last_path_is_newreno),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
