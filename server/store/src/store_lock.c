/* A process-wide named lock in PostgreSQL (see fuota/store_lock.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/store_lock.h"
#include "store_int.h"

/* pg_try_advisory_lock(key1, key2): key1 'fuot' keeps clear of the migrations' lock; key2 is
 * the name's hash (two names with one hash only make the second one fall back). */
#define LOCK_SQL "SELECT pg_try_advisory_lock(" STORE_LOCK_KEY1 ", hashtext($1))"

struct store_lock {
	PGconn *conn;
	char *dsn, *name;
	int pid; /* the server process of conn, 0 when there is none */
};

/* Connects (l->conn NULL before) and tries the lock. */
static int take(struct store_lock *l, char *err, size_t errlen)
{
	const char *vals[1] = {l->name};
	PGresult *r;
	int rc;

	l->conn = store_connect(l->dsn, "fuotad-instance-lock");
	if (PQstatus(l->conn) != CONNECTION_OK) {
		if (err)
			snprintf(err, errlen, "instance lock: %s", PQerrorMessage(l->conn));
		PQfinish(l->conn);
		l->conn = NULL;
		return FUOTA_ERR_IO;
	}
	r = PQexecParams(l->conn, LOCK_SQL, 1, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		if (err)
			snprintf(err, errlen, "instance lock: %s", PQerrorMessage(l->conn));
		rc = FUOTA_ERR_IO;
	} else {
		rc = PQgetvalue(r, 0, 0)[0] == 't' ? FUOTA_OK : FUOTA_ERR_CONFLICT;
	}
	PQclear(r);
	if (rc != FUOTA_OK) {
		PQfinish(l->conn);
		l->conn = NULL;
	}
	l->pid = l->conn ? PQbackendPID(l->conn) : 0;
	return rc;
}

int store_lock_take(const char *dsn, const char *name, struct store_lock **out, char *err,
                    size_t errlen)
{
	struct store_lock *l;
	int rc;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return FUOTA_ERR_NO_MEMORY;
	l->dsn = strdup(dsn);
	l->name = strdup(name);
	rc = l->dsn && l->name ? take(l, err, errlen) : FUOTA_ERR_NO_MEMORY;
	if (rc != FUOTA_OK) {
		store_lock_free(l);
		return rc;
	}
	*out = l;
	return FUOTA_OK;
}

int store_lock_check(struct store_lock *l)
{
	PGresult *r;
	int rc;

	if (!l)
		return FUOTA_ERR_INVALID_ARG;
	if (l->conn) {
		/* A round trip: a connection the server dropped shows only when used. */
		r = PQexec(l->conn, "SELECT 1");
		rc = PQresultStatus(r) == PGRES_TUPLES_OK ? FUOTA_OK : FUOTA_ERR_IO;
		PQclear(r);
		if (rc == FUOTA_OK)
			return FUOTA_OK;
		PQfinish(l->conn);
		l->conn = NULL;
		l->pid = 0;
	}
	rc = take(l, NULL, 0);
	if (rc == FUOTA_OK)
		log_msg(LOG_LVL_INFO, "instance lock %s: taken again after the database came back",
		        l->name);
	return rc;
}

int store_lock_pid(const struct store_lock *l)
{
	return l ? l->pid : 0;
}

void store_lock_free(struct store_lock *l)
{
	if (!l)
		return;
	PQfinish(l->conn);
	free(l->dsn);
	free(l->name);
	free(l);
}

PGconn *store_lock_conn(const struct store_lock *l)
{
	return l ? l->conn : NULL;
}
