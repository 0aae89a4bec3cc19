/*
 * The connection object, shared by the files that make up the connection:
 * conn.c (life cycle, timers, close), conn_recv.c (datagrams in),
 * conn_send.c (datagrams out), handshake.c (TLS and CRYPTO streams) and
 * recovery.c (acknowledgements, loss, probe timeouts).
 */
#ifndef MPQ_CONN_PRIV_H
#define MPQ_CONN_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "mpq/conn.h"
#include "quic/cc/cc.h"
#include "quic/cid.h"
#include "quic/cids.h"
#include "quic/frame.h"
#include "quic/key_update.h"
#include "quic/pacer.h"
#include "quic/packet.h"
#include "quic/path.h"
#include "quic/pktns.h"
#include "quic/rtt.h"
#include "quic/sched/path_sched.h"
#include "quic/sched/stream_sched.h"
#include "quic/stream.h"
#include "quic/tls.h"

enum mpq_conn_state {
	MPQ_CONN_HANDSHAKE,
	MPQ_CONN_ESTABLISHED,
	MPQ_CONN_CLOSING,  /* we closed: answer with CONNECTION_CLOSE */
	MPQ_CONN_DRAINING, /* the peer closed: stay silent */
	MPQ_CONN_CLOSED,
};

struct mpq_conn {
	bool is_server;
	int state;
	uint32_t version;
	mpq_settings settings; /* its pointers point at the library's copies, or are NULL */
	uint8_t reset_secret[MPQ_RESET_SECRET_LEN]; /* settings.reset_secret points here */
	mpq_callbacks cb;
	mpq_tparams local_tp;
	mpq_tparams peer_tp;
	bool have_peer_tp;

	mpq_cid odcid;	      /* the DCID of the client's first Initial (before any Retry) */
	mpq_cid initial_dcid; /* the DCID the Initial keys come from (after Retry: its SCID) */
	mpq_cid retry_scid;   /* the SCID of the Retry we took (client) or sent (server) */
	bool retried;
	bool version_negotiated; /* client: restarted after Version Negotiation */
	uint8_t *token;		 /* client: Retry token carried in our Initials */
	size_t tokenlen;
	mpq_cid scid;	   /* ours */
	mpq_cid dcid;	   /* the peer's, that we send to */
	mpq_cid peer_scid; /* the SCID the peer used in its first long header */
	bool peer_scid_known;

	mpq_tls *tls;
	mpq_pktns hs_ns[2]; /* Initial and Handshake spaces (1-RTT: per path) */
	/* Slots of the path IDs in use (conn_slots.c): the paths open at once,
	 * each slot named by its ID; slot 0 is path 0's for good and lives here
	 * (path0, local_cids0, peer_cids0). Slots 1 and up come in one block
	 * (more) allocated when the first of them is taken: without multipath
	 * they are never used, and a connection starts 23 KB smaller. The
	 * pointers of a slot not allocated are NULL; mpq_conn_nslots() says how
	 * many are. */
	mpq_conn_path *paths[MPQ_MAX_PATHS];
	size_t npaths;		   /* slots ever taken (highest + 1) */
	uint32_t slots_taken;	   /* bit per slot: its path ID is in use */
	uint64_t pathid_next;	   /* the next path ID our CIDs go to (issued in order) */
	uint64_t pathids_released; /* path IDs whose state is gone (3 PTO after closing) */
	uint64_t no_path_deadline; /* no usable path since: closed then unless one opens; 0 */
	mpq_path_sched psched;
	mpq_cc_group cc_group; /* coupled congestion control over the paths */
	uint64_t now;	       /* the time of the call in progress (or the last) */
	mpq_key_phase kp;
	uint8_t probe_pending[MPQ_LEVEL_COUNT]; /* ack-eliciting packets a PTO asks for */

	bool handshake_complete;
	bool handshake_confirmed;
	bool handshake_done_pending; /* server: HANDSHAKE_DONE to send */
	bool sent_handshake_pkt;
	mpq_conn_stats stats;
	int tparams_err; /* transport parameter problem found in a TLS callback */

