/* Ethernet/IPv4/IPv6/UDP, ARP and ND frames: byte-exact against known
 * frames (every checksum in them reported correct by tshark 4.0), checksums
 * against a plain RFC 1071 reference written here, parsers on every
 * truncation and on the malformed headers they must refuse. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "mpq/mpq.h"
#include "mpq/io/frame_hdr.h"
#include "mpq/io/netaddr.h"

static const uint8_t mac1[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t mac2[6] = {0x02, 0, 0, 0, 0, 0x02};
static const char payload[] = "hello, xdp!";

/* 10.88.0.1:4433 → 10.88.0.2:5555, ECN ECT(0), TTL 64, "hello, xdp!". */
static const uint8_t udp4_frame[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	0x45, 0x02, 0x00, 0x27, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x26, 0x12, 0x0a, 0x58,
	0x00, 0x01, 0x0a, 0x58, 0x00, 0x02, 0x11, 0x51, 0x15, 0xb3, 0x00, 0x13, 0xda, 0x2a,
	0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x78, 0x64, 0x70, 0x21,
};

/* [fd88::1]:4433 → [fd88::2]:5555, ECN ECT(1), hop limit 64, same payload. */
static const uint8_t udp6_frame[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
	0x10, 0x00, 0x00, 0x00, 0x13, 0x11, 0x40, 0xfd, 0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x88, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x11, 0x51, 0x15, 0xb3, 0x00, 0x13,
	0xf3, 0xc8, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x78, 0x64, 0x70, 0x21,
};

/* fd88::2 (mac2) asks for fd88::1 at its solicited-node address. */
static const uint8_t ns_frame[] = {
	0x33, 0x33, 0xff, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
	0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfd, 0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x01, 0x87, 0x00, 0x7c, 0x87, 0x00, 0x00,
	0x00, 0x00, 0xfd, 0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
};

/* fd88::1 (mac1) answers: solicited, override, its link-layer address. */
static const uint8_t na_frame[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
	0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfd, 0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x88, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x88, 0x00, 0x1b, 0x04, 0x60, 0x00,
	0x00, 0x00, 0xfd, 0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
};

/* RFC 1071 as the RFC writes it: 16-bit big-endian words, carries folded. */
static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Our checksum as the bytes it is stored as, read big-endian. */
static uint16_t our_csum(uint64_t sum)
{
	uint16_t c = mpq_frame_hdr_csum_fold(sum);
	uint8_t b[2];

	memcpy(b, &c, 2);
	return be16_at(b);
}

static void addr(mpq_addr *a, const char *text)
{
	assert_int_equal(mpq_addr_parse(a, text), 0);
}

static void fill_udp(mpq_frame_udp *h, const char *src, const char *dst, uint8_t ecn)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->dst_mac, mac2, 6);
	memcpy(h->src_mac, mac1, 6);
	addr(&h->src, src);
	addr(&h->dst, dst);
	h->ecn = ecn;
}

static void checksum_reference(void **state)
{
	/* RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is ddf2. */
	static const uint8_t rfc[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	uint8_t buf[300];

	assert_int_equal(ref_csum(rfc, sizeof(rfc)), (uint16_t)~0xddf2);
	assert_int_equal(our_csum(mpq_frame_hdr_csum_add(0, rfc, sizeof(rfc))), (uint16_t)~0xddf2);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 97 + 13 + (i >> 3));
	/* Every length (odd ones too), whole and in even-length pieces. */
	for (size_t len = 0; len <= sizeof(buf); len++) {
		uint16_t want = ref_csum(buf, len);
		uint64_t sum = 0;
		size_t off = 0;

		assert_int_equal(our_csum(mpq_frame_hdr_csum_add(0, buf, len)), want);
		for (size_t piece = 2; off < len; piece += 4) {
			size_t n = len - off < piece ? len - off : piece;

			sum = mpq_frame_hdr_csum_add(sum, buf + off, n);
			off += n;
		}
		assert_int_equal(our_csum(sum), want);
	}
	/* All ones: the accumulator folds every carry; and a jumbo frame's
	 * worth, after a sum that is already large. */
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(our_csum(mpq_frame_hdr_csum_add(0, buf, sizeof(buf))),
			 ref_csum(buf, sizeof(buf)));
	{
		static uint8_t big[9000];
		uint64_t sum = UINT64_MAX - 1;

		memset(big, 0xff, sizeof(big));
		sum = mpq_frame_hdr_csum_add(sum, big, sizeof(big));
		assert_true(sum < (1ull << 35)); /* room to add more */
		/* 0xffff words add nothing (modulo 0xffff) to what was there. */
		assert_int_equal(mpq_frame_hdr_csum_fold(sum),
				 mpq_frame_hdr_csum_fold(UINT64_MAX - 1));
		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)(i * 31 + 7);
		assert_int_equal(our_csum(mpq_frame_hdr_csum_add(0, big, sizeof(big))),
				 ref_csum(big, sizeof(big)));
	}
}

