/* QPACK without a dynamic table (lib/app/qpack.c) and its Huffman code: the
 * RFC 7541 Appendix C strings, field sections as nghttp3 sends them, round
 * trips of every static entry and of random strings, and every way a peer's
 * section can be malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "app/qpack.h"
#include "app/qpack_tables.h"

/* ---- Helpers ---- */

#define MAX_FIELDS 32

/* What a decode handed the callback (copied out, since the strings only live
 * as long as the call). */
struct seen {
	size_t n;
	char name[MAX_FIELDS][256];
	char value[MAX_FIELDS][256];
	size_t namelen[MAX_FIELDS], valuelen[MAX_FIELDS];
	int stop_at; /* return 7 from the callback on field stop_at (1-based) */
};

static int collect(void *ud, const mpq_qpack_field *f)
{
	struct seen *s = ud;

	assert_true(s->n < MAX_FIELDS);
	assert_true(f->namelen < 256 && f->valuelen < 256);
	memcpy(s->name[s->n], f->name, f->namelen);
	s->name[s->n][f->namelen] = 0;
	memcpy(s->value[s->n], f->value, f->valuelen);
	s->value[s->n][f->valuelen] = 0;
	s->namelen[s->n] = f->namelen;
	s->valuelen[s->n] = f->valuelen;
	s->n++;
	return (int)s->n == s->stop_at ? 7 : 0;
}

static int decode(const uint8_t *in, size_t len, size_t scratchsize, struct seen *s)
{
	static uint8_t scratch[4096];

	memset(s->name, 0, sizeof(s->name));
	s->n = 0;
	assert_true(scratchsize <= sizeof(scratch));
	return mpq_qpack_decode(in, len, scratch, scratchsize, collect, s);
}

static mpq_qpack_field field(const char *name, const char *value)
{
	return (mpq_qpack_field){(const uint8_t *)name, strlen(name), (const uint8_t *)value,
				 strlen(value)};
}

static void assert_fields(const struct seen *s, const mpq_qpack_field *want, size_t n)
{
	assert_int_equal(s->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s->namelen[i], want[i].namelen);
		assert_memory_equal(s->name[i], want[i].name, want[i].namelen);
		assert_int_equal(s->valuelen[i], want[i].valuelen);
		assert_memory_equal(s->value[i], want[i].value, want[i].valuelen);
	}
}

/* xorshift64: reproducible inputs. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* ---- Huffman ---- */

/* RFC 7541 C.4 (request) and C.6 (response) strings and their codes. */
static const struct {
	const char *text;
	const char *hex;
} rfc_strings[] = {
	{"www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"},
	{"no-cache", "a8eb10649cbf"},
	{"custom-key", "25a849e95ba97d7f"},
	{"custom-value", "25a849e95bb8e8b4bf"},
	{"302", "6402"},
	{"307", "640eff"},
	{"private", "aec3771a4b"},
	{"Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"},
	{"Mon, 21 Oct 2013 20:13:22 GMT", "d07abe941054d444a8200595040b8166e084a62d1bff"},
	{"https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"},
	{"gzip", "9bd9ab"},
	{"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
	 "94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d50"
	 "07"},
};

static size_t unhex(uint8_t *out, const char *hex)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* mpq_qpack_huffman_decode with room for any output (its unchecked loop),
 * with |cap|, and with |cap| cut under 2 * len + 1 (its checked loop): all
 * agree, unless the output does not fit |cap|. */
static ssize_t hdecode(uint8_t *out, size_t cap, const uint8_t *in, size_t len)
{
	static uint8_t roomy[2 * 1200 + 1], tight[2 * 1200];
	size_t tcap = cap < 2 * len ? cap : 2 * len;
	ssize_t r, r2, r3;

	assert_true(len <= 1200);
	r = mpq_qpack_huffman_decode(roomy, 2 * len + 1, in, len);
	r2 = mpq_qpack_huffman_decode(out, cap, in, len);
	r3 = mpq_qpack_huffman_decode(tight, tcap, in, len);
	if (r2 == MPQ_QPACK_ERR_TOO_LARGE)
		assert_true(r > (ssize_t)cap || r == MPQ_QPACK_ERR_DECOMPRESSION);
	else
		assert_int_equal(r2, r);
	assert_int_equal(r3, r2);
	if (r2 > 0) {
		assert_memory_equal(out, roomy, (size_t)r2);
		assert_memory_equal(tight, roomy, (size_t)r2);
	}
	return r2;
}

