/*
 * The endpoint between a client connection and its server connections:
 * routing, Retry with tokens, Version Negotiation (restart and failure),
 * stateless resets, and refusal of what it must not accept.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "certs.h"
#include "forge.h"
#include "noise_initial.h"
#include "mpq/endpoint.h"
#include "quic/cid.h"
#include "quic/cids.h"
#include "quic/conn.h"
#include "quic/packet.h"

struct world {
	struct test_certs certs;
	mpq_tls_ctx *cctx, *sctx;
	mpq_endpoint *ep;
	mpq_endpoint_config cfg;
	mpq_conn *client;
	mpq_path cpath, spath;
	uint64_t now;
	uint64_t seed;
	int client_rv; /* first error the client's read returned */
	size_t vn_seen, retry_seen, reset_seen;
};

static void rnd(uint8_t *d, size_t n, void *ud)
{
	struct world *w = ud;
	for (size_t i = 0; i < n; i++) {
		w->seed = w->seed * 6364136223846793005ULL + 1442695040888963407ULL;
		d[i] = (uint8_t)(w->seed >> 56);
	}
}

/* 127.0.0.0 + |host| (below 2^24), port |port|. */
static void addr(mpq_addr *a, uint32_t host, uint16_t port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
	memset(a, 0, sizeof(*a));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(0x7f000000u | host);
	in->sin_port = htons(port);
	a->len = sizeof(*in);
}

static void make_endpoint(struct world *w)
{
	assert_int_equal(mpq_endpoint_new(&w->ep, &w->cfg), 0);
}

static mpq_conn *client_on(struct world *w, const mpq_path *path, uint32_t version,
			   const uint8_t *token, size_t tokenlen)
{
	mpq_conn *c;
	mpq_settings s;
	mpq_tparams tp;
	mpq_settings_default(&s);
	s.version = version;
	s.server_name = "localhost";
	s.token = token;
	s.tokenlen = tokenlen;
	mpq_tparams_default(&tp);
	tp.max_idle_timeout = 30000;
	tp.initial_max_streams_bidi = 10;
	mpq_callbacks cb = {.struct_version = MPQ_CALLBACKS_VERSION, .rand = rnd, .user_data = w};
	assert_int_equal(mpq_conn_client_new(&c, path, &s, &tp, &cb, w->cctx, w->now), 0);
	return c;
}

static void new_client(struct world *w, uint32_t version, const uint8_t *token, size_t tokenlen)
{
	w->client = client_on(w, &w->cpath, version, token, tokenlen);
}

static void setup_world(struct world *w, uint32_t client_version, bool retry)
{
	memset(w, 0, sizeof(*w));
	w->seed = 99;
	assert_int_equal(test_certs_create(&w->certs), 0);
	char err[256];
	int rv;
	mpq_tls_config sc = {.struct_version = MPQ_TLS_CONFIG_VERSION,
			     .is_server = true,
			     .alpn = "hq-interop",
			     .cert_file = w->certs.cert_file,
			     .key_file = w->certs.key_file};
	mpq_tls_config cc = {.struct_version = MPQ_TLS_CONFIG_VERSION,
			     .alpn = "hq-interop",
			     .ca_file = w->certs.ca_file};
	w->sctx = mpq_tls_context_new(&sc, &rv, err, sizeof(err));
	w->cctx = mpq_tls_context_new(&cc, &rv, err, sizeof(err));
	assert_non_null(w->sctx);
	assert_non_null(w->cctx);
	mpq_endpoint_config_default(&w->cfg);
	w->cfg.tls = w->sctx;
	w->cfg.callbacks.rand = rnd;
	w->cfg.callbacks.user_data = w;
	w->cfg.retry = retry;
	w->cfg.tparams.max_idle_timeout = 30000;
	w->cfg.tparams.initial_max_streams_bidi = 10;
	w->cfg.tparams.initial_max_data = 100000;
	w->cfg.tparams.initial_max_stream_data_bidi_remote = 100000;
	memset(w->cfg.secret, 0x5a, sizeof(w->cfg.secret));
	make_endpoint(w);

	addr(&w->cpath.local, 1, 40000);
	addr(&w->cpath.remote, 2, 6121);
	w->spath.local = w->cpath.remote;
	w->spath.remote = w->cpath.local;
	new_client(w, client_version, NULL, 0);
}

static void teardown_world(struct world *w)
{
	mpq_conn_del(w->client);
	mpq_endpoint_del(w->ep);
	mpq_tls_context_free(w->cctx);
	mpq_tls_context_free(w->sctx);
	test_certs_cleanup(&w->certs);
}

static int packet_kind(const uint8_t *d, size_t len)
{
	mpq_pkt_hd hd;
	if (mpq_pkt_decode_hd(&hd, d, len, MPQ_CID_LEN) != 0)
		return 0;
	return hd.type;
}

