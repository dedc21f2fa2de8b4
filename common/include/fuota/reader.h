/* The checked reader every application-layer command codec (TS003 clock sync, TS004
 * fragmentation, TS005 multicast setup, TS006 firmware management) decodes with, and the one
 * error record it fills.
 *
 * A codec reads one command: fuota_reader_begin takes the CID, fuota_reader_command names the
 * command, then fuota_read_* take its fields in wire order. Every read checks that the field is
 * all there before it touches a byte (STYLE rule 4) and reads little-endian through fuota/bytes.h
 * (rule 5). The first field that is short, or that a codec refuses with fuota_reader_fail, is
 * recorded in the caller's struct fuota_parse_err and the read returns FUOTA_ERR_MALFORMED; the
 * codec then returns at once, so the record always describes the first problem.
 *
 * Pure: no I/O, no globals; the reader borrows the payload and the error record from its
 * caller. */
#ifndef FUOTA_READER_H
#define FUOTA_READER_H

#include <stddef.h>
#include <stdint.h>

/* Where and why the decoding of one command stopped. The strings are static (never freed).
 * fuota_reader_begin clears it; after an error:
 * - a field cut short: reason "missing", field names it; need / left are the bytes the field
 *   needs and the bytes that were left where it starts, or, when the codec declared the length
 *   of the whole command with fuota_reader_expect, that length and the bytes that were left
 *   after the CID;
 * - a value out of range (fuota_reader_fail): field and reason say which and how; need is 0 and
 *   left the bytes after the CID;
 * - a CID the codec does not know: command is NULL and reason says why;
 * - an empty payload: command is NULL and reason is "empty payload". */
struct fuota_parse_err {
	size_t offset;       /* offset of the command's CID in the payload */
	uint8_t cid;         /* its CID (0 when the payload was empty) */
	const char *command; /* the command's spec name, e.g. "AppTimeReq"; NULL: unknown CID */
	const char *field;   /* the field that is missing or out of range, or NULL */
	const char
	        *reason; /* "missing", "out of range (0)", "unknown command", ...; NULL if none */
	size_t need;     /* bytes needed when short (see above), else 0 */
	size_t left;     /* bytes that were left when short */
};

/* A reader over buf[0..len) at pos. Fill it with fuota_reader_begin; the fields are public so
 * that a codec can ask how far it got (pos) and how much is left (len - pos), never to write. */
struct fuota_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;    /* next byte to read; pos <= len always */
	size_t body;   /* offset just after the CID */
	size_t expect; /* 0, or the command's length after the CID (fuota_reader_expect) */
	struct fuota_parse_err *err; /* may be NULL: errors are then only returned */
};

/* Starts reading the command whose CID is buf[pos]: clears *err (err may be NULL), takes the CID
 * into *cid and records it and pos in *err. Returns FUOTA_OK, or FUOTA_ERR_MALFORMED when there
 * is no byte at pos (pos >= len; reason "empty payload"), with nothing read. */
int fuota_reader_begin(struct fuota_reader *r, const uint8_t *buf, size_t len, size_t pos,
                       struct fuota_parse_err *err, uint8_t *cid);

/* Names the command being read (a static string); later errors carry the name. A NULL name
 * means the codec does not know the CID: why (or "unknown command" when why is NULL) is recorded
 * as the reason and the call returns FUOTA_ERR_UNSUPPORTED; otherwise FUOTA_OK. */
int fuota_reader_command(struct fuota_reader *r, const char *name, const char *why);

/* Declares the length of the whole command after its CID, for the error report only: a short
 * field is then reported as "n bytes needed, m left after the CID" (TS004 style) instead of the
 * field's own size. 0 goes back to field sizes. Reading is not limited by it. */
void fuota_reader_expect(struct fuota_reader *r, size_t n);

/* Take one field, named by field (a static string), and advance. Each returns FUOTA_OK, or
 * FUOTA_ERR_MALFORMED when fewer bytes than the field needs are left (then nothing is read, *v is
 * untouched, and the error is recorded). Multi-byte integers are little-endian. */
int fuota_read_u8(struct fuota_reader *r, const char *field, uint8_t *v);
int fuota_read_le16(struct fuota_reader *r, const char *field, uint16_t *v);
int fuota_read_le24(struct fuota_reader *r, const char *field, uint32_t *v);
int fuota_read_le32(struct fuota_reader *r, const char *field, uint32_t *v);
/* Copies n bytes into out[0..n). */
int fuota_read_bytes(struct fuota_reader *r, const char *field, uint8_t *out, size_t n);
/* Points *p at the next n bytes of the payload (borrowed, not copied). */
int fuota_read_span(struct fuota_reader *r, const char *field, size_t n, const uint8_t **p);

/* Refuses a field that was read but is out of range: records field and reason (static strings,
 * e.g. "NbFrag", "out of range") and returns FUOTA_ERR_MALFORMED. */
int fuota_reader_fail(struct fuota_reader *r, const char *field, const char *reason);

/* Writes a one-line description of *err into buf[0..len) (NUL-terminated when len > 0):
 * "FragSessionSetupReq: missing Descriptor (10 bytes needed, 6 left)", "DataFragment: N out of
 * range (0)", "CID 0x04 at offset 12: unknown command"; "malformed payload" for a NULL err. */
void fuota_parse_err_format(const struct fuota_parse_err *err, char *buf, size_t len);

#endif
