/* Interfaces, routes and neighbours over rtnetlink: see netif.h. */
#include <errno.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mpq/io/netaddr.h"
#include "mpq/io/netif.h"

#define REQ_ATTRS 64	 /* room for the attributes of one request */
#define RECV_TIMEOUT_S 2 /* the kernel answers at once; this only bounds a lost reply */
#define DISCARD_PORT 9
#define POLL_MIN_NS 100000ull /* first wait between two looks at the table */
#define POLL_MAX_NS 5000000ull
#define ESCALATE_MS 100u /* NTF_USE unanswered this long: send the datagram too */
/* States with a link-layer address that may be used (the kernel's NUD_VALID). */
#define NUD_USABLE (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY)

struct nl_req {
	struct nlmsghdr h;
	union {
		struct ifinfomsg ifi;
		struct rtmsg rt;
		struct ndmsg nd;
	};
	uint8_t attrs[REQ_ATTRS];
};

/* Called with each reply message of our request. */
typedef int (*reply_fn)(const struct nlmsghdr *h, void *arg);

int mpq_netif_open(mpq_netif *nl, mpq_oserr *err)
{
	struct timeval tv = {.tv_sec = RECV_TIMEOUT_S};
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int rv;

	nl->seq = 0;
	nl->pokes = 0;
	mpq_oserr_clear(&nl->err);
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0) {
		rv = mpq_oserr_set(&nl->err, "socket NETLINK_ROUTE", errno);
		goto fail;
	}
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rv = mpq_oserr_set(&nl->err, "bind NETLINK_ROUTE", errno);
		close(nl->fd);
		nl->fd = -1;
		goto fail;
	}
	return 0;
fail:
	if (err)
		*err = nl->err;
	return rv;
}

void mpq_netif_close(mpq_netif *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

static void req_init(struct nl_req *r, uint16_t type, uint16_t flags, size_t hdr)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdr);
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
}

static void req_attr(struct nl_req *r, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((uint8_t *)&r->h + NLMSG_ALIGN(r->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (uint16_t)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = (uint32_t)(NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len));
}

/* Sends |r| and reads until the reply to it: each message of ours goes to
 * |fn| (NULL when only an acknowledgement is wanted); an error message ends
 * it. Messages of earlier requests (a reply that came after its timeout)
 * are skipped. */
static int transact(mpq_netif *nl, struct nl_req *r, const char *call, reply_fn fn, void *arg)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	uint32_t seq = ++nl->seq;
	ssize_t n;

	if (nl->fd < 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	r->h.nlmsg_seq = seq;
	if (!fn)
		r->h.nlmsg_flags |= NLM_F_ACK;
	do
		n = sendto(nl->fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel,
			   sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return mpq_oserr_set(&nl->err, call, errno);
	for (;;) {
		const struct nlmsghdr *h;
		size_t left;

		n = recv(nl->fd, nl->buf, sizeof(nl->buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mpq_oserr_set(&nl->err, call, errno == EAGAIN ? ETIMEDOUT : errno);
		left = (size_t)n;
		for (h = (const struct nlmsghdr *)nl->buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq || h->nlmsg_type == NLMSG_NOOP)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return mpq_oserr_set(&nl->err, call, EPROTO);
				if (e->error == 0)
					return 0;
				return mpq_oserr_set(&nl->err, call, -e->error);
			}
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (fn) {
				int rv = fn(h, arg);

				/* One message answers a plain get. */
				if (!(h->nlmsg_flags & NLM_F_MULTI))
					return rv;
				if (rv < 0)
					return rv;
			}
		}
	}
}

/* The attributes after a |hdr|-byte family header, by type (those above
 * |max| ignored). Returns false when the message is shorter than its header. */
static bool parse_attrs(const struct nlmsghdr *h, size_t hdr, const struct rtattr **tb, int max)
{
	const struct rtattr *a;
	size_t len;

	memset(tb, 0, sizeof(*tb) * ((size_t)max + 1));
	if (h->nlmsg_len < NLMSG_LENGTH(hdr))
		return false;
	len = h->nlmsg_len - NLMSG_SPACE(hdr);
	if (h->nlmsg_len < NLMSG_SPACE(hdr))
		len = 0;
	a = (const struct rtattr *)((const uint8_t *)NLMSG_DATA(h) + NLMSG_ALIGN(hdr));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type <= max)
			tb[a->rta_type] = a;
	return true;
}

static size_t attr_len(const struct rtattr *a)
{
	return RTA_PAYLOAD(a);
}

/* The address bytes of an IPv4 or IPv6 mpq_addr, with their length. */
static const void *ip_bytes(const mpq_addr *a, size_t *len)
{
	if (a->ss.ss_family == AF_INET && a->len >= sizeof(struct sockaddr_in)) {
		*len = 4;
		return &((const struct sockaddr_in *)&a->ss)->sin_addr;
	}
	if (a->ss.ss_family == AF_INET6 && a->len >= sizeof(struct sockaddr_in6)) {
		*len = 16;
		return &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
	}
	return NULL;
}

/* An address of |family| from attribute |a| (port 0; a link-local IPv6
 * address gets |scope|). Returns false for a wrong length. */
static bool addr_from_attr(mpq_addr *out, int family, const struct rtattr *a, uint32_t scope)
{
	memset(out, 0, sizeof(*out));
	if (family == AF_INET && attr_len(a) == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, RTA_DATA(a), 4);
		out->len = sizeof(*sin);
		return true;
	}
	if (family == AF_INET6 && attr_len(a) == 16) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, RTA_DATA(a), 16);
		if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
			sin6->sin6_scope_id = scope;
		out->len = sizeof(*sin6);
		return true;
	}
	return false;
}