static void huffman_rfc_strings(void **state)
{
	for (size_t i = 0; i < sizeof(rfc_strings) / sizeof(rfc_strings[0]); i++) {
		const uint8_t *text = (const uint8_t *)rfc_strings[i].text;
		size_t len = strlen(rfc_strings[i].text);
		uint8_t want[128], out[128];
		size_t n = unhex(want, rfc_strings[i].hex);

		assert_int_equal(mpq_qpack_huffman_len(text, len), n);
		assert_int_equal(mpq_qpack_huffman_encode(out, text, len), n);
		assert_memory_equal(out, want, n);
		assert_int_equal(hdecode(out, sizeof(out), want, n), len);
		assert_memory_equal(out, text, len);
	}
}

/* Random bytes of every length 0..300 (all 256 values, so codes up to 30
 * bits), and text-like ones: coded, decoded back, and refused when the output
 * is one byte short. */
static void huffman_random_round_trips(void **state)
{
	static uint8_t in[300], coded[300 * 4], out[300];

	rnd_state = 0x1234567;
	for (int round = 0; round < 4; round++) {
		for (size_t len = 0; len <= sizeof(in); len++) {
			size_t n;

			for (size_t i = 0; i < len; i++)
				in[i] = round & 1 ? (uint8_t)('a' + rnd() % 26) : (uint8_t)rnd();
			n = mpq_qpack_huffman_encode(coded, in, len);
			assert_int_equal(n, mpq_qpack_huffman_len(in, len));
			assert_int_equal(hdecode(out, len, coded, n), len);
			assert_memory_equal(out, in, len);
			if (len)
				assert_int_equal(hdecode(out, len - 1, coded, n),
						 MPQ_QPACK_ERR_TOO_LARGE);
		}
	}
}

/* Each symbol alone, padded by 0..7 bits: the table decoder against the
 * codes it was made from. */
static void huffman_every_symbol(void **state)
{
	for (unsigned sym = 0; sym < 256; sym++) {
		uint8_t in = (uint8_t)sym, coded[8], out[2];
		size_t n = mpq_qpack_huffman_encode(coded, &in, 1);
		const struct mpq_qpack_huff_code *c = &mpq_qpack_huff_codes[sym];

		assert_int_equal(n, (c->bits + 7) / 8);
		assert_int_equal(hdecode(out, sizeof(out), coded, n), 1);
		assert_int_equal(out[0], sym);
	}
}

static void huffman_refusals(void **state)
{
	uint8_t out[16];
	/* "0" is 00000: 3 bits of padding to go. */
	static const uint8_t ok[] = {0x07};
	static const uint8_t pad_zero[] = {0x00};  /* padding 000 */
	static const uint8_t pad_mixed[] = {0x05}; /* padding 101 */
	/* "a" (00011) then 11 ones: padding over 7 bits. */
	static const uint8_t pad_long[] = {0x1f, 0xff};
	static const uint8_t pad_byte[] = {0xff}; /* 8 bits of padding alone */
	/* EOS (30 ones) then 2 ones of padding; and EOS after "0". */
	static const uint8_t eos[] = {0xff, 0xff, 0xff, 0xff};
	static const uint8_t eos_after[] = {0x07, 0xff, 0xff, 0xff, 0xff};

	assert_int_equal(hdecode(out, sizeof(out), ok, sizeof(ok)), 1);
	assert_int_equal(out[0], '0');
	assert_int_equal(hdecode(out, sizeof(out), NULL, 0), 0);
	assert_int_equal(hdecode(out, sizeof(out), pad_zero, 1), MPQ_QPACK_ERR_DECOMPRESSION);
	assert_int_equal(hdecode(out, sizeof(out), pad_mixed, 1), MPQ_QPACK_ERR_DECOMPRESSION);
	assert_int_equal(hdecode(out, sizeof(out), pad_long, 2), MPQ_QPACK_ERR_DECOMPRESSION);
	assert_int_equal(hdecode(out, sizeof(out), pad_byte, 1), MPQ_QPACK_ERR_DECOMPRESSION);
	assert_int_equal(hdecode(out, sizeof(out), eos, sizeof(eos)), MPQ_QPACK_ERR_DECOMPRESSION);
	assert_int_equal(hdecode(out, sizeof(out), eos_after, sizeof(eos_after)),
			 MPQ_QPACK_ERR_DECOMPRESSION);
}

