/* mpq-server's listening addresses and their sockets: see server.h. */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/localaddr.h"
#include "common/tool.h"
#include "mpq/io/xsk.h"
#include "server.h"

/* A tool_sock around |io| (which it closes). */
int sock_wrap(struct tool_sock *sock, mpq_pathio *io)
{
	memset(sock, 0, sizeof(*sock));
	sock->tx_buf = malloc(TOOL_TX_BUF);
	if (!sock->tx_buf) {
		mpq_pathio_close(io);
		return MPQ_ERR_NOMEM;
	}
	sock->io = io;
	io->capture = tool_capture;
	mpq_addr_format(&io->local, sock->name, sizeof(sock->name));
	return 0;
}

/* --workers: an SO_REUSEPORT group on |a|; worker 0's socket goes to |l|. */
static int open_group(struct listener *l, const mpq_addr *a, uint32_t n, mpq_oserr *err)
{
	mpq_pathio_config cfg;
	int rv;

	mpq_pathio_config_default(&cfg);
	cfg.local = *a;
	cfg.batch = 32;
	cfg.max_dgram = TOOL_MAX_DGRAM;
	rv = mpq_reuseport_open(&l->group, &cfg, n, err);
	if (rv < 0)
		return rv;
	rv = sock_wrap(&l->sock, mpq_reuseport_take(l->group, 0));
	if (rv < 0) {
		mpq_reuseport_close(l->group);
		l->group = NULL;
	}
	return rv;
}

static int add_address(struct server *s, const mpq_addr *a, const char *ifname)
{
	char text[160], where[MPQ_ADDR_STRLEN];
	struct listener *l;
	mpq_addr na = *a;
	mpq_oserr err;
	int rv;

	for (size_t i = 0; i < s->nlisten; i++)
		for (size_t j = 0; j < s->listen[i].naddrs; j++)
			if (mpq_addr_equal_ip(&s->listen[i].addrs[j], a))
				return 0; /* listed twice */
	if (s->nlisten == MAX_LISTEN) {
		tool_err("more than %d addresses to listen on", MAX_LISTEN);
		return TOOL_EXIT_USAGE;
	}
	l = &s->listen[s->nlisten];
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname ? ifname : "");
	mpq_addr_set_port(&na, (uint16_t)s->o.port);
	if (s->o.workers > 1)
		rv = open_group(l, &na, (uint32_t)s->o.workers, &err);
	else
		rv = tool_sock_open(&l->sock, &na, NULL, &err);
	if (rv == 0) {
		/* -port 0: the kernel's choice for the first address, then the same for all. */
		s->o.port = mpq_addr_port(&l->sock.io->local);
		l->addrs[0] = l->sock.io->local;
		l->naddrs = 1;
		s->nlisten++;
		return 0;
	}
	mpq_addr_format(&na, where, sizeof(where));
	tool_oserr_text(text, sizeof(text), rv, &err);
	/* In the default set, an address that is not ready (IPv6 still in
	 * duplicate address detection) is skipped. */
	if (s->listen_all && err.errnum == EADDRNOTAVAIL) {
		tool_warn("not listening on %s: %s", where, text);
		return 0;
	}
	if (err.errnum == EADDRNOTAVAIL) {
		tool_err("cannot listen on %s: not an address of this host", where);
		return TOOL_EXIT_USAGE;
	}
	tool_err("cannot listen on %s: %s", where, text);
	return TOOL_EXIT_FAIL;
}

/* Notes |a| (of interface |ifname|, NULL: look it up) for open_listeners. */
static int plan_address(struct server *s, const mpq_addr *a, const char *ifname)
{
	struct candidate *c;

	for (size_t i = 0; i < s->ncands; i++)
		if (mpq_addr_equal_ip(&s->cands[i].a, a))
			return 0; /* listed twice */
	if (s->ncands == MAX_LISTEN) {
		tool_err("more than %d addresses to listen on", MAX_LISTEN);
		return TOOL_EXIT_USAGE;
	}
	c = &s->cands[s->ncands++];
	c->a = *a;
	c->done = false;
	if (ifname)
		snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
	else if (tool_addr_iface(a, c->ifname, sizeof(c->ifname)) < 0)
		c->ifname[0] = '\0';
	return 0;
}