/* Moves every datagram both ways until neither side has any, then fires timers. */
static void step(struct world *w)
{
	uint8_t buf[1500];
	mpq_path path;
	int n;
	while ((n = mpq_conn_write_pkt(w->client, &path, NULL, buf, sizeof(buf), w->now)) > 0) {
		mpq_conn *c;
		mpq_endpoint_read(w->ep, &w->spath, NULL, buf, (size_t)n, w->now, &c);
	}
	for (int round = 0; round < 64; round++) {
		bool any = false;
		while ((n = mpq_endpoint_write_stateless(w->ep, &path, buf, sizeof(buf))) > 0) {
			int kind = packet_kind(buf, (size_t)n);
			w->vn_seen += kind == MPQ_PKT_VERSION_NEGOTIATION;
			w->retry_seen += kind == MPQ_PKT_RETRY;
			w->reset_seen += kind == 0 || kind == MPQ_PKT_1RTT;
			int rv = mpq_conn_read_pkt(w->client, &w->cpath, NULL, buf, (size_t)n,
						   w->now);
			if (rv && !w->client_rv)
				w->client_rv = rv;
			any = true;
		}
		for (size_t i = 0; i < mpq_endpoint_conn_count(w->ep); i++) {
			mpq_conn *c = mpq_endpoint_conn_at(w->ep, i);
			while ((n = mpq_conn_write_pkt(c, &path, NULL, buf, sizeof(buf), w->now)) >
			       0) {
				int rv = mpq_conn_read_pkt(w->client, &w->cpath, NULL, buf,
							   (size_t)n, w->now);
				if (rv && !w->client_rv)
					w->client_rv = rv;
				any = true;
			}
		}
		while ((n = mpq_conn_write_pkt(w->client, &path, NULL, buf, sizeof(buf), w->now)) >
		       0) {
			mpq_conn *c;
			mpq_endpoint_read(w->ep, &w->spath, NULL, buf, (size_t)n, w->now, &c);
			any = true;
		}
		if (!any)
			break;
	}
	uint64_t t = mpq_conn_get_expiry(w->client);
	uint64_t e = mpq_endpoint_get_expiry(w->ep);
	w->now = (t < e ? t : e) > w->now + MPQ_MS ? w->now + MPQ_MS : (t < e ? t : e);
	forge_timers(w->client, w->ep, w->now);
}

static bool run_until_complete(struct world *w)
{
	for (int i = 0; i < 5000; i++) {
		step(w);
		if (mpq_conn_is_handshake_complete(w->client) && w->client->handshake_confirmed &&
		    mpq_endpoint_conn_count(w->ep) == 1)
			return true;
		if (w->client_rv)
			return false;
	}
	return false;
}

static void routes_and_accepts(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, false);
	assert_true(run_until_complete(&w));
	mpq_conn *s = mpq_endpoint_conn_at(w.ep, 0);
	assert_true(mpq_conn_is_handshake_complete(s));
	assert_int_equal(w.retry_seen, 0);
	/* The server offered a stateless reset token derived from the secret. */
	const mpq_tparams *tp = mpq_conn_peer_tparams(w.client);
	uint8_t want[16];
	mpq_cid_reset_token(w.cfg.secret, &s->scid, want);
	assert_true(tp->has_stateless_reset_token);
	assert_memory_equal(tp->stateless_reset_token, want, 16);
	teardown_world(&w);
}

static void retry_validates_address(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, true);
	assert_true(run_until_complete(&w));
	assert_int_equal(w.retry_seen, 1);
	assert_true(w.client->retried);
	mpq_conn *s = mpq_endpoint_conn_at(w.ep, 0);
	assert_true(s->paths[0]->validated);
	/* Both sides agree on the original and the Retry's CIDs (RFC 9000 §7.3). */
	const mpq_tparams *tp = mpq_conn_peer_tparams(w.client);
	assert_true(tp->has_retry_scid);
	assert_true(mpq_cid_eq(&tp->retry_scid, &w.client->retry_scid));
	assert_true(mpq_cid_eq(&tp->original_dcid, &w.client->odcid));
	teardown_world(&w);
}

static void retry_token_bound_to_address(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, true);
	/* The first flight draws a Retry... */
	uint8_t buf[1500];
	mpq_path path;
	mpq_conn *c;
	int n = mpq_conn_write_pkt(w.client, &path, NULL, buf, sizeof(buf), w.now);
	assert_int_equal(mpq_endpoint_read(w.ep, &w.spath, NULL, buf, (size_t)n, w.now, &c), 0);
	assert_null(c);
	assert_int_equal(mpq_endpoint_conn_count(w.ep), 0);
	n = mpq_endpoint_write_stateless(w.ep, &path, buf, sizeof(buf));
	assert_int_equal(packet_kind(buf, (size_t)n), MPQ_PKT_RETRY);
	assert_int_equal(mpq_conn_read_pkt(w.client, &w.cpath, NULL, buf, (size_t)n, w.now), 0);
	assert_true(w.client->retried);
	/* ...and the client's token is refused from another address, and from
	 * another port of the same address (RFC 9000 §8.1.4). */
	n = mpq_conn_write_pkt(w.client, &path, NULL, buf, sizeof(buf), w.now);
	assert_true(n >= 1200);
	uint8_t first[1500];
	memcpy(first, buf, (size_t)n);
	const struct {
		uint8_t last;
		uint16_t port;
	} others[] = {{9, 40000}, {1, 40001}};
	for (size_t i = 0; i < 2; i++) {
		mpq_path other = w.spath;
		addr(&other.remote, others[i].last, others[i].port);
		memcpy(buf, first, (size_t)n);
		assert_int_equal(mpq_endpoint_read(w.ep, &other, NULL, buf, (size_t)n, w.now, &c),
				 0);
		assert_null(c);
		assert_int_equal(mpq_endpoint_conn_count(w.ep), 0);
		int m = mpq_endpoint_write_stateless(w.ep, &path, buf, sizeof(buf));
		assert_true(m > 0);
		assert_int_equal(packet_kind(buf, (size_t)m), MPQ_PKT_RETRY);
	}
	/* From where the Retry went, it is taken. */
	assert_int_equal(mpq_endpoint_read(w.ep, &w.spath, NULL, first, (size_t)n, w.now, &c), 0);
	assert_non_null(c);
	assert_int_equal(mpq_endpoint_conn_count(w.ep), 1);
	teardown_world(&w);
}

