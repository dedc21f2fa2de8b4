/* Store-and-forward for fuota-gw: a bounded, crash-safe FIFO of records on disk (the uplinks and
 * stats that arrive while the backhaul is down), appended and consumed in order.
 *
 * Layout. A directory holds segment files "<first seq, 16 hex digits>.seg" and a cursor file.
 * Each record is framed as
 *     len u32 LE | crc u32 LE | seq u64 LE | kind u8 | payload[len]
 * with crc = CRC-32 (zlib) over seq, kind and payload (GWQ_REC_HDR = 17 bytes of framing). Seqs
 * grow by one from record to record. The cursor file holds the seq of the next record to deliver
 * (with its own CRC) and is replaced atomically (write, fsync, rename, fsync of the directory).
 *
 * Crash safety. A record is whole or ignored: on open, each segment is scanned, and at the first
 * record that is short, too long, out of sequence or fails its CRC the scan stops; in the last
 * segment (where a SIGKILL or power cut tears the record being written) the file is truncated
 * there and appending resumes; in an older segment the rest of it is counted as corrupt and
 * skipped. Records with seq below the cursor are consumed and never delivered again.
 *
 * fsync policy. With sync_each every append is fdatasync'd before gwq_append returns and every
 * pop rewrites the cursor, so a power cut loses nothing appended and redelivers nothing popped; it
 * costs an fsync per record (and two per pop). Without it (the policy proposed for fuota-gw, with
 * gwq_sync once a second) a power cut loses at most the last second of appends and redelivers at
 * most the last second of pops. A SIGKILL loses nothing in either mode (the page cache outlives the
 * process), and gwq_close saves the cursor. Delivery is at-least-once: a duplicate uplink after a
 * crash is dropped by the network server (same FCnt), a lost one is not recoverable.
 *
 * The bound. max_bytes caps the sum of the segment files. An append that would exceed it first
 * drops the oldest segment whole: its undelivered records are counted in dropped (oldest first,
 * the newest data is kept), at most seg_bytes of data at a time. A record larger than seg_bytes
 * is refused (FUOTA_ERR_INVALID_ARG).
 *
 * One process owns a directory at a time (flock on "lock"; FUOTA_ERR_CONFLICT otherwise).
 * Functions return FUOTA_OK or a negative enum fuota_err; FUOTA_ERR_IO with errno kept. */
#ifndef FUOTA_GWQ_H
#define FUOTA_GWQ_H

#include <stddef.h>
#include <stdint.h>

#define GWQ_REC_HDR     17
#define GWQ_MAX_PAYLOAD 65536 /* a longer len field is corruption */

struct gwq;

struct gwq_opts {
	const char *dir;    /* created if missing (one level) */
	uint64_t max_bytes; /* >= 2 * seg_bytes */
	uint32_t seg_bytes; /* segment size before a new one starts, >= 256 */
	int sync_each;      /* fdatasync every append, save the cursor at every pop */
};

struct gwq_stats {
	uint64_t records; /* waiting to be delivered */
	uint64_t bytes;   /* on disk, all segments (framing included) */
	uint64_t
	        dropped; /* undelivered records dropped at the bound, since the queue was created */
	uint64_t corrupt;  /* records skipped as unreadable since open */
	uint64_t next_seq; /* seq the next append gets */
	uint64_t segments;
};

/* Opens (or creates) the queue in o->dir, scans it and repairs a torn tail. *out is the caller's
 * and is freed by gwq_close (which accepts NULL, and runs gwq_sync first). */
int gwq_open(const struct gwq_opts *o, struct gwq **out);
void gwq_close(struct gwq *q);

/* Appends one record (kind is the caller's, e.g. uplink or stats). */
int gwq_append(struct gwq *q, uint8_t kind, const void *payload, size_t len);
/* The oldest undelivered record, copied into buf (cap bytes; FUOTA_ERR_NO_SPACE with *len set
 * when it does not fit). FUOTA_ERR_NOT_FOUND when the queue is empty. */
int gwq_peek(struct gwq *q, uint8_t *kind, uint64_t *seq, void *buf, size_t cap, size_t *len);
/* The undelivered record seq (cursor <= seq < next_seq), copied like gwq_peek, without moving
 * the head: how a sender keeps a window of records in flight and pops each only once the far
 * end confirmed it. FUOTA_ERR_STATE for a delivered seq, FUOTA_ERR_NOT_FOUND past the end or
 * for a seq the scan skipped as corrupt. */
int gwq_peek_seq(struct gwq *q, uint64_t seq, uint8_t *kind, void *buf, size_t cap, size_t *len);
/* Marks the record gwq_peek returned as delivered (persisted before returning with sync_each,
 * else by the next gwq_sync or gwq_close). FUOTA_ERR_STATE without a successful peek. */
int gwq_pop(struct gwq *q);
/* fdatasync of the open segment and a save of the cursor if records were popped (the batched
 * policy's periodic call). */
int gwq_sync(struct gwq *q);
void gwq_get_stats(const struct gwq *q, struct gwq_stats *st);

/* The framing, pure (gwq_rec.c). gwq_rec_encode writes GWQ_REC_HDR + len bytes into out.
 * gwq_rec_decode reads the record at the start of buf[0..avail): FUOTA_OK with *rec_len (framing
 * included), FUOTA_ERR_NO_SPACE when avail holds only part of it (a torn tail if at the end of a
 * file), FUOTA_ERR_MALFORMED for a length beyond GWQ_MAX_PAYLOAD or a CRC mismatch. */
void gwq_rec_encode(uint64_t seq, uint8_t kind, const void *payload, uint32_t len, uint8_t *out);
int gwq_rec_decode(const uint8_t *buf, size_t avail, uint64_t *seq, uint8_t *kind,
                   const uint8_t **payload, uint32_t *len, size_t *rec_len);

#endif
