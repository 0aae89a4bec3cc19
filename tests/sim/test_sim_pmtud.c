/*
 * Path MTU discovery (RFC 8899, RFC 9000 §14.3) over the simulated network
 * (tests/common/simnet.h), whose links drop datagrams larger than their MTU
 * as a router does with DF set. The client asks for 2 MiB and the server
 * sends them; both ends probe up to the local limit a 9000-byte interface
 * gives (8972 bytes of UDP payload over IPv4). Every case checks that every
 * byte arrived once, equal and in order, and then:
 *
 *   jumbo_link          MTU 9000: the server's path reaches >= 8900 bytes and
 *                       its data datagrams are that large
 *   ethernet_link       MTU 1500: it settles at 1472 bytes, nothing larger
 *                       arrives, the 8972-byte probes are lost
 *   larger_limit        local limit above the link's (the sim's 9216-byte
 *                       buffer): the first probe fails, the search climbs
 *                       the common sizes to 8972
 *   probes_lost_no_cwnd_cut
 *                       MTU 1500, no other loss: the lost probes never make
 *                       the server's congestion window shrink
 *   black_hole          MTU 9000 dropping to 1500 a third of the way: the
 *                       server finds the black hole, falls back, the
 *                       transfer completes and the search settles at 1472
 *   pmtud_off           no local limit: datagrams stay at 1452 bytes
 *   peer_limit          the client accepts 4000 bytes (max_udp_payload_size):
 *                       the server sends nothing larger on a 9000-byte link
 *   two_paths           multipath, MTU 9000 on path 0 and 1500 on path 1:
 *                       each path finds its own size and carries data at it
 *
 * SIMNET_VERBOSE=1 prints the state after each case, SIMNET_TRACE=1 a line
 * per datagram.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simnet.h"

#define SIZE (2 * 1024 * 1024)
#define TRANSFER_LIMIT (120 * MPQ_SEC)
#define JUMBO_LIMIT (9000 - SIMNET_UDP_OVERHEAD)
#define ETHERNET_PAYLOAD (1500 - SIMNET_UDP_OVERHEAD)
#define MAX_PROBES 3 /* RFC 8899 §5.1.2: then a size has failed */

static struct simnet_tls tls;

struct app {
	int64_t id[2];
	bool request_seen;
	uint64_t written, received;
	bool fin_written, fin;
	uint64_t switch_at; /* black_hole: the MTU drops once this much arrived */
	uint64_t last_cwnd; /* probes_lost_no_cwnd_cut: the server's, last turn */
	uint64_t cwnd_cuts; /* turns it was smaller than the turn before */
	char bad[256];
};

/* The first thing that went wrong, kept in ->bad. */
#define set_bad(p, ...) simnet_note_first((p)->bad, sizeof((p)->bad), __VA_ARGS__)

static void serve(struct app *a, mpq_conn *c)
{
	int rv = simnet_write_pattern(c, a->id[SIMNET_SERVER], 7, SIZE, &a->written,
				      &a->fin_written);
	if (rv != 0)
		set_bad(a, "server: stream_write: %s", mpq_strerror(rv));
}

static int on_handshake(mpq_conn *c, void *ud)
{
	struct simnet_end *e = ud;
	struct app *a = e->app;
	if (e->side != SIMNET_CLIENT)
		return 0;
	if (mpq_conn_open_stream(c, true, &a->id[SIMNET_CLIENT]) != 0 ||
	    mpq_conn_stream_write(c, a->id[SIMNET_CLIENT], (const uint8_t *)"GET", 3, true) != 3)
		set_bad(a, "client: request");
	return 0;
}

static int on_open(mpq_conn *c, int64_t id, void *ud)
{
	struct simnet_end *e = ud;
	((struct app *)e->app)->id[e->side] = id;
	return 0;
}

