/* Shared transport options: see transport.h. */
#include <stdio.h>
#include <string.h>

#include "qlogdir.h"
#include "tool.h"
#include "transport.h"

#define DEFAULT_FLOW_KB 1024
#define DEFAULT_IDLE_MS 30000
#define DEFAULT_HANDSHAKE_MS 10000
#define SERVER_MAX_STREAMS 1000

const char *const tool_cc_names[] = {"cubic", "newreno", "reno", "lia", "olia", NULL};
const char *const tool_sched_names[] = {"rr", "minrtt", "mrtt", "redundant", "backup", NULL};
const char *const tool_stream_sched_names[] = {"rr", "prio", "sprio", NULL};
const char *const tool_io_names[] = {"auto", "udp", "xdp", NULL};

void tool_transport_init(struct tool_transport *t)
{
	memset(t, 0, sizeof(*t));
	t->flow_kb = DEFAULT_FLOW_KB;
	t->cc = "cubic";
	t->stream_sched = "rr";
	t->io = "auto";
	t->idle_ms = DEFAULT_IDLE_MS;
	t->handshake_ms = DEFAULT_HANDSHAKE_MS;
	t->keylog.fd = -1;
}

int tool_no_multipath(const char *what)
{
	tool_err("%s: multipath is not available yet", what);
	return TOOL_EXIT_USAGE;
}

int tool_transport_start(struct tool_transport *t)
{
	int rv;

	if (strcmp(t->io, "xdp") == 0) {
		tool_err("--io xdp: AF_XDP path I/O is not available yet (use --io udp)");
		return TOOL_EXIT_USAGE;
	}
	if (strcmp(t->cc, "lia") == 0 || strcmp(t->cc, "olia") == 0)
		return tool_no_multipath("--cc lia/olia (coupled congestion control)");
	if (strcmp(t->stream_sched, "rr") != 0) {
		tool_err("--stream-sched %s: not available yet (only rr)", t->stream_sched);
		return TOOL_EXIT_USAGE;
	}
	if (t->sched)
		return tool_no_multipath("-sc (path scheduler)");
	if (t->max_paths > 1)
		return tool_no_multipath("--max-paths above 1");
	rv = tool_qlog_dir(t->qlog_flag, &t->qlog_dir);
	if (rv == 0)
		rv = tool_keylog_open(&t->keylog, t->keylog_flag);
	return rv;
}

void tool_transport_stop(struct tool_transport *t)
{
	tool_keylog_close(&t->keylog);
}

void tool_transport_apply(const struct tool_transport *t, bool server, mpq_settings *s,
			  mpq_tparams *tp)
{
	uint64_t window = t->flow_kb * 1024;

	s->cc = strcmp(t->cc, "reno") == 0 ? "newreno" : t->cc;
	s->initial_cwnd_packets = (uint32_t)t->init_cwnd;
	s->stream_sched = t->stream_sched;
	s->handshake_timeout = t->handshake_ms * MPQ_MS;
	s->log = tool_log;
	s->log_user_data = (void *)&t->verbose;

	tp->max_idle_timeout = t->idle_ms;
	tp->initial_max_data = window;
	tp->initial_max_stream_data_bidi_local = window;
	tp->initial_max_stream_data_bidi_remote = window;
	tp->initial_max_stream_data_uni = window;
	/* hq-interop: the client opens one bidirectional stream per request. */
	tp->initial_max_streams_bidi = server ? SERVER_MAX_STREAMS : 0;
	tp->initial_max_streams_uni = 0;
}

void tool_log(void *user_data, int level, const char *msg)
{
	const int *verbose = user_data;

	if (!verbose || level <= *verbose)
		tool_err("%s", msg);
}
