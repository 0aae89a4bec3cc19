/*
 * HTTP/3 frames (lib/app/h3_frame.c): every frame type read whole and in
 * pieces down to one byte, reserved types skipped, HTTP/2 types refused,
 * the buffering limit, SETTINGS parsing with its errors, and the writers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "app/h3_frame.h"

/* What the reader handed over, in order: "T<type>:<len> " per buffered
 * frame, "D<len> " per DATA start and the DATA payload concatenated. */
struct seen {
	char log[512];
	uint8_t data[256];
	size_t ndata;
	uint8_t last[64];
	size_t lastlen;
	uint64_t refuse_type; /* the frame callback refuses this type */
};

static void logf_(struct seen *s, const char *tag, uint64_t a, uint64_t b)
{
	size_t n = strlen(s->log);
	snprintf(s->log + n, sizeof(s->log) - n, "%s%llu:%llu ", tag, (unsigned long long)a,
		 (unsigned long long)b);
}

static uint64_t on_frame(void *ud, uint64_t type, const uint8_t *p, size_t len)
{
	struct seen *s = ud;
	logf_(s, "T", type, len);
	if (len <= sizeof(s->last)) {
		memcpy(s->last, p, len);
		s->lastlen = len;
	}
	return type == s->refuse_type ? MPQ_H3_FRAME_UNEXPECTED : 0;
}

static uint64_t on_data_start(void *ud, uint64_t len)
{
	logf_(ud, "D", len, 0);
	return 0;
}

static uint64_t on_data(void *ud, const uint8_t *d, size_t len)
{
	struct seen *s = ud;
	assert_true(s->ndata + len <= sizeof(s->data));
	memcpy(s->data + s->ndata, d, len);
	s->ndata += len;
	return 0;
}

static const struct mpq_h3_reader_cb cbs = {on_frame, on_data_start, on_data};

/* Feeds |in| in pieces of |piece| bytes; returns the reader's result. */
static uint64_t feed(struct seen *s, const uint8_t *in, size_t len, size_t piece, bool *boundary)
{
	struct mpq_h3_reader r;
	uint64_t err = 0;
	mpq_h3_reader_init(&r);
	memset(s->log, 0, sizeof(s->log));
	s->ndata = 0;
	for (size_t pos = 0; pos < len && !err; pos += piece)
		err = mpq_h3_read(&r, in + pos, len - pos < piece ? len - pos : piece, &cbs, s);
	if (err)
		assert_int_equal(mpq_h3_read(&r, (const uint8_t *)"\0", 1, &cbs, s), err);
	if (boundary)
		*boundary = mpq_h3_reader_at_boundary(&r);
	mpq_h3_reader_free(&r);
	return err;
}

/* A stream carrying one frame of each kind, a reserved type among them. */
static const uint8_t stream[] = {
	0x04, 0x04, 0x01, 0x00, 0x07, 0x00,	 /* SETTINGS */
	0x01, 0x03, 0x00, 0x00, 0xd1,		 /* HEADERS */
	0x40, 0x21, 0x02, 0xaa, 0xbb,		 /* reserved type 0x21, skipped */
	0x00, 0x05, 'h',  'e',	0x6c, 'l',  'o', /* DATA "hello" */
	0x00, 0x00,				 /* empty DATA */
	0x07, 0x01, 0x04,			 /* GOAWAY 4 */
	0x0d, 0x01, 0x08,			 /* MAX_PUSH_ID 8 */
	0x03, 0x01, 0x00,			 /* CANCEL_PUSH 0 */
	0x05, 0x02, 0x00, 0x00,			 /* PUSH_PROMISE */
	0x80, 0x00, 0x00, 0x40, 0x40, 0x00,	 /* type 0x40 in 4 bytes, 2-byte length 0 */
};
static const char stream_log[] = "T4:4 T1:3 D5:0 D0:0 T7:1 T13:1 T3:1 T5:2 ";

