/* Bounded readers and writers: see wire.h. */
#include "wire.h"

int mpq_read_varint(mpq_reader *r, uint64_t *v)
{
	size_t left = mpq_reader_left(r);
	if (left < 1)
		return MPQ_ERR_TRUNCATED;
	size_t len = (size_t)1 << (r->pos[0] >> 6);
	if (left < len)
		return MPQ_ERR_TRUNCATED;
	uint64_t x = r->pos[0] & 0x3f;
	for (size_t i = 1; i < len; i++)
		x = x << 8 | r->pos[i];
	r->pos += len;
	*v = x;
	return 0;
}

static int read_be(mpq_reader *r, uint64_t *v, size_t len)
{
	if (mpq_reader_left(r) < len)
		return MPQ_ERR_TRUNCATED;
	uint64_t x = 0;
	for (size_t i = 0; i < len; i++)
		x = x << 8 | r->pos[i];
	r->pos += len;
	*v = x;
	return 0;
}

int mpq_read_u8(mpq_reader *r, uint8_t *v)
{
	uint64_t x;
	int rv = read_be(r, &x, 1);
	if (rv == 0)
		*v = (uint8_t)x;
	return rv;
}

int mpq_read_u16(mpq_reader *r, uint16_t *v)
{
	uint64_t x;
	int rv = read_be(r, &x, 2);
	if (rv == 0)
		*v = (uint16_t)x;
	return rv;
}

int mpq_read_u32(mpq_reader *r, uint32_t *v)
{
	uint64_t x;
	int rv = read_be(r, &x, 4);
	if (rv == 0)
		*v = (uint32_t)x;
	return rv;
}

int mpq_read_u64(mpq_reader *r, uint64_t *v)
{
	return read_be(r, v, 8);
}

int mpq_read_bytes(mpq_reader *r, uint8_t *dst, size_t len)
{
	if (mpq_reader_left(r) < len)
		return MPQ_ERR_TRUNCATED;
	if (len)
		memcpy(dst, r->pos, len);
	r->pos += len;
	return 0;
}

int mpq_read_span(mpq_reader *r, const uint8_t **p, size_t len)
{
	if (mpq_reader_left(r) < len)
		return MPQ_ERR_TRUNCATED;
	*p = r->pos;
	r->pos += len;
	return 0;
}

static int write_be(mpq_writer *w, uint64_t v, size_t len)
{
	if (mpq_writer_left(w) < len)
		return MPQ_ERR_NOBUF;
	for (size_t i = len; i > 0; i--) {
		w->pos[i - 1] = (uint8_t)v;
		v >>= 8;
	}
	w->pos += len;
	return 0;
}

int mpq_write_varint_len(mpq_writer *w, uint64_t v, size_t len)
{
	static const uint8_t prefix[9] = {[1] = 0x00, [2] = 0x40, [4] = 0x80, [8] = 0xc0};
	if ((len != 1 && len != 2 && len != 4 && len != 8) || mpq_varint_len(v) == 0 ||
	    mpq_varint_len(v) > len)
		return MPQ_ERR_INVALID_ARGUMENT;
	uint8_t *start = w->pos;
	int rv = write_be(w, v, len);
	if (rv == 0)
		start[0] |= prefix[len];
	return rv;
}

int mpq_write_varint(mpq_writer *w, uint64_t v)
{
	size_t len = mpq_varint_len(v);
	if (len == 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	return mpq_write_varint_len(w, v, len);
}

int mpq_write_u8(mpq_writer *w, uint8_t v)
{
	return write_be(w, v, 1);
}

int mpq_write_u16(mpq_writer *w, uint16_t v)
{
	return write_be(w, v, 2);
}

int mpq_write_u32(mpq_writer *w, uint32_t v)
{
	return write_be(w, v, 4);
}

int mpq_write_u64(mpq_writer *w, uint64_t v)
{
	return write_be(w, v, 8);
}

int mpq_write_bytes(mpq_writer *w, const void *src, size_t len)
{
	if (mpq_writer_left(w) < len)
		return MPQ_ERR_NOBUF;
	if (len)
		memcpy(w->pos, src, len);
	w->pos += len;
	return 0;
}
