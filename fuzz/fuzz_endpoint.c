/*
 * Datagrams around a handshake, through the endpoint and the client: what
 * needs no connection (Version Negotiation, Retry and its token, NEW_TOKEN
 * tokens, stateless resets, Initials for no connection) and what a client
 * does with what comes back. The first input byte picks the endpoint's Retry
 * (bit 0) and the client's version (bit 1, v2); then records of an op byte, a
 * 2-byte length and that many bytes:
 *   0, 1  the bytes as a datagram to the endpoint, from the client's address
 *         or another one
 *   2     the bytes as a datagram to the client
 *   3, 4  the client's (3) or the server's (4) next real datagram with the
 *         bytes XORed over its start, so tokens, CIDs and headers are nearly
 *         right
 *   5     1 + bytes[0] % 8 rounds of the real exchange
 * The seeds hold a whole handshake (with and without Retry) and these
 * packets made by hand. Nothing may crash or trip a sanitizer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_tls.h"
#include "forge.h"
#include "fuzz_util.h"
#include "mpq/endpoint.h"
#include "quic/conn.h"

static mpq_tls_ctx *sctx, *cctx;

struct world {
	mpq_endpoint *ep;
	mpq_conn *client;
	mpq_path cpath, spath, other;
	uint64_t now;
};

static void to_endpoint(struct world *w, const mpq_path *from, uint8_t *d, size_t len)
{
	mpq_conn *conn;
	mpq_endpoint_read(w->ep, from, NULL, d, len, w->now, &conn);
}

/* The server's next datagram: a stateless answer, else a connection's. */
static int server_datagram(struct world *w, uint8_t *buf, size_t cap)
{
	mpq_path out;
	int n = mpq_endpoint_write_stateless(w->ep, &out, buf, cap);
	for (size_t i = 0; n <= 0 && i < mpq_endpoint_conn_count(w->ep); i++)
		n = mpq_conn_write_pkt(mpq_endpoint_conn_at(w->ep, i), &out, NULL, buf, cap,
				       w->now);
	return n;
}

static void xor_over(uint8_t *d, size_t len, const uint8_t *x, size_t xlen)
{
	for (size_t i = 0; i < len && i < xlen; i++)
		d[i] ^= x[i];
}

static void exchange(struct world *w, int rounds)
{
	uint8_t buf[1500];
	int n;
	for (int r = 0; r < rounds; r++) {
		while ((n = mpq_conn_write_pkt(w->client, &w->cpath, NULL, buf, sizeof(buf),
					       w->now)) > 0)
			to_endpoint(w, &w->spath, buf, (size_t)n);
		while ((n = server_datagram(w, buf, sizeof(buf))) > 0)
			mpq_conn_read_pkt(w->client, &w->cpath, NULL, buf, (size_t)n, w->now);
		w->now += 5000000;
		forge_timers(w->client, w->ep, w->now);
	}
}

static int start(struct world *w, uint8_t flags)
{
	mpq_endpoint_config cfg;
	mpq_endpoint_config_default(&cfg);
	cfg.tls = sctx;
	cfg.callbacks.rand = fuzz_rand;
	cfg.retry = flags & 1;
	cfg.tparams.initial_max_streams_bidi = 4;
	cfg.tparams.initial_max_data = 1 << 16;
	cfg.tparams.initial_max_stream_data_bidi_remote = 1 << 16;
	memset(cfg.secret, 0x5a, sizeof(cfg.secret));
	if (mpq_endpoint_new(&w->ep, &cfg) != 0)
		return -1;
	fuzz_addr4(&w->cpath.local, 0x7f000001, 40000);
	fuzz_addr4(&w->cpath.remote, 0x7f000002, 443);
	/* The endpoint sees the client's datagrams as sent from its address. */
	w->spath.local = w->cpath.remote;
	w->spath.remote = w->cpath.local;
	fuzz_addr4(&w->other.remote, 0x7f000003, 50000);
	w->other.local = w->cpath.remote;

	mpq_settings s;
	mpq_tparams tp;
	mpq_settings_default(&s);
	s.server_name = "localhost";
	s.version = flags & 2 ? MPQ_VERSION_2 : MPQ_VERSION_1;
	mpq_tparams_default(&tp);
	tp.initial_max_streams_bidi = 4;
	mpq_callbacks cb = {.struct_version = MPQ_CALLBACKS_VERSION, .rand = fuzz_rand};
	return mpq_conn_client_new(&w->client, &w->cpath, &s, &tp, &cb, cctx, w->now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;
	if (!ready)
		ready = fuzz_tls_contexts(&sctx, &cctx) == 0 ? 1 : -1;
	if (ready < 0 || len < 1 || len > 16384)
		return 0;
	fuzz_seed = 7;
	struct world w;
	memset(&w, 0, sizeof(w));
	w.now = 1000000000;
	if (start(&w, data[0]) != 0)
		__builtin_trap();
	struct fuzz_records recs = {.data = data, .len = len, .off = 1, .lenbytes = 2};
	static uint8_t dgram[65536]; /* a record's bytes, read in place */
	uint8_t buf[1500], op;
	const uint8_t *p;
	size_t plen;
	int n;
	while (fuzz_next_record(&recs, &op, &p, &plen)) {
		switch (op % 6) {
		case 0:
		case 1:
			memcpy(dgram, p, plen);
			to_endpoint(&w, op % 6 ? &w.other : &w.spath, dgram, plen);
			break;
		case 2:
			memcpy(dgram, p, plen);
			mpq_conn_read_pkt(w.client, &w.cpath, NULL, dgram, plen, w.now);
			break;
		case 3:
			n = mpq_conn_write_pkt(w.client, &w.cpath, NULL, buf, sizeof(buf), w.now);
			if (n > 0) {
				xor_over(buf, (size_t)n, p, plen);
				to_endpoint(&w, &w.spath, buf, (size_t)n);
			}
			break;
		case 4:
			n = server_datagram(&w, buf, sizeof(buf));
			if (n > 0) {
				xor_over(buf, (size_t)n, p, plen);
				mpq_conn_read_pkt(w.client, &w.cpath, NULL, buf, (size_t)n, w.now);
			}
			break;
		default:
			exchange(&w, 1 + (plen ? p[0] % 8 : 0));
			break;
		}
	}
	exchange(&w, 8);
	mpq_conn_del(w.client);
	mpq_endpoint_del(w.ep);
	return 0;
}
