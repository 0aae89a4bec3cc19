/* mpq-client's paths: see client.h. */
#include <errno.h>
#include <time.h> /* before linux/errqueue.h, which needs struct timespec */
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "client.h"
#include "common/localaddr.h"
#include "common/tool.h"

/* "10.0.2.1:40123 on veth1 to 10.0.2.2:6121", for messages; a socket on
 * the wildcard shows the source address the routes choose. */
void path_text(const struct cpath *p, char *buf, size_t len)
{
	char local[MPQ_ADDR_STRLEN], remote[MPQ_ADDR_STRLEN];
	mpq_addr src = p->sock.io->local;

	if (mpq_addr_is_any(&src) && tool_route_source(&p->remote, &src) == 0)
		mpq_addr_set_port(&src, mpq_addr_port(&p->sock.io->local));
	mpq_addr_format(&src, local, sizeof(local));
	mpq_addr_format(&p->remote, remote, sizeof(remote));
	snprintf(buf, len, "%s%s%s to %s", local, p->ifname ? " on " : "",
		 p->ifname ? p->ifname : "", remote);
}

/* The path socket a connection's path uses (mpq_path.user_data), or NULL. */
struct cpath *path_of(struct client *c, const void *user_data)
{
	for (size_t i = 0; i < c->npaths; i++)
		if (user_data == &c->paths[i].sock)
			return &c->paths[i];
	return NULL;
}

/* A new path to |remote| from |ifname|; the caller checked there is room. */
static struct cpath *add_path(struct client *c, const char *ifname, const mpq_addr *remote)
{
	struct cpath *p = &c->paths[c->npaths];

	memset(p, 0, sizeof(*p));
	p->c = c;
	p->ifname = ifname;
	p->remote = *remote;
	p->state = c->npaths == 0 ? CPATH_OPEN : CPATH_WAITING;
	c->npaths++;
	return p;
}

/* The paths of the command line (CLI.md seed mapping): interface 0 reaches
 * the URL's address, interface k+1 the k-th -mip address (the URL's address
 * when -mip has fewer; the kernel's choice of interface when -n has fewer);
 * -fmp one more from interface 0. Returns 0 or TOOL_EXIT_USAGE after one line. */
int plan_paths(struct client *c)
{
	const struct client_opts *o = &c->o;
	const mpq_addr *url = &c->fetches[0].url.addr;
	const char *mips[MAX_PATHS];
	char mipbuf[1024];
	int nmip = 0, nextra;

	if (o->ifaces) {
		c->nifs = tool_split_list("-n", o->ifaces, c->ifbuf, sizeof(c->ifbuf), c->ifs,
					  MAX_PATHS);
		if (c->nifs < 0)
			return TOOL_EXIT_USAGE;
	}
	if (o->more_remotes) {
		nmip = tool_split_list("-mip", o->more_remotes, mipbuf, sizeof(mipbuf), mips,
				       MAX_PATHS - 1);
		if (nmip < 0)
			return TOOL_EXIT_USAGE;
	}
	nextra = nmip > c->nifs - 1 ? nmip : c->nifs - 1;
	if (1 + nextra + o->fake_multipath > MAX_PATHS) {
		tool_err("-n, -mip and -fmp ask for more than %d paths", MAX_PATHS);
		return TOOL_EXIT_USAGE;
	}
	add_path(c, c->nifs ? c->ifs[0] : NULL, url);
	for (int k = 0; k < nextra; k++) {
		mpq_addr a = *url;

		if (k < nmip && mpq_addr_parse(&a, mips[k]) < 0) {
			tool_err("-mip: '%s' is not an address and port "
				 "(A.B.C.D:PORT or [V6]:PORT)",
				 mips[k]);
			return TOOL_EXIT_USAGE;
		}
		add_path(c, k + 1 < c->nifs ? c->ifs[k + 1] : NULL, &a);
	}
	if (o->fake_multipath)
		add_path(c, c->nifs ? c->ifs[0] : NULL, url);
	return 0;
}

