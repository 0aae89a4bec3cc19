/*
 * A client and a server mpq_tls joined in memory: each side's CRYPTO data is
 * queued per level and delivered to the other at the same level until neither
 * has anything left to send. Checks levels, secrets, key log lines, ALPN and
 * transport parameters, and every way the handshake is meant to fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/certs.h"
#include "mpq/io/cert.h"
#include "quic/crypto.h"
#include "quic/tls.h"

#define CLIENT_TP "client transport parameters"
#define SERVER_TP "server transport parameters \x00\x01\x02"
#define SERVER_TPLEN (sizeof(SERVER_TP) - 1)
#define WHOLE SIZE_MAX /* deliver each queue in one call */
#define MAX_MSGS 32
#define MAX_LINES 8

enum { HS_CH = 1, HS_SH = 2, HS_NST = 4, HS_EE = 8, HS_CERT = 11, HS_CV = 15, HS_FIN = 20 };

struct queue {
	uint8_t *data;
	size_t len;
};

struct secret {
	bool set;
	int cipher;
	uint8_t data[MPQ_MAX_SECRETLEN];
	size_t len;
};

struct msg {
	int level;
	uint8_t type;
};

struct side {
	mpq_tls *tls;
	struct queue out[MPQ_LEVEL_COUNT];
	struct secret tx[MPQ_LEVEL_COUNT], rx[MPQ_LEVEL_COUNT];
	struct msg msgs[MAX_MSGS];
	size_t nmsgs;
	char *lines[MAX_LINES];
	size_t nlines;
	uint8_t hello_random[32]; /* client: from its ClientHello */
	uint8_t *peer_tp;
	size_t peer_tplen;
	bool got_tp;
	int recv_tp_rv; /* what recv_tparams returns */
	int send_rv;	/* what send_crypto returns */
	int rv;		/* first failure of mpq_tls_recv_crypto */
};

struct pair {
	mpq_tls_ctx *cctx, *sctx;
	struct side c, s;
};

/* --- callbacks --- */

static int on_send_crypto(void *user_data, int level, const uint8_t *data, size_t len)
{
	struct side *sd = user_data;
	if (sd->send_rv)
		return sd->send_rv;
	assert_true(level >= 0 && level < MPQ_LEVEL_COUNT);
	assert_true(sd->nmsgs < MAX_MSGS);
	sd->msgs[sd->nmsgs++] = (struct msg){level, data[0]};
	if (data[0] == HS_CH && len >= 38)
		memcpy(sd->hello_random, data + 6, 32); /* after type, length, legacy_version */
	struct queue *q = &sd->out[level];
	q->data = realloc(q->data, q->len + len);
	assert_non_null(q->data);
	memcpy(q->data + q->len, data, len);
	q->len += len;
	return 0;
}

static int on_set_secret(void *user_data, int level, bool is_tx, int cipher, const uint8_t *secret,
			 size_t secretlen)
{
	struct side *sd = user_data;
	struct secret *s = is_tx ? &sd->tx[level] : &sd->rx[level];
	assert_false(s->set);
	assert_true(secretlen <= sizeof(s->data));
	s->set = true;
	s->cipher = cipher;
	memcpy(s->data, secret, secretlen);
	s->len = secretlen;
	return 0;
}

static void on_keylog(void *user_data, const char *line)
{
	struct side *sd = user_data;
	assert_true(sd->nlines < MAX_LINES);
	sd->lines[sd->nlines] = strdup(line);
	assert_non_null(sd->lines[sd->nlines++]);
}

static int on_recv_tparams(void *user_data, const uint8_t *data, size_t len)
{
	struct side *sd = user_data;
	if (sd->recv_tp_rv)
		return sd->recv_tp_rv;
	free(sd->peer_tp);
	sd->peer_tp = malloc(len + 1);
	assert_non_null(sd->peer_tp);
	memcpy(sd->peer_tp, data, len);
	sd->peer_tplen = len;
	sd->got_tp = true;
	return 0;
}

