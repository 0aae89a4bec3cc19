/*
 * TLS 1.3 handshake messages (RFC 8446 §4), read with bounds checks: only the
 * fields mpq-trace reports, through mpq_reader.
 */
#include <string.h>

#include "quic/tparams.h"
#include "quic/wire.h"
#include "tlsmsg.h"

#define HS_CLIENT_HELLO 1
#define HS_SERVER_HELLO 2
#define HS_ENCRYPTED_EXTENSIONS 8
#define EXT_ALPN 16
#define EXT_QUIC_TP 0x39

static int skip(mpq_reader *r, size_t n)
{
	if (mpq_reader_left(r) < n)
		return -1;
	r->pos += n;
	return 0;
}

/* A vector with an 8- or 16-bit length: its bytes into |sub|. */
static int vec(mpq_reader *r, int lenbytes, mpq_reader *sub)
{
	uint8_t l8;
	uint16_t l16;
	size_t n;

	if (lenbytes == 1) {
		if (mpq_read_u8(r, &l8))
			return -1;
		n = l8;
	} else {
		if (mpq_read_u16(r, &l16))
			return -1;
		n = l16;
	}
	if (mpq_reader_left(r) < n)
		return -1;
	mpq_reader_init(sub, r->pos, n);
	r->pos += n;
	return 0;
}

static void read_alpn(struct trace_tls *t, mpq_reader *r)
{
	mpq_reader list, name;

	if (vec(r, 2, &list) || vec(&list, 1, &name))
		return;
	size_t n = mpq_reader_left(&name);
	if (n >= sizeof(t->alpn))
		n = sizeof(t->alpn) - 1;
	memcpy(t->alpn, name.pos, n);
	t->alpn[n] = 0;
}

static int extensions(struct trace_tls *t, mpq_reader *r, bool from_server, int msg)
{
	mpq_reader exts;

	if (vec(r, 2, &exts))
		return -1;
	while (mpq_reader_left(&exts)) {
		uint16_t type;
		mpq_reader body;
		mpq_tparams tp;

		if (mpq_read_u16(&exts, &type) || vec(&exts, 2, &body))
			return -1;
		if (type == EXT_ALPN && msg == HS_ENCRYPTED_EXTENSIONS)
			read_alpn(t, &body);
		if (type == EXT_QUIC_TP &&
		    !mpq_tparams_decode(&tp, body.pos, mpq_reader_left(&body), from_server) &&
		    tp.has_initial_max_path_id) {
			if (from_server)
				t->server_multipath = true;
			else
				t->client_multipath = true;
		}
	}
	return 0;
}

static int hello(struct trace_tls *t, mpq_reader *r, bool from_server, int msg)
{
	mpq_reader sid, suites, comp;
	uint16_t suite;

	if (skip(r, 2) || mpq_reader_left(r) < 32)
		return -1;
	if (msg == HS_CLIENT_HELLO) {
		memcpy(t->random, r->pos, 32);
		t->have_random = true;
	}
	r->pos += 32;
	if (vec(r, 1, &sid))
		return -1;
	if (msg == HS_CLIENT_HELLO) {
		if (vec(r, 2, &suites) || vec(r, 1, &comp))
			return -1;
	} else {
		if (mpq_read_u16(r, &suite) || skip(r, 1))
			return -1;
		t->cipher_suite = suite;
	}
	return extensions(t, r, from_server, msg);
}

int trace_tls_read(struct trace_tls *t, const uint8_t *buf, size_t len, bool from_server)
{
	size_t off = 0;

	while (len - off >= 4) {
		size_t mlen = (size_t)buf[off + 1] << 16 | (size_t)buf[off + 2] << 8 |
			      buf[off + 3];
		uint8_t type = buf[off];
		mpq_reader r;

		if (mlen > len - off - 4)
			break;
		mpq_reader_init(&r, buf + off + 4, mlen);
		if ((type == HS_CLIENT_HELLO && !from_server) ||
		    (type == HS_SERVER_HELLO && from_server)) {
			if (hello(t, &r, from_server, type))
				return -1;
		} else if (type == HS_ENCRYPTED_EXTENSIONS && from_server) {
			if (extensions(t, &r, from_server, type))
				return -1;
		}
		off += 4 + mlen;
	}
	return (int)off;
}
