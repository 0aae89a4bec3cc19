/*
 * --qlog-dir DIR / $QLOGDIR: the directory that gets one qlog per connection.
 * The tools check and create it up front, so that a bad directory is a usage
 * error before any connection rather than a warning per connection.
 */
#ifndef MPQ_TOOL_QLOGDIR_H
#define MPQ_TOOL_QLOGDIR_H

/* Picks |flag| or else $QLOGDIR (NULL when neither is set) into |*dir| and
 * makes sure it is a writable directory, creating it (one level, mode 0755)
 * when missing. Returns 0 or TOOL_EXIT_USAGE after one line on stderr. */
int tool_qlog_dir(const char *flag, const char **dir);

#endif
