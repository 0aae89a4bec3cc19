/* Reassembly buffer: order, overlap, duplicates, ring wrap, limits, and a seeded shuffle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "quic/rob.h"

/* Consumes everything readable and checks it equals |want|. */
static void expect_read(mpq_rob *rob, const char *want)
{
	size_t len = strlen(want), got = 0;
	const uint8_t *p;
	size_t n;
	while ((n = mpq_rob_peek(rob, &p)) > 0) {
		assert_true(got + n <= len);
		assert_memory_equal(p, want + got, n);
		assert_int_equal(mpq_rob_consume(rob, n), 0);
		got += n;
	}
	assert_int_equal(got, len);
}

static int push_str(mpq_rob *rob, uint64_t offset, const char *s)
{
	return mpq_rob_push(rob, offset, (const uint8_t *)s, strlen(s));
}

static void in_order(void **state)
{
	(void)state;
	mpq_rob rob;
	assert_int_equal(mpq_rob_init(&rob, 64), 0);
	assert_int_equal(push_str(&rob, 0, "hello"), 0);
	assert_int_equal(push_str(&rob, 5, " world"), 0);
	expect_read(&rob, "hello world");
	assert_int_equal(mpq_rob_read_offset(&rob), 11);
	assert_int_equal(mpq_rob_push(&rob, 11, NULL, 0), 0);
	expect_read(&rob, "");
	mpq_rob_free(&rob);
	assert_int_equal(mpq_rob_init(&rob, 0), MPQ_ERR_INVALID_ARGUMENT);
}

