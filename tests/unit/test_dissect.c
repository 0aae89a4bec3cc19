/* The public dissector (mpq/dissect.h): RFC 9001 and RFC 9369 Initials
 * opened from their DCID alone, a multipath 1-RTT packet built by the core
 * (path ID in the nonce, key updates), secrets from key log lines, frames
 * as public structs, and qlog events of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "mpq/dissect.h"
#include "quic/crypto.h"
#include "quic/frame.h"
#include "quic/packet.h"
#include "../common/hex.h"
#include "../common/rfc9001_vectors.h"

static const mpq_cid rfc_dcid = {8, {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}};
static const mpq_cid path_cid = {4, {0xc1, 0xd2, 0xe3, 0xf4}};

/* The next frame is an ACK of |type| with one range. */
static void next_ack(mpq_dissect_frames *it, uint64_t type, uint64_t path_id, uint64_t smallest,
		     uint64_t largest, const char *name)
{
	mpq_dissect_frame fr;

	assert_int_equal(mpq_dissect_frame_next(it, &fr), 1);
	assert_int_equal(fr.type, type);
	assert_false(fr.ack_eliciting);
	assert_int_equal(fr.ack.path_id, path_id);
	assert_int_equal(fr.ack.nranges, 1);
	assert_int_equal(fr.ack.ranges[0].smallest, smallest);
	assert_int_equal(fr.ack.ranges[0].largest, largest);
	assert_string_equal(mpq_dissect_frame_name(fr.type), name);
}

/* Opens one of the RFCs' Initials going |dir| and checks the header, that
 * the capture's bytes stay as they were, and the frames. */
static void initial(uint32_t version, const char *pkt_hex, int dir, uint64_t pn,
		    const char *payload_hex)
{
	uint8_t pkt[1200], copy[1200], buf[1200], want[1200];
	size_t len = test_unhex(pkt_hex, pkt, sizeof(pkt)), wantlen;
	const uint8_t *payload;
	size_t payloadlen;
	mpq_dissect_keys *k;
	mpq_dissect_hdr hd;
	mpq_dissect_frames it;
	mpq_dissect_frame fr;
	int gen = 0;

	wantlen = test_unhex(payload_hex, want, sizeof(want));
	memcpy(copy, pkt, len);
	assert_int_equal(mpq_dissect_hdr_parse(&hd, pkt, len, 0), 0);
	assert_int_equal(hd.type, MPQ_PKT_INITIAL);
	assert_int_equal(hd.version, version);
	assert_int_equal(hd.pktlen, len);
	/* The server's Initial goes to the client's SCID (empty in A.2). */
	assert_int_equal(hd.dcid.len, dir == MPQ_DISSECT_TO_SERVER ? 8 : 0);

	assert_int_equal(mpq_dissect_keys_new(&k, version, &rfc_dcid), 0);
	assert_true(mpq_dissect_keys_have(k, MPQ_PKT_INITIAL, dir));
	assert_false(mpq_dissect_keys_have(k, MPQ_PKT_HANDSHAKE, dir));
	assert_false(mpq_dissect_keys_have(k, MPQ_PKT_1RTT, dir));
	/* The other direction's keys do not open it, and leave it as it was. */
	mpq_dissect_hdr other = hd;
	assert_int_equal(mpq_dissect_open(k, pkt, &other, buf, sizeof(buf), !dir, 0, -1, &gen,
					  &payload, &payloadlen),
			 MPQ_ERR_DECRYPT);
	assert_memory_equal(pkt, copy, len);
	assert_int_equal(mpq_dissect_open(k, pkt, &hd, buf, len - 1, dir, 0, -1, &gen, &payload,
					  &payloadlen),
			 MPQ_ERR_NOBUF);

	assert_int_equal(mpq_dissect_open(k, pkt, &hd, buf, sizeof(buf), dir, 0, -1, &gen,
					  &payload, &payloadlen),
			 0);
	assert_memory_equal(pkt, copy, len);
	assert_int_equal(hd.pn, pn);
	assert_true(payload > buf && payload < buf + len);
	assert_true(payloadlen >= wantlen);
	assert_memory_equal(payload, want, wantlen);

	/* Frames: the server's ACK of the client's packet 0, then a CRYPTO
	 * frame at offset 0; the client's CRYPTO then PADDING to the end. */
	mpq_dissect_frames_init(&it, payload, payloadlen);
	if (dir == MPQ_DISSECT_TO_CLIENT)
		next_ack(&it, MPQ_FT_ACK, 0, 0, 0, "ack");
	assert_int_equal(mpq_dissect_frame_next(&it, &fr), 1);
	assert_int_equal(fr.type, MPQ_FT_CRYPTO);
	assert_true(fr.ack_eliciting);
	assert_int_equal(fr.crypto.offset, 0);
	/* A ClientHello (1) or ServerHello (2) of the length its header gives. */
	assert_int_equal(fr.crypto.data[0], dir == MPQ_DISSECT_TO_SERVER ? 1 : 2);
	assert_int_equal(fr.crypto.len, 4 + ((size_t)fr.crypto.data[2] << 8 | fr.crypto.data[3]));
	assert_ptr_equal(fr.raw + fr.rawlen, fr.crypto.data + fr.crypto.len);
	if (dir == MPQ_DISSECT_TO_SERVER) {
		assert_int_equal(mpq_dissect_frame_next(&it, &fr), 1);
		assert_int_equal(fr.type, MPQ_FT_PADDING);
		assert_int_equal(fr.padding_len, 1162 - (fr.raw - payload));
	}
	assert_int_equal(mpq_dissect_frame_next(&it, &fr), 0);
	mpq_dissect_keys_free(k);
}

