/*
 * Connection life cycle: creation of client and server connections, timers,
 * closing and draining, key discard, and the public getters.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quic/cid.h"
#include "quic/conn.h"
#include "quic/frame.h"
#include "quic/packet.h"
#include "quic/qlog.h"

#define DEFAULT_INITIAL_RTT (333 * MPQ_MS)
#define DEFAULT_HANDSHAKE_TIMEOUT (10 * MPQ_SEC)
#define DEFAULT_MAX_TX_UDP_PAYLOAD 1452
#define DEFAULT_STREAM_SEND_WINDOW (16 * 1024 * 1024)
#define DEFAULT_SEND_BUDGET (32 * 1024 * 1024)

MPQ_EXPORT void mpq_settings_default(mpq_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->struct_version = MPQ_SETTINGS_VERSION;
	s->version = MPQ_VERSION_1;
	s->initial_rtt = DEFAULT_INITIAL_RTT;
	s->handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT;
	s->max_tx_udp_payload = DEFAULT_MAX_TX_UDP_PAYLOAD;
	s->stream_send_window = DEFAULT_STREAM_SEND_WINDOW;
	s->send_budget = DEFAULT_SEND_BUDGET;
	s->cc = "cubic";
	s->stream_sched = "rr";
	s->path_sched = "minrtt";
	s->max_path_id = 3;
}

MPQ_EXPORT void mpq_callbacks_default(mpq_callbacks *cb)
{
	memset(cb, 0, sizeof(*cb));
	cb->struct_version = MPQ_CALLBACKS_VERSION;
}

int mpq_settings_check(const mpq_settings *s, const mpq_tparams *tp, const mpq_callbacks *cb)
{
	if (!s || !tp || !cb || s->struct_version != MPQ_SETTINGS_V1 ||
	    tp->struct_version != MPQ_TPARAMS_V1 || cb->struct_version != MPQ_CALLBACKS_V1)
		return MPQ_ERR_INVALID_ARGUMENT;
	return 0;
}

int mpq_settings_own_names(mpq_settings *s)
{
	const struct mpq_cc_ops *cc = mpq_cc_find(s->cc ? s->cc : "cubic");
	const struct mpq_stream_sched_ops *sched =
		mpq_stream_sched_find(s->stream_sched ? s->stream_sched : "rr");
	const struct mpq_path_sched_ops *psched =
		mpq_path_sched_find(s->path_sched ? s->path_sched : "minrtt");
	if (!cc || !sched || !psched)
		return MPQ_ERR_INVALID_ARGUMENT;
	s->cc = cc->name;
	s->stream_sched = sched->name;
	s->path_sched = psched->name;
	return 0;
}

void mpq_conn_log(const mpq_conn *conn, int level, const char *fmt, ...)
{
	if (!conn->settings.log)
		return;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn->settings.log(conn->settings.log_user_data, level, msg);
}

static int conn_alloc(mpq_conn **out, bool is_server, const mpq_path *path,
		      const mpq_settings *settings, const mpq_tparams *tparams,
		      const mpq_callbacks *cb, uint64_t ts)
{
	if (mpq_settings_check(settings, tparams, cb) != 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	mpq_settings own = *settings;
	if (mpq_settings_own_names(&own) != 0 || !cb->rand ||
	    !mpq_pkt_version_supported(settings->version) ||
	    settings->max_tx_udp_payload < MPQ_MIN_INITIAL_DATAGRAM ||
	    settings->max_tx_udp_payload > UINT16_MAX ||
	    (settings->pmtud_max_udp_payload &&
	     (settings->pmtud_max_udp_payload < MPQ_MIN_INITIAL_DATAGRAM ||
	      settings->pmtud_max_udp_payload > UINT16_MAX)))
		return MPQ_ERR_INVALID_ARGUMENT;
	const struct mpq_cc_ops *cc = mpq_cc_find(own.cc);
	const struct mpq_stream_sched_ops *sched = mpq_stream_sched_find(own.stream_sched);
	const struct mpq_path_sched_ops *psched = mpq_path_sched_find(own.path_sched);
	mpq_conn *conn = calloc(1, sizeof(*conn));
	if (!conn)
		return MPQ_ERR_NOMEM;
	mpq_conn_slots_init(conn);
	conn->is_server = is_server;
	conn->state = MPQ_CONN_HANDSHAKE;
	conn->version = settings->version;
	/* Nothing of the caller's is kept: the token is copied by the client,
	 * server_name is cleared once TLS has it, the reset secret is copied. */
	conn->settings = own;
	conn->settings.token = NULL;
	conn->settings.tokenlen = 0;
	if (settings->reset_secret) {
		memcpy(conn->reset_secret, settings->reset_secret, MPQ_RESET_SECRET_LEN);
		conn->settings.reset_secret = conn->reset_secret;
	}
	if (!conn->settings.stream_send_window)
		conn->settings.stream_send_window = DEFAULT_STREAM_SEND_WINDOW;
	if (!conn->settings.send_budget)
		conn->settings.send_budget = DEFAULT_SEND_BUDGET;
	conn->send_mem.limit = conn->settings.send_budget;
	conn->cb = *cb;
	conn->local_tp = *tparams;
	if (settings->add_address)
		conn->local_tp.has_add_address = 1;
	if (settings->multipath) {
		/* Path IDs beyond our table could never be used: do not offer them. */
		conn->local_tp.has_initial_max_path_id = 1;
		conn->local_tp.initial_max_path_id = settings->max_path_id < MPQ_MAX_PATHS - 1
							     ? settings->max_path_id
							     : MPQ_MAX_PATHS - 1;
	}
	conn->local_max_path_id = conn->local_tp.initial_max_path_id;
	mpq_tparams_default(&conn->peer_tp);
	conn->created = ts;
	conn->now = ts;
	int rv = mpq_conn_path_init(conn->paths[0], 0, path, settings, cc, ts);
	if (rv == 0)
		conn->npaths = 1;
	for (int l = MPQ_LEVEL_INITIAL; l < MPQ_LEVEL_APP && rv == 0; l++)
		rv = mpq_pktns_init(&conn->hs_ns[l], l);
	if (rv == 0)
		rv = mpq_conn_streams_init(conn);
	if (rv == 0)
		rv = mpq_cc_group_add(&conn->cc_group, &conn->paths[0]->cc.cc);
	if (rv != 0) {
		mpq_conn_del(conn);
		return rv;
	}
	conn->sched.ops = sched;
	mpq_path_sched_init(&conn->psched, psched);
	mpq_cid_new(&conn->scid, settings->worker_id, cb->rand, cb->user_data);
	conn->local_tp.has_initial_scid = 1;
	conn->local_tp.initial_scid = conn->scid;
	*out = conn;
	return 0;
}

