/* ECN counts, path validation and CE detection (RFC 9000 §13.4). See ecn.h. */
#include "quic/ecn.h"

void mpq_ecn_count_rx(mpq_ecn_counts *c, uint8_t ecn)
{
	switch (ecn & 3) {
	case MPQ_ECN_ECT0:
		c->ect0++;
		break;
	case MPQ_ECN_ECT1:
		c->ect1++;
		break;
	case MPQ_ECN_CE:
		c->ce++;
		break;
	default:
		break;
	}
}

static void fail(mpq_ecn_path *e)
{
	e->state = MPQ_ECN_STATE_FAILED;
}

/* Testing is over: wait for an ACK; none can come if every mark was lost. */
static void end_testing(mpq_ecn_path *e)
{
	e->state = MPQ_ECN_STATE_UNKNOWN;
	if (e->testing_sent && e->testing_lost >= e->testing_sent)
		fail(e);
}

uint8_t mpq_ecn_tx_mark(mpq_ecn_path *e, uint64_t ts, uint64_t pto)
{
	if (e->state == MPQ_ECN_STATE_TESTING && e->testing_started &&
	    (e->testing_sent >= MPQ_ECN_TESTING_PACKETS ||
	     (ts > e->testing_start && ts - e->testing_start > 3 * pto)))
		end_testing(e);
	switch (e->state) {
	case MPQ_ECN_STATE_TESTING:
	case MPQ_ECN_STATE_CAPABLE:
		return MPQ_ECN_ECT0;
	default:
		return MPQ_ECN_NOT_ECT;
	}
}

void mpq_ecn_on_sent(mpq_ecn_path *e, uint8_t ecn, uint64_t ts)
{
	if (ecn != MPQ_ECN_ECT0)
		return;
	e->sent_ect0++;
	if (e->state != MPQ_ECN_STATE_TESTING)
		return;
	if (!e->testing_started) {
		e->testing_started = true;
		e->testing_start = ts;
	}
	e->testing_sent++;
}

void mpq_ecn_on_lost(mpq_ecn_path *e)
{
	if (e->state != MPQ_ECN_STATE_TESTING && e->state != MPQ_ECN_STATE_UNKNOWN)
		return;
	e->testing_lost++;
	if (e->state == MPQ_ECN_STATE_UNKNOWN && e->testing_lost >= e->testing_sent)
		fail(e);
}

bool mpq_ecn_on_ack(mpq_ecn_path *e, mpq_ecn_counts *peer, const mpq_ecn_counts *ack,
		    uint64_t newly_ect0, bool advanced)
{
	if (e->state == MPQ_ECN_STATE_FAILED || !advanced)
		return false;
	if (!ack) {
		if (newly_ect0)
			fail(e);
		return false;
	}
	if (ack->ect0 < peer->ect0 || ack->ect1 < peer->ect1 || ack->ce < peer->ce ||
	    (ack->ect0 - peer->ect0) + (ack->ce - peer->ce) < newly_ect0) {
		fail(e);
		return false;
	}
	bool ce = ack->ce > peer->ce;
	*peer = *ack;
	if (newly_ect0 && e->state != MPQ_ECN_STATE_CAPABLE)
		e->state = MPQ_ECN_STATE_CAPABLE;
	if (ce)
		e->ce_events++;
	return ce;
}
