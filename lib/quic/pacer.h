/*
 * Token-bucket pacer, one per path (RFC 9002 §7.7). Tokens are bytes; they
 * accrue at rate = N * cwnd / srtt with N = 5/4, up to the bucket depth (the
 * largest burst, e.g. the initial window of 10 packets). Times are ns from the
 * caller; the arithmetic is exact integer math with the fraction of a byte
 * carried over, so a paced train never drifts from its rate.
 */
#ifndef MPQ_PACER_H
#define MPQ_PACER_H

#include <stdint.h>

#define MPQ_PACER_N_NUM 5 /* N = 1.25 */
#define MPQ_PACER_N_DEN 4

typedef struct mpq_pacer {
	uint64_t capacity; /* bucket depth in bytes */
	int64_t tokens;	   /* bytes that may leave at |last|; below 0 after an early send */
	uint64_t rem;	   /* carried fraction of a byte, in 1/(N_DEN * srtt) bytes */
	uint64_t last;	   /* when tokens were last brought up to date */
	uint64_t cwnd;	   /* 0: no rate yet, pacing off */
	uint64_t srtt;
} mpq_pacer;

/* A full bucket of |burst_bytes| at |ts|, with no rate: pacing starts with the
 * first mpq_pacer_update_rate. */
void mpq_pacer_init(mpq_pacer *p, uint64_t burst_bytes, uint64_t ts);

/* rate = 1.25 * |cwnd| / |srtt| (bytes, ns). cwnd or srtt 0 turns pacing off.
 * There is no time argument: tokens earned since the last send are counted
 * at the new rate. */
void mpq_pacer_update_rate(mpq_pacer *p, uint64_t cwnd, uint64_t srtt);

/* The earliest time, not before |ts|, at which a packet of |bytes| may leave:
 * when the bucket holds |bytes| tokens (or is full, for a packet larger than
 * the bucket). |ts| itself when pacing is off. */
uint64_t mpq_pacer_next_send_time(const mpq_pacer *p, uint64_t bytes, uint64_t ts);

/* A packet of |bytes| left at |ts|. Sending before next_send_time is allowed
 * and leaves a debt that later packets wait out. */
void mpq_pacer_on_sent(mpq_pacer *p, uint64_t bytes, uint64_t ts);

#endif
