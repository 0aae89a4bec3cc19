/*
 * Path ID limits over the simulated network (tests/common/simnet.h): three
 * paths of 20 ms one way each, both ends offering initial_max_path_id 2 unless
 * said otherwise. Path IDs are never reused, so a client that keeps replacing
 * its paths needs the peer to raise the limit (MAX_PATH_ID).
 *
 *   ids_beyond_the_initial_limit   the client opens paths 1 and 2, abandons
 *       them, and once both ends released them opens 3 and 4 on the same
 *       addresses, then 5 and 6, then 7: each end raised its limit as IDs
 *       closed; after 7 (the table's last, MPQ_MAX_PATHS - 1) nothing more
 *   paths_blocked_gets_max_path_id the client abandons 1 and 2 and wants
 *       another path at once: it sends PATHS_BLOCKED, and the server raises
 *       its limit while the closed paths are still in their 3 PTO
 *   max_path_id_raises_our_limit   the client offers 7, the server 2: the
 *       server's MAX_PATH_ID alone lifts what the client may open, and the
 *       client then issues CIDs for the new IDs
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
	return server(n) && id < client(n)->npaths && id < server(n)->npaths &&
	       client(n)->paths[id].state == state && server(n)->paths[id].state == state;
}

static bool first_two_active(struct simnet *n)
{
	return simnet_paths_opened(n) == 3 && both(n, 1, MPQ_PATH_ACTIVE) &&
	       both(n, 2, MPQ_PATH_ACTIVE);
}

static void begin(struct simnet *n, uint32_t client_max, uint32_t server_max)
{
	struct simnet_config cfg = {
		.seed = 11,
		.npaths = 3,
		.time_limit = 20 * MPQ_SEC,
		.trace = getenv("SIMNET_TRACE") ? stdout : NULL,
	};
	for (unsigned k = 0; k < 3; k++)
		for (int i = 0; i < 2; i++)
			*simnet_config_link(&cfg, k, i) =
				(struct simnet_link){.delay = 20 * MPQ_MS};
	assert_int_equal(simnet_init(n, &cfg, &tls), 0);
	n->end[SIMNET_CLIENT].settings.max_path_id = client_max;
	n->end[SIMNET_SERVER].settings.max_path_id = server_max;
	assert_int_equal(simnet_start(n), 0);
	assert_int_equal(simnet_run(n, first_two_active), SIMNET_DONE);
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
		if (!client(n)->paths[watched[i]].released ||
		    !server(n)->paths[watched[i]].released)
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
	} rounds[] = {{3, 2}, {5, 2}, {7, 1}};
	for (size_t r = 0; r < sizeof(rounds) / sizeof(rounds[0]); r++) {
		abandon_watched(&n);
		assert_int_equal(simnet_run(&n, watched_released), SIMNET_DONE);
		open_watched(&n, rounds[r].first, rounds[r].count);
	}
	/* 7 paths opened where 2 were allowed at first; the table ends at 7. */
	assert_int_equal(client(&n)->local_max_path_id, MPQ_MAX_PATHS - 1);
	assert_int_equal(server(&n)->local_max_path_id, MPQ_MAX_PATHS - 1);
	abandon_watched(&n);
	assert_int_equal(simnet_run(&n, watched_released), SIMNET_DONE);
	open_on = 1;
	assert_false(try_open(&n));
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
	assert_false(server(&n)->paths[1].released);
	assert_false(server(&n)->paths[2].released);
	assert_int_equal(server(&n)->local_max_path_id, 4);
	assert_int_equal(simnet_run(&n, try_open), SIMNET_DONE);
	assert_int_equal(open_rv, 0);
	assert_int_equal(opened_id, 3);
	assert_false(client(&n)->paths[1].released);
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
	assert_int_equal(client(&n)->local_cids[3].n, 0);
	watched[0] = 1, watched[1] = 2, nwatched = 2;
	abandon_watched(&n);
	assert_int_equal(simnet_run(&n, client_may_open_4), SIMNET_DONE);
	assert_int_equal(client(&n)->peer_max_path_id, 4);
	assert_int_equal(client(&n)->local_max_path_id, 7); /* ours did not need to move */
	open_watched(&n, 3, 2);
	/* The client issued CIDs for the new IDs, and the server holds them. */
	assert_true(server(&n)->peer_cids[3].n > 0 && server(&n)->peer_cids[4].n > 0);
	end(&n);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_beyond_the_initial_limit),
		cmocka_unit_test(paths_blocked_gets_max_path_id),
		cmocka_unit_test(max_path_id_raises_our_limit),
	};
	if (simnet_tls_init(&tls) != 0)
		return 1;
	int rv = cmocka_run_group_tests_name("sim_path_ids", tests, NULL, NULL);
	simnet_tls_free(&tls);
	return rv;
}
