/*
 * The connection's CIDs (RFC 9000 §5.1, §19.15-16; multipath draft-21 §4 and
 * §8.7-8.8: one CID sequence space per path ID) and address validation tokens
 * (§8.1.3, NEW_TOKEN): issuing CIDs for every path ID ahead of need and
 * registering them with the endpoint, following the peer's
 * (PATH_)NEW_CONNECTION_ID and Retire Prior To, answering
 * (PATH_)RETIRE_CONNECTION_ID, and the frames that carry them.
 */
#include <stdlib.h>
#include <string.h>

#include "quic/cid.h"
#include "quic/conn.h"

static void reset_token_for(mpq_conn *conn, const mpq_cid *cid, uint8_t token[16])
{
	if (conn->settings.reset_secret)
		mpq_cid_reset_token(conn->settings.reset_secret, cid, token);
	else
		conn->cb.rand(token, 16, conn->cb.user_data); /* no secret: unguessable, unused */
}

static void announce(mpq_conn *conn, const mpq_cid *cid, bool add)
{
	if (conn->cid_hook)
		conn->cid_hook(conn->cid_hook_ud, conn, cid, add);
}

void mpq_conn_cids_init(mpq_conn *conn)
{
	const uint8_t *token = conn->local_tp.has_stateless_reset_token
				       ? conn->local_tp.stateless_reset_token
				       : NULL;
	mpq_cidset_init_local(conn->local_cids[0], &conn->scid, token);
	mpq_cidset_init_peer(conn->peer_cids[0], &conn->dcid);
	conn->slots_taken = 1; /* slot 0: path 0 */
	conn->pathid_next = 1;
}

bool mpq_conn_multipath(const mpq_conn *conn)
{
	return conn->have_peer_tp && conn->local_tp.has_initial_max_path_id &&
	       conn->peer_tp.has_initial_max_path_id;
}

uint32_t mpq_conn_max_path_id(const mpq_conn *conn)
{
	if (!mpq_conn_multipath(conn))
		return 0;
	uint64_t m = conn->local_max_path_id;
	if (conn->peer_max_path_id < m)
		m = conn->peer_max_path_id;
	return m < UINT32_MAX ? (uint32_t)m : UINT32_MAX;
}

/* Issues CIDs of the path ID in |slot| until the peer holds as many as it
 * allows. */
static void replenish_path(mpq_conn *conn, uint32_t slot)
{
	mpq_cidset *s = conn->local_cids[slot];
	uint64_t want = conn->peer_tp.active_connection_id_limit;
	if (want > MPQ_CIDS_MAX)
		want = MPQ_CIDS_MAX;
	while (s->n < want) {
		mpq_cid cid;
		uint8_t token[16];
		mpq_cid_new(&cid, conn->settings.worker_id, conn->cb.rand, conn->cb.user_data);
		reset_token_for(conn, &cid, token);
		if (!mpq_cidset_issue(s, &cid, token))
			return;
		announce(conn, &cid, true);
	}
}

/* Keeps CIDs for path 0 and, with multipath, for every path ID both ends allow
 * (draft-21 §4: issue for unused path IDs ahead of need, without gaps). */
void mpq_conn_cids_replenish(mpq_conn *conn)
{
	if (!conn->handshake_complete || !conn->have_peer_tp)
		return;
	for (uint32_t slot = 0; slot < mpq_conn_nslots(conn); slot++) {
		int st = conn->paths[slot]->state;
		if ((conn->slots_taken & 1u << slot) &&
		    (slot == 0 || (st != MPQ_PATH_ABANDONED && st != MPQ_PATH_FAILED)))
			replenish_path(conn, slot);
	}
	/* New path IDs in order; one waits when no slot is free yet. */
	uint32_t max = mpq_conn_max_path_id(conn);
	while (conn->pathid_next <= max) {
		int slot = mpq_conn_slot_take(conn, (uint32_t)conn->pathid_next);
		if (slot < 0)
			return;
		replenish_path(conn, (uint32_t)slot);
		conn->pathid_next++;
	}
}