/* --- setup --- */

static mpq_tls_ctx_config server_config(const struct test_certs *tc)
{
	return (mpq_tls_ctx_config){
		.is_server = true,
		.alpn = "hq-interop",
		.cert_file = tc->cert_file,
		.key_file = tc->key_file,
	};
}

static mpq_tls_ctx_config client_config(const struct test_certs *tc)
{
	return (mpq_tls_ctx_config){.alpn = "hq-interop", .ca_file = tc->ca_file};
}

static mpq_tls_ctx *new_ctx(const mpq_tls_ctx_config *cfg)
{
	int err = 0;
	char errbuf[256];
	mpq_tls_ctx *ctx = mpq_tls_ctx_new(cfg, &err, errbuf, sizeof(errbuf));
	if (!ctx)
		fail_msg("mpq_tls_ctx_new: %d: %s", err, errbuf);
	assert_int_equal(err, 0);
	return ctx;
}

/* Expects mpq_tls_ctx_new to refuse |cfg| with MPQ_ERR_INVALID_ARGUMENT and a
 * message containing |want|. */
static void ctx_refused(const mpq_tls_ctx_config *cfg, const char *want)
{
	int err = 0;
	char errbuf[256];
	assert_null(mpq_tls_ctx_new(cfg, &err, errbuf, sizeof(errbuf)));
	assert_int_equal(err, MPQ_ERR_INVALID_ARGUMENT);
	print_message("      refused: %s\n", errbuf);
	if (!strstr(errbuf, want))
		fail_msg("error \"%s\" lacks \"%s\"", errbuf, want);
}

static void side_open(struct side *sd, mpq_tls_ctx *ctx, const char *name, const char *tp,
		      size_t tplen)
{
	mpq_tls_callbacks cb = {
		.send_crypto = on_send_crypto,
		.set_secret = on_set_secret,
		.keylog = on_keylog,
		.recv_tparams = on_recv_tparams,
		.user_data = sd,
	};
	assert_int_equal(mpq_tls_new(&sd->tls, ctx, name, (const uint8_t *)tp, tplen, &cb), 0);
}

static void side_close(struct side *sd)
{
	mpq_tls_free(sd->tls);
	for (int i = 0; i < MPQ_LEVEL_COUNT; i++)
		free(sd->out[i].data);
	for (size_t i = 0; i < sd->nlines; i++)
		free(sd->lines[i]);
	free(sd->peer_tp);
}

static void pair_open_tp(struct pair *p, const mpq_tls_ctx_config *ccfg,
			 const mpq_tls_ctx_config *scfg, const char *server_name, const char *ctp,
			 const char *stp)
{
	memset(p, 0, sizeof(*p));
	p->cctx = new_ctx(ccfg);
	p->sctx = new_ctx(scfg);
	side_open(&p->c, p->cctx, server_name, ctp, ctp ? strlen(ctp) : 0);
	side_open(&p->s, p->sctx, NULL, stp, stp ? SERVER_TPLEN : 0);
}

static void pair_open(struct pair *p, const mpq_tls_ctx_config *ccfg,
		      const mpq_tls_ctx_config *scfg, const char *server_name)
{
	pair_open_tp(p, ccfg, scfg, server_name, CLIENT_TP, SERVER_TP);
}

static void pair_close(struct pair *p)
{
	side_close(&p->c);
	side_close(&p->s);
	mpq_tls_ctx_free(p->cctx);
	mpq_tls_ctx_free(p->sctx);
}

/* --- the in-memory link --- */

/* Hands |from|'s queued data to |to| level by level, |chunk| bytes a call. */
static bool deliver(struct side *from, struct side *to, size_t chunk)
{
	bool moved = false;
	for (int level = 0; level < MPQ_LEVEL_COUNT; level++) {
		struct queue q = from->out[level];
		if (q.len == 0)
			continue;
		from->out[level] = (struct queue){NULL, 0};
		moved = true;
		for (size_t off = 0; off < q.len && to->rv == 0; off += chunk) {
			size_t n = q.len - off < chunk ? q.len - off : chunk;
			to->rv = mpq_tls_recv_crypto(to->tls, level, q.data + off, n);
		}
		free(q.data);
	}
	return moved;
}

