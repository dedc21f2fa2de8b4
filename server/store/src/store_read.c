/* Statements and their results as C values, for the store_*.c files that read rows into structs
 * (store_int.h). */
#include <stdlib.h>

#include "fuota/err.h"
#include "store_int.h"

int store_run(PGconn *c, const char *sql, int n, const char *const *vals, PGresult **res)
{
	return store_run_ex(c, sql, n, vals, NULL, NULL, NULL, res);
}

int store_query_i64(struct store *s, const char *sql, int n, const char *const *vals, int none_rc,
                    int64_t *v)
{
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run(c, sql, n, vals, &r);

	if (rc == FUOTA_OK) {
		if (PQntuples(r) > 0)
			*v = store_get_i64(r, 0, 0);
		else
			rc = none_rc;
	}
	PQclear(r);
	rc = store_release_rc(s, c, rc);
	return rc;
}

int64_t store_get_i64(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int store_read_rows(struct store *s, const char *sql, int n, const char *const *vals,
                    void (*read)(const PGresult *r, int row, void *item), void *out, size_t size,
                    size_t max, size_t *n_read)
{
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run(c, sql, n, vals, &r);

	*n_read = 0;
	for (int i = 0; rc == FUOTA_OK && i < PQntuples(r) && *n_read < max; i++)
		read(r, i, (char *)out + (*n_read)++ * size);
	PQclear(r);
	rc = store_release_rc(s, c, rc);
	return rc;
}
