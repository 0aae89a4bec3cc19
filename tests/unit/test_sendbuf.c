/*
 * Send buffers allocated as the application writes: bytes exact across chunk
 * boundaries, chunks freed as acknowledgements pass them, a stream's memory
 * bounded by the peer's credit and the send window, and memory budgets per
 * connection and above it that make writes wait (never fail) and let them go
 * on once acknowledgements free memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conn_pair.h"
#include "quic/conn.h"
#include "quic/sendbuf.h"

#define CHUNK MPQ_SENDBUF_CHUNK
#define LIMIT (120 * MPQ_SEC)
#define NSTREAMS 3

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 31 + (i >> 8) + (i >> 16));
}

static void fill(uint8_t *b, uint64_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = pattern(off + i);
}

/* Every byte in [from, to) reads back as written, in contiguous pieces that
 * never cross a chunk's end. */
static void check_bytes(const mpq_sendbuf *sb, uint64_t from, uint64_t to)
{
	while (from < to) {
		size_t contiguous;
		const uint8_t *p = mpq_sendbuf_at(sb, from, &contiguous);
		assert_true(contiguous >= 1 && contiguous <= CHUNK);
		assert_int_equal((from + contiguous - 1) / CHUNK, from / CHUNK);
		for (size_t i = 0; i < contiguous && from < to; i++, from++)
			assert_int_equal(p[i], pattern(from));
	}
}

static void bytes_exact_across_chunks(void **state)
{
	(void)state;
	static const size_t sizes[] = {1, 7, CHUNK - 8, CHUNK, CHUNK + 1, 3, 2 * CHUNK + 5, 1000};
	mpq_mem_budget budget = {.limit = 1 << 20};
	mpq_sendbuf sb = {0};
	uint8_t buf[3 * CHUNK];
	uint64_t end = 0;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		fill(buf, end, sizes[k]);
		assert_int_equal(mpq_sendbuf_append(&sb, end, buf, sizes[k], &budget), sizes[k]);
		end += sizes[k];
		/* Chunks are allocated as bytes arrive, not ahead. */
		assert_int_equal(budget.used, (end + CHUNK - 1) / CHUNK * CHUNK);
		assert_int_equal(budget.used, mpq_sendbuf_bytes(&sb));
	}
	check_bytes(&sb, 0, end);
	/* Acknowledging inside a chunk frees nothing; past its end frees it. */
	mpq_sendbuf_release_below(&sb, CHUNK - 1, &budget);
	assert_int_equal(budget.used, (end + CHUNK - 1) / CHUNK * CHUNK);
	mpq_sendbuf_release_below(&sb, 2 * CHUNK + 10, &budget);
	assert_int_equal(budget.used, (end + CHUNK - 1) / CHUNK * CHUNK - 2 * CHUNK);
	check_bytes(&sb, 2 * CHUNK + 10, end);
	/* Everything acknowledged: the chunk being filled stays for what follows. */
	mpq_sendbuf_release_below(&sb, end, &budget);
	assert_int_equal(budget.used, end % CHUNK ? CHUNK : 0);
	fill(buf, end, 100);
	assert_int_equal(mpq_sendbuf_append(&sb, end, buf, 100, &budget), 100);
	check_bytes(&sb, end, end + 100);
	mpq_sendbuf_free(&sb, &budget);
	assert_int_equal(budget.used, 0);
}

/* Chunks acknowledged whole above a hole are freed (and read as NULL), the
 * others keep their bytes; releasing below and freeing skip them, and the
 * budget is credited once for each chunk. */
