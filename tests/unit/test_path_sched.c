/*
 * Path schedulers on synthetic path arrays: rr's turns, minrtt's choice by
 * smoothed RTT, window room and pacing, paths without RTT samples, BACKUP
 * paths only when no path is AVAILABLE, ecf's wait-or-send rule worked out by hand
 * (boundaries to the byte, hysteresis), redundant's duplicate flag, and
 * lookup by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "quic/sched/path_sched.h"

#define MS 1000000ULL
#define PKT 1200
#define CWND (10 * PKT)

/* A measured AVAILABLE path with an empty window of CWND bytes. */
static mpq_path_info measured(uint32_t id, uint64_t srtt_ms)
{
	return (mpq_path_info){
		.path_id = id,
		.use = MPQ_PATH_USE_AVAILABLE,
		.has_rtt_sample = true,
		.srtt = srtt_ms * MS,
		.rttvar = srtt_ms * MS / 4,
		.min_rtt = srtt_ms * MS,
		.cwnd = CWND,
	};
}

/* An AVAILABLE path with no RTT sample yet (srtt is the initial guess). */
static mpq_path_info unmeasured(uint32_t id)
{
	mpq_path_info p = measured(id, 333);

	p.has_rtt_sample = false;
	return p;
}

/* Leaves less than one packet of room in |p|'s window. */
static void fill(mpq_path_info *p)
{
	p->bytes_in_flight = p->cwnd - PKT + 1;
}

static mpq_path_sched start(const char *name)
{
	mpq_path_sched s;
	const struct mpq_path_sched_ops *ops = mpq_path_sched_find(name);

	assert_non_null(ops);
	mpq_path_sched_init(&s, ops);
	return s;
}

