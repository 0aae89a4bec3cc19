/*
 * A discrete-event simulated network between a client and a server mpq_conn
 * (DESIGN.md rule 1). Each direction is a link with a one-way delay, jitter, a
 * rate limit behind a drop-tail queue, Bernoulli loss, reordering and
 * duplication. Every draw comes from the link's own PRNG, seeded from the run's
 * seed, and the endpoints' rand callback from theirs; OpenSSL's randomness is
 * replaced by a seeded generator and the certificates are fixed, so a run
 * repeats by seed: the same datagrams at the same nanoseconds. One exception:
 * OpenSSL stamps the session in the server's NewSessionTicket with time(NULL),
 * so that ticket's bytes (not its length) follow the wall clock.
 *
 * Per datagram: the filter hook, then duplication (the copy makes its own way);
 * per copy: loss, then the drop-tail queue and the rate limit (serialisation),
 * then ECN (the mark the sender's mpq_conn_write_pkt asked for, cleared on a
 * bleaching link, turned CE on ECN-capable copies as the link says), then
 * delay plus jitter (never overtaking the previous copy), then with
 * probability |reorder| reorder_delay more, which lets later copies overtake.
 *
 * The loop advances simulated time to the next event (a datagram arriving or
 * either side's mpq_conn_get_expiry), delivers what arrived, fires due timers,
 * then lets both sides write until mpq_conn_write_pkt returns 0. The server
 * connection is created from the first datagram that reaches it. A run stops at
 * a simulated-time bound and an iteration bound, so a hang fails instead of
 * spinning.
 *
 * Multipath: with cfg.npaths from 2 to SIMNET_MAX_PATHS, both ends offer
 * multipath and path k is its own pair of links (cfg.link for path 0,
 * cfg.path_link[k - 1] beyond; simnet_config_link finds either) between
 * fake addresses of its own:
 *
 *   path k: client 192.0.2.(1 + k):(40000 + k)  <->  server 198.51.100.(1 + k):4433
 *
 * (path 0 is the single-path run's pair). A datagram takes the path of the
 * client's address in the 4-tuple mpq_conn_write_pkt gave it (the local
 * address for the client's, the remote one for the server's; one that names
 * no path is counted as unrouted and dropped) and reaches the receiver with
 * that 4-tuple turned around. Once the client's handshake is complete the
 * loop opens paths 1 .. npaths-1 in order with mpq_conn_open_path, retrying
 * at every turn while it answers MPQ_ERR_NOT_FOUND (no CIDs for the next path
 * ID yet) or MPQ_ERR_INVALID_ARGUMENT (the handshake is not confirmed yet);
 * cfg.path_opened hears of each. A path can be killed from a simulated time
 * on (cfg.kill_at, simnet_kill_path): from then on every datagram sent on it,
 * either way, is dropped, and so is every one still in flight on it.
 * A NAT in front of the client can rebind a path (simnet_rebind): the server
 * then sees the client's datagrams on it from another port, and what it
 * sends to the old one is unrouted.
 *
 * Use: simnet_tls_init once; then per run simnet_init, adjust n->end[i].settings
 * and .tparams if needed, simnet_start, simnet_run (as often as needed),
 * simnet_free.
 */
#ifndef MPQ_TEST_SIMNET_H
#define MPQ_TEST_SIMNET_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "mpq/conn.h"

enum { SIMNET_CLIENT = 0, SIMNET_SERVER = 1 };

#define SIMNET_DGRAM_MAX 9216 /* a jumbo frame: room for what PMTU discovery finds */
#define SIMNET_MAX_PATHS 4
#define SIMNET_DEFAULT_TIME_LIMIT (600 * MPQ_SEC)
#define SIMNET_DEFAULT_ITER_LIMIT 4000000ULL

