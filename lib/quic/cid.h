/*
 * Connection IDs we issue. Layout (QUIC-LB plaintext, DESIGN.md "steering"):
 *   octet 0: config rotation (3 bits, 0) ‖ length of the rest (5 bits)
 *   octet 1: worker ID, read by the XDP program to pick the AF_XDP socket
 *   octets 2..: random nonce
 * Every CID we issue has the same length, so short headers can be parsed by
 * both lib/quic and xdp/ without state.
 */
#ifndef MPQ_CID_H
#define MPQ_CID_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mpq/mpq.h"

#define MPQ_CID_LEN 8 /* length of every CID we issue */
#define MPQ_CID_WORKER_OFFSET 1

/* A fresh CID for |worker_id| with random bytes from |rand|. */
void mpq_cid_new(mpq_cid *cid, uint8_t worker_id, mpq_rand_fn rand, void *rand_ud);

#define MPQ_RESET_SECRET_LEN 32
#define MPQ_RESET_TOKEN_LEN 16

/* The stateless reset token of |cid| (RFC 9000 §10.3.2): HMAC-SHA256 of the
 * CID under the endpoint's secret, cut to 16 bytes, so any process holding the
 * secret can reset a connection it has lost. */
void mpq_cid_reset_token(const uint8_t secret[MPQ_RESET_SECRET_LEN], const mpq_cid *cid,
			 uint8_t token[MPQ_RESET_TOKEN_LEN]);

/* The worker ID a CID of ours carries. */
static inline uint8_t mpq_cid_worker(const mpq_cid *cid)
{
	return cid->len > MPQ_CID_WORKER_OFFSET ? cid->data[MPQ_CID_WORKER_OFFSET] : 0;
}

static inline bool mpq_cid_eq(const mpq_cid *a, const mpq_cid *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

#endif
