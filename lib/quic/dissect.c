/*
 * The public dissection API (mpq/dissect.h) over the core's own packet,
 * crypto and frame code: the public structs are filled from the internal
 * ones here, so their layouts stay private.
 */
#include <stdlib.h>
#include <string.h>

#include "mpq/dissect.h"
#include "quic/crypto.h"
#include "quic/frame.h"
#include "quic/packet.h"
#include "quic/tparams.h"

_Static_assert(MPQ_DISSECT_MAX_ACK_RANGES == MPQ_MAX_ACK_RANGES, "ACK ranges kept");

#define MAX_GEN (1 << 16) /* 1-RTT key generations followed per direction */

struct mpq_dissect_keys {
	uint32_t version;
	int cipher; /* enum mpq_cipher of the ServerHello; 0: unknown yet */
	mpq_crypto_keys initial[2], handshake[2], early;
	bool have_initial, have_handshake[2], have_early;
	mpq_crypto_keys *app[2]; /* by generation */
	int ngen[2], capgen[2];
};

static void hd_in(mpq_pkt_hd *h, const mpq_dissect_hdr *p)
{
	*h = (mpq_pkt_hd){
		.type = p->type,
		.first = p->first,
		.version = p->version,
		.dcid = p->dcid,
		.scid = p->scid,
		.token = p->token,
		.tokenlen = p->tokenlen,
		.len = p->len,
		.pn_offset = p->pn_offset,
		.pktlen = p->pktlen,
		.pn = p->pn,
		.pn_len = p->pn_len,
		.key_phase = p->key_phase,
	};
}

static void hd_out(mpq_dissect_hdr *p, const mpq_pkt_hd *h)
{
	*p = (mpq_dissect_hdr){
		.type = h->type,
		.first = h->first,
		.version = h->version,
		.dcid = h->dcid,
		.scid = h->scid,
		.token = h->token,
		.tokenlen = h->tokenlen,
		.len = h->len,
		.pn_offset = h->pn_offset,
		.pktlen = h->pktlen,
		.pn = h->pn,
		.pn_len = h->pn_len,
		.key_phase = h->key_phase,
	};
}

int mpq_dissect_hdr_parse(mpq_dissect_hdr *hd, const uint8_t *data, size_t len,
			  size_t short_dcidlen)
{
	mpq_pkt_hd h;
	int rv;

	if (!hd || (!data && len))
		return MPQ_ERR_INVALID_ARGUMENT;
	memset(&h, 0, sizeof(h));
	rv = mpq_pkt_decode_hd(&h, data, len, short_dcidlen);
	hd_out(hd, &h);
	return rv;
}

bool mpq_dissect_retry_valid(uint32_t version, const mpq_cid *odcid, const uint8_t *pkt,
			     size_t len)
{
	return odcid && pkt && mpq_pkt_verify_retry(version, odcid, pkt, len);
}

int mpq_dissect_tparams(mpq_tparams *tp, const uint8_t *data, size_t len, bool from_server)
{
	if (!tp || (!data && len))
		return MPQ_ERR_INVALID_ARGUMENT;
	return mpq_tparams_decode(tp, data, len, from_server);
}

/* Keys */

int mpq_dissect_keys_new(mpq_dissect_keys **out, uint32_t version, const mpq_cid *dcid)
{
	mpq_dissect_keys *k;
	int rv;

	if (!out || !dcid)
		return MPQ_ERR_INVALID_ARGUMENT;
	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return MPQ_ERR_NOMEM;
	k->version = version;
	rv = mpq_dissect_keys_retry(k, dcid);
	if (rv) {
		free(k);
		return rv;
	}
	*out = k;
	return 0;
}

void mpq_dissect_keys_free(mpq_dissect_keys *k)
{
	if (!k)
		return;
	for (int dir = 0; dir < 2; dir++) {
		mpq_crypto_keys_free(&k->initial[dir]);
		mpq_crypto_keys_free(&k->handshake[dir]);
		for (int g = 0; g < k->ngen[dir]; g++)
			mpq_crypto_keys_free(&k->app[dir][g]);
		free(k->app[dir]);
	}
	mpq_crypto_keys_free(&k->early);
	free(k);
}

