/* Algorithms fetched once per process: see crypto_algs.h. */
#include "crypto_algs.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto.h"

#define NCIPHERS (MPQ_CIPHER_CHACHA20_POLY1305 + 1)

static const char *const aead_names[NCIPHERS] = {
	[MPQ_CIPHER_AES_128_GCM] = "AES-128-GCM",
	[MPQ_CIPHER_AES_256_GCM] = "AES-256-GCM",
	[MPQ_CIPHER_CHACHA20_POLY1305] = "ChaCha20-Poly1305",
};

static const char *const hp_names[NCIPHERS] = {
	[MPQ_CIPHER_AES_128_GCM] = "AES-128-ECB",
	[MPQ_CIPHER_AES_256_GCM] = "AES-256-ECB",
	[MPQ_CIPHER_CHACHA20_POLY1305] = "ChaCha20",
};

static const char *const digest_names[] = {
	[MPQ_DIGEST_SHA256] = "SHA256",
	[MPQ_DIGEST_SHA384] = "SHA384",
};

#define NDIGESTS (sizeof(digest_names) / sizeof(digest_names[0]))

static struct {
	EVP_CIPHER *aead[NCIPHERS], *hp[NCIPHERS];
	EVP_MD *md[NDIGESTS];
} algs;

static CRYPTO_ONCE algs_once = CRYPTO_ONCE_STATIC_INIT;

/* Whatever is missing stays NULL and fails where it is used. Never freed:
 * they live as long as the process, as OpenSSL's own tables do. */
static void algs_fetch(void)
{
	for (int c = MPQ_CIPHER_AES_128_GCM; c < NCIPHERS; c++) {
		algs.aead[c] = EVP_CIPHER_fetch(NULL, aead_names[c], NULL);
		algs.hp[c] = EVP_CIPHER_fetch(NULL, hp_names[c], NULL);
	}
	for (size_t d = 0; d < NDIGESTS; d++)
		algs.md[d] = EVP_MD_fetch(NULL, digest_names[d], NULL);
}

static bool algs_ready(void)
{
	return CRYPTO_THREAD_run_once(&algs_once, algs_fetch) == 1;
}

const EVP_CIPHER *mpq_crypto_aead_cipher(int cipher)
{
	if (cipher < MPQ_CIPHER_AES_128_GCM || cipher >= NCIPHERS || !algs_ready())
		return NULL;
	return algs.aead[cipher];
}

const EVP_CIPHER *mpq_crypto_hp_cipher(int cipher)
{
	if (cipher < MPQ_CIPHER_AES_128_GCM || cipher >= NCIPHERS || !algs_ready())
		return NULL;
	return algs.hp[cipher];
}

/* The digest state after |pad| XOR the key. */
static int pad_state(EVP_MD_CTX *ctx, const EVP_MD *md, const uint8_t *key, size_t keylen,
		     size_t block, uint8_t pad)
{
	uint8_t buf[EVP_MAX_MD_SIZE > 128 ? EVP_MAX_MD_SIZE : 128];
	for (size_t i = 0; i < block; i++)
		buf[i] = (uint8_t)((i < keylen ? key[i] : 0) ^ pad);
	int ok = EVP_DigestInit_ex2(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, buf, block) == 1;
	OPENSSL_cleanse(buf, sizeof(buf));
	return ok ? 0 : MPQ_ERR_TLS;
}

int mpq_hmac_init(mpq_hmac *h, enum mpq_digest md, const uint8_t *key, size_t keylen)
{
	uint8_t hashed[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	int rv = MPQ_ERR_TLS;

	memset(h, 0, sizeof(*h));
	const EVP_MD *evp = (size_t)md < NDIGESTS && algs_ready() ? algs.md[md] : NULL;
	int block = evp ? EVP_MD_get_block_size(evp) : 0;
	if (block <= 0 || block > 128)
		return MPQ_ERR_TLS;
	h->len = (size_t)EVP_MD_get_size(evp);
	h->inner = EVP_MD_CTX_new();
	h->outer = EVP_MD_CTX_new();
	h->msg = EVP_MD_CTX_new();
	if (h->inner && h->outer && h->msg) {
		/* RFC 2104 §2: a key longer than a block is hashed first. */
		if (keylen > (size_t)block) {
			if (EVP_Digest(key, keylen, hashed, &hlen, evp, NULL) != 1)
				goto out;
			key = hashed;
			keylen = hlen;
		}
		rv = pad_state(h->inner, evp, key, keylen, (size_t)block, 0x36);
		if (rv == 0)
			rv = pad_state(h->outer, evp, key, keylen, (size_t)block, 0x5c);
	}
out:
	OPENSSL_cleanse(hashed, sizeof(hashed));
	if (rv)
		mpq_hmac_free(h);
	return rv;
}

int mpq_hmac_begin(mpq_hmac *h)
{
	return EVP_MD_CTX_copy_ex(h->msg, h->inner) == 1 ? 0 : MPQ_ERR_TLS;
}

int mpq_hmac_update(mpq_hmac *h, const void *data, size_t len)
{
	return EVP_DigestUpdate(h->msg, data, len) == 1 ? 0 : MPQ_ERR_TLS;
}

int mpq_hmac_finish(mpq_hmac *h, uint8_t *out)
{
	uint8_t inner[EVP_MAX_MD_SIZE];
	int ok = EVP_DigestFinal_ex(h->msg, inner, NULL) == 1 &&
		 EVP_MD_CTX_copy_ex(h->msg, h->outer) == 1 &&
		 EVP_DigestUpdate(h->msg, inner, h->len) == 1 &&
		 EVP_DigestFinal_ex(h->msg, out, NULL) == 1;
	OPENSSL_cleanse(inner, sizeof(inner));
	return ok ? 0 : MPQ_ERR_TLS;
}

void mpq_hmac_free(mpq_hmac *h)
{
	EVP_MD_CTX_free(h->inner);
	EVP_MD_CTX_free(h->outer);
	EVP_MD_CTX_free(h->msg);
	memset(h, 0, sizeof(*h));
}

int mpq_crypto_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *data, size_t len,
			   uint8_t out[32])
{
	mpq_hmac h;
	int rv = mpq_hmac_init(&h, MPQ_DIGEST_SHA256, key, keylen);
	if (rv)
		return rv;
	rv = mpq_hmac_begin(&h);
	if (rv == 0)
		rv = mpq_hmac_update(&h, data, len);
	if (rv == 0)
		rv = mpq_hmac_finish(&h, out);
	mpq_hmac_free(&h);
	return rv;
}
