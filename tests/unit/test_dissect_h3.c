/* The HTTP/3 dissector (mpq_dissect_h3, lib/app/dissect_h3*.c) on stream data
 * as a capture shows it: a request cut in pieces that arrive out of order and
 * twice gives its HEADERS and DATA once each; a control stream's type varint
 * cut between packets, its SETTINGS and a GOAWAY cut in two; DATA bodies are skipped however large; what does not
 * parse (an HTTP/2 frame type, a QPACK section that does not decode, a
 * SETTINGS cut short, a stream ending inside a frame, data too far past a
 * gap) is one loglevel:warning, the rest of that stream ignored and the
 * other streams still read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "app/h3_frame.h"
#include "app/qpack.h"
#include "mpq/dissect.h"

struct membuf {
	char *data;
	size_t len, cap;
};

static int mem_write(void *user_data, const void *data, size_t len)
{
	struct membuf *m = user_data;

	if (m->len + len + 1 > m->cap) {
		m->cap = (m->len + len + 1) * 2;
		m->data = realloc(m->data, m->cap);
		assert_non_null(m->data);
	}
	memcpy(m->data + m->len, data, len);
	m->len += len;
	m->data[m->len] = 0;
	return 0;
}

struct fixture {
	struct membuf m;
	mpq_qlog *q;
	mpq_dissect_h3 *h;
};

static void setup(struct fixture *f)
{
	mpq_qlog_sink sink = {MPQ_QLOG_SINK_VERSION, mem_write, NULL, NULL, &f->m};
	mpq_cid odcid = {4, {1, 2, 3, 4}};

	memset(f, 0, sizeof(*f));
	assert_int_equal(mpq_dissect_qlog_open(&f->q, &sink, &odcid, "t", 0), 0);
	assert_int_equal(mpq_dissect_h3_new(&f->h), 0);
}

static void teardown(struct fixture *f)
{
	mpq_dissect_h3_free(f->h);
	assert_int_equal(mpq_dissect_qlog_close(f->q), 0);
	free(f->m.data);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void feed(struct fixture *f, int dir, uint64_t id, uint64_t off, const uint8_t *p,
		 size_t len, bool fin)
{
	assert_int_equal(mpq_dissect_h3_stream(f->h, f->q, 1000, dir, id, off, p, len, fin), 0);
}

/* A HEADERS frame of |fields| into |out|; its length. */
static size_t headers_frame(uint8_t *out, size_t cap, const mpq_qpack_field *fields, size_t n)
{
	uint8_t sec[256];
	ssize_t slen = mpq_qpack_encode(sec, sizeof(sec), fields, n);
	size_t h;

	assert_true(slen > 0);
	h = mpq_h3_write_frame_header(out, cap, MPQ_H3_HEADERS, (uint64_t)slen);
	assert_true(h && h + (size_t)slen <= cap);
	memcpy(out + h, sec, (size_t)slen);
	return h + (size_t)slen;
}

#define F(n, v) \
	{ \
		(const uint8_t *)(n), sizeof(n) - 1, (const uint8_t *)(v), sizeof(v) - 1 \
	}

static void request_out_of_order(void **state)
{
	static const mpq_qpack_field req[] = {F(":method", "GET"), F(":path", "/a.txt")};
	uint8_t buf[2048];
	struct fixture f;
	size_t n;

	(void)state;
	setup(&f);
	n = headers_frame(buf, sizeof(buf), req, 2);
	n += mpq_h3_write_frame_header(buf + n, sizeof(buf) - n, MPQ_H3_DATA, 1000);
	memset(buf + n, 'x', 1000);
	n += 1000;
	/* The end first, then the middle, the start, the middle again. */
	feed(&f, MPQ_DISSECT_TO_SERVER, 0, 600, buf + 600, n - 600, true);
	feed(&f, MPQ_DISSECT_TO_SERVER, 0, 10, buf + 10, 590, false);
	assert_int_equal(count(f.m.data, "\"name\":\"http3:"), 0);
	feed(&f, MPQ_DISSECT_TO_SERVER, 0, 0, buf, 12, false);
	feed(&f, MPQ_DISSECT_TO_SERVER, 0, 10, buf + 10, 590, false);
	assert_int_equal(count(f.m.data, "\"name\":\"http3:frame_created\""), 2);
	assert_int_equal(count(f.m.data, "\"name\":\"http3:frame_parsed\""), 0);
	assert_non_null(strstr(f.m.data, "\"headers\":[{\"name\":\":method\",\"value\":\"GET\"},"
					 "{\"name\":\":path\",\"value\":\"/a.txt\"}]"));
	assert_non_null(strstr(f.m.data, "\"frame_type\":\"data\",\"raw\":{\"length\":1003,"
					 "\"payload_length\":1000}"));
	assert_null(strstr(f.m.data, "loglevel:warning"));
	teardown(&f);
}

