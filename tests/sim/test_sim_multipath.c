/*
 * Multipath downloads over the simulated network (tests/common/simnet.h) with
 * 2 to 4 paths, each a pair of links of its own. The client opens paths
 * 1..N-1 as soon as the library lets it (simnet does, retrying), opens a
 * bidirectional stream and sends a short request with FIN; the server answers
 * with 2 MiB and FIN. Every run checks that every byte arrived once, equal and
 * in order (offsets checked in stream_data, so a byte delivered twice fails),
 * that every path was opened, and that a graceful close ends both connections,
 * all within a bound of simulated time. Then per case:
 *
 *   seed_NN            links drawn from the seed: 2-4 paths, 5-100 ms one way,
 *                      5-50 Mbit/s, 0-5 % loss; minrtt and rr by turns; one
 *                      run in five kills a path a third of the way, which
 *                      both ends must then give up
 *   rr_every_path      rr puts at least 10 % of the bytes on each of 3 paths
 *   windows_cover_two_paths
 *                      the aggregation testbed's links with 1 MiB initial
 *                      windows: the server never waits for flow control
 *   minrtt_fast_path   minrtt, 10 ms against 80 ms RTT at 50 Mbit/s each:
 *                      more than 60 % on the fast path (at 5-10 Mbit/s both
 *                      paths stay full and the split nears even, as it should)
 *   backup_until_kill  path 1 marked backup by the client, "backup" on the
 *                      server: under 2 % of the bytes on it until path 0 dies,
 *                      then the rest of the transfer on it
 *   rr_path1_killed, rr_path0_killed
 *                      rr on 3 paths, one killed a third of the way: the
 *                      transfer completes on the others, the killed path ends
 *                      failed or abandoned at both ends
 *   path1_dead_server_to_client, path1_dead_client_to_server
 *                      two 10 Mbit/s paths (minrtt, then rr), path 1
 *                      black-holed one way only, for good, early in a 3 MiB
 *                      download: the rest arrives (on path 0) no later than
 *                      path 0 alone takes for it, plus half
 *   path0_cut_path1_dead
 *                      path 1 dead for good with nothing in flight on it, path 0
 *                      cut client to server for 1 s (minrtt, then rr): the
 *                      download completes on path 0, which the server keeps
 *   redundant_two      redundant scheduler: byte-exact although most bytes
 *                      come twice
 *   path0_killed_client_validation_lost, redundant_loss_on_fast_path,
 *   late_request_windows_grow, redundant_split_copy_fin, path0_failed_cids_lost
 *                      bugs the sweeps found (all fixed since), on the links
 *                      that showed them
 *   repeatable_by_seed the same seed writes the same datagrams on every path
 *
 * Each case prints the bytes every path carried (client bytes received, from
 * mpq_conn_get_path_stats). Rerun one with
 *   build/tests/sim/test_sim_multipath 'seed_07'
 * SIMNET_VERBOSE=1 prints the state of every run, SIMNET_TRACE=1 a line per
 * datagram, SIMNET_SEEDS=41-400 runs other seeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quic/conn.h"
#include "simnet.h"

#define SIZE (2 * 1024 * 1024) /* the download */
#define NSEEDS 40
#define TRANSFER_LIMIT (120 * MPQ_SEC)
#define CLOSE_LIMIT (120 * MPQ_SEC)
#define GIVE_UP_LIMIT (60 * MPQ_SEC) /* for both ends to give a killed path up */

static struct simnet_tls tls;
static struct {
	unsigned runs;
	double real_s, sim_s;
} totals;

/* What one run is given: every path's link, the same both ways. */
struct mp_params {
	uint64_t seed;
	unsigned npaths;
	const char *sched;
	struct simnet_link link[SIMNET_MAX_PATHS];
	int backup_path;     /* the client marks this path backup once open; -1: none */
	int kill_path;	     /* mp_download kills it a third of the way; -1: none */
	uint64_t kill_after; /* ... or once this many bytes arrived, when not 0 */
	bool late_request;   /* asked once every path is active, not at the handshake */
	const char *cc;	     /* NULL: the library's default */
	bool no_hystart;
	uint64_t size;	 /* the download; 0: SIZE */
	uint64_t window; /* the client's initial receive windows; 0: 16 and 8 MiB */
};

/* The download, as both ends see it. */
struct app {
	uint64_t size; /* the download */
	uint8_t salt;
	int64_t id[2];	   /* the stream as each side knows it */
	bool request_seen; /* the server had the request's FIN */
	uint64_t written;  /* by the server */
	bool fin_written;
	uint64_t received; /* by the client, in order */
	bool fin;
	int backup_path;
	unsigned victim;     /* the path killed, if any */
	bool late_request;   /* the test sends the request, not on_handshake */
	uint64_t kill_after; /* mp_download kills the victim once this much arrived */
	char bad[256];	     /* the first thing that went wrong, in the callbacks */
};

/* The first thing that went wrong, kept in ->bad. */
#define set_bad(p, ...) simnet_note_first((p)->bad, sizeof((p)->bad), __VA_ARGS__)

static void pump(struct app *a, mpq_conn *c)
{
	if (!a->request_seen)
		return;
	int rv = simnet_write_pattern(c, a->id[SIMNET_SERVER], a->salt, a->size, &a->written,
				      &a->fin_written);
	if (rv != 0)
		set_bad(a, "server: stream_write: %s", mpq_strerror(rv));
}

static void request(struct app *a, mpq_conn *c)
{
	static const uint8_t req[] = "GET /2MiB\r\n";
	int rv = mpq_conn_open_stream(c, true, &a->id[SIMNET_CLIENT]);
	if (rv != 0) {
		set_bad(a, "client: open_stream: %s", mpq_strerror(rv));
		return;
	}
	int64_t took = mpq_conn_stream_write(c, a->id[SIMNET_CLIENT], req, sizeof(req) - 1, true);
	if (took != (int64_t)sizeof(req) - 1)
		set_bad(a, "client: request: %lld", (long long)took);
}