static int on_data(mpq_conn *c, int64_t id, uint64_t off, const uint8_t *d, size_t len, bool fin,
		   void *ud)
{
	struct simnet_end *e = ud;
	struct app *a = e->app;
	if (e->side == SIMNET_SERVER) {
		if (fin && !a->request_seen) {
			a->request_seen = true;
			serve(a, c);
		}
		return 0;
	}
	if (off != a->received || off + len > SIZE || (fin && off + len != SIZE)) {
		set_bad(a, "client: %zu bytes at %llu (fin %d), expected offset %llu", len,
			(unsigned long long)off, fin, (unsigned long long)a->received);
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		if (d[i] != simnet_pattern(7, off + i)) {
			set_bad(a, "client: byte %llu differs", (unsigned long long)(off + i));
			return 0;
		}
	a->received += len;
	a->fin |= fin;
	return 0;
}

static int on_writable(mpq_conn *c, int64_t id, void *ud)
{
	struct simnet_end *e = ud;
	struct app *a = e->app;
	if (e->side == SIMNET_SERVER && a->request_seen && id == a->id[SIMNET_SERVER])
		serve(a, c);
	return 0;
}

static const mpq_callbacks app_cb = {
	.handshake_completed = on_handshake,
	.stream_open = on_open,
	.stream_data = on_data,
	.stream_writable = on_writable,
};

struct run {
	struct simnet n;
	struct app a;
};

/* |npaths| paths (link MTUs |mtu|, 10 ms one way, 100 Mbit/s), both ends
 * probing up to |limit| (0: no discovery), the client accepting
 * |client_max| bytes (max_udp_payload_size; 0: the default). */
static void run_begin(struct run *r, unsigned npaths, const uint32_t *mtu, size_t limit,
		      uint64_t client_max)
{
	memset(r, 0, sizeof(*r));
	r->a.id[0] = r->a.id[1] = -1;
	struct simnet_config cfg = {
		.seed = 1,
		.app = {&app_cb, &app_cb},
		.app_state = {&r->a, &r->a},
		.npaths = npaths,
		.time_limit = TRANSFER_LIMIT,
		.trace = getenv("SIMNET_TRACE") ? stdout : NULL,
	};
	for (unsigned k = 0; k < npaths; k++)
		for (int i = 0; i < 2; i++)
			*simnet_config_link(&cfg, k, i) = (struct simnet_link){
				.delay = 10 * MPQ_MS,
				.rate = 100 * 1000 * 1000 / 8,
				.queue_bytes = 500 * 1000,
				.mtu = mtu[k],
			};
	assert_int_equal(simnet_init(&r->n, &cfg, &tls), 0);
	for (int i = 0; i < 2; i++) {
		r->n.end[i].settings.pmtud_max_udp_payload = limit;
		r->n.end[i].tparams.initial_max_data = 16 << 20;
		r->n.end[i].tparams.initial_max_stream_data_bidi_local = 8 << 20;
	}
	if (client_max)
		r->n.end[SIMNET_CLIENT].tparams.max_udp_payload_size = client_max;
	assert_int_equal(simnet_start(&r->n), 0);
}

static void run_fail(struct run *r, const char *what)
{
	static char state[16384];
	fprintf(stderr, "FAILED: %s\n  app: %s; received %llu/%u fin %d\n%s", what,
		r->a.bad[0] ? r->a.bad : "ok", (unsigned long long)r->a.received, SIZE, r->a.fin,
		simnet_describe(&r->n, state, sizeof(state)));
	fflush(stderr);
	simnet_free(&r->n);
	fail_msg("%s", what);
}

#define run_check(r, cond) \
	do { \
		if (!(cond)) \
			run_fail(r, #cond); \
	} while (0)

static bool downloaded(struct simnet *n)
{
	struct app *a = n->end[SIMNET_CLIENT].app;
	return a->bad[0] || a->fin;
}

/* Until |until| says so (NULL: the whole download, checked). */
static void run_transfer(struct run *r, bool (*until)(struct simnet *n))
{
	enum simnet_result res = simnet_run(&r->n, until ? until : downloaded);
	if (res != SIMNET_DONE)
		run_fail(r, simnet_result_str(res));
	run_check(r, !r->a.bad[0]);
	if (until)
		return;
	run_check(r, r->a.received == SIZE && r->a.fin);
	for (int s = 0; s < 2; s++)
		run_check(r, !mpq_conn_get_error(r->n.end[s].conn)->set);
}

/* |t| more of simulated time, for a search still going after the download. */
static void run_idle(struct run *r, uint64_t t)
{
	r->n.cfg.time_limit = t;
	enum simnet_result res = simnet_run(&r->n, NULL);
	if (res != SIMNET_TIME_LIMIT && res != SIMNET_QUIET)
		run_fail(r, simnet_result_str(res));
}

static void run_end(struct run *r)
{
	if (getenv("SIMNET_VERBOSE")) {
		static char state[16384];
		printf("%s", simnet_describe(&r->n, state, sizeof(state)));
	}
	simnet_free(&r->n);
}

/* Side |side|'s path |k| (its index in the connection's table). */
static mpq_path_stats path_of(const struct run *r, int side, unsigned k)
{
	mpq_path_stats st;
	memset(&st, 0, sizeof(st));
	uint32_t id = k ? r->n.path_id[k] : 0;
	if (mpq_conn_get_path_stats(r->n.end[side].conn, id, &st) != 0)
		memset(&st, 0, sizeof(st));
	return st;
}

static void print_path(const struct run *r, const char *name, unsigned k)
{
	mpq_path_stats st = path_of(r, SIMNET_SERVER, k);
	print_message("%s: server path %u: %llu bytes, largest sent %llu, probes %llu sent %llu "
		      "lost, black holes %llu\n",
		      name, k, (unsigned long long)st.max_udp_payload,
		      (unsigned long long)st.largest_dgram_sent,
		      (unsigned long long)st.pmtu_probes_sent,
		      (unsigned long long)st.pmtu_probes_lost,
		      (unsigned long long)st.pmtu_black_holes);
}

static void jumbo_link(void **state)
{
	(void)state;
	struct run r;
	run_begin(&r, 1, (uint32_t[]){9000}, JUMBO_LIMIT, 0);
	run_transfer(&r, NULL);
	print_path(&r, "jumbo_link", 0);
	mpq_path_stats st = path_of(&r, SIMNET_SERVER, 0);
	run_check(&r, st.max_udp_payload >= 8900);
	run_check(&r, st.largest_dgram_sent >= 8900);
	run_check(&r, st.pmtu_probes_lost == 0);
	/* Most of the data went at that size: far fewer datagrams than 1452-byte ones would take. */
	run_check(&r, simnet_link_of(&r.n, 0, SIMNET_SERVER)->st.sent < SIZE / 4000);
	run_check(&r, simnet_link_of(&r.n, 0, SIMNET_SERVER)->st.too_big == 0);
	run_end(&r);
}

static void ethernet_link(void **state)
{
	(void)state;
	struct run r;
	run_begin(&r, 1, (uint32_t[]){1500}, JUMBO_LIMIT, 0);
	run_transfer(&r, NULL);
	print_path(&r, "ethernet_link", 0);
	mpq_path_stats st = path_of(&r, SIMNET_SERVER, 0);
	run_check(&r, st.max_udp_payload == ETHERNET_PAYLOAD);
	run_check(&r, st.largest_dgram_sent == ETHERNET_PAYLOAD);
	run_check(&r, st.pmtu_probes_lost >= MAX_PROBES);
	run_check(&r, simnet_link_of(&r.n, 0, SIMNET_SERVER)->st.max_len_delivered ==
			      ETHERNET_PAYLOAD);
	run_check(&r, simnet_link_of(&r.n, 0, SIMNET_CLIENT)->st.max_len_delivered <=
			      ETHERNET_PAYLOAD);
	run_end(&r);
}

static void larger_limit(void **state)
{
	(void)state;
	struct run r;
	run_begin(&r, 1, (uint32_t[]){9000}, 16384 - SIMNET_UDP_OVERHEAD, 0);
	run_transfer(&r, NULL);
	print_path(&r, "larger_limit", 0);
	mpq_path_stats st = path_of(&r, SIMNET_SERVER, 0);
	/* The search climbs the common sizes one round trip each: the data
	 * used the larger ones before it reached 8972. */
	run_check(&r, st.max_udp_payload == JUMBO_LIMIT);
	run_check(&r, st.largest_dgram_sent > 4 * ETHERNET_PAYLOAD);
	run_check(&r, st.pmtu_probes_lost >= MAX_PROBES);
	run_end(&r);
}

/* Each turn: the server's window never shrinks (no loss but the probes'). */
static bool watch_cwnd(struct simnet *n)
{
	struct app *a = n->end[SIMNET_CLIENT].app;
	mpq_path_stats st;
	if (n->end[SIMNET_SERVER].conn &&
	    mpq_conn_get_path_stats(n->end[SIMNET_SERVER].conn, 0, &st) == 0) {
		if (st.cwnd < a->last_cwnd)
			a->cwnd_cuts++;
		a->last_cwnd = st.cwnd;
	}
	return downloaded(n);
}

static void probes_lost_no_cwnd_cut(void **state)
{
	(void)state;
	struct run r;
	run_begin(&r, 1, (uint32_t[]){1500}, JUMBO_LIMIT, 0);
	/* A link fast enough that nothing queues: probes are the only loss. */
	for (int i = 0; i < 2; i++) {
		simnet_link_of(&r.n, 0, i)->p.rate = 0;
		simnet_link_of(&r.n, 0, i)->p.queue_bytes = 0;
	}
	run_transfer(&r, watch_cwnd);
	run_transfer(&r, NULL);
	print_path(&r, "probes_lost_no_cwnd_cut", 0);
	mpq_path_stats st = path_of(&r, SIMNET_SERVER, 0);
	run_check(&r, st.pmtu_probes_lost >= MAX_PROBES);
	run_check(&r, r.a.cwnd_cuts == 0);
	run_check(&r, st.packets_lost == 0);
	run_end(&r);
}

static bool third_done(struct simnet *n)
{
	struct app *a = n->end[SIMNET_CLIENT].app;
	return a->bad[0] || a->fin || a->received >= a->switch_at;
}

static void black_hole(void **state)
{
	(void)state;
	struct run r;
	run_begin(&r, 1, (uint32_t[]){9000}, JUMBO_LIMIT, 0);
	r.a.switch_at = SIZE / 3;
	run_transfer(&r, third_done);
	run_check(&r, !r.a.fin);
	run_check(&r, path_of(&r, SIMNET_SERVER, 0).max_udp_payload >= 8900);
	for (int i = 0; i < 2; i++)
		simnet_link_of(&r.n, 0, i)->p.mtu = 1500;
	run_transfer(&r, NULL);
	run_idle(&r, 5 * MPQ_SEC); /* the search below 8972 may outlast the transfer */
	print_path(&r, "black_hole", 0);
	mpq_path_stats st = path_of(&r, SIMNET_SERVER, 0);
	run_check(&r, st.pmtu_black_holes >= 1);
	run_check(&r, st.max_udp_payload == ETHERNET_PAYLOAD);
	run_check(&r, simnet_link_of(&r.n, 0, SIMNET_SERVER)->st.too_big > 0);
	run_end(&r);
}

static void pmtud_off(void **state)
{
	(void)state;
	struct run r;
	run_begin(&r, 1, (uint32_t[]){9000}, 0, 0);
	run_transfer(&r, NULL);
	mpq_path_stats st = path_of(&r, SIMNET_SERVER, 0);
	run_check(&r, st.max_udp_payload == 1452);
	run_check(&r, st.largest_dgram_sent == 1452);
	run_check(&r, st.pmtu_probes_sent == 0);
	run_end(&r);
}

static void peer_limit(void **state)
{
	(void)state;
	struct run r;
	run_begin(&r, 1, (uint32_t[]){9000}, JUMBO_LIMIT, 4000);
	run_transfer(&r, NULL);
	mpq_path_stats st = path_of(&r, SIMNET_SERVER, 0);
	run_check(&r, st.max_udp_payload == 4000);
	run_check(&r, st.largest_dgram_sent == 4000);
	run_check(&r, simnet_link_of(&r.n, 0, SIMNET_SERVER)->st.max_len_sent == 4000);
	run_end(&r);
}

static void two_paths(void **state)
{
	(void)state;
	struct run r;
	run_begin(&r, 2, (uint32_t[]){9000, 1500}, JUMBO_LIMIT, 0);
	for (int i = 0; i < 2; i++) {
		r.n.end[i].settings.multipath = true;
		r.n.end[i].settings.path_sched = "rr";
	}
	run_transfer(&r, NULL);
	print_path(&r, "two_paths", 0);
	print_path(&r, "two_paths", 1);
	mpq_path_stats p0 = path_of(&r, SIMNET_SERVER, 0), p1 = path_of(&r, SIMNET_SERVER, 1);
	run_check(&r, p0.max_udp_payload >= 8900 && p0.largest_dgram_sent >= 8900);
	run_check(&r, p1.max_udp_payload == ETHERNET_PAYLOAD);
	run_check(&r, p1.largest_dgram_sent == ETHERNET_PAYLOAD);
	run_check(&r, simnet_link_of(&r.n, 1, SIMNET_SERVER)->st.max_len_delivered ==
			      ETHERNET_PAYLOAD);
	run_end(&r);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(jumbo_link),	cmocka_unit_test(ethernet_link),
		cmocka_unit_test(larger_limit), cmocka_unit_test(probes_lost_no_cwnd_cut),
		cmocka_unit_test(black_hole),	cmocka_unit_test(pmtud_off),
		cmocka_unit_test(peer_limit),	cmocka_unit_test(two_paths),
	};
	if (simnet_tls_init(&tls) != 0)
		return 1;
	int rv = cmocka_run_group_tests_name("sim_pmtud", tests, NULL, NULL);
	simnet_tls_free(&tls);
	return rv;
}
