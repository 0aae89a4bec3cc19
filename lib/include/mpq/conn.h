/*
 * A QUIC connection, sans I/O (DESIGN.md rule 1). The caller feeds received
 * datagrams with the path they arrived on and the time, asks for datagrams to
 * send, and fires the timer at mpq_conn_get_expiry(). Times are monotonic
 * nanoseconds chosen by the caller; randomness comes from callbacks.rand.
 */
#ifndef MPQ_CONN_H
#define MPQ_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mpq/mpq.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_conn mpq_conn;
typedef struct mpq_tls_ctx mpq_tls_ctx;

#define MPQ_TIME_NEVER UINT64_MAX
#define MPQ_MS 1000000ULL
#define MPQ_SEC 1000000000ULL

/* One end of a path: an address and the interface it belongs to. */
typedef struct mpq_addr {
	struct sockaddr_storage ss;
	socklen_t len;
} mpq_addr;

/* The 4-tuple (and interface) a datagram arrived on or leaves by. */
typedef struct mpq_path {
	mpq_addr local;
	mpq_addr remote;
	uint32_t ifindex;
	void *user_data;
} mpq_path;

/* ECN codepoints (RFC 3168): the low two bits of the IP TOS / traffic class. */
#define MPQ_ECN_NOT_ECT 0
#define MPQ_ECN_ECT1 1
#define MPQ_ECN_ECT0 2
#define MPQ_ECN_CE 3

/* What the I/O layer knows of a datagram beyond its bytes and 4-tuple (as
 * ngtcp2_pkt_info). The caller sets |version| to MPQ_PKT_INFO_VERSION; the
 * library reads and writes only the fields that version has, so the struct
 * can grow. */
#define MPQ_PKT_INFO_V1 1
#define MPQ_PKT_INFO_VERSION MPQ_PKT_INFO_V1
typedef struct mpq_pkt_info {
	uint32_t version;
	/* MPQ_ECN_*. Receive: the codepoint the datagram arrived with. Send:
	 * the codepoint to put in its IP header (ECT(0) while the path's ECN is
	 * being tested or once it is validated, RFC 9000 §13.4.2). */
	uint8_t ecn;
} mpq_pkt_info;

/* What never goes on the wire. */
/* Paths one connection holds at most: path IDs 0 .. MPQ_MAX_PATHS - 1. */
#define MPQ_MAX_PATHS 8

