/* QUIC packet protection on OpenSSL libcrypto: see crypto.h. */
#include "crypto.h"

#include <endian.h>
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto_algs.h"
#include "wire.h"

/* What a cipher suite needs besides its ciphers (crypto_algs.c): its hash. */
struct suite {
	enum mpq_digest md;
	size_t hashlen;
	size_t keylen;
};

static const struct suite suites[] = {
	[MPQ_CIPHER_AES_128_GCM] = {MPQ_DIGEST_SHA256, 32, 16},
	[MPQ_CIPHER_AES_256_GCM] = {MPQ_DIGEST_SHA384, 48, 32},
	[MPQ_CIPHER_CHACHA20_POLY1305] = {MPQ_DIGEST_SHA256, 32, 32},
};

/* What changes with the version: labels (RFC 9369 §3.3.2), the Initial salt
 * and the Retry integrity key (RFC 9001 §5.2/§5.8, RFC 9369 §3.3). */
struct version_params {
	const char *key, *iv, *hp, *ku;
	uint8_t salt[20];
	uint8_t retry_key[16];
	uint8_t retry_nonce[MPQ_AEAD_IVLEN];
};

static const struct version_params v1_params = {
	.key = "quic key",
	.iv = "quic iv",
	.hp = "quic hp",
	.ku = "quic ku",
	.salt = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
		 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
	.retry_key = {0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3,
		      0x68, 0xc8, 0x4e},
	.retry_nonce = {0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb},
};

static const struct version_params v2_params = {
	.key = "quicv2 key",
	.iv = "quicv2 iv",
	.hp = "quicv2 hp",
	.ku = "quicv2 ku",
	.salt = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
		 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
	.retry_key = {0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2, 0x60, 0xfb, 0xcb, 0xce, 0xad,
		      0x7c, 0xcc, 0x92},
	.retry_nonce = {0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a},
};

static const struct suite *suite_of(int cipher)
{
	if (cipher < MPQ_CIPHER_AES_128_GCM || cipher > MPQ_CIPHER_CHACHA20_POLY1305)
		return NULL;
	return &suites[cipher];
}

static const struct version_params *version_of(uint32_t version)
{
	if (version == MPQ_VERSION_1)
		return &v1_params;
	if (version == MPQ_VERSION_2)
		return &v2_params;
	return NULL;
}

int mpq_crypto_cipher_from_tls(uint16_t suite)
{
	switch (suite) {
	case 0x1301:
		return MPQ_CIPHER_AES_128_GCM;
	case 0x1302:
		return MPQ_CIPHER_AES_256_GCM;
	case 0x1303:
		return MPQ_CIPHER_CHACHA20_POLY1305;
	default:
		return MPQ_ERR_INVALID_ARGUMENT;
	}
}

/* HKDF-Expand (RFC 5869 §2.3) with an HMAC keyed with the PRK: T(i) =
 * HMAC(PRK, T(i-1) ‖ info ‖ i). |prk| stays keyed for the next label. */
static int hkdf_expand(mpq_hmac *prk, const uint8_t *info, size_t infolen, uint8_t *out,
		       size_t outlen)
{
	uint8_t t[EVP_MAX_MD_SIZE];
	size_t tlen = 0;
	int rv = outlen > 255 * prk->len ? MPQ_ERR_TLS : 0;

	for (uint8_t i = 1; rv == 0 && outlen > 0; i++) {
		rv = mpq_hmac_begin(prk);
		if (rv == 0)
			rv = mpq_hmac_update(prk, t, tlen);
		if (rv == 0)
			rv = mpq_hmac_update(prk, info, infolen);
		if (rv == 0)
			rv = mpq_hmac_update(prk, &i, 1);
		if (rv == 0)
			rv = mpq_hmac_finish(prk, t);
		tlen = prk->len;
		size_t n = outlen < tlen ? outlen : tlen;
		if (rv == 0)
			memcpy(out, t, n);
		out += n;
		outlen -= n;
	}
	OPENSSL_cleanse(t, sizeof(t));
	return rv;
}

int mpq_crypto_hkdf_label(uint8_t *buf, size_t cap, const char *label, size_t outlen)
{
	static const char prefix[] = "tls13 ";
	size_t labellen = strlen(label);
	size_t fulllen = sizeof(prefix) - 1 + labellen;
	mpq_writer w;

	if (outlen > UINT16_MAX || fulllen > UINT8_MAX)
		return MPQ_ERR_INVALID_ARGUMENT;
	mpq_writer_init(&w, buf, cap);
	if (mpq_write_u16(&w, (uint16_t)outlen) || mpq_write_u8(&w, (uint8_t)fulllen) ||
	    mpq_write_bytes(&w, prefix, sizeof(prefix) - 1) ||
	    mpq_write_bytes(&w, label, labellen) || mpq_write_u8(&w, 0))
		return MPQ_ERR_NOBUF;
	return (int)(cap - mpq_writer_left(&w));
}

