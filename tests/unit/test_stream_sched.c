/*
 * Stream schedulers (rr, prio, sprio) driven directly with synthetic streams:
 * a loop of peek -> sent(bytes) records which stream sent and how much, with
 * streams added, removed and re-prioritised along the way, and the lists
 * checked after every step of a long random run. Then "sprio" and "prio" over
 * an in-memory connection pair, with mpq_conn_stream_set_priority.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conn_pair.h"
#include "quic/sched/stream_sched.h"

#define NS 64	       /* streams a rig holds */
#define MAX_ORDER 4096 /* steps a rig records */

struct rig {
	const char *name;
	mpq_stream_sched sc;
	mpq_stream s[NS];
	uint64_t bytes[NS]; /* sent per stream */
	uint64_t turns[NS];
	int order[MAX_ORDER]; /* which stream sent, step by step */
	size_t norder;
	uint64_t rand;
};

static struct rig *rig_new(const char *name)
{
	struct rig *r = test_calloc(1, sizeof(*r));
	assert_non_null(r);
	r->name = name;
	r->sc.ops = mpq_stream_sched_find(name);
	assert_non_null(r->sc.ops);
	for (int i = 0; i < NS; i++) {
		r->s[i].id = 4 * i;
		r->s[i].urgency = MPQ_STREAM_URGENCY_DEFAULT;
	}
	r->rand = 12345;
	return r;
}

static void add(struct rig *r, int i)
{
	assert_false(r->s[i].scheduled);
	mpq_stream_sched_add(&r->sc, &r->s[i]);
	assert_true(r->s[i].scheduled);
}

static void del(struct rig *r, int i)
{
	assert_true(r->s[i].scheduled);
	mpq_stream_sched_remove(&r->sc, &r->s[i]);
	assert_false(r->s[i].scheduled);
	assert_null(r->s[i].sched_next);
	assert_null(r->s[i].sched_prev);
}

/* peek -> sent(bytes); the index of the stream that sent, or -1. */
static int step(struct rig *r, size_t bytes)
{
	mpq_stream *s = r->sc.ops->peek(&r->sc);
	if (!s)
		return -1;
	assert_true(s >= r->s && s < r->s + NS);
	assert_true(s->scheduled);
	int i = (int)(s - r->s);
	r->sc.ops->sent(&r->sc, s, bytes);
	assert_true(s->scheduled);
	r->bytes[i] += bytes;
	r->turns[i]++;
	if (r->norder < MAX_ORDER)
		r->order[r->norder++] = i;
	return i;
}

static void clear_counts(struct rig *r)
{
	memset(r->bytes, 0, sizeof(r->bytes));
	memset(r->turns, 0, sizeof(r->turns));
	r->norder = 0;
}

static uint64_t rnd(struct rig *r, uint64_t n)
{
	r->rand = r->rand * 6364136223846793005ULL + 1442695040888963407ULL;
	return (r->rand >> 33) % n;
}

static bool before(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0;
}

/* Walks |l| both ways: links agree, every stream on it is scheduled. Returns
 * how many it holds. */
static size_t check_list(const mpq_stream_list *l)
{
	size_t n = 0;
	const mpq_stream *prev = NULL;
	for (const mpq_stream *it = l->head; it; prev = it, it = it->sched_next) {
		assert_ptr_equal(it->sched_prev, prev);
		assert_true(it->scheduled);
		assert_true(++n <= NS);
	}
	assert_ptr_equal(l->tail, prev);
	return n;
}

static unsigned level_of(const mpq_stream *s)
{
	return s->urgency < MPQ_STREAM_URGENCY_LEVELS ? s->urgency : MPQ_STREAM_URGENCY_LEVELS - 1;
}

/* The scheduler's lists hold exactly the scheduled streams, in its order, and
 * peek() gives the one it should. */
