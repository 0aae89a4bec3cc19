/*
 * Token-bucket pacer: the burst leaves at once, then packets are spaced at
 * 1.25 * cwnd / srtt, checked to the nanosecond; rate updates, idle refill,
 * early sends, oversized packets, pacing off; at high rates each release
 * lets a send quantum of jumbo datagrams go, at the same average rate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "quic/pacer.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define T0 (5 * SEC)

/* cwnd 120000 bytes over 100 ms at N = 1.25: 1.5 bytes/us, 1200 bytes every 800 us. */
#define CWND 120000
#define SRTT (100 * MS)

/* ceil(bytes / rate) in ns for rate = 5 * cwnd / (4 * srtt) bytes per ns. */
static uint64_t time_for(uint64_t bytes, uint64_t cwnd, uint64_t srtt)
{
	return (bytes * 4 * srtt + 5 * cwnd - 1) / (5 * cwnd);
}

/* Sends |n| packets of |bytes| at |ts|, each allowed right away. */
static void burst(mpq_pacer *p, int n, uint64_t bytes, uint64_t ts)
{
	for (int i = 0; i < n; i++) {
		assert_int_equal(mpq_pacer_next_send_time(p, bytes, ts), ts);
		mpq_pacer_on_sent(p, bytes, ts);
	}
}

/* Sends |n| packets of |bytes|, each at the time the pacer names, and checks
 * packet k leaves exactly ceil(k * bytes / rate) after |t0|. */
static void check_train(mpq_pacer *p, uint64_t n, uint64_t bytes, uint64_t cwnd, uint64_t srtt,
			uint64_t t0)
{
	uint64_t ts = t0;

	for (uint64_t k = 1; k <= n; k++) {
		uint64_t next = mpq_pacer_next_send_time(p, bytes, ts);
		assert_int_equal(next, t0 + time_for(k * bytes, cwnd, srtt));
		mpq_pacer_on_sent(p, bytes, next);
		ts = next;
	}
}

static void burst_then_paced(void **state)
{
	(void)state;
	mpq_pacer p;

	mpq_pacer_init(&p, 12000, T0);
	mpq_pacer_update_rate(&p, CWND, SRTT);
	burst(&p, 10, 1200, T0);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, T0), T0 + 800000);
	/* Asking later does not move the answer; asking after it returns now. */
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, T0 + 500000), T0 + 800000);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, T0 + 900000), T0 + 900000);
	/* A smaller packet needs fewer tokens. */
	assert_int_equal(mpq_pacer_next_send_time(&p, 600, T0), T0 + 400000);

	assert_int_equal(time_for(100 * 1200, CWND, SRTT), 100 * 800000);
	check_train(&p, 100, 1200, CWND, SRTT, T0);
}

static void spacing_never_drifts(void **state)
{
	(void)state;
	mpq_pacer p;

	/* 1000 bytes take 666666.67 ns: the carried fraction keeps packet k at
	 * exactly ceil(k * 1000 / rate) after the burst. */
	mpq_pacer_init(&p, 12000, T0);
	mpq_pacer_update_rate(&p, CWND, SRTT);
	burst(&p, 12, 1000, T0);
	check_train(&p, 5000, 1000, CWND, SRTT, T0);
	/* Odd rates too: 1350-byte packets, cwnd 77777, srtt 33.3 ms. */
	mpq_pacer_init(&p, 2700, T0);
	mpq_pacer_update_rate(&p, 77777, 33333333);
	burst(&p, 2, 1350, T0);
	check_train(&p, 5000, 1350, 77777, 33333333, T0);
}

static void rate_updates_take_effect(void **state)
{
	(void)state;
	mpq_pacer p;
	uint64_t ts;

	mpq_pacer_init(&p, 12000, T0);
	mpq_pacer_update_rate(&p, CWND, SRTT);
	burst(&p, 10, 1200, T0);
	ts = mpq_pacer_next_send_time(&p, 1200, T0);
	assert_int_equal(ts, T0 + 800000);
	mpq_pacer_on_sent(&p, 1200, ts);

	/* Twice the window: half the gap. */
	mpq_pacer_update_rate(&p, 2 * CWND, SRTT);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, ts), ts + 400000);
	ts += 400000;
	mpq_pacer_on_sent(&p, 1200, ts);
	/* Twice the RTT as well: back to 800 us. */
	mpq_pacer_update_rate(&p, 2 * CWND, 2 * SRTT);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, ts), ts + 800000);
	ts += 800000;
	mpq_pacer_on_sent(&p, 1200, ts);
	/* A window cut after a loss: 1200 bytes at 1.25 * 24000 / 100 ms take 4 ms. */
	mpq_pacer_update_rate(&p, 24000, SRTT);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, ts), ts + 4 * MS);
	/* Updating with the same rate changes nothing. */
	mpq_pacer_update_rate(&p, 24000, SRTT);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, ts), ts + 4 * MS);
}

