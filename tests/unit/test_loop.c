/* The epoll loop: timers in deadline order and never early, periodic and
 * re-armed timers, descriptor callbacks, stop from a callback, from an error
 * and from SIGTERM/SIGINT. Every test has a guard timer so a bug fails the
 * test instead of hanging it. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "fds.h"
#include "mpq/io/loop.h"

#define GUARD (5 * MPQ_SEC)

static int guard_fired(mpq_loop *loop, mpq_loop_timer *t, void *user_data)
{
	fail_msg("guard timer fired: the loop did not stop");
	return MPQ_ERR_INTERNAL;
}

static mpq_loop *new_loop(mpq_loop_timer *guard)
{
	mpq_loop *loop = NULL;

	assert_int_equal(mpq_loop_new(&loop, NULL), 0);
	mpq_loop_timer_init(guard, guard_fired, NULL);
	assert_int_equal(mpq_loop_timer_set(loop, guard, mpq_loop_now() + GUARD, 0), 0);
	return loop;
}

static int stop_cb(mpq_loop *loop, mpq_loop_timer *t, void *user_data)
{
	mpq_loop_stop(loop);
	return 0;
}

/* One firing: which timer, when it was due, when it ran. */
struct firing {
	int id;
	uint64_t due;
	uint64_t at;
};

struct recorder {
	struct firing log[512];
	size_t n;
};

struct rec_timer {
	mpq_loop_timer t;
	struct recorder *rec;
	int id;
	uint64_t due;
	bool stops;
};

static int record_cb(mpq_loop *loop, mpq_loop_timer *t, void *user_data)
{
	struct rec_timer *rt = user_data;
	struct recorder *rec = rt->rec;

	assert_true(rec->n < sizeof(rec->log) / sizeof(rec->log[0]));
	rec->log[rec->n++] = (struct firing){.id = rt->id, .due = rt->due, .at = mpq_loop_now()};
	if (rt->stops)
		mpq_loop_stop(loop);
	return 0;
}

static void rec_set(mpq_loop *loop, struct rec_timer *rt, uint64_t due)
{
	rt->due = due;
	assert_int_equal(mpq_loop_timer_set(loop, &rt->t, due, 0), 0);
}

static void now_is_monotonic(void **state)
{
	struct timespec ms = {0, 1000000};
	uint64_t a = mpq_loop_now();
	uint64_t b = mpq_loop_now();

	assert_true(b >= a);
	nanosleep(&ms, NULL);
	assert_true(mpq_loop_now() - a >= MPQ_MS);
}

static void timers_fire_in_order_at_deadlines(void **state)
{
	static const uint64_t offs[] = {30, 10, 20, 10, 5, 0};
	static const int want[] = {5, 4, 1, 3, 2, 0};
	struct rec_timer rt[6];
	struct recorder rec = {.n = 0};
	mpq_loop_timer guard;
	mpq_loop *loop = new_loop(&guard);
	uint64_t base = mpq_loop_now() + 5 * MPQ_MS;

	for (int i = 0; i < 6; i++) {
		rt[i] = (struct rec_timer){.rec = &rec, .id = i, .stops = i == 0};
		mpq_loop_timer_init(&rt[i].t, record_cb, &rt[i]);
		/* Timer 5 is due before the loop starts: it fires at once. */
		rec_set(loop, &rt[i], i == 5 ? base - 10 * MPQ_MS : base + offs[i] * MPQ_MS);
		assert_true(mpq_loop_timer_armed(&rt[i].t));
	}
	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(rec.n, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(rec.log[i].id, want[i]);
		assert_true(rec.log[i].at >= rec.log[i].due);
		assert_false(mpq_loop_timer_armed(&rt[i].t));
		assert_int_equal(rt[i].t.deadline, MPQ_TIME_NEVER);
	}
	mpq_loop_del(loop);
}

/* A seeded mix of set, re-set and cancel on 200 timers with many ties: they
 * fire sorted by deadline, ties in the order they were last armed. */
