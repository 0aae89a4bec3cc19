/* pcapng writer: the bytes written parse back with a reader written here
 * from the format (block lengths at both ends, byte-order magic, interface
 * options, packets, secrets), plain and zstd-compressed, and tshark (when
 * installed) reads the file as written: interfaces, timestamps to the
 * nanosecond, lengths and the UDP inside raw IP packets. */
#include <arpa/inet.h>
#include <net/if.h>
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zstd.h>

#include "mpq/mpq.h"
#include "mpq/io/frame_hdr.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/capture_pcap.h"
#include "mpq/io/pcapng.h"
#include "mpq/io/qlog_file.h"

#define MAXN 16

/* What the reader found. */
struct parsed {
	int n_if;
	uint16_t linktype[MAXN];
	uint32_t snaplen[MAXN];
	char name[MAXN][64];
	int tsresol[MAXN];
	int n_pkt;
	uint32_t pkt_if[MAXN];
	uint64_t pkt_ts[MAXN];
	uint32_t pkt_caplen[MAXN], pkt_origlen[MAXN];
	uint8_t pkt_data[MAXN][128];
	int pkt_after_secrets[MAXN]; /* how many DSBs came before it */
	int n_dsb;
	char secrets[512];
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* Parses a whole file in host byte order; fails the test on anything that
 * is not well formed. */
static void parse(const uint8_t *b, size_t n, struct parsed *p)
{
	size_t at = 0;

	memset(p, 0, sizeof(*p));
	assert_true(n >= 28);
	assert_int_equal(rd32(b), MPQ_PCAPNG_SHB);
	assert_int_equal(rd32(b + 8), MPQ_PCAPNG_BYTE_ORDER_MAGIC);
	assert_int_equal(rd16(b + 12), 1); /* major */
	assert_int_equal(rd16(b + 14), 0); /* minor */
	while (at < n) {
		uint32_t type, len;
		const uint8_t *blk = b + at;

		assert_true(n - at >= 12);
		type = rd32(blk);
		len = rd32(blk + 4);
		assert_int_equal(len % 4, 0);
		assert_true(len >= 12 && len <= n - at);
		assert_int_equal(rd32(blk + len - 4), len);
		if (type == MPQ_PCAPNG_IDB) {
			size_t o = 16;
			int i = p->n_if++;

			assert_true(i < MAXN);
			p->linktype[i] = rd16(blk + 8);
			p->snaplen[i] = rd32(blk + 12);
			for (;;) {
				uint16_t code, olen;

				assert_true(o + 4 <= len - 4);
				code = rd16(blk + o);
				olen = rd16(blk + o + 2);
				assert_true(o + 4 + olen <= len - 4);
				if (code == 0)
					break;
				if (code == 2) {
					assert_true(olen < 64);
					memcpy(p->name[i], blk + o + 4, olen);
				}
				if (code == 9) {
					assert_int_equal(olen, 1);
					p->tsresol[i] = blk[o + 4];
				}
				o += 4 + ((olen + 3u) & ~3u);
			}
		} else if (type == MPQ_PCAPNG_EPB) {
			int i = p->n_pkt++;

			assert_true(i < MAXN);
			p->pkt_if[i] = rd32(blk + 8);
			assert_true((int)p->pkt_if[i] < p->n_if);
			p->pkt_ts[i] = (uint64_t)rd32(blk + 12) << 32 | rd32(blk + 16);
			p->pkt_caplen[i] = rd32(blk + 20);
			p->pkt_origlen[i] = rd32(blk + 24);
			assert_true(28 + ((p->pkt_caplen[i] + 3) & ~3u) + 4 <= len);
			assert_true(p->pkt_caplen[i] <= sizeof(p->pkt_data[i]));
			memcpy(p->pkt_data[i], blk + 28, p->pkt_caplen[i]);
			p->pkt_after_secrets[i] = p->n_dsb;
		} else if (type == MPQ_PCAPNG_DSB) {
			uint32_t sl = rd32(blk + 12);
			size_t have = strlen(p->secrets);

			assert_int_equal(rd32(blk + 8), MPQ_PCAPNG_SECRETS_TLS);
			assert_int_equal(len, 20 + ((sl + 3) & ~3u));
			assert_true(have + sl < sizeof(p->secrets));
			memcpy(p->secrets + have, blk + 16, sl);
			p->n_dsb++;
		} else {
			assert_int_equal(type, MPQ_PCAPNG_SHB);
			assert_int_equal(at, 0);
		}
		at += len;
	}
	assert_int_equal(at, n);
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = malloc(1 << 20);

	assert_non_null(f);
	assert_non_null(b);
	*n = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

static uint8_t *unzstd(const uint8_t *z, size_t zn, size_t *n)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	uint8_t *out = malloc(1 << 20);
	ZSTD_inBuffer in = {z, zn, 0};
	ZSTD_outBuffer o = {out, 1 << 20, 0};
	size_t rv;

	assert_non_null(out);
	do {
		rv = ZSTD_decompressStream(ds, &o, &in);
		assert_false(ZSTD_isError(rv));
	} while (in.pos < in.size);
	assert_int_equal(rv, 0); /* the frame is complete */
	ZSTD_freeDStream(ds);
	*n = o.pos;
	return out;
}

static const char keylog1[] = "CLIENT_HANDSHAKE_TRAFFIC_SECRET 00 11\n";
static const char keylog2[] = "CLIENT_TRAFFIC_SECRET_0 00 2233\n";
#define TS0 1700000000123456789ULL

/* A UDP datagram over IPv4 10.99.0.1:4433 -> 10.99.0.2:5555 as raw IP
 * (the Ethernet header dropped); returns its length. */
static size_t raw_udp4(uint8_t *buf, size_t cap, const char *payload)
{
	mpq_frame_udp h;
	size_t hl = mpq_frame_hdr_udp_len(AF_INET), len = strlen(payload);
	int flen;

	memset(&h, 0, sizeof(h));
	assert_int_equal(mpq_addr_parse(&h.src, "10.99.0.1:4433"), 0);
	assert_int_equal(mpq_addr_parse(&h.dst, "10.99.0.2:5555"), 0);
	memcpy(buf + hl, payload, len);
	flen = mpq_frame_hdr_build_udp(buf, cap, &h, len);
	assert_true(flen > MPQ_ETH_HLEN);
	memmove(buf, buf + MPQ_ETH_HLEN, (size_t)flen - MPQ_ETH_HLEN);
	return (size_t)flen - MPQ_ETH_HLEN;
}

/* Writes: two interfaces, a DSB, two packets, a DSB, a packet cut by the
 * snaplen. */
static void write_sample(const char *path, uint8_t *ip, size_t *iplen)
{
	mpq_pcapng *w;
	uint8_t eth[60] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5};

