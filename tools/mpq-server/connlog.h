/*
 * What mpq-server says about its connections: each is named by its original
 * DCID in hex (as its qlog file is), and when it ends one line gives the
 * peer, the bytes each way, the paths it used, how long it lived and why it
 * closed (unless -q). It also keeps each connection's progress through
 * --abandon-path / --backup-path. One per worker: not shared between threads.
 */
#ifndef MPQ_SERVER_CONNLOG_H
#define MPQ_SERVER_CONNLOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/pathact.h"
#include "mpq/conn.h"

#define CONNLOG_NAME_LEN (2 * MPQ_MAX_CIDLEN + 1)

struct connlog {
	struct connlog_conn *conns; /* the connections alive, with their start */
	size_t n, cap;
};

/* |conn|'s original DCID in hex ("?" when it has none). */
void connlog_name(const mpq_conn *conn, char name[CONNLOG_NAME_LEN]);
/* |conn| was created at |now| (ns). */
void connlog_opened(struct connlog *l, mpq_conn *conn, uint64_t now);
/* |conn| is being removed at |now|: its line on stderr unless |quiet|;
 * |worker| (>= 0 with --workers, else -1) is named. */
void connlog_closed(struct connlog *l, mpq_conn *conn, uint64_t now, bool quiet, int worker);
void connlog_free(struct connlog *l);
/* |conn|'s --abandon-path / --backup-path state; NULL when not known. */
struct tool_pathact_conn *connlog_pathact(struct connlog *l, const mpq_conn *conn);

#endif
