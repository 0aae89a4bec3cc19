/*
 * Command-line options from a table (STYLE.md §2.9): each tool describes its
 * options once, in an array of struct tool_option, and gets getopt_long_only
 * parsing (so the seed's "-port 6121" and "--port 6121" both work, as do
 * "-sc=minrtt" and "--sched minrtt"), --help text and --version from it.
 */
#ifndef MPQ_TOOL_OPTS_H
#define MPQ_TOOL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What tool_parse does with an option. Options that only store a value say
 * where (|offset| into the tool's options struct); the others go to the
 * command's set function with their |id|. */
enum tool_store {
	TOOL_SET,     /* call cmd->set(ctx, opt, arg) */
	TOOL_STR,     /* const char *: the argument */
	TOOL_TRUE,    /* bool: true */
	TOOL_UINT,    /* uint64_t: a whole number from |min| to |max| */
	TOOL_CHOICE,  /* const char *: one of |choices| */
	TOOL_COUNT,   /* int: one more each time it is given */
	TOOL_HELP,    /* print --help and stop */
	TOOL_VERSION, /* print --version and stop */
};

struct tool_option {
	const char *name;  /* long name, taken as --name and -name; NULL ends the table */
	const char *alias; /* a second long name (the seed's spelling), or NULL */
	char short_name;   /* -x, or 0 */
	const char *arg;   /* what the argument is called in --help; NULL: no argument */
	enum tool_store store;
	size_t offset;		    /* STR, TRUE, UINT, CHOICE, COUNT: the field */
	uint64_t min, max;	    /* UINT */
	const char *const *choices; /* CHOICE: NULL-terminated */
	int id;			    /* SET: handed to the set function */
	const char *help;	    /* may hold '\n' for more lines */
};

/* The part of a table row after name, alias, short name and argument. */
#define TOOL_O_SET(ident) .store = TOOL_SET, .id = (ident)
#define TOOL_O_STR(type, field) .store = TOOL_STR, .offset = offsetof(type, field)
#define TOOL_O_TRUE(type, field) .store = TOOL_TRUE, .offset = offsetof(type, field)
#define TOOL_O_UINT(type, field, lo, hi) \
	.store = TOOL_UINT, .offset = offsetof(type, field), .min = (lo), .max = (hi)
#define TOOL_O_CHOICE(type, field, list) \
	.store = TOOL_CHOICE, .offset = offsetof(type, field), .choices = (list)
#define TOOL_O_COUNT(type, field) .store = TOOL_COUNT, .offset = offsetof(type, field)

#define TOOL_OPTION_HELP \
	{ \
		"help", NULL, 'h', NULL, .store = TOOL_HELP, .help = "show this help and exit" \
	}
#define TOOL_OPTION_VERSION \
	{ \
		"version", NULL, 0, NULL, .store = TOOL_VERSION, \
					  .help = "show the version and exit" \
	}
#define TOOL_OPTION_END \
	{ \
		NULL, NULL, 0, NULL, .store = TOOL_SET \
	}

struct tool_command {
	const char *usage;   /* after the program name: "[options] URL..." */
	const char *summary; /* one paragraph printed under the usage line */
	const struct tool_option *options;
	const char *epilogue; /* printed after the options (exit status, ...); may be NULL */
	/* Takes a TOOL_SET option |opt| with its argument |arg| (NULL for a
	 * flag) into the tool's options struct |ctx|. Returns 0, or
	 * TOOL_EXIT_USAGE after printing one line with tool_err. */
	int (*set)(void *ctx, const struct tool_option *opt, const char *arg);
};

/* What tool_parse returns besides an exit status. */
#define TOOL_PARSE_OK (-1)

/* Parses |argv| with |cmd|'s table into |ctx|. Returns TOOL_PARSE_OK with
 * |*first_arg| set to the first operand; TOOL_EXIT_OK after printing --help
 * or --version on stdout; or TOOL_EXIT_USAGE after one line on stderr. */
int tool_parse(const struct tool_command *cmd, void *ctx, int argc, char **argv, int *first_arg);

/* "FLAG: unknown WHAT 'NAME' (one of: a, b, c)" from the NULL-terminated
 * |names|, as one line on stderr; returns TOOL_EXIT_USAGE. */
int tool_unknown_name(const char *flag, const char *what, const char *name,
		      const char *const *names);

/* Splits comma-separated |arg| into |items| (at most |max|, each non-empty).
 * The strings point into |buf| (|buflen| bytes). Returns the count, or -1
 * after a line on stderr naming |what| (the option). */
int tool_split_list(const char *what, const char *arg, char *buf, size_t buflen,
		    const char **items, int max);

#endif