#define MPQ_SETTINGS_V1 1
#define MPQ_SETTINGS_VERSION MPQ_SETTINGS_V1
typedef struct mpq_settings {
	uint32_t struct_version;    /* MPQ_SETTINGS_VERSION (mpq.h), set by the default */
	uint32_t version;	    /* MPQ_VERSION_1 (default) or MPQ_VERSION_2 */
	uint64_t initial_rtt;	    /* ns, default 333 ms (RFC 9002) */
	uint64_t handshake_timeout; /* ns, default 10 s; 0 = none */
	size_t max_tx_udp_payload;  /* largest datagram a path starts with, default 1452 */
	/* Path MTU discovery (RFC 8899, RFC 9000 §14.3): each path probes for
	 * datagrams up to this size, the local limit (the interface's MTU less
	 * the IP and UDP headers), and the peer's max_udp_payload_size; a path
	 * starts at max_tx_udp_payload (this, if smaller). 0: off, every path
	 * keeps max_tx_udp_payload. At least 1200 otherwise. */
	size_t pmtud_max_udp_payload;
	uint8_t worker_id; /* carried in every CID we issue */
	/* Names are looked up when the connection (or endpoint) is created;
	 * the strings need not outlive that call. */
	const char *cc;		       /* congestion controller: "cubic" (default), "newreno" */
	uint32_t initial_cwnd_packets; /* 0: RFC 9002's initial window */
	/* No HyStart++ (RFC 9406): each path's first slow start runs until its
	 * first loss, as before; for comparisons. */
	bool no_hystart;
	const char *stream_sched; /* stream scheduler: "rr" (default) */
	/* Server: 32-byte key for stateless reset tokens (RFC 9000 §10.3.2);
	 * NULL: none are offered. The endpoint sets it. Copied. */
	const uint8_t *reset_secret;
	/* Start a 1-RTT key update every this many packets sent (0: never on our own). */
	uint64_t key_update_interval;
	/* AEAD limits (RFC 9001 §6.6), lower than the cipher's own only for tests
	 * (0: the cipher's). Packets one 1-RTT key may protect: an update starts
	 * at 3/4 of it, and the connection closes with AEAD_LIMIT_REACHED at
	 * 15/16 if none could. Packets failing authentication the connection
	 * tolerates: one more closes it with AEAD_LIMIT_REACHED. */
	uint64_t aead_confidentiality_limit;
	uint64_t aead_integrity_limit;
	/* Multipath (draft-21): offer initial_max_path_id = max_path_id (below
	 * MPQ_MAX_PATHS). */
	bool multipath;
	uint32_t max_path_id;
	const char *path_sched; /* path scheduler: "minrtt" (default), "rr", ... */
	/* Offer the ADD_ADDRESS extension (both ends must, docs/add_address.md). */
	bool add_address;
	/* A path that goes this many PTOs without an acknowledgement while another
	 * path works is declared failed (0: the default, 4). */
	uint32_t path_fail_ptos;
	/* Send buffering, allocated as the application writes (0: the default).
	 * One stream holds at most stream_send_window bytes not yet acknowledged
	 * (default 16 MiB, enough for 1 Gbit/s at 100 ms RTT), at most one
	 * 16 KiB chunk beyond what the peer's flow control lets us send and,
	 * beyond what it has sent, at most as much again (64 KiB to 1 MiB: the
	 * first packets leave early); all the connection's streams together
	 * hold at most send_budget bytes (default 32 MiB). A write these limits
	 * stop takes fewer bytes, or none: wait for stream_writable. */
	size_t stream_send_window;
	size_t send_budget;
	/* Client: a NEW_TOKEN token from an earlier connection to this server
	 * (copied). */
	const uint8_t *token;
	size_t tokenlen;
	const char *server_name; /* client: SNI and certificate name (used during the call) */
	mpq_log_fn log;		 /* NULL: silent */
	void *log_user_data;
} mpq_settings;

/* Why a path failed (mpq_callbacks.path_failed). */
enum mpq_path_fail {
	/* A new path never answered our PATH_CHALLENGE (RFC 9000 §8.2.4, draft-21 §3.1). */
	MPQ_PATH_FAIL_VALIDATION = 1,
	/* Nothing sent on it was acknowledged for mpq_settings.path_fail_ptos PTOs
	 * and nothing arrived on it, while another path worked. */
	MPQ_PATH_FAIL_IDLE,
};