/* One direction of the network. Bytes are UDP payload bytes. */
struct simnet_link {
	uint64_t delay;		/* one-way propagation delay, ns */
	uint64_t jitter;	/* up to this much more per datagram, uniform, ns; order kept */
	uint64_t rate;		/* bytes/s; 0: no rate limit and no queue */
	uint64_t queue_bytes;	/* drop-tail queue in front of the rate limit; 0: unbounded */
	double loss;		/* probability a datagram is lost */
	double reorder;		/* probability a datagram is held back by reorder_delay */
	uint64_t reorder_delay; /* ns */
	double dup;		/* probability a datagram is sent twice */
	/* ECN. An ECN-capable copy (ECT(0) or ECT(1)) is marked CE instead when
	 * it finds more than |ce_threshold| bytes queued ahead of it and behind
	 * it (0: never; needs |rate|), an AQM that marks rather than drops, and
	 * every |ce_every|-th ECN-capable copy is (0: none). |bleach| clears
	 * every mark, as a network that does not pass ECN. */
	uint64_t ce_threshold;
	uint32_t ce_every;
	bool bleach;
	/* The link's IP MTU: a datagram that does not fit with its IPv4 and
	 * UDP headers (SIMNET_UDP_OVERHEAD) is dropped, as a router does with
	 * DF set (0: no limit). A test may change it mid-run through
	 * simnet_link_of(...)->p.mtu. */
	uint32_t mtu;
};

#define SIMNET_UDP_OVERHEAD 28 /* the fake addresses are IPv4 */

struct simnet_link_stats {
	uint64_t sent, bytes_sent;  /* datagrams the sender wrote */
	uint64_t digest;	    /* FNV-1a over their lengths and bytes, in order */
	uint64_t filtered;	    /* dropped by the filter hook */
	uint64_t duplicated;	    /* extra copies made */
	uint64_t lost;		    /* copies lost at random */
	uint64_t queue_drops;	    /* copies that found the queue full */
	uint64_t reordered;	    /* copies held back */
	uint64_t killed;	    /* copies dropped because the path was killed */
	uint64_t killed_max_len;    /* the longest of them, bytes */
	uint64_t too_big;	    /* copies larger than the MTU allows */
	uint64_t max_len_sent;	    /* the longest datagram the sender wrote */
	uint64_t max_len_delivered; /* the longest that arrived */
	uint64_t delivered;	    /* copies handed to the receiver */
	uint64_t bytes_delivered;
	uint64_t last_delivered_at; /* when the last one was, ns */
	uint64_t max_queue_bytes;   /* deepest the queue got */
	uint64_t ect;		    /* ECN-capable copies queued */
	uint64_t ce_marked;	    /* of those, marked CE */
	uint64_t ce_marked_short;   /* of those, 1-RTT datagrams (short header) */
};

struct simnet;

/* Called for every datagram side |from| writes, before the link sees it;
 * |index| counts that side's datagrams from 0 (on every path). Return true
 * to drop it. */
typedef bool (*simnet_filter_fn)(struct simnet *n, int from, uint64_t index, const uint8_t *data,
				 size_t len);

struct simnet_config {
	uint64_t seed;
	struct simnet_link link[2]; /* link[SIMNET_CLIENT] carries client to server */
	const char *cc;		    /* congestion controller; NULL: the library's default */
	/* Handshake and stream callbacks per side (rand and user_data are replaced:
	 * each callback gets that side's struct simnet_end, see ->app). */
	const mpq_callbacks *app[2];
	void *app_state[2];
	simnet_filter_fn filter;
	void *filter_state;
	/* Multipath: 0 or 1 is one path (and multipath stays off unless the
	 * caller turns it on in the settings), 2 to SIMNET_MAX_PATHS paths. */
	unsigned npaths;
	struct simnet_link path_link[SIMNET_MAX_PATHS - 1][2]; /* paths 1.., as link[] */
	uint64_t kill_at[SIMNET_MAX_PATHS]; /* path k dies at this time; 0: never */
	const char *path_sched;		    /* both ends; NULL: the library's default */
	/* The client opened path |path| (its path ID |id|); e.g. to mark it backup. */
	void (*path_opened)(struct simnet *n, unsigned path, uint32_t id);
	FILE *trace;	     /* a line per datagram and its fate; NULL: none */
	uint64_t time_limit; /* simulated ns per simnet_run; 0: the default */
	uint64_t iter_limit; /* loop turns per simnet_run; 0: the default */
};

