/*
 * The OpenSSL algorithms QUIC packet protection uses, fetched once per
 * process. OpenSSL 3.0 looks an algorithm up by name (locks, a hash table,
 * string compares) every time it is handed EVP_aes_128_gcm() or a digest name
 * in a parameter; a handshake did that some fifty times. The HMACs here are
 * made by duplicating a context whose digest is already set, so no lookup
 * happens per use.
 */
#ifndef MPQ_CRYPTO_ALGS_H
#define MPQ_CRYPTO_ALGS_H

#include <stddef.h>
#include <stdint.h>

typedef struct evp_cipher_st EVP_CIPHER;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;

enum mpq_digest {
	MPQ_DIGEST_SHA256,
	MPQ_DIGEST_SHA384,
};

/* The AEAD and the header protection cipher of enum mpq_cipher |cipher|;
 * NULL for an unknown cipher or one this OpenSSL lacks. */
const EVP_CIPHER *mpq_crypto_aead_cipher(int cipher);
const EVP_CIPHER *mpq_crypto_hp_cipher(int cipher);

/* A new HMAC context keyed with |key| (the digest's HMAC, RFC 2104), ready
 * for updates; free it with EVP_MAC_CTX_free. NULL on failure. */
EVP_MAC_CTX *mpq_crypto_hmac_new(enum mpq_digest md, const uint8_t *key, size_t keylen);

/* HMAC-SHA256(key, data) in one call. Returns 0 or MPQ_ERR_TLS. */
int mpq_crypto_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *data, size_t len,
			   uint8_t out[32]);

#endif
