/*
 * qlog HTTP/3 events (draft-ietf-quic-qlog-h3-events-13) of the HTTP/3
 * dissector: see dissect_h3.h.
 */
#include <stdbool.h>
#include <stdio.h>

#include "app/dissect_h3.h"
#include "app/h3_frame.h"
#include "app/qpack.h"
#include "mpq/dissect.h"

/* Reserved stream types and settings (RFC 9114 §6.2.3, §7.2.4.1): 0x1f * N + 0x21. */
static bool reserved(uint64_t v)
{
	return v >= 0x21 && (v - 0x21) % 0x1f == 0;
}

static const char *stream_type_name(uint64_t type)
{
	switch (type) {
	case MPQ_H3_STREAM_CONTROL:
		return "control";
	case MPQ_H3_STREAM_PUSH:
		return "push";
	case MPQ_H3_STREAM_QPACK_ENCODER:
		return "qpack_encode";
	case MPQ_H3_STREAM_QPACK_DECODER:
		return "qpack_decode";
	}
	return reserved(type) ? "reserved" : "unknown";
}

static void end(struct mpq_dissect_h3_ev *e)
{
	int rv = mpq_qlog_event_close(e->q);

	if (rv && !e->err)
		e->err = rv;
}

/* The stream's initiator: the client is local (the client flow). */
static const char *initiator(const struct mpq_dissect_h3_ev *e)
{
	return e->stream_id & 1 ? "remote" : "local";
}

void mpq_dissect_h3_ev_stream_type(struct mpq_dissect_h3_ev *e, uint64_t type)
{
	mpq_json *j = mpq_qlog_event_open(e->q, e->ts, "http3:stream_type_set");
	const char *name = stream_type_name(type);

	if (!j)
		return;
	mpq_json_kv_str(j, "initiator", initiator(e));
	mpq_json_kv_u64(j, "stream_id", e->stream_id);
	mpq_json_kv_str(j, "stream_type", name);
	if (name[0] == 'u')
		mpq_json_kv_u64(j, "stream_type_bytes", type);
	end(e);
}

/* Opens the event and its "frame" object. */
static mpq_json *frame_begin(struct mpq_dissect_h3_ev *e, const char *frame_type)
{
	mpq_json *j = mpq_qlog_event_open(e->q, e->ts,
					  e->dir == MPQ_DISSECT_TO_SERVER ? "http3:frame_created"
									  : "http3:frame_parsed");

	if (!j)
		return NULL;
	mpq_json_kv_u64(j, "stream_id", e->stream_id);
	mpq_json_key(j, "frame");
	mpq_json_obj_begin(j);
	mpq_json_kv_str(j, "frame_type", frame_type);
	return j;
}

/* Closes the frame with its raw lengths (header and payload). */
static void frame_end(struct mpq_dissect_h3_ev *e, mpq_json *j, uint64_t type, uint64_t len)
{
	uint8_t hdr[16];

	mpq_json_key(j, "raw");
	mpq_json_obj_begin(j);
	mpq_json_kv_u64(j, "length", mpq_h3_write_frame_header(hdr, sizeof(hdr), type, len) + len);
	mpq_json_kv_u64(j, "payload_length", len);
	mpq_json_obj_end(j);
	mpq_json_obj_end(j);
	end(e);
}

void mpq_dissect_h3_ev_data(struct mpq_dissect_h3_ev *e, uint64_t len)
{
	mpq_json *j = frame_begin(e, "data");

	if (j)
		frame_end(e, j, MPQ_H3_DATA, len);
}

/* Text when it is UTF-8, else its bytes in hex. */
static void kv_text(mpq_json *j, const char *key, const char *bytes_key, const uint8_t *s,
		    size_t len)
{
	if (mpq_json_utf8_valid(s, len)) {
		mpq_json_key(j, key);
		mpq_json_strn(j, s, len);
	} else {
		mpq_json_kv_hex(j, bytes_key, s, len);
	}
}

static int field(void *user_data, const mpq_qpack_field *f)
{
	mpq_json *j = user_data;

	mpq_json_obj_begin(j);
	kv_text(j, "name", "name_bytes", f->name, f->namelen);
	kv_text(j, "value", "value_bytes", f->value, f->valuelen);
	mpq_json_obj_end(j);
	return 0;
}

/* "headers": the decoded field section (as far as it decodes). */
static uint64_t headers(struct mpq_dissect_h3_ev *e, mpq_json *j, const uint8_t *p, size_t len)
{
	int rv;

	mpq_json_key(j, "headers");
	mpq_json_arr_begin(j);
	rv = mpq_qpack_decode(p, len, e->scratch, MPQ_DISSECT_H3_SCRATCH, field, j);
	mpq_json_arr_end(j);
	if (rv == MPQ_QPACK_ERR_TOO_LARGE)
		return MPQ_H3_EXCESSIVE_LOAD;
	return rv ? MPQ_QPACK_DECOMPRESSION_FAILED : 0;
}

