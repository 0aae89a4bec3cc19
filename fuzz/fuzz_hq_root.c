/*
 * The hq server's www root (lib/io/hq_files.c) on paths from requests: a
 * tree made once in /tmp (files, a subdirectory, symlinks inside, out by
 * "..", out by an absolute path, a FIFO) and a secret beside it; the input,
 * as a request line's path (through mpq_hq_parse_request, as the server
 * does) and as a relative path given to the root directly (its own defence,
 * without the parser's), opened through openat2 and through the realpath()
 * fallback. Whatever opens must be a regular file inside the root: the
 * opened descriptor's path is read back from /proc/self/fd.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "app/hq.h"
#include "mpq/io/hq_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char top[64], www[96];
static mpq_hq_root *roots[2]; /* openat2, realpath() */

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	f = fopen(path, "w");
	if (!f)
		__builtin_trap();
	fputs(text, f);
	fclose(f);
}

static void link_at(const char *target, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	if (symlink(target, path) != 0)
		__builtin_trap();
}

static void cleanup(void)
{
	char cmd[128];

	mpq_hq_root_close(roots[0]);
	mpq_hq_root_close(roots[1]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		return;
}

static int setup(void)
{
	char path[256];

	strcpy(top, "/tmp/mpq-fuzz-hq-root-XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(www, sizeof(www), "%s/www", top);
	snprintf(path, sizeof(path), "%s/www/sub", top);
	if (mkdir(www, 0755) != 0 || mkdir(path, 0755) != 0)
		return -1;
	put("secret", "outside the root\n");
	put("www/index.html", "index\n");
	put("www/sub/inner.txt", "inner\n");
	link_at("../secret", "www/up");
	link_at("../../secret", "www/sub/up2");
	link_at(path, "www/abs_in"); /* absolute, pointing inside */
	link_at("/etc/passwd", "www/abs_out");
	link_at("sub/inner.txt", "www/rel_in");
	link_at("sub", "www/dir_link");
	snprintf(path, sizeof(path), "%s/www/fifo", top);
	if (mkfifo(path, 0644) != 0)
		return -1;
	atexit(cleanup);
	return mpq_hq_root_open(&roots[0], www, false) || mpq_hq_root_open(&roots[1], www, true)
		       ? -1
		       : 0;
}

/* Opens |rel| in both roots; what opens must lie below the root. */
static void open_all(const char *rel)
{
	char link[64], real[PATH_MAX];
	size_t wl = strlen(www);

	for (int i = 0; i < 2; i++) {
		mpq_hq_files files = mpq_hq_root_files(roots[i]);
		void *file = NULL;
		uint64_t size;
		ssize_t n;
		uint8_t buf[16];

		if (files.open(files.user_data, rel, &file, &size) != 0)
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", (int)(intptr_t)file);
		n = readlink(link, real, sizeof(real) - 1);
		CHECK(n > 0);
		real[n] = '\0';
		CHECK(!strncmp(real, www, wl) && real[wl] == '/');
		CHECK(files.read(files.user_data, file, buf, sizeof(buf), 0) >= 0);
		files.close(files.user_data, file);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char line[512], rel[512];

	if (!ready)
		ready = setup() == 0 ? 1 : -1;
	if (ready < 0 || size > sizeof(line) - 6)
		return 0;
	/* As a request: "GET /" and the input, parsed as the server does. */
	memcpy(line, "GET /", 5);
	memcpy(line + 5, data, size);
	if (mpq_hq_parse_request(line, size + 5, rel, sizeof(rel)) == 0 && rel[0])
		open_all(rel);
	/* As a path given to the root directly, up to a NUL. */
	memcpy(rel, data, size);
	rel[size] = '\0';
	if (rel[0])
		open_all(rel);
	return 0;
}
