/*
 * HTTP/3 control streams (RFC 9114 §6.2, §7.2.4) and the QPACK streams of a
 * peer whose dynamic table we keep at 0 (RFC 9204 §4.2): see h3_conn.h.
 */
#include <stdlib.h>
#include <string.h>

#include "app/h3_conn.h"

/* A peer stream whose type varint has not all arrived. */
struct mpq_h3_uni {
	int64_t id;
	uint8_t type[8];
	size_t n;
	struct mpq_h3_uni *next;
};

bool mpq_h3_conn_is_h3(const mpq_conn *conn)
{
	size_t len = 0;
	const uint8_t *alpn = mpq_conn_alpn(conn, &len);
	return alpn && len == 2 && memcmp(alpn, MPQ_H3_ALPN, 2) == 0;
}

void mpq_h3_conn_fail(struct mpq_h3_conn *h, uint64_t code, const char *why)
{
	if (h->failed)
		return;
	h->failed = true;
	mpq_conn_close(h->conn, code, why, mpq_conn_now(h->conn));
}

static void flush_control(struct mpq_h3_conn *h)
{
	if (h->ctrl_out < 0 || h->out_sent == h->out_len)
		return;
	int64_t took = mpq_conn_stream_write(h->conn, h->ctrl_out, h->out + h->out_sent,
					     h->out_len - h->out_sent, false);
	if (took < 0)
		mpq_h3_conn_fail(h, MPQ_H3_CLOSED_CRITICAL_STREAM, "control stream not writable");
	else
		h->out_sent += (size_t)took;
}

/* Opens our control stream and queues its type and SETTINGS. */
static void open_control(struct mpq_h3_conn *h)
{
	if (mpq_conn_open_stream(h->conn, false, &h->ctrl_out) != 0) {
		h->ctrl_out = -1;
		mpq_h3_conn_fail(h, MPQ_H3_STREAM_CREATION_ERROR,
				 "cannot open the control stream");
		return;
	}
	mpq_conn_stream_set_user_data(h->conn, h->ctrl_out, h);
	h->out_len = mpq_h3_write_varint(h->out, sizeof(h->out), MPQ_H3_STREAM_CONTROL);
	h->out_len += mpq_h3_write_settings(h->out + h->out_len, sizeof(h->out) - h->out_len,
					    MPQ_H3_MAX_FIELD_SECTION);
	flush_control(h);
}

struct mpq_h3_conn *mpq_h3_conn_get(struct mpq_h3_conn **list, mpq_conn *conn)
{
	/* Our first unidirectional stream is the control stream: 2 for a
	 * client, 3 for a server; its user data finds the state at once. */
	struct mpq_h3_conn *h =
		mpq_conn_stream_get_user_data(conn, mpq_conn_is_server(conn) ? 3 : 2);
	if (h && h->conn == conn)
		return h;
	h = *list;
	while (h && h->conn != conn)
		h = h->next;
	if (h)
		return h;
	h = calloc(1, sizeof(*h));
	if (!h) {
		mpq_conn_close(conn, MPQ_H3_INTERNAL_ERROR, "out of memory", mpq_conn_now(conn));
		return NULL;
	}
	h->conn = conn;
	h->ctrl_in = h->qenc_in = h->qdec_in = h->max_request = -1;
	h->next = *list;
	*list = h;
	open_control(h);
	return h;
}

static void conn_free(struct mpq_h3_conn *h)
{
	while (h->pending) {
		struct mpq_h3_uni *u = h->pending;
		h->pending = u->next;
		free(u);
	}
	mpq_h3_reader_free(&h->ctrl);
	free(h);
}

void mpq_h3_conn_release(struct mpq_h3_conn **list, mpq_conn *conn)
{
	for (struct mpq_h3_conn **pp = list; *pp; pp = &(*pp)->next) {
		struct mpq_h3_conn *h = *pp;
		if (h->conn == conn) {
			*pp = h->next;
			if (h->ctrl_out >= 0)
				mpq_conn_stream_set_user_data(conn, h->ctrl_out, NULL);
			conn_free(h);
			return;
		}
	}
}

void mpq_h3_conn_free_all(struct mpq_h3_conn **list)
{
	while (*list) {
		struct mpq_h3_conn *h = *list;
		*list = h->next;
		conn_free(h);
	}
}

uint64_t mpq_h3_request_frame_check(uint64_t type, bool server)
{
	switch (type) {
	case MPQ_H3_SETTINGS:
	case MPQ_H3_GOAWAY:
	case MPQ_H3_MAX_PUSH_ID:
	case MPQ_H3_CANCEL_PUSH:
		return MPQ_H3_FRAME_UNEXPECTED;
	case MPQ_H3_PUSH_PROMISE:
		/* Only servers push, and only after MAX_PUSH_ID: we never send one. */
		return server ? MPQ_H3_FRAME_UNEXPECTED : MPQ_H3_ID_ERROR;
	default:
		return 0;
	}
}

