/*
 * The endpoint: routes datagrams to connections by destination CID, accepts
 * new client Initials, and answers on its own with Version Negotiation, Retry
 * (address validation with tokens) and stateless resets. See endpoint.h.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/endpoint.h"
#include "quic/cid.h"
#include "quic/conn.h"
#include "quic/crypto.h"
#include "quic/halfopen.h"
#include "quic/packet.h"
#include "quic/tls.h"

#define DEFAULT_MAX_CONNS 1024
#define DEFAULT_TOKEN_LIFETIME (10 * MPQ_SEC)
#define DEFAULT_RETRY_THRESHOLD 128
#define DEFAULT_HALF_OPEN_PER_ADDR 32
#define DEFAULT_SEND_BUDGET (256 * 1024 * 1024)
#define STATELESS_QUEUE 16
#define STATELESS_MAX 1200
#define TOKEN_RETRY 0x52 /* 'R': from a Retry, carries the original DCID */
#define TOKEN_NEW 0x4e	 /* 'N': from NEW_TOKEN, for a later connection */
#define NEW_TOKEN_LIFETIME (24ULL * 3600 * MPQ_SEC)

/* A CID → connection entry; the table is open-addressed with linear probing. */
struct cid_slot {
	mpq_cid cid;
	mpq_conn *conn; /* NULL: empty; TOMBSTONE: removed */
	uint32_t next;	/* the connection's next CID slot, or NO_SLOT */
};

#define NO_SLOT UINT32_MAX

static mpq_conn *const TOMBSTONE = (mpq_conn *)&TOMBSTONE;

struct stateless {
	mpq_path path;
	size_t len;
	uint8_t data[STATELESS_MAX];
};

struct mpq_endpoint {
	mpq_endpoint_config cfg;
	mpq_conn **conns;
	size_t nconns, capconns;
	struct cid_slot *slots;
	size_t nslots, used;
	mpq_halfopen half; /* connections still in their handshake */
	struct stateless queue[STATELESS_QUEUE];
	size_t qhead, qlen;
	mpq_crypto_keys token_keys;
	uint64_t token_seq;
	uint8_t *scratch; /* a copy of a new client's Initial, opened to check it */
	size_t scratchcap;
	mpq_mem_budget send_mem; /* every connection's send buffers */
};

MPQ_EXPORT void mpq_endpoint_config_default(mpq_endpoint_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->struct_version = MPQ_ENDPOINT_CONFIG_VERSION;
	mpq_settings_default(&cfg->settings);
	mpq_tparams_default(&cfg->tparams);
	mpq_callbacks_default(&cfg->callbacks);
	cfg->versions[0] = MPQ_VERSION_1;
	cfg->versions[1] = MPQ_VERSION_2;
	cfg->nversions = 2;
	cfg->token_lifetime = DEFAULT_TOKEN_LIFETIME;
	cfg->max_conns = DEFAULT_MAX_CONNS;
	cfg->retry_threshold = DEFAULT_RETRY_THRESHOLD;
	cfg->max_half_open_per_addr = DEFAULT_HALF_OPEN_PER_ADDR;
	cfg->send_budget = DEFAULT_SEND_BUDGET;
}

/* FNV-1a keyed with the secret, so a peer cannot aim CIDs at one bucket. */
static size_t cid_hash(const mpq_endpoint *ep, const mpq_cid *cid)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < 8; i++)
		h = (h ^ ep->cfg.secret[i]) * 1099511628211ULL;
	for (size_t i = 0; i < cid->len; i++)
		h = (h ^ cid->data[i]) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29)) & (ep->nslots - 1);
}

static struct cid_slot *cid_lookup(const mpq_endpoint *ep, const mpq_cid *cid)
{
	for (size_t i = cid_hash(ep, cid), n = 0; n < ep->nslots;
	     n++, i = (i + 1) & (ep->nslots - 1)) {
		struct cid_slot *s = &ep->slots[i];
		if (!s->conn)
			return NULL;
		if (s->conn != TOMBSTONE && mpq_cid_eq(&s->cid, cid))
			return s;
	}
	return NULL;
}

