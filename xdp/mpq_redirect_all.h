/* The layout of xdp/mpq_redirect_all.bpf.c: its program, its XSKMAP (one
 * AF_XDP socket per rx queue, keyed by the queue). */
#ifndef MPQ_REDIRECT_ALL_H
#define MPQ_REDIRECT_ALL_H

#define MPQ_REDIRECT_ALL_PROG mpq_redirect_all
#define MPQ_REDIRECT_ALL_MAP mpq_redirect_xsks
#define MPQ_REDIRECT_ALL_MAX_QUEUES 64

#endif
