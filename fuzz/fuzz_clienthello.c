/*
 * A server endpoint fed ClientHellos built from the fuzz input, in client
 * Initials protected with the Initial keys of a DCID the input picks (RFC 9001
 * §5.2): what OpenSSL and our callbacks make of the extensions (versions, key
 * shares, ALPN, transport parameters raw from the input, SNI, unknown ones,
 * lengths that lie), the CRYPTO data cut in pieces, reordered and repeated.
 * The server answers after each datagram (its output goes nowhere), then its
 * timers run. Input:
 *   byte 0  flags: bit 0 extensions the records leave out get working ones,
 *           bit 1 the input after the CIDs is the CRYPTO stream as it is (real
 *           ClientHellos), bit 2 pieces go out in reverse, bit 3 several
 *           pieces share a packet, bit 4 the last piece is sent twice
 *   byte 1  the stream is cut in 1 + b % 8 pieces, sent from piece b / 8
 *   byte 2  lies: message length + (b & 15) - 8, extensions block length
 *           + (b >> 4) - 8 (nibble 0: the true length)
 *   then the DCID and the SCID: a length byte (% 21) and that many bytes
 *   then records of an op byte, a 2-byte length and that many bytes: one
 *   extension each, of kind op & 15 (see kinds[]); op bit 4 wraps the bytes
 *   in the extension's list syntax, bit 7 makes the extension's length lie
 *   by -2, -1, +1 or +2 (bits 5-6). Kind 14 starts another ClientHello (a
 *   second one answers a HelloRetryRequest).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_pkt.h"
#include "fuzz_tls.h"
#include "fuzz_util.h"
#include "mpq/endpoint.h"
#include "quic/conn.h"
#include "quic/tparams.h"

#define STREAM_MAX 16384
#define HELLOS_MAX 4
#define PIECE_MAX 1000 /* CRYPTO bytes per frame, so a frame fits a packet */

enum kind {
	K_VERSIONS,
	K_KEY_SHARE,
	K_ALPN,
	K_TPARAMS,
	K_SNI,
	K_GROUPS,
	K_SIGALGS,
	K_PSK_MODES,
	K_PADDING,
	K_EARLY_DATA,
	K_PSK,
	K_UNKNOWN, /* type from the first two bytes */
	K_SESSION_ID,
	K_SUITES,
	K_NEXT_HELLO,
	K_COMPRESSION,
};
#define DEFAULT_KINDS 7 /* the first kinds get defaults */

static const uint16_t ext_type[] = {43, 51, 16, 0x39, 0, 10, 13, 45, 21, 42, 41};

/* An x25519 public key (RFC 7748 §6.1, Alice's). */
static const uint8_t x25519_pub[32] = {0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54,
				       0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
				       0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4,
				       0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a};

static mpq_tls_ctx *sctx, *cctx;

struct hello {
	mpq_writer w; /* the CRYPTO stream */
	const uint8_t *session_id, *suites, *compression;
	size_t session_id_len, suites_len, compression_len;
	uint8_t ext[STREAM_MAX];
	size_t ext_len;
	unsigned seen; /* kinds given by records */
	bool bad;
};

static void put(uint8_t *buf, size_t cap, size_t *len, const void *p, size_t n, bool *bad)
{
	if (n > cap - *len) {
		*bad = true;
		return;
	}
	memcpy(buf + *len, p, n);
	*len += n;
}

static void put16(uint8_t *buf, size_t cap, size_t *len, size_t v, bool *bad)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(buf, cap, len, b, 2, bad);
}

/* The body of an extension of |kind| in its list syntax around |p|. */
static size_t wrap(enum kind kind, const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
	size_t len = 0, i, start;
	bool bad = false;
	switch (kind) {
	case K_VERSIONS:
	case K_PSK_MODES: /* a one-byte length */
		out[len++] = (uint8_t)n;
		put(out, cap, &len, p, n, &bad);
		break;
	case K_KEY_SHARE: /* group (the first two bytes), then the key */
		put16(out, cap, &len, n + 2, &bad);
		put(out, cap, &len, p, n < 2 ? n : 2, &bad);
		put16(out, cap, &len, n < 2 ? 0 : n - 2, &bad);
		if (n > 2)
			put(out, cap, &len, p + 2, n - 2, &bad);
		break;
	case K_ALPN: /* protocol names separated by commas */
		len = 2;
		for (i = 0, start = 0; i <= n; i++) {
			if (i < n && p[i] != ',')
				continue;
			out[len++] = (uint8_t)(i - start);
			put(out, cap, &len, p + start, i - start, &bad);
			start = i + 1;
		}
		out[0] = (uint8_t)((len - 2) >> 8);
		out[1] = (uint8_t)(len - 2);
		break;
	case K_SNI: /* one host name */
		put16(out, cap, &len, n + 3, &bad);
		out[len++] = 0;
		put16(out, cap, &len, n, &bad);
		put(out, cap, &len, p, n, &bad);
		break;
	default: /* a two-byte length */
		put16(out, cap, &len, n, &bad);
		put(out, cap, &len, p, n, &bad);
		break;
	}
	return bad ? 0 : len;
}

