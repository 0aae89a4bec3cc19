/*
 * Limits against a hostile peer (DESIGN.md rule 2): an established pair, then
 * correctly protected 1-RTT packets from the client carrying the patterns a
 * hostile peer sends -- probes from other addresses, PATH_CHALLENGE floods,
 * streams past MAX_STREAMS, ACKs of packets never sent, CIDs past the limit,
 * Retire Prior To churn, CRYPTO data far ahead -- each checked against a
 * bound: bytes sent, frames queued, the error the connection closes with.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conn_pair.h"
#include "forge.h"
#include "quic/conn.h"
#include "quic/packet.h"

#define LIMIT (60 * MPQ_SEC)

static void start_with(struct conn_pair *p, struct pair_opts *o)
{
	assert_int_equal(pair_init(p, o), 0);
	assert_true(pair_run(p, pair_both_complete, LIMIT));
	pair_run(p, NULL, 50 * MPQ_MS); /* HANDSHAKE_DONE, CIDs, ACKs */
}

static void start(struct conn_pair *p, bool multipath)
{
	start_with(p, &(struct pair_opts){.multipath = multipath});
}

/* A 1-RTT packet from the client on path 0 carrying |frames|, as seen by the
 * server coming from |from| (NULL: the client's address). Returns its length
 * and mpq_conn_read_pkt's result in |*rv|. */
static size_t client_sends(struct conn_pair *p, const mpq_frame *frames, size_t n,
			   const mpq_path *from, int *rv)
{
	mpq_conn *c = p->conn[PAIR_CLIENT];
	uint8_t payload[1400], out[1500];
	mpq_writer fw;
	mpq_writer_init(&fw, payload, sizeof(payload));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mpq_frame_encode(&fw, &frames[i]), 0);
	size_t len = (size_t)(fw.pos - payload);
	size_t sealed = forge_1rtt(c, payload, len, out, sizeof(out));
	assert_true(sealed > 0);
	if (!from) {
		*rv = pair_inject(p, PAIR_SERVER, out, sealed);
	} else {
		mpq_path path = *from;
		*rv = mpq_conn_read_pkt(p->conn[PAIR_SERVER], &path, NULL, out, sealed, p->now);
	}
	return sealed;
}

/* The server's address as the client sees it, from another client port. */
static mpq_path other_client_port(const struct conn_pair *p, uint16_t port)
{
	mpq_path t = p->conn[PAIR_SERVER]->paths[0]->tuple;
	struct sockaddr_in *in = (struct sockaddr_in *)&t.remote.ss;
	in->sin_port = htons(port);
	return t;
}

static bool same_remote(const mpq_path *a, const mpq_path *b)
{
	return a->remote.len == b->remote.len &&
	       memcmp(&a->remote.ss, &b->remote.ss, a->remote.len) == 0;
}

/* Bytes the server writes now towards |to|, and how many of its datagrams went
 * elsewhere. */
static size_t server_bytes_to(struct conn_pair *p, const mpq_path *to, size_t *others)
{
	uint8_t buf[1500];
	mpq_path out;
	size_t bytes = 0;
	int n;
	*others = 0;
	while ((n = mpq_conn_write_pkt(p->conn[PAIR_SERVER], &out, NULL, buf, sizeof(buf),
				       p->now)) > 0) {
		if (same_remote(&out, to))
			bytes += (size_t)n;
		else
			(*others)++;
	}
	return bytes;
}

/* RFC 9000 §8.2.1, §9.3: a PATH_CHALLENGE from an address the peer never
 * proved is answered there with at most 3x what came from there: a small
 * probe from a spoofed address must not make us send 1200 bytes to it. */
static void path_response_elsewhere_within_3x(void **state)
{
	(void)state;
	struct conn_pair p;
	start(&p, false);
	for (uint16_t port = 50000; port < 50016; port++) {
		mpq_path from = other_client_port(&p, port);
		mpq_frame fr = {.type = MPQ_FT_PATH_CHALLENGE};
		memset(fr.path_challenge.data, port & 0xff, 8);
		int rv;
		size_t in = client_sends(&p, &fr, 1, &from, &rv);
		assert_int_equal(rv, 0);
		size_t others;
		size_t out = server_bytes_to(&p, &from, &others);
		assert_true(out > 0);	    /* answered ... */
		assert_true(out <= 3 * in); /* ... within the limit */
	}
	assert_int_equal(p.conn[PAIR_SERVER]->state, MPQ_CONN_ESTABLISHED);
	pair_free(&p);
}