/* Both TLS contexts (fixed certificates), made once and shared by many runs. */
struct simnet_tls {
	mpq_tls_ctx *ctx[2];
};

/* One endpoint: the user_data of its callbacks. */
struct simnet_end {
	struct simnet *net;
	int side;
	void *app;	/* config app_state[side] */
	mpq_conn *conn; /* the server's is NULL until its first datagram */
	mpq_settings settings;
	mpq_tparams tparams;
	mpq_callbacks cb;
	uint64_t rand_state;
	int create_err; /* mpq_conn_*_new failed with this */
	int read_err;	/* first non-zero mpq_conn_read_pkt result */
	uint64_t read_err_at;
	int expiry_err; /* first non-zero mpq_conn_handle_expiry result */
	uint64_t expiry_err_at;
	int write_err; /* first negative mpq_conn_write_pkt result */
	uint64_t write_err_at;
};

struct simnet_dgram;

struct simnet_link_state {
	struct simnet_link p;
	uint64_t rng[4];       /* xoshiro256** */
	uint64_t busy_until;   /* the rate limiter is sending until then */
	uint64_t tx_frac;      /* serialisation time carried below 1 ns, x rate */
	uint64_t last_arrival; /* for keeping order under jitter */
	uint64_t dead_from;    /* killed from then on; MPQ_TIME_NEVER: alive */
	struct simnet_link_stats st;
};

/* Why simnet_run returned. */
enum simnet_result {
	SIMNET_DONE,	   /* |until| became true */
	SIMNET_QUIET,	   /* nothing in flight and no timer set */
	SIMNET_TIME_LIMIT, /* the simulated-time bound passed */
	SIMNET_ITER_LIMIT, /* the iteration bound passed */
	SIMNET_STUCK,	   /* a timer stayed due while time could not advance */
	SIMNET_WRITE_LOOP, /* a side never stopped writing at one instant */
};

struct simnet {
	struct simnet_config cfg;
	struct simnet_tls *tls;
	struct simnet_end end[2];
	struct simnet_link_state link[2]; /* link[i] carries datagrams written by side i */
	struct simnet_link_state path_link[SIMNET_MAX_PATHS - 1][2]; /* paths 1.., as link[] */
	unsigned npaths;					     /* at least 1 */
	unsigned next_path;		      /* the next path the client opens */
	uint32_t path_id[SIMNET_MAX_PATHS];   /* path k's path ID at the client */
	uint64_t opened_at[SIMNET_MAX_PATHS]; /* when mpq_conn_open_path took it */
	uint64_t open_tries;		      /* mpq_conn_open_path calls that said "later" */
	int open_err;			      /* the first other error it returned */
	uint64_t unrouted;		      /* datagrams whose 4-tuple names no path */
	uint16_t nat_port[SIMNET_MAX_PATHS];  /* path k's client port at the server; 0: its own */
	uint64_t wake_at;    /* the loop stops by then, for a test to act (0: never) */
	uint64_t written[2]; /* datagrams side i wrote, on every path */
	uint64_t now;
	uint64_t iters;		    /* loop turns over all runs */
	uint64_t seq;		    /* ties between equal arrival times go by send order */
	struct simnet_dgram **heap; /* datagrams in flight, earliest arrival first */
	size_t nheap, capheap;
	struct simnet_dgram *free_list;
	int stuck_side; /* for SIMNET_STUCK: whose timer */
	uint64_t stuck_expiry;
};

/* Creates both contexts and replaces OpenSSL's randomness in this process with
 * a seeded generator (simnet_start reseeds it), so that TLS bytes repeat too.
 * Returns 0 or -1. */
