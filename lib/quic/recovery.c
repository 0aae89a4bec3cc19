/*
 * Loss detection and probe timeouts (RFC 9002 §6 and Appendix A). Every packet
 * number space is recovered on its own; the RTT estimator, congestion
 * controller, pacer and bytes in flight belong to the path the space's packets
 * travel: the Initial and Handshake spaces to path 0, each 1-RTT space to its
 * own path (multipath draft-21 §5).
 */
#include "quic/conn.h"
#include "quic/frame.h"

#define PACKET_THRESHOLD 3
#define TIME_THRESHOLD_NUM 9
#define TIME_THRESHOLD_DEN 8

void mpq_recovery_settle(mpq_conn_path *path, mpq_pktns *ns, mpq_sent_pkt *p)
{
	if (p->flags & MPQ_SENT_IN_FLIGHT)
		path->bytes_in_flight -= p->size;
	if (p->flags & MPQ_SENT_ACK_ELICITING)
		ns->ack_eliciting_in_flight--;
	p->flags &= (uint8_t) ~(MPQ_SENT_IN_FLIGHT | MPQ_SENT_ACK_ELICITING);
}

void mpq_recovery_on_sent(mpq_conn_path *path, mpq_pktns *ns, mpq_sent_pkt *p, uint64_t ts)
{
	p->time_sent = ts;
	if (p->flags & MPQ_SENT_ACK_ELICITING) {
		ns->last_ack_eliciting_time = ts;
		ns->ack_eliciting_in_flight++;
	}
	if (ns->level == MPQ_LEVEL_APP)
		mpq_cc_hystart_on_sent(&path->cc.cc, p->pn);
	if (p->flags & MPQ_SENT_IN_FLIGHT) {
		path->bytes_in_flight += p->size;
		mpq_cc_on_packet_sent(&path->cc.cc, p->size, ts);
		mpq_pacer_on_sent(&path->pacer, p->size, ts);
	}
}

/* Puts what a lost packet carried back in line to be sent. */
void mpq_recovery_requeue(mpq_conn *conn, const mpq_sent_pkt *p)
{
	for (size_t i = 0; i < p->nrecs; i++) {
		const mpq_frame_rec *r = &p->recs[i];
		switch (r->kind) {
		case MPQ_REC_CRYPTO:
			if (r->id < MPQ_LEVEL_COUNT && !mpq_conn_ns(conn, (int)r->id)->discarded)
				mpq_crypto_tx_resend(&mpq_conn_ns(conn, (int)r->id)->crypto_tx,
						     r->offset, r->len);
			break;
		case MPQ_REC_HANDSHAKE_DONE:
			conn->handshake_done_pending = true;
			break;
		case MPQ_REC_NEW_CID:
		case MPQ_REC_RETIRE_CID:
		case MPQ_REC_NEW_TOKEN:
			mpq_conn_cids_on_lost(conn, r);
			break;
		case MPQ_REC_PATH_ABANDON:
		case MPQ_REC_PATH_STATUS:
			mpq_conn_mp_on_lost(conn, r);
			break;
		case MPQ_REC_MAX_PATH_ID:
		case MPQ_REC_PATHS_BLOCKED:
			mpq_conn_pathids_on_lost(conn, r);
			break;
		case MPQ_REC_ADD_ADDRESS:
			mpq_conn_addr_on_lost(conn, r);
			break;
		default:
			mpq_conn_streams_on_lost(conn, r);
			break;
		}
	}
}

/* What one round of loss detection found, for the congestion controller. */
struct lost_batch {
	uint64_t first_sent; /* earliest send time of a lost in-flight packet */
	uint64_t last_sent;  /* latest */
	bool any;
	uint64_t big_sent; /* latest send time of a lost 1-RTT packet above the PMTU base */
};

