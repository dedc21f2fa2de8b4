/* Jobs and devices in the store, against a real PostgreSQL: what it accepts and reads back.
 *
 *   step text          a job_device step that names no step reads as ENGINE_STEP_UNKNOWN, and
 *                      only an update from that step moves such a row
 *   migration 026      a DevEUI registered in two tenants stops the migration, naming both;
 *                      applied once the operator removed one, a DevEUI has one holder
 *   DevEUI checked     store_job_create refuses a malformed DevEUI before asking the database
 *
 * usage: itest_store_jobs FUOTAD SERVICES_ENV WORKDIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "fuota/engine.h"
#include "fuota/err.h"
#include "fuota/plan.h"
#include "fuota/store.h"
/* seng_dev_load / _update (fuota_store, the engine's queries). */
#include "fuota/store_engine.h"
#include "itest.h"
/* The migrations, to build a database as an older fuotad left it. */
#include "../../server/store/src/embedded.h"

#define GW_1 "00800000a0000001"
#define GW_2 "00800000a0000002"

static struct itest_store T;

/* Steps are text in job_device only: the store reads a text that names no step (a row another
 * version wrote) as ENGINE_STEP_UNKNOWN, and an update from ENGINE_STEP_UNKNOWN matches such a
 * row and no row in a step, so that the engine can fail the device ("unknown step"). */
static void test_dev_step_text(void **state)
{
	long long t = itest_tenant(T.s, "steps");
	struct seng_dev d;
	struct seng_dev_update u;
	char sql[256];
	PGresult *r;
	long long job;

	(void)state;
	assert_true(t > 0);
	assert_int_equal(itest_device_row(T.raw, t, "00000000000000f1"), 0);
	assert_int_equal(itest_device_row(T.raw, t, "00000000000000f2"), 0);
	job = itest_job_row(T.raw, t, "steps", 2);
	assert_true(job > 0);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO job_device (job_id, tenant_id, dev_eui, step) VALUES "
	         "(%lld, %lld, '00000000000000f1', 'warp'), "
	         "(%lld, %lld, '00000000000000f2', 'mc_session')",
	         job, t, job, t);
	itest_exec_ok(T.raw, sql);

	assert_int_equal(seng_dev_load(T.s, job, "00000000000000f1", &d), FUOTA_OK);
	assert_int_equal(d.step, ENGINE_STEP_UNKNOWN);
	assert_int_equal(seng_dev_load(T.s, job, "00000000000000f2", &d), FUOTA_OK);
	assert_int_equal(d.step, ENGINE_STEP_MC_SESSION);

	seng_dev_update_init(&u);
	u.to = ENGINE_STEP_FAILED;
	u.failure_reason = "unknown step";
	/* Neither a step's device by UNKNOWN, nor the unknown one by a step. */
	assert_int_equal(seng_dev_update(T.s, job, "00000000000000f2", ENGINE_STEP_UNKNOWN, &u),
	                 FUOTA_ERR_STATE);
	assert_int_equal(seng_dev_update(T.s, job, "00000000000000f1", ENGINE_STEP_PENDING, &u),
	                 FUOTA_ERR_STATE);
	/* What is no step is refused before any SQL. */
	assert_int_equal(seng_dev_update(T.s, job, "00000000000000f1", ENGINE_STEP_NONE, &u),
	                 FUOTA_ERR_INVALID_ARG);
	u.to = ENGINE_STEP_UNKNOWN;
	assert_int_equal(seng_dev_update(T.s, job, "00000000000000f1", ENGINE_STEP_UNKNOWN, &u),
	                 FUOTA_ERR_INVALID_ARG);
	u.to = ENGINE_STEP_FAILED;
	assert_int_equal(seng_dev_update(T.s, job, "00000000000000f1", ENGINE_STEP_UNKNOWN, &u),
	                 FUOTA_OK);
	assert_int_equal(seng_dev_load(T.s, job, "00000000000000f1", &d), FUOTA_OK);
	assert_int_equal(d.step, ENGINE_STEP_FAILED);
	assert_true(d.failed);
	/* The step text written is the step's name. */
	snprintf(sql, sizeof(sql),
	         "SELECT step FROM job_device WHERE job_id = %lld AND dev_eui = '00000000000000f1'",
	         job);
	r = PQexec(T.raw, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(r, 0, 0), "failed");
	PQclear(r);
}

/* Migration 026 on a database made by the migrations before it: a DevEUI registered in two
 * tenants stops it (nothing is deleted, fuotad does not start) and its message names the DevEUI
 * and the tenants; once the operator has removed one registration it applies, moves the device
 * gateway rows under the holder, and the database refuses a second holder from then on. */
