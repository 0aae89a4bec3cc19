/*
 * Seeded transfers over the simulated network (tests/common/simnet.h): the
 * client opens a bidirectional stream once the handshake completes and sends a
 * request with FIN; the server answers with FIN. In half of the runs the
 * answer is 1 MiB ("download"), in the other half the request is ("upload").
 * Each run checks that the handshake completed, that every byte arrived once,
 * equal and in order (offsets checked in stream_data), that FIN was seen, that
 * both ends freed the stream, and that a graceful close ends both connections,
 * all within a bound of simulated time.
 *
 * 200 runs draw their links from the seed; a few are picked by hand. A failure
 * names the seed and the link parameters; rerun one with
 *   build/tests/sim/test_sim 'seed_017'   (a cmocka test filter; * works too)
 * SIMNET_VERBOSE=1 prints a line per run, SIMNET_TRACE=1 a line per datagram,
 * SIMNET_SEEDS=201-5000 runs other seeds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "simnet.h"

#define BIG_SIZE (1024 * 1024)
#define SMALL_SIZE 40
#define NSEEDS 200 /* seeds 1..200 unless SIMNET_SEEDS=FIRST-LAST */
#define CHUNK 16384
#define DRAIN_LIMIT (60 * MPQ_SEC) /* to free the stream, then to close */
#define CLOSE_LIMIT (120 * MPQ_SEC)

/* Shared by every run: certificates and TLS contexts, and the totals printed at the end. */
static struct simnet_tls tls;
static struct {
	unsigned runs;
	double real_s, real_max_s;
	double sim_s, sim_max_s;
	uint64_t turns;
} totals;

/* What one run draws or is given. */
struct run_params {
	uint64_t seed;
	bool upload; /* the client sends the 1 MiB */
	const char *cc;
	struct simnet_link link[2];
	simnet_filter_fn filter;
	void *filter_state;
	uint64_t size; /* of the big direction; 0: BIG_SIZE */
	bool no_hystart;
};

/* One direction of the stream: written by side |from|, read by the other. */
struct flow {
	uint64_t size;
	uint8_t salt;
	uint64_t written;
	bool fin_written;
	uint64_t received;
	bool fin;
	uint64_t sent_at_fin;	    /* the sender's datagram count when FIN arrived */
	uint64_t three_quarters_at; /* when 3/4 of it had arrived, simulated ns */
};

struct xfer {
	struct flow flow[2]; /* flow[i] is written by side i */
	int64_t id[2];	     /* the stream as each side knows it */
	bool closed[2];
	char bad[256]; /* the first thing that went wrong, in the callbacks */
};

static uint8_t pattern(uint8_t salt, uint64_t off)
{
	return (uint8_t)(((uint32_t)off * 0x9e3779b1u) >> 24) ^ (uint8_t)(off >> 20) ^ salt;
}

/* The first thing that went wrong, kept in ->bad. */
#define set_bad(p, ...) simnet_note_first((p)->bad, sizeof((p)->bad), __VA_ARGS__)

static const char *side_name(int side)
{
	return side == SIMNET_CLIENT ? "client" : "server";
}

static void pump(struct simnet_end *e, mpq_conn *c)
{
	struct xfer *x = e->app;
	struct flow *f = &x->flow[e->side];
	uint8_t buf[CHUNK];
	while (!f->fin_written) {
		size_t n = sizeof(buf);
		if (n > f->size - f->written)
			n = (size_t)(f->size - f->written);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(f->salt, f->written + i);
		bool fin = f->written + n == f->size;
		int64_t took = mpq_conn_stream_write(c, x->id[e->side], buf, n, fin);
		if (took < 0) {
			set_bad(x, "%s: stream_write: %s", side_name(e->side),
				mpq_strerror((int)took));
			return;
		}
		f->written += (uint64_t)took;
		if ((size_t)took == n && fin)
			f->fin_written = true;
		else if ((size_t)took < n)
			return;
	}
}

static int on_handshake(mpq_conn *c, void *ud)
{
	struct simnet_end *e = ud;
	struct xfer *x = e->app;
	if (e->side != SIMNET_CLIENT)
		return 0;
	int rv = mpq_conn_open_stream(c, true, &x->id[SIMNET_CLIENT]);
	if (rv != 0) {
		set_bad(x, "client: open_stream: %s", mpq_strerror(rv));
		return 0;
	}
	pump(e, c);
	return 0;
}

