/*
 * mpq-trace's capture readers: pcap in both byte orders and both timestamp
 * units, pcapng with interfaces, timestamp resolutions and Decryption
 * Secrets Blocks, zstd-compressed files, truncated last records, files that
 * are not captures; the UDP decoder on each link type it knows.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include <cmocka.h>

#include "mpq/io/frame_hdr.h"
#include "mpq/io/netaddr.h"
#include "mpq-trace/capfile.h"
#include "mpq-trace/udpdecode.h"

struct buf {
	uint8_t d[4096];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->d));
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void put8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

/* Integers in the file's byte order. */
static void put16(struct buf *b, uint16_t v, int be)
{
	uint8_t x[2] = {be ? v >> 8 : v, be ? v : v >> 8};

	put(b, x, 2);
}

static void put32(struct buf *b, uint32_t v, int be)
{
	put16(b, be ? v >> 16 : v, be);
	put16(b, be ? v : v >> 16, be);
}

/* Sets the IPv4 header checksum of the header at |ip|. */
static void ip_csum(uint8_t *ip)
{
	uint16_t c;

	ip[10] = ip[11] = 0;
	c = mpq_frame_hdr_csum_fold(mpq_frame_hdr_csum_add(0, ip, 20));
	memcpy(ip + 10, &c, 2);
}

/* An IPv4/UDP packet 10.0.0.1:1000 -> 10.0.0.2:2000 with |n| payload bytes 0xaa. */
static void put_ipv4_udp(struct buf *b, size_t n)
{
	const uint8_t hdr[20] = {0x45, 0, 0,  0, 0, 0, 0x40, 0, 64, 17,
				 0,    0, 10, 0, 0, 1, 10,   0, 0,  2};
	struct buf ip = {0};

	put(&ip, hdr, sizeof(hdr));
	ip.d[2] = (uint8_t)((28 + n) >> 8);
	ip.d[3] = (uint8_t)(28 + n);
	put16(&ip, 1000, 1);
	put16(&ip, 2000, 1);
	put16(&ip, (uint16_t)(8 + n), 1);
	put16(&ip, 0, 1);
	for (size_t i = 0; i < n; i++)
		put8(&ip, 0xaa);
	ip_csum(ip.d);
	put(b, ip.d, ip.n);
}

static void put_ethernet_ipv4_udp(struct buf *b, size_t n)
{
	const uint8_t eth[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};

	put(b, eth, sizeof(eth));
	put16(b, 0x0800, 1);
	put_ipv4_udp(b, n);
}

struct seen {
	int packets, secrets;
	uint64_t ts[8];
	uint32_t link[8];
	size_t caplen[8];
	char secret[64];
};

static int on_packet(void *user, const struct cap_record *rec)
{
	struct seen *s = user;

	if (s->packets < 8) {
		s->ts[s->packets] = rec->ts_ns;
		s->link[s->packets] = rec->linktype;
		s->caplen[s->packets] = rec->caplen;
	}
	s->packets++;
	return 0;
}

static int on_secrets(void *user, uint32_t type, const uint8_t *data, size_t len)
{
	struct seen *s = user;

	assert_int_equal(type, MPQ_PCAPNG_SECRETS_TLS);
	assert_true(len < sizeof(s->secret));
	memcpy(s->secret, data, len);
	s->secret[len] = 0;
	s->secrets++;
	return 0;
}

static int read_all(const struct buf *b, struct seen *s, struct cap_stats *st)
{
	struct cap_sink sink = {on_packet, on_secrets, s};

	memset(s, 0, sizeof(*s));
	memset(st, 0, sizeof(*st));
	return cap_read(b->d, b->n, &sink, st);
}

static void pcap_header(struct buf *b, int be, int ns, uint32_t link)
{
	put32(b, ns ? 0xa1b23c4d : 0xa1b2c3d4, be);
	put16(b, 2, be);
	put16(b, 4, be);
	put32(b, 0, be);
	put32(b, 0, be);
	put32(b, 65535, be);
	put32(b, link, be);
}

static void pcap_record(struct buf *b, int be, uint32_t sec, uint32_t frac, const struct buf *pkt)
{
	put32(b, sec, be);
	put32(b, frac, be);
	put32(b, (uint32_t)pkt->n, be);
	put32(b, (uint32_t)pkt->n, be);
	put(b, pkt->d, pkt->n);
}

