/* Interval set: merging, capacity, remove_below, and a seeded comparison with a bitmap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "quic/ranges.h"

/* Checks the set holds exactly |want| (pairs lo, hi, ascending). */
static void expect(const mpq_ranges *r, const uint64_t *want, size_t npairs)
{
	assert_int_equal(mpq_ranges_count(r), npairs);
	for (size_t i = 0; i < npairs; i++) {
		const mpq_range *g = mpq_ranges_top(r, npairs - 1 - i);
		assert_non_null(g);
		assert_int_equal(g->lo, want[2 * i]);
		assert_int_equal(g->hi, want[2 * i + 1]);
	}
	assert_null(mpq_ranges_top(r, npairs));
}

#define EXPECT(r, ...) \
	do { \
		static const uint64_t w_[] = {__VA_ARGS__}; \
		expect(r, w_, sizeof(w_) / sizeof(w_[0]) / 2); \
	} while (0)

static void merges_and_overlaps(void **state)
{
	(void)state;
	mpq_ranges r;
	assert_int_equal(mpq_ranges_init(&r, 8), 0);
	assert_int_equal(mpq_ranges_insert(&r, 10, 20), 0);
	assert_int_equal(mpq_ranges_insert(&r, 30, 40), 0);
	assert_int_equal(mpq_ranges_insert(&r, 50, 60), 0);
	EXPECT(&r, 10, 20, 30, 40, 50, 60);
	assert_int_equal(mpq_ranges_insert(&r, 12, 18), 0); /* inside: no change */
	EXPECT(&r, 10, 20, 30, 40, 50, 60);
	assert_int_equal(mpq_ranges_insert(&r, 15, 35), 0); /* bridges two */
	EXPECT(&r, 10, 40, 50, 60);
	assert_int_equal(mpq_ranges_insert(&r, 0, 100), 0); /* swallows all */
	EXPECT(&r, 0, 100);
	assert_int_equal(mpq_ranges_insert(&r, 5, 4), MPQ_ERR_INVALID_ARGUMENT);
	EXPECT(&r, 0, 100);
	mpq_ranges_free(&r);
	assert_int_equal(mpq_ranges_init(&r, 0), MPQ_ERR_INVALID_ARGUMENT);
}

static void adjacency_merges(void **state)
{
	(void)state;
	mpq_ranges r;
	assert_int_equal(mpq_ranges_init(&r, 8), 0);
	assert_int_equal(mpq_ranges_insert(&r, 5, 6), 0);
	assert_int_equal(mpq_ranges_insert(&r, 7, 9), 0);
	EXPECT(&r, 5, 9);
	assert_int_equal(mpq_ranges_insert(&r, 2, 4), 0); /* touches from below */
	EXPECT(&r, 2, 9);
	assert_int_equal(mpq_ranges_insert(&r, 11, 12), 0); /* one value apart: no merge */
	EXPECT(&r, 2, 9, 11, 12);
	assert_int_equal(mpq_ranges_insert(&r, 10, 10), 0); /* fills the hole */
	EXPECT(&r, 2, 12);
	mpq_ranges_free(&r);
}

static void extremes_do_not_overflow(void **state)
{
	(void)state;
	mpq_ranges r;
	uint64_t x;
	assert_int_equal(mpq_ranges_init(&r, 4), 0);
	assert_int_equal(mpq_ranges_largest(&r, &x), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_ranges_smallest(&r, &x), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_ranges_insert(&r, UINT64_MAX - 1, UINT64_MAX), 0);
	assert_int_equal(mpq_ranges_insert(&r, 0, 0), 0);
	EXPECT(&r, 0, 0, UINT64_MAX - 1, UINT64_MAX);
	assert_true(mpq_ranges_contains(&r, UINT64_MAX));
	assert_false(mpq_ranges_contains(&r, 1));
	assert_int_equal(mpq_ranges_insert(&r, 1, UINT64_MAX - 2), 0);
	EXPECT(&r, 0, UINT64_MAX);
	assert_int_equal(mpq_ranges_largest(&r, &x), 0);
	assert_true(x == UINT64_MAX);
	assert_int_equal(mpq_ranges_smallest(&r, &x), 0);
	assert_int_equal(x, 0);
	mpq_ranges_free(&r);
}

static void full_set_drops_lowest(void **state)
{
	(void)state;
	mpq_ranges r;
	assert_int_equal(mpq_ranges_init(&r, 3), 0);
	assert_int_equal(mpq_ranges_insert(&r, 1, 1), 0);
	assert_int_equal(mpq_ranges_insert(&r, 3, 3), 0);
	assert_int_equal(mpq_ranges_insert(&r, 5, 5), 0);
	assert_int_equal(mpq_ranges_insert(&r, 9, 9), 1);
	EXPECT(&r, 3, 3, 5, 5, 9, 9);
	assert_int_equal(mpq_ranges_insert(&r, 7, 7), 1); /* in the middle: 3 goes */
	EXPECT(&r, 5, 5, 7, 7, 9, 9);
	assert_int_equal(mpq_ranges_insert(&r, 0, 2), 1); /* new lowest: not kept */
	EXPECT(&r, 5, 5, 7, 7, 9, 9);
	assert_int_equal(mpq_ranges_insert(&r, 6, 6), 0); /* merges: nothing dropped */
	EXPECT(&r, 5, 7, 9, 9);

	/* The non-dropping variant refuses instead. */
	assert_int_equal(mpq_ranges_add(&r, 20, 20), 0);
	assert_int_equal(mpq_ranges_add(&r, 30, 30), MPQ_ERR_NOBUF);
	assert_int_equal(mpq_ranges_add(&r, 1, 1), MPQ_ERR_NOBUF);
	EXPECT(&r, 5, 7, 9, 9, 20, 20);
	assert_int_equal(mpq_ranges_add(&r, 8, 8), 0);
	EXPECT(&r, 5, 9, 20, 20);
	mpq_ranges_free(&r);
}