static void idle_refills_only_the_burst(void **state)
{
	(void)state;
	mpq_pacer p;

	mpq_pacer_init(&p, 12000, T0);
	mpq_pacer_update_rate(&p, CWND, SRTT);
	burst(&p, 10, 1200, T0);
	/* Half refilled after 4 ms: five packets. */
	uint64_t ts = T0 + 4 * MS;
	burst(&p, 5, 1200, ts);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, ts), ts + 800000);
	/* An hour idle buys no more than the bucket. */
	ts += 3600 * SEC;
	burst(&p, 10, 1200, ts);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, ts), ts + 800000);
}

static void early_send_leaves_a_debt(void **state)
{
	(void)state;
	mpq_pacer p;

	mpq_pacer_init(&p, 12000, T0);
	mpq_pacer_update_rate(&p, CWND, SRTT);
	burst(&p, 10, 1200, T0);
	/* Two more sent regardless of the pacer: the next waits them out. */
	mpq_pacer_on_sent(&p, 1200, T0);
	mpq_pacer_on_sent(&p, 1200, T0);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, T0), T0 + 3 * 800000);
	/* A send stamped before the last one counts at the last one's time. */
	mpq_pacer_on_sent(&p, 1200, T0 - MS);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, T0), T0 + 4 * 800000);
}

static void packet_larger_than_bucket(void **state)
{
	(void)state;
	mpq_pacer p;

	/* A 1500-byte packet through a 1000-byte bucket: it waits for a full
	 * bucket, then its excess is paid off before the next. */
	mpq_pacer_init(&p, 1000, T0);
	mpq_pacer_update_rate(&p, CWND, SRTT);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1500, T0), T0);
	mpq_pacer_on_sent(&p, 1500, T0);
	/* -500 tokens: 1500 more needed for a full bucket = 1 ms. */
	assert_int_equal(mpq_pacer_next_send_time(&p, 1500, T0), T0 + MS);
	assert_int_equal(mpq_pacer_next_send_time(&p, 400, T0), T0 + 600000);
	/* A smaller one waits for the send quantum, 250 us = 375 bytes. */
	assert_int_equal(mpq_pacer_next_send_time(&p, 100, T0), T0 + 583334);
}

static void no_rate_no_pacing(void **state)
{
	(void)state;
	mpq_pacer p;

	mpq_pacer_init(&p, 12000, T0);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(mpq_pacer_next_send_time(&p, 1200, T0), T0);
		mpq_pacer_on_sent(&p, 1200, T0);
	}
	/* The bucket is full when pacing starts... */
	mpq_pacer_update_rate(&p, CWND, SRTT);
	burst(&p, 10, 1200, T0);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, T0), T0 + 800000);
	/* ...and a zero rate turns it off again. */
	mpq_pacer_update_rate(&p, 0, SRTT);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, T0), T0);
	mpq_pacer_update_rate(&p, CWND, 0);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, T0), T0);
}

static void extremes_do_not_overflow(void **state)
{
	(void)state;
	mpq_pacer p;

	/* A huge window over a tiny RTT after a very long idle time. */
	mpq_pacer_init(&p, 64 * 1024, 0);
	mpq_pacer_update_rate(&p, UINT64_MAX / 2, 1);
	burst(&p, 1, 64 * 1024, 0);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, UINT64_MAX - 1), UINT64_MAX - 1);
	/* A tiny window over a huge RTT: far away, saturating, never wrapping. */
	mpq_pacer_init(&p, 1200, 1000);
	mpq_pacer_update_rate(&p, 1, UINT64_MAX);
	mpq_pacer_on_sent(&p, 1200, 1000);
	assert_int_equal(mpq_pacer_next_send_time(&p, 1200, 1000), UINT64_MAX);
}

/* cwnd 1 MB over 4 ms at N = 1.25: 0.3125 bytes/ns = 2.5 Gbit/s, where a
 * 9000-byte datagram takes 28.8 us and the quantum is 64 KiB. */
#define FAST_CWND 1000000
#define FAST_SRTT (4 * MS)
#define JUMBO 9000
#define IW 14720

/* Sends every datagram the pacer lets go at |ts|; returns how many. */
static uint64_t release(mpq_pacer *p, uint64_t ts)
{
	uint64_t n = 0;

	while (mpq_pacer_next_send_time(p, JUMBO, ts) == ts) {
		mpq_pacer_on_sent(p, JUMBO, ts);
		n++;
	}
	return n;
}

