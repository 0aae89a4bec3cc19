/*
 * qlog writer: see qlog.h. Field names follow draft-ietf-quic-qlog-quic-events-13;
 * each event is formatted by mpq_json into the trace's buffer and handed to
 * the sink at the end of the record.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "quic/json.h"
#include "quic/qlog.h"

#define QLOG_BUF 16384
#define DEFAULT_ACK_DELAY_EXPONENT 3	/* RFC 9000 §18.2 */
#define MAX_ACK_DELAY_EXPONENT 20

struct mpq_qlog {
	mpq_qlog_sink sink;
	mpq_json j;
	uint64_t ref_ts;
	uint8_t ack_delay_exp_local;	/* ACK frames we send */
	uint8_t ack_delay_exp_remote;	/* ACK frames we receive */
	char buf[QLOG_BUF];
};

/*
 * Sinks for a FILE*, plain or zstd-compressed.
 */

struct file_sink {
	FILE *f;
	bool own;		/* opened by mpq_qlog_sink_path: fclose at close */
	ZSTD_CStream *zcs;	/* NULL: plain */
	uint8_t *out;
	size_t outcap;
};

static int fwrite_all(FILE *f, const void *data, size_t len)
{
	if (len && fwrite(data, 1, len, f) != len)
		return MPQ_ERR_INTERNAL;
	return 0;
}

/* Compresses |in| with |mode| and writes the output: until |in| is consumed
 * (continue) or until the frame is flushed or ended (flush, end). */
static int zstd_run(struct file_sink *s, ZSTD_inBuffer *in, ZSTD_EndDirective mode)
{
	for (;;) {
		ZSTD_outBuffer out = {s->out, s->outcap, 0};
		size_t left = ZSTD_compressStream2(s->zcs, &out, in, mode);
		int rv;

		if (ZSTD_isError(left))
			return MPQ_ERR_INTERNAL;
		rv = fwrite_all(s->f, s->out, out.pos);
		if (rv)
			return rv;
		if (mode == ZSTD_e_continue ? in->pos == in->size : left == 0)
			return 0;
	}
}

static int file_write(void *user_data, const void *data, size_t len)
{
	struct file_sink *s = user_data;
	ZSTD_inBuffer in = {data, len, 0};

	if (!s->zcs)
		return fwrite_all(s->f, data, len);
	return zstd_run(s, &in, ZSTD_e_continue);
}

static int file_flush(void *user_data)
{
	struct file_sink *s = user_data;
	ZSTD_inBuffer in = {NULL, 0, 0};
	int rv = s->zcs ? zstd_run(s, &in, ZSTD_e_flush) : 0;

	if (fflush(s->f) && !rv)
		rv = MPQ_ERR_INTERNAL;
	return rv;
}

static int file_close(void *user_data)
{
	struct file_sink *s = user_data;
	ZSTD_inBuffer in = {NULL, 0, 0};
	int rv = s->zcs ? zstd_run(s, &in, ZSTD_e_end) : 0;

	if (fflush(s->f) && !rv)
		rv = MPQ_ERR_INTERNAL;
	if (s->own && fclose(s->f) && !rv)
		rv = MPQ_ERR_INTERNAL;
	ZSTD_freeCStream(s->zcs);
	free(s->out);
	free(s);
	return rv;
}

static int sink_file(mpq_qlog_sink *sink, FILE *f, bool zstd, bool own)
{
	struct file_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return MPQ_ERR_NOMEM;
	s->f = f;
	s->own = own;
	if (zstd) {
		s->zcs = ZSTD_createCStream();
		s->outcap = ZSTD_CStreamOutSize();
		s->out = malloc(s->outcap);
		if (!s->zcs || !s->out) {
			ZSTD_freeCStream(s->zcs);
			free(s->out);
			free(s);
			return MPQ_ERR_NOMEM;
		}
		if (ZSTD_isError(ZSTD_CCtx_setParameter(s->zcs, ZSTD_c_compressionLevel,
							ZSTD_CLEVEL_DEFAULT))) {
			ZSTD_freeCStream(s->zcs);
			free(s->out);
			free(s);
			return MPQ_ERR_INTERNAL;
		}
	}
	sink->write = file_write;
	sink->flush = file_flush;
	sink->close = file_close;
	sink->user_data = s;
	return 0;
}

