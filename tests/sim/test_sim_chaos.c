/*
 * Chaos over the simulated network (tests/common/simnet.h): two endpoints,
 * two paths, 1 to 4 downloads at once, and per seed a random schedule of
 * events during about the time the downloads take (at most EVENTS_END): loss bursts one way, random
 * loss (0-20 %), reordering, delay (1-200 ms) and rate changes, a path down
 * for a while or for good, both paths down briefly, NAT rebinding of the
 * client, the client abandoning a path and opening it again, key updates by
 * either side. Per seed:
 *  - the run ends within a bound of simulated time (no hang, no timer stuck);
 *  - every body arrives byte-exact, in order, once; or the connection ended
 *    with a proper error (idle or handshake timeout, no viable path), and
 *    never while a path stayed usable throughout (never gone, never down
 *    longer than OUTAGE_OK at once, counting every event that cuts it, and
 *    not rebound by the NAT) and was validated (path 0, or another the
 *    client had opened and validated; one it abandoned and opened again
 *    is a new path, validated anew);
 *  - a graceful close then ends both connections; built with ASan (make san,
 *    make soak) nothing leaks.
 * CI runs NSEEDS seeds. make soak runs new seeds for SOAK_SECONDS and prints
 * the first failing one; SOAK_SEED=N replays one (SIMNET_TRACE=1 for every
 * datagram). Seeds that found defects are kept in regressions[].
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quic/conn.h"
#include "simnet.h"

#define NSEEDS 6
#define NPATHS 2
#define MAX_STREAMS 4
#define MAX_EVENTS 40
#define EVENTS_END (8 * MPQ_SEC)
#define OUTAGE_OK (1 * MPQ_SEC)	  /* a path validating through it still answers in time */
#define RUN_LIMIT (900 * MPQ_SEC) /* after the last event: 20 % loss is slow */
#define CLOSE_LIMIT (120 * MPQ_SEC)

enum ev_type {
	EV_BURST,      /* one direction of a path drops everything for a while */
	EV_LOSS,       /* a path's random loss changes */
	EV_REORDER,    /* and its reordering */
	EV_DELAY,      /* and its one-way delay */
	EV_RATE,       /* and its rate */
	EV_PATH_DOWN,  /* a path drops everything both ways for a while */
	EV_PATH_GONE,  /* for good */
	EV_ALL_DOWN,   /* both paths, briefly */
	EV_REBIND,     /* the NAT gives the client another port on a path */
	EV_ABANDON,    /* the client abandons a path (and EV_REOPEN later) */
	EV_KEY_UPDATE, /* a side starts a key update */
	EV_DRAWN,      /* the kinds above are drawn; those below follow them */
	EV_REOPEN = EV_DRAWN,
	EV_UP, /* what went down comes back */
};

static const char *const ev_name[] = {"burst",	    "loss",   "reorder",  "delay",  "rate",
				      "down",	    "gone",   "all-down", "rebind", "abandon",
				      "key-update", "reopen", "up"};

struct event {
	uint64_t at;
	int type;
	unsigned path;
	int dir; /* the sending side, or -1: both */
	double x;
	uint64_t v;
};

struct chaos {
	uint64_t seed;
	struct simnet n;
	struct event ev[MAX_EVENTS];
	size_t nev, next;
	unsigned down[NPATHS][2]; /* reasons a direction drops everything now */
	double loss[NPATHS][2];	  /* the random loss when it does not */
	bool gone[NPATHS];
	struct simnet_link link[NPATHS]; /* at the start, both ways */
	uint64_t events_end;		 /* events happen before */
	bool usable[NPATHS];		 /* the path stays usable throughout */
	bool reopen[NPATHS];
	bool validated[NPATHS]; /* the client had the path, as last opened, active */
	bool abandoned[NPATHS]; /* by the client, to be reopened */
	uint64_t retry_at;	/* when to try the reopens again */
	/* The downloads. */
	unsigned nstreams;
	uint64_t size[MAX_STREAMS], written[MAX_STREAMS], received[MAX_STREAMS];
	bool request_seen[MAX_STREAMS], fin_written[MAX_STREAMS], fin[MAX_STREAMS];
	int64_t server_id[MAX_STREAMS];
	char bad[256];
	char fail[512];
};

#define set_bad(c, ...) simnet_note_first((c)->bad, sizeof((c)->bad), __VA_ARGS__)