static void test_migration_deveui(void **state)
{
	char dsn[512], err[256], sql[256];
	struct store *s = NULL;
	PGconn *c;
	PGresult *r;

	(void)state;
	assert_int_equal(itest_db_create(&T.env, "itest_store_026", dsn, sizeof(dsn)), 0);
	c = PQconnectdb(dsn);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	itest_exec_ok(
	        c,
	        "SET client_min_messages = warning; CREATE TABLE schema_version (version integer "
	        "PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
	for (const struct embedded_migration *m = embedded_migrations; m->version; m++) {
		if (m->version >= 26)
			break;
		itest_exec_ok(c, m->sql);
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, '%s')",
		         m->version, m->name);
		itest_exec_ok(c, sql);
	}
	itest_exec_ok(c, "INSERT INTO tenant (name) VALUES ('two'), ('three')");
	itest_exec_ok(
	        c,
	        "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, class, "
	        "region, key_kind, key_box) SELECT t, e, 'a', '1.0.3', 'A', 'EU868', "
	        "'gen_app_key', '\\x00' FROM (VALUES (1, '00000000000000d1'), "
	        "(3, '00000000000000d1'), (2, '00000000000000d2')) v(t, e)");
	itest_exec_ok(c, "INSERT INTO engine_device_gateway VALUES ('00000000000000d2', '" GW_1
	                 "', -50, 1), "
	                 "('00000000000000d9', '" GW_2 "', -50, 1)");
	/* The message fuotad logs names each DevEUI and its tenants. */
	for (const struct embedded_migration *m = embedded_migrations; m->version; m++) {
		if (m->version != 26)
			continue;
		itest_exec_ok(c, "BEGIN");
		r = PQexec(c, m->sql);
		assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
		assert_non_null(strstr(PQresultErrorMessage(r), "00000000000000d1 (tenants 1, 3)"));
		assert_null(strstr(PQresultErrorMessage(r), "00000000000000d2"));
		PQclear(r);
		itest_exec_ok(c, "ROLLBACK");
	}
	assert_int_equal(store_open(dsn, 1, &s, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(store_migrate(s, NULL), FUOTA_ERR_IO);
	/* Refused whole: nothing applied, nothing deleted. */
	assert_int_equal(store_ready(s), FUOTA_ERR_NOT_FOUND);
	r = PQexec(c, "SELECT count(*) FROM device");
	assert_string_equal(PQgetvalue(r, 0, 0), "3");
	PQclear(r);
	/* The operator removes one registration; fuotad starts. */
	itest_exec_ok(c, "DELETE FROM device WHERE tenant_id = 3");
	assert_int_equal(store_migrate(s, NULL), FUOTA_OK);
	assert_int_equal(store_ready(s), FUOTA_OK);
	r = PQexec(c, "SELECT tenant_id, dev_eui FROM engine_device_gateway ORDER BY dev_eui");
	assert_int_equal(PQntuples(r), 2);
	assert_string_equal(PQgetvalue(r, 0, 0), "2"); /* the holder's */
	assert_string_equal(PQgetvalue(r, 1, 0), "0"); /* held by no tenant */
	PQclear(r);
	r = PQexec(c, "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, "
	              "class, region, key_kind, key_box) VALUES (3, '00000000000000d1', 'a', "
	              "'1.0.3', 'A', 'EU868', 'gen_app_key', '\\x00')");
	assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
	assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505");
	PQclear(r);
	store_close(s);
	PQfinish(c);
}

/* store_job_create takes only DevEUIs of 16 lowercase hex digits, as the API gives them: anything
 * else (upper case, a quote or comma that would end an array element) is refused before the
 * database is asked, naming the DevEUI, and no job is stored. */
static void test_job_create_deveui_checked(void **state)
{
	static const char *const bad[] = {"00000000000000A1", "0000000\"0,00001", "00000000000001"};
	long long t = itest_tenant(T.s, "deveui-check");

	(void)state;
	assert_true(t > 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char euis[2][17] = {"00000000000000a0", ""}, eui_bad[17] = "", why[64] = "";
		struct job_params p;
		struct store_job_create j = {&p, "{}", 1, 0, NULL};
		char *json = NULL;

		job_params_init(&p);
		snprintf(euis[1], sizeof(euis[1]), "%s", bad[i]);
		p.dev_euis = euis;
		p.n_devices = 2;
		snprintf(p.name, sizeof(p.name), "bad-deveui");
		snprintf(p.region, sizeof(p.region), "EU868");
		assert_int_equal(store_job_create(T.s, t, &j, &json, eui_bad, why),
		                 FUOTA_ERR_INVALID_ARG);
		assert_null(json);
		assert_string_equal(eui_bad, bad[i]);
		assert_string_equal(why, "malformed");
	}
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM job WHERE name = 'bad-deveui'"),
	                 0);
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_dev_step_text),
	        cmocka_unit_test(test_migration_deveui),
	        cmocka_unit_test(test_job_create_deveui_checked),
	};
	static const struct itest_store_prog p = {"itest_store_jobs", 2, tests,
	                                          sizeof(tests) / sizeof(tests[0]), NULL};

	return itest_store_main(argc, argv, &T, &p);
}