static void many_timers_heap_order(void **state)
{
	enum { N = 200 };
	static struct rec_timer rt[N];
	static struct recorder rec;
	struct rec_timer last;
	mpq_loop_timer guard;
	mpq_loop *loop = new_loop(&guard);
	uint64_t base = mpq_loop_now() + 5 * MPQ_MS;
	uint64_t seed = 12345, seq = 0, max = 0;
	uint64_t armed_seq[N];
	size_t expect_n = 0;
	int expect[N];

	rec.n = 0;
	for (int i = 0; i < N; i++) {
		rt[i] = (struct rec_timer){.rec = &rec, .id = i};
		mpq_loop_timer_init(&rt[i].t, record_cb, &rt[i]);
	}
	for (int round = 0; round < 3 * N; round++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		int i = (int)((seed >> 33) % N);
		uint64_t due = base + ((seed >> 20) % 40) * MPQ_MS / 4;

		if ((seed >> 50) % 5 == 0) {
			mpq_loop_timer_cancel(loop, &rt[i].t);
		} else {
			rec_set(loop, &rt[i], due);
			armed_seq[i] = seq++;
		}
	}
	for (int i = 0; i < N; i++) {
		if (!mpq_loop_timer_armed(&rt[i].t))
			continue;
		expect[expect_n++] = i;
		if (rt[i].due > max)
			max = rt[i].due;
	}
	/* Insertion sort of the expected order on (deadline, arming order). */
	for (size_t a = 1; a < expect_n; a++) {
		int x = expect[a];
		size_t b = a;

		while (b > 0 && (rt[expect[b - 1]].due > rt[x].due ||
				 (rt[expect[b - 1]].due == rt[x].due &&
				  armed_seq[expect[b - 1]] > armed_seq[x]))) {
			expect[b] = expect[b - 1];
			b--;
		}
		expect[b] = x;
	}
	last = (struct rec_timer){.rec = &rec, .id = -1, .stops = true};
	mpq_loop_timer_init(&last.t, record_cb, &last);
	rec_set(loop, &last, max + MPQ_MS);

	assert_true(expect_n > N / 2);
	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(rec.n, expect_n + 1);
	for (size_t k = 0; k < expect_n; k++) {
		assert_int_equal(rec.log[k].id, expect[k]);
		assert_true(rec.log[k].at >= rec.log[k].due);
	}
	assert_int_equal(rec.log[expect_n].id, -1);
	mpq_loop_del(loop);
}

struct periodic {
	mpq_loop_timer t;
	uint64_t first;
	uint64_t interval;
	int fired;
	uint64_t due[8];
	uint64_t at[8];
};

static int periodic_cb(mpq_loop *loop, mpq_loop_timer *t, void *user_data)
{
	struct periodic *p = user_data;

	/* Re-armed before the callback: the next deadline is already set. */
	p->due[p->fired] = t->deadline - p->interval;
	p->at[p->fired] = mpq_loop_now();
	if (++p->fired == 5) {
		mpq_loop_timer_cancel(loop, t);
		mpq_loop_stop(loop);
	}
	return 0;
}

struct rearm {
	mpq_loop_timer t;
	int fired;
	uint64_t due;
	bool late;
};

static int rearm_cb(mpq_loop *loop, mpq_loop_timer *t, void *user_data)
{
	struct rearm *r = user_data;

	if (mpq_loop_now() < r->due)
		r->late = true; /* fired early: recorded, asserted below */
	if (++r->fired < 3) {
		r->due = mpq_loop_now() + MPQ_MS;
		return mpq_loop_timer_set(loop, t, r->due, 0);
	}
	return 0;
}