int mpq_qlog_sink_file(mpq_qlog_sink *sink, FILE *f, bool zstd)
{
	if (!sink || !f)
		return MPQ_ERR_INVALID_ARGUMENT;
	return sink_file(sink, f, zstd, false);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int mpq_qlog_sink_path(mpq_qlog_sink *sink, const char *path, bool zstd)
{
	FILE *f;
	int rv;

	if (!sink || !path || !*path)
		return MPQ_ERR_INVALID_ARGUMENT;
	f = fopen(path, "wb");
	if (!f)
		return errno == ENOENT || errno == ENOTDIR ? MPQ_ERR_NOT_FOUND : MPQ_ERR_INTERNAL;
	rv = sink_file(sink, f, zstd || ends_with(path, ".zst"), true);
	if (rv)
		fclose(f);
	return rv;
}

int mpq_qlog_sink_close(mpq_qlog_sink *sink)
{
	return sink && sink->close ? sink->close(sink->user_data) : 0;
}

/*
 * Records.
 */

static int json_to_sink(void *user_data, const char *data, size_t len)
{
	mpq_qlog *q = user_data;

	return q->sink.write(q->sink.user_data, data, len);
}

static void write_cid(mpq_json *j, const mpq_cid *cid)
{
	mpq_json_hex(j, cid->data, cid->len <= MPQ_MAX_CIDLEN ? cid->len : MPQ_MAX_CIDLEN);
}

static void kv_cid(mpq_json *j, const char *key, const mpq_cid *cid)
{
	mpq_json_key(j, key);
	write_cid(j, cid);
}

/* QuicVersion: hexstring of the 4 bytes. */
static void write_version(mpq_json *j, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	mpq_json_hex(j, b, sizeof(b));
}

static void kv_raw_length(mpq_json *j, const char *length_key, uint64_t len)
{
	mpq_json_key(j, "raw");
	mpq_json_obj_begin(j);
	mpq_json_kv_u64(j, length_key, len);
	mpq_json_obj_end(j);
}

static int64_t ns_since(uint64_t ts, uint64_t ref)
{
	if (ts >= ref)
		return ts - ref > INT64_MAX ? INT64_MAX : (int64_t)(ts - ref);
	return ref - ts > INT64_MAX ? -INT64_MAX : -(int64_t)(ref - ts);
}

static int64_t clamp_ns(uint64_t ns)
{
	return ns > INT64_MAX ? INT64_MAX : (int64_t)ns;
}

/* Opens the record of event |name| and its data object. False after an error. */
static bool event_begin(mpq_qlog *q, uint64_t ts, const char *name)
{
	mpq_json *j = &q->j;

	if (j->err)
		return false;
	mpq_json_reset(j);
	mpq_json_raw(j, "\x1e", 1);
	mpq_json_obj_begin(j);
	mpq_json_kv_ms(j, "time", ns_since(ts, q->ref_ts));
	mpq_json_kv_str(j, "name", name);
	mpq_json_key(j, "data");
	mpq_json_obj_begin(j);
	return true;
}

/* Closes the data object and the record and hands it to the sink. */
static int event_end(mpq_qlog *q)
{
	mpq_json_obj_end(&q->j);
	mpq_json_obj_end(&q->j);
	mpq_json_raw(&q->j, "\n", 1);
	return mpq_json_flush(&q->j);
}

static void write_header_record(mpq_qlog *q, enum mpq_qlog_vantage vantage, const mpq_cid *odcid,
				const char *title)
{
	static const char *const vantage_names[] = {
		[MPQ_QLOG_VP_CLIENT] = "client",
		[MPQ_QLOG_VP_SERVER] = "server",
		[MPQ_QLOG_VP_NETWORK] = "network",
	};
	mpq_json *j = &q->j;

	mpq_json_raw(j, "\x1e", 1);
	mpq_json_obj_begin(j);
	mpq_json_kv_str(j, "file_schema", MPQ_QLOG_FILE_SCHEMA);
	mpq_json_kv_str(j, "serialization_format", MPQ_QLOG_SERIALIZATION);
	if (title)
		mpq_json_kv_str(j, "title", title);
	mpq_json_key(j, "trace");
	mpq_json_obj_begin(j);

	mpq_json_key(j, "vantage_point");
	mpq_json_obj_begin(j);
	mpq_json_kv_str(j, "type", vantage_names[vantage]);
	if (vantage == MPQ_QLOG_VP_NETWORK)
		mpq_json_kv_str(j, "flow", "client");
	mpq_json_obj_end(j);

	mpq_json_key(j, "common_fields");
	mpq_json_obj_begin(j);
	mpq_json_kv_str(j, "time_format", "relative_to_epoch");
	mpq_json_key(j, "reference_time");
	mpq_json_obj_begin(j);
	mpq_json_kv_str(j, "clock_type", "monotonic");
	mpq_json_kv_str(j, "epoch", "unknown");
	mpq_json_obj_end(j);
	if (odcid)
		kv_cid(j, "group_id", odcid);
	mpq_json_obj_end(j);

	mpq_json_key(j, "event_schemas");
	mpq_json_arr_begin(j);
	mpq_json_str(j, MPQ_QLOG_EVENT_SCHEMA);
	mpq_json_arr_end(j);

	mpq_json_obj_end(j);
	mpq_json_obj_end(j);
	mpq_json_raw(j, "\n", 1);
}

int mpq_qlog_open(mpq_qlog **out, const mpq_qlog_sink *sink, enum mpq_qlog_vantage vantage,
		  const mpq_cid *odcid, const char *title, uint64_t ref_ts)
{
	mpq_qlog *q;
	int rv;

	if (!sink)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (!out || !sink->write || (int)vantage < MPQ_QLOG_VP_CLIENT ||
	    (int)vantage > MPQ_QLOG_VP_NETWORK) {
		rv = MPQ_ERR_INVALID_ARGUMENT;
		goto fail;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		rv = MPQ_ERR_NOMEM;
		goto fail;
	}
	q->sink = *sink;
	q->ref_ts = ref_ts;
	q->ack_delay_exp_local = DEFAULT_ACK_DELAY_EXPONENT;
	q->ack_delay_exp_remote = DEFAULT_ACK_DELAY_EXPONENT;
	mpq_json_init(&q->j, q->buf, sizeof(q->buf), json_to_sink, q);
	write_header_record(q, vantage, odcid, title);
	rv = mpq_json_flush(&q->j);
	if (rv) {
		free(q);
		goto fail;
	}
	*out = q;
	return 0;
fail:
	if (sink->close)
		sink->close(sink->user_data);
	return rv;
}

int mpq_qlog_flush(mpq_qlog *q)
{
	int rv;

	if (!q)
		return 0;
	rv = mpq_json_flush(&q->j);
	if (!rv && q->sink.flush) {
		rv = q->sink.flush(q->sink.user_data);
		if (rv)
			q->j.err = rv;
	}
	return rv;
}

int mpq_qlog_close(mpq_qlog *q)
{
	int rv, crv = 0;

	if (!q)
		return 0;
	rv = mpq_json_flush(&q->j);
	if (q->sink.close)
		crv = q->sink.close(q->sink.user_data);
	free(q);
	return rv ? rv : crv;
}

/*
 * Shared pieces of event data.
 */

int mpq_qlog_endpoint_addr(mpq_qlog_endpoint *ep, char *buf, size_t buflen,
			   const struct sockaddr *sa)
{
	const void *addr;
	uint16_t port;

	if (!ep || !buf || !sa)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		addr = &sin->sin_addr;
		port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		addr = &sin6->sin6_addr;
		port = ntohs(sin6->sin6_port);
	} else {
		return MPQ_ERR_INVALID_ARGUMENT;
	}
	if (buflen > INT32_MAX || !inet_ntop(sa->sa_family, addr, buf, (socklen_t)buflen))
		return MPQ_ERR_INVALID_ARGUMENT;
	ep->ip = buf;
	ep->port = port;
	return 0;
}

