/*
 * hq's file access, the I/O layer below the sans-I/O hq server and client
 * (mpq/hq.h): a www root served without ever leaving it, and sinks writing
 * response bodies to a file descriptor or a FILE.
 */
#ifndef MPQ_IO_HQ_FILES_H
#define MPQ_IO_HQ_FILES_H

#include <stdbool.h>
#include <stdio.h>

#include "mpq/hq.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_hq_root mpq_hq_root;

/* Opens the www directory |dir| for serving: files below it only, refused as
 * described in mpq/hq.h (openat2 with RESOLVE_BENEATH; with |force_realpath|,
 * or on kernels without openat2, the realpath() prefix check). Returns 0,
 * MPQ_ERR_INVALID_ARGUMENT (not a readable directory) or MPQ_ERR_NOMEM. */
MPQ_EXPORT int mpq_hq_root_open(mpq_hq_root **out, const char *dir, bool force_realpath);
/* Closes |root| (NULL: nothing); free the servers using it first. */
MPQ_EXPORT void mpq_hq_root_close(mpq_hq_root *root);
/* The files of |root|, for mpq_hq_server_config.files. */
MPQ_EXPORT mpq_hq_files mpq_hq_root_files(mpq_hq_root *root);

/* Sinks writing to |fd| (blocking: a file or a pipe) or to |f|; the caller
 * keeps it (never closed). Return 0 or MPQ_ERR_INVALID_ARGUMENT (fd < 0,
 * f NULL). */
MPQ_EXPORT int mpq_hq_sink_fd(mpq_hq_sink *sink, int fd);
MPQ_EXPORT int mpq_hq_sink_file(mpq_hq_sink *sink, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
