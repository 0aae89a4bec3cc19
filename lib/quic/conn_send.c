/*
 * Datagrams out: one packet per level that has something to send (ACK,
 * CRYPTO, HANDSHAKE_DONE, a probe, CONNECTION_CLOSE), coalesced Initial →
 * Handshake → 1-RTT in one datagram, padded to 1200 bytes when it carries an
 * Initial packet (RFC 9000 §14.1), within the server's 3x anti-amplification
 * limit (§8.1). Frames are written straight into the caller's buffer.
 */
#include <string.h>

#include "quic/conn.h"
#include "quic/frame.h"
#include "quic/packet.h"

/* The packet being written; sealed when the next one starts or the datagram ends. */
typedef struct pkt_builder {
	mpq_conn_path *path; /* the path the datagram leaves by (1-RTT: its space) */
	uint8_t *buf;
	size_t cap; /* room for the whole datagram */
	size_t len; /* bytes of packets sealed so far */
	bool open;
	int level;
	mpq_pkt_hd hd;
	size_t start; /* the open packet's offset in buf */
	mpq_writer w; /* payload of the open packet; leaves room for the tag */
	size_t payload_start;
	bool ack_eliciting;
	bool padded;
	size_t nrecs;
	mpq_frame_rec recs[MPQ_SENT_MAX_RECS];
	bool has_initial;
	bool initial_eliciting;
	bool pad_full;	 /* PATH_CHALLENGE/RESPONSE inside: 1200 bytes (RFC 9000 §8.2) */
	bool pmtu_probe; /* PING padded to the whole datagram, a PMTU probe */
	bool has_handshake;
	uint8_t ecn; /* the datagram's codepoint (MPQ_ECN_*) */
} pkt_builder;

static int pkt_type_of(int level)
{
	static const int types[MPQ_LEVEL_COUNT] = {MPQ_PKT_INITIAL, MPQ_PKT_HANDSHAKE,
						   MPQ_PKT_1RTT};
	return types[level];
}

/* Starts a packet at |level|. Returns false when there is no room for one. */
/* The space a packet of |level| goes in: 1-RTT ones in the path's own. */
static mpq_pktns *space_of(mpq_conn *conn, pkt_builder *b, int level)
{
	return level == MPQ_LEVEL_APP ? &b->path->ns : mpq_conn_ns(conn, level);
}

static bool pkt_open(mpq_conn *conn, pkt_builder *b, int level)
{
	mpq_pktns *ns = space_of(conn, b, level);
	memset(&b->hd, 0, sizeof(b->hd));
	b->hd.type = pkt_type_of(level);
	b->hd.version = conn->version;
	b->hd.dcid = conn->dcid;
	if (level == MPQ_LEVEL_APP && b->path->id != 0)
		b->hd.dcid =
			*mpq_cidset_current(conn->peer_cids[mpq_conn_slot_index(conn, b->path)]);
	b->hd.scid = conn->scid;
	b->hd.pn = ns->next_pn;
	b->hd.pn_len = mpq_pkt_pn_len(ns->next_pn, ns->largest_acked);
	b->hd.key_phase = conn->kp.tx_phase;
	if (level == MPQ_LEVEL_INITIAL && !conn->is_server) {
		b->hd.token = conn->token;
		b->hd.tokenlen = conn->tokenlen;
	}
	b->start = b->len;
	mpq_writer w;
	mpq_writer_init(&w, b->buf + b->start, b->cap - b->start);
	if (mpq_pkt_encode_hd(&w, &b->hd) != 0)
		return false;
	size_t hdlen = (size_t)(w.pos - (b->buf + b->start));
	/* Room for the tag and at least a few bytes of frames. */
	if (b->cap - b->start < hdlen + MPQ_AEAD_TAGLEN + 16)
		return false;
	mpq_writer_init(&b->w, w.pos, b->cap - b->start - hdlen - MPQ_AEAD_TAGLEN);
	b->payload_start = b->start + hdlen;
	b->open = true;
	b->level = level;
	b->ack_eliciting = false;
	b->padded = false;
	b->nrecs = 0;
	return true;
}

static size_t payload_len(const pkt_builder *b)
{
	return (size_t)(b->w.pos - (b->buf + b->payload_start));
}