/* A frame on the peer's control stream (§6.2.1, §7.2). */
static uint64_t control_frame(void *ud, uint64_t type, const uint8_t *p, size_t len)
{
	struct mpq_h3_conn *h = ud;
	bool server = mpq_conn_is_server(h->conn);
	if (!h->settings_in) {
		if (type != MPQ_H3_SETTINGS)
			return MPQ_H3_MISSING_SETTINGS;
		h->settings_in = true;
		return mpq_h3_parse_settings(p, len, &h->peer);
	}
	uint64_t v;
	switch (type) {
	case MPQ_H3_GOAWAY:
		if (mpq_h3_parse_varint_payload(p, len, &v))
			return MPQ_H3_FRAME_ERROR;
		/* A server's GOAWAY names a client stream, and may only shrink. */
		if ((!server && (v & 3) != 0) || (h->goaway_in && v > h->goaway_id))
			return MPQ_H3_ID_ERROR;
		h->goaway_in = true;
		h->goaway_id = v;
		if (h->on_goaway)
			h->on_goaway(h->goaway_user_data, h->conn, v);
		return 0;
	case MPQ_H3_MAX_PUSH_ID:
		if (!server)
			return MPQ_H3_FRAME_UNEXPECTED;
		return mpq_h3_parse_varint_payload(p, len, &v);
	case MPQ_H3_CANCEL_PUSH:
		if (mpq_h3_parse_varint_payload(p, len, &v))
			return MPQ_H3_FRAME_ERROR;
		/* A client may cancel a push it allowed (we never push); we
		 * never allowed one, so a server can name none. */
		return server ? 0 : MPQ_H3_ID_ERROR;
	default:
		/* SETTINGS again, HEADERS, PUSH_PROMISE. */
		return MPQ_H3_FRAME_UNEXPECTED;
	}
}

static uint64_t control_data(void *ud, uint64_t len)
{
	(void)ud;
	(void)len;
	return MPQ_H3_FRAME_UNEXPECTED;
}

static const struct mpq_h3_reader_cb control_cb = {
	.frame = control_frame,
	.data_start = control_data,
};

/* The peer's QPACK encoder stream: with our capacity at 0 the only
 * instruction it may carry is Set Dynamic Table Capacity 0 (RFC 9204 §4.3). */
static uint64_t encoder_stream(const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (data[i] != 0x20)
			return MPQ_QPACK_ENCODER_STREAM_ERROR;
	return 0;
}

/* The peer's QPACK decoder stream: we never reference the dynamic table, so
 * only Stream Cancellation (01xxxxxx, a 6-bit prefix integer) makes sense;
 * Section Acknowledgment and Insert Count Increment are errors (§4.4). */
static uint64_t decoder_stream(struct mpq_h3_conn *h, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t b = data[i];
		if (h->qdec_cont) {
			h->qdec_cont = b & 0x80;
			continue;
		}
		if ((b & 0xc0) != 0x40)
			return MPQ_QPACK_DECODER_STREAM_ERROR;
		h->qdec_cont = (b & 0x3f) == 0x3f;
	}
	return 0;
}

/* Bytes of stream |id| once its type is known. */
static uint64_t uni_content(struct mpq_h3_conn *h, int64_t id, const uint8_t *data, size_t len,
			    bool fin)
{
	uint64_t err = 0;
	if (id == h->ctrl_in) {
		err = mpq_h3_read(&h->ctrl, data, len, &control_cb, h);
		if (!err && fin)
			err = MPQ_H3_CLOSED_CRITICAL_STREAM;
	} else if (id == h->qenc_in || id == h->qdec_in) {
		err = id == h->qenc_in ? encoder_stream(data, len) : decoder_stream(h, data, len);
		if (!err && fin)
			err = MPQ_H3_CLOSED_CRITICAL_STREAM;
	}
	return err;
}

/* The type of stream |id| is known: claim it. Returns an error code, 0, or
 * 1 when the stream is to be ignored. */