static void version_negotiation_restarts_client(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_2, false);
	/* The server only speaks v1. */
	mpq_endpoint_del(w.ep);
	w.cfg.versions[0] = MPQ_VERSION_1;
	w.cfg.nversions = 1;
	make_endpoint(&w);
	assert_true(run_until_complete(&w));
	assert_int_equal(w.vn_seen, 1);
	assert_int_equal(w.client->version, MPQ_VERSION_1);
	assert_int_equal(mpq_endpoint_conn_at(w.ep, 0)->version, MPQ_VERSION_1);
	teardown_world(&w);
}

static void version_negotiation_without_common_version(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, false);
	uint8_t buf[1500];
	mpq_path path;
	assert_true(mpq_conn_write_pkt(w.client, &path, NULL, buf, sizeof(buf), 0) > 0);
	uint32_t only = 0x1a2a3a4a;
	int n = mpq_pkt_encode_vn(buf, sizeof(buf), &w.client->scid, &w.client->dcid, &only, 1,
				  0x40);
	assert_true(n > 0);
	assert_int_equal(mpq_conn_read_pkt(w.client, &w.cpath, NULL, buf, (size_t)n, 1),
			 MPQ_ERR_VERSION_NEGOTIATION);
	assert_true(mpq_conn_get_error(w.client)->set);
	/* Nothing more is sent. */
	assert_true(mpq_conn_write_pkt(w.client, &path, NULL, buf, sizeof(buf), 2) < 0);
	teardown_world(&w);
}

static void unknown_version_gets_version_negotiation(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, false);
	uint8_t buf[1500];
	mpq_path path;
	int n = mpq_conn_write_pkt(w.client, &path, NULL, buf, sizeof(buf), 0);
	assert_true(n >= 1200);
	buf[1] = 0x0a, buf[2] = 0x1a, buf[3] = 0x2a, buf[4] = 0x3a; /* a version nobody speaks */
	mpq_conn *c;
	assert_int_equal(mpq_endpoint_read(w.ep, &w.spath, NULL, buf, (size_t)n, 0, &c), 0);
	assert_null(c);
	n = mpq_endpoint_write_stateless(w.ep, &path, buf, sizeof(buf));
	assert_true(n > 0);
	uint32_t v[8];
	assert_int_equal(mpq_pkt_decode_vn(buf, (size_t)n, v, 8), 2);
	assert_int_equal(v[0], MPQ_VERSION_1);
	assert_int_equal(v[1], MPQ_VERSION_2);
	/* A short datagram of an unknown version gets nothing (RFC 9000 §6.1). */
	assert_int_equal(mpq_endpoint_read(w.ep, &w.spath, NULL, buf, 100, 0, &c), 0);
	assert_int_equal(mpq_endpoint_write_stateless(w.ep, &path, buf, sizeof(buf)), 0);
	teardown_world(&w);
}

static void stateless_reset_after_server_restart(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, false);
	assert_true(run_until_complete(&w));
	/* The server process "restarts" with the same secret and no connections. */
	mpq_endpoint_del(w.ep);
	make_endpoint(&w);
	int64_t id;
	assert_int_equal(mpq_conn_open_stream(w.client, true, &id), 0);
	assert_int_equal(mpq_conn_stream_write(w.client, id, (const uint8_t *)"hello", 5, true),
			 5);
	for (int i = 0; i < 50 && !w.client_rv; i++)
		step(&w);
	assert_true(w.reset_seen >= 1);
	assert_int_equal(w.client_rv, MPQ_ERR_STATELESS_RESET);
	assert_string_equal(mpq_conn_get_error(w.client)->reason, "stateless reset");
	assert_int_equal(mpq_conn_get_error(w.client)->cause, MPQ_CLOSE_STATELESS_RESET);
	teardown_world(&w);
}

/* The client and its server connection go; a new client connects from
 * 127.0.0.|last|:|port| presenting |token|. */
static void reconnect_from(struct world *w, uint32_t last, uint16_t port, const uint8_t *token,
			   size_t tokenlen)
{
	mpq_conn_del(w->client);
	mpq_endpoint_remove(w->ep, mpq_endpoint_conn_at(w->ep, 0));
	addr(&w->cpath.local, last, port);
	w->spath.remote = w->cpath.local;
	new_client(w, MPQ_VERSION_1, token, tokenlen);
	assert_true(run_until_complete(w));
}

