/*
 * Multipath (draft-21) over the in-memory pair: negotiation and fallback,
 * CIDs for every path ID, a second path opened and validated, data spread
 * over both by the scheduler, a path killed mid-transfer, PATH_ABANDON both
 * ways with state released after 3 PTO, backup paths, and path ID limits.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conn_pair.h"
#include "quic/cid.h"
#include "quic/conn.h"
#include "quic/packet.h"
#include "quic/sent.h"

#define LIMIT (120 * MPQ_SEC)

/* calloc of exactly this many bytes fails (0: none): the state of path slots
 * 1 and up, allocated on demand, made to fail. Interposes the C library's
 * (not under ASan, whose allocator must see every block). */
static size_t fail_calloc_size;
#if defined(__SANITIZE_ADDRESS__)
#define CALLOC_FAILS 0
#else
#define CALLOC_FAILS 1
extern void *__libc_calloc(size_t n, size_t size);
void *calloc(size_t n, size_t size)
{
	if (fail_calloc_size && n * size == fail_calloc_size)
		return NULL;
	return __libc_calloc(n, size);
}
#endif

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 131 + (i >> 10));
}

struct app {
	uint64_t reply; /* bytes the server answers with */
	int64_t reply_id;
	uint64_t written;
	uint64_t received;
	bool fin, corrupt;
};

static void pump(mpq_conn *c, struct app *a)
{
	uint8_t buf[16384];
	while (a->reply_id >= 0 && a->written < a->reply) {
		size_t n = sizeof(buf);
		if (n > a->reply - a->written)
			n = (size_t)(a->reply - a->written);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(a->written + i);
		int64_t took =
			mpq_conn_stream_write(c, a->reply_id, buf, n, a->written + n == a->reply);
		if (took <= 0)
			return;
		a->written += (uint64_t)took;
	}
}