/* Every input of one byte: valid exactly when a code of at most 8 bits opens
 * it and ones pad the rest (two codes need 10 bits; padding alone is 8). */
static void huffman_every_byte(void **state)
{
	for (unsigned b = 0; b < 256; b++) {
		uint8_t in = (uint8_t)b, out[4];
		int want = -1;

		for (unsigned sym = 0; sym < 256; sym++) {
			const struct mpq_qpack_huff_code *c = &mpq_qpack_huff_codes[sym];
			unsigned pad = 8 - c->bits;

			if (c->bits <= 8 && b >> pad == c->code &&
			    (b & ((1u << pad) - 1)) == (1u << pad) - 1)
				want = (int)sym;
		}
		if (want < 0) {
			assert_int_equal(hdecode(out, sizeof(out), &in, 1),
					 MPQ_QPACK_ERR_DECOMPRESSION);
		} else {
			assert_int_equal(hdecode(out, sizeof(out), &in, 1), 1);
			assert_int_equal(out[0], want);
		}
	}
}

/* ---- Static table ---- */

static void static_table_lookup(void **state)
{
	int exact;

	assert_int_equal(mpq_qpack_static[0].namelen, 10);
	assert_string_equal(mpq_qpack_static[17].name, ":method");
	assert_string_equal(mpq_qpack_static[17].value, "GET");
	assert_string_equal(mpq_qpack_static[98].value, "sameorigin");
	for (int i = 0; i < MPQ_QPACK_STATIC_COUNT; i++) {
		const struct mpq_qpack_static_entry *e = &mpq_qpack_static[i];
		int first = 0;

		assert_int_equal(strlen(e->name), e->namelen);
		assert_int_equal(strlen(e->value), e->valuelen);
		assert_int_equal(mpq_qpack_static_find((const uint8_t *)e->name, e->namelen,
						       (const uint8_t *)e->value, e->valuelen,
						       &exact),
				 i);
		assert_true(exact);
		while (strcmp(mpq_qpack_static[first].name, e->name))
			first++;
		assert_int_equal(mpq_qpack_static_find((const uint8_t *)e->name, e->namelen,
						       (const uint8_t *)"\x01", 1, &exact),
				 first);
		assert_false(exact);
	}
	/* ":status" is at 24-28 and 63-71: the name goes to the first. */
	assert_int_equal(mpq_qpack_static_find((const uint8_t *)":status", 7,
					       (const uint8_t *)"421", 3, &exact),
			 69);
	assert_int_equal(mpq_qpack_static_find((const uint8_t *)":status", 7,
					       (const uint8_t *)"418", 3, &exact),
			 24);
	assert_int_equal(mpq_qpack_static_find((const uint8_t *)"x-unknown", 9, NULL, 0, &exact),
			 -1);
	assert_int_equal(mpq_qpack_static_find((const uint8_t *)"authority", 9, NULL, 0, &exact),
			 -1);
	assert_int_equal(mpq_qpack_static_find((const uint8_t
							*)"x-a-name-longer-than-any-static-one",
					       35, NULL, 0, &exact),
			 -1);
}

/* Each entry alone encodes as one indexed field line and decodes back. */
static void static_entries_round_trip(void **state)
{
	for (int i = 0; i < MPQ_QPACK_STATIC_COUNT; i++) {
		const struct mpq_qpack_static_entry *e = &mpq_qpack_static[i];
		mpq_qpack_field f = field(e->name, e->value);
		uint8_t out[8];
		struct seen s = {0};
		ssize_t n = mpq_qpack_encode(out, sizeof(out), &f, 1);

		/* prefix 00 00, then 11 + 6-bit index (63 and up: 2 bytes) */
		assert_int_equal(n, i < 63 ? 3 : 4);
		assert_int_equal(out[0], 0);
		assert_int_equal(out[1], 0);
		assert_int_equal(out[2], 0xc0 | (i < 63 ? i : 63));
		if (i >= 63)
			assert_int_equal(out[3], i - 63);
		assert_int_equal(decode(out, (size_t)n, 0, &s), 0);
		assert_fields(&s, &f, 1);
	}
}

