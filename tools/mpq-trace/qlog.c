/*
 * mpq-trace qlog: one qlog per connection (vantage point network), named by
 * the ODCID, written by the library's qlog writer (mpq/dissect.h) (the endpoints' vocabulary:
 * main-schema / quic-events-13, JSON-SEQ). Client to server is packet_sent,
 * server to client packet_received (the network vantage point's client flow);
 * each path is bound to its addresses by a quic:tuple_assigned whose tuple ID
 * is the path ID, and every packet event carries path_id once multipath is
 * negotiated. Packets that could not be decrypted are quic:packet_dropped
 * with the reason. A connection that negotiated "h3" also gets its HTTP/3
 * frames (h3.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmds.h"
#include "common/opts.h"
#include "common/tool.h"
#include "input.h"
#include "mpq/io/qlog_file.h"
#include "qvis.h"

struct qlog_opts {
	const char *keylog;
	const char *out;
	const char *format;
	uint64_t port;
};

static const char *const formats[] = {"sqlog", "qvis", NULL};

#define O struct qlog_opts
static const struct tool_option qlog_options[] = {
	TRACE_INPUT_OPTIONS(O),
	{"out", NULL, 'o', "DIR", TOOL_O_STR(O, out),
	 .help = "directory for the qlog files (default: the current one);\n"
		 "one file ODCID.sqlog (ODCID.qlog with qvis) per connection"},
	{"format", NULL, 0, "F", TOOL_O_CHOICE(O, format, formats),
	 .help = "sqlog: JSON-SEQ, main schema / quic-events-13 (default);\n"
		 "qvis: the qlog 0.3 JSON form qvis loads"},
	TOOL_OPTION_HELP,
	TOOL_OPTION_END,
};
#undef O

static const struct tool_command qlog_command = {
	.usage = "qlog CAPTURE [--keylog FILE] [-o DIR] [--format sqlog|qvis] [--port N]",
	.summary = "Decrypt CAPTURE (pcap or pcapng, either compressed with zstd) and write one\n"
		   "qlog per connection (JSON-SEQ, vantage point network) named by its original\n"
		   "destination connection ID.",
	.options = qlog_options,
	.epilogue = "Exit status: 0 when the capture was read and every file written; 1 when a\n"
		    "file could not be written; 2 for a bad command line, an unreadable key\n"
		    "log, or a CAPTURE that is not a capture.",
};

/* The writer's state, one per connection (trace_conn.out). */
struct qconn {
	mpq_qlog *q;
	uint32_t abandoned; /* paths no packet showed whose abandonment is written */
};

struct qlog_run {
	const char *dir;
	bool qvis;
	struct qconn **qs;
	size_t n, cap;
	int failed; /* first error, reported once */
};

static void fail(struct qlog_run *r, const char *what, int err)
{
	if (!r->failed)
		tool_err("%s: %s", what, mpq_strerror(err));
	r->failed = err ? err : -1;
}

static void on_conn_new(void *user, struct trace_conn *c)
{
	struct qlog_run *r = user;
	char hex[2 * MPQ_MAX_CIDLEN + 1], path[4096];
	struct qconn *qc = calloc(1, sizeof(*qc));
	mpq_qlog_sink sink;
	int rv;

	if (qc && r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct qconn **n = realloc(r->qs, cap * sizeof(*n));

		if (n) {
			r->qs = n;
			r->cap = cap;
		}
	}
	if (!qc || r->n == r->cap) {
		free(qc);
		fail(r, "qlog", MPQ_ERR_NOMEM);
		return;
	}
	tool_hex(hex, c->odcid.data, c->odcid.len);
	snprintf(path, sizeof(path), "%s/%s.%s", r->dir, hex[0] ? hex : "empty",
		 r->qvis ? "qlog" : "sqlog");
	rv = mpq_qlog_sink_path(&sink, path, false);
	if (!rv && r->qvis) {
		mpq_qlog_sink file = sink;

		rv = trace_qvis_sink(&sink, &file);
	}
	if (!rv)
		rv = mpq_dissect_qlog_open(&qc->q, &sink, &c->odcid, "mpq-trace", c->first_ts);
	if (rv) {
		free(qc);
		fail(r, path, rv);
		return;
	}
	c->out = qc;
	r->qs[r->n++] = qc;
}

static const char *drop_trigger(int drop)
{
	switch (drop) {
	case DROP_UNKNOWN_CONNECTION:
		return "connection_unknown";
	case DROP_KEYS_MISSING:
		return "key_unavailable";
	case DROP_DECRYPTION_FAILED:
		return "decryption_failure";
	}
	return "invalid";
}