static int on_data(mpq_conn *c, int64_t id, uint64_t off, const uint8_t *d, size_t len, bool fin,
		   void *ud)
{
	struct conn_pair *p = ud;
	struct app *a = p->app;
	if (c == p->conn[PAIR_SERVER]) {
		if (fin) {
			a->reply_id = id;
			pump(c, a);
		}
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		if (d[i] != pattern(off + i))
			a->corrupt = true;
	a->received = off + len;
	a->fin |= fin;
	return 0;
}

static int on_writable(mpq_conn *c, int64_t id, void *ud)
{
	struct conn_pair *p = ud;
	if (c == p->conn[PAIR_SERVER])
		pump(c, p->app);
	return 0;
}

static mpq_addr announced;
static int nannounced;

static int on_address(mpq_conn *c, const mpq_addr *addr, void *ud)
{
	(void)c;
	(void)ud;
	announced = *addr;
	nannounced++;
	return 0;
}

static const mpq_callbacks app_cb = {.struct_version = MPQ_CALLBACKS_VERSION,
				     .stream_data = on_data,
				     .stream_writable = on_writable,
				     .address_added = on_address};

static bool done(struct conn_pair *p)
{
	return ((struct app *)p->app)->fin;
}

/* A second client address: another port on another loopback address. */
static mpq_path second_tuple(const struct conn_pair *p)
{
	mpq_path t = p->conn[PAIR_CLIENT]->paths[0]->tuple;
	struct sockaddr_in *in = (struct sockaddr_in *)&t.local.ss;
	in->sin_addr.s_addr = htonl(0x7f000003u);
	in->sin_port = htons(40002);
	return t;
}

static bool is_second(const mpq_path *out, int from)
{
	const mpq_addr *client = from == PAIR_CLIENT ? &out->local : &out->remote;
	const struct sockaddr_in *in = (const struct sockaddr_in *)&client->ss;
	return ntohs(in->sin_port) == 40002;
}

static void start(struct conn_pair *p, struct app *a, struct pair_opts *o)
{
	memset(a, 0, sizeof(*a));
	a->reply_id = -1;
	o->app[0] = o->app[1] = &app_cb;
	o->app_state = a;
	o->max_data = 8 << 20;
	o->max_stream_data = 8 << 20;
	assert_int_equal(pair_init(p, o), 0);
	assert_true(pair_run(p, pair_both_complete, LIMIT));
	pair_run(p, NULL, 50 * MPQ_MS);
	/* let the CIDs of every path ID arrive */
}

static void request(struct conn_pair *p, struct app *a, uint64_t bytes)
{
	int64_t id;
	a->reply = bytes;
	assert_int_equal(mpq_conn_open_stream(p->conn[PAIR_CLIENT], true, &id), 0);
	assert_int_equal(mpq_conn_stream_write(p->conn[PAIR_CLIENT], id, (const uint8_t *)"GET", 3,
					       true),
			 3);
}

static uint32_t open_second(struct conn_pair *p)
{
	mpq_path t = second_tuple(p);
	uint32_t pid = 0;
	assert_int_equal(mpq_conn_open_path(p->conn[PAIR_CLIENT], &t, &pid), 0);
	assert_int_equal(pid, 1);
	return pid;
}

static void negotiation_and_cids(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	start(&p, &a, &(struct pair_opts){.multipath = true});
	for (int s = 0; s < 2; s++) {
		assert_true(mpq_conn_is_multipath(p.conn[s]));
		/* CIDs for every path ID both allow (3 by default), ahead of need. */
		for (uint32_t pid = 1; pid <= 3; pid++)
			assert_true(p.conn[s]->peer_cids[pid]->n >= 1);
		/* which needed the state of the slots past path 0's */
		assert_non_null(p.conn[s]->more);
		assert_int_equal(mpq_conn_nslots(p.conn[s]), MPQ_MAX_PATHS);
	}
	pair_free(&p);
}

/* Without the state of slots 1 and up (its allocation fails at both ends),
 * a multipath connection lives on path 0: no CIDs for other path IDs, so no
 * second path opens (an error, not a crash), and data flows. */
static void slots_unallocated_path0_only(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	if (!CALLOC_FAILS) {
		printf("skip: calloc cannot be made to fail in this build (a sanitizer owns "
		       "it)\n");
		skip();
	}
	fail_calloc_size = sizeof(struct mpq_conn_slots);
	start(&p, &a, &(struct pair_opts){.multipath = true});
	mpq_path t = second_tuple(&p);
	uint32_t pid;
	for (int s = 0; s < 2; s++) {
		assert_true(mpq_conn_is_multipath(p.conn[s]));
		assert_null(p.conn[s]->more);
		assert_false(mpq_conn_get_error(p.conn[s])->set);
	}
	assert_int_equal(mpq_conn_open_path(p.conn[PAIR_CLIENT], &t, &pid), MPQ_ERR_NOT_FOUND);
	request(&p, &a, 100000);
	assert_true(pair_run(&p, done, LIMIT));
	fail_calloc_size = 0;
	assert_int_equal(a.received, 100000);
	assert_false(a.corrupt);
	pair_free(&p);
}

static void init_dropping(struct conn_pair *p, struct app *a, pair_drop_fn drop)
{
	memset(a, 0, sizeof(*a));
	a->reply_id = -1;
	struct pair_opts o = {.multipath = true, .drop = drop};
	o.app[0] = o.app[1] = &app_cb;
	o.app_state = a;
	assert_int_equal(pair_init(p, &o), 0);
}

/* The server's datagrams once its handshake is complete, held back. */
static struct {
	size_t n;
	size_t len[16];
	uint8_t data[16][PAIR_DGRAM_MAX];
} held;

static bool hold_first_app_flight(struct conn_pair *p, int from, size_t index, size_t flight,
				  const uint8_t *data, size_t len)
{
	(void)index;
	(void)flight;
	if (from != PAIR_SERVER || !p->conn[PAIR_SERVER]->handshake_complete)
		return false;
	if (held.n < 16) {
		memcpy(held.data[held.n], data, len);
		held.len[held.n++] = len;
	}
	return true;
}

static bool app_flight_held(struct conn_pair *p)
{
	(void)p;
	return held.n > 0;
}

/* Whether a packet of the server's flight that carries HANDSHAKE_DONE comes
 * before one that carries a NEW_CONNECTION_ID. */
static bool handshake_done_before_cids(mpq_conn *s)
{
	mpq_sent *sent = &s->paths[0]->ns.sent;
	bool done = false;
	for (size_t i = 0; i < sent->n; i++) {
		const mpq_sent_pkt *pkt = mpq_sent_at(sent, i);
		for (size_t r = 0; r < pkt->nrecs; r++) {
			if (pkt->recs[r].kind == MPQ_REC_NEW_CID && done)
				return true;
			done |= pkt->recs[r].kind == MPQ_REC_HANDSHAKE_DONE;
		}
	}
	return false;
}

/*
 * A peer may open a new path as soon as its handshake is confirmed: picoquic
 * probes on the first 1-RTT packet it gets after its handshake and closes
 * when it holds no CID for the next path ID. The server's first flight after
 * its handshake is handed to the client one datagram at a time: the first
 * alone names every path ID both allow, HANDSHAKE_DONE comes with or after
 * the last CID, and once all is in, the client holds every CID issued.
 * Failed before: HANDSHAKE_DONE went first and then the CIDs path by path,
 * at most 6 frames a packet, so those of path ID 3 came in a later packet.
 */
static void cids_of_every_path_id_with_handshake_done(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	held.n = 0;
	init_dropping(&p, &a, hold_first_app_flight);
	assert_true(pair_run(&p, app_flight_held, LIMIT));
	mpq_conn *c = p.conn[PAIR_CLIENT], *s = p.conn[PAIR_SERVER];
	uint32_t max = mpq_conn_max_path_id(s);
	assert_int_equal(max, 3);
	assert_false(c->handshake_confirmed);
	assert_int_equal(pair_inject(&p, PAIR_CLIENT, held.data[0], held.len[0]), 0);
	for (uint32_t pid = 0; pid <= max; pid++)
		assert_true(c->peer_cids[pid]->n >= 1);
	for (size_t i = 1; i < held.n; i++)
		assert_int_equal(pair_inject(&p, PAIR_CLIENT, held.data[i], held.len[i]), 0);
	assert_true(c->handshake_confirmed);
	assert_false(handshake_done_before_cids(s));
	for (uint32_t pid = 0; pid <= max; pid++)
		assert_int_equal(c->peer_cids[pid]->n, s->local_cids[pid]->n);
	pair_free(&p);
}

/* Drops every server packet that carries HANDSHAKE_DONE (one path) until the
 * client is confirmed without it. Not after: the server resends it with the
 * oldest lost stream data, which would then be lost with it again and again
 * (whether that happens depends on how the packets fill, e.g. with ACK_ECN). */
static bool drop_handshake_done(struct conn_pair *p, int from, size_t index, size_t flight,
				const uint8_t *data, size_t len)
{
	(void)index;
	(void)flight;
	(void)data;
	(void)len;
	mpq_conn *server = p->conn[PAIR_SERVER]; /* NULL until the first Initial */
	if (from != PAIR_SERVER || !server || server->paths[0]->ns.sent.n == 0 ||
	    p->conn[PAIR_CLIENT]->handshake_confirmed)
		return false;
	mpq_sent *sent = &server->paths[0]->ns.sent;
	const mpq_sent_pkt *last = mpq_sent_at(sent, sent->n - 1);
	for (size_t r = 0; r < last->nrecs; r++)
		if (last->recs[r].kind == MPQ_REC_HANDSHAKE_DONE)
			return true;
	return false;
}

static bool client_complete(struct conn_pair *p)
{
	return mpq_conn_is_handshake_complete(p->conn[PAIR_CLIENT]);
}

/*
 * RFC 9001 §4.1.2: an ACK of a 1-RTT packet confirms the client's handshake,
 * so that a lost HANDSHAKE_DONE does not keep it from opening paths (on a
 * dying first path, it may never come). Every HANDSHAKE_DONE is dropped
 * until then: the client is confirmed by the transfer and opens its second
 * path. Failed before: only HANDSHAKE_DONE confirmed.
 */
static void ack_of_1rtt_confirms_client(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	init_dropping(&p, &a, drop_handshake_done);
	assert_true(pair_run(&p, client_complete, LIMIT));
	request(&p, &a, 100000);
	assert_true(pair_run(&p, done, LIMIT));
	assert_false(a.corrupt);
	assert_true(p.conn[PAIR_CLIENT]->handshake_confirmed);
	open_second(&p);
	pair_run(&p, NULL, 200 * MPQ_MS);
	assert_int_equal(mpq_conn_path_count(p.conn[PAIR_CLIENT]), 2);
	pair_free(&p);
}

static void one_side_without_multipath_is_single_path(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	struct pair_opts o = {.multipath = true};
	memset(&a, 0, sizeof(a));
	a.reply_id = -1;
	o.app[0] = o.app[1] = &app_cb;
	o.app_state = &a;
	assert_int_equal(pair_init(&p, &o), 0);
	p.settings[1].multipath = false; /* the server does not offer it */
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	assert_false(mpq_conn_is_multipath(p.conn[0]));
	assert_false(mpq_conn_is_multipath(p.conn[1]));
	mpq_path t = second_tuple(&p);
	uint32_t pid;
	assert_int_equal(mpq_conn_open_path(p.conn[0], &t, &pid), MPQ_ERR_INVALID_ARGUMENT);
	request(&p, &a, 300000);
	assert_true(pair_run(&p, done, LIMIT));
	assert_int_equal(a.received, 300000);
	assert_false(a.corrupt);
	/* nor did either allocate the state of path slots past path 0's */
	for (int s = 0; s < 2; s++) {
		assert_null(p.conn[s]->more);
		assert_int_equal(mpq_conn_nslots(p.conn[s]), 1);
	}
	pair_free(&p);
}

static void second_path_validated_and_used(const char *sched)
{
	struct conn_pair p;
	struct app a;
	start(&p, &a, &(struct pair_opts){.multipath = true, .path_sched = sched});
	uint32_t pid = open_second(&p);
	pair_run(&p, NULL, 200 * MPQ_MS);
	mpq_path_stats st;
	for (int s = 0; s < 2; s++) {
		assert_int_equal(mpq_conn_path_count(p.conn[s]), 2);
		assert_int_equal(mpq_conn_get_path_stats(p.conn[s], pid, &st), 0);
		assert_int_equal(st.state, MPQ_PATH_STATE_ACTIVE);
	}
	request(&p, &a, 4000000);
	assert_true(pair_run(&p, done, LIMIT));
	assert_int_equal(a.received, 4000000);
	assert_false(a.corrupt);
	/* Both paths carried a real share of the download. */
	mpq_path_stats s0, s1;
	mpq_conn_get_stats(p.conn[0], &(mpq_conn_stats){0});
	assert_int_equal(mpq_conn_get_path_stats(p.conn[0], 0, &s0), 0);
	assert_int_equal(mpq_conn_get_path_stats(p.conn[0], 1, &s1), 0);
	uint64_t total = s0.bytes_received + s1.bytes_received;
	print_message("%s: path 0 %llu bytes, path 1 %llu bytes\n", sched,
		      (unsigned long long)s0.bytes_received,
		      (unsigned long long)s1.bytes_received);
	/* rr shares evenly; minrtt fills the first path and spills to the other
	 * when its window is full or its pacer holds it, so on equal links it
	 * must use both (about evenly: the pacer holds path 0 half the time). */
	if (strcmp(sched, "rr") == 0) {
		assert_true(s0.bytes_received * 5 >= total);
		assert_true(s1.bytes_received * 5 >= total);
	} else {
		assert_true(s0.bytes_received * 5 >= total);
		assert_true(s1.bytes_received * 50 >= total);
	}
	/* Only the redundant scheduler's copies need their records. */
	assert_null(p.conn[0]->dups);
	assert_null(p.conn[1]->dups);
	pair_free(&p);
}

static void two_paths_rr(void **state)
{
	(void)state;
	second_path_validated_and_used("rr");
}

static void two_paths_minrtt(void **state)
{
	(void)state;
	second_path_validated_and_used("minrtt");
}

/* qlog: packet events carry path_id, the second path's tuple is assigned, and
 * time never goes back, key updates and discards included; the server's
 * recovery metrics (window, RTT) come for each of the two paths. */
static void qlog_names_paths(void **state)
{
	(void)state;
	char dir[] = "/tmp/mpq-mpqlog-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct conn_pair p;
	struct app a;
	start(&p, &a,
	      &(struct pair_opts){.multipath = true,
				  .path_sched = "rr",
				  .qlog_dir = dir,
				  .key_update_interval = {0, 60}});
	open_second(&p);
	pair_run(&p, NULL, 200 * MPQ_MS);
	request(&p, &a, 300000);
	assert_true(pair_run(&p, done, LIMIT));
	pair_free(&p);
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "for f in %s/*_client.sqlog; do python3 -c '"
		 "import json,sys\n"
		 "recs=[json.loads(r) for r in "
		 "open(sys.argv[1],\"rb\").read().split(b\"\\x1e\")[1:]]\n"
		 "ev=recs[1:]\n"
		 "ids=set(e[\"data\"].get(\"path_id\") for e in ev if "
		 "e[\"name\"]==\"quic:packet_received\")\n"
		 "tup=[e for e in ev if e[\"name\"]==\"quic:tuple_assigned\"]\n"
		 "assert {0,1} <= ids, ids\n"
		 "assert any(e[\"data\"].get(\"tuple_id\")==\"1\" for e in tup), tup\n"
		 "assert any(e[\"name\"]==\"quic:key_updated\" and e[\"data\"].get(\"key_phase\")"
		 " for e in ev), \"no key update\"\n"
		 "t=[e[\"time\"] for e in ev]\n"
		 "assert t==sorted(t), [(e[\"name\"], e[\"time\"]) for e, a, b in zip(ev[1:], t, "
		 "t[1:]) if b<a][:3]\n"
		 "' $f || exit 1; done; "
		 /* The sender's window and RTT per path: metrics name each path. */
		 "for f in %s/*_server.sqlog.zst; do zstd -qdc $f | python3 -c '"
		 "import json,sys\n"
		 "recs=[json.loads(r) for r in "
		 "sys.stdin.buffer.read().split(b\"\\x1e\")[2:]]\n"
		 "m=[e[\"data\"] for e in recs if "
		 "e[\"name\"]==\"quic:recovery_metrics_updated\"]\n"
		 "ids=set(d.get(\"path_id\") for d in m if \"congestion_window\" in d)\n"
		 "assert ids=={0,1}, ids\n"
		 "' || exit 1; done; rm -rf %s",
		 dir, dir, dir);
	assert_int_equal(system(cmd), 0);
}

