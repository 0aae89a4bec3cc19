/*
 * qlog writer: one writer and one event vocabulary for the endpoints (vantage
 * point client or server) and for mpq-trace (vantage point network).
 *
 * Follows draft-ietf-quic-qlog-main-schema-14 and
 * draft-ietf-quic-qlog-quic-events-13 (research/anchors.md §1): the
 * QlogFileSeq schema serialised as JSON Text Sequences (RFC 7464, ".sqlog").
 * Every record is RS (0x1e), one JSON object, LF. The first record is the
 * header (file_schema, serialization_format, title, trace: vantage_point,
 * common_fields, event_schemas); each event is one record
 * {"time":ms,"name":"quic:...","data":{...}}. Times are milliseconds with
 * microsecond precision relative to the reference time given at open
 * (clock_type "monotonic", epoch "unknown"); group_id is the ODCID in hex.
 *
 * Multipath: events about one path (packets, recovery, congestion) take a
 * path ID and carry it as an integer "path_id" field in their data; pass -1
 * when multipath is off. The quic-events draft has no path ID of its own (its
 * tuple/TupleID names a 4-tuple, see mpq_qlog_tuple_assigned), so path_id and
 * the multipath frames are an mpquic extension of the quic namespace.
 *
 * The writer never allocates per event: each event is formatted into a buffer
 * owned by the trace and handed to the sink, normally as one write per record.
 * It reads no clock: every event takes the time (ns, same clock as the
 * reference) from the caller. All event functions accept q == NULL and then
 * do nothing, so the transport can call them unconditionally.
 *
 * Errors: event functions return 0 or the first error the sink returned;
 * after a sink error nothing more is written and every call returns it.
 */
#ifndef MPQ_QLOG_H
#define MPQ_QLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mpq/conn.h"
#include "mpq/mpq.h"
#include "quic/frame.h"
#include "quic/json.h"
#include "quic/packet.h"

#define MPQ_QLOG_FILE_SCHEMA "urn:ietf:params:qlog:file:sequential"
#define MPQ_QLOG_SERIALIZATION "application/qlog+json-seq"
/* Draft implementations append "-<draft number>" (quic-events §2.1). */
#define MPQ_QLOG_EVENT_SCHEMA "urn:ietf:params:qlog:events:quic-13"
/* draft-ietf-quic-qlog-h3-events-13, published with quic-events-13; the
 * main schema's generic loglevel events. */
#define MPQ_QLOG_EVENT_SCHEMA_HTTP3 "urn:ietf:params:qlog:events:http3-13"
#define MPQ_QLOG_EVENT_SCHEMA_LOGLEVEL "urn:ietf:params:qlog:events:loglevel"

/* Where the bytes go: mpq_qlog_sink (mpq/conn.h), a write callback as in
 * ngtcp2's qlog. The file and zstd sinks are the I/O layer's
 * (mpq/io/qlog_file.h): the writer opens no file. */

/* Closes a sink that was never given to mpq_qlog_open. Returns its close's result. */
int mpq_qlog_sink_close(const mpq_qlog_sink *sink);

enum mpq_qlog_vantage {
	MPQ_QLOG_VP_CLIENT = 1,
	MPQ_QLOG_VP_SERVER,
	/* An observer between the endpoints (mpq-trace), with client flow
	 * semantics: packet_sent is client to server, packet_received server to
	 * client, and "local" in initiator fields means the client. */
	MPQ_QLOG_VP_NETWORK,
};

/* Who did it (qlog Initiator). NONE leaves the field out. */
enum mpq_qlog_initiator {
	MPQ_QLOG_NONE = 0,
	MPQ_QLOG_LOCAL,
	MPQ_QLOG_REMOTE,
};

typedef struct mpq_qlog mpq_qlog;

/* Opens a trace and writes its header record. |odcid| (the client's first
 * Destination CID) becomes common_fields.group_id; |title| may be NULL;
 * |ref_ts| (ns) is the reference every event time is measured from. The
 * trace takes the sink over: it is closed by mpq_qlog_close, or before this
 * returns if opening fails. Returns 0, MPQ_ERR_INVALID_ARGUMENT,
 * MPQ_ERR_NOMEM or the sink's error. */
