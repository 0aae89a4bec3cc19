/* Packet protection against RFC 9001 Appendix A, RFC 9369 Appendix A and the
 * multipath nonce example of draft-ietf-quic-multipath. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "quic/crypto.h"
#include "quic/crypto_algs.h"
#include "../common/hex.h"

/* RFC 9001 A.1 / RFC 9369 A.1: the client's first DCID. */
static const mpq_cid rfc_dcid = {8, {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}};

/* RFC 9001 A.5 / RFC 9369 A.5: a ChaCha20-Poly1305 application secret. */
static const char *chacha_secret =
	"9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b";

static void assert_hex(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t want[256];
	size_t n = test_unhex(hex, want, sizeof(want));
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
}

static void assert_label(const char *label, size_t outlen, const char *hex)
{
	uint8_t buf[64];
	int n = mpq_crypto_hkdf_label(buf, sizeof(buf), label, outlen);
	assert_true(n > 0);
	assert_hex(buf, (size_t)n, hex);
}

static void hkdf_label_bytes(void **state)
{
	(void)state;
	/* RFC 9001 A.1 */
	assert_label("client in", 32, "00200f746c73313320636c69656e7420696e00");
	assert_label("server in", 32, "00200f746c7331332073657276657220696e00");
	assert_label("quic key", 16, "00100e746c7331332071756963206b657900");
	assert_label("quic iv", 12, "000c0d746c733133207175696320697600");
	assert_label("quic hp", 16, "00100d746c733133207175696320687000");
	/* RFC 9369 A.1 */
	assert_label("quicv2 key", 16, "001010746c73313320717569637632206b657900");
	assert_label("quicv2 iv", 12, "000c0f746c7331332071756963763220697600");
	assert_label("quicv2 hp", 16, "00100f746c7331332071756963763220687000");

	uint8_t small[8];
	assert_int_equal(mpq_crypto_hkdf_label(small, sizeof(small), "quic key", 16),
			 MPQ_ERR_NOBUF);
}

/* RFC 4231 §4.2, §4.3 and §4.7 (a key longer than a block is hashed first). */
static void hmac_rfc4231(void **state)
{
	(void)state;
	uint8_t key[131], out[48];
	mpq_hmac h;

	memset(key, 0x0b, 20);
	assert_int_equal(mpq_crypto_hmac_sha256(key, 20, (const uint8_t *)"Hi There", 8, out), 0);
	assert_hex(out, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	assert_int_equal(mpq_hmac_init(&h, MPQ_DIGEST_SHA384, key, 20), 0);
	for (int i = 0; i < 2; i++) { /* the key stays for a second message */
		assert_int_equal(mpq_hmac_begin(&h), 0);
		assert_int_equal(mpq_hmac_update(&h, "Hi ", 3), 0);
		assert_int_equal(mpq_hmac_update(&h, "There", 5), 0);
		assert_int_equal(mpq_hmac_finish(&h, out), 0);
		assert_hex(out, h.len,
			   "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
			   "faea9ea9076ede7f4af152e8b2fa9cb6");
	}
	mpq_hmac_free(&h);
	const char *q = "what do ya want for nothing?";
	assert_int_equal(mpq_crypto_hmac_sha256((const uint8_t *)"Jefe", 4, (const uint8_t *)q,
						strlen(q), out),
			 0);
	assert_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, sizeof(key));
	q = "Test Using Larger Than Block-Size Key - Hash Key First";
	assert_int_equal(mpq_crypto_hmac_sha256(key, sizeof(key), (const uint8_t *)q, strlen(q),
						out),
			 0);
	assert_hex(out, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* HKDF-Expand-Label against OpenSSL's HKDF for every length up to three
 * blocks, both hashes. */
static void expand_label_matches_openssl(void **state)
{
	(void)state;
	static const struct {
		int cipher;
		const char *md;
		size_t hashlen;
	} suites[] = {{MPQ_CIPHER_AES_128_GCM, "SHA256", 32},
		      {MPQ_CIPHER_AES_256_GCM, "SHA384", 48}};
	uint8_t secret[48], info[64], got[144], want[144];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	assert_non_null(kdf);
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 7 + 1);
	for (size_t s = 0; s < 2; s++) {
		for (size_t len = 1; len <= 3 * suites[s].hashlen; len++) {
			int infolen = mpq_crypto_hkdf_label(info, sizeof(info), "quic key", len);
			int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
			OSSL_PARAM params[] = {
				OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
				OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
								 (char *)suites[s].md, 0),
				OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secret,
								  suites[s].hashlen),
				OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
								  (size_t)infolen),
				OSSL_PARAM_construct_end(),
			};
			EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
			assert_int_equal(EVP_KDF_derive(ctx, want, len, params), 1);
			EVP_KDF_CTX_free(ctx);
			assert_int_equal(mpq_crypto_hkdf_expand_label(suites[s].cipher, secret,
								      suites[s].hashlen,
								      "quic key", got, len),
					 0);
			assert_memory_equal(got, want, len);
		}
	}
	EVP_KDF_free(kdf);
}

