/*
 * Frames and shared fields as qlog JSON: see qlog_frame.h. Field names follow
 * draft-ietf-quic-qlog-quic-events-13; multipath frames use their
 * mpq_frame_name and the draft-21 field names (qlog.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "quic/qlog_frame.h"

void mpq_qlog_json_cid(mpq_json *j, const mpq_cid *cid)
{
	mpq_json_hex(j, cid->data, cid->len <= MPQ_MAX_CIDLEN ? cid->len : MPQ_MAX_CIDLEN);
}

void mpq_qlog_json_kv_cid(mpq_json *j, const char *key, const mpq_cid *cid)
{
	mpq_json_key(j, key);
	mpq_qlog_json_cid(j, cid);
}

void mpq_qlog_json_kv_raw_length(mpq_json *j, const char *length_key, uint64_t len)
{
	mpq_json_key(j, "raw");
	mpq_json_obj_begin(j);
	mpq_json_kv_u64(j, length_key, len);
	mpq_json_obj_end(j);
}

/* $TransportError names, RFC 9000 §20.1 order. */
static const char *const transport_errors[] = {
	"no_error",
	"internal_error",
	"connection_refused",
	"flow_control_error",
	"stream_limit_error",
	"stream_state_error",
	"final_size_error",
	"frame_encoding_error",
	"transport_parameter_error",
	"connection_id_limit_error",
	"protocol_violation",
	"invalid_token",
	"application_error",
	"crypto_buffer_exceeded",
	"key_update_error",
	"aead_limit_reached",
	"no_viable_path",
};

void mpq_qlog_json_kv_error(mpq_json *j, const char *key, bool transport, uint64_t code)
{
	const size_t nnames = sizeof(transport_errors) / sizeof(transport_errors[0]);

	if (transport && code < nnames) {
		mpq_json_kv_str(j, key, transport_errors[code]);
	} else if (transport && code >= MPQ_TE_CRYPTO_ERROR && code <= 0x1ff) {
		char name[] = "crypto_error_0x1xx";
		static const char hex[] = "0123456789abcdef";

		name[sizeof(name) - 3] = hex[(code >> 4) & 15];
		name[sizeof(name) - 2] = hex[code & 15];
		mpq_json_kv_str(j, key, name);
	} else {
		mpq_json_kv_str(j, key, "unknown");
		mpq_json_kv_u64(j, "error_code", code);
	}
}

void mpq_qlog_json_kv_reason(mpq_json *j, const uint8_t *reason, size_t len)
{
	if (!reason || !len)
		return;
	mpq_json_key(j, "reason");
	mpq_json_strn(j, reason, len);
	if (!mpq_json_utf8_valid(reason, len))
		mpq_json_kv_hex(j, "reason_bytes", reason, len);
}

/*
 * Frames ($QuicFrame).
 */

/* ACK Delay field -> ms: raw << exponent microseconds (RFC 9000 §19.3). */
static int64_t ack_delay_ns(uint64_t raw, unsigned exponent)
{
	const uint64_t max_us = (uint64_t)INT64_MAX / 1000;

	if (raw > max_us >> exponent)
		return INT64_MAX;
	return (int64_t)((raw << exponent) * 1000);
}

static void write_ack(mpq_json *j, const mpq_frame *fr, unsigned exponent)
{
	const mpq_frame_ack *a = &fr->ack;

	if (fr->type == MPQ_FT_PATH_ACK || fr->type == MPQ_FT_PATH_ACK_ECN)
		mpq_json_kv_u64(j, "path_id", a->path_id);
	mpq_json_kv_ms(j, "ack_delay", ack_delay_ns(a->ack_delay, exponent));
	mpq_json_key(j, "acked_ranges");
	mpq_json_arr_begin(j);
	for (size_t i = 0; i < a->nranges && i < MPQ_MAX_ACK_RANGES; i++) {
		/* [n] for a single packet, [lo, hi] otherwise (quic-events AckFrame) */
		mpq_json_arr_begin(j);
		mpq_json_u64(j, a->ranges[i].smallest);
		if (a->ranges[i].largest != a->ranges[i].smallest)
			mpq_json_u64(j, a->ranges[i].largest);
		mpq_json_arr_end(j);
	}
	mpq_json_arr_end(j);
	if (fr->type == MPQ_FT_ACK_ECN || fr->type == MPQ_FT_PATH_ACK_ECN) {
		mpq_json_kv_u64(j, "ect1", a->ect1);
		mpq_json_kv_u64(j, "ect0", a->ect0);
		mpq_json_kv_u64(j, "ce", a->ce);
	}
}