static void rfc9001_client_initial_opens(void **state)
{
	(void)state;
	initial(MPQ_VERSION_1, rfc9001_client_initial, MPQ_DISSECT_TO_SERVER, 2, client_crypto);
}

static void rfc9001_server_initial_opens(void **state)
{
	(void)state;
	initial(MPQ_VERSION_1, rfc9001_server_initial, MPQ_DISSECT_TO_CLIENT, 1, server_payload);
}

static void rfc9369_initials_open(void **state)
{
	(void)state;
	initial(MPQ_VERSION_2, rfc9369_client_initial, MPQ_DISSECT_TO_SERVER, 2, client_crypto);
	initial(MPQ_VERSION_2, rfc9369_server_initial, MPQ_DISSECT_TO_CLIENT, 1, server_payload);
}

/* Key log lines: the client's 1-RTT secret below, other labels, bad lines. */
static const uint8_t client_random[32] = {0xaa, 0x01};
static const char *secret_hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static mpq_keylog *keylog(void)
{
	char text[1024];
	mpq_keylog *kl;
	uint64_t lines, bad;
	size_t randoms;

	snprintf(text, sizeof(text),
		 "# comment\n"
		 "CLIENT_RANDOM aa01 0011\n"
		 "CLIENT_TRAFFIC_SECRET_0 aa01%060d %s\r\n"
		 "SERVER_TRAFFIC_SECRET_0 aa01%060d 0011\n"
		 "CLIENT_HANDSHAKE_TRAFFIC_SECRET aa01%060d %s",
		 0, secret_hex, 0, 0, secret_hex);
	assert_int_equal(mpq_keylog_new(&kl), 0);
	assert_int_equal(mpq_keylog_add(kl, text, strlen(text)), 0);
	mpq_keylog_counts(kl, &lines, &bad, &randoms);
	assert_int_equal(lines, 4);
	assert_int_equal(bad, 1); /* a 2-byte secret */
	assert_int_equal(randoms, 1);
	return kl;
}

/* A 1-RTT packet on path |path_id| with key generation |gen| (the key phase
 * its parity), sealed by the core: PATH_ACK, PATH_ABANDON, STREAM. Returns
 * its length. */
