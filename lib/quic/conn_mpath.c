/*
 * Multipath (draft-ietf-quic-multipath-21): opening paths (client), accepting
 * them (server), PATH_ABANDON with state kept 3 PTO, PATH_STATUS_BACKUP /
 * AVAILABLE, MAX_PATH_ID and the *_BLOCKED frames, declaring a silent path
 * failed, and choosing the path of each datagram with the path scheduler.
 */
#include <string.h>

#include "quic/conn.h"

#define DEFAULT_FAIL_PTOS 4
#define ERR_PATH_UNSTABLE 0x3e76ULL /* PATH_UNSTABLE_OR_POOR */

MPQ_EXPORT bool mpq_conn_is_multipath(const mpq_conn *conn)
{
	return mpq_conn_multipath(conn);
}

/* Opens the path ID held by |slot|. */
static int open_path(mpq_conn *conn, uint32_t slot, const mpq_path *tuple, uint64_t ts)
{
	mpq_conn_path *p = conn->paths[slot];
	uint32_t pid = p->id;
	int rv = mpq_conn_path_init(p, pid, tuple, &conn->settings, conn->paths[0]->cc.cc.ops, ts);
	if (rv == 0) {
		rv = mpq_cc_group_add(&conn->cc_group, &p->cc.cc);
		if (rv != 0)
			mpq_conn_path_free(p);
	}
	if (rv != 0) {
		p->state = MPQ_PATH_UNUSED;
		return rv;
	}
	p->state = MPQ_PATH_VALIDATING;
	if (conn->npaths < slot + 1)
		conn->npaths = slot + 1;
	p->migrating = true; /* a challenge is outstanding */
	mpq_conn_path_challenge(conn, p, ts);
	mpq_conn_log(conn, 1, "path %u opening", pid);
	mpq_conn_qlog_tuple(conn, p, ts);
	return 0;
}

MPQ_EXPORT int mpq_conn_open_path(mpq_conn *conn, const mpq_path *tuple, uint32_t *path_id)
{
	if (conn->is_server || !mpq_conn_multipath(conn) || !conn->handshake_confirmed ||
	    conn->state >= MPQ_CONN_CLOSING)
		return MPQ_ERR_INVALID_ARGUMENT;
	uint32_t max = mpq_conn_max_path_id(conn);
	/* Path IDs are used in order and never twice (draft-21 §4): the lowest
	 * one with a slot and no path yet. */
	int slot = -1;
	for (uint32_t s = 1; s < mpq_conn_nslots(conn); s++) {
		const mpq_conn_path *p = conn->paths[s];
		if ((conn->slots_taken & 1u << s) && p->state == MPQ_PATH_UNUSED && p->id <= max &&
		    (slot < 0 || p->id < conn->paths[slot]->id))
			slot = (int)s;
	}
	if (slot < 0) {
		mpq_conn_pathids_blocked(conn);
		return MPQ_ERR_NOT_FOUND;
	}
	if (conn->peer_cids[slot]->n == 0 || conn->local_cids[slot]->n == 0)
		return MPQ_ERR_NOT_FOUND;
	int rv = open_path(conn, (uint32_t)slot, tuple, conn->now);
	if (rv == 0)
		*path_id = conn->paths[slot]->id;
	return rv;
}

mpq_conn_path *mpq_conn_accept_path(mpq_conn *conn, uint32_t slot, const mpq_path *from,
				    uint64_t ts)
{
	if (!conn->is_server || !conn->handshake_confirmed || slot >= mpq_conn_nslots(conn) ||
	    !from)
		return NULL;
	if (conn->peer_cids[slot]->n == 0)
		return NULL; /* we could not answer: the client sent no CID for it */
	if (open_path(conn, slot, from, ts) != 0)
		return NULL;
	return conn->paths[slot];
}

/* What was sent on a path that is going away goes to the others: stream
 * data, CIDs, control frames, all of it (as loss detection would). */
static void move_in_flight(mpq_conn *conn, mpq_conn_path *p)
{
	mpq_pktns *ns = &p->ns;
	for (size_t i = 0; i < ns->sent.n; i++) {
		mpq_sent_pkt *s = mpq_sent_at(&ns->sent, i);
		if (s->flags & MPQ_SENT_DONE)
			continue;
		mpq_recovery_requeue(conn, s);
		mpq_recovery_settle(p, ns, s);
	}
	mpq_sent_clear(&ns->sent);
	ns->loss_time = 0;
	p->probe = 0;
}

