/* qlog writer: JSON-SEQ framing, a strict JSON check of every record, exact
 * field values of every event and frame type, string escaping, sink errors,
 * and the plain and zstd file sinks giving back the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <zstd.h>

#include "quic/json.h"
#include "mpq/dissect.h"
#include "mpq/io/qlog_file.h"
#include "quic/qlog.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define REF 5000000000ULL /* reference time of every trace, ns */
#define MS(x) (REF + (uint64_t)(x)*1000000ULL)

/*
 * A memory sink that records calls and can be told to fail.
 */

struct membuf {
	char *data;
	size_t len, cap;
	int writes;
	int flushes;
	int closes;
	int fail_at_write; /* the write with this number (1-based) fails; 0: never */
};

static int mem_write(void *user_data, const void *data, size_t len)
{
	struct membuf *m = user_data;

	m->writes++;
	if (m->fail_at_write && m->writes >= m->fail_at_write)
		return MPQ_ERR_INTERNAL;
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

static int mem_flush(void *user_data)
{
	((struct membuf *)user_data)->flushes++;
	return 0;
}

static int mem_close(void *user_data)
{
	((struct membuf *)user_data)->closes++;
	return 0;
}

static mpq_qlog_sink mem_sink(struct membuf *m)
{
	mpq_qlog_sink s = {MPQ_QLOG_SINK_VERSION, mem_write, mem_flush, mem_close, m};

	memset(m, 0, sizeof(*m));
	return s;
}

/*
 * A strict JSON (RFC 8259) checker, written independently of json.c: full
 * grammar, UTF-8 decoded and range-checked, no raw control characters, no
 * duplicate member names, nothing after the value.
 */

struct jp {
	const unsigned char *p, *end;
	int depth;
};

static bool jv_value(struct jp *s);

static void jv_ws(struct jp *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool jv_hex4(struct jp *s, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++, s->p++) {
		unsigned c = s->p < s->end ? *s->p : 0;

		if (c >= '0' && c <= '9')
			*v = *v * 16 + c - '0';
		else if (c >= 'a' && c <= 'f')
			*v = *v * 16 + c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v = *v * 16 + c - 'A' + 10;
		else
			return false;
	}
	return true;
}

/* One UTF-8 encoded code point at s->p (lead byte >= 0x80). */
static bool jv_utf8(struct jp *s)
{
	unsigned c = *s->p++, cp, n, min;

	if ((c & 0xe0) == 0xc0) {
		n = 1, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2, cp = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3, cp = c & 0x07, min = 0x10000;
	} else {
		return false;
	}
	for (unsigned i = 0; i < n; i++) {
		if (s->p >= s->end || (*s->p & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (*s->p++ & 0x3f);
	}
	return cp >= min && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
}

/* A string; its raw span (without quotes) in *start, *len. */
static bool jv_string(struct jp *s, const unsigned char **start, size_t *len)
{
	if (s->p >= s->end || *s->p != '"')
		return false;
	*start = ++s->p;
	while (s->p < s->end && *s->p != '"') {
		unsigned c = *s->p, v;

		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			if (!jv_utf8(s))
				return false;
			continue;
		}
		s->p++;
		if (c != '\\')
			continue;
		if (s->p >= s->end)
			return false;
		c = *s->p++;
		if (c == 'u') {
			if (!jv_hex4(s, &v))
				return false;
		} else if (!strchr("\"\\/bfnrt", (int)c) || !c) {
			return false;
		}
	}
	if (s->p >= s->end)
		return false;
	*len = (size_t)(s->p - *start);
	s->p++;
	return true;
}

static bool jv_digits(struct jp *s)
{
	const unsigned char *b = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > b;
}

static bool jv_number(struct jp *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (s->p >= s->end || *s->p < '1' || *s->p > '9' || !jv_digits(s))
		return false;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!jv_digits(s))
			return false;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!jv_digits(s))
			return false;
	}
	return true;
}

static bool jv_literal(struct jp *s, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n))
		return false;
	s->p += n;
	return true;
}

static bool jv_container(struct jp *s, bool object)
{
	const unsigned char *keys[256];
	size_t keylens[256], nkeys = 0;

	if (++s->depth > 100)
		return false;
	s->p++;
	jv_ws(s);
	if (s->p < s->end && *s->p == (object ? '}' : ']')) {
		s->p++;
		s->depth--;
		return true;
	}
	for (;;) {
		jv_ws(s);
		if (object) {
			const unsigned char *k;
			size_t klen;

			if (!jv_string(s, &k, &klen))
				return false;
			for (size_t i = 0; i < nkeys; i++)
				if (keylens[i] == klen && !memcmp(keys[i], k, klen))
					return false; /* duplicate member */
			if (nkeys == N(keys))
				return false;
			keys[nkeys] = k;
			keylens[nkeys++] = klen;
			jv_ws(s);
			if (s->p >= s->end || *s->p++ != ':')
				return false;
			jv_ws(s);
		}
		if (!jv_value(s))
			return false;
		jv_ws(s);
		if (s->p >= s->end)
			return false;
		if (*s->p == ',') {
			s->p++;
			continue;
		}
		if (*s->p++ != (object ? '}' : ']'))
			return false;
		s->depth--;
		return true;
	}
}

static bool jv_value(struct jp *s)
{
	const unsigned char *k;
	size_t klen;

	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '{':
		return jv_container(s, true);
	case '[':
		return jv_container(s, false);
	case '"':
		return jv_string(s, &k, &klen);
	case 't':
		return jv_literal(s, "true");
	case 'f':
		return jv_literal(s, "false");
	case 'n':
		return jv_literal(s, "null");
	default:
		return jv_number(s);
	}
}

static bool json_valid(const char *text, size_t len)
{
	struct jp s = {(const unsigned char *)text, (const unsigned char *)text + len, 0};

	jv_ws(&s);
	if (!jv_value(&s))
		return false;
	jv_ws(&s);
	return s.p == s.end;
}

/*
 * JSON-SEQ records.
 */

#define MAX_RECORDS 64

struct records {
	size_t n;
	char *rec[MAX_RECORDS]; /* JSON text of each record, NUL-terminated, LF removed */
};

/* Splits |data| on RS; every record must start with RS, end with LF, contain
 * no other RS and hold one valid JSON text. */
static void split_records(struct records *r, const char *data, size_t len)
{
	size_t i = 0;

	memset(r, 0, sizeof(*r));
	assert_true(len > 0);
	while (i < len) {
		size_t start, end;

		assert_int_equal((unsigned char)data[i], 0x1e);
		start = ++i;
		while (i < len && data[i] != 0x1e)
			i++;
		end = i;
		assert_true(end > start);
		assert_int_equal(data[end - 1], '\n');
		assert_true(r->n < MAX_RECORDS);
		assert_true(json_valid(data + start, end - 1 - start));
		r->rec[r->n] = strndup(data + start, end - 1 - start);
		assert_non_null(r->rec[r->n]);
		r->n++;
	}
}

static void free_records(struct records *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->rec[i]);
	r->n = 0;
}

/* The |nth| (0-based) record whose name is |name|. */
static const char *find_event(const struct records *r, const char *name, int nth)
{
	char key[128];

	snprintf(key, sizeof(key), "\"name\":\"%s\"", name);
	for (size_t i = 1; i < r->n; i++)
		if (strstr(r->rec[i], key) && nth-- == 0)
			return r->rec[i];
	fail_msg("no event %s", name);
	return NULL;
}

/*
 * Test data.
 */

static const uint8_t cid8[] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t token[] = {0xde, 0xad, 0xbe, 0xef};
static const uint8_t sdata[] = "stream data";
static const char bad_reason[] = "bad\"frame";

static mpq_cid make_cid(const uint8_t *b, uint8_t len)
{
	mpq_cid c = {.len = len};

	memcpy(c.data, b, len);
	return c;
}

static mpq_frame ack_frame(uint64_t type, uint64_t path_id)
{
	mpq_frame f = {.type = type};

	f.ack.path_id = path_id;
	f.ack.ack_delay = 100;
	f.ack.nranges = 3;
	f.ack.ranges[0] = (mpq_ack_range){9, 12};
	f.ack.ranges[1] = (mpq_ack_range){5, 5};
	f.ack.ranges[2] = (mpq_ack_range){1, 3};
	if (type & 1) {
		f.ack.ecn = true;
		f.ack.ect0 = 5;
		f.ack.ect1 = 6;
		f.ack.ce = 7;
	}
	return f;
}

