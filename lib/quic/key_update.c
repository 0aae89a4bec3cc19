/* 1-RTT key updates: see key_update.h. */
#include <string.h>

#include "quic/conn.h"
#include "quic/key_update.h"
#include "quic/packet.h"
#include "quic/qlog.h"

void mpq_key_phase_free(mpq_key_phase *kp)
{
	mpq_crypto_keys_free(&kp->rx_next);
	mpq_crypto_keys_free(&kp->rx_prev);
}

mpq_crypto_keys *mpq_key_update_rx_keys(mpq_conn *conn, const mpq_pkt_hd *hd, uint32_t slot,
					bool *next)
{
	mpq_key_phase *kp = &conn->kp;
	mpq_crypto_keys *cur = &mpq_conn_ns(conn, MPQ_LEVEL_APP)->rx;
	*next = false;
	if (hd->key_phase == kp->rx_phase)
		return cur;
	/* The other phase: an older packet of the previous phase, or the peer's
	 * first packets of the next one (RFC 9001 §6.3, §6.5), judged within
	 * the path's own packet numbers. */
	if (slot >= MPQ_MAX_PATHS)
		return NULL;
	if (kp->rx_prev.cipher && hd->pn < kp->rx_phase_first_pn[slot])
		return &kp->rx_prev;
	if (!conn->handshake_confirmed)
		return NULL; /* no key update before confirmation (RFC 9001 §6.1) */
	if (!kp->rx_next.cipher && mpq_crypto_keys_update(&kp->rx_next, cur) != 0) {
		memset(&kp->rx_next, 0, sizeof(kp->rx_next));
		return NULL;
	}
	*next = true;
	return &kp->rx_next;
}

static int update_tx(mpq_conn *conn)
{
	mpq_pktns *ns = mpq_conn_ns(conn, MPQ_LEVEL_APP);
	mpq_crypto_keys fresh;
	int rv = mpq_crypto_keys_update(&fresh, &ns->tx);
	if (rv != 0)
		return rv;
	mpq_crypto_keys_free(&ns->tx);
	ns->tx = fresh;
	conn->kp.tx_phase = !conn->kp.tx_phase;
	conn->kp.tx_started = 0;
	conn->kp.phase_acked = false;
	return 0;
}

int mpq_key_update_on_opened(mpq_conn *conn, const mpq_pkt_hd *hd, uint32_t slot, bool next,
			     uint64_t ts)
{
	uint64_t pn = hd->pn;
	mpq_key_phase *kp = &conn->kp;
	mpq_pktns *ns = mpq_conn_ns(conn, MPQ_LEVEL_APP);
	if (slot >= MPQ_MAX_PATHS)
		return 0;
	if (!next) {
		/* a late packet of the previous phase leaves the start alone */
		if (hd->key_phase == kp->rx_phase && pn < kp->rx_phase_first_pn[slot])
			kp->rx_phase_first_pn[slot] = pn;
		return 0;
	}
	/* RFC 9001 §6.2: the peer starts another update (not an answer to
	 * ours) before it can have seen an ACK of its last one: we sent none
	 * that covered a packet of that phase. Consecutive updates: an error. */
	if (kp->tx_phase == kp->rx_phase && kp->rx_unacked)
		return MPQ_ERR_KEY_UPDATE;
	mpq_crypto_keys_free(&kp->rx_prev);
	kp->rx_prev = ns->rx;
	ns->rx = kp->rx_next;
	memset(&kp->rx_next, 0, sizeof(kp->rx_next));
	kp->rx_phase = !kp->rx_phase;
	for (size_t i = 0; i < MPQ_MAX_PATHS; i++)
		kp->rx_phase_first_pn[i] = UINT64_MAX;
	kp->rx_phase_first_pn[slot] = pn;
	kp->rx_unacked = true;
	/* The peer started it: answer with our own new keys (RFC 9001 §6.2). */
	if (kp->tx_phase != kp->rx_phase) {
		int rv = update_tx(conn);
		if (rv != 0)
			return rv;
		kp->updates++;
		mpq_conn_qlog_key(conn, MPQ_LEVEL_APP, true, false,
				  MPQ_QLOG_KEY_TRIGGER_REMOTE_UPDATE, ts);
	}
	mpq_conn_qlog_key(conn, MPQ_LEVEL_APP, false, false, MPQ_QLOG_KEY_TRIGGER_REMOTE_UPDATE,
			  ts);
	mpq_conn_log(conn, 2, "key phase %d", kp->rx_phase);
	return 0;
}

