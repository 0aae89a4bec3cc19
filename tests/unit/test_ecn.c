/* ECN (RFC 9000 §13.4): a path's testing period and the validation of the
 * counts in ACK_ECN frames (lib/quic/ecn.c); connections that pass marks
 * through validate and report them; packet-info versions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conn_pair.h"
#include "quic/conn.h"
#include "quic/ecn.h"

#define PTO (100 * MPQ_MS)
#define LIMIT (10 * MPQ_SEC)

/* Sends |n| packets with whatever mark the path asks for, at |ts|. */
static void send_n(mpq_ecn_path *e, unsigned n, uint64_t ts)
{
	for (unsigned i = 0; i < n; i++)
		mpq_ecn_on_sent(e, mpq_ecn_tx_mark(e, ts, PTO), ts);
}

/* A path that passed validation with 3 packets: counts (3, 0, 0) checked. */
static void validated(mpq_ecn_path *e, mpq_ecn_counts *peer)
{
	*e = (mpq_ecn_path){0};
	*peer = (mpq_ecn_counts){0};
	send_n(e, 3, 1);
	assert_false(mpq_ecn_on_ack(e, peer, &(mpq_ecn_counts){.ect0 = 3}, 3, true));
	assert_int_equal(e->state, MPQ_ECN_STATE_CAPABLE);
}

static void counts_that_cover_the_marks_validate(void **state)
{
	(void)state;
	mpq_ecn_path e = {0};
	mpq_ecn_counts peer = {0};
	assert_int_equal(mpq_ecn_tx_mark(&e, 1, PTO), MPQ_ECN_ECT0);
	validated(&e, &peer);
	assert_int_equal(peer.ect0, 3);
	/* Valid counts keep it: more ECT(0), and a CE that stands for an ECT(0)
	 * packet the network marked (its rise counts as congestion). */
	send_n(&e, 4, 2);
	assert_false(mpq_ecn_on_ack(&e, &peer, &(mpq_ecn_counts){.ect0 = 5}, 2, true));
	assert_true(mpq_ecn_on_ack(&e, &peer, &(mpq_ecn_counts){.ect0 = 6, .ce = 1}, 2, true));
	assert_int_equal(e.state, MPQ_ECN_STATE_CAPABLE);
	assert_int_equal(e.ce_events, 1);
	assert_int_equal(peer.ce, 1);
	/* The same CE count again is no new congestion. */
	assert_false(mpq_ecn_on_ack(&e, &peer, &(mpq_ecn_counts){.ect0 = 7, .ce = 1}, 1, true));
	assert_int_equal(e.state, MPQ_ECN_STATE_CAPABLE);
	assert_int_equal(mpq_ecn_tx_mark(&e, 3, PTO), MPQ_ECN_ECT0);
	assert_int_equal(e.sent_ect0, 7);
}

static void decreasing_counts_disable_ecn(void **state)
{
	(void)state;
	static const mpq_ecn_counts lower[] = {{.ect0 = 2, .ce = 2},
					       {.ect0 = 5, .ect1 = 0, .ce = 0},
					       {.ect0 = 9, .ect1 = 0, .ce = 0}};
	mpq_ecn_path e;
	mpq_ecn_counts peer;
	for (size_t i = 0; i < 3; i++) {
		validated(&e, &peer);
		peer = (mpq_ecn_counts){.ect0 = 3, .ect1 = i == 2 ? 1 : 0, .ce = i == 1 ? 1 : 0};
		assert_false(mpq_ecn_on_ack(&e, &peer, &lower[i], 0, true));
		assert_int_equal(e.state, MPQ_ECN_STATE_FAILED);
		assert_int_equal(mpq_ecn_tx_mark(&e, 2, PTO), MPQ_ECN_NOT_ECT);
		/* Failed stays failed, whatever comes after. */
		assert_false(mpq_ecn_on_ack(&e, &peer, &(mpq_ecn_counts){.ect0 = 50, .ce = 9}, 1,
					    true));
		assert_int_equal(e.state, MPQ_ECN_STATE_FAILED);
	}
}

