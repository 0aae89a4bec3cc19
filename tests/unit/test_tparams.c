/* Transport parameters: round trips, omitted defaults, every rejection rule, GREASE, truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "quic/tparams.h"
#include "quic/wire.h"

#define BAD MPQ_ERR_TRANSPORT_PARAM

static void set_cid(mpq_cid *cid, uint8_t len, uint8_t first)
{
	cid->len = len;
	for (uint8_t i = 0; i < len; i++)
		cid->data[i] = (uint8_t)(first + i);
}

/* What a client sends: every parameter a client may send, none at its default. */
static void client_set(mpq_tparams *tp)
{
	mpq_tparams_default(tp);
	tp->max_idle_timeout = 30000;
	tp->max_udp_payload_size = 1472;
	tp->initial_max_data = 1 << 20;
	tp->initial_max_stream_data_bidi_local = 1 << 18;
	tp->initial_max_stream_data_bidi_remote = 1 << 17;
	tp->initial_max_stream_data_uni = 1 << 16;
	tp->initial_max_streams_bidi = 100;
	tp->initial_max_streams_uni = 3;
	tp->ack_delay_exponent = 10;
	tp->max_ack_delay = 200;
	tp->active_connection_id_limit = 8;
	tp->disable_active_migration = 1;
	tp->has_initial_scid = 1;
	set_cid(&tp->initial_scid, MPQ_MAX_CIDLEN, 0x20);
	tp->has_initial_max_path_id = 1;
	tp->initial_max_path_id = 7;
	tp->has_add_address = 1;
}

/* The same plus every server-only parameter. */
static void server_set(mpq_tparams *tp)
{
	static const uint8_t v4[4] = {192, 0, 2, 1};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	mpq_preferred_address *pa = &tp->preferred_address;

	client_set(tp);
	tp->has_original_dcid = 1;
	set_cid(&tp->original_dcid, 8, 0xa0);
	tp->has_retry_scid = 1;
	set_cid(&tp->retry_scid, 5, 0xb0);
	tp->has_stateless_reset_token = 1;
	memset(tp->stateless_reset_token, 0x5a, sizeof(tp->stateless_reset_token));
	tp->has_preferred_address = 1;
	memcpy(pa->ipv4, v4, sizeof(v4));
	pa->ipv4_port = 4433;
	memcpy(pa->ipv6, v6, sizeof(v6));
	pa->ipv6_port = 4434;
	set_cid(&pa->cid, 4, 0xc0);
	memset(pa->reset_token, 0x6b, sizeof(pa->reset_token));
}