static void periodic_and_rearmed_timers(void **state)
{
	struct periodic p = {.interval = 2 * MPQ_MS};
	struct rearm r = {.fired = 0};
	mpq_loop_timer guard;
	mpq_loop *loop = new_loop(&guard);

	p.first = mpq_loop_now() + MPQ_MS;
	mpq_loop_timer_init(&p.t, periodic_cb, &p);
	assert_int_equal(mpq_loop_timer_set(loop, &p.t, p.first, p.interval), 0);
	mpq_loop_timer_init(&r.t, rearm_cb, &r);
	r.due = mpq_loop_now() + MPQ_MS;
	assert_int_equal(mpq_loop_timer_set(loop, &r.t, r.due, 0), 0);

	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(p.fired, 5);
	assert_false(mpq_loop_timer_armed(&p.t));
	assert_true(p.due[0] >= p.first); /* later ones if the loop was late */
	for (int i = 0; i < 5; i++) {
		assert_true(p.at[i] >= p.due[i]);
		/* Deadlines stay on the grid first + k * interval. */
		assert_int_equal((p.due[i] - p.first) % p.interval, 0);
		if (i > 0)
			assert_true(p.due[i] > p.due[i - 1]);
	}
	/* The one-shot timer re-armed itself twice; run until it is done. */
	if (r.fired < 3) {
		struct rec_timer stop = {.stops = true};
		struct recorder rec = {.n = 0};

		stop.rec = &rec;
		mpq_loop_timer_init(&stop.t, record_cb, &stop);
		rec_set(loop, &stop, mpq_loop_now() + 20 * MPQ_MS);
		assert_int_equal(mpq_loop_run(loop), 0);
	}
	assert_int_equal(r.fired, 3);
	assert_false(r.late);
	assert_false(mpq_loop_timer_armed(&r.t));
	mpq_loop_del(loop);
}

static void cancel_and_reset(void **state)
{
	struct recorder rec = {.n = 0};
	struct rec_timer a = {.rec = &rec, .id = 1}, b = {.rec = &rec, .id = 2};
	struct rec_timer c = {.rec = &rec, .id = 3}, stop = {.rec = &rec, .id = 4, .stops = true};
	mpq_loop_timer guard;
	mpq_loop *loop = new_loop(&guard);
	uint64_t now = mpq_loop_now();

	mpq_loop_timer_init(&a.t, record_cb, &a);
	mpq_loop_timer_init(&b.t, record_cb, &b);
	mpq_loop_timer_init(&c.t, record_cb, &c);
	mpq_loop_timer_init(&stop.t, record_cb, &stop);
	rec_set(loop, &a, now + 5 * MPQ_MS);
	mpq_loop_timer_cancel(loop, &a.t); /* never fires */
	mpq_loop_timer_cancel(loop, &a.t); /* twice is fine */
	rec_set(loop, &b, now + 500 * MPQ_MS);
	rec_set(loop, &b, now + 5 * MPQ_MS); /* moved earlier */
	rec_set(loop, &c, now + 5 * MPQ_MS);
	rec_set(loop, &c, now + 1000 * MPQ_MS); /* moved later */
	rec_set(loop, &stop, now + 20 * MPQ_MS);
	assert_false(mpq_loop_timer_armed(&a.t));

	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.log[0].id, 2);
	assert_int_equal(rec.log[1].id, 4);
	assert_true(mpq_loop_timer_armed(&c.t));
	/* MPQ_TIME_NEVER cancels too. */
	assert_int_equal(mpq_loop_timer_set(loop, &c.t, MPQ_TIME_NEVER, 0), 0);
	assert_false(mpq_loop_timer_armed(&c.t));
	mpq_loop_del(loop);
}

struct pipe_test {
	int fds[2];
	mpq_loop_timer writer;
	uint64_t written_at;
	uint64_t read_at;
	char got[16];
	int reads;
	int writes;
};

static int write_cb(mpq_loop *loop, mpq_loop_timer *t, void *user_data)
{
	struct pipe_test *p = user_data;

	p->written_at = mpq_loop_now();
	assert_int_equal(write(p->fds[1], "hello", 5), 5);
	return 0;
}

static int readable_cb(mpq_loop *loop, int fd, unsigned int events, void *user_data)
{
	struct pipe_test *p = user_data;

	assert_int_equal(fd, p->fds[0]);
	assert_true(events & MPQ_LOOP_READ);
	p->read_at = mpq_loop_now();
	assert_int_equal(read(fd, p->got, sizeof(p->got)), 5);
	p->reads++;
	mpq_loop_stop(loop);
	return 0;
}