static void counts_short_of_the_marks_disable_ecn(void **state)
{
	(void)state;
	mpq_ecn_path e;
	mpq_ecn_counts peer;
	validated(&e, &peer);
	send_n(&e, 3, 2);
	/* 3 ECT(0) packets newly acknowledged, the counts rose by 2. */
	assert_false(mpq_ecn_on_ack(&e, &peer, &(mpq_ecn_counts){.ect0 = 4, .ce = 1}, 3, true));
	assert_int_equal(e.state, MPQ_ECN_STATE_FAILED);
}

static void marks_acknowledged_without_counts_disable_ecn(void **state)
{
	(void)state;
	mpq_ecn_path e = {0};
	mpq_ecn_counts peer = {0};
	send_n(&e, 2, 1);
	/* An ACK without counts that acknowledges no marked packet says nothing. */
	assert_false(mpq_ecn_on_ack(&e, &peer, NULL, 0, true));
	assert_int_equal(e.state, MPQ_ECN_STATE_TESTING);
	assert_false(mpq_ecn_on_ack(&e, &peer, NULL, 2, true));
	assert_int_equal(e.state, MPQ_ECN_STATE_FAILED);
}

/* RFC 9000 §13.4.2.1: an ACK that does not raise the largest acknowledged
 * (reordered) is not checked, however its counts look. */
static void reordered_acks_are_not_checked(void **state)
{
	(void)state;
	mpq_ecn_path e;
	mpq_ecn_counts peer;
	validated(&e, &peer);
	assert_false(mpq_ecn_on_ack(&e, &peer, &(mpq_ecn_counts){.ect0 = 1}, 2, false));
	assert_false(mpq_ecn_on_ack(&e, &peer, NULL, 2, false));
	assert_int_equal(e.state, MPQ_ECN_STATE_CAPABLE);
	assert_int_equal(peer.ect0, 3);
}

/* Testing ends after 10 marked packets, or after 3 PTO; nothing is marked
 * then until an ACK validates them, and if every one is lost, ECN fails. */
static void testing_period(void **state)
{
	(void)state;
	mpq_ecn_path e = {0};
	mpq_ecn_counts peer = {0};
	send_n(&e, MPQ_ECN_TESTING_PACKETS, 1);
	assert_int_equal(mpq_ecn_tx_mark(&e, 2, PTO), MPQ_ECN_NOT_ECT);
	assert_int_equal(e.state, MPQ_ECN_STATE_UNKNOWN);
	send_n(&e, 5, 2);
	assert_int_equal(e.sent_ect0, MPQ_ECN_TESTING_PACKETS);
	assert_false(mpq_ecn_on_ack(&e, &peer, &(mpq_ecn_counts){.ect0 = 4}, 4, true));
	assert_int_equal(e.state, MPQ_ECN_STATE_CAPABLE);
	assert_int_equal(mpq_ecn_tx_mark(&e, 3, PTO), MPQ_ECN_ECT0);

	/* (Time 0 is a time like any other: the first packet may leave then.) */
	e = (mpq_ecn_path){0};
	send_n(&e, 2, 0);
	assert_int_equal(mpq_ecn_tx_mark(&e, 0, PTO), MPQ_ECN_ECT0);
	assert_int_equal(mpq_ecn_tx_mark(&e, 3 * PTO, PTO), MPQ_ECN_ECT0);
	assert_int_equal(mpq_ecn_tx_mark(&e, 1 + 3 * PTO, PTO), MPQ_ECN_NOT_ECT);
	mpq_ecn_on_lost(&e);
	assert_int_equal(e.state, MPQ_ECN_STATE_UNKNOWN);
	mpq_ecn_on_lost(&e);
	assert_int_equal(e.state, MPQ_ECN_STATE_FAILED);

	/* Lost during testing: the failure shows when testing ends. */
	e = (mpq_ecn_path){0};
	send_n(&e, 1, 1);
	mpq_ecn_on_lost(&e);
	assert_int_equal(e.state, MPQ_ECN_STATE_TESTING);
	assert_int_equal(mpq_ecn_tx_mark(&e, 2 + 3 * PTO, PTO), MPQ_ECN_NOT_ECT);
	assert_int_equal(e.state, MPQ_ECN_STATE_FAILED);
}

