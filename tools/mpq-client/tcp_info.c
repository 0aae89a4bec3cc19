/*
 * mpq-client --tcp: what the kernel knows of the connection at the end, for
 * --json's "paths": TCP_INFO of a TCP connection (or of an MPTCP one that
 * fell back to TCP), or per MPTCP subflow MPTCP_TCPINFO with the subflows'
 * addresses from MPTCP_SUBFLOW_ADDRS (linux/mptcp.h; both list the subflows
 * in the same order).
 */
#include <errno.h>
#include <linux/mptcp.h>
#include <linux/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "client.h"

#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif

static void path_from_info(struct tcp_path *p, const struct tcp_info *ti)
{
	p->bytes_sent = ti->tcpi_bytes_sent;
	p->bytes_received = ti->tcpi_bytes_received;
	p->segs_out = ti->tcpi_segs_out;
	p->segs_in = ti->tcpi_segs_in;
	p->lost = ti->tcpi_lost;
	p->retrans = ti->tcpi_total_retrans;
	p->rtt_us = ti->tcpi_rtt;
	p->cwnd = (uint64_t)ti->tcpi_snd_cwnd * ti->tcpi_snd_mss;
}

/* A buffer for one MPTCP_* subflow list: the header, then |n| elements of
 * |size| bytes each. */
struct subflow_buf {
	struct mptcp_subflow_data hdr;
	union {
		struct tcp_info info[MAX_PATHS];
		struct mptcp_subflow_addrs addrs[MAX_PATHS];
	};
};

/* The subflow list |opt| into |b|: how many elements it holds, or -errno. */
static int subflow_list(int fd, int opt, struct subflow_buf *b, size_t size)
{
	socklen_t len = (socklen_t)(sizeof(b->hdr) + MAX_PATHS * size);

	memset(b, 0, sizeof(*b));
	b->hdr.size_subflow_data = sizeof(b->hdr);
	b->hdr.size_user = (uint32_t)size;
	if (getsockopt(fd, SOL_MPTCP, opt, b, &len) < 0)
		return -errno;
	/* The kernel copies min(its element size, ours) per element. */
	return (int)(b->hdr.num_subflows < MAX_PATHS ? b->hdr.num_subflows : MAX_PATHS);
}

static void set_addr(mpq_addr *a, const struct sockaddr *sa)
{
	socklen_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						  : sizeof(struct sockaddr_in);

	if (mpq_addr_set(a, sa, len) != 0)
		memset(a, 0, sizeof(*a));
}

/* Every subflow of an MPTCP connection. Returns 0, or -errno (EOPNOTSUPP:
 * it fell back to TCP). */
static int collect_subflows(struct client *c, int fd)
{
	static struct subflow_buf info, addrs;
	int n = subflow_list(fd, MPTCP_TCPINFO, &info, sizeof(struct tcp_info));
	int na = n < 0 ? n : subflow_list(fd, MPTCP_SUBFLOW_ADDRS, &addrs, sizeof(addrs.addrs[0]));

	if (n < 0 || na < 0)
		return n < 0 ? n : na;
	for (int i = 0; i < n; i++) {
		struct tcp_path *p = &c->tcp_paths[c->ntcp_paths++];

		path_from_info(p, &info.info[i]);
		if (i < na) {
			set_addr(&p->local, &addrs.addrs[i].sa_local);
			set_addr(&p->remote, &addrs.addrs[i].sa_remote);
		}
	}
	return 0;
}

void tcp_collect_paths(struct client *c, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	struct tcp_path *p = &c->tcp_paths[0];

	c->ntcp_paths = 0;
	c->transport = c->o.mptcp ? "mptcp" : "tcp";
	if (c->o.mptcp && collect_subflows(c, fd) == 0 && c->ntcp_paths)
		return;
	if (c->o.mptcp)
		c->transport = "tcp (mptcp fallback)";
	c->ntcp_paths = 0;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return;
	path_from_info(p, &ti);
	len = sizeof(p->local.ss);
	if (getsockname(fd, (struct sockaddr *)&p->local.ss, &len) == 0)
		p->local.len = len;
	len = sizeof(p->remote.ss);
	if (getpeername(fd, (struct sockaddr *)&p->remote.ss, &len) == 0)
		p->remote.len = len;
	c->ntcp_paths = 1;
}

bool tcp_multipath(const struct client *c)
{
	size_t used = 0;

	for (size_t i = 0; i < c->ntcp_paths; i++)
		used += c->tcp_paths[i].bytes_received > 0;
	return used > 1;
}
