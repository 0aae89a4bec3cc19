/* The steering program (xdp/mpq_steer.bpf.c) and its loader (lib/io/xdp_prog.c).
 *
 * Verdicts: crafted frames through BPF_PROG_TEST_RUN, each checked for its
 * return value and for the exact change of every counter. On this kernel a
 * redirect to an empty XSKMAP slot makes bpf_redirect_map return its fallback
 * (XDP_PASS, counted as redirect_failed), and a slot holding an AF_XDP socket
 * returns XDP_REDIRECT (the frame is not delivered: test runs are not live);
 * so one AF_XDP socket, moved between slots, shows which worker a frame went to.
 * The frames go from 192.0.2.1 / 2001:db8::1 to 192.0.2.2 / 2001:db8::2, the
 * addresses the test-run program serves (and va has).
 *
 * Attaching: in a network namespace of its own (lo, a veth pair): generic
 * fallback on lo, native on veth, detach, a program left by a killed process
 * replaced, the addresses served taken from the interface, and frames sent
 * into the veth pair received on the AF_XDP socket.
 *
 * Needs root (CAP_BPF, CAP_NET_ADMIN); skips every test with a message
 * otherwise. */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>
#include <cmocka.h>

#include "mpq/io/netaddr.h"
#include "mpq/io/xdp_prog.h"

#define PORT 4433
#define PORT2 8443
#define WORKERS 4
#define SEED 0x5eed1234u
#define NFRAMES 64
#define FRAME_SZ XSK_UMEM__DEFAULT_FRAME_SIZE

enum verdict {
	V_PASS,	    /* XDP_PASS, no redirect tried */
	V_FAILED,   /* redirect tried, slot empty: XDP_PASS */
	V_REDIRECT, /* XDP_REDIRECT */
};

/* An AF_XDP socket with its UMEM. */
struct xsk {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *sock;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
};

static struct {
	bool ok;
	char why[160];
	mpq_xdp_prog *p;      /* loaded, not attached: for test runs */
	mpq_xdp_prog *run_on; /* what run() runs, when not p */
	struct xsk x;	      /* bound to va, queue 0 */
	int lo, va, vb;	      /* ifindexes in our namespace */
	char log[16384];      /* level 0 and 1 log lines of the attach tests */
} env;

