/*
 * A load client for the server benchmarks (bench/handshakes.sh,
 * bench/memory.sh): many QUIC connections from one process, each on its own
 * UDP socket, through the public API (mpq/conn.h, mpq/endpoint.h for TLS) and
 * the I/O layer (udp path I/O, the event loop).
 *
 *   mpq_load handshakes ADDR:PORT N CONCURRENCY
 *	N handshakes, CONCURRENCY at a time: each connection completes its
 *	handshake, closes (CONNECTION_CLOSE, application code 0) and is
 *	replaced by a new one on the same socket. Prints "handshakes N failed F
 *	seconds S rate R" (R = N / S).
 *   mpq_load hold ADDR:PORT N CONCURRENCY
 *	Opens N connections, CONCURRENCY handshakes at a time, and keeps them
 *	all open and idle; prints "held N failed F" once they are, then keeps
 *	answering (ACKs of the server's post-handshake frames) until SIGTERM or
 *	SIGINT.
 *
 * Certificates are not checked (the server's is self-signed). Exits 0 when
 * every connection completed its handshake, 1 otherwise.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>

#include "mpq/endpoint.h"
#include "mpq/io/loop.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/pathio.h"
#include "mpq/io/udp.h"

#define RX_BATCH 16
#define HANDSHAKE_TIMEOUT (5 * MPQ_SEC)

struct load;

/* One concurrent connection and the socket it (and its successors) use. */
struct slot {
	struct load *ld;
	mpq_pathio *io;
	mpq_conn *conn;
	mpq_loop_timer timer;
	bool completed; /* handshake_completed fired for conn */
};

struct load {
	mpq_loop *loop;
	mpq_tls_ctx *tls;
	mpq_addr server;
	bool hold;
	long target; /* connections to start in all */
	long started, completed, failed;
	struct slot *slots;
	size_t nslots, nopen; /* slots, and how many have a socket */
};

static void rnd(uint8_t *d, size_t n, void *ud)
{
	(void)ud;
	while (n > 0) {
		ssize_t got = getrandom(d, n, 0);

		if (got > 0) {
			d += got;
			n -= (size_t)got;
		}
	}
}

static int on_handshake(mpq_conn *conn, void *ud)
{
	(void)conn;
	((struct slot *)ud)->completed = true;
	return 0;
}

/* Sends what |s|'s connection has to send and sets its timer. */
static int service(struct slot *s, uint64_t now)
{
	uint8_t buf[1500];
	mpq_path path;
	mpq_pkt_info pi = {.version = MPQ_PKT_INFO_VERSION};
	int n;

	while ((n = mpq_conn_write_pkt(s->conn, &path, &pi, buf, sizeof(buf), now)) > 0) {
		mpq_dgram d = {.data = buf,
			       .len = (size_t)n,
			       .remote = path.remote,
			       .ecn = pi.ecn};

		mpq_pathio_send(s->io, &d, 1); /* a datagram the kernel refuses is lost */
	}
	if (n < 0 && n != MPQ_ERR_CLOSING && n != MPQ_ERR_DRAINING)
		return n;
	return mpq_loop_timer_set(s->ld->loop, &s->timer, mpq_conn_get_expiry(s->conn), 0);
}

/* Starts the next connection on |s|, or leaves it idle when all are started. */
static int start(struct slot *s, uint64_t now)
{
	struct load *ld = s->ld;
	mpq_settings st;
	mpq_tparams tp;
	mpq_callbacks cb;
	mpq_path path = {.remote = ld->server};
	int rv;

	if (ld->started == ld->target) {
		mpq_loop_timer_cancel(ld->loop, &s->timer);
		return 0;
	}
	mpq_callbacks_default(&cb);
	cb.rand = rnd;
	cb.handshake_completed = on_handshake;
	cb.user_data = s;
	mpq_settings_default(&st);
	st.server_name = "localhost";
	st.handshake_timeout = HANDSHAKE_TIMEOUT;
	mpq_tparams_default(&tp);
	tp.max_idle_timeout = ld->hold ? 600000 : 30000;
	tp.initial_max_data = 1 << 20;
	tp.initial_max_stream_data_bidi_local = 1 << 20;
	tp.initial_max_streams_bidi = 1;
	path.local = s->io->local;
	s->completed = false;
	rv = mpq_conn_client_new(&s->conn, &path, &st, &tp, &cb, ld->tls, now);
	if (rv)
		return rv;
	ld->started++;
	return service(s, now);
}

static int open_slot(struct slot *s);

/* The connection of |s| has completed its handshake (it has sent its last
 * handshake packets) or failed: count it and go on. Handshakes: close it
 * and start the next on the same socket. Hold: keep it, start the next
 * connection in a new slot. */
static int finish(struct slot *s, uint64_t now)
{
	struct load *ld = s->ld;

	if (s->completed)
		ld->completed++;
	else
		ld->failed++;
	if (ld->completed + ld->failed == ld->target)
		mpq_loop_stop(ld->loop);
	if (s->completed && ld->hold)
		return ld->nopen < ld->nslots ? open_slot(&ld->slots[ld->nopen++]) : 0;
	if (s->completed) {
		mpq_conn_close(s->conn, 0, "", now);
		service(s, now);
	}
	mpq_conn_del(s->conn);
	s->conn = NULL;
	if (ld->hold)
		return ld->nopen < ld->nslots ? open_slot(&ld->slots[ld->nopen++]) : 0;
	return start(s, now);
}

