/*
 * The path event callbacks (mpq_callbacks.path_validated, path_status_changed,
 * path_failed, path_abandoned) over the simulated network (tests/common/simnet.h),
 * 10 ms one way on every path. Each side writes its events, in order, into a
 * line of its own ("validated 1, backup 1 local, ..."), and each case compares
 * both lines whole, so a missing, extra, repeated or reordered event fails:
 *
 *   validated_in_order     3 paths: both ends report paths 1 and 2 validated
 *   status_backup_and_back the client makes path 1 backup, the server makes it
 *                          available again: each end reports both changes, its
 *                          own as local and the other's as peer
 *   abandoned_by_client, abandoned_by_server
 *                          one end abandons path 1 with an error code: it
 *                          reports it as local, the other as peer with the
 *                          same code, once (the answering PATH_ABANDON adds
 *                          nothing)
 *   validation_failed      path 1 is dead from the start: the client reports
 *                          it failed validation, then abandoned by itself with
 *                          PATH_UNSTABLE_OR_POOR; the server never saw it
 *   failed_idle            path 1 dies while the server sends on both (rr,
 *                          10 Mbit/s links): an end reports it failed (idle)
 *                          and abandoned by itself; the other the same, or
 *                          abandoned by the peer
 *   last_path_abandoned    the client abandons path 1, then path 0: both ends
 *                          close with NO_VIABLE_PATH within 8 PTO
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simnet.h"

#define PATH_UNSTABLE 0x3e76ULL
#define RUN_LIMIT (30 * MPQ_SEC)

static struct simnet_tls tls;

/* One side's events as text, and the download of failed_idle. */
struct events {
	char line[1024];
	int64_t stream;	  /* server: the client's stream it sends on */
	uint64_t written; /* server: bytes written to it */
	bool fin_written;
};

#define DOWNLOAD_SIZE (1ULL << 30) /* more than any case lets through */

__attribute__((format(printf, 2, 3))) static void add(struct simnet_end *e, const char *fmt, ...)
{
	struct events *ev = e->app;
	size_t off = strlen(ev->line);
	va_list ap;
	if (off)
		off += (size_t)snprintf(ev->line + off, sizeof(ev->line) - off, ", ");
	va_start(ap, fmt);
	vsnprintf(ev->line + off, sizeof(ev->line) - off, fmt, ap);
	va_end(ap);
}

static void on_validated(mpq_conn *c, uint32_t id, const mpq_path *tuple, void *ud)
{
	struct simnet_end *e = ud;
	mpq_addr want;
	/* The tuple is the path's: our own address on it is the one simnet gave. */
	simnet_path_addr(&want, e->side, id);
	bool same = tuple->local.len == want.len && !memcmp(&tuple->local.ss, &want.ss, want.len);
	add(e, "validated %u%s", id, same ? "" : " (wrong local address)");
}

static void on_status(mpq_conn *c, uint32_t id, bool backup, bool remote, void *ud)
{
	add(ud, "%s %u %s", backup ? "backup" : "available", id, remote ? "peer" : "local");
}

static void on_failed(mpq_conn *c, uint32_t id, int reason, void *ud)
{
	add(ud, "failed %u %s", id,
	    reason == MPQ_PATH_FAIL_VALIDATION ? "validation"
	    : reason == MPQ_PATH_FAIL_IDLE     ? "idle"
					       : "?");
}

static void on_abandoned(mpq_conn *c, uint32_t id, uint64_t error, bool remote, void *ud)
{
	add(ud, "abandoned %u 0x%llx %s", id, (unsigned long long)error,
	    remote ? "peer" : "local");
}

static void pump(struct events *ev, mpq_conn *c)
{
	if (ev->stream >= 0)
		assert_int_equal(simnet_write_pattern(c, ev->stream, 1, DOWNLOAD_SIZE,
						      &ev->written, &ev->fin_written),
				 0);
}

