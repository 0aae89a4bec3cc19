/*
 * HTTP/3 message heads over QPACK without a dynamic table: see h3_msg.h.
 */
#include <stdio.h>
#include <string.h>

#include "app/h3_frame.h"
#include "app/h3_msg.h"
#include "app/qpack.h"

/* Decoded strings of one section: HEADERS payloads are at most
 * MPQ_H3_MAX_BUFFERED, and Huffman codes shrink at most to 5 bits per byte
 * from 8, so twice that holds any. */
#define SCRATCH (2 * MPQ_H3_MAX_BUFFERED)

static bool is(const mpq_qpack_field *f, const char *name)
{
	size_t n = strlen(name);
	return f->namelen == n && memcmp(f->name, name, n) == 0;
}

static bool value_is(const mpq_qpack_field *f, const char *v)
{
	size_t n = strlen(v);
	return f->valuelen == n && memcmp(f->value, v, n) == 0;
}

/* Checks of every field line whatever the message (§4.2, §4.3). */
static bool field_ok(const mpq_qpack_field *f, bool *regular_seen)
{
	if (!f->namelen)
		return false;
	for (size_t i = 0; i < f->namelen; i++)
		if (f->name[i] >= 'A' && f->name[i] <= 'Z')
			return false;
	if (f->name[0] == ':')
		return !*regular_seen;
	*regular_seen = true;
	/* Connection-specific fields are malformed in HTTP/3 (§4.2). */
	if (is(f, "connection") || is(f, "keep-alive") || is(f, "proxy-connection") ||
	    is(f, "transfer-encoding") || is(f, "upgrade"))
		return false;
	return !is(f, "te") || value_is(f, "trailers");
}

enum { P_METHOD = 1, P_SCHEME = 2, P_AUTHORITY = 4, P_PATH = 8, P_HOST = 16 };

struct req_state {
	struct mpq_h3_request_head *out;
	unsigned seen;
	bool regular_seen;
};

static int request_field(void *ud, const mpq_qpack_field *f)
{
	struct req_state *st = ud;
	unsigned bit = 0;
	if (!field_ok(f, &st->regular_seen))
		return 1;
	if (f->name[0] != ':') {
		if (is(f, "host") && f->valuelen)
			st->seen |= P_HOST;
		return 0;
	}
	if (is(f, ":method")) {
		bit = P_METHOD;
		st->out->get = value_is(f, "GET");
		st->out->connect = value_is(f, "CONNECT");
		if (!f->valuelen)
			return 1;
	} else if (is(f, ":scheme")) {
		bit = P_SCHEME;
	} else if (is(f, ":authority")) {
		bit = P_AUTHORITY;
	} else if (is(f, ":path")) {
		bit = P_PATH;
		if (!f->valuelen || f->valuelen >= sizeof(st->out->path))
			return 1;
		memcpy(st->out->path, f->value, f->valuelen);
		st->out->path[f->valuelen] = '\0';
		st->out->pathlen = f->valuelen;
	} else {
		return 1; /* :status or an unknown pseudo-header */
	}
	if (st->seen & bit)
		return 1;
	st->seen |= bit;
	return 0;
}

static uint64_t decode_error(int rv)
{
	return rv == MPQ_QPACK_ERR_DECOMPRESSION ? MPQ_QPACK_DECOMPRESSION_FAILED
						 : MPQ_H3_MESSAGE_ERROR;
}

uint64_t mpq_h3_parse_request_head(const uint8_t *sec, size_t len, struct mpq_h3_request_head *out)
{
	uint8_t scratch[SCRATCH];
	struct req_state st = {.out = out};
	memset(out, 0, sizeof(*out));
	int rv = mpq_qpack_decode(sec, len, scratch, sizeof(scratch), request_field, &st);
	if (rv)
		return decode_error(rv);
	if (!(st.seen & P_METHOD))
		return MPQ_H3_MESSAGE_ERROR;
	if (out->connect) /* only :method and :authority (§4.4) */
		return (st.seen & ~(unsigned)P_HOST) == (P_METHOD | P_AUTHORITY)
			       ? 0
			       : MPQ_H3_MESSAGE_ERROR;
	if (!(st.seen & P_SCHEME) || !(st.seen & P_PATH) || !(st.seen & (P_AUTHORITY | P_HOST)))
		return MPQ_H3_MESSAGE_ERROR;
	return 0;
}

struct resp_state {
	unsigned status; /* 0 until :status */
	bool regular_seen;
};

static int response_field(void *ud, const mpq_qpack_field *f)
{
	struct resp_state *st = ud;
	if (!field_ok(f, &st->regular_seen))
		return 1;
	if (f->name[0] != ':')
		return 0;
	if (!is(f, ":status") || st->status || f->valuelen != 3)
		return 1;
	unsigned v = 0;
	for (size_t i = 0; i < 3; i++) {
		if (f->value[i] < '0' || f->value[i] > '9')
			return 1;
		v = v * 10 + (unsigned)(f->value[i] - '0');
	}
	if (v < 100)
		return 1;
	st->status = v;
	return 0;
}

uint64_t mpq_h3_parse_response_head(const uint8_t *sec, size_t len, unsigned *status)
{
	uint8_t scratch[SCRATCH];
	struct resp_state st = {0};
	int rv = mpq_qpack_decode(sec, len, scratch, sizeof(scratch), response_field, &st);
	if (rv)
		return decode_error(rv);
	if (!st.status)
		return MPQ_H3_MESSAGE_ERROR;
	*status = st.status;
	return 0;
}

/* Encodes |n| fields as a HEADERS frame into |out|. */
static size_t write_headers(uint8_t *out, size_t cap, const mpq_qpack_field *fields, size_t n)
{
	uint8_t sec[MPQ_HQ_MAX_REQUEST + 512];
	ssize_t len = mpq_qpack_encode(sec, sizeof(sec), fields, n);
	if (len < 0)
		return 0;
	size_t h = mpq_h3_write_frame_header(out, cap, MPQ_H3_HEADERS, (uint64_t)len);
	if (!h || cap - h < (size_t)len)
		return 0;
	memcpy(out + h, sec, (size_t)len);
	return h + (size_t)len;
}

#define FIELD(n, v, vlen) \
	{ \
		(const uint8_t *)(n), strlen(n), (const uint8_t *)(v), (vlen) \
	}

size_t mpq_h3_write_request(uint8_t *out, size_t cap, const char *authority, const char *path)
{
	const mpq_qpack_field f[] = {
		FIELD(":method", "GET", 3),
		FIELD(":scheme", "https", 5),
		FIELD(":authority", authority, strlen(authority)),
		FIELD(":path", path, strlen(path)),
		FIELD("user-agent", "mpq-client", 10),
	};
	return write_headers(out, cap, f, sizeof(f) / sizeof(f[0]));
}

size_t mpq_h3_write_response(uint8_t *out, size_t cap, unsigned status, uint64_t length)
{
	char st[8], cl[24];
	int sl = snprintf(st, sizeof(st), "%03u", status % 1000);
	int ll = snprintf(cl, sizeof(cl), "%llu", (unsigned long long)length);
	const mpq_qpack_field f[] = {
		FIELD(":status", st, (size_t)sl),
		FIELD("content-length", cl, (size_t)ll),
	};
	return write_headers(out, cap, f, 2);
}
