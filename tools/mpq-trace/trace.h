/*
 * mpq-trace's decoder: the connections seen in a capture, their CIDs, keys,
 * packet number spaces and per-path counters. decrypt.c feeds it datagrams;
 * conns.c keeps connections and keys; frames.c applies what decrypted frames
 * teach (CIDs, handshake, acknowledgements, stream offsets); summary.c
 * reports.
 */
#ifndef MPQ_TRACE_TRACE_H
#define MPQ_TRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mpq/conn.h"
#include "mpq/dissect.h"
#include "tlsmsg.h"

/* Distinct path IDs one connection may open: a path holds its RTT rings
 * (about 33 KB), so a hostile capture cannot make the decoder grow without
 * bound. Packets on more are counted (DROP_PATH_LIMIT) and skipped. */
#define TRACE_MAX_PATHS 4096
#define TRACE_RTT_RING 1024    /* ack-eliciting packets remembered per path and direction */
#define TRACE_CRYPTO_BUF 16384 /* handshake bytes kept per level and direction */
#define TRACE_NFRAME_KINDS 64
#define TRACE_MAX_FRAMES 256 /* frames of one packet handed to the consumer */

/* Directions: packets to the server (sent by the client) and to the client. */
enum { TO_SERVER = 0, TO_CLIENT = 1 };

/* Why a packet was not decrypted (the keys of summary's undecryptable_reasons). */
enum trace_drop {
	DROP_UNKNOWN_CONNECTION, /* no connection has this DCID */
	DROP_KEYS_MISSING,	 /* no key log lines for this connection or level */
	DROP_DECRYPTION_FAILED,	 /* the keys did not open it (wrong keys, corruption) */
	DROP_MALFORMED,		 /* header or frames do not parse */
	DROP_PATH_LIMIT,	 /* on a path past the TRACE_MAX_PATHS its connection opened */
	DROP_NREASONS,
};

struct trace_sent {
	uint64_t pn; /* +1, 0 = empty */
	uint64_t ts;
};

#define TRACE_BIN_NS 100000000ULL /* series bins: 100 ms */
/* Series columns: UDP payload bytes each way, and how far packets moved
 * their streams' highest offsets (goodput). */
enum { COL_TO_SERVER = TO_SERVER, COL_TO_CLIENT = TO_CLIENT, COL_GOODPUT, TRACE_NCOLS };

/* One capture-point RTT sample: a packet sent toward |dir|'s peer and the
 * ACK of it coming back, and that leg's smoothed RTT after it. */
struct trace_rtt_sample {
	uint64_t since_ns; /* since the connection's first packet */
	int dir;
	double sample_ms, srtt_ms;
};

struct trace_series {
	uint64_t (*bins)[TRACE_NCOLS]; /* by 100 ms bin: COL_* */
	size_t nbins, used;
	struct trace_rtt_sample *rtt;
	size_t nrtt, rtt_cap;
	bool incomplete; /* memory ran out */
};

struct trace_path {
	uint32_t id;
	bool seen;
	bool qlog_tuple, qlog_abandoned; /* qlog.c wrote its tuple, its end */
	mpq_addr client, server;
	uint64_t packets[2], bytes[2];
	int64_t largest_pn[2];
	int gen[2]; /* 1-RTT key generation in use on this path */
	uint64_t retransmitted_bytes;
	/* Path events (capture timestamps, 0: not seen): the first packet, the
	 * first PATH_RESPONSE on it, the first PATH_STATUS_BACKUP and
	 * PATH_ABANDON naming it. */
	uint64_t opened_ts, validated_ts, backup_ts, abandoned_ts;
	struct trace_sent sent[2][TRACE_RTT_RING];
	double srtt_ms[2]; /* capture point to the peer in that direction and back */
	bool has_rtt[2];
	struct trace_series series; /* when trace.series is set */
};

/* One direction of a stream: bidirectional streams carry data both ways. */
struct trace_stream {
	uint64_t id, end; /* highest offset seen */
	int dir;
};

struct trace_crypto {
	uint8_t buf[TRACE_CRYPTO_BUF];
	size_t filled, parsed;
};

enum { LVL_INITIAL, LVL_HANDSHAKE, LVL_APP, LVL_N };

struct trace_conn {
	mpq_cid odcid, initial_dcid;
	uint32_t version;
	uint64_t first_ts;
	struct trace_tls tls;
	mpq_dissect_keys *keys; /* NULL: the Initial keys could not be made */
	bool cipher_known;	/* the ServerHello's suite is given to keys */
	int64_t largest_initial[2], largest_handshake[2], largest_early;
	struct trace_crypto crypto[2][LVL_N];
	struct trace_path **paths; /* sorted by ID, allocated when seen */
	size_t npaths, paths_cap;
	struct trace_stream *streams;
	size_t nstreams, streams_cap;
	uint64_t packets, decrypted;
	uint32_t seg_size[2]; /* GSO segment size last found */
	mpq_dissect_h3 *h3;   /* its HTTP/3, once "h3" was negotiated (h3.c) */
	void *out;	      /* the qlog writer's state */
};

