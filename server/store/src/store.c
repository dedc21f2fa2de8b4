/* The connection pool, query helpers and migrations. */
#include <inttypes.h>
#include <libpq-events.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "embedded.h"
#include "fuota/db_error.h"
#include "fuota/clock.h"
#include "fuota/err.h"
#include "fuota/hash.h"
#include "fuota/log.h"
#include "fuota/outage.h"
#include "store_int.h"

/* pg_advisory_lock key of the migration step: "fuotamig" in ASCII. */
#define MIGRATION_LOCK_KEY "7382127951234498407"

/* Statements prepared per connection (parse and plan once): up to this many distinct SQL texts,
 * the rest run unprepared. The store's SQL is a fixed set of literals (about 150 in all). */
#define PREP_MAX 256

/* A batch takes no more items once it has taken this many savepoints. PostgreSQL keeps the ids of
 * up to 64 subtransactions per transaction in shared memory (PGPROC_MAX_CACHED_SUBXIDS); past
 * that, every snapshot of every session looks them up in pg_subtrans while the batch is open.
 * A writing item takes one, or two with a store function's own transaction inside; the room
 * left is for the last item's. */
#define BATCH_SAVEPOINTS 48

/* While the server is unreachable, one line when it is lost, one when it is back, and a summary
 * of the failures between them this often (instead of a line per statement and connection). */
#define DOWN_WARN_EVERY_MS 10000

/* What the store keeps with each libpq connection (PQinstanceData of conn_event): its prepared
 * statements, and its part in a batch (store_batch_begin). */
struct conn_data {
	char *sql[PREP_MAX]; /* the text of statement "fuota_<i>" */
	uint64_t hash[PREP_MAX];
	size_t n_prep;
	bool unnamed;     /* store_set_prepared(off): nothing is prepared */
	bool batch;       /* pinned by a batch */
	bool in_xact;     /* the batch's BEGIN was sent */
	bool item_sp;     /* the current item's savepoint is set */
	bool item_failed; /* a statement of the current item failed: rolled back to its savepoint */
	bool call_sp;     /* a store function's own transaction runs as savepoint fuota_call */
	bool broken;      /* the batch cannot commit */
	unsigned savepoints; /* taken by the batch (each may get a subtransaction id) */
	unsigned depth;      /* store_acquire calls not yet released */
	struct store *store; /* the pool it belongs to (its outage reporting) */
};

struct store {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	unsigned size;
	unsigned nfree;
	PGconn **all;
	PGconn **free_list;
	PGconn *batch; /* pinned by batch_owner between store_batch_begin and _end */
	pthread_t batch_owner;
	struct outage out; /* under lock */
	atomic_bool down;  /* out.down, read without the lock */
	char label[16];    /* "database (label)" in its outage lines */
};

/* The server answered (up) or a connection to it failed (why: libpq's message): logged as lost,
 * still down or back (fuota/outage.h). Returns whether the server is down, in which case the
 * caller leaves out its own line about the failure. s may be NULL (no reporting). */
static bool db_health(struct store *s, bool up, const char *why)
{
	uint64_t n = 0;
	int64_t down_ms = 0;
	enum outage_say say;

	if (!s || (up && !atomic_load(&s->down)))
		return false;
	pthread_mutex_lock(&s->lock);
	say = outage_note(&s->out, up, fuota_mono_ms(), DOWN_WARN_EVERY_MS, &n, &down_ms);
	atomic_store(&s->down, s->out.down);
	pthread_mutex_unlock(&s->lock);
	if (say == OUTAGE_LOST)
		log_msg(LOG_LVL_WARN,
		        "database%s%s%s: connection lost (%.*s); reconnecting, failures summed up "
		        "every %d s until it is back",
		        s->label[0] ? " (" : "", s->label, s->label[0] ? ")" : "",
		        (int)strcspn(why ? why : "", "\n"), why ? why : "",
		        DOWN_WARN_EVERY_MS / 1000);
	else if (say == OUTAGE_STILL)
		log_msg(LOG_LVL_WARN,
		        "database%s%s%s: still unreachable after %lld s (%llu failed statements or "
		        "reconnections since the last line)",
		        s->label[0] ? " (" : "", s->label, s->label[0] ? ")" : "",
		        (long long)(down_ms / 1000), (unsigned long long)n);
	else if (say == OUTAGE_BACK)
		log_msg(LOG_LVL_INFO, "database%s%s%s: connection back after %lld ms",
		        s->label[0] ? " (" : "", s->label, s->label[0] ? ")" : "",
		        (long long)down_ms);
	return !up;
}