	*iplen = raw_udp4(ip, 128, "hello, pcapng");
	assert_int_equal(mpq_pcapng_open(&w, path), 0);
	assert_int_equal(mpq_pcapng_add_interface(w, MPQ_LINKTYPE_RAW, "veth-a", 0), 0);
	assert_int_equal(mpq_pcapng_add_interface(w, MPQ_LINKTYPE_ETHERNET, "xsk0", 20), 1);
	assert_int_equal(mpq_pcapng_add_interface(w, MPQ_LINKTYPE_RAW, NULL, 0), 2);
	assert_int_equal(mpq_pcapng_secrets(w, keylog1, strlen(keylog1)), 0);
	assert_int_equal(mpq_pcapng_packet(w, 0, TS0, ip, *iplen, *iplen), 0);
	assert_int_equal(mpq_pcapng_packet(w, 1, TS0 + 1, eth, sizeof(eth), sizeof(eth)), 0);
	assert_int_equal(mpq_pcapng_secrets(w, keylog2, strlen(keylog2)), 0);
	assert_int_equal(mpq_pcapng_packet(w, 0, TS0 + 1000000001ULL, ip, *iplen - 3, *iplen), 0);
	/* Refused: unknown interface, caplen beyond origlen. */
	assert_int_equal(mpq_pcapng_packet(w, 3, TS0, ip, 1, 1), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_pcapng_packet(w, 0, TS0, ip, 2, 1), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_pcapng_close(w), 0);
}