static int on_timer(mpq_loop *loop, mpq_loop_timer *t, void *ud)
{
	struct slot *s = ud;
	uint64_t now = mpq_loop_now();
	int rv;

	(void)loop;
	(void)t;
	if (!s->conn)
		return 0;
	rv = mpq_conn_handle_expiry(s->conn, now);
	if (rv < 0 && !s->completed)
		return finish(s, now);
	return service(s, now);
}

static int on_read(mpq_loop *loop, int fd, unsigned int events, void *ud)
{
	struct slot *s = ud;
	mpq_dgram d[RX_BATCH];
	uint64_t now = mpq_loop_now();
	bool was_done = s->completed;
	int n, rv;

	(void)loop;
	(void)fd;
	(void)events;
	n = mpq_pathio_recv(s->io, d, RX_BATCH);
	if (n < 0)
		return n;
	for (int i = 0; i < n && s->conn; i++) {
		mpq_path path = {.local = d[i].local,
				 .remote = d[i].remote,
				 .ifindex = d[i].ifindex};
		mpq_pkt_info pi = {.version = MPQ_PKT_INFO_VERSION, .ecn = d[i].ecn};

		if (mpq_conn_read_pkt(s->conn, &path, &pi, d[i].data, d[i].len, now) < 0 &&
		    !s->completed)
			return finish(s, now);
	}
	if (!s->conn)
		return 0;
	rv = service(s, now);
	if (rv == 0 && s->completed && !was_done)
		rv = finish(s, now);
	return rv;
}

/* Opens |s|'s socket and starts its first connection. */
static int open_slot(struct slot *s)
{
	struct load *ld = s->ld;
	mpq_pathio_config cfg;
	mpq_oserr err;
	int rv;

	mpq_pathio_config_default(&cfg);
	cfg.sockbuf = 0;
	cfg.batch = RX_BATCH;
	mpq_addr_any(&cfg.local, ld->server.ss.ss_family, 0);
	rv = mpq_pathio_udp.open(&s->io, &cfg, &err);
	if (rv) {
		fprintf(stderr, "mpq_load: socket: %s (errno %d)\n", mpq_strerror(rv), err.errnum);
		return rv;
	}
	mpq_loop_timer_init(&s->timer, on_timer, s);
	rv = mpq_loop_add_fd(ld->loop, mpq_pathio_fd(s->io), MPQ_LOOP_READ, on_read, s);
	return rv ?: start(s, mpq_loop_now());
}

static int usage(void)
{
	fprintf(stderr, "usage: mpq_load handshakes|hold ADDR:PORT N CONCURRENCY\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct load ld = {0};
	mpq_tls_config tc;
	struct rlimit rl;
	char errbuf[256];
	long conc;
	uint64_t t0, t1;
	int err, rv;

	mpq_tls_config_default(&tc);
	tc.alpn = "hq-interop";
	tc.insecure = true;
	if (argc != 5 || (strcmp(argv[1], "handshakes") && strcmp(argv[1], "hold")))
		return usage();
	ld.hold = !strcmp(argv[1], "hold");
	ld.target = atol(argv[3]);
	conc = atol(argv[4]);
	if (mpq_addr_parse(&ld.server, argv[2]) || ld.target < 1 || conc < 1)
		return usage();
	if (conc > ld.target)
		conc = ld.target;
	/* hold: a socket per connection; more than the usual soft limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ld.nslots = ld.hold ? (size_t)ld.target : (size_t)conc;
	ld.slots = calloc(ld.nslots, sizeof(*ld.slots));
	ld.tls = mpq_tls_context_new(&tc, &err, errbuf, sizeof(errbuf));
	if (!ld.slots || !ld.tls || mpq_loop_new(&ld.loop, NULL) ||
	    mpq_loop_stop_on_signal(ld.loop, SIGINT) ||
	    mpq_loop_stop_on_signal(ld.loop, SIGTERM)) {
		fprintf(stderr, "mpq_load: cannot start: %s\n", ld.tls ? "out of memory" : errbuf);
		return 1;
	}
	for (size_t i = 0; i < ld.nslots; i++)
		ld.slots[i].ld = &ld;
	t0 = mpq_loop_now();
	rv = 0;
	/* hold: the slots past the first CONCURRENCY open as earlier ones finish. */
	while (ld.nopen < (size_t)conc && rv == 0)
		rv = open_slot(&ld.slots[ld.nopen++]);
	if (rv == 0)
		rv = mpq_loop_run(ld.loop);
	t1 = mpq_loop_now();
	if (rv < 0) {
		fprintf(stderr, "mpq_load: %s\n", mpq_strerror(rv));
		return 1;
	}
	if (ld.hold) {
		printf("held %ld failed %ld\n", ld.completed, ld.failed);
		fflush(stdout);
		if (!mpq_loop_signal(ld.loop))
			rv = mpq_loop_run(ld.loop);
	} else {
		double s = (double)(t1 - t0) / 1e9;

		printf("handshakes %ld failed %ld seconds %.3f rate %.0f\n", ld.completed,
		       ld.failed, s, (double)ld.completed / s);
	}
	for (size_t i = 0; i < ld.nslots; i++) {
		if (ld.slots[i].conn)
			mpq_conn_del(ld.slots[i].conn);
		if (ld.slots[i].io) {
			mpq_loop_del_fd(ld.loop, mpq_pathio_fd(ld.slots[i].io));
			mpq_loop_timer_cancel(ld.loop, &ld.slots[i].timer);
			mpq_pathio_close(ld.slots[i].io);
		}
	}
	mpq_loop_del(ld.loop);
	mpq_tls_context_free(ld.tls);
	free(ld.slots);
	return ld.failed || rv < 0 ? 1 : 0;
}
