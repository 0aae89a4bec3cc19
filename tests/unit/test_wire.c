/* Varints and bounded reads/writes, with the RFC 9000 §16 / Appendix A.1 examples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "quic/wire.h"

static void decode_one(const uint8_t *in, size_t len, uint64_t want)
{
	mpq_reader r;
	uint64_t v = 0;
	mpq_reader_init(&r, in, len);
	assert_int_equal(mpq_read_varint(&r, &v), 0);
	assert_int_equal(v, want);
	assert_int_equal(mpq_reader_left(&r), 0);
}

static void rfc9000_varint_examples(void **state)
{
	(void)state;
	decode_one((const uint8_t *)"\xc2\x19\x7c\x5e\xff\x14\xe8\x8c", 8, 151288809941952652ULL);
	decode_one((const uint8_t *)"\x9d\x7f\x3e\x7d", 4, 494878333);
	decode_one((const uint8_t *)"\x7b\xbd", 2, 15293);
	decode_one((const uint8_t *)"\x25", 1, 37);
	decode_one((const uint8_t *)"\x40\x25", 2, 37); /* non-minimal is legal */
}

static void varint_round_trip_and_lengths(void **state)
{
	(void)state;
	static const uint64_t vals[] = {0,     63,	   64,	       16383,
					16384, 1073741823, 1073741824, MPQ_MAX_VARINT};
	static const size_t lens[] = {1, 1, 2, 2, 4, 4, 8, 8};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint8_t buf[8];
		mpq_writer w;
		mpq_writer_init(&w, buf, sizeof(buf));
		assert_int_equal(mpq_write_varint(&w, vals[i]), 0);
		assert_int_equal(8 - mpq_writer_left(&w), lens[i]);
		assert_int_equal(mpq_varint_len(vals[i]), lens[i]);
		decode_one(buf, lens[i], vals[i]);
	}
}

static void varint_errors(void **state)
{
	(void)state;
	uint8_t buf[8];
	mpq_writer w;
	mpq_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(mpq_write_varint(&w, MPQ_MAX_VARINT + 1), MPQ_ERR_INVALID_ARGUMENT);
	mpq_writer_init(&w, buf, 1);
	assert_int_equal(mpq_write_varint(&w, 64), MPQ_ERR_NOBUF);
	assert_ptr_equal(w.pos, buf); /* unchanged on failure */
	mpq_writer_init(&w, buf, 8);
	assert_int_equal(mpq_write_varint_len(&w, 70000, 2), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_write_varint_len(&w, 5, 4), 0);
	assert_memory_equal(buf, "\x80\x00\x00\x05", 4);

	mpq_reader r;
	uint64_t v;
	mpq_reader_init(&r, (const uint8_t *)"\xc2\x19\x7c", 3);
	assert_int_equal(mpq_read_varint(&r, &v), MPQ_ERR_TRUNCATED);
	assert_int_equal(mpq_reader_left(&r), 3);
	mpq_reader_init(&r, NULL, 0);
	assert_int_equal(mpq_read_varint(&r, &v), MPQ_ERR_TRUNCATED);
}

static void fixed_width_and_spans(void **state)
{
	(void)state;
	uint8_t buf[32];
	mpq_writer w;
	mpq_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(mpq_write_u8(&w, 0xab), 0);
	assert_int_equal(mpq_write_u16(&w, 0x1234), 0);
	assert_int_equal(mpq_write_u32(&w, 0xdeadbeef), 0);
	assert_int_equal(mpq_write_u64(&w, 0x0102030405060708ULL), 0);
	assert_int_equal(mpq_write_bytes(&w, "xyz", 3), 0);
	size_t n = sizeof(buf) - mpq_writer_left(&w);
	assert_int_equal(n, 18);

	mpq_reader r;
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;
	const uint8_t *span;
	mpq_reader_init(&r, buf, n);
	assert_int_equal(mpq_read_u8(&r, &a), 0);
	assert_int_equal(mpq_read_u16(&r, &b), 0);
	assert_int_equal(mpq_read_u32(&r, &c), 0);
	assert_int_equal(mpq_read_u64(&r, &d), 0);
	assert_int_equal(a, 0xab);
	assert_int_equal(b, 0x1234);
	assert_int_equal(c, 0xdeadbeef);
	assert_int_equal(d, 0x0102030405060708ULL);
	assert_int_equal(mpq_read_span(&r, &span, 4), MPQ_ERR_TRUNCATED);
	assert_int_equal(mpq_read_span(&r, &span, 3), 0);
	assert_memory_equal(span, "xyz", 3);
	assert_int_equal(mpq_get_u32(buf + 3), 0xdeadbeef);
}

static void error_mapping(void **state)
{
	(void)state;
	assert_int_equal(mpq_err_to_transport(MPQ_ERR_FRAME_ENCODING),
			 MPQ_TE_FRAME_ENCODING_ERROR);
	assert_int_equal(mpq_err_to_transport(MPQ_ERR_TRANSPORT_PARAM),
			 MPQ_TE_TRANSPORT_PARAMETER_ERROR);
	assert_true(mpq_err_is_fatal(MPQ_ERR_NOMEM));
	assert_false(mpq_err_is_fatal(MPQ_ERR_PROTO));
	assert_string_equal(mpq_strerror(MPQ_ERR_DECRYPT), "decryption failed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc9000_varint_examples),
		cmocka_unit_test(varint_round_trip_and_lengths),
		cmocka_unit_test(varint_errors),
		cmocka_unit_test(fixed_width_and_spans),
		cmocka_unit_test(error_mapping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