static void on_lost(mpq_conn *conn, mpq_conn_path *path, mpq_pktns *ns, mpq_sent_pkt *p,
		    struct lost_batch *lb)
{
	if (p->flags & MPQ_SENT_PMTU_PROBE) {
		/* Too large for the path, not congestion (RFC 9000 §14.4). */
		mpq_pmtud_on_probe_lost(&path->pmtud, p->size, conn->now);
		mpq_conn_qlog_lost(conn, ns->level, path->id, p, "pmtu_probe", conn->now);
		mpq_recovery_settle(path, ns, p);
		mpq_sent_done(&ns->sent, p);
		return;
	}
	if (ns->level == MPQ_LEVEL_APP && p->size > MPQ_PMTUD_BASE && p->time_sent > lb->big_sent)
		lb->big_sent = p->time_sent;
	if (p->flags & MPQ_SENT_IN_FLIGHT) {
		if (!lb->any || p->time_sent < lb->first_sent)
			lb->first_sent = p->time_sent;
		if (!lb->any || p->time_sent > lb->last_sent)
			lb->last_sent = p->time_sent;
		lb->any = true;
	}
	if (p->flags & MPQ_SENT_ECT0) {
		mpq_ecn_on_lost(&path->ecn);
		mpq_conn_qlog_ecn(conn, path, conn->now);
	}
	conn->stats.packets_lost++;
	path->packets_lost++;
	mpq_conn_qlog_lost(conn, ns->level, path->id, p, "reordering_threshold", conn->now);
	mpq_recovery_requeue(conn, p);
	mpq_recovery_settle(path, ns, p);
	mpq_sent_done(&ns->sent, p);
}

uint64_t mpq_conn_pto(const mpq_conn *conn, const mpq_conn_path *path, int level)
{
	uint64_t pto = mpq_rtt_pto_base(&path->rtt);
	if (level == MPQ_LEVEL_APP && conn->have_peer_tp)
		pto += conn->peer_tp.max_ack_delay * MPQ_MS;
	return pto;
}

/* The largest PTO of the paths in use: closing, draining, abandoned paths and
 * key updates wait a multiple of it (draft-21 §3.3, §5.3). */
uint64_t mpq_conn_largest_pto(const mpq_conn *conn)
{
	uint64_t max = 0;
	for (size_t i = 0; i < conn->npaths; i++) {
		const mpq_conn_path *p = conn->paths[i];
		uint64_t t = mpq_conn_pto(conn, p, MPQ_LEVEL_APP);
		if (p->state != MPQ_PATH_UNUSED && !p->released && t > max)
			max = t;
	}
	return max;
}

/* RFC 9002 §7.6: losses spanning longer than three PTOs, with an RTT sample
 * taken before them, mean persistent congestion. */
static void on_losses(mpq_conn *conn, mpq_conn_path *path, const struct lost_batch *lb,
		      uint64_t ts)
{
	uint32_t old = path->pmtud.size;
	if (mpq_pmtud_on_losses(&path->pmtud, lb->big_sent, ts)) {
		mpq_conn_log(conn, 1, "path %u: large datagrams no longer pass: back to %u bytes",
			     path->id, (unsigned)path->pmtud.size);
		mpq_conn_path_size_changed(conn, path, old, ts);
	}
	if (!lb->any)
		return;
	mpq_cc_on_congestion_event(&path->cc.cc, lb->last_sent, ts);
	uint64_t span = 3 * mpq_conn_pto(conn, path, MPQ_LEVEL_APP);
	if (path->rtt.has_sample && path->first_rtt_sample_time < lb->first_sent &&
	    lb->last_sent - lb->first_sent > span)
		mpq_cc_on_persistent_congestion(&path->cc.cc, ts);
}

static uint64_t loss_delay(const mpq_conn_path *path)
{
	uint64_t rtt = path->rtt.latest > path->rtt.smoothed ? path->rtt.latest
							     : path->rtt.smoothed;
	uint64_t d = rtt * TIME_THRESHOLD_NUM / TIME_THRESHOLD_DEN;
	return d > MPQ_GRANULARITY ? d : MPQ_GRANULARITY;
}

/* RFC 9002 §6.1: packet and time thresholds below the largest acknowledged. */
static void detect_lost(mpq_conn *conn, mpq_conn_path *path, mpq_pktns *ns, uint64_t ts)
{
	uint64_t delay = loss_delay(path);
	uint64_t lost_before = ts > delay ? ts - delay : 0;
	ns->loss_time = 0;
	if (ns->largest_acked < 0)
		return;
	uint64_t largest = (uint64_t)ns->largest_acked;
	struct lost_batch lb = {0};
	for (size_t i = 0; i < ns->sent.n; i++) {
		mpq_sent_pkt *p = mpq_sent_at(&ns->sent, i);
		if (p->pn > largest)
			break;
		if (p->flags & MPQ_SENT_DONE)
			continue;
		if (p->time_sent <= lost_before || largest >= p->pn + PACKET_THRESHOLD) {
			/* Settling may pop done packets off the ring's front; keep our place. */
			uint64_t front = ns->sent.first_pn;
			on_lost(conn, path, ns, p, &lb);
			size_t shift = (size_t)(ns->sent.first_pn - front), next = i + 1;
			i = (next > shift ? next - shift : 0) - 1;
			continue;
		}
		uint64_t t = p->time_sent + delay;
		if (ns->loss_time == 0 || t < ns->loss_time)
			ns->loss_time = t;
	}
	on_losses(conn, path, &lb, ts);
}

