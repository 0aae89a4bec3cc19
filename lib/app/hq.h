/*
 * Internals of hq.c shared with its unit test: the request line parser.
 * The public API is in lib/include/mpq/hq.h.
 */
#ifndef MPQ_APP_HQ_H
#define MPQ_APP_HQ_H

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

#endif