static struct simnet_tls tls;
static volatile uint64_t current_seed; /* for the crash handlers */

static uint8_t salt(const struct chaos *c, unsigned i)
{
	return (uint8_t)(c->seed * 7 + i * 13 + 1);
}

static void pump(struct chaos *c, mpq_conn *conn, unsigned i)
{
	if (!c->request_seen[i])
		return;
	int rv = simnet_write_pattern(conn, c->server_id[i], salt(c, i), c->size[i],
				      &c->written[i], &c->fin_written[i]);
	if (rv != 0 && rv != MPQ_ERR_CLOSING)
		set_bad(c, "server: stream_write %u: %s", i, mpq_strerror(rv));
}

static int on_handshake(mpq_conn *conn, void *ud)
{
	struct simnet_end *e = ud;
	struct chaos *c = e->app;
	if (e->side != SIMNET_CLIENT)
		return 0;
	for (unsigned i = 0; i < c->nstreams; i++) {
		static const uint8_t req[] = "GET /chaos\r\n";
		int64_t id;
		int rv = mpq_conn_open_stream(conn, true, &id);
		if (rv != 0 || id != 4 * (int64_t)i) {
			set_bad(c, "client: open_stream %u: %d", i, rv);
			return 0;
		}
		if (mpq_conn_stream_write(conn, id, req, sizeof(req) - 1, true) !=
		    (int64_t)sizeof(req) - 1)
			set_bad(c, "client: request %u", i);
	}
	return 0;
}

/* The download a stream ID belongs to, or -1. */
static int stream_index(const struct chaos *c, int64_t id)
{
	return id >= 0 && id % 4 == 0 && id / 4 < c->nstreams ? (int)(id / 4) : -1;
}

static int on_data(mpq_conn *conn, int64_t id, uint64_t off, const uint8_t *d, size_t len,
		   bool fin, void *ud)
{
	struct simnet_end *e = ud;
	struct chaos *c = e->app;
	int i = stream_index(c, id);
	if (i < 0) {
		set_bad(c, "side %d: data on stream %lld", e->side, (long long)id);
		return 0;
	}
	if (e->side == SIMNET_SERVER) {
		c->server_id[i] = id;
		if (fin && !c->request_seen[i]) {
			c->request_seen[i] = true;
			pump(c, conn, (unsigned)i);
		}
		return 0;
	}
	if (c->fin[i] || off != c->received[i] || off + len > c->size[i] ||
	    (fin && off + len != c->size[i])) {
		set_bad(c, "client: stream %d: %zu bytes at %llu (have %llu of %llu, fin %d)", i,
			len, (unsigned long long)off, (unsigned long long)c->received[i],
			(unsigned long long)c->size[i], fin);
		return 0;
	}
	for (size_t k = 0; k < len; k++)
		if (d[k] != simnet_pattern(salt(c, (unsigned)i), off + k)) {
			set_bad(c, "client: stream %d: byte %llu differs", i,
				(unsigned long long)(off + k));
			return 0;
		}
	c->received[i] += len;
	c->fin[i] = fin;
	return 0;
}

static int on_writable(mpq_conn *conn, int64_t id, void *ud)
{
	struct simnet_end *e = ud;
	int i = stream_index(e->app, id);
	if (e->side == SIMNET_SERVER && i >= 0)
		pump(e->app, conn, (unsigned)i);
	return 0;
}

static int on_reset(mpq_conn *conn, int64_t id, uint64_t code, void *ud)
{
	struct simnet_end *e = ud;
	set_bad((struct chaos *)e->app, "side %d: stream %lld reset", e->side, (long long)id);
	return 0;
}

static const mpq_callbacks app_cb = {
	.struct_version = MPQ_CALLBACKS_VERSION,
	.handshake_completed = on_handshake,
	.stream_data = on_data,
	.stream_writable = on_writable,
	.stream_reset = on_reset,
};

static void add_event(struct chaos *c, uint64_t at, int type, unsigned path, int dir, double x,
		      uint64_t v)
{
	if (c->nev < MAX_EVENTS)
		c->ev[c->nev++] = (struct event){at, type, path, dir, x, v};
}