/* Two paths in rr, the server updating its keys every 400 packets. */
static void start_two_paths_updating_keys(struct conn_pair *p, struct app *a)
{
	start(p, a,
	      &(struct pair_opts){.multipath = true,
				  .path_sched = "rr",
				  .key_update_interval = {0, 400}});
	open_second(p);
	pair_run(p, NULL, 200 * MPQ_MS);
}

/* Downloads 8 MB intact; returns the server's key updates meanwhile. */
static uint64_t key_updates_over_8mb(struct conn_pair *p, struct app *a)
{
	mpq_conn_stats before, after;
	mpq_conn_get_stats(p->conn[PAIR_SERVER], &before);
	request(p, a, 8000000);
	assert_true(pair_run(p, done, LIMIT));
	assert_int_equal(a->received, 8000000);
	assert_false(a->corrupt);
	mpq_conn_get_stats(p->conn[PAIR_SERVER], &after);
	return after.key_updates - before.key_updates;
}

/* Key updates over two paths: one key phase for all, the nonce per path. */
static void key_updates_across_paths(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	start_two_paths_updating_keys(&p, &a);
	uint64_t updates = key_updates_over_8mb(&p, &a);
	print_message("key updates: %llu\n", (unsigned long long)updates);
	assert_true(updates >= 2);
	pair_free(&p);
}