static void frames_whole_and_in_pieces(void **state)
{
	(void)state;
	struct seen s = {0};
	for (size_t piece = 1; piece <= sizeof(stream); piece++) {
		bool b = false;
		assert_int_equal(feed(&s, stream, sizeof(stream), piece, &b), 0);
		assert_string_equal(s.log, stream_log);
		assert_int_equal(s.ndata, 5);
		assert_memory_equal(s.data, "hello", 5);
		assert_true(b);
	}
	/* Ending inside a frame header or payload is not a boundary. */
	for (size_t cut = 1; cut < 11; cut++) {
		bool b = true;
		if (cut == 6)
			continue; /* right after SETTINGS */
		assert_int_equal(feed(&s, stream, cut, 1, &b), 0);
		assert_false(b);
	}
}

static void http2_types_refused(void **state)
{
	(void)state;
	static const uint8_t types[] = {0x2, 0x6, 0x8, 0x9};
	struct seen s = {0};
	for (size_t i = 0; i < sizeof(types); i++) {
		uint8_t f[] = {types[i], 0x00};
		assert_int_equal(feed(&s, f, sizeof(f), 1, NULL), MPQ_H3_FRAME_UNEXPECTED);
		assert_string_equal(s.log, "");
	}
	/* Reserved types of every size are skipped, also with a payload. */
	for (uint64_t n = 0; n < 5; n++) {
		uint8_t f[16];
		size_t k = mpq_h3_write_frame_header(f, sizeof(f), 0x1f * n + 0x21, 3);
		memcpy(f + k, "xyz", 3);
		f[k + 3] = 0x00;
		f[k + 4] = 0x00; /* then an empty DATA */
		assert_int_equal(feed(&s, f, k + 5, 1, NULL), 0);
		assert_string_equal(s.log, "D0:0 ");
	}
}

static void callback_error_stops_reader(void **state)
{
	(void)state;
	struct seen s = {.refuse_type = MPQ_H3_HEADERS};
	assert_int_equal(feed(&s, stream, sizeof(stream), 3, NULL), MPQ_H3_FRAME_UNEXPECTED);
	assert_string_equal(s.log, "T4:4 T1:3 ");
	assert_int_equal(s.ndata, 0);
}

static void buffering_limit(void **state)
{
	(void)state;
	struct seen s = {0};
	uint8_t f[16];
	/* A HEADERS frame over the limit is refused at its header. */
	size_t k =
		mpq_h3_write_frame_header(f, sizeof(f), MPQ_H3_HEADERS, MPQ_H3_MAX_BUFFERED + 1);
	assert_int_equal(feed(&s, f, k, 1, NULL), MPQ_H3_EXCESSIVE_LOAD);
	/* At the limit it is taken; DATA of any length passes unbuffered. */
	size_t len = k =
		mpq_h3_write_frame_header(f, sizeof(f), MPQ_H3_HEADERS, MPQ_H3_MAX_BUFFERED);
	uint8_t *big = calloc(1, MPQ_H3_MAX_BUFFERED + 16);
	assert_non_null(big);
	memcpy(big, f, k);
	len += MPQ_H3_MAX_BUFFERED;
	assert_int_equal(feed(&s, big, len, 1000, NULL), 0);
	assert_string_equal(s.log, "T1:16384 ");
	free(big);
	k = mpq_h3_write_frame_header(f, sizeof(f), MPQ_H3_DATA, 1ULL << 40);
	assert_int_equal(feed(&s, f, k, 1, NULL), 0);
	assert_string_equal(s.log, "D1099511627776:0 ");
	/* Huge reserved frames are skipped without buffering too. */
	k = mpq_h3_write_frame_header(f, sizeof(f), 0x21, 1ULL << 40);
	assert_int_equal(feed(&s, f, k, 1, NULL), 0);
}

