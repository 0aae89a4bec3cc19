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

/* Where path |id| is or would go in |c|'s paths (sorted by ID). */
static size_t path_slot(const struct trace_conn *c, uint64_t id)
{
	size_t lo = 0, hi = c->npaths;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->paths[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct trace_path *trace_path_find(const struct trace_conn *c, uint64_t id)
{
	size_t i = path_slot(c, id);

	return i < c->npaths && c->paths[i]->id == id ? c->paths[i] : NULL;
}

struct trace_path *trace_path_get(struct trace_conn *c, uint32_t id)
{
	size_t i = path_slot(c, id);
	struct trace_path *p;

	if (i < c->npaths && c->paths[i]->id == id)
		return c->paths[i];
	if (c->npaths >= TRACE_MAX_PATHS)
		return NULL;
	if (c->npaths == c->paths_cap) {
		size_t cap = c->paths_cap ? c->paths_cap * 2 : 4;
		struct trace_path **n = realloc(c->paths, cap * sizeof(*n));

		if (!n)
			return NULL;
		c->paths = n;
		c->paths_cap = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->id = id;
	p->largest_pn[0] = p->largest_pn[1] = -1;
	memmove(&c->paths[i + 1], &c->paths[i], (c->npaths - i) * sizeof(*c->paths));
	c->paths[i] = p;
	c->npaths++;
	return p;
}

struct trace_conn *trace_conn_new(struct trace *t, const mpq_dissect_hdr *hd, uint64_t ts)
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
	if (mpq_dissect_keys_new(&c->keys, hd->version, &hd->dcid))
		c->keys = NULL; /* its packets are counted as keys missing */
	if (trace_cid_add(t, c, &hd->dcid, TO_SERVER, 0) ||
	    trace_cid_add(t, c, &hd->scid, TO_CLIENT, 0)) {
		mpq_dissect_keys_free(c->keys);
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
	c->initial_dcid = *new_dcid;
	if (c->keys)
		mpq_dissect_keys_retry(c->keys, new_dcid);
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

		for (size_t p = 0; p < c->npaths; p++) {
			const struct trace_path *path = c->paths[p];

			if (!path->seen)
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

mpq_dissect_keys *trace_keys(struct trace *t, struct trace_conn *c, int type, int dir)
{
	if (!c->keys)
		return NULL;
	/* The ServerHello's suite, for the secrets installed after it; until
	 * then the secret's length tells. */
	if (!c->cipher_known && c->tls.cipher_suite)
		c->cipher_known =
			mpq_dissect_keys_set_cipher_suite(c->keys, c->tls.cipher_suite) == 0;
	if (!mpq_dissect_keys_have(c->keys, type, dir) && c->tls.have_random && t->keys)
		mpq_dissect_keys_from_keylog(c->keys, t->keys, c->tls.random);
	return mpq_dissect_keys_have(c->keys, type, dir) ? c->keys : NULL;
}