static int on_handshake(mpq_conn *c, void *ud)
{
	struct simnet_end *e = ud;
	struct app *a = e->app;
	if (e->side == SIMNET_CLIENT && !a->late_request)
		request(a, c);
	return 0;
}

static int on_open(mpq_conn *c, int64_t id, void *ud)
{
	struct simnet_end *e = ud;
	struct app *a = e->app;
	if (e->side != SIMNET_SERVER || a->id[SIMNET_SERVER] >= 0)
		set_bad(a, "side %d: unexpected stream %lld opened", e->side, (long long)id);
	else
		a->id[SIMNET_SERVER] = id;
	return 0;
}

static int on_data(mpq_conn *c, int64_t id, uint64_t off, const uint8_t *d, size_t len, bool fin,
		   void *ud)
{
	struct simnet_end *e = ud;
	struct app *a = e->app;
	if (e->side == SIMNET_SERVER) {
		if (id != a->id[SIMNET_SERVER])
			set_bad(a, "server: data on stream %lld", (long long)id);
		if (fin && !a->request_seen) {
			a->request_seen = true;
			pump(a, c);
		}
		return 0;
	}
	if (id != a->id[SIMNET_CLIENT])
		set_bad(a, "client: data on stream %lld, not %lld", (long long)id,
			(long long)a->id[SIMNET_CLIENT]);
	else if (a->fin)
		set_bad(a, "client: %zu bytes at %llu after FIN", len, (unsigned long long)off);
	else if (off != a->received)
		set_bad(a, "client: data at offset %llu, expected %llu (len %zu)",
			(unsigned long long)off, (unsigned long long)a->received, len);
	else if (off + len > a->size)
		set_bad(a, "client: data up to %llu, beyond the size",
			(unsigned long long)(off + len));
	else if (fin && off + len != a->size)
		set_bad(a, "client: FIN at %llu", (unsigned long long)(off + len));
	if (a->bad[0])
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (d[i] != simnet_pattern(a->salt, off + i)) {
			uint8_t want = simnet_pattern(a->salt, off + i);
			set_bad(a, "client: byte at %llu is 0x%02x, expected 0x%02x",
				(unsigned long long)(off + i), d[i], want);
			return 0;
		}
	}
	a->received = off + len;
	a->fin |= fin;
	return 0;
}

static int on_writable(mpq_conn *c, int64_t id, void *ud)
{
	struct simnet_end *e = ud;
	if (e->side == SIMNET_SERVER && id == ((struct app *)e->app)->id[SIMNET_SERVER])
		pump(e->app, c);
	return 0;
}

static int on_reset(mpq_conn *c, int64_t id, uint64_t code, void *ud)
{
	struct simnet_end *e = ud;
	set_bad((struct app *)e->app, "side %d: stream %lld reset (0x%llx)", e->side,
		(long long)id, (unsigned long long)code);
	return 0;
}

static const mpq_callbacks app_cb = {
	.struct_version = MPQ_CALLBACKS_VERSION,
	.handshake_completed = on_handshake,
	.stream_open = on_open,
	.stream_data = on_data,
	.stream_writable = on_writable,
	.stream_reset = on_reset,
};

static void on_path_opened(struct simnet *n, unsigned path, uint32_t id)
{
	struct app *a = n->end[SIMNET_CLIENT].app;
	if ((int)path != a->backup_path)
		return;
	int rv = mpq_conn_set_path_status(n->end[SIMNET_CLIENT].conn, id, true);
	if (rv != 0)
		set_bad(a, "client: set_path_status(%u, backup): %s", id, mpq_strerror(rv));
}

/* One run and what its checks report. */
struct mp_run {
	const struct mp_params *p;
	const char *name;
	struct simnet n;
	struct app a;
	double t0;
};

/* Side |side|'s counters of path k (all zero before it was opened). */
static mpq_path_stats path_stats(const struct simnet *n, int side, unsigned k)
{
	const mpq_conn *c = n->end[side].conn;
	mpq_path_stats st;
	uint32_t id = k ? n->path_id[k] : 0;
	if (!c || k >= simnet_paths_opened(n) || mpq_conn_get_path_stats(c, id, &st) != 0)
		memset(&st, 0, sizeof(st));
	return st;
}

/* Bytes path k carried: the client's bytes received on it. */
static uint64_t path_rcvd(const struct mp_run *r, unsigned k)
{
	return path_stats(&r->n, SIMNET_CLIENT, k).bytes_received;
}

static int path_state(const struct simnet *n, int side, unsigned k)
{
	return path_stats(n, side, k).state;
}

static bool given_up(int state)
{
	return state == MPQ_PATH_STATE_FAILED || state == MPQ_PATH_STATE_ABANDONED;
}

static void describe_params(const struct mp_params *p, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "seed %llu, %u paths, %s",
				      (unsigned long long)p->seed, p->npaths, p->sched);
	for (unsigned k = 0; k < p->npaths && off < len; k++) {
		char l[200];
		simnet_link_format(&p->link[k], l, sizeof(l));
		off += (size_t)snprintf(buf + off, len - off, "\n  path %u%s: %s", k,
					(int)k == p->backup_path ? " (backup)" : "", l);
	}
}

