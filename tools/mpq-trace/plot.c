/*
 * mpq-trace summary --plot DIR: per connection, per-path throughput (UDP
 * payload bytes per 100 ms bin, each way) and capture-point RTT samples over
 * time, as data files and gnuplot scripts that render each plot to SVG and
 * PNG. gnuplot runs in DIR; without it the data and scripts stay there.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/tool.h"
#include "plot.h"

#define BIN_S ((double)TRACE_BIN_NS / 1e9)

static const char *const leg_names[2] = {"to server and back", "to client and back"};

/* Opens DIR/NAME for writing; NULL (said) on failure. */
static FILE *open_in(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		tool_err("%s: %s", path, strerror(errno));
	return f;
}

static int close_checked(FILE *f, const char *dir, const char *name)
{
	if (ferror(f) | fclose(f)) {
		tool_err("%s/%s: write failed", dir, name);
		return -1;
	}
	return 0;
}

static int write_bins(const char *dir, const char *name, const struct trace_series *s)
{
	FILE *f = open_in(dir, name);

	if (!f)
		return -1;
	fprintf(f,
		"# time_s bytes_to_server bytes_to_client goodput_bytes (%.0f ms bins;"
		" UDP payload bytes; goodput: stream offsets moved)\n",
		BIN_S * 1e3);
	for (size_t b = 0; b < s->used; b++)
		fprintf(f, "%.1f %llu %llu %llu\n", (double)b * BIN_S,
			(unsigned long long)s->bins[b][COL_TO_SERVER],
			(unsigned long long)s->bins[b][COL_TO_CLIENT],
			(unsigned long long)s->bins[b][COL_GOODPUT]);
	/* The end of the last bin, so that steps draw it whole. */
	fprintf(f, "%.1f 0 0 0\n", (double)s->used * BIN_S);
	return close_checked(f, dir, name);
}

static int write_rtt(const char *dir, const char *name, const struct trace_series *s)
{
	FILE *f = open_in(dir, name);

	if (!f)
		return -1;
	fprintf(f,
		"# time_s leg(0: to server and back, 1: to client and back) sample_ms srtt_ms\n");
	for (size_t i = 0; i < s->nrtt; i++)
		fprintf(f, "%.6f %d %.3f %.3f\n", (double)s->rtt[i].since_ns / 1e9, s->rtt[i].dir,
			s->rtt[i].sample_ms, s->rtt[i].srtt_ms);
	return close_checked(f, dir, name);
}

/* The script for plot |what| of connection |hex|, one line per path and
 * direction (throughput) or leg (|rtt|); it renders SVG, then PNG. */
static int write_script(const char *dir, const char *hex, const char *what, const char *ylabel,
			const struct trace_conn *c, bool rtt)
{
	char name[128];
	const char *sep = "plot ";
	FILE *f;

	snprintf(name, sizeof(name), "%s-%s.gp", hex, what);
	f = open_in(dir, name);
	if (!f)
		return -1;
	fprintf(f, "# gnuplot %s: writes %s-%s.svg and %s-%s.png\n", name, hex, what, hex, what);
	fprintf(f, "set terminal svg size 1000,500 dynamic\nset output '%s-%s.svg'\n", hex, what);
	fprintf(f,
		"set title 'connection %s: %s'\nset xlabel 'time since the first packet (s)'\n"
		"set ylabel '%s'\nset key outside right\nset grid\n",
		hex, what, ylabel);
	for (size_t i = 0; i < c->npaths; i++) {
		uint32_t p = c->paths[i]->id;

		if (!c->paths[i]->seen)
			continue;
		for (int d = 0; d < 2; d++) {
			if (rtt)
				fprintf(f,
					"%s'%s-path%u-rtt.dat' using 1:($2==%d?$3:1/0) with "
					"points "
					"pt 7 ps 0.3 title 'path %u %s'",
					sep, hex, p, d, p, leg_names[d]);
			else
				fprintf(f,
					"%s'%s-path%u.dat' using 1:($%d*8/%g/1e6) with steps "
					"title 'path %u to %s'",
					sep, hex, p, d + 2, BIN_S, p,
					d == TO_SERVER ? "server" : "client");
			sep = ", \\\n     ";
		}
	}
	fprintf(f, "\nset terminal pngcairo size 1000,500\nset output '%s-%s.png'\nreplot\n", hex,
		what);
	return close_checked(f, dir, name);
}

/* Runs gnuplot SCRIPT in |dir|: 0 done, 1 no gnuplot, -1 it failed. */
static int gnuplot(const char *dir, const char *script)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		if (chdir(dir))
			_exit(126);
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) == 127 ? 1 : WEXITSTATUS(status) ? -1 : 0;
}

static int plot_conn(const struct trace_conn *c, const char *dir, bool *no_gnuplot)
{
	char hex[2 * MPQ_MAX_CIDLEN + 1], name[128];
	static const char *const what[2] = {"throughput", "rtt"};

	tool_hex(hex, c->odcid.data, c->odcid.len);
	for (size_t i = 0; i < c->npaths; i++) {
		const struct trace_path *path = c->paths[i];
		uint32_t p = path->id;

		if (!path->seen)
			continue;
		if (path->series.incomplete) {
			tool_err("--plot: out of memory for path %u of %s", p, hex);
			return -1;
		}
		snprintf(name, sizeof(name), "%s-path%u.dat", hex, p);
		if (write_bins(dir, name, &path->series))
			return -1;
		snprintf(name, sizeof(name), "%s-path%u-rtt.dat", hex, p);
		if (write_rtt(dir, name, &path->series))
			return -1;
	}
	if (write_script(dir, hex, what[0], "Mbit/s (UDP payload, 100 ms bins)", c, false) ||
	    write_script(dir, hex, what[1], "RTT sample at the capture point (ms)", c, true))
		return -1;
	for (int i = 0; i < 2 && !*no_gnuplot; i++) {
		snprintf(name, sizeof(name), "%s-%s.gp", hex, what[i]);
		switch (gnuplot(dir, name)) {
		case 1:
			*no_gnuplot = true;
			break;
		case -1:
			tool_err("--plot: gnuplot %s/%s failed", dir, name);
			return -1;
		}
	}
	return 0;
}

int trace_plot(const struct trace *t, const char *dir)
{
	bool no_gnuplot = false;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		tool_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < t->nconns; i++)
		if (plot_conn(t->conns[i], dir, &no_gnuplot))
			return -1;
	if (no_gnuplot)
		tool_warn("--plot: gnuplot not found; the data and gnuplot scripts are in %s, "
			  "gnuplot is needed for the SVG and PNG images (apt-get install "
			  "gnuplot-nox)",
			  dir);
	return 0;
}
