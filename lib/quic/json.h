/*
 * A small streaming JSON writer (RFC 8259) for trace output. Compact output
 * goes into a caller-owned buffer that is handed to a flush callback whenever
 * it fills and when asked, so a value of any size is written without
 * allocating. Commas between members and elements are placed automatically.
 *
 * Strings of any bytes come out as valid JSON: quote, backslash and control
 * characters are escaped, valid UTF-8 is copied as is, and every byte that is
 * not part of a valid UTF-8 sequence becomes \u00XX (the byte read as Latin-1).
 *
 * Errors are sticky: after the first failure (flush callback error, nesting
 * deeper than MPQ_JSON_MAX_DEPTH) every call does nothing and mpq_json_flush
 * returns that error.
 */
#ifndef MPQ_JSON_H
#define MPQ_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/mpq.h"

#define MPQ_JSON_MAX_DEPTH 64
/* Smallest buffer mpq_json_init accepts: the longest piece written at once. */
#define MPQ_JSON_MIN_BUF 64

/* Takes |len| bytes of output. Returns 0 or a negative MPQ_ERR_*. */
typedef int (*mpq_json_flush_fn)(void *user_data, const char *data, size_t len);

typedef struct mpq_json {
	char *buf;
	size_t len;
	size_t cap;
	mpq_json_flush_fn flush;
	void *user_data;
	int err;
	unsigned depth;
	uint64_t has_member; /* bit d: the container at depth d has a member */
	bool after_key;	     /* the next value belongs to a key just written */
} mpq_json;

/* |cap| must be at least MPQ_JSON_MIN_BUF. Returns 0 or MPQ_ERR_INVALID_ARGUMENT. */
int mpq_json_init(mpq_json *j, char *buf, size_t cap, mpq_json_flush_fn flush, void *user_data);

/* Hands buffered output to the flush callback. Returns 0 or the sticky error. */
int mpq_json_flush(mpq_json *j);

/* Starts a new top-level value (after a complete one): forgets nesting state. */
void mpq_json_reset(mpq_json *j);

/* Bytes written verbatim, outside the JSON grammar (record separators). */
void mpq_json_raw(mpq_json *j, const char *data, size_t len);

void mpq_json_obj_begin(mpq_json *j);
void mpq_json_obj_end(mpq_json *j);
void mpq_json_arr_begin(mpq_json *j);
void mpq_json_arr_end(mpq_json *j);

/* A member name; the next value written is its value. */
void mpq_json_key(mpq_json *j, const char *key);

void mpq_json_str(mpq_json *j, const char *s);
void mpq_json_strn(mpq_json *j, const uint8_t *s, size_t len);
void mpq_json_u64(mpq_json *j, uint64_t v);
void mpq_json_i64(mpq_json *j, int64_t v);
void mpq_json_bool(mpq_json *j, bool v);
/* Lowercase hex string of |len| bytes (qlog hexstring). */
void mpq_json_hex(mpq_json *j, const uint8_t *data, size_t len);
/* A duration in nanoseconds written as milliseconds with three decimals
 * (microsecond precision, truncated towards zero): 1234567 -> 1.234. */
void mpq_json_ms(mpq_json *j, int64_t ns);

/* Is |s| (|len| bytes) valid UTF-8 (no overlongs, surrogates or code points
 * above U+10FFFF)? */
bool mpq_json_utf8_valid(const uint8_t *s, size_t len);

/* key + value shorthands. */
static inline void mpq_json_kv_str(mpq_json *j, const char *key, const char *s)
{
	mpq_json_key(j, key);
	mpq_json_str(j, s);
}

static inline void mpq_json_kv_u64(mpq_json *j, const char *key, uint64_t v)
{
	mpq_json_key(j, key);
	mpq_json_u64(j, v);
}

static inline void mpq_json_kv_i64(mpq_json *j, const char *key, int64_t v)
{
	mpq_json_key(j, key);
	mpq_json_i64(j, v);
}

static inline void mpq_json_kv_bool(mpq_json *j, const char *key, bool v)
{
	mpq_json_key(j, key);
	mpq_json_bool(j, v);
}

static inline void mpq_json_kv_hex(mpq_json *j, const char *key, const uint8_t *data, size_t len)
{
	mpq_json_key(j, key);
	mpq_json_hex(j, data, len);
}

static inline void mpq_json_kv_ms(mpq_json *j, const char *key, int64_t ns)
{
	mpq_json_key(j, key);
	mpq_json_ms(j, ns);
}

#endif
