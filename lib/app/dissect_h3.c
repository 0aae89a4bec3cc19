/*
 * HTTP/3 of a captured connection (mpq/dissect.h): each stream direction is
 * reassembled by the transport's reassembly buffer (quic/rob.h) and its
 * bytes, as they become contiguous, go to the HTTP/3 frame reader
 * (h3_frame.h), which skips DATA payloads. Memory is bounded: a stream holds
 * at most DISSECT_H3_REORDER bytes beyond what was read and the reader's
 * frame buffer (MPQ_H3_MAX_BUFFERED), and a connection at most
 * DISSECT_H3_MAX_STREAMS streams; a stream that goes past a bound or does
 * not parse is given up with a warning.
 */
#include <stdlib.h>
#include <string.h>

#include "app/dissect_h3.h"
#include "app/h3_frame.h"
#include "mpq/dissect.h"
#include "quic/rob.h"

#define DISSECT_H3_REORDER (64 * 1024)
#define DISSECT_H3_MAX_STREAMS 1024

enum stream_state {
	ST_TYPE,    /* a unidirectional stream's type varint is arriving */
	ST_FRAMES,  /* frames are read */
	ST_IGNORED, /* a stream whose data is not frames to us (QPACK, push, unknown) */
	ST_DONE,    /* ended, or given up: nothing more is read */
};

struct h3_stream {
	uint64_t id;
	int dir;
	enum stream_state state;
	uint8_t type[8];
	size_t ntype;
	bool has_fin;
	uint64_t fin;
	mpq_rob rob;
	struct mpq_h3_reader rd;
};

struct mpq_dissect_h3 {
	struct h3_stream **s;
	size_t n, cap;
	bool full_warned;
	uint8_t scratch[MPQ_DISSECT_H3_SCRATCH];
};

int mpq_dissect_h3_new(mpq_dissect_h3 **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : MPQ_ERR_NOMEM;
}

static void stream_release(struct h3_stream *s)
{
	mpq_rob_free(&s->rob);
	mpq_h3_reader_free(&s->rd);
	s->state = ST_DONE;
}

void mpq_dissect_h3_free(mpq_dissect_h3 *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++) {
		stream_release(h->s[i]);
		free(h->s[i]);
	}
	free(h->s);
	free(h);
}

static void give_up(struct mpq_dissect_h3_ev *e, struct h3_stream *s, uint64_t code,
		    const char *why)
{
	mpq_dissect_h3_ev_warning(e, code, why);
	stream_release(s);
}

static struct h3_stream *stream_new(mpq_dissect_h3 *h, uint64_t id, int dir)
{
	struct h3_stream *s;

	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		struct h3_stream **n = realloc(h->s, cap * sizeof(*n));

		if (!n)
			return NULL;
		h->s = n;
		h->cap = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (mpq_rob_init(&s->rob, DISSECT_H3_REORDER)) {
		free(s);
		return NULL;
	}
	s->id = id;
	s->dir = dir;
	/* Bit 1 of the ID: unidirectional (RFC 9000 §2.1). Bidirectional
	 * streams carry requests and responses from the first byte. */
	s->state = id & 2 ? ST_TYPE : ST_FRAMES;
	mpq_h3_reader_init(&s->rd);
	h->s[h->n++] = s;
	return s;
}

static struct h3_stream *stream_find(mpq_dissect_h3 *h, uint64_t id, int dir)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->s[i]->id == id && h->s[i]->dir == dir)
			return h->s[i];
	return NULL;
}

static uint64_t on_frame(void *user_data, uint64_t type, const uint8_t *payload, size_t len)
{
	return mpq_dissect_h3_ev_frame(user_data, type, payload, len);
}

static uint64_t on_data_start(void *user_data, uint64_t len)
{
	mpq_dissect_h3_ev_data(user_data, len);
	return 0;
}

static const struct mpq_h3_reader_cb reader_cb = {
	.frame = on_frame,
	.data_start = on_data_start,
};

/* The type varint of a unidirectional stream, a byte at a time (it may be
 * cut between packets); how many of |n| bytes it took. */
static size_t stream_type(struct mpq_dissect_h3_ev *e, struct h3_stream *s, const uint8_t *p,
			  size_t n)
{
	size_t took = 0;
	uint64_t type;

	while (took < n && s->state == ST_TYPE) {
		s->type[s->ntype++] = p[took++];
		if (!mpq_h3_varint(s->type, s->ntype, &type))
			continue;
		mpq_dissect_h3_ev_stream_type(e, type);
		s->state = type == MPQ_H3_STREAM_CONTROL ? ST_FRAMES : ST_IGNORED;
	}
	return took;
}

/* Reads what became contiguous. */
static void stream_read(struct mpq_dissect_h3_ev *e, struct h3_stream *s)
{
	const uint8_t *p;
	size_t n, took;
	uint64_t code;

	while (s->state != ST_DONE && (n = mpq_rob_peek(&s->rob, &p)) > 0) {
		took = n;
		if (s->state == ST_TYPE)
			took = stream_type(e, s, p, n);
		else if (s->state == ST_FRAMES &&
			 (code = mpq_h3_read(&s->rd, p, n, &reader_cb, e)) != 0) {
			give_up(e, s, code, "cannot parse");
			return;
		}
		mpq_rob_consume(&s->rob, took);
	}
	if (s->state == ST_DONE || !s->has_fin || mpq_rob_read_offset(&s->rob) < s->fin)
		return;
	if (s->state == ST_FRAMES && !mpq_h3_reader_at_boundary(&s->rd))
		give_up(e, s, MPQ_H3_FRAME_ERROR, "the stream ends inside a frame");
	else
		stream_release(s);
}

int mpq_dissect_h3_stream(mpq_dissect_h3 *h, mpq_qlog *q, uint64_t ts, int dir, uint64_t stream_id,
			  uint64_t offset, const uint8_t *data, size_t len, bool fin)
{
	struct mpq_dissect_h3_ev e = {q, ts, stream_id, dir, h->scratch, 0};
	struct h3_stream *s = stream_find(h, stream_id, dir);
	int rv;

	if (!s) {
		if (h->n >= DISSECT_H3_MAX_STREAMS) {
			if (!h->full_warned)
				mpq_dissect_h3_ev_warning(&e, 0, "too many streams, not parsed");
			h->full_warned = true;
			return e.err;
		}
		s = stream_new(h, stream_id, dir);
		if (!s) {
			mpq_dissect_h3_ev_warning(&e, 0, "out of memory, not parsed");
			return e.err;
		}
	}
	if (s->state == ST_DONE)
		return 0;
	if (fin && !s->has_fin) {
		s->has_fin = true;
		s->fin = offset + len;
	}
	rv = mpq_rob_push(&s->rob, offset, data, len);
	if (rv == MPQ_ERR_NOBUF)
		give_up(&e, s, 0, "data too far ahead of a gap, not parsed");
	else if (rv)
		give_up(&e, s, 0, "out of memory, not parsed");
	else
		stream_read(&e, s);
	return e.err;
}
