/*
 * The connection's qlog trace (DESIGN.md "Trace output"): one JSON-SEQ trace per
 * connection, named by the original destination CID and the vantage point,
 * with packets and their frames, losses, recovery metrics, congestion states,
 * keys and the close. The bytes go to the caller's sink (the I/O layer's
 * lib/io/qlog_file.c writes files). Every function here is a no-op without a
 * trace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quic/conn.h"
#include "quic/qlog.h"

#define QLOG_MAX_FRAMES 64

static int key_type(const mpq_conn *conn, int level, bool tx)
{
	static const int client[MPQ_LEVEL_COUNT] = {MPQ_QLOG_KEY_CLIENT_INITIAL,
						    MPQ_QLOG_KEY_CLIENT_HANDSHAKE,
						    MPQ_QLOG_KEY_CLIENT_1RTT};
	static const int server[MPQ_LEVEL_COUNT] = {MPQ_QLOG_KEY_SERVER_INITIAL,
						    MPQ_QLOG_KEY_SERVER_HANDSHAKE,
						    MPQ_QLOG_KEY_SERVER_1RTT};
	/* Our tx keys are the client's when we are the client. */
	bool clients = tx != conn->is_server;
	return clients ? client[level] : server[level];
}

static void endpoint_of(const mpq_addr *a, mpq_qlog_endpoint *ep, char *buf)
{
	memset(ep, 0, sizeof(*ep));
	if (a->len)
		mpq_qlog_endpoint_addr(ep, buf, MPQ_QLOG_ADDRSTRLEN,
				       (const struct sockaddr *)&a->ss);
}

MPQ_EXPORT int mpq_conn_set_qlog(mpq_conn *conn, const mpq_qlog_sink *sink)
{
	/* A struct of a version we do not know is not ours to read, not even close. */
	if (!sink || sink->struct_version != MPQ_QLOG_SINK_V1)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (!conn || !sink->write || conn->qlog) {
		mpq_qlog_sink_close(sink);
		return MPQ_ERR_INVALID_ARGUMENT;
	}
	int rv;
	conn->qlog_frames = calloc(QLOG_MAX_FRAMES, sizeof(mpq_frame));
	if (!conn->qlog_frames) {
		mpq_qlog_sink_close(sink);
		return MPQ_ERR_NOMEM;
	}
	rv = mpq_qlog_open(&conn->qlog, sink,
			   conn->is_server ? MPQ_QLOG_VP_SERVER : MPQ_QLOG_VP_CLIENT, &conn->odcid,
			   "mpquic", conn->created);
	if (rv != 0) {
		free(conn->qlog_frames);
		conn->qlog_frames = NULL;
		return rv;
	}
	char lbuf[MPQ_QLOG_ADDRSTRLEN], rbuf[MPQ_QLOG_ADDRSTRLEN];
	mpq_qlog_endpoint local, remote;
	endpoint_of(&conn->paths[0]->tuple.local, &local, lbuf);
	endpoint_of(&conn->paths[0]->tuple.remote, &remote, rbuf);
	local.cids = &conn->scid;
	local.ncids = 1;
	remote.cids = &conn->dcid;
	remote.ncids = 1;
	mpq_qlog_connection_started(conn->qlog, conn->created, &local, &remote);
	mpq_qlog_parameters_set(conn->qlog, conn->created, MPQ_QLOG_LOCAL, &conn->local_tp);
	mpq_qlog_tuple_assigned(conn->qlog, conn->created, "", &local, &remote);
	return 0;
}

void mpq_conn_qlog_close(mpq_conn *conn)
{
	if (!conn->qlog)
		return;
	mpq_qlog_close(conn->qlog);
	conn->qlog = NULL;
	free(conn->qlog_frames);
	conn->qlog_frames = NULL;
}

size_t mpq_conn_qlog_decode(mpq_conn *conn, const uint8_t *payload, size_t len)
{
	if (!conn->qlog)
		return 0;
	mpq_reader r;
	size_t n = 0;
	mpq_reader_init(&r, payload, len);
	while (n < QLOG_MAX_FRAMES && mpq_reader_left(&r) > 0 &&
	       mpq_frame_decode(&conn->qlog_frames[n], &r) == 0)
		n++;
	return n;
}

