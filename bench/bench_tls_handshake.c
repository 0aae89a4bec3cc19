/*
 * OpenSSL's own floor for a TLS 1.3 handshake on this CPU: a client and a
 * server SSL object in one thread, their records passed through memory BIOs
 * (no sockets, no QUIC), with what mpq-server uses (a self-signed ECDSA P-256
 * certificate from lib/io/cert.c, TLS 1.3 only, the same cipher suites,
 * OpenSSL's default groups: X25519 first). Only the server's calls are timed
 * (CLOCK_THREAD_CPUTIME_ID), so the figure is server CPU per handshake.
 * Three variants in one run:
 *   plain    what any TLS 1.3 server on OpenSSL 3.0 pays (two tickets, the default)
 *   keylog   plus a key log callback, as lib/quic/tls.c needs to learn the
 *            secrets (OpenSSL formats each line with sprintf per byte)
 *   tickets1 keylog with one NewSessionTicket instead of two
 *   tickets0 keylog with no NewSessionTicket (no resumption)
 * Prints "tls_handshake VARIANT: N us server CPU, R/s on one core" per variant.
 * CONC handshakes are under way at a time, their flights interleaved as a
 * server's would be (bench/handshakes.sh gives its load client's concurrency).
 *
 *   build/bench/bench_tls_handshake [N [CONC]]   (default 2000 handshakes each, CONC 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "mpq/io/cert.h"

#define MAX_CONC 256
#define SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

static double thread_cpu(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void keylog_sink(const SSL *ssl, const char *line)
{
	(void)ssl;
	(void)line;
}

static SSL_CTX *ctx_new(bool server)
{
	SSL_CTX *c = SSL_CTX_new(TLS_method());
	if (!c || SSL_CTX_set_ciphersuites(c, SUITES) != 1 ||
	    !SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION)) {
		SSL_CTX_free(c);
		return NULL;
	}
	SSL_CTX_clear_options(c, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
	SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
	if (!server)
		SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	return c;
}

static int use_cert(SSL_CTX *c, const char *cert_pem, const char *key_pem)
{
	BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	int ok = x && k && SSL_CTX_use_certificate(c, x) == 1 && SSL_CTX_use_PrivateKey(c, k) == 1;
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	return ok ? 0 : -1;
}

/* Moves what |from| wrote into |to|'s read BIO. */
static int shuttle(SSL *from, SSL *to)
{
	char buf[16384];
	int n;
	while ((n = BIO_read(SSL_get_wbio(from), buf, sizeof(buf))) > 0)
		if (BIO_write(SSL_get_rbio(to), buf, n) != n)
			return -1;
	return 0;
}

static SSL *ssl_new(SSL_CTX *c, bool server)
{
	SSL *s = SSL_new(c);
	BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
	if (!s || !r || !w) {
		SSL_free(s);
		BIO_free(r);
		BIO_free(w);
		return NULL;
	}
	SSL_set_bio(s, r, w);
	if (server)
		SSL_set_accept_state(s);
	else
		SSL_set_connect_state(s);
	return s;
}

/* A handshake under way: a client and a server object and how far each got. */
struct pair {
	SSL *c, *s;
	int round;
	bool cdone, sdone;
};

static int pair_start(struct pair *p, SSL_CTX *cc, SSL_CTX *sc, double *cpu)
{
	double t0 = thread_cpu();
	p->s = ssl_new(sc, true);
	*cpu += thread_cpu() - t0;
	p->c = ssl_new(cc, false);
	p->round = 0;
	p->cdone = p->sdone = false;
	return p->c && p->s ? 0 : -1;
}

static void pair_end(struct pair *p, double *cpu)
{
	SSL_free(p->c);
	double t0 = thread_cpu();
	SSL_free(p->s);
	*cpu += thread_cpu() - t0;
	p->c = p->s = NULL;
	ERR_clear_error();
}

/* One flight each way; adds the server's CPU time to |*cpu|. Returns 1 when
 * the handshake is complete, 0 while it goes on, -1 when it failed. */
