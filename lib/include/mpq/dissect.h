/*
 * Dissecting QUIC from the outside: what a capture decoder such as mpq-trace
 * needs, with the library's own packet, frame, crypto and qlog code (one
 * decoder, the one the endpoints use).
 *
 *   mpq_dissect_hdr_parse      a packet header; pktlen gives the boundary of
 *                              coalesced packets in a datagram
 *   mpq_keylog                 NSS key log lines (SSLKEYLOGFILE, pcapng DSBs)
 *   mpq_dissect_keys           the packet protection keys of one connection:
 *                              Initial keys from the client's first DCID (v1,
 *                              v2), the others installed from secrets; 1-RTT
 *                              key updates derived as key phases ask
 *   mpq_dissect_open           header protection removed and payload decrypted
 *                              (the multipath nonce carries the path ID)
 *   mpq_dissect_frame_next     the frames of a decrypted payload
 *   mpq_dissect_qlog_*         those packets as qlog events (vantage point
 *                              network, the schema of the endpoints' qlog)
 *
 * Directions are MPQ_DISSECT_TO_SERVER (sent by the client) and
 * MPQ_DISSECT_TO_CLIENT. Nothing here reads files, sockets or clocks.
 */
#ifndef MPQ_DISSECT_H
#define MPQ_DISSECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mpq/conn.h"
#include "mpq/mpq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Packet types (RFC 9000 §17; v2's long header types are mapped to these). */
enum mpq_pkt_type {
	MPQ_PKT_INITIAL = 1,
	MPQ_PKT_0RTT,
	MPQ_PKT_HANDSHAKE,
	MPQ_PKT_RETRY,
	MPQ_PKT_1RTT,
	MPQ_PKT_VERSION_NEGOTIATION,
};

/* Frame type codepoints. Multipath ones: draft-ietf-quic-multipath-21. */
#define MPQ_FT_PADDING 0x00ULL
#define MPQ_FT_PING 0x01ULL
#define MPQ_FT_ACK 0x02ULL
#define MPQ_FT_ACK_ECN 0x03ULL
#define MPQ_FT_RESET_STREAM 0x04ULL
#define MPQ_FT_STOP_SENDING 0x05ULL
#define MPQ_FT_CRYPTO 0x06ULL
#define MPQ_FT_NEW_TOKEN 0x07ULL
#define MPQ_FT_STREAM 0x08ULL /* 0x08..0x0f: | OFF 0x04 | LEN 0x02 | FIN 0x01 */
#define MPQ_FT_MAX_DATA 0x10ULL
#define MPQ_FT_MAX_STREAM_DATA 0x11ULL
#define MPQ_FT_MAX_STREAMS_BIDI 0x12ULL
#define MPQ_FT_MAX_STREAMS_UNI 0x13ULL
#define MPQ_FT_DATA_BLOCKED 0x14ULL
#define MPQ_FT_STREAM_DATA_BLOCKED 0x15ULL
#define MPQ_FT_STREAMS_BLOCKED_BIDI 0x16ULL
#define MPQ_FT_STREAMS_BLOCKED_UNI 0x17ULL
#define MPQ_FT_NEW_CONNECTION_ID 0x18ULL
#define MPQ_FT_RETIRE_CONNECTION_ID 0x19ULL
#define MPQ_FT_PATH_CHALLENGE 0x1aULL
#define MPQ_FT_PATH_RESPONSE 0x1bULL
#define MPQ_FT_CONNECTION_CLOSE 0x1cULL
#define MPQ_FT_CONNECTION_CLOSE_APP 0x1dULL
#define MPQ_FT_HANDSHAKE_DONE 0x1eULL
#define MPQ_FT_PATH_ACK 0x3eULL
#define MPQ_FT_PATH_ACK_ECN 0x3fULL
#define MPQ_FT_PATH_ABANDON 0x3e75ULL
#define MPQ_FT_PATH_STATUS_BACKUP 0x3e76ULL
#define MPQ_FT_PATH_STATUS_AVAILABLE 0x3e77ULL
#define MPQ_FT_PATH_NEW_CONNECTION_ID 0x3e78ULL
#define MPQ_FT_PATH_RETIRE_CONNECTION_ID 0x3e79ULL
#define MPQ_FT_MAX_PATH_ID 0x3e7aULL
#define MPQ_FT_PATHS_BLOCKED 0x3e7bULL
#define MPQ_FT_PATH_CIDS_BLOCKED 0x3e7cULL
/* ADD_ADDRESS extension, unregistered codepoints: docs/add_address.md. */
#define MPQ_FT_ADD_ADDRESS 0x0addad01ULL
#define MPQ_FT_REMOVE_ADDRESS 0x0addad02ULL
/* Other stacks' extensions the dissector skips by size (not negotiated by
 * this library): draft-ietf-quic-ack-frequency, draft-huitema-quic-ts. */
