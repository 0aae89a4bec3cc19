/*
 * The TLS secrets mpq-trace decrypts with: NSS key log lines (RFC 9850, what
 * SSLKEYLOGFILE holds), read from a file and from the capture's Decryption
 * Secrets Blocks, looked up by client random and label.
 */
#ifndef MPQ_TRACE_KEYLOG_H
#define MPQ_TRACE_KEYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quic/crypto.h"

enum trace_secret {
	TRACE_CLIENT_EARLY,
	TRACE_CLIENT_HANDSHAKE,
	TRACE_SERVER_HANDSHAKE,
	TRACE_CLIENT_TRAFFIC_0,
	TRACE_SERVER_TRAFFIC_0,
	TRACE_NSECRETS,
};

struct trace_keylog_entry {
	uint8_t random[32];
	uint8_t len[TRACE_NSECRETS]; /* 0: not known */
	uint8_t secret[TRACE_NSECRETS][MPQ_MAX_SECRETLEN];
};

struct trace_keylog {
	struct trace_keylog_entry *entries;
	size_t n, cap;
	uint64_t lines, bad_lines; /* lines read, and of them ones not understood */
};

/* Adds the lines of |text| (other labels and comments are skipped). Returns 0
 * or MPQ_ERR_NOMEM. */
int trace_keylog_add(struct trace_keylog *kl, const char *text, size_t len);

/* Reads the key log file |path|. Returns 0, MPQ_ERR_NOMEM or -1 (errno set). */
int trace_keylog_load(struct trace_keylog *kl, const char *path);

/* The secret |which| for |random|, or NULL (then *len is 0). */
const uint8_t *trace_keylog_find(const struct trace_keylog *kl, const uint8_t random[32],
				 enum trace_secret which, size_t *len);

void trace_keylog_free(struct trace_keylog *kl);

#endif