static void check_rig(const struct rig *r)
{
	size_t scheduled = 0, listed = 0;
	for (int i = 0; i < NS; i++)
		scheduled += r->s[i].scheduled;
	const mpq_stream *top = r->sc.ops->peek((mpq_stream_sched *)&r->sc);
	if (strcmp(r->name, "rr") == 0) {
		listed = check_list(&r->sc.rr);
		assert_ptr_equal(top, r->sc.rr.head);
	} else if (strcmp(r->name, "prio") == 0) {
		listed = check_list(&r->sc.prio.list);
		assert_ptr_equal(top, r->sc.prio.list.head);
		for (const mpq_stream *it = r->sc.prio.list.head; it; it = it->sched_next) {
			const mpq_stream *next = it->sched_next;
			assert_false(before(it->sched_vstart, r->sc.prio.vtime));
			if (next)
				assert_false(before(next->sched_vstart, it->sched_vstart));
		}
	} else {
		unsigned most_urgent = MPQ_STREAM_URGENCY_LEVELS;
		for (int i = 0; i < NS; i++)
			if (r->s[i].scheduled && level_of(&r->s[i]) < most_urgent)
				most_urgent = level_of(&r->s[i]);
		for (unsigned u = 0; u < MPQ_STREAM_URGENCY_LEVELS; u++) {
			const mpq_stream_list *l = &r->sc.sprio.level[u];
			size_t n = check_list(l);
			assert_int_equal(!!(r->sc.sprio.nonempty & (1u << u)), n > 0);
			for (const mpq_stream *it = l->head; it; it = it->sched_next)
				assert_int_equal(level_of(it), u);
			listed += n;
		}
		if (top)
			assert_int_equal(level_of(top), most_urgent);
	}
	assert_int_equal(listed, scheduled);
	assert_int_equal(top != NULL, scheduled > 0);
}

static void find_by_name(void **state)
{
	(void)state;
	static const char *const names[] = {"rr", "prio", "sprio"};
	for (size_t i = 0; i < 3; i++) {
		const struct mpq_stream_sched_ops *ops = mpq_stream_sched_find(names[i]);
		assert_non_null(ops);
		assert_string_equal(ops->name, names[i]);
	}
	assert_ptr_equal(mpq_stream_sched_find("rr"), &mpq_stream_sched_rr);
	assert_ptr_equal(mpq_stream_sched_find("prio"), &mpq_stream_sched_prio);
	assert_ptr_equal(mpq_stream_sched_find("sprio"), &mpq_stream_sched_sprio);
	assert_null(mpq_stream_sched_find("wfq"));
	assert_null(mpq_stream_sched_find(""));
	assert_null(mpq_stream_sched_find("PRIO"));
}

static void empty_schedulers_peek_null(void **state)
{
	(void)state;
	static const char *const names[] = {"rr", "prio", "sprio"};
	for (size_t i = 0; i < 3; i++) {
		struct rig *r = rig_new(names[i]);
		assert_int_equal(step(r, 1000), -1);
		add(r, 5);
		assert_int_equal(step(r, 1000), 5);
		assert_int_equal(step(r, 1000), 5);
		del(r, 5);
		assert_int_equal(step(r, 1000), -1);
		/* Removing what is not scheduled is a no-op of the wrapper. */
		mpq_stream_sched_remove(&r->sc, &r->s[5]);
		check_rig(r);
		test_free(r);
	}
}

static void assert_order(const struct rig *r, const int *want, size_t n)
{
	assert_int_equal(r->norder, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r->order[i], want[i]);
}

/* Steps |n| times with |bytes| each. */
static void run(struct rig *r, size_t n, size_t bytes)
{
	for (size_t i = 0; i < n; i++) {
		assert_true(step(r, bytes) >= 0);
		check_rig(r);
	}
}

static void rr_alternates(void **state)
{
	(void)state;
	struct rig *r = rig_new("rr");
	for (int i = 0; i < 3; i++)
		add(r, i);
	/* Urgency and weight mean nothing to rr. */
	r->s[2].urgency = 0;
	r->s[1].weight = 200;
	run(r, 30, 1000);
	for (size_t i = 0; i < 30; i++)
		assert_int_equal(r->order[i], (int)(i % 3));

	/* Remove the middle stream: the other two alternate. */
	clear_counts(r);
	del(r, 1);
	run(r, 4, 1000);
	assert_order(r, (int[]){0, 2, 0, 2}, 4);
	/* Back again, it waits at the end of the line. */
	clear_counts(r);
	add(r, 1);
	run(r, 6, 1000);
	assert_order(r, (int[]){0, 2, 1, 0, 2, 1}, 6);
	/* Remove the head, then the tail, then the last one. */
	clear_counts(r);
	del(r, 0);
	run(r, 2, 1000);
	assert_order(r, (int[]){2, 1}, 2);
	del(r, 1);
	del(r, 2);
	assert_int_equal(step(r, 1000), -1);
	check_rig(r);
	test_free(r);
}