#define MPQ_FT_ACK_FREQUENCY 0xafULL
#define MPQ_FT_IMMEDIATE_ACK 0x1fULL
#define MPQ_FT_TIME_STAMP 0x2f5ULL

enum { MPQ_DISSECT_TO_SERVER = 0, MPQ_DISSECT_TO_CLIENT = 1 };

/* A packet header. After mpq_dissect_hdr_parse: everything up to the packet
 * number; after mpq_dissect_open also first, pn, pn_len and key_phase. */
typedef struct mpq_dissect_hdr {
	int type;	  /* enum mpq_pkt_type */
	uint8_t first;	  /* first byte, unprotected once opened */
	uint32_t version; /* long headers; 0 for 1-RTT */
	mpq_cid dcid;
	mpq_cid scid;	      /* long headers */
	const uint8_t *token; /* Initial and Retry: points into the datagram */
	size_t tokenlen;
	size_t len;	  /* long header Length field: pn + payload + tag */
	size_t pn_offset; /* where the packet number starts */
	size_t pktlen;	  /* this packet's bytes in the datagram */
	uint64_t pn;
	size_t pn_len;
	bool key_phase; /* 1-RTT */
} mpq_dissect_hdr;

/* Parses the header of the packet at |data| (|len| bytes left in the
 * datagram). A short header packet needs its DCID's length, which only the
 * connection knows (|short_dcidlen|), and takes the rest of the datagram.
 * The next coalesced packet starts at data + hd->pktlen. Returns 0,
 * MPQ_ERR_INVALID_PACKET or MPQ_ERR_UNKNOWN_VERSION (version, CIDs filled). */
MPQ_EXPORT int mpq_dissect_hdr_parse(mpq_dissect_hdr *hd, const uint8_t *data, size_t len,
				     size_t short_dcidlen);

/* True when the Retry packet |pkt| (|len| bytes) carries the integrity tag
 * of |odcid| (the DCID of the client's first Initial). */
MPQ_EXPORT bool mpq_dissect_retry_valid(uint32_t version, const mpq_cid *odcid, const uint8_t *pkt,
					size_t len);

/*
 * Key log: "LABEL <client random, 64 hex> <secret, hex>" lines. Only the TLS
 * 1.3 labels QUIC uses are kept, one entry per client random; other labels
 * and comments are skipped, lines that name a QUIC label but do not parse
 * are counted as bad.
 */
enum mpq_keylog_label {
	MPQ_KEYLOG_CLIENT_EARLY,     /* CLIENT_EARLY_TRAFFIC_SECRET */
	MPQ_KEYLOG_CLIENT_HANDSHAKE, /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
	MPQ_KEYLOG_SERVER_HANDSHAKE, /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
	MPQ_KEYLOG_CLIENT_TRAFFIC_0, /* CLIENT_TRAFFIC_SECRET_0 */
	MPQ_KEYLOG_SERVER_TRAFFIC_0, /* SERVER_TRAFFIC_SECRET_0 */
	MPQ_KEYLOG_NLABELS,
};

typedef struct mpq_keylog mpq_keylog;

/* Returns 0 or MPQ_ERR_NOMEM. */
MPQ_EXPORT int mpq_keylog_new(mpq_keylog **out);
MPQ_EXPORT void mpq_keylog_free(mpq_keylog *kl);

/* Adds the lines of |text| (|len| bytes; the last line needs no newline).
 * Returns 0 or MPQ_ERR_NOMEM. */
MPQ_EXPORT int mpq_keylog_add(mpq_keylog *kl, const char *text, size_t len);