/* Non-probing packets from 16 new addresses in turn, as a peer that moves or
 * spoofs them sends: the server follows each (a migration) but sends no more
 * than 3x what came from it until it answers (RFC 9000 §9.3); afterwards
 * the connection settles back on the client's own address. */
static void migration_from_many_addresses_within_3x(void **state)
{
	(void)state;
	struct conn_pair p;
	start(&p, false);
	mpq_conn *s = p.conn[PAIR_SERVER];
	mpq_path home = s->paths[0]->tuple;
	for (uint16_t port = 51000; port < 51016; port++) {
		mpq_path from = other_client_port(&p, port);
		mpq_frame fr = {.type = MPQ_FT_PING};
		int rv;
		size_t in = client_sends(&p, &fr, 1, &from, &rv);
		assert_int_equal(rv, 0);
		assert_true(s->paths[0]->migrating);
		size_t others;
		size_t out = server_bytes_to(&p, &from, &others);
		assert_true(out > 0);
		assert_true(out <= 3 * in);
		assert_int_equal(others, 0);
	}
	pair_run(&p, NULL, 5 * MPQ_SEC);
	assert_false(s->paths[0]->migrating);
	assert_true(same_remote(&s->paths[0]->tuple, &home));
	pair_free(&p);
}

/* A packet of 200 PATH_CHALLENGEs from the current address: one PATH_RESPONSE
 * is queued (the last), not 200. */
static void path_challenge_flood_answers_once(void **state)
{
	(void)state;
	struct conn_pair p;
	start(&p, false);
	mpq_frame fr[120];
	for (size_t i = 0; i < 120; i++) {
		fr[i] = (mpq_frame){.type = MPQ_FT_PATH_CHALLENGE};
		memset(fr[i].path_challenge.data, (int)i, 8);
	}
	int rv;
	client_sends(&p, fr, 120, NULL, &rv);
	assert_int_equal(rv, 0);
	size_t others;
	mpq_path to = p.conn[PAIR_SERVER]->paths[0]->tuple;
	size_t bytes = server_bytes_to(&p, &to, &others);
	assert_true(bytes > 0 && bytes <= 1500); /* one datagram with one response */
	assert_int_equal(others, 0);
	pair_free(&p);
}

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 131 + (i >> 10));
}

/* What the server's application got on stream 0: in order, intact? */
static struct {
	uint64_t next;
	bool corrupt;
} got;

static int count_data(mpq_conn *c, int64_t id, uint64_t off, const uint8_t *d, size_t len,
		      bool fin, void *ud)
{
	for (size_t i = 0; i < len; i++)
		got.corrupt |= d[i] != pattern(off + i) || off + i != got.next + i;
	got.next = off + len;
	return 0;
}

static const mpq_callbacks data_cb = {.struct_version = MPQ_CALLBACKS_VERSION,
				      .stream_data = count_data};

/* STREAM frames of stream 0 for [off, off + len) in pieces of |piece| bytes
 * every |stride|, |per| to a packet, until |end|. Returns what the server
 * said of the first packet it refused, or 0. */