static bool any_path_usable(const mpq_conn *conn)
{
	for (size_t i = 0; i < conn->npaths; i++)
		if (mpq_conn_path_usable(conn->paths[i]))
			return true;
	return false;
}

/* |remote|: the peer abandoned it (else we did). */
static void abandon(mpq_conn *conn, mpq_conn_path *p, uint64_t code, bool remote, uint64_t ts)
{
	if (p->state == MPQ_PATH_ABANDONED || p->state == MPQ_PATH_UNUSED)
		return;
	p->state = MPQ_PATH_ABANDONED;
	p->abandon_code = code;
	p->abandon_pending = !p->abandon_sent;
	p->abandon_deadline = ts + 3 * mpq_conn_largest_pto(conn);
	p->challenge_pending = false;
	p->migrating = false;
	move_in_flight(conn, p);
	mpq_conn_dup_forget_path(conn, p);
	mpq_cc_group_remove(&conn->cc_group, &p->cc.cc);
	mpq_conn_log(conn, 2, "path %u abandoned (0x%llx)", p->id, (unsigned long long)code);
	/* The last one: the draft-21 §3.4 endpoint closes, or may first try (or
	 * wait for) a new path; 3 PTO for that, then NO_VIABLE_PATH. */
	if (!any_path_usable(conn) && !conn->no_path_deadline)
		conn->no_path_deadline = ts + 3 * mpq_conn_largest_pto(conn);
	if (conn->cb.path_abandoned)
		conn->cb.path_abandoned(conn, p->id, code, remote, conn->cb.user_data);
}

MPQ_EXPORT int mpq_conn_abandon_path(mpq_conn *conn, uint32_t path_id, uint64_t error)
{
	mpq_conn_path *p = mpq_conn_path_by_id(conn, path_id);
	if (!p || !mpq_conn_path_usable(p))
		return MPQ_ERR_NOT_FOUND;
	abandon(conn, p, error, false, conn->now);
	return 0;
}

void mpq_conn_path_failed(mpq_conn *conn, mpq_conn_path *p, int reason, uint64_t ts)
{
	if (!mpq_conn_path_usable(p))
		return;
	mpq_conn_log(conn, 2, "path %u failed", p->id);
	if (conn->cb.path_failed)
		conn->cb.path_failed(conn, p->id, reason, conn->cb.user_data);
	abandon(conn, p, ERR_PATH_UNSTABLE, false, ts);
	p->state = MPQ_PATH_FAILED;
}

MPQ_EXPORT int mpq_conn_set_path_status(mpq_conn *conn, uint32_t path_id, bool backup)
{
	mpq_conn_path *p = mpq_conn_path_by_id(conn, path_id);
	if (!p || !mpq_conn_path_usable(p))
		return MPQ_ERR_NOT_FOUND;
	bool changed = p->backup != backup;
	p->backup = backup;
	if (mpq_conn_multipath(conn)) {
		p->status_seq_tx++;
		p->status_pending = true;
	}
	if (changed && conn->cb.path_status_changed)
		conn->cb.path_status_changed(conn, p->id, backup, false, conn->cb.user_data);
	return 0;
}

/* The path an MP frame names, or NULL to ignore it (*rv set on a violation). */
static mpq_conn_path *named_path(mpq_conn *conn, const mpq_frame *fr, uint64_t pid, int *rv,
				 uint64_t ts)
{
	int slot = mpq_conn_frame_slot(conn, fr, pid, false, ts);
	*rv = slot < -1 ? slot : 0;
	if (slot < 0 || conn->paths[slot]->state == MPQ_PATH_UNUSED)
		return NULL;
	return conn->paths[slot];
}

static int on_abandon(mpq_conn *conn, const mpq_frame *fr, uint64_t ts)
{
	int slot = mpq_conn_frame_slot(conn, fr, fr->path_abandon.path_id, false, ts);
	if (slot > 0 && conn->paths[slot]->state == MPQ_PATH_UNUSED) {
		/* Closed before any packet of it came: no late ones to wait
		 * for, and its slot and ID count as released at once (else a
		 * path the peer dropped while validating held them for good). */
		conn->paths[slot]->state = MPQ_PATH_ABANDONED;
		conn->paths[slot]->released = true;
		conn->pathids_released++;
		mpq_conn_pathids_on_release(conn);
		return 0;
	}
	int rv;
	mpq_conn_path *p = named_path(conn, fr, fr->path_abandon.path_id, &rv, ts);
	if (!p)
		return rv;
	/* Answer with our own PATH_ABANDON unless we sent one (draft-21 §3.3). */
	if (p->state == MPQ_PATH_ABANDONED || p->state == MPQ_PATH_FAILED) {
		p->abandon_sent = true;
		return 0;
	}
	abandon(conn, p, fr->path_abandon.error_code, true, ts);
	return 0;
}

