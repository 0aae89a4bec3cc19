/* A stream's send buffer in chunks: see sendbuf.h. */
#include <stdlib.h>
#include <string.h>

#include "quic/sendbuf.h"

#define CHUNK MPQ_SENDBUF_CHUNK

size_t mpq_mem_budget_room(const mpq_mem_budget *b)
{
	size_t room = SIZE_MAX;
	for (; b; b = b->parent) {
		size_t left = b->used < b->limit ? b->limit - b->used : 0;
		if (left < room)
			room = left;
	}
	return room;
}

static void charge(mpq_mem_budget *b, size_t bytes)
{
	for (; b; b = b->parent)
		b->used += bytes;
}

static void credit(mpq_mem_budget *b, size_t bytes)
{
	for (; b; b = b->parent)
		b->used -= bytes;
}

static uint8_t **slot(const mpq_sendbuf *sb, size_t k)
{
	return &sb->chunks[(sb->head + k) & (sb->cap - 1)];
}

/* Room for one more chunk pointer: the ring doubles, unwrapped. */
static bool ring_reserve(mpq_sendbuf *sb)
{
	if (sb->n < sb->cap)
		return true;
	size_t cap = sb->cap ? sb->cap * 2 : 8;
	uint8_t **v = malloc(cap * sizeof(*v));
	if (!v)
		return false;
	for (size_t k = 0; k < sb->n; k++)
		v[k] = *slot(sb, k);
	free(sb->chunks);
	sb->chunks = v;
	sb->cap = cap;
	sb->head = 0;
	return true;
}

static bool add_chunk(mpq_sendbuf *sb, uint64_t end, mpq_mem_budget *budget)
{
	if (mpq_mem_budget_room(budget) < CHUNK || !ring_reserve(sb))
		return false;
	uint8_t *c = malloc(CHUNK);
	if (!c)
		return false;
	if (sb->n == 0)
		sb->base = end - end % CHUNK;
	*slot(sb, sb->n++) = c;
	sb->held++;
	charge(budget, CHUNK);
	return true;
}

size_t mpq_sendbuf_tail_room(const mpq_sendbuf *sb, uint64_t end)
{
	uint64_t limit = sb->base + (uint64_t)sb->n * CHUNK;
	return sb->n && end < limit ? (size_t)(limit - end) : 0;
}

size_t mpq_sendbuf_append(mpq_sendbuf *sb, uint64_t end, const uint8_t *data, size_t len,
			  mpq_mem_budget *budget)
{
	size_t done = 0;
	while (done < len) {
		size_t room = mpq_sendbuf_tail_room(sb, end);
		if (room == 0) {
			if (!add_chunk(sb, end, budget))
				break;
			room = CHUNK - (size_t)(end % CHUNK);
		}
		size_t n = len - done < room ? len - done : room;
		size_t contiguous;
		uint8_t *dst = (uint8_t *)mpq_sendbuf_at(sb, end, &contiguous);
		memcpy(dst, data + done, n);
		done += n;
		end += n;
	}
	return done;
}

const uint8_t *mpq_sendbuf_at(const mpq_sendbuf *sb, uint64_t offset, size_t *contiguous)
{
	size_t in = (size_t)(offset % CHUNK);
	*contiguous = CHUNK - in;
	uint8_t *c = *slot(sb, (size_t)((offset - sb->base) / CHUNK));
	return c ? c + in : NULL;
}

/* Frees chunk |k| unless it is freed already. */
static void drop_chunk(mpq_sendbuf *sb, size_t k, mpq_mem_budget *budget)
{
	uint8_t **c = slot(sb, k);
	if (!*c)
		return;
	free(*c);
	*c = NULL;
	sb->held--;
	credit(budget, CHUNK);
}

void mpq_sendbuf_release_below(mpq_sendbuf *sb, uint64_t acked, mpq_mem_budget *budget)
{
	while (sb->n && sb->base + CHUNK <= acked) {
		drop_chunk(sb, 0, budget);
		sb->head = (sb->head + 1) & (sb->cap - 1);
		sb->n--;
		sb->base += CHUNK;
	}
}

void mpq_sendbuf_release_inside(mpq_sendbuf *sb, uint64_t lo, uint64_t end, mpq_mem_budget *budget)
{
	uint64_t limit = sb->base + (uint64_t)sb->n * CHUNK;
	if (lo < sb->base)
		lo = sb->base;
	if (end > limit)
		end = limit;
	/* The first chunk that starts at or after lo, up to the last that ends by end. */
	for (uint64_t at = (lo + CHUNK - 1) / CHUNK * CHUNK; at + CHUNK <= end; at += CHUNK)
		drop_chunk(sb, (size_t)((at - sb->base) / CHUNK), budget);
}

void mpq_sendbuf_free(mpq_sendbuf *sb, mpq_mem_budget *budget)
{
	for (size_t k = 0; k < sb->n; k++)
		drop_chunk(sb, k, budget);
	free(sb->chunks);
	memset(sb, 0, sizeof(*sb));
}
