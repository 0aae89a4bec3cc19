/*
 * HTTP/3 request and response heads (RFC 9114 §4.1-4.3) as QPACK field
 * sections in HEADERS frames: what our client sends and our server answers,
 * and the checks of what the peer sent. Internal to lib/app.
 */
#ifndef MPQ_APP_H3_MSG_H
#define MPQ_APP_H3_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/hq.h"

/* A request head as the server needs it. */
struct mpq_h3_request_head {
	bool get;     /* :method is GET */
	bool connect; /* :method is CONNECT */
	char path[MPQ_HQ_MAX_REQUEST];
	size_t pathlen;
};

/* Decodes and checks a request's field section |sec| (a HEADERS payload).
 * Returns 0 with |*out| set, MPQ_H3_MESSAGE_ERROR for a malformed request
 * (a pseudo-header missing, repeated, unknown or after a regular field, a name
 * with uppercase letters, a connection-specific field, no :authority nor
 * host, a :path too long) or MPQ_QPACK_DECOMPRESSION_FAILED. */
uint64_t mpq_h3_parse_request_head(const uint8_t *sec, size_t len,
				   struct mpq_h3_request_head *out);

/* Decodes and checks a response's field section: 0 with |*status| (100-999),
 * MPQ_H3_MESSAGE_ERROR or MPQ_QPACK_DECOMPRESSION_FAILED. */
uint64_t mpq_h3_parse_response_head(const uint8_t *sec, size_t len, unsigned *status);

/* A HEADERS frame of a GET request for |path| at |authority| over https,
 * user-agent mpq-client. Returns its length, 0 when it does not fit |cap|. */
size_t mpq_h3_write_request(uint8_t *out, size_t cap, const char *authority, const char *path);

/* A HEADERS frame of a response: :status |status| and content-length. */
size_t mpq_h3_write_response(uint8_t *out, size_t cap, unsigned status, uint64_t length);

#endif