static int on_status(mpq_conn *conn, const mpq_frame *fr, uint64_t ts)
{
	int rv;
	mpq_conn_path *p = named_path(conn, fr, fr->path_status.path_id, &rv, ts);
	if (!p)
		return rv;
	/* Statuses share one sequence per path; older ones are ignored. */
	if (fr->path_status.seq + 1 <= p->status_seq_rx)
		return 0;
	p->status_seq_rx = fr->path_status.seq + 1;
	bool backup = fr->type == MPQ_FT_PATH_STATUS_BACKUP;
	if (p->backup == backup)
		return 0;
	p->backup = backup;
	if (conn->cb.path_status_changed)
		conn->cb.path_status_changed(conn, p->id, backup, true, conn->cb.user_data);
	return 0;
}

int mpq_conn_on_mp_frame(mpq_conn *conn, const mpq_frame *fr, uint64_t ts)
{
	if (!mpq_conn_multipath(conn))
		return mpq_conn_fail(conn, MPQ_ERR_PROTO, fr->type, "multipath frame unnegotiated",
				     ts);
	switch (fr->type) {
	case MPQ_FT_PATH_ABANDON:
		return on_abandon(conn, fr, ts);
	case MPQ_FT_PATH_STATUS_BACKUP:
	case MPQ_FT_PATH_STATUS_AVAILABLE:
		return on_status(conn, fr, ts);
	case MPQ_FT_MAX_PATH_ID:
	case MPQ_FT_PATHS_BLOCKED:
		return mpq_conn_on_pathid_frame(conn, fr, ts);
	case MPQ_FT_PATH_CIDS_BLOCKED: {
		int slot = mpq_conn_frame_slot(conn, fr, fr->path_cids_blocked.path_id, false, ts);
		if (slot < -1)
			return slot;
		/* No slot: released, or a path ID we issued no CIDs for yet. */
		uint64_t issued = slot >= 0 ? conn->local_cids[slot]->next_seq : 0;
		if ((slot >= 0 || fr->path_cids_blocked.path_id >= conn->pathid_next) &&
		    fr->path_cids_blocked.next_seq > issued)
			return mpq_conn_fail(conn, MPQ_ERR_PROTO, fr->type, "CIDs we never issued",
					     ts);
		return 0;
	}
	default:
		return 0;
	}
}

bool mpq_conn_mp_want_send(const mpq_conn *conn)
{
	for (size_t i = 0; i < conn->npaths; i++)
		if (conn->paths[i]->abandon_pending || conn->paths[i]->status_pending)
			return true;
	return mpq_conn_pathids_want_send(conn);
}

size_t mpq_conn_write_mp_frames(mpq_conn *conn, mpq_writer *w, mpq_frame_rec *recs, size_t maxrecs,
				bool *ack_eliciting)
{
	size_t n = 0;
	for (size_t i = 0; i < conn->npaths && n < maxrecs; i++) {
		mpq_conn_path *p = conn->paths[i];
		if (p->abandon_pending) {
			mpq_frame fr = {.type = MPQ_FT_PATH_ABANDON};
			fr.path_abandon.path_id = p->id;
			fr.path_abandon.error_code = p->abandon_code;
			if (mpq_frame_encode(w, &fr) != 0)
				break;
			p->abandon_pending = false;
			p->abandon_sent = true;
			recs[n++] = (mpq_frame_rec){.kind = MPQ_REC_PATH_ABANDON, .id = p->id};
		}
		if (p->status_pending && n < maxrecs) {
			mpq_frame fr = {.type = p->backup ? MPQ_FT_PATH_STATUS_BACKUP
							  : MPQ_FT_PATH_STATUS_AVAILABLE};
			fr.path_status.path_id = p->id;
			fr.path_status.seq = p->status_seq_tx;
			if (mpq_frame_encode(w, &fr) != 0)
				break;
			p->status_pending = false;
			recs[n++] = (mpq_frame_rec){.kind = MPQ_REC_PATH_STATUS,
						    .id = p->id,
						    .offset = p->status_seq_tx};
		}
	}
	if (n < maxrecs)
		n += mpq_conn_write_pathid_frames(conn, w, recs + n, maxrecs - n);
	if (n)
		*ack_eliciting = true;
	return n;
}