/* Initial keys from the client's first DCID; each side sends with its own. */
static int install_initial_keys(mpq_conn *conn)
{
	mpq_pktns *ns = &conn->hs_ns[MPQ_LEVEL_INITIAL];
	mpq_crypto_keys_free(&ns->tx);
	mpq_crypto_keys_free(&ns->rx);
	if (conn->is_server)
		return mpq_crypto_initial_keys(conn->version, &conn->initial_dcid, &ns->rx,
					       &ns->tx);
	return mpq_crypto_initial_keys(conn->version, &conn->initial_dcid, &ns->tx, &ns->rx);
}

/* Starts TLS once the Initial keys are in place. */
static int conn_start(mpq_conn *conn, mpq_tls_ctx *tls, uint64_t ts)
{
	int rv = mpq_handshake_init(conn, tls);
	if (rv != 0)
		return rv;
	mpq_conn_cids_init(conn);
	uint64_t idle = conn->local_tp.max_idle_timeout * MPQ_MS;
	conn->idle_deadline = idle ? ts + idle : MPQ_TIME_NEVER;
	return 0;
}

MPQ_EXPORT int mpq_conn_client_new(mpq_conn **out, const mpq_path *path,
				   const mpq_settings *settings, const mpq_tparams *tparams,
				   const mpq_callbacks *cb, mpq_tls_ctx *tls, uint64_t ts)
{
	mpq_conn *conn;
	int rv = conn_alloc(&conn, false, path, settings, tparams, cb, ts);
	if (rv != 0)
		return rv;
	/* RFC 9000 §7.2: an unpredictable DCID of at least 8 bytes. */
	conn->odcid.len = 8;
	cb->rand(conn->odcid.data, conn->odcid.len, cb->user_data);
	conn->dcid = conn->odcid;
	conn->initial_dcid = conn->odcid;
	if (settings->token && settings->tokenlen) {
		conn->token = malloc(settings->tokenlen);
		if (!conn->token) {
			mpq_conn_del(conn);
			return MPQ_ERR_NOMEM;
		}
		memcpy(conn->token, settings->token, settings->tokenlen);
		conn->tokenlen = settings->tokenlen;
	}
	conn->local_tp.has_original_dcid = 0;
	conn->local_tp.has_retry_scid = 0;
	rv = install_initial_keys(conn);
	if (rv == 0)
		rv = conn_start(conn, tls, ts);
	conn->settings.server_name = NULL; /* TLS has its copy */
	if (rv != 0) {
		mpq_conn_del(conn);
		return rv;
	}
	*out = conn;
	return 0;
}