static int pad(pkt_builder *b, size_t n)
{
	if (n > mpq_writer_left(&b->w))
		n = mpq_writer_left(&b->w);
	memset(b->w.pos, 0, n);
	b->w.pos += n;
	if (n)
		b->padded = true;
	return 0;
}

/* Protects the open packet and records it as sent. */
static int pkt_seal(mpq_conn *conn, pkt_builder *b, uint64_t ts)
{
	mpq_pktns *ns = space_of(conn, b, b->level);
	mpq_conn_path *path = b->level == MPQ_LEVEL_APP ? b->path : mpq_conn_path0(conn);
	/* RFC 9001 §5.4.2: enough bytes after the packet number for the HP sample. */
	if (payload_len(b) + b->hd.pn_len < 4)
		pad(b, 4 - b->hd.pn_len - payload_len(b));
	size_t nframes = mpq_conn_qlog_decode(conn, b->buf + b->payload_start, payload_len(b));
	/* 1-RTT keys live in path 0's space; the path ID goes in the nonce. */
	int n = mpq_pkt_protect(b->buf + b->start, b->cap - b->start, &b->hd, payload_len(b),
				&mpq_conn_ns(conn, b->level)->tx,
				b->level == MPQ_LEVEL_APP ? path->id : 0);
	if (n < 0)
		return n;
	b->hd.pktlen = (size_t)n;
	mpq_conn_qlog_packet(conn, true, &b->hd, path->id, (size_t)n, nframes, ts);
	mpq_sent_pkt *p = mpq_sent_add(&ns->sent, b->hd.pn);
	if (!p)
		return MPQ_ERR_NOMEM;
	p->size = (uint32_t)n;
	p->flags = (b->ack_eliciting ? MPQ_SENT_ACK_ELICITING : 0) |
		   (b->ack_eliciting || b->padded ? MPQ_SENT_IN_FLIGHT : 0) |
		   (b->pmtu_probe ? MPQ_SENT_PMTU_PROBE : 0);
	p->nrecs = (uint8_t)b->nrecs;
	memcpy(p->recs, b->recs, b->nrecs * sizeof(b->recs[0]));
	/* Only packets the peer acknowledges test or use the path's ECN. */
	if (p->flags && b->ecn == MPQ_ECN_ECT0) {
		p->flags |= MPQ_SENT_ECT0;
		mpq_ecn_on_sent(&path->ecn, b->ecn, ts);
	}
	mpq_recovery_on_sent(path, ns, p, ts);
	path->packets_sent++;
	path->bytes_sent += (uint64_t)n;
	if (!p->flags)
		mpq_sent_done(&ns->sent, p); /* nothing to wait for */
	if (b->level == MPQ_LEVEL_APP)
		mpq_key_update_on_sent(conn, mpq_conn_slot_index(conn, path), b->hd.pn, ts);
	ns->next_pn++;
	/* RFC 9000 §10.1: only the first ack-eliciting packet after a receipt
	 * restarts the idle timer, or probes would keep a dead peer alive. */
	if (b->ack_eliciting && !conn->eliciting_sent_since_rx) {
		mpq_conn_touch_idle(conn, ts);
		conn->eliciting_sent_since_rx = true;
	}
	if (b->level == MPQ_LEVEL_INITIAL) {
		b->has_initial = true;
		b->initial_eliciting |= b->ack_eliciting;
	} else if (b->level == MPQ_LEVEL_HANDSHAKE) {
		b->has_handshake = true;
	}
	b->len += (size_t)n;
	b->open = false;
	return 0;
}

static void add_rec(pkt_builder *b, const mpq_frame_rec *r)
{
	b->recs[b->nrecs++] = *r;
}

static int write_frame(pkt_builder *b, const mpq_frame *fr)
{
	int rv = mpq_frame_encode(&b->w, fr);
	if (rv == 0 && mpq_frame_is_ack_eliciting(fr->type))
		b->ack_eliciting = true;
	return rv;
}

/* An ACK (or, for path |pid| with multipath, a PATH_ACK) of |ns|, the 1-RTT
 * space of |path| (NULL: a handshake space); its ECN variant once a packet
 * arrived marked (RFC 9000 §19.3.2). */