static void pcap_both_orders_and_units(void **state)
{
	for (int be = 0; be < 2; be++) {
		for (int ns = 0; ns < 2; ns++) {
			struct buf b = {0}, pkt = {0};
			struct cap_stats st;
			struct seen s;

			put_ethernet_ipv4_udp(&pkt, 10);
			pcap_header(&b, be, ns, MPQ_LINKTYPE_ETHERNET);
			pcap_record(&b, be, 5, 7, &pkt);
			pcap_record(&b, be, 6, 8, &pkt);
			assert_int_equal(read_all(&b, &s, &st), 0);
			assert_string_equal(st.format, "pcap");
			assert_int_equal(s.packets, 2);
			assert_int_equal(st.truncated, 0);
			assert_int_equal(s.ts[0], 5000000000ull + (ns ? 7 : 7000));
			assert_int_equal(s.ts[1], 6000000000ull + (ns ? 8 : 8000));
			assert_int_equal(s.link[0], MPQ_LINKTYPE_ETHERNET);
			assert_int_equal(s.caplen[1], pkt.n);
		}
	}
}

static void pcap_truncated_last_record(void **state)
{
	struct buf b = {0}, pkt = {0};
	struct cap_stats st;
	struct seen s;

	put_ethernet_ipv4_udp(&pkt, 10);
	pcap_header(&b, 0, 0, MPQ_LINKTYPE_ETHERNET);
	pcap_record(&b, 0, 1, 0, &pkt);
	pcap_record(&b, 0, 2, 0, &pkt);
	b.n -= 5;
	assert_int_equal(read_all(&b, &s, &st), 0);
	assert_int_equal(s.packets, 1);
	assert_int_equal(st.truncated, 1);
	/* A record header cut short too. */
	b.n -= pkt.n;
	assert_int_equal(read_all(&b, &s, &st), 0);
	assert_int_equal(s.packets, 1);
	assert_int_equal(st.truncated, 1);
}

static void pcapng_block(struct buf *b, int be, uint32_t type, const struct buf *body)
{
	size_t pad = (4 - body->n % 4) % 4;
	uint32_t len = (uint32_t)(12 + body->n + pad);

	put32(b, type, be);
	put32(b, len, be);
	put(b, body->d, body->n);
	for (size_t i = 0; i < pad; i++)
		put8(b, 0);
	put32(b, len, be);
}

static void pcapng_shb(struct buf *b, int be)
{
	struct buf body = {0};

	put32(&body, 0x1a2b3c4d, be);
	put16(&body, 1, be);
	put16(&body, 0, be);
	put32(&body, 0xffffffff, be);
	put32(&body, 0xffffffff, be);
	pcapng_block(b, be, 0x0a0d0d0a, &body);
}

/* An interface with if_tsresol |tsresol| (0: the default, µs). */
static void pcapng_idb(struct buf *b, int be, uint16_t link, uint8_t tsresol)
{
	struct buf body = {0};

	put16(&body, link, be);
	put16(&body, 0, be);
	put32(&body, 0, be);
	if (tsresol) {
		put16(&body, 9, be);
		put16(&body, 1, be);
		put32(&body, tsresol, 0); /* one byte then padding */
		put16(&body, 0, be);
		put16(&body, 0, be);
	}
	pcapng_block(b, be, 1, &body);
}

static void pcapng_epb(struct buf *b, int be, uint32_t ifid, uint64_t ts, const struct buf *pkt)
{
	struct buf body = {0};

	put32(&body, ifid, be);
	put32(&body, (uint32_t)(ts >> 32), be);
	put32(&body, (uint32_t)ts, be);
	put32(&body, (uint32_t)pkt->n, be);
	put32(&body, (uint32_t)pkt->n, be);
	put(&body, pkt->d, pkt->n);
	pcapng_block(b, be, 6, &body);
}

static void pcapng_dsb(struct buf *b, int be, const char *text)
{
	struct buf body = {0};

	put32(&body, MPQ_PCAPNG_SECRETS_TLS, be);
	put32(&body, (uint32_t)strlen(text), be);
	put(&body, text, strlen(text));
	pcapng_block(b, be, 0xa, &body);
}

/* Two interfaces (Ethernet in µs, raw IP in ns), a secrets block between
 * packets, in both byte orders. */