static void received_marks_counted(void **state)
{
	(void)state;
	mpq_ecn_counts c = {0};
	static const uint8_t marks[] = {MPQ_ECN_ECT0, MPQ_ECN_CE,   MPQ_ECN_NOT_ECT,
					MPQ_ECN_ECT1, MPQ_ECN_ECT0, MPQ_ECN_CE | 4};
	assert_false(mpq_ecn_counts_any(&c));
	for (size_t i = 0; i < sizeof(marks); i++)
		mpq_ecn_count_rx(&c, marks[i]);
	assert_int_equal(c.ect0, 2);
	assert_int_equal(c.ect1, 1);
	assert_int_equal(c.ce, 2);
	assert_true(mpq_ecn_counts_any(&c));
}

/* A qlog trace in memory. */
struct trace {
	char buf[1 << 20];
	size_t len;
};

static int trace_write(void *user_data, const void *data, size_t len)
{
	struct trace *t = user_data;
	if (len > sizeof(t->buf) - 1 - t->len)
		return MPQ_ERR_NOBUF;
	memcpy(t->buf + t->len, data, len);
	t->len += len;
	t->buf[t->len] = '\0';
	return 0;
}

/* Two connections whose link passes the marks: both validate path 0, and
 * what one received marked is what the other heard in ACK_ECN frames. The
 * client's qlog trace shows the validation (quic:ecn_state_updated). */
