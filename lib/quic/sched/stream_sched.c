/* The stream schedulers, by name (CLI.md -ssc). */
#include <string.h>

#include "quic/sched/stream_sched.h"

static const struct mpq_stream_sched_ops *const all[] = {
	&mpq_stream_sched_rr,
	&mpq_stream_sched_prio,
	&mpq_stream_sched_sprio,
};

const struct mpq_stream_sched_ops *mpq_stream_sched_find(const char *name)
{
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}