void mpq_conn_mp_on_lost(mpq_conn *conn, const mpq_frame_rec *r)
{
	mpq_conn_path *p = mpq_conn_path_by_id(conn, r->id);
	if (!p)
		return;
	if (r->kind == MPQ_REC_PATH_ABANDON && !p->released)
		p->abandon_pending = true;
	/* A status is resent only while it is still the latest (draft-21 §8.3). */
	if (r->kind == MPQ_REC_PATH_STATUS && r->offset == p->status_seq_tx)
		p->status_pending = true;
}

/* The last sign that |p| delivers: a packet arrived on it, or an ACK
 * acknowledged one sent on it. */
static uint64_t delivered_time(const mpq_conn_path *p)
{
	return p->last_rx_time > p->last_acked_time ? p->last_rx_time : p->last_acked_time;
}

/* |o| is active and delivered later than |p| did (not merely through |p|:
 * ACKs for |o| may travel on |p|). */
static bool delivered_since(const mpq_conn_path *o, const mpq_conn_path *p)
{
	return o != p && o->state == MPQ_PATH_ACTIVE && delivered_time(o) > delivered_time(p);
}

/* A path we only acknowledge on never times out on our side when it dies: a
 * path silent for 3 PTO while another delivers gets one PING per silence, so
 * that its PTOs can declare it failed (and the peer learns of it from our
 * PATH_ABANDON). When that check is due for |p|; MPQ_TIME_NEVER: not. */
static uint64_t silence_check_time(const mpq_conn *conn, const mpq_conn_path *p)
{
	if (!mpq_conn_multipath(conn) || p->state != MPQ_PATH_ACTIVE || !mpq_conn_path_usable(p) ||
	    p->bytes_in_flight || p->probe || p->pinged_silent_rx == p->last_rx_time + 1)
		return MPQ_TIME_NEVER;
	for (size_t k = 0; k < conn->npaths; k++) {
		const mpq_conn_path *o = conn->paths[k];
		if (o != p && o->state == MPQ_PATH_ACTIVE && o->last_rx_time > p->last_rx_time)
			return p->last_rx_time + 3 * mpq_conn_pto(conn, p, MPQ_LEVEL_APP);
	}
	return MPQ_TIME_NEVER;
}

static void ping_silent_paths(mpq_conn *conn, uint64_t ts)
{
	for (size_t i = 0; i < conn->npaths; i++) {
		mpq_conn_path *p = conn->paths[i];
		if (silence_check_time(conn, p) > ts)
			continue;
		for (size_t k = 0; k < conn->npaths; k++) {
			const mpq_conn_path *o = conn->paths[k];
			if (o != p && o->state == MPQ_PATH_ACTIVE &&
			    o->last_rx_time + 3 * mpq_conn_pto(conn, o, MPQ_LEVEL_APP) >= ts) {
				p->probe = 1;
				p->pinged_silent_rx = p->last_rx_time + 1;
				break;
			}
		}
	}
}

/* What we send on |p| went unacknowledged for several PTOs, and nothing
 * arrived on it either. PTOs alone prove nothing: ACKs may travel on another
 * path, and that one may be the broken one. */
static uint32_t fail_ptos(const mpq_conn *conn)
{
	return conn->settings.path_fail_ptos ? conn->settings.path_fail_ptos : DEFAULT_FAIL_PTOS;
}

static uint64_t fail_span(const mpq_conn *conn, const mpq_conn_path *p)
{
	return fail_ptos(conn) * mpq_conn_pto(conn, p, MPQ_LEVEL_APP);
}

static bool path_silent(const mpq_conn *conn, const mpq_conn_path *p, uint64_t ts)
{
	return mpq_conn_path_usable(p) && p->pto_count >= fail_ptos(conn) &&
	       p->last_rx_time + fail_span(conn, p) <= ts;
}

/* Another path delivered once |p| had been silent for as long as it takes to
 * fail, and within its own last 3 PTO: no PTO pending on it proves nothing
 * (with nothing in flight, none could run), nor does a delivery from before
 * an outage that may have cut both. */