#define mp_check(cond, r, what) \
	do { \
		if (!(cond)) \
			mp_fail(r, what, #cond); \
	} while (0)

static void mp_fail(struct mp_run *r, const char *what, const char *cond)
{
	char params[1024], state[8192];
	describe_params(r->p, params, sizeof(params));
	simnet_describe(&r->n, state, sizeof(state));
	/* Straight to stderr: cmocka's print_error cuts messages at 1 KiB. */
	fprintf(stderr, "FAILED %s: %s (%s)\n  %s\n  app: %s; received %llu/%llu fin %d\n%s",
		r->name, what, cond, params, r->a.bad[0] ? r->a.bad : "ok",
		(unsigned long long)r->a.received, (unsigned long long)r->a.size, r->a.fin, state);
	fflush(stderr);
	simnet_free(&r->n); /* fail_msg does not return */
	fail_msg("%s, seed %llu: %s", r->name, (unsigned long long)r->p->seed, what);
}

static void mp_begin(struct mp_run *r, const struct mp_params *p, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->name = name;
	r->a.id[0] = r->a.id[1] = -1;
	r->a.size = p->size ? p->size : SIZE;
	r->a.salt = (uint8_t)(p->seed * 3 + 1);
	r->a.backup_path = p->backup_path;
	r->a.victim = p->kill_path >= 0 ? (unsigned)p->kill_path : 0;
	r->a.late_request = p->late_request;
	r->a.kill_after = p->kill_after ? p->kill_after : r->a.size / 3;
	struct simnet_config cfg = {
		.seed = p->seed,
		.app = {&app_cb, &app_cb},
		.app_state = {&r->a, &r->a},
		.npaths = p->npaths,
		.cc = p->cc,
		.path_sched = p->sched,
		.path_opened = on_path_opened,
		.time_limit = TRANSFER_LIMIT,
		.trace = getenv("SIMNET_TRACE") ? stdout : NULL,
	};
	for (unsigned k = 0; k < p->npaths; k++)
		for (int i = 0; i < 2; i++)
			*simnet_config_link(&cfg, k, i) = p->link[k];
	r->t0 = simnet_wall_seconds();
	assert_int_equal(simnet_init(&r->n, &cfg, &tls), 0);
	/* Windows that let every path fill its pipe: the schedulers, not flow
	 * control, decide where the bytes go. */
	r->n.end[SIMNET_CLIENT].tparams.initial_max_data = p->window ? p->window : 16 << 20;
	r->n.end[SIMNET_CLIENT].tparams.initial_max_stream_data_bidi_local = p->window ? p->window
										       : 8 << 20;
	for (int i = 0; i < 2; i++)
		r->n.end[i].settings.no_hystart = p->no_hystart;
	assert_int_equal(simnet_start(&r->n), 0);
}

static bool downloaded(struct simnet *n)
{
	struct app *a = n->end[SIMNET_CLIENT].app;
	return a->bad[0] || a->fin;
}

/* Until FIN arrived (or |until| said stop earlier, when given): every byte
 * once, equal, in order; every path opened. */
static void mp_transfer(struct mp_run *r, bool (*until)(struct simnet *n))
{
	enum simnet_result res = simnet_run(&r->n, until ? until : downloaded);
	mp_check(res == SIMNET_DONE, r, simnet_result_str(res));
	mp_check(!r->a.bad[0], r, "stream data");
	if (until)
		return;
	mp_check(r->a.received == r->a.size && r->a.fin, r, "all bytes and FIN");
	mp_check(simnet_paths_opened(&r->n) == r->p->npaths, r, "every path opened");
	for (int s = 0; s < 2; s++)
		mp_check(!mpq_conn_get_error(r->n.end[s].conn)->set, r,
			 "connection error during transfer");
}

static bool kill_time(struct simnet *n)
{
	struct app *a = n->end[SIMNET_CLIENT].app;
	return a->bad[0] || a->fin || a->received >= a->kill_after;
}

static bool victim_given_up(struct simnet *n)
{
	struct app *a = n->end[SIMNET_CLIENT].app;
	return given_up(path_state(n, SIMNET_CLIENT, a->victim)) &&
	       given_up(path_state(n, SIMNET_SERVER, a->victim));
}

/* Kills path |victim| now. Returns whether the server was sending on it:
 * then both ends must find out. */
static bool mp_kill(struct mp_run *r, unsigned victim)
{
	r->a.victim = victim;
	simnet_kill_path(&r->n, victim, r->n.now);
	return path_state(&r->n, SIMNET_SERVER, victim) == MPQ_PATH_STATE_ACTIVE;
}

/* After the download: a killed path the server had been sending on ends
 * failed or abandoned at both ends (the server finds out by its PTOs, the
 * client from the server's PATH_ABANDON, if not by itself). Sending on it
 * means ack-eliciting datagrams, which only come full-size (data, probes,
 * padded challenges): a path that carried nothing but ACKs since (an idle
 * backup path, say) has nothing to time out, and may well stay active. */
static void mp_check_given_up(struct mp_run *r, bool in_use)
{
	if (!in_use || simnet_link_of(&r->n, r->a.victim, SIMNET_SERVER)->st.killed_max_len < 1200)
		return;
	r->n.cfg.time_limit = GIVE_UP_LIMIT;
	enum simnet_result res = simnet_run(&r->n, victim_given_up);
	mp_check(res == SIMNET_DONE, r, "the killed path failed or abandoned at both ends");
}

/* The whole download; with p->kill_path set, that path dies once a third of
 * the bytes (or p->kill_after) arrived. */
static void mp_download(struct mp_run *r)
{
	if (r->p->kill_path < 0) {
		mp_transfer(r, NULL);
		return;
	}
	mp_transfer(r, kill_time);
	bool in_use = !r->a.fin && mp_kill(r, (unsigned)r->p->kill_path);
	mp_transfer(r, NULL);
	mp_check_given_up(r, in_use);
}

/* A graceful close ends both connections (the server by the close, or by
 * idle timeout if every copy of it was lost). */
static void mp_close(struct mp_run *r)
{
	mpq_conn_close(r->n.end[SIMNET_CLIENT].conn, 0, "done", r->n.now);
	r->n.cfg.time_limit = CLOSE_LIMIT;
	enum simnet_result res = simnet_run(&r->n, simnet_conns_closed);
	mp_check(res == SIMNET_DONE || res == SIMNET_QUIET, r, simnet_result_str(res));
	mp_check(simnet_conns_closed(&r->n), r, "both closed");
}

/* One line per path: bytes the client received on it and their share. */
static void print_paths(const struct mp_run *r, const char *what)
{
	char line[512];
	uint64_t total = 0;
	for (unsigned k = 0; k < r->p->npaths; k++)
		total += path_rcvd(r, k);
	size_t off = (size_t)snprintf(line, sizeof(line), "%s (%s, %u paths):", what, r->p->sched,
				      r->p->npaths);
	for (unsigned k = 0; k < r->p->npaths && off < sizeof(line); k++) {
		uint64_t b = path_rcvd(r, k);
		off += (size_t)snprintf(line + off, sizeof(line) - off, " path %u %llu B (%.1f%%)",
					k, (unsigned long long)b,
					total ? 100.0 * (double)b / (double)total : 0.0);
	}
	print_message("%s\n", line);
}

static void mp_end(struct mp_run *r)
{
	totals.runs++;
	totals.real_s += simnet_wall_seconds() - r->t0;
	totals.sim_s += (double)r->n.now / 1e9;
	if (getenv("SIMNET_VERBOSE")) {
		char params[1024], state[8192];
		describe_params(r->p, params, sizeof(params));
		/* stdout itself: cmocka's print_message cuts messages at 1 KiB. */
		printf("%s\n%s", params, simnet_describe(&r->n, state, sizeof(state)));
		fflush(stdout);
	}
	simnet_free(&r->n);
}

/* A whole run: the download (and the kill p asks for), per-path bytes, close. */
static void mp_case(const struct mp_params *p, const char *name)
{
	struct mp_run r;
	mp_begin(&r, p, name);
	mp_download(&r);
	print_paths(&r, name);
	mp_close(&r);
	mp_end(&r);
}

/* A link the same both ways: |delay_ms| one way, |mbit| Mbit/s behind a
 * queue of one BDP plus 32 datagrams, |loss|. */
static struct simnet_link link_of(double delay_ms, double mbit, double loss)
{
	uint64_t rate = (uint64_t)(mbit * 1e6 / 8);
	uint64_t delay = (uint64_t)(delay_ms * (double)MPQ_MS);
	return (struct simnet_link){
		.delay = delay,
		.rate = rate,
		.queue_bytes = rate * 2 * delay / MPQ_SEC + 32 * 1500,
		.loss = loss,
	};
}

/* Two paths, no backup, no kill. */
static struct mp_params two_paths(uint64_t seed, const char *sched, struct simnet_link l0,
				  struct simnet_link l1)
{
	return (struct mp_params){
		.seed = seed,
		.npaths = 2,
		.sched = sched,
		.link = {l0, l1},
		.backup_path = -1,
		.kill_path = -1,
	};
}

static void params_from_seed(uint64_t seed, struct mp_params *p)
{
	uint64_t s = seed * 0x2545f4914f6cdd1dULL + 11;
	memset(p, 0, sizeof(*p));
	p->seed = seed;
	p->npaths = 2 + (unsigned)(seed % 3);
	p->sched = seed % 2 ? "minrtt" : "rr";
	p->backup_path = -1;
	/* One run in five loses a path a third of the way. */
	p->kill_path = seed % 5 ? -1 : (int)((seed / 5) % p->npaths);
	for (unsigned k = 0; k < p->npaths; k++)
		p->link[k] = link_of(simnet_draw(&s, 5, 100), simnet_draw(&s, 5, 50),
				     simnet_draw(&s, 0, 0.05));
}

static void seeded_download(void **state)
{
	struct mp_params p;
	char name[32];
	params_from_seed((uint64_t)(uintptr_t)*state, &p);
	snprintf(name, sizeof(name), "seed %llu", (unsigned long long)p.seed);
	if (p.kill_path >= 0)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), ", path %d killed",
			 p.kill_path);
	mp_case(&p, name);
}