static void quantum_releases_a_batch(void **state)
{
	(void)state;
	mpq_pacer p;

	mpq_pacer_init(&p, IW, T0);
	mpq_pacer_update_rate(&p, FAST_CWND, FAST_SRTT);
	assert_int_equal(release(&p, T0), 1);
	/* Each wakeup lets 64 KiB go (7 datagrams), not one at a time. */
	uint64_t ts = T0;
	for (int i = 0; i < 100; i++) {
		uint64_t next = mpq_pacer_next_send_time(&p, JUMBO, ts);
		assert_true(next > ts);
		assert_true(next - ts >= time_for(6 * JUMBO, FAST_CWND, FAST_SRTT));
		ts = next;
		assert_int_equal(release(&p, ts), 7);
	}
	/* A lower rate shrinks the quantum (375 bytes) and the bucket with it
	 * (back to IW): at 1.25 * 120000 / 100 ms each jumbo datagram goes alone. */
	mpq_pacer_update_rate(&p, CWND, SRTT);
	ts += SEC;
	assert_int_equal(release(&p, ts), 1);
	assert_int_equal(mpq_pacer_next_send_time(&p, JUMBO, ts),
			 ts + time_for(JUMBO - (IW - JUMBO), CWND, SRTT));
}

/* The quantum is worked out when the rate changes: after each change a held
 * packet waits for the quantum of the new rate (QUANTUM_NS of its bytes, at
 * most QUANTUM_MAX; a packet alone below one), and none with pacing off. */
static void quantum_follows_rate_changes(void **state)
{
	(void)state;
	static const struct {
		uint64_t cwnd, srtt, quantum;
	} rates[] = {
		{1000000, 10 * MS, 31250},		  /* 125 bytes/us */
		{2000000, 10 * MS, 62500},		  /* twice the rate */
		{2000000, 5 * MS, MPQ_PACER_QUANTUM_MAX}, /* capped */
		{CWND, SRTT, 1200},			  /* 375 bytes: the packet */
		{1000000, 20 * MS, 15625},		  /* a longer RTT */
		{0, SRTT, 0},				  /* pacing off */
		{1000000, 10 * MS, 31250},		  /* and on again */
	};
	mpq_pacer p;

	mpq_pacer_init(&p, 1200, T0);
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		mpq_pacer_update_rate(&p, rates[i].cwnd, rates[i].srtt);
		mpq_pacer_on_sent(&p, p.tokens > 0 ? (uint64_t)p.tokens : 0, T0);
		uint64_t next = mpq_pacer_next_send_time(&p, 1200, T0);
		if (!rates[i].quantum) {
			assert_int_equal(next, T0);
			continue;
		}
		assert_int_equal(p.tokens, 0);
		assert_int_equal(next,
				 T0 + time_for(rates[i].quantum, rates[i].cwnd, rates[i].srtt));
	}
}

/* 200 MB of jumbo datagrams, each release at the time the pacer names: at
 * no time has more left than the initial bucket plus the rate times the time
 * elapsed, and the whole transfer keeps within 0.1 % of the rate. */
static void quantum_keeps_the_average_rate(void **state)
{
	(void)state;
	mpq_pacer p;
	uint64_t ts = T0, sent = 0, releases = 0;

	mpq_pacer_init(&p, IW, T0);
	mpq_pacer_update_rate(&p, FAST_CWND, FAST_SRTT);
	while (sent < 200000000) {
		ts = mpq_pacer_next_send_time(&p, JUMBO, ts);
		sent += release(&p, ts) * JUMBO;
		releases++;
		/* sent <= IW + (ts - T0) * 5 * cwnd / (4 * srtt) */
		assert_true(sent * 4 * FAST_SRTT <=
			    IW * 4 * FAST_SRTT + (ts - T0) * 5 * FAST_CWND);
	}
	assert_true((sent - IW) * 4 * FAST_SRTT * 1000 >= (ts - T0) * 5 * FAST_CWND * 999);
	assert_true(releases <= sent / JUMBO / 7 + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_paced),
		cmocka_unit_test(spacing_never_drifts),
		cmocka_unit_test(rate_updates_take_effect),
		cmocka_unit_test(idle_refills_only_the_burst),
		cmocka_unit_test(early_send_leaves_a_debt),
		cmocka_unit_test(packet_larger_than_bucket),
		cmocka_unit_test(no_rate_no_pacing),
		cmocka_unit_test(extremes_do_not_overflow),
		cmocka_unit_test(quantum_releases_a_batch),
		cmocka_unit_test(quantum_follows_rate_changes),
		cmocka_unit_test(quantum_keeps_the_average_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
