/*
 * Streams of a connection (RFC 9000 §2-4): opening, the frames that carry and
 * limit stream data, connection and stream flow control with window
 * auto-tuning, and what acknowledgements and losses mean for each stream.
 */
#include <string.h>

#include "quic/conn.h"

#define MAX_RX_WINDOW (16ULL * 1024 * 1024)
#define MAX_CONN_RX_WINDOW (24ULL * 1024 * 1024)
#define STREAM_ROB_SIZE MAX_RX_WINDOW
/* Bytes a stream takes beyond what it has sent: enough to keep sending while
 * the application is called again, few enough to stay in the caches (the
 * window, far larger, is for bytes in flight). */
#define SEND_AHEAD (1024 * 1024)
/* ... but no more than it has sent, from FIRST_AHEAD: a request's first
 * answer leaves without waiting for a whole SEND_AHEAD to be copied in (a
 * server read the request, then filled 1 MiB before its first packet), and
 * the allowance grows as fast as slow start can take it. */
#define FIRST_AHEAD (64 * 1024)

static uint64_t send_ahead(const mpq_stream *s)
{
	if (s->s_sent_max < FIRST_AHEAD)
		return FIRST_AHEAD;
	return s->s_sent_max < SEND_AHEAD ? s->s_sent_max : SEND_AHEAD;
}

static int kind_of(int64_t id)
{
	return mpq_stream_is_uni(id) ? 1 : 0;
}

static bool is_local(const mpq_conn *conn, int64_t id)
{
	return mpq_stream_is_server_initiated(id) == conn->is_server;
}

static int64_t stream_id(const mpq_conn *conn, int kind, uint64_t idx)
{
	return (int64_t)(idx << 2 | (uint64_t)kind << 1 | (conn->is_server ? 1 : 0));
}

int mpq_conn_streams_init(mpq_conn *conn)
{
	int rv = mpq_streams_init(&conn->streams, &conn->send_mem);
	if (rv != 0)
		return rv;
	conn->sched.ops = &mpq_stream_sched_rr;
	conn->local_max_streams[0] = conn->local_tp.initial_max_streams_bidi;
	conn->local_max_streams[1] = conn->local_tp.initial_max_streams_uni;
	conn->rx_max_data = conn->local_tp.initial_max_data;
	conn->rx_window.size = conn->local_tp.initial_max_data;
	conn->rx_window.epoch_time = conn->created;
	return 0;
}

void mpq_conn_streams_on_peer_tparams(mpq_conn *conn)
{
	conn->tx_max_data = conn->peer_tp.initial_max_data;
	conn->peer_max_streams[0] = conn->peer_tp.initial_max_streams_bidi;
	conn->peer_max_streams[1] = conn->peer_tp.initial_max_streams_uni;
}

/* The peer's initial limit for a stream, seen from our sending side. */
static uint64_t initial_peer_max(const mpq_conn *conn, int64_t id)
{
	if (mpq_stream_is_uni(id))
		return conn->peer_tp.initial_max_stream_data_uni;
	/* "remote" in the peer's parameters is a stream we opened. */
	return is_local(conn, id) ? conn->peer_tp.initial_max_stream_data_bidi_remote
				  : conn->peer_tp.initial_max_stream_data_bidi_local;
}

static uint64_t initial_local_window(const mpq_conn *conn, int64_t id)
{
	if (mpq_stream_is_uni(id))
		return conn->local_tp.initial_max_stream_data_uni;
	return is_local(conn, id) ? conn->local_tp.initial_max_stream_data_bidi_local
				  : conn->local_tp.initial_max_stream_data_bidi_remote;
}

static int create(mpq_conn *conn, int64_t id, mpq_stream **out)
{
	bool uni = mpq_stream_is_uni(id), local = is_local(conn, id);
	int rv = mpq_streams_add(&conn->streams, id, !uni || local, !uni || !local,
				 initial_peer_max(conn, id), initial_local_window(conn, id), out);
	if (rv == 0)
		(*out)->r_window.epoch_time = conn->now;
	return rv;
}

MPQ_EXPORT int mpq_conn_open_stream(mpq_conn *conn, bool bidi, int64_t *out)
{
	if (conn->state >= MPQ_CONN_CLOSING)
		return MPQ_ERR_CLOSING;
	int kind = bidi ? 0 : 1;
	if (conn->next_stream_idx[kind] >= conn->peer_max_streams[kind]) {
		conn->streams_blocked_pending[kind] = true;
		return MPQ_ERR_STREAM_LIMIT;
	}
	mpq_stream *s;
	int64_t id = stream_id(conn, kind, conn->next_stream_idx[kind]);
	int rv = create(conn, id, &s);
	if (rv != 0)
		return rv;
	conn->next_stream_idx[kind]++;
	*out = id;
	return 0;
}

static mpq_stream *find(const mpq_conn *conn, int64_t id)
{
	return mpq_streams_find(&conn->streams, id);
}