void mpq_conn_cids_on_peer_tparams(mpq_conn *conn)
{
	/* The server's handshake CID carries the reset token of its parameters. */
	if (conn->peer_tp.has_stateless_reset_token) {
		memcpy(conn->peer_cids[0]->v[0].token, conn->peer_tp.stateless_reset_token, 16);
		conn->peer_cids[0]->v[0].has_token = true;
	}
	conn->peer_max_path_id = conn->peer_tp.initial_max_path_id;
}

/* The peer's first CID is only known after its first long header packet. */
void mpq_conn_cids_set_peer_first(mpq_conn *conn, const mpq_cid *cid)
{
	conn->peer_cids[0]->v[0].cid = *cid;
}

int mpq_conn_slot_of_cid(const mpq_conn *conn, const mpq_cid *dcid)
{
	for (uint32_t slot = 0; slot < mpq_conn_nslots(conn); slot++) {
		const mpq_cidset *s = conn->local_cids[slot];
		for (size_t i = 0; i < s->n; i++)
			if (mpq_cid_eq(dcid, &s->v[i].cid))
				return (int)slot;
	}
	return -1;
}

/* The path ID an MP frame names: above our limit is a violation, a path we no
 * longer keep is ignored (draft-21 §8). With |take|, an ID at or above the
 * next we issue CIDs for is new and gets a slot; one below it without a slot
 * was released. */
int mpq_conn_frame_slot(mpq_conn *conn, const mpq_frame *fr, uint64_t pid, bool take, uint64_t ts)
{
	if (!mpq_conn_multipath(conn))
		return mpq_conn_fail(conn, MPQ_ERR_PROTO, fr->type, "multipath frame unnegotiated",
				     ts);
	if (pid > conn->local_max_path_id)
		return mpq_conn_fail(conn, MPQ_ERR_PROTO, fr->type, "path ID above the limit", ts);
	int slot = mpq_conn_slot_find(conn, pid);
	if (slot < 0 && take && pid >= conn->pathid_next)
		slot = mpq_conn_slot_take(conn, (uint32_t)pid);
	return slot;
}

static int on_new_cid(mpq_conn *conn, const mpq_frame *fr, uint64_t ts)
{
	int slot = 0;
	if (fr->type == MPQ_FT_PATH_NEW_CONNECTION_ID) {
		slot = mpq_conn_frame_slot(conn, fr, fr->new_cid.path_id, true, ts);
		if (slot < 0)
			return slot == -1 ? 0 : slot;
		int st = conn->paths[slot]->state;
		if (st == MPQ_PATH_ABANDONED || st == MPQ_PATH_FAILED)
			return 0;
	}
	int rv = mpq_cidset_on_new(conn->peer_cids[slot], fr->new_cid.seq,
				   fr->new_cid.retire_prior_to, &fr->new_cid.cid,
				   fr->new_cid.reset_token,
				   (size_t)conn->local_tp.active_connection_id_limit);
	if (rv != 0)
		return mpq_conn_fail(conn, rv, fr->type, "bad NEW_CONNECTION_ID", ts);
	if (slot == 0)
		conn->dcid = *mpq_cidset_current(conn->peer_cids[0]);
	return 0;
}

static int on_retire_cid(mpq_conn *conn, const mpq_frame *fr, const mpq_cid *pkt_dcid, uint64_t ts)
{
	int slot = 0;
	if (fr->type == MPQ_FT_PATH_RETIRE_CONNECTION_ID) {
		slot = mpq_conn_frame_slot(conn, fr, fr->retire_cid.path_id, false, ts);
		if (slot < 0)
			return slot == -1 ? 0 : slot;
	}
	mpq_cid gone;
	int rv = mpq_cidset_retire_local(conn->local_cids[slot], fr->retire_cid.seq, &gone);
	if (rv == MPQ_ERR_NOT_FOUND)
		return 0;
	/* RFC 9000 §19.16: not the CID the packet itself was sent to. */
	if (rv == 0 && mpq_cid_eq(&gone, pkt_dcid))
		rv = MPQ_ERR_PROTO;
	if (rv != 0)
		return mpq_conn_fail(conn, rv, fr->type, "bad RETIRE_CONNECTION_ID", ts);
	announce(conn, &gone, false);
	mpq_conn_cids_replenish(conn);
	return 0;
}

