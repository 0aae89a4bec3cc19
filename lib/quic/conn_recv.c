/*
 * Datagrams in: split coalesced packets, pick the keys, remove protection,
 * dispatch the frames, and note what must be acknowledged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quic/cid.h"
#include "quic/conn.h"
#include "quic/frame.h"
#include "quic/packet.h"

static int level_of(int pkt_type)
{
	switch (pkt_type) {
	case MPQ_PKT_INITIAL:
		return MPQ_LEVEL_INITIAL;
	case MPQ_PKT_HANDSHAKE:
		return MPQ_LEVEL_HANDSHAKE;
	case MPQ_PKT_1RTT:
		return MPQ_LEVEL_APP;
	default:
		return -1; /* 0-RTT is not accepted; Retry and VN have no level */
	}
}

static uint64_t idle_timeout(const mpq_conn *conn)
{
	uint64_t a = conn->local_tp.max_idle_timeout, b = conn->peer_tp.max_idle_timeout;
	uint64_t ms = !conn->have_peer_tp || !b ? a : !a ? b : (a < b ? a : b);
	if (!ms)
		return 0;
	/* RFC 9000 §10.1: never shorter than three probe timeouts. */
	uint64_t t = ms * MPQ_MS,
		 floor = 3 * mpq_conn_pto(conn, mpq_conn_path0((mpq_conn *)conn), MPQ_LEVEL_APP);
	return t > floor ? t : floor;
}

void mpq_conn_touch_idle(mpq_conn *conn, uint64_t ts)
{
	uint64_t t = idle_timeout(conn);
	conn->idle_deadline = t ? ts + t : MPQ_TIME_NEVER;
}

static int on_handshake_done(mpq_conn *conn, uint64_t ts)
{
	if (conn->is_server)
		return mpq_conn_fail(conn, MPQ_ERR_PROTO, MPQ_FT_HANDSHAKE_DONE,
				     "HANDSHAKE_DONE from a client", ts);
	/* RFC 9001 §4.1.2: HANDSHAKE_DONE confirms the client's handshake. */
	mpq_handshake_confirm(conn, ts);
	return 0;
}

static int on_close(mpq_conn *conn, const mpq_frame *fr, uint64_t ts)
{
	conn->err.set = true;
	conn->err.remote = true;
	conn->err.app = fr->type == MPQ_FT_CONNECTION_CLOSE_APP;
	conn->err.code = fr->close.error_code;
	conn->err.frame_type = fr->close.frame_type;
	size_t n = fr->close.reasonlen < sizeof(conn->err.reason) - 1
			   ? fr->close.reasonlen
			   : sizeof(conn->err.reason) - 1;
	snprintf(conn->err.reason, n + 1, "%.*s", (int)n, (const char *)fr->close.reason);
	mpq_conn_log(conn, 1, "peer closed: error 0x%llx %s", (unsigned long long)conn->err.code,
		     conn->err.reason);
	mpq_conn_enter_draining(conn, MPQ_CLOSE_PEER, ts);
	return MPQ_ERR_DRAINING;
}

/* The packet whose frames are being processed: what some of them need. Lives
 * for one mpq_conn_read_pkt call; nothing of it is kept in the connection. */
struct rx_pkt {
	const mpq_cid *dcid;  /* its DCID */
	const mpq_path *path; /* the 4-tuple it came by (the caller's) */
	mpq_conn_path *cpath; /* the path it belongs to */
	size_t len;	      /* its length on the wire */
};