static void build_udp4_known_frame(void **state)
{
	uint8_t f[128];
	mpq_frame_udp h;
	uint8_t ph[12];
	size_t plen = strlen(payload);

	fill_udp(&h, "10.88.0.1:4433", "10.88.0.2:5555", 2);
	assert_int_equal(mpq_frame_hdr_udp_len(AF_INET), 42);
	memcpy(f + MPQ_FRAME_HDR_UDP4, payload, plen);
	assert_int_equal(mpq_frame_hdr_build_udp(f, sizeof(f), &h, plen), sizeof(udp4_frame));
	assert_memory_equal(f, udp4_frame, sizeof(udp4_frame));

	/* The checksums again from the reference: header, and pseudo-header +
	 * UDP header + payload with the checksum field zeroed. */
	assert_int_equal(ref_csum(f + 14, 20), 0);
	memcpy(ph, f + 26, 8);
	ph[8] = 0;
	ph[9] = 17;
	ph[10] = 0;
	ph[11] = (uint8_t)(8 + plen);
	{
		uint8_t all[12 + 8 + sizeof(payload)];

		memcpy(all, ph, 12);
		memcpy(all + 12, f + 34, 8 + plen);
		all[12 + 6] = all[12 + 7] = 0;
		assert_int_equal(ref_csum(all, 12 + 8 + plen), be16_at(f + 40));
	}
}

/* Wikipedia's IPv4 header example (id 0, DF, TTL 64, UDP, 192.168.0.1 →
 * 192.168.0.199, total length 115) has checksum b861. */