/* HKDF-Expand-Label for each of |n| labels from one keyed PRK. */
static int expand_labels(const struct suite *s, const uint8_t *secret, size_t secretlen,
			 const char *const *labels, uint8_t *const *outs, const size_t *outlens,
			 size_t n)
{
	uint8_t info[2 + 1 + 255 + 1];
	mpq_hmac prk;
	int rv = mpq_hmac_init(&prk, s->md, secret, secretlen);
	if (rv)
		return rv;
	for (size_t i = 0; rv == 0 && i < n; i++) {
		int infolen = mpq_crypto_hkdf_label(info, sizeof(info), labels[i], outlens[i]);
		rv = infolen < 0 ? MPQ_ERR_TLS
				 : hkdf_expand(&prk, info, (size_t)infolen, outs[i], outlens[i]);
	}
	mpq_hmac_free(&prk);
	return rv;
}

int mpq_crypto_hkdf_expand_label(int cipher, const uint8_t *secret, size_t secretlen,
				 const char *label, uint8_t *out, size_t outlen)
{
	const struct suite *s = suite_of(cipher);

	if (!s)
		return MPQ_ERR_TLS;
	return expand_labels(s, secret, secretlen, &label, &out, &outlen, 1);
}

int mpq_crypto_hkdf_expand_key_iv(int cipher, const uint8_t *secret, size_t secretlen,
				  const char *key_label, uint8_t *key, size_t keylen,
				  const char *iv_label, uint8_t iv[MPQ_AEAD_IVLEN])
{
	const struct suite *s = suite_of(cipher);
	const char *labels[] = {key_label, iv_label};
	uint8_t *outs[] = {key, iv};
	size_t lens[] = {keylen, MPQ_AEAD_IVLEN};

	if (!s)
		return MPQ_ERR_TLS;
	return expand_labels(s, secret, secretlen, labels, outs, lens, 2);
}

/* A context with |cipher| and |key| set once; the IV comes per use. */
static EVP_CIPHER_CTX *cipher_ctx_new(const EVP_CIPHER *cipher, const uint8_t *key)
{
	EVP_CIPHER_CTX *ctx = cipher ? EVP_CIPHER_CTX_new() : NULL;
	if (ctx && EVP_CipherInit_ex(ctx, cipher, NULL, key, NULL, 1) == 1)
		return ctx;
	EVP_CIPHER_CTX_free(ctx);
	return NULL;
}

/* Fills |k| from |secret|: key and iv always, hp too unless |hp| is given. */
static int keys_derive(mpq_crypto_keys *k, int cipher, uint32_t version, const uint8_t *secret,
		       size_t secretlen, const uint8_t *hp)
{
	const struct suite *s = suite_of(cipher);
	const struct version_params *vp = version_of(version);

	memset(k, 0, sizeof(*k));
	if (!s || !vp || !secret || secretlen != s->hashlen)
		return MPQ_ERR_INVALID_ARGUMENT;
	k->cipher = cipher;
	k->version = version;
	memcpy(k->secret, secret, secretlen);
	k->secretlen = secretlen;
	k->keylen = s->keylen;
	const char *labels[] = {vp->key, vp->iv, vp->hp};
	uint8_t *outs[] = {k->key, k->iv, k->hp};
	size_t lens[] = {k->keylen, MPQ_AEAD_IVLEN, k->keylen};
	int rv = expand_labels(s, secret, secretlen, labels, outs, lens, hp ? 2 : 3);
	if (rv == 0 && hp)
		memcpy(k->hp, hp, k->keylen);
	if (rv == 0) {
		k->aead = cipher_ctx_new(mpq_crypto_aead_cipher(cipher), k->key);
		k->hp_ctx = cipher_ctx_new(mpq_crypto_hp_cipher(cipher), k->hp);
		if (!k->aead || !k->hp_ctx)
			rv = MPQ_ERR_NOMEM;
		else if (cipher != MPQ_CIPHER_CHACHA20_POLY1305)
			EVP_CIPHER_CTX_set_padding(k->hp_ctx, 0); /* one raw AES block */
	}
	if (rv)
		mpq_crypto_keys_free(k);
	return rv;
}

int mpq_crypto_keys_init(mpq_crypto_keys *k, int cipher, uint32_t version, const uint8_t *secret,
			 size_t secretlen)
{
	return keys_derive(k, cipher, version, secret, secretlen, NULL);
}

void mpq_crypto_keys_free(mpq_crypto_keys *k)
{
	EVP_CIPHER_CTX_free(k->aead);
	EVP_CIPHER_CTX_free(k->hp_ctx);
	OPENSSL_cleanse(k, sizeof(*k));
}

