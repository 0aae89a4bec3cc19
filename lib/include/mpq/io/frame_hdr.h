/*
 * Ethernet frames as the AF_XDP backend sends and receives them: Ethernet
 * (with an optional 802.1Q/802.1ad tag on receive), IPv4 with its header
 * checksum, IPv6, UDP with the checksum over the pseudo-header of either
 * family, and the two neighbour protocols the backend answers while libxdp's
 * default program hands it every frame of its queue: ARP (RFC 826) and IPv6
 * neighbour discovery (RFC 4861 NS/NA).
 *
 * Builders write into a caller's buffer (a UMEM frame) and allocate nothing;
 * parsers are bounded and return MPQ_ERR_INVALID_PACKET for anything they do
 * not accept, never crash on what came off the wire (DESIGN.md rule 2).
 */
#ifndef MPQ_IO_FRAME_HDR_H
#define MPQ_IO_FRAME_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/conn.h"

#define MPQ_ETH_ALEN 6
#define MPQ_ETH_HLEN 14
#define MPQ_ETH_ZLEN 60 /* shortest frame without FCS; shorter ones are padded */
#define MPQ_IP4_HLEN 20
#define MPQ_IP6_HLEN 40
#define MPQ_UDP_HLEN 8
/* Headers in front of a UDP payload we send: Ethernet + IPv4/IPv6 + UDP. */
#define MPQ_FRAME_HDR_UDP4 (MPQ_ETH_HLEN + MPQ_IP4_HLEN + MPQ_UDP_HLEN)
#define MPQ_FRAME_HDR_UDP6 (MPQ_ETH_HLEN + MPQ_IP6_HLEN + MPQ_UDP_HLEN)

#define MPQ_ETH_P_IP 0x0800
#define MPQ_ETH_P_ARP 0x0806
#define MPQ_ETH_P_IPV6 0x86dd

/* The headers of one UDP datagram in an Ethernet frame. */
typedef struct mpq_frame_udp {
	uint8_t dst_mac[MPQ_ETH_ALEN];
	uint8_t src_mac[MPQ_ETH_ALEN];
	mpq_addr src; /* IP address and UDP port */
	mpq_addr dst;
	uint8_t ecn; /* the low two bits of the TOS / traffic class */
	uint8_t ttl; /* IPv4 TTL / IPv6 hop limit; build: 0 means 64 */
	/* Parse only. */
	bool vlan_tagged;
	uint16_t vlan_id;
	uint16_t l3_off; /* where the IP header starts */
	uint16_t l4_off; /* where the UDP header starts */
	uint16_t payload_off;
	uint16_t payload_len;
} mpq_frame_udp;

/* ARP for IPv4 over Ethernet. */
#define MPQ_ARP_REQUEST 1
#define MPQ_ARP_REPLY 2

typedef struct mpq_frame_arp {
	uint16_t op; /* MPQ_ARP_REQUEST or MPQ_ARP_REPLY */
	uint8_t sha[MPQ_ETH_ALEN];
	uint8_t spa[4];
	uint8_t tha[MPQ_ETH_ALEN];
	uint8_t tpa[4];
} mpq_frame_arp;

/* IPv6 neighbour solicitation and advertisement. */
#define MPQ_ND_NS 135
#define MPQ_ND_NA 136
#define MPQ_ND_NA_ROUTER 0x80u
#define MPQ_ND_NA_SOLICITED 0x40u
#define MPQ_ND_NA_OVERRIDE 0x20u

typedef struct mpq_frame_nd {
	uint8_t type;		       /* MPQ_ND_NS or MPQ_ND_NA */
	uint8_t flags;		       /* NA: MPQ_ND_NA_* */
	uint8_t eth_src[MPQ_ETH_ALEN]; /* parse only */
	uint8_t src[16];	       /* IPv6 source and destination */
	uint8_t dst[16];
	uint8_t target[16];
	/* The source (NS) or target (NA) link-layer address option. */
	bool has_lladdr;
	uint8_t lladdr[MPQ_ETH_ALEN];
} mpq_frame_nd;

/* RFC 1071 Internet checksum, in two steps: mpq_frame_hdr_csum_add() sums
 * |len| bytes onto |sum| (every piece but the last must have an even length),
 * mpq_frame_hdr_csum_fold() folds and complements. The result is to be stored
 * with memcpy: it is already in network byte order. */
MPQ_EXPORT uint64_t mpq_frame_hdr_csum_add(uint64_t sum, const void *data, size_t len);
MPQ_EXPORT uint16_t mpq_frame_hdr_csum_fold(uint64_t sum);

/* The bytes of headers in front of a UDP payload for |family| (AF_INET:
 * MPQ_FRAME_HDR_UDP4, AF_INET6: MPQ_FRAME_HDR_UDP6), 0 for another family. */
MPQ_EXPORT size_t mpq_frame_hdr_udp_len(int family);

