/*
 * mpq-client: fetches URLs over one QUIC connection with HTTP/0.9
 * ("hq-interop"), over kernel UDP, on one path or several (CLI.md
 * "mpq-client").
 *
 * Every path has its own UDP socket (bound to its -n interface and an
 * address of the right family on it, or to the wildcard), so a datagram
 * leaves by the socket its path names (mpq_path.user_data) and arrives with
 * its real 4-tuple. The paths come from the command line (seed mapping:
 * interface 0 reaches the URL's address, interface k+1 the k-th -mip
 * address; -fmp a second port on interface 0) or, without -mip, from the
 * addresses the server announces. They are opened once the handshake is
 * done (or --path-delay later), retried after each event while the server's
 * connection IDs for the next path ID are still on their way.
 *
 * One event loop: datagrams in go to mpq_conn_read_pkt; after every event
 * the connection's datagrams go out in GSO batches; one timer follows
 * mpq_conn_get_expiry, one delays the second URL (-d), one the paths.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/callbacks.h"
#include "common/dgramio.h"
#include "common/jsonout.h"
#include "common/localaddr.h"
#include "common/opts.h"
#include "common/progress.h"
#include "common/tool.h"
#include "common/transport.h"
#include "common/url.h"
#include "client.h"
#include "mpq/io/hq_files.h"
#include "mpq/io/loop.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/qlog_file.h"
#include "mpq/endpoint.h"
#include "mpq/hq.h"

#define RX_ROUNDS 16 /* receive batches per readable event before the timers run */

/* Options that need more than storing a value (the others are in the table). */
enum {
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
};

static const char *const alpn_names[] = {"hq-interop", "h3", NULL};
static const char *const quic_version_names[] = {"1", "2", NULL};

#define O struct client_opts
static const struct tool_option client_options[] = {
	{"ifaces", NULL, 'n', "LIST", TOOL_O_STR(O, ifaces),
	 .help = "local interfaces, one per path: the first reaches the URL's\n"
		 "address, interface k+1 the k-th -mip address (the URL's\n"
		 "when there are fewer -mip addresses)"},
	{"more-remotes", "mip", 0, "LIST", TOOL_O_STR(O, more_remotes),
	 .help = "more server addresses (A.B.C.D:PORT or [V6]:PORT),\n"
		 "comma-separated: one more path to each"},
	{"fake-multipath", "fmp", 0, NULL, TOOL_O_TRUE(O, fake_multipath),
	 .help = "a second path over the first interface (another source port)"},
	{"delay", NULL, 'd', "MS", TOOL_O_UINT(O, delay_ms, 0, 3600000),
	 .help = "request the second and later URLs MS milliseconds after\n"
		 "the first"},
	{"path-delay", NULL, 0, "MS", TOOL_O_UINT(O, path_delay_ms, 0, 3600000),
	 .help = "open the extra paths MS ms after the handshake (default 0:\n"
		 "as soon as the server allows)"},
	TOOL_PATHACT_OPTIONS(O, pa),
	{"replace-path", NULL, 0, "MS", TOOL_O_UINT(O, replace_ms, 1, 3600000),
	 .help = "every MS ms after the handshake, abandon the last extra path\n"
		 "and open a new one (a new path ID) from its socket: path IDs\n"
		 "past the server's initial_max_path_id need its MAX_PATH_ID"},
	{"output", NULL, 'o', "PATH", TOOL_O_STR(O, output),
	 .help = "a file (one URL) or an existing directory (DIR/: made if\n"
		 "missing); '-' writes the body to stdout. Default: the URL's\n"
		 "file name in the current directory. A file is replaced only\n"
		 "by a whole body"},
	{"discard", NULL, 0, NULL, TOOL_O_TRUE(O, discard),
	 .help = "do not store the bodies (they are still counted and hashed)"},
	{"ca", NULL, 0, "FILE", TOOL_O_STR(O, ca),
	 .help = "trust this CA (default: the system store)"},
	{"pin-sha256", NULL, 0, "FINGERPRINT", TOOL_O_STR(O, pin_sha256),
	 .help = "accept only the certificate with this SHA-256 fingerprint\n"
		 "(as mpq-server prints it: 64 hex digits, colons optional),\n"
		 "in place of a CA and a name check"},
	{"insecure", NULL, 'k', NULL, TOOL_O_TRUE(O, insecure),
	 .help = "do not verify the server's certificate (warns on stderr)"},
	{"json", NULL, 0, NULL, TOOL_O_TRUE(O, json),
	 .help = "print a JSON summary on stdout at the end"},
	{"progress", NULL, 0, NULL, TOOL_O_SET(OPT_PROGRESS),
	 .help = "show a progress line on stderr"},
	{"no-progress", NULL, 0, NULL, TOOL_O_SET(OPT_NO_PROGRESS),
	 .help = "do not (default: shown when stderr is a terminal)"},
	{"alpn", NULL, 0, "NAME", TOOL_O_CHOICE(O, alpn, alpn_names),
	 .help = "hq-interop (default); h3 is not available yet"},
	{"quic-version", NULL, 0, "V", TOOL_O_CHOICE(O, quic_version, quic_version_names),
	 .help = "QUIC version offered: 1 (default) or 2 (RFC 9369)"},
	{"tcp", NULL, 0, NULL, TOOL_O_TRUE(O, tcp),
	 .help = "fetch over HTTPS on TCP instead (HTTP/1.1, keep-alive, one\n"
		 "connection), for comparison runs (mpq-server --tcp)"},
	{"mptcp", NULL, 0, NULL, TOOL_O_TRUE(O, mptcp),
	 .help = "--tcp over MPTCP (implies --tcp): subflows come from the\n"
		 "kernel's path manager (ip mptcp endpoint ... subflow)"},
	TOOL_TRANSPORT_OPTIONS(O),
	TOOL_OPTION_HELP,
	TOOL_OPTION_VERSION,
	TOOL_OPTION_END,
};
#undef O