/* ---- Field sections ---- */

static void static_name_new_value(void **state)
{
	/* RFC 9204 B.1: literal with a static name reference (1, ":path"). */
	static const uint8_t rfc[] = {0x00, 0x00, 0x51, 0x0b, '/', 'i', 'n', 'd',
				      'e',  'x',  '.',	'h',  't', 'm', 'l'};
	mpq_qpack_field f = field(":path", "/index.html");
	uint8_t out[64];
	struct seen s = {0};
	ssize_t n;

	assert_int_equal(decode(rfc, sizeof(rfc), 0, &s), 0);
	assert_fields(&s, &f, 1);
	/* Ours Huffman-codes the value (8 bytes, not 11). */
	n = mpq_qpack_encode(out, sizeof(out), &f, 1);
	assert_int_equal(n, 2 + 1 + 1 + 8);
	assert_int_equal(out[2], 0x51);
	assert_int_equal(out[3], 0x80 | 8);
	assert_int_equal(decode(out, (size_t)n, 11, &s), 0);
	assert_fields(&s, &f, 1);
	assert_int_equal(decode(out, (size_t)n, 10, &s), MPQ_QPACK_ERR_TOO_LARGE);
	/* A value Huffman makes no shorter goes raw: no scratch needed. */
	f = field("content-length", "\xff\xfe");
	n = mpq_qpack_encode(out, sizeof(out), &f, 1);
	assert_int_equal(n, 2 + 1 + 1 + 2);
	assert_int_equal(out[2], 0x54);
	assert_int_equal(out[3], 2);
	assert_int_equal(decode(out, (size_t)n, 0, &s), 0);
	assert_fields(&s, &f, 1);
	/* Index 15 and up takes a second byte after 0101 1111. */
	f = field("user-agent", "mpq");
	n = mpq_qpack_encode(out, sizeof(out), &f, 1);
	assert_int_equal(out[2], 0x5f);
	assert_int_equal(out[3], 95 - 15);
	assert_int_equal(decode(out, (size_t)n, 64, &s), 0);
	assert_fields(&s, &f, 1);
}

static void literal_names(void **state)
{
	mpq_qpack_field f[] = {
		field("x-custom", "some value"),
		field("", ""),
		field("x-bin", "\x80\x81\x82"),
		field("a-name-of-exactly-seven-plus-more", "v"),
	};
	uint8_t out[256];
	struct seen s = {0};
	ssize_t n = mpq_qpack_encode(out, sizeof(out), f, 4);

	assert_true(n > 0);
	/* 001 N=0 H=1 + 3-bit length: "x-custom" is 6 bytes coded. */
	assert_int_equal(out[2], 0x20 | 0x08 | 6);
	assert_int_equal(decode(out, (size_t)n, 256, &s), 0);
	assert_fields(&s, f, 4);
}

/* A request and a response as nghttp3 0.8 (Debian 12's ngtcp2 examples
 * gtlsclient and gtlsserver) sent them over 127.0.0.1, their HEADERS
 * payloads read from a capture with tshark and SSLKEYLOGFILE; the nghttp3
 * settings were forced to a table capacity of 0 (an LD_PRELOAD around
 * nghttp3_conn_*_new), as our endpoints advertise. The fields are those
 * gtlsclient logged. */
static const uint8_t nghttp3_request[] = {
	0x00, 0x00, 0xd1, 0xd7, 0x50, 0x8b, 0xa0, 0xe4, 0x1d, 0x13, 0x9d, 0x09, 0xb8, 0x26, 0x9a,
	0x65, 0xaf, 0x51, 0x88, 0x60, 0xd5, 0x48, 0x5f, 0x2b, 0xce, 0x9a, 0x68, 0x5f, 0x50, 0x8f,
	0xaa, 0x69, 0xd2, 0x9a, 0xd9, 0x62, 0xa9, 0x92, 0x4a, 0xc4, 0xa1, 0x28, 0x31, 0x6a, 0x4f,
};
static const uint8_t nghttp3_response[] = {
	0x00, 0x00, 0xd9, 0x5f, 0x4d, 0x8f, 0xaa, 0x69, 0xd2, 0x9a, 0xd9, 0x62,
	0xa9, 0x92, 0x4a, 0xc4, 0xa2, 0x0b, 0x67, 0x72, 0xd9, 0x5f, 0x1d, 0x87,
	0x49, 0x7c, 0xa5, 0x89, 0xd3, 0x4d, 0x1f, 0x54, 0x01, 0x36,
};
/* The same exchange with nghttp3's default table of 4096 bytes: Required
 * Insert Count 3, Base 1, post-base references. */
