/* Interfaces, routes and neighbours over rtnetlink, in two network
 * namespaces of our own joined by a veth pair (xa 10.88.0.1/24 fd88::1/64,
 * xb 10.88.0.2/24 fd88::2/64, known MAC addresses): link facts, on-link and
 * gateway routes, refused routes, neighbour resolution through the kernel
 * (ARP and ND) with and without CAP_NET_ADMIN, failure and timeout. xa has
 * no IPv6 link-local address, so the kernel sends no solicitation for NTF_USE
 * alone and resolving an IPv6 neighbour always takes the datagram (netif.h).
 *
 * The namespaces are anonymous (unshare) and held only by descriptors of
 * this process: they, the veth pair and every neighbour entry vanish with the
 * descriptors, on every way out of the process. Skipped without root. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "mpq/mpq.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/netif.h"
#include "../common/netns.h"

static const uint8_t mac_a[6] = {0x02, 0x88, 0, 0, 0, 0x01};
static const uint8_t mac_b[6] = {0x02, 0x88, 0, 0, 0, 0x02};

static struct {
	struct test_netns ns;
	char why[160]; /* why the tests skip, when they do */
	mpq_netif nl;  /* opened in ns_a */
	uint32_t xa;
} env = {.ns = TEST_NETNS_INIT, .nl = {.fd = -1}};

static bool configure(void)
{
	/* The peer's namespace by a path ip(8) opens: this process's descriptor. */
	if (setns(env.ns.ns_a, CLONE_NEWNET) < 0 ||
	    test_sh("ip link set lo up && ip link add xa address 02:88:00:00:00:01 type veth "
		    "peer name xb address 02:88:00:00:00:02 netns /proc/%d/fd/%d && "
		    "ip addr add 10.88.0.1/24 dev xa && ip addr add fd88::1/64 dev xa nodad && "
		    "ip link set xa addrgenmode none && ip link set xa up && "
		    "ip route add 10.99.0.0/24 via 10.88.0.2 && "
		    "ip route add unreachable 10.77.0.0/24 && ip route add fd99::/64 via fd88::2 "
		    "&& "
		    "sysctl -qw net.ipv4.neigh.xa.mcast_solicit=1 && "
		    "sysctl -qw net.ipv4.neigh.xa.retrans_time_ms=100",
		    (int)getpid(), env.ns.ns_b) != 0)
		return false;
	if (setns(env.ns.ns_b, CLONE_NEWNET) < 0 ||
	    test_sh("ip link set lo up && ip addr add 10.88.0.2/24 dev xb && "
		    "ip addr add fd88::2/64 dev xb nodad && ip link set xb up") != 0)
		return false;
	return setns(env.ns.ns_a, CLONE_NEWNET) == 0;
}

static int group_setup(void **state)
{
	mpq_link l;

	if (test_netns_setup(&env.ns, "ip sysctl", env.why, sizeof(env.why)) < 0)
		return 0;
	if (!configure()) {
		snprintf(env.why, sizeof(env.why), "cannot set up a veth pair with ip(8)");
		return 0;
	}
	assert_int_equal(mpq_netif_open(&env.nl, NULL), 0);
	assert_int_equal(mpq_netif_link(&env.nl, 0, "xa", &l), 0);
	env.xa = l.ifindex;
	return 0;
}

static int group_teardown(void **state)
{
	mpq_netif_close(&env.nl);
	return test_netns_close(&env.ns);
}

/* Each test runs in namespace A. */
static void need_env(void)
{
	test_netns_need(&env.ns, env.why);
}

static void ip_addr(mpq_addr *a, const char *text)
{
	assert_int_equal(mpq_addr_parse_ip(a, text, 0), 0);
}

