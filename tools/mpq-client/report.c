/* mpq-client's reports: the JSON summary, result and error lines, the exit
 * status (CLI.md). See client.h. */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "common/jsonout.h"
#include "common/localaddr.h"
#include "common/tool.h"

/* CLI.md's name for a path's state; a connection that failed takes its
 * live paths with it. */
static const char *path_state(const struct client *c, const mpq_path_stats *st)
{
	bool conn_failed = c->conn_err && !c->closing;

	switch (st->state) {
	case MPQ_PATH_STATE_VALIDATING:
		return conn_failed ? "failed" : "validating";
	case MPQ_PATH_STATE_ACTIVE:
		return conn_failed ? "failed" : st->backup ? "backup" : "active";
	case MPQ_PATH_STATE_ABANDONED:
		return "abandoned";
	default:
		return "failed";
	}
}

/* What a fetch brought: from its hq request (QUIC) or its --tcp result. */
static bool fetch_issued(const struct fetch *f)
{
	return f->req || f->tcp.status != MPQ_HQ_WAITING;
}

static enum mpq_hq_status fetch_status(const struct fetch *f)
{
	return f->req ? mpq_hq_request_status(f->req) : f->tcp.status;
}

static uint64_t fetch_bytes(const struct fetch *f)
{
	return f->req ? mpq_hq_request_bytes(f->req) : f->tcp.bytes;
}

static uint64_t fetch_code(const struct fetch *f)
{
	return f->req ? mpq_hq_request_code(f->req) : f->tcp.code;
}

/* The HTTP status of the response (HTTP/3 or --tcp), 0 for hq. */
static unsigned fetch_http_status(const struct fetch *f)
{
	return f->req ? mpq_hq_request_http_status(f->req) : (unsigned)f->tcp.http_status;
}

static int fetch_errno(const struct fetch *f)
{
	return f->req ? mpq_hq_request_errno(f->req) : f->tcp.errnum;
}

static const char *fetch_sha256(const struct fetch *f)
{
	if (f->req)
		return mpq_hq_request_sha256(f->req);
	return f->tcp.sha256[0] ? f->tcp.sha256 : NULL;
}

static void fetch_times(const struct fetch *f, uint64_t *sent, uint64_t *first, uint64_t *last)
{
	if (f->req) {
		mpq_hq_request_times(f->req, sent, first, last);
		return;
	}
	*sent = f->tcp.sent;
	*first = f->tcp.first;
	*last = f->tcp.last;
}

/* The fields every entry of "paths" has (CLI.md): a QUIC path or a TCP
 * subflow. */
struct path_fields {
	uint64_t path_id;
	const char *iface; /* "": null */
	const char *local, *remote, *state;
	uint64_t bytes_sent, bytes_received;
	uint64_t packets_sent, packets_received, packets_lost;
	uint64_t srtt_ns; /* 0: no RTT sample yet (null) */
	uint64_t cwnd;
};

static void json_path_fields(struct tool_json *j, const struct path_fields *f)
{
	const struct {
		const char *key;
		uint64_t v;
	} counters[] = {
		{"bytes_sent", f->bytes_sent},	   {"bytes_received", f->bytes_received},
		{"packets_sent", f->packets_sent}, {"packets_received", f->packets_received},
		{"packets_lost", f->packets_lost},
	};

	tool_json_kv_u64(j, "path_id", f->path_id);
	tool_json_kv_str(j, "iface", f->iface[0] ? f->iface : NULL);
	tool_json_kv_str(j, "local", f->local);
	tool_json_kv_str(j, "remote", f->remote);
	tool_json_kv_str(j, "state", f->state);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		tool_json_kv_u64(j, counters[i].key, counters[i].v);
	tool_json_key(j, "srtt_ms");
	if (f->srtt_ns)
		tool_json_num(j, (double)f->srtt_ns / 1e6, 3);
	else
		tool_json_null(j);
	tool_json_kv_u64(j, "cwnd", f->cwnd);
}

