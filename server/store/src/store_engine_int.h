/* Helpers shared by the engine's SQL files (store_job_engine.c, store_dev_engine.c,
 * store_tx.c): booleans and columns, transactions, steps as text, array literals. Private to
 * the store. */
#ifndef FUOTA_STORE_ENGINE_INT_H
#define FUOTA_STORE_ENGINE_INT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fuota/cbox.h"
#include "fuota/engine_calc.h"
#include "fuota/err.h"
#include "fuota/store_engine.h"
#include "store_array.h"
#include "store_int.h"

#define TS(p) "to_timestamp(" p "::bigint / 1000.0)"

static inline const char *b(bool v)
{
	return v ? "true" : "false";
}

static inline bool get_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

static inline void get_str(const PGresult *r, int row, int col, char *out, size_t cap)
{
	snprintf(out, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* A hex column (encode(x, 'hex')) into out; *len = 0 when NULL or too long. */
static inline void get_hex(const PGresult *r, int row, int col, uint8_t *out, size_t cap,
                           size_t *len)
{
	const char *h = PQgetvalue(r, row, col);
	size_t hl = strlen(h);

	*len = 0;
	if (PQgetisnull(r, row, col) || hl % 2 || hl / 2 > cap)
		return;
	if (cbox_hex_decode(h, hl, out, hl / 2) == FUOTA_OK)
		*len = hl / 2;
}

static inline int begin(PGconn *c)
{
	return store_run(c, "BEGIN", 0, NULL, NULL);
}

static inline int commit(PGconn *c)
{
	return store_run(c, "COMMIT", 0, NULL, NULL);
}

/* Undoes a failed transaction. A ROLLBACK that fails too has been logged, and store_release
 * rolls back or resets the connection before anyone uses it again. */
static inline void rollback(PGconn *c)
{
	if (store_run(c, "ROLLBACK", 0, NULL, NULL) != FUOTA_OK)
		return;
}

/* The job_device.step text of a step, NULL for what is none (ENGINE_STEP_COUNT and above):
 * steps are text at the SQL boundary only. */
static inline const char *step_text(enum engine_step st)
{
	return (unsigned)st < ENGINE_STEP_COUNT ? engine_step_name(st) : NULL;
}

/* A job_device.step text read back; ENGINE_STEP_UNKNOWN when it names no step. */
static inline enum engine_step step_of(const char *text)
{
	enum engine_step st;

	return engine_step_parse(text, &st) == FUOTA_OK ? st : ENGINE_STEP_UNKNOWN;
}

/* Every step's text as a text[] literal, *out malloc'd: what "names no step" is tested
 * against. */
static inline int steps_array(char **out)
{
	struct store_array a;

	store_array_init(&a, STORE_ARRAY_MAX);
	for (unsigned i = 0; i < ENGINE_STEP_COUNT; i++)
		store_array_text(&a, engine_step_name((enum engine_step)i));
	return store_array_end(&a, out);
}

/* The n gateway ids as a text[] literal, *out malloc'd (store_array.h). */
static inline int gw_array(const char (*gws)[SENG_EUI_LEN], size_t n, char **out)
{
	struct store_array a;

	store_array_init(&a, STORE_ARRAY_MAX);
	for (size_t i = 0; i < n; i++)
		store_array_text(&a, gws[i]);
	return store_array_end(&a, out);
}

/* The n downlink ids as a bigint[] literal, *out malloc'd. */
static inline int id_array(const uint32_t *ids, size_t n, char **out)
{
	struct store_array a;

	store_array_init(&a, STORE_ARRAY_MAX);
	for (size_t i = 0; i < n; i++)
		store_array_i64(&a, ids[i]);
	return store_array_end(&a, out);
}

/* store_mc_keep.c: seng_job_start's statements for a job that reuses group
 * st->reuse_group_id, inside its transaction on c; v: START_ENGINE_SQL's parameters ($5..$11
 * the session). FUOTA_ERR_CONFLICT when the group is not the tenant's or a live job uses it. */
int store_mc_reuse_start(PGconn *c, const struct seng_start *st, const char *const *v);

#endif