MPQ_EXPORT int mpq_conn_server_new(mpq_conn **out, const mpq_path *path, const uint8_t *pkt,
				   size_t pktlen, const mpq_settings *settings,
				   const mpq_tparams *tparams, const mpq_callbacks *cb,
				   mpq_tls_ctx *tls, uint64_t ts)
{
	mpq_accept_info none = {0};
	return mpq_conn_server_accept(out, path, pkt, pktlen, settings, tparams, cb, tls, &none,
				      ts);
}

int mpq_conn_server_accept(mpq_conn **out, const mpq_path *path, const uint8_t *pkt, size_t pktlen,
			   const mpq_settings *settings, const mpq_tparams *tparams,
			   const mpq_callbacks *cb, mpq_tls_ctx *tls, const mpq_accept_info *info,
			   uint64_t ts)
{
	const mpq_cid *odcid = info->odcid;
	mpq_pkt_hd hd;
	/* Before |settings| is copied below: a version we do not know is not read. */
	if (mpq_settings_check(settings, tparams, cb) != 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	int rv = mpq_pkt_decode_hd(&hd, pkt, pktlen, MPQ_CID_LEN);
	if (rv != 0)
		return rv;
	/* RFC 9000 §14.1: a client Initial comes in a datagram of 1200 bytes or more. */
	if (hd.type != MPQ_PKT_INITIAL || pktlen < MPQ_MIN_INITIAL_DATAGRAM || hd.dcid.len < 8)
		return MPQ_ERR_INVALID_PACKET;
	mpq_settings s = *settings;
	s.version = hd.version;
	mpq_conn *conn;
	rv = conn_alloc(&conn, true, path, &s, tparams, cb, ts);
	if (rv != 0)
		return rv;
	conn->initial_dcid = hd.dcid;
	conn->odcid = odcid ? *odcid : hd.dcid;
	conn->dcid = hd.scid;
	conn->peer_scid = hd.scid;
	conn->peer_scid_known = true;
	conn->local_tp.has_original_dcid = 1;
	conn->local_tp.original_dcid = conn->odcid;
	if (odcid) {
		/* RFC 9000 §7.3: the client's new DCID is the SCID of our Retry, and
		 * the token proved its address (§8.1.2). */
		conn->retried = true;
		conn->retry_scid = hd.dcid;
		conn->local_tp.has_retry_scid = 1;
		conn->local_tp.retry_scid = hd.dcid;
		conn->paths[0]->validated = true;
	}
	conn->paths[0]->validated |= info->validated;
	if (conn->settings.reset_secret) {
		conn->local_tp.has_stateless_reset_token = 1;
		mpq_cid_reset_token(conn->settings.reset_secret, &conn->scid,
				    conn->local_tp.stateless_reset_token);
	}
	if (info->initial) {
		/* The endpoint derived them to open this Initial before accepting it. */
		mpq_pktns *ns = &conn->hs_ns[MPQ_LEVEL_INITIAL];
		ns->rx = info->initial[0];
		ns->tx = info->initial[1];
		memset(info->initial, 0, 2 * sizeof(*info->initial));
		rv = 0;
	} else {
		rv = install_initial_keys(conn);
	}
	if (rv == 0)
		rv = conn_start(conn, tls, ts);
	if (rv != 0) {
		mpq_conn_del(conn);
		return rv;
	}
	*out = conn;
	return 0;
}

MPQ_EXPORT void mpq_conn_del(mpq_conn *conn)
{
	if (!conn)
		return;
	for (int l = MPQ_LEVEL_INITIAL; l < MPQ_LEVEL_APP; l++)
		mpq_pktns_free(&conn->hs_ns[l]);
	for (size_t i = 0; i < conn->npaths; i++)
		mpq_conn_path_free(conn->paths[i]);
	mpq_conn_slots_free(conn);
	if (conn->streams.buckets)
		mpq_streams_free(&conn->streams);
	free(conn->token);
	free(conn->new_token);
	free(conn->dups);
	mpq_conn_qlog_close(conn);
	mpq_key_phase_free(&conn->kp);
	mpq_tls_free(conn->tls);
	free(conn);
}

int mpq_conn_client_restart(mpq_conn *conn, uint32_t version, const mpq_cid *dcid)
{
	mpq_pktns *ns = &conn->hs_ns[MPQ_LEVEL_INITIAL];
	/* What was sent under the old keys will never be acknowledged; packet
	 * numbers go on (RFC 9000 §17.2.5.3). */
	for (size_t i = 0; i < ns->sent.n; i++) {
		mpq_sent_pkt *p = mpq_sent_at(&ns->sent, i);
		if (!(p->flags & MPQ_SENT_DONE))
			mpq_recovery_settle(mpq_conn_path0(conn), ns, p);
	}
	mpq_sent_clear(&ns->sent);
	ns->loss_time = 0;
	mpq_conn_path0(conn)->pto_count = 0;
	conn->version = version;
	conn->dcid = *dcid;
	conn->initial_dcid = *dcid;
	if (ns->crypto_tx.len)
		mpq_crypto_tx_resend(&ns->crypto_tx, 0, ns->crypto_tx.len);
	return install_initial_keys(conn);
}

MPQ_EXPORT void mpq_conn_get_stats(const mpq_conn *conn, mpq_conn_stats *stats)
{
	const mpq_conn_path *p = conn->paths[0];
	*stats = conn->stats;
	stats->srtt = p->rtt.smoothed;
	stats->min_rtt = p->rtt.min;
	stats->rttvar = p->rtt.rttvar;
	stats->cwnd = mpq_cc_cwnd(&p->cc.cc);
	stats->bytes_in_flight = p->bytes_in_flight;
	stats->key_updates = conn->kp.updates;
	stats->migrations = conn->migrations;
}

void mpq_conn_discard_level(mpq_conn *conn, int level, uint64_t ts)
{
	mpq_pktns *ns = mpq_conn_ns(conn, level);
	if (ns->discarded)
		return;
	for (size_t i = 0; i < ns->sent.n; i++) {
		mpq_sent_pkt *p = mpq_sent_at(&ns->sent, i);
		if (!(p->flags & MPQ_SENT_DONE))
			mpq_recovery_settle(mpq_conn_path0(conn), ns, p);
	}
	mpq_sent_clear(&ns->sent);
	mpq_crypto_keys_free(&ns->tx);
	mpq_crypto_keys_free(&ns->rx);
	mpq_pktns_release(ns);
	ns->discarded = true;
	mpq_conn_qlog_key(conn, level, true, true, MPQ_QLOG_KEY_TRIGGER_NONE, ts);
	mpq_conn_qlog_key(conn, level, false, true, MPQ_QLOG_KEY_TRIGGER_NONE, ts);
	ns->loss_time = 0;
	ns->ack_needed = false;
	conn->probe_pending[level] = 0;
	/* RFC 9002 §6.2.2: discarding keys resets the backoff. */
	mpq_conn_path0(conn)->pto_count = 0;
	mpq_conn_log(conn, 2, "discarded level %d keys", level);
}

static void close_local(mpq_conn *conn, bool app, uint64_t code, uint64_t frame_type,
			const char *reason, uint64_t ts)
{
	if (conn->state >= MPQ_CONN_CLOSING)
		return;
	conn->err.set = true;
	conn->err.remote = false;
	conn->err.app = app;
	conn->err.code = code;
	conn->err.frame_type = frame_type;
	conn->err.cause = app ? MPQ_CLOSE_LOCAL_APP : MPQ_CLOSE_LOCAL_ERROR;
	snprintf(conn->err.reason, sizeof(conn->err.reason), "%s", reason ? reason : "");
	conn->state = MPQ_CONN_CLOSING;
	conn->close_pending = true;
	conn->close_deadline = ts + 3 * mpq_conn_largest_pto(conn);
	mpq_conn_log(conn, 1, "closing: error 0x%llx %s", (unsigned long long)code,
		     conn->err.reason);
	mpq_conn_qlog_closed(conn, ts);
}

void mpq_conn_close_transport(mpq_conn *conn, uint64_t code, uint64_t frame_type,
			      const char *reason, uint64_t ts)
{
	close_local(conn, false, code, frame_type, reason, ts);
}

int mpq_conn_fail(mpq_conn *conn, int err, uint64_t frame_type, const char *reason, uint64_t ts)
{
	mpq_conn_close_transport(conn, mpq_err_to_transport(err), frame_type, reason, ts);
	return err;
}

void mpq_conn_enter_draining(mpq_conn *conn, int cause, uint64_t ts)
{
	if (conn->state == MPQ_CONN_DRAINING || conn->state == MPQ_CONN_CLOSED)
		return;
	conn->state = MPQ_CONN_DRAINING;
	conn->err.cause = cause;
	conn->close_pending = false;
	conn->close_deadline = ts + 3 * mpq_conn_largest_pto(conn);
	mpq_conn_qlog_closed(conn, ts);
}

void mpq_conn_close_silently(mpq_conn *conn, int cause, const char *reason, uint64_t ts)
{
	conn->state = MPQ_CONN_CLOSED;
	conn->err = (mpq_conn_error){.set = true,
				     .code = MPQ_TE_NO_ERROR,
				     .cause = cause,
				     .remote = cause == MPQ_CLOSE_VERSION_MISMATCH};
	snprintf(conn->err.reason, sizeof(conn->err.reason), "%s", reason);
	mpq_conn_qlog_closed(conn, ts);
}

MPQ_EXPORT uint64_t mpq_conn_get_expiry(const mpq_conn *conn)
{
	if (conn->state == MPQ_CONN_CLOSED)
		return MPQ_TIME_NEVER;
	if (conn->state >= MPQ_CONN_CLOSING)
		return conn->close_deadline;
	uint64_t t = mpq_recovery_expiry(conn);
	for (size_t i = 0; i < conn->npaths; i++) {
		const mpq_conn_path *p = conn->paths[i];
		if (p->ns.ack_deadline && p->ns.ack_deadline < t)
			t = p->ns.ack_deadline;
		if (p->next_send_time && p->next_send_time < t)
			t = p->next_send_time;
	}
	for (size_t i = 0; i < conn->npaths; i++) {
		uint64_t p = mpq_conn_path_expiry(conn->paths[i]);
		if (p < t)
			t = p;
	}
	uint64_t m = mpq_conn_mp_expiry(conn);
	if (m < t)
		t = m;
	if (conn->idle_deadline < t)
		t = conn->idle_deadline;
	if (!conn->handshake_complete && conn->settings.handshake_timeout) {
		uint64_t h = conn->created + conn->settings.handshake_timeout;
		if (h < t)
			t = h;
	}
	return t;
}

MPQ_EXPORT int mpq_conn_handle_expiry(mpq_conn *conn, uint64_t ts)
{
	conn->now = ts;
	switch (conn->state) {
	case MPQ_CONN_CLOSED:
		return conn->err.remote ? MPQ_ERR_DRAINING : MPQ_ERR_CLOSING;
	case MPQ_CONN_CLOSING:
	case MPQ_CONN_DRAINING:
		if (ts < conn->close_deadline)
			return 0;
		conn->state = MPQ_CONN_CLOSED;
		return conn->err.remote ? MPQ_ERR_DRAINING : MPQ_ERR_CLOSING;
	default:
		break;
	}
	if (ts >= conn->idle_deadline) {
		/* RFC 9000 §10.1: an idle connection is discarded silently. */
		mpq_conn_close_silently(conn, MPQ_CLOSE_IDLE_TIMEOUT, "idle timeout", ts);
		return MPQ_ERR_IDLE_CLOSE;
	}
	if (!conn->handshake_complete && conn->settings.handshake_timeout &&
	    ts >= conn->created + conn->settings.handshake_timeout) {
		mpq_conn_close_silently(conn, MPQ_CLOSE_HANDSHAKE_TIMEOUT, "handshake timeout",
					ts);
		return MPQ_ERR_HANDSHAKE_TIMEOUT;
	}
	for (size_t i = 0; i < conn->npaths; i++) {
		mpq_conn_path *p = conn->paths[i];
		if (p->ns.ack_deadline && p->ns.ack_deadline <= ts) {
			p->ns.ack_deadline = 0;
			p->ns.ack_needed = true;
		}
		if (p->next_send_time && p->next_send_time <= ts)
			p->next_send_time = 0; /* the pacer allows the next packet: write again */
	}
	for (size_t i = 0; i < conn->npaths; i++)
		mpq_conn_path_on_timeout(conn, conn->paths[i], ts);
	mpq_conn_mp_on_timeout(conn, ts);
	mpq_recovery_on_timeout(conn, ts);
	return 0;
}

MPQ_EXPORT void mpq_conn_close(mpq_conn *conn, uint64_t app_error, const char *reason, uint64_t ts)
{
	conn->now = ts;
	close_local(conn, true, app_error, 0, reason, ts);
}

MPQ_EXPORT bool mpq_conn_is_handshake_complete(const mpq_conn *conn)
{
	return conn->handshake_complete;
}

MPQ_EXPORT bool mpq_conn_is_server(const mpq_conn *conn)
{
	return conn->is_server;
}

MPQ_EXPORT const mpq_cid *mpq_conn_odcid(const mpq_conn *conn)
{
	return &conn->odcid;
}

MPQ_EXPORT bool mpq_cc_available(const char *name)
{
	return name && mpq_cc_find(name) != NULL;
}

MPQ_EXPORT bool mpq_stream_sched_available(const char *name)
{
	return name && mpq_stream_sched_find(name) != NULL;
}

MPQ_EXPORT bool mpq_path_sched_available(const char *name)
{
	return name && mpq_path_sched_find(name) != NULL;
}

MPQ_EXPORT const mpq_tparams *mpq_conn_peer_tparams(const mpq_conn *conn)
{
	return conn->have_peer_tp ? &conn->peer_tp : NULL;
}

MPQ_EXPORT const uint8_t *mpq_conn_alpn(const mpq_conn *conn, size_t *len)
{
	return mpq_tls_alpn(conn->tls, len);
}

MPQ_EXPORT uint64_t mpq_conn_now(const mpq_conn *conn)
{
	return conn->now;
}

MPQ_EXPORT const mpq_conn_error *mpq_conn_get_error(const mpq_conn *conn)
{
	return &conn->err;
}
