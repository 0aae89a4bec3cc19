/* The udp path I/O backend on loopback (127.0.0.1 and ::1): batches both
 * ways with addresses, interface and bytes checked, source address choice on
 * wildcard sockets, GSO sends (kernel and user-space split), GRO receives,
 * ECN, and the errors a tool has to explain. */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "certs.h"
#include "mpq/endpoint.h"
#include "mpq/io/loop.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/udp.h"

#define MAXGOT 128

/* A test that takes the address to bind as its state, run on both families. */
#define ON_BOTH(f) \
	{#f "_v4", f, NULL, NULL, (void *)"127.0.0.1:0"}, \
	{ \
#f "_v6", f, NULL, NULL, (void *)"[::1]:0" \
	}

/* What arrived, copied out of the socket's buffers. */
struct got {
	size_t n;
	mpq_dgram d[MAXGOT];
	uint8_t buf[MAXGOT][2048];
	int calls;   /* recv_batch calls that returned datagrams */
	size_t most; /* most datagrams one call returned */
};

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static int open_udp(mpq_pathio **io, const char *addr, const mpq_pathio_config *base,
		    mpq_oserr *err)
{
	mpq_pathio_config cfg;

	if (base)
		cfg = *base;
	else
		mpq_pathio_config_default(&cfg);
	assert_int_equal(mpq_addr_parse(&cfg.local, addr), 0);
	return mpq_pathio_udp.open(io, &cfg, err);
}

/* Opens two sockets on |addr| (port 0), or skips when the host has no such
 * address (IPv6 disabled). */
static void open_pair(mpq_pathio **a, mpq_pathio **b, const char *addr,
		      const mpq_pathio_config *cfg_a, const mpq_pathio_config *cfg_b)
{
	mpq_oserr err;
	int rv = open_udp(a, addr, cfg_a, &err);

	if (rv < 0 && (err.errnum == EADDRNOTAVAIL || err.errnum == EAFNOSUPPORT)) {
		print_message("skip: no %s on this host (%s: %s)\n", addr, err.call,
			      strerror(err.errnum));
		skip();
	}
	assert_int_equal(rv, 0);
	assert_int_equal(open_udp(b, addr, cfg_b, NULL), 0);
	assert_int_not_equal(mpq_addr_port(&(*a)->local), 0);
	assert_int_not_equal(mpq_addr_port(&(*a)->local), mpq_addr_port(&(*b)->local));
}

/* Receives until |want| datagrams arrived or nothing comes for 2 s. */
static void collect(mpq_pathio *io, struct got *g, size_t want, size_t per_call)
{
	mpq_dgram d[MAXGOT];

	memset(g, 0, sizeof(*g));
	while (g->n < want) {
		int n = mpq_pathio_recv(io, d, per_call);

		assert_true(n >= 0);
		if (n == 0) {
			struct pollfd p = {.fd = mpq_pathio_fd(io), .events = POLLIN};

			if (poll(&p, 1, 2000) <= 0)
				break;
			continue;
		}
		assert_true((size_t)n <= per_call);
		g->calls++;
		if ((size_t)n > g->most)
			g->most = (size_t)n;
		for (int i = 0; i < n; i++) {
			assert_true(g->n < MAXGOT);
			assert_true(d[i].len <= sizeof(g->buf[0]));
			assert_int_equal(d[i].gso_size, 0);
			g->d[g->n] = d[i];
			memcpy(g->buf[g->n], d[i].data, d[i].len);
			g->d[g->n].data = g->buf[g->n];
			g->n++;
		}
	}
}

/* A descriptor for |len| bytes at |data| to |to|, everything else 0. */
static mpq_dgram dgram_to(uint8_t *data, size_t len, const mpq_addr *to)
{
	mpq_dgram d;

	memset(&d, 0, sizeof(d));
	d.data = data;
	d.len = len;
	d.remote = *to;
	return d;
}

/* Nothing more is waiting. */
static void assert_quiet(mpq_pathio *io)
{
	mpq_dgram d[4];

	assert_int_equal(mpq_pathio_recv(io, d, 4), 0);
}

static uint32_t lo_index(void)
{
	uint32_t i = 0;

	assert_int_equal(mpq_if_index("lo", &i), 0);
	return i;
}

static void batch_round_trip(void **state)
{
	const char *addr = *state;
	static const size_t sizes[] = {1, 100, 1200, 1500, 0, 1452, 2048, 7};
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	static uint8_t data[N][2048];
	mpq_pathio *a, *b;
	mpq_dgram out[N];
	struct got g;

	open_pair(&a, &b, addr, NULL, NULL);
	for (size_t i = 0; i < N; i++) {
		fill(data[i], sizes[i], (unsigned int)i);
		out[i] = dgram_to(data[i], sizes[i], &b->local);
	}
	assert_int_equal(mpq_pathio_send(a, out, N), N);
	collect(b, &g, N, MAXGOT);
	assert_int_equal(g.n, N);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(g.d[i].len, sizes[i]);
		assert_memory_equal(g.d[i].data, data[i], sizes[i]);
		assert_true(mpq_addr_equal(&g.d[i].remote, &a->local));
		assert_true(mpq_addr_equal(&g.d[i].local, &b->local));
		assert_int_equal(g.d[i].ifindex, lo_index());
		assert_int_equal(g.d[i].ecn, MPQ_ECN_NOT_ECT);
	}
	assert_quiet(b);
	assert_int_equal(mpq_udp_get_stats(a)->tx_dgrams, N);
	assert_int_equal(mpq_udp_get_stats(b)->rx_dgrams, N);
	mpq_pathio_close(a);
	mpq_pathio_close(b);
}

