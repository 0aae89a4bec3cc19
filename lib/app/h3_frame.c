/*
 * HTTP/3 frame reader and writers (RFC 9114 §7). The reader keeps per stream
 * only the frame header being read and, for frames other than DATA, the
 * payload so far, up to MPQ_H3_MAX_BUFFERED: DATA payload passes straight
 * through, unknown frames are skipped as they arrive.
 */
#include <stdlib.h>
#include <string.h>

#include "app/h3_frame.h"
#include "quic/wire.h"

size_t mpq_h3_varint(const uint8_t *p, size_t len, uint64_t *v)
{
	mpq_reader r;
	mpq_reader_init(&r, p, len);
	if (mpq_read_varint(&r, v) != 0)
		return 0;
	return len - mpq_reader_left(&r);
}

size_t mpq_h3_write_varint(uint8_t *out, size_t cap, uint64_t v)
{
	mpq_writer w;
	mpq_writer_init(&w, out, cap);
	if (mpq_write_varint(&w, v) != 0)
		return 0;
	return cap - mpq_writer_left(&w);
}

size_t mpq_h3_write_frame_header(uint8_t *out, size_t cap, uint64_t type, uint64_t len)
{
	mpq_writer w;
	mpq_writer_init(&w, out, cap);
	if (mpq_write_varint(&w, type) != 0 || mpq_write_varint(&w, len) != 0)
		return 0;
	return cap - mpq_writer_left(&w);
}

size_t mpq_h3_write_settings(uint8_t *out, size_t cap, uint64_t max_field_section)
{
	uint8_t body[32];
	mpq_writer w;
	mpq_writer_init(&w, body, sizeof(body));
	mpq_write_varint(&w, MPQ_H3_SETTING_QPACK_MAX_TABLE_CAPACITY);
	mpq_write_varint(&w, 0);
	mpq_write_varint(&w, MPQ_H3_SETTING_QPACK_BLOCKED_STREAMS);
	mpq_write_varint(&w, 0);
	if (max_field_section) {
		mpq_write_varint(&w, MPQ_H3_SETTING_MAX_FIELD_SECTION_SIZE);
		mpq_write_varint(&w, max_field_section);
	}
	/* A reserved identifier (0x1f * N + 0x21): peers must ignore it. */
	mpq_write_varint(&w, 0x1f * 3 + 0x21);
	mpq_write_varint(&w, 0);
	size_t blen = sizeof(body) - mpq_writer_left(&w);
	size_t n = mpq_h3_write_frame_header(out, cap, MPQ_H3_SETTINGS, blen);
	if (!n || cap - n < blen)
		return 0;
	memcpy(out + n, body, blen);
	return n + blen;
}

uint64_t mpq_h3_parse_varint_payload(const uint8_t *p, size_t len, uint64_t *v)
{
	size_t n = mpq_h3_varint(p, len, v);
	return n && n == len ? 0 : MPQ_H3_FRAME_ERROR;
}

uint64_t mpq_h3_parse_settings(const uint8_t *p, size_t len, struct mpq_h3_settings *s)
{
	unsigned seen = 0; /* bit per known identifier (all below 8) */
	s->qpack_max_table_capacity = 0;
	s->max_field_section_size = UINT64_MAX;
	s->qpack_blocked_streams = 0;
	size_t pos = 0;
	while (pos < len) {
		uint64_t id, v;
		size_t n = mpq_h3_varint(p + pos, len - pos, &id);
		size_t m = n ? mpq_h3_varint(p + pos + n, len - pos - n, &v) : 0;
		if (!m)
			return MPQ_H3_FRAME_ERROR;
		pos += n + m;
		if (id >= 0x2 && id <= 0x5)
			return MPQ_H3_SETTINGS_ERROR; /* HTTP/2's, reserved in HTTP/3 */
		if (id >= 8)
			continue;
		if (seen & 1u << id)
			return MPQ_H3_SETTINGS_ERROR;
		seen |= 1u << id;
		if (id == MPQ_H3_SETTING_QPACK_MAX_TABLE_CAPACITY)
			s->qpack_max_table_capacity = v;
		else if (id == MPQ_H3_SETTING_MAX_FIELD_SECTION_SIZE)
			s->max_field_section_size = v;
		else if (id == MPQ_H3_SETTING_QPACK_BLOCKED_STREAMS)
			s->qpack_blocked_streams = v;
	}
	return 0;
}

