/*
 * QPACK field sections (RFC 9204 §4.5) without a dynamic table: see
 * app/qpack.h. Integers are HPACK's prefixed integers (RFC 7541 §5.1),
 * strings HPACK's string literals with an H bit before an N-bit length
 * (RFC 9204 §4.1.2). The static table is in qpack_static.c.
 */
#include <string.h>

#include "app/qpack.h"
#include "app/qpack_tables.h"

/* Field line representations (RFC 9204 §4.5.2-4.5.6), by their first bits. */
#define LINE_INDEXED 0x80 /* 1T + 6-bit index */
#define LINE_INDEXED_STATIC 0x40
#define LINE_NAME_REF 0x40 /* 01NT + 4-bit index */
#define LINE_NAME_REF_STATIC 0x10
#define LINE_LITERAL_NAME 0x20 /* 001NH + 3-bit name length */
#define LINE_LITERAL_NAME_HUFFMAN 0x08
#define LINE_POST_BASE_INDEXED 0x10 /* 0001 + 4-bit index */
/* and 0000N + 3-bit index: literal with a post-base name reference */

#define STRING_HUFFMAN 0x80 /* H before a 7-bit length */

/* The largest integer we take: QUIC's, 2^62 - 1 (RFC 9204 §4.1.1). */
#define INT_MAX62 ((UINT64_C(1) << 62) - 1)

int mpq_qpack_static_find(const uint8_t *name, size_t namelen, const uint8_t *value,
			  size_t valuelen, int *exact)
{
	int first = -1;

	*exact = 0;
	if (namelen > MPQ_QPACK_STATIC_MAX_NAME)
		return -1;
	/* Only the entries whose name has this length, in index order. */
	for (unsigned k = mpq_qpack_static_len_start[namelen];
	     k < mpq_qpack_static_len_start[namelen + 1]; k++) {
		const struct mpq_qpack_static_entry *e =
			&mpq_qpack_static[mpq_qpack_static_by_len[k]];

		if (memcmp(e->name, name, namelen))
			continue;
		if (first < 0)
			first = mpq_qpack_static_by_len[k];
		if (e->valuelen == valuelen && !memcmp(e->value, value, valuelen)) {
			*exact = 1;
			return mpq_qpack_static_by_len[k];
		}
	}
	return first;
}

/* ---- Encoding ---- */

struct enc {
	uint8_t *out;
	size_t cap, len;
};

/* |v| as an integer with an N-bit prefix (RFC 7541 §5.1), the byte's bits
 * above the prefix being |flags|. */
