/*
 * qlog writer: see qlog.h. Field names follow draft-ietf-quic-qlog-quic-events-13;
 * each event is formatted by mpq_json into the trace's buffer and handed to
 * the sink's write callback at the end of the record. Frames are written by
 * qlog_frame.c; the file and zstd sinks are the I/O layer's (lib/io/qlog_file.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "quic/json.h"
#include "quic/qlog.h"
#include "quic/qlog_frame.h"

#define QLOG_BUF 16384
#define DEFAULT_ACK_DELAY_EXPONENT 3 /* RFC 9000 §18.2 */
#define MAX_ACK_DELAY_EXPONENT 20

struct mpq_qlog {
	mpq_qlog_sink sink;
	mpq_json j;
	uint64_t ref_ts;
	uint8_t ack_delay_exp_local;  /* ACK frames we send */
	uint8_t ack_delay_exp_remote; /* ACK frames we receive */
	char buf[QLOG_BUF];
};

int mpq_qlog_sink_close(const mpq_qlog_sink *sink)
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

/* QuicVersion: hexstring of the 4 bytes. */
static void write_version(mpq_json *j, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	mpq_json_hex(j, b, sizeof(b));
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
		mpq_qlog_json_kv_cid(j, "group_id", odcid);
	mpq_json_obj_end(j);

	mpq_json_key(j, "event_schemas");
	mpq_json_arr_begin(j);
	mpq_json_str(j, MPQ_QLOG_EVENT_SCHEMA);
	/* A capture's trace may hold HTTP/3 events and warnings about what
	 * could not be parsed (mpq_dissect_h3). */
	if (vantage == MPQ_QLOG_VP_NETWORK) {
		mpq_json_str(j, MPQ_QLOG_EVENT_SCHEMA_HTTP3);
		mpq_json_str(j, MPQ_QLOG_EVENT_SCHEMA_LOGLEVEL);
	}
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

	/* A sink of a version we do not know is not ours to read, not even close. */
	if (!sink || sink->struct_version != MPQ_QLOG_SINK_V1)
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
			mpq_qlog_json_cid(j, &ep->cids[i]);
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

/*
 * Packet events.
 */

static const char *packet_type_name(int type)
{
	switch (type) {
	case MPQ_PKT_INITIAL:
		return "initial";
	case MPQ_PKT_0RTT:
		return "0RTT";
	case MPQ_PKT_HANDSHAKE:
		return "handshake";
	case MPQ_PKT_RETRY:
		return "retry";
	case MPQ_PKT_1RTT:
		return "1RTT";
	case MPQ_PKT_VERSION_NEGOTIATION:
		return "version_negotiation";
	default:
		return "unknown";
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
		h->length = hd->len			 ? hd->len
			    : hd->pktlen > hd->pn_offset ? hd->pktlen - hd->pn_offset
							 : 0;
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
		mpq_qlog_json_kv_cid(j, "scid", h->scid);
	if (h->dcid)
		mpq_qlog_json_kv_cid(j, "dcid", h->dcid);
	mpq_json_obj_end(j);
	if (h->size)
		mpq_qlog_json_kv_raw_length(j, "length", h->size);
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
			mpq_qlog_json_frame(j, &frames[i], ack_delay_exp);
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
	mpq_qlog_json_kv_cid(j, "connection_id", &pa->cid);
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
		mpq_qlog_json_kv_cid(j, "original_destination_connection_id", &tp->original_dcid);
	if (tp->has_initial_scid)
		mpq_qlog_json_kv_cid(j, "initial_source_connection_id", &tp->initial_scid);
	if (tp->has_retry_scid)
		mpq_qlog_json_kv_cid(j, "retry_source_connection_id", &tp->retry_scid);
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
		mpq_qlog_json_kv_error(j, "connection_error", true, error_code);
	else if (space == MPQ_QLOG_ERROR_APPLICATION)
		mpq_qlog_json_kv_error(j, "application_error", false, error_code);
	mpq_qlog_json_kv_reason(j, reason, reasonlen);
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

static const char *const ecn_state_names[] = {
	[MPQ_ECN_STATE_TESTING] = "testing",
	[MPQ_ECN_STATE_UNKNOWN] = "unknown",
	[MPQ_ECN_STATE_CAPABLE] = "capable",
	[MPQ_ECN_STATE_FAILED] = "failed",
};

int mpq_qlog_ecn_state_updated(mpq_qlog *q, uint64_t ts, int64_t path_id, int old_state,
			       int new_state)
{
	if (!q)
		return 0;
	if (old_state < -1 || old_state > MPQ_ECN_STATE_FAILED || new_state < 0 ||
	    new_state > MPQ_ECN_STATE_FAILED)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (!event_begin(q, ts, "quic:ecn_state_updated"))
		return q->j.err;
	if (old_state >= 0)
		mpq_json_kv_str(&q->j, "old", ecn_state_names[old_state]);
	mpq_json_kv_str(&q->j, "new", ecn_state_names[new_state]);
	if (path_id >= 0)
		mpq_json_kv_i64(&q->j, "path_id", path_id);
	return event_end(q);
}

int mpq_qlog_mtu_updated(mpq_qlog *q, uint64_t ts, int64_t path_id, uint32_t old,
			 uint32_t new_size, bool done)
{
	if (!q)
		return 0;
	if (!event_begin(q, ts, "quic:mtu_updated"))
		return q->j.err;
	if (old)
		mpq_json_kv_u64(&q->j, "old", old);
	mpq_json_kv_u64(&q->j, "new", new_size);
	mpq_json_kv_bool(&q->j, "done", done);
	if (path_id >= 0)
		mpq_json_kv_i64(&q->j, "path_id", path_id);
	return event_end(q);
}

static const char *const cc_state_names[] = {
	[MPQ_QLOG_CC_SLOW_START] = "slow_start",
	[MPQ_QLOG_CC_CONGESTION_AVOIDANCE] = "congestion_avoidance",
	[MPQ_QLOG_CC_APPLICATION_LIMITED] = "application_limited",
	[MPQ_QLOG_CC_RECOVERY] = "recovery",
	[MPQ_QLOG_CC_CONSERVATIVE_SLOW_START] = "conservative_slow_start",
};

int mpq_qlog_congestion_state_updated(mpq_qlog *q, uint64_t ts, int64_t path_id,
				      enum mpq_qlog_cc_state old_state,
				      enum mpq_qlog_cc_state new_state, const char *trigger)
{
	if (!q)
		return 0;
	if ((int)old_state < MPQ_QLOG_CC_NONE ||
	    (int)old_state > MPQ_QLOG_CC_CONSERVATIVE_SLOW_START ||
	    (int)new_state <= MPQ_QLOG_CC_NONE ||
	    (int)new_state > MPQ_QLOG_CC_CONSERVATIVE_SLOW_START)
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

mpq_json *mpq_qlog_event_open(mpq_qlog *q, uint64_t ts, const char *name)
{
	return event_begin(q, ts, name) ? &q->j : NULL;
}

int mpq_qlog_event_close(mpq_qlog *q)
{
	return event_end(q);
}
