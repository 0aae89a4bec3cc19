/* Sorted disjoint intervals: see ranges.h. */
#include <stdlib.h>
#include <string.h>

#include "ranges.h"

#define FIRST_CAP 4

int mpq_ranges_init(mpq_ranges *r, size_t cap)
{
	r->v = NULL;
	r->n = 0;
	r->cap = 0;
	r->max = 0;
	if (cap == 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (cap > SIZE_MAX / sizeof(*r->v))
		return MPQ_ERR_NOMEM;
	size_t first = cap < FIRST_CAP ? cap : FIRST_CAP;
	r->v = malloc(first * sizeof(*r->v));
	if (!r->v)
		return MPQ_ERR_NOMEM;
	r->cap = first;
	r->max = cap;
	return 0;
}

/* Room for one more interval: false when the set is full. */
static bool reserve(mpq_ranges *r)
{
	if (r->n < r->cap)
		return true;
	if (r->cap == r->max)
		return false;
	size_t cap = r->cap * 2 < r->max ? r->cap * 2 : r->max;
	mpq_range *v = realloc(r->v, cap * sizeof(*v));
	if (!v)
		return false;
	r->v = v;
	r->cap = cap;
	return true;
}

void mpq_ranges_free(mpq_ranges *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
	r->cap = 0;
	r->max = 0;
}

/* Index of the first interval whose high end is >= x (n when none). */
static size_t first_ending_from(const mpq_ranges *r, uint64_t x)
{
	size_t a = 0, b = r->n;

	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (r->v[m].hi < x)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

/* True when an interval ending at |hi| and one starting at |lo| can merge.
 * Written without hi + 1, which would overflow at UINT64_MAX. */
static bool joins(uint64_t hi, uint64_t lo)
{
	return hi >= lo || lo - hi == 1;
}

static void drop_lowest(mpq_ranges *r)
{
	memmove(r->v, r->v + 1, (r->n - 1) * sizeof(*r->v));
	r->n--;
}

static int insert(mpq_ranges *r, uint64_t lo, uint64_t hi, bool may_drop)
{
	if (lo > hi)
		return MPQ_ERR_INVALID_ARGUMENT;
	/* [i, j) are the intervals that overlap or touch [lo, hi]. */
	size_t i = first_ending_from(r, lo == 0 ? 0 : lo - 1);
	size_t j = i;
	while (j < r->n && joins(hi, r->v[j].lo))
		j++;

	if (j > i) {
		if (r->v[i].lo < lo)
			lo = r->v[i].lo;
		if (r->v[j - 1].hi > hi)
			hi = r->v[j - 1].hi;
		r->v[i] = (mpq_range){lo, hi};
		memmove(r->v + i + 1, r->v + j, (r->n - j) * sizeof(*r->v));
		r->n -= j - i - 1;
		return 0;
	}

	int dropped = 0;
	if (!reserve(r)) {
		if (!may_drop)
			return MPQ_ERR_NOBUF;
		if (i == 0)
			return 1; /* the new interval is the lowest: it is the one to drop */
		drop_lowest(r);
		i--;
		dropped = 1;
	}
	memmove(r->v + i + 1, r->v + i, (r->n - i) * sizeof(*r->v));
	r->v[i] = (mpq_range){lo, hi};
	r->n++;
	return dropped;
}

int mpq_ranges_insert(mpq_ranges *r, uint64_t lo, uint64_t hi)
{
	return insert(r, lo, hi, true);
}

int mpq_ranges_add(mpq_ranges *r, uint64_t lo, uint64_t hi)
{
	return insert(r, lo, hi, false);
}

void mpq_ranges_remove_below(mpq_ranges *r, uint64_t x)
{
	size_t k = first_ending_from(r, x);

	memmove(r->v, r->v + k, (r->n - k) * sizeof(*r->v));
	r->n -= k;
	if (r->n && r->v[0].lo < x)
		r->v[0].lo = x;
}

bool mpq_ranges_contains(const mpq_ranges *r, uint64_t x)
{
	return mpq_ranges_find(r, x) != NULL;
}

const mpq_range *mpq_ranges_find(const mpq_ranges *r, uint64_t x)
{
	size_t i = first_ending_from(r, x);

	return i < r->n && r->v[i].lo <= x ? &r->v[i] : NULL;
}

const mpq_range *mpq_ranges_top(const mpq_ranges *r, size_t i)
{
	return i < r->n ? &r->v[r->n - 1 - i] : NULL;
}

int mpq_ranges_largest(const mpq_ranges *r, uint64_t *x)
{
	if (!r->n)
		return MPQ_ERR_NOT_FOUND;
	*x = r->v[r->n - 1].hi;
	return 0;
}

int mpq_ranges_smallest(const mpq_ranges *r, uint64_t *x)
{
	if (!r->n)
		return MPQ_ERR_NOT_FOUND;
	*x = r->v[0].lo;
	return 0;
}
