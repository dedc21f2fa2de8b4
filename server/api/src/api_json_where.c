/* Where in a JSON body the decoder stopped (api_json_where in api_decode.h): a walk of the body
 * up to jansson's error position that keeps the keys of the objects it is inside. It only reads
 * what jansson read before it: a valid prefix of JSON, up to the error. */
#include "fuota/api_decode.h"

#include <stdio.h>
#include <string.h>

#define WHERE_DEPTH_MAX 4096 /* past jansson's 2048 */
#define WHERE_NAMED     8    /* levels whose key or index is kept for the path */

enum where_state { W_VALUE, W_KEY, W_COLON, W_AFTER };

struct where {
	const char *s;
	size_t end; /* the error position, at most the body's length */
	size_t i, depth, last_end;
	enum where_state st;
	bool first;     /* just after '{' or '[': the container may close at once */
	bool in_token;  /* stopped inside a string or a scalar */
	bool token_key; /* ... and that token is a key */
	uint8_t is_obj[WHERE_DEPTH_MAX / 8];
	size_t key_at[WHERE_NAMED], key_len[WHERE_NAMED], index[WHERE_NAMED];
};

static bool obj_at(const struct where *w, size_t d)
{
	return w->is_obj[d / 8] & (1u << (d % 8));
}

/* Skips a string token from its opening quote; false when it runs past the end. */
static bool skip_string(struct where *w)
{
	for (w->i++; w->i < w->end; w->i++) {
		if (w->s[w->i] == '\\')
			w->i++;
		else if (w->s[w->i] == '"')
			break;
	}
	if (w->i >= w->end)
		return false;
	w->i++;
	return true;
}

static bool scalar_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '+' || c == '.';
}

static bool push(struct where *w, bool obj)
{
	if (w->depth == WHERE_DEPTH_MAX)
		return false;
	if (obj)
		w->is_obj[w->depth / 8] |= (uint8_t)(1u << (w->depth % 8));
	else
		w->is_obj[w->depth / 8] &= (uint8_t) ~(1u << (w->depth % 8));
	if (w->depth < WHERE_NAMED)
		w->index[w->depth] = 0;
	w->depth++;
	w->st = obj ? W_KEY : W_VALUE;
	w->first = true;
	return true;
}

/* One value from s[i]: a container is entered, a scalar is skipped. False: stop here. */
static bool value(struct where *w)
{
	char c = w->s[w->i];

	if (c == '{' || c == '[') {
		w->i++;
		return push(w, c == '{');
	}
	if (c == '"') {
		if (!skip_string(w)) {
			w->in_token = true;
			return false;
		}
	} else if (scalar_char(c)) {
		while (w->i < w->end && scalar_char(w->s[w->i]))
			w->i++;
		if (w->i == w->end) {
			w->in_token = true;
			return false;
		}
	} else {
		return false;
	}
	w->st = W_AFTER;
	w->last_end = w->i;
	return true;
}

/* One step from s[i] (not blank) in state st. False: stop here. */
static bool step(struct where *w)
{
	char c = w->s[w->i];
	bool obj = w->depth && obj_at(w, w->depth - 1);

	if ((c == '}' || c == ']') && (w->st == W_AFTER || (w->first && w->st != W_COLON)) &&
	    w->depth && obj == (c == '}')) {
		w->depth--;
		w->i++;
		w->st = W_AFTER;
		w->first = false;
		w->last_end = w->i;
		return true;
	}
	switch (w->st) {
	case W_VALUE: w->first = false; return value(w);
	case W_KEY:
		if (c != '"')
			return false;
		if (w->depth <= WHERE_NAMED)
			w->key_at[w->depth - 1] = w->i;
		if (!skip_string(w)) {
			w->in_token = w->token_key = true;
			return false;
		}
		if (w->depth <= WHERE_NAMED)
			w->key_len[w->depth - 1] = w->i - w->key_at[w->depth - 1];
		w->st = W_COLON;
		w->first = false;
		return true;
	case W_COLON:
		if (c != ':')
			return false;
		w->i++;
		w->st = W_VALUE;
		return true;
	case W_AFTER:
		if (c != ',' || !w->depth)
			return false;
		w->i++;
		if (!obj && w->depth <= WHERE_NAMED)
			w->index[w->depth - 1]++;
		w->st = obj ? W_KEY : W_VALUE;
		return true;
	}
	return false;
}

/* Appends level d's name to the field ("a.b") and to the path ("a.b[2]"). */
static void name_level(const struct where *w, size_t d, char *field, size_t fcap, char *path,
                       size_t pcap)
{
	char name[64];
	json_t *k;

	if (d >= WHERE_NAMED)
		return;
	if (!obj_at(w, d)) {
		size_t n = strlen(path);

		snprintf(path + n, pcap - n, "[%zu]", w->index[d]);
		return;
	}
	k = json_loadb(w->s + w->key_at[d], w->key_len[d], JSON_DECODE_ANY, NULL);

	if (json_is_string(k))
		snprintf(name, sizeof(name), "%s", json_string_value(k));
	else /* a key jansson read but will not give back (it holds \u0000): its raw bytes */
		snprintf(name, sizeof(name), "%.*s", (int)(w->key_len[d] - 2),
		         w->s + w->key_at[d] + 1);
	json_decref(k);
	for (char *out = field; out; out = out == field ? path : NULL) {
		size_t n = strlen(out), cap = out == field ? fcap : pcap;

		snprintf(out + n, cap - n, "%s%s", n ? "." : "", name);
	}
}

void api_json_where(const char *body, size_t len, size_t pos, char *field, size_t fcap, char *path,
                    size_t pcap)
{
	struct where w;
	bool at_value;

	memset(&w, 0, sizeof(w));
	w.s = body;
	w.end = pos < len ? pos : len;
	w.st = W_VALUE;
	field[0] = path[0] = 0;
	while (w.i < w.end) {
		char c = body[w.i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			w.i++;
			continue;
		}
		if (!step(&w))
			break;
	}
	if (w.depth == 0)
		return; /* the top level: no field */
	/* At the innermost level the error is in the member's value when one was expected or is
	 * being read, or when jansson stopped right at the end of the value it just read (a too big
	 * number, a string holding \u0000). */
	at_value = (w.in_token && !w.token_key) || (!w.in_token && w.st == W_VALUE) ||
	           (w.st == W_AFTER && w.last_end == w.end && w.i == w.end);
	/* ... or in the key it just read (a duplicate key): that key is named. */
	at_value = at_value || (!w.in_token && w.st == W_COLON && w.i == w.end);
	for (size_t d = 0; d + 1 < w.depth; d++)
		name_level(&w, d, field, fcap, path, pcap);
	if (at_value)
		name_level(&w, w.depth - 1, field, fcap, path, pcap);
}
