/*
 * One QUIC stream (RFC 9000 §2-4): a send buffer of the bytes not yet
 * acknowledged, the ranges still to send, the receive side's reassembly and
 * flow control window, and the stream's place in the send schedule. Streams of
 * a connection live in a hash table keyed by stream ID (mpq_streams).
 */
#ifndef MPQ_STREAM_H
#define MPQ_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quic/ranges.h"
#include "quic/rob.h"
#include "quic/sendbuf.h"

enum mpq_stream_send_state {
	MPQ_SEND_OPEN,	      /* Ready or Send */
	MPQ_SEND_FIN_WRITTEN, /* the application finished writing */
	MPQ_SEND_ALL_ACKED,   /* Data Recvd */
	MPQ_SEND_RESET,	      /* Reset Sent / Reset Recvd */
	MPQ_SEND_NONE,	      /* a receive-only stream */
};

enum mpq_stream_recv_state {
	MPQ_RECV_OPEN,
	MPQ_RECV_ALL_READ, /* every byte up to the final size was delivered */
	MPQ_RECV_RESET,
	MPQ_RECV_NONE, /* a send-only stream */
};

/* A receive window that grows when the sender uses it fast (conn_stream.c). */
struct mpq_rx_window {
	uint64_t size;
	uint64_t epoch_off; /* consumed when the current measurement began */
	uint64_t epoch_time;
};

typedef struct mpq_stream {
	int64_t id;
	void *user_data;
	struct mpq_stream *hnext;      /* hash chain */
	struct mpq_stream *sched_next; /* send schedule (ring of active streams) */
	bool scheduled;
	uint8_t urgency; /* for priority schedulers: lower is sooner */

	/* Send side: the buffer holds [s_acked, s_written). */
	int send_state;
	mpq_sendbuf sbuf;
	bool mem_blocked;	   /* a write was cut short by a memory budget */
	bool ahead_full;	   /* ... by the bytes written and not yet sent */
	bool ahead_drained;	   /* those went out: stream_writable is owed */
	uint64_t s_acked;	   /* every byte below is acknowledged */
	uint64_t s_written;	   /* bytes the application gave us */
	uint64_t s_sent_max;	   /* highest offset sent so far: flow control counts these */
	uint64_t peer_max_data;	   /* the peer's MAX_STREAM_DATA */
	mpq_ranges s_pending;	   /* offsets to (re)send */
	mpq_ranges s_acked_ranges; /* acknowledged above s_acked */
	bool fin_pending;	   /* FIN still to (re)send */
	bool fin_acked;
	uint64_t reset_code;
	bool reset_pending;   /* RESET_STREAM to (re)send */
	bool reset_acked;     /* the peer has it: the send side is over */
	bool blocked_pending; /* STREAM_DATA_BLOCKED to send */
	uint64_t blocked_at;  /* limit + 1 last announced blocked; 0 = none */

	/* Receive side. */
	int recv_state;
	mpq_rob rob;	      /* allocated on the first out-of-order byte */
	uint64_t r_delivered; /* bytes handed to the application */
	uint64_t r_highest;   /* highest offset received + 1 */
	uint64_t r_final;     /* final size, UINT64_MAX while unknown */
	uint64_t r_max_data;  /* the limit we advertised */
	struct mpq_rx_window r_window;
	bool max_data_pending; /* MAX_STREAM_DATA to send */
	uint64_t stop_code;
	bool stop_pending; /* STOP_SENDING to (re)send */

	/* Stream schedulers (quic/sched/stream_sched.h). */
	struct mpq_stream *sched_prev; /* the schedule is doubly linked */
	uint8_t weight;		       /* prio: share, 1..255; 0 means the default, 16 */
	uint64_t sched_vstart;	       /* prio: virtual time of its next send */
} mpq_stream;

typedef struct mpq_streams {
	mpq_stream **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	mpq_mem_budget *budget; /* what the send buffers are charged to */
} mpq_streams;

int mpq_streams_init(mpq_streams *t, mpq_mem_budget *budget);
/* Frees every stream and the table. */
void mpq_streams_free(mpq_streams *t);
mpq_stream *mpq_streams_find(const mpq_streams *t, int64_t id);
/* A new stream; |send|/|recv| say which directions exist on our side. */
int mpq_streams_add(mpq_streams *t, int64_t id, bool send, bool recv, uint64_t peer_max_data,
		    uint64_t recv_window, mpq_stream **out);
void mpq_streams_remove(mpq_streams *t, mpq_stream *s);

/* Stream ID helpers (RFC 9000 §2.1). */
static inline bool mpq_stream_is_server_initiated(int64_t id)
{
	return id & 1;
}

static inline bool mpq_stream_is_uni(int64_t id)
{
	return id & 2;
}

/* Copies up to |len| bytes into the send buffer as far as |budget| allows;
 * returns the count taken. */
size_t mpq_stream_buffer(mpq_stream *s, const uint8_t *data, size_t len, mpq_mem_budget *budget);

/* Marks [offset, offset + len) acknowledged and frees the chunks below the
 * acknowledged point; returns true when that point moved (room came free). */
bool mpq_stream_on_acked(mpq_stream *s, uint64_t offset, uint64_t len, mpq_mem_budget *budget);

/* Does the send side have anything to put on the wire? */
bool mpq_stream_wants_send(const mpq_stream *s);

/* Both directions finished: the stream can be forgotten. */
bool mpq_stream_is_done(const mpq_stream *s);

#endif