	/* Streams and flow control (conn_stream.c). Index 0: bidirectional, 1: uni. */
	mpq_streams streams;
	mpq_mem_budget send_mem; /* the streams' send buffers; parent: the endpoint's */
	bool send_mem_blocked;	 /* a stream waits for send_mem to free up */
	bool ahead_drained;	 /* a stream's unsent bytes ran low */
	mpq_stream_sched sched;
	uint64_t next_stream_idx[2];  /* our next stream, counted per type */
	uint64_t peer_max_streams[2]; /* how many of ours the peer allows */
	bool streams_blocked_pending[2];
	uint64_t peer_streams_opened[2]; /* how many the peer has opened */
	uint64_t local_max_streams[2];	 /* how many we allow the peer */
	bool max_streams_pending[2];
	uint64_t tx_max_data; /* the peer's MAX_DATA */
	uint64_t tx_data;     /* stream bytes sent, each byte once */
	bool data_blocked_pending;
	uint64_t data_blocked_at; /* limit + 1 last announced blocked; 0 = none */
	uint64_t rx_max_data;	  /* our MAX_DATA */
	uint64_t rx_data;	  /* highest received offsets, summed */
	uint64_t rx_delivered;
	struct mpq_rx_window rx_window;
	bool max_data_pending;

	/* CIDs and tokens (conn_cid.c). */
	mpq_cidset *local_cids[MPQ_MAX_PATHS]; /* by slot */
	mpq_cidset *peer_cids[MPQ_MAX_PATHS];
	uint64_t peer_max_path_id; /* initial_max_path_id or MAX_PATH_ID from the peer */
	uint64_t
		local_max_path_id; /* ours: initial_max_path_id, then MAX_PATH_ID (conn_pathid.c) */
	bool max_path_id_pending;
	bool paths_blocked_pending;
	uint64_t paths_blocked_at; /* peer limit + 1 a PATHS_BLOCKED named; 0: none */
	void (*cid_hook)(void *ud, mpq_conn *conn, const mpq_cid *cid, bool add);
	void *cid_hook_ud;  /* the endpoint, which routes by our CIDs */
	uint32_t ep_cids;   /* endpoint: the first of this connection's CID slots */
	size_t ep_index;    /* endpoint: where it is in the endpoint's list */
	uint8_t *new_token; /* server: to send in NEW_TOKEN; client: received */
	size_t new_token_len;
	bool new_token_pending;

	uint64_t migrations; /* times the peer's address changed (conn_path.c) */

	/* Redundant scheduling (conn_dup.c): STREAM frames other paths still owe,
	 * a ring of MPQ_DUP_MAX allocated at the first copy (16 kB that other
	 * schedulers never use). */
#define MPQ_DUP_MAX 512
	struct mpq_dup {
		mpq_frame_rec rec;
		uint32_t mask; /* paths (by slot) still to carry a copy */
	} * dups;
	size_t dup_head, ndups;

	/* ADD_ADDRESS extension (conn_addr.c): ours to announce, or the server's. */
	struct mpq_conn_addr {
		mpq_addr addr;
		uint64_t seq;
		bool pending;
	} addrs[8];
	size_t naddrs;

	struct mpq_qlog *qlog;	/* NULL: no trace */
	mpq_frame *qlog_frames; /* scratch for logging a packet's frames */

	uint64_t created;
	uint64_t idle_deadline;
	bool eliciting_sent_since_rx; /* for the idle timer (RFC 9000 §10.1) */
	uint64_t close_deadline;      /* end of closing or draining */
	bool close_pending;	      /* a CONNECTION_CLOSE to (re)send */
	mpq_conn_error err;

	mpq_conn_path path0;
	mpq_cidset local_cids0, peer_cids0;
	struct mpq_conn_slots {
		mpq_conn_path paths[MPQ_MAX_PATHS - 1];
		mpq_cidset local_cids[MPQ_MAX_PATHS - 1];
		mpq_cidset peer_cids[MPQ_MAX_PATHS - 1];
	} * more; /* slots 1 and up, or NULL */
};

/* The path the handshake ran on; the only one without multipath. */
static inline mpq_conn_path *mpq_conn_path0(mpq_conn *conn)
{
	return conn->paths[0];
}

/* The packet number space of |level| on path 0. */
static inline mpq_pktns *mpq_conn_ns(mpq_conn *conn, int level)
{
	return level == MPQ_LEVEL_APP ? &conn->paths[0]->ns : &conn->hs_ns[level];
}

static inline const mpq_pktns *mpq_conn_ns_c(const mpq_conn *conn, int level)
{
	return level == MPQ_LEVEL_APP ? &conn->paths[0]->ns : &conn->hs_ns[level];
}