/* Does a path other than |p| have the AF_XDP socket of |ifname|? */
static bool xdp_iface_taken(const struct client *c, const struct cpath *p, const char *ifname)
{
	for (size_t i = 0; i < c->npaths; i++)
		if (&c->paths[i] != p && c->paths[i].sock.prog &&
		    strcmp(c->paths[i].sock.ifname, ifname) == 0)
			return true;
	return false;
}

/* Opens |p|'s path I/O object for |local| as --io says: xdp on the path's
 * interface (-n, else the one the route to the server leaves by, from the
 * route's source address), or udp; auto tries xdp and falls back to udp,
 * saying why when an attempt failed (with -v also when it was not tried:
 * not root, loopback). An attached XDP program is said unless -q.
 * Returns 0, or an MPQ_ERR_* with |why| and |status|. */
static int open_path_io(struct client *c, struct cpath *p, const mpq_addr *local, char *why,
			size_t len, int *status)
{
	enum tool_io io = tool_io_parse(c->o.t.io);
	char ifname[IF_NAMESIZE] = "", xwhy[256], text[160], remote[MPQ_ADDR_STRLEN];
	const char *unusable = NULL;
	bool tried = false;
	mpq_oserr err = {0};
	mpq_addr xlocal = *local;
	int rv;

	mpq_addr_format(&p->remote, remote, sizeof(remote));
	if (io != TOOL_IO_UDP) {
		if (p->ifname)
			snprintf(ifname, sizeof(ifname), "%s", p->ifname);
		else if (tool_route_source(&p->remote, &xlocal) < 0 ||
			 tool_addr_iface(&xlocal, ifname, sizeof(ifname)) < 0)
			unusable = "no route to the server";
		if (!unusable)
			unusable = tool_xdp_unusable(ifname);
		if (!unusable && xdp_iface_taken(c, p, ifname))
			unusable = "another path has the interface's AF_XDP socket";
		if (!unusable) {
			tried = true;
			rv = tool_sock_open_xdp(&p->sock, &xlocal, ifname, true, &c->o.t.verbose,
						xwhy, sizeof(xwhy));
			if (rv == 0) {
				/* An XDP program on the user's interface: say so. */
				if (!c->o.t.quiet)
					tool_err("path I/O: xdp on %s (%s) to %s: an XDP program "
						 "is attached to %s until the client exits "
						 "(--io udp: none)",
						 ifname, p->sock.mode, remote, ifname);
				return 0;
			}
			unusable = xwhy;
		}
		if (io == TOOL_IO_XDP) {
			snprintf(why, len, "--io xdp: %s: %s (use --io udp)",
				 ifname[0] ? ifname : remote, unusable);
			/* Not tried on a known interface (loopback, not root, taken):
			 * the command line asks for what cannot be, as the server
			 * says too. */
			*status = ifname[0] && !tried ? TOOL_EXIT_USAGE : TOOL_EXIT_CONN;
			return MPQ_ERR_INVALID_ARGUMENT;
		}
		if ((tried && !c->o.t.quiet) || c->o.t.verbose)
			tool_err("path I/O: udp to %s (auto: %s%s%s)", remote, ifname,
				 ifname[0] ? ": " : "", unusable);
	}
	rv = tool_sock_open(&p->sock, local, p->ifname, &err);
	*status = TOOL_EXIT_CONN;
	tool_oserr_text(text, sizeof(text), rv, &err);
	snprintf(why, len, "cannot connect to %s: cannot open a UDP socket%s%s: %s", remote,
		 p->ifname ? " on " : "", p->ifname ? p->ifname : "", text);
	return rv;
}

/* Opens |p|'s socket, on its interface with an address of the remote's
 * family there (or on the wildcard), and watches it once the loop exists.
 * Returns 0, or an exit status after one line: an error, or only a warning
 * for a path to an |announced| address. */
