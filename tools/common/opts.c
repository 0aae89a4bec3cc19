/* Option tables over getopt_long_only: see opts.h. */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "tool.h"

#ifndef MPQ_VERSION_STR
#define MPQ_VERSION_STR "unknown"
#endif

#define MAX_OPTIONS 96
#define LONG_BASE 0x1000 /* getopt value of a long option: LONG_BASE + table index */
#define HELP_COLUMN 30

static size_t count_options(const struct tool_option *o)
{
	size_t n = 0;

	while (o[n].name)
		n++;
	return n;
}

/* getopt's long option array (names and aliases) and short option string. */
static int build_getopt(const struct tool_option *opts, struct option *longs, size_t maxlong,
			char *shorts, size_t maxshort)
{
	size_t nl = 0, ns = 0;

	shorts[ns++] = ':'; /* report a missing argument as ':' */
	for (size_t i = 0; opts[i].name; i++) {
		const struct tool_option *o = &opts[i];
		int has_arg = o->arg ? required_argument : no_argument;

		if (nl + 2 >= maxlong || ns + 3 >= maxshort)
			return -1;
		longs[nl++] = (struct option){o->name, has_arg, NULL, LONG_BASE + (int)i};
		if (o->alias)
			longs[nl++] = (struct option){o->alias, has_arg, NULL, LONG_BASE + (int)i};
		if (o->short_name) {
			shorts[ns++] = o->short_name;
			if (o->arg)
				shorts[ns++] = ':';
		}
	}
	longs[nl] = (struct option){NULL, 0, NULL, 0};
	shorts[ns] = '\0';
	return 0;
}

static const struct tool_option *find_option(const struct tool_option *opts, int c)
{
	if (c >= LONG_BASE)
		return &opts[c - LONG_BASE];
	for (size_t i = 0; opts[i].name; i++)
		if (opts[i].short_name == c)
			return &opts[i];
	return NULL;
}

static void print_option(const struct tool_option *o)
{
	char left[96];
	int n;

	if (o->alias)
		n = snprintf(left, sizeof(left), "  -%s, --%s", o->alias, o->name);
	else if (o->short_name)
		n = snprintf(left, sizeof(left), "  -%c, --%s", o->short_name, o->name);
	else
		n = snprintf(left, sizeof(left), "      --%s", o->name);
	if (o->arg)
		n += snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->arg);
	printf("%s", left);
	if (n >= HELP_COLUMN - 1)
		printf("\n%*s", HELP_COLUMN, "");
	else
		printf("%*s", HELP_COLUMN - n, "");
	for (const char *h = o->help; *h; h++) {
		putchar(*h);
		if (*h == '\n')
			printf("%*s", HELP_COLUMN, "");
	}
	putchar('\n');
}

static void print_help(const struct tool_command *cmd)
{
	printf("Usage: %s %s\n\n%s\n\n", program_invocation_short_name, cmd->usage, cmd->summary);
	printf("Options (one dash or two: -NAME VALUE and --NAME VALUE are the same,\n"
	       "-NAME=VALUE works too; long names are spelled out in full):\n");
	for (const struct tool_option *o = cmd->options; o->name; o++)
		print_option(o);
	if (cmd->epilogue)
		printf("\n%s\n", cmd->epilogue);
}

static int parse_uint(const struct tool_option *opt, const char *arg, uint64_t *out)
{
	uint64_t min = opt->min, max = opt->max;
	uint64_t v = 0;
	const char *p = arg;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10) {
			v = UINT64_MAX;
			break;
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == arg || *p || v < min || v > max) {
		tool_err("--%s: '%s' is not a whole number from %llu to %llu", opt->name, arg,
			 (unsigned long long)min, (unsigned long long)max);
		return TOOL_EXIT_USAGE;
	}
	*out = v;
	return 0;
}

int tool_unknown_name(const char *flag, const char *what, const char *name,
		      const char *const *names)
{
	char list[256] = "";
	size_t n = 0;

	for (const char *const *s = names; *s; s++)
		n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, "%s%s",
				      s == names ? "" : ", ", *s);
	tool_err("%s: unknown %s '%s' (one of: %s)", flag, what, name, list);
	return TOOL_EXIT_USAGE;
}

static int check_choice(const struct tool_option *opt, const char *arg)
{
	char flag[64];

	for (const char *const *s = opt->choices; *s; s++)
		if (strcmp(arg, *s) == 0)
			return 0;
	snprintf(flag, sizeof(flag), "--%s", opt->name);
	return tool_unknown_name(flag, "name", arg, opt->choices);
}

