/* Round-robin stream scheduler: each stream fills one packet's worth in turn. */
#include <string.h>

#include "quic/sched/stream_sched.h"

static void rr_add(mpq_stream_sched *sc, mpq_stream *s)
{
	s->sched_next = NULL;
	if (sc->tail)
		sc->tail->sched_next = s;
	else
		sc->head = s;
	sc->tail = s;
	s->scheduled = true;
}

static void rr_remove(mpq_stream_sched *sc, mpq_stream *s)
{
	mpq_stream *prev = NULL;
	for (mpq_stream *it = sc->head; it; prev = it, it = it->sched_next) {
		if (it != s)
			continue;
		if (prev)
			prev->sched_next = s->sched_next;
		else
			sc->head = s->sched_next;
		if (sc->tail == s)
			sc->tail = prev;
		break;
	}
	s->sched_next = NULL;
	s->scheduled = false;
}

static mpq_stream *rr_peek(mpq_stream_sched *sc)
{
	return sc->head;
}

static void rr_sent(mpq_stream_sched *sc, mpq_stream *s, size_t bytes)
{
	(void)bytes;
	/* The stream that just sent goes to the back of the line. */
	if (sc->head == s && sc->tail != s) {
		sc->head = s->sched_next;
		s->sched_next = NULL;
		sc->tail->sched_next = s;
		sc->tail = s;
	}
}

const struct mpq_stream_sched_ops mpq_stream_sched_rr = {
	.name = "rr",
	.add = rr_add,
	.remove = rr_remove,
	.peek = rr_peek,
	.sent = rr_sent,
};

static const struct mpq_stream_sched_ops *const all[] = {&mpq_stream_sched_rr};

const struct mpq_stream_sched_ops *mpq_stream_sched_find(const char *name)
{
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}
