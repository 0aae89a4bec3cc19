/*
 * Frames held until their departure time: a binary min-heap keyed by
 * departure ns, ties broken by arrival order so that equal times keep
 * their order (without reordering the keys only grow, and the heap is then
 * a FIFO).
 */
#ifndef MPQ_LINKEMU_HELDQ_H
#define MPQ_LINKEMU_HELDQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct emu_frame {
	uint32_t len;
	uint8_t data[];
} emu_frame;

typedef struct heldq_ent {
	uint64_t depart_ns;
	uint64_t seq;
	emu_frame *frame;
} heldq_ent;

typedef struct heldq {
	heldq_ent *ents;
	size_t n, cap, max; /* max: most frames held at once */
	uint64_t seq;
} heldq;

void heldq_init(heldq *q, size_t max);
/* 0, or -1 when full or out of memory (the frame stays the caller's). */
int heldq_push(heldq *q, uint64_t depart_ns, emu_frame *f);
/* The earliest frame if it departs at or before now_ns, else NULL. */
emu_frame *heldq_pop_due(heldq *q, uint64_t now_ns);
/* Departure time of the earliest frame; UINT64_MAX when empty. */
uint64_t heldq_next(const heldq *q);
/* Frees every frame held; returns how many. */
size_t heldq_flush(heldq *q);
void heldq_free(heldq *q);

#endif