static int by_time(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Is |path| cut (one way or both) at |t| by the schedule? */
static bool cut_at(const struct chaos *c, unsigned path, uint64_t t)
{
	for (size_t i = 0; i < c->nev; i++) {
		const struct event *e = &c->ev[i];
		bool mine = e->path == path || e->type == EV_ALL_DOWN;
		if (!mine || t < e->at)
			continue;
		/* A client that has nothing to send leaves the server no way to
		 * find it behind its new port (RFC 9000 §9.3): rebinding is a cut
		 * for this rule, which seeds in regressions[] make up for. */
		if (e->type == EV_PATH_GONE || (e->type == EV_REBIND && e->path == path))
			return true;
		if ((e->type == EV_BURST || e->type == EV_PATH_DOWN || e->type == EV_ALL_DOWN ||
		     e->type == EV_ABANDON) &&
		    t < e->at + e->v)
			return true;
	}
	return false;
}

/* Is |path| usable throughout: never cut for longer than OUTAGE_OK at once? */
static bool usable_path(const struct chaos *c, unsigned path)
{
	uint64_t run = 0, longest = 0;
	for (uint64_t t = 0; t < c->events_end + 15 * MPQ_SEC; t += 10 * MPQ_MS) {
		run = cut_at(c, path, t) ? run + 10 * MPQ_MS : 0;
		if (run > longest)
			longest = run;
	}
	return longest <= OUTAGE_OK;
}

/* The transfer must complete: path 0 stays usable, or another one does
 * and the connection got as far as validating it (path validation has a
 * budget of its own, RFC 9000 §8.2.4, which loss and an outage can spend). */
static bool must_complete(const struct chaos *c)
{
	for (unsigned p = 0; p < NPATHS; p++)
		if (c->usable[p] && c->validated[p])
			return true;
	return false;
}

/* The seed's links, downloads and events; the events fall within about
 * the time the downloads take on the links as they start. */
static void draw(struct chaos *c)
{
	uint64_t s = c->seed * 0x9e3779b97f4a7c15ULL + 3, total = 0, rate = 0;
	for (unsigned p = 0; p < NPATHS; p++) {
		struct simnet_link *l = &c->link[p];
		l->delay = (uint64_t)simnet_draw(&s, 1 * MPQ_MS, 100 * MPQ_MS);
		l->rate = (uint64_t)(simnet_draw(&s, 1, 20) * 1e6 / 8);
		l->loss = simnet_draw(&s, 0, 0.05);
		l->queue_bytes = l->rate / 5 + 32 * 1500;
		rate += l->rate;
	}
	c->nstreams = 1 + (unsigned)simnet_draw(&s, 0, MAX_STREAMS);
	for (unsigned i = 0; i < c->nstreams; i++) {
		c->size[i] = (uint64_t)simnet_draw(&s, 50000, 1500000);
		total += c->size[i];
	}
	c->events_end = 3 * total / 2 * MPQ_SEC / rate;
	c->events_end = c->events_end < MPQ_SEC	     ? MPQ_SEC
			: c->events_end > EVENTS_END ? EVENTS_END
						     : c->events_end;
	size_t n = 4 + (size_t)simnet_draw(&s, 0, 12);
	for (size_t i = 0; i < n; i++) {
		uint64_t at = (uint64_t)simnet_draw(&s, 0.1 * MPQ_SEC, (double)c->events_end);
		int type = (int)simnet_draw(&s, 0, EV_DRAWN);
		unsigned path = (unsigned)simnet_draw(&s, 0, NPATHS);
		int dir = (int)simnet_draw(&s, 0, 2);
		double x = simnet_draw(&s, 0, 1);
		uint64_t v;
		switch (type) {
		case EV_BURST:
			v = (uint64_t)simnet_draw(&s, 0.05 * MPQ_SEC, 2 * MPQ_SEC);
			break;
		case EV_PATH_DOWN:
			v = (uint64_t)simnet_draw(&s, 0.2 * MPQ_SEC, 10 * MPQ_SEC);
			break;
		case EV_ALL_DOWN:
			v = (uint64_t)simnet_draw(&s, 0.1 * MPQ_SEC, 3 * MPQ_SEC);
			break;
		case EV_ABANDON:
			v = (uint64_t)simnet_draw(&s, 0.3 * MPQ_SEC, 4 * MPQ_SEC);
			break;
		default:
			v = (uint64_t)simnet_draw(&s, 0, 1 << 30);
			break;
		}
		add_event(c, at, type, path, dir, x, v);
		if (type == EV_BURST || type == EV_PATH_DOWN || type == EV_ALL_DOWN)
			add_event(c, at + v, EV_UP, path, type == EV_BURST ? dir : -1,
				  type == EV_ALL_DOWN, 0);
		else if (type == EV_ABANDON)
			add_event(c, at + v, EV_REOPEN, path, -1, 0, 0);
	}
	qsort(c->ev, c->nev, sizeof(c->ev[0]), by_time);
	for (unsigned p = 0; p < NPATHS; p++)
		c->usable[p] = usable_path(c, p);
}

static void set_loss(struct chaos *c, unsigned p, int dir)
{
	simnet_link_of(&c->n, p, dir)->p.loss = c->down[p][dir] ? 1.0 : c->loss[p][dir];
}

/* Path |p| both ways (dir -1) or one way: |delta| more or fewer reasons to be down. */
static void updown(struct chaos *c, unsigned p, int dir, int delta)
{
	for (int d = 0; d < 2; d++) {
		if (dir >= 0 && d != dir)
			continue;
		c->down[p][d] += (unsigned)delta;
		set_loss(c, p, d);
	}
}

/* The client's path ID of path |p|, or -1 before it was opened. */
static int64_t path_id(const struct chaos *c, unsigned p)
{
	return p < simnet_paths_opened(&c->n) ? (int64_t)c->n.path_id[p] : -1;
}

static void try_reopen(struct chaos *c)
{
	mpq_conn *cl = c->n.end[SIMNET_CLIENT].conn;
	for (unsigned p = 0; p < NPATHS; p++) {
		if (!c->reopen[p] || !cl)
			continue;
		mpq_path tuple;
		uint32_t id;
		memset(&tuple, 0, sizeof(tuple));
		simnet_path_addr(&tuple.local, SIMNET_CLIENT, p);
		simnet_path_addr(&tuple.remote, SIMNET_SERVER, p);
		int rv = mpq_conn_open_path(cl, &tuple, &id);
		if (rv == 0) {
			c->n.path_id[p] = id;
			c->reopen[p] = false;
			/* A new path ID, validated anew, under the budget of
			 * RFC 9000 §8.2.4 that loss can spend. */
			c->validated[p] = false;
		}
	}
}

/* Is a path other than |path| active at the client? */
static bool other_path_active(const struct chaos *c, unsigned path)
{
	const mpq_conn *cl = c->n.end[SIMNET_CLIENT].conn;
	mpq_path_stats st;
	for (unsigned p = 0; p < simnet_paths_opened(&c->n); p++)
		if (p != path && mpq_conn_get_path_stats(cl, c->n.path_id[p], &st) == 0 &&
		    st.state == MPQ_PATH_STATE_ACTIVE)
			return true;
	return false;
}

static void apply(struct chaos *c, const struct event *e)
{
	struct simnet *n = &c->n;
	mpq_conn *side = n->end[e->dir >= 0 ? e->dir : 0].conn;
	int64_t id;
	for (int d = 0; d < 2; d++) {
		struct simnet_link *l = &simnet_link_of(n, e->path, d)->p;
		switch (e->type) {
		case EV_LOSS:
			c->loss[e->path][d] = e->x * 0.2;
			set_loss(c, e->path, d);
			break;
		case EV_REORDER:
			l->reorder = e->x * 0.3;
			l->reorder_delay = 1 * MPQ_MS + e->v % (50 * MPQ_MS);
			break;
		case EV_DELAY:
			l->delay = 1 * MPQ_MS + e->v % (200 * MPQ_MS);
			break;
		case EV_RATE:
			l->rate = (uint64_t)((0.5 + e->x * 49.5) * 1e6 / 8);
			l->queue_bytes = l->rate / 5 + 32 * 1500;
			break;
		}
	}
	switch (e->type) {
	case EV_BURST:
	case EV_PATH_DOWN:
		updown(c, e->path, e->type == EV_BURST ? e->dir : -1, 1);
		break;
	case EV_ALL_DOWN:
		for (unsigned p = 0; p < NPATHS; p++)
			updown(c, p, -1, 1);
		break;
	case EV_UP:
		for (unsigned p = 0; p < NPATHS; p++)
			if (p == e->path || e->x > 0)
				updown(c, p, e->dir, -1);
		break;
	case EV_PATH_GONE:
		c->gone[e->path] = true;
		simnet_kill_path(n, e->path, n->now);
		break;
	case EV_REBIND:
		simnet_rebind(n, e->path, (uint16_t)(50000 + e->v % 10000));
		break;
	case EV_ABANDON:
		/* As an application would: while another path is active. */
		id = path_id(c, e->path);
		c->abandoned[e->path] =
			id >= 0 && other_path_active(c, e->path) &&
			mpq_conn_abandon_path(n->end[SIMNET_CLIENT].conn, (uint32_t)id, 0) == 0;
		break;
	case EV_REOPEN:
		c->reopen[e->path] = c->abandoned[e->path] && !c->gone[e->path];
		c->abandoned[e->path] = false;
		break;
	case EV_KEY_UPDATE:
		if (side)
			mpq_conn_initiate_key_update(side);
		break;
	}
}

/* CHAOS_LOG=1: the connections' log lines, with the side and the time. */
static void log_line(void *ud, int level, const char *msg)
{
	struct simnet_end *e = ud;
	printf("%.6f %s: %s\n", (double)e->net->now / 1e9, e->side ? "server" : "client", msg);
}

static bool all_received(const struct chaos *c)
{
	for (unsigned i = 0; i < c->nstreams; i++)
		if (!c->fin[i])
			return false;
	return true;
}

static bool client_closed(const struct simnet *n)
{
	const mpq_conn *cl = n->end[SIMNET_CLIENT].conn;
	return cl && mpq_conn_get_error(cl)->set;
}

/* Stop for the next event, a reopen to retry, or the end of the transfer. */
/* Notes the client's paths that became active (validated). */
static void note_validated(struct chaos *c)
{
	const mpq_conn *cl = c->n.end[SIMNET_CLIENT].conn;
	mpq_path_stats st;
	for (unsigned p = 0; p < simnet_paths_opened(&c->n); p++)
		if (!c->validated[p] && mpq_conn_get_path_stats(cl, c->n.path_id[p], &st) == 0 &&
		    st.state == MPQ_PATH_STATE_ACTIVE)
			c->validated[p] = true;
}

static bool until_event(struct simnet *n)
{
	struct chaos *c = n->end[SIMNET_CLIENT].app;
	note_validated(c);
	if (c->bad[0] || all_received(c) || client_closed(n))
		return true;
	if (c->next < c->nev && n->now >= c->ev[c->next].at)
		return true;
	return (c->reopen[0] || c->reopen[1]) && n->now >= c->retry_at;
}

/* A close that says the network failed us, not that a side misbehaved. */
static bool proper_end(const mpq_conn_error *e)
{
	return e->cause == MPQ_CLOSE_IDLE_TIMEOUT || e->cause == MPQ_CLOSE_HANDSHAKE_TIMEOUT ||
	       (!e->app && e->code == MPQ_TE_NO_VIABLE_PATH);
}

#define chaos_check(c, cond, what) \
	do { \
		if (!(cond) && !(c)->fail[0]) \
			snprintf((c)->fail, sizeof((c)->fail), "%s (%s)", what, #cond); \
	} while (0)

static void describe(struct chaos *c)
{
	char state[8192];
	fprintf(stderr, "seed %llu: %u streams, usable throughout: path 0 %s, path 1 %s\n",
		(unsigned long long)c->seed, c->nstreams, c->usable[0] ? "yes" : "no",
		c->usable[1] ? "yes" : "no");
	for (unsigned i = 0; i < c->nstreams; i++)
		fprintf(stderr, "  stream %u: %llu of %llu, fin %d\n", i,
			(unsigned long long)c->received[i], (unsigned long long)c->size[i],
			c->fin[i]);
	for (size_t i = 0; i < c->nev; i++)
		fprintf(stderr, "  %8.3f s %-10s path %u dir %d x %.3f v %llu\n",
			(double)c->ev[i].at / 1e9, ev_name[c->ev[i].type], c->ev[i].path,
			c->ev[i].dir, c->ev[i].x, (unsigned long long)c->ev[i].v);
	fprintf(stderr, "  app: %s\n%s", c->bad[0] ? c->bad : "ok",
		simnet_describe(&c->n, state, sizeof(state)));
}

/* The events, then the rest of the transfer. */
static enum simnet_result run_events(struct chaos *c)
{
	enum simnet_result res = SIMNET_DONE;
	while (res == SIMNET_DONE && !c->bad[0] && !all_received(c) && !client_closed(&c->n)) {
		while (c->next < c->nev && c->n.now >= c->ev[c->next].at)
			apply(c, &c->ev[c->next++]);
		try_reopen(c);
		c->retry_at = c->n.now + 100 * MPQ_MS;
		c->n.wake_at = c->next < c->nev ? c->ev[c->next].at : 0;
		if ((c->reopen[0] || c->reopen[1]) &&
		    (!c->n.wake_at || c->retry_at < c->n.wake_at))
			c->n.wake_at = c->retry_at;
		c->n.cfg.time_limit = (c->next < c->nev ? c->ev[c->next].at : c->events_end) +
				      RUN_LIMIT - c->n.now;
		res = simnet_run(&c->n, until_event);
	}
	return res;
}

/* One seed; |complete|: the downloads must complete whatever the rule says.
 * Returns 0, or -1 with the reason in c->fail. */
static int chaos_run(struct chaos *c, uint64_t seed, bool complete)
{
	memset(c, 0, sizeof(*c));
	c->seed = seed;
	current_seed = seed;
	draw(c);
	c->validated[0] = true; /* by the handshake */
	struct simnet_config cfg = {
		.seed = seed,
		.app = {&app_cb, &app_cb},
		.app_state = {c, c},
		.npaths = NPATHS,
		.path_sched = seed % 2 ? "minrtt" : "rr",
		.trace = getenv("SIMNET_TRACE") ? stdout : NULL,
	};
	for (unsigned p = 0; p < NPATHS; p++) {
		for (int d = 0; d < 2; d++) {
			*simnet_config_link(&cfg, p, d) = c->link[p];
			c->loss[p][d] = c->link[p].loss;
		}
	}
	if (simnet_init(&c->n, &cfg, &tls) != 0) {
		snprintf(c->fail, sizeof(c->fail), "simnet_init");
		return -1;
	}
	for (int i = 0; getenv("CHAOS_LOG") && i < 2; i++) {
		c->n.end[i].settings.log = log_line;
		c->n.end[i].settings.log_user_data = &c->n.end[i];
	}
	c->n.end[SIMNET_CLIENT].tparams.initial_max_data = 16 << 20;
	c->n.end[SIMNET_CLIENT].tparams.initial_max_stream_data_bidi_local = 8 << 20;
	chaos_check(c, simnet_start(&c->n) == 0, "client created");

	enum simnet_result res = run_events(c);
	const mpq_conn *cl = c->n.end[SIMNET_CLIENT].conn;
	chaos_check(c, res == SIMNET_DONE, simnet_result_str(res));
	chaos_check(c, !c->bad[0], "stream data");
	chaos_check(c, !complete || all_received(c), "the downloads completed");
	if (!all_received(c)) {
		chaos_check(c, client_closed(&c->n), "neither done nor closed");
		chaos_check(c, cl && proper_end(mpq_conn_get_error(cl)), "a proper error");
		chaos_check(c, !must_complete(c), "a path stayed usable, yet no transfer");
	}
	if (cl && !mpq_conn_get_error(cl)->set)
		mpq_conn_close(c->n.end[SIMNET_CLIENT].conn, 0, "done", c->n.now);
	c->n.cfg.time_limit = CLOSE_LIMIT;
	res = simnet_run(&c->n, simnet_conns_closed);
	chaos_check(c, res == SIMNET_DONE || res == SIMNET_QUIET, "closed in time");
	chaos_check(c, simnet_conns_closed(&c->n), "both closed");
	if (c->fail[0] || getenv("SIMNET_VERBOSE"))
		describe(c);
	simnet_free(&c->n);
	return c->fail[0] ? -1 : 0;
}

static void seeded(void **state)
{
	static struct chaos c;
	if (chaos_run(&c, (uint64_t)(uintptr_t)*state, false) != 0)
		fail_msg("seed %llu: %s", (unsigned long long)c.seed, c.fail);
}

static void print_crashed_seed(void)
{
	char msg[96];
	int n = snprintf(msg, sizeof(msg),
			 "\nchaos: crashed in seed %llu; replay: SOAK_SEED=%llu\n",
			 (unsigned long long)current_seed, (unsigned long long)current_seed);
	if (write(2, msg, (size_t)n) < 0)
		_exit(3);
}

static void on_crash(int sig)
{
	print_crashed_seed();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ASan's report ends the process without a signal. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/* An environment variable that is set and not empty (make passes empty ones). */
static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* make soak: seeds from SOAK_FIRST (default 1000) until SOAK_SECONDS pass;
 * SOAK_SEED: that one seed. */
static int soak(void)
{
	static struct chaos c;
	const char *one = env("SOAK_SEED"), *from = env("SOAK_FIRST");
	uint64_t first = strtoull(one ? one : from ? from : "1000", NULL, 10);
	double secs = one ? 0 : strtod(env("SOAK_SECONDS"), NULL);
	double t0 = simnet_wall_seconds();
	uint64_t seed = first, runs = 0;
	if (simnet_tls_init(&tls) != 0)
		return 2;
	int rv = 0;
	do {
		if (chaos_run(&c, seed, false) != 0) {
			printf("soak: seed %llu FAILED: %s\nreplay: SOAK_SEED=%llu make soak\n",
			       (unsigned long long)seed, c.fail, (unsigned long long)seed);
			rv = 1;
			break;
		}
		runs++;
		seed++;
	} while (simnet_wall_seconds() - t0 < secs);
	if (!rv)
		printf("soak: %llu seeds (%llu-%llu) passed in %.0f s\n", (unsigned long long)runs,
		       (unsigned long long)first, (unsigned long long)(seed - 1),
		       simnet_wall_seconds() - t0);
	simnet_tls_free(&tls);
	return rv;
}

/* Seeds that found defects, all fixed since. */
static void regression(void **state)
{
	static struct chaos c;
	const uint64_t *r = *state;
	if (chaos_run(&c, r[0], r[1]) != 0)
		fail_msg("seed %llu: %s", (unsigned long long)c.seed, c.fail);
}

/* The server never created (path 0 out from the start): the harness's
 * close check read a NULL connection. */
static const uint64_t seed_9[] = {9, 0};
/* All paths out while the client's handshake was unconfirmed, path 1 gone
 * and path 0 rebound: the client probed with Handshake packets only, which
 * the server, done with its handshake, could not read, and it went on
 * sending to the old port until the idle timeout. */
static const uint64_t seed_29[] = {29, 1};
/* Path 1 gone for good, path 0 cut client to server for 0.92 s: the server
 * declared path 0 failed, counting path 1 as delivering because it had no
 * PTO pending (its ACKs had come over path 0, before the cut), and sent
 * only on the dead path 1 until the idle timeout. */
static const uint64_t seed_6437[] = {6437, 1};
/* Both paths down 0.9 s (1039, a draft of the fix), path 0 gone while the
 * server still validated path 1 (6581, fbe9ba0): a path that delivered just
 * before the outage, and not since, was taken for one that still delivers,
 * and the other path failed. */
static const uint64_t seed_1039[] = {1039, 1};
static const uint64_t seed_6581[] = {6581, 1};
/* A failed path's PATH_ABANDON still waiting to go out (fbe9ba0): its
 * release deadline passed, and the timer stayed due without releasing it. */
static const uint64_t seed_7537[] = {7537, 0};
/* Path 0 rebound, then gone; path 1 (15 % loss) abandoned by the client
 * and opened again as a new path ID, whose validation then failed (the
 * server's answers to all three challenges lost): the rule counted the
 * validation of the path's first opening. The connection may end. */
static const uint64_t seed_3448[] = {3448, 0};

static const struct CMUnitTest regressions[] = {
	{"server_never_created", regression, NULL, NULL, (void *)seed_9},
	{"rebound_before_confirmation", regression, NULL, NULL, (void *)seed_29},
	{"failed_path_with_no_other_delivering", regression, NULL, NULL, (void *)seed_6437},
	{"stale_delivery_all_down", regression, NULL, NULL, (void *)seed_1039},
	{"stale_delivery_path0_gone", regression, NULL, NULL, (void *)seed_6581},
	{"release_waits_for_abandon", regression, NULL, NULL, (void *)seed_7537},
	{"reopened_path_failed_validation", regression, NULL, NULL, (void *)seed_3448},
};

static int group_setup(void **state)
{
	return simnet_tls_init(&tls);
}

static int group_teardown(void **state)
{
	simnet_tls_free(&tls);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGSEGV, on_crash);
	signal(SIGABRT, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGFPE, on_crash);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(print_crashed_seed);
	if (env("SOAK_SEED") || env("SOAK_SECONDS"))
		return soak();
	return simnet_test_main(argc, argv, "sim_chaos", regressions,
				sizeof(regressions) / sizeof(regressions[0]), seeded, NSEEDS, 2,
				group_setup, group_teardown);
}
