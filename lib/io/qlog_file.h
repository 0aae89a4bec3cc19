/*
 * qlog to files: the sinks the core's qlog writer (lib/quic/qlog.h) writes
 * through when the trace goes to a FILE* or a path, plain or zstd-compressed
 * (one streaming frame). The core opens no file (DESIGN.md "Two layers").
 * mpq_conn_set_qlog_dir (mpq/conn.h) names a connection's file and opens it
 * with these.
 */
#ifndef MPQ_IO_QLOG_FILE_H
#define MPQ_IO_QLOG_FILE_H

#include <stdbool.h>
#include <stdio.h>

#include "mpq/conn.h"

/* A sink writing to |f|, zstd-compressed (one streaming frame, ended at close)
 * when |zstd| is set. close flushes |f| but does not fclose it. Returns 0,
 * MPQ_ERR_INVALID_ARGUMENT or MPQ_ERR_NOMEM. */
int mpq_qlog_sink_file(mpq_qlog_sink *sink, FILE *f, bool zstd);

/* A sink writing to a new file at |path| (created or truncated), compressed
 * with zstd when |zstd| is set or |path| ends in ".zst"; close closes the
 * file. Returns 0, MPQ_ERR_INVALID_ARGUMENT, MPQ_ERR_NOT_FOUND (a directory
 * of |path| does not exist), MPQ_ERR_INTERNAL (other open failures; errno is
 * left as fopen set it) or MPQ_ERR_NOMEM. File sinks report failed writes
 * as MPQ_ERR_INTERNAL with errno set by stdio, and zstd failures as
 * MPQ_ERR_INTERNAL. */
int mpq_qlog_sink_path(mpq_qlog_sink *sink, const char *path, bool zstd);

#endif
