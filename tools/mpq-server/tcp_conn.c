/*
 * One HTTPS connection of mpq-server --tcp (see tcp.h): the TLS handshake,
 * then request heads read into a bounded buffer and answered one at a time
 * (keep-alive; pipelined bytes wait for their turn), each body read from the
 * www root in chunks and written with SSL_write as far as the socket takes
 * it. Everything is non-blocking: OpenSSL's WANT_READ / WANT_WRITE say which
 * event to wait for.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "common/tls_tcp.h"
#include "common/tool.h"
#include "mpq/http1.h"
#include "tcp.h"

#define CHUNK 16384	    /* one TLS record of body per write */
#define CHUNKS_PER_EVENT 16 /* then the other connections get their turn */

enum tcp_state {
	TCP_HANDSHAKE,
	TCP_HEAD, /* reading a request head */
	TCP_BODY, /* writing a response */
};

struct tcp_conn {
	struct tcp_server *t;
	struct tcp_conn *prev, *next;
	int fd;
	SSL *ssl;
	enum tcp_state state;
	char peer[MPQ_ADDR_STRLEN];
	uint64_t last_active;  /* ns: the last byte moved either way */
	unsigned int watching; /* MPQ_LOOP_* events the loop has now */
	bool keep_alive;       /* after this response, another request may come */
	char in[MPQ_HTTP1_MAX_HEAD];
	size_t in_len;
	uint8_t out[CHUNK]; /* the head, then body chunks */
	size_t out_len, out_off;
	mpq_hq_body body;
	uint64_t body_off; /* body bytes put into |out| so far */
	mpq_http1_request req;
};

static bool verbose(const struct tcp_conn *c, int level)
{
	return *c->t->verbose >= level;
}

static void conn_free(struct tcp_conn *c)
{
	struct tcp_server *t = c->t;

	mpq_loop_del_fd(t->loop, c->fd);
	mpq_hq_body_close(&t->files, &c->body);
	if (c->ssl) {
		/* A close_notify when the socket takes it; no waiting for the
		 * peer's. */
		if (SSL_is_init_finished(c->ssl))
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	ERR_clear_error();
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	t->nconns--;
	free(c);
}

static int watch(struct tcp_conn *c, unsigned int events)
{
	if (events == c->watching)
		return 0;
	c->watching = events;
	return mpq_loop_mod_fd(c->t->loop, c->fd, events);
}

/* After an SSL call returned |ret| <= 0: 0 to wait for the event it wants
 * (now watched), -1 when the connection is over (said at -vv). */
static int ssl_wait(struct tcp_conn *c, int ret, const char *what)
{
	int e = SSL_get_error(c->ssl, ret);
	char buf[160];

	if (e == SSL_ERROR_WANT_READ)
		return watch(c, MPQ_LOOP_READ) < 0 ? -1 : 0;
	if (e == SSL_ERROR_WANT_WRITE)
		return watch(c, MPQ_LOOP_WRITE) < 0 ? -1 : 0;
	if (verbose(c, 2)) {
		if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !errno))
			tool_err("tcp %s: closed by the client", c->peer);
		else if (e == SSL_ERROR_SYSCALL)
			tool_err("tcp %s: %s: %s", c->peer, what, strerror(errno));
		else
			tool_err("tcp %s: %s: %s", c->peer, what,
				 tool_tls_tcp_error(buf, sizeof(buf), "TLS error"));
	}
	ERR_clear_error();
	return -1;
}

/* The head of the answer to the request in c->req with |status|, and for a
 * refusal a short text body, into c->out. */
