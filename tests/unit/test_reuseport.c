/*
 * lib/io/reuseport: an SO_REUSEPORT group of udp objects on 127.0.0.1 with
 * the sk_reuseport program steering by the worker ID of our CIDs. Loading
 * the program needs root (CAP_BPF): without it those tests skip with a
 * message. The SO_REUSEPORT option of the udp backend is tested unprivileged.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpq/io/netaddr.h"
#include "mpq/io/reuseport.h"
#include "mpq/io/udp.h"

#define WORKERS 2

static void config(mpq_pathio_config *cfg)
{
	mpq_pathio_config_default(cfg);
	assert_int_equal(mpq_addr_parse(&cfg->local, "127.0.0.1:0"), 0);
}

/* Without reuseport a second bind fails; with it on both sockets it works. */
static void udp_reuseport_option(void **state)
{
	mpq_pathio_config cfg;
	mpq_pathio *a, *b;
	mpq_oserr err;

	config(&cfg);
	cfg.reuseport = true;
	assert_int_equal(mpq_pathio_udp.open(&a, &cfg, NULL), 0);
	cfg.local = a->local;
	assert_int_equal(mpq_pathio_udp.open(&b, &cfg, NULL), 0);
	assert_true(mpq_addr_equal(&a->local, &b->local));
	mpq_pathio_close(b);
	cfg.reuseport = false;
	assert_int_equal(mpq_pathio_udp.open(&b, &cfg, &err), MPQ_ERR_INTERNAL);
	assert_int_equal(err.errnum, EADDRINUSE);
	mpq_pathio_close(a);
}

