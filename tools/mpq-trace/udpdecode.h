/*
 * From a captured frame to the UDP datagram in it: link layer (Ethernet with
 * a VLAN tag, Linux cooked v1 and v2, raw IP, BSD loopback), IPv4 or IPv6
 * (extension headers skipped), UDP. Only whole datagrams: a frame cut by the
 * snap length, a fragment or a bad IPv4 header checksum is other traffic.
 */
#ifndef MPQ_TRACE_UDPDECODE_H
#define MPQ_TRACE_UDPDECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mpq/conn.h"

struct cap_udp {
	mpq_addr src, dst;
	const uint8_t *payload;
	size_t len;
};

enum cap_udp_result {
	CAP_UDP_OK = 0,
	CAP_UDP_OTHER = 1,	/* not a whole UDP datagram, or a link type we lack */
	CAP_UDP_MALFORMED = -1, /* a link header that does not fit the frame */
};

int cap_udp_decode(uint32_t linktype, const uint8_t *frame, size_t len, struct cap_udp *out);

#endif