static void chunks_freed_inside(void **state)
{
	(void)state;
	mpq_mem_budget budget = {.limit = 1 << 20};
	mpq_sendbuf sb = {0};
	static uint8_t buf[8 * CHUNK];
	fill(buf, 0, sizeof(buf));
	assert_int_equal(mpq_sendbuf_append(&sb, 0, buf, sizeof(buf), &budget), sizeof(buf));
	/* [CHUNK + 1, 4 * CHUNK): chunks 2 and 3 whole, chunk 1 not. */
	mpq_sendbuf_release_inside(&sb, CHUNK + 1, 4 * CHUNK, &budget);
	assert_int_equal(mpq_sendbuf_bytes(&sb), 6 * CHUNK);
	assert_int_equal(budget.used, 6 * CHUNK);
	size_t contiguous = 0;
	assert_null(mpq_sendbuf_at(&sb, 2 * CHUNK + 5, &contiguous));
	assert_int_equal(contiguous, CHUNK - 5);
	assert_null(mpq_sendbuf_at(&sb, 3 * CHUNK, &contiguous));
	check_bytes(&sb, 0, 2 * CHUNK);
	check_bytes(&sb, 4 * CHUNK, 8 * CHUNK);
	/* Again, and past the end: nothing more to free. */
	mpq_sendbuf_release_inside(&sb, 2 * CHUNK, 4 * CHUNK, &budget);
	mpq_sendbuf_release_inside(&sb, 7 * CHUNK + 1, 100 * CHUNK, &budget);
	assert_int_equal(budget.used, 6 * CHUNK);
	/* The hole filled: the front goes, freed slots included, once. */
	mpq_sendbuf_release_below(&sb, 5 * CHUNK, &budget);
	assert_int_equal(budget.used, 3 * CHUNK);
	assert_int_equal(mpq_sendbuf_bytes(&sb), 3 * CHUNK);
	check_bytes(&sb, 5 * CHUNK, 8 * CHUNK);
	mpq_sendbuf_release_inside(&sb, 6 * CHUNK, 7 * CHUNK, &budget);
	fill(buf, 8 * CHUNK, 10);
	assert_int_equal(mpq_sendbuf_append(&sb, 8 * CHUNK, buf, 10, &budget), 10);
	check_bytes(&sb, 8 * CHUNK, 8 * CHUNK + 10);
	assert_int_equal(budget.used, 3 * CHUNK);
	mpq_sendbuf_free(&sb, &budget);
	assert_int_equal(budget.used, 0);
}

/* After a loss the peer acknowledges what follows the hole: a stream keeps
 * the chunks around the hole, not the whole window behind it. Acks arrive
 * one packet's worth at a time, in random order, until all but the hole is
 * acknowledged; then the hole's ack frees everything. */
static void stream_frees_acked_chunks_above_a_hole(void **state)
{
	(void)state;
	mpq_mem_budget budget = {.limit = 64 << 20};
	mpq_streams t;
	mpq_stream *s;
	enum { PKT = 1200, TOTAL = 64 * CHUNK, NPKT = (TOTAL + PKT - 1) / PKT };
	static uint8_t buf[TOTAL];
	static uint32_t order[NPKT];
	assert_int_equal(mpq_streams_init(&t, &budget), 0);
	assert_int_equal(mpq_streams_add(&t, 1, true, false, TOTAL, 0, &s), 0);
	fill(buf, 0, TOTAL);
	assert_int_equal(mpq_stream_buffer(s, buf, TOTAL, &budget), TOTAL);
	s->s_sent_max = TOTAL;
	for (uint32_t i = 0; i < NPKT; i++)
		order[i] = i;
	uint64_t x = 42;
	for (uint32_t i = NPKT - 1; i > 0; i--) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		uint32_t j = (uint32_t)((x >> 33) % (i + 1)), tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	uint32_t hole = 3; /* packet 3 is lost */
	for (uint32_t i = 0; i < NPKT; i++) {
		uint64_t off = (uint64_t)order[i] * PKT;
		uint64_t len = off + PKT <= TOTAL ? PKT : TOTAL - off;
		if (order[i] != hole)
			mpq_stream_on_acked(s, off, len, &budget);
	}
	/* Only the hole's chunk is left. */
	assert_int_equal(s->s_acked, hole * PKT);
	assert_true(mpq_sendbuf_bytes(&s->sbuf) <= 2 * CHUNK);
	assert_int_equal(budget.used, mpq_sendbuf_bytes(&s->sbuf));
	check_bytes(&s->sbuf, hole * PKT, hole * PKT + PKT);
	assert_true(mpq_stream_on_acked(s, hole * PKT, PKT, &budget));
	assert_int_equal(s->s_acked, TOTAL);
	assert_int_equal(budget.used, mpq_sendbuf_bytes(&s->sbuf));
	assert_true(budget.used <= CHUNK);
	mpq_streams_free(&t);
	assert_int_equal(budget.used, 0);
}

static void budget_chain_limits_appends(void **state)
{
	(void)state;
	mpq_mem_budget top = {.limit = 5 * CHUNK};
	mpq_mem_budget a = {.limit = 3 * CHUNK, .parent = &top};
	mpq_mem_budget b = {.limit = 3 * CHUNK, .parent = &top};
	mpq_sendbuf sa = {0}, sbb = {0};
	uint8_t buf[4 * CHUNK];
	fill(buf, 0, sizeof(buf));
	/* The connection's own limit... */
	assert_int_equal(mpq_sendbuf_append(&sa, 0, buf, sizeof(buf), &a), 3 * CHUNK);
	/* ...and the shared one above both. */
	assert_int_equal(mpq_sendbuf_append(&sbb, 0, buf, sizeof(buf), &b), 2 * CHUNK);
	assert_int_equal(top.used, 5 * CHUNK);
	assert_int_equal(mpq_mem_budget_room(&b), 0);
	/* Freeing on one connection makes room on the other. */
	mpq_sendbuf_release_below(&sa, 2 * CHUNK, &a);
	assert_int_equal(mpq_mem_budget_room(&b), CHUNK);
	assert_int_equal(mpq_sendbuf_append(&sbb, 2 * CHUNK, buf + 2 * CHUNK, CHUNK, &b), CHUNK);
	check_bytes(&sbb, 0, 3 * CHUNK);
	mpq_sendbuf_free(&sa, &a);
	mpq_sendbuf_free(&sbb, &b);
	assert_int_equal(top.used, 0);
}