static void json_path(struct client *c, struct tool_json *j, const mpq_path_stats *st)
{
	char local[MPQ_ADDR_STRLEN] = "", remote[MPQ_ADDR_STRLEN] = "", ifname[IF_NAMESIZE] = "";
	const struct cpath *p = path_of(c, st->tuple.user_data);
	mpq_addr l = st->tuple.local;
	char why[128];
	const char *never = path_never_validated(c, p, st, why, sizeof(why));

	/* A socket on the wildcard: the address the server's datagrams came to. */
	if (p && mpq_addr_is_any(&l) && p->seen_local.len) {
		l = p->seen_local;
		mpq_addr_set_port(&l, mpq_addr_port(&p->sock.io->local));
	}
	mpq_addr_format(&l, local, sizeof(local));
	mpq_addr_format(&st->tuple.remote, remote, sizeof(remote));
	if (p && p->ifname)
		snprintf(ifname, sizeof(ifname), "%s", p->ifname);
	else if (p && p->seen_ifindex)
		if_indextoname(p->seen_ifindex, ifname);

	tool_json_obj_begin(j);
	json_path_fields(j, &(struct path_fields){
				    .path_id = st->path_id,
				    .iface = ifname,
				    .local = local,
				    .remote = remote,
				    .state = never ? "failed" : path_state(c, st),
				    .bytes_sent = st->bytes_sent,
				    .bytes_received = st->bytes_received,
				    .packets_sent = st->packets_sent,
				    .packets_received = st->packets_received,
				    .packets_lost = st->packets_lost,
				    .srtt_ns = st->srtt,
				    .cwnd = st->cwnd,
			    });
	if (never)
		tool_json_kv_str(j, "error", never);
	tool_json_kv_u64(j, "max_udp_payload", st->max_udp_payload);
	tool_json_kv_u64(j, "largest_sent", st->largest_dgram_sent);
	tool_json_kv_u64(j, "largest_received", st->largest_pkt_received);
	tool_json_obj_end(j);
}

/* --tcp: the connection, or MPTCP subflow |i|, as TCP_INFO saw it. */
static void json_tcp_path(struct tool_json *j, const struct tcp_path *p, size_t i)
{
	char local[MPQ_ADDR_STRLEN] = "", remote[MPQ_ADDR_STRLEN] = "", ifname[IF_NAMESIZE] = "";

	mpq_addr_format(&p->local, local, sizeof(local));
	mpq_addr_format(&p->remote, remote, sizeof(remote));
	if (!p->local.len || tool_addr_iface(&p->local, ifname, sizeof(ifname)) < 0)
		ifname[0] = '\0';
	tool_json_obj_begin(j);
	json_path_fields(j, &(struct path_fields){
				    .path_id = i,
				    .iface = ifname,
				    .local = local,
				    .remote = remote,
				    .state = "active",
				    .bytes_sent = p->bytes_sent,
				    .bytes_received = p->bytes_received,
				    .packets_sent = p->segs_out,
				    .packets_received = p->segs_in,
				    .packets_lost = p->lost,
				    .srtt_ns = p->rtt_us * 1000,
				    .cwnd = p->cwnd,
			    });
	tool_json_kv_u64(j, "retransmits", p->retrans);
	tool_json_obj_end(j);
}

static void json_url(struct tool_json *j, const struct fetch *f)
{
	enum mpq_hq_status st = fetch_status(f);
	const char *sha = fetch_sha256(f);
	uint64_t sent = 0, first = 0, last = 0;
	int errnum;

	fetch_times(f, &sent, &first, &last);
	tool_json_obj_begin(j);
	tool_json_kv_str(j, "url", f->url.text);
	tool_json_key(j, "status");
	/* A request never sent ended with the connection: incomplete. */
	tool_json_str(j, mpq_hq_status_name(st < MPQ_HQ_OK ? MPQ_HQ_INCOMPLETE : st));
	tool_json_kv_u64(j, "bytes", fetch_bytes(f));
	tool_json_key(j, "sha256");
	if (sha)
		tool_json_str(j, sha);
	else
		tool_json_null(j);
	tool_json_key(j, "seconds");
	tool_json_num(j, sent && last > sent ? (double)(last - sent) / 1e9 : 0, 3);
	if (st == MPQ_HQ_RESET)
		tool_json_kv_u64(j, "code", fetch_code(f));
	if (fetch_http_status(f))
		tool_json_kv_u64(j, "http_status", fetch_http_status(f));
	errnum = f->out.errnum ? f->out.errnum : fetch_errno(f);
	if (errnum)
		tool_json_kv_str(j, "error", strerror(errnum));
	if (f->out.kind == OUTPUT_FILE || f->out.kind == OUTPUT_DIRECT)
		tool_json_kv_str(j, "file", f->out.path);
	tool_json_obj_end(j);
}

/* {"ms": 12.5, "path_id": 1, "event": "validated", "local": ..., "remote": ...};
 * backup, available, abandoned add "by": "us" | "peer", abandoned "error",
 * failed "reason". */