#define MPQ_CALLBACKS_V1 1
#define MPQ_CALLBACKS_VERSION MPQ_CALLBACKS_V1
typedef struct mpq_callbacks {
	uint32_t struct_version; /* MPQ_CALLBACKS_VERSION, set by mpq_callbacks_default */
	mpq_rand_fn rand;	 /* required */
	/* One NSS key log line (no newline) each time TLS learns a secret; it
	 * gets keylog_user_data when that is set, user_data otherwise. */
	void (*keylog)(void *user_data, const char *line);
	void *keylog_user_data;
	/* The handshake completed (client: 1-RTT keys and server Finished checked). */
	int (*handshake_completed)(mpq_conn *conn, void *user_data);
	/* Stream callbacks; each may be NULL. A non-zero return closes the
	 * connection with INTERNAL_ERROR. */
	/* The peer opened |stream_id| (its first frame arrived). */
	int (*stream_open)(mpq_conn *conn, int64_t stream_id, void *user_data);
	/* In-order data of |stream_id| starting at |offset|; |fin| when it is the end. */
	int (*stream_data)(mpq_conn *conn, int64_t stream_id, uint64_t offset, const uint8_t *data,
			   size_t len, bool fin, void *user_data);
	/* Room came free in the stream's send buffer or its flow control window. */
	int (*stream_writable)(mpq_conn *conn, int64_t stream_id, void *user_data);
	/* The peer abandoned its sending side (RESET_STREAM) with |app_error|. */
	int (*stream_reset)(mpq_conn *conn, int64_t stream_id, uint64_t app_error,
			    void *user_data);
	/* The peer asked us to stop sending (STOP_SENDING); the library resets
	 * our sending side with the same code after this returns. */
	int (*stream_stop_sending)(mpq_conn *conn, int64_t stream_id, uint64_t app_error,
				   void *user_data);
	/* Both directions are finished; the stream's state is freed after this. */
	int (*stream_closed)(mpq_conn *conn, int64_t stream_id, void *user_data);
	/* The peer raised MAX_STREAMS: mpq_conn_open_stream may succeed again. */
	int (*streams_available)(mpq_conn *conn, bool bidi, void *user_data);
	/* Client: the server announced another address (ADD_ADDRESS extension,
	 * docs/add_address.md); paths to it may be opened. */
	int (*address_added)(mpq_conn *conn, const mpq_addr *addr, void *user_data);
	/* Path events (multipath draft-21, and the migration of path 0), each
	 * with the path ID (as in mpq_path_stats). They report and cannot fail;
	 * each may be NULL. |tuple| is valid during the call only. */
	/* |path_id| answered our PATH_CHALLENGE at |tuple|'s addresses: a new
	 * path is in use, or a path whose peer moved goes on at its new address. */
	void (*path_validated)(mpq_conn *conn, uint32_t path_id, const mpq_path *tuple,
			       void *user_data);
	/* |path_id| became a backup path (carries data only while no available
	 * path works) or available again, by mpq_conn_set_path_status (|remote|
	 * false) or by the peer's PATH_STATUS frame (|remote| true). Only changes
	 * are reported. */
	void (*path_status_changed)(mpq_conn *conn, uint32_t path_id, bool backup, bool remote,
				    void *user_data);
	/* |path_id| failed, |reason| an enum mpq_path_fail; we abandon it, so
	 * path_abandoned (by us, PATH_UNSTABLE_OR_POOR) follows at once. */
	void (*path_failed)(mpq_conn *conn, uint32_t path_id, int reason, void *user_data);
	/* |path_id| is abandoned (PATH_ABANDON, draft-21 §3.3) with |error|: by
	 * us (|remote| false: mpq_conn_abandon_path or a failure) or by the
	 * peer. Every path that goes away gets exactly one call; nothing is sent
	 * on it afterwards, and its mpq_path.user_data may be freed. */
	void (*path_abandoned)(mpq_conn *conn, uint32_t path_id, uint64_t error, bool remote,
			       void *user_data);
	void *user_data;
} mpq_callbacks;

/* Defaults for every field. */
MPQ_EXPORT void mpq_settings_default(mpq_settings *s);
/* No callbacks (every field NULL) and struct_version set: then set rand and
 * the callbacks wanted. */
MPQ_EXPORT void mpq_callbacks_default(mpq_callbacks *cb);

/* Is there a congestion controller / stream scheduler of this name? */
MPQ_EXPORT bool mpq_cc_available(const char *name);
MPQ_EXPORT bool mpq_stream_sched_available(const char *name);
MPQ_EXPORT bool mpq_path_sched_available(const char *name);

/* A client connection to |path|'s remote address. |tls| is a client context,
 * which must outlive the connection. |settings|, |tparams| and |cb| are
 * copied (need not outlive the call). Returns 0, MPQ_ERR_INVALID_ARGUMENT (a
 * struct_version the library does not know, no rand callback, an unknown
 * cc / scheduler name), MPQ_ERR_NOMEM or MPQ_ERR_TLS. */
MPQ_EXPORT int mpq_conn_client_new(mpq_conn **out, const mpq_path *path,
				   const mpq_settings *settings, const mpq_tparams *tparams,
				   const mpq_callbacks *cb, mpq_tls_ctx *tls, uint64_t ts);