/* More datagrams than the sockets' batch: sent and received in rounds. */
static void more_than_one_batch(void **state)
{
	enum { N = 50 };
	static uint8_t data[N][64];
	mpq_pathio_config cfg;
	mpq_pathio *a, *b;
	mpq_dgram out[N];
	struct got g;

	mpq_pathio_config_default(&cfg);
	cfg.batch = 4;
	open_pair(&a, &b, "127.0.0.1:0", &cfg, &cfg);
	for (size_t i = 0; i < N; i++) {
		fill(data[i], sizeof(data[i]), (unsigned int)i + 100);
		out[i] = dgram_to(data[i], sizeof(data[i]), &b->local);
	}
	assert_int_equal(mpq_pathio_send(a, out, N), N);
	collect(b, &g, N, MAXGOT);
	assert_int_equal(g.n, N);
	assert_int_equal(g.most, 4);
	for (size_t i = 0; i < N; i++)
		assert_memory_equal(g.d[i].data, data[i], sizeof(data[i]));
	mpq_pathio_close(a);
	mpq_pathio_close(b);
}

/* A socket on the wildcard learns the address each datagram was sent to and
 * answers from the address it is told. 127.0.0.2 is on lo too. */
static void wildcard_local_and_source(void **state)
{
	mpq_pathio *a, *w;
	mpq_dgram d;
	struct got g;
	mpq_addr want;
	uint8_t msg[32];

	open_pair(&a, &w, "127.0.0.1:0", NULL, NULL);
	mpq_pathio_close(w);
	assert_int_equal(open_udp(&w, "0.0.0.0:0", NULL, NULL), 0);
	assert_true(mpq_addr_is_any(&w->local));

	fill(msg, sizeof(msg), 1);
	assert_int_equal(mpq_addr_parse_ip(&want, "127.0.0.1", mpq_addr_port(&w->local)), 0);
	d = dgram_to(msg, sizeof(msg), &want);
	assert_int_equal(mpq_pathio_send(a, &d, 1), 1);
	collect(w, &g, 1, 8);
	assert_int_equal(g.n, 1);
	assert_true(mpq_addr_equal(&g.d[0].local, &d.remote));
	assert_true(mpq_addr_equal(&g.d[0].remote, &a->local));

	/* Reply from 127.0.0.2, then from what the kernel picks. */
	d = dgram_to(msg, sizeof(msg), &a->local);
	assert_int_equal(mpq_addr_parse_ip(&d.local, "127.0.0.2", 0), 0);
	assert_int_equal(mpq_pathio_send(w, &d, 1), 1);
	memset(&d.local, 0, sizeof(d.local));
	assert_int_equal(mpq_pathio_send(w, &d, 1), 1);
	collect(a, &g, 2, 8);
	assert_int_equal(g.n, 2);
	assert_int_equal(mpq_addr_parse_ip(&want, "127.0.0.2", mpq_addr_port(&w->local)), 0);
	assert_true(mpq_addr_equal(&g.d[0].remote, &want));
	assert_int_equal(mpq_addr_parse_ip(&want, "127.0.0.1", mpq_addr_port(&w->local)), 0);
	assert_true(mpq_addr_equal(&g.d[1].remote, &want));

	/* A socket bound to one address cannot send from another. */
	d.remote = w->local;
	assert_int_equal(mpq_addr_parse_ip(&d.local, "127.0.0.2", 0), 0);
	assert_int_equal(mpq_pathio_send(a, &d, 1), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_addr_parse_ip(&d.local, "127.0.0.1", 0), 0);
	assert_int_equal(mpq_addr_parse_ip(&d.remote, "127.0.0.1", mpq_addr_port(&w->local)), 0);
	assert_int_equal(mpq_pathio_send(a, &d, 1), 1); /* its own address is fine */
	collect(w, &g, 1, 8);
	assert_int_equal(g.n, 1);
	mpq_pathio_close(a);
	mpq_pathio_close(w);
}