static void json_path_event(struct tool_json *j, const struct path_event_rec *r)
{
	const struct tool_path_event *ev = &r->ev;

	tool_json_obj_begin(j);
	tool_json_key(j, "ms");
	tool_json_num(j, (double)r->at / 1e6, 3);
	tool_json_kv_u64(j, "path_id", ev->path_id);
	tool_json_kv_str(j, "event", ev->what);
	if (ev->local[0]) {
		tool_json_kv_str(j, "local", ev->local);
		tool_json_kv_str(j, "remote", ev->peer);
	} else if (ev->reason) {
		tool_json_kv_str(j, "reason", ev->reason);
	} else {
		tool_json_kv_str(j, "by", ev->remote ? "peer" : "us");
	}
	if (!strcmp(ev->what, "abandoned"))
		tool_json_kv_u64(j, "error", ev->error);
	tool_json_obj_end(j);
}

void print_json(struct client *c)
{
	struct tool_json j;
	uint64_t total = 0;
	double secs = (double)(c->end - c->start) / 1e9;

	for (size_t i = 0; i < c->nfetches; i++)
		total += fetch_bytes(&c->fetches[i]);
	tool_json_init(&j, stdout);
	tool_json_obj_begin(&j);
	tool_json_key(&j, "alpn");
	if (c->alpn[0] || !c->o.tcp)
		tool_json_str(&j, c->alpn[0] ? c->alpn : c->o.alpn ? c->o.alpn : MPQ_HQ_ALPN);
	else
		tool_json_null(&j); /* TLS over TCP without ALPN */
	tool_json_key(&j, "multipath");
	tool_json_bool(&j, c->o.tcp ? tcp_multipath(c) : mpq_conn_is_multipath(c->conn));
	if (c->o.tcp)
		tool_json_kv_str(&j, "transport", c->transport);
	tool_json_key(&j, "handshake_ms");
	if (c->stats.handshake_time)
		tool_json_num(&j, (double)c->stats.handshake_time / 1e6, 3);
	else
		tool_json_null(&j);
	tool_json_key(&j, "seconds");
	tool_json_num(&j, secs, 3);
	tool_json_kv_u64(&j, "bytes_total", total);
	tool_json_key(&j, "goodput_mbps");
	tool_json_num(&j, secs > 0 ? (double)total * 8 / secs / 1e6 : 0, 3);
	if (c->conn_err && !c->closing)
		tool_json_kv_str(&j, "error", c->reason);
	tool_json_key(&j, "urls");
	tool_json_arr_begin(&j);
	for (size_t i = 0; i < c->nfetches; i++)
		json_url(&j, &c->fetches[i]);
	tool_json_arr_end(&j);
	tool_json_key(&j, "paths");
	tool_json_arr_begin(&j);
	for (size_t i = 0; c->o.tcp && i < c->ntcp_paths; i++)
		json_tcp_path(&j, &c->tcp_paths[i], i);
	for (size_t i = 0; c->conn && i < mpq_conn_path_count(c->conn); i++) {
		mpq_path_stats st;

		/* Path IDs are used in order, but a slot may never have been. */
		if (mpq_conn_get_path_stats(c->conn, i, &st) == 0 && st.state)
			json_path(c, &j, &st);
	}
	tool_json_arr_end(&j);
	tool_json_key(&j, "path_events");
	tool_json_arr_begin(&j);
	for (size_t i = 0; i < c->nevents && i < MAX_PATH_EVENTS; i++)
		json_path_event(&j, &c->events[i]);
	tool_json_arr_end(&j);
	tool_json_obj_end(&j);
	fflush(stdout);
}

static bool fetch_ok(const struct fetch *f)
{
	return fetch_status(f) == MPQ_HQ_OK && !f->out.errnum;
}

/* One line per URL that did not arrive whole, saying what became of its
 * file. With |conn_failed| only those whose output was opened (the
 * connection's own line said the rest). */
static void report_failed_urls(const struct client *c, bool conn_failed)
{
	for (size_t i = 0; i < c->nfetches; i++) {
		const struct fetch *f = &c->fetches[i];
		enum mpq_hq_status st = fetch_status(f);
		uint64_t bytes = fetch_bytes(f);
		int errnum = fetch_errno(f);
		char note[sizeof(f->out.path) + 64], why[128];

		if (fetch_ok(f) ||
		    (conn_failed && (!fetch_issued(f) || f->out.kind == OUTPUT_NONE)))
			continue;
		output_note(&f->out, bytes, note, sizeof(note));
		if (f->out.errnum && !fetch_issued(f)) {
			tool_err("%s: cannot create %s: %s", f->url.text, f->out.path,
				 strerror(f->out.errnum));
			continue;
		}
		if (f->out.errnum)
			snprintf(why, sizeof(why), "cannot save it: %s", strerror(f->out.errnum));
		else if (st == MPQ_HQ_RESET && fetch_http_status(f))
			snprintf(why, sizeof(why), "http status %u", fetch_http_status(f));
		else if (st == MPQ_HQ_RESET)
			snprintf(why, sizeof(why), "%s (stream reset with code 0x%llx)",
				 mpq_hq_code_name(fetch_code(f)),
				 (unsigned long long)fetch_code(f));
		else if (errnum)
			snprintf(why, sizeof(why), "cannot write it: %s", strerror(errnum));
		else
			snprintf(why, sizeof(why), "incomplete");
		tool_err("%s: %s%s%s", f->url.text, why, note[0] ? "; " : "", note);
	}
}