static const uint8_t nghttp3_request_dynamic[] = {0x03, 0x81, 0xd1, 0xd7, 0x10, 0x51, 0x88, 0x60,
						  0xd5, 0x48, 0x5f, 0x2b, 0xce, 0x9a, 0x68, 0x11};
static const uint8_t nghttp3_response_dynamic[] = {0x03, 0x81, 0xd9, 0x10, 0x11, 0x54, 0x01, 0x36};

static void nghttp3_sections(void **state)
{
	const mpq_qpack_field req[] = {
		field(":method", "GET"),
		field(":scheme", "https"),
		field(":authority", "localhost:24434"),
		field(":path", "/index.html"),
		field("user-agent", "nghttp3/ngtcp2 client"),
	};
	const mpq_qpack_field resp[] = {
		field(":status", "200"),
		field("server", "nghttp3/ngtcp2 server"),
		field("content-type", "text/html"),
		field("content-length", "6"),
	};
	struct seen s = {0};
	uint8_t out[128];

	assert_int_equal(decode(nghttp3_request, sizeof(nghttp3_request), 256, &s), 0);
	assert_fields(&s, req, 5);
	assert_int_equal(decode(nghttp3_response, sizeof(nghttp3_response), 256, &s), 0);
	assert_fields(&s, resp, 4);
	/* Our encoder makes the same choices nghttp3 did. */
	assert_int_equal(mpq_qpack_encode(out, sizeof(out), req, 5), sizeof(nghttp3_request));
	assert_memory_equal(out, nghttp3_request, sizeof(nghttp3_request));
	assert_int_equal(mpq_qpack_encode(out, sizeof(out), resp, 4), sizeof(nghttp3_response));
	assert_memory_equal(out, nghttp3_response, sizeof(nghttp3_response));
	/* The dynamic-table versions are refused before any field. */
	assert_int_equal(decode(nghttp3_request_dynamic, sizeof(nghttp3_request_dynamic), 256, &s),
			 MPQ_QPACK_ERR_DECOMPRESSION);
	assert_int_equal(s.n, 0);
	assert_int_equal(decode(nghttp3_response_dynamic, sizeof(nghttp3_response_dynamic), 256,
				&s),
			 MPQ_QPACK_ERR_DECOMPRESSION);
	assert_int_equal(s.n, 0);
}

/* The encoder fails at every capacity below the size it needs, writing
 * nothing past the capacity. */
static void encode_nobuf(void **state)
{
	/* A path whose coded length takes a second byte (over 126). */
	static char path[201];
	mpq_qpack_field f[] = {
		field(":method", "GET"),
		field(":path", ""),
		field("x-literal-name", "\x01\x02\x03"),
		field("user-agent", "mpq"),
		field("accept", "*/*"),
	};
	uint8_t out[512];
	struct seen s = {0};
	ssize_t need;

	for (size_t i = 0; i < sizeof(path) - 1; i++)
		path[i] = "/abc0123"[i % 8];
	f[1] = field(":path", path);
	need = mpq_qpack_encode(out, sizeof(out), f, 5);
	assert_int_equal(out[4], 0x80 | 0x7f); /* H, length 127 + ... */
	assert_true(need > 150);
	assert_int_equal(decode(out, (size_t)need, 512, &s), 0);
	assert_fields(&s, f, 5);
	for (size_t cap = 0; cap < (size_t)need; cap++) {
		memset(out, 0xa5, sizeof(out));
		assert_int_equal(mpq_qpack_encode(out, cap, f, 5), MPQ_QPACK_ERR_NOBUF);
		for (size_t i = cap; i < sizeof(out); i++)
			assert_int_equal(out[i], 0xa5);
	}
	assert_int_equal(mpq_qpack_encode(out, (size_t)need, f, 5), need);
	assert_int_equal(mpq_qpack_encode(out, (size_t)need, NULL, 0), 2);
}