static void rr_every_path(void **state)
{
	(void)state;
	struct mp_params p = {
		.seed = 100,
		.npaths = 3,
		.sched = "rr",
		.link = {link_of(10, 20, 0), link_of(25, 10, 0.01), link_of(40, 30, 0)},
		.backup_path = -1,
		.kill_path = -1,
	};
	struct mp_run r;
	mp_begin(&r, &p, "rr_every_path");
	mp_transfer(&r, NULL);
	print_paths(&r, "rr_every_path");
	uint64_t total = 0;
	for (unsigned k = 0; k < p.npaths; k++)
		total += path_rcvd(&r, k);
	for (unsigned k = 0; k < p.npaths; k++)
		mp_check(path_rcvd(&r, k) * 10 >= total, &r, "at least 10 % on every path");
	mp_close(&r);
	mp_end(&r);
}

static void minrtt_fast_path(void **state)
{
	(void)state;
	struct mp_params p = two_paths(200, "minrtt", link_of(5, 50, 0), link_of(40, 50, 0));
	struct mp_run r;
	mp_begin(&r, &p, "minrtt_fast_path");
	mp_transfer(&r, NULL);
	print_paths(&r, "minrtt_fast_path");
	uint64_t fast = path_rcvd(&r, 0), slow = path_rcvd(&r, 1);
	mp_check(fast * 10 > (fast + slow) * 6, &r, "more than 60 % on the 10 ms path");
	mp_close(&r);
	mp_end(&r);
}

/* The server's packets declared lost and the drops at the paths' queues in a
 * download over two paths, as in testbed/experiments/aggregation. */
static void hystart_run(bool off, const char *cc, uint64_t *lost, uint64_t *drops)
{
	struct mp_params p = two_paths(250, "minrtt", link_of(10, 50, 0), link_of(20, 50, 0));
	p.cc = cc;
	p.no_hystart = off;
	struct mp_run r;
	mp_begin(&r, &p, off ? "hystart off" : "hystart on");
	mp_transfer(&r, NULL);
	print_paths(&r, off ? "hystart off" : "hystart on");
	mpq_conn_stats st;
	mpq_conn_get_stats(r.n.end[SIMNET_SERVER].conn, &st);
	*lost = st.packets_lost;
	*drops = 0;
	for (unsigned k = 0; k < p.npaths; k++)
		*drops += simnet_link_of(&r.n, k, SIMNET_SERVER)->st.queue_drops;
	mp_close(&r);
	mp_end(&r);
}

