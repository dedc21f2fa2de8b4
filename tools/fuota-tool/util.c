#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <unistd.h>

#include "fuota/bytes.h"
#include "tool.h"

void tool_err(const char *fmt, ...)
{
	va_list ap;

	fputs("fuota-tool: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int tool_parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = 0;
	int hi = -1;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++) {
		int v;

		if (isspace((unsigned char)*s) || *s == ':')
			continue;
		v = hexval((unsigned char)*s);
		if (v < 0)
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		return -1;
	*len = n;
	return 0;
}

int tool_parse_hex_exact(const char *s, uint8_t *out, size_t n)
{
	size_t got = 0;

	if (tool_parse_hex(s, out, n, &got) != 0 || got != n)
		return -1;
	return 0;
}

void tool_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int tool_parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end = NULL;
	unsigned long long x;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	/* Decimal, or hex with 0x; a leading zero is not octal (GPS seconds, ports, counts). */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (!isxdigit((unsigned char)s[2]))
			return -1;
		x = strtoull(s + 2, &end, 16);
	} else if (isdigit((unsigned char)s[0])) {
		x = strtoull(s, &end, 10);
	} else {
		return -1;
	}
	if (errno || !end || *end || x > max)
		return -1;
	*v = x;
	return 0;
}

int tool_read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;
	int rc = -1;

	if (!f) {
		tool_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		tool_err("%s: cannot determine size", path);
		goto out;
	}
	buf = malloc(size > 0 ? (size_t)size : 1u);
	if (!buf) {
		tool_err("%s: out of memory", path);
		goto out;
	}
	if (size > 0 && fread(buf, 1, (size_t)size, f) != (size_t)size) {
		tool_err("%s: read error", path);
		goto out;
	}
	*data = buf;
	*len = (size_t)size;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

int tool_write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (!f) {
		tool_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (len && fwrite(data, 1, len, f) != len)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc)
		tool_err("%s: write error", path);
	return rc;
}

int tool_frames_read(const char *path, struct tool_frames *out)
{
	uint8_t *data = NULL;
	size_t len = 0;
	struct tool_frames f;
	uint64_t total;

	memset(out, 0, sizeof(*out));
	if (tool_read_file(path, &data, &len) != 0)
		return -1;
	if (len < TOOL_FRAMES_HEADER_LEN || memcmp(data, TOOL_FRAMES_MAGIC, 4) != 0) {
		tool_err("%s: not a frames file (no FRG1 header)", path);
		goto fail;
	}
	f.nb_frag = fuota_get_le32(data + 4);
	f.frag_size = fuota_get_le32(data + 8);
	f.redundancy = fuota_get_le32(data + 12);
	f.padding = fuota_get_le32(data + 16);
	if (f.nb_frag == 0 || f.frag_size == 0 || f.frag_size > 255 || f.padding >= f.frag_size) {
		tool_err("%s: header out of range (nb_frag %u, frag_size %u, padding %u)", path,
		         f.nb_frag, f.frag_size, f.padding);
		goto fail;
	}
	total = ((uint64_t)f.nb_frag + f.redundancy) * f.frag_size;
	if (total != len - TOOL_FRAMES_HEADER_LEN) {
		tool_err("%s: %zu bytes of frames, header says %llu", path,
		         len - TOOL_FRAMES_HEADER_LEN, (unsigned long long)total);
		goto fail;
	}
	/* Keep one allocation: move the frames to the front of the buffer. */
	memmove(data, data + TOOL_FRAMES_HEADER_LEN, (size_t)total);
	f.frames = data;
	*out = f;
	return 0;
fail:
	free(data);
	return -1;
}

/* Writes all of iov[0 .. n) to fd, resuming after short writes. Returns 0 or -1 (errno set). */
static int write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);
		size_t left;

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		for (left = (size_t)w; n > 0 && left >= iov->iov_len; iov++, n--)
			left -= iov->iov_len;
		if (n > 0) { /* an element written in part */
			iov->iov_base = (uint8_t *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

int tool_frames_write(const char *path, const struct tool_frames *f)
{
	size_t data = (size_t)f->nb_frag * f->frag_size;

	return tool_frames_write_parts(path, f, f->frames, f->frames + data, NULL);
}

int tool_input_changed(const struct tool_input *in)
{
	struct stat now;

	return fstat(in->fd, &now) != 0 || now.st_size != in->st.st_size ||
	       now.st_mtim.tv_sec != in->st.st_mtim.tv_sec ||
	       now.st_mtim.tv_nsec != in->st.st_mtim.tv_nsec ||
	       now.st_ctim.tv_sec != in->st.st_ctim.tv_sec ||
	       now.st_ctim.tv_nsec != in->st.st_ctim.tv_nsec;
}

int tool_frames_write_parts(const char *path, const struct tool_frames *f, const uint8_t *data,
                            const uint8_t *rows, const struct tool_input *src)
{
	uint8_t hdr[TOOL_FRAMES_HEADER_LEN];
	size_t nd = (size_t)f->nb_frag * f->frag_size, nr = (size_t)f->redundancy * f->frag_size;
	struct iovec iov[3] = {
	        {hdr, sizeof(hdr)}, {(void *)(uintptr_t)data, nd}, {(void *)(uintptr_t)rows, nr}};
	struct stat st;
	int fd, reg, err = 0;

	memcpy(hdr, TOOL_FRAMES_MAGIC, 4);
	fuota_put_le32(hdr + 4, f->nb_frag);
	fuota_put_le32(hdr + 8, f->frag_size);
	fuota_put_le32(hdr + 12, f->redundancy);
	fuota_put_le32(hdr + 16, f->padding);
	/* No O_TRUNC: an existing file is written over and then cut to size. Truncating first
	 * frees its page cache and blocks only to allocate them again (on ext4, 0.5-2.4 ms for
	 * the 1.3 MB of workload c: as long as encoding it) and makes close() start writeback. */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0) {
		tool_err("%s: %s", path, strerror(errno));
		return -1;
	}
	reg = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	errno = 0;
	if (write_all(fd, iov, 3) != 0 ||
	    (reg && ftruncate(fd, (off_t)(sizeof(hdr) + nd + nr)) != 0))
		err = errno ? errno : EIO;
	else if (src && tool_input_changed(src)) /* the frames may mix old and new bytes */
		err = EFAULT;
	/* written in part or from a changed src, the file would hold a valid header over
	 * frames that do not belong together: empty it, so that no reader takes it for frames */
	if (err && reg && ftruncate(fd, 0) != 0)
		tool_err("%s: cannot empty it: %s", path, strerror(errno));
	if (close(fd) != 0 && !err)
		err = errno ? errno : EIO;
	if (err == EFAULT && src) /* data is src's mapping: a page of it left, or src changed */
		tool_err("%s: " TOOL_INPUT_CHANGED "; %s not written", src->name, path);
	else if (err)
		tool_err("%s: write error: %s", path, strerror(err));
	return err ? -1 : 0;
}