static int writable_cb(mpq_loop *loop, int fd, unsigned int events, void *user_data)
{
	struct pipe_test *p = user_data;

	assert_int_equal(fd, p->fds[1]);
	assert_int_equal(events, MPQ_LOOP_WRITE);
	p->writes++;
	/* Writable is level-triggered: ask no more, or it would repeat. */
	return mpq_loop_mod_fd(loop, fd, 0);
}

static void fd_readiness_callbacks(void **state)
{
	struct pipe_test p = {.reads = 0};
	mpq_loop_timer guard;
	mpq_loop *loop = new_loop(&guard);

	assert_int_equal(pipe(p.fds), 0);
	assert_int_equal(mpq_loop_add_fd(loop, p.fds[0], MPQ_LOOP_READ, readable_cb, &p), 0);
	assert_int_equal(mpq_loop_add_fd(loop, p.fds[1], MPQ_LOOP_WRITE, writable_cb, &p), 0);
	mpq_loop_timer_init(&p.writer, write_cb, &p);
	assert_int_equal(mpq_loop_timer_set(loop, &p.writer, mpq_loop_now() + 5 * MPQ_MS, 0), 0);

	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(p.reads, 1);
	assert_int_equal(p.writes, 1);
	assert_memory_equal(p.got, "hello", 5);
	assert_true(p.read_at >= p.written_at);

	/* Registering twice, changing or deleting what is not there. */
	assert_int_equal(mpq_loop_add_fd(loop, p.fds[0], MPQ_LOOP_READ, readable_cb, &p),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_loop_add_fd(loop, -1, MPQ_LOOP_READ, readable_cb, &p),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_loop_add_fd(loop, 1000, 0x80, readable_cb, &p),
			 MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_loop_del_fd(loop, p.fds[0]), 0);
	assert_int_equal(mpq_loop_del_fd(loop, p.fds[0]), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_loop_mod_fd(loop, p.fds[0], MPQ_LOOP_READ), MPQ_ERR_NOT_FOUND);
	assert_int_equal(mpq_loop_del_fd(loop, p.fds[1]), 0);
	close(p.fds[0]);
	close(p.fds[1]);
	mpq_loop_del(loop);
}

struct two_pipes {
	int a[2];
	int b[2];
	int calls;
};

static int delete_both_cb(mpq_loop *loop, int fd, unsigned int events, void *user_data)
{
	struct two_pipes *t = user_data;

	t->calls++;
	assert_int_equal(mpq_loop_del_fd(loop, t->a[0]), 0);
	assert_int_equal(mpq_loop_del_fd(loop, t->b[0]), 0);
	return 0;
}

/* Both pipes are readable when the loop waits; the first callback deletes
 * both, so the second's already-collected event must not be delivered. */
static void deleted_fd_gets_no_pending_event(void **state)
{
	struct two_pipes t = {.calls = 0};
	struct recorder rec = {.n = 0};
	struct rec_timer stop = {.rec = &rec, .stops = true};
	mpq_loop_timer guard;
	mpq_loop *loop = new_loop(&guard);

	assert_int_equal(pipe(t.a), 0);
	assert_int_equal(pipe(t.b), 0);
	assert_int_equal(write(t.a[1], "x", 1), 1);
	assert_int_equal(write(t.b[1], "y", 1), 1);
	assert_int_equal(mpq_loop_add_fd(loop, t.a[0], MPQ_LOOP_READ, delete_both_cb, &t), 0);
	assert_int_equal(mpq_loop_add_fd(loop, t.b[0], MPQ_LOOP_READ, delete_both_cb, &t), 0);
	mpq_loop_timer_init(&stop.t, record_cb, &stop);
	rec_set(loop, &stop, mpq_loop_now() + 20 * MPQ_MS);

	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(t.calls, 1);
	assert_int_equal(rec.n, 1);
	close(t.a[0]);
	close(t.a[1]);
	close(t.b[0]);
	close(t.b[1]);
	mpq_loop_del(loop);
}

