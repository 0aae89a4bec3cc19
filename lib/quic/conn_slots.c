/*
 * Path IDs to slots. Path IDs are never reused and go up to 2^32-1
 * (multipath draft-21 §4), but only MPQ_MAX_PATHS of them are in use at once:
 * each in-use ID holds a slot (its path, CID sets and key phase marks) until
 * its path's state is released, 3 PTO after it closed; the slot then goes to
 * the next ID that needs one. conn_pathid.c keeps our limit within what the
 * slots hold, so a path ID the peer may use always finds one.
 */
#include <stdlib.h>
#include <string.h>

#include "quic/conn.h"

int mpq_conn_slot_find(const mpq_conn *conn, uint64_t pid)
{
	for (uint32_t s = 0; s < mpq_conn_nslots(conn); s++)
		if ((conn->slots_taken & 1u << s) && conn->paths[s]->id == pid)
			return (int)s;
	return -1;
}

/* Frees slot |s|, whose path was released: its CIDs stop routing here. */
static void recycle(mpq_conn *conn, uint32_t s)
{
	mpq_cidset *l = conn->local_cids[s];
	for (size_t i = 0; i < l->n; i++)
		if (conn->cid_hook)
			conn->cid_hook(conn->cid_hook_ud, conn, &l->v[i].cid, false);
	mpq_conn_path_free(conn->paths[s]);
	memset(conn->paths[s], 0, sizeof(*conn->paths[s]));
	memset(l, 0, sizeof(*l));
	memset(conn->peer_cids[s], 0, sizeof(*conn->peer_cids[s]));
	conn->kp.tx_started &= ~(1u << s);
	conn->kp.rx_phase_first_pn[s] = UINT64_MAX;
	conn->slots_taken &= ~(1u << s);
}

/* The state of slots 1 and up, allocated zeroed the first time one is
 * needed (a connection with multipath: once the handshake is done). */
static int more_slots(mpq_conn *conn)
{
	if (conn->more)
		return 0;
	struct mpq_conn_slots *m = calloc(1, sizeof(*m));
	if (!m)
		return MPQ_ERR_NOMEM;
	conn->more = m;
	for (uint32_t s = 1; s < MPQ_MAX_PATHS; s++) {
		conn->paths[s] = &m->paths[s - 1];
		conn->local_cids[s] = &m->local_cids[s - 1];
		conn->peer_cids[s] = &m->peer_cids[s - 1];
	}
	return 0;
}

void mpq_conn_slots_init(mpq_conn *conn)
{
	conn->paths[0] = &conn->path0;
	conn->local_cids[0] = &conn->local_cids0;
	conn->peer_cids[0] = &conn->peer_cids0;
}

void mpq_conn_slots_free(mpq_conn *conn)
{
	free(conn->more);
	conn->more = NULL;
}

int mpq_conn_slot_take(mpq_conn *conn, uint32_t pid)
{
	int found = mpq_conn_slot_find(conn, pid);
	if (found >= 0)
		return found;
	int rv = more_slots(conn);
	if (rv != 0)
		return rv;
	int s = -1;
	for (uint32_t i = 1; i < MPQ_MAX_PATHS && s < 0; i++)
		if (!(conn->slots_taken & 1u << i))
			s = (int)i;
	for (uint32_t i = 1; i < MPQ_MAX_PATHS && s < 0; i++)
		if (conn->paths[i]->released) {
			recycle(conn, i);
			s = (int)i;
		}
	if (s < 0)
		return -1;
	conn->slots_taken |= 1u << s;
	conn->paths[s]->id = pid;
	conn->paths[s]->state = MPQ_PATH_UNUSED;
	return s;
}
