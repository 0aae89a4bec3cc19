/* Round-robin stream scheduler: each stream sends one frame in turn. */
#include "quic/sched/stream_sched.h"

static void rr_add(mpq_stream_sched *sc, mpq_stream *s)
{
	mpq_stream_list_append(&sc->rr, s);
	s->scheduled = true;
}

static void rr_remove(mpq_stream_sched *sc, mpq_stream *s)
{
	mpq_stream_list_unlink(&sc->rr, s);
	s->scheduled = false;
}

static mpq_stream *rr_peek(mpq_stream_sched *sc)
{
	return sc->rr.head;
}

static void rr_sent(mpq_stream_sched *sc, mpq_stream *s, size_t bytes)
{
	(void)bytes;
	if (s->scheduled)
		mpq_stream_list_rotate(&sc->rr, s);
}

const struct mpq_stream_sched_ops mpq_stream_sched_rr = {
	.name = "rr",
	.add = rr_add,
	.remove = rr_remove,
	.peek = rr_peek,
	.sent = rr_sent,
};
