/*
 * The tools' parsers of what a user types (tools/common, lib/io/netaddr.c):
 * the input cut at NUL bytes into a URL (tool_url_parse, CLI.md's
 * https://HOST[:PORT]/PATH), an address with a port (mpq_addr_parse, as
 * --local and --advertise take it), a --backup-path value
 * (tool_pathact_check) and a comma-separated list (tool_split_list). What
 * parses must fit its buffers: a host name and a path NUL-terminated, the
 * path starting with '/', a file name (if any) inside the path.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "../tools/common/opts.h"
#include "../tools/common/pathact.h"
#include "../tools/common/url.h"
#include "mpq/io/netaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void url(const char *text)
{
	struct tool_url u;
	const char *name;

	if (tool_url_parse(&u, text) != 0)
		return;
	CHECK(memchr(u.host, 0, sizeof(u.host)) && memchr(u.path, 0, sizeof(u.path)));
	CHECK(u.path[0] == '/' && u.port != 0);
	name = tool_url_file_name(&u);
	CHECK(!name || !strcmp(name, "index.html") ||
	      (name > u.path && name < u.path + sizeof(u.path)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[4][2048], buf[512];
	const char *items[8];
	struct tool_pathact pa = {0};
	mpq_addr a;
	size_t off = 0;

	for (int i = 0; i < 4; i++) {
		const uint8_t *nul = off < size ? memchr(data + off, 0, size - off) : NULL;
		size_t n = nul ? (size_t)(nul - data) - off : size - off;

		n = n < sizeof(text[i]) ? n : sizeof(text[i]) - 1;
		memcpy(text[i], data + off, n);
		text[i][n] = '\0';
		off = nul ? (size_t)(nul - data) + 1 : size;
	}
	url(text[0]);
	mpq_addr_parse(&a, text[1]);
	pa.backup = text[2];
	if (tool_pathact_check(&pa) == 0)
		CHECK(pa.backup_ms >= 1 && (!pa.back_ms || pa.back_ms > pa.backup_ms));
	tool_split_list("--fuzz", text[3], buf, sizeof(buf), items, 8);
	return 0;
}
