/*
 * Encode and decode every RFC 9000 §19 frame, every draft-ietf-quic-multipath-21
 * frame and the ADD_ADDRESS extension's two (docs/add_address.md). Decoding
 * is bounded and zero-copy (data points into the packet); malformed input
 * gives MPQ_ERR_FRAME_ENCODING, never a crash.
 */
#ifndef MPQ_FRAME_H
#define MPQ_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/dissect.h"
#include "mpq/mpq.h"
#include "quic/wire.h"

/* Frame type codepoints (MPQ_FT_*): mpq/dissect.h. */

/* ADD_ADDRESS IP Version field. */
#define MPQ_ADD_ADDRESS_IPV4 4
#define MPQ_ADD_ADDRESS_IPV6 6

#define MPQ_STREAM_FLAG_FIN 0x01
#define MPQ_STREAM_FLAG_LEN 0x02
#define MPQ_STREAM_FLAG_OFF 0x04

/* ACK ranges kept from one decoded ACK; further ranges are validated and
 * dropped (acknowledging less is always safe). */
#define MPQ_MAX_ACK_RANGES 32

/* An acknowledged interval, inclusive. */
typedef struct mpq_ack_range {
	uint64_t smallest;
	uint64_t largest;
} mpq_ack_range;

/* ACK, ACK_ECN, PATH_ACK, PATH_ACK_ECN. ranges[0] is the highest; descending. */
typedef struct mpq_frame_ack {
	uint64_t path_id;   /* PATH_ACK only; 0 for ACK */
	uint64_t ack_delay; /* raw, before ack_delay_exponent */
	size_t nranges;
	mpq_ack_range ranges[MPQ_MAX_ACK_RANGES];
	bool ecn;
	uint64_t ect0, ect1, ce;
} mpq_frame_ack;

typedef struct mpq_frame {
	uint64_t type; /* MPQ_FT_*; STREAM keeps its flag bits here */
	union {
		size_t padding_len; /* PADDING: run of zero bytes, counted as one frame */
		mpq_frame_ack ack;
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
			uint64_t max; /* MAX_DATA, DATA_BLOCKED */
		} max_data;
		struct {
			uint64_t stream_id, max; /* MAX_STREAM_DATA, STREAM_DATA_BLOCKED */
		} max_stream_data;
		struct {
			uint64_t max; /* MAX_STREAMS_*, STREAMS_BLOCKED_*: ≤ 2^60 */
		} max_streams;
		struct {
			uint64_t path_id; /* PATH_NEW_CONNECTION_ID only */
			uint64_t seq, retire_prior_to;
			mpq_cid cid;
			uint8_t reset_token[16];
		} new_cid;
		struct {
			uint64_t path_id; /* PATH_RETIRE_CONNECTION_ID only */
			uint64_t seq;
		} retire_cid;
		struct {
			uint8_t data[8]; /* PATH_CHALLENGE, PATH_RESPONSE */
		} path_challenge;
		struct {
			uint64_t error_code;
			uint64_t frame_type; /* transport close (0x1c) only */
			const uint8_t *reason;
			size_t reasonlen;
		} close;
		struct {
			uint64_t path_id, error_code;
		} path_abandon;
		struct {
			uint64_t path_id, seq; /* PATH_STATUS_BACKUP / _AVAILABLE */
		} path_status;
		struct {
			uint64_t max; /* MAX_PATH_ID, PATHS_BLOCKED: ≤ 2^32-1 */
		} max_path_id;
		struct {
			uint64_t path_id, next_seq;
		} path_cids_blocked;
		struct {
			uint64_t seq;
			uint8_t ip_version; /* MPQ_ADD_ADDRESS_IPV4 or _IPV6 */
			uint8_t addr[16];   /* network order; IPv4 in addr[0..3], rest 0 */
			uint16_t port;	    /* host order, not 0 */
		} add_address;
		struct {
			uint64_t seq;
		} remove_address;
	};
} mpq_frame;

/* Decodes one frame at |r|. Returns 0 or MPQ_ERR_FRAME_ENCODING (truncated,
 * unknown type, non-minimal type encoding, out-of-range values such as an ACK
 * range below zero, a CID length outside 1..20, STREAM offset+len ≥ 2^62,
 * MAX_STREAMS above 2^60, retire_prior_to > seq, an ADD_ADDRESS IP version
 * other than 4 or 6 or port 0). |r| is advanced only on success. */
int mpq_frame_decode(mpq_frame *fr, mpq_reader *r);

/* Encodes |fr| at |w|. A STREAM frame is written with its LEN bit when the
 * type has it (set MPQ_STREAM_FLAG_LEN), OFF when offset > 0 and FIN when
 * stream.fin is set. Fields the type does not carry (path_id of ACK,
 * NEW_CONNECTION_ID and RETIRE_CONNECTION_ID, ECN counts of a non-ECN ACK,
 * frame_type of an application close) must be 0; ADD_ADDRESS writes 4 bytes of
 * addr for IPv4 and ignores the rest. The frame is written whole
 * or not at all. Returns 0, MPQ_ERR_NOBUF or MPQ_ERR_INVALID_ARGUMENT (what
 * decode would reject: unknown type, no or misordered ACK ranges, CID length
 * outside 1..20, padding_len 0, ...). */
int mpq_frame_encode(mpq_writer *w, const mpq_frame *fr);

/* Bytes mpq_frame_encode would write for |fr|; 0 when it would reject |fr|. */
size_t mpq_frame_encoded_len(const mpq_frame *fr);

/* Do |a| and |b| mean the same on the wire? Same type (STREAM: same LEN bit),
 * same fields, data compared by content. */
bool mpq_frame_equal(const mpq_frame *a, const mpq_frame *b);

/* Overhead of a STREAM frame header with LEN for |stream_id|, |offset|, |len|. */
size_t mpq_frame_stream_overhead(uint64_t stream_id, uint64_t offset, size_t len);

/* RFC 9000 §13.2.1: all but ACK, PADDING, CONNECTION_CLOSE (and PATH_ACK). */
bool mpq_frame_is_ack_eliciting(uint64_t type);

/* RFC 9000 §12.4 Table 3 (+ multipath and ADD_ADDRESS frames: 1-RTT only): may
 * this frame type appear in a packet of |pkt_type| (enum mpq_pkt_type)? */
bool mpq_frame_allowed_in(uint64_t type, int pkt_type);

/* Name of a frame type for logs and qlog ("ack", "stream", "path_ack", ...). */
const char *mpq_frame_name(uint64_t type);

#endif
