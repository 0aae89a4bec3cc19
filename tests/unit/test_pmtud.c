/*
 * The PMTU search of one path (lib/quic/pmtud.c) against a path that carries
 * datagrams up to a given size: the order of the probes, MAX_PROBES losses
 * before a size fails, the peer's and the caller's limits, the raise timer,
 * black hole detection and its false alarms, discovery off.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "quic/pmtud.h"

#define SEC 1000000000ULL
#define V4 28 /* IPv4 and UDP headers */
#define V6 48

/* Runs the search at |ts| against a path carrying |path| bytes, the caller
 * allowing |max|: each probe acknowledged when it fits, lost when not.
 * Records the probes in |seq| (up to |cap|); returns how many were sent. */
static size_t search(mpq_pmtud *m, uint32_t path, uint32_t max, uint64_t ts, uint32_t *seq,
		     size_t cap)
{
	size_t n = 0;
	uint32_t size;
	while ((size = mpq_pmtud_want_probe(m, max, ts)) != 0) {
		assert_true(n < 64);
		if (n < cap)
			seq[n] = size;
		n++;
		mpq_pmtud_on_probe_sent(m);
		if (size <= path)
			mpq_pmtud_on_probe_acked(m, size, ts);
		else
			mpq_pmtud_on_probe_lost(m, size, ts);
	}
	return n;
}

static void jumbo_first_probe(void **state)
{
	(void)state;
	mpq_pmtud m;
	uint32_t seq[8];
	mpq_pmtud_init(&m, 1452, 8972, V4);
	assert_int_equal(search(&m, 8972, 65527, SEC, seq, 8), 1);
	assert_int_equal(seq[0], 8972);
	assert_int_equal(m.size, 8972);
	assert_true(m.complete);
	assert_int_equal(m.raise_at, 0); /* nothing failed: nothing to try again */
}

static void ethernet_after_jumbo_fails(void **state)
{
	(void)state;
	mpq_pmtud m;
	uint32_t seq[16];
	static const uint32_t want[] = {8972, 8972, 8972, 1464, 1472, 2020, 2020, 2020};
	mpq_pmtud_init(&m, 1452, 8972, V4);
	assert_int_equal(search(&m, 1472, 65527, SEC, seq, 16), 8);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(seq[i], want[i]);
	assert_int_equal(m.size, 1472);
	assert_int_equal(m.probes_lost, 6);
	assert_int_equal(m.raise_at, SEC + MPQ_PMTUD_RAISE_TIMER);
}

static void ipv6_sizes(void **state)
{
	(void)state;
	mpq_pmtud m;
	uint32_t seq[16];
	mpq_pmtud_init(&m, 1200, 8952, V6);
	search(&m, 1452, 65527, SEC, seq, 16);
	assert_int_equal(m.size, 1500 - V6);
	assert_int_equal(seq[3], 1280 - V6); /* after the three 8952s, the common sizes */
}

static void peer_and_buffer_limit(void **state)
{
	(void)state;
	mpq_pmtud m;
	uint32_t seq[4];
	mpq_pmtud_init(&m, 1452, 8972, V4);
	assert_int_equal(search(&m, 8972, 4000, SEC, seq, 4), 1);
	assert_int_equal(seq[0], 4000);
	assert_int_equal(m.size, 4000);
}

static void one_loss_is_no_failure(void **state)
{
	(void)state;
	mpq_pmtud m;
	mpq_pmtud_init(&m, 1452, 8972, V4);
	assert_int_equal(mpq_pmtud_want_probe(&m, 65527, SEC), 8972);
	mpq_pmtud_on_probe_sent(&m);
	assert_int_equal(mpq_pmtud_want_probe(&m, 65527, SEC), 0); /* one at a time */
	mpq_pmtud_on_probe_lost(&m, 8972, SEC);
	assert_int_equal(mpq_pmtud_want_probe(&m, 65527, SEC), 8972);
	mpq_pmtud_on_probe_sent(&m);
	mpq_pmtud_on_probe_acked(&m, 8972, SEC);
	assert_int_equal(m.size, 8972);
}