static int pick(mpq_path_sched *s, const mpq_path_info *paths, size_t n, uint64_t queued)
{
	return s->ops->select(s, paths, n, PKT, queued, 7 * MS);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Picks, fills the path picked, and picks again until nothing is left: the
 * picks must be |order| (indices, ending with -1). */
static void assert_fill_order(mpq_path_sched *s, mpq_path_info *p, size_t n, const int *order)
{
	for (size_t i = 0;; i++) {
		int got = pick(s, p, n, 0);

		assert_int_equal(got, order[i]);
		if (got < 0)
			break;
		fill(&p[got]);
	}
}

static void test_find(void **state)
{
	static const char *const names[] = {"rr", "minrtt", "redundant", "backup", "ecf"};

	for (size_t i = 0; i < N(names); i++) {
		const struct mpq_path_sched_ops *ops = mpq_path_sched_find(names[i]);

		assert_non_null(ops);
		assert_string_equal(ops->name, names[i]);
		assert_non_null(ops->select);
		assert_int_equal(ops->duplicate, i == 2);
	}
	assert_ptr_equal(mpq_path_sched_find("mrtt"), &mpq_path_sched_minrtt);
	assert_ptr_equal(mpq_path_sched_find("rr"), &mpq_path_sched_rr);
	assert_ptr_equal(mpq_path_sched_find("ecf"), &mpq_path_sched_ecf);
	assert_null(mpq_path_sched_find("lowrtt"));
	assert_null(mpq_path_sched_find("MinRTT"));
	assert_null(mpq_path_sched_find("rr "));
	assert_null(mpq_path_sched_find(""));
}

static void test_rr_alternates(void **state)
{
	mpq_path_sched s = start("rr");
	mpq_path_info p[] = {measured(0, 10), measured(1, 50), measured(2, 90)};
	static const int want[] = {0, 1, 2, 0, 1, 2, 0};

	/* RTT does not matter; every path takes its turn, path 0 first. */
	for (size_t i = 0; i < N(want); i++)
		assert_int_equal(pick(&s, p, N(p), 0), want[i]);
	assert_int_equal(s.last_path_id, 0);
}

static void test_rr_skips_full_and_none(void **state)
{
	mpq_path_sched s = start("rr");
	mpq_path_info p[] = {measured(0, 10), measured(1, 10), measured(2, 10)};

	fill(&p[0]);
	p[1].use = MPQ_PATH_USE_NONE;
	assert_int_equal(pick(&s, p, N(p), 0), 2);
	assert_int_equal(pick(&s, p, N(p), 0), 2);
	/* Room again on path 0: it comes after 2; path 1 is never picked. */
	p[0].bytes_in_flight = 0;
	assert_int_equal(pick(&s, p, N(p), 0), 0);
	assert_int_equal(pick(&s, p, N(p), 0), 2);
	assert_int_equal(pick(&s, p, N(p), 0), 0);
	/* Exactly a packet of room is room. */
	p[2].bytes_in_flight = CWND - PKT;
	assert_int_equal(pick(&s, p, N(p), 0), 2);
	/* Every AVAILABLE path full: wait. */
	fill(&p[0]);
	fill(&p[2]);
	assert_int_equal(pick(&s, p, N(p), 0), -1);
	assert_int_equal(s.last_path_id, 2);
}

static void test_rr_order_by_path_id(void **state)
{
	mpq_path_sched s = start("rr");
	/* The array order is not the path ID order. */
	mpq_path_info p[] = {measured(7, 10), measured(2, 10), measured(4, 10)};
	mpq_path_info q[] = {measured(4, 10), measured(9, 10)};

	assert_int_equal(pick(&s, p, N(p), 0), 1); /* 2 */
	assert_int_equal(pick(&s, p, N(p), 0), 2); /* 4 */
	assert_int_equal(pick(&s, p, N(p), 0), 0); /* 7 */
	assert_int_equal(pick(&s, p, N(p), 0), 1); /* 2, wrapping */
	/* Path 2, used last, goes away and path 9 comes: 4 is still next. */
	assert_int_equal(pick(&s, q, N(q), 0), 0); /* 4 */
	assert_int_equal(pick(&s, q, N(q), 0), 1); /* 9 */
	assert_int_equal(pick(&s, q, N(q), 0), 0); /* 4, wrapping */
	/* IDs near the top of the range wrap the same way. */
	q[1].path_id = UINT32_MAX;
	assert_int_equal(pick(&s, q, N(q), 0), 1);
	assert_int_equal(pick(&s, q, N(q), 0), 0);
}

static void test_rr_backup(void **state)
{
	mpq_path_sched s = start("rr");
	mpq_path_info p[] = {measured(0, 10), measured(1, 10), measured(2, 10)};

	p[0].use = MPQ_PATH_USE_BACKUP;
	p[2].use = MPQ_PATH_USE_BACKUP;
	/* One AVAILABLE path: the backups stay idle. */
	assert_int_equal(pick(&s, p, N(p), 0), 1);
	assert_int_equal(pick(&s, p, N(p), 0), 1);
	/* Full but AVAILABLE still exists: wait rather than use a backup. */
	fill(&p[1]);
	assert_int_equal(pick(&s, p, N(p), 0), -1);
	/* No AVAILABLE path at all: the backups take turns, full ones skipped. */
	p[1].use = MPQ_PATH_USE_NONE;
	assert_int_equal(pick(&s, p, N(p), 0), 2);
	assert_int_equal(pick(&s, p, N(p), 0), 0);
	assert_int_equal(pick(&s, p, N(p), 0), 2);
	fill(&p[0]);
	assert_int_equal(pick(&s, p, N(p), 0), 2);
	/* Nothing usable. */
	p[0].use = MPQ_PATH_USE_NONE;
	p[2].use = MPQ_PATH_USE_NONE;
	assert_int_equal(pick(&s, p, N(p), 0), -1);
	assert_int_equal(pick(&s, p, 0, 0), -1);
}

static void test_minrtt_lowest_rtt_with_room(void **state)
{
	mpq_path_sched s = start("minrtt");
	mpq_path_info p[] = {measured(0, 50), measured(1, 10), measured(2, 30)};

	/* The fastest while it has room, then the next fastest. */
	assert_int_equal(pick(&s, p, N(p), 0), 1);
	assert_fill_order(&s, p, N(p), (const int[]){1, 2, 0, -1});
	/* An ACK frees the fastest path: back to it. */
	p[1].bytes_in_flight = 0;
	assert_int_equal(pick(&s, p, N(p), 0), 1);
	/* Paths that cannot be used are skipped even when fastest. */
	p[1].use = MPQ_PATH_USE_NONE;
	p[0].bytes_in_flight = 0;
	assert_int_equal(pick(&s, p, N(p), 0), 0);
}

/* A path whose pacer holds it back (pacing_ready after now, pick's 7 ms) is
 * passed over like a full one: minrtt and rr send on a path that may send
 * now rather than nothing (a fast path paced below its window kept the slow
 * one idle); ecf waits for a fast path its pacer alone holds back. */
static void test_paced_path_passed_over(void **state)
{
	mpq_path_info p[] = {measured(0, 10), measured(1, 30)};
	mpq_path_sched s = start("minrtt");

	p[0].pacing_ready = 7 * MS + 1;
	assert_int_equal(pick(&s, p, N(p), 0), 1);
	p[0].pacing_ready = 7 * MS;
	assert_int_equal(pick(&s, p, N(p), 0), 0);
	/* Both paced: nothing now. */
	p[0].pacing_ready = p[1].pacing_ready = 8 * MS;
	assert_int_equal(pick(&s, p, N(p), 0), -1);

	s = start("rr");
	p[0].pacing_ready = p[1].pacing_ready = 0;
	assert_int_equal(pick(&s, p, N(p), 0), 0);
	p[1].pacing_ready = 8 * MS;
	assert_int_equal(pick(&s, p, N(p), 0), 0);
	p[1].pacing_ready = 0;
	assert_int_equal(pick(&s, p, N(p), 0), 1);

	s = start("ecf");
	p[0].pacing_ready = 8 * MS;
	assert_int_equal(pick(&s, p, N(p), 12000), -1);
	fill(&p[0]);
	assert_int_equal(pick(&s, p, N(p), 0), 1);
	(void)state;
}

/* A path whose packets are larger (PMTU discovery) needs room for one of
 * its own, not for the size asked about. */
static void test_room_for_the_paths_own_size(void **state)
{
	mpq_path_sched s = start("minrtt");
	mpq_path_info p[] = {measured(0, 10), measured(1, 30)};

	p[0].max_datagram = 8 * PKT;
	p[0].bytes_in_flight = CWND - 4 * PKT;
	assert_int_equal(pick(&s, p, N(p), 0), 1);
	p[0].bytes_in_flight = CWND - 8 * PKT;
	assert_int_equal(pick(&s, p, N(p), 0), 0);
	(void)state;
}

static void test_minrtt_ties_and_alias(void **state)
{
	mpq_path_sched s = start("mrtt");
	mpq_path_info p[] = {measured(5, 20), measured(3, 20), measured(4, 20)};

	assert_string_equal(s.ops->name, "minrtt");
	/* Equal RTTs: the lowest path ID, wherever it sits in the array. */
	assert_int_equal(pick(&s, p, N(p), 0), 1);
	fill(&p[1]);
	assert_int_equal(pick(&s, p, N(p), 0), 2);
}

static void test_minrtt_unmeasured(void **state)
{
	mpq_path_sched s = start("minrtt");
	mpq_path_info p[] = {unmeasured(2), measured(1, 80), unmeasured(0)};

	/* A measured path beats unknown ones, even with a high RTT... */
	assert_int_equal(pick(&s, p, N(p), 0), 1);
	/* ...and an unknown path's initial srtt guess does not count. */
	p[2].srtt = 1 * MS;
	assert_int_equal(pick(&s, p, N(p), 0), 1);
	/* Once it is full, the unknown paths by ID: 0 (index 2), then 2. */
	assert_fill_order(&s, p, N(p), (const int[]){1, 2, 0, -1});
}

static void test_redundant(void **state)
{
	mpq_path_sched s = start("redundant");
	mpq_path_info p[] = {measured(0, 40), measured(1, 20)};

	assert_true(s.ops->duplicate);
	assert_false(mpq_path_sched_minrtt.duplicate);
	/* The first copy goes where minrtt would send it. */
	assert_fill_order(&s, p, N(p), (const int[]){1, 0, -1});
}

/* BACKUP paths carry data only when no path is AVAILABLE: minrtt, redundant
 * and backup share this rule. */
static void backup_only_without_available(const char *name)
{
	mpq_path_sched s = start(name);
	mpq_path_info p[] = {measured(0, 50), measured(1, 5), measured(2, 8)};

	p[1].use = MPQ_PATH_USE_BACKUP;
	p[2].use = MPQ_PATH_USE_BACKUP;
	/* The AVAILABLE path is slower than both backups and still chosen. */
	assert_int_equal(pick(&s, p, N(p), 0), 0);
	/* Merely congestion limited: wait for it, however much is queued. */
	fill(&p[0]);
	assert_int_equal(pick(&s, p, N(p), 0), -1);
	assert_int_equal(pick(&s, p, N(p), 1 << 30), -1);
	/* Not usable (use NONE): now the fastest backup carries the data. */
	p[0].use = MPQ_PATH_USE_NONE;
	assert_int_equal(pick(&s, p, N(p), 0), 1);
	fill(&p[1]);
	assert_int_equal(pick(&s, p, N(p), 0), 2);
	fill(&p[2]);
	assert_int_equal(pick(&s, p, N(p), 0), -1);
	/* A path becomes AVAILABLE again: it is used, not the backups. */
	p[1].bytes_in_flight = 0;
	p[0].use = MPQ_PATH_USE_AVAILABLE;
	p[0].bytes_in_flight = 0;
	assert_int_equal(pick(&s, p, N(p), 0), 0);
}

static void test_minrtt_backup_only_without_available(void **state)
{
	backup_only_without_available("minrtt");
	backup_only_without_available("redundant");
}

static void test_backup_waits_for_full_available(void **state)
{
	backup_only_without_available("backup");
}

/*
 * ecf's worked example. f: srtt 10 ms, rttvar 1 ms, cwnd 12000, full.
 * s: srtt 100 ms, rttvar 5 ms, cwnd 12000, empty. delta = max(1, 5) = 5 ms.
 *
 * Wait-worthy test, n * 10 < (1 + waiting / 4) * (100 + 5), n = 1 + k / 12000:
 *   waiting = 0: 10 + 10 k / 12000 < 105     <=> k < 114000
 *   waiting = 1: 10 + 10 k / 12000 < 131.25  <=> k < 145500
 * s-too-slow test, (k / 12000) * 100 >= 2 * 10 + 5 = 25  <=> k >= 3000.
 * So: k < 3000 sends on s (s finishes before f's next two rounds); 3000 <= k
 * < 114000 waits; k >= 114000 sends on s, and once waiting, ecf keeps
 * waiting up to k < 145500.
 */
static void ecf_paths(mpq_path_info p[2])
{
	p[0] = measured(0, 100);
	p[0].rttvar = 5 * MS;
	p[1] = measured(1, 10);
	p[1].rttvar = 1 * MS;
	fill(&p[1]);
}

/* One decision: with |queued| bytes waiting, ecf picks |want| and leaves its
 * waiting flag at |waiting|. */
struct ecf_step {
	uint64_t queued;
	int want;
	bool waiting;
};

/* Runs |steps| in order from a fresh ecf on the worked example's paths. */
static void ecf_run(const struct ecf_step *steps, size_t n, bool f_has_room)
{
	mpq_path_sched s = start("ecf");
	mpq_path_info p[2];

	ecf_paths(p);
	if (f_has_room)
		p[1].bytes_in_flight = 0;
	for (size_t i = 0; i < n; i++) {
		int got = pick(&s, p, 2, steps[i].queued);

		if (got != steps[i].want || s.ecf_waiting != steps[i].waiting)
			fail_msg("step %zu, queued %llu: path %d waiting %d, want %d and %d", i,
				 (unsigned long long)steps[i].queued, got, s.ecf_waiting,
				 steps[i].want, steps[i].waiting);
	}
}

static void test_ecf_fast_path_with_room(void **state)
{
	/* f has room: f, whatever the queue; the waiting flag is untouched. */
	static const struct ecf_step steps[] = {
		{0, 1, false},
		{12000, 1, false},
		{240000, 1, false},
		{1ULL << 40, 1, false},
	};

	ecf_run(steps, N(steps), true);
}

static void test_ecf_waits_for_fast_path(void **state)
{
	/* k = 12000: n = 2, 20 ms < 105 ms, and 100 ms >= 25 ms: wait. */
	static const struct ecf_step small[] = {{12000, -1, true}};
	/* The boundary of the s-too-slow test: k = 3000 waits (25 ms >= 25 ms)... */
	static const struct ecf_step edge[] = {{3000, -1, true}};
	/* ...k = 2999 sends on s, as does a single packet; that branch leaves
	 * the waiting flag as it was, set or not. */
	static const struct ecf_step tiny[] = {
		{2999, 0, false},
		{1200, 0, false},
		{12000, -1, true},
		{1200, 0, true},
	};

	mpq_path_sched s = start("ecf");
	mpq_path_info p[2];

	ecf_run(small, N(small), false);
	ecf_run(edge, N(edge), false);
	ecf_run(tiny, N(tiny), false);
	/* f over its window (cwnd cut after a loss) is still the one to wait for. */
	ecf_paths(p);
	p[1].bytes_in_flight = p[1].cwnd + 5000;
	assert_int_equal(pick(&s, p, 2, 12000), -1);
	assert_true(s.ecf_waiting);
}

static void test_ecf_uses_slow_path_for_large_queue(void **state)
{
	/* k = 240000: n = 21, 210 ms >= 105 ms: s. At the boundary without
	 * waiting, k = 114000 gives 105 ms, not < 105: s; k = 113999 waits. */
	static const struct ecf_step steps[] = {
		{240000, 0, false},
		{114000, 0, false},
		{113999, -1, true},
	};
	mpq_path_sched s = start("ecf");
	mpq_path_info p[2];

	ecf_run(steps, N(steps), false);
	/* s full as well: nothing to send on, and no decision made. */
	ecf_paths(p);
	fill(&p[0]);
	assert_int_equal(pick(&s, p, 2, 240000), -1);
	assert_false(s.ecf_waiting);
}

static void test_ecf_hysteresis(void **state)
{
	static const struct ecf_step steps[] = {
		/* Small queue: wait, waiting = 1. */
		{12000, -1, true},
		/* Past the plain boundary (n = 11, 110 ms >= 105 ms) but under
		 * the widened one (110 ms < 131.25 ms): keep waiting. */
		{120000, -1, true},
		{145499, -1, true},
		/* n = 13.125, 131.25 ms, not < 131.25: switch to s. */
		{145500, 0, false},
		/* Switched: the band between the two boundaries sends on s. */
		{120000, 0, false},
		{114000, 0, false},
		/* n = 1 + 100000 / 12000, 93.3 ms < 105 ms: wait again. */
		{100000, -1, true},
	};

	ecf_run(steps, N(steps), false);
}

static void test_ecf_paths_without_samples_and_backup(void **state)
{
	mpq_path_sched s = start("ecf");
	mpq_path_info p[3];

	/* s has no RTT sample: nothing to weigh, send on it. */
	ecf_paths(p);
	p[0].has_rtt_sample = false;
	assert_int_equal(pick(&s, p, 2, 12000), 0);
	assert_false(s.ecf_waiting);
	/* A faster BACKUP path with room plays no part while f is AVAILABLE. */
	ecf_paths(p);
	p[2] = measured(2, 1);
	p[2].use = MPQ_PATH_USE_BACKUP;
	assert_int_equal(pick(&s, p, 3, 12000), -1);
	assert_int_equal(pick(&s, p, 3, 240000), 0);
	/* Only backups left: ecf runs over them; path 2 is fastest with room. */
	p[0].use = MPQ_PATH_USE_BACKUP;
	p[1].use = MPQ_PATH_USE_NONE;
	assert_int_equal(pick(&s, p, 3, 12000), 2);
	assert_int_equal(pick(&s, p, 0, 12000), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_rr_alternates),
		cmocka_unit_test(test_rr_skips_full_and_none),
		cmocka_unit_test(test_rr_order_by_path_id),
		cmocka_unit_test(test_rr_backup),
		cmocka_unit_test(test_minrtt_lowest_rtt_with_room),
		cmocka_unit_test(test_paced_path_passed_over),
		cmocka_unit_test(test_room_for_the_paths_own_size),
		cmocka_unit_test(test_minrtt_ties_and_alias),
		cmocka_unit_test(test_minrtt_unmeasured),
		cmocka_unit_test(test_minrtt_backup_only_without_available),
		cmocka_unit_test(test_redundant),
		cmocka_unit_test(test_backup_waits_for_full_available),
		cmocka_unit_test(test_ecf_fast_path_with_room),
		cmocka_unit_test(test_ecf_waits_for_fast_path),
		cmocka_unit_test(test_ecf_uses_slow_path_for_large_queue),
		cmocka_unit_test(test_ecf_hysteresis),
		cmocka_unit_test(test_ecf_paths_without_samples_and_backup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