int mpq_qlog_open(mpq_qlog **out, const mpq_qlog_sink *sink, enum mpq_qlog_vantage vantage,
		  const mpq_cid *odcid, const char *title, uint64_t ref_ts);

/* Writes what is buffered and asks the sink to flush. Returns 0 or the error. */
int mpq_qlog_flush(mpq_qlog *q);

/* Finishes the output (closes the sink) and frees the trace. Returns 0 or the
 * first error seen by the trace or its sink. q == NULL returns 0. */
int mpq_qlog_close(mpq_qlog *q);

/* One half of a 4-tuple (qlog TupleEndpointInfo). */
typedef struct mpq_qlog_endpoint {
	const char *ip;	     /* text form, "192.0.2.1" or "2001:db8::1"; NULL: not logged */
	uint16_t port;	     /* logged with ip */
	const mpq_cid *cids; /* connection IDs towards this endpoint; may be NULL */
	size_t ncids;
} mpq_qlog_endpoint;

#define MPQ_QLOG_ADDRSTRLEN 46 /* INET6_ADDRSTRLEN */

/* Sets |ep|'s ip and port from |sa| (AF_INET or AF_INET6); the text goes into
 * |buf| (at least MPQ_QLOG_ADDRSTRLEN bytes), which must outlive |ep|'s use.
 * Returns 0 or MPQ_ERR_INVALID_ARGUMENT. */
int mpq_qlog_endpoint_addr(mpq_qlog_endpoint *ep, char *buf, size_t buflen,
			   const struct sockaddr *sa);

/* The header of one packet (qlog PacketHeader) plus its size on the wire. */
typedef struct mpq_qlog_hdr {
	int type;	     /* enum mpq_pkt_type; 0: "unknown" */
	uint64_t pn;	     /* initial, 0RTT, handshake and 1RTT only */
	uint32_t version;    /* long headers */
	const mpq_cid *dcid; /* NULL: not logged */
	const mpq_cid *scid; /* long headers; NULL: not logged */
	size_t length;	     /* long header Length field (pn + payload + tag); 0: not logged */
	size_t size;	     /* the whole packet, logged as raw.length; 0: not logged */
	int key_phase_bit;   /* 1RTT: 0 or 1; -1: not logged */
} mpq_qlog_hdr;

/* Fills |h| from a sent or received header: type, pn, version, cids,
 * key phase bit (1RTT), size = hd->pktlen and, for long headers with a
 * packet number, length = pktlen - pn_offset. |h| points into |hd|. */
void mpq_qlog_hdr_from_pkt(mpq_qlog_hdr *h, const mpq_pkt_hd *hd);

/*
 * Events. |ts| is the event time in ns. |path_id| is the multipath path ID,
 * or -1 to leave "path_id" out (single path).
 */

/* quic:connection_started: local and remote TupleEndpointInfo. */
int mpq_qlog_connection_started(mpq_qlog *q, uint64_t ts, const mpq_qlog_endpoint *local,
				const mpq_qlog_endpoint *remote);

/* quic:version_information. Lists may be empty (n = 0: left out);
 * chosen 0: left out (no common version). */
int mpq_qlog_version_information(mpq_qlog *q, uint64_t ts, const uint32_t *client_versions,
				 size_t nclient, const uint32_t *server_versions, size_t nserver,
				 uint32_t chosen);

/* quic:parameters_set with |initiator| and every field of |tp|: those RFC 9000
 * always defines, the optional ones present in |tp|, and initial_max_path_id
 * when present. Also remembers ack_delay_exponent for ACK frames: a local
 * value for frames we send (packet_sent, packet_lost), a remote one for
 * frames we receive (both default to 3). */
int mpq_qlog_parameters_set(mpq_qlog *q, uint64_t ts, enum mpq_qlog_initiator initiator,
			    const mpq_tparams *tp);

