/* Ethernet, IPv4/IPv6, UDP, ARP and ND headers and checksums: see frame_hdr.h. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "mpq/io/frame_hdr.h"

#define IPPROTO_UDP_NUM 17
#define IPPROTO_ICMPV6_NUM 58
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define IP4_DF 0x4000
#define IP4_FRAG_MASK 0x3fff /* MF and the fragment offset */
#define IP6_MAX_EXT 8	     /* extension headers walked before giving up */
#define ND_HLEN 24	     /* ICMPv6 type, code, checksum, flags, target */
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2
#define ARP_LEN 28
#define DEFAULT_TTL 64

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* |s| plus the 64-bit word at |p|, the carry out counted in |*c|: compilers
 * make this an add and an add-with-carry. */
static inline uint64_t add_word(uint64_t s, const uint8_t *p, uint64_t *c)
{
	uint64_t v;

	memcpy(&v, p, 8);
	s += v;
	*c += s < v;
	return s;
}

uint64_t mpq_frame_hdr_csum_add(uint64_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = 0, c = 0;
	uint32_t w32;
	uint16_t h;

	sum = (sum & 0xffffffffu) + (sum >> 32); /* room for what is added below */
	/* Words in host order: the ones' complement sum does not depend on
	 * byte order (RFC 1071 §2 B), nor on the word size, as 2^16, 2^32 and
	 * 2^64 are all 1 modulo 0xffff: 64-bit words, their carries counted
	 * apart, four at a time. It was 4 bytes a step, and the checksum of
	 * every datagram sent was a tenth of the instructions of a sender with
	 * --io xdp (callgrind, docs/performance.md). */
	for (; len >= 32; p += 32, len -= 32) {
		s = add_word(s, p, &c);
		s = add_word(s, p + 8, &c);
		s = add_word(s, p + 16, &c);
		s = add_word(s, p + 24, &c);
	}
	for (; len >= 8; p += 8, len -= 8)
		s = add_word(s, p, &c);
	if (len >= 4) {
		memcpy(&w32, p, 4);
		sum += w32;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = {p[0], 0};

		memcpy(&h, last, 2);
		sum += h;
	}
	/* Halves of 64-bit values added (2^32 is 1), the carries (each
	 * worth 2^64, so 1 too): at most 35 bits, so that the caller can go
	 * on adding to it. */
	s = (s & 0xffffffffu) + (s >> 32);
	return sum + s + c;
}

uint16_t mpq_frame_hdr_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The pseudo-header sum (RFC 768, RFC 8200 §8.1): addresses, protocol and
 * upper-layer length. The latter two are 16-bit words in network order. */
static uint64_t pseudo_sum(const uint8_t *src, const uint8_t *dst, size_t alen, uint8_t proto,
			   size_t len)
{
	uint8_t tail[4] = {0, proto, (uint8_t)(len >> 8), (uint8_t)len};
	uint64_t sum = mpq_frame_hdr_csum_add(0, src, alen);

	sum = mpq_frame_hdr_csum_add(sum, dst, alen);
	return mpq_frame_hdr_csum_add(sum, tail, sizeof(tail));
}

size_t mpq_frame_hdr_udp_len(int family)
{
	if (family == AF_INET)
		return MPQ_FRAME_HDR_UDP4;
	if (family == AF_INET6)
		return MPQ_FRAME_HDR_UDP6;
	return 0;
}

static void put_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, MPQ_ETH_ALEN);
	memcpy(f + MPQ_ETH_ALEN, src, MPQ_ETH_ALEN);
	put16(f + 2 * MPQ_ETH_ALEN, type);
}

/* The first 8 bytes of an IPv6 header; the addresses follow. */
static void put_ip6(uint8_t *ip, uint8_t tclass, size_t plen, uint8_t next, uint8_t hlim)
{
	ip[0] = (uint8_t)(0x60 | tclass >> 4);
	ip[1] = (uint8_t)(tclass << 4);
	ip[2] = 0;
	ip[3] = 0;
	put16(ip + 4, (uint16_t)plen);
	ip[6] = next;
	ip[7] = hlim;
}