/* Does what |o|'s row says with |arg|. Returns TOOL_PARSE_OK or an exit status. */
static int store(const struct tool_command *cmd, void *ctx, const struct tool_option *o,
		 const char *arg)
{
	char *field = (char *)ctx + o->offset;
	int rv = 0;

	switch (o->store) {
	case TOOL_SET:
		rv = cmd->set(ctx, o, arg);
		break;
	case TOOL_STR:
		*(const char **)field = arg;
		break;
	case TOOL_TRUE:
		*(bool *)field = true;
		break;
	case TOOL_UINT:
		rv = parse_uint(o, arg, (uint64_t *)field);
		break;
	case TOOL_CHOICE:
		rv = check_choice(o, arg);
		if (rv == 0)
			*(const char **)field = arg;
		break;
	case TOOL_COUNT:
		(*(int *)field)++;
		break;
	case TOOL_HELP:
		print_help(cmd);
		return TOOL_EXIT_OK;
	case TOOL_VERSION:
		printf("%s (mpquic) %s\n", program_invocation_short_name, MPQ_VERSION_STR);
		return TOOL_EXIT_OK;
	}
	return rv == 0 ? TOOL_PARSE_OK : rv;
}

/* getopt_long_only takes any unambiguous prefix of a long option ("-q" was
 * --qlog-dir before -q existed): a long option must be spelled out. The
 * element it came from is the last one getopt took, or the one before when
 * its argument was separate. Returns true after one line when abbreviated. */
static bool abbreviated(char **argv, int optind_now, const char *arg, const char *name)
{
	const char *flag = argv[optind_now - 1], *typed;
	size_t len;

	if (arg && arg == flag && optind_now >= 2)
		flag = argv[optind_now - 2];
	for (typed = flag; *typed == '-';)
		typed++;
	len = strcspn(typed, "=");
	if (len == strlen(name) && strncmp(typed, name, len) == 0)
		return false;
	tool_err("unknown option '%.*s': did you mean --%s? (long options are spelled out; "
		 "see --help)",
		 (int)(typed - flag + (ptrdiff_t)len), flag, name);
	return true;
}

int tool_parse(const struct tool_command *cmd, void *ctx, int argc, char **argv, int *first_arg)
{
	struct option longs[2 * MAX_OPTIONS + 1];
	char shorts[3 * MAX_OPTIONS + 2];
	int c, li = 0;

	if (count_options(cmd->options) > MAX_OPTIONS ||
	    build_getopt(cmd->options, longs, sizeof(longs) / sizeof(longs[0]), shorts,
			 sizeof(shorts)) < 0) {
		tool_err("internal error: option table too large");
		return TOOL_EXIT_USAGE;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, shorts, longs, &li)) != -1) {
		const struct tool_option *o;
		int rv;

		if (c >= LONG_BASE && abbreviated(argv, optind, optarg, longs[li].name))
			return TOOL_EXIT_USAGE;

		if (c == ':') {
			tool_err("option '%s' needs an argument (see --help)", argv[optind - 1]);
			return TOOL_EXIT_USAGE;
		}
		o = c == '?' ? NULL : find_option(cmd->options, c);
		if (!o) {
			tool_err("unknown or ambiguous option '%s' (see --help)",
				 argv[optind - 1]);
			return TOOL_EXIT_USAGE;
		}
		rv = store(cmd, ctx, o, optarg);
		if (rv != TOOL_PARSE_OK)
			return rv;
	}
	*first_arg = optind;
	return TOOL_PARSE_OK;
}

int tool_split_list(const char *what, const char *arg, char *buf, size_t buflen,
		    const char **items, int max)
{
	int n = 0;
	char *save = NULL;

	if (strlen(arg) >= buflen) {
		tool_err("%s: list too long", what);
		return -1;
	}
	strcpy(buf, arg);
	for (char *s = buf;; s = NULL) {
		char *item = strtok_r(s, ",", &save);

		if (!item)
			break;
		if (n == max) {
			tool_err("%s: at most %d items", what, max);
			return -1;
		}
		items[n++] = item;
	}
	/* strtok_r skips empty items: "a,,b" and ",a" are refused instead. */
	if (n == 0 || strstr(arg, ",,") || arg[0] == ',' || arg[strlen(arg) - 1] == ',') {
		tool_err("%s: '%s' is not a comma-separated list", what, arg);
		return -1;
	}
	return n;
}
