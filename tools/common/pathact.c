/* Path actions on a schedule: see pathact.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "pathact.h"
#include "tool.h"

#define PATHACT_ABANDON 1u
#define PATHACT_BACKUP 2u
#define PATHACT_AVAILABLE 4u
#define WAIT_STEP (10 * MPQ_MS)
#define MAX_WAITS 100 /* for an extra path to appear: a second */

int tool_pathact_check(struct tool_pathact *a)
{
	char *end;
	unsigned long long ms, back = 0;

	if (!a->backup)
		return 0;
	ms = strtoull(a->backup, &end, 10);
	if (end != a->backup && *end == ':') {
		const char *b = end + 1;

		back = strtoull(b, &end, 10);
		if (end == b)
			back = 0, end = (char *)"?";
	}
	if (end == a->backup || *end || ms < 1 || ms > 3600000 || back > 3600000 ||
	    (back && back <= ms)) {
		tool_err("--backup-path %s: want MS[:BACK_MS], 1 <= MS < BACK_MS <= 3600000",
			 a->backup);
		return TOOL_EXIT_USAGE;
	}
	a->backup_ms = ms;
	a->back_ms = back;
	return 0;
}

bool tool_pathact_any(const struct tool_pathact *a)
{
	return a->abandon_ms || a->backup_ms;
}

/* The active path with the highest ID, if not the first; 0: none. */
static uint32_t last_extra_path(const mpq_conn *conn)
{
	mpq_path_stats st;
	uint32_t last = 0;

	for (size_t i = 0; mpq_conn_get_path_stats(conn, i, &st) == 0; i++)
		if (st.state == MPQ_PATH_STATE_ACTIVE && st.path_id > last)
			last = st.path_id;
	return last;
}

/* One action, due at |at| ms after the start. Returns when to try again. */
static uint64_t act(struct tool_pathact_conn *st, mpq_conn *conn, unsigned what, uint64_t at,
		    uint64_t now, bool verbose)
{
	static const char *const names[] = {"", "--abandon-path", "--backup-path", "",
					    "--backup-path"};
	uint64_t due = st->start + at * MPQ_MS;
	uint32_t pid = what == PATHACT_AVAILABLE ? st->path : last_extra_path(conn);
	int rv;

	if (!at || (st->done & what))
		return MPQ_TIME_NEVER;
	if (now < due)
		return due;
	if (!pid && st->waits++ < MAX_WAITS)
		return now + WAIT_STEP;
	st->done |= what;
	if (!pid) {
		tool_warn("%s: no extra path", names[what]);
		return MPQ_TIME_NEVER;
	}
	if (what == PATHACT_ABANDON)
		rv = mpq_conn_abandon_path(conn, pid, 0);
	else
		rv = mpq_conn_set_path_status(conn, pid, what == PATHACT_BACKUP);
	if (rv < 0)
		tool_warn("%s: path %" PRIu32 ": %s", names[what], pid, mpq_strerror(rv));
	else if (verbose)
		tool_err("path %" PRIu32 ": %s", pid,
			 what == PATHACT_ABANDON  ? "abandoning"
			 : what == PATHACT_BACKUP ? "backup"
						  : "available");
	if (what == PATHACT_BACKUP)
		st->path = pid;
	return MPQ_TIME_NEVER;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t tool_pathact_run(const struct tool_pathact *a, struct tool_pathact_conn *st,
			  mpq_conn *conn, uint64_t now, bool verbose)
{
	uint64_t next;

	if (!tool_pathact_any(a))
		return MPQ_TIME_NEVER;
	if (!st->start) {
		if (!mpq_conn_is_handshake_complete(conn))
			return MPQ_TIME_NEVER;
		st->start = now;
	}
	next = act(st, conn, PATHACT_ABANDON, a->abandon_ms, now, verbose);
	next = min_u64(next, act(st, conn, PATHACT_BACKUP, a->backup_ms, now, verbose));
	if (st->done & PATHACT_BACKUP)
		next = min_u64(next, act(st, conn, PATHACT_AVAILABLE, a->back_ms, now, verbose));
	return next;
}
