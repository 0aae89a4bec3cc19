/*
 * What decrypted frames teach the decoder: CRYPTO data (the handshake
 * messages), the CIDs of NEW_CONNECTION_ID and PATH_NEW_CONNECTION_ID (and
 * the path they belong to), acknowledgements (RTT at the capture point), and
 * STREAM offsets (bytes sent again). Frames decode with the library's decoder
 * (mpq/dissect.h).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

/* Frame kinds counted: the RFC 9000 types (STREAM's eight as one), then the
 * multipath and ADD_ADDRESS ones, then other stacks' extensions the
 * dissector skips by size, then everything else. */
static const uint64_t kind_types[] = {
	MPQ_FT_PADDING,
	MPQ_FT_PING,
	MPQ_FT_ACK,
	MPQ_FT_ACK_ECN,
	MPQ_FT_RESET_STREAM,
	MPQ_FT_STOP_SENDING,
	MPQ_FT_CRYPTO,
	MPQ_FT_NEW_TOKEN,
	MPQ_FT_STREAM,
	MPQ_FT_MAX_DATA,
	MPQ_FT_MAX_STREAM_DATA,
	MPQ_FT_MAX_STREAMS_BIDI,
	MPQ_FT_MAX_STREAMS_UNI,
	MPQ_FT_DATA_BLOCKED,
	MPQ_FT_STREAM_DATA_BLOCKED,
	MPQ_FT_STREAMS_BLOCKED_BIDI,
	MPQ_FT_STREAMS_BLOCKED_UNI,
	MPQ_FT_NEW_CONNECTION_ID,
	MPQ_FT_RETIRE_CONNECTION_ID,
	MPQ_FT_PATH_CHALLENGE,
	MPQ_FT_PATH_RESPONSE,
	MPQ_FT_CONNECTION_CLOSE,
	MPQ_FT_CONNECTION_CLOSE_APP,
	MPQ_FT_HANDSHAKE_DONE,
	MPQ_FT_PATH_ACK,
	MPQ_FT_PATH_ACK_ECN,
	MPQ_FT_PATH_ABANDON,
	MPQ_FT_PATH_STATUS_BACKUP,
	MPQ_FT_PATH_STATUS_AVAILABLE,
	MPQ_FT_PATH_NEW_CONNECTION_ID,
	MPQ_FT_PATH_RETIRE_CONNECTION_ID,
	MPQ_FT_MAX_PATH_ID,
	MPQ_FT_PATHS_BLOCKED,
	MPQ_FT_PATH_CIDS_BLOCKED,
	MPQ_FT_ADD_ADDRESS,
	MPQ_FT_REMOVE_ADDRESS,
	MPQ_FT_ACK_FREQUENCY,
	MPQ_FT_IMMEDIATE_ACK,
	MPQ_FT_TIME_STAMP,
};
#define NKINDS (sizeof(kind_types) / sizeof(kind_types[0]))

int trace_frame_kind(uint64_t type)
{
	if (type > MPQ_FT_STREAM && type <= (MPQ_FT_STREAM | 7))
		type = MPQ_FT_STREAM;
	for (size_t i = 0; i < NKINDS; i++)
		if (kind_types[i] == type)
			return (int)i;
	return -1;
}

const char *trace_frame_kind_name(int kind)
{
	if (kind == TRACE_NFRAME_KINDS - 1)
		return "unknown";
	if (kind < 0 || (size_t)kind >= NKINDS)
		return NULL;
	return mpq_dissect_frame_name(kind_types[kind]);
}

static void crypto_data(struct trace_conn *c, int dir, int level, uint64_t offset,
			const uint8_t *data, size_t len)
{
	struct trace_crypto *cr = &c->crypto[dir][level];
	int rv;

	if (offset > cr->filled || offset + len <= cr->filled)
		return; /* a gap (kept for a retransmission) or nothing new */
	size_t skip = cr->filled - (size_t)offset, n = len - skip;
	if (n > sizeof(cr->buf) - cr->filled)
		n = sizeof(cr->buf) - cr->filled;
	memcpy(cr->buf + cr->filled, data + skip, n);
	cr->filled += n;
	rv = trace_tls_read(&c->tls, cr->buf + cr->parsed, cr->filled - cr->parsed,
			    dir == TO_CLIENT);
	if (rv > 0)
		cr->parsed += (size_t)rv;
}

/* Nanoseconds from the connection's first packet to |p|. */
static uint64_t since_first(const struct trace_conn *c, const struct trace_pkt *p)
{
	return p->ts > c->first_ts ? p->ts - c->first_ts : 0;
}

/* RTT at the capture point: from an ack-eliciting packet to the
 * acknowledgement of it as largest, in the other direction on its path. */
static void ack(const struct trace *t, struct trace_conn *c, const struct trace_pkt *p,
		const mpq_dissect_frame *a, uint64_t path_id)
{
	int sent_dir = !p->dir;
	struct trace_path *path;
	struct trace_sent *s;
	double sample;

	if (!a->ack.nranges || !(path = trace_path_find(c, path_id)))
		return;
	s = &path->sent[sent_dir][a->ack.ranges[0].largest % TRACE_RTT_RING];
	if (s->pn != a->ack.ranges[0].largest + 1 || p->ts < s->ts)
		return;
	sample = (double)(p->ts - s->ts) / 1e6;
	s->pn = 0; /* one sample per packet */
	if (!path->has_rtt[sent_dir])
		path->srtt_ms[sent_dir] = sample;
	else
		path->srtt_ms[sent_dir] = 0.875 * path->srtt_ms[sent_dir] + 0.125 * sample;
	path->has_rtt[sent_dir] = true;
	if (t->series)
		trace_series_rtt(path, since_first(c, p), sent_dir, sample);
}

