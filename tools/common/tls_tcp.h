/*
 * TLS 1.3 over TCP (and MPTCP) for the comparison runs: mpq-server --tcp and
 * mpq-client --tcp speak HTTPS with ALPN "http/1.1" through plain OpenSSL,
 * with the same certificates and the same key log as the QUIC side.
 */
#ifndef MPQ_TOOL_TLS_TCP_H
#define MPQ_TOOL_TLS_TCP_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "keylog.h"

/* A server context with the certificate chain and key from files
 * (|cert_file|, |key_file|) or from PEM text in memory (|cert_pem|,
 * |key_pem|); ALPN http/1.1 is selected when offered. |kl| (may be NULL or
 * off) gets every secret. NULL on failure, with the reason in |why|. */
SSL_CTX *tool_tls_tcp_server(const char *cert_file, const char *key_file, const char *cert_pem,
			     const char *key_pem, struct tool_keylog *kl, char *why, size_t len);

/* A client context offering ALPN http/1.1: verifying the server with |ca|
 * (NULL: the system store), or nothing with |insecure|. NULL on failure,
 * with the reason in |why|. */
SSL_CTX *tool_tls_tcp_client(const char *ca, bool insecure, struct tool_keylog *kl, char *why,
			     size_t len);

/* The oldest error OpenSSL queued for this thread, as text (or |fallback|);
 * clears the queue. */
const char *tool_tls_tcp_error(char *buf, size_t len, const char *fallback);

#endif
