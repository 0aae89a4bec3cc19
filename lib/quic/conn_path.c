/*
 * Path validation and migration (RFC 9000 §8.2, §9): answering PATH_CHALLENGE,
 * following a peer whose address changed (NAT rebinding) with a challenge of
 * our own and the 3x limit until it answers, and going back to the old
 * address if it never does. Each path of the connection validates on its own.
 */
#include <string.h>

#include "quic/conn.h"

#define CHALLENGE_TRIES 3

static bool same_addr(const mpq_addr *a, const mpq_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

void mpq_conn_path_challenge(mpq_conn *conn, mpq_conn_path *p, uint64_t ts)
{
	conn->cb.rand(p->challenge, sizeof(p->challenge), conn->cb.user_data);
	p->challenge_pending = true;
	/* RFC 9000 §8.2.4: give up after three times the larger PTO. */
	uint64_t pto = mpq_conn_pto(conn, p, MPQ_LEVEL_APP);
	p->challenge_deadline = ts + pto;
	if (!p->challenge_sends)
		p->validation_deadline = ts + 3 * (pto > 3 * conn->settings.initial_rtt
							   ? pto
							   : 3 * conn->settings.initial_rtt);
	p->challenge_sends++;
}

/* A non-probing packet with the largest packet number so far came from a new
 * address: the peer moved. Send there, under the 3x limit, and validate. The
 * packet itself counts: a peer may send nothing more until it hears from us. */
void mpq_conn_path_on_packet(mpq_conn *conn, mpq_conn_path *p, const mpq_path *from,
			     bool non_probing, bool largest, size_t len, uint64_t ts)
{
	if (!conn->is_server || !conn->handshake_confirmed || !from || !from->remote.len ||
	    same_addr(&from->remote, &p->tuple.remote) || !non_probing || !largest)
		return;
	if (conn->local_tp.disable_active_migration && !p->migrating)
		mpq_conn_log(conn, 1, "peer moved although migration is disabled");
	if (!p->migrating)
		p->prev_tuple = p->tuple;
	p->tuple = *from;
	p->ecn = (mpq_ecn_path){0}; /* a new path: its ECN is tested anew (RFC 9000 §13.4.2) */
	/* ... and its MTU (RFC 9000 §14.2). */
	uint32_t old = p->pmtud.size;
	p->pmtud.hdr = mpq_path_udp_overhead(from);
	mpq_pmtud_restart(&p->pmtud);
	if (p->pmtud.size != old)
		mpq_conn_path_size_changed(conn, p, old, ts);
	p->migrating = true;
	conn->migrations++;
	p->validated = false;
	p->bytes_rx = len;
	p->bytes_tx = 0;
	p->challenge_sends = 0;
	mpq_conn_path_challenge(conn, p, ts);
	mpq_conn_log(conn, 1, "peer address changed: validating the new path");
}

int mpq_conn_on_path_frame(mpq_conn *conn, mpq_conn_path *p, const mpq_frame *fr,
			   const mpq_path *from, size_t len, uint64_t ts)
{
	if (fr->type == MPQ_FT_PATH_CHALLENGE) {
		/* Answer on the path it came from (RFC 9000 §8.2.2). */
		memcpy(p->response, fr->path_challenge.data, 8);
		p->response_pending = true;
		p->response_tuple = from && from->remote.len ? *from : p->tuple;
		/* An address the peer never proved: no more than 3x back. */
		p->response_budget = 3 * len;
		return 0;
	}
	if (fr->type == MPQ_FT_PATH_RESPONSE && p->migrating &&
	    memcmp(fr->path_challenge.data, p->challenge, 8) == 0) {
		p->migrating = false;
		p->validated = true;
		p->challenge_pending = false;
		if (p->state == MPQ_PATH_VALIDATING)
			p->state = MPQ_PATH_ACTIVE;
		mpq_conn_log(conn, 2, "path %u validated", p->id);
		if (conn->cb.path_validated)
			conn->cb.path_validated(conn, p->id, &p->tuple, conn->cb.user_data);
	}
	(void)ts;
	return 0;
}

uint64_t mpq_conn_path_expiry(const mpq_conn_path *p)
{
	if (!p->migrating)
		return MPQ_TIME_NEVER;
	return p->challenge_deadline < p->validation_deadline ? p->challenge_deadline
							      : p->validation_deadline;
}

void mpq_conn_path_on_timeout(mpq_conn *conn, mpq_conn_path *p, uint64_t ts)
{
	if (!p->migrating)
		return;
	if (ts >= p->validation_deadline && p->state == MPQ_PATH_VALIDATING) {
		/* A new path that never answered is failed and abandoned (draft-21 §3.1). */
		mpq_conn_path_failed(conn, p, MPQ_PATH_FAIL_VALIDATION, ts);
		return;
	}
	if (ts >= p->validation_deadline) {
		/* RFC 9000 §9.3.2: no answer: back to the last validated address. */
		p->tuple = p->prev_tuple;
		p->migrating = false;
		p->validated = true;
		p->challenge_pending = false;
		mpq_conn_log(conn, 1, "new path failed validation: back to the old one");
		return;
	}
	if (ts >= p->challenge_deadline && p->challenge_sends < CHALLENGE_TRIES)
		mpq_conn_path_challenge(conn, p, ts);
	else if (ts >= p->challenge_deadline)
		p->challenge_deadline = p->validation_deadline;
}

bool mpq_conn_path_want_send(const mpq_conn_path *p)
{
	return p->challenge_pending || p->response_pending;
}

/* PATH_RESPONSE for the current address and PATH_CHALLENGE: the datagram that
 * carries either is padded to 1200 bytes (RFC 9000 §8.2.1-2). */
size_t mpq_conn_write_path_frames(mpq_conn_path *p, mpq_writer *w, bool *pad, bool *ack_eliciting)
{
	size_t n = 0;
	if (p->response_pending && same_addr(&p->response_tuple.remote, &p->tuple.remote)) {
		mpq_frame fr = {.type = MPQ_FT_PATH_RESPONSE};
		memcpy(fr.path_challenge.data, p->response, 8);
		if (mpq_frame_encode(w, &fr) == 0) {
			p->response_pending = false;
			n++;
		}
	}
	if (p->challenge_pending) {
		mpq_frame fr = {.type = MPQ_FT_PATH_CHALLENGE};
		memcpy(fr.path_challenge.data, p->challenge, 8);
		if (mpq_frame_encode(w, &fr) == 0) {
			p->challenge_pending = false;
			n++;
		}
	}
	if (n) {
		*pad = true;
		*ack_eliciting = true;
	}
	return n;
}

/* A PATH_RESPONSE owed to another address than the path's goes alone, in at
 * most |*budget| bytes. */
bool mpq_conn_path_response_elsewhere(const mpq_conn_path *p, mpq_path *to, size_t *budget)
{
	if (!p->response_pending || same_addr(&p->response_tuple.remote, &p->tuple.remote))
		return false;
	*to = p->response_tuple;
	*budget = p->response_budget;
	return true;
}
