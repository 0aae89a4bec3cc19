/*
 * mpq-client --tcp [--mptcp]: the URLs over one HTTPS connection on TCP or
 * MPTCP, for comparison with multipath QUIC. HTTP/1.1 with keep-alive, one
 * request at a time; each body goes to its output and is hashed as hq's
 * are, and the results land where report.c reads them, so the result lines,
 * --json and the exit status are the QUIC run's. Blocking I/O: one
 * connection needs no event loop; the socket's timeouts bound every wait
 * (the idle timeout), and SIGINT/SIGTERM/SIGHUP interrupt it.
 *
 * MPTCP subflows come from the kernel's path manager: the client configures
 * nothing. With several -n interfaces it binds the first subflow to the
 * first one's address, and says how to add subflows when it ends with one.
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "client.h"
#include "common/localaddr.h"
#include "common/tls_tcp.h"
#include "common/tool.h"
#include "mpq/http1.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define DEFAULT_IDLE_MS 30000
#define BODY_BUF 65536

struct tcp_conn {
	struct client *c;
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char in[MPQ_HTTP1_MAX_HEAD]; /* read but not used yet */
	size_t in_len;
	bool closed; /* the server ended the connection */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Blocking calls return EINTR on these instead of restarting. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static uint64_t idle_ms(const struct client *c)
{
	return c->o.t.idle_ms ? c->o.t.idle_ms : DEFAULT_IDLE_MS;
}

/* Why an I/O call failed with |err| (errno), into the connection's reason. */
static void fail_errno(struct client *c, const char *what, int err)
{
	if (stop_signal || err == EINTR)
		fail(c, MPQ_ERR_CLOSING, "interrupted");
	else if (err == EAGAIN || err == EWOULDBLOCK || err == EINPROGRESS)
		fail(c, MPQ_ERR_IDLE_CLOSE, "%s: nothing for %.1f s (idle timeout)", what,
		     (double)idle_ms(c) / 1e3);
	else
		fail(c, MPQ_ERR_PROTO, "%s: %s", what, strerror(err));
}

/* After SSL_read/SSL_write/SSL_connect returned |ret| <= 0. */
static void fail_ssl(struct tcp_conn *t, int ret, const char *what)
{
	int e = SSL_get_error(t->ssl, ret), err = errno;
	char buf[160];

	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !err && !ERR_peek_error())) {
		t->closed = true;
		fail(t->c, MPQ_ERR_PROTO, "%s: the server closed the connection", what);
	} else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_WANT_READ ||
		   e == SSL_ERROR_WANT_WRITE) {
		fail_errno(t->c, what, err ? err : EAGAIN);
	} else {
		fail(t->c, MPQ_ERR_TLS, "%s: %s", what,
		     tool_tls_tcp_error(buf, sizeof(buf), "TLS error"));
	}
	ERR_clear_error();
}

/* The socket, bound as -n asks and connected. Returns 0, or -1 after fail(). */
static int tcp_connect(struct tcp_conn *t)
{
	struct client *c = t->c;
	const mpq_addr *to = &c->fetches[0].url.addr;
	uint64_t ms = idle_ms(c);
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (long)(ms % 1000) * 1000};
	char ifname[IF_NAMESIZE] = "";
	int one = 1;

	t->fd = socket(to->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC,
		       c->o.mptcp ? IPPROTO_MPTCP : 0);
	if (t->fd < 0 && c->o.mptcp) {
		fail(c, MPQ_ERR_INTERNAL,
		     "the kernel refuses MPTCP sockets (%s); enable them with sysctl -w "
		     "net.mptcp.enabled=1",
		     strerror(errno));
		return -1;
	}
	if (t->fd < 0) {
		fail_errno(c, "socket", errno);
		return -1;
	}
	/* Each request is one write: send it at once. */
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Bounds connect, every read and every write. */
	setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (c->o.ifaces) {
		mpq_addr local;

		snprintf(ifname, sizeof(ifname), "%.*s", (int)strcspn(c->o.ifaces, ","),
			 c->o.ifaces);
		/* A device binding would hold every MPTCP subflow to this
		 * interface: for MPTCP only the first subflow's address. */
		if (!c->o.mptcp && setsockopt(t->fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
					      (socklen_t)strlen(ifname)) < 0) {
			fail_errno(c, "-n: SO_BINDTODEVICE", errno);
			return -1;
		}
		if (tool_iface_local(ifname, to, &local) == 0 &&
		    bind(t->fd, (const struct sockaddr *)&local.ss, local.len) < 0) {
			fail_errno(c, "-n: bind", errno);
			return -1;
		}
	}
	if (connect(t->fd, (const struct sockaddr *)&to->ss, to->len) < 0) {
		fail_errno(c, "connect", errno);
		return -1;
	}
	return 0;
}

