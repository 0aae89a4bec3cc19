/*
 * Stream schedulers: which stream's data goes into the next packet. One ops
 * table, chosen by name ("rr" now; "prio" and "sprio" with multipath). A
 * scheduler only orders streams that have something to send; the connection
 * adds a stream when it gets data or a retransmission and removes it when it
 * has nothing left.
 */
#ifndef MPQ_STREAM_SCHED_H
#define MPQ_STREAM_SCHED_H

#include <stdbool.h>

#include "quic/stream.h"

typedef struct mpq_stream_sched {
	const struct mpq_stream_sched_ops *ops;
	mpq_stream *head;	/* rr: ring of scheduled streams, head sends next */
	mpq_stream *tail;
} mpq_stream_sched;

struct mpq_stream_sched_ops {
	const char *name;
	void (*add)(mpq_stream_sched *sc, mpq_stream *s);
	void (*remove)(mpq_stream_sched *sc, mpq_stream *s);
	/* The stream to send from next, or NULL. */
	mpq_stream *(*peek)(mpq_stream_sched *sc);
	/* |s| just put |bytes| in a packet. */
	void (*sent)(mpq_stream_sched *sc, mpq_stream *s, size_t bytes);
};

extern const struct mpq_stream_sched_ops mpq_stream_sched_rr;

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

#endif
