/*
 * Round-robin path scheduler: each packet goes to the next path, by path ID
 * after the one used last and wrapping around, that is AVAILABLE and has
 * window room and its pacer ready. BACKUP paths take turns the same way, but only while no path
 * is AVAILABLE at all; a full AVAILABLE path means waiting, not the backup.
 */
#include "quic/sched/path_sched.h"

static int rr_select(mpq_path_sched *s, const mpq_path_info *paths, size_t n, size_t bytes,
		     uint64_t queued, uint64_t ts)
{
	int use = mpq_path_sched_tier(paths, n);
	int best = -1;
	uint32_t best_dist = 0;

	for (size_t i = 0; i < n; i++) {
		const mpq_path_info *p = &paths[i];
		/* How far after the last path this one comes: 0 for the next ID,
		 * UINT32_MAX for the last path itself. */
		uint32_t dist = p->path_id - s->last_path_id - 1;

		if (p->use != use || !mpq_path_info_ready(p, bytes, ts))
			continue;
		if (best < 0 || dist < best_dist) {
			best = (int)i;
			best_dist = dist;
		}
	}
	if (best >= 0)
		s->last_path_id = paths[best].path_id;
	return best;
}

const struct mpq_path_sched_ops mpq_path_sched_rr = {
	.name = "rr",
	.select = rr_select,
};
