/*
 * What mpq-trace reads from the TLS handshake in CRYPTO frames: the client
 * random of the ClientHello (to pick the key log lines), the cipher suite of
 * the ServerHello, the ALPN the server chose (EncryptedExtensions), and
 * whether each side offered multipath (initial_max_path_id).
 */
#ifndef MPQ_TRACE_TLSMSG_H
#define MPQ_TRACE_TLSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trace_tls {
	bool have_random;
	uint8_t random[32];
	uint16_t cipher_suite; /* 0: no ServerHello yet */
	char alpn[64];	       /* the server's choice; "" until known */
	bool client_multipath, server_multipath;
};

/* Reads the whole handshake messages at the start of |buf| (the contiguous
 * CRYPTO stream of one level and direction); a message cut short at the end
 * is left for a later call with more bytes. Returns the bytes of whole
 * messages, or -1 for a malformed one. */
int trace_tls_read(struct trace_tls *t, const uint8_t *buf, size_t len, bool from_server);

#endif