/* A server connection for the client Initial in |pkt| (the whole first
 * datagram, which the caller then passes to mpq_conn_read_pkt). Arguments as
 * for mpq_conn_client_new. Returns 0, MPQ_ERR_INVALID_ARGUMENT,
 * MPQ_ERR_INVALID_PACKET (not a client Initial we accept, too short),
 * MPQ_ERR_UNKNOWN_VERSION, MPQ_ERR_NOMEM or MPQ_ERR_TLS. */
MPQ_EXPORT int mpq_conn_server_new(mpq_conn **out, const mpq_path *path, const uint8_t *pkt,
				   size_t pktlen, const mpq_settings *settings,
				   const mpq_tparams *tparams, const mpq_callbacks *cb,
				   mpq_tls_ctx *tls, uint64_t ts);

MPQ_EXPORT void mpq_conn_del(mpq_conn *conn);

/* Processes one received datagram (decrypted in place, so |data| is modified).
 * |pi| is what the I/O layer saw of it (its ECN codepoint, counted for the
 * ACK_ECN frames we send); NULL: nothing (Not-ECT). Returns 0;
 * MPQ_ERR_DRAINING when the peer closed; a fatal error; or the error that
 * made us close (then write_pkt sends CONNECTION_CLOSE);
 * MPQ_ERR_INVALID_ARGUMENT for a |pi| version the library does not know.
 * Packets that cannot be decrypted or parsed are dropped silently and return 0.
 * Nothing of |path|, |pi| or |data| is kept after the call. */
MPQ_EXPORT int mpq_conn_read_pkt(mpq_conn *conn, const mpq_path *path, const mpq_pkt_info *pi,
				 uint8_t *data, size_t len, uint64_t ts);

/* Writes the next datagram to send into |buf| and sets |*path_out|, and
 * |*pi_out| (its ECN codepoint, which the I/O layer puts in the IP header);
 * |pi_out| may be NULL when the caller cannot mark datagrams: the connection
 * then uses no ECN. Returns its length, 0 when there is nothing to send now,
 * MPQ_ERR_CLOSING or MPQ_ERR_DRAINING once nothing more will be sent, a fatal
 * error, or MPQ_ERR_INVALID_ARGUMENT for a |pi_out| version the library does
 * not know. */
MPQ_EXPORT int mpq_conn_write_pkt(mpq_conn *conn, mpq_path *path_out, mpq_pkt_info *pi_out,
				  uint8_t *buf, size_t buflen, uint64_t ts);

/* The next time mpq_conn_handle_expiry must run (MPQ_TIME_NEVER: none). */
MPQ_EXPORT uint64_t mpq_conn_get_expiry(const mpq_conn *conn);

/* Fires due timers (loss detection, PTO, idle, close). Returns 0,
 * MPQ_ERR_IDLE_CLOSE, MPQ_ERR_HANDSHAKE_TIMEOUT, or MPQ_ERR_CLOSING /
 * MPQ_ERR_DRAINING when the closing period is over. */
MPQ_EXPORT int mpq_conn_handle_expiry(mpq_conn *conn, uint64_t ts);

MPQ_EXPORT bool mpq_conn_is_handshake_complete(const mpq_conn *conn);
MPQ_EXPORT bool mpq_conn_is_server(const mpq_conn *conn);
/* The DCID of the client's first Initial: names the connection in qlog files. */
MPQ_EXPORT const mpq_cid *mpq_conn_odcid(const mpq_conn *conn);
/* The peer's transport parameters (valid once the handshake has received them). */
MPQ_EXPORT const mpq_tparams *mpq_conn_peer_tparams(const mpq_conn *conn);
/* The negotiated ALPN, NULL before. */
MPQ_EXPORT const uint8_t *mpq_conn_alpn(const mpq_conn *conn, size_t *len);