/* Frame sizes a real connection would send: 100 to 1400 bytes. */
static size_t frame_size(struct rig *r)
{
	return 100 + (size_t)rnd(r, 1301);
}

static void prio_weights_1_2_4(void **state)
{
	(void)state;
	struct rig *r = rig_new("prio");
	static const unsigned w[3] = {1, 2, 4};
	for (int i = 0; i < 3; i++) {
		r->s[i].weight = (uint8_t)w[i];
		add(r, i);
	}
	uint64_t total = 0;
	for (int n = 0; n < 20000; n++) {
		size_t b = frame_size(r);
		assert_true(step(r, b) >= 0);
		total += b;
		/* Start-time fair queueing's bound, at every step: the bytes two
		 * backlogged streams sent, each divided by its weight, differ by
		 * at most a largest frame divided by each weight. */
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++) {
				double d = (double)r->bytes[i] / w[i] - (double)r->bytes[j] / w[j];
				assert_true(d <= 1400.0 / w[i] + 1400.0 / w[j]);
			}
	}
	check_rig(r);
	for (int i = 0; i < 3; i++) {
		double share = (double)r->bytes[i] / (double)total, want = w[i] / 7.0;
		assert_true(share > want * 0.95 && share < want * 1.05);
	}
	/* Shares are of bytes: the weight-4 stream sent about 4x the frames too,
	 * as frames are of one distribution for all. */
	assert_true(r->turns[2] > 3 * r->turns[0]);
	test_free(r);
}

static void prio_equal_weights_interleave(void **state)
{
	(void)state;
	struct rig *r = rig_new("prio");
	/* Weight 0 in the struct means the default, 16: the same as 16. */
	r->s[3].weight = 16;
	for (int i = 0; i < 4; i++)
		add(r, i);
	run(r, 40, 1200);
	for (size_t i = 0; i < 40; i++)
		assert_int_equal(r->order[i], (int)(i % 4));
	test_free(r);
}

static void prio_shares_bytes_not_frames(void **state)
{
	(void)state;
	struct rig *r = rig_new("prio");
	add(r, 0);
	add(r, 1);
	for (int n = 0; n < 13000; n++) {
		int i = step(r, r->sc.ops->peek(&r->sc) == &r->s[0] ? 1200 : 100);
		assert_true(i >= 0);
		/* Never more than a frame apart. */
		assert_true(r->bytes[0] <= r->bytes[1] + 1200);
		assert_true(r->bytes[1] <= r->bytes[0] + 1200);
	}
	/* So the stream of small frames sent twelve times as many. */
	assert_true(r->turns[1] >= 11 * r->turns[0] && r->turns[1] <= 13 * r->turns[0]);
	test_free(r);
}

/* A stream that had nothing to send for a while gets no credit for it. */
static void prio_returning_stream_gets_no_burst(void **state)
{
	(void)state;
	struct rig *r = rig_new("prio");
	add(r, 0);
	add(r, 1);
	run(r, 100, 1000);
	del(r, 1);
	run(r, 500, 1000);
	assert_int_equal(r->bytes[0], 550000);
	assert_int_equal(r->bytes[1], 50000);
	clear_counts(r);
	add(r, 1);
	run(r, 20, 1000);
	/* Turns alternate at once: the returning stream catches up on nothing. */
	for (size_t i = 0; i + 1 < 20; i++)
		assert_int_not_equal(r->order[i], r->order[i + 1]);
	assert_int_equal(r->bytes[0], 10000);
	assert_int_equal(r->bytes[1], 10000);

	/* Leaving right after sending and coming straight back does not buy an
	 * extra turn either. */
	clear_counts(r);
	for (int n = 0; n < 50; n++) {
		int i = step(r, 1000);
		if (i == 1) {
			del(r, 1);
			add(r, 1);
		}
		check_rig(r);
	}
	assert_int_equal(r->bytes[0], 25000);
	assert_int_equal(r->bytes[1], 25000);
	test_free(r);
}