/* Key updates go on after path 0 is abandoned: where a phase starts is
 * judged in each path's own packet numbers, not path 0's. */
static void key_updates_without_path_zero(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	start_two_paths_updating_keys(&p, &a);
	assert_int_equal(mpq_conn_abandon_path(p.conn[PAIR_CLIENT], 0, 0), 0);
	pair_run(&p, NULL, 200 * MPQ_MS);
	uint64_t updates = key_updates_over_8mb(&p, &a);
	print_message("key updates on path 1 alone: %llu\n", (unsigned long long)updates);
	assert_true(updates >= 2);
	pair_free(&p);
}

/* Redundant: every byte goes on both paths, and arrives once. */
static void redundant_sends_everything_twice(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	start(&p, &a, &(struct pair_opts){.multipath = true, .path_sched = "redundant"});
	open_second(&p);
	pair_run(&p, NULL, 200 * MPQ_MS);
	request(&p, &a, 2000000);
	assert_true(pair_run(&p, done, LIMIT));
	assert_int_equal(a.received, 2000000);
	assert_false(a.corrupt);
	mpq_path_stats s0, s1;
	assert_int_equal(mpq_conn_get_path_stats(p.conn[0], 0, &s0), 0);
	assert_int_equal(mpq_conn_get_path_stats(p.conn[0], 1, &s1), 0);
	print_message("redundant: path 0 %llu bytes, path 1 %llu bytes\n",
		      (unsigned long long)s0.bytes_received,
		      (unsigned long long)s1.bytes_received);
	assert_true(s0.bytes_received >= 1800000);
	assert_true(s1.bytes_received >= 1800000);
	assert_non_null(p.conn[PAIR_SERVER]->dups);
	pair_free(&p);
}

static bool kill_second = false;

static bool drop_second(struct conn_pair *p, int from, const mpq_path *out)
{
	(void)p;
	return kill_second && is_second(out, from);
}