static void build_ip4_header_checksum(void **state)
{
	static const uint8_t want[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
					 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
					 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	uint8_t f[200] = {0};
	mpq_frame_udp h;

	fill_udp(&h, "192.168.0.1:1", "192.168.0.199:2", 0);
	assert_int_equal(mpq_frame_hdr_build_udp(f, sizeof(f), &h, 115 - 28), 14 + 115);
	assert_memory_equal(f + 14, want, sizeof(want));
}

static void build_udp6_known_frame(void **state)
{
	uint8_t f[128];
	mpq_frame_udp h;
	size_t plen = strlen(payload);
	uint8_t all[40 + 8 + sizeof(payload)];

	fill_udp(&h, "[fd88::1]:4433", "[fd88::2]:5555", 1);
	assert_int_equal(mpq_frame_hdr_udp_len(AF_INET6), 62);
	memcpy(f + MPQ_FRAME_HDR_UDP6, payload, plen);
	assert_int_equal(mpq_frame_hdr_build_udp(f, sizeof(f), &h, plen), sizeof(udp6_frame));
	assert_memory_equal(f, udp6_frame, sizeof(udp6_frame));

	/* Pseudo-header: addresses, 32-bit length, 3 zero bytes, next header. */
	memcpy(all, f + 22, 32);
	memset(all + 32, 0, 8);
	all[35] = (uint8_t)(8 + plen);
	all[39] = 17;
	memcpy(all + 40, f + 54, 8 + plen);
	all[40 + 6] = all[40 + 7] = 0;
	assert_int_equal(ref_csum(all, 40 + 8 + plen), be16_at(f + 60));
}

/* A UDP checksum that computes to 0 goes out as ffff (RFC 768, RFC 8200). */
static void udp_zero_checksum_sent_as_ffff(void **state)
{
	const char *fam[2][2] = {{"10.0.0.1:1", "10.0.0.2:2"}, {"[fd00::1]:1", "[fd00::2]:2"}};

	for (int i = 0; i < 2; i++) {
		uint8_t f[128] = {0};
		size_t hl = i ? MPQ_FRAME_HDR_UDP6 : MPQ_FRAME_HDR_UDP4;
		mpq_frame_udp h, p;
		uint16_t c;

		fill_udp(&h, fam[i][0], fam[i][1], 0);
		assert_int_equal(mpq_frame_hdr_build_udp(f, sizeof(f), &h, 2), (int)hl + 2);
		/* A payload word equal to the checksum of a zero word brings the
		 * sum to ffff, whose complement is 0. */
		c = be16_at(f + hl - 2);
		f[hl] = (uint8_t)(c >> 8);
		f[hl + 1] = (uint8_t)c;
		assert_int_equal(mpq_frame_hdr_build_udp(f, sizeof(f), &h, 2), (int)hl + 2);
		assert_int_equal(be16_at(f + hl - 2), 0xffff);
		assert_int_equal(mpq_frame_hdr_parse_udp(f, hl + 2, &p), 0);
		assert_true(mpq_frame_hdr_udp_csum_ok(f, &p));
	}
}

/* The headers alone, the payload elsewhere (a frame over several AF_XDP
 * buffers): the same bytes as the frame built whole, for odd and even
 * payload lengths in both families, and the same refusals. */
static void build_udp_hdr_payload_apart(void **state)
{
	const char *fam[2][2] = {{"10.0.0.1:1", "10.0.0.2:2"}, {"[fd00::1]:1", "[fd00::2]:2"}};
	static const size_t lens[] = {0, 1, 2, 7, 8, 33, 1472, 8971, 8972};
	static uint8_t whole[9100], body[9000];

	(void)state;
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 13 + 5);
	for (int i = 0; i < 2; i++) {
		size_t hl = i ? MPQ_FRAME_HDR_UDP6 : MPQ_FRAME_HDR_UDP4;
		mpq_frame_udp h, p;

		fill_udp(&h, fam[i][0], fam[i][1], 1);
		for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			uint8_t hdr[MPQ_FRAME_HDR_UDP6];

			memcpy(whole + hl, body, lens[k]);
			assert_int_equal(mpq_frame_hdr_build_udp(whole, sizeof(whole), &h,
								 lens[k]),
					 (int)(hl + lens[k]));
			assert_int_equal(mpq_frame_hdr_build_udp_hdr(hdr, &h, body, lens[k]),
					 (int)(hl + lens[k]));
			assert_memory_equal(hdr, whole, hl);
			assert_int_equal(mpq_frame_hdr_parse_udp(whole, hl + lens[k], &p), 0);
			assert_true(mpq_frame_hdr_udp_csum_ok(whole, &p));
		}
		h.ecn = 4;
		assert_int_equal(mpq_frame_hdr_build_udp_hdr(whole, &h, body, 1),
				 MPQ_ERR_INVALID_ARGUMENT);
	}
}

/* What a sender that left the checksum to offload puts in the field (the
 * pseudo-header sum, here anything) is replaced by the whole checksum. */
