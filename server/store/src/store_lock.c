/* A process-wide named lock in PostgreSQL (see fuota/store_lock.h). */
#include <poll.h>
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
/* The server process holding the lock of $1, if any. */
#define HOLDER_SQL                                                                                \
	"SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "      \
	"AND classid = " STORE_LOCK_KEY1 " AND objid = (hashtext($1)::bigint & 4294967295)::oid " \
	"AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"

struct store_lock {
	PGconn *conn;
	char *dsn, *name;
	int pid;      /* the server process of conn, 0 when there is none */
	int lost_pid; /* the one before, when conn broke */
};

/* A notice on the lock's connection: the server's last word before it closes it. */
static void notice_log(void *arg, const char *msg)
{
	const struct store_lock *l = arg;

	log_msg(LOG_LVL_WARN, "instance lock %s: %.*s", l->name, (int)strcspn(msg, "\n"), msg);
}

static void drop_conn(struct store_lock *l)
{
	PQfinish(l->conn);
	l->conn = NULL;
	if (l->pid)
		l->lost_pid = l->pid;
	l->pid = 0;
}

/* The server process holding the lock now (0: none or unknown). */
static int holder(struct store_lock *l)
{
	const char *vals[1] = {l->name};
	PGresult *r = PQexecParams(l->conn, HOLDER_SQL, 1, NULL, vals, NULL, NULL, 0);
	int pid = 0;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		pid = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return pid;
}

/* Our previous session still holds the lock (a broken network path the server has not noticed
 * yet): it is ended, so that the next try gets the lock. */
static void end_stale(struct store_lock *l, int pid)
{
	char p[24];
	const char *vals[1] = {store_i64(p, pid)};

	log_msg(LOG_LVL_WARN,
	        "instance lock %s: still held by this fuotad's previous database session "
	        "(pid %d): ending it",
	        l->name, pid);
	PQclear(PQexecParams(l->conn, "SELECT pg_terminate_backend($1::int, 2000)", 1, NULL, vals,
	                     NULL, NULL, 0));
}

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
	store_session_setup(l->conn); /* the pool's settings, JIT off among them */
	PQsetNoticeProcessor(l->conn, notice_log, l);
	r = PQexecParams(l->conn, LOCK_SQL, 1, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		if (err)
			snprintf(err, errlen, "instance lock: %s", PQerrorMessage(l->conn));
		rc = FUOTA_ERR_IO;
	} else {
		rc = PQgetvalue(r, 0, 0)[0] == 't' ? FUOTA_OK : FUOTA_ERR_CONFLICT;
	}
	PQclear(r);
	if (rc == FUOTA_ERR_CONFLICT && l->lost_pid && holder(l) == l->lost_pid) {
		end_stale(l, l->lost_pid);
		rc = FUOTA_ERR_IO; /* try again */
	}
	if (rc != FUOTA_OK) {
		PQfinish(l->conn);
		l->conn = NULL;
		return rc;
	}
	l->pid = PQbackendPID(l->conn);
	l->lost_pid = 0;
	return FUOTA_OK;
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

int store_lock_poll(struct store_lock *l, bool round_trip)
{
	PGresult *r;
	bool ok;

	if (!l)
		return FUOTA_ERR_INVALID_ARG;
	if (!l->conn)
		return FUOTA_ERR_IO;
	/* Without a query under way, what the server sends is only its last word (a FATAL
	 * error) and the end of the stream: read while the socket has something, a few reads at
	 * most, until libpq sees the end (one read may stop at the message). */
	ok = PQstatus(l->conn) == CONNECTION_OK;
	for (int i = 0; ok && i < 4; i++) {
		struct pollfd p = {.fd = PQsocket(l->conn), .events = POLLIN};

		if (poll(&p, 1, 0) <= 0)
			break;
		ok = PQconsumeInput(l->conn) && PQstatus(l->conn) == CONNECTION_OK;
		if (ok)
			(void)PQisBusy(l->conn); /* parses it: the notice processor logs it */
	}
	if (ok && round_trip) {
		r = PQexec(l->conn, "SELECT 1");
		ok = PQresultStatus(r) == PGRES_TUPLES_OK;
		PQclear(r);
	}
	if (ok)
		return FUOTA_OK;
	drop_conn(l);
	return FUOTA_ERR_IO;
}

int store_lock_retake(struct store_lock *l)
{
	if (!l)
		return FUOTA_ERR_INVALID_ARG;
	if (l->conn)
		return FUOTA_OK;
	return take(l, NULL, 0);
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
