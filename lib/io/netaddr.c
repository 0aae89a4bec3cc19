/* Addresses as text, interfaces and their addresses: see netaddr.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "mpq/io/netaddr.h"

/* Decimal digits only, no sign, no leading/trailing space, at most |max|. */
static int parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return MPQ_ERR_INVALID_ARGUMENT;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return MPQ_ERR_INVALID_ARGUMENT;
	}
	*out = v;
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	uint64_t v;
	int rv = parse_uint(s, strlen(s), UINT16_MAX, &v);

	if (rv == 0)
		*port = (uint16_t)v;
	return rv;
}

/* An interface index or name after '%'. */
static int parse_scope(const char *s, uint32_t *scope)
{
	uint64_t v;

	if (*s >= '0' && *s <= '9') {
		int rv = parse_uint(s, strlen(s), UINT32_MAX, &v);

		if (rv == 0)
			*scope = (uint32_t)v;
		return rv;
	}
	return mpq_if_index(s, scope);
}

/* The |n| bytes at |host| (no brackets, no port) as an address of |family|
 * (AF_INET, AF_INET6 or AF_UNSPEC for either) with |port|. */
static int parse_host(mpq_addr *out, const char *host, size_t n, int family, uint16_t port)
{
	char buf[MPQ_ADDR_STRLEN];
	mpq_addr a;
	char *pct;

	if (n == 0 || n >= sizeof(buf))
		return MPQ_ERR_INVALID_ARGUMENT;
	memcpy(buf, host, n);
	buf[n] = '\0';
	memset(&a, 0, sizeof(a));
	pct = strchr(buf, '%');

	if (family != AF_INET6 && !pct) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a.ss;

		if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(port);
			a.len = sizeof(*sin);
			*out = a;
			return 0;
		}
	}
	if (family == AF_INET)
		return MPQ_ERR_INVALID_ARGUMENT;

	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.ss;

	if (pct)
		*pct = '\0';
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (pct) {
		int rv = parse_scope(pct + 1, &sin6->sin6_scope_id);

		if (rv < 0)
			return rv;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	a.len = sizeof(*sin6);
	*out = a;
	return 0;
}

int mpq_addr_parse(mpq_addr *out, const char *text)
{
	const char *colon;
	uint16_t port;
	int rv;

	if (!out || !text)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return MPQ_ERR_INVALID_ARGUMENT;
		rv = parse_port(close + 2, &port);
		if (rv < 0)
			return rv;
		return parse_host(out, text + 1, (size_t)(close - text - 1), AF_INET6, port);
	}
	colon = strchr(text, ':');
	if (!colon || strchr(colon + 1, ':'))
		return MPQ_ERR_INVALID_ARGUMENT; /* no port, or IPv6 without brackets */
	rv = parse_port(colon + 1, &port);
	if (rv < 0)
		return rv;
	return parse_host(out, text, (size_t)(colon - text), AF_INET, port);
}

int mpq_addr_parse_ip(mpq_addr *out, const char *text, uint16_t port)
{
	size_t n;

	if (!out || !text)
		return MPQ_ERR_INVALID_ARGUMENT;
	n = strlen(text);
	if (text[0] == '[') {
		if (n < 2 || text[n - 1] != ']')
			return MPQ_ERR_INVALID_ARGUMENT;
		return parse_host(out, text + 1, n - 2, AF_INET6, port);
	}
	return parse_host(out, text, n, AF_UNSPEC, port);
}

/* "ADDR" or "ADDR%SCOPE" into |buf|; returns the length or an error. */
static int format_host(const mpq_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	char ifname[IF_NAMESIZE];
	int n;

	if (a->ss.ss_family == AF_INET && a->len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		n = snprintf(buf, len, "%s", host);
	} else if (a->ss.ss_family == AF_INET6 && a->len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		if (sin6->sin6_scope_id == 0)
			n = snprintf(buf, len, "%s", host);
		else if (if_indextoname(sin6->sin6_scope_id, ifname))
			n = snprintf(buf, len, "%s%%%s", host, ifname);
		else
			n = snprintf(buf, len, "%s%%%u", host, (unsigned)sin6->sin6_scope_id);
	} else {
		return MPQ_ERR_INVALID_ARGUMENT;
	}
	if (n < 0 || (size_t)n >= len)
		return MPQ_ERR_NOBUF;
	return n;
}

int mpq_addr_format_ip(const mpq_addr *a, char *buf, size_t len)
{
	if (!a || !buf)
		return MPQ_ERR_INVALID_ARGUMENT;
	return format_host(a, buf, len);
}