/* A stream added mid-run gets its share from then on, and no more. */
static void prio_new_stream_joins_at_its_share(void **state)
{
	(void)state;
	struct rig *r = rig_new("prio");
	add(r, 0);
	add(r, 1);
	run(r, 1000, 1000);
	clear_counts(r);
	r->s[2].weight = 64; /* four times the others' 16 */
	add(r, 2);
	run(r, 600, 1000);
	/* 4/6 of the steps, to a frame or two. */
	assert_true(r->turns[2] >= 398 && r->turns[2] <= 402);
	assert_true(r->turns[0] >= 98 && r->turns[0] <= 102);
	/* And from the start, not after a burst: within any 12 steps it sends 8. */
	for (size_t i = 0; i + 12 <= r->norder; i++) {
		int n = 0;
		for (size_t k = i; k < i + 12; k++)
			n += r->order[k] == 2;
		assert_true(n >= 7 && n <= 9);
	}
	test_free(r);
}

static void prio_set_priority_reweights(void **state)
{
	(void)state;
	struct rig *r = rig_new("prio");
	add(r, 0);
	add(r, 1);
	add(r, 2);
	run(r, 99, 1000);
	/* Unchanged (16 is the default of weight 0): the schedule is untouched. */
	mpq_stream *head = r->sc.prio.list.head;
	mpq_stream_sched_set_priority(&r->sc, &r->s[1], MPQ_STREAM_URGENCY_DEFAULT, 16);
	assert_ptr_equal(r->sc.prio.list.head, head);
	assert_int_equal(r->s[1].weight, 0);
	/* Stream 1 to 48, stream 2 out of the schedule and changed there. */
	mpq_stream_sched_set_priority(&r->sc, &r->s[1], MPQ_STREAM_URGENCY_DEFAULT, 48);
	assert_true(r->s[1].scheduled);
	del(r, 2);
	mpq_stream_sched_set_priority(&r->sc, &r->s[2], 0, 255);
	assert_false(r->s[2].scheduled);
	check_rig(r);
	clear_counts(r);
	run(r, 400, 1000);
	assert_true(r->turns[1] >= 298 && r->turns[1] <= 302);
	assert_int_equal(r->turns[2], 0);
	/* Back with 255 against 16 and 48. */
	clear_counts(r);
	add(r, 2);
	run(r, 3190, 1000);
	assert_true(r->turns[2] >= 2548 && r->turns[2] <= 2552);
	assert_true(r->turns[1] >= 478 && r->turns[1] <= 482);
	test_free(r);
}

