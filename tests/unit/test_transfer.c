/*
 * Stream data over an in-memory client/server pair: byte-exact transfers both
 * ways, flow control blocking and unblocking, loss, stream reset and
 * STOP_SENDING, and stream limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conn_pair.h"
#include "quic/conn.h"

#define LIMIT (120 * MPQ_SEC)

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 31 + (i >> 8));
}

/* One side's sender and receiver of a single stream each way. */
struct side {
	int64_t send_id;
	uint64_t to_send;
	uint64_t written;
	bool fin_written;
	uint64_t received;
	bool fin_received;
	bool corrupt;
	bool out_of_order;
	uint64_t reply;		/* server: bytes to answer with once the request ends */
	uint64_t first_written; /* server: what the request's turn took of it */
	uint64_t reset_code;
	bool got_reset, got_stop, closed;
	uint64_t stop_after; /* receiver asks the peer to stop after this many bytes */
	unsigned validated;  /* path_validated calls */
	uint32_t validated_path;
	mpq_path validated_tuple; /* of the last one */
};

struct app {
	struct side side[2];
};

static int side_of(struct conn_pair *p, mpq_conn *c)
{
	return c == p->conn[PAIR_SERVER] ? PAIR_SERVER : PAIR_CLIENT;
}

static void pump(mpq_conn *c, struct side *s)
{
	while (s->send_id >= 0 && !s->fin_written) {
		uint8_t buf[16384];
		size_t n = sizeof(buf);
		if (n > s->to_send - s->written)
			n = (size_t)(s->to_send - s->written);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(s->written + i);
		bool fin = s->written + n == s->to_send;
		int64_t took = mpq_conn_stream_write(c, s->send_id, buf, n, fin);
		if (took < 0)
			return;
		s->written += (uint64_t)took;
		if ((size_t)took == n && fin)
			s->fin_written = true;
		if ((size_t)took < n || took == 0)
			return;
	}
}

static int on_data(mpq_conn *c, int64_t id, uint64_t off, const uint8_t *d, size_t len, bool fin,
		   void *ud)
{
	struct conn_pair *p = ud;
	struct app *a = p->app;
	int me = side_of(p, c);
	struct side *s = &a->side[me];
	if (off != s->received)
		s->out_of_order = true;
	for (size_t i = 0; i < len; i++)
		if (d[i] != pattern(off + i))
			s->corrupt = true;
	s->received = off + len;
	if (s->stop_after && s->received >= s->stop_after && !s->fin_received) {
		mpq_conn_stream_stop_sending(c, id, 77);
		s->stop_after = 0;
	}
	if (fin) {
		s->fin_received = true;
		if (me == PAIR_SERVER && s->reply) {
			s->send_id = id;
			s->to_send = s->reply;
			pump(c, s);
			s->first_written = s->written;
		}
	}
	return 0;
}

static int on_writable(mpq_conn *c, int64_t id, void *ud)
{
	struct conn_pair *p = ud;
	struct app *a = p->app;
	pump(c, &a->side[side_of(p, c)]);
	return 0;
}

static int on_reset(mpq_conn *c, int64_t id, uint64_t code, void *ud)
{
	struct conn_pair *p = ud;
	struct side *s = &((struct app *)p->app)->side[side_of(p, c)];
	s->got_reset = true;
	s->reset_code = code;
	return 0;
}

static int on_stop(mpq_conn *c, int64_t id, uint64_t code, void *ud)
{
	struct conn_pair *p = ud;
	struct side *s = &((struct app *)p->app)->side[side_of(p, c)];
	s->got_stop = true;
	s->reset_code = code;
	return 0;
}

static int on_closed(mpq_conn *c, int64_t id, void *ud)
{
	struct conn_pair *p = ud;
	((struct app *)p->app)->side[side_of(p, c)].closed = true;
	return 0;
}

static void on_path_validated(mpq_conn *c, uint32_t path_id, const mpq_path *tuple, void *ud)
{
	struct conn_pair *p = ud;
	struct side *s = &((struct app *)p->app)->side[side_of(p, c)];
	s->validated++;
	s->validated_path = path_id;
	s->validated_tuple = *tuple;
}