int mpq_crypto_keys_update(mpq_crypto_keys *next, const mpq_crypto_keys *cur)
{
	const struct version_params *vp = version_of(cur->version);
	uint8_t secret[MPQ_MAX_SECRETLEN];
	mpq_crypto_keys tmp;

	if (!vp || !suite_of(cur->cipher))
		return MPQ_ERR_INVALID_ARGUMENT;
	int rv = mpq_crypto_hkdf_expand_label(cur->cipher, cur->secret, cur->secretlen, vp->ku,
					      secret, cur->secretlen);
	if (rv == 0)
		rv = keys_derive(&tmp, cur->cipher, cur->version, secret, cur->secretlen, cur->hp);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (rv)
		return rv;
	/* Built aside so that updating in place (next == cur) works too. */
	if (next == cur)
		mpq_crypto_keys_free(next);
	*next = tmp;
	return 0;
}

int mpq_crypto_initial_secret(uint32_t version, const mpq_cid *dcid,
			      uint8_t out[MPQ_INITIAL_SECRETLEN])
{
	const struct version_params *vp = version_of(version);

	if (!vp || dcid->len > MPQ_MAX_CIDLEN)
		return MPQ_ERR_INVALID_ARGUMENT;
	/* HKDF-Extract: PRK = HMAC(salt, IKM). */
	return mpq_crypto_hmac_sha256(vp->salt, sizeof(vp->salt), dcid->data, dcid->len, out);
}

int mpq_crypto_initial_keys(uint32_t version, const mpq_cid *dcid, mpq_crypto_keys *client,
			    mpq_crypto_keys *server)
{
	uint8_t initial[MPQ_INITIAL_SECRETLEN], cs[MPQ_INITIAL_SECRETLEN],
		ss[MPQ_INITIAL_SECRETLEN];
	const char *labels[] = {"client in", "server in"};
	uint8_t *outs[] = {cs, ss};
	size_t lens[] = {sizeof(cs), sizeof(ss)};
	int rv = mpq_crypto_initial_secret(version, dcid, initial);

	if (rv == 0)
		rv = expand_labels(&suites[MPQ_CIPHER_AES_128_GCM], initial, sizeof(initial),
				   labels, outs, lens, 2);
	if (rv == 0)
		rv = mpq_crypto_keys_init(client, MPQ_CIPHER_AES_128_GCM, version, cs, sizeof(cs));
	if (rv == 0) {
		rv = mpq_crypto_keys_init(server, MPQ_CIPHER_AES_128_GCM, version, ss, sizeof(ss));
		if (rv)
			mpq_crypto_keys_free(client);
	}
	OPENSSL_cleanse(initial, sizeof(initial));
	OPENSSL_cleanse(cs, sizeof(cs));
	OPENSSL_cleanse(ss, sizeof(ss));
	return rv;
}

void mpq_crypto_nonce(const mpq_crypto_keys *k, uint32_t path_id, uint64_t pn,
		      uint8_t nonce[MPQ_AEAD_IVLEN])
{
	/* Path ID (32 bits) ‖ 0b00 ‖ packet number (62 bits), XORed into the IV
	 * a word at a time (once per packet each way). */
	uint32_t hi;
	uint64_t lo;
	memcpy(&hi, k->iv, 4);
	memcpy(&lo, k->iv + 4, 8);
	hi ^= htobe32(path_id);
	lo ^= htobe64(pn & MPQ_MAX_VARINT);
	memcpy(nonce, &hi, 4);
	memcpy(nonce + 4, &lo, 8);
}

/* Sets the nonce for one packet and feeds the associated data. */
static int aead_start(mpq_crypto_keys *k, int enc, uint32_t path_id, uint64_t pn,
		      const uint8_t *ad, size_t adlen)
{
	uint8_t nonce[MPQ_AEAD_IVLEN];
	int n;

	if (!k->aead || adlen > INT_MAX)
		return -1;
	mpq_crypto_nonce(k, path_id, pn, nonce);
	if (EVP_CipherInit_ex(k->aead, NULL, NULL, NULL, nonce, enc) != 1)
		return -1;
	if (adlen && EVP_CipherUpdate(k->aead, NULL, &n, ad, (int)adlen) != 1)
		return -1;
	return 0;
}

uint64_t mpq_crypto_confidentiality_limit(int cipher)
{
	return cipher == MPQ_CIPHER_CHACHA20_POLY1305 ? UINT64_MAX : 1ULL << 23;
}

uint64_t mpq_crypto_integrity_limit(int cipher)
{
	return cipher == MPQ_CIPHER_CHACHA20_POLY1305 ? 1ULL << 36 : 1ULL << 52;
}

