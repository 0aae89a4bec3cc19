/*
 * hq's file access, the I/O layer below lib/app/hq_server.c (which opens
 * nothing): a www root served without ever leaving it, and sinks that write
 * response bodies to a file descriptor or a FILE. See mpq/io/hq_files.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __has_include
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2_H 1
#endif
#endif

#include "mpq/io/hq_files.h"

struct mpq_hq_root {
	int fd;		 /* O_PATH directory */
	char *real;	 /* realpath() of the root, for the fallback */
	bool no_openat2; /* set once openat2 is missing (ENOSYS) */
};

/* ---- Server root ---- */

static uint64_t errno_code(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ELOOP:
	case ENAMETOOLONG:
	case ENXIO:
		return MPQ_HQ_ERR_NOT_FOUND;
	case EXDEV:
	case EACCES:
	case EPERM:
		return MPQ_HQ_ERR_FORBIDDEN;
	default:
		return MPQ_HQ_ERR_INTERNAL;
	}
}

#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* openat2 with RESOLVE_BENEATH: no "..", absolute symlink or magic link may
 * take the lookup out of the root. Returns the fd, or -errno (-ENOSYS when
 * the kernel or a seccomp filter lacks openat2). */
static int open_beneath(int root_fd, const char *rel)
{
#if defined(HAVE_OPENAT2_H) && defined(SYS_openat2)
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = OPEN_FLAGS;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	long fd;
	do
		fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : (int)fd;
#else
	(void)root_fd;
	(void)rel;
	return -ENOSYS;
#endif
}

/* Without openat2: resolve every symlink with realpath() and require the
 * result to lie below the root's own real path. */
static int open_realpath(const mpq_hq_root *root, const char *rel)
{
	char full[PATH_MAX], resolved[PATH_MAX];
	int n = snprintf(full, sizeof(full), "%s/%s", root->real, rel);
	if (n < 0 || (size_t)n >= sizeof(full))
		return -ENAMETOOLONG;
	if (!realpath(full, resolved))
		return -errno;
	size_t rl = strlen(root->real);
	bool root_is_slash = rl == 1;
	if (!root_is_slash && (strncmp(resolved, root->real, rl) != 0 ||
			       (resolved[rl] != '/' && resolved[rl] != '\0')))
		return -EXDEV;
	int fd;
	do
		fd = open(resolved, OPEN_FLAGS | O_NOFOLLOW);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

/* mpq_hq_files.open: |rel| below the root as a regular file. */
static uint64_t root_open(void *user_data, const char *rel, void **file, uint64_t *size)
{
	mpq_hq_root *root = user_data;
	int rv = root->no_openat2 ? -ENOSYS : open_beneath(root->fd, rel);
	if (rv == -ENOSYS)
		root->no_openat2 = true;
	if (rv == -ENOSYS || rv == -EPERM)
		rv = open_realpath(root, rel);
	if (rv < 0)
		return errno_code(-rv);
	struct stat st;
	if (fstat(rv, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(rv);
		return MPQ_HQ_ERR_NOT_FOUND;
	}
	/* O_NONBLOCK only kept a FIFO from blocking the open. */
	fcntl(rv, F_SETFL, 0);
	*file = (void *)(intptr_t)rv;
	*size = (uint64_t)st.st_size;
	return 0;
}

static int64_t root_read(void *user_data, void *file, uint8_t *buf, size_t len, uint64_t offset)
{
	ssize_t got;
	(void)user_data;
	do
		got = pread((int)(intptr_t)file, buf, len, (off_t)offset);
	while (got < 0 && errno == EINTR);
	return got < 0 ? -errno : got;
}

static void root_close(void *user_data, void *file)
{
	(void)user_data;
	close((int)(intptr_t)file);
}

MPQ_EXPORT int mpq_hq_root_open(mpq_hq_root **out, const char *dir, bool force_realpath)
{
	*out = NULL;
	if (!dir || !dir[0])
		return MPQ_ERR_INVALID_ARGUMENT;
	mpq_hq_root *root = calloc(1, sizeof(*root));
	if (!root)
		return MPQ_ERR_NOMEM;
	root->no_openat2 = force_realpath;
	root->fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root->fd < 0) {
		free(root);
		return MPQ_ERR_INVALID_ARGUMENT;
	}
	root->real = realpath(dir, NULL);
	if (!root->real) {
		int rv = errno == ENOMEM ? MPQ_ERR_NOMEM : MPQ_ERR_INVALID_ARGUMENT;
		close(root->fd);
		free(root);
		return rv;
	}
	*out = root;
	return 0;
}

MPQ_EXPORT void mpq_hq_root_close(mpq_hq_root *root)
{
	if (!root)
		return;
	close(root->fd);
	free(root->real);
	free(root);
}

MPQ_EXPORT mpq_hq_files mpq_hq_root_files(mpq_hq_root *root)
{
	return (mpq_hq_files){.open = root_open,
			      .read = root_read,
			      .close = root_close,
			      .user_data = root};
}

/* ---- Client sinks ---- */

static int fd_write(void *user_data, const uint8_t *data, size_t len)
{
	int fd = (int)(intptr_t)user_data;
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int file_write(void *user_data, const uint8_t *data, size_t len)
{
	errno = 0;
	if (len && fwrite(data, 1, len, user_data) != len)
		return errno ? errno : EIO;
	return 0;
}

MPQ_EXPORT int mpq_hq_sink_fd(mpq_hq_sink *sink, int fd)
{
	if (!sink || fd < 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	*sink = (mpq_hq_sink){.struct_version = MPQ_HQ_SINK_VERSION,
			      .write = fd_write,
			      .user_data = (void *)(intptr_t)fd};
	return 0;
}

MPQ_EXPORT int mpq_hq_sink_file(mpq_hq_sink *sink, FILE *f)
{
	if (!sink || !f)
		return MPQ_ERR_INVALID_ARGUMENT;
	*sink = (mpq_hq_sink){.struct_version = MPQ_HQ_SINK_VERSION,
			      .write = file_write,
			      .user_data = f};
	return 0;
}