static int open_path_socket(struct client *c, struct cpath *p, bool announced)
{
	int fam = p->remote.ss.ss_family;
	int on = 1, status = TOOL_EXIT_USAGE, rv = 0;
	char why[512], remote[MPQ_ADDR_STRLEN];
	mpq_addr local;

	mpq_addr_format(&p->remote, remote, sizeof(remote));
	mpq_addr_any(&local, fam, 0);
	if (p->ifname)
		rv = tool_iface_local(p->ifname, &p->remote, &local);
	if (rv == MPQ_ERR_NOT_FOUND) {
		snprintf(why, sizeof(why), "-n %s: no such interface", p->ifname);
	} else if (rv < 0) {
		snprintf(why, sizeof(why), "-n %s: the interface has no %s%s address to reach %s",
			 p->ifname, tool_addr_is_link_local(&p->remote) ? "link-local " : "",
			 fam == AF_INET ? "IPv4" : "IPv6", remote);
	} else {
		rv = open_path_io(c, p, &local, why, sizeof(why), &status);
	}
	if (rv == 0 && !p->sock.prog) {
		/* ICMP errors (port unreachable) reach an unconnected socket only
		 * with IP_RECVERR; without it a closed port means waiting for the
		 * timeout. */
		if (fam == AF_INET)
			setsockopt(mpq_pathio_fd(p->sock.io), IPPROTO_IP, IP_RECVERR, &on,
				   sizeof(on));
		else
			setsockopt(mpq_pathio_fd(p->sock.io), IPPROTO_IPV6, IPV6_RECVERR, &on,
				   sizeof(on));
	}
	if (rv == 0) {
		if (!c->loop)
			return 0;
		rv = mpq_loop_add_fd(c->loop, mpq_pathio_fd(p->sock.io), MPQ_LOOP_READ,
				     on_readable, p);
		status = TOOL_EXIT_FAIL;
		snprintf(why, sizeof(why), "cannot watch the socket of %s: %s", p->sock.name,
			 mpq_strerror(rv));
		p->watched = rv == 0;
	}
	if (rv == 0)
		return 0;
	tool_sock_close(&p->sock);
	if (announced)
		tool_warn("no path to the announced %s: %s", remote, why);
	else
		tool_err("%s", why);
	return status;
}

int open_path_sockets(struct client *c)
{
	for (size_t i = 0; i < c->npaths; i++) {
		int rv = open_path_socket(c, &c->paths[i], false);

		if (rv != 0)
			return rv;
	}
	return 0;
}

static bool iface_used(const struct client *c, const char *ifname)
{
	for (size_t i = 0; i < c->npaths; i++)
		if (c->paths[i].ifname && strcmp(c->paths[i].ifname, ifname) == 0)
			return true;
	return false;
}

/* The -n interface for a path to announced |addr|: the one the routes
 * choose for it, else the next unused one, else the first (unused first
 * among equals). NULL without -n: the kernel's choice. */
static const char *announced_iface(const struct client *c, const mpq_addr *addr)
{
	mpq_addr src;
	bool routed = tool_route_source(addr, &src) == 0;
	int best = 0, best_score = -1;

	for (int i = 0; i < c->nifs; i++) {
		int score = 2 * (routed && tool_iface_has(c->ifs[i], &src)) +
			    !iface_used(c, c->ifs[i]);

		if (score > best_score) {
			best = i;
			best_score = score;
		}
	}
	return c->nifs ? c->ifs[best] : NULL;
}

/* Why no path goes to announced |addr|, or NULL: -mip names the paths
 * itself; the URL's address family only; nothing this host cannot reach
 * (link-local, another host's loopback); one path per address. */