static int send_pieces(struct conn_pair *p, uint64_t off, uint64_t end, size_t piece,
		       size_t stride, size_t per)
{
	static uint8_t data[1400];
	mpq_frame fr[200];
	while (off < end) {
		size_t n = 0;
		for (; n < per && off < end; n++, off += stride) {
			size_t len = end - off < piece ? (size_t)(end - off) : piece;
			for (size_t i = 0; i < len; i++)
				data[(n * piece + i) % sizeof(data)] = pattern(off + i);
			fr[n] = (mpq_frame){.type = MPQ_FT_STREAM | MPQ_STREAM_FLAG_LEN};
			fr[n].stream.offset = off;
			fr[n].stream.data = &data[(n * piece) % sizeof(data)];
			fr[n].stream.len = len;
		}
		int rv;
		client_sends(p, fr, n, NULL, &rv);
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* A flood of one-byte STREAM fragments with a hole before each, 70,000 of
 * them (more runs than a run list allowed for a 16 MiB window, which closed
 * the connection with FLOW_CONTROL_ERROR): all taken, nothing delivered
 * until the holes fill, then everything in order. A byte past the stream's
 * window is FLOW_CONTROL_ERROR. */
static void one_byte_fragments_with_gaps(void **state)
{
	(void)state;
	enum { N = 70000, STRIDE = 4, WINDOW = 1 << 20 };
	struct conn_pair p;
	memset(&got, 0, sizeof(got));
	start_with(&p, &(struct pair_opts){.app = {NULL, &data_cb},
					   .max_data = WINDOW,
					   .max_stream_data = WINDOW});
	assert_int_equal(send_pieces(&p, 1, (uint64_t)N * STRIDE, 1, STRIDE, 150), 0);
	mpq_conn *s = p.conn[PAIR_SERVER];
	assert_int_equal(s->state, MPQ_CONN_ESTABLISHED);
	assert_int_equal(got.next, 0);
	assert_int_equal(send_pieces(&p, 0, (uint64_t)N * STRIDE, 1000, 1000, 1), 0);
	assert_int_equal(s->state, MPQ_CONN_ESTABLISHED);
	assert_int_equal(got.next, (uint64_t)N * STRIDE);
	assert_false(got.corrupt);
	/* The window moved on as the application read; past it is refused. */
	const mpq_stream *st = mpq_streams_find(&s->streams, 0);
	assert_non_null(st);
	assert_true(send_pieces(&p, st->r_max_data, st->r_max_data + 1, 1, 1, 1) < 0);
	assert_int_equal(mpq_conn_get_error(s)->code, MPQ_TE_FLOW_CONTROL_ERROR);
	pair_free(&p);
}

/* Every stream the server allows (100) opened with one byte out of order:
 * each holds a 1 KiB reassembly ring and its bitmap, 100 KiB in all (64 KiB
 * a stream before, 6.4 MiB for 100 frames of 5 bytes). Then the streams'
 * first bytes: every stream delivers both. */
static void many_streams_each_holding_a_byte(void **state)
{
	(void)state;
	enum { STREAMS = 100 };
	struct conn_pair p;
	start(&p, false);
	mpq_conn *s = p.conn[PAIR_SERVER];
	assert_int_equal(s->local_max_streams[0], STREAMS);
	static const uint8_t byte[1] = {'x'};
	mpq_frame fr[STREAMS];
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < STREAMS; i++) {
			fr[i] = (mpq_frame){.type = MPQ_FT_STREAM | MPQ_STREAM_FLAG_LEN};
			fr[i].stream.stream_id = 4 * i;
			fr[i].stream.offset = 1 - k; /* the second byte first */
			fr[i].stream.data = byte;
			fr[i].stream.len = 1;
		}
		int rv;
		client_sends(&p, fr, STREAMS, NULL, &rv);
		assert_int_equal(rv, 0);
		if (k == 1)
			break;
		size_t held = 0;
		for (size_t i = 0; i < STREAMS; i++) {
			const mpq_stream *st = mpq_streams_find(&s->streams, (int64_t)(4 * i));
			assert_non_null(st);
			assert_false(mpq_rob_empty(&st->rob));
			held += st->rob.size;
		}
		assert_true(held <= STREAMS * 1024);
	}
	for (size_t i = 0; i < STREAMS; i++) {
		const mpq_stream *st = mpq_streams_find(&s->streams, (int64_t)(4 * i));
		assert_int_equal(st->r_delivered, 2);
	}
	assert_int_equal(s->state, MPQ_CONN_ESTABLISHED);
	pair_free(&p);
}

/* One frame from the client; returns what the server said. */
static int client_frame(struct conn_pair *p, const mpq_frame *fr)
{
	int rv;
	client_sends(p, fr, 1, NULL, &rv);
	return rv;
}

static uint64_t server_error(const struct conn_pair *p)
{
	return mpq_conn_get_error(p->conn[PAIR_SERVER])->code;
}

/* An ACK of a packet number the server never sent is PROTOCOL_VIOLATION; so
 * is a PATH_ACK naming a path ID above the limit, while one naming an ID
 * within it but never used is ignored (draft-21 §7.1). */