static void start_response(struct tcp_conn *c, int status, uint64_t length, bool text)
{
	int n = snprintf((char *)c->out, sizeof(c->out),
			 "HTTP/1.%d %d %s\r\nServer: mpq-server\r\nContent-Length: %" PRIu64
			 "\r\nContent-Type: %s\r\n%sConnection: %s\r\n\r\n",
			 c->req.http10 ? 0 : 1, status, mpq_http1_reason(status), length,
			 text ? "text/plain" : "application/octet-stream",
			 status == 405 ? "Allow: GET\r\n" : "",
			 c->keep_alive ? "keep-alive" : "close");

	c->out_len = (size_t)n; /* under 300 bytes */
	c->out_off = 0;
	c->body_off = 0;
	c->state = TCP_BODY;
}

/* A refusal: the status line repeated as the body, "404 Not Found\n". */
static void refuse(struct tcp_conn *c, int status)
{
	char text[64];
	int n = snprintf(text, sizeof(text), "%d %s\n", status, mpq_http1_reason(status));

	start_response(c, status, (uint64_t)n, true);
	memcpy(c->out + c->out_len, text, (size_t)n);
	c->out_len += (size_t)n;
}

/* Fills c->out after its first |keep| bytes (the head, so that it leaves
 * with the body's first bytes) with the next body chunk. Returns 1, 0 when
 * the body is whole, -1 when the file cannot be read (the connection ends:
 * the length is promised already). */
static int next_chunk(struct tcp_conn *c, size_t keep)
{
	uint64_t left = c->body.size - c->body_off;
	size_t room = sizeof(c->out) - keep, n = left < room ? (size_t)left : room;
	int64_t got;

	if (!n)
		return 0;
	got = mpq_hq_body_read(&c->t->files, &c->body, c->out + keep, n, c->body_off);
	if (got <= 0) {
		tool_err("tcp %s: GET /%.200s: read failed at %" PRIu64 ": %s", c->peer,
			 c->req.rel, c->body_off,
			 got < 0 ? strerror((int)-got) : "file truncated");
		return -1;
	}
	c->out_len = keep + (size_t)got;
	c->out_off = 0;
	c->body_off += (uint64_t)got;
	return 1;
}

/* A complete head is at the start of c->in (|status| from the parser):
 * takes it out of the buffer and starts the answer. Returns 0, or -1 when
 * the body cannot be read. */
static int answer(struct tcp_conn *c, int status)
{
	size_t used = c->req.head_len;
	uint64_t code = 0;

	/* A head never complete (431) leaves nothing worth keeping. */
	if (!used || used > c->in_len)
		used = c->in_len;
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	c->keep_alive = c->req.keep_alive;
	c->t->served++;
	memset(&c->body, 0, sizeof(c->body)); /* a refusal has no body to read */
	if (status == 200)
		code = mpq_hq_body_open(&c->t->files, c->req.rel, &c->body);
	if (status == 200 && code)
		status = mpq_http1_status_of(code);
	if (status != 200) {
		if (verbose(c, 1) && c->req.rel[0])
			tool_err("tcp %s: GET /%.200s: %d %s", c->peer, c->req.rel, status,
				 mpq_http1_reason(status));
		else if (verbose(c, 1))
			tool_err("tcp %s: %d %s", c->peer, status, mpq_http1_reason(status));
		refuse(c, status);
		return 0;
	}
	if (verbose(c, 1))
		tool_err("tcp %s: GET /%.200s: %" PRIu64 " bytes%s", c->peer, c->req.rel,
			 c->body.size, c->body.generated ? " (generated)" : "");
	start_response(c, 200, c->body.size, false);
	return next_chunk(c, c->out_len) < 0 ? -1 : 0;
}

/* Reads until a head is complete (then answers it) or the socket is dry.
 * Returns 1 to go on (an answer started), 0 to wait, -1 when over. */
static int read_head(struct tcp_conn *c)
{
	for (;;) {
		int status = c->in_len ? mpq_http1_parse_request(c->in, c->in_len, &c->req) : 0;

		if (status)
			return answer(c, status) < 0 ? -1 : 1;
		/* The parser asks for more only while there is room for it. */
		int n = SSL_read(c->ssl, c->in + c->in_len, (int)(sizeof(c->in) - c->in_len));

		if (n <= 0)
			return ssl_wait(c, n, "read");
		c->in_len += (size_t)n;
		c->last_active = mpq_loop_now();
	}
}

