/*
 * Choosing local addresses for paths (CLI.md "-n"): the address of the right
 * family on an interface, the source address the kernel's routes pick for a
 * destination, and the kinds of address not worth a path (loopback,
 * link-local, wildcard) when another host announces them.
 */
#ifndef MPQ_TOOL_LOCALADDR_H
#define MPQ_TOOL_LOCALADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "mpq/conn.h"

/* An address of |remote|'s family on interface |ifname| (port 0), for a path
 * to |remote|: a link-local IPv6 address only for a link-local |remote|, a
 * global one otherwise. Returns 0, MPQ_ERR_NOT_FOUND (no such interface),
 * MPQ_ERR_INVALID_ARGUMENT (no such address on it) or MPQ_ERR_NOMEM. */
int tool_iface_local(const char *ifname, const mpq_addr *remote, mpq_addr *out);

/* The source address the kernel's routes choose to reach |remote| (port 0).
 * Returns 0, or -1 when there is no route. Sends nothing. */
int tool_route_source(const mpq_addr *remote, mpq_addr *src);

/* Does interface |ifname| have address |a| (ports aside)? */
bool tool_iface_has(const char *ifname, const mpq_addr *a);

/* 127.0.0.0/8, ::1 or an IPv4-mapped loopback address. */
bool tool_addr_is_loopback(const mpq_addr *a);

/* fe80::/10: meaningless without the interface it belongs to. */
bool tool_addr_is_link_local(const mpq_addr *a);

/* The name of the interface that has address |a| (ports aside) into |name|.
 * Returns 0, or -1 when no interface has it. */
int tool_addr_iface(const mpq_addr *a, char *name, size_t len);

/* Is |ifname| a loopback interface (IFF_LOOPBACK)? false when unknown. */
bool tool_iface_is_loopback(const char *ifname);

#endif
