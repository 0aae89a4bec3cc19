/*
 * The in-memory handshake between a client and a server connection: keys,
 * transport parameters, ALPN, key log, key discard, padding, failures that
 * close with CRYPTO_ERROR, and recovery from lost first flights.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conn_pair.h"
#include "quic/cid.h"
#include "quic/conn.h"
#include "quic/tls.h"

#define LIMIT (20 * MPQ_SEC)

static bool key_eq(const mpq_crypto_keys *a, const mpq_crypto_keys *b)
{
	return a->cipher && a->cipher == b->cipher && a->keylen == b->keylen &&
	       memcmp(a->key, b->key, a->keylen) == 0 &&
	       memcmp(a->iv, b->iv, sizeof(a->iv)) == 0 && memcmp(a->hp, b->hp, a->keylen) == 0;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void handshake_completes(void **state)
{
	(void)state;
	struct conn_pair p;
	assert_int_equal(pair_init(&p, &(struct pair_opts){0}), 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	mpq_conn *c = p.conn[PAIR_CLIENT], *s = p.conn[PAIR_SERVER];

	/* Both ends hold the same 1-RTT keys, each direction. */
	assert_true(key_eq(&c->paths[0]->ns.tx, &s->paths[0]->ns.rx));
	assert_true(key_eq(&s->paths[0]->ns.tx, &c->paths[0]->ns.rx));
	assert_false(key_eq(&c->paths[0]->ns.tx, &c->paths[0]->ns.rx));

	/* ALPN agreed on both sides. */
	size_t len;
	const uint8_t *alpn = mpq_conn_alpn(c, &len);
	assert_non_null(alpn);
	assert_memory_equal(alpn, "hq-interop", len);
	assert_int_equal(len, 10);
	alpn = mpq_conn_alpn(s, &len);
	assert_non_null(alpn);
	assert_memory_equal(alpn, "hq-interop", len);

	/* Each side got the other's transport parameters, CIDs checked. */
	const mpq_tparams *ctp = mpq_conn_peer_tparams(c), *stp = mpq_conn_peer_tparams(s);
	assert_non_null(ctp);
	assert_non_null(stp);
	assert_int_equal(ctp->initial_max_data, 2000000);
	assert_int_equal(ctp->initial_max_streams_bidi, 100);
	assert_int_equal(stp->initial_max_data, 1000000);
	assert_int_equal(stp->initial_max_streams_bidi, 10);
	assert_true(ctp->has_original_dcid);
	assert_true(mpq_cid_eq(&ctp->original_dcid, &c->odcid));
	assert_true(mpq_cid_eq(&ctp->initial_scid, &s->scid));
	assert_true(mpq_cid_eq(&stp->initial_scid, &c->scid));
	assert_true(mpq_cid_eq(&c->dcid, &s->scid));

	/* Initial and Handshake keys are gone on both sides (RFC 9001 §4.9), and
	 * with them the spaces' buffers (a connection that stays open does not
	 * keep tens of kB for levels it will never use again). */
	for (int side = 0; side < 2; side++) {
		for (int l = MPQ_LEVEL_INITIAL; l <= MPQ_LEVEL_HANDSHAKE; l++) {
			const mpq_pktns *ns = &p.conn[side]->hs_ns[l];
			assert_true(ns->discarded);
			assert_null(ns->sent.v);
			assert_null(ns->crypto_rx.ring);
			assert_null(ns->crypto_tx.buf);
		}
	}
	assert_true(c->handshake_confirmed);

	/* Both OpenSSL sessions report the same five secrets. */
	assert_int_equal(p.nkeylog[0], 5);
	assert_int_equal(p.nkeylog[1], 5);
	qsort(p.keylog[0], 5, sizeof(p.keylog[0][0]), cmp_line);
	qsort(p.keylog[1], 5, sizeof(p.keylog[1][0]), cmp_line);
	static const char *labels[] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET ",
				       "CLIENT_TRAFFIC_SECRET_0 ", "EXPORTER_SECRET ",
				       "SERVER_HANDSHAKE_TRAFFIC_SECRET ",
				       "SERVER_TRAFFIC_SECRET_0 "};
	for (int i = 0; i < 5; i++) {
		assert_string_equal(p.keylog[0][i], p.keylog[1][i]);
		assert_memory_equal(p.keylog[0][i], labels[i], strlen(labels[i]));
	}

	/* Every datagram with an Initial from the client was at least 1200 bytes. */
	assert_int_equal(p.small_initial_dgrams[PAIR_CLIENT], 0);
	assert_int_equal(mpq_conn_get_error(c)->set, 0);
	pair_free(&p);
}