static void write_new_cid(mpq_json *j, const mpq_frame *fr)
{
	uint8_t len = fr->new_cid.cid.len;

	if (fr->type == MPQ_FT_PATH_NEW_CONNECTION_ID)
		mpq_json_kv_u64(j, "path_id", fr->new_cid.path_id);
	mpq_json_kv_u64(j, "sequence_number", fr->new_cid.seq);
	mpq_json_kv_u64(j, "retire_prior_to", fr->new_cid.retire_prior_to);
	mpq_json_kv_u64(j, "connection_id_length", len);
	mpq_qlog_json_kv_cid(j, "connection_id", &fr->new_cid.cid);
	mpq_json_kv_hex(j, "stateless_reset_token", fr->new_cid.reset_token,
			sizeof(fr->new_cid.reset_token));
}

static void write_close(mpq_json *j, const mpq_frame *fr)
{
	bool transport = fr->type == MPQ_FT_CONNECTION_CLOSE;

	mpq_json_kv_str(j, "error_space", transport ? "transport" : "application");
	mpq_qlog_json_kv_error(j, "error", transport, fr->close.error_code);
	mpq_qlog_json_kv_reason(j, fr->close.reason, fr->close.reasonlen);
	/* Frame Type 0 means "unknown" (RFC 9000 §19.19): left out. */
	if (transport && fr->close.frame_type) {
		const char *name = mpq_frame_name(fr->close.frame_type);

		mpq_json_key(j, "trigger_frame_type");
		if (strcmp(name, "unknown"))
			mpq_json_str(j, name);
		else
			mpq_json_u64(j, fr->close.frame_type);
	}
}

/* ADD_ADDRESS (docs/add_address.md): the address as qlog writes a preferred
 * address (ip_v4/port_v4 or ip_v6/port_v6). */
static void write_add_address(mpq_json *j, const mpq_frame *fr)
{
	uint8_t version = fr->add_address.ip_version;
	bool v6 = version == MPQ_ADD_ADDRESS_IPV6;
	char ip[INET6_ADDRSTRLEN];

	mpq_json_kv_u64(j, "sequence_number", fr->add_address.seq);
	if (!v6 && version != MPQ_ADD_ADDRESS_IPV4) {
		/* not encodable, so never on the wire; say what it holds */
		mpq_json_kv_u64(j, "ip_version", version);
		return;
	}
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, fr->add_address.addr, ip, sizeof(ip)))
		ip[0] = '\0';
	mpq_json_kv_str(j, v6 ? "ip_v6" : "ip_v4", ip);
	mpq_json_kv_u64(j, v6 ? "port_v6" : "port_v4", fr->add_address.port);
}