/* "over 2 paths (61 % + 39 %)": the paths that brought data, and their shares. */
static void paths_text(const struct client *c, char *buf, size_t len)
{
	uint64_t got[MAX_PATHS] = {0}, total = 0;
	size_t n = 0, off;

	for (size_t i = 0; c->conn && i < mpq_conn_path_count(c->conn) && n < MAX_PATHS; i++) {
		mpq_path_stats st;

		if (mpq_conn_get_path_stats(c->conn, i, &st) == 0 && st.state &&
		    st.bytes_received) {
			got[n++] = st.bytes_received;
			total += st.bytes_received;
		}
	}
	for (size_t i = 0; c->o.tcp && i < c->ntcp_paths && n < MAX_PATHS; i++) {
		if (c->tcp_paths[i].bytes_received) {
			got[n++] = c->tcp_paths[i].bytes_received;
			total += c->tcp_paths[i].bytes_received;
		}
	}
	off = (size_t)snprintf(buf, len, "over %zu path%s", n, n == 1 ? "" : "s");
	for (size_t i = 0; n > 1 && i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u %%%s", i ? " + " : " (",
					(unsigned int)(got[i] * 100 / total),
					i + 1 == n ? ")" : "");
}

/* A warning for each path that never validated (a link down, an address
 * that never answers), which --json calls failed. */
static void report_unvalidated_paths(struct client *c)
{
	for (size_t i = 0; c->conn && i < mpq_conn_path_count(c->conn); i++) {
		char text[256], why[128];
		const struct cpath *p;
		mpq_path_stats st;

		if (mpq_conn_get_path_stats(c->conn, i, &st) < 0 || !st.state)
			continue;
		p = path_of(c, st.tuple.user_data);
		if (!path_never_validated(c, p, &st, why, sizeof(why)))
			continue;
		path_text(p, text, sizeof(text));
		tool_warn("path %u (%s) %s", st.path_id, text, why);
	}
}

/* One line per URL fetched whole: size, time, goodput, paths, where it went. */
static void report_results(const struct client *c)
{
	char paths[128];

	paths_text(c, paths, sizeof(paths));
	for (size_t i = 0; i < c->nfetches; i++) {
		const struct fetch *f = &c->fetches[i];
		uint64_t sent = 0, first = 0, last = 0, bytes;
		char size[32], where[sizeof(f->out.path) + 16];
		double secs;

		if (!fetch_ok(f))
			continue;
		bytes = fetch_bytes(f);
		fetch_times(f, &sent, &first, &last);
		secs = last > sent ? (double)(last - sent) / 1e9 : 0;
		tool_fmt_bytes(size, sizeof(size), bytes);
		if (f->out.kind == OUTPUT_NONE)
			snprintf(where, sizeof(where), "discarded");
		else if (f->out.kind == OUTPUT_FILE)
			snprintf(where, sizeof(where), "saved as %s", f->out.path);
		else
			snprintf(where, sizeof(where), "written to %s", f->out.path);
		tool_err("%s: %s in %.2f s, %.1f Mbit/s %s, %s", f->url.text, size, secs,
			 secs > 0 ? (double)bytes * 8 / secs / 1e6 : 0, paths, where);
	}
}

/* The exit status of CLI.md, with one line saying why when it is not 0
 * (and one per URL whose file was left as it was). */
int verdict(struct client *c)
{
	bool all_ok = true;

	for (size_t i = 0; i < c->nfetches; i++)
		all_ok = all_ok && fetch_ok(&c->fetches[i]);
	report_unvalidated_paths(c);
	if (!c->o.t.quiet)
		report_results(c);
	if (c->conn_err && !c->closing && !c->handshake_done) {
		tool_err("cannot connect to %s: %s", c->server, c->reason);
		return TOOL_EXIT_CONN;
	}
	if (c->conn_err && !c->closing && !all_ok) {
		bool interrupted = strcmp(c->reason, "interrupted") == 0;

		if (interrupted)
			tool_err("interrupted");
		else
			tool_err("connection to %s failed: %s", c->server, c->reason);
		report_failed_urls(c, true);
		return interrupted ? TOOL_EXIT_FAIL : TOOL_EXIT_CONN;
	}
	if (!all_ok) {
		report_failed_urls(c, false);
		return TOOL_EXIT_FAIL;
	}
	return TOOL_EXIT_OK;
}