static void connections_validate_over_a_marking_link(void **state)
{
	(void)state;
	struct conn_pair p;
	struct trace *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	assert_int_equal(pair_init(&p, &(struct pair_opts){0}), 0);
	assert_int_equal(mpq_conn_set_qlog(p.conn[PAIR_CLIENT],
					   &(mpq_qlog_sink){.struct_version =
								    MPQ_QLOG_SINK_VERSION,
							    .write = trace_write,
							    .user_data = t}),
			 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	pair_run(&p, NULL, LIMIT);
	for (int s = 0; s < 2; s++) {
		mpq_path_stats me, peer;
		assert_int_equal(mpq_conn_get_path_stats(p.conn[s], 0, &me), 0);
		assert_int_equal(mpq_conn_get_path_stats(p.conn[!s], 0, &peer), 0);
		assert_int_equal(me.ecn_state, MPQ_ECN_STATE_CAPABLE);
		assert_true(me.ecn_sent_ect0 > 0);
		assert_true(me.ecn_peer_ect0 > 0);
		assert_true(me.ecn_peer_ect0 <= peer.ecn_rx_ect0);
		assert_int_equal(me.ecn_peer_ce + me.ecn_peer_ect1 + me.ecn_rx_ce + me.ecn_rx_ect1,
				 0);
	}
	const char *ev = strstr(t->buf, "\"quic:ecn_state_updated\"");
	assert_non_null(ev);
	assert_non_null(strstr(ev, "\"old\":\"testing\",\"new\":\"capable\""));
	assert_null(strstr(ev + 1, "\"quic:ecn_state_updated\""));
	pair_free(&p);
	free(t);
}

/* The client sends 200 kB once both are ready; with |mark|, the network
 * marks CE on its whole first flight of data. Fills the client's path stats
 * after 30 ms (the marks there, the ACK back: 10 ms each way) and the
 * number marked. */
static void ce_run(bool mark, struct trace *t, mpq_path_stats *client, mpq_path_stats *server,
		   size_t *marked)
{
	struct conn_pair p;
	static uint8_t data[200000];
	int64_t id;
	assert_int_equal(pair_init(&p, &(struct pair_opts){0}), 0);
	assert_int_equal(mpq_conn_set_qlog(p.conn[PAIR_CLIENT],
					   &(mpq_qlog_sink){.struct_version =
								    MPQ_QLOG_SINK_VERSION,
							    .write = trace_write,
							    .user_data = t}),
			 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	pair_run(&p, NULL, 100 * MPQ_MS);
	assert_int_equal(mpq_conn_open_stream(p.conn[PAIR_CLIENT], true, &id), 0);
	assert_true(mpq_conn_stream_write(p.conn[PAIR_CLIENT], id, data, sizeof(data), true) > 0);
	pair_run(&p, NULL, 1 * MPQ_MS);
	*marked = 0;
	for (size_t i = 0; mark && i < p.queued[PAIR_SERVER]; i++) {
		assert_int_equal(p.queue[PAIR_SERVER][i].pi.ecn, MPQ_ECN_ECT0);
		p.queue[PAIR_SERVER][i].pi.ecn = MPQ_ECN_CE;
		(*marked)++;
	}
	pair_run(&p, NULL, 30 * MPQ_MS);
	assert_int_equal(mpq_conn_get_path_stats(p.conn[PAIR_CLIENT], 0, client), 0);
	assert_int_equal(mpq_conn_get_path_stats(p.conn[PAIR_SERVER], 0, server), 0);
	pair_free(&p);
}

/* RFC 9002 §7.1: CE marks on the client's data make the client's congestion
 * controller reduce its window, once, and its qlog trace says so: the move to
 * recovery carries the trigger "ecn". Without marks, nothing of it. */
static void ce_marks_reduce_the_window(void **state)
{
	(void)state;
	struct trace *t = calloc(1, sizeof(*t));
	mpq_path_stats plain, plain_srv, c, s;
	size_t marked;
	assert_non_null(t);
	ce_run(false, t, &plain, &plain_srv, &marked);
	assert_int_equal(plain.ecn_ce_events + plain_srv.ecn_rx_ce, 0);
	assert_null(strstr(t->buf, "\"trigger\":\"ecn\""));
	t->len = 0;
	ce_run(true, t, &c, &s, &marked);
	assert_true(marked > 2);
	assert_int_equal(s.ecn_rx_ce, marked);
	assert_int_equal(c.ecn_peer_ce, marked);
	assert_true(c.ecn_ce_events > 0);
	assert_int_equal(c.packets_lost, 0);
	assert_int_equal(c.ecn_state, MPQ_ECN_STATE_CAPABLE);
	print_message("cwnd after %zu CE marks: %llu B, %llu B without\n", marked,
		      (unsigned long long)c.cwnd, (unsigned long long)plain.cwnd);
	assert_true(c.cwnd * 4 <= plain.cwnd * 3); /* cubic: beta 0.7 */
	const char *ev = strstr(t->buf, "\"new\":\"recovery\",\"trigger\":\"ecn\"");
	assert_non_null(ev);
	assert_null(strstr(ev + 1, "\"new\":\"recovery\""));
	free(t);
}

/* A packet info of a version the library does not know is refused; NULL is
 * fine both ways (nothing to mark: the datagram says Not-ECT). */
static void pkt_info_versions(void **state)
{
	(void)state;
	struct conn_pair p;
	assert_int_equal(pair_init(&p, &(struct pair_opts){0}), 0);
	uint8_t buf[1500];
	mpq_path out;
	mpq_pkt_info pi = {.version = 0};
	assert_int_equal(mpq_conn_write_pkt(p.conn[0], &out, &pi, buf, sizeof(buf), 0),
			 MPQ_ERR_INVALID_ARGUMENT);
	pi.version = MPQ_PKT_INFO_VERSION + 1;
	assert_int_equal(mpq_conn_write_pkt(p.conn[0], &out, &pi, buf, sizeof(buf), 0),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_conn_read_pkt(p.conn[0], &out, &pi, buf, 0, 0),
			 MPQ_ERR_INVALID_ARGUMENT);
	pi.version = MPQ_PKT_INFO_VERSION;
	int n = mpq_conn_write_pkt(p.conn[0], &out, &pi, buf, sizeof(buf), 0);
	assert_true(n >= 1200);
	assert_int_equal(pi.ecn, MPQ_ECN_ECT0); /* the client's first Initial tests ECN */
	pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_that_cover_the_marks_validate),
		cmocka_unit_test(decreasing_counts_disable_ecn),
		cmocka_unit_test(counts_short_of_the_marks_disable_ecn),
		cmocka_unit_test(marks_acknowledged_without_counts_disable_ecn),
		cmocka_unit_test(reordered_acks_are_not_checked),
		cmocka_unit_test(testing_period),
		cmocka_unit_test(received_marks_counted),
		cmocka_unit_test(connections_validate_over_a_marking_link),
		cmocka_unit_test(ce_marks_reduce_the_window),
		cmocka_unit_test(pkt_info_versions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