static int write_ack(mpq_conn *conn, pkt_builder *b, mpq_pktns *ns, const mpq_conn_path *path,
		     int64_t pid, uint64_t ts)
{
	bool ecn = mpq_ecn_counts_any(&ns->ecn_rx);
	mpq_frame fr = {.type = pid < 0 ? (ecn ? MPQ_FT_ACK_ECN : MPQ_FT_ACK)
					: (ecn ? MPQ_FT_PATH_ACK_ECN : MPQ_FT_PATH_ACK)};
	fr.ack.path_id = pid < 0 ? 0 : (uint64_t)pid;
	fr.ack.ecn = ecn;
	fr.ack.ect0 = ns->ecn_rx.ect0;
	fr.ack.ect1 = ns->ecn_rx.ect1;
	fr.ack.ce = ns->ecn_rx.ce;
	size_t n = mpq_ranges_count(&ns->rx_pns);
	if (n > MPQ_MAX_ACK_RANGES)
		n = MPQ_MAX_ACK_RANGES;
	for (size_t i = 0; i < n; i++) {
		const mpq_range *r = mpq_ranges_top(&ns->rx_pns, i);
		fr.ack.ranges[i].smallest = r->lo;
		fr.ack.ranges[i].largest = r->hi;
	}
	fr.ack.nranges = n;
	uint64_t delay_us = ts > ns->largest_rx_time ? (ts - ns->largest_rx_time) / 1000 : 0;
	fr.ack.ack_delay =
		b->level == MPQ_LEVEL_APP ? delay_us >> conn->local_tp.ack_delay_exponent : 0;
	/* Fewer ranges when the packet is small: the newest matter most. */
	while (fr.ack.nranges > 1 && mpq_frame_encoded_len(&fr) > mpq_writer_left(&b->w))
		fr.ack.nranges--;
	int rv = write_frame(b, &fr);
	if (rv == 0 && path)
		mpq_key_update_on_ack_sent(conn, mpq_conn_slot_index(conn, path),
					   fr.ack.ranges[0].largest);
	if (rv == 0) {
		ns->ack_needed = false;
		ns->rx_since_ack = false;
		ns->eliciting_since_ack = 0;
		ns->ack_deadline = 0;
	}
	return rv;
}

/* Whether a packet should carry an ACK of |ns|: one is owed, or a packet came
 * since the last one. Not again otherwise: a data sender that put an ACK in
 * every packet would spend some 10 bytes of each telling what the last said. */
static bool ack_news(const mpq_pktns *ns)
{
	return mpq_ranges_count(&ns->rx_pns) && (ns->ack_needed || ns->rx_since_ack);
}

/* The ACKs a packet carries: its own space's, and with multipath a PATH_ACK
 * for every other path that owes one (they may travel on any path). */
static int write_acks(mpq_conn *conn, pkt_builder *b, uint64_t ts)
{
	if (b->level != MPQ_LEVEL_APP) {
		mpq_pktns *ns = mpq_conn_ns(conn, b->level);
		return ack_news(ns) ? write_ack(conn, b, ns, NULL, -1, ts) : 0;
	}
	if (!mpq_conn_multipath(conn)) {
		mpq_pktns *ns = &b->path->ns;
		return ack_news(ns) ? write_ack(conn, b, ns, b->path, -1, ts) : 0;
	}
	for (size_t i = 0; i < conn->npaths; i++) {
		mpq_conn_path *p = conn->paths[i];
		if (p->state == MPQ_PATH_UNUSED || p->released || !ack_news(&p->ns))
			continue;
		if (p != b->path && !p->ns.ack_needed)
			continue;
		int rv = write_ack(conn, b, &p->ns, p, (int64_t)p->id, ts);
		if (rv != 0)
			return rv;
	}
	return 0;
}

