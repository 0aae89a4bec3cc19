/* Processed packet numbers: gaps far apart, the window sliding, its floor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "quic/pn_dedup.h"

#define W MPQ_PN_DEDUP_WINDOW

/* More gaps than the ACK ranges keep (64): every one is still remembered. */
static void many_gaps_remembered(void **state)
{
	(void)state;
	mpq_pn_dedup d;
	mpq_pn_dedup_init(&d);
	for (uint64_t pn = 0; pn <= 200; pn += 2)
		assert_true(mpq_pn_dedup_insert(&d, pn));
	assert_true(mpq_pn_dedup_seen(&d, 10));
	assert_false(mpq_pn_dedup_insert(&d, 10));
	assert_false(mpq_pn_dedup_insert(&d, 0));
	assert_false(mpq_pn_dedup_insert(&d, 200));
	/* The odd ones are new, each once. */
	for (uint64_t pn = 1; pn < 200; pn += 2) {
		assert_false(mpq_pn_dedup_seen(&d, pn));
		assert_true(mpq_pn_dedup_insert(&d, pn));
		assert_false(mpq_pn_dedup_insert(&d, pn));
	}
	assert_false(mpq_pn_dedup_seen(&d, 201));
}

static void window_slides(void **state)
{
	(void)state;
	mpq_pn_dedup d;
	mpq_pn_dedup_init(&d);
	assert_false(mpq_pn_dedup_seen(&d, 0));
	assert_true(mpq_pn_dedup_insert(&d, 5));
	assert_true(mpq_pn_dedup_insert(&d, 3));
	/* Top at 5 + W - 1: 5 is the lowest number still in the window. */
	assert_true(mpq_pn_dedup_insert(&d, 5 + W - 1));
	assert_true(mpq_pn_dedup_seen(&d, 5));
	assert_true(mpq_pn_dedup_seen(&d, 3)); /* below the window: a duplicate */
	assert_false(mpq_pn_dedup_insert(&d, 4));
	assert_true(mpq_pn_dedup_insert(&d, 6)); /* in the window, not seen */
	/* A bit reused for a higher number starts out unseen, and the one it
	 * held for a number now below the window does not leak into it. */
	assert_false(mpq_pn_dedup_seen(&d, 5 + W));
	assert_false(mpq_pn_dedup_seen(&d, 6 + W));
	assert_true(mpq_pn_dedup_insert(&d, 6 + W));
	assert_false(mpq_pn_dedup_seen(&d, 5 + W));
	assert_true(mpq_pn_dedup_insert(&d, 5 + W));
	assert_true(mpq_pn_dedup_seen(&d, 5)); /* now below the window */
	assert_true(mpq_pn_dedup_seen(&d, 6));
	assert_false(mpq_pn_dedup_insert(&d, 6));
}

static void jump_beyond_the_window(void **state)
{
	(void)state;
	mpq_pn_dedup d;
	mpq_pn_dedup_init(&d);
	for (uint64_t pn = 0; pn < W; pn++)
		assert_true(mpq_pn_dedup_insert(&d, pn));
	/* A jump of more than a window clears every bit: the numbers between
	 * were never seen, whatever their bits held before. */
	uint64_t top = 10 * W + 17;
	assert_true(mpq_pn_dedup_insert(&d, top));
	for (uint64_t pn = top - W + 1; pn < top; pn++)
		assert_false(mpq_pn_dedup_seen(&d, pn));
	assert_true(mpq_pn_dedup_seen(&d, top - W)); /* the floor */
	assert_true(mpq_pn_dedup_seen(&d, W - 1));
	assert_true(mpq_pn_dedup_insert(&d, top - W + 1));
	assert_false(mpq_pn_dedup_insert(&d, top));
	/* A packet number near the top of the range works as well. */
	uint64_t big = (1ULL << 62) - 1;
	assert_true(mpq_pn_dedup_insert(&d, big));
	assert_false(mpq_pn_dedup_insert(&d, big));
	assert_true(mpq_pn_dedup_insert(&d, big - 1));
	assert_true(mpq_pn_dedup_seen(&d, top));
}

/* Against a plain array of every number, with a seeded random walk of
 * mostly ascending, sometimes reordered packet numbers. */
static void matches_a_full_record(void **state)
{
	(void)state;
	enum { N = 20000 };
	static bool seen[N + 2 * W];
	mpq_pn_dedup d;
	mpq_pn_dedup_init(&d);
	uint64_t seed = 0x9e3779b97f4a7c15ULL, top = 0;
	for (int i = 0; i < 60000; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		uint64_t back = seed % 8 == 0 ? seed % (W + W / 2) : seed % 4;
		uint64_t pn = top > back ? top - back : 0;
		if (seed % 5 == 0)
			pn = top + 1 + seed % 3;
		if (pn >= N)
			break;
		bool fresh = !seen[pn] && (top < W || pn > top - W);
		assert_int_equal(mpq_pn_dedup_insert(&d, pn), fresh);
		if (fresh) {
			seen[pn] = true;
			if (pn > top)
				top = pn;
		}
	}
	assert_true(top > N / 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(many_gaps_remembered),
		cmocka_unit_test(window_slides),
		cmocka_unit_test(jump_beyond_the_window),
		cmocka_unit_test(matches_a_full_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