/*
 * quic:packet_sent / quic:packet_received: header, path_id, frames (may be
 * NULL with nframes 0 to leave them out) and an optional trigger
 * ("retransmit_reordered", "retransmit_timeout", "pto_probe",
 * "retransmit_crypto", "cc_bandwidth_probe" when sent; "keys_available" when
 * received; NULL: none). Every mpq_frame type is logged with the
 * quic-events field names (STREAM and CRYPTO data as offset and raw.length,
 * never its bytes; ACK ack_delay in ms from the ack_delay_exponent noted by
 * mpq_qlog_parameters_set); multipath frames use their mpq_frame_name and
 * path_id, sequence_number, maximum_path_id, next_sequence_number.
 * |hdr| is required (MPQ_ERR_INVALID_ARGUMENT when NULL).
 */
int mpq_qlog_packet_sent(mpq_qlog *q, uint64_t ts, const mpq_qlog_hdr *hdr, int64_t path_id,
			 const mpq_frame *frames, size_t nframes, const char *trigger);
int mpq_qlog_packet_received(mpq_qlog *q, uint64_t ts, const mpq_qlog_hdr *hdr, int64_t path_id,
			     const mpq_frame *frames, size_t nframes, const char *trigger);

/* quic:packet_lost: header (at least type and pn), path_id, the frames if
 * known, trigger "reordering_threshold", "time_threshold" or "pto_expired". */
int mpq_qlog_packet_lost(mpq_qlog *q, uint64_t ts, const mpq_qlog_hdr *hdr, int64_t path_id,
			 const mpq_frame *frames, size_t nframes, const char *trigger);

/* quic:packet_dropped: header if known (NULL: left out), path_id, trigger
 * ("internal_error", "rejected", "unsupported", "invalid", "duplicate",
 * "connection_unknown", "decryption_failure", "key_unavailable", "general"). */
int mpq_qlog_packet_dropped(mpq_qlog *q, uint64_t ts, const mpq_qlog_hdr *hdr, int64_t path_id,
			    const char *trigger);

/* Recovery metrics. Fields left at MPQ_QLOG_UNSET are not logged. */
#define MPQ_QLOG_UNSET UINT64_MAX

typedef struct mpq_qlog_metrics {
	uint64_t min_rtt;      /* ns, logged in ms */
	uint64_t smoothed_rtt; /* ns */
	uint64_t latest_rtt;   /* ns */
	uint64_t rtt_variance; /* ns */
	uint64_t pto_count;
	uint64_t congestion_window; /* bytes */
	uint64_t bytes_in_flight;   /* bytes */
	uint64_t ssthresh;	    /* bytes */
	uint64_t packets_in_flight;
	uint64_t pacing_rate; /* bits per second */
} mpq_qlog_metrics;

/* Sets every field of |m| to MPQ_QLOG_UNSET. */
void mpq_qlog_metrics_init(mpq_qlog_metrics *m);

/* quic:recovery_metrics_updated with the fields of |m| that are set. */
int mpq_qlog_recovery_metrics_updated(mpq_qlog *q, uint64_t ts, int64_t path_id,
				      const mpq_qlog_metrics *m);

/* RFC 9002 NewReno states (quic-events §congestion_state_updated), and
 * HyStart++'s conservative slow start (RFC 9406). */
enum mpq_qlog_cc_state {
	MPQ_QLOG_CC_NONE = 0, /* as |old|: left out */
	MPQ_QLOG_CC_SLOW_START,
	MPQ_QLOG_CC_CONGESTION_AVOIDANCE,
	MPQ_QLOG_CC_APPLICATION_LIMITED,
	MPQ_QLOG_CC_RECOVERY,
	MPQ_QLOG_CC_CONSERVATIVE_SLOW_START,
};

/* quic:ecn_state_updated (quic-events-13): a path's ECN validation moved
 * from |old_state| (-1: left out) to |new_state|, both enum mpq_ecn_state,
 * written as "testing", "unknown", "failed" or "capable". Returns
 * MPQ_ERR_INVALID_ARGUMENT for a state outside the enum. */
int mpq_qlog_ecn_state_updated(mpq_qlog *q, uint64_t ts, int64_t path_id, int old_state,
			       int new_state);

/* quic:mtu_updated (quic-events-13): a path's largest datagram went from
 * |old| (0: left out) to |new_size| bytes by PMTU discovery; |done| when its
 * search is over for now. */