static void assert_keys(const mpq_crypto_keys *k, const char *secret, const char *key,
			const char *iv, const char *hp)
{
	assert_hex(k->secret, k->secretlen, secret);
	assert_hex(k->key, k->keylen, key);
	assert_hex(k->iv, MPQ_AEAD_IVLEN, iv);
	assert_hex(k->hp, k->keylen, hp);
	assert_non_null(k->aead);
	assert_non_null(k->hp_ctx);
}

static void rfc9001_initial_keys(void **state)
{
	(void)state;
	uint8_t initial[MPQ_INITIAL_SECRETLEN];
	mpq_crypto_keys c, s;

	assert_int_equal(mpq_crypto_initial_secret(MPQ_VERSION_1, &rfc_dcid, initial), 0);
	assert_hex(initial, sizeof(initial),
		   "7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44");
	assert_int_equal(mpq_crypto_initial_keys(MPQ_VERSION_1, &rfc_dcid, &c, &s), 0);
	assert_int_equal(c.cipher, MPQ_CIPHER_AES_128_GCM);
	assert_int_equal(c.version, MPQ_VERSION_1);
	assert_keys(&c, "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
		    "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c",
		    "9f50449e04a0e810283a1e9933adedd2");
	assert_keys(&s, "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
		    "cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e",
		    "c206b8d9b9f0f37644430b490eeaa314");

	/* Header protection masks of A.2 (client) and A.3 (server). */
	uint8_t sample[MPQ_HP_SAMPLELEN], mask[MPQ_HP_MASKLEN];
	test_unhex("d1b1c98dd7689fb8ec11d242b123dc9b", sample, sizeof(sample));
	assert_int_equal(mpq_crypto_hp_mask(&c, sample, mask), 0);
	assert_hex(mask, sizeof(mask), "437b9aec36");
	test_unhex("2cd0991cd25b0aac406a5816b6394100", sample, sizeof(sample));
	assert_int_equal(mpq_crypto_hp_mask(&s, sample, mask), 0);
	assert_hex(mask, sizeof(mask), "2ec0d8356a");
	mpq_crypto_keys_free(&c);
	mpq_crypto_keys_free(&s);
}

