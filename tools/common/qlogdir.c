/* The qlog directory: see qlogdir.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpq/io/qlog_file.h"
#include "qlogdir.h"
#include "tool.h"

/* Why |d| cannot hold qlogs, or NULL (made when missing). */
static const char *unusable(const char *d, char *why, size_t len)
{
	struct stat st;

	if (mkdir(d, 0755) < 0 && errno != EEXIST)
		snprintf(why, len, "cannot create it: %s", strerror(errno));
	else if (stat(d, &st) < 0 || !S_ISDIR(st.st_mode))
		snprintf(why, len, "not a directory");
	else if (access(d, W_OK | X_OK) < 0)
		snprintf(why, len, "cannot write to it: %s", strerror(errno));
	else
		return NULL;
	return why;
}

int tool_qlog_dir(const char *flag, const char **dir)
{
	const char *d = flag ? flag : getenv("QLOGDIR");
	char why[160];

	*dir = NULL;
	if (!d || !*d)
		return 0;
	if (!unusable(d, why, sizeof(why))) {
		*dir = d;
		return 0;
	}
	/* The flag was asked for on this command line; the environment may
	 * be left over from elsewhere: only a warning. */
	if (!flag) {
		tool_warn("no qlogs: QLOGDIR=%s: %s", d, why);
		return 0;
	}
	tool_err("--qlog-dir %s: %s", d, why);
	return TOOL_EXIT_USAGE;
}

void tool_qlog_start(mpq_conn *conn, void *dir)
{
	mpq_conn_set_qlog_dir(conn, dir, false);
}
