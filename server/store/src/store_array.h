/* The text of a PostgreSQL array literal, "{...}", for an array parameter ($1::text[],
 * $2::bigint[]), built element by element in a buffer that grows as it must. The one way the
 * store writes such a literal: it never cuts one short. Errors are sticky: after the first, the
 * appends do nothing and store_array_end reports it. No libpq here (unit-tested alone). */
#ifndef FUOTA_STORE_ARRAY_H
#define FUOTA_STORE_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "fuota/store_attr.h"

/* The longest literal the store builds: PostgreSQL refuses a parameter of 1 GiB or more. */
#define STORE_ARRAY_MAX ((size_t)1 << 30)

struct store_array {
	char *text; /* malloc'd, NUL-terminated once anything is appended */
	size_t len, cap;
	size_t max; /* the longest literal accepted (strlen) */
	size_t n;   /* elements appended */
	int rc;     /* FUOTA_OK or the first error */
};

/* An empty array whose literal may grow to max_len characters (STORE_ARRAY_MAX as a rule). */
void store_array_init(struct store_array *a, size_t max_len);
/* Appends s as one element, double-quoted with '"' and '\' escaped, so that any text (commas,
 * braces, spaces, "NULL") is one element; s NULL appends SQL NULL. */
void store_array_text(struct store_array *a, const char *s);
/* Appends v in decimal (for integer[] and bigint[] parameters). */
void store_array_i64(struct store_array *a, int64_t v);
/* Closes the literal. FUOTA_OK: *out = the malloc'd literal (free() it). Else the first error,
 * FUOTA_ERR_NO_SPACE (longer than max_len) or FUOTA_ERR_NO_MEMORY, and *out = NULL. Either way
 * a holds nothing afterwards. */
STORE_MUST_CHECK int store_array_end(struct store_array *a, char **out);

/* The text[] literal of n DevEUIs, each checked to be 16 lowercase hex digits (they go into a
 * statement's parameter as the API decoded them). FUOTA_OK: *out malloc'd; FUOTA_ERR_INVALID_ARG
 * (a malformed DevEUI) or store_array_end's error: *out = NULL. */
STORE_MUST_CHECK int store_array_dev_euis(const char (*dev_euis)[17], size_t n, char **out);

#endif
