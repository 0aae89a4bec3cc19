/*
 * A client and a server mpq_conn joined by an in-memory link with a fixed
 * one-way delay, driven by simulated time: datagrams are written until each
 * side has nothing more, delivered when they arrive, and timers fired when
 * due. A drop hook decides per datagram. Used by the connection tests.
 */
#ifndef MPQ_TEST_CONN_PAIR_H
#define MPQ_TEST_CONN_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "certs.h"
#include "mpq/conn.h"

#define PAIR_MAX_QUEUED 256
#define PAIR_MAX_KEYLOG 8
#define PAIR_DGRAM_MAX 1500

enum { PAIR_CLIENT = 0, PAIR_SERVER = 1 };

struct pair_dgram {
	uint64_t arrival;
	mpq_path path;	 /* as the receiver sees it: the sender's, reversed */
	mpq_pkt_info pi; /* the ECN mark the sender asked for, delivered as is */
	size_t len;
	uint8_t data[PAIR_DGRAM_MAX];
};

struct conn_pair;
/* Return true to drop datagram number |index| (counted per side) of flight
 * |flight| (a burst written at one instant). */
typedef bool (*pair_drop_fn)(struct conn_pair *p, int from, size_t index, size_t flight,
			     const uint8_t *data, size_t len);

struct pair_opts {
	const char *ca_file;	 /* client trust; default: the test CA */
	const char *server_name; /* default "localhost" */
	const char *client_alpn; /* default "hq-interop" */
	const char *server_alpn; /* default "hq-interop" */
	uint32_t version;	 /* default v1 */
	pair_drop_fn drop;
	/* Stream callbacks for each side (user_data is the pair; see p->app). */
	const mpq_callbacks *app[2];
	void *app_state;
	/* When set, side i's callbacks get this user_data instead of the pair
	 * (and that side's key log lines are not collected). */
	void *app_user_data[2];
	/* Transport parameter overrides, applied when non-zero. */
	uint64_t max_data, max_stream_data;
	const char *cc;
	const char *stream_sched; /* both sides; default "rr" */
	uint64_t key_update_interval[2];
	uint64_t aead_confidentiality_limit[2], aead_integrity_limit[2];
	const char *qlog_dir; /* both sides write a qlog trace there */
	/* Multipath on both ends, and the path scheduler (NULL: the default). */
	bool multipath;
	bool add_address;
	const char *path_sched;
	/* Return true to drop a datagram |from| a side leaving by |out|. */
	bool (*drop_path)(struct conn_pair *p, int from, const mpq_path *out);
	/* NAT rebinding: after this many client datagrams, the server sees the
	 * client's packets come from another port (0: never). */
	size_t rebind_after;
};

struct conn_pair {
	struct test_certs certs;
	mpq_tls_ctx *tls[2];
	mpq_conn *conn[2];
	mpq_settings settings[2];
	mpq_tparams tparams[2];
	mpq_callbacks cb[2];
	pair_drop_fn drop;
	void *app;
	bool (*drop_path)(struct conn_pair *p, int from, const mpq_path *out);
	const char *qlog_dir;
	size_t rebind_after;
	size_t delivered_to_server;
	uint64_t now;
	uint64_t delay;
	uint64_t rand_state;
	struct pair_dgram *queue[2]; /* datagrams on their way *to* side i */
	size_t queued[2];
	size_t sent[2];	   /* datagrams written by side i */
	size_t flights[2]; /* bursts written by side i */
	uint64_t bytes_sent[2];
	int last_read_rv[2]; /* first non-zero mpq_conn_read_pkt result */
	int last_expiry_rv[2];
	char keylog[2][PAIR_MAX_KEYLOG][256];
	size_t nkeylog[2];
	size_t small_initial_dgrams[2]; /* datagrams with an Initial under 1200 bytes */
	uint64_t server_bytes_before_validation;
	uint64_t client_bytes_before_validation;
};

/* Sets up certificates, TLS contexts and the client. Returns 0 or -1. */
int pair_init(struct conn_pair *p, const struct pair_opts *opts);
void pair_free(struct conn_pair *p);

/* Runs until |until| is true, nothing is left to do, or |limit| ns of
 * simulated time passed. Returns true when |until| became true. */
bool pair_run(struct conn_pair *p, bool (*until)(struct conn_pair *p), uint64_t limit);

bool pair_both_complete(struct conn_pair *p);

/* Hands a copy of datagram |data| to side |to| now, as if it had come from
 * the other side's first address (a replay, a forgery). Returns what
 * mpq_conn_read_pkt returned. */
int pair_inject(struct conn_pair *p, int to, const uint8_t *data, size_t len);

#endif