static void wildcard_v6(void **state)
{
	mpq_pathio *a, *w;
	mpq_dgram d;
	struct got g;
	mpq_addr to;
	uint8_t msg[16] = "over v6";

	open_pair(&a, &w, "[::1]:0", NULL, NULL);
	mpq_pathio_close(w);
	assert_int_equal(open_udp(&w, "[::]:0", NULL, NULL), 0);
	assert_int_equal(mpq_addr_parse_ip(&to, "::1", mpq_addr_port(&w->local)), 0);
	d = dgram_to(msg, sizeof(msg), &to);
	assert_int_equal(mpq_pathio_send(a, &d, 1), 1);
	collect(w, &g, 1, 8);
	assert_int_equal(g.n, 1);
	assert_true(mpq_addr_equal(&g.d[0].local, &d.remote));
	assert_int_equal(g.d[0].ifindex, lo_index());

	/* Answer with the local address and interface it arrived on. */
	d = g.d[0];
	d.remote = g.d[0].remote;
	assert_int_equal(mpq_pathio_send(w, &d, 1), 1);
	collect(a, &g, 1, 8);
	assert_int_equal(g.n, 1);
	assert_true(mpq_addr_equal(&g.d[0].remote, &d.local));
	assert_memory_equal(g.d[0].data, msg, sizeof(msg));
	mpq_pathio_close(a);
	mpq_pathio_close(w);
}

/* One descriptor of 9 × 1200 + 500 bytes with gso_size 1200. */
#define SEG 1200
#define SUPER (9 * SEG + 500)

static void send_super(mpq_pathio *a, mpq_pathio *b, uint8_t *data)
{
	mpq_dgram d;

	fill(data, SUPER, 77);
	d = dgram_to(data, SUPER, &b->local);
	d.gso_size = SEG;
	assert_int_equal(mpq_pathio_send(a, &d, 1), 1);
}

/* |d| holds the 10 segments of |data|, sent by |a|. */
static void assert_segments(const mpq_dgram *d, const uint8_t *data, const mpq_pathio *a)
{
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(d[i].len, i < 9 ? SEG : 500);
		assert_memory_equal(d[i].data, data + i * SEG, d[i].len);
		assert_true(mpq_addr_equal(&d[i].remote, &a->local));
	}
}

static void gso_send(void **state)
{
	const char *addr = *state;
	static uint8_t data[SUPER];
	mpq_pathio_config rx;
	mpq_pathio *a, *b;
	struct got g;

	mpq_pathio_config_default(&rx);
	rx.gro = false;
	open_pair(&a, &b, addr, NULL, &rx);
	assert_false(b->caps & MPQ_PATHIO_GRO);
	if (!(a->caps & MPQ_PATHIO_GSO)) {
		print_message("skip: this kernel has no UDP_SEGMENT (GSO)\n");
		mpq_pathio_close(a);
		mpq_pathio_close(b);
		skip();
	}
	send_super(a, b, data);
	collect(b, &g, 10, MAXGOT);
	assert_int_equal(g.n, 10);
	assert_segments(g.d, data, a);
	assert_int_equal(mpq_udp_get_stats(a)->tx_dgrams, 10);
	assert_int_equal(mpq_udp_get_stats(a)->tx_split, 0);
	assert_quiet(b);
	mpq_pathio_close(a);
	mpq_pathio_close(b);
}

/* Without GSO the descriptors are split in user space: 8 of 10 segments
 * need two sendmmsg rounds of at most 64 messages. */
static void gso_fallback_splits(void **state)
{
	enum { N = 8 };
	static uint8_t data[N][SUPER];
	mpq_pathio_config tx, rx;
	mpq_pathio *a, *b;
	mpq_dgram d[N];
	struct got g;

	mpq_pathio_config_default(&tx);
	tx.no_gso = true;
	mpq_pathio_config_default(&rx);
	rx.gro = false;
	open_pair(&a, &b, "127.0.0.1:0", &tx, &rx);
	assert_false(a->caps & MPQ_PATHIO_GSO);
	for (size_t i = 0; i < N; i++) {
		fill(data[i], SUPER, (unsigned int)i);
		d[i] = dgram_to(data[i], SUPER, &b->local);
		d[i].gso_size = SEG;
	}
	assert_int_equal(mpq_pathio_send(a, d, N), N);
	collect(b, &g, 10 * N, MAXGOT);
	assert_int_equal(g.n, 10 * N);
	for (size_t i = 0; i < N; i++)
		assert_segments(&g.d[10 * i], data[i], a);
	assert_int_equal(mpq_udp_get_stats(a)->tx_dgrams, 10 * N);
	assert_int_equal(mpq_udp_get_stats(a)->tx_split, N);
	assert_quiet(b);
	mpq_pathio_close(a);
	mpq_pathio_close(b);
}

/* A GRO socket gets the GSO send in one piece and hands out its segments,
 * four at a time here: 4 + 4 + 2. */