static int set_option(void *ctx, const struct tool_option *opt, const char *arg)
{
	struct client_opts *o = ctx;

	switch (opt->id) {
	case OPT_PROGRESS:
		o->progress = TOOL_PROGRESS_ON;
		return 0;
	case OPT_NO_PROGRESS:
		o->progress = TOOL_PROGRESS_OFF;
		return 0;
	}
	return TOOL_EXIT_USAGE;
}

static const struct tool_command client_command = {
	.usage = "[options] URL...",
	.summary = "Fetch every URL (https://HOST:PORT/PATH) over one QUIC connection with\n"
		   "HTTP/0.9 (ALPN hq-interop), over UDP, with a path for each -n interface,\n"
		   "-mip address and announced server address (multipath QUIC).",
	.options = client_options,
	.epilogue =
		"Exit status: 0 every URL fetched whole; 1 some URL failed (not found, stream\n"
		"reset, output not writable); 2 usage error; 3 connection failed (no route,\n"
		"handshake, certificate, idle timeout).\n"
		"Environment: SSLKEYLOGFILE (as --keylog), QLOGDIR (as --qlog-dir).",
	.set = set_option,
};

/* --tcp: the options of multipath QUIC have no meaning there. */
static int check_tcp(const struct client_opts *o)
{
	const char *quic = o->more_remotes		      ? "-mip"
			   : o->fake_multipath		      ? "-fmp"
			   : o->replace_ms		      ? "--replace-path"
			   : o->path_delay_ms		      ? "--path-delay"
			   : o->pin_sha256		      ? "--pin-sha256"
			   : o->quic_version		      ? "--quic-version"
			   : o->alpn			      ? "--alpn"
			   : o->t.qlog_flag		      ? "--qlog-dir"
			   : o->t.pcap_flag		      ? "--pcap"
			   : o->pa.abandon_ms || o->pa.backup ? "--abandon-path/--backup-path"
							      : NULL;

	if (quic) {
		tool_err("%s: for QUIC only, not with --tcp/--mptcp", quic);
		return TOOL_EXIT_USAGE;
	}
	if (!o->mptcp && o->ifaces && strchr(o->ifaces, ',')) {
		tool_err("--tcp: one interface (-n IF); several need --mptcp");
		return TOOL_EXIT_USAGE;
	}
	return 0;
}

/* Refuses what is parsed but cannot work (yet). */
static int check_available(const struct client_opts *o)
{
	const char *mp = NULL;

	if (o->more_remotes)
		mp = "-mip";
	else if (o->fake_multipath)
		mp = "-fmp";
	else if (o->ifaces && strchr(o->ifaces, ','))
		mp = "-n with several interfaces";
	if (mp && !tool_multipath(&o->t)) {
		tool_err("%s: needs multipath (--max-paths 0 turns it off)", mp);
		return TOOL_EXIT_USAGE;
	}
	return o->tcp ? check_tcp(o) : 0;
}

/* ---- URLs and outputs ---- */