static void stop_from_callback(void **state)
{
	struct recorder rec = {.n = 0};
	struct rec_timer t[3];
	mpq_loop_timer guard;
	mpq_loop *loop = new_loop(&guard);
	uint64_t now = mpq_loop_now();

	for (int i = 0; i < 3; i++) {
		t[i] = (struct rec_timer){.rec = &rec, .id = i, .stops = i >= 1};
		mpq_loop_timer_init(&t[i].t, record_cb, &t[i]);
		rec_set(loop, &t[i], now + (uint64_t)(i + 1) * MPQ_MS);
	}
	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.log[1].id, 1);
	assert_true(mpq_loop_timer_armed(&t[2].t));
	/* The loop can run again and picks up where it stopped. */
	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(rec.n, 3);
	assert_int_equal(rec.log[2].id, 2);
	/* A stop requested while not running makes the next run return at once. */
	mpq_loop_stop(loop);
	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(rec.n, 3);
	mpq_loop_del(loop);
}

static int fail_cb(mpq_loop *loop, mpq_loop_timer *t, void *user_data)
{
	(*(int *)user_data)++;
	return MPQ_ERR_INTERNAL;
}

static void callback_error_stops_loop(void **state)
{
	mpq_loop_timer guard, bad, never;
	mpq_loop *loop = new_loop(&guard);
	int calls = 0;

	mpq_loop_timer_init(&bad, fail_cb, &calls);
	mpq_loop_timer_init(&never, fail_cb, &calls);
	assert_int_equal(mpq_loop_timer_set(loop, &bad, mpq_loop_now() + MPQ_MS, 0), 0);
	assert_int_equal(mpq_loop_timer_set(loop, &never, mpq_loop_now() + 10 * MPQ_MS, 0), 0);
	assert_int_equal(mpq_loop_run(loop), MPQ_ERR_INTERNAL);
	assert_int_equal(calls, 1);
	mpq_loop_del(loop);
}

static int raise_cb(mpq_loop *loop, mpq_loop_timer *t, void *user_data)
{
	raise(*(int *)user_data);
	return 0;
}

static bool blocked(int signo)
{
	sigset_t cur;

	sigprocmask(SIG_SETMASK, NULL, &cur);
	return sigismember(&cur, signo) == 1;
}

static void signal_stops_loop(void **state)
{
	mpq_loop_timer guard, raiser;
	mpq_loop *loop = new_loop(&guard);
	int sig = SIGTERM;

	assert_false(blocked(SIGTERM));
	assert_int_equal(mpq_loop_stop_on_signal(loop, SIGTERM), 0);
	assert_int_equal(mpq_loop_stop_on_signal(loop, SIGINT), 0);
	assert_int_equal(mpq_loop_stop_on_signal(loop, SIGTERM), 0); /* again: no-op */
	assert_int_equal(mpq_loop_stop_on_signal(loop, SIGKILL), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_loop_stop_on_signal(loop, 0), MPQ_ERR_INVALID_ARGUMENT);
	assert_true(blocked(SIGTERM));

	/* Raised from a callback while the loop runs. */
	mpq_loop_timer_init(&raiser, raise_cb, &sig);
	assert_int_equal(mpq_loop_timer_set(loop, &raiser, mpq_loop_now() + MPQ_MS, 0), 0);
	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(mpq_loop_signal(loop), SIGTERM);

	/* Raised before the loop runs: it stops as soon as it looks. */
	raise(SIGINT);
	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(mpq_loop_signal(loop), SIGINT);

	/* Stopped another way, no signal is reported. */
	mpq_loop_stop(loop);
	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(mpq_loop_signal(loop), 0);

	mpq_loop_del(loop);
	assert_false(blocked(SIGTERM));
	assert_false(blocked(SIGINT));
}

struct starve {
	mpq_loop_timer t;
	int fds[2];
	long timer_calls;
	int fd_calls;
};