static int on_open(mpq_conn *c, int64_t id, void *ud)
{
	struct simnet_end *e = ud;
	struct xfer *x = e->app;
	if (e->side != SIMNET_SERVER || x->id[SIMNET_SERVER] >= 0)
		set_bad(x, "%s: unexpected stream %lld opened", side_name(e->side), (long long)id);
	else
		x->id[SIMNET_SERVER] = id;
	return 0;
}

static int on_data(mpq_conn *c, int64_t id, uint64_t off, const uint8_t *d, size_t len, bool fin,
		   void *ud)
{
	struct simnet_end *e = ud;
	struct xfer *x = e->app;
	int me = e->side;
	struct flow *f = &x->flow[!me];
	const char *who = side_name(me);
	if (id != x->id[me])
		set_bad(x, "%s: data on stream %lld, not %lld", who, (long long)id,
			(long long)x->id[me]);
	else if (f->fin)
		set_bad(x, "%s: %zu bytes at %llu after FIN", who, len, (unsigned long long)off);
	else if (off != f->received)
		set_bad(x, "%s: data at offset %llu, expected %llu (len %zu)", who,
			(unsigned long long)off, (unsigned long long)f->received, len);
	else if (off + len > f->size)
		set_bad(x, "%s: data up to %llu, beyond the size %llu", who,
			(unsigned long long)(off + len), (unsigned long long)f->size);
	else if (fin && off + len != f->size)
		set_bad(x, "%s: FIN at %llu, size %llu", who, (unsigned long long)(off + len),
			(unsigned long long)f->size);
	if (x->bad[0])
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (d[i] != pattern(f->salt, off + i)) {
			set_bad(x, "%s: byte at %llu is 0x%02x, expected 0x%02x", who,
				(unsigned long long)(off + i), d[i], pattern(f->salt, off + i));
			return 0;
		}
	}
	if (f->received < f->size / 4 * 3 && off + len >= f->size / 4 * 3)
		f->three_quarters_at = e->net->now;
	f->received = off + len;
	if (fin) {
		f->fin = true;
		f->sent_at_fin = e->net->link[!me].st.sent;
		if (me == SIMNET_SERVER)
			pump(e, c);
	}
	return 0;
}

static int on_writable(mpq_conn *c, int64_t id, void *ud)
{
	struct simnet_end *e = ud;
	struct xfer *x = e->app;
	if (id == x->id[e->side] && (e->side == SIMNET_CLIENT || x->flow[SIMNET_CLIENT].fin))
		pump(e, c);
	return 0;
}

static int on_reset(mpq_conn *c, int64_t id, uint64_t code, void *ud)
{
	struct simnet_end *e = ud;
	set_bad((struct xfer *)e->app, "%s: stream %lld reset (0x%llx)", side_name(e->side),
		(long long)id, (unsigned long long)code);
	return 0;
}

static int on_stop(mpq_conn *c, int64_t id, uint64_t code, void *ud)
{
	struct simnet_end *e = ud;
	set_bad((struct xfer *)e->app, "%s: STOP_SENDING on stream %lld (0x%llx)",
		side_name(e->side), (long long)id, (unsigned long long)code);
	return 0;
}

static int on_closed(mpq_conn *c, int64_t id, void *ud)
{
	struct simnet_end *e = ud;
	struct xfer *x = e->app;
	if (id == x->id[e->side])
		x->closed[e->side] = true;
	return 0;
}

static const mpq_callbacks app_cb = {
	.struct_version = MPQ_CALLBACKS_VERSION,
	.handshake_completed = on_handshake,
	.stream_open = on_open,
	.stream_data = on_data,
	.stream_writable = on_writable,
	.stream_reset = on_reset,
	.stream_stop_sending = on_stop,
	.stream_closed = on_closed,
};

static bool transfer_done(struct simnet *n)
{
	struct xfer *x = n->end[0].app;
	return x->bad[0] || (x->flow[0].fin && x->flow[1].fin);
}

static bool streams_closed(struct simnet *n)
{
	struct xfer *x = n->end[0].app;
	return x->closed[0] && x->closed[1];
}