static mpq_frame new_cid_frame(uint64_t type, uint64_t path_id)
{
	mpq_frame f = {.type = type};

	f.new_cid.path_id = path_id;
	f.new_cid.seq = 7;
	f.new_cid.retire_prior_to = 3;
	f.new_cid.cid = make_cid(cid8, sizeof(cid8));
	memset(f.new_cid.reset_token, 0xab, sizeof(f.new_cid.reset_token));
	return f;
}

/* One frame of every type in frame.h, and one unknown type. */
static size_t all_frames(mpq_frame *fr)
{
	size_t n = 0;

	fr[n++] = (mpq_frame){.type = MPQ_FT_PADDING, .padding_len = 5};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PING};
	fr[n++] = ack_frame(MPQ_FT_ACK, 0);
	fr[n++] = ack_frame(MPQ_FT_ACK_ECN, 0);
	fr[n++] = (mpq_frame){.type = MPQ_FT_RESET_STREAM, .reset_stream = {4, 0x100, 123456}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_STOP_SENDING, .stop_sending = {8, 77}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_CRYPTO, .crypto = {1000, sdata, 5}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_NEW_TOKEN, .new_token = {token, sizeof(token)}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_STREAM | 0x07, .stream = {4, 1000, sdata, 11, true}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_STREAM | MPQ_STREAM_FLAG_LEN,
			      .stream = {1, 0, sdata, 3, false}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_MAX_DATA, .max_data = {1ULL << 40}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_MAX_STREAM_DATA, .max_stream_data = {3, 65536}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_MAX_STREAMS_BIDI, .max_streams = {100}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_MAX_STREAMS_UNI, .max_streams = {7}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_DATA_BLOCKED, .max_data = {9}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_STREAM_DATA_BLOCKED, .max_stream_data = {0, 1}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_STREAMS_BLOCKED_BIDI, .max_streams = {0}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_STREAMS_BLOCKED_UNI, .max_streams = {64}};
	fr[n++] = new_cid_frame(MPQ_FT_NEW_CONNECTION_ID, 0);
	fr[n++] = (mpq_frame){.type = MPQ_FT_RETIRE_CONNECTION_ID, .retire_cid = {0, 12}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_CHALLENGE,
			      .path_challenge = {{1, 2, 3, 4, 5, 6, 7, 8}}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_RESPONSE,
			      .path_challenge = {{8, 7, 6, 5, 4, 3, 2, 1}}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_CONNECTION_CLOSE,
			      .close = {0x0a, 0x08, (const uint8_t *)bad_reason,
					sizeof(bad_reason) - 1}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_CONNECTION_CLOSE, .close = {0x12a, 0, NULL, 0}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_CONNECTION_CLOSE, .close = {0x3e, 0x40, NULL, 0}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_CONNECTION_CLOSE_APP, .close = {0x1234, 0, NULL, 0}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_HANDSHAKE_DONE};
	fr[n++] = ack_frame(MPQ_FT_PATH_ACK, 3);
	fr[n++] = ack_frame(MPQ_FT_PATH_ACK_ECN, 0xffffffffULL);
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_ABANDON, .path_abandon = {2, 0x3e75}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_STATUS_BACKUP, .path_status = {1, 9}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_STATUS_AVAILABLE, .path_status = {1, 10}};
	fr[n++] = new_cid_frame(MPQ_FT_PATH_NEW_CONNECTION_ID, 5);
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_RETIRE_CONNECTION_ID, .retire_cid = {5, 0}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_MAX_PATH_ID, .max_path_id = {0xffffffffULL}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATHS_BLOCKED, .max_path_id = {4}};
	fr[n++] = (mpq_frame){.type = MPQ_FT_PATH_CIDS_BLOCKED, .path_cids_blocked = {4, 2}};
	fr[n++] = (mpq_frame){.type = 0x21};
	return n;
}

#define RANGES "\"acked_ranges\":[[9,12],[5],[1,3]]"
/* The start of an event record up to the inside of its data object. */
#define EV(time, name) "{\"time\":" time ",\"name\":\"" name "\",\"data\":{"
/* header and raw of the 1RTT packet emit_all() sends and receives. */
#define HDR_1RTT_42 \
	"\"header\":{\"packet_type\":\"1RTT\",\"packet_number\":42," \
	"\"key_phase_bit\":true,\"dcid\":\"0a0b0c0d\"},\"raw\":{\"length\":1252},"
#define TOKEN16 "abababababababababababababababab"
#define NEW_CID \
	"\"sequence_number\":7,\"retire_prior_to\":3,\"connection_id_length\":8," \
	"\"connection_id\":\"0102030405060708\",\"stateless_reset_token\":\"" TOKEN16 "\"}"

/* all_frames() as logged with ack_delay_exponent 3: 100 << 3 us = 0.800 ms. */
static const char all_frames_json[] =
	"\"frames\":["
	"{\"frame_type\":\"padding\",\"raw\":{\"payload_length\":5}},"
	"{\"frame_type\":\"ping\"},"
	"{\"frame_type\":\"ack\",\"ack_delay\":0.800," RANGES "},"
	"{\"frame_type\":\"ack\",\"ack_delay\":0.800," RANGES ",\"ect1\":6,\"ect0\":5,\"ce\":7},"
	"{\"frame_type\":\"reset_stream\",\"stream_id\":4,\"error\":\"unknown\","
	"\"error_code\":256,\"final_size\":123456},"
	"{\"frame_type\":\"stop_sending\",\"stream_id\":8,\"error\":\"unknown\",\"error_code\":77}"
	","
	"{\"frame_type\":\"crypto\",\"offset\":1000,\"raw\":{\"length\":5}},"
	"{\"frame_type\":\"new_token\",\"token\":{\"raw\":{\"length\":4,\"data\":\"deadbeef\"}}},"
	"{\"frame_type\":\"stream\",\"stream_id\":4,\"offset\":1000,\"fin\":true,"
	"\"raw\":{\"length\":11}},"
	"{\"frame_type\":\"stream\",\"stream_id\":1,\"offset\":0,\"fin\":false,"
	"\"raw\":{\"length\":3}},"
	"{\"frame_type\":\"max_data\",\"maximum\":1099511627776},"
	"{\"frame_type\":\"max_stream_data\",\"stream_id\":3,\"maximum\":65536},"
	"{\"frame_type\":\"max_streams\",\"stream_type\":\"bidirectional\",\"maximum\":100},"
	"{\"frame_type\":\"max_streams\",\"stream_type\":\"unidirectional\",\"maximum\":7},"
	"{\"frame_type\":\"data_blocked\",\"limit\":9},"
	"{\"frame_type\":\"stream_data_blocked\",\"stream_id\":0,\"limit\":1},"
	"{\"frame_type\":\"streams_blocked\",\"stream_type\":\"bidirectional\",\"limit\":0},"
	"{\"frame_type\":\"streams_blocked\",\"stream_type\":\"unidirectional\",\"limit\":64},"
	"{\"frame_type\":\"new_connection_id\"," NEW_CID ","
	"{\"frame_type\":\"retire_connection_id\",\"sequence_number\":12},"
	"{\"frame_type\":\"path_challenge\",\"data\":\"0102030405060708\"},"
	"{\"frame_type\":\"path_response\",\"data\":\"0807060504030201\"},"
	"{\"frame_type\":\"connection_close\",\"error_space\":\"transport\","
	"\"error\":\"protocol_violation\",\"reason\":\"bad\\\"frame\","
	"\"trigger_frame_type\":\"stream\"},"
	"{\"frame_type\":\"connection_close\",\"error_space\":\"transport\","
	"\"error\":\"crypto_error_0x12a\"},"
	"{\"frame_type\":\"connection_close\",\"error_space\":\"transport\","
	"\"error\":\"unknown\",\"error_code\":62,\"trigger_frame_type\":64},"
	"{\"frame_type\":\"connection_close\",\"error_space\":\"application\","
	"\"error\":\"unknown\",\"error_code\":4660},"
	"{\"frame_type\":\"handshake_done\"},"
	"{\"frame_type\":\"path_ack\",\"path_id\":3,\"ack_delay\":0.800," RANGES "},"
	"{\"frame_type\":\"path_ack\",\"path_id\":4294967295,\"ack_delay\":0.800," RANGES
	",\"ect1\":6,\"ect0\":5,\"ce\":7},"
	"{\"frame_type\":\"path_abandon\",\"path_id\":2,\"error_code\":15989},"
	"{\"frame_type\":\"path_status_backup\",\"path_id\":1,\"sequence_number\":9},"
	"{\"frame_type\":\"path_status_available\",\"path_id\":1,\"sequence_number\":10},"
	"{\"frame_type\":\"path_new_connection_id\",\"path_id\":5," NEW_CID ","
	"{\"frame_type\":\"path_retire_connection_id\",\"path_id\":5,\"sequence_number\":0},"
	"{\"frame_type\":\"max_path_id\",\"maximum_path_id\":4294967295},"
	"{\"frame_type\":\"paths_blocked\",\"maximum_path_id\":4},"
	"{\"frame_type\":\"path_cids_blocked\",\"path_id\":4,\"next_sequence_number\":2},"
	"{\"frame_type\":\"unknown\",\"frame_type_bytes\":33}"
	"]";