static size_t mp_packet(uint8_t *buf, size_t cap, uint32_t path_id, int gen, uint64_t pn)
{
	uint8_t secret[32];
	mpq_crypto_keys k[2];
	mpq_writer w;
	mpq_frame f[3] = {
		{.type = MPQ_FT_PATH_ACK,
		 .ack = {.path_id = path_id, .ack_delay = 10, .nranges = 1, .ranges = {{5, 9}}}},
		{.type = MPQ_FT_PATH_ABANDON, .path_abandon = {.path_id = 1, .error_code = 4}},
		{.type = MPQ_FT_STREAM | MPQ_STREAM_FLAG_LEN,
		 .stream = {.stream_id = 4,
			    .offset = 100,
			    .data = (const uint8_t *)"hello",
			    .len = 5}},
	};
	mpq_pkt_hd hd = {
		.type = MPQ_PKT_1RTT,
		.dcid = path_cid,
		.pn = pn,
		.pn_len = 2,
		.key_phase = gen & 1,
	};
	int n;

	test_unhex(secret_hex, secret, sizeof(secret));
	assert_int_equal(mpq_crypto_keys_init(&k[0], MPQ_CIPHER_AES_128_GCM, MPQ_VERSION_1, secret,
					      sizeof(secret)),
			 0);
	for (int g = 1; g <= gen; g++) {
		assert_int_equal(mpq_crypto_keys_update(&k[g & 1], &k[!(g & 1)]), 0);
		mpq_crypto_keys_free(&k[!(g & 1)]);
	}
	mpq_writer_init(&w, buf, cap);
	assert_int_equal(mpq_pkt_encode_hd(&w, &hd), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mpq_frame_encode(&w, &f[i]), 0);
	n = mpq_pkt_protect(buf, cap, &hd, (size_t)(w.pos - buf) - hd.pn_offset - hd.pn_len,
			    &k[gen & 1], path_id);
	assert_true(n > 0);
	mpq_crypto_keys_free(&k[gen & 1]);
	return (size_t)n;
}

/* Opens a packet of mp_packet with |*gen| as the path's generation. */
static int mp_open(mpq_dissect_keys *k, const uint8_t *pkt, size_t len, uint32_t path_id, int *gen,
		   mpq_dissect_hdr *hd, const uint8_t **payload, size_t *payloadlen)
{
	static uint8_t buf[2048];

	assert_int_equal(mpq_dissect_hdr_parse(hd, pkt, len, path_cid.len), 0);
	assert_int_equal(hd->type, MPQ_PKT_1RTT);
	return mpq_dissect_open(k, pkt, hd, buf, sizeof(buf), MPQ_DISSECT_TO_SERVER, path_id, 0,
				gen, payload, payloadlen);
}

