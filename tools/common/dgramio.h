/*
 * Moving a connection's datagrams through a path I/O object (mpq/io/pathio.h)
 * for the tools: a send queue that packs what mpq_conn_write_pkt produces
 * into GSO runs (same path, same segment size, the last one may be shorter)
 * and hands them to the kernel in one send_batch, keeping what the kernel
 * could not take until the socket is writable again; and a receive loop.
 * Both count UDP payload bytes and datagrams for the --json summaries.
 */
#ifndef MPQ_TOOL_DGRAMIO_H
#define MPQ_TOOL_DGRAMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/io/loop.h"
#include "mpq/io/oserr.h"
#include "mpq/io/pathio.h"
#include "mpq/io/xdp_prog.h"
#include "mpq/io/xsk_set.h"
#include "mpq/conn.h"

#define TOOL_TX_DESCS 64
#define TOOL_TX_BUF (512 * 1024)
/* The largest datagram the tools receive whole (IPv4's limit). */
#define TOOL_MAX_DGRAM 65507
/* Room for a datagram to send on a socket whose interface MTU is unknown. */
#define TOOL_TX_ROOM 1500

/* --io, parsed. */
enum tool_io {
	TOOL_IO_AUTO,
	TOOL_IO_UDP,
	TOOL_IO_XDP,
};

struct tool_sock {
	mpq_pathio *io;
	char name[80]; /* the bound address, for messages */
	/* xdp: the interface, the steering program attached there for this
	 * socket's port (detached at close) and what the kernel gave, e.g.
	 * "4 of 4 rx queues, sockets native copy, program native". NULL / ""
	 * for udp. */
	mpq_xdp_prog *prog;
	char ifname[16];
	char mode[160];
	int *port_fds; /* xdp: kernel UDP sockets holding the port at each address served */
	size_t n_port_fds;
	mpq_xsk_steer steer; /* xdp: how flows were sent to the queues served */

	/* Send queue: descriptors [tx_sent, tx_n) point into tx_buf[0, tx_used). */
	mpq_dgram tx[TOOL_TX_DESCS];
	size_t tx_n;
	size_t tx_sent;
	size_t tx_used;
	uint8_t *tx_buf;
	bool tx_blocked; /* the kernel's buffer is full: wait for writability */
	int tx_errnum;	 /* errno of the last datagram the kernel refused, 0 if none */

	uint64_t bytes_sent, dgrams_sent;
	uint64_t bytes_received, dgrams_received;
};

/* The capture hook every socket opened from here on gets (--pcap), NULL: none. */
extern const mpq_capture *tool_capture;
/* --busy-poll for every AF_XDP socket opened from here on, 0: off. */
extern uint32_t tool_busy_poll_us;

/* A new event loop that stops on SIGINT and SIGTERM. Returns 0, or
 * TOOL_EXIT_FAIL after one line on stderr. */
int tool_loop_new(mpq_loop **loop);

/* Deletes |loop| at exit: SIGINT and SIGTERM are ignored from here on, so
 * that a second one (timeout(1) signals its whole process group, a user
 * presses ^C twice) pending since the loop stopped does not kill the process
 * when the loop unblocks them, after a clean teardown, with 128 + signal
 * instead of the exit status CLI.md gives. NULL is a no-op. */
void tool_loop_del(mpq_loop *loop);

/* Opens a UDP path I/O object bound to |local| (and interface |ifname| when
 * not NULL). Returns 0, or the MPQ_ERR_* of the open with the failing call
 * and errno in |err|. */
int tool_sock_open(struct tool_sock *s, const mpq_addr *local, const char *ifname, mpq_oserr *err);
void tool_sock_close(struct tool_sock *s);

/* "auto", "udp", "xdp" (as checked by the option table). */
enum tool_io tool_io_parse(const char *name);

/* Why AF_XDP cannot be used on |ifname| at all, or NULL: it is a loopback
 * interface (not useful), or the process is not root. */
const char *tool_xdp_unusable(const char *ifname);