static void new_token_skips_retry(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, true);
	assert_true(run_until_complete(&w));
	assert_int_equal(w.retry_seen, 1);
	for (int i = 0; i < 20; i++)
		step(&w); /* NEW_TOKEN follows the handshake */
	size_t len = 0;
	const uint8_t *tok = mpq_conn_new_token(w.client, &len);
	assert_non_null(tok);
	uint8_t saved[256];
	assert_true(len <= sizeof(saved));
	memcpy(saved, tok, len);
	/* A second connection from another port of the same address presents
	 * it: no Retry (the token is bound to the IP address, RFC 9000 §8.1.3). */
	reconnect_from(&w, 1, 40001, saved, len);
	assert_int_equal(w.retry_seen, 1);
	assert_false(w.client->retried);
	assert_true(mpq_endpoint_conn_at(w.ep, 0)->paths[0]->validated);
	/* From another address it is no proof: Retry. */
	reconnect_from(&w, 3, 40000, saved, len);
	assert_int_equal(w.retry_seen, 2);
	assert_true(w.client->retried);
	teardown_world(&w);
}

static void new_cids_are_routed_and_retired(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, false);
	assert_true(run_until_complete(&w));
	for (int i = 0; i < 20; i++)
		step(&w);
	mpq_conn *s = mpq_endpoint_conn_at(w.ep, 0);
	/* The client allows 2 active CIDs: the server issued one more. */
	assert_int_equal(w.client->peer_cids[0]->n, 2);
	assert_int_equal(s->local_cids[0]->n, 2);
	/* The client moves to the new CID; the endpoint still finds the server... */
	assert_int_equal(mpq_cidset_rotate(w.client->peer_cids[0]), 0);
	w.client->dcid = *mpq_cidset_current(w.client->peer_cids[0]);
	int64_t id;
	assert_int_equal(mpq_conn_open_stream(w.client, true, &id), 0);
	assert_int_equal(mpq_conn_stream_write(w.client, id, (const uint8_t *)"hi", 2, true), 2);
	for (int i = 0; i < 50; i++)
		step(&w);
	assert_int_equal(w.client_rv, 0);
	assert_true(mpq_endpoint_conn_count(w.ep) == 1);
	/* ...which retired sequence 0 and issued sequence 2 in its place. */
	assert_null(mpq_cidset_find(s->local_cids[0], 0));
	assert_non_null(mpq_cidset_find(s->local_cids[0], 2));
	assert_int_equal(w.client->peer_cids[0]->n, 2);
	teardown_world(&w);
}

/* Forty connections come and go through an endpoint sized for eight (64 CID
 * slots, each connection holding several CIDs): a removed connection's CIDs
 * are all taken out (its client then gets a stateless reset), the table keeps
 * room and routing for the next ones, and a CID issued after the churn finds
 * its connection. */
static void connections_come_and_go(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, false);
	mpq_endpoint_del(w.ep);
	w.cfg.max_conns = 8;
	make_endpoint(&w);
	assert_true(run_until_complete(&w));
	for (uint16_t i = 0; i < 40; i++) {
		reconnect_from(&w, 1, (uint16_t)(40001 + i), NULL, 0);
		for (int k = 0; k < 20; k++)
			step(&w); /* NEW_CONNECTION_ID: more CIDs in the table */
		assert_int_equal(w.client_rv, 0);
		assert_int_equal(mpq_endpoint_conn_count(w.ep), 1);
	}
	mpq_conn *s = mpq_endpoint_conn_at(w.ep, 0);
	assert_int_equal(s->local_cids[0]->n, 2);
	assert_int_equal(mpq_cidset_rotate(w.client->peer_cids[0]), 0);
	w.client->dcid = *mpq_cidset_current(w.client->peer_cids[0]);
	int64_t id;
	assert_int_equal(mpq_conn_open_stream(w.client, true, &id), 0);
	assert_int_equal(mpq_conn_stream_write(w.client, id, (const uint8_t *)"hi", 2, true), 2);
	for (int k = 0; k < 50; k++)
		step(&w);
	assert_int_equal(w.client_rv, 0);
	assert_int_equal(w.reset_seen, 0);
	assert_null(mpq_cidset_find(s->local_cids[0], 0));
	/* Its server connection gone, the client's next packet finds no one. */
	mpq_endpoint_remove(w.ep, s);
	assert_int_equal(mpq_endpoint_conn_count(w.ep), 0);
	assert_int_equal(mpq_conn_open_stream(w.client, true, &id), 0);
	assert_int_equal(mpq_conn_stream_write(w.client, id, (const uint8_t *)"hello", 5, true),
			 5);
	for (int k = 0; k < 50 && !w.client_rv; k++)
		step(&w);
	assert_true(w.reset_seen >= 1);
	assert_int_equal(w.client_rv, MPQ_ERR_STATELESS_RESET);
	teardown_world(&w);
}