/* The address bytes and port (network order) of an IPv4 or IPv6 address. */
static const uint8_t *addr_bytes(const mpq_addr *a, const uint8_t **port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;

	if (a->ss.ss_family == AF_INET) {
		*port = (const uint8_t *)&sin->sin_port;
		return (const uint8_t *)&sin->sin_addr;
	}
	*port = (const uint8_t *)&sin6->sin6_port;
	return (const uint8_t *)&sin6->sin6_addr;
}

/* The header bytes of |h| with |payload_len| bytes of payload, or
 * MPQ_ERR_INVALID_ARGUMENT when its headers cannot say so. */
static int udp_hdr_len(const mpq_frame_udp *h, size_t payload_len)
{
	int fam = h->src.ss.ss_family;
	size_t hlen = mpq_frame_hdr_udp_len(fam);

	if (!hlen || h->dst.ss.ss_family != fam || h->ecn > 3)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (MPQ_UDP_HLEN + payload_len + (fam == AF_INET ? MPQ_IP4_HLEN : 0) > UINT16_MAX)
		return MPQ_ERR_INVALID_ARGUMENT;
	return (int)hlen;
}

int mpq_frame_hdr_build_udp(uint8_t *frame, size_t cap, const mpq_frame_udp *h, size_t payload_len)
{
	int hlen = udp_hdr_len(h, payload_len);

	if (hlen < 0)
		return hlen;
	if (cap < (size_t)hlen + payload_len)
		return MPQ_ERR_NOBUF;
	return mpq_frame_hdr_build_udp_hdr(frame, h, frame + hlen, payload_len);
}

int mpq_frame_hdr_build_udp_hdr(uint8_t *frame, const mpq_frame_udp *h, const uint8_t *payload,
				size_t payload_len)
{
	int fam = h->src.ss.ss_family;
	size_t hlen = mpq_frame_hdr_udp_len(fam);
	size_t alen = fam == AF_INET ? 4 : 16;
	size_t ulen = MPQ_UDP_HLEN + payload_len;
	uint8_t ttl = h->ttl ? h->ttl : DEFAULT_TTL;
	const uint8_t *src, *dst, *sport, *dport;
	uint8_t *ip = frame + MPQ_ETH_HLEN;
	uint8_t *udp = frame + hlen - MPQ_UDP_HLEN;
	uint64_t sum;
	uint16_t csum;

	if (udp_hdr_len(h, payload_len) < 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	src = addr_bytes(&h->src, &sport);
	dst = addr_bytes(&h->dst, &dport);

	put_eth(frame, h->dst_mac, h->src_mac, fam == AF_INET ? MPQ_ETH_P_IP : MPQ_ETH_P_IPV6);
	if (fam == AF_INET) {
		ip[0] = 0x45;
		ip[1] = h->ecn;
		put16(ip + 2, (uint16_t)(MPQ_IP4_HLEN + ulen));
		put16(ip + 4, 0);
		put16(ip + 6, IP4_DF);
		ip[8] = ttl;
		ip[9] = IPPROTO_UDP_NUM;
		put16(ip + 10, 0);
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		csum = mpq_frame_hdr_csum_fold(mpq_frame_hdr_csum_add(0, ip, MPQ_IP4_HLEN));
		memcpy(ip + 10, &csum, 2);
	} else {
		put_ip6(ip, h->ecn, ulen, IPPROTO_UDP_NUM, ttl);
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	}
	memcpy(udp, sport, 2);
	memcpy(udp + 2, dport, 2);
	put16(udp + 4, (uint16_t)ulen);
	put16(udp + 6, 0);
	sum = pseudo_sum(src, dst, alen, IPPROTO_UDP_NUM, ulen);
	sum = mpq_frame_hdr_csum_add(sum, udp, MPQ_UDP_HLEN);
	csum = mpq_frame_hdr_csum_fold(mpq_frame_hdr_csum_add(sum, payload, payload_len));
	if (csum == 0)
		csum = 0xffff; /* 0 means "no checksum" (RFC 768) */
	memcpy(udp + 6, &csum, 2);
	return (int)(hlen + payload_len);
}

/* The Ethernet header and one optional VLAN tag: the EtherType and where the
 * network header starts (0 if the frame is too short). */
static size_t parse_eth(const uint8_t *f, size_t len, uint16_t *type, uint16_t *tci, bool *tagged)
{
	*tagged = false;
	*tci = 0;
	if (len < MPQ_ETH_HLEN)
		return 0;
	*type = get16(f + 12);
	if (*type != ETH_P_8021Q && *type != ETH_P_8021AD)
		return MPQ_ETH_HLEN;
	if (len < MPQ_ETH_HLEN + 4)
		return 0;
	*tagged = true;
	*tci = get16(f + 14);
	*type = get16(f + 16);
	return MPQ_ETH_HLEN + 4;
}

uint16_t mpq_frame_hdr_ethertype(const uint8_t *frame, size_t len)
{
	uint16_t type, tci;
	bool tagged;

	return parse_eth(frame, len, &type, &tci, &tagged) ? type : 0;
}

void mpq_frame_hdr_addr(mpq_addr *a, int fam, const uint8_t *ip, const uint8_t *port)
{
	static const uint8_t zero[2];

	if (!port)
		port = zero;
	memset(a, 0, sizeof(*a));
	if (fam == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip, 4);
		memcpy(&sin->sin_port, port, 2);
		a->len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip, 16);
		memcpy(&sin6->sin6_port, port, 2);
		a->len = sizeof(*sin6);
	}
}

