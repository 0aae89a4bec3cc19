/*
 * What mpq-client and mpq-server do to a connection's paths on a schedule
 * (--abandon-path MS, --backup-path MS[:BACK_MS]): MS ms after the handshake,
 * abandon the active extra path with the highest path ID (PATH_ABANDON), or
 * mark it backup (PATH_STATUS_BACKUP) and, BACK_MS ms after the handshake,
 * available again (PATH_STATUS_AVAILABLE). For interop and path tests.
 */
#ifndef MPQ_TOOL_PATHACT_H
#define MPQ_TOOL_PATHACT_H

#include <stdbool.h>
#include <stdint.h>

#include "mpq/conn.h"
#include "mpq/mpq.h"
#include "opts.h"

/* The options as parsed: the table rows below store them. */
struct tool_pathact {
	uint64_t abandon_ms;	     /* --abandon-path: 0 none */
	const char *backup;	     /* --backup-path MS[:BACK_MS], or NULL */
	uint64_t backup_ms, back_ms; /* from |backup| (tool_pathact_check); 0 none */
};

/* One connection's progress through them. Zeroed before the handshake. */
struct tool_pathact_conn {
	uint64_t start; /* when the handshake completed (ns); 0: not yet */
	uint32_t path;	/* the path --backup-path marked */
	unsigned done;	/* PATHACT_* bits */
	unsigned waits; /* 10 ms waits for an extra path to appear */
};

/* The rows of an option table; |type| has a struct tool_pathact |field|. */
#define TOOL_PATHACT_OPTIONS(type, field) \
	{"abandon-path", \
	 NULL, \
	 0, \
	 "MS", \
	 TOOL_O_UINT(type, field.abandon_ms, 1, 3600000), \
	 .help = "abandon the last extra path MS ms after the handshake\n" \
		 "(PATH_ABANDON; the transfer goes on over the others)"}, \
	{ \
		"backup-path", NULL, 0, "MS[:BACK_MS]", TOOL_O_STR(type, field.backup), \
			.help = "mark the last extra path backup MS ms after the handshake\n" \
				"(PATH_STATUS_BACKUP: no data on it while another path\n" \
				"works) and available again at BACK_MS (PATH_STATUS_AVAILABLE)" \
	}

/* Parses --backup-path. Returns 0, or TOOL_EXIT_USAGE after one line. */
int tool_pathact_check(struct tool_pathact *a);

/* Whether any action is asked for. */
bool tool_pathact_any(const struct tool_pathact *a);

/* Does what is due for |conn| at |now| (ns), saying so on stderr when
 * |verbose|. Returns when to call again (MPQ_TIME_NEVER: never); calling
 * earlier does no harm. */
uint64_t tool_pathact_run(const struct tool_pathact *a, struct tool_pathact_conn *st,
			  mpq_conn *conn, uint64_t now, bool verbose);

#endif
