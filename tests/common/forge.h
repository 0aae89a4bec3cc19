/* Packets and timers for tests and fuzz harnesses that drive connections by
 * hand (compiled into both builds). */
#ifndef MPQ_TEST_FORGE_H
#define MPQ_TEST_FORGE_H

#include <stddef.h>
#include <stdint.h>

#include "mpq/endpoint.h"
#include "quic/conn.h"

/* A 1-RTT packet from |c| on path 0 with |frames| (|len| bytes, padded to the
 * 4 that header protection samples) as its payload, sealed with |c|'s keys
 * into |out| under its next packet number. Its length; 0 when it does not fit. */
size_t forge_1rtt(mpq_conn *c, const uint8_t *frames, size_t len, uint8_t *out, size_t cap);

/* Runs the expired timers, at |now|, of |client| (NULL: none) and of every
 * connection |ep| holds. */
void forge_timers(mpq_conn *client, mpq_endpoint *ep, uint64_t now);

#endif