/* What a stream may still buffer: up to its window past the acknowledged
 * point, at most one chunk beyond the peer's credit (so that a write can find
 * the stream blocked and say so), send_ahead beyond what it sent, and what
 * the memory budgets leave. */
static size_t write_room(const mpq_conn *conn, mpq_stream *s, bool *by_budget)
{
	uint64_t limit = s->s_acked + conn->settings.stream_send_window;
	if (s->peer_max_data + MPQ_SENDBUF_CHUNK < limit)
		limit = s->peer_max_data + MPQ_SENDBUF_CHUNK;
	if (s->s_sent_max + send_ahead(s) < limit) {
		limit = s->s_sent_max + send_ahead(s);
		s->ahead_full = limit <= s->s_written;
	}
	uint64_t room = limit > s->s_written ? limit - s->s_written : 0;
	uint64_t mem =
		mpq_sendbuf_tail_room(&s->sbuf, s->s_written) +
		mpq_mem_budget_room(&conn->send_mem) / MPQ_SENDBUF_CHUNK * MPQ_SENDBUF_CHUNK;
	*by_budget = mem < room;
	if (mem < room)
		room = mem;
	return room < SIZE_MAX ? (size_t)room : SIZE_MAX;
}

/* Stopped by a budget, not by the window or the credit: acknowledgements on
 * other streams or connections may free room (mpq_conn_streams_wake). */
static void wait_for_memory(mpq_conn *conn, mpq_stream *s)
{
	s->mem_blocked = true;
	conn->send_mem_blocked = true;
}

MPQ_EXPORT int64_t mpq_conn_stream_write(mpq_conn *conn, int64_t id, const uint8_t *data,
					 size_t len, bool fin)
{
	mpq_stream *s = find(conn, id);
	if (!s)
		return MPQ_ERR_NOT_FOUND;
	if (s->send_state != MPQ_SEND_OPEN)
		return MPQ_ERR_STREAM_STATE;
	bool by_budget;
	size_t room = write_room(conn, s, &by_budget);
	size_t n = mpq_stream_buffer(s, data, len < room ? len : room, &conn->send_mem);
	if (n < len && (by_budget || n < room))
		wait_for_memory(conn, s); /* malloc failing counts as a budget */
	if (fin && n == len) {
		s->send_state = MPQ_SEND_FIN_WRITTEN;
		s->fin_pending = true;
	}
	if (mpq_stream_wants_send(s))
		mpq_stream_sched_add(&conn->sched, s);
	return (int64_t)n;
}

MPQ_EXPORT size_t mpq_conn_stream_write_room(mpq_conn *conn, int64_t id)
{
	mpq_stream *s = find(conn, id);
	if (!s || s->send_state != MPQ_SEND_OPEN)
		return 0;
	bool by_budget;
	size_t room = write_room(conn, s, &by_budget);
	if (by_budget)
		wait_for_memory(conn, s);
	return room;
}

void mpq_conn_streams_wake(mpq_conn *conn)
{
	bool mem = conn->send_mem_blocked &&
		   mpq_mem_budget_room(&conn->send_mem) >= MPQ_SENDBUF_CHUNK;
	if (!mem && !conn->ahead_drained)
		return;
	conn->send_mem_blocked &= !mem;
	conn->ahead_drained = false;
	mpq_streams *t = &conn->streams;
	for (size_t b = 0; b < t->nbuckets; b++) {
		size_t nbuckets = t->nbuckets;
		for (mpq_stream *s = t->buckets[b]; s; s = s->hnext) {
			if (!(mem && s->mem_blocked) && !s->ahead_drained)
				continue;
			s->mem_blocked &= !mem;
			s->ahead_drained = false;
			/* The callback may write (and block again), reset or open
			 * streams, but nothing removes one here. */
			if (s->send_state == MPQ_SEND_OPEN && conn->cb.stream_writable &&
			    conn->cb.stream_writable(conn, s->id, conn->cb.user_data) != 0) {
				mpq_conn_close_transport(conn, MPQ_TE_INTERNAL_ERROR, 0,
							 "application callback failed", conn->now);
				return;
			}
			if (t->nbuckets != nbuckets) {
				b = (size_t)-1; /* rehashed by a new stream: scan again */
				break;
			}
		}
	}
}

static void reset_send_side(mpq_conn *conn, mpq_stream *s, uint64_t code)
{
	if (s->send_state == MPQ_SEND_NONE || s->send_state == MPQ_SEND_RESET ||
	    s->send_state == MPQ_SEND_ALL_ACKED)
		return;
	s->send_state = MPQ_SEND_RESET;
	s->reset_code = code;
	s->reset_pending = true;
	s->fin_pending = false;
	mpq_ranges_remove_below(&s->s_pending, UINT64_MAX);
	/* Its bytes will never be sent again. */
	mpq_sendbuf_free(&s->sbuf, &conn->send_mem);
	mpq_stream_sched_add(&conn->sched, s);
}