static void garbage_initials_create_no_connection(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, false);
	mpq_endpoint_del(w.ep);
	w.cfg.max_conns = 4;
	make_endpoint(&w);
	uint8_t buf[1500];
	mpq_path from = w.spath;
	mpq_conn *c;
	for (uint16_t i = 0; i < 1000; i++) {
		addr(&from.remote, 7, (uint16_t)(20000 + i));
		size_t n = noise_initial(buf, rnd, &w);
		assert_int_equal(mpq_endpoint_read(w.ep, &from, NULL, buf, n, w.now, &c), 0);
		assert_null(c);
	}
	/* The client's real Initial with one bit flipped in its payload. */
	mpq_path path;
	int n = mpq_conn_write_pkt(w.client, &path, NULL, buf, sizeof(buf), w.now);
	assert_true(n >= 1200);
	buf[100] ^= 1;
	assert_int_equal(mpq_endpoint_read(w.ep, &w.spath, NULL, buf, (size_t)n, w.now, &c), 0);
	assert_null(c);
	assert_int_equal(mpq_endpoint_conn_count(w.ep), 0);
	assert_int_equal(mpq_endpoint_write_stateless(w.ep, &path, buf, sizeof(buf)), 0);
	/* Every slot is still free: the client gets in (on its retransmission). */
	assert_true(run_until_complete(&w));
	teardown_world(&w);
}

/* A client at 127.0.0.0 + |host|, port |port|, sends its first Initial and is
 * never heard of again. Returns the connection the endpoint made, if any. */
static mpq_conn *silent_client(struct world *w, uint32_t host, uint16_t port)
{
	mpq_path at = w->cpath, from = w->spath;
	addr(&at.local, host, port);
	from.remote = at.local;
	mpq_conn *c = client_on(w, &at, MPQ_VERSION_1, NULL, 0), *s;
	uint8_t buf[1500];
	mpq_path path;
	int n = mpq_conn_write_pkt(c, &path, NULL, buf, sizeof(buf), w->now);
	assert_true(n >= 1200);
	mpq_conn_del(c);
	assert_int_equal(mpq_endpoint_read(w->ep, &from, NULL, buf, (size_t)n, w->now, &s), 0);
	return s;
}

/* Drops what the endpoint queued for the silent clients; returns how many
 * of those were Retries. */
static size_t drain_stateless(struct world *w)
{
	uint8_t buf[1500];
	mpq_path path;
	size_t retries = 0;
	int n;
	while ((n = mpq_endpoint_write_stateless(w->ep, &path, buf, sizeof(buf))) > 0)
		retries += packet_kind(buf, (size_t)n) == MPQ_PKT_RETRY;
	return retries;
}

/* Like run_until_complete, with other connections at the endpoint. */
static bool confirmed_among_others(struct world *w)
{
	for (int i = 0; i < 5000 && !w->client->handshake_confirmed; i++)
		step(w);
	return w->client->handshake_confirmed;
}

/* By default: past 128 half-open connections, new clients are sent a Retry,
 * which a real client answers and one that never listens does not. */
static void busy_endpoint_sends_retry(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, false);
	size_t retries = 0;
	for (uint32_t i = 0; i < 200; i++) {
		silent_client(&w, 0x10000 + i, 40000); /* 200 addresses */
		retries += drain_stateless(&w);
	}
	assert_int_equal(mpq_endpoint_conn_count(w.ep), 128);
	assert_int_equal(retries, 72);
	/* The real client is asked for a Retry too, and gets in. */
	assert_true(confirmed_among_others(&w));
	assert_int_equal(w.retry_seen, 1);
	assert_int_equal(mpq_endpoint_conn_count(w.ep), 129);
	teardown_world(&w);
}

/* The threshold counts handshakes in progress: a completed one leaves it. */
static void retry_threshold_counts_half_open(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, false);
	mpq_endpoint_del(w.ep);
	w.cfg.retry_threshold = 2;
	make_endpoint(&w);
	assert_true(run_until_complete(&w));
	assert_int_equal(w.retry_seen, 0);
	assert_non_null(silent_client(&w, 3, 40000));
	assert_non_null(silent_client(&w, 4, 40000));
	assert_null(silent_client(&w, 5, 40000));
	assert_int_equal(drain_stateless(&w), 1);
	assert_int_equal(mpq_endpoint_conn_count(w.ep), 3);
	teardown_world(&w);
}

/* One address may hold 32 handshakes by default, whatever its ports; other
 * addresses are served as usual, without Retry. */
static void one_address_holds_few_handshakes(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, false);
	for (uint16_t i = 0; i < 300; i++)
		silent_client(&w, 7, (uint16_t)(20000 + i));
	assert_int_equal(mpq_endpoint_conn_count(w.ep), 32);
	assert_int_equal(drain_stateless(&w), 0);
	assert_null(silent_client(&w, 7, 30000));
	/* The real client, at another address, gets in at once. */
	assert_true(confirmed_among_others(&w));
	assert_int_equal(w.retry_seen, 0);
	/* Once the address's connections are gone, it may start again. */
	while (mpq_endpoint_conn_count(w.ep) > 1) {
		mpq_conn *c = mpq_endpoint_conn_at(w.ep, 0);
		if (c->handshake_complete)
			c = mpq_endpoint_conn_at(w.ep, 1);
		mpq_endpoint_remove(w.ep, c);
	}
	assert_non_null(silent_client(&w, 7, 30000));
	teardown_world(&w);
}

