/*
 * Steers QUIC packets to the AF_XDP socket of the worker that owns their
 * destination connection ID, and passes everything else to the kernel
 * (DESIGN.md "steering (xdp/)"). The decisions, maps and counters are laid
 * out in mpq_steer.h; lib/io/xdp_prog.c loads this program through libxdp.
 *
 * Parsing is bounded: every read is checked against data_end, the only loop
 * (over cfg.ports) is unrolled, and any frame that does not parse is
 * XDP_PASS.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "mpq_steer.h"

#define QUIC_LONG_HEADER 0x80
#define QUIC_LONG_TYPE(b) (((b) >> 4) & 0x3)
#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu
#define IP_FRAG_MASK 0x3fff /* More Fragments and Fragment Offset */

/* 802.1Q / 802.1ad tag after the MAC addresses (linux/if_vlan.h is kernel-only). */
struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

/* Filled by the loader before the program is loaded. */
const volatile struct mpq_steer_config mpq_steer_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, MPQ_STEER_XSKMAP_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} MPQ_STEER_MAP_XSKS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MPQ_STEER_MAX_ADDRS);
	__type(key, struct mpq_steer_addr_key);
	__type(value, __u32);
} MPQ_STEER_MAP_ADDRS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MPQ_STEER_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} MPQ_STEER_MAP_COUNTERS SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&MPQ_STEER_MAP_COUNTERS, &idx);

	if (c)
		*c += 1;
}

static __always_inline int pass(__u32 why)
{
	count(why);
	count(MPQ_STEER_CNT_PASSED);
	return XDP_PASS;
}

/* Redirects to |worker|'s socket for this rx queue; |why| is the decision. */
static __always_inline int redirect(struct xdp_md *ctx, __u32 worker, __u32 why)
{
	__u32 n = mpq_steer_cfg.n_workers;
	__u32 slot;
	long ret;

	if (worker >= n)
		return pass(MPQ_STEER_CNT_BAD_WORKER);
	slot = MPQ_STEER_SLOT(ctx->rx_queue_index, worker, n);
	if (slot >= MPQ_STEER_XSKMAP_SIZE)
		return pass(MPQ_STEER_CNT_BAD_WORKER);
	count(why);
	ret = bpf_redirect_map(&MPQ_STEER_MAP_XSKS, slot, XDP_PASS);
	if (ret == XDP_REDIRECT) {
		count(MPQ_STEER_CNT_REDIRECTED);
		return XDP_REDIRECT;
	}
	count(MPQ_STEER_CNT_REDIRECT_FAILED);
	count(MPQ_STEER_CNT_PASSED);
	return XDP_PASS;
}

static __always_inline int our_port(__u16 port)
{
#pragma unroll
	for (int i = 0; i < MPQ_STEER_MAX_PORTS; i++)
		if (mpq_steer_cfg.ports[i] && mpq_steer_cfg.ports[i] == port)
			return 1;
	return 0;
}

/* Whether the destination address of |l3| (IPv4, or |v6|), already checked
 * to be whole, is one we serve: transit traffic and other addresses of the
 * interface go to the kernel. */
static __always_inline int our_addr(void *l3, int v6)
{
	struct mpq_steer_addr_key key;

	__builtin_memset(&key, 0, sizeof(key));
	if (v6) {
		key.family = 6;
		__builtin_memcpy(key.addr, &((struct ipv6hdr *)l3)->daddr, 16);
	} else {
		key.family = 4;
		__builtin_memcpy(key.addr, &((struct iphdr *)l3)->daddr, 4);
	}
	return bpf_map_lookup_elem(&MPQ_STEER_MAP_ADDRS, &key) != NULL;
}

/* Initial or 0-RTT: the client chose the DCID, so it routes by 4-tuple
 * (QUIC-LB). The type bits differ between v1 and v2 (RFC 9369 §3.2). */
static __always_inline __u32 client_chosen_dcid(__u8 first, __u32 version)
{
	__u8 type = QUIC_LONG_TYPE(first);

	if (version == bpf_htonl(QUIC_V1)) {
		if (type == 0)
			return MPQ_STEER_CNT_INITIAL_HASH;
		if (type == 1)
			return MPQ_STEER_CNT_ZERO_RTT_HASH;
	} else if (version == bpf_htonl(QUIC_V2)) {
		if (type == 1)
			return MPQ_STEER_CNT_INITIAL_HASH;
		if (type == 2)
			return MPQ_STEER_CNT_ZERO_RTT_HASH;
	}
	return 0;
}

/* The 4-tuple hash of mpq_steer.h over the addresses and the ports word;
 * |l3| is the IPv4 or (|v6|) IPv6 header, already checked to be whole. */
