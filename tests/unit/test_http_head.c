/* http_head_check: a NUL byte the client sent inside the request line or a header is found in
 * the head libmicrohttpd 0.9.75 leaves (parsed in place, separators overwritten with NUL). The
 * heads here are laid out the same way by mhd_layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/http.h"

#define MAX_H 16

struct laid {
	char buf[1024];
	const char *keys[MAX_H], *values[MAX_H];
	struct http_head h;
};

/* The line starting at *pos (a NUL does not end it): its terminator (CR LF or LF) overwritten
 * with NULs; returns the line and moves *pos past it. */
static char *line(char *buf, size_t size, size_t *pos)
{
	char *start = buf + *pos, *lf = memchr(start, '\n', size - *pos);

	assert_non_null(lf);
	*lf = 0;
	if (lf > start && lf[-1] == '\r')
		lf[-1] = 0;
	*pos = (size_t)(lf + 1 - buf);
	return start;
}

/* raw (size bytes, NULs included) laid out as MHD does it. */
static void mhd_layout(struct laid *l, const char *raw, size_t size)
{
	size_t pos = 0;
	char *rl, *sp;

	memset(l, 0, sizeof(*l));
	memcpy(l->buf, raw, size);
	rl = line(l->buf, size, &pos);
	l->h.base = l->h.method = rl;
	sp = memchr(rl, ' ', 64);
	*sp = 0;
	l->h.target = sp + 1;
	sp = memchr(sp + 1, ' ', 256);
	*sp = 0;
	l->h.target_len = strlen(l->h.target); /* the URI log callback's length */
	l->h.version = sp + 1;
	for (;;) {
		char *hl = line(l->buf, size, &pos), *colon;

		if (!hl[0] && (size_t)(hl - l->buf) + 2 >= pos)
			break; /* the blank line */
		colon = strchr(hl, ':');
		assert_non_null(colon);
		*colon = 0;
		for (colon++; *colon == ' ' || *colon == '\t'; colon++)
			;
		l->keys[l->h.n] = hl;
		l->values[l->h.n++] = colon;
	}
	l->h.size = pos;
	l->h.keys = l->keys;
	l->h.values = l->values;
}

#define HEAD(s) s, sizeof(s) - 1

static void test_clean_heads(void **state)
{
	static const struct {
		const char *raw;
		size_t len;
	} ok[] = {
	        {HEAD("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")},
	        {HEAD("GET /a?b=1 HTTP/1.0\r\n\r\n")},
	        {HEAD("GET /a HTTP/1.1\nHost: x\nX-Empty:\nX-Blank:  \t v \n\n")},
	        {HEAD("POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
	              "fuota_abc\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n")},
	};
	struct laid l;
	const char *bad;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		mhd_layout(&l, ok[i].raw, ok[i].len);
		if (http_head_check(&l.h, &bad) != 0)
			fail_msg("head %zu refused at \"%s\"", i, bad);
	}
}

static void test_nul_refused(void **state)
{
	static const struct {
		const char *raw;
		size_t len;
		const char *bad;
	} cases[] = {
	        {HEAD("GET /a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\0junk\r\n\r\n"),
	         "Authorization"},
	        {HEAD("GET /a HTTP/1.1\r\nContent-Type: application/json\0x\r\nHost: x\r\n\r\n"),
	         "Content-Type"},
	        {HEAD("GET /a HTTP/1.1\r\nHost: x\0\r\n\r\n"), "Host"},       /* NUL at the end */
	        {HEAD("GET /a HTTP/1.1\r\nX: \0\0\r\nHost: x\r\n\r\n"), "X"}, /* NULs only */
	        {HEAD("GET /a HTTP/1.1\r\nX:\0 v\r\nHost: x\r\n\r\n"), "X"},
	        {HEAD("GET /a HTTP/1.1\nHost: x\0y\nZ: 1\n\n"), "Host"},
	        {HEAD("GET /jobs/1\0/devices HTTP/1.1\r\nHost: x\r\n\r\n"), ""},
	        {HEAD("GET /a\0?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"), ""},
	        {HEAD("GET /a HTTP/1.1\0x\r\nHost: x\r\n\r\n"), ""},
	        {HEAD("GET /a HTTP/1.1\0\r\n\r\n"), ""},
	};
	struct laid l;
	const char *bad;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mhd_layout(&l, cases[i].raw, cases[i].len);
		if (http_head_check(&l.h, &bad) == 0)
			fail_msg("case %zu accepted", i);
		assert_string_equal(bad, cases[i].bad);
	}
	/* Not seen: a header value's last byte a NUL right before a bare LF ("tok\0\n" leaves
	 * the NULs of a clean "tok\r\n"); the value acted on lacks only that NUL. */
}

/* A pointer outside the head (a header MHD moved, as it does with a folded line) is refused,
 * never followed. */
static void test_outside(void **state)
{
	static const char other[] = "elsewhere";
	struct laid l;
	const char *bad;

	(void)state;
	mhd_layout(&l, HEAD("GET /a HTTP/1.1\r\nHost: x\r\nX-F: a\r\n\r\n"));
	l.values[1] = other;
	assert_int_equal(http_head_check(&l.h, &bad), -1);
	assert_string_equal(bad, "X-F");
	l.values[1] = l.buf + l.h.size; /* one past the end */
	assert_int_equal(http_head_check(&l.h, &bad), -1);
	mhd_layout(&l, HEAD("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
	l.h.size -= 3; /* the last header's line end cut off */
	assert_int_equal(http_head_check(&l.h, &bad), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_clean_heads),
	        cmocka_unit_test(test_nul_refused),
	        cmocka_unit_test(test_outside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