static int on_frame(mpq_conn *conn, int level, const struct rx_pkt *rx, const mpq_frame *fr,
		    uint64_t ts)
{
	switch (fr->type) {
	case MPQ_FT_ACK:
	case MPQ_FT_ACK_ECN:
		/* Without a path ID, an ACK is for path 0 (draft-21 §7.1). */
		if (mpq_recovery_on_ack(conn, mpq_conn_path0(conn), mpq_conn_ns(conn, level),
					&fr->ack, ts) != 0)
			return mpq_conn_fail(conn, MPQ_ERR_PROTO, fr->type,
					     "ACK of an unsent packet", ts);
		return 0;
	case MPQ_FT_PATH_ACK:
	case MPQ_FT_PATH_ACK_ECN: {
		int slot = mpq_conn_frame_slot(conn, fr, fr->ack.path_id, false, ts);
		if (slot < 0)
			return slot == -1 ? 0 : slot;
		mpq_conn_path *p = conn->paths[slot];
		/* ACKs for a path we no longer keep are ignored (draft-21 §7.1). */
		if (p->state == MPQ_PATH_UNUSED || p->released)
			return 0;
		if (mpq_recovery_on_ack(conn, p, &p->ns, &fr->ack, ts) != 0)
			return mpq_conn_fail(conn, MPQ_ERR_PROTO, fr->type,
					     "PATH_ACK of an unsent packet", ts);
		return 0;
	}
	case MPQ_FT_PATH_NEW_CONNECTION_ID:
	case MPQ_FT_PATH_RETIRE_CONNECTION_ID:
		return mpq_conn_on_cid_frame(conn, fr, rx->dcid, ts);
	case MPQ_FT_ADD_ADDRESS:
	case MPQ_FT_REMOVE_ADDRESS:
		return mpq_conn_on_addr_frame(conn, fr, ts);
	case MPQ_FT_PATH_ABANDON:
	case MPQ_FT_PATH_STATUS_BACKUP:
	case MPQ_FT_PATH_STATUS_AVAILABLE:
	case MPQ_FT_MAX_PATH_ID:
	case MPQ_FT_PATHS_BLOCKED:
	case MPQ_FT_PATH_CIDS_BLOCKED:
		return mpq_conn_on_mp_frame(conn, fr, ts);
	case MPQ_FT_CRYPTO:
		return mpq_handshake_recv_crypto(conn, level, fr->crypto.offset, fr->crypto.data,
						 fr->crypto.len, ts);
	case MPQ_FT_HANDSHAKE_DONE:
		return on_handshake_done(conn, ts);
	case MPQ_FT_CONNECTION_CLOSE:
	case MPQ_FT_CONNECTION_CLOSE_APP:
		return on_close(conn, fr, ts);
	case MPQ_FT_NEW_CONNECTION_ID:
	case MPQ_FT_RETIRE_CONNECTION_ID:
	case MPQ_FT_NEW_TOKEN:
		return mpq_conn_on_cid_frame(conn, fr, rx->dcid, ts);
	case MPQ_FT_PATH_CHALLENGE:
	case MPQ_FT_PATH_RESPONSE:
		return mpq_conn_on_path_frame(conn, rx->cpath, fr, rx->path, rx->len, ts);
	case MPQ_FT_RESET_STREAM:
	case MPQ_FT_STOP_SENDING:
	case MPQ_FT_MAX_DATA:
	case MPQ_FT_MAX_STREAM_DATA:
	case MPQ_FT_MAX_STREAMS_BIDI:
	case MPQ_FT_MAX_STREAMS_UNI:
	case MPQ_FT_DATA_BLOCKED:
	case MPQ_FT_STREAM_DATA_BLOCKED:
	case MPQ_FT_STREAMS_BLOCKED_BIDI:
	case MPQ_FT_STREAMS_BLOCKED_UNI:
		return mpq_conn_on_stream_frame(conn, fr, ts);
	default:
		if (fr->type >= MPQ_FT_STREAM && fr->type <= (MPQ_FT_STREAM | 0x07))
			return mpq_conn_on_stream_frame(conn, fr, ts);
		/* PADDING and PING: only acknowledged. */
		return 0;
	}
}

/* RFC 9000 §9.1: packets of only these frames are probing packets. */
static bool is_probing(uint64_t type)
{
	return type == MPQ_FT_PATH_CHALLENGE || type == MPQ_FT_PATH_RESPONSE ||
	       type == MPQ_FT_NEW_CONNECTION_ID || type == MPQ_FT_PADDING;
}

static int on_payload(mpq_conn *conn, int level, const struct rx_pkt *rx, int pkt_type,
		      const uint8_t *payload, size_t len, bool *ack_eliciting, bool *non_probing,
		      uint64_t ts)
{
	mpq_reader r;
	mpq_reader_init(&r, payload, len);
	if (len == 0)
		return mpq_conn_fail(conn, MPQ_ERR_PROTO, 0, "packet without frames", ts);
	while (mpq_reader_left(&r) > 0) {
		mpq_frame fr;
		if (mpq_frame_decode(&fr, &r) != 0)
			return mpq_conn_fail(conn, MPQ_ERR_FRAME_ENCODING, 0, "malformed frame",
					     ts);
		if (!mpq_frame_allowed_in(fr.type, pkt_type))
			return mpq_conn_fail(conn, MPQ_ERR_PROTO, fr.type,
					     "frame not allowed in this packet type", ts);
		if (mpq_frame_is_ack_eliciting(fr.type))
			*ack_eliciting = true;
		if (!is_probing(fr.type))
			*non_probing = true;
		int rv = on_frame(conn, level, rx, &fr, ts);
		if (rv != 0)
			return rv;
		if (conn->state >= MPQ_CONN_CLOSING)
			return 0;
	}
	return 0;
}