static int parse_urls(struct client *c, int argc, char **argv, int first)
{
	c->nfetches = (size_t)(argc - first);
	if (c->nfetches == 0) {
		tool_err("no URL given (see --help)");
		return TOOL_EXIT_USAGE;
	}
	c->fetches = calloc(c->nfetches, sizeof(*c->fetches));
	if (!c->fetches) {
		tool_err("out of memory");
		return TOOL_EXIT_FAIL;
	}
	for (size_t i = 0; i < c->nfetches; i++) {
		struct fetch *f = &c->fetches[i];
		int rv = tool_url_parse(&f->url, argv[first + (int)i]);

		output_init(&f->out);
		if (rv != 0)
			return rv;
		if (i > 0 && (strcmp(f->url.host, c->fetches[0].url.host) != 0 ||
			      f->url.port != c->fetches[0].url.port)) {
			tool_err("%s: every URL must name the same server as %s (one connection)",
				 f->url.text, c->fetches[0].url.text);
			return TOOL_EXIT_USAGE;
		}
	}
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Where fetch |f| goes: |path| itself, or the URL's file name in |dir|
 * (the current one when NULL). */
static int output_name(struct fetch *f, const char *dir, const char *path)
{
	const char *name = tool_url_file_name(&f->url);
	char file[sizeof(f->out.path)];
	int n;

	if (path) {
		n = snprintf(file, sizeof(file), "%s", path);
	} else if (!name) {
		tool_err("%s: no file name in the URL to save it under (use -o FILE or --discard)",
			 f->url.text);
		return TOOL_EXIT_USAGE;
	} else {
		/* The current directory by default: the bare name in messages. */
		n = snprintf(file, sizeof(file), "%s%s%s", dir ? dir : "",
			     !dir || dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	}
	if (n < 0 || (size_t)n >= sizeof(file) || output_set(&f->out, file) < 0) {
		tool_err("%s: output path too long", f->url.text);
		return TOOL_EXIT_USAGE;
	}
	return 0;
}

/* Chooses every fetch's output file per -o / --discard (CLI.md). */
static int plan_outputs(struct client *c)
{
	const struct client_opts *o = &c->o;
	const char *dir = NULL;
	int rv;

	if (o->discard) {
		if (o->output) {
			tool_err("-o and --discard exclude each other");
			return TOOL_EXIT_USAGE;
		}
		return 0;
	}
	if (o->output && strcmp(o->output, "-") == 0) {
		if (c->nfetches > 1) {
			tool_err("-o -: only one URL's body can go to stdout");
			return TOOL_EXIT_USAGE;
		}
		if (o->json) {
			tool_err("-o - and --json would both write to stdout");
			return TOOL_EXIT_USAGE;
		}
		output_set_stdout(&c->fetches[0].out);
		return 0;
	}
	if (o->output) {
		size_t len = strlen(o->output);

		dir = o->output;
		/* "-o DIR/" asks for a directory: made when missing. */
		if (len && o->output[len - 1] == '/' && mkdir(dir, 0777) < 0 && errno != EEXIST) {
			tool_err("-o %s: cannot create the directory: %s", dir, strerror(errno));
			return TOOL_EXIT_FAIL;
		}
		if (!is_dir(dir) && c->nfetches == 1)
			return output_name(&c->fetches[0], NULL, o->output);
		if (!is_dir(dir)) {
			tool_err("-o %s: with several URLs, -o names an existing directory "
				 "(or DIR/ to create one)",
				 dir);
			return TOOL_EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < c->nfetches; i++) {
		rv = output_name(&c->fetches[i], dir, NULL);
		if (rv != 0)
			return rv;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->fetches[i].out.path, c->fetches[j].out.path) == 0) {
				tool_err("%s and %s would both be saved as %s (fetch them "
					 "separately, or use --discard)",
					 c->fetches[j].url.text, c->fetches[i].url.text,
					 c->fetches[i].out.path);
				return TOOL_EXIT_USAGE;
			}
		}
	}
	return 0;
}

/* Removes the temporaries of the bodies that did not arrive whole (also
 * after Ctrl-C). */
static void close_outputs(struct client *c)
{
	for (size_t i = 0; c->fetches && i < c->nfetches; i++)
		output_abandon(&c->fetches[i].out);
}

/* When every URL asks for generated bytes ("/<digits>"), their total: the
 * progress bar's length. 0 otherwise. */
static uint64_t expected_total(const struct client *c)
{
	uint64_t total = 0;

	for (size_t i = 0; i < c->nfetches; i++) {
		const char *p = c->fetches[i].url.path + 1;

		if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 15)
			return 0;
		total += strtoull(p, NULL, 10);
	}
	return total;
}

/* ---- The connection ---- */

void fail(struct client *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (c->conn_err)
		return;
	c->conn_err = err;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
}

/* CRYPTO_ERROR with a TLS alert about the certificate (RFC 8446 §6.2:
 * bad_certificate 42 to certificate_unknown 46, unknown_ca 48). */
static bool is_cert_alert(uint64_t code)
{
	return code == MPQ_TE_CRYPTO_ERROR + 48 ||
	       (code >= MPQ_TE_CRYPTO_ERROR + 42 && code <= MPQ_TE_CRYPTO_ERROR + 46);
}