static void acks_of_what_was_never_sent(void **state)
{
	(void)state;
	struct conn_pair p;
	start(&p, true);
	mpq_conn *s = p.conn[PAIR_SERVER];
	mpq_frame fr = {.type = MPQ_FT_PATH_ACK};
	fr.ack.path_id = 3; /* within the limit, never opened */
	fr.ack.nranges = 1;
	fr.ack.ranges[0] = (mpq_ack_range){0, 5};
	assert_int_equal(client_frame(&p, &fr), 0);
	assert_int_equal(s->state, MPQ_CONN_ESTABLISHED);
	fr.ack.path_id = s->local_max_path_id + 1;
	assert_true(client_frame(&p, &fr) < 0);
	assert_int_equal(server_error(&p), MPQ_TE_PROTOCOL_VIOLATION);
	pair_free(&p);

	start(&p, false);
	s = p.conn[PAIR_SERVER];
	fr = (mpq_frame){.type = MPQ_FT_ACK};
	fr.ack.nranges = 1;
	fr.ack.ranges[0] = (mpq_ack_range){0, s->paths[0]->ns.next_pn};
	assert_true(client_frame(&p, &fr) < 0);
	assert_int_equal(server_error(&p), MPQ_TE_PROTOCOL_VIOLATION);
	pair_free(&p);
}

/* Streams past MAX_STREAMS (100 bidirectional, 10 unidirectional here) are
 * STREAM_LIMIT_ERROR, whether opened by STREAM, RESET_STREAM or STOP_SENDING
 * (RFC 9000 §4.6); a flood of RESET_STREAMs and STOP_SENDINGs within the
 * limit holds no more streams than it allows. */
static void streams_past_the_limit(void **state)
{
	(void)state;
	static const uint64_t types[] = {MPQ_FT_STREAM, MPQ_FT_RESET_STREAM, MPQ_FT_STOP_SENDING};
	for (size_t t = 0; t < 3; t++) {
		for (int uni = 0; uni < 2; uni++) {
			struct conn_pair p;
			start(&p, false);
			mpq_conn *s = p.conn[PAIR_SERVER];
			uint64_t limit = s->local_max_streams[uni];
			mpq_frame fr = {.type = types[t]};
			uint64_t id = 4 * limit + (uni ? 2 : 0); /* the first one past */
			fr.stream.stream_id = fr.reset_stream.stream_id =
				fr.stop_sending.stream_id = id;
			if (types[t] == MPQ_FT_STOP_SENDING && uni)
				id = 0; /* STOP_SENDING for a receive-only stream: a state error */
			else if (types[t] == MPQ_FT_STREAM)
				fr.type |= MPQ_STREAM_FLAG_LEN;
			if (id == 0) {
				pair_free(&p);
				continue;
			}
			assert_true(client_frame(&p, &fr) < 0);
			assert_int_equal(server_error(&p), MPQ_TE_STREAM_LIMIT_ERROR);
			pair_free(&p);
		}
	}

	struct conn_pair p;
	start(&p, false);
	mpq_conn *s = p.conn[PAIR_SERVER];
	mpq_frame fr[150];
	for (size_t round = 0; round < 20; round++) {
		for (size_t i = 0; i < 75; i++) {
			uint64_t id = 4 * ((round * 75 + i) % 100);
			fr[2 * i] = (mpq_frame){.type = MPQ_FT_RESET_STREAM};
			fr[2 * i].reset_stream.stream_id = id;
			fr[2 * i + 1] = (mpq_frame){.type = MPQ_FT_STOP_SENDING};
			fr[2 * i + 1].stop_sending.stream_id = id;
		}
		int rv;
		client_sends(&p, fr, 150, NULL, &rv);
		assert_int_equal(rv, 0);
	}
	assert_int_equal(s->state, MPQ_CONN_ESTABLISHED);
	assert_true(s->streams.count <= 100);
	pair_free(&p);
}

/* A NEW_CONNECTION_ID (PATH_NEW_CONNECTION_ID for path 1 with |mp|) of
 * sequence number |seq|, its CID and token unique to (|tag|, seq). */
