/*
 * mpq-trace: capture QUIC traffic with its secrets embedded, and decrypt and
 * report QUIC and multipath QUIC captures (pcap, pcapng, either
 * zstd-compressed). One function per subcommand (CLI.md "mpq-trace"),
 * chosen from a table.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "common/tool.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
	{"capture", trace_cmd_capture,
	 "capture on interfaces into pcapng, with the secrets of a key log"},
	{"inject", trace_cmd_inject, "embed a key log into an existing capture"},
	{"summary", trace_cmd_summary,
	 "packets, bytes, RTT and retransmissions per connection and path"},
	{"qlog", trace_cmd_qlog, "one qlog per connection (vantage point network)"},
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static int usage(FILE *f)
{
	fprintf(f, "Usage: %s COMMAND [options] ...\n\nCommands:\n",
		program_invocation_short_name);
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(f, "\n'%s COMMAND --help' describes each.\n", program_invocation_short_name);
	return f == stdout ? TOOL_EXIT_OK : TOOL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	char names[256] = "";

	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return usage(stdout);
	if (!strcmp(argv[1], "--version")) {
		printf("%s (mpquic) %s\n", program_invocation_short_name, MPQ_VERSION_STR);
		return TOOL_EXIT_OK;
	}
	for (size_t i = 0; i < N_SUBCOMMANDS; i++) {
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 i ? ", " : "", subcommands[i].name);
	}
	tool_err("unknown command '%s' (one of: %s)", argv[1], names);
	return TOOL_EXIT_USAGE;
}
