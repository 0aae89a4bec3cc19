/*
 * Path ID limits over the simulated network (tests/common/simnet.h): three
 * paths of 20 ms one way each, both ends offering initial_max_path_id 2 unless
 * said otherwise. Path IDs are never reused, so a client that keeps replacing
 * its paths needs the peer to raise the limit (MAX_PATH_ID).
 *
 *   ids_beyond_the_initial_limit   the client opens paths 1 and 2, abandons
 *       them, and once both ends released them opens 3 and 4 on the same
 *       addresses, then 5 and 6, then 7: each end raised its limit as IDs
 *       closed, then 8 and 9: past MPQ_MAX_PATHS - 1, in slots the
 *       released paths gave back
 *   paths_blocked_gets_max_path_id the client abandons 1 and 2 and wants
 *       another path at once: it sends PATHS_BLOCKED, and the server raises
 *       its limit while the closed paths are still in their 3 PTO
 *   max_path_id_raises_our_limit   the client offers 7, the server 2: the
 *       server's MAX_PATH_ID alone lifts what the client may open, and the
 *       client then issues CIDs for the new IDs
 *   replaces_a_path_20_times       during one download, the client abandons
 *       its last path and opens another on the same addresses 20 times:
 *       path IDs up to 22 with at most 3 paths open, the server raising its
 *       limit each time; the download arrives byte-exact
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "quic/conn.h"
#include "simnet.h"

static struct simnet_tls tls;

static mpq_conn *client(struct simnet *n)
{
	return n->end[SIMNET_CLIENT].conn;
}

static mpq_conn *server(struct simnet *n)
{
	return n->end[SIMNET_SERVER].conn;
}

/* Path ID |id| is |state| at both ends. */
static bool both(struct simnet *n, uint32_t id, int state)
{
	if (!server(n))
		return false;
	const mpq_conn_path *c = mpq_conn_path_by_id(client(n), id);
	const mpq_conn_path *s = mpq_conn_path_by_id(server(n), id);
	return c && s && c->state == state && s->state == state;
}

/* Path ID |id|'s state is released at |conn| (its slot may be another's now). */
static bool released(mpq_conn *conn, uint32_t id)
{
	const mpq_conn_path *p = mpq_conn_path_by_id(conn, id);
	return !p || p->released;
}

static bool first_two_active(struct simnet *n)
{
	return simnet_paths_opened(n) == 3 && both(n, 1, MPQ_PATH_ACTIVE) &&
	       both(n, 2, MPQ_PATH_ACTIVE);
}

/* |app|: callbacks at both ends (NULL: none); |rate|: bytes/s a link, 0: any. */
static void begin_with(struct simnet *n, uint32_t client_max, uint32_t server_max,
		       const mpq_callbacks *app, uint64_t rate)
{
	struct simnet_config cfg = {
		.seed = 11,
		.npaths = 3,
		.app = {app, app},
		.time_limit = 60 * MPQ_SEC,
		.trace = getenv("SIMNET_TRACE") ? stdout : NULL,
	};
	for (unsigned k = 0; k < 3; k++)
		for (int i = 0; i < 2; i++)
			*simnet_config_link(&cfg, k, i) =
				(struct simnet_link){.delay = 20 * MPQ_MS,
						     .rate = rate,
						     .queue_bytes = rate / 10};
	assert_int_equal(simnet_init(n, &cfg, &tls), 0);
	n->end[SIMNET_CLIENT].settings.max_path_id = client_max;
	n->end[SIMNET_SERVER].settings.max_path_id = server_max;
	assert_int_equal(simnet_start(n), 0);
	assert_int_equal(simnet_run(n, first_two_active), SIMNET_DONE);
}

static void begin(struct simnet *n, uint32_t client_max, uint32_t server_max)
{
	begin_with(n, client_max, server_max, NULL, 0);
}

static void end(struct simnet *n)
{
	for (int s = 0; s < 2; s++) {
		assert_int_equal(n->end[s].read_err, 0);
		assert_int_equal(n->end[s].expiry_err, 0);
		assert_int_equal(n->end[s].write_err, 0);
	}
	assert_false(mpq_conn_get_error(client(n))->set);
	simnet_free(n);
}

/* simnet_run conditions take no argument: what they look at. */
static uint32_t watched[2];
static size_t nwatched;
static unsigned open_on; /* the simnet path whose addresses a new path takes */
static uint32_t opened_id;
static int open_rv;

static bool watched_released(struct simnet *n)
{
	for (size_t i = 0; i < nwatched; i++)
		if (!released(client(n), watched[i]) || !released(server(n), watched[i]))
			return false;
	return true;
}