static void link_facts(void **state)
{
	mpq_link l, m;

	need_env();
	assert_int_equal(mpq_netif_link(&env.nl, 0, "xa", &l), 0);
	assert_int_equal(l.ifindex, env.xa);
	assert_string_equal(l.name, "xa");
	assert_int_equal(l.mtu, 1500);
	assert_true(l.ether);
	assert_memory_equal(l.mac, mac_a, 6);
	assert_true(l.up);
	/* By index the same; an MTU change is seen. */
	assert_int_equal(test_sh("ip link set xa mtu 1400"), 0);
	assert_int_equal(mpq_netif_link(&env.nl, env.xa, NULL, &m), 0);
	assert_string_equal(m.name, "xa");
	assert_int_equal(m.mtu, 1400);
	assert_int_equal(test_sh("ip link set xa mtu 1500"), 0);
	/* Loopback is no Ethernet. */
	assert_int_equal(mpq_netif_link(&env.nl, 0, "lo", &m), 0);
	assert_false(m.ether);

	assert_int_equal(mpq_netif_link(&env.nl, 0, "nosuch0", &m), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_netif_link(&env.nl, 99999, NULL, &m), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_netif_link(&env.nl, 0, "", &m), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_netif_link(&env.nl, 0, "a-name-far-too-long", &m),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_netif_link(&env.nl, 0, NULL, &m), MPQ_ERR_INVALID_ARGUMENT);
}

static void check_route(const char *dst, uint32_t oif, const char *nexthop, bool gateway,
			const char *src)
{
	mpq_addr d, want;
	mpq_route r;

	ip_addr(&d, dst);
	assert_int_equal(mpq_netif_route(&env.nl, &d, oif, &r), 0);
	assert_int_equal(r.ifindex, env.xa);
	assert_int_equal(r.gateway, gateway);
	ip_addr(&want, nexthop);
	assert_true(mpq_addr_equal(&r.nexthop, &want));
	ip_addr(&want, src);
	assert_true(mpq_addr_equal_ip(&r.prefsrc, &want));
}

static void routes(void **state)
{
	mpq_addr d;
	mpq_route r;

	need_env();
	check_route("10.88.0.2", 0, "10.88.0.2", false, "10.88.0.1");
	check_route("10.88.0.2", env.xa, "10.88.0.2", false, "10.88.0.1");
	check_route("10.99.0.5", env.xa, "10.88.0.2", true, "10.88.0.1");
	check_route("fd88::2", 0, "fd88::2", false, "fd88::1");
	check_route("fd99::5", env.xa, "fd88::2", true, "fd88::1");

	/* A port on the destination does not leak into the next hop. */
	assert_int_equal(mpq_addr_parse(&d, "10.88.0.2:4433"), 0);
	assert_int_equal(mpq_netif_route(&env.nl, &d, 0, &r), 0);
	assert_int_equal(mpq_addr_port(&r.nexthop), 0);

	/* Unreachable, local, no route at all. */
	ip_addr(&d, "10.77.0.1");
	assert_int_equal(mpq_netif_route(&env.nl, &d, 0, &r), MPQ_ERR_NOT_FOUND);
	ip_addr(&d, "10.88.0.1");
	assert_int_equal(mpq_netif_route(&env.nl, &d, 0, &r), MPQ_ERR_NOT_FOUND);
	assert_int_equal(env.nl.err.errnum, ENETUNREACH);
	ip_addr(&d, "192.0.2.1");
	assert_int_equal(mpq_netif_route(&env.nl, &d, 0, &r), MPQ_ERR_NOT_FOUND);
	assert_string_equal(env.nl.err.call, "RTM_GETROUTE");
	ip_addr(&d, "2001:db8::1");
	assert_int_equal(mpq_netif_route(&env.nl, &d, 0, &r), MPQ_ERR_NOT_FOUND);
	memset(&d, 0, sizeof(d));
	assert_int_equal(mpq_netif_route(&env.nl, &d, 0, &r), MPQ_ERR_INVALID_ARGUMENT);
}

static void count_pump(void *ctx)
{
	(*(int *)ctx)++;
}

/* Resolves |ip| from an empty table: the kernel asks, xb's kernel answers;
 * with |pokes| datagrams sent to help it. */