static void build_pcapng(struct buf *b, int be)
{
	struct buf eth = {0}, raw = {0};

	put_ethernet_ipv4_udp(&eth, 3);
	put_ipv4_udp(&raw, 4);
	pcapng_shb(b, be);
	pcapng_idb(b, be, MPQ_LINKTYPE_ETHERNET, 0);
	pcapng_idb(b, be, MPQ_LINKTYPE_RAW, 9);
	pcapng_epb(b, be, 0, 1500000, &eth);
	pcapng_dsb(b, be, "CLIENT_RANDOM x y\n");
	pcapng_epb(b, be, 1, 2000000123, &raw);
}

static void pcapng_interfaces_and_secrets(void **state)
{
	for (int be = 0; be < 2; be++) {
		struct buf b = {0};
		struct cap_stats st;
		struct seen s;

		build_pcapng(&b, be);
		assert_int_equal(read_all(&b, &s, &st), 0);
		assert_string_equal(st.format, "pcapng");
		assert_int_equal(s.packets, 2);
		assert_int_equal(s.secrets, 1);
		assert_string_equal(s.secret, "CLIENT_RANDOM x y\n");
		assert_int_equal(s.link[0], MPQ_LINKTYPE_ETHERNET);
		assert_int_equal(s.ts[0], 1500000000ull);
		assert_int_equal(s.link[1], MPQ_LINKTYPE_RAW);
		assert_int_equal(s.ts[1], 2000000123ull);
		assert_int_equal(st.truncated, 0);
	}
}

static void pcapng_truncated_and_malformed(void **state)
{
	struct buf b = {0};
	struct cap_stats st;
	struct seen s;

	build_pcapng(&b, 0);
	b.n -= 9;
	assert_int_equal(read_all(&b, &s, &st), 0);
	assert_int_equal(s.packets, 1);
	assert_int_equal(s.secrets, 1);
	assert_int_equal(st.truncated, 1);

	/* A block whose trailing length disagrees with its leading one. */
	b.n = 0;
	build_pcapng(&b, 0);
	b.d[b.n - 1] ^= 1;
	assert_int_equal(read_all(&b, &s, &st), CAP_ERR_MALFORMED);
	assert_int_equal(s.packets, 1);
}