static void settings(void **state)
{
	(void)state;
	struct mpq_h3_settings st;
	static const uint8_t ok[] = {0x01, 0x40, 0x64, 0x06, 0x44, 0x00,
				     0x07, 0x05, 0x40, 0x21, 0x09};
	assert_int_equal(mpq_h3_parse_settings(ok, sizeof(ok), &st), 0);
	assert_int_equal(st.qpack_max_table_capacity, 100);
	assert_int_equal(st.max_field_section_size, 0x400);
	assert_int_equal(st.qpack_blocked_streams, 5);
	assert_int_equal(mpq_h3_parse_settings(ok, 0, &st), 0);
	assert_true(st.max_field_section_size == UINT64_MAX);
	assert_int_equal(st.qpack_max_table_capacity, 0);
	for (uint8_t id = 2; id <= 5; id++) {
		uint8_t h2[] = {id, 0x00};
		assert_int_equal(mpq_h3_parse_settings(h2, 2, &st), MPQ_H3_SETTINGS_ERROR);
	}
	static const uint8_t dup[] = {0x06, 0x01, 0x01, 0x00, 0x06, 0x02};
	assert_int_equal(mpq_h3_parse_settings(dup, sizeof(dup), &st), MPQ_H3_SETTINGS_ERROR);
	static const uint8_t trunc[] = {0x06, 0x40};
	assert_int_equal(mpq_h3_parse_settings(trunc, 1, &st), MPQ_H3_FRAME_ERROR);
	assert_int_equal(mpq_h3_parse_settings(trunc, 2, &st), MPQ_H3_FRAME_ERROR);

	/* Ours parse back, in a SETTINGS frame the reader hands over. */
	uint8_t f[64];
	size_t n = mpq_h3_write_settings(f, sizeof(f), 8192);
	assert_true(n > 0);
	struct seen s = {0};
	assert_int_equal(feed(&s, f, n, 1, NULL), 0);
	assert_memory_equal(s.log, "T4:", 3);
	assert_int_equal(mpq_h3_parse_settings(s.last, s.lastlen, &st), 0);
	assert_int_equal(st.max_field_section_size, 8192);
	assert_int_equal(st.qpack_max_table_capacity, 0);
	assert_int_equal(st.qpack_blocked_streams, 0);
	assert_int_equal(mpq_h3_write_settings(f, n - 1, 8192), 0);
}

static void varint_payloads_and_names(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(mpq_h3_parse_varint_payload((const uint8_t *)"\x44\x00", 2, &v), 0);
	assert_int_equal(v, 0x400);
	assert_int_equal(mpq_h3_parse_varint_payload((const uint8_t *)"\x04\x00", 2, &v),
			 MPQ_H3_FRAME_ERROR);
	assert_int_equal(mpq_h3_parse_varint_payload((const uint8_t *)"\x44", 1, &v),
			 MPQ_H3_FRAME_ERROR);
	assert_int_equal(mpq_h3_parse_varint_payload(NULL, 0, &v), MPQ_H3_FRAME_ERROR);
	assert_string_equal(mpq_h3_error_name(MPQ_H3_NO_ERROR), "H3_NO_ERROR");
	assert_string_equal(mpq_h3_error_name(MPQ_H3_MISSING_SETTINGS), "H3_MISSING_SETTINGS");
	assert_string_equal(mpq_h3_error_name(MPQ_H3_VERSION_FALLBACK), "H3_VERSION_FALLBACK");
	assert_string_equal(mpq_h3_error_name(MPQ_QPACK_DECOMPRESSION_FAILED),
			    "QPACK_DECOMPRESSION_FAILED");
	assert_string_equal(mpq_h3_error_name(0x111), "unknown");
	uint8_t b[8];
	assert_int_equal(mpq_h3_write_varint(b, sizeof(b), 0x3fff), 2);
	assert_int_equal(mpq_h3_write_varint(b, 1, 0x3fff), 0);
	assert_int_equal(mpq_h3_write_frame_header(b, 2, MPQ_H3_DATA, 0x40), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_whole_and_in_pieces),
		cmocka_unit_test(http2_types_refused),
		cmocka_unit_test(callback_error_stops_reader),
		cmocka_unit_test(buffering_limit),
		cmocka_unit_test(settings),
		cmocka_unit_test(varint_payloads_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
