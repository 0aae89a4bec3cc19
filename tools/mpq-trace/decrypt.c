/*
 * From UDP datagrams to decrypted QUIC packets, with the library's header
 * decoding, header protection and AEAD (mpq/dissect.h): coalesced packets walked by their
 * Length fields; the connection found by DCID (or by address for empty
 * CIDs); the keys of the packet's level, direction and, for 1-RTT, key phase
 * generation on its path; the packet number decoded in the space of its path
 * ID; GSO super-datagrams split by trying segment sizes until the first
 * packet's AEAD tag verifies.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

const char *const trace_drop_names[DROP_NREASONS] = {
	[DROP_UNKNOWN_CONNECTION] = "unknown_connection",
	[DROP_KEYS_MISSING] = "keys_missing",
	[DROP_DECRYPTION_FAILED] = "decryption_failed",
	[DROP_MALFORMED] = "malformed",
	[DROP_PATH_LIMIT] = "path_limit",
};

/* One datagram being walked. */
struct dgram {
	uint64_t ts;
	const mpq_addr *src, *dst;
	const uint8_t *data;
	size_t len;
	bool may_split; /* a GSO super-datagram may still be split */
};

/* A packet opened into |work|. */
struct opened {
	mpq_dissect_hdr hd;
	const uint8_t *payload;
	size_t payloadlen;
	int gen;
};

static uint8_t work[65536 + 64];

static uint16_t port_of(const mpq_addr *ss)
{
	return ntohs(((const struct sockaddr_in *)&ss->ss)->sin_port);
}

static mpq_dissect_frame frames[TRACE_MAX_FRAMES];

/* Counts a packet and hands it to the consumer; |o| NULL with |drop| -1 is
 * a packet without protection (Retry, Version Negotiation). */
static void emit(struct trace *t, struct trace_conn *c, const struct dgram *d, int dir,
		 uint32_t path_id, const mpq_dissect_hdr *hd, const struct opened *o,
		 size_t nframes, int drop)
{
	struct trace_pkt p = {
		.conn = c,
		.dir = dir,
		.path_id = path_id,
		.ts = d->ts,
		.src = d->src,
		.dst = d->dst,
		.hd = hd,
		.payload = o ? o->payload : NULL,
		.payloadlen = o ? o->payloadlen : 0,
		.frames = frames,
		.nframes = nframes,
		.drop = drop,
	};

	t->packets++;
	if (c)
		c->packets++;
	if (o || drop < 0) {
		t->decrypted++;
		if (c)
			c->decrypted++;
	} else {
		t->dropped[drop]++;
	}
	if (t->on_packet)
		t->on_packet(t->user, &p);
}

static int64_t *largest_of(struct trace_conn *c, struct trace_path *path, int type, int dir)
{
	switch (type) {
	case MPQ_PKT_INITIAL:
		return &c->largest_initial[dir];
	case MPQ_PKT_HANDSHAKE:
		return &c->largest_handshake[dir];
	case MPQ_PKT_0RTT:
		return &c->largest_early;
	}
	return &path->largest_pn[dir];
}

/* Opens a copy of the packet at |pkt| of |pktlen| bytes (a GSO segment may
 * be shorter than the header says) into |work|; 1-RTT packets with the key
 * generation the key phase names on this path. Returns 0 or DROP_*. */
static int open_pkt(struct trace *t, struct trace_conn *c, struct trace_path *path,
		    const uint8_t *pkt, size_t pktlen, const mpq_dissect_hdr *hd, int dir,
		    uint32_t path_id, struct opened *o)
{
	mpq_dissect_keys *k = trace_keys(t, c, hd->type, dir);
	int rv;

	if (!k)
		return DROP_KEYS_MISSING;
	o->hd = *hd;
	o->hd.pktlen = pktlen;
	o->gen = hd->type == MPQ_PKT_1RTT ? path->gen[dir] : 0;
	rv = mpq_dissect_open(k, pkt, &o->hd, work, sizeof(work), dir, path_id,
			      *largest_of(c, path, hd->type, dir), &o->gen, &o->payload,
			      &o->payloadlen);
	switch (rv) {
	case 0:
		return 0;
	case MPQ_ERR_NOT_FOUND:
		return DROP_KEYS_MISSING;
	case MPQ_ERR_DECRYPT:
		return DROP_DECRYPTION_FAILED;
	}
	return DROP_MALFORMED;
}

static bool plausible_start(const struct trace *t, const struct trace_conn *c, const uint8_t *p,
			    size_t left)
{
	const struct trace_cid *e;

	if (left < 1 || !(p[0] & 0x40))
		return false;
	if (p[0] & 0x80)
		return true;
	e = trace_cid_find(t, p + 1, left - 1, -1);
	return e && e->conn == c;
}

