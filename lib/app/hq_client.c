/*
 * The hq client: fetches paths into sinks over HTTP/0.9 ("hq-interop") or
 * HTTP/3, picked per connection by its ALPN, counting, hashing and timing
 * every body the same way. Sans I/O: bodies go to the caller's mpq_hq_sink
 * and time comes from its clock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "app/h3_conn.h"
#include "app/h3_msg.h"
#include "app/hq.h"
#include "mpq/http1.h"

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
	mpq_hq_vlog(cli->cfg.log, cli->cfg.log_user_data, level, fmt, ap);
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
	struct mpq_h3_conn *h = r->h3 ? mpq_h3_conn_get(&r->cli->h3, r->conn) : NULL;
	if (h && h->goaway_in) {
		/* The server said it takes no more requests. */
		r->error = MPQ_ERR_CLOSING;
		finish(r, MPQ_HQ_INCOMPLETE);
		return MPQ_ERR_CLOSING;
	}
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

/* The server's GOAWAY: requests on streams from |id| on were not processed
 * and end INCOMPLETE (MPQ_ERR_CLOSING), their streams reset; those still
 * waiting end so when their turn comes (start). */
static void cli_goaway(void *ud, mpq_conn *conn, uint64_t id)
{
	mpq_hq_client *cli = ud;
	/* By index: a request_done callback may add requests. */
	for (size_t i = 0; i < cli->n; i++) {
		mpq_hq_request *r = cli->reqs[i];
		if (r->conn != conn || r->status != MPQ_HQ_ACTIVE || (uint64_t)r->id < id)
			continue;
		mpq_conn_stream_set_user_data(conn, r->id, NULL);
		mpq_conn_stream_reset(conn, r->id, MPQ_H3_REQUEST_CANCELLED);
		mpq_conn_stream_stop_sending(conn, r->id, MPQ_H3_REQUEST_CANCELLED);
		r->error = MPQ_ERR_CLOSING;
		finish(r, MPQ_HQ_INCOMPLETE);
	}
	mpq_hq_client_issue(cli, conn);
}

MPQ_EXPORT int mpq_hq_client_issue(mpq_hq_client *cli, mpq_conn *conn)
{
	struct wait_queue *q = queue_of(cli, conn);
	/* A request_done callback that makes a request on |conn| lands here
	 * again: the running loop picks the new request up. */
	if (!mpq_conn_is_handshake_complete(conn))
		return 0;
	/* HTTP/3: our control stream opens first. */
	if (mpq_h3_conn_is_h3(conn)) {
		struct mpq_h3_conn *h = mpq_h3_conn_get(&cli->h3, conn);
		if (!h)
			return MPQ_ERR_NOMEM;
		h->on_goaway = cli_goaway;
		h->goaway_user_data = cli;
	}
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
		/* The hq code it stands for, as HTTP/1.1 reports it (404 -> 1). */
		r->code = mpq_http1_code_of((int)status);
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
	if ((id & 2) && !mpq_hq_is_own_uni(conn, id)) {
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
	if (mpq_hq_is_own_uni(conn, id)) {
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
	struct mpq_h3_conn *h = mpq_hq_is_own_uni(conn, id) && mpq_h3_conn_is_h3(conn)
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
