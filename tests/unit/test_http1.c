/*
 * HTTP/1.1 heads (lib/app/http1.c): requests answered or refused with the
 * status mpq/http1.h names (the path rules are hq's: "..", "//", %00 and
 * control characters), incomplete heads waiting for more bytes and the
 * limits that stop them, keep-alive by version and Connection, and response
 * heads as mpq-client --tcp reads them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mpq/http1.h"

static int parse(const char *head, mpq_http1_request *req)
{
	return mpq_http1_parse_request(head, strlen(head), req);
}

static void get_answered(void **state)
{
	mpq_http1_request req;
	const char *head = "GET /dir/file.txt HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\nGET /next";

	assert_int_equal(parse(head, &req), 200);
	assert_string_equal(req.rel, "dir/file.txt");
	assert_true(req.keep_alive);
	assert_false(req.http10);
	/* The head ends after the empty line; the next request is left alone. */
	assert_int_equal(req.head_len, strlen(head) - strlen("GET /next"));

	/* Bare LF line ends, a query, percent-encoding, header whitespace. */
	assert_int_equal(parse("GET /a%20b?x=1 HTTP/1.1\nhost:\t h \n\n", &req), 200);
	assert_string_equal(req.rel, "a b");
	assert_int_equal(parse("GET /1000 HTTP/1.1\r\nHOST: x\r\nAccept: */*\r\n\r\n", &req), 200);
	assert_string_equal(req.rel, "1000");
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &req), 200);
	assert_string_equal(req.rel, "");
}

