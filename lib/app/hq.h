/*
 * Internals of the hq server and client (hq_server.c, hq_client.c,
 * hq_body.c) shared among them and with the unit tests. The public API is in
 * lib/include/mpq/hq.h.
 */
#ifndef MPQ_APP_HQ_H
#define MPQ_APP_HQ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/hq.h"

/* Parses a request line |line| of |len| bytes, its line end ("\n" or "\r\n")
 * already removed: "GET /path", the path percent-decoded and checked as
 * described in mpq/hq.h. On success writes the path relative to the www root
 * (without its leading '/', NUL-terminated; "" for "GET /") to |rel|, which
 * has room for |relsize| bytes (|len| + 1 is always enough), and returns 0.
 * Otherwise returns the code to refuse with: MPQ_HQ_ERR_BAD_REQUEST or
 * MPQ_HQ_ERR_FORBIDDEN. */
uint64_t mpq_hq_parse_request(const char *line, size_t len, char *rel, size_t relsize);

/* Formats a log line and hands it to |log|. */
void mpq_hq_vlog(mpq_log_fn log, void *ud, int level, const char *fmt, va_list ap);

/* Is |id| a unidirectional stream this side opened (HTTP/3's control
 * stream)? */
static inline bool mpq_hq_is_own_uni(const mpq_conn *conn, int64_t id)
{
	return (id & 3) == (mpq_conn_is_server(conn) ? 3 : 2);
}

#endif
