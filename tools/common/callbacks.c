/* Forwarding connection callbacks: see callbacks.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "callbacks.h"
#include "mpq/io/netaddr.h"
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

/* "path 1: validated, 10.0.1.1:4000 -> 10.0.1.2:6121", "path 1: backup (by the
 * peer)", "path 1: failed (validation)", "path 1: abandoned by us, error 0x0". */
static void path_event(mpq_conn *conn, struct tool_callbacks *w, const struct tool_path_event *ev)
{
	const char *by = ev->remote ? "the peer" : "us";

	if (w->verbose && *w->verbose) {
		if (ev->local[0])
			tool_err("path %" PRIu32 ": %s, %s -> %s", ev->path_id, ev->what,
				 ev->local, ev->peer);
		else if (ev->reason)
			tool_err("path %" PRIu32 ": %s (%s)", ev->path_id, ev->what, ev->reason);
		else if (!strcmp(ev->what, "abandoned"))
			tool_err("path %" PRIu32 ": %s by %s, error 0x%" PRIx64, ev->path_id,
				 ev->what, by, ev->error);
		else
			tool_err("path %" PRIu32 ": %s (by %s)", ev->path_id, ev->what, by);
	}
	if (w->path_event)
		w->path_event(conn, ev, w->tool);
}

static void fwd_path_validated(mpq_conn *conn, uint32_t id, const mpq_path *tuple, void *ud)
{
	struct tool_callbacks *w = ud;
	struct tool_path_event ev = {.what = "validated", .path_id = id};

	if (mpq_addr_format(&tuple->local, ev.local, sizeof(ev.local)) < 0)
		snprintf(ev.local, sizeof(ev.local), "?");
	if (mpq_addr_format(&tuple->remote, ev.peer, sizeof(ev.peer)) < 0)
		snprintf(ev.peer, sizeof(ev.peer), "?");
	path_event(conn, w, &ev);
	if (w->app.path_validated)
		w->app.path_validated(conn, id, tuple, w->app.user_data);
}

static void fwd_path_status(mpq_conn *conn, uint32_t id, bool backup, bool remote, void *ud)
{
	struct tool_callbacks *w = ud;
	struct tool_path_event ev = {.what = backup ? "backup" : "available",
				     .path_id = id,
				     .remote = remote};

	path_event(conn, w, &ev);
	if (w->app.path_status_changed)
		w->app.path_status_changed(conn, id, backup, remote, w->app.user_data);
}

static void fwd_path_failed(mpq_conn *conn, uint32_t id, int reason, void *ud)
{
	struct tool_callbacks *w = ud;
	struct tool_path_event ev = {.what = "failed",
				     .path_id = id,
				     .reason = reason == MPQ_PATH_FAIL_VALIDATION ? "validation"
										  : "idle"};

	path_event(conn, w, &ev);
	if (w->app.path_failed)
		w->app.path_failed(conn, id, reason, w->app.user_data);
}

static void fwd_path_abandoned(mpq_conn *conn, uint32_t id, uint64_t error, bool remote, void *ud)
{
	struct tool_callbacks *w = ud;
	struct tool_path_event ev = {.what = "abandoned",
				     .path_id = id,
				     .remote = remote,
				     .error = error};

	path_event(conn, w, &ev);
	if (w->app.path_abandoned)
		w->app.path_abandoned(conn, id, error, remote, w->app.user_data);
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
	cb->path_validated = fwd_path_validated;
	cb->path_status_changed = fwd_path_status;
	cb->path_failed = fwd_path_failed;
	cb->path_abandoned = fwd_path_abandoned;
	cb->user_data = w;
}
