/*
 * Stream schedulers: which stream's data goes into the next packet. One ops
 * table, chosen by name (CLI.md -ssc):
 *   rr     each stream in turn, one frame at a time
 *   prio   weighted fair shares: bytes in proportion to each stream's weight
 *   sprio  strict priority: lowest urgency first, round robin among equals
 * A scheduler only orders streams that have something to send; the connection
 * adds a stream when it gets data or a retransmission and removes it when it
 * has nothing left. It asks peek() for the stream to send from and reports
 * what that stream sent with sent(). Every scheduler keeps its streams in
 * intrusive lists linked through mpq_stream.sched_next/sched_prev, so nothing
 * is allocated, remove() is O(1) and peek() is O(1).
 */
#ifndef MPQ_STREAM_SCHED_H
#define MPQ_STREAM_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quic/stream.h"

/* RFC 9218 urgencies: 0 (most urgent) to 7; streams start at 3. */
#define MPQ_STREAM_URGENCY_LEVELS 8
#define MPQ_STREAM_URGENCY_DEFAULT 3
/* prio weights: 1 to 255; a stream whose weight is 0 has this one. */
#define MPQ_STREAM_WEIGHT_DEFAULT 16

/* A FIFO of streams linked through sched_next/sched_prev. */
typedef struct mpq_stream_list {
	mpq_stream *head;
	mpq_stream *tail;
} mpq_stream_list;

/* Zeroed memory is an empty scheduler of any kind; set ops before use. */
typedef struct mpq_stream_sched {
	const struct mpq_stream_sched_ops *ops;
	union {
		mpq_stream_list rr; /* head sends next */
		struct {
			/* By sched_vstart, equal ones in the order they came. */
			mpq_stream_list list;
			/* The sched_vstart of the stream that sent last: no
			 * scheduled stream is behind it. */
			uint64_t vtime;
		} prio;
		struct {
			mpq_stream_list level[MPQ_STREAM_URGENCY_LEVELS];
			uint8_t nonempty; /* bit u: level[u] has a stream */
		} sprio;
	};
} mpq_stream_sched;

struct mpq_stream_sched_ops {
	const char *name;
	/* Schedules |s| (not scheduled yet) and sets s->scheduled. */
	void (*add)(mpq_stream_sched *sc, mpq_stream *s);
	/* Unschedules |s| (scheduled) and clears s->scheduled. */
	void (*remove)(mpq_stream_sched *sc, mpq_stream *s);
	/* The stream to send from next, or NULL. */
	mpq_stream *(*peek)(mpq_stream_sched *sc);
	/* |s| just put |bytes| in a packet. */
	void (*sent)(mpq_stream_sched *sc, mpq_stream *s, size_t bytes);
};

extern const struct mpq_stream_sched_ops mpq_stream_sched_rr;
extern const struct mpq_stream_sched_ops mpq_stream_sched_prio;
extern const struct mpq_stream_sched_ops mpq_stream_sched_sprio;

/* The scheduler called |name|, or NULL. */
const struct mpq_stream_sched_ops *mpq_stream_sched_find(const char *name);

static inline void mpq_stream_sched_add(mpq_stream_sched *sc, mpq_stream *s)
{
	if (!s->scheduled)
		sc->ops->add(sc, s);
}

static inline void mpq_stream_sched_remove(mpq_stream_sched *sc, mpq_stream *s)
{
	if (s->scheduled)
		sc->ops->remove(sc, s);
}

/* The weight prio gives |s|. */
static inline unsigned mpq_stream_weight(const mpq_stream *s)
{
	return s->weight ? s->weight : MPQ_STREAM_WEIGHT_DEFAULT;
}

/* Gives |s| a new urgency and weight. A scheduled stream takes its place for
 * them at once; one whose priority does not change keeps its place. */
static inline void mpq_stream_sched_set_priority(mpq_stream_sched *sc, mpq_stream *s,
						 uint8_t urgency, uint8_t weight)
{
	bool was = s->scheduled;
	if (s->urgency == urgency && mpq_stream_weight(s) == weight)
		return;
	/* Schedulers find a stream's list by its priority: leave it first. */
	mpq_stream_sched_remove(sc, s);
	s->urgency = urgency;
	s->weight = weight;
	if (was)
		mpq_stream_sched_add(sc, s);
}

/* ---- List operations the schedulers share ---- */

static inline void mpq_stream_list_insert_before(mpq_stream_list *l, mpq_stream *at, mpq_stream *s)
{
	mpq_stream *prev = at ? at->sched_prev : l->tail;
	s->sched_prev = prev;
	s->sched_next = at;
	if (prev)
		prev->sched_next = s;
	else
		l->head = s;
	if (at)
		at->sched_prev = s;
	else
		l->tail = s;
}

static inline void mpq_stream_list_append(mpq_stream_list *l, mpq_stream *s)
{
	mpq_stream_list_insert_before(l, NULL, s);
}

static inline void mpq_stream_list_unlink(mpq_stream_list *l, mpq_stream *s)
{
	if (s->sched_prev)
		s->sched_prev->sched_next = s->sched_next;
	else
		l->head = s->sched_next;
	if (s->sched_next)
		s->sched_next->sched_prev = s->sched_prev;
	else
		l->tail = s->sched_prev;
	s->sched_next = s->sched_prev = NULL;
}

/* Round robin: the head, after its turn, goes to the back of the line. */
static inline void mpq_stream_list_rotate(mpq_stream_list *l, mpq_stream *s)
{
	if (l->head == s && l->tail != s) {
		mpq_stream_list_unlink(l, s);
		mpq_stream_list_append(l, s);
	}
}

#endif
