/*
 * A one-line progress display on stderr for transfers: bytes so far, rate,
 * URLs done, elapsed time. On a terminal it is redrawn in place at most ten
 * times a second and erased at the end (for the result lines to take its
 * place); elsewhere (--progress into a file) it is a plain line each second,
 * with no carriage return or escape code. On by default only when stderr is
 * a terminal.
 */
#ifndef MPQ_TOOL_PROGRESS_H
#define MPQ_TOOL_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tool_progress_mode {
	TOOL_PROGRESS_AUTO = 0, /* when stderr is a terminal */
	TOOL_PROGRESS_ON,
	TOOL_PROGRESS_OFF,
};

struct tool_progress {
	bool on;
	bool tty;	    /* stderr is a terminal: redraw in place */
	bool drawn;	    /* a line is on the screen */
	uint64_t start;	    /* ns */
	uint64_t last_draw; /* ns */
	uint64_t total;	    /* expected bytes, 0: unknown */
};

void tool_progress_init(struct tool_progress *p, enum tool_progress_mode mode, uint64_t now,
			uint64_t total);
/* Whether tool_progress_update would redraw now (to skip gathering numbers). */
bool tool_progress_due(const struct tool_progress *p, uint64_t now);
/* Redraws when 100 ms have passed since the last time (a terminal), or
 * writes a line each second (anything else). */
void tool_progress_update(struct tool_progress *p, uint64_t now, uint64_t bytes, size_t done,
			  size_t count);
/* Erases the line, so later messages start on a clean one. */
void tool_progress_end(struct tool_progress *p);

#endif
