/*
 * mpq-trace summary: what a capture holds, per connection and per path, as
 * text or as the JSON object CLI.md fixes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "common/jsonout.h"
#include "common/opts.h"
#include "common/tool.h"
#include "input.h"
#include "plot.h"
#include "mpq/io/netaddr.h"

struct summary_opts {
	const char *keylog, *plot;
	bool json;
	uint64_t port;
};

#define O struct summary_opts
static const struct tool_option summary_options[] = {
	TRACE_INPUT_OPTIONS(O),
	{"json", NULL, 0, NULL, TOOL_O_TRUE(O, json), .help = "print one JSON object"},
	{"plot", NULL, 0, "DIR", TOOL_O_STR(O, plot),
	 .help = "write per-path throughput and RTT over time to DIR: data files,\n"
		 "gnuplot scripts and their SVG and PNG images (gnuplot)"},
	TOOL_OPTION_HELP,
	TOOL_OPTION_END,
};
#undef O

static const struct tool_command summary_command = {
	.usage = "summary CAPTURE [--keylog FILE] [--json] [--plot DIR]",
	.summary = "Decrypt CAPTURE (pcap or pcapng, either compressed with zstd) and report\n"
		   "per connection and per path: packets and UDP payload bytes each way, RTT\n"
		   "seen at the capture point, retransmitted bytes, goodput over time; and\n"
		   "how many packets could not be decrypted, and why.",
	.options = summary_options,
	.epilogue = "Exit status: 0 when the capture was read (undecryptable packets are\n"
		    "reported, not errors); 2 for a bad command line, an unreadable key log,\n"
		    "or a CAPTURE that is not a capture.",
};

static void cid_hex(char *out, const mpq_cid *cid)
{
	tool_hex(out, cid->data, cid->len);
}

/* RTT at the capture point: the two legs (to each peer and back) added. */
static bool path_rtt(const struct trace_path *p, double *ms)
{
	if (!p->has_rtt[TO_SERVER] && !p->has_rtt[TO_CLIENT])
		return false;
	*ms = (p->has_rtt[TO_SERVER] ? p->srtt_ms[TO_SERVER] : 0) +
	      (p->has_rtt[TO_CLIENT] ? p->srtt_ms[TO_CLIENT] : 0);
	return true;
}

/* Key updates seen: the highest 1-RTT key generation any path reached. */
static int key_updates(const struct trace_conn *c)
{
	int n = 0;

	for (size_t p = 0; p < c->npaths; p++)
		for (int dir = 0; dir < 2; dir++)
			if (c->paths[p]->gen[dir] > n)
				n = c->paths[p]->gen[dir];
	return n;
}

static bool multipath(const struct trace_conn *c)
{
	return c->tls.client_multipath && c->tls.server_multipath;
}

/* A path event as ms since the connection's first packet; null when not seen. */
static void json_event(struct tool_json *j, const char *key, uint64_t ts, uint64_t first)
{
	tool_json_key(j, key);
	if (ts)
		tool_json_num(j, (double)(ts - first) / 1e6, 3);
	else
		tool_json_null(j);
}

static void json_path(struct tool_json *j, uint32_t id, const struct trace_path *p, uint64_t first)
{
	char a[MPQ_ADDR_STRLEN];
	double rtt;

	tool_json_obj_begin(j);
	tool_json_kv_u64(j, "path_id", id);
	mpq_addr_format(&p->client, a, sizeof(a));
	tool_json_kv_str(j, "client", a);
	mpq_addr_format(&p->server, a, sizeof(a));
	tool_json_kv_str(j, "server", a);
	tool_json_kv_u64(j, "packets_to_server", p->packets[TO_SERVER]);
	tool_json_kv_u64(j, "packets_to_client", p->packets[TO_CLIENT]);
	tool_json_kv_u64(j, "bytes_to_server", p->bytes[TO_SERVER]);
	tool_json_kv_u64(j, "bytes_to_client", p->bytes[TO_CLIENT]);
	tool_json_key(j, "rtt_ms");
	if (path_rtt(p, &rtt))
		tool_json_num(j, rtt, 3);
	else
		tool_json_null(j);
	tool_json_kv_u64(j, "retransmitted_bytes", p->retransmitted_bytes);
	json_event(j, "opened_ms", p->opened_ts, first);
	json_event(j, "validated_ms", p->validated_ts, first);
	json_event(j, "backup_ms", p->backup_ts, first);
	json_event(j, "abandoned_ms", p->abandoned_ts, first);
	tool_json_obj_end(j);
}

