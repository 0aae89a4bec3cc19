/*
 * Built by tests/net/test-installed-lib.sh outside the tree, with the flags
 * of pkg-config alone: moves one datagram over a path I/O backend, woken by
 * the public event loop.
 *   one_dgram                                 udp on loopback, both ends here
 *   one_dgram recv BACKEND LOCAL [IFNAME]     waits up to 5 s for one datagram
 *   one_dgram send BACKEND LOCAL REMOTE [IFNAME]
 * BACKEND is "udp" or "xdp"; LOCAL and REMOTE are ADDR:PORT. recv prints
 * "ready" once open, then "BACKEND: N bytes from ADDR:PORT"; send prints
 * "BACKEND: sent N bytes to ADDR:PORT". Exits 0, or 1 after saying what failed.
 */
#include <stdio.h>
#include <string.h>

#include <mpq/conn.h>
#include <mpq/io/loop.h>
#include <mpq/io/netaddr.h>
#include <mpq/io/pathio.h>
#include <mpq/io/udp.h>
#include <mpq/io/xsk.h>

static const char payload[] = "one datagram";

struct run {
	mpq_pathio *rx;
	mpq_dgram got; /* points into the receiver's buffers */
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

static int open_io(mpq_pathio **io, const char *backend, const char *local, const char *ifname)
{
	const struct mpq_pathio_ops *ops = mpq_pathio_find(backend);
	mpq_pathio_config cfg;
	mpq_oserr err = {0};
	int rv;

	mpq_pathio_config_default(&cfg);
	cfg.ifname = ifname;
	if (!ops || (ops != &mpq_pathio_udp && ops != &mpq_pathio_xdp)) {
		printf("%s: no such backend\n", backend);
		return 1;
	}
	if (mpq_addr_parse(&cfg.local, local) != 0) {
		printf("%s: not ADDR:PORT\n", local);
		return 1;
	}
	rv = ops->open(io, &cfg, &err);
	if (rv != 0) {
		printf("%s on %s: open: %s (%s, errno %d)\n", backend, local, mpq_strerror(rv),
		       err.call ? err.call : "-", err.errnum);
		return 1;
	}
	return 0;
}

/* One datagram in within 5 s: 0, or 1 after saying why not. */
static int receive(struct run *r, const char *backend)
{
	mpq_loop *loop = NULL;
	mpq_loop_timer timer;
	char from[64];

	if (mpq_loop_new(&loop, NULL) != 0 ||
	    mpq_loop_add_fd(loop, mpq_pathio_fd(r->rx), MPQ_LOOP_READ, on_readable, r) != 0) {
		printf("loop: cannot watch the receiver\n");
		return 1;
	}
	mpq_loop_timer_init(&timer, on_timeout, NULL);
	mpq_loop_timer_set(loop, &timer, mpq_loop_now() + 5 * MPQ_SEC, 0);
	mpq_loop_run(loop);
	mpq_loop_timer_cancel(loop, &timer);
	mpq_loop_del_fd(loop, mpq_pathio_fd(r->rx));
	mpq_loop_del(loop);
	if (r->n != 1 || r->got.len != sizeof(payload) ||
	    memcmp(r->got.data, payload, sizeof(payload))) {
		printf("receive: %d datagrams, %zu bytes\n", r->n, r->n == 1 ? r->got.len : 0);
		return 1;
	}
	mpq_addr_format(&r->got.remote, from, sizeof(from));
	printf("%s: %zu bytes from %s\n", backend, r->got.len, from);
	return 0;
}

static int send_one(mpq_pathio *tx, const char *backend, const mpq_addr *to)
{
	mpq_dgram d = {.data = (uint8_t *)payload, .len = sizeof(payload), .remote = *to};
	char where[64];
	int rv = mpq_pathio_send(tx, &d, 1);

	mpq_addr_format(to, where, sizeof(where));
	if (rv != 1) {
		printf("%s: send to %s: %s (%s)\n", backend, where,
		       rv < 0 ? mpq_strerror(rv) : "0 sent", tx->err.call ? tx->err.call : "-");
		return 1;
	}
	printf("%s: sent %zu bytes to %s\n", backend, d.len, where);
	return 0;
}

/* Both ends of the UDP backend on loopback. */
static int loopback(void)
{
	struct run r = {0};
	mpq_pathio *tx = NULL;
	char from[64], sender[64];

	if (open_io(&r.rx, "udp", "127.0.0.1:0", NULL) || open_io(&tx, "udp", "127.0.0.1:0", NULL))
		return 1;
	if (send_one(tx, "udp", &r.rx->local) || receive(&r, "udp"))
		return 1;
	mpq_addr_format(&r.got.remote, from, sizeof(from));
	mpq_addr_format(&tx->local, sender, sizeof(sender));
	if (!mpq_addr_equal(&r.got.remote, &tx->local)) {
		printf("received from %s, sent from %s\n", from, sender);
		return 1;
	}
	mpq_pathio_close(tx);
	mpq_pathio_close(r.rx);
	return 0;
}

int main(int argc, char **argv)
{
	struct run r = {0};
	mpq_pathio *tx = NULL;
	mpq_addr to;
	int rv;

	if (argc == 1)
		return loopback();
	if (argc >= 4 && argc <= 5 && !strcmp(argv[1], "recv")) {
		if (open_io(&r.rx, argv[2], argv[3], argc == 5 ? argv[4] : NULL))
			return 1;
		printf("ready\n");
		fflush(stdout);
		rv = receive(&r, argv[2]);
		mpq_pathio_close(r.rx);
		return rv;
	}
	if (argc >= 5 && argc <= 6 && !strcmp(argv[1], "send")) {
		if (mpq_addr_parse(&to, argv[4]) != 0) {
			printf("%s: not ADDR:PORT\n", argv[4]);
			return 1;
		}
		if (open_io(&tx, argv[2], argv[3], argc == 6 ? argv[5] : NULL))
			return 1;
		rv = send_one(tx, argv[2], &to);
		mpq_pathio_close(tx);
		return rv;
	}
	printf("usage: one_dgram [recv BACKEND LOCAL [IFNAME] | send BACKEND LOCAL REMOTE "
	       "[IFNAME]]\n");
	return 1;
}
