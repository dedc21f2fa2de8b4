/* An LD_PRELOAD shim for tool.frag_encode_truncated: it truncates or rewrites a file at a
 * chosen moment of fuota-tool's run, deterministically, as another process doing so would. Built
 * for the tests only. Set by the environment:
 *   FUOTA_SHIM_FILE  the file to truncate or rewrite (the tool's input)
 *   FUOTA_SHIM_SIZE  its new size in bytes; with FUOTA_SHIM_DO=rewrite, the number of bytes
 *                    written over in place from offset 0 (each byte inverted; size unchanged)
 *   FUOTA_SHIM_DO    "rewrite", or unset: truncate
 *   FUOTA_SHIM_AT    "mmap": right after a successful MAP_FIXED mapping of that file (before
 *                    the encoder reads it); "writev": at the first writev (after the encode,
 *                    before the output is written from the mapping)
 * The file is changed once, by path: the tool's descriptor is read-only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int done;

static int at(const char *when)
{
	const char *v = getenv("FUOTA_SHIM_AT");

	return !done && v && strcmp(v, when) == 0 && getenv("FUOTA_SHIM_FILE") &&
	       getenv("FUOTA_SHIM_SIZE");
}

/* Inverts the first n bytes of path in place, with pread and pwrite: no truncation. */
static void rewrite(const char *path, size_t n)
{
	unsigned char buf[4096];
	int fd = open(path, O_RDWR | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return;
	for (off_t off = 0; n > 0; off += got, n -= (size_t)got) {
		got = pread(fd, buf, n < sizeof(buf) ? n : sizeof(buf), off);
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++)
			buf[i] = (unsigned char)~buf[i];
		if (pwrite(fd, buf, (size_t)got, off) != got)
			break;
	}
	close(fd);
}

static void truncate_now(void)
{
	const char *how = getenv("FUOTA_SHIM_DO");
	long long size = strtoll(getenv("FUOTA_SHIM_SIZE"), NULL, 10);

	done = 1;
	if (how && strcmp(how, "rewrite") == 0)
		rewrite(getenv("FUOTA_SHIM_FILE"), (size_t)size);
	else
		(void)truncate(getenv("FUOTA_SHIM_FILE"), (off_t)size);
}

/* 1 if fd is open on FUOTA_SHIM_FILE (compared as canonical paths). */
static int is_target(int fd)
{
	char link[64], got[PATH_MAX], want[PATH_MAX];
	ssize_t n;

	if (fd < 0 || !realpath(getenv("FUOTA_SHIM_FILE"), want))
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, got, sizeof(got) - 1u);
	if (n <= 0)
		return 0;
	got[n] = '\0';
	return strcmp(got, want) == 0;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *(*real)(void *, size_t, int, int, int, off_t) =
	        (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
	void *p = real(addr, len, prot, flags, fd, off);

	if (p != MAP_FAILED && (flags & MAP_FIXED) && at("mmap") && is_target(fd))
		truncate_now();
	return p;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	ssize_t (*real)(int, const struct iovec *, int) =
	        (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");

	if (at("writev"))
		truncate_now();
	return real(fd, iov, iovcnt);
}