/* HyStart++ per path (RFC 9406): two 50 Mbit/s paths of 20 and 40 ms RTT
 * behind drop-tail queues of a BDP plus 32 datagrams, each path with its own
 * rounds and RTT samples, end their first slow starts with fewer packets lost
 * than with HyStart++ off, under OLIA and uncoupled CUBIC. */
static void hystart_two_paths_lose_less(void **state)
{
	(void)state;
	static const char *const ccs[] = {"olia", "cubic"};
	for (size_t i = 0; i < sizeof(ccs) / sizeof(ccs[0]); i++) {
		uint64_t lost, drops, lost_off, drops_off;
		hystart_run(false, ccs[i], &lost, &drops);
		hystart_run(true, ccs[i], &lost_off, &drops_off);
		print_message("%s: %llu lost (%llu queue drops) with HyStart++, %llu (%llu) "
			      "without\n",
			      ccs[i], (unsigned long long)lost, (unsigned long long)drops,
			      (unsigned long long)lost_off, (unsigned long long)drops_off);
		assert_true(drops_off > 0);
		assert_true(lost < lost_off);
		assert_true(drops < drops_off);
	}
}

/* The server's stream of the download, while it exists. */
static mpq_stream *server_stream(struct simnet *n)
{
	struct app *a = n->end[SIMNET_CLIENT].app;
	mpq_conn *c = n->end[SIMNET_SERVER].conn;
	return c && a->id[SIMNET_SERVER] >= 0 ? mpq_streams_find(&c->streams, a->id[SIMNET_SERVER])
					      : NULL;
}

/* Until the download ended or flow control held the server back. */
static bool fc_blocked(struct simnet *n)
{
	mpq_stream *s = server_stream(n);
	mpq_conn *c = n->end[SIMNET_SERVER].conn;
	return downloaded(n) || (s && s->blocked_at) || (c && c->data_blocked_at);
}

/* Receive windows over two paths, as testbed/experiments/aggregation (50
 * Mbit/s each, 20 and 40 ms RTT, 40 ms queues) with mpq-client's initial 1
 * MiB windows: they grow before the server runs out of credit, although the
 * 40 ms path's losses in slow start hold data back at the client. They were
 * measured against path 0's smoothed RTT and stayed at 2 MiB through the
 * losses: the server blocked on the stream's limit twice within 8 MB. */
static void windows_cover_two_paths(void **state)
{
	(void)state;
	uint64_t rate = 50000000 / 8;
	struct simnet_link l0 = {.delay = 10 * MPQ_MS, .rate = rate, .queue_bytes = rate / 25};
	struct simnet_link l1 = l0;
	l1.delay = 20 * MPQ_MS;
	struct mp_params p = two_paths(260, "minrtt", l0, l1);
	p.cc = "cubic";
	p.size = 8000000;
	p.window = 1 << 20;
	struct mp_run r;
	mp_begin(&r, &p, "windows_cover_two_paths");
	enum simnet_result res = simnet_run(&r.n, fc_blocked);
	mp_check(res == SIMNET_DONE, &r, simnet_result_str(res));
	mp_check(r.a.fin, &r, "the download ended without the server blocked by flow control");
	mp_transfer(&r, NULL);
	print_paths(&r, "windows_cover_two_paths");
	mp_check(path_rcvd(&r, 1) * 4 > path_rcvd(&r, 0), &r, "the 40 ms path carried its part");
	mp_close(&r);
	mp_end(&r);
}

/* ECN per path (draft-21 §7.1, RFC 9000 §13.4): CE marks on every 10th
 * ECN-capable packet of path 1 reach the server in PATH_ACK_ECN frames with
 * path 1's counts, and only path 1's congestion controller hears of them:
 * path 0, unmarked, reports none. Both paths pass ECN validation. */
static void ecn_counts_per_path(void **state)
{
	(void)state;
	struct mp_params p = two_paths(300, "rr", link_of(10, 20, 0), link_of(10, 20, 0));
	p.link[1].ce_every = 10;
	struct mp_run r;
	mp_begin(&r, &p, "ecn_counts_per_path");
	mp_transfer(&r, NULL);
	const struct simnet_link_stats *down1 = &simnet_link_of(&r.n, 1, SIMNET_SERVER)->st;
	mpq_path_stats c0 = path_stats(&r.n, SIMNET_CLIENT, 0),
		       c1 = path_stats(&r.n, SIMNET_CLIENT, 1);
	mpq_path_stats s0 = path_stats(&r.n, SIMNET_SERVER, 0),
		       s1 = path_stats(&r.n, SIMNET_SERVER, 1);
	print_message("path 1: %llu CE marked s->c, client counted %llu, server heard %llu\n",
		      (unsigned long long)down1->ce_marked, (unsigned long long)c1.ecn_rx_ce,
		      (unsigned long long)s1.ecn_peer_ce);
	mp_check(down1->ce_marked > 10, &r, "path 1 marked");
	mp_check(c1.ecn_rx_ce > 0 && c1.ecn_rx_ce <= down1->ce_marked, &r, "client counts path 1");
	mp_check(s1.ecn_peer_ce > 0 && s1.ecn_peer_ce <= c1.ecn_rx_ce, &r,
		 "server hears path 1's counts");
	mp_check(s1.ecn_ce_events > 0, &r, "path 1's congestion controller responds");
	mp_check(c0.ecn_rx_ce == 0 && s0.ecn_peer_ce == 0 && s0.ecn_ce_events == 0, &r,
		 "nothing on path 0");
	mp_check(s0.ecn_peer_ect0 > 0 && s1.ecn_peer_ect0 > 0, &r, "ECT(0) counts on both");
	for (int side = 0; side < 2; side++)
		for (unsigned k = 0; k < 2; k++)
			mp_check(path_stats(&r.n, side, k).ecn_state == MPQ_ECN_STATE_CAPABLE, &r,
				 "validated");
	mp_close(&r);
	mp_end(&r);
}

static bool half_downloaded(struct simnet *n)
{
	struct app *a = n->end[SIMNET_CLIENT].app;
	return a->bad[0] || a->fin || a->received >= SIZE / 2;
}