/* Is this packet addressed to us? A server also takes the client's chosen DCID
 * on Initial packets until the client switches to ours. */
static bool dcid_ok(const mpq_conn *conn, const mpq_pkt_hd *hd)
{
	if (mpq_cid_eq(&hd->dcid, &conn->scid))
		return true;
	if (mpq_conn_slot_of_cid(conn, &hd->dcid) >= 0)
		return true;
	return conn->is_server && hd->type == MPQ_PKT_INITIAL &&
	       mpq_cid_eq(&hd->dcid, &conn->initial_dcid);
}

/* RFC 9000 §13.2.1-2: Initial and Handshake packets are acknowledged at once;
 * 1-RTT ones every second ack-eliciting packet, on a gap, after max_ack_delay,
 * or at once when marked CE, so the peer's congestion response is not late. */
static void schedule_ack(mpq_conn *conn, mpq_pktns *ns, bool in_order, bool ce, uint64_t ts)
{
	if (ns->level != MPQ_LEVEL_APP || !in_order || ce || ++ns->eliciting_since_ack >= 2) {
		ns->ack_needed = true;
		return;
	}
	if (!ns->ack_deadline)
		ns->ack_deadline = ts + conn->local_tp.max_ack_delay * MPQ_MS;
}

static void on_packet_received(mpq_conn *conn, mpq_pktns *ns, const mpq_pkt_hd *hd,
			       bool ack_eliciting, uint8_t ecn, uint64_t ts)
{
	bool in_order = (int64_t)hd->pn == ns->largest_rx + 1;
	mpq_ranges_insert(&ns->rx_pns, hd->pn, hd->pn);
	ns->rx_since_ack = true;
	mpq_ecn_count_rx(&ns->ecn_rx, ecn);
	if ((int64_t)hd->pn > ns->largest_rx) {
		ns->largest_rx = (int64_t)hd->pn;
		ns->largest_rx_time = ts;
	}
	if (ack_eliciting)
		schedule_ack(conn, ns, in_order, ecn == MPQ_ECN_CE, ts);
	mpq_conn_touch_idle(conn, ts);
	conn->eliciting_sent_since_rx = false;
	if (conn->is_server && ns->level == MPQ_LEVEL_HANDSHAKE) {
		/* RFC 9001 §4.9.1 and RFC 9000 §8.1: a Handshake packet proves the
		 * client's address, and the Initial keys are no longer needed. */
		mpq_conn_path0(conn)->validated = true;
		mpq_conn_discard_level(conn, MPQ_LEVEL_INITIAL, ts);
	}
}

/* RFC 9000 §6.2: a client abandons the attempt, or starts over with a version
 * both speak, when the server lists others than the one it chose. */
static int on_version_negotiation(mpq_conn *conn, const uint8_t *pkt, size_t len,
				  const mpq_pkt_hd *hd, uint64_t ts)
{
	uint32_t versions[32];
	if (conn->is_server || conn->peer_scid_known || conn->version_negotiated ||
	    !mpq_cid_eq(&hd->dcid, &conn->scid) || !mpq_cid_eq(&hd->scid, &conn->dcid))
		return 0;
	int n = mpq_pkt_decode_vn(pkt, len, versions, 32);
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (versions[i] == conn->version)
			return 0; /* a VN listing our version is to be ignored */
	for (int i = 0; i < n; i++) {
		if (mpq_pkt_version_supported(versions[i])) {
			conn->version_negotiated = true;
			mpq_conn_log(conn, 1, "server wants version 0x%08x", versions[i]);
			return mpq_conn_client_restart(conn, versions[i], &conn->dcid);
		}
	}
	mpq_conn_close_silently(conn, MPQ_CLOSE_VERSION_MISMATCH, "no common QUIC version", ts);
	return MPQ_ERR_VERSION_NEGOTIATION;
}