static const uint8_t odcid_bytes[] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
static const uint8_t scid_bytes[] = {0xc1, 0x01};
static const uint8_t dcid_bytes[] = {0x0a, 0x0b, 0x0c, 0x0d};

#define HEADER_CLIENT \
	"{\"file_schema\":\"urn:ietf:params:qlog:file:sequential\"," \
	"\"serialization_format\":\"application/qlog+json-seq\",\"title\":\"mpquic test\"," \
	"\"trace\":{\"vantage_point\":{\"type\":\"client\"}," \
	"\"common_fields\":{\"time_format\":\"relative_to_epoch\"," \
	"\"reference_time\":{\"clock_type\":\"monotonic\",\"epoch\":\"unknown\"}," \
	"\"group_id\":\"8394c8f03e515708\"}," \
	"\"event_schemas\":[\"urn:ietf:params:qlog:events:quic-13\"]}}"

/* Writes a fixed set of events with several of each kind; the same bytes every time. */
static void emit_all(mpq_qlog *q)
{
	mpq_cid odcid = make_cid(odcid_bytes, sizeof(odcid_bytes));
	mpq_cid scid = make_cid(scid_bytes, sizeof(scid_bytes));
	mpq_cid dcid = make_cid(dcid_bytes, sizeof(dcid_bytes));
	mpq_qlog_endpoint local = {"192.0.2.1", 4433, &scid, 1};
	mpq_qlog_endpoint remote = {"2001:db8::1", 443, &dcid, 1};
	const uint32_t client_versions[] = {MPQ_VERSION_1, MPQ_VERSION_2};
	mpq_tparams tp;
	mpq_frame fr[48];
	size_t nfr = all_frames(fr);
	mpq_qlog_hdr initial = {MPQ_PKT_INITIAL, 0, MPQ_VERSION_1, &odcid, &scid, 1182, 1200, -1};
	mpq_qlog_hdr onertt = {MPQ_PKT_1RTT, 42, 0, &dcid, NULL, 0, 1252, 1};
	mpq_frame crypto = {.type = MPQ_FT_CRYPTO, .crypto = {0, sdata, 290}};
	mpq_frame pad = {.type = MPQ_FT_PADDING, .padding_len = 880};
	mpq_frame ack = ack_frame(MPQ_FT_ACK, 0);
	mpq_frame pack = ack_frame(MPQ_FT_PATH_ACK, 1);
	mpq_frame stream = {.type = MPQ_FT_STREAM | 0x06, .stream = {0, 2400, sdata, 1200, false}};
	mpq_frame two[2] = {pad, crypto};
	mpq_qlog_metrics m;
	static const uint8_t reason[] = "idle\n\"bye\"";

	assert_int_equal(mpq_qlog_connection_started(q, MS(0), &local, &remote), 0);
	assert_int_equal(mpq_qlog_version_information(q, MS(0), client_versions, 2, NULL, 0,
						      MPQ_VERSION_1),
			 0);
	assert_int_equal(mpq_qlog_version_information(q, MS(0), client_versions, 1,
						      client_versions + 1, 1, 0),
			 0);
	mpq_tparams_default(&tp);
	tp.initial_max_data = 1 << 20;
	tp.has_initial_scid = 1;
	tp.initial_scid = scid;
	tp.has_initial_max_path_id = 1;
	tp.initial_max_path_id = 3;
	assert_int_equal(mpq_qlog_parameters_set(q, MS(0), MPQ_QLOG_LOCAL, &tp), 0);
	assert_int_equal(mpq_qlog_key_updated(q, MS(0), MPQ_QLOG_KEY_CLIENT_INITIAL, -1,
					      MPQ_QLOG_KEY_TRIGGER_TLS),
			 0);
	assert_int_equal(mpq_qlog_key_updated(q, MS(0), MPQ_QLOG_KEY_SERVER_INITIAL, -1,
					      MPQ_QLOG_KEY_TRIGGER_TLS),
			 0);
	assert_int_equal(mpq_qlog_packet_sent(q, MS(1), &initial, -1, two, 2, NULL), 0);
	assert_int_equal(mpq_qlog_packet_sent(q, MS(2), &onertt, 0, fr, nfr, "pto_probe"), 0);

	tp.ack_delay_exponent = 2;
	tp.has_original_dcid = 1;
	tp.original_dcid = odcid;
	tp.has_stateless_reset_token = 1;
	memset(tp.stateless_reset_token, 0x11, 16);
	tp.has_preferred_address = 1;
	memcpy(tp.preferred_address.ipv4, "\xc0\x00\x02\x07", 4);
	tp.preferred_address.ipv4_port = 4434;
	tp.preferred_address.cid = dcid;
	memset(tp.preferred_address.reset_token, 0x22, 16);
	assert_int_equal(mpq_qlog_parameters_set(q, MS(30), MPQ_QLOG_REMOTE, &tp), 0);
	assert_int_equal(mpq_qlog_packet_received(q, MS(31), &onertt, 1, &ack, 1, NULL), 0);
	assert_int_equal(mpq_qlog_packet_received(q, MS(31) + 1500, &onertt, 2, &pack, 1,
						  "keys_available"),
			 0);
	assert_int_equal(mpq_qlog_key_discarded(q, MS(32), MPQ_QLOG_KEY_CLIENT_INITIAL, -1,
						MPQ_QLOG_KEY_TRIGGER_NONE),
			 0);
	assert_int_equal(mpq_qlog_key_updated(q, MS(33), MPQ_QLOG_KEY_CLIENT_1RTT, 1,
					      MPQ_QLOG_KEY_TRIGGER_LOCAL_UPDATE),
			 0);

	mpq_qlog_metrics_init(&m);
	m.min_rtt = 29999999;
	m.smoothed_rtt = 30000000;
	m.latest_rtt = 31234567;
	m.rtt_variance = 7500000;
	m.congestion_window = 13500;
	m.bytes_in_flight = 2400;
	assert_int_equal(mpq_qlog_recovery_metrics_updated(q, MS(34), 0, &m), 0);
	mpq_qlog_metrics_init(&m);
	m.ssthresh = 6750;
	m.pto_count = 1;
	assert_int_equal(mpq_qlog_recovery_metrics_updated(q, MS(35), -1, &m), 0);
	assert_int_equal(mpq_qlog_congestion_state_updated(q, MS(35), -1, MPQ_QLOG_CC_NONE,
							   MPQ_QLOG_CC_SLOW_START, NULL),
			 0);
	assert_int_equal(mpq_qlog_congestion_state_updated(q, MS(36), 1, MPQ_QLOG_CC_SLOW_START,
							   MPQ_QLOG_CC_RECOVERY, "ecn"),
			 0);
	assert_int_equal(mpq_qlog_ecn_state_updated(q, MS(36), -1, -1, MPQ_ECN_STATE_TESTING), 0);
	assert_int_equal(mpq_qlog_ecn_state_updated(q, MS(36), 1, MPQ_ECN_STATE_TESTING,
						    MPQ_ECN_STATE_CAPABLE),
			 0);
	assert_int_equal(mpq_qlog_mtu_updated(q, MS(36), -1, 0, 1452, false), 0);
	assert_int_equal(mpq_qlog_mtu_updated(q, MS(36), 1, 1452, 8972, true), 0);
	assert_int_equal(mpq_qlog_packet_lost(q, MS(36), &onertt, 1, &stream, 1, "time_threshold"),
			 0);
	assert_int_equal(mpq_qlog_packet_lost(q, MS(37), &initial, -1, NULL, 0,
					      "reordering_threshold"),
			 0);
	assert_int_equal(mpq_qlog_packet_dropped(q, MS(38), NULL, -1, "decryption_failure"), 0);
	assert_int_equal(mpq_qlog_packet_dropped(q, MS(38), &initial, 0, "duplicate"), 0);
	assert_int_equal(mpq_qlog_tuple_assigned(q, MS(39), "1", &local, &remote), 0);
	assert_int_equal(mpq_qlog_tuple_assigned(q, MS(40), "1", NULL, NULL), 0);
	assert_int_equal(mpq_qlog_connection_closed(q, MS(41), MPQ_QLOG_LOCAL,
						    MPQ_QLOG_ERROR_TRANSPORT, 0x0a, reason,
						    sizeof(reason) - 1, "error"),
			 0);
	assert_int_equal(mpq_qlog_connection_closed(q, MS(42), MPQ_QLOG_REMOTE,
						    MPQ_QLOG_ERROR_APPLICATION, 0x101, NULL, 0,
						    "application"),
			 0);
	assert_int_equal(mpq_qlog_connection_closed(q, MS(43), MPQ_QLOG_NONE, MPQ_QLOG_ERROR_NONE,
						    0, NULL, 0, "idle_timeout"),
			 0);
}

