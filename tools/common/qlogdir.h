/*
 * --qlog-dir DIR / $QLOGDIR: the directory that gets one qlog per connection.
 * The tools check and create it up front, so that a bad --qlog-dir is a usage
 * error before any connection rather than a warning per connection; a bad
 * $QLOGDIR (perhaps left over from elsewhere) is one warning, and no qlogs.
 */
#ifndef MPQ_TOOL_QLOGDIR_H
#define MPQ_TOOL_QLOGDIR_H

#include "mpq/conn.h"

/* Picks |flag| or else $QLOGDIR (NULL when neither is set) into |*dir| and
 * makes sure it is a writable directory, creating it (one level, mode 0755)
 * when missing. Returns 0 (|*dir| NULL after a warning for a bad $QLOGDIR)
 * or TOOL_EXIT_USAGE after one line on stderr. */
int tool_qlog_dir(const char *flag, const char **dir);

/* An mpq_endpoint_config.qlog_start for the directory |dir| (the const char *
 * tool_qlog_dir gave): each server connection writes its qlog file there
 * (mpq_conn_set_qlog_dir, plain JSON-SEQ as the client's). A file that cannot
 * be written leaves that connection without a trace, as before. */
void tool_qlog_start(mpq_conn *conn, void *dir);

#endif