static void reversed(void **state)
{
	(void)state;
	mpq_rob rob;
	const uint8_t *p;
	assert_int_equal(mpq_rob_init(&rob, 64), 0);
	assert_int_equal(push_str(&rob, 8, "ijkl"), 0);
	assert_int_equal(push_str(&rob, 4, "efgh"), 0);
	assert_int_equal(mpq_rob_peek(&rob, &p), 0); /* hole at 0..3 */
	assert_int_equal(mpq_rob_consume(&rob, 1), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(push_str(&rob, 0, "abcd"), 0);
	expect_read(&rob, "abcdefghijkl");
	mpq_rob_free(&rob);
}

static void overlapping_and_duplicate(void **state)
{
	(void)state;
	mpq_rob rob;
	assert_int_equal(mpq_rob_init(&rob, 64), 0);
	assert_int_equal(push_str(&rob, 5, "fghij"), 0);
	assert_int_equal(push_str(&rob, 5, "fghij"), 0);      /* duplicate */
	assert_int_equal(push_str(&rob, 3, "defghijklm"), 0); /* covers both sides */
	assert_int_equal(push_str(&rob, 0, "abcde"), 0);      /* overlaps the start */
	assert_int_equal(mpq_rob_consume(&rob, 14), MPQ_ERR_INVALID_ARGUMENT);
	expect_read(&rob, "abcdefghijklm");

	/* Old data is ignored; data straddling the read offset keeps its new part. */
	assert_int_equal(push_str(&rob, 0, "abcdefghij"), 0);
	expect_read(&rob, "");
	assert_int_equal(push_str(&rob, 10, "klmnop"), 0);
	expect_read(&rob, "nop");
	assert_int_equal(mpq_rob_read_offset(&rob), 16);
	mpq_rob_free(&rob);
}

static void wrap_around(void **state)
{
	(void)state;
	mpq_rob rob;
	const uint8_t *p;
	assert_int_equal(mpq_rob_init(&rob, 16), 0);
	assert_int_equal(push_str(&rob, 0, "0123456789ab"), 0);
	assert_int_equal(mpq_rob_consume(&rob, 12), 0);
	assert_int_equal(push_str(&rob, 17, "HIJKLMNOPQR"), 0); /* 17..27 wraps at 16 */
	assert_int_equal(push_str(&rob, 12, "CDEFG"), 0);
	assert_int_equal(mpq_rob_peek(&rob, &p), 4); /* up to the ring end */
	assert_memory_equal(p, "CDEF", 4);
	assert_int_equal(mpq_rob_consume(&rob, 4), 0);
	assert_int_equal(mpq_rob_peek(&rob, &p), 12);
	assert_memory_equal(p, "GHIJKLMNOPQR", 12);

	/* One consume may cross the wrap. */
	assert_int_equal(mpq_rob_consume(&rob, 12), 0);
	assert_int_equal(push_str(&rob, 28, "0123456789abcdef"), 0);
	assert_int_equal(mpq_rob_consume(&rob, 16), 0);
	assert_int_equal(mpq_rob_read_offset(&rob), 44);
	mpq_rob_free(&rob);
}

static void over_limit_rejected(void **state)
{
	(void)state;
	mpq_rob rob;
	assert_int_equal(mpq_rob_init(&rob, 16), 0);
	assert_int_equal(push_str(&rob, 10, "0123456"), MPQ_ERR_NOBUF); /* ends at 17 */
	assert_int_equal(push_str(&rob, 0, "0123456789abcdef"), 0);	/* ends at 16 */
	assert_int_equal(mpq_rob_consume(&rob, 8), 0);
	assert_int_equal(push_str(&rob, 20, "xxxxx"), MPQ_ERR_NOBUF); /* ends at 25 */
	assert_int_equal(push_str(&rob, 16, "ghijklmn"), 0);	      /* ends at 24 */
	assert_int_equal(mpq_rob_push(&rob, UINT64_MAX - 1, (const uint8_t *)"ab", 2),
			 MPQ_ERR_NOBUF); /* offset + len wraps */
	expect_read(&rob, "89abcdefghijklmn");
	mpq_rob_free(&rob);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A hostile peer's pattern: the whole window in one-byte fragments, every
 * other byte, last first, then the holes in random order. All of it is taken
 * (a list of runs refused it past one hole per 256 bytes, which closed the
 * connection), the buffer holds no more than the window and an eighth, and
 * every byte reads back. */
static void one_byte_fragments_fill_the_window(void **state)
{
	(void)state;
	enum { MAX = 1 << 20 };
	static uint8_t want[MAX];
	static uint32_t order[MAX / 2];
	uint64_t seed = 7;
	for (size_t i = 0; i < MAX; i++)
		want[i] = (uint8_t)(i * 13 + (i >> 8));
	mpq_rob rob;
	assert_int_equal(mpq_rob_init(&rob, MAX), 0);
	for (size_t k = MAX / 2; k > 0; k--)
		assert_int_equal(mpq_rob_push(&rob, 2 * k - 1, want + 2 * k - 1, 1), 0);
	assert_int_equal(rob.buffered, MAX / 2);
	assert_int_equal(rob.size, MAX); /* memory: the ring, and its bitmap */
	for (size_t i = 0; i < MAX / 2; i++)
		order[i] = (uint32_t)(2 * i);
	for (size_t i = MAX / 2 - 1; i > 0; i--) {
		size_t j = xorshift(&seed) % (i + 1);
		uint32_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	const uint8_t *p;
	bool first = false;
	for (size_t i = 0; i < MAX / 2; i++) {
		assert_int_equal(mpq_rob_push(&rob, order[i], want + order[i], 1), 0);
		first |= order[i] == 0;
		if (!first)
			assert_int_equal(mpq_rob_peek(&rob, &p), 0);
	}
	assert_int_equal(rob.buffered, MAX);
	assert_int_equal(mpq_rob_peek(&rob, &p), MAX);
	assert_memory_equal(p, want, MAX);
	assert_int_equal(mpq_rob_consume(&rob, MAX), 0);
	assert_true(mpq_rob_empty(&rob));
	mpq_rob_free(&rob);
}


#define MSG_LEN 40000
#define MAX_PIECES 4096

struct piece {
	uint32_t off, len;
};

/* Cuts [0, MSG_LEN) into overlapping pieces of up to |maxlen| bytes, each
 * starting at or before the end of the previous one, then shuffles them. */
static size_t cut(struct piece *pc, uint32_t maxlen, uint64_t *seed)
{
	size_t n = 0;
	uint32_t end = 0;
	while (end < MSG_LEN) {
		uint32_t back = (uint32_t)(xorshift(seed) % 32);
		uint32_t off = end > back ? end - back : 0;
		uint32_t len = 1 + (uint32_t)(xorshift(seed) % maxlen);
		if (off + len > MSG_LEN)
			len = MSG_LEN - off;
		if (off + len <= end)
			continue;
		assert_true(n < MAX_PIECES);
		pc[n++] = (struct piece){off, len};
		end = off + len;
	}
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = xorshift(seed) % (i + 1);
		struct piece t = pc[i];
		pc[i] = pc[j];
		pc[j] = t;
	}
	return n;
}

/* Delivers the pieces in random order, some twice, with a buffer smaller than
 * the message: pieces past the window are refused and retried later. The
 * reader drains after every push. */
static void deliver_shuffled(size_t size, uint32_t maxlen, uint64_t seed)
{
	static uint8_t msg[MSG_LEN], out[MSG_LEN];
	static struct piece pc[MAX_PIECES];
	size_t npc = cut(pc, maxlen, &seed);
	size_t got = 0;
	mpq_rob rob;

	for (size_t i = 0; i < MSG_LEN; i++)
		msg[i] = (uint8_t)xorshift(&seed);
	assert_int_equal(mpq_rob_init(&rob, size), 0);
	while (got < MSG_LEN) {
		size_t k = xorshift(&seed) % npc;
		int rv = mpq_rob_push(&rob, pc[k].off, msg + pc[k].off, pc[k].len);
		if (rv == MPQ_ERR_NOBUF)
			continue;
		assert_int_equal(rv, 0);
		const uint8_t *p;
		size_t n;
		while ((n = mpq_rob_peek(&rob, &p)) > 0) {
			memcpy(out + got, p, n);
			got += n;
			assert_int_equal(mpq_rob_consume(&rob, n), 0);
		}
		assert_int_equal(mpq_rob_read_offset(&rob), got);
	}
	assert_memory_equal(out, msg, MSG_LEN);
	mpq_rob_free(&rob);
}

static void randomized_pieces(void **state)
{
	(void)state;
	deliver_shuffled(MSG_LEN, 300, 0x9e3779b97f4a7c15ULL); /* all fits */
	deliver_shuffled(4096, 600, 0x243f6a8885a308d3ULL);
	deliver_shuffled(1000, 200, 0x13198a2e03707344ULL); /* size not a power of two */
}

/* The ring grows as data lands further ahead, keeping what it holds: one
 * byte out of order costs the first 1 KiB, not the window. */
static void ring_grows_as_data_spreads(void **state)
{
	(void)state;
	enum { MAX = 1 << 20, FAR = 300000, TOTAL = FAR + 1000 };
	static uint8_t want[TOTAL];
	for (size_t i = 0; i < TOTAL; i++)
		want[i] = (uint8_t)(i * 7 + (i >> 9));
	mpq_rob rob;
	assert_int_equal(mpq_rob_init(&rob, MAX), 0);
	assert_int_equal(rob.size, MPQ_ROB_FIRST_SIZE);
	/* Wraps the first ring after a skip, then forces two doublings. */
	assert_int_equal(mpq_rob_skip_to(&rob, 60000), 0);
	assert_int_equal(mpq_rob_push(&rob, 60010, want + 60010, 10000), 0);
	assert_int_equal(rob.size, 16 * 1024); /* 10,010 bytes from the read offset */
	assert_int_equal(mpq_rob_push(&rob, FAR, want + FAR, TOTAL - FAR), 0);
	assert_int_equal(rob.size, 256 * 1024);
	assert_int_equal(mpq_rob_push(&rob, MAX + 60000, want, 1), MPQ_ERR_NOBUF);
	/* The holes filled in pieces: every byte reads back where it belongs. */
	for (size_t off = 60000; off < TOTAL; off += 4093) {
		size_t n = TOTAL - off < 4093 ? TOTAL - off : 4093;
		assert_int_equal(mpq_rob_push(&rob, off, want + off, n), 0);
	}
	size_t got = 60000, n;
	const uint8_t *p;
	while ((n = mpq_rob_peek(&rob, &p)) > 0) {
		assert_true(got + n <= TOTAL);
		assert_memory_equal(p, want + got, n);
		assert_int_equal(mpq_rob_consume(&rob, n), 0);
		got += n;
	}
	assert_int_equal(got, TOTAL);
	mpq_rob_free(&rob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_grows_as_data_spreads),
		cmocka_unit_test(in_order),
		cmocka_unit_test(reversed),
		cmocka_unit_test(overlapping_and_duplicate),
		cmocka_unit_test(wrap_around),
		cmocka_unit_test(over_limit_rejected),
		cmocka_unit_test(one_byte_fragments_fill_the_window),
		cmocka_unit_test(randomized_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
