/*
 * ECN (RFC 9000 §13.4, RFC 9002 §7.1). Receiving: each packet number space
 * counts the packets that arrived with each codepoint, for the ACK_ECN frames
 * it sends. Sending: each path tests whether its packets may carry ECT(0)
 * (the first packets go out marked; an acknowledgement whose counts account
 * for them validates the path), checks every later acknowledgement's counts,
 * and says when the CE count rose: a congestion event.
 */
#ifndef MPQ_ECN_H
#define MPQ_ECN_H

#include <stdbool.h>
#include <stdint.h>

#include "mpq/conn.h"

/* ECT(0) packets a path sends before it waits for them to be validated
 * (RFC 9000 Appendix A.4), unless 3 PTO pass first. */
#define MPQ_ECN_TESTING_PACKETS 10

/* Counts by codepoint, as an ACK_ECN frame carries them. */
typedef struct mpq_ecn_counts {
	uint64_t ect0, ect1, ce;
} mpq_ecn_counts;

/* The sending side of one path. Zeroed: testing, nothing sent. */
typedef struct mpq_ecn_path {
	int state;	      /* enum mpq_ecn_state */
	bool testing_started; /* an ECT(0) packet left at testing_start */
	uint64_t testing_start;
	uint32_t testing_sent; /* ECT(0) packets sent before validation */
	uint32_t testing_lost; /* of those, declared lost */
	uint64_t sent_ect0;    /* ECT(0) packets sent, for the stats */
	uint64_t ce_events;    /* CE count increases, for the stats */
} mpq_ecn_path;

/* Counts a received packet's codepoint (the low two bits of |ecn|). */
void mpq_ecn_count_rx(mpq_ecn_counts *c, uint8_t ecn);

static inline bool mpq_ecn_counts_any(const mpq_ecn_counts *c)
{
	return c->ect0 || c->ect1 || c->ce;
}

/* The codepoint of the next datagram on the path at |ts|; |pto| is the
 * path's probe timeout, 3 of which end the testing period. */
uint8_t mpq_ecn_tx_mark(mpq_ecn_path *e, uint64_t ts, uint64_t pto);

/* A packet the peer will acknowledge (ack-eliciting or in flight) left
 * marked |ecn|. */
void mpq_ecn_on_sent(mpq_ecn_path *e, uint8_t ecn, uint64_t ts);

/* A packet sent ECT(0) was declared lost: once every testing packet is,
 * validation fails (RFC 9000 §13.4.2.1). */
void mpq_ecn_on_lost(mpq_ecn_path *e);

/*
 * An acknowledgement in one packet number space: |ack| its ECN counts, NULL
 * for an ACK without them; |newly_ect0| the packets sent ECT(0) it newly
 * acknowledges; |advanced| whether it raised the space's largest acknowledged
 * packet number (only those are checked: reordered ACKs carry older counts).
 * |peer| holds the counts of the last one checked. Validation fails (RFC 9000
 * §13.4.2.1) when newly acknowledged ECT(0) packets come without counts, when
 * a count decreases, or when the ECT(0) and CE counts together rose by less
 * than |newly_ect0|; it succeeds when they account for at least one.
 * Returns true when the CE count rose: the caller's congestion event.
 */
bool mpq_ecn_on_ack(mpq_ecn_path *e, mpq_ecn_counts *peer, const mpq_ecn_counts *ack,
		    uint64_t newly_ect0, bool advanced);

#endif
