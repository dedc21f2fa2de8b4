/* The engine's statements against a real PostgreSQL at campaign scale: their query plans.
 *
 *   fresh job      a connection that prepared the clock-sync hook (seng_dev_resynced) while
 *                  job_device was empty keeps an index plan for it once a job of thousands of
 *                  devices is created: job creation refreshes the table's statistics, which
 *                  also makes PostgreSQL drop the plans it cached from the empty table (a
 *                  walk over every job's devices at every AppTimeReq, 0.8 ms each at
 *                  20,000 devices, until autovacuum got to it a minute later)
 *   edges          the gateways that heard each device of a session (seng_job_edges, what
 *                  the multicast's gateway selection reads) for 30,000 devices, two each,
 *                  in well under 4 s (a search of every device per row took 47 s at 100,000
 *                  devices: longer than the job's lease, at every tick)
 *
 * usage: itest_plans FUOTAD SERVICES_ENV WORKDIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "fuota/err.h"
#include "fuota/plan.h"
#include "fuota/store.h"
#include "fuota/store_engine.h"
#include "itest.h"
/* store_acquire / store_run: EXPLAIN on the pool's own connection. */
#include "../../server/store/src/store_int.h"

#define N_DEV  3000
#define N_EDGE 30000

static struct itest_store T;

/* The plan the pool's connection (the only one) would run for the prepared statement whose text
 * starts with prefix, with these parameters: EXPLAIN EXECUTE, one line per row, into out. */
