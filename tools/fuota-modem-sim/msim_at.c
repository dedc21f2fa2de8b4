/* Reader of AT command lines; see msim_at.h. */
#include "msim_at.h"

#include <ctype.h>
#include <string.h>

int msim_at_begin(const char *line, size_t len, size_t *cursor)
{
	if (len < 2 || toupper((unsigned char)line[0]) != 'A' ||
	    toupper((unsigned char)line[1]) != 'T')
		return -1;
	*cursor = 2;
	return 0;
}

/* The name of an extended command: '+' then letters and digits. */
static size_t ext_name_len(const char *s, size_t n)
{
	size_t i = 1;

	while (i < n && isalnum((unsigned char)s[i]))
		i++;
	return i;
}

/* Splits s[0..n) (the text after '=') into parameters at commas outside quotes. */
static int split_params(const char *s, size_t n, struct msim_cmd *c)
{
	size_t i = 0;

	for (;;) {
		struct msim_at_param *p;
		size_t start = i;
		bool quoted = false;

		if (c->nparam >= MSIM_AT_PARAMS)
			return -1;
		if (i < n && s[i] == '"') {
			quoted = true;
			i++;
			start = i;
			while (i < n && s[i] != '"')
				i += s[i] == '\\' && i + 1 < n ? 2
				                               : 1; /* \" inside (+ULWM2MWRITE) */
			if (i >= n)
				return -1; /* unterminated string */
		} else {
			while (i < n && s[i] != ',')
				i++;
		}
		p = &c->param[c->nparam++];
		p->p = s + start;
		p->len = i - start;
		p->quoted = quoted;
		if (quoted) {
			i++; /* the closing quote */
			if (i < n && s[i] != ',')
				return -1; /* text after a closing quote */
		}
		if (i >= n)
			return 0;
		i++; /* the comma */
	}
}

/* The end of this command: the first ';' outside quotes, or the end of the line. */
static size_t command_end(const char *line, size_t len, size_t from)
{
	bool in_quotes = false;

	for (size_t i = from; i < len; i++) {
		if (line[i] == '\\' && in_quotes)
			i++; /* an escaped character */
		else if (line[i] == '"')
			in_quotes = !in_quotes;
		else if (line[i] == ';' && !in_quotes)
			return i;
	}
	return len;
}

static int set_name(struct msim_cmd *c, const char *s, size_t n)
{
	if (n >= sizeof(c->name))
		return -1;
	for (size_t i = 0; i < n; i++)
		c->name[i] = (char)toupper((unsigned char)s[i]);
	c->name[n] = '\0';
	return 0;
}

/* A basic command: a letter (or '&' and a letter) and an optional number, e.g. E0, I9, &W. */
static int parse_basic(const char *s, size_t n, struct msim_cmd *c)
{
	size_t nl = (s[0] == '&') ? 2 : 1;

	if (n < nl || !isalpha((unsigned char)s[nl - 1]) || set_name(c, s, nl) != 0)
		return -1;
	if (nl < n && s[nl] == '?') {
		c->kind = MSIM_AT_READ;
		return nl + 1 == n ? 0 : -1;
	}
	for (size_t i = nl; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	if (nl < n) {
		c->param[0].p = s + nl;
		c->param[0].len = n - nl;
		c->param[0].quoted = false;
		c->nparam = 1;
	}
	return 0;
}

static int parse_one(const char *s, size_t n, struct msim_cmd *c)
{
	size_t nl;

	if (s[0] != '+')
		return parse_basic(s, n, c);
	nl = ext_name_len(s, n);
	if (nl < 2 || set_name(c, s, nl) != 0)
		return -1;
	if (nl == n)
		return 0;
	if (s[nl] == '?') {
		c->kind = MSIM_AT_READ;
		return nl + 1 == n ? 0 : -1;
	}
	if (s[nl] != '=')
		return -1;
	if (nl + 2 == n && s[nl + 1] == '?') {
		c->kind = MSIM_AT_TEST;
		return 0;
	}
	c->kind = MSIM_AT_SET;
	return split_params(s + nl + 1, n - nl - 1, c);
}

int msim_at_next(const char *line, size_t len, size_t *cursor, struct msim_cmd *c)
{
	size_t from = *cursor, end;

	memset(c, 0, sizeof(*c));
	if (from > len)
		return 0; /* the last command was read */
	if (from == len) {
		/* a bare "AT" is the command "" once; after a ';' the line simply ends */
		if (from == 2) {
			*cursor = len + 1;
			return 1;
		}
		return 0;
	}
	end = command_end(line, len, from);
	*cursor = end < len ? end + 1 : len;
	if (end == from)
		return -1; /* an empty command between ';' */
	if (parse_one(line + from, end - from, c) != 0)
		return -1;
	if (*cursor == len && end == len)
		*cursor = len + 1;
	return 1;
}

bool msim_at_has(const struct msim_cmd *c, int i)
{
	return i >= 0 && i < c->nparam && (c->param[i].len > 0 || c->param[i].quoted);
}

int msim_at_int(const struct msim_cmd *c, int i, long lo, long hi, long *v)
{
	long x = 0;
	size_t k = 0;
	bool neg = false;
	const struct msim_at_param *p;

	if (i < 0 || i >= c->nparam)
		return -1;
	p = &c->param[i];
	if (p->quoted || p->len == 0 || p->len > 12)
		return -1;
	if (p->p[0] == '-') {
		neg = true;
		k = 1;
	}
	if (k == p->len)
		return -1;
	for (; k < p->len; k++) {
		if (!isdigit((unsigned char)p->p[k]))
			return -1;
		x = x * 10 + (p->p[k] - '0');
	}
	x = neg ? -x : x;
	if (x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

int msim_at_str(const struct msim_cmd *c, int i, char *buf, size_t len)
{
	const struct msim_at_param *p;

	if (i < 0 || i >= c->nparam || len == 0)
		return -1;
	p = &c->param[i];
	if (p->len >= len)
		return -1;
	memcpy(buf, p->p, p->len);
	buf[p->len] = '\0';
	return 0;
}