static int cid_insert(mpq_endpoint *ep, const mpq_cid *cid, mpq_conn *conn)
{
	if (cid->len == 0 || cid_lookup(ep, cid))
		return 0;
	if ((ep->used + 1) * 2 > ep->nslots)
		return MPQ_ERR_NOBUF; /* sized from max_conns: only a full endpoint gets here */
	for (size_t i = cid_hash(ep, cid);; i = (i + 1) & (ep->nslots - 1)) {
		struct cid_slot *s = &ep->slots[i];
		if (!s->conn || s->conn == TOMBSTONE) {
			s->cid = *cid;
			s->conn = conn;
			s->next = conn->ep_cids;
			conn->ep_cids = (uint32_t)i;
			ep->used++;
			return 0;
		}
	}
}

/* Empties slot |i|. Tombstones keep probe sequences going past a removed
 * CID; one followed by an empty slot ends no sequence, so it and the
 * tombstones before it become empty again: lookups of unknown CIDs (every
 * new client's Initial) stay short however many connections came and went. */
static void slot_clear(mpq_endpoint *ep, size_t i)
{
	size_t mask = ep->nslots - 1;
	ep->slots[i].conn = TOMBSTONE;
	ep->used--;
	while (ep->slots[i].conn == TOMBSTONE && !ep->slots[(i + 1) & mask].conn) {
		ep->slots[i].conn = NULL;
		i = (i - 1) & mask;
	}
}

/* Removes one CID of |conn|, unlinking its slot from the connection's list. */
static void cid_remove(mpq_endpoint *ep, mpq_conn *conn, struct cid_slot *s)
{
	uint32_t idx = (uint32_t)(s - ep->slots);
	for (uint32_t *p = &conn->ep_cids; *p != NO_SLOT; p = &ep->slots[*p].next) {
		if (*p == idx) {
			*p = s->next;
			slot_clear(ep, idx);
			return;
		}
	}
}

/* Removes every CID of |conn|: its own list, not a scan of the table. */
static void cid_remove_conn(mpq_endpoint *ep, mpq_conn *conn)
{
	for (uint32_t i = conn->ep_cids; i != NO_SLOT;) {
		uint32_t next = ep->slots[i].next;
		slot_clear(ep, i);
		i = next;
	}
	conn->ep_cids = NO_SLOT;
}