/* 6 MB over two paths; once 1 MB is in, path 1 is cut both ways. The download
 * must still end whole. */
static void download_losing_second(struct conn_pair *p, struct app *a)
{
	open_second(p);
	pair_run(p, NULL, 200 * MPQ_MS);
	request(p, a, 6000000);
	for (int i = 0; i < 1000 && a->received < 1000000; i++)
		pair_run(p, NULL, 5 * MPQ_MS);
	kill_second = true;
	assert_true(pair_run(p, done, LIMIT));
	assert_int_equal(a->received, 6000000);
	assert_false(a->corrupt);
}

static int path1_state(struct conn_pair *p, int side)
{
	mpq_path_stats st;
	return mpq_conn_get_path_stats(p->conn[side], 1, &st) == 0 ? st.state : -1;
}

static bool server_gave_up(struct conn_pair *p)
{
	int s = path1_state(p, PAIR_SERVER);
	return s == MPQ_PATH_STATE_FAILED || s == MPQ_PATH_STATE_ABANDONED;
}

static bool client_failed_server_abandoned(struct conn_pair *p)
{
	return path1_state(p, PAIR_CLIENT) == MPQ_PATH_STATE_FAILED &&
	       path1_state(p, PAIR_SERVER) == MPQ_PATH_STATE_ABANDONED;
}

static void path_killed_mid_transfer(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	kill_second = false;
	start(&p, &a,
	      &(struct pair_opts){.multipath = true,
				  .path_sched = "rr",
				  .drop_path = drop_second});
	download_losing_second(&p, &a);
	/* The rest may well have gone over path 0 before path 1's PTOs ran out. */
	assert_true(pair_run(&p, server_gave_up, LIMIT));
	mpq_path_stats st;
	assert_int_equal(mpq_conn_get_path_stats(p.conn[PAIR_SERVER], 0, &st), 0);
	assert_int_equal(st.state, MPQ_PATH_STATE_ACTIVE);
	pair_free(&p);
}

/*
 * The receiver finds a dead path on its own: path 1 is cut both ways mid
 * transfer while the server would take 1000 PTOs to give up on it. The client
 * only acknowledges on path 1 (nothing of its own in flight there to time
 * out), so it PINGs the path once it falls silent while path 0 delivers,
 * declares it failed after its PTOs and abandons it; the transfer ends on
 * path 0. Failed before: the client never noticed (seen with picoquicdemo's
 * server in the interop path-down case, which abandoned nothing either).
 */
static void receiver_fails_silent_path(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	kill_second = false;
	memset(&a, 0, sizeof(a));
	a.reply_id = -1;
	struct pair_opts o = {.multipath = true,
			      .path_sched = "rr",
			      .drop_path = drop_second,
			      .max_data = 8 << 20,
			      .max_stream_data = 8 << 20};
	o.app[0] = o.app[1] = &app_cb;
	o.app_state = &a;
	assert_int_equal(pair_init(&p, &o), 0);
	p.settings[PAIR_SERVER].path_fail_ptos = 1000;
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	pair_run(&p, NULL, 50 * MPQ_MS);
	download_losing_second(&p, &a);
	assert_true(pair_run(&p, client_failed_server_abandoned, LIMIT));
	pair_free(&p);
}

static void abandon_both_ways_releases_state(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	start(&p, &a, &(struct pair_opts){.multipath = true});
	open_second(&p);
	pair_run(&p, NULL, 200 * MPQ_MS);
	assert_int_equal(mpq_conn_abandon_path(p.conn[PAIR_CLIENT], 1, 0), 0);
	pair_run(&p, NULL, 20 * MPQ_MS);
	/* The server answered with its own PATH_ABANDON; both keep state a while... */
	for (int s = 0; s < 2; s++) {
		assert_int_equal(p.conn[s]->paths[1]->state, MPQ_PATH_ABANDONED);
		assert_true(p.conn[s]->paths[1]->abandon_sent);
		assert_false(p.conn[s]->paths[1]->released);
	}
	/* ...and release it after 3 PTO, while the connection goes on. */
	pair_run(&p, NULL, 5 * MPQ_SEC);
	for (int s = 0; s < 2; s++)
		assert_true(p.conn[s]->paths[1]->released);
	request(&p, &a, 200000);
	assert_true(pair_run(&p, done, LIMIT));
	assert_int_equal(a.received, 200000);
	/* Path IDs are never reused: the next path is 2. */
	mpq_path t = second_tuple(&p);
	uint32_t pid;
	assert_int_equal(mpq_conn_open_path(p.conn[PAIR_CLIENT], &t, &pid), 0);
	assert_int_equal(pid, 2);
	pair_free(&p);
}

static bool kill_first = false;

static bool drop_first(struct conn_pair *p, int from, const mpq_path *out)
{
	(void)p;
	return kill_first && !is_second(out, from);
}