static void write_crypto(mpq_conn *conn, pkt_builder *b)
{
	mpq_crypto_tx *c = &mpq_conn_ns(conn, b->level)->crypto_tx;
	while (mpq_ranges_count(&c->unsent) > 0 && b->nrecs < MPQ_SENT_MAX_RECS) {
		const mpq_range *r = mpq_ranges_top(&c->unsent, mpq_ranges_count(&c->unsent) - 1);
		uint64_t off = r->lo, want = r->hi - r->lo + 1;
		size_t room = mpq_writer_left(&b->w);
		size_t overhead =
			1 + mpq_varint_len(off) + mpq_varint_len(want < room ? want : room);
		if (room <= overhead)
			return;
		size_t n = room - overhead < want ? room - overhead : (size_t)want;
		mpq_frame fr = {.type = MPQ_FT_CRYPTO};
		fr.crypto.offset = off;
		fr.crypto.data = c->buf + off;
		fr.crypto.len = n;
		if (write_frame(b, &fr) != 0)
			return;
		add_rec(b, &(mpq_frame_rec){.kind = MPQ_REC_CRYPTO,
					    .id = (uint64_t)b->level,
					    .offset = off,
					    .len = (uint32_t)n});
		mpq_ranges_remove_below(&c->unsent, off + n);
	}
}

static bool any_ack_needed(const mpq_conn *conn)
{
	for (size_t i = 0; i < conn->npaths; i++)
		if (conn->paths[i]->state != MPQ_PATH_UNUSED && !conn->paths[i]->released &&
		    conn->paths[i]->ns.ack_needed)
			return true;
	return false;
}

static bool has_data(mpq_conn *conn, pkt_builder *b, int level, bool data_ok)
{
	if (!mpq_pktns_can_send(mpq_conn_ns(conn, level)))
		return false;
	if (level != MPQ_LEVEL_APP) {
		const mpq_pktns *ns = mpq_conn_ns(conn, level);
		return ns->ack_needed || conn->probe_pending[level] ||
		       mpq_ranges_count(&ns->crypto_tx.unsent) > 0;
	}
	return any_ack_needed(conn) || b->path->probe || conn->handshake_done_pending || data_ok ||
	       mpq_conn_path_want_send(b->path) ||
	       mpq_ranges_count(&conn->paths[0]->ns.crypto_tx.unsent) > 0 ||
	       (conn->handshake_complete &&
		(mpq_conn_cids_want_send(conn) || mpq_conn_mp_want_send(conn) ||
		 mpq_conn_addr_want_send(conn)));
}