static bool other_delivers(const mpq_conn *conn, const mpq_conn_path *p, uint64_t ts)
{
	for (size_t k = 0; k < conn->npaths; k++) {
		const mpq_conn_path *o = conn->paths[k];
		uint64_t t = delivered_time(o);
		if (delivered_since(o, p) && t > delivered_time(p) + fail_span(conn, p) &&
		    t + 3 * mpq_conn_pto(conn, o, MPQ_LEVEL_APP) >= ts)
			return true;
	}
	return false;
}

uint64_t mpq_conn_mp_expiry(const mpq_conn *conn)
{
	uint64_t t = MPQ_TIME_NEVER;
	for (size_t i = 0; i < conn->npaths; i++) {
		/* Only ahead of now: a due check that found no live path waits. */
		uint64_t s = silence_check_time(conn, conn->paths[i]);
		if (s > conn->now && s < t)
			t = s;
		/* A silent path is given up as soon as another shows it delivers
		 * (the ACK of the PING that asked). */
		if (path_silent(conn, conn->paths[i], conn->now) &&
		    other_delivers(conn, conn->paths[i], conn->now))
			t = conn->now;
	}
	for (size_t i = 1; i < conn->npaths; i++) {
		const mpq_conn_path *p = conn->paths[i];
		/* Not while its PATH_ABANDON waits to go out: the release waits too. */
		if ((p->state == MPQ_PATH_ABANDONED || p->state == MPQ_PATH_FAILED) &&
		    !p->released && !p->abandon_pending && p->abandon_deadline < t)
			t = p->abandon_deadline;
	}
	if (conn->no_path_deadline && conn->no_path_deadline < t)
		t = conn->no_path_deadline > conn->now ? conn->no_path_deadline : conn->now;
	return t;
}

/* RFC 9000 §20.1 NO_VIABLE_PATH: no path is left (draft-21 §3.4), rather
 * than waiting for the idle timeout. */
static void close_without_path(mpq_conn *conn, uint64_t ts)
{
	if (!mpq_conn_multipath(conn) || !conn->handshake_confirmed ||
	    conn->state >= MPQ_CONN_CLOSING || !conn->no_path_deadline)
		return;
	if (any_path_usable(conn)) {
		conn->no_path_deadline = 0; /* a new path opened meanwhile */
	} else if (ts >= conn->no_path_deadline) {
		conn->no_path_deadline = 0;
		mpq_conn_close_transport(conn, MPQ_TE_NO_VIABLE_PATH, 0,
					 "no viable path: every path was abandoned", ts);
	}
}

void mpq_conn_mp_on_timeout(mpq_conn *conn, uint64_t ts)
{
	ping_silent_paths(conn, ts);
	for (size_t i = 1; i < conn->npaths; i++) {
		mpq_conn_path *p = conn->paths[i];
		if ((p->state == MPQ_PATH_ABANDONED || p->state == MPQ_PATH_FAILED) &&
		    !p->released && ts >= p->abandon_deadline && !p->abandon_pending) {
			/* 3 PTO are over: late packets of this path are now dropped. */
			mpq_pktns_free(&p->ns);
			p->released = true;
			conn->pathids_released++;
			mpq_conn_pathids_on_release(conn);
		}
	}
	/* A path has failed when what we send on it goes unacknowledged for
	 * several PTOs AND nothing arrives on it either, while another path
	 * still delivers. */
	for (size_t i = 0; i < conn->npaths; i++) {
		mpq_conn_path *p = conn->paths[i];
		if (!path_silent(conn, p, ts))
			continue;
		if (other_delivers(conn, p, ts)) {
			mpq_conn_path_failed(conn, p, MPQ_PATH_FAIL_IDLE, ts);
			continue;
		}
		/* No evidence either way: a PING on each idle path gets some
		 * (its ACK, or its PTOs). */
		for (size_t k = 0; k < conn->npaths; k++) {
			mpq_conn_path *o = conn->paths[k];
			if (o != p && o->state == MPQ_PATH_ACTIVE && !o->bytes_in_flight &&
			    !o->pto_count && !o->probe)
				o->probe = 1;
		}
	}
	close_without_path(conn, ts);
}

