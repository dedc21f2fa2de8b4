/* The connection pool, query helpers and migrations. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "store_int.h"

/* pg_advisory_lock key of the migration step: "fuotamig" in ASCII. */
#define MIGRATION_LOCK_KEY "7382127951234498407"

struct store {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	unsigned size;
	unsigned nfree;
	PGconn **all;
	PGconn **free_list;
};

static void notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	log_msg(LOG_LVL_DEBUG, "postgres: %s", msg);
}

/* Settings of every session, again after a reconnection: timestamps in UTC and in the ISO style
 * (the JSON the store returns, store_rows.c's conversion), text in UTF-8. */
static void session_setup(PGconn *c)
{
	PQsetNoticeProcessor(c, notice_quiet, NULL);
	PQclear(PQexec(c, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
	                  "SET client_encoding = 'UTF8'"));
}

int store_open(const char *dsn, unsigned pool_size, struct store **out, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s || pool_size == 0)
		goto nomem;
	s->all = calloc(pool_size, sizeof(PGconn *));
	s->free_list = calloc(pool_size, sizeof(PGconn *));
	if (!s->all || !s->free_list)
		goto nomem;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->freed, NULL);
	s->size = pool_size;
	for (unsigned i = 0; i < pool_size; i++) {
		PGconn *c = PQconnectdb(dsn);

		s->all[i] = c;
		if (!c || PQstatus(c) != CONNECTION_OK) {
			/* libpq's message names host and port, never the password. */
			snprintf(err, errlen, "database: %s",
			         c ? PQerrorMessage(c) : "out of memory");
			err[strcspn(err, "\n")] = 0;
			store_close(s);
			return FUOTA_ERR_IO;
		}
		session_setup(c);
		s->free_list[s->nfree++] = c;
	}
	*out = s;
	return FUOTA_OK;
nomem:
	if (s) {
		free(s->all);
		free(s->free_list);
		free(s);
	}
	snprintf(err, errlen, "out of memory");
	return FUOTA_ERR_NO_MEMORY;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->size; i++)
		if (s->all[i])
			PQfinish(s->all[i]);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->freed);
	free(s->all);
	free(s->free_list);
	free(s);
}

PGconn *store_acquire(struct store *s)
{
	PGconn *c;

	pthread_mutex_lock(&s->lock);
	while (s->nfree == 0)
		pthread_cond_wait(&s->freed, &s->lock);
	c = s->free_list[--s->nfree];
	pthread_mutex_unlock(&s->lock);
	return c;
}

void store_release(struct store *s, PGconn *c)
{
	if (PQstatus(c) != CONNECTION_OK) {
		log_msg(LOG_LVL_WARN, "database connection lost, reconnecting");
		PQreset(c);
		if (PQstatus(c) == CONNECTION_OK)
			session_setup(c);
	} else if (PQtransactionStatus(c) != PQTRANS_IDLE) {
		PQclear(PQexec(c, "ROLLBACK"));
	}
	pthread_mutex_lock(&s->lock);
	s->free_list[s->nfree++] = c;
	pthread_cond_signal(&s->freed);
	pthread_mutex_unlock(&s->lock);
}

PGresult *store_exec_bin(PGconn *c, const char *sql, int n, const char *const *vals,
                         const int *lens, const int *fmts, char *sqlstate)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, vals, lens, fmts, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	const char *code;

	if (sqlstate)
		sqlstate[0] = 0;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (sqlstate && code)
		snprintf(sqlstate, 6, "%s", code);
	/* Constraint violations are the caller's to explain; anything else is ours. */
	if (!code ||
	    (strcmp(code, STORE_SQLSTATE_UNIQUE) != 0 && strcmp(code, STORE_SQLSTATE_FK) != 0))
		log_msg(LOG_LVL_ERROR, "database: %s",
		        r ? PQresultErrorMessage(r) : PQerrorMessage(c));
	PQclear(r);
	return NULL;
}

PGresult *store_exec(PGconn *c, const char *sql, int n, const char *const *vals, char *sqlstate)
{
	return store_exec_bin(c, sql, n, vals, NULL, NULL, sqlstate);
}