/* The reason a connection error gives, from mpq_conn_get_error. */
static void describe_conn_error(struct client *c, int err)
{
	const mpq_conn_error *e = mpq_conn_get_error(c->conn);
	const char *why = e->set && e->reason[0] ? e->reason : mpq_strerror(err);

	if (err == MPQ_ERR_HANDSHAKE_TIMEOUT || err == MPQ_ERR_IDLE_CLOSE)
		fail(c, err, "%s", mpq_strerror(err));
	else if (!e->set)
		fail(c, err, "%s", mpq_strerror(err));
	else if (e->remote && !e->app && e->code == MPQ_TE_CONNECTION_REFUSED)
		fail(c, err, "refused by the server%s%s", e->reason[0] ? ": " : "", e->reason);
	else if (!e->app && is_cert_alert(e->code) && !e->remote && strstr(why, "mismatch"))
		/* Trusted, but for another name: no CA would help. */
		fail(c, err, "certificate error: %s (the server's certificate does not name %s)",
		     why, c->fetches[0].url.host);
	else if (!e->app && is_cert_alert(e->code) && !e->remote && c->o.pin_sha256)
		fail(c, err, "certificate error: %s", why);
	else if (!e->app && is_cert_alert(e->code) && !e->remote)
		fail(c, err,
		     "certificate error: %s (use --ca FILE or --pin-sha256 FINGERPRINT, "
		     "or -k to skip checking)",
		     why);
	else if (!e->app && e->code >= MPQ_TE_CRYPTO_ERROR &&
		 e->code <= MPQ_TE_CRYPTO_ERROR + 0xff)
		fail(c, err, "%sTLS handshake failed: %s", e->remote ? "the server says: " : "",
		     why);
	else if (e->remote && e->app)
		fail(c, err, "closed by the server with application error 0x%llx%s%s",
		     (unsigned long long)e->code, e->reason[0] ? ": " : "", e->reason);
	else if (e->remote)
		fail(c, err, "closed by the server with error 0x%llx%s%s",
		     (unsigned long long)e->code, e->reason[0] ? ": " : "", e->reason);
	else
		fail(c, err, "%s (error 0x%llx)", why, (unsigned long long)e->code);
}

static bool all_done(const struct client *c)
{
	return c->issued == c->nfetches && mpq_hq_client_done(c->hq);
}

/* Hands fetches up to |upto| to the hq client, which sends them as soon as
 * the connection allows. */
static int issue(struct client *c, size_t upto)
{
	for (; c->issued < upto; c->issued++) {
		struct fetch *f = &c->fetches[c->issued];
		mpq_hq_sink sink = {.struct_version = MPQ_HQ_SINK_VERSION}; /* discard */
		int rv;

		/* A failure to create the file fails that URL only. */
		if (output_open(&f->out) != 0)
			continue;
		if (f->out.fd >= 0)
			mpq_hq_sink_fd(&sink, f->out.fd);
		rv = mpq_hq_client_get(c->hq, c->conn, f->url.path, &sink, &f->req);
		if (rv < 0) {
			tool_err("%s: cannot request it: %s", f->url.text, mpq_strerror(rv));
			return rv;
		}
	}
	return 0;
}

static int after_event(struct client *c);

static int on_delay(mpq_loop *loop, mpq_loop_timer *t, void *ud)
{
	struct client *c = ud;
	int rv = issue(c, c->nfetches);

	return rv < 0 ? rv : after_event(c);
}

static int on_path_timer(mpq_loop *loop, mpq_loop_timer *t, void *ud)
{
	struct client *c = ud;

	c->paths_due = true;
	return after_event(c);
}

/* --abandon-path, --backup-path: what is due, and the timer for the next. */
static int on_pathact_timer(mpq_loop *loop, mpq_loop_timer *t, void *ud)
{
	struct client *c = ud;
	uint64_t next =
		tool_pathact_run(&c->o.pa, &c->pathact, c->conn, mpq_loop_now(), c->o.t.verbose);
	int rv = mpq_loop_timer_set(c->loop, &c->pathact_timer, next, 0);

	return rv < 0 ? rv : after_event(c);
}

static int on_replace_timer(mpq_loop *loop, mpq_loop_timer *t, void *ud)
{
	struct client *c = ud;

	replace_path(c);
	return after_event(c);
}

