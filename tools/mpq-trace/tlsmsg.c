/*
 * TLS 1.3 handshake messages (RFC 8446 §4), read with bounds checks: only the
 * fields mpq-trace reports.
 */
#include <string.h>

#include "mpq/dissect.h"
#include "tlsmsg.h"

#define HS_CLIENT_HELLO 1
#define HS_SERVER_HELLO 2
#define HS_ENCRYPTED_EXTENSIONS 8
#define EXT_ALPN 16
#define EXT_QUIC_TP 0x39

/* Bytes from |pos| to |end|. */
typedef struct {
	const uint8_t *pos, *end;
} reader;

static void reader_init(reader *r, const uint8_t *p, size_t len)
{
	r->pos = p;
	r->end = p + len;
}

static size_t left(const reader *r)
{
	return (size_t)(r->end - r->pos);
}

static int skip(reader *r, size_t n)
{
	if (left(r) < n)
		return -1;
	r->pos += n;
	return 0;
}

/* A big-endian integer of |n| bytes (1 or 2). */
static int read_uint(reader *r, size_t n, size_t *v)
{
	if (left(r) < n)
		return -1;
	*v = n == 1 ? r->pos[0] : (size_t)r->pos[0] << 8 | r->pos[1];
	r->pos += n;
	return 0;
}

/* A vector with an 8- or 16-bit length: its bytes into |sub|. */
static int vec(reader *r, size_t lenbytes, reader *sub)
{
	size_t n;

	if (read_uint(r, lenbytes, &n) || left(r) < n)
		return -1;
	reader_init(sub, r->pos, n);
	r->pos += n;
	return 0;
}

static void read_alpn(struct trace_tls *t, reader *r)
{
	reader list, name;

	if (vec(r, 2, &list) || vec(&list, 1, &name))
		return;
	size_t n = left(&name);
	if (n >= sizeof(t->alpn))
		n = sizeof(t->alpn) - 1;
	memcpy(t->alpn, name.pos, n);
	t->alpn[n] = 0;
}

static int extensions(struct trace_tls *t, reader *r, bool from_server, int msg)
{
	reader exts;

	if (vec(r, 2, &exts))
		return -1;
	while (left(&exts)) {
		size_t type;
		reader body;
		mpq_tparams tp;

		if (read_uint(&exts, 2, &type) || vec(&exts, 2, &body))
			return -1;
		if (type == EXT_ALPN && msg == HS_ENCRYPTED_EXTENSIONS)
			read_alpn(t, &body);
		if (type == EXT_QUIC_TP &&
		    !mpq_dissect_tparams(&tp, body.pos, left(&body), from_server) &&
		    tp.has_initial_max_path_id) {
			if (from_server)
				t->server_multipath = true;
			else
				t->client_multipath = true;
		}
	}
	return 0;
}

static int hello(struct trace_tls *t, reader *r, bool from_server, int msg)
{
	reader sid, suites, comp;
	size_t suite;

	if (skip(r, 2) || left(r) < 32)
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
		if (read_uint(r, 2, &suite) || skip(r, 1))
			return -1;
		t->cipher_suite = (uint16_t)suite;
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
		reader r;

		if (mlen > len - off - 4)
			break;
		reader_init(&r, buf + off + 4, mlen);
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