/* An IPv4 header at |off|: where the payload starts and ends, 0 if it is not
 * one whole unfragmented datagram of |proto|. */
static size_t parse_ip4(const uint8_t *f, size_t len, size_t off, uint8_t proto, size_t *end)
{
	const uint8_t *ip = f + off;
	size_t ihl, tot;

	if (len < off + MPQ_IP4_HLEN || ip[0] >> 4 != 4)
		return 0;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	tot = get16(ip + 2);
	if (ihl < MPQ_IP4_HLEN || tot < ihl || len < off + tot)
		return 0;
	if ((get16(ip + 6) & IP4_FRAG_MASK) || ip[9] != proto)
		return 0;
	if (mpq_frame_hdr_csum_fold(mpq_frame_hdr_csum_add(0, ip, ihl)) != 0)
		return 0;
	*end = off + tot;
	return off + ihl;
}

/* An IPv6 header at |off| and its hop-by-hop, routing and destination
 * options headers: where the |proto| payload starts and ends, 0 otherwise. */
static size_t parse_ip6(const uint8_t *f, size_t len, size_t off, uint8_t proto, size_t *end)
{
	const uint8_t *ip = f + off;
	size_t p = off + MPQ_IP6_HLEN;
	uint8_t next;

	if (len < off + MPQ_IP6_HLEN || ip[0] >> 4 != 6)
		return 0;
	*end = p + get16(ip + 4);
	if (*end > len)
		return 0;
	next = ip[6];
	for (int i = 0; i < IP6_MAX_EXT && (next == 0 || next == 43 || next == 60); i++) {
		if (p + 8 > *end)
			return 0;
		next = f[p];
		p += ((size_t)f[p + 1] + 1) * 8;
	}
	if (next != proto || p > *end)
		return 0;
	return p;
}