/* quic:tuple_assigned for a path seen for the first time: local is the
 * client (the flow of the network vantage point). */
static int tuple(struct qconn *qc, const struct trace_pkt *p, struct trace_path *path)
{
	if (path->qlog_tuple)
		return 0;
	path->qlog_tuple = true;
	int rv = mpq_dissect_qlog_path(qc->q, p->ts, p->path_id,
				       (const struct sockaddr *)&path->client.ss,
				       (const struct sockaddr *)&path->server.ss);

	/* An address qlog cannot write (not IP) leaves the tuple out. */
	return rv == MPQ_ERR_INVALID_ARGUMENT ? 0 : rv;
}

/* The first PATH_ABANDON naming a path ends its tuple: a tuple_assigned
 * with no endpoints, at the time the frame was seen (summary's abandoned). */
static int abandoned(struct qconn *qc, const struct trace_pkt *p)
{
	int rv = 0;

	for (size_t i = 0; i < p->nframes && !rv; i++) {
		uint64_t id = p->frames[i].path_abandon.path_id;
		struct trace_path *path;

		if (p->frames[i].type != MPQ_FT_PATH_ABANDON)
			continue;
		path = trace_path_find(p->conn, id);
		if (path) {
			if (path->qlog_abandoned)
				continue;
			path->qlog_abandoned = true;
		} else {
			if (id >= 32 || (qc->abandoned & 1u << id))
				continue;
			qc->abandoned |= 1u << id;
		}
		rv = mpq_dissect_qlog_path(qc->q, p->ts, (uint32_t)id, NULL, NULL);
	}
	return rv;
}

static void on_packet(void *user, const struct trace_pkt *p)
{
	struct qlog_run *r = user;
	struct qconn *qc = p->conn ? p->conn->out : NULL;
	const struct trace_conn *c = p->conn;
	int64_t path_id;
	int rv;

	if (!qc || r->failed)
		return; /* packets of no known connection have no file */
	path_id = c->tls.client_multipath && c->tls.server_multipath ? (int64_t)p->path_id : -1;
	if (!p->payload) {
		if (p->drop >= 0)
			rv = mpq_dissect_qlog_dropped(qc->q, p->ts, p->hd, path_id,
						      drop_trigger(p->drop));
		else
			rv = mpq_dissect_qlog_packet(qc->q, p->ts, p->dir, p->hd, path_id, NULL,
						     0);
	} else {
		struct trace_path *path = trace_path_find(c, p->path_id);

		rv = path ? tuple(qc, p, path) : 0;
		if (!rv)
			rv = mpq_dissect_qlog_packet(qc->q, p->ts, p->dir, p->hd, path_id,
						     p->frames, p->nframes);
		if (!rv)
			rv = abandoned(qc, p);
		if (!rv)
			rv = trace_h3_packet(p->conn, p, qc->q);
	}
	if (rv)
		fail(r, "qlog", rv);
}

int trace_cmd_qlog(int argc, char **argv)
{
	struct qlog_opts o = {0};
	struct trace_input in = {0};
	struct qlog_run r = {0};
	struct trace t = {0};
	struct stat sb;
	int first, rv;

	rv = tool_parse(&qlog_command, &o, argc, argv, &first);
	if (rv != TOOL_PARSE_OK)
		return rv;
	if (trace_input_args(&in, &t, "qlog", argc, argv, first, o.keylog, o.port))
		return TOOL_EXIT_USAGE;
	r.dir = o.out ? o.out : ".";
	r.qvis = o.format && !strcmp(o.format, "qvis");
	if (stat(r.dir, &sb) || !S_ISDIR(sb.st_mode)) {
		tool_err("-o %s: %s", r.dir, errno ? strerror(errno) : "not a directory");
		return TOOL_EXIT_USAGE;
	}
	t.on_conn_new = on_conn_new;
	t.on_packet = on_packet;
	t.user = &r;
	rv = trace_input_run(&in, &t);
	for (size_t i = 0; i < r.n; i++) {
		int crv = mpq_dissect_qlog_close(r.qs[i]->q);

		if (crv && !r.failed)
			fail(&r, "qlog", crv);
		free(r.qs[i]);
	}
	free(r.qs);
	if (rv == TOOL_EXIT_OK) {
		fprintf(stderr,
			"%zu connection(s), %llu of %llu QUIC packets decrypted, qlog in %s\n",
			r.n, (unsigned long long)t.decrypted, (unsigned long long)t.packets,
			r.dir);
		if (r.failed)
			rv = TOOL_EXIT_FAIL;
	}
	trace_free(&t);
	return rv;
}