static void l4_csum_fix(void **state)
{
	const char *fam[2][2] = {{"10.0.0.1:1", "10.0.0.2:2"}, {"[fd00::1]:1", "[fd00::2]:2"}};

	for (int i = 0; i < 2; i++) {
		uint8_t f[128] = {0};
		size_t hl = i ? MPQ_FRAME_HDR_UDP6 : MPQ_FRAME_HDR_UDP4;
		mpq_frame_udp h;
		uint16_t want, tcp;

		fill_udp(&h, fam[i][0], fam[i][1], 0);
		for (int k = 0; k < 37; k++)
			f[hl + k] = (uint8_t)(k * 7 + 1);
		assert_int_equal(mpq_frame_hdr_build_udp(f, sizeof(f), &h, 37), (int)hl + 37);
		want = be16_at(f + hl - 2);
		f[hl - 2] = 0x12;
		f[hl - 1] = 0x34;
		assert_true(mpq_frame_hdr_l4_csum_fix(f, hl + 37));
		assert_int_equal(be16_at(f + hl - 2), want);
		/* Ethernet padding past the IP length is not summed. */
		assert_true(mpq_frame_hdr_l4_csum_fix(f, sizeof(f)));
		assert_int_equal(be16_at(f + hl - 2), want);
		/* TCP: the field at 16, the same sum whatever it held. */
		f[i ? 14 + 6 : 14 + 9] = 6;
		assert_true(mpq_frame_hdr_l4_csum_fix(f, hl + 37));
		tcp = be16_at(f + hl - 8 + 16);
		f[hl - 8 + 16] ^= 0x5a;
		assert_true(mpq_frame_hdr_l4_csum_fix(f, hl + 37));
		assert_int_equal(be16_at(f + hl - 8 + 16), tcp);
		f[i ? 14 + 6 : 14 + 9] = 17;
	}
	{
		uint8_t f[128] = {0};
		mpq_frame_udp h;

		fill_udp(&h, "10.0.0.1:1", "10.0.0.2:2", 0);
		assert_int_equal(mpq_frame_hdr_build_udp(f, sizeof(f), &h, 10), 52);
		f[40] = f[41] = 0; /* IPv4 UDP without a checksum stays so */
		assert_false(mpq_frame_hdr_l4_csum_fix(f, 52));
		assert_int_equal(be16_at(f + 40), 0);
		f[40] = 1;
		f[14 + 6] |= 0x20; /* a fragment: the segment is not all here */
		assert_false(mpq_frame_hdr_l4_csum_fix(f, 52));
		assert_false(mpq_frame_hdr_l4_csum_fix(f, 30)); /* truncated */
	}
}

static void build_refusals(void **state)
{
	uint8_t f[100];
	mpq_frame_udp h;

	fill_udp(&h, "10.0.0.1:1", "[fd00::2]:2", 0);
	assert_int_equal(mpq_frame_hdr_build_udp(f, sizeof(f), &h, 1), MPQ_ERR_INVALID_ARGUMENT);
	fill_udp(&h, "10.0.0.1:1", "10.0.0.2:2", 4);
	assert_int_equal(mpq_frame_hdr_build_udp(f, sizeof(f), &h, 1), MPQ_ERR_INVALID_ARGUMENT);
	fill_udp(&h, "10.0.0.1:1", "10.0.0.2:2", 0);
	assert_int_equal(mpq_frame_hdr_build_udp(f, sizeof(f), &h, 65535 - 28 + 1),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_frame_hdr_build_udp(f, 42 + 9, &h, 10), MPQ_ERR_NOBUF);
	assert_int_equal(mpq_frame_hdr_build_udp(f, 42 + 10, &h, 10), 52);
	memset(&h.src, 0, sizeof(h.src));
	assert_int_equal(mpq_frame_hdr_build_udp(f, sizeof(f), &h, 1), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_frame_hdr_udp_len(AF_UNIX), 0);
}

static void check_parsed(const uint8_t *f, const mpq_frame_udp *p, const char *src,
			 const char *dst, uint8_t ecn)
{
	mpq_addr a;

	assert_memory_equal(p->dst_mac, mac2, 6);
	assert_memory_equal(p->src_mac, mac1, 6);
	addr(&a, src);
	assert_true(mpq_addr_equal(&p->src, &a));
	assert_int_equal(p->src.len, a.len);
	addr(&a, dst);
	assert_true(mpq_addr_equal(&p->dst, &a));
	assert_int_equal(p->ecn, ecn);
	assert_int_equal(p->ttl, 64);
	assert_int_equal(p->payload_len, strlen(payload));
	assert_memory_equal(f + p->payload_off, payload, strlen(payload));
	assert_true(mpq_frame_hdr_udp_csum_ok(f, p));
}

