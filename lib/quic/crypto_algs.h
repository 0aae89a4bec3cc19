/*
 * The OpenSSL algorithms QUIC packet protection uses, fetched once per
 * process. OpenSSL 3.0 looks an algorithm up by name (locks, a hash table,
 * string compares) every time it is handed EVP_aes_128_gcm() or a digest name
 * in a parameter; a handshake did that some fifty times. HMAC (RFC 2104) is
 * built here on the fetched digests: keyed once, the inner and outer hash
 * states are copied for each message, which is cheaper than OpenSSL's HMAC
 * contexts (a key copy, three digest contexts and a provider context each).
 */
#ifndef MPQ_CRYPTO_ALGS_H
#define MPQ_CRYPTO_ALGS_H

#include <stddef.h>
#include <stdint.h>

typedef struct evp_cipher_st EVP_CIPHER;
typedef struct evp_md_ctx_st EVP_MD_CTX;

enum mpq_digest {
	MPQ_DIGEST_SHA256,
	MPQ_DIGEST_SHA384,
};

/* The AEAD and the header protection cipher of enum mpq_cipher |cipher|;
 * NULL for an unknown cipher or one this OpenSSL lacks. */
const EVP_CIPHER *mpq_crypto_aead_cipher(int cipher);
const EVP_CIPHER *mpq_crypto_hp_cipher(int cipher);

/* An HMAC key: the hash states after the inner and the outer pad, and a
 * state for the message under way. */
typedef struct mpq_hmac {
	EVP_MD_CTX *inner, *outer, *msg;
	size_t len; /* the digest's length */
} mpq_hmac;

/* Keys |h| (zeroed or freed before). Returns 0 or MPQ_ERR_TLS; on failure
 * |h| holds nothing to free. */
int mpq_hmac_init(mpq_hmac *h, enum mpq_digest md, const uint8_t *key, size_t keylen);

/* One message: begin, update any number of times, finish (|h->len| bytes
 * out). |h| keeps its key for the next. Each returns 0 or MPQ_ERR_TLS. */
int mpq_hmac_begin(mpq_hmac *h);
int mpq_hmac_update(mpq_hmac *h, const void *data, size_t len);
int mpq_hmac_finish(mpq_hmac *h, uint8_t *out);

void mpq_hmac_free(mpq_hmac *h);

/* HMAC-SHA256(key, data) in one call. Returns 0 or MPQ_ERR_TLS. */
int mpq_crypto_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *data, size_t len,
			   uint8_t out[32]);

#endif
