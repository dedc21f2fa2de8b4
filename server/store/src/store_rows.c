/* List pages as JSON built here from plain columns. PostgreSQL's json_build_object per row cost
 * about 11 us a row (a page of 50 jobs: 0.55 ms of the database's CPU); text columns cost a
 * fraction of that, and the formatting below is a few string copies. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "store_int.h"

struct buf {
	char *p;
	size_t len, cap;
	bool failed; /* sticky: one failed allocation fails the whole answer */
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* A JSON string: quote, backslash and control characters escaped; the database's text is UTF-8
 * (client_encoding is set at connection), so every other byte is copied as it is. */
static void put_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[7] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15], 0};

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		put(b, run, (size_t)(s - run));
		run = s + 1;
		if (ch == '"' || ch == '\\') {
			esc[1] = (char)ch;
			put(b, esc, 2);
		} else {
			put(b, esc, 6);
		}
	}
	put(b, run, (size_t)(s - run));
	put(b, "\"", 1);
}

/* timestamptz as PostgreSQL prints it with DateStyle ISO and TimeZone UTC (store.c sets both),
 * "2024-05-01 10:00:00.123456+00", becomes what to_json() gives,
 * "2024-05-01T10:00:00.123456+00:00", so that a list and a GET of the same object show the same
 * text. */
static void put_time(struct buf *b, const char *s)
{
	char t[64];
	size_t n = strlen(s);

	if (n < 19 || n + 4 > sizeof(t) || s[10] != ' ') {
		put_string(b, s); /* infinity, or a form this code does not know: as it is */
		return;
	}
	memcpy(t, s, n + 1);
	t[10] = 'T';
	if (n >= 3 && (t[n - 3] == '+' || t[n - 3] == '-'))
		memcpy(t + n, ":00", 4);
	put_string(b, t);
}

static void put_value(struct buf *b, const PGresult *r, int row, int col, enum store_col_kind k)
{
	const char *v = PQgetvalue(r, row, col);

	if (PQgetisnull(r, row, col)) {
		puts_(b, "null");
		return;
	}
	switch (k) {
	case STORE_COL_INT:
	case STORE_COL_JSON: puts_(b, v); break;
	case STORE_COL_BOOL: puts_(b, v[0] == 't' ? "true" : "false"); break;
	case STORE_COL_TIME: put_time(b, v); break;
	case STORE_COL_TEXT: put_string(b, v); break;
	}
}

int store_rows_json(const PGresult *r, const struct store_col *cols, int ncols, char **json)
{
	struct buf b = {0};
	int rows = PQntuples(r);

	*json = NULL;
	if (PQnfields(r) != ncols)
		return FUOTA_ERR_IO; /* our query and our column table disagree */
	put(&b, "[", 1);
	for (int i = 0; i < rows; i++) {
		put(&b, i ? ",{" : "{", i ? 2 : 1);
		for (int k = 0; k < ncols; k++) {
			if (k)
				put(&b, ",", 1);
			put_string(&b, cols[k].key);
			put(&b, ":", 1);
			put_value(&b, r, i, k, cols[k].kind);
		}
		put(&b, "}", 1);
	}
	put(&b, "]", 1);
	if (b.failed) {
		free(b.p);
		return FUOTA_ERR_NO_MEMORY;
	}
	*json = b.p;
	return FUOTA_OK;
}

int store_page_query(struct store *s, const char *sql, int n, const char *const *vals,
                     const struct store_col *cols, int ncols, struct store_page *page)
{
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run(c, sql, n, vals, &r), rows;

	memset(page, 0, sizeof(*page));
	if (rc != FUOTA_OK)
		goto out;
	rows = PQntuples(r);
	rc = store_rows_json(r, cols, ncols, &page->items);
	if (rc != FUOTA_OK)
		goto out;
	page->count = (size_t)rows;
	/* The first column is the key the list is ordered by: the next page starts after it. */
	if (rows > 0 && strlen(PQgetvalue(r, rows - 1, 0)) < sizeof(page->last))
		memcpy(page->last, PQgetvalue(r, rows - 1, 0),
		       strlen(PQgetvalue(r, rows - 1, 0)) + 1);
out:
	PQclear(r);
	rc = store_release_rc(s, c, rc);
	return rc;
}