static const char *announced_skip(const struct client *c, const mpq_addr *addr)
{
	const mpq_addr *url = &c->fetches[0].url.addr;

	if (c->o.more_remotes)
		return "-mip names the paths";
	if (addr->ss.ss_family != url->ss.ss_family)
		return "not the address family of the URL";
	if (tool_addr_is_link_local(addr) ||
	    (tool_addr_is_loopback(addr) && !tool_addr_is_loopback(url)))
		return "not reachable from here";
	for (size_t i = 0; i < c->npaths; i++)
		if (mpq_addr_equal(&c->paths[i].remote, addr))
			return "a path goes there already";
	if (c->npaths == MAX_PATHS)
		return "too many paths";
	return NULL;
}

/* The server announced |addr| (ADD_ADDRESS): one more path to it. It is
 * opened with the others, after this event. */
int on_address(mpq_conn *conn, const mpq_addr *addr, void *ud)
{
	struct client *c = ud;
	const char *skip = announced_skip(c, addr);
	char text[MPQ_ADDR_STRLEN];
	struct cpath *p;

	mpq_addr_format(addr, text, sizeof(text));
	if (skip) {
		if (c->o.t.verbose)
			tool_err("the server announced %s: no path to it (%s)", text, skip);
		return 0;
	}
	p = add_path(c, announced_iface(c, addr), addr);
	if (open_path_socket(c, p, true) != 0) {
		c->npaths--;
		return 0;
	}
	if (c->o.t.verbose)
		tool_err("the server announced %s: a path to it from %s", text,
			 p->ifname ? p->ifname : "the interface the routes choose");
	return 0;
}

/* Paths |from| on will not be opened: one warning saying why. */
static void give_up_paths(struct client *c, size_t from, const char *why)
{
	size_t n = 0;

	for (size_t i = from; i < c->npaths; i++) {
		if (c->paths[i].state == CPATH_WAITING) {
			c->paths[i].state = CPATH_GAVE_UP;
			n++;
		}
	}
	tool_warn("%zu path%s not opened: %s", n, n == 1 ? "" : "s", why);
}

/* Opens the waiting paths in order, as far as the connection allows now;
 * after every event, so a path waiting for the CIDs of its path ID is tried
 * again when packets have come (OPEN_TRIES times). */
void open_paths(struct client *c)
{
	const mpq_tparams *tp;
	uint64_t max;

	if (!c->paths_due || c->closing || c->conn_err)
		return;
	tp = mpq_conn_peer_tparams(c->conn);
	max = tp->initial_max_path_id < c->o.t.max_paths ? tp->initial_max_path_id
							 : c->o.t.max_paths;
	for (size_t i = 1; i < c->npaths; i++) {
		struct cpath *p = &c->paths[i];
		mpq_path tuple;
		int rv;

		if (p->state != CPATH_WAITING)
			continue;
		if (!mpq_conn_is_multipath(c->conn)) {
			give_up_paths(c, i, "the server does not offer multipath");
			return;
		}
		/* Path IDs are used in order and never twice. Past the
		 * server's first limit only its MAX_PATH_ID helps: a replaced
		 * path waits for one (OPEN_TRIES events). */
		if (mpq_conn_path_count(c->conn) > max && !c->o.replace_ms) {
			char why[128];

			snprintf(why, sizeof(why),
				 "no path ID left (the server allows IDs up to %llu, "
				 "this client %llu)",
				 (unsigned long long)tp->initial_max_path_id,
				 (unsigned long long)c->o.t.max_paths);
			give_up_paths(c, i, why);
			return;
		}
		tuple = (mpq_path){.local = p->sock.io->local,
				   .remote = p->remote,
				   .ifindex = p->sock.io->ifindex,
				   .user_data = &p->sock};
		rv = mpq_conn_open_path(c->conn, &tuple, &p->path_id);
		if (rv == 0) {
			p->state = CPATH_OPEN;
			p->opened = mpq_loop_now();
			if (c->o.t.verbose) {
				char text[256];

				path_text(p, text, sizeof(text));
				tool_err("path %u: %s", p->path_id, text);
			}
			continue;
		}
		/* Not yet: the handshake is not confirmed, or the CIDs of the
		 * next path ID have not arrived. */
		if (rv == MPQ_ERR_INVALID_ARGUMENT ||
		    (rv == MPQ_ERR_NOT_FOUND && ++p->tries < OPEN_TRIES))
			return;
		give_up_paths(c, i,
			      rv == MPQ_ERR_NOT_FOUND
				      ? "the server sent no connection IDs for the next path ID"
				      : mpq_strerror(rv));
		return;
	}
}

