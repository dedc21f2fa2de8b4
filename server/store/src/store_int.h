/* Private helpers shared by the store_*.c files. */
#ifndef FUOTA_STORE_INT_H
#define FUOTA_STORE_INT_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/store.h"
#include "fuota/store_engine.h"

/* A job across regions' device_count: its children's, summed (tid: the tenant, parent: the
 * parent job's id, both as text), on c, in the caller's transaction. (store_job.c) */
STORE_MUST_CHECK int store_job_parent_count(PGconn *c, const char *tid, const char *parent);

/* One connection out of the pool, blocking until one is free. Never NULL. */
PGconn *store_acquire(struct store *s);
/* Gives it back; a connection that broke is reset first. */
void store_release(struct store *s, PGconn *c);
/* The same, returning rc, or FUOTA_ERR_UNAVAILABLE for an rc of FUOTA_ERR_IO when c's connection
 * is lost (the error was the outage's, not the statement's): for the functions that answer
 * FUOTA_ERR_IO for any failed step. */
int store_release_rc(struct store *s, PGconn *c, int rc);

/* The one way the store runs a statement: sql with text parameters (NULL entries are SQL NULL).
 * FUOTA_OK with the result in *res (PQclear it; with res NULL it is cleared here),
 * FUOTA_ERR_UNAVAILABLE when the database cannot be reached (connection lost or refused, SQLSTATE
 * class 08, 57P01-57P03: fuota/db_error.h), else FUOTA_ERR_IO after logging the error (*res
 * NULL). (store_read.c) */
STORE_MUST_CHECK int store_run(PGconn *c, const char *sql, int n, const char *const *vals,
                               PGresult **res);
/* The same with explicit lengths and formats (1 = binary) per parameter (NULL: all text), and
 * sqlstate (NULL, or 6 bytes) receiving the SQLSTATE of a failure ("" if none): a unique or
 * foreign-key violation is then not logged, it is the caller's to explain. (store.c) */
STORE_MUST_CHECK int store_run_ex(PGconn *c, const char *sql, int n, const char *const *vals,
                                  const int *lens, const int *fmts, char *sqlstate, PGresult **res);

/* A query returning one row with one text column of JSON: *json = malloc'd copy. NOT_FOUND when
 * no row or a NULL value, IO on a database error. */
STORE_MUST_CHECK int store_json(struct store *s, const char *sql, int n, const char *const *vals,
                                char **json);

/* The same with the parameters and sqlstate of store_run_ex. */
STORE_MUST_CHECK int store_json_ex(struct store *s, const char *sql, int n, const char *const *vals,
                                   const int *lens, const int *fmts, char *sqlstate, char **json);

/* Runs a statement that changes rows; *rows = how many. */
STORE_MUST_CHECK int store_command(struct store *s, const char *sql, int n, const char *const *vals,
                                   long *rows);

/* How a result column becomes a JSON member (store_rows.c). NULL is null whatever the kind. */
enum store_col_kind {
	STORE_COL_INT,  /* integer text, copied */
	STORE_COL_TEXT, /* a JSON string, escaped */
	STORE_COL_BOOL, /* 't' / 'f' */
	STORE_COL_TIME, /* timestamptz, ISO 8601 as to_json() writes it */
	STORE_COL_JSON  /* json / jsonb text, copied */
};
struct store_col {
	const char *key;
	enum store_col_kind kind;
};

/* The rows of r as a JSON array of objects, column k named and typed by cols[k]; *json is
 * malloc'd. IO when r has not ncols columns, NO_MEMORY. */
STORE_MUST_CHECK int store_rows_json(const PGresult *r, const struct store_col *cols, int ncols,
                                     char **json);

/* Runs sql and fills page: the rows as store_rows_json does, their count, and the text of the
 * last row's first column (the list's order key) as the cursor of the next page. */
STORE_MUST_CHECK int store_page_query(struct store *s, const char *sql, int n,
                                      const char *const *vals, const struct store_col *cols,
                                      int ncols, struct store_page *page);

/* Runs sql on a connection of s; its first row's first column is an integer: *v (0 when NULL).
 * none_rc (*v unchanged) when it returns no row; FUOTA_ERR_IO on a database error. */
STORE_MUST_CHECK int store_query_i64(struct store *s, const char *sql, int n,
                                     const char *const *vals, int none_rc, int64_t *v);