static void gro_receive(void **state)
{
	const char *addr = *state;
	static uint8_t data[SUPER];
	mpq_pathio *a, *b;
	struct got g;

	open_pair(&a, &b, addr, NULL, NULL);
	if (!(a->caps & MPQ_PATHIO_GSO) || !(b->caps & MPQ_PATHIO_GRO)) {
		print_message("skip: this kernel lacks UDP_SEGMENT or UDP_GRO\n");
		mpq_pathio_close(a);
		mpq_pathio_close(b);
		skip();
	}
	send_super(a, b, data);
	collect(b, &g, 10, 4);
	assert_int_equal(g.n, 10);
	assert_segments(g.d, data, a);
	assert_int_equal(g.calls, 3);
	assert_int_equal(g.most, 4);
	assert_int_equal(mpq_udp_get_stats(b)->rx_coalesced, 1);
	assert_int_equal(mpq_udp_get_stats(b)->rx_dgrams, 10);
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(g.d[i].ifindex, lo_index());
		assert_true(mpq_addr_equal(&g.d[i].local, &b->local));
	}
	assert_quiet(b);
	mpq_pathio_close(a);
	mpq_pathio_close(b);
}

/* What a capture hook saw. */
struct seen {
	size_t n;
	bool sent[16];
	size_t len[16];
	mpq_addr src[16], dst[16];
	uint32_t ifindex[16];
	uint8_t first[16];
	uint64_t ts[16];
};

static void record(void *user_data, const mpq_capture_dgram *d)
{
	struct seen *s = user_data;

	assert_true(s->n < 16);
	assert_null(d->frame);
	s->sent[s->n] = d->sent;
	s->len[s->n] = d->len;
	s->src[s->n] = *d->src;
	s->dst[s->n] = *d->dst;
	s->ifindex[s->n] = d->ifindex;
	s->first[s->n] = d->data[0];
	s->ts[s->n] = d->ts_ns;
	s->n++;
}

/* The capture hook sees one record per datagram on both sides: the GSO send
 * as its 10 segments, the GRO receive split again, with addresses, ports,
 * interface and time; with the hook unset, nothing. */
static void capture_hook(void **state)
{
	const char *addr = *state;
	static uint8_t data[SUPER];
	struct seen tx = {0}, rx = {0};
	const mpq_capture tx_hook = {record, &tx}, rx_hook = {record, &rx};
	uint64_t before = mpq_capture_now();
	mpq_pathio *a, *b;
	struct got g;

	open_pair(&a, &b, addr, NULL, NULL);
	a->capture = &tx_hook;
	b->capture = &rx_hook;
	send_super(a, b, data);
	collect(b, &g, 10, 4);
	assert_int_equal(g.n, 10);
	assert_int_equal(tx.n, 10);
	assert_int_equal(rx.n, 10);
	for (size_t i = 0; i < 10; i++) {
		assert_true(tx.sent[i]);
		assert_false(rx.sent[i]);
		assert_int_equal(tx.len[i], i < 9 ? SEG : 500);
		assert_int_equal(rx.len[i], tx.len[i]);
		assert_int_equal(tx.first[i], data[i * SEG]);
		assert_int_equal(rx.first[i], data[i * SEG]);
		assert_true(mpq_addr_equal(&tx.src[i], &a->local));
		assert_true(mpq_addr_equal(&tx.dst[i], &b->local));
		assert_true(mpq_addr_equal(&rx.src[i], &a->local));
		assert_true(mpq_addr_equal(&rx.dst[i], &b->local));
		assert_int_equal(rx.ifindex[i], lo_index());
		assert_true(tx.ts[i] >= before && rx.ts[i] >= tx.ts[i]);
	}
	a->capture = NULL;
	b->capture = NULL;
	send_super(a, b, data);
	collect(b, &g, 10, 4);
	assert_int_equal(g.n, 10);
	assert_int_equal(tx.n, 10);
	assert_int_equal(rx.n, 10);
	mpq_pathio_close(a);
	mpq_pathio_close(b);
}

static void ecn_round_trip(void **state)
{
	const char *addr = *state;
	static const uint8_t marks[] = {MPQ_ECN_ECT0, MPQ_ECN_ECT1, MPQ_ECN_CE, MPQ_ECN_NOT_ECT,
					MPQ_ECN_ECT0};
	enum { N = sizeof(marks) };
	uint8_t msg[N][40];
	mpq_pathio *a, *b;
	mpq_dgram d[N];
	struct got g;

	open_pair(&a, &b, addr, NULL, NULL);
	for (size_t i = 0; i < N; i++) {
		fill(msg[i], sizeof(msg[i]), (unsigned int)i);
		d[i] = dgram_to(msg[i], sizeof(msg[i]), &b->local);
		d[i].ecn = marks[i];
	}
	assert_int_equal(mpq_pathio_send(a, d, N), N);
	collect(b, &g, N, MAXGOT);
	assert_int_equal(g.n, N);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(g.d[i].ecn, marks[i]);
		assert_memory_equal(g.d[i].data, msg[i], sizeof(msg[i]));
	}
	d[0].ecn = 4;
	assert_int_equal(mpq_pathio_send(a, d, 1), MPQ_ERR_INVALID_ARGUMENT);
	mpq_pathio_close(a);
	mpq_pathio_close(b);
}

