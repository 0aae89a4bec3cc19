/*
 * The hq server: answers "GET /path" from a www directory without ever
 * leaving it, over HTTP/0.9 ("hq-interop": the request line, the body, FIN)
 * or HTTP/3 (HEADERS and DATA frames), picked per connection by its ALPN; all
 * but the framing is the same code. Sans I/O: files come through the
 * caller's mpq_hq_files (lib/io/hq_files.c has the file system's).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/h3_conn.h"
#include "app/h3_msg.h"
#include "app/hq.h"
#include "mpq/http1.h"

/* Body bytes moved per file read / stream write. */
#define CHUNK 16384
/* Largest HTTP/3 DATA frame the server sends. */
#define H3_DATA_MAX (256 * 1024)

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
	mpq_hq_vlog(srv->log, srv->log_user_data, level, fmt, ap);
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
			sreq_h3_respond(r, (unsigned)mpq_http1_status_of(code));
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

static int srv_on_handshake(mpq_conn *conn, void *ud)
{
	/* HTTP/3: SETTINGS without waiting for the client's first stream (a
	 * client may wait for them). */
	srv_h3(ud, conn);
	return 0;
}

static int srv_on_open(mpq_conn *conn, int64_t id, void *ud)
{
	/* HTTP/3: the control stream is there (opened at the handshake). */
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
	/* A query (after "?") names no file: the path ends before it. */
	const char *q = memchr(head.path, '?', head.pathlen);
	size_t plen = q ? (size_t)(q - head.path) : head.pathlen;
	char rel[MPQ_HQ_MAX_REQUEST + 1];
	sreq_serve(r, mpq_hq_parse_path(head.path, plen, rel, sizeof(rel)), rel);
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
	if (h && id > h->max_request)
		h->max_request = id;
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

static int srv_on_writable(mpq_conn *conn, int64_t id, void *ud)
{
	if (mpq_hq_is_own_uni(conn, id)) {
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
	if (mpq_hq_is_own_uni(conn, id)) {
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

MPQ_EXPORT void mpq_hq_server_goaway(mpq_hq_server *srv, mpq_conn *conn)
{
	struct mpq_h3_conn *h = srv_h3(srv, conn);
	if (h)
		mpq_h3_conn_goaway(h);
}

MPQ_EXPORT uint64_t mpq_hq_close_code(const mpq_conn *conn)
{
	return mpq_h3_conn_is_h3(conn) ? MPQ_H3_NO_ERROR : 0;
}

MPQ_EXPORT void mpq_hq_server_callbacks(mpq_callbacks *cb, mpq_hq_server *srv)
{
	cb->handshake_completed = srv_on_handshake;
	cb->stream_open = srv_on_open;
	cb->stream_data = srv_on_data;
	cb->stream_writable = srv_on_writable;
	cb->stream_reset = srv_on_reset;
	cb->stream_stop_sending = srv_on_stop_sending;
	cb->stream_closed = srv_on_closed;
	cb->user_data = srv;
}