static void keep_alive_rules(void **state)
{
	mpq_http1_request req;

	assert_int_equal(parse("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &req),
			 200);
	assert_false(req.keep_alive);
	assert_int_equal(parse("GET /a HTTP/1.1\r\nHost: x\r\nConnection: foo, Close\r\n\r\n",
			       &req),
			 200);
	assert_false(req.keep_alive);
	assert_int_equal(parse("GET /a HTTP/1.0\r\n\r\n", &req), 200);
	assert_false(req.keep_alive);
	assert_true(req.http10);
	assert_int_equal(parse("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &req), 200);
	assert_true(req.keep_alive);
}

static void incomplete_waits(void **state)
{
	mpq_http1_request req;
	const char *head = "GET /file HTTP/1.1\r\nHost: x\r\n\r\n";

	/* Every proper prefix needs more bytes. */
	for (size_t i = 0; i < strlen(head); i++)
		assert_int_equal(mpq_http1_parse_request(head, i, &req), 0);
	assert_int_equal(mpq_http1_parse_request(head, strlen(head), &req), 200);
}

static void refusals(void **state)
{
	static const struct {
		const char *head;
		int status;
	} cases[] = {
		{"GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 403},
		{"GET /a/%2e%2e/%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n", 403},
		{"GET //etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 403},
		{"GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 403},
		{"GET /a%0ab HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"GET a HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"GET  /a HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"GET /a  HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"GET /a\r\nHost: x\r\n\r\n", 400},
		{"GET /a HTTP/1.1 \r\nHost: x\r\n\r\n", 400},
		{"GET /a FTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"G(T /a HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"GET /a HTTP/2.0\r\nHost: x\r\n\r\n", 505},
		{"GET /a HTTP/1.1\r\n\r\n", 400},			/* no Host */
		{"GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400}, /* two */
		{"GET /a HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400},
		{"GET /a HTTP/1.1\r\nHost : x\r\n\r\n", 400},
		{"GET /a HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400},
		{"GET /a HTTP/1.1\r\nHost: x\ry\r\n\r\n", 400},
		{"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", 400},
		{"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
		{"GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"POST /a HTTP/1.1\r\nHost: x\r\n\r\n", 405},
		{"get /a HTTP/1.1\r\nHost: x\r\n\r\n", 405},
		{"\r\n\r\n", 400},
	};
	mpq_http1_request req;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = parse(cases[i].head, &req);

		if (got != cases[i].status)
			fail_msg("%zu: \"%s\": %d, want %d", i, cases[i].head, got,
				 cases[i].status);
		/* Only 403 keeps the connection: the request itself was fine. */
		assert_int_equal(req.keep_alive, got == 403);
		assert_string_equal(req.rel, "");
	}
}

static void limits(void **state)
{
	char *buf = malloc(2 * MPQ_HTTP1_MAX_HEAD);
	mpq_http1_request req;
	size_t n;

	assert_non_null(buf);
	/* A request line past MPQ_HQ_MAX_REQUEST: 400 as soon as it is seen. */
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', MPQ_HQ_MAX_REQUEST);
	assert_int_equal(mpq_http1_parse_request(buf, MPQ_HQ_MAX_REQUEST + 5, &req), 400);
	/* Headers that never end within MPQ_HTTP1_MAX_HEAD: 431. */
	n = (size_t)snprintf(buf, 64, "GET /a HTTP/1.1\r\nHost: x\r\n");
	while (n < MPQ_HTTP1_MAX_HEAD) {
		memcpy(buf + n, "X-A: b\r\n", 8);
		n += 8;
	}
	assert_int_equal(mpq_http1_parse_request(buf, MPQ_HTTP1_MAX_HEAD - 1, &req), 0);
	assert_int_equal(mpq_http1_parse_request(buf, n, &req), 431);
	assert_false(req.keep_alive);
	/* Complete, but longer than the limit: 431 too. */
	memcpy(buf + n, "\r\n", 2);
	assert_int_equal(mpq_http1_parse_request(buf, n + 2, &req), 431);
	/* The longest request line allowed still parses. */
	n = (size_t)snprintf(buf, 64, "GET /");
	memset(buf + n, 'b', MPQ_HQ_MAX_REQUEST - n - 9);
	n = MPQ_HQ_MAX_REQUEST - 9;
	n += (size_t)snprintf(buf + n, 64, " HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(mpq_http1_parse_request(buf, n, &req), 200);
	assert_int_equal(strlen(req.rel), MPQ_HQ_MAX_REQUEST - 9 - 5);
	free(buf);
}

static void status_mapping(void **state)
{
	assert_int_equal(mpq_http1_status_of(MPQ_HQ_ERR_NOT_FOUND), 404);
	assert_int_equal(mpq_http1_status_of(MPQ_HQ_ERR_FORBIDDEN), 403);
	assert_int_equal(mpq_http1_status_of(MPQ_HQ_ERR_BAD_REQUEST), 400);
	assert_int_equal(mpq_http1_status_of(MPQ_HQ_ERR_INTERNAL), 500);
	assert_int_equal(mpq_http1_code_of(404), MPQ_HQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_http1_code_of(503), MPQ_HQ_ERR_INTERNAL);
	assert_int_equal(mpq_http1_code_of(200), 0);
	assert_string_equal(mpq_http1_reason(431), "Request Header Fields Too Large");
}

static int parse_resp(const char *head, mpq_http1_response *resp)
{
	return mpq_http1_parse_response(head, strlen(head), resp);
}

static void responses(void **state)
{
	mpq_http1_response r;
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nbody";

	assert_int_equal(parse_resp(ok, &r), 1);
	assert_int_equal(r.status, 200);
	assert_true(r.has_length);
	assert_int_equal(r.content_length, 1234);
	assert_true(r.keep_alive);
	assert_int_equal(r.head_len, strlen(ok) - 4);
	for (size_t i = 0; i < r.head_len; i++)
		assert_int_equal(mpq_http1_parse_response(ok, i, &r), 0);

	assert_int_equal(parse_resp("HTTP/1.0 404\r\nConnection: close\r\n\r\n", &r), 1);
	assert_int_equal(r.status, 404);
	assert_false(r.has_length);
	assert_false(r.keep_alive);
	assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: "
				    "5\r\n\r\n",
				    &r),
			 1);

	assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: "
				    "6\r\n\r\n",
				    &r),
			 MPQ_ERR_PROTO);
	assert_int_equal(
		parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", &r),
		MPQ_ERR_PROTO);
	assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &r),
			 MPQ_ERR_PROTO);
	assert_int_equal(parse_resp("HTTP/2 200 OK\r\n\r\n", &r), MPQ_ERR_PROTO);
	assert_int_equal(parse_resp("HTTP/1.1 20 OK\r\n\r\n", &r), MPQ_ERR_PROTO);
	assert_int_equal(parse_resp("HTTP/1.1 200OK\r\n\r\n", &r), MPQ_ERR_PROTO);
	assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\n bad\r\n\r\n", &r), MPQ_ERR_PROTO);

	char *big = malloc(MPQ_HTTP1_MAX_HEAD);
	assert_non_null(big);
	memset(big, 'x', MPQ_HTTP1_MAX_HEAD);
	assert_int_equal(mpq_http1_parse_response(big, MPQ_HTTP1_MAX_HEAD, &r), MPQ_ERR_PROTO);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(get_answered),	    cmocka_unit_test(keep_alive_rules),
		cmocka_unit_test(incomplete_waits), cmocka_unit_test(refusals),
		cmocka_unit_test(limits),	    cmocka_unit_test(status_mapping),
		cmocka_unit_test(responses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