static const mpq_callbacks app_cb = {
	.struct_version = MPQ_CALLBACKS_VERSION,
	.path_validated = on_path_validated,
	.stream_data = on_data,
	.stream_writable = on_writable,
	.stream_reset = on_reset,
	.stream_stop_sending = on_stop,
	.stream_closed = on_closed,
};

static bool transfer_done(struct conn_pair *p)
{
	struct app *a = p->app;
	return a->side[PAIR_SERVER].fin_received &&
	       (!a->side[PAIR_SERVER].reply || a->side[PAIR_CLIENT].fin_received);
}

/* The handshake, then the client sends |up| bytes on a new stream and the
 * server answers |down| bytes: until both are through. */
static void request_reply(struct conn_pair *p, struct app *a, struct pair_opts *o, uint64_t up,
			  uint64_t down)
{
	memset(a, 0, sizeof(*a));
	a->side[0].send_id = a->side[1].send_id = -1;
	a->side[PAIR_SERVER].reply = down;
	o->app[0] = o->app[1] = &app_cb;
	o->app_state = a;
	assert_int_equal(pair_init(p, o), 0);
	assert_true(pair_run(p, pair_both_complete, LIMIT));
	struct side *c = &a->side[PAIR_CLIENT];
	assert_int_equal(mpq_conn_open_stream(p->conn[0], true, &c->send_id), 0);
	assert_int_equal(c->send_id, 0);
	c->to_send = up;
	pump(p->conn[0], c);
	assert_true(pair_run(p, transfer_done, LIMIT));
}

/* Client sends |up| bytes on a new stream; the server answers |down| bytes.
 * Returns the server's key updates. */
static uint64_t run_transfer(struct pair_opts *o, uint64_t up, uint64_t down)
{
	struct conn_pair p;
	struct app a;
	request_reply(&p, &a, o, up, down);
	assert_int_equal(a.side[PAIR_SERVER].received, up);
	assert_false(a.side[PAIR_SERVER].corrupt);
	assert_false(a.side[PAIR_SERVER].out_of_order);
	assert_int_equal(a.side[PAIR_CLIENT].received, down);
	assert_false(a.side[PAIR_CLIENT].corrupt);
	assert_false(a.side[PAIR_CLIENT].out_of_order);
	/* Let the last ACKs through: both ends then forget the stream. */
	pair_run(&p, NULL, 2 * MPQ_SEC);
	assert_true(a.side[PAIR_CLIENT].closed);
	assert_true(a.side[PAIR_SERVER].closed);
	mpq_conn_stats st;
	mpq_conn_get_stats(p.conn[1], &st);
	pair_free(&p);
	return st.key_updates;
}

static void transfer_both_ways(void **state)
{
	(void)state;
	run_transfer(&(struct pair_opts){0}, 1000000, 3000000);
}

/* A server answering a request with more than its windows allow at once:
 * the turn that reads the request copies in no more than the first flight's
 * allowance (64 KiB), not the 1 MiB a stream may run ahead of the wire later,
 * so its first packets do not wait for a megabyte to be copied; the rest
 * follows as stream_writable asks, byte-exact. */
static void answer_starts_small(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	request_reply(&p, &a,
		      &(struct pair_opts){.max_data = 16 << 20, .max_stream_data = 16 << 20}, 100,
		      4000000);
	struct side *c = &a.side[PAIR_CLIENT];
	assert_true(a.side[PAIR_SERVER].first_written > 0);
	assert_true(a.side[PAIR_SERVER].first_written <= 64 * 1024);
	assert_int_equal(c->received, 4000000);
	assert_false(c->corrupt);
	assert_false(c->out_of_order);
	pair_free(&p);
}

static void transfer_flow_control_limited(void **state)
{
	(void)state;
	/* Windows far below the transfer size: the sender blocks and is unblocked
	 * by MAX_DATA / MAX_STREAM_DATA many times. */
	run_transfer(&(struct pair_opts){.max_data = 20000, .max_stream_data = 10000}, 300000,
		     500000);
}

