/*
 * mpq-server's state, shared by its parts: main.c (options, connections, the
 * event loop, workers), listen.c (the addresses and their sockets), tls.c
 * (certificate and TLS context), connlog.c (what it says about
 * connections) and tcp_*.c (--tcp: the same files over HTTPS on TCP).
 */
#ifndef MPQ_SERVER_H
#define MPQ_SERVER_H

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/callbacks.h"
#include "common/dgramio.h"
#include "common/pathact.h"
#include "common/transport.h"
#include "connlog.h"
#include "mpq/io/memtrim.h"
#include "mpq/io/hq_files.h"
#include "mpq/io/loop.h"
#include "mpq/io/netaddr.h"
#include "mpq/io/reuseport.h"
#include "mpq/endpoint.h"
#include "mpq/hq.h"

#define DEFAULT_PORT 6121
#define MAX_LISTEN 64	/* listening addresses */
#define MAX_ADVERTISE 8 /* mpq_endpoint_config.advertise */
#define MAX_IF_ADDRS 16 /* addresses one AF_XDP listener serves */

struct server_opts {
	struct tool_transport t;
	const char *ifaces;
	const char *addrs;
	uint64_t port;
	const char *www;
	const char *cert_dir;
	const char *cert;
	const char *key;
	const char *cert_out;
	uint64_t workers;
	bool advertise;
	bool retry;
	bool tcp, mptcp;
	struct tool_pathact pa; /* --abandon-path, --backup-path */
};

struct listener {
	struct tool_sock sock;
	char ifname[IF_NAMESIZE]; /* "" when not known */
	/* The addresses served: the bound one (udp), or the interface's
	 * listed for it, both families (xdp). */
	mpq_addr addrs[MAX_IF_ADDRS];
	size_t naddrs;
	mpq_reuseport *group; /* --workers > 1, worker 0's: the workers' sockets */
	/* --workers > 1 with xdp, worker 0's: the AF_XDP socket sets of the
	 * other workers (xk for worker k, sharing each queue's UMEM with
	 * sock.io) until they take them. */
	mpq_pathio **xsk;
	uint32_t nxsk;
};

/* An address to listen on, before the sockets are opened. */
struct candidate {
	mpq_addr a;
	char ifname[IF_NAMESIZE]; /* "" when no interface has it */
	bool done;
};

struct server {
	struct server_opts o;
	struct listener *listen; /* MAX_LISTEN of them */
	size_t nlisten;
	bool listen_all;	 /* the default: skip addresses that cannot be bound */
	struct candidate *cands; /* MAX_LISTEN of them */
	size_t ncands;
	char iosum[512]; /* "xdp on veth0 (...); udp on lo (...)" */

	mpq_addr advertise[MAX_ADVERTISE]; /* --advertise: what every connection announces */
	size_t nadvertise;

	char cert_file[4096], key_file[4096];
	char *cert_pem, *key_pem; /* self-signed, in memory */

	mpq_loop *loop;
	mpq_loop_timer timer;
	mpq_tls_ctx *tls;
	mpq_hq_root *www; /* --www, opened for serving */
	mpq_hq_server *hq;
	mpq_endpoint *ep;
	mpq_mem_trim trim; /* gives send buffers back after a surge */
	struct tool_callbacks cbw;
	struct connlog connlog; /* this worker's connections */

	/* --workers: worker 0 (the main thread) has the others in |workers| */
	unsigned int worker;
	struct server **workers; /* o.workers - 1 of them */
	pthread_t thread;
	int stop_fd;	 /* eventfd that stops a worker's loop, -1 in worker 0 */
	int stop_signal; /* the signal that stopped worker 0 */
	int result;	 /* a worker's exit status */
	uint8_t secret[MPQ_ENDPOINT_SECRET_LEN]; /* shared: stateless resets, Retry */
	struct tcp_server *tcp;			 /* --tcp, worker 0's: HTTPS over TCP (tcp.h) */
};

/* main.c */
/* An eventfd became readable: stops the loop it is watched by (how worker
 * 0 stops the other threads). */
int on_stop_fd(mpq_loop *loop, int fd, unsigned int events, void *ud);

/* listen.c */
/* The sockets of --addr LIST, -n LIST, or every address of this host.
 * Returns 0 or an exit status after one line. */
int listen_addrs(struct server *s);
int listen_ifaces(struct server *s);
int listen_all(struct server *s);
/* --advertise: the addresses every connection announces. */
void plan_advertise(struct server *s);
/* "listening on ADDR (IF)", one line each, on stdout. */
void print_listening(const struct server *s);
/* A tool_sock around |io| (which it closes on failure). */
int sock_wrap(struct tool_sock *sock, mpq_pathio *io);
/* Closes the AF_XDP sockets of |l| that no worker took. */
void close_xsk_rest(struct listener *l);

/* tls.c */
/* The TLS context from --cert/--key, -certpath, or a self-signed certificate
 * (--cert-out writes it). Returns 0 or an exit status after one line. */
int make_tls(struct server *s);

#endif
