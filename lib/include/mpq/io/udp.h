/*
 * The kernel UDP backend of path I/O (DESIGN.md "Path I/O"): one non-blocking
 * socket per local address, recvmmsg/sendmmsg, the local address, interface
 * and ECN of every datagram through IP_PKTINFO/IPV6_RECVPKTINFO and
 * IP_RECVTOS/IPV6_RECVTCLASS, UDP_GRO and UDP_SEGMENT where the kernel has
 * them. Works unprivileged and on loopback; SO_BINDTODEVICE (cfg.ifname) may
 * need CAP_NET_RAW: the open then fails with errno EPERM and call
 * "SO_BINDTODEVICE" in its mpq_oserr.
 */
#ifndef MPQ_IO_UDP_H
#define MPQ_IO_UDP_H

#include <stdint.h>

#include "mpq/io/pathio.h"

MPQ_EXPORT extern const struct mpq_pathio_ops mpq_pathio_udp;

typedef struct mpq_udp_stats {
	uint64_t rx_dgrams;    /* datagrams returned (each segment of a coalesced receive) */
	uint64_t rx_coalesced; /* receives the kernel had coalesced (GRO) */
	uint64_t rx_dropped;   /* larger than cfg.max_dgram, dropped */
	uint64_t tx_dgrams;    /* datagrams the kernel took (each GSO segment) */
	uint64_t tx_split;     /* GSO descriptors split here because the kernel cannot */
} mpq_udp_stats;

/* The counters of a udp object, NULL for another backend's. */
MPQ_EXPORT const mpq_udp_stats *mpq_udp_get_stats(const mpq_pathio *io);

#endif
