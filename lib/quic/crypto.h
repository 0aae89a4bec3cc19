/*
 * QUIC packet protection (RFC 9001 §5, RFC 9369 for v2) on OpenSSL libcrypto:
 * key derivation from TLS secrets, AEAD seal/open with the multipath nonce,
 * header protection masks, key update, Initial secrets and the Retry tag.
 *
 * Cipher contexts are created once per key (mpq_crypto_keys_init) and reused
 * for every packet; nothing here allocates per packet.
 */
#ifndef MPQ_CRYPTO_H
#define MPQ_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "mpq/mpq.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

enum mpq_cipher {
	MPQ_CIPHER_AES_128_GCM = 1,	  /* TLS_AES_128_GCM_SHA256 */
	MPQ_CIPHER_AES_256_GCM = 2,	  /* TLS_AES_256_GCM_SHA384 */
	MPQ_CIPHER_CHACHA20_POLY1305 = 3, /* TLS_CHACHA20_POLY1305_SHA256 */
};

#define MPQ_AEAD_TAGLEN 16
#define MPQ_AEAD_IVLEN 12
#define MPQ_MAX_SECRETLEN 48
#define MPQ_HP_SAMPLELEN 16
#define MPQ_HP_MASKLEN 5
#define MPQ_INITIAL_SECRETLEN 32 /* SHA-256 */

/* Keys of one direction at one epoch. */
typedef struct mpq_crypto_keys {
	int cipher;	  /* enum mpq_cipher; 0 = not set */
	uint32_t version; /* MPQ_VERSION_1 or MPQ_VERSION_2: selects the labels */
	uint8_t secret[MPQ_MAX_SECRETLEN];
	size_t secretlen;
	uint8_t key[32];
	size_t keylen;
	uint8_t iv[MPQ_AEAD_IVLEN];
	uint8_t hp[32];
	EVP_CIPHER_CTX *aead;	/* key set once; nonce per packet */
	EVP_CIPHER_CTX *hp_ctx; /* AES-ECB or ChaCha20 with the hp key */
	uint64_t sealed;	/* packets protected with this key (RFC 9001 §6.6) */
} mpq_crypto_keys;

/* Cipher for a TLS 1.3 cipher suite ID (0x1301..0x1303); MPQ_ERR_INVALID_ARGUMENT otherwise. */
int mpq_crypto_cipher_from_tls(uint16_t suite);

/* The HkdfLabel structure (RFC 8446 §7.1) with an empty context: length ‖
 * "tls13 " + |label| ‖ 0. Returns its size, MPQ_ERR_NOBUF or MPQ_ERR_INVALID_ARGUMENT. */
int mpq_crypto_hkdf_label(uint8_t *buf, size_t cap, const char *label, size_t outlen);

/* TLS 1.3 HKDF-Expand-Label(secret, label, "", outlen) with the cipher's hash.
 * |label| is without the "tls13 " prefix. Returns 0 or MPQ_ERR_TLS. */
int mpq_crypto_hkdf_expand_label(int cipher, const uint8_t *secret, size_t secretlen,
				 const char *label, uint8_t *out, size_t outlen);

/* Two labels from one secret (a key and its IV), keying the HMAC once.
 * Returns 0 or MPQ_ERR_TLS. */
int mpq_crypto_hkdf_expand_key_iv(int cipher, const uint8_t *secret, size_t secretlen,
				  const char *key_label, uint8_t *key, size_t keylen,
				  const char *iv_label, uint8_t iv[MPQ_AEAD_IVLEN]);

/* Derives key, iv and hp from |secret| ("quic key"/"quic iv"/"quic hp", or the
 * "quicv2 " labels for v2) and creates the cipher contexts. |k| is overwritten
 * (free it first if it held keys); |secretlen| must be the suite's hash length.
 * On failure |k| is left zeroed.
 * Returns 0, MPQ_ERR_INVALID_ARGUMENT, MPQ_ERR_NOMEM or MPQ_ERR_TLS. */
