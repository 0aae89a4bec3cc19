/*
 * Path validation and migration of the connection's one path (RFC 9000 §8.2,
 * §9): answering PATH_CHALLENGE, following a peer whose address changed (NAT
 * rebinding) with a challenge of our own and the 3x limit until it answers,
 * and going back to the old path if it never does.
 */
#include <string.h>

#include "quic/conn.h"

#define CHALLENGE_TRIES 3

static bool same_addr(const mpq_addr *a, const mpq_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static void new_challenge(mpq_conn *conn, uint64_t ts)
{
	conn->cb.rand(conn->challenge, sizeof(conn->challenge), conn->cb.user_data);
	conn->challenge_pending = true;
	/* RFC 9000 §8.2.4: give up after three times the larger PTO. */
	uint64_t pto = mpq_conn_pto(conn, MPQ_LEVEL_APP);
	conn->challenge_deadline = ts + pto;
	if (!conn->challenge_sends)
		conn->validation_deadline = ts + 3 * (pto > 3 * conn->settings.initial_rtt
							      ? pto : 3 * conn->settings.initial_rtt);
	conn->challenge_sends++;
}

/* A non-probing packet with the largest packet number so far came from a new
 * address: the peer moved. Send there, under the 3x limit, and validate. */
void mpq_conn_path_on_packet(mpq_conn *conn, const mpq_path *path, bool non_probing,
			     bool largest, uint64_t ts)
{
	if (!conn->is_server || !conn->handshake_confirmed || !path || !path->remote.len ||
	    same_addr(&path->remote, &conn->path.remote) || !non_probing || !largest)
		return;
	if (conn->local_tp.disable_active_migration && !conn->migrating)
		mpq_conn_log(conn, 1, "peer moved although migration is disabled");
	if (!conn->migrating)
		conn->prev_path = conn->path;
	conn->path = *path;
	conn->migrating = true;
	conn->migrations++;
	conn->address_validated = false;
	conn->bytes_rx = 0;
	conn->bytes_tx = 0;
	conn->challenge_sends = 0;
	new_challenge(conn, ts);
	mpq_conn_log(conn, 1, "peer address changed: validating the new path");
}

int mpq_conn_on_path_frame(mpq_conn *conn, const mpq_frame *fr, const mpq_path *path, uint64_t ts)
{
	if (fr->type == MPQ_FT_PATH_CHALLENGE) {
		/* Answer on the path it came from (RFC 9000 §8.2.2). */
		memcpy(conn->response, fr->path_challenge.data, 8);
		conn->response_pending = true;
		conn->response_path = path && path->remote.len ? *path : conn->path;
		return 0;
	}
	if (fr->type == MPQ_FT_PATH_RESPONSE && conn->migrating &&
	    memcmp(fr->path_challenge.data, conn->challenge, 8) == 0) {
		conn->migrating = false;
		conn->address_validated = true;
		conn->challenge_pending = false;
		mpq_conn_log(conn, 1, "new path validated");
	}
	(void)ts;
	return 0;
}

uint64_t mpq_conn_path_expiry(const mpq_conn *conn)
{
	if (!conn->migrating)
		return MPQ_TIME_NEVER;
	return conn->challenge_deadline < conn->validation_deadline ? conn->challenge_deadline
								    : conn->validation_deadline;
}

void mpq_conn_path_on_timeout(mpq_conn *conn, uint64_t ts)
{
	if (!conn->migrating)
		return;
	if (ts >= conn->validation_deadline) {
		/* RFC 9000 §9.3.2: no answer: back to the last validated path. */
		conn->path = conn->prev_path;
		conn->migrating = false;
		conn->address_validated = true;
		conn->challenge_pending = false;
		mpq_conn_log(conn, 1, "new path failed validation: back to the old one");
		return;
	}
	if (ts >= conn->challenge_deadline && conn->challenge_sends < CHALLENGE_TRIES)
		new_challenge(conn, ts);
	else if (ts >= conn->challenge_deadline)
		conn->challenge_deadline = conn->validation_deadline;
}

bool mpq_conn_path_want_send(const mpq_conn *conn)
{
	return conn->challenge_pending || conn->response_pending;
}

/* PATH_RESPONSE for the current path and PATH_CHALLENGE: the datagram that
 * carries either is padded to 1200 bytes (RFC 9000 §8.2.1-2). */
size_t mpq_conn_write_path_frames(mpq_conn *conn, mpq_writer *w, bool *pad, bool *ack_eliciting)
{
	size_t n = 0;
	if (conn->response_pending && same_addr(&conn->response_path.remote, &conn->path.remote)) {
		mpq_frame fr = {.type = MPQ_FT_PATH_RESPONSE};
		memcpy(fr.path_challenge.data, conn->response, 8);
		if (mpq_frame_encode(w, &fr) == 0) {
			conn->response_pending = false;
			n++;
		}
	}
	if (conn->challenge_pending) {
		mpq_frame fr = {.type = MPQ_FT_PATH_CHALLENGE};
		memcpy(fr.path_challenge.data, conn->challenge, 8);
		if (mpq_frame_encode(w, &fr) == 0) {
			conn->challenge_pending = false;
			n++;
		}
	}
	if (n) {
		*pad = true;
		*ack_eliciting = true;
	}
	return n;
}

/* A PATH_RESPONSE owed on another path than the current one goes alone. */
bool mpq_conn_path_response_elsewhere(const mpq_conn *conn, mpq_path *path)
{
	if (!conn->response_pending || same_addr(&conn->response_path.remote, &conn->path.remote))
		return false;
	*path = conn->response_path;
	return true;
}
