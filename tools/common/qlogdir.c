/* The qlog directory: see qlogdir.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qlogdir.h"
#include "tool.h"

int tool_qlog_dir(const char *flag, const char **dir)
{
	const char *d = flag ? flag : getenv("QLOGDIR");
	const char *from = flag ? "" : " (from QLOGDIR)";
	struct stat st;

	*dir = NULL;
	if (!d || !*d)
		return 0;
	if (mkdir(d, 0755) < 0 && errno != EEXIST) {
		tool_err("cannot create qlog directory %s%s: %s", d, from, strerror(errno));
		return TOOL_EXIT_USAGE;
	}
	if (stat(d, &st) < 0 || !S_ISDIR(st.st_mode)) {
		tool_err("qlog directory %s%s is not a directory", d, from);
		return TOOL_EXIT_USAGE;
	}
	if (access(d, W_OK | X_OK) < 0) {
		tool_err("cannot write to qlog directory %s%s: %s", d, from, strerror(errno));
		return TOOL_EXIT_USAGE;
	}
	*dir = d;
	return 0;
}
