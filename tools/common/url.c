/* URL parsing and resolution for the client: see url.h. */
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "mpq/io/netaddr.h"
#include "localaddr.h"
#include "tool.h"
#include "url.h"

static const char scheme[] = "https://";

static int bad_url(const char *text, const char *why)
{
	tool_err("bad URL '%s': %s (expected https://HOST:PORT/PATH)", text, why);
	return TOOL_EXIT_USAGE;
}

/* "[v6%scope]" or "a.b.c.d" or a name: the host part up to |end|. */
static int parse_host(struct tool_url *u, const char *h, const char *end)
{
	size_t n = (size_t)(end - h);
	char lit[TOOL_URL_HOSTLEN];

	if (n == 0)
		return bad_url(u->text, "no host");
	if (n >= sizeof(lit))
		return bad_url(u->text, "host name too long");
	memcpy(lit, h, n);
	lit[n] = '\0';
	if (lit[0] == '[') {
		char *zone = strchr(lit, '%');
		size_t hl;
		int rv;

		/* RFC 6874 writes the zone's '%' as "%25" in a URL (curl takes both). */
		if (zone && strncmp(zone, "%25", 3) == 0 && zone[3] && zone[3] != ']')
			memmove(zone + 1, zone + 3, strlen(zone + 3) + 1);
		rv = mpq_addr_parse_ip(&u->addr, lit, u->port);
		if (rv == MPQ_ERR_NOT_FOUND)
			return bad_url(u->text, "no such interface in the IPv6 scope");
		if (rv < 0 || u->addr.ss.ss_family != AF_INET6)
			return bad_url(u->text, "not an IPv6 address in brackets");
		if (!zone && tool_addr_is_link_local(&u->addr))
			return bad_url(u->text, "a link-local address needs its interface: "
						"[fe80::1%eth0] or [fe80::1%25eth0]");
		/* The certificate names the address without its scope. */
		hl = strcspn(lit + 1, "%]");
		memcpy(u->host, lit + 1, hl);
		u->host[hl] = '\0';
		return 0;
	}
	if (strspn(lit, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != n)
		return bad_url(u->text, "bad character in host (IPv6 needs brackets)");
	memcpy(u->host, lit, n + 1);
	if (mpq_addr_parse_ip(&u->addr, lit, u->port) == 0 && u->addr.ss.ss_family == AF_INET)
		return 0;
	if (strspn(lit, "0123456789.") == n)
		return bad_url(u->text, "not an IPv4 address");
	u->host_is_name = true;
	return 0;
}

/* ":PORT" from |p| to |end|. */
static int parse_port(struct tool_url *u, const char *p, const char *end)
{
	uint64_t port = 0;

	if (p == end)
		return bad_url(u->text, "empty port");
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			break;
		port = port * 10 + (uint64_t)(*p - '0');
	}
	if (p != end || port == 0 || port > 65535)
		return bad_url(u->text, "port is not a number from 1 to 65535");
	u->port = (uint16_t)port;
	return 0;
}

int tool_url_parse(struct tool_url *u, const char *text)
{
	const char *h, *slash, *hostend;
	int rv;

	memset(u, 0, sizeof(*u));
	u->text = text;
	u->port = 443;
	if (strncasecmp(text, scheme, sizeof(scheme) - 1) != 0)
		return bad_url(text, "not an https:// URL");
	h = text + sizeof(scheme) - 1;
	slash = h + strcspn(h, "/?#");
	if (*slash && *slash != '/')
		return bad_url(text, "queries and fragments are not supported");
	if (h[0] == '[') {
		hostend = memchr(h, ']', (size_t)(slash - h));
		if (!hostend)
			return bad_url(text, "unclosed '[' in host");
		hostend++;
		if (hostend != slash && *hostend != ':')
			return bad_url(text, "junk after ']'");
	} else {
		hostend = memchr(h, ':', (size_t)(slash - h));
		if (!hostend)
			hostend = slash;
	}
	if (hostend != slash) {
		rv = parse_port(u, hostend + 1, slash);
		if (rv != 0)
			return rv;
	}
	if (strlen(*slash ? slash : "/") >= sizeof(u->path))
		return bad_url(text, "path too long");
	strcpy(u->path, *slash ? slash : "/");
	return parse_host(u, h, hostend);
}

int tool_url_resolve(struct tool_url *u)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	int rv;

	if (!u->host_is_name)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	snprintf(port, sizeof(port), "%u", u->port);
	rv = getaddrinfo(u->host, port, &hints, &res);
	if (rv != 0) {
		tool_err("cannot resolve %s: %s", u->host, gai_strerror(rv));
		return TOOL_EXIT_CONN;
	}
	rv = mpq_addr_set(&u->addr, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rv < 0) {
		tool_err("cannot resolve %s: no IPv4 or IPv6 address", u->host);
		return TOOL_EXIT_CONN;
	}
	return 0;
}

const char *tool_url_file_name(const struct tool_url *u)
{
	const char *base = strrchr(u->path, '/') + 1;

	if (!*base)
		return "index.html";
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return NULL;
	return base;
}