/* conn.c: enter the closing state with a transport error (or an application
 * one); the draining state when the peer closed or reset the connection
 * (|cause|: MPQ_CLOSE_PEER or MPQ_CLOSE_STATELESS_RESET); or the closed
 * state at once, sending nothing, for a timeout or a version mismatch. */
void mpq_conn_close_transport(mpq_conn *conn, uint64_t code, uint64_t frame_type,
			      const char *reason, uint64_t ts);
void mpq_conn_enter_draining(mpq_conn *conn, int cause, uint64_t ts);
void mpq_conn_close_silently(mpq_conn *conn, int cause, const char *reason, uint64_t ts);
/* recovery.c: the PTO of |path| for |level|, without backoff. */
uint64_t mpq_conn_pto(const mpq_conn *conn, const mpq_conn_path *path, int level);
uint64_t mpq_conn_largest_pto(const mpq_conn *conn);
/* Drop a level's keys and everything sent in it (RFC 9001 §4.9). */
void mpq_conn_discard_level(mpq_conn *conn, int level, uint64_t ts);
/* What the endpoint knows of a client's first Initial when it accepts it. */
typedef struct mpq_accept_info {
	const mpq_cid
		*odcid; /* from a Retry token (the address is then validated); NULL: no Retry */
	bool validated; /* a NEW_TOKEN token proved the client's address */
	mpq_crypto_keys *initial; /* the client's and the server's Initial keys, which opened
				   * the packet: moved into the connection; NULL: derive them */
} mpq_accept_info;
/* Server connection for a client's first Initial (mpq_conn_server_new takes no
 * |info|). */
int mpq_conn_server_accept(mpq_conn **out, const mpq_path *path, const uint8_t *pkt, size_t pktlen,
			   const mpq_settings *settings, const mpq_tparams *tparams,
			   const mpq_callbacks *cb, mpq_tls_ctx *tls, const mpq_accept_info *info,
			   uint64_t ts);
/* MPQ_ERR_INVALID_ARGUMENT unless all three are there in a version we know. */
int mpq_settings_check(const mpq_settings *s, const mpq_tparams *tp, const mpq_callbacks *cb);
/* Points cc, stream_sched and path_sched at the library's own names (the
 * caller's strings need not outlive the call); MPQ_ERR_INVALID_ARGUMENT for a
 * name it does not know. */
