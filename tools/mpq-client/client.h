/*
 * mpq-client's state, shared by its parts: main.c (options, URLs, the
 * connection and the event loop), paths.c (the paths: planned, opened,
 * announced, ICMP errors), report.c (JSON, result and error lines, the exit
 * status) and output.c (the files the bodies go to).
 */
#ifndef MPQ_CLIENT_H
#define MPQ_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/callbacks.h"
#include "common/dgramio.h"
#include "common/progress.h"
#include "common/transport.h"
#include "common/url.h"
#include "mpq/io/loop.h"
#include "mpq/io/netaddr.h"
#include "mpq/endpoint.h"
#include "mpq/hq.h"
#include "common/pathact.h"
#include "output.h"

#define MAX_PATHS 16	/* paths (and sockets) of one connection */
#define OPEN_TRIES 1000 /* events to wait for the CIDs of the next path ID */

struct client_opts {
	struct tool_transport t;
	const char *ifaces;
	const char *more_remotes;
	bool fake_multipath;
	uint64_t path_delay_ms;
	struct tool_pathact pa; /* --abandon-path, --backup-path */
	uint64_t replace_ms;	/* --replace-path: 0 none */
	uint64_t delay_ms;
	const char *output;
	bool discard;
	const char *ca;
	const char *pin_sha256;
	bool insecure;
	bool json;
	enum tool_progress_mode progress;
	const char *alpn;
	const char *quic_version; /* "1" (default) or "2" */
	bool tcp, mptcp;
};

enum cpath_state {
	CPATH_WAITING, /* to be opened once the connection allows */
	CPATH_OPEN,    /* mpq_conn_open_path took it (path 0: from the start) */
	CPATH_GAVE_UP, /* never opened */
};

/* A path of ours: its socket, interface and server address. */
struct cpath {
	struct tool_sock sock; /* mpq_path.user_data of the path points here */
	struct client *c;
	const char *ifname; /* -n interface, NULL: the kernel's choice */
	mpq_addr remote;
	enum cpath_state state;
	uint32_t path_id;
	unsigned int tries;  /* mpq_conn_open_path found no path ID yet */
	int last_errnum;     /* the last send or ICMP error seen (said once with -v) */
	uint64_t opened;     /* ns, when mpq_conn_open_path took it */
	bool write_watched;  /* the loop watches the socket for writability */
	mpq_addr seen_local; /* where the server's first datagram arrived */
	uint32_t seen_ifindex;
	bool watched; /* the socket is in the loop */
};

/* --tcp: what one URL's fetch over HTTPS brought (the hq request's
 * counterpart; report.c reads it when there is no request). */
struct tcp_result {
	enum mpq_hq_status status;  /* WAITING until sent, ACTIVE, OK, RESET, INCOMPLETE */
	uint64_t bytes;		    /* body bytes received */
	uint64_t sent, first, last; /* ns: request written, first and last body byte */
	int http_status;	    /* 0: no response head */
	uint64_t code;		    /* with RESET: hq's code for the status (mpq/http1.h) */
	int errnum;		    /* writing the body out failed */
	char sha256[65];	    /* of the body received, "" until it ended */
};

/* One URL to fetch and where its body goes. */
struct fetch {
	struct tool_url url;
	struct output out; /* where the body goes */
	mpq_hq_request *req;
	struct tcp_result tcp;
};

/* --tcp: the connection (or one MPTCP subflow) as the kernel saw it at
 * the end (TCP_INFO, MPTCP_TCPINFO, MPTCP_SUBFLOW_ADDRS). */
struct tcp_path {
	mpq_addr local, remote;
	uint64_t bytes_sent, bytes_received;
	uint64_t segs_out, segs_in;
	uint64_t lost, retrans;
	uint64_t rtt_us;
	uint64_t cwnd; /* bytes: snd_cwnd * snd_mss */
};

/* Path events kept for --json (later ones are counted, not kept). */
#define MAX_PATH_EVENTS 64
struct path_event_rec {
	uint64_t at; /* ns from the start */
	struct tool_path_event ev;
};

