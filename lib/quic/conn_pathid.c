/*
 * Path ID limits (multipath draft-21 §4, MAX_PATH_ID and PATHS_BLOCKED).
 * Path IDs are never reused, so each path closed (abandoned or failed) is one
 * fewer the peer can open: the limit we give moves up by one for each, so that
 * initial_max_path_id + 1 path IDs stay open to the peer, as many as our
 * slots hold (MPQ_MAX_PATHS at once, conn_slots.c). We raise it once a closed path's state
 * is released (3 PTO after PATH_ABANDON), or at once when the peer says it is
 * blocked (PATHS_BLOCKED) or when we are; the CIDs of the new path IDs follow
 * the MAX_PATH_ID. When the peer's limit blocks our client, it sends
 * PATHS_BLOCKED once per limit.
 */
#include "quic/conn.h"

/* Our limit to the peer from the path IDs closed: released ones, and with
 * |unreleased| those still in their 3 PTO too. Never more unreleased IDs
 * than slots (conn_slots.c), nor past the largest path ID (2^32-1). */
static void raise_limit(mpq_conn *conn, bool unreleased)
{
	uint64_t closed = conn->pathids_released;
	for (size_t i = 0; unreleased && i < conn->npaths; i++) {
		const mpq_conn_path *p = conn->paths[i];
		if (!p->released &&
		    (p->state == MPQ_PATH_ABANDONED || p->state == MPQ_PATH_FAILED))
			closed++;
	}
	uint64_t want = conn->local_tp.initial_max_path_id + closed;
	uint64_t room = conn->pathids_released + MPQ_MAX_PATHS - 1;
	if (want > room)
		want = room;
	if (want > UINT32_MAX)
		want = UINT32_MAX;
	if (want <= conn->local_max_path_id)
		return;
	mpq_conn_log(conn, 1, "path IDs up to %llu allowed", (unsigned long long)want);
	conn->local_max_path_id = want;
	conn->max_path_id_pending = true;
	mpq_conn_cids_replenish(conn);
}

void mpq_conn_pathids_on_release(mpq_conn *conn)
{
	raise_limit(conn, false);
	/* Its slot is free: CIDs for a path ID that waited for one. */
	mpq_conn_cids_replenish(conn);
}

void mpq_conn_pathids_blocked(mpq_conn *conn)
{
	raise_limit(conn, true);
	/* The peer's limit is the one in the way: tell it, once per value. */
	if (conn->peer_max_path_id <= conn->local_max_path_id &&
	    conn->paths_blocked_at != conn->peer_max_path_id + 1) {
		conn->paths_blocked_at = conn->peer_max_path_id + 1;
		conn->paths_blocked_pending = true;
	}
}

int mpq_conn_on_pathid_frame(mpq_conn *conn, const mpq_frame *fr, uint64_t ts)
{
	uint64_t v = fr->max_path_id.max;
	if (fr->type == MPQ_FT_MAX_PATH_ID) {
		if (v < conn->peer_tp.initial_max_path_id)
			return mpq_conn_fail(conn, MPQ_ERR_PROTO, fr->type,
					     "MAX_PATH_ID decreased", ts);
		if (v > conn->peer_max_path_id) { /* a smaller one is ignored */
			conn->peer_max_path_id = v;
			mpq_conn_cids_replenish(conn);
		}
		return 0;
	}
	/* PATHS_BLOCKED: the limit the peer saw. */
	if (v > conn->local_max_path_id)
		return mpq_conn_fail(conn, MPQ_ERR_PROTO, fr->type, "PATHS_BLOCKED above ours",
				     ts);
	if (v < conn->local_max_path_id)
		conn->max_path_id_pending = true; /* it has not seen our last one */
	else
		raise_limit(conn, true);
	return 0;
}

bool mpq_conn_pathids_want_send(const mpq_conn *conn)
{
	return conn->max_path_id_pending || conn->paths_blocked_pending;
}

/* One MAX_PATH_ID or PATHS_BLOCKED carrying |value|, if |*pending|. */
static void write_one(mpq_writer *w, uint64_t type, uint64_t value, uint8_t kind, bool *pending,
		      mpq_frame_rec *recs, size_t *n, size_t maxrecs)
{
	if (!*pending || *n >= maxrecs)
		return;
	mpq_frame fr = {.type = type};
	fr.max_path_id.max = value;
	if (mpq_frame_encode(w, &fr) != 0)
		return;
	*pending = false;
	recs[(*n)++] = (mpq_frame_rec){.kind = kind, .offset = value};
}

size_t mpq_conn_write_pathid_frames(mpq_conn *conn, mpq_writer *w, mpq_frame_rec *recs,
				    size_t maxrecs)
{
	size_t n = 0;
	write_one(w, MPQ_FT_MAX_PATH_ID, conn->local_max_path_id, MPQ_REC_MAX_PATH_ID,
		  &conn->max_path_id_pending, recs, &n, maxrecs);
	write_one(w, MPQ_FT_PATHS_BLOCKED, conn->peer_max_path_id, MPQ_REC_PATHS_BLOCKED,
		  &conn->paths_blocked_pending, recs, &n, maxrecs);
	return n;
}

void mpq_conn_pathids_on_lost(mpq_conn *conn, const mpq_frame_rec *r)
{
	/* Resent only while not superseded. */
	if (r->kind == MPQ_REC_MAX_PATH_ID && r->offset == conn->local_max_path_id)
		conn->max_path_id_pending = true;
	if (r->kind == MPQ_REC_PATHS_BLOCKED && r->offset == conn->peer_max_path_id)
		conn->paths_blocked_pending = true;
}