MPQ_EXPORT int mpq_conn_stream_reset(mpq_conn *conn, int64_t id, uint64_t app_error)
{
	mpq_stream *s = find(conn, id);
	if (!s)
		return MPQ_ERR_NOT_FOUND;
	if (s->send_state == MPQ_SEND_NONE)
		return MPQ_ERR_STREAM_STATE;
	reset_send_side(conn, s, app_error);
	return 0;
}

MPQ_EXPORT int mpq_conn_stream_stop_sending(mpq_conn *conn, int64_t id, uint64_t app_error)
{
	mpq_stream *s = find(conn, id);
	if (!s)
		return MPQ_ERR_NOT_FOUND;
	if (s->recv_state == MPQ_RECV_NONE)
		return MPQ_ERR_STREAM_STATE;
	if (s->recv_state == MPQ_RECV_OPEN) {
		s->stop_code = app_error;
		s->stop_pending = true;
		mpq_stream_sched_add(&conn->sched, s);
	}
	return 0;
}

MPQ_EXPORT int mpq_conn_stream_set_user_data(mpq_conn *conn, int64_t id, void *data)
{
	mpq_stream *s = find(conn, id);
	if (!s)
		return MPQ_ERR_NOT_FOUND;
	s->user_data = data;
	return 0;
}

MPQ_EXPORT void *mpq_conn_stream_get_user_data(const mpq_conn *conn, int64_t id)
{
	const mpq_stream *s = find(conn, id);
	return s ? s->user_data : NULL;
}

static int app_failed(mpq_conn *conn, uint64_t ts)
{
	mpq_conn_close_transport(conn, MPQ_TE_INTERNAL_ERROR, 0, "application callback failed",
				 ts);
	return MPQ_ERR_CALLBACK_FAILURE;
}

/* Forgets a stream both of whose sides are finished; a peer's stream frees
 * room for another (MAX_STREAMS). */
static void maybe_retire(mpq_conn *conn, mpq_stream *s)
{
	if (!mpq_stream_is_done(s))
		return;
	int64_t id = s->id;
	if (!is_local(conn, id)) {
		conn->local_max_streams[kind_of(id)]++;
		conn->max_streams_pending[kind_of(id)] = true;
	}
	mpq_stream_sched_remove(&conn->sched, s);
	/* The application may still read its user data in the callback. */
	if (conn->cb.stream_closed)
		conn->cb.stream_closed(conn, id, conn->cb.user_data);
	mpq_streams_remove(&conn->streams, s);
}

/* Finds the stream a frame names, opening peer streams (and every lower one
 * of the same kind, RFC 9000 §3.2) as needed. *out is NULL for a stream that
 * is already gone, whose late frames are ignored. */
static int get_stream(mpq_conn *conn, int64_t id, bool for_send, mpq_stream **out, uint64_t ts)
{
	int kind = kind_of(id);
	uint64_t idx = (uint64_t)id >> 2;
	*out = NULL;
	bool local = is_local(conn, id);
	/* A unidirectional stream has one sender. */
	if (mpq_stream_is_uni(id) && local != for_send)
		return mpq_conn_fail(conn, MPQ_ERR_STREAM_STATE, 0, "wrong direction on a stream",
				     ts);
	if (local) {
		if (idx >= conn->next_stream_idx[kind])
			return mpq_conn_fail(conn, MPQ_ERR_STREAM_STATE, 0, "stream not opened",
					     ts);
		*out = find(conn, id);
		return 0;
	}
	if (idx >= conn->local_max_streams[kind])
		return mpq_conn_fail(conn, MPQ_ERR_STREAM_LIMIT, 0, "stream limit exceeded", ts);
	while (conn->peer_streams_opened[kind] <= idx) {
		mpq_stream *s;
		int64_t nid = (int64_t)(conn->peer_streams_opened[kind] << 2 |
					(uint64_t)kind << 1 | (conn->is_server ? 0 : 1));
		int rv = create(conn, nid, &s);
		if (rv != 0)
			return mpq_conn_fail(conn, rv, 0, "out of memory", ts);
		conn->peer_streams_opened[kind]++;
		if (conn->cb.stream_open &&
		    conn->cb.stream_open(conn, nid, conn->cb.user_data) != 0)
			return app_failed(conn, ts);
	}
	*out = find(conn, id);
	return 0;
}

/* Receive windows (RFC 9000 §4.2) are re-advertised once an eighth of them is
 * consumed, so that the credit the sender sees stays close to the whole window
 * and a window as large as the path's bandwidth-delay product fills the path.
 * A window is doubled (up to |max|) when its first half is consumed within two
 * round trips: the sender would be held back by it. Returns true when the
 * limit is to be advertised again. */
static bool rx_window_update(struct mpq_rx_window *w, uint64_t *limit, uint64_t consumed,
			     uint64_t max, uint64_t rtt, uint64_t ts)
{
	if (consumed - w->epoch_off >= w->size / 2) {
		if (ts - w->epoch_time < 2 * rtt && w->size < max)
			w->size *= 2;
		w->epoch_off = consumed;
		w->epoch_time = ts;
	}
	if (*limit - consumed >= w->size - w->size / 8)
		return false;
	*limit = consumed + w->size;
	return true;
}