struct client {
	struct client_opts o;
	struct fetch *fetches;
	size_t nfetches;
	size_t issued; /* fetches handed to the hq client */

	mpq_loop *loop;
	mpq_loop_timer conn_timer;
	mpq_loop_timer delay_timer;
	mpq_loop_timer path_timer;    /* --path-delay */
	mpq_loop_timer pathact_timer; /* --abandon-path, --backup-path */
	struct tool_pathact_conn pathact;
	mpq_loop_timer replace_timer;  /* --replace-path, periodic */
	struct cpath paths[MAX_PATHS]; /* [0]: the URL's path */
	size_t npaths;
	char ifbuf[1024]; /* -n, split */
	const char *ifs[MAX_PATHS];
	int nifs;
	bool paths_due; /* the extra paths may be opened now */
	mpq_tls_ctx *tls;
	mpq_hq_client *hq;
	mpq_conn *conn;
	struct tool_callbacks cbw;
	struct tool_progress progress;
	char server[MPQ_ADDR_STRLEN];

	uint64_t start; /* ns, the connection was created */
	uint64_t end;	/* ns, the last request ended */
	bool handshake_done;
	bool closing;	      /* we closed the connection after the last request */
	bool ended;	      /* the connection is over: stop the loop */
	int conn_err;	      /* what ended it (MPQ_ERR_*), 0 while it lives */
	char reason[256];     /* why it failed, for the error line */
	mpq_conn_stats stats; /* taken before the connection is deleted */
	char alpn[32];
	struct path_event_rec events[MAX_PATH_EVENTS];
	size_t nevents; /* all of them, also those not kept */

	/* --tcp */
	struct tcp_path tcp_paths[MAX_PATHS];
	size_t ntcp_paths;
	const char *transport; /* "tcp", "mptcp", "tcp (mptcp fallback)" */
};

/* main.c */
/* Records why the connection failed (the first reason only). */
void fail(struct client *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int on_readable(mpq_loop *loop, int fd, unsigned int events, void *ud);

/* paths.c */
/* The paths of the command line. Returns 0 or TOOL_EXIT_USAGE after one line. */
int plan_paths(struct client *c);
/* Opens every planned path's socket. Returns 0 or an exit status after one line. */
int open_path_sockets(struct client *c);
/* Opens the waiting paths as far as the connection allows now (after every event). */
void open_paths(struct client *c);
/* The server announced |addr| (ADD_ADDRESS): a path to it, when it makes sense. */
int on_address(mpq_conn *conn, const mpq_addr *addr, void *ud);
/* The path whose socket is |user_data| (mpq_path.user_data), or NULL. */
struct cpath *path_of(struct client *c, const void *user_data);
/* Why path |p| (the library's |st|) never validated, in |buf|, or NULL: it
 * is still validating at the end, after an error on it or a second or more
 * (a path opened just before the end is only not done yet). */
const char *path_never_validated(const struct client *c, const struct cpath *p,
				 const mpq_path_stats *st, char *buf, size_t len);
/* --replace-path: abandons the open extra path with the highest path ID; it
 * waits to be opened again, under a new path ID, from the same socket. */
void replace_path(struct client *c);
/* "10.0.2.1:40123 on veth1 to 10.0.2.2:6121", for messages. */
void path_text(const struct cpath *p, char *buf, size_t len);
bool is_icmp_errno(int e);
void on_icmp_error(struct client *c, struct cpath *p, int errnum);
void drain_errqueue(struct cpath *p);

/* tcp.c */
/* --tcp: fetches every URL over one HTTPS connection on TCP or MPTCP, in
 * sequence with keep-alive; the results go where report.c finds them. */
void tcp_run(struct client *c);

/* tcp_info.c */
/* The connection's (or every subflow's) counters from the kernel, taken
 * before |fd| closes. Sets c->tcp_paths and c->transport. */
void tcp_collect_paths(struct client *c, int fd);
/* More than one subflow carried data. */
bool tcp_multipath(const struct client *c);

/* report.c */
void print_json(struct client *c);
/* The exit status of CLI.md, after the result lines (unless -q) and one
 * line per failure. */
int verdict(struct client *c);

#endif
