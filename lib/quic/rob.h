/*
 * Reassembly buffer for CRYPTO and STREAM data: pieces arrive at any offset, in
 * any order, duplicated or overlapping; the reader takes contiguous bytes from
 * the read offset. Storage is a ring (byte at offset o lives at o % size) plus
 * a bitmap of the bytes present (bit o % size). The ring starts at
 * MPQ_ROB_FIRST_SIZE and doubles, up to max_buffered, when data lands beyond
 * it: one byte out of order costs 1 KiB, not the whole window nor 64 KiB (a
 * peer can make every stream hold one: 1,000 streams held 64 MiB for a few
 * kilobytes sent); beyond that a ring is at most twice the span from the read
 * offset to the furthest byte, which flow control bounds. The bitmap adds an eighth to the ring, and
 * makes the work of a push, consume or skip proportional to its bytes (a word
 * per 64), however finely a peer cuts its data and in whatever order: a list
 * of runs sorted by offset cost a move of every run above the new one, up to
 * a megabyte per one-byte fragment of a 16 MiB window.
 */
#ifndef MPQ_ROB_H
#define MPQ_ROB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/mpq.h"

#define MPQ_ROB_FIRST_SIZE 1024

typedef struct mpq_rob {
	uint8_t *ring;
	uint64_t *bits;	      /* bit o % size: the byte at offset o is present */
	size_t size;	      /* of the ring now */
	size_t max;	      /* max_buffered */
	uint64_t read_offset; /* everything below has been consumed */
	size_t buffered;      /* bytes present, all at or above read_offset */
} mpq_rob;

/* Returns 0, MPQ_ERR_INVALID_ARGUMENT (max_buffered 0) or MPQ_ERR_NOMEM. */
int mpq_rob_init(mpq_rob *rob, size_t max_buffered);
void mpq_rob_free(mpq_rob *rob);

/* Stores |len| bytes of |data| found at stream |offset|. Bytes below the read
 * offset are ignored; bytes already present are overwritten with the same
 * data (RFC 9000 §2.2: data at an offset never changes). Returns 0,
 * MPQ_ERR_NOMEM (the ring could not grow), or MPQ_ERR_NOBUF, with nothing
 * stored, when the data would end past read_offset + max_buffered. The caller
 * maps MPQ_ERR_NOBUF to the connection error
 * that fits: MPQ_ERR_CRYPTO_BUFFER for CRYPTO, MPQ_ERR_FLOW_CONTROL for STREAM
 * data past the advertised window. */
int mpq_rob_push(mpq_rob *rob, uint64_t offset, const uint8_t *data, size_t len);

/* Points |*data| at the bytes readable from the read offset and returns how
 * many; 0 when the next byte has not arrived. The span stops at the end of the
 * ring, so after consuming it a second peek may return more. */
size_t mpq_rob_peek(const mpq_rob *rob, const uint8_t **data);

/* Moves the read offset on by |n| bytes, which must have arrived (they need not
 * all have been returned by one peek). Returns 0 or MPQ_ERR_INVALID_ARGUMENT. */
int mpq_rob_consume(mpq_rob *rob, size_t n);

/* Moves the read offset to |offset| for bytes the caller took straight from a
 * packet (in-order data needs no copy), dropping any buffered below it.
 * Returns 0 or MPQ_ERR_INVALID_ARGUMENT (|offset| behind the read offset). */
int mpq_rob_skip_to(mpq_rob *rob, uint64_t offset);

/* Bytes stored ahead of the read offset, waiting for a hole to fill. */
static inline bool mpq_rob_empty(const mpq_rob *rob)
{
	return rob->buffered == 0;
}

static inline uint64_t mpq_rob_read_offset(const mpq_rob *rob)
{
	return rob->read_offset;
}

#endif