static int pair_step(struct pair *p, double *cpu)
{
	if (p->round++ == 8)
		return -1;
	if (!p->cdone) {
		int r = SSL_do_handshake(p->c);
		if (r == 1)
			p->cdone = true;
		else if (SSL_get_error(p->c, r) != SSL_ERROR_WANT_READ)
			return -1;
	}
	if (shuttle(p->c, p->s))
		return -1;
	if (!p->sdone) {
		double t0 = thread_cpu();
		int r = SSL_do_handshake(p->s);
		*cpu += thread_cpu() - t0;
		if (r == 1)
			p->sdone = true;
		else if (SSL_get_error(p->s, r) != SSL_ERROR_WANT_READ)
			return -1;
	}
	if (shuttle(p->s, p->c))
		return -1;
	return p->cdone && p->sdone;
}

/* |n| handshakes, |conc| under way at a time, their flights interleaved as a
 * server's are; the server's CPU time in |*cpu|. Returns 0 or -1. */
static int handshakes(SSL_CTX *cc, SSL_CTX *sc, int n, int conc, double *cpu)
{
	struct pair pairs[MAX_CONC];
	int started = 0, done = 0, rc = 0;

	for (int i = 0; i < conc; i++) {
		pairs[i].c = pairs[i].s = NULL;
		if (started < n && pair_start(&pairs[i], cc, sc, cpu) == 0)
			started++;
	}
	while (done < n && rc == 0) {
		for (int i = 0; i < conc && rc == 0; i++) {
			if (!pairs[i].s)
				continue;
			int r = pair_step(&pairs[i], cpu);
			if (r == 0)
				continue;
			rc = r < 0 ? -1 : 0;
			pair_end(&pairs[i], cpu);
			done++;
			if (started < n && rc == 0 && pair_start(&pairs[i], cc, sc, cpu) == 0)
				started++;
		}
		if (done < n && rc == 0 && started == done)
			rc = -1; /* none under way: a start failed */
	}
	for (int i = 0; i < conc; i++)
		if (pairs[i].s || pairs[i].c)
			pair_end(&pairs[i], cpu);
	return rc;
}

struct variant {
	const char *name;
	bool keylog;
	int tickets; /* -1: OpenSSL's default */
};

int main(int argc, char **argv)
{
	static const struct variant variants[] = {
		{"plain", false, -1},
		{"keylog", true, -1},
		{"tickets1", true, 1},
		{"tickets0", true, 0},
	};
	const char *names[] = {"localhost"};
	char *cert_pem = NULL, *key_pem = NULL;
	uint8_t fp[MPQ_CERT_FINGERPRINT_LEN];
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	int conc = argc > 2 ? atoi(argv[2]) : 1;

	if (n <= 0 || conc <= 0 || conc > MAX_CONC ||
	    mpq_cert_self_signed(names, 1, &cert_pem, &key_pem, fp) != 0) {
		fprintf(stderr,
			"usage: bench_tls_handshake [N>0 [CONC 1..%d]] (or no certificate)\n",
			MAX_CONC);
		return 1;
	}
	SSL_CTX *cc = ctx_new(false);
	for (size_t v = 0; cc && v < sizeof(variants) / sizeof(variants[0]); v++) {
		SSL_CTX *sc = ctx_new(true);
		double cpu = 0;
		if (!sc || use_cert(sc, cert_pem, key_pem)) {
			fprintf(stderr, "bench_tls_handshake: server context failed\n");
			return 1;
		}
		if (variants[v].keylog)
			SSL_CTX_set_keylog_callback(sc, keylog_sink);
		if (variants[v].tickets >= 0)
			SSL_CTX_set_num_tickets(sc, (size_t)variants[v].tickets);
		if (handshakes(cc, sc, 50, conc, &cpu) != 0 || /* warm up */
		    (cpu = 0, handshakes(cc, sc, n, conc, &cpu)) != 0) {
			fprintf(stderr, "bench_tls_handshake: a handshake failed\n");
			return 1;
		}
		printf("tls_handshake %s: %.0f us server CPU, %.0f/s on one core\n",
		       variants[v].name, cpu * 1e6 / n, n / cpu);
		SSL_CTX_free(sc);
	}
	SSL_CTX_free(cc);
	free(cert_pem);
	free(key_pem);
	return cc ? 0 : 1;
}