static int write_level(mpq_conn *conn, pkt_builder *b, int level, bool data_ok, uint64_t ts)
{
	uint8_t *probe = level == MPQ_LEVEL_APP ? &b->path->probe : &conn->probe_pending[level];
	/* Control frames owed, asked once: writing them scans every path ID's
	 * CIDs, which most packets (stream data) need not do. */
	bool app = level == MPQ_LEVEL_APP && conn->handshake_complete;
	bool cids = app && mpq_conn_cids_want_send(conn);
	bool mp = app && mpq_conn_mp_want_send(conn);
	bool addr = app && mpq_conn_addr_want_send(conn);
	/* Whether this packet has a reason beyond the stream data it may carry. */
	bool owed = level != MPQ_LEVEL_APP || any_ack_needed(conn) || *probe ||
		    conn->handshake_done_pending || mpq_conn_path_want_send(b->path) ||
		    mpq_ranges_count(&conn->paths[0]->ns.crypto_tx.unsent) > 0 || cids || mp ||
		    addr;
	if (b->open) {
		int rv = pkt_seal(conn, b, ts);
		if (rv != 0)
			return rv;
	}
	if (!pkt_open(conn, b, level))
		return 0;
	int rv = write_acks(conn, b, ts);
	if (rv == 0 && level == MPQ_LEVEL_APP) {
		mpq_conn_write_path_frames(b->path, &b->w, &b->pad_full, &b->ack_eliciting);
		if (conn->handshake_complete) {
			if (cids)
				b->nrecs += mpq_conn_write_cid_frames(conn, &b->w,
								      b->recs + b->nrecs,
								      MPQ_SENT_MAX_RECS - b->nrecs,
								      &b->ack_eliciting);
			/* After the CIDs of every path ID: a peer may open a
			 * path once confirmed (picoquic does, at once). */
			if (conn->handshake_done_pending && !mpq_conn_cids_announcing(conn) &&
			    b->nrecs < MPQ_SENT_MAX_RECS) {
				rv = write_frame(b, &(mpq_frame){.type = MPQ_FT_HANDSHAKE_DONE});
				if (rv == 0) {
					add_rec(b,
						&(mpq_frame_rec){.kind = MPQ_REC_HANDSHAKE_DONE});
					conn->handshake_done_pending = false;
				}
			}
			if (mp)
				b->nrecs += mpq_conn_write_mp_frames(conn, &b->w,
								     b->recs + b->nrecs,
								     MPQ_SENT_MAX_RECS - b->nrecs,
								     &b->ack_eliciting);
			if (addr)
				b->nrecs +=
					mpq_conn_write_addr_frames(conn, &b->w, b->recs + b->nrecs,
								   MPQ_SENT_MAX_RECS - b->nrecs,
								   &b->ack_eliciting);
		}
	}
	if (rv == 0)
		write_crypto(conn, b);
	if (rv == 0 && level == MPQ_LEVEL_APP && data_ok && mpq_conn_dup_owed(conn, b->path))
		b->nrecs += mpq_conn_write_dups(conn, b->path, &b->w, b->recs + b->nrecs,
						MPQ_SENT_MAX_RECS - b->nrecs, &b->ack_eliciting);
	/* A probe may carry new data, except on a backup path another path
	 * stands in for: the data would go where the peer asked it not to; and
	 * on a path in doubt while another delivers: the data its PTO gave back
	 * (the oldest, what the peer waits for) would go into the same hole. */
	bool probe_data = *probe && !mpq_conn_path_holds_data(conn, b->path) &&
			  !(b->path->pto_count && mpq_conn_other_path_delivers(conn, b->path));
	if (rv == 0 && level == MPQ_LEVEL_APP && (data_ok || probe_data)) {
		size_t first = b->nrecs;
		b->nrecs += mpq_conn_write_streams(conn, &b->w, b->recs + b->nrecs,
						   MPQ_SENT_MAX_RECS - b->nrecs, &b->ack_eliciting,
						   ts);
		for (size_t i = first; i < b->nrecs; i++)
			mpq_conn_dup_on_sent(conn, b->path, &b->recs[i]);
	}
	if (rv == 0 && *probe && !b->ack_eliciting)
		rv = write_frame(b, &(mpq_frame){.type = MPQ_FT_PING});
	if (rv == MPQ_ERR_NOBUF)
		rv = 0;
	if (*probe && b->ack_eliciting)
		(*probe)--;
	if (payload_len(b) == 0 || (!owed && !b->ack_eliciting))
		b->open = false; /* nothing worth a packet: forget it */
	return rv;
}

/* The datagram's last packet carries the padding it needs. */
static int finish_datagram(mpq_conn *conn, pkt_builder *b, uint64_t ts)
{
	if (!b->open)
		return 0;
	bool initial = b->has_initial || b->level == MPQ_LEVEL_INITIAL;
	bool eliciting = b->initial_eliciting ||
			 (b->level == MPQ_LEVEL_INITIAL && b->ack_eliciting);
	if ((initial && (!conn->is_server || eliciting)) || b->pad_full) {
		size_t sealed = b->payload_start + payload_len(b) + MPQ_AEAD_TAGLEN;
		size_t target = MPQ_MIN_INITIAL_DATAGRAM < b->cap ? MPQ_MIN_INITIAL_DATAGRAM
								  : b->cap;
		if (sealed < target)
			pad(b, target - sealed);
	}
	return pkt_seal(conn, b, ts);
}

/* The largest datagram the peer and |buflen| allow. */
static size_t room_for(const mpq_conn *conn, size_t buflen)
{
	if (conn->have_peer_tp && conn->peer_tp.max_udp_payload_size < buflen)
		return (size_t)conn->peer_tp.max_udp_payload_size;
	return buflen;
}

static size_t send_limit(const mpq_conn *conn, const mpq_conn_path *p, size_t buflen)
{
	size_t limit = room_for(conn, buflen);
	if (p->pmtud.size < limit)
		limit = p->pmtud.size;
	/* A PTO on a path that discovered large datagrams may mean they no
	 * longer pass: probes of the base size still do, their ACKs show the
	 * large packets lost, which is how a black hole is found (RFC 8899 §4.3). */
	if (p->probe && mpq_pmtud_enabled(&p->pmtud) && limit > MPQ_PMTUD_BASE)
		limit = MPQ_PMTUD_BASE;
	/* RFC 9000 §8.1 and draft-21 §3.1: 3x what the path received until it is validated. */
	if (conn->is_server && !p->validated) {
		uint64_t allowed = 3 * p->bytes_rx - p->bytes_tx;
		if (allowed < limit)
			limit = (size_t)allowed;
	}
	return limit;
}

