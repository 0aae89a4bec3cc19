/*
 * A stream's send buffer: the bytes the application wrote and the peer has not
 * acknowledged, in fixed-size chunks allocated as the application writes and
 * freed as acknowledgements pass them (as quinn-proto's send_buffer.rs keeps
 * a list of segments, not a ring of fixed size). Chunk k of the buffer holds
 * offsets [base + k * MPQ_SENDBUF_CHUNK, base + (k + 1) * MPQ_SENDBUF_CHUNK).
 * A chunk the peer acknowledged whole above a hole is freed at once (its slot
 * empty): after a loss, the bytes acknowledged above it would otherwise stay
 * until the hole is filled, up to the whole window.
 *
 * Every chunk is charged to a memory budget: the connection's, whose parent is
 * the endpoint's, so that neither one peer nor all of them together can make
 * us hold more than the budgets allow.
 */
#ifndef MPQ_SENDBUF_H
#define MPQ_SENDBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MPQ_SENDBUF_CHUNK 16384

/* Bytes allocated against a limit; a charge must fit in every ancestor too. */
typedef struct mpq_mem_budget {
	size_t used;
	size_t limit;
	struct mpq_mem_budget *parent; /* NULL: none */
} mpq_mem_budget;

/* What the budget and all its ancestors can still take. */
size_t mpq_mem_budget_room(const mpq_mem_budget *b);

typedef struct mpq_sendbuf {
	uint8_t **chunks; /* a ring of |cap| slots, |n| used from |head| */
	size_t cap;	  /* a power of two, or 0 */
	size_t head;
	size_t n;
	size_t held;   /* chunks allocated: |n| less the empty slots */
	uint64_t base; /* offset of the first chunk's first byte */
} mpq_sendbuf;

/* Copies up to |len| bytes written at stream offset |end| (the buffer's
 * current end) in, allocating chunks while |budget| allows. Returns the
 * count taken. */
size_t mpq_sendbuf_append(mpq_sendbuf *sb, uint64_t end, const uint8_t *data, size_t len,
			  mpq_mem_budget *budget);

/* Bytes that fit after |end| in chunks already allocated. */
size_t mpq_sendbuf_tail_room(const mpq_sendbuf *sb, uint64_t end);

/* The buffered byte at |offset| and how many follow it contiguously (to the
 * end of its chunk). |offset| must lie between the acknowledged point and the
 * buffer's end. NULL (with *contiguous still set) when its chunk was freed by
 * mpq_sendbuf_release_inside: those bytes are acknowledged. */
const uint8_t *mpq_sendbuf_at(const mpq_sendbuf *sb, uint64_t offset, size_t *contiguous);

/* Frees the chunks wholly below |acked|. */
void mpq_sendbuf_release_below(mpq_sendbuf *sb, uint64_t acked, mpq_mem_budget *budget);

/* Frees the chunks wholly inside [lo, end), bytes the peer acknowledged. */
void mpq_sendbuf_release_inside(mpq_sendbuf *sb, uint64_t lo, uint64_t end,
				mpq_mem_budget *budget);

/* Frees every chunk. */
void mpq_sendbuf_free(mpq_sendbuf *sb, mpq_mem_budget *budget);

/* Bytes of chunks held. */
static inline size_t mpq_sendbuf_bytes(const mpq_sendbuf *sb)
{
	return sb->held * MPQ_SENDBUF_CHUNK;
}

#endif