static const uint8_t cid_ours[8] = {0x07, 0x03, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6};
static const uint8_t cid_foreign[8] = {0x5a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
static const uint8_t cid_long[12] = {0x9c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

static void collect_log(void *ud, int level, const char *msg)
{
	size_t n = strlen(env.log);

	(void)ud;
	if (level <= 1)
		snprintf(env.log + n, sizeof(env.log) - n, "%s\n", msg);
}

/* --- frames -------------------------------------------------------------- */

struct frame {
	uint8_t b[1600];
	size_t len;
	size_t l3; /* offset of the IP header */
	size_t l4; /* offset of the UDP header */
};

enum { F_V6 = 1, F_VLAN = 2, F_QINQ = 4, F_IPOPT = 8, F_FRAG = 16, F_HBH = 32 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet (tags as |flags| say) + IPv4/IPv6 + |proto| header + |payload|. */
static void build(struct frame *f, unsigned int flags, uint8_t proto, uint16_t dport,
		  const uint8_t *payload, size_t plen)
{
	uint8_t *b = f->b;
	size_t o = 12, l4len = (proto == IPPROTO_UDP ? 8 : 20) + plen;

	memset(f, 0, sizeof(*f));
	memset(b, 0xff, 6);
	memcpy(b + 6, "\x02\x00\x00\x00\x00\x01", 6);
	for (int tags = (flags & F_QINQ) ? 2 : (flags & F_VLAN) ? 1 : 0; tags > 0; tags--) {
		put16(b + o, tags == 2 ? ETH_P_8021AD : ETH_P_8021Q);
		put16(b + o + 2, 42);
		o += 4;
	}
	put16(b + o, (flags & F_V6) ? ETH_P_IPV6 : ETH_P_IP);
	o += 2;
	f->l3 = o;
	if (flags & F_V6) {
		size_t hbh = (flags & F_HBH) ? 8 : 0;

		b[o] = 0x60;
		put16(b + o + 4, (uint16_t)(l4len + hbh));
		b[o + 6] = hbh ? 0 : proto;
		b[o + 7] = 64;
		memcpy(b + o + 8, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
		memcpy(b + o + 24, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
		o += 40;
		if (hbh) {
			b[o] = proto; /* next header; length 0: 8 bytes; PadN */
			b[o + 2] = 1;
			b[o + 3] = 4;
			o += 8;
		}
	} else {
		size_t ihl = (flags & F_IPOPT) ? 24 : 20;

		b[o] = (uint8_t)(0x40 | ihl / 4);
		put16(b + o + 2, (uint16_t)(ihl + l4len));
		if (flags & F_FRAG)
			put16(b + o + 6, 0x2000); /* More Fragments */
		b[o + 8] = 64;
		b[o + 9] = proto;
		memcpy(b + o + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
		if (ihl > 20)
			memcpy(b + o + 20, "\x01\x01\x01\x00", 4); /* NOP NOP NOP EOL */
		o += ihl;
	}
	f->l4 = o;
	put16(b + o, 50123);
	put16(b + o + 2, dport);
	if (proto == IPPROTO_UDP) {
		put16(b + o + 4, (uint16_t)l4len);
		o += 8;
	} else {
		b[o + 12] = 0x50; /* TCP data offset */
		o += 20;
	}
	memcpy(b + o, payload, plen);
	f->len = o + plen;
}

/* A short header packet to |dcid| (8 bytes). */
static size_t quic_short(uint8_t *q, const uint8_t *dcid)
{
	q[0] = 0x43;
	memcpy(q + 1, dcid, 8);
	memset(q + 9, 0xee, 30);
	return 39;
}

/* A long header packet: |first| (form, fixed bit, type), |version|, DCID,
 * an 8-byte SCID, padded to |total| bytes. */
static size_t quic_long(uint8_t *q, uint8_t first, uint32_t version, const uint8_t *dcid,
			size_t dlen, size_t total)
{
	size_t o = 0;

	q[o++] = first;
	q[o++] = (uint8_t)(version >> 24);
	q[o++] = (uint8_t)(version >> 16);
	q[o++] = (uint8_t)(version >> 8);
	q[o++] = (uint8_t)version;
	q[o++] = (uint8_t)dlen;
	if (dlen) /* a zero-length DCID may come as NULL */
		memcpy(q + o, dcid, dlen);
	o += dlen;
	q[o++] = 8;
	memset(q + o, 0x33, 8);
	o += 8;
	memset(q + o, 0, total > o ? total - o : 0);
	return total > o ? total : o;
}

#define V1_INITIAL 0xc3
#define V1_0RTT 0xd3
#define V1_HANDSHAKE 0xe3
#define V2_RETRY 0xc3
#define V2_INITIAL 0xd3
#define V2_0RTT 0xe3

static void udp_short(struct frame *f, unsigned int flags, uint16_t port, const uint8_t *dcid)
{
	uint8_t q[64];

	build(f, flags, IPPROTO_UDP, port, q, quic_short(q, dcid));
}

static void udp_long(struct frame *f, unsigned int flags, uint8_t first, uint32_t version,
		     const uint8_t *dcid, size_t dlen, size_t total)
{
	uint8_t q[1300];

	build(f, flags, IPPROTO_UDP, PORT, q, quic_long(q, first, version, dcid, dlen, total));
}

/* The worker the 4-tuple hash of |f| picks (mpq_steer.h). */
static uint32_t hashed_worker(const struct frame *f, bool v6)
{
	uint32_t w[9];

	if (!v6) {
		memcpy(w, f->b + f->l3 + 12, 8);
		memcpy(w + 2, f->b + f->l4, 4);
		return mpq_steer_hash(SEED, w, 3) % WORKERS;
	}
	memcpy(w, f->b + f->l3 + 8, 32);
	memcpy(w + 8, f->b + f->l4, 4);
	return mpq_steer_hash(SEED, w, 9) % WORKERS;
}

/* --- running ------------------------------------------------------------- */

static void counters(mpq_xdp_prog *p, uint64_t *c)
{
	assert_int_equal(mpq_xdp_prog_counters(p, c), 0);
}

/* Runs |len| bytes of |f| through the loaded program and checks the verdict
 * and that exactly |decision| and the verdict's counters moved, by one. */
static void run_len(const struct frame *f, size_t len, int decision, enum verdict v)
{
	uint64_t before[MPQ_STEER_CNT__MAX], after[MPQ_STEER_CNT__MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = (uint32_t)len,
		    .repeat = 1);

	mpq_xdp_prog *p = env.run_on ? env.run_on : env.p;

	counters(p, before);
	assert_int_equal(bpf_prog_test_run_opts(mpq_xdp_prog_fd(p), &opts), 0);
	counters(p, after);
	assert_int_equal(opts.retval, v == V_REDIRECT ? XDP_REDIRECT : XDP_PASS);
	for (int i = 0; i < MPQ_STEER_CNT__MAX; i++) {
		uint64_t want = i == decision;

		want += i == MPQ_STEER_CNT_REDIRECTED && v == V_REDIRECT;
		want += i == MPQ_STEER_CNT_REDIRECT_FAILED && v == V_FAILED;
		want += i == MPQ_STEER_CNT_PASSED && v != V_REDIRECT;
		if (after[i] - before[i] != want)
			fail_msg("len %zu: counter %s moved by %llu, expected %llu", len,
				 mpq_xdp_prog_counter_name((unsigned int)i),
				 (unsigned long long)(after[i] - before[i]),
				 (unsigned long long)want);
	}
}

static void run(const struct frame *f, int decision, enum verdict v)
{
	run_len(f, f->len, decision, v);
}

/* Puts the socket in the slot of |worker| (queue 0) only; -1: in none. */
static void socket_at(mpq_xdp_prog *p, int worker)
{
	for (uint32_t w = 0; w < WORKERS; w++) {
		int ret = mpq_xdp_prog_set_xsk(p, 0, w,
					       (int)w == worker ? xsk_socket__fd(env.x.sock) : -1);

		assert_int_equal(ret, 0);
	}
}

/* A CID of ours for |worker|, whose slot holds the socket. */
static void our_cid_at(uint8_t cid[8], int worker)
{
	memcpy(cid, cid_ours, 8);
	cid[1] = (uint8_t)worker;
	socket_at(env.p, worker);
}

static void need_env(void)
{
	if (!env.ok) {
		print_message("skipped: %s\n", env.why);
		skip();
	}
}

/* --- setup --------------------------------------------------------------- */

static int xsk_open(struct xsk *x, const char *ifname)
{
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	uint32_t idx;
	int ret;

	x->area = mmap(NULL, NFRAMES * FRAME_SZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED)
		return -errno;
	ret = xsk_umem__create(&x->umem, x->area, NFRAMES * FRAME_SZ, &x->fill, &x->comp, NULL);
	if (ret)
		return ret;
	ret = xsk_socket__create(&x->sock, ifname, 0, x->umem, &x->rx, &x->tx, &cfg);
	if (ret)
		return ret;
	if (xsk_ring_prod__reserve(&x->fill, NFRAMES / 2, &idx) != NFRAMES / 2)
		return -ENOBUFS;
	for (uint32_t i = 0; i < NFRAMES / 2; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = (uint64_t)i * FRAME_SZ;
	xsk_ring_prod__submit(&x->fill, NFRAMES / 2);
	return 0;
}

static bool sh(const char *cmd)
{
	return system(cmd) == 0;
}

static int setup(void **state)
{
	mpq_xdp_prog_config cfg;
	int ret;

	(void)state;
	if (geteuid() != 0) {
		snprintf(env.why, sizeof(env.why),
			 "not root (XDP and BPF_PROG_TEST_RUN need "
			 "CAP_BPF and CAP_NET_ADMIN)");
		return 0;
	}
	if (unshare(CLONE_NEWNET)) {
		snprintf(env.why, sizeof(env.why), "unshare(CLONE_NEWNET): %s", strerror(errno));
		return 0;
	}
	if (!sh("ip link set lo up && ip link add va type veth peer name vb && "
		"ip addr add 192.0.2.2/24 dev va && ip addr add 192.0.2.3/24 dev va && "
		"ip addr add 2001:db8::2/64 dev va nodad && "
		"ip link set va up && ip link set vb up")) {
		snprintf(env.why, sizeof(env.why), "cannot make a veth pair with ip(8)");
		return 0;
	}
	env.lo = (int)if_nametoindex("lo");
	env.va = (int)if_nametoindex("va");
	env.vb = (int)if_nametoindex("vb");

	mpq_xdp_prog_config_default(&cfg);
	cfg.ports[0] = PORT;
	cfg.ports[1] = PORT2;
	cfg.n_workers = WORKERS;
	cfg.hash_seed = SEED;
	cfg.n_addrs = 3;
	assert_int_equal(mpq_addr_parse(&cfg.addrs[0], "192.0.2.2:0"), 0);
	assert_int_equal(mpq_addr_parse(&cfg.addrs[1], "[2001:db8::2]:0"), 0);
	assert_int_equal(mpq_addr_parse(&cfg.addrs[2], "0.0.0.0:0"), 0); /* no interface: none */
	assert_int_equal(mpq_xdp_prog_new(&env.p, &cfg, NULL), 0);
	ret = mpq_xdp_prog_load(env.p);
	if (ret) {
		snprintf(env.why, sizeof(env.why), "BPF unavailable: loading failed: %s",
			 strerror(mpq_xdp_prog_oserr(env.p)->errnum));
		return 0;
	}
	ret = xsk_open(&env.x, "va");
	if (ret) {
		snprintf(env.why, sizeof(env.why), "AF_XDP socket on a veth: %s", strerror(-ret));
		return 0;
	}
	env.ok = true;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mpq_xdp_prog_del(env.p);
	if (env.x.sock)
		xsk_socket__delete(env.x.sock);
	if (env.x.umem)
		xsk_umem__delete(env.x.umem);
	return 0;
}

/* --- verdicts ------------------------------------------------------------ */

static void worker_id_from_cid(void **state)
{
	static const uint8_t nine[9] = {0x07, 1, 2, 3, 4, 5, 6, 7, 8};
	struct frame f;
	uint8_t cid[8];

	(void)state;
	need_env();
	memcpy(cid, cid_ours, 8);
	for (int w = 0; w < WORKERS; w++) {
		cid[1] = (uint8_t)w;
		socket_at(env.p, w);
		udp_short(&f, 0, PORT, cid);
		run(&f, MPQ_STEER_CNT_SHORT_WORKER_ID, V_REDIRECT);
		udp_long(&f, 0, V1_HANDSHAKE, MPQ_VERSION_1, cid, 8, 200);
		run(&f, MPQ_STEER_CNT_LONG_WORKER_ID, V_REDIRECT);
		socket_at(env.p, (w + 1) % WORKERS);
		udp_short(&f, 0, PORT, cid);
		run(&f, MPQ_STEER_CNT_SHORT_WORKER_ID, V_FAILED);
	}
	/* A worker ID we do not have. */
	cid[1] = WORKERS;
	udp_short(&f, 0, PORT, cid);
	run(&f, MPQ_STEER_CNT_BAD_WORKER, V_PASS);
	udp_long(&f, 0, V1_HANDSHAKE, MPQ_VERSION_1, cid, 8, 200);
	run(&f, MPQ_STEER_CNT_BAD_WORKER, V_PASS);
	/* Our layout needs both the first octet and the length. */
	cid[1] = 1;
	cid[0] = 0x47;
	udp_short(&f, 0, PORT, cid);
	run(&f, MPQ_STEER_CNT_NO_ROUTE, V_PASS);
	cid[0] = 0x07;
	udp_long(&f, 0, V1_HANDSHAKE, MPQ_VERSION_1, nine, 9, 200);
	run(&f, MPQ_STEER_CNT_NO_ROUTE, V_PASS);
	/* Unknown versions: the DCID is still read (RFC 8999), no hashing. */
	udp_long(&f, 0, 0xc3, 0x1a2a3a4a, cid, 8, 200);
	socket_at(env.p, 1);
	run(&f, MPQ_STEER_CNT_LONG_WORKER_ID, V_REDIRECT);
	udp_long(&f, 0, 0xc3, 0x1a2a3a4a, cid_foreign, 8, 1200);
	run(&f, MPQ_STEER_CNT_NO_ROUTE, V_PASS);
}

/* Initials and 0-RTT (v1 and v2) with unknown DCIDs go to the hashed worker. */
static void initial_hash(void **state)
{
	static const struct {
		uint8_t first;
		uint32_t version;
		int decision;
	} cases[] = {
		{V1_INITIAL, MPQ_VERSION_1, MPQ_STEER_CNT_INITIAL_HASH},
		{V1_0RTT, MPQ_VERSION_1, MPQ_STEER_CNT_ZERO_RTT_HASH},
		{V2_INITIAL, MPQ_VERSION_2, MPQ_STEER_CNT_INITIAL_HASH},
		{V2_0RTT, MPQ_VERSION_2, MPQ_STEER_CNT_ZERO_RTT_HASH},
	};
	bool seen[WORKERS] = {false};
	struct frame f;

	(void)state;
	need_env();
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (unsigned int flags = 0; flags <= F_V6; flags += F_V6) {
			for (uint16_t sport = 1000; sport < 1016; sport++) {
				uint32_t w;

				udp_long(&f, flags, cases[c].first, cases[c].version, cid_foreign,
					 8, 1200);
				put16(f.b + f.l4, sport);
				w = hashed_worker(&f, flags & F_V6);
				seen[w] = true;
				socket_at(env.p, (int)w);
				run(&f, cases[c].decision, V_REDIRECT);
				socket_at(env.p, (int)(w + 1) % WORKERS);
				run(&f, cases[c].decision, V_FAILED);
			}
		}
	}
	for (int w = 0; w < WORKERS; w++)
		assert_true(seen[w]); /* 128 tuples reached every worker */

	/* Handshake (v1) and Retry (v2) with an unknown DCID: no route. */
	udp_long(&f, 0, V1_HANDSHAKE, MPQ_VERSION_1, cid_foreign, 8, 1200);
	run(&f, MPQ_STEER_CNT_NO_ROUTE, V_PASS);
	udp_long(&f, 0, V2_RETRY, MPQ_VERSION_2, cid_foreign, 8, 1200);
	run(&f, MPQ_STEER_CNT_NO_ROUTE, V_PASS);
	/* A client-chosen DCID that looks like ours with a worker we lack: hash. */
	uint8_t lookalike[8] = {0x07, 0xfe, 1, 2, 3, 4, 5, 6};

	udp_long(&f, 0, V1_INITIAL, MPQ_VERSION_1, lookalike, 8, 1200);
	socket_at(env.p, (int)hashed_worker(&f, false));
	run(&f, MPQ_STEER_CNT_INITIAL_HASH, V_REDIRECT);
	/* One with a worker we have goes to that worker. */
	lookalike[1] = 2;
	udp_long(&f, 0, V2_INITIAL, MPQ_VERSION_2, lookalike, 8, 1200);
	socket_at(env.p, 2);
	run(&f, MPQ_STEER_CNT_LONG_WORKER_ID, V_REDIRECT);
	/* DCID longer than 20 bytes. */
	uint8_t long21[21] = {0};

	udp_long(&f, 0, V1_INITIAL, MPQ_VERSION_1, long21, 21, 1200);
	run(&f, MPQ_STEER_CNT_BAD_CID_LEN, V_PASS);
	/* Zero-length DCID: nothing to route by but the hash. */
	udp_long(&f, 0, V1_INITIAL, MPQ_VERSION_1, NULL, 0, 1200);
	socket_at(env.p, (int)hashed_worker(&f, false));
	run(&f, MPQ_STEER_CNT_INITIAL_HASH, V_REDIRECT);
}

/* Everything that is not QUIC to our ports is passed, counted by why. */
static void not_ours(void **state)
{
	uint8_t q[64], arp[28] = {0, 1, 8, 0, 6, 4, 0, 1};
	struct frame f;

	(void)state;
	need_env();
	socket_at(env.p, 3);
	udp_short(&f, 0, 53, cid_ours);
	run(&f, MPQ_STEER_CNT_NOT_OUR_PORT, V_PASS);
	udp_short(&f, F_V6, 4434, cid_ours);
	run(&f, MPQ_STEER_CNT_NOT_OUR_PORT, V_PASS);
	udp_short(&f, 0, PORT2, cid_ours); /* the second port is ours */
	run(&f, MPQ_STEER_CNT_SHORT_WORKER_ID, V_REDIRECT);
	build(&f, 0, IPPROTO_TCP, PORT, q, quic_short(q, cid_ours));
	run(&f, MPQ_STEER_CNT_NOT_UDP, V_PASS);
	build(&f, F_V6, IPPROTO_TCP, PORT, q, quic_short(q, cid_ours));
	run(&f, MPQ_STEER_CNT_NOT_UDP, V_PASS);
	build(&f, 0, IPPROTO_ICMP, 0, q, 16);
	run(&f, MPQ_STEER_CNT_NOT_UDP, V_PASS);
	build(&f, F_V6, 58 /* ICMPv6 */, 0, q, 16);
	run(&f, MPQ_STEER_CNT_NOT_UDP, V_PASS);
	/* IPv6 extension header before UDP. */
	build(&f, F_V6 | F_HBH, IPPROTO_UDP, PORT, q, quic_short(q, cid_ours));
	run(&f, MPQ_STEER_CNT_NOT_UDP, V_PASS);
	/* ARP. */
	memset(&f, 0, sizeof(f));
	memset(f.b, 0xff, 6);
	put16(f.b + 12, ETH_P_ARP);
	memcpy(f.b + 14, arp, sizeof(arp));
	f.len = 14 + sizeof(arp);
	run(&f, MPQ_STEER_CNT_NOT_IP, V_PASS);
	/* IPv4 fragment, bad IHL, version mismatch. */
	udp_short(&f, F_FRAG, PORT, cid_ours);
	run(&f, MPQ_STEER_CNT_IP_FRAGMENT, V_PASS);
	udp_short(&f, 0, PORT, cid_ours);
	f.b[f.l3] = 0x44;
	run(&f, MPQ_STEER_CNT_BAD_IP, V_PASS);
	f.b[f.l3] = 0x65;
	run(&f, MPQ_STEER_CNT_BAD_IP, V_PASS);
	/* Two VLAN tags: not parsed (one is allowed). */
	udp_short(&f, F_QINQ, PORT, cid_ours);
	run(&f, MPQ_STEER_CNT_NOT_IP, V_PASS);
}

/* IPv6, a VLAN tag and IPv4 options are parsed through. */
static void ipv6_vlan_options(void **state)
{
	struct frame f;
	uint8_t cid[8];

	(void)state;
	need_env();
	our_cid_at(cid, 0);
	udp_short(&f, F_V6, PORT, cid);
	run(&f, MPQ_STEER_CNT_SHORT_WORKER_ID, V_REDIRECT);
	udp_short(&f, F_VLAN, PORT, cid);
	run(&f, MPQ_STEER_CNT_SHORT_WORKER_ID, V_REDIRECT);
	udp_short(&f, F_VLAN | F_V6, PORT, cid);
	run(&f, MPQ_STEER_CNT_SHORT_WORKER_ID, V_REDIRECT);
	udp_short(&f, F_IPOPT, PORT, cid);
	run(&f, MPQ_STEER_CNT_SHORT_WORKER_ID, V_REDIRECT);
	udp_short(&f, F_IPOPT | F_VLAN, PORT, cid);
	run(&f, MPQ_STEER_CNT_SHORT_WORKER_ID, V_REDIRECT);
	udp_long(&f, F_VLAN | F_V6, V2_INITIAL, MPQ_VERSION_2, cid_foreign, 8, 1200);
	socket_at(env.p, (int)hashed_worker(&f, true));
	run(&f, MPQ_STEER_CNT_INITIAL_HASH, V_REDIRECT);
}

/* Sets the last octet of |f|'s destination address (192.0.2.x, 2001:db8::x). */
static void dst_last(struct frame *f, bool v6, uint8_t x)
{
	f->b[f->l3 + (v6 ? 39 : 19)] = x;
}

static mpq_addr addr(const char *text)
{
	mpq_addr a;

	assert_int_equal(mpq_addr_parse(&a, text), 0);
	return a;
}

/* Our ports at an address we do not serve (transit traffic, another address
 * of the interface) go to the kernel, whatever the packet; served addresses
 * come and go. */
static void not_our_address(void **state)
{
	mpq_addr nine4 = addr("192.0.2.9:0"), nine6 = addr("[2001:db8::9]:0");
	struct frame f;
	uint8_t cid[8];

	(void)state;
	need_env();
	our_cid_at(cid, 1);
	for (unsigned int flags = 0; flags <= F_V6; flags += F_V6) {
		bool v6 = flags & F_V6;
		const mpq_addr *nine = v6 ? &nine6 : &nine4;

		udp_short(&f, flags, PORT, cid);
		run(&f, MPQ_STEER_CNT_SHORT_WORKER_ID, V_REDIRECT);
		dst_last(&f, v6, 9);
		run(&f, MPQ_STEER_CNT_NOT_OUR_ADDR, V_PASS);
		assert_int_equal(mpq_xdp_prog_addr_add(env.p, nine), 0);
		run(&f, MPQ_STEER_CNT_SHORT_WORKER_ID, V_REDIRECT);
		assert_int_equal(mpq_xdp_prog_addr_del(env.p, nine), 0);
		run(&f, MPQ_STEER_CNT_NOT_OUR_ADDR, V_PASS);
		assert_int_equal(mpq_xdp_prog_addr_del(env.p, nine), MPQ_ERR_NOT_FOUND);
		/* An Initial is not hashed to a worker either. */
		udp_long(&f, flags, V1_INITIAL, MPQ_VERSION_1, cid_foreign, 8, 1200);
		dst_last(&f, v6, 9);
		run(&f, MPQ_STEER_CNT_NOT_OUR_ADDR, V_PASS);
		/* Another port: the port decides first. */
		udp_short(&f, flags, 53, cid);
		dst_last(&f, v6, 9);
		run(&f, MPQ_STEER_CNT_NOT_OUR_PORT, V_PASS);
	}
	/* 192.0.2.2 served does not make ::ffff:192.0.2.2 ours. */
	udp_short(&f, F_V6, PORT, cid);
	memcpy(f.b + f.l3 + 24, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x02", 16);
	run(&f, MPQ_STEER_CNT_NOT_OUR_ADDR, V_PASS);
}

/* Every prefix of valid frames: cut inside what the program reads →
 * truncated and passed; past it → the whole frame's decision. Below the
 * Ethernet header the kernel refuses the test run itself. */
static void truncated_everywhere(void **state)
{
	struct {
		unsigned int flags;
		int kind; /* 0 short, 1 Initial, 2 Handshake */
		int decision;
	} cases[] = {
		{0, 0, MPQ_STEER_CNT_SHORT_WORKER_ID},
		{F_VLAN | F_V6, 1, MPQ_STEER_CNT_INITIAL_HASH},
		{F_IPOPT, 2, MPQ_STEER_CNT_NO_ROUTE},
		{F_V6, 0, MPQ_STEER_CNT_SHORT_WORKER_ID},
	};
	uint64_t before[MPQ_STEER_CNT__MAX], after[MPQ_STEER_CNT__MAX];
	struct frame f;

	(void)state;
	need_env();
	socket_at(env.p, -1);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t need;

		if (cases[c].kind == 0) {
			udp_short(&f, cases[c].flags, PORT, cid_ours);
			need = f.l4 + 8 + 1 + 8;
		} else if (cases[c].kind == 1) {
			udp_long(&f, cases[c].flags, V1_INITIAL, MPQ_VERSION_1, cid_foreign, 8,
				 1200);
			need = f.l4 + 8 + 6 + 8;
		} else {
			udp_long(&f, cases[c].flags, V1_HANDSHAKE, MPQ_VERSION_1, cid_long, 12,
				 300);
			need = f.l4 + 8 + 6 + 12;
		}
		for (size_t len = 0; len < ETH_HLEN; len++) {
			LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f.b,
				    .data_size_in = (uint32_t)len, .repeat = 1);

			counters(env.p, before);
			assert_int_not_equal(bpf_prog_test_run_opts(mpq_xdp_prog_fd(env.p), &opts),
					     0);
			counters(env.p, after);
			assert_memory_equal(before, after, sizeof(before));
		}
		for (size_t len = ETH_HLEN; len <= f.len; len++)
			run_len(&f, len, len < need ? MPQ_STEER_CNT_TRUNCATED : cases[c].decision,
				len < need || cases[c].kind == 2 ? V_PASS : V_FAILED);
	}
}

/* The rx queue picks the slot: queue × workers + worker. */
static void slot_per_queue(void **state)
{
	struct frame f;
	uint8_t cid[8];
	struct xdp_md ctx = {0};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = 1);

	(void)state;
	need_env();
	if (!sh("ip link add vq numrxqueues 4 numtxqueues 4 type veth peer name vr"))
		fail_msg("ip link add vq");
	memcpy(cid, cid_ours, 8);
	cid[1] = 1;
	udp_short(&f, 0, PORT, cid);
	opts.data_in = f.b;
	opts.data_size_in = (uint32_t)f.len;
	ctx.data_end = (uint32_t)f.len;
	ctx.ingress_ifindex = if_nametoindex("vq");
	ctx.rx_queue_index = 2;
	socket_at(env.p, -1);
	assert_int_equal(mpq_xdp_prog_set_xsk(env.p, 2, 1, xsk_socket__fd(env.x.sock)), 0);
	assert_int_equal(bpf_prog_test_run_opts(mpq_xdp_prog_fd(env.p), &opts), 0);
	assert_int_equal(opts.retval, XDP_REDIRECT);
	ctx.rx_queue_index = 1;
	assert_int_equal(bpf_prog_test_run_opts(mpq_xdp_prog_fd(env.p), &opts), 0);
	assert_int_equal(opts.retval, XDP_PASS);
	assert_int_equal(mpq_xdp_prog_set_xsk(env.p, 2, 1, -1), 0);
	ctx.rx_queue_index = 2;
	assert_int_equal(bpf_prog_test_run_opts(mpq_xdp_prog_fd(env.p), &opts), 0);
	assert_int_equal(opts.retval, XDP_PASS);
	assert_true(sh("ip link del vq"));
}

/* --- API ----------------------------------------------------------------- */

static void api_errors(void **state)
{
	mpq_xdp_prog_config cfg;
	mpq_xdp_prog *p = NULL;
	mpq_addr a;
	uint64_t all[MPQ_STEER_CNT__MAX], one;
	int udp;

	(void)state;
	need_env();
	mpq_xdp_prog_config_default(&cfg);
	cfg.n_workers = 0;
	assert_int_equal(mpq_xdp_prog_new(&p, &cfg, NULL), MPQ_ERR_INVALID_ARGUMENT);
	cfg.n_workers = MPQ_STEER_MAX_WORKERS + 1;
	assert_int_equal(mpq_xdp_prog_new(&p, &cfg, NULL), MPQ_ERR_INVALID_ARGUMENT);
	cfg.n_workers = 2;
	cfg.ports[0] = 0;
	assert_int_equal(mpq_xdp_prog_new(&p, &cfg, NULL), MPQ_ERR_INVALID_ARGUMENT);
	assert_null(p);
	cfg.ports[0] = PORT;
	cfg.n_addrs = MPQ_XDP_PROG_CFG_ADDRS + 1;
	assert_int_equal(mpq_xdp_prog_new(&p, &cfg, NULL), MPQ_ERR_INVALID_ARGUMENT);
	cfg.n_addrs = 1; /* not an IP address */
	assert_int_equal(mpq_xdp_prog_new(&p, &cfg, NULL), MPQ_ERR_INVALID_ARGUMENT);
	cfg.n_addrs = 0;

	/* Not loaded yet: the maps do not exist. */
	assert_int_equal(mpq_xdp_prog_new(&p, &cfg, NULL), 0);
	assert_int_equal(mpq_xdp_prog_fd(p), -1);
	assert_int_equal(mpq_xdp_prog_counters(p, all), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_addr_parse(&a, "192.0.2.9:0"), 0);
	assert_int_equal(mpq_xdp_prog_addr_add(p, &a), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_xdp_prog_load(p), 0);
	assert_int_equal(mpq_xdp_prog_load(p), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_xdp_prog_attach(p, env.va, MPQ_XDP_MODE_AUTO),
			 MPQ_ERR_INVALID_ARGUMENT); /* loaded for test runs */
	assert_true(mpq_xdp_prog_fd(p) >= 0);
	/* Addresses: IP, not wildcards; at most MPQ_STEER_MAX_ADDRS. */
	assert_int_equal(mpq_xdp_prog_addr_del(p, &a), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_xdp_prog_oserr(p)->errnum, ENOENT);
	assert_string_equal(mpq_xdp_prog_oserr(p)->call, "addr map delete");
	assert_int_equal(mpq_addr_parse(&a, "[::]:0"), 0);
	assert_int_equal(mpq_xdp_prog_addr_add(p, &a), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_xdp_prog_addr_del(p, &a), MPQ_ERR_INVALID_ARGUMENT);
	memset(&a, 0, sizeof(a));
	assert_int_equal(mpq_xdp_prog_addr_add(p, &a), MPQ_ERR_INVALID_ARGUMENT);
	for (int i = 0; i <= MPQ_STEER_MAX_ADDRS; i++) {
		char text[32];

		snprintf(text, sizeof(text), "10.1.0.%d:0", i);
		assert_int_equal(mpq_addr_parse(&a, text), 0);
		assert_int_equal(mpq_xdp_prog_addr_add(p, &a),
				 i < MPQ_STEER_MAX_ADDRS ? 0 : MPQ_ERR_NOMEM);
	}
	assert_int_equal(mpq_addr_parse(&a, "10.1.0.0:0"), 0);
	assert_int_equal(mpq_xdp_prog_addr_add(p, &a), 0); /* served already */

	/* Slots: range checks, and only AF_XDP sockets go in. */
	assert_int_equal(mpq_xdp_prog_set_xsk(p, 0, 2, xsk_socket__fd(env.x.sock)),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_xdp_prog_set_xsk(p, MPQ_STEER_XSKMAP_SIZE / 2, 0,
					      xsk_socket__fd(env.x.sock)),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_xdp_prog_set_xsk(p, MPQ_STEER_XSKMAP_SIZE / 2 - 1, 1,
					      xsk_socket__fd(env.x.sock)),
			 0);
	assert_int_equal(mpq_xdp_prog_set_xsk(p, 0, 1, -1), 0); /* already empty */
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(udp >= 0);
	assert_int_equal(mpq_xdp_prog_set_xsk(p, 0, 1, udp), MPQ_ERR_INVALID_ARGUMENT);
	close(udp);

	/* Counters by name agree with the array. */
	assert_int_equal(mpq_xdp_prog_counters(env.p, all), 0);
	assert_int_equal(mpq_xdp_prog_counter(env.p, "short_worker_id", &one), 0);
	assert_int_equal(one, all[MPQ_STEER_CNT_SHORT_WORKER_ID]);
	assert_true(one > 0);
	assert_int_equal(mpq_xdp_prog_counter(env.p, "passed", &one), 0);
	assert_int_equal(one, all[MPQ_STEER_CNT_PASSED]);
	assert_int_equal(mpq_xdp_prog_counter(env.p, "nope", &one), MPQ_ERR_NOT_FOUND);
	assert_string_equal(mpq_xdp_prog_counter_name(MPQ_STEER_CNT_NOT_IP), "not_ip");
	assert_string_equal(mpq_xdp_prog_counter_name(MPQ_STEER_CNT_PASSED), "passed");
	assert_null(mpq_xdp_prog_counter_name(MPQ_STEER_CNT__MAX));
	mpq_xdp_prog_del(p);
	mpq_xdp_prog_del(NULL);
}

/* --- attaching ----------------------------------------------------------- */

static mpq_xdp_prog *new_attachable(void)
{
	mpq_xdp_prog_config cfg;
	mpq_xdp_prog *p;

	mpq_xdp_prog_config_default(&cfg);
	cfg.ports[0] = PORT;
	cfg.n_workers = WORKERS;
	cfg.log = collect_log;
	assert_int_equal(mpq_xdp_prog_new(&p, &cfg, NULL), 0);
	return p;
}

/* The program attached to |ifindex| and how, from the kernel. */
static uint32_t attached_id(int ifindex, uint8_t *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	assert_int_equal(bpf_xdp_query(ifindex, 0, &q), 0);
	*mode = q.attach_mode;
	return q.attach_mode == XDP_ATTACHED_SKB   ? q.skb_prog_id
	       : q.attach_mode == XDP_ATTACHED_DRV ? q.drv_prog_id
						   : 0;
}

static bool bpffs_mounted(void)
{
	struct statfs st;

	return statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

static void attach_modes(void **state)
{
	mpq_xdp_prog *p;
	mpq_xdp_prog_info info;
	uint8_t mode;

	(void)state;
	need_env();
	/* lo has no native XDP: AUTO falls back to generic and says so. */
	env.log[0] = '\0';
	p = new_attachable();
	assert_int_equal(mpq_xdp_prog_attach(p, env.lo, MPQ_XDP_MODE_AUTO), 0);
	mpq_xdp_prog_info_get(p, &info);
	assert_int_equal(info.ifindex, env.lo);
	assert_int_equal(info.mode, MPQ_XDP_MODE_SKB);
	assert_false(info.replaced_stale);
	assert_int_equal(attached_id(env.lo, &mode), info.prog_id);
	assert_int_equal(mode, XDP_ATTACHED_SKB);
	assert_non_null(strstr(env.log, "native XDP failed"));
	assert_non_null(strstr(env.log, "attached in generic (skb) mode"));
	if (!bpffs_mounted()) {
		/* libxdp's dispatcher needs a bpffs: the program is attached alone. */
		assert_false(info.dispatcher);
		assert_non_null(strstr(env.log, "alone"));
	}
	assert_true(mpq_xdp_prog_fd(p) >= 0);
	assert_int_equal(mpq_xdp_prog_attach(p, env.lo, MPQ_XDP_MODE_AUTO),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_xdp_prog_detach(p), 0);
	assert_int_equal(attached_id(env.lo, &mode), 0);
	assert_int_equal(mode, XDP_ATTACHED_NONE);
	assert_int_equal(mpq_xdp_prog_detach(p), 0); /* twice is fine */
	mpq_xdp_prog_del(p);

	/* Native only on lo: refused, with the reason kept. */
	p = new_attachable();
	assert_int_equal(mpq_xdp_prog_attach(p, env.lo, MPQ_XDP_MODE_NATIVE), MPQ_ERR_INTERNAL);
	assert_int_equal(mpq_xdp_prog_oserr(p)->errnum, EOPNOTSUPP);
	assert_string_equal(mpq_xdp_prog_oserr(p)->call, "xdp attach");
	mpq_xdp_prog_del(p);
	assert_int_equal(attached_id(env.lo, &mode), 0);

	/* No such interface. */
	p = new_attachable();
	assert_int_equal(mpq_xdp_prog_attach(p, 9999, MPQ_XDP_MODE_AUTO), MPQ_ERR_NOT_FOUND);
	mpq_xdp_prog_del(p);

	/* veth has native XDP; del detaches. */
	p = new_attachable();
	assert_int_equal(mpq_xdp_prog_attach(p, env.va, MPQ_XDP_MODE_AUTO), 0);
	mpq_xdp_prog_info_get(p, &info);
	assert_int_equal(info.mode, MPQ_XDP_MODE_NATIVE);
	assert_int_equal(attached_id(env.va, &mode), info.prog_id);
	assert_int_equal(mode, XDP_ATTACHED_DRV);
	mpq_xdp_prog_del(p);
	assert_int_equal(attached_id(env.va, &mode), 0);

	/* Generic on request. */
	p = new_attachable();
	assert_int_equal(mpq_xdp_prog_attach(p, env.va, MPQ_XDP_MODE_SKB), 0);
	mpq_xdp_prog_info_get(p, &info);
	assert_int_equal(info.mode, MPQ_XDP_MODE_SKB);
	assert_int_equal(attached_id(env.va, &mode), info.prog_id);
	assert_int_equal(mode, XDP_ATTACHED_SKB);
	mpq_xdp_prog_del(p);
}

/* Attached, the program serves the interface's addresses (va: 192.0.2.2,
 * 192.0.2.3, 2001:db8::2), those of a wildcard's family, or the ones given. */
static void attach_serves_addresses(void **state)
{
	static const struct {
		const char *addrs[2];
		bool served[3]; /* .2, .3, ::2 */
	} cases[] = {
		{{NULL}, {true, true, true}},
		{{"0.0.0.0:0"}, {true, true, false}},
		{{"[::]:0"}, {false, false, true}},
		{{"192.0.2.3:4433"}, {false, true, false}},
		{{"192.0.2.3:0", "[2001:db8::2]:0"}, {false, true, true}},
	};
	mpq_xdp_prog_config cfg;
	struct frame f;
	uint8_t cid[8];

	(void)state;
	need_env();
	memcpy(cid, cid_ours, 8);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		mpq_xdp_prog_config_default(&cfg);
		cfg.ports[0] = PORT;
		cfg.n_workers = WORKERS;
		for (int i = 0; i < 2 && cases[c].addrs[i]; i++)
			cfg.addrs[cfg.n_addrs++] = addr(cases[c].addrs[i]);
		assert_int_equal(mpq_xdp_prog_new(&env.run_on, &cfg, NULL), 0);
		assert_int_equal(mpq_xdp_prog_attach(env.run_on, env.va, MPQ_XDP_MODE_AUTO), 0);
		for (int d = 0; d < 3; d++) {
			bool v6 = d == 2;

			udp_short(&f, v6 ? F_V6 : 0, PORT, cid);
			dst_last(&f, v6, d == 1 ? 3 : 2);
			run(&f,
			    cases[c].served[d] ? MPQ_STEER_CNT_SHORT_WORKER_ID
					       : MPQ_STEER_CNT_NOT_OUR_ADDR,
			    cases[c].served[d] ? V_FAILED : V_PASS);
		}
		mpq_xdp_prog_del(env.run_on);
		env.run_on = NULL;
	}
}

/* A process that dies attached leaves its program on the interface; the next
 * run replaces it and says so. */
static void stale_program_replaced(void **state)
{
	mpq_xdp_prog *p;
	mpq_xdp_prog_info info;
	uint32_t old;
	uint8_t mode;
	pid_t pid;
	int status;

	(void)state;
	need_env();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		mpq_xdp_prog *q;
		mpq_xdp_prog_config cfg;

		mpq_xdp_prog_config_default(&cfg);
		if (mpq_xdp_prog_new(&q, &cfg, NULL) ||
		    mpq_xdp_prog_attach(q, env.vb, MPQ_XDP_MODE_AUTO))
			_exit(1);
		_exit(0); /* "crashes": no detach */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	old = attached_id(env.vb, &mode);
	assert_true(old != 0);

	env.log[0] = '\0';
	p = new_attachable();
	assert_int_equal(mpq_xdp_prog_attach(p, env.vb, MPQ_XDP_MODE_AUTO), 0);
	mpq_xdp_prog_info_get(p, &info);
	assert_true(info.replaced_stale);
	assert_non_null(strstr(env.log, "left attached by an earlier run"));
	assert_int_not_equal(info.prog_id, old);
	assert_int_equal(attached_id(env.vb, &mode), info.prog_id);
	mpq_xdp_prog_del(p);
	assert_int_equal(attached_id(env.vb, &mode), 0);

	/* Someone else's program is left alone: the attach fails, it stays. */
	struct bpf_insn pass[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int other = bpf_prog_load(BPF_PROG_TYPE_XDP, "other_prog", "GPL", pass, 2, NULL);

	assert_true(other >= 0);
	assert_int_equal(bpf_xdp_attach(env.vb, other, XDP_FLAGS_DRV_MODE, NULL), 0);
	old = attached_id(env.vb, &mode);
	p = new_attachable();
	assert_int_equal(mpq_xdp_prog_attach(p, env.vb, MPQ_XDP_MODE_AUTO), MPQ_ERR_INTERNAL);
	mpq_xdp_prog_info_get(p, &info);
	assert_false(info.replaced_stale);
	mpq_xdp_prog_del(p);
	assert_int_equal(attached_id(env.vb, &mode), old);
	assert_int_equal(bpf_xdp_detach(env.vb, XDP_FLAGS_DRV_MODE, NULL), 0);
	close(other);
}

/* Frames sent into the veth pair come out of the AF_XDP socket of the
 * worker their CID names; other traffic does not. */
static void live_redirect(void **state)
{
	mpq_xdp_prog *p;
	struct frame f;
	struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_halen = 6};
	uint64_t before[MPQ_STEER_CNT__MAX], after[MPQ_STEER_CNT__MAX];
	uint8_t cid[8];
	struct pollfd pfd;
	uint32_t idx = 0;
	int s, got = 0;

	(void)state;
	need_env();
	p = new_attachable();
	assert_int_equal(mpq_xdp_prog_attach(p, env.va, MPQ_XDP_MODE_AUTO), 0);
	assert_int_equal(mpq_xdp_prog_set_xsk(p, 0, 2, xsk_socket__fd(env.x.sock)), 0);
	counters(p, before);

	s = socket(AF_PACKET, SOCK_RAW, 0);
	assert_true(s >= 0);
	to.sll_ifindex = env.vb;
	memset(to.sll_addr, 0xff, 6);
	memcpy(cid, cid_ours, 8);
	cid[1] = 2;
	udp_short(&f, 0, PORT, cid);
	assert_int_equal(sendto(s, f.b, f.len, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)f.len);
	udp_short(&f, 0, 53, cid); /* not our port: to the kernel */
	assert_int_equal(sendto(s, f.b, f.len, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)f.len);
	udp_short(&f, 0, PORT, cid); /* not an address of va: to the kernel */
	dst_last(&f, false, 77);
	assert_int_equal(sendto(s, f.b, f.len, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)f.len);
	close(s);

	pfd.fd = xsk_socket__fd(env.x.sock);
	pfd.events = POLLIN;
	for (int tries = 0; tries < 20 && got == 0; tries++) {
		poll(&pfd, 1, 50);
		got = (int)xsk_ring_cons__peek(&env.x.rx, 8, &idx);
	}
	assert_int_equal(got, 1);
	{
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&env.x.rx, idx);
		const uint8_t *data = xsk_umem__get_data(env.x.area, d->addr);

		udp_short(&f, 0, PORT, cid);
		assert_int_equal(d->len, f.len);
		assert_memory_equal(data, f.b, f.len);
	}
	xsk_ring_cons__release(&env.x.rx, 1);
	poll(&pfd, 1, 100);
	assert_int_equal(xsk_ring_cons__peek(&env.x.rx, 8, &idx), 0);

	counters(p, after);
	assert_int_equal(after[MPQ_STEER_CNT_SHORT_WORKER_ID] -
				 before[MPQ_STEER_CNT_SHORT_WORKER_ID],
			 1);
	assert_int_equal(after[MPQ_STEER_CNT_REDIRECTED] - before[MPQ_STEER_CNT_REDIRECTED], 1);
	assert_true(after[MPQ_STEER_CNT_NOT_OUR_PORT] - before[MPQ_STEER_CNT_NOT_OUR_PORT] >= 1);
	assert_int_equal(after[MPQ_STEER_CNT_NOT_OUR_ADDR] - before[MPQ_STEER_CNT_NOT_OUR_ADDR],
			 1);
	mpq_xdp_prog_del(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(worker_id_from_cid),
		cmocka_unit_test(initial_hash),
		cmocka_unit_test(not_ours),
		cmocka_unit_test(ipv6_vlan_options),
		cmocka_unit_test(not_our_address),
		cmocka_unit_test(truncated_everywhere),
		cmocka_unit_test(slot_per_queue),
		cmocka_unit_test(api_errors),
		cmocka_unit_test(attach_modes),
		cmocka_unit_test(attach_serves_addresses),
		cmocka_unit_test(stale_program_replaced),
		cmocka_unit_test(live_redirect),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