static uint64_t uni_typed(struct mpq_h3_conn *h, int64_t id, uint64_t type)
{
	int64_t *slot = NULL;
	switch (type) {
	case MPQ_H3_STREAM_CONTROL:
		slot = &h->ctrl_in;
		break;
	case MPQ_H3_STREAM_QPACK_ENCODER:
		slot = &h->qenc_in;
		break;
	case MPQ_H3_STREAM_QPACK_DECODER:
		slot = &h->qdec_in;
		break;
	case MPQ_H3_STREAM_PUSH:
		/* A client may not push; a server only after MAX_PUSH_ID. */
		return mpq_conn_is_server(h->conn) ? MPQ_H3_STREAM_CREATION_ERROR
						   : MPQ_H3_ID_ERROR;
	default:
		mpq_conn_stream_stop_sending(h->conn, id, MPQ_H3_STREAM_CREATION_ERROR);
		return 1;
	}
	if (*slot >= 0)
		return MPQ_H3_STREAM_CREATION_ERROR; /* a second one */
	*slot = id;
	return 0;
}

static struct mpq_h3_uni **pending_of(struct mpq_h3_conn *h, int64_t id)
{
	struct mpq_h3_uni **pp = &h->pending;
	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

void mpq_h3_conn_uni_data(struct mpq_h3_conn *h, int64_t id, uint64_t offset, const uint8_t *data,
			  size_t len, bool fin)
{
	uint64_t err = 0;
	if (h->failed)
		return;
	if (id == h->ctrl_in || id == h->qenc_in || id == h->qdec_in) {
		err = uni_content(h, id, data, len, fin);
		goto out;
	}
	struct mpq_h3_uni **pp = pending_of(h, id);
	if (!*pp && offset > 0)
		return; /* a stream we stopped: its type was read before */
	/* The type varint, maybe split: gather it. */
	uint8_t tb[8];
	size_t have = 0;
	if (*pp) {
		memcpy(tb, (*pp)->type, (*pp)->n);
		have = (*pp)->n;
	}
	size_t used = 0;
	uint64_t type = 0;
	size_t tlen = 0;
	while (used < len && !tlen) {
		tb[have++] = data[used++];
		tlen = mpq_h3_varint(tb, have, &type);
	}
	if (!tlen) {
		if (fin) {
			/* Ended before its type: nothing to do with it. */
			if (*pp) {
				struct mpq_h3_uni *u = *pp;
				*pp = u->next;
				free(u);
			}
			return;
		}
		if (!*pp) {
			*pp = calloc(1, sizeof(**pp));
			if (!*pp) {
				mpq_h3_conn_fail(h, MPQ_H3_INTERNAL_ERROR, "out of memory");
				return;
			}
			(*pp)->id = id;
		}
		memcpy((*pp)->type, tb, have);
		(*pp)->n = have;
		return;
	}
	if (*pp) {
		struct mpq_h3_uni *u = *pp;
		*pp = u->next;
		free(u);
	}
	err = uni_typed(h, id, type);
	if (err == 1)
		return;
	if (!err)
		err = uni_content(h, id, data + used, len - used, fin);
out:
	if (err)
		mpq_h3_conn_fail(h, err, mpq_h3_error_name(err));
}

void mpq_h3_conn_uni_reset(struct mpq_h3_conn *h, int64_t id)
{
	if (id == h->ctrl_in || id == h->qenc_in || id == h->qdec_in)
		mpq_h3_conn_fail(h, MPQ_H3_CLOSED_CRITICAL_STREAM, "critical stream reset");
	struct mpq_h3_uni **pp = pending_of(h, id);
	if (*pp) {
		struct mpq_h3_uni *u = *pp;
		*pp = u->next;
		free(u);
	}
}

void mpq_h3_conn_goaway(struct mpq_h3_conn *h)
{
	/* The first request stream we will not process: past the highest. */
	uint64_t next = h->max_request < 0 ? 0 : (uint64_t)h->max_request + 4;
	uint8_t v[8];
	size_t vl = mpq_h3_write_varint(v, sizeof(v), next);
	if (h->ctrl_out < 0 || h->goaway_out || h->failed)
		return;
	size_t n = mpq_h3_write_frame_header(h->out + h->out_len, sizeof(h->out) - h->out_len,
					     MPQ_H3_GOAWAY, vl);
	if (!n || sizeof(h->out) - h->out_len - n < vl)
		return;
	memcpy(h->out + h->out_len + n, v, vl);
	h->out_len += n + vl;
	h->goaway_out = true;
	flush_control(h);
}

void mpq_h3_conn_writable(struct mpq_h3_conn *h, int64_t id)
{
	if (id == h->ctrl_out)
		flush_control(h);
}

void mpq_h3_conn_stopped(struct mpq_h3_conn *h, int64_t id)
{
	if (id == h->ctrl_out)
		mpq_h3_conn_fail(h, MPQ_H3_CLOSED_CRITICAL_STREAM, "control stream stopped");
}