/* The secret |label| of the handshake with ClientHello random |random|, or
 * NULL (then *len is 0). Points into |kl| until it is freed. */
MPQ_EXPORT const uint8_t *mpq_keylog_find(const mpq_keylog *kl, const uint8_t random[32],
					  enum mpq_keylog_label label, size_t *len);

/* Lines read (not comments or blank), of them the bad ones, and how many
 * client randoms have secrets. */
MPQ_EXPORT void mpq_keylog_counts(const mpq_keylog *kl, uint64_t *lines, uint64_t *bad_lines,
				  size_t *randoms);

/*
 * The keys of one connection, both directions, every level.
 */
typedef struct mpq_dissect_keys mpq_dissect_keys;

/* Keys for a connection of |version| whose client sent its first Initial to
 * |dcid|: the Initial keys are derived at once (RFC 9001 §5.2, RFC 9369).
 * Returns 0, MPQ_ERR_NOMEM, MPQ_ERR_INVALID_ARGUMENT (version) or MPQ_ERR_TLS. */
MPQ_EXPORT int mpq_dissect_keys_new(mpq_dissect_keys **out, uint32_t version, const mpq_cid *dcid);
MPQ_EXPORT void mpq_dissect_keys_free(mpq_dissect_keys *k);

/* After a Retry: Initial keys from the DCID the client uses now. */
MPQ_EXPORT int mpq_dissect_keys_retry(mpq_dissect_keys *k, const mpq_cid *dcid);

/* The TLS cipher suite (0x1301..0x1303) of the ServerHello, for secrets
 * installed after this. Until it is known, a 48-byte secret means
 * TLS_AES_256_GCM_SHA384, a 32-byte one TLS_AES_128_GCM_SHA256. Returns 0
 * or MPQ_ERR_INVALID_ARGUMENT. */
MPQ_EXPORT int mpq_dissect_keys_set_cipher_suite(mpq_dissect_keys *k, uint16_t suite);

/* Installs the secret of a key log |label| (0-RTT, handshake or the first
 * 1-RTT keys of one direction). Installed keys are not replaced. Returns 0,
 * MPQ_ERR_INVALID_ARGUMENT (secret length) or MPQ_ERR_TLS. */
MPQ_EXPORT int mpq_dissect_keys_set_secret(mpq_dissect_keys *k, enum mpq_keylog_label label,
					   const uint8_t *secret, size_t len);

/* Installs every secret |kl| holds for ClientHello random |random| that is
 * not installed yet. Returns how many were installed, or an error of
 * mpq_dissect_keys_set_secret. */
MPQ_EXPORT int mpq_dissect_keys_from_keylog(mpq_dissect_keys *k, const mpq_keylog *kl,
					    const uint8_t random[32]);

/* True when packets of |pkt_type| (enum mpq_pkt_type) going |dir| can be
 * opened (1-RTT: the first key generation is installed). */
MPQ_EXPORT bool mpq_dissect_keys_have(const mpq_dissect_keys *k, int pkt_type, int dir);

/* Opens a copy of the packet at |pkt| (hd->pktlen bytes, hd from
 * mpq_dissect_hdr_parse, pktlen possibly shortened to a GSO segment) in
 * |buf| (room for hd->pktlen bytes): header protection removed with the
 * packet number decoded against |largest_pn| (-1: none yet), then the AEAD
 * with the nonce of |path_id| (0 without multipath). |pkt| is left as it
 * was, so a failed try can be repeated. For 1-RTT, |*gen| is the key
 * generation in use on the path in that direction (0 at first): the key
 * phase bit picks it or, when it flips, the next one (a key update) and
 * then the previous (a reordered packet); on success *gen is the
 * generation that opened it. Fills the rest of |hd| and points
 * |*payload| at the frames in |buf|.
 * Returns 0, MPQ_ERR_NOT_FOUND (no keys for this level and direction),
 * MPQ_ERR_DECRYPT (the keys do not open it), MPQ_ERR_INVALID_PACKET
 * (too short, or no packet number: Retry, Version Negotiation) or
 * MPQ_ERR_NOBUF (|bufcap| below hd->pktlen). */