/* The GSO segment size that opens the short header packet at |off|, or 0:
 * every segment but the last is that long, so each boundary must look like
 * the start of a packet of the same connection. */
static bool segment_opens(struct trace *t, struct trace_conn *c, struct trace_path *path,
			  const struct dgram *d, size_t off, size_t s, const mpq_dissect_hdr *hd,
			  int dir, uint32_t path_id, struct opened *o)
{
	size_t k;

	if (s <= off + 20 || s >= d->len)
		return false;
	for (k = s; k < d->len; k += s)
		if (!plausible_start(t, c, d->data + k, d->len - k))
			return false;
	return !open_pkt(t, c, path, d->data + off, s - off, hd, dir, path_id, o);
}

static size_t find_segment(struct trace *t, struct trace_conn *c, struct trace_path *path,
			   const struct dgram *d, size_t off, const mpq_dissect_hdr *hd, int dir,
			   uint32_t path_id, struct opened *o)
{
	size_t cached = c->seg_size[dir];

	if (cached && segment_opens(t, c, path, d, off, cached, hd, dir, path_id, o))
		return cached;
	for (size_t s = off + 21; s < d->len; s++) {
		if (s != cached && segment_opens(t, c, path, d, off, s, hd, dir, path_id, o)) {
			c->seg_size[dir] = (uint32_t)s;
			return s;
		}
	}
	return 0;
}

static void walk(struct trace *t, const struct dgram *d);

/* Counts a decrypted packet on its path and applies its frames. */
static void accepted(struct trace *t, struct trace_conn *c, struct trace_path *path,
		     const struct dgram *d, int dir, uint32_t path_id, struct opened *o)
{
	int64_t *largest = largest_of(c, path, o->hd.type, dir);
	int level = o->hd.type == MPQ_PKT_INITIAL     ? LVL_INITIAL
		    : o->hd.type == MPQ_PKT_HANDSHAKE ? LVL_HANDSHAKE
						      : LVL_APP;
	struct trace_pkt p = {
		.conn = c,
		.dir = dir,
		.path_id = path_id,
		.ts = d->ts,
		.src = d->src,
		.dst = d->dst,
		.hd = &o->hd,
		.payload = o->payload,
		.payloadlen = o->payloadlen,
	};

	if ((int64_t)o->hd.pn > *largest)
		*largest = (int64_t)o->hd.pn;
	if (o->hd.type == MPQ_PKT_1RTT && o->gen > path->gen[dir])
		path->gen[dir] = o->gen;
	if (!path->seen) {
		path->seen = true;
		path->opened_ts = d->ts;
		path->client = *(dir == TO_SERVER ? d->src : d->dst);
		path->server = *(dir == TO_SERVER ? d->dst : d->src);
	}
	path->packets[dir]++;
	path->bytes[dir] += o->hd.pktlen;
	if (t->series)
		trace_series_add(path, d->ts > c->first_ts ? d->ts - c->first_ts : 0, dir,
				 o->hd.pktlen);
	size_t nframes;

	if (trace_frames(t, c, &p, level, frames, &nframes)) {
		emit(t, c, d, dir, path_id, &o->hd, NULL, 0, DROP_MALFORMED);
		return;
	}
	emit(t, c, d, dir, path_id, &o->hd, o, nframes, 0);
}

/* Unprotected packets: Version Negotiation, and Retry (verified against the
 * connection's original DCID, whose new DCID then keys the Initials). */
static void unprotected(struct trace *t, struct trace_conn *c, const struct dgram *d,
			const uint8_t *pkt, const mpq_dissect_hdr *hd, int dir)
{
	if (hd->type == MPQ_PKT_RETRY && c) {
		if (!mpq_dissect_retry_valid(hd->version, &c->odcid, pkt, hd->pktlen)) {
			emit(t, c, d, dir, 0, hd, NULL, 0, DROP_DECRYPTION_FAILED);
			return;
		}
		trace_cid_add(t, c, &hd->scid, TO_SERVER, 0);
		trace_conn_retry(c, &hd->scid);
	}
	emit(t, c, d, dir, 0, hd, NULL, 0, -1);
}

/* One packet at |off|; returns the bytes it took (the rest of the datagram
 * when nothing after it can be read). */