void mpq_h3_reader_init(struct mpq_h3_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void mpq_h3_reader_free(struct mpq_h3_reader *r)
{
	free(r->buf);
	mpq_h3_reader_init(r);
}

bool mpq_h3_reader_at_boundary(const struct mpq_h3_reader *r)
{
	return !r->in_frame && r->hdrlen == 0;
}

static bool buffered_type(uint64_t type)
{
	switch (type) {
	case MPQ_H3_HEADERS:
	case MPQ_H3_CANCEL_PUSH:
	case MPQ_H3_SETTINGS:
	case MPQ_H3_PUSH_PROMISE:
	case MPQ_H3_GOAWAY:
	case MPQ_H3_MAX_PUSH_ID:
		return true;
	default:
		return false;
	}
}

/* The frame header is complete: check the type, make room. */
static uint64_t frame_begin(struct mpq_h3_reader *r, const struct mpq_h3_reader_cb *cb, void *ud)
{
	switch (r->type) {
	case 0x2: /* HTTP/2 PRIORITY */
	case 0x6: /* PING */
	case 0x8: /* WINDOW_UPDATE */
	case 0x9: /* CONTINUATION */
		return MPQ_H3_FRAME_UNEXPECTED;
	case MPQ_H3_DATA:
		return cb->data_start ? cb->data_start(ud, r->len) : 0;
	}
	if (!buffered_type(r->type))
		return 0;
	if (r->len > MPQ_H3_MAX_BUFFERED)
		return MPQ_H3_EXCESSIVE_LOAD;
	if (r->len > r->cap) {
		uint8_t *b = realloc(r->buf, (size_t)r->len);
		if (!b)
			return MPQ_H3_INTERNAL_ERROR;
		r->buf = b;
		r->cap = (size_t)r->len;
	}
	return 0;
}

static uint64_t frame_end(struct mpq_h3_reader *r, const struct mpq_h3_reader_cb *cb, void *ud)
{
	r->in_frame = false;
	if (!buffered_type(r->type) || !cb->frame)
		return 0;
	return cb->frame(ud, r->type, r->buf, (size_t)r->len);
}

uint64_t mpq_h3_read(struct mpq_h3_reader *r, const uint8_t *data, size_t len,
		     const struct mpq_h3_reader_cb *cb, void *ud)
{
	size_t pos = 0;
	uint64_t err = 0;
	if (r->error)
		return r->error;
	while (!err && (pos < len || (r->in_frame && r->got == r->len))) {
		if (!r->in_frame) {
			/* Header bytes one by one: at most 16, and either varint
			 * may be split anywhere. */
			r->hdr[r->hdrlen++] = data[pos++];
			size_t n = mpq_h3_varint(r->hdr, r->hdrlen, &r->type);
			if (!n || !mpq_h3_varint(r->hdr + n, r->hdrlen - n, &r->len))
				continue;
			r->hdrlen = 0;
			r->in_frame = true;
			r->got = 0;
			err = frame_begin(r, cb, ud);
			continue;
		}
		size_t take = len - pos;
		if (take > r->len - r->got)
			take = (size_t)(r->len - r->got);
		if (r->type == MPQ_H3_DATA) {
			if (take && cb->data)
				err = cb->data(ud, data + pos, take);
		} else if (buffered_type(r->type) && take) {
			memcpy(r->buf + r->got, data + pos, take);
		}
		r->got += take;
		pos += take;
		if (!err && r->got == r->len)
			err = frame_end(r, cb, ud);
	}
	r->error = err;
	return err;
}

const char *mpq_h3_error_name(uint64_t code)
{
	static const char *const names[] = {
		"H3_NO_ERROR",
		"H3_GENERAL_PROTOCOL_ERROR",
		"H3_INTERNAL_ERROR",
		"H3_STREAM_CREATION_ERROR",
		"H3_CLOSED_CRITICAL_STREAM",
		"H3_FRAME_UNEXPECTED",
		"H3_FRAME_ERROR",
		"H3_EXCESSIVE_LOAD",
		"H3_ID_ERROR",
		"H3_SETTINGS_ERROR",
		"H3_MISSING_SETTINGS",
		"H3_REQUEST_REJECTED",
		"H3_REQUEST_CANCELLED",
		"H3_REQUEST_INCOMPLETE",
		"H3_MESSAGE_ERROR",
		"H3_CONNECT_ERROR",
		"H3_VERSION_FALLBACK",
	};
	if (code >= MPQ_H3_NO_ERROR && code <= MPQ_H3_VERSION_FALLBACK)
		return names[code - MPQ_H3_NO_ERROR];
	if (code == MPQ_QPACK_DECOMPRESSION_FAILED)
		return "QPACK_DECOMPRESSION_FAILED";
	if (code == MPQ_QPACK_ENCODER_STREAM_ERROR)
		return "QPACK_ENCODER_STREAM_ERROR";
	if (code == MPQ_QPACK_DECODER_STREAM_ERROR)
		return "QPACK_DECODER_STREAM_ERROR";
	return "unknown";
}