static void check_sample(const struct parsed *p, const uint8_t *ip, size_t iplen)
{
	assert_int_equal(p->n_if, 3);
	assert_int_equal(p->linktype[0], 101);
	assert_int_equal(p->linktype[1], 1);
	assert_string_equal(p->name[0], "veth-a");
	assert_string_equal(p->name[1], "xsk0");
	assert_string_equal(p->name[2], "");
	assert_int_equal(p->snaplen[1], 20);
	for (int i = 0; i < 3; i++)
		assert_int_equal(p->tsresol[i], 9);
	assert_int_equal(p->n_pkt, 3);
	assert_int_equal(p->pkt_if[0], 0);
	assert_int_equal(p->pkt_ts[0], TS0);
	assert_int_equal(p->pkt_caplen[0], iplen);
	assert_memory_equal(p->pkt_data[0], ip, iplen);
	assert_int_equal(p->pkt_if[1], 1);
	assert_int_equal(p->pkt_ts[1], TS0 + 1);
	assert_int_equal(p->pkt_caplen[1], 20); /* the snaplen */
	assert_int_equal(p->pkt_origlen[1], 60);
	assert_int_equal(p->pkt_caplen[2], iplen - 3);
	assert_int_equal(p->pkt_origlen[2], iplen);
	assert_int_equal(p->pkt_after_secrets[0], 1);
	assert_int_equal(p->pkt_after_secrets[2], 2);
	assert_int_equal(p->n_dsb, 2);
	assert_string_equal(p->secrets, "CLIENT_HANDSHAKE_TRAFFIC_SECRET 00 11\n"
					"CLIENT_TRAFFIC_SECRET_0 00 2233\n");
}

static void test_parse_back(void **state)
{
	char path[] = "/tmp/test_pcapng.XXXXXX";
	uint8_t ip[128], *b;
	size_t iplen, n;
	struct parsed p;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	write_sample(path, ip, &iplen);
	b = slurp(path, &n);
	parse(b, n, &p);
	check_sample(&p, ip, iplen);
	free(b);
	unlink(path);
}

static void test_zstd(void **state)
{
	char path[] = "/tmp/test_pcapng.XXXXXX.pcapng.zst";
	uint8_t ip[128], *z, *b;
	size_t iplen, zn, n;
	struct parsed p;
	int fd = mkstemps(path, 11);

	assert_true(fd >= 0);
	close(fd);
	write_sample(path, ip, &iplen);
	z = slurp(path, &zn);
	assert_int_equal(rd32(z), 0xfd2fb528u); /* the zstd frame magic */
	b = unzstd(z, zn, &n);
	parse(b, n, &p);
	check_sample(&p, ip, iplen);
	free(z);
	free(b);
	unlink(path);
}

static void test_open_errors(void **state)
{
	mpq_pcapng *w;

	assert_int_equal(mpq_pcapng_open(&w, "/nonexistent-dir/x.pcapng"), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_pcapng_open(&w, ""), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_pcapng_close(NULL), 0);
}

/* tshark reads what we write: one line per packet with its interface, its
 * time to the nanosecond, its lengths and, for the raw IP ones, the UDP
 * ports inside. */
static void test_tshark_reads(void **state)
{
	char path[] = "/tmp/test_pcapng.XXXXXX", cmd[512], line[256];
	const char *want[] = {
		"0\t1700000000.123456789\t41\t41\t4433\t5555",
		"1\t1700000000.123456790\t20\t60\t\t",
		"0\t1700000001.123456790\t38\t41\t4433\t5555",
	};
	uint8_t ip[128];
	size_t iplen;
	int fd = mkstemp(path), i = 0;
	FILE *f;

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		printf("tshark not installed: skipped\n");
		skip();
	}
	assert_true(fd >= 0);
	close(fd);
	write_sample(path, ip, &iplen);
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -T fields -e frame.interface_id -e frame.time_epoch "
		 "-e frame.cap_len -e frame.len -e udp.srcport -e udp.dstport 2>/dev/null",
		 path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		assert_true(i < 3);
		assert_string_equal(line, want[i]);
		i++;
	}
	assert_int_equal(pclose(f), 0);
	assert_int_equal(i, 3);
	unlink(path);
}

static void put_record(mpq_capture_pcap *c, bool sent, uint32_t ifindex, const char *src,
		       const char *dst, const char *payload, const uint8_t *frame, size_t flen)
{
	const mpq_capture *hook = mpq_capture_pcap_hook(c);
	mpq_addr s, d;
	mpq_capture_dgram r = {
		.ts_ns = TS0,
		.ifindex = ifindex,
		.sent = sent,
		.src = &s,
		.dst = &d,
		.data = (const uint8_t *)payload,
		.len = strlen(payload),
		.frame = frame,
		.frame_len = flen,
	};

	assert_int_equal(mpq_addr_parse(&s, src), 0);
	assert_int_equal(mpq_addr_parse(&d, dst), 0);
	hook->dgram(hook->user_data, &r);
}