static void control_stream_type_cut(void **state)
{
	uint8_t buf[64];
	struct fixture f;
	size_t n;

	(void)state;
	setup(&f);
	/* The control stream type as a 2-byte varint, cut after its first byte. */
	buf[0] = 0x40;
	buf[1] = 0x00;
	n = 2 + mpq_h3_write_settings(buf + 2, sizeof(buf) - 2, 16384);
	feed(&f, MPQ_DISSECT_TO_CLIENT, 3, 0, buf, 1, false);
	assert_null(strstr(f.m.data, "stream_type_set"));
	feed(&f, MPQ_DISSECT_TO_CLIENT, 3, 1, buf + 1, n - 1, false);
	assert_non_null(strstr(f.m.data, "\"name\":\"http3:stream_type_set\",\"data\":{"
					 "\"initiator\":\"remote\",\"stream_id\":3,"
					 "\"stream_type\":\"control\"}"));
	assert_non_null(strstr(f.m.data, "\"name\":\"http3:frame_parsed\""));
	assert_non_null(strstr(f.m.data, "{\"name\":\"settings_max_field_section_size\","
					 "\"value\":16384}"));
	/* Then a GOAWAY with stream ID 8, cut inside its payload varint. */
	buf[0] = MPQ_H3_GOAWAY;
	buf[1] = 2;
	buf[2] = 0x40;
	buf[3] = 8;
	feed(&f, MPQ_DISSECT_TO_CLIENT, 3, n, buf, 3, false);
	assert_null(strstr(f.m.data, "goaway"));
	feed(&f, MPQ_DISSECT_TO_CLIENT, 3, n + 3, buf + 3, 1, false);
	assert_non_null(strstr(f.m.data, "\"frame_type\":\"goaway\",\"id\":8,"));
	/* A QPACK encoder stream and one of an unknown type: typed, not read. */
	buf[0] = MPQ_H3_STREAM_QPACK_ENCODER;
	buf[1] = 0xff;
	feed(&f, MPQ_DISSECT_TO_SERVER, 6, 0, buf, 2, false);
	buf[0] = 0x3f;
	feed(&f, MPQ_DISSECT_TO_SERVER, 10, 0, buf, 2, false);
	assert_non_null(strstr(f.m.data, "\"stream_id\":6,\"stream_type\":\"qpack_encode\""));
	assert_non_null(strstr(f.m.data, "\"stream_id\":10,\"stream_type\":\"unknown\","
					 "\"stream_type_bytes\":63"));
	assert_null(strstr(f.m.data, "loglevel:warning"));
	teardown(&f);
}

static void large_body_skipped(void **state)
{
	static uint8_t chunk[60000];
	uint8_t hdr[16];
	struct fixture f;
	uint64_t off;
	size_t h;

	(void)state;
	setup(&f);
	h = mpq_h3_write_frame_header(hdr, sizeof(hdr), MPQ_H3_DATA, 100 * sizeof(chunk));
	feed(&f, MPQ_DISSECT_TO_CLIENT, 0, 0, hdr, h, false);
	off = h;
	for (int i = 0; i < 100; i++, off += sizeof(chunk))
		feed(&f, MPQ_DISSECT_TO_CLIENT, 0, off, chunk, sizeof(chunk), i == 99);
	assert_non_null(strstr(f.m.data, "\"payload_length\":6000000"));
	assert_null(strstr(f.m.data, "loglevel:warning"));
	teardown(&f);
}

static void malformed_is_a_warning(void **state)
{
	static const mpq_qpack_field req[] = {F(":path", "/ok")};
	static const uint8_t h2_frame[] = {0x02, 0x01, 0x00};		   /* HTTP/2 PRIORITY */
	static const uint8_t bad_qpack[] = {0x01, 0x03, 0x00, 0x00, 0xff}; /* index 63+: cut */
	static const uint8_t cut_settings[] = {0x00, 0x04, 0x01, 0x06};
	static const uint8_t cut_frame[] = {0x01, 0x10, 0x00};
	static uint8_t far[100];
	uint8_t buf[256];
	struct fixture f;
	size_t n;

	(void)state;
	setup(&f);
	feed(&f, MPQ_DISSECT_TO_SERVER, 0, 0, h2_frame, sizeof(h2_frame), false);
	assert_int_equal(count(f.m.data, "\"name\":\"loglevel:warning\""), 1);
	assert_non_null(strstr(f.m.data, "H3_FRAME_UNEXPECTED"));
	/* The rest of that stream is ignored, the next one read. */
	n = headers_frame(buf, sizeof(buf), req, 1);
	feed(&f, MPQ_DISSECT_TO_SERVER, 0, sizeof(h2_frame), buf, n, false);
	assert_null(strstr(f.m.data, "/ok"));
	feed(&f, MPQ_DISSECT_TO_SERVER, 4, 0, buf, n, false);
	assert_non_null(strstr(f.m.data, "\"value\":\"/ok\""));

	feed(&f, MPQ_DISSECT_TO_SERVER, 8, 0, bad_qpack, sizeof(bad_qpack), false);
	assert_non_null(strstr(f.m.data, "QPACK_DECOMPRESSION_FAILED"));
	feed(&f, MPQ_DISSECT_TO_CLIENT, 3, 0, cut_settings, sizeof(cut_settings), false);
	assert_non_null(strstr(f.m.data, "H3_FRAME_ERROR"));
	feed(&f, MPQ_DISSECT_TO_CLIENT, 12, 0, cut_frame, sizeof(cut_frame), true);
	assert_non_null(strstr(f.m.data, "the stream ends inside a frame"));
	/* 100 bytes 64 KiB past a gap at offset 0. */
	feed(&f, MPQ_DISSECT_TO_CLIENT, 16, 65536, far, sizeof(far), false);
	assert_non_null(strstr(f.m.data, "too far ahead"));
	assert_int_equal(count(f.m.data, "\"name\":\"loglevel:warning\""), 5);
	teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_out_of_order),
		cmocka_unit_test(control_stream_type_cut),
		cmocka_unit_test(large_body_skipped),
		cmocka_unit_test(malformed_is_a_warning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