MPQ_EXPORT int mpq_dissect_open(mpq_dissect_keys *k, const uint8_t *pkt, mpq_dissect_hdr *hd,
				uint8_t *buf, size_t bufcap, int dir, uint32_t path_id,
				int64_t largest_pn, int *gen, const uint8_t **payload,
				size_t *payloadlen);

/*
 * Frames. Data, tokens and reasons point into the payload.
 */
#define MPQ_DISSECT_MAX_ACK_RANGES 32

typedef struct mpq_dissect_ack_range {
	uint64_t smallest, largest; /* inclusive */
} mpq_dissect_ack_range;

typedef struct mpq_dissect_frame {
	uint64_t type;	    /* MPQ_FT_*; STREAM keeps its flag bits */
	bool extension;	    /* an MPQ_FT_* extension of another stack: type only */
	bool ack_eliciting; /* RFC 9000 §13.2.1 */
	const uint8_t *raw; /* the frame's bytes in the payload */
	size_t rawlen;
	union {
		size_t padding_len; /* a run of PADDING counts as one frame */
		struct {
			uint64_t path_id;   /* PATH_ACK, PATH_ACK_ECN; 0 for ACK */
			uint64_t ack_delay; /* as sent, before the ack_delay_exponent */
			size_t nranges;	    /* the first MPQ_DISSECT_MAX_ACK_RANGES */
			mpq_dissect_ack_range ranges[MPQ_DISSECT_MAX_ACK_RANGES];
			bool ecn;
			uint64_t ect0, ect1, ce;
		} ack; /* ranges[0] is the highest */
		struct {
			uint64_t stream_id, error_code, final_size;
		} reset_stream;
		struct {
			uint64_t stream_id, error_code;
		} stop_sending;
		struct {
			uint64_t offset;
			const uint8_t *data;
			size_t len;
		} crypto;
		struct {
			const uint8_t *token;
			size_t len;
		} new_token;
		struct {
			uint64_t stream_id, offset;
			const uint8_t *data;
			size_t len;
			bool fin;
		} stream;
		struct {
			uint64_t stream_id; /* MAX_STREAM_DATA, STREAM_DATA_BLOCKED */
			uint64_t
				max; /* also MAX_DATA, DATA_BLOCKED, MAX_STREAMS_*, STREAMS_BLOCKED_*,
					 MAX_PATH_ID, PATHS_BLOCKED */
		} max;
		struct {
			uint64_t path_id; /* PATH_NEW_CONNECTION_ID; 0 otherwise */
			uint64_t seq, retire_prior_to;
			mpq_cid cid;
			uint8_t reset_token[16];
		} new_cid;
		struct {
			uint64_t path_id; /* PATH_RETIRE_CONNECTION_ID; 0 otherwise */
			uint64_t seq;
		} retire_cid;
		struct {
			uint8_t data[8];
		} path_challenge; /* PATH_CHALLENGE, PATH_RESPONSE */
		struct {
			uint64_t error_code;
			uint64_t frame_type; /* CONNECTION_CLOSE (0x1c) only */
			const uint8_t *reason;
			size_t reasonlen;
		} close;
		struct {
			uint64_t path_id, error_code;
		} path_abandon;
		struct {
			uint64_t path_id, seq;
		} path_status; /* PATH_STATUS_BACKUP, PATH_STATUS_AVAILABLE */
		struct {
			uint64_t path_id, next_seq;
		} path_cids_blocked;
		struct {
			uint64_t seq;
			uint8_t ip_version; /* 4 or 6 */
			uint8_t addr[16];   /* network order; IPv4 in addr[0..3] */
			uint16_t port;
		} add_address;
		struct {
			uint64_t seq;
		} remove_address;
	};
} mpq_dissect_frame;

/* Walks a decrypted payload. */
typedef struct mpq_dissect_frames {
	const uint8_t *pos, *end;
} mpq_dissect_frames;

MPQ_EXPORT void mpq_dissect_frames_init(mpq_dissect_frames *it, const uint8_t *payload,
					size_t len);

/* The next frame into |fr|. Returns 1, 0 at the end, or
 * MPQ_ERR_FRAME_ENCODING for a frame that does not parse (nothing after it
 * can be read: the iterator stays at it). */
MPQ_EXPORT int mpq_dissect_frame_next(mpq_dissect_frames *it, mpq_dissect_frame *fr);