struct trace_cid {
	mpq_cid cid;
	struct trace_conn *conn;
	int dir; /* packets carrying it as DCID go this way */
	uint32_t path_id;
};

/* What the decoder tells its consumer (qlog) about each packet. */
struct trace_pkt {
	struct trace_conn *conn; /* NULL for unknown connections */
	int dir;
	uint32_t path_id;
	uint64_t ts;
	const mpq_addr *src, *dst;
	const mpq_dissect_hdr *hd;
	const uint8_t *payload; /* decrypted frames; NULL when dropped */
	size_t payloadlen;
	const mpq_dissect_frame *frames; /* the frames decoded (the first TRACE_MAX_FRAMES) */
	size_t nframes;
	int drop; /* enum trace_drop when payload is NULL */
};

struct trace {
	mpq_keylog *keys; /* created by the first trace_keys_add */
	struct trace_conn **conns;
	size_t nconns, conns_cap;
	struct trace_cid *cids;
	size_t ncids, cids_cap;
	uint64_t packets, decrypted, dropped[DROP_NREASONS];
	uint64_t frames[TRACE_NFRAME_KINDS]; /* by frame kind, see trace_frame_kind */
	uint64_t datagrams, not_quic;
	uint16_t port; /* 0: every UDP datagram; else only this port */
	bool series;   /* keep each path's series (series.c) */
	void (*on_packet)(void *user, const struct trace_pkt *p);
	void (*on_conn_new)(void *user, struct trace_conn *c);
	void *user;
};

extern const char *const trace_drop_names[DROP_NREASONS];

/* decrypt.c: one UDP datagram of the capture. */
void trace_datagram(struct trace *t, uint64_t ts, const mpq_addr *src, const mpq_addr *dst,
		    const uint8_t *data, size_t len);
void trace_free(struct trace *t);

/* Key log lines (from a capture's DSB) for |t|; input.c: from a file.
 * Return 0 or MPQ_ERR_NOMEM; trace_keys_load also -1 with errno set. */
int trace_keys_add(struct trace *t, const char *text, size_t len);
int trace_keys_load(struct trace *t, const char *path);

/* series.c: add |n| to column |col| of the bin |since_ns| falls in; add an
 * RTT sample (after srtt_ms[dir] took it in); free (|p| may be NULL). */
void trace_series_add(struct trace_path *p, uint64_t since_ns, int col, uint64_t n);
void trace_series_rtt(struct trace_path *p, uint64_t since_ns, int dir, double sample_ms);
void trace_series_free(struct trace_path *p);

/* conns.c */
struct trace_conn *trace_conn_new(struct trace *t, const mpq_dissect_hdr *hd, uint64_t ts);
int trace_cid_add(struct trace *t, struct trace_conn *c, const mpq_cid *cid, int dir,
		  uint32_t path_id);
/* The CID entry a datagram's DCID names: exact for long headers, a prefix
 * match (longest first) for short ones. */
const struct trace_cid *trace_cid_find(const struct trace *t, const uint8_t *dcid, size_t avail,
				       int exact_len);
struct trace_conn *trace_conn_by_tuple(const struct trace *t, const mpq_addr *src,
				       const mpq_addr *dst, int *dir);
/* The connection's keys, with those of |type| and |dir| installed from the
 * key log if they were not yet; NULL when they are not known. */
mpq_dissect_keys *trace_keys(struct trace *t, struct trace_conn *c, int type, int dir);
void trace_conn_retry(struct trace_conn *c, const mpq_cid *new_dcid);
/* The path |id| of |c|: found (NULL when not seen), or created on first use
 * (NULL past TRACE_MAX_PATHS paths or out of memory). */
struct trace_path *trace_path_find(const struct trace_conn *c, uint64_t id);
struct trace_path *trace_path_get(struct trace_conn *c, uint32_t id);

/* frames.c: what the decrypted frames of one packet teach; the frames
 * decoded go to |out| (at most TRACE_MAX_FRAMES, their count in *nout).
 * Returns 0 or DROP_MALFORMED (out of memory). */
int trace_frames(struct trace *t, struct trace_conn *c, const struct trace_pkt *p, int level,
		 mpq_dissect_frame *out, size_t *nout);
int trace_frame_kind(uint64_t type);
/* h3.c: when |c| negotiated "h3", the STREAM frames of |p| as HTTP/3 events
 * to |q|. Returns 0, MPQ_ERR_NOMEM or the qlog sink's error. */
int trace_h3_packet(struct trace_conn *c, const struct trace_pkt *p, mpq_qlog *q);
const char *trace_frame_kind_name(int kind);

#endif