static void multipath_1rtt_from_keylog(void **state)
{
	(void)state;
	uint8_t pkt[256];
	size_t len = mp_packet(pkt, sizeof(pkt), 3, 0, 7), payloadlen;
	mpq_keylog *kl = keylog();
	mpq_dissect_keys *k;
	mpq_dissect_hdr hd;
	mpq_dissect_frames it;
	mpq_dissect_frame fr;
	const uint8_t *payload;
	uint8_t other_random[32] = {0xbb};
	int gen = 0;

	assert_int_equal(mpq_dissect_keys_new(&k, MPQ_VERSION_1, &rfc_dcid), 0);
	assert_int_equal(mp_open(k, pkt, len, 3, &gen, &hd, &payload, &payloadlen),
			 MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_dissect_keys_from_keylog(k, kl, other_random), 0);
	/* The client's handshake and 1-RTT secrets; the server's is bad. */
	assert_int_equal(mpq_dissect_keys_from_keylog(k, kl, client_random), 2);
	assert_int_equal(mpq_dissect_keys_from_keylog(k, kl, client_random), 0);
	assert_true(mpq_dissect_keys_have(k, MPQ_PKT_1RTT, MPQ_DISSECT_TO_SERVER));
	assert_true(mpq_dissect_keys_have(k, MPQ_PKT_HANDSHAKE, MPQ_DISSECT_TO_SERVER));
	assert_false(mpq_dissect_keys_have(k, MPQ_PKT_1RTT, MPQ_DISSECT_TO_CLIENT));

	/* The nonce carries the path ID: path 0's does not open it. */
	assert_int_equal(mp_open(k, pkt, len, 0, &gen, &hd, &payload, &payloadlen),
			 MPQ_ERR_DECRYPT);
	assert_int_equal(mp_open(k, pkt, len, 3, &gen, &hd, &payload, &payloadlen), 0);
	assert_int_equal(hd.pn, 7);
	assert_int_equal(hd.dcid.len, path_cid.len);
	assert_false(hd.key_phase);
	assert_int_equal(gen, 0);

	mpq_dissect_frames_init(&it, payload, payloadlen);
	next_ack(&it, MPQ_FT_PATH_ACK, 3, 5, 9, "path_ack");
	assert_int_equal(mpq_dissect_frame_next(&it, &fr), 1);
	assert_int_equal(fr.type, MPQ_FT_PATH_ABANDON);
	assert_int_equal(fr.path_abandon.path_id, 1);
	assert_int_equal(fr.path_abandon.error_code, 4);
	assert_true(fr.ack_eliciting);
	assert_int_equal(mpq_dissect_frame_next(&it, &fr), 1);
	assert_int_equal(fr.type, MPQ_FT_STREAM | MPQ_STREAM_FLAG_LEN | MPQ_STREAM_FLAG_OFF);
	assert_int_equal(fr.stream.stream_id, 4);
	assert_int_equal(fr.stream.offset, 100);
	assert_int_equal(fr.stream.len, 5);
	assert_memory_equal(fr.stream.data, "hello", 5);
	assert_false(fr.stream.fin);
	assert_int_equal(mpq_dissect_frame_next(&it, &fr), 0);
	mpq_dissect_keys_free(k);
	mpq_keylog_free(kl);
}

/* Random |i| in hex: its number in the first and the last bytes, so randoms
 * differ where a hash over part of them would not look. */
static void many_random(uint8_t r[32], char hex[65], unsigned i)
{
	memset(r, 0x5a, 32);
	memcpy(r, &i, sizeof(i));
	memcpy(r + 28, &i, sizeof(i));
	for (int b = 0; b < 32; b++)
		sprintf(hex + 2 * b, "%02x", r[b]);
}

/* A key log of a busy server: 4000 connections' two 1-RTT secrets (secret
 * 2i and 2i+1 as numbers), added line by line, every one found again through
 * the index as it grows; a line repeated with another secret replaces it. */
static void keylog_many_randoms(void **state)
{
	(void)state;
	enum { N = 4000 };
	static const char *const label[2] = {"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"};
	mpq_keylog *kl;
	uint8_t r[32], secret[32];
	char line[256], rhex[65];
	const uint8_t *found;
	uint64_t lines, bad;
	size_t len, randoms;
	int n;

	assert_int_equal(mpq_keylog_new(&kl), 0);
	for (unsigned i = 0; i < N; i++) {
		many_random(r, rhex, i);
		for (unsigned l = 0; l < 2; l++) {
			n = snprintf(line, sizeof(line), "%s %s %064x\n", label[l], rhex,
				     2 * i + l);
			assert_int_equal(mpq_keylog_add(kl, line, (size_t)n), 0);
		}
	}
	many_random(r, rhex, 0);
	n = snprintf(line, sizeof(line), "%s %s %s\n", label[0], rhex,
		     "7777777777777777777777777777777777777777777777777777777777777777");
	assert_int_equal(mpq_keylog_add(kl, line, (size_t)n), 0);
	mpq_keylog_counts(kl, &lines, &bad, &randoms);
	assert_int_equal(lines, 2 * N + 1);
	assert_int_equal(bad, 0);
	assert_int_equal(randoms, N);
	for (unsigned i = 0; i < N; i++) {
		many_random(r, rhex, i);
		for (unsigned l = 0; l < 2; l++) {
			unsigned v = 2 * i + l;

			found = mpq_keylog_find(kl, r,
						l ? MPQ_KEYLOG_SERVER_TRAFFIC_0
						  : MPQ_KEYLOG_CLIENT_TRAFFIC_0,
						&len);
			assert_non_null(found);
			assert_int_equal(len, 32);
			memset(secret, v == 0 ? 0x77 : 0, 32);
			if (v) {
				secret[29] = (uint8_t)(v >> 16);
				secret[30] = (uint8_t)(v >> 8);
				secret[31] = (uint8_t)v;
			}
			assert_memory_equal(found, secret, 32);
		}
		assert_null(mpq_keylog_find(kl, r, MPQ_KEYLOG_CLIENT_HANDSHAKE, &len));
		assert_int_equal(len, 0);
	}
	many_random(r, rhex, N);
	assert_null(mpq_keylog_find(kl, r, MPQ_KEYLOG_CLIENT_TRAFFIC_0, &len));
	mpq_keylog_free(kl);
}