/* Writes the Ethernet, IP and UDP headers of |h| in front of the |payload_len|
 * bytes already at frame + mpq_frame_hdr_udp_len(family), with the IPv4
 * header checksum and the UDP checksum. IPv4 goes out with DF set and
 * identification 0 (an atomic datagram, RFC 6864), IPv6 with flow label 0.
 * Returns the frame length; MPQ_ERR_INVALID_ARGUMENT (src and dst not both
 * IPv4 or both IPv6, or the datagram longer than its length fields hold);
 * MPQ_ERR_NOBUF (|cap| too small). */
MPQ_EXPORT int mpq_frame_hdr_build_udp(uint8_t *frame, size_t cap, const mpq_frame_udp *h,
				       size_t payload_len);

/* The headers alone, as mpq_frame_hdr_build_udp writes them, into the
 * mpq_frame_hdr_udp_len(family) bytes at |hdr|, the UDP checksum summed over
 * |payload| wherever it is (a frame sent over several buffers). Returns the
 * frame length or MPQ_ERR_INVALID_ARGUMENT, as mpq_frame_hdr_build_udp. */
MPQ_EXPORT int mpq_frame_hdr_build_udp_hdr(uint8_t *hdr, const mpq_frame_udp *h,
					   const uint8_t *payload, size_t payload_len);

/* Parses an Ethernet frame holding one whole UDP datagram over IPv4 or IPv6
 * (one optional VLAN tag; IPv4 options and IPv6 hop-by-hop, routing and
 * destination options headers skipped). Checks every length, the IPv4 header
 * checksum and that the datagram is not a fragment; the UDP checksum is left
 * to mpq_frame_hdr_udp_csum_ok(). Bytes past the IP length (Ethernet padding)
 * are ignored. Returns 0 or MPQ_ERR_INVALID_PACKET. */
MPQ_EXPORT int mpq_frame_hdr_parse_udp(const uint8_t *frame, size_t len, mpq_frame_udp *out);

/* Whether the UDP checksum of a frame mpq_frame_hdr_parse_udp() accepted into
 * |h| verifies (an IPv4 checksum of 0 means none and verifies; IPv6 requires
 * one). */
MPQ_EXPORT bool mpq_frame_hdr_udp_csum_ok(const uint8_t *frame, const mpq_frame_udp *h);

/* |out| from the 4 (AF_INET) or 16 (AF_INET6) address bytes at |ip| and
 * the 2 port bytes (network order) at |port|, or port 0 when NULL. */
MPQ_EXPORT void mpq_frame_hdr_addr(mpq_addr *out, int family, const uint8_t *ip,
				   const uint8_t *port);

/* The EtherType of a frame (after one VLAN tag, if any), 0 if too short. */
MPQ_EXPORT uint16_t mpq_frame_hdr_ethertype(const uint8_t *frame, size_t len);

/* An ARP packet for IPv4 over Ethernet. Returns 0 or MPQ_ERR_INVALID_PACKET. */
MPQ_EXPORT int mpq_frame_hdr_parse_arp(const uint8_t *frame, size_t len, mpq_frame_arp *out);

/* Writes |a| in a frame from |eth_src| to |eth_dst|, padded to MPQ_ETH_ZLEN.
 * Returns the frame length or MPQ_ERR_NOBUF. */
MPQ_EXPORT int mpq_frame_hdr_build_arp(uint8_t *frame, size_t cap, const uint8_t *eth_dst,
				       const uint8_t *eth_src, const mpq_frame_arp *a);

/* A neighbour solicitation or advertisement, validated as RFC 4861 §7.1 asks:
 * hop limit 255, ICMPv6 code 0, checksum, length, well-formed options, a
 * target that is not multicast. Returns 0 or MPQ_ERR_INVALID_PACKET. */
MPQ_EXPORT int mpq_frame_hdr_parse_nd(const uint8_t *frame, size_t len, mpq_frame_nd *out);

/* Writes the NS or NA |nd| (with its link-layer address option when
 * has_lladdr) in a frame from |eth_src| to |eth_dst|, hop limit 255 and the
 * ICMPv6 checksum. Returns the frame length, MPQ_ERR_INVALID_ARGUMENT (another
 * type) or MPQ_ERR_NOBUF. */
MPQ_EXPORT int mpq_frame_hdr_build_nd(uint8_t *frame, size_t cap, const uint8_t *eth_dst,
				      const uint8_t *eth_src, const mpq_frame_nd *nd);

/* Completes the TCP or UDP checksum of an Ethernet frame over IPv4 (not a
 * fragment) or IPv6 (no extension header): the sum over the pseudo-header
 * and the segment, whatever the field held (a local sender that left it to
 * offload over veth put only the pseudo-header sum there; a forwarder of
 * whole frames, xsk.h raw mode, passes it on complete). An IPv4 UDP checksum
 * of 0 (none) stays. Returns whether it wrote one. */
MPQ_EXPORT bool mpq_frame_hdr_l4_csum_fix(uint8_t *frame, size_t len);

#endif
