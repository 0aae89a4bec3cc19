/*
 * --qlog-dir DIR / $QLOGDIR: the directory that gets one qlog per connection.
 * Until the connection takes a qlog writer (lib/quic/qlog.h is not yet wired
 * into mpq_conn), the tools only check and create the directory.
 */
#ifndef MPQ_TOOL_QLOGDIR_H
#define MPQ_TOOL_QLOGDIR_H

/* Picks |flag| or else $QLOGDIR (NULL when neither is set) into |*dir| and
 * makes sure it is a writable directory, creating it (one level, mode 0755)
 * when missing. Returns 0 or TOOL_EXIT_USAGE after one line on stderr. */
int tool_qlog_dir(const char *flag, const char **dir);

#endif