static void add_ext(struct hello *h, uint16_t type, const uint8_t *body, size_t n, int lie)
{
	put16(h->ext, sizeof(h->ext), &h->ext_len, type, &h->bad);
	put16(h->ext, sizeof(h->ext), &h->ext_len, (size_t)((int)n + lie) & 0xffff, &h->bad);
	put(h->ext, sizeof(h->ext), &h->ext_len, body, n, &h->bad);
}

/* What a well-behaved client sends for the kinds the records left out. */
static void add_defaults(struct hello *h, const mpq_cid *scid)
{
	static const uint8_t versions[] = {0x03, 0x04};
	static const uint8_t groups[] = {0x00, 0x1d, 0x00, 0x17};
	static const uint8_t sigalgs[] = {0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x08, 0x07};
	static const char alpn[] = "hq-interop";
	static const char sni[] = "localhost";
	uint8_t share[34] = {0x00, 0x1d}, body[600], tp[512];
	memcpy(share + 2, x25519_pub, sizeof(x25519_pub));

	mpq_tparams t;
	mpq_tparams_default(&t);
	t.has_initial_scid = 1;
	t.initial_scid = *scid;
	t.initial_max_streams_bidi = 4;
	t.initial_max_data = 1 << 16;
	t.has_initial_max_path_id = 1;
	t.initial_max_path_id = 2;
	int tplen = mpq_tparams_encode(tp, sizeof(tp), &t, false);

	const struct {
		const void *p;
		size_t n;
	} def[DEFAULT_KINDS] = {
		[K_VERSIONS] = {versions, sizeof(versions)},
		[K_KEY_SHARE] = {share, sizeof(share)},
		[K_ALPN] = {alpn, sizeof(alpn) - 1},
		[K_TPARAMS] = {tp, tplen > 0 ? (size_t)tplen : 0},
		[K_SNI] = {sni, sizeof(sni) - 1},
		[K_GROUPS] = {groups, sizeof(groups)},
		[K_SIGALGS] = {sigalgs, sizeof(sigalgs)},
	};
	for (int k = 0; k < DEFAULT_KINDS; k++) {
		if (h->seen & (1u << k))
			continue;
		size_t n = k == K_TPARAMS ? def[k].n
					  : wrap(k, def[k].p, def[k].n, body, sizeof(body));
		add_ext(h, ext_type[k], k == K_TPARAMS ? def[k].p : body, n, 0);
	}
}

/* Writes the ClientHello gathered in |h| to the stream. */
static void finish_hello(struct hello *h, uint8_t lies, bool defaults, const mpq_cid *scid)
{
	static const uint8_t suites[] = {0x13, 0x01, 0x13, 0x02, 0x13, 0x03};
	static const uint8_t null_compression[] = {0};
	uint8_t random[32];
	memset(random, 0x42, sizeof(random));
	if (defaults)
		add_defaults(h, scid);
	if (!h->suites) {
		h->suites = suites;
		h->suites_len = sizeof(suites);
	}
	if (!h->compression) {
		h->compression = null_compression;
		h->compression_len = 1;
	}
	size_t body = 2 + 32 + 1 + h->session_id_len + 2 + h->suites_len + 1 + h->compression_len +
		      2 + h->ext_len;
	int msg_lie = lies & 15 ? (lies & 15) - 8 : 0, ext_lie = lies >> 4 ? (lies >> 4) - 8 : 0;
	size_t msg_len = (body + (size_t)msg_lie) & 0xffffff;
	uint8_t hd[4] = {1, (uint8_t)(msg_len >> 16), (uint8_t)(msg_len >> 8), (uint8_t)msg_len};
	mpq_writer *w = &h->w;
	bool bad = h->bad || mpq_write_bytes(w, hd, 4) || mpq_write_u16(w, 0x0303) ||
		   mpq_write_bytes(w, random, 32) || mpq_write_u8(w, (uint8_t)h->session_id_len) ||
		   mpq_write_bytes(w, h->session_id, h->session_id_len) ||
		   mpq_write_u16(w, (uint16_t)h->suites_len) ||
		   mpq_write_bytes(w, h->suites, h->suites_len) ||
		   mpq_write_u8(w, (uint8_t)h->compression_len) ||
		   mpq_write_bytes(w, h->compression, h->compression_len) ||
		   mpq_write_u16(w, (uint16_t)(h->ext_len + (size_t)ext_lie)) ||
		   mpq_write_bytes(w, h->ext, h->ext_len);
	h->bad = bad;
	h->session_id = h->suites = h->compression = NULL;
	h->session_id_len = h->suites_len = h->compression_len = h->ext_len = 0;
	h->seen = 0;
}

