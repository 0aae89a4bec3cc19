/*
 * Packets sent in one packet number space and not yet acknowledged or lost,
 * in a ring indexed by packet number (our packet numbers are contiguous), so
 * that an ACK finds each packet in O(1). Each packet remembers what it carried
 * that must be sent again if it is lost (frame records).
 */
#ifndef MPQ_SENT_H
#define MPQ_SENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a lost packet's content becomes. */
enum mpq_rec_kind {
	MPQ_REC_CRYPTO = 1, /* id: level, offset, len */
	MPQ_REC_HANDSHAKE_DONE,
	MPQ_REC_STREAM, /* id: stream ID, offset, len, fin */
	MPQ_REC_MAX_DATA,
	MPQ_REC_MAX_STREAMS,	 /* id: 0 bidirectional, 1 unidirectional */
	MPQ_REC_MAX_STREAM_DATA, /* id: stream ID */
	MPQ_REC_RESET_STREAM,	 /* id: stream ID */
	MPQ_REC_STOP_SENDING,	 /* id: stream ID */
	MPQ_REC_BLOCKED,	 /* DATA/STREAMS/STREAM_DATA_BLOCKED: informational, not resent */
	MPQ_REC_NEW_CID,	 /* id: sequence number */
	MPQ_REC_RETIRE_CID,	 /* id: sequence number */
	MPQ_REC_NEW_TOKEN,
	MPQ_REC_PATH_ABANDON,  /* id: path ID */
	MPQ_REC_PATH_STATUS,   /* id: path ID, offset: status sequence number */
	MPQ_REC_ADD_ADDRESS,   /* id: sequence number */
	MPQ_REC_MAX_PATH_ID,   /* offset: the limit sent */
	MPQ_REC_PATHS_BLOCKED, /* offset: the peer's limit it names */
};

typedef struct mpq_frame_rec {
	uint8_t kind;
	uint8_t fin;
	uint32_t len;
	uint64_t id;
	uint64_t offset;
} mpq_frame_rec;

#define MPQ_SENT_MAX_RECS 6

enum {
	MPQ_SENT_ACK_ELICITING = 0x01,
	MPQ_SENT_IN_FLIGHT = 0x02,
	MPQ_SENT_DONE = 0x04,	    /* acknowledged or declared lost: slot is free */
	MPQ_SENT_ECT0 = 0x08,	    /* left marked ECT(0) */
	MPQ_SENT_PMTU_PROBE = 0x10, /* its loss is no congestion signal (RFC 9000 §14.4) */
};

typedef struct mpq_sent_pkt {
	uint64_t pn;
	uint64_t time_sent;
	uint32_t size;
	uint8_t flags;
	uint8_t nrecs;
	mpq_frame_rec recs[MPQ_SENT_MAX_RECS];
} mpq_sent_pkt;

typedef struct mpq_sent {
	mpq_sent_pkt *v;
	size_t cap;	   /* power of two */
	size_t head;	   /* slot of the oldest packet still tracked */
	size_t n;	   /* packets tracked, DONE ones in the middle included */
	uint64_t first_pn; /* packet number at head */
} mpq_sent;

int mpq_sent_init(mpq_sent *s, size_t cap);
void mpq_sent_free(mpq_sent *s);

/* A slot for packet |pn| (the next after the last one added), zeroed but for
 * pn. Grows the ring when full. Returns NULL on allocation failure. */
mpq_sent_pkt *mpq_sent_add(mpq_sent *s, uint64_t pn);

/* The tracked packet |pn|, or NULL (never sent, or already done and dropped). */
mpq_sent_pkt *mpq_sent_find(mpq_sent *s, uint64_t pn);

/* The i-th tracked slot from the oldest (DONE ones included). */
static inline mpq_sent_pkt *mpq_sent_at(mpq_sent *s, size_t i)
{
	return &s->v[(s->head + i) & (s->cap - 1)];
}

/* Marks |p| done and drops done packets from the front. */
void mpq_sent_done(mpq_sent *s, mpq_sent_pkt *p);

/* Drops every packet (keys discarded): the caller first settles in-flight bytes. */
void mpq_sent_clear(mpq_sent *s);

#endif
