/*
 * Frame codec fuzzer: decodes frames back to back until the input ends or a
 * frame is rejected. Each decoded frame must encode (encoded_len matching the
 * bytes written) to bytes that decode to the same frame and encode again to
 * the same bytes. A rejected frame must leave the reader where it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "quic/frame.h"
#include "quic/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes into |f| pre-filled with |fill|, so a field decode forgets to set
 * shows up as a difference between two fills. */
static int decode_filled(mpq_frame *f, int fill, mpq_reader *r)
{
	memset(f, fill, sizeof(*f));
	return mpq_frame_decode(f, r);
}

static void encode_exact(const mpq_frame *f, uint8_t *buf, size_t len)
{
	mpq_writer w;
	mpq_writer_init(&w, buf, len);
	CHECK(mpq_frame_encode(&w, f) == 0);
	CHECK(mpq_writer_left(&w) == 0);
}

static void round_trip(const mpq_frame *a)
{
	size_t len = mpq_frame_encoded_len(a);
	CHECK(len > 0);
	uint8_t *buf = malloc(len), *again = malloc(len);
	CHECK(buf && again);
	encode_exact(a, buf, len);

	mpq_reader r;
	mpq_frame b;
	mpq_reader_init(&r, buf, len);
	CHECK(decode_filled(&b, 0x55, &r) == 0);
	CHECK(mpq_reader_left(&r) == 0);
	CHECK(mpq_frame_equal(a, &b) && mpq_frame_equal(&b, a));
	CHECK(mpq_frame_encoded_len(&b) == len);

	encode_exact(&b, again, len);
	CHECK(memcmp(buf, again, len) == 0);
	free(buf);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mpq_reader r;
	mpq_reader_init(&r, data, size);
	while (mpq_reader_left(&r) > 0) {
		mpq_reader start = r, twin_r = r;
		mpq_frame a, twin;
		if (decode_filled(&a, 0xaa, &r) != 0) {
			CHECK(r.pos == start.pos && r.end == start.end);
			break;
		}
		CHECK(r.pos > start.pos);
		CHECK(decode_filled(&twin, 0x55, &twin_r) == 0 && twin_r.pos == r.pos);
		CHECK(mpq_frame_equal(&a, &twin));
		CHECK(strcmp(mpq_frame_name(a.type), "unknown") != 0);
		CHECK(mpq_frame_allowed_in(a.type, MPQ_PKT_1RTT));
		round_trip(&a);
	}
	return 0;
}