static void resolve_fresh(const char *ip, uint64_t pokes)
{
	uint64_t before = env.nl.pokes;
	uint8_t mac[6];
	mpq_neigh n;
	mpq_addr a;
	int pumped = 0, rv;

	ip_addr(&a, ip);
	assert_int_equal(test_sh("ip neigh flush dev xa"), 0);
	assert_int_equal(mpq_netif_neigh_get(&env.nl, env.xa, &a, &n), MPQ_ERR_NOT_FOUND);
	rv = mpq_netif_resolve(&env.nl, env.xa, &a, 2000, count_pump, &pumped, mac);
	if (rv < 0)
		print_message("resolve %s: %s: %s\n", ip, env.nl.err.call,
			      strerror(env.nl.err.errnum));
	assert_int_equal(rv, 0);
	assert_memory_equal(mac, mac_b, 6);
	assert_true(pumped > 0);
	assert_int_equal(env.nl.pokes - before, pokes);
	assert_int_equal(mpq_netif_neigh_get(&env.nl, env.xa, &a, &n), 0);
	assert_true(mpq_netif_neigh_usable(&n));
	assert_memory_equal(n.mac, mac_b, 6);
	/* Known now: no probe, no wait. */
	pumped = 0;
	memset(mac, 0, sizeof(mac));
	assert_int_equal(mpq_netif_resolve(&env.nl, env.xa, &a, 2000, count_pump, &pumped, mac),
			 0);
	assert_memory_equal(mac, mac_b, 6);
	assert_int_equal(pumped, 0);
}

static void resolve_arp_and_nd(void **state)
{
	mpq_route r;
	mpq_addr d;
	uint8_t mac[6];

	need_env();
	resolve_fresh("10.88.0.2", 0); /* NTF_USE alone */
	resolve_fresh("fd88::2", 1);   /* no link-local: escalated */
	/* Off-link: the gateway's address is what gets resolved. */
	assert_int_equal(test_sh("ip neigh flush dev xa"), 0);
	ip_addr(&d, "fd99::7");
	assert_int_equal(mpq_netif_route(&env.nl, &d, env.xa, &r), 0);
	assert_int_equal(mpq_netif_resolve(&env.nl, env.xa, &r.nexthop, 2000, NULL, NULL, mac), 0);
	assert_memory_equal(mac, mac_b, 6);
}

static void resolve_failures(void **state)
{
	uint8_t mac[6];
	mpq_addr a;

	need_env();
	/* Nobody has 10.88.0.77: with one probe 100 ms apart (configured for
	 * xa) the kernel marks it failed well before 5 s. */
	ip_addr(&a, "10.88.0.77");
	assert_int_equal(mpq_netif_resolve(&env.nl, env.xa, &a, 5000, NULL, NULL, mac),
			 MPQ_ERR_NOT_FOUND);
	assert_int_equal(env.nl.err.errnum, EHOSTUNREACH);
	/* IPv6 keeps its default 1 s retransmissions: 200 ms run out first. */
	ip_addr(&a, "fd88::77");
	assert_int_equal(mpq_netif_resolve(&env.nl, env.xa, &a, 200, NULL, NULL, mac),
			 MPQ_ERR_NOT_FOUND);
	assert_int_equal(env.nl.err.errnum, ETIMEDOUT);
	assert_string_equal(env.nl.err.call, "neighbour resolution");

	assert_int_equal(mpq_netif_resolve(&env.nl, 0, &a, 200, NULL, NULL, mac),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_netif_neigh_probe(&env.nl, 99999, &a), MPQ_ERR_NOT_FOUND);
}

static void neigh_set_and_get(void **state)
{
	static const uint8_t mac_x[6] = {0x02, 0x88, 0, 0, 0, 0x50};
	mpq_neigh n;
	mpq_addr a;

	need_env();
	ip_addr(&a, "10.88.0.50");
	assert_int_equal(mpq_netif_neigh_set(&env.nl, env.xa, &a, mac_x), 0);
	assert_int_equal(mpq_netif_neigh_get(&env.nl, env.xa, &a, &n), 0);
	assert_true(mpq_netif_neigh_usable(&n));
	assert_memory_equal(n.mac, mac_x, 6);
	ip_addr(&a, "fd88::50");
	assert_int_equal(mpq_netif_neigh_set(&env.nl, env.xa, &a, mac_x), 0);
	assert_int_equal(mpq_netif_neigh_get(&env.nl, env.xa, &a, &n), 0);
	assert_memory_equal(n.mac, mac_x, 6);
	assert_int_equal(mpq_netif_neigh_set(&env.nl, 99999, &a, mac_x), MPQ_ERR_NOT_FOUND);
}