/* The qlog name of a frame type ("ack", "stream", "path_ack", ...;
 * "unknown" for others). */
MPQ_EXPORT const char *mpq_dissect_frame_name(uint64_t type);

/* Decodes a transport parameters extension (RFC 9000 §18) sent by the server
 * (|from_server|) or the client. Returns 0 or MPQ_ERR_TRANSPORT_PARAM. */
MPQ_EXPORT int mpq_dissect_tparams(mpq_tparams *tp, const uint8_t *data, size_t len,
				   bool from_server);

/*
 * qlog of what the network sees (vantage point network: packet_sent is
 * client to server, packet_received server to client), written by the
 * library's qlog writer to a sink (mpq_qlog_sink, mpq/conn.h; file sinks in
 * mpq/io/qlog_file.h). Times are ns on the capture's clock.
 */
typedef struct mpq_qlog mpq_qlog;

/* Opens a trace named by the connection's |odcid| whose event times count
 * from |ref_ts|; takes the sink over (closed by mpq_dissect_qlog_close, or
 * here on failure, unless its struct_version is unknown). Returns 0,
 * MPQ_ERR_INVALID_ARGUMENT (no write callback, an unknown struct_version),
 * MPQ_ERR_NOMEM or the sink's error. */
MPQ_EXPORT int mpq_dissect_qlog_open(mpq_qlog **out, const mpq_qlog_sink *sink,
				     const mpq_cid *odcid, const char *title, uint64_t ref_ts);

/* Writes what is left and closes the sink. Returns 0 or the first error. */
MPQ_EXPORT int mpq_dissect_qlog_close(mpq_qlog *q);

/* quic:tuple_assigned: the path |path_id| runs between |client| and
 * |server| (AF_INET or AF_INET6); both NULL: the path is abandoned (its
 * tuple_id assigned no endpoints). */
MPQ_EXPORT int mpq_dissect_qlog_path(mpq_qlog *q, uint64_t ts, uint32_t path_id,
				     const struct sockaddr *client, const struct sockaddr *server);

/* quic:packet_sent (|dir| MPQ_DISSECT_TO_SERVER) or quic:packet_received
 * with its header and frames (extension frames are left out; NULL and 0:
 * no frames, e.g. Retry). |path_id| -1 leaves "path_id" out (no multipath). */
MPQ_EXPORT int mpq_dissect_qlog_packet(mpq_qlog *q, uint64_t ts, int dir,
				       const mpq_dissect_hdr *hd, int64_t path_id,
				       const mpq_dissect_frame *frames, size_t nframes);

/* quic:packet_dropped with the header as far as it is known and a trigger
 * ("connection_unknown", "key_unavailable", "decryption_failure", "invalid"). */
MPQ_EXPORT int mpq_dissect_qlog_dropped(mpq_qlog *q, uint64_t ts, const mpq_dissect_hdr *hd,
					int64_t path_id, const char *trigger);

/*
 * HTTP/3 (RFC 9114) of a connection that negotiated "h3", from its STREAM
 * frames as a capture shows them (out of order, sent again): each stream is
 * reassembled and its frames written to the connection's qlog as
 * http3:frame_created (sent by the client: the client flow of the network
 * vantage point) or http3:frame_parsed (sent by the server), with
 * http3:stream_type_set for unidirectional streams. DATA payloads are
 * skipped, never kept. What does not parse (or a stream over the bounds)
 * becomes a loglevel:warning and the rest of that stream is ignored.
 */
typedef struct mpq_dissect_h3 mpq_dissect_h3;

/* Returns 0 or MPQ_ERR_NOMEM. */
MPQ_EXPORT int mpq_dissect_h3_new(mpq_dissect_h3 **out);
MPQ_EXPORT void mpq_dissect_h3_free(mpq_dissect_h3 *h);

/* One STREAM frame's data (|fin|: the frame ends the stream), seen at |ts|
 * going |dir|; events go to |q|. Returns 0 or the qlog sink's error. */
MPQ_EXPORT int mpq_dissect_h3_stream(mpq_dissect_h3 *h, mpq_qlog *q, uint64_t ts, int dir,
				     uint64_t stream_id, uint64_t offset, const uint8_t *data,
				     size_t len, bool fin);

#ifdef __cplusplus
}
#endif
#endif