int mpq_dissect_keys_retry(mpq_dissect_keys *k, const mpq_cid *dcid)
{
	int rv;

	if (!k || !dcid)
		return MPQ_ERR_INVALID_ARGUMENT;
	mpq_crypto_keys_free(&k->initial[0]);
	mpq_crypto_keys_free(&k->initial[1]);
	rv = mpq_crypto_initial_keys(k->version, dcid, &k->initial[MPQ_DISSECT_TO_SERVER],
				     &k->initial[MPQ_DISSECT_TO_CLIENT]);
	k->have_initial = rv == 0;
	return rv;
}

int mpq_dissect_keys_set_cipher_suite(mpq_dissect_keys *k, uint16_t suite)
{
	int cipher = mpq_crypto_cipher_from_tls(suite);

	if (!k || cipher < 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	k->cipher = cipher;
	return 0;
}

/* Appends the next 1-RTT generation of |dir|: from the secret (the first)
 * or by a key update of the last. */
static int add_gen(mpq_dissect_keys *k, int dir, int cipher, const uint8_t *secret, size_t len)
{
	int g = k->ngen[dir], rv;

	if (g == MAX_GEN)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (g == k->capgen[dir]) {
		int cap = g ? 2 * g : 4;
		mpq_crypto_keys *n = realloc(k->app[dir], (size_t)cap * sizeof(*n));

		if (!n)
			return MPQ_ERR_NOMEM;
		k->app[dir] = n;
		k->capgen[dir] = cap;
	}
	if (g == 0)
		rv = mpq_crypto_keys_init(&k->app[dir][0], cipher, k->version, secret, len);
	else
		rv = mpq_crypto_keys_update(&k->app[dir][g], &k->app[dir][g - 1]);
	if (!rv)
		k->ngen[dir]++;
	return rv;
}

int mpq_dissect_keys_set_secret(mpq_dissect_keys *k, enum mpq_keylog_label label,
				const uint8_t *secret, size_t len)
{
	mpq_crypto_keys *dst = NULL;
	bool *have = NULL;
	int cipher, dir, rv;

	if (!k || !secret || (len != 32 && len != 48))
		return MPQ_ERR_INVALID_ARGUMENT;
	cipher = k->cipher   ? k->cipher
		 : len == 48 ? MPQ_CIPHER_AES_256_GCM
			     : MPQ_CIPHER_AES_128_GCM;
	switch (label) {
	case MPQ_KEYLOG_CLIENT_EARLY:
		dst = &k->early;
		have = &k->have_early;
		break;
	case MPQ_KEYLOG_CLIENT_HANDSHAKE:
	case MPQ_KEYLOG_SERVER_HANDSHAKE:
		dir = label == MPQ_KEYLOG_CLIENT_HANDSHAKE ? MPQ_DISSECT_TO_SERVER
							   : MPQ_DISSECT_TO_CLIENT;
		dst = &k->handshake[dir];
		have = &k->have_handshake[dir];
		break;
	case MPQ_KEYLOG_CLIENT_TRAFFIC_0:
	case MPQ_KEYLOG_SERVER_TRAFFIC_0:
		dir = label == MPQ_KEYLOG_CLIENT_TRAFFIC_0 ? MPQ_DISSECT_TO_SERVER
							   : MPQ_DISSECT_TO_CLIENT;
		return k->ngen[dir] ? 0 : add_gen(k, dir, cipher, secret, len);
	default:
		return MPQ_ERR_INVALID_ARGUMENT;
	}
	if (*have)
		return 0;
	rv = mpq_crypto_keys_init(dst, cipher, k->version, secret, len);
	*have = rv == 0;
	return rv;
}

static bool label_installed(const mpq_dissect_keys *k, int label)
{
	switch (label) {
	case MPQ_KEYLOG_CLIENT_EARLY:
		return k->have_early;
	case MPQ_KEYLOG_CLIENT_HANDSHAKE:
		return k->have_handshake[MPQ_DISSECT_TO_SERVER];
	case MPQ_KEYLOG_SERVER_HANDSHAKE:
		return k->have_handshake[MPQ_DISSECT_TO_CLIENT];
	case MPQ_KEYLOG_CLIENT_TRAFFIC_0:
		return k->ngen[MPQ_DISSECT_TO_SERVER] > 0;
	}
	return k->ngen[MPQ_DISSECT_TO_CLIENT] > 0;
}

int mpq_dissect_keys_from_keylog(mpq_dissect_keys *k, const mpq_keylog *kl,
				 const uint8_t random[32])
{
	int n = 0;

	if (!k || !kl || !random)
		return MPQ_ERR_INVALID_ARGUMENT;
	for (int label = 0; label < MPQ_KEYLOG_NLABELS; label++) {
		const uint8_t *secret;
		size_t len;
		int rv;

		if (label_installed(k, label))
			continue;
		secret = mpq_keylog_find(kl, random, (enum mpq_keylog_label)label, &len);
		if (!secret)
			continue;
		rv = mpq_dissect_keys_set_secret(k, (enum mpq_keylog_label)label, secret, len);
		if (rv)
			return rv;
		n++;
	}
	return n;
}

/* The keys of a level and direction; 1-RTT generation |gen|, derived by key
 * updates as far as needed. NULL when not installed. */
static mpq_crypto_keys *keys_of(mpq_dissect_keys *k, int type, int dir, int gen)
{
	switch (type) {
	case MPQ_PKT_INITIAL:
		return k->have_initial ? &k->initial[dir] : NULL;
	case MPQ_PKT_HANDSHAKE:
		return k->have_handshake[dir] ? &k->handshake[dir] : NULL;
	case MPQ_PKT_0RTT:
		return dir == MPQ_DISSECT_TO_SERVER && k->have_early ? &k->early : NULL;
	case MPQ_PKT_1RTT:
		if (!k->ngen[dir] || gen < 0)
			return NULL;
		while (k->ngen[dir] <= gen)
			if (add_gen(k, dir, 0, NULL, 0))
				return NULL;
		return &k->app[dir][gen];
	}
	return NULL;
}

bool mpq_dissect_keys_have(const mpq_dissect_keys *k, int pkt_type, int dir)
{
	if (!k || dir < 0 || dir > 1)
		return false;
	return keys_of((mpq_dissect_keys *)k, pkt_type, dir, 0) != NULL;
}

int mpq_dissect_open(mpq_dissect_keys *k, const uint8_t *pkt, mpq_dissect_hdr *hd, uint8_t *buf,
		     size_t bufcap, int dir, uint32_t path_id, int64_t largest_pn, int *gen,
		     const uint8_t **payload, size_t *payloadlen)
{
	mpq_crypto_keys *hp;
	uint8_t *plain = NULL;
	size_t plainlen = 0;
	mpq_pkt_hd h;
	int rv, tries[2], ntries = 0;

	if (!k || !pkt || !hd || !buf || !gen || !payload || !payloadlen || dir < 0 || dir > 1)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (bufcap < hd->pktlen)
		return MPQ_ERR_NOBUF;
	hp = keys_of(k, hd->type, dir, 0); /* key updates keep the hp key */
	if (!hp)
		return MPQ_ERR_NOT_FOUND;
	hd_in(&h, hd);
	if (h.type == MPQ_PKT_1RTT)
		h.len = h.pktlen - h.pn_offset;
	memcpy(buf, pkt, h.pktlen);
	if (mpq_pkt_remove_hp(buf, &h, hp, largest_pn))
		return MPQ_ERR_INVALID_PACKET;
	if (h.type != MPQ_PKT_1RTT) {
		rv = mpq_pkt_decrypt(buf, &h, hp, path_id, &plain, &plainlen);
	} else {
		int g = *gen < 0 ? 0 : *gen;
		size_t hdrlen = h.pn_offset + h.pn_len;

		if ((g & 1) == h.key_phase) {
			tries[ntries++] = g;
		} else {
			tries[ntries++] = g + 1; /* a key update */
			if (g > 0)
				tries[ntries++] = g - 1; /* reordered across one */
		}
		rv = MPQ_ERR_DECRYPT;
		for (int i = 0; i < ntries && rv; i++) {
			mpq_crypto_keys *key = keys_of(k, MPQ_PKT_1RTT, dir, tries[i]);

			if (!key)
				continue;
			if (i) /* the failed try wrote over the ciphertext */
				memcpy(buf + hdrlen, pkt + hdrlen, h.pktlen - hdrlen);
			rv = mpq_pkt_decrypt(buf, &h, key, path_id, &plain, &plainlen);
			if (!rv)
				*gen = tries[i];
		}
	}
	hd_out(hd, &h);
	if (rv)
		return MPQ_ERR_DECRYPT;
	*payload = plain;
	*payloadlen = plainlen;
	return 0;
}
