/*
 * TLS 1.3 for QUIC on OpenSSL 3.0's stable API (DESIGN.md "TLS"; nginx's
 * OpenSSL compatibility layer works the same way). OpenSSL runs as if over
 * TLS records: it reads records we build from CRYPTO data out of a memory BIO
 * and writes records nobody reads into a null BIO. What QUIC needs comes out of
 * the side channels: handshake messages from the message callback, secrets from
 * the key log callback, transport parameters from a custom extension.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "crypto_algs.h"
#include "tls.h"

#define TP_EXT_TYPE 0x39
#define DEFAULT_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define ALPN_WIRE_MAX 256
#define ERRSTR_LEN 256

#define RECORD_HDRLEN 5
#define RECORD_MAX_PLAIN 16384 /* RFC 8446 §5.1: 2^14 */
#define RECORD_CHUNK 1024      /* a sealed record is encrypted this much at a time */

/* Alerts we raise ourselves (RFC 8446 §6.2). */
#define ALERT_UNEXPECTED_MESSAGE 10
#define ALERT_MISSING_EXTENSION 109
#define ALERT_NO_APPLICATION_PROTOCOL 120

/* Handshake message types (RFC 8446 §4). */
enum {
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_NEW_SESSION_TICKET = 4,
	HS_ENCRYPTED_EXTENSIONS = 8,
	HS_KEY_UPDATE = 24,
};

struct mpq_tls_ctx {
	SSL_CTX *ssl_ctx;
	bool is_server;
	bool insecure;
	bool pinned; /* pin: the only certificate accepted */
	uint8_t pin[SHA256_DIGEST_LENGTH];
	uint8_t alpn[ALPN_WIRE_MAX]; /* protocol list in ALPN wire format */
	size_t alpnlen;
};

/* The TLS record key of the peer's current secret: OpenSSL decrypts what we
 * seal with it, record by record (RFC 8446 §5.2-5.3). */
struct record_key {
	EVP_CIPHER_CTX *aead;
	uint8_t iv[MPQ_AEAD_IVLEN];
	uint64_t seq;
};

struct mpq_tls {
	SSL *ssl;
	const mpq_tls_ctx *ctx;
	mpq_tls_callbacks cb;
	uint8_t *tparams; /* NULL: send no extension */
	size_t tparamslen;
	bool got_tparams;
	bool peer_checked; /* tparams and ALPN from the peer confirmed */
	bool complete;
	int rx_level; /* the level OpenSSL reads at */
	int err;      /* sticky: once set, no more callbacks fire */
	uint8_t alert;
	struct record_key rx;
	char errstr[ERRSTR_LEN];
};