static void pump(struct pair *p, size_t chunk)
{
	for (int round = 0; round < 16; round++) {
		bool c2s = deliver(&p->c, &p->s, chunk);
		bool s2c = deliver(&p->s, &p->c, chunk);
		if (!c2s && !s2c)
			return;
	}
	fail_msg("the handshake never went quiet");
}

static void handshake(struct pair *p, size_t chunk)
{
	assert_int_equal(mpq_tls_start(p->s.tls), 0);
	assert_int_equal(mpq_tls_start(p->c.tls), 0);
	pump(p, chunk);
}

/* A client dialling |name| and a server, run until both go quiet. */
static void run_pair(struct pair *p, const mpq_tls_ctx_config *ccfg,
		     const mpq_tls_ctx_config *scfg, const char *name, size_t chunk)
{
	pair_open(p, ccfg, scfg, name);
	handshake(p, chunk);
}

/* --- checks --- */

static void assert_secret_eq(const struct secret *a, const struct secret *b, int cipher)
{
	assert_true(a->set);
	assert_true(b->set);
	assert_int_equal(a->cipher, cipher);
	assert_int_equal(b->cipher, cipher);
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->data, a->len);
}

static bool sent(const struct side *sd, uint8_t type, int level)
{
	for (size_t i = 0; i < sd->nmsgs; i++) {
		if (sd->msgs[i].type == type && sd->msgs[i].level == level)
			return true;
	}
	return false;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static const char *const keylog_labels[] = {
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	"SERVER_HANDSHAKE_TRAFFIC_SECRET",
	"CLIENT_TRAFFIC_SECRET_0",
	"SERVER_TRAFFIC_SECRET_0",
	"EXPORTER_SECRET",
};

/* The secret set_secret gave |sd| for label |i| (NULL for EXPORTER_SECRET). */
static const struct secret *secret_of_label(const struct side *sd, bool is_client, size_t i)
{
	if (i >= 4)
		return NULL;
	int level = i < 2 ? MPQ_LEVEL_HANDSHAKE : MPQ_LEVEL_APP;
	bool client_secret = i % 2 == 0;
	return client_secret == is_client ? &sd->tx[level] : &sd->rx[level];
}

static void check_keylog(const struct side *sd, bool is_client, const uint8_t random[32])
{
	char want_random[65], want_secret[2 * MPQ_MAX_SECRETLEN + 1];
	bool seen[5] = {false};
	hex(random, 32, want_random);
	assert_int_equal(sd->nlines, 5);
	for (size_t n = 0; n < sd->nlines; n++) {
		char label[64], rnd[80], sec[120];
		assert_int_equal(sscanf(sd->lines[n], "%63s %79s %119s", label, rnd, sec), 3);
		size_t i = 0;
		while (i < 5 && strcmp(label, keylog_labels[i]) != 0)
			i++;
		assert_true(i < 5);
		assert_false(seen[i]);
		seen[i] = true;
		assert_string_equal(rnd, want_random);
		const struct secret *s = secret_of_label(sd, is_client, i);
		if (!s)
			continue;
		hex(s->data, s->len, want_secret);
		assert_string_equal(sec, want_secret);
	}
}

static void check_success(const struct pair *p, int cipher)
{
	assert_int_equal(p->c.rv, 0);
	assert_int_equal(p->s.rv, 0);
	assert_true(mpq_tls_handshake_complete(p->c.tls));
	assert_true(mpq_tls_handshake_complete(p->s.tls));
	assert_int_equal(mpq_tls_alert(p->c.tls), 0);
	assert_int_equal(mpq_tls_alert(p->s.tls), 0);
	for (int level = MPQ_LEVEL_HANDSHAKE; level <= MPQ_LEVEL_APP; level++) {
		assert_secret_eq(&p->c.tx[level], &p->s.rx[level], cipher);
		assert_secret_eq(&p->s.tx[level], &p->c.rx[level], cipher);
	}
	/* Initial keys come from the DCID, never from TLS. */
	assert_false(p->c.tx[MPQ_LEVEL_INITIAL].set || p->s.rx[MPQ_LEVEL_INITIAL].set);
	/* Transport parameters arrive unchanged, both ways. */
	assert_true(p->s.got_tp && p->c.got_tp);
	assert_int_equal(p->s.peer_tplen, strlen(CLIENT_TP));
	assert_memory_equal(p->s.peer_tp, CLIENT_TP, strlen(CLIENT_TP));
	assert_int_equal(p->c.peer_tplen, SERVER_TPLEN);
	assert_memory_equal(p->c.peer_tp, SERVER_TP, SERVER_TPLEN);
}

static void check_alpn(const mpq_tls *tls, const char *want)
{
	size_t len;
	const uint8_t *alpn = mpq_tls_alpn(tls, &len);
	assert_non_null(alpn);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(alpn, want, len);
}

/* --- tests --- */

static void handshake_completes(void **state)
{
	struct test_certs *tc = *state;
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	struct pair p;
	pair_open(&p, &c, &s, "localhost");
	size_t len;
	assert_null(mpq_tls_alpn(p.c.tls, &len));
	handshake(&p, WHOLE);
	check_success(&p, MPQ_CIPHER_AES_128_GCM);
	check_alpn(p.c.tls, "hq-interop");
	check_alpn(p.s.tls, "hq-interop");
	assert_string_equal(mpq_tls_error_string(p.c.tls), "");

	/* Each message at its level (RFC 9001 §4.1.4). */
	assert_int_equal(p.c.msgs[0].type, HS_CH);
	assert_int_equal(p.c.msgs[0].level, MPQ_LEVEL_INITIAL);
	assert_true(sent(&p.c, HS_FIN, MPQ_LEVEL_HANDSHAKE));
	assert_int_equal(p.c.nmsgs, 2);
	assert_int_equal(p.s.msgs[0].type, HS_SH);
	assert_int_equal(p.s.msgs[0].level, MPQ_LEVEL_INITIAL);
	assert_true(sent(&p.s, HS_EE, MPQ_LEVEL_HANDSHAKE));
	assert_true(sent(&p.s, HS_CERT, MPQ_LEVEL_HANDSHAKE));
	assert_true(sent(&p.s, HS_CV, MPQ_LEVEL_HANDSHAKE));
	assert_true(sent(&p.s, HS_FIN, MPQ_LEVEL_HANDSHAKE));
	assert_true(sent(&p.s, HS_NST, MPQ_LEVEL_APP));
	size_t tickets = 0;
	for (size_t i = 0; i < p.s.nmsgs; i++) {
		assert_true(p.s.msgs[i].level != MPQ_LEVEL_APP || p.s.msgs[i].type == HS_NST);
		tickets += p.s.msgs[i].type == HS_NST;
	}
	/* One ticket is enough to resume; each costs the server a sealed session. */
	assert_int_equal(tickets, 1);

	check_keylog(&p.c, true, p.c.hello_random);
	check_keylog(&p.s, false, p.c.hello_random);
	pair_close(&p);
}

/* CRYPTO data in small pieces: handshake messages span many TLS records. */
static void handshake_in_small_pieces(void **state)
{
	struct test_certs *tc = *state;
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	struct pair p;
	run_pair(&p, &c, &s, "localhost", 37);
	check_success(&p, MPQ_CIPHER_AES_128_GCM);
	pair_close(&p);
}

static void handshake_with_suite(const struct test_certs *tc, const char *suite, int cipher,
				 size_t secretlen)
{
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	c.ciphersuites = suite;
	struct pair p;
	run_pair(&p, &c, &s, "localhost", 100);
	check_success(&p, cipher);
	assert_int_equal(p.c.tx[MPQ_LEVEL_APP].len, secretlen);
	pair_close(&p);
}

static void other_cipher_suites(void **state)
{
	handshake_with_suite(*state, "TLS_AES_256_GCM_SHA384", MPQ_CIPHER_AES_256_GCM, 48);
	handshake_with_suite(*state, "TLS_CHACHA20_POLY1305_SHA256", MPQ_CIPHER_CHACHA20_POLY1305,
			     32);
}

/* A Certificate message over 16 KiB: fed to OpenSSL as several records. */
static void large_certificate_message(void **state)
{
	struct test_certs *tc = *state;
	size_t calen = strlen(tc->ca_pem), leaflen = strlen(tc->cert_pem);
	enum { COPIES = 100 };
	char *chain = malloc(leaflen + COPIES * calen + 1);
	assert_non_null(chain);
	memcpy(chain, tc->cert_pem, leaflen);
	for (int i = 0; i < COPIES; i++)
		memcpy(chain + leaflen + i * calen, tc->ca_pem, calen);
	chain[leaflen + COPIES * calen] = '\0';

	mpq_tls_ctx_config c = client_config(tc);
	mpq_tls_ctx_config s = {.is_server = true,
				.alpn = "hq-interop",
				.cert_pem = chain,
				.key_pem = tc->key_pem};
	struct pair p;
	pair_open(&p, &c, &s, "localhost");
	assert_int_equal(mpq_tls_start(p.c.tls), 0);
	assert_true(deliver(&p.c, &p.s, WHOLE));
	assert_true(p.s.out[MPQ_LEVEL_HANDSHAKE].len > 2 * 16384); /* three records */
	pump(&p, WHOLE);
	check_success(&p, MPQ_CIPHER_AES_128_GCM);
	pair_close(&p);
	free(chain);
}

static void check_client_failure(struct pair *p, uint8_t alert, const char *want)
{
	assert_int_equal(p->c.rv, MPQ_ERR_CRYPTO);
	assert_false(mpq_tls_handshake_complete(p->c.tls));
	assert_false(mpq_tls_handshake_complete(p->s.tls));
	const char *err = mpq_tls_error_string(p->c.tls);
	print_message("      client: alert %u, \"%s\"\n", mpq_tls_alert(p->c.tls), err);
	assert_int_equal(mpq_tls_alert(p->c.tls), alert);
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	/* No 1-RTT keys, no Finished, and the failure sticks. */
	assert_false(p->c.tx[MPQ_LEVEL_APP].set || p->c.rx[MPQ_LEVEL_APP].set);
	assert_false(sent(&p->c, HS_FIN, MPQ_LEVEL_HANDSHAKE));
	const uint8_t x = 0;
	assert_int_equal(mpq_tls_recv_crypto(p->c.tls, MPQ_LEVEL_HANDSHAKE, &x, 1),
			 MPQ_ERR_CRYPTO);
}

static void unknown_ca_is_rejected(void **state)
{
	struct test_certs *tc = *state;
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	c.ca_file = tc->other_ca_file;
	struct pair p;
	run_pair(&p, &c, &s, "localhost", WHOLE);
	/* OpenSSL 3.0 maps "unable to get local issuer certificate" to unknown_ca. */
	check_client_failure(&p, 48,
			     "certificate verify failed: unable to get local issuer certificate");
	pair_close(&p);
}

static void wrong_server_name_is_rejected(void **state)
{
	struct test_certs *tc = *state;
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	struct pair p;
	run_pair(&p, &c, &s, "example.com", WHOLE);
	check_client_failure(&p, 42, "certificate verify failed: hostname mismatch");
	pair_close(&p);

	run_pair(&p, &c, &s, "127.0.0.2", WHOLE);
	check_client_failure(&p, 42, "certificate verify failed: IP address mismatch");
	pair_close(&p);
}

static bool contains(const uint8_t *hay, size_t haylen, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= haylen; i++) {
		if (memcmp(hay + i, needle, n) == 0)
			return true;
	}
	return false;
}