/* TLS with the server's name or address checked (unless -k). */
static int tcp_handshake(struct tcp_conn *t)
{
	struct client *c = t->c;
	const struct tool_url *u = &c->fetches[0].url;
	const unsigned char *alpn = NULL;
	unsigned int alen = 0;
	char why[256];
	int rv;

	if (c->o.insecure)
		tool_err("WARNING: --insecure: the server's certificate is NOT verified; "
			 "anyone on the path can pose as the server");
	t->ctx = tool_tls_tcp_client(c->o.ca, c->o.insecure, &c->o.t.keylog, why, sizeof(why));
	if (!t->ctx) {
		fail(c, MPQ_ERR_TLS, "%s%s", c->o.ca ? "--ca: " : "", why);
		return -1;
	}
	t->ssl = SSL_new(t->ctx);
	if (!t->ssl || SSL_set_fd(t->ssl, t->fd) != 1) {
		fail(c, MPQ_ERR_TLS, "%s", tool_tls_tcp_error(why, sizeof(why), "SSL_new failed"));
		return -1;
	}
	if (u->host_is_name) {
		SSL_set_tlsext_host_name(t->ssl, u->host);
		SSL_set1_host(t->ssl, u->host);
	} else {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), u->host);
	}
	rv = SSL_connect(t->ssl);
	if (rv != 1) {
		long vr = SSL_get_verify_result(t->ssl);

		if (vr != X509_V_OK)
			fail(c, MPQ_ERR_TLS, "certificate: %s", X509_verify_cert_error_string(vr));
		else
			fail_ssl(t, rv, "TLS handshake");
		return -1;
	}
	SSL_get0_alpn_selected(t->ssl, &alpn, &alen);
	if (alpn && alen < sizeof(c->alpn)) {
		memcpy(c->alpn, alpn, alen);
		c->alpn[alen] = '\0';
	}
	return 0;
}

