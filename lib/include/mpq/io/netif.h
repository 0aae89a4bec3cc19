/*
 * Interfaces, routes and neighbours over rtnetlink: what the AF_XDP backend
 * needs to put a datagram on the wire itself (DESIGN.md "Path I/O"): an
 * interface's index, MTU and MAC address; the route to a destination through
 * a given interface, hence the next hop (the gateway, or the destination when
 * it is on-link) and the source address the kernel would use; the next hop's
 * MAC address from the kernel's neighbour table.
 *
 * Neighbour resolution stays the kernel's. When the table has no usable entry
 * the resolution is started with RTM_NEWNEIGH and NTF_USE (what
 * `ip neigh replace ADDR dev IF use` sends): the kernel creates the entry if
 * needed and runs its own state machine, ARP or ND alike, with its own
 * probes, retransmissions and limits, and nothing but the ARP request or
 * neighbour solicitation reaches the wire. This was preferred to sending a
 * datagram for the kernel to queue behind the resolution: it needs no port
 * and sends the next hop no stray datagram, it does not depend on the
 * routing choosing our interface (the entry is created on the device we
 * name), and the neighbour does not have to be the datagram's destination
 * (a gateway). It takes CAP_NET_ADMIN, which the XDP backend needs anyway.
 *
 * A datagram starts the resolution instead, or in addition, in two cases:
 * when the kernel refuses NTF_USE (EPERM), and when the entry is still not
 * usable after min(100 ms, a quarter of the time given): the kernel sends no
 * IPv6 solicitation for NTF_USE while the interface has no usable link-local
 * address (tentative during DAD, or none at all), because the solicitation
 * needs a source and only a queued datagram offers one (the incomplete entry
 * is deleted first, so that the datagram's new entry solicits at once rather
 * than at the next retransmission). The datagram is zero-length, to the next
 * hop's discard port (9), out of the interface by IP_PKTINFO / IPV6_PKTINFO
 * (no privilege needed); the kernel queues it behind the resolution it
 * starts. Either way the table is then asked again until the entry is
 * usable, failed, or the time given ran out.
 *
 * An mpq_netif is one NETLINK_ROUTE socket, in the network namespace of the
 * thread that opened it, used for request and reply only (blocking, with a
 * receive timeout). It is not thread-safe; the errno and request behind the
 * last failure stay in its err.
 */
#ifndef MPQ_IO_NETIF_H
#define MPQ_IO_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/conn.h"
#include "mpq/io/oserr.h"

#define MPQ_NETIF_BUFSIZE 16384 /* one netlink reply */
#define MPQ_NETIF_NAMESIZE 16	/* IF_NAMESIZE */

typedef struct mpq_netif {
	int fd; /* -1 when closed */
	uint32_t seq;
	uint64_t pokes; /* resolutions started or helped with a datagram */
	mpq_oserr err;
	uint8_t buf[MPQ_NETIF_BUFSIZE];
} mpq_netif;

typedef struct mpq_link {
	uint32_t ifindex;
	char name[MPQ_NETIF_NAMESIZE];
	uint32_t mtu;
	uint8_t mac[6];
	bool ether;    /* an Ethernet device with a 6-byte address in mac */
	bool up;       /* administratively up (IFF_UP) */
	bool lower_up; /* carrier (IFF_LOWER_UP) */
} mpq_link;

typedef struct mpq_route {
	uint32_t ifindex; /* the output interface */
	mpq_addr nexthop; /* the gateway, or the destination when on-link (port 0) */
	mpq_addr prefsrc; /* the source the kernel would choose; family 0 if none */
	bool gateway;	  /* nexthop is a gateway */
} mpq_route;

typedef struct mpq_neigh {
	uint16_t state; /* NUD_* */
	bool has_mac;
	uint8_t mac[6];
} mpq_neigh;