static __always_inline __u32 tuple_hash(void *l3, int v6, struct udphdr *udp)
{
	__u32 w[9];

	if (!v6) {
		struct iphdr *ip4 = l3;

		w[0] = ip4->saddr;
		w[1] = ip4->daddr;
		__builtin_memcpy(&w[2], udp, 4);
		return mpq_steer_hash(mpq_steer_cfg.hash_seed, w, 3);
	}
	struct ipv6hdr *ip6 = l3;

	__builtin_memcpy(&w[0], &ip6->saddr, 16);
	__builtin_memcpy(&w[4], &ip6->daddr, 16);
	__builtin_memcpy(&w[8], udp, 4);
	return mpq_steer_hash(mpq_steer_cfg.hash_seed, w, 9);
}

/* Frags-aware (BPF_F_XDP_HAS_FRAGS): it reads only the headers, which are in
 * the first buffer, and veth refuses a native program that is not while its
 * MTU is larger than a page (at 9000 we fell back to generic mode). */
SEC("xdp.frags")
int MPQ_STEER_PROG(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp;
	__u8 *q, first, len = 0;
	__u32 version = 0, hashed = 0, worker;
	__be16 proto;
	void *l3;
	int v6 = 0, is_long;

	if ((void *)(eth + 1) > end)
		return pass(MPQ_STEER_CNT_TRUNCATED);
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_tag *tag = l3;

		if ((void *)(tag + 1) > end)
			return pass(MPQ_STEER_CNT_TRUNCATED);
		proto = tag->proto;
		l3 = tag + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip4 = l3;
		__u32 ihl;

		if ((void *)(ip4 + 1) > end)
			return pass(MPQ_STEER_CNT_TRUNCATED);
		if (ip4->version != 4 || ip4->ihl < 5)
			return pass(MPQ_STEER_CNT_BAD_IP);
		ihl = ip4->ihl * 4;
		if (l3 + ihl > end)
			return pass(MPQ_STEER_CNT_TRUNCATED);
		if (ip4->frag_off & bpf_htons(IP_FRAG_MASK))
			return pass(MPQ_STEER_CNT_IP_FRAGMENT);
		if (ip4->protocol != IPPROTO_UDP)
			return pass(MPQ_STEER_CNT_NOT_UDP);
		udp = l3 + ihl;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		v6 = 1;
		if ((void *)(ip6 + 1) > end)
			return pass(MPQ_STEER_CNT_TRUNCATED);
		if (ip6->version != 6)
			return pass(MPQ_STEER_CNT_BAD_IP);
		if (ip6->nexthdr != IPPROTO_UDP)
			return pass(MPQ_STEER_CNT_NOT_UDP);
		udp = (void *)(ip6 + 1);
	} else {
		return pass(MPQ_STEER_CNT_NOT_IP);
	}

	if ((void *)(udp + 1) > end)
		return pass(MPQ_STEER_CNT_TRUNCATED);
	if (!our_port(bpf_ntohs(udp->dest)))
		return pass(MPQ_STEER_CNT_NOT_OUR_PORT);
	if (!our_addr(l3, v6))
		return pass(MPQ_STEER_CNT_NOT_OUR_ADDR);

	q = (void *)(udp + 1);
	if ((void *)(q + 1) > end)
		return pass(MPQ_STEER_CNT_TRUNCATED);
	first = q[0];
	is_long = first & QUIC_LONG_HEADER;
	if (is_long) {
		/* flags(1) version(4) DCID length(1) DCID (RFC 8999 §5.1) */
		if ((void *)(q + 6) > end)
			return pass(MPQ_STEER_CNT_TRUNCATED);
		__builtin_memcpy(&version, q + 1, 4);
		len = q[5];
		if (len > MPQ_STEER_MAX_CID_LEN)
			return pass(MPQ_STEER_CNT_BAD_CID_LEN);
		q += 6;
		if ((void *)(q + len) > end)
			return pass(MPQ_STEER_CNT_TRUNCATED);
		hashed = client_chosen_dcid(first, version);
	} else {
		/* flags(1) DCID of our fixed length */
		if ((void *)(q + 1 + MPQ_STEER_CID_LEN) > end)
			return pass(MPQ_STEER_CNT_TRUNCATED);
		q += 1;
		len = MPQ_STEER_CID_LEN;
	}
	if (len == MPQ_STEER_CID_LEN && (void *)(q + MPQ_STEER_CID_LEN) <= end &&
	    q[0] == MPQ_STEER_CID_FIRST_OCTET) {
		worker = q[MPQ_STEER_CID_WORKER_OFFSET];
		/* A client-chosen DCID may look like ours by chance: one whose
		 * worker ID we do not have still goes by hash. */
		if (worker < mpq_steer_cfg.n_workers || !hashed)
			return redirect(ctx, worker,
					is_long ? MPQ_STEER_CNT_LONG_WORKER_ID
						: MPQ_STEER_CNT_SHORT_WORKER_ID);
	}

	if (hashed && mpq_steer_cfg.n_workers)
		return redirect(ctx, tuple_hash(l3, v6, udp) % mpq_steer_cfg.n_workers, hashed);
	return pass(MPQ_STEER_CNT_NO_ROUTE);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