/* Packet events carry path_id once multipath is negotiated (DESIGN.md). */
static int64_t logged_path(const mpq_conn *conn, const mpq_pkt_hd *hd, uint32_t path_id)
{
	if (!mpq_conn_multipath(conn))
		return -1;
	return hd && hd->type != MPQ_PKT_1RTT ? 0 : (int64_t)path_id;
}

void mpq_conn_path_size_changed(mpq_conn *conn, mpq_conn_path *p, uint32_t old, uint64_t ts)
{
	mpq_conn_path_set_size(p);
	mpq_qlog_mtu_updated(conn->qlog, ts, logged_path(conn, NULL, p->id), old, p->pmtud.size,
			     p->pmtud.complete);
}

void mpq_conn_qlog_ecn(mpq_conn *conn, mpq_conn_path *p, uint64_t ts)
{
	if (p->ecn.state == p->ecn_logged)
		return;
	mpq_qlog_ecn_state_updated(conn->qlog, ts, logged_path(conn, NULL, p->id), p->ecn_logged,
				   p->ecn.state);
	p->ecn_logged = p->ecn.state;
}

void mpq_conn_qlog_packet(mpq_conn *conn, bool sent, const mpq_pkt_hd *hd, uint32_t path_id,
			  size_t size, size_t nframes, uint64_t ts)
{
	if (!conn->qlog)
		return;
	mpq_qlog_hdr h;
	mpq_qlog_hdr_from_pkt(&h, hd);
	h.size = size;
	int64_t pid = logged_path(conn, hd, path_id);
	if (sent)
		mpq_qlog_packet_sent(conn->qlog, ts, &h, pid, conn->qlog_frames, nframes, NULL);
	else
		mpq_qlog_packet_received(conn->qlog, ts, &h, pid, conn->qlog_frames, nframes,
					 NULL);
}

void mpq_conn_qlog_tuple(mpq_conn *conn, const mpq_conn_path *p, uint64_t ts)
{
	if (!conn->qlog)
		return;
	char lbuf[MPQ_QLOG_ADDRSTRLEN], rbuf[MPQ_QLOG_ADDRSTRLEN], id[16];
	mpq_qlog_endpoint local, remote;
	endpoint_of(&p->tuple.local, &local, lbuf);
	endpoint_of(&p->tuple.remote, &remote, rbuf);
	snprintf(id, sizeof(id), "%u", p->id);
	mpq_qlog_tuple_assigned(conn->qlog, ts, id, &local, &remote);
}

void mpq_conn_qlog_dropped(mpq_conn *conn, const mpq_pkt_hd *hd, const char *trigger, uint64_t ts)
{
	if (!conn->qlog)
		return;
	mpq_qlog_hdr h;
	mpq_qlog_hdr_from_pkt(&h, hd);
	mpq_qlog_packet_dropped(conn->qlog, ts, &h, -1, trigger);
}

void mpq_conn_qlog_lost(mpq_conn *conn, int level, uint32_t path_id, const mpq_sent_pkt *p,
			const char *trigger, uint64_t ts)
{
	if (!conn->qlog)
		return;
	static const int types[MPQ_LEVEL_COUNT] = {MPQ_PKT_INITIAL, MPQ_PKT_HANDSHAKE,
						   MPQ_PKT_1RTT};
	mpq_qlog_hdr h = {.type = types[level], .pn = p->pn, .size = p->size, .key_phase_bit = -1};
	int64_t pid = mpq_conn_multipath(conn) ? (level == MPQ_LEVEL_APP ? (int64_t)path_id : 0)
					       : -1;
	mpq_qlog_packet_lost(conn->qlog, ts, &h, pid, NULL, 0, trigger);
}

static int cc_state(const mpq_conn_path *p)
{
	const mpq_cc *cc = &p->cc.cc;
	if (mpq_cc_in_recovery(cc))
		return MPQ_QLOG_CC_RECOVERY;
	if (mpq_cc_app_limited(cc))
		return MPQ_QLOG_CC_APPLICATION_LIMITED;
	if (mpq_cc_in_css(cc))
		return MPQ_QLOG_CC_CONSERVATIVE_SLOW_START;
	return mpq_cc_in_slow_start(cc) ? MPQ_QLOG_CC_SLOW_START
					: MPQ_QLOG_CC_CONGESTION_AVOIDANCE;
}