/* Opens a path on simnet path |open_on|'s addresses; true once it took an ID
 * (or failed otherwise than "not yet"). */
static bool try_open(struct simnet *n)
{
	mpq_path t;
	memset(&t, 0, sizeof(t));
	simnet_path_addr(&t.local, SIMNET_CLIENT, open_on);
	simnet_path_addr(&t.remote, SIMNET_SERVER, open_on);
	open_rv = mpq_conn_open_path(client(n), &t, &opened_id);
	return open_rv != MPQ_ERR_NOT_FOUND;
}

static bool watched_active(struct simnet *n)
{
	for (size_t i = 0; i < nwatched; i++)
		if (!both(n, watched[i], MPQ_PATH_ACTIVE))
			return false;
	return true;
}

static void abandon_watched(struct simnet *n)
{
	for (size_t i = 0; i < nwatched; i++)
		assert_int_equal(mpq_conn_abandon_path(client(n), watched[i], 0), 0);
}

static void open_watched(struct simnet *n, uint32_t first, size_t count)
{
	nwatched = 0;
	for (size_t i = 0; i < count; i++) {
		open_on = 1 + (unsigned)i;
		assert_int_equal(simnet_run(n, try_open), SIMNET_DONE);
		assert_int_equal(open_rv, 0);
		assert_int_equal(opened_id, first + i);
		watched[nwatched++] = opened_id;
	}
	assert_int_equal(simnet_run(n, watched_active), SIMNET_DONE);
}

static void ids_beyond_the_initial_limit(void **state)
{
	(void)state;
	struct simnet n;
	begin(&n, 2, 2);
	assert_int_equal(mpq_conn_max_path_id(client(&n)), 2);
	watched[0] = 1, watched[1] = 2, nwatched = 2;
	static const struct {
		uint32_t first;
		size_t count;
	} rounds[] = {{3, 2}, {5, 2}, {7, 2}};
	for (size_t r = 0; r < sizeof(rounds) / sizeof(rounds[0]); r++) {
		abandon_watched(&n);
		assert_int_equal(simnet_run(&n, watched_released), SIMNET_DONE);
		open_watched(&n, rounds[r].first, rounds[r].count);
	}
	/* 8 paths opened where 2 were allowed at first: IDs past the slots. */
	assert_true(mpq_conn_max_path_id(client(&n)) >= 8);
	assert_true(server(&n)->local_max_path_id >= 8);
	assert_null(mpq_conn_path_by_id(client(&n), 1));
	end(&n);
}

static bool server_raised(struct simnet *n)
{
	return server(n)->local_max_path_id > 2;
}

static void paths_blocked_gets_max_path_id(void **state)
{
	(void)state;
	struct simnet n;
	begin(&n, 2, 2);
	watched[0] = 1, watched[1] = 2, nwatched = 2;
	abandon_watched(&n);
	open_on = 1;
	assert_false(try_open(&n)); /* no ID left: PATHS_BLOCKED goes out */
	assert_int_equal(client(&n)->paths_blocked_at, 3);
	assert_int_equal(simnet_run(&n, server_raised), SIMNET_DONE);
	/* Raised on the PATHS_BLOCKED, not on a release: none yet. */
	assert_false(released(server(&n), 1));
	assert_false(released(server(&n), 2));
	assert_int_equal(server(&n)->local_max_path_id, 4);
	assert_int_equal(simnet_run(&n, try_open), SIMNET_DONE);
	assert_int_equal(open_rv, 0);
	assert_int_equal(opened_id, 3);
	assert_false(released(client(&n), 1));
	watched[0] = 3, nwatched = 1;
	assert_int_equal(simnet_run(&n, watched_active), SIMNET_DONE);
	end(&n);
}

static bool client_may_open_4(struct simnet *n)
{
	return mpq_conn_max_path_id(client(n)) == 4;
}

static void max_path_id_raises_our_limit(void **state)
{
	(void)state;
	struct simnet n;
	begin(&n, 7, 2);
	assert_int_equal(client(&n)->local_max_path_id, 7);
	assert_int_equal(mpq_conn_max_path_id(client(&n)), 2);
	assert_null(mpq_conn_path_by_id(client(&n), 3)); /* no CIDs for 3 yet */
	watched[0] = 1, watched[1] = 2, nwatched = 2;
	abandon_watched(&n);
	assert_int_equal(simnet_run(&n, client_may_open_4), SIMNET_DONE);
	assert_int_equal(client(&n)->peer_max_path_id, 4);
	/* Ours moved only by the IDs the client released itself. */
	assert_int_equal(client(&n)->local_max_path_id, 7 + client(&n)->pathids_released);
	open_watched(&n, 3, 2);
	/* The client issued CIDs for the new IDs, and the server holds them. */
	int s3 = mpq_conn_slot_find(server(&n), 3), s4 = mpq_conn_slot_find(server(&n), 4);
	assert_true(s3 >= 0 && s4 >= 0);
	assert_true(server(&n)->peer_cids[s3]->n > 0 && server(&n)->peer_cids[s4]->n > 0);
	end(&n);
}