int simnet_tls_init(struct simnet_tls *t);
/* Frees the contexts and gives OpenSSL its own randomness back. */
void simnet_tls_free(struct simnet_tls *t);

/* Prepares a run: links, PRNGs, and each side's default settings, transport
 * parameters and callbacks, which the caller may change before simnet_start.
 * Returns 0 or -1. */
int simnet_init(struct simnet *n, const struct simnet_config *cfg, struct simnet_tls *tls);
/* Creates the client at time 0. Returns 0 or the mpq_conn_client_new error. */
int simnet_start(struct simnet *n);
void simnet_free(struct simnet *n);

/* Runs until |until| (may be NULL) is true or one of the other enum
 * simnet_result reasons, for at most cfg.time_limit more simulated time. */
enum simnet_result simnet_run(struct simnet *n, bool (*until)(struct simnet *n));

bool simnet_handshake_done(struct simnet *n);

/* Path |path|'s link that carries what side |from| writes (path 0: link[from]). */
struct simnet_link *simnet_config_link(struct simnet_config *cfg, unsigned path, int from);
struct simnet_link_state *simnet_link_of(struct simnet *n, unsigned path, int from);
/* Path |path| (both directions) drops everything from time |at| on. */
void simnet_kill_path(struct simnet *n, unsigned path, uint64_t at);
/* From now on the server sees the client's datagrams on path |path| come from
 * port |port| (a NAT rebinding); 0 gives the client its own port back. */
void simnet_rebind(struct simnet *n, unsigned path, uint16_t port);
/* Side |side|'s address on path |path|. */
void simnet_path_addr(mpq_addr *a, int side, unsigned path);
/* Paths the client has opened so far, path 0 included. */
unsigned simnet_paths_opened(const struct simnet *n);
const char *simnet_result_str(enum simnet_result r);
/* An enum mpq_path_state_public value as a word. */
const char *simnet_path_state_str(int state);

/* The link parameters, one line, for failure messages. */
void simnet_link_format(const struct simnet_link *l, char *buf, size_t len);
/* Time, both sides' state and errors, the link counters, and with several
 * paths each path's state at both ends, for failure messages. Returns |buf|. */
const char *simnet_describe(const struct simnet *n, char *buf, size_t len);

/* What the simulation tests share. */

/* Byte |off| of a test stream salted with |salt|. */
uint8_t simnet_pattern(uint8_t salt, uint64_t off);
/* Writes bytes *|written| on of a |size|-byte simnet_pattern stream to
 * stream |id|, with FIN at the end, until the stream takes no more or
 * *|fin_written|. Returns 0 or the mpq_conn_stream_write error. */
int simnet_write_pattern(mpq_conn *c, int64_t id, uint8_t salt, uint64_t size, uint64_t *written,
			 bool *fin_written);
/* The first thing that went wrong: formats into |buf| unless it already holds
 * a message. */
__attribute__((format(printf, 3, 4))) void simnet_note_first(char *buf, size_t len,
							     const char *fmt, ...);
/* Uniform in [lo, hi) from a splitmix64 |state|. */
double simnet_draw(uint64_t *state, double lo, double hi);
/* Monotonic wall-clock seconds, for reporting real time. */
double simnet_wall_seconds(void);
/* Both connections are gone (no timer left on either). */
bool simnet_conns_closed(struct simnet *n);
/* main() of a simulation test: the |picked| tests, then one |seeded| test per
 * seed, 1..|nseeds| or SIMNET_SEEDS=FIRST-LAST, named seed_<seed> (zero-padded
 * to |digits|) with the seed as its initial state; argv[1] is a cmocka test
 * filter. Returns what cmocka does, or 2 on a bad SIMNET_SEEDS. */
int simnet_test_main(int argc, char **argv, const char *group, const struct CMUnitTest *picked,
		     size_t npicked, CMUnitTestFunction seeded, unsigned long long nseeds,
		     int digits, CMFixtureFunction setup, CMFixtureFunction teardown);

#endif
