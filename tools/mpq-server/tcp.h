/*
 * mpq-server --tcp: the same www root over HTTPS on TCP (or MPTCP with
 * --mptcp), for comparison runs, at the addresses and port the QUIC side
 * listens on. One thread with its own event loop serves every TCP
 * connection, so TLS and file reads there never hold up the QUIC side:
 * non-blocking sockets, TLS 1.3 with ALPN http/1.1 and the same certificate,
 * HTTP/1.1 GET with keep-alive (mpq/http1.h), bodies from mpq_hq_body_* (the
 * same files, path rules and generated "/<digits>" bodies as hq).
 *
 * tcp_listen.c: the sockets, the thread, start and stop; tcp_conn.c: one
 * connection's TLS handshake, requests and responses.
 */
#ifndef MPQ_SERVER_TCP_H
#define MPQ_SERVER_TCP_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/hq.h"
#include "mpq/io/hq_files.h"
#include "mpq/io/loop.h"
#include "mpq/io/netaddr.h"

#define TCP_MAX_LISTEN 64
#define TCP_MAX_CONNS 4096	   /* more are closed as soon as accepted */
#define TCP_IDLE_NS (30 * MPQ_SEC) /* between requests, and for the handshake */
#define TCP_SWEEP_NS (1 * MPQ_SEC) /* how often idle connections are looked for */

struct tcp_conn;

struct tcp_server {
	bool mptcp;
	const int *verbose;
	SSL_CTX *ssl;
	mpq_hq_root *www; /* its own: the QUIC side's belongs to its thread */
	mpq_hq_files files;
	int lfd[TCP_MAX_LISTEN]; /* listening sockets */
	mpq_addr laddr[TCP_MAX_LISTEN];
	size_t nlisten;
	mpq_loop *loop;
	mpq_loop_timer sweep;
	int stop_fd; /* eventfd: the main thread stops the loop */
	pthread_t thread;
	bool running;
	struct tcp_conn *conns; /* every open connection, a doubly linked list */
	size_t nconns;
	uint64_t served; /* requests answered */
};

/* tcp_listen.c */
struct server;
/* Opens the TCP (MPTCP) sockets at every listening address of |s| and the
 * TLS context, and starts the thread. Returns 0 or an exit status after one
 * line. */
int tcp_start(struct server *s);
/* Stops the thread, closes every connection and socket (NULL: nothing). */
void tcp_stop(struct server *s);

/* tcp_conn.c */
/* A connection accepted on |fd| (non-blocking) from |peer|: watched by the
 * loop from now on. Returns 0, or -1 (then |fd| is closed). */
int tcp_conn_new(struct tcp_server *t, int fd, const mpq_addr *peer);
/* Closes connections idle since before |now| - TCP_IDLE_NS. */
void tcp_conn_sweep(struct tcp_server *t, uint64_t now);
/* Closes every connection (at the end). */
void tcp_conn_close_all(struct tcp_server *t);

#endif
