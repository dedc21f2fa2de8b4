/* The NUL check of a request head as libmicrohttpd 0.9.75 leaves it (http_head_check in
 * fuota/http.h). Every read stays inside [base, base + size). */
#include "fuota/http.h"

#include <stdbool.h>
#include <string.h>

static bool inside(const struct http_head *h, const char *p)
{
	return p && p >= h->base && p < h->base + h->size;
}

/* The length of the string at p, never past the end of the head. */
static size_t len_at(const struct http_head *h, const char *p)
{
	return strnlen(p, (size_t)(h->base + h->size - p));
}

/* Between the end of a line's last string and the start of the next line: only the NULs that
 * were its CR LF (or LF), and after the last header (or a request line without headers) those
 * of the blank line too. A NUL the client sent leaves more bytes, or other bytes, there. */
static bool line_end_ok(const char *from, const char *to, bool last)
{
	size_t n = (size_t)(to - from);

	if (to <= from || n > (last ? 4u : 2u) || n < (last ? 2u : 1u))
		return false;
	for (size_t i = 0; i < n; i++)
		if (from[i])
			return false;
	return true;
}

static bool header_ok(const struct http_head *h, size_t i)
{
	const char *key = h->keys[i], *value = h->values[i], *p, *next;
	size_t klen;

	if (!inside(h, key) || !inside(h, value))
		return false;
	klen = len_at(h, key);
	/* "Name:" then blanks, the colon overwritten: a value elsewhere was moved (a folded line,
	 * obs-fold, which RFC 9112 §5.2 lets a server refuse). */
	if (value <= key + klen)
		return false;
	for (p = key + klen + 1; p < value; p++)
		if (*p != ' ' && *p != '\t')
			return false;
	next = i + 1 < h->n ? h->keys[i + 1] : h->base + h->size;
	if (i + 1 < h->n && !inside(h, next))
		return false;
	return line_end_ok(value + len_at(h, value), next, i + 1 == h->n);
}

int http_head_check(const struct http_head *h, const char **bad)
{
	const char *next;

	*bad = NULL;
	/* METHOD SP target SP version: one space each (MHD's strict mode refuses more). */
	if (h->method != h->base || !inside(h, h->target) || !inside(h, h->version) ||
	    h->target != h->method + len_at(h, h->method) + 1 ||
	    h->version != h->target + h->target_len + 1 || h->version[-1]) {
		*bad = "";
		return -1;
	}
	next = h->n ? h->keys[0] : h->base + h->size;
	if ((h->n && !inside(h, next)) ||
	    !line_end_ok(h->version + len_at(h, h->version), next, h->n == 0)) {
		*bad = "";
		return -1;
	}
	for (size_t i = 0; i < h->n; i++) {
		if (!header_ok(h, i)) {
			*bad = inside(h, h->keys[i]) ? h->keys[i] : "";
			return -1;
		}
	}
	return 0;
}