static int on_handshake(mpq_conn *conn, void *ud)
{
	struct client *c = ud;
	size_t alen = 0;
	const uint8_t *alpn = mpq_conn_alpn(conn, &alen);
	int rv;

	c->handshake_done = true;
	if (alpn && alen < sizeof(c->alpn)) {
		memcpy(c->alpn, alpn, alen);
		c->alpn[alen] = '\0';
	}
	if (c->o.t.verbose)
		tool_err("connected to %s (%s%s)", c->server, c->alpn,
			 mpq_conn_is_multipath(conn) ? ", multipath" : "");
	/* The extra paths: from the next event on, or --path-delay later. */
	if (!c->o.path_delay_ms) {
		c->paths_due = true;
	} else {
		rv = mpq_loop_timer_set(c->loop, &c->path_timer,
					mpq_loop_now() + c->o.path_delay_ms * MPQ_MS, 0);
		if (rv < 0)
			return rv;
	}
	rv = mpq_loop_timer_set(c->loop, &c->pathact_timer,
				tool_pathact_run(&c->o.pa, &c->pathact, conn, mpq_loop_now(),
						 c->o.t.verbose),
				0);
	if (rv < 0)
		return rv;
	if (c->o.replace_ms) {
		rv = mpq_loop_timer_set(c->loop, &c->replace_timer,
					mpq_loop_now() + c->o.replace_ms * MPQ_MS,
					c->o.replace_ms * MPQ_MS);
		if (rv < 0)
			return rv;
	}
	/* Requests (and output files) wait for the handshake, so that a failed
	 * connection leaves no empty files behind. The hq client's own hook,
	 * called next, sends them. With -d the others follow on a timer. */
	if (!c->o.delay_ms || c->nfetches == 1)
		return issue(c, c->nfetches);
	rv = issue(c, 1);
	if (rv == 0)
		rv = mpq_loop_timer_set(c->loop, &c->delay_timer,
					mpq_loop_now() + c->o.delay_ms * MPQ_MS, 0);
	return rv;
}

static void on_request_done(mpq_hq_request *req, void *ud)
{
	struct client *c = ud;

	/* A whole body goes into place; anything else leaves the file as it
	 * was. (The hq client logs the request's end itself.) */
	for (size_t i = 0; i < c->issued; i++) {
		struct fetch *f = &c->fetches[i];

		if (f->req != req)
			continue;
		if (mpq_hq_request_status(req) == MPQ_HQ_OK)
			output_commit(&f->out);
		else
			output_abandon(&f->out);
	}
}

/* ---- Datagrams ---- */

static int on_dgram(void *ud, mpq_dgram *d)
{
	struct cpath *p = ud;
	struct client *c = p->c;
	mpq_path path = {.local = d->local,
			 .remote = d->remote,
			 .ifindex = d->ifindex,
			 .user_data = &p->sock};
	mpq_pkt_info pi;
	int rv;

	if (!mpq_addr_equal(&d->remote, &p->remote))
		return 0; /* not from this path's server address */
	if (!p->seen_local.len) {
		p->seen_local = d->local;
		p->seen_ifindex = d->ifindex;
	}
	pi = tool_rx_info(d);
	rv = mpq_conn_read_pkt(c->conn, &path, &pi, d->data, d->len, mpq_loop_now());
	if (rv < 0)
		describe_conn_error(c, rv);
	return 0;
}

int on_readable(mpq_loop *loop, int fd, unsigned int events, void *ud)
{
	struct cpath *p = ud;
	struct client *c = p->c;
	int rv;

	if (events & MPQ_LOOP_ERROR)
		drain_errqueue(p);
	if (events & MPQ_LOOP_WRITE) {
		rv = tool_tx_flush(&p->sock);
		if (rv < 0)
			return rv;
	}
	if (events & MPQ_LOOP_READ) {
		rv = tool_rx_drain(&p->sock, on_dgram, p, RX_ROUNDS);
		if (rv < 0 && is_icmp_errno(p->sock.io->err.errnum)) {
			drain_errqueue(p);
			on_icmp_error(c, p, p->sock.io->err.errnum);
		} else if (rv < 0) {
			char text[160];

			tool_oserr_text(text, sizeof(text), rv, &p->sock.io->err);
			fail(c, rv, "receive failed on %s: %s", p->sock.name, text);
		}
	}
	return after_event(c);
}

static int on_conn_timer(mpq_loop *loop, mpq_loop_timer *t, void *ud)
{
	struct client *c = ud;
	int rv = mpq_conn_handle_expiry(c->conn, mpq_loop_now());

	if (rv < 0)
		describe_conn_error(c, rv);
	return after_event(c);
}

static void show_progress(struct client *c, uint64_t now)
{
	uint64_t bytes = 0;
	size_t done = 0;

	if (!tool_progress_due(&c->progress, now))
		return;
	for (size_t i = 0; i < c->issued; i++) {
		const mpq_hq_request *req = c->fetches[i].req;

		if (!req)
			continue;
		bytes += mpq_hq_request_bytes(req);
		done += mpq_hq_request_status(req) >= MPQ_HQ_OK;
	}
	tool_progress_update(&c->progress, now, bytes, done, c->nfetches);
}

/* Hands |p|'s queue to the kernel and watches for writability while it is
 * blocked. Returns 0 or a fatal MPQ_ERR_*. */
