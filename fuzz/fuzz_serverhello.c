/*
 * A client fed a server's first flight whose transport parameters come raw
 * from the fuzz input: the harness plays the server with a TLS session of its
 * own (OpenSSL writes the ServerHello and the EncryptedExtensions around the
 * parameters), protects the flight in an Initial and a Handshake packet, and
 * the client checks what it got (lib/quic/handshake.c: decoding, the CIDs
 * against the handshake) and, when it accepts, runs with those limits for a
 * few rounds: a stream opened and written, its packets sent to nowhere, its
 * timers. Input:
 *   byte 0  flags: bit 0 the server selects ALPN "h3" (the client offers
 *           hq-interop), bit 1 the right original_destination_connection_id
 *           and initial_source_connection_id follow the input's parameters,
 *           bit 2 they come before them
 *   byte 1  n: the next n bytes are XORed over the ServerHello
 *   then n bytes, then the transport parameters extension's body
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_pkt.h"
#include "fuzz_tls.h"
#include "fuzz_util.h"
#include "quic/conn.h"
#include "quic/tparams.h"

#define FLIGHT_MAX 8192

static mpq_tls_ctx *sctx[2], *cctx;

/* The server's side: its handshake bytes per level and its Handshake keys. */
struct server {
	uint8_t out[2][FLIGHT_MAX];
	size_t outlen[2];
	mpq_crypto_keys hs_tx;
};

static int on_send_crypto(void *ud, int level, const uint8_t *data, size_t len)
{
	struct server *s = ud;
	if (level > MPQ_LEVEL_HANDSHAKE || len > FLIGHT_MAX - s->outlen[level])
		return MPQ_ERR_NOBUF;
	memcpy(s->out[level] + s->outlen[level], data, len);
	s->outlen[level] += len;
	return 0;
}

static int on_set_secret(void *ud, int level, bool is_tx, int cipher, const uint8_t *secret,
			 size_t secretlen)
{
	struct server *s = ud;
	if (level != MPQ_LEVEL_HANDSHAKE || !is_tx)
		return 0;
	mpq_crypto_keys_free(&s->hs_tx);
	return mpq_crypto_keys_init(&s->hs_tx, cipher, MPQ_VERSION_1, secret, secretlen);
}

static int on_recv_tparams(void *ud, const uint8_t *data, size_t len)
{
	return 0;
}

static int setup(void)
{
	static const char *const names[] = {"localhost"};
	char *cert, *key, err[256];
	int rv;
	if (mpq_cert_self_signed(names, 1, &cert, &key, NULL) != 0)
		return -1;
	mpq_tls_ctx_config sc = {.is_server = true, .cert_pem = cert, .key_pem = key};
	mpq_tls_ctx_config cc = {.alpn = "hq-interop", .insecure = true};
	sc.alpn = "hq-interop";
	sctx[0] = mpq_tls_ctx_new(&sc, &rv, err, sizeof(err));
	sc.alpn = "h3";
	sctx[1] = mpq_tls_ctx_new(&sc, &rv, err, sizeof(err));
	cctx = mpq_tls_ctx_new(&cc, &rv, err, sizeof(err));
	free(cert);
	free(key);
	return sctx[0] && sctx[1] && cctx ? 0 : -1;
}

/* A transport parameter holding |cid|. */
static size_t cid_param(uint8_t *p, uint8_t id, const mpq_cid *cid)
{
	p[0] = id;
	p[1] = cid->len;
	memcpy(p + 2, cid->data, cid->len);
	return 2 + (size_t)cid->len;
}

/* The parameters the server sends: the input's, with the right CIDs
 * around them when the flags ask. */
static size_t server_tparams(uint8_t *tp, const uint8_t *in, size_t len, uint8_t flags,
			     const mpq_cid *odcid, const mpq_cid *scid)
{
	size_t n = 0;
	if (flags & 4) {
		n += cid_param(tp + n, MPQ_TP_ORIGINAL_DCID, odcid);
		n += cid_param(tp + n, MPQ_TP_INITIAL_SCID, scid);
	}
	memcpy(tp + n, in, len);
	n += len;
	if (flags & 2) {
		n += cid_param(tp + n, MPQ_TP_ORIGINAL_DCID, odcid);
		n += cid_param(tp + n, MPQ_TP_INITIAL_SCID, scid);
	}
	return n;
}