/* The integer at row, col of r; 0 when NULL. */
int64_t store_get_i64(const PGresult *r, int row, int col);
/* Runs sql on a connection of s and reads its rows into out, an array of max items of `size`
 * bytes, one row each through read(r, row, item), in order; rows past max are not read. *n_read
 * receives how many were. FUOTA_ERR_IO on a database error (*n_read 0). */
STORE_MUST_CHECK int store_read_rows(struct store *s, const char *sql, int n,
                                     const char *const *vals,
                                     void (*read)(const PGresult *r, int row, void *item),
                                     void *out, size_t size, size_t max, size_t *n_read);

/* A new connection to dsn (PQconnectdbParams: check PQstatus, PQfinish it) with a 5 s connect
 * timeout, TCP keepalives and a TCP user timeout, so that a dead network path is noticed within
 * about 10 s (store_conn.c); a setting the DSN gives itself wins. application_name may be NULL. */
#define STORE_CONNECT_TIMEOUT_S   "5"
#define STORE_TCP_USER_TIMEOUT_MS "9000"
PGconn *store_connect(const char *dsn, const char *application_name);
/* The settings every fuotad session on c needs, run after each connection and reconnection:
 * UTC, ISO dates, UTF-8, no JIT, server notices logged at debug level (store_conn.c). A caller
 * that wants the notices elsewhere sets its own processor after. */
void store_session_setup(PGconn *c);

/* The instance locks' advisory key space (store_lock.c): pg_try_advisory_lock(STORE_LOCK_KEY1,
 * hashtext(name)). A lease fence reads it in pg_locks (store_lease.c). */
#define STORE_LOCK_KEY1 "1718972276"

/* Inside an open transaction on c, before its writes: the lease of job_id is who's, unexpired by
 * the database's clock, fenced (struct seng_lease); the job row is share-locked to the commit so
 * no claim takes the lease meanwhile. FUOTA_OK, FUOTA_ERR_STATE (not ours: write nothing) or
 * FUOTA_ERR_IO. (store_lease.c) */
struct seng_lease;
int store_lease_hold(PGconn *c, int64_t job_id, const struct seng_lease *who);

/* The lock's connection (NULL while it has none), for tests of its settings. */
struct store_lock;
PGconn *store_lock_conn(const struct store_lock *l);

/* Decimal text of v into buf (24 bytes). */
const char *store_i64(char *buf, int64_t v);

/* SQL: {step: devices} of the jobs job_id matches (cond, on job_step_count: e.g. "job_id = k.id"),
 * from the counters of sql/047_job_step_count.sql; steps at 0 left out, '{}' for none. */
#define STORE_STEPS_JSON(cond)                                                                     \
	"(SELECT coalesce(json_object_agg(x.step, x.n ORDER BY x.step), '{}') FROM (SELECT step, " \
	"sum(n)::bigint n FROM job_step_count WHERE " cond " GROUP BY step HAVING sum(n) <> 0) x)"

#define STORE_SQLSTATE_UNIQUE       "23505"
#define STORE_SQLSTATE_FK           "23503"
#define STORE_SQLSTATE_LOCK_TIMEOUT "55P03"
#define STORE_SQLSTATE_DEADLOCK     "40P01"

/* SQL: a page ($3 rows from $4 on, in order of column `order`) of the rows t of `table` (job_id
 * $2, also matching `cond`, written on t) of job $2 and, for a parent job (one job across regions),
 * of its regions' child jobs. Each side reads its rows in index order up to the page's end, so that
 * a job without children pages as fast as with "job_id = $2" alone. */
#define STORE_JOB_AND_CHILDREN(table, order, cond)                                                \
	"SELECT * FROM (SELECT t.* FROM " table " t WHERE t.job_id = $2 AND " cond                \
	" ORDER BY t." order " LIMIT $3::bigint + $4::bigint) a UNION ALL SELECT * FROM (SELECT " \
	"t.* FROM " table " t JOIN job k ON k.id = t.job_id WHERE k.parent_id = $2 AND " cond     \
	" ORDER BY t." order " LIMIT $3::bigint + $4::bigint) b ORDER BY " order                  \
	" LIMIT $3 OFFSET $4"

/* A parent job's state made what its children's derive (job_parent_state), with a state
 * event carrying action (NULL: none) when it changes; the parent row is locked (FOR UPDATE) on
 * c, inside the caller's transaction. A job that is no parent is left alone. out (NULL: not
 * wanted) receives the change, left as it is when there is none.
 * (store_job_regions.c) */
STORE_MUST_CHECK int store_job_parent_sync(PGconn *c, int64_t parent_id, const char *action,
                                           struct seng_parent_change *out);

#endif
