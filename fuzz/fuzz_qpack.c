/*
 * QPACK (lib/app/qpack.c, qpack_huffman.c) on peer input. The input is
 *   - a field section, decoded with room for every Huffman string and again
 *     with a small scratch (1 + data[0] % 64 bytes): the two agree (the small
 *     one may only run out of room), every string lies in the input, the
 *     scratch or the static table, and what decodes encodes (NOBUF one byte
 *     short of its size) and decodes back to the same fields;
 *   - a Huffman string: decoded with a bound on the output and with room
 *     for any, the same; what decodes encodes back to the input byte for
 *     byte (the code and its padding are unique) and decodes again;
 *   - bytes to Huffman-code, which decode back to themselves.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "app/qpack.h"
#include "app/qpack_tables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fields {
	mpq_qpack_field *f;
	size_t n, max;
	const uint8_t *in, *scratch;
	size_t len, scratchsize;
};

static int in_range(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)base;

	return a >= b && n <= len && a - b <= len - n;
}

static int in_static(const uint8_t *p, size_t n)
{
	for (int i = 0; i < MPQ_QPACK_STATIC_COUNT; i++) {
		const struct mpq_qpack_static_entry *e = &mpq_qpack_static[i];

		if ((p == (const uint8_t *)e->name && n == e->namelen) ||
		    (p == (const uint8_t *)e->value && n == e->valuelen))
			return 1;
	}
	return 0;
}

static void check_string(const struct fields *fs, const uint8_t *p, size_t n)
{
	CHECK(in_range(p, n, fs->in, fs->len) || in_range(p, n, fs->scratch, fs->scratchsize) ||
	      in_static(p, n) || n == 0);
}

static int collect(void *ud, const mpq_qpack_field *f)
{
	struct fields *fs = ud;

	/* Each line takes at least one byte of the input. */
	CHECK(fs->n < fs->max);
	check_string(fs, f->name, f->namelen);
	check_string(fs, f->value, f->valuelen);
	fs->f[fs->n++] = *f;
	return 0;
}

static int same(const mpq_qpack_field *a, const mpq_qpack_field *b)
{
	return a->namelen == b->namelen && a->valuelen == b->valuelen &&
	       (!a->namelen || !memcmp(a->name, b->name, a->namelen)) &&
	       (!a->valuelen || !memcmp(a->value, b->value, a->valuelen));
}

static int decode(struct fields *fs, const uint8_t *in, size_t len, uint8_t *scratch,
		  size_t scratchsize)
{
	fs->n = 0;
	fs->in = in;
	fs->len = len;
	fs->scratch = scratch;
	fs->scratchsize = scratchsize;
	return mpq_qpack_decode(in, len, scratch, scratchsize, collect, fs);
}

static void section(const uint8_t *data, size_t size)
{
	/* A Huffman code is at least 5 bits: 8 bytes of output per 5 in. */
	size_t big = size * 8 / 5 + 1, small = size ? 1 + data[0] % 64 : 1;
	uint8_t *scratch = malloc(big), *scratch2 = malloc(big), *out;
	struct fields a = {.max = size + 1}, b = {.max = size + 1}, c;
	int r, r2;
	ssize_t n;
	size_t cap;

	a.f = calloc(a.max, sizeof(*a.f));
	b.f = calloc(b.max, sizeof(*b.f));
	r = decode(&a, data, size, scratch, big);
	CHECK(r == 0 || r == MPQ_QPACK_ERR_DECOMPRESSION);
	if (small > big)
		small = big;
	r2 = decode(&b, data, size, scratch2, small);
	if (r) {
		CHECK(r2 == MPQ_QPACK_ERR_DECOMPRESSION || r2 == MPQ_QPACK_ERR_TOO_LARGE);
		goto out;
	}
	CHECK(r2 == 0 || r2 == MPQ_QPACK_ERR_TOO_LARGE);
	if (r2 == 0) {
		CHECK(b.n == a.n);
		for (size_t i = 0; i < a.n; i++)
			CHECK(same(&a.f[i], &b.f[i]));
	}

	/* Re-encode: a string grows by at most its length prefix (10 bytes), a
	 * line's index is at most 2 bytes. */
	cap = 2 + 2 * 10 + 2;
	for (size_t i = 0; i < a.n; i++)
		cap += 2 * 10 + 2 + a.f[i].namelen + a.f[i].valuelen;
	out = malloc(cap);
	n = mpq_qpack_encode(out, cap, a.f, a.n);
	CHECK(n >= 2);
	CHECK(mpq_qpack_encode(out, (size_t)n - 1, a.f, a.n) == MPQ_QPACK_ERR_NOBUF);
	CHECK(mpq_qpack_encode(out, cap, a.f, a.n) == n);
	c.max = (size_t)n + 1;
	c.f = calloc(c.max, sizeof(*c.f));
	/* (The strings of |a| point into |data| and |scratch|, still there.) */
	{
		size_t big2 = (size_t)n * 8 / 5 + 1;
		uint8_t *scratch3 = malloc(big2);

		CHECK(decode(&c, out, (size_t)n, scratch3, big2) == 0);
		CHECK(c.n == a.n);
		for (size_t i = 0; i < a.n; i++)
			CHECK(same(&a.f[i], &c.f[i]));
		free(scratch3);
	}
	free(c.f);
	free(out);
out:
	free(a.f);
	free(b.f);
	free(scratch);
	free(scratch2);
}

static void huffman(const uint8_t *data, size_t size)
{
	/* |cap| is under 2 * size + 1: the decoder's checked loop; |roomy| takes
	 * its unchecked one. */
	size_t cap = size * 8 / 5 + 1, roomy = 2 * size + 1;
	uint8_t *dec = malloc(cap), *enc = malloc(size + 1), *dec2 = malloc(roomy);
	ssize_t n = mpq_qpack_huffman_decode(dec, cap, data, size);

	CHECK(n >= 0 || n == MPQ_QPACK_ERR_DECOMPRESSION);
	CHECK(mpq_qpack_huffman_decode(dec2, roomy, data, size) == n);
	CHECK(n <= 0 || !memcmp(dec, dec2, (size_t)n));
	if (n >= 0) {
		/* Whatever decodes is the one coding of its symbols. */
		CHECK(mpq_qpack_huffman_len(dec, (size_t)n) == size);
		CHECK(mpq_qpack_huffman_encode(enc, dec, (size_t)n) == size);
		CHECK(!size || !memcmp(enc, data, size));
		CHECK(mpq_qpack_huffman_decode(dec2, roomy, enc, size) == n);
		CHECK(!n || !memcmp(dec, dec2, (size_t)n));
		if (n > 0)
			CHECK(mpq_qpack_huffman_decode(dec2, (size_t)n - 1, enc, size) ==
			      MPQ_QPACK_ERR_TOO_LARGE);
	}
	free(dec);
	free(enc);
	free(dec2);
}

static void huffman_encode(const uint8_t *data, size_t size)
{
	size_t clen = mpq_qpack_huffman_len(data, size);
	uint8_t *enc = malloc(clen + 1), *dec = malloc(size + 1);

	CHECK(clen <= (size * 30 + 7) / 8);
	CHECK(mpq_qpack_huffman_encode(enc, data, size) == clen);
	CHECK(mpq_qpack_huffman_decode(dec, size, enc, clen) == (ssize_t)size);
	CHECK(!size || !memcmp(dec, data, size));
	free(enc);
	free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	section(data, size);
	huffman(data, size);
	huffman_encode(data, size);
	return 0;
}
