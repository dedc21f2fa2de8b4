/* The step counters (sql/047_job_step_count.sql) under what an operator does to the database,
 * against a real PostgreSQL: job_device changed from a session with another search_path still
 * counts, in the schema the migration ran in; counters that drifted (rows changed with the
 * triggers off, counted twice, rows of n = 0 piling up) are recomputed by job_step_count_rebuild(),
 * which keeps writers out while it runs. The rows are written with SQL, as psql would.
 * usage: itest_step_counts_ops FUOTAD SERVICES_ENV WORKDIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "itest.h"

static struct itest_store T;

/* Every (job, step) whose counter differs from COUNT(*) of its rows. */
#define MISMATCH_SQL                                                                             \
	"SELECT count(*) FROM (SELECT job_id, step, count(*) n FROM public.job_device GROUP BY " \
	"1, 2) a FULL JOIN (SELECT job_id, step, sum(n) n FROM public.job_step_count GROUP BY "  \
	"1, 2 HAVING sum(n) <> 0) b ON a.job_id = b.job_id AND a.step = b.step WHERE a.n IS "    \
	"DISTINCT FROM b.n"

/* A job of tenant with n devices 7000000000000001... (made on the first call), all pending. */
static long long job_with(long long tenant, const char *name, int n)
{
	char sql[512];
	long long job;

	for (int i = 1; i <= n; i++) {
		snprintf(sql, sizeof(sql),
		         "SELECT 1 FROM device WHERE dev_eui = '70000000000000%02d'", i);
		if (itest_count(T.raw, sql) != 1) {
			snprintf(sql, sizeof(sql), "70000000000000%02d", i);
			assert_int_equal(itest_device_row(T.raw, tenant, sql), 0);
		}
	}
	job = itest_job_row(T.raw, tenant, name, n);
	assert_true(job > 0);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO job_device (job_id, tenant_id, dev_eui) SELECT %lld, %lld, dev_eui "
	         "FROM device WHERE tenant_id = %lld AND dev_eui LIKE '70000000000000%%' AND "
	         "dev_eui <= '70000000000000%02d'",
	         job, tenant, tenant, n);
	assert_int_equal(itest_exec(T.raw, sql), 0);
	return job;
}

static long long tenant_id(void)
{
	static long long tenant;

	if (!tenant)
		tenant = itest_tenant(T.s, "ops");
	assert_true(tenant > 0);
	return tenant;
}

/* A session whose search_path does not hold fuota's tables moves devices (naming the table by
 * its schema): the trigger functions still find their counters, and count right. */
