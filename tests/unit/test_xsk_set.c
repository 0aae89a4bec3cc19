/*
 * AF_XDP on every rx queue (io/xsk_set.h), as root: a veth pair with 8 rx and
 * 8 tx queues on each end between two network namespaces made here (A: qa,
 * 10.77.0.1 and fd77::1; B: qb, 10.77.0.2 and fd77::2). veth puts a frame
 * on A's rx queue of B's tx queue, which the kernel picks per socket, so
 * datagrams from many sockets in B land on several of A's queues.
 *
 * - rx_queues_counted: 8 on qa, 1 on lo, none for a missing interface.
 * - steer_by_channels_and_back: veth has no RSS indirection table, so flows
 *   are steered by fewer rx channels (3), and 8 are back after restore.
 * - set_serves_every_queue_and_family: one set on the IPv6 wildcard with the
 *   steering program; 32 IPv4 and 32 IPv6 sockets in B send a QUIC Initial
 *   each: all 64 arrive through the set's one descriptor, on more than one
 *   queue's socket, with their families; a reply to each through the set
 *   reaches every socket (both families sent from one object).
 * - workers_send_on_their_queues: with 2 workers, worker k's set sends
 *   through its socket of queue k, none of the others.
 * - a_held_queue_is_named: queue 2 held by another socket: opening all 8
 *   fails naming queue 2 (EBUSY) and leaves nothing open; queues 0-1 open.
 * - dual_stack_sizes: a dual-stack socket sends IPv4 datagrams 20 octets
 *   longer than its IPv6 ones (max_payload), one more is refused.
 * Skipped without root, ip(8) or ethtool(8).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mpq/mpq.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/xdp_prog.h"
#include "mpq/io/xsk.h"
#include "mpq/io/xsk_set.h"
#include "../common/netns.h"

#define QUEUES 8
#define SENDERS 32 /* per family */
#define WAIT_MS 5000

static struct {
	struct test_netns ns;
	char why[200];
} env = {.ns = TEST_NETNS_INIT};

static int group_setup(void **state)
{
	if (test_netns_setup(&env.ns, "ip ethtool", env.why, sizeof(env.why)) < 0)
		return 0;
	if (setns(env.ns.ns_a, CLONE_NEWNET) < 0 ||
	    test_sh("ip link set lo up && ip link add name qa numrxqueues %d numtxqueues %d type "
		    "veth "
		    "peer name qb numrxqueues %d numtxqueues %d netns /proc/%d/fd/%d && "
		    "ip addr add 10.77.0.1/24 dev qa && ip addr add fd77::1/64 dev qa nodad && "
		    "ip link set qa up",
		    QUEUES, QUEUES, QUEUES, QUEUES, (int)getpid(), env.ns.ns_b) != 0 ||
	    setns(env.ns.ns_b, CLONE_NEWNET) < 0 ||
	    test_sh("ip link set lo up && ip addr add 10.77.0.2/24 dev qb && "
		    "ip addr add fd77::2/64 dev qb nodad && ip link set qb up") != 0 ||
	    setns(env.ns.ns_a, CLONE_NEWNET) < 0)
		snprintf(env.why, sizeof(env.why), "cannot set up a veth pair with %d queues",
			 QUEUES);
	return 0;
}

static int group_teardown(void **state)
{
	return test_netns_close(&env.ns);
}

static void need_env(void)
{
	test_netns_need(&env.ns, env.why);
}

static uint32_t rx_queues(const char *ifname)
{
	uint32_t n = 0;

	assert_int_equal(mpq_xsk_rx_queues(ifname, &n), 0);
	return n;
}

static void rx_queues_counted(void **state)
{
	uint32_t n;

	need_env();
	assert_int_equal(rx_queues("qa"), QUEUES);
	assert_int_equal(rx_queues("lo"), 1);
	assert_int_equal(mpq_xsk_rx_queues("nosuch0", &n), MPQ_ERR_NOT_FOUND);
}

