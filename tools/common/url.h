/*
 * https://HOST[:PORT]/PATH as the client takes it (CLI.md): HOST is an IPv4
 * literal, an IPv6 literal in brackets (optionally with %SCOPE) or a name
 * resolved with getaddrinfo; PORT defaults to 443, PATH to "/".
 */
#ifndef MPQ_TOOL_URL_H
#define MPQ_TOOL_URL_H

#include <stdbool.h>
#include <stdint.h>

#include "mpq/conn.h"

#define TOOL_URL_HOSTLEN 256
#define TOOL_URL_PATHLEN 1024

struct tool_url {
	const char *text;	     /* as given */
	char host[TOOL_URL_HOSTLEN]; /* no brackets or scope: the TLS server name */
	bool host_is_name;	     /* not an address literal: needs resolving */
	uint16_t port;
	char path[TOOL_URL_PATHLEN]; /* starts with '/' */
	mpq_addr addr;		     /* the literal with |port|, or set by tool_url_resolve */
};

/* Parses |text|. Returns 0, or TOOL_EXIT_USAGE after one line saying what is
 * wrong with it. */
int tool_url_parse(struct tool_url *u, const char *text);

/* Resolves a name (AF_UNSPEC, first answer) into u->addr; literals are
 * already set. Returns 0, or TOOL_EXIT_CONN after one line. */
int tool_url_resolve(struct tool_url *u);

/* The last path component, for a file name: "index.html" when the path ends
 * in '/'. NULL for "." or ".." (not safe as a file name). */
const char *tool_url_file_name(const struct tool_url *u);

#endif
