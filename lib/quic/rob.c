/* Reassembly buffer: a ring of bytes plus a bitmap of the bytes present. See rob.h. */
#include <stdlib.h>
#include <string.h>

#include "rob.h"

#define WORD_BITS 64

static size_t words_for(size_t size)
{
	return (size + WORD_BITS - 1) / WORD_BITS;
}

/* Ring and bitmap of |size| bytes, the bitmap clear. */
static int alloc_ring(uint8_t **ring, uint64_t **bits, size_t size)
{
	*ring = malloc(size);
	*bits = calloc(words_for(size), sizeof(**bits));
	if (*ring && *bits)
		return 0;
	free(*ring);
	free(*bits);
	return MPQ_ERR_NOMEM;
}

int mpq_rob_init(mpq_rob *rob, size_t max_buffered)
{
	memset(rob, 0, sizeof(*rob));
	if (max_buffered == 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	size_t size = max_buffered < MPQ_ROB_FIRST_SIZE ? max_buffered : MPQ_ROB_FIRST_SIZE;
	int rv = alloc_ring(&rob->ring, &rob->bits, size);
	if (rv)
		return rv;
	rob->size = size;
	rob->max = max_buffered;
	return 0;
}

void mpq_rob_free(mpq_rob *rob)
{
	free(rob->ring);
	free(rob->bits);
	memset(rob, 0, sizeof(*rob));
}

/* The bits [a, a + n) of one word, a + n <= 64, n > 0. */
static uint64_t word_mask(size_t a, size_t n)
{
	return (n == WORD_BITS ? ~0ULL : ((1ULL << n) - 1)) << a;
}

/* Sets (|set|) or clears bits [a, b) of a bitmap, a word at a time. Returns
 * how many changed. */
static size_t change_bits(uint64_t *bits, size_t a, size_t b, bool set)
{
	size_t changed = 0;
	while (a < b) {
		size_t at = a % WORD_BITS;
		size_t n = b - a < WORD_BITS - at ? b - a : WORD_BITS - at;
		uint64_t m = word_mask(at, n), *w = &bits[a / WORD_BITS];
		changed += (size_t)__builtin_popcountll(set ? m & ~*w : m & *w);
		*w = set ? *w | m : *w & ~m;
		a += n;
	}
	return changed;
}

/* The first bit in [a, b) that is |set|, or b. */
static size_t find_bit(const uint64_t *bits, size_t a, size_t b, bool set)
{
	while (a < b) {
		size_t at = a % WORD_BITS;
		uint64_t w = bits[a / WORD_BITS];
		if (!set)
			w = ~w;
		w >>= at;
		if (w) {
			size_t i = a + (size_t)__builtin_ctzll(w);
			return i < b ? i : b;
		}
		a += WORD_BITS - at;
	}
	return b;
}

/* Marks offsets [offset, offset + n) of a ring of |size| present (|set|) or
 * absent, n <= size, in two pieces when they cross its end. Returns how many
 * changed. */
static size_t mark(uint64_t *bits, size_t size, uint64_t offset, size_t n, bool set)
{
	size_t at = (size_t)(offset % size);
	size_t first = size - at < n ? size - at : n;
	return change_bits(bits, at, at + first, set) + change_bits(bits, 0, n - first, set);
}

/* Copies bytes for [offset, offset + len) into a ring of |size|, in two
 * pieces when they cross its end. len <= size. */
static void copy_in(uint8_t *ring, size_t size, uint64_t offset, const uint8_t *data, size_t len)
{
	size_t at = (size_t)(offset % size);
	size_t first = size - at < len ? size - at : len;

	memcpy(ring + at, data, first);
	memcpy(ring, data + first, len - first);
}

/* A ring of at least |need| bytes (at most max), the data present moved in:
 * each run of present bytes found in the old bitmap, a word at a time. */
static int grow(mpq_rob *rob, uint64_t need)
{
	size_t size = rob->size;
	while (size < need)
		size = size > rob->max / 2 ? rob->max : size * 2;
	uint8_t *ring;
	uint64_t *bits;
	int rv = alloc_ring(&ring, &bits, size);
	if (rv)
		return rv;
	/* The old ring in offset order: from the read offset to its end, then
	 * from its start. */
	size_t at = (size_t)(rob->read_offset % rob->size);
	const size_t seg[2][2] = {{at, rob->size}, {0, at}};
	uint64_t base = rob->read_offset;
	for (int k = 0; k < 2; k++) {
		size_t a = seg[k][0], end = seg[k][1];
		while ((a = find_bit(rob->bits, a, end, true)) < end) {
			size_t b = find_bit(rob->bits, a, end, false);
			uint64_t off = base + (a - seg[k][0]);
			copy_in(ring, size, off, rob->ring + a, b - a);
			mark(bits, size, off, b - a, true);
			a = b;
		}
		base += end - seg[k][0];
	}
	free(rob->ring);
	free(rob->bits);
	rob->ring = ring;
	rob->bits = bits;
	rob->size = size;
	return 0;
}

int mpq_rob_push(mpq_rob *rob, uint64_t offset, const uint8_t *data, size_t len)
{
	uint64_t end = offset + len;

	if (len == 0)
		return 0;
	if (end < offset)
		return MPQ_ERR_NOBUF; /* wraps 2^64: past any window */
	if (end <= rob->read_offset)
		return 0;
	if (end - rob->read_offset > rob->max)
		return MPQ_ERR_NOBUF;
	if (offset < rob->read_offset) {
		size_t skip = (size_t)(rob->read_offset - offset);
		data += skip;
		len -= skip;
		offset = rob->read_offset;
	}
	if (end - rob->read_offset > rob->size) {
		int rv = grow(rob, end - rob->read_offset);
		if (rv)
			return rv;
	}
	copy_in(rob->ring, rob->size, offset, data, len);
	rob->buffered += mark(rob->bits, rob->size, offset, len, true);
	return 0;
}

size_t mpq_rob_peek(const mpq_rob *rob, const uint8_t **data)
{
	size_t at = (size_t)(rob->read_offset % rob->size);

	*data = rob->ring + at;
	return find_bit(rob->bits, at, rob->size, false) - at;
}

/* Bytes present from the read offset on without a hole, up to |want|. */
static size_t readable(const mpq_rob *rob, size_t want)
{
	size_t at = (size_t)(rob->read_offset % rob->size);
	size_t n = find_bit(rob->bits, at, rob->size, false) - at;
	if (n == rob->size - at && n < want)
		n += find_bit(rob->bits, 0, at, false);
	return n;
}

int mpq_rob_consume(mpq_rob *rob, size_t n)
{
	if (n > rob->size || readable(rob, n) < n)
		return MPQ_ERR_INVALID_ARGUMENT;
	rob->buffered -= mark(rob->bits, rob->size, rob->read_offset, n, false);
	rob->read_offset += n;
	return 0;
}

int mpq_rob_skip_to(mpq_rob *rob, uint64_t offset)
{
	if (offset < rob->read_offset)
		return MPQ_ERR_INVALID_ARGUMENT;
	uint64_t gap = offset - rob->read_offset;
	if (gap >= rob->size) {
		memset(rob->bits, 0, words_for(rob->size) * sizeof(*rob->bits));
		rob->buffered = 0;
	} else {
		rob->buffered -= mark(rob->bits, rob->size, rob->read_offset, (size_t)gap, false);
	}
	rob->read_offset = offset;
	return 0;
}