static int on_new_token(mpq_conn *conn, const mpq_frame *fr, uint64_t ts)
{
	if (conn->is_server)
		return mpq_conn_fail(conn, MPQ_ERR_PROTO, fr->type, "NEW_TOKEN from a client", ts);
	uint8_t *t = malloc(fr->new_token.len);
	if (!t)
		return MPQ_ERR_NOMEM;
	memcpy(t, fr->new_token.token, fr->new_token.len);
	free(conn->new_token);
	conn->new_token = t;
	conn->new_token_len = fr->new_token.len;
	return 0;
}

int mpq_conn_on_cid_frame(mpq_conn *conn, const mpq_frame *fr, const mpq_cid *pkt_dcid,
			  uint64_t ts)
{
	switch (fr->type) {
	case MPQ_FT_NEW_CONNECTION_ID:
	case MPQ_FT_PATH_NEW_CONNECTION_ID:
		return on_new_cid(conn, fr, ts);
	case MPQ_FT_RETIRE_CONNECTION_ID:
	case MPQ_FT_PATH_RETIRE_CONNECTION_ID:
		return on_retire_cid(conn, fr, pkt_dcid, ts);
	case MPQ_FT_NEW_TOKEN:
		return on_new_token(conn, fr, ts);
	default:
		return 0;
	}
}

static bool any_pending(const mpq_cidset *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].pending)
			return true;
	return false;
}

bool mpq_conn_cids_announcing(const mpq_conn *conn)
{
	for (uint32_t slot = 0; slot < mpq_conn_nslots(conn); slot++)
		if (any_pending(conn->local_cids[slot]))
			return true;
	return false;
}

bool mpq_conn_cids_want_send(const mpq_conn *conn)
{
	if (mpq_conn_cids_announcing(conn))
		return true;
	for (uint32_t slot = 0; slot < mpq_conn_nslots(conn); slot++)
		if (any_pending(conn->peer_cids[slot]))
			return true;
	return conn->new_token_pending;
}

/* Path 0 keeps the RFC 9000 frames, which every peer understands. Writes the
 * first NEW_CONNECTION_ID of |pid| still owed: 1 written, 0 none owed, -1 no
 * room. */
static int write_one_new_cid(mpq_conn *conn, uint32_t slot, mpq_writer *w, mpq_frame_rec *rec)
{
	mpq_cidset *l = conn->local_cids[slot];
	uint32_t pid = conn->paths[slot]->id;
	for (size_t i = 0; i < l->n; i++) {
		mpq_cid_entry *e = &l->v[i];
		if (!e->pending)
			continue;
		mpq_frame fr = {.type = pid ? MPQ_FT_PATH_NEW_CONNECTION_ID
					    : MPQ_FT_NEW_CONNECTION_ID};
		fr.new_cid.path_id = pid;
		fr.new_cid.seq = e->seq;
		fr.new_cid.cid = e->cid;
		memcpy(fr.new_cid.reset_token, e->token, 16);
		if (mpq_frame_encode(w, &fr) != 0)
			return -1;
		e->pending = false;
		*rec = (mpq_frame_rec){.kind = MPQ_REC_NEW_CID, .id = e->seq, .offset = pid};
		return 1;
	}
	return 0;
}

/* One CID of each path ID in turn, so that the first packet after the
 * handshake names as many path IDs as it can hold: a peer may open a path on
 * the first one it gets. */
static size_t write_new_cids(mpq_conn *conn, mpq_writer *w, mpq_frame_rec *recs, size_t maxrecs)
{
	size_t n = 0;
	bool more = true;
	while (more && n < maxrecs) {
		more = false;
		for (uint32_t slot = 0; slot < mpq_conn_nslots(conn) && n < maxrecs; slot++) {
			int rv = write_one_new_cid(conn, slot, w, &recs[n]);
			if (rv < 0)
				return n;
			n += (size_t)rv;
			more |= rv > 0;
		}
	}
	return n;
}

