/* An LD_PRELOAD shim for tool.frag_encode_truncated: it truncates a file at a chosen moment of
 * fuota-tool's run, deterministically, as another process doing so would. Built for the tests
 * only. Set by the environment:
 *   FUOTA_SHIM_FILE  the file to truncate (the tool's input)
 *   FUOTA_SHIM_SIZE  its new size in bytes
 *   FUOTA_SHIM_AT    "mmap": right after a successful MAP_FIXED mapping of that file (before
 *                    the encoder reads it); "writev": at the first writev (after the encode,
 *                    before the output is written from the mapping)
 * The file is truncated once, by path: the tool's descriptor is read-only. */
#define _GNU_SOURCE
#include <dlfcn.h>
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

static void truncate_now(void)
{
	done = 1;
	(void)truncate(getenv("FUOTA_SHIM_FILE"),
	               (off_t)strtoll(getenv("FUOTA_SHIM_SIZE"), NULL, 10));
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