/* The traffic secrets QUIC uses, by key log label. */
static const struct {
	const char *label;
	int level;
	bool client;
} secret_labels[] = {
	{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", MPQ_LEVEL_HANDSHAKE, true},
	{"SERVER_HANDSHAKE_TRAFFIC_SECRET", MPQ_LEVEL_HANDSHAKE, false},
	{"CLIENT_TRAFFIC_SECRET_0", MPQ_LEVEL_APP, true},
	{"SERVER_TRAFFIC_SECRET_0", MPQ_LEVEL_APP, false},
};

__attribute__((format(printf, 3, 4))) static void set_text(char *buf, size_t len, const char *fmt,
							   ...)
{
	if (!buf || len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* The reason of the oldest error on OpenSSL's queue: the root cause. System
 * errors (a missing file) have no reason string of their own. */
static const char *ossl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_error();
	if (ERR_SYSTEM_ERROR(e))
		return strerror_r(ERR_GET_REASON(e), buf, len);
	const char *s = e ? ERR_reason_error_string(e) : NULL;
	return s ? s : "unknown error";
}

/* --- OpenSSL callbacks --- */

static mpq_tls *tls_of(const SSL *ssl)
{
	return SSL_get_app_data(ssl);
}

/* Records the first failure; later callbacks see it and stay quiet. */
static int fail(mpq_tls *tls, int err)
{
	if (!tls->err)
		tls->err = err;
	return tls->err;
}

static void fail_alert(mpq_tls *tls, uint8_t alert, const char *why)
{
	if (tls->err)
		return;
	tls->err = MPQ_ERR_CRYPTO;
	tls->alert = alert;
	set_text(tls->errstr, sizeof(tls->errstr), "%s", why);
}

static void fail_callback(mpq_tls *tls, int rv, const char *what)
{
	if (tls->err)
		return;
	set_text(tls->errstr, sizeof(tls->errstr), "%s callback failed: %s", what,
		 mpq_strerror(rv));
	fail(tls, rv);
}

static int tp_add_cb(SSL *ssl, unsigned int ext_type, unsigned int context,
		     const unsigned char **out, size_t *outlen, X509 *x, size_t chainidx, int *al,
		     void *add_arg)
{
	mpq_tls *tls = tls_of(ssl);
	if (!tls->tparams)
		return 0; /* leave the extension out */
	*out = tls->tparams;
	*outlen = tls->tparamslen;
	return 1;
}

static int tp_parse_cb(SSL *ssl, unsigned int ext_type, unsigned int context,
		       const unsigned char *in, size_t inlen, X509 *x, size_t chainidx, int *al,
		       void *parse_arg)
{
	mpq_tls *tls = tls_of(ssl);
	if (tls->err)
		return 0;
	int rv = tls->cb.recv_tparams(tls->cb.user_data, in, inlen);
	if (rv < 0) {
		fail_callback(tls, rv, "transport parameters");
		*al = SSL_AD_ILLEGAL_PARAMETER;
		return 0;
	}
	tls->got_tparams = true;
	return 1;
}

/* Server preference order; no overlap fails with no_application_protocol. */
static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
			  const unsigned char *in, unsigned int inlen, void *arg)
{
	const mpq_tls_ctx *ctx = arg;
	unsigned char *sel;
	if (SSL_select_next_proto(&sel, outlen, ctx->alpn, (unsigned int)ctx->alpnlen, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* The encryption level a handshake message travels at (RFC 9001 §4.1.4). */
static int level_of(uint8_t type)
{
	switch (type) {
	case HS_CLIENT_HELLO:
	case HS_SERVER_HELLO:
		return MPQ_LEVEL_INITIAL;
	case HS_NEW_SESSION_TICKET:
	case HS_KEY_UPDATE:
		return MPQ_LEVEL_APP;
	default:
		return MPQ_LEVEL_HANDSHAKE;
	}
}

/* RFC 9001 §8.1-8.2: the peer must have sent transport parameters and agreed
 * on an application protocol. Called once the peer's extensions are in: the
 * server before it writes anything, the client past EncryptedExtensions. */
static void check_peer(mpq_tls *tls)
{
	const unsigned char *alpn;
	unsigned int alpnlen;
	tls->peer_checked = true;
	if (!tls->got_tparams) {
		fail_alert(tls, ALERT_MISSING_EXTENSION, "peer sent no QUIC transport parameters");
		return;
	}
	SSL_get0_alpn_selected(tls->ssl, &alpn, &alpnlen);
	if (alpnlen == 0)
		fail_alert(tls, ALERT_NO_APPLICATION_PROTOCOL, "no application protocol agreed");
}

static void on_send(mpq_tls *tls, const uint8_t *msg, size_t len)
{
	if (tls->ctx->is_server && !tls->peer_checked)
		check_peer(tls);
	if (tls->err)
		return;
	int rv = tls->cb.send_crypto(tls->cb.user_data, level_of(msg[0]), msg, len);
	if (rv < 0)
		fail_callback(tls, rv, "send_crypto");
}

static void on_recv(mpq_tls *tls, uint8_t type)
{
	if (!tls->ctx->is_server && !tls->peer_checked && type != HS_SERVER_HELLO &&
	    type != HS_ENCRYPTED_EXTENSIONS)
		check_peer(tls);
	/* RFC 9001 §6: QUIC has its own key update; a TLS KeyUpdate is an error. */
	if (type == HS_KEY_UPDATE)
		fail_alert(tls, ALERT_UNEXPECTED_MESSAGE, "peer sent a TLS KeyUpdate");
}

static void on_alert(mpq_tls *tls, bool sent, uint8_t level, uint8_t desc)
{
	if (level != SSL3_AL_FATAL || tls->alert)
		return;
	tls->alert = desc;
	if (!sent && !tls->errstr[0])
		set_text(tls->errstr, sizeof(tls->errstr), "peer sent alert: %s",
			 SSL_alert_desc_string_long(desc));
}

static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
		   SSL *ssl, void *arg)
{
	mpq_tls *tls = arg;
	const uint8_t *p = buf;
	if (content_type == SSL3_RT_ALERT && len >= 2)
		on_alert(tls, write_p, p[0], p[1]);
	if (content_type != SSL3_RT_HANDSHAKE || len < 1 || tls->err)
		return;
	if (write_p)
		on_send(tls, p, len);
	else
		on_recv(tls, p[0]);
}

/* --- secrets --- */

static int record_key_set(struct record_key *rk, int cipher, const uint8_t *secret,
			  size_t secretlen)
{
	const EVP_CIPHER *evp = mpq_crypto_aead_cipher(cipher);
	uint8_t key[32];
	if (!evp)
		return MPQ_ERR_TLS;
	size_t keylen = (size_t)EVP_CIPHER_get_key_length(evp);
	int rv = mpq_crypto_hkdf_expand_key_iv(cipher, secret, secretlen, "key", key, keylen, "iv",
					       rk->iv);
	if (rv == 0 && !rk->aead && !(rk->aead = EVP_CIPHER_CTX_new()))
		rv = MPQ_ERR_NOMEM;
	if (rv == 0 && (!EVP_CIPHER_CTX_reset(rk->aead) ||
			!EVP_EncryptInit_ex(rk->aead, evp, NULL, key, NULL)))
		rv = MPQ_ERR_TLS;
	OPENSSL_cleanse(key, sizeof(key));
	rk->seq = 0;
	return rv;
}

static int negotiated_cipher(const mpq_tls *tls)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(tls->ssl);
	if (!c)
		c = SSL_get_pending_cipher(tls->ssl);
	if (!c)
		return MPQ_ERR_TLS;
	int cipher = mpq_crypto_cipher_from_tls(SSL_CIPHER_get_protocol_id(c));
	return cipher < 0 ? MPQ_ERR_TLS : cipher;
}

/* The secret is the last field of "LABEL <client random> <secret>", in hex. */
static int parse_secret(const char *line, uint8_t *out, size_t *outlen)
{
	const char *hex = strrchr(line, ' ');
	if (!hex)
		return MPQ_ERR_TLS;
	hex++;
	size_t n = strlen(hex);
	if (n == 0 || n % 2 || n / 2 > MPQ_MAX_SECRETLEN)
		return MPQ_ERR_TLS;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = OPENSSL_hexchar2int((unsigned char)hex[2 * i]);
		int lo = OPENSSL_hexchar2int((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return MPQ_ERR_TLS;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = n / 2;
	return 0;
}

static int install_secret(mpq_tls *tls, int level, bool is_tx, const uint8_t *secret,
			  size_t secretlen)
{
	int cipher = negotiated_cipher(tls);
	if (cipher < 0)
		return cipher;
	if (!is_tx) {
		int rv = record_key_set(&tls->rx, cipher, secret, secretlen);
		if (rv < 0)
			return rv;
		tls->rx_level = level;
	}
	return tls->cb.set_secret(tls->cb.user_data, level, is_tx, cipher, secret, secretlen);
}

static int secret_of(mpq_tls *tls, const char *line)
{
	for (size_t i = 0; i < sizeof(secret_labels) / sizeof(secret_labels[0]); i++) {
		size_t n = strlen(secret_labels[i].label);
		if (strncmp(line, secret_labels[i].label, n) != 0 || line[n] != ' ')
			continue;
		uint8_t secret[MPQ_MAX_SECRETLEN];
		size_t secretlen;
		bool is_tx = secret_labels[i].client != tls->ctx->is_server;
		int rv = parse_secret(line, secret, &secretlen);
		if (rv == 0)
			rv = install_secret(tls, secret_labels[i].level, is_tx, secret, secretlen);
		OPENSSL_cleanse(secret, sizeof(secret));
		return rv;
	}
	return 0; /* EXPORTER_SECRET and the like: for the key log only */
}

static void keylog_cb(const SSL *ssl, const char *line)
{
	mpq_tls *tls = tls_of(ssl);
	if (tls->err)
		return;
	if (tls->cb.keylog)
		tls->cb.keylog(tls->cb.user_data, line);
	int rv = secret_of(tls, line);
	if (rv < 0 && !tls->err) {
		set_text(tls->errstr, sizeof(tls->errstr),
			 "installing a traffic secret failed: %s", mpq_strerror(rv));
		fail(tls, rv);
	}
}

/* --- context setup --- */

/* "hq-interop,h3" to ALPN wire format. */
static int alpn_encode(mpq_tls_ctx *ctx, const char *list)
{
	size_t pos = 0;
	while (list && *list) {
		size_t n = strcspn(list, ",");
		if (n == 0 || n > 255 || pos + 1 + n > sizeof(ctx->alpn))
			return MPQ_ERR_INVALID_ARGUMENT;
		ctx->alpn[pos++] = (uint8_t)n;
		memcpy(ctx->alpn + pos, list, n);
		pos += n;
		list += n;
		if (*list == ',')
			list++;
	}
	ctx->alpnlen = pos;
	return pos ? 0 : MPQ_ERR_INVALID_ARGUMENT;
}

static int load_error(const char *what, const char *file, char *errbuf, size_t len)
{
	char why[128];
	set_text(errbuf, len, "cannot load %s '%s': %s", what, file,
		 ossl_reason(why, sizeof(why)));
	return MPQ_ERR_INVALID_ARGUMENT;
}

static int load_cert_files(SSL_CTX *sc, const mpq_tls_ctx_config *cfg, char *errbuf, size_t len)
{
	if (SSL_CTX_use_certificate_chain_file(sc, cfg->cert_file) != 1)
		return load_error("certificate file", cfg->cert_file, errbuf, len);
	if (SSL_CTX_use_PrivateKey_file(sc, cfg->key_file, SSL_FILETYPE_PEM) != 1)
		return load_error("key file", cfg->key_file, errbuf, len);
	return 0;
}

/* Reads a leaf certificate and its chain from PEM text. */
static int read_chain(const char *pem, X509 **leaf, STACK_OF(X509) * *chain)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	*chain = sk_X509_new_null();
	if (!b || !*chain) {
		BIO_free(b);
		return MPQ_ERR_NOMEM;
	}
	*leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
	X509 *x;
	while (*leaf && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(*chain, x)) {
			X509_free(x);
			break;
		}
	}
	/* Reading past the last certificate leaves a "no start line" error behind. */
	if (*leaf)
		ERR_clear_error();
	BIO_free(b);
	return *leaf ? 0 : MPQ_ERR_INVALID_ARGUMENT;
}

static int load_cert_pem(SSL_CTX *sc, const mpq_tls_ctx_config *cfg, char *errbuf, size_t len)
{
	X509 *leaf = NULL;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	char why[128];
	int rv = read_chain(cfg->cert_pem, &leaf, &chain);
	if (rv == MPQ_ERR_INVALID_ARGUMENT)
		set_text(errbuf, len, "cannot read certificate PEM: %s",
			 ossl_reason(why, sizeof(why)));
	if (rv == 0) {
		BIO *b = BIO_new_mem_buf(cfg->key_pem, -1);
		key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		if (!key) {
			set_text(errbuf, len, "cannot read key PEM: %s",
				 ossl_reason(why, sizeof(why)));
			rv = MPQ_ERR_INVALID_ARGUMENT;
		}
	}
	if (rv == 0 && SSL_CTX_use_cert_and_key(sc, leaf, key, chain, 1) != 1) {
		set_text(errbuf, len, "cannot use certificate: %s", ossl_reason(why, sizeof(why)));
		rv = MPQ_ERR_INVALID_ARGUMENT;
	}
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	return rv;
}

static int setup_common(mpq_tls_ctx *ctx, const mpq_tls_ctx_config *cfg, char *errbuf, size_t len)
{
	ctx->is_server = cfg->is_server;
	ctx->insecure = cfg->insecure;
	if (alpn_encode(ctx, cfg->alpn) < 0) {
		set_text(errbuf, len, "invalid ALPN list '%s'", cfg->alpn ? cfg->alpn : "");
		return MPQ_ERR_INVALID_ARGUMENT;
	}
	SSL_CTX *sc = SSL_CTX_new(TLS_method());
	if (!sc)
		return MPQ_ERR_NOMEM;
	ctx->ssl_ctx = sc;
	const char *suites = cfg->ciphersuites ? cfg->ciphersuites : DEFAULT_SUITES;
	if (SSL_CTX_set_ciphersuites(sc, suites) != 1) {
		set_text(errbuf, len, "no usable TLS 1.3 cipher suite in '%s'", suites);
		return MPQ_ERR_INVALID_ARGUMENT;
	}
	/* RFC 9001 §8.4: no middlebox compatibility mode (no CCS, empty session ID). */
	SSL_CTX_clear_options(sc, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
	/* The record buffers (some 33 kB) only while a flight is read or written,
	 * not for the life of every connection. */
	SSL_CTX_set_mode(sc, SSL_MODE_RELEASE_BUFFERS);
	if (!SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(sc, TLS1_3_VERSION))
		return MPQ_ERR_TLS;
	SSL_CTX_set_keylog_callback(sc, keylog_cb);
	if (!SSL_CTX_add_custom_ext(sc, TP_EXT_TYPE,
				    SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS,
				    tp_add_cb, NULL, NULL, tp_parse_cb, NULL))
		return MPQ_ERR_TLS;
	return 0;
}

static int setup_server(mpq_tls_ctx *ctx, const mpq_tls_ctx_config *cfg, char *errbuf, size_t len)
{
	SSL_CTX *sc = ctx->ssl_ctx;
	char why[128];
	int rv;
	if (cfg->cert_pem && cfg->key_pem) {
		rv = load_cert_pem(sc, cfg, errbuf, len);
	} else if (cfg->cert_file && cfg->key_file) {
		rv = load_cert_files(sc, cfg, errbuf, len);
	} else {
		set_text(errbuf, len, "a server needs a certificate and a key");
		return MPQ_ERR_INVALID_ARGUMENT;
	}
	if (rv < 0)
		return rv;
	if (SSL_CTX_check_private_key(sc) != 1) {
		set_text(errbuf, len, "certificate and key do not match: %s",
			 ossl_reason(why, sizeof(why)));
		return MPQ_ERR_INVALID_ARGUMENT;
	}
	SSL_CTX_set_alpn_select_cb(sc, alpn_select_cb, ctx);
	/* One NewSessionTicket, not OpenSSL's two: a client resumes with one,
	 * and each costs the server a serialised, encrypted session (some 12 %
	 * of OpenSSL's CPU per handshake here, docs/performance.md). */
	if (!SSL_CTX_set_num_tickets(sc, 1))
		return MPQ_ERR_TLS;
	return 0;
}

/* With a pin, the server's certificate is accepted when its SHA-256 is the
 * pin, whatever signed it and whatever names it holds: the pin says which
 * certificate, as a CA and a name would. */
static int verify_pin(X509_STORE_CTX *store, void *arg)
{
	const mpq_tls_ctx *ctx = arg;
	X509 *leaf = X509_STORE_CTX_get0_cert(store);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (leaf && X509_digest(leaf, EVP_sha256(), md, &mdlen) && mdlen == sizeof(ctx->pin) &&
	    CRYPTO_memcmp(md, ctx->pin, sizeof(ctx->pin)) == 0)
		return 1;
	X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
	return 0;
}

static int setup_client(mpq_tls_ctx *ctx, const mpq_tls_ctx_config *cfg, char *errbuf, size_t len)
{
	SSL_CTX *sc = ctx->ssl_ctx;
	char why[128];
	if (cfg->insecure) {
		SSL_CTX_set_verify(sc, SSL_VERIFY_NONE, NULL);
		return 0;
	}
	SSL_CTX_set_verify(sc, SSL_VERIFY_PEER, NULL);
	if (cfg->pin_sha256) {
		ctx->pinned = true;
		memcpy(ctx->pin, cfg->pin_sha256, sizeof(ctx->pin));
		SSL_CTX_set_cert_verify_callback(sc, verify_pin, ctx);
		return 0;
	}
	if (cfg->ca_file) {
		if (SSL_CTX_load_verify_file(sc, cfg->ca_file) != 1)
			return load_error("CA file", cfg->ca_file, errbuf, len);
		return 0;
	}
	if (SSL_CTX_set_default_verify_paths(sc) != 1) {
		set_text(errbuf, len, "cannot load the system CA store: %s",
			 ossl_reason(why, sizeof(why)));
		return MPQ_ERR_TLS;
	}
	return 0;
}

static int setup_ctx(mpq_tls_ctx *ctx, const mpq_tls_ctx_config *cfg, char *errbuf, size_t len)
{
	ERR_clear_error();
	int rv = setup_common(ctx, cfg, errbuf, len);
	if (rv == 0)
		rv = cfg->is_server ? setup_server(ctx, cfg, errbuf, len)
				    : setup_client(ctx, cfg, errbuf, len);
	ERR_clear_error();
	return rv;
}

mpq_tls_ctx *mpq_tls_ctx_new(const mpq_tls_ctx_config *cfg, int *err, char *errbuf,
			     size_t errbuflen)
{
	mpq_tls_ctx *ctx = NULL;
	int rv = MPQ_ERR_INVALID_ARGUMENT;
	set_text(errbuf, errbuflen, "%s", "");
	if (cfg) {
		ctx = calloc(1, sizeof(*ctx));
		rv = ctx ? setup_ctx(ctx, cfg, errbuf, errbuflen) : MPQ_ERR_NOMEM;
	}
	if (rv < 0) {
		if (errbuf && errbuflen && !errbuf[0])
			set_text(errbuf, errbuflen, "%s", mpq_strerror(rv));
		mpq_tls_ctx_free(ctx);
		ctx = NULL;
	}
	if (err)
		*err = rv;
	return ctx;
}

void mpq_tls_ctx_free(mpq_tls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

/* --- session --- */

static bool is_ip_literal(const char *name)
{
	uint8_t addr[16];
	return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

/* SNI for host names (RFC 6066 §3 forbids IP literals), and the name or address
 * the certificate must carry. */
static int set_server_name(mpq_tls *tls, const char *name)
{
	if (!name || !*name)
		return 0;
	bool ip = is_ip_literal(name);
	if (!ip && SSL_set_tlsext_host_name(tls->ssl, name) != 1)
		return MPQ_ERR_TLS;
	if (tls->ctx->insecure || tls->ctx->pinned)
		return 0;
	if (!ip)
		return SSL_set1_host(tls->ssl, name) == 1 ? 0 : MPQ_ERR_TLS;
	X509_VERIFY_PARAM *param = SSL_get0_param(tls->ssl);
	return X509_VERIFY_PARAM_set1_ip_asc(param, name) ? 0 : MPQ_ERR_TLS;
}

static int setup_ssl(mpq_tls *tls, const char *server_name)
{
	const mpq_tls_ctx *ctx = tls->ctx;
	SSL *ssl = SSL_new(ctx->ssl_ctx);
	if (!ssl)
		return MPQ_ERR_NOMEM;
	tls->ssl = ssl;
	SSL_set_app_data(ssl, tls);
	BIO *rbio = BIO_new(BIO_s_mem());
	BIO *wbio = BIO_new(BIO_s_null());
	if (!rbio || !wbio) {
		BIO_free(rbio);
		BIO_free(wbio);
		return MPQ_ERR_NOMEM;
	}
	SSL_set_bio(ssl, rbio, wbio);
	SSL_set_msg_callback(ssl, msg_cb);
	SSL_set_msg_callback_arg(ssl, tls);
	if (ctx->is_server) {
		SSL_set_accept_state(ssl);
		return 0;
	}
	SSL_set_connect_state(ssl);
	/* SSL_set_alpn_protos returns 0 on success. */
	if (SSL_set_alpn_protos(ssl, ctx->alpn, (unsigned int)ctx->alpnlen) != 0)
		return MPQ_ERR_NOMEM;
	return set_server_name(tls, server_name);
}

int mpq_tls_new(mpq_tls **out, mpq_tls_ctx *ctx, const char *server_name, const uint8_t *tparams,
		size_t tparamslen, const mpq_tls_callbacks *cb)
{
	if (!out || !ctx || !cb || !cb->send_crypto || !cb->set_secret || !cb->recv_tparams)
		return MPQ_ERR_INVALID_ARGUMENT;
	mpq_tls *tls = calloc(1, sizeof(*tls));
	if (!tls)
		return MPQ_ERR_NOMEM;
	tls->ctx = ctx;
	tls->cb = *cb;
	tls->rx_level = MPQ_LEVEL_INITIAL;
	int rv = 0;
	if (tparams) {
		/* +1: a valid pointer even for an empty extension. */
		tls->tparams = malloc(tparamslen + 1);
		if (tls->tparams)
			memcpy(tls->tparams, tparams, tparamslen);
		tls->tparamslen = tparamslen;
		rv = tls->tparams ? 0 : MPQ_ERR_NOMEM;
	}
	ERR_clear_error();
	if (rv == 0)
		rv = setup_ssl(tls, server_name);
	ERR_clear_error();
	if (rv < 0) {
		mpq_tls_free(tls);
		return rv;
	}
	*out = tls;
	return 0;
}

void mpq_tls_free(mpq_tls *tls)
{
	if (!tls)
		return;
	SSL_free(tls->ssl);
	EVP_CIPHER_CTX_free(tls->rx.aead);
	free(tls->tparams);
	free(tls);
}

/* --- incoming records --- */

static int bio_write(mpq_tls *tls, const void *data, size_t len)
{
	size_t written;
	if (len == 0)
		return 0;
	if (BIO_write_ex(SSL_get_rbio(tls->ssl), data, len, &written) != 1 || written != len)
		return MPQ_ERR_NOMEM;
	return 0;
}

static void record_header(uint8_t hdr[RECORD_HDRLEN], uint8_t type, size_t len)
{
	hdr[0] = type;
	hdr[1] = 0x03; /* legacy_record_version 0x0303 */
	hdr[2] = 0x03;
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
}

static int write_plain_record(mpq_tls *tls, const uint8_t *data, size_t len)
{
	uint8_t hdr[RECORD_HDRLEN];
	record_header(hdr, SSL3_RT_HANDSHAKE, len);
	int rv = bio_write(tls, hdr, sizeof(hdr));
	return rv ? rv : bio_write(tls, data, len);
}

static int seal_chunk(mpq_tls *tls, const uint8_t *in, size_t len)
{
	uint8_t out[RECORD_CHUNK];
	int outl;
	if (!EVP_EncryptUpdate(tls->rx.aead, out, &outl, in, (int)len))
		return MPQ_ERR_TLS;
	return bio_write(tls, out, (size_t)outl);
}

/* One TLSCiphertext record: TLSInnerPlaintext = data ‖ content type 22, sealed
 * with nonce = iv XOR sequence number and the record header as AAD. */
static int write_sealed_record(mpq_tls *tls, const uint8_t *data, size_t len)
{
	static const uint8_t inner_type = SSL3_RT_HANDSHAKE;
	struct record_key *rk = &tls->rx;
	uint8_t hdr[RECORD_HDRLEN], nonce[MPQ_AEAD_IVLEN], tag[MPQ_AEAD_TAGLEN];
	int outl;
	record_header(hdr, SSL3_RT_APPLICATION_DATA, len + 1 + MPQ_AEAD_TAGLEN);
	memcpy(nonce, rk->iv, sizeof(nonce));
	for (int i = 0; i < 8; i++)
		nonce[MPQ_AEAD_IVLEN - 1 - i] ^= (uint8_t)(rk->seq >> (8 * i));
	rk->seq++;
	if (!EVP_EncryptInit_ex(rk->aead, NULL, NULL, NULL, nonce) ||
	    !EVP_EncryptUpdate(rk->aead, NULL, &outl, hdr, sizeof(hdr)))
		return MPQ_ERR_TLS;
	int rv = bio_write(tls, hdr, sizeof(hdr));
	for (size_t off = 0; rv == 0 && off < len; off += RECORD_CHUNK) {
		size_t n = len - off < RECORD_CHUNK ? len - off : RECORD_CHUNK;
		rv = seal_chunk(tls, data + off, n);
	}
	if (rv == 0)
		rv = seal_chunk(tls, &inner_type, 1);
	if (rv == 0 && (!EVP_EncryptFinal_ex(rk->aead, tag, &outl) ||
			!EVP_CIPHER_CTX_ctrl(rk->aead, EVP_CTRL_AEAD_GET_TAG, sizeof(tag), tag)))
		rv = MPQ_ERR_TLS;
	return rv ? rv : bio_write(tls, tag, sizeof(tag));
}

static int feed_records(mpq_tls *tls, int level, const uint8_t *data, size_t len)
{
	while (len > 0) {
		size_t n = len < RECORD_MAX_PLAIN ? len : RECORD_MAX_PLAIN;
		int rv = level == MPQ_LEVEL_INITIAL ? write_plain_record(tls, data, n)
						    : write_sealed_record(tls, data, n);
		if (rv < 0)
			return rv;
		data += n;
		len -= n;
	}
	return 0;
}

/* --- driving the handshake --- */

static void describe_failure(mpq_tls *tls)
{
	unsigned long e = ERR_peek_last_error();
	if (tls->errstr[0])
		return;
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
		long v = SSL_get_verify_result(tls->ssl);
		if (tls->ctx->pinned && v == X509_V_ERR_CERT_REJECTED) {
			set_text(tls->errstr, sizeof(tls->errstr),
				 "certificate verify failed: not the pinned certificate");
			return;
		}
		set_text(tls->errstr, sizeof(tls->errstr), "certificate verify failed: %s",
			 X509_verify_cert_error_string(v));
		return;
	}
	const char *s = e ? ERR_reason_error_string(e) : NULL;
	set_text(tls->errstr, sizeof(tls->errstr), "%s", s ? s : "TLS handshake failed");
}

/* Lets OpenSSL consume what is in its read BIO: the handshake until it is
 * complete, post-handshake messages (NewSessionTicket) after. */
static int advance(mpq_tls *tls)
{
	int r;
	if (!tls->complete) {
		r = SSL_do_handshake(tls->ssl);
		if (r == 1)
			tls->complete = true;
	} else {
		uint8_t byte;
		r = SSL_read(tls->ssl, &byte, 1);
		/* Only handshake records go in, so application data cannot come out. */
		if (r > 0)
			return fail(tls, MPQ_ERR_INTERNAL);
	}
	if (tls->err)
		return tls->err;
	if (r == 1)
		return 0;
	int e = SSL_get_error(tls->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return 0;
	describe_failure(tls);
	return fail(tls, tls->alert ? MPQ_ERR_CRYPTO : MPQ_ERR_TLS);
}

int mpq_tls_start(mpq_tls *tls)
{
	if (tls->ctx->is_server)
		return 0;
	ERR_clear_error();
	int rv = advance(tls);
	ERR_clear_error();
	return rv;
}

int mpq_tls_recv_crypto(mpq_tls *tls, int level, const uint8_t *data, size_t len)
{
	if (tls->err)
		return tls->err;
	if (level < MPQ_LEVEL_INITIAL || level >= MPQ_LEVEL_COUNT)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (level != tls->rx_level)
		return MPQ_ERR_PROTO;
	ERR_clear_error();
	int rv = feed_records(tls, level, data, len);
	rv = rv < 0 ? fail(tls, rv) : advance(tls);
	ERR_clear_error();
	return rv;
}

bool mpq_tls_handshake_complete(const mpq_tls *tls)
{
	return tls->complete && !tls->err;
}

uint8_t mpq_tls_alert(const mpq_tls *tls)
{
	return tls->alert;
}

const uint8_t *mpq_tls_alpn(const mpq_tls *tls, size_t *len)
{
	const unsigned char *p;
	unsigned int n;
	SSL_get0_alpn_selected(tls->ssl, &p, &n);
	*len = n;
	return n ? p : NULL;
}

const char *mpq_tls_error_string(const mpq_tls *tls)
{
	return tls->errstr;
}
