/*
 * Built by tests/net/test-installed-lib.sh outside the tree, with the flags
 * of pkg-config alone: moves one datagram between two sockets of the UDP
 * path I/O backend on loopback, woken by the public event loop. Prints
 * "udp: N bytes from 127.0.0.1:PORT" and exits 0, or says what failed and
 * exits 1.
 */
#include <stdio.h>
#include <string.h>

#include <mpq/conn.h>
#include <mpq/io/loop.h>
#include <mpq/io/netaddr.h>
#include <mpq/io/pathio.h>
#include <mpq/io/udp.h>

static const char payload[] = "one datagram";

struct run {
	mpq_pathio *rx;
	mpq_dgram got;		/* points into the receiver's buffers */
	int n;
};

static int on_readable(mpq_loop *loop, int fd, unsigned int events, void *user_data)
{
	struct run *r = user_data;

	(void)fd;
	(void)events;
	r->n = mpq_pathio_recv(r->rx, &r->got, 1);
	if (r->n != 0)
		mpq_loop_stop(loop);
	return 0;
}

static int on_timeout(mpq_loop *loop, mpq_loop_timer *t, void *user_data)
{
	(void)t;
	(void)user_data;
	mpq_loop_stop(loop);
	return 0;
}

static int open_udp(mpq_pathio **io, const char *what)
{
	const struct mpq_pathio_ops *udp = mpq_pathio_find("udp");
	mpq_pathio_config cfg;
	mpq_oserr err = {0};
	int rv;

	mpq_pathio_config_default(&cfg);
	if (!udp || udp != &mpq_pathio_udp || mpq_addr_parse(&cfg.local, "127.0.0.1:0") != 0) {
		printf("%s: no udp backend or address\n", what);
		return 1;
	}
	rv = udp->open(io, &cfg, &err);
	if (rv != 0) {
		printf("%s: open: %s (%s)\n", what, mpq_strerror(rv), err.call ? err.call : "-");
		return 1;
	}
	return 0;
}

int main(void)
{
	struct run r = {0};
	mpq_pathio *tx = NULL;
	mpq_loop *loop = NULL;
	mpq_loop_timer timer;
	mpq_dgram d = {0};
	char from[64];

	if (open_udp(&r.rx, "receiver") || open_udp(&tx, "sender"))
		return 1;
	if (mpq_loop_new(&loop, NULL) != 0 ||
	    mpq_loop_add_fd(loop, mpq_pathio_fd(r.rx), MPQ_LOOP_READ, on_readable, &r) != 0) {
		printf("loop: cannot watch the receiver\n");
		return 1;
	}
	mpq_loop_timer_init(&timer, on_timeout, NULL);
	mpq_loop_timer_set(loop, &timer, mpq_loop_now() + 2 * MPQ_SEC, 0);
	d.data = (uint8_t *)payload;
	d.len = sizeof(payload);
	d.remote = r.rx->local;
	if (mpq_pathio_send(tx, &d, 1) != 1) {
		printf("send failed\n");
		return 1;
	}
	mpq_loop_run(loop);
	if (r.n != 1 || r.got.len != sizeof(payload) || memcmp(r.got.data, payload, sizeof(payload))) {
		printf("receive: %d datagrams, %zu bytes\n", r.n, r.n == 1 ? r.got.len : 0);
		return 1;
	}
	mpq_addr_format(&r.got.remote, from, sizeof(from));
	if (!mpq_addr_equal(&r.got.remote, &tx->local)) {
		char sender[64];
		mpq_addr_format(&tx->local, sender, sizeof(sender));
		printf("received from %s, sent from %s\n", from, sender);
		return 1;
	}
	printf("udp: %zu bytes from %s\n", r.got.len, from);
	mpq_loop_timer_cancel(loop, &timer);
	mpq_loop_del_fd(loop, mpq_pathio_fd(r.rx));
	mpq_loop_del(loop);
	mpq_pathio_close(tx);
	mpq_pathio_close(r.rx);
	return 0;
}