/* RFC 9000 §13.4.2.1 and RFC 9002 §7.1 (Appendix B.7): the ACK's ECN counts
 * validate the path's marks, and a rise of the CE count is a congestion event
 * dated by the send time of the largest packet acknowledged, |sent|: one
 * reduction per round trip, as for losses. */
static bool on_ack_ecn(mpq_conn *conn, mpq_conn_path *path, mpq_pktns *ns,
		       const mpq_frame_ack *ack, uint64_t newly_ect0, bool advanced, uint64_t sent,
		       uint64_t ts)
{
	mpq_ecn_counts counts = {.ect0 = ack->ect0, .ect1 = ack->ect1, .ce = ack->ce};
	bool ce = mpq_ecn_on_ack(&path->ecn, &ns->ecn_peer, ack->ecn ? &counts : NULL, newly_ect0,
				 advanced) &&
		  sent;
	if (ce)
		mpq_cc_on_congestion_event(&path->cc.cc, sent, ts);
	mpq_conn_qlog_ecn(conn, path, ts);
	return ce;
}

static void pmtu_on_acked(mpq_conn *conn, mpq_conn_path *path, const mpq_sent_pkt *p, uint64_t ts)
{
	uint32_t old = path->pmtud.size;
	if (!(p->flags & MPQ_SENT_PMTU_PROBE)) {
		mpq_pmtud_on_acked(&path->pmtud, p->size, p->time_sent);
	} else if (mpq_pmtud_on_probe_acked(&path->pmtud, p->size, ts)) {
		mpq_conn_log(conn, 1, "path %u: %u-byte datagrams pass", path->id,
			     (unsigned)p->size);
		mpq_conn_path_size_changed(conn, path, old, ts);
	}
}

