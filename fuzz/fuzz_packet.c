/*
 * Packet parsing on peer input: every packet of a datagram through
 * mpq_pkt_decode_hd (short headers with an 8-byte and an empty DCID), then
 * header protection removal and decryption with the Initial keys of the RFC 9001
 * example DCID (so the seed corpus decrypts), Version Negotiation decoding and
 * Retry verification. Checks that results stay inside the datagram.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "quic/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const mpq_cid rfc_dcid = {8, {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}};

/* Per version ([0] v1, [1] v2): client Initial, server Initial, and the RFC's
 * ChaCha20 application keys. Made once. */
#define NKEYS 3
static mpq_crypto_keys keys[2][NKEYS];

/* The packet number of the RFC's ChaCha20 example is decoded against this. */
#define RFC_LARGEST_PN 654360563

static void init_keys(void)
{
	static const uint8_t secret[32] = {
		0x9a, 0xc3, 0x12, 0xa7, 0xf8, 0x77, 0x46, 0x8e, 0xbe, 0x69, 0x42,
		0x27, 0x48, 0xad, 0x00, 0xa1, 0x54, 0x43, 0xf1, 0x82, 0x03, 0xa0,
		0x7d, 0x60, 0x60, 0xf6, 0x88, 0xf3, 0x0f, 0x21, 0x63, 0x2b,
	};
	static const uint32_t versions[2] = {MPQ_VERSION_1, MPQ_VERSION_2};
	static int done;

	if (done)
		return;
	for (int v = 0; v < 2; v++) {
		CHECK(mpq_crypto_initial_keys(versions[v], &rfc_dcid, &keys[v][0], &keys[v][1]) ==
		      0);
		CHECK(mpq_crypto_keys_init(&keys[v][2], MPQ_CIPHER_CHACHA20_POLY1305, versions[v],
					   secret, sizeof(secret)) == 0);
	}
	done = 1;
}

static void check_vn(const uint8_t *pkt, size_t len)
{
	uint32_t versions[8];
	int n = mpq_pkt_decode_vn(pkt, len, versions, 8);

	CHECK(n == MPQ_ERR_INVALID_PACKET || (n >= 0 && n <= 8));
}

/* Unprotects one packet in place with each candidate key until one opens it. */
static void open_packet(uint8_t *pkt, const mpq_pkt_hd *parsed, int64_t largest)
{
	static uint8_t saved[65536];
	mpq_crypto_keys *k = keys[parsed->version == MPQ_VERSION_2];

	memcpy(saved, pkt, parsed->pktlen);
	for (int i = 0; i < NKEYS; i++) {
		mpq_pkt_hd hd = *parsed;
		uint8_t *payload;
		size_t payloadlen;

		memcpy(pkt, saved, parsed->pktlen);
		if (mpq_pkt_remove_hp(pkt, &hd, &k[i], largest))
			return;
		CHECK(hd.pn_len >= 1 && hd.pn_len <= 4);
		CHECK(hd.pn_offset + hd.pn_len <= hd.pktlen);
		(void)mpq_pkt_reserved_bits_set(&hd);
		if (mpq_pkt_decrypt(pkt, &hd, &k[i], 0, &payload, &payloadlen) == 0) {
			CHECK(payload == pkt + hd.pn_offset + hd.pn_len);
			CHECK(hd.pn_offset + hd.pn_len + payloadlen + MPQ_AEAD_TAGLEN ==
			      hd.pktlen);
			return;
		}
	}
}

/* Walks the coalesced packets of one datagram. */
static void walk(uint8_t *dgram, size_t size, size_t short_dcidlen, int64_t largest)
{
	size_t off = 0;

	while (off < size) {
		uint8_t *pkt = dgram + off;
		size_t left = size - off;
		mpq_pkt_hd hd;

		int rv = mpq_pkt_decode_hd(&hd, pkt, left, short_dcidlen);
		if (rv == MPQ_ERR_UNKNOWN_VERSION) {
			CHECK(hd.dcid.len <= MPQ_MAX_CIDLEN && hd.scid.len <= MPQ_MAX_CIDLEN);
			return;
		}
		if (rv)
			return;
		CHECK(hd.pktlen > 0 && hd.pktlen <= left);
		CHECK(!hd.token || (hd.token >= pkt && hd.token + hd.tokenlen <= pkt + left));
		if (hd.type == MPQ_PKT_VERSION_NEGOTIATION) {
			check_vn(pkt, hd.pktlen);
			return;
		}
		if (hd.type == MPQ_PKT_RETRY) {
			(void)mpq_pkt_verify_retry(hd.version, &rfc_dcid, pkt, hd.pktlen);
			return;
		}
		CHECK(hd.pn_offset + hd.len == hd.pktlen);
		open_packet(pkt, &hd, largest);
		off += hd.pktlen;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[65536];

	if (size > sizeof(buf))
		return 0;
	init_keys();
	check_vn(data, size);
	memcpy(buf, data, size);
	walk(buf, size, 8, -1);
	memcpy(buf, data, size);
	walk(buf, size, 0, RFC_LARGEST_PN);
	return 0;
}
