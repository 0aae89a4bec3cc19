/* epoll event loop with a timer heap; epoll_pwait2 sleeps until the earliest
 * deadline: see loop.h. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "mpq/io/loop.h"

#define MAX_EVENTS 64
#define MIN_TABLE 16

struct loop_fd {
	mpq_loop_fd_fn cb; /* NULL: not registered */
	void *user_data;
	unsigned int events;
	uint32_t gen; /* bumped on every registration: stale events do not match */
};

struct mpq_loop {
	int epfd;
	int sfd;	     /* -1 until a signal is watched */
	struct loop_fd *fds; /* indexed by descriptor */
	size_t fds_cap;
	mpq_loop_timer **heap; /* min-heap on (deadline, seq) */
	size_t heap_len;
	size_t heap_cap;
	uint64_t seq;
	bool coarse; /* no epoll_pwait2 (before Linux 5.11): epoll_wait's milliseconds */
	bool stop;
	int signal;
	sigset_t sigs;	  /* what the signalfd reads */
	sigset_t blocked; /* what we blocked (it was not blocked before) */
	mpq_oserr err;
	struct epoll_event events[MAX_EVENTS];
};

uint64_t mpq_loop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * MPQ_SEC + (uint64_t)ts.tv_nsec;
}

static uint32_t to_epoll(unsigned int events)
{
	return ((events & MPQ_LOOP_READ) ? EPOLLIN : 0) |
	       ((events & MPQ_LOOP_WRITE) ? EPOLLOUT : 0);
}

static unsigned int from_epoll(uint32_t ev)
{
	return ((ev & EPOLLIN) ? MPQ_LOOP_READ : 0) | ((ev & EPOLLOUT) ? MPQ_LOOP_WRITE : 0) |
	       ((ev & (EPOLLERR | EPOLLHUP)) ? MPQ_LOOP_ERROR : 0);
}

static struct loop_fd *lookup(mpq_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->fds_cap || !loop->fds[fd].cb)
		return NULL;
	return &loop->fds[fd];
}

static int grow_table(mpq_loop *loop, int fd)
{
	size_t cap = loop->fds_cap ? loop->fds_cap : MIN_TABLE;
	struct loop_fd *t;

	if ((size_t)fd < loop->fds_cap)
		return 0;
	while (cap <= (size_t)fd)
		cap *= 2;
	t = realloc(loop->fds, cap * sizeof(*t));
	if (!t)
		return MPQ_ERR_NOMEM;
	memset(t + loop->fds_cap, 0, (cap - loop->fds_cap) * sizeof(*t));
	loop->fds = t;
	loop->fds_cap = cap;
	return 0;
}

int mpq_loop_add_fd(mpq_loop *loop, int fd, unsigned int events, mpq_loop_fd_fn cb,
		    void *user_data)
{
	struct epoll_event ev;
	struct loop_fd *f;
	int rv;

	if (!loop || fd < 0 || !cb || (events & ~(MPQ_LOOP_READ | MPQ_LOOP_WRITE)))
		return MPQ_ERR_INVALID_ARGUMENT;
	if (lookup(loop, fd))
		return MPQ_ERR_INVALID_ARGUMENT;
	rv = grow_table(loop, fd);
	if (rv < 0)
		return rv;
	f = &loop->fds[fd];
	memset(&ev, 0, sizeof(ev));
	ev.events = to_epoll(events);
	ev.data.u64 = (uint64_t)(f->gen + 1) << 32 | (uint32_t)fd;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return mpq_oserr_set(&loop->err, "epoll_ctl", errno);
	f->gen++;
	f->cb = cb;
	f->user_data = user_data;
	f->events = events;
	return 0;
}

int mpq_loop_mod_fd(mpq_loop *loop, int fd, unsigned int events)
{
	struct epoll_event ev;
	struct loop_fd *f;

	if (!loop || (events & ~(MPQ_LOOP_READ | MPQ_LOOP_WRITE)))
		return MPQ_ERR_INVALID_ARGUMENT;
	f = lookup(loop, fd);
	if (!f)
		return MPQ_ERR_NOT_FOUND;
	if (f->events == events)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = to_epoll(events);
	ev.data.u64 = (uint64_t)f->gen << 32 | (uint32_t)fd;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return mpq_oserr_set(&loop->err, "epoll_ctl", errno);
	f->events = events;
	return 0;
}

int mpq_loop_del_fd(mpq_loop *loop, int fd)
{
	struct loop_fd *f = loop ? lookup(loop, fd) : NULL;

	if (!f)
		return MPQ_ERR_NOT_FOUND;
	/* Fails only if |fd| was already closed, which removed it anyway. */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	f->cb = NULL;
	f->user_data = NULL;
	f->events = 0;
	return 0;
}

/* Timer heap */

