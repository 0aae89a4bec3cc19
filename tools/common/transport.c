/* Shared transport options: see transport.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dgramio.h"
#include "mpq/io/capture_pcap.h"
#include "qlogdir.h"
#include "tool.h"
#include "transport.h"

#define DEFAULT_FLOW_KB 1024
#define DEFAULT_IDLE_MS 30000
#define DEFAULT_HANDSHAKE_MS 10000
#define SERVER_MAX_STREAMS 1000
#define DEFAULT_MAX_PATHS 4

/* The names --help and error lines show; the library decides what exists. */
const char *const tool_cc_names[] = {"cubic", "newreno", "reno", "lia", "olia", NULL};
const char *const tool_sched_names[] = {"minrtt", "mrtt", "rr", "redundant",
					"backup", "ecf",  NULL};
const char *const tool_stream_sched_names[] = {"rr", "prio", "sprio", NULL};
const char *const tool_io_names[] = {"auto", "udp", "xdp", NULL};

void tool_transport_init(struct tool_transport *t)
{
	memset(t, 0, sizeof(*t));
	t->flow_kb = DEFAULT_FLOW_KB;
	t->cc = "cubic";
	t->stream_sched = "rr";
	t->io = "auto";
	t->max_paths = DEFAULT_MAX_PATHS;
	t->idle_ms = DEFAULT_IDLE_MS;
	t->handshake_ms = DEFAULT_HANDSHAKE_MS;
	t->keylog.fd = -1;
}

bool tool_multipath(const struct tool_transport *t)
{
	return t->max_paths > 0;
}

/* "reno" is the seed's name for NewReno. */
static const char *cc_name(const char *name)
{
	return strcmp(name, "reno") == 0 ? "newreno" : name;
}

/* TOOL_EXIT_USAGE after one line when the library has no |what| |name|. */
static int check_name(bool ok, const char *flag, const char *what, const char *name,
		      const char *const *names)
{
	return ok ? 0 : tool_unknown_name(flag, what, name, names);
}

/* The highest path ID the library keeps state for. */
#define TOOL_MAX_PATH_ID (MPQ_MAX_PATHS - 1)

static int open_pcap(struct tool_transport *t)
{
	int rv = mpq_capture_pcap_open(&t->keylog.pcap, t->pcap_flag);

	if (rv < 0) {
		tool_err("--pcap %s: %s", t->pcap_flag,
			 rv == MPQ_ERR_NOT_FOUND ? "no such directory" : strerror(errno));
		return TOOL_EXIT_USAGE;
	}
	tool_capture = mpq_capture_pcap_hook(t->keylog.pcap);
	return 0;
}

int tool_transport_start(struct tool_transport *t)
{
	int rv;

	if (t->max_paths > TOOL_MAX_PATH_ID) {
		tool_err("--max-paths %llu: at most %d (the paths the library keeps, less the "
			 "first)",
			 (unsigned long long)t->max_paths, TOOL_MAX_PATH_ID);
		return TOOL_EXIT_USAGE;
	}
	rv = check_name(mpq_cc_available(cc_name(t->cc)), "--cc", "congestion controller", t->cc,
			tool_cc_names);
	if (rv == 0 && t->sched)
		rv = check_name(mpq_path_sched_available(t->sched), "-sc", "path scheduler",
				t->sched, tool_sched_names);
	if (rv == 0)
		rv = check_name(mpq_stream_sched_available(t->stream_sched), "-ssc",
				"stream scheduler", t->stream_sched, tool_stream_sched_names);
	if (rv == 0)
		rv = tool_qlog_dir(t->qlog_flag, &t->qlog_dir);
	if (rv == 0)
		rv = tool_keylog_open(&t->keylog, t->keylog_flag);
	if (rv == 0 && t->pcap_flag)
		rv = open_pcap(t);
	tool_busy_poll_us = (uint32_t)t->busy_poll_us;
	return rv;
}

void tool_transport_stop(struct tool_transport *t)
{
	tool_keylog_close(&t->keylog);
	if (t->keylog.pcap) {
		uint64_t written, skipped;

		mpq_capture_pcap_counts(t->keylog.pcap, &written, &skipped);
		tool_capture = NULL;
		if (mpq_capture_pcap_close(t->keylog.pcap) < 0)
			tool_warn("--pcap %s: cannot write: %s", t->pcap_flag, strerror(errno));
		else if (skipped)
			tool_warn("--pcap %s: %llu datagrams written, %llu left out", t->pcap_flag,
				  (unsigned long long)written, (unsigned long long)skipped);
		t->keylog.pcap = NULL;
	}
}

/* PMTU discovery up to what the sockets send, or --max-udp-payload; that
 * is also what we accept (RFC 9000 §18.2: max_udp_payload_size). */
static void apply_max_payload(const struct tool_transport *t, uint32_t local_max, mpq_settings *s,
			      mpq_tparams *tp)
{
	uint64_t max = t->max_udp_payload ? t->max_udp_payload : local_max;

	if (max < MPQ_MIN_INITIAL_DATAGRAM)
		return; /* unknown: the library's defaults */
	tp->max_udp_payload_size = max;
	if (s->max_tx_udp_payload > max)
		s->max_tx_udp_payload = (size_t)max;
	if (!t->no_pmtud)
		s->pmtud_max_udp_payload = (size_t)max;
}

void tool_transport_apply(const struct tool_transport *t, bool server, uint32_t local_max,
			  mpq_settings *s, mpq_tparams *tp)
{
	uint64_t window = t->flow_kb * 1024;

	s->cc = cc_name(t->cc);
	s->initial_cwnd_packets = (uint32_t)t->init_cwnd;
	s->no_hystart = t->no_hystart;
	s->stream_sched = t->stream_sched;
	if (t->sched)
		s->path_sched = t->sched;
	s->multipath = tool_multipath(t);
	s->max_path_id = (uint32_t)t->max_paths;
	s->handshake_timeout = t->handshake_ms * MPQ_MS;
	s->key_update_interval = t->key_update;
	s->log = tool_log;
	s->log_user_data = (void *)&t->verbose;

	tp->max_idle_timeout = t->idle_ms;
	tp->initial_max_data = window;
	tp->initial_max_stream_data_bidi_local = window;
	tp->initial_max_stream_data_bidi_remote = window;
	tp->initial_max_stream_data_uni = window;
	/* hq-interop and HTTP/3: the client opens one bidirectional stream per
	 * request; HTTP/3's control and QPACK streams are unidirectional. */
	tp->initial_max_streams_bidi = server ? SERVER_MAX_STREAMS : 0;
	tp->initial_max_streams_uni = 8;
	apply_max_payload(t, local_max, s, tp);
}

void tool_log(void *user_data, int level, const char *msg)
{
	const int *verbose = user_data;

	if (!verbose || level <= *verbose)
		tool_err("%s", msg);
}