int mpq_qlog_mtu_updated(mpq_qlog *q, uint64_t ts, int64_t path_id, uint32_t old,
			 uint32_t new_size, bool done);

/* quic:congestion_state_updated: old (NONE: left out), new, path_id and an
 * optional trigger (e.g. "persistent_congestion", "ecn"; NULL: none).
 * Returns MPQ_ERR_INVALID_ARGUMENT for a state outside the enum. */
int mpq_qlog_congestion_state_updated(mpq_qlog *q, uint64_t ts, int64_t path_id,
				      enum mpq_qlog_cc_state old_state,
				      enum mpq_qlog_cc_state new_state, const char *trigger);

/* qlog KeyType. */
enum mpq_qlog_key_type {
	MPQ_QLOG_KEY_SERVER_INITIAL = 1,
	MPQ_QLOG_KEY_CLIENT_INITIAL,
	MPQ_QLOG_KEY_SERVER_HANDSHAKE,
	MPQ_QLOG_KEY_CLIENT_HANDSHAKE,
	MPQ_QLOG_KEY_SERVER_0RTT,
	MPQ_QLOG_KEY_CLIENT_0RTT,
	MPQ_QLOG_KEY_SERVER_1RTT,
	MPQ_QLOG_KEY_CLIENT_1RTT,
};

enum mpq_qlog_key_trigger {
	MPQ_QLOG_KEY_TRIGGER_NONE = 0, /* left out */
	MPQ_QLOG_KEY_TRIGGER_TLS,
	MPQ_QLOG_KEY_TRIGGER_REMOTE_UPDATE,
	MPQ_QLOG_KEY_TRIGGER_LOCAL_UPDATE,
};

/* quic:key_updated / quic:key_discarded: key_type, key_phase (1RTT keys:
 * the full key phase count; -1: left out) and trigger. Key material is never
 * logged. Returns MPQ_ERR_INVALID_ARGUMENT for values outside the enums. */
int mpq_qlog_key_updated(mpq_qlog *q, uint64_t ts, enum mpq_qlog_key_type key_type,
			 int64_t key_phase, enum mpq_qlog_key_trigger trigger);
int mpq_qlog_key_discarded(mpq_qlog *q, uint64_t ts, enum mpq_qlog_key_type key_type,
			   int64_t key_phase, enum mpq_qlog_key_trigger trigger);

/* Error space of a close. */
enum mpq_qlog_error_space {
	MPQ_QLOG_ERROR_NONE = 0, /* no error code (idle timeout, stateless reset) */
	MPQ_QLOG_ERROR_TRANSPORT,
	MPQ_QLOG_ERROR_APPLICATION,
};

/* quic:connection_closed: initiator; for a transport error, connection_error
 * is its name ("protocol_violation", "crypto_error_0x12a") or "unknown" with
 * error_code; for an application error, application_error "unknown" with
 * error_code; reason (|reasonlen| bytes, may be NULL/0: left out; bytes that
 * are not UTF-8 are escaped and also logged as reason_bytes) and trigger
 * ("idle_timeout", "application", "error", "version_mismatch",
 * "stateless_reset", "aborted", "unspecified"; NULL: none). */
int mpq_qlog_connection_closed(mpq_qlog *q, uint64_t ts, enum mpq_qlog_initiator initiator,
			       enum mpq_qlog_error_space space, uint64_t error_code,
			       const uint8_t *reason, size_t reasonlen, const char *trigger);

/* quic:tuple_assigned: binds |tuple_id| ("" is the handshake tuple) to its
 * local and remote endpoints; both NULL means the tuple is abandoned. */
int mpq_qlog_tuple_assigned(mpq_qlog *q, uint64_t ts, const char *tuple_id,
			    const mpq_qlog_endpoint *local, const mpq_qlog_endpoint *remote);

/* An event of another schema (HTTP/3: lib/app/dissect_h3.c): opens the record
 * of |name| and its data object and returns the JSON writer to fill the data
 * with (NULL after an earlier error); mpq_qlog_event_close ends and writes it,
 * returning 0 or the sink's error. */
mpq_json *mpq_qlog_event_open(mpq_qlog *q, uint64_t ts, const char *name);
int mpq_qlog_event_close(mpq_qlog *q);

#endif