static void not_a_capture(void **state)
{
	struct buf b = {0};
	struct cap_stats st;
	struct seen s;

	put(&b, "GET / HTTP/1.1\r\n", 16);
	assert_int_equal(read_all(&b, &s, &st), CAP_ERR_NOT_CAPTURE);
	assert_null(st.format);
	b.n = 2;
	assert_int_equal(read_all(&b, &s, &st), CAP_ERR_NOT_CAPTURE);
	b.n = 0;
	assert_int_equal(read_all(&b, &s, &st), CAP_ERR_NOT_CAPTURE);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void zstd_by_magic(void **state)
{
	char path[] = "/tmp/test_trace_readersXXXXXX";
	uint8_t z[8192];
	struct cap_data loaded;
	struct buf b = {0};
	size_t zlen;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	build_pcapng(&b, 1);
	zlen = ZSTD_compress(z, sizeof(z), b.d, b.n, 3);
	assert_false(ZSTD_isError(zlen));
	write_file(path, z, zlen);
	assert_int_equal(cap_load(path, &loaded), 0);
	assert_int_equal(loaded.len, b.n);
	assert_false(loaded.mapped);
	assert_memory_equal(loaded.buf, b.d, b.n);
	cap_unload(&loaded);

	/* A cut stream keeps what it decompressed; the reader reports the cut. */
	write_file(path, z, zlen - 6);
	assert_int_equal(cap_load(path, &loaded), 0);
	assert_true(loaded.len <= b.n);
	cap_unload(&loaded);

	write_file(path, b.d, b.n);
	assert_int_equal(cap_load(path, &loaded), 0);
	assert_int_equal(loaded.len, b.n);
	assert_true(loaded.mapped);
	assert_memory_equal(loaded.buf, b.d, b.n);
	cap_unload(&loaded);
	unlink(path);
	assert_int_equal(cap_load(path, &loaded), CAP_ERR_IO);
}

static void udp_on_every_link_type(void **state)
{
	struct buf ip = {0}, f;
	struct cap_udp u;
	char a[64];

	put_ipv4_udp(&ip, 5);

	f = (struct buf){0};
	put_ethernet_ipv4_udp(&f, 5);
	for (int i = 0; i < 20; i++)
		put8(&f, 0); /* Ethernet padding past the IP packet */
	assert_int_equal(cap_udp_decode(MPQ_LINKTYPE_ETHERNET, f.d, f.n, &u), CAP_UDP_OK);
	assert_int_equal(u.len, 5);
	assert_true(mpq_addr_format(&u.src, a, sizeof(a)) > 0);
	assert_string_equal(a, "10.0.0.1:1000");
	assert_true(mpq_addr_format(&u.dst, a, sizeof(a)) > 0);
	assert_string_equal(a, "10.0.0.2:2000");

	assert_int_equal(cap_udp_decode(MPQ_LINKTYPE_RAW, ip.d, ip.n, &u), CAP_UDP_OK);
	assert_int_equal(cap_udp_decode(CAP_LINK_IPV4, ip.d, ip.n, &u), CAP_UDP_OK);

	f = (struct buf){0};
	put32(&f, 2, 0); /* DLT_NULL, little-endian writer */
	put(&f, ip.d, ip.n);
	assert_int_equal(cap_udp_decode(CAP_LINK_NULL, f.d, f.n, &u), CAP_UDP_OK);
	assert_int_equal(u.len, 5);

	f = (struct buf){0};
	for (int i = 0; i < 14; i++)
		put8(&f, 0);
	put16(&f, 0x0800, 1); /* SLL: protocol last */
	put(&f, ip.d, ip.n);
	assert_int_equal(cap_udp_decode(CAP_LINK_LINUX_SLL, f.d, f.n, &u), CAP_UDP_OK);
	assert_int_equal(u.len, 5);

	/* SLL2 with an IPv6 packet [fd00::1]:443 -> [fd00::2]:5555, 3 bytes. */
	f = (struct buf){0};
	put16(&f, 0x86dd, 1);
	for (int i = 0; i < 18; i++)
		put8(&f, 0);
	put32(&f, 0x60000000, 1);
	put16(&f, 11, 1);
	put8(&f, 17);
	put8(&f, 64);
	for (int k = 1; k <= 2; k++) {
		put16(&f, 0xfd00, 1);
		for (int i = 0; i < 13; i++)
			put8(&f, 0);
		put8(&f, (uint8_t)k);
	}
	put16(&f, 443, 1);
	put16(&f, 5555, 1);
	put16(&f, 11, 1);
	put16(&f, 0, 1);
	put(&f, "abc", 3);
	assert_int_equal(cap_udp_decode(CAP_LINK_LINUX_SLL2, f.d, f.n, &u), CAP_UDP_OK);
	assert_int_equal(u.len, 3);
	assert_memory_equal(u.payload, "abc", 3);
	assert_true(mpq_addr_format(&u.src, a, sizeof(a)) > 0);
	assert_string_equal(a, "[fd00::1]:443");

	/* Cut by the snap length: not a whole datagram. */
	assert_int_equal(cap_udp_decode(MPQ_LINKTYPE_RAW, ip.d, ip.n - 2, &u), CAP_UDP_OTHER);
	assert_int_equal(cap_udp_decode(CAP_LINK_LINUX_SLL2, f.d, 10, &u), CAP_UDP_MALFORMED);
	/* TCP and IP fragments are other traffic. */
	ip.d[9] = 6;
	ip_csum(ip.d);
	assert_int_equal(cap_udp_decode(MPQ_LINKTYPE_RAW, ip.d, ip.n, &u), CAP_UDP_OTHER);
	ip.d[9] = 17;
	ip.d[6] = 0x20; /* more fragments */
	ip_csum(ip.d);
	assert_int_equal(cap_udp_decode(MPQ_LINKTYPE_RAW, ip.d, ip.n, &u), CAP_UDP_OTHER);
	assert_int_equal(cap_udp_decode(12345, ip.d, ip.n, &u), CAP_UDP_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pcap_both_orders_and_units),
		cmocka_unit_test(pcap_truncated_last_record),
		cmocka_unit_test(pcapng_interfaces_and_secrets),
		cmocka_unit_test(pcapng_truncated_and_malformed),
		cmocka_unit_test(not_a_capture),
		cmocka_unit_test(zstd_by_magic),
		cmocka_unit_test(udp_on_every_link_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
