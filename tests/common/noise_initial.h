/* What anyone can send a server: a datagram that parses as a client Initial
 * (version 1, random 8-byte CIDs, no token) and carries noise, so that it
 * never decrypts. For the endpoint tests and tests/net/initial_flood. */
#ifndef MPQ_TEST_NOISE_INITIAL_H
#define MPQ_TEST_NOISE_INITIAL_H

#include <stddef.h>
#include <stdint.h>

#include "mpq/mpq.h"

#define NOISE_INITIAL_LEN 1200

/* Fills |buf| (NOISE_INITIAL_LEN bytes) from |rand|. Returns NOISE_INITIAL_LEN. */
size_t noise_initial(uint8_t *buf, mpq_rand_fn rand, void *rand_ud);

#endif