static void key_phase_updates(void **state)
{
	(void)state;
	uint8_t g0[256], g1[256], g2[256];
	size_t l0 = mp_packet(g0, sizeof(g0), 1, 0, 1), l1 = mp_packet(g1, sizeof(g1), 1, 1, 2),
	       l2 = mp_packet(g2, sizeof(g2), 1, 2, 3), payloadlen;
	uint8_t secret[32];
	const uint8_t *payload;
	mpq_dissect_keys *k;
	mpq_dissect_hdr hd;
	int gen = 0;

	test_unhex(secret_hex, secret, sizeof(secret));
	assert_int_equal(mpq_dissect_keys_new(&k, MPQ_VERSION_1, &rfc_dcid), 0);
	assert_int_equal(mpq_dissect_keys_set_secret(k, MPQ_KEYLOG_CLIENT_TRAFFIC_0, secret, 31),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_dissect_keys_set_cipher_suite(k, 0x1301), 0);
	assert_int_equal(mpq_dissect_keys_set_cipher_suite(k, 0x1304), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_dissect_keys_set_secret(k, MPQ_KEYLOG_CLIENT_TRAFFIC_0, secret,
						     sizeof(secret)),
			 0);
	/* The key phase flips: the next generation. */
	assert_int_equal(mp_open(k, g1, l1, 1, &gen, &hd, &payload, &payloadlen), 0);
	assert_true(hd.key_phase);
	assert_int_equal(gen, 1);
	/* A packet of the previous generation, reordered behind the update. */
	assert_int_equal(mp_open(k, g0, l0, 1, &gen, &hd, &payload, &payloadlen), 0);
	assert_int_equal(gen, 0);
	gen = 1;
	assert_int_equal(mp_open(k, g2, l2, 1, &gen, &hd, &payload, &payloadlen), 0);
	assert_int_equal(gen, 2);
	/* Two generations ahead is not a key phase: it does not open. */
	gen = 0;
	assert_int_equal(mp_open(k, g2, l2, 1, &gen, &hd, &payload, &payloadlen), MPQ_ERR_DECRYPT);
	assert_int_equal(gen, 0);
	mpq_dissect_keys_free(k);
}