/* The round trip the receive windows are measured against: the largest
 * srtt + 4 rttvar of the active paths. Data held at the receiver behind a loss
 * on a slow path waits about that long while the other paths deliver past it,
 * and the credit must cover it; path 0's srtt alone kept the windows of a 20
 * ms + 40 ms RTT pair at 2 MiB, and the sender blocked. */
static uint64_t window_rtt(const mpq_conn *conn)
{
	uint64_t rtt = 0;
	for (size_t i = 0; i < conn->npaths; i++) {
		const mpq_conn_path *p = conn->paths[i];
		uint64_t t = p->rtt.smoothed + 4 * p->rtt.rttvar;
		if ((i == 0 || (p->state == MPQ_PATH_ACTIVE && p->rtt.has_sample)) && t > rtt)
			rtt = t;
	}
	return rtt;
}

static void update_rx_windows(mpq_conn *conn, mpq_stream *s, uint64_t ts)
{
	uint64_t rtt = window_rtt(conn);
	if (s && s->recv_state == MPQ_RECV_OPEN && s->r_final == UINT64_MAX &&
	    rx_window_update(&s->r_window, &s->r_max_data, s->r_delivered, MAX_RX_WINDOW, rtt,
			     ts)) {
		s->max_data_pending = true;
		mpq_stream_sched_add(&conn->sched, s);
	}
	if (rx_window_update(&conn->rx_window, &conn->rx_max_data, conn->rx_delivered,
			     MAX_CONN_RX_WINDOW, rtt, ts))
		conn->max_data_pending = true;
}

static int deliver(mpq_conn *conn, mpq_stream *s, const uint8_t *data, size_t len, uint64_t ts)
{
	uint64_t off = s->r_delivered;
	s->r_delivered += len;
	conn->rx_delivered += len;
	bool fin = s->r_delivered == s->r_final;
	if (fin)
		s->recv_state = MPQ_RECV_ALL_READ;
	if (conn->cb.stream_data &&
	    conn->cb.stream_data(conn, s->id, off, data, len, fin, conn->cb.user_data) != 0)
		return app_failed(conn, ts);
	return 0;
}

/* In-order bytes go straight from the packet to the application; the rest
 * waits in the reassembly buffer. */
static int on_stream_data(mpq_conn *conn, mpq_stream *s, uint64_t off, const uint8_t *data,
			  size_t len, uint64_t ts)
{
	uint64_t end = off + len;
	bool direct = off <= s->r_delivered && (!s->rob.ring || mpq_rob_empty(&s->rob));
	if (direct) {
		if (end > s->r_delivered || (end == s->r_final && s->r_delivered == end &&
					     s->recv_state == MPQ_RECV_OPEN)) {
			size_t skip = (size_t)(s->r_delivered - off);
			int rv = deliver(conn, s, data + skip, len - skip, ts);
			if (rv != 0)
				return rv;
			if (s->rob.ring)
				mpq_rob_skip_to(&s->rob, s->r_delivered);
		}
		return 0;
	}
	if (!s->rob.ring) {
		int rv = mpq_rob_init(&s->rob, STREAM_ROB_SIZE);
		if (rv != 0)
			return mpq_conn_fail(conn, rv, 0, "out of memory", ts);
		mpq_rob_skip_to(&s->rob, s->r_delivered);
	}
	int pushed = mpq_rob_push(&s->rob, off, data, len);
	if (pushed == MPQ_ERR_NOMEM)
		return mpq_conn_fail(conn, pushed, 0, "out of memory", ts);
	if (pushed != 0)
		return mpq_conn_fail(conn, MPQ_ERR_FLOW_CONTROL, MPQ_FT_STREAM,
				     "stream data beyond the window", ts);
	const uint8_t *p;
	size_t n;
	while (s->recv_state == MPQ_RECV_OPEN && (n = mpq_rob_peek(&s->rob, &p)) > 0) {
		int rv = deliver(conn, s, p, n, ts);
		if (rv != 0)
			return rv;
		mpq_rob_consume(&s->rob, n);
	}
	return 0;
}

/* RFC 9000 §4.5: a final size never changes and no data lies beyond it. */
static int check_final_size(mpq_conn *conn, mpq_stream *s, uint64_t end, bool fin, uint64_t ts)
{
	if (s->r_final != UINT64_MAX && (end > s->r_final || (fin && end != s->r_final)))
		return mpq_conn_fail(conn, MPQ_ERR_FINAL_SIZE, 0, "final size changed", ts);
	if (fin && end < s->r_highest)
		return mpq_conn_fail(conn, MPQ_ERR_FINAL_SIZE, 0, "final size below data", ts);
	if (fin) {
		/* The peer needs no more credit (RFC 9000 §4.5); a MAX_STREAM_DATA
		 * still pending would keep the stream from being retired. */
		s->r_final = end;
		s->max_data_pending = false;
	}
	return 0;
}