/* The download of replaces_a_path_20_times: the server sends DL_SIZE bytes of
 * simnet_pattern(DL_SALT, ...) on the client's request stream. */
#define DL_SIZE (16ULL << 20) /* 13 MB arrive during the 20 replacements */
#define DL_SALT 5
static struct download {
	int64_t sid; /* the server's view of the request stream */
	bool request_seen, fin_written, fin;
	uint64_t written, received;
	char bad[200];
} dl;

#define dl_bad(...) simnet_note_first(dl.bad, sizeof(dl.bad), __VA_ARGS__)

static void dl_pump(mpq_conn *c)
{
	if (dl.request_seen &&
	    simnet_write_pattern(c, dl.sid, DL_SALT, DL_SIZE, &dl.written, &dl.fin_written) != 0)
		dl_bad("server: stream write failed");
}

static int dl_handshake(mpq_conn *c, void *ud)
{
	static const uint8_t req[] = "GET\r\n";
	int64_t id;
	if (((struct simnet_end *)ud)->side != SIMNET_CLIENT)
		return 0;
	if (mpq_conn_open_stream(c, true, &id) != 0 ||
	    mpq_conn_stream_write(c, id, req, sizeof(req) - 1, true) != (int64_t)sizeof(req) - 1)
		dl_bad("client: request not sent");
	return 0;
}

static int dl_open(mpq_conn *c, int64_t id, void *ud)
{
	dl.sid = id;
	return 0;
}

static int dl_data(mpq_conn *c, int64_t id, uint64_t off, const uint8_t *d, size_t len, bool fin,
		   void *ud)
{
	if (((struct simnet_end *)ud)->side == SIMNET_SERVER) {
		dl.request_seen |= fin;
		dl_pump(c);
		return 0;
	}
	if (off != dl.received || off + len > DL_SIZE || (fin && off + len != DL_SIZE))
		dl_bad("client: %zu bytes at %llu, expected %llu", len, (unsigned long long)off,
		       (unsigned long long)dl.received);
	for (size_t i = 0; i < len && !dl.bad[0]; i++)
		if (d[i] != simnet_pattern(DL_SALT, off + i))
			dl_bad("client: byte %llu differs", (unsigned long long)(off + i));
	dl.received += dl.bad[0] ? 0 : len;
	dl.fin |= fin && !dl.bad[0];
	return 0;
}

static int dl_writable(mpq_conn *c, int64_t id, void *ud)
{
	if (((struct simnet_end *)ud)->side == SIMNET_SERVER)
		dl_pump(c);
	return 0;
}

static bool downloaded(struct simnet *n)
{
	return dl.fin || dl.bad[0];
}

static void replaces_a_path_20_times(void **state)
{
	(void)state;
	static const mpq_callbacks cb = {
		.struct_version = MPQ_CALLBACKS_VERSION,
		.handshake_completed = dl_handshake,
		.stream_open = dl_open,
		.stream_data = dl_data,
		.stream_writable = dl_writable,
	};
	struct simnet n;
	memset(&dl, 0, sizeof(dl));
	begin_with(&n, 2, 2, &cb, 250000);
	uint32_t last = 2;
	for (int r = 0; r < 20; r++) {
		watched[0] = last, nwatched = 1;
		abandon_watched(&n);
		assert_int_equal(simnet_run(&n, watched_released), SIMNET_DONE);
		open_watched(&n, last + 1, 1);
		last = watched[0];
		assert_false(downloaded(&n)); /* replaced during the transfer */
	}
	assert_int_equal(last, 22);
	assert_true(server(&n)->local_max_path_id >= 22);
	assert_int_equal(simnet_run(&n, downloaded), SIMNET_DONE);
	assert_string_equal(dl.bad, "");
	assert_int_equal(dl.received, DL_SIZE);
	end(&n);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_beyond_the_initial_limit),
		cmocka_unit_test(paths_blocked_gets_max_path_id),
		cmocka_unit_test(max_path_id_raises_our_limit),
		cmocka_unit_test(replaces_a_path_20_times),
	};
	if (simnet_tls_init(&tls) != 0)
		return 1;
	int rv = cmocka_run_group_tests_name("sim_path_ids", tests, NULL, NULL);
	simnet_tls_free(&tls);
	return rv;
}
