/*
 * Token-bucket pacer, one per path (RFC 9002 §7.7). Tokens are bytes; they
 * accrue at rate = N * cwnd / srtt with N = 5/4, up to the bucket depth (the
 * largest burst, e.g. the initial window of 10 packets). Times are ns from the
 * caller; the arithmetic is exact integer math with the fraction of a byte
 * carried over, so a paced train never drifts from its rate.
 *
 * Send quantum (as Linux fq, RFC 9002 §7.7): a held-back packet is released
 * when the bucket holds MPQ_PACER_QUANTUM_NS worth of bytes at the current
 * rate (at most MPQ_PACER_QUANTUM_MAX), not as soon as it holds the one
 * packet, so that each wakeup releases a batch the I/O layer sends in one
 * call. The bucket may then hold the quantum even above its depth. The
 * average rate is unchanged; below QUANTUM_MAX / QUANTUM_NS each packet is
 * paced alone whenever it takes longer than QUANTUM_NS.
 */
#ifndef MPQ_PACER_H
#define MPQ_PACER_H

#include <stdint.h>

#define MPQ_PACER_N_NUM 5 /* N = 1.25 */
#define MPQ_PACER_N_DEN 4
#define MPQ_PACER_QUANTUM_NS 250000ULL	  /* 250 us: a wakeup per packet costs more below */
#define MPQ_PACER_QUANTUM_MAX (64 * 1024) /* one GSO batch */

typedef struct mpq_pacer {
	uint64_t capacity; /* bucket depth in bytes */
	int64_t tokens;	   /* bytes that may leave at |last|; below 0 after an early send */
	uint64_t rem;	   /* carried fraction of a byte, in 1/(N_DEN * srtt) bytes */
	uint64_t last;	   /* when tokens were last brought up to date */
	uint64_t cwnd;	   /* 0: no rate yet, pacing off */
	uint64_t srtt;
	uint64_t quantum; /* the send quantum at this rate (0: pacing off), set with it */
} mpq_pacer;

/* A full bucket of |burst_bytes| at |ts|, with no rate: pacing starts with the
 * first mpq_pacer_update_rate. */
void mpq_pacer_init(mpq_pacer *p, uint64_t burst_bytes, uint64_t ts);

/* rate = 1.25 * |cwnd| / |srtt| (bytes, ns). cwnd or srtt 0 turns pacing off.
 * There is no time argument: tokens earned since the last send are counted
 * at the new rate. */
void mpq_pacer_update_rate(mpq_pacer *p, uint64_t cwnd, uint64_t srtt);

/* The earliest time, not before |ts|, at which a packet of |bytes| may leave:
 * |ts| if the bucket holds |bytes| tokens now, else when it holds the larger
 * of |bytes| and the send quantum (or is full, for a packet larger than the
 * bucket). |ts| itself when pacing is off. */
uint64_t mpq_pacer_next_send_time(const mpq_pacer *p, uint64_t bytes, uint64_t ts);

/* A packet of |bytes| left at |ts|. Sending before next_send_time is allowed
 * and leaves a debt that later packets wait out. */
void mpq_pacer_on_sent(mpq_pacer *p, uint64_t bytes, uint64_t ts);

#endif