static int dl_handshake(mpq_conn *c, void *ud)
{
	struct simnet_end *e = ud;
	static const uint8_t req[] = "GET /1GiB\r\n";
	int64_t id;
	if (e->side == SIMNET_CLIENT) {
		assert_int_equal(mpq_conn_open_stream(c, true, &id), 0);
		assert_int_equal(mpq_conn_stream_write(c, id, req, sizeof(req) - 1, true),
				 (int64_t)sizeof(req) - 1);
	}
	return 0;
}

static int dl_open(mpq_conn *c, int64_t id, void *ud)
{
	struct simnet_end *e = ud;
	struct events *ev = e->app;
	ev->stream = id;
	pump(ev, c);
	return 0;
}

static int dl_writable(mpq_conn *c, int64_t id, void *ud)
{
	struct simnet_end *e = ud;
	pump(e->app, c);
	return 0;
}

static const mpq_callbacks path_cb = {
	.struct_version = MPQ_CALLBACKS_VERSION,
	.path_validated = on_validated,
	.path_status_changed = on_status,
	.path_failed = on_failed,
	.path_abandoned = on_abandoned,
};

struct run {
	struct simnet n;
	struct events ev[2];
	const char *want[2]; /* simnet_run stops once both lines contain these */
	uint64_t until;	     /* ... and simulated time reached this */
};

static struct run *current;

/* |download|: the server sends DOWNLOAD_SIZE bytes over every path (rr) at
 * 10 Mbit/s a link. */
static void start(struct run *r, unsigned npaths, unsigned dead_path, bool download)
{
	mpq_callbacks cb = path_cb; /* simnet_init copies it */
	if (download) {
		cb.handshake_completed = dl_handshake;
		cb.stream_open = dl_open;
		cb.stream_writable = dl_writable;
	}
	memset(r, 0, sizeof(*r));
	current = r;
	r->ev[SIMNET_CLIENT].stream = r->ev[SIMNET_SERVER].stream = -1;
	struct simnet_config cfg = {
		.seed = 7,
		.app = {&cb, &cb},
		.path_sched = download ? "rr" : NULL,
		.app_state = {&r->ev[SIMNET_CLIENT], &r->ev[SIMNET_SERVER]},
		.npaths = npaths,
		.time_limit = RUN_LIMIT,
		.trace = getenv("SIMNET_TRACE") ? stdout : NULL,
	};
	for (unsigned k = 0; k < npaths; k++)
		for (int i = 0; i < 2; i++)
			*simnet_config_link(&cfg, k, i) =
				(struct simnet_link){.delay = 10 * MPQ_MS,
						     .rate = download ? 1250000 : 0};
	if (dead_path)
		cfg.kill_at[dead_path] = 1; /* from the start */
	assert_int_equal(simnet_init(&r->n, &cfg, &tls), 0);
	r->n.cfg.app[0] = r->n.cfg.app[1] = NULL; /* |cb| was copied; it goes out of scope */
	assert_int_equal(simnet_start(&r->n), 0);
}

static bool reached(struct simnet *n)
{
	struct run *r = current;
	for (int s = 0; s < 2; s++)
		if (r->want[s] && !strstr(r->ev[s].line, r->want[s]))
			return false;
	return n->now >= r->until;
}

/* Runs until both lines contain |client| and |server| (NULL: anything), then
 * |settle| more simulated time, for anything that should not come. */
static void run_until(struct run *r, const char *client, const char *server, uint64_t settle)
{
	r->want[SIMNET_CLIENT] = client;
	r->want[SIMNET_SERVER] = server;
	r->until = 0;
	enum simnet_result res = simnet_run(&r->n, reached);
	if (res != SIMNET_DONE)
		fail_msg("%s; client: \"%s\"; server: \"%s\"", simnet_result_str(res),
			 r->ev[SIMNET_CLIENT].line, r->ev[SIMNET_SERVER].line);
	r->want[0] = r->want[1] = NULL;
	r->until = r->n.now + settle;
	simnet_run(&r->n, reached);
}

static mpq_conn *conn_of(struct run *r, int side)
{
	return r->n.end[side].conn;
}