static void parse_known_frames(void **state)
{
	mpq_frame_udp p;
	mpq_addr a, b;

	assert_int_equal(mpq_frame_hdr_parse_udp(udp4_frame, sizeof(udp4_frame), &p), 0);
	check_parsed(udp4_frame, &p, "10.88.0.1:4433", "10.88.0.2:5555", 2);
	assert_false(p.vlan_tagged);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 34);
	assert_int_equal(p.payload_off, 42);
	assert_int_equal(mpq_frame_hdr_parse_udp(udp6_frame, sizeof(udp6_frame), &p), 0);
	check_parsed(udp6_frame, &p, "[fd88::1]:4433", "[fd88::2]:5555", 1);
	assert_int_equal(p.l4_off, 54);
	assert_int_equal(mpq_frame_hdr_ethertype(udp6_frame, sizeof(udp6_frame)), 0x86dd);
	assert_int_equal(mpq_frame_hdr_ethertype(udp6_frame, 13), 0);

	/* Addresses from header bytes, without a port. */
	mpq_frame_hdr_addr(&a, AF_INET6, udp6_frame + 22, NULL);
	addr(&b, "[fd88::1]:0");
	assert_true(mpq_addr_equal(&a, &b));
	assert_int_equal(a.len, sizeof(struct sockaddr_in6));
	mpq_frame_hdr_addr(&a, AF_INET, udp4_frame + 26, udp4_frame + 34);
	addr(&b, "10.88.0.1:4433");
	assert_true(mpq_addr_equal(&a, &b));
}

/* Every prefix of a frame is refused, never read past. */
static void parse_truncations(void **state)
{
	mpq_frame_udp p;
	mpq_frame_nd nd;

	for (size_t len = 0; len < sizeof(udp4_frame); len++)
		assert_int_equal(mpq_frame_hdr_parse_udp(udp4_frame, len, &p),
				 MPQ_ERR_INVALID_PACKET);
	for (size_t len = 0; len < sizeof(udp6_frame); len++)
		assert_int_equal(mpq_frame_hdr_parse_udp(udp6_frame, len, &p),
				 MPQ_ERR_INVALID_PACKET);
	for (size_t len = 0; len < sizeof(ns_frame); len++)
		assert_int_equal(mpq_frame_hdr_parse_nd(ns_frame, len, &nd),
				 MPQ_ERR_INVALID_PACKET);
}

/* The largest datagrams IPv4 and IPv6 hold (GSO/GRO super-datagrams in
 * captures, mpq-trace): the Ethernet header in front does not count against
 * the IP length fields. */
static void parse_largest_datagrams(void **state)
{
	static uint8_t f[MPQ_FRAME_HDR_UDP6 + 65535];
	mpq_frame_udp h, p;

	fill_udp(&h, "10.0.0.1:1000", "10.0.0.2:2000", 0);
	assert_int_equal(mpq_frame_hdr_build_udp(f, sizeof(f), &h, 65507),
			 MPQ_FRAME_HDR_UDP4 + 65507);
	assert_int_equal(mpq_frame_hdr_parse_udp(f, MPQ_FRAME_HDR_UDP4 + 65507, &p), 0);
	assert_int_equal(p.payload_len, 65507);
	assert_int_equal(p.payload_off, MPQ_FRAME_HDR_UDP4);

	fill_udp(&h, "[fd00::1]:1000", "[fd00::2]:2000", 0);
	assert_int_equal(mpq_frame_hdr_build_udp(f, sizeof(f), &h, 65527),
			 MPQ_FRAME_HDR_UDP6 + 65527);
	assert_int_equal(mpq_frame_hdr_parse_udp(f, MPQ_FRAME_HDR_UDP6 + 65527, &p), 0);
	assert_int_equal(p.payload_len, 65527);
}

static void parse_padding_and_vlan(void **state)
{
	uint8_t f[128];
	mpq_frame_udp p;

	/* Ethernet padding after the IP datagram is not payload. */
	memset(f, 0xee, sizeof(f));
	memcpy(f, udp4_frame, sizeof(udp4_frame));
	assert_int_equal(mpq_frame_hdr_parse_udp(f, 60 + 4, &p), 0);
	check_parsed(f, &p, "10.88.0.1:4433", "10.88.0.2:5555", 2);

	/* An 802.1Q tag, VLAN 42, priority 5. */
	memcpy(f, udp6_frame, 12);
	f[12] = 0x81;
	f[13] = 0x00;
	f[14] = 0xa0;
	f[15] = 42;
	memcpy(f + 16, udp6_frame + 12, sizeof(udp6_frame) - 12);
	assert_int_equal(mpq_frame_hdr_parse_udp(f, sizeof(udp6_frame) + 4, &p), 0);
	check_parsed(f, &p, "[fd88::1]:4433", "[fd88::2]:5555", 1);
	assert_true(p.vlan_tagged);
	assert_int_equal(p.vlan_id, 42);
	assert_int_equal(p.l3_off, 18);
	assert_int_equal(mpq_frame_hdr_ethertype(f, sizeof(udp6_frame) + 4), 0x86dd);
}

