/*
 * Bounded readers and writers for QUIC's wire encodings (RFC 9000 §16 varints,
 * fixed-width network-order integers, byte strings). Every read checks the
 * remaining length first, so parsers built on these never run off a buffer.
 */
#ifndef MPQ_WIRE_H
#define MPQ_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mpq/mpq.h"

/* Reads from [pos, end). A failed read leaves the reader unchanged. */
typedef struct mpq_reader {
	const uint8_t *pos;
	const uint8_t *end;
} mpq_reader;

/* Writes into [pos, end). A failed write leaves the writer unchanged. */
typedef struct mpq_writer {
	uint8_t *pos;
	uint8_t *end;
} mpq_writer;

static inline void mpq_reader_init(mpq_reader *r, const uint8_t *data, size_t len)
{
	r->pos = data;
	r->end = data + len;
}

static inline size_t mpq_reader_left(const mpq_reader *r)
{
	return (size_t)(r->end - r->pos);
}

static inline void mpq_writer_init(mpq_writer *w, uint8_t *buf, size_t len)
{
	w->pos = buf;
	w->end = buf + len;
}

static inline size_t mpq_writer_left(const mpq_writer *w)
{
	return (size_t)(w->end - w->pos);
}

/* Bytes a varint encoding of |v| takes: 1, 2, 4 or 8; 0 when v > 2^62-1. */
static inline size_t mpq_varint_len(uint64_t v)
{
	if (v < 0x40)
		return 1;
	if (v < 0x4000)
		return 2;
	if (v < 0x40000000)
		return 4;
	if (v <= MPQ_MAX_VARINT)
		return 8;
	return 0;
}

/* Each returns 0, or MPQ_ERR_TRUNCATED when the input ends first. */
int mpq_read_varint(mpq_reader *r, uint64_t *v);
int mpq_read_u8(mpq_reader *r, uint8_t *v);
int mpq_read_u16(mpq_reader *r, uint16_t *v);
int mpq_read_u32(mpq_reader *r, uint32_t *v);
int mpq_read_u64(mpq_reader *r, uint64_t *v);
/* Copies |len| bytes out. */
int mpq_read_bytes(mpq_reader *r, uint8_t *dst, size_t len);
/* Points |*p| at the next |len| bytes without copying, and skips them. */
int mpq_read_span(mpq_reader *r, const uint8_t **p, size_t len);

/* Each returns 0, MPQ_ERR_NOBUF when out of room, or (varint) MPQ_ERR_INVALID_ARGUMENT
 * for a value above 2^62-1. */
int mpq_write_varint(mpq_writer *w, uint64_t v);
/* Writes |v| in exactly |len| bytes (1, 2, 4 or 8; a non-minimal encoding is legal). */
int mpq_write_varint_len(mpq_writer *w, uint64_t v, size_t len);
int mpq_write_u8(mpq_writer *w, uint8_t v);
int mpq_write_u16(mpq_writer *w, uint16_t v);
int mpq_write_u32(mpq_writer *w, uint32_t v);
int mpq_write_u64(mpq_writer *w, uint64_t v);
int mpq_write_bytes(mpq_writer *w, const void *src, size_t len);

/* Unchecked big-endian helpers for callers that already checked the length. */
static inline uint32_t mpq_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void mpq_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
