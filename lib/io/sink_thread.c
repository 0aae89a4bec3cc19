/*
 * A sink whose writes go through a ring to a thread that hands them to the
 * inner sink (mpq_qlog_sink_thread in qlog_file.h): the writer of a record
 * pays a memcpy, the thread pays the write(2)s, the page cache and zstd.
 * The thread wakes when a quarter of the ring is full, on flush and on
 * close, so it writes in large pieces; a writer finding the ring full waits
 * for room, so nothing is dropped.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/io/qlog_file.h"

struct tsink {
	mpq_qlog_sink inner;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more; /* to the thread: past the threshold, flush or stop */
	pthread_cond_t room; /* to writers: bytes written out */
	uint8_t *ring;
	size_t cap, head, len; /* bytes [head, head + len) mod cap wait */
	size_t threshold;
	bool stop, busy;
	int flushing; /* flushes waiting for the ring to drain */
	int err;      /* the inner sink's first error */
};

static void *run(void *arg)
{
	struct tsink *t = arg;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (!t->stop && !t->flushing && t->len < t->threshold)
			pthread_cond_wait(&t->more, &t->lock);
		if (!t->len) {
			if (t->stop)
				break;
			pthread_cond_broadcast(&t->room); /* a flush sees it drained */
			pthread_cond_wait(&t->more, &t->lock);
			continue;
		}
		size_t n = t->cap - t->head < t->len ? t->cap - t->head : t->len;
		int rv = 0;

		/* Writers only fill the free part of the ring meanwhile. */
		t->busy = true;
		pthread_mutex_unlock(&t->lock);
		if (!t->err)
			rv = t->inner.write(t->inner.user_data, t->ring + t->head, n);
		pthread_mutex_lock(&t->lock);
		t->busy = false;
		if (rv && !t->err)
			t->err = rv;
		t->head = (t->head + n) % t->cap;
		t->len -= n;
		pthread_cond_broadcast(&t->room);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static int tsink_write(void *user_data, const void *data, size_t len)
{
	struct tsink *t = user_data;
	const uint8_t *p = data;
	int rv;

	pthread_mutex_lock(&t->lock);
	while (len && !t->err) {
		size_t tail = (t->head + t->len) % t->cap, n;

		if (t->len == t->cap) {
			pthread_cond_signal(&t->more);
			pthread_cond_wait(&t->room, &t->lock);
			continue;
		}
		n = t->cap - t->len;
		if (n > t->cap - tail)
			n = t->cap - tail;
		if (n > len)
			n = len;
		memcpy(t->ring + tail, p, n);
		if (t->len < t->threshold && t->len + n >= t->threshold)
			pthread_cond_signal(&t->more);
		t->len += n;
		p += n;
		len -= n;
	}
	rv = t->err;
	pthread_mutex_unlock(&t->lock);
	return rv;
}

static int tsink_flush(void *user_data)
{
	struct tsink *t = user_data;
	int rv;

	pthread_mutex_lock(&t->lock);
	t->flushing++;
	pthread_cond_signal(&t->more);
	while ((t->len || t->busy) && !t->err)
		pthread_cond_wait(&t->room, &t->lock);
	t->flushing--;
	/* The thread waits with nothing to write: the inner sink is ours. */
	rv = t->err;
	if (!rv && t->inner.flush)
		rv = t->err = t->inner.flush(t->inner.user_data);
	pthread_mutex_unlock(&t->lock);
	return rv;
}

static int tsink_close(void *user_data)
{
	struct tsink *t = user_data;
	int rv, crv;

	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->more);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	rv = t->err;
	crv = t->inner.close ? t->inner.close(t->inner.user_data) : 0;
	pthread_cond_destroy(&t->more);
	pthread_cond_destroy(&t->room);
	pthread_mutex_destroy(&t->lock);
	free(t->ring);
	free(t);
	return rv ? rv : crv;
}

int mpq_qlog_sink_thread(mpq_qlog_sink *sink, const mpq_qlog_sink *inner, size_t ring)
{
	struct tsink *t;

	if (!sink || !inner || inner->struct_version != MPQ_QLOG_SINK_V1 || !inner->write ||
	    ring < 4096)
		return MPQ_ERR_INVALID_ARGUMENT;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->ring = malloc(ring))) {
		free(t);
		return MPQ_ERR_NOMEM;
	}
	t->inner = *inner;
	t->cap = ring;
	t->threshold = ring / 4;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->more, NULL);
	pthread_cond_init(&t->room, NULL);
	/* The thread takes no signals: a program that blocks SIGTERM later to
	 * read it from a signalfd (mpq_loop) must not have it delivered here. */
	sigset_t all, old;
	int rv;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rv = pthread_create(&t->thread, NULL, run, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rv) {
		pthread_cond_destroy(&t->more);
		pthread_cond_destroy(&t->room);
		pthread_mutex_destroy(&t->lock);
		free(t->ring);
		free(t);
		return MPQ_ERR_NOMEM;
	}
	*sink = (mpq_qlog_sink){MPQ_QLOG_SINK_VERSION, tsink_write, tsink_flush, tsink_close, t};
	return 0;
}