static mpq_frame new_cid_frame(bool mp, uint64_t seq, uint64_t retire_prior_to, uint8_t tag)
{
	mpq_frame fr = {.type = mp ? MPQ_FT_PATH_NEW_CONNECTION_ID : MPQ_FT_NEW_CONNECTION_ID};
	fr.new_cid.path_id = mp ? 1 : 0;
	fr.new_cid.seq = seq;
	fr.new_cid.retire_prior_to = retire_prior_to;
	fr.new_cid.cid = (mpq_cid){.len = 8, .data = {tag, tag, tag, mp, 0, 0, 0, (uint8_t)seq}};
	memset(fr.new_cid.reset_token, (int)(tag + seq), 16);
	return fr;
}

/* NEW_CONNECTION_ID past our active_connection_id_limit (2) is
 * CONNECTION_ID_LIMIT_ERROR, on path 0 and, with PATH_NEW_CONNECTION_ID, on
 * another path ID. */
static void cids_past_the_limit(void **state)
{
	(void)state;
	for (int mp = 0; mp < 2; mp++) {
		struct conn_pair p;
		start(&p, mp);
		mpq_conn *s = p.conn[PAIR_SERVER];
		assert_int_equal(s->local_tp.active_connection_id_limit, 2);
		uint64_t first = mp ? 0 : s->peer_cids[0]->v[s->peer_cids[0]->n - 1].seq + 1;
		int rv = 0;
		for (uint64_t k = 0; k < 4 && rv == 0; k++) {
			mpq_frame fr = new_cid_frame(mp, first + 10 + k, 0, 9);
			rv = client_frame(&p, &fr);
		}
		assert_true(rv < 0);
		assert_int_equal(server_error(&p), MPQ_TE_CONNECTION_ID_LIMIT_ERROR);
		pair_free(&p);
	}
}

/* Retire Prior To churn (RFC 9000 §5.1.2): each NEW_CONNECTION_ID retires all
 * before it, and the peer never acknowledges our RETIRE_CONNECTION_IDs. The
 * CIDs kept (and the RETIREs owed) stay within the set's 8 entries: at least
 * twice the limit of 2 are tolerated, then CONNECTION_ID_LIMIT_ERROR. */
static void retire_prior_to_churn(void **state)
{
	(void)state;
	for (int mp = 0; mp < 2; mp++) {
		struct conn_pair p;
		start(&p, mp);
		mpq_conn *s = p.conn[PAIR_SERVER];
		int slot = mp ? 1 : 0;
		uint64_t base = s->peer_cids[slot]->n
					? s->peer_cids[slot]->v[s->peer_cids[slot]->n - 1].seq + 1
					: 1;
		int rv = 0;
		uint64_t k;
		for (k = 0; k < 100 && rv == 0; k++) {
			mpq_frame fr = new_cid_frame(mp, base + k, base + k, 7);
			rv = client_frame(&p, &fr);
			assert_true(s->peer_cids[slot]->n <= MPQ_CIDS_MAX);
		}
		assert_true(rv < 0);
		assert_true(k > 4); /* twice the limit: 6 owed are tolerated, the 7th closes */
		assert_int_equal(server_error(&p), MPQ_TE_CONNECTION_ID_LIMIT_ERROR);
		pair_free(&p);
	}
}

/* CRYPTO data past the 64 KiB a level buffers is CRYPTO_BUFFER_EXCEEDED. */
static void crypto_far_ahead(void **state)
{
	(void)state;
	struct conn_pair p;
	start(&p, false);
	static const uint8_t byte[1] = {0};
	mpq_frame fr = {.type = MPQ_FT_CRYPTO};
	fr.crypto.offset = 1ULL << 40;
	fr.crypto.data = byte;
	fr.crypto.len = 1;
	assert_true(client_frame(&p, &fr) < 0);
	assert_int_equal(server_error(&p), MPQ_TE_CRYPTO_BUFFER_EXCEEDED);
	pair_free(&p);
}

/* A client's NEW_TOKEN is PROTOCOL_VIOLATION (RFC 9000 §19.7); packets of
 * PADDING alone elicit nothing (not ack-eliciting). */