int mpq_recovery_on_ack(mpq_conn *conn, mpq_conn_path *path, mpq_pktns *ns,
			const mpq_frame_ack *ack, uint64_t ts)
{
	uint64_t largest = ack->ranges[0].largest;
	if (largest >= ns->next_pn)
		return MPQ_ERR_PROTO; /* acknowledges a packet we never sent */
	bool advanced = (int64_t)largest > ns->largest_acked;
	if (advanced)
		ns->largest_acked = (int64_t)largest;

	bool eliciting_acked = false;
	uint64_t largest_sent_time = 0, newest_acked_sent = 0, bytes_acked = 0, newly_ect0 = 0;
	for (size_t r = 0; r < ack->nranges; r++) {
		if (ns->sent.n == 0)
			break;
		/* Walk only the packets still tracked, whatever the range claims. */
		uint64_t lo = ack->ranges[r].smallest, hi = ack->ranges[r].largest;
		uint64_t first = ns->sent.first_pn, last = first + ns->sent.n - 1;
		if (hi < first || lo > last)
			continue;
		for (uint64_t pn = lo > first ? lo : first; pn <= (hi < last ? hi : last); pn++) {
			mpq_sent_pkt *p = mpq_sent_find(&ns->sent, pn);
			if (!p)
				continue;
			if (p->flags & MPQ_SENT_ACK_ELICITING)
				eliciting_acked = true;
			if (p->flags & MPQ_SENT_ECT0)
				newly_ect0++;
			if (pn == largest)
				largest_sent_time = p->time_sent;
			if (ns->level == MPQ_LEVEL_APP)
				pmtu_on_acked(conn, path, p, ts);
			if (p->flags & MPQ_SENT_IN_FLIGHT) {
				bytes_acked += p->size;
				if (p->time_sent > newest_acked_sent)
					newest_acked_sent = p->time_sent;
			}
			/* Settle first: the records' handlers may free streams and send more. */
			mpq_recovery_settle(path, ns, p);
			mpq_sent_pkt copy = *p;
			mpq_sent_done(&ns->sent, p);
			for (size_t i = 0; i < copy.nrecs; i++) {
				mpq_conn_streams_on_acked(conn, &copy.recs[i]);
				mpq_conn_cids_on_acked(conn, &copy.recs[i]);
			}
		}
	}

	/* Packet numbers are per path: the key phase's start is kept per path. */
	if (ns->level == MPQ_LEVEL_APP)
		mpq_key_update_on_acked(conn, mpq_conn_slot_index(conn, path), largest, ts);
	/* RFC 9001 §4.1.2: an ACK of a 1-RTT packet confirms the client's
	 * handshake too, should HANDSHAKE_DONE be lost with the only path. */
	if (ns->level == MPQ_LEVEL_APP && largest_sent_time)
		mpq_handshake_confirm(conn, ts);
	uint64_t rtt_sample = 0;
	if (largest_sent_time && eliciting_acked && ts >= largest_sent_time) {
		uint64_t delay = 0;
		rtt_sample = ts - largest_sent_time;
		if (ns->level == MPQ_LEVEL_APP && conn->have_peer_tp)
			delay = (ack->ack_delay << conn->peer_tp.ack_delay_exponent) * 1000;
		if (!path->rtt.has_sample)
			path->first_rtt_sample_time = ts;
		mpq_rtt_update(&path->rtt, ts - largest_sent_time, delay,
			       conn->handshake_confirmed, conn->peer_tp.max_ack_delay * MPQ_MS);
	}
	if (bytes_acked) {
		if (ns->level == MPQ_LEVEL_APP)
			mpq_cc_hystart_on_ack(&path->cc.cc, largest, rtt_sample);
		mpq_cc_on_packets_acked(&path->cc.cc, bytes_acked, newest_acked_sent, &path->rtt,
					ts);
		mpq_pacer_update_rate(&path->pacer, mpq_cc_cwnd(&path->cc.cc), path->rtt.smoothed);
	}
	if (bytes_acked || eliciting_acked)
		path->last_acked_time = ts; /* the path delivers what we send */
	bool ce = on_ack_ecn(conn, path, ns, ack, newly_ect0, advanced,
			     largest_sent_time ? largest_sent_time : newest_acked_sent, ts);
	detect_lost(conn, path, ns, ts);
	if (bytes_acked || ce)
		mpq_conn_qlog_metrics(conn, path, ce ? "ecn" : NULL, ts);
	/* A client keeps backing off until it knows the server validated it. */
	if (conn->is_server || ns->level != MPQ_LEVEL_INITIAL)
		path->pto_count = 0;
	return 0;
}

/* A packet number space with the path whose recovery state it uses. */
struct space {
	mpq_conn_path *path;
	mpq_pktns *ns;
};

/* Every space that may have packets in flight: Initial and Handshake (on path
 * 0), then each path's 1-RTT space. Returns how many were written. */
static size_t spaces(const mpq_conn *cconn, struct space *out)
{
	mpq_conn *conn = (mpq_conn *)cconn;
	size_t n = 0;
	for (int l = MPQ_LEVEL_INITIAL; l < MPQ_LEVEL_APP; l++)
		out[n++] = (struct space){mpq_conn_path0(conn), &conn->hs_ns[l]};
	for (size_t i = 0; i < conn->npaths; i++)
		if (conn->paths[i]->state != MPQ_PATH_UNUSED && !conn->paths[i]->released)
			out[n++] = (struct space){conn->paths[i], &conn->paths[i]->ns};
	return n;
}

static bool at_amplification_limit(const mpq_conn *conn)
{
	const mpq_conn_path *p = conn->paths[0];
	return conn->is_server && !p->validated && p->bytes_tx >= 3 * p->bytes_rx;
}

/* RFC 9002 A.8: when and in which space the probe timeout fires. */
static uint64_t pto_time(const mpq_conn *conn, struct space *which)
{
	struct space sp[2 + MPQ_MAX_PATHS];
	size_t n = spaces(conn, sp);
	uint64_t best = MPQ_TIME_NEVER;
	bool any_in_flight = false;
	for (size_t i = 0; i < n; i++) {
		const mpq_pktns *ns = sp[i].ns;
		if (ns->discarded || ns->ack_eliciting_in_flight == 0)
			continue;
		any_in_flight = true;
		if (ns->level == MPQ_LEVEL_APP && !conn->handshake_confirmed)
			continue;
		uint32_t count = sp[i].path->pto_count;
		uint64_t backoff = 1ULL << (count < 30 ? count : 30);
		uint64_t t = ns->last_ack_eliciting_time +
			     mpq_conn_pto(conn, sp[i].path, ns->level) * backoff;
		if (t < best) {
			best = t;
			*which = sp[i];
		}
	}
	if (!any_in_flight && !conn->is_server && !conn->handshake_confirmed) {
		/* Anti-deadlock: the client probes so the server can send more. */
		mpq_conn *c = (mpq_conn *)conn;
		mpq_conn_path *p0 = mpq_conn_path0(c);
		int l = mpq_pktns_can_send(&c->hs_ns[MPQ_LEVEL_HANDSHAKE]) ? MPQ_LEVEL_HANDSHAKE
									   : MPQ_LEVEL_INITIAL;
		uint64_t since = c->hs_ns[l].last_ack_eliciting_time;
		if (since == 0)
			since = conn->created;
		uint64_t backoff = 1ULL << (p0->pto_count < 30 ? p0->pto_count : 30);
		best = since + mpq_conn_pto(conn, p0, l) * backoff;
		*which = (struct space){p0, &c->hs_ns[l]};
	}
	return best;
}

