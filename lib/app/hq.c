/*
 * HTTP/0.9 over QUIC ("hq-interop"): a server that answers "GET /path" from a
 * www directory without ever leaving it, and a client that fetches paths into
 * sinks, counting and hashing every body. See mpq/hq.h for the protocol and
 * the error codes. Sans I/O: files come and bodies go through the caller's
 * callbacks (mpq_hq_files, mpq_hq_sink; lib/io/hq_files.c has the ones for
 * the file system), and time from the caller's clock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "app/h3_conn.h"
#include "app/h3_msg.h"
#include "app/hq.h"

/* Body bytes moved per file read / stream write. */
#define CHUNK 16384
/* Largest HTTP/3 DATA frame the server sends. */
#define H3_DATA_MAX (256 * 1024)

MPQ_EXPORT void mpq_hq_pattern_fill(uint8_t *buf, uint64_t offset, size_t len)
{
	/* One period by hand, then doubling copies: the pattern repeats every
	 * 251 bytes, so buf[i] = buf[i - 251 * 2^k] (it was a quarter of the
	 * server's CPU byte by byte). */
	unsigned v = (unsigned)(offset % 251);
	size_t done = len < 251 ? len : 251;
	for (size_t i = 0; i < done; i++) {
		buf[i] = (uint8_t)v;
		if (++v == 251)
			v = 0;
	}
	while (done < len) {
		size_t n = done < len - done ? done : len - done;
		memcpy(buf + done, buf, n);
		done += n;
	}
}

static void vlog(mpq_log_fn log, void *ud, int level, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log(ud, level, msg);
}

/* ---- Request line ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Is there a ".." segment in the NUL-free |rel|? */
static bool has_dotdot(const char *rel)
{
	const char *seg = rel;
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 2 && seg[0] == '.' && seg[1] == '.')
			return true;
		if (!end)
			return false;
		seg = end + 1;
	}
}