static void backup_until_kill(void **state)
{
	(void)state;
	struct mp_params p = two_paths(300, "backup", link_of(10, 20, 0), link_of(30, 10, 0));
	p.backup_path = 1;
	struct mp_run r;
	mp_begin(&r, &p, "backup_until_kill");
	mp_transfer(&r, half_downloaded);
	mp_check(simnet_paths_opened(&r.n) == 2, &r, "backup path opened");
	mp_check(!r.a.fin, &r, "not done at half");
	mpq_path_stats st;
	mp_check(mpq_conn_get_path_stats(r.n.end[SIMNET_SERVER].conn, r.n.path_id[1], &st) == 0,
		 &r, "server has the backup path");
	mp_check(st.backup, &r, "the server knows path 1 is backup");
	uint64_t before = path_rcvd(&r, 1), received = r.a.received;
	print_message("backup_until_kill: %llu of %u B received, path 0 %llu B, backup path %llu "
		      "B "
		      "when path 0 dies\n",
		      (unsigned long long)received, SIZE, (unsigned long long)path_rcvd(&r, 0),
		      (unsigned long long)before);
	mp_check(before * 50 < SIZE, &r, "under 2 % on the backup path while path 0 works");
	simnet_kill_path(&r.n, 0, r.n.now);
	mp_transfer(&r, NULL);
	print_paths(&r, "backup_until_kill");
	uint64_t after = path_rcvd(&r, 1) - before;
	mp_check(after >= SIZE - received, &r, "the rest on the backup path");
	for (int s = 0; s < 2; s++)
		mp_check(given_up(path_state(&r.n, s, 0)), &r, "path 0 failed or abandoned");
	mp_close(&r);
	mp_end(&r);
}

/* rr on 3 paths; path |victim| dies once a third of the bytes arrived. */
static void path_killed(unsigned victim, uint64_t seed, const char *name)
{
	struct mp_params p = {
		.seed = seed,
		.npaths = 3,
		.sched = "rr",
		.link = {link_of(15, 20, 0), link_of(30, 20, 0.01), link_of(20, 10, 0)},
		.backup_path = -1,
		.kill_path = -1,
	};
	struct mp_run r;
	mp_begin(&r, &p, name);
	mp_transfer(&r, kill_time);
	mp_check(!r.a.fin && simnet_paths_opened(&r.n) == 3, &r, "three paths before the kill");
	mp_check(path_rcvd(&r, victim) > 0, &r, "the victim carried data");
	bool in_use = mp_kill(&r, victim);
	mp_check(in_use, &r, "the server was using the victim");
	mp_transfer(&r, NULL);
	print_paths(&r, name);
	mp_check_given_up(&r, in_use);
	mp_close(&r);
	mp_end(&r);
}

static void rr_path1_killed(void **state)
{
	(void)state;
	path_killed(1, 400, "rr_path1_killed");
}

static void rr_path0_killed(void **state)
{
	(void)state;
	path_killed(0, 401, "rr_path0_killed");
}

/*
 * The testbed's failure (test-testbed-hosts.sh): two 10 Mbit/s paths, path 1
 * black-holed in one direction only, for good, while a 3 MiB download is under
 * way (what side |from| writes on it is dropped; the other way still
 * delivers). The rest must arrive within ONE_WAY_LIMIT of simulated time after
 * the kill, well inside the client's 30 s idle timeout (mpq-client stopped
 * there with 2.2 of 3 MB), and no later than path 0 alone takes for it at its
 * rate, plus half. Server to client dead, the old code took 4.7 s where path 0
 * alone needs 2.3: the server's PTO probes on path 1 carried the lowest unacked
 * range (the hole the client waits at) into the black hole each time, and the
 * rest of what path 1 held was not resent until path 1 was declared failed.
 */
#define ONE_WAY_LIMIT (10 * MPQ_SEC)

static void one_way_killed(int from, const char *sched, const char *name)
{
	struct mp_params p =
		two_paths(500 + (uint64_t)from, sched, link_of(10, 10, 0), link_of(10, 10, 0));
	p.size = 3 << 20;
	p.kill_after = 300 << 10;
	struct mp_run r;
	mp_begin(&r, &p, name);
	mp_transfer(&r, kill_time);
	mp_check(!r.a.fin && simnet_paths_opened(&r.n) == 2, &r, "two paths before the kill");
	mp_check(path_rcvd(&r, 1) > 0, &r, "path 1 carried data");
	simnet_link_of(&r.n, 1, from)->dead_from = r.n.now;
	r.n.cfg.time_limit = ONE_WAY_LIMIT;
	uint64_t killed_at = r.n.now;
	/* What path 0 alone needs for the rest, and half that again. */
	uint64_t alone = (r.a.size - r.a.received) * MPQ_SEC / p.link[0].rate;
	mp_transfer(&r, NULL);
	print_message("%s: done %.2f s after the kill (path 0 alone: %.2f s)\n", name,
		      (double)(r.n.now - killed_at) / 1e9, (double)alone / 1e9);
	mp_check(r.n.now - killed_at <= alone * 3 / 2, &r, "the rest on path 0 at its rate");
	print_paths(&r, name);
	mp_close(&r);
	mp_end(&r);
}

static void path1_dead_server_to_client(void **state)
{
	(void)state;
	one_way_killed(SIMNET_SERVER, "minrtt", "path1_dead_server_to_client");
	one_way_killed(SIMNET_SERVER, "rr", "path1_dead_server_to_client rr");
}

static void path1_dead_client_to_server(void **state)
{
	(void)state;
	one_way_killed(SIMNET_CLIENT, "minrtt", "path1_dead_client_to_server");
	one_way_killed(SIMNET_CLIENT, "rr", "path1_dead_client_to_server rr");
}

/*
 * Chaos seed 6437 made deterministic: path 1 (slow) dies for good with
 * nothing in flight on it, then path 0 drops everything client to server
 * for CUT (the ACKs stop; the download still reaches the client). The rest
 * must arrive over path 0, byte-exact, and the server keep path 0. It used
 * to declare path 0 failed during the cut, as path 1 had no PTO pending
 * (nothing in flight, so none could run) and that counted as delivering;
 * it then sent only on the dead path 1 until the idle timeout.
 */