static void address_in_use(void **state)
{
	const char *addr = *state;
	static mpq_pathio dummy;
	mpq_pathio_config cfg;
	char text[MPQ_ADDR_STRLEN];
	mpq_pathio *a, *b;
	mpq_oserr err;

	open_pair(&a, &b, addr, NULL, NULL);
	mpq_pathio_close(b);
	assert_true(mpq_addr_format(&a->local, text, sizeof(text)) > 0);
	b = &dummy; /* must be reset to NULL */
	assert_int_equal(open_udp(&b, text, NULL, &err), MPQ_ERR_INTERNAL);
	assert_null(b);
	assert_int_equal(err.errnum, EADDRINUSE);
	assert_string_equal(err.call, "bind");
	mpq_pathio_close(a);

	/* Sharing a port has to be asked for, by both sockets. */
	mpq_pathio_config_default(&cfg);
	cfg.reuseaddr = true;
	assert_int_equal(open_udp(&a, addr, &cfg, NULL), 0);
	assert_int_equal(mpq_addr_format(&a->local, text, sizeof(text)), (int)strlen(text));
	assert_int_equal(open_udp(&b, text, &cfg, NULL), 0);
	assert_true(mpq_addr_equal(&a->local, &b->local));
	mpq_pathio_close(a);
	mpq_pathio_close(b);
}

static void unknown_interface(void **state)
{
	mpq_pathio_config cfg;
	mpq_pathio *io = NULL;
	mpq_oserr err;

	mpq_pathio_config_default(&cfg);
	cfg.ifname = "nosuchif0";
	assert_int_equal(open_udp(&io, "0.0.0.0:0", &cfg, &err), MPQ_ERR_NOT_FOUND);
	assert_null(io);
	assert_int_equal(err.errnum, ENODEV);
	/* An address no interface has. */
	assert_int_equal(open_udp(&io, "192.0.2.1:0", NULL, &err), MPQ_ERR_NOT_FOUND);
	assert_int_equal(err.errnum, EADDRNOTAVAIL);
	assert_string_equal(err.call, "bind");
}

/* SO_BINDTODEVICE to lo (may need CAP_NET_RAW: then the error says so). */
static void bind_to_device(void **state)
{
	mpq_pathio_config cfg;
	mpq_pathio *a, *b;
	mpq_oserr err;
	mpq_dgram d;
	struct got g;
	mpq_addr to;
	uint8_t msg[8] = "on lo";
	int rv;

	mpq_pathio_config_default(&cfg);
	cfg.ifname = "lo";
	rv = open_udp(&b, "0.0.0.0:0", &cfg, &err);
	if (rv < 0 && err.errnum == EPERM) {
		assert_string_equal(err.call, "SO_BINDTODEVICE");
		print_message("skip: SO_BINDTODEVICE needs CAP_NET_RAW here\n");
		skip();
	}
	assert_int_equal(rv, 0);
	assert_int_equal(b->ifindex, lo_index());
	assert_int_equal(open_udp(&a, "127.0.0.1:0", NULL, NULL), 0);
	assert_int_equal(mpq_addr_parse_ip(&to, "127.0.0.1", mpq_addr_port(&b->local)), 0);
	d = dgram_to(msg, sizeof(msg), &to);
	assert_int_equal(mpq_pathio_send(a, &d, 1), 1);
	collect(b, &g, 1, 8);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.d[0].ifindex, lo_index());
	assert_memory_equal(g.d[0].data, msg, sizeof(msg));
	mpq_pathio_close(a);
	mpq_pathio_close(b);
}

/* Datagrams larger than max_dgram are dropped and counted; the rest arrive. */
static void oversized_dropped(void **state)
{
	static uint8_t big[1000], small[100];
	mpq_pathio_config rx;
	mpq_pathio *a, *b;
	mpq_dgram d[2];
	struct got g;

	mpq_pathio_config_default(&rx);
	rx.gro = false;
	rx.max_dgram = 512;
	open_pair(&a, &b, "127.0.0.1:0", NULL, &rx);
	fill(big, sizeof(big), 1);
	fill(small, sizeof(small), 2);
	d[0] = dgram_to(big, sizeof(big), &b->local);
	d[1] = dgram_to(small, sizeof(small), &b->local);
	assert_int_equal(mpq_pathio_send(a, d, 2), 2);
	collect(b, &g, 1, 8);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.d[0].len, sizeof(small));
	assert_memory_equal(g.d[0].data, small, sizeof(small));
	assert_int_equal(mpq_udp_get_stats(b)->rx_dropped, 1);
	assert_quiet(b);
	mpq_pathio_close(a);
	mpq_pathio_close(b);
}

