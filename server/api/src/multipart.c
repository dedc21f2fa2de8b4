/* multipart/form-data parser. Layout (RFC 2046 §5.1.1, RFC 7578):
 *   --boundary CRLF headers CRLF CRLF data CRLF --boundary CRLF ... CRLF --boundary-- [CRLF]
 * Every search is bounded by the body's length. */
#include "fuota/multipart.h"

#include <ctype.h>
#include <stdbool.h>
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

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copies the value of param (name or filename) of a Content-Disposition line, walking its
 * parameters: `form-data; name="a"; filename="b"` (quoted or token values). A parameter given
 * twice is MALFORMED: which one counts would be a guess (RFC 7578 §4.2 has one of each); a
 * quoted value may hold "name=" or ';' without being taken for another parameter. */
static int disposition_param(const char *line, size_t len, const char *param, char *out, size_t cap)
{
	size_t plen = strlen(param), i = 0;
	bool found = false;

	while (i < len && line[i] != ';') /* the header name and the disposition type */
		i++;
	while (i < len) {
		size_t k, klen, v, n;

		for (i++; i < len && blank(line[i]); i++)
			;
		for (k = i; i < len && line[i] != '=' && line[i] != ';'; i++)
			;
		for (klen = i - k; klen && blank(line[k + klen - 1]); klen--)
			;
		if (i >= len || line[i] != '=')
			continue; /* a parameter without a value */
		for (i++; i < len && blank(line[i]); i++)
			;
		if (i < len && line[i] == '"') {
			for (v = ++i; i < len && line[i] != '"'; i++)
				;
			if (i >= len)
				return FUOTA_ERR_MALFORMED;
			n = i - v;
			while (i < len && line[i] != ';')
				i++;
		} else {
			for (v = i; i < len && line[i] != ';'; i++)
				;
			for (n = i - v; n && blank(line[v + n - 1]); n--)
				;
		}
		if (klen != plen || strncasecmp(line + k, param, plen) != 0)
			continue;
		if (found || n + 1 > cap)
			return FUOTA_ERR_MALFORMED;
		found = true;
		memcpy(out, line + v, n);
		out[n] = 0;
	}
	return found ? FUOTA_OK : FUOTA_ERR_NOT_FOUND;
}

static int parse_headers(const uint8_t *h, size_t len, struct mp_part *part)
{
	size_t pos = 0;
	int have_name = 0;

	/* A NUL would cut a name or filename short where the client meant more. */
	if (memchr(h, 0, len))
		return FUOTA_ERR_MALFORMED;
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