static void rfc9369_initial_keys(void **state)
{
	(void)state;
	uint8_t initial[MPQ_INITIAL_SECRETLEN];
	mpq_crypto_keys c, s;

	assert_int_equal(mpq_crypto_initial_secret(MPQ_VERSION_2, &rfc_dcid, initial), 0);
	assert_hex(initial, sizeof(initial),
		   "2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba");
	assert_int_equal(mpq_crypto_initial_keys(MPQ_VERSION_2, &rfc_dcid, &c, &s), 0);
	assert_int_equal(c.version, MPQ_VERSION_2);
	assert_keys(&c, "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
		    "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f",
		    "45b95e15235d6f45a6b19cbcb0294ba9");
	assert_keys(&s, "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
		    "82db637861d55e1d011f19ea71d5d2a7", "dd13c276499c0249d3310652",
		    "edf6d05c83121201b436e16877593c3a");

	uint8_t sample[MPQ_HP_SAMPLELEN], mask[MPQ_HP_MASKLEN];
	test_unhex("ffe67b6abcdb4298b485dd04de806071", sample, sizeof(sample));
	assert_int_equal(mpq_crypto_hp_mask(&c, sample, mask), 0);
	assert_hex(mask, sizeof(mask), "94a0c95e80");
	mpq_crypto_keys_free(&c);
	mpq_crypto_keys_free(&s);
}

/* A.5 of either RFC: keys, nonce, ciphertext of a PING, HP mask, key update. */
struct chacha_vector {
	uint32_t version;
	const char *key, *iv, *hp, *ku, *nonce, *ciphertext, *sample, *mask;
};

static void check_chacha(const struct chacha_vector *v)
{
	uint8_t secret[32], nonce[MPQ_AEAD_IVLEN], ad[4], out[17], plain[1];
	uint8_t sample[MPQ_HP_SAMPLELEN], mask[MPQ_HP_MASKLEN];
	const uint64_t pn = 654360564;
	mpq_crypto_keys k, next;

	test_unhex(chacha_secret, secret, sizeof(secret));
	assert_int_equal(mpq_crypto_keys_init(&k, MPQ_CIPHER_CHACHA20_POLY1305, v->version, secret,
					      sizeof(secret)),
			 0);
	assert_keys(&k, chacha_secret, v->key, v->iv, v->hp);

	mpq_crypto_nonce(&k, 0, pn, nonce);
	assert_hex(nonce, sizeof(nonce), v->nonce);
	test_unhex("4200bff4", ad, sizeof(ad));
	assert_int_equal(mpq_crypto_seal(&k, 0, pn, ad, sizeof(ad), (const uint8_t *)"\x01", 1,
					 out),
			 0);
	assert_hex(out, sizeof(out), v->ciphertext);
	assert_int_equal(mpq_crypto_open(&k, 0, pn, ad, sizeof(ad), out, sizeof(out), plain), 0);
	assert_int_equal(plain[0], 0x01);

	test_unhex(v->sample, sample, sizeof(sample));
	assert_int_equal(mpq_crypto_hp_mask(&k, sample, mask), 0);
	assert_hex(mask, sizeof(mask), v->mask);

	/* Key update: the "ku" secret, new key and iv from it, the same hp key. */
	assert_int_equal(mpq_crypto_keys_update(&next, &k), 0);
	assert_hex(next.secret, next.secretlen, v->ku);
	assert_memory_equal(next.hp, k.hp, 32);
	assert_memory_not_equal(next.key, k.key, 32);
	assert_int_equal(mpq_crypto_hp_mask(&next, sample, mask), 0);
	assert_hex(mask, sizeof(mask), v->mask);
	uint8_t key[32];
	assert_int_equal(mpq_crypto_hkdf_expand_label(MPQ_CIPHER_CHACHA20_POLY1305, next.secret,
						      32,
						      v->version == MPQ_VERSION_1 ? "quic key"
										  : "quicv2 key",
						      key, 32),
			 0);
	assert_memory_equal(next.key, key, 32);
	/* The old phase cannot open what the new one sealed. */
	assert_int_equal(mpq_crypto_seal(&next, 0, pn, ad, sizeof(ad), (const uint8_t *)"\x01", 1,
					 out),
			 0);
	assert_int_equal(mpq_crypto_open(&k, 0, pn, ad, sizeof(ad), out, sizeof(out), plain),
			 MPQ_ERR_DECRYPT);
	assert_int_equal(mpq_crypto_open(&next, 0, pn, ad, sizeof(ad), out, sizeof(out), plain),
			 0);

	/* Updating in place gives the same keys as updating into a new struct. */
	assert_int_equal(mpq_crypto_keys_update(&k, &k), 0);
	assert_memory_equal(k.secret, next.secret, 32);
	assert_memory_equal(k.key, next.key, 32);
	assert_memory_equal(k.iv, next.iv, MPQ_AEAD_IVLEN);
	mpq_crypto_keys_free(&k);
	mpq_crypto_keys_free(&next);
}

