/*
 * Weighted fair stream scheduler: the streams that have something to send
 * share the bytes sent in proportion to their weights (1..255, default 16).
 *
 * This is start-time fair queueing (Goyal, Vin and Cheng, SIGCOMM 1996), the
 * byte-exact form of deficit round robin: each stream carries a virtual start
 * time, the stream with the earliest one sends next, and sending n bytes moves
 * its start on by n / weight. Streams of equal weight sending equal frames
 * take turns one frame each; a stream whose frames are small sends more of
 * them, so shares are of bytes, not of packets, whatever the frame sizes.
 *
 * A stream that comes back after having had nothing to send starts no earlier
 * than the virtual time of the last sender: it gets no credit for the time it
 * was away (which would let it shut the others out with a burst) and keeps
 * any lead it had taken. Virtual times are compared modulo 2^64, which holds
 * while a stream is away for less than 2^47 bytes sent at weight 1.
 *
 * The schedule is one list sorted by virtual start, equal starts in the order
 * they came. peek() is its head. sent() moves the sender back from the tail,
 * which is one step when weights are equal; add() inserts from the head,
 * where a returning stream's start is. Both walk O(n) at worst.
 */
#include "quic/sched/stream_sched.h"

/* Virtual time per byte at weight 1: fine enough that weights 1..255 divide
 * it with no error worth counting. */
#define VTIME_SHIFT 16

static bool before(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0;
}

static uint64_t advance(size_t bytes, const mpq_stream *s)
{
	uint64_t b = bytes, w = mpq_stream_weight(s);
	return ((b / w) << VTIME_SHIFT) + (((b % w) << VTIME_SHIFT) / w);
}

static void prio_add(mpq_stream_sched *sc, mpq_stream *s)
{
	if (before(s->sched_vstart, sc->prio.vtime))
		s->sched_vstart = sc->prio.vtime;
	mpq_stream *at = sc->prio.list.head;
	while (at && !before(s->sched_vstart, at->sched_vstart))
		at = at->sched_next;
	mpq_stream_list_insert_before(&sc->prio.list, at, s);
	s->scheduled = true;
}

static void prio_remove(mpq_stream_sched *sc, mpq_stream *s)
{
	mpq_stream_list_unlink(&sc->prio.list, s);
	s->scheduled = false;
}

static mpq_stream *prio_peek(mpq_stream_sched *sc)
{
	return sc->prio.list.head;
}

static void prio_sent(mpq_stream_sched *sc, mpq_stream *s, size_t bytes)
{
	mpq_stream_list *l = &sc->prio.list;
	/* Virtual time is the start of the stream being served: the head, which
	 * is the sender when the caller sends from what peek() gave. */
	if (s->scheduled && before(sc->prio.vtime, l->head->sched_vstart))
		sc->prio.vtime = l->head->sched_vstart;
	s->sched_vstart += advance(bytes, s);
	if (!s->scheduled)
		return;
	mpq_stream_list_unlink(l, s);
	mpq_stream *at = NULL;
	for (mpq_stream *it = l->tail; it && before(s->sched_vstart, it->sched_vstart);
	     it = it->sched_prev)
		at = it;
	mpq_stream_list_insert_before(l, at, s);
}

const struct mpq_stream_sched_ops mpq_stream_sched_prio = {
	.name = "prio",
	.add = prio_add,
	.remove = prio_remove,
	.peek = prio_peek,
	.sent = prio_sent,
};