/* A section cut anywhere: refused unless the cut falls between field lines
 * (then it is a valid shorter section). */
static void decode_truncations(void **state)
{
	size_t bounds[] = {2, 3, 4, 17, 27, 45}; /* nghttp3_request's line ends */
	struct seen s = {0};

	for (size_t cut = 0; cut < sizeof(nghttp3_request); cut++) {
		int boundary = -1;

		for (size_t k = 0; k < sizeof(bounds) / sizeof(bounds[0]); k++) {
			if (bounds[k] == cut)
				boundary = (int)k;
		}
		/* A copy of exactly |cut| bytes: ASan sees any read past it. */
		uint8_t in[sizeof(nghttp3_request)];
		memcpy(in, nghttp3_request, cut);
		if (boundary >= 0) {
			assert_int_equal(decode(in, cut, 256, &s), 0);
			assert_int_equal(s.n, (size_t)boundary);
		} else {
			assert_int_equal(decode(in, cut, 256, &s), MPQ_QPACK_ERR_DECOMPRESSION);
		}
	}
}

static void decode_refusals(void **state)
{
	static const struct {
		const char *why;
		uint8_t in[16];
		size_t len;
	} bad[] = {
		{"indexed, dynamic (T=0)", {0x00, 0x00, 0x80}, 3},
		{"indexed, post-base", {0x00, 0x00, 0x10}, 3},
		{"name reference, dynamic (T=0)", {0x00, 0x00, 0x40, 0x01, 'x'}, 5},
		{"name reference, dynamic, N set", {0x00, 0x00, 0x60, 0x01, 'x'}, 5},
		{"post-base name reference", {0x00, 0x00, 0x00, 0x01, 'x'}, 5},
		{"post-base name reference, N set", {0x00, 0x00, 0x08, 0x01, 'x'}, 5},
		{"Required Insert Count 1", {0x01, 0x00, 0xd1}, 3},
		{"Required Insert Count 255 + 1", {0xff, 0x01, 0x00, 0xd1}, 4},
		{"Base with the sign bit", {0x00, 0x80, 0xd1}, 3},
		{"Base with the sign bit, delta 5", {0x00, 0x85, 0xd1}, 3},
		{"static index 99", {0x00, 0x00, 0xff, 0x24}, 4},
		{"static name index 99", {0x00, 0x00, 0x5f, 0x54, 0x00}, 5},
		{"static index 2^62 - 1 + 63",
		 {0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f},
		 12},
		{"ten continuation bytes",
		 {0x00, 0x00, 0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
		 13},
		{"value longer than the section", {0x00, 0x00, 0x51, 0x05, 'a', 'b'}, 6},
		{"name longer than the section", {0x00, 0x00, 0x23, 'a', 'b'}, 5},
		{"Huffman value with EOS", {0x00, 0x00, 0x51, 0x84, 0xff, 0xff, 0xff, 0xff}, 8},
		{"Huffman name padded with zeros", {0x00, 0x00, 0x29, 0x00, 0x00}, 5},
		{"no Base", {0x00}, 1},
		{"nothing", {0}, 0},
	};
	struct seen s = {0};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = decode(bad[i].in, bad[i].len, 64, &s);

		if (r != MPQ_QPACK_ERR_DECOMPRESSION)
			fail_msg("%s: %d", bad[i].why, r);
	}
}

/* Integers at the limits: the Base's delta is read and dropped, up to
 * 2^62 - 1; a static index 98 in two bytes; overlong but small encodings. */
