/* The store-and-forward queue (gwq.h): opening and scanning a directory of segments, the cursor
 * file, and reading in order. Appending and the bound are in gwq_write.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fuota/err.h"
#include "gwq_private.h"

#define CURSOR_FILE "cursor"
#define CURSOR_LEN  20 /* next u64 LE | dropped u64 LE | crc32 u32 LE */

void gwq_seg_name(uint64_t first_seq, char name[32])
{
	snprintf(name, 32, "%016" PRIx64 ".seg", first_seq);
}

static void le_put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le_get(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int gwq_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return FUOTA_ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return FUOTA_OK;
}

int gwq_cursor_save(struct gwq *q)
{
	uint8_t b[CURSOR_LEN];
	int fd, rc;

	le_put(b, q->cursor, 8);
	le_put(b + 8, q->dropped, 8);
	le_put(b + 16, (uint32_t)crc32(0L, b, 16), 4);
	fd = openat(q->dirfd, CURSOR_FILE ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return FUOTA_ERR_IO;
	rc = gwq_write_all(fd, b, sizeof(b));
	if (rc == FUOTA_OK && fdatasync(fd) != 0)
		rc = FUOTA_ERR_IO;
	close(fd);
	if (rc == FUOTA_OK && renameat(q->dirfd, CURSOR_FILE ".tmp", q->dirfd, CURSOR_FILE) != 0)
		rc = FUOTA_ERR_IO;
	if (rc == FUOTA_OK && fsync(q->dirfd) != 0)
		rc = FUOTA_ERR_IO;
	if (rc == FUOTA_OK)
		q->cursor_dirty = 0;
	return rc;
}

/* A missing or damaged cursor means "deliver everything there is": at-least-once. */
static void cursor_load(struct gwq *q)
{
	uint8_t b[CURSOR_LEN + 1];
	int fd = openat(q->dirfd, CURSOR_FILE, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof(b));

	if (fd >= 0)
		close(fd);
	if (n != CURSOR_LEN || le_get(b + 16, 4) != (uint32_t)crc32(0L, b, 16))
		return;
	q->cursor = le_get(b, 8);
	q->dropped = le_get(b + 8, 8);
}

static int seg_cmp(const void *a, const void *b)
{
	const struct gwq_seg *x = a, *y = b;
	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

int gwq_seg_push(struct gwq *q, uint64_t first_seq)
{
	if (q->n_segs == q->cap_segs) {
		size_t cap = q->cap_segs ? 2 * q->cap_segs : 8;
		struct gwq_seg *s = realloc(q->segs, cap * sizeof(*s));
		if (!s)
			return FUOTA_ERR_NO_MEMORY;
		q->segs = s;
		q->cap_segs = cap;
	}
	q->segs[q->n_segs++] = (struct gwq_seg){.first_seq = first_seq, .end_seq = first_seq};
	return FUOTA_OK;
}

/* The segment files of the directory, sorted by first seq. Other names are left alone. */
static int list_segments(struct gwq *q)
{
	int fd = dup(q->dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	int rc = FUOTA_OK;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return FUOTA_ERR_IO;
	}
	rewinddir(d);
	while (rc == FUOTA_OK && (e = readdir(d))) {
		uint64_t seq = 0;
		size_t k;
		if (strlen(e->d_name) != 20 || strcmp(e->d_name + 16, ".seg") != 0)
			continue;
		/* exactly the names gwq_seg_name writes: 16 lowercase hex digits */
		for (k = 0; k < 16 && strchr("0123456789abcdef", e->d_name[k]) && e->d_name[k]; k++)
			seq = seq << 4 | (uint64_t)(e->d_name[k] <= '9' ? e->d_name[k] - '0'
			                                                : e->d_name[k] - 'a' + 10);
		if (k == 16)
			rc = gwq_seg_push(q, seq);
	}
	closedir(d);
	if (q->n_segs > 1)
		qsort(q->segs, q->n_segs, sizeof(*q->segs), seg_cmp);
	return rc;
}

/* Reads segment i and keeps its whole, in-sequence records; a torn tail of the last segment is
 * cut off the file. The file is read whole, whatever seg_bytes is now (an older run may have
 * used larger segments). */
static int scan_segment(struct gwq *q, size_t i)
{
	struct gwq_seg *s = &q->segs[i];
	char name[32];
	struct stat st;
	size_t off = 0, n = 0, rec_len;
	uint64_t seq;
	uint8_t kind;
	const uint8_t *payload;
	uint32_t len;
	uint8_t *data = NULL;
	int fd, last = i + 1 == q->n_segs, rc = FUOTA_ERR_IO;

	gwq_seg_name(s->first_seq, name);
	fd = openat(q->dirfd, name, (last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		goto out;
	n = (size_t)st.st_size;
	if (n && (!(data = malloc(n)) || pread(fd, data, n, 0) != (ssize_t)n)) {
		rc = data ? FUOTA_ERR_IO : FUOTA_ERR_NO_MEMORY;
		goto out;
	}
	while (off < n &&
	       gwq_rec_decode(data + off, n - off, &seq, &kind, &payload, &len, &rec_len) ==
	               FUOTA_OK &&
	       seq == s->end_seq) {
		off += rec_len;
		s->end_seq++;
	}
	s->bytes = off;
	if (last && off < n && ftruncate(fd, (off_t)off) != 0)
		goto out;
	rc = FUOTA_OK;
out:
	free(data);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int scan_all(struct gwq *q)
{
	int rc;

	for (size_t i = 0; i < q->n_segs; i++) {
		if ((rc = scan_segment(q, i)) != FUOTA_OK)
			return rc;
		/* records between a damaged segment's last whole one and the next segment are lost
		 */
		if (i + 1 < q->n_segs && q->segs[i + 1].first_seq > q->segs[i].end_seq)
			q->corrupt += q->segs[i + 1].first_seq - q->segs[i].end_seq;
		q->total_bytes += q->segs[i].bytes;
	}
	if (q->n_segs) {
		q->next_seq = q->segs[q->n_segs - 1].end_seq;
		if (q->cursor < q->segs[0].first_seq)
			q->cursor = q->segs[0].first_seq;
	}
	/* batched sync and a power cut can lose records the cursor already passed: never reuse
	 * their seqs, or new records would count as delivered */
	if (q->next_seq < q->cursor)
		q->next_seq = q->cursor;
	q->r_seg = 0;
	q->r_off = 0;
	q->r_seq = q->n_segs ? q->segs[0].first_seq : q->cursor;
	return FUOTA_OK;
}

static int open_dir(struct gwq *q)
{
	if (mkdir(q->o.dir, 0700) != 0 && errno != EEXIST)
		return FUOTA_ERR_IO;
	q->dirfd = open(q->o.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (q->dirfd < 0)
		return FUOTA_ERR_IO;
	q->lockfd = openat(q->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (q->lockfd < 0)
		return FUOTA_ERR_IO;
	if (flock(q->lockfd, LOCK_EX | LOCK_NB) != 0)
		return errno == EWOULDBLOCK ? FUOTA_ERR_CONFLICT : FUOTA_ERR_IO;
	return FUOTA_OK;
}

int gwq_open(const struct gwq_opts *o, struct gwq **out)
{
	struct gwq *q;
	int rc;

	*out = NULL;
	if (!o->dir || o->seg_bytes < 256 || o->max_bytes < 2 * (uint64_t)o->seg_bytes)
		return FUOTA_ERR_INVALID_ARG;
	if (!(q = calloc(1, sizeof(*q))))
		return FUOTA_ERR_NO_MEMORY;
	q->o = *o;
	q->dirfd = q->lockfd = q->wfd = q->rfd = -1;
	q->buf_cap = GWQ_REC_HDR + GWQ_MAX_PAYLOAD;
	if (!(q->buf = malloc(q->buf_cap))) {
		rc = FUOTA_ERR_NO_MEMORY;
		goto fail;
	}
	if ((rc = open_dir(q)) != FUOTA_OK || (rc = list_segments(q)) != FUOTA_OK)
		goto fail;
	cursor_load(q);
	if ((rc = scan_all(q)) != FUOTA_OK)
		goto fail;
	*out = q;
	return FUOTA_OK;
fail:
	gwq_close(q);
	return rc;
}

void gwq_close(struct gwq *q)
{
	if (!q)
		return;
	if (q->dirfd >= 0 && q->lockfd >= 0)
		(void)gwq_sync(q); /* best effort: a failure costs redelivery, never loss */
	if (q->wfd >= 0)
		close(q->wfd);
	if (q->rfd >= 0)
		close(q->rfd);
	if (q->lockfd >= 0)
		close(q->lockfd); /* releases the flock */
	if (q->dirfd >= 0)
		close(q->dirfd);
	free(q->segs);
	free(q->buf);
	free(q);
}

int gwq_seg_unlink_oldest(struct gwq *q)
{
	char name[32];

	gwq_seg_name(q->segs[0].first_seq, name);
	if (unlinkat(q->dirfd, name, 0) != 0 && errno != ENOENT)
		return FUOTA_ERR_IO;
	q->total_bytes -= q->segs[0].bytes;
	memmove(q->segs, q->segs + 1, (q->n_segs - 1) * sizeof(*q->segs));
	q->n_segs--;
	if (q->r_seg > 0) {
		q->r_seg--;
	} else {
		q->r_off = 0;
		q->r_seq = q->n_segs ? q->segs[0].first_seq : q->next_seq;
	}
	return FUOTA_OK;
}
