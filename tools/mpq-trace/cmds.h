/* mpq-trace's subcommands (main.c dispatches on the first argument). */
#ifndef MPQ_TRACE_CMDS_H
#define MPQ_TRACE_CMDS_H

int trace_cmd_capture(int argc, char **argv);
int trace_cmd_inject(int argc, char **argv);
int trace_cmd_summary(int argc, char **argv);
int trace_cmd_qlog(int argc, char **argv);

#endif