/* Drops CAP_NET_ADMIN from this thread's effective set. */
static int drop_net_admin(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	d[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
	return (int)syscall(SYS_capset, &h, d);
}

struct unpriv {
	const char *ip;
	int probe_rv;
	int resolve_rv;
	int first_errnum;
	uint64_t pokes;
	uint8_t mac[6];
};

/* In a thread of its own (capabilities are per thread): namespace A, no
 * CAP_NET_ADMIN, so the kernel refuses NTF_USE and the datagram starts it. */
static void *unprivileged(void *arg)
{
	struct unpriv *u = arg;
	mpq_netif nl;
	mpq_addr a;

	if (setns(env.ns.ns_a, CLONE_NEWNET) < 0 || drop_net_admin() < 0 ||
	    mpq_netif_open(&nl, NULL) < 0)
		return NULL;
	mpq_addr_parse_ip(&a, u->ip, 0);
	u->probe_rv = mpq_netif_neigh_probe(&nl, env.xa, &a);
	u->first_errnum = nl.err.errnum;
	u->resolve_rv = mpq_netif_resolve(&nl, env.xa, &a, 2000, NULL, NULL, u->mac);
	u->pokes = nl.pokes;
	mpq_netif_close(&nl);
	return u;
}

static void resolve_without_net_admin(void **state)
{
	const char *ips[] = {"10.88.0.2", "fd88::2"};

	need_env();
	for (int i = 0; i < 2; i++) {
		struct unpriv u = {.ip = ips[i], .probe_rv = 1, .resolve_rv = 1};
		pthread_t t;
		void *ret;

		assert_int_equal(test_sh("ip neigh flush dev xa"), 0);
		assert_int_equal(pthread_create(&t, NULL, unprivileged, &u), 0);
		assert_int_equal(pthread_join(t, &ret), 0);
		assert_non_null(ret);
		assert_int_equal(u.probe_rv, 0);
		assert_int_equal(u.first_errnum, EPERM); /* NTF_USE refused, fallback taken */
		assert_int_equal(u.pokes, 1);
		assert_int_equal(u.resolve_rv, 0);
		assert_memory_equal(u.mac, mac_b, 6);
	}
}

static void closed_and_bad_arguments(void **state)
{
	mpq_netif nl = {.fd = -1};
	mpq_neigh n;
	mpq_link l;
	mpq_addr a;

	ip_addr(&a, "10.88.0.2");
	assert_int_equal(mpq_netif_link(&nl, 1, NULL, &l), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_netif_neigh_get(&nl, 1, &a, &n), MPQ_ERR_INVALID_ARGUMENT);
	mpq_netif_close(&nl);
	assert_int_equal(mpq_netif_open(&nl, NULL), 0);
	assert_int_equal(mpq_netif_neigh_get(&nl, 0, &a, &n), MPQ_ERR_INVALID_ARGUMENT);
	memset(&a, 0, sizeof(a));
	assert_int_equal(mpq_netif_neigh_get(&nl, 1, &a, &n), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_netif_neigh_probe(&nl, 1, &a), MPQ_ERR_INVALID_ARGUMENT);
	mpq_netif_close(&nl);
	mpq_netif_close(&nl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(link_facts),
		cmocka_unit_test(routes),
		cmocka_unit_test(resolve_arp_and_nd),
		cmocka_unit_test(resolve_failures),
		cmocka_unit_test(neigh_set_and_get),
		cmocka_unit_test(resolve_without_net_admin),
		cmocka_unit_test(closed_and_bad_arguments),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
