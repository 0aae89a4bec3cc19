/*
 * The whole-frame program of xdp/ (mpq_redirect_all.bpf.c): every frame an
 * interface receives goes to the AF_XDP socket of its rx queue, for a
 * forwarder that takes whole frames (xsk.h raw mode; mpq-linkemu --io xdp).
 * Attached alone (bpf_xdp_attach), replacing whatever program the
 * interface had: a router leg belongs to its forwarder. Nothing is printed
 * (mpq_bpf_quiet).
 */
#ifndef MPQ_IO_XDP_REDIRECT_H
#define MPQ_IO_XDP_REDIRECT_H

#include <stdint.h>

#include "mpq/io/oserr.h"
#include "mpq/io/xdp_prog.h"

typedef struct mpq_xdp_redirect mpq_xdp_redirect;

/* Loads the program and attaches it to |ifindex| in |mode| (AUTO: native,
 * else generic). Returns 0; MPQ_ERR_INVALID_ARGUMENT (a mode out of range);
 * MPQ_ERR_NOMEM; or the mapped errno with the call in |err| (may be NULL):
 * "bpf load" (EPERM without CAP_BPF), "xdp attach" (of the last mode tried). */
MPQ_EXPORT int mpq_xdp_redirect_attach(mpq_xdp_redirect **out, int ifindex, mpq_xdp_mode mode,
				       mpq_oserr *err);

/* Puts AF_XDP socket |xsk_fd| (bound to the interface's |queue|) in the
 * program's map, or takes the queue's out when |xsk_fd| < 0. Returns 0,
 * MPQ_ERR_INVALID_ARGUMENT (queue past MPQ_REDIRECT_ALL_MAX_QUEUES) or the
 * mapped errno. */
MPQ_EXPORT int mpq_xdp_redirect_set_xsk(mpq_xdp_redirect *r, uint32_t queue, int xsk_fd);

/* The mode it was attached in: MPQ_XDP_MODE_NATIVE or MPQ_XDP_MODE_SKB. */
MPQ_EXPORT mpq_xdp_mode mpq_xdp_redirect_mode(const mpq_xdp_redirect *r);

/* Detaches and frees. NULL is fine. */
MPQ_EXPORT void mpq_xdp_redirect_del(mpq_xdp_redirect *r);

#endif