int store_json(struct store *s, const char *sql, int n, const char *const *vals, char **json)
{
	PGconn *c = store_acquire(s);
	PGresult *r = store_exec(c, sql, n, vals, NULL);
	int rc = FUOTA_ERR_IO;

	*json = NULL;
	if (!r)
		goto out;
	rc = FUOTA_ERR_NOT_FOUND;
	if (PQntuples(r) < 1 || PQgetisnull(r, 0, 0))
		goto out;
	*json = strdup(PQgetvalue(r, 0, 0));
	rc = *json ? FUOTA_OK : FUOTA_ERR_NO_MEMORY;
out:
	PQclear(r);
	store_release(s, c);
	return rc;
}

int store_command(struct store *s, const char *sql, int n, const char *const *vals, long *rows)
{
	PGconn *c = store_acquire(s);
	PGresult *r = store_exec(c, sql, n, vals, NULL);
	int rc = FUOTA_ERR_IO;

	if (r) {
		*rows = strtol(PQcmdTuples(r), NULL, 10);
		rc = FUOTA_OK;
	}
	PQclear(r);
	store_release(s, c);
	return rc;
}

const char *store_i64(char *buf, int64_t v)
{
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

static int exec_simple(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		log_msg(LOG_LVL_ERROR, "database: %s", PQresultErrorMessage(r));
	PQclear(r);
	return ok ? FUOTA_OK : FUOTA_ERR_IO;
}

/* Applies one migration in a transaction and records it. */
static int apply_one(PGconn *c, const struct embedded_migration *m)
{
	char ver[24];
	const char *vals[2] = {store_i64(ver, m->version), m->name};
	PGresult *r;

	if (exec_simple(c, "BEGIN") != FUOTA_OK)
		return FUOTA_ERR_IO;
	if (exec_simple(c, m->sql) != FUOTA_OK)
		goto fail;
	r = store_exec(c, "INSERT INTO schema_version (version, name) VALUES ($1, $2)", 2, vals,
	               NULL);
	if (!r)
		goto fail;
	PQclear(r);
	if (exec_simple(c, "COMMIT") != FUOTA_OK)
		goto fail;
	log_msg(LOG_LVL_INFO, "database: applied migration %s", m->name);
	return FUOTA_OK;
fail:
	exec_simple(c, "ROLLBACK");
	log_msg(LOG_LVL_ERROR, "database: migration %s failed", m->name);
	return FUOTA_ERR_IO;
}

int store_migrate(struct store *s, int *applied)
{
	PGconn *c = store_acquire(s);
	int rc = FUOTA_ERR_IO, count = 0;

	if (exec_simple(c, "SELECT pg_advisory_lock(" MIGRATION_LOCK_KEY ")") != FUOTA_OK)
		goto out;
	/* Created under the lock: two instances starting at once would otherwise both try. */
	if (exec_simple(c, "SET client_min_messages = warning; "
	                   "CREATE TABLE IF NOT EXISTS schema_version ("
	                   "version integer PRIMARY KEY, name text NOT NULL, "
	                   "applied_at timestamptz NOT NULL DEFAULT now())") != FUOTA_OK)
		goto unlock;
	for (const struct embedded_migration *m = embedded_migrations; m->version; m++) {
		char ver[24];
		const char *vals[1] = {store_i64(ver, m->version)};
		PGresult *r = store_exec(c, "SELECT 1 FROM schema_version WHERE version = $1", 1,
		                         vals, NULL);
		int done;

		if (!r)
			goto unlock;
		done = PQntuples(r) > 0;
		PQclear(r);
		if (done)
			continue;
		if (apply_one(c, m) != FUOTA_OK)
			goto unlock;
		count++;
	}
	rc = FUOTA_OK;
unlock:
	exec_simple(c, "SELECT pg_advisory_unlock(" MIGRATION_LOCK_KEY ")");
out:
	store_release(s, c);
	if (applied)
		*applied = count;
	return rc;
}

int store_ready(struct store *s)
{
	char ver[24];
	int last = 0;
	char *json = NULL;
	const char *vals[1];
	int rc;

	for (const struct embedded_migration *m = embedded_migrations; m->version; m++)
		last = m->version;
	vals[0] = store_i64(ver, last);
	rc = store_json(s, "SELECT 'true' FROM schema_version WHERE version = $1", 1, vals, &json);
	free(json);
	return rc;
}