/* Fields of |fr| after frame_type; false for a type this file does not know. */
static bool write_frame_fields(mpq_json *j, const mpq_frame *fr, unsigned ack_delay_exp)
{
	uint64_t t = fr->type;

	if (t >= MPQ_FT_STREAM && t <= (MPQ_FT_STREAM | 0x07)) {
		mpq_json_kv_u64(j, "stream_id", fr->stream.stream_id);
		mpq_json_kv_u64(j, "offset", fr->stream.offset);
		mpq_json_kv_bool(j, "fin", fr->stream.fin);
		mpq_qlog_json_kv_raw_length(j, "length", fr->stream.len);
		return true;
	}
	switch (t) {
	case MPQ_FT_PADDING:
		mpq_qlog_json_kv_raw_length(j, "payload_length", fr->padding_len);
		return true;
	case MPQ_FT_PING:
	case MPQ_FT_HANDSHAKE_DONE:
		return true;
	case MPQ_FT_ACK:
	case MPQ_FT_ACK_ECN:
	case MPQ_FT_PATH_ACK:
	case MPQ_FT_PATH_ACK_ECN:
		write_ack(j, fr, ack_delay_exp);
		return true;
	case MPQ_FT_RESET_STREAM:
		mpq_json_kv_u64(j, "stream_id", fr->reset_stream.stream_id);
		mpq_qlog_json_kv_error(j, "error", false, fr->reset_stream.error_code);
		mpq_json_kv_u64(j, "final_size", fr->reset_stream.final_size);
		return true;
	case MPQ_FT_STOP_SENDING:
		mpq_json_kv_u64(j, "stream_id", fr->stop_sending.stream_id);
		mpq_qlog_json_kv_error(j, "error", false, fr->stop_sending.error_code);
		return true;
	case MPQ_FT_CRYPTO:
		mpq_json_kv_u64(j, "offset", fr->crypto.offset);
		mpq_qlog_json_kv_raw_length(j, "length", fr->crypto.len);
		return true;
	case MPQ_FT_NEW_TOKEN:
		mpq_json_key(j, "token");
		mpq_json_obj_begin(j);
		mpq_json_key(j, "raw");
		mpq_json_obj_begin(j);
		mpq_json_kv_u64(j, "length", fr->new_token.len);
		if (fr->new_token.token)
			mpq_json_kv_hex(j, "data", fr->new_token.token, fr->new_token.len);
		mpq_json_obj_end(j);
		mpq_json_obj_end(j);
		return true;
	case MPQ_FT_MAX_DATA:
		mpq_json_kv_u64(j, "maximum", fr->max_data.max);
		return true;
	case MPQ_FT_DATA_BLOCKED:
		mpq_json_kv_u64(j, "limit", fr->max_data.max);
		return true;
	case MPQ_FT_MAX_STREAM_DATA:
		mpq_json_kv_u64(j, "stream_id", fr->max_stream_data.stream_id);
		mpq_json_kv_u64(j, "maximum", fr->max_stream_data.max);
		return true;
	case MPQ_FT_STREAM_DATA_BLOCKED:
		mpq_json_kv_u64(j, "stream_id", fr->max_stream_data.stream_id);
		mpq_json_kv_u64(j, "limit", fr->max_stream_data.max);
		return true;
	case MPQ_FT_MAX_STREAMS_BIDI:
	case MPQ_FT_MAX_STREAMS_UNI:
	case MPQ_FT_STREAMS_BLOCKED_BIDI:
	case MPQ_FT_STREAMS_BLOCKED_UNI:
		/* bidi types are even, uni odd; MAX_STREAMS 0x12/0x13 */
		mpq_json_kv_str(j, "stream_type", t & 1 ? "unidirectional" : "bidirectional");
		mpq_json_kv_u64(j, t <= MPQ_FT_MAX_STREAMS_UNI ? "maximum" : "limit",
				fr->max_streams.max);
		return true;
	case MPQ_FT_NEW_CONNECTION_ID:
	case MPQ_FT_PATH_NEW_CONNECTION_ID:
		write_new_cid(j, fr);
		return true;
	case MPQ_FT_PATH_RETIRE_CONNECTION_ID:
		mpq_json_kv_u64(j, "path_id", fr->retire_cid.path_id);
		/* fall through */
	case MPQ_FT_RETIRE_CONNECTION_ID:
		mpq_json_kv_u64(j, "sequence_number", fr->retire_cid.seq);
		return true;
	case MPQ_FT_PATH_CHALLENGE:
	case MPQ_FT_PATH_RESPONSE:
		mpq_json_kv_hex(j, "data", fr->path_challenge.data,
				sizeof(fr->path_challenge.data));
		return true;
	case MPQ_FT_CONNECTION_CLOSE:
	case MPQ_FT_CONNECTION_CLOSE_APP:
		write_close(j, fr);
		return true;
	case MPQ_FT_PATH_ABANDON:
		mpq_json_kv_u64(j, "path_id", fr->path_abandon.path_id);
		mpq_json_kv_u64(j, "error_code", fr->path_abandon.error_code);
		return true;
	case MPQ_FT_PATH_STATUS_BACKUP:
	case MPQ_FT_PATH_STATUS_AVAILABLE:
		mpq_json_kv_u64(j, "path_id", fr->path_status.path_id);
		mpq_json_kv_u64(j, "sequence_number", fr->path_status.seq);
		return true;
	case MPQ_FT_MAX_PATH_ID:
	case MPQ_FT_PATHS_BLOCKED:
		mpq_json_kv_u64(j, "maximum_path_id", fr->max_path_id.max);
		return true;
	case MPQ_FT_PATH_CIDS_BLOCKED:
		mpq_json_kv_u64(j, "path_id", fr->path_cids_blocked.path_id);
		mpq_json_kv_u64(j, "next_sequence_number", fr->path_cids_blocked.next_seq);
		return true;
	case MPQ_FT_ADD_ADDRESS:
		write_add_address(j, fr);
		return true;
	case MPQ_FT_REMOVE_ADDRESS:
		mpq_json_kv_u64(j, "sequence_number", fr->remove_address.seq);
		return true;
	}
	return false;
}

void mpq_qlog_json_frame(mpq_json *j, const mpq_frame *fr, unsigned ack_delay_exp)
{
	const char *name = mpq_frame_name(fr->type);

	mpq_json_obj_begin(j);
	if (strcmp(name, "unknown")) {
		mpq_json_kv_str(j, "frame_type", name);
		if (write_frame_fields(j, fr, ack_delay_exp)) {
			mpq_json_obj_end(j);
			return;
		}
		/* a type frame.c names but this file does not know: unreachable
		 * while both follow the same table; keep the output honest */
		mpq_json_kv_u64(j, "frame_type_bytes", fr->type);
	} else {
		mpq_json_kv_str(j, "frame_type", "unknown");
		mpq_json_kv_u64(j, "frame_type_bytes", fr->type);
	}
	mpq_json_obj_end(j);
}