/* Counts newly seen bytes against both windows. */
static int account_rx(mpq_conn *conn, mpq_stream *s, uint64_t end, uint64_t ts)
{
	if (end > s->r_max_data)
		return mpq_conn_fail(conn, MPQ_ERR_FLOW_CONTROL, 0, "stream flow control", ts);
	if (end > s->r_highest) {
		conn->rx_data += end - s->r_highest;
		s->r_highest = end;
	}
	if (conn->rx_data > conn->rx_max_data)
		return mpq_conn_fail(conn, MPQ_ERR_FLOW_CONTROL, 0, "connection flow control", ts);
	return 0;
}

static int on_stream(mpq_conn *conn, const mpq_frame *fr, uint64_t ts)
{
	mpq_stream *s;
	int rv = get_stream(conn, (int64_t)fr->stream.stream_id, false, &s, ts);
	if (rv != 0 || !s || s->recv_state != MPQ_RECV_OPEN)
		return rv;
	uint64_t end = fr->stream.offset + fr->stream.len;
	rv = check_final_size(conn, s, end, fr->stream.fin, ts);
	if (rv == 0)
		rv = account_rx(conn, s, end, ts);
	if (rv == 0)
		rv = on_stream_data(conn, s, fr->stream.offset, fr->stream.data, fr->stream.len,
				    ts);
	if (rv == 0 && s->recv_state == MPQ_RECV_OPEN)
		update_rx_windows(conn, s, ts);
	else if (rv == 0)
		maybe_retire(conn, s);
	return rv;
}

static int on_reset_stream(mpq_conn *conn, const mpq_frame *fr, uint64_t ts)
{
	mpq_stream *s;
	int rv = get_stream(conn, (int64_t)fr->reset_stream.stream_id, false, &s, ts);
	if (rv != 0 || !s || s->recv_state != MPQ_RECV_OPEN)
		return rv;
	uint64_t final = fr->reset_stream.final_size;
	rv = check_final_size(conn, s, final, true, ts);
	if (rv == 0)
		rv = account_rx(conn, s, final, ts);
	if (rv != 0)
		return rv;
	/* The unread bytes will never be read: give their credit back. */
	conn->rx_delivered += final - s->r_delivered;
	s->recv_state = MPQ_RECV_RESET;
	s->stop_pending = false;
	if (conn->cb.stream_reset &&
	    conn->cb.stream_reset(conn, s->id, fr->reset_stream.error_code, conn->cb.user_data))
		return app_failed(conn, ts);
	update_rx_windows(conn, NULL, ts);
	maybe_retire(conn, s);
	return 0;
}

static int on_stop_sending(mpq_conn *conn, const mpq_frame *fr, uint64_t ts)
{
	mpq_stream *s;
	int rv = get_stream(conn, (int64_t)fr->stop_sending.stream_id, true, &s, ts);
	if (rv != 0 || !s)
		return rv;
	if (s->send_state == MPQ_SEND_NONE)
		return mpq_conn_fail(conn, MPQ_ERR_STREAM_STATE, fr->type,
				     "STOP_SENDING on receive-only stream", ts);
	if (conn->cb.stream_stop_sending &&
	    conn->cb.stream_stop_sending(conn, s->id, fr->stop_sending.error_code,
					 conn->cb.user_data))
		return app_failed(conn, ts);
	/* RFC 9000 §3.5: answer with RESET_STREAM carrying the same code. */
	reset_send_side(conn, s, fr->stop_sending.error_code);
	return 0;
}

static int on_max_stream_data(mpq_conn *conn, const mpq_frame *fr, uint64_t ts)
{
	mpq_stream *s;
	int rv = get_stream(conn, (int64_t)fr->max_stream_data.stream_id, true, &s, ts);
	if (rv != 0 || !s || fr->max_stream_data.max <= s->peer_max_data)
		return rv;
	s->peer_max_data = fr->max_stream_data.max;
	if (mpq_stream_wants_send(s))
		mpq_stream_sched_add(&conn->sched, s);
	if (conn->cb.stream_writable &&
	    conn->cb.stream_writable(conn, s->id, conn->cb.user_data) != 0)
		return app_failed(conn, ts);
	return 0;
}

static int on_max_streams(mpq_conn *conn, int kind, uint64_t max, uint64_t ts)
{
	if (max <= conn->peer_max_streams[kind])
		return 0;
	conn->peer_max_streams[kind] = max;
	if (conn->cb.streams_available &&
	    conn->cb.streams_available(conn, kind == 0, conn->cb.user_data) != 0)
		return app_failed(conn, ts);
	return 0;
}