/* The CRYPTO stream of the ClientHellos the records describe; |ends| gets
 * where each ends. Returns how many there are. */
static size_t build_stream(uint8_t *out, size_t *ends, struct fuzz_records *recs, uint8_t flags,
			   uint8_t lies, const mpq_cid *scid)
{
	static struct hello h;
	uint8_t body[STREAM_MAX], op;
	const uint8_t *p;
	size_t n, hellos = 1;
	memset(&h, 0, sizeof(h));
	mpq_writer_init(&h.w, out, STREAM_MAX);
	while (fuzz_next_record(recs, &op, &p, &n) && !h.bad) {
		enum kind k = op & 15;
		int lie = op & 0x80 ? (int[]){-2, -1, 1, 2}[(op >> 5) & 3] : 0;
		h.seen |= 1u << k;
		if (k == K_SESSION_ID) {
			h.session_id = p;
			h.session_id_len = n > 255 ? 255 : n;
		} else if (k == K_SUITES) {
			h.suites = p;
			h.suites_len = n;
		} else if (k == K_COMPRESSION) {
			h.compression = p;
			h.compression_len = n > 255 ? 255 : n;
		} else if (k == K_NEXT_HELLO) {
			if (hellos == HELLOS_MAX)
				break;
			finish_hello(&h, lies, flags & 1, scid);
			ends[hellos++ - 1] = (size_t)(h.w.pos - out);
		} else if (k == K_UNKNOWN) {
			uint16_t type = n >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : 0xfafa;
			size_t skip = n >= 2 ? 2 : n;
			add_ext(&h, type, p + skip, n - skip, lie);
		} else if (op & 0x10) {
			size_t len = wrap(k, p, n, body, sizeof(body));
			add_ext(&h, ext_type[k], body, len, lie);
		} else {
			add_ext(&h, ext_type[k], p, n, lie);
		}
	}
	finish_hello(&h, lies, flags & 1, scid);
	ends[hellos - 1] = (size_t)(h.w.pos - out);
	return h.bad ? 0 : hellos;
}

struct world {
	mpq_endpoint *ep;
	mpq_path from;
	mpq_cid dcid, scid;
	mpq_crypto_keys ck, sk;
	uint64_t now, pn;
};

static int start(struct world *w)
{
	mpq_endpoint_config cfg;
	mpq_endpoint_config_default(&cfg);
	cfg.tls = sctx;
	cfg.callbacks.rand = fuzz_rand;
	cfg.tparams.initial_max_streams_bidi = 4;
	cfg.tparams.initial_max_data = 1 << 16;
	cfg.tparams.has_initial_max_path_id = 1;
	cfg.tparams.initial_max_path_id = 2;
	memset(cfg.secret, 0x5a, sizeof(cfg.secret));
	if (mpq_endpoint_new(&w->ep, &cfg) != 0)
		return -1;
	fuzz_addr4(&w->from.local, 0x7f000002, 443);
	fuzz_addr4(&w->from.remote, 0x7f000001, 40000);
	w->now = 1000000000;
	return mpq_crypto_initial_keys(MPQ_VERSION_1, &w->dcid, &w->ck, &w->sk);
}

/* The server sends what it has (to nowhere) and its timers run. */
static void server_round(struct world *w, uint64_t step)
{
	uint8_t buf[1500];
	mpq_path out;
	while (mpq_endpoint_write_stateless(w->ep, &out, buf, sizeof(buf)) > 0)
		;
	w->now += step;
	for (size_t i = 0; i < mpq_endpoint_conn_count(w->ep); i++) {
		mpq_conn *c = mpq_endpoint_conn_at(w->ep, i);
		for (int k = 0; k < 16; k++)
			if (mpq_conn_write_pkt(c, &out, NULL, buf, sizeof(buf), w->now) <= 0)
				break;
		if (mpq_conn_get_expiry(c) <= w->now)
			mpq_conn_handle_expiry(c, w->now);
	}
}