/* Whether |n| has a MAC address in a state that allows its use (reachable,
 * stale, delay, probe, noarp, permanent: the kernel's NUD_VALID). */
MPQ_EXPORT bool mpq_netif_neigh_usable(const mpq_neigh *n);

/* Called while a resolution waits, e.g. to serve the receive ring that the
 * ARP reply or neighbour advertisement may arrive on. */
typedef void (*mpq_netif_pump_fn)(void *ctx);

/* Opens the netlink socket. Returns 0 or, with |err| (may be NULL) and
 * nl->err set, MPQ_ERR_NOMEM / MPQ_ERR_INTERNAL. */
MPQ_EXPORT int mpq_netif_open(mpq_netif *nl, mpq_oserr *err);

/* Closes it; a closed or zeroed-then-closed mpq_netif is a no-op. */
MPQ_EXPORT void mpq_netif_close(mpq_netif *nl);

/* Interface |ifindex|, or when 0 the one called |name|. Returns 0,
 * MPQ_ERR_INVALID_ARGUMENT (neither given, or a name of MPQ_NETIF_NAMESIZE or more bytes)
 * or MPQ_ERR_NOT_FOUND (no such interface). */
MPQ_EXPORT int mpq_netif_link(mpq_netif *nl, uint32_t ifindex, const char *name, mpq_link *out);

/* The kernel's route to |dst| (IPv4 or IPv6; an IPv6 scope ID names the
 * interface for a link-local address), out of interface |oif| when not 0.
 * Returns 0; MPQ_ERR_INVALID_ARGUMENT (another family); MPQ_ERR_NOT_FOUND
 * (no route, or one that does not lead out of a device: local, blackhole,
 * unreachable, prohibit), with the errno in nl->err. */
MPQ_EXPORT int mpq_netif_route(mpq_netif *nl, const mpq_addr *dst, uint32_t oif, mpq_route *out);

/* The neighbour table's entry for |ip| on |ifindex|. Returns 0 (see
 * out->state: it may be incomplete or failed), MPQ_ERR_NOT_FOUND (no entry)
 * or MPQ_ERR_INVALID_ARGUMENT. */
MPQ_EXPORT int mpq_netif_neigh_get(mpq_netif *nl, uint32_t ifindex, const mpq_addr *ip,
				   mpq_neigh *out);

/* Starts the kernel's resolution of |ip| on |ifindex| with NTF_USE, or the
 * datagram when that is refused (see above). Returns 0,
 * MPQ_ERR_INVALID_ARGUMENT or MPQ_ERR_NOT_FOUND (no such interface, or the
 * kernel refused both ways), with the errno in nl->err. */
MPQ_EXPORT int mpq_netif_neigh_probe(mpq_netif *nl, uint32_t ifindex, const mpq_addr *ip);

/* Records |mac| for |ip| on |ifindex| as reachable, replacing what the table
 * had, as the kernel does when an ARP reply or neighbour advertisement
 * answers its request. Returns 0 or a negative MPQ_ERR_* (EPERM without
 * CAP_NET_ADMIN: MPQ_ERR_INTERNAL). */
MPQ_EXPORT int mpq_netif_neigh_set(mpq_netif *nl, uint32_t ifindex, const mpq_addr *ip,
				   const uint8_t *mac);

/* The MAC address of |ip| on |ifindex|: from the table when usable, else
 * after starting the resolution and asking again (calling |pump| with |ctx|
 * in between when not NULL) for up to |timeout_ms|. Returns 0;
 * MPQ_ERR_NOT_FOUND when the resolution failed (nl->err: EHOSTUNREACH) or
 * timed out (ETIMEDOUT); or the error of a request. */
MPQ_EXPORT int mpq_netif_resolve(mpq_netif *nl, uint32_t ifindex, const mpq_addr *ip,
				 unsigned int timeout_ms, mpq_netif_pump_fn pump, void *ctx,
				 uint8_t *mac);

#endif