int mpq_crypto_keys_init(mpq_crypto_keys *k, int cipher, uint32_t version, const uint8_t *secret,
			 size_t secretlen);

/* Frees the contexts and wipes the key material. Safe on a zeroed struct. */
void mpq_crypto_keys_free(mpq_crypto_keys *k);

/* Next key phase (RFC 9001 §6): secret' = HKDF-Expand-Label(secret, "quic ku"),
 * new key and iv from it, the hp key carried over unchanged. |next| is
 * overwritten; next == cur updates in place. Returns 0 or as keys_init. */
int mpq_crypto_keys_update(mpq_crypto_keys *next, const mpq_crypto_keys *cur);

/* initial_secret = HKDF-Extract(version's initial salt, |dcid|).
 * Returns 0, MPQ_ERR_INVALID_ARGUMENT (unknown version) or MPQ_ERR_TLS. */
int mpq_crypto_initial_secret(uint32_t version, const mpq_cid *dcid,
			      uint8_t out[MPQ_INITIAL_SECRETLEN]);

/* Initial keys (RFC 9001 §5.2, RFC 9369 §3.3.1) from the client's first DCID. */
int mpq_crypto_initial_keys(uint32_t version, const mpq_cid *dcid, mpq_crypto_keys *client,
			    mpq_crypto_keys *server);

/* nonce = iv XOR (path ID, 32 bits ‖ 0b00 ‖ pn, 62 bits). Path 0 gives the RFC 9001 nonce. */
void mpq_crypto_nonce(const mpq_crypto_keys *k, uint32_t path_id, uint64_t pn,
		      uint8_t nonce[MPQ_AEAD_IVLEN]);

/* RFC 9001 §6.6 and Appendix B: how many packets one key of |cipher| may
 * protect (AES-GCM 2^23; ChaCha20-Poly1305's is beyond any packet count:
 * UINT64_MAX), and how many packets failing authentication a connection may
 * see (AES-GCM 2^52, ChaCha20-Poly1305 2^36). */
uint64_t mpq_crypto_confidentiality_limit(int cipher);
uint64_t mpq_crypto_integrity_limit(int cipher);

/* Encrypts |len| bytes of |in| to |out| (may be the same buffer) and appends the
 * 16-byte tag, so |out| needs len + 16 bytes. |ad| is the unprotected header.
 * Counts the packet in k->sealed. Returns 0 or MPQ_ERR_TLS. */
int mpq_crypto_seal(mpq_crypto_keys *k, uint32_t path_id, uint64_t pn, const uint8_t *ad,
		    size_t adlen, const uint8_t *in, size_t len, uint8_t *out);

/* Decrypts |len| bytes (ciphertext and tag) of |in| to |out| (may be the same),
 * writing len - 16 bytes. Returns 0 or MPQ_ERR_DECRYPT (also for len < 16). */
int mpq_crypto_open(mpq_crypto_keys *k, uint32_t path_id, uint64_t pn, const uint8_t *ad,
		    size_t adlen, const uint8_t *in, size_t len, uint8_t *out);

/* Header protection mask from a 16-byte sample (AES-ECB, or ChaCha20 with the
 * sample's first 4 bytes as counter). Returns 0 or MPQ_ERR_TLS. */
int mpq_crypto_hp_mask(mpq_crypto_keys *k, const uint8_t sample[MPQ_HP_SAMPLELEN],
		       uint8_t mask[MPQ_HP_MASKLEN]);

/* Retry integrity tag (RFC 9001 §5.8, RFC 9369 §3.3.3) over the pseudo-packet
 * ODCID length ‖ ODCID ‖ |retry| (the Retry packet without its tag).
 * Returns 0, MPQ_ERR_INVALID_ARGUMENT (version), MPQ_ERR_NOMEM or MPQ_ERR_TLS. */
int mpq_crypto_retry_tag(uint32_t version, const mpq_cid *odcid, const uint8_t *retry, size_t len,
			 uint8_t tag[MPQ_AEAD_TAGLEN]);

#endif
