/* Fuzzes http_head_check, the NUL check of a request head: the input is a raw head, laid out the
 * way libmicrohttpd 0.9.75 parses it in place (lines cut at LF, CR LF and separators overwritten
 * with NUL). Invariants: every read stays in the head (ASan), a clean head (CR LF lines, no NUL,
 * no folding) passes, and a NUL in the request line or in a header line after its colon is found.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/http.h"
#include "fuzz.h"

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

#define MAX_H 32

struct lay {
	char *buf;
	size_t size;
	const char *keys[MAX_H], *values[MAX_H];
	struct http_head h;
	bool crlf_only, folded, nul_in_value;
};

/* The next line from *pos; false when there is none. */
static bool next_line(struct lay *l, size_t *pos, char **line, size_t *len)
{
	char *start = l->buf + *pos, *lf = memchr(start, '\n', l->size - *pos);

	if (!lf)
		return false;
	*line = start;
	*len = (size_t)(lf - start);
	*lf = 0;
	if (lf > start && lf[-1] == '\r') {
		lf[-1] = 0;
		(*len)--;
	} else {
		l->crlf_only = false;
	}
	*pos = (size_t)(lf + 1 - l->buf);
	return true;
}

static bool request_line(struct lay *l, char *rl, size_t len)
{
	char *sp1 = memchr(rl, ' ', len), *sp2;

	if (!sp1)
		return false;
	sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - rl));
	if (!sp2 || memchr(sp2 + 1, ' ', len - (size_t)(sp2 + 1 - rl)))
		return false;
	if (memchr(rl, 0, len))
		l->nul_in_value = true;
	*sp1 = *sp2 = 0;
	l->h.base = l->h.method = rl;
	l->h.target = sp1 + 1;
	l->h.target_len = strlen(l->h.target);
	l->h.version = sp2 + 1;
	return true;
}

static bool header_line(struct lay *l, char *hl, size_t len)
{
	char *colon = strchr(hl, ':'); /* MHD's: a NUL before the colon is a 400 of its own */

	if (!colon || l->h.n == MAX_H)
		return false;
	if (hl[0] == ' ' || hl[0] == '\t')
		l->folded = true;
	if (memchr(colon, 0, len - (size_t)(colon - hl)))
		l->nul_in_value = true;
	*colon = 0;
	for (colon++; *colon == ' ' || *colon == '\t'; colon++)
		;
	l->keys[l->h.n] = hl;
	l->values[l->h.n++] = colon;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lay l;
	size_t pos = 0, len;
	char *line;
	const char *bad;
	int rc;

	if (size < 2)
		return 0;
	memset(&l, 0, sizeof(l));
	l.size = size - 1; /* the last byte steers a pointer below */
	l.buf = malloc(l.size);
	if (!l.buf)
		return 0;
	memcpy(l.buf, data, l.size);
	l.crlf_only = true;
	if (!next_line(&l, &pos, &line, &len) || !request_line(&l, line, len))
		goto out;
	for (;;) {
		if (!next_line(&l, &pos, &line, &len))
			goto out;
		if (len == 0)
			break; /* the blank line */
		if (!header_line(&l, line, len))
			goto out;
	}
	l.h.size = pos;
	l.h.keys = l.keys;
	l.h.values = l.values;
	rc = http_head_check(&l.h, &bad);
	CHECK(bad != NULL || rc == 0);
	if (l.crlf_only && !l.folded && !l.nul_in_value)
		CHECK(rc == 0);
	if (l.crlf_only && l.nul_in_value)
		CHECK(rc == -1);
	/* Any value pointer anywhere in the head: still no read outside it. */
	if (l.h.n) {
		l.values[data[size - 1] % l.h.n] = l.buf + (data[size - 1] * 131u) % l.h.size;
		(void)http_head_check(&l.h, &bad);
	}
out:
	free(l.buf);
	return 0;
}
