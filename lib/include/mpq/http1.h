/*
 * HTTP/1.1 heads (RFC 9112) for the TCP and MPTCP comparison runs: mpq-server
 * --tcp answers GET requests from the same www root as hq (mpq/hq.h), with
 * the same path rules; mpq-client --tcp reads the responses. Pure parsers of
 * bytes that came from a peer: no I/O, every length bounded.
 *
 * Request: "METHOD SP /target SP HTTP/1.x" then header lines, then an empty
 * line; a line ends with "\r\n" or "\n". A query ("?...") is dropped, the
 * path is checked by mpq_hq_parse_path. Refused with:
 *  - 400: a malformed request line or header line (no token method, a
 *    target not starting with '/', a request line over MPQ_HQ_MAX_REQUEST
 *    bytes, a folded line, a control character in a value, a header name
 *    that is not a token), HTTP/1.1 without exactly one Host, a body
 *    (Content-Length other than 0, Transfer-Encoding), a bad %XX or control
 *    character in the path;
 *  - 403: the path would leave the www root (mpq_hq_parse_path);
 *  - 405: a method other than GET (after the head was checked);
 *  - 431: a head (request line and headers) over MPQ_HTTP1_MAX_HEAD bytes;
 *  - 505: a version other than HTTP/1.0 and HTTP/1.1.
 * Refusals other than 403 end the connection (keep_alive false).
 */
#ifndef MPQ_HTTP1_H
#define MPQ_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/hq.h"
#include "mpq/mpq.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MPQ_HTTP1_ALPN "http/1.1"
/* Longest head (request or status line, headers and the empty line). */
#define MPQ_HTTP1_MAX_HEAD 8192

typedef struct mpq_http1_request {
	size_t head_len; /* bytes of the head, the empty line included; 0: never complete */
	bool keep_alive; /* another request may follow on the connection */
	bool http10;	 /* the request said HTTP/1.0 (the answer says so too) */
	/* With status 200: the path relative to the www root, as
	 * mpq_hq_parse_path writes it. */
	char rel[MPQ_HQ_MAX_REQUEST + 1];
} mpq_http1_request;

/* Parses the request head at the start of |buf| (|len| bytes; what follows
 * the head is left alone). Returns 0 when more bytes are needed (only while
 * |len| < MPQ_HTTP1_MAX_HEAD and the request line is within its limit), 200
 * for a GET to answer from |req->rel|, or the status to refuse with (400,
 * 403, 405, 431, 505). |req| is set whenever the result is not 0. */
MPQ_EXPORT int mpq_http1_parse_request(const char *buf, size_t len, mpq_http1_request *req);

/* The status answering a refusal of hq's (MPQ_HQ_ERR_*): 404, 403, 400, 500. */
MPQ_EXPORT int mpq_http1_status_of(uint64_t hq_code);
/* The hq code a status stands for (404 → MPQ_HQ_ERR_NOT_FOUND, 403, 400,
 * 5xx → INTERNAL), 0 for 2xx and for statuses hq has no code for. */
MPQ_EXPORT uint64_t mpq_http1_code_of(int status);
/* "OK", "Not Found", ...; "Error" for a status this module never sends. */
MPQ_EXPORT const char *mpq_http1_reason(int status);

typedef struct mpq_http1_response {
	size_t head_len;	 /* bytes of the head, the empty line included */
	int status;		 /* 100..999 */
	bool keep_alive;	 /* the server keeps the connection open */
	bool has_length;	 /* Content-Length was given */
	uint64_t content_length; /* the body's length when has_length */
} mpq_http1_response;

/* Parses the response head at the start of |buf| (|len| bytes). Returns 1
 * with |resp| set, 0 when more bytes are needed (|len| < MPQ_HTTP1_MAX_HEAD),
 * or MPQ_ERR_PROTO: not an HTTP/1.x status line, a malformed header,
 * conflicting or malformed Content-Length, a head too long, or
 * Transfer-Encoding (the client reads bodies by their length or to the
 * end of the connection only). */
MPQ_EXPORT int mpq_http1_parse_response(const char *buf, size_t len, mpq_http1_response *resp);

#ifdef __cplusplus
}
#endif
#endif
