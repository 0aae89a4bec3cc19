/*
 * HTTP/1.1 heads (lib/app/http1.c) on peer input: the input as a request
 * head (mpq-server --tcp) and as a response head (mpq-client --tcp), whole
 * and cut at every length up to 64 bytes and at its middle, as arriving
 * reads would cut it. Nothing may crash or trip a sanitizer; a result must
 * keep the documented promises: a complete head lies within the input, a
 * request answered (200) has a path that fits its buffer with no ".."
 * segment, no leading '/', no NUL; a refusal never keeps a path; an
 * incomplete head is only ever below the limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "mpq/http1.h"

/* A ".." segment, found otherwise than hq_body.c finds it: "..", "../x", "x/..",
 * "x/../y". */
static bool has_dotdot(const char *rel)
{
	size_t n = strlen(rel);

	return !strcmp(rel, "..") || !strncmp(rel, "../", 3) ||
	       (n >= 3 && !strcmp(rel + n - 3, "/..")) || strstr(rel, "/../");
}

static void request(const char *buf, size_t len)
{
	mpq_http1_request req;
	int st = mpq_http1_parse_request(buf, len, &req);

	if (st == 0) {
		CHECK(len < MPQ_HTTP1_MAX_HEAD);
		return;
	}
	CHECK(st == 200 || st == 400 || st == 403 || st == 405 || st == 431 || st == 505);
	CHECK(req.head_len <= len && req.head_len <= MPQ_HTTP1_MAX_HEAD);
	CHECK(memchr(req.rel, '\0', sizeof(req.rel)) != NULL);
	if (st != 200) {
		CHECK(req.rel[0] == '\0');
		CHECK(!req.keep_alive || st == 403);
		return;
	}
	CHECK(req.head_len > 0);
	CHECK(req.rel[0] != '/' && !has_dotdot(req.rel));
	CHECK(strlen(req.rel) < req.head_len);
}

static void response(const char *buf, size_t len)
{
	mpq_http1_response resp;
	int rv = mpq_http1_parse_response(buf, len, &resp);

	if (rv == 0) {
		CHECK(len < MPQ_HTTP1_MAX_HEAD);
		return;
	}
	if (rv < 0) {
		CHECK(rv == MPQ_ERR_PROTO);
		return;
	}
	CHECK(rv == 1);
	CHECK(resp.head_len > 0 && resp.head_len <= len && resp.head_len <= MPQ_HTTP1_MAX_HEAD);
	CHECK(resp.status >= 100 && resp.status <= 999);
	CHECK(resp.has_length || resp.content_length == 0);
	CHECK(resp.content_length < 1ULL << 62);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly |size| bytes, so that any read past it is caught. */
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	request(buf, size);
	response(buf, size);
	for (size_t cut = 0; cut < size && cut < 64; cut++) {
		request(buf, cut);
		response(buf, cut);
	}
	request(buf, size / 2);
	response(buf, size / 2);
	free(buf);
	return 0;
}