static bool drop_random(struct conn_pair *p, int from, size_t index, size_t flight,
			const uint8_t *d, size_t len)
{
	(void)p;
	(void)flight;
	(void)d;
	(void)len;
	/* Deterministic 10 % loss, both ways, after the handshake's first datagrams. */
	uint64_t h = (index * 2 + (uint64_t)from + 1) * 0x9e3779b97f4a7c15ULL;
	return index > 4 && (h >> 56) < 26;
}

static void transfer_with_loss(void **state)
{
	(void)state;
	run_transfer(&(struct pair_opts){.drop = drop_random}, 500000, 2000000);
	run_transfer(&(struct pair_opts){.drop = drop_random, .cc = "newreno"}, 200000, 1000000);
}

static void nat_rebinding_mid_transfer(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	request_reply(&p, &a, &(struct pair_opts){.rebind_after = 40}, 1000, 3000000);
	assert_int_equal(a.side[PAIR_CLIENT].received, 3000000);
	assert_false(a.side[PAIR_CLIENT].corrupt);
	/* The server followed the client to its new port and validated it. */
	mpq_conn *s = p.conn[PAIR_SERVER];
	mpq_conn_stats st;
	mpq_conn_get_stats(s, &st);
	assert_int_equal(st.migrations, 1);
	assert_true(s->paths[0]->validated);
	assert_false(s->paths[0]->migrating);
	const struct sockaddr_in *in = (const struct sockaddr_in *)&s->paths[0]->tuple.remote.ss;
	assert_int_equal(ntohs(in->sin_port), 40001);
	/* It said so once, with path 0 and the new address (path_validated). */
	assert_int_equal(a.side[PAIR_SERVER].validated, 1);
	assert_int_equal(a.side[PAIR_SERVER].validated_path, 0);
	in = (const struct sockaddr_in *)&a.side[PAIR_SERVER].validated_tuple.remote.ss;
	assert_int_equal(ntohs(in->sin_port), 40001);
	assert_int_equal(a.side[PAIR_CLIENT].validated, 0);
	pair_free(&p);
}

/*
 * NAT rebinding seen in one small datagram: picoquicdemo -f 1 sends one ACK
 * from its new port and waits. The server must challenge the new address at
 * once, within 3x that datagram. Failed before: the server counted the
 * datagram, then started the new address's budget at 0, so it never sent
 * there and the connection died idle.
 */