static int link_reply(const struct nlmsghdr *h, void *arg)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *tb[IFLA_MAX + 1];
	mpq_link *out = arg;

	if (h->nlmsg_type != RTM_NEWLINK || !parse_attrs(h, sizeof(*ifi), tb, IFLA_MAX))
		return MPQ_ERR_INTERNAL;
	memset(out, 0, sizeof(*out));
	out->ifindex = (uint32_t)ifi->ifi_index;
	out->up = ifi->ifi_flags & IFF_UP;
	out->lower_up = ifi->ifi_flags & IFF_LOWER_UP;
	if (tb[IFLA_IFNAME]) {
		size_t n = attr_len(tb[IFLA_IFNAME]);

		if (n >= sizeof(out->name))
			n = sizeof(out->name) - 1;
		memcpy(out->name, RTA_DATA(tb[IFLA_IFNAME]), n);
		out->name[strnlen(out->name, n)] = '\0';
	}
	if (tb[IFLA_MTU] && attr_len(tb[IFLA_MTU]) == 4)
		memcpy(&out->mtu, RTA_DATA(tb[IFLA_MTU]), 4);
	if (ifi->ifi_type == ARPHRD_ETHER && tb[IFLA_ADDRESS] &&
	    attr_len(tb[IFLA_ADDRESS]) == sizeof(out->mac)) {
		memcpy(out->mac, RTA_DATA(tb[IFLA_ADDRESS]), sizeof(out->mac));
		out->ether = true;
	}
	return 0;
}

int mpq_netif_link(mpq_netif *nl, uint32_t ifindex, const char *name, mpq_link *out)
{
	struct nl_req r;
	int rv;

	if (!ifindex && (!name || !*name || strlen(name) >= MPQ_NETIF_NAMESIZE))
		return MPQ_ERR_INVALID_ARGUMENT;
	req_init(&r, RTM_GETLINK, 0, sizeof(r.ifi));
	r.ifi.ifi_family = AF_UNSPEC;
	r.ifi.ifi_index = (int)ifindex;
	if (!ifindex)
		req_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	rv = transact(nl, &r, "RTM_GETLINK", link_reply, out);
	if (rv == MPQ_ERR_INTERNAL && nl->err.errnum == ENODEV)
		return MPQ_ERR_NOT_FOUND;
	return rv;
}

struct route_ctx {
	mpq_netif *nl;
	mpq_route *out;
	int family;
};

