/*
 * Trace-driven links in mahimahi's format: one line per delivery
 * opportunity, its time in ms since the start, non-decreasing; each
 * opportunity carries one MTU (1500 bytes) of IP packets; the trace repeats
 * with the period of its last time.
 */
#ifndef MPQ_LINKEMU_TRACE_H
#define MPQ_LINKEMU_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EMU_TRACE_MTU 1500

typedef struct emu_trace {
	uint64_t *at_ns; /* opportunity times within a period */
	size_t n;
	uint64_t period_ns;
} emu_trace;

/* Reads a trace file; NULL with a message in err. */
emu_trace *emu_trace_load(const char *path, char *err, size_t errlen);
/* The same from an open file (|path| names it in messages). */
emu_trace *emu_trace_read(FILE *f, const char *path, char *err, size_t errlen);
/* When opportunity |k| comes, counting from |base_ns|. */
uint64_t emu_trace_time(const emu_trace *tr, uint64_t base_ns, uint64_t k);
/* How many opportunities come before |t_ns| (base_ns <= t_ns). */
uint64_t emu_trace_before(const emu_trace *tr, uint64_t base_ns, uint64_t t_ns);

#endif
