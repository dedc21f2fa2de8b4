/* multipart/form-data parser. Layout (RFC 2046 §5.1.1, RFC 7578):
 *   --boundary CRLF headers CRLF CRLF data CRLF --boundary CRLF ... CRLF --boundary-- [CRLF]
 * Every search is bounded by the body's length. */
#include "fuota/multipart.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "fuota/err.h"

#define MAX_HEADERS_LEN 8192u

int mp_boundary(const char *ct, char *out, size_t cap)
{
	const char *p;
	size_t n = 0;

	if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)
		return FUOTA_ERR_MALFORMED;
	for (p = ct; *p && strncasecmp(p, "boundary=", 9) != 0; p++)
		;
	if (!*p)
		return FUOTA_ERR_MALFORMED;
	p += 9;
	if (*p == '"') {
		p++;
		while (p[n] && p[n] != '"')
			n++;
		if (p[n] != '"')
			return FUOTA_ERR_MALFORMED;
	} else {
		while (p[n] && p[n] != ';' && !isspace((unsigned char)p[n]))
			n++;
	}
	/* RFC 2046: 1 to 70 characters. */
	if (n == 0 || n > 70 || n + 1 > cap)
		return FUOTA_ERR_MALFORMED;
	memcpy(out, p, n);
	out[n] = 0;
	return FUOTA_OK;
}

static const uint8_t *find(const uint8_t *hay, size_t hay_len, const char *needle, size_t n)
{
	if (n == 0 || hay_len < n)
		return NULL;
	for (size_t i = 0; i + n <= hay_len; i++) {
		const uint8_t *c = memchr(hay + i, needle[0], hay_len - n + 1 - i);

		if (!c)
			return NULL;
		i = (size_t)(c - hay);
		if (memcmp(c, needle, n) == 0)
			return c;
	}
	return NULL;
}

/* Copies the value of param (name= or filename=) from a Content-Disposition line. */
static int disposition_param(const char *line, size_t len, const char *param, char *out, size_t cap)
{
	size_t plen = strlen(param);

	for (size_t i = 0; i + plen + 1 < len; i++) {
		size_t j, n = 0;

		if (strncasecmp(line + i, param, plen) != 0 || line[i + plen] != '=')
			continue;
		/* "name=" must not match inside "filename=". */
		if (i > 0 && isalpha((unsigned char)line[i - 1]))
			continue;
		j = i + plen + 1;
		if (j < len && line[j] == '"') {
			j++;
			while (j + n < len && line[j + n] != '"')
				n++;
			if (j + n >= len)
				return FUOTA_ERR_MALFORMED;
		} else {
			while (j + n < len && line[j + n] != ';' && line[j + n] != ' ')
				n++;
		}
		if (n + 1 > cap)
			return FUOTA_ERR_MALFORMED;
		memcpy(out, line + j, n);
		out[n] = 0;
		return FUOTA_OK;
	}
	return FUOTA_ERR_NOT_FOUND;
}

static int parse_headers(const uint8_t *h, size_t len, struct mp_part *part)
{
	size_t pos = 0;
	int have_name = 0;

	while (pos < len) {
		const uint8_t *eol = find(h + pos, len - pos, "\r\n", 2);
		size_t llen = eol ? (size_t)(eol - (h + pos)) : len - pos;
		const char *line = (const char *)h + pos;

		if (llen > 20 && strncasecmp(line, "Content-Disposition:", 20) == 0) {
			int rc = disposition_param(line, llen, "name", part->name,
			                           sizeof(part->name));

			if (rc != FUOTA_OK)
				return FUOTA_ERR_MALFORMED;
			have_name = 1;
			rc = disposition_param(line, llen, "filename", part->filename,
			                       sizeof(part->filename));
			if (rc == FUOTA_ERR_MALFORMED)
				return rc;
			part->has_filename = rc == FUOTA_OK;
		}
		pos += llen + 2;
	}
	return have_name ? FUOTA_OK : FUOTA_ERR_MALFORMED;
}

int mp_parse(const char *boundary, const uint8_t *body, size_t len, struct mp_part *parts,
             size_t cap, size_t *n)
{
	char delim[80];
	size_t dlen, pos;
	const uint8_t *p;

	*n = 0;
	dlen = strlen(boundary);
	if (dlen == 0 || dlen > 70)
		return FUOTA_ERR_MALFORMED;
	/* "\r\n--boundary": the CRLF before a delimiter belongs to it, not to the data. */
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, dlen);
	dlen += 4;
	/* The first delimiter may start the body without the CRLF (a preamble is allowed). */
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
		pos = dlen - 2;
	} else {
		p = find(body, len, delim, dlen);
		if (!p)
			return FUOTA_ERR_MALFORMED;
		pos = (size_t)(p - body) + dlen;
	}
	for (;;) {
		const uint8_t *hend, *next;
		struct mp_part part;

		/* After a delimiter: "--" closes, CRLF opens a part. */
		if (len - pos >= 2 && body[pos] == '-' && body[pos + 1] == '-')
			return FUOTA_OK;
		while (pos < len && (body[pos] == ' ' || body[pos] == '\t'))
			pos++;
		if (len - pos < 2 || body[pos] != '\r' || body[pos + 1] != '\n')
			return FUOTA_ERR_MALFORMED;
		pos += 2;
		hend = find(body + pos, len - pos, "\r\n\r\n", 4);
		if (!hend || (size_t)(hend - (body + pos)) > MAX_HEADERS_LEN)
			return FUOTA_ERR_MALFORMED;
		memset(&part, 0, sizeof(part));
		if (parse_headers(body + pos, (size_t)(hend - (body + pos)), &part) != FUOTA_OK)
			return FUOTA_ERR_MALFORMED;
		pos = (size_t)(hend - body) + 4;
		next = find(body + pos, len - pos, delim, dlen);
		if (!next)
			return FUOTA_ERR_MALFORMED; /* truncated: no closing delimiter */
		part.data = body + pos;
		part.len = (size_t)(next - (body + pos));
		if (*n == cap)
			return FUOTA_ERR_NO_SPACE;
		parts[(*n)++] = part;
		pos = (size_t)(next - body) + dlen;
	}
}