static void bad_sends_and_configs(void **state)
{
	static uint8_t data[70000];
	mpq_pathio_config cfg;
	mpq_pathio *a, *b, *io;
	mpq_dgram d[2];
	mpq_oserr err;

	open_pair(&a, &b, "127.0.0.1:0", NULL, NULL);
	d[0] = dgram_to(data, 10, &b->local);
	d[1] = d[0];

	/* Malformed descriptors: nothing is sent. */
	assert_int_equal(mpq_addr_parse(&d[1].remote, "[::1]:9"), 0);
	assert_int_equal(mpq_pathio_send(a, d, 2), MPQ_ERR_INVALID_ARGUMENT);
	d[1] = d[0];
	d[1].len = 65 * 100;
	d[1].gso_size = 100; /* 65 segments */
	assert_int_equal(mpq_pathio_send(a, d, 2), MPQ_ERR_INVALID_ARGUMENT);
	d[1].len = MPQ_PATHIO_MAX_GSO_BYTES + 1;
	d[1].gso_size = 1500;
	assert_int_equal(mpq_pathio_send(a, d, 2), MPQ_ERR_INVALID_ARGUMENT);
	d[1] = d[0];
	d[1].data = NULL;
	assert_int_equal(mpq_pathio_send(a, d, 2), MPQ_ERR_INVALID_ARGUMENT);
	assert_quiet(b);

	/* Too big for UDP: the kernel says EMSGSIZE. After a good one the count
	 * says where it stopped; first in the batch, the error is returned. */
	d[1] = d[0];
	d[1].len = sizeof(data);
	assert_int_equal(mpq_pathio_send(a, d, 2), 1);
	assert_int_equal(mpq_pathio_send(a, &d[1], 1), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(a->err.errnum, EMSGSIZE);
	assert_string_equal(a->err.call, "sendmmsg");
	assert_int_equal(mpq_pathio_send(a, d, 0), 0);
	mpq_pathio_close(a);
	mpq_pathio_close(b);

	mpq_pathio_config_default(&cfg);
	assert_int_equal(mpq_pathio_udp.open(&io, &cfg, &err), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_addr_parse(&cfg.local, "127.0.0.1:0"), 0);
	cfg.batch = 0;
	assert_int_equal(mpq_pathio_udp.open(&io, &cfg, &err), MPQ_ERR_INVALID_ARGUMENT);
	cfg.batch = 8;
	cfg.max_dgram = 70000;
	assert_int_equal(mpq_pathio_udp.open(&io, &cfg, &err), MPQ_ERR_INVALID_ARGUMENT);
	mpq_pathio_close(NULL);
}

struct echo {
	mpq_pathio *a;
	mpq_pathio *b;
	mpq_loop_timer sender;
	uint8_t msg[64];
	int got;
};

static int send_later(mpq_loop *loop, mpq_loop_timer *t, void *user_data)
{
	struct echo *e = user_data;
	mpq_dgram d = dgram_to(e->msg, sizeof(e->msg), &e->b->local);

	return mpq_pathio_send(e->a, &d, 1) == 1 ? 0 : MPQ_ERR_INTERNAL;
}

static int on_readable(mpq_loop *loop, int fd, unsigned int events, void *user_data)
{
	struct echo *e = user_data;
	mpq_dgram d[8];
	int n;

	while ((n = mpq_pathio_recv(e->b, d, 8)) > 0) {
		for (int i = 0; i < n; i++) {
			assert_int_equal(d[i].len, sizeof(e->msg));
			assert_memory_equal(d[i].data, e->msg, sizeof(e->msg));
			e->got++;
		}
	}
	if (n < 0)
		return n;
	mpq_loop_stop(loop);
	return 0;
}

static int too_late(mpq_loop *loop, mpq_loop_timer *t, void *user_data)
{
	return MPQ_ERR_INTERNAL;
}

/* The glue the tools write: the socket's descriptor in the loop. */
static void loop_drives_socket(void **state)
{
	struct echo e = {.got = 0};
	mpq_loop_timer guard;
	mpq_loop *loop;

	open_pair(&e.a, &e.b, "127.0.0.1:0", NULL, NULL);
	fill(e.msg, sizeof(e.msg), 9);
	assert_int_equal(mpq_loop_new(&loop, NULL), 0);
	assert_int_equal(mpq_loop_add_fd(loop, mpq_pathio_fd(e.b), MPQ_LOOP_READ, on_readable, &e),
			 0);
	mpq_loop_timer_init(&e.sender, send_later, &e);
	mpq_loop_timer_init(&guard, too_late, NULL);
	assert_int_equal(mpq_loop_timer_set(loop, &e.sender, mpq_loop_now() + MPQ_MS, 0), 0);
	assert_int_equal(mpq_loop_timer_set(loop, &guard, mpq_loop_now() + 5 * MPQ_SEC, 0), 0);
	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(e.got, 1);
	mpq_loop_del(loop);
	mpq_pathio_close(e.a);
	mpq_pathio_close(e.b);
}

static int sockopt_int(const mpq_pathio *io, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(mpq_pathio_fd(io), SOL_SOCKET, name, &v, &len), 0);
	return v;
}

