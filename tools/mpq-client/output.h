/*
 * Where one response body goes, so that a failed fetch never costs the user
 * a file. A regular file (new or existing) is written to a temporary beside
 * it (same directory, O_EXCL) and renamed over it only once the body is
 * whole; a symbolic link is followed, so the link stays and its target is
 * replaced. Anything else (stdout, /dev/null, a FIFO, a device) is written
 * straight and never removed.
 */
#ifndef MPQ_CLIENT_OUTPUT_H
#define MPQ_CLIENT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum output_kind {
	OUTPUT_NONE,   /* --discard */
	OUTPUT_FILE,   /* a regular file, through a temporary */
	OUTPUT_DIRECT, /* not a regular file: written straight */
	OUTPUT_STDOUT, /* -o - */
};

struct output {
	enum output_kind kind;
	char path[4096];   /* as the user sees it: -o, or DIR/NAME */
	char dest[4096];   /* what the rename replaces: |path|, symlinks followed */
	char tmp[4096];	   /* the temporary while one exists, else "" */
	int fd;		   /* -1: not open */
	int errnum;	   /* opening, writing out or renaming failed */
	unsigned int mode; /* the permissions the file gets */
	bool existed;	   /* |dest| was a file before: it is kept on failure */
	bool committed;	   /* the body is in place */
};

/* No output (--discard); also the state output_set starts from. */
void output_init(struct output *o);
/* Writes to stdout. */
void output_set_stdout(struct output *o);
/* Writes to |path| (OUTPUT_FILE or OUTPUT_DIRECT, decided when opened).
 * Returns 0, or -1 when the name is too long. */
int output_set(struct output *o, const char *path);

/* Opens the temporary (or the file itself when it is not regular). Returns
 * 0 or an errno, also kept in o->errnum. */
int output_open(struct output *o);
/* The body is whole: closes it and renames the temporary into place.
 * Returns 0 or an errno, also kept in o->errnum (the temporary is gone). */
int output_commit(struct output *o);
/* The body is not whole (or was refused): closes it and removes the
 * temporary. Safe to call again and from cleanup (Ctrl-C). */
void output_abandon(struct output *o);
/* What became of the file after output_abandon, for the URL's error line:
 * "nothing saved as f", "f left as it was", "123 B of it in /dev/null". */
void output_note(const struct output *o, uint64_t bytes, char *buf, size_t len);

#endif