static int write_close(mpq_conn *conn, pkt_builder *b, uint64_t ts)
{
	for (int l = 0; l < MPQ_LEVEL_COUNT; l++) {
		if (!mpq_pktns_can_send(mpq_conn_ns(conn, l)) ||
		    (l == MPQ_LEVEL_APP &&
		     (!conn->handshake_complete || mpq_key_update_tx_exhausted(conn))))
			continue;
		if (b->open) {
			int rv = pkt_seal(conn, b, ts);
			if (rv != 0)
				return rv;
		}
		if (!pkt_open(conn, b, l))
			break;
		mpq_frame fr = {.type = MPQ_FT_CONNECTION_CLOSE};
		fr.close.error_code = conn->err.code;
		fr.close.frame_type = conn->err.frame_type;
		/* The reason is for logs; it may not fit a small packet. */
		fr.close.reason = (const uint8_t *)conn->err.reason;
		fr.close.reasonlen = strlen(conn->err.reason);
		if (conn->err.app && l == MPQ_LEVEL_APP) {
			fr.type = MPQ_FT_CONNECTION_CLOSE_APP;
			fr.close.frame_type = 0;
		} else if (conn->err.app) {
			/* RFC 9000 §10.2.3: before 1-RTT, an application close
			 * becomes APPLICATION_ERROR and says nothing more. */
			fr.close.error_code = MPQ_TE_APPLICATION_ERROR;
			fr.close.frame_type = 0;
			fr.close.reasonlen = 0;
		}
		if (write_frame(b, &fr) != 0) {
			fr.close.reasonlen = 0;
			if (write_frame(b, &fr) != 0)
				b->open = false;
		}
	}
	conn->close_pending = false;
	return finish_datagram(conn, b, ts);
}

/* RFC 8899 §4.1: a PMTU probe on a path whose search wants one, once the
 * handshake is confirmed and the path validated, when its congestion window
 * has room: a PING padded to the size tried, alone in its datagram. Returns
 * the datagram's length, 0 when none is due, or an error. */
static int write_pmtu_probe(mpq_conn *conn, mpq_path *path_out, mpq_pkt_info *pi_out, uint8_t *buf,
			    size_t buflen, uint64_t ts)
{
	if (!conn->handshake_confirmed || mpq_key_update_tx_exhausted(conn))
		return 0;
	for (size_t i = 0; i < conn->npaths; i++) {
		mpq_conn_path *p = conn->paths[i];
		/* A client's paths are validated before they are active. */
		if (p->state != MPQ_PATH_ACTIVE || p->released || p->probe || p->migrating ||
		    (conn->is_server && !p->validated) || !mpq_pmtud_enabled(&p->pmtud))
			continue;
		uint32_t size =
			mpq_pmtud_want_probe(&p->pmtud, (uint32_t)room_for(conn, buflen), ts);
		if (!size || p->bytes_in_flight + size > mpq_cc_cwnd(&p->cc.cc))
			continue;
		pkt_builder b = {.path = p, .buf = buf, .cap = size, .pmtu_probe = true};
		if (!pkt_open(conn, &b, MPQ_LEVEL_APP))
			continue;
		int rv = write_frame(&b, &(mpq_frame){.type = MPQ_FT_PING});
		if (rv == 0)
			rv = pad(&b, mpq_writer_left(&b.w));
		if (rv == 0)
			rv = pkt_seal(conn, &b, ts);
		if (rv != 0)
			return rv;
		mpq_pmtud_on_probe_sent(&p->pmtud);
		*path_out = p->tuple;
		/* Marked like the path's other packets once ECN is validated there,
		 * but not counted for it: a probe lost for its size says nothing
		 * of ECN, and counts that rise more than expected are allowed. */
		if (pi_out && p->ecn.state == MPQ_ECN_STATE_CAPABLE)
			pi_out->ecn = MPQ_ECN_ECT0;
		conn->stats.bytes_sent += b.len;
		conn->stats.packets_sent++;
		return (int)b.len;
	}
	return 0;
}