/* Streams (RFC 9000 §2-4). Stream IDs follow RFC 9000 §2.1: the low two bits
 * say who opened it (0x1 server) and whether it is unidirectional (0x2). */

/* Opens a stream of ours. Returns 0, or MPQ_ERR_STREAM_LIMIT while the peer's
 * MAX_STREAMS forbids it (streams_available says when to retry), or
 * MPQ_ERR_CLOSING / MPQ_ERR_NOMEM. */
MPQ_EXPORT int mpq_conn_open_stream(mpq_conn *conn, bool bidi, int64_t *stream_id);

/* Copies up to |len| bytes into the stream's send buffer. Returns how many were
 * taken: fewer, or 0, when the stream's window, the peer's credit or a memory
 * budget (mpq_settings.send_budget, the endpoint's send_budget) stops it; wait
 * for stream_writable, which follows acknowledgements and new credit. |fin| ends the
 * stream once every byte was taken. Errors: MPQ_ERR_NOT_FOUND (no such stream),
 * MPQ_ERR_STREAM_STATE (not ours to send on, or already finished or reset). */
MPQ_EXPORT int64_t mpq_conn_stream_write(mpq_conn *conn, int64_t stream_id, const uint8_t *data,
					 size_t len, bool fin);

/* Bytes mpq_conn_stream_write would take now. When a memory budget is what
 * limits them, stream_writable follows once it has room again. */
MPQ_EXPORT size_t mpq_conn_stream_write_room(mpq_conn *conn, int64_t stream_id);

/* Abandons our sending side (RESET_STREAM) / asks the peer to stop (STOP_SENDING). */
MPQ_EXPORT int mpq_conn_stream_reset(mpq_conn *conn, int64_t stream_id, uint64_t app_error);
MPQ_EXPORT int mpq_conn_stream_stop_sending(mpq_conn *conn, int64_t stream_id, uint64_t app_error);

/* Sets a stream's priority for the stream scheduler (mpq_settings.stream_sched):
 * |urgency| 0 (most urgent) to 7, as in RFC 9218, for "sprio", which always
 * sends from the most urgent streams and takes equal ones in turn; |weight|
 * 1 to 255 for "prio", which shares the bytes sent among streams in
 * proportion to their weights. Streams start at urgency 3 and weight 16; "rr"
 * ignores both. Takes effect at once, also for data already written.
 * Returns 0, MPQ_ERR_INVALID_ARGUMENT (urgency above 7 or weight 0) or
 * MPQ_ERR_NOT_FOUND (no such stream). */
MPQ_EXPORT int mpq_conn_stream_set_priority(mpq_conn *conn, int64_t stream_id, uint8_t urgency,
					    uint8_t weight);

/* Per-stream user data for the application. */
MPQ_EXPORT int mpq_conn_stream_set_user_data(mpq_conn *conn, int64_t stream_id, void *data);
MPQ_EXPORT void *mpq_conn_stream_get_user_data(const mpq_conn *conn, int64_t stream_id);

/* Starts a 1-RTT key update (RFC 9001 §6). Returns 0, or MPQ_ERR_INVALID_ARGUMENT
 * when one may not start yet (handshake not confirmed, or the last update not
 * yet acknowledged). */
MPQ_EXPORT int mpq_conn_initiate_key_update(mpq_conn *conn);

/* Where a qlog trace goes, as ngtcp2's qlog write callback: the library
 * formats the records and hands over the bytes. write takes |len| bytes (all
 * of them, or fails); flush (may be NULL) pushes buffered bytes towards
 * storage; close (may be NULL) finishes the output and frees the sink's
 * state. Each returns 0 or a negative MPQ_ERR_*; after an error the trace
 * writes nothing more. */
#define MPQ_QLOG_SINK_V1 1
#define MPQ_QLOG_SINK_VERSION MPQ_QLOG_SINK_V1
typedef struct mpq_qlog_sink {
	uint32_t struct_version; /* MPQ_QLOG_SINK_VERSION */
	int (*write)(void *user_data, const void *data, size_t len);
	int (*flush)(void *user_data);
	int (*close)(void *user_data);
	void *user_data;
} mpq_qlog_sink;