/* A statement on c failed: when the connection is gone, the outage is reported (true: the
 * caller's own line is left out). */
static bool conn_failed(PGconn *c, struct store *s)
{
	return PQstatus(c) != CONNECTION_OK && db_health(s, false, PQerrorMessage(c));
}

static void forget_prepared(struct conn_data *d)
{
	for (size_t i = 0; i < d->n_prep; i++)
		free(d->sql[i]);
	d->n_prep = 0;
}

/* libpq's events: the connection's data is made with it, its prepared statements are gone after
 * a reset (a new server session), and it is freed with the connection. */
static int conn_event(PGEventId id, void *info, void *pass)
{
	(void)pass;
	if (id == PGEVT_REGISTER) {
		PGconn *c = ((PGEventRegister *)info)->conn;
		struct conn_data *d = calloc(1, sizeof(*d));

		return d && PQsetInstanceData(c, conn_event, d) ? 1 : 0;
	}
	if (id == PGEVT_CONNRESET) {
		struct conn_data *d = PQinstanceData(((PGEventConnReset *)info)->conn, conn_event);

		if (d)
			forget_prepared(d);
	} else if (id == PGEVT_CONNDESTROY) {
		struct conn_data *d =
		        PQinstanceData(((PGEventConnDestroy *)info)->conn, conn_event);

		if (d) {
			forget_prepared(d);
			free(d);
		}
	}
	return 1;
}

static struct conn_data *conn_data_of(const PGconn *c)
{
	return PQinstanceData(c, conn_event);
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
		PGconn *c = store_connect(dsn, NULL);

