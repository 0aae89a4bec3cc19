/*
 * In-memory throughput of the protocol core: a server sends N MB to a client
 * over the conn_pair link (no sockets), against a baseline run in the same
 * invocation: sealing and opening the same bytes in 1200-byte packets with
 * the same AEAD, which is the floor any QUIC stack pays. The ratio says how
 * much the rest of the stack (framing, ACKs, recovery, streams) costs.
 *
 *   build/bench/bench_conn [MB]      (default 200)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn_pair.h"
#include "quic/conn.h"
#include "quic/crypto.h"

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

struct state {
	uint64_t total, written, received;
	int64_t id;
	bool done;
};

static uint8_t chunk[65536];

static void pump(mpq_conn *c, struct state *s)
{
	while (s->written < s->total) {
		size_t n = sizeof(chunk);
		if (n > s->total - s->written)
			n = (size_t)(s->total - s->written);
		int64_t took =
			mpq_conn_stream_write(c, s->id, chunk, n, s->written + n == s->total);
		if (took <= 0)
			return;
		s->written += (uint64_t)took;
	}
}

static int on_writable(mpq_conn *c, int64_t id, void *ud)
{
	struct conn_pair *p = ud;
	if (c == p->conn[PAIR_SERVER])
		pump(c, p->app);
	return 0;
}

static int on_data(mpq_conn *c, int64_t id, uint64_t off, const uint8_t *d, size_t len, bool fin,
		   void *ud)
{
	struct conn_pair *p = ud;
	struct state *s = p->app;
	if (c == p->conn[PAIR_CLIENT]) {
		s->received += len;
		s->done |= fin;
	} else if (fin) {
		/* The request arrived: answer on the same stream. */
		s->id = id;
		pump(c, s);
	}
	return 0;
}

static bool done(struct conn_pair *p)
{
	return ((struct state *)p->app)->done;
}

static double crypto_baseline(uint64_t bytes)
{
	mpq_crypto_keys k = {0};
	uint8_t secret[32] = {1}, pkt[1200 + 16], hdr[20] = {0x40};
	mpq_crypto_keys_init(&k, MPQ_CIPHER_AES_128_GCM, MPQ_VERSION_1, secret, 32);
	uint64_t t0 = now_ns(), pn = 0;
	for (uint64_t done_bytes = 0; done_bytes < bytes; done_bytes += 1200, pn++) {
		mpq_crypto_seal(&k, 0, pn, hdr, sizeof(hdr), pkt, 1200, pkt);
		if (mpq_crypto_open(&k, 0, pn, hdr, sizeof(hdr), pkt, 1216, pkt) != 0)
			abort();
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	mpq_crypto_keys_free(&k);
	return (double)bytes * 8 / secs / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t mb = argc > 1 ? strtoull(argv[1], NULL, 10) : 200;
	struct state s = {.total = mb * 1000000, .id = -1};
	mpq_callbacks cb = {.struct_version = MPQ_CALLBACKS_VERSION,
			    .stream_data = on_data,
			    .stream_writable = on_writable};
	struct pair_opts o = {.app = {&cb, &cb},
			      .app_state = &s,
			      .max_data = 16 * 1024 * 1024,
			      .max_stream_data = 16 * 1024 * 1024};
	struct conn_pair p;
	if (pair_init(&p, &o) != 0 || !pair_run(&p, pair_both_complete, 10 * MPQ_SEC))
		return 1;
	p.delay = 0; /* a perfect link: what is measured is the stack */
	int64_t id;
	mpq_conn_open_stream(p.conn[PAIR_CLIENT], true, &id);
	mpq_conn_stream_write(p.conn[PAIR_CLIENT], id, (const uint8_t *)"GET\r\n", 5, true);
	uint64_t t0 = now_ns();
	bool ok = pair_run(&p, done, 3600 * MPQ_SEC);
	double secs = (double)(now_ns() - t0) / 1e9;
	double stack = (double)s.received * 8 / secs / 1e9;
	double base = crypto_baseline(s.total);
	printf("bench_conn: %llu MB in %.2f s: %.2f Gbit/s; AEAD seal+open alone %.2f Gbit/s; "
	       "ratio %.2f%s\n",
	       (unsigned long long)(s.received / 1000000), secs, stack, base, stack / base,
	       ok && s.received == s.total ? "" : " (INCOMPLETE)");
	pair_free(&p);
	return ok ? 0 : 1;
}
