/* The step counters (sql/047_job_step_count.sql) under what an operator does to the database,
 * against a real PostgreSQL: job_device changed from a session with another search_path still
 * counts, in the schema the migration ran in. The rows are written with SQL, as psql would.
 * usage: itest_step_counts_ops FUOTAD SERVICES_ENV WORKDIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
	         "FROM device WHERE tenant_id = %lld AND dev_eui LIKE '70000000000000%%'",
	         job, tenant, tenant);
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

int main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_other_search_path),
	};
	static const struct itest_store_prog p = {"itest_step_counts_ops", 2, tests,
	                                          sizeof(tests) / sizeof(tests[0]), NULL};

	return itest_store_main(argc, argv, &T, &p);
}