/* A qlog trace in memory: what the core hands its write callback. */
struct memtrace {
	char data[1 << 16];
	size_t len;
	int closes;
	mpq_conn *conn; /* the connection qlog_start was called for */
	int starts;
};

static int memtrace_write(void *user_data, const void *data, size_t len)
{
	struct memtrace *m = user_data;
	if (len > sizeof(m->data) - 1 - m->len)
		return MPQ_ERR_NOBUF;
	memcpy(m->data + m->len, data, len);
	m->len += len;
	m->data[m->len] = 0;
	return 0;
}

static int memtrace_close(void *user_data)
{
	((struct memtrace *)user_data)->closes++;
	return 0;
}

static void memtrace_start(mpq_conn *conn, void *user_data)
{
	struct memtrace *m = user_data;
	mpq_qlog_sink sink = {.struct_version = MPQ_QLOG_SINK_VERSION,
			      .write = memtrace_write,
			      .close = memtrace_close,
			      .user_data = m};
	m->conn = conn;
	m->starts++;
	assert_int_equal(mpq_conn_set_qlog(conn, &sink), 0);
}

/* The endpoint opens no file: each server connection's trace goes to the sink
 * its qlog_start hook gives, from before the first packet is read. */
static void qlog_start_gives_each_server_connection_a_trace(void **state)
{
	(void)state;
	static struct memtrace m;
	struct world w;
	memset(&m, 0, sizeof(m));
	setup_world(&w, MPQ_VERSION_1, false);
	mpq_endpoint_del(w.ep);
	w.cfg.qlog_start = memtrace_start;
	w.cfg.qlog_user_data = &m;
	make_endpoint(&w);
	assert_true(run_until_complete(&w));
	assert_int_equal(m.starts, 1);
	assert_ptr_equal(m.conn, mpq_endpoint_conn_at(w.ep, 0));
	/* The header names the server and the client's first DCID. */
	char group[2 * MPQ_MAX_CIDLEN + 32] = "\"group_id\":\"";
	for (size_t i = 0; i < w.client->odcid.len; i++)
		snprintf(group + strlen(group), 3, "%02x", w.client->odcid.data[i]);
	assert_non_null(strstr(m.data, "\"vantage_point\":{\"type\":\"server\"}"));
	assert_non_null(strstr(m.data, group));
	/* The first packet it received is the client's first Initial (packet
	 * number 0), read right after the hook. */
	char *rx = strstr(m.data, "\"name\":\"quic:packet_received\"");
	assert_non_null(rx);
	char *end = strchr(rx, '\x1e');
	assert_non_null(end);
	*end = 0;
	assert_non_null(strstr(rx, "\"packet_type\":\"initial\",\"packet_number\":0,"));
	*end = '\x1e';
	/* A second trace, or a sink without write, is refused and closed. */
	struct memtrace other = {0};
	mpq_qlog_sink again = {.struct_version = MPQ_QLOG_SINK_VERSION,
			       .write = memtrace_write,
			       .close = memtrace_close,
			       .user_data = &other};
	assert_int_equal(mpq_conn_set_qlog(m.conn, &again), MPQ_ERR_INVALID_ARGUMENT);
	again.write = NULL;
	assert_int_equal(mpq_conn_set_qlog(w.client, &again), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(other.closes, 2);
	assert_int_equal(other.len, 0);
	assert_int_equal(m.closes, 0);
	/* The connection closes its sink when it goes. */
	mpq_endpoint_remove(w.ep, m.conn);
	assert_int_equal(m.closes, 1);
	teardown_world(&w);
}

/* The server's stream in the endpoint-budget test: what it wrote, what it wants. */
static struct {
	int64_t id;
	uint64_t written, total;
	size_t most_held; /* the endpoint's send memory at its highest */
	int write_err;
} sender;

static void sender_pump(mpq_endpoint *ep, mpq_conn *c)
{
	static uint8_t buf[65536];
	while (sender.written < sender.total) {
		size_t n = sizeof(buf);
		if (n > sender.total - sender.written)
			n = (size_t)(sender.total - sender.written);
		int64_t took = mpq_conn_stream_write(c, sender.id, buf, n,
						     sender.written + n == sender.total);
		if (mpq_endpoint_send_memory(ep) > sender.most_held)
			sender.most_held = mpq_endpoint_send_memory(ep);
		if (took < 0)
			sender.write_err = (int)took;
		if (took <= 0)
			return;
		sender.written += (uint64_t)took;
	}
}

static int sender_writable(mpq_conn *c, int64_t id, void *ud)
{
	struct world *w = ud;
	if (id == sender.id)
		sender_pump(w->ep, c);
	return 0;
}

/* The endpoint's send_budget holds over its connections' own: a server
 * stream with credit and window to spare takes no more than the endpoint
 * allows, never fails a write for it, and goes on as acknowledgements free
 * memory until all its bytes are out; then the memory is all given back. */
static void endpoint_send_budget_bounds_connections(void **state)
{
	(void)state;
	struct world w;
	setup_world(&w, MPQ_VERSION_1, false);
	mpq_endpoint_del(w.ep);
	w.cfg.send_budget = 3 * 16384;
	w.cfg.callbacks.stream_writable = sender_writable;
	make_endpoint(&w);
	/* A client that grants the server's streams plenty of credit. */
	mpq_conn_del(w.client);
	mpq_settings cs;
	mpq_tparams tp;
	mpq_settings_default(&cs);
	cs.server_name = "localhost";
	mpq_tparams_default(&tp);
	tp.max_idle_timeout = 30000;
	tp.initial_max_streams_bidi = 10;
	tp.initial_max_data = 4 << 20;
	tp.initial_max_stream_data_bidi_remote = 4 << 20;
	tp.initial_max_stream_data_bidi_local = 4 << 20;
	mpq_callbacks cb = {.struct_version = MPQ_CALLBACKS_VERSION, .rand = rnd, .user_data = &w};
	assert_int_equal(mpq_conn_client_new(&w.client, &w.cpath, &cs, &tp, &cb, w.cctx, w.now),
			 0);
	assert_true(run_until_complete(&w));

	memset(&sender, 0, sizeof(sender));
	sender.total = 2 << 20;
	mpq_conn *srv = mpq_endpoint_conn_at(w.ep, 0);
	assert_int_equal(mpq_conn_open_stream(srv, true, &sender.id), 0);
	sender_pump(w.ep, srv);
	assert_int_equal(sender.written, 3 * 16384);
	assert_int_equal(mpq_endpoint_send_memory(w.ep), 3 * 16384);
	for (int i = 0; i < 20000 && sender.written < sender.total; i++)
		step(&w);
	for (int i = 0; i < 200 && mpq_endpoint_send_memory(w.ep); i++)
		step(&w);
	assert_int_equal(sender.write_err, 0);
	assert_int_equal(sender.written, sender.total);
	assert_true(sender.most_held <= 3 * 16384);
	assert_int_equal(mpq_endpoint_send_memory(w.ep), 0);
	assert_int_equal(w.client_rv, 0);
	teardown_world(&w);
}

/* Versioned configuration structs (mpq.h): a struct_version the library does
 * not know is refused before any other field is read, at every entry point
 * that takes one. */
static void unknown_struct_versions_refused(void **state)
{
	(void)state;
	static const uint32_t bad[] = {0, MPQ_SETTINGS_VERSION + 1, UINT32_MAX};
	struct world w;
	mpq_endpoint *ep;
	mpq_conn *c;
	setup_world(&w, MPQ_VERSION_1, false);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mpq_endpoint_config cfg = w.cfg;
		cfg.struct_version = bad[i];
		assert_int_equal(mpq_endpoint_new(&ep, &cfg), MPQ_ERR_INVALID_ARGUMENT);
		cfg = w.cfg;
		cfg.settings.struct_version = bad[i];
		assert_int_equal(mpq_endpoint_new(&ep, &cfg), MPQ_ERR_INVALID_ARGUMENT);
		cfg = w.cfg;
		cfg.tparams.struct_version = bad[i];
		assert_int_equal(mpq_endpoint_new(&ep, &cfg), MPQ_ERR_INVALID_ARGUMENT);
		cfg = w.cfg;
		cfg.callbacks.struct_version = bad[i];
		assert_int_equal(mpq_endpoint_new(&ep, &cfg), MPQ_ERR_INVALID_ARGUMENT);

		mpq_settings s;
		mpq_tparams tp;
		mpq_callbacks cb;
		mpq_settings_default(&s);
		s.server_name = "localhost";
		mpq_tparams_default(&tp);
		mpq_callbacks_default(&cb);
		cb.rand = rnd;
		cb.user_data = &w;
		s.struct_version = bad[i];
		assert_int_equal(mpq_conn_client_new(&c, &w.cpath, &s, &tp, &cb, w.cctx, w.now),
				 MPQ_ERR_INVALID_ARGUMENT);
		/* The server's settings are refused before its packet is looked at. */
		static const uint8_t junk[MPQ_MIN_INITIAL_DATAGRAM];
		assert_int_equal(mpq_conn_server_new(&c, &w.spath, junk, sizeof(junk), &s, &tp,
						     &cb, w.sctx, w.now),
				 MPQ_ERR_INVALID_ARGUMENT);
		s.struct_version = MPQ_SETTINGS_VERSION;
		tp.struct_version = bad[i];
		assert_int_equal(mpq_conn_client_new(&c, &w.cpath, &s, &tp, &cb, w.cctx, w.now),
				 MPQ_ERR_INVALID_ARGUMENT);
		tp.struct_version = MPQ_TPARAMS_VERSION;
		cb.struct_version = bad[i];
		assert_int_equal(mpq_conn_client_new(&c, &w.cpath, &s, &tp, &cb, w.cctx, w.now),
				 MPQ_ERR_INVALID_ARGUMENT);
		cb.struct_version = MPQ_CALLBACKS_VERSION;
		assert_int_equal(mpq_conn_client_new(&c, &w.cpath, &s, &tp, &cb, w.cctx, w.now),
				 0);
		mpq_conn_del(c);

		mpq_tls_config tc;
		char err[64] = "";
		int rv = 0;
		mpq_tls_config_default(&tc);
		tc.alpn = "hq-interop";
		tc.insecure = true;
		tc.struct_version = bad[i];
		assert_null(mpq_tls_context_new(&tc, &rv, err, sizeof(err)));
		assert_int_equal(rv, MPQ_ERR_INVALID_ARGUMENT);
		assert_non_null(strstr(err, "version"));

		/* A sink of an unknown layout is not even closed. */
		struct memtrace m = {0};
		mpq_qlog_sink sink = {.struct_version = bad[i],
				      .write = memtrace_write,
				      .close = memtrace_close,
				      .user_data = &m};
		assert_int_equal(mpq_conn_set_qlog(w.client, &sink), MPQ_ERR_INVALID_ARGUMENT);
		assert_int_equal(m.closes, 0);
	}
	teardown_world(&w);
}

