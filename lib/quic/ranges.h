/*
 * A set of disjoint inclusive uint64_t intervals, kept sorted and merged, in
 * an array of at most |max| intervals fixed at init: it starts small and
 * doubles as needed (a stream's sets mostly hold one or two). Used for
 * received packet numbers still to acknowledge, acknowledged data ranges and
 * the bytes a reassembly buffer holds.
 */
#ifndef MPQ_RANGES_H
#define MPQ_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/mpq.h"

/* An interval [lo, hi], both ends included. */
typedef struct mpq_range {
	uint64_t lo;
	uint64_t hi;
} mpq_range;

typedef struct mpq_ranges {
	mpq_range *v; /* ascending; neighbours neither overlap nor touch */
	size_t n;
	size_t cap; /* allocated */
	size_t max; /* the most it may hold */
} mpq_ranges;

/* A set of at most |cap| intervals. Returns 0, MPQ_ERR_INVALID_ARGUMENT (cap
 * 0) or MPQ_ERR_NOMEM. A set that cannot grow when it needs to (no memory)
 * counts as full. */
int mpq_ranges_init(mpq_ranges *r, size_t cap);
void mpq_ranges_free(mpq_ranges *r);

/* Adds [lo, hi], merging with overlapping and adjacent intervals. When a new
 * interval is needed and the set is full, the lowest interval is dropped (which
 * may be [lo, hi] itself): acknowledging less is always safe. Returns 0, 1 when
 * an interval was dropped, or MPQ_ERR_INVALID_ARGUMENT (lo > hi). */
int mpq_ranges_insert(mpq_ranges *r, uint64_t lo, uint64_t hi);

/* As mpq_ranges_insert, but never drops: returns MPQ_ERR_NOBUF, with the set
 * unchanged, when [lo, hi] would need a new interval and the set is full. */
int mpq_ranges_add(mpq_ranges *r, uint64_t lo, uint64_t hi);

/* Removes every value below |x|, cutting the interval that holds x. */
void mpq_ranges_remove_below(mpq_ranges *r, uint64_t x);

bool mpq_ranges_contains(const mpq_ranges *r, uint64_t x);

/* The interval that holds |x|, or NULL. */
const mpq_range *mpq_ranges_find(const mpq_ranges *r, uint64_t x);

static inline size_t mpq_ranges_count(const mpq_ranges *r)
{
	return r->n;
}

/* The |i|-th interval counting from the highest (i = 0), as an ACK frame lists
 * them; NULL when i >= count. */
const mpq_range *mpq_ranges_top(const mpq_ranges *r, size_t i);

/* The highest / lowest value in the set. Return 0 or MPQ_ERR_NOT_FOUND (empty). */
int mpq_ranges_largest(const mpq_ranges *r, uint64_t *x);
int mpq_ranges_smallest(const mpq_ranges *r, uint64_t *x);

#endif
