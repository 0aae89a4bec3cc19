/* Path schedulers by name, and the path orderings they share. */
#include <string.h>

#include "quic/sched/path_sched.h"

static const struct {
	const char *name;
	const struct mpq_path_sched_ops *ops;
} names[] = {
	{"rr", &mpq_path_sched_rr},
	{"minrtt", &mpq_path_sched_minrtt},
	{"mrtt", &mpq_path_sched_minrtt}, /* the seed's name */
	{"redundant", &mpq_path_sched_redundant},
	{"backup", &mpq_path_sched_backup},
	{"ecf", &mpq_path_sched_ecf},
};

const struct mpq_path_sched_ops *mpq_path_sched_find(const char *name)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i].name, name) == 0)
			return names[i].ops;
	return NULL;
}

int mpq_path_sched_tier(const mpq_path_info *paths, size_t n)
{
	int tier = -1;

	for (size_t i = 0; i < n; i++) {
		if (paths[i].use == MPQ_PATH_USE_AVAILABLE)
			return MPQ_PATH_USE_AVAILABLE;
		if (paths[i].use == MPQ_PATH_USE_BACKUP)
			tier = MPQ_PATH_USE_BACKUP;
	}
	return tier;
}

/* Whether |a| is faster than |b|: measured before unknown, then lower srtt,
 * then lower path_id (so the order does not depend on the array's). */
static bool faster(const mpq_path_info *a, const mpq_path_info *b)
{
	if (a->has_rtt_sample != b->has_rtt_sample)
		return a->has_rtt_sample;
	if (a->has_rtt_sample && a->srtt != b->srtt)
		return a->srtt < b->srtt;
	return a->path_id < b->path_id;
}

int mpq_path_sched_fastest(const mpq_path_info *paths, size_t n, int use, bool need_ready,
			   size_t bytes, uint64_t ts)
{
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		const mpq_path_info *p = &paths[i];

		if (p->use != use || (need_ready && !mpq_path_info_ready(p, bytes, ts)))
			continue;
		if (best < 0 || faster(p, &paths[best]))
			best = (int)i;
	}
	return best;
}
