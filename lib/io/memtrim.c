/* Giving memory back after a surge: see memtrim.h. */
#include <malloc.h>

#include "mpq/io/memtrim.h"

bool mpq_mem_trim_check(mpq_mem_trim *t, size_t held)
{
	if (held > t->peak)
		t->peak = held;
	if (t->peak - held < MPQ_MEM_TRIM_STEP || held > t->peak / 2)
		return false;
	malloc_trim(0);
	t->peak = held;
	return true;
}
