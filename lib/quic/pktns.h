/*
 * One packet number space (RFC 9000 §12.3): its keys, the packet numbers
 * received and still to acknowledge, those already processed, the packets
 * sent and not yet settled, and, for Initial and Handshake, the CRYPTO stream
 * of that level.
 */
#ifndef MPQ_PKTNS_H
#define MPQ_PKTNS_H

#include <stdbool.h>
#include <stdint.h>

#include "quic/crypto.h"
#include "quic/ecn.h"
#include "quic/pn_dedup.h"
#include "quic/ranges.h"
#include "quic/rob.h"
#include "quic/sent.h"

/* Handshake data a peer may make us buffer ahead of what TLS consumed. */
#define MPQ_CRYPTO_RX_MAX (64 * 1024)
#define MPQ_ACK_RANGES_KEPT 64

/* Outgoing CRYPTO data of one level: all of it is kept until the level's keys
 * are discarded (a handshake is a few kB), so lost pieces can be resent. */
typedef struct mpq_crypto_tx {
	uint8_t *buf;
	size_t len;
	size_t cap;
	mpq_ranges unsent; /* offsets to (re)send */
} mpq_crypto_tx;

typedef struct mpq_pktns {
	int level; /* enum mpq_level */
	mpq_crypto_keys rx;
	mpq_crypto_keys tx;
	bool discarded; /* keys dropped: nothing sent or received here */

	uint64_t next_pn;
	int64_t largest_acked; /* largest of our packets the peer acked, -1 */
	int64_t largest_rx;    /* largest packet number received, -1 */
	uint64_t largest_rx_time;
	mpq_ranges rx_pns;	      /* received packet numbers to acknowledge */
	mpq_pn_dedup rx_seen;	      /* packet numbers already processed */
	bool ack_needed;	      /* send an ACK now */
	bool rx_since_ack;	      /* a packet arrived since our last ACK of this space */
	uint32_t eliciting_since_ack; /* ack-eliciting packets not yet acknowledged */
	uint64_t ack_deadline;	      /* delayed ACK timer (1-RTT), 0 = none */
	mpq_ecn_counts ecn_rx;	      /* received packets by codepoint, for ACK_ECN */
	mpq_ecn_counts ecn_peer;      /* the peer's counts for ours, last checked */

	mpq_sent sent;
	uint64_t loss_time; /* time-threshold loss deadline, 0 = none */
	uint64_t last_ack_eliciting_time;
	size_t ack_eliciting_in_flight;

	mpq_rob crypto_rx;
	mpq_crypto_tx crypto_tx;
} mpq_pktns;

int mpq_pktns_init(mpq_pktns *ns, int level);
void mpq_pktns_free(mpq_pktns *ns);
/* Once the space's keys are discarded nothing more is sent or received in
 * it: frees its sent packets, CRYPTO reassembly ring and CRYPTO data (about
 * 30 kB of each connection after its handshake); mpq_pktns_free stays safe. */
void mpq_pktns_release(mpq_pktns *ns);

static inline bool mpq_pktns_can_send(const mpq_pktns *ns)
{
	return !ns->discarded && ns->tx.cipher != 0;
}

static inline bool mpq_pktns_can_recv(const mpq_pktns *ns)
{
	return !ns->discarded && ns->rx.cipher != 0;
}

/* Appends handshake bytes to send. Returns 0 or MPQ_ERR_NOMEM. */
int mpq_crypto_tx_append(mpq_crypto_tx *c, const uint8_t *data, size_t len);

/* Queues [offset, offset + len) to be sent again (lost or probing). */
void mpq_crypto_tx_resend(mpq_crypto_tx *c, uint64_t offset, uint64_t len);

#endif
