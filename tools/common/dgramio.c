/* Datagram queues and receive loop over path I/O: see dgramio.h. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dgramio.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/udp.h"
#include "mpq/io/xsk.h"
#include "mpq/io/xsk_set.h"
#include "localaddr.h"
#include "tool.h"
#include "transport.h"

#define RX_BATCH 32

int tool_loop_new(mpq_loop **loop)
{
	mpq_oserr err = {0};
	int rv = mpq_loop_new(loop, &err);

	if (rv == 0)
		rv = mpq_loop_stop_on_signal(*loop, SIGINT);
	if (rv == 0)
		rv = mpq_loop_stop_on_signal(*loop, SIGTERM);
	if (rv == 0) /* a closed terminal: stop as cleanly (the client removes its temporaries) */
		rv = mpq_loop_stop_on_signal(*loop, SIGHUP);
	if (rv < 0) {
		char text[160];

		tool_oserr_text(text, sizeof(text), rv, *loop ? mpq_loop_oserr(*loop) : &err);
		tool_err("cannot set up the event loop: %s", text);
		return TOOL_EXIT_FAIL;
	}
	return 0;
}

void tool_loop_del(mpq_loop *loop)
{
	if (!loop)
		return;
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	mpq_loop_del(loop);
}

const mpq_capture *tool_capture;
uint32_t tool_busy_poll_us;

int tool_sock_open(struct tool_sock *s, const mpq_addr *local, const char *ifname, mpq_oserr *err)
{
	mpq_pathio_config cfg;
	int rv;

	memset(s, 0, sizeof(*s));
	mpq_pathio_config_default(&cfg);
	cfg.local = *local;
	cfg.ifname = ifname;
	cfg.batch = RX_BATCH;
	cfg.max_dgram = TOOL_MAX_DGRAM;
	s->tx_buf = malloc(TOOL_TX_BUF);
	if (!s->tx_buf)
		return MPQ_ERR_NOMEM;
	rv = mpq_pathio_udp.open(&s->io, &cfg, err);
	if (rv < 0) {
		free(s->tx_buf);
		s->tx_buf = NULL;
		return rv;
	}
	s->io->capture = tool_capture;
	mpq_addr_format(&s->io->local, s->name, sizeof(s->name));
	return 0;
}

enum tool_io tool_io_parse(const char *name)
{
	if (strcmp(name, "udp") == 0)
		return TOOL_IO_UDP;
	if (strcmp(name, "xdp") == 0)
		return TOOL_IO_XDP;
	return TOOL_IO_AUTO;
}

const char *tool_xdp_unusable(const char *ifname)
{
	if (tool_iface_is_loopback(ifname))
		return "a loopback interface (AF_XDP is not useful there)";
	if (geteuid() != 0)
		return "not root (AF_XDP needs CAP_NET_ADMIN and CAP_BPF)";
	return NULL;
}

static const char *prog_mode(const mpq_xdp_prog_info *pi)
{
	if (pi->mode == MPQ_XDP_MODE_NATIVE)
		return pi->dispatcher ? "native, behind libxdp's dispatcher" : "native";
	return pi->dispatcher ? "generic, behind libxdp's dispatcher" : "generic";
}

/* The program serves |serve| (none: |local|); more addresses than it takes
 * at attach become the wildcards of their families. */
static void serve_addrs(mpq_xdp_prog_config *pcfg, const mpq_addr *local, const mpq_addr *serve,
			size_t n_serve)
{
	bool v4 = false, v6 = false;

	if (n_serve == 0) {
		serve = local;
		n_serve = 1;
	}
	if (n_serve <= MPQ_XDP_PROG_CFG_ADDRS) {
		memcpy(pcfg->addrs, serve, n_serve * sizeof(*serve));
		pcfg->n_addrs = (uint32_t)n_serve;
		return;
	}
	for (size_t i = 0; i < n_serve; i++) {
		v4 |= serve[i].ss.ss_family == AF_INET;
		v6 |= serve[i].ss.ss_family == AF_INET6;
	}
	pcfg->n_addrs = 0;
	if (v4)
		mpq_addr_any(&pcfg->addrs[pcfg->n_addrs++], AF_INET, 0);
	if (v6)
		mpq_addr_any(&pcfg->addrs[pcfg->n_addrs++], AF_INET6, 0);
}

/* How many rx queues of |ifname| get sockets: all, up to the set's limit
 * and the program's slots (queues × workers). */
