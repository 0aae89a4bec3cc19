/*
 * Peer input through the whole receive path of a server connection: the fuzz
 * input becomes the frames of a correctly protected client Initial packet
 * (PN 1, after a real ClientHello in PN 0), so it reaches frame decoding, ACK
 * processing, CRYPTO reassembly and TLS. Nothing it holds may crash the
 * connection; the connection may close, and must then still answer politely.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_pkt.h"
#include "fuzz_tls.h"
#include "quic/cid.h"
#include "quic/conn.h"
#include "quic/packet.h"
#include "quic/tls.h"

static mpq_tls_ctx *server_ctx;
static uint8_t first[1500];
static size_t first_len;
static mpq_cid odcid, client_scid;

static int setup(void)
{
	mpq_tls_ctx *client_ctx;
	if (fuzz_tls_contexts(&server_ctx, &client_ctx) != 0)
		return -1;

	mpq_path path;
	memset(&path, 0, sizeof(path));
	mpq_conn *client;
	if (fuzz_client_new(&client, client_ctx, false, 0) != 0)
		return -1;
	int n = mpq_conn_write_pkt(client, &path, NULL, first, sizeof(first), 0);
	odcid = client->odcid;
	client_scid = client->scid;
	mpq_conn_del(client);
	mpq_tls_ctx_free(client_ctx);
	if (n <= 0)
		return -1;
	first_len = (size_t)n;
	return 0;
}

/* A client Initial with |data| as its frames, protected with the Initial keys. */
static size_t build_initial(uint8_t *buf, size_t cap, const uint8_t *data, size_t len)
{
	mpq_crypto_keys ck = {0}, sk = {0};
	if (mpq_crypto_initial_keys(MPQ_VERSION_1, &odcid, &ck, &sk) != 0)
		return 0;
	size_t out = fuzz_long_packet(buf, cap, MPQ_PKT_INITIAL, &odcid, &client_scid, 1, data,
				      len, 1200, &ck);
	mpq_crypto_keys_free(&ck);
	mpq_crypto_keys_free(&sk);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;
	if (!ready)
		ready = setup() == 0 ? 1 : -1;
	if (ready < 0 || len > 8192)
		return 0;
	fuzz_seed = 7;

	mpq_settings s;
	mpq_tparams tp;
	mpq_callbacks cb = {.struct_version = MPQ_CALLBACKS_VERSION, .rand = fuzz_rand};
	mpq_path path;
	memset(&path, 0, sizeof(path));
	mpq_settings_default(&s);
	mpq_tparams_default(&tp);
	uint8_t dgram[1500];
	memcpy(dgram, first, first_len);
	mpq_conn *server;
	if (mpq_conn_server_new(&server, &path, dgram, first_len, &s, &tp, &cb, server_ctx, 0) !=
	    0)
		__builtin_trap(); /* a real ClientHello must be accepted */
	mpq_conn_read_pkt(server, &path, NULL, dgram, first_len, 1000);

	static uint8_t pkt[8192 + 256];
	size_t n = build_initial(pkt, sizeof(pkt), data, len);
	if (n)
		mpq_conn_read_pkt(server, &path, NULL, pkt, n, 2000);
	uint8_t out[1500];
	for (int i = 0;
	     i < 8 && mpq_conn_write_pkt(server, &path, NULL, out, sizeof(out), 3000) > 0; i++)
		;
	mpq_conn_handle_expiry(server, mpq_conn_get_expiry(server));
	mpq_conn_del(server);
	return 0;
}
