/* The AT line reader (at_rx.h): framing, prompts and binary fields, byte by byte. */
#include "fuota/at_rx.h"

#include <stdlib.h>
#include <string.h>

enum { FINAL_NONE, FINAL_OK, FINAL_ERROR, FINAL_CME, FINAL_CMS, FINAL_ABORTED };

static void line_reset(struct at_rx *rx)
{
	rx->len = 0;
	rx->done = false;
	rx->cut = false;
	rx->in_quote = false;
	rx->commas = 0;
	rx->field_start = 0;
	rx->prev_field_start = 0;
	rx->bin_left = 0;
	rx->in_bin = false;
	rx->bin_close = false;
}

void at_rx_init(struct at_rx *rx, uint8_t *buf, size_t cap)
{
	memset(rx, 0, sizeof(*rx));
	rx->buf = buf;
	rx->cap = cap;
}

void at_rx_expect_prompt(struct at_rx *rx, char prompt)
{
	rx->prompt = prompt;
}

void at_rx_expect_binary(struct at_rx *rx, const char *prefix, unsigned len_field)
{
	rx->bin_prefix = prefix;
	rx->bin_field = len_field;
}

static void put(struct at_rx *rx, uint8_t b)
{
	if (rx->len + 1 < rx->cap)
		rx->buf[rx->len++] = b;
	else
		rx->cut = true;
}

/* The length field of a binary field: the field before the quote that opens at len - 1. */
static bool bin_length(const struct at_rx *rx, size_t *n)
{
	size_t plen = strlen(rx->bin_prefix), i, v = 0;
	size_t end = rx->field_start - 1; /* the comma */

	if (rx->cut || rx->len < plen || memcmp(rx->buf, rx->bin_prefix, plen) != 0)
		return false;
	i = rx->prev_field_start;
	while (i < end && rx->buf[i] == ' ')
		i++;
	if (i == end)
		return false;
	for (; i < end; i++) {
		if (rx->buf[i] < '0' || rx->buf[i] > '9' || v > 100000000u)
			return false;
		v = v * 10u + (size_t)(rx->buf[i] - '0');
	}
	*n = v;
	return true;
}

static void scan(struct at_rx *rx, uint8_t b)
{
	size_t n = 0;

	if (b == ',' && !rx->in_quote) {
		rx->commas++;
		rx->prev_field_start = rx->field_start;
		rx->field_start = rx->len;
		return;
	}
	if (b != '"')
		return;
	if (!rx->in_quote && rx->bin_prefix && rx->commas == rx->bin_field + 1 &&
	    rx->field_start + 1 == rx->len && bin_length(rx, &n)) {
		rx->bin_left = n;
		rx->in_bin = n > 0;
		rx->bin_close = n == 0;
		return;
	}
	rx->in_quote = !rx->in_quote;
}

enum at_rx_event at_rx_feed(struct at_rx *rx, uint8_t b)
{
	if (rx->done)
		line_reset(rx);
	if (rx->in_bin) {
		put(rx, b);
		rx->in_bin = --rx->bin_left > 0;
		rx->bin_close = !rx->in_bin;
		return AT_RX_NONE;
	}
	if (rx->bin_close) {
		rx->bin_close = false;
		if (b == '"') {
			put(rx, b);
			return AT_RX_NONE;
		}
	}
	if (b == '\r' || b == '\n') {
		if (rx->len == 0 && !rx->cut)
			return AT_RX_NONE;
		rx->buf[rx->len] = 0;
		rx->done = true;
		rx->term = b;
		return rx->cut ? AT_RX_OVERFLOW : AT_RX_LINE;
	}
	if (rx->len == 0 && !rx->cut) {
		if (rx->prompt && b == (uint8_t)rx->prompt)
			return AT_RX_PROMPT;
		if (b == ' ')
			return AT_RX_NONE; /* "> " and stray blanks between lines */
	}
	put(rx, b);
	if (!rx->cut)
		scan(rx, b);
	return AT_RX_NONE;
}

const char *at_rx_line(const struct at_rx *rx, size_t *len)
{
	*len = rx->len;
	return (const char *)rx->buf;
}

bool at_rx_busy(const struct at_rx *rx)
{
	return !rx->done && (rx->len > 0 || rx->cut || rx->in_bin || rx->bin_close);
}

static void copy_text(const char *src, char *text, size_t cap)
{
	size_t n = strlen(src);

	if (cap == 0)
		return;
	if (n >= cap)
		n = cap - 1;
	memcpy(text, src, n);
	text[n] = 0;
}

static int error_code(const char *t)
{
	long v = 0;
	const char *p = t;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > 1000000)
			return -1;
	}
	return *p == 0 ? (int)v : -1;
}

bool at_final_parse(const char *line, int *final, int *code, char *text, size_t cap)
{
	static const struct {
		const char *prefix;
		int final;
	} errs[] = {{"+CME ERROR:", FINAL_CME}, {"+CMS ERROR:", FINAL_CMS}};
	size_t i;

	*code = -1;
	copy_text("", text, cap);
	if (strcmp(line, "OK") == 0 || strcmp(line, "ERROR") == 0 || strcmp(line, "ABORTED") == 0) {
		*final = line[0] == 'O' ? FINAL_OK : line[0] == 'E' ? FINAL_ERROR : FINAL_ABORTED;
		return true;
	}
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		size_t n = strlen(errs[i].prefix);
		const char *t = line + n;

		if (strncmp(line, errs[i].prefix, n) != 0)
			continue;
		while (*t == ' ')
			t++;
		*final = errs[i].final;
		*code = error_code(t);
		copy_text(t, text, cap);
		return true;
	}
	*final = FINAL_NONE;
	return false;
}