static int flush_path(struct client *c, struct cpath *p)
{
	struct tool_sock *s = &p->sock;
	int rv = tool_tx_flush(s);

	if (rv < 0)
		return rv;
	if (s->tx_errnum && is_icmp_errno(s->tx_errnum))
		on_icmp_error(c, p, s->tx_errnum);
	s->tx_errnum = 0;
	if (s->tx_blocked == p->write_watched)
		return 0;
	p->write_watched = s->tx_blocked;
	return mpq_loop_mod_fd(c->loop, mpq_pathio_fd(s->io),
			       MPQ_LOOP_READ | (s->tx_blocked ? MPQ_LOOP_WRITE : 0));
}

/* Reads what already waits in the paths' sockets, so that every packet that
 * reached the client before its close is in its counters (a busy client
 * finished on one path with the other's packets still queued: a capture saw
 * them, --json did not). A receive may stop short of an empty socket, hence
 * the loop; bounded, as a server may keep sending. */
static void read_pending(struct client *c)
{
	for (size_t i = 0; i < c->npaths; i++) {
		struct tool_sock *s = &c->paths[i].sock;
		uint64_t before;
		int rounds = 0;

		if (!c->paths[i].watched)
			continue;
		do {
			before = s->dgrams_received;
			if (tool_rx_drain(s, on_dgram, &c->paths[i], RX_ROUNDS) < 0)
				break;
		} while (s->dgrams_received != before && ++rounds < 64);
	}
}

/* After every event: open paths, send, close when done, re-arm the timer. */
static int after_event(struct client *c)
{
	uint64_t now = mpq_loop_now();
	int rv;

	if (!c->closing && !c->conn_err && all_done(c)) {
		c->end = now;
		read_pending(c);
		mpq_conn_close(c->conn, mpq_hq_close_code(c->conn), "", now);
		c->closing = true;
	}
	open_paths(c);
	rv = tool_conn_send(&c->paths[0].sock, c->conn, now);
	if (rv < 0 && rv != MPQ_ERR_CLOSING && rv != MPQ_ERR_DRAINING)
		return rv;
	if (rv < 0)
		describe_conn_error(c, rv);
	for (size_t i = 0; i < c->npaths; i++) {
		rv = flush_path(c, &c->paths[i]);
		if (rv < 0)
			return rv;
	}
	if (c->closing || c->conn_err) {
		/* The close (ours or the peer's) is out: no need to linger. */
		c->ended = true;
		mpq_loop_stop(c->loop);
		return 0;
	}
	show_progress(c, now);
	return mpq_loop_timer_set(c->loop, &c->conn_timer, mpq_conn_get_expiry(c->conn), 0);
}

/* ---- Setting up ---- */

/* A SHA-256 fingerprint as hex digits, in pairs that colons may separate
 * (the server prints 01:B3:...:94). Returns 0, or -1 when it is not one. */
static int parse_fingerprint(const char *s, uint8_t out[32])
{
	size_t n = 0;
	while (*s && n < 32) {
		unsigned int byte;
		int used = 0;
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) ||
		    sscanf(s, "%2x%n", &byte, &used) != 1 || used != 2)
			return -1;
		out[n++] = (uint8_t)byte;
		s += 2;
		if (*s == ':' && n < 32)
			s++;
	}
	return n == 32 && !*s ? 0 : -1;
}

static int make_tls(struct client *c)
{
	uint8_t pin[32];
	mpq_tls_config cfg = {.struct_version = MPQ_TLS_CONFIG_VERSION,
			      .is_server = false,
			      .alpn = c->o.alpn ? c->o.alpn : MPQ_HQ_ALPN,
			      .ca_file = c->o.ca,
			      .insecure = c->o.insecure};
	char why[256] = "";
	int err = 0;

	if (c->o.pin_sha256) {
		if (c->o.insecure || c->o.ca) {
			tool_err("--pin-sha256 names the one certificate to accept: it does not "
				 "go "
				 "with %s",
				 c->o.insecure ? "-k/--insecure" : "--ca");
			return TOOL_EXIT_USAGE;
		}
		if (parse_fingerprint(c->o.pin_sha256, pin) != 0) {
			tool_err("--pin-sha256 %s: not a SHA-256 fingerprint (64 hex digits, "
				 "colons optional)",
				 c->o.pin_sha256);
			return TOOL_EXIT_USAGE;
		}
		cfg.pin_sha256 = pin;
	}

	if (c->o.insecure)
		tool_err("WARNING: --insecure: the server's certificate is NOT verified; "
			 "anyone on the path can pose as the server");
	c->tls = mpq_tls_context_new(&cfg, &err, why, sizeof(why));
	if (!c->tls) {
		if (c->o.ca && err == MPQ_ERR_INVALID_ARGUMENT) {
			tool_err("--ca %s: %s", c->o.ca, why[0] ? why : mpq_strerror(err));
			return TOOL_EXIT_USAGE;
		}
		tool_err("cannot set up TLS: %s", why[0] ? why : mpq_strerror(err));
		return TOOL_EXIT_FAIL;
	}
	return 0;
}

