/* Progress line on stderr: see progress.h. */
#include <stdio.h>
#include <unistd.h>

#include "progress.h"
#include "tool.h"

#define REDRAW_NS 100000000ULL /* on a terminal: redrawn in place */
#define LINE_NS 1000000000ULL  /* elsewhere (a log file): a new line each second */
#define BAR_WIDTH 24

void tool_progress_init(struct tool_progress *p, enum tool_progress_mode mode, uint64_t now,
			uint64_t total)
{
	p->tty = isatty(STDERR_FILENO);
	p->on = mode == TOOL_PROGRESS_ON || (mode == TOOL_PROGRESS_AUTO && p->tty);
	p->drawn = false;
	p->start = now;
	p->last_draw = 0;
	p->total = total;
}

bool tool_progress_due(const struct tool_progress *p, uint64_t now)
{
	if (!p->tty)
		return p->on && now - p->start >= LINE_NS && now - p->last_draw >= LINE_NS;
	return p->on && (!p->drawn || now - p->last_draw >= REDRAW_NS);
}

void tool_progress_update(struct tool_progress *p, uint64_t now, uint64_t bytes, size_t done,
			  size_t count)
{
	char got[32], bar[BAR_WIDTH + 8] = "";
	double secs = (double)(now - p->start) / 1e9;
	double mbps = secs > 0 ? (double)bytes * 8 / secs / 1e6 : 0;

	if (!tool_progress_due(p, now))
		return;
	p->last_draw = now;
	tool_fmt_bytes(got, sizeof(got), bytes);
	if (p->total) {
		size_t fill = bytes >= p->total ? BAR_WIDTH
						: (size_t)(bytes * BAR_WIDTH / p->total);

		bar[0] = '[';
		for (size_t i = 0; i < BAR_WIDTH; i++)
			bar[i + 1] = i < fill ? '#' : '.';
		snprintf(bar + BAR_WIDTH + 1, sizeof(bar) - BAR_WIDTH - 1, "] %3u%%",
			 (unsigned int)(fill == BAR_WIDTH ? 100 : bytes * 100 / p->total));
	}
	/* \033[K clears what a longer previous line left; a file gets
	 * plain lines. */
	fprintf(stderr, "%s%s%s%s  %.1f Mbit/s  %zu/%zu done  %.1f s%s", p->tty ? "\r" : "", bar,
		bar[0] ? " " : "", got, mbps, done, count, secs, p->tty ? "\033[K" : "\n");
	p->drawn = p->tty;
}

void tool_progress_end(struct tool_progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = false;
}
