/* Streams and the table that holds them: see stream.h. */
#include <stdlib.h>
#include <string.h>

#include "mpq/mpq.h"
#include "quic/stream.h"

#define INITIAL_BUCKETS 64
#define SEND_RANGES 1024

static size_t bucket_of(const mpq_streams *t, int64_t id)
{
	/* IDs of one kind step by 4: fold the kind bits away first. */
	uint64_t h = ((uint64_t)id >> 2) * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)id & 3);
	return (size_t)(h >> 32) & (t->nbuckets - 1);
}

int mpq_streams_init(mpq_streams *t, mpq_mem_budget *budget)
{
	t->budget = budget;
	t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets)
		return MPQ_ERR_NOMEM;
	t->nbuckets = INITIAL_BUCKETS;
	t->count = 0;
	return 0;
}

static void stream_free(mpq_streams *t, mpq_stream *s)
{
	mpq_sendbuf_free(&s->sbuf, t->budget);
	mpq_ranges_free(&s->s_pending);
	mpq_ranges_free(&s->s_acked_ranges);
	if (s->rob.ring)
		mpq_rob_free(&s->rob);
	free(s);
}

void mpq_streams_free(mpq_streams *t)
{
	for (size_t b = 0; b < t->nbuckets; b++) {
		mpq_stream *s = t->buckets[b];
		while (s) {
			mpq_stream *next = s->hnext;
			stream_free(t, s);
			s = next;
		}
	}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

mpq_stream *mpq_streams_find(const mpq_streams *t, int64_t id)
{
	for (mpq_stream *s = t->buckets[bucket_of(t, id)]; s; s = s->hnext)
		if (s->id == id)
			return s;
	return NULL;
}

static void grow(mpq_streams *t)
{
	mpq_stream **b = calloc(t->nbuckets * 2, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	mpq_streams old = *t;
	t->buckets = b;
	t->nbuckets *= 2;
	for (size_t i = 0; i < old.nbuckets; i++) {
		mpq_stream *s = old.buckets[i];
		while (s) {
			mpq_stream *next = s->hnext;
			size_t k = bucket_of(t, s->id);
			s->hnext = t->buckets[k];
			t->buckets[k] = s;
			s = next;
		}
	}
	free(old.buckets);
}

int mpq_streams_add(mpq_streams *t, int64_t id, bool send, bool recv, uint64_t peer_max_data,
		    uint64_t recv_window, mpq_stream **out)
{
	mpq_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return MPQ_ERR_NOMEM;
	s->id = id;
	s->urgency = 3;
	s->send_state = send ? MPQ_SEND_OPEN : MPQ_SEND_NONE;
	s->recv_state = recv ? MPQ_RECV_OPEN : MPQ_RECV_NONE;
	s->peer_max_data = peer_max_data;
	s->r_final = UINT64_MAX;
	s->r_window.size = recv_window;
	s->r_max_data = recv_window;
	if (send) {
		if (mpq_ranges_init(&s->s_pending, SEND_RANGES) != 0 ||
		    mpq_ranges_init(&s->s_acked_ranges, SEND_RANGES) != 0) {
			stream_free(t, s);
			return MPQ_ERR_NOMEM;
		}
	}
	if (t->count >= t->nbuckets)
		grow(t);
	size_t k = bucket_of(t, id);
	s->hnext = t->buckets[k];
	t->buckets[k] = s;
	t->count++;
	*out = s;
	return 0;
}

void mpq_streams_remove(mpq_streams *t, mpq_stream *s)
{
	mpq_stream **pp = &t->buckets[bucket_of(t, s->id)];
	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = s->hnext;
		t->count--;
	}
	stream_free(t, s);
}

size_t mpq_stream_buffer(mpq_stream *s, const uint8_t *data, size_t len, mpq_mem_budget *budget)
{
	len = mpq_sendbuf_append(&s->sbuf, s->s_written, data, len, budget);
	if (len) {
		/* New data merges with what is pending; a full set means a
		 * pathological loss pattern, and resending from s_acked covers it. */
		if (mpq_ranges_add(&s->s_pending, s->s_written, s->s_written + len - 1) != 0)
			mpq_ranges_insert(&s->s_pending, s->s_acked, s->s_written + len - 1);
		s->s_written += len;
	}
	return len;
}

bool mpq_stream_on_acked(mpq_stream *s, uint64_t offset, uint64_t len, mpq_mem_budget *budget)
{
	if (len == 0 || offset + len <= s->s_acked)
		return false;
	if (mpq_ranges_add(&s->s_acked_ranges, offset, offset + len - 1) != 0) {
		/* Too many holes to remember this ack: send the bytes again and
		 * count them when that copy is acknowledged. */
		if (mpq_ranges_add(&s->s_pending, offset, offset + len - 1) != 0)
			mpq_ranges_insert(&s->s_pending, s->s_acked, s->s_sent_max - 1);
		return false;
	}
	size_t n = mpq_ranges_count(&s->s_acked_ranges);
	const mpq_range *low = mpq_ranges_top(&s->s_acked_ranges, n - 1);
	if (low->lo > s->s_acked) {
		/* Above a hole: the chunks this ack completes need not wait
		 * for it (only those it touches: the others were checked). */
		const mpq_range *r = mpq_ranges_find(&s->s_acked_ranges, offset);
		uint64_t lo = offset - offset % MPQ_SENDBUF_CHUNK;
		uint64_t end = offset + len + MPQ_SENDBUF_CHUNK - 1;
		end -= end % MPQ_SENDBUF_CHUNK;
		mpq_sendbuf_release_inside(&s->sbuf, lo > r->lo ? lo : r->lo,
					   end < r->hi + 1 ? end : r->hi + 1, budget);
		return false;
	}
	s->s_acked = low->hi + 1;
	mpq_ranges_remove_below(&s->s_acked_ranges, s->s_acked);
	/* Nothing below the acknowledged point needs sending again. */
	mpq_ranges_remove_below(&s->s_pending, s->s_acked);
	mpq_sendbuf_release_below(&s->sbuf, s->s_acked, budget);
	return true;
}

bool mpq_stream_wants_send(const mpq_stream *s)
{
	if (s->reset_pending || s->stop_pending || s->max_data_pending || s->blocked_pending)
		return true;
	if (s->send_state != MPQ_SEND_OPEN && s->send_state != MPQ_SEND_FIN_WRITTEN)
		return false;
	return mpq_ranges_count(&s->s_pending) > 0 || s->fin_pending;
}

bool mpq_stream_is_done(const mpq_stream *s)
{
	bool send_done = s->send_state == MPQ_SEND_NONE || s->send_state == MPQ_SEND_ALL_ACKED ||
			 (s->send_state == MPQ_SEND_RESET && s->reset_acked);
	bool recv_done = s->recv_state != MPQ_RECV_OPEN;
	return send_done && recv_done && !s->stop_pending && !s->max_data_pending;
}