static void rfc9001_chacha20(void **state)
{
	(void)state;
	static const struct chacha_vector v = {
		.version = MPQ_VERSION_1,
		.key = "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8",
		.iv = "e0459b3474bdd0e44a41c144",
		.hp = "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4",
		.ku = "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9",
		.nonce = "e0459b3474bdd0e46d417eb0",
		.ciphertext = "655e5cd55c41f69080575d7999c25a5bfb",
		.sample = "5e5cd55c41f69080575d7999c25a5bfb",
		.mask = "aefefe7d03",
	};
	check_chacha(&v);
}

static void rfc9369_chacha20(void **state)
{
	(void)state;
	static const struct chacha_vector v = {
		.version = MPQ_VERSION_2,
		.key = "3bfcddd72bcf02541d7fa0dd1f5f9eeea817e09a6963a0e6c7df0f9a1bab90f2",
		.iv = "a6b5bc6ab7dafce30ffff5dd",
		.hp = "d659760d2ba434a226fd37b35c69e2da8211d10c4f12538787d65645d5d1b8e2",
		.ku = "c69374c49e3d2a9466fa689e49d476db5d0dfbc87d32ceeaa6343fd0ae4c7d88",
		.nonce = "a6b5bc6ab7dafce328ff4a29",
		.ciphertext = "0ae7b6b932bc27d786f4bc2bb20f2162ba",
		.sample = "e7b6b932bc27d786f4bc2bb20f2162ba",
		.mask = "97580e32bf",
	};
	check_chacha(&v);
}

static void multipath_nonce_example(void **state)
{
	(void)state;
	mpq_crypto_keys k;
	uint8_t nonce[MPQ_AEAD_IVLEN];

	memset(&k, 0, sizeof(k));
	test_unhex("6b26114b9cba2b63a9e8dd4f", k.iv, sizeof(k.iv));
	mpq_crypto_nonce(&k, 3, 54321, nonce);
	assert_hex(nonce, sizeof(nonce), "6b2611489cba2b63a9e8097e");
	/* Path 0 is the RFC 9001 nonce: IV XOR packet number. */
	mpq_crypto_nonce(&k, 0, 54321, nonce);
	assert_hex(nonce, sizeof(nonce), "6b26114b9cba2b63a9e8097e");
	/* The largest path ID and packet number stay in their own bits. */
	mpq_crypto_nonce(&k, UINT32_MAX, MPQ_MAX_VARINT, nonce);
	assert_hex(nonce, sizeof(nonce), "94d9eeb4a345d49c561722b0");
	/* The 0b00 bits stay zero even if a caller passes more than 62 bits. */
	mpq_crypto_nonce(&k, UINT32_MAX, UINT64_MAX, nonce);
	assert_hex(nonce, sizeof(nonce), "94d9eeb4a345d49c561722b0");
}

/* Client Initial keys for the seal/open tests below. */
static void initial_client(mpq_crypto_keys *c)
{
	mpq_crypto_keys s;
	assert_int_equal(mpq_crypto_initial_keys(MPQ_VERSION_1, &rfc_dcid, c, &s), 0);
	mpq_crypto_keys_free(&s);
}

