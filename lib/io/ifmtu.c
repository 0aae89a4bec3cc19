/*
 * The largest UDP payload a socket can send whole: its interface's MTU less
 * the IP and UDP headers, the local limit of path MTU discovery (RFC 8899
 * §5.1: MAX_PLPMTU). See mpq_if_max_udp_payload in netaddr.h.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mpq/io/netaddr.h"

static uint32_t mtu_of(int fd, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu <= 0)
		return 0;
	return (uint32_t)ifr.ifr_mtu;
}

/* The MTU of |ifindex|, else of the interface with |local|'s address, else
 * (the wildcard) the largest of the interfaces that are up; 0 if none. */
static uint32_t local_mtu(int fd, const mpq_addr *local, uint32_t ifindex)
{
	char name[IF_NAMESIZE];
	struct ifaddrs *list, *ifa;
	bool any = mpq_addr_is_any(local);
	uint32_t best = 0;

	if (ifindex)
		return if_indextoname(ifindex, name) ? mtu_of(fd, name) : 0;
	if (getifaddrs(&list) < 0)
		return 0;
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		mpq_addr a;
		uint32_t mtu;

		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != local->ss.ss_family ||
		    !(ifa->ifa_flags & IFF_UP))
			continue;
		if (!any && (mpq_addr_set(&a, ifa->ifa_addr,
					  ifa->ifa_addr->sa_family == AF_INET
						  ? sizeof(struct sockaddr_in)
						  : sizeof(struct sockaddr_in6)) != 0 ||
			     !mpq_addr_equal_ip(&a, local)))
			continue;
		mtu = mtu_of(fd, ifa->ifa_name);
		if (mtu > best)
			best = mtu;
		if (!any)
			break;
	}
	freeifaddrs(list);
	return best;
}

uint32_t mpq_if_max_udp_payload(const mpq_addr *local, uint32_t ifindex)
{
	int fam = local->ss.ss_family;
	uint32_t hdr = fam == AF_INET6 ? 40 + 8 : 20 + 8, mtu;
	int fd;

	if (fam != AF_INET && fam != AF_INET6)
		return 0;
	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	mtu = local_mtu(fd, local, ifindex);
	close(fd);
	if (mtu <= hdr)
		return 0;
	/* An IPv4 datagram's 16-bit total length covers its headers too. */
	return mtu - hdr < 65535 - 28 ? mtu - hdr : 65535 - 28;
}
