/* Algorithms fetched once per process: see crypto_algs.h. */
#include "crypto_algs.h"

#include <stdbool.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

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
	EVP_MAC_CTX *hmac[NDIGESTS]; /* digest set: duplicated and keyed per use */
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
	/* Keyed once with a throwaway key: older 3.0 releases cannot duplicate an
	 * HMAC context that has never been keyed. */
	static const uint8_t dummy[1];
	EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	for (size_t d = 0; mac && d < NDIGESTS; d++) {
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							 (char *)digest_names[d], 0),
			OSSL_PARAM_construct_end(),
		};
		EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
		if (ctx && EVP_MAC_init(ctx, dummy, sizeof(dummy), params) == 1)
			algs.hmac[d] = ctx;
		else
			EVP_MAC_CTX_free(ctx);
	}
	EVP_MAC_free(mac); /* the contexts hold their own reference */
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

EVP_MAC_CTX *mpq_crypto_hmac_new(enum mpq_digest md, const uint8_t *key, size_t keylen)
{
	/* An empty key (zero-length CID) is legal; OpenSSL wants a pointer. */
	static const uint8_t empty[1];

	if ((size_t)md >= NDIGESTS || !algs_ready() || !algs.hmac[md])
		return NULL;
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(algs.hmac[md]);
	if (ctx && EVP_MAC_init(ctx, keylen ? key : empty, keylen, NULL) == 1)
		return ctx;
	EVP_MAC_CTX_free(ctx);
	return NULL;
}

int mpq_crypto_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *data, size_t len,
			   uint8_t out[32])
{
	EVP_MAC_CTX *ctx = mpq_crypto_hmac_new(MPQ_DIGEST_SHA256, key, keylen);
	size_t outl = 0;
	int ok = ctx && EVP_MAC_update(ctx, data, len) == 1 &&
		 EVP_MAC_final(ctx, out, &outl, 32) == 1 && outl == 32;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : MPQ_ERR_TLS;
}