static void explain_prepared(const char *prefix, const char *args, char *out, size_t len)
{
	PGconn *c = store_acquire(T.s);
	const char *vals[1] = {prefix};
	PGresult *r = NULL;
	char sql[256];
	size_t used = 0;

	assert_non_null(c);
	assert_int_equal(store_run(c,
	                           "SELECT name FROM pg_prepared_statements "
	                           "WHERE starts_with(statement, $1)",
	                           1, vals, &r),
	                 FUOTA_OK);
	assert_int_equal(PQntuples(r), 1);
	snprintf(sql, sizeof(sql), "EXPLAIN EXECUTE %s(%s)", PQgetvalue(r, 0, 0), args);
	PQclear(r);
	r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	out[0] = 0;
	for (int i = 0; i < PQntuples(r) && used + 1 < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s\n", PQgetvalue(r, i, 0));
	PQclear(r);
	store_release(T.s, c);
}

static void test_fresh_job(void **state)
{
	static char euis[N_DEV][17];
	char *json = NULL, bad[17] = "", why[64] = "", sql[512], plan[4096];
	struct job_params p;
	struct store_job_create j = {.params = &p, .plan_json = "{}"};
	int64_t tid;
	PGresult *r;
	bool due = true;
	json_t *o;

	(void)state;
	assert_int_equal(store_tenant_create(T.s, "plans", &json), FUOTA_OK);
	o = json_loads(json, 0, NULL);
	tid = json_integer_value(json_object_get(o, "id"));
	json_decref(o);
	free(json);
	json = NULL;
	snprintf(sql, sizeof(sql),
	         "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, class, "
	         "region, key_kind, key_box) SELECT %lld, lpad(to_hex(i), 16, '0'), 'a', '1.0.3', "
	         "'A', 'EU868', 'gen_app_key', '\\x00' FROM generate_series(1, %d) i",
	         (long long)tid, N_DEV);
	assert_int_equal(itest_exec(T.raw, sql), 0);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO firmware (tenant_id, name, size, sha256, data) VALUES "
	         "(%lld, 'fw', 1, sha256('\\x00'), '\\x00') RETURNING id",
	         (long long)tid);
	r = PQexec(T.raw, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	j.firmware_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	/* AppTimeReqs before any job: PostgreSQL settles on a generic plan after five. */
	for (int i = 0; i < 8; i++) {
		assert_int_equal(seng_dev_resynced(T.s, "0000000000000001", "a", 1000, &due),
		                 FUOTA_OK);
		assert_false(due);
	}
	job_params_init(&p);
	for (int i = 0; i < N_DEV; i++)
		snprintf(euis[i], sizeof(euis[i]), "%016x", i + 1);
	p.dev_euis = euis;
	p.n_devices = N_DEV;
	snprintf(p.name, sizeof(p.name), "fresh");
	snprintf(p.region, sizeof(p.region), "EU868");
	p.multicast_class = 'C';
	p.data_rate = 5;
	p.frequency_hz = 869525000;
	p.unicast_timeout_s = 5;
	p.unicast_attempts = 1;
	if (store_job_create(T.s, tid, &j, &json, bad, why) != FUOTA_OK)
		fail_msg("job not created: %s %s", bad, why);
	free(json);
	assert_int_equal(seng_dev_resynced(T.s, "0000000000000001", "a", 1000, &due), FUOTA_OK);
	explain_prepared("UPDATE job_device jd SET deadline", "'0000000000000001', 1000, 'a'", plan,
	                 sizeof(plan));
	/* Found by its DevEUI (job_device_eui, job_device_device) or by the running job's key
	 * (job_device_pkey); not a sequential scan, nor a walk over a job_id-first index with
	 * no job_id (job_device_due_waiting: every device of every job). */
	if (!strstr(plan, "using job_device_eui on job_device") &&
	    !strstr(plan, "using job_device_device on job_device") &&
	    !strstr(plan, "using job_device_pkey on job_device"))
		fail_msg("job_device not found by its DevEUI at every AppTimeReq:\n%s", plan);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_edges(void **state)
{
	char sql[1024];
	struct seng_edges e;
	long long tid, job;
	double t0, dt;

	(void)state;
	tid = itest_count(T.raw, "INSERT INTO tenant (name) VALUES ('edges') RETURNING id");
	assert_true(tid > 0);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, class, "
	         "region, key_kind, key_box) SELECT %lld, 'e' || lpad(to_hex(i), 15, '0'), 'a', "
	         "'1.0.3', "
	         "'A', 'EU868', 'gen_app_key', '\\x00' FROM generate_series(1, %d) i",
	         tid, N_EDGE);
	assert_int_equal(itest_exec(T.raw, sql), 0);
	job = itest_job_row(T.raw, tid, "edges", N_EDGE);
	assert_true(job > 0);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO job_device (job_id, tenant_id, dev_eui, step) SELECT %lld, %lld, "
	         "'e' || lpad(to_hex(i), 15, '0'), 'session' FROM generate_series(1, %d) i; "
	         "INSERT INTO engine_device_gateway (tenant_id, dev_eui, gateway_id, quality, "
	         "seen_ms) SELECT %lld, 'e' || lpad(to_hex(i), 15, '0'), lpad(to_hex(i %% 8 + g), "
	         "16, "
	         "'0'), -50, 1000 FROM generate_series(1, %d) i, generate_series(0, 1) g; "
	         "ANALYZE job_device; ANALYZE engine_device_gateway",
	         job, tid, N_EDGE, tid, N_EDGE);
	assert_int_equal(itest_exec(T.raw, sql), 0);
	t0 = mono_s();
	assert_int_equal(seng_job_edges(T.s, job, ENGINE_STEP_SESSION, 0, &e), FUOTA_OK);
	dt = mono_s() - t0;
	assert_int_equal(e.n_dev, N_EDGE);
	assert_int_equal(e.n_edges, 2 * N_EDGE);
	assert_int_equal(e.n_gw, 9);
	/* Each device's two gateways, under its own index. */
	for (size_t k = 0; k < e.n_edges; k += 2)
		assert_int_equal(e.edge_dev[k], e.edge_dev[k + 1]);
	assert_string_equal(e.dev_euis[e.edge_dev[e.n_edges - 1]], e.dev_euis[e.n_dev - 1]);
	seng_edges_free(&e);
	printf("seng_job_edges: %d devices, %d edges in %.3f s\n", N_EDGE, 2 * N_EDGE, dt);
	assert_true(dt < 4.0);
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fresh_job),
	        cmocka_unit_test(test_edges),
	};

	/* One connection: the statements prepared on it are the ones EXPLAIN sees. */
	static const struct itest_store_prog p = {"itest_plans", 1, tests,
	                                          sizeof(tests) / sizeof(tests[0]), NULL};

	return itest_store_main(argc, argv, &T, &p);
}