static void test_other_search_path(void **state)
{
	char sql[256];
	long long job = job_with(tenant_id(), "search_path", 4);

	(void)state;
	assert_int_equal(itest_exec(T.raw, "CREATE SCHEMA IF NOT EXISTS ops_other"), 0);
	assert_int_equal(itest_exec(T.raw, "SET search_path = ops_other"), 0);
	snprintf(sql, sizeof(sql),
	         "UPDATE public.job_device SET step = 'done' WHERE job_id = %lld AND dev_eui IN "
	         "('7000000000000001', '7000000000000002')",
	         job);
	int rc = itest_exec(T.raw, sql);
	if (rc == 0) {
		snprintf(sql, sizeof(sql),
		         "DELETE FROM public.job_device WHERE job_id = %lld AND "
		         "dev_eui = '7000000000000003'",
		         job);
		rc = itest_exec(T.raw, sql);
	}
	assert_int_equal(itest_exec(T.raw, "RESET search_path"), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(itest_count(T.raw, MISMATCH_SQL), 0);
	snprintf(sql, sizeof(sql),
	         "SELECT sum(n) FROM job_step_count WHERE job_id = %lld AND step = 'done'", job);
	assert_int_equal(itest_count(T.raw, sql), 2);
}

/* The counters drift as operations make them: devices moved with the trigger off (not counted),
 * a data-only restore's rows counted on top (doubled), slots of n = 0; rebuild brings them back
 * to COUNT(*) of the rows, one row per job and step. */
static void test_rebuild(void **state)
{
	char sql[512];
	long long a = job_with(tenant_id(), "rebuild_a", 5);
	long long b = job_with(tenant_id(), "rebuild_b", 3);

	(void)state;
	snprintf(sql, sizeof(sql),
	         "BEGIN; ALTER TABLE job_device DISABLE TRIGGER job_step_count_upd; "
	         "UPDATE job_device SET step = 'done' WHERE job_id = %lld AND dev_eui < "
	         "'7000000000000003'; ALTER TABLE job_device ENABLE TRIGGER job_step_count_upd; "
	         "COMMIT",
	         a);
	assert_int_equal(itest_exec(T.raw, sql), 0);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO job_step_count (job_id, step, slot, n) SELECT job_id, step, -1, "
	         "count(*) FROM job_device WHERE job_id = %lld GROUP BY 1, 2; "
	         "INSERT INTO job_step_count (job_id, step, slot, n) VALUES (%lld, 'gone', -2, 0), "
	         "(%lld, 'gone', -3, 0)",
	         b, b, b);
	assert_int_equal(itest_exec(T.raw, sql), 0);
	/* One of b's devices done at the version check (sql/048): counted apart, also rebuilt. */
	snprintf(sql, sizeof(sql),
	         "UPDATE job_device SET step = 'done', last_answer = '{\"answer\": "
	         "\"DevVersionAns\", \"judged\": \"done (already on the target version 7: not "
	         "sent the image)\"}' WHERE job_id = %lld AND dev_eui = '7000000000000001'",
	         b);
	assert_int_equal(itest_exec(T.raw, sql), 0);
	assert_true(itest_count(T.raw, MISMATCH_SQL) >= 2); /* a's two steps, b's one */

	assert_int_equal(itest_exec(T.raw, "SELECT job_step_count_rebuild()"), 0);
	assert_int_equal(itest_count(T.raw, MISMATCH_SQL), 0);
	/* Folded: one row per job and step, in slot 0, none of n = 0. */
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM job_step_count"),
	                 itest_count(T.raw, "SELECT count(*) FROM (SELECT DISTINCT job_id, step "
	                                    "FROM job_device) d"));
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM job_step_count WHERE slot <> 0 "
	                                    "OR n = 0"),
	                 0);
	snprintf(sql, sizeof(sql),
	         "SELECT n FROM job_step_count WHERE job_id = %lld AND step = 'done'", a);
	assert_int_equal(itest_count(T.raw, sql), 2);
	snprintf(sql, sizeof(sql), "SELECT sum(on_target) FROM job_step_count WHERE job_id = %lld",
	         b);
	assert_int_equal(itest_count(T.raw, sql), 1);
}

/* While a rebuild's transaction is open, a writer of job_device waits (here: gives up on its
 * lock_timeout), and the counters it then writes are right; a rebuild in REPEATABLE READ, whose
 * snapshot could be older than its lock, is refused. */
static void test_rebuild_locks(void **state)
{
	char sql[256];
	long long job = job_with(tenant_id(), "rebuild_lock", 2);
	PGconn *w = PQconnectdb(T.dsn);

	(void)state;
	assert_int_equal(PQstatus(w), CONNECTION_OK);
	assert_int_equal(itest_exec(T.raw, "BEGIN; SELECT job_step_count_rebuild()"), 0);
	snprintf(sql, sizeof(sql),
	         "SET lock_timeout = '200ms'; UPDATE job_device SET step = 'done' WHERE job_id = "
	         "%lld",
	         job);
	PGresult *r = PQexec(w, sql);
	assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
	assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "55P03");
	PQclear(r);
	assert_int_equal(itest_exec(T.raw, "COMMIT"), 0);
	assert_int_equal(itest_exec(w, sql), 0);
	assert_int_equal(itest_count(T.raw, MISMATCH_SQL), 0);

	r = PQexec(w, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT job_step_count_rebuild()");
	assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
	PQclear(r);
	assert_int_equal(itest_exec(w, "ROLLBACK"), 0);
	PQfinish(w);
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_other_search_path),
	        cmocka_unit_test(test_rebuild),
	        cmocka_unit_test(test_rebuild_locks),
	};
	static const struct itest_store_prog p = {"itest_step_counts_ops", 2, tests,
	                                          sizeof(tests) / sizeof(tests[0]), NULL};

	return itest_store_main(argc, argv, &T, &p);
}