MPQ_EXPORT uint64_t mpq_hq_parse_path(const char *path, size_t len, char *rel, size_t relsize)
{
	if (len < 1 || path[0] != '/' || relsize < 1)
		return MPQ_HQ_ERR_BAD_REQUEST;
	size_t o = 0;
	bool nul = false;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c < 0x20 || c == 0x7f)
			return c == 0 ? MPQ_HQ_ERR_FORBIDDEN : MPQ_HQ_ERR_BAD_REQUEST;
		if (c == '%') {
			int hi = i + 2 < len ? hexval(path[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(path[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return MPQ_HQ_ERR_BAD_REQUEST;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			/* Encoded control characters are refused as plain ones are. */
			if (c != 0 && (c < 0x20 || c == 0x7f))
				return MPQ_HQ_ERR_BAD_REQUEST;
		}
		if (c == 0)
			nul = true;
		if (o + 1 >= relsize)
			return MPQ_HQ_ERR_BAD_REQUEST;
		rel[o++] = (char)c;
	}
	rel[o] = '\0';
	if (nul || rel[0] == '/' || has_dotdot(rel))
		return MPQ_HQ_ERR_FORBIDDEN;
	return 0;
}

uint64_t mpq_hq_parse_request(const char *line, size_t len, char *rel, size_t relsize)
{
	if (len < 5 || memcmp(line, "GET /", 5) != 0)
		return MPQ_HQ_ERR_BAD_REQUEST;
	/* The path runs to the first space; only spaces may follow it. */
	size_t end = 4;
	while (end < len && line[end] != ' ')
		end++;
	for (size_t i = end; i < len; i++)
		if (line[i] != ' ')
			return MPQ_HQ_ERR_BAD_REQUEST;
	return mpq_hq_parse_path(line + 4, end - 4, rel, relsize);
}

/* ---- Bodies: a file of the www root, or a generated one ---- */

/* "123" → 123 when it is all digits and at most MPQ_HQ_MAX_GENERATED. */
static bool generated_size(const char *rel, uint64_t *size)
{
	uint64_t v = 0;
	if (!rel[0])
		return false;
	for (const char *p = rel; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > MPQ_HQ_MAX_GENERATED)
			return false;
	}
	*size = v;
	return true;
}

MPQ_EXPORT uint64_t mpq_hq_body_open(const mpq_hq_files *files, const char *rel, mpq_hq_body *body)
{
	memset(body, 0, sizeof(*body));
	if (!rel[0])
		return MPQ_HQ_ERR_NOT_FOUND;
	void *f = NULL;
	uint64_t code = files->open(files->user_data, rel, &f, &body->size);
	if (code == 0 && !f)
		code = MPQ_HQ_ERR_INTERNAL; /* a file we could not close */
	if (code == 0) {
		body->file = f;
		return 0;
	}
	body->size = 0;
	if (code == MPQ_HQ_ERR_NOT_FOUND && generated_size(rel, &body->size)) {
		body->generated = true;
		return 0;
	}
	return code;
}

MPQ_EXPORT int64_t mpq_hq_body_read(const mpq_hq_files *files, const mpq_hq_body *body,
				    uint8_t *buf, size_t len, uint64_t offset)
{
	if (offset >= body->size)
		return 0;
	if (len > body->size - offset)
		len = (size_t)(body->size - offset);
	if (body->generated) {
		mpq_hq_pattern_fill(buf, offset, len);
		return (int64_t)len;
	}
	if (!body->file)
		return -EBADF;
	int64_t got = files->read(files->user_data, body->file, buf, len, offset);
	return got > (int64_t)len ? 0 : got;
}

MPQ_EXPORT void mpq_hq_body_close(const mpq_hq_files *files, mpq_hq_body *body)
{
	if (body->file)
		files->close(files->user_data, body->file);
	body->file = NULL;
}

/* ---- Server ---- */

/* One request on a stream of some connection. */
struct hq_sreq {
	mpq_hq_server *srv;
	mpq_conn *conn;
	int64_t id;
	struct hq_sreq *prev, *next; /* the server's list */
	struct hq_sreq *hnext;	     /* chain in the server's index */
	char *line;		     /* request bytes so far (when split over frames) */
	size_t line_len;
	bool parsed;	   /* the request line is complete */
	bool fin_received; /* the client's side ended (FIN or reset) */
	bool done;	   /* answered whole, or refused */
	mpq_hq_body body;  /* what is being sent (its file NULL when none) */
	uint64_t offset;
	/* HTTP/3: frames of the request, and framing of the answer: bytes to
	 * send before the body goes on (HEADERS, a DATA frame header), and
	 * what is left of the current DATA frame. */
	bool h3;
	struct mpq_h3_reader rd;
	uint8_t pend[64];
	size_t pend_len, pend_off;
	uint64_t frame_left;
};

struct mpq_hq_server {
	mpq_hq_files files;
	mpq_log_fn log;
	void *log_user_data;
	struct hq_sreq *head;
	size_t active;
	/* Requests by (connection, stream): stream_closed comes after the
	 * library forgot the stream, so its user data cannot be read there. */
	struct hq_sreq **index;
	size_t nbuckets;	/* power of two */
	struct mpq_h3_conn *h3; /* HTTP/3 connections */
};

__attribute__((format(printf, 3, 4))) static void srv_log(const mpq_hq_server *srv, int level,
							  const char *fmt, ...)
{
	if (!srv->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(srv->log, srv->log_user_data, level, fmt, ap);
	va_end(ap);
}

MPQ_EXPORT void mpq_hq_server_config_default(mpq_hq_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->struct_version = MPQ_HQ_SERVER_CONFIG_VERSION;
}

MPQ_EXPORT int mpq_hq_server_new(mpq_hq_server **out, const mpq_hq_server_config *cfg)
{
	*out = NULL;
	if (!cfg || cfg->struct_version != MPQ_HQ_SERVER_CONFIG_V1 || !cfg->files.open ||
	    !cfg->files.read || !cfg->files.close)
		return MPQ_ERR_INVALID_ARGUMENT;
	mpq_hq_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return MPQ_ERR_NOMEM;
	srv->files = cfg->files;
	srv->log = cfg->log;
	srv->log_user_data = cfg->log_user_data;
	*out = srv;
	return 0;
}

static size_t bucket_of(const mpq_hq_server *srv, const mpq_conn *conn, int64_t id)
{
	uint64_t h = (uint64_t)(uintptr_t)conn * 0x9e3779b97f4a7c15ULL ^ (uint64_t)id;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (size_t)(h ^ h >> 31) & (srv->nbuckets - 1);
}

/* Doubles the index once it holds as many requests as buckets. */
static int index_grow(mpq_hq_server *srv)
{
	size_t old = srv->nbuckets, nb = old ? 2 * old : 64;
	struct hq_sreq **b = calloc(nb, sizeof(*b));
	if (!b)
		return MPQ_ERR_NOMEM;
	struct hq_sreq **prev = srv->index;
	srv->index = b;
	srv->nbuckets = nb;
	for (size_t i = 0; i < old; i++) {
		struct hq_sreq *r = prev[i];
		while (r) {
			struct hq_sreq *next = r->hnext;
			size_t k = bucket_of(srv, r->conn, r->id);
			r->hnext = b[k];
			b[k] = r;
			r = next;
		}
	}
	free(prev);
	return 0;
}

static struct hq_sreq *index_find(const mpq_hq_server *srv, const mpq_conn *conn, int64_t id)
{
	if (!srv->nbuckets)
		return NULL;
	struct hq_sreq *r = srv->index[bucket_of(srv, conn, id)];
	while (r && (r->conn != conn || r->id != id))
		r = r->hnext;
	return r;
}

static void index_remove(mpq_hq_server *srv, struct hq_sreq *r)
{
	struct hq_sreq **pp = &srv->index[bucket_of(srv, r->conn, r->id)];
	while (*pp && *pp != r)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = r->hnext;
}

static void sreq_release(struct hq_sreq *r)
{
	mpq_hq_body_close(&r->srv->files, &r->body);
	free(r->line);
	r->line = NULL;
}

static void sreq_free(struct hq_sreq *r)
{
	mpq_hq_server *srv = r->srv;
	sreq_release(r);
	mpq_h3_reader_free(&r->rd);
	index_remove(srv, r);
	if (r->prev)
		r->prev->next = r->next;
	else
		srv->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	srv->active--;
	free(r);
}

MPQ_EXPORT void mpq_hq_server_free(mpq_hq_server *srv)
{
	if (!srv)
		return;
	while (srv->head)
		sreq_free(srv->head);
	mpq_h3_conn_free_all(&srv->h3);
	free(srv->index);
	free(srv);
}

MPQ_EXPORT size_t mpq_hq_server_active(const mpq_hq_server *srv)
{
	return srv->active;
}

MPQ_EXPORT void mpq_hq_server_conn_closed(mpq_hq_server *srv, mpq_conn *conn)
{
	struct hq_sreq *r = srv->head;
	while (r) {
		struct hq_sreq *next = r->next;
		if (r->conn == conn) {
			mpq_conn_stream_set_user_data(conn, r->id, NULL);
			sreq_free(r);
		}
		r = next;
	}
	mpq_h3_conn_release(&srv->h3, conn);
}

/* Ends the answer with RESET_STREAM |code| (and STOP_SENDING while the
 * request may still be coming). */
static void sreq_refuse(struct hq_sreq *r, uint64_t code)
{
	mpq_conn_stream_reset(r->conn, r->id, code);
	if (!r->fin_received)
		mpq_conn_stream_stop_sending(r->conn, r->id, code);
	r->done = true;
	sreq_release(r);
}

const char *mpq_hq_code_name(uint64_t code)
{
	switch (code) {
	case MPQ_HQ_ERR_NOT_FOUND:
		return "not found";
	case MPQ_HQ_ERR_FORBIDDEN:
		return "forbidden";
	case MPQ_HQ_ERR_BAD_REQUEST:
		return "bad request";
	case MPQ_HQ_ERR_INTERNAL:
		return "internal error";
	default:
		if (code >= MPQ_H3_NO_ERROR && code <= MPQ_QPACK_DECODER_STREAM_ERROR &&
		    strcmp(mpq_h3_error_name(code), "unknown") != 0)
			return mpq_h3_error_name(code);
		return "refused";
	}
}

/* Moves body bytes into the stream's send buffer as far as the library takes
 * them (the stream's window, the client's credit, the memory budgets) or the
 * body ends (then FIN); stream_writable says when to go on. */
/* Writes the framing bytes held in r->pend: true when all are out. */
static bool sreq_flush(struct hq_sreq *r)
{
	if (r->pend_off == r->pend_len)
		return true;
	int64_t took = mpq_conn_stream_write(r->conn, r->id, r->pend + r->pend_off,
					     r->pend_len - r->pend_off, false);
	if (took < 0) {
		r->done = true;
		sreq_release(r);
		return false;
	}
	r->pend_off += (size_t)took;
	return r->pend_off == r->pend_len;
}

static void sreq_pump(struct hq_sreq *r)
{
	uint8_t buf[CHUNK];
	while (!r->done) {
		if (!sreq_flush(r))
			return;
		uint64_t left = r->body.size - r->offset;
		if (r->h3 && r->frame_left == 0 && left > 0) {
			/* The next DATA frame: its header, then its payload. */
			r->frame_left = left < H3_DATA_MAX ? left : H3_DATA_MAX;
			r->pend_len = mpq_h3_write_frame_header(r->pend, sizeof(r->pend),
								MPQ_H3_DATA, r->frame_left);
			r->pend_off = 0;
			continue;
		}
		if (r->h3 && left > r->frame_left)
			left = r->frame_left;
		size_t n = mpq_conn_stream_write_room(r->conn, r->id);
		if (n > sizeof(buf))
			n = sizeof(buf);
		if (n > left)
			n = (size_t)left;
		if (n == 0 && left > 0)
			return; /* wait for stream_writable */
		if (n > 0) {
			int64_t got =
				mpq_hq_body_read(&r->srv->files, &r->body, buf, n, r->offset);
			if (got <= 0) {
				/* A read error, or the file shrank under us. */
				char eb[64];
				const char *why = "file truncated";
				if (got < 0)
					why = strerror_r((int)-got, eb, sizeof(eb));
				srv_log(r->srv, 0, "stream %lld: read failed at %llu: %s",
					(long long)r->id, (unsigned long long)r->offset, why);
				sreq_refuse(r,
					    r->h3 ? MPQ_H3_INTERNAL_ERROR : MPQ_HQ_ERR_INTERNAL);
				return;
			}
			n = (size_t)got;
		}
		bool fin = r->offset + n == r->body.size;
		int64_t took = mpq_conn_stream_write(r->conn, r->id, buf, n, fin);
		if (took < 0) {
			/* Our side was reset (STOP_SENDING): nothing more to send. */
			r->done = true;
			sreq_release(r);
			return;
		}
		r->offset += (uint64_t)took;
		if (r->h3)
			r->frame_left -= (uint64_t)took;
		if (fin && (size_t)took == n) {
			r->done = true;
			sreq_release(r);
			return;
		}
		if ((size_t)took < n)
			return;
	}
}

/* HTTP/3: answers with a HEADERS frame of |status| (a body of r->body.size
 * follows when it is 200), and takes no more of the request. */
static void sreq_h3_respond(struct hq_sreq *r, unsigned status)
{
	r->pend_len = mpq_h3_write_response(r->pend, sizeof(r->pend), status, r->body.size);
	r->pend_off = 0;
	if (!r->pend_len) {
		sreq_refuse(r, MPQ_H3_INTERNAL_ERROR);
		return;
	}
	sreq_pump(r);
}

static unsigned status_of(uint64_t code)
{
	switch (code) {
	case MPQ_HQ_ERR_NOT_FOUND:
		return 404;
	case MPQ_HQ_ERR_FORBIDDEN:
		return 403;
	case MPQ_HQ_ERR_BAD_REQUEST:
		return 400;
	default:
		return 500;
	}
}

/* The request for |rel| is complete, |code| what checking its path gave:
 * answer it. */
static void sreq_serve(struct hq_sreq *r, uint64_t code, const char *rel)
{
	mpq_hq_server *srv = r->srv;
	r->parsed = true;
	free(r->line);
	r->line = NULL;
	if (code == 0)
		code = mpq_hq_body_open(&srv->files, rel, &r->body);
	if (code != 0) {
		if (code == MPQ_HQ_ERR_BAD_REQUEST)
			srv_log(srv, 1, "stream %lld: bad request", (long long)r->id);
		else
			srv_log(srv, 1, "stream %lld: GET /%.200s: %s", (long long)r->id, rel,
				mpq_hq_code_name(code));
		if (r->h3) {
			r->body.size = 0;
			sreq_h3_respond(r, status_of(code));
		} else {
			sreq_refuse(r, code);
		}
		return;
	}
	srv_log(srv, 1, "stream %lld: GET /%.200s: %llu bytes%s", (long long)r->id, rel,
		(unsigned long long)r->body.size, r->body.generated ? " (generated)" : "");
	if (r->h3)
		sreq_h3_respond(r, 200);
	else
		sreq_pump(r);
}

/* The request line (line end removed) is complete: answer it. */
static void sreq_answer(struct hq_sreq *r, const char *line, size_t len)
{
	char rel[MPQ_HQ_MAX_REQUEST + 1];
	sreq_serve(r, mpq_hq_parse_request(line, len, rel, sizeof(rel)), rel);
}

static struct hq_sreq *sreq_get(mpq_hq_server *srv, mpq_conn *conn, int64_t id)
{
	struct hq_sreq *r = mpq_conn_stream_get_user_data(conn, id);
	if (r)
		return r;
	if (srv->active >= srv->nbuckets && index_grow(srv) != 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (mpq_conn_stream_set_user_data(conn, id, r) != 0) {
		free(r);
		return NULL;
	}
	size_t k = bucket_of(srv, conn, id);
	r->hnext = srv->index[k];
	srv->index[k] = r;
	r->srv = srv;
	r->conn = conn;
	r->id = id;
	r->h3 = mpq_h3_conn_is_h3(conn);
	r->next = srv->head;
	if (srv->head)
		srv->head->prev = r;
	srv->head = r;
	srv->active++;
	return r;
}

static bool is_client_bidi(int64_t id)
{
	return (id & 3) == 0;
}

/* The HTTP/3 state of |conn|, NULL for hq-interop (or out of memory). */
static struct mpq_h3_conn *srv_h3(mpq_hq_server *srv, mpq_conn *conn)
{
	return mpq_h3_conn_is_h3(conn) ? mpq_h3_conn_get(&srv->h3, conn) : NULL;
}

static int srv_on_open(mpq_conn *conn, int64_t id, void *ud)
{
	/* HTTP/3: our control stream opens with the client's first stream. */
	if (srv_h3(ud, conn))
		return 0;
	/* hq-interop requests use bidirectional streams only. */
	if (!is_client_bidi(id))
		mpq_conn_stream_stop_sending(conn, id, MPQ_HQ_ERR_BAD_REQUEST);
	return 0;
}

/* HTTP/3 request streams: frames other than HEADERS and DATA. */
static uint64_t srv_h3_frame(void *ud, uint64_t type, const uint8_t *p, size_t len)
{
	struct hq_sreq *r = ud;
	uint64_t err = mpq_h3_request_frame_check(type, true);
	if (err || type != MPQ_H3_HEADERS || r->parsed)
		return err; /* unknown frames and trailers are ignored */
	struct mpq_h3_request_head head;
	err = mpq_h3_parse_request_head(p, len, &head);
	if (err == MPQ_H3_MESSAGE_ERROR) {
		r->parsed = true;
		srv_log(r->srv, 1, "stream %lld: malformed request", (long long)r->id);
		sreq_refuse(r, err);
		return 0;
	}
	if (err)
		return err;
	if (!head.get) {
		r->parsed = true;
		srv_log(r->srv, 1, "stream %lld: method not allowed", (long long)r->id);
		sreq_h3_respond(r, 405);
		return 0;
	}
	char rel[MPQ_HQ_MAX_REQUEST + 1];
	sreq_serve(r, mpq_hq_parse_path(head.path, head.pathlen, rel, sizeof(rel)), rel);
	return 0;
}

static uint64_t srv_h3_data_start(void *ud, uint64_t len)
{
	(void)len;
	/* DATA before the HEADERS (§4.1); after them a GET's body is ignored. */
	return ((struct hq_sreq *)ud)->parsed ? 0 : MPQ_H3_FRAME_UNEXPECTED;
}

static const struct mpq_h3_reader_cb srv_h3_cb = {
	.frame = srv_h3_frame,
	.data_start = srv_h3_data_start,
};

static void srv_h3_data(struct mpq_h3_conn *h, struct hq_sreq *r, const uint8_t *data, size_t len,
			bool fin)
{
	if (r->parsed && r->done)
		return;
	uint64_t err = mpq_h3_read(&r->rd, data, len, &srv_h3_cb, r);
	if (!err && fin && !mpq_h3_reader_at_boundary(&r->rd))
		err = MPQ_H3_FRAME_ERROR;
	if (err) {
		mpq_h3_conn_fail(h, err, mpq_h3_error_name(err));
		return;
	}
	if (fin && !r->parsed) {
		/* The request ended without its HEADERS. */
		r->parsed = true;
		sreq_refuse(r, MPQ_H3_REQUEST_INCOMPLETE);
	}
}

static int srv_on_data(mpq_conn *conn, int64_t id, uint64_t offset, const uint8_t *data,
		       size_t len, bool fin, void *ud)
{
	struct mpq_h3_conn *h = srv_h3(ud, conn);
	if (h && !is_client_bidi(id))
		mpq_h3_conn_uni_data(h, id, offset, data, len, fin);
	if (!is_client_bidi(id))
		return 0;
	struct hq_sreq *r = sreq_get(ud, conn, id);
	if (!r)
		return MPQ_ERR_NOMEM; /* closes the connection: we cannot answer */
	if (fin)
		r->fin_received = true;
	if (h) {
		srv_h3_data(h, r, data, len, fin);
		return 0;
	}
	if (r->parsed)
		return 0; /* bytes after the request line are ignored */
	const uint8_t *nl = len ? memchr(data, '\n', len) : NULL;
	size_t take = nl ? (size_t)(nl - data) + 1 : len;
	if (r->line_len + take > MPQ_HQ_MAX_REQUEST) {
		r->parsed = true;
		srv_log(r->srv, 1, "stream %lld: request too long", (long long)id);
		sreq_refuse(r, MPQ_HQ_ERR_BAD_REQUEST);
		return 0;
	}
	const char *line = (const char *)data;
	if (r->line_len || !(nl || fin)) {
		/* The line is split over frames: collect it. */
		if (!r->line && !(r->line = malloc(MPQ_HQ_MAX_REQUEST)))
			return MPQ_ERR_NOMEM;
		if (take)
			memcpy(r->line + r->line_len, data, take);
		r->line_len += take;
		line = r->line;
		take = r->line_len;
	}
	if (!nl && !fin)
		return 0;
	if (nl)
		take--;
	if (nl && take && line[take - 1] == '\r')
		take--;
	sreq_answer(r, line, take);
	return 0;
}

/* Is |id| a unidirectional stream we opened (the HTTP/3 control stream)? */
static bool is_own_uni(const mpq_conn *conn, int64_t id)
{
	return (id & 3) == (mpq_conn_is_server(conn) ? 3 : 2);
}

static int srv_on_writable(mpq_conn *conn, int64_t id, void *ud)
{
	if (is_own_uni(conn, id)) {
		struct mpq_h3_conn *h = srv_h3(ud, conn);
		if (h)
			mpq_h3_conn_writable(h, id);
		return 0;
	}
	struct hq_sreq *r = mpq_conn_stream_get_user_data(conn, id);
	if (r && r->parsed && !r->done)
		sreq_pump(r);
	return 0;
}

static int srv_on_reset(mpq_conn *conn, int64_t id, uint64_t app_error, void *ud)
{
	(void)app_error;
	if (!is_client_bidi(id)) {
		struct mpq_h3_conn *h = srv_h3(ud, conn);
		if (h)
			mpq_h3_conn_uni_reset(h, id);
		return 0;
	}
	struct hq_sreq *r = mpq_conn_stream_get_user_data(conn, id);
	if (!r)
		return 0;
	r->fin_received = true;
	/* The client gave up before its request was whole. */
	if (!r->parsed) {
		r->parsed = true;
		sreq_refuse(r, r->h3 ? MPQ_H3_REQUEST_INCOMPLETE : MPQ_HQ_ERR_BAD_REQUEST);
	}
	return 0;
}

static int srv_on_stop_sending(mpq_conn *conn, int64_t id, uint64_t app_error, void *ud)
{
	(void)app_error;
	if (is_own_uni(conn, id)) {
		struct mpq_h3_conn *h = srv_h3(ud, conn);
		if (h)
			mpq_h3_conn_stopped(h, id);
		return 0;
	}
	struct hq_sreq *r = mpq_conn_stream_get_user_data(conn, id);
	if (!r)
		return 0;
	/* The library answers with RESET_STREAM; the file is no longer needed. */
	r->parsed = true;
	r->done = true;
	sreq_release(r);
	return 0;
}

static int srv_on_closed(mpq_conn *conn, int64_t id, void *ud)
{
	struct hq_sreq *r = index_find(ud, conn, id);
	if (r)
		sreq_free(r);
	return 0;
}

MPQ_EXPORT void mpq_hq_server_callbacks(mpq_callbacks *cb, mpq_hq_server *srv)
{
	cb->stream_open = srv_on_open;
	cb->stream_data = srv_on_data;
	cb->stream_writable = srv_on_writable;
	cb->stream_reset = srv_on_reset;
	cb->stream_stop_sending = srv_on_stop_sending;
	cb->stream_closed = srv_on_closed;
	cb->user_data = srv;
}

/* ---- Client ---- */

struct mpq_hq_request {
	mpq_hq_client *cli;
	mpq_conn *conn;
	char *path;
	size_t path_len;
	int64_t id;
	enum mpq_hq_status status;
	mpq_hq_sink sink;
	size_t line_sent; /* bytes of "GET path\r\n" written */
	uint64_t bytes;
	uint64_t code;
	int error;
	int sys_errno;
	EVP_MD_CTX *md;
	char sha256[65];
	uint64_t t_sent, t_first, t_last;
	bool got_first; /* t_first is set */
	struct mpq_hq_request *wait_next;
	size_t req_len; /* bytes of the request (line or HEADERS frame) */
	/* HTTP/3: the response's frames and its final status. */
	bool h3;
	struct mpq_h3_reader rd;
	unsigned http_status;
};

/* The requests waiting for a stream of one connection, in order. Kept until
 * the client is freed, so a callback that makes requests on another
 * connection never frees a queue being walked. */
struct wait_queue {
	mpq_conn *conn;
	mpq_hq_request *head, *tail;
	bool issuing;
	struct wait_queue *next;
};

struct mpq_hq_client {
	mpq_hq_client_config cfg;
	mpq_hq_request **reqs;
	size_t n, cap;
	size_t unfinished;
	struct wait_queue *queues;
	struct mpq_h3_conn *h3; /* HTTP/3 connections */
	char authority[256];	/* HTTP/3 :authority */
};

static uint64_t cli_now(const mpq_hq_client *cli)
{
	return cli->cfg.now(cli->cfg.user_data);
}

__attribute__((format(printf, 3, 4))) static void cli_log(const mpq_hq_client *cli, int level,
							  const char *fmt, ...)
{
	if (!cli->cfg.log)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(cli->cfg.log, cli->cfg.log_user_data, level, fmt, ap);
	va_end(ap);
}

MPQ_EXPORT void mpq_hq_client_config_default(mpq_hq_client_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->struct_version = MPQ_HQ_CLIENT_CONFIG_VERSION;
}

MPQ_EXPORT int mpq_hq_client_new(mpq_hq_client **out, const mpq_hq_client_config *cfg)
{
	*out = NULL;
	if (!cfg || cfg->struct_version != MPQ_HQ_CLIENT_CONFIG_V1 || !cfg->now)
		return MPQ_ERR_INVALID_ARGUMENT;
	mpq_hq_client *cli = calloc(1, sizeof(*cli));
	if (!cli)
		return MPQ_ERR_NOMEM;
	cli->cfg = *cfg;
	strcpy(cli->authority, "localhost");
	*out = cli;
	return 0;
}

MPQ_EXPORT int mpq_hq_client_set_authority(mpq_hq_client *cli, const char *authority)
{
	if (!cli || !authority || !authority[0] || strlen(authority) >= sizeof(cli->authority) ||
	    strpbrk(authority, "\r\n /"))
		return MPQ_ERR_INVALID_ARGUMENT;
	strcpy(cli->authority, authority);
	return 0;
}

MPQ_EXPORT void mpq_hq_client_free(mpq_hq_client *cli)
{
	if (!cli)
		return;
	for (size_t i = 0; i < cli->n; i++) {
		mpq_h3_reader_free(&cli->reqs[i]->rd);
		EVP_MD_CTX_free(cli->reqs[i]->md);
		free(cli->reqs[i]->path);
		free(cli->reqs[i]);
	}
	free(cli->reqs);
	while (cli->queues) {
		struct wait_queue *q = cli->queues;
		cli->queues = q->next;
		free(q);
	}
	mpq_h3_conn_free_all(&cli->h3);
	free(cli);
}

static struct wait_queue *queue_of(const mpq_hq_client *cli, const mpq_conn *conn)
{
	struct wait_queue *q = cli->queues;
	while (q && q->conn != conn)
		q = q->next;
	return q;
}

static void finish(mpq_hq_request *r, enum mpq_hq_status status)
{
	mpq_hq_client *cli = r->cli;
	static const char hex[] = "0123456789abcdef";
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	r->status = status;
	if (EVP_DigestFinal_ex(r->md, md, &mdlen) == 1 && mdlen == 32) {
		for (unsigned i = 0; i < 32; i++) {
			r->sha256[2 * i] = hex[md[i] >> 4];
			r->sha256[2 * i + 1] = hex[md[i] & 15];
		}
		r->sha256[64] = '\0';
	}
	EVP_MD_CTX_free(r->md);
	r->md = NULL;
	cli->unfinished--;
	if (status == MPQ_HQ_RESET && r->http_status)
		cli_log(cli, 1, "GET %.200s: http status %u", r->path, r->http_status);
	else if (status == MPQ_HQ_RESET)
		cli_log(cli, 1, "GET %.200s: reset with code 0x%llx after %llu bytes", r->path,
			(unsigned long long)r->code, (unsigned long long)r->bytes);
	else
		cli_log(cli, 1, "GET %.200s: %s, %llu bytes", r->path, mpq_hq_status_name(status),
			(unsigned long long)r->bytes);
	if (cli->cfg.request_done)
		cli->cfg.request_done(r, cli->cfg.user_data);
}

/* Writes what is left of the request (its line, or its HEADERS frame), FIN
 * with its last byte. */
static int send_line(mpq_hq_request *r)
{
	char line[MPQ_HQ_MAX_REQUEST + 512];
	size_t len = r->path_len + 6;
	if (r->h3) {
		len = mpq_h3_write_request((uint8_t *)line, sizeof(line), r->cli->authority,
					   r->path);
		if (!len)
			return MPQ_ERR_INVALID_ARGUMENT;
	} else {
		memcpy(line, "GET ", 4);
		memcpy(line + 4, r->path, r->path_len);
		memcpy(line + 4 + r->path_len, "\r\n", 2);
	}
	r->req_len = len;
	int64_t took = mpq_conn_stream_write(r->conn, r->id, (const uint8_t *)line + r->line_sent,
					     len - r->line_sent, true);
	if (took < 0)
		return (int)took;
	r->line_sent += (size_t)took;
	return 0;
}

/* Opens a stream for |r| and sends its line. Returns 0, MPQ_ERR_STREAM_LIMIT
 * (|r| keeps waiting), or another error that ended |r|. */
static int start(mpq_hq_request *r)
{
	r->h3 = mpq_h3_conn_is_h3(r->conn);
	int rv = mpq_conn_open_stream(r->conn, true, &r->id);
	if (rv == MPQ_ERR_STREAM_LIMIT)
		return rv;
	if (rv == 0) {
		rv = mpq_conn_stream_set_user_data(r->conn, r->id, r);
		r->status = MPQ_HQ_ACTIVE;
		r->t_sent = cli_now(r->cli);
	}
	if (rv == 0)
		rv = send_line(r);
	if (rv != 0) {
		if (r->id >= 0) {
			mpq_conn_stream_set_user_data(r->conn, r->id, NULL);
			mpq_conn_stream_reset(r->conn, r->id, MPQ_HQ_ERR_INTERNAL);
		}
		r->error = rv;
		finish(r, MPQ_HQ_INCOMPLETE);
	}
	return rv;
}

MPQ_EXPORT int mpq_hq_client_issue(mpq_hq_client *cli, mpq_conn *conn)
{
	struct wait_queue *q = queue_of(cli, conn);
	/* A request_done callback that makes a request on |conn| lands here
	 * again: the running loop picks the new request up. */
	if (!mpq_conn_is_handshake_complete(conn))
		return 0;
	/* HTTP/3: our control stream opens first. */
	if (mpq_h3_conn_is_h3(conn) && !mpq_h3_conn_get(&cli->h3, conn))
		return MPQ_ERR_NOMEM;
	if (!q || q->issuing)
		return 0;
	q->issuing = true;
	int err = 0;
	while (q->head) {
		mpq_hq_request *r = q->head;
		int rv = r->status == MPQ_HQ_WAITING ? start(r) : 0;
		if (rv == MPQ_ERR_STREAM_LIMIT)
			break;
		if (rv != 0 && err == 0)
			err = rv;
		/* start() may have appended to the queue (through request_done). */
		q->head = r->wait_next;
		if (!q->head)
			q->tail = NULL;
		r->wait_next = NULL;
	}
	q->issuing = false;
	return err;
}

MPQ_EXPORT int mpq_hq_client_get(mpq_hq_client *cli, mpq_conn *conn, const char *path,
				 const mpq_hq_sink *sink, mpq_hq_request **out)
{
	if (out)
		*out = NULL;
	if (!cli || !conn || !path || path[0] != '/' ||
	    (sink && sink->struct_version != MPQ_HQ_SINK_V1))
		return MPQ_ERR_INVALID_ARGUMENT;
	size_t len = strlen(path);
	if (len + 6 > MPQ_HQ_MAX_REQUEST || strpbrk(path, "\r\n"))
		return MPQ_ERR_INVALID_ARGUMENT;
	struct wait_queue *q = queue_of(cli, conn);
	if (!q) {
		/* The queue of a closed connection, or a new one. */
		q = cli->queues;
		while (q && (q->conn || q->issuing))
			q = q->next;
		if (!q) {
			q = calloc(1, sizeof(*q));
			if (!q)
				return MPQ_ERR_NOMEM;
			q->next = cli->queues;
			cli->queues = q;
		}
		q->conn = conn;
	}
	if (cli->n == cli->cap) {
		size_t cap = cli->cap ? 2 * cli->cap : 16;
		mpq_hq_request **reqs = realloc(cli->reqs, cap * sizeof(*reqs));
		if (!reqs)
			return MPQ_ERR_NOMEM;
		cli->reqs = reqs;
		cli->cap = cap;
	}
	mpq_hq_request *r = calloc(1, sizeof(*r));
	if (!r)
		return MPQ_ERR_NOMEM;
	r->path = strdup(path);
	r->md = EVP_MD_CTX_new();
	if (!r->path || !r->md || EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(r->md);
		free(r->path);
		free(r);
		return MPQ_ERR_NOMEM;
	}
	r->cli = cli;
	r->conn = conn;
	r->path_len = len;
	r->id = -1;
	r->status = MPQ_HQ_WAITING;
	if (sink)
		r->sink = *sink;
	cli->reqs[cli->n++] = r;
	cli->unfinished++;
	if (q->tail)
		q->tail->wait_next = r;
	else
		q->head = r;
	q->tail = r;
	if (out)
		*out = r;
	mpq_hq_client_issue(cli, conn);
	return 0;
}

MPQ_EXPORT void mpq_hq_client_conn_closed(mpq_hq_client *cli, mpq_conn *conn)
{
	struct wait_queue *q = queue_of(cli, conn);
	if (q) {
		/* A new connection may later get the same address. */
		q->head = q->tail = NULL;
		q->conn = NULL;
	}
	mpq_h3_conn_release(&cli->h3, conn);
	/* By index: a request_done callback may add requests. */
	for (size_t i = 0; i < cli->n; i++) {
		mpq_hq_request *r = cli->reqs[i];
		if (r->conn != conn || (r->status != MPQ_HQ_WAITING && r->status != MPQ_HQ_ACTIVE))
			continue;
		if (r->status == MPQ_HQ_ACTIVE)
			mpq_conn_stream_set_user_data(conn, r->id, NULL);
		r->wait_next = NULL;
		r->error = MPQ_ERR_CLOSING;
		finish(r, MPQ_HQ_INCOMPLETE);
	}
}

/* Something arrived for |r|: the first and last byte times. */
static void stamp(mpq_hq_request *r)
{
	r->t_last = cli_now(r->cli);
	if (!r->got_first) {
		r->t_first = r->t_last;
		r->got_first = true;
	}
}

static mpq_hq_request *active_req(mpq_conn *conn, int64_t id)
{
	mpq_hq_request *r = mpq_conn_stream_get_user_data(conn, id);
	return r && r->status == MPQ_HQ_ACTIVE ? r : NULL;
}

/* Body bytes for |r|: to the sink, counted and hashed. False when the sink
 * failed (|r| has then ended). */
static bool deliver(mpq_hq_request *r, const uint8_t *data, size_t len)
{
	int err = r->sink.write && len ? r->sink.write(r->sink.user_data, data, len) : 0;
	if (err) {
		r->sys_errno = err;
		mpq_conn_stream_stop_sending(r->conn, r->id,
					     r->h3 ? MPQ_H3_REQUEST_CANCELLED
						   : MPQ_HQ_ERR_INTERNAL);
		finish(r, MPQ_HQ_INCOMPLETE);
		return false;
	}
	if (len)
		EVP_DigestUpdate(r->md, data, len);
	r->bytes += len;
	return true;
}

/* HTTP/3 response frames other than DATA. */
static uint64_t cli_h3_frame(void *ud, uint64_t type, const uint8_t *p, size_t len)
{
	mpq_hq_request *r = ud;
	uint64_t err = mpq_h3_request_frame_check(type, false);
	if (err || type != MPQ_H3_HEADERS || r->status != MPQ_HQ_ACTIVE || (r->http_status >= 200))
		return err; /* unknown frames and trailers are ignored */
	unsigned status;
	err = mpq_h3_parse_response_head(p, len, &status);
	if (err == MPQ_H3_MESSAGE_ERROR) {
		/* A malformed response: a stream error (§4.1.2). */
		r->error = MPQ_ERR_PROTO;
		mpq_conn_stream_stop_sending(r->conn, r->id, MPQ_H3_MESSAGE_ERROR);
		finish(r, MPQ_HQ_INCOMPLETE);
		return 0;
	}
	if (err || status < 200)
		return err; /* an interim response: the final one follows */
	r->http_status = status;
	if (status >= 300) {
		/* Refused: the body (if any) is not what was asked for. */
		mpq_conn_stream_stop_sending(r->conn, r->id, MPQ_H3_NO_ERROR);
		finish(r, MPQ_HQ_RESET);
	}
	return 0;
}

static uint64_t cli_h3_data_start(void *ud, uint64_t len)
{
	(void)len;
	mpq_hq_request *r = ud;
	return r->status != MPQ_HQ_ACTIVE || r->http_status >= 200 ? 0 : MPQ_H3_FRAME_UNEXPECTED;
}

static uint64_t cli_h3_data(void *ud, const uint8_t *data, size_t len)
{
	mpq_hq_request *r = ud;
	if (r->status == MPQ_HQ_ACTIVE)
		deliver(r, data, len);
	return 0;
}

static const struct mpq_h3_reader_cb cli_h3_cb = {
	.frame = cli_h3_frame,
	.data_start = cli_h3_data_start,
	.data = cli_h3_data,
};

static void cli_h3_response(mpq_hq_request *r, const uint8_t *data, size_t len, bool fin)
{
	struct mpq_h3_conn *h = mpq_h3_conn_get(&r->cli->h3, r->conn);
	uint64_t err = mpq_h3_read(&r->rd, data, len, &cli_h3_cb, r);
	if (!err && fin && !mpq_h3_reader_at_boundary(&r->rd))
		err = MPQ_H3_FRAME_ERROR;
	if (err) {
		if (h)
			mpq_h3_conn_fail(h, err, mpq_h3_error_name(err));
		if (r->status == MPQ_HQ_ACTIVE) {
			r->error = MPQ_ERR_PROTO;
			finish(r, MPQ_HQ_INCOMPLETE);
		}
		return;
	}
	if (r->status != MPQ_HQ_ACTIVE) {
		mpq_h3_reader_free(&r->rd); /* what else comes is dropped */
		return;
	}
	if (!fin)
		return;
	mpq_h3_reader_free(&r->rd);
	if (r->http_status >= 200) {
		finish(r, MPQ_HQ_OK);
	} else {
		r->error = MPQ_ERR_PROTO; /* ended without a response */
		finish(r, MPQ_HQ_INCOMPLETE);
	}
}

static int cli_on_data(mpq_conn *conn, int64_t id, uint64_t offset, const uint8_t *data,
		       size_t len, bool fin, void *ud)
{
	mpq_hq_client *cli = ud;
	if ((id & 2) && !is_own_uni(conn, id)) {
		struct mpq_h3_conn *h = mpq_h3_conn_is_h3(conn) ? mpq_h3_conn_get(&cli->h3, conn)
								: NULL;
		if (h)
			mpq_h3_conn_uni_data(h, id, offset, data, len, fin);
		return 0;
	}
	mpq_hq_request *r = active_req(conn, id);
	if (!r)
		return 0;
	stamp(r);
	if (r->h3) {
		cli_h3_response(r, data, len, fin);
		return 0;
	}
	if (deliver(r, data, len) && fin)
		finish(r, MPQ_HQ_OK);
	return 0;
}

static int cli_on_writable(mpq_conn *conn, int64_t id, void *ud)
{
	mpq_hq_client *cli = ud;
	if (is_own_uni(conn, id)) {
		struct mpq_h3_conn *h = mpq_h3_conn_is_h3(conn) ? mpq_h3_conn_get(&cli->h3, conn)
								: NULL;
		if (h)
			mpq_h3_conn_writable(h, id);
		return 0;
	}
	mpq_hq_request *r = active_req(conn, id);
	if (r && r->line_sent < r->req_len) {
		int rv = send_line(r);
		if (rv != 0) {
			r->error = rv;
			finish(r, MPQ_HQ_INCOMPLETE);
		}
	}
	return 0;
}

static int cli_on_reset(mpq_conn *conn, int64_t id, uint64_t app_error, void *ud)
{
	mpq_hq_client *cli = ud;
	if (id & 2) {
		struct mpq_h3_conn *h = mpq_h3_conn_is_h3(conn) ? mpq_h3_conn_get(&cli->h3, conn)
								: NULL;
		if (h)
			mpq_h3_conn_uni_reset(h, id);
		return 0;
	}
	mpq_hq_request *r = active_req(conn, id);
	if (!r)
		return 0;
	stamp(r);
	r->code = app_error;
	finish(r, MPQ_HQ_RESET);
	return 0;
}

static int cli_on_stop_sending(mpq_conn *conn, int64_t id, uint64_t app_error, void *ud)
{
	(void)app_error;
	mpq_hq_client *cli = ud;
	struct mpq_h3_conn *h = is_own_uni(conn, id) && mpq_h3_conn_is_h3(conn)
					? mpq_h3_conn_get(&cli->h3, conn)
					: NULL;
	if (h)
		mpq_h3_conn_stopped(h, id);
	return 0;
}

static int cli_on_closed(mpq_conn *conn, int64_t id, void *ud)
{
	(void)ud;
	/* Closing needs FIN or a reset first, so this is only a safety net. */
	mpq_hq_request *r = active_req(conn, id);
	if (r) {
		r->error = MPQ_ERR_STREAM_STATE;
		finish(r, MPQ_HQ_INCOMPLETE);
	}
	return 0;
}

static int cli_on_handshake(mpq_conn *conn, void *ud)
{
	mpq_hq_client_issue(ud, conn);
	return 0;
}

static int cli_on_streams(mpq_conn *conn, bool bidi, void *ud)
{
	if (bidi)
		mpq_hq_client_issue(ud, conn);
	return 0;
}

MPQ_EXPORT void mpq_hq_client_callbacks(mpq_callbacks *cb, mpq_hq_client *cli)
{
	cb->handshake_completed = cli_on_handshake;
	cb->stream_data = cli_on_data;
	cb->stream_writable = cli_on_writable;
	cb->stream_reset = cli_on_reset;
	cb->stream_stop_sending = cli_on_stop_sending;
	cb->stream_closed = cli_on_closed;
	cb->streams_available = cli_on_streams;
	cb->user_data = cli;
}

MPQ_EXPORT bool mpq_hq_client_done(const mpq_hq_client *cli)
{
	return cli->unfinished == 0;
}

MPQ_EXPORT size_t mpq_hq_client_count(const mpq_hq_client *cli)
{
	return cli->n;
}

MPQ_EXPORT mpq_hq_request *mpq_hq_client_request(const mpq_hq_client *cli, size_t i)
{
	return i < cli->n ? cli->reqs[i] : NULL;
}

MPQ_EXPORT const char *mpq_hq_request_path(const mpq_hq_request *req)
{
	return req->path;
}

MPQ_EXPORT mpq_conn *mpq_hq_request_conn(const mpq_hq_request *req)
{
	return req->conn;
}

MPQ_EXPORT enum mpq_hq_status mpq_hq_request_status(const mpq_hq_request *req)
{
	return req->status;
}

MPQ_EXPORT const char *mpq_hq_status_name(enum mpq_hq_status status)
{
	switch (status) {
	case MPQ_HQ_WAITING:
		return "waiting";
	case MPQ_HQ_ACTIVE:
		return "active";
	case MPQ_HQ_OK:
		return "ok";
	case MPQ_HQ_RESET:
		return "reset";
	case MPQ_HQ_INCOMPLETE:
		return "incomplete";
	}
	return "unknown";
}

MPQ_EXPORT int64_t mpq_hq_request_stream(const mpq_hq_request *req)
{
	return req->id;
}

MPQ_EXPORT uint64_t mpq_hq_request_bytes(const mpq_hq_request *req)
{
	return req->bytes;
}

MPQ_EXPORT uint64_t mpq_hq_request_code(const mpq_hq_request *req)
{
	return req->code;
}

MPQ_EXPORT unsigned mpq_hq_request_http_status(const mpq_hq_request *req)
{
	return req->http_status;
}

MPQ_EXPORT int mpq_hq_request_error(const mpq_hq_request *req)
{
	return req->error;
}

MPQ_EXPORT int mpq_hq_request_errno(const mpq_hq_request *req)
{
	return req->sys_errno;
}

MPQ_EXPORT const char *mpq_hq_request_sha256(const mpq_hq_request *req)
{
	return req->sha256[0] ? req->sha256 : NULL;
}

MPQ_EXPORT void mpq_hq_request_times(const mpq_hq_request *req, uint64_t *sent,
				     uint64_t *first_byte, uint64_t *last_byte)
{
	if (sent)
		*sent = req->t_sent;
	if (first_byte)
		*first_byte = req->t_first;
	if (last_byte)
		*last_byte = req->t_last;
}

MPQ_EXPORT double mpq_hq_request_seconds(const mpq_hq_request *req)
{
	if (!req->got_first || req->t_last <= req->t_first)
		return 0;
	return (double)(req->t_last - req->t_first) / 1e9;
}