/* A set allocates for the intervals it holds, not for its limit: a stream's
 * sets of 1024 cost a few intervals until loss fragments them. */
static void grows_only_as_needed(void **state)
{
	(void)state;
	mpq_ranges r;
	assert_int_equal(mpq_ranges_init(&r, 1024), 0);
	assert_true(r.cap <= 4);
	for (uint64_t k = 0; k < 1024; k++)
		assert_int_equal(mpq_ranges_add(&r, 2 * k, 2 * k), 0);
	assert_int_equal(mpq_ranges_count(&r), 1024);
	assert_int_equal(r.cap, 1024);
	/* Full at the limit, however it grew. */
	assert_int_equal(mpq_ranges_add(&r, 5000, 5000), MPQ_ERR_NOBUF);
	assert_int_equal(mpq_ranges_insert(&r, 5000, 5000), 1);
	assert_int_equal(r.cap, 1024);
	mpq_ranges_free(&r);
}

static void remove_below_cuts(void **state)
{
	(void)state;
	mpq_ranges r;
	uint64_t x;
	assert_int_equal(mpq_ranges_init(&r, 4), 0);
	assert_int_equal(mpq_ranges_insert(&r, 5, 10), 0);
	assert_int_equal(mpq_ranges_insert(&r, 20, 30), 0);
	mpq_ranges_remove_below(&r, 3);
	EXPECT(&r, 5, 10, 20, 30);
	mpq_ranges_remove_below(&r, 7);
	EXPECT(&r, 7, 10, 20, 30);
	assert_false(mpq_ranges_contains(&r, 6));
	assert_true(mpq_ranges_contains(&r, 7));
	mpq_ranges_remove_below(&r, 11); /* exactly past the first interval */
	EXPECT(&r, 20, 30);
	mpq_ranges_remove_below(&r, 30);
	EXPECT(&r, 30, 30);
	assert_int_equal(mpq_ranges_smallest(&r, &x), 0);
	assert_int_equal(x, 30);
	mpq_ranges_remove_below(&r, 31);
	assert_int_equal(mpq_ranges_count(&r), 0);
	assert_int_equal(mpq_ranges_largest(&r, &x), MPQ_ERR_NOT_FOUND);
	mpq_ranges_free(&r);
}

/* Deterministic generator for the model test. */
static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#define UNIVERSE 600

/* Clears the lowest run of set values in the model. */
static void model_drop_lowest(uint8_t *bits)
{
	size_t i = 0;
	while (i < UNIVERSE && !bits[i])
		i++;
	while (i < UNIVERSE && bits[i])
		bits[i++] = 0;
}

static size_t model_runs(const uint8_t *bits)
{
	size_t runs = 0;
	for (size_t i = 0; i < UNIVERSE; i++)
		runs += bits[i] && (i == 0 || !bits[i - 1]);
	return runs;
}

/* The set equals the model: same membership, and each interval is a whole run. */
static void compare_with_model(const mpq_ranges *r, const uint8_t *bits)
{
	for (uint64_t x = 0; x < UNIVERSE; x++)
		assert_int_equal(mpq_ranges_contains(r, x), bits[x]);
	assert_int_equal(mpq_ranges_count(r), model_runs(bits));
	for (size_t i = 0; i < mpq_ranges_count(r); i++) {
		const mpq_range *g = mpq_ranges_top(r, i);
		assert_true(g->lo == 0 || !bits[g->lo - 1]);
		assert_true(g->hi == UNIVERSE - 1 || !bits[g->hi + 1]);
	}
}

/* Random inserts and cuts against a byte-per-value model, with a capacity
 * small enough that the drop rule is exercised and one large enough that it
 * never fires. */
static void run_model(size_t cap, uint64_t seed)
{
	mpq_ranges r;
	uint8_t bits[UNIVERSE] = {0};
	uint64_t floor = 0;
	assert_int_equal(mpq_ranges_init(&r, cap), 0);
	for (int step = 0; step < 3000; step++) {
		uint64_t op = xorshift(&seed) % 50;
		if (op == 0) {
			floor += xorshift(&seed) % 8;
			mpq_ranges_remove_below(&r, floor);
			memset(bits, 0, floor < UNIVERSE ? floor : UNIVERSE);
		} else {
			uint64_t lo = xorshift(&seed) % UNIVERSE;
			uint64_t hi = lo + xorshift(&seed) % (op < 40 ? 2 : 30);
			if (hi >= UNIVERSE)
				hi = UNIVERSE - 1;
			memset(bits + lo, 1, hi - lo + 1);
			int dropped = 0;
			while (model_runs(bits) > cap) {
				model_drop_lowest(bits);
				dropped = 1;
			}
			assert_int_equal(mpq_ranges_insert(&r, lo, hi), dropped);
		}
		compare_with_model(&r, bits);
	}
	mpq_ranges_free(&r);
}

static void randomized_against_bitmap(void **state)
{
	(void)state;
	run_model(UNIVERSE / 2 + 1, 0x9e3779b97f4a7c15ULL);
	run_model(7, 0x243f6a8885a308d3ULL);
	run_model(1, 0x13198a2e03707344ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(merges_and_overlaps),
		cmocka_unit_test(adjacency_merges),
		cmocka_unit_test(extremes_do_not_overflow),
		cmocka_unit_test(full_set_drops_lowest),
		cmocka_unit_test(grows_only_as_needed),
		cmocka_unit_test(remove_below_cuts),
		cmocka_unit_test(randomized_against_bitmap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