/* The server answers each request (a client stream with FIN) with |reply|
 * bytes; the client checks them. */
struct flow {
	int64_t id;
	uint64_t written, received;
	bool started, fin_written, fin_received, corrupt;
};

struct app {
	uint64_t reply;
	struct flow f[NSTREAMS];
	unsigned short_writes; /* writes that took less than offered */
	int write_err;	       /* a negative write result */
	size_t max_used;       /* the most the server's budgets held */
};

static struct flow *flow_of(struct app *a, int64_t id)
{
	return id / 4 < NSTREAMS ? &a->f[id / 4] : NULL;
}

static void note_used(struct app *a, mpq_conn *c)
{
	size_t used = c->send_mem.used;
	for (mpq_mem_budget *b = c->send_mem.parent; b; b = b->parent)
		if (b->used > used)
			used = b->used;
	if (used > a->max_used)
		a->max_used = used;
}

static void pump(struct app *a, mpq_conn *c, struct flow *f)
{
	uint8_t buf[20000];
	while (!f->fin_written) {
		size_t n = sizeof(buf);
		if (n > a->reply - f->written)
			n = (size_t)(a->reply - f->written);
		fill(buf, f->written, n);
		bool fin = f->written + n == a->reply;
		int64_t took = mpq_conn_stream_write(c, f->id, buf, n, fin);
		note_used(a, c);
		if (took < 0) {
			a->write_err = (int)took;
			return;
		}
		f->written += (uint64_t)took;
		if ((size_t)took == n && fin)
			f->fin_written = true;
		if ((size_t)took < n) {
			a->short_writes++;
			return;
		}
	}
}

