/* Packet headers and protection, byte-exact against RFC 9001 Appendix A and
 * RFC 9369 Appendix A; packet numbers against RFC 9000 Appendix A; Version
 * Negotiation, Retry and malformed headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "quic/packet.h"
#include "../common/hex.h"
#include "../common/rfc9001_vectors.h"

#define RFC_DCID \
	{ \
		8, \
		{ \
			0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 \
		} \
	}
#define SERVER_CID \
	{ \
		8, \
		{ \
			0xf0, 0x67, 0xa5, 0x50, 0x2a, 0x42, 0x62, 0xb5 \
		} \
	}
static const mpq_cid rfc_dcid = RFC_DCID;
static const mpq_cid server_cid = SERVER_CID;

static const char *rfc9001_retry =
	"ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba";
static const char *rfc9369_retry =
	"cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6";

static const char *chacha_secret =
	"9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b";
static const char *rfc9001_short = "4cfe4189655e5cd55c41f69080575d7999c25a5bfb";
static const char *rfc9369_short = "5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba";

#define CHACHA_PN 654360564

/* Initial keys for |version|: client's or server's sending keys. */
static void initial_keys(uint32_t version, bool client, mpq_crypto_keys *k)
{
	mpq_crypto_keys c, s;
	assert_int_equal(mpq_crypto_initial_keys(version, &rfc_dcid, &c, &s), 0);
	*k = client ? c : s;
	mpq_crypto_keys_free(client ? &s : &c);
}

static void chacha_keys(uint32_t version, mpq_crypto_keys *k)
{
	uint8_t secret[32];
	test_unhex(chacha_secret, secret, sizeof(secret));
	assert_int_equal(mpq_crypto_keys_init(k, MPQ_CIPHER_CHACHA20_POLY1305, version, secret,
					      sizeof(secret)),
			 0);
}

/* Builds a packet from |hd| and |payload| and compares it with |want|. */
static void build_and_compare(mpq_pkt_hd *hd, const uint8_t *payload, size_t payloadlen,
			      mpq_crypto_keys *k, const uint8_t *want, size_t wantlen)
{
	static uint8_t buf[1500];
	mpq_writer w;

	mpq_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(mpq_pkt_encode_hd(&w, hd), 0);
	size_t hdrlen = sizeof(buf) - mpq_writer_left(&w);
	assert_int_equal(hdrlen, hd->pn_offset + hd->pn_len);
	memcpy(buf + hdrlen, payload, payloadlen);
	assert_int_equal(mpq_pkt_protect(buf, sizeof(buf), hd, payloadlen, k, 0), (int)wantlen);
	assert_memory_equal(buf, want, wantlen);
}

/* Decodes |pkt|, removes protection and compares the payload. */
static void open_and_compare(uint8_t *pkt, size_t len, size_t short_dcidlen, mpq_crypto_keys *k,
			     int64_t largest, const mpq_pkt_hd *want, const uint8_t *payload,
			     size_t payloadlen)
{
	mpq_pkt_hd hd;
	uint8_t *plain;
	size_t plainlen;

	assert_int_equal(mpq_pkt_decode_hd(&hd, pkt, len, short_dcidlen), 0);
	assert_int_equal(hd.type, want->type);
	assert_int_equal(hd.version, want->version);
	assert_int_equal(hd.dcid.len, want->dcid.len);
	assert_memory_equal(hd.dcid.data, want->dcid.data, want->dcid.len);
	assert_int_equal(hd.scid.len, want->scid.len);
	assert_memory_equal(hd.scid.data, want->scid.data, want->scid.len);
	assert_int_equal(hd.tokenlen, want->tokenlen);
	assert_int_equal(hd.pktlen, len);
	assert_int_equal(mpq_pkt_remove_hp(pkt, &hd, k, largest), 0);
	assert_int_equal(hd.first, want->first);
	assert_int_equal(hd.pn, want->pn);
	assert_int_equal(hd.pn_len, want->pn_len);
	assert_false(mpq_pkt_reserved_bits_set(&hd));
	assert_int_equal(mpq_pkt_decrypt(pkt, &hd, k, 0, &plain, &plainlen), 0);
	assert_int_equal(plainlen, payloadlen);
	assert_memory_equal(plain, payload, payloadlen);
}

/* Builds an Initial of either RFC's A.2 or A.3 and compares it byte for byte,
 * then opens the RFC's packet with the sender's keys (as the peer would). */