static void backup_path_only_when_needed(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	kill_first = false;
	start(&p, &a,
	      &(struct pair_opts){.multipath = true,
				  .path_sched = "backup",
				  .drop_path = drop_first});
	open_second(&p);
	pair_run(&p, NULL, 200 * MPQ_MS);
	/* The client marks path 1 backup; the server learns it by PATH_STATUS_BACKUP. */
	assert_int_equal(mpq_conn_set_path_status(p.conn[PAIR_CLIENT], 1, true), 0);
	pair_run(&p, NULL, 50 * MPQ_MS);
	assert_true(p.conn[PAIR_SERVER]->paths[1]->backup);
	request(&p, &a, 1000000);
	assert_true(pair_run(&p, done, LIMIT));
	mpq_path_stats st;
	assert_int_equal(mpq_conn_get_path_stats(p.conn[PAIR_SERVER], 1, &st), 0);
	uint64_t before = st.bytes_sent;
	/* No stream data went on the backup path: only small control packets. */
	assert_true(before < 20000);
	/* Path 0 dies: the next download goes on the backup path. */
	struct app *ap = p.app;
	ap->fin = false;
	ap->received = 0;
	ap->written = 0;
	ap->reply_id = -1;
	kill_first = true;
	request(&p, &a, 500000);
	assert_true(pair_run(&p, done, LIMIT));
	assert_int_equal(a.received, 500000);
	assert_false(a.corrupt);
	assert_int_equal(mpq_conn_get_path_stats(p.conn[PAIR_SERVER], 1, &st), 0);
	assert_true(st.bytes_sent - before >= 500000);
	pair_free(&p);
}

static size_t last_len, big_on_second;

static bool note_len(struct conn_pair *p, int from, size_t index, size_t flight,
		     const uint8_t *data, size_t len)
{
	(void)p, (void)from, (void)index, (void)flight, (void)data;
	last_len = len;
	return false;
}

static bool count_big_on_second(struct conn_pair *p, int from, const mpq_path *out)
{
	(void)p;
	if (from == PAIR_SERVER && is_second(out, from) && last_len > 1000)
		big_on_second++;
	return false;
}

/* The sender's own backup path gets a PTO probe while path 0 carries a
 * download: the probe is a PING, no stream data (before: a full packet of
 * new data on the backup path). */
static void backup_path_probe_carries_no_data(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	start(&p, &a,
	      &(struct pair_opts){.multipath = true,
				  .drop = note_len,
				  .drop_path = count_big_on_second});
	open_second(&p);
	pair_run(&p, NULL, 200 * MPQ_MS);
	assert_int_equal(mpq_conn_set_path_status(p.conn[PAIR_SERVER], 1, true), 0);
	pair_run(&p, NULL, 50 * MPQ_MS);
	big_on_second = 0;
	request(&p, &a, 2000000);
	pair_run(&p, NULL, 30 * MPQ_MS);
	assert_true(a.received > 0);
	p.conn[PAIR_SERVER]->paths[1]->probe = 1;
	mpq_path_stats st;
	assert_int_equal(mpq_conn_get_path_stats(p.conn[PAIR_SERVER], 1, &st), 0);
	uint64_t packets = st.packets_sent;
	assert_true(pair_run(&p, done, LIMIT));
	assert_int_equal(a.received, 2000000);
	assert_int_equal(mpq_conn_get_path_stats(p.conn[PAIR_SERVER], 1, &st), 0);
	assert_true(st.packets_sent > packets); /* the probe went out there */
	assert_int_equal(big_on_second, 0);
	pair_free(&p);
}

/* The server announces a second address; the client opens a path to it
 * without being told on its command line (ADD_ADDRESS extension). */
static void advertised_address_gets_a_path(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	nannounced = 0;
	start(&p, &a,
	      &(struct pair_opts){.multipath = true, .add_address = true, .path_sched = "rr"});
	mpq_addr extra = p.conn[PAIR_SERVER]->paths[0]->tuple.local;
	((struct sockaddr_in *)&extra.ss)->sin_addr.s_addr = htonl(0x7f000009u);
	assert_int_equal(mpq_conn_advertise_address(p.conn[PAIR_SERVER], &extra), 0);
	assert_int_equal(mpq_conn_advertise_address(p.conn[PAIR_CLIENT], &extra),
			 MPQ_ERR_INVALID_ARGUMENT);
	pair_run(&p, NULL, 100 * MPQ_MS);
	assert_int_equal(nannounced, 1);
	assert_int_equal(announced.len, extra.len);
	assert_memory_equal(&announced.ss, &extra.ss, extra.len);
	mpq_path t = p.conn[PAIR_CLIENT]->paths[0]->tuple;
	t.remote = announced;
	uint32_t pid;
	assert_int_equal(mpq_conn_open_path(p.conn[PAIR_CLIENT], &t, &pid), 0);
	pair_run(&p, NULL, 200 * MPQ_MS);
	assert_int_equal(p.conn[PAIR_SERVER]->paths[pid]->state, MPQ_PATH_ACTIVE);
	/* The server's side of the new path has its announced address as local. */
	assert_memory_equal(&p.conn[PAIR_SERVER]->paths[pid]->tuple.local.ss, &extra.ss,
			    extra.len);
	pair_free(&p);
}

static void add_address_needs_both_ends(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	nannounced = 0;
	struct pair_opts o = {.multipath = true, .add_address = true};
	memset(&a, 0, sizeof(a));
	a.reply_id = -1;
	o.app[0] = o.app[1] = &app_cb;
	o.app_state = &a;
	assert_int_equal(pair_init(&p, &o), 0);
	p.settings[1].add_address = false; /* the server does not offer it */
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	mpq_addr extra = p.conn[PAIR_SERVER]->paths[0]->tuple.local;
	assert_int_equal(mpq_conn_advertise_address(p.conn[PAIR_SERVER], &extra), 0);
	pair_run(&p, NULL, 100 * MPQ_MS);
	assert_int_equal(nannounced, 0); /* nothing was sent */
	assert_false(mpq_conn_get_error(p.conn[PAIR_CLIENT])->set);
	/* And one that comes anyway is a protocol violation. */
	mpq_frame fr = {.type = MPQ_FT_ADD_ADDRESS};
	fr.add_address.ip_version = MPQ_ADD_ADDRESS_IPV4;
	fr.add_address.port = 443;
	assert_true(mpq_conn_on_addr_frame(p.conn[PAIR_CLIENT], &fr, p.now) < 0);
	assert_int_equal(mpq_conn_get_error(p.conn[PAIR_CLIENT])->code, MPQ_TE_PROTOCOL_VIOLATION);
	pair_free(&p);
}