/* The ClientHello of a client dialling |name|, taken before any delivery. */
static bool hello_names(const struct test_certs *tc, const char *name, const char *needle)
{
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	struct pair p;
	pair_open(&p, &c, &s, name);
	assert_int_equal(mpq_tls_start(p.c.tls), 0);
	const struct queue *q = &p.c.out[MPQ_LEVEL_INITIAL];
	bool found = contains(q->data, q->len, needle);
	pair_close(&p);
	return found;
}

/* An IP literal is checked against the certificate's IP SAN and never sent as SNI. */
static void ip_address_server_name(void **state)
{
	struct test_certs *tc = *state;
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	struct pair p;
	run_pair(&p, &c, &s, "127.0.0.1", WHOLE);
	check_success(&p, MPQ_CIPHER_AES_128_GCM);
	pair_close(&p);
	assert_true(hello_names(tc, "localhost", "localhost"));
	assert_false(hello_names(tc, "127.0.0.1", "127.0.0.1"));
}

static void alpn_mismatch_fails_on_server(void **state)
{
	struct test_certs *tc = *state;
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	c.alpn = "h3";
	struct pair p;
	run_pair(&p, &c, &s, "localhost", WHOLE);
	assert_int_equal(p.s.rv, MPQ_ERR_CRYPTO);
	assert_int_equal(mpq_tls_alert(p.s.tls), 120);
	print_message("      server: \"%s\"\n", mpq_tls_error_string(p.s.tls));
	assert_non_null(strstr(mpq_tls_error_string(p.s.tls), "application protocol"));
	assert_int_equal(p.s.nmsgs, 0); /* no ServerHello went out */
	assert_false(mpq_tls_handshake_complete(p.s.tls));
	pair_close(&p);
}