static void new_token_and_padding(void **state)
{
	(void)state;
	struct conn_pair p;
	start(&p, false);
	mpq_frame fr = {.type = MPQ_FT_PADDING};
	fr.padding_len = 1000;
	mpq_path to = p.conn[PAIR_SERVER]->paths[0]->tuple;
	size_t others;
	server_bytes_to(&p, &to, &others); /* whatever was due */
	for (int i = 0; i < 50; i++)
		assert_int_equal(client_frame(&p, &fr), 0);
	assert_int_equal(server_bytes_to(&p, &to, &others), 0);
	static const uint8_t token[4] = {1, 2, 3, 4};
	fr = (mpq_frame){.type = MPQ_FT_NEW_TOKEN};
	fr.new_token.token = token;
	fr.new_token.len = sizeof(token);
	assert_true(client_frame(&p, &fr) < 0);
	assert_int_equal(server_error(&p), MPQ_TE_PROTOCOL_VIOLATION);
	pair_free(&p);
}

/* A client's first Initial whose CRYPTO frame starts at 2^40 gets a server
 * connection that closes at once with CRYPTO_BUFFER_EXCEEDED: a level buffers
 * no more than 64 KiB ahead of what TLS took. */
static void initial_with_huge_crypto_offset(void **state)
{
	(void)state;
	struct conn_pair p;
	assert_int_equal(pair_init(&p, &(struct pair_opts){0}), 0);
	mpq_conn *c = p.conn[PAIR_CLIENT];
	uint8_t payload[1200], out[1500];
	static const uint8_t byte[1] = {1};
	mpq_writer fw;
	mpq_writer_init(&fw, payload, sizeof(payload));
	mpq_frame fr = {.type = MPQ_FT_CRYPTO};
	fr.crypto.offset = 1ULL << 40;
	fr.crypto.data = byte;
	fr.crypto.len = 1;
	assert_int_equal(mpq_frame_encode(&fw, &fr), 0);
	size_t len = (size_t)(fw.pos - payload);
	memset(fw.pos, 0, 1160 - len); /* PADDING up to a full Initial */
	mpq_pktns *ns = &c->hs_ns[MPQ_LEVEL_INITIAL];
	mpq_pkt_hd hd = {.type = MPQ_PKT_INITIAL,
			 .version = c->version,
			 .dcid = c->dcid,
			 .scid = c->scid,
			 .pn = ns->next_pn++,
			 .pn_len = 4};
	mpq_writer w;
	mpq_writer_init(&w, out, sizeof(out));
	assert_int_equal(mpq_pkt_encode_hd(&w, &hd), 0);
	memcpy(w.pos, payload, 1160);
	int n = mpq_pkt_protect(out, sizeof(out), &hd, 1160, &ns->tx, 0);
	assert_true(n >= 1200);
	mpq_path from = c->paths[0]->tuple;
	from.local = c->paths[0]->tuple.remote;
	from.remote = c->paths[0]->tuple.local;
	mpq_conn *s;
	assert_int_equal(mpq_conn_server_new(&s, &from, out, (size_t)n, &p.settings[PAIR_SERVER],
					     &p.tparams[PAIR_SERVER], &p.cb[PAIR_SERVER],
					     p.tls[PAIR_SERVER], p.now),
			 0);
	p.conn[PAIR_SERVER] = s;
	assert_true(mpq_conn_read_pkt(s, &from, NULL, out, (size_t)n, p.now) < 0);
	assert_int_equal(server_error(&p), MPQ_TE_CRYPTO_BUFFER_EXCEEDED);
	pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(path_response_elsewhere_within_3x),
		cmocka_unit_test(path_challenge_flood_answers_once),
		cmocka_unit_test(migration_from_many_addresses_within_3x),
		cmocka_unit_test(one_byte_fragments_with_gaps),
		cmocka_unit_test(many_streams_each_holding_a_byte),
		cmocka_unit_test(acks_of_what_was_never_sent),
		cmocka_unit_test(streams_past_the_limit),
		cmocka_unit_test(cids_past_the_limit),
		cmocka_unit_test(retire_prior_to_churn),
		cmocka_unit_test(crypto_far_ahead),
		cmocka_unit_test(new_token_and_padding),
		cmocka_unit_test(initial_with_huge_crypto_offset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