static void nat_rebinding_one_datagram(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	memset(&a, 0, sizeof(a));
	a.side[0].send_id = a.side[1].send_id = -1;
	struct pair_opts o = {.app = {&app_cb, &app_cb}, .app_state = &a};
	assert_int_equal(pair_init(&p, &o), 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	pair_run(&p, NULL, 50 * MPQ_MS);
	mpq_conn *c = p.conn[PAIR_CLIENT], *s = p.conn[PAIR_SERVER];
	int64_t id;
	assert_int_equal(mpq_conn_open_stream(c, true, &id), 0);
	assert_int_equal(mpq_conn_stream_write(c, id, (const uint8_t *)"GET", 3, true), 3);
	uint8_t buf[PAIR_DGRAM_MAX];
	mpq_path out;
	int n = mpq_conn_write_pkt(c, &out, NULL, buf, sizeof(buf), p.now);
	assert_true(n > 0 && n < 200);
	mpq_path from = s->paths[0]->tuple;
	((struct sockaddr_in *)&from.remote.ss)->sin_port = htons(40001);
	assert_int_equal(mpq_conn_read_pkt(s, &from, NULL, buf, (size_t)n, p.now), 0);
	int m = mpq_conn_write_pkt(s, &out, NULL, buf, sizeof(buf), p.now);
	assert_true(m > 0 && m <= 3 * n);
	assert_int_equal(ntohs(((struct sockaddr_in *)&out.remote.ss)->sin_port), 40001);
	assert_false(s->paths[0]->challenge_pending); /* the challenge went in it */
	pair_free(&p);
}

/* Client datagrams kept for a replay once the handshake is done: the first
 * short-header one with a packet number of two bytes or more (one byte only
 * decodes within 128 of the largest received), and the latest. After the
 * first, every other one is lost until the server's received packet numbers
 * have more gaps than an ACK keeps ranges (64). */
static struct {
	bool armed;
	uint8_t first[PAIR_DGRAM_MAX], last[PAIR_DGRAM_MAX];
	size_t first_len, last_len;
	size_t gaps;
} replay;

static bool drop_for_replay(struct conn_pair *p, int from, size_t index, size_t flight,
			    const uint8_t *d, size_t len)
{
	(void)flight;
	if (!replay.armed || from != PAIR_CLIENT || (d[0] & 0x80))
		return false;
	if (!replay.first_len) {
		const mpq_pktns *ns = &p->conn[PAIR_CLIENT]->paths[0]->ns;
		if (mpq_pkt_pn_len(ns->next_pn - 1, ns->largest_acked) >= 2) {
			memcpy(replay.first, d, len);
			replay.first_len = len;
		}
		return false;
	}
	if (replay.gaps < 80 && index % 2 == 0) {
		replay.gaps++;
		return true;
	}
	memcpy(replay.last, d, len);
	replay.last_len = len;
	return false;
}

static uint64_t packets_received(mpq_conn *c)
{
	mpq_conn_stats st;
	mpq_conn_get_stats(c, &st);
	return st.packets_received;
}

static bool nothing_to_server(struct conn_pair *p)
{
	return p->queued[PAIR_SERVER] == 0;
}

/* RFC 9000 §12.3: a packet delivered again is not processed again, however
 * many gaps came after it. */
static void replayed_packet_not_processed_twice(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	memset(&a, 0, sizeof(a));
	memset(&replay, 0, sizeof(replay));
	a.side[0].send_id = a.side[1].send_id = -1;
	struct pair_opts o = {.app = {&app_cb, &app_cb}, .app_state = &a, .drop = drop_for_replay};
	assert_int_equal(pair_init(&p, &o), 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	replay.armed = true;
	struct side *c = &a.side[PAIR_CLIENT];
	assert_int_equal(mpq_conn_open_stream(p.conn[0], true, &c->send_id), 0);
	c->to_send = 1000000;
	pump(p.conn[0], c);
	assert_true(pair_run(&p, transfer_done, LIMIT));
	/* The latest datagram kept may still be on its way: a replay is a second copy. */
	assert_true(pair_run(&p, nothing_to_server, LIMIT));
	assert_int_equal(replay.gaps, 80);
	assert_true(replay.first_len && replay.last_len);
	mpq_conn *s = p.conn[PAIR_SERVER];
	uint64_t before = packets_received(s);
	assert_int_equal(pair_inject(&p, PAIR_SERVER, replay.first, replay.first_len), 0);
	assert_int_equal(packets_received(s), before);
	assert_int_equal(pair_inject(&p, PAIR_SERVER, replay.last, replay.last_len), 0);
	assert_int_equal(packets_received(s), before);
	assert_null(mpq_conn_get_error(s)->set ? "closed" : NULL);
	pair_free(&p);
}

static void transfer_with_key_updates(void **state)
{
	(void)state;
	/* The server starts a key update every 300 packets; the client follows each. */
	uint64_t n = run_transfer(&(struct pair_opts){.key_update_interval = {0, 300}}, 200000,
				  4000000);
	assert_true(n >= 5);
	/* And with loss, so packets of the old phase arrive late. */
	n = run_transfer(&(struct pair_opts){.drop = drop_random,
					     .key_update_interval = {200, 300}},
			 500000, 2000000);
	assert_true(n >= 3);
}

/* The most packets the server protected with one 1-RTT key, looked at after
 * each datagram it sends. */
static uint64_t most_sealed;

static bool watch_sealed(struct conn_pair *p, int from, size_t index, size_t flight,
			 const uint8_t *d, size_t len)
{
	(void)index;
	(void)flight;
	(void)d;
	(void)len;
	uint64_t n = p->conn[PAIR_SERVER] ? p->conn[PAIR_SERVER]->paths[0]->ns.tx.sealed : 0;
	if (from == PAIR_SERVER && n > most_sealed)
		most_sealed = n;
	return false;
}

/* RFC 9001 §6.6: with no update interval set, the server's confidentiality
 * limit of 2000 packets alone makes it update its keys, each time before a
 * key protected 2000 packets, and the transfer goes on. (The limit is set
 * above the congestion window: the next update waits for an ACK of the new
 * phase, and a window's worth of packets goes out meanwhile.) */
static void key_update_before_confidentiality_limit(void **state)
{
	(void)state;
	most_sealed = 0;
	uint64_t n = run_transfer(&(struct pair_opts){.drop = watch_sealed,
						      .aead_confidentiality_limit = {0, 2000}},
				  10000, 8000000);
	assert_true(n >= 3);
	assert_true(most_sealed > 0 && most_sealed < 2000);
}

/* A limit of 16 packets, below the congestion window: after the first
 * update, a window's worth of packets goes out before the new phase can be
 * acknowledged, so no second update can start in time. The server closes
 * with AEAD_LIMIT_REACHED, never protecting more than 16 packets with a key,
 * and the client learns why. */
static void confidentiality_limit_closes_without_update(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	memset(&a, 0, sizeof(a));
	a.side[0].send_id = a.side[1].send_id = -1;
	a.side[PAIR_SERVER].reply = 1000000;
	most_sealed = 0;
	struct pair_opts o = {.app = {&app_cb, &app_cb},
			      .app_state = &a,
			      .drop = watch_sealed,
			      .aead_confidentiality_limit = {0, 16}};
	assert_int_equal(pair_init(&p, &o), 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	struct side *c = &a.side[PAIR_CLIENT];
	assert_int_equal(mpq_conn_open_stream(p.conn[0], true, &c->send_id), 0);
	c->to_send = 100;
	pump(p.conn[0], c);
	assert_false(pair_run(&p, transfer_done, 5 * MPQ_SEC));
	const mpq_conn_error *e = mpq_conn_get_error(p.conn[PAIR_SERVER]);
	assert_int_equal(e->cause, MPQ_CLOSE_LOCAL_ERROR);
	assert_int_equal(e->code, MPQ_TE_AEAD_LIMIT_REACHED);
	assert_true(most_sealed <= 16);
	assert_int_equal(p.conn[PAIR_SERVER]->kp.updates, 1);
	e = mpq_conn_get_error(p.conn[PAIR_CLIENT]);
	assert_int_equal(e->cause, MPQ_CLOSE_PEER);
	assert_int_equal(e->code, MPQ_TE_AEAD_LIMIT_REACHED);
	pair_free(&p);
}

/* The latest short-header datagram the client sent. */
static struct {
	uint8_t d[PAIR_DGRAM_MAX];
	size_t len;
} kept;

static bool keep_client_1rtt(struct conn_pair *p, int from, size_t index, size_t flight,
			     const uint8_t *d, size_t len)
{
	(void)p;
	(void)index;
	(void)flight;
	if (from == PAIR_CLIENT && !(d[0] & 0x80)) {
		memcpy(kept.d, d, len);
		kept.len = len;
	}
	return false;
}

/* RFC 9001 §6.6: past the integrity limit (5 here) of packets failing
 * authentication, the server closes with AEAD_LIMIT_REACHED and the client
 * learns it. */
static void integrity_limit_closes(void **state)
{
	(void)state;
	struct conn_pair p;
	memset(&kept, 0, sizeof(kept));
	assert_int_equal(pair_init(&p, &(struct pair_opts){.drop = keep_client_1rtt,
							   .aead_integrity_limit = {0, 5}}),
			 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	pair_run(&p, NULL, MPQ_SEC);
	assert_true(kept.len > 0);
	kept.d[kept.len - 1] ^= 1; /* the tag no longer verifies */
	for (int i = 0; i < 5; i++)
		assert_int_equal(pair_inject(&p, PAIR_SERVER, kept.d, kept.len), 0);
	assert_false(mpq_conn_get_error(p.conn[PAIR_SERVER])->set);
	assert_int_equal(pair_inject(&p, PAIR_SERVER, kept.d, kept.len), MPQ_ERR_AEAD_LIMIT);
	assert_int_equal(mpq_conn_get_error(p.conn[PAIR_SERVER])->code, MPQ_TE_AEAD_LIMIT_REACHED);
	pair_run(&p, NULL, MPQ_SEC);
	const mpq_conn_error *e = mpq_conn_get_error(p.conn[PAIR_CLIENT]);
	assert_true(e->remote);
	assert_int_equal(e->cause, MPQ_CLOSE_PEER);
	assert_int_equal(e->code, MPQ_TE_AEAD_LIMIT_REACHED);
	pair_free(&p);
}

/* Runs python3 over every record of a qlog file (zstd-compressed when the name
 * says so) and checks the events named in |must_have| are there and no event
 * is stamped earlier than the one before it. */
static void check_qlog(const char *path, bool zstd, const char *must_have)
{
	char cmd[4096], out[512] = "";
	snprintf(cmd, sizeof(cmd),
		 "%s '%s' | python3 -c '"
		 "import sys, json\n"
		 "data = sys.stdin.buffer.read().split(b\"\\x1e\")\n"
		 "assert data[0] == b\"\"\n"
		 "recs = [json.loads(r) for r in data[1:]]\n"
		 "assert all(r.endswith(b\"\\n\") for r in data[1:])\n"
		 "assert recs[0][\"file_schema\"] == \"urn:ietf:params:qlog:file:sequential\"\n"
		 "names = set(r[\"name\"] for r in recs[1:])\n"
		 "need = set(sys.argv[1].split(\",\"))\n"
		 "t = [r[\"time\"] for r in recs[1:]]\n"
		 "back = [(r[\"name\"], r[\"time\"]) for r, a, b in zip(recs[2:], t, t[1:]) if b "
		 "< a]\n"
		 "print(\"OK\", len(recs), sorted(need - names), \"backwards\", back[:3])\n"
		 "' %s",
		 zstd ? "zstd -dc" : "cat", path, must_have);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, sizeof(out), f));
	assert_int_equal(pclose(f), 0);
	/* Every required event name was present, and time never went back. */
	if (!strstr(out, "OK ") || !strstr(out, " [] backwards []"))
		fail_msg("%s: %s", path, out);
}

static void qlog_traces_parse(void **state)
{
	(void)state;
	char dir[] = "/tmp/mpq-qlog-XXXXXX";
	assert_non_null(mkdtemp(dir));
	run_transfer(&(struct pair_opts){.drop = drop_random,
					 .qlog_dir = dir,
					 .key_update_interval = {0, 300}},
		     100000, 1000000);
	char cmd[256], line[512];
	snprintf(cmd, sizeof(cmd), "ls %s", dir);
	FILE *ls = popen(cmd, "r");
	int client = 0, server = 0;
	const char *events = "quic:connection_started,quic:parameters_set,quic:packet_sent,"
			     "quic:packet_received,quic:packet_lost,quic:recovery_metrics_updated,"
			     "quic:congestion_state_updated,quic:key_updated,quic:key_discarded";
	while (fgets(line, sizeof(line), ls)) {
		line[strcspn(line, "\n")] = 0;
		char path[600];
		snprintf(path, sizeof(path), "%s/%s", dir, line);
		bool zstd = strstr(line, ".zst") != NULL;
		client += strstr(line, "_client.sqlog") != NULL;
		server += strstr(line, "_server.sqlog.zst") != NULL;
		check_qlog(path, zstd, events);
		unlink(path);
	}
	pclose(ls);
	rmdir(dir);
	assert_int_equal(client, 1);
	assert_int_equal(server, 1);
}

static void stop_sending_resets_stream(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	memset(&a, 0, sizeof(a));
	a.side[0].send_id = a.side[1].send_id = -1;
	a.side[PAIR_SERVER].stop_after = 100000;
	struct pair_opts o = {.app = {&app_cb, &app_cb}, .app_state = &a};
	assert_int_equal(pair_init(&p, &o), 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	struct side *c = &a.side[PAIR_CLIENT];
	assert_int_equal(mpq_conn_open_stream(p.conn[0], true, &c->send_id), 0);
	c->to_send = 10000000;
	pump(p.conn[0], c);
	pair_run(&p, NULL, 5 * MPQ_SEC);
	/* The client was asked to stop with code 77 and reset its side with it. */
	assert_true(c->got_stop);
	assert_int_equal(c->reset_code, 77);
	assert_true(a.side[PAIR_SERVER].got_reset);
	assert_int_equal(a.side[PAIR_SERVER].reset_code, 77);
	assert_false(a.side[PAIR_SERVER].fin_received);
	assert_true(a.side[PAIR_SERVER].received < 10000000);
	assert_false(a.side[PAIR_SERVER].corrupt);
	assert_null(mpq_conn_get_error(p.conn[0])->set ? "closed" : NULL);
	pair_free(&p);
}

/* The initiator and trigger of each quic:connection_closed in the trace of
 * |vantage| ("client", "server") in |dir|, as "initiator:trigger ...". */
static void closed_events(const char *dir, const char *vantage, char *out, size_t outlen)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "zstd -dcf %s/*_%s.sqlog* | python3 -c '"
		 "import sys, json\n"
		 "recs = [json.loads(r) for r in sys.stdin.buffer.read().split(b\"\\x1e\")[1:]]\n"
		 "print(\" \".join(r[\"data\"].get(\"initiator\", \"-\") + \":\" +"
		 " r[\"data\"].get(\"trigger\", \"-\") for r in recs"
		 " if r.get(\"name\") == \"quic:connection_closed\"))\n'",
		 dir, vantage);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	out[0] = 0;
	assert_non_null(fgets(out, (int)outlen, f));
	assert_int_equal(pclose(f), 0);
	out[strcspn(out, "\n")] = 0;
}

static void remove_dir(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Side |closer| closes after the handshake, with an application error or a
 * transport one; both ends record the cause, and their traces say
 * "local:<trigger>" and "remote:<trigger>". The reasons start with "s",
 * which once made a peer's close look like a stateless reset. */
static void close_and_trace(int closer, bool app, const char *trigger)
{
	struct conn_pair p;
	char dir[] = "/tmp/mpq-close-XXXXXX", ev[256], want[64];
	static const char *const vantage[2] = {"client", "server"};
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pair_init(&p, &(struct pair_opts){.qlog_dir = dir}), 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	if (app)
		mpq_conn_close(p.conn[closer], 0x42, "shutting down", p.now);
	else
		mpq_conn_close_transport(p.conn[closer], MPQ_TE_PROTOCOL_VIOLATION, 0, "stateful",
					 p.now);
	pair_run(&p, NULL, 5 * MPQ_SEC);
	const mpq_conn_error *e = mpq_conn_get_error(p.conn[!closer]);
	assert_true(e->set);
	assert_true(e->remote);
	assert_int_equal(e->app, app);
	assert_int_equal(e->code, app ? 0x42 : MPQ_TE_PROTOCOL_VIOLATION);
	assert_string_equal(e->reason, app ? "shutting down" : "stateful");
	assert_int_equal(e->cause, MPQ_CLOSE_PEER);
	assert_int_equal(mpq_conn_get_error(p.conn[closer])->cause,
			 app ? MPQ_CLOSE_LOCAL_APP : MPQ_CLOSE_LOCAL_ERROR);
	assert_int_equal(p.last_read_rv[!closer], MPQ_ERR_DRAINING);
	/* Both ends end their closing and draining periods. */
	assert_int_equal(p.last_expiry_rv[closer], MPQ_ERR_CLOSING);
	assert_int_equal(p.last_expiry_rv[!closer], MPQ_ERR_DRAINING);
	pair_free(&p);
	closed_events(dir, vantage[closer], ev, sizeof(ev));
	snprintf(want, sizeof(want), "local:%s", trigger);
	assert_string_equal(ev, want);
	closed_events(dir, vantage[!closer], ev, sizeof(ev));
	snprintf(want, sizeof(want), "remote:%s", trigger);
	assert_string_equal(ev, want);
	remove_dir(dir);
}

static void application_close_reaches_peer(void **state)
{
	(void)state;
	close_and_trace(PAIR_CLIENT, true, "application");
}

static void transport_close_reaches_peer(void **state)
{
	(void)state;
	close_and_trace(PAIR_SERVER, false, "error");
}

/* A data sender's packets carry an ACK only when a packet came since its last
 * one: in a 2 MB download the server receives the client's ACKs and sends
 * some 1400 packets, and reports what it received no more often than packets
 * arrive (it once put an ACK in every packet, 10 bytes of each). */
static void acks_only_with_news(void **state)
{
	(void)state;
	char dir[] = "/tmp/mpq-acks-XXXXXX", cmd[1024], out[128] = "";
	assert_non_null(mkdtemp(dir));
	run_transfer(&(struct pair_opts){.qlog_dir = dir}, 100, 2000000);
	snprintf(cmd, sizeof(cmd),
		 "zstd -dcf %s/*_server.sqlog* | python3 -c '"
		 "import sys, json\n"
		 "recs = [json.loads(r) for r in sys.stdin.buffer.read().split(b\"\\x1e\")[1:]]\n"
		 "one = [r for r in recs if r.get(\"data\", {}).get(\"header\", {})"
		 ".get(\"packet_type\") == \"1RTT\"]\n"
		 "sent = [r for r in one if r[\"name\"] == \"quic:packet_sent\"]\n"
		 "acks = [r for r in sent if any(f[\"frame_type\"] in (\"ack\", \"path_ack\")"
		 " for f in r[\"data\"].get(\"frames\", []))]\n"
		 "print(len(sent), len(acks), sum(r[\"name\"] == \"quic:packet_received\" for r "
		 "in "
		 "one))\n'",
		 dir);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, sizeof(out), f));
	assert_int_equal(pclose(f), 0);
	remove_dir(dir);
	unsigned sent = 0, acks = 0, received = 0;
	assert_int_equal(sscanf(out, "%u %u %u", &sent, &acks, &received), 3);
	print_message("server: %u 1-RTT packets sent, %u with an ACK, %u received\n", sent, acks,
		      received);
	assert_true(sent > 1000);
	assert_true(acks >= 1);
	assert_true(acks <= received);
}