/* The gateway of an IPv4 route through an IPv6 next hop (RFC 5549). */
static bool via_gateway(const struct rtattr *a, uint32_t ifindex, mpq_addr *gw)
{
	const struct rtvia *via = RTA_DATA(a);
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&gw->ss;

	if (attr_len(a) != sizeof(*via) + 16 || via->rtvia_family != AF_INET6)
		return false;
	memset(gw, 0, sizeof(*gw));
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, via->rtvia_addr, 16);
	if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
		sin6->sin6_scope_id = ifindex;
	gw->len = sizeof(*sin6);
	return true;
}

static int route_reply(const struct nlmsghdr *h, void *arg)
{
	const struct rtmsg *rt = NLMSG_DATA(h);
	const struct rtattr *tb[RTA_MAX + 1];
	struct route_ctx *c = arg;
	mpq_route *out = c->out;

	if (h->nlmsg_type != RTM_NEWROUTE || !parse_attrs(h, sizeof(*rt), tb, RTA_MAX))
		return mpq_oserr_set(&c->nl->err, "RTM_GETROUTE", EPROTO);
	/* Local, broadcast, blackhole, unreachable, prohibit: not out of a device. */
	if (rt->rtm_type != RTN_UNICAST || !tb[RTA_OIF] || attr_len(tb[RTA_OIF]) != 4)
		return mpq_oserr_set(&c->nl->err, "RTM_GETROUTE", ENETUNREACH);
	memcpy(&out->ifindex, RTA_DATA(tb[RTA_OIF]), 4);
	if (tb[RTA_PREFSRC])
		addr_from_attr(&out->prefsrc, c->family, tb[RTA_PREFSRC], out->ifindex);
	if (tb[RTA_GATEWAY])
		out->gateway =
			addr_from_attr(&out->nexthop, c->family, tb[RTA_GATEWAY], out->ifindex);
	else if (tb[RTA_VIA])
		out->gateway = via_gateway(tb[RTA_VIA], out->ifindex, &out->nexthop);
	return 0;
}

int mpq_netif_route(mpq_netif *nl, const mpq_addr *dst, uint32_t oif, mpq_route *out)
{
	struct route_ctx c = {.nl = nl, .out = out, .family = dst->ss.ss_family};
	const void *ip;
	struct nl_req r;
	size_t alen;
	int rv, e;

	ip = ip_bytes(dst, &alen);
	if (!ip)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (!oif && dst->ss.ss_family == AF_INET6)
		oif = ((const struct sockaddr_in6 *)&dst->ss)->sin6_scope_id;
	memset(out, 0, sizeof(*out));
	req_init(&r, RTM_GETROUTE, 0, sizeof(r.rt));
	r.rt.rtm_family = (uint8_t)dst->ss.ss_family;
	r.rt.rtm_dst_len = (uint8_t)(alen * 8);
	req_attr(&r, RTA_DST, ip, alen);
	if (oif)
		req_attr(&r, RTA_OIF, &oif, sizeof(oif));
	rv = transact(nl, &r, "RTM_GETROUTE", route_reply, &c);
	e = nl->err.errnum;
	if (rv < 0 &&
	    (e == ENETUNREACH || e == EHOSTUNREACH || e == ENETDOWN || e == ENODEV || e == EACCES))
		return MPQ_ERR_NOT_FOUND;
	if (rv < 0)
		return rv;
	if (!out->gateway) {
		out->nexthop = *dst;
		mpq_addr_set_port(&out->nexthop, 0);
	}
	return 0;
}

bool mpq_netif_neigh_usable(const mpq_neigh *n)
{
	return n->has_mac && (n->state & NUD_USABLE);
}

struct neigh_ctx {
	mpq_netif *nl;
	mpq_neigh *out;
};