/* The client rejects the server's certificate; both ends end up with the
 * CRYPTO_ERROR the client sent. */
static void expect_crypto_failure(struct conn_pair *p, int failing_side)
{
	pair_run(p, NULL, LIMIT);
	mpq_conn *f = p->conn[failing_side], *o = p->conn[!failing_side];
	assert_non_null(f);
	assert_non_null(o);
	const mpq_conn_error *fe = mpq_conn_get_error(f), *oe = mpq_conn_get_error(o);
	assert_true(fe->set);
	assert_false(fe->remote);
	assert_true(fe->code > MPQ_TE_CRYPTO_ERROR && fe->code <= MPQ_TE_CRYPTO_ERROR + 0xff);
	assert_true(oe->set);
	assert_true(oe->remote);
	assert_int_equal(oe->code, fe->code);
	assert_false(mpq_conn_is_handshake_complete(failing_side ? o : f));
	assert_int_equal(p->last_read_rv[!failing_side], MPQ_ERR_DRAINING);
}

static void wrong_ca_fails_with_crypto_error(void **state)
{
	(void)state;
	struct conn_pair p;
	struct test_certs other;
	assert_int_equal(test_certs_create(&other), 0);
	assert_int_equal(pair_init(&p, &(struct pair_opts){.ca_file = other.ca_file}), 0);
	expect_crypto_failure(&p, PAIR_CLIENT);
	/* unknown_ca (48) is what OpenSSL sends for an untrusted issuer. */
	assert_int_equal(mpq_conn_get_error(p.conn[0])->code, MPQ_TE_CRYPTO_ERROR + 48);
	pair_free(&p);
	test_certs_cleanup(&other);
}

static void wrong_server_name_fails(void **state)
{
	(void)state;
	struct conn_pair p;
	assert_int_equal(pair_init(&p, &(struct pair_opts){.server_name = "example.org"}), 0);
	expect_crypto_failure(&p, PAIR_CLIENT);
	pair_free(&p);
}

static void alpn_mismatch_fails_on_server(void **state)
{
	(void)state;
	struct conn_pair p;
	assert_int_equal(pair_init(&p, &(struct pair_opts){.server_alpn = "h3"}), 0);
	expect_crypto_failure(&p, PAIR_SERVER);
	assert_int_equal(mpq_conn_get_error(p.conn[1])->code, MPQ_TE_CRYPTO_ERROR + 120);
	pair_free(&p);
}

static bool drop_first_flights(struct conn_pair *p, int from, size_t index, size_t flight,
			       const uint8_t *d, size_t len)
{
	(void)p;
	(void)index;
	(void)d;
	(void)len;
	return flight == 0; /* the client's first Initial and the server's first flight */
}