static uint64_t hq_now(void *user_data)
{
	(void)user_data;
	return mpq_loop_now();
}

static void on_path_event(mpq_conn *conn, const struct tool_path_event *ev, void *tool)
{
	struct client *c = tool;

	if (c->nevents < MAX_PATH_EVENTS)
		c->events[c->nevents] = (struct path_event_rec){mpq_loop_now() - c->start, *ev};
	c->nevents++;
}

/* The largest datagram path 0 sends: what its socket's interface allows, or
 * for a socket on the wildcard, the interface the route to the server
 * leaves by. */
static uint32_t path0_max_payload(const struct client *c)
{
	const struct tool_sock *s0 = &c->paths[0].sock;
	mpq_addr src;
	uint32_t max;

	if (mpq_addr_is_any(&s0->io->local) && tool_route_source(&c->paths[0].remote, &src) == 0) {
		max = mpq_if_max_udp_payload(&src, 0);
		if (max)
			return max;
	}
	return (uint32_t)tool_sock_max_payload(s0);
}

static int make_conn(struct client *c)
{
	mpq_hq_client_config hcfg = {.struct_version = MPQ_HQ_CLIENT_CONFIG_VERSION,
				     .now = hq_now,
				     .request_done = on_request_done,
				     .user_data = c,
				     .log = tool_log,
				     .log_user_data = &c->o.t.verbose};
	struct tool_sock *s0 = &c->paths[0].sock;
	mpq_path path = {.local = s0->io->local,
			 .remote = c->paths[0].remote,
			 .ifindex = s0->io->ifindex,
			 .user_data = s0};
	mpq_settings settings;
	mpq_tparams tparams;
	mpq_callbacks cb = {.struct_version = MPQ_CALLBACKS_VERSION};
	int rv;

	rv = mpq_hq_client_new(&c->hq, &hcfg);
	if (rv < 0) {
		tool_err("cannot start the hq client: %s", mpq_strerror(rv));
		return TOOL_EXIT_FAIL;
	}
	mpq_settings_default(&settings);
	mpq_tparams_default(&tparams);
	tool_transport_apply(&c->o.t, false, path0_max_payload(c), &settings, &tparams);
	/* A client always listens to announced addresses (docs/add_address.md). */
	settings.add_address = settings.multipath;
	settings.server_name = c->fetches[0].url.host;
	if (c->o.quic_version && strcmp(c->o.quic_version, "2") == 0)
		settings.version = MPQ_VERSION_2;
	/* HTTP/3's :authority: the URL's host and port. */
	const struct tool_url *u = &c->fetches[0].url;
	char authority[TOOL_URL_HOSTLEN + 16];
	snprintf(authority, sizeof(authority), strchr(u->host, ':') ? "[%s]:%u" : "%s:%u", u->host,
		 (unsigned)u->port);
	mpq_hq_client_set_authority(c->hq, authority);
	mpq_hq_client_callbacks(&cb, c->hq);
	c->cbw.keylog = &c->o.t.keylog;
	c->cbw.handshake_completed = on_handshake;
	c->cbw.address_added = on_address;
	c->cbw.path_event = on_path_event;
	c->cbw.verbose = &c->o.t.verbose;
	c->cbw.tool = c;
	tool_callbacks_wrap(&cb, &c->cbw);

	c->start = mpq_loop_now();
	rv = mpq_conn_client_new(&c->conn, &path, &settings, &tparams, &cb, c->tls, c->start);
	if (rv < 0) {
		tool_err("cannot connect to %s: %s", c->server, mpq_strerror(rv));
		return TOOL_EXIT_CONN;
	}
	if (c->o.t.qlog_dir) {
		rv = mpq_conn_set_qlog_dir(c->conn, c->o.t.qlog_dir, false);
		if (rv < 0)
			tool_warn("no qlog in %s: %s", c->o.t.qlog_dir, mpq_strerror(rv));
	}
	return 0;
}

static int make_loop(struct client *c)
{
	int rv = tool_loop_new(&c->loop);

	if (rv != 0)
		return rv;
	mpq_loop_timer_init(&c->conn_timer, on_conn_timer, c);
	mpq_loop_timer_init(&c->delay_timer, on_delay, c);
	mpq_loop_timer_init(&c->path_timer, on_path_timer, c);
	mpq_loop_timer_init(&c->pathact_timer, on_pathact_timer, c);
	mpq_loop_timer_init(&c->replace_timer, on_replace_timer, c);
	/* The sockets opened before the loop existed. */
	for (size_t i = 0; i < c->npaths; i++) {
		struct cpath *p = &c->paths[i];

		rv = mpq_loop_add_fd(c->loop, mpq_pathio_fd(p->sock.io), MPQ_LOOP_READ,
				     on_readable, p);
		if (rv < 0) {
			tool_err("cannot watch the socket of %s: %s", p->sock.name,
				 mpq_strerror(rv));
			return TOOL_EXIT_FAIL;
		}
		p->watched = true;
	}
	return 0;
}