static int on_data(mpq_conn *c, int64_t id, uint64_t off, const uint8_t *d, size_t len, bool fin,
		   void *ud)
{
	struct conn_pair *p = ud;
	struct app *a = p->app;
	struct flow *f = flow_of(a, id);
	if (!f)
		return -1;
	if (c == p->conn[PAIR_SERVER]) {
		if (fin) {
			f->id = id;
			f->started = true;
			pump(a, c, f);
		}
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		if (d[i] != pattern(off + i))
			f->corrupt = true;
	if (off != f->received)
		f->corrupt = true;
	f->received = off + len;
	f->fin_received |= fin;
	return 0;
}

static int on_writable(mpq_conn *c, int64_t id, void *ud)
{
	struct conn_pair *p = ud;
	struct app *a = p->app;
	struct flow *f = flow_of(a, id);
	if (c == p->conn[PAIR_SERVER] && f && f->started)
		pump(a, c, f);
	return 0;
}

static const mpq_callbacks app_cb = {.struct_version = MPQ_CALLBACKS_VERSION,
				     .stream_data = on_data,
				     .stream_writable = on_writable};

static bool all_received(struct conn_pair *p)
{
	struct app *a = p->app;
	for (int i = 0; i < NSTREAMS; i++)
		if (!a->f[i].fin_received)
			return false;
	return true;
}

static bool each_stopped(struct conn_pair *p)
{
	return ((struct app *)p->app)->short_writes >= NSTREAMS;
}

static bool server_has_conn(struct conn_pair *p)
{
	return p->conn[PAIR_SERVER] && pair_both_complete(p);
}

/* Connects, then the client sends NSTREAMS one-byte requests. */
static void start(struct conn_pair *p, struct app *a, const struct pair_opts *o_in,
		  const mpq_settings *server)
{
	struct pair_opts o = *o_in;
	o.app[0] = o.app[1] = &app_cb;
	o.app_state = a;
	assert_int_equal(pair_init(p, &o), 0);
	p->settings[PAIR_SERVER].stream_send_window = server->stream_send_window;
	p->settings[PAIR_SERVER].send_budget = server->send_budget;
	assert_true(pair_run(p, server_has_conn, LIMIT));
}

static void request_all(struct conn_pair *p, struct app *a)
{
	for (int i = 0; i < NSTREAMS; i++) {
		int64_t id;
		assert_int_equal(mpq_conn_open_stream(p->conn[PAIR_CLIENT], true, &id), 0);
		assert_int_equal(mpq_conn_stream_write(p->conn[PAIR_CLIENT], id,
						       (const uint8_t *)"x", 1, true),
				 1);
	}
}

static void check_delivered(struct app *a)
{
	for (int i = 0; i < NSTREAMS; i++) {
		assert_int_equal(a->f[i].received, a->reply);
		assert_false(a->f[i].corrupt);
	}
}

/* The peer's credit bounds what a stream buffers: one chunk beyond it at most,
 * however much the application offers and however large the window. */
static void stream_memory_bounded_by_credit(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a = {.reply = 4 << 20};
	start(&p, &a, &(struct pair_opts){.max_stream_data = 100000, .max_data = 1 << 30},
	      &(mpq_settings){0});
	request_all(&p, &a);
	/* Until every stream has written what it may. */
	assert_true(pair_run(&p, each_stopped, LIMIT));
	mpq_conn *srv = p.conn[PAIR_SERVER];
	for (int i = 0; i < NSTREAMS; i++) {
		mpq_stream *s = mpq_streams_find(&srv->streams, a.f[i].id);
		if (!s)
			continue;
		uint64_t bound = s->peer_max_data + CHUNK;
		assert_true(s->s_written <= bound);
		assert_true(mpq_sendbuf_bytes(&s->sbuf) <= bound - s->s_acked + 2 * CHUNK);
		/* Acknowledged chunks are gone. */
		assert_true(mpq_sendbuf_bytes(&s->sbuf) <= s->s_written - s->s_acked + 2 * CHUNK);
	}
	assert_int_equal(a.write_err, 0);
	assert_true(pair_run(&p, all_received, LIMIT));
	check_delivered(&a);
	pair_free(&p);
}

/* With credit to spare, the send window bounds it: bytes not yet acknowledged. */
static void stream_memory_bounded_by_window(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a = {.reply = 4 << 20};
	start(&p, &a, &(struct pair_opts){.max_stream_data = 1 << 30, .max_data = 1 << 30},
	      &(mpq_settings){.stream_send_window = 200000});
	request_all(&p, &a);
	assert_true(pair_run(&p, all_received, LIMIT));
	check_delivered(&a);
	assert_int_equal(a.write_err, 0);
	assert_true(a.short_writes > 0);
	/* Three streams, each at most the window rounded out to whole chunks. */
	assert_true(a.max_used <= NSTREAMS * ((200000 / CHUNK + 2) * CHUNK));
	pair_free(&p);
}

/* A connection's budget below what its streams want: writes come back short
 * (would-block), never failing or closing, and go on as acknowledgements free
 * memory, on every stream, until everything has arrived byte for byte. */
static void budget_exhaustion_blocks_then_resumes(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a = {.reply = 1 << 20};
	start(&p, &a, &(struct pair_opts){.max_stream_data = 1 << 30, .max_data = 1 << 30},
	      &(mpq_settings){.send_budget = 4 * CHUNK});
	request_all(&p, &a);
	assert_true(pair_run(&p, all_received, LIMIT));
	check_delivered(&a);
	assert_int_equal(a.write_err, 0);
	assert_true(a.short_writes > NSTREAMS);
	assert_true(a.max_used <= 4 * CHUNK);
	assert_false(mpq_conn_get_error(p.conn[PAIR_SERVER])->set);
	pair_free(&p);
}

/* A budget above the connection's (the endpoint's) bounds it the same way. */
static void shared_budget_blocks_then_resumes(void **state)
{
	(void)state;
	struct conn_pair p;
	struct app a = {.reply = 1 << 20};
	mpq_mem_budget shared = {.limit = 3 * CHUNK};
	start(&p, &a, &(struct pair_opts){.max_stream_data = 1 << 30, .max_data = 1 << 30},
	      &(mpq_settings){0});
	p.conn[PAIR_SERVER]->send_mem.parent = &shared;
	request_all(&p, &a);
	assert_true(pair_run(&p, all_received, LIMIT));
	check_delivered(&a);
	assert_int_equal(a.write_err, 0);
	assert_true(a.max_used <= 3 * CHUNK);
	assert_true(a.short_writes > NSTREAMS);
	pair_free(&p);
	assert_int_equal(shared.used, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bytes_exact_across_chunks),
		cmocka_unit_test(budget_chain_limits_appends),
		cmocka_unit_test(chunks_freed_inside),
		cmocka_unit_test(stream_frees_acked_chunks_above_a_hole),
		cmocka_unit_test(stream_memory_bounded_by_credit),
		cmocka_unit_test(stream_memory_bounded_by_window),
		cmocka_unit_test(budget_exhaustion_blocks_then_resumes),
		cmocka_unit_test(shared_budget_blocks_then_resumes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