/* Large buffers: as root past net.core.rmem_max/wmem_max (the kernel reports
 * twice what was set); otherwise up to those limits. */
static void socket_buffers(void **state)
{
	mpq_pathio_config cfg;
	mpq_pathio *io;

	mpq_pathio_config_default(&cfg);
	assert_int_equal(cfg.sockbuf, 4 << 20);
	assert_int_equal(open_udp(&io, "127.0.0.1:0", &cfg, NULL), 0);
	if (geteuid() == 0) {
		assert_true(sockopt_int(io, SO_RCVBUF) >= cfg.sockbuf);
		assert_true(sockopt_int(io, SO_SNDBUF) >= cfg.sockbuf);
	} else {
		print_message("note: not root, buffers capped at net.core.[rw]mem_max\n");
	}
	mpq_pathio_close(io);
	cfg.sockbuf = 0; /* the kernel's defaults */
	assert_int_equal(open_udp(&io, "127.0.0.1:0", &cfg, NULL), 0);
	assert_true(sockopt_int(io, SO_RCVBUF) < 4 << 20);
	mpq_pathio_close(io);
}

static void backend_by_name(void **state)
{
	assert_ptr_equal(mpq_pathio_find("udp"), &mpq_pathio_udp);
	assert_string_equal(mpq_pathio_udp.name, "udp");
	assert_null(mpq_pathio_find("no-such-backend"));
	assert_null(mpq_pathio_find(NULL));
	assert_null(mpq_udp_get_stats(NULL));
}

/* One end of a QUIC connection over a udp socket, for conn_marks_ect0. */
struct qend {
	mpq_pathio *io;
	mpq_conn *conn;
	uint64_t sent, sent_ect0, sent_capable; /* datagrams; marked; after validation */
	uint64_t rcvd, rcvd_ect0;		/* as the socket read the IP header */
};

static void test_rand(uint8_t *dest, size_t len, void *ud)
{
	static uint64_t x = 7;

	(void)ud;
	for (size_t i = 0; i < len; i++)
		dest[i] =
			(uint8_t)((x = x * 6364136223846793005ULL + 1442695040888963407ULL) >> 56);
}

static int path_ecn_state(const mpq_conn *c)
{
	mpq_path_stats st;

	assert_int_equal(mpq_conn_get_path_stats(c, 0, &st), 0);
	return st.ecn_state;
}

/* Sends what |e|'s connection has, each datagram with the mark it asks for. */
static void qend_flush(struct qend *e, uint64_t now)
{
	uint8_t buf[1500];
	mpq_path out;
	mpq_pkt_info pi = {.version = MPQ_PKT_INFO_VERSION};
	int n;

	while (e->conn &&
	       (n = mpq_conn_write_pkt(e->conn, &out, &pi, buf, sizeof(buf), now)) > 0) {
		mpq_dgram d = dgram_to(buf, (size_t)n, &out.remote);

		d.ecn = pi.ecn;
		assert_int_equal(mpq_pathio_send(e->io, &d, 1), 1);
		e->sent++;
		e->sent_ect0 += pi.ecn == MPQ_ECN_ECT0;
		e->sent_capable += path_ecn_state(e->conn) == MPQ_ECN_STATE_CAPABLE;
	}
}

/* Hands what |e|'s socket has to its connection (the server's is made from
 * the first datagram), with the ECN codepoint the socket read. */
static void qend_read(struct qend *e, mpq_tls_ctx *server_tls, uint64_t now)
{
	mpq_dgram d[16];
	int n = mpq_pathio_recv(e->io, d, 16);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		mpq_path path = {.local = d[i].local, .remote = d[i].remote};
		mpq_pkt_info pi = {.version = MPQ_PKT_INFO_VERSION, .ecn = d[i].ecn};

		e->rcvd++;
		e->rcvd_ect0 += d[i].ecn == MPQ_ECN_ECT0;
		if (!e->conn) {
			mpq_settings s;
			mpq_tparams tp;
			mpq_callbacks cb = {.struct_version = MPQ_CALLBACKS_VERSION,
					    .rand = test_rand};

			mpq_settings_default(&s);
			mpq_tparams_default(&tp);
			tp.initial_max_streams_bidi = 1;
			tp.initial_max_data = 1 << 20;
			tp.initial_max_stream_data_bidi_remote = 1 << 20;
			assert_int_equal(mpq_conn_server_new(&e->conn, &path, d[i].data, d[i].len,
							     &s, &tp, &cb, server_tls, now),
					 0);
		}
		assert_int_equal(mpq_conn_read_pkt(e->conn, &path, &pi, d[i].data, d[i].len, now),
				 0);
	}
}