static void send_initial(struct world *w, const uint8_t *frames, size_t len)
{
	static uint8_t dgram[2048];
	size_t n = fuzz_long_packet(dgram, sizeof(dgram), MPQ_PKT_INITIAL, &w->dcid, &w->scid,
				    w->pn++, frames, len, 1200, &w->ck);
	mpq_conn *conn;
	if (n)
		mpq_endpoint_read(w->ep, &w->from, NULL, dgram, n, w->now, &conn);
	server_round(w, 1000);
}

/* The stream from |from| to |to| as CRYPTO frames of at most PIECE_MAX
 * bytes, cut in pieces, in the order the flags say, one or several per packet. */
static void send_stream(struct world *w, const uint8_t *s, size_t from, size_t to, uint8_t flags,
			uint8_t cut)
{
	struct {
		size_t off, len;
	} frag[STREAM_MAX / PIECE_MAX + 16];
	size_t nfrag = 0, pieces = 1 + cut % 8;
	for (size_t i = 0; i < pieces; i++) {
		size_t a = from + (to - from) * i / pieces,
		       b = from + (to - from) * (i + 1) / pieces;
		for (; a < b; a += PIECE_MAX, nfrag++) {
			frag[nfrag].off = a;
			frag[nfrag].len = b - a < PIECE_MAX ? b - a : PIECE_MAX;
		}
	}
	if (!nfrag)
		return;
	if (flags & 16) {
		frag[nfrag] = frag[nfrag - 1];
		nfrag++;
	}
	uint8_t frames[1200];
	size_t used = 0, first = (cut / 8) % nfrag;
	for (size_t i = 0; i < nfrag; i++) {
		size_t j = (first + (flags & 4 ? nfrag - i : i)) % nfrag;
		uint8_t f[PIECE_MAX + 32];
		size_t fl =
			fuzz_crypto_frame(f, sizeof(f), frag[j].off, s + frag[j].off, frag[j].len);
		if (used && (!(flags & 8) || used + fl > sizeof(frames))) {
			send_initial(w, frames, used);
			used = 0;
		}
		memcpy(frames + used, f, fl);
		used += fl;
	}
	if (used)
		send_initial(w, frames, used);
}

static const uint8_t *read_cid(mpq_cid *cid, const uint8_t *p, const uint8_t *end)
{
	if (p >= end)
		return NULL;
	cid->len = *p++ % (MPQ_MAX_CIDLEN + 1);
	if ((size_t)(end - p) < cid->len)
		return NULL;
	memcpy(cid->data, p, cid->len);
	return p + cid->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;
	static uint8_t stream[STREAM_MAX];
	if (!ready)
		ready = fuzz_tls_contexts(&sctx, &cctx) == 0 ? 1 : -1;
	if (ready < 0 || len < 5 || len > 8192)
		return 0;
	fuzz_seed = 7;
	struct world w;
	memset(&w, 0, sizeof(w));
	const uint8_t *end = data + len, *p = read_cid(&w.dcid, data + 3, end);
	if (p)
		p = read_cid(&w.scid, p, end);
	if (!p)
		return 0;
	size_t ends[HELLOS_MAX], hellos = 1;
	if (data[0] & 2) {
		ends[0] = (size_t)(end - p) < STREAM_MAX ? (size_t)(end - p) : STREAM_MAX;
		memcpy(stream, p, ends[0]);
	} else {
		struct fuzz_records recs = {.data = data,
					    .len = len,
					    .off = (size_t)(p - data),
					    .lenbytes = 2};
		hellos = build_stream(stream, ends, &recs, data[0], data[2], &w.scid);
	}
	if (start(&w) != 0)
		__builtin_trap();
	for (size_t i = 0; i < hellos; i++)
		send_stream(&w, stream, i ? ends[i - 1] : 0, ends[i], data[0], data[1]);
	for (int i = 0; i < 6; i++)
		server_round(&w, 100000);
	mpq_crypto_keys_free(&w.ck);
	mpq_crypto_keys_free(&w.sk);
	mpq_endpoint_del(w.ep);
	return 0;
}