static size_t write_retire_cids(mpq_conn *conn, uint32_t slot, mpq_writer *w, mpq_frame_rec *recs,
				size_t maxrecs)
{
	size_t n = 0;
	mpq_cidset *p = conn->peer_cids[slot];
	uint32_t pid = conn->paths[slot]->id;
	for (size_t i = 0; i < p->n && n < maxrecs; i++) {
		mpq_cid_entry *e = &p->v[i];
		if (!e->pending)
			continue;
		mpq_frame fr = {.type = pid ? MPQ_FT_PATH_RETIRE_CONNECTION_ID
					    : MPQ_FT_RETIRE_CONNECTION_ID};
		fr.retire_cid.path_id = pid;
		fr.retire_cid.seq = e->seq;
		if (mpq_frame_encode(w, &fr) != 0)
			return n;
		e->pending = false;
		recs[n++] =
			(mpq_frame_rec){.kind = MPQ_REC_RETIRE_CID, .id = e->seq, .offset = pid};
	}
	return n;
}

size_t mpq_conn_write_cid_frames(mpq_conn *conn, mpq_writer *w, mpq_frame_rec *recs,
				 size_t maxrecs, bool *ack_eliciting)
{
	size_t n = write_new_cids(conn, w, recs, maxrecs);
	for (uint32_t slot = 0; slot < mpq_conn_nslots(conn) && n < maxrecs; slot++)
		n += write_retire_cids(conn, slot, w, recs + n, maxrecs - n);
	if (conn->new_token_pending && n < maxrecs) {
		mpq_frame fr = {.type = MPQ_FT_NEW_TOKEN};
		fr.new_token.token = conn->new_token;
		fr.new_token.len = conn->new_token_len;
		if (mpq_frame_encode(w, &fr) == 0) {
			conn->new_token_pending = false;
			recs[n++] = (mpq_frame_rec){.kind = MPQ_REC_NEW_TOKEN};
		}
	}
	if (n)
		*ack_eliciting = true;
	return n;
}

/* The records name path IDs; one whose slot went since is forgotten. */
void mpq_conn_cids_on_acked(mpq_conn *conn, const mpq_frame_rec *r)
{
	int slot = r->kind == MPQ_REC_RETIRE_CID ? mpq_conn_slot_find(conn, r->offset) : -1;
	if (slot >= 0)
		mpq_cidset_forget_peer(conn->peer_cids[slot], r->id);
}

void mpq_conn_cids_on_lost(mpq_conn *conn, const mpq_frame_rec *r)
{
	mpq_cid_entry *e;
	int slot = r->kind == MPQ_REC_NEW_TOKEN ? 0 : mpq_conn_slot_find(conn, r->offset);
	if (slot < 0)
		return;
	switch (r->kind) {
	case MPQ_REC_NEW_CID:
		if ((e = mpq_cidset_find(conn->local_cids[slot], r->id)))
			e->pending = true;
		break;
	case MPQ_REC_RETIRE_CID:
		if ((e = mpq_cidset_find(conn->peer_cids[slot], r->id)) && e->retired)
			e->pending = true;
		break;
	case MPQ_REC_NEW_TOKEN:
		conn->new_token_pending = conn->new_token != NULL;
		break;
	default:
		break;
	}
}

bool mpq_conn_is_peer_reset_token(const mpq_conn *conn, const uint8_t token[16])
{
	bool hit = false;
	for (uint32_t slot = 0; slot < mpq_conn_nslots(conn); slot++)
		hit |= mpq_cidset_is_reset_token(conn->peer_cids[slot], token);
	return hit;
}

MPQ_EXPORT const uint8_t *mpq_conn_new_token(const mpq_conn *conn, size_t *len)
{
	if (conn->is_server || !conn->new_token)
		return NULL;
	*len = conn->new_token_len;
	return conn->new_token;
}
