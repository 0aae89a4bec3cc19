/*
 * Small helpers the harnesses share: a check that crashes (so libFuzzer keeps
 * the input), inputs cut into records of an op byte, a length and that many
 * bytes, and IPv4 addresses for paths.
 */
#ifndef MPQ_FUZZ_UTIL_H
#define MPQ_FUZZ_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mpq/conn.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			__builtin_trap(); \
	} while (0)

struct fuzz_records {
	const uint8_t *data;
	size_t len, off;
	int lenbytes; /* 1 or 2 (big endian) */
};

/* The next record: its op byte, and its bytes (cut at the end of the
 * input). Returns 0 when no whole record header is left. */
static inline int fuzz_next_record(struct fuzz_records *r, uint8_t *op, const uint8_t **p,
				   size_t *plen)
{
	size_t n;

	if (r->len - r->off < 1 + (size_t)r->lenbytes)
		return 0;
	*op = r->data[r->off];
	n = r->data[r->off + 1];
	if (r->lenbytes == 2)
		n = n << 8 | r->data[r->off + 2];
	r->off += 1 + (size_t)r->lenbytes;
	if (n > r->len - r->off)
		n = r->len - r->off;
	*p = r->data + r->off;
	*plen = n;
	r->off += n;
	return 1;
}

/* |ip| (host order) and |port| as a path address. */
static inline void fuzz_addr4(mpq_addr *a, uint32_t ip, uint16_t port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;

	memset(a, 0, sizeof(*a));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(ip);
	in->sin_port = htons(port);
	a->len = sizeof(*in);
}

#endif
