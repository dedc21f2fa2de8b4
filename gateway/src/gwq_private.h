/* The queue's in-memory state, shared by gwq.c (open, scan, read) and gwq_write.c (append, bound,
 * cursor). */
#ifndef FUOTA_GWQ_PRIVATE_H
#define FUOTA_GWQ_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "fuota/gwq.h"

struct gwq_seg {
	uint64_t first_seq; /* from the file name */
	uint64_t end_seq;   /* one past the last whole record */
	uint64_t bytes;     /* whole records, framing included */
};

struct gwq {
	struct gwq_opts o;
	int dirfd, lockfd;
	struct gwq_seg *segs; /* oldest first; the last one is the one appended to */
	size_t n_segs, cap_segs;
	int wfd; /* the last segment, O_APPEND; -1 until the first append needs it */
	uint64_t next_seq, cursor, dropped, corrupt, total_bytes;
	int cursor_dirty; /* popped since the cursor file was written */
	/* read position: record r_seq at offset r_off of segs[r_seg], file rfd (segment rfd_first)
	 */
	size_t r_seg;
	uint64_t r_off, r_seq;
	int rfd;
	uint64_t rfd_first;
	int peeked;        /* gwq_peek found the record at r_seq */
	uint64_t peek_len; /* its length, framing included */
	uint8_t *buf;      /* seg_bytes + GWQ_REC_HDR + GWQ_MAX_PAYLOAD, allocated at open */
	size_t buf_cap;
};

/* write() until done (EINTR retried); FUOTA_ERR_IO otherwise. */
int gwq_write_all(int fd, const uint8_t *p, size_t n);
/* Appends a segment starting at first_seq to the table (no file is touched). */
int gwq_seg_push(struct gwq *q, uint64_t first_seq);
void gwq_seg_name(uint64_t first_seq, char name[32]);
/* Writes the cursor file (next seq to deliver, dropped count) atomically. */
int gwq_cursor_save(struct gwq *q);
/* Unlinks segs[0] and removes it from the table, keeping the read position valid. */
int gwq_seg_unlink_oldest(struct gwq *q);

#endif