/* What tool_xdp_open opens. */
struct tool_xdp_req {
	const mpq_addr *local; /* an address of the interface or a wildcard, port 0 allowed */
	/* The addresses steered to us, port ignored (none: |local|). Their
	 * port is held by kernel UDP sockets bound to each (not to |local|):
	 * one not available (IPv6 in duplicate address detection) is said on
	 * stderr and dropped from the list. */
	mpq_addr *serve;
	size_t n_serve;
	const char *ifname;
	uint32_t n_workers;
	bool refuse_other; /* refuse an interface that has an XDP program */
	bool v6only;	   /* the IPv6 wildcard serves IPv6 alone (else IPv4 too) */
	int *verbose;	   /* the level the loader's messages are shown at */
};

/* Opens AF_XDP path I/O on every rx queue of r->ifname (io/xsk_set.h: one
 * socket per queue and worker, a UMEM per queue) for r->local, attaches the
 * steering program of xdp/ for the object's port, its workers and r->serve,
 * and puts each socket in its slot: only QUIC to those addresses and that
 * port is taken from the kernel, which keeps answering ARP/ND, ping, TCP and
 * other UDP ports. Worker 0's set goes to |s|, worker k's (k >= 1) to
 * rest[k]. Queues past what a set and the program's slots allow (or past
 * the first that cannot be opened) are left out: the NIC is told to put every
 * flow on the queues served (mpq_xsk_steer_queues, undone at close), said in
 * one line on stderr with how, or why it could not be. With r->refuse_other,
 * an interface that already has an XDP program is refused (a client must not
 * take the place of a server's program). Returns 0, or an MPQ_ERR_* with one
 * phrase in |why| (nothing left open). */
int tool_xdp_open(struct tool_sock *s, mpq_pathio **rest, struct tool_xdp_req *r, char *why,
		  size_t len);

/* tool_xdp_open for one worker, serving |local| (IPv6 alone for an IPv6
 * wildcard). */
int tool_sock_open_xdp(struct tool_sock *s, const mpq_addr *local, const char *ifname,
		       bool refuse_other, int *verbose, char *why, size_t len);

/* With a steering program: "IF: steering program: redirected N, passed N,
 * ..." (the counters that are not zero) on stderr. */
void tool_sock_print_counters(struct tool_sock *s);

/* "bind: Address already in use" for an open that returned |rv|. */
void tool_oserr_text(char *buf, size_t len, int rv, const mpq_oserr *err);

/* The largest datagram |s| sends: what its interface allows
 * (mpq_pathio.max_udp_payload), TOOL_TX_ROOM when that is unknown. */
size_t tool_sock_max_payload(const struct tool_sock *s);

/* Room for the next datagram (tool_sock_max_payload bytes), or NULL when
 * the queue is full or blocked: flush first. */
uint8_t *tool_tx_space(struct tool_sock *s, size_t *room);

/* Queues the |len| bytes written at tool_tx_space() for |path|, to leave
 * with ECN codepoint |ecn| (MPQ_ECN_*, as mpq_conn_write_pkt gave it). */
void tool_tx_commit(struct tool_sock *s, const mpq_path *path, uint8_t ecn, size_t len);

/* Hands the queue to the kernel. Returns 0 when it is empty afterwards, 1
 * when the kernel's buffer filled (tx_blocked: wait for MPQ_LOOP_WRITE and
 * call again), or a fatal MPQ_ERR_*. A datagram the kernel refuses (no route,
 * ICMP error pending, too large) is dropped, as the network might have, and
 * its errno kept in tx_errnum. */
int tool_tx_flush(struct tool_sock *s);

/* Writes every datagram |conn| has now, each into the queue of the socket
 * its path names (mpq_path.user_data is the struct tool_sock; NULL means
 * |s|), flushing queues as they fill. Returns 0 (done, or stopped because a
 * queue is blocked: see tx_blocked), what mpq_conn_write_pkt returned when it
 * failed (MPQ_ERR_CLOSING / MPQ_ERR_DRAINING: nothing more will be sent), or
 * a fatal error from a socket. */
int tool_conn_send(struct tool_sock *s, mpq_conn *conn, uint64_t now);

/* The packet info of received datagram |d| for mpq_conn_read_pkt (its ECN
 * codepoint). */
mpq_pkt_info tool_rx_info(const mpq_dgram *d);

/* Receives datagrams and hands each to |fn| (which may modify the bytes), for
 * at most |rounds| batches so that timers and other sockets get their turn.
 * Returns 0, the first negative value |fn| returned, or the socket's error. */
int tool_rx_drain(struct tool_sock *s, int (*fn)(void *ud, mpq_dgram *d), void *ud, int rounds);

#endif