/* Patches byte |at| of a copy of |src| and fixes the IPv4 header checksum. */
static void patch4(uint8_t *f, size_t at, uint8_t val)
{
	uint16_t c;

	memcpy(f, udp4_frame, sizeof(udp4_frame));
	f[at] = val;
	f[24] = f[25] = 0;
	c = ref_csum(f + 14, 20);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
}

static void parse_refusals_v4(void **state)
{
	uint8_t f[sizeof(udp4_frame)];
	mpq_frame_udp p;
	size_t n = sizeof(f);

	memcpy(f, udp4_frame, n);
	f[25] ^= 1; /* header checksum */
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), MPQ_ERR_INVALID_PACKET);
	patch4(f, 20, 0x20); /* MF: first fragment */
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), MPQ_ERR_INVALID_PACKET);
	patch4(f, 21, 0x01); /* fragment offset 8 */
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), MPQ_ERR_INVALID_PACKET);
	patch4(f, 23, 6); /* TCP */
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), MPQ_ERR_INVALID_PACKET);
	patch4(f, 14, 0x44); /* IHL 4 */
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), MPQ_ERR_INVALID_PACKET);
	patch4(f, 14, 0x65); /* version 6 in an IPv4 EtherType */
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), MPQ_ERR_INVALID_PACKET);
	patch4(f, 17, 0x28); /* total length past the frame */
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), MPQ_ERR_INVALID_PACKET);
	memcpy(f, udp4_frame, n);
	f[39] = 0x14; /* UDP length past the IP datagram */
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), MPQ_ERR_INVALID_PACKET);
	f[39] = 0x07; /* shorter than its header */
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), MPQ_ERR_INVALID_PACKET);
	memcpy(f, udp4_frame, n);
	f[12] = 0x08;
	f[13] = 0x06; /* ARP */
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), MPQ_ERR_INVALID_PACKET);

	/* A shorter UDP length inside the datagram is what counts. */
	memcpy(f, udp4_frame, n);
	f[39] = 0x10;
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), 0);
	assert_int_equal(p.payload_len, 8);
	/* The UDP checksum is checked on request only, and 0 means none. */
	memcpy(f, udp4_frame, n);
	f[n - 1] ^= 0x40;
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), 0);
	assert_false(mpq_frame_hdr_udp_csum_ok(f, &p));
	f[40] = f[41] = 0;
	assert_true(mpq_frame_hdr_udp_csum_ok(f, &p));
}

static void parse_refusals_v6(void **state)
{
	uint8_t f[sizeof(udp6_frame) + 16];
	mpq_frame_udp p;
	size_t n = sizeof(udp6_frame);

	memcpy(f, udp6_frame, n);
	f[19] = 0x14; /* payload length past the frame */
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), MPQ_ERR_INVALID_PACKET);
	memcpy(f, udp6_frame, n);
	f[20] = 58; /* ICMPv6 */
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), MPQ_ERR_INVALID_PACKET);
	memcpy(f, udp6_frame, n);
	f[60] = f[61] = 0; /* IPv6 requires a UDP checksum */
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n, &p), 0);
	assert_false(mpq_frame_hdr_udp_csum_ok(f, &p));

	/* A hop-by-hop header (8 bytes of PadN) is skipped; a fragment
	 * header is refused. */
	memcpy(f, udp6_frame, 54);
	f[19] = 0x13 + 8;
	f[20] = 0;
	f[54] = 17;
	f[55] = 0;
	f[56] = 1;
	f[57] = 4;
	memset(f + 58, 0, 4);
	memcpy(f + 62, udp6_frame + 54, n - 54);
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n + 8, &p), 0);
	assert_int_equal(p.l4_off, 62);
	check_parsed(f, &p, "[fd88::1]:4433", "[fd88::2]:5555", 1);
	f[20] = 44;
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n + 8, &p), MPQ_ERR_INVALID_PACKET);
	/* An extension header longer than the datagram. */
	f[20] = 60;
	f[55] = 9;
	assert_int_equal(mpq_frame_hdr_parse_udp(f, n + 8, &p), MPQ_ERR_INVALID_PACKET);
}