static int write_all(struct tcp_conn *t, const char *buf, size_t len)
{
	while (len) {
		int n = SSL_write(t->ssl, buf, (int)(len < INT32_MAX ? len : INT32_MAX));

		if (n <= 0) {
			fail_ssl(t, n, "send");
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* "GET /path HTTP/1.1" with Host (and its port unless 443). */
static int send_request(struct tcp_conn *t, struct fetch *f)
{
	const struct tool_url *u = &f->url;
	bool v6 = strchr(u->host, ':') != NULL;
	char req[TOOL_URL_PATHLEN + TOOL_URL_HOSTLEN + 128], port[8] = "";
	int n;

	if (u->port != 443)
		snprintf(port, sizeof(port), ":%u", u->port);
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: %s%s%s%s\r\nUser-Agent: mpq-client/%s\r\n"
		     "Accept: */*\r\n\r\n",
		     u->path, v6 ? "[" : "", u->host, v6 ? "]" : "", port, MPQ_VERSION_STR);
	if (n < 0 || (size_t)n >= sizeof(req))
		return -1;
	f->tcp.sent = mpq_loop_now();
	f->tcp.status = MPQ_HQ_ACTIVE;
	return write_all(t, req, (size_t)n);
}

/* Reads into |buf|. Returns the count, 0 when the server closed the
 * connection cleanly and |eof_ok|, or -1 after fail(). A signal may land
 * outside the read (in a write to the output), so it is looked at before
 * each. */
static int read_more(struct tcp_conn *t, char *buf, size_t room, const char *what, bool eof_ok)
{
	int n = stop_signal ? -1 : SSL_read(t->ssl, buf, (int)room);

	if (stop_signal) {
		fail(t->c, MPQ_ERR_CLOSING, "interrupted");
		return -1;
	}
	if (n <= 0 && eof_ok && SSL_get_error(t->ssl, n) == SSL_ERROR_ZERO_RETURN) {
		t->closed = true;
		return 0;
	}
	if (n <= 0) {
		fail_ssl(t, n, what);
		return -1;
	}
	return n;
}

/* The response head into |resp|, its bytes taken out of t->in. */
static int read_head(struct tcp_conn *t, mpq_http1_response *resp)
{
	for (;;) {
		int rv = mpq_http1_parse_response(t->in, t->in_len, resp), n;

		if (rv < 0) {
			fail(t->c, MPQ_ERR_PROTO, "not an HTTP/1.1 response head");
			return -1;
		}
		if (rv > 0)
			break;
		n = read_more(t, t->in + t->in_len, sizeof(t->in) - t->in_len, "response", false);
		if (n < 0)
			return -1;
		t->in_len += (size_t)n;
	}
	if (resp->status < 200) {
		fail(t->c, MPQ_ERR_PROTO, "unexpected informational response %d", resp->status);
		return -1;
	}
	memmove(t->in, t->in + resp->head_len, t->in_len - resp->head_len);
	t->in_len -= resp->head_len;
	return 0;
}

static void show_progress(struct client *c, uint64_t now)
{
	uint64_t bytes = 0;
	size_t done = 0;

	if (!tool_progress_due(&c->progress, now))
		return;
	for (size_t i = 0; i < c->nfetches; i++) {
		bytes += c->fetches[i].tcp.bytes;
		done += c->fetches[i].tcp.status >= MPQ_HQ_OK;
	}
	tool_progress_update(&c->progress, now, bytes, done, c->nfetches);
}

/* |len| body bytes of fetch |f| (kept only for a 200): hashed, written out. */
static void take_body(struct client *c, struct fetch *f, EVP_MD_CTX *sha, const char *data,
		      size_t len)
{
	if (!len || f->tcp.http_status != 200)
		return;
	if (!f->tcp.first)
		f->tcp.first = mpq_loop_now();
	f->tcp.bytes += len;
	EVP_DigestUpdate(sha, data, len);
	while (f->out.fd >= 0 && !f->tcp.errnum && len) {
		ssize_t n = write(f->out.fd, data, len);

		if (n < 0 && errno == EINTR && !stop_signal)
			continue;
		if (n <= 0) {
			f->tcp.errnum = n < 0 ? errno : EIO;
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	show_progress(c, mpq_loop_now());
}

/* The body: Content-Length bytes, or to the end of the connection. Returns
 * 0 when it is whole. */
static int read_body(struct tcp_conn *t, struct fetch *f, const mpq_http1_response *resp,
		     EVP_MD_CTX *sha)
{
	static char buf[BODY_BUF];
	uint64_t left = resp->has_length ? resp->content_length : UINT64_MAX;
	size_t n = t->in_len < left ? t->in_len : (size_t)left;

	take_body(t->c, f, sha, t->in, n);
	memmove(t->in, t->in + n, t->in_len - n);
	t->in_len -= n;
	left -= n;
	while (left) {
		int got = read_more(t, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf),
				    "body", !resp->has_length);

		if (got <= 0)
			return got; /* 0: the end of the connection ends the body */
		take_body(t->c, f, sha, buf, (size_t)got);
		left -= (uint64_t)got;
	}
	return 0;
}

/* Fetch |f| on the connection: the request, the head, the body, the result. */
static int fetch_one(struct tcp_conn *t, struct fetch *f)
{
	struct client *c = t->c;
	mpq_http1_response resp;
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	unsigned char md[32];
	int rv = sha && EVP_DigestInit_ex(sha, EVP_sha256(), NULL) == 1 ? 0 : -1;

	if (rv == 0)
		rv = send_request(t, f);
	if (rv == 0)
		rv = read_head(t, &resp);
	if (rv == 0) {
		f->tcp.http_status = resp.status;
		if (!resp.has_length && resp.keep_alive) {
			fail(c, MPQ_ERR_PROTO, "%s: a response without Content-Length",
			     f->url.text);
			rv = -1;
		}
	}
	if (rv == 0)
		rv = read_body(t, f, &resp, sha);
	f->tcp.last = mpq_loop_now();
	if (sha && EVP_DigestFinal_ex(sha, md, NULL) == 1)
		for (size_t i = 0; i < sizeof(md); i++)
			snprintf(f->tcp.sha256 + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(sha);
	if (rv == 0 && resp.status != 200) {
		f->tcp.status = MPQ_HQ_RESET;
		f->tcp.code = mpq_http1_code_of(resp.status);
	} else {
		f->tcp.status = rv == 0 && !f->tcp.errnum ? MPQ_HQ_OK : MPQ_HQ_INCOMPLETE;
	}
	if (f->tcp.status == MPQ_HQ_OK)
		output_commit(&f->out);
	else
		output_abandon(&f->out);
	if (c->o.t.verbose)
		tool_err("%s: %d, %" PRIu64 " bytes", f->url.text, f->tcp.http_status,
			 f->tcp.bytes);
	if (rv == 0 && !resp.keep_alive)
		t->closed = true;
	return rv;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop_signal)
		;
}

/* With several -n interfaces but one subflow: how to get more. */
static void hint_subflows(const struct client *c)
{
	if (!c->o.mptcp || !c->o.ifaces || !strchr(c->o.ifaces, ',') || c->ntcp_paths > 1)
		return;
	if (!strcmp(c->transport, "mptcp"))
		tool_warn("one MPTCP subflow only: the kernel's path manager adds them from its "
			  "endpoints (ip mptcp endpoint add ADDR dev IF subflow; ip mptcp limits "
			  "set subflow N add_addr_accepted N)");
	else
		tool_warn("the connection fell back to TCP: the server does not speak MPTCP "
			  "(mpq-server --mptcp)");
}

void tcp_run(struct client *c)
{
	struct tcp_conn t = {.c = c, .fd = -1};

	catch_signals();
	if (tcp_connect(&t) == 0 && tcp_handshake(&t) == 0) {
		c->handshake_done = true;
		c->stats.handshake_time = mpq_loop_now() - c->start;
		if (c->o.t.verbose)
			tool_err("connected to %s (%s, %s)", c->server,
				 c->o.mptcp ? "MPTCP" : "TCP", c->alpn[0] ? c->alpn : "no ALPN");
		for (size_t i = 0; i < c->nfetches && !c->conn_err; i++) {
			struct fetch *f = &c->fetches[i];

			if (i == 1 && c->o.delay_ms)
				sleep_ms(c->o.delay_ms);
			if (stop_signal) {
				fail(c, MPQ_ERR_CLOSING, "interrupted");
				break;
			}
			if (t.closed) {
				fail(c, MPQ_ERR_PROTO,
				     "the server closed the connection before %s", f->url.text);
				break;
			}
			/* A failure to create the file fails that URL only. */
			if (output_open(&f->out) != 0)
				continue;
			fetch_one(&t, f);
		}
	}
	tool_progress_end(&c->progress);
	c->end = mpq_loop_now();
	if (t.fd >= 0)
		tcp_collect_paths(c, t.fd);
	if (c->handshake_done)
		hint_subflows(c);
	if (t.ssl && !t.closed && !stop_signal)
		SSL_shutdown(t.ssl);
	SSL_free(t.ssl);
	SSL_CTX_free(t.ctx);
	ERR_clear_error();
	if (t.fd >= 0)
		close(t.fd);
}
