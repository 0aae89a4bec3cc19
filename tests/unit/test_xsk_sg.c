/* AF_XDP multi-buffer descriptor chains (lib/io/xsk_sg.c) on rings laid
 * out as libxdp's, in memory: chains found across the ring's wrap, gathered
 * byte-exact, cut chains and short buffers refused, and a frame scattered
 * over UMEM frames that gathers back to itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "io/xsk_sg.h"

#define RING 8
#define FSIZE 4096
#define NFRAMES 8

static struct xdp_desc descs[RING];
static uint8_t area[NFRAMES * FSIZE];

static struct xsk_ring_cons rx_ring(void)
{
	return (struct xsk_ring_cons){.mask = RING - 1, .size = RING, .ring = descs};
}

static void put(uint32_t idx, uint64_t addr, uint32_t len, uint32_t options)
{
	descs[idx & (RING - 1)] = (struct xdp_desc){.addr = addr, .len = len, .options = options};
}

/* Frame |k| of the area filled with bytes k*31 + i. */
static void paint(uint32_t k)
{
	for (uint32_t i = 0; i < FSIZE; i++)
		area[k * FSIZE + i] = (uint8_t)(k * 31 + i);
}

static void chains_across_the_wrap(void **state)
{
	struct xsk_ring_cons r = rx_ring();

	(void)state;
	put(5, 0, 100, 0);			      /* a frame of its own */
	put(6, 1 * FSIZE + 256, 3840, XDP_PKT_CONTD); /* three, over the wrap */
	put(7, 2 * FSIZE, 4096, XDP_PKT_CONTD);
	put(8, 3 * FSIZE, 1078, 0);
	put(9, 4 * FSIZE, 60, 0);
	assert_int_equal(mpq_xsk_sg_chain(&r, 5, 5), 1);
	assert_int_equal(mpq_xsk_sg_chain(&r, 6, 4), 3);
	assert_int_equal(mpq_xsk_sg_chain(&r, 6, 3), 3);
	/* its last descriptor not among those available: none yet */
	assert_int_equal(mpq_xsk_sg_chain(&r, 6, 2), 0);
	assert_int_equal(mpq_xsk_sg_chain(&r, 6, 0), 0);
	assert_int_equal(mpq_xsk_sg_chain(&r, 9, 1), 1);
}

static void gather_byte_exact(void **state)
{
	struct xsk_ring_cons r = rx_ring();
	static uint8_t buf[9100], want[9100];
	size_t n = 0;

	(void)state;
	for (uint32_t k = 0; k < NFRAMES; k++)
		paint(k);
	put(6, 1 * FSIZE + 256, 3840, XDP_PKT_CONTD);
	put(7, 5 * FSIZE, 4096, XDP_PKT_CONTD);
	put(8, 3 * FSIZE, 1078, 0);
	memcpy(want, area + 1 * FSIZE + 256, 3840);
	n += 3840;
	memcpy(want + n, area + 5 * FSIZE, 4096);
	n += 4096;
	memcpy(want + n, area + 3 * FSIZE, 1078);
	n += 1078;
	assert_int_equal(n, 9014);
	assert_int_equal(mpq_xsk_sg_gather(&r, 6, 3, area, buf, sizeof(buf)), 9014);
	assert_memory_equal(buf, want, n);
	assert_int_equal(mpq_xsk_sg_gather(&r, 6, 3, area, buf, 9014), 9014);
	/* a byte short: refused */
	assert_int_equal(mpq_xsk_sg_gather(&r, 6, 3, area, buf, 9013), -1);
	assert_int_equal(mpq_xsk_sg_gather(&r, 6, 3, area, buf, 3839), -1);
}

static void frames_needed(void **state)
{
	(void)state;
	assert_int_equal(mpq_xsk_sg_frames(1, FSIZE), 1);
	assert_int_equal(mpq_xsk_sg_frames(FSIZE, FSIZE), 1);
	assert_int_equal(mpq_xsk_sg_frames(FSIZE + 1, FSIZE), 2);
	assert_int_equal(mpq_xsk_sg_frames(9014, FSIZE), 3);
	assert_int_equal(mpq_xsk_sg_frames(9014, 2048), 5);
	assert_int_equal(mpq_xsk_sg_frames(65535 + 14, FSIZE), 17);
}

/* A frame of |hlen| header bytes and |plen| payload bytes scattered from
 * ring index |idx| over frames 7, 2, 4, ...: the descriptors' lengths and
 * flags, and the bytes gathered back. */
static void round_trip(size_t hlen, size_t plen, uint32_t idx)
{
	static const uint64_t addrs[] = {7 * FSIZE, 2 * FSIZE, 4 * FSIZE, 0, 6 * FSIZE};
	static uint8_t hdr[64], payload[5 * FSIZE], buf[6 * FSIZE];
	struct xsk_ring_prod tx = {.mask = RING - 1, .size = RING, .ring = descs};
	struct xsk_ring_cons r = rx_ring();
	uint32_t want = mpq_xsk_sg_frames(hlen + plen, FSIZE), k;
	size_t left = hlen + plen;

	for (size_t i = 0; i < hlen; i++)
		hdr[i] = (uint8_t)(0xa0 + i);
	for (size_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	memset(area, 0xee, sizeof(area));
	memset(descs, 0, sizeof(descs));
	k = mpq_xsk_sg_scatter(&tx, idx, area, addrs, FSIZE, hdr, hlen, payload, plen);
	assert_int_equal(k, want);
	for (uint32_t i = 0; i < k; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&r, idx + i);
		size_t len = left < FSIZE ? left : FSIZE;

		assert_int_equal(d->addr, addrs[i]);
		assert_int_equal(d->len, len);
		assert_int_equal(d->options, i + 1 < k ? XDP_PKT_CONTD : 0);
		left -= len;
	}
	assert_int_equal(left, 0);
	assert_int_equal(mpq_xsk_sg_chain(&r, idx, RING), k);
	assert_int_equal(mpq_xsk_sg_gather(&r, idx, k, area, buf, sizeof(buf)), hlen + plen);
	assert_memory_equal(buf, hdr, hlen);
	assert_memory_equal(buf + hlen, payload, plen);
}

static void scatter_gathers_back(void **state)
{
	(void)state;
	round_trip(42, 8972, 6);       /* IPv4 at MTU 9000: 3 frames, over the wrap */
	round_trip(62, 8952, 0);       /* IPv6 */
	round_trip(42, FSIZE - 42, 3); /* exactly one frame */
	round_trip(42, FSIZE - 41, 7); /* one byte over */
	round_trip(62, 2 * FSIZE - 62, 1);
	round_trip(0, 4 * FSIZE + 5, 2); /* a whole frame as it is (raw mode) */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chains_across_the_wrap),
		cmocka_unit_test(gather_byte_exact),
		cmocka_unit_test(frames_needed),
		cmocka_unit_test(scatter_gathers_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
