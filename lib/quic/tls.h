/*
 * TLS 1.3 for QUIC on OpenSSL 3.0's stable API (DESIGN.md "TLS"):
 *  - outgoing handshake messages are taken from SSL_set_msg_callback and handed
 *    out per encryption level (what OpenSSL writes to its BIO is discarded);
 *  - secrets arrive through the keylog callback and are handed out per level
 *    and direction, together with the NSS key log line;
 *  - incoming CRYPTO data is fed to OpenSSL as TLS records through a memory BIO
 *    (plaintext at Initial, TLSCiphertext we encrypt with the record keys at
 *    Handshake and 1-RTT);
 *  - transport parameters travel as extension 0x39.
 * Everything OpenSSL-specific stays in tls.c, so a backend for OpenSSL ≥ 3.5's
 * native QUIC TLS API can replace it without touching the connection.
 */
#ifndef MPQ_TLS_H
#define MPQ_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/mpq.h"

/* Encryption levels, also the packet number spaces' order. */
enum mpq_level {
	MPQ_LEVEL_INITIAL = 0,
	MPQ_LEVEL_HANDSHAKE = 1,
	MPQ_LEVEL_APP = 2,
	MPQ_LEVEL_COUNT = 3,
};

typedef struct mpq_tls_ctx mpq_tls_ctx;
typedef struct mpq_tls mpq_tls;

/* What one side of TLS needs: an SSL_CTX's worth of settings. */
typedef struct mpq_tls_ctx_config {
	bool is_server;
	const char *alpn; /* comma-separated, in preference order; "hq-interop" */
	/* Server: certificate chain and key, as PEM files, or PEM text in memory. */
	const char *cert_file;
	const char *key_file;
	const char *cert_pem;
	const char *key_pem;
	/* Client: CA file to trust (NULL: the system store); insecure skips checks. */
	const char *ca_file;
	bool insecure;
	/* Client: the SHA-256 of the server's certificate (DER) to accept instead of
	 * a chain to a CA and a matching name (NULL: none). Copied. */
	const uint8_t *pin_sha256;
	/* TLS 1.3 suites in OpenSSL's syntax; NULL: AES-128-GCM, AES-256-GCM, ChaCha20. */
	const char *ciphersuites;
} mpq_tls_ctx_config;

typedef struct mpq_tls_callbacks {
	/* Handshake bytes to send in CRYPTO frames at |level|. */
	int (*send_crypto)(void *user_data, int level, const uint8_t *data, size_t len);
	/* A new traffic secret for |level|: |is_tx| for ours, else the peer's.
	 * |cipher| is an enum mpq_cipher. */
	int (*set_secret)(void *user_data, int level, bool is_tx, int cipher,
			  const uint8_t *secret, size_t secretlen);
	/* One NSS key log line, without newline (SSLKEYLOGFILE format). May be NULL. */
	void (*keylog)(void *user_data, const char *line);
	/* The peer's transport parameters extension body. */
	int (*recv_tparams)(void *user_data, const uint8_t *data, size_t len);
	void *user_data;
} mpq_tls_callbacks;

/* Creates a context. On failure returns NULL and sets |*err| to
 * MPQ_ERR_INVALID_ARGUMENT (bad or missing certificate, key or CA file; the
 * reason is in |errbuf|), MPQ_ERR_NOMEM or MPQ_ERR_TLS. */
mpq_tls_ctx *mpq_tls_ctx_new(const mpq_tls_ctx_config *cfg, int *err, char *errbuf,
			     size_t errbuflen);
void mpq_tls_ctx_free(mpq_tls_ctx *ctx);

/* One TLS session. |server_name| (client) is sent as SNI and checked against the
 * certificate unless the context is insecure. |tparams| are our encoded transport
 * parameters, copied (NULL sends no extension at all: only for testing the
 * peer's check). Returns 0, MPQ_ERR_NOMEM or MPQ_ERR_TLS. */
int mpq_tls_new(mpq_tls **out, mpq_tls_ctx *ctx, const char *server_name, const uint8_t *tparams,
		size_t tparamslen, const mpq_tls_callbacks *cb);
void mpq_tls_free(mpq_tls *tls);

/* Client: writes the ClientHello (through send_crypto). Server: nothing to do. */
int mpq_tls_start(mpq_tls *tls);

/* Feeds in-order CRYPTO data received at |level| and advances the handshake;
 * callbacks fire from inside. Returns 0, MPQ_ERR_CRYPTO when TLS failed with an
 * alert (mpq_tls_alert tells which; the alert itself is not sent: the caller
 * closes with CRYPTO_ERROR 0x100 + alert), MPQ_ERR_PROTO for data at a level
 * TLS does not expect, or MPQ_ERR_TLS. */
int mpq_tls_recv_crypto(mpq_tls *tls, int level, const uint8_t *data, size_t len);

/* True once TLS has finished its handshake (client: sent Finished; server:
 * received Finished). */
bool mpq_tls_handshake_complete(const mpq_tls *tls);

/* The alert TLS raised or received (0: none). */
uint8_t mpq_tls_alert(const mpq_tls *tls);

/* The negotiated ALPN; NULL before it is known. */
const uint8_t *mpq_tls_alpn(const mpq_tls *tls, size_t *len);

/* A line describing the last failure (certificate verify result, ...). */
const char *mpq_tls_error_string(const mpq_tls *tls);

#endif
