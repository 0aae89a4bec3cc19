/* TLS over TCP for the comparison runs: see tls_tcp.h. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mpq/http1.h"
#include "tls_tcp.h"

static const unsigned char alpn_wire[] = "\x08" MPQ_HTTP1_ALPN;

const char *tool_tls_tcp_error(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	if (!e)
		return fallback;
	ERR_error_string_n(e, buf, len);
	return buf;
}

static void keylog_cb(const SSL *ssl, const char *line)
{
	struct tool_keylog *kl = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (kl)
		tool_keylog_line(kl, line);
}

static SSL_CTX *ctx_new(bool server, struct tool_keylog *kl, char *why, size_t len)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!ctx) {
		tool_tls_tcp_error(why, len, "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	/* Writes of a whole chunk may end part-way on a full socket: the
	 * caller retries with what is left, from wherever it now lies. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	if (kl && kl->fd >= 0) {
		SSL_CTX_set_app_data(ctx, kl);
		SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	}
	return ctx;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char *sel;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, alpn_wire, sizeof(alpn_wire) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK; /* none we know: go on without ALPN */
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* The chain and key from PEM text. Returns 1 or 0. */
static int use_pem(SSL_CTX *ctx, const char *cert_pem, const char *key_pem)
{
	BIO *b = BIO_new_mem_buf(cert_pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = NULL;
	int ok = x && SSL_CTX_use_certificate(ctx, x) == 1;

	while (ok) { /* the rest of the chain, if any */
		X509 *extra = PEM_read_bio_X509(b, NULL, NULL, NULL);

		if (!extra)
			break;
		if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
			X509_free(extra);
			ok = 0;
		}
	}
	ERR_clear_error(); /* the end of the chain */
	X509_free(x);
	BIO_free(b);
	b = ok ? BIO_new_mem_buf(key_pem, -1) : NULL;
	k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	ok = ok && k && SSL_CTX_use_PrivateKey(ctx, k) == 1;
	EVP_PKEY_free(k);
	BIO_free(b);
	return ok;
}

SSL_CTX *tool_tls_tcp_server(const char *cert_file, const char *key_file, const char *cert_pem,
			     const char *key_pem, struct tool_keylog *kl, char *why, size_t len)
{
	SSL_CTX *ctx = ctx_new(true, kl, why, len);
	int ok;

	if (!ctx)
		return NULL;
	if (cert_file)
		ok = SSL_CTX_use_certificate_chain_file(ctx, cert_file) == 1 &&
		     SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) == 1;
	else
		ok = use_pem(ctx, cert_pem, key_pem);
	if (!ok || SSL_CTX_check_private_key(ctx) != 1) {
		tool_tls_tcp_error(why, len, "cannot load the certificate and key");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	/* One connection per client run: no tickets to resume with. */
	SSL_CTX_set_num_tickets(ctx, 0);
	return ctx;
}

SSL_CTX *tool_tls_tcp_client(const char *ca, bool insecure, struct tool_keylog *kl, char *why,
			     size_t len)
{
	SSL_CTX *ctx = ctx_new(false, kl, why, len);
	int ok = 1;

	if (!ctx)
		return NULL;
	if (ca)
		ok = SSL_CTX_load_verify_locations(ctx, ca, NULL) == 1;
	else if (!insecure)
		ok = SSL_CTX_set_default_verify_paths(ctx) == 1;
	if (!ok || SSL_CTX_set_alpn_protos(ctx, alpn_wire, sizeof(alpn_wire) - 1) != 0) {
		tool_tls_tcp_error(why, len, "cannot load the CA certificates");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	return ctx;
}