static void validated_in_order(void **state)
{
	(void)state;
	struct run r;
	start(&r, 3, 0, false);
	run_until(&r, "validated 2", "validated 2", MPQ_SEC);
	assert_string_equal(r.ev[SIMNET_CLIENT].line, "validated 1, validated 2");
	assert_string_equal(r.ev[SIMNET_SERVER].line, "validated 1, validated 2");
	simnet_free(&r.n);
}

static void status_backup_and_back(void **state)
{
	(void)state;
	struct run r;
	start(&r, 2, 0, false);
	run_until(&r, "validated 1", "validated 1", 0);
	assert_int_equal(mpq_conn_set_path_status(conn_of(&r, SIMNET_CLIENT), 1, true), 0);
	/* Setting what it already is changes nothing. */
	assert_int_equal(mpq_conn_set_path_status(conn_of(&r, SIMNET_CLIENT), 1, true), 0);
	run_until(&r, NULL, "backup 1 peer", 0);
	assert_int_equal(mpq_conn_set_path_status(conn_of(&r, SIMNET_SERVER), 1, false), 0);
	run_until(&r, "available 1 peer", NULL, MPQ_SEC);
	assert_string_equal(r.ev[SIMNET_CLIENT].line,
			    "validated 1, backup 1 local, available 1 peer");
	assert_string_equal(r.ev[SIMNET_SERVER].line,
			    "validated 1, backup 1 peer, available 1 local");
	simnet_free(&r.n);
}

static void abandoned_by(int side, uint64_t code)
{
	struct run r;
	char local[128], peer[128];
	start(&r, 2, 0, false);
	run_until(&r, "validated 1", "validated 1", 0);
	assert_int_equal(mpq_conn_abandon_path(conn_of(&r, side), 1, code), 0);
	snprintf(local, sizeof(local), "validated 1, abandoned 1 0x%llx local",
		 (unsigned long long)code);
	snprintf(peer, sizeof(peer), "validated 1, abandoned 1 0x%llx peer",
		 (unsigned long long)code);
	assert_string_equal(r.ev[side].line, local);
	run_until(&r, side == SIMNET_CLIENT ? NULL : "abandoned",
		  side == SIMNET_SERVER ? NULL : "abandoned", 2 * MPQ_SEC);
	assert_string_equal(r.ev[side].line, local);
	assert_string_equal(r.ev[!side].line, peer);
	mpq_path_stats st;
	assert_int_equal(mpq_conn_get_path_stats(conn_of(&r, !side), 1, &st), 0);
	assert_int_equal(st.state, MPQ_PATH_STATE_ABANDONED);
	simnet_free(&r.n);
}

static void abandoned_by_client(void **state)
{
	(void)state;
	abandoned_by(SIMNET_CLIENT, 0x42);
}

static void abandoned_by_server(void **state)
{
	(void)state;
	abandoned_by(SIMNET_SERVER, 0x43);
}

static void validation_failed(void **state)
{
	(void)state;
	struct run r;
	char want[128];
	start(&r, 2, 1, false);
	run_until(&r, "abandoned", NULL, MPQ_SEC);
	snprintf(want, sizeof(want), "failed 1 validation, abandoned 1 0x%llx local",
		 PATH_UNSTABLE);
	assert_string_equal(r.ev[SIMNET_CLIENT].line, want);
	assert_string_equal(r.ev[SIMNET_SERVER].line, "");
	simnet_free(&r.n);
}

/* The server sent 200 kB on path 1. */
static bool sent_200k(struct simnet *n)
{
	mpq_path_stats st;
	return mpq_conn_get_path_stats(n->end[SIMNET_SERVER].conn, 1, &st) == 0 &&
	       st.bytes_sent >= 200000;
}

