/* A multipart/form-data (RFC 7578) parser over a body held in memory. Parts point into the body;
 * nothing is copied but the names. Pure: no I/O, no allocation. */
#ifndef FUOTA_MULTIPART_H
#define FUOTA_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

struct mp_part {
	char name[64];      /* the form field name */
	char filename[256]; /* "" unless the part is a file */
	int has_filename;
	const uint8_t *data; /* points into the body */
	size_t len;
};

/* Extracts the boundary of a "multipart/form-data; boundary=..." content type into out (cap
 * bytes). Returns FUOTA_OK or FUOTA_ERR_MALFORMED (not multipart, no or bad boundary). */
int mp_boundary(const char *content_type, char *out, size_t cap);

/* Splits body into at most cap parts (*n found). Returns FUOTA_OK, FUOTA_ERR_MALFORMED (no
 * opening boundary, a part without Content-Disposition name, a truncated body without the closing
 * boundary, headers too long) or FUOTA_ERR_NO_SPACE (more than cap parts). */
int mp_parse(const char *boundary, const uint8_t *body, size_t len, struct mp_part *parts,
             size_t cap, size_t *n);

#endif
