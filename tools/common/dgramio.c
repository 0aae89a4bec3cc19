/* Datagram queues and receive loop over path I/O: see dgramio.h. */
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dgramio.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/udp.h"
#include "mpq/io/xsk.h"
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

int tool_sock_open_xdp(struct tool_sock *s, const mpq_addr *local, const char *ifname,
		       bool refuse_other, int *verbose, char *why, size_t len)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	mpq_pathio_config cfg;
	mpq_xsk_config xcfg;
	mpq_xdp_prog_config pcfg;
	mpq_xdp_prog_info pi;
	const mpq_xsk_info *xi;
	mpq_oserr err = {0};
	char text[160];
	uint32_t ifindex;
	int rv;

	memset(s, 0, sizeof(*s));
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	if (mpq_if_index(ifname, &ifindex) < 0) {
		snprintf(why, len, "no such interface");
		return MPQ_ERR_NOT_FOUND;
	}
	if (refuse_other && bpf_xdp_query((int)ifindex, 0, &q) == 0 &&
	    q.attach_mode != XDP_ATTACHED_NONE) {
		snprintf(why, len, "another XDP program (id %u) is attached to it", q.prog_id);
		return MPQ_ERR_INTERNAL;
	}
	mpq_pathio_config_default(&cfg);
	cfg.local = *local;
	cfg.ifname = ifname;
	cfg.batch = RX_BATCH;
	cfg.max_dgram = TOOL_MAX_DGRAM;
	mpq_xsk_config_default(&xcfg);
	xcfg.inhibit_prog = true; /* the steering program below redirects to us */
	s->tx_buf = malloc(TOOL_TX_BUF);
	if (!s->tx_buf) {
		snprintf(why, len, "out of memory");
		return MPQ_ERR_NOMEM;
	}
	rv = mpq_xsk_open(&s->io, &cfg, &xcfg, &err);
	if (rv < 0) {
		tool_oserr_text(text, sizeof(text), rv, &err);
		snprintf(why, len, "AF_XDP socket: %s", text);
		goto fail;
	}
	mpq_xdp_prog_config_default(&pcfg);
	pcfg.ports[0] = mpq_addr_port(&s->io->local);
	pcfg.n_workers = 1;
	pcfg.addrs[0] = *local; /* others of the interface stay with the kernel */
	pcfg.n_addrs = 1;
	pcfg.log = tool_log;
	pcfg.log_ud = verbose;
	mpq_oserr_clear(&err);
	rv = mpq_xdp_prog_new(&s->prog, &pcfg, &err);
	if (rv < 0) {
		tool_oserr_text(text, sizeof(text), rv, &err);
		snprintf(why, len, "steering program: %s", text);
		goto fail;
	}
	rv = mpq_xdp_prog_attach(s->prog, (int)ifindex, MPQ_XDP_MODE_AUTO);
	if (rv == 0)
		rv = mpq_xdp_prog_set_xsk(s->prog, 0, 0, mpq_pathio_fd(s->io));
	if (rv < 0) {
		tool_oserr_text(text, sizeof(text), rv, mpq_xdp_prog_oserr(s->prog));
		snprintf(why, len, "steering program: %s", text);
		goto fail;
	}
	mpq_xdp_prog_info_get(s->prog, &pi);
	if (pi.replaced_stale)
		tool_warn("%s: detached a steering program left there by an earlier run", ifname);
	xi = mpq_xsk_get_info(s->io);
	snprintf(s->mode, sizeof(s->mode), "socket %s, program %s", xi ? xi->mode : "?",
		 prog_mode(&pi));
	s->io->capture = tool_capture;
	mpq_addr_format(&s->io->local, s->name, sizeof(s->name));
	return 0;
fail:
	tool_sock_close(s);
	return rv;
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

uint8_t *tool_tx_space(struct tool_sock *s, size_t *room)
{
	if (s->tx_blocked || s->tx_n == TOOL_TX_DESCS || TOOL_TX_BUF - s->tx_used < TOOL_MAX_DGRAM)
		return NULL;
	*room = TOOL_MAX_DGRAM;
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
		size_t room;
		uint8_t *buf = tool_tx_space(cur, &room);
		int n;

		if (!buf) {
			int rv = tool_tx_flush(cur);

			if (rv != 0)
				return rv < 0 ? rv : 0;
			buf = tool_tx_space(cur, &room);
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