static void raise_timer(void **state)
{
	(void)state;
	mpq_pmtud m;
	uint32_t seq[16];
	mpq_pmtud_init(&m, 1452, 8972, V4);
	search(&m, 1472, 65527, SEC, seq, 16);
	assert_int_equal(mpq_pmtud_want_probe(&m, 65527, SEC + MPQ_PMTUD_RAISE_TIMER - 1), 0);
	/* The path carries jumbo frames by now: the next search finds them at once. */
	assert_int_equal(search(&m, 8972, 65527, SEC + MPQ_PMTUD_RAISE_TIMER, seq, 16), 1);
	assert_int_equal(m.size, 8972);
}

static void black_hole(void **state)
{
	(void)state;
	mpq_pmtud m;
	uint32_t seq[16];
	mpq_pmtud_init(&m, 1452, 8972, V4);
	search(&m, 8972, 65527, SEC, seq, 16);
	mpq_pmtud_on_acked(&m, 8972, 2 * SEC);
	/* Losses of large packets older than the newest acked one: congestion. */
	for (int i = 0; i < 5; i++)
		assert_false(mpq_pmtud_on_losses(&m, 2 * SEC - 1, 3 * SEC));
	/* Small packets keep getting through, large ones sent later do not. */
	mpq_pmtud_on_acked(&m, 1200, 4 * SEC);
	assert_false(mpq_pmtud_on_losses(&m, 3 * SEC, 4 * SEC));
	assert_false(mpq_pmtud_on_losses(&m, 4 * SEC, 5 * SEC));
	assert_true(mpq_pmtud_on_losses(&m, 5 * SEC, 6 * SEC));
	assert_int_equal(m.size, MPQ_PMTUD_BASE);
	assert_int_equal(m.black_holes, 1);
	/* The search starts again below what stopped working: the path now
	 * carries 1500-byte frames. */
	size_t n = search(&m, 1472, 65527, 6 * SEC, seq, 16);
	assert_int_equal(seq[0], 1280 - V4);
	assert_int_equal(m.size, 1472);
	assert_true(n >= 6);
	/* Losses from before the fall back are not a second black hole. */
	for (int i = 0; i < 5; i++)
		assert_false(mpq_pmtud_on_losses(&m, 5 * SEC, 7 * SEC));
}

static void large_ack_clears_suspicion(void **state)
{
	(void)state;
	mpq_pmtud m;
	uint32_t seq[4];
	mpq_pmtud_init(&m, 1452, 8972, V4);
	search(&m, 8972, 65527, SEC, seq, 4);
	assert_false(mpq_pmtud_on_losses(&m, 2 * SEC, 2 * SEC));
	assert_false(mpq_pmtud_on_losses(&m, 3 * SEC, 3 * SEC));
	mpq_pmtud_on_acked(&m, 8972, 3 * SEC + 1);
	assert_false(mpq_pmtud_on_losses(&m, 4 * SEC, 4 * SEC));
	assert_false(mpq_pmtud_on_losses(&m, 5 * SEC, 5 * SEC));
	assert_int_equal(m.size, 8972);
}

static void off(void **state)
{
	(void)state;
	mpq_pmtud m;
	mpq_pmtud_init(&m, 1452, 0, V4);
	assert_false(mpq_pmtud_enabled(&m));
	assert_int_equal(mpq_pmtud_want_probe(&m, 65527, SEC), 0);
	for (int i = 0; i < 5; i++)
		assert_false(
			mpq_pmtud_on_losses(&m, (uint64_t)(i + 2) * SEC, (uint64_t)(i + 2) * SEC));
	assert_int_equal(m.size, 1452);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jumbo_first_probe),
		cmocka_unit_test(ethernet_after_jumbo_fails),
		cmocka_unit_test(ipv6_sizes),
		cmocka_unit_test(peer_and_buffer_limit),
		cmocka_unit_test(one_loss_is_no_failure),
		cmocka_unit_test(raise_timer),
		cmocka_unit_test(black_hole),
		cmocka_unit_test(large_ack_clears_suspicion),
		cmocka_unit_test(off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