void mpq_key_update_on_ack_sent(mpq_conn *conn, uint32_t slot, uint64_t largest)
{
	mpq_key_phase *kp = &conn->kp;
	/* Packets at or above the phase's first are of that phase: older
	 * keys no longer open them. */
	if (slot < MPQ_MAX_PATHS && largest >= kp->rx_phase_first_pn[slot])
		kp->rx_unacked = false;
}

void mpq_key_update_on_acked(mpq_conn *conn, uint32_t slot, uint64_t pn, uint64_t ts)
{
	mpq_key_phase *kp = &conn->kp;
	if (slot >= MPQ_MAX_PATHS || !(kp->tx_started & (1u << slot)))
		return;
	if (!kp->phase_acked && pn >= kp->tx_phase_first_pn[slot]) {
		kp->phase_acked = true;
		kp->phase_acked_at = ts;
	}
}

/* RFC 9001 §6.1: only with the handshake confirmed, both directions in the
 * same phase, and a packet of the current phase acknowledged; with
 * multipath, also 3 times the largest PTO of any path after that ACK
 * (draft-21 §5.3), since the paths' packets of the old phase drain at
 * different speeds. */
static bool may_initiate(const mpq_conn *conn)
{
	const mpq_key_phase *kp = &conn->kp;
	if (!conn->handshake_confirmed || kp->tx_phase != kp->rx_phase || !kp->phase_acked)
		return false;
	return !mpq_conn_multipath(conn) ||
	       conn->now >= kp->phase_acked_at + 3 * mpq_conn_largest_pto(conn);
}

MPQ_EXPORT int mpq_conn_initiate_key_update(mpq_conn *conn)
{
	if (!may_initiate(conn))
		return MPQ_ERR_INVALID_ARGUMENT;
	int rv = update_tx(conn);
	if (rv == 0) {
		conn->kp.updates++;
		mpq_conn_qlog_key(conn, MPQ_LEVEL_APP, true, false,
				  MPQ_QLOG_KEY_TRIGGER_LOCAL_UPDATE, conn->now);
	}
	return rv;
}

/* A limit from the settings, when it is lower than the cipher's. */
static uint64_t lower(uint64_t setting, uint64_t cipher_limit)
{
	return setting && setting < cipher_limit ? setting : cipher_limit;
}

static uint64_t tx_limit(const mpq_conn *conn)
{
	int cipher = mpq_conn_ns_c(conn, MPQ_LEVEL_APP)->tx.cipher;
	return lower(conn->settings.aead_confidentiality_limit,
		     mpq_crypto_confidentiality_limit(cipher));
}

bool mpq_key_update_tx_exhausted(const mpq_conn *conn)
{
	return mpq_conn_ns_c(conn, MPQ_LEVEL_APP)->tx.sealed >= tx_limit(conn);
}

void mpq_key_update_on_sent(mpq_conn *conn, uint32_t slot, uint64_t pn, uint64_t ts)
{
	mpq_key_phase *kp = &conn->kp;
	if (slot < MPQ_MAX_PATHS && !(kp->tx_started & (1u << slot))) {
		kp->tx_started |= 1u << slot;
		kp->tx_phase_first_pn[slot] = pn;
	}
	if (conn->state >= MPQ_CONN_CLOSING)
		return; /* the closes go out with the key we have */
	uint64_t sealed = mpq_conn_ns(conn, MPQ_LEVEL_APP)->tx.sealed, limit = tx_limit(conn);
	uint64_t every = conn->settings.key_update_interval;
	/* RFC 9001 §6.6: a new key well before the limit, as an update waits
	 * for an ACK of the current phase (and 3 PTOs more with multipath). */
	bool due = (every && sealed >= every) || sealed >= limit - limit / 4;
	if (due && mpq_conn_initiate_key_update(conn) == 0)
		return;
	/* None in time: close while the key still has room for the closes. */
	if (sealed >= limit - limit / 16)
		mpq_conn_close_transport(conn, MPQ_TE_AEAD_LIMIT_REACHED, 0,
					 "AEAD confidentiality limit without a key update", ts);
}

int mpq_key_update_on_open_failed(mpq_conn *conn, int level, const mpq_crypto_keys *keys,
				  uint64_t ts)
{
	/* Initial keys come from a DCID on the wire: anyone can forge with
	 * them, so a failure under them tells nothing about the AEAD. */
	if (level == MPQ_LEVEL_INITIAL)
		return 0;
	uint64_t limit = lower(conn->settings.aead_integrity_limit,
			       mpq_crypto_integrity_limit(keys->cipher));
	if (++conn->kp.open_failures <= limit)
		return 0;
	return mpq_conn_fail(conn, MPQ_ERR_AEAD_LIMIT, 0, "AEAD integrity limit reached", ts);
}