static bool conns_closed(struct simnet *n)
{
	return mpq_conn_get_expiry(n->end[0].conn) == MPQ_TIME_NEVER &&
	       mpq_conn_get_expiry(n->end[1].conn) == MPQ_TIME_NEVER;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void describe_params(const struct run_params *rp, char *buf, size_t len)
{
	char l0[200], l1[200];
	simnet_link_format(&rp->link[0], l0, sizeof(l0));
	simnet_link_format(&rp->link[1], l1, sizeof(l1));
	snprintf(buf, len, "seed %llu %s cc %s\n  c->s: %s\n  s->c: %s",
		 (unsigned long long)rp->seed, rp->upload ? "upload" : "download", rp->cc, l0, l1);
}

/* One run: the network, the application, and what the checks report. */
struct run {
	const struct run_params *rp;
	struct simnet n;
	struct xfer x;
	double t0;
	uint64_t sim_done; /* when both FINs had arrived */
};

/* What a run leaves for the caller to check further. */
struct run_out {
	struct simnet_link_stats link[2];
	mpq_conn_stats stats[2];
	mpq_path_stats path[2]; /* each end's path 0 */
	mpq_conn_error error[2];
	uint64_t sent_at_fin[2];
	uint64_t three_quarters_at[2];
	uint64_t sim_done;
};

/* Reports a failed run with everything needed to repeat and read it. */
#define run_check(cond, r, what) \
	do { \
		if (!(cond)) \
			run_fail(r, what, #cond); \
	} while (0)

static void run_fail(struct run *r, const char *what, const char *cond)
{
	const struct xfer *x = &r->x;
	char params[512], state[2048];
	describe_params(r->rp, params, sizeof(params));
	simnet_describe(&r->n, state, sizeof(state));
	/* Straight to stderr: cmocka's print_error cuts messages at 1 KiB. */
	fprintf(stderr,
		"FAILED %s (%s)\n  %s\n  app: %s; c->s %llu/%llu fin %d, s->c %llu/%llu fin %d,"
		" closed %d/%d\n%s",
		what, cond, params, x->bad[0] ? x->bad : "ok",
		(unsigned long long)x->flow[0].received, (unsigned long long)x->flow[0].size,
		x->flow[0].fin, (unsigned long long)x->flow[1].received,
		(unsigned long long)x->flow[1].size, x->flow[1].fin, x->closed[0], x->closed[1],
		state);
	fflush(stderr);
	simnet_free(&r->n); /* fail_msg does not return */
	fail_msg("seed %llu: %s", (unsigned long long)r->rp->seed, what);
}

static void run_begin(struct run *r, const struct run_params *rp)
{
	struct xfer *x = &r->x;
	memset(r, 0, sizeof(*r));
	r->rp = rp;
	x->id[0] = x->id[1] = -1;
	uint64_t big = rp->size ? rp->size : BIG_SIZE;
	x->flow[SIMNET_CLIENT].size = rp->upload ? big : SMALL_SIZE;
	x->flow[SIMNET_SERVER].size = rp->upload ? SMALL_SIZE : big;
	x->flow[SIMNET_CLIENT].salt = (uint8_t)(rp->seed * 2 + 1);
	x->flow[SIMNET_SERVER].salt = (uint8_t)(rp->seed * 2 + 2);
	struct simnet_config cfg = {
		.seed = rp->seed,
		.link = {rp->link[0], rp->link[1]},
		.cc = rp->cc,
		.app = {&app_cb, &app_cb},
		.app_state = {x, x},
		.filter = rp->filter,
		.filter_state = rp->filter_state,
		.trace = getenv("SIMNET_TRACE") ? stdout : NULL,
	};
	r->t0 = now_s();
	assert_int_equal(simnet_init(&r->n, &cfg, &tls), 0);
	for (int i = 0; i < 2; i++)
		r->n.end[i].settings.no_hystart = rp->no_hystart;
	assert_int_equal(simnet_start(&r->n), 0);
}

/* Until both FINs arrived: the handshake, then every byte once, equal, in order. */
static void run_until_transferred(struct run *r)
{
	enum simnet_result res = simnet_run(&r->n, transfer_done);
	run_check(res == SIMNET_DONE, r, simnet_result_str(res));
	run_check(!r->x.bad[0], r, "stream data");
	run_check(simnet_handshake_done(&r->n), r, "handshake");
	for (int s = 0; s < 2; s++) {
		run_check(r->x.flow[s].received == r->x.flow[s].size && r->x.flow[s].fin, r,
			  "all bytes and FIN");
		run_check(!mpq_conn_get_error(r->n.end[s].conn)->set, r,
			  "connection error during transfer");
	}
	r->sim_done = r->n.now;
}

/* The last ACKs let both ends free the stream; then a graceful close ends both
 * connections (the server by the close, or by idle timeout if every copy of
 * the close was lost). */
static void run_until_closed(struct run *r)
{
	r->n.cfg.time_limit = DRAIN_LIMIT;
	enum simnet_result res = simnet_run(&r->n, streams_closed);
	run_check(res == SIMNET_DONE && !r->x.bad[0], r, "stream freed on both ends");
	mpq_conn_close(r->n.end[SIMNET_CLIENT].conn, 0, "done", r->n.now);
	r->n.cfg.time_limit = CLOSE_LIMIT;
	res = simnet_run(&r->n, conns_closed);
	run_check(res == SIMNET_DONE || res == SIMNET_QUIET, r, "close");
	run_check(conns_closed(&r->n), r, "both closed");
}

static void run_end(struct run *r, struct run_out *out)
{
	struct simnet *n = &r->n;
	double real = now_s() - r->t0, sim = (double)r->sim_done / 1e9;
	totals.runs++;
	totals.real_s += real;
	totals.sim_s += sim;
	totals.turns += n->iters;
	if (real > totals.real_max_s)
		totals.real_max_s = real;
	if (sim > totals.sim_max_s)
		totals.sim_max_s = sim;
	if (getenv("SIMNET_VERBOSE")) {
		char params[512];
		describe_params(r->rp, params, sizeof(params));
		print_message("%s\n  done at %.6f s simulated, %.3f s real, %llu turns, "
			      "lost c->s %llu s->c %llu, digests %016llx %016llx\n",
			      params, sim, real, (unsigned long long)n->iters,
			      (unsigned long long)n->link[0].st.lost,
			      (unsigned long long)n->link[1].st.lost,
			      (unsigned long long)n->link[0].st.digest,
			      (unsigned long long)n->link[1].st.digest);
	}
	if (out) {
		out->sim_done = r->sim_done;
		for (int s = 0; s < 2; s++) {
			out->link[s] = n->link[s].st;
			mpq_conn_get_stats(n->end[s].conn, &out->stats[s]);
			assert_int_equal(mpq_conn_get_path_stats(n->end[s].conn, 0, &out->path[s]),
					 0);
			out->error[s] = *mpq_conn_get_error(n->end[s].conn);
			out->sent_at_fin[s] = r->x.flow[s].sent_at_fin;
			out->three_quarters_at[s] = r->x.flow[s].three_quarters_at;
		}
	}
	simnet_free(n);
}

static void run_transfer(const struct run_params *rp, struct run_out *out)
{
	struct run r;
	run_begin(&r, rp);
	run_until_transferred(&r);
	run_until_closed(&r);
	run_end(&r, out);
}

/* Links drawn from the seed. */
static double draw(uint64_t *s, double lo, double hi)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return lo + (hi - lo) * (double)(z >> 11) * 0x1.0p-53;
}

static void params_from_seed(uint64_t seed, struct run_params *rp)
{
	uint64_t s = seed * 0x2545f4914f6cdd1dULL + 7;
	memset(rp, 0, sizeof(*rp));
	rp->seed = seed;
	rp->cc = seed % 2 ? "newreno" : "cubic";
	rp->upload = (seed / 2) % 2;
	uint64_t delay = (uint64_t)(draw(&s, 1, 100) * MPQ_MS);
	for (int i = 0; i < 2; i++) {
		struct simnet_link *l = &rp->link[i];
		double u = draw(&s, 0, 1);
		double mbit = 1 + 99 * u * u * u; /* 1 to 100, most of them slow (median 13) */
		l->delay = delay;
		l->jitter = (uint64_t)(draw(&s, 0, 0.1) * (double)delay);
		l->rate = (uint64_t)(mbit * 1e6 / 8);
		uint64_t bdp = l->rate * 2 * delay / MPQ_SEC;
		l->queue_bytes = (uint64_t)(draw(&s, 0.5, 2) * (double)bdp);
		if (l->queue_bytes < 16 * 1500)
			l->queue_bytes = 16 * 1500;
		l->loss = draw(&s, 0, 0.2);
		l->reorder = draw(&s, 0, 0.1);
		l->reorder_delay = (uint64_t)(draw(&s, 0.1, 1.0) * (double)delay) + MPQ_MS / 2;
		l->dup = draw(&s, 0, 0.05);
	}
}

static void seeded_transfer(void **state)
{
	struct run_params rp;
	params_from_seed((uint64_t)(uintptr_t)*state, &rp);
	run_transfer(&rp, NULL);
}

/* A hand-picked link, the same both ways: |delay_ms| one way, |mbit| Mbit/s,
 * a queue of one BDP plus 32 datagrams. */
static struct simnet_link link_of(uint64_t delay_ms, uint64_t mbit, double loss)
{
	uint64_t rate = mbit * 1000000 / 8;
	return (struct simnet_link){
		.delay = delay_ms * MPQ_MS,
		.rate = rate,
		.queue_bytes = rate * 2 * delay_ms / 1000 + 32 * 1500,
		.loss = loss,
	};
}

static struct run_params picked(uint64_t seed, bool upload, const char *cc,
				struct simnet_link link)
{
	return (struct run_params){.seed = seed, .upload = upload, .cc = cc, .link = {link, link}};
}

static void sanity_fast_lossless(void **state)
{
	(void)state;
	struct simnet_link l = link_of(1, 100, 0);
	l.queue_bytes = 0; /* unbounded: nothing is dropped */
	for (int up = 0; up < 2; up++) {
		struct run_params rp = picked(1000 + (uint64_t)up, up, "cubic", l);
		struct run_out out;
		run_transfer(&rp, &out);
		/* Nothing dropped, so nothing may be declared lost. */
		for (int s = 0; s < 2; s++) {
			assert_int_equal(out.link[s].lost + out.link[s].queue_drops, 0);
			assert_int_equal(out.stats[s].packets_lost, 0);
			assert_int_equal(out.stats[s].stream_bytes_retransmitted, 0);
		}
		/* And the server learnt of the close from the client. */
		assert_true(out.error[SIMNET_SERVER].set);
		assert_true(out.error[SIMNET_SERVER].remote);
		assert_true(out.error[SIMNET_SERVER].app);
		assert_int_equal(out.error[SIMNET_SERVER].code, 0);
	}
}

/* One stream over a long fat link: 1 Gbit/s, 50 ms each way, so 12.5 MB in
 * flight fill it. Slow start takes about 25 MB to get there; the last quarter
 * of a 32 MiB download then arrives at close to the link's rate (simulated
 * time: deterministic). A send buffer of a fixed 1 MiB held the whole
 * transfer to about 67 Mbit/s. */
static void one_stream_fills_long_fat_link(void **state)
{
	(void)state;
	struct run_params rp = picked(1100, false, "cubic", link_of(50, 1000, 0));
	rp.size = 32 * 1024 * 1024;
	struct run_out out;
	run_transfer(&rp, &out);
	uint64_t from = out.three_quarters_at[SIMNET_SERVER], to = out.sim_done;
	assert_true(from > 0 && to > from);
	double mbit = (double)(rp.size / 4) * 8 / ((double)(to - from) / 1e9) / 1e6;
	double all = (double)rp.size * 8 / ((double)to / 1e9) / 1e6;
	print_message("32 MiB over 1000 Mbit/s, 100 ms RTT: last quarter at %.0f Mbit/s, "
		      "%.0f Mbit/s from the start\n",
		      mbit, all);
	assert_true(mbit >= 800);
}

/* ECN (RFC 9000 §13.4, RFC 9002 §7.1): a 4 MiB download over 50 Mbit/s,
 * 20 ms each way, with a queue that never drops, where the bottleneck marks
 * CE on what finds more than 30 kB queued. Every controller must take the
 * marks as congestion, through the ops table: its queue stays a fraction of
 * what the same run builds without marks (where slow start never ends). The
 * counts are exact: the client received as many CE packets as the link
 * marked, and the server heard that number in its ACK_ECN frames. */
static void ce_marks_make_every_cc_respond(void **state)
{
	(void)state;
	static const char *const ccs[] = {"newreno", "cubic", "lia", "olia"};
	for (size_t i = 0; i < sizeof(ccs) / sizeof(ccs[0]); i++) {
		struct simnet_link l = link_of(20, 50, 0);
		l.queue_bytes = 0;
		struct run_out plain, marked;
		struct run_params rp = picked(2500 + i, false, ccs[i], l);
		rp.size = 4 * 1024 * 1024;
		run_transfer(&rp, &plain);
		rp.link[SIMNET_SERVER].ce_threshold = 30000;
		run_transfer(&rp, &marked);
		const struct simnet_link_stats *down = &marked.link[SIMNET_SERVER];
		const mpq_path_stats *cp = &marked.path[SIMNET_CLIENT];
		const mpq_path_stats *sp = &marked.path[SIMNET_SERVER];
		print_message("%s: CE on %llu of %llu packets; queue at most %llu B (%llu B "
			      "unmarked), cwnd %llu B (%llu B), %llu CE events\n",
			      ccs[i], (unsigned long long)down->ce_marked,
			      (unsigned long long)down->ect,
			      (unsigned long long)down->max_queue_bytes,
			      (unsigned long long)plain.link[SIMNET_SERVER].max_queue_bytes,
			      (unsigned long long)sp->cwnd,
			      (unsigned long long)plain.path[SIMNET_SERVER].cwnd,
			      (unsigned long long)sp->ecn_ce_events);
		assert_int_equal(plain.link[SIMNET_SERVER].ce_marked, 0);
		assert_int_equal(plain.path[SIMNET_SERVER].ecn_ce_events, 0);
		for (int s = 0; s < 2; s++) {
			assert_int_equal(marked.stats[s].packets_lost, 0);
			assert_int_equal(marked.path[s].ecn_state, MPQ_ECN_STATE_CAPABLE);
		}
		assert_true(down->ce_marked > 0);
		assert_int_equal(down->ce_marked_short, down->ce_marked);
		assert_int_equal(cp->ecn_rx_ce, down->ce_marked);
		assert_int_equal(sp->ecn_peer_ce, down->ce_marked);
		assert_int_equal(cp->ecn_rx_ect1, 0);
		/* (The server's last packets, ACKs and the close, are counted by
		 * the client but never acknowledged.) */
		assert_true(sp->ecn_peer_ect0 > 0 && sp->ecn_peer_ect0 <= cp->ecn_rx_ect0);
		assert_true(sp->ecn_ce_events > 0);
		assert_true(down->max_queue_bytes * 2 < plain.link[SIMNET_SERVER].max_queue_bytes);
		assert_true(sp->cwnd < plain.path[SIMNET_SERVER].cwnd);
	}
}

/* HyStart++ (RFC 9406): a 4 MiB download over 50 Mbit/s, 20 ms each way,
 * behind a drop-tail queue of one BDP plus 32 datagrams. Without it slow
 * start doubles the window until the queue overflows and a flight of packets
 * is dropped; with it the RTT's rise ends slow start (into CSS, a quarter of
 * the growth) sooner, so strictly fewer packets are dropped and lost, for an
 * uncoupled and a coupled controller alike. Not none: a round's minimum RTT
 * comes from its start, before the doubling fills the queue, so the rise is
 * seen a round late, with the window already past the pipe and the queue. */
static void hystart_leaves_slow_start_before_the_queue_overflows(void **state)
{
	(void)state;
	static const char *const ccs[] = {"cubic", "olia"};
	for (size_t i = 0; i < sizeof(ccs) / sizeof(ccs[0]); i++) {
		struct run_out with, without;
		struct run_params rp = picked(2700 + i, false, ccs[i], link_of(20, 50, 0));
		rp.size = 4 * 1024 * 1024;
		run_transfer(&rp, &with);
		rp.no_hystart = true;
		run_transfer(&rp, &without);
		uint64_t drops = with.link[SIMNET_SERVER].queue_drops;
		uint64_t drops_off = without.link[SIMNET_SERVER].queue_drops;
		uint64_t lost = with.stats[SIMNET_SERVER].packets_lost;
		uint64_t lost_off = without.stats[SIMNET_SERVER].packets_lost;
		print_message("%s: %llu queue drops, %llu lost, done at %.2f s with HyStart++; "
			      "%llu, %llu, %.2f s without\n",
			      ccs[i], (unsigned long long)drops, (unsigned long long)lost,
			      (double)with.sim_done / 1e9, (unsigned long long)drops_off,
			      (unsigned long long)lost_off, (double)without.sim_done / 1e9);
		assert_true(drops_off > 0);
		assert_true(drops < drops_off);
		assert_true(lost < lost_off);
	}
}

/* A network that clears ECN marks fails validation at both ends (RFC 9000
 * §13.4.2.1: ECT(0) packets acknowledged without ECN counts) and the
 * transfer goes on unmarked; only the testing packets carried ECT(0). */
static void bleached_ecn_fails_validation(void **state)
{
	(void)state;
	struct simnet_link l = link_of(10, 20, 0);
	l.bleach = true;
	struct run_params rp = picked(2600, false, "cubic", l);
	struct run_out out;
	run_transfer(&rp, &out);
	for (int s = 0; s < 2; s++) {
		assert_int_equal(out.path[s].ecn_state, MPQ_ECN_STATE_FAILED);
		assert_true(out.path[s].ecn_sent_ect0 > 0);
		assert_true(out.path[s].ecn_sent_ect0 <= 10 /* RFC 9000 A.4 */);
		assert_int_equal(out.path[s].ecn_rx_ect0 + out.path[s].ecn_rx_ce, 0);
	}
	assert_int_equal(out.link[SIMNET_SERVER].ect, 0);
}

static void loss_20_both_ways(void **state)
{
	(void)state;
	for (int up = 0; up < 2; up++) {
		struct run_params rp = picked(2000 + (uint64_t)up, up, up ? "newreno" : "cubic",
					      link_of(20, 10, 0.2));
		struct run_out out;
		run_transfer(&rp, &out);
		assert_true(out.link[0].lost > 0 && out.link[1].lost > 0);
	}
}

/* Tail loss: a lossless run finds the datagrams the bulk sender wrote last
 * before the receiver had FIN; a second run, identical up to then, drops them. */
struct tail {
	int from;
	uint64_t first, count;
};

static bool drop_tail(struct simnet *n, int from, uint64_t index, const uint8_t *d, size_t len)
{
	const struct tail *t = n->cfg.filter_state;
	return from == t->from && index >= t->first && index < t->first + t->count;
}

static void tail_loss(void **state)
{
	(void)state;
	for (int up = 0; up < 2; up++) {
		int from = up ? SIMNET_CLIENT : SIMNET_SERVER;
		struct run_params rp = picked(3000 + (uint64_t)up, up, up ? "cubic" : "newreno",
					      link_of(30, 20, 0));
		struct run_out out;
		run_transfer(&rp, &out);
		struct tail t = {.from = from, .count = 5};
		assert_true(out.sent_at_fin[from] > t.count);
		t.first = out.sent_at_fin[from] - t.count;
		rp.filter = drop_tail;
		rp.filter_state = &t;
		run_transfer(&rp, &out);
		assert_int_equal(out.link[from].filtered, t.count);
		assert_true(out.stats[from].packets_lost >= t.count);
	}
}

/* 30 % of datagrams are held 30 ms on a 10 ms link: up to ~130 later ones
 * overtake each, far past the packet threshold, so many are declared lost
 * spuriously and their retransmissions arrive alongside the originals. */
static void deep_reordering(void **state)
{
	(void)state;
	struct simnet_link l = link_of(10, 50, 0);
	l.reorder = 0.3;
	l.reorder_delay = 30 * MPQ_MS;
	l.jitter = 2 * MPQ_MS;
	for (int up = 0; up < 2; up++) {
		struct run_params rp = picked(4000 + (uint64_t)up, up, "cubic", l);
		struct run_out out;
		run_transfer(&rp, &out);
		assert_true(out.link[0].reordered > 0 && out.link[1].reordered > 0);
	}
}

static void duplication_30(void **state)
{
	(void)state;
	struct simnet_link l = link_of(20, 20, 0);
	l.dup = 0.3;
	for (int up = 0; up < 2; up++) {
		struct run_params rp = picked(5000 + (uint64_t)up, up, "newreno", l);
		struct run_out out;
		run_transfer(&rp, &out);
		assert_true(out.link[0].duplicated > 0 && out.link[1].duplicated > 0);
	}
}

/* The client vanishes (everything it writes is lost) once the server has
 * written its answer, which is then never acknowledged. RFC 9000 §10.1: the
 * idle timer restarts when a packet is received and at the first ack-eliciting
 * packet sent after that, so the server must give up one idle timeout after
 * the last datagram it received, however many PTO probes it sends meanwhile. */
static bool client_vanished(struct simnet *n, int from, uint64_t index, const uint8_t *d,
			    size_t len)
{
	const struct xfer *x = n->end[SIMNET_CLIENT].app;
	return from == SIMNET_CLIENT && x->flow[SIMNET_SERVER].fin_written;
}

static bool server_closed(struct simnet *n)
{
	return mpq_conn_get_expiry(n->end[SIMNET_SERVER].conn) == MPQ_TIME_NEVER;
}

static void idle_timeout_peer_vanished(void **state)
{
	(void)state;
	struct run_params rp = picked(6000, true, "cubic", link_of(20, 20, 0));
	rp.filter = client_vanished;
	struct run r;
	run_begin(&r, &rp);
	run_until_transferred(&r);
	r.n.cfg.time_limit = 600 * MPQ_SEC;
	enum simnet_result res = simnet_run(&r.n, server_closed);
	run_check(res == SIMNET_DONE, &r, "server gave up");
	const mpq_conn_error *e = mpq_conn_get_error(r.n.end[SIMNET_SERVER].conn);
	run_check(e->set && !e->remote && !strcmp(e->reason, "idle timeout"), &r,
		  "server closed by idle timeout");
	uint64_t last = r.n.link[SIMNET_CLIENT].st.last_delivered_at;
	uint64_t idle = r.n.end[SIMNET_SERVER].tparams.max_idle_timeout * MPQ_MS;
	if (r.n.now > last + idle + MPQ_SEC)
		fprintf(stderr,
			"server: last datagram received at %.3f s, idle timeout %.0f s, "
			"closed at %.3f s\n",
			(double)last / 1e9, (double)idle / 1e9, (double)r.n.now / 1e9);
	run_check(r.n.now <= last + idle + MPQ_SEC, &r, "idle timeout from the last receipt");
	run_end(&r, NULL);
}

/* A run depends on its seed alone: the same seed, before and after another
 * run, writes the same datagrams at the same times. Client to server that is
 * byte for byte; server to client all but the NewSessionTicket, which OpenSSL
 * stamps with the wall clock (time(NULL)), so there lengths and counts. */
static void repeatable_by_seed(void **state)
{
	(void)state;
	struct run_params a, b;
	struct run_out first, other, again;
	params_from_seed(7, &a);
	params_from_seed(8, &b);
	run_transfer(&a, &first);
	run_transfer(&b, &other);
	run_transfer(&a, &again);
	assert_int_equal(first.sim_done, again.sim_done);
	assert_int_equal(first.link[SIMNET_CLIENT].digest, again.link[SIMNET_CLIENT].digest);
	assert_int_not_equal(first.link[SIMNET_CLIENT].digest, other.link[SIMNET_CLIENT].digest);
	for (int s = 0; s < 2; s++) {
		assert_int_equal(first.link[s].sent, again.link[s].sent);
		assert_int_equal(first.link[s].bytes_sent, again.link[s].bytes_sent);
		assert_int_equal(first.link[s].lost, again.link[s].lost);
	}
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
		print_message("simnet: %u runs passed; to the last byte %.1f s simulated (max "
			      "%.1f s); "
			      "%.2f s real in all (max %.3f s); %llu turns\n",
			      totals.runs, totals.sim_s, totals.sim_max_s, totals.real_s,
			      totals.real_max_s, (unsigned long long)totals.turns);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest picked_tests[] = {
		cmocka_unit_test(sanity_fast_lossless),
		cmocka_unit_test(one_stream_fills_long_fat_link),
		cmocka_unit_test(ce_marks_make_every_cc_respond),
		cmocka_unit_test(bleached_ecn_fails_validation),
		cmocka_unit_test(hystart_leaves_slow_start_before_the_queue_overflows),
		cmocka_unit_test(loss_20_both_ways),
		cmocka_unit_test(tail_loss),
		cmocka_unit_test(deep_reordering),
		cmocka_unit_test(duplication_30),
		cmocka_unit_test(idle_timeout_peer_vanished),
		cmocka_unit_test(repeatable_by_seed),
	};
	size_t npicked = sizeof(picked_tests) / sizeof(picked_tests[0]);
	unsigned long long first = 1, last = NSEEDS;
	const char *range = getenv("SIMNET_SEEDS");
	if (range &&
	    (sscanf(range, "%llu-%llu", &first, &last) != 2 || first < 1 || last < first)) {
		fprintf(stderr, "SIMNET_SEEDS: want FIRST-LAST, e.g. 1-200\n");
		return 2;
	}
	size_t nseeds = (size_t)(last - first + 1);
	struct CMUnitTest *tests = calloc(npicked + nseeds, sizeof(*tests));
	char(*names)[24] = calloc(nseeds, sizeof(*names));
	if (!tests || !names)
		return 2;
	memcpy(tests, picked_tests, sizeof(picked_tests));
	for (size_t i = 0; i < nseeds; i++) {
		snprintf(names[i], sizeof(names[i]), "seed_%03llu", first + i);
		tests[npicked + i] = (struct CMUnitTest){
			.name = names[i],
			.test_func = seeded_transfer,
			.initial_state = (void *)(uintptr_t)(first + i),
		};
	}
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	int rv = _cmocka_run_group_tests("sim", tests, npicked + nseeds, group_setup,
					 group_teardown);
	free(names);
	free(tests);
	return rv;
}