int mpq_crypto_seal(mpq_crypto_keys *k, uint32_t path_id, uint64_t pn, const uint8_t *ad,
		    size_t adlen, const uint8_t *in, size_t len, uint8_t *out)
{
	int n, fin;

	k->sealed++;
	if (len > INT_MAX || aead_start(k, 1, path_id, pn, ad, adlen))
		return MPQ_ERR_TLS;
	if (len && EVP_EncryptUpdate(k->aead, out, &n, in, (int)len) != 1)
		return MPQ_ERR_TLS;
	if (EVP_EncryptFinal_ex(k->aead, out + len, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(k->aead, EVP_CTRL_AEAD_GET_TAG, MPQ_AEAD_TAGLEN, out + len) != 1)
		return MPQ_ERR_TLS;
	return 0;
}

int mpq_crypto_open(mpq_crypto_keys *k, uint32_t path_id, uint64_t pn, const uint8_t *ad,
		    size_t adlen, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t tag[MPQ_AEAD_TAGLEN];
	size_t ctlen = len - MPQ_AEAD_TAGLEN;
	int n, fin;

	if (len < MPQ_AEAD_TAGLEN || ctlen > INT_MAX || aead_start(k, 0, path_id, pn, ad, adlen))
		return MPQ_ERR_DECRYPT;
	/* Copied first: with out == in, the plaintext never reaches the tag anyway,
	 * but OpenSSL wants the tag before the final step. */
	memcpy(tag, in + ctlen, MPQ_AEAD_TAGLEN);
	if (EVP_CIPHER_CTX_ctrl(k->aead, EVP_CTRL_AEAD_SET_TAG, MPQ_AEAD_TAGLEN, tag) != 1)
		return MPQ_ERR_DECRYPT;
	if (ctlen && EVP_DecryptUpdate(k->aead, out, &n, in, (int)ctlen) != 1)
		return MPQ_ERR_DECRYPT;
	if (EVP_DecryptFinal_ex(k->aead, out + ctlen, &fin) != 1)
		return MPQ_ERR_DECRYPT;
	return 0;
}

int mpq_crypto_hp_mask(mpq_crypto_keys *k, const uint8_t sample[MPQ_HP_SAMPLELEN],
		       uint8_t mask[MPQ_HP_MASKLEN])
{
	static const uint8_t zeros[MPQ_HP_MASKLEN];
	uint8_t block[MPQ_HP_SAMPLELEN];
	int n;

	if (!k->hp_ctx)
		return MPQ_ERR_TLS;
	if (k->cipher == MPQ_CIPHER_CHACHA20_POLY1305) {
		/* OpenSSL's ChaCha20 "IV" is counter (LE) ‖ nonce: exactly the sample. */
		if (EVP_EncryptInit_ex(k->hp_ctx, NULL, NULL, NULL, sample) != 1 ||
		    EVP_EncryptUpdate(k->hp_ctx, mask, &n, zeros, MPQ_HP_MASKLEN) != 1)
			return MPQ_ERR_TLS;
		return 0;
	}
	if (EVP_EncryptUpdate(k->hp_ctx, block, &n, sample, MPQ_HP_SAMPLELEN) != 1 ||
	    n != MPQ_HP_SAMPLELEN)
		return MPQ_ERR_TLS;
	memcpy(mask, block, MPQ_HP_MASKLEN);
	return 0;
}

int mpq_crypto_retry_tag(uint32_t version, const mpq_cid *odcid, const uint8_t *retry, size_t len,
			 uint8_t tag[MPQ_AEAD_TAGLEN])
{
	const struct version_params *vp = version_of(version);
	uint8_t odcidlen = odcid->len;
	int n, fin, ok;

	if (!vp || odcid->len > MPQ_MAX_CIDLEN || len > INT_MAX)
		return MPQ_ERR_INVALID_ARGUMENT;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return MPQ_ERR_NOMEM;
	/* AAD is the pseudo-packet ODCID Length ‖ ODCID ‖ Retry, fed in pieces. */
	ok = EVP_EncryptInit_ex(ctx, mpq_crypto_aead_cipher(MPQ_CIPHER_AES_128_GCM), NULL,
				vp->retry_key, vp->retry_nonce) == 1 &&
	     EVP_EncryptUpdate(ctx, NULL, &n, &odcidlen, 1) == 1 &&
	     (!odcid->len || EVP_EncryptUpdate(ctx, NULL, &n, odcid->data, odcid->len) == 1) &&
	     (!len || EVP_EncryptUpdate(ctx, NULL, &n, retry, (int)len) == 1) &&
	     EVP_EncryptFinal_ex(ctx, tag, &fin) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, MPQ_AEAD_TAGLEN, tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : MPQ_ERR_TLS;
}