static void multipath_seal_differs_per_path(void **state)
{
	(void)state;
	static const uint8_t ad[] = {0x40, 0x01, 0x02};
	static const uint8_t msg[] = "path-specific nonce";
	uint8_t on0[sizeof(msg) + MPQ_AEAD_TAGLEN], on3[sizeof(on0)], plain[sizeof(msg)];
	mpq_crypto_keys k;

	initial_client(&k);
	assert_int_equal(mpq_crypto_seal(&k, 0, 7, ad, sizeof(ad), msg, sizeof(msg), on0), 0);
	assert_int_equal(mpq_crypto_seal(&k, 3, 7, ad, sizeof(ad), msg, sizeof(msg), on3), 0);
	assert_memory_not_equal(on0, on3, sizeof(msg));
	assert_memory_not_equal(on0 + sizeof(msg), on3 + sizeof(msg), MPQ_AEAD_TAGLEN);

	assert_int_equal(mpq_crypto_open(&k, 0, 7, ad, sizeof(ad), on3, sizeof(on3), plain),
			 MPQ_ERR_DECRYPT);
	assert_int_equal(mpq_crypto_open(&k, 4, 7, ad, sizeof(ad), on3, sizeof(on3), plain),
			 MPQ_ERR_DECRYPT);
	assert_int_equal(mpq_crypto_open(&k, 3, 7, ad, sizeof(ad), on3, sizeof(on3), plain), 0);
	assert_memory_equal(plain, msg, sizeof(msg));
	assert_int_equal(mpq_crypto_open(&k, 0, 7, ad, sizeof(ad), on0, sizeof(on0), plain), 0);
	assert_memory_equal(plain, msg, sizeof(msg));
	/* Both paths' packets count against the one key (RFC 9001 §6.6). */
	assert_int_equal(k.sealed, 2);
	mpq_crypto_keys_free(&k);
}

/* RFC 9001 §6.6 and Appendix B, and a key update starts a fresh count. */
static void aead_limits(void **state)
{
	(void)state;
	assert_int_equal(mpq_crypto_confidentiality_limit(MPQ_CIPHER_AES_128_GCM), 1ULL << 23);
	assert_int_equal(mpq_crypto_confidentiality_limit(MPQ_CIPHER_AES_256_GCM), 1ULL << 23);
	assert_int_equal(mpq_crypto_confidentiality_limit(MPQ_CIPHER_CHACHA20_POLY1305),
			 UINT64_MAX);
	assert_int_equal(mpq_crypto_integrity_limit(MPQ_CIPHER_AES_128_GCM), 1ULL << 52);
	assert_int_equal(mpq_crypto_integrity_limit(MPQ_CIPHER_AES_256_GCM), 1ULL << 52);
	assert_int_equal(mpq_crypto_integrity_limit(MPQ_CIPHER_CHACHA20_POLY1305), 1ULL << 36);
	static const uint8_t ad[] = {0x40};
	uint8_t out[1 + MPQ_AEAD_TAGLEN];
	mpq_crypto_keys k, next;
	initial_client(&k);
	assert_int_equal(k.sealed, 0);
	for (uint64_t pn = 0; pn < 3; pn++)
		assert_int_equal(mpq_crypto_seal(&k, 0, pn, ad, 1, ad, 1, out), 0);
	assert_int_equal(k.sealed, 3);
	assert_int_equal(mpq_crypto_keys_update(&next, &k), 0);
	assert_int_equal(next.sealed, 0);
	assert_int_equal(mpq_crypto_keys_update(&k, &k), 0);
	assert_int_equal(k.sealed, 0);
	mpq_crypto_keys_free(&k);
	mpq_crypto_keys_free(&next);
}