int mpq_settings_own_names(mpq_settings *s);
/* Client: start over after Retry or Version Negotiation (new keys, CRYPTO resent). */
int mpq_conn_client_restart(mpq_conn *conn, uint32_t version, const mpq_cid *dcid);
/* Close on a library error: maps it to a transport error code. */
int mpq_conn_fail(mpq_conn *conn, int err, uint64_t frame_type, const char *reason, uint64_t ts);
/* conn_recv.c: restart the idle timer (a packet arrived or we sent one). */
void mpq_conn_touch_idle(mpq_conn *conn, uint64_t ts);
void mpq_conn_log(const mpq_conn *conn, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* handshake.c */
int mpq_handshake_init(mpq_conn *conn, mpq_tls_ctx *tls_ctx);
/* Stores CRYPTO frame data and feeds what is contiguous to TLS. */
int mpq_handshake_recv_crypto(mpq_conn *conn, int level, uint64_t offset, const uint8_t *data,
			      size_t len, uint64_t ts);
/* Client: HANDSHAKE_DONE, or an ACK of a 1-RTT packet, confirms the handshake. */
void mpq_handshake_confirm(mpq_conn *conn, uint64_t ts);

/* conn_stream.c */
int mpq_conn_streams_init(mpq_conn *conn);
/* Flow control limits and stream counts once the peer's parameters are known. */
void mpq_conn_streams_on_peer_tparams(mpq_conn *conn);
/* STREAM, RESET_STREAM, STOP_SENDING, MAX_*, *_BLOCKED frames. */
int mpq_conn_on_stream_frame(mpq_conn *conn, const mpq_frame *fr, uint64_t ts);
/* Anything of the streams' to send: control frames or data with credit. */
bool mpq_conn_streams_want_send(mpq_conn *conn);
/* Streams a memory budget stopped hear stream_writable once it has room again. */
void mpq_conn_streams_wake(mpq_conn *conn);
/* Writes stream control frames and stream data into the packet at |w|,
 * recording what was sent in |recs| (up to |maxrecs|). Returns the number of
 * records used. */
size_t mpq_conn_write_streams(mpq_conn *conn, mpq_writer *w, mpq_frame_rec *recs, size_t maxrecs,
			      bool *ack_eliciting, uint64_t ts);
/* A packet carrying these records was acknowledged / lost. */
void mpq_conn_streams_on_acked(mpq_conn *conn, const mpq_frame_rec *r);
void mpq_conn_streams_on_lost(mpq_conn *conn, const mpq_frame_rec *r);

/* conn_cid.c */
void mpq_conn_cids_init(mpq_conn *conn);
void mpq_conn_cids_replenish(mpq_conn *conn);
void mpq_conn_cids_on_peer_tparams(mpq_conn *conn);
void mpq_conn_cids_set_peer_first(mpq_conn *conn, const mpq_cid *cid);
int mpq_conn_on_cid_frame(mpq_conn *conn, const mpq_frame *fr, const mpq_cid *pkt_dcid,
			  uint64_t ts);
bool mpq_conn_cids_want_send(const mpq_conn *conn);
/* Some NEW_CONNECTION_ID of ours is still to be sent (HANDSHAKE_DONE waits
 * for them: a peer may open a path as soon as it is confirmed). */
bool mpq_conn_cids_announcing(const mpq_conn *conn);
/* Multipath negotiated (both sent initial_max_path_id), and the largest path ID
 * both allow; 0 without multipath. */
bool mpq_conn_multipath(const mpq_conn *conn);
uint32_t mpq_conn_max_path_id(const mpq_conn *conn);
/* The slot of the path ID a DCID of ours belongs to, or -1. */
int mpq_conn_slot_of_cid(const mpq_conn *conn, const mpq_cid *dcid);
/* Checks the path ID of a multipath frame: returns its slot, -1 to ignore the
 * frame, or an error (the connection then closes). |take|: a path ID not yet
 * in use gets a slot (the peer's CIDs for it). */
int mpq_conn_frame_slot(mpq_conn *conn, const mpq_frame *fr, uint64_t pid, bool take, uint64_t ts);
bool mpq_conn_is_peer_reset_token(const mpq_conn *conn, const uint8_t token[16]);
size_t mpq_conn_write_cid_frames(mpq_conn *conn, mpq_writer *w, mpq_frame_rec *recs,
				 size_t maxrecs, bool *ack_eliciting);
void mpq_conn_cids_on_acked(mpq_conn *conn, const mpq_frame_rec *r);
void mpq_conn_cids_on_lost(mpq_conn *conn, const mpq_frame_rec *r);

/* conn_path.c: validation and migration of path |p|. */
/* Starts (or repeats) a PATH_CHALLENGE on |p|. */
void mpq_conn_path_challenge(mpq_conn *conn, mpq_conn_path *p, uint64_t ts);
/* |len|: the packet's size, the new address's first 3x budget if it moved. */
void mpq_conn_path_on_packet(mpq_conn *conn, mpq_conn_path *p, const mpq_path *from,
			     bool non_probing, bool largest, size_t len, uint64_t ts);
/* |len|: the size of the packet that carried |fr|. */
int mpq_conn_on_path_frame(mpq_conn *conn, mpq_conn_path *p, const mpq_frame *fr,
			   const mpq_path *from, size_t len, uint64_t ts);
uint64_t mpq_conn_path_expiry(const mpq_conn_path *p);
void mpq_conn_path_on_timeout(mpq_conn *conn, mpq_conn_path *p, uint64_t ts);
bool mpq_conn_path_want_send(const mpq_conn_path *p);
size_t mpq_conn_write_path_frames(mpq_conn_path *p, mpq_writer *w, bool *pad, bool *ack_eliciting);
bool mpq_conn_path_response_elsewhere(const mpq_conn_path *p, mpq_path *to, size_t *budget);

/* conn_mpath.c: multipath life cycle and the choice of path per datagram. */
/* The server side of a path the client opened: a packet arrived for the path
 * ID in |slot| from |from|. Returns the path, or NULL when it cannot be accepted. */
mpq_conn_path *mpq_conn_accept_path(mpq_conn *conn, uint32_t slot, const mpq_path *from,
				    uint64_t ts);
int mpq_conn_on_mp_frame(mpq_conn *conn, const mpq_frame *fr, uint64_t ts);
/* The path the next datagram leaves by; |data_ok| says whether stream data may
 * go in it (congestion window and pacer of that path permitting). */
mpq_conn_path *mpq_conn_choose_path(mpq_conn *conn, uint64_t ts, bool *data_ok);
/* May stream data go out on |p| now? Sets p->next_send_time when paced. */
bool mpq_conn_path_may_send_data(mpq_conn *conn, mpq_conn_path *p, uint64_t ts);
bool mpq_conn_path_may_send_copy(mpq_conn *conn, mpq_conn_path *p, uint64_t ts);
/* Another active path has nothing unacknowledged past its PTO and delivered
 * later than |p| did (a packet arrived on it, or an ACK acknowledged one sent
 * on it). */
bool mpq_conn_other_path_delivers(const mpq_conn *conn, const mpq_conn_path *p);
/* |p| is backup while another path is available: no stream data on it, not
 * even in a PTO probe (which is then a PING). */
bool mpq_conn_path_holds_data(const mpq_conn *conn, const mpq_conn_path *p);
bool mpq_conn_mp_want_send(const mpq_conn *conn);
size_t mpq_conn_write_mp_frames(mpq_conn *conn, mpq_writer *w, mpq_frame_rec *recs, size_t maxrecs,
				bool *ack_eliciting);
void mpq_conn_mp_on_lost(mpq_conn *conn, const mpq_frame_rec *r);
uint64_t mpq_conn_mp_expiry(const mpq_conn *conn);
void mpq_conn_mp_on_timeout(mpq_conn *conn, uint64_t ts);
/* A path stopped delivering: abandon it and move its data elsewhere. */
/* |reason|: enum mpq_path_fail. */
void mpq_conn_path_failed(mpq_conn *conn, mpq_conn_path *p, int reason, uint64_t ts);
/* Is |p| one that may carry packets (validating or active, not released)? */
static inline bool mpq_conn_path_usable(const mpq_conn_path *p)
{
	return p->state == MPQ_PATH_VALIDATING || p->state == MPQ_PATH_ACTIVE;
}

/* conn_slots.c: path IDs to slots. The slot of |pid|, or -1. */
int mpq_conn_slot_find(const mpq_conn *conn, uint64_t pid);
/* The slot of |pid|, taken if it has none: a free one or one whose path was
 * released (its state, CIDs and key phase marks cleared). -1: none left;
 * MPQ_ERR_NOMEM: the state of slots 1 and up could not be allocated. */
int mpq_conn_slot_take(mpq_conn *conn, uint32_t pid);
/* Slot 0's pointers to its state in the connection; the block of the others
 * freed. */
void mpq_conn_slots_init(mpq_conn *conn);
void mpq_conn_slots_free(mpq_conn *conn);
static inline uint32_t mpq_conn_slot_index(const mpq_conn *conn, const mpq_conn_path *p)
{
	return p == &conn->path0 ? 0 : 1 + (uint32_t)(p - conn->more->paths);
}
/* How many slots have their state allocated: 1 until a second one is taken. */
static inline uint32_t mpq_conn_nslots(const mpq_conn *conn)
{
	return conn->more ? MPQ_MAX_PATHS : 1;
}
/* The path of |pid| (opened or not), or NULL. */
static inline mpq_conn_path *mpq_conn_path_by_id(mpq_conn *conn, uint64_t pid)
{
	int s = mpq_conn_slot_find(conn, pid);
	return s < 0 ? NULL : conn->paths[s];
}

/* conn_pathid.c: our path ID limit (MAX_PATH_ID) and the peer's (PATHS_BLOCKED). */
/* A closed path's state was released: its ID counts towards a higher limit. */
void mpq_conn_pathids_on_release(mpq_conn *conn);
/* Our client found no path ID it may open. */
void mpq_conn_pathids_blocked(mpq_conn *conn);
int mpq_conn_on_pathid_frame(mpq_conn *conn, const mpq_frame *fr, uint64_t ts);
bool mpq_conn_pathids_want_send(const mpq_conn *conn);
size_t mpq_conn_write_pathid_frames(mpq_conn *conn, mpq_writer *w, mpq_frame_rec *recs,
				    size_t maxrecs);
void mpq_conn_pathids_on_lost(mpq_conn *conn, const mpq_frame_rec *r);

/* conn_dup.c: copies for the redundant scheduler. A STREAM frame of record
 * |r| left by path |p|: the other active paths owe a copy. */
void mpq_conn_dup_on_sent(mpq_conn *conn, const mpq_conn_path *p, const mpq_frame_rec *r);
bool mpq_conn_dup_owed(mpq_conn *conn, const mpq_conn_path *p);
size_t mpq_conn_write_dups(mpq_conn *conn, mpq_conn_path *p, mpq_writer *w, mpq_frame_rec *recs,
			   size_t maxrecs, bool *ack_eliciting);
void mpq_conn_dup_forget_path(mpq_conn *conn, const mpq_conn_path *p);

/* conn_addr.c: the ADD_ADDRESS extension. */
int mpq_conn_on_addr_frame(mpq_conn *conn, const mpq_frame *fr, uint64_t ts);
bool mpq_conn_addr_want_send(const mpq_conn *conn);
size_t mpq_conn_write_addr_frames(mpq_conn *conn, mpq_writer *w, mpq_frame_rec *recs,
				  size_t maxrecs, bool *ack_eliciting);
void mpq_conn_addr_on_lost(mpq_conn *conn, const mpq_frame_rec *r);

/* conn_qlog.c: trace events, each a no-op without a trace. */
void mpq_conn_qlog_close(mpq_conn *conn);
/* Decodes a plaintext payload into the scratch frames; returns how many. */
size_t mpq_conn_qlog_decode(mpq_conn *conn, const uint8_t *payload, size_t len);
/* |path_id| of 1-RTT packets; the field is logged once multipath is on. */
void mpq_conn_qlog_packet(mpq_conn *conn, bool sent, const mpq_pkt_hd *hd, uint32_t path_id,
			  size_t size, size_t nframes, uint64_t ts);
void mpq_conn_qlog_dropped(mpq_conn *conn, const mpq_pkt_hd *hd, const char *trigger, uint64_t ts);
void mpq_conn_qlog_lost(mpq_conn *conn, int level, uint32_t path_id, const mpq_sent_pkt *p,
			const char *trigger, uint64_t ts);
/* quic:ecn_state_updated when path |p|'s ECN state changed since the last. */
void mpq_conn_qlog_ecn(mpq_conn *conn, mpq_conn_path *p, uint64_t ts);
/* Path |p|'s datagram size changed from |old| (PMTU discovery): the congestion
 * controller follows it (RFC 9002 §7.2), and qlog shows it. */
void mpq_conn_path_size_changed(mpq_conn *conn, mpq_conn_path *p, uint32_t old, uint64_t ts);
/* quic:tuple_assigned for path |p| (its 4-tuple bound). */
void mpq_conn_qlog_tuple(mpq_conn *conn, const mpq_conn_path *p, uint64_t ts);
/* |trigger| ("ecn": the ACK reported new CE marks; NULL: none) goes with a
 * move into recovery. */
void mpq_conn_qlog_metrics(mpq_conn *conn, mpq_conn_path *p, const char *trigger, uint64_t ts);
/* |trigger| is an enum mpq_qlog_key_trigger. */
void mpq_conn_qlog_key(mpq_conn *conn, int level, bool tx, bool discarded, int trigger,
		       uint64_t ts);
void mpq_conn_qlog_params(mpq_conn *conn, uint64_t ts);
/* quic:connection_closed, its trigger from conn->err.cause. */
void mpq_conn_qlog_closed(mpq_conn *conn, uint64_t ts);

/* recovery.c */
int mpq_recovery_on_ack(mpq_conn *conn, mpq_conn_path *path, mpq_pktns *ns,
			const mpq_frame_ack *ack, uint64_t ts);
void mpq_recovery_on_sent(mpq_conn_path *path, mpq_pktns *ns, mpq_sent_pkt *p, uint64_t ts);
uint64_t mpq_recovery_expiry(const mpq_conn *conn);
void mpq_recovery_on_timeout(mpq_conn *conn, uint64_t ts);
/* What a lost (or stranded) packet carried goes back in line, every kind. */
void mpq_recovery_requeue(mpq_conn *conn, const mpq_sent_pkt *p);
/* Forget a packet's bytes in flight (acknowledged, lost or discarded). */
void mpq_recovery_settle(mpq_conn_path *path, mpq_pktns *ns, mpq_sent_pkt *p);

#endif