/* The first time |*ts| is set for the path |id| (one already seen). */
static void path_event(struct trace_conn *c, uint64_t id, size_t field, uint64_t ts)
{
	struct trace_path *path = trace_path_find(c, id);
	uint64_t *at;

	if (!path)
		return;
	at = (uint64_t *)((char *)path + field);
	if (!*at)
		*at = ts;
}

static int stream(const struct trace *t, struct trace_conn *c, const struct trace_pkt *p,
		  struct trace_path *path, uint64_t id, uint64_t offset, size_t len)
{
	struct trace_stream *s = NULL;
	uint64_t end = offset + len;

	int dir = p->dir;

	for (size_t i = 0; i < c->nstreams; i++)
		if (c->streams[i].id == id && c->streams[i].dir == dir)
			s = &c->streams[i];
	if (!s) {
		if (c->nstreams == c->streams_cap) {
			size_t cap = c->streams_cap ? c->streams_cap * 2 : 16;
			struct trace_stream *n = realloc(c->streams, cap * sizeof(*n));

			if (!n)
				return -1;
			c->streams = n;
			c->streams_cap = cap;
		}
		s = &c->streams[c->nstreams++];
		*s = (struct trace_stream){id, 0, dir};
	}
	if (offset < s->end)
		path->retransmitted_bytes += (end < s->end ? end : s->end) - offset;
	if (end > s->end) {
		/* Goodput as the stream's highest offset moves: a gap
		 * (reordered across paths) counts with the packet that jumps
		 * it, so the sum over paths is each stream's length. */
		if (t->series)
			trace_series_add(path, since_first(c, p), COL_GOODPUT, end - s->end);
		s->end = end;
	}
	return 0;
}

int trace_frames(struct trace *t, struct trace_conn *c, const struct trace_pkt *p, int level,
		 mpq_dissect_frame *out, size_t *nout)
{
	struct trace_path *path = trace_path_find(c, p->path_id);
	bool eliciting = false;
	mpq_dissect_frames it;
	mpq_dissect_frame fr;
	int rv, kind;

	*nout = 0;
	mpq_dissect_frames_init(&it, p->payload, p->payloadlen);
	while ((rv = mpq_dissect_frame_next(&it, &fr)) == 1) {
		kind = trace_frame_kind(fr.type);
		t->frames[kind >= 0 ? kind : TRACE_NFRAME_KINDS - 1]++;
		eliciting |= fr.ack_eliciting;
		if (fr.extension)
			continue;
		if (*nout < TRACE_MAX_FRAMES)
			out[(*nout)++] = fr;
		switch (fr.type) {
		case MPQ_FT_CRYPTO:
			crypto_data(c, p->dir, level, fr.crypto.offset, fr.crypto.data,
				    fr.crypto.len);
			break;
		case MPQ_FT_NEW_CONNECTION_ID:
		case MPQ_FT_PATH_NEW_CONNECTION_ID:
			/* The sender's CID: packets to the sender carry it. */
			if (fr.new_cid.path_id <= UINT32_MAX &&
			    trace_cid_add(t, c, &fr.new_cid.cid, !p->dir,
					  (uint32_t)fr.new_cid.path_id))
				return DROP_MALFORMED;
			break;
		case MPQ_FT_ACK:
		case MPQ_FT_ACK_ECN:
			if (level == LVL_APP)
				ack(t, c, p, &fr, 0);
			break;
		case MPQ_FT_PATH_ACK:
		case MPQ_FT_PATH_ACK_ECN:
			ack(t, c, p, &fr, fr.ack.path_id);
			break;
		case MPQ_FT_PATH_RESPONSE:
			path_event(c, p->path_id, offsetof(struct trace_path, validated_ts),
				   p->ts);
			break;
		case MPQ_FT_PATH_STATUS_BACKUP:
			path_event(c, fr.path_status.path_id,
				   offsetof(struct trace_path, backup_ts), p->ts);
			break;
		case MPQ_FT_PATH_ABANDON:
			path_event(c, fr.path_abandon.path_id,
				   offsetof(struct trace_path, abandoned_ts), p->ts);
			break;
		default:
			if ((fr.type & ~7ULL) == MPQ_FT_STREAM &&
			    stream(t, c, p, path, fr.stream.stream_id, fr.stream.offset,
				   fr.stream.len))
				return DROP_MALFORMED;
		}
	}
	/* Frames after one that does not parse are lost; the packet itself
	 * was decrypted. */
	if (rv < 0)
		t->frames[TRACE_NFRAME_KINDS - 1]++;
	if (eliciting && level == LVL_APP)
		path->sent[p->dir][p->hd->pn % TRACE_RTT_RING] =
			(struct trace_sent){p->hd->pn + 1, p->ts};
	return 0;
}