/* RFC 9000 §17.2.5.2: one Retry is taken, if its tag proves it answers us. */
static int on_retry(mpq_conn *conn, const uint8_t *pkt, size_t len, const mpq_pkt_hd *hd)
{
	if (conn->is_server || conn->peer_scid_known || conn->retried || hd->tokenlen == 0 ||
	    hd->version != conn->version || !mpq_cid_eq(&hd->dcid, &conn->scid) ||
	    !mpq_pkt_verify_retry(hd->version, &conn->odcid, pkt, len))
		return 0;
	uint8_t *token = malloc(hd->tokenlen);
	if (!token)
		return MPQ_ERR_NOMEM;
	memcpy(token, hd->token, hd->tokenlen);
	free(conn->token);
	conn->token = token;
	conn->tokenlen = hd->tokenlen;
	conn->retried = true;
	conn->retry_scid = hd->scid;
	mpq_conn_log(conn, 1, "retry: token of %zu bytes", hd->tokenlen);
	return mpq_conn_client_restart(conn, conn->version, &hd->scid);
}

/* One packet of a datagram that arrived marked |ecn|. Sets |*consumed| to its
 * length (0: drop the rest) and |*processed| when it was decrypted and taken. */
static int read_packet(mpq_conn *conn, const mpq_path *path, uint8_t ecn, uint8_t *pkt,
		       size_t left, size_t *consumed, bool *processed, uint64_t ts)
{
	mpq_pkt_hd hd;
	*consumed = 0;
	if (mpq_pkt_decode_hd(&hd, pkt, left, MPQ_CID_LEN) != 0)
		return 0;
	*consumed = hd.pktlen;
	if (hd.type == MPQ_PKT_VERSION_NEGOTIATION)
		return on_version_negotiation(conn, pkt, hd.pktlen, &hd, ts);
	if (hd.type == MPQ_PKT_RETRY)
		return on_retry(conn, pkt, hd.pktlen, &hd);
	int level = level_of(hd.type);
	if (level < 0 || (hd.type != MPQ_PKT_1RTT && hd.version != conn->version) ||
	    !dcid_ok(conn, &hd))
		return 0;
	/* A 1-RTT packet's DCID names its path, and so its packet number space
	 * and nonce (draft-21 §4, §5). */
	mpq_conn_path *cp = mpq_conn_path0(conn);
	if (level == MPQ_LEVEL_APP && mpq_conn_multipath(conn)) {
		int slot = mpq_conn_slot_of_cid(conn, &hd.dcid);
		if (slot < 0)
			return 0;
		cp = conn->paths[slot];
		if (cp->state == MPQ_PATH_UNUSED &&
		    !(cp = mpq_conn_accept_path(conn, (uint32_t)slot, path, ts)))
			return 0;
		if (cp->released)
			return 0;
	}
	mpq_pktns *ns = level == MPQ_LEVEL_APP ? &cp->ns : mpq_conn_ns(conn, level);
	if (!mpq_pktns_can_recv(level == MPQ_LEVEL_APP ? mpq_conn_ns(conn, level) : ns))
		return 0;
	uint8_t *payload;
	size_t plen;
	/* All paths share the 1-RTT keys, held by path 0's space. */
	mpq_pktns *keys = mpq_conn_ns(conn, level);
	if (mpq_pkt_remove_hp(pkt, &hd, &keys->rx, ns->largest_rx) != 0)
		return 0;
	bool next_phase = false;
	mpq_crypto_keys *k = &keys->rx;
	if (level == MPQ_LEVEL_APP &&
	    !(k = mpq_key_update_rx_keys(conn, &hd, mpq_conn_slot_index(conn, cp), &next_phase)))
		return 0;
	if (mpq_pkt_decrypt(pkt, &hd, k, level == MPQ_LEVEL_APP ? cp->id : 0, &payload, &plen) !=
	    0) {
		/* RFC 9000 §12.2: undecryptable packets are dropped, and counted
		 * against the integrity limit (RFC 9001 §6.6). */
		mpq_conn_qlog_dropped(conn, &hd, "decryption_failure", ts);
		return mpq_key_update_on_open_failed(conn, level, k, ts);
	}
	mpq_conn_qlog_packet(conn, false, &hd, cp->id, hd.pktlen,
			     mpq_conn_qlog_decode(conn, payload, plen), ts);
	if (level == MPQ_LEVEL_APP) {
		int rv = mpq_key_update_on_opened(conn, &hd, mpq_conn_slot_index(conn, cp),
						  next_phase, ts);
		if (rv != 0)
			return mpq_conn_fail(conn, rv, 0, "key update failed", ts);
	}
	if (mpq_pkt_reserved_bits_set(&hd))
		return mpq_conn_fail(conn, MPQ_ERR_PROTO, 0, "reserved bits set", ts);
	/* RFC 9000 §12.3: a packet number is processed once in its space. */
	if (!mpq_pn_dedup_insert(&ns->rx_seen, hd.pn))
		return 0;
	if (!conn->is_server && !conn->peer_scid_known && hd.type == MPQ_PKT_INITIAL) {
		/* RFC 9000 §7.2: the client switches to the server's chosen CID. */
		conn->dcid = hd.scid;
		conn->peer_scid = hd.scid;
		conn->peer_scid_known = true;
		mpq_conn_cids_set_peer_first(conn, &hd.scid);
	}
	bool ack_eliciting = false, non_probing = false;
	*processed = true;
	conn->stats.packets_received++;
	struct rx_pkt rx = {.dcid = &hd.dcid, .path = path, .cpath = cp, .len = hd.pktlen};
	cp->packets_received++;
	cp->last_rx_time = ts;
	/* The peer reaches us on a path we are still validating: our challenges
	 * were lost, not the path. Keep asking instead of giving up on it. */
	if (cp->state == MPQ_PATH_VALIDATING && cp->challenge_sends >= 2) {
		cp->challenge_sends = 1;
		uint64_t again = ts + 3 * mpq_conn_pto(conn, cp, MPQ_LEVEL_APP);
		if (cp->validation_deadline < again)
			cp->validation_deadline = again;
	}
	cp->bytes_received += hd.pktlen;
	if (hd.pktlen > cp->largest_pkt_received)
		cp->largest_pkt_received = hd.pktlen;
	if (cp != mpq_conn_path0(conn) && !cp->validated)
		cp->bytes_rx += hd.pktlen;
	int rv = on_payload(conn, level, &rx, hd.type, payload, plen, &ack_eliciting, &non_probing,
			    ts);
	if (conn->state == MPQ_CONN_DRAINING)
		return rv;
	bool largest = (int64_t)hd.pn > ns->largest_rx;
	on_packet_received(conn, ns, &hd, ack_eliciting, ecn, ts);
	if (rv == 0 && level == MPQ_LEVEL_APP)
		mpq_conn_path_on_packet(conn, cp, path, non_probing, largest, hd.pktlen, ts);
	return rv;
}

