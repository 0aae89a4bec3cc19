/*
 * Whether an interface runs an XDP program that redirects to AF_XDP sockets
 * (one that uses an XSKMAP, as mpq-server/mpq-client --io xdp attach): the
 * traffic it takes never reaches libpcap. Kept apart from capture.c, since
 * <pcap/pcap.h> and <linux/bpf.h> both define struct bpf_insn.
 */
#ifndef MPQ_TRACE_XSKCHECK_H
#define MPQ_TRACE_XSKCHECK_H

#include <stddef.h>

/* The name of the first such program on |ifname|, in |name|, or NULL (none,
 * or it cannot be known: no such interface, no permission). */
const char *trace_xsk_program(const char *ifname, char *name, size_t len);

#endif