void mpq_conn_qlog_metrics(mpq_conn *conn, mpq_conn_path *p, const char *trigger, uint64_t ts)
{
	if (!conn->qlog)
		return;
	mpq_qlog_metrics m;
	mpq_qlog_metrics_init(&m);
	/* Each path has its own window and RTT: its events name it. */
	int64_t pid = mpq_conn_multipath(conn) ? (int64_t)p->id : -1;
	m.min_rtt = p->rtt.min;
	m.smoothed_rtt = p->rtt.smoothed;
	m.latest_rtt = p->rtt.latest;
	m.rtt_variance = p->rtt.rttvar;
	m.pto_count = p->pto_count;
	m.congestion_window = mpq_cc_cwnd(&p->cc.cc);
	m.bytes_in_flight = p->bytes_in_flight;
	if (mpq_cc_ssthresh(&p->cc.cc) != UINT64_MAX)
		m.ssthresh = mpq_cc_ssthresh(&p->cc.cc);
	mpq_qlog_recovery_metrics_updated(conn->qlog, ts, pid, &m);
	int state = cc_state(p);
	if (state != p->qlog_cc_state) {
		mpq_qlog_congestion_state_updated(conn->qlog, ts, pid, p->qlog_cc_state, state,
						  state == MPQ_QLOG_CC_RECOVERY ? trigger : NULL);
		p->qlog_cc_state = state;
	}
}

void mpq_conn_qlog_key(mpq_conn *conn, int level, bool tx, bool discarded, int trigger,
		       uint64_t ts)
{
	if (!conn->qlog)
		return;
	int64_t phase = level == MPQ_LEVEL_APP ? (int64_t)conn->kp.updates : -1;
	if (discarded)
		mpq_qlog_key_discarded(conn->qlog, ts, key_type(conn, level, tx), phase, trigger);
	else
		mpq_qlog_key_updated(conn->qlog, ts, key_type(conn, level, tx), phase, trigger);
}

void mpq_conn_qlog_params(mpq_conn *conn, uint64_t ts)
{
	if (conn->qlog)
		mpq_qlog_parameters_set(conn->qlog, ts, MPQ_QLOG_REMOTE, &conn->peer_tp);
}

/* The qlog trigger of a close (quic-events' ConnectionClosed). */
static const char *close_trigger(const mpq_conn_error *e)
{
	switch (e->cause) {
	case MPQ_CLOSE_LOCAL_APP:
		return "application";
	case MPQ_CLOSE_PEER:
		return e->app ? "application" : "error";
	case MPQ_CLOSE_IDLE_TIMEOUT:
		return "idle_timeout";
	case MPQ_CLOSE_HANDSHAKE_TIMEOUT:
		return "aborted"; /* the handshake was given up on */
	case MPQ_CLOSE_STATELESS_RESET:
		return "stateless_reset";
	case MPQ_CLOSE_VERSION_MISMATCH:
		return "version_mismatch";
	case MPQ_CLOSE_LOCAL_ERROR:
		return "error";
	default:
		return "unspecified";
	}
}

void mpq_conn_qlog_closed(mpq_conn *conn, uint64_t ts)
{
	if (!conn->qlog)
		return;
	const mpq_conn_error *e = &conn->err;
	/* Only a CONNECTION_CLOSE, sent or received, carries an error code. */
	bool coded = e->cause == MPQ_CLOSE_LOCAL_ERROR || e->cause == MPQ_CLOSE_LOCAL_APP ||
		     e->cause == MPQ_CLOSE_PEER;
	int space = !coded   ? MPQ_QLOG_ERROR_NONE
		    : e->app ? MPQ_QLOG_ERROR_APPLICATION
			     : MPQ_QLOG_ERROR_TRANSPORT;
	const char *trigger = close_trigger(e);
	mpq_qlog_connection_closed(conn->qlog, ts, e->remote ? MPQ_QLOG_REMOTE : MPQ_QLOG_LOCAL,
				   space, e->code, (const uint8_t *)e->reason, strlen(e->reason),
				   trigger);
	mpq_qlog_flush(conn->qlog);
}