static void steer_by_channels_and_back(void **state)
{
	mpq_xsk_steer st;

	need_env();
	assert_int_equal(mpq_xsk_steer_queues("qa", 3, &st), MPQ_XSK_STEER_CHANNELS);
	assert_int_equal(st.indir_errnum, EOPNOTSUPP);
	assert_int_equal(rx_queues("qa"), 3);
	mpq_xsk_steer_restore(&st);
	assert_int_equal(rx_queues("qa"), QUEUES);
	mpq_xsk_steer_restore(&st); /* nothing changed any more: nothing to do */
	assert_int_equal(rx_queues("qa"), QUEUES);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A QUIC v1 Initial header with an 8-octet DCID that is not ours: the
 * steering program places it by the 4-tuple hash. */
static size_t initial(uint8_t *p, int i)
{
	static const uint8_t head[] = {0xc0, 0, 0, 0, 1, 8, 0x55, 1, 2, 3, 4, 5, 6, 7};

	memcpy(p, head, sizeof(head));
	p[sizeof(head)] = (uint8_t)i;
	return sizeof(head) + 1;
}

/* B's senders: SENDERS IPv4 then SENDERS IPv6 sockets, each sending one
 * Initial (numbered by its index) to A's |port|. */
static void senders_send(int *fds, uint16_t port)
{
	assert_int_equal(setns(env.ns.ns_b, CLONE_NEWNET), 0);
	for (int i = 0; i < 2 * SENDERS; i++) {
		mpq_addr to;
		uint8_t p[32];
		size_t len = initial(p, i);

		assert_int_equal(mpq_addr_parse_ip(&to, i < SENDERS ? "10.77.0.1" : "[fd77::1]",
						   port),
				 0);
		fds[i] = socket(to.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(fds[i] >= 0);
		assert_int_equal(sendto(fds[i], p, len, 0, (struct sockaddr *)&to.ss, to.len),
				 (ssize_t)len);
	}
	assert_int_equal(setns(env.ns.ns_a, CLONE_NEWNET), 0);
}

/* Sets of |n_workers| on every queue of qa for |local| (port 0), for a
 * steering program. */
static int open_sets(mpq_pathio **out, uint32_t n_workers, const char *local, mpq_oserr *err)
{
	mpq_pathio_config cfg;
	mpq_xsk_config xcfg;

	mpq_pathio_config_default(&cfg);
	cfg.ifname = "qa";
	assert_int_equal(mpq_addr_parse_ip(&cfg.local, local, 0), 0);
	mpq_xsk_config_default(&xcfg);
	xcfg.inhibit_prog = true;
	xcfg.frames = 1024;
	return mpq_xsk_set_open(out, n_workers, QUEUES, &cfg, &xcfg, NULL, err);
}

static void set_serves_every_queue_and_family(void **state)
{
	mpq_xdp_prog_config pcfg;
	mpq_xdp_prog *prog = NULL;
	mpq_pathio *set = NULL;
	mpq_dgram d[16], reply[2 * SENDERS];
	int fds[2 * SENDERS], got = 0, v4 = 0, used = 0, seen[2 * SENDERS] = {0};
	uint32_t ifindex;
	mpq_oserr err;
	long until;

	need_env();
	assert_int_equal(open_sets(&set, 1, "[::]", &err), 0);
	assert_int_equal(mpq_xsk_set_queues(set), QUEUES);
	assert_null(mpq_xsk_set_member(set, QUEUES));
	assert_true(mpq_addr_port(&set->local) != 0);

	mpq_xdp_prog_config_default(&pcfg);
	pcfg.ports[0] = mpq_addr_port(&set->local); /* every address of qa */
	assert_int_equal(mpq_xdp_prog_new(&prog, &pcfg, NULL), 0);
	assert_int_equal(mpq_if_index("qa", &ifindex), 0);
	assert_int_equal(mpq_xdp_prog_attach(prog, (int)ifindex, MPQ_XDP_MODE_AUTO), 0);
	for (uint32_t q = 0; q < QUEUES; q++)
		assert_int_equal(mpq_xdp_prog_set_xsk(prog, q, 0,
						      mpq_pathio_fd(mpq_xsk_set_member(set, q))),
				 0);

	senders_send(fds, mpq_addr_port(&set->local));
	until = now_ms() + WAIT_MS;
	while (got < 2 * SENDERS && now_ms() < until) {
		struct pollfd p = {.fd = mpq_pathio_fd(set), .events = POLLIN};
		int n;

		poll(&p, 1, 50);
		n = mpq_pathio_recv(set, d, 16);
		assert_true(n >= 0);
		for (int i = 0; i < n; i++) {
			int k = d[i].data[14] % (2 * SENDERS);

			assert_true(d[i].len == 15 && d[i].data[14] < 2 * SENDERS && !seen[k]);
			seen[k] = 1;
			assert_int_equal(d[i].remote.ss.ss_family,
					 k < SENDERS ? AF_INET : AF_INET6);
			assert_int_equal(d[i].local.ss.ss_family, d[i].remote.ss.ss_family);
			v4 += d[i].remote.ss.ss_family == AF_INET;
			reply[got] = (mpq_dgram){.data = d[i].data,
						 .len = d[i].len,
						 .remote = d[i].remote};
			got++;
		}
		/* Answer before the next receive: the data is the set's until then. */
		for (int i = got - n, sent = 0; i < got; i += sent) {
			sent = mpq_pathio_send(set, &reply[i], (size_t)(got - i));
			assert_true(sent > 0);
		}
	}
	assert_int_equal(got, 2 * SENDERS);
	assert_int_equal(v4, SENDERS);
	for (uint32_t q = 0; q < QUEUES; q++) {
		mpq_xsk_stats st;

		assert_int_equal(mpq_xsk_get_stats(mpq_xsk_set_member(set, q), &st), 0);
		used += st.rx_dgrams > 0;
	}
	print_message("     %d datagrams from %d sockets arrived on %d of %d queues\n", got, got,
		      used, QUEUES);
	assert_true(used >= 2);

	/* Every sender got its Initial back. */
	for (int i = 0; i < 2 * SENDERS; i++) {
		struct pollfd p = {.fd = fds[i], .events = POLLIN};
		uint8_t buf[64];

		assert_int_equal(poll(&p, 1, WAIT_MS), 1);
		assert_int_equal(recv(fds[i], buf, sizeof(buf), 0), 15);
		assert_int_equal(buf[14], i);
		close(fds[i]);
	}
	mpq_xdp_prog_del(prog);
	mpq_pathio_close(set);
}

/* A send of |len| bytes to |to| through |io|: what send_batch returns. */
static int send_len(mpq_pathio *io, const char *to, size_t len)
{
	static uint8_t buf[2048];
	mpq_dgram d = {.data = buf, .len = len};

	assert_int_equal(mpq_addr_parse(&d.remote, to), 0);
	return mpq_pathio_send(io, &d, 1);
}

/* A dual-stack socket's largest datagram is IPv6's, and IPv4's 20 octets
 * more (shorter headers); one more octet is refused in each family. */
static void dual_stack_sizes(void **state)
{
	mpq_pathio_config cfg;
	mpq_pathio *io = NULL;
	const mpq_xsk_info *xi;
	uint32_t v6;

	need_env();
	mpq_pathio_config_default(&cfg);
	cfg.ifname = "qa";
	assert_int_equal(mpq_addr_parse_ip(&cfg.local, "[::]", 0), 0);
	assert_int_equal(mpq_xsk_open(&io, &cfg, NULL, NULL), 0);
	xi = mpq_xsk_get_info(io);
	v6 = xi->max_payload;
	assert_int_equal(v6, 1500 - 40 - 8);
	assert_int_equal(send_len(io, "[fd77::2]:9", v6), 1);
	assert_int_equal(send_len(io, "[fd77::2]:9", v6 + 1), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(send_len(io, "10.77.0.2:9", v6 + 20), 1);
	assert_int_equal(send_len(io, "10.77.0.2:9", v6 + 21), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(io->err.errnum, EMSGSIZE);
	mpq_pathio_close(io);
}

/* The tx_dgrams of queue |q|'s socket in |set|. */
static uint64_t sent_on(mpq_pathio *set, uint32_t q)
{
	mpq_xsk_stats st;

	assert_int_equal(mpq_xsk_get_stats(mpq_xsk_set_member(set, q), &st), 0);
	return st.tx_dgrams;
}

/* Worker k sends through its socket of queue k: two workers, two queues'
 * UMEMs. */
static void workers_send_on_their_queues(void **state)
{
	mpq_pathio *sets[2] = {NULL, NULL};

	need_env();
	assert_int_equal(open_sets(sets, 2, "10.77.0.1", NULL), 0);
	for (int k = 0; k < 2; k++)
		assert_int_equal(send_len(sets[k], "10.77.0.2:9", 100), 1);
	assert_int_equal(sent_on(sets[0], 0), 1);
	assert_int_equal(sent_on(sets[1], 1), 1);
	for (uint32_t q = 0; q < QUEUES; q++)
		assert_int_equal(sent_on(sets[0], q) + sent_on(sets[1], q), q < 2);
	mpq_pathio_close(sets[1]);
	mpq_pathio_close(sets[0]);
}

/* A queue another socket holds: the open fails, names that queue, and
 * leaves nothing open (the queues before it open again). */
static void a_held_queue_is_named(void **state)
{
	mpq_pathio_config cfg;
	mpq_xsk_config xcfg;
	mpq_pathio *other = NULL, *set = NULL;
	uint32_t failed = 99;
	mpq_oserr err;

	need_env();
	mpq_pathio_config_default(&cfg);
	cfg.ifname = "qa";
	assert_int_equal(mpq_addr_parse_ip(&cfg.local, "10.77.0.1", 0), 0);
	mpq_xsk_config_default(&xcfg);
	xcfg.inhibit_prog = true;
	xcfg.queue = 2;
	assert_int_equal(mpq_xsk_open(&other, &cfg, &xcfg, NULL), 0);
	xcfg.queue = 0;
	assert_true(mpq_xsk_set_open(&set, 1, QUEUES, &cfg, &xcfg, &failed, &err) < 0);
	assert_null(set);
	assert_int_equal(failed, 2);
	assert_int_equal(err.errnum, EBUSY);
	assert_int_equal(mpq_xsk_set_open(&set, 1, 2, &cfg, &xcfg, NULL, NULL), 0);
	assert_int_equal(mpq_xsk_set_queues(set), 2);
	mpq_pathio_close(set);
	mpq_pathio_close(other);
}

int main(void)
{
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rx_queues_counted),
		cmocka_unit_test(steer_by_channels_and_back),
		cmocka_unit_test(set_serves_every_queue_and_family),
		cmocka_unit_test(dual_stack_sizes),
		cmocka_unit_test(workers_send_on_their_queues),
		cmocka_unit_test(a_held_queue_is_named),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