static void initial_exact(uint32_t version, bool client, const char *payload_hex,
			  size_t payloadlen, const char *want_hex, size_t wantlen,
			  const mpq_pkt_hd *hd, int64_t largest)
{
	uint8_t payload[1162] = {0}, want[1200];
	mpq_pkt_hd h = *hd;
	mpq_crypto_keys k;

	/* The client's CRYPTO frame is padded with zeros (PADDING) to payloadlen. */
	assert_true(test_unhex(payload_hex, payload, sizeof(payload)) <= payloadlen);
	assert_int_equal(test_unhex(want_hex, want, sizeof(want)), wantlen);
	h.version = version;
	initial_keys(version, client, &k);
	build_and_compare(&h, payload, payloadlen, &k, want, wantlen);
	open_and_compare(want, wantlen, 0, &k, largest, &h, payload, payloadlen);
	mpq_crypto_keys_free(&k);
}

/* A.2: the client's first Initial, PN 2 in 4 bytes, CRYPTO padded to 1162 bytes. */
static const mpq_pkt_hd client_hd = {
	.type = MPQ_PKT_INITIAL,
	.dcid = RFC_DCID,
	.pn = 2,
	.pn_len = 4,
	.first = 0xc3,
};

/* A.3: the server's Initial, new SCID, PN 1 in 2 bytes, ACK + CRYPTO (99 bytes). */
static const mpq_pkt_hd server_hd = {
	.type = MPQ_PKT_INITIAL,
	.scid = SERVER_CID,
	.pn = 1,
	.pn_len = 2,
	.first = 0xc1,
};

static void rfc9001_client_initial_exact(void **state)
{
	(void)state;
	initial_exact(MPQ_VERSION_1, true, client_crypto, 1162, rfc9001_client_initial, 1200,
		      &client_hd, -1);
}

static void rfc9369_client_initial_exact(void **state)
{
	(void)state;
	mpq_pkt_hd hd = client_hd;
	hd.first = 0xd3; /* v2 Initial type bits 0b01 */
	initial_exact(MPQ_VERSION_2, true, client_crypto, 1162, rfc9369_client_initial, 1200, &hd,
		      -1);
}

static void rfc9001_server_initial_exact(void **state)
{
	(void)state;
	initial_exact(MPQ_VERSION_1, false, server_payload, 99, rfc9001_server_initial, 135,
		      &server_hd, 0);
}

static void rfc9369_server_initial_exact(void **state)
{
	(void)state;
	mpq_pkt_hd hd = server_hd;
	hd.first = 0xd1;
	initial_exact(MPQ_VERSION_2, false, server_payload, 99, rfc9369_server_initial, 135, &hd,
		      0);
}