static void aes256_round_trip_and_tamper(void **state)
{
	(void)state;
	uint8_t secret[48], buf[64 + MPQ_AEAD_TAGLEN], msg[64], ad[5] = {1, 2, 3, 4, 5};
	mpq_crypto_keys k;

	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	assert_int_equal(mpq_crypto_keys_init(&k, MPQ_CIPHER_AES_256_GCM, MPQ_VERSION_1, secret,
					      sizeof(secret)),
			 0);
	assert_int_equal(k.keylen, 32);

	/* In place: seal then open the same buffer. */
	memcpy(buf, msg, sizeof(msg));
	assert_int_equal(mpq_crypto_seal(&k, 1, 1000, ad, sizeof(ad), buf, sizeof(msg), buf), 0);
	assert_memory_not_equal(buf, msg, sizeof(msg));
	assert_int_equal(mpq_crypto_open(&k, 1, 1000, ad, sizeof(ad), buf, sizeof(buf), buf), 0);
	assert_memory_equal(buf, msg, sizeof(msg));

	assert_int_equal(mpq_crypto_seal(&k, 1, 1000, ad, sizeof(ad), msg, sizeof(msg), buf), 0);
	uint8_t out[sizeof(msg)];
	buf[sizeof(buf) - 1] ^= 0x80; /* tag */
	assert_int_equal(mpq_crypto_open(&k, 1, 1000, ad, sizeof(ad), buf, sizeof(buf), out),
			 MPQ_ERR_DECRYPT);
	buf[sizeof(buf) - 1] ^= 0x80;
	buf[3] ^= 1; /* ciphertext */
	assert_int_equal(mpq_crypto_open(&k, 1, 1000, ad, sizeof(ad), buf, sizeof(buf), out),
			 MPQ_ERR_DECRYPT);
	buf[3] ^= 1;
	ad[0] ^= 1; /* header */
	assert_int_equal(mpq_crypto_open(&k, 1, 1000, ad, sizeof(ad), buf, sizeof(buf), out),
			 MPQ_ERR_DECRYPT);
	ad[0] ^= 1;
	assert_int_equal(mpq_crypto_open(&k, 1, 1001, ad, sizeof(ad), buf, sizeof(buf), out),
			 MPQ_ERR_DECRYPT);
	assert_int_equal(mpq_crypto_open(&k, 1, 1000, ad, sizeof(ad), buf, 15, out),
			 MPQ_ERR_DECRYPT);
	/* A failed open leaves the context usable. */
	assert_int_equal(mpq_crypto_open(&k, 1, 1000, ad, sizeof(ad), buf, sizeof(buf), out), 0);
	assert_memory_equal(out, msg, sizeof(msg));

	/* Empty payload: only a tag. */
	assert_int_equal(mpq_crypto_seal(&k, 0, 0, ad, sizeof(ad), NULL, 0, buf), 0);
	assert_int_equal(mpq_crypto_open(&k, 0, 0, ad, sizeof(ad), buf, MPQ_AEAD_TAGLEN, out), 0);
	mpq_crypto_keys_free(&k);
}

static void retry_tags(void **state)
{
	(void)state;
	uint8_t pkt[64], tag[MPQ_AEAD_TAGLEN];
	size_t n;

	/* RFC 9001 A.4 and RFC 9369 A.4: the tag is the last 16 bytes. */
	n = test_unhex("ff000000010008f067a5502a4262b5746f6b656e"
		       "04a265ba2eff4d829058fb3f0f2496ba",
		       pkt, sizeof(pkt));
	assert_int_equal(mpq_crypto_retry_tag(MPQ_VERSION_1, &rfc_dcid, pkt, n - 16, tag), 0);
	assert_memory_equal(tag, pkt + n - 16, 16);
	n = test_unhex("cf6b3343cf0008f067a5502a4262b5746f6b656e"
		       "c8646ce8bfe33952d955543665dcc7b6",
		       pkt, sizeof(pkt));
	assert_int_equal(mpq_crypto_retry_tag(MPQ_VERSION_2, &rfc_dcid, pkt, n - 16, tag), 0);
	assert_memory_equal(tag, pkt + n - 16, 16);
	assert_int_equal(mpq_crypto_retry_tag(0xff00001d, &rfc_dcid, pkt, n - 16, tag),
			 MPQ_ERR_INVALID_ARGUMENT);
}

