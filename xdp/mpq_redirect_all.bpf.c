/*
 * Hands every frame of an interface to the AF_XDP socket of the rx queue it
 * arrived on, whatever it carries (ARP, IPv6 neighbour discovery, any
 * protocol): a router leg whose frames all go to a forwarder in user space
 * (mpq-linkemu's --io xdp). A queue without a socket passes its frames to
 * the kernel. Loaded by lib/io/xdp_redirect.c.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "mpq_redirect_all.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, MPQ_REDIRECT_ALL_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} MPQ_REDIRECT_ALL_MAP SEC(".maps");

/* Frags-aware: it reads no packet byte, and veth takes it natively at an
 * MTU larger than a page (AF_XDP multi-buffer) only so. */
SEC("xdp.frags")
int MPQ_REDIRECT_ALL_PROG(struct xdp_md *ctx)
{
	return (int)bpf_redirect_map(&MPQ_REDIRECT_ALL_MAP, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