/* Overwrites a caller's string and frees it, as a caller may once the call
 * that took it has returned. */
static void scribble_free(char *s)
{
	memset(s, 'x', strlen(s));
	free(s);
}

/* Strings given at creation are not kept: the caller overwrites and frees
 * them right after each call, and the endpoint's connections still use the
 * congestion controller and schedulers it named, both sides the ALPN they
 * were given, the client its server name. */
static void caller_strings_not_kept(void **state)
{
	(void)state;
	struct world w;
	char err[256];
	int rv;
	setup_world(&w, MPQ_VERSION_1, false);
	mpq_conn_del(w.client);
	mpq_endpoint_del(w.ep);
	mpq_tls_context_free(w.cctx);
	mpq_tls_context_free(w.sctx);

	mpq_tls_config sc, cc;
	mpq_tls_config_default(&sc);
	sc.is_server = true;
	sc.alpn = strdup("h3,hq-interop");
	sc.cert_file = w.certs.cert_file;
	sc.key_file = w.certs.key_file;
	mpq_tls_config_default(&cc);
	cc.alpn = strdup("hq-interop");
	cc.ca_file = w.certs.ca_file;
	w.sctx = mpq_tls_context_new(&sc, &rv, err, sizeof(err));
	w.cctx = mpq_tls_context_new(&cc, &rv, err, sizeof(err));
	scribble_free((char *)sc.alpn);
	scribble_free((char *)cc.alpn);
	assert_non_null(w.sctx);
	assert_non_null(w.cctx);

	w.cfg.tls = w.sctx;
	w.cfg.settings.cc = strdup("newreno");
	w.cfg.settings.stream_sched = strdup("prio");
	w.cfg.settings.path_sched = strdup("rr");
	make_endpoint(&w);
	scribble_free((char *)w.cfg.settings.cc);
	scribble_free((char *)w.cfg.settings.stream_sched);
	scribble_free((char *)w.cfg.settings.path_sched);

	mpq_settings s;
	mpq_tparams tp;
	mpq_callbacks cb;
	mpq_settings_default(&s);
	s.server_name = strdup("localhost");
	mpq_tparams_default(&tp);
	tp.max_idle_timeout = 30000;
	mpq_callbacks_default(&cb);
	cb.rand = rnd;
	cb.user_data = &w;
	assert_int_equal(mpq_conn_client_new(&w.client, &w.cpath, &s, &tp, &cb, w.cctx, w.now), 0);
	scribble_free((char *)s.server_name);

	assert_true(run_until_complete(&w));
	mpq_conn *srv = mpq_endpoint_conn_at(w.ep, 0);
	assert_string_equal(srv->paths[0]->cc.cc.ops->name, "newreno");
	assert_string_equal(srv->sched.ops->name, "prio");
	assert_string_equal(srv->psched.ops->name, "rr");
	size_t len;
	const uint8_t *alpn = mpq_conn_alpn(w.client, &len);
	assert_non_null(alpn);
	assert_int_equal(len, strlen("hq-interop"));
	assert_memory_equal(alpn, "hq-interop", len);
	alpn = mpq_conn_alpn(srv, &len);
	assert_non_null(alpn);
	assert_memory_equal(alpn, "hq-interop", len);
	teardown_world(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(routes_and_accepts),
		cmocka_unit_test(retry_validates_address),
		cmocka_unit_test(retry_token_bound_to_address),
		cmocka_unit_test(version_negotiation_restarts_client),
		cmocka_unit_test(version_negotiation_without_common_version),
		cmocka_unit_test(unknown_version_gets_version_negotiation),
		cmocka_unit_test(stateless_reset_after_server_restart),
		cmocka_unit_test(new_token_skips_retry),
		cmocka_unit_test(new_cids_are_routed_and_retired),
		cmocka_unit_test(connections_come_and_go),
		cmocka_unit_test(garbage_initials_create_no_connection),
		cmocka_unit_test(busy_endpoint_sends_retry),
		cmocka_unit_test(retry_threshold_counts_half_open),
		cmocka_unit_test(one_address_holds_few_handshakes),
		cmocka_unit_test(qlog_start_gives_each_server_connection_a_trace),
		cmocka_unit_test(endpoint_send_budget_bounds_connections),
		cmocka_unit_test(unknown_struct_versions_refused),
		cmocka_unit_test(caller_strings_not_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