static void alpn_server_preference(void **state)
{
	struct test_certs *tc = *state;
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	c.alpn = "hq-interop,h3";
	s.alpn = "h3,hq-interop";
	struct pair p;
	run_pair(&p, &c, &s, "localhost", WHOLE);
	check_success(&p, MPQ_CIPHER_AES_128_GCM);
	check_alpn(p.c.tls, "h3");
	check_alpn(p.s.tls, "h3");
	pair_close(&p);
}

static void insecure_client_accepts_unknown_ca(void **state)
{
	struct test_certs *tc = *state;
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	c.ca_file = tc->other_ca_file;
	c.insecure = true;
	struct pair p;
	run_pair(&p, &c, &s, "wrong.example", WHOLE);
	check_success(&p, MPQ_CIPHER_AES_128_GCM);
	pair_close(&p);
}

static void self_signed_certificate(void **state)
{
	struct test_certs *tc = *state;
	static const char *const names[] = {"localhost", "127.0.0.1", "::1"};
	char *cert_pem, *key_pem, ca_path[PATH_MAX];
	uint8_t fp[MPQ_CERT_FINGERPRINT_LEN];
	assert_int_equal(mpq_cert_self_signed(names, 3, &cert_pem, &key_pem, fp), 0);
	assert_int_equal(test_certs_write(tc, "self-signed.pem", cert_pem, ca_path), 0);

	mpq_tls_ctx_config c = {.alpn = "hq-interop", .ca_file = ca_path};
	mpq_tls_ctx_config s = {.is_server = true,
				.alpn = "hq-interop",
				.cert_pem = cert_pem,
				.key_pem = key_pem};
	const char *dial[] = {"localhost", "::1"};
	for (int i = 0; i < 2; i++) {
		struct pair p;
		run_pair(&p, &c, &s, dial[i], WHOLE);
		check_success(&p, MPQ_CIPHER_AES_128_GCM);
		pair_close(&p);
	}
	/* The test CA does not vouch for it. */
	c.ca_file = tc->ca_file;
	struct pair p;
	run_pair(&p, &c, &s, "localhost", WHOLE);
	assert_int_equal(p.c.rv, MPQ_ERR_CRYPTO);
	pair_close(&p);
	free(cert_pem);
	free(key_pem);
}