int mpq_conn_on_stream_frame(mpq_conn *conn, const mpq_frame *fr, uint64_t ts)
{
	if (fr->type >= MPQ_FT_STREAM && fr->type <= (MPQ_FT_STREAM | 0x07))
		return on_stream(conn, fr, ts);
	switch (fr->type) {
	case MPQ_FT_RESET_STREAM:
		return on_reset_stream(conn, fr, ts);
	case MPQ_FT_STOP_SENDING:
		return on_stop_sending(conn, fr, ts);
	case MPQ_FT_MAX_DATA:
		if (fr->max_data.max > conn->tx_max_data)
			conn->tx_max_data = fr->max_data.max;
		return 0;
	case MPQ_FT_MAX_STREAM_DATA:
		return on_max_stream_data(conn, fr, ts);
	case MPQ_FT_MAX_STREAMS_BIDI:
		return on_max_streams(conn, 0, fr->max_streams.max, ts);
	case MPQ_FT_MAX_STREAMS_UNI:
		return on_max_streams(conn, 1, fr->max_streams.max, ts);
	case MPQ_FT_STREAM_DATA_BLOCKED: {
		mpq_stream *s;
		/* Informational, but the stream must be one the peer may send on. */
		return get_stream(conn, (int64_t)fr->max_stream_data.stream_id, false, &s, ts);
	}
	default:
		return 0; /* DATA_BLOCKED, STREAMS_BLOCKED: informational */
	}
}

/* ---- Sending ---- */

bool mpq_conn_streams_want_send(mpq_conn *conn)
{
	for (int k = 0; k < 2; k++)
		if (conn->max_streams_pending[k] || conn->streams_blocked_pending[k])
			return true;
	if (conn->max_data_pending || conn->data_blocked_pending)
		return true;
	mpq_stream *s = conn->sched.ops->peek(&conn->sched);
	return s != NULL;
}

struct send_ctx {
	mpq_writer *w;
	mpq_frame_rec *recs;
	size_t maxrecs;
	size_t nrecs;
	bool *ack_eliciting;
};

/* Writes a frame and its record; false when it did not fit. */
static bool put(struct send_ctx *c, const mpq_frame *fr, const mpq_frame_rec *rec)
{
	if (c->nrecs >= c->maxrecs || mpq_frame_encode(c->w, fr) != 0)
		return false;
	c->recs[c->nrecs++] = *rec;
	*c->ack_eliciting = true;
	return true;
}

static void write_conn_control(mpq_conn *conn, struct send_ctx *c)
{
	static const uint64_t max_streams_type[2] = {MPQ_FT_MAX_STREAMS_BIDI,
						     MPQ_FT_MAX_STREAMS_UNI};
	static const uint64_t blocked_type[2] = {MPQ_FT_STREAMS_BLOCKED_BIDI,
						 MPQ_FT_STREAMS_BLOCKED_UNI};
	if (conn->max_data_pending &&
	    put(c, &(mpq_frame){.type = MPQ_FT_MAX_DATA, .max_data.max = conn->rx_max_data},
		&(mpq_frame_rec){.kind = MPQ_REC_MAX_DATA}))
		conn->max_data_pending = false;
	if (conn->data_blocked_pending &&
	    put(c, &(mpq_frame){.type = MPQ_FT_DATA_BLOCKED, .max_data.max = conn->tx_max_data},
		&(mpq_frame_rec){.kind = MPQ_REC_BLOCKED}))
		conn->data_blocked_pending = false;
	for (int k = 0; k < 2; k++) {
		if (conn->max_streams_pending[k] &&
		    put(c,
			&(mpq_frame){.type = max_streams_type[k],
				     .max_streams.max = conn->local_max_streams[k]},
			&(mpq_frame_rec){.kind = MPQ_REC_MAX_STREAMS, .id = (uint64_t)k}))
			conn->max_streams_pending[k] = false;
		if (conn->streams_blocked_pending[k] &&
		    put(c,
			&(mpq_frame){.type = blocked_type[k],
				     .max_streams.max = conn->peer_max_streams[k]},
			&(mpq_frame_rec){.kind = MPQ_REC_BLOCKED}))
			conn->streams_blocked_pending[k] = false;
	}
}

static void write_stream_control(mpq_stream *s, struct send_ctx *c)
{
	uint64_t id = (uint64_t)s->id;
	if (s->reset_pending) {
		mpq_frame fr = {.type = MPQ_FT_RESET_STREAM};
		fr.reset_stream.stream_id = id;
		fr.reset_stream.error_code = s->reset_code;
		fr.reset_stream.final_size = s->s_sent_max;
		if (put(c, &fr, &(mpq_frame_rec){.kind = MPQ_REC_RESET_STREAM, .id = id}))
			s->reset_pending = false;
	}
	if (s->stop_pending) {
		mpq_frame fr = {.type = MPQ_FT_STOP_SENDING};
		fr.stop_sending.stream_id = id;
		fr.stop_sending.error_code = s->stop_code;
		if (put(c, &fr, &(mpq_frame_rec){.kind = MPQ_REC_STOP_SENDING, .id = id}))
			s->stop_pending = false;
	}
	if (s->max_data_pending) {
		mpq_frame fr = {.type = MPQ_FT_MAX_STREAM_DATA};
		fr.max_stream_data.stream_id = id;
		fr.max_stream_data.max = s->r_max_data;
		if (put(c, &fr, &(mpq_frame_rec){.kind = MPQ_REC_MAX_STREAM_DATA, .id = id}))
			s->max_data_pending = false;
	}
	if (s->blocked_pending) {
		mpq_frame fr = {.type = MPQ_FT_STREAM_DATA_BLOCKED};
		fr.max_stream_data.stream_id = id;
		fr.max_stream_data.max = s->peer_max_data;
		if (put(c, &fr, &(mpq_frame_rec){.kind = MPQ_REC_BLOCKED}))
			s->blocked_pending = false;
	}
}

