/*
 * The transport options mpq-server and mpq-client share (CLI.md: "-c -f --cc
 * -sc -ssc --io --max-paths --qlog-dir --keylog -v ... as for the server"),
 * their table entries, and how they become connection settings and
 * transport parameters.
 */
#ifndef MPQ_TOOL_TRANSPORT_H
#define MPQ_TOOL_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "keylog.h"
#include "mpq/conn.h"
#include "opts.h"

extern const char *const tool_cc_names[];
extern const char *const tool_sched_names[];
extern const char *const tool_stream_sched_names[];
extern const char *const tool_io_names[];

/* The shared rows of an option table; |type| is the tool's options struct,
 * whose member |t| is a struct tool_transport. */
#define TOOL_TRANSPORT_OPTIONS(type) \
	{"init-cwnd", \
	 NULL, \
	 'c', \
	 "N", \
	 TOOL_O_UINT(type, t.init_cwnd, 1, 100000), \
	 .help = "initial congestion window, in packets (default 10)"}, \
		{"flow-window", \
		 NULL, \
		 'f', \
		 "KB", \
		 TOOL_O_UINT(type, t.flow_kb, 1, 1024 * 1024), \
		 .help = "initial flow-control window of each stream and of the\n" \
			 "connection, in kB (default 1024; grows as the transfer needs)"}, \
		{"cc", \
		 NULL, \
		 0, \
		 "NAME", \
		 TOOL_O_STR(type, t.cc), \
		 .help = "congestion control: cubic (default) | newreno (reno) |\n" \
			 "lia | olia (coupled over the paths)"}, \
		{"sched", \
		 "sc", \
		 0, \
		 "NAME", \
		 TOOL_O_STR(type, t.sched), \
		 .help = "path scheduler: minrtt (default; alias mrtt) | rr |\n" \
			 "redundant | backup | ecf"}, \
		{"stream-sched", \
		 "ssc", \
		 0, \
		 "NAME", \
		 TOOL_O_STR(type, t.stream_sched), \
		 .help = "stream scheduler: rr (default) | prio | sprio"}, \
		{"io", \
		 NULL, \
		 0, \
		 "MODE", \
		 TOOL_O_CHOICE(type, t.io, tool_io_names), \
		 .help = "path I/O: auto (default) | udp | xdp (AF_XDP on every rx\n" \
			 "queue of each interface, IPv4 and IPv6, with the steering\n" \
			 "program; needs root);\n" \
			 "auto: xdp where it can run, else udp, saying why"}, \
		{"busy-poll", \
		 NULL, \
		 0, \
		 "US", \
		 TOOL_O_UINT(type, t.busy_poll_us, 0, 1000000), \
		 .help = "with --io xdp: busy-poll the AF_XDP sockets, each system\n" \
			 "call running the queue's NAPI for up to US microseconds\n" \
			 "(SO_PREFER_BUSY_POLL, SO_BUSY_POLL, SO_BUSY_POLL_BUDGET;\n" \
			 "Linux 5.11+, else left off and said); default 0: off"}, \
		{"max-udp-payload", \
		 NULL, \
		 0, \
		 "N", \
		 TOOL_O_UINT(type, t.max_udp_payload, 1200, 65527), \
		 .help = "largest UDP payload to send and to accept, in bytes\n" \
			 "(max_udp_payload_size; default: what the interface's MTU\n" \
			 "allows, found per path by PMTU discovery)"}, \
		{"no-pmtud", \
		 NULL, \
		 0, \
		 NULL, \
		 TOOL_O_TRUE(type, t.no_pmtud), \
		 .help = "no path MTU discovery: datagrams stay at 1452 bytes\n" \
			 "(or --max-udp-payload, if smaller)"}, \
		{"no-hystart", \
		 NULL, \
		 0, \
		 NULL, \
		 TOOL_O_TRUE(type, t.no_hystart), \
		 .help = "no HyStart++ (RFC 9406): each path's first slow start\n" \
			 "runs until its first loss; for comparisons"}, \
		{"max-paths", \
		 NULL, \
		 0, \
		 "N", \
		 TOOL_O_UINT(type, t.max_paths, 0, UINT32_MAX), \
		 .help = "paths a client may open besides the first\n" \
			 "(initial_max_path_id; default 4; 0: no multipath)"}, \
		{"qlog-dir", \
		 NULL, \
		 0, \
		 "DIR", \
		 TOOL_O_STR(type, t.qlog_flag), \
		 .help = "one qlog per connection in DIR (QLOGDIR does the same)"}, \
		{"keylog", \
		 NULL, \
		 0, \
		 "FILE", \
		 TOOL_O_STR(type, t.keylog_flag), \
		 .help = "append TLS secrets in NSS key log format\n" \
			 "(SSLKEYLOGFILE does the same)"}, \
		{"pcap", \
		 NULL, \
		 0, \
		 "FILE", \
		 TOOL_O_STR(type, t.pcap_flag), \
		 .help = "write every datagram sent and received (AF_XDP too) to\n" \
			 "FILE as pcapng, with the TLS secrets embedded (FILE.zst:\n" \
			 "compressed): opens decrypted in Wireshark/tshark alone"}, \
		{"idle-timeout", \
		 NULL, \
		 0, \
		 "MS", \
		 TOOL_O_UINT(type, t.idle_ms, 1, 3600000), \
		 .help = "close a connection silent for MS ms (default 30000)"}, \
		{"handshake-timeout", \
		 NULL, \
		 0, \
		 "MS", \
		 TOOL_O_UINT(type, t.handshake_ms, 1, 3600000), \
		 .help = "give up a handshake not done after MS ms (default 10000)"}, \
		{"key-update", \
		 NULL, \
		 0, \
		 "N", \
		 TOOL_O_UINT(type, t.key_update, 0, UINT32_MAX), \
		 .help = "start a 1-RTT key update every N packets sent (default 0:\n" \
			 "only as the AEAD limits near; the peer's are answered)"}, \
		{"verbose", \
		 NULL, \
		 'v', \
		 NULL, \
		 TOOL_O_COUNT(type, t.verbose), \
		 .help = "more output on stderr; repeat for more"}, \
	{ \
		"quiet", NULL, 'q', NULL, TOOL_O_TRUE(type, t.quiet), \
			.help = "only errors and warnings on stderr (no results, no notices)" \
	}