/* RFC 9000 §10.3.1: a datagram we could not use whose last 16 bytes are the
 * peer's stateless reset token ends the connection. */
static bool is_stateless_reset(const mpq_conn *conn, const uint8_t *data, size_t len)
{
	if (conn->is_server || len < 21)
		return false;
	return mpq_conn_is_peer_reset_token(conn, data + len - 16);
}

MPQ_EXPORT int mpq_conn_read_pkt(mpq_conn *conn, const mpq_path *path, const mpq_pkt_info *pi,
				 uint8_t *data, size_t len, uint64_t ts)
{
	if (pi && (pi->version < MPQ_PKT_INFO_V1 || pi->version > MPQ_PKT_INFO_VERSION))
		return MPQ_ERR_INVALID_ARGUMENT;
	uint8_t ecn = pi ? pi->ecn & 3 : MPQ_ECN_NOT_ECT;
	conn->now = ts;
	switch (conn->state) {
	case MPQ_CONN_CLOSED:
		return conn->err.remote ? MPQ_ERR_DRAINING : MPQ_ERR_CLOSING;
	case MPQ_CONN_DRAINING:
		return MPQ_ERR_DRAINING;
	case MPQ_CONN_CLOSING:
		/* RFC 9000 §10.2.1: answer what still arrives with the close again. */
		conn->close_pending = true;
		return 0;
	default:
		break;
	}
	mpq_conn_path *p0 = mpq_conn_path0(conn);
	if (conn->is_server && !p0->validated)
		p0->bytes_rx += len;
	conn->stats.bytes_received += len;
	size_t off = 0;
	bool any = false;
	while (off < len) {
		size_t consumed;
		int rv = read_packet(conn, path, ecn, data + off, len - off, &consumed, &any, ts);
		if (rv != 0)
			return rv;
		if (consumed == 0 || conn->state >= MPQ_CONN_CLOSING)
			break;
		off += consumed;
	}
	if (!any && is_stateless_reset(conn, data, len)) {
		conn->err = (mpq_conn_error){.set = true, .remote = true};
		snprintf(conn->err.reason, sizeof(conn->err.reason), "stateless reset");
		mpq_conn_enter_draining(conn, MPQ_CLOSE_STATELESS_RESET, ts);
		return MPQ_ERR_STATELESS_RESET;
	}
	return 0;
}