static const char *const emit_all_names[] = {
	"quic:connection_started",
	"quic:version_information",
	"quic:version_information",
	"quic:parameters_set",
	"quic:key_updated",
	"quic:key_updated",
	"quic:packet_sent",
	"quic:packet_sent",
	"quic:parameters_set",
	"quic:packet_received",
	"quic:packet_received",
	"quic:key_discarded",
	"quic:key_updated",
	"quic:recovery_metrics_updated",
	"quic:recovery_metrics_updated",
	"quic:congestion_state_updated",
	"quic:congestion_state_updated",
	"quic:ecn_state_updated",
	"quic:ecn_state_updated",
	"quic:mtu_updated",
	"quic:mtu_updated",
	"quic:packet_lost",
	"quic:packet_lost",
	"quic:packet_dropped",
	"quic:packet_dropped",
	"quic:tuple_assigned",
	"quic:tuple_assigned",
	"quic:connection_closed",
	"quic:connection_closed",
	"quic:connection_closed",
};

/* A client trace of emit_all() in memory, split into records. */
static void client_trace(struct membuf *m, struct records *r)
{
	mpq_qlog_sink sink = mem_sink(m);
	mpq_cid odcid = make_cid(odcid_bytes, sizeof(odcid_bytes));
	mpq_qlog *q = NULL;

	assert_int_equal(mpq_qlog_open(&q, &sink, MPQ_QLOG_VP_CLIENT, &odcid, "mpquic test", REF),
			 0);
	emit_all(q);
	assert_int_equal(mpq_qlog_close(q), 0);
	assert_int_equal(m->closes, 1);
	split_records(r, m->data, m->len);
}

/*
 * Tests.
 */

static void header_and_event_names(void **state)
{
	struct membuf m;
	struct records r;

	(void)state;
	client_trace(&m, &r);
	assert_string_equal(r.rec[0], HEADER_CLIENT);
	/* file_schema and serialization_format within the first 256 bytes (main §4) */
	assert_true(strstr(m.data, "application/qlog+json-seq") - m.data < 256);
	assert_int_equal(r.n, 1 + N(emit_all_names));
	for (size_t i = 0; i < N(emit_all_names); i++) {
		char want[96];

		snprintf(want, sizeof(want), ",\"name\":\"%s\",\"data\":{", emit_all_names[i]);
		assert_non_null(strstr(r.rec[i + 1], want));
		assert_true(strncmp(r.rec[i + 1], "{\"time\":", 8) == 0);
	}
	/* one sink write per record */
	assert_int_equal(m.writes, (int)r.n);
	free_records(&r);
	free(m.data);
}

/* Records of the emit_all() trace, exactly. */
static const struct {
	const char *name;
	int nth;
	const char *json;
} exact_events[] = {
	{"quic:packet_sent", 0,
	 EV("1.000",
	    "quic:packet_sent") "\"header\":{\"packet_type\":\"initial\",\"packet_number\":0,"
				"\"length\":1182,\"version\":\"00000001\",\"scid\":\"c101\","
				"\"dcid\":\"8394c8f03e515708\"},\"raw\":{\"length\":1200},"
				"\"frames\":[{\"frame_type\":\"padding\",\"raw\":{\"payload_"
				"length\":880}},"
				"{\"frame_type\":\"crypto\",\"offset\":0,\"raw\":{\"length\":290}}"
				"]}}"},
	/* received ACKs use the peer's ack_delay_exponent (2): 100 << 2 us */
	{"quic:packet_received", 0,
	 EV("31.000", "quic:packet_received") HDR_1RTT_42
	 "\"path_id\":1,\"frames\":["
	 "{\"frame_type\":\"ack\",\"ack_delay\":0.400," RANGES "}]}}"},
	{"quic:packet_received", 1,
	 EV("31.001", "quic:packet_received") HDR_1RTT_42
	 "\"path_id\":2,\"frames\":["
	 "{\"frame_type\":\"path_ack\",\"path_id\":1,\"ack_delay\":0.400," RANGES
	 "}],\"trigger\":\"keys_available\"}}"},
	{"quic:packet_lost", 0,
	 EV("36.000", "quic:packet_lost") HDR_1RTT_42
	 "\"path_id\":1,\"frames\":["
	 "{\"frame_type\":\"stream\",\"stream_id\":0,\"offset\":2400,\"fin\":false,"
	 "\"raw\":{\"length\":1200}}],\"trigger\":\"time_threshold\"}}"},
	{"quic:packet_dropped", 0,
	 EV("38.000", "quic:packet_dropped") "\"trigger\":\"decryption_failure\"}}"},
	{"quic:connection_started", 0,
	 EV("0.000",
	    "quic:connection_started") "\"local\":{\"ip_v4\":\"192.0.2.1\",\"port_v4\":4433,"
				       "\"connection_ids\":[\"c101\"]},"
				       "\"remote\":{\"ip_v6\":\"2001:db8::1\",\"port_v6\":443,"
				       "\"connection_ids\":[\"0a0b0c0d\"]}}}"},
	{"quic:version_information", 0,
	 EV("0.000", "quic:version_information") "\"client_versions\":[\"00000001\",\"6b3343cf\"],"
						 "\"chosen_version\":\"00000001\"}}"},
	{"quic:version_information", 1,
	 EV("0.000", "quic:version_information") "\"server_versions\":[\"6b3343cf\"],\"client_"
						 "versions\":[\"00000001\"]}}"},
	{"quic:parameters_set", 0,
	 EV("0.000",
	    "quic:parameters_set") "\"initiator\":\"local\",\"initial_source_connection_id\":"
				   "\"c101\","
				   "\"disable_active_migration\":false,\"max_idle_timeout\":0,"
				   "\"max_udp_payload_size\":65527,\"ack_delay_exponent\":3,"
				   "\"max_ack_delay\":25,\"active_connection_id_limit\":2,"
				   "\"initial_max_data\":1048576,\"initial_max_stream_data_bidi_"
				   "local\":0,"
				   "\"initial_max_stream_data_bidi_remote\":0,"
				   "\"initial_max_stream_data_uni\":0,\"initial_max_streams_"
				   "bidi\":0,"
				   "\"initial_max_streams_uni\":0,\"initial_max_path_id\":3}}"},
	{"quic:key_updated", 0,
	 EV("0.000",
	    "quic:key_updated") "\"key_type\":\"client_initial_secret\",\"trigger\":\"tls\"}}"},
	{"quic:key_updated", 2,
	 EV("33.000", "quic:key_updated") "\"key_type\":\"client_1rtt_secret\",\"key_phase\":1,"
					  "\"trigger\":\"local_update\"}}"},
	{"quic:key_discarded", 0,
	 EV("32.000", "quic:key_discarded") "\"key_type\":\"client_initial_secret\"}}"},
	{"quic:recovery_metrics_updated", 0,
	 EV("34.000",
	    "quic:recovery_metrics_updated") "\"min_rtt\":29.999,\"smoothed_rtt\":30.000,\"latest_"
					     "rtt\":31.234,"
					     "\"rtt_variance\":7.500,\"congestion_window\":13500,"
					     "\"bytes_in_flight\":2400,\"path_id\":0}}"},
	{"quic:recovery_metrics_updated", 1,
	 EV("35.000", "quic:recovery_metrics_updated") "\"pto_count\":1,\"ssthresh\":6750}}"},
	{"quic:congestion_state_updated", 0,
	 EV("35.000", "quic:congestion_state_updated") "\"new\":\"slow_start\"}}"},
	{"quic:congestion_state_updated", 1,
	 EV("36.000", "quic:congestion_state_updated") "\"old\":\"slow_start\",\"new\":"
						       "\"recovery\",\"trigger\":\"ecn\","
						       "\"path_id\":1}}"},
	{"quic:ecn_state_updated", 0,
	 EV("36.000", "quic:ecn_state_updated") "\"new\":\"testing\"}}"},
	{"quic:ecn_state_updated", 1,
	 EV("36.000",
	    "quic:ecn_state_updated") "\"old\":\"testing\",\"new\":\"capable\",\"path_id\":1}}"},
	{"quic:mtu_updated", 0, EV("36.000", "quic:mtu_updated") "\"new\":1452,\"done\":false}}"},
	{"quic:mtu_updated", 1,
	 EV("36.000",
	    "quic:mtu_updated") "\"old\":1452,\"new\":8972,\"done\":true,\"path_id\":1}}"},
	{"quic:tuple_assigned", 0,
	 EV("39.000",
	    "quic:tuple_assigned") "\"tuple_id\":\"1\","
				   "\"tuple_remote\":{\"ip_v6\":\"2001:db8::1\",\"port_v6\":443,"
				   "\"connection_ids\":[\"0a0b0c0d\"]},"
				   "\"tuple_local\":{\"ip_v4\":\"192.0.2.1\",\"port_v4\":4433,"
				   "\"connection_ids\":[\"c101\"]}}}"},
	{"quic:tuple_assigned", 1, EV("40.000", "quic:tuple_assigned") "\"tuple_id\":\"1\"}}"},
	{"quic:connection_closed", 0,
	 EV("41.000",
	    "quic:connection_closed") "\"initiator\":\"local\",\"connection_error\":\"protocol_"
				      "violation\","
				      "\"reason\":\"idle\\n\\\"bye\\\"\",\"trigger\":\"error\"}}"},
	{"quic:connection_closed", 1,
	 EV("42.000",
	    "quic:connection_closed") "\"initiator\":\"remote\",\"application_error\":\"unknown\","
				      "\"error_code\":257,\"trigger\":\"application\"}}"},
	{"quic:connection_closed", 2,
	 EV("43.000", "quic:connection_closed") "\"trigger\":\"idle_timeout\"}}"},
};