int mpq_frame_hdr_parse_udp(const uint8_t *frame, size_t len, mpq_frame_udp *out)
{
	size_t l3, l4, end, ulen;
	uint16_t type, tci;
	bool tagged;
	int fam;

	l3 = parse_eth(frame, len, &type, &tci, &tagged);
	if (!l3)
		return MPQ_ERR_INVALID_PACKET;
	if (type == MPQ_ETH_P_IP) {
		fam = AF_INET;
		l4 = parse_ip4(frame, len, l3, IPPROTO_UDP_NUM, &end);
	} else if (type == MPQ_ETH_P_IPV6) {
		fam = AF_INET6;
		l4 = parse_ip6(frame, len, l3, IPPROTO_UDP_NUM, &end);
	} else {
		return MPQ_ERR_INVALID_PACKET;
	}
	if (!l4 || l4 + MPQ_UDP_HLEN > end)
		return MPQ_ERR_INVALID_PACKET;
	ulen = get16(frame + l4 + 4);
	if (ulen < MPQ_UDP_HLEN || l4 + ulen > end || l4 + MPQ_UDP_HLEN > UINT16_MAX)
		return MPQ_ERR_INVALID_PACKET;

	memcpy(out->dst_mac, frame, MPQ_ETH_ALEN);
	memcpy(out->src_mac, frame + MPQ_ETH_ALEN, MPQ_ETH_ALEN);
	if (fam == AF_INET) {
		out->ecn = frame[l3 + 1] & 3;
		out->ttl = frame[l3 + 8];
		mpq_frame_hdr_addr(&out->src, fam, frame + l3 + 12, frame + l4);
		mpq_frame_hdr_addr(&out->dst, fam, frame + l3 + 16, frame + l4 + 2);
	} else {
		out->ecn = (frame[l3 + 1] >> 4) & 3;
		out->ttl = frame[l3 + 7];
		mpq_frame_hdr_addr(&out->src, fam, frame + l3 + 8, frame + l4);
		mpq_frame_hdr_addr(&out->dst, fam, frame + l3 + 24, frame + l4 + 2);
	}
	out->vlan_tagged = tagged;
	out->vlan_id = tci & 0x0fff;
	out->l3_off = (uint16_t)l3;
	out->l4_off = (uint16_t)l4;
	out->payload_off = (uint16_t)(l4 + MPQ_UDP_HLEN);
	out->payload_len = (uint16_t)(ulen - MPQ_UDP_HLEN);
	return 0;
}

bool mpq_frame_hdr_udp_csum_ok(const uint8_t *frame, const mpq_frame_udp *h)
{
	const uint8_t *ip = frame + h->l3_off;
	const uint8_t *udp = frame + h->l4_off;
	size_t ulen = MPQ_UDP_HLEN + (size_t)h->payload_len;
	uint64_t sum;

	if (get16(udp + 6) == 0)
		return h->src.ss.ss_family == AF_INET;
	if (h->src.ss.ss_family == AF_INET)
		sum = pseudo_sum(ip + 12, ip + 16, 4, IPPROTO_UDP_NUM, ulen);
	else
		sum = pseudo_sum(ip + 8, ip + 24, 16, IPPROTO_UDP_NUM, ulen);
	return mpq_frame_hdr_csum_fold(mpq_frame_hdr_csum_add(sum, udp, ulen)) == 0;
}

int mpq_frame_hdr_parse_arp(const uint8_t *frame, size_t len, mpq_frame_arp *out)
{
	uint16_t type, tci;
	bool tagged;
	size_t off = parse_eth(frame, len, &type, &tci, &tagged);
	const uint8_t *a = frame + off;

	if (!off || type != MPQ_ETH_P_ARP || len < off + ARP_LEN)
		return MPQ_ERR_INVALID_PACKET;
	/* Ethernet hardware (1), IPv4 protocol, 6- and 4-byte addresses. */
	if (get16(a) != 1 || get16(a + 2) != MPQ_ETH_P_IP || a[4] != MPQ_ETH_ALEN || a[5] != 4)
		return MPQ_ERR_INVALID_PACKET;
	out->op = get16(a + 6);
	memcpy(out->sha, a + 8, MPQ_ETH_ALEN);
	memcpy(out->spa, a + 14, 4);
	memcpy(out->tha, a + 18, MPQ_ETH_ALEN);
	memcpy(out->tpa, a + 24, 4);
	return 0;
}

int mpq_frame_hdr_build_arp(uint8_t *frame, size_t cap, const uint8_t *eth_dst,
			    const uint8_t *eth_src, const mpq_frame_arp *a)
{
	uint8_t *p = frame + MPQ_ETH_HLEN;

	if (cap < MPQ_ETH_ZLEN)
		return MPQ_ERR_NOBUF;
	put_eth(frame, eth_dst, eth_src, MPQ_ETH_P_ARP);
	put16(p, 1);
	put16(p + 2, MPQ_ETH_P_IP);
	p[4] = MPQ_ETH_ALEN;
	p[5] = 4;
	put16(p + 6, a->op);
	memcpy(p + 8, a->sha, MPQ_ETH_ALEN);
	memcpy(p + 14, a->spa, 4);
	memcpy(p + 18, a->tha, MPQ_ETH_ALEN);
	memcpy(p + 24, a->tpa, 4);
	memset(p + ARP_LEN, 0, MPQ_ETH_ZLEN - MPQ_ETH_HLEN - ARP_LEN);
	return MPQ_ETH_ZLEN;
}