static bool fires_before(const mpq_loop_timer *a, const mpq_loop_timer *b)
{
	return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void heap_put(mpq_loop *loop, mpq_loop_timer *t, size_t i)
{
	loop->heap[i] = t;
	t->slot = i;
}

static void sift_up(mpq_loop *loop, size_t i)
{
	mpq_loop_timer *t = loop->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!fires_before(t, loop->heap[parent]))
			break;
		heap_put(loop, loop->heap[parent], i);
		i = parent;
	}
	heap_put(loop, t, i);
}

static void sift_down(mpq_loop *loop, size_t i)
{
	mpq_loop_timer *t = loop->heap[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= loop->heap_len)
			break;
		if (child + 1 < loop->heap_len &&
		    fires_before(loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!fires_before(loop->heap[child], t))
			break;
		heap_put(loop, loop->heap[child], i);
		i = child;
	}
	heap_put(loop, t, i);
}

static void heap_remove(mpq_loop *loop, mpq_loop_timer *t)
{
	size_t i = t->slot;
	mpq_loop_timer *last = loop->heap[--loop->heap_len];

	t->slot = SIZE_MAX;
	if (i == loop->heap_len)
		return;
	heap_put(loop, last, i);
	sift_up(loop, i);
	sift_down(loop, last->slot);
}

/* (Re)inserts |t| with |deadline|; |t| must fit (in the heap already, or room). */
static void heap_arm(mpq_loop *loop, mpq_loop_timer *t, uint64_t deadline)
{
	t->deadline = deadline;
	t->seq = loop->seq++;
	if (t->slot == SIZE_MAX) {
		heap_put(loop, t, loop->heap_len++);
		sift_up(loop, t->slot);
	} else {
		sift_up(loop, t->slot);
		sift_down(loop, t->slot);
	}
}

void mpq_loop_timer_init(mpq_loop_timer *t, mpq_loop_timer_fn cb, void *user_data)
{
	memset(t, 0, sizeof(*t));
	t->deadline = MPQ_TIME_NEVER;
	t->cb = cb;
	t->user_data = user_data;
	t->slot = SIZE_MAX;
}

void mpq_loop_timer_cancel(mpq_loop *loop, mpq_loop_timer *t)
{
	if (t->slot != SIZE_MAX)
		heap_remove(loop, t);
	t->deadline = MPQ_TIME_NEVER;
}

int mpq_loop_timer_set(mpq_loop *loop, mpq_loop_timer *t, uint64_t deadline, uint64_t interval)
{
	if (!loop || !t || !t->cb)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (deadline == MPQ_TIME_NEVER) {
		mpq_loop_timer_cancel(loop, t);
		return 0;
	}
	if (t->slot == SIZE_MAX && loop->heap_len == loop->heap_cap) {
		size_t cap = loop->heap_cap ? loop->heap_cap * 2 : MIN_TABLE;
		mpq_loop_timer **h = realloc(loop->heap, cap * sizeof(*h));

		if (!h)
			return MPQ_ERR_NOMEM;
		loop->heap = h;
		loop->heap_cap = cap;
	}
	t->interval = interval;
	heap_arm(loop, t, deadline);
	return 0;
}

/* The first deadline of |t|'s period after |now|, MPQ_TIME_NEVER on overflow. */
static uint64_t next_period(const mpq_loop_timer *t, uint64_t now)
{
	uint64_t steps = (now - t->deadline) / t->interval + 1;

	if (steps > (MPQ_TIME_NEVER - 1 - t->deadline) / t->interval)
		return MPQ_TIME_NEVER;
	return t->deadline + steps * t->interval;
}

/* Fires the timers due now, earliest first. A pass fires at most as many
 * timers as were armed when it began, so a callback that keeps re-arming in
 * the past cannot starve the descriptors. */
static int run_timers(mpq_loop *loop)
{
	uint64_t now = mpq_loop_now();
	size_t budget = loop->heap_len;

	while (budget-- > 0 && loop->heap_len > 0 && !loop->stop) {
		mpq_loop_timer *t = loop->heap[0];
		uint64_t next = MPQ_TIME_NEVER;
		int rv;

		if (t->deadline > now)
			break;
		if (t->interval)
			next = next_period(t, now);
		if (next == MPQ_TIME_NEVER)
			mpq_loop_timer_cancel(loop, t);
		else
			heap_arm(loop, t, next);
		/* |t| may be cancelled, re-armed or freed by its callback. */
		rv = t->cb(loop, t, t->user_data);
		if (rv < 0)
			return rv;
	}
	return 0;
}

static int on_signalfd(mpq_loop *loop, int fd, unsigned int events, void *user_data)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		loop->signal = (int)si.ssi_signo;
		loop->stop = true;
	}
	return 0;
}

int mpq_loop_new(mpq_loop **out, mpq_oserr *err)
{
	mpq_loop *loop;
	int rv;

	if (!out)
		return MPQ_ERR_INVALID_ARGUMENT;
	*out = NULL;
	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return MPQ_ERR_NOMEM;
	loop->sfd = -1;
	sigemptyset(&loop->sigs);
	sigemptyset(&loop->blocked);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		rv = mpq_oserr_set(err, "epoll_create1", errno);
		free(loop);
		return rv;
	}
	*out = loop;
	return 0;
}