		s->all[i] = c;
		if (!c || PQstatus(c) != CONNECTION_OK) {
			/* libpq's message names host and port, never the password. */
			snprintf(err, errlen, "database: %s",
			         c ? PQerrorMessage(c) : "out of memory");
			err[strcspn(err, "\n")] = 0;
			store_close(s);
			return FUOTA_ERR_IO;
		}
		store_session_setup(c);
		/* Without its data a connection still works, unprepared and outside batches. */
		if (!PQregisterEventProc(c, conn_event, "fuota_store", NULL))
			log_msg(LOG_LVL_WARN, "database: statements will not be prepared");
		else if (conn_data_of(c))
			conn_data_of(c)->store = s;
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

bool store_down(struct store *s)
{
	return s && atomic_load(&s->down);
}

void store_set_label(struct store *s, const char *label)
{
	pthread_mutex_lock(&s->lock);
	snprintf(s->label, sizeof(s->label), "%s", label ? label : "");
	pthread_mutex_unlock(&s->lock);
}

void store_set_prepared(struct store *s, bool on)
{
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->size; i++) {
		struct conn_data *d = conn_data_of(s->all[i]);

		if (d)
			d->unnamed = !on;
	}
	pthread_mutex_unlock(&s->lock);
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

static bool ok_result(const PGresult *r)
{
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* The return code of a statement on c that failed with r (may be NULL): db_error_rc. */
static int failed_rc(PGconn *c, const PGresult *r)
{
	return db_error_rc(r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL,
	                   PQstatus(c) == CONNECTION_OK);
}

/* Runs a parameterless statement (several separated by ';' allowed); FUOTA_ERR_IO after logging
 * the error with the statement's start (a migration's is long), FUOTA_ERR_UNAVAILABLE when the
 * database could not be reached. sqlstate (NULL, or 6 bytes): the SQLSTATE of a failure, "" if
 * none. */
static int exec_state(PGconn *c, const char *sql, char *sqlstate)
{
	PGresult *r = PQexec(c, sql);
	int rc = ok_result(r) ? FUOTA_OK : failed_rc(c, r);
	struct conn_data *d = conn_data_of(c);
	const char *st = r && rc != FUOTA_OK ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (sqlstate)
		snprintf(sqlstate, 6, "%s", st ? st : "");
	if (rc != FUOTA_OK && !conn_failed(c, d ? d->store : NULL))
		log_msg(LOG_LVL_ERROR, "database: %.80s: %s", sql,
		        r ? PQresultErrorMessage(r) : PQerrorMessage(c));
	PQclear(r);
	return rc;
}

static int exec_simple(PGconn *c, const char *sql)
{
	return exec_state(c, sql, NULL);
}

/* The batch cannot commit any more: what it did is rolled back at its end, and nothing more runs
 * on its connection (a statement would otherwise commit on its own once its transaction is gone,
 * for an item whose caller is told not to act on it). */
static void batch_break(struct conn_data *d, const char *why)
{
	if (!d->broken && !(d->store && atomic_load(&d->store->down)))
		log_msg(LOG_LVL_ERROR, "database: batch abandoned (%s): none of it is stored", why);
	d->broken = true;
}

/* The batch connection at the start of a store call: the batch's BEGIN and the item's savepoint
 * go out now, with the first call that needs the database (an item without database work
 * costs nothing). The previous item's savepoint is released in the same round trip. */
static void batch_enter(PGconn *c, struct conn_data *d)
{
	if (d->depth++ > 0 || d->item_sp || d->broken)
		return;
	if (exec_simple(c, d->in_xact ? "RELEASE SAVEPOINT fuota_item; SAVEPOINT fuota_item"
	                              : "BEGIN; SAVEPOINT fuota_item") != FUOTA_OK) {
		batch_break(d, "savepoint not taken");
		return;
	}
	d->in_xact = true;
	d->item_sp = true;
	d->savepoints++;
}

/* The end of a store call on the batch connection: a failed statement left the transaction
 * aborted; the item's work is rolled back to its savepoint so that the batch's other items
 * still commit. */
static void batch_leave(PGconn *c, struct conn_data *d)
{
	if (d->depth > 0)
		d->depth--;
	if (d->depth > 0 || d->broken)
		return;
	if (PQstatus(c) != CONNECTION_OK) {
		batch_break(d, "connection lost");
		return;
	}
	/* A function's transaction left without its COMMIT is undone, as its ROLLBACK would. */
	if (d->call_sp && PQtransactionStatus(c) != PQTRANS_INERROR) {
		d->call_sp = false;
		if (exec_simple(c,
		                "ROLLBACK TO SAVEPOINT fuota_call; RELEASE SAVEPOINT fuota_call") !=
		    FUOTA_OK)
			batch_break(d, "inner transaction not undone");
		return;
	}
	d->call_sp = false;
	if (PQtransactionStatus(c) == PQTRANS_INERROR) {
		d->item_failed = true;
		if (!d->item_sp || exec_simple(c, "ROLLBACK TO SAVEPOINT fuota_item") != FUOTA_OK)
			batch_break(d, "failed item not undone");
	}
}

PGconn *store_acquire(struct store *s)
{
	PGconn *c;

	pthread_mutex_lock(&s->lock);
	if (s->batch && pthread_equal(s->batch_owner, pthread_self())) {
		c = s->batch;
		pthread_mutex_unlock(&s->lock);
		batch_enter(c, conn_data_of(c));
		return c;
	}
	while (s->nfree == 0)
		pthread_cond_wait(&s->freed, &s->lock);
	c = s->free_list[--s->nfree];
	pthread_mutex_unlock(&s->lock);
	return c;
}

static void pool_put(struct store *s, PGconn *c)
{
	if (PQstatus(c) != CONNECTION_OK) {
		db_health(s, false, PQerrorMessage(c));
		PQreset(c);
		if (PQstatus(c) == CONNECTION_OK)
			store_session_setup(c);
	} else if (PQtransactionStatus(c) != PQTRANS_IDLE) {
		PQclear(PQexec(c, "ROLLBACK"));
	}
	pthread_mutex_lock(&s->lock);
	s->free_list[s->nfree++] = c;
	pthread_cond_signal(&s->freed);
	pthread_mutex_unlock(&s->lock);
}

int store_release_rc(struct store *s, PGconn *c, int rc)
{
	if (rc == FUOTA_ERR_IO && PQstatus(c) != CONNECTION_OK)
		rc = FUOTA_ERR_UNAVAILABLE;
	store_release(s, c);
	return rc;
}

void store_release(struct store *s, PGconn *c)
{
	struct conn_data *d = conn_data_of(c);

	if (d && d->batch) {
		batch_leave(c, d);
		return;
	}
	pool_put(s, c);
}

int store_batch_begin(struct store *s)
{
	PGconn *c;
	struct conn_data *d;

	pthread_mutex_lock(&s->lock);
	if (s->batch) {
		pthread_mutex_unlock(&s->lock);
		return FUOTA_ERR_STATE;
	}
	pthread_mutex_unlock(&s->lock);
	c = store_acquire(s);
	d = conn_data_of(c);
	if (!d) {
		pool_put(s, c);
		return FUOTA_ERR_NO_MEMORY;
	}
	d->batch = true;
	d->in_xact = d->item_sp = d->item_failed = d->broken = d->call_sp = false;
	d->depth = 0;
	d->savepoints = 0;
	pthread_mutex_lock(&s->lock);
	s->batch = c;
	s->batch_owner = pthread_self();
	pthread_mutex_unlock(&s->lock);
	return FUOTA_OK;
}

/* The batch of the calling thread's store, or NULL. */
static struct conn_data *my_batch(struct store *s, PGconn **c)
{
	struct conn_data *d = NULL;

	pthread_mutex_lock(&s->lock);
	if (s->batch && pthread_equal(s->batch_owner, pthread_self())) {
		*c = s->batch;
		d = conn_data_of(s->batch);
	}
	pthread_mutex_unlock(&s->lock);
	return d;
}

/* The end of an item. One whose statement failed was rolled back to its savepoint then, but its
 * caller may have gone on writing: undone whole now, as its caller does not act on it. */
static void item_close(PGconn *c, struct conn_data *d)
{
	if (d->item_failed && d->item_sp && !d->broken &&
	    exec_simple(c, "ROLLBACK TO SAVEPOINT fuota_item") != FUOTA_OK)
		batch_break(d, "failed item not undone");
}

void store_batch_item(struct store *s)
{
	PGconn *c;
	struct conn_data *d = my_batch(s, &c);

	if (d) {
		item_close(c, d);
		d->item_sp = false;
		d->item_failed = false;
	}
}

bool store_batch_item_failed(struct store *s)
{
	PGconn *c;
	struct conn_data *d = my_batch(s, &c);

	return d && (d->item_failed || d->broken);
}

bool store_batch_more(struct store *s)
{
	PGconn *c;
	struct conn_data *d = my_batch(s, &c);

	return d && !d->broken && d->savepoints < BATCH_SAVEPOINTS;
}

int store_batch_end(struct store *s)
{
	PGconn *c = NULL;
	struct conn_data *d = my_batch(s, &c);
	int rc = FUOTA_OK;

	if (!d)
		return FUOTA_ERR_STATE;
	item_close(c, d);
	if (d->broken)
		rc = FUOTA_ERR_IO;
	else if (d->in_xact) {
		PGresult *r = PQexec(c, "COMMIT");

		/* COMMIT of an aborted transaction answers ROLLBACK, without an error. */
		if (!ok_result(r) || strcmp(PQcmdStatus(r), "COMMIT") != 0) {
			if (!conn_failed(c, s))
				log_msg(LOG_LVL_ERROR, "database: batch not committed: %s",
				        r ? PQresultErrorMessage(r) : PQerrorMessage(c));
			rc = FUOTA_ERR_IO;
		}
		PQclear(r);
	}
	d->batch = d->in_xact = d->item_sp = false;
	d->depth = 0;
	pthread_mutex_lock(&s->lock);
	s->batch = NULL;
	pthread_mutex_unlock(&s->lock);
	pool_put(s, c);
	return rc;
}

/* The name of sql prepared on c ("fuota_<i>" into name), preparing it on first use. Returns
 * false to run it unprepared (prepared statements off, no connection data, the table full), and
 * true with *res set (the error result) when the server refused to prepare it. */
static bool prepared(PGconn *c, const char *sql, int n, char name[24], PGresult **res)
{
	struct conn_data *d = conn_data_of(c);
	uint64_t h;
	size_t i;

	*res = NULL;
	if (!d || d->unnamed || n == 0)
		return false;
	h = fuota_hash_str(sql);
	for (i = 0; i < d->n_prep; i++)
		if (d->hash[i] == h && strcmp(d->sql[i], sql) == 0)
			break;
	snprintf(name, 24, "fuota_%zu", i);
	if (i < d->n_prep)
		return true;
	if (i == PREP_MAX)
		return false;
	d->sql[i] = strdup(sql);
	if (!d->sql[i])
		return false;
	*res = PQprepare(c, name, sql, n, NULL);
	if (!ok_result(*res)) {
		free(d->sql[i]);
		return true; /* the error is the statement's */
	}
	PQclear(*res);
	*res = NULL;
	d->hash[i] = h;
	d->n_prep++;
	return true;
}

/* Runs sql: the result when it succeeded, else NULL after logging the error (a unique or
 * foreign-key violation only into sqlstate, when not NULL: the caller explains it). */
static PGresult *exec_params(PGconn *c, const char *sql, int n, const char *const *vals,
                             const int *lens, const int *fmts, char *sqlstate)
{
	char name[24];
	PGresult *r = NULL;
	ExecStatusType st;
	const char *code;
	struct conn_data *d = conn_data_of(c);

	if (sqlstate)
		sqlstate[0] = 0;
	if (d && d->batch && d->broken)
		return NULL; /* logged once, by batch_break */
	/* Inside a batch, a store function's own transaction is a savepoint of the batch's: its
	 * ROLLBACK undoes its own work, never the batch's (which would leave the rest of the batch
	 * to commit statement by statement). */
	if (d && d->batch && n == 0 && strcmp(sql, "BEGIN") == 0) {
		sql = "SAVEPOINT fuota_call";
		d->call_sp = true;
		d->savepoints++;
	} else if (d && d->batch && n == 0 && strcmp(sql, "COMMIT") == 0) {
		sql = "RELEASE SAVEPOINT fuota_call";
		d->call_sp = false;
	} else if (d && d->batch && n == 0 && strcmp(sql, "ROLLBACK") == 0) {
		/* Two statements: PQexecParams runs one. A failure leaves the transaction aborted,
		 * and the RELEASE fails with it. */
		exec_simple(c, "ROLLBACK TO SAVEPOINT fuota_call");
		sql = "RELEASE SAVEPOINT fuota_call";
		d->call_sp = false;
	}
	if (!prepared(c, sql, n, name, &r))
		r = PQexecParams(c, sql, n, NULL, vals, lens, fmts, 0);
	else if (!r)
		r = PQexecPrepared(c, name, n, vals, lens, fmts, 0);
	st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		db_health(d ? d->store : NULL, true, NULL);
		return r;
	}
	if (conn_failed(c, d ? d->store : NULL)) {
		PQclear(r);
		return NULL;
	}
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

int store_run_ex(PGconn *c, const char *sql, int n, const char *const *vals, const int *lens,
                 const int *fmts, char *sqlstate, PGresult **res)
{
	char state[6];
	PGresult *r = exec_params(c, sql, n, vals, lens, fmts, state);

	if (sqlstate)
		memcpy(sqlstate, state, sizeof(state));
	if (res)
		*res = r;
	else
		PQclear(r);
	/* A lost connection leaves no SQLSTATE (exec_params keeps none then). */
	return r ? FUOTA_OK : db_error_rc(state, PQstatus(c) == CONNECTION_OK);
}

int store_json(struct store *s, const char *sql, int n, const char *const *vals, char **json)
{
	return store_json_ex(s, sql, n, vals, NULL, NULL, NULL, json);
}

int store_json_ex(struct store *s, const char *sql, int n, const char *const *vals, const int *lens,
                  const int *fmts, char *sqlstate, char **json)
{
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run_ex(c, sql, n, vals, lens, fmts, sqlstate, &r);

	*json = NULL;
	if (rc != FUOTA_OK)
		goto out;
	rc = FUOTA_ERR_NOT_FOUND;
	if (PQntuples(r) < 1 || PQgetisnull(r, 0, 0))
		goto out;
	*json = strdup(PQgetvalue(r, 0, 0));
	rc = *json ? FUOTA_OK : FUOTA_ERR_NO_MEMORY;
out:
	PQclear(r);
	return store_release_rc(s, c, rc);
}

int store_command(struct store *s, const char *sql, int n, const char *const *vals, long *rows)
{
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run(c, sql, n, vals, &r);

	if (rc == FUOTA_OK)
		*rows = strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	rc = store_release_rc(s, c, rc);
	return rc;
}

const char *store_i64(char *buf, int64_t v)
{
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

/* The migrations' lock, taken by each of their transactions and held until its end: one that
 * lasted the session (pg_advisory_lock) would be taken and released on different server
 * connections behind PgBouncer in transaction mode, and stay held on one of them. */
#define MIGRATION_LOCK "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")"

/* A migration waits this long for a table's lock, then gives way (SQLSTATE 55P03) and is tried
 * again after MIGRATION_PAUSE_MS, up to MIGRATION_ATTEMPTS times in all. A running fuotad (a
 * rolling upgrade) holds job_device's and job's locks for a transaction at a time; a migration
 * waiting in the queue for one of them would stall every writer queued behind it, and one that
 * takes them in the other order deadlocks with it (40P01, one of the two aborted): a short wait
 * and another try serve both. */
#define MIGRATION_LOCK_TIMEOUT "SET LOCAL lock_timeout = '2s'"
#define MIGRATION_PAUSE_MS     500
#define MIGRATION_ATTEMPTS     20

/* Applies migration m in one transaction and records it, unless another instance did first
 * (*done). sqlstate (6 bytes): the SQLSTATE of the migration's failure, "" if none. */
static int apply_one(PGconn *c, const struct embedded_migration *m, bool *done, char *sqlstate)
{
	char ver[24];
	const char *vals[2] = {store_i64(ver, m->version), m->name};
	PGresult *r;

	*done = false;
	sqlstate[0] = 0;
	if (exec_simple(c, "BEGIN") != FUOTA_OK)
		return FUOTA_ERR_IO;
	/* The lock timeout after the advisory lock: another instance's migrations take their time.
	 */
	if (exec_simple(c, MIGRATION_LOCK) != FUOTA_OK ||
	    exec_simple(c, MIGRATION_LOCK_TIMEOUT) != FUOTA_OK)
		goto fail;
	if (store_run(c, "SELECT 1 FROM schema_version WHERE version = $1", 1, vals, &r) !=
	    FUOTA_OK)
		goto fail;
	*done = PQntuples(r) > 0;
	PQclear(r);
	if (*done)
		return exec_simple(c, "COMMIT");
	if (exec_state(c, m->sql, sqlstate) != FUOTA_OK)
		goto fail;
	if (store_run(c, "INSERT INTO schema_version (version, name) VALUES ($1, $2)", 2, vals,
	              NULL) != FUOTA_OK)
		goto fail;
	if (exec_simple(c, "COMMIT") != FUOTA_OK)
		goto fail;
	log_msg(LOG_LVL_INFO, "database: applied migration %s", m->name);
	return FUOTA_OK;
fail:
	exec_simple(c, "ROLLBACK");
	return FUOTA_ERR_IO;
}

/* apply_one, tried again while m gives way to a lock (lock timeout or deadlock). */
static int apply_retrying(PGconn *c, const struct embedded_migration *m, bool *done)
{
	for (int attempt = 1;; attempt++) {
		char state[6];
		int rc = apply_one(c, m, done, state);

		if (rc == FUOTA_OK)
			return rc;
		if ((strcmp(state, STORE_SQLSTATE_LOCK_TIMEOUT) != 0 &&
		     strcmp(state, STORE_SQLSTATE_DEADLOCK) != 0) ||
		    attempt == MIGRATION_ATTEMPTS) {
			log_msg(LOG_LVL_ERROR, "database: migration %s failed", m->name);
			return rc;
		}
		log_msg(LOG_LVL_WARN,
		        "database: migration %s gave way to a lock another session holds "
		        "(SQLSTATE %s); attempt %d of %d in %d ms",
		        m->name, state, attempt + 1, MIGRATION_ATTEMPTS, MIGRATION_PAUSE_MS);
		struct timespec ts = {0, MIGRATION_PAUSE_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
}

int store_migrate(struct store *s, int *applied)
{
	PGconn *c = store_acquire(s);
	int rc = FUOTA_ERR_IO, count = 0;

	/* Created under the lock: two instances starting at once would otherwise both try. */
	if (exec_simple(c, "BEGIN; " MIGRATION_LOCK "; SET LOCAL client_min_messages = warning; "
	                   "CREATE TABLE IF NOT EXISTS schema_version ("
	                   "version integer PRIMARY KEY, name text NOT NULL, "
	                   "applied_at timestamptz NOT NULL DEFAULT now()); COMMIT") != FUOTA_OK) {
		exec_simple(c, "ROLLBACK");
		goto out;
	}
	for (const struct embedded_migration *m = embedded_migrations; m->version; m++) {
		bool done;

		if (apply_retrying(c, m, &done) != FUOTA_OK)
			goto out;
		count += !done;
	}
	rc = FUOTA_OK;
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