static void bad_configuration_is_refused(void **state)
{
	struct test_certs *tc = *state;
	char garbage[PATH_MAX], wrong_key[PATH_MAX];
	assert_int_equal(test_certs_write(tc, "garbage.pem", "not a certificate\n", garbage), 0);
	assert_int_equal(test_certs_write(tc, "wrong-key.pem", tc->ca_key_pem, wrong_key), 0);

	mpq_tls_ctx_config s = server_config(tc);
	s.cert_file = "/nonexistent/cert.pem";
	ctx_refused(&s, "cannot load certificate file '/nonexistent/cert.pem': No such file");
	s = server_config(tc);
	s.key_file = "/nonexistent/key.pem";
	ctx_refused(&s, "cannot load key file '/nonexistent/key.pem'");
	s = server_config(tc);
	s.cert_file = garbage;
	ctx_refused(&s, garbage);
	s = server_config(tc);
	s.key_file = wrong_key;
	ctx_refused(&s, "key values mismatch");
	s = (mpq_tls_ctx_config){.is_server = true, .alpn = "hq-interop"};
	ctx_refused(&s, "needs a certificate");
	s.cert_pem = "garbage";
	s.key_pem = tc->key_pem;
	ctx_refused(&s, "certificate PEM");
	s.cert_pem = tc->cert_pem;
	s.key_pem = "garbage";
	ctx_refused(&s, "key PEM");

	mpq_tls_ctx_config c = client_config(tc);
	c.ca_file = "/nonexistent/ca.pem";
	ctx_refused(&c, "cannot load CA file '/nonexistent/ca.pem'");
	c.ca_file = garbage;
	ctx_refused(&c, "cannot load CA file");
	c = client_config(tc);
	c.alpn = "";
	ctx_refused(&c, "ALPN");
	c.alpn = "hq-interop,,h3";
	ctx_refused(&c, "ALPN");
	c.alpn = NULL;
	ctx_refused(&c, "ALPN");
	c = client_config(tc);
	c.ciphersuites = "TLS_NO_SUCH_SUITE";
	ctx_refused(&c, "cipher suite");
	int err = 0;
	assert_null(mpq_tls_ctx_new(NULL, &err, NULL, 0));
	assert_int_equal(err, MPQ_ERR_INVALID_ARGUMENT);
}

