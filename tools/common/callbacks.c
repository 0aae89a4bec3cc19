/* Forwarding connection callbacks: see callbacks.h. */
#include "callbacks.h"
#include "tool.h"

static void fwd_keylog(void *ud, const char *line)
{
	struct tool_callbacks *w = ud;

	tool_keylog_line(w->keylog, line);
}

static int fwd_handshake_completed(mpq_conn *conn, void *ud)
{
	struct tool_callbacks *w = ud;
	int rv = w->handshake_completed ? w->handshake_completed(conn, w->tool) : 0;

	if (rv == 0 && w->app.handshake_completed)
		rv = w->app.handshake_completed(conn, w->app.user_data);
	return rv;
}

static int fwd_stream_open(mpq_conn *conn, int64_t id, void *ud)
{
	struct tool_callbacks *w = ud;

	return w->app.stream_open(conn, id, w->app.user_data);
}

static int fwd_stream_data(mpq_conn *conn, int64_t id, uint64_t offset, const uint8_t *data,
			   size_t len, bool fin, void *ud)
{
	struct tool_callbacks *w = ud;

	return w->app.stream_data(conn, id, offset, data, len, fin, w->app.user_data);
}

static int fwd_stream_writable(mpq_conn *conn, int64_t id, void *ud)
{
	struct tool_callbacks *w = ud;

	return w->app.stream_writable(conn, id, w->app.user_data);
}

static int fwd_stream_reset(mpq_conn *conn, int64_t id, uint64_t code, void *ud)
{
	struct tool_callbacks *w = ud;

	return w->app.stream_reset(conn, id, code, w->app.user_data);
}

static int fwd_stream_stop_sending(mpq_conn *conn, int64_t id, uint64_t code, void *ud)
{
	struct tool_callbacks *w = ud;

	return w->app.stream_stop_sending(conn, id, code, w->app.user_data);
}

static int fwd_stream_closed(mpq_conn *conn, int64_t id, void *ud)
{
	struct tool_callbacks *w = ud;

	return w->app.stream_closed(conn, id, w->app.user_data);
}

static int fwd_streams_available(mpq_conn *conn, bool bidi, void *ud)
{
	struct tool_callbacks *w = ud;

	return w->app.streams_available(conn, bidi, w->app.user_data);
}

static int fwd_address_added(mpq_conn *conn, const mpq_addr *addr, void *ud)
{
	struct tool_callbacks *w = ud;
	int rv = w->address_added ? w->address_added(conn, addr, w->tool) : 0;

	if (rv == 0 && w->app.address_added)
		rv = w->app.address_added(conn, addr, w->app.user_data);
	return rv;
}

void tool_callbacks_wrap(mpq_callbacks *cb, struct tool_callbacks *w)
{
	w->app = *cb;
	cb->rand = tool_rand;
	cb->keylog = fwd_keylog;
	cb->handshake_completed = fwd_handshake_completed;
	cb->address_added = fwd_address_added;
	/* A callback the application left NULL stays NULL. */
	cb->stream_open = w->app.stream_open ? fwd_stream_open : NULL;
	cb->stream_data = w->app.stream_data ? fwd_stream_data : NULL;
	cb->stream_writable = w->app.stream_writable ? fwd_stream_writable : NULL;
	cb->stream_reset = w->app.stream_reset ? fwd_stream_reset : NULL;
	cb->stream_stop_sending = w->app.stream_stop_sending ? fwd_stream_stop_sending : NULL;
	cb->stream_closed = w->app.stream_closed ? fwd_stream_closed : NULL;
	cb->streams_available = w->app.streams_available ? fwd_streams_available : NULL;
	cb->user_data = w;
}