enum data_result { DATA_SENT, DATA_NONE, DATA_NO_ROOM, DATA_CONN_BLOCKED };

/* One STREAM frame from the lowest pending range, within both windows. */
static int write_stream_data(mpq_conn *conn, mpq_stream *s, struct send_ctx *c)
{
	if (s->send_state != MPQ_SEND_OPEN && s->send_state != MPQ_SEND_FIN_WRITTEN)
		return DATA_NONE;
	size_t npend = mpq_ranges_count(&s->s_pending);
	if (npend == 0 && !s->fin_pending)
		return DATA_NONE;
	uint64_t lo = s->s_written, hi_end = s->s_written;
	if (npend) {
		const mpq_range *r = mpq_ranges_top(&s->s_pending, npend - 1);
		lo = r->lo;
		hi_end = r->hi + 1;
	}
	/* Resending below s_sent_max is free; new bytes need credit in both windows. */
	uint64_t conn_credit = conn->tx_max_data - conn->tx_data;
	uint64_t allowed = s->s_sent_max + conn_credit;
	if (allowed > s->peer_max_data)
		allowed = s->peer_max_data > s->s_sent_max ? s->peer_max_data : s->s_sent_max;
	uint64_t end = hi_end < allowed ? hi_end : allowed;
	if (end <= lo && npend) {
		/* Each limit is announced blocked once (RFC 9000 §4.1), not on
		 * every packet written while it holds. */
		if (allowed >= s->peer_max_data) {
			if (s->blocked_at != s->peer_max_data + 1) {
				s->blocked_pending = true;
				s->blocked_at = s->peer_max_data + 1;
			}
			return DATA_NONE;
		}
		if (conn->data_blocked_at != conn->tx_max_data + 1) {
			conn->data_blocked_pending = true;
			conn->data_blocked_at = conn->tx_max_data + 1;
		}
		return DATA_CONN_BLOCKED;
	}
	size_t room = mpq_writer_left(c->w);
	size_t overhead = mpq_frame_stream_overhead((uint64_t)s->id, lo, (size_t)(end - lo));
	if (room <= overhead || c->nrecs >= c->maxrecs)
		return DATA_NO_ROOM;
	size_t n = (size_t)(end - lo);
	if (n > room - overhead)
		n = room - overhead;
	/* A frame's data is contiguous in one chunk: stop at its end. */
	size_t contiguous = 0;
	const uint8_t *data = n ? mpq_sendbuf_at(&s->sbuf, lo, &contiguous) : NULL;
	if (n && !data) {
		/* Acknowledged whole since it was queued again (a late ACK after
		 * a loss was declared): nothing of that chunk goes out again. */
		mpq_ranges_remove_below(&s->s_pending, lo + contiguous);
		return write_stream_data(conn, s, c);
	}
	if (n > contiguous)
		n = contiguous;
	bool fin = s->fin_pending && lo + n == s->s_written;
	mpq_frame fr = {.type = MPQ_FT_STREAM | MPQ_STREAM_FLAG_LEN};
	fr.stream.stream_id = (uint64_t)s->id;
	fr.stream.offset = lo;
	fr.stream.data = data;
	fr.stream.len = n;
	fr.stream.fin = fin;
	mpq_frame_rec rec = {.kind = MPQ_REC_STREAM,
			     .id = (uint64_t)s->id,
			     .offset = lo,
			     .len = (uint32_t)n,
			     .fin = fin};
	if (!put(c, &fr, &rec))
		return DATA_NO_ROOM;
	if (n)
		mpq_ranges_remove_below(&s->s_pending, lo + n);
	if (lo + n > s->s_sent_max) {
		conn->tx_data += lo + n - s->s_sent_max;
		s->s_sent_max = lo + n;
		if (s->ahead_full && s->s_written - s->s_sent_max <= send_ahead(s) / 2) {
			/* Not from here, while packets are being built: at the next
			 * mpq_conn_write_pkt (mpq_conn_streams_wake). */
			s->ahead_full = false;
			s->ahead_drained = true;
			conn->ahead_drained = true;
		}
	}
	if (fin)
		s->fin_pending = false;
	conn->sched.ops->sent(&conn->sched, s, n);
	return DATA_SENT;
}