MPQ_EXPORT int mpq_endpoint_new(mpq_endpoint **out, const mpq_endpoint_config *cfg)
{
	if (!cfg || cfg->struct_version != MPQ_ENDPOINT_CONFIG_V1 ||
	    mpq_settings_check(&cfg->settings, &cfg->tparams, &cfg->callbacks) != 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (!cfg->tls || !cfg->callbacks.rand || cfg->nversions == 0 || cfg->nversions > 4)
		return MPQ_ERR_INVALID_ARGUMENT;
	/* Every server connection is made from this copy, long after the call:
	 * it keeps no pointer into the caller's memory (names are the
	 * library's, the reset secret ours, the client-only fields unused). */
	mpq_settings own = cfg->settings;
	if (mpq_settings_own_names(&own) != 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	own.token = NULL;
	own.tokenlen = 0;
	own.server_name = NULL;
	mpq_endpoint *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return MPQ_ERR_NOMEM;
	ep->cfg = *cfg;
	ep->cfg.settings = own;
	if (!ep->cfg.max_conns)
		ep->cfg.max_conns = DEFAULT_MAX_CONNS;
	if (!ep->cfg.token_lifetime)
		ep->cfg.token_lifetime = DEFAULT_TOKEN_LIFETIME;
	if (!ep->cfg.retry_threshold)
		ep->cfg.retry_threshold = DEFAULT_RETRY_THRESHOLD;
	if (!ep->cfg.max_half_open_per_addr)
		ep->cfg.max_half_open_per_addr = DEFAULT_HALF_OPEN_PER_ADDR;
	ep->send_mem.limit = ep->cfg.send_budget ? ep->cfg.send_budget : DEFAULT_SEND_BUDGET;
	ep->cfg.settings.reset_secret = ep->cfg.secret;
	/* Room for each connection's CIDs at half load. */
	size_t want = ep->cfg.max_conns * 8;
	ep->nslots = 64;
	while (ep->nslots < want)
		ep->nslots <<= 1;
	ep->slots = calloc(ep->nslots, sizeof(*ep->slots));
	ep->capconns = 16;
	ep->conns = calloc(ep->capconns, sizeof(*ep->conns));
	int rv = ep->slots && ep->conns ? mpq_halfopen_init(&ep->half, ep->cfg.max_conns)
					: MPQ_ERR_NOMEM;
	/* Tokens are sealed with AES-128-GCM under a key drawn from the secret. */
	if (rv == 0)
		rv = mpq_crypto_keys_init(&ep->token_keys, MPQ_CIPHER_AES_128_GCM, MPQ_VERSION_1,
					  ep->cfg.secret, 32);
	if (rv != 0) {
		mpq_endpoint_del(ep);
		return rv;
	}
	*out = ep;
	return 0;
}

MPQ_EXPORT void mpq_endpoint_del(mpq_endpoint *ep)
{
	if (!ep)
		return;
	for (size_t i = 0; i < ep->nconns; i++)
		mpq_conn_del(ep->conns[i]);
	free(ep->conns);
	free(ep->slots);
	free(ep->scratch);
	mpq_halfopen_free(&ep->half);
	mpq_crypto_keys_free(&ep->token_keys);
	free(ep);
}

static struct stateless *queue_slot(mpq_endpoint *ep, const mpq_path *path)
{
	if (ep->qlen == STATELESS_QUEUE)
		return NULL; /* answering is best effort: a flood gets no more than this */
	struct stateless *s = &ep->queue[(ep->qhead + ep->qlen++) % STATELESS_QUEUE];
	s->path = *path;
	s->len = 0;
	return s;
}

MPQ_EXPORT int mpq_endpoint_write_stateless(mpq_endpoint *ep, mpq_path *path_out, uint8_t *buf,
					    size_t buflen)
{
	if (ep->qlen == 0)
		return 0;
	struct stateless *s = &ep->queue[ep->qhead];
	ep->qhead = (ep->qhead + 1) % STATELESS_QUEUE;
	ep->qlen--;
	if (s->len > buflen)
		return MPQ_ERR_NOBUF;
	memcpy(buf, s->data, s->len);
	*path_out = s->path;
	return (int)s->len;
}

static uint8_t random_byte(mpq_endpoint *ep)
{
	uint8_t b;
	ep->cfg.callbacks.rand(&b, 1, ep->cfg.callbacks.user_data);
	return b;
}

static void send_version_negotiation(mpq_endpoint *ep, const mpq_path *path, const mpq_pkt_hd *hd)
{
	struct stateless *s = queue_slot(ep, path);
	if (!s)
		return;
	int n = mpq_pkt_encode_vn(s->data, sizeof(s->data), &hd->scid, &hd->dcid, ep->cfg.versions,
				  ep->cfg.nversions, random_byte(ep));
	if (n > 0)
		s->len = (size_t)n;
	else
		ep->qlen--;
}

/* RFC 9000 §10.3: smaller than what triggered it, so two endpoints cannot
 * reset each other forever, and indistinguishable from a short header packet. */
static void send_stateless_reset(mpq_endpoint *ep, const mpq_path *path, const mpq_cid *dcid,
				 size_t trigger_len)
{
	size_t len = trigger_len - 1 < 43 ? trigger_len - 1 : 43;
	if (trigger_len < 22 || len < 21)
		return;
	struct stateless *s = queue_slot(ep, path);
	if (!s)
		return;
	ep->cfg.callbacks.rand(s->data, len - 16, ep->cfg.callbacks.user_data);
	s->data[0] = (uint8_t)((s->data[0] & 0x3f) | 0x40);
	mpq_cid_reset_token(ep->cfg.secret, dcid, s->data + len - 16);
	s->len = len;
}

/* The address bytes a token is bound to: a Retry token to the whole address
 * it was sent to, a NEW_TOKEN token to the IP address alone, since the client's
 * next connection may come from another port (RFC 9000 §8.1.3-8.1.4). */
static size_t addr_bytes(const mpq_addr *a, bool with_port, uint8_t out[18])
{
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
		memcpy(out, &in->sin_addr, 4);
		memcpy(out + 4, &in->sin_port, 2);
		return with_port ? 6 : 4;
	}
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
	memcpy(out, &in6->sin6_addr, 16);
	memcpy(out + 16, &in6->sin6_port, 2);
	return with_port ? 18 : 16;
}

/* The associated data of a token: its kind, then the address it is bound to. */
static size_t token_ad(uint8_t kind, const mpq_addr *client, uint8_t ad[19])
{
	ad[0] = kind;
	return 1 + addr_bytes(client, kind == TOKEN_RETRY, ad + 1);
}

/* Token: kind (1) ‖ sequence (8) ‖ AEAD(time (8) ‖ odcid len ‖ odcid), with the
 * kind and the bound address as associated data. The kind is in the clear so
 * that the address can be chosen before opening. */
static size_t make_token(mpq_endpoint *ep, uint8_t kind, const mpq_addr *client,
			 const mpq_cid *odcid, uint64_t ts, uint8_t *out)
{
	uint8_t ad[19], plain[8 + 1 + MPQ_MAX_CIDLEN];
	size_t adlen = token_ad(kind, client, ad);
	uint64_t seq = ep->token_seq++;
	for (int i = 0; i < 8; i++)
		plain[i] = (uint8_t)(ts >> (56 - 8 * i));
	plain[8] = odcid->len;
	memcpy(plain + 9, odcid->data, odcid->len);
	size_t plen = 9 + odcid->len;
	out[0] = kind;
	for (int i = 0; i < 8; i++)
		out[1 + i] = (uint8_t)(seq >> (56 - 8 * i));
	if (mpq_crypto_seal(&ep->token_keys, 0, seq, ad, adlen, plain, plen, out + 9) != 0)
		return 0;
	return 9 + plen + MPQ_AEAD_TAGLEN;
}

/* Returns the token's kind (TOKEN_RETRY with the original DCID, or TOKEN_NEW)
 * when it is ours, fresh and was given to this address; 0 otherwise. */
static int check_token(mpq_endpoint *ep, const mpq_addr *client, const uint8_t *tok, size_t len,
		       uint64_t ts, mpq_cid *odcid)
{
	uint8_t ad[19], plain[64];
	if (len < 9 + 9 + MPQ_AEAD_TAGLEN || len > 9 + sizeof(plain) + MPQ_AEAD_TAGLEN ||
	    (tok[0] != TOKEN_RETRY && tok[0] != TOKEN_NEW))
		return 0;
	uint64_t seq = 0;
	for (int i = 0; i < 8; i++)
		seq = seq << 8 | tok[1 + i];
	size_t adlen = token_ad(tok[0], client, ad);
	if (mpq_crypto_open(&ep->token_keys, 0, seq, ad, adlen, tok + 9, len - 9, plain) != 0)
		return 0;
	size_t plen = len - 9 - MPQ_AEAD_TAGLEN;
	uint64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = t << 8 | plain[i];
	uint64_t life = tok[0] == TOKEN_NEW ? NEW_TOKEN_LIFETIME : ep->cfg.token_lifetime;
	if (plain[8] > MPQ_MAX_CIDLEN || plen != 9u + plain[8] || t > ts || ts - t > life)
		return 0;
	odcid->len = plain[8];
	memcpy(odcid->data, plain + 9, odcid->len);
	return tok[0];
}

static void send_retry(mpq_endpoint *ep, const mpq_path *path, const mpq_pkt_hd *hd, uint64_t ts)
{
	struct stateless *s = queue_slot(ep, path);
	if (!s)
		return;
	uint8_t token[128];
	mpq_cid scid;
	mpq_cid_new(&scid, ep->cfg.settings.worker_id, ep->cfg.callbacks.rand,
		    ep->cfg.callbacks.user_data);
	size_t tlen = make_token(ep, TOKEN_RETRY, &path->remote, &hd->dcid, ts, token);
	int n = tlen ? mpq_pkt_encode_retry(s->data, sizeof(s->data), hd->version, &hd->scid,
					    &scid, &hd->dcid, token, tlen, random_byte(ep))
		     : -1;
	if (n > 0)
		s->len = (size_t)n;
	else
		ep->qlen--;
}

static bool version_offered(const mpq_endpoint *ep, uint32_t v)
{
	for (size_t i = 0; i < ep->cfg.nversions; i++)
		if (ep->cfg.versions[i] == v)
			return true;
	return false;
}

/* The connection issued or retired a CID: route it, or stop routing it. */
static void on_cid(void *ud, mpq_conn *conn, const mpq_cid *cid, bool add)
{
	mpq_endpoint *ep = ud;
	if (add) {
		cid_insert(ep, cid, conn);
		return;
	}
	struct cid_slot *s = cid_lookup(ep, cid);
	if (s && s->conn == conn)
		cid_remove(ep, conn, s);
}

/* A token for the client's next connection (RFC 9000 §8.1.3). */
static void give_new_token(mpq_endpoint *ep, mpq_conn *conn, const mpq_path *path, uint64_t ts)
{
	uint8_t token[128];
	mpq_cid none = {0};
	size_t n = make_token(ep, TOKEN_NEW, &path->remote, &none, ts, token);
	uint8_t *t = n ? malloc(n) : NULL;
	if (!t)
		return;
	memcpy(t, token, n);
	conn->new_token = t;
	conn->new_token_len = n;
}

static int add_conn(mpq_endpoint *ep, mpq_conn *conn)
{
	if (ep->nconns == ep->capconns) {
		mpq_conn **c = realloc(ep->conns, 2 * ep->capconns * sizeof(*c));
		if (!c)
			return MPQ_ERR_NOMEM;
		ep->conns = c;
		ep->capconns *= 2;
	}
	conn->ep_cids = NO_SLOT;
	int rv = cid_insert(ep, &conn->scid, conn);
	if (rv == 0)
		rv = cid_insert(ep, &conn->initial_dcid, conn);
	if (rv != 0) {
		cid_remove_conn(ep, conn);
		return rv;
	}
	conn->ep_index = ep->nconns;
	ep->conns[ep->nconns++] = conn;
	conn->send_mem.parent = &ep->send_mem;
	conn->cid_hook = on_cid;
	conn->cid_hook_ud = ep;
	return 0;
}

/* Whether the client Initial at |pkt| opens with the Initial keys of its DCID
 * (RFC 9001 §5.2). It is opened in a copy: the connection reads the datagram
 * as it came. On 0, |keys| holds the client's and the server's Initial keys;
 * otherwise MPQ_ERR_DECRYPT, MPQ_ERR_INVALID_PACKET or MPQ_ERR_NOMEM. */
static int initial_opens(mpq_endpoint *ep, const uint8_t *pkt, const mpq_pkt_hd *hd,
			 mpq_crypto_keys keys[2])
{
	memset(keys, 0, 2 * sizeof(*keys));
	if (hd->dcid.len < 8)
		return MPQ_ERR_INVALID_PACKET; /* RFC 9000 §7.2 */
	if (hd->pktlen > ep->scratchcap) {
		uint8_t *b = realloc(ep->scratch, hd->pktlen);
		if (!b)
			return MPQ_ERR_NOMEM;
		ep->scratch = b;
		ep->scratchcap = hd->pktlen;
	}
	int rv = mpq_crypto_initial_keys(hd->version, &hd->dcid, &keys[0], &keys[1]);
	if (rv != 0)
		return rv;
	memcpy(ep->scratch, pkt, hd->pktlen);
	mpq_pkt_hd h = *hd;
	uint8_t *payload;
	size_t plen;
	if (mpq_pkt_remove_hp(ep->scratch, &h, &keys[0], -1) != 0 ||
	    mpq_pkt_decrypt(ep->scratch, &h, &keys[0], 0, &payload, &plen) != 0) {
		mpq_crypto_keys_free(&keys[0]);
		mpq_crypto_keys_free(&keys[1]);
		return MPQ_ERR_DECRYPT;
	}
	return 0;
}

/* A datagram for |conn|; a handshake it completes stops counting as half-open. */
static int conn_read(mpq_endpoint *ep, mpq_conn *conn, const mpq_path *path,
		     const mpq_pkt_info *pi, uint8_t *data, size_t len, uint64_t ts)
{
	bool was_complete = conn->handshake_complete;
	int rv = mpq_conn_read_pkt(conn, path, pi, data, len, ts);
	if (!was_complete && conn->handshake_complete)
		mpq_halfopen_remove(&ep->half, conn);
	return rv;
}

/* A client Initial for no connection we know: accept it, or ask for a Retry. */
static int accept_initial(mpq_endpoint *ep, const mpq_path *path, const mpq_pkt_info *pi,
			  uint8_t *data, size_t len, const mpq_pkt_hd *hd, uint64_t ts,
			  mpq_conn **out)
{
	/* RFC 9000 §14.1: Initial datagrams under 1200 bytes are dropped. */
	if (len < MPQ_MIN_INITIAL_DATAGRAM || ep->nconns >= ep->cfg.max_conns)
		return 0;
	mpq_cid odcid;
	int kind = hd->tokenlen
			   ? check_token(ep, &path->remote, hd->token, hd->tokenlen, ts, &odcid)
			   : 0;
	/* Past the threshold, only clients that prove their address get state:
	 * Initials from addresses that never answer then cost a Retry each. */
	if (!kind && (ep->cfg.retry || ep->half.n >= ep->cfg.retry_threshold)) {
		send_retry(ep, path, hd, ts);
		return 0;
	}
	/* An address that can answer Retries is still held to its share. */
	if (mpq_halfopen_from(&ep->half, &path->remote) >= ep->cfg.max_half_open_per_addr)
		return 0;
	/* State only for what opens: anyone can fill a datagram with noise. */
	mpq_crypto_keys initial[2];
	int rv = initial_opens(ep, data, hd, initial);
	if (rv != 0)
		return rv == MPQ_ERR_NOMEM ? rv : 0;
	mpq_accept_info info = {.odcid = kind == TOKEN_RETRY ? &odcid : NULL,
				.validated = kind == TOKEN_NEW,
				.initial = initial};
	mpq_conn *conn;
	rv = mpq_conn_server_accept(&conn, path, data, len, &ep->cfg.settings, &ep->cfg.tparams,
				    &ep->cfg.callbacks, ep->cfg.tls, &info, ts);
	mpq_crypto_keys_free(&initial[0]); /* when the connection did not take them */
	mpq_crypto_keys_free(&initial[1]);
	if (rv != 0)
		return rv == MPQ_ERR_NOMEM ? rv : 0;
	rv = add_conn(ep, conn);
	if (rv != 0) {
		mpq_conn_del(conn);
		return rv;
	}
	mpq_halfopen_add(&ep->half, conn, &path->remote); /* room for max_conns */
	give_new_token(ep, conn, path, ts);
	for (size_t i = 0; i < ep->cfg.nadvertise; i++)
		mpq_conn_advertise_address(conn, &ep->cfg.advertise[i]);
	if (ep->cfg.qlog_start)
		ep->cfg.qlog_start(conn, ep->cfg.qlog_user_data);
	*out = conn;
	return conn_read(ep, conn, path, pi, data, len, ts);
}

MPQ_EXPORT int mpq_endpoint_read(mpq_endpoint *ep, const mpq_path *path, const mpq_pkt_info *pi,
				 uint8_t *data, size_t len, uint64_t ts, mpq_conn **conn)
{
	mpq_pkt_hd hd;
	*conn = NULL;
	int rv = mpq_pkt_decode_hd(&hd, data, len, MPQ_CID_LEN);
	if (rv == MPQ_ERR_UNKNOWN_VERSION) {
		/* Only for datagrams big enough to be an Initial (RFC 9000 §6.1). */
		if (len >= MPQ_MIN_INITIAL_DATAGRAM)
			send_version_negotiation(ep, path, &hd);
		return 0;
	}
	if (rv != 0) {
		/* A short header we cannot even parse may still name a lost connection. */
		if (len > MPQ_CID_LEN && !(data[0] & 0x80)) {
			mpq_cid dcid = {.len = MPQ_CID_LEN};
			memcpy(dcid.data, data + 1, MPQ_CID_LEN);
			if (!cid_lookup(ep, &dcid))
				send_stateless_reset(ep, path, &dcid, len);
		}
		return 0;
	}
	struct cid_slot *slot = cid_lookup(ep, &hd.dcid);
	if (slot) {
		*conn = slot->conn;
		return conn_read(ep, slot->conn, path, pi, data, len, ts);
	}
	if (hd.type == MPQ_PKT_INITIAL && version_offered(ep, hd.version))
		return accept_initial(ep, path, pi, data, len, &hd, ts, conn);
	if (hd.type == MPQ_PKT_INITIAL) {
		if (len >= MPQ_MIN_INITIAL_DATAGRAM)
			send_version_negotiation(ep, path, &hd);
		return 0;
	}
	if (hd.type == MPQ_PKT_1RTT)
		send_stateless_reset(ep, path, &hd.dcid, len);
	return 0;
}

MPQ_EXPORT size_t mpq_endpoint_conn_count(const mpq_endpoint *ep)
{
	return ep->nconns;
}

MPQ_EXPORT mpq_conn *mpq_endpoint_conn_at(const mpq_endpoint *ep, size_t i)
{
	return i < ep->nconns ? ep->conns[i] : NULL;
}

MPQ_EXPORT void mpq_endpoint_remove(mpq_endpoint *ep, mpq_conn *conn)
{
	size_t i = conn ? conn->ep_index : 0;
	if (i >= ep->nconns || ep->conns[i] != conn)
		return; /* not one of ours */
	ep->conns[i] = ep->conns[--ep->nconns];
	ep->conns[i]->ep_index = i;
	cid_remove_conn(ep, conn);
	mpq_halfopen_remove(&ep->half, conn);
	mpq_conn_del(conn);
}

MPQ_EXPORT size_t mpq_endpoint_send_memory(const mpq_endpoint *ep)
{
	return ep->send_mem.used;
}

MPQ_EXPORT uint64_t mpq_endpoint_get_expiry(const mpq_endpoint *ep)
{
	uint64_t t = MPQ_TIME_NEVER;
	for (size_t i = 0; i < ep->nconns; i++) {
		uint64_t e = mpq_conn_get_expiry(ep->conns[i]);
		if (e < t)
			t = e;
	}
	return t;
}

MPQ_EXPORT mpq_tls_ctx *mpq_tls_context_new(const mpq_tls_config *cfg, int *err, char *errbuf,
					    size_t errbuflen)
{
	if (!cfg || cfg->struct_version != MPQ_TLS_CONFIG_V1) {
		*err = MPQ_ERR_INVALID_ARGUMENT;
		if (errbuf && errbuflen)
			snprintf(errbuf, errbuflen, "unknown mpq_tls_config version");
		return NULL;
	}
	mpq_tls_ctx_config c = {
		.is_server = cfg->is_server,
		.alpn = cfg->alpn,
		.cert_file = cfg->cert_file,
		.key_file = cfg->key_file,
		.cert_pem = cfg->cert_pem,
		.key_pem = cfg->key_pem,
		.ca_file = cfg->ca_file,
		.insecure = cfg->insecure,
		.pin_sha256 = cfg->pin_sha256,
	};
	return mpq_tls_ctx_new(&c, err, errbuf, errbuflen);
}

MPQ_EXPORT void mpq_tls_config_default(mpq_tls_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->struct_version = MPQ_TLS_CONFIG_VERSION;
}

MPQ_EXPORT void mpq_tls_context_free(mpq_tls_ctx *ctx)
{
	mpq_tls_ctx_free(ctx);
}