#define CUT (1 * MPQ_SEC)

static bool server_uses_path1(struct simnet *n)
{
	struct app *a = n->end[SIMNET_CLIENT].app;
	return a->bad[0] || a->fin ||
	       (a->received && path_state(n, SIMNET_SERVER, 1) == MPQ_PATH_STATE_ACTIVE);
}

static void cut_with_path1_dead(const char *sched)
{
	struct mp_params p = two_paths(600, sched, link_of(4, 20, 0), link_of(150, 10, 0));
	struct mp_run r;
	mp_begin(&r, &p, "path0_cut_path1_dead");
	mp_transfer(&r, server_uses_path1);
	mp_check(!r.a.fin, &r, "not done when path 1 dies");
	simnet_kill_path(&r.n, 1, r.n.now);
	struct simnet_link *up = &simnet_link_of(&r.n, 0, SIMNET_CLIENT)->p;
	up->loss = 1.0;
	r.n.cfg.time_limit = CUT;
	simnet_run(&r.n, downloaded);
	up->loss = 0;
	r.n.cfg.time_limit = TRANSFER_LIMIT;
	mp_transfer(&r, NULL);
	mp_check(path_state(&r.n, SIMNET_SERVER, 0) == MPQ_PATH_STATE_ACTIVE, &r,
		 "the server kept path 0");
	print_paths(&r, "path0_cut_path1_dead");
	mp_close(&r);
	mp_end(&r);
}

static void path0_cut_path1_dead(void **state)
{
	(void)state;
	cut_with_path1_dead("minrtt");
	cut_with_path1_dead("rr");
}

/*
 * Regression, found by seeded kills (seed 732; only the loss draws on path
 * 1's client to server link matter). Path 0 dies a third of the way. The
 * client's three PATH_CHALLENGEs on path 1 (at 0.02, 1.05 and 2.07 s) are
 * all lost, but the server validated path 1 by its own challenge and sends
 * the download on it from 1.15 s. The client used to declare path 1 failed at
 * its validation deadline (~3 s) although data had been arriving on it for
 * two seconds; with path 0 dead it had no path left and the connection idled
 * out (fixed by 3c6e4f0: a path fails only when it is also silent).
 */
static void path0_killed_client_validation_lost(void **state)
{
	(void)state;
	struct mp_params p = two_paths(732, "rr", link_of(5, 20, 0), link_of(30, 20, 0.03));
	p.kill_path = 0;
	mp_case(&p, "path0_killed_client_validation_lost");
}

static void redundant_two(void **state)
{
	(void)state;
	struct mp_params p =
		two_paths(500, "redundant", link_of(10, 20, 0.01), link_of(30, 20, 0.01));
	struct mp_run r;
	mp_begin(&r, &p, "redundant_two");
	mp_transfer(&r, NULL);
	print_paths(&r, "redundant_two");
	/* Copies did go out: each path carried most of the download. */
	mp_check(path_rcvd(&r, 0) > SIZE / 2 && path_rcvd(&r, 1) > SIZE / 2, &r,
		 "copies on both paths");
	mp_close(&r);
	mp_end(&r);
}

/*
 * Regression, found by sweeping redundant over the seeded links (a third of
 * the seeds failed): loss on the fast path only, seed 1 (99 seeds in 100 did
 * the same). Path 1 is owed copies and has window room, so the server picks it
 * for a copy; each packet on it starts with a PATH_ACK of some 30 ranges, the
 * copy was "sent whole or waits for the next packet" and did not fit after
 * it, so the packet went out with the PATH_ACK alone: not ack-eliciting,
 * nothing in flight, and the same choice came again at once, 20000 times at
 * one instant (fixed by ce1d7bf: copies split, no packet of optional ACKs).
 */
static void redundant_loss_on_fast_path(void **state)
{
	(void)state;
	struct mp_params p = two_paths(1, "redundant", link_of(10, 20, 0.02), link_of(30, 20, 0));
	mp_case(&p, "redundant_loss_on_fast_path");
}

/*
 * Regression: path 0 dies right after the first bytes of the download (seed
 * 281). Failed with the library at 2526311: the client never opened its
 * fourth path, although three paths worked. The server's CIDs for path ID 3 went in one
 * packet on path 0 (pn 1, at 31 ms), which was lost at random; path 0 died
 * before the loss could be detected, and when the server declared path 0
 * failed, move_in_flight (conn_mpath.c) put back only the stream frames of
 * its packets in flight: the PATH_NEW_CONNECTION_IDs were dropped for good
 * (so would be NEW_TOKEN, HANDSHAKE_DONE, CRYPTO, PATH_STATUS, PATH_ABANDON,
 * ADD_ADDRESS), unlike loss detection's requeue (recovery.c), which puts
 * every kind back (fixed by 18add5e).
 */
static void path0_failed_cids_lost(void **state)
{
	(void)state;
	struct mp_params p = {
		.seed = 281,
		.npaths = 4,
		.sched = "minrtt",
		.link = {link_of(10, 40, 0.04), link_of(20, 20, 0), link_of(20, 20, 0),
			 link_of(20, 20, 0)},
		.backup_path = -1,
		.kill_path = 0,
		.kill_after = 2000,
	};
	mp_case(&p, "path0_failed_cids_lost");
}

/*
 * redundant_two's links with seed 56. Failed with the library at ec6698b:
 * the client was handed FIN at 2096995, short of the 2 MiB, and the download
 * ended there, truncated. A copy of the last STREAM frame (the one with FIN)
 * did not fit in its packet and was split (mpq_conn_write_dups, since
 * ce1d7bf); the first piece went with FIN, because the FIN test
 * (off + len == end) ran after end was moved to the split point. The
 * receiver rightly takes the first final size it sees; the rest of the copy
 * and the original then lay beyond it. Fixed by 18add5e.
 */