static void events_exact(void **state)
{
	struct membuf m;
	struct records r;
	const char *ev;

	(void)state;
	client_trace(&m, &r);
	for (size_t i = 0; i < N(exact_events); i++)
		assert_string_equal(find_event(&r, exact_events[i].name, exact_events[i].nth),
				    exact_events[i].json);
	/* no path_id and no frames when not given */
	assert_null(strstr(find_event(&r, "quic:packet_lost", 1), "path_id"));
	assert_null(strstr(find_event(&r, "quic:packet_lost", 1), "frames"));
	assert_null(strstr(find_event(&r, "quic:packet_sent", 0), "path_id"));
	ev = find_event(&r, "quic:packet_dropped", 1);
	assert_non_null(strstr(ev, "\"raw\":{\"length\":1200},\"path_id\":0,"
				   "\"trigger\":\"duplicate\"}}"));
	ev = find_event(&r, "quic:parameters_set", 1);
	assert_non_null(strstr(ev, "\"initiator\":\"remote\","
				   "\"original_destination_connection_id\":\"8394c8f03e515708\","
				   "\"initial_source_connection_id\":\"c101\","
				   "\"stateless_reset_token\":"
				   "\"11111111111111111111111111111111\","));
	assert_non_null(strstr(ev, "\"preferred_address\":{\"ip_v4\":\"192.0.2.7\","
				   "\"port_v4\":4434,\"connection_id\":\"0a0b0c0d\","
				   "\"stateless_reset_token\":"
				   "\"22222222222222222222222222222222\"},"
				   "\"initial_max_path_id\":3}}"));
	free_records(&r);
	free(m.data);
}

static void frames_array_exact(void **state)
{
	static const char head[] = EV("2.000", "quic:packet_sent") HDR_1RTT_42 "\"path_id\":0,";
	static const char tail[] = ",\"trigger\":\"pto_probe\"}}";
	struct membuf m;
	struct records r;
	char *want = malloc(sizeof(head) + sizeof(all_frames_json) + sizeof(tail));

	(void)state;
	assert_non_null(want);
	strcpy(want, head);
	strcat(want, all_frames_json);
	strcat(want, tail);
	client_trace(&m, &r);
	assert_string_equal(find_event(&r, "quic:packet_sent", 1), want);
	free(want);
	free_records(&r);
	free(m.data);
}

/* Escaping: quotes, backslash, every control byte, DEL, RS, valid UTF-8
 * kept, invalid bytes as \u00XX, reason_bytes for non-UTF-8 reasons. */