static void json_conn(struct tool_json *j, const struct trace_conn *c)
{
	char hex[2 * MPQ_MAX_CIDLEN + 1], ver[16];

	tool_json_obj_begin(j);
	cid_hex(hex, &c->odcid);
	tool_json_kv_str(j, "odcid", hex);
	snprintf(ver, sizeof(ver), "0x%08x", c->version);
	tool_json_kv_str(j, "version", ver);
	tool_json_key(j, "alpn");
	if (c->tls.alpn[0])
		tool_json_str(j, c->tls.alpn);
	else
		tool_json_null(j);
	tool_json_key(j, "multipath");
	tool_json_bool(j, multipath(c));
	tool_json_kv_u64(j, "packets", c->packets);
	tool_json_kv_u64(j, "decrypted", c->decrypted);
	tool_json_kv_u64(j, "key_updates", (uint64_t)key_updates(c));
	tool_json_key(j, "paths");
	tool_json_arr_begin(j);
	for (size_t i = 0; i < c->npaths; i++)
		if (c->paths[i]->seen)
			json_path(j, c->paths[i]->id, c->paths[i], c->first_ts);
	tool_json_arr_end(j);
	tool_json_obj_end(j);
}

/* Frame counts by name (kinds sharing a name, such as ack and its ECN form
 * in some decoders, are added up). */
static void json_frames(struct tool_json *j, const struct trace *t)
{
	tool_json_obj_begin(j);
	for (int k = 0; k < TRACE_NFRAME_KINDS; k++) {
		const char *name = trace_frame_kind_name(k);
		uint64_t n = 0;
		bool before = false;

		if (!name)
			continue;
		for (int e = 0; e < k; e++)
			before |= trace_frame_kind_name(e) &&
				  !strcmp(trace_frame_kind_name(e), name);
		if (before)
			continue;
		for (int e = k; e < TRACE_NFRAME_KINDS; e++)
			if (trace_frame_kind_name(e) && !strcmp(trace_frame_kind_name(e), name))
				n += t->frames[e];
		if (n)
			tool_json_kv_u64(j, name, n);
	}
	tool_json_obj_end(j);
}

static void print_json(const struct trace *t)
{
	struct tool_json j;

	tool_json_init(&j, stdout);
	tool_json_obj_begin(&j);
	tool_json_kv_u64(&j, "packets", t->packets);
	tool_json_kv_u64(&j, "decrypted", t->decrypted);
	tool_json_kv_u64(&j, "undecryptable", t->packets - t->decrypted);
	tool_json_key(&j, "undecryptable_reasons");
	tool_json_obj_begin(&j);
	for (int r = 0; r < DROP_NREASONS; r++) {
		if (t->dropped[r])
			tool_json_kv_u64(&j, trace_drop_names[r], t->dropped[r]);
	}
	tool_json_obj_end(&j);
	tool_json_key(&j, "frames");
	json_frames(&j, t);
	tool_json_key(&j, "connections");
	tool_json_arr_begin(&j);
	for (size_t i = 0; i < t->nconns; i++)
		json_conn(&j, t->conns[i]);
	tool_json_arr_end(&j);
	tool_json_obj_end(&j);
	fputc('\n', stdout);
}

static void print_events(const struct trace_path *p, uint64_t first)
{
	const struct {
		const char *what;
		uint64_t ts;
	} ev[] = {{"opened", p->opened_ts},
		  {"validated", p->validated_ts},
		  {"backup", p->backup_ts},
		  {"abandoned", p->abandoned_ts}};

	const char *sep = "    ";

	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		if (ev[i].ts) {
			printf("%s%s at %.1f ms", sep, ev[i].what,
			       (double)(ev[i].ts - first) / 1e6);
			sep = ", ";
		}
	}
	printf("\n");
}

/* Goodput (series.c's COL_GOODPUT) over time on one line: per 100 ms bin,
 * or per 2^n bins so that at most 20 figures are printed. */