static void stream_limit_enforced_and_raised(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a;
	memset(&a, 0, sizeof(a));
	struct pair_opts o = {.app = {&app_cb, &app_cb}, .app_state = &a};
	assert_int_equal(pair_init(&p, &o), 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	/* The server allows the client 10 unidirectional streams. */
	int64_t id;
	for (int i = 0; i < 10; i++) {
		assert_int_equal(mpq_conn_open_stream(p.conn[0], false, &id), 0);
		assert_int_equal(mpq_conn_stream_write(p.conn[0], id, (const uint8_t *)"x", 1,
						       true),
				 1);
	}
	assert_int_equal(mpq_conn_open_stream(p.conn[0], false, &id), MPQ_ERR_STREAM_LIMIT);
	/* Once the server has read them all, it grants more with MAX_STREAMS. */
	pair_run(&p, NULL, 2 * MPQ_SEC);
	assert_int_equal(mpq_conn_open_stream(p.conn[0], false, &id), 0);
	assert_int_equal(id, 2 + 4 * 10);
	/* A stream the client may not send on is refused. */
	assert_int_equal(mpq_conn_stream_write(p.conn[0], 3, (const uint8_t *)"x", 1, false),
			 MPQ_ERR_NOT_FOUND);
	pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transfer_both_ways),
		cmocka_unit_test(transfer_flow_control_limited),
		cmocka_unit_test(answer_starts_small),
		cmocka_unit_test(transfer_with_loss),
		cmocka_unit_test(transfer_with_key_updates),
		cmocka_unit_test(replayed_packet_not_processed_twice),
		cmocka_unit_test(key_update_before_confidentiality_limit),
		cmocka_unit_test(confidentiality_limit_closes_without_update),
		cmocka_unit_test(integrity_limit_closes),
		cmocka_unit_test(qlog_traces_parse),
		cmocka_unit_test(nat_rebinding_mid_transfer),
		cmocka_unit_test(nat_rebinding_one_datagram),
		cmocka_unit_test(acks_only_with_news),
		cmocka_unit_test(stop_sending_resets_stream),
		cmocka_unit_test(stream_limit_enforced_and_raised),
		cmocka_unit_test(application_close_reaches_peer),
		cmocka_unit_test(transport_close_reaches_peer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