/*
 * A connection over the udp backend: its datagrams leave ECT(0) (RFC 9000
 * §13.4.2: while the path is tested, then for good once an ACK_ECN
 * validated it), and the receiving socket reads ECT(0) from the IP header of
 * every one, before and after validation; both ends validate.
 */
static void conn_marks_ect0(void **state)
{
	const char *addr = *state;
	struct qend q[2] = {{0}};
	struct test_certs tc;
	int err;
	char why[256];
	uint64_t now = 1;

	open_pair(&q[0].io, &q[1].io, addr, NULL, NULL);
	assert_int_equal(test_certs_create(&tc), 0);
	mpq_tls_config ccfg = {.struct_version = MPQ_TLS_CONFIG_VERSION,
			       .alpn = "hq-interop",
			       .ca_file = tc.ca_file};
	mpq_tls_config scfg = {.struct_version = MPQ_TLS_CONFIG_VERSION,
			       .is_server = true,
			       .alpn = "hq-interop",
			       .cert_file = tc.cert_file,
			       .key_file = tc.key_file};
	mpq_tls_ctx *ctls = mpq_tls_context_new(&ccfg, &err, why, sizeof(why));
	mpq_tls_ctx *stls = mpq_tls_context_new(&scfg, &err, why, sizeof(why));

	assert_non_null(ctls);
	assert_non_null(stls);
	mpq_settings s;
	mpq_tparams tp;
	mpq_callbacks cb = {.struct_version = MPQ_CALLBACKS_VERSION, .rand = test_rand};
	mpq_path path = {.local = q[0].io->local, .remote = q[1].io->local};
	int64_t id = -1;
	uint8_t data[4096];

	mpq_settings_default(&s);
	s.server_name = "localhost";
	mpq_tparams_default(&tp);
	assert_int_equal(mpq_conn_client_new(&q[0].conn, &path, &s, &tp, &cb, ctls, now), 0);
	memset(data, 'e', sizeof(data));
	for (int round = 0; round < 400 && q[0].sent_capable < 20; round++, now += MPQ_MS) {
		for (int i = 0; i < 2; i++) {
			if (q[i].conn && mpq_conn_get_expiry(q[i].conn) <= now)
				mpq_conn_handle_expiry(q[i].conn, now);
			qend_flush(&q[i], now);
		}
		poll(&(struct pollfd){.fd = mpq_pathio_fd(q[1].io), .events = POLLIN}, 1, 5);
		for (int i = 0; i < 2; i++)
			qend_read(&q[i], stls, now);
		if (mpq_conn_is_handshake_complete(q[0].conn) && id < 0)
			assert_int_equal(mpq_conn_open_stream(q[0].conn, true, &id), 0);
		if (id >= 0)
			mpq_conn_stream_write(q[0].conn, id, data, sizeof(data), false);
	}
	print_message("client: %llu datagrams, %llu ECT(0), %llu once validated; server read "
		      "%llu ECT(0) of %llu\n",
		      (unsigned long long)q[0].sent, (unsigned long long)q[0].sent_ect0,
		      (unsigned long long)q[0].sent_capable, (unsigned long long)q[1].rcvd_ect0,
		      (unsigned long long)q[1].rcvd);
	assert_int_equal(path_ecn_state(q[0].conn), MPQ_ECN_STATE_CAPABLE);
	assert_int_equal(path_ecn_state(q[1].conn), MPQ_ECN_STATE_CAPABLE);
	assert_true(q[0].sent_capable >= 20);
	/* Every datagram marked arrived marked (loopback loses none in flight). */
	assert_int_equal(q[1].rcvd_ect0, q[0].sent_ect0);
	assert_int_equal(q[1].rcvd, q[0].sent);
	assert_int_equal(q[0].rcvd_ect0, q[1].sent_ect0);
	assert_true(q[1].sent_ect0 > 0);
	for (int i = 0; i < 2; i++) {
		mpq_conn_del(q[i].conn);
		mpq_pathio_close(q[i].io);
	}
	mpq_tls_context_free(ctls);
	mpq_tls_context_free(stls);
	test_certs_cleanup(&tc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ON_BOTH(batch_round_trip),
		cmocka_unit_test(more_than_one_batch),
		cmocka_unit_test(wildcard_local_and_source),
		cmocka_unit_test(wildcard_v6),
		ON_BOTH(gso_send),
		cmocka_unit_test(gso_fallback_splits),
		ON_BOTH(gro_receive),
		ON_BOTH(capture_hook),
		cmocka_unit_test(loop_drives_socket),
		ON_BOTH(ecn_round_trip),
		ON_BOTH(conn_marks_ect0),
		ON_BOTH(address_in_use),
		cmocka_unit_test(unknown_interface),
		cmocka_unit_test(bind_to_device),
		cmocka_unit_test(oversized_dropped),
		cmocka_unit_test(bad_sends_and_configs),
		cmocka_unit_test(socket_buffers),
		cmocka_unit_test(backend_by_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
