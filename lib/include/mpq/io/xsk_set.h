/*
 * AF_XDP on every receive queue of an interface. An AF_XDP socket only
 * receives the frames of the one rx queue it is bound to, and a NIC with
 * several queues spreads flows over them (RSS; veth by the sender's tx
 * queue): a program that redirects a frame from a queue without a socket
 * passes it to the kernel, where nothing listens. So a set opens one socket
 * per queue (io/xsk.h), each queue with its own UMEM shared by its workers'
 * sockets (mpq_xsk_open_shared), and shows each worker one path I/O object:
 *
 * - fd: an epoll descriptor over the worker's sockets, readable when one of
 *   them has frames (or, after a send that found the buffers full, when the
 *   sending socket can take more: the caller's MPQ_LOOP_READ sees it, as a
 *   caller that keeps MPQ_LOOP_READ on does); with one queue, its socket's.
 * - recv_batch: every socket in turn, starting one further at each call, so
 *   that no queue starves the others; the batch is filled across them.
 * - send_batch: through one socket, worker k's of queue k % queues (any
 *   queue transmits; the workers' sends spread over the queues' UMEMs and
 *   their COMPLETION rings instead of sharing queue 0's).
 * - The port is held once, by the first queue's object (xsk.h port_held for
 *   the others); the capture hook set on the set is used by its sockets.
 *
 * The steering program (xdp_prog.h) needs socket (queue q, worker k) in the
 * slot of (q, k): mpq_xsk_set_member gives it.
 */
#ifndef MPQ_IO_XSK_SET_H
#define MPQ_IO_XSK_SET_H

#include <stdint.h>

#include "mpq/io/pathio.h"
#include "mpq/io/xsk.h"

MPQ_EXPORT extern const struct mpq_pathio_ops mpq_pathio_xdp_set;

/* Most queues a set serves. */
#define MPQ_XSK_SET_MAX_QUEUES 64

/* The number of rx queues of |ifname| in the calling thread's network
 * namespace: ETHTOOL_GCHANNELS (rx-only plus combined channels), else 1 (a
 * driver without channels has one). Returns 0; MPQ_ERR_NOT_FOUND (no such
 * interface); or the mapped errno ("socket"). */
MPQ_EXPORT int mpq_xsk_rx_queues(const char *ifname, uint32_t *n);

/* Opens sockets on rx queues 0..n_queues-1 of cfg->ifname for |n_workers|
 * workers (mpq_xsk_open_shared per queue, xcfg->queue ignored) and puts
 * worker k's set in out[k]. Each queue's UMEM has xcfg->frames frames for up
 * to 4 queues; beyond, the frames of 4 are split among them (at least 512 a
 * queue, and 128 per worker). With n_workers > 1, or n_queues > 1,
 * xcfg->inhibit_prog must be set (the caller's program picks the socket).
 * Returns as mpq_xsk_open_shared (MPQ_ERR_INVALID_ARGUMENT also for
 * n_queues 0 or past MPQ_XSK_SET_MAX_QUEUES); on failure nothing is left
 * open, and |failed_queue| (may be NULL) says which queue failed to open. */
MPQ_EXPORT int mpq_xsk_set_open(mpq_pathio **out, uint32_t n_workers, uint32_t n_queues,
				const mpq_pathio_config *cfg, const mpq_xsk_config *xcfg,
				uint32_t *failed_queue, mpq_oserr *err);

/* How many queues |set| serves; 0 for another object. */
MPQ_EXPORT uint32_t mpq_xsk_set_queues(mpq_pathio *set);

/* The socket of queue |queue| in |set| (an "xdp" object: mpq_xsk_get_info,
 * mpq_xsk_get_stats, mpq_pathio_fd for the XSKMAP), NULL past the last. It
 * belongs to the set: do not close it. */
MPQ_EXPORT mpq_pathio *mpq_xsk_set_member(mpq_pathio *set, uint32_t queue);

/* How mpq_xsk_steer_queues sent every flow to the queues served. */
enum {
	MPQ_XSK_STEER_NONE,	/* not changed */
	MPQ_XSK_STEER_INDIR,	/* the RSS indirection table spreads over them */
	MPQ_XSK_STEER_CHANNELS, /* the interface has that many rx channels */
};

/* What mpq_xsk_steer_queues changed, to put back. */
typedef struct mpq_xsk_steer {
	char ifname[16];
	int how;	 /* MPQ_XSK_STEER_* */
	uint32_t *indir; /* INDIR: the table before */
	uint32_t indir_size;
	uint32_t rx, combined; /* CHANNELS: the counts before */
	/* Why each way failed (errno, 0 when not tried or done). */
	int indir_errnum, channels_errnum;
} mpq_xsk_steer;

/* When not every rx queue of |ifname| can have a socket (more queues than a
 * set or the program's slots take, a queue someone else holds): makes the
 * NIC put every flow on queues 0..n-1, by its RSS indirection table
 * (ETHTOOL_SRXFHINDIR, every entry one of those queues) or else by
 * reducing its rx (or combined) channels to n (ETHTOOL_SCHANNELS). Returns
 * the MPQ_XSK_STEER_* used (> 0), with |st| filled for
 * mpq_xsk_steer_restore; or MPQ_ERR_INTERNAL when neither works (veth has
 * no indirection table and refuses fewer rx channels than its peer's tx
 * queues while XDP is attached), with st->indir_errnum and
 * st->channels_errnum saying why; or MPQ_ERR_NOMEM. */
MPQ_EXPORT int mpq_xsk_steer_queues(const char *ifname, uint32_t n, mpq_xsk_steer *st);

/* Puts back what mpq_xsk_steer_queues changed and frees |st|'s memory.
 * Nothing when it changed nothing. */
MPQ_EXPORT void mpq_xsk_steer_restore(mpq_xsk_steer *st);

#endif