/* Writes a qlog trace (JSON-SEQ, draft quic-events-13) of this connection to
 * |sink| (copied), which the connection closes when it is deleted. Call it
 * right after creating the connection. On failure the sink is closed
 * (except for an unknown struct_version: its fields are not read).
 * Returns 0, MPQ_ERR_INVALID_ARGUMENT (no write callback, an unknown
 * struct_version, or the connection has a trace already), MPQ_ERR_NOMEM or the sink's error. */
MPQ_EXPORT int mpq_conn_set_qlog(mpq_conn *conn, const mpq_qlog_sink *sink);

/* Files for traces are the I/O layer's: mpq_conn_set_qlog_dir in
 * mpq/io/qlog_file.h. */

/* Multipath (draft-21). Paths are numbered by their path ID; path 0 is the
 * path of the handshake. */
enum mpq_path_state_public {
	MPQ_PATH_STATE_VALIDATING = 1,
	MPQ_PATH_STATE_ACTIVE,
	MPQ_PATH_STATE_ABANDONED,
	MPQ_PATH_STATE_FAILED,
};

/* True once both ends negotiated multipath. */
MPQ_EXPORT bool mpq_conn_is_multipath(const mpq_conn *conn);

/* Client: opens a new path on |tuple| (its local address and interface, and a
 * server address) with the next free path ID, and validates it. Returns 0 and
 * the ID, MPQ_ERR_INVALID_ARGUMENT (not a client, or multipath not
 * negotiated), or MPQ_ERR_NOT_FOUND (no path ID with CIDs from both ends yet:
 * try again after the next packets arrive, or the limit is reached). */
MPQ_EXPORT int mpq_conn_open_path(mpq_conn *conn, const mpq_path *tuple, uint32_t *path_id);

/* Closes a path with PATH_ABANDON (draft-21 §3.3); its data moves to others. */
MPQ_EXPORT int mpq_conn_abandon_path(mpq_conn *conn, uint32_t path_id, uint64_t error);

/* Server: announces |addr| to the client once the handshake is confirmed,
 * when both ends negotiated ADD_ADDRESS. Returns 0, MPQ_ERR_NOBUF (too many)
 * or MPQ_ERR_INVALID_ARGUMENT (not a server, not an IP address). */
MPQ_EXPORT int mpq_conn_advertise_address(mpq_conn *conn, const mpq_addr *addr);

/* Marks a path backup (carries data only when no available path works) or available. */
MPQ_EXPORT int mpq_conn_set_path_status(mpq_conn *conn, uint32_t path_id, bool backup);

typedef struct mpq_path_stats {
	uint32_t path_id;
	int state; /* enum mpq_path_state_public */
	bool backup;
	mpq_path tuple;
	uint64_t bytes_sent, bytes_received; /* UDP payload bytes */
	uint64_t packets_sent, packets_received, packets_lost;
	uint64_t srtt; /* ns, 0 before a sample */
	uint64_t cwnd;
	/* ECN on this path (RFC 9000 §13.4): the state of our marking (enum
	 * mpq_ecn_state); our ack-eliciting packets sent ECT(0), Initial and
	 * Handshake ones included; of its 1-RTT packet number space, the
	 * peer's packets we received with each codepoint (what our ACK_ECN
	 * frames report) and the counts the peer's ACK_ECN frames last reported
	 * for ours; the rises of the peer's CE count (the congestion controller
	 * reduces at most once a round trip of them). */
	int ecn_state;
	uint64_t ecn_sent_ect0;
	uint64_t ecn_rx_ect0, ecn_rx_ect1, ecn_rx_ce;
	uint64_t ecn_peer_ect0, ecn_peer_ect1, ecn_peer_ce;
	uint64_t ecn_ce_events;
	/* PMTU discovery: the largest datagram the path carries as far as we
	 * know (what it sends now), the largest it sent (probes aside) and the
	 * largest packet it received (a 1-RTT packet fills the rest of its
	 * datagram), probes sent and lost, and black holes detected (back to
	 * 1200 bytes). */
	uint64_t max_udp_payload;
	uint64_t largest_dgram_sent, largest_pkt_received;
	uint64_t pmtu_probes_sent, pmtu_probes_lost, pmtu_black_holes;
} mpq_path_stats;