void mpq_loop_del(mpq_loop *loop)
{
	if (!loop)
		return;
	if (loop->sfd >= 0)
		close(loop->sfd);
	close(loop->epfd);
	if (!sigisemptyset(&loop->blocked))
		sigprocmask(SIG_UNBLOCK, &loop->blocked, NULL);
	free(loop->fds);
	free(loop->heap);
	free(loop);
}

int mpq_loop_stop_on_signal(mpq_loop *loop, int signo)
{
	sigset_t one, old;
	int fd, rv;

	if (!loop || signo <= 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (sigismember(&loop->sigs, signo) == 1)
		return 0;
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (sigprocmask(SIG_BLOCK, &one, &old) < 0)
		return mpq_oserr_set(&loop->err, "sigprocmask", errno);
	sigaddset(&loop->sigs, signo);
	fd = signalfd(loop->sfd, &loop->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		rv = mpq_oserr_set(&loop->err, "signalfd", errno);
		goto undo;
	}
	if (loop->sfd < 0) {
		rv = mpq_loop_add_fd(loop, fd, MPQ_LOOP_READ, on_signalfd, NULL);
		if (rv < 0) {
			close(fd);
			goto undo;
		}
		loop->sfd = fd;
	}
	if (!sigismember(&old, signo))
		sigaddset(&loop->blocked, signo);
	return 0;
undo:
	sigdelset(&loop->sigs, signo);
	if (!sigismember(&old, signo))
		sigprocmask(SIG_UNBLOCK, &one, NULL);
	return rv;
}

int mpq_loop_signal(const mpq_loop *loop)
{
	return loop->signal;
}

void mpq_loop_stop(mpq_loop *loop)
{
	loop->stop = true;
}

const mpq_oserr *mpq_loop_oserr(const mpq_loop *loop)
{
	return &loop->err;
}

/* Waits for events until the earliest deadline. The deadline is the wait's
 * timeout, not a timerfd: a QUIC sender's pacing deadline moves with almost
 * every burst, and timerfd_settime plus the read of the expiry cost two
 * system calls per wakeup, a quarter of a busy sender's time (perf, see
 * docs/performance.md); a wait that finds events ready arms no timer at all. */
static int wait_events(mpq_loop *loop)
{
	uint64_t due = loop->heap_len ? loop->heap[0]->deadline : MPQ_TIME_NEVER;
	uint64_t now = due == MPQ_TIME_NEVER ? 0 : mpq_loop_now();
	uint64_t left = due > now ? due - now : 0;
	struct timespec ts;
	int n;

	if (!loop->coarse) {
		ts.tv_sec = (time_t)(left / MPQ_SEC);
		ts.tv_nsec = (long)(left % MPQ_SEC);
		n = epoll_pwait2(loop->epfd, loop->events, MAX_EVENTS,
				 due == MPQ_TIME_NEVER ? NULL : &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		loop->coarse = true;
	}
	/* Rounded up: a timer never fires early. */
	if (due == MPQ_TIME_NEVER)
		return epoll_wait(loop->epfd, loop->events, MAX_EVENTS, -1);
	left = (left + 999999) / 1000000;
	return epoll_wait(loop->epfd, loop->events, MAX_EVENTS,
			  left > INT32_MAX ? INT32_MAX : (int)left);
}

/* Waits for the next events (or the earliest deadline) and runs their
 * callbacks. */
static int dispatch(mpq_loop *loop)
{
	int n = wait_events(loop);

	if (n < 0)
		return errno == EINTR ? 0 : mpq_oserr_set(&loop->err, "epoll_wait", errno);
	for (int i = 0; i < n && !loop->stop; i++) {
		int fd = (int)(uint32_t)loop->events[i].data.u64;
		uint32_t gen = (uint32_t)(loop->events[i].data.u64 >> 32);
		struct loop_fd *f = lookup(loop, fd);
		unsigned int ev;
		int rv;

		/* Deleted, or deleted and added again, by an earlier callback. */
		if (!f || f->gen != gen)
			continue;
		ev = from_epoll(loop->events[i].events) & (f->events | MPQ_LOOP_ERROR);
		if (!ev)
			continue;
		rv = f->cb(loop, fd, ev, f->user_data);
		if (rv < 0)
			return rv;
	}
	return 0;
}

int mpq_loop_run(mpq_loop *loop)
{
	int rv = 0;

	if (!loop)
		return MPQ_ERR_INVALID_ARGUMENT;
	loop->signal = 0;
	while (!loop->stop) {
		rv = run_timers(loop);
		if (rv < 0 || loop->stop)
			break;
		rv = dispatch(loop);
		if (rv < 0)
			break;
	}
	loop->stop = false;
	return rv;
}
