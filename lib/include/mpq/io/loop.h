/*
 * A small single-threaded event loop on epoll: callbacks for readable or
 * writable file descriptors, timers at absolute CLOCK_MONOTONIC deadlines in
 * nanoseconds (the wait for events times out at the earliest one, so the
 * loop sleeps until something happens; no system call arms a timer), and a clean stop from a callback or on SIGINT/SIGTERM
 * (through a signalfd).
 *
 * File descriptors are level-triggered: a callback need not drain its socket.
 * Timers are owned by the caller (embed an mpq_loop_timer where it is needed);
 * the loop keeps pointers to armed ones in a heap, so a timer must be
 * cancelled before its memory goes away. Arming a timer allocates only when
 * more timers are armed at once than ever before.
 *
 * Callbacks return 0 or a negative MPQ_ERR_*; a negative value stops the loop
 * and mpq_loop_run returns it. A callback may add, change or delete any file
 * descriptor and set or cancel any timer, its own included.
 */
#ifndef MPQ_IO_LOOP_H
#define MPQ_IO_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/conn.h"
#include "mpq/io/oserr.h"

typedef struct mpq_loop mpq_loop;
typedef struct mpq_loop_timer mpq_loop_timer;

/* Events asked for and reported. */
#define MPQ_LOOP_READ 0x1u
#define MPQ_LOOP_WRITE 0x2u
#define MPQ_LOOP_ERROR 0x4u /* reported only: error or hang-up on the descriptor */

typedef int (*mpq_loop_fd_fn)(mpq_loop *loop, int fd, unsigned int events, void *user_data);
typedef int (*mpq_loop_timer_fn)(mpq_loop *loop, mpq_loop_timer *timer, void *user_data);

struct mpq_loop_timer {
	uint64_t deadline; /* MPQ_TIME_NEVER while not armed */
	uint64_t interval; /* 0: one-shot; else re-armed that far after each deadline */
	mpq_loop_timer_fn cb;
	void *user_data;
	/* private to the loop */
	uint64_t seq; /* arming order: ties on deadline fire first-armed first */
	size_t slot;  /* position in the heap, SIZE_MAX when not in it */
};

/* CLOCK_MONOTONIC in nanoseconds. */
MPQ_EXPORT uint64_t mpq_loop_now(void);

/* Returns 0, MPQ_ERR_NOMEM, or another MPQ_ERR_* with the errno in |err|
 * (which may be NULL) when epoll_create1 fails. */
MPQ_EXPORT int mpq_loop_new(mpq_loop **out, mpq_oserr *err);

/* Closes the loop's own descriptors (not the registered ones) and unblocks
 * the signals mpq_loop_stop_on_signal blocked; one that arrived since the
 * loop last read them is then delivered as usual. NULL is a no-op. */
MPQ_EXPORT void mpq_loop_del(mpq_loop *loop);

/* Watches |fd| for |events| (MPQ_LOOP_READ and/or MPQ_LOOP_WRITE; 0 to
 * register it quiet). Returns 0, MPQ_ERR_INVALID_ARGUMENT (bad fd or events,
 * or already registered), MPQ_ERR_NOMEM, or what epoll_ctl's errno maps to
 * (kept by mpq_loop_oserr). */
MPQ_EXPORT int mpq_loop_add_fd(mpq_loop *loop, int fd, unsigned int events, mpq_loop_fd_fn cb,
			       void *user_data);

/* Changes the events watched on a registered |fd|. Returns 0,
 * MPQ_ERR_NOT_FOUND (not registered), MPQ_ERR_INVALID_ARGUMENT or an epoll_ctl
 * error. */
MPQ_EXPORT int mpq_loop_mod_fd(mpq_loop *loop, int fd, unsigned int events);

/* Stops watching |fd| (call before closing it). Events already collected for
 * it are dropped. Returns 0 or MPQ_ERR_NOT_FOUND. */
MPQ_EXPORT int mpq_loop_del_fd(mpq_loop *loop, int fd);

/* Sets every field of |t|; it starts unarmed. */
MPQ_EXPORT void mpq_loop_timer_init(mpq_loop_timer *t, mpq_loop_timer_fn cb, void *user_data);

/* Arms |t| (again) to fire at |deadline| (mpq_loop_now() time; a past one
 * fires at once) and then, when |interval| is not 0, every |interval| ns after
 * that deadline, skipping ticks the loop was too late for. MPQ_TIME_NEVER
 * cancels. Returns 0, MPQ_ERR_INVALID_ARGUMENT or MPQ_ERR_NOMEM (then |t| is
 * not armed). */
MPQ_EXPORT int mpq_loop_timer_set(mpq_loop *loop, mpq_loop_timer *t, uint64_t deadline,
				  uint64_t interval);

/* Disarms |t|; a no-op when it is not armed. */
MPQ_EXPORT void mpq_loop_timer_cancel(mpq_loop *loop, mpq_loop_timer *t);

static inline bool mpq_loop_timer_armed(const mpq_loop_timer *t)
{
	return t->slot != SIZE_MAX;
}

/* Stops the loop when |signo| arrives: the signal is blocked and read from a
 * signalfd instead of running its handler or default action. Call it before
 * starting threads (the mask is per thread). Returns 0,
 * MPQ_ERR_INVALID_ARGUMENT, or a sigprocmask/signalfd/epoll_ctl error. */
MPQ_EXPORT int mpq_loop_stop_on_signal(mpq_loop *loop, int signo);

/* The signal that stopped the loop, 0 if none did. */
MPQ_EXPORT int mpq_loop_signal(const mpq_loop *loop);

/* Makes mpq_loop_run return 0 once the running callback returns (or at once,
 * when called while the loop is not running). */
MPQ_EXPORT void mpq_loop_stop(mpq_loop *loop);

/* Fires timers and dispatches events until mpq_loop_stop, a watched signal or
 * a callback error. Returns 0 when stopped, the callback's MPQ_ERR_* value,
 * or what an epoll_wait failure maps to (see mpq_loop_oserr). Can be
 * called again afterwards. */
MPQ_EXPORT int mpq_loop_run(mpq_loop *loop);

/* The system call that failed last inside the loop. */
MPQ_EXPORT const mpq_oserr *mpq_loop_oserr(const mpq_loop *loop);

#endif