static void extension_and_bad_frames(void **state)
{
	(void)state;
	/* ACK_FREQUENCY (0xaf, four varints), IMMEDIATE_ACK, PING, then a
	 * frame type nobody defines. */
	static const uint8_t payload[] = {0x40, 0xaf, 1, 2, 3, 4, 0x1f, 0x01, 0x21, 0x00};
	mpq_dissect_frames it;
	mpq_dissect_frame fr;

	mpq_dissect_frames_init(&it, payload, sizeof(payload));
	assert_int_equal(mpq_dissect_frame_next(&it, &fr), 1);
	assert_int_equal(fr.type, MPQ_FT_ACK_FREQUENCY);
	assert_true(fr.extension);
	assert_int_equal(fr.rawlen, 6);
	assert_string_equal(mpq_dissect_frame_name(fr.type), "ack_frequency");
	assert_int_equal(mpq_dissect_frame_next(&it, &fr), 1);
	assert_int_equal(fr.type, MPQ_FT_IMMEDIATE_ACK);
	assert_int_equal(mpq_dissect_frame_next(&it, &fr), 1);
	assert_int_equal(fr.type, MPQ_FT_PING);
	assert_false(fr.extension);
	assert_int_equal(mpq_dissect_frame_next(&it, &fr), MPQ_ERR_FRAME_ENCODING);
	assert_int_equal(mpq_dissect_frame_next(&it, &fr), MPQ_ERR_FRAME_ENCODING);
}

static void malformed_input(void **state)
{
	(void)state;
	uint8_t pkt[1200], buf[64];
	size_t len = test_unhex(rfc9001_client_initial, pkt, sizeof(pkt)), payloadlen;
	const uint8_t *payload;
	mpq_dissect_keys *k;
	mpq_dissect_hdr hd;
	int gen = 0;

	for (size_t cut = 0; cut < 30; cut++)
		assert_int_not_equal(mpq_dissect_hdr_parse(&hd, pkt, cut, 0), 0);
	assert_int_equal(mpq_dissect_keys_new(&k, 0x1a2a3a4a, &rfc_dcid),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_dissect_keys_new(&k, MPQ_VERSION_1, &rfc_dcid), 0);
	/* A header that says more than the bytes given: too short to open. */
	assert_int_equal(mpq_dissect_hdr_parse(&hd, pkt, len, 0), 0);
	hd.pktlen = 30;
	assert_int_equal(mpq_dissect_open(k, pkt, &hd, buf, sizeof(buf), MPQ_DISSECT_TO_SERVER, 0,
					  -1, &gen, &payload, &payloadlen),
			 MPQ_ERR_INVALID_PACKET);
	assert_false(mpq_dissect_retry_valid(MPQ_VERSION_1, &rfc_dcid, pkt, len));
	mpq_dissect_keys_free(k);
}

static void transport_parameters(void **state)
{
	(void)state;
	/* initial_max_path_id (0x3e) = 3, max_idle_timeout 10 s. */
	static const uint8_t tp_bytes[] = {0x3e, 0x01, 0x03, 0x01, 0x02, 0x67, 0x10};
	mpq_tparams tp;

	assert_int_equal(mpq_dissect_tparams(&tp, tp_bytes, sizeof(tp_bytes), false), 0);
	assert_true(tp.has_initial_max_path_id);
	assert_int_equal(tp.initial_max_path_id, 3);
	assert_int_equal(tp.max_idle_timeout, 10000);
	assert_int_equal(mpq_dissect_tparams(&tp, tp_bytes, sizeof(tp_bytes) - 1, false),
			 MPQ_ERR_TRANSPORT_PARAM);
}

/* A sink into memory. */
static char qlog_text[8192];
static size_t qlog_len;

static int mem_write(void *user, const void *data, size_t len)
{
	(void)user;
	if (len > sizeof(qlog_text) - 1 - qlog_len)
		return MPQ_ERR_NOBUF;
	memcpy(qlog_text + qlog_len, data, len);
	qlog_len += len;
	qlog_text[qlog_len] = 0;
	return 0;
}