static void lost_first_flights_recovered(void **state)
{
	(void)state;
	struct conn_pair p;
	assert_int_equal(pair_init(&p, &(struct pair_opts){.drop = drop_first_flights}), 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	assert_true(p.flights[PAIR_CLIENT] >= 2);
	assert_true(p.flights[PAIR_SERVER] >= 2);
	assert_true(key_eq(&p.conn[0]->paths[0]->ns.tx, &p.conn[1]->paths[0]->ns.rx));
	assert_int_equal(p.small_initial_dgrams[PAIR_CLIENT], 0);
	pair_free(&p);
}

static bool drop_client_after_first(struct conn_pair *p, int from, size_t index, size_t flight,
				    const uint8_t *d, size_t len)
{
	(void)p;
	(void)flight;
	(void)d;
	(void)len;
	return from == PAIR_CLIENT && index > 0;
}

/* With only the client's first datagram received, the server keeps resending
 * its flight on PTO but never sends more than 3x what it received. */
static void server_respects_amplification_limit(void **state)
{
	(void)state;
	struct conn_pair p;
	assert_int_equal(pair_init(&p, &(struct pair_opts){.drop = drop_client_after_first}), 0);
	pair_run(&p, NULL, 5 * MPQ_SEC);
	assert_non_null(p.conn[1]);
	assert_false(p.conn[1]->paths[0]->validated);
	assert_true(p.client_bytes_before_validation >= MPQ_MIN_INITIAL_DATAGRAM);
	assert_true(p.server_bytes_before_validation > 0);
	assert_true(p.server_bytes_before_validation <= 3 * p.client_bytes_before_validation);
	assert_true(p.sent[PAIR_SERVER] >= 2);
	assert_false(mpq_conn_is_handshake_complete(p.conn[1]));
	pair_free(&p);
}

/* A server that hears nothing after the client's first datagram ends in a
 * handshake timeout, recorded as such (the client, which heard the server,
 * completed its side). */
static void handshake_timeout_recorded(void **state)
{
	(void)state;
	struct conn_pair p;
	assert_int_equal(pair_init(&p, &(struct pair_opts){.drop = drop_client_after_first}), 0);
	pair_run(&p, NULL, 15 * MPQ_SEC);
	assert_int_equal(p.last_expiry_rv[PAIR_SERVER], MPQ_ERR_HANDSHAKE_TIMEOUT);
	const mpq_conn_error *e = mpq_conn_get_error(p.conn[PAIR_SERVER]);
	assert_int_equal(e->cause, MPQ_CLOSE_HANDSHAKE_TIMEOUT);
	assert_false(e->remote);
	pair_free(&p);
}

static void handshake_v2(void **state)
{
	(void)state;
	struct conn_pair p;
	assert_int_equal(pair_init(&p, &(struct pair_opts){.version = MPQ_VERSION_2}), 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	assert_int_equal(p.conn[1]->version, MPQ_VERSION_2);
	assert_true(key_eq(&p.conn[0]->paths[0]->ns.tx, &p.conn[1]->paths[0]->ns.rx));
	pair_free(&p);
}

static void idle_timeout_closes_silently(void **state)
{
	(void)state;
	struct conn_pair p;
	assert_int_equal(pair_init(&p, &(struct pair_opts){0}), 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	pair_run(&p, NULL, 60 * MPQ_SEC);
	assert_int_equal(p.last_expiry_rv[0], MPQ_ERR_IDLE_CLOSE);
	assert_int_equal(p.last_expiry_rv[1], MPQ_ERR_IDLE_CLOSE);
	assert_int_equal(mpq_conn_get_error(p.conn[0])->cause, MPQ_CLOSE_IDLE_TIMEOUT);
	assert_int_equal(mpq_conn_get_error(p.conn[1])->cause, MPQ_CLOSE_IDLE_TIMEOUT);
	pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_completes),
		cmocka_unit_test(wrong_ca_fails_with_crypto_error),
		cmocka_unit_test(wrong_server_name_fails),
		cmocka_unit_test(alpn_mismatch_fails_on_server),
		cmocka_unit_test(lost_first_flights_recovered),
		cmocka_unit_test(server_respects_amplification_limit),
		cmocka_unit_test(handshake_timeout_recorded),
		cmocka_unit_test(handshake_v2),
		cmocka_unit_test(idle_timeout_closes_silently),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