/* The server's flight at |level| in one or more packets to the client. */
static void send_flight(mpq_conn *client, mpq_path *path, int type, const uint8_t *d, size_t len,
			const mpq_cid *dcid, const mpq_cid *scid, mpq_crypto_keys *k, uint64_t now)
{
	uint8_t frame[1100], pkt[1500];
	for (size_t off = 0, pn = 0; off < len; off += 1000, pn++) {
		size_t chunk = len - off < 1000 ? len - off : 1000;
		size_t fl = fuzz_crypto_frame(frame, sizeof(frame), off, d + off, chunk);
		size_t n =
			fuzz_long_packet(pkt, sizeof(pkt), type, dcid, scid, pn, frame, fl, 0, k);
		if (n)
			mpq_conn_read_pkt(client, path, NULL, pkt, n, now);
	}
}

/* The client, having the server's parameters, sends and times out a while. */
static void client_rounds(mpq_conn *client, mpq_path *path, uint64_t now)
{
	static const uint8_t body[4096];
	uint8_t buf[1500];
	int64_t id;
	if (mpq_conn_open_stream(client, true, &id) == 0)
		mpq_conn_stream_write(client, id, body, sizeof(body), true);
	for (int r = 0; r < 6; r++) {
		for (int i = 0; i < 16; i++)
			if (mpq_conn_write_pkt(client, path, NULL, buf, sizeof(buf), now) <= 0)
				break;
		now += 100000;
		if (mpq_conn_get_expiry(client) <= now)
			mpq_conn_handle_expiry(client, now);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;
	if (!ready)
		ready = setup() == 0 ? 1 : -1;
	if (ready < 0 || len < 2 || len > 4096 || (size_t)data[1] + 2 > len)
		return 0;
	fuzz_seed = 7;
	const uint8_t *mask = data + 2, *in = mask + data[1];
	size_t inlen = len - 2 - data[1];

	mpq_path path;
	memset(&path, 0, sizeof(path));
	uint64_t now = 1000000;
	mpq_conn *client;
	if (fuzz_client_new(&client, cctx, true, now) != 0)
		__builtin_trap();
	const mpq_crypto_tx *hello = &mpq_conn_ns(client, MPQ_LEVEL_INITIAL)->crypto_tx;
	mpq_cid scid = {.len = 8, .data = {0x5e, 0x17, 0x0e, 0x55, 0x5e, 0x17, 0x0e, 0x55}};

	static struct server srv;
	static uint8_t params[4096 + 64];
	memset(&srv, 0, sizeof(srv));
	size_t plen = server_tparams(params, in, inlen, data[0], &client->odcid, &scid);
	mpq_tls_callbacks tcb = {.send_crypto = on_send_crypto,
				 .set_secret = on_set_secret,
				 .recv_tparams = on_recv_tparams,
				 .user_data = &srv};
	mpq_tls *tls;
	mpq_crypto_keys ck = {0}, sk = {0};
	if (mpq_tls_new(&tls, sctx[data[0] & 1], NULL, params, plen, &tcb) != 0 ||
	    mpq_crypto_initial_keys(MPQ_VERSION_1, &client->odcid, &ck, &sk) != 0)
		__builtin_trap();
	mpq_tls_recv_crypto(tls, MPQ_LEVEL_INITIAL, hello->buf, hello->len);
	for (size_t i = 0; i < data[1] && i < srv.outlen[0]; i++)
		srv.out[0][i] ^= mask[i];
	send_flight(client, &path, MPQ_PKT_INITIAL, srv.out[0], srv.outlen[0], &client->scid,
		    &scid, &sk, now);
	if (srv.hs_tx.cipher)
		send_flight(client, &path, MPQ_PKT_HANDSHAKE, srv.out[1], srv.outlen[1],
			    &client->scid, &scid, &srv.hs_tx, now);
	client_rounds(client, &path, now);

	mpq_tls_free(tls);
	mpq_crypto_keys_free(&srv.hs_tx);
	mpq_crypto_keys_free(&ck);
	mpq_crypto_keys_free(&sk);
	mpq_conn_del(client);
	return 0;
}