static void iosum_add(struct server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void iosum_add(struct server *s, const char *fmt, ...)
{
	size_t n = strlen(s->iosum);
	va_list ap;

	if (n && n + 2 < sizeof(s->iosum)) {
		memcpy(s->iosum + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(s->iosum + n, sizeof(s->iosum) - n, fmt, ap);
	va_end(ap);
}

/* The AF_XDP sockets of the other workers that none took. */
void close_xsk_rest(struct listener *l)
{
	for (uint32_t k = 0; l->xsk && k < l->nxsk; k++)
		mpq_pathio_close(l->xsk[k]);
	free(l->xsk);
	l->xsk = NULL;
	l->nxsk = 0;
}

/* One AF_XDP listener for the candidates of interface |ifname| from |first| on,
 * both families: bound to the address when there is one, else to the IPv6
 * wildcard (IPv6 alone when there is no IPv4 address), which serves both
 * (io/xsk.h); the steering program takes only the candidates' datagrams.
 * With --workers N, every worker has a socket on every rx queue; worker 0's
 * go to the listener, the others' wait in l->xsk for their worker. Returns 0
 * (opened, or -1 in |*failed| with |why| set when it could not be) or an
 * exit status. */
static int open_xdp_listener(struct server *s, size_t first, char *why, size_t len, bool *failed)
{
	const char *ifname = s->cands[first].ifname;
	uint32_t n = s->o.workers > 1 ? (uint32_t)s->o.workers : 1;
	mpq_addr serve[MAX_LISTEN], local;
	struct tool_xdp_req r = {
		.local = &local,
		.serve = serve,
		.ifname = ifname,
		.n_workers = n,
		.v6only = true,
		.verbose = &s->o.t.verbose,
	};
	struct listener *l;
	int rv;

	*failed = false;
	if (s->nlisten == MAX_LISTEN) {
		tool_err("more than %d addresses to listen on", MAX_LISTEN);
		return TOOL_EXIT_USAGE;
	}
	l = &s->listen[s->nlisten];
	memset(l, 0, sizeof(*l));
	for (size_t i = first; i < s->ncands; i++) {
		struct candidate *c = &s->cands[i];

		if (strcmp(c->ifname, ifname) != 0)
			continue;
		serve[r.n_serve] = c->a;
		mpq_addr_set_port(&serve[r.n_serve++], (uint16_t)s->o.port);
		r.v6only &= c->a.ss.ss_family == AF_INET6;
	}
	if (r.n_serve == 1)
		local = serve[0];
	else
		mpq_addr_any(&local, AF_INET6, (uint16_t)s->o.port);
	l->xsk = n > 1 ? calloc(n, sizeof(*l->xsk)) : NULL;
	if (n > 1 && !l->xsk) {
		snprintf(why, len, "out of memory");
		*failed = true;
		return 0;
	}
	l->nxsk = n > 1 ? n : 0;
	rv = tool_xdp_open(&l->sock, l->xsk, &r, why, len);
	if (rv < 0) {
		close_xsk_rest(l);
		*failed = true;
		return 0;
	}
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
	s->o.port = mpq_addr_port(&l->sock.io->local);
	for (size_t j = 0; j < r.n_serve && l->naddrs < MAX_IF_ADDRS; j++) {
		l->addrs[l->naddrs] = serve[j];
		mpq_addr_set_port(&l->addrs[l->naddrs++], (uint16_t)s->o.port);
	}
	s->nlisten++;
	for (size_t i = first; i < s->ncands; i++)
		if (strcmp(s->cands[i].ifname, ifname) == 0)
			s->cands[i].done = true;
	iosum_add(s, "xdp on %s (%s)", ifname, l->sock.mode);
	return 0;
}

/* Opens the sockets for the candidates (--io): per interface one AF_XDP
 * listener, or one UDP socket per address. */
static int open_listeners(struct server *s)
{
	enum tool_io io = tool_io_parse(s->o.t.io);
	int rv = 0;

	for (size_t i = 0; i < s->ncands && rv == 0; i++) {
		struct candidate *c = &s->cands[i];
		const char *ifname = c->ifname, *unusable;
		char why[256] = "";
		bool failed = false, udp = io == TOOL_IO_UDP || !ifname[0] ||
					   (s->o.workers > 1 && io != TOOL_IO_XDP);

		if (c->done)
			continue;
		unusable = udp ? NULL : tool_xdp_unusable(ifname);
		if (unusable && io == TOOL_IO_XDP) {
			if (s->listen_all && tool_iface_is_loopback(ifname)) {
				c->done = true; /* the default set: only the others */
				continue;
			}
			/* Loopback or not root: exit 2, as the client. */
			tool_err("--io xdp: %s: %s (use --io udp)", ifname, unusable);
			return TOOL_EXIT_USAGE;
		}
		if (!udp && !unusable) {
			rv = open_xdp_listener(s, i, why, sizeof(why), &failed);
			if (rv != 0)
				return rv;
			if (!failed)
				continue;
			if (io == TOOL_IO_XDP) {
				tool_err("cannot listen on %s with AF_XDP: %s", ifname, why);
				return TOOL_EXIT_FAIL;
			}
			unusable = why;
		}
		/* udp for every address of this interface. */
		if (unusable && !strstr(s->iosum, ifname))
			iosum_add(s, "udp on %s (auto: %s)", ifname, unusable);
		for (size_t j = i; j < s->ncands && rv == 0; j++) {
			struct candidate *d = &s->cands[j];

			if (d->done || strcmp(d->ifname, ifname) != 0)
				continue;
			d->done = true;
			rv = add_address(s, &d->a, d->ifname[0] ? d->ifname : NULL);
		}
	}
	if (io == TOOL_IO_UDP)
		snprintf(s->iosum, sizeof(s->iosum), "udp");
	return rv;
}

int listen_addrs(struct server *s)
{
	char buf[1024];
	const char *items[MAX_LISTEN];
	int n = tool_split_list("--addr", s->o.addrs, buf, sizeof(buf), items, MAX_LISTEN);

	if (n < 0)
		return TOOL_EXIT_USAGE;
	for (int i = 0; i < n; i++) {
		mpq_addr a;
		int rv = mpq_addr_parse_ip(&a, items[i], 0);

		if (rv < 0) {
			tool_err("--addr: '%s' is not an IPv4 address or an IPv6 address in "
				 "[brackets]",
				 items[i]);
			return TOOL_EXIT_USAGE;
		}
		rv = plan_address(s, &a, NULL);
		if (rv != 0)
			return rv;
	}
	return open_listeners(s);
}

int listen_ifaces(struct server *s)
{
	char buf[1024];
	const char *items[MAX_LISTEN];
	int n = tool_split_list("-n", s->o.ifaces, buf, sizeof(buf), items, MAX_LISTEN);

	if (n < 0)
		return TOOL_EXIT_USAGE;
	for (int i = 0; i < n; i++) {
		mpq_addr addrs[MAX_LISTEN];
		int k = mpq_if_addrs(items[i], addrs, MAX_LISTEN);

		if (k == MPQ_ERR_NOT_FOUND || k == MPQ_ERR_INVALID_ARGUMENT) {
			tool_err("-n %s: no such interface", items[i]);
			return TOOL_EXIT_USAGE;
		}
		if (k < 0) {
			tool_err("-n %s: cannot read its addresses: %s", items[i],
				 mpq_strerror(k));
			return TOOL_EXIT_FAIL;
		}
		if (k == 0) {
			tool_err("-n %s: the interface has no IPv4 or IPv6 address", items[i]);
			return TOOL_EXIT_USAGE;
		}
		for (int j = 0; j < k && j < MAX_LISTEN; j++) {
			int rv = plan_address(s, &addrs[j], items[i]);

			if (rv != 0)
				return rv;
		}
	}
	return open_listeners(s);
}

/* Every address of every interface that is up. */
int listen_all(struct server *s)
{
	struct ifaddrs *ifa, *i;
	int rv = 0;

	if (getifaddrs(&ifa) < 0) {
		tool_err("cannot list the interfaces: %s", strerror(errno));
		return TOOL_EXIT_FAIL;
	}
	s->listen_all = true;
	for (i = ifa; i && rv == 0; i = i->ifa_next) {
		mpq_addr a;
		socklen_t len;

		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			len = sizeof(struct sockaddr_in);
		else if (i->ifa_addr->sa_family == AF_INET6)
			len = sizeof(struct sockaddr_in6);
		else
			continue;
		if (mpq_addr_set(&a, i->ifa_addr, len) == 0)
			rv = plan_address(s, &a, i->ifa_name);
	}
	freeifaddrs(ifa);
	if (rv == 0)
		rv = open_listeners(s);
	s->listen_all = false;
	if (rv == 0 && s->nlisten == 0) {
		tool_err("no interface is up with an address to listen on");
		rv = TOOL_EXIT_FAIL;
	}
	return rv;
}

/* --advertise: the listening addresses a client can use from elsewhere. Not
 * link-local ones (ADD_ADDRESS has no interface) nor the wildcard; loopback
 * ones only when nothing else is listened on. A client skips the one it
 * already uses. */
void plan_advertise(struct server *s)
{
	size_t max = MAX_ADVERTISE;
	bool only_loopback = true;

	for (size_t i = 0; i < s->nlisten; i++)
		for (size_t j = 0; j < s->listen[i].naddrs; j++)
			only_loopback &= tool_addr_is_loopback(&s->listen[i].addrs[j]);
	for (size_t i = 0; i < s->nlisten; i++) {
		for (size_t j = 0; j < s->listen[i].naddrs; j++) {
			const mpq_addr *a = &s->listen[i].addrs[j];

			if (mpq_addr_is_any(a) || tool_addr_is_link_local(a) ||
			    (tool_addr_is_loopback(a) && !only_loopback))
				continue;
			if (s->nadvertise == max) {
				tool_warn("--advertise: announcing only the first %zu addresses",
					  max);
				goto done;
			}
			s->advertise[s->nadvertise++] = *a;
		}
	}
done:
	if (s->nadvertise < 2)
		tool_warn("--advertise: no other address to announce");
}

void print_listening(const struct server *s)
{
	for (size_t i = 0; i < s->nlisten; i++) {
		const struct listener *l = &s->listen[i];

		for (size_t j = 0; j < l->naddrs; j++) {
			char text[MPQ_ADDR_STRLEN];

			mpq_addr_format(&l->addrs[j], text, sizeof(text));
			if (l->ifname[0])
				printf("listening on %s (%s%s)\n", text, l->ifname,
				       l->sock.prog ? ", xdp" : "");
			else
				printf("listening on %s\n", text);
		}
	}
	for (size_t i = 0; i < s->nadvertise; i++) {
		char text[MPQ_ADDR_STRLEN];

		mpq_addr_format(&s->advertise[i], text, sizeof(text));
		printf("announcing %s\n", text);
	}
	fflush(stdout);
}