/* The options of an NS or NA from |p| to |end|: the link-layer address
 * option of |want| type, if any. Returns false for a malformed option. */
static bool parse_nd_opts(const uint8_t *p, const uint8_t *end, uint8_t want, mpq_frame_nd *out)
{
	out->has_lladdr = false;
	while (p < end) {
		size_t olen;

		if (end - p < 2 || p[1] == 0)
			return false;
		olen = (size_t)p[1] * 8;
		if ((size_t)(end - p) < olen)
			return false;
		if (p[0] == want && olen >= 2 + MPQ_ETH_ALEN) {
			out->has_lladdr = true;
			memcpy(out->lladdr, p + 2, MPQ_ETH_ALEN);
		}
		p += olen;
	}
	return true;
}

int mpq_frame_hdr_parse_nd(const uint8_t *frame, size_t len, mpq_frame_nd *out)
{
	uint16_t type, tci;
	bool tagged;
	size_t l3 = parse_eth(frame, len, &type, &tci, &tagged);
	size_t l4, end, ilen;
	const uint8_t *ip, *icmp;
	uint64_t sum;

	if (!l3 || type != MPQ_ETH_P_IPV6)
		return MPQ_ERR_INVALID_PACKET;
	ip = frame + l3;
	/* No extension headers: an NS or NA follows the IPv6 header. */
	l4 = parse_ip6(frame, len, l3, IPPROTO_ICMPV6_NUM, &end);
	if (l4 != l3 + MPQ_IP6_HLEN || end - l4 < ND_HLEN || ip[7] != 255)
		return MPQ_ERR_INVALID_PACKET;
	icmp = frame + l4;
	ilen = end - l4;
	if ((icmp[0] != MPQ_ND_NS && icmp[0] != MPQ_ND_NA) || icmp[1] != 0 || icmp[8] == 0xff)
		return MPQ_ERR_INVALID_PACKET;
	sum = pseudo_sum(ip + 8, ip + 24, 16, IPPROTO_ICMPV6_NUM, ilen);
	if (mpq_frame_hdr_csum_fold(mpq_frame_hdr_csum_add(sum, icmp, ilen)) != 0)
		return MPQ_ERR_INVALID_PACKET;
	out->type = icmp[0];
	if (!parse_nd_opts(icmp + ND_HLEN, frame + end,
			   out->type == MPQ_ND_NS ? ND_OPT_SLLA : ND_OPT_TLLA, out))
		return MPQ_ERR_INVALID_PACKET;
	out->flags = out->type == MPQ_ND_NA ? icmp[4] & 0xe0 : 0;
	memcpy(out->eth_src, frame + MPQ_ETH_ALEN, MPQ_ETH_ALEN);
	memcpy(out->src, ip + 8, 16);
	memcpy(out->dst, ip + 24, 16);
	memcpy(out->target, icmp + 8, 16);
	return 0;
}