static uint32_t queues_served(const char *ifname, uint32_t n_workers, uint32_t *n_queues)
{
	uint32_t most = MPQ_STEER_XSKMAP_SIZE / n_workers;

	if (mpq_xsk_rx_queues(ifname, n_queues) < 0)
		*n_queues = 1;
	if (most > MPQ_XSK_SET_MAX_QUEUES)
		most = MPQ_XSK_SET_MAX_QUEUES;
	return *n_queues < most ? *n_queues : most;
}

/* Binds a kernel UDP socket to every address of r->serve (the first with
 * |local|'s port, the others with the port it got): the port is ours at
 * those addresses only, the interface's others and other interfaces keep it
 * for the kernel. Sets |local|'s port. */
static int hold_ports(struct tool_sock *s, struct tool_xdp_req *r, mpq_addr *local, char *why,
		      size_t len)
{
	uint16_t port = mpq_addr_port(local);
	size_t kept = 0;

	s->port_fds = calloc(r->n_serve, sizeof(*s->port_fds));
	if (!s->port_fds) {
		snprintf(why, len, "out of memory");
		return MPQ_ERR_NOMEM;
	}
	for (size_t i = 0; i < r->n_serve; i++) {
		mpq_addr a = r->serve[i];
		char text[MPQ_ADDR_STRLEN];
		int on = 1, e, fd = socket(a.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		mpq_addr_set_port(&a, port);
		if (fd >= 0 && a.ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		if (fd >= 0 && bind(fd, (const struct sockaddr *)&a.ss, a.len) == 0) {
			socklen_t alen = sizeof(a.ss);

			if (port == 0 && getsockname(fd, (struct sockaddr *)&a.ss, &alen) == 0)
				port = mpq_addr_port(&a);
			s->port_fds[s->n_port_fds++] = fd;
			r->serve[kept++] = a;
			continue;
		}
		e = errno;
		if (fd >= 0)
			close(fd);
		mpq_addr_format(&a, text, sizeof(text));
		if (e != EADDRNOTAVAIL || r->n_serve == 1) {
			snprintf(why, len, "cannot bind %s: %s", text, strerror(e));
			return mpq_oserr_set(NULL, "bind", e);
		}
		if (!tool_addr_is_link_local(&a) || (r->verbose && *r->verbose))
			tool_warn("not listening on %s: %s", text, strerror(e));
	}
	if (kept == 0) {
		snprintf(why, len, "none of its addresses is available");
		return MPQ_ERR_NOT_FOUND;
	}
	r->n_serve = kept;
	mpq_addr_set_port(local, port);
	return 0;
}

/* Fewer queues have sockets than the interface has: every flow goes to
 * those, if the NIC lets us, said in one line. */
static void steer_to_served(struct tool_sock *s, const char *ifname, uint32_t served, uint32_t nq)
{
	int rv = mpq_xsk_steer_queues(ifname, served, &s->steer);

	if (rv == MPQ_XSK_STEER_INDIR)
		tool_warn("%s: AF_XDP sockets on %u of its %u rx queues; its RSS indirection "
			  "table now spreads flows over those (put back at exit)",
			  ifname, served, nq);
	else if (rv == MPQ_XSK_STEER_CHANNELS)
		tool_warn("%s: AF_XDP sockets on %u of its %u rx queues; it now has %u rx "
			  "channels (put back at exit)",
			  ifname, served, nq, served);
	else
		tool_warn("%s: AF_XDP sockets on %u of its %u rx queues, and flows cannot be "
			  "steered to them (RSS indirection table: %s; channels: %s): flows on "
			  "the others reach the kernel, not this program",
			  ifname, served, nq, strerror(s->steer.indir_errnum),
			  strerror(s->steer.channels_errnum));
}

/* The sets of |n_workers| over as many queues as open (xsk_set.h): when a
 * queue past the first cannot be had, the ones before it. */
static int open_sets(mpq_pathio **sets, uint32_t n_workers, uint32_t *served,
		     const mpq_pathio_config *cfg, const mpq_xsk_config *xcfg, mpq_oserr *err)
{
	uint32_t failed = 0;
	int rv = mpq_xsk_set_open(sets, n_workers, *served, cfg, xcfg, &failed, err);

	if (rv < 0 && failed > 0) {
		*served = failed;
		rv = mpq_xsk_set_open(sets, n_workers, *served, cfg, xcfg, NULL, err);
	}
	return rv;
}

int tool_xdp_open(struct tool_sock *s, mpq_pathio **rest, struct tool_xdp_req *r, char *why,
		  size_t len)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	mpq_pathio *sets[MPQ_XSK_MAX_SHARED] = {0};
	uint32_t n = r->n_workers, nq, served;
	mpq_pathio_config cfg;
	mpq_xsk_config xcfg;
	mpq_xdp_prog_config pcfg;
	mpq_xdp_prog_info pi;
	const mpq_xsk_info *xi;
	mpq_oserr err = {0};
	char text[160], workers[32];
	uint32_t ifindex;
	int rv;

	memset(s, 0, sizeof(*s));
	snprintf(s->ifname, sizeof(s->ifname), "%s", r->ifname);
	if (n == 0 || n > MPQ_XSK_MAX_SHARED) {
		snprintf(why, len, "%u workers (at most %d)", n, MPQ_XSK_MAX_SHARED);
		return MPQ_ERR_INVALID_ARGUMENT;
	}
	if (mpq_if_index(r->ifname, &ifindex) < 0) {
		snprintf(why, len, "no such interface");
		return MPQ_ERR_NOT_FOUND;
	}
	if (r->refuse_other && bpf_xdp_query((int)ifindex, 0, &q) == 0 &&
	    q.attach_mode != XDP_ATTACHED_NONE) {
		snprintf(why, len, "another XDP program (id %u) is attached to it", q.prog_id);
		return MPQ_ERR_INTERNAL;
	}
	mpq_pathio_config_default(&cfg);
	cfg.local = *r->local;
	cfg.ifname = r->ifname;
	cfg.batch = RX_BATCH;
	cfg.max_dgram = TOOL_MAX_DGRAM;
	mpq_xsk_config_default(&xcfg);
	xcfg.inhibit_prog = true; /* the steering program below redirects to us */
	xcfg.v6only = r->v6only;
	xcfg.port_held = r->n_serve > 0;
	xcfg.busy_poll_us = tool_busy_poll_us;
	s->tx_buf = malloc(TOOL_TX_BUF);
	if (!s->tx_buf) {
		snprintf(why, len, "out of memory");
		return MPQ_ERR_NOMEM;
	}
	rv = xcfg.port_held ? hold_ports(s, r, &cfg.local, why, len) : 0;
	if (rv < 0)
		goto fail;
	served = queues_served(r->ifname, n, &nq);
	rv = open_sets(sets, n, &served, &cfg, &xcfg, &err);
	if (rv < 0) {
		tool_oserr_text(text, sizeof(text), rv, &err);
		snprintf(why, len, "AF_XDP socket: %s", text);
		goto fail;
	}
	s->io = sets[0];
	for (uint32_t k = 1; k < n; k++)
		rest[k] = sets[k];
	mpq_xdp_prog_config_default(&pcfg);
	pcfg.ports[0] = mpq_addr_port(&s->io->local);
	pcfg.n_workers = n;
	serve_addrs(&pcfg, r->local, r->serve, r->n_serve); /* the others stay with the kernel */
	pcfg.log = tool_log;
	pcfg.log_ud = r->verbose;
	mpq_oserr_clear(&err);
	rv = mpq_xdp_prog_new(&s->prog, &pcfg, &err);
	if (rv < 0) {
		tool_oserr_text(text, sizeof(text), rv, &err);
		snprintf(why, len, "steering program: %s", text);
		goto fail;
	}
	rv = mpq_xdp_prog_attach(s->prog, (int)ifindex, MPQ_XDP_MODE_AUTO);
	for (uint32_t qi = 0; qi < served && rv == 0; qi++)
		for (uint32_t k = 0; k < n && rv == 0; k++)
			rv = mpq_xdp_prog_set_xsk(s->prog, qi, k,
						  mpq_pathio_fd(mpq_xsk_set_member(sets[k], qi)));
	if (rv < 0) {
		tool_oserr_text(text, sizeof(text), rv, mpq_xdp_prog_oserr(s->prog));
		snprintf(why, len, "steering program: %s", text);
		goto fail;
	}
	if (served < nq)
		steer_to_served(s, r->ifname, served, nq);
	mpq_xdp_prog_info_get(s->prog, &pi);
	if (pi.replaced_stale)
		tool_warn("%s: detached a steering program left there by an earlier run",
			  r->ifname);
	xi = mpq_xsk_get_info(mpq_xsk_set_member(s->io, 0));
	if (tool_busy_poll_us && xi && !xi->busy_poll)
		tool_warn("%s: --busy-poll: the kernel refused busy polling on the AF_XDP "
			  "sockets (Linux 5.11+); left off",
			  r->ifname);
	if (xi && xi->sg_errnum)
		tool_warn("%s: the kernel refused AF_XDP multi-buffer (%s): datagrams of at most "
			  "%u bytes, not the MTU's",
			  r->ifname, strerror(xi->sg_errnum), xi->max_payload);
	snprintf(workers, sizeof(workers), " x %u workers", n);
	snprintf(s->mode, sizeof(s->mode), "%u of %u rx queue%s%s, socket%s %s%s, program %s",
		 served, nq, nq == 1 ? "" : "s", n > 1 ? workers : "", n * served > 1 ? "s" : "",
		 xi ? xi->mode : "?", xi && xi->multi_buffer ? " multi-buffer" : "",
		 prog_mode(&pi));
	s->io->capture = tool_capture;
	mpq_addr_format(&s->io->local, s->name, sizeof(s->name));
	return 0;
fail:
	tool_sock_close(s);
	for (uint32_t k = 1; k < n; k++) {
		mpq_pathio_close(sets[k]);
		if (rest)
			rest[k] = NULL;
	}
	return rv;
}

int tool_sock_open_xdp(struct tool_sock *s, const mpq_addr *local, const char *ifname,
		       bool refuse_other, int *verbose, char *why, size_t len)
{
	struct tool_xdp_req r = {
		.local = local,
		.ifname = ifname,
		.n_workers = 1,
		.refuse_other = refuse_other,
		.v6only = local->ss.ss_family == AF_INET6,
		.verbose = verbose,
	};

	return tool_xdp_open(s, NULL, &r, why, len);
}

void tool_sock_print_counters(struct tool_sock *s)
{
	uint64_t c[MPQ_STEER_CNT__MAX];
	char line[1024];
	size_t n = 0;

	if (!s->prog || mpq_xdp_prog_counters(s->prog, c) < 0)
		return;
	n += (size_t)snprintf(line, sizeof(line),
			      "%s: steering program: redirected %llu, "
			      "passed %llu",
			      s->ifname, (unsigned long long)c[MPQ_STEER_CNT_REDIRECTED],
			      (unsigned long long)c[MPQ_STEER_CNT_PASSED]);
	for (unsigned int i = 0; i < MPQ_STEER_CNT__MAX && n < sizeof(line); i++) {
		if (!c[i] || i == MPQ_STEER_CNT_REDIRECTED || i == MPQ_STEER_CNT_PASSED)
			continue;
		n += (size_t)snprintf(line + n, sizeof(line) - n, ", %s %llu",
				      mpq_xdp_prog_counter_name(i), (unsigned long long)c[i]);
	}
	tool_err("%s", line);
}

void tool_sock_close(struct tool_sock *s)
{
	/* The program first: nothing is redirected to a socket being closed. */
	mpq_xdp_prog_del(s->prog);
	s->prog = NULL;
	mpq_pathio_close(s->io);
	s->io = NULL;
	mpq_xsk_steer_restore(&s->steer);
	for (size_t i = 0; i < s->n_port_fds; i++)
		close(s->port_fds[i]);
	free(s->port_fds);
	s->port_fds = NULL;
	s->n_port_fds = 0;
	free(s->tx_buf);
	s->tx_buf = NULL;
}

void tool_oserr_text(char *buf, size_t len, int rv, const mpq_oserr *err)
{
	if (err && err->errnum)
		snprintf(buf, len, "%s: %s", err->call ? err->call : "system call",
			 strerror(err->errnum));
	else
		snprintf(buf, len, "%s", mpq_strerror(rv));
}

size_t tool_sock_max_payload(const struct tool_sock *s)
{
	return s->io->max_udp_payload ? s->io->max_udp_payload : TOOL_TX_ROOM;
}

uint8_t *tool_tx_space(struct tool_sock *s, size_t *room)
{
	size_t max = tool_sock_max_payload(s);

	if (s->tx_blocked || s->tx_n == TOOL_TX_DESCS || TOOL_TX_BUF - s->tx_used < max)
		return NULL;
	*room = max;
	return s->tx_buf + s->tx_used;
}

/* Can a datagram of |len| bytes for |path| join descriptor |d| as one more
 * GSO segment? Only after full segments, to the same place, with the same
 * ECN mark (one IP header field for the whole run). */
static bool joins(const mpq_dgram *d, const mpq_path *path, uint8_t ecn, size_t len)
{
	size_t seg = d->gso_size ? d->gso_size : d->len;

	return len <= seg && d->len % seg == 0 && d->len + len <= MPQ_PATHIO_MAX_GSO_BYTES &&
	       d->ecn == ecn && d->len / seg < MPQ_PATHIO_MAX_SEGMENTS &&
	       d->ifindex == path->ifindex && mpq_addr_equal(&d->remote, &path->remote) &&
	       mpq_addr_equal_ip(&d->local, &path->local);
}

void tool_tx_commit(struct tool_sock *s, const mpq_path *path, uint8_t ecn, size_t len)
{
	mpq_dgram *d = s->tx_n > s->tx_sent ? &s->tx[s->tx_n - 1] : NULL;

	if (d && joins(d, path, ecn, len)) {
		d->gso_size = (uint16_t)(d->gso_size ? d->gso_size : d->len);
		d->len += len;
	} else {
		d = &s->tx[s->tx_n++];
		memset(d, 0, sizeof(*d));
		d->data = s->tx_buf + s->tx_used;
		d->len = len;
		d->local = path->local;
		d->remote = path->remote;
		d->ifindex = path->ifindex;
		d->ecn = ecn;
	}
	s->tx_used += len;
}

int tool_tx_flush(struct tool_sock *s)
{
	while (s->tx_sent < s->tx_n) {
		int k;

		mpq_oserr_clear(&s->io->err);
		k = mpq_pathio_send(s->io, s->tx + s->tx_sent, s->tx_n - s->tx_sent);

		if (k == MPQ_ERR_INVALID_ARGUMENT && !s->io->err.errnum)
			return MPQ_ERR_INTERNAL; /* a descriptor we built is malformed */
		if (k < 0) {
			/* The first descriptor failed: drop it and go on. */
			s->tx_errnum = s->io->err.errnum;
			k = 1;
		} else if (k == 0) {
			s->tx_blocked = true;
			return 1;
		} else {
			for (int i = 0; i < k; i++) {
				const mpq_dgram *d = &s->tx[s->tx_sent + (size_t)i];

				s->bytes_sent += d->len;
				s->dgrams_sent +=
					d->gso_size ? (d->len + d->gso_size - 1) / d->gso_size : 1;
			}
		}
		s->tx_sent += (size_t)k;
	}
	s->tx_n = s->tx_sent = s->tx_used = 0;
	s->tx_blocked = false;
	return 0;
}

int tool_conn_send(struct tool_sock *s, mpq_conn *conn, uint64_t now)
{
	struct tool_sock *cur = s;

	for (;;) {
		mpq_path path;
		mpq_pkt_info pi = {.version = MPQ_PKT_INFO_VERSION};
		struct tool_sock *to;
		size_t room = 0;
		uint8_t *buf = tool_tx_space(cur, &room);
		int n;

		if (!buf) {
			int rv = tool_tx_flush(cur);

			if (rv != 0)
				return rv < 0 ? rv : 0;
			buf = tool_tx_space(cur, &room);
			if (!buf)
				return 0;
		}
		n = mpq_conn_write_pkt(conn, &path, &pi, buf, room, now);
		if (n <= 0)
			return n;
		to = path.user_data ? path.user_data : s;
		if (to != cur) {
			/* Written into the wrong queue: move it (rare, several sockets). */
			size_t troom;
			uint8_t *tbuf = tool_tx_space(to, &troom);

			if (!tbuf && tool_tx_flush(to) == 0)
				tbuf = tool_tx_space(to, &troom);
			if (!tbuf)
				return 0; /* lost, as in a full network queue; recovery resends */
			if ((size_t)n > troom)
				continue; /* too large for that interface: lost (a PMTU probe) */
			memcpy(tbuf, buf, (size_t)n);
			cur = to;
		}
		tool_tx_commit(cur, &path, pi.ecn, (size_t)n);
	}
}

mpq_pkt_info tool_rx_info(const mpq_dgram *d)
{
	return (mpq_pkt_info){.version = MPQ_PKT_INFO_VERSION, .ecn = d->ecn};
}

int tool_rx_drain(struct tool_sock *s, int (*fn)(void *ud, mpq_dgram *d), void *ud, int rounds)
{
	mpq_dgram d[RX_BATCH];

	for (int r = 0; r < rounds; r++) {
		int n = mpq_pathio_recv(s->io, d, RX_BATCH);

		if (n <= 0)
			return n;
		for (int i = 0; i < n; i++) {
			int rv;

			s->bytes_received += d[i].len;
			s->dgrams_received++;
			rv = fn(ud, &d[i]);
			if (rv < 0)
				return rv;
		}
		if (n < RX_BATCH)
			break;
	}
	return 0;
}