static int past_again_cb(mpq_loop *loop, mpq_loop_timer *t, void *user_data)
{
	struct starve *s = user_data;

	s->timer_calls++;
	return mpq_loop_timer_set(loop, t, 0, 0); /* always due */
}

static int starve_fd_cb(mpq_loop *loop, int fd, unsigned int events, void *user_data)
{
	struct starve *s = user_data;

	s->fd_calls++;
	mpq_loop_stop(loop);
	return 0;
}

/* A timer that keeps re-arming itself in the past must not keep a ready
 * descriptor from being served. */
static void past_timers_do_not_starve_fds(void **state)
{
	struct starve s = {.timer_calls = 0};
	mpq_loop_timer guard;
	mpq_loop *loop = new_loop(&guard);

	assert_int_equal(pipe(s.fds), 0);
	assert_int_equal(write(s.fds[1], "z", 1), 1);
	assert_int_equal(mpq_loop_add_fd(loop, s.fds[0], MPQ_LOOP_READ, starve_fd_cb, &s), 0);
	mpq_loop_timer_init(&s.t, past_again_cb, &s);
	assert_int_equal(mpq_loop_timer_set(loop, &s.t, 0, 0), 0);
	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(s.fd_calls, 1);
	assert_true(s.timer_calls >= 1);
	mpq_loop_timer_cancel(loop, &s.t);
	close(s.fds[0]);
	close(s.fds[1]);
	mpq_loop_del(loop);
}

static void timer_arguments(void **state)
{
	mpq_loop_timer guard, t;
	mpq_loop *loop = new_loop(&guard);

	mpq_loop_timer_init(&t, NULL, NULL);
	assert_int_equal(mpq_loop_timer_set(loop, &t, 1, 0), MPQ_ERR_INVALID_ARGUMENT);
	assert_false(mpq_loop_timer_armed(&t));
	mpq_loop_timer_init(&t, stop_cb, NULL);
	assert_int_equal(mpq_loop_timer_set(NULL, &t, 1, 0), MPQ_ERR_INVALID_ARGUMENT);
	assert_int_equal(mpq_loop_timer_set(loop, &t, mpq_loop_now(), 0), 0);
	assert_int_equal(mpq_loop_run(loop), 0); /* stop_cb stopped it */
	assert_int_equal(mpq_loop_run(NULL), MPQ_ERR_INVALID_ARGUMENT);
	mpq_loop_del(loop);
	mpq_loop_del(NULL);
}

/* The deadline is the wait's timeout: a loop holds its epoll descriptor and
 * nothing else (no timerfd to set and read around every wakeup), and a timer
 * still fires no earlier than its deadline. */
static void timers_need_no_descriptor(void **state)
{
	struct recorder rec = {.n = 0};
	struct rec_timer a = {.rec = &rec, .id = 1, .stops = true};
	int before = test_count_fds();
	mpq_loop_timer guard;
	mpq_loop *loop = new_loop(&guard);

	assert_int_equal(test_count_fds(), before + 1);
	mpq_loop_timer_init(&a.t, record_cb, &a);
	rec_set(loop, &a, mpq_loop_now() + 3 * MPQ_SEC / 1000);
	assert_int_equal(mpq_loop_run(loop), 0);
	assert_int_equal(rec.n, 1);
	assert_true(rec.log[0].at >= a.due);
	mpq_loop_del(loop);
	assert_int_equal(test_count_fds(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(now_is_monotonic),
		cmocka_unit_test(timers_fire_in_order_at_deadlines),
		cmocka_unit_test(many_timers_heap_order),
		cmocka_unit_test(periodic_and_rearmed_timers),
		cmocka_unit_test(cancel_and_reset),
		cmocka_unit_test(fd_readiness_callbacks),
		cmocka_unit_test(deleted_fd_gets_no_pending_event),
		cmocka_unit_test(stop_from_callback),
		cmocka_unit_test(callback_error_stops_loop),
		cmocka_unit_test(signal_stops_loop),
		cmocka_unit_test(past_timers_do_not_starve_fds),
		cmocka_unit_test(timer_arguments),
		cmocka_unit_test(timers_need_no_descriptor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