int mpq_frame_hdr_build_nd(uint8_t *frame, size_t cap, const uint8_t *eth_dst,
			   const uint8_t *eth_src, const mpq_frame_nd *nd)
{
	size_t ilen = ND_HLEN + (nd->has_lladdr ? 8 : 0);
	size_t flen = MPQ_ETH_HLEN + MPQ_IP6_HLEN + ilen;
	uint8_t *ip = frame + MPQ_ETH_HLEN;
	uint8_t *icmp = ip + MPQ_IP6_HLEN;
	uint16_t csum;
	uint64_t sum;

	if (nd->type != MPQ_ND_NS && nd->type != MPQ_ND_NA)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (cap < flen)
		return MPQ_ERR_NOBUF;
	put_eth(frame, eth_dst, eth_src, MPQ_ETH_P_IPV6);
	put_ip6(ip, 0, ilen, IPPROTO_ICMPV6_NUM, 255);
	memcpy(ip + 8, nd->src, 16);
	memcpy(ip + 24, nd->dst, 16);
	memset(icmp, 0, ND_HLEN);
	icmp[0] = nd->type;
	if (nd->type == MPQ_ND_NA)
		icmp[4] = nd->flags & 0xe0;
	memcpy(icmp + 8, nd->target, 16);
	if (nd->has_lladdr) {
		icmp[ND_HLEN] = nd->type == MPQ_ND_NS ? ND_OPT_SLLA : ND_OPT_TLLA;
		icmp[ND_HLEN + 1] = 1;
		memcpy(icmp + ND_HLEN + 2, nd->lladdr, MPQ_ETH_ALEN);
	}
	sum = pseudo_sum(nd->src, nd->dst, 16, IPPROTO_ICMPV6_NUM, ilen);
	csum = mpq_frame_hdr_csum_fold(mpq_frame_hdr_csum_add(sum, icmp, ilen));
	memcpy(icmp + 2, &csum, 2);
	return (int)flen;
}

/* Where a TCP or UDP segment starts and its length, for the checksum fix:
 * 0 for a frame that is neither over IPv4 (not a fragment) nor over IPv6
 * with no extension header. */
static size_t l4_of(const uint8_t *f, size_t len, uint8_t *proto, size_t *l4len)
{
	uint16_t type = mpq_frame_hdr_ethertype(f, len);
	const uint8_t *ip = f + MPQ_ETH_HLEN;

	if (type == MPQ_ETH_P_IP && len >= MPQ_ETH_HLEN + MPQ_IP4_HLEN) {
		size_t ihl = (size_t)(ip[0] & 0xf) * 4, total = (size_t)ip[2] << 8 | ip[3];

		if ((ip[0] >> 4) != 4 || ihl < MPQ_IP4_HLEN || total < ihl ||
		    MPQ_ETH_HLEN + total > len || ((ip[6] & 0x3f) | ip[7]))
			return 0;
		*proto = ip[9];
		*l4len = total - ihl;
		return MPQ_ETH_HLEN + ihl;
	}
	if (type == MPQ_ETH_P_IPV6 && len >= MPQ_ETH_HLEN + MPQ_IP6_HLEN) {
		size_t plen = (size_t)ip[4] << 8 | ip[5];

		if ((ip[0] >> 4) != 6 || MPQ_ETH_HLEN + MPQ_IP6_HLEN + plen > len)
			return 0;
		*proto = ip[6];
		*l4len = plen;
		return MPQ_ETH_HLEN + MPQ_IP6_HLEN;
	}
	return 0;
}

bool mpq_frame_hdr_l4_csum_fix(uint8_t *f, size_t len)
{
	bool v4 = mpq_frame_hdr_ethertype(f, len) == MPQ_ETH_P_IP;
	size_t l4len = 0, at, off;
	uint8_t proto = 0, *c;
	uint16_t csum;
	uint64_t sum;

	at = l4_of(f, len, &proto, &l4len);
	if (!at)
		return false;
	if (proto == IPPROTO_UDP && l4len >= 8)
		off = 6;
	else if (proto == IPPROTO_TCP && l4len >= 20)
		off = 16;
	else
		return false;
	c = f + at + off;
	if (proto == IPPROTO_UDP && v4 && !c[0] && !c[1])
		return false; /* no checksum */
	c[0] = c[1] = 0;
	sum = v4 ? pseudo_sum(f + MPQ_ETH_HLEN + 12, f + MPQ_ETH_HLEN + 16, 4, proto, l4len)
		 : pseudo_sum(f + MPQ_ETH_HLEN + 8, f + MPQ_ETH_HLEN + 24, 16, proto, l4len);
	csum = mpq_frame_hdr_csum_fold(mpq_frame_hdr_csum_add(sum, f + at, l4len));
	if (proto == IPPROTO_UDP && !csum)
		csum = 0xffff; /* 0 means none */
	memcpy(c, &csum, sizeof(csum));
	return true;
}
