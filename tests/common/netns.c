/* Network namespaces for unit tests: see netns.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "netns.h"

int test_sh(const char *fmt, ...)
{
	char cmd[1200];
	va_list ap;
	int n;

	memcpy(cmd, "{ ", 2);
	va_start(ap, fmt);
	n = vsnprintf(cmd + 2, sizeof(cmd) - 40, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd) - 40)
		return -1;
	strcat(cmd, "; } >/dev/null 2>&1");
	return system(cmd);
}

/* A new anonymous namespace: its descriptor (the calling thread is left in
 * |back|). */
static int new_netns(int back)
{
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (setns(back, CLONE_NEWNET) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int test_netns_make(struct test_netns *n)
{
	n->orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	n->ns_a = n->orig >= 0 ? new_netns(n->orig) : -1;
	n->ns_b = n->ns_a >= 0 ? new_netns(n->orig) : -1;
	return n->ns_b >= 0 ? 0 : -1;
}

int test_netns_setup(struct test_netns *n, const char *tools, char *why, size_t len)
{
	if (geteuid() != 0) {
		snprintf(why, len, "not root (network namespaces)");
		return -1;
	}
	if (test_sh("for t in %s; do command -v $t || exit 1; done", tools) != 0) {
		snprintf(why, len, "needs %s (make deps)", tools);
		return -1;
	}
	if (test_netns_make(n) < 0) {
		snprintf(why, len, "unshare(CLONE_NEWNET): %s", strerror(errno));
		return -1;
	}
	return 0;
}

void test_netns_need(const struct test_netns *n, const char *why)
{
	if (why[0]) {
		print_message("skip: %s\n", why);
		skip();
	}
	assert_int_equal(setns(n->ns_a, CLONE_NEWNET), 0);
}

int test_netns_close(struct test_netns *n)
{
	if (n->orig >= 0 && setns(n->orig, CLONE_NEWNET) < 0)
		return -1;
	for (int *fd = &n->orig; fd <= &n->ns_b; fd++) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	return 0;
}
