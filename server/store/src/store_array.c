/* PostgreSQL array literals (store_array.h). */
#include "store_array.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"

void store_array_init(struct store_array *a, size_t max_len)
{
	memset(a, 0, sizeof(*a));
	a->max = max_len;
	a->rc = FUOTA_OK;
}

/* Room for `more` characters and the NUL, within max; sets the sticky error if not. */
static int reserve(struct store_array *a, size_t more)
{
	size_t need, cap;
	char *t;

	if (a->rc != FUOTA_OK)
		return a->rc;
	if (more > a->max || a->len > a->max - more) {
		a->rc = FUOTA_ERR_NO_SPACE;
		return a->rc;
	}
	need = a->len + more + 1;
	if (need <= a->cap)
		return FUOTA_OK;
	cap = a->cap ? a->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	t = realloc(a->text, cap);
	if (!t) {
		a->rc = FUOTA_ERR_NO_MEMORY;
		return a->rc;
	}
	a->text = t;
	a->cap = cap;
	return FUOTA_OK;
}

static void put(struct store_array *a, const char *s, size_t len)
{
	memcpy(a->text + a->len, s, len);
	a->len += len;
	a->text[a->len] = '\0';
}

/* The separator before the next element: '{' before the first, ',' after. */
static void sep(struct store_array *a)
{
	put(a, a->n++ ? "," : "{", 1);
}

void store_array_text(struct store_array *a, const char *s)
{
	size_t len = 0;

	if (!s) {
		if (reserve(a, 5) == FUOTA_OK) {
			sep(a);
			put(a, "NULL", 4);
		}
		return;
	}
	for (const char *p = s; *p; p++)
		len += *p == '"' || *p == '\\' ? 2 : 1;
	if (len > SIZE_MAX - 3 || reserve(a, len + 3) != FUOTA_OK) {
		if (a->rc == FUOTA_OK)
			a->rc = FUOTA_ERR_NO_SPACE;
		return;
	}
	sep(a);
	put(a, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			put(a, "\\", 1);
		put(a, s, 1);
	}
	put(a, "\"", 1);
}

void store_array_i64(struct store_array *a, int64_t v)
{
	char num[24];
	int w = snprintf(num, sizeof(num), "%" PRId64, v);

	if (w < 0 || (size_t)w >= sizeof(num)) {
		a->rc = a->rc == FUOTA_OK ? FUOTA_ERR_NO_SPACE : a->rc;
		return;
	}
	if (reserve(a, (size_t)w + 1) != FUOTA_OK)
		return;
	sep(a);
	put(a, num, (size_t)w);
}

int store_array_end(struct store_array *a, char **out)
{
	int rc;

	*out = NULL;
	if (a->n == 0 && reserve(a, 1) == FUOTA_OK)
		put(a, "{", 1);
	if (reserve(a, 1) == FUOTA_OK)
		put(a, "}", 1);
	rc = a->rc;
	if (rc == FUOTA_OK)
		*out = a->text;
	else
		free(a->text);
	a->text = NULL;
	a->len = a->cap = a->n = 0;
	return rc;
}

int store_array_dev_euis(const char (*dev_euis)[17], size_t n, char **out)
{
	struct store_array a;

	*out = NULL;
	for (size_t i = 0; i < n; i++)
		if (strspn(dev_euis[i], "0123456789abcdef") != 16 || dev_euis[i][16])
			return FUOTA_ERR_INVALID_ARG;
	store_array_init(&a, STORE_ARRAY_MAX);
	for (size_t i = 0; i < n; i++)
		store_array_text(&a, dev_euis[i]);
	return store_array_end(&a, out);
}