/* TupleEndpointInfo; NULL gives an empty object. */
static void write_endpoint(mpq_json *j, const mpq_qlog_endpoint *ep)
{
	mpq_json_obj_begin(j);
	if (ep && ep->ip) {
		bool v6 = strchr(ep->ip, ':') != NULL;

		mpq_json_kv_str(j, v6 ? "ip_v6" : "ip_v4", ep->ip);
		mpq_json_kv_u64(j, v6 ? "port_v6" : "port_v4", ep->port);
	}
	if (ep && ep->cids && ep->ncids) {
		mpq_json_key(j, "connection_ids");
		mpq_json_arr_begin(j);
		for (size_t i = 0; i < ep->ncids; i++)
			write_cid(j, &ep->cids[i]);
		mpq_json_arr_end(j);
	}
	mpq_json_obj_end(j);
}

static void kv_endpoint(mpq_json *j, const char *key, const mpq_qlog_endpoint *ep)
{
	mpq_json_key(j, key);
	write_endpoint(j, ep);
}

static void kv_initiator(mpq_json *j, enum mpq_qlog_initiator initiator)
{
	if (initiator == MPQ_QLOG_LOCAL)
		mpq_json_kv_str(j, "initiator", "local");
	else if (initiator == MPQ_QLOG_REMOTE)
		mpq_json_kv_str(j, "initiator", "remote");
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

/* An error code as qlog names it: |key| gets the transport error name,
 * "crypto_error_0x1XX", or "unknown" followed by error_code. Application
 * errors have no names at this layer: always "unknown" + error_code. */
static void kv_error(mpq_json *j, const char *key, bool transport, uint64_t code)
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

/* reason as text; bytes that are not UTF-8 are also given as reason_bytes. */
static void kv_reason(mpq_json *j, const uint8_t *reason, size_t len)
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
	kv_cid(j, "connection_id", &fr->new_cid.cid);
	mpq_json_kv_hex(j, "stateless_reset_token", fr->new_cid.reset_token,
			sizeof(fr->new_cid.reset_token));
}