struct tool_transport {
	uint64_t init_cwnd; /* packets, 0: the library's default */
	uint64_t flow_kb;
	const char *cc;
	const char *sched; /* path scheduler, NULL: the library's default */
	const char *stream_sched;
	const char *io;
	uint64_t busy_poll_us; /* --busy-poll, 0: off */
	uint64_t max_paths;    /* initial_max_path_id; 0: multipath off */
	const char *qlog_flag; /* --qlog-dir as given */
	const char *keylog_flag;
	const char *pcap_flag; /* --pcap FILE */
	uint64_t idle_ms;
	uint64_t handshake_ms;
	uint64_t key_update;	  /* packets between our key updates, 0: none */
	uint64_t max_udp_payload; /* --max-udp-payload, 0: the interfaces' */
	bool no_pmtud;
	bool no_hystart;
	int verbose;
	bool quiet; /* -q: errors and warnings only */

	/* Filled by tool_transport_start. */
	const char *qlog_dir;	   /* the flag or QLOGDIR, checked; NULL: none */
	struct tool_keylog keylog; /* keylog.pcap: the --pcap capture */
};

void tool_transport_init(struct tool_transport *t);

/* Checks the scheduler and congestion controller names with the library,
 * checks the qlog directory, opens the key log and the --pcap capture (then
 * tool_capture is its hook). Returns 0 or TOOL_EXIT_USAGE after one line. */
int tool_transport_start(struct tool_transport *t);

/* Closes the key log and ends the --pcap file (after the last socket closed). */
void tool_transport_stop(struct tool_transport *t);

/* Settings and transport parameters for a connection; |server| allows the
 * peer to open bidirectional streams (requests). Multipath is offered unless
 * --max-paths is 0; the ADD_ADDRESS extension is left to the tool. Paths
 * probe for datagrams up to |local_max| (the largest the tool's sockets send,
 * tool_sock_max_payload; 0: unknown) or --max-udp-payload, which is also the
 * max_udp_payload_size we accept. */
void tool_transport_apply(const struct tool_transport *t, bool server, uint32_t local_max,
			  mpq_settings *s, mpq_tparams *tp);

/* mpq_log_fn writing "prog: msg" on stderr when |level| <= the int
 * pointed to by |user_data| (the verbosity). */
void tool_log(void *user_data, int level, const char *msg);

/* Is multipath offered (--max-paths above 0)? */
bool tool_multipath(const struct tool_transport *t);

#endif
