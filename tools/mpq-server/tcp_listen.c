/*
 * mpq-server --tcp: the listening sockets, the thread that serves them and
 * its start and stop (see tcp.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/tls_tcp.h"
#include "common/tool.h"
#include "server.h"
#include "tcp.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define ACCEPTS_PER_EVENT 64

static const char *proto_name(const struct tcp_server *t)
{
	return t->mptcp ? "mptcp" : "tcp";
}

/* A listening socket on |a|: the fd, or -errno with the failing call in
 * |*call|. */
static int open_listener(const struct tcp_server *t, const mpq_addr *a, const char **call)
{
	int one = 1;
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			t->mptcp ? IPPROTO_MPTCP : 0);
	int err;

	*call = "socket";
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The IPv4 addresses have listeners of their own. */
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	*call = "bind";
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
		*call = "listen";
		if (listen(fd, 1024) == 0)
			return fd;
	}
	err = errno;
	close(fd);
	return -err;
}

static int on_accept(mpq_loop *loop, int fd, unsigned int events, void *ud)
{
	struct tcp_server *t = ud;

	for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
		mpq_addr peer = {0};
		socklen_t len = sizeof(peer.ss);
		int c = accept4(fd, (struct sockaddr *)&peer.ss, &len,
				SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (c < 0) {
			/* EAGAIN: none left; EMFILE and the like: the next event
			 * tries again, once a connection has gone. */
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
			    *t->verbose)
				tool_err("%s: accept: %s", proto_name(t), strerror(errno));
			return 0;
		}
		peer.len = len;
		if (tcp_conn_new(t, c, &peer) < 0 && *t->verbose)
			tool_err("%s: connection refused: %zu open already, or out of memory",
				 proto_name(t), t->nconns);
	}
	return 0;
}

static int on_sweep(mpq_loop *loop, mpq_loop_timer *timer, void *ud)
{
	tcp_conn_sweep(ud, mpq_loop_now());
	return 0;
}

static void *tcp_main(void *arg)
{
	struct tcp_server *t = arg;
	int rv = mpq_loop_run(t->loop);

	if (rv < 0)
		tool_err("%s: stopped: %s", proto_name(t), mpq_strerror(rv));
	if (*t->verbose || t->nconns)
		tool_err("%s: stopped; closed %zu open connection%s, %llu request%s answered",
			 proto_name(t), t->nconns, t->nconns == 1 ? "" : "s",
			 (unsigned long long)t->served, t->served == 1 ? "" : "s");
	tcp_conn_close_all(t);
	return NULL;
}

/* Every address the QUIC side listens on, same port. */
static int open_listeners(struct server *s, struct tcp_server *t)
{
	for (size_t i = 0; i < s->nlisten; i++) {
		for (size_t j = 0; j < s->listen[i].naddrs; j++) {
			const mpq_addr *a = &s->listen[i].addrs[j];
			char where[MPQ_ADDR_STRLEN];
			const char *call;
			int fd;

			if (t->nlisten == TCP_MAX_LISTEN)
				return 0;
			mpq_addr_format(a, where, sizeof(where));
			fd = open_listener(t, a, &call);
			if (fd == -EPROTONOSUPPORT || fd == -ENOPROTOOPT || fd == -EINVAL) {
				if (t->mptcp && !strcmp(call, "socket")) {
					tool_err("--mptcp: the kernel refuses MPTCP sockets (%s); "
						 "enable them with sysctl -w net.mptcp.enabled=1",
						 strerror(-fd));
					return TOOL_EXIT_FAIL;
				}
			}
			if (fd < 0) {
				tool_err("cannot listen on %s over %s: %s: %s", where,
					 proto_name(t), call, strerror(-fd));
				return TOOL_EXIT_FAIL;
			}
			t->lfd[t->nlisten] = fd;
			t->laddr[t->nlisten++] = *a;
		}
	}
	return 0;
}

static int make_loop(struct tcp_server *t)
{
	mpq_oserr err = {0};
	int rv = mpq_loop_new(&t->loop, &err);

	if (rv == 0) {
		t->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		rv = t->stop_fd < 0 ? MPQ_ERR_NOMEM : 0;
	}
	if (rv == 0)
		rv = mpq_loop_add_fd(t->loop, t->stop_fd, MPQ_LOOP_READ, on_stop_fd, t);
	for (size_t i = 0; i < t->nlisten && rv == 0; i++)
		rv = mpq_loop_add_fd(t->loop, t->lfd[i], MPQ_LOOP_READ, on_accept, t);
	if (rv == 0) {
		mpq_loop_timer_init(&t->sweep, on_sweep, t);
		rv = mpq_loop_timer_set(t->loop, &t->sweep, mpq_loop_now() + TCP_SWEEP_NS,
					TCP_SWEEP_NS);
	}
	if (rv < 0) {
		tool_err("%s: cannot set up the event loop: %s", proto_name(t), mpq_strerror(rv));
		return TOOL_EXIT_FAIL;
	}
	return 0;
}

int tcp_start(struct server *s)
{
	struct tcp_server *t = calloc(1, sizeof(*t));
	char why[256];
	int rv;

	if (!t) {
		tool_err("out of memory");
		return TOOL_EXIT_FAIL;
	}
	s->tcp = t;
	t->stop_fd = -1;
	t->mptcp = s->o.mptcp;
	t->verbose = &s->o.t.verbose;
	t->ssl = tool_tls_tcp_server(s->cert_file[0] ? s->cert_file : NULL, s->key_file,
				     s->cert_pem, s->key_pem, &s->o.t.keylog, why, sizeof(why));
	if (!t->ssl) {
		tool_err("%s: cannot set up TLS: %s", proto_name(t), why);
		return TOOL_EXIT_FAIL;
	}
	rv = mpq_hq_root_open(&t->www, s->o.www, false);
	if (rv < 0) {
		tool_err("-www %s: cannot serve it: %s", s->o.www, mpq_strerror(rv));
		return TOOL_EXIT_FAIL;
	}
	t->files = mpq_hq_root_files(t->www);
	rv = open_listeners(s, t);
	if (rv == 0)
		rv = make_loop(t);
	if (rv != 0)
		return rv;
	/* A peer gone mid-write is an error to handle, not a signal to die of. */
	signal(SIGPIPE, SIG_IGN);
	rv = pthread_create(&t->thread, NULL, tcp_main, t);
	if (rv != 0) {
		tool_err("%s: cannot start its thread: %s", proto_name(t), strerror(rv));
		return TOOL_EXIT_FAIL;
	}
	t->running = true;
	for (size_t i = 0; i < t->nlisten; i++) {
		char text[MPQ_ADDR_STRLEN];

		mpq_addr_format(&t->laddr[i], text, sizeof(text));
		printf("listening on %s (%s, https)\n", text, proto_name(t));
	}
	fflush(stdout);
	return 0;
}

void tcp_stop(struct server *s)
{
	struct tcp_server *t = s->tcp;
	uint64_t one = 1;

	if (!t)
		return;
	if (t->running) {
		if (write(t->stop_fd, &one, sizeof(one)) != sizeof(one))
			tool_err("%s: cannot stop its thread: %s", proto_name(t), strerror(errno));
		pthread_join(t->thread, NULL);
	}
	tcp_conn_close_all(t);
	if (t->loop) {
		mpq_loop_timer_cancel(t->loop, &t->sweep);
		mpq_loop_del(t->loop);
	}
	for (size_t i = 0; i < t->nlisten; i++)
		close(t->lfd[i]);
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	SSL_CTX_free(t->ssl);
	mpq_hq_root_close(t->www);
	free(t);
	s->tcp = NULL;
}
