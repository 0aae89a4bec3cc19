/*
 * The link layer of captured frames; the IP and UDP headers are read by
 * lib/io's frame parser (the one the AF_XDP backend uses), so frames of other
 * link types are given it behind a stand-in Ethernet header.
 */
#include <string.h>

#include "capfile.h"
#include "mpq/io/frame_hdr.h"
#include "udpdecode.h"

#define SLL_HDRLEN 16
#define SLL2_HDRLEN 20
/* Address families a DLT_NULL header may hold for IPv6 (BSDs differ). */
#define NULL_AF_INET6_BSD 24
#define NULL_AF_INET6_FREEBSD 28
#define NULL_AF_INET6_DARWIN 30

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* An Ethernet frame starting at |eth|: |payload| points into the capture. */
static int from_ethernet(const uint8_t *eth, size_t len, const uint8_t *orig, size_t orig_off,
			 struct cap_udp *out)
{
	mpq_frame_udp fu;

	if (mpq_frame_hdr_parse_udp(eth, len, &fu))
		return CAP_UDP_OTHER;
	out->src = fu.src;
	out->dst = fu.dst;
	out->payload = orig + fu.payload_off - orig_off;
	out->len = fu.payload_len;
	return CAP_UDP_OK;
}

/* An IP packet behind a link header of another kind, with its EtherType. */
static int from_ip(uint16_t ethertype, const uint8_t *ip, size_t len, struct cap_udp *out)
{
	static uint8_t frame[MPQ_ETH_HLEN + 65536];

	if (ethertype != MPQ_ETH_P_IP && ethertype != MPQ_ETH_P_IPV6)
		return CAP_UDP_OTHER;
	if (len > sizeof(frame) - MPQ_ETH_HLEN)
		len = sizeof(frame) - MPQ_ETH_HLEN;
	memset(frame, 0, 12);
	frame[12] = (uint8_t)(ethertype >> 8);
	frame[13] = (uint8_t)ethertype;
	memcpy(frame + MPQ_ETH_HLEN, ip, len);
	return from_ethernet(frame, MPQ_ETH_HLEN + len, ip, MPQ_ETH_HLEN, out);
}

static int raw_ip(const uint8_t *p, size_t len, struct cap_udp *out)
{
	if (len < 1)
		return CAP_UDP_MALFORMED;
	return from_ip(p[0] >> 4 == 6 ? MPQ_ETH_P_IPV6 : MPQ_ETH_P_IP, p, len, out);
}

int cap_udp_decode(uint32_t linktype, const uint8_t *p, size_t len, struct cap_udp *out)
{
	uint32_t af;

	memset(out, 0, sizeof(*out));
	switch (linktype) {
	case MPQ_LINKTYPE_ETHERNET:
		return from_ethernet(p, len, p, 0, out);
	case MPQ_LINKTYPE_RAW:
		return raw_ip(p, len, out);
	case CAP_LINK_IPV4:
		return from_ip(MPQ_ETH_P_IP, p, len, out);
	case CAP_LINK_IPV6:
		return from_ip(MPQ_ETH_P_IPV6, p, len, out);
	case CAP_LINK_LINUX_SLL:
		if (len < SLL_HDRLEN)
			return CAP_UDP_MALFORMED;
		return from_ip(be16(p + 14), p + SLL_HDRLEN, len - SLL_HDRLEN, out);
	case CAP_LINK_LINUX_SLL2:
		if (len < SLL2_HDRLEN)
			return CAP_UDP_MALFORMED;
		return from_ip(be16(p), p + SLL2_HDRLEN, len - SLL2_HDRLEN, out);
	case CAP_LINK_NULL:
		if (len < 4)
			return CAP_UDP_MALFORMED;
		/* The writer's host order: IPv4 is 2 either way round. */
		af = p[0] | p[3];
		if (af == 2)
			return from_ip(MPQ_ETH_P_IP, p + 4, len - 4, out);
		if (af == NULL_AF_INET6_BSD || af == NULL_AF_INET6_FREEBSD ||
		    af == NULL_AF_INET6_DARWIN)
			return from_ip(MPQ_ETH_P_IPV6, p + 4, len - 4, out);
		return CAP_UDP_OTHER;
	}
	return CAP_UDP_OTHER;
}