/* The UDP datagram in raw IPv4 packet |p|: addresses, ports, payload. */
static void assert_udp4(const uint8_t *p, uint32_t len, const char *src, uint16_t sport,
			const char *dst, uint16_t dport, const char *payload)
{
	struct in_addr a;

	assert_int_equal(len, 28 + strlen(payload));
	assert_int_equal(p[0], 0x45);
	assert_int_equal(p[9], 17);
	inet_pton(AF_INET, src, &a);
	assert_memory_equal(p + 12, &a, 4);
	inet_pton(AF_INET, dst, &a);
	assert_memory_equal(p + 16, &a, 4);
	assert_int_equal(p[20] << 8 | p[21], sport);
	assert_int_equal(p[22] << 8 | p[23], dport);
	assert_memory_equal(p + 28, payload, strlen(payload));
}

/* --pcap's writer: raw IP built from the record's addresses, the source and
 * interface of a send that names neither learned from a receive, Ethernet
 * frames as they are on an interface block of their own, and a received
 * datagram held until the next send, behind the secrets logged meanwhile
 * (what processing it derived). */
static void test_capture_pcap(void **state)
{
	char path[] = "/tmp/test_pcapng.XXXXXX";
	uint8_t eth[60] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5}, *b;
	uint32_t lo = if_nametoindex("lo");
	mpq_capture_pcap *c;
	struct parsed p;
	size_t n;
	int fd = mkstemp(path);

	assert_true(fd >= 0 && lo > 0);
	close(fd);
	assert_int_equal(mpq_capture_pcap_open(&c, path), 0);
	put_record(c, true, lo, "127.0.0.1:4433", "127.0.0.2:5555", "initial", NULL, 0);
	put_record(c, false, lo, "127.0.0.2:5555", "127.0.0.1:4433", "handshake", NULL, 0);
	mpq_capture_pcap_keylog(c, "SERVER_HANDSHAKE_TRAFFIC_SECRET 00 11");
	put_record(c, true, 0, "0.0.0.0:4433", "127.0.0.2:5555", "finished", NULL, 0);
	put_record(c, false, lo, "127.0.0.2:5555", "127.0.0.1:4433", "", eth, sizeof(eth));
	/* A client's first Initial from a wildcard socket, to a local address
	 * nothing was heard from yet: from that address itself, over lo. */
	put_record(c, true, 0, "0.0.0.0:40000", "127.0.0.3:4433", "first", NULL, 0);
	assert_int_equal(mpq_capture_pcap_close(c), 0);

	b = slurp(path, &n);
	parse(b, n, &p);
	assert_int_equal(p.n_if, 2);
	assert_int_equal(p.linktype[0], MPQ_LINKTYPE_RAW);
	assert_int_equal(p.linktype[1], MPQ_LINKTYPE_ETHERNET);
	assert_string_equal(p.name[0], "lo");
	assert_string_equal(p.name[1], "lo");
	assert_int_equal(p.n_dsb, 1);
	assert_string_equal(p.secrets, "SERVER_HANDSHAKE_TRAFFIC_SECRET 00 11\n");
	assert_int_equal(p.n_pkt, 5);
	assert_int_equal(p.pkt_after_secrets[0], 0);
	assert_int_equal(p.pkt_after_secrets[1], 1); /* held behind the secret */
	assert_udp4(p.pkt_data[0], p.pkt_caplen[0], "127.0.0.1", 4433, "127.0.0.2", 5555,
		    "initial");
	assert_udp4(p.pkt_data[1], p.pkt_caplen[1], "127.0.0.2", 5555, "127.0.0.1", 4433,
		    "handshake");
	assert_udp4(p.pkt_data[2], p.pkt_caplen[2], "127.0.0.1", 4433, "127.0.0.2", 5555,
		    "finished");
	assert_int_equal(p.pkt_if[2], 0);
	assert_int_equal(p.pkt_if[3], 1);
	assert_int_equal(p.pkt_caplen[3], sizeof(eth));
	assert_memory_equal(p.pkt_data[3], eth, sizeof(eth));
	assert_udp4(p.pkt_data[4], p.pkt_caplen[4], "127.0.0.3", 40000, "127.0.0.3", 4433,
		    "first");
	assert_int_equal(p.pkt_if[4], 0); /* lo's raw IP interface */
	for (int i = 0; i < 5; i++)
		assert_int_equal(p.pkt_ts[i], TS0);
	free(b);
	unlink(path);
}