static void arp_build_and_parse(void **state)
{
	/* 10.88.0.1 (mac1) answers 10.88.0.2 (mac2). */
	static const uint8_t want[60] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x0a, 0x58, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0a, 0x58, 0x00, 0x02,
	};
	mpq_frame_arp a = {.op = MPQ_ARP_REPLY}, b;
	uint8_t f[64];

	memcpy(a.sha, mac1, 6);
	memcpy(a.tha, mac2, 6);
	memcpy(a.spa, "\x0a\x58\x00\x01", 4);
	memcpy(a.tpa, "\x0a\x58\x00\x02", 4);
	memset(f, 0xee, sizeof(f));
	assert_int_equal(mpq_frame_hdr_build_arp(f, sizeof(f), mac2, mac1, &a), 60);
	assert_memory_equal(f, want, sizeof(want));
	assert_int_equal(mpq_frame_hdr_build_arp(f, 59, mac2, mac1, &a), MPQ_ERR_NOBUF);

	assert_int_equal(mpq_frame_hdr_parse_arp(want, 42, &b), 0);
	assert_int_equal(b.op, MPQ_ARP_REPLY);
	assert_memory_equal(b.sha, mac1, 6);
	assert_memory_equal(b.tha, mac2, 6);
	assert_memory_equal(b.spa, a.spa, 4);
	assert_memory_equal(b.tpa, a.tpa, 4);
	assert_int_equal(mpq_frame_hdr_ethertype(want, 42), MPQ_ETH_P_ARP);
	for (size_t len = 0; len < 42; len++)
		assert_int_equal(mpq_frame_hdr_parse_arp(want, len, &b), MPQ_ERR_INVALID_PACKET);
	memcpy(f, want, 60);
	f[19] = 16; /* not IPv4-sized protocol addresses */
	assert_int_equal(mpq_frame_hdr_parse_arp(f, 60, &b), MPQ_ERR_INVALID_PACKET);
	assert_int_equal(mpq_frame_hdr_parse_arp(udp4_frame, sizeof(udp4_frame), &b),
			 MPQ_ERR_INVALID_PACKET);
}

static void nd_parse_known_ns(void **state)
{
	uint8_t target[16], src[16];
	mpq_frame_nd nd;

	inet_pton(AF_INET6, "fd88::1", target);
	inet_pton(AF_INET6, "fd88::2", src);
	assert_int_equal(mpq_frame_hdr_parse_nd(ns_frame, sizeof(ns_frame), &nd), 0);
	assert_int_equal(nd.type, MPQ_ND_NS);
	assert_memory_equal(nd.target, target, 16);
	assert_memory_equal(nd.src, src, 16);
	assert_memory_equal(nd.eth_src, mac2, 6);
	assert_true(nd.has_lladdr);
	assert_memory_equal(nd.lladdr, mac2, 6);
	/* A UDP parser does not take it, nor an ND parser a UDP datagram. */
	{
		mpq_frame_udp p;

		assert_int_equal(mpq_frame_hdr_parse_udp(ns_frame, sizeof(ns_frame), &p),
				 MPQ_ERR_INVALID_PACKET);
		assert_int_equal(mpq_frame_hdr_parse_nd(udp6_frame, sizeof(udp6_frame), &nd),
				 MPQ_ERR_INVALID_PACKET);
	}
}

