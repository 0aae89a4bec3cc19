/*
 * Consecutive key updates (RFC 9001 §6.2): a peer may start a key update only
 * once it received an ACK of a packet of its current phase. A client that
 * starts a second update before the server sent any ACK of its first one has
 * its connection closed with KEY_UPDATE_ERROR (0xe); a client that waits for
 * the ACKs may update as often as it likes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conn_pair.h"
#include "quic/conn.h"

#define LIMIT (10 * MPQ_SEC)

/* A connected pair with nothing left in flight, and a client stream. */
static void connect_pair(struct conn_pair *p, int64_t *id)
{
	assert_int_equal(pair_init(p, &(struct pair_opts){0}), 0);
	assert_true(pair_run(p, pair_both_complete, LIMIT));
	pair_run(p, NULL, LIMIT);
	assert_int_equal(mpq_conn_open_stream(p->conn[PAIR_CLIENT], true, id), 0);
}

/* The client's next datagram, with some stream data in it, straight to the
 * server (nothing of the server's goes back). */
static void client_sends(struct conn_pair *p, int64_t id)
{
	static const uint8_t data[100];
	uint8_t buf[PAIR_DGRAM_MAX];
	mpq_path path;
	mpq_conn *c = p->conn[PAIR_CLIENT];
	assert_int_equal(mpq_conn_stream_write(c, id, data, sizeof(data), false), sizeof(data));
	int n = mpq_conn_write_pkt(c, &path, NULL, buf, sizeof(buf), p->now);
	assert_true(n > 0);
	pair_inject(p, PAIR_SERVER, buf, (size_t)n);
}

static void consecutive_updates_closed(void **state)
{
	(void)state;
	struct conn_pair p;
	int64_t id;
	connect_pair(&p, &id);
	mpq_conn *c = p.conn[PAIR_CLIENT], *s = p.conn[PAIR_SERVER];
	assert_int_equal(mpq_conn_initiate_key_update(c), 0);
	client_sends(&p, id);
	assert_int_equal(s->kp.rx_phase, 1);
	assert_false(mpq_conn_get_error(s)->set);
	/* The client acts as if the server's answer and an ACK had come, and
	 * updates again: the server never acknowledged anything of phase 1. */
	c->kp.rx_phase = c->kp.tx_phase;
	c->kp.phase_acked = true;
	assert_int_equal(mpq_conn_initiate_key_update(c), 0);
	client_sends(&p, id);
	const mpq_conn_error *e = mpq_conn_get_error(s);
	assert_true(e->set);
	assert_false(e->remote);
	assert_int_equal(e->code, MPQ_TE_KEY_UPDATE_ERROR);
	pair_free(&p);
}

static void updates_after_acks_accepted(void **state)
{
	(void)state;
	struct conn_pair p;
	int64_t id;
	connect_pair(&p, &id);
	mpq_conn *c = p.conn[PAIR_CLIENT], *s = p.conn[PAIR_SERVER];
	for (int i = 1; i <= 4; i++) {
		assert_int_equal(mpq_conn_initiate_key_update(c), 0);
		client_sends(&p, id);
		/* The server answers and acknowledges; the client hears it. */
		pair_run(&p, NULL, LIMIT);
		assert_int_equal(s->kp.rx_phase, i % 2);
		assert_int_equal(c->kp.rx_phase, i % 2);
		assert_false(mpq_conn_get_error(s)->set);
		assert_false(mpq_conn_get_error(c)->set);
	}
	assert_int_equal(s->kp.updates, 4);
	pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(consecutive_updates_closed),
		cmocka_unit_test(updates_after_acks_accepted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