static int put_int(struct enc *e, uint8_t flags, unsigned prefix, uint64_t v)
{
	uint8_t max = (uint8_t)((1u << prefix) - 1);

	if (e->len == e->cap)
		return -1;
	if (v < max) {
		e->out[e->len++] = flags | (uint8_t)v;
		return 0;
	}
	e->out[e->len++] = flags | max;
	v -= max;
	do {
		if (e->len == e->cap)
			return -1;
		e->out[e->len++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return 0;
}

/* A string literal: the H bit (|hbit|, just above the N-bit length prefix),
 * then the length and the bytes, Huffman-coded when that is shorter. */
static int put_str(struct enc *e, uint8_t flags, uint8_t hbit, unsigned prefix, const uint8_t *s,
		   size_t len)
{
	size_t hlen = mpq_qpack_huffman_len(s, len);

	if (hlen < len) {
		if (put_int(e, flags | hbit, prefix, hlen) || e->cap - e->len < hlen)
			return -1;
		e->len += mpq_qpack_huffman_encode(e->out + e->len, s, len);
		return 0;
	}
	if (put_int(e, flags, prefix, len) || e->cap - e->len < len)
		return -1;
	if (len)
		memcpy(e->out + e->len, s, len);
	e->len += len;
	return 0;
}

static int put_field(struct enc *e, const mpq_qpack_field *f)
{
	int exact;
	int idx = mpq_qpack_static_find(f->name, f->namelen, f->value, f->valuelen, &exact);

	if (idx >= 0 && exact)
		return put_int(e, LINE_INDEXED | LINE_INDEXED_STATIC, 6, (uint64_t)idx);
	if (idx >= 0) {
		if (put_int(e, LINE_NAME_REF | LINE_NAME_REF_STATIC, 4, (uint64_t)idx))
			return -1;
	} else if (put_str(e, LINE_LITERAL_NAME, LINE_LITERAL_NAME_HUFFMAN, 3, f->name,
			   f->namelen)) {
		return -1;
	}
	return put_str(e, 0, STRING_HUFFMAN, 7, f->value, f->valuelen);
}

ssize_t mpq_qpack_encode(uint8_t *out, size_t cap, const mpq_qpack_field *fields, size_t n)
{
	struct enc e = {.out = out, .cap = cap};

	/* Required Insert Count 0, then Base: sign 0, delta 0. */
	if (put_int(&e, 0, 8, 0) || put_int(&e, 0, 7, 0))
		return MPQ_QPACK_ERR_NOBUF;
	for (size_t i = 0; i < n; i++) {
		if (put_field(&e, &fields[i]))
			return MPQ_QPACK_ERR_NOBUF;
	}
	return (ssize_t)e.len;
}

/* ---- Decoding ---- */

struct dec {
	const uint8_t *in;
	size_t len, off;
	uint8_t *scratch;
	size_t scratchsize, used;
};

/* An integer with an N-bit prefix whose first byte is in[off]; at most 2^62 - 1,
 * so a run of continuation bytes ends at the tenth. */
static int get_int(struct dec *d, unsigned prefix, uint64_t *v)
{
	uint8_t max = (uint8_t)((1u << prefix) - 1);
	unsigned shift = 0;
	uint8_t b;

	if (d->off == d->len)
		return -1;
	*v = d->in[d->off++] & max;
	if (*v < max)
		return 0;
	do {
		if (d->off == d->len || shift > 56)
			return -1;
		b = d->in[d->off++];
		*v += (uint64_t)(b & 0x7f) << shift;
		if (*v > INT_MAX62)
			return -1;
		shift += 7;
	} while (b & 0x80);
	return 0;
}

/* A string literal whose H bit is |hbit| in in[off] and whose length has an
 * N-bit prefix: raw bytes stay where they are, Huffman-coded ones are decoded
 * into the scratch buffer. */
static int get_str(struct dec *d, uint8_t hbit, unsigned prefix, const uint8_t **s, size_t *len)
{
	uint8_t *dst;
	int huffman;
	uint64_t n;
	ssize_t r;

	if (d->off == d->len)
		return MPQ_QPACK_ERR_DECOMPRESSION;
	huffman = !!(d->in[d->off] & hbit);
	if (get_int(d, prefix, &n) || n > d->len - d->off)
		return MPQ_QPACK_ERR_DECOMPRESSION;
	if (!huffman) {
		*s = d->in + d->off;
		*len = (size_t)n;
		d->off += (size_t)n;
		return 0;
	}
	/* (No arithmetic on a NULL scratch of size 0.) */
	dst = d->scratchsize ? d->scratch + d->used : d->scratch;
	r = mpq_qpack_huffman_decode(dst, d->scratchsize - d->used, d->in + d->off, (size_t)n);
	if (r < 0)
		return (int)r;
	*s = dst;
	*len = (size_t)r;
	d->used += (size_t)r;
	d->off += (size_t)n;
	return 0;
}

/* The static entry |idx| as a name, or with its value too. */
static int static_entry(uint64_t idx, mpq_qpack_field *f, int with_value)
{
	const struct mpq_qpack_static_entry *e;

	if (idx >= MPQ_QPACK_STATIC_COUNT)
		return MPQ_QPACK_ERR_DECOMPRESSION;
	e = &mpq_qpack_static[idx];
	f->name = (const uint8_t *)e->name;
	f->namelen = e->namelen;
	if (with_value) {
		f->value = (const uint8_t *)e->value;
		f->valuelen = e->valuelen;
	}
	return 0;
}

static int get_field(struct dec *d, mpq_qpack_field *f)
{
	uint8_t b = d->in[d->off];
	uint64_t idx;
	int r;

	if (b & LINE_INDEXED) {
		/* Indexed field line; T = 0 would be the dynamic table. */
		if (!(b & LINE_INDEXED_STATIC) || get_int(d, 6, &idx))
			return MPQ_QPACK_ERR_DECOMPRESSION;
		return static_entry(idx, f, 1);
	}
	if (b & LINE_NAME_REF) {
		/* Literal with a name reference; N (never index) only matters
		 * to intermediaries re-encoding the field, which we are not. */
		if (!(b & LINE_NAME_REF_STATIC) || get_int(d, 4, &idx))
			return MPQ_QPACK_ERR_DECOMPRESSION;
		r = static_entry(idx, f, 0);
	} else if (b & LINE_LITERAL_NAME) {
		r = get_str(d, LINE_LITERAL_NAME_HUFFMAN, 3, &f->name, &f->namelen);
	} else {
		/* Post-base index or name reference: the dynamic table. */
		return MPQ_QPACK_ERR_DECOMPRESSION;
	}
	if (r)
		return r;
	return get_str(d, STRING_HUFFMAN, 7, &f->value, &f->valuelen);
}

int mpq_qpack_decode(const uint8_t *in, size_t len, uint8_t *scratch, size_t scratchsize,
		     mpq_qpack_field_cb cb, void *user_data)
{
	struct dec d = {.in = in, .len = len, .scratch = scratch, .scratchsize = scratchsize};
	uint64_t ric, delta;
	int negative, r;

	/* Encoded Required Insert Count: any value but 0 refers to dynamic
	 * entries, which a table of capacity 0 never holds (§4.5.1.1). */
	if (get_int(&d, 8, &ric) || ric != 0 || d.off == d.len)
		return MPQ_QPACK_ERR_DECOMPRESSION;
	/* Base: unused without dynamic references, but a sign bit of 1 needs
	 * Required Insert Count > Delta Base, never so with 0 (§4.5.1.2). */
	negative = d.in[d.off] & 0x80;
	if (get_int(&d, 7, &delta) || negative)
		return MPQ_QPACK_ERR_DECOMPRESSION;
	while (d.off < d.len) {
		mpq_qpack_field f;

		r = get_field(&d, &f);
		if (r)
			return r;
		r = cb(user_data, &f);
		if (r)
			return r;
	}
	return 0;
}
