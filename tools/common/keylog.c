/* NSS key log file writer: see keylog.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mpq/io/capture_pcap.h"
#include "keylog.h"
#include "tool.h"

int tool_keylog_open(struct tool_keylog *kl, const char *path)
{
	kl->fd = -1;
	kl->failed = 0;
	kl->path = path ? path : getenv("SSLKEYLOGFILE");
	if (!kl->path || !*kl->path)
		return 0;
	kl->fd = open(kl->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (kl->fd < 0 && !path) {
		/* The environment may be left over from elsewhere: a warning. */
		tool_warn("no key log: SSLKEYLOGFILE=%s: %s", kl->path, strerror(errno));
		return 0;
	}
	if (kl->fd < 0) {
		tool_err("cannot open key log %s: %s", kl->path, strerror(errno));
		return TOOL_EXIT_USAGE;
	}
	return 0;
}

void tool_keylog_line(void *user_data, const char *line)
{
	struct tool_keylog *kl = user_data;
	struct iovec iov[2];
	size_t n = strlen(line) + 1;
	ssize_t w;

	if (!kl)
		return;
	if (kl->pcap)
		mpq_capture_pcap_keylog(kl->pcap, line);
	if (kl->fd < 0)
		return;
	/* One system call for the line and its newline: O_APPEND keeps it whole. */
	iov[0] = (struct iovec){(void *)line, n - 1};
	iov[1] = (struct iovec){"\n", 1};
	do
		w = writev(kl->fd, iov, 2);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)n && !kl->failed) {
		kl->failed = 1;
		tool_warn("cannot write to key log %s: %s", kl->path,
			  w < 0 ? strerror(errno) : "short write");
	}
}

void tool_keylog_close(struct tool_keylog *kl)
{
	if (kl->fd >= 0)
		close(kl->fd);
	kl->fd = -1;
}