/* Writes the response as far as the socket takes it. Returns 1 when it is
 * all sent, 0 to wait, -1 when over. */
static int write_body(struct tcp_conn *c)
{
	for (int chunks = 0; chunks < CHUNKS_PER_EVENT; chunks++) {
		if (c->out_off == c->out_len) {
			int rv = next_chunk(c, 0);

			if (rv <= 0)
				return rv == 0 ? 1 : -1;
		}
		while (c->out_off < c->out_len) {
			int n = SSL_write(c->ssl, c->out + c->out_off,
					  (int)(c->out_len - c->out_off));

			if (n <= 0)
				return ssl_wait(c, n, "write");
			c->out_off += (size_t)n;
			c->last_active = mpq_loop_now();
		}
	}
	/* More to send, but others wait: come back when writable. */
	return watch(c, MPQ_LOOP_WRITE) < 0 ? -1 : 0;
}

/* Moves the connection on as far as it goes now. Returns 0, or -1 when it
 * is over (the caller frees it). */
static int drive(struct tcp_conn *c)
{
	for (;;) {
		int rv;

		switch (c->state) {
		case TCP_HANDSHAKE:
			rv = SSL_do_handshake(c->ssl);
			if (rv != 1)
				return ssl_wait(c, rv, "TLS handshake");
			c->state = TCP_HEAD;
			c->last_active = mpq_loop_now();
			if (verbose(c, 2))
				tool_err("tcp %s: TLS done (%s)", c->peer,
					 SSL_get_cipher_name(c->ssl));
			break;
		case TCP_HEAD:
			rv = read_head(c);
			if (rv <= 0)
				return rv;
			break;
		case TCP_BODY:
			rv = write_body(c);
			if (rv <= 0)
				return rv;
			mpq_hq_body_close(&c->t->files, &c->body);
			if (!c->keep_alive)
				return -1;
			c->state = TCP_HEAD; /* bytes already read may hold the next */
			break;
		}
	}
}

static int on_conn(mpq_loop *loop, int fd, unsigned int events, void *ud)
{
	struct tcp_conn *c = ud;

	if (drive(c) < 0)
		conn_free(c);
	return 0;
}

int tcp_conn_new(struct tcp_server *t, int fd, const mpq_addr *peer)
{
	struct tcp_conn *c = t->nconns < TCP_MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
	int one = 1;

	if (!c) {
		close(fd);
		return -1;
	}
	c->t = t;
	c->fd = fd;
	c->last_active = mpq_loop_now();
	mpq_addr_format(peer, c->peer, sizeof(c->peer));
	/* Every write is a whole response or a 16 KiB record: no reason to
	 * hold a small last one back. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ssl = SSL_new(t->ssl);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1 ||
	    mpq_loop_add_fd(t->loop, fd, MPQ_LOOP_READ, on_conn, c) < 0) {
		SSL_free(c->ssl);
		ERR_clear_error();
		close(fd);
		free(c);
		return -1;
	}
	SSL_set_accept_state(c->ssl);
	c->watching = MPQ_LOOP_READ;
	c->next = t->conns;
	if (t->conns)
		t->conns->prev = c;
	t->conns = c;
	t->nconns++;
	if (verbose(c, 1))
		tool_err("tcp connection from %s", c->peer);
	return 0;
}

void tcp_conn_sweep(struct tcp_server *t, uint64_t now)
{
	for (struct tcp_conn *c = t->conns, *next; c; c = next) {
		next = c->next;
		if (now - c->last_active < TCP_IDLE_NS)
			continue;
		if (verbose(c, 1))
			tool_err("tcp %s: idle, closed", c->peer);
		conn_free(c);
	}
}

void tcp_conn_close_all(struct tcp_server *t)
{
	while (t->conns)
		conn_free(t->conns);
}