static void bad_arguments(void **state)
{
	mpq_pathio_config cfg;
	mpq_reuseport *g = (mpq_reuseport *)&cfg;

	config(&cfg);
	assert_int_equal(mpq_reuseport_open(&g, &cfg, 0, NULL), MPQ_ERR_INVALID_ARGUMENT);
	assert_null(g);
	assert_int_equal(mpq_reuseport_open(&g, &cfg, MPQ_REUSEPORT_MAX_WORKERS + 1, NULL),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_null(mpq_reuseport_counter_name(MPQ_REUSEPORT_CNT__MAX));
	assert_string_equal(mpq_reuseport_counter_name(MPQ_REUSEPORT_CNT_SHORT_HIT), "short_hit");
	mpq_reuseport_close(NULL);
}

struct env {
	mpq_reuseport *g;
	mpq_pathio *client;
};

static int setup(void **state)
{
	static struct env env;
	mpq_pathio_config cfg;
	mpq_oserr err;
	int rv;

	memset(&env, 0, sizeof(env));
	*state = &env;
	if (geteuid() != 0)
		return 0;
	config(&cfg);
	rv = mpq_reuseport_open(&env.g, &cfg, WORKERS, &err);
	if (rv < 0) {
		print_message("mpq_reuseport_open: %s: %s\n", err.call ? err.call : "?",
			      strerror(err.errnum));
		return -1;
	}
	assert_int_equal(mpq_pathio_udp.open(&env.client, &cfg, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	struct env *env = *state;

	mpq_pathio_close(env->client);
	mpq_reuseport_close(env->g);
	env->client = NULL;
	env->g = NULL;
	return 0;
}

static struct env *need_root(void **state)
{
	struct env *env = *state;

	if (!env->g) {
		print_message("skipped: needs root (CAP_BPF) to load the program\n");
		skip();
	}
	return env;
}

static void send_to(struct env *env, const uint8_t *buf, size_t len)
{
	mpq_dgram d = {.data = (uint8_t *)buf,
		       .len = len,
		       .remote = mpq_reuseport_io(env->g, 0)->local};

	assert_int_equal(mpq_pathio_send(env->client, &d, 1), 1);
}

/* The worker whose socket has the one datagram of |len| bytes waiting, -1
 * if none within a second; every socket is drained. */
static int arrived_on(struct env *env, size_t len)
{
	struct pollfd p[WORKERS];
	int who = -1;

	for (int i = 0; i < WORKERS; i++) {
		p[i].fd = mpq_pathio_fd(mpq_reuseport_io(env->g, (uint32_t)i));
		p[i].events = POLLIN;
	}
	if (poll(p, WORKERS, 1000) <= 0)
		return -1;
	usleep(10000); /* a wrong second copy would show up by now */
	for (int i = 0; i < WORKERS; i++) {
		mpq_dgram d[4];
		int n = mpq_pathio_recv(mpq_reuseport_io(env->g, (uint32_t)i), d, 4);

		assert_true(n >= 0);
		if (n == 0)
			continue;
		assert_int_equal(n, 1);
		assert_int_equal(d[0].len, len);
		assert_int_equal(who, -1);
		who = i;
	}
	return who;
}

static void counters(struct env *env, uint64_t c[MPQ_REUSEPORT_CNT__MAX])
{
	assert_int_equal(mpq_reuseport_counters(env->g, c), 0);
}

/* Short headers: flags, then our 8-octet CID with the worker in octet 1. */
static void short_header_by_worker(void **state)
{
	struct env *env = need_root(state);
	uint64_t before[MPQ_REUSEPORT_CNT__MAX], after[MPQ_REUSEPORT_CNT__MAX];

	counters(env, before);
	for (int round = 0; round < 8; round++) {
		for (int w = 0; w < WORKERS; w++) {
			uint8_t pkt[40] = {0x40, 0x07, (uint8_t)w, 1, 2, 3, 4, 5, (uint8_t)round};

			send_to(env, pkt, sizeof(pkt));
			assert_int_equal(arrived_on(env, sizeof(pkt)), w);
		}
	}
	counters(env, after);
	assert_int_equal(after[MPQ_REUSEPORT_CNT_SHORT_HIT] - before[MPQ_REUSEPORT_CNT_SHORT_HIT],
			 8 * WORKERS);
}

/* Long headers carrying our CID (Handshake) go by worker too; an Initial with
 * a client-chosen DCID goes to some worker by the kernel's hash; a worker ID
 * with no socket, and a datagram too short to parse, too. */
static void long_header_and_fallbacks(void **state)
{
	struct env *env = need_root(state);
	uint64_t before[MPQ_REUSEPORT_CNT__MAX], after[MPQ_REUSEPORT_CNT__MAX];
	uint8_t hs[60] = {0xe0, 0, 0, 0, 1, 8, 0x07, 1, 9, 9, 9, 9, 9, 9, 0};
	uint8_t initial[1200] = {0xc0, 0, 0, 0, 1, 8};
	uint8_t stray[40] = {0x40, 0x07, 200, 1, 2, 3, 4, 5, 6};
	uint8_t tiny[3] = {0x40, 0x07, 0};
	int w;

	counters(env, before);
	send_to(env, hs, sizeof(hs));
	assert_int_equal(arrived_on(env, sizeof(hs)), 1);
	hs[7] = 0;
	send_to(env, hs, sizeof(hs));
	assert_int_equal(arrived_on(env, sizeof(hs)), 0);

	for (int i = 0; i < 8; i++)
		initial[6 + i] = (uint8_t)(0x30 + i * 17); /* not 0x07 first */
	send_to(env, initial, sizeof(initial));
	w = arrived_on(env, sizeof(initial));
	assert_true(w >= 0 && w < WORKERS);
	/* The same 4-tuple: the same worker. */
	send_to(env, initial, sizeof(initial));
	assert_int_equal(arrived_on(env, sizeof(initial)), w);

	send_to(env, stray, sizeof(stray));
	w = arrived_on(env, sizeof(stray));
	assert_true(w >= 0 && w < WORKERS);
	send_to(env, tiny, sizeof(tiny));
	w = arrived_on(env, sizeof(tiny));
	assert_true(w >= 0 && w < WORKERS);

	counters(env, after);
	assert_int_equal(after[MPQ_REUSEPORT_CNT_LONG_HIT] - before[MPQ_REUSEPORT_CNT_LONG_HIT],
			 2);
	assert_int_equal(after[MPQ_REUSEPORT_CNT_NOT_OURS] - before[MPQ_REUSEPORT_CNT_NOT_OURS],
			 2);
	assert_int_equal(after[MPQ_REUSEPORT_CNT_NO_SOCKET] - before[MPQ_REUSEPORT_CNT_NO_SOCKET],
			 1);
	assert_int_equal(after[MPQ_REUSEPORT_CNT_TRUNCATED] - before[MPQ_REUSEPORT_CNT_TRUNCATED],
			 1);
}

/* A taken object belongs to the caller; the group closes the others. */
static void take(void **state)
{
	struct env *env = need_root(state);
	mpq_pathio *io = mpq_reuseport_take(env->g, 1);

	assert_non_null(io);
	assert_null(mpq_reuseport_take(env->g, 1));
	assert_null(mpq_reuseport_io(env->g, 1));
	assert_null(mpq_reuseport_take(env->g, WORKERS));
	assert_int_equal(mpq_reuseport_workers(env->g), WORKERS);
	mpq_pathio_close(io);
}

/* A group owns its address: a second group on it, or on the wildcard
 * address with the same port, fails with EADDRINUSE and leaves the first
 * as it was; one on port 0 gets another port. */
static void one_group_per_address(void **state)
{
	struct env *env = need_root(state);
	mpq_pathio_config cfg;
	mpq_reuseport *g2 = NULL;
	mpq_oserr err;

	config(&cfg);
	cfg.local = mpq_reuseport_io(env->g, 0)->local;
	assert_int_equal(mpq_reuseport_open(&g2, &cfg, WORKERS, &err), MPQ_ERR_INTERNAL);
	assert_null(g2);
	assert_int_equal(err.errnum, EADDRINUSE);
	assert_string_equal(err.call, "bind");

	assert_int_equal(mpq_addr_parse(&cfg.local, "0.0.0.0:0"), 0);
	mpq_addr_set_port(&cfg.local, mpq_addr_port(&mpq_reuseport_io(env->g, 0)->local));
	assert_int_equal(mpq_reuseport_open(&g2, &cfg, WORKERS, &err), MPQ_ERR_INTERNAL);
	assert_int_equal(err.errnum, EADDRINUSE);

	config(&cfg);
	assert_int_equal(mpq_reuseport_open(&g2, &cfg, WORKERS, &err), 0);
	assert_false(mpq_addr_equal(&mpq_reuseport_io(g2, 0)->local,
				    &mpq_reuseport_io(env->g, 0)->local));
	mpq_reuseport_close(g2);

	/* The first group still steers by worker. */
	for (int w = 0; w < WORKERS; w++) {
		uint8_t pkt[40] = {0x40, 0x07, (uint8_t)w, 1, 2, 3, 4, 5, 6};

		send_to(env, pkt, sizeof(pkt));
		assert_int_equal(arrived_on(env, sizeof(pkt)), w);
	}
}

/* Closing a group frees its address for the next. */
static void address_freed_on_close(void **state)
{
	struct env *env = need_root(state);
	mpq_pathio_config cfg;
	mpq_reuseport *g2 = NULL;

	config(&cfg);
	cfg.local = mpq_reuseport_io(env->g, 0)->local;
	mpq_pathio_close(env->client);
	mpq_reuseport_close(env->g);
	env->client = NULL;
	env->g = NULL;
	assert_int_equal(mpq_reuseport_open(&g2, &cfg, WORKERS, NULL), 0);
	mpq_reuseport_close(g2);
}

int main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(udp_reuseport_option),
		cmocka_unit_test(bad_arguments),
	};
	const struct CMUnitTest group[] = {
		cmocka_unit_test_setup_teardown(short_header_by_worker, setup, teardown),
		cmocka_unit_test_setup_teardown(long_header_and_fallbacks, setup, teardown),
		cmocka_unit_test_setup_teardown(take, setup, teardown),
		cmocka_unit_test_setup_teardown(one_group_per_address, setup, teardown),
		cmocka_unit_test_setup_teardown(address_freed_on_close, setup, teardown),
	};
	int failed = cmocka_run_group_tests_name("reuseport", plain, NULL, NULL);

	return failed + cmocka_run_group_tests_name("reuseport group", group, NULL, NULL);
}
