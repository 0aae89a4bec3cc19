/*
 * qlog to files, the I/O layer's side of mpq_conn_set_qlog (mpq/conn.h): sinks
 * writing a trace to a FILE* or a path, plain or zstd-compressed (one
 * streaming frame), and a connection's trace file in a directory. The core
 * opens no file (DESIGN.md "Two layers").
 */
#ifndef MPQ_IO_QLOG_FILE_H
#define MPQ_IO_QLOG_FILE_H

#include <stdbool.h>
#include <stdio.h>

#include "mpq/conn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A sink writing to |f|, zstd-compressed (one streaming frame, ended at close)
 * when |zstd| is set. close flushes |f| but does not fclose it. Returns 0,
 * MPQ_ERR_INVALID_ARGUMENT or MPQ_ERR_NOMEM. */
MPQ_EXPORT int mpq_qlog_sink_file(mpq_qlog_sink *sink, FILE *f, bool zstd);

/* A sink writing to a new file at |path| (created or truncated), compressed
 * with zstd when |zstd| is set or |path| ends in ".zst"; close closes the
 * file. Returns 0, MPQ_ERR_INVALID_ARGUMENT, MPQ_ERR_NOT_FOUND (a directory
 * of |path| does not exist), MPQ_ERR_INTERNAL (other open failures; errno is
 * left as fopen set it) or MPQ_ERR_NOMEM. File sinks report failed writes
 * as MPQ_ERR_INTERNAL with errno set by stdio, and zstd failures as
 * MPQ_ERR_INTERNAL. */
MPQ_EXPORT int mpq_qlog_sink_path(mpq_qlog_sink *sink, const char *path, bool zstd);

/* A sink that copies each write into a ring of |ring| bytes (at least 4096)
 * and hands it to |inner| from a thread of its own, in pieces of a quarter
 * of the ring or more: the writer pays a memcpy, the thread the system calls
 * (and zstd). A write waits while the ring is full: nothing is dropped.
 * flush writes out the ring, then flushes |inner|; close writes it out,
 * ends the thread and closes |inner|. An error of |inner| is returned by
 * every call after it. |inner| is copied and used by the thread only.
 * Returns 0, MPQ_ERR_INVALID_ARGUMENT (|inner| of an unknown struct_version
 * or without write, a ring too small) or MPQ_ERR_NOMEM (also when no
 * thread could be started). */
MPQ_EXPORT int mpq_qlog_sink_thread(mpq_qlog_sink *sink, const mpq_qlog_sink *inner, size_t ring);

/* Writes the trace of |conn| to DIR/<original DCID in hex>_<client|server>.sqlog,
 * zstd-compressed with a .zst suffix when |zstd| (mpq_conn_set_qlog with a
 * path sink). Call it right after creating the connection. Returns 0,
 * MPQ_ERR_NOT_FOUND (no such directory), MPQ_ERR_NOMEM or MPQ_ERR_INTERNAL
 * (the file could not be written). */
MPQ_EXPORT int mpq_conn_set_qlog_dir(mpq_conn *conn, const char *dir, bool zstd);

#ifdef __cplusplus
}
#endif
#endif
