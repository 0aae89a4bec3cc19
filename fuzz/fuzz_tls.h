/*
 * What the harnesses that run connections share: a deterministic random
 * source (reseeded per input, so a crash replays) and a server and a client
 * TLS context with a self-signed certificate for "localhost", ALPN hq-interop
 * (or FUZZ_TLS_ALPN when defined before including this), and a client to go
 * with them.
 */
#ifndef MPQ_FUZZ_TLS_H
#define MPQ_FUZZ_TLS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/conn.h"
#include "mpq/io/cert.h"
#include "quic/tls.h"

#ifndef FUZZ_TLS_ALPN
#define FUZZ_TLS_ALPN "hq-interop"
#endif

static uint64_t fuzz_seed;

static inline void fuzz_rand(uint8_t *dest, size_t len, void *ud)
{
	(void)ud;
	for (size_t i = 0; i < len; i++) {
		fuzz_seed = fuzz_seed * 6364136223846793005ULL + 1442695040888963407ULL;
		dest[i] = (uint8_t)(fuzz_seed >> 56);
	}
}

/* Returns 0, or -1 when either context could not be made. */
static inline int fuzz_tls_contexts(mpq_tls_ctx **server, mpq_tls_ctx **client)
{
	static const char *const names[] = {"localhost"};
	char *cert, *key, err[256];
	int rv;
	if (mpq_cert_self_signed(names, 1, &cert, &key, NULL) != 0)
		return -1;
	mpq_tls_ctx_config sc = {.is_server = true,
				 .alpn = FUZZ_TLS_ALPN,
				 .cert_pem = cert,
				 .key_pem = key};
	mpq_tls_ctx_config cc = {.alpn = FUZZ_TLS_ALPN, .insecure = true};
	*server = mpq_tls_ctx_new(&sc, &rv, err, sizeof(err));
	*client = mpq_tls_ctx_new(&cc, &rv, err, sizeof(err));
	free(cert);
	free(key);
	return *server && *client ? 0 : -1;
}

/* A client for "localhost" on a zeroed path, with the deterministic random
 * source and default settings; |multipath| offers path IDs up to 2. */
static inline int fuzz_client_new(mpq_conn **out, mpq_tls_ctx *ctx, bool multipath, uint64_t now)
{
	static const mpq_callbacks cb = {.struct_version = MPQ_CALLBACKS_VERSION,
					 .rand = fuzz_rand};
	mpq_settings s;
	mpq_tparams tp;
	mpq_path path;
	memset(&path, 0, sizeof(path));
	mpq_settings_default(&s);
	s.server_name = "localhost";
	mpq_tparams_default(&tp);
	tp.has_initial_max_path_id = multipath;
	tp.initial_max_path_id = multipath ? 2 : 0;
	return mpq_conn_client_new(out, &path, &s, &tp, &cb, ctx, now);
}

#endif
