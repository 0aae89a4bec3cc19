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

/* The CRYPTO frame of both RFCs' A.2 client Initial (padded to 1162 bytes). */
static const char *client_crypto =
	"060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
	"04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
	"616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
	"04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba"
	"baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
	"0d0010000e0403050306030203080408050806002d00020101001c0002400100"
	"3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
	"75300901100f088394c8f03e51570806048000ffff";

static const char *rfc9001_client_initial =
	"c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
	"d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
	"1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
	"8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
	"30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
	"457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
	"4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
	"4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
	"485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
	"059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
	"7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
	"9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
	"be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
	"68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
	"c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
	"f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
	"291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
	"25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
	"14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
	"ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
	"e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
	"c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
	"203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
	"cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
	"fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
	"a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
	"90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
	"162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
	"40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
	"6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
	"8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
	"be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
	"54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
	"760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
	"f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
	"056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
	"7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
	"e221af44860018ab0856972e194cd934";

static const char *rfc9369_client_initial =
	"d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
	"dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
	"9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
	"250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
	"12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
	"cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
	"18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
	"12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
	"d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
	"6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
	"bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
	"636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
	"ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
	"16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
	"4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
	"fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
	"8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
	"14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
	"9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
	"abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
	"80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
	"848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
	"d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
	"c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
	"7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
	"f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
	"10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
	"3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
	"06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
	"8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
	"34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
	"e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
	"5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
	"8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
	"d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
	"6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
	"9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
	"a18b2faa745b6fe189cf772a9f84cbfc";

/* The ACK + CRYPTO payload of both RFCs' A.3 server Initial. */
static const char *server_payload =
	"02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
	"88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
	"0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
	"020304";

static const char *rfc9001_server_initial =
	"cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
	"5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
	"dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
	"022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
	"2158407dd074ee";

static const char *rfc9369_server_initial =
	"dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698"
	"baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17"
	"f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2"
	"c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8"
	"4bed8521e2e140";

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
