/*
 * HTTP/3 frames (RFC 9114 §7) and settings: an incremental reader for stream
 * data that arrives in pieces, the writers our endpoints need, and the error
 * codes of §8.1. Internal to lib/app (hq_server.c, hq_client.c, h3_conn.c and the tests).
 *
 * Reader errors, like a callback's own refusal, are HTTP/3 error codes
 * (MPQ_H3_*, never 0): the caller closes the connection or resets the stream
 * with them.
 */
#ifndef MPQ_APP_H3_FRAME_H
#define MPQ_APP_H3_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Error codes (RFC 9114 §8.1, RFC 9204 §6). */
#define MPQ_H3_NO_ERROR 0x100ULL
#define MPQ_H3_GENERAL_PROTOCOL_ERROR 0x101ULL
#define MPQ_H3_INTERNAL_ERROR 0x102ULL
#define MPQ_H3_STREAM_CREATION_ERROR 0x103ULL
#define MPQ_H3_CLOSED_CRITICAL_STREAM 0x104ULL
#define MPQ_H3_FRAME_UNEXPECTED 0x105ULL
#define MPQ_H3_FRAME_ERROR 0x106ULL
#define MPQ_H3_EXCESSIVE_LOAD 0x107ULL
#define MPQ_H3_ID_ERROR 0x108ULL
#define MPQ_H3_SETTINGS_ERROR 0x109ULL
#define MPQ_H3_MISSING_SETTINGS 0x10aULL
#define MPQ_H3_REQUEST_REJECTED 0x10bULL
#define MPQ_H3_REQUEST_CANCELLED 0x10cULL
#define MPQ_H3_REQUEST_INCOMPLETE 0x10dULL
#define MPQ_H3_MESSAGE_ERROR 0x10eULL
#define MPQ_H3_CONNECT_ERROR 0x10fULL
#define MPQ_H3_VERSION_FALLBACK 0x110ULL
#define MPQ_QPACK_DECOMPRESSION_FAILED 0x200ULL
#define MPQ_QPACK_ENCODER_STREAM_ERROR 0x201ULL
#define MPQ_QPACK_DECODER_STREAM_ERROR 0x202ULL

/* Frame types (§7.2). */
#define MPQ_H3_DATA 0x0
#define MPQ_H3_HEADERS 0x1
#define MPQ_H3_CANCEL_PUSH 0x3
#define MPQ_H3_SETTINGS 0x4
#define MPQ_H3_PUSH_PROMISE 0x5
#define MPQ_H3_GOAWAY 0x7
#define MPQ_H3_MAX_PUSH_ID 0xd

/* Unidirectional stream types (§6.2, RFC 9204 §4.2). */
#define MPQ_H3_STREAM_CONTROL 0x0
#define MPQ_H3_STREAM_PUSH 0x1
#define MPQ_H3_STREAM_QPACK_ENCODER 0x2
#define MPQ_H3_STREAM_QPACK_DECODER 0x3

/* Settings (§7.2.4.1, RFC 9204 §5). */
#define MPQ_H3_SETTING_QPACK_MAX_TABLE_CAPACITY 0x1
#define MPQ_H3_SETTING_MAX_FIELD_SECTION_SIZE 0x6
#define MPQ_H3_SETTING_QPACK_BLOCKED_STREAMS 0x7

/* Largest payload buffered for a frame other than DATA (HEADERS above all;
 * SETTINGS and the one-varint frames are far smaller). */
#define MPQ_H3_MAX_BUFFERED 16384

struct mpq_h3_settings {
	uint64_t qpack_max_table_capacity;
	uint64_t max_field_section_size; /* UINT64_MAX when not sent (unlimited) */
	uint64_t qpack_blocked_streams;
};

/* What the reader hands over; either may be NULL. Each returns 0 or an error
 * code, which stops the reader and is returned by mpq_h3_read. */
struct mpq_h3_reader_cb {
	/* A whole frame of a known type other than DATA, its payload buffered. */
	uint64_t (*frame)(void *user_data, uint64_t type, const uint8_t *payload, size_t len);
	/* The start of a DATA frame of |len| payload bytes. */
	uint64_t (*data_start)(void *user_data, uint64_t len);
	/* Payload bytes of the current DATA frame, as they come. */
	uint64_t (*data)(void *user_data, const uint8_t *data, size_t len);
};

/* The state of one stream's frame sequence. Zero it (or mpq_h3_reader_init)
 * to start; mpq_h3_reader_free releases the payload buffer. */
struct mpq_h3_reader {
	uint8_t hdr[16]; /* type and length varints, while incomplete */
	size_t hdrlen;
	bool in_frame; /* hdr is complete: type, len known */
	uint64_t type, len, got;
	uint8_t *buf; /* payload of a buffered frame */
	size_t cap;
	uint64_t error; /* the first error, returned again by later calls */
};

void mpq_h3_reader_init(struct mpq_h3_reader *r);
void mpq_h3_reader_free(struct mpq_h3_reader *r);

/* Feeds |len| bytes of stream data. Frames of a reserved or unknown type are
 * skipped; HTTP/2's types (0x2, 0x6, 0x8, 0x9) give MPQ_H3_FRAME_UNEXPECTED; a
 * frame to buffer over MPQ_H3_MAX_BUFFERED gives MPQ_H3_EXCESSIVE_LOAD. Which
 * frame may come on which stream is the callbacks' business. Returns 0 or an
 * error code (then the stream's data must be dropped). */
uint64_t mpq_h3_read(struct mpq_h3_reader *r, const uint8_t *data, size_t len,
		     const struct mpq_h3_reader_cb *cb, void *user_data);

/* True when the bytes fed so far end on a frame boundary (the stream may end
 * here: otherwise its FIN is a MPQ_H3_FRAME_ERROR). */
bool mpq_h3_reader_at_boundary(const struct mpq_h3_reader *r);

/* Parses a SETTINGS payload into |s| (defaults for what is absent; unknown
 * identifiers ignored). Returns 0, MPQ_H3_SETTINGS_ERROR (an HTTP/2 setting
 * 0x2-0x5, or one given twice) or MPQ_H3_FRAME_ERROR (truncated). */
uint64_t mpq_h3_parse_settings(const uint8_t *p, size_t len, struct mpq_h3_settings *s);

/* The single varint of a GOAWAY, MAX_PUSH_ID or CANCEL_PUSH payload: 0, or
 * MPQ_H3_FRAME_ERROR when the payload is not exactly one varint. */
uint64_t mpq_h3_parse_varint_payload(const uint8_t *p, size_t len, uint64_t *v);

/* Reads one varint at the start of |p| (|len| bytes): its length, 0 when
 * |len| does not hold it all. */
size_t mpq_h3_varint(const uint8_t *p, size_t len, uint64_t *v);

/* Writers: each returns the bytes written into |out| (|cap| bytes), 0 when
 * they do not fit. */
/* A frame header: type and payload length. */
size_t mpq_h3_write_frame_header(uint8_t *out, size_t cap, uint64_t type, uint64_t len);
/* A SETTINGS frame with our settings: QPACK capacity 0, blocked streams 0,
 * |max_field_section| (0: not sent), and one reserved setting (§7.2.4.1). */
size_t mpq_h3_write_settings(uint8_t *out, size_t cap, uint64_t max_field_section);
/* The type byte(s) of a unidirectional stream followed by nothing. */
size_t mpq_h3_write_varint(uint8_t *out, size_t cap, uint64_t v);

/* Name of an error code for logs ("H3_FRAME_UNEXPECTED"), "unknown" else. */
const char *mpq_h3_error_name(uint64_t code);

#endif
