/*
 * Server connections whose handshake has not completed, each with the client
 * address it came from: what an endpoint counts to decide when to ask new
 * clients for a Retry, and how many handshakes one address may hold at once.
 * One address is an IPv4 address or an IPv6 /64, the least a host gets.
 */
#ifndef MPQ_HALFOPEN_H
#define MPQ_HALFOPEN_H

#include <stddef.h>
#include <stdint.h>

#include "mpq/conn.h"
#include "mpq/mpq.h"

struct mpq_halfopen_entry {
	const void *conn;
	uint8_t key[9]; /* family (4 or 6) ‖ IPv4 address or IPv6 /64 prefix */
};

typedef struct mpq_halfopen {
	struct mpq_halfopen_entry *v;
	size_t n, cap;
} mpq_halfopen;

/* Room for |cap| connections. Returns 0 or MPQ_ERR_NOMEM. */
int mpq_halfopen_init(mpq_halfopen *h, size_t cap);
void mpq_halfopen_free(mpq_halfopen *h);

/* Counts |conn|, from |from|. Returns 0 or MPQ_ERR_NOBUF (already |cap|). */
int mpq_halfopen_add(mpq_halfopen *h, const void *conn, const mpq_addr *from);

/* Stops counting |conn| (its handshake completed, or it is gone); no-op when
 * it is not counted. */
void mpq_halfopen_remove(mpq_halfopen *h, const void *conn);

/* How many of them came from the address of |from| (any port). */
size_t mpq_halfopen_from(const mpq_halfopen *h, const mpq_addr *from);

#endif
