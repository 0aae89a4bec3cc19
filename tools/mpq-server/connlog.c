/* The server's connection log: see connlog.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/tool.h"
#include "connlog.h"
#include "mpq/io/netaddr.h"

struct connlog_conn {
	mpq_conn *conn;
	uint64_t start;
	struct tool_pathact_conn pathact;
};

void connlog_name(const mpq_conn *conn, char name[CONNLOG_NAME_LEN])
{
	const mpq_cid *odcid = mpq_conn_odcid(conn);

	if (odcid && odcid->len && odcid->len <= MPQ_MAX_CIDLEN)
		tool_hex(name, odcid->data, odcid->len);
	else
		snprintf(name, CONNLOG_NAME_LEN, "?");
}

void connlog_opened(struct connlog *l, mpq_conn *conn, uint64_t now)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct connlog_conn *c = realloc(l->conns, cap * sizeof(*c));

		if (!c)
			return; /* its line will lack the duration */
		l->conns = c;
		l->cap = cap;
	}
	l->conns[l->n++] = (struct connlog_conn){.conn = conn, .start = now};
}

struct tool_pathact_conn *connlog_pathact(struct connlog *l, const mpq_conn *conn)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->conns[i].conn == conn)
			return &l->conns[i].pathact;
	return NULL;
}

/* Forgets |conn|; returns when it started, 0 when not known. */
static uint64_t forget(struct connlog *l, const mpq_conn *conn)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->conns[i].conn == conn) {
			uint64_t start = l->conns[i].start;

			l->conns[i] = l->conns[--l->n];
			return start;
		}
	}
	return 0;
}

/* "closed by the client (no error)", "closed by the server with error 0x1: why",
 * "closed silently (idle or handshake timeout)". */
static void close_text(const mpq_conn *conn, char *buf, size_t len)
{
	const mpq_conn_error *e = mpq_conn_get_error(conn);

	if (!e->set) {
		snprintf(buf, len, "closed silently (idle or handshake timeout)");
		return;
	}
	if (e->code == 0)
		snprintf(buf, len, "closed by the %s (no error%s%s)",
			 e->remote ? "client" : "server", e->reason[0] ? ": " : "", e->reason);
	else
		snprintf(buf, len, "closed by the %s with %serror 0x%llx%s%s",
			 e->remote ? "client" : "server", e->app ? "application " : "",
			 (unsigned long long)e->code, e->reason[0] ? ": " : "", e->reason);
}

void connlog_closed(struct connlog *l, mpq_conn *conn, uint64_t now, bool quiet, int worker)
{
	char name[CONNLOG_NAME_LEN], peer[MPQ_ADDR_STRLEN] = "?", sent[32], got[32], why[200];
	char secs[32] = "";
	uint64_t start = forget(l, conn);
	mpq_conn_stats st;
	size_t paths = 0;

	if (quiet)
		return;
	for (size_t i = 0; i < mpq_conn_path_count(conn); i++) {
		mpq_path_stats ps;

		if (mpq_conn_get_path_stats(conn, i, &ps) < 0 || !ps.state)
			continue;
		if (!paths)
			mpq_addr_format(&ps.tuple.remote, peer, sizeof(peer));
		paths += ps.packets_received > 0;
	}
	mpq_conn_get_stats(conn, &st);
	connlog_name(conn, name);
	tool_fmt_bytes(sent, sizeof(sent), st.bytes_sent);
	tool_fmt_bytes(got, sizeof(got), st.bytes_received);
	if (start && now >= start)
		snprintf(secs, sizeof(secs), ", %.2f s", (double)(now - start) / 1e9);
	close_text(conn, why, sizeof(why));
	/* Not "connection X from": that is the -v line of a new one. */
	if (worker >= 0)
		tool_err("connection %s with %s %s: %s sent, %s received, %zu path%s%s [worker "
			 "%d]",
			 name, peer, why, sent, got, paths, paths == 1 ? "" : "s", secs, worker);
	else
		tool_err("connection %s with %s %s: %s sent, %s received, %zu path%s%s", name,
			 peer, why, sent, got, paths, paths == 1 ? "" : "s", secs);
}

void connlog_free(struct connlog *l)
{
	free(l->conns);
	l->conns = NULL;
	l->n = l->cap = 0;
}
