/*
 * Strict-priority stream scheduler: always a stream of the lowest urgency
 * that has something to send (0 is the most urgent, RFC 9218); streams of
 * equal urgency take turns, one frame each, so they interleave. One FIFO per
 * urgency and a bit per non-empty FIFO make peek() a find-first-set.
 */
#include "quic/sched/stream_sched.h"

_Static_assert(MPQ_STREAM_URGENCY_LEVELS <= 8, "one bit per level in an uint8_t");

/* Urgencies beyond the last level (not RFC 9218's) count as the last. */
static mpq_stream_list *level_of(mpq_stream_sched *sc, const mpq_stream *s)
{
	unsigned u = s->urgency < MPQ_STREAM_URGENCY_LEVELS ? s->urgency
							    : MPQ_STREAM_URGENCY_LEVELS - 1;
	return &sc->sprio.level[u];
}

static uint8_t bit_of(mpq_stream_sched *sc, const mpq_stream_list *l)
{
	return (uint8_t)(1u << (l - sc->sprio.level));
}

static void sprio_add(mpq_stream_sched *sc, mpq_stream *s)
{
	mpq_stream_list *l = level_of(sc, s);
	mpq_stream_list_append(l, s);
	sc->sprio.nonempty |= bit_of(sc, l);
	s->scheduled = true;
}

static void sprio_remove(mpq_stream_sched *sc, mpq_stream *s)
{
	mpq_stream_list *l = level_of(sc, s);
	mpq_stream_list_unlink(l, s);
	if (!l->head)
		sc->sprio.nonempty &= (uint8_t)~bit_of(sc, l);
	s->scheduled = false;
}

static mpq_stream *sprio_peek(mpq_stream_sched *sc)
{
	if (!sc->sprio.nonempty)
		return NULL;
	return sc->sprio.level[__builtin_ctz(sc->sprio.nonempty)].head;
}

static void sprio_sent(mpq_stream_sched *sc, mpq_stream *s, size_t bytes)
{
	(void)bytes;
	if (s->scheduled)
		mpq_stream_list_rotate(level_of(sc, s), s);
}

const struct mpq_stream_sched_ops mpq_stream_sched_sprio = {
	.name = "sprio",
	.add = sprio_add,
	.remove = sprio_remove,
	.peek = sprio_peek,
	.sent = sprio_sent,
};
