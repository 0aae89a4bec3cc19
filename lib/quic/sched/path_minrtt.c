/*
 * Lowest-RTT path schedulers. minrtt (the seed's "mrtt") sends on the
 * AVAILABLE path with window room, its pacer ready, and the lowest smoothed
 * RTT; paths without
 * an RTT sample come after measured ones, lowest path ID first. BACKUP paths
 * are used only when no path is AVAILABLE, so a full AVAILABLE path means
 * waiting (-1). redundant picks the same first path and asks the connection
 * to copy the data onto every usable path. backup is the same rule under the
 * name the command line offers for backup-aware scheduling.
 */
#include "quic/sched/path_sched.h"

static int minrtt_select(mpq_path_sched *s, const mpq_path_info *paths, size_t n, size_t bytes,
			 uint64_t queued, uint64_t ts)
{
	int use = mpq_path_sched_tier(paths, n);

	if (use < 0)
		return -1;
	return mpq_path_sched_fastest(paths, n, use, true, bytes, ts);
}

const struct mpq_path_sched_ops mpq_path_sched_minrtt = {
	.name = "minrtt",
	.select = minrtt_select,
};

const struct mpq_path_sched_ops mpq_path_sched_redundant = {
	.name = "redundant",
	.duplicate = true,
	.select = minrtt_select,
};

const struct mpq_path_sched_ops mpq_path_sched_backup = {
	.name = "backup",
	.select = minrtt_select,
};
