/*
 * The connection's side of the handshake: CRYPTO streams per level, the TLS
 * callbacks (handshake bytes out, secrets in, transport parameters), and what
 * happens when TLS completes.
 */
#include <stdio.h>

#include "quic/cid.h"
#include "quic/conn.h"
#include "quic/frame.h"
#include "quic/qlog.h"
#include "quic/tparams.h"

#define TPARAMS_MAX 512

static int on_send_crypto(void *ud, int level, const uint8_t *data, size_t len)
{
	mpq_conn *conn = ud;
	if (level < 0 || level >= MPQ_LEVEL_COUNT)
		return MPQ_ERR_INTERNAL;
	return mpq_crypto_tx_append(&mpq_conn_ns(conn, level)->crypto_tx, data, len);
}

static int on_set_secret(void *ud, int level, bool is_tx, int cipher, const uint8_t *secret,
			 size_t secretlen)
{
	mpq_conn *conn = ud;
	if (level <= MPQ_LEVEL_INITIAL || level >= MPQ_LEVEL_COUNT)
		return MPQ_ERR_INTERNAL;
	mpq_pktns *ns = mpq_conn_ns(conn, level);
	mpq_crypto_keys *k = is_tx ? &ns->tx : &ns->rx;
	mpq_crypto_keys_free(k);
	int rv = mpq_crypto_keys_init(k, cipher, conn->version, secret, secretlen);
	if (rv == 0)
		mpq_conn_qlog_key(conn, level, is_tx, false, MPQ_QLOG_KEY_TRIGGER_TLS, conn->now);
	return rv;
}

static void on_keylog(void *ud, const char *line)
{
	mpq_conn *conn = ud;
	if (conn->cb.keylog)
		conn->cb.keylog(conn->cb.keylog_user_data ? conn->cb.keylog_user_data
							  : conn->cb.user_data,
				line);
}

/* RFC 9000 §7.3: the CIDs each side saw must be the ones the other claims. */
static int check_cids(mpq_conn *conn, const mpq_tparams *tp)
{
	if (!tp->has_initial_scid || !mpq_cid_eq(&tp->initial_scid, &conn->peer_scid))
		return MPQ_ERR_TRANSPORT_PARAM;
	if (conn->is_server)
		return 0;
	if (!tp->has_original_dcid || !mpq_cid_eq(&tp->original_dcid, &conn->odcid))
		return MPQ_ERR_TRANSPORT_PARAM;
	/* A Retry's SCID must come back, and only after a Retry. */
	if (conn->retried != (bool)tp->has_retry_scid ||
	    (conn->retried && !mpq_cid_eq(&tp->retry_scid, &conn->retry_scid)))
		return MPQ_ERR_TRANSPORT_PARAM;
	return 0;
}

static int on_recv_tparams(void *ud, const uint8_t *data, size_t len)
{
	mpq_conn *conn = ud;
	mpq_tparams tp;
	int rv = mpq_tparams_decode(&tp, data, len, !conn->is_server);
	if (rv == 0)
		rv = check_cids(conn, &tp);
	if (rv != 0) {
		/* Reported after TLS returns, as a QUIC error rather than a TLS alert. */
		conn->tparams_err = MPQ_ERR_TRANSPORT_PARAM;
		return 0;
	}
	conn->peer_tp = tp;
	conn->have_peer_tp = true;
	mpq_conn_streams_on_peer_tparams(conn);
	mpq_conn_cids_on_peer_tparams(conn);
	mpq_conn_qlog_params(conn, conn->now);
	return 0;
}

int mpq_handshake_init(mpq_conn *conn, mpq_tls_ctx *tls_ctx)
{
	uint8_t tp[TPARAMS_MAX];
	int n = mpq_tparams_encode(tp, sizeof(tp), &conn->local_tp, conn->is_server);
	if (n < 0)
		return n;
	mpq_tls_callbacks cb = {
		.send_crypto = on_send_crypto,
		.set_secret = on_set_secret,
		.keylog = on_keylog,
		.recv_tparams = on_recv_tparams,
		.user_data = conn,
	};
	int rv = mpq_tls_new(&conn->tls, tls_ctx,
			     conn->is_server ? NULL : conn->settings.server_name, tp, (size_t)n,
			     &cb);
	if (rv != 0)
		return rv;
	return conn->is_server ? 0 : mpq_tls_start(conn->tls);
}

static void on_complete(mpq_conn *conn, uint64_t ts)
{
	conn->handshake_complete = true;
	conn->state = MPQ_CONN_ESTABLISHED;
	conn->stats.handshake_time = ts - conn->created;
	if (conn->is_server) {
		/* RFC 9001 §4.1.2: the server's handshake is confirmed on completion. */
		conn->handshake_confirmed = true;
		conn->handshake_done_pending = true;
		mpq_conn_discard_level(conn, MPQ_LEVEL_HANDSHAKE, ts);
	}
	mpq_conn_cids_replenish(conn);
	if (conn->is_server && conn->new_token)
		conn->new_token_pending = true;
	mpq_conn_log(conn, 1, "handshake complete");
	if (conn->cb.handshake_completed &&
	    conn->cb.handshake_completed(conn, conn->cb.user_data) != 0)
		mpq_conn_close_transport(conn, MPQ_TE_INTERNAL_ERROR, 0, "callback failed", ts);
}

void mpq_handshake_confirm(mpq_conn *conn, uint64_t ts)
{
	if (conn->is_server || conn->handshake_confirmed)
		return;
	conn->handshake_confirmed = true;
	mpq_conn_discard_level(conn, MPQ_LEVEL_HANDSHAKE, ts);
}

/* Feeds what is contiguous at |level| to TLS. */
static int feed_tls(mpq_conn *conn, int level, uint64_t ts)
{
	mpq_rob *rob = &mpq_conn_ns(conn, level)->crypto_rx;
	const uint8_t *data;
	size_t n;
	while ((n = mpq_rob_peek(rob, &data)) > 0) {
		int rv = mpq_tls_recv_crypto(conn->tls, level, data, n);
		mpq_rob_consume(rob, n);
		if (rv == MPQ_ERR_CRYPTO) {
			char reason[128];
			snprintf(reason, sizeof(reason), "TLS alert %u: %s",
				 mpq_tls_alert(conn->tls), mpq_tls_error_string(conn->tls));
			mpq_conn_close_transport(conn,
						 MPQ_TE_CRYPTO_ERROR + mpq_tls_alert(conn->tls),
						 MPQ_FT_CRYPTO, reason, ts);
			return rv;
		}
		if (rv != 0)
			return mpq_conn_fail(conn, rv, MPQ_FT_CRYPTO, "TLS failed", ts);
		if (conn->tparams_err)
			return mpq_conn_fail(conn, conn->tparams_err, MPQ_FT_CRYPTO,
					     "bad transport parameters", ts);
	}
	if (!conn->handshake_complete && mpq_tls_handshake_complete(conn->tls))
		on_complete(conn, ts);
	return 0;
}

int mpq_handshake_recv_crypto(mpq_conn *conn, int level, uint64_t offset, const uint8_t *data,
			      size_t len, uint64_t ts)
{
	int rv = mpq_rob_push(&mpq_conn_ns(conn, level)->crypto_rx, offset, data, len);
	if (rv == MPQ_ERR_NOBUF)
		return mpq_conn_fail(conn, MPQ_ERR_CRYPTO_BUFFER, MPQ_FT_CRYPTO,
				     "too much handshake data buffered", ts);
	if (rv != 0)
		return rv;
	return feed_tls(conn, level, ts);
}