static void print_goodput(const struct trace_series *s)
{
	size_t per = 1; /* bins per figure */

	if (!s->used)
		return;
	while (s->used > 20 * per)
		per *= 2;
	printf("    goodput per %g s (Mbit/s):", (double)per * TRACE_BIN_NS / 1e9);
	for (size_t b = 0; b < s->used; b += per) {
		uint64_t n = 0;

		for (size_t i = b; i < b + per && i < s->used; i++)
			n += s->bins[i][COL_GOODPUT];
		printf(" %.1f", (double)n * 8 / ((double)per * TRACE_BIN_NS / 1e9) / 1e6);
	}
	printf("\n");
}

static void print_text(const struct trace *t, const struct trace_input *in)
{
	printf("%s: %s, %llu records, %llu UDP datagrams\n", in->capture,
	       in->st.format ? in->st.format : "?", (unsigned long long)in->st.records,
	       (unsigned long long)in->udp);
	printf("QUIC packets: %llu, decrypted %llu, undecryptable %llu",
	       (unsigned long long)t->packets, (unsigned long long)t->decrypted,
	       (unsigned long long)(t->packets - t->decrypted));
	for (int r = 0, first = 1; r < DROP_NREASONS; r++) {
		if (!t->dropped[r])
			continue;
		printf("%s%s %llu", first ? " (" : ", ", trace_drop_names[r],
		       (unsigned long long)t->dropped[r]);
		first = 0;
	}
	printf("%s\n", t->packets - t->decrypted ? ")" : "");
	for (size_t i = 0; i < t->nconns; i++) {
		const struct trace_conn *c = t->conns[i];
		char hex[2 * MPQ_MAX_CIDLEN + 1];

		cid_hex(hex, &c->odcid);
		printf("connection %s: version 0x%08x, alpn %s, multipath %s, %llu packets, "
		       "%llu decrypted, %d key updates\n",
		       hex, c->version, c->tls.alpn[0] ? c->tls.alpn : "?",
		       multipath(c) ? "yes" : "no", (unsigned long long)c->packets,
		       (unsigned long long)c->decrypted, key_updates(c));
		for (size_t p = 0; p < c->npaths; p++) {
			const struct trace_path *path = c->paths[p];
			char cl[MPQ_ADDR_STRLEN], sv[MPQ_ADDR_STRLEN], bs[32], bc[32],
				rtt[32] = "?";
			double ms;

			if (!path->seen)
				continue;
			mpq_addr_format(&path->client, cl, sizeof(cl));
			mpq_addr_format(&path->server, sv, sizeof(sv));
			tool_fmt_bytes(bs, sizeof(bs), path->bytes[TO_SERVER]);
			tool_fmt_bytes(bc, sizeof(bc), path->bytes[TO_CLIENT]);
			if (path_rtt(path, &ms))
				snprintf(rtt, sizeof(rtt), "%.1f ms", ms);
			printf("  path %u %s <-> %s: to server %llu packets %s, to client %llu "
			       "packets %s, rtt %s, retransmitted %llu B\n",
			       path->id, cl, sv, (unsigned long long)path->packets[TO_SERVER], bs,
			       (unsigned long long)path->packets[TO_CLIENT], bc, rtt,
			       (unsigned long long)path->retransmitted_bytes);
			print_events(path, c->first_ts);
			print_goodput(&path->series);
		}
	}
}

int trace_cmd_summary(int argc, char **argv)
{
	struct summary_opts o = {0};
	struct trace_input in = {0};
	struct trace t = {0};
	int first, rv;

	rv = tool_parse(&summary_command, &o, argc, argv, &first);
	if (rv != TOOL_PARSE_OK)
		return rv;
	rv = trace_input_args(&in, &t, "summary", argc, argv, first, o.keylog, o.port);
	t.series = true;
	if (!rv)
		rv = trace_input_run(&in, &t);
	if (rv == TOOL_EXIT_OK) {
		if (o.json)
			print_json(&t);
		else
			print_text(&t, &in);
		if (t.packets > t.decrypted)
			tool_warn("%llu of %llu QUIC packets could not be decrypted",
				  (unsigned long long)(t.packets - t.decrypted),
				  (unsigned long long)t.packets);
		if (t.dropped[DROP_PATH_LIMIT])
			tool_warn("%llu packets on path IDs past the first %d of their "
				  "connection were skipped",
				  (unsigned long long)t.dropped[DROP_PATH_LIMIT], TRACE_MAX_PATHS);
		if (!t.packets)
			tool_warn("%s: no QUIC packets", in.capture);
		if (o.plot && trace_plot(&t, o.plot))
			rv = TOOL_EXIT_FAIL;
	}
	trace_free(&t);
	return rv;
}