/* The path ID is in the nonce (draft-21 §5.1): a packet of path 1 opens only
 * as path 1, and the same packet number on two paths seals differently. */
static void nonce_carries_the_path_id(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	start(&p, &a, &(struct pair_opts){.multipath = true});
	open_second(&p);
	pair_run(&p, NULL, 200 * MPQ_MS);
	mpq_conn *c = p.conn[PAIR_CLIENT];
	c->paths[1]->probe = 1; /* makes the next datagram go on path 1 */
	uint8_t dgram[1500], copy[1500];
	mpq_path out;
	int n = mpq_conn_write_pkt(c, &out, NULL, dgram, sizeof(dgram), p.now);
	assert_true(n > 0);
	assert_true(is_second(&out, PAIR_CLIENT));
	mpq_crypto_keys *k = &c->paths[0]->ns.tx;
	int opened[2];
	for (uint32_t pid = 0; pid < 2; pid++) {
		memcpy(copy, dgram, (size_t)n);
		mpq_pkt_hd hd;
		uint8_t *payload;
		size_t plen;
		assert_int_equal(mpq_pkt_decode_hd(&hd, copy, (size_t)n, 8), 0);
		assert_true(mpq_cid_eq(&hd.dcid, mpq_cidset_current(c->peer_cids[1])));
		assert_int_equal(mpq_pkt_remove_hp(copy, &hd, k, -1), 0);
		opened[pid] = mpq_pkt_decrypt(copy, &hd, k, pid, &payload, &plen);
	}
	assert_int_equal(opened[0], MPQ_ERR_DECRYPT);
	assert_int_equal(opened[1], 0);
	pair_free(&p);
}

static void path_id_above_limit_is_a_violation(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	start(&p, &a, &(struct pair_opts){.multipath = true});
	mpq_frame fr = {.type = MPQ_FT_PATH_ABANDON};
	fr.path_abandon.path_id = 99;
	assert_true(mpq_conn_on_mp_frame(p.conn[PAIR_SERVER], &fr, p.now) < 0);
	assert_int_equal(mpq_conn_get_error(p.conn[PAIR_SERVER])->code, MPQ_TE_PROTOCOL_VIOLATION);
	pair_free(&p);
}

/* A frame of |type| naming path ID |pid| (with a sequence number of 1). */
static int named_frame(mpq_conn *c, uint64_t type, uint64_t pid, uint64_t now)
{
	static const mpq_cid dcid = {.len = 8};
	mpq_frame fr = {.type = type};
	switch (type) {
	case MPQ_FT_PATH_NEW_CONNECTION_ID:
		fr.new_cid.path_id = pid;
		fr.new_cid.seq = 1;
		fr.new_cid.cid = (mpq_cid){.len = 8, .data = {1, 2, 3, 4, 5, 6, 7, 8}};
		return mpq_conn_on_cid_frame(c, &fr, &dcid, now);
	case MPQ_FT_PATH_RETIRE_CONNECTION_ID:
		fr.retire_cid.path_id = pid;
		fr.retire_cid.seq = 1;
		return mpq_conn_on_cid_frame(c, &fr, &dcid, now);
	case MPQ_FT_PATH_CIDS_BLOCKED:
		fr.path_cids_blocked.path_id = pid;
		fr.path_cids_blocked.next_seq = 1;
		return mpq_conn_on_mp_frame(c, &fr, now);
	case MPQ_FT_PATH_ABANDON:
		fr.path_abandon.path_id = pid;
		return mpq_conn_on_mp_frame(c, &fr, now);
	default:
		fr.path_status.path_id = pid;
		fr.path_status.seq = 1;
		return mpq_conn_on_mp_frame(c, &fr, now);
	}
}

/* Path IDs near 2^32-1 (draft-21's largest): above our limit each frame that
 * names one is a violation; with the limit raised that far, an ID not in use
 * is ignored (its CIDs go to a free slot), and a PATH_CIDS_BLOCKED for CIDs
 * never issued is a violation. Nothing indexes past the 8 slots (ASan). */
static void large_path_ids(void **state)
{
	(void)state;
	static const uint64_t types[] = {
		MPQ_FT_PATH_ABANDON,	       MPQ_FT_PATH_STATUS_BACKUP,
		MPQ_FT_PATH_STATUS_AVAILABLE,  MPQ_FT_PATH_CIDS_BLOCKED,
		MPQ_FT_PATH_NEW_CONNECTION_ID, MPQ_FT_PATH_RETIRE_CONNECTION_ID,
	};
	struct conn_pair p;
	struct app a;
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		start(&p, &a, &(struct pair_opts){.multipath = true});
		mpq_conn *s = p.conn[PAIR_SERVER];
		assert_true(named_frame(s, types[t], UINT32_MAX, p.now) < 0);
		assert_int_equal(mpq_conn_get_error(s)->code, MPQ_TE_PROTOCOL_VIOLATION);
		pair_free(&p);

		start(&p, &a, &(struct pair_opts){.multipath = true});
		s = p.conn[PAIR_SERVER];
		s->local_max_path_id = UINT32_MAX; /* as if raised that far */
		int rv = named_frame(s, types[t], UINT32_MAX - 1, p.now);
		if (types[t] == MPQ_FT_PATH_CIDS_BLOCKED) {
			assert_true(rv < 0);
		} else {
			assert_int_equal(rv, 0);
			assert_false(mpq_conn_get_error(s)->set);
		}
		int slot = mpq_conn_slot_find(s, UINT32_MAX - 1);
		assert_true(types[t] == MPQ_FT_PATH_NEW_CONNECTION_ID ? slot > 0 : slot < 0);
		pair_free(&p);
	}
}