static void decode_integers(void **state)
{
	/* delta = 127 + 0x3fff...ff80 = 2^62 - 1 */
	uint8_t max[] = {0x00, 0x7f, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f};
	uint8_t over[] = {0x00, 0x7f, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f};
	uint8_t idx98[] = {0x00, 0x00, 0xff, 0x23};
	/* Index 63 with a needless zero continuation byte: allowed. */
	uint8_t overlong[] = {0x00, 0x00, 0xff, 0x80, 0x00};
	struct seen s = {0};

	assert_int_equal(decode(max, sizeof(max), 0, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(decode(over, sizeof(over), 0, &s), MPQ_QPACK_ERR_DECOMPRESSION);
	assert_int_equal(decode(idx98, sizeof(idx98), 0, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.name[0], "x-frame-options");
	assert_string_equal(s.value[0], "sameorigin");
	assert_int_equal(decode(overlong, sizeof(overlong), 0, &s), 0);
	assert_string_equal(s.name[0], ":status");
	assert_string_equal(s.value[0], "100");
}

static void decode_scratch_too_small(void **state)
{
	/* The request's Huffman strings decode to 15 + 11 + 21 = 47 bytes. */
	struct seen s = {0};

	assert_int_equal(decode(nghttp3_request, sizeof(nghttp3_request), 47, &s), 0);
	for (size_t sz = 0; sz < 47; sz++)
		assert_int_equal(decode(nghttp3_request, sizeof(nghttp3_request), sz, &s),
				 MPQ_QPACK_ERR_TOO_LARGE);
	assert_int_equal(mpq_qpack_decode(nghttp3_request, sizeof(nghttp3_request), NULL, 0,
					  collect, &s),
			 MPQ_QPACK_ERR_TOO_LARGE);
	/* Raw strings point into the input: no scratch. */
	assert_int_equal(decode((const uint8_t *)"\x00\x00\x51\x01/", 5, 0, &s), 0);
}

static void decode_callback_value(void **state)
{
	struct seen s = {.stop_at = 2};

	assert_int_equal(decode(nghttp3_request, sizeof(nghttp3_request), 256, &s), 7);
	assert_int_equal(s.n, 2);
	s.stop_at = 5;
	assert_int_equal(decode(nghttp3_request, sizeof(nghttp3_request), 256, &s), 7);
	assert_int_equal(s.n, 5);
}

/* Random field lists (names and values of random bytes, some from the
 * static table) survive encode and decode. */
static void random_sections_round_trip(void **state)
{
	static uint8_t bytes[MAX_FIELDS][2][100];
	static uint8_t out[MAX_FIELDS * 2 * 160];
	mpq_qpack_field f[MAX_FIELDS];

	rnd_state = 0xfeedface;
	for (int round = 0; round < 500; round++) {
		size_t n = rnd() % MAX_FIELDS;
		struct seen s = {0};
		ssize_t len;

		for (size_t i = 0; i < n; i++) {
			const struct mpq_qpack_static_entry *e =
				&mpq_qpack_static[rnd() % MPQ_QPACK_STATIC_COUNT];
			size_t nl = rnd() % 100, vl = rnd() % 100;

			for (size_t k = 0; k < nl; k++)
				bytes[i][0][k] = (uint8_t)rnd();
			for (size_t k = 0; k < vl; k++)
				bytes[i][1][k] = (uint8_t)rnd();
			f[i] = (mpq_qpack_field){bytes[i][0], nl, bytes[i][1], vl};
			switch (rnd() % 3) {
			case 0: /* a static entry */
				f[i] = field(e->name, e->value);
				break;
			case 1: /* its name, another value */
				f[i].name = (const uint8_t *)e->name;
				f[i].namelen = e->namelen;
				break;
			}
		}
		len = mpq_qpack_encode(out, sizeof(out), f, n);
		assert_true(len >= 2);
		assert_int_equal(decode(out, (size_t)len, 4096, &s), 0);
		assert_fields(&s, f, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(huffman_rfc_strings),
		cmocka_unit_test(huffman_random_round_trips),
		cmocka_unit_test(huffman_every_symbol),
		cmocka_unit_test(huffman_refusals),
		cmocka_unit_test(huffman_every_byte),
		cmocka_unit_test(static_table_lookup),
		cmocka_unit_test(static_entries_round_trip),
		cmocka_unit_test(static_name_new_value),
		cmocka_unit_test(literal_names),
		cmocka_unit_test(nghttp3_sections),
		cmocka_unit_test(encode_nobuf),
		cmocka_unit_test(decode_truncations),
		cmocka_unit_test(decode_refusals),
		cmocka_unit_test(decode_integers),
		cmocka_unit_test(decode_scratch_too_small),
		cmocka_unit_test(decode_callback_value),
		cmocka_unit_test(random_sections_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
