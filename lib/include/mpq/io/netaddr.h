/*
 * Socket addresses as text and the interfaces they live on: what tools read
 * from the command line ("1.2.3.4:6121", "[::1]:6121", "[fe80::1%eth0]:443")
 * and print, interface name → index, and the addresses of an interface.
 */
#ifndef MPQ_IO_NETADDR_H
#define MPQ_IO_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/conn.h"

/* Enough for "[v6%ifname]:65535" and a NUL. */
#define MPQ_ADDR_STRLEN 80

/* Parses "A.B.C.D:PORT" or "[V6]:PORT" (with an optional "%SCOPE" inside the
 * brackets, an interface name or index) into |out|. Returns 0,
 * MPQ_ERR_INVALID_ARGUMENT for anything else (no port, port above 65535,
 * missing brackets, trailing bytes) or MPQ_ERR_NOT_FOUND for a scope naming
 * no interface. |out| is untouched on failure. */
MPQ_EXPORT int mpq_addr_parse(mpq_addr *out, const char *text);

/* Parses an address without a port ("A.B.C.D", "V6", "[V6]", each V6 with an
 * optional "%SCOPE") and gives it |port|. Same returns as mpq_addr_parse. */
MPQ_EXPORT int mpq_addr_parse_ip(mpq_addr *out, const char *text, uint16_t port);

/* Writes |a| as "A.B.C.D:PORT" or "[V6]:PORT" ("[V6%SCOPE]:PORT" with a scope
 * ID, the interface name when it has one, else the number), NUL-terminated.
 * Returns the length without the NUL, MPQ_ERR_INVALID_ARGUMENT (not IPv4 or
 * IPv6) or MPQ_ERR_NOBUF (|len| too small; MPQ_ADDR_STRLEN is always enough). */
MPQ_EXPORT int mpq_addr_format(const mpq_addr *a, char *buf, size_t len);

/* The same without the port and brackets: "A.B.C.D", "V6", "V6%SCOPE". */
MPQ_EXPORT int mpq_addr_format_ip(const mpq_addr *a, char *buf, size_t len);

/* Fills |out| from a sockaddr_in or sockaddr_in6. Returns 0 or
 * MPQ_ERR_INVALID_ARGUMENT (another family, or |len| too short for it). */
MPQ_EXPORT int mpq_addr_set(mpq_addr *out, const struct sockaddr *sa, socklen_t len);

/* The wildcard address of |family| (AF_INET or AF_INET6) with |port|.
 * Returns 0 or MPQ_ERR_INVALID_ARGUMENT. */
MPQ_EXPORT int mpq_addr_any(mpq_addr *out, int family, uint16_t port);

/* The port in host order; 0 for neither IPv4 nor IPv6. */
MPQ_EXPORT uint16_t mpq_addr_port(const mpq_addr *a);
/* Sets the port of an IPv4 or IPv6 address (others are left alone). */
MPQ_EXPORT void mpq_addr_set_port(mpq_addr *a, uint16_t port);
/* Same family, address, port and (IPv6) scope ID. */
MPQ_EXPORT bool mpq_addr_equal(const mpq_addr *a, const mpq_addr *b);
/* Same family, address and (IPv6) scope ID; ports may differ. */
MPQ_EXPORT bool mpq_addr_equal_ip(const mpq_addr *a, const mpq_addr *b);
/* 0.0.0.0 or :: */
MPQ_EXPORT bool mpq_addr_is_any(const mpq_addr *a);

/* The index of interface |name|. Returns 0, MPQ_ERR_INVALID_ARGUMENT (empty or
 * longer than IFNAMSIZ-1) or MPQ_ERR_NOT_FOUND (no such interface). */
MPQ_EXPORT int mpq_if_index(const char *name, uint32_t *index);

/* The IPv4 and IPv6 addresses of interface |name| (port 0; IPv6 link-local
 * ones carry the interface as scope ID), the first |max| of them in |out|.
 * Returns how many the interface has (which may be more than |max|, or 0),
 * MPQ_ERR_INVALID_ARGUMENT, MPQ_ERR_NOT_FOUND (no such interface) or
 * MPQ_ERR_NOMEM. */
MPQ_EXPORT int mpq_if_addrs(const char *name, mpq_addr *out, size_t max);

/* The largest UDP payload a socket bound to |local| sends without
 * fragmenting: the MTU, less the IP and UDP headers of |local|'s family, of
 * interface |ifindex| (0: the interface with |local|'s address; for the
 * wildcard the largest of the interfaces that are up). 0 when unknown. */
MPQ_EXPORT uint32_t mpq_if_max_udp_payload(const mpq_addr *local, uint32_t ifindex);

#endif