MPQ_EXPORT int mpq_conn_write_pkt(mpq_conn *conn, mpq_path *path_out, mpq_pkt_info *pi_out,
				  uint8_t *buf, size_t buflen, uint64_t ts)
{
	if (pi_out &&
	    (pi_out->version < MPQ_PKT_INFO_V1 || pi_out->version > MPQ_PKT_INFO_VERSION))
		return MPQ_ERR_INVALID_ARGUMENT;
	if (pi_out)
		pi_out->ecn = MPQ_ECN_NOT_ECT;
	conn->now = ts;
	if (conn->state == MPQ_CONN_CLOSED)
		return conn->err.remote ? MPQ_ERR_DRAINING : MPQ_ERR_CLOSING;
	if (conn->state == MPQ_CONN_DRAINING)
		return 0;
	if (conn->state < MPQ_CONN_CLOSING) {
		mpq_conn_streams_wake(conn);
		int n = write_pmtu_probe(conn, path_out, pi_out, buf, buflen, ts);
		if (n != 0)
			return n;
	}
	bool data_ok = false;
	mpq_conn_path *p = conn->state == MPQ_CONN_CLOSING
				   ? mpq_conn_path0(conn)
				   : mpq_conn_choose_path(conn, ts, &data_ok);
	if (conn->state == MPQ_CONN_CLOSING && !mpq_conn_path_usable(p))
		p = mpq_conn_choose_path(conn, ts, &data_ok), data_ok = false;
	*path_out = p->tuple;
	pkt_builder b = {.path = p, .buf = buf, .cap = send_limit(conn, p, buflen)};
	int rv = 0;
	mpq_path elsewhere;
	size_t budget;
	if (conn->state < MPQ_CONN_CLOSING &&
	    mpq_conn_path_response_elsewhere(p, &elsewhere, &budget)) {
		/* (Unmarked: another 4-tuple than the one the path's ECN is tested on.) */
		/* A probe from another address: answer it there, alone, padded
		 * no further than the 3x limit of that unproven address. */
		if (budget < b.cap)
			b.cap = budget;
		mpq_path cur = p->tuple;
		p->tuple = elsewhere;
		*path_out = elsewhere;
		if (pkt_open(conn, &b, MPQ_LEVEL_APP)) {
			mpq_conn_write_path_frames(p, &b.w, &b.pad_full, &b.ack_eliciting);
			rv = finish_datagram(conn, &b, ts);
		}
		p->response_pending = false;
		p->tuple = cur;
		return rv != 0 ? rv : (int)b.len;
	}
	/* A caller that cannot mark datagrams gets none to mark. */
	if (pi_out) {
		b.ecn = mpq_ecn_tx_mark(&p->ecn, ts, mpq_conn_pto(conn, p, MPQ_LEVEL_APP));
		mpq_conn_qlog_ecn(conn, p, ts);
	}
	if (conn->state == MPQ_CONN_CLOSING) {
		if (conn->close_pending)
			rv = write_close(conn, &b, ts);
	} else {
		for (int l = 0; l < MPQ_LEVEL_COUNT && rv == 0; l++)
			if (has_data(conn, &b, l, data_ok))
				rv = write_level(conn, &b, l, data_ok, ts);
		if (rv == 0)
			rv = finish_datagram(conn, &b, ts);
		/* Nothing to send while the window has room: don't grow it; data
		 * waiting again lifts that (RFC 9002 §7.8). */
		if (rv == 0)
			mpq_cc_set_app_limited(&p->cc.cc, !mpq_conn_streams_want_send(conn) &&
								  p->bytes_in_flight <
									  mpq_cc_cwnd(&p->cc.cc));
	}
	if (rv != 0)
		return rv;
	if (conn->is_server && !p->validated)
		p->bytes_tx += b.len;
	if (b.len > p->largest_dgram_sent)
		p->largest_dgram_sent = b.len;
	if (b.len) {
		conn->stats.bytes_sent += b.len;
		conn->stats.packets_sent++;
		if (pi_out)
			pi_out->ecn = b.ecn;
	}
	/* RFC 9001 §4.9.1: a client drops Initial keys once it sends a Handshake packet. */
	if (!conn->is_server && b.has_handshake)
		mpq_conn_discard_level(conn, MPQ_LEVEL_INITIAL, ts);
	return (int)b.len;
}