/* The congestion window and the pacer of |p| allow a full packet now. */
bool mpq_conn_path_may_send_copy(mpq_conn *conn, mpq_conn_path *p, uint64_t ts)
{
	(void)conn;
	uint64_t mds = p->pmtud.size;
	if (p->bytes_in_flight + mds > mpq_cc_cwnd(&p->cc.cc))
		return false;
	uint64_t t = mpq_pacer_next_send_time(&p->pacer, mds, ts);
	if (t > ts) {
		p->next_send_time = t;
		return false;
	}
	return true;
}

bool mpq_conn_other_path_delivers(const mpq_conn *conn, const mpq_conn_path *p)
{
	for (size_t i = 0; i < conn->npaths; i++) {
		const mpq_conn_path *o = conn->paths[i];
		if (o->pto_count == 0 && delivered_since(o, p))
			return true;
	}
	return false;
}

bool mpq_conn_path_holds_data(const mpq_conn *conn, const mpq_conn_path *p)
{
	if (!p->backup)
		return false;
	for (size_t i = 0; i < conn->npaths; i++) {
		const mpq_conn_path *o = conn->paths[i];
		if (o != p && o->state == MPQ_PATH_ACTIVE && !o->backup)
			return true;
	}
	return false;
}

bool mpq_conn_path_may_send_data(mpq_conn *conn, mpq_conn_path *p, uint64_t ts)
{
	if (!conn->handshake_complete || !mpq_conn_streams_want_send(conn))
		return false;
	uint64_t mds = p->pmtud.size;
	if (p->bytes_in_flight + mds > mpq_cc_cwnd(&p->cc.cc)) {
		mpq_cc_set_app_limited(&p->cc.cc, false);
		return false;
	}
	uint64_t t = mpq_pacer_next_send_time(&p->pacer, mds, ts);
	if (t > ts) {
		p->next_send_time = t;
		return false;
	}
	return true;
}

/* Where ACKs and control frames go: the lowest-RTT path among those that
 * still deliver to us. A path silent for three PTOs while another is not may
 * be dead, and a receiver that only sends ACKs would otherwise never find
 * out (nothing of its own in flight to time out), leaving the sender without
 * ACKs for every path. */
static mpq_conn_path *lowest_rtt_path(mpq_conn *conn, uint64_t ts)
{
	mpq_conn_path *best = NULL, *recent = NULL;
	for (size_t i = 0; i < conn->npaths; i++) {
		mpq_conn_path *p = conn->paths[i];
		if (p->state != MPQ_PATH_ACTIVE)
			continue;
		if (!recent || p->last_rx_time > recent->last_rx_time)
			recent = p;
		/* Live: it delivers to us, and what we send on it is not in doubt
		 * (a path can die one way only). */
		bool live = p->last_rx_time + 3 * mpq_conn_pto(conn, p, MPQ_LEVEL_APP) >= ts &&
			    p->pto_count == 0;
		if (live && (!best || p->rtt.smoothed < best->rtt.smoothed))
			best = p;
	}
	if (best)
		return best;
	return recent ? recent : mpq_conn_path0(conn);
}

/* Asks the path scheduler for the path of the next stream data. */
static mpq_conn_path *scheduled_path(mpq_conn *conn, uint64_t ts)
{
	mpq_path_info info[MPQ_MAX_PATHS];
	mpq_conn_path *which[MPQ_MAX_PATHS];
	size_t n = 0;
	for (size_t i = 0; i < conn->npaths; i++) {
		mpq_conn_path *p = conn->paths[i];
		if (p->state == MPQ_PATH_UNUSED)
			continue;
		mpq_path_info *in = &info[n];
		in->path_id = p->id;
		in->use = p->state != MPQ_PATH_ACTIVE ? MPQ_PATH_USE_NONE
			  : p->backup		      ? MPQ_PATH_USE_BACKUP
						      : MPQ_PATH_USE_AVAILABLE;
		in->has_rtt_sample = p->rtt.has_sample;
		in->srtt = p->rtt.smoothed;
		in->rttvar = p->rtt.rttvar;
		in->min_rtt = p->rtt.min;
		in->cwnd = mpq_cc_cwnd(&p->cc.cc);
		in->bytes_in_flight = p->bytes_in_flight;
		in->pacing_ready = mpq_pacer_next_send_time(&p->pacer, p->pmtud.size, ts);
		in->max_datagram = p->pmtud.size;
		/* A path held back by its pacer alone wakes us when it may send. */
		if (in->use != MPQ_PATH_USE_NONE && in->pacing_ready > ts &&
		    mpq_path_info_has_room(in, 0))
			p->next_send_time = in->pacing_ready;
		which[n++] = p;
	}
	uint64_t queued = conn->tx_max_data > conn->tx_data ? conn->tx_max_data - conn->tx_data
							    : 0;
	int k = conn->psched.ops->select(&conn->psched, info, n, conn->settings.max_tx_udp_payload,
					 queued, ts);
	return k >= 0 ? which[k] : NULL;
}