size_t mpq_conn_write_streams(mpq_conn *conn, mpq_writer *w, mpq_frame_rec *recs, size_t maxrecs,
			      bool *ack_eliciting, uint64_t ts)
{
	(void)ts;
	struct send_ctx c = {.w = w,
			     .recs = recs,
			     .maxrecs = maxrecs,
			     .ack_eliciting = ack_eliciting};
	write_conn_control(conn, &c);
	/* Visit each scheduled stream at most a few times per packet. */
	for (size_t guard = 0; guard < 64 && c.nrecs < maxrecs; guard++) {
		mpq_stream *s = conn->sched.ops->peek(&conn->sched);
		if (!s)
			break;
		write_stream_control(s, &c);
		bool control_left = s->reset_pending || s->stop_pending || s->max_data_pending ||
				    s->blocked_pending;
		int r = write_stream_data(conn, s, &c);
		/* A control frame that did not fit keeps the stream in line for the
		 * next packet; so does data that did not. */
		if (control_left)
			break;
		if (!mpq_stream_wants_send(s) || r == DATA_NONE)
			mpq_stream_sched_remove(&conn->sched, s);
		if (r == DATA_NO_ROOM || r == DATA_CONN_BLOCKED)
			break;
	}
	return c.nrecs;
}

/* ---- Acknowledgements and losses ---- */

void mpq_conn_streams_on_acked(mpq_conn *conn, const mpq_frame_rec *r)
{
	mpq_stream *s = find(conn, (int64_t)r->id);
	if (!s)
		return;
	if (r->kind == MPQ_REC_STREAM) {
		bool freed = mpq_stream_on_acked(s, r->offset, r->len, &conn->send_mem);
		/* An ack that could not be recorded put its bytes back in line. */
		if (mpq_stream_wants_send(s))
			mpq_stream_sched_add(&conn->sched, s);
		if (r->fin)
			s->fin_acked = true;
		if (s->send_state == MPQ_SEND_FIN_WRITTEN && s->fin_acked &&
		    s->s_acked == s->s_written)
			s->send_state = MPQ_SEND_ALL_ACKED;
		if (freed && s->send_state == MPQ_SEND_OPEN && conn->cb.stream_writable &&
		    conn->cb.stream_writable(conn, s->id, conn->cb.user_data) != 0) {
			mpq_conn_close_transport(conn, MPQ_TE_INTERNAL_ERROR, 0,
						 "application callback failed", 0);
			return;
		}
		maybe_retire(conn, s);
	} else if (r->kind == MPQ_REC_RESET_STREAM) {
		s->reset_acked = true;
		maybe_retire(conn, s);
	}
}

void mpq_conn_streams_on_lost(mpq_conn *conn, const mpq_frame_rec *r)
{
	if (r->kind == MPQ_REC_MAX_DATA) {
		conn->max_data_pending = true;
		return;
	}
	if (r->kind == MPQ_REC_MAX_STREAMS) {
		conn->max_streams_pending[r->id & 1] = true;
		return;
	}
	mpq_stream *s = find(conn, (int64_t)r->id);
	if (!s)
		return;
	switch (r->kind) {
	case MPQ_REC_STREAM:
		if (s->send_state != MPQ_SEND_OPEN && s->send_state != MPQ_SEND_FIN_WRITTEN)
			return;
		if (r->len && r->offset + r->len > s->s_acked) {
			uint64_t lo = r->offset > s->s_acked ? r->offset : s->s_acked;
			conn->stats.stream_bytes_retransmitted += r->offset + r->len - lo;
			if (mpq_ranges_add(&s->s_pending, lo, r->offset + r->len - 1) != 0)
				mpq_ranges_insert(&s->s_pending, s->s_acked, s->s_sent_max - 1);
		}
		if (r->fin && !s->fin_acked)
			s->fin_pending = true;
		break;
	case MPQ_REC_MAX_STREAM_DATA:
		s->max_data_pending = s->recv_state == MPQ_RECV_OPEN;
		break;
	case MPQ_REC_RESET_STREAM:
		s->reset_pending = s->send_state == MPQ_SEND_RESET;
		break;
	case MPQ_REC_STOP_SENDING:
		s->stop_pending = s->recv_state == MPQ_RECV_OPEN;
		break;
	default:
		return;
	}
	if (mpq_stream_wants_send(s))
		mpq_stream_sched_add(&conn->sched, s);
}

MPQ_EXPORT int mpq_conn_stream_set_priority(mpq_conn *conn, int64_t id, uint8_t urgency,
					    uint8_t weight)
{
	if (urgency >= MPQ_STREAM_URGENCY_LEVELS || weight == 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	mpq_stream *s = find(conn, id);
	if (!s)
		return MPQ_ERR_NOT_FOUND;
	mpq_stream_sched_set_priority(&conn->sched, s, urgency, weight);
	return 0;
}
