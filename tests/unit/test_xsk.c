/* The xdp path I/O backend over a veth pair between two network namespaces
 * of our own (xa: 10.88.0.1/24 fd88::1/64 in A, xb: 10.88.0.2/24 fd88::2/64
 * in B, known MACs; B also owns 10.99.0.5 and fd99::5 on its loopback, which
 * A reaches through the gateway 10.88.0.2 / fd88::2):
 *
 *   (a) xsk <-> kernel UDP socket, IPv4: sizes up to the MTU, a GSO
 *       descriptor split into frames, a datagram through a gateway; both
 *       ways byte-exact with the right addresses; ARP resolved by the kernel
 *       while libxdp's program hands every frame to the socket (the backend
 *       answers for its addresses and learns its answers);
 *   (b) xsk <-> xsk, IPv4 and IPv6;
 *   (c) the same as (a) over IPv6 (neighbour discovery);
 *   (d) 1000 datagrams in sequence, xsk to xsk and xsk to a kernel socket:
 *       none reordered, at least 99 % delivered (losses are printed);
 *   (e) datagrams larger than the MTU refused, also after an MTU change;
 *   (f) MTU 9000, multi-buffer: 8972-byte datagrams (and GSO runs of them)
 *       over three UMEM frames each to a kernel UDP socket, whose kernel
 *       checks their checksums, and one back, byte-exact; 64 of them in
 *       one send go with at most 2 wakeups (the kernel takes the whole
 *       batch per sendto, XDP_MAX_TX_SKB_BUDGET; 32 descriptors before);
 *   and modes (generic attach, zero-copy refused on veth, no program),
 *   unresolvable next hops, bad configurations. The last test prints
 *   datagrams/s for xsk and for the udp backend over the same pair.
 *
 * Both veth ends have checksum offload off (rx on both, tx on B), so each
 * kernel checks the UDP checksums of what the backend sends, and the backend
 * checks (verify_csum) what the kernel sends. The namespaces are anonymous,
 * held only by descriptors of this process: they, the veth pair and the XDP
 * programs on it vanish on every way out. Each half runs in a thread of its
 * own that entered its namespace (setns); cmocka asserts run in the main
 * thread only. Skipped without root or AF_XDP. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "mpq/mpq.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/frame_hdr.h"
#include "mpq/io/udp.h"
#include "mpq/io/xdp_prog.h"
#include "mpq/io/xdp_redirect.h"
#include "mpq/io/xsk.h"
#include "../common/netns.h"

#define PORT_A 4433
#define PORT_B 5555
#define MAXMSG 64
#define SEQ_RUN 1000
#define WAIT_MS 10000

static const uint8_t mac_a[6] = {0x02, 0x88, 0, 0, 0, 0x01};

static struct {
	struct test_netns ns;
	char why[200];
	uint32_t xa;
	/* What a failed test leaves behind, for its teardown. */
	mpq_pathio *open[4];
	pthread_t thread;
	bool thread_running;
	mpq_pathio *thread_io; /* the thread's object, closed after it ends */
	mpq_xdp_prog *prog;
} env = {.ns = TEST_NETNS_INIT};

/* ---- namespaces ---------------------------------------------------------- */

static bool make_pair(void)
{
	if (setns(env.ns.ns_a, CLONE_NEWNET) < 0 ||
	    test_sh("ip link set lo up && ip link add xa address 02:88:00:00:00:01 type veth peer "
		    "name xb address 02:88:00:00:00:02 netns /proc/%d/fd/%d && "
		    "ip addr add 10.88.0.1/24 dev xa && ip addr add fd88::1/64 dev xa nodad && "
		    "ip link set xa up && ip route add 10.99.0.0/24 via 10.88.0.2 && "
		    "ip route add fd99::/64 via fd88::2 && ethtool -K xa rx off",
		    (int)getpid(), env.ns.ns_b) != 0)
		return false;
	if (setns(env.ns.ns_b, CLONE_NEWNET) < 0 ||
	    test_sh("ip link set lo up && ip addr add 10.88.0.2/24 dev xb && "
		    "ip addr add fd88::2/64 dev xb nodad && ip addr add 10.99.0.5/32 dev lo && "
		    "ip addr add fd99::5/128 dev lo && ip link set xb up && "
		    "ethtool -K xb rx off tx off") != 0)
		return false;
	return setns(env.ns.ns_a, CLONE_NEWNET) == 0;
}

