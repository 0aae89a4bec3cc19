/*
 * What hq-interop and HTTP/3 (hq_server.c, hq_client.c) share, and HTTP/1.1
 * (http1.c) too: request paths decoded and checked against the www root,
 * the bodies that answer them (a file or a generated pattern), and the names
 * of codes and states. See mpq/hq.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/h3_frame.h"
#include "app/hq.h"

MPQ_EXPORT void mpq_hq_pattern_fill(uint8_t *buf, uint64_t offset, size_t len)
{
	/* One period by hand, then doubling copies: the pattern repeats every
	 * 251 bytes, so buf[i] = buf[i - 251 * 2^k] (it was a quarter of the
	 * server's CPU byte by byte). */
	unsigned v = (unsigned)(offset % 251);
	size_t done = len < 251 ? len : 251;
	for (size_t i = 0; i < done; i++) {
		buf[i] = (uint8_t)v;
		if (++v == 251)
			v = 0;
	}
	while (done < len) {
		size_t n = done < len - done ? done : len - done;
		memcpy(buf + done, buf, n);
		done += n;
	}
}

void mpq_hq_vlog(mpq_log_fn log, void *ud, int level, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log(ud, level, msg);
}

/* ---- Request line ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Is there a ".." segment in the NUL-free |rel|? */
static bool has_dotdot(const char *rel)
{
	const char *seg = rel;
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 2 && seg[0] == '.' && seg[1] == '.')
			return true;
		if (!end)
			return false;
		seg = end + 1;
	}
}

MPQ_EXPORT uint64_t mpq_hq_parse_path(const char *path, size_t len, char *rel, size_t relsize)
{
	if (len < 1 || path[0] != '/' || relsize < 1)
		return MPQ_HQ_ERR_BAD_REQUEST;
	size_t o = 0;
	bool nul = false;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c < 0x20 || c == 0x7f)
			return c == 0 ? MPQ_HQ_ERR_FORBIDDEN : MPQ_HQ_ERR_BAD_REQUEST;
		if (c == '%') {
			int hi = i + 2 < len ? hexval(path[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(path[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return MPQ_HQ_ERR_BAD_REQUEST;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			/* Encoded control characters are refused as plain ones are. */
			if (c != 0 && (c < 0x20 || c == 0x7f))
				return MPQ_HQ_ERR_BAD_REQUEST;
		}
		if (c == 0)
			nul = true;
		if (o + 1 >= relsize)
			return MPQ_HQ_ERR_BAD_REQUEST;
		rel[o++] = (char)c;
	}
	rel[o] = '\0';
	if (nul || rel[0] == '/' || has_dotdot(rel))
		return MPQ_HQ_ERR_FORBIDDEN;
	return 0;
}

uint64_t mpq_hq_parse_request(const char *line, size_t len, char *rel, size_t relsize)
{
	if (len < 5 || memcmp(line, "GET /", 5) != 0)
		return MPQ_HQ_ERR_BAD_REQUEST;
	/* The path runs to the first space; only spaces may follow it. */
	size_t end = 4;
	while (end < len && line[end] != ' ')
		end++;
	for (size_t i = end; i < len; i++)
		if (line[i] != ' ')
			return MPQ_HQ_ERR_BAD_REQUEST;
	return mpq_hq_parse_path(line + 4, end - 4, rel, relsize);
}

/* ---- Bodies: a file of the www root, or a generated one ---- */

/* "123" → 123 when it is all digits and at most MPQ_HQ_MAX_GENERATED. */
static bool generated_size(const char *rel, uint64_t *size)
{
	uint64_t v = 0;
	if (!rel[0])
		return false;
	for (const char *p = rel; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > MPQ_HQ_MAX_GENERATED)
			return false;
	}
	*size = v;
	return true;
}

MPQ_EXPORT uint64_t mpq_hq_body_open(const mpq_hq_files *files, const char *rel, mpq_hq_body *body)
{
	memset(body, 0, sizeof(*body));
	if (!rel[0])
		return MPQ_HQ_ERR_NOT_FOUND;
	void *f = NULL;
	uint64_t code = files->open(files->user_data, rel, &f, &body->size);
	if (code == 0 && !f)
		code = MPQ_HQ_ERR_INTERNAL; /* a file we could not close */
	if (code == 0) {
		body->file = f;
		return 0;
	}
	body->size = 0;
	if (code == MPQ_HQ_ERR_NOT_FOUND && generated_size(rel, &body->size)) {
		body->generated = true;
		return 0;
	}
	return code;
}

MPQ_EXPORT int64_t mpq_hq_body_read(const mpq_hq_files *files, const mpq_hq_body *body,
				    uint8_t *buf, size_t len, uint64_t offset)
{
	if (offset >= body->size)
		return 0;
	if (len > body->size - offset)
		len = (size_t)(body->size - offset);
	if (body->generated) {
		mpq_hq_pattern_fill(buf, offset, len);
		return (int64_t)len;
	}
	if (!body->file)
		return -EBADF;
	int64_t got = files->read(files->user_data, body->file, buf, len, offset);
	return got > (int64_t)len ? 0 : got;
}

MPQ_EXPORT void mpq_hq_body_close(const mpq_hq_files *files, mpq_hq_body *body)
{
	if (body->file)
		files->close(files->user_data, body->file);
	body->file = NULL;
}

const char *mpq_hq_code_name(uint64_t code)
{
	switch (code) {
	case MPQ_HQ_ERR_NOT_FOUND:
		return "not found";
	case MPQ_HQ_ERR_FORBIDDEN:
		return "forbidden";
	case MPQ_HQ_ERR_BAD_REQUEST:
		return "bad request";
	case MPQ_HQ_ERR_INTERNAL:
		return "internal error";
	default:
		if (code >= MPQ_H3_NO_ERROR && code <= MPQ_QPACK_DECODER_STREAM_ERROR &&
		    strcmp(mpq_h3_error_name(code), "unknown") != 0)
			return mpq_h3_error_name(code);
		return "refused";
	}
}

MPQ_EXPORT const char *mpq_hq_status_name(enum mpq_hq_status status)
{
	switch (status) {
	case MPQ_HQ_WAITING:
		return "waiting";
	case MPQ_HQ_ACTIVE:
		return "active";
	case MPQ_HQ_OK:
		return "ok";
	case MPQ_HQ_RESET:
		return "reset";
	case MPQ_HQ_INCOMPLETE:
		return "incomplete";
	}
	return "unknown";
}
