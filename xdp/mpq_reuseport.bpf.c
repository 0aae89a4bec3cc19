/*
 * Picks the socket of an SO_REUSEPORT group of UDP sockets by the worker ID
 * our connection IDs carry (DESIGN.md "Path I/O"); decisions and counters in
 * mpq_reuseport.h, loaded by lib/io/reuseport.c.
 *
 * The context's data starts at the UDP header; bpf_skb_load_bytes reads
 * from there, so the QUIC header is at offset sizeof(struct udphdr) whether
 * or not the payload is in the linear part of the skb.
 */
#include <linux/bpf.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>

#include "mpq_reuseport.h"

#define QUIC_LONG_HEADER 0x80
#define PAYLOAD ((__u32)sizeof(struct udphdr))

struct {
	__uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
	__uint(max_entries, MPQ_REUSEPORT_MAX_WORKERS);
	__type(key, __u32);
	__type(value, __u64);
} MPQ_REUSEPORT_MAP_SOCKS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MPQ_REUSEPORT_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} MPQ_REUSEPORT_MAP_COUNTERS SEC(".maps");

static __always_inline int count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&MPQ_REUSEPORT_MAP_COUNTERS, &idx);

	if (c)
		*c += 1;
	return SK_PASS;
}

SEC("sk_reuseport")
int MPQ_REUSEPORT_PROG(struct sk_reuseport_md *ctx)
{
	/* flags(1) version(4) DCID length(1) DCID(8) (RFC 8999 §5.1), or
	 * flags(1) DCID(8) */
	__u8 hdr[6 + MPQ_REUSEPORT_CID_LEN];
	__u8 *cid;
	__u32 worker, why;

	if (bpf_skb_load_bytes(ctx, PAYLOAD, hdr, 1 + MPQ_REUSEPORT_CID_LEN) < 0)
		return count(MPQ_REUSEPORT_CNT_TRUNCATED);
	if (hdr[0] & QUIC_LONG_HEADER) {
		if (bpf_skb_load_bytes(ctx, PAYLOAD, hdr, sizeof(hdr)) < 0)
			return count(MPQ_REUSEPORT_CNT_TRUNCATED);
		if (hdr[5] != MPQ_REUSEPORT_CID_LEN)
			return count(MPQ_REUSEPORT_CNT_NOT_OURS);
		cid = hdr + 6;
		why = MPQ_REUSEPORT_CNT_LONG_HIT;
	} else {
		cid = hdr + 1;
		why = MPQ_REUSEPORT_CNT_SHORT_HIT;
	}
	if (cid[0] != MPQ_REUSEPORT_CID_FIRST_OCTET)
		return count(MPQ_REUSEPORT_CNT_NOT_OURS);
	worker = cid[MPQ_REUSEPORT_CID_WORKER_OFFSET];
	if (bpf_sk_select_reuseport(ctx, &MPQ_REUSEPORT_MAP_SOCKS, &worker, 0) < 0)
		return count(MPQ_REUSEPORT_CNT_NO_SOCKET);
	return count(why);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
