/* The store-and-forward queue (gwq.h): append with the bound, read in order, pop. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fuota/err.h"
#include "gwq_private.h"

/* Starts the segment named next_seq: the current one is synced first (an older segment is
 * assumed whole by the scan), and the new name is made durable in the directory. */
static int rotate(struct gwq *q)
{
	char name[32];

	if (q->wfd >= 0) {
		if (fdatasync(q->wfd) != 0)
			return FUOTA_ERR_IO;
		close(q->wfd);
		q->wfd = -1;
	}
	gwq_seg_name(q->next_seq, name);
	q->wfd = openat(q->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (q->wfd < 0 || fsync(q->dirfd) != 0)
		return FUOTA_ERR_IO;
	if (gwq_seg_push(q, q->next_seq) != FUOTA_OK)
		return FUOTA_ERR_NO_MEMORY;
	if (q->n_segs == 1) {
		q->r_seg = 0;
		q->r_off = 0;
		q->r_seq = q->next_seq;
	}
	return FUOTA_OK;
}

/* The policy at the bound: the oldest segment goes, its undelivered records counted. */
static int drop_oldest(struct gwq *q)
{
	struct gwq_seg *s = &q->segs[0];
	uint64_t from = s->first_seq > q->cursor ? s->first_seq : q->cursor;
	int rc;

	if (s->end_seq > from) {
		q->dropped += s->end_seq - from;
		q->cursor = s->end_seq;
		q->peeked = 0;
		if ((rc = gwq_cursor_save(q)) != FUOTA_OK)
			return rc;
	}
	return gwq_seg_unlink_oldest(q);
}

/* The segment to append rec bytes to: the last one if it continues the sequence and has room. */
static int writable(struct gwq *q, size_t rec)
{
	struct gwq_seg *last = q->n_segs ? &q->segs[q->n_segs - 1] : NULL;
	char name[32];

	if (!last || last->end_seq != q->next_seq || last->bytes + rec > q->o.seg_bytes)
		return rotate(q);
	if (q->wfd < 0) {
		gwq_seg_name(last->first_seq, name);
		q->wfd = openat(q->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (q->wfd < 0)
			return FUOTA_ERR_IO;
	}
	return FUOTA_OK;
}

int gwq_append(struct gwq *q, uint8_t kind, const void *payload, size_t len)
{
	size_t rec = GWQ_REC_HDR + len;
	struct gwq_seg *s;
	int rc;

	if (len > GWQ_MAX_PAYLOAD || rec > q->o.seg_bytes)
		return FUOTA_ERR_INVALID_ARG;
	if ((rc = writable(q, rec)) != FUOTA_OK)
		return rc;
	while (q->total_bytes + rec > q->o.max_bytes && q->n_segs > 1)
		if ((rc = drop_oldest(q)) != FUOTA_OK)
			return rc;
	s = &q->segs[q->n_segs - 1];
	gwq_rec_encode(q->next_seq, kind, payload, (uint32_t)len, q->buf);
	q->peeked = 0;
	if (gwq_write_all(q->wfd, q->buf, rec) != FUOTA_OK) {
		/* leave no partial record behind for the next append to follow */
		if (ftruncate(q->wfd, (off_t)s->bytes) != 0)
			return FUOTA_ERR_IO;
		return FUOTA_ERR_IO;
	}
	s->bytes += rec;
	s->end_seq++;
	q->next_seq++;
	q->total_bytes += rec;
	if (q->o.sync_each && fdatasync(q->wfd) != 0)
		return FUOTA_ERR_IO;
	return FUOTA_OK;
}

int gwq_sync(struct gwq *q)
{
	if (q->wfd >= 0 && fdatasync(q->wfd) != 0)
		return FUOTA_ERR_IO;
	return q->cursor_dirty ? gwq_cursor_save(q) : FUOTA_OK;
}

static int read_file(struct gwq *q)
{
	char name[32];
	uint64_t first = q->segs[q->r_seg].first_seq;

	if (q->rfd >= 0 && q->rfd_first == first)
		return FUOTA_OK;
	if (q->rfd >= 0)
		close(q->rfd);
	gwq_seg_name(first, name);
	q->rfd = openat(q->dirfd, name, O_RDONLY | O_CLOEXEC);
	q->rfd_first = first;
	return q->rfd < 0 ? FUOTA_ERR_IO : FUOTA_OK;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The framed length of the record at the read position (validated by the scan on open). */
static int record_len(struct gwq *q, size_t *rec_len)
{
	uint8_t h[4];
	uint32_t n;

	if (read_file(q) != FUOTA_OK || pread(q->rfd, h, 4, (off_t)q->r_off) != 4)
		return FUOTA_ERR_IO;
	n = le32(h);
	if (n > GWQ_MAX_PAYLOAD || q->r_off + GWQ_REC_HDR + n > q->segs[q->r_seg].bytes)
		return FUOTA_ERR_IO; /* the file changed under us after the scan */
	*rec_len = GWQ_REC_HDR + (size_t)n;
	return FUOTA_OK;
}

/* Reads the record at the read position into q->buf and checks it again. */
static int read_record(struct gwq *q, const uint8_t **payload, uint32_t *len, uint8_t *kind,
                       size_t *rec_len)
{
	uint64_t seq;
	size_t want;

	if (record_len(q, &want) != FUOTA_OK ||
	    pread(q->rfd, q->buf, want, (off_t)q->r_off) != (ssize_t)want ||
	    gwq_rec_decode(q->buf, want, &seq, kind, payload, len, rec_len) != FUOTA_OK ||
	    seq != q->r_seq)
		return FUOTA_ERR_IO;
	return FUOTA_OK;
}

/* Moves the read position to the record whose seq is the cursor. */
static int seek_cursor(struct gwq *q)
{
	size_t rec_len;
	int rc;

	while (q->r_seg < q->n_segs) {
		struct gwq_seg *s = &q->segs[q->r_seg];
		if (q->r_seq >= s->end_seq) {
			if (q->r_seg + 1 == q->n_segs)
				return FUOTA_ERR_NOT_FOUND;
			q->r_seg++;
			q->r_off = 0;
			q->r_seq = q->segs[q->r_seg].first_seq;
			continue;
		}
		if (q->r_seq >= q->cursor)
			return FUOTA_OK;
		if ((rc = record_len(q, &rec_len)) != FUOTA_OK)
			return rc;
		q->r_off += rec_len;
		q->r_seq++;
	}
	return FUOTA_ERR_NOT_FOUND;
}

int gwq_peek(struct gwq *q, uint8_t *kind, uint64_t *seq, void *buf, size_t cap, size_t *len)
{
	const uint8_t *payload;
	uint32_t n;
	size_t rec_len;
	int rc;

	q->peeked = 0;
	if ((rc = seek_cursor(q)) != FUOTA_OK ||
	    (rc = read_record(q, &payload, &n, kind, &rec_len)) != FUOTA_OK)
		return rc;
	*seq = q->r_seq;
	*len = n;
	if (n > cap)
		return FUOTA_ERR_NO_SPACE;
	if (n)
		memcpy(buf, payload, n);
	q->peeked = 1;
	q->peek_len = rec_len;
	return FUOTA_OK;
}

int gwq_peek_seq(struct gwq *q, uint64_t seq, uint8_t *kind, void *buf, size_t cap, size_t *len)
{
	size_t r_seg, rec_len;
	uint64_t r_off, r_seq;
	const uint8_t *payload;
	uint32_t n;
	int rc;

	if (seq < q->cursor)
		return FUOTA_ERR_STATE;
	if (seq >= q->next_seq)
		return FUOTA_ERR_NOT_FOUND;
	if ((rc = seek_cursor(q)) != FUOTA_OK)
		return rc;
	/* walk from the head's read position to seq, then put the head's position back */
	r_seg = q->r_seg;
	r_off = q->r_off;
	r_seq = q->r_seq;
	while (rc == FUOTA_OK && q->r_seq < seq) {
		if (q->r_seq + 1 >= q->segs[q->r_seg].end_seq) {
			if (q->r_seg + 1 == q->n_segs) {
				rc = FUOTA_ERR_NOT_FOUND;
				break;
			}
			q->r_seg++;
			q->r_off = 0;
			q->r_seq = q->segs[q->r_seg].first_seq;
		} else if ((rc = record_len(q, &rec_len)) == FUOTA_OK) {
			q->r_off += rec_len;
			q->r_seq++;
		}
	}
	if (rc == FUOTA_OK && q->r_seq != seq)
		rc = FUOTA_ERR_NOT_FOUND; /* skipped as corrupt when the queue was opened */
	if (rc == FUOTA_OK && (rc = read_record(q, &payload, &n, kind, &rec_len)) == FUOTA_OK) {
		*len = n;
		if (n > cap)
			rc = FUOTA_ERR_NO_SPACE;
		else if (n)
			memcpy(buf, payload, n);
	}
	q->r_seg = r_seg;
	q->r_off = r_off;
	q->r_seq = r_seq;
	return rc;
}

int gwq_pop(struct gwq *q)
{
	int rc;

	if (!q->peeked)
		return FUOTA_ERR_STATE;
	q->cursor = q->r_seq + 1;
	q->cursor_dirty = 1;
	if (q->o.sync_each && (rc = gwq_cursor_save(q)) != FUOTA_OK) {
		q->cursor = q->r_seq;
		return rc;
	}
	q->peeked = 0;
	q->r_off += q->peek_len;
	q->r_seq++;
	/* segments wholly delivered go, never the one being appended to */
	while (q->n_segs > 1 && q->segs[0].end_seq <= q->cursor)
		if ((rc = gwq_seg_unlink_oldest(q)) != FUOTA_OK)
			return rc;
	return FUOTA_OK;
}

void gwq_get_stats(const struct gwq *q, struct gwq_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < q->n_segs; i++) {
		uint64_t from = q->segs[i].first_seq > q->cursor ? q->segs[i].first_seq : q->cursor;
		if (q->segs[i].end_seq > from)
			st->records += q->segs[i].end_seq - from;
	}
	st->bytes = q->total_bytes;
	st->dropped = q->dropped;
	st->corrupt = q->corrupt;
	st->next_seq = q->next_seq;
	st->segments = q->n_segs;
}