/* A.4: Retry with token "token" from the server's CID, bound to the client's DCID. */
static void retry(uint32_t version, const char *want_hex)
{
	uint8_t want[36], buf[64];
	mpq_cid empty = {0, {0}};
	mpq_pkt_hd hd;

	assert_int_equal(test_unhex(want_hex, want, sizeof(want)), sizeof(want));
	assert_int_equal(mpq_pkt_encode_retry(buf, sizeof(buf), version, &empty, &server_cid,
					      &rfc_dcid, (const uint8_t *)"token", 5, 0x0f),
			 sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	assert_int_equal(mpq_pkt_decode_hd(&hd, want, sizeof(want), 0), 0);
	assert_int_equal(hd.type, MPQ_PKT_RETRY);
	assert_int_equal(hd.tokenlen, 5);
	assert_memory_equal(hd.token, "token", 5);
	assert_int_equal(hd.pktlen, sizeof(want));

	assert_true(mpq_pkt_verify_retry(version, &rfc_dcid, want, sizeof(want)));
	for (size_t i = 0; i < sizeof(want); i++) {
		want[i] ^= 0x01;
		assert_false(mpq_pkt_verify_retry(version, &rfc_dcid, want, sizeof(want)));
		want[i] ^= 0x01;
	}
	assert_false(mpq_pkt_verify_retry(version, &server_cid, want, sizeof(want)));
	assert_false(mpq_pkt_verify_retry(version ^ 1, &rfc_dcid, want, sizeof(want)));
	assert_false(mpq_pkt_verify_retry(version, &rfc_dcid, want, sizeof(want) - 1));
	assert_int_equal(mpq_pkt_encode_retry(buf, sizeof(want) - 1, version, &empty, &server_cid,
					      &rfc_dcid, (const uint8_t *)"token", 5, 0x0f),
			 MPQ_ERR_NOBUF);
}

static void rfc9001_retry_exact(void **state)
{
	(void)state;
	retry(MPQ_VERSION_1, rfc9001_retry);
}

static void rfc9369_retry_exact(void **state)
{
	(void)state;
	retry(MPQ_VERSION_2, rfc9369_retry);
}

/* A.5: a PING in a short header, empty DCID, PN 654360564 in 3 bytes. */
static void chacha_short(uint32_t version, const char *want_hex)
{
	uint8_t want[21];
	mpq_crypto_keys k;
	mpq_pkt_hd hd = {
		.type = MPQ_PKT_1RTT,
		.pn = CHACHA_PN,
		.pn_len = 3,
		.first = 0x42,
	};

	assert_int_equal(test_unhex(want_hex, want, sizeof(want)), sizeof(want));
	chacha_keys(version, &k);
	build_and_compare(&hd, (const uint8_t *)"\x01", 1, &k, want, sizeof(want));
	open_and_compare(want, sizeof(want), 0, &k, CHACHA_PN - 1, &hd, (const uint8_t *)"\x01",
			 1);
	mpq_crypto_keys_free(&k);
}

static void rfc9001_chacha_short_exact(void **state)
{
	(void)state;
	chacha_short(MPQ_VERSION_1, rfc9001_short);
}

static void rfc9369_chacha_short_exact(void **state)
{
	(void)state;
	chacha_short(MPQ_VERSION_2, rfc9369_short);
}

static void pn_encode_length(void **state)
{
	(void)state;
	/* RFC 9000 A.2 */
	assert_int_equal(mpq_pkt_pn_len(0xac5c02, 0xabe8b3), 2);
	assert_int_equal(mpq_pkt_pn_len(0xace8fe, 0xabe8b3), 3);
	/* Nothing acknowledged yet: counts from zero. */
	assert_int_equal(mpq_pkt_pn_len(0, -1), 1);
	assert_int_equal(mpq_pkt_pn_len(126, -1), 1);
	assert_int_equal(mpq_pkt_pn_len(127, -1), 2);
	/* Boundaries: the window must be twice the unacknowledged span. */
	assert_int_equal(mpq_pkt_pn_len(1127, 1000), 1);
	assert_int_equal(mpq_pkt_pn_len(1128, 1000), 2);
	assert_int_equal(mpq_pkt_pn_len(1000 + 32767, 1000), 2);
	assert_int_equal(mpq_pkt_pn_len(1000 + 32768, 1000), 3);
	assert_int_equal(mpq_pkt_pn_len(1000 + 8388608, 1000), 4);
	assert_int_equal(mpq_pkt_pn_len(MPQ_MAX_VARINT, 0), 4);
	assert_int_equal(mpq_pkt_pn_len(MPQ_MAX_VARINT, MPQ_MAX_VARINT - 1), 1);
}

static void pn_decode(void **state)
{
	(void)state;
	const uint64_t top = MPQ_MAX_VARINT;

	/* RFC 9000 A.3 */
	assert_int_equal(mpq_pkt_decode_pn(0xa82f30ea, 0x9b32, 16), 0xa82f9b32);
	assert_int_equal(mpq_pkt_decode_pn(-1, 0, 8), 0);
	assert_int_equal(mpq_pkt_decode_pn(-1, 2, 32), 2);
	/* Round to the candidate nearest the expected value, up and down. */
	assert_int_equal(mpq_pkt_decode_pn(0x2fe, 0x00, 8), 0x300);
	assert_int_equal(mpq_pkt_decode_pn(0x1ff, 0x01, 8), 0x201);
	assert_int_equal(mpq_pkt_decode_pn(0x300, 0xff, 8), 0x2ff);
	/* Never below zero. */
	assert_int_equal(mpq_pkt_decode_pn(0, 0xff, 8), 0xff);
	/* Never past 2^62-1. */
	assert_int_equal(mpq_pkt_decode_pn((int64_t)top - 1, 0x00, 8), top - 0xff);
	assert_int_equal(mpq_pkt_decode_pn((int64_t)top - 1, 0xff, 8), top);
	assert_int_equal(mpq_pkt_decode_pn((int64_t)top - 1, 0xffffffff, 32), top);
	assert_int_equal(mpq_pkt_decode_pn((int64_t)top - 10, 0xfffffff5, 32), top - 10);
	assert_int_equal(mpq_pkt_decode_pn((int64_t)top - 1, 0x00000000, 32), top - 0xffffffffULL);
	/* Encoding then decoding gives the packet number back. */
	for (uint64_t pn = 0; pn < 5000; pn += 37) {
		for (int64_t acked = -1; acked < (int64_t)pn; acked += 113) {
			size_t n = mpq_pkt_pn_len(pn, acked);
			uint64_t trunc = pn & ((1ULL << (8 * n)) - 1);
			assert_int_equal(mpq_pkt_decode_pn(acked, trunc, 8 * n), pn);
		}
	}
}

/* Encodes a long or short header packet, protects it, opens it again. */
static void round_trip(uint32_t version, int type, bool key_phase, uint32_t path_id)
{
	uint8_t buf[256], payload[40];
	mpq_crypto_keys k;
	mpq_writer w;
	mpq_pkt_hd hd = {
		.type = type,
		.version = type == MPQ_PKT_1RTT ? 0 : version,
		.dcid = server_cid,
		.scid = rfc_dcid,
		.pn = 0x12345,
		.pn_len = 3,
		.key_phase = key_phase,
	};

	memset(payload, 0xa5, sizeof(payload));
	initial_keys(version, true, &k);
	mpq_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(mpq_pkt_encode_hd(&w, &hd), 0);
	memcpy(w.pos, payload, sizeof(payload));
	int n = mpq_pkt_protect(buf, sizeof(buf), &hd, sizeof(payload), &k, path_id);
	assert_true(n > 0);
	assert_int_equal(n, hd.pn_offset + hd.pn_len + sizeof(payload) + MPQ_AEAD_TAGLEN);

	mpq_pkt_hd got;
	uint8_t *plain;
	size_t plainlen;
	assert_int_equal(mpq_pkt_decode_hd(&got, buf, (size_t)n, server_cid.len), 0);
	assert_int_equal(got.type, type);
	assert_int_equal(got.pn_offset, hd.pn_offset);
	assert_int_equal(mpq_pkt_remove_hp(buf, &got, &k, 0x12300), 0);
	assert_int_equal(got.pn, 0x12345);
	assert_int_equal(got.key_phase, key_phase);
	assert_false(mpq_pkt_reserved_bits_set(&got));
	if (path_id) {
		uint8_t copy[256];
		memcpy(copy, buf, (size_t)n);
		assert_int_equal(mpq_pkt_decrypt(copy, &got, &k, 0, &plain, &plainlen),
				 MPQ_ERR_DECRYPT);
	}
	assert_int_equal(mpq_pkt_decrypt(buf, &got, &k, path_id, &plain, &plainlen), 0);
	assert_int_equal(plainlen, sizeof(payload));
	assert_memory_equal(plain, payload, sizeof(payload));
	mpq_crypto_keys_free(&k);
}

static void long_header_types_per_version(void **state)
{
	(void)state;
	static const struct {
		uint32_t version;
		int type;
		uint8_t bits;
	} cases[] = {
		{MPQ_VERSION_1, MPQ_PKT_INITIAL, 0},   {MPQ_VERSION_1, MPQ_PKT_0RTT, 1},
		{MPQ_VERSION_1, MPQ_PKT_HANDSHAKE, 2}, {MPQ_VERSION_2, MPQ_PKT_INITIAL, 1},
		{MPQ_VERSION_2, MPQ_PKT_0RTT, 2},      {MPQ_VERSION_2, MPQ_PKT_HANDSHAKE, 3},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[64];
		mpq_writer w;
		mpq_pkt_hd hd = {.type = cases[i].type, .version = cases[i].version, .pn_len = 1};
		mpq_writer_init(&w, buf, sizeof(buf));
		assert_int_equal(mpq_pkt_encode_hd(&w, &hd), 0);
		assert_int_equal((buf[0] >> 4) & 3, cases[i].bits);
		assert_int_equal(buf[0] & 0xc0, 0xc0);
		round_trip(cases[i].version, cases[i].type, false, 0);
	}
	/* Retry bits: v1 0b11, v2 0b00 (RFC 9369 §3.2). */
	uint8_t buf[64];
	mpq_cid empty = {0, {0}};
	assert_true(mpq_pkt_encode_retry(buf, sizeof(buf), MPQ_VERSION_1, &empty, &empty,
					 &rfc_dcid, NULL, 0, 0) > 0);
	assert_int_equal(buf[0], 0xf0);
	assert_true(mpq_pkt_encode_retry(buf, sizeof(buf), MPQ_VERSION_2, &empty, &empty,
					 &rfc_dcid, NULL, 0, 0) > 0);
	assert_int_equal(buf[0], 0xc0);
}

static void short_header_bits_and_paths(void **state)
{
	(void)state;
	uint8_t buf[16];
	mpq_writer w;
	mpq_pkt_hd hd = {.type = MPQ_PKT_1RTT,
			 .dcid = server_cid,
			 .pn = 5,
			 .pn_len = 1,
			 .key_phase = true};

	mpq_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(mpq_pkt_encode_hd(&w, &hd), 0);
	assert_int_equal(buf[0], 0x44); /* fixed bit, spin 0, key phase 1, pn_len 1 */
	assert_int_equal(hd.pn_offset, 9);
	round_trip(MPQ_VERSION_1, MPQ_PKT_1RTT, false, 0);
	round_trip(MPQ_VERSION_1, MPQ_PKT_1RTT, true, 0);
	/* Multipath: another path's nonce. */
	round_trip(MPQ_VERSION_1, MPQ_PKT_1RTT, true, 3);
	round_trip(MPQ_VERSION_2, MPQ_PKT_1RTT, false, 0xffffffff);
}

static void reserved_bits_detected(void **state)
{
	(void)state;
	uint8_t buf[64];
	mpq_crypto_keys k;
	mpq_writer w;
	mpq_pkt_hd hd = {.type = MPQ_PKT_1RTT, .pn = 9, .pn_len = 2};

	chacha_keys(MPQ_VERSION_1, &k);
	mpq_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(mpq_pkt_encode_hd(&w, &hd), 0);
	buf[0] |= 0x10; /* a reserved bit, protected like the rest */
	memset(w.pos, 0, 4);
	int n = mpq_pkt_protect(buf, sizeof(buf), &hd, 4, &k, 0);
	assert_true(n > 0);
	assert_int_equal(mpq_pkt_decode_hd(&hd, buf, (size_t)n, 0), 0);
	assert_int_equal(mpq_pkt_remove_hp(buf, &hd, &k, 8), 0);
	assert_true(mpq_pkt_reserved_bits_set(&hd));
	mpq_crypto_keys_free(&k);
}

static void encode_errors(void **state)
{
	(void)state;
	uint8_t buf[64];
	mpq_crypto_keys k;
	mpq_writer w;
	mpq_pkt_hd hd = {.type = MPQ_PKT_INITIAL,
			 .version = MPQ_VERSION_1,
			 .dcid = rfc_dcid,
			 .pn_len = 4};

	/* Out of room: the writer does not move. */
	mpq_writer_init(&w, buf, 20);
	assert_int_equal(mpq_pkt_encode_hd(&w, &hd), MPQ_ERR_NOBUF);
	assert_ptr_equal(w.pos, buf);
	mpq_writer_init(&w, buf, sizeof(buf));
	hd.pn_len = 5;
	assert_int_equal(mpq_pkt_encode_hd(&w, &hd), MPQ_ERR_INVALID_ARGUMENT);
	hd.pn_len = 1;
	hd.type = MPQ_PKT_RETRY;
	assert_int_equal(mpq_pkt_encode_hd(&w, &hd), MPQ_ERR_INVALID_ARGUMENT);
	hd.type = MPQ_PKT_HANDSHAKE;
	hd.version = 0xff00001d;
	assert_int_equal(mpq_pkt_encode_hd(&w, &hd), MPQ_ERR_INVALID_ARGUMENT);
	hd.version = MPQ_VERSION_1;
	hd.dcid.len = 21;
	assert_int_equal(mpq_pkt_encode_hd(&w, &hd), MPQ_ERR_INVALID_ARGUMENT);
	assert_ptr_equal(w.pos, buf);
	hd.dcid.len = 8;
	assert_int_equal(mpq_pkt_encode_hd(&w, &hd), 0);

	/* Too little payload for the HP sample; too little room for the tag. */
	initial_keys(MPQ_VERSION_1, true, &k);
	assert_int_equal(mpq_pkt_protect(buf, sizeof(buf), &hd, 2, &k, 0),
			 MPQ_ERR_INVALID_ARGUMENT);
	size_t hdrlen = hd.pn_offset + hd.pn_len;
	assert_int_equal(mpq_pkt_protect(buf, hdrlen + 3 + 15, &hd, 3, &k, 0), MPQ_ERR_NOBUF);
	memset(buf + hdrlen, 0, 3);
	assert_int_equal(mpq_pkt_protect(buf, hdrlen + 3 + 16, &hd, 3, &k, 0),
			 (int)(hdrlen + 3 + 16));

	/* The 2-byte Length holds at most 16383: pn + payload + tag. */
	static uint8_t big[16500];
	memcpy(big, buf, hdrlen);
	assert_int_equal(mpq_pkt_protect(big, sizeof(big), &hd, 16383 - 16, &k, 0),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_pkt_protect(big, sizeof(big), &hd, 16383 - 17, &k, 0),
			 (int)(hd.pn_offset + 16383));
	mpq_crypto_keys_free(&k);
}

static void version_negotiation(void **state)
{
	(void)state;
	static const uint32_t versions[] = {MPQ_VERSION_1, MPQ_VERSION_2, 0x0a0a0a0a};
	uint8_t buf[64];
	uint32_t got[4];
	mpq_pkt_hd hd;

	int n = mpq_pkt_encode_vn(buf, sizeof(buf), &rfc_dcid, &server_cid, versions, 3, 0x4a);
	assert_int_equal(n, 7 + 8 + 8 + 12);
	assert_int_equal(buf[0], 0xca);
	assert_int_equal(mpq_pkt_decode_hd(&hd, buf, (size_t)n, 0), 0);
	assert_int_equal(hd.type, MPQ_PKT_VERSION_NEGOTIATION);
	assert_int_equal(hd.version, 0);
	assert_memory_equal(&hd.dcid, &rfc_dcid, sizeof(mpq_cid));
	assert_memory_equal(&hd.scid, &server_cid, sizeof(mpq_cid));
	assert_int_equal(hd.pktlen, n);
	assert_int_equal(mpq_pkt_decode_vn(buf, (size_t)n, got, 4), 3);
	assert_memory_equal(got, versions, sizeof(versions));
	assert_int_equal(mpq_pkt_decode_vn(buf, (size_t)n, got, 2), 2);

	/* A partial version, an empty list, a real version, a short header. */
	assert_int_equal(mpq_pkt_decode_vn(buf, (size_t)n - 1, got, 4), MPQ_ERR_INVALID_PACKET);
	assert_int_equal(mpq_pkt_decode_vn(buf, (size_t)n - 12, got, 4), MPQ_ERR_INVALID_PACKET);
	buf[4] = 1;
	assert_int_equal(mpq_pkt_decode_vn(buf, (size_t)n, got, 4), MPQ_ERR_INVALID_PACKET);
	buf[4] = 0;
	buf[0] = 0x4a;
	assert_int_equal(mpq_pkt_decode_vn(buf, (size_t)n, got, 4), MPQ_ERR_INVALID_PACKET);
	assert_int_equal(mpq_pkt_encode_vn(buf, 30, &rfc_dcid, &server_cid, versions, 3, 0),
			 MPQ_ERR_NOBUF);

	/* Invariants allow CIDs up to 255 bytes in VN: decode_vn skips them,
	 * decode_hd cannot keep them. */
	uint8_t big[1 + 4 + 1 + 30 + 1 + 0 + 4] = {0x80, 0, 0, 0, 0, 30};
	big[sizeof(big) - 1] = 1;
	assert_int_equal(mpq_pkt_decode_vn(big, sizeof(big), got, 4), 1);
	assert_int_equal(got[0], 1);
	assert_int_equal(mpq_pkt_decode_hd(&hd, big, sizeof(big), 0), MPQ_ERR_INVALID_PACKET);
}

static void unknown_version(void **state)
{
	(void)state;
	/* Unknown version, fixed bit clear: still answered with VN, so CIDs are kept. */
	uint8_t pkt[64] = {0x80, 0x1a, 0x2a, 0x3a, 0x4a, 4, 1, 2, 3, 4, 2, 9, 9, 0xee};
	mpq_pkt_hd hd;

	assert_int_equal(mpq_pkt_decode_hd(&hd, pkt, sizeof(pkt), 0), MPQ_ERR_UNKNOWN_VERSION);
	assert_int_equal(hd.version, 0x1a2a3a4a);
	assert_int_equal(hd.dcid.len, 4);
	assert_memory_equal(hd.dcid.data, "\x01\x02\x03\x04", 4);
	assert_int_equal(hd.scid.len, 2);
	assert_false(mpq_pkt_version_supported(0x1a2a3a4a));
	assert_true(mpq_pkt_version_supported(MPQ_VERSION_1));
	assert_true(mpq_pkt_version_supported(MPQ_VERSION_2));

	/* A 21-byte CID cannot be echoed back in our mpq_cid: invalid. */
	pkt[5] = 21;
	assert_int_equal(mpq_pkt_decode_hd(&hd, pkt, sizeof(pkt), 0), MPQ_ERR_INVALID_PACKET);
	/* Truncated before the CIDs end. */
	pkt[5] = 4;
	assert_int_equal(mpq_pkt_decode_hd(&hd, pkt, 11, 0), MPQ_ERR_INVALID_PACKET);
}

/* Sets one byte of a valid v1 client Initial header and expects |want|. */
static void expect_decode(uint8_t *pkt, size_t len, size_t at, uint8_t val, int want)
{
	uint8_t saved = pkt[at];
	mpq_pkt_hd hd;

	pkt[at] = val;
	assert_int_equal(mpq_pkt_decode_hd(&hd, pkt, len, 0), want);
	pkt[at] = saved;
}

static void malformed_headers(void **state)
{
	(void)state;
	uint8_t pkt[1200];
	mpq_pkt_hd hd;

	test_unhex(rfc9001_client_initial, pkt, sizeof(pkt));
	/* Header: c0 | 00000001 | 08 dcid | 00 (SCID) | 00 (token) | 449e (Length) | pn */
	expect_decode(pkt, sizeof(pkt), 0, 0x80, MPQ_ERR_INVALID_PACKET);  /* fixed bit */
	expect_decode(pkt, sizeof(pkt), 5, 21, MPQ_ERR_INVALID_PACKET);	   /* DCID > 20 */
	expect_decode(pkt, sizeof(pkt), 14, 21, MPQ_ERR_INVALID_PACKET);   /* SCID > 20 */
	expect_decode(pkt, sizeof(pkt), 15, 0x7f, MPQ_ERR_INVALID_PACKET); /* token 0x3f44 */
	expect_decode(pkt, sizeof(pkt), 16, 0x70, MPQ_ERR_INVALID_PACKET); /* Length 0x309e */
	expect_decode(pkt, sizeof(pkt), 17, 0x9f, MPQ_ERR_INVALID_PACKET); /* Length 1183 */
	expect_decode(pkt, sizeof(pkt), 17, 0x9d, 0); /* 1181: one byte left to coalesce */

	/* Token length runs past the datagram. */
	uint8_t tok[] = {0xc0, 0, 0, 0, 1, 0, 0, 0x3f, 1, 2};
	assert_int_equal(mpq_pkt_decode_hd(&hd, tok, sizeof(tok), 0), MPQ_ERR_INVALID_PACKET);

	/* Length must leave room for the packet number and the HP sample. */
	uint8_t small[40] = {0xe0, 0, 0, 0, 1, 0, 0, 19};
	assert_int_equal(mpq_pkt_decode_hd(&hd, small, sizeof(small), 0), MPQ_ERR_INVALID_PACKET);
	small[7] = 0;
	assert_int_equal(mpq_pkt_decode_hd(&hd, small, sizeof(small), 0), MPQ_ERR_INVALID_PACKET);
	small[7] = 20;
	assert_int_equal(mpq_pkt_decode_hd(&hd, small, sizeof(small), 0), 0);
	assert_int_equal(hd.type, MPQ_PKT_HANDSHAKE);
	assert_int_equal(hd.pktlen, 28);

	/* Short header: fixed bit, DCID longer than the datagram. */
	uint8_t sh[30] = {0x00};
	assert_int_equal(mpq_pkt_decode_hd(&hd, sh, sizeof(sh), 8), MPQ_ERR_INVALID_PACKET);
	sh[0] = 0x40;
	assert_int_equal(mpq_pkt_decode_hd(&hd, sh, 8, 8), MPQ_ERR_INVALID_PACKET);
	assert_int_equal(mpq_pkt_decode_hd(&hd, sh, sizeof(sh), 21), MPQ_ERR_INVALID_PACKET);
	assert_int_equal(mpq_pkt_decode_hd(&hd, sh, 0, 0), MPQ_ERR_INVALID_PACKET);

	/* A short packet too small for the HP sample cannot lose its protection. */
	mpq_crypto_keys k;
	chacha_keys(MPQ_VERSION_1, &k);
	assert_int_equal(mpq_pkt_decode_hd(&hd, sh, 1 + 8 + 19, 8), 0);
	assert_int_equal(mpq_pkt_remove_hp(sh, &hd, &k, 0), MPQ_ERR_INVALID_PACKET);
	mpq_crypto_keys_free(&k);
}

/* Every prefix of a valid datagram: an error, or a header that stays inside it,
 * and then never a packet that decrypts. */
static void check_truncations(const char *hex, size_t short_dcidlen, mpq_crypto_keys *k)
{
	static uint8_t full[1200], pkt[1200];
	size_t len = test_unhex(hex, full, sizeof(full));

	for (size_t n = 0; n < len; n++) {
		mpq_pkt_hd hd;
		uint8_t *plain;
		size_t plainlen;

		memcpy(pkt, full, n);
		int rv = mpq_pkt_decode_hd(&hd, pkt, n, short_dcidlen);
		if (rv) {
			assert_true(rv == MPQ_ERR_INVALID_PACKET);
			continue;
		}
		assert_true(hd.pktlen <= n);
		assert_true(hd.pn_offset <= hd.pktlen);
		if (hd.token)
			assert_true(hd.token + hd.tokenlen <= pkt + n);
		if (hd.type == MPQ_PKT_RETRY || hd.type == MPQ_PKT_VERSION_NEGOTIATION)
			continue;
		assert_int_equal(hd.pn_offset + hd.len, hd.pktlen);
		if (mpq_pkt_remove_hp(pkt, &hd, k, -1))
			continue;
		assert_int_equal(mpq_pkt_decrypt(pkt, &hd, k, 0, &plain, &plainlen),
				 MPQ_ERR_DECRYPT);
	}
}

static void truncated_datagrams(void **state)
{
	(void)state;
	mpq_crypto_keys c, s, cc;

	initial_keys(MPQ_VERSION_1, true, &c);
	initial_keys(MPQ_VERSION_1, false, &s);
	chacha_keys(MPQ_VERSION_1, &cc);
	check_truncations(rfc9001_client_initial, 0, &c);
	check_truncations(rfc9001_server_initial, 0, &s);
	check_truncations(rfc9001_retry, 0, &c);
	check_truncations(rfc9001_short, 0, &cc);
	check_truncations(rfc9001_short, 3, &cc);
	mpq_crypto_keys_free(&c);
	mpq_crypto_keys_free(&s);
	initial_keys(MPQ_VERSION_2, true, &c);
	check_truncations(rfc9369_client_initial, 0, &c);
	check_truncations(rfc9369_retry, 0, &c);
	mpq_crypto_keys_free(&c);
	mpq_crypto_keys_free(&cc);
}

static void coalesced_packets(void **state)
{
	(void)state;
	uint8_t dgram[135 + 21];
	mpq_pkt_hd hd;

	test_unhex(rfc9001_server_initial, dgram, 135);
	test_unhex(rfc9001_short, dgram + 135, 21);
	assert_int_equal(mpq_pkt_decode_hd(&hd, dgram, sizeof(dgram), 0), 0);
	assert_int_equal(hd.type, MPQ_PKT_INITIAL);
	assert_int_equal(hd.pktlen, 135);
	assert_int_equal(mpq_pkt_decode_hd(&hd, dgram + 135, sizeof(dgram) - 135, 0), 0);
	assert_int_equal(hd.type, MPQ_PKT_1RTT);
	assert_int_equal(hd.pktlen, 21);

	mpq_crypto_keys k;
	uint8_t *plain;
	size_t plainlen;
	chacha_keys(MPQ_VERSION_1, &k);
	assert_int_equal(mpq_pkt_remove_hp(dgram + 135, &hd, &k, CHACHA_PN - 1), 0);
	assert_int_equal(mpq_pkt_decrypt(dgram + 135, &hd, &k, 0, &plain, &plainlen), 0);
	assert_int_equal(plainlen, 1);
	mpq_crypto_keys_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc9001_client_initial_exact),
		cmocka_unit_test(rfc9001_server_initial_exact),
		cmocka_unit_test(rfc9001_retry_exact),
		cmocka_unit_test(rfc9001_chacha_short_exact),
		cmocka_unit_test(rfc9369_client_initial_exact),
		cmocka_unit_test(rfc9369_server_initial_exact),
		cmocka_unit_test(rfc9369_retry_exact),
		cmocka_unit_test(rfc9369_chacha_short_exact),
		cmocka_unit_test(pn_encode_length),
		cmocka_unit_test(pn_decode),
		cmocka_unit_test(long_header_types_per_version),
		cmocka_unit_test(short_header_bits_and_paths),
		cmocka_unit_test(reserved_bits_detected),
		cmocka_unit_test(encode_errors),
		cmocka_unit_test(version_negotiation),
		cmocka_unit_test(unknown_version),
		cmocka_unit_test(malformed_headers),
		cmocka_unit_test(truncated_datagrams),
		cmocka_unit_test(coalesced_packets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
