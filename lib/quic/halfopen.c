/*
 * Half-open connections by client address (see halfopen.h). A flat array:
 * it is scanned only when a new client is about to be accepted and when a
 * handshake completes, and its entries are small.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "quic/halfopen.h"

static void addr_key(const mpq_addr *a, uint8_t key[9])
{
	memset(key, 0, 9);
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
		key[0] = 6;
		memcpy(key + 1, &in6->sin6_addr, 8);
		return;
	}
	const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
	key[0] = 4;
	memcpy(key + 1, &in->sin_addr, 4);
}

int mpq_halfopen_init(mpq_halfopen *h, size_t cap)
{
	h->n = 0;
	h->cap = cap;
	h->v = calloc(cap ? cap : 1, sizeof(*h->v));
	return h->v ? 0 : MPQ_ERR_NOMEM;
}

void mpq_halfopen_free(mpq_halfopen *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

int mpq_halfopen_add(mpq_halfopen *h, const void *conn, const mpq_addr *from)
{
	if (h->n == h->cap)
		return MPQ_ERR_NOBUF;
	struct mpq_halfopen_entry *e = &h->v[h->n++];
	e->conn = conn;
	addr_key(from, e->key);
	return 0;
}

void mpq_halfopen_remove(mpq_halfopen *h, const void *conn)
{
	for (size_t i = 0; i < h->n; i++) {
		if (h->v[i].conn == conn) {
			h->v[i] = h->v[--h->n];
			return;
		}
	}
}

size_t mpq_halfopen_from(const mpq_halfopen *h, const mpq_addr *from)
{
	uint8_t key[9];
	size_t n = 0;
	addr_key(from, key);
	for (size_t i = 0; i < h->n; i++)
		n += memcmp(h->v[i].key, key, sizeof(key)) == 0;
	return n;
}