int mpq_addr_format(const mpq_addr *a, char *buf, size_t len)
{
	char host[MPQ_ADDR_STRLEN];
	int n;

	if (!a || !buf)
		return MPQ_ERR_INVALID_ARGUMENT;
	n = format_host(a, host, sizeof(host));
	if (n < 0)
		return n;
	if (a->ss.ss_family == AF_INET6)
		n = snprintf(buf, len, "[%s]:%u", host, (unsigned)mpq_addr_port(a));
	else
		n = snprintf(buf, len, "%s:%u", host, (unsigned)mpq_addr_port(a));
	if (n < 0 || (size_t)n >= len)
		return MPQ_ERR_NOBUF;
	return n;
}

int mpq_addr_set(mpq_addr *out, const struct sockaddr *sa, socklen_t len)
{
	socklen_t want;

	if (!out || !sa)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (sa->sa_family == AF_INET)
		want = sizeof(struct sockaddr_in);
	else if (sa->sa_family == AF_INET6)
		want = sizeof(struct sockaddr_in6);
	else
		return MPQ_ERR_INVALID_ARGUMENT;
	if (len < want)
		return MPQ_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	memcpy(&out->ss, sa, want);
	out->len = want;
	return 0;
}

int mpq_addr_any(mpq_addr *out, int family, uint16_t port)
{
	if (!out || (family != AF_INET && family != AF_INET6))
		return MPQ_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	out->ss.ss_family = (sa_family_t)family;
	out->len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	mpq_addr_set_port(out, port);
	return 0;
}

uint16_t mpq_addr_port(const mpq_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return 0;
}

void mpq_addr_set_port(mpq_addr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

bool mpq_addr_equal_ip(const mpq_addr *a, const mpq_addr *b)
{
	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)&a->ss;
		const struct sockaddr_in *y = (const struct sockaddr_in *)&b->ss;

		return x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->ss;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&b->ss;

		return IN6_ARE_ADDR_EQUAL(&x->sin6_addr, &y->sin6_addr) &&
		       x->sin6_scope_id == y->sin6_scope_id;
	}
	return false;
}

bool mpq_addr_equal(const mpq_addr *a, const mpq_addr *b)
{
	return mpq_addr_equal_ip(a, b) && mpq_addr_port(a) == mpq_addr_port(b);
}

bool mpq_addr_is_any(const mpq_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	return false;
}

int mpq_if_index(const char *name, uint32_t *index)
{
	unsigned int i;

	if (!name || !index || name[0] == '\0' || strlen(name) >= IF_NAMESIZE)
		return MPQ_ERR_INVALID_ARGUMENT;
	i = if_nametoindex(name);
	if (i == 0)
		return errno == ENOMEM ? MPQ_ERR_NOMEM : MPQ_ERR_NOT_FOUND;
	*index = i;
	return 0;
}

/* "eth0" owns the addresses getifaddrs lists under "eth0" and its IPv4
 * labels "eth0:1", ... */
static bool ifa_belongs(const char *ifa_name, const char *name, size_t namelen)
{
	return strncmp(ifa_name, name, namelen) == 0 &&
	       (ifa_name[namelen] == '\0' || ifa_name[namelen] == ':');
}

int mpq_if_addrs(const char *name, mpq_addr *out, size_t max)
{
	struct ifaddrs *list, *ifa;
	uint32_t index;
	size_t namelen;
	int count = 0;
	int rv;

	rv = mpq_if_index(name, &index);
	if (rv < 0)
		return rv;
	if (!out && max)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (getifaddrs(&list) < 0)
		return errno == ENOMEM ? MPQ_ERR_NOMEM : MPQ_ERR_INTERNAL;
	namelen = strlen(name);
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		mpq_addr a;

		if (!ifa->ifa_addr || !ifa_belongs(ifa->ifa_name, name, namelen))
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET)
			mpq_addr_set(&a, ifa->ifa_addr, sizeof(struct sockaddr_in));
		else if (ifa->ifa_addr->sa_family == AF_INET6)
			mpq_addr_set(&a, ifa->ifa_addr, sizeof(struct sockaddr_in6));
		else
			continue;
		if (a.ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.ss;

			if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
				sin6->sin6_scope_id = index;
			else
				sin6->sin6_scope_id = 0;
		}
		mpq_addr_set_port(&a, 0);
		if ((size_t)count < max)
			out[count] = a;
		count++;
	}
	freeifaddrs(list);
	return count;
}
