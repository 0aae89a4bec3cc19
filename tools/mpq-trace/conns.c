/*
 * Connections of a capture: created by a client Initial with a new DCID,
 * found again by any CID either side uses (the table grows as NEW_CONNECTION_ID
 * and PATH_NEW_CONNECTION_ID frames and Retry packets are read), and their
 * keys: Initial keys from the client's first DCID, the others from the key
 * log lines of the ClientHello's random.
 */
#include <stdlib.h>
#include <string.h>

#include "mpq/io/netaddr.h"
#include "trace.h"

struct trace_path *trace_path_get(struct trace_conn *c, uint32_t id)
{
	struct trace_path *p;

	if (id >= TRACE_MAX_PATHS)
		return NULL;
	if (c->paths[id])
		return c->paths[id];
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->largest_pn[0] = p->largest_pn[1] = -1;
	c->paths[id] = p;
	return p;
}

struct trace_conn *trace_conn_new(struct trace *t, const mpq_pkt_hd *hd, uint64_t ts)
{
	struct trace_conn *c;

	if (t->nconns == t->conns_cap) {
		size_t cap = t->conns_cap ? t->conns_cap * 2 : 8;
		struct trace_conn **n = realloc(t->conns, cap * sizeof(*n));

		if (!n)
			return NULL;
		t->conns = n;
		t->conns_cap = cap;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->odcid = c->initial_dcid = hd->dcid;
	c->version = hd->version;
	c->first_ts = ts;
	c->largest_initial[0] = c->largest_initial[1] = -1;
	c->largest_handshake[0] = c->largest_handshake[1] = -1;
	c->largest_early = -1;
	if (mpq_crypto_initial_keys(hd->version, &hd->dcid, &c->initial[TO_SERVER],
				    &c->initial[TO_CLIENT]) == 0)
		c->have_initial = true;
	if (trace_cid_add(t, c, &hd->dcid, TO_SERVER, 0) ||
	    trace_cid_add(t, c, &hd->scid, TO_CLIENT, 0)) {
		free(c);
		return NULL;
	}
	t->conns[t->nconns++] = c;
	if (t->on_conn_new)
		t->on_conn_new(t->user, c);
	return c;
}

void trace_conn_retry(struct trace_conn *c, const mpq_cid *new_dcid)
{
	mpq_crypto_keys_free(&c->initial[0]);
	mpq_crypto_keys_free(&c->initial[1]);
	c->initial_dcid = *new_dcid;
	c->have_initial = mpq_crypto_initial_keys(c->version, new_dcid, &c->initial[TO_SERVER],
						  &c->initial[TO_CLIENT]) == 0;
	c->largest_initial[0] = c->largest_initial[1] = -1;
	/* The client may start its handshake over (picoquic does, with a new
	 * random): the key log lines are those of the ClientHello after Retry. */
	c->crypto[TO_SERVER][LVL_INITIAL].filled = c->crypto[TO_SERVER][LVL_INITIAL].parsed = 0;
	c->tls.have_random = false;
}

int trace_cid_add(struct trace *t, struct trace_conn *c, const mpq_cid *cid, int dir,
		  uint32_t path_id)
{
	if (!cid->len)
		return 0; /* zero-length CIDs are found by address */
	for (size_t i = 0; i < t->ncids; i++) {
		struct trace_cid *e = &t->cids[i];

		if (e->cid.len == cid->len && !memcmp(e->cid.data, cid->data, cid->len)) {
			e->conn = c; /* the newest use wins */
			e->dir = dir;
			e->path_id = path_id;
			return 0;
		}
	}
	if (t->ncids == t->cids_cap) {
		size_t cap = t->cids_cap ? t->cids_cap * 2 : 64;
		struct trace_cid *n = realloc(t->cids, cap * sizeof(*n));

		if (!n)
			return MPQ_ERR_NOMEM;
		t->cids = n;
		t->cids_cap = cap;
	}
	t->cids[t->ncids++] = (struct trace_cid){*cid, c, dir, path_id};
	return 0;
}

const struct trace_cid *trace_cid_find(const struct trace *t, const uint8_t *dcid, size_t avail,
				       int exact_len)
{
	const struct trace_cid *best = NULL;

	for (size_t i = 0; i < t->ncids; i++) {
		const struct trace_cid *e = &t->cids[i];

		if (exact_len >= 0 && e->cid.len != exact_len)
			continue;
		if (e->cid.len > avail || memcmp(e->cid.data, dcid, e->cid.len))
			continue;
		if (!best || e->cid.len > best->cid.len)
			best = e;
	}
	return best;
}

struct trace_conn *trace_conn_by_tuple(const struct trace *t, const mpq_addr *src,
				       const mpq_addr *dst, int *dir)
{
	for (size_t i = t->nconns; i-- > 0;) {
		struct trace_conn *c = t->conns[i];

		for (int p = 0; p < TRACE_MAX_PATHS; p++) {
			const struct trace_path *path = c->paths[p];

			if (!path || !path->seen)
				continue;
			if (mpq_addr_equal(src, &path->client) &&
			    mpq_addr_equal(dst, &path->server)) {
				*dir = TO_SERVER;
				return c;
			}
			if (mpq_addr_equal(src, &path->server) &&
			    mpq_addr_equal(dst, &path->client)) {
				*dir = TO_CLIENT;
				return c;
			}
		}
	}
	return NULL;
}

/* The cipher of the connection: the ServerHello's suite, or from the secret
 * length while no ServerHello was seen. */
static int conn_cipher(const struct trace_conn *c, size_t secretlen)
{
	int cipher = c->tls.cipher_suite ? mpq_crypto_cipher_from_tls(c->tls.cipher_suite) : 0;

	if (cipher > 0)
		return cipher;
	return secretlen == 48 ? MPQ_CIPHER_AES_256_GCM : MPQ_CIPHER_AES_128_GCM;
}

static bool derive(struct trace *t, struct trace_conn *c, enum trace_secret which,
		   mpq_crypto_keys *k)
{
	const uint8_t *secret;
	size_t len;

	if (!c->tls.have_random)
		return false;
	secret = trace_keylog_find(&t->keys, c->tls.random, which, &len);
	if (!secret)
		return false;
	return mpq_crypto_keys_init(k, conn_cipher(c, len), c->version, secret, len) == 0;
}

mpq_crypto_keys *trace_keys(struct trace *t, struct trace_conn *c, int type, int dir)
{
	switch (type) {
	case MPQ_PKT_INITIAL:
		return c->have_initial ? &c->initial[dir] : NULL;
	case MPQ_PKT_HANDSHAKE:
		if (!c->have_handshake[dir])
			c->have_handshake[dir] = derive(t, c,
							dir == TO_SERVER ? TRACE_CLIENT_HANDSHAKE
									 : TRACE_SERVER_HANDSHAKE,
							&c->handshake[dir]);
		return c->have_handshake[dir] ? &c->handshake[dir] : NULL;
	case MPQ_PKT_0RTT:
		if (!c->have_early)
			c->have_early = derive(t, c, TRACE_CLIENT_EARLY, &c->early);
		return c->have_early ? &c->early : NULL;
	case MPQ_PKT_1RTT:
		return trace_app_keys(t, c, dir, 0);
	}
	return NULL;
}

mpq_crypto_keys *trace_app_keys(struct trace *t, struct trace_conn *c, int dir, int gen)
{
	if (gen < 0 || gen >= TRACE_MAX_GEN)
		return NULL;
	if (!c->ngen[dir]) {
		if (!derive(t, c,
			    dir == TO_SERVER ? TRACE_CLIENT_TRAFFIC_0 : TRACE_SERVER_TRAFFIC_0,
			    &c->app[dir][0]))
			return NULL;
		c->ngen[dir] = 1;
	}
	while (c->ngen[dir] <= gen) {
		int g = c->ngen[dir];

		if (mpq_crypto_keys_update(&c->app[dir][g], &c->app[dir][g - 1]))
			return NULL;
		c->ngen[dir]++;
	}
	return &c->app[dir][gen];
}