static const char *setting_name(uint64_t id)
{
	switch (id) {
	case MPQ_H3_SETTING_QPACK_MAX_TABLE_CAPACITY:
		return "settings_qpack_max_table_capacity";
	case MPQ_H3_SETTING_MAX_FIELD_SECTION_SIZE:
		return "settings_max_field_section_size";
	case MPQ_H3_SETTING_QPACK_BLOCKED_STREAMS:
		return "settings_qpack_blocked_streams";
	case 0x8:
		return "settings_enable_connect_protocol";
	case 0x33:
		return "settings_h3_datagram";
	}
	return reserved(id) ? "reserved" : "unknown";
}

/* "settings": every identifier and value pair, known or not. */
static uint64_t settings(mpq_json *j, const uint8_t *p, size_t len)
{
	uint64_t rv = 0;

	mpq_json_key(j, "settings");
	mpq_json_arr_begin(j);
	while (len) {
		uint64_t id, value;
		size_t n = mpq_h3_varint(p, len, &id), m;

		if (!n || !(m = mpq_h3_varint(p + n, len - n, &value))) {
			rv = MPQ_H3_FRAME_ERROR;
			break;
		}
		p += n + m;
		len -= n + m;
		mpq_json_obj_begin(j);
		mpq_json_kv_str(j, "name", setting_name(id));
		if (setting_name(id)[0] == 'u')
			mpq_json_kv_u64(j, "name_bytes", id);
		mpq_json_kv_u64(j, "value", value);
		mpq_json_obj_end(j);
	}
	mpq_json_arr_end(j);
	return rv;
}

/* A frame whose payload is one varint, logged under |key|. */
static uint64_t one_varint(mpq_json *j, const char *key, const uint8_t *p, size_t len)
{
	uint64_t v, rv = mpq_h3_parse_varint_payload(p, len, &v);

	if (!rv)
		mpq_json_kv_u64(j, key, v);
	return rv;
}

static const char *frame_type_name(uint64_t type)
{
	switch (type) {
	case MPQ_H3_HEADERS:
		return "headers";
	case MPQ_H3_CANCEL_PUSH:
		return "cancel_push";
	case MPQ_H3_SETTINGS:
		return "settings";
	case MPQ_H3_PUSH_PROMISE:
		return "push_promise";
	case MPQ_H3_GOAWAY:
		return "goaway";
	case MPQ_H3_MAX_PUSH_ID:
		return "max_push_id";
	}
	return "unknown";
}

uint64_t mpq_dissect_h3_ev_frame(struct mpq_dissect_h3_ev *e, uint64_t type,
				 const uint8_t *payload, size_t len)
{
	const char *name = frame_type_name(type);
	mpq_json *j = frame_begin(e, name);
	uint64_t rv = 0, push_id;
	size_t n;

	if (!j)
		return 0;
	switch (type) {
	case MPQ_H3_HEADERS:
		rv = headers(e, j, payload, len);
		break;
	case MPQ_H3_SETTINGS:
		rv = settings(j, payload, len);
		break;
	case MPQ_H3_GOAWAY:
		rv = one_varint(j, "id", payload, len);
		break;
	case MPQ_H3_CANCEL_PUSH:
	case MPQ_H3_MAX_PUSH_ID:
		rv = one_varint(j, "push_id", payload, len);
		break;
	case MPQ_H3_PUSH_PROMISE:
		n = mpq_h3_varint(payload, len, &push_id);
		if (!n) {
			rv = MPQ_H3_FRAME_ERROR;
			break;
		}
		mpq_json_kv_u64(j, "push_id", push_id);
		rv = headers(e, j, payload + n, len - n);
		break;
	default:
		mpq_json_kv_u64(j, "frame_type_bytes", type);
	}
	frame_end(e, j, type, len);
	return rv;
}

void mpq_dissect_h3_ev_warning(struct mpq_dissect_h3_ev *e, uint64_t code, const char *why)
{
	mpq_json *j = mpq_qlog_event_open(e->q, e->ts, "loglevel:warning");
	char msg[160];

	if (!j)
		return;
	snprintf(msg, sizeof(msg), "http3: stream %llu %s: %s%s%s",
		 (unsigned long long)e->stream_id,
		 e->dir == MPQ_DISSECT_TO_SERVER ? "to server" : "to client", why,
		 code ? ", " : "", code ? mpq_h3_error_name(code) : "");
	mpq_json_kv_str(j, "message", msg);
	if (code)
		mpq_json_kv_u64(j, "code", code);
	mpq_json_kv_u64(j, "stream_id", e->stream_id);
	end(e);
}