/* ---- Running and reporting ---- */

static int run(struct client *c)
{
	int rv;

	rv = after_event(c);
	if (rv == 0 && !c->ended)
		rv = mpq_loop_run(c->loop);
	if (rv == 0 && !c->ended && mpq_loop_signal(c->loop)) {
		uint64_t now = mpq_loop_now();

		mpq_conn_close(c->conn, mpq_hq_close_code(c->conn), "interrupted", now);
		tool_conn_send(&c->paths[0].sock, c->conn, now);
		for (size_t i = 0; i < c->npaths; i++)
			tool_tx_flush(&c->paths[i].sock);
		fail(c, MPQ_ERR_CLOSING, "interrupted");
	}
	tool_progress_end(&c->progress);
	if (rv < 0) {
		const mpq_oserr *e = mpq_loop_oserr(c->loop);
		char text[160];

		tool_oserr_text(text, sizeof(text), rv, e->errnum ? e : &c->paths[0].sock.io->err);
		fail(c, rv, "%s", text);
	}
	if (!c->end)
		c->end = mpq_loop_now();
	mpq_conn_get_stats(c->conn, &c->stats);
	mpq_hq_client_conn_closed(c->hq, c->conn);
	return 0;
}

static void cleanup(struct client *c)
{
	for (size_t i = 0; i < c->npaths; i++)
		if (c->paths[i].watched)
			mpq_loop_del_fd(c->loop, mpq_pathio_fd(c->paths[i].sock.io));
	if (c->loop) {
		mpq_loop_timer_cancel(c->loop, &c->conn_timer);
		mpq_loop_timer_cancel(c->loop, &c->delay_timer);
		mpq_loop_timer_cancel(c->loop, &c->path_timer);
		mpq_loop_timer_cancel(c->loop, &c->pathact_timer);
		mpq_loop_timer_cancel(c->loop, &c->replace_timer);
	}
	mpq_conn_del(c->conn);
	mpq_hq_client_free(c->hq);
	mpq_tls_context_free(c->tls);
	for (size_t i = 0; i < c->npaths; i++) {
		if (c->o.t.verbose)
			tool_sock_print_counters(&c->paths[i].sock);
		tool_sock_close(&c->paths[i].sock); /* detaches its steering program */
	}
	tool_loop_del(c->loop);
	close_outputs(c);
	tool_transport_stop(&c->o.t);
	free(c->fetches);
}

static int client_main(struct client *c, int argc, char **argv)
{
	int first, rv;

	tool_transport_init(&c->o.t);
	rv = tool_parse(&client_command, &c->o, argc, argv, &first);
	if (rv != TOOL_PARSE_OK)
		return rv;
	c->o.tcp |= c->o.mptcp;
	rv = check_available(&c->o);
	if (rv == 0)
		rv = tool_pathact_check(&c->o.pa);
	if (rv == 0)
		rv = parse_urls(c, argc, argv, first);
	if (rv == 0)
		rv = plan_outputs(c);
	if (rv == 0)
		rv = tool_transport_start(&c->o.t);
	if (rv == 0)
		rv = tool_url_resolve(&c->fetches[0].url);
	if (rv != 0)
		return rv;
	for (size_t i = 1; i < c->nfetches; i++)
		c->fetches[i].url.addr = c->fetches[0].url.addr;
	mpq_addr_format(&c->fetches[0].url.addr, c->server, sizeof(c->server));
	if (c->o.tcp) {
		c->transport = c->o.mptcp ? "mptcp" : "tcp";
		c->start = mpq_loop_now();
		tool_progress_init(&c->progress, c->o.progress, c->start, expected_total(c));
		tcp_run(c);
		if (c->o.json)
			print_json(c);
		return verdict(c);
	}
	rv = plan_paths(c);
	if (rv == 0)
		rv = make_tls(c);
	if (rv == 0)
		rv = open_path_sockets(c);
	if (rv == 0)
		rv = make_loop(c);
	if (rv == 0)
		rv = make_conn(c);
	if (rv != 0)
		return rv;
	tool_progress_init(&c->progress, c->o.progress, c->start, expected_total(c));
	run(c);
	if (c->o.json)
		print_json(c);
	return verdict(c);
}

int main(int argc, char **argv)
{
	struct client c;
	int rv;

	memset(&c, 0, sizeof(c));
	rv = client_main(&c, argc, argv);
	cleanup(&c);
	return rv;
}