void replace_path(struct client *c)
{
	struct cpath *last = NULL;
	int rv;

	for (size_t i = 1; i < c->npaths; i++) {
		struct cpath *p = &c->paths[i];

		if (p->state == CPATH_OPEN && (!last || p->path_id > last->path_id))
			last = p;
	}
	/* Path IDs are not used up: the library reuses a released path's slot. */
	if (!last || c->closing || c->conn_err)
		return;
	rv = mpq_conn_abandon_path(c->conn, last->path_id, 0);
	if (rv < 0) {
		if (c->o.t.verbose)
			tool_err("--replace-path: path %u: %s", last->path_id, mpq_strerror(rv));
		return;
	}
	if (c->o.t.verbose)
		tool_err("path %u: abandoned, to be replaced", last->path_id);
	last->state = CPATH_WAITING;
	last->tries = 0;
}

bool is_icmp_errno(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN ||
	       e == ENONET || e == EPROTO || e == ENETDOWN;
}

/* An ICMP error about a datagram sent on |p| (IP_RECVERR), or a send the
 * kernel refused: before the handshake completes, the server is unreachable
 * or not listening. Later ones are ignored, as QUIC does: the connection
 * finds out itself whether the path still works (said once with -v). */
void on_icmp_error(struct client *c, struct cpath *p, int errnum)
{
	char text[256];

	if (p == c->paths && !c->handshake_done) {
		if (errnum == ECONNREFUSED)
			fail(c, MPQ_ERR_INTERNAL,
			     "connection refused (nothing listens on that port)");
		else
			fail(c, MPQ_ERR_INTERNAL, "%s", strerror(errnum));
		return;
	}
	if (c->o.t.verbose && errnum != p->last_errnum) {
		path_text(p, text, sizeof(text));
		tool_err("path %s: %s", text, strerror(errnum));
	}
	p->last_errnum = errnum;
}

/* Reads the socket's error queue (IP_RECVERR) so that epoll stops reporting it. */
void drain_errqueue(struct cpath *p)
{
	int fd = mpq_pathio_fd(p->sock.io);

	for (int i = 0; i < 64; i++) {
		uint8_t data[64], control[512];
		struct iovec iov = {data, sizeof(data)};
		struct msghdr m = {.msg_iov = &iov,
				   .msg_iovlen = 1,
				   .msg_control = control,
				   .msg_controllen = sizeof(control)};

		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			const struct sock_extended_err *ee = (const void *)CMSG_DATA(cm);

			if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR) ||
			    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR))
				if (is_icmp_errno((int)ee->ee_errno))
					on_icmp_error(p->c, p, (int)ee->ee_errno);
		}
	}
}

const char *path_never_validated(const struct client *c, const struct cpath *p,
				 const mpq_path_stats *st, char *buf, size_t len)
{
	if (st->state != MPQ_PATH_STATE_VALIDATING || !p || !p->opened || c->conn_err)
		return NULL;
	if (p->last_errnum)
		snprintf(buf, len, "never validated: %s", strerror(p->last_errnum));
	else if (c->end >= p->opened + MPQ_SEC)
		snprintf(buf, len, "never validated: no answer in %.1f s",
			 (double)(c->end - p->opened) / 1e9);
	else
		return NULL;
	return buf;
}