/* ECN validation of a path (RFC 9000 §13.4.2, Appendix A.4). */
enum mpq_ecn_state {
	MPQ_ECN_STATE_TESTING = 0, /* the first packets go out ECT(0) */
	MPQ_ECN_STATE_UNKNOWN,	   /* those sent, no mark until an ACK validates them */
	MPQ_ECN_STATE_CAPABLE,	   /* validated: every packet goes out ECT(0) */
	MPQ_ECN_STATE_FAILED,	   /* counts missing or wrong, or marks lost: no ECN */
};

/* How many paths the connection has had (index 0 .. count-1), and one's counters. */
MPQ_EXPORT size_t mpq_conn_path_count(const mpq_conn *conn);
MPQ_EXPORT int mpq_conn_get_path_stats(const mpq_conn *conn, size_t i, mpq_path_stats *out);

/* Client: the address validation token the server gave in NEW_TOKEN, to put
 * in mpq_settings.token of a later connection to it; NULL if none. */
MPQ_EXPORT const uint8_t *mpq_conn_new_token(const mpq_conn *conn, size_t *len);

/* The time of the call in progress (or the last) that passed one: what a
 * stream callback passes to mpq_conn_close when it has no clock. */
MPQ_EXPORT uint64_t mpq_conn_now(const mpq_conn *conn);

/* Closes the connection with an application error (CONNECTION_CLOSE 0x1d). */
MPQ_EXPORT void mpq_conn_close(mpq_conn *conn, uint64_t app_error, const char *reason,
			       uint64_t ts);

/* Counters of the connection (single path until multipath). Bytes are UDP
 * payload bytes, as in the tools' --json output. */
typedef struct mpq_conn_stats {
	uint64_t bytes_sent, bytes_received;
	uint64_t packets_sent, packets_received, packets_lost;
	uint64_t stream_bytes_retransmitted;
	uint64_t srtt, min_rtt, rttvar; /* ns */
	uint64_t cwnd, bytes_in_flight;
	uint64_t handshake_time; /* ns from creation to completion, 0 before */
	uint64_t key_updates;
	uint64_t migrations; /* times the peer's address changed */
} mpq_conn_stats;

MPQ_EXPORT void mpq_conn_get_stats(const mpq_conn *conn, mpq_conn_stats *stats);

/* What ended the connection (mpq_conn_error.cause). */
enum mpq_close_cause {
	MPQ_CLOSE_NONE = 0,    /* not closed */
	MPQ_CLOSE_LOCAL_ERROR, /* we closed with a transport error */
	MPQ_CLOSE_LOCAL_APP,   /* the application closed it (mpq_conn_close) */
	MPQ_CLOSE_PEER,	       /* the peer sent CONNECTION_CLOSE */
	MPQ_CLOSE_IDLE_TIMEOUT,
	MPQ_CLOSE_HANDSHAKE_TIMEOUT,
	MPQ_CLOSE_STATELESS_RESET,  /* the peer lost our state (RFC 9000 §10.3) */
	MPQ_CLOSE_VERSION_MISMATCH, /* no QUIC version in common */
};

/* Why the connection ended or is ending. */
typedef struct mpq_conn_error {
	bool set;
	bool remote;   /* the peer sent it (else we did) */
	bool app;      /* application close (0x1d) */
	uint64_t code; /* transport or application error code */
	uint64_t frame_type;
	char reason[128];
	int cause; /* enum mpq_close_cause */
} mpq_conn_error;

MPQ_EXPORT const mpq_conn_error *mpq_conn_get_error(const mpq_conn *conn);

#ifdef __cplusplus
}
#endif
#endif