static void redundant_split_copy_fin(void **state)
{
	(void)state;
	struct mp_params p =
		two_paths(56, "redundant", link_of(10, 20, 0.01), link_of(30, 20, 0.01));
	mp_case(&p, "redundant_split_copy_fin");
}

static bool all_paths_active(struct simnet *n)
{
	struct app *a = n->end[SIMNET_CLIENT].app;
	if (a->bad[0])
		return true;
	if (simnet_paths_opened(n) < n->npaths)
		return false;
	for (unsigned k = 0; k < n->npaths; k++)
		for (int s = 0; s < 2; s++)
			if (path_state(n, s, k) != MPQ_PATH_STATE_ACTIVE)
				return false;
	return true;
}

/*
 * Windows grow in slow start (RFC 9002 §7.3.1) however the application
 * started: here the client asks for the download only once both paths are
 * active, so every datagram the server wrote on them so far went out with no
 * stream data waiting and marked the path application-limited. With no loss,
 * each path's window must end above where it was when the request was sent.
 * Failed with the library at 2a16f26: in a multipath connection only
 * mpq_conn_path_may_send_data cleared the mark, in the branch where the
 * scheduled path has no window room, and the schedulers only ever pick paths
 * with room; so the mark stayed and the windows stayed at their initial 10
 * packets (with loss, they only shrank, to the minimum: seed 40's links,
 * where the request was late by a loss, ran 2 MiB over ~49 Mbit/s at two
 * packets per RTT per path). Fixed by 18add5e.
 */
static void late_request_windows_grow(void **state)
{
	(void)state;
	struct mp_params p = two_paths(600, "minrtt", link_of(10, 20, 0), link_of(20, 20, 0));
	p.late_request = true;
	struct mp_run r;
	uint64_t before[2];
	mp_begin(&r, &p, "late_request_windows_grow");
	mp_transfer(&r, all_paths_active);
	for (unsigned k = 0; k < 2; k++)
		before[k] = path_stats(&r.n, SIMNET_SERVER, k).cwnd;
	request(&r.a, r.n.end[SIMNET_CLIENT].conn);
	mp_download(&r);
	print_paths(&r, "late_request_windows_grow");
	for (unsigned k = 0; k < 2; k++) {
		uint64_t after = path_stats(&r.n, SIMNET_SERVER, k).cwnd;
		print_message("late_request_windows_grow: path %u cwnd %llu B at the request, "
			      "%llu B after 2 MiB\n",
			      k, (unsigned long long)before[k], (unsigned long long)after);
		mp_check(after > before[k], &r, "the window grew on every path");
	}
	mp_close(&r);
	mp_end(&r);
}

/* Runs |p| to the end of the download and keeps the per-path link counters. */
static void digests(const struct mp_params *p, struct simnet_link_stats st[][2])
{
	struct mp_run r;
	mp_begin(&r, p, "repeatable_by_seed");
	mp_transfer(&r, NULL);
	for (unsigned k = 0; k < p->npaths; k++)
		for (int s = 0; s < 2; s++)
			st[k][s] = simnet_link_of(&r.n, k, s)->st;
	mp_end(&r);
}

/* The same seed, before and after another run, writes the same datagrams on
 * every path: byte for byte client to server; server to client, where the
 * NewSessionTicket follows the wall clock (see simnet.h), the same counts. */
static void repeatable_by_seed(void **state)
{
	(void)state;
	struct mp_params a, b;
	struct simnet_link_stats first[SIMNET_MAX_PATHS][2], other[SIMNET_MAX_PATHS][2],
		again[SIMNET_MAX_PATHS][2];
	params_from_seed(4, &a); /* 3 paths, rr */
	params_from_seed(5, &b);
	digests(&a, first);
	digests(&b, other);
	digests(&a, again);
	for (unsigned k = 0; k < a.npaths; k++) {
		assert_int_equal(first[k][SIMNET_CLIENT].digest, again[k][SIMNET_CLIENT].digest);
		for (int s = 0; s < 2; s++) {
			assert_int_equal(first[k][s].sent, again[k][s].sent);
			assert_int_equal(first[k][s].bytes_sent, again[k][s].bytes_sent);
			assert_int_equal(first[k][s].lost, again[k][s].lost);
		}
	}
	assert_int_not_equal(first[0][SIMNET_CLIENT].digest, other[0][SIMNET_CLIENT].digest);
}

static int group_setup(void **state)
{
	(void)state;
	return simnet_tls_init(&tls);
}

static int group_teardown(void **state)
{
	(void)state;
	simnet_tls_free(&tls);
	if (totals.runs)
		print_message("simnet multipath: %u runs; %.1f s simulated, %.2f s real\n",
			      totals.runs, totals.sim_s, totals.real_s);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest picked[] = {
		cmocka_unit_test(rr_every_path),
		cmocka_unit_test(minrtt_fast_path),
		cmocka_unit_test(hystart_two_paths_lose_less),
		cmocka_unit_test(windows_cover_two_paths),
		cmocka_unit_test(ecn_counts_per_path),
		cmocka_unit_test(backup_until_kill),
		cmocka_unit_test(rr_path1_killed),
		cmocka_unit_test(rr_path0_killed),
		cmocka_unit_test(path1_dead_server_to_client),
		cmocka_unit_test(path1_dead_client_to_server),
		cmocka_unit_test(path0_killed_client_validation_lost),
		cmocka_unit_test(path0_cut_path1_dead),
		cmocka_unit_test(redundant_two),
		cmocka_unit_test(redundant_loss_on_fast_path),
		cmocka_unit_test(late_request_windows_grow),
		cmocka_unit_test(redundant_split_copy_fin),
		cmocka_unit_test(path0_failed_cids_lost),
		cmocka_unit_test(repeatable_by_seed),
	};
	size_t npicked = sizeof(picked) / sizeof(picked[0]);
	return simnet_test_main(argc, argv, "sim_multipath", picked, npicked, seeded_download,
				NSEEDS, 2, group_setup, group_teardown);
}