static void missing_transport_parameters(void **state)
{
	struct test_certs *tc = *state;
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	struct pair p;
	pair_open_tp(&p, &c, &s, "localhost", NULL, SERVER_TP);
	handshake(&p, WHOLE);
	assert_int_equal(p.s.rv, MPQ_ERR_CRYPTO);
	assert_int_equal(mpq_tls_alert(p.s.tls), 109);
	assert_int_equal(p.s.nmsgs, 0);
	assert_false(p.s.tx[MPQ_LEVEL_HANDSHAKE].set);
	pair_close(&p);

	pair_open_tp(&p, &c, &s, "localhost", CLIENT_TP, NULL);
	handshake(&p, WHOLE);
	check_client_failure(&p, 109, "transport parameters");
	pair_close(&p);
}

static void rejected_transport_parameters(void **state)
{
	struct test_certs *tc = *state;
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	struct pair p;
	pair_open(&p, &c, &s, "localhost");
	p.s.recv_tp_rv = MPQ_ERR_TRANSPORT_PARAM;
	handshake(&p, WHOLE);
	assert_int_equal(p.s.rv, MPQ_ERR_TRANSPORT_PARAM);
	assert_int_equal(p.s.nmsgs, 0);
	assert_non_null(strstr(mpq_tls_error_string(p.s.tls), "transport parameters"));
	const uint8_t x = 0;
	assert_int_equal(mpq_tls_recv_crypto(p.s.tls, MPQ_LEVEL_INITIAL, &x, 1),
			 MPQ_ERR_TRANSPORT_PARAM);
	pair_close(&p);
}