static size_t packet(struct trace *t, const struct dgram *d, size_t off)
{
	const uint8_t *pkt = d->data + off;
	size_t left = d->len - off;
	const struct trace_cid *e = NULL;
	struct trace_conn *c = NULL;
	struct trace_path *path;
	uint32_t path_id = 0;
	struct opened o;
	mpq_dissect_hdr hd;
	int dir = TO_SERVER, rv;

	if (pkt[0] & 0x80) {
		rv = mpq_dissect_hdr_parse(&hd, pkt, left, 0);
		if (rv) {
			memset(&hd, 0, sizeof(hd));
			emit(t, NULL, d, dir, 0, &hd, NULL, 0, DROP_MALFORMED);
			return left;
		}
		e = trace_cid_find(t, hd.dcid.data, hd.dcid.len, hd.dcid.len);
		if (!e && hd.type == MPQ_PKT_INITIAL)
			c = trace_conn_new(t, &hd, d->ts);
	} else {
		e = trace_cid_find(t, pkt + 1, left - 1, -1);
		memset(&hd, 0, sizeof(hd));
		rv = mpq_dissect_hdr_parse(&hd, pkt, left, e ? e->cid.len : 0);
		if (rv) {
			emit(t, e ? e->conn : NULL, d, dir, 0, &hd, NULL, 0, DROP_MALFORMED);
			return left;
		}
	}
	if (e) {
		c = e->conn;
		dir = e->dir;
		path_id = e->path_id;
	} else if (!c) {
		c = trace_conn_by_tuple(t, d->src, d->dst, &dir);
	}
	if (!c) {
		emit(t, NULL, d, dir, 0, &hd, NULL, 0, DROP_UNKNOWN_CONNECTION);
		return hd.pktlen ? hd.pktlen : left;
	}
	if (hd.type == MPQ_PKT_VERSION_NEGOTIATION || hd.type == MPQ_PKT_RETRY) {
		unprotected(t, c, d, pkt, &hd, dir);
		return hd.pktlen;
	}
	if (hd.type != MPQ_PKT_1RTT) {
		path_id = 0;
		if (dir == TO_CLIENT)
			trace_cid_add(t, c, &hd.scid, TO_SERVER, 0);
	}
	path = trace_path_get(c, path_id);
	if (!path) {
		emit(t, c, d, dir, path_id, &hd, NULL, 0,
		     c->npaths >= TRACE_MAX_PATHS ? DROP_PATH_LIMIT : DROP_MALFORMED);
		return hd.pktlen;
	}
	rv = open_pkt(t, c, path, pkt, hd.pktlen, &hd, dir, path_id, &o);
	if (rv == DROP_DECRYPTION_FAILED && hd.type == MPQ_PKT_1RTT && d->may_split) {
		size_t s = find_segment(t, c, path, d, off, &hd, dir, path_id, &o);

		if (s) {
			accepted(t, c, path, d, dir, path_id, &o);
			for (size_t seg = s; seg < d->len; seg += s) {
				struct dgram sub = *d;

				sub.data = d->data + seg;
				sub.len = d->len - seg < s ? d->len - seg : s;
				sub.may_split = false;
				walk(t, &sub);
			}
			return left;
		}
	}
	if (rv) {
		emit(t, c, d, dir, path_id, &hd, NULL, 0, rv);
		return hd.pktlen;
	}
	accepted(t, c, path, d, dir, path_id, &o);
	return hd.pktlen;
}

static void walk(struct trace *t, const struct dgram *d)
{
	size_t off = 0;

	if (d->len < 1 || !(d->data[0] & 0x40 || d->data[0] & 0x80)) {
		t->not_quic++;
		return;
	}
	while (off < d->len) {
		/* A datagram ends at padding or bytes that are no packet. */
		if (off && !(d->data[off] & 0x40))
			break;
		off += packet(t, d, off);
	}
}

void trace_datagram(struct trace *t, uint64_t ts, const mpq_addr *src, const mpq_addr *dst,
		    const uint8_t *data, size_t len)
{
	struct dgram d = {ts, src, dst, data, len, true};

	if (t->port && port_of(src) != t->port && port_of(dst) != t->port)
		return;
	if (len > sizeof(work) - 64)
		len = d.len = sizeof(work) - 64;
	t->datagrams++;
	walk(t, &d);
}

int trace_keys_add(struct trace *t, const char *text, size_t len)
{
	if (!t->keys && mpq_keylog_new(&t->keys))
		return MPQ_ERR_NOMEM;
	return mpq_keylog_add(t->keys, text, len);
}

void trace_free(struct trace *t)
{
	for (size_t i = 0; i < t->nconns; i++) {
		struct trace_conn *c = t->conns[i];

		mpq_dissect_keys_free(c->keys);
		for (size_t p = 0; p < c->npaths; p++) {
			trace_series_free(c->paths[p]);
			free(c->paths[p]);
		}
		free(c->paths);
		free(c->streams);
		mpq_dissect_h3_free(c->h3);
		free(c);
	}
	free(t->conns);
	free(t->cids);
	mpq_keylog_free(t->keys);
}