static void strings_stay_valid_json(void **state)
{
	static const uint8_t valid[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	static const uint8_t invalid[] = {'a',	0xff, 0xc3, 'b',  0xc0, 0xaf, 0xed, 0xa0,
					  0x80, 0xf4, 0x90, 0x80, 0x80, 0xe2, 0x82};
	uint8_t ctl[40];
	struct membuf m;
	mpq_qlog_sink sink = mem_sink(&m);
	mpq_qlog *q;
	struct records r;
	mpq_frame close = {.type = MPQ_FT_CONNECTION_CLOSE_APP};
	mpq_qlog_hdr h = {MPQ_PKT_1RTT, 1, 0, NULL, NULL, 0, 0, -1};
	size_t nrs = 0;

	(void)state;
	for (size_t i = 0; i < 32; i++)
		ctl[i] = (uint8_t)i;
	memcpy(ctl + 32, "\"\\/\x7f", 4);
	assert_int_equal(mpq_qlog_open(&q, &sink, MPQ_QLOG_VP_SERVER, NULL, "t\x1e\"itle\"\n\\",
				       REF),
			 0);
	assert_int_equal(mpq_qlog_connection_closed(q, REF, MPQ_QLOG_REMOTE,
						    MPQ_QLOG_ERROR_TRANSPORT, 0x3e, ctl, 36,
						    "x\ty"),
			 0);
	assert_int_equal(mpq_qlog_connection_closed(q, REF, MPQ_QLOG_REMOTE,
						    MPQ_QLOG_ERROR_TRANSPORT, 0x110, valid,
						    sizeof(valid) - 1, NULL),
			 0);
	close.close.reason = invalid;
	close.close.reasonlen = sizeof(invalid);
	assert_int_equal(mpq_qlog_packet_received(q, REF, &h, -1, &close, 1, NULL), 0);
	assert_int_equal(mpq_qlog_tuple_assigned(q, REF, "\x01\xfe", NULL, NULL), 0);
	assert_int_equal(mpq_qlog_close(q), 0);

	/* RS appears only as record separators: 1 header + 4 events */
	for (size_t i = 0; i < m.len; i++)
		nrs += m.data[i] == 0x1e;
	assert_int_equal(nrs, 5);
	split_records(&r, m.data, m.len);
	assert_int_equal(r.n, 5);
	assert_non_null(strstr(r.rec[0], "\"title\":\"t\\u001e\\\"itle\\\"\\n\\\\\","));
	assert_non_null(strstr(r.rec[0], "\"vantage_point\":{\"type\":\"server\"}"));
	assert_null(strstr(r.rec[0], "group_id"));
	assert_string_equal(r.rec[1],
			    EV("0.000",
			       "quic:connection_closed") "\"initiator\":\"remote\",\"connection_"
							 "error\":\"unknown\","
							 "\"error_code\":62,\"reason\":\""
							 "\\u0000\\u0001\\u0002\\u0003\\u0004\\u00"
							 "05\\u0006\\u0007"
							 "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
							 "\\u0010\\u0011\\u0012\\u0013\\u0014\\u00"
							 "15\\u0016\\u0017"
							 "\\u0018\\u0019\\u001a\\u001b\\u001c\\u00"
							 "1d\\u001e\\u001f"
							 "\\\"\\\\/"
							 "\\u007f\",\"trigger\":\"x\\ty\"}}");
	assert_string_equal(r.rec[2],
			    EV("0.000",
			       "quic:connection_closed") "\"initiator\":\"remote\","
							 "\"connection_error\":\"crypto_error_"
							 "0x110\","
							 "\"reason\":\"caf\xc3\xa9 \xe2\x82\xac "
							 "\xf0\x9f\x98\x80\"}}");
	assert_non_null(strstr(r.rec[3],
			       "{\"frame_type\":\"connection_close\","
			       "\"error_space\":\"application\",\"error\":\"unknown\","
			       "\"error_code\":0,\"reason\":\"a\\u00ff\\u00c3b\\u00c0\\u00af"
			       "\\u00ed\\u00a0\\u0080\\u00f4\\u0090\\u0080\\u0080\\u00e2\\u0082\","
			       "\"reason_bytes\":\"61ffc362c0afeda080f4908080e282\"}"));
	assert_string_equal(r.rec[4],
			    EV("0.000",
			       "quic:tuple_assigned") "\"tuple_id\":\"\\u0001\\u00fe\"}}");
	free_records(&r);
	free(m.data);
}

/* A record larger than the trace's buffer is streamed in pieces, unchanged. */
static void record_larger_than_buffer(void **state)
{
	const size_t n = 100000;
	uint8_t *reason = malloc(n);
	struct membuf m;
	mpq_qlog_sink sink = mem_sink(&m);
	mpq_qlog *q;
	struct records r;
	const char *p;

	(void)state;
	assert_non_null(reason);
	for (size_t i = 0; i < n; i++)
		reason[i] = i % 3 ? 'a' + i % 26 : '\n';
	assert_int_equal(mpq_qlog_open(&q, &sink, MPQ_QLOG_VP_NETWORK, NULL, NULL, REF), 0);
	assert_int_equal(m.writes, 1);
	assert_int_equal(mpq_qlog_connection_closed(q, MS(1), MPQ_QLOG_LOCAL,
						    MPQ_QLOG_ERROR_APPLICATION, 1, reason, n,
						    NULL),
			 0);
	assert_true(m.writes > 3);
	assert_int_equal(mpq_qlog_close(q), 0);
	split_records(&r, m.data, m.len);
	assert_int_equal(r.n, 2);
	assert_non_null(strstr(r.rec[0], "\"vantage_point\":{\"type\":\"network\","
					 "\"flow\":\"client\"}"));
	assert_null(strstr(r.rec[0], "\"title\""));
	p = strstr(r.rec[1], "\"reason\":\"");
	assert_non_null(p);
	p += strlen("\"reason\":\"");
	for (size_t i = 0; i < n; i++) {
		if (reason[i] == '\n') {
			assert_memory_equal(p, "\\n", 2);
			p += 2;
		} else {
			assert_int_equal(*p++, reason[i]);
		}
	}
	assert_string_equal(p, "\"}}");
	free_records(&r);
	free(m.data);
	free(reason);
}

static void times_relative_to_reference(void **state)
{
	struct membuf m;
	mpq_qlog_sink sink = mem_sink(&m);
	mpq_qlog *q;
	struct records r;
	static const uint64_t ts[] = {REF,
				      REF + 999,
				      REF + 1000,
				      REF + 1234567,
				      REF + 3600ULL * 1000000000ULL + 1000,
				      REF - 500000,
				      REF - 2000001000};
	static const char *const want[] = {"0.000",	  "0.000",  "0.001",	"1.234",
					   "3600000.001", "-0.500", "-2000.001"};

	(void)state;
	assert_int_equal(mpq_qlog_open(&q, &sink, MPQ_QLOG_VP_CLIENT, NULL, NULL, REF), 0);
	for (size_t i = 0; i < N(ts); i++)
		assert_int_equal(mpq_qlog_packet_dropped(q, ts[i], NULL, -1, NULL), 0);
	assert_int_equal(mpq_qlog_close(q), 0);
	split_records(&r, m.data, m.len);
	assert_int_equal(r.n, 1 + N(ts));
	for (size_t i = 0; i < N(ts); i++) {
		char expect[128];

		snprintf(expect, sizeof(expect),
			 "{\"time\":%s,\"name\":\"quic:packet_dropped\",\"data\":{}}", want[i]);
		assert_string_equal(r.rec[i + 1], expect);
	}
	free_records(&r);
	free(m.data);
}

/* A failing sink: the error comes back, sticks, nothing more is written,
 * and the sink is still closed exactly once. */
static void sink_errors_stick(void **state)
{
	struct membuf m;
	mpq_qlog_sink sink = mem_sink(&m);
	mpq_qlog *q;
	size_t len;

	(void)state;
	m.fail_at_write = 3;
	assert_int_equal(mpq_qlog_open(&q, &sink, MPQ_QLOG_VP_CLIENT, NULL, NULL, REF), 0);
	assert_int_equal(mpq_qlog_packet_dropped(q, REF, NULL, -1, "general"), 0);
	len = m.len;
	assert_int_equal(mpq_qlog_packet_dropped(q, REF, NULL, -1, "general"), MPQ_ERR_INTERNAL);
	assert_int_equal(mpq_qlog_key_updated(q, REF, MPQ_QLOG_KEY_SERVER_1RTT, 0,
					      MPQ_QLOG_KEY_TRIGGER_TLS),
			 MPQ_ERR_INTERNAL);
	assert_int_equal(mpq_qlog_flush(q), MPQ_ERR_INTERNAL);
	assert_int_equal(m.writes, 3);
	assert_int_equal(m.flushes, 0);
	assert_int_equal(m.len, len);
	assert_int_equal(mpq_qlog_close(q), MPQ_ERR_INTERNAL);
	assert_int_equal(m.closes, 1);
	free(m.data);

	/* failing on the header: open fails and closes the sink */
	sink = mem_sink(&m);
	m.fail_at_write = 1;
	q = NULL;
	assert_int_equal(mpq_qlog_open(&q, &sink, MPQ_QLOG_VP_CLIENT, NULL, NULL, REF),
			 MPQ_ERR_INTERNAL);
	assert_null(q);
	assert_int_equal(m.closes, 1);
	free(m.data);
}

static void arguments_and_null_trace(void **state)
{
	struct membuf m;
	mpq_qlog_sink sink = mem_sink(&m);
	mpq_qlog *q = NULL;
	mpq_qlog_metrics met;
	mpq_tparams tp;

	(void)state;
	/* a NULL trace is silent */
	mpq_qlog_metrics_init(&met);
	mpq_tparams_default(&tp);
	assert_int_equal(mpq_qlog_connection_started(NULL, 0, NULL, NULL), 0);
	assert_int_equal(mpq_qlog_version_information(NULL, 0, NULL, 0, NULL, 0, 1), 0);
	assert_int_equal(mpq_qlog_parameters_set(NULL, 0, MPQ_QLOG_LOCAL, &tp), 0);
	assert_int_equal(mpq_qlog_packet_sent(NULL, 0, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(mpq_qlog_packet_received(NULL, 0, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(mpq_qlog_packet_lost(NULL, 0, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(mpq_qlog_packet_dropped(NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(mpq_qlog_recovery_metrics_updated(NULL, 0, 0, &met), 0);
	assert_int_equal(mpq_qlog_congestion_state_updated(NULL, 0, 0, 0, 1, NULL), 0);
	assert_int_equal(mpq_qlog_ecn_state_updated(NULL, 0, 0, -1, 0), 0);
	assert_int_equal(mpq_qlog_key_updated(NULL, 0, 1, 0, 0), 0);
	assert_int_equal(mpq_qlog_key_discarded(NULL, 0, 1, 0, 0), 0);
	assert_int_equal(mpq_qlog_connection_closed(NULL, 0, 0, 0, 0, NULL, 0, NULL), 0);
	assert_int_equal(mpq_qlog_tuple_assigned(NULL, 0, "", NULL, NULL), 0);
	assert_int_equal(mpq_qlog_flush(NULL), 0);
	assert_int_equal(mpq_qlog_close(NULL), 0);

	/* bad arguments write nothing */
	assert_int_equal(mpq_qlog_open(&q, &sink, 0, NULL, NULL, 0), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(m.closes, 1);
	assert_int_equal(mpq_qlog_open(&q, NULL, MPQ_QLOG_VP_CLIENT, NULL, NULL, 0),
			 MPQ_ERR_INVALID_ARGUMENT);
	/* A sink of an unknown version is refused and left alone (mpq.h). */
	sink = mem_sink(&m);
	sink.struct_version = MPQ_QLOG_SINK_VERSION + 1;
	assert_int_equal(mpq_qlog_open(&q, &sink, MPQ_QLOG_VP_CLIENT, NULL, NULL, 0),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_dissect_qlog_open(&q, &sink, NULL, NULL, 0),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(m.closes, 0);
	sink = mem_sink(&m);
	assert_int_equal(mpq_qlog_open(&q, &sink, MPQ_QLOG_VP_CLIENT, NULL, NULL, 0), 0);
	assert_int_equal(mpq_qlog_congestion_state_updated(q, 0, 0, 0, 0, NULL),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_qlog_congestion_state_updated(q, 0, 0, 9, 1, NULL),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_qlog_ecn_state_updated(q, 0, 0, -2, 0), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_qlog_ecn_state_updated(q, 0, 0, 0, 4), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_qlog_key_updated(q, 0, 0, 0, 0), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_qlog_key_discarded(q, 0, 9, 0, 0), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_qlog_key_updated(q, 0, 1, 0, 7), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_qlog_parameters_set(q, 0, MPQ_QLOG_LOCAL, NULL),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_qlog_recovery_metrics_updated(q, 0, 0, NULL),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_qlog_packet_sent(q, 0, NULL, 0, NULL, 0, NULL),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_qlog_packet_received(q, 0, NULL, 0, NULL, 0, NULL),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(m.writes, 1); /* the header only */
	/* the trace still works after refused arguments */
	assert_int_equal(mpq_qlog_flush(q), 0);
	assert_int_equal(m.flushes, 1);
	assert_int_equal(mpq_qlog_close(q), 0);
	free(m.data);
}

/* Headers taken from mpq_pkt_hd as the transport and mpq-trace have them. */
static void header_from_packet(void **state)
{
	struct membuf m;
	mpq_qlog_sink sink = mem_sink(&m);
	mpq_qlog *q;
	struct records r;
	mpq_pkt_hd hd = {0};
	mpq_qlog_hdr h;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(443)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(8443)};
	struct sockaddr sa = {.sa_family = AF_UNIX};
	mpq_qlog_endpoint local = {0}, remote = {0}, bad = {0};
	char lbuf[MPQ_QLOG_ADDRSTRLEN], rbuf[MPQ_QLOG_ADDRSTRLEN];

	(void)state;
	hd.type = MPQ_PKT_HANDSHAKE;
	hd.version = MPQ_VERSION_2;
	hd.dcid = make_cid(dcid_bytes, sizeof(dcid_bytes));
	hd.scid = make_cid(scid_bytes, 0);
	hd.pn_offset = 12;
	hd.pktlen = 100;
	hd.pn = 7;
	mpq_qlog_hdr_from_pkt(&h, &hd);
	assert_int_equal(h.length, 88);
	assert_int_equal(h.size, 100);
	assert_int_equal(h.key_phase_bit, -1);

	inet_pton(AF_INET, "198.51.100.9", &sin.sin_addr);
	inet_pton(AF_INET6, "2001:db8:0:0:0:0:0:42", &sin6.sin6_addr);
	assert_int_equal(mpq_qlog_endpoint_addr(&local, lbuf, sizeof(lbuf),
						(const struct sockaddr *)&sin),
			 0);
	assert_int_equal(mpq_qlog_endpoint_addr(&remote, rbuf, sizeof(rbuf),
						(const struct sockaddr *)&sin6),
			 0);
	assert_int_equal(mpq_qlog_endpoint_addr(&bad, rbuf, sizeof(rbuf), &sa),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_qlog_endpoint_addr(&bad, rbuf, 4, (const struct sockaddr *)&sin6),
			 MPQ_ERR_INVALID_ARGUMENT);

	assert_int_equal(mpq_qlog_open(&q, &sink, MPQ_QLOG_VP_SERVER, NULL, NULL, REF), 0);
	assert_int_equal(mpq_qlog_packet_received(q, REF, &h, -1, NULL, 0, NULL), 0);
	memset(&hd, 0, sizeof(hd));
	hd.type = MPQ_PKT_1RTT;
	hd.dcid = make_cid(cid8, sizeof(cid8));
	hd.key_phase = true;
	hd.pn = 1ULL << 40;
	hd.pktlen = 45;
	hd.len = 99; /* not a long header: ignored */
	mpq_qlog_hdr_from_pkt(&h, &hd);
	assert_int_equal(mpq_qlog_packet_received(q, REF, &h, 7, NULL, 0, NULL), 0);
	hd.type = MPQ_PKT_RETRY;
	hd.version = MPQ_VERSION_1;
	mpq_qlog_hdr_from_pkt(&h, &hd);
	assert_int_equal(mpq_qlog_packet_received(q, REF, &h, -1, NULL, 0, NULL), 0);
	assert_int_equal(mpq_qlog_connection_started(q, REF, &local, &remote), 0);
	assert_int_equal(mpq_qlog_close(q), 0);

	split_records(&r, m.data, m.len);
	assert_int_equal(r.n, 5);
	assert_string_equal(
		r.rec[1],
		EV("0.000",
		   "quic:packet_received") "\"header\":{\"packet_type\":\"handshake\",\"packet_"
					   "number\":7,"
					   "\"length\":88,\"version\":\"6b3343cf\",\"scid\":\"\","
					   "\"dcid\":\"0a0b0c0d\"},\"raw\":{\"length\":100}}}");
	assert_string_equal(r.rec[2],
			    EV("0.000",
			       "quic:packet_received") "\"header\":{\"packet_type\":\"1RTT\","
						       "\"packet_number\":1099511627776,"
						       "\"key_phase_bit\":true,\"dcid\":"
						       "\"0102030405060708\"},"
						       "\"raw\":{\"length\":45},\"path_id\":7}}");
	/* retry: no packet number, no length */
	assert_string_equal(
		r.rec[3],
		EV("0.000", "quic:packet_received") "\"header\":{\"packet_type\":\"retry\","
						    "\"version\":\"00000001\","
						    "\"scid\":\"\",\"dcid\":\"0102030405060708\"},"
						    "\"raw\":{\"length\":45}}}");
	assert_string_equal(r.rec[4],
			    EV("0.000",
			       "quic:connection_started") "\"local\":{\"ip_v4\":\"198.51.100.9\","
							  "\"port_v4\":443},"
							  "\"remote\":{\"ip_v6\":\"2001:db8::42\","
							  "\"port_v6\":8443}}}");
	free_records(&r);
	free(m.data);
}

/* The JSON writer on its own: numbers, nesting, misuse. */
static int json_to_mem(void *user_data, const char *data, size_t len)
{
	return mem_write(user_data, data, len);
}

static void json_writer(void **state)
{
	struct membuf m = {0};
	char buf[MPQ_JSON_MIN_BUF];
	mpq_json j;

	(void)state;
	assert_int_equal(mpq_json_init(&j, buf, MPQ_JSON_MIN_BUF - 1, json_to_mem, &m),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_json_init(&j, buf, sizeof(buf), json_to_mem, &m), 0);
	mpq_json_arr_begin(&j);
	mpq_json_u64(&j, UINT64_MAX);
	mpq_json_i64(&j, INT64_MIN);
	mpq_json_i64(&j, -1);
	mpq_json_ms(&j, INT64_MAX);
	mpq_json_ms(&j, -999);
	mpq_json_bool(&j, false);
	mpq_json_hex(&j, (const uint8_t *)"", 0);
	mpq_json_arr_begin(&j);
	mpq_json_arr_end(&j);
	mpq_json_obj_begin(&j);
	mpq_json_obj_end(&j);
	mpq_json_arr_end(&j);
	assert_int_equal(mpq_json_flush(&j), 0);
	assert_string_equal(m.data, "[18446744073709551615,-9223372036854775808,-1,"
				    "9223372036854.775,0.000,false,\"\",[],{}]");
	assert_true(json_valid(m.data, m.len));

	/* closing what is not open, or too deep a nesting, is a sticky error */
	mpq_json_reset(&j);
	mpq_json_obj_end(&j);
	assert_int_equal(mpq_json_flush(&j), MPQ_ERR_INTERNAL);
	assert_int_equal(mpq_json_init(&j, buf, sizeof(buf), json_to_mem, &m), 0);
	for (int i = 0; i <= MPQ_JSON_MAX_DEPTH; i++)
		mpq_json_arr_begin(&j);
	assert_int_equal(mpq_json_flush(&j), MPQ_ERR_INTERNAL);

	assert_true(mpq_json_utf8_valid((const uint8_t *)"\xf4\x8f\xbf\xbf", 4));
	assert_false(mpq_json_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
	assert_false(mpq_json_utf8_valid((const uint8_t *)"\xe0\x80\x80", 3));
	assert_false(mpq_json_utf8_valid((const uint8_t *)"\xed\xbf\xbf", 3));
	assert_false(mpq_json_utf8_valid((const uint8_t *)"\xc2", 1));
	free(m.data);
}

/* The checker itself rejects what is not JSON. */
static void checker_is_strict(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"[1,]",
		"{\"a\":1,}",
		"{\"a\" 1}",
		"01",
		"1.",
		"-",
		".5",
		"1e",
		"\"\x01\"",
		"\"\\x\"",
		"\"\\u12g4\"",
		"\"\xff\"",
		"\"\xc0\xaf\"",
		"\"\xed\xa0\x80\"",
		"{\"a\":1,\"a\":2}",
		"[1] 2",
		"tru",
		"nul",
		"'a'",
		"\"abc",
	};
	static const char *const good[] = {
		"0",
		"-0.5e+10",
		"[]",
		"{}",
		" {\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\"} ",
		"\"\xf0\x9f\x98\x80\"",
		"true",
	};

	(void)state;
	for (size_t i = 0; i < N(bad); i++)
		assert_false(json_valid(bad[i], strlen(bad[i])));
	for (size_t i = 0; i < N(good); i++)
		assert_true(json_valid(good[i], strlen(good[i])));
}

/*
 * File sinks.
 */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, n;

	assert_non_null(f);
	*len = 0;
	do {
		if (*len + 4096 > cap) {
			cap = (*len + 4096) * 2;
			data = realloc(data, cap);
			assert_non_null(data);
		}
		n = fread(data + *len, 1, cap - *len, f);
		*len += n;
	} while (n);
	fclose(f);
	return data;
}

static char *zstd_decompress(const char *in, size_t inlen, size_t *outlen)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer ib = {in, inlen, 0};
	size_t cap = 1 << 16;
	char *out = malloc(cap);
	size_t rv = 1;

	assert_non_null(ds);
	assert_non_null(out);
	*outlen = 0;
	while (ib.pos < ib.size || rv) {
		ZSTD_outBuffer ob;

		if (cap - *outlen < 4096) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		ob = (ZSTD_outBuffer){out + *outlen, cap - *outlen, 0};
		rv = ZSTD_decompressStream(ds, &ob, &ib);
		assert_false(ZSTD_isError(rv));
		*outlen += ob.pos;
		if (ib.pos == ib.size && !ob.pos && rv)
			fail_msg("zstd frame truncated");
	}
	ZSTD_freeDStream(ds);
	return out;
}

/* Writes the emit_all() trace through |sink| and closes it. */
static void trace_to_sink(mpq_qlog_sink *sink)
{
	mpq_cid odcid = make_cid(odcid_bytes, sizeof(odcid_bytes));
	mpq_qlog *q;

	assert_int_equal(mpq_qlog_open(&q, sink, MPQ_QLOG_VP_CLIENT, &odcid, "mpquic test", REF),
			 0);
	emit_all(q);
	assert_int_equal(mpq_qlog_flush(q), 0);
	assert_int_equal(mpq_qlog_close(q), 0);
}

static void file_sinks_give_back_the_same_bytes(void **state)
{
	char dir[] = "/tmp/test_qlog.XXXXXX";
	char plain[64], zst[64], forced[64], missing[80];
	struct membuf m;
	struct records r;
	mpq_qlog_sink sink;
	char *data, *dec;
	size_t len, declen;
	FILE *f;

	(void)state;
	client_trace(&m, &r);
	free_records(&r);
	assert_non_null(mkdtemp(dir));
	snprintf(plain, sizeof(plain), "%s/a.sqlog", dir);
	snprintf(zst, sizeof(zst), "%s/a.sqlog.zst", dir);
	snprintf(forced, sizeof(forced), "%s/b.sqlog", dir);
	snprintf(missing, sizeof(missing), "%s/no/such/dir.sqlog", dir);

	/* plain by name */
	assert_int_equal(mpq_qlog_sink_path(&sink, plain, false), 0);
	trace_to_sink(&sink);
	data = read_file(plain, &len);
	assert_int_equal(len, m.len);
	assert_memory_equal(data, m.data, len);
	free(data);

	/* zstd by the .zst suffix: one frame that decompresses to the same bytes */
	assert_int_equal(mpq_qlog_sink_path(&sink, zst, false), 0);
	trace_to_sink(&sink);
	data = read_file(zst, &len);
	assert_true(len >= 4 && !memcmp(data, "\x28\xb5\x2f\xfd", 4)); /* zstd magic */
	assert_true(len < m.len / 2);
	dec = zstd_decompress(data, len, &declen);
	assert_int_equal(declen, m.len);
	assert_memory_equal(dec, m.data, declen);
	free(dec);
	free(data);

	/* zstd when asked, through a FILE* the caller keeps */
	f = fopen(forced, "wb");
	assert_non_null(f);
	assert_int_equal(mpq_qlog_sink_file(&sink, f, true), 0);
	trace_to_sink(&sink);
	assert_int_equal(fclose(f), 0);
	data = read_file(forced, &len);
	dec = zstd_decompress(data, len, &declen);
	assert_int_equal(declen, m.len);
	assert_memory_equal(dec, m.data, declen);
	free(dec);
	free(data);

	/* a sink given up before any trace */
	assert_int_equal(mpq_qlog_sink_path(&sink, forced, true), 0);
	assert_int_equal(mpq_qlog_sink_close(&sink), 0);
	data = read_file(forced, &len);
	dec = zstd_decompress(data, len, &declen);
	assert_int_equal(declen, 0);
	free(dec);
	free(data);

	assert_int_equal(mpq_qlog_sink_path(&sink, missing, false), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_qlog_sink_path(&sink, "", false), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_qlog_sink_file(&sink, NULL, false), MPQ_ERR_INVALID_ARGUMENT);

	assert_int_equal(unlink(plain), 0);
	assert_int_equal(unlink(zst), 0);
	assert_int_equal(unlink(forced), 0);
	assert_int_equal(rmdir(dir), 0);
	free(m.data);
}

/* A second, independent parser: python3's json module on every record. */
static void python_json_agrees(void **state)
{
	static const char script[] =
		"python3 -c '"
		"import json,sys\n"
		"d=sys.stdin.buffer.read()\n"
		"assert d[:1]==b\"\\x1e\"\n"
		"def nodup(p):\n"
		"  k=[a for a,_ in p]\n"
		"  assert len(k)==len(set(k))\n"
		"  return dict(p)\n"
		"recs=d.split(b\"\\x1e\")[1:]\n"
		"assert all(r.endswith(b\"\\n\") for r in recs)\n"
		"v=[json.loads(r.decode(\"utf-8\"),object_pairs_hook=nodup) for r in recs]\n"
		"assert v[0][\"file_schema\"]==\"urn:ietf:params:qlog:file:sequential\"\n"
		"s=[e for e in v[1:] if e[\"name\"]==\"quic:packet_sent\"]\n"
		"f=s[1][\"data\"][\"frames\"]\n"
		"assert f[2][\"acked_ranges\"]==[[9,12],[5],[1,3]]\n"
		"assert all(isinstance(e[\"time\"],float) for e in v[1:])\n"
		"sys.exit(0 if len(v)==31 else 1)'";
	struct membuf m;
	struct records r;
	FILE *p;
	int status;

	(void)state;
	client_trace(&m, &r);
	free_records(&r);
	p = popen(script, "w");
	assert_non_null(p);
	assert_int_equal(fwrite(m.data, 1, m.len, p), m.len);
	status = pclose(p);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(m.data);
}

/* HyStart++'s conservative slow start (RFC 9406) between slow start and
 * congestion avoidance, by name. */
static void conservative_slow_start_state(void **state)
{
	(void)state;
	struct membuf m;
	mpq_qlog_sink sink = mem_sink(&m);
	mpq_qlog *q;

	assert_int_equal(mpq_qlog_open(&q, &sink, MPQ_QLOG_VP_SERVER, NULL, NULL, 0), 0);
	assert_int_equal(mpq_qlog_congestion_state_updated(q, MS(1), 1, MPQ_QLOG_CC_SLOW_START,
							   MPQ_QLOG_CC_CONSERVATIVE_SLOW_START,
							   NULL),
			 0);
	assert_int_equal(mpq_qlog_congestion_state_updated(q, MS(2), 1,
							   MPQ_QLOG_CC_CONSERVATIVE_SLOW_START,
							   MPQ_QLOG_CC_CONGESTION_AVOIDANCE, NULL),
			 0);
	assert_int_equal(mpq_qlog_close(q), 0);
	assert_non_null(strstr(m.data, "\"old\":\"slow_start\",\"new\":\"conservative_slow_"
				       "start\",\"path_id\":1"));
	assert_non_null(strstr(m.data, "\"old\":\"conservative_slow_start\",\"new\":"
				       "\"congestion_avoidance\""));
	free(m.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_and_event_names),
		cmocka_unit_test(events_exact),
		cmocka_unit_test(conservative_slow_start_state),
		cmocka_unit_test(frames_array_exact),
		cmocka_unit_test(strings_stay_valid_json),
		cmocka_unit_test(record_larger_than_buffer),
		cmocka_unit_test(times_relative_to_reference),
		cmocka_unit_test(sink_errors_stick),
		cmocka_unit_test(arguments_and_null_trace),
		cmocka_unit_test(header_from_packet),
		cmocka_unit_test(json_writer),
		cmocka_unit_test(checker_is_strict),
		cmocka_unit_test(file_sinks_give_back_the_same_bytes),
		cmocka_unit_test(python_json_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