/* A sink into memory that can be made to fail, and counts its calls. */
struct mem {
	uint8_t buf[1 << 20];
	size_t len;
	int writes, flushes, closes;
	int fail_at; /* the write that fails (1-based); 0: none */
};

static int mem_write(void *user, const void *data, size_t len)
{
	struct mem *m = user;

	if (++m->writes == m->fail_at)
		return MPQ_ERR_INTERNAL;
	assert_true(m->len + len <= sizeof(m->buf));
	memcpy(m->buf + m->len, data, len);
	m->len += len;
	return 0;
}

static int mem_flush(void *user)
{
	((struct mem *)user)->flushes++;
	return 0;
}

static int mem_close(void *user)
{
	((struct mem *)user)->closes++;
	return 0;
}

/* Threads of this process other than the main one that do not block |sig|
 * (SigBlk in /proc/self/task/TID/status). */
static int threads_taking(int sig)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0, others = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[320], line[128];
		unsigned long long blk = 0;
		FILE *f;

		if (e->d_name[0] == '.' || atoi(e->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			sscanf(line, "SigBlk: %llx", &blk);
		fclose(f);
		others++;
		if (!(blk & 1ULL << (sig - 1)))
			n++;
	}
	closedir(d);
	assert_true(others > 0); /* the writer thread is there */
	return n;
}

/* mpq_qlog_sink_thread: signals are not the thread's, every byte arrives in order, in pieces far fewer
 * than the writes (a quarter ring each), flush drains the ring before it
 * flushes, writes larger than the ring wait for room, and an error of the
 * inner sink comes back. */
static void test_sink_thread(void **state)
{
	(void)state;
	static struct mem m;
	static uint8_t want[600000];
	mpq_qlog_sink inner = {MPQ_QLOG_SINK_VERSION, mem_write, mem_flush, mem_close, &m}, t;
	size_t off = 0, n;

	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 7 + i / 251);
	memset(&m, 0, sizeof(m));
	assert_int_equal(mpq_qlog_sink_thread(&t, &inner, 100), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_qlog_sink_thread(&t, &inner, 65536), 0);
	/* A signal the program blocks later to read it from a signalfd (as
	 * mpq_loop does) must not be the thread's: SIGTERM delivered there
	 * would end the process. Every thread but this one blocks it. */
	assert_int_equal(threads_taking(SIGTERM), 0);
	/* Small writes of varied sizes, then one over the ring's size. */
	for (n = 1; off + n <= 200000; off += n, n = n % 97 + 1)
		assert_int_equal(t.write(t.user_data, want + off, n), 0);
	assert_int_equal(t.flush(t.user_data), 0);
	assert_int_equal(m.len, off);
	assert_int_equal(m.flushes, 1);
	assert_true(m.writes < 200000 / 16384 + 8);
	assert_int_equal(t.write(t.user_data, want + off, sizeof(want) - off), 0);
	assert_int_equal(t.close(t.user_data), 0);
	assert_int_equal(m.closes, 1);
	assert_int_equal(m.len, sizeof(want));
	assert_memory_equal(m.buf, want, sizeof(want));

	/* The inner sink fails its second write: later calls return it. */
	memset(&m, 0, sizeof(m));
	m.fail_at = 2;
	assert_int_equal(mpq_qlog_sink_thread(&t, &inner, 4096), 0);
	int rv = 0;
	for (int i = 0; i < 100 && !rv; i++)
		rv = t.write(t.user_data, want, 1000);
	assert_int_equal(rv, MPQ_ERR_INTERNAL);
	assert_int_equal(t.flush(t.user_data), MPQ_ERR_INTERNAL);
	assert_int_equal(t.close(t.user_data), MPQ_ERR_INTERNAL);
	assert_int_equal(m.closes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_back),   cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_open_errors),  cmocka_unit_test(test_tshark_reads),
		cmocka_unit_test(test_capture_pcap), cmocka_unit_test(test_sink_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