static void send_failure_is_returned(void **state)
{
	struct test_certs *tc = *state;
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	struct pair p;
	pair_open(&p, &c, &s, "localhost");
	p.c.send_rv = MPQ_ERR_NOMEM;
	assert_int_equal(mpq_tls_start(p.c.tls), MPQ_ERR_NOMEM);
	pair_close(&p);
}

static void data_at_unexpected_level(void **state)
{
	struct test_certs *tc = *state;
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	struct pair p;
	pair_open(&p, &c, &s, "localhost");
	const uint8_t x = 0;
	assert_int_equal(mpq_tls_recv_crypto(p.s.tls, MPQ_LEVEL_HANDSHAKE, &x, 1), MPQ_ERR_PROTO);
	assert_int_equal(mpq_tls_recv_crypto(p.s.tls, MPQ_LEVEL_APP, &x, 1), MPQ_ERR_PROTO);
	assert_int_equal(mpq_tls_recv_crypto(p.s.tls, MPQ_LEVEL_COUNT, &x, 1),
			 MPQ_ERR_INVALID_ARGUMENT);
	handshake(&p, WHOLE); /* not sticky: the handshake still works */
	check_success(&p, MPQ_CIPHER_AES_128_GCM);
	/* The client reads 1-RTT now; Handshake data is over. */
	assert_int_equal(mpq_tls_recv_crypto(p.c.tls, MPQ_LEVEL_HANDSHAKE, &x, 1), MPQ_ERR_PROTO);
	pair_close(&p);
}

/* RFC 9001 §6: a TLS KeyUpdate in CRYPTO frames is unexpected_message. */
static void tls_key_update_is_refused(void **state)
{
	struct test_certs *tc = *state;
	mpq_tls_ctx_config c = client_config(tc), s = server_config(tc);
	struct pair p;
	run_pair(&p, &c, &s, "localhost", WHOLE);
	check_success(&p, MPQ_CIPHER_AES_128_GCM);
	static const uint8_t key_update[] = {24, 0, 0, 1, 0};
	assert_int_equal(mpq_tls_recv_crypto(p.c.tls, MPQ_LEVEL_APP, key_update, 5),
			 MPQ_ERR_CRYPTO);
	assert_int_equal(mpq_tls_alert(p.c.tls), 10);
	pair_close(&p);
}

static int group_setup(void **state)
{
	static struct test_certs tc;
	if (test_certs_create(&tc) < 0) {
		test_certs_cleanup(&tc);
		return -1;
	}
	*state = &tc;
	return 0;
}

static int group_teardown(void **state)
{
	test_certs_cleanup(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_completes),
		cmocka_unit_test(handshake_in_small_pieces),
		cmocka_unit_test(other_cipher_suites),
		cmocka_unit_test(large_certificate_message),
		cmocka_unit_test(unknown_ca_is_rejected),
		cmocka_unit_test(wrong_server_name_is_rejected),
		cmocka_unit_test(ip_address_server_name),
		cmocka_unit_test(alpn_mismatch_fails_on_server),
		cmocka_unit_test(alpn_server_preference),
		cmocka_unit_test(insecure_client_accepts_unknown_ca),
		cmocka_unit_test(self_signed_certificate),
		cmocka_unit_test(bad_configuration_is_refused),
		cmocka_unit_test(missing_transport_parameters),
		cmocka_unit_test(rejected_transport_parameters),
		cmocka_unit_test(send_failure_is_returned),
		cmocka_unit_test(data_at_unexpected_level),
		cmocka_unit_test(tls_key_update_is_refused),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
