/* store_migrate during a rolling upgrade, against a real PostgreSQL: a running fuotad's
 * transaction holds job_device and then wants job while migration 047 holds job and wants
 * job_device. PostgreSQL's deadlock detector aborts one of the two; when it is the migration, it
 * is tried again once the running transaction has ended, and the new fuotad starts; so it is
 * when a lock is held longer than the migration's lock timeout, without holding up the writers
 * of job_device queued behind it meanwhile.
 * usage: itest_store_migrate FUOTAD SERVICES_ENV WORKDIR */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/store.h"
#include "itest.h"

#include "../../server/store/src/embedded.h"

static struct itest_store T;

struct migrate_run {
	struct store *s;
	int rc;
};

static void *migrate_thread(void *arg)
{
	struct migrate_run *m = arg;

	m->rc = store_migrate(m->s, NULL);
	return NULL;
}

/* A database at migration 046 with a job of one device: its DSN into dsn. */
static void db_before_047(char *dsn, size_t cap)
{
	char sql[256];
	PGconn *c;

	assert_int_equal(itest_db_create(&T.env, "itest_store_migrate_047", dsn, cap), 0);
	c = PQconnectdb(dsn);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	itest_exec_ok(
	        c,
	        "SET client_min_messages = warning; CREATE TABLE schema_version (version integer "
	        "PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
	for (const struct embedded_migration *m = embedded_migrations; m->version < 47; m++) {
		assert_int_not_equal(m->version, 0);
		itest_exec_ok(c, m->sql);
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, '%s')",
		         m->version, m->name);
		itest_exec_ok(c, sql);
	}
	assert_int_equal(itest_device_row(c, 1, "7100000000000001"), 0);
	assert_int_equal(itest_job_row(c, 1, "upgrade", 1), 1);
	itest_exec_ok(c, "INSERT INTO job_device (job_id, tenant_id, dev_eui) VALUES (1, 1, "
	                 "'7100000000000001')");
	PQfinish(c);
}

/* Until a session waits for a lock while running migration 047 (at most 10 s; the query text
 * shown is the file's start). */
static void wait_for_waiter(PGconn *mon)
{
	for (int i = 0; i < 200; i++) {
		if (itest_count(mon,
		                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
		                "'Lock' AND datname = current_database() AND query LIKE "
		                "'-- Each job''s devices per step%'") > 0)
			return;
		sleep_ms(50);
	}
	fail_msg("the migration never waited for job_device");
}

/* The engine's phase change (job_device, then job, in one transaction) against 047 (job, then
 * job_device): the migration is the one the deadlock detector aborts (the running session checks
 * for a deadlock only after a minute), and it applies once that session has committed. */
static void test_deadlock_with_running_server(void **state)
{
	char dsn[512], err[256];
	struct migrate_run run = {NULL, -1};
	pthread_t th;
	PGconn *fd, *mon;
	PGresult *r;

	(void)state;
	db_before_047(dsn, sizeof(dsn));
	fd = PQconnectdb(dsn);
	mon = PQconnectdb(dsn);
	assert_int_equal(PQstatus(fd), CONNECTION_OK);
	assert_int_equal(PQstatus(mon), CONNECTION_OK);
	itest_exec_ok(
	        fd,
	        "SET deadlock_timeout = '60s'; BEGIN; UPDATE job_device SET step = 'session' WHERE "
	        "job_id = 1");
	assert_int_equal(store_open(dsn, 1, &run.s, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(pthread_create(&th, NULL, migrate_thread, &run), 0);
	wait_for_waiter(mon);
	/* Waits for the migration's lock on job until the migration gives way. */
	r = PQexec(fd, "UPDATE job SET updated_at = now() WHERE id = 1");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	sleep_ms(300); /* "a moment" more */
	itest_exec_ok(fd, "COMMIT");
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(run.rc, FUOTA_OK);
	assert_int_equal(store_ready(run.s), FUOTA_OK);
	store_close(run.s);
	/* The running session's change is counted by the migration's fill. */
	assert_int_equal(itest_count(mon, "SELECT n FROM job_step_count WHERE job_id = 1 AND "
	                                  "step = 'session'"),
	                 1);
	PQfinish(fd);
	PQfinish(mon);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How many lines of the log written to f contain needle. */
static int count_lines(FILE *f, const char *needle)
{
	char line[1024];
	int n = 0;

	fflush(f);
	rewind(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	return n;
}

/* A lock on job_device held for HOLD_MS, past the migration's lock timeout (2 s): the migration
 * gives way and is tried again (its log says so), and applies once the lock is gone. Meanwhile
 * another writer of job_device, queued behind the migration's pending lock, went through within
 * WRITER_MAX_MS: without the lock timeout it would wait until the holder commits (here: until its
 * statement timeout, as this thread commits the holder only after it). */
#define HOLD_MS       6000
#define WRITER_MAX_MS 4000
#define STR_(x)       #x
#define STR(x)        STR_(x)

static void test_lock_held_past_timeout(void **state)
{
	char dsn[512], err[256];
	struct migrate_run run = {NULL, -1};
	pthread_t th;
	PGconn *fd, *mon, *wr;
	FILE *log = tmpfile();
	int64_t held_at, t0, waited;
	int written;

	(void)state;
	assert_non_null(log);
	db_before_047(dsn, sizeof(dsn));
	fd = PQconnectdb(dsn);
	mon = PQconnectdb(dsn);
	wr = PQconnectdb(dsn);
	assert_int_equal(PQstatus(fd), CONNECTION_OK);
	assert_int_equal(PQstatus(mon), CONNECTION_OK);
	assert_int_equal(PQstatus(wr), CONNECTION_OK);
	/* Bounds the writer's wait: it could otherwise wait for the holder, which it holds up. */
	itest_exec_ok(wr, "SET statement_timeout = " STR(WRITER_MAX_MS));
	itest_exec_ok(fd, "BEGIN; LOCK TABLE job_device IN ROW EXCLUSIVE MODE");
	held_at = mono_ms();
	log_setup(LOG_LVL_INFO, false, log);
	assert_int_equal(store_open(dsn, 1, &run.s, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(pthread_create(&th, NULL, migrate_thread, &run), 0);
	wait_for_waiter(mon);
	/* Not in conflict with the holder's lock, only with the migration's pending one. */
	t0 = mono_ms();
	written = itest_exec(wr, "UPDATE job_device SET step = step WHERE job_id = 1");
	waited = mono_ms() - t0;
	if (mono_ms() - held_at < HOLD_MS)
		sleep_ms((long)(HOLD_MS - (mono_ms() - held_at)));
	itest_exec_ok(fd, "COMMIT");
	assert_int_equal(pthread_join(th, NULL), 0);
	log_setup(LOG_LVL_INFO, false, NULL);
	assert_int_equal(run.rc, FUOTA_OK);
	assert_int_equal(store_ready(run.s), FUOTA_OK);
	store_close(run.s);
	print_message("writer waited %lld ms; the migration gave way %d times\n", (long long)waited,
	              count_lines(log, "gave way"));
	assert_int_equal(written, 0);
	assert_true(waited < WRITER_MAX_MS);
	assert_true(count_lines(log, "gave way") >= 1);
	fclose(log);
	PQfinish(fd);
	PQfinish(mon);
	PQfinish(wr);
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_deadlock_with_running_server),
	        cmocka_unit_test(test_lock_held_past_timeout),
	};
	static const struct itest_store_prog p = {"itest_store_migrate", 1, tests,
	                                          sizeof(tests) / sizeof(tests[0]), NULL};

	return itest_store_main(argc, argv, &T, &p);
}
