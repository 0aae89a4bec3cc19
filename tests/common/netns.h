/* Network namespaces for the unit tests that need root (AF_XDP, netif): an
 * A and a B namespace beside the original one, and shell commands (ip(8),
 * ethtool(8)) run in the calling thread's namespace. */
#ifndef MPQ_TEST_NETNS_H
#define MPQ_TEST_NETNS_H

#include <stddef.h>

/* The original namespace and two new anonymous ones: descriptors, -1 when
 * not open. */
struct test_netns {
	int orig, ns_a, ns_b;
};

#define TEST_NETNS_INIT \
	{ \
		.orig = -1, .ns_a = -1, .ns_b = -1 \
	}

/* Runs the command made from |fmt| through the shell, its output thrown
 * away. Returns system()'s status, or -1 when the command is too long. */
int test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Makes A and B (the calling thread is left where it was). Returns 0, or -1
 * with errno set (unshare needs CAP_SYS_ADMIN). */
int test_netns_make(struct test_netns *n);

/* For a group setup: root, the commands of |tools| (e.g. "ip ethtool") and
 * test_netns_make. Returns 0, or -1 with why the tests skip in |why|. */
int test_netns_setup(struct test_netns *n, const char *tools, char *why, size_t len);

/* At the start of each test: skips it when |why| says so, else enters A
 * (fails the test when it cannot). */
void test_netns_need(const struct test_netns *n, const char *why);

/* Back to the original namespace; closes the descriptors (A and B go away
 * with their last user). Returns 0, or -1 when setns fails. */
int test_netns_close(struct test_netns *n);

#endif