/* An xdp object on |ifname| for |local|. */
static int open_xsk(const char *ifname, const char *local, const mpq_xsk_config *xcfg,
		    mpq_pathio **io, mpq_oserr *err)
{
	mpq_pathio_config cfg;

	mpq_pathio_config_default(&cfg);
	cfg.ifname = ifname;
	if (mpq_addr_parse(&cfg.local, local) < 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	return mpq_xsk_open(io, &cfg, xcfg, err);
}

/* Whether this kernel gives us an AF_XDP socket on the pair at all. */
static bool xdp_works(void)
{
	mpq_pathio *io;
	mpq_oserr err;

	if (open_xsk("xa", "10.88.0.1:0", NULL, &io, &err) < 0) {
		snprintf(env.why, sizeof(env.why), "no AF_XDP socket on a veth: %s: %s",
			 err.call ? err.call : "open", strerror(err.errnum));
		return false;
	}
	mpq_pathio_close(io);
	return true;
}

static int group_setup(void **state)
{
	if (test_netns_setup(&env.ns, "ip ethtool", env.why, sizeof(env.why)) < 0)
		return 0;
	if (!make_pair()) {
		snprintf(env.why, sizeof(env.why), "cannot set up a veth pair with ip(8)");
		return 0;
	}
	assert_int_equal(mpq_if_index("xa", &env.xa), 0);
	xdp_works();
	return 0;
}

static int group_teardown(void **state)
{
	return test_netns_close(&env.ns);
}

static mpq_pathio *track(mpq_pathio *io)
{
	for (size_t i = 0; i < 4; i++)
		if (!env.open[i]) {
			env.open[i] = io;
			return io;
		}
	fail_msg("more than 4 objects open");
	return io;
}

static void close_a(mpq_pathio *io)
{
	for (size_t i = 0; i < 4; i++)
		if (env.open[i] == io)
			env.open[i] = NULL;
	mpq_pathio_close(io);
}

static void start_thread(void *(*fn)(void *), void *arg)
{
	assert_int_equal(pthread_create(&env.thread, NULL, fn, arg), 0);
	env.thread_running = true;
}

static void join_thread(void **ret)
{
	if (env.thread_running)
		pthread_join(env.thread, ret);
	env.thread_running = false;
}

/* After each test, failed or not: threads end on their own (time limits). */
static int test_teardown(void **state)
{
	join_thread(NULL);
	mpq_pathio_close(env.thread_io);
	env.thread_io = NULL;
	mpq_xdp_prog_del(env.prog);
	env.prog = NULL;
	for (size_t i = 0; i < 4; i++)
		if (env.open[i])
			close_a(env.open[i]);
	return 0;
}

static void need_env(void)
{
	test_netns_need(&env.ns, env.why);
}

/* ---- datagrams ----------------------------------------------------------- */

/* Payload: sequence number (4 bytes), then bytes that depend on it. */
static void fill(uint8_t *p, size_t len, uint32_t seq)
{
	for (size_t i = 0; i < len; i++)
		p[i] = i < 4 ? (uint8_t)(seq >> (24 - 8 * i))
			     : (uint8_t)(seq * 7 + i * 13 + (i >> 7));
}

/* The sequence number of a payload made by fill(), -1 if it is not one. */
static long seq_of(const uint8_t *p, size_t len)
{
	uint32_t seq;
	uint8_t want[2048];

	if (len < 4 || len > sizeof(want))
		return -1;
	seq = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	fill(want, len, seq);
	return memcmp(want, p, len) == 0 ? (long)seq : -1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void wait_fd(int fd, short events, int ms)
{
	struct pollfd p = {.fd = fd, .events = events};

	poll(&p, 1, ms);
}

/* Sends all |n| descriptors, waiting for room when the object is full.
 * Returns 0 or the first error. */
static int send_all(mpq_pathio *io, const mpq_dgram *d, size_t n)
{
	uint64_t end = now_ms() + WAIT_MS;

	while (n > 0) {
		int k = mpq_pathio_send(io, d, n);

		if (k < 0)
			return k;
		d += k;
		n -= (size_t)k;
		if (n && now_ms() > end)
			return MPQ_ERR_INTERNAL;
		if (n)
			wait_fd(mpq_pathio_fd(io), POLLOUT, 5);
	}
	return 0;
}

/* What one side received, copied out of its buffers. */
struct got {
	size_t n;
	mpq_dgram d[MAXMSG];
	uint8_t buf[MAXMSG][2048];
};

/* Receives into |g| until it holds |want| or WAIT_MS pass. */
static void collect(mpq_pathio *io, struct got *g, size_t want)
{
	uint64_t end = now_ms() + WAIT_MS;
	mpq_dgram d[16];

	while (g->n < want && now_ms() < end) {
		int k = mpq_pathio_recv(io, d, 16);

		if (k <= 0) {
			wait_fd(mpq_pathio_fd(io), POLLIN, 10);
			continue;
		}
		for (int i = 0; i < k && g->n < MAXMSG; i++) {
			g->d[g->n] = d[i];
			memcpy(g->buf[g->n], d[i].data, d[i].len < 2048 ? d[i].len : 2048);
			g->d[g->n].data = g->buf[g->n];
			g->n++;
		}
	}
}

/* ---- the peer: a thread in namespace B that echoes ---------------------- */

struct peer {
	bool xdp;	   /* the xdp backend, else the udp backend */
	const char *local; /* what it opens on */
	mpq_xsk_config xcfg;
	size_t expect;	  /* datagrams it receives, then echoes */
	bool flush;	  /* forget its neighbours before echoing */
	atomic_int ready; /* 1 open, -1 failed */
	atomic_int done;  /* the other side has all it wants */
	char err[200];
	struct got got;
	mpq_xsk_stats st;
	mpq_pathio *io;
};

static mpq_pathio *peer_open(struct peer *p)
{
	mpq_pathio_config cfg;
	mpq_pathio *io = NULL;
	mpq_oserr e;
	int rv;

	mpq_pathio_config_default(&cfg);
	mpq_addr_parse(&cfg.local, p->local);
	if (p->xdp)
		rv = open_xsk("xb", p->local, &p->xcfg, &io, &e);
	else
		rv = mpq_pathio_udp.open(&io, &cfg, &e);
	if (rv < 0)
		snprintf(p->err, sizeof(p->err), "peer open %s: %d %s %s", p->local, rv,
			 e.call ? e.call : "", strerror(e.errnum));
	return rv < 0 ? NULL : io;
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	mpq_dgram echo[MAXMSG];
	int rv;

	if (setns(env.ns.ns_b, CLONE_NEWNET) < 0 || !(p->io = peer_open(p))) {
		atomic_store(&p->ready, -1);
		return NULL;
	}
	env.thread_io = p->io;
	atomic_store(&p->ready, 1);
	collect(p->io, &p->got, p->expect);
	if (p->flush)
		test_sh("ip neigh flush dev xb");
	for (size_t i = 0; i < p->got.n; i++) {
		echo[i] = p->got.d[i];
		echo[i].ifindex = 0;
	}
	rv = send_all(p->io, echo, p->got.n);
	if (rv < 0)
		snprintf(p->err, sizeof(p->err), "peer echo: %d %s %s", rv,
			 p->io->err.call ? p->io->err.call : "", strerror(p->io->err.errnum));
	/* An xsk peer stays to answer ARP/ND until the other side has all. */
	if (p->xdp) {
		uint64_t end = now_ms() + WAIT_MS;
		mpq_dgram d[8];

		while (!atomic_load(&p->done) && now_ms() < end) {
			mpq_pathio_recv(p->io, d, 8);
			wait_fd(mpq_pathio_fd(p->io), POLLIN, 5);
		}
		mpq_xsk_get_stats(p->io, &p->st);
	}
	return p;
}

/* Starts |fn| and waits until it says it is open (|ready| 1) or failed. */
static void start_half(void *(*fn)(void *), void *arg, atomic_int *ready, const char *err)
{
	start_thread(fn, arg);
	while (atomic_load(ready) == 0)
		usleep(1000);
	if (err[0])
		print_message("%s\n", err);
	assert_int_equal(atomic_load(ready), 1);
}

static void peer_start(struct peer *p)
{
	start_half(peer_main, p, &p->ready, p->err);
}

static void peer_end(struct peer *p)
{
	void *ret = NULL;

	join_thread(&ret);
	assert_non_null(ret);
	if (p->err[0])
		print_message("%s\n", p->err);
	assert_string_equal(p->err, "");
	/* Closed from namespace A: the object enters its own for libxdp. */
	mpq_pathio_close(p->io);
	env.thread_io = NULL;
}

/* ---- exchanges ----------------------------------------------------------- */

static mpq_pathio *open_a(const char *local, const mpq_xsk_config *xcfg)
{
	mpq_pathio *io;
	mpq_oserr err;
	int rv = open_xsk("xa", local, xcfg, &io, &err);

	if (rv < 0)
		print_message("open %s: %s: %s\n", local, err.call, strerror(err.errnum));
	assert_int_equal(rv, 0);
	return track(io);
}

static void checked_config(mpq_xsk_config *x)
{
	mpq_xsk_config_default(x);
	x->verify_csum = true;
}

/* One plan: what A sends and where. */
struct plan {
	const char *a;	/* A's local address */
	const char *b;	/* B's address */
	const char *gw; /* an address of B's behind the gateway, or NULL */
	size_t n;	/* datagrams */
	size_t len[MAXMSG];
	bool via_gw[MAXMSG];
	mpq_dgram d[MAXMSG]; /* descriptors (a GSO one covers several) */
	size_t nd;
	uint8_t data[MAXMSG][4096];
};

/* 4, 100, 1000 bytes and the largest the MTU allows; a GSO descriptor of
 * 700-byte segments and a 300-byte tail; one through the gateway. */
static void make_plan(struct plan *p, mpq_pathio *a)
{
	const size_t sizes[] = {4, 100, 1000, mpq_xsk_get_info(a)->max_payload};
	mpq_addr b, gw;
	size_t i;

	assert_int_equal(mpq_addr_parse(&b, p->b), 0);
	for (i = 0; i < 4; i++) {
		p->len[p->n] = sizes[i];
		fill(p->data[p->nd], sizes[i], (uint32_t)p->n);
		p->d[p->nd] = (mpq_dgram){.data = p->data[p->nd], .len = sizes[i], .remote = b};
		p->n++;
		p->nd++;
	}
	/* Segments of one descriptor, each with its own sequence number. */
	for (i = 0; i < 4; i++) {
		p->len[p->n + i] = i < 3 ? 700 : 300;
		fill(p->data[p->nd] + i * 700, p->len[p->n + i], (uint32_t)(p->n + i));
	}
	p->d[p->nd] =
		(mpq_dgram){.data = p->data[p->nd], .len = 2400, .gso_size = 700, .remote = b};
	p->n += 4;
	p->nd++;
	if (p->gw) {
		assert_int_equal(mpq_addr_parse(&gw, p->gw), 0);
		p->len[p->n] = 200;
		p->via_gw[p->n] = true;
		fill(p->data[p->nd], 200, (uint32_t)p->n);
		p->d[p->nd] = (mpq_dgram){.data = p->data[p->nd], .len = 200, .remote = gw};
		p->n++;
		p->nd++;
	}
}

/* Every datagram of |p| once in |g|, byte-exact, with |ours| as the far
 * end's address and the plan's as this end's (|sent_here|: this end is B). */
static void check_got(const struct plan *p, const struct got *g, bool at_b, uint32_t ifindex)
{
	bool seen[MAXMSG] = {false};
	mpq_addr a, b, gw;

	assert_int_equal(g->n, p->n);
	assert_int_equal(mpq_addr_parse(&a, p->a), 0);
	assert_int_equal(mpq_addr_parse(&b, p->b), 0);
	if (p->gw)
		assert_int_equal(mpq_addr_parse(&gw, p->gw), 0);
	for (size_t i = 0; i < g->n; i++) {
		long seq = seq_of(g->d[i].data, g->d[i].len);
		const mpq_addr *far, *near;

		if (seq < 0) {
			char r[MPQ_ADDR_STRLEN];

			mpq_addr_format(&g->d[i].remote, r, sizeof(r));
			print_message("at %s: #%zu, %zu bytes from %s, not as sent\n",
				      at_b ? "B" : "A", i, g->d[i].len, r);
		}
		assert_true(seq >= 0 && (size_t)seq < p->n);
		assert_false(seen[seq]);
		seen[seq] = true;
		assert_int_equal(g->d[i].len, p->len[seq]);
		far = at_b ? &a : (p->via_gw[seq] ? &gw : &b);
		near = at_b ? (p->via_gw[seq] ? &gw : &b) : &a;
		assert_true(mpq_addr_equal(&g->d[i].remote, far));
		assert_true(mpq_addr_equal_ip(&g->d[i].local, near));
		assert_int_equal(mpq_addr_port(&g->d[i].local), mpq_addr_port(near));
		if (ifindex)
			assert_int_equal(g->d[i].ifindex, ifindex);
		assert_int_equal(g->d[i].gso_size, 0);
	}
}

/* A sends the plan to the peer, which echoes it; both sides check. A opens
 * with |xcfg| (NULL: defaults with verify_csum). */
static void exchange(struct plan *p, struct peer *peer, const mpq_xsk_config *xcfg)
{
	mpq_xsk_config x;
	struct got back = {0};
	mpq_xsk_stats st;
	mpq_pathio *a;
	int rv;

	checked_config(&x);
	assert_int_equal(test_sh("ip neigh flush dev xa"), 0); /* A has to resolve B */
	a = open_a(p->a, xcfg ? xcfg : &x);
	print_message("     xa: %s\n", mpq_xsk_get_info(a)->mode);
	make_plan(p, a);
	peer->expect = p->n;
	peer_start(peer);
	rv = send_all(a, p->d, p->nd);
	if (rv < 0)
		print_message("send: %s: %s\n", a->err.call, strerror(a->err.errnum));
	assert_int_equal(rv, 0);
	collect(a, &back, p->n);
	atomic_store(&peer->done, 1);
	peer_end(peer);
	check_got(p, &peer->got, true, 0);
	check_got(p, &back, false, env.xa);

	assert_int_equal(mpq_xsk_get_stats(a, &st), 0);
	assert_int_equal(st.rx_dgrams, p->n);
	assert_int_equal(st.tx_dgrams, p->n);
	assert_int_equal(st.tx_split, 1);
	assert_int_equal(st.rx_bad_csum, 0);
	assert_true(st.neigh_learned >= 1); /* the kernel's request, answered to us */
	close_a(a);
}

/* The addresses of a test run over one family. */
struct family {
	const char *a;	 /* A's */
	const char *b;	 /* B's on the veth */
	const char *gw;	 /* B's behind the gateway */
	const char *any; /* B's wildcard */
};

static const struct family v4 = {"10.88.0.1:4433", "10.88.0.2:5555", "10.99.0.5:5555",
				 "0.0.0.0:5555"};
static const struct family v6 = {"[fd88::1]:4433", "[fd88::2]:5555", "[fd99::5]:5555",
				 "[::]:5555"};

/* (a), (c): with a kernel socket, which has to resolve A again (flush). */
static void xsk_udp(void **state)
{
	const struct family *f = *state;
	struct plan p = {.a = f->a, .b = f->b, .gw = f->gw};
	static struct peer peer;

	need_env();
	peer = (struct peer){.local = f->any, .flush = true};
	exchange(&p, &peer, NULL);
}

/* (b): with another xsk, which answers A's kernel itself. */
static void xsk_xsk(void **state)
{
	const struct family *f = *state;
	struct plan p = {.a = f->a, .b = f->b};
	static struct peer peer;

	need_env();
	peer = (struct peer){.xdp = true, .local = f->b};
	checked_config(&peer.xcfg);
	exchange(&p, &peer, NULL);
	if (f == &v4)
		assert_true(peer.st.arp_replies >= 1);
	else
		assert_true(peer.st.nd_adverts >= 1);
	assert_int_equal(peer.st.rx_dgrams, p.n);
	assert_int_equal(peer.st.rx_bad_csum, 0);
}

/* ---- a run in sequence --------------------------------------------------- */

struct counter {
	bool xdp;
	const char *local;
	size_t expect;
	int quiet_ms; /* stop after this long without a datagram */
	atomic_int ready;
	char err[200];
	size_t got, reordered, bad;
	long last;
	mpq_xsk_stats st;
	const mpq_udp_stats *ust;
	mpq_udp_stats ustats;
};

/* Counts datagrams made by fill(): how many, how many out of order. */
static void *counter_main(void *arg)
{
	struct counter *c = arg;
	struct peer p = {.xdp = c->xdp, .local = c->local};
	uint64_t last_seen;
	mpq_pathio *io;
	mpq_dgram d[64];

	mpq_xsk_config_default(&p.xcfg);
	c->last = -1;
	if (setns(env.ns.ns_b, CLONE_NEWNET) < 0 || !(io = peer_open(&p))) {
		memcpy(c->err, p.err, sizeof(c->err));
		atomic_store(&c->ready, -1);
		return NULL;
	}
	atomic_store(&c->ready, 1);
	last_seen = now_ms() + WAIT_MS; /* the first may take a resolution */
	while (c->got < c->expect && now_ms() < last_seen + (uint64_t)c->quiet_ms) {
		int k = mpq_pathio_recv(io, d, 64);

		if (k <= 0) {
			wait_fd(mpq_pathio_fd(io), POLLIN, 5);
			continue;
		}
		last_seen = now_ms();
		for (int i = 0; i < k; i++) {
			long seq = d[i].len >= 4
					   ? (long)((uint32_t)d[i].data[0] << 24 |
						    (uint32_t)d[i].data[1] << 16 |
						    (uint32_t)d[i].data[2] << 8 | d[i].data[3])
					   : -1;

			if (c->expect <= SEQ_RUN && seq_of(d[i].data, d[i].len) != seq)
				c->bad++;
			if (seq <= c->last)
				c->reordered++;
			c->last = seq;
			c->got++;
		}
	}
	if (c->xdp)
		mpq_xsk_get_stats(io, &c->st);
	else
		c->ustats = *mpq_udp_get_stats(io);
	mpq_pathio_close(io);
	return c;
}

static void counter_start(struct counter *c)
{
	start_half(counter_main, c, &c->ready, c->err);
}

/* |n| datagrams of |len| bytes numbered 0.., in batches of 32. */
static int send_run(mpq_pathio *io, const char *to, size_t n, size_t len)
{
	static uint8_t buf[32][1500];
	mpq_dgram d[32];
	mpq_addr dst;

	mpq_addr_parse(&dst, to);
	for (size_t i = 0; i < n; i += 32) {
		size_t k = n - i < 32 ? n - i : 32;
		int rv;

		for (size_t j = 0; j < k; j++) {
			fill(buf[j], len, (uint32_t)(i + j));
			d[j] = (mpq_dgram){.data = buf[j], .len = len, .remote = dst};
		}
		rv = send_all(io, d, k);
		if (rv < 0)
			return rv;
	}
	return 0;
}

static void run_in_sequence(bool xdp_peer, const char *peer_local, const char *to)
{
	static struct counter c;
	mpq_xsk_stats st;
	mpq_pathio *a;
	void *ret;

	c = (struct counter){.xdp = xdp_peer,
			     .local = peer_local,
			     .expect = SEQ_RUN,
			     .quiet_ms = 1000};
	a = open_a("10.88.0.1:4433", NULL);
	counter_start(&c);
	assert_int_equal(send_run(a, to, SEQ_RUN, 1200), 0);
	/* Serve A's ring (ARP from B) until B is done. */
	while (pthread_tryjoin_np(env.thread, &ret) == EBUSY) {
		mpq_dgram d[8];

		mpq_pathio_recv(a, d, 8);
		usleep(1000);
	}
	env.thread_running = false;
	assert_int_equal(mpq_xsk_get_stats(a, &st), 0);
	print_message("     %s: %zu of %d received, %zu reordered; A: tx %llu, kernel tx "
		      "invalid %llu; B: kernel rx dropped %llu, ring full %llu, fill empty %llu\n",
		      xdp_peer ? "xsk -> xsk" : "xsk -> udp", c.got, SEQ_RUN, c.reordered,
		      (unsigned long long)st.tx_dgrams, (unsigned long long)st.k_tx_invalid,
		      (unsigned long long)c.st.k_rx_dropped,
		      (unsigned long long)c.st.k_rx_ring_full,
		      (unsigned long long)c.st.k_fill_empty);
	assert_int_equal(st.tx_dgrams, SEQ_RUN);
	assert_int_equal(c.reordered, 0);
	assert_int_equal(c.bad, 0);
	assert_true(c.got * 100 >= SEQ_RUN * 99);
	close_a(a);
}

static void thousand_in_sequence(void **state)
{
	need_env();
	run_in_sequence(true, "10.88.0.2:5555", "10.88.0.2:5555");
	run_in_sequence(false, "10.88.0.2:5555", "10.88.0.2:5555");
}

/* ---- sizes --------------------------------------------------------------- */

/* Sends one datagram of |len| bytes (segments of |gso| when not 0). */
static int send_len(mpq_pathio *io, const char *to, size_t len, uint16_t gso)
{
	static uint8_t buf[4096];
	mpq_dgram d = {.data = buf, .len = len, .gso_size = gso};

	mpq_addr_parse(&d.remote, to);
	return mpq_pathio_send(io, &d, 1);
}

static void oversize_refused(void **state)
{
	mpq_pathio *a;
	mpq_dgram two[2];
	uint8_t buf[1600] = {0};

	need_env();
	a = open_a("10.88.0.1:4433", NULL);
	assert_int_equal(mpq_xsk_get_info(a)->mtu, 1500);
	assert_int_equal(mpq_xsk_get_info(a)->max_payload, 1500 - 28);
	assert_int_equal(send_len(a, "10.88.0.2:5555", 1473, 0), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(a->err.errnum, EMSGSIZE);
	assert_int_equal(send_len(a, "10.88.0.2:5555", 1472, 0), 1);
	/* A GSO segment is a datagram: each must fit. */
	assert_int_equal(send_len(a, "10.88.0.2:5555", 3000, 1473), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(send_len(a, "10.88.0.2:5555", 2944, 1472), 1);
	/* The second of two fails: one is sent. */
	mpq_addr_parse(&two[0].remote, "10.88.0.2:5555");
	two[0] = (mpq_dgram){.data = buf, .len = 100, .remote = two[0].remote};
	two[1] = two[0];
	two[1].len = 1600;
	assert_int_equal(mpq_pathio_send(a, two, 2), 1);
	close_a(a);

	a = open_a("[fd88::1]:4433", NULL);
	assert_int_equal(mpq_xsk_get_info(a)->max_payload, 1500 - 48);
	assert_int_equal(send_len(a, "[fd88::2]:5555", 1453, 0), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(a->err.errnum, EMSGSIZE);
	assert_int_equal(send_len(a, "[fd88::2]:5555", 1452, 0), 1);
	close_a(a);

	/* The MTU is the interface's. */
	assert_int_equal(test_sh("ip link set xa mtu 1280"), 0);
	a = open_a("10.88.0.1:4433", NULL);
	assert_int_equal(mpq_xsk_get_info(a)->max_payload, 1280 - 28);
	assert_int_equal(send_len(a, "10.88.0.2:5555", 1253, 0), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(send_len(a, "10.88.0.2:5555", 1252, 0), 1);
	close_a(a);
	assert_int_equal(test_sh("ip link set xa mtu 1500"), 0);
}

/* ---- multi-buffer ------------------------------------------------------- */

#define JUMBO 8972 /* the UDP payload of MTU 9000 over IPv4 */
#define JUMBO_RUN 64

static void set_mtu(int mtu)
{
	assert_int_equal(test_sh("ip link set xa mtu %d", mtu), 0);
	assert_int_equal(setns(env.ns.ns_b, CLONE_NEWNET), 0);
	assert_int_equal(test_sh("ip link set xb mtu %d", mtu), 0);
	assert_int_equal(setns(env.ns.ns_a, CLONE_NEWNET), 0);
}

static int jumbo_fd = -1;

static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	return uname(&u) == 0 && sscanf(u.release, "%d.%d", &ma, &mi) == 2 &&
	       (ma > major || (ma == major && mi >= minor));
}

static int jumbo_teardown(void **state)
{
	test_teardown(state);
	if (jumbo_fd >= 0)
		close(jumbo_fd);
	jumbo_fd = -1;
	if (env.ns.ns_b >= 0 && env.why[0] == 0)
		set_mtu(1500);
	return 0;
}

/* A kernel UDP socket on 10.88.0.2:5555 in B, with room for a run of
 * jumbo datagrams. */
static int b_socket(void)
{
	int fd, size = 4 << 20;
	mpq_addr b;

	assert_int_equal(setns(env.ns.ns_b, CLONE_NEWNET), 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setns(env.ns.ns_a, CLONE_NEWNET), 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	mpq_addr_parse(&b, "10.88.0.2:5555");
	jumbo_fd = fd;
	assert_int_equal(bind(fd, (const struct sockaddr *)&b.ss, b.len), 0);
	return fd;
}

/* B's socket gets datagrams |first|.. |first + n - 1| of fill(), each JUMBO
 * bytes, byte-exact. */
static void b_gets(int fd, uint32_t first, uint32_t n)
{
	static uint8_t got[JUMBO + 1], want[JUMBO];

	for (uint32_t k = 0; k < n; k++) {
		ssize_t len;

		wait_fd(fd, POLLIN, WAIT_MS);
		len = recv(fd, got, sizeof(got), MSG_DONTWAIT);
		assert_int_equal(len, JUMBO);
		fill(want, JUMBO, first + k);
		assert_memory_equal(got, want, JUMBO);
	}
}

static void jumbo_frames_multi_buffer(void **state)
{
	static uint8_t buf[JUMBO_RUN * JUMBO];
	const mpq_xsk_info *info;
	mpq_xsk_stats st, before;
	mpq_xsk_config x;
	mpq_dgram d[JUMBO_RUN], r;
	mpq_pathio_config cfg;
	mpq_addr a_addr;
	mpq_oserr err;
	uint64_t end;
	mpq_pathio *a;
	int fd, k = 0;

	need_env();
	set_mtu(9000);
	checked_config(&x); /* what B's kernel sends is checked too */
	mpq_pathio_config_default(&cfg);
	cfg.ifname = "xa";
	cfg.max_dgram = JUMBO;
	mpq_addr_parse(&cfg.local, "10.88.0.1:4433");
	assert_int_equal(mpq_xsk_open(&a, &cfg, &x, &err), 0);
	track(a);
	info = mpq_xsk_get_info(a);
	if (!info->multi_buffer) {
		/* A kernel before 6.6: a UMEM frame's worth, and why. */
		assert_int_not_equal(info->sg_errnum, 0);
		assert_int_equal(info->max_payload, 4096 - 256 - 14 - 28);
		skip();
	}
	assert_int_equal(info->max_payload, JUMBO);
	fd = b_socket();

	/* One datagram, then a GSO run of three. */
	for (uint32_t i = 0; i < JUMBO_RUN; i++)
		fill(buf + i * JUMBO, JUMBO, i);
	d[0] = (mpq_dgram){.data = buf, .len = JUMBO};
	mpq_addr_parse(&d[0].remote, "10.88.0.2:5555");
	assert_int_equal(send_all(a, d, 1), 0);
	b_gets(fd, 0, 1);
	d[0] = (mpq_dgram){.data = buf + JUMBO,
			   .len = 3 * JUMBO,
			   .gso_size = JUMBO,
			   .remote = d[0].remote};
	assert_int_equal(send_all(a, d, 1), 0);
	b_gets(fd, 1, 3);
	assert_int_equal(mpq_xsk_get_stats(a, &st), 0);
	assert_int_equal(st.tx_multi_buffer, 4);

	/* One back: gathered from three UMEM frames. */
	mpq_addr_parse(&a_addr, "10.88.0.1:4433");
	assert_int_equal(sendto(fd, buf + 7 * JUMBO, JUMBO, 0, (struct sockaddr *)&a_addr.ss,
				a_addr.len),
			 JUMBO);
	for (end = now_ms() + WAIT_MS; k == 0 && now_ms() < end;) {
		k = mpq_pathio_recv(a, &r, 1);
		if (k == 0)
			wait_fd(mpq_pathio_fd(a), POLLIN, 10);
	}
	assert_int_equal(k, 1);
	assert_int_equal(r.len, JUMBO);
	assert_memory_equal(r.data, buf + 7 * JUMBO, JUMBO);
	assert_int_equal(mpq_xsk_get_stats(a, &st), 0);
	assert_int_equal(st.rx_multi_buffer, 1);
	assert_int_equal(st.rx_bad_csum, 0);

	/* 64 in one send: 192 descriptors, one wakeup where the kernel takes
	 * them all (two if the first met a full veth ring). */
	for (uint32_t i = 0; i < JUMBO_RUN; i++) {
		d[i] = (mpq_dgram){.data = buf + i * JUMBO, .len = JUMBO, .remote = d[0].remote};
	}
	before = st;
	assert_int_equal(mpq_pathio_send(a, d, JUMBO_RUN), JUMBO_RUN);
	assert_int_equal(mpq_xsk_get_stats(a, &st), 0);
	if (kernel_at_least(6, 17)) {
		assert_int_equal(info->tx_budget, 2048); /* the TX ring's size */
		assert_true(st.tx_kicks - before.tx_kicks <= 2);
	}
	b_gets(fd, 0, JUMBO_RUN);

	/* A byte more than the MTU allows: refused. */
	d[0].len = JUMBO + 1;
	assert_int_equal(mpq_pathio_send(a, d, 1), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(a->err.errnum, EMSGSIZE);
	close(fd);
	jumbo_fd = -1;
	close_a(a);
}

/* ---- modes, failures, configurations ------------------------------------- */

static void modes(void **state)
{
	struct plan p = {.a = "10.88.0.1:4433", .b = "10.88.0.2:5555", .gw = "10.99.0.5:5555"};
	struct peer peer = {.local = "0.0.0.0:5555"};
	const mpq_xsk_info *info;
	mpq_pathio_config cfg;
	mpq_xsk_config x;
	mpq_pathio *a;
	mpq_oserr err;
	int map;

	need_env();
	/* Auto on veth: native XDP, copy mode (veth has no zero-copy). */
	a = open_a("10.88.0.1:0", NULL);
	info = mpq_xsk_get_info(a);
	print_message("     auto: %s\n", info->mode);
	assert_string_equal(info->mode, "native copy");
	assert_false(info->zerocopy);
	assert_true(info->need_wakeup);
	assert_true(info->own_prog);
	assert_memory_equal(info->mac, mac_a, 6);
	assert_int_equal(info->frames, 4096);
	assert_int_equal(info->frame_size, 4096);
	assert_int_not_equal(mpq_addr_port(&a->local), 0);
	assert_int_equal(a->ifindex, env.xa);
	assert_int_equal(a->caps, 0);
	assert_true(mpq_pathio_fd(a) >= 0);
	close_a(a);

	/* Zero-copy only: veth cannot. */
	mpq_xsk_config_default(&x);
	x.bind = MPQ_XSK_BIND_ZEROCOPY;
	mpq_pathio_config_default(&cfg);
	cfg.ifname = "xa";
	mpq_addr_parse(&cfg.local, "10.88.0.1:4433");
	a = (mpq_pathio *)&err;
	assert_true(mpq_xsk_open(&a, &cfg, &x, &err) < 0);
	assert_null(a);
	assert_string_equal(err.call, "xsk_socket__create");
	assert_int_not_equal(err.errnum, 0);

	/* Generic attach and a small UMEM of 2 KiB frames: the same exchange. */
	checked_config(&x);
	x.attach = MPQ_XSK_ATTACH_GENERIC;
	x.frames = 256;
	x.frame_size = 2048;
	exchange(&p, &peer, &x);

	/* No program: none loaded; the socket goes into the caller's XSKMAP. */
	mpq_xsk_config_default(&x);
	x.inhibit_prog = true;
	a = open_a("10.88.0.1:4433", &x);
	info = mpq_xsk_get_info(a);
	assert_string_equal(info->mode, "no program copy");
	assert_false(info->own_prog);
	map = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "test_xsks", 4, 4, 4, NULL);
	assert_true(map >= 0);
	assert_int_equal(mpq_xsk_xskmap_update(a, map, 2), 0);
	assert_true(mpq_xsk_xskmap_update(a, map, 9) < 0);
	assert_int_equal(a->err.errnum, E2BIG);
	assert_int_equal(mpq_xsk_xskmap_update(a, -1, 0), MPQ_ERR_INVALID_ARGUMENT);
	close(map);
	close_a(a);
}

static void unreachable_next_hops(void **state)
{
	mpq_xsk_config x;
	mpq_pathio *a;
	char why[64];

	need_env();
	mpq_xsk_config_default(&x);
	x.resolve_ms = 300;
	a = open_a("10.88.0.1:4433", &x);
	/* Nobody has 10.88.0.77: resolution times out, then the failure is
	 * remembered (the same error at once). */
	assert_int_equal(send_len(a, "10.88.0.77:5555", 100, 0), MPQ_ERR_NOT_FOUND);
	assert_true(a->err.errnum == ETIMEDOUT || a->err.errnum == EHOSTUNREACH);
	snprintf(why, sizeof(why), "%s", a->err.call);
	mpq_oserr_clear(&a->err);
	assert_int_equal(send_len(a, "10.88.0.77:5555", 100, 0), MPQ_ERR_NOT_FOUND);
	assert_string_equal(a->err.call, why);
	/* Not out of this interface: our own address (a local route). */
	assert_int_equal(send_len(a, "10.88.0.1:5555", 100, 0), MPQ_ERR_NOT_FOUND);
	assert_int_equal(a->err.errnum, ENETUNREACH);
	close_a(a);
	/* No route at all. */
	a = open_a("[fd88::1]:4433", &x);
	assert_int_equal(send_len(a, "[2001:db8::1]:5555", 100, 0), MPQ_ERR_NOT_FOUND);
	assert_int_equal(a->err.errnum, ENETUNREACH);
	close_a(a);
}

static void bad_configs_and_sends(void **state)
{
	mpq_pathio_config cfg;
	mpq_xsk_config x;
	mpq_pathio *a;
	mpq_oserr err;
	mpq_dgram d;
	uint8_t buf[8] = {0};

	need_env();
	assert_ptr_equal(mpq_pathio_find("xdp"), &mpq_pathio_xdp);
	assert_string_equal(mpq_pathio_xdp.name, "xdp");
	mpq_pathio_config_default(&cfg);
	mpq_addr_parse(&cfg.local, "10.88.0.1:4433");
	assert_int_equal(mpq_pathio_xdp.open(&a, &cfg, &err), MPQ_ERR_INVALID_ARGUMENT);
	cfg.ifname = "nosuch0";
	assert_int_equal(mpq_pathio_xdp.open(&a, &cfg, &err), MPQ_ERR_NOT_FOUND);
	assert_int_equal(err.errnum, ENODEV);
	cfg.ifname = "lo";
	assert_int_equal(mpq_pathio_xdp.open(&a, &cfg, &err), MPQ_ERR_INVALID_ARGUMENT);
	cfg.ifname = "xa";
	mpq_addr_parse(&cfg.local, "10.88.0.2:4433"); /* B's address */
	assert_int_equal(mpq_pathio_xdp.open(&a, &cfg, &err), MPQ_ERR_NOT_FOUND);
	assert_int_equal(err.errnum, EADDRNOTAVAIL);
	mpq_addr_parse(&cfg.local, "10.88.0.1:4433");
	mpq_xsk_config_default(&x);
	x.frames = 1000;
	assert_int_equal(mpq_xsk_open(&a, &cfg, &x, &err), MPQ_ERR_INVALID_ARGUMENT);
	x.frames = 4096;
	x.frame_size = 3000;
	assert_int_equal(mpq_xsk_open(&a, &cfg, &x, &err), MPQ_ERR_INVALID_ARGUMENT);

	/* The port is held: a second object on it is refused. */
	assert_int_equal(mpq_pathio_xdp.open(&a, &cfg, &err), 0);
	track(a);
	{
		mpq_pathio *b;

		assert_int_equal(mpq_pathio_xdp.open(&b, &cfg, &err), MPQ_ERR_INTERNAL);
		assert_int_equal(err.errnum, EADDRINUSE);
	}
	/* Malformed descriptors: nothing sent. */
	d = (mpq_dgram){.data = buf, .len = sizeof(buf)};
	mpq_addr_parse(&d.remote, "[fd88::2]:5555");
	assert_int_equal(mpq_pathio_send(a, &d, 1), MPQ_ERR_INVALID_ARGUMENT);
	mpq_addr_parse(&d.remote, "10.88.0.2:5555");
	mpq_addr_parse(&d.local, "10.88.0.9:4433"); /* not ours */
	assert_int_equal(mpq_pathio_send(a, &d, 1), MPQ_ERR_INVALID_ARGUMENT);
	memset(&d.local, 0, sizeof(d.local));
	d.len = 65 * 10;
	d.gso_size = 10; /* 65 segments */
	assert_int_equal(mpq_pathio_send(a, &d, 1), MPQ_ERR_INVALID_ARGUMENT);
	assert_null(mpq_xsk_get_info(NULL));
	assert_int_equal(mpq_xsk_get_stats(NULL, NULL), MPQ_ERR_INVALID_ARGUMENT);
	close_a(a);
}

/* The steering program of xdp/ in place of libxdp's: A's socket opened
 * without a program, put in the steering program's XSKMAP. QUIC-looking
 * datagrams to our port (short header, a DCID of our layout for worker 0)
 * come to the socket; ARP goes to A's kernel, which answers it itself. */
static void steering_program_takes_over(void **state)
{
	static struct peer peer;
	struct got back = {0};
	mpq_xdp_prog_config pc;
	mpq_xsk_stats st;
	mpq_xsk_config x;
	uint8_t pkt[4][300];
	mpq_dgram d[4];
	mpq_pathio *a;
	int rv;

	need_env();
	checked_config(&x);
	x.inhibit_prog = true;
	assert_int_equal(test_sh("ip neigh flush dev xa"), 0);
	a = open_a("10.88.0.1:4433", &x);
	mpq_xdp_prog_config_default(&pc);
	pc.ports[0] = PORT_A;
	assert_int_equal(mpq_xdp_prog_new(&env.prog, &pc, NULL), 0);
	rv = mpq_xdp_prog_attach(env.prog, (int)env.xa, MPQ_XDP_MODE_AUTO);
	assert_int_equal(rv, 0);
	assert_int_equal(mpq_xdp_prog_set_xsk(env.prog, 0, 0, mpq_pathio_fd(a)), 0);
	print_message("     xa: %s, steering program\n", mpq_xsk_get_info(a)->mode);
	assert_false(mpq_xsk_get_info(a)->own_prog);

	for (int i = 0; i < 4; i++) {
		static const uint8_t dcid[8] = {MPQ_STEER_CID_FIRST_OCTET, 0, 1, 2, 3, 4, 5, 6};

		fill(pkt[i], sizeof(pkt[i]), (uint32_t)i);
		pkt[i][0] = 0x43; /* short header */
		memcpy(pkt[i] + 1, dcid, sizeof(dcid));
		d[i] = (mpq_dgram){.data = pkt[i], .len = sizeof(pkt[i])};
		mpq_addr_parse(&d[i].remote, "10.88.0.2:5555");
	}
	peer = (struct peer){.local = "0.0.0.0:5555", .flush = true, .expect = 4};
	peer_start(&peer);
	assert_int_equal(send_all(a, d, 4), 0);
	collect(a, &back, 4);
	atomic_store(&peer.done, 1);
	peer_end(&peer);
	assert_int_equal(peer.got.n, 4);
	assert_int_equal(back.n, 4);
	for (size_t i = 0; i < back.n; i++) {
		assert_int_equal(back.d[i].len, sizeof(pkt[0]));
		assert_memory_equal(back.buf[i], pkt[i], sizeof(pkt[0]));
	}
	assert_int_equal(mpq_xsk_get_stats(a, &st), 0);
	assert_int_equal(st.rx_dgrams, 4);
	assert_int_equal(st.rx_not_ours, 0);   /* the program passed the rest */
	assert_int_equal(st.arp_replies, 0);   /* A's kernel answered B */
	assert_int_equal(st.neigh_learned, 0); /* and took B's answer itself */
	assert_int_equal(st.neigh_resolved, 1);
	mpq_xdp_prog_del(env.prog);
	env.prog = NULL;
	close_a(a);
}

/* Runs |cmd| in namespace B (the calling thread goes back to A). */
static int in_b(const char *cmd)
{
	int rv;

	if (setns(env.ns.ns_b, CLONE_NEWNET) < 0)
		return -1;
	rv = test_sh("%s", cmd);
	return setns(env.ns.ns_a, CLONE_NEWNET) < 0 ? -1 : rv;
}

/* Raw mode under the whole-frame program: frames A builds whole reach B's
 * kernel as datagrams, and B's answers come back whole, ARP requests and
 * all (A's kernel sees none: B learns A's MAC from a static entry). */
static void raw_frames_both_ways(void **state)
{
	static struct peer peer;
	static const uint8_t mac_b[6] = {0x02, 0x88, 0, 0, 0, 0x02};
	mpq_xdp_redirect *prog = NULL;
	mpq_xsk_frame out[4], in[16];
	uint8_t frames[4][400];
	mpq_frame_udp h;
	mpq_pathio *a;
	mpq_oserr err;
	int got = 0, dgrams = 0, len = 0;
	uint64_t end;

	need_env();
	assert_int_equal(mpq_xsk_raw_open(&a, "xa", 0, NULL, &err), 0);
	track(a);
	assert_int_equal(mpq_xsk_raw_recv(a, in, 0), 0);
	assert_int_equal(mpq_xdp_redirect_attach(&prog, (int)env.xa, MPQ_XDP_MODE_AUTO, &err), 0);
	assert_int_equal(mpq_xdp_redirect_set_xsk(prog, 0, mpq_pathio_fd(a)), 0);
	assert_int_equal(in_b("ip neigh replace 10.88.0.1 lladdr 02:88:00:00:00:01 dev xb"), 0);
	memset(&h, 0, sizeof(h));
	memcpy(h.src_mac, mac_a, 6);
	memcpy(h.dst_mac, mac_b, 6);
	mpq_addr_parse(&h.src, "10.88.0.1:4433");
	mpq_addr_parse(&h.dst, "10.88.0.2:5555");
	for (int i = 0; i < 4; i++) {
		fill(frames[i] + MPQ_FRAME_HDR_UDP4, 300, (uint32_t)i);
		len = mpq_frame_hdr_build_udp(frames[i], sizeof(frames[i]), &h, 300);
		out[i] = (mpq_xsk_frame){frames[i], (uint32_t)len};
	}
	peer = (struct peer){.local = "0.0.0.0:5555", .expect = 4};
	peer_start(&peer);
	assert_int_equal(mpq_xsk_raw_send(a, out, 4), 4);
	end = now_ms() + WAIT_MS;
	while (dgrams < 4 && now_ms() < end) {
		int n = mpq_xsk_raw_recv(a, in, 16);

		for (int i = 0; i < n; i++) {
			mpq_frame_udp p;

			got++;
			if (mpq_frame_hdr_parse_udp(in[i].data, in[i].len, &p) < 0 ||
			    p.payload_len != 300)
				continue;
			/* The payload A sent, whole (seq_of checks every byte). */
			assert_in_range(seq_of(in[i].data + p.payload_off, 300), 0, 3);
			dgrams++;
		}
		if (n == 0)
			wait_fd(mpq_pathio_fd(a), POLLIN, 10);
	}
	atomic_store(&peer.done, 1);
	peer_end(&peer);
	in_b("ip neigh del 10.88.0.1 dev xb");
	mpq_xdp_redirect_del(prog);
	assert_int_equal(peer.got.n, 4);
	assert_int_equal(dgrams, 4);
	print_message("     xa raw: %s, %d frames back, %d of them the echoes\n",
		      mpq_xsk_get_info(a)->mode, got, dgrams);
	/* Not raw: the datagram object refuses the raw calls. */
	close_a(a);
	a = open_a("10.88.0.1:4433", NULL);
	assert_int_equal(mpq_xsk_raw_recv(a, in, 1), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_xsk_raw_send(a, out, 1), MPQ_ERR_INVALID_ARGUMENT);
	close_a(a);
}

/* A's address on xa, for mpq_xsk_open_shared. */
static void xa_config(mpq_pathio_config *cfg)
{
	mpq_pathio_config_default(cfg);
	cfg->ifname = "xa";
	mpq_addr_parse(&cfg->local, "10.88.0.1:4433");
}

/* Shared sockets: the argument checks leave nothing open; two sockets on
 * one UMEM open, close in either order (the first holds the port), and the
 * port and queue are free again afterwards. */
static void shared_sockets_open_and_close(void **state)
{
	mpq_pathio_config cfg;
	mpq_pathio *s[MPQ_XSK_MAX_SHARED + 1];
	mpq_xsk_config x;
	mpq_oserr err;

	need_env();
	xa_config(&cfg);
	checked_config(&x);
	x.frames = 4096;
	x.inhibit_prog = true;
	s[0] = s[1] = (mpq_pathio *)&cfg; /* must come back NULL */
	assert_int_equal(mpq_xsk_open_shared(s, 0, &cfg, &x, &err), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_xsk_open_shared(s, MPQ_XSK_MAX_SHARED + 1, &cfg, &x, &err),
			 MPQ_ERR_INVALID_ARGUMENT);
	/* 4096 frames: 2048 to send over 64 sockets is 32 each, under 64 */
	assert_int_equal(mpq_xsk_open_shared(s, MPQ_XSK_MAX_SHARED, &cfg, &x, &err),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_null(s[0]);
	x.inhibit_prog = false; /* libxdp's own program cannot pick among sockets */
	assert_int_equal(mpq_xsk_open_shared(s, 2, &cfg, &x, &err), MPQ_ERR_INVALID_ARGUMENT);
	assert_null(s[1]);

	for (int first_closes_first = 1; first_closes_first >= 0; first_closes_first--) {
		x.inhibit_prog = true;
		assert_int_equal(mpq_xsk_open_shared(s, 2, &cfg, &x, &err), 0);
		track(s[0]);
		track(s[1]);
		assert_ptr_not_equal(s[0], s[1]);
		assert_true(mpq_pathio_fd(s[0]) >= 0);
		assert_true(mpq_pathio_fd(s[1]) >= 0);
		assert_int_not_equal(mpq_pathio_fd(s[0]), mpq_pathio_fd(s[1]));
		assert_string_equal(mpq_xsk_get_info(s[0])->mode, mpq_xsk_get_info(s[1])->mode);
		if (first_closes_first) {
			close_a(s[0]);
			close_a(s[1]);
		} else {
			close_a(s[1]);
			close_a(s[0]);
		}
		/* everything went with the last socket: one socket opens again */
		x.inhibit_prog = false;
		close_a(open_a("10.88.0.1:4433", &x));
	}
}

/* One of two threads sending through its socket of a shared UMEM: every
 * call drains the queue's COMPLETION ring and hands frames back to the free
 * stack of their owner, so both threads touch both stacks and the shared
 * rings all the time. */
struct hammer {
	mpq_pathio *io;
	size_t sent;
	int err;
};

#define HAMMER_ROUNDS 10
#define HAMMER_DGRAMS 30000

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	uint64_t stalled = now_ms() + WAIT_MS;
	uint8_t buf[64] = {0};
	mpq_dgram d[32], r[8];

	for (int i = 0; i < 32; i++) {
		d[i] = (mpq_dgram){.data = buf, .len = sizeof(buf)};
		mpq_addr_parse(&d[i].remote, "10.88.0.2:5555");
	}
	/* Lost frames show as a socket that cannot send any more. */
	while (h->sent < HAMMER_DGRAMS && now_ms() < stalled) {
		size_t n = HAMMER_DGRAMS - h->sent < 32 ? HAMMER_DGRAMS - h->sent : 32;
		int k = mpq_pathio_send(h->io, d, n);

		if (k < 0) {
			h->err = k;
			break;
		}
		if (k > 0)
			stalled = now_ms() + WAIT_MS;
		h->sent += (size_t)k;
		mpq_pathio_recv(h->io, r, 8);
	}
	return NULL;
}

/* Rounds of two threads hammering two sockets on one UMEM: the shared rings
 * and free stacks stay exact (under the lock): every datagram is sent once,
 * and once the kernel is done each socket holds all its send frames again.
 * Unlocked, frames get lost within a few rounds. */
static void shared_sockets_keep_their_frames(void **state)
{
	mpq_pathio_config cfg;
	mpq_pathio *s[2];
	struct hammer h[2];
	pthread_t t[2];
	mpq_xsk_stats st[2];
	mpq_xsk_config x;
	mpq_oserr err;
	uint32_t per;

	need_env();
	xa_config(&cfg);
	mpq_xsk_config_default(&x);
	x.inhibit_prog = true; /* no program: A's kernel answers ARP itself */
	x.frames = 512;	       /* small stacks, emptied and refilled all the time */
	per = x.frames / 2 / 2;
	assert_int_equal(mpq_xsk_open_shared(s, 2, &cfg, &x, &err), 0);
	track(s[0]);
	track(s[1]);
	for (int round = 1; round <= HAMMER_ROUNDS; round++) {
		uint64_t end;

		for (int i = 0; i < 2; i++) {
			h[i] = (struct hammer){.io = s[i]};
			assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		/* Until the kernel has completed every frame. */
		end = now_ms() + WAIT_MS;
		do {
			mpq_dgram r[8];

			for (int i = 0; i < 2; i++) {
				mpq_pathio_recv(s[i], r, 8);
				assert_int_equal(mpq_xsk_get_stats(s[i], &st[i]), 0);
			}
			usleep(1000);
		} while ((st[0].tx_frames_free != per || st[1].tx_frames_free != per) &&
			 now_ms() < end);
		for (int i = 0; i < 2; i++) {
			if (h[i].sent != HAMMER_DGRAMS || st[i].tx_frames_free != per)
				print_message("     round %d, socket %d: sent %zu of %d, free "
					      "send "
					      "frames %llu of %u\n",
					      round, i, h[i].sent, HAMMER_DGRAMS,
					      (unsigned long long)st[i].tx_frames_free, per);
			assert_int_equal(h[i].err, 0);
			assert_int_equal(h[i].sent, HAMMER_DGRAMS);
			assert_int_equal(st[i].tx_dgrams, (uint64_t)round * HAMMER_DGRAMS);
			assert_int_equal(st[i].k_tx_invalid, 0);
			assert_int_equal(st[i].tx_frames_free, per);
		}
	}
	close_a(s[0]);
	close_a(s[1]);
}

/* Opens and closes an xdp object again and again from a thread of its own
 * in namespace A or B. */
struct churn {
	int ns;
	const char *ifname, *local;
	int opened;
};

#define CHURN_ROUNDS 30

static void *churn_main(void *arg)
{
	struct churn *c = arg;

	if (setns(c->ns, CLONE_NEWNET) < 0)
		return NULL;
	for (int i = 0; i < CHURN_ROUNDS; i++) {
		mpq_pathio *io;
		mpq_oserr err;

		if (open_xsk(c->ifname, c->local, NULL, &io, &err) == 0) {
			c->opened++;
			mpq_pathio_close(io);
		}
	}
	return NULL;
}

/* libbpf's and libxdp's print hooks are process-wide: they are installed
 * once (mpq_bpf_quiet) and stay, whatever threads open and close objects
 * at the same time (a save-and-restore around each call could leave them
 * NULL, or someone else's). */
static void print_hooks_stay(void **state)
{
	struct churn c[2] = {
		{.ifname = "xa", .local = "10.88.0.1:4433"},
		{.ifname = "xb", .local = "10.88.0.2:5555"},
	};
	libbpf_print_fn_t bpf_hook;
	libxdp_print_fn_t xdp_hook;
	pthread_t t[2];

	need_env();
	close_a(open_a("10.88.0.1:4433", NULL));
	bpf_hook = libbpf_set_print(NULL);
	libbpf_set_print(bpf_hook);
	xdp_hook = libxdp_set_print(NULL);
	libxdp_set_print(xdp_hook);
	assert_non_null(bpf_hook);
	assert_non_null(xdp_hook);
	c[0].ns = env.ns.ns_a;
	c[1].ns = env.ns.ns_b;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn_main, &c[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(c[0].opened, CHURN_ROUNDS);
	assert_int_equal(c[1].opened, CHURN_ROUNDS);
	assert_ptr_equal(libbpf_set_print(bpf_hook), bpf_hook);
	assert_ptr_equal(libxdp_set_print(xdp_hook), xdp_hook);
}

/* ---- numbers --------------------------------------------------------------- */

/* Datagrams of 1200 bytes from A to B for |ms|: how many per second left
 * and arrived. */
static void rate(bool xdp, double *sent_s, double *got_s, double *loss, mpq_xsk_stats *bst)
{
	static struct counter c;
	static uint8_t buf[32][1200];
	mpq_pathio_config cfg;
	mpq_dgram d[32];
	uint64_t start, elapsed, sent = 0;
	mpq_pathio *a;
	void *ret;

	c = (struct counter){.xdp = xdp,
			     .local = "10.88.0.2:5555",
			     .expect = (size_t)-1,
			     .quiet_ms = 300};
	mpq_pathio_config_default(&cfg);
	mpq_addr_parse(&cfg.local, "10.88.0.1:4433");
	if (xdp) {
		a = open_a("10.88.0.1:4433", NULL);
	} else {
		cfg.no_gso = true;
		assert_int_equal(mpq_pathio_udp.open(&a, &cfg, NULL), 0);
		track(a);
	}
	counter_start(&c);
	for (int j = 0; j < 32; j++) {
		fill(buf[j], 1200, (uint32_t)j);
		d[j] = (mpq_dgram){.data = buf[j], .len = 1200};
		mpq_addr_parse(&d[j].remote, "10.88.0.2:5555");
	}
	assert_int_equal(send_all(a, d, 1), 0); /* resolution out of the way */
	sent = 1;
	start = now_ms();
	while (now_ms() - start < 1000) {
		int k = mpq_pathio_send(a, d, 32);

		if (k > 0)
			sent += (uint64_t)k;
		else
			wait_fd(mpq_pathio_fd(a), POLLOUT, 1);
	}
	elapsed = now_ms() - start;
	*sent_s = (double)sent * 1000.0 / (double)elapsed;
	while (pthread_tryjoin_np(env.thread, &ret) == EBUSY) {
		mpq_dgram r[8];

		if (xdp)
			mpq_pathio_recv(a, r, 8);
		usleep(1000);
	}
	env.thread_running = false;
	/* What arrived, over the time it was sent in. */
	*got_s = (double)c.got * 1000.0 / (double)elapsed;
	*loss = 100.0 * (double)(sent - c.got) / (double)sent;
	*bst = c.st;
	close_a(a);
}

static void datagrams_per_second(void **state)
{
	double xs, xg, xl, us, ug, ul;
	mpq_xsk_stats b, ub;
	char where[160] = "";

	need_env();
	rate(true, &xs, &xg, &xl, &b);
	rate(false, &us, &ug, &ul, &ub);
	if (xl > 0)
		snprintf(where, sizeof(where),
			 ": B's socket dropped %llu (FILL ring empty %llu, RX ring full %llu)",
			 (unsigned long long)b.k_rx_dropped, (unsigned long long)b.k_fill_empty,
			 (unsigned long long)b.k_rx_ring_full);
	print_message("     1200-byte datagrams over the veth pair, 1 s each, one thread each "
		      "side:\n"
		      "     xdp (native copy) -> xdp: sent %.0f/s, received %.0f/s "
		      "(%.1f %% lost%s)\n"
		      "     udp backend -> udp backend: sent %.0f/s, received %.0f/s "
		      "(%.1f %% lost)\n"
		      "     received xdp/udp: %.2f\n",
		      xs, xg, xl, where, us, ug, ul, ug > 0 ? xg / ug : 0);
	assert_true(xg > 0);
	assert_true(ug > 0);
}

#define ON(f, fam) \
	{ \
#f "_" #fam, f, NULL, test_teardown, (void *)&fam \
	}

int main(void)
{
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	const struct CMUnitTest tests[] = {
		ON(xsk_udp, v4),
		ON(xsk_xsk, v4),
		ON(xsk_udp, v6),
		ON(xsk_xsk, v6),
		cmocka_unit_test_teardown(thousand_in_sequence, test_teardown),
		cmocka_unit_test_teardown(oversize_refused, test_teardown),
		cmocka_unit_test_teardown(jumbo_frames_multi_buffer, jumbo_teardown),
		cmocka_unit_test_teardown(modes, test_teardown),
		cmocka_unit_test_teardown(unreachable_next_hops, test_teardown),
		cmocka_unit_test_teardown(bad_configs_and_sends, test_teardown),
		cmocka_unit_test_teardown(steering_program_takes_over, test_teardown),
		cmocka_unit_test_teardown(raw_frames_both_ways, test_teardown),
		cmocka_unit_test_teardown(shared_sockets_open_and_close, test_teardown),
		cmocka_unit_test_teardown(shared_sockets_keep_their_frames, test_teardown),
		cmocka_unit_test_teardown(print_hooks_stay, test_teardown),
		cmocka_unit_test_teardown(datagrams_per_second, test_teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