static bool earliest_loss(const mpq_conn *conn, struct space *which)
{
	struct space sp[2 + MPQ_MAX_PATHS];
	size_t n = spaces(conn, sp);
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		uint64_t t = sp[i].ns->loss_time;
		if (t && !sp[i].ns->discarded && (!found || t < which->ns->loss_time)) {
			*which = sp[i];
			found = true;
		}
	}
	return found;
}

uint64_t mpq_recovery_expiry(const mpq_conn *conn)
{
	struct space s;
	if (earliest_loss(conn, &s))
		return s.ns->loss_time;
	if (at_amplification_limit(conn))
		return MPQ_TIME_NEVER;
	return pto_time(conn, &s);
}

/* A probe resends what is still unacknowledged rather than a bare PING. */
static void requeue_in_flight(mpq_conn *conn, mpq_pktns *ns)
{
	for (size_t i = 0; i < ns->sent.n; i++) {
		mpq_sent_pkt *p = mpq_sent_at(&ns->sent, i);
		if (!(p->flags & MPQ_SENT_DONE))
			mpq_recovery_requeue(conn, p);
	}
}

void mpq_recovery_on_timeout(mpq_conn *conn, uint64_t ts)
{
	struct space s;
	if (earliest_loss(conn, &s)) {
		if (s.ns->loss_time <= ts)
			detect_lost(conn, s.path, s.ns, ts);
		return;
	}
	if (at_amplification_limit(conn) || pto_time(conn, &s) > ts)
		return;
	int level = s.ns->level;
	s.path->pto_count++;
	/* Handshake data is small: resend all of it. 1-RTT probes carry new data
	 * or a PING, and the ACK they draw out lets loss detection do the rest. */
	if (level != MPQ_LEVEL_APP)
		requeue_in_flight(conn, s.ns);
	/* A path that went silent one way never sees the ACKs loss detection
	 * needs: what it holds would wait for the path to be declared failed,
	 * many backed-off PTOs later, while the receiver's window stays pinned
	 * behind the hole. Another path that delivers sends it again now. */
	else if (mpq_conn_other_path_delivers(conn, s.path))
		requeue_in_flight(conn, s.ns);
	/* RFC 9002 §6.2.4: two probes, so one lost datagram does not cost
	 * another, doubled, timeout. */
	if (level == MPQ_LEVEL_APP)
		s.path->probe = 2;
	else
		conn->probe_pending[level] = 2;
	/* RFC 9002 §6.2.4: a probe goes to the other spaces with data in flight
	 * too. Before its handshake is confirmed a client's PTO is a Handshake
	 * one, which a server that completed (and dropped those keys) cannot
	 * read: if its HANDSHAKE_DONE cannot reach the client (a NAT rebound
	 * the client's port), only a 1-RTT packet shows it where the client is. */
	mpq_conn_path *p0 = mpq_conn_path0(conn);
	if (level != MPQ_LEVEL_APP && p0->ns.ack_eliciting_in_flight &&
	    mpq_pktns_can_send(&p0->ns) && !p0->probe)
		p0->probe = 1;
	/* A client with Initial data in flight probes Handshake too, and vice versa. */
	mpq_pktns *hs = &conn->hs_ns[MPQ_LEVEL_HANDSHAKE];
	if (level == MPQ_LEVEL_INITIAL && mpq_pktns_can_send(hs) && hs->ack_eliciting_in_flight) {
		requeue_in_flight(conn, hs);
		conn->probe_pending[MPQ_LEVEL_HANDSHAKE] = 1;
	}
}