static void failed_idle(void **state)
{
	(void)state;
	struct run r;
	char by_peer[128], by_us[128];
	start(&r, 2, 0, true);
	run_until(&r, "validated 1", "validated 1", 0);
	assert_int_equal(simnet_run(&r.n, sent_200k), SIMNET_DONE);
	simnet_kill_path(&r.n, 1, r.n.now);
	run_until(&r, "abandoned 1", "abandoned 1", MPQ_SEC);
	snprintf(by_peer, sizeof(by_peer), "validated 1, abandoned 1 0x%llx peer", PATH_UNSTABLE);
	snprintf(by_us, sizeof(by_us), "validated 1, failed 1 idle, abandoned 1 0x%llx local",
		 PATH_UNSTABLE);
	/* Each end abandons it once: because it failed there, or because the
	 * other end said so first; at least one end found the failure. */
	for (int side = 0; side < 2; side++)
		if (strcmp(r.ev[side].line, by_peer) != 0)
			assert_string_equal(r.ev[side].line, by_us);
	assert_true(!strcmp(r.ev[SIMNET_CLIENT].line, by_us) ||
		    !strcmp(r.ev[SIMNET_SERVER].line, by_us));
	print_message("client: %s\nserver: %s\n", r.ev[SIMNET_CLIENT].line,
		      r.ev[SIMNET_SERVER].line);
	simnet_free(&r.n);
}

/* Both ends have closed or learnt of a close. */
static bool both_erred(struct simnet *n)
{
	return mpq_conn_get_error(n->end[SIMNET_CLIENT].conn)->set &&
	       mpq_conn_get_error(n->end[SIMNET_SERVER].conn)->set;
}

/* The largest PTO an end's paths may back off from: srtt + 4 rttvar +
 * max_ack_delay (25 ms), from its srtt and rttvar (path 0's), with the
 * largest srtt of its paths. */
static uint64_t pto_of(mpq_conn *c)
{
	mpq_conn_stats st;
	mpq_path_stats ps;
	mpq_conn_get_stats(c, &st);
	uint64_t srtt = st.srtt;
	for (size_t i = 0; mpq_conn_get_path_stats(c, i, &ps) == 0; i++)
		if (ps.srtt > srtt)
			srtt = ps.srtt;
	return srtt + 4 * st.rttvar + 25 * MPQ_MS;
}

/* Both ends close with NO_VIABLE_PATH (transport, not application), each
 * within |bound| of |since|, long before the 60 s idle timeout. */
static void closed_no_viable_path(struct run *r, uint64_t since, uint64_t bound)
{
	assert_true(bound < 30 * MPQ_SEC);
	assert_int_equal(simnet_run(&r->n, both_erred), SIMNET_DONE);
	print_message("closed %.3f s after the last path went (bound %.3f s)\n",
		      (double)(r->n.now - since) / MPQ_SEC, (double)bound / MPQ_SEC);
	assert_true(r->n.now - since <= bound);
	for (int side = 0; side < 2; side++) {
		const mpq_conn_error *e = mpq_conn_get_error(conn_of(r, side));
		assert_false(e->app);
		assert_int_equal(e->code, MPQ_TE_NO_VIABLE_PATH);
	}
	assert_int_equal(simnet_run(&r->n, simnet_conns_closed), SIMNET_DONE);
}

/* The client abandons path 1, then its last path, 0: both ends have no path
 * left, and close after the 3 PTO the draft lets them wait for a new one. */
static void last_path_abandoned(void **state)
{
	(void)state;
	struct run r;
	start(&r, 2, 0, false);
	run_until(&r, "validated 1", "validated 1", 0);
	mpq_conn *c = conn_of(&r, SIMNET_CLIENT);
	assert_int_equal(mpq_conn_abandon_path(c, 1, 0x42), 0);
	run_until(&r, NULL, "abandoned 1", 0);
	assert_false(both_erred(&r.n));
	uint64_t pto = pto_of(c);
	uint64_t t0 = r.n.now;
	assert_int_equal(mpq_conn_abandon_path(c, 0, 0x42), 0);
	closed_no_viable_path(&r, t0, 8 * pto);
	simnet_free(&r.n);
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
	return 0;
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(validated_in_order),  cmocka_unit_test(status_backup_and_back),
		cmocka_unit_test(abandoned_by_client), cmocka_unit_test(abandoned_by_server),
		cmocka_unit_test(validation_failed),   cmocka_unit_test(failed_idle),
		cmocka_unit_test(last_path_abandoned),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