static void invalid_arguments(void **state)
{
	(void)state;
	uint8_t secret[48] = {0};
	mpq_crypto_keys k;
	mpq_crypto_keys c, s;

	assert_int_equal(mpq_crypto_cipher_from_tls(0x1301), MPQ_CIPHER_AES_128_GCM);
	assert_int_equal(mpq_crypto_cipher_from_tls(0x1302), MPQ_CIPHER_AES_256_GCM);
	assert_int_equal(mpq_crypto_cipher_from_tls(0x1303), MPQ_CIPHER_CHACHA20_POLY1305);
	assert_int_equal(mpq_crypto_cipher_from_tls(0x1304), MPQ_ERR_INVALID_ARGUMENT);

	/* The secret must be as long as the suite's hash. */
	assert_int_equal(mpq_crypto_keys_init(&k, MPQ_CIPHER_AES_128_GCM, MPQ_VERSION_1, secret,
					      48),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_null(k.aead);
	assert_int_equal(mpq_crypto_keys_init(&k, MPQ_CIPHER_AES_256_GCM, MPQ_VERSION_1, secret,
					      32),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_crypto_keys_init(&k, 0, MPQ_VERSION_1, secret, 32),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_crypto_keys_init(&k, 4, MPQ_VERSION_1, secret, 32),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_crypto_keys_init(&k, MPQ_CIPHER_AES_128_GCM, 0xff00001d, secret, 32),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_crypto_initial_keys(0x0a0a0a0a, &rfc_dcid, &c, &s),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_crypto_keys_update(&c, &k), MPQ_ERR_INVALID_ARGUMENT);

	/* Operations on keys that were never set fail instead of crashing. */
	uint8_t out[32], mask[MPQ_HP_MASKLEN];
	assert_int_equal(mpq_crypto_seal(&k, 0, 0, NULL, 0, secret, 4, out), MPQ_ERR_TLS);
	assert_int_equal(mpq_crypto_open(&k, 0, 0, NULL, 0, secret, 20, out), MPQ_ERR_DECRYPT);
	assert_int_equal(mpq_crypto_hp_mask(&k, secret, mask), MPQ_ERR_TLS);
	mpq_crypto_keys_free(&k); /* zeroed: safe */
}

static void zero_length_dcid(void **state)
{
	(void)state;
	mpq_cid empty = {0, {0}};
	uint8_t a[MPQ_INITIAL_SECRETLEN], b[MPQ_INITIAL_SECRETLEN];
	mpq_crypto_keys c, s;

	/* A Retry may hand the client an empty SCID to use as its new DCID. */
	assert_int_equal(mpq_crypto_initial_secret(MPQ_VERSION_1, &empty, a), 0);
	assert_int_equal(mpq_crypto_initial_secret(MPQ_VERSION_1, &rfc_dcid, b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(mpq_crypto_initial_keys(MPQ_VERSION_1, &empty, &c, &s), 0);
	assert_memory_not_equal(c.key, s.key, 16);
	mpq_crypto_keys_free(&c);
	mpq_crypto_keys_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hkdf_label_bytes),
		cmocka_unit_test(hmac_rfc4231),
		cmocka_unit_test(expand_label_matches_openssl),
		cmocka_unit_test(rfc9001_initial_keys),
		cmocka_unit_test(rfc9369_initial_keys),
		cmocka_unit_test(rfc9001_chacha20),
		cmocka_unit_test(rfc9369_chacha20),
		cmocka_unit_test(multipath_nonce_example),
		cmocka_unit_test(multipath_seal_differs_per_path),
		cmocka_unit_test(aead_limits),
		cmocka_unit_test(aes256_round_trip_and_tamper),
		cmocka_unit_test(retry_tags),
		cmocka_unit_test(invalid_arguments),
		cmocka_unit_test(zero_length_dcid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