static int neigh_reply(const struct nlmsghdr *h, void *arg)
{
	const struct ndmsg *nd = NLMSG_DATA(h);
	const struct rtattr *tb[NDA_MAX + 1];
	struct neigh_ctx *c = arg;

	if (h->nlmsg_type != RTM_NEWNEIGH || !parse_attrs(h, sizeof(*nd), tb, NDA_MAX))
		return mpq_oserr_set(&c->nl->err, "RTM_GETNEIGH", EPROTO);
	memset(c->out, 0, sizeof(*c->out));
	c->out->state = nd->ndm_state;
	if (tb[NDA_LLADDR] && attr_len(tb[NDA_LLADDR]) == sizeof(c->out->mac)) {
		memcpy(c->out->mac, RTA_DATA(tb[NDA_LLADDR]), sizeof(c->out->mac));
		c->out->has_mac = true;
	}
	return 0;
}

/* A neighbour request for |ip| on |ifindex| without attributes beyond NDA_DST. */
static int neigh_req(struct nl_req *r, uint16_t type, uint16_t flags, uint32_t ifindex,
		     const mpq_addr *ip)
{
	const void *bytes;
	size_t alen;

	bytes = ip_bytes(ip, &alen);
	if (!bytes || !ifindex || ifindex > INT32_MAX)
		return MPQ_ERR_INVALID_ARGUMENT;
	req_init(r, type, flags, sizeof(r->nd));
	r->nd.ndm_family = (uint8_t)ip->ss.ss_family;
	r->nd.ndm_ifindex = (int)ifindex;
	req_attr(r, NDA_DST, bytes, alen);
	return 0;
}

int mpq_netif_neigh_get(mpq_netif *nl, uint32_t ifindex, const mpq_addr *ip, mpq_neigh *out)
{
	struct neigh_ctx c = {.nl = nl, .out = out};
	struct nl_req r;
	int rv;

	rv = neigh_req(&r, RTM_GETNEIGH, 0, ifindex, ip);
	if (rv < 0)
		return rv;
	rv = transact(nl, &r, "RTM_GETNEIGH", neigh_reply, &c);
	if (rv < 0 && nl->err.errnum == ENOENT)
		return MPQ_ERR_NOT_FOUND;
	return rv;
}

/* The fallback when the kernel refuses NTF_USE: a zero-length datagram to
 * the neighbour's discard port out of |ifindex|, which the kernel queues
 * behind the resolution it starts. */
static int poke_udp(mpq_netif *nl, uint32_t ifindex, const mpq_addr *ip)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cbuf;
	struct msghdr msg = {.msg_control = cbuf.buf};
	struct cmsghdr *c = (struct cmsghdr *)cbuf.buf;
	int fam = ip->ss.ss_family;
	mpq_addr dst = *ip;
	ssize_t n;
	int fd;

	memset(&cbuf, 0, sizeof(cbuf));
	mpq_addr_set_port(&dst, DISCARD_PORT);
	msg.msg_name = &dst.ss;
	msg.msg_namelen = dst.len;
	if (fam == AF_INET) {
		struct in_pktinfo pi = {.ipi_ifindex = (int)ifindex};

		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		msg.msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi = {.ipi6_ifindex = ifindex};

		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		msg.msg_controllen = CMSG_SPACE(sizeof(pi));
	}
	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return mpq_oserr_set(&nl->err, "socket", errno);
	n = sendmsg(fd, &msg, MSG_DONTWAIT);
	close(fd);
	nl->pokes++;
	/* A full queue behind an incomplete entry still means "resolving". */
	if (n < 0 && errno != EAGAIN && errno != ENOBUFS)
		return mpq_oserr_set(&nl->err, "sendmsg (neighbour resolution)", errno);
	return 0;
}

/* NTF_USE, or the datagram when the kernel refuses it; |poked| says which. */
static int start_resolution(mpq_netif *nl, uint32_t ifindex, const mpq_addr *ip, bool *poked)
{
	struct nl_req r;
	int rv;

	*poked = false;
	rv = neigh_req(&r, RTM_NEWNEIGH, NLM_F_CREATE, ifindex, ip);
	if (rv < 0)
		return rv;
	r.nd.ndm_flags = NTF_USE;
	rv = transact(nl, &r, "RTM_NEWNEIGH NTF_USE", NULL, NULL);
	if (rv < 0 && (nl->err.errnum == EPERM || nl->err.errnum == EOPNOTSUPP)) {
		rv = poke_udp(nl, ifindex, ip);
		*poked = rv == 0;
	}
	if (rv < 0 && nl->err.errnum == ENODEV)
		return MPQ_ERR_NOT_FOUND;
	return rv;
}