mpq_conn_path *mpq_conn_choose_path(mpq_conn *conn, uint64_t ts, bool *data_ok)
{
	mpq_conn_path *p0 = mpq_conn_path0(conn);
	*data_ok = false;
	if (!mpq_conn_multipath(conn) || conn->npaths == 1 || !conn->handshake_complete) {
		*data_ok = mpq_conn_path_may_send_data(conn, p0, ts);
		return p0;
	}
	/* A path's own business first: validation and probes go on that path. */
	for (size_t i = 0; i < conn->npaths; i++) {
		mpq_conn_path *p = conn->paths[i];
		if (mpq_conn_path_usable(p) && (mpq_conn_path_want_send(p) || p->probe))
			return p;
	}
	/* Redundant: a path owed copies sends them when its window allows. */
	for (size_t i = 0; conn->ndups && i < conn->npaths; i++) {
		mpq_conn_path *p = conn->paths[i];
		if (p->state == MPQ_PATH_ACTIVE && mpq_conn_dup_owed(conn, p) &&
		    mpq_conn_path_may_send_copy(conn, p, ts)) {
			*data_ok = true;
			return p;
		}
	}
	if (mpq_conn_streams_want_send(conn)) {
		mpq_conn_path *p = scheduled_path(conn, ts);
		if (p && mpq_conn_path_may_send_data(conn, p, ts)) {
			*data_ok = true;
			return p;
		}
	}
	/* ACKs and control frames: the path with the lowest RTT (draft-21 §7). */
	return lowest_rtt_path(conn, ts);
}

MPQ_EXPORT size_t mpq_conn_path_count(const mpq_conn *conn)
{
	return conn->npaths;
}

MPQ_EXPORT int mpq_conn_get_path_stats(const mpq_conn *conn, size_t i, mpq_path_stats *out)
{
	if (i >= conn->npaths)
		return MPQ_ERR_NOT_FOUND;
	const mpq_conn_path *p = conn->paths[i];
	static const int states[] = {
		[MPQ_PATH_UNUSED] = 0,
		[MPQ_PATH_VALIDATING] = MPQ_PATH_STATE_VALIDATING,
		[MPQ_PATH_ACTIVE] = MPQ_PATH_STATE_ACTIVE,
		[MPQ_PATH_ABANDONED] = MPQ_PATH_STATE_ABANDONED,
		[MPQ_PATH_FAILED] = MPQ_PATH_STATE_FAILED,
	};
	memset(out, 0, sizeof(*out));
	out->path_id = p->id;
	out->state = states[p->state];
	out->backup = p->backup;
	out->tuple = p->tuple;
	out->bytes_sent = p->bytes_sent;
	out->bytes_received = p->bytes_received;
	out->packets_sent = p->packets_sent;
	out->packets_received = p->packets_received;
	out->packets_lost = p->packets_lost;
	out->srtt = p->rtt.has_sample ? p->rtt.smoothed : 0;
	out->cwnd = mpq_cc_cwnd(&p->cc.cc);
	out->ecn_state = p->ecn.state;
	out->ecn_sent_ect0 = p->ecn.sent_ect0;
	out->ecn_ce_events = p->ecn.ce_events;
	out->ecn_rx_ect0 = p->ns.ecn_rx.ect0;
	out->ecn_rx_ect1 = p->ns.ecn_rx.ect1;
	out->ecn_rx_ce = p->ns.ecn_rx.ce;
	out->ecn_peer_ect0 = p->ns.ecn_peer.ect0;
	out->ecn_peer_ect1 = p->ns.ecn_peer.ect1;
	out->ecn_peer_ce = p->ns.ecn_peer.ce;
	out->max_udp_payload = p->pmtud.size;
	out->largest_dgram_sent = p->largest_dgram_sent;
	out->largest_pkt_received = p->largest_pkt_received;
	out->pmtu_probes_sent = p->pmtud.probes_sent;
	out->pmtu_probes_lost = p->pmtud.probes_lost;
	out->pmtu_black_holes = p->pmtud.black_holes;
	return 0;
}
