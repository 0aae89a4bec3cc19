/* Local addresses for paths: see localaddr.h. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mpq/io/netaddr.h"
#include "localaddr.h"

#define MAX_IF_ADDRS 32

static const struct in6_addr *in6(const mpq_addr *a)
{
	return &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
}

bool tool_addr_is_link_local(const mpq_addr *a)
{
	return a->ss.ss_family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(in6(a));
}

bool tool_addr_is_loopback(const mpq_addr *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;

	if (a->ss.ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (a->ss.ss_family != AF_INET6)
		return false;
	return IN6_IS_ADDR_LOOPBACK(in6(a)) ||
	       (IN6_IS_ADDR_V4MAPPED(in6(a)) && in6(a)->s6_addr[12] == 127);
}

int tool_iface_local(const char *ifname, const mpq_addr *remote, mpq_addr *out)
{
	mpq_addr addrs[MAX_IF_ADDRS];
	int n = mpq_if_addrs(ifname, addrs, MAX_IF_ADDRS);
	bool want_ll = tool_addr_is_link_local(remote);

	if (n == MPQ_ERR_INVALID_ARGUMENT)
		return MPQ_ERR_NOT_FOUND; /* not a name an interface can have */
	if (n < 0)
		return n;
	for (int i = 0; i < n && i < MAX_IF_ADDRS; i++) {
		if (addrs[i].ss.ss_family == remote->ss.ss_family &&
		    tool_addr_is_link_local(&addrs[i]) == want_ll) {
			*out = addrs[i];
			return 0;
		}
	}
	return MPQ_ERR_INVALID_ARGUMENT;
}

int tool_route_source(const mpq_addr *remote, mpq_addr *src)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = socket(remote->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rv = -1;

	if (fd < 0)
		return -1;
	/* connect() on a UDP socket only looks the route up. */
	if (connect(fd, (const struct sockaddr *)&remote->ss, remote->len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    mpq_addr_set(src, (const struct sockaddr *)&ss, len) == 0) {
		mpq_addr_set_port(src, 0);
		rv = 0;
	}
	close(fd);
	return rv;
}

bool tool_iface_has(const char *ifname, const mpq_addr *a)
{
	mpq_addr addrs[MAX_IF_ADDRS];
	int n = mpq_if_addrs(ifname, addrs, MAX_IF_ADDRS);

	for (int i = 0; i < n && i < MAX_IF_ADDRS; i++)
		if (mpq_addr_equal_ip(&addrs[i], a))
			return true;
	return false;
}

int tool_addr_iface(const mpq_addr *a, char *name, size_t len)
{
	struct ifaddrs *ifa, *i;
	int rv = -1;

	if (getifaddrs(&ifa) < 0)
		return -1;
	for (i = ifa; i && rv < 0; i = i->ifa_next) {
		mpq_addr b;
		socklen_t sl;

		if (!i->ifa_addr ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		sl = i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
						       : sizeof(struct sockaddr_in6);
		if (mpq_addr_set(&b, i->ifa_addr, sl) == 0 && mpq_addr_equal_ip(&b, a)) {
			snprintf(name, len, "%s", i->ifa_name);
			rv = 0;
		}
	}
	freeifaddrs(ifa);
	return rv;
}

bool tool_iface_is_loopback(const char *ifname)
{
	struct ifaddrs *ifa, *i;
	bool lo = false;

	if (getifaddrs(&ifa) < 0)
		return false;
	for (i = ifa; i; i = i->ifa_next)
		if (strcmp(i->ifa_name, ifname) == 0 && (i->ifa_flags & IFF_LOOPBACK))
			lo = true;
	freeifaddrs(ifa);
	return lo;
}
