/* Streaming JSON writer: see json.h. */
#include <string.h>

#include "quic/json.h"

int mpq_json_init(mpq_json *j, char *buf, size_t cap, mpq_json_flush_fn flush, void *user_data)
{
	if (!buf || cap < MPQ_JSON_MIN_BUF || !flush)
		return MPQ_ERR_INVALID_ARGUMENT;
	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->cap = cap;
	j->flush = flush;
	j->user_data = user_data;
	return 0;
}

int mpq_json_flush(mpq_json *j)
{
	int rv;

	if (j->err || !j->len)
		return j->err;
	rv = j->flush(j->user_data, j->buf, j->len);
	j->len = 0;
	if (rv)
		j->err = rv < 0 ? rv : MPQ_ERR_CALLBACK_FAILURE;
	return j->err;
}

void mpq_json_reset(mpq_json *j)
{
	j->depth = 0;
	j->has_member = 0;
	j->after_key = false;
}

/* Makes room for |n| ≤ MPQ_JSON_MIN_BUF bytes; false after an error. */
static bool room(mpq_json *j, size_t n)
{
	if (j->err)
		return false;
	if (j->cap - j->len >= n)
		return true;
	return mpq_json_flush(j) == 0;
}

/* Any number of bytes, in pieces that fit the buffer. */
static void put(mpq_json *j, const void *data, size_t len)
{
	const char *p = data;

	while (len && !j->err) {
		size_t n = j->cap - j->len;

		if (!n && mpq_json_flush(j))
			return;
		n = j->cap - j->len;
		if (n > len)
			n = len;
		memcpy(j->buf + j->len, p, n);
		j->len += n;
		p += n;
		len -= n;
	}
}

static void put_char(mpq_json *j, char c)
{
	if (room(j, 1))
		j->buf[j->len++] = c;
}

void mpq_json_raw(mpq_json *j, const char *data, size_t len)
{
	put(j, data, len);
}

static uint64_t depth_bit(const mpq_json *j)
{
	return 1ULL << (j->depth - 1);
}

/* Separates this value or member from the previous one of its container. */
static void separate(mpq_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->depth)
		return;
	if (j->has_member & depth_bit(j))
		put_char(j, ',');
	j->has_member |= depth_bit(j);
}

static void open_container(mpq_json *j, char c)
{
	separate(j);
	if (j->err)
		return;
	if (j->depth == MPQ_JSON_MAX_DEPTH) {
		j->err = MPQ_ERR_INTERNAL;
		return;
	}
	put_char(j, c);
	j->depth++;
	j->has_member &= ~depth_bit(j);
}

static void close_container(mpq_json *j, char c)
{
	if (j->err)
		return;
	if (!j->depth || j->after_key) {
		j->err = MPQ_ERR_INTERNAL;
		return;
	}
	put_char(j, c);
	j->depth--;
}

void mpq_json_obj_begin(mpq_json *j)
{
	open_container(j, '{');
}

void mpq_json_obj_end(mpq_json *j)
{
	close_container(j, '}');
}

void mpq_json_arr_begin(mpq_json *j)
{
	open_container(j, '[');
}

void mpq_json_arr_end(mpq_json *j)
{
	close_container(j, ']');
}

/* Length of the valid UTF-8 sequence at |s| (1..4), 0 when there is none. */
static size_t utf8_seq(const uint8_t *s, size_t left)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0; /* continuation byte, overlong lead or beyond U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (left < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

bool mpq_json_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq(s + i, len - i);

		if (!n)
			return false;
		i += n;
	}
	return true;
}

static const char hexdigits[] = "0123456789abcdef";

static void put_u00(mpq_json *j, uint8_t c)
{
	char e[6] = {'\\', 'u', '0', '0', hexdigits[c >> 4], hexdigits[c & 15]};

	put(j, e, sizeof(e));
}

/* Bytes that go out unchanged: printable ASCII but '"' and '\'. */
static bool plain(uint8_t c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static void put_string(mpq_json *j, const uint8_t *s, size_t len)
{
	size_t i = 0;

	put_char(j, '"');
	while (i < len && !j->err) {
		uint8_t c = s[i];
		size_t run = i, n;

		while (run < len && plain(s[run]))
			run++;
		if (run > i) {
			put(j, s + i, run - i);
			i = run;
			continue;
		}
		i++;
		switch (c) {
		case '"':
			put(j, "\\\"", 2);
			continue;
		case '\\':
			put(j, "\\\\", 2);
			continue;
		case '\n':
			put(j, "\\n", 2);
			continue;
		case '\r':
			put(j, "\\r", 2);
			continue;
		case '\t':
			put(j, "\\t", 2);
			continue;
		case '\b':
			put(j, "\\b", 2);
			continue;
		case '\f':
			put(j, "\\f", 2);
			continue;
		}
		n = c >= 0x80 ? utf8_seq(s + i - 1, len - i + 1) : 0;
		if (n) {
			put(j, s + i - 1, n);
			i += n - 1;
		} else {
			put_u00(j, c); /* control, DEL or a byte outside valid UTF-8 */
		}
	}
	put_char(j, '"');
}

void mpq_json_key(mpq_json *j, const char *key)
{
	separate(j);
	put_string(j, (const uint8_t *)key, strlen(key));
	put_char(j, ':');
	j->after_key = true;
}

void mpq_json_str(mpq_json *j, const char *s)
{
	mpq_json_strn(j, (const uint8_t *)s, strlen(s));
}

void mpq_json_strn(mpq_json *j, const uint8_t *s, size_t len)
{
	separate(j);
	put_string(j, s, len);
}

/* Decimal digits of |v| into the end of |buf| (21 bytes); returns the first. */
static char *fmt_u64(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

static void put_u64(mpq_json *j, uint64_t v, bool neg)
{
	char buf[24], *end = buf + sizeof(buf), *p = fmt_u64(end, v);

	if (neg)
		*--p = '-';
	put(j, p, (size_t)(end - p));
}

void mpq_json_u64(mpq_json *j, uint64_t v)
{
	separate(j);
	put_u64(j, v, false);
}

void mpq_json_i64(mpq_json *j, int64_t v)
{
	separate(j);
	if (v < 0)
		put_u64(j, (uint64_t)0 - (uint64_t)v, true);
	else
		put_u64(j, (uint64_t)v, false);
}

void mpq_json_bool(mpq_json *j, bool v)
{
	separate(j);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

void mpq_json_hex(mpq_json *j, const uint8_t *data, size_t len)
{
	separate(j);
	put_char(j, '"');
	for (size_t i = 0; i < len; i++) {
		char h[2] = {hexdigits[data[i] >> 4], hexdigits[data[i] & 15]};

		put(j, h, 2);
	}
	put_char(j, '"');
}

void mpq_json_ms(mpq_json *j, int64_t ns)
{
	bool neg = ns < 0;
	uint64_t mag = neg ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	uint64_t us = mag / 1000 % 1000;
	char frac[4] = {'.', (char)('0' + us / 100), (char)('0' + us / 10 % 10),
			(char)('0' + us % 10)};

	separate(j);
	put_u64(j, mag / 1000000, neg && mag >= 1000);
	put(j, frac, sizeof(frac));
}
