/* mpq-trace summary --plot (plot.c). */
#ifndef MPQ_TRACE_PLOT_H
#define MPQ_TRACE_PLOT_H

#include "trace.h"

/* Writes |t|'s per-path series to DIR (made when missing) as data files and
 * gnuplot scripts, and renders them when gnuplot is installed; 0 or -1
 * (said). Needs t->series set before the capture was read. */
int trace_plot(const struct trace *t, const char *dir);

#endif