static void sprio_most_urgent_until_removed(void **state)
{
	(void)state;
	struct rig *r = rig_new("sprio");
	r->s[0].urgency = 3;
	r->s[1].urgency = 3;
	r->s[2].urgency = 1;
	r->s[3].urgency = 7;
	for (int i = 0; i < 4; i++)
		add(r, i);
	run(r, 50, 1200);
	assert_int_equal(r->turns[2], 50);
	/* The urgent stream is done: the two of urgency 3 interleave. */
	clear_counts(r);
	del(r, 2);
	run(r, 10, 1200);
	assert_order(r, (int[]){0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, 10);
	/* One of them pauses and comes back: it rejoins at the back of its level. */
	clear_counts(r);
	del(r, 0);
	run(r, 3, 1200);
	add(r, 0);
	run(r, 4, 1200);
	assert_order(r, (int[]){1, 1, 1, 1, 0, 1, 0}, 7);
	/* Only when both are gone does urgency 7 get a turn. */
	del(r, 0);
	del(r, 1);
	assert_int_equal(step(r, 1200), 3);
	test_free(r);
}

static void sprio_new_urgent_preempts_at_once(void **state)
{
	(void)state;
	struct rig *r = rig_new("sprio");
	add(r, 0);
	add(r, 1);
	run(r, 5, 1000);
	r->s[2].urgency = 0;
	add(r, 2);
	assert_int_equal(step(r, 1000), 2);
	assert_int_equal(step(r, 1000), 2);
	/* A second one of urgency 0 shares with the first. */
	r->s[3].urgency = 0;
	add(r, 3);
	clear_counts(r);
	run(r, 6, 1000);
	assert_order(r, (int[]){2, 3, 2, 3, 2, 3}, 6);
	/* Urgencies beyond 7 count as 7: behind 3, beside 7. */
	del(r, 2);
	del(r, 3);
	del(r, 0);
	del(r, 1);
	r->s[4].urgency = 200;
	r->s[5].urgency = 7;
	r->s[6].urgency = 6;
	add(r, 4);
	add(r, 5);
	add(r, 6);
	clear_counts(r);
	run(r, 2, 1000);
	del(r, 6);
	run(r, 4, 1000);
	assert_order(r, (int[]){6, 6, 4, 5, 4, 5}, 6);
	test_free(r);
}

static void sprio_set_priority_moves_at_once(void **state)
{
	(void)state;
	struct rig *r = rig_new("sprio");
	for (int i = 0; i < 3; i++)
		add(r, i);
	run(r, 4, 1000); /* 0 1 2 0: 1 is next */
	assert_ptr_equal(r->sc.ops->peek(&r->sc), &r->s[1]);
	/* Same priority: keeps its place in the line. */
	mpq_stream_sched_set_priority(&r->sc, &r->s[1], MPQ_STREAM_URGENCY_DEFAULT, 16);
	assert_ptr_equal(r->sc.ops->peek(&r->sc), &r->s[1]);
	mpq_stream_sched_set_priority(&r->sc, &r->s[2], 0, 16);
	check_rig(r);
	clear_counts(r);
	run(r, 3, 1000);
	assert_order(r, (int[]){2, 2, 2}, 3);
	/* And back below the others: it waits behind both. */
	mpq_stream_sched_set_priority(&r->sc, &r->s[2], 5, 16);
	run(r, 4, 1000);
	assert_order(r, (int[]){2, 2, 2, 1, 0, 1, 0}, 7);
	test_free(r);
}

/* Thousands of random adds, removes, priority changes and sends over 64
 * streams; the lists are checked after each. */
static void random_churn(const char *name)
{
	struct rig *r = rig_new(name);
	for (int n = 0; n < 40000; n++) {
		int i = (int)rnd(r, NS);
		switch (rnd(r, 8)) {
		case 0:
			if (!r->s[i].scheduled) {
				r->s[i].urgency = (uint8_t)rnd(r, 9);
				r->s[i].weight = (uint8_t)rnd(r, 256);
				add(r, i);
			}
			break;
		case 1:
			if (r->s[i].scheduled)
				del(r, i);
			break;
		case 2:
			mpq_stream_sched_set_priority(&r->sc, &r->s[i], (uint8_t)rnd(r, 8),
						      (uint8_t)(1 + rnd(r, 255)));
			break;
		default:
			step(r, frame_size(r));
			break;
		}
		check_rig(r);
	}
	test_free(r);
}

static void churn_rr(void **state)
{
	(void)state;
	random_churn("rr");
}

static void churn_prio(void **state)
{
	(void)state;
	random_churn("prio");
}

static void churn_sprio(void **state)
{
	(void)state;
	random_churn("sprio");
}

/* ---- Over a connection ---- */

#define LIMIT (60 * MPQ_SEC)
#define STREAM_BYTES 60000

struct arrivals {
	int64_t id[1024]; /* stream of each stream_data call at the server */
	size_t len[1024];
	size_t n;
	uint64_t received[2]; /* per stream (index: id / 4) */
	bool fin[2];
};

static int record_data(mpq_conn *c, int64_t id, uint64_t off, const uint8_t *d, size_t len,
		       bool fin, void *ud)
{
	struct arrivals *a = ((struct conn_pair *)ud)->app;
	(void)c;
	(void)d;
	if (id != 0 && id != 4)
		return -1;
	if (len && a->n < 1024) {
		a->id[a->n] = id;
		a->len[a->n++] = len;
	}
	a->received[id / 4] = off + len;
	if (fin)
		a->fin[id / 4] = true;
	return 0;
}

static const mpq_callbacks record_cb = {.struct_version = MPQ_CALLBACKS_VERSION,
					.stream_data = record_data};

static bool both_done(struct conn_pair *p)
{
	struct arrivals *a = p->app;
	return a->fin[0] && a->fin[1];
}

/* The client writes STREAM_BYTES on streams 0 and 4 at one instant, calls
 * |prioritise| for its chance to reorder them, and the server records the
 * order in which the bytes arrive. */
static void two_streams(const char *sched, void (*prioritise)(mpq_conn *c), struct arrivals *a)
{
	static uint8_t data[STREAM_BYTES];
	struct conn_pair p;
	memset(a, 0, sizeof(*a));
	struct pair_opts o = {.app = {&record_cb, &record_cb},
			      .app_state = a,
			      .stream_sched = sched};
	assert_int_equal(pair_init(&p, &o), 0);
	assert_true(pair_run(&p, pair_both_complete, LIMIT));
	int64_t id[2];
	for (int i = 0; i < 2; i++) {
		assert_int_equal(mpq_conn_open_stream(p.conn[0], true, &id[i]), 0);
		assert_int_equal(id[i], 4 * i);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(mpq_conn_stream_write(p.conn[0], id[i], data, sizeof(data), true),
				 STREAM_BYTES);
	prioritise(p.conn[0]);
	assert_true(pair_run(&p, both_done, LIMIT));
	assert_int_equal(a->received[0], STREAM_BYTES);
	assert_int_equal(a->received[1], STREAM_BYTES);
	assert_true(a->n < 1024);
	pair_free(&p);
}

static void leave_alone(mpq_conn *c)
{
	(void)c;
}

/* Stream 4, written second, made most urgent after both were written. */
static void stream4_urgent(mpq_conn *c)
{
	assert_int_equal(mpq_conn_stream_set_priority(c, 4, 8, 16), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_conn_stream_set_priority(c, 4, 0, 0), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_conn_stream_set_priority(c, 8, 0, 16), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_conn_stream_set_priority(c, 4, 0, 16), 0);
}

/* Stream 4 gets four times stream 0's share. */
static void stream4_weight_64(mpq_conn *c)
{
	assert_int_equal(mpq_conn_stream_set_priority(c, 4, MPQ_STREAM_URGENCY_DEFAULT, 64), 0);
}

/* Index of the first and last stream_data call for |id|. */
static void span(const struct arrivals *a, int64_t id, size_t *first, size_t *last)
{
	*first = SIZE_MAX;
	*last = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (a->id[i] != id)
			continue;
		if (*first == SIZE_MAX)
			*first = i;
		*last = i;
	}
	assert_true(*first != SIZE_MAX);
}

static void sprio_urgent_stream_arrives_first(void **state)
{
	(void)state;
	struct arrivals *a = test_malloc(sizeof(*a));
	size_t first0, last0, first4, last4;

	/* Equal urgency under sprio: the two interleave. */
	two_streams("sprio", leave_alone, a);
	span(a, 0, &first0, &last0);
	span(a, 4, &first4, &last4);
	assert_true(first4 < last0 && first0 < last4);

	/* Stream 4 at urgency 0: every byte of it comes before stream 0's first,
	 * although stream 0 was written first. */
	two_streams("sprio", stream4_urgent, a);
	span(a, 0, &first0, &last0);
	span(a, 4, &first4, &last4);
	assert_int_equal(first4, 0);
	assert_true(last4 < first0);

	/* The same priority means nothing to rr: they interleave. */
	two_streams("rr", stream4_urgent, a);
	span(a, 0, &first0, &last0);
	span(a, 4, &first4, &last4);
	assert_true(first4 < last0 && first0 < last4);
	test_free(a);
}

static void prio_weights_hold_over_a_connection(void **state)
{
	(void)state;
	struct arrivals *a = test_malloc(sizeof(*a));
	two_streams("prio", stream4_weight_64, a);
	/* By the time stream 4 is complete, stream 0 has a quarter of that,
	 * give or take two packets. */
	size_t first4, last4;
	span(a, 4, &first4, &last4);
	uint64_t got0 = 0;
	for (size_t i = 0; i < last4; i++)
		if (a->id[i] == 0)
			got0 += a->len[i];
	assert_true(got0 >= STREAM_BYTES / 4 - 3000 && got0 <= STREAM_BYTES / 4 + 3000);
	test_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(find_by_name),
		cmocka_unit_test(empty_schedulers_peek_null),
		cmocka_unit_test(rr_alternates),
		cmocka_unit_test(prio_weights_1_2_4),
		cmocka_unit_test(prio_equal_weights_interleave),
		cmocka_unit_test(prio_shares_bytes_not_frames),
		cmocka_unit_test(prio_returning_stream_gets_no_burst),
		cmocka_unit_test(prio_new_stream_joins_at_its_share),
		cmocka_unit_test(prio_set_priority_reweights),
		cmocka_unit_test(sprio_most_urgent_until_removed),
		cmocka_unit_test(sprio_new_urgent_preempts_at_once),
		cmocka_unit_test(sprio_set_priority_moves_at_once),
		cmocka_unit_test(churn_rr),
		cmocka_unit_test(churn_prio),
		cmocka_unit_test(churn_sprio),
		cmocka_unit_test(sprio_urgent_stream_arrives_first),
		cmocka_unit_test(prio_weights_hold_over_a_connection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
