/*
 * Giving memory back after a surge. glibc's malloc keeps freed heap memory for
 * reuse; send buffers that a surge of streams filled and acknowledgements
 * emptied would stay in the process's RSS until the next surge. The caller
 * reports what its endpoint holds (mpq_endpoint_send_memory) after each event;
 * once that has fallen by MPQ_MEM_TRIM_STEP or more and to half or less of
 * its peak since the last trim, malloc_trim returns the free pages.
 */
#ifndef MPQ_IO_MEMTRIM_H
#define MPQ_IO_MEMTRIM_H

#include <stdbool.h>
#include <stddef.h>

#include "mpq/mpq.h"

#define MPQ_MEM_TRIM_STEP (8u << 20)

typedef struct mpq_mem_trim {
	size_t peak; /* the most held since the last trim */
} mpq_mem_trim;

/* Notes |held| bytes; returns true when it trimmed. */
MPQ_EXPORT bool mpq_mem_trim_check(mpq_mem_trim *t, size_t held);

#endif