static void nd_build_known_na(void **state)
{
	mpq_frame_nd na = {.type = MPQ_ND_NA,
			   .flags = MPQ_ND_NA_SOLICITED | MPQ_ND_NA_OVERRIDE,
			   .has_lladdr = true};
	mpq_frame_nd back;
	uint8_t f[128];

	inet_pton(AF_INET6, "fd88::1", na.src);
	inet_pton(AF_INET6, "fd88::2", na.dst);
	inet_pton(AF_INET6, "fd88::1", na.target);
	memcpy(na.lladdr, mac1, 6);
	assert_int_equal(mpq_frame_hdr_build_nd(f, sizeof(f), mac2, mac1, &na), sizeof(na_frame));
	assert_memory_equal(f, na_frame, sizeof(na_frame));
	assert_int_equal(mpq_frame_hdr_build_nd(f, sizeof(na_frame) - 1, mac2, mac1, &na),
			 MPQ_ERR_NOBUF);

	assert_int_equal(mpq_frame_hdr_parse_nd(na_frame, sizeof(na_frame), &back), 0);
	assert_int_equal(back.type, MPQ_ND_NA);
	assert_int_equal(back.flags, MPQ_ND_NA_SOLICITED | MPQ_ND_NA_OVERRIDE);
	assert_true(back.has_lladdr);
	assert_memory_equal(back.lladdr, mac1, 6);
	assert_memory_equal(back.target, na.target, 16);

	/* An NS without options, built and read back; another type refused. */
	na.type = MPQ_ND_NS;
	na.has_lladdr = false;
	assert_int_equal(mpq_frame_hdr_build_nd(f, sizeof(f), mac2, mac1, &na), 14 + 40 + 24);
	assert_int_equal(mpq_frame_hdr_parse_nd(f, 14 + 40 + 24, &back), 0);
	assert_int_equal(back.type, MPQ_ND_NS);
	assert_false(back.has_lladdr);
	na.type = 134;
	assert_int_equal(mpq_frame_hdr_build_nd(f, sizeof(f), mac2, mac1, &na),
			 MPQ_ERR_INVALID_ARGUMENT);
}

static void nd_refusals(void **state)
{
	uint8_t f[sizeof(ns_frame)];
	mpq_frame_nd nd;
	size_t n = sizeof(f);

	memcpy(f, ns_frame, n);
	f[21] = 64; /* routed: hop limit below 255 */
	assert_int_equal(mpq_frame_hdr_parse_nd(f, n, &nd), MPQ_ERR_INVALID_PACKET);
	memcpy(f, ns_frame, n);
	f[57] ^= 1; /* checksum */
	assert_int_equal(mpq_frame_hdr_parse_nd(f, n, &nd), MPQ_ERR_INVALID_PACKET);
	memcpy(f, ns_frame, n);
	f[55] = 1; /* code */
	assert_int_equal(mpq_frame_hdr_parse_nd(f, n, &nd), MPQ_ERR_INVALID_PACKET);
	memcpy(f, ns_frame, n);
	f[79] = 0; /* option of length 0 */
	assert_int_equal(mpq_frame_hdr_parse_nd(f, n, &nd), MPQ_ERR_INVALID_PACKET);
	memcpy(f, ns_frame, n);
	f[79] = 2; /* option longer than the packet */
	assert_int_equal(mpq_frame_hdr_parse_nd(f, n, &nd), MPQ_ERR_INVALID_PACKET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checksum_reference),
		cmocka_unit_test(build_udp4_known_frame),
		cmocka_unit_test(build_ip4_header_checksum),
		cmocka_unit_test(build_udp6_known_frame),
		cmocka_unit_test(udp_zero_checksum_sent_as_ffff),
		cmocka_unit_test(build_udp_hdr_payload_apart),
		cmocka_unit_test(l4_csum_fix),
		cmocka_unit_test(build_refusals),
		cmocka_unit_test(parse_known_frames),
		cmocka_unit_test(parse_truncations),
		cmocka_unit_test(parse_largest_datagrams),
		cmocka_unit_test(parse_padding_and_vlan),
		cmocka_unit_test(parse_refusals_v4),
		cmocka_unit_test(parse_refusals_v6),
		cmocka_unit_test(arp_build_and_parse),
		cmocka_unit_test(nd_parse_known_ns),
		cmocka_unit_test(nd_build_known_na),
		cmocka_unit_test(nd_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