static void write_close(mpq_json *j, const mpq_frame *fr)
{
	bool transport = fr->type == MPQ_FT_CONNECTION_CLOSE;

	mpq_json_kv_str(j, "error_space", transport ? "transport" : "application");
	kv_error(j, "error", transport, fr->close.error_code);
	kv_reason(j, fr->close.reason, fr->close.reasonlen);
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
		kv_raw_length(j, "length", fr->stream.len);
		return true;
	}
	switch (t) {
	case MPQ_FT_PADDING:
		kv_raw_length(j, "payload_length", fr->padding_len);
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
		kv_error(j, "error", false, fr->reset_stream.error_code);
		mpq_json_kv_u64(j, "final_size", fr->reset_stream.final_size);
		return true;
	case MPQ_FT_STOP_SENDING:
		mpq_json_kv_u64(j, "stream_id", fr->stop_sending.stream_id);
		kv_error(j, "error", false, fr->stop_sending.error_code);
		return true;
	case MPQ_FT_CRYPTO:
		mpq_json_kv_u64(j, "offset", fr->crypto.offset);
		kv_raw_length(j, "length", fr->crypto.len);
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

/* One frame object: frame_type (mpq_frame_name) and its fields, or
 * frame_type "unknown" with frame_type_bytes. */
static void write_frame(mpq_json *j, const mpq_frame *fr, unsigned ack_delay_exp)
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

/*
 * Packet events.
 */

static const char *packet_type_name(int type)
{
	switch (type) {
	case MPQ_PKT_INITIAL: return "initial";
	case MPQ_PKT_0RTT: return "0RTT";
	case MPQ_PKT_HANDSHAKE: return "handshake";
	case MPQ_PKT_RETRY: return "retry";
	case MPQ_PKT_1RTT: return "1RTT";
	case MPQ_PKT_VERSION_NEGOTIATION: return "version_negotiation";
	default: return "unknown";
	}
}

static bool type_has_pn(int type)
{
	return type == MPQ_PKT_INITIAL || type == MPQ_PKT_0RTT || type == MPQ_PKT_HANDSHAKE ||
	       type == MPQ_PKT_1RTT;
}

static bool type_is_long(int type)
{
	return type == MPQ_PKT_INITIAL || type == MPQ_PKT_0RTT || type == MPQ_PKT_HANDSHAKE ||
	       type == MPQ_PKT_RETRY || type == MPQ_PKT_VERSION_NEGOTIATION;
}

void mpq_qlog_hdr_from_pkt(mpq_qlog_hdr *h, const mpq_pkt_hd *hd)
{
	bool lng = type_is_long(hd->type);

	memset(h, 0, sizeof(*h));
	h->type = hd->type;
	h->pn = hd->pn;
	h->version = hd->version;
	h->dcid = &hd->dcid;
	h->scid = lng ? &hd->scid : NULL;
	h->size = hd->pktlen;
	h->key_phase_bit = hd->type == MPQ_PKT_1RTT ? hd->key_phase : -1;
	if (lng && type_has_pn(hd->type))
		h->length = hd->len ? hd->len
			    : hd->pktlen > hd->pn_offset ? hd->pktlen - hd->pn_offset : 0;
}

/* "header" (PacketHeader) and "raw" of a packet event. */
static void write_packet_header(mpq_json *j, const mpq_qlog_hdr *h)
{
	bool lng = type_is_long(h->type), pn = type_has_pn(h->type);

	mpq_json_key(j, "header");
	mpq_json_obj_begin(j);
	mpq_json_kv_str(j, "packet_type", packet_type_name(h->type));
	if (pn)
		mpq_json_kv_u64(j, "packet_number", h->pn);
	if (h->type == MPQ_PKT_1RTT && h->key_phase_bit >= 0)
		mpq_json_kv_bool(j, "key_phase_bit", h->key_phase_bit);
	if (lng && pn && h->length)
		mpq_json_kv_u64(j, "length", h->length);
	if (lng) {
		mpq_json_key(j, "version");
		write_version(j, h->version);
	}
	if (lng && h->scid)
		kv_cid(j, "scid", h->scid);
	if (h->dcid)
		kv_cid(j, "dcid", h->dcid);
	mpq_json_obj_end(j);
	if (h->size)
		kv_raw_length(j, "length", h->size);
}

static int packet_event(mpq_qlog *q, uint64_t ts, const char *name, const mpq_qlog_hdr *hdr,
			int64_t path_id, const mpq_frame *frames, size_t nframes,
			unsigned ack_delay_exp, const char *trigger)
{
	mpq_json *j;

	if (!q)
		return 0;
	if (!event_begin(q, ts, name))
		return q->j.err;
	j = &q->j;
	if (hdr)
		write_packet_header(j, hdr);
	if (path_id >= 0)
		mpq_json_kv_i64(j, "path_id", path_id);
	if (frames) {
		mpq_json_key(j, "frames");
		mpq_json_arr_begin(j);
		for (size_t i = 0; i < nframes; i++)
			write_frame(j, &frames[i], ack_delay_exp);
		mpq_json_arr_end(j);
	}
	if (trigger)
		mpq_json_kv_str(j, "trigger", trigger);
	return event_end(q);
}

int mpq_qlog_packet_sent(mpq_qlog *q, uint64_t ts, const mpq_qlog_hdr *hdr, int64_t path_id,
			 const mpq_frame *frames, size_t nframes, const char *trigger)
{
	if (q && !hdr)
		return MPQ_ERR_INVALID_ARGUMENT;
	return packet_event(q, ts, "quic:packet_sent", hdr, path_id, frames, nframes,
			    q ? q->ack_delay_exp_local : 0, trigger);
}

int mpq_qlog_packet_received(mpq_qlog *q, uint64_t ts, const mpq_qlog_hdr *hdr, int64_t path_id,
			     const mpq_frame *frames, size_t nframes, const char *trigger)
{
	if (q && !hdr)
		return MPQ_ERR_INVALID_ARGUMENT;
	return packet_event(q, ts, "quic:packet_received", hdr, path_id, frames, nframes,
			    q ? q->ack_delay_exp_remote : 0, trigger);
}

int mpq_qlog_packet_lost(mpq_qlog *q, uint64_t ts, const mpq_qlog_hdr *hdr, int64_t path_id,
			 const mpq_frame *frames, size_t nframes, const char *trigger)
{
	return packet_event(q, ts, "quic:packet_lost", hdr, path_id, frames, nframes,
			    q ? q->ack_delay_exp_local : 0, trigger);
}

int mpq_qlog_packet_dropped(mpq_qlog *q, uint64_t ts, const mpq_qlog_hdr *hdr, int64_t path_id,
			    const char *trigger)
{
	return packet_event(q, ts, "quic:packet_dropped", hdr, path_id, NULL, 0, 0, trigger);
}

/*
 * Connectivity and transport events.
 */

int mpq_qlog_connection_started(mpq_qlog *q, uint64_t ts, const mpq_qlog_endpoint *local,
				const mpq_qlog_endpoint *remote)
{
	if (!q)
		return 0;
	if (!event_begin(q, ts, "quic:connection_started"))
		return q->j.err;
	kv_endpoint(&q->j, "local", local);
	kv_endpoint(&q->j, "remote", remote);
	return event_end(q);
}

static void kv_versions(mpq_json *j, const char *key, const uint32_t *v, size_t n)
{
	if (!v || !n)
		return;
	mpq_json_key(j, key);
	mpq_json_arr_begin(j);
	for (size_t i = 0; i < n; i++)
		write_version(j, v[i]);
	mpq_json_arr_end(j);
}

int mpq_qlog_version_information(mpq_qlog *q, uint64_t ts, const uint32_t *client_versions,
				 size_t nclient, const uint32_t *server_versions, size_t nserver,
				 uint32_t chosen)
{
	if (!q)
		return 0;
	if (!event_begin(q, ts, "quic:version_information"))
		return q->j.err;
	kv_versions(&q->j, "server_versions", server_versions, nserver);
	kv_versions(&q->j, "client_versions", client_versions, nclient);
	if (chosen) {
		mpq_json_key(&q->j, "chosen_version");
		write_version(&q->j, chosen);
	}
	return event_end(q);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void write_preferred_address(mpq_json *j, const mpq_preferred_address *pa)
{
	char text[MPQ_QLOG_ADDRSTRLEN];

	mpq_json_key(j, "preferred_address");
	mpq_json_obj_begin(j);
	/* RFC 9000 §18.2: an all-zero address and port means "none of this family" */
	if ((!all_zero(pa->ipv4, sizeof(pa->ipv4)) || pa->ipv4_port) &&
	    inet_ntop(AF_INET, pa->ipv4, text, sizeof(text))) {
		mpq_json_kv_str(j, "ip_v4", text);
		mpq_json_kv_u64(j, "port_v4", pa->ipv4_port);
	}
	if ((!all_zero(pa->ipv6, sizeof(pa->ipv6)) || pa->ipv6_port) &&
	    inet_ntop(AF_INET6, pa->ipv6, text, sizeof(text))) {
		mpq_json_kv_str(j, "ip_v6", text);
		mpq_json_kv_u64(j, "port_v6", pa->ipv6_port);
	}
	kv_cid(j, "connection_id", &pa->cid);
	mpq_json_kv_hex(j, "stateless_reset_token", pa->reset_token, sizeof(pa->reset_token));
	mpq_json_obj_end(j);
}

int mpq_qlog_parameters_set(mpq_qlog *q, uint64_t ts, enum mpq_qlog_initiator initiator,
			    const mpq_tparams *tp)
{
	mpq_json *j;

	if (!q)
		return 0;
	if (!tp)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (tp->ack_delay_exponent <= MAX_ACK_DELAY_EXPONENT) {
		if (initiator == MPQ_QLOG_LOCAL)
			q->ack_delay_exp_local = (uint8_t)tp->ack_delay_exponent;
		else if (initiator == MPQ_QLOG_REMOTE)
			q->ack_delay_exp_remote = (uint8_t)tp->ack_delay_exponent;
	}
	if (!event_begin(q, ts, "quic:parameters_set"))
		return q->j.err;
	j = &q->j;
	kv_initiator(j, initiator);
	if (tp->has_original_dcid)
		kv_cid(j, "original_destination_connection_id", &tp->original_dcid);
	if (tp->has_initial_scid)
		kv_cid(j, "initial_source_connection_id", &tp->initial_scid);
	if (tp->has_retry_scid)
		kv_cid(j, "retry_source_connection_id", &tp->retry_scid);
	if (tp->has_stateless_reset_token)
		mpq_json_kv_hex(j, "stateless_reset_token", tp->stateless_reset_token,
				sizeof(tp->stateless_reset_token));
	mpq_json_kv_bool(j, "disable_active_migration", tp->disable_active_migration);
	mpq_json_kv_u64(j, "max_idle_timeout", tp->max_idle_timeout);
	mpq_json_kv_u64(j, "max_udp_payload_size", tp->max_udp_payload_size);
	mpq_json_kv_u64(j, "ack_delay_exponent", tp->ack_delay_exponent);
	mpq_json_kv_u64(j, "max_ack_delay", tp->max_ack_delay);
	mpq_json_kv_u64(j, "active_connection_id_limit", tp->active_connection_id_limit);
	mpq_json_kv_u64(j, "initial_max_data", tp->initial_max_data);
	mpq_json_kv_u64(j, "initial_max_stream_data_bidi_local",
			tp->initial_max_stream_data_bidi_local);
	mpq_json_kv_u64(j, "initial_max_stream_data_bidi_remote",
			tp->initial_max_stream_data_bidi_remote);
	mpq_json_kv_u64(j, "initial_max_stream_data_uni", tp->initial_max_stream_data_uni);
	mpq_json_kv_u64(j, "initial_max_streams_bidi", tp->initial_max_streams_bidi);
	mpq_json_kv_u64(j, "initial_max_streams_uni", tp->initial_max_streams_uni);
	if (tp->has_preferred_address)
		write_preferred_address(j, &tp->preferred_address);
	if (tp->has_initial_max_path_id)
		mpq_json_kv_u64(j, "initial_max_path_id", tp->initial_max_path_id);
	return event_end(q);
}

int mpq_qlog_connection_closed(mpq_qlog *q, uint64_t ts, enum mpq_qlog_initiator initiator,
			       enum mpq_qlog_error_space space, uint64_t error_code,
			       const uint8_t *reason, size_t reasonlen, const char *trigger)
{
	mpq_json *j;

	if (!q)
		return 0;
	if (!event_begin(q, ts, "quic:connection_closed"))
		return q->j.err;
	j = &q->j;
	kv_initiator(j, initiator);
	if (space == MPQ_QLOG_ERROR_TRANSPORT)
		kv_error(j, "connection_error", true, error_code);
	else if (space == MPQ_QLOG_ERROR_APPLICATION)
		kv_error(j, "application_error", false, error_code);
	kv_reason(j, reason, reasonlen);
	if (trigger)
		mpq_json_kv_str(j, "trigger", trigger);
	return event_end(q);
}

int mpq_qlog_tuple_assigned(mpq_qlog *q, uint64_t ts, const char *tuple_id,
			    const mpq_qlog_endpoint *local, const mpq_qlog_endpoint *remote)
{
	if (!q)
		return 0;
	if (!event_begin(q, ts, "quic:tuple_assigned"))
		return q->j.err;
	mpq_json_kv_str(&q->j, "tuple_id", tuple_id ? tuple_id : "");
	if (remote)
		kv_endpoint(&q->j, "tuple_remote", remote);
	if (local)
		kv_endpoint(&q->j, "tuple_local", local);
	return event_end(q);
}

/*
 * Security and recovery events.
 */

static const char *const key_type_names[] = {
	[MPQ_QLOG_KEY_SERVER_INITIAL] = "server_initial_secret",
	[MPQ_QLOG_KEY_CLIENT_INITIAL] = "client_initial_secret",
	[MPQ_QLOG_KEY_SERVER_HANDSHAKE] = "server_handshake_secret",
	[MPQ_QLOG_KEY_CLIENT_HANDSHAKE] = "client_handshake_secret",
	[MPQ_QLOG_KEY_SERVER_0RTT] = "server_0rtt_secret",
	[MPQ_QLOG_KEY_CLIENT_0RTT] = "client_0rtt_secret",
	[MPQ_QLOG_KEY_SERVER_1RTT] = "server_1rtt_secret",
	[MPQ_QLOG_KEY_CLIENT_1RTT] = "client_1rtt_secret",
};

static const char *const key_trigger_names[] = {
	[MPQ_QLOG_KEY_TRIGGER_TLS] = "tls",
	[MPQ_QLOG_KEY_TRIGGER_REMOTE_UPDATE] = "remote_update",
	[MPQ_QLOG_KEY_TRIGGER_LOCAL_UPDATE] = "local_update",
};

static int key_event(mpq_qlog *q, uint64_t ts, const char *name, enum mpq_qlog_key_type key_type,
		     int64_t key_phase, enum mpq_qlog_key_trigger trigger)
{
	int kt = key_type, tr = trigger;

	if (!q)
		return 0;
	if (kt < MPQ_QLOG_KEY_SERVER_INITIAL || kt > MPQ_QLOG_KEY_CLIENT_1RTT ||
	    tr < MPQ_QLOG_KEY_TRIGGER_NONE || tr > MPQ_QLOG_KEY_TRIGGER_LOCAL_UPDATE)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (!event_begin(q, ts, name))
		return q->j.err;
	mpq_json_kv_str(&q->j, "key_type", key_type_names[key_type]);
	if (key_phase >= 0)
		mpq_json_kv_i64(&q->j, "key_phase", key_phase);
	if (trigger != MPQ_QLOG_KEY_TRIGGER_NONE)
		mpq_json_kv_str(&q->j, "trigger", key_trigger_names[trigger]);
	return event_end(q);
}

int mpq_qlog_key_updated(mpq_qlog *q, uint64_t ts, enum mpq_qlog_key_type key_type,
			 int64_t key_phase, enum mpq_qlog_key_trigger trigger)
{
	return key_event(q, ts, "quic:key_updated", key_type, key_phase, trigger);
}

int mpq_qlog_key_discarded(mpq_qlog *q, uint64_t ts, enum mpq_qlog_key_type key_type,
			   int64_t key_phase, enum mpq_qlog_key_trigger trigger)
{
	return key_event(q, ts, "quic:key_discarded", key_type, key_phase, trigger);
}

void mpq_qlog_metrics_init(mpq_qlog_metrics *m)
{
	m->min_rtt = MPQ_QLOG_UNSET;
	m->smoothed_rtt = MPQ_QLOG_UNSET;
	m->latest_rtt = MPQ_QLOG_UNSET;
	m->rtt_variance = MPQ_QLOG_UNSET;
	m->pto_count = MPQ_QLOG_UNSET;
	m->congestion_window = MPQ_QLOG_UNSET;
	m->bytes_in_flight = MPQ_QLOG_UNSET;
	m->ssthresh = MPQ_QLOG_UNSET;
	m->packets_in_flight = MPQ_QLOG_UNSET;
	m->pacing_rate = MPQ_QLOG_UNSET;
}

static void kv_rtt(mpq_json *j, const char *key, uint64_t ns)
{
	if (ns != MPQ_QLOG_UNSET)
		mpq_json_kv_ms(j, key, clamp_ns(ns));
}

static void kv_count(mpq_json *j, const char *key, uint64_t v)
{
	if (v != MPQ_QLOG_UNSET)
		mpq_json_kv_u64(j, key, v);
}

int mpq_qlog_recovery_metrics_updated(mpq_qlog *q, uint64_t ts, int64_t path_id,
				      const mpq_qlog_metrics *m)
{
	mpq_json *j;

	if (!q)
		return 0;
	if (!m)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (!event_begin(q, ts, "quic:recovery_metrics_updated"))
		return q->j.err;
	j = &q->j;
	kv_rtt(j, "min_rtt", m->min_rtt);
	kv_rtt(j, "smoothed_rtt", m->smoothed_rtt);
	kv_rtt(j, "latest_rtt", m->latest_rtt);
	kv_rtt(j, "rtt_variance", m->rtt_variance);
	kv_count(j, "pto_count", m->pto_count);
	kv_count(j, "congestion_window", m->congestion_window);
	kv_count(j, "bytes_in_flight", m->bytes_in_flight);
	kv_count(j, "ssthresh", m->ssthresh);
	kv_count(j, "packets_in_flight", m->packets_in_flight);
	kv_count(j, "pacing_rate", m->pacing_rate);
	if (path_id >= 0)
		mpq_json_kv_i64(j, "path_id", path_id);
	return event_end(q);
}

static const char *const cc_state_names[] = {
	[MPQ_QLOG_CC_SLOW_START] = "slow_start",
	[MPQ_QLOG_CC_CONGESTION_AVOIDANCE] = "congestion_avoidance",
	[MPQ_QLOG_CC_APPLICATION_LIMITED] = "application_limited",
	[MPQ_QLOG_CC_RECOVERY] = "recovery",
};

int mpq_qlog_congestion_state_updated(mpq_qlog *q, uint64_t ts, int64_t path_id,
				      enum mpq_qlog_cc_state old_state,
				      enum mpq_qlog_cc_state new_state, const char *trigger)
{
	if (!q)
		return 0;
	if ((int)old_state < MPQ_QLOG_CC_NONE || (int)old_state > MPQ_QLOG_CC_RECOVERY ||
	    (int)new_state <= MPQ_QLOG_CC_NONE || (int)new_state > MPQ_QLOG_CC_RECOVERY)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (!event_begin(q, ts, "quic:congestion_state_updated"))
		return q->j.err;
	if (old_state != MPQ_QLOG_CC_NONE)
		mpq_json_kv_str(&q->j, "old", cc_state_names[old_state]);
	mpq_json_kv_str(&q->j, "new", cc_state_names[new_state]);
	if (trigger)
		mpq_json_kv_str(&q->j, "trigger", trigger);
	if (path_id >= 0)
		mpq_json_kv_i64(&q->j, "path_id", path_id);
	return event_end(q);
}