static void round_trip_as_server(void **state)
{
	(void)state;
	mpq_tparams in, out;
	uint8_t buf[512];
	server_set(&in);
	int n = mpq_tparams_encode(buf, sizeof(buf), &in, true);
	assert_true(n > 0);
	assert_int_equal(mpq_tparams_decode(&out, buf, (size_t)n, true), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	/* A server never accepts these from a client. */
	assert_int_equal(mpq_tparams_decode(&out, buf, (size_t)n, false), BAD);
}

static void round_trip_as_client(void **state)
{
	(void)state;
	mpq_tparams in, want, out;
	uint8_t buf[512];
	server_set(&in); /* server-only fields set, but a client omits them */
	client_set(&want);
	int n = mpq_tparams_encode(buf, sizeof(buf), &in, false);
	assert_true(n > 0);
	assert_int_equal(mpq_tparams_decode(&out, buf, (size_t)n, false), 0);
	assert_memory_equal(&want, &out, sizeof(want));
	assert_int_equal(mpq_tparams_decode(&out, buf, (size_t)n, true), 0);
	assert_memory_equal(&want, &out, sizeof(want));
}

static void defaults_are_omitted(void **state)
{
	(void)state;
	mpq_tparams tp, out;
	uint8_t buf[64];
	mpq_tparams_default(&tp);
	assert_int_equal(mpq_tparams_encode(buf, sizeof(buf), &tp, true), 0);
	assert_int_equal(mpq_tparams_encode(buf, sizeof(buf), &tp, false), 0);
	assert_int_equal(mpq_tparams_decode(&out, buf, 0, true), 0);
	assert_memory_equal(&tp, &out, sizeof(tp));
	assert_int_equal(out.max_udp_payload_size, 65527);
	assert_int_equal(out.ack_delay_exponent, 3);
	assert_int_equal(out.max_ack_delay, 25);
	assert_int_equal(out.active_connection_id_limit, 2);

	/* Exact bytes: one changed integer, and initial_max_path_id 0, which
	 * counts by its presence. */
	tp.max_udp_payload_size = 1200;
	tp.has_initial_max_path_id = 1;
	assert_int_equal(mpq_tparams_encode(buf, sizeof(buf), &tp, false), 7);
	assert_memory_equal(buf, "\x03\x02\x44\xb0\x3e\x01\x00", 7);
}

/* docs/add_address.md: id 0x0addad00 (4-byte varint 8a dd ad 00), empty value,
 * sent by either role, absent unless enabled. */
static void add_address_parameter(void **state)
{
	(void)state;
	mpq_tparams tp, out;
	uint8_t buf[64];

	/* Not a GREASE id, and above 0x3f (Standards Action or IESG Approval only). */
	assert_int_not_equal(MPQ_TP_ADD_ADDRESS % 31, 27);
	assert_int_equal(mpq_varint_len(MPQ_TP_ADD_ADDRESS), 4);

	mpq_tparams_default(&tp);
	assert_int_equal(tp.has_add_address, 0);
	tp.has_add_address = 1;
	for (int server = 0; server < 2; server++) {
		assert_int_equal(mpq_tparams_encode(buf, sizeof(buf), &tp, server), 5);
		assert_memory_equal(buf, "\x8a\xdd\xad\x00\x00", 5);
		for (int from_server = 0; from_server < 2; from_server++) {
			memset(&out, 0xee, sizeof(out));
			assert_int_equal(mpq_tparams_decode(&out, buf, 5, from_server), 0);
			assert_memory_equal(&tp, &out, sizeof(tp));
		}
	}
	/* Absent: not announced, and the rest of the list decodes the same. */
	assert_int_equal(mpq_tparams_decode(&out, (const uint8_t *)"\x04\x01\x05", 3, true), 0);
	assert_int_equal(out.has_add_address, 0);
	assert_int_equal(out.initial_max_data, 5);
	/* The id in a non-minimal 8-byte varint is still the same parameter. */
	assert_int_equal(mpq_tparams_decode(&out,
					    (const uint8_t
						     *)"\xc0\x00\x00\x00\x0a\xdd\xad\x00\x00",
					    9, false),
			 0);
	assert_int_equal(out.has_add_address, 1);
	/* Neighbouring ids are unknown, skipped whatever they hold. */
	assert_int_equal(mpq_tparams_decode(&out, (const uint8_t *)"\x8a\xdd\xad\x01\x01\x07", 6,
					    false),
			 0);
	assert_int_equal(out.has_add_address, 0);
}

static void encode_errors(void **state)
{
	(void)state;
	mpq_tparams tp;
	uint8_t buf[512];
	server_set(&tp);
	int n = mpq_tparams_encode(buf, sizeof(buf), &tp, true);
	assert_true(n > 0);
	for (int cap = 0; cap < n; cap++)
		assert_int_equal(mpq_tparams_encode(buf, (size_t)cap, &tp, true), MPQ_ERR_NOBUF);

#define EXPECT_INVALID(field, value) \
	do { \
		server_set(&tp); \
		tp.field = value; \
		assert_int_equal(mpq_tparams_encode(buf, sizeof(buf), &tp, true), \
				 MPQ_ERR_INVALID_ARGUMENT); \
	} while (0)
	EXPECT_INVALID(max_udp_payload_size, 1199);
	EXPECT_INVALID(ack_delay_exponent, 21);
	EXPECT_INVALID(max_ack_delay, 1 << 14);
	EXPECT_INVALID(active_connection_id_limit, 1);
	EXPECT_INVALID(initial_max_streams_bidi, (1ULL << 60) + 1);
	EXPECT_INVALID(initial_max_streams_uni, (1ULL << 60) + 1);
	EXPECT_INVALID(initial_max_path_id, 1ULL << 32);
	EXPECT_INVALID(initial_max_data, MPQ_MAX_VARINT + 1);
	EXPECT_INVALID(initial_scid.len, MPQ_MAX_CIDLEN + 1);
	EXPECT_INVALID(original_dcid.len, MPQ_MAX_CIDLEN + 1);
	EXPECT_INVALID(retry_scid.len, MPQ_MAX_CIDLEN + 1);
	EXPECT_INVALID(preferred_address.cid.len, 0);
	EXPECT_INVALID(preferred_address.cid.len, MPQ_MAX_CIDLEN + 1);
#undef EXPECT_INVALID
}

/* --- hand-built parameter lists --- */

/* Appends one raw parameter: id, length |len| and |len| bytes of |value|. */
static void raw(mpq_writer *w, uint64_t id, const void *value, size_t len)
{
	assert_int_equal(mpq_write_varint(w, id), 0);
	assert_int_equal(mpq_write_varint(w, len), 0);
	assert_int_equal(mpq_write_bytes(w, value, len), 0);
}

/* Appends an integer parameter whose value is encoded in |enc| bytes, followed
 * by |extra| stray bytes counted in the length. */
static void int_param(mpq_writer *w, uint64_t id, uint64_t v, size_t enc, size_t extra)
{
	assert_int_equal(mpq_write_varint(w, id), 0);
	assert_int_equal(mpq_write_varint(w, enc + extra), 0);
	assert_int_equal(mpq_write_varint_len(w, v, enc), 0);
	for (size_t i = 0; i < extra; i++)
		assert_int_equal(mpq_write_u8(w, 0), 0);
}

static int decode_built(const uint8_t *buf, const mpq_writer *w, bool from_server,
			mpq_tparams *out)
{
	return mpq_tparams_decode(out, buf, (size_t)(w->pos - buf), from_server);
}

/* Decodes one integer parameter holding |v| as both roles and expects |want|. */
static void expect_int(uint64_t id, uint64_t v, int want)
{
	uint8_t buf[32];
	mpq_writer w;
	mpq_tparams out;
	mpq_writer_init(&w, buf, sizeof(buf));
	int_param(&w, id, v, mpq_varint_len(v), 0);
	assert_int_equal(decode_built(buf, &w, true, &out), want);
	assert_int_equal(decode_built(buf, &w, false, &out), want);
}

static void integer_ranges(void **state)
{
	(void)state;
	expect_int(MPQ_TP_MAX_UDP_PAYLOAD_SIZE, 1199, BAD);
	expect_int(MPQ_TP_MAX_UDP_PAYLOAD_SIZE, 1200, 0);
	expect_int(MPQ_TP_ACK_DELAY_EXPONENT, 21, BAD);
	expect_int(MPQ_TP_ACK_DELAY_EXPONENT, 20, 0);
	expect_int(MPQ_TP_MAX_ACK_DELAY, 1 << 14, BAD);
	expect_int(MPQ_TP_MAX_ACK_DELAY, (1 << 14) - 1, 0);
	expect_int(MPQ_TP_ACTIVE_CONNECTION_ID_LIMIT, 1, BAD);
	expect_int(MPQ_TP_ACTIVE_CONNECTION_ID_LIMIT, 2, 0);
	expect_int(MPQ_TP_INITIAL_MAX_STREAMS_BIDI, (1ULL << 60) + 1, BAD);
	expect_int(MPQ_TP_INITIAL_MAX_STREAMS_BIDI, 1ULL << 60, 0);
	expect_int(MPQ_TP_INITIAL_MAX_STREAMS_UNI, (1ULL << 60) + 1, BAD);
	expect_int(MPQ_TP_INITIAL_MAX_STREAMS_UNI, 1ULL << 60, 0);
	expect_int(MPQ_TP_INITIAL_MAX_PATH_ID, 1ULL << 32, BAD);
	expect_int(MPQ_TP_INITIAL_MAX_PATH_ID, UINT32_MAX, 0);
	expect_int(MPQ_TP_MAX_IDLE_TIMEOUT, MPQ_MAX_VARINT, 0);
}

static void integer_must_fill_length(void **state)
{
	(void)state;
	uint8_t buf[32];
	mpq_writer w;
	mpq_tparams out;

	/* A non-minimal encoding that fills the length is fine. */
	mpq_writer_init(&w, buf, sizeof(buf));
	int_param(&w, MPQ_TP_INITIAL_MAX_DATA, 5, 4, 0);
	assert_int_equal(decode_built(buf, &w, true, &out), 0);
	assert_int_equal(out.initial_max_data, 5);

	/* A byte left over after the varint. */
	mpq_writer_init(&w, buf, sizeof(buf));
	int_param(&w, MPQ_TP_INITIAL_MAX_DATA, 5, 1, 1);
	assert_int_equal(decode_built(buf, &w, true, &out), BAD);

	/* A length shorter than the varint: 01 01 40, with a byte after. */
	assert_int_equal(mpq_tparams_decode(&out, (const uint8_t *)"\x01\x01\x40\x05", 4, true),
			 BAD);
	/* Zero length. */
	assert_int_equal(mpq_tparams_decode(&out, (const uint8_t *)"\x01\x00", 2, true), BAD);
}

static void duplicates_rejected(void **state)
{
	(void)state;
	uint8_t buf[64];
	mpq_writer w;
	mpq_tparams out;
	mpq_writer_init(&w, buf, sizeof(buf));
	int_param(&w, MPQ_TP_INITIAL_MAX_DATA, 100, 2, 0);
	int_param(&w, MPQ_TP_MAX_IDLE_TIMEOUT, 100, 2, 0);
	int_param(&w, MPQ_TP_INITIAL_MAX_DATA, 100, 2, 0); /* same value, still a duplicate */
	assert_int_equal(decode_built(buf, &w, true, &out), BAD);

	mpq_writer_init(&w, buf, sizeof(buf));
	raw(&w, MPQ_TP_DISABLE_ACTIVE_MIGRATION, NULL, 0);
	raw(&w, MPQ_TP_DISABLE_ACTIVE_MIGRATION, NULL, 0);
	assert_int_equal(decode_built(buf, &w, false, &out), BAD);

	mpq_writer_init(&w, buf, sizeof(buf));
	int_param(&w, MPQ_TP_INITIAL_MAX_PATH_ID, 1, 1, 0);
	int_param(&w, MPQ_TP_INITIAL_MAX_PATH_ID, 2, 1, 0);
	assert_int_equal(decode_built(buf, &w, false, &out), BAD);

	/* add_address twice, from either role, with other parameters between. */
	for (int from_server = 0; from_server < 2; from_server++) {
		mpq_writer_init(&w, buf, sizeof(buf));
		raw(&w, MPQ_TP_ADD_ADDRESS, NULL, 0);
		assert_int_equal(decode_built(buf, &w, from_server, &out), 0);
		int_param(&w, MPQ_TP_INITIAL_MAX_PATH_ID, 1, 1, 0);
		raw(&w, 31 * 5 + 27, NULL, 0);
		assert_int_equal(decode_built(buf, &w, from_server, &out), 0);
		raw(&w, MPQ_TP_ADD_ADDRESS, NULL, 0);
		assert_int_equal(decode_built(buf, &w, from_server, &out), BAD);
	}
	/* Its duplicate bit is its own: one each of add_address and every id
	 * below 64 it could share a bit with is fine. */
	mpq_writer_init(&w, buf, sizeof(buf));
	raw(&w, MPQ_TP_ADD_ADDRESS, NULL, 0);
	raw(&w, MPQ_TP_DISABLE_ACTIVE_MIGRATION, NULL, 0);
	int_param(&w, MPQ_TP_INITIAL_MAX_PATH_ID, 1, 1, 0);
	raw(&w, MPQ_TP_ORIGINAL_DCID, NULL, 0);
	assert_int_equal(decode_built(buf, &w, true, &out), 0);
	assert_int_equal(out.has_add_address, 1);
	assert_int_equal(out.disable_active_migration, 1);
}

/* Decodes a list holding only one raw parameter and expects |want|. */
static void expect_raw(uint64_t id, const void *value, size_t len, bool from_server, int want)
{
	uint8_t buf[128];
	mpq_writer w;
	mpq_tparams out;
	mpq_writer_init(&w, buf, sizeof(buf));
	raw(&w, id, value, len);
	assert_int_equal(decode_built(buf, &w, from_server, &out), want);
}

/* preferred_address: 4 + 2 + 16 + 2 + 1 + cid + 16, cid 1..20 bytes. */
static size_t preferred_address(uint8_t *v, uint8_t cidlen)
{
	memset(v, 0x11, 4 + 2 + 16 + 2);
	v[24] = cidlen;
	memset(v + 25, 0x22, cidlen + 16u);
	return 25u + cidlen + 16u;
}

static void server_only_from_client(void **state)
{
	(void)state;
	uint8_t bytes[64] = {0};
	size_t pa_len = preferred_address(bytes, 4);

	expect_raw(MPQ_TP_PREFERRED_ADDRESS, bytes, pa_len, true, 0);
	expect_raw(MPQ_TP_PREFERRED_ADDRESS, bytes, pa_len, false, BAD);
	expect_raw(MPQ_TP_ORIGINAL_DCID, bytes, 8, true, 0);
	expect_raw(MPQ_TP_ORIGINAL_DCID, bytes, 8, false, BAD);
	expect_raw(MPQ_TP_STATELESS_RESET_TOKEN, bytes, 16, true, 0);
	expect_raw(MPQ_TP_STATELESS_RESET_TOKEN, bytes, 16, false, BAD);
	expect_raw(MPQ_TP_RETRY_SCID, bytes, 5, true, 0);
	expect_raw(MPQ_TP_RETRY_SCID, bytes, 5, false, BAD);
	expect_raw(MPQ_TP_INITIAL_SCID, bytes, 5, false, 0); /* not server-only */
}

static void fixed_layouts(void **state)
{
	(void)state;
	uint8_t zeros[32] = {0};

	/* disable_active_migration and add_address carry nothing. */
	expect_raw(MPQ_TP_DISABLE_ACTIVE_MIGRATION, zeros, 0, false, 0);
	expect_raw(MPQ_TP_DISABLE_ACTIVE_MIGRATION, zeros, 1, false, BAD);
	for (int from_server = 0; from_server < 2; from_server++) {
		expect_raw(MPQ_TP_ADD_ADDRESS, zeros, 0, from_server, 0);
		expect_raw(MPQ_TP_ADD_ADDRESS, zeros, 1, from_server, BAD);
		expect_raw(MPQ_TP_ADD_ADDRESS, "\x01", 1, from_server, BAD);
		expect_raw(MPQ_TP_ADD_ADDRESS, zeros, 16, from_server, BAD);
	}
	/* stateless_reset_token is exactly 16 bytes. */
	expect_raw(MPQ_TP_STATELESS_RESET_TOKEN, zeros, 15, true, BAD);
	expect_raw(MPQ_TP_STATELESS_RESET_TOKEN, zeros, 17, true, BAD);
	/* CIDs: up to 20 bytes, zero-length allowed. */
	expect_raw(MPQ_TP_INITIAL_SCID, zeros, 0, false, 0);
	expect_raw(MPQ_TP_INITIAL_SCID, zeros, 20, false, 0);
	expect_raw(MPQ_TP_INITIAL_SCID, zeros, 21, false, BAD);
	expect_raw(MPQ_TP_ORIGINAL_DCID, zeros, 21, true, BAD);
	expect_raw(MPQ_TP_RETRY_SCID, zeros, 21, true, BAD);
}

static void preferred_address_layout(void **state)
{
	(void)state;
	uint8_t buf[128], v[80];
	mpq_writer w;
	mpq_tparams out;
	const uint8_t cidlens[] = {0, 1, 20, 21};
	const int want[] = {BAD, 0, 0, BAD};

	for (size_t i = 0; i < sizeof(cidlens); i++) {
		size_t n = preferred_address(v, cidlens[i]);
		expect_raw(MPQ_TP_PREFERRED_ADDRESS, v, n, true, want[i]);
		expect_raw(MPQ_TP_PREFERRED_ADDRESS, v, n - 1, true, BAD);
		expect_raw(MPQ_TP_PREFERRED_ADDRESS, v, n + 1, true, BAD);
	}
	size_t n = preferred_address(v, 3);
	mpq_writer_init(&w, buf, sizeof(buf));
	raw(&w, MPQ_TP_PREFERRED_ADDRESS, v, n);
	assert_int_equal(decode_built(buf, &w, true, &out), 0);
	assert_int_equal(out.preferred_address.ipv4_port, 0x1111);
	assert_int_equal(out.preferred_address.cid.len, 3);
	assert_memory_equal(out.preferred_address.cid.data, "\x22\x22\x22", 3);
}

static void grease_and_unknown_skipped(void **state)
{
	(void)state;
	uint8_t buf[64];
	mpq_writer w;
	mpq_tparams out, want;
	mpq_writer_init(&w, buf, sizeof(buf));
	raw(&w, 31 * 0 + 27, "\x01\x02\x03\x04\x05", 5);
	int_param(&w, MPQ_TP_INITIAL_MAX_DATA, 1000, 2, 0);
	raw(&w, 31ULL * 1000 + 27, NULL, 0);
	raw(&w, 31ULL * (1ULL << 40) + 27, "\xff\xff\xff", 3);
	raw(&w, 0x11, "\x00", 1); /* unknown, and sent twice: ignored both times */
	raw(&w, 0x11, "\x00", 1);
	assert_int_equal(decode_built(buf, &w, false, &out), 0);
	mpq_tparams_default(&want);
	want.initial_max_data = 1000;
	assert_memory_equal(&want, &out, sizeof(want));

	/* An unknown parameter still has to fit. */
	mpq_writer_init(&w, buf, sizeof(buf));
	raw(&w, 27, "\x01\x02\x03", 3);
	assert_int_equal(decode_built(buf, &w, false, &out), 0);
	assert_int_equal(mpq_tparams_decode(&out, buf, (size_t)(w.pos - buf) - 1, false), BAD);
}

/* Cutting the list anywhere but between two parameters is rejected. */
static void every_truncation_rejected(void **state)
{
	(void)state;
	mpq_tparams tp, out;
	uint8_t buf[512];
	bool boundary[512] = {false};
	server_set(&tp);
	int n = mpq_tparams_encode(buf, sizeof(buf), &tp, true);
	assert_true(n > 0);

	mpq_reader r;
	mpq_reader_init(&r, buf, (size_t)n);
	boundary[0] = true;
	while (mpq_reader_left(&r)) {
		uint64_t id, len;
		const uint8_t *v;
		assert_int_equal(mpq_read_varint(&r, &id), 0);
		assert_int_equal(mpq_read_varint(&r, &len), 0);
		assert_int_equal(mpq_read_span(&r, &v, (size_t)len), 0);
		boundary[r.pos - buf] = true;
	}
	for (int cut = 0; cut < n; cut++)
		assert_int_equal(mpq_tparams_decode(&out, buf, (size_t)cut, true),
				 boundary[cut] ? 0 : BAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_as_server),
		cmocka_unit_test(round_trip_as_client),
		cmocka_unit_test(defaults_are_omitted),
		cmocka_unit_test(add_address_parameter),
		cmocka_unit_test(encode_errors),
		cmocka_unit_test(integer_ranges),
		cmocka_unit_test(integer_must_fill_length),
		cmocka_unit_test(duplicates_rejected),
		cmocka_unit_test(server_only_from_client),
		cmocka_unit_test(fixed_layouts),
		cmocka_unit_test(preferred_address_layout),
		cmocka_unit_test(grease_and_unknown_skipped),
		cmocka_unit_test(every_truncation_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