/* A PATH_ABANDON for a path ID whose CIDs we hold but on which no packet came
 * (the client gave up while validating): the ID is released at once, its slot
 * free for another ID and our limit one higher. */
static void abandon_of_unopened_path_id_releases_it(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	start(&p, &a, &(struct pair_opts){.multipath = true});
	mpq_conn *s = p.conn[PAIR_SERVER];
	uint32_t id = mpq_conn_max_path_id(s);
	int slot = mpq_conn_slot_find(s, id);
	assert_true(slot > 0);
	assert_int_equal(s->paths[slot]->state, MPQ_PATH_UNUSED);
	uint64_t limit = s->local_max_path_id;
	assert_int_equal(named_frame(s, MPQ_FT_PATH_ABANDON, id, p.now), 0);
	assert_false(mpq_conn_get_error(s)->set);
	assert_true(s->paths[slot]->released);
	assert_int_equal(s->pathids_released, 1);
	assert_int_equal(s->local_max_path_id, limit + 1);
	pair_free(&p);
}

static int path_id_frame(struct conn_pair *p, uint64_t type, uint64_t value)
{
	mpq_frame fr = {.type = type};
	fr.max_path_id.max = value;
	return mpq_conn_on_mp_frame(p->conn[PAIR_SERVER], &fr, p->now);
}

/* The limits' rules (draft-21): PATHS_BLOCKED at our limit with no path
 * closed moves nothing (the limit is the application's), below it gets our
 * MAX_PATH_ID again, above it is a violation; a MAX_PATH_ID that does not
 * raise the peer's limit is ignored, one under its initial_max_path_id is a
 * violation. */
static void path_id_limit_frames(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	start(&p, &a, &(struct pair_opts){.multipath = true});
	mpq_conn *s = p.conn[PAIR_SERVER];
	uint64_t ours = s->local_max_path_id;
	assert_int_equal(ours, s->local_tp.initial_max_path_id);
	assert_int_equal(path_id_frame(&p, MPQ_FT_PATHS_BLOCKED, ours), 0);
	assert_int_equal(s->local_max_path_id, ours);
	assert_false(s->max_path_id_pending);
	s->local_max_path_id = ours + 1; /* as if raised before */
	assert_int_equal(path_id_frame(&p, MPQ_FT_PATHS_BLOCKED, ours), 0);
	assert_true(s->max_path_id_pending);
	uint64_t theirs = s->peer_max_path_id;
	assert_int_equal(path_id_frame(&p, MPQ_FT_MAX_PATH_ID, theirs + 2), 0);
	assert_int_equal(s->peer_max_path_id, theirs + 2);
	assert_int_equal(path_id_frame(&p, MPQ_FT_MAX_PATH_ID, theirs + 1), 0);
	assert_int_equal(s->peer_max_path_id, theirs + 2);
	assert_true(path_id_frame(&p, MPQ_FT_PATHS_BLOCKED, ours + 2) < 0);
	assert_int_equal(mpq_conn_get_error(s)->code, MPQ_TE_PROTOCOL_VIOLATION);
	pair_free(&p);
	start(&p, &a, &(struct pair_opts){.multipath = true});
	assert_true(path_id_frame(&p, MPQ_FT_MAX_PATH_ID,
				  p.conn[PAIR_SERVER]->peer_tp.initial_max_path_id - 1) < 0);
	assert_int_equal(mpq_conn_get_error(p.conn[PAIR_SERVER])->code, MPQ_TE_PROTOCOL_VIOLATION);
	pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(negotiation_and_cids),
		cmocka_unit_test(slots_unallocated_path0_only),
		cmocka_unit_test(cids_of_every_path_id_with_handshake_done),
		cmocka_unit_test(ack_of_1rtt_confirms_client),
		cmocka_unit_test(one_side_without_multipath_is_single_path),
		cmocka_unit_test(two_paths_rr),
		cmocka_unit_test(two_paths_minrtt),
		cmocka_unit_test(redundant_sends_everything_twice),
		cmocka_unit_test(qlog_names_paths),
		cmocka_unit_test(key_updates_across_paths),
		cmocka_unit_test(key_updates_without_path_zero),
		cmocka_unit_test(path_killed_mid_transfer),
		cmocka_unit_test(receiver_fails_silent_path),
		cmocka_unit_test(abandon_both_ways_releases_state),
		cmocka_unit_test(backup_path_only_when_needed),
		cmocka_unit_test(backup_path_probe_carries_no_data),
		cmocka_unit_test(path_id_above_limit_is_a_violation),
		cmocka_unit_test(path_id_limit_frames),
		cmocka_unit_test(large_path_ids),
		cmocka_unit_test(abandon_of_unopened_path_id_releases_it),
		cmocka_unit_test(nonce_carries_the_path_id),
		cmocka_unit_test(advertised_address_gets_a_path),
		cmocka_unit_test(add_address_needs_both_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
