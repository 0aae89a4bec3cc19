/* Response bodies into files without losing any: see output.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tool.h"
#include "output.h"

void output_init(struct output *o)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
}

void output_set_stdout(struct output *o)
{
	output_init(o);
	o->kind = OUTPUT_STDOUT;
	snprintf(o->path, sizeof(o->path), "stdout");
	o->fd = STDOUT_FILENO;
}

int output_set(struct output *o, const char *path)
{
	output_init(o);
	if (strlen(path) >= sizeof(o->path))
		return -1;
	o->kind = OUTPUT_FILE;
	snprintf(o->path, sizeof(o->path), "%s", path);
	return 0;
}

/* The permissions a new file gets: 0666 less the umask, as open() would. */
static unsigned int new_file_mode(void)
{
	mode_t mask = umask(0);

	umask(mask);
	return 0666 & ~mask;
}

/* Sets o->dest and o->existed: a symbolic link is followed to the file it
 * names (one that names nothing is replaced itself). Returns 0 or an errno. */
static int find_dest(struct output *o, struct stat *st)
{
	char real[PATH_MAX];

	snprintf(o->dest, sizeof(o->dest), "%s", o->path);
	if (stat(o->path, st) < 0) {
		if (errno != ENOENT)
			return errno;
		o->existed = false;
		return 0;
	}
	o->existed = true;
	if (realpath(o->path, real) && strlen(real) < sizeof(o->dest))
		snprintf(o->dest, sizeof(o->dest), "%s", real);
	return 0;
}

/* A temporary beside o->dest: ".NAME.mpq-XXXXXX" in the same directory, so
 * the rename stays within one file system. */
static int open_temporary(struct output *o)
{
	char copy[sizeof(o->dest)], copy2[sizeof(o->dest)];
	const char *dir, *base;
	int n;

	snprintf(copy, sizeof(copy), "%s", o->dest);
	snprintf(copy2, sizeof(copy2), "%s", o->dest);
	dir = dirname(copy);
	base = basename(copy2);
	n = snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.mpq-XXXXXX", dir, base);
	if (n < 0 || (size_t)n >= sizeof(o->tmp)) {
		o->tmp[0] = '\0';
		return ENAMETOOLONG;
	}
	o->fd = mkostemp(o->tmp, O_CLOEXEC); /* O_EXCL, mode 0600 */
	if (o->fd < 0) {
		o->tmp[0] = '\0';
		return errno;
	}
	if (fchmod(o->fd, o->mode) < 0) {
		int e = errno;

		output_abandon(o);
		return e;
	}
	return 0;
}

int output_open(struct output *o)
{
	struct stat st;
	int e;

	if (o->kind != OUTPUT_FILE || o->fd >= 0)
		return 0;
	e = find_dest(o, &st);
	if (e == 0 && o->existed && !S_ISREG(st.st_mode)) {
		/* /dev/null, a FIFO, a device: written straight, never removed. */
		o->kind = OUTPUT_DIRECT;
		o->fd = open(o->path, O_WRONLY | O_CLOEXEC);
		e = o->fd < 0 ? errno : 0;
	} else if (e == 0) {
		/* An existing file keeps its permissions. */
		o->mode = o->existed ? (unsigned int)(st.st_mode & 07777) : new_file_mode();
		e = open_temporary(o);
	}
	o->errnum = e;
	return e;
}

static int close_fd(struct output *o)
{
	int e = 0;

	if (o->fd >= 0 && o->kind != OUTPUT_STDOUT && close(o->fd) < 0)
		e = errno;
	o->fd = -1;
	return e;
}

int output_commit(struct output *o)
{
	int e;

	if (o->committed || o->errnum)
		return o->errnum;
	e = close_fd(o);
	if (e == 0 && o->tmp[0] && rename(o->tmp, o->dest) < 0)
		e = errno;
	if (e) {
		o->errnum = e;
		output_abandon(o);
		return e;
	}
	o->tmp[0] = '\0';
	o->committed = true;
	return 0;
}

void output_abandon(struct output *o)
{
	close_fd(o);
	if (o->tmp[0]) {
		unlink(o->tmp);
		o->tmp[0] = '\0';
	}
}

void output_note(const struct output *o, uint64_t bytes, char *buf, size_t len)
{
	char got[32];

	tool_fmt_bytes(got, sizeof(got), bytes);
	buf[0] = '\0';
	switch (o->kind) {
	case OUTPUT_NONE:
		break;
	case OUTPUT_FILE:
		if (o->committed)
			break;
		if (o->existed)
			snprintf(buf, len, "%s%s left as it was",
				 bytes ? "partial body removed, " : "", o->path);
		else
			snprintf(buf, len, "%snothing saved as %s",
				 bytes ? "partial body removed, " : "", o->path);
		break;
	case OUTPUT_DIRECT:
	case OUTPUT_STDOUT:
		if (bytes)
			snprintf(buf, len, "the first %s of it went to %s", got, o->path);
		else
			snprintf(buf, len, "nothing written to %s", o->path);
		break;
	}
}
