/*
 * 1-RTT key updates (RFC 9001 §6): which keys open a received short header
 * packet (current, next phase, or the previous phase for late packets), the
 * switch when the peer moves to the next phase, and starting an update of our
 * own (on request, every N packets when the settings ask for it, and before
 * the AEAD's confidentiality limit), a peer's consecutive updates (one before
 * it could have had an ACK of the last: KEY_UPDATE_ERROR, §6.2), and the AEAD
 * limits (RFC 9001 §6.6). Key phases belong to the connection, not a path:
 * all paths share the keys. But packet numbers are per path, so where a phase
 * starts is kept per path ID.
 *
 * The limits bound the uses of a key, whatever the nonces: packets protected
 * on every path count together against the key they share (the path ID in
 * the nonce keeps nonces unique, it does not make more uses safe), and
 * packets failing authentication count over the whole connection.
 */
#ifndef MPQ_KEY_UPDATE_H
#define MPQ_KEY_UPDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "quic/crypto.h"
#include "quic/path.h"

struct mpq_conn;
struct mpq_pkt_hd;

typedef struct mpq_key_phase {
	bool tx_phase; /* key phase bit we send */
	bool rx_phase; /* key phase bit of the current receive keys */
	/* Per path slot: the first packet sent in the current tx phase (valid
	 * where tx_started has the path's bit), the lowest received in the
	 * current rx phase (UINT64_MAX: none yet, so the previous phase's keys
	 * open that path's packets of the other phase). */
	uint64_t tx_phase_first_pn[MPQ_MAX_PATHS];
	uint64_t rx_phase_first_pn[MPQ_MAX_PATHS];
	uint32_t tx_started;
	mpq_crypto_keys rx_next; /* the next phase's receive keys, made when needed */
	mpq_crypto_keys rx_prev; /* the previous phase's, for reordered packets */
	uint64_t open_failures;	 /* packets that failed authentication, all keys */
	bool phase_acked;	 /* a packet of the current tx phase was acknowledged */
	/* The peer's current phase began and no ACK of ours has covered a
	 * packet of it yet: the peer may not start another (RFC 9001 §6.2). */
	bool rx_unacked;
	uint64_t phase_acked_at;
	uint64_t updates; /* key updates done, both directions counted once */
} mpq_key_phase;

void mpq_key_phase_free(mpq_key_phase *kp);

/* The keys for a received 1-RTT packet of the path in slot |slot| whose header
 * protection is removed; |*next| is set when they are the next phase's.
 * NULL: drop the packet. */
mpq_crypto_keys *mpq_key_update_rx_keys(struct mpq_conn *conn, const struct mpq_pkt_hd *hd,
					uint32_t slot, bool *next);

/* A 1-RTT packet of the path in slot |slot| opened: with the next phase's keys
 * (|next|) the peer moved on, so the receive keys switch and, when the peer
 * started the update, ours too; with the current keys it may move back where
 * the path's current phase starts. Returns 0, MPQ_ERR_KEY_UPDATE when the
 * peer started an update before any ACK of ours covered a packet of its
 * previous one (RFC 9001 §6.2), or the error making the keys. */
int mpq_key_update_on_opened(struct mpq_conn *conn, const struct mpq_pkt_hd *hd, uint32_t slot,
			     bool next, uint64_t ts);

/* We wrote an ACK of the path in slot |slot| whose largest is |largest|, in
 * a 1-RTT packet (protected with our current keys). */
void mpq_key_update_on_ack_sent(struct mpq_conn *conn, uint32_t slot, uint64_t largest);

/* The largest 1-RTT packet acknowledged on the path in slot |slot| is |pn|, at |ts|. */
void mpq_key_update_on_acked(struct mpq_conn *conn, uint32_t slot, uint64_t pn, uint64_t ts);

/* A 1-RTT packet of ours was protected: starts an update when the interval
 * or 3/4 of the confidentiality limit is reached, or closes the connection
 * (AEAD_LIMIT_REACHED) when the key nears its limit and no update could start. */
void mpq_key_update_on_sent(struct mpq_conn *conn, uint32_t slot, uint64_t pn, uint64_t ts);

/* Has our 1-RTT key protected all the packets it may? Nothing more is sent with it. */
bool mpq_key_update_tx_exhausted(const struct mpq_conn *conn);

/* A packet at |level| failed authentication under |keys|. Returns 0, or
 * MPQ_ERR_AEAD_LIMIT once the connection saw more such packets than the
 * integrity limit allows (it is then closing with AEAD_LIMIT_REACHED). */
int mpq_key_update_on_open_failed(struct mpq_conn *conn, int level, const mpq_crypto_keys *keys,
				  uint64_t ts);

#endif