int mpq_netif_neigh_probe(mpq_netif *nl, uint32_t ifindex, const mpq_addr *ip)
{
	bool poked;

	return start_resolution(nl, ifindex, ip, &poked);
}

int mpq_netif_neigh_set(mpq_netif *nl, uint32_t ifindex, const mpq_addr *ip, const uint8_t *mac)
{
	struct nl_req r;
	int rv;

	rv = neigh_req(&r, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ifindex, ip);
	if (rv < 0)
		return rv;
	r.nd.ndm_state = NUD_REACHABLE;
	req_attr(&r, NDA_LLADDR, mac, 6);
	return transact(nl, &r, "RTM_NEWNEIGH", NULL, NULL);
}

/* The datagram after an unanswered NTF_USE. The incomplete entry would
 * only solicit again at its next retransmission (1 s for ND): without it,
 * the datagram makes a new entry that solicits at once, with the
 * datagram's source. Failures leave the wait to end as it would. */
static void escalate_resolution(mpq_netif *nl, uint32_t ifindex, const mpq_addr *ip)
{
	struct nl_req r;

	if (neigh_req(&r, RTM_DELNEIGH, 0, ifindex, ip) == 0)
		transact(nl, &r, "RTM_DELNEIGH", NULL, NULL);
	poke_udp(nl, ifindex, ip);
	mpq_oserr_clear(&nl->err);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
			      .tv_nsec = (long)(ns % 1000000000ull)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* 0 with |mac| filled when usable, 1 when not (yet), or an error. */
static int look(mpq_netif *nl, uint32_t ifindex, const mpq_addr *ip, uint8_t *mac, uint16_t *state)
{
	mpq_neigh n;
	int rv = mpq_netif_neigh_get(nl, ifindex, ip, &n);

	*state = 0;
	if (rv == MPQ_ERR_NOT_FOUND)
		return 1;
	if (rv < 0)
		return rv;
	*state = n.state;
	if (!mpq_netif_neigh_usable(&n))
		return 1;
	memcpy(mac, n.mac, sizeof(n.mac));
	return 0;
}

int mpq_netif_resolve(mpq_netif *nl, uint32_t ifindex, const mpq_addr *ip, unsigned int timeout_ms,
		      mpq_netif_pump_fn pump, void *ctx, uint8_t *mac)
{
	uint64_t now, deadline, escalate, wait = POLL_MIN_NS;
	uint16_t state;
	bool poked;
	int rv;

	rv = look(nl, ifindex, ip, mac, &state);
	if (rv <= 0)
		return rv;
	rv = start_resolution(nl, ifindex, ip, &poked);
	if (rv < 0)
		return rv;
	now = now_ns();
	deadline = now + (uint64_t)timeout_ms * 1000000ull;
	escalate =
		now + (timeout_ms / 4 < ESCALATE_MS ? timeout_ms / 4 : ESCALATE_MS) * 1000000ull;
	for (;;) {
		if (pump)
			pump(ctx);
		rv = look(nl, ifindex, ip, mac, &state);
		if (rv <= 0)
			return rv;
		/* The probe left it incomplete: failed means the kernel gave up. */
		if (state & NUD_FAILED) {
			mpq_oserr_set(&nl->err, "neighbour resolution", EHOSTUNREACH);
			return MPQ_ERR_NOT_FOUND;
		}
		now = now_ns();
		if (now >= deadline) {
			mpq_oserr_set(&nl->err, "neighbour resolution", ETIMEDOUT);
			return MPQ_ERR_NOT_FOUND;
		}
		/* NTF_USE sends nothing when the kernel has no source for its
		 * request (IPv6 without a usable link-local address): a
		 * datagram gives it one. */
		if (!poked && now >= escalate) {
			poked = true;
			escalate_resolution(nl, ifindex, ip);
		}
		sleep_ns(deadline - now < wait ? deadline - now : wait);
		if (wait < POLL_MAX_NS)
			wait *= 2;
	}
}