static void qlog_of_dissected_packets(void **state)
{
	(void)state;
	uint8_t pkt[256], secret[32];
	size_t len = mp_packet(pkt, sizeof(pkt), 2, 0, 7), payloadlen, n = 0;
	mpq_qlog_sink sink = {.struct_version = MPQ_QLOG_SINK_VERSION, .write = mem_write};
	mpq_dissect_frame frames[4];
	mpq_dissect_frames it;
	const uint8_t *payload;
	mpq_dissect_keys *k;
	mpq_dissect_hdr hd;
	mpq_qlog *q;
	int gen = 0;
	struct sockaddr_in c = {.sin_family = AF_INET, .sin_port = htons(4000)},
			   s = {.sin_family = AF_INET, .sin_port = htons(443)};

	c.sin_addr.s_addr = htonl(0x0a000001);
	s.sin_addr.s_addr = htonl(0x0a000002);
	test_unhex(secret_hex, secret, sizeof(secret));
	assert_int_equal(mpq_dissect_keys_new(&k, MPQ_VERSION_1, &rfc_dcid), 0);
	assert_int_equal(mpq_dissect_keys_set_secret(k, MPQ_KEYLOG_CLIENT_TRAFFIC_0, secret,
						     sizeof(secret)),
			 0);
	assert_int_equal(mp_open(k, pkt, len, 2, &gen, &hd, &payload, &payloadlen), 0);
	mpq_dissect_frames_init(&it, payload, payloadlen);
	while (n < 4 && mpq_dissect_frame_next(&it, &frames[n]) == 1)
		n++;
	assert_int_equal(n, 3);

	qlog_len = 0;
	assert_int_equal(mpq_dissect_qlog_open(&q, &sink, &rfc_dcid, "test", 1000), 0);
	assert_int_equal(mpq_dissect_qlog_path(q, 2000, 2, (struct sockaddr *)&c,
					       (struct sockaddr *)&s),
			 0);
	assert_int_equal(mpq_dissect_qlog_packet(q, 3000, MPQ_DISSECT_TO_SERVER, &hd, 2, frames,
						 n),
			 0);
	assert_int_equal(mpq_dissect_qlog_dropped(q, 4000, &hd, 2, "decryption_failure"), 0);
	/* The path abandoned: its tuple without endpoints. */
	assert_int_equal(mpq_dissect_qlog_path(q, 5000, 2, (struct sockaddr *)&c, NULL),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_dissect_qlog_path(q, 5000, 2, NULL, NULL), 0);
	assert_int_equal(mpq_dissect_qlog_close(q), 0);
	assert_non_null(
		strstr(qlog_text, "\"vantage_point\":{\"type\":\"network\",\"flow\":\"client\"}"));
	assert_non_null(strstr(qlog_text, "\"group_id\":\"8394c8f03e515708\""));
	assert_non_null(strstr(qlog_text, "\"name\":\"quic:tuple_assigned\""));
	assert_non_null(
		strstr(qlog_text, "\"tuple_local\":{\"ip_v4\":\"10.0.0.1\",\"port_v4\":4000}"));
	assert_non_null(strstr(qlog_text, "\"name\":\"quic:packet_sent\""));
	assert_non_null(strstr(qlog_text, "\"path_id\":2"));
	assert_non_null(strstr(qlog_text, "\"frame_type\":\"path_ack\""));
	assert_non_null(strstr(qlog_text, "\"frame_type\":\"path_abandon\""));
	assert_non_null(strstr(qlog_text, "\"frame_type\":\"stream\""));
	assert_non_null(strstr(qlog_text, "\"packet_number\":7"));
	assert_non_null(strstr(qlog_text, "\"name\":\"quic:packet_dropped\""));
	assert_non_null(strstr(qlog_text, "\"trigger\":\"decryption_failure\""));
	assert_non_null(strstr(qlog_text, "\"time\":0.004,\"name\":\"quic:tuple_assigned\","
					  "\"data\":{\"tuple_id\":\"2\"}}"));
	mpq_dissect_keys_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc9001_client_initial_opens),
		cmocka_unit_test(rfc9001_server_initial_opens),
		cmocka_unit_test(rfc9369_initials_open),
		cmocka_unit_test(multipath_1rtt_from_keylog),
		cmocka_unit_test(keylog_many_randoms),
		cmocka_unit_test(key_phase_updates),
		cmocka_unit_test(extension_and_bad_frames),
		cmocka_unit_test(malformed_input),
		cmocka_unit_test(transport_parameters),
		cmocka_unit_test(qlog_of_dissected_packets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
