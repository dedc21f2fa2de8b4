/* Each job's devices per step as the database keeps them (sql/047_job_step_count.sql), against a
 * real PostgreSQL: after every kind of change to job_device (a job across regions created,
 * devices moved one by one, in bulk, in a transaction or one rolled back, an update that moves
 * none, a cancel, a retry, a device deleted, a job deleted) the counters equal COUNT(*) by step
 * of every job's rows, and a parent's GET shows each region exactly its child's rows by step;
 * every job's summary (GET /api/v1/jobs/{id}/summary: a parent's, a region's, a plain job's)
 * gives the rows by step and those done at the TS006 version check (sql/048_on_target_count.sql).
 * Two transactions moving devices of one job between the same steps never wait for each other,
 * and the migration counts the rows a database already has. The engine is off: the steps are
 * moved with SQL, as any statement of the engine's would.
 * usage: itest_step_counts FUOTAD SERVICES_ENV WORKDIR */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "fuota/err.h"
#include "fuota/store.h"
#include "fuota/store_live.h"
#include "itest.h"

#include "../../server/store/src/embedded.h"

static struct {
	struct itest_env env;
	struct itest_fuotad fd;
	char dsn[512];
	char admin[80];
	long long firmware_id;
	PGconn *db;
} T;

static const char *argv_bin, *argv_env, *argv_dir;

#define EU "{\"region\":\"EU868\",\"data_rate\":5,\"frequency_hz\":869525000}"
#define US "{\"region\":\"US915\",\"data_rate\":8,\"frequency_hz\":923300000}"
/* Six EU868 devices (...01-...06) and three US915 ones (...11-...13). */
#define DEVICES                                                                                 \
	"[\"6000000000000001\",\"6000000000000002\",\"6000000000000003\",\"6000000000000004\"," \
	"\"6000000000000005\",\"6000000000000006\",\"6000000000000011\",\"6000000000000012\","  \
	"\"6000000000000013\"]"

/* The last answers of a device done at the TS006 version check (already on the target version,
 * counted in already_on_target), of one done after its reboot (sent the image: not counted),
 * and of one done at its status (not counted), as engine_fmp.c and engine_status.c write them. */
#define ON_TARGET                                                                      \
	"'{\"answer\":\"DevVersionAns\",\"fw_version\":2,\"hw_version\":0,\"judged\":" \
	"\"done (already on the target version 2: not sent the image)\"}'"
#define REBOOTED                                                                       \
	"'{\"answer\":\"DevVersionAns\",\"fw_version\":2,\"hw_version\":0,\"judged\":" \
	"\"done (rebooted into the target version)\"}'"
#define STATUS "'{\"answer\":\"FragSessionStatusAns\",\"received\":9,\"missing\":0}'"
/* A row done at the version check, as a test of its own reads it (not migration 048's
 * job_device_on_target): the summary's already_on_target counts these. */
#define ON_TARGET_ROW                                                                            \
	"step = 'done' AND last_answer->>'answer' = 'DevVersionAns' AND last_answer->>'judged' " \
	"LIKE 'done (already on the target version%%'"

/* Every (job, step) whose counter differs from COUNT(*) of its rows, and counters of jobs that
 * are gone (none: the foreign key), as text rows "job step rows counted". */
#define MISMATCH_SQL                                                                         \
	"SELECT coalesce(a.job_id, b.job_id) || ' ' || coalesce(a.step, b.step) || ' ' || "  \
	"coalesce(a.n, 0) || ' ' || coalesce(b.n, 0) FROM (SELECT job_id, step, count(*) n " \
	"FROM job_device GROUP BY 1, 2) a FULL JOIN (SELECT job_id, step, sum(n) n FROM "    \
	"job_step_count GROUP BY 1, 2 HAVING sum(n) <> 0) b ON a.job_id = b.job_id AND "     \
	"a.step = b.step WHERE a.n IS DISTINCT FROM b.n"

/* Every job's counters equal COUNT(*) of its rows by step. */
static void check_counters(PGconn *conn)
{
	PGresult *r = itest_sql_ok(conn, "%s", MISMATCH_SQL);

	for (int i = 0; i < PQntuples(r); i++)
		print_error("job step rows counted: %s\n", PQgetvalue(r, i, 0));
	assert_int_equal(PQntuples(r), 0);
	PQclear(r);
}

/* Summary json (store_job_summary's answer) of job id, read on conn: its total and steps are
 * COUNT(*) of the rows of the job and its regions' children, by step, nothing else, and
 * already_on_target those done at the version check (ON_TARGET_ROW); the latter's count. */
static long long check_summary_json(PGconn *conn, json_t *sum, long long id)
{
	json_t *steps = json_object_get(sum, "steps");
	long long total = 0, on_target = 0;
	PGresult *r =
	        itest_sql_ok(conn,
	                     "SELECT step, count(*), count(*) FILTER (WHERE " ON_TARGET_ROW ") "
	                     "FROM job_device WHERE job_id IN (SELECT %lld UNION ALL SELECT id "
	                     "FROM job WHERE parent_id = %lld) GROUP BY step",
	                     id, id);

	assert_int_equal(jint(sum, "job_id"), id);
	assert_int_equal(json_object_size(steps), PQntuples(r));
	for (int k = 0; k < PQntuples(r); k++) {
		long long n = strtoll(PQgetvalue(r, k, 1), NULL, 10);

		assert_int_equal(jint(steps, PQgetvalue(r, k, 0)), n);
		total += n;
		on_target += strtoll(PQgetvalue(r, k, 2), NULL, 10);
	}
	assert_int_equal(jint(sum, "total"), total);
	assert_true(json_is_integer(json_object_get(sum, "already_on_target")));
	assert_int_equal(jint(sum, "already_on_target"), on_target);
	PQclear(r);
	return on_target;
}

/* GET /api/v1/jobs/{id}/summary of job id against the rows (check_summary_json); its devices
 * done at the version check. */
static long long check_summary(long long id)
{
	char path[64];
	json_t *j = NULL;
	long long on_target;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/summary", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	on_target = check_summary_json(T.db, j, id);
	json_decref(j);
	return on_target;
}

/* The parent's GET shows each region the COUNT(*) of its child's rows by step, nothing else;
 * the parent's summary and each region's count them too. */
static void check_parent(long long parent)
{
	char path[64];
	json_t *j = NULL, *reg;
	size_t i;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", parent);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_true(json_array_size(json_object_get(j, "regions")) > 0);
	json_array_foreach(json_object_get(j, "regions"), i, reg)
	{
		json_t *steps = json_object_get(reg, "steps");
		PGresult *r =
		        itest_sql_ok(T.db,
		                     "SELECT step, count(*) FROM job_device WHERE job_id = %lld "
		                     "GROUP BY step",
		                     jint(reg, "job_id"));

		assert_int_equal(json_object_size(steps), PQntuples(r));
		for (int k = 0; k < PQntuples(r); k++)
			assert_int_equal(jint(steps, PQgetvalue(r, k, 0)),
			                 strtoll(PQgetvalue(r, k, 1), NULL, 10));
		PQclear(r);
		check_summary(jint(reg, "job_id"));
	}
	json_decref(j);
	check_summary(parent);
	check_counters(T.db);
}

/* A plain job's counters and summary against its rows; its devices done at the version check. */
static long long check_job(long long id)
{
	check_counters(T.db);
	return check_summary(id);
}

/* The children of parent, in id order (EU868 first). */
static void children(long long parent, long long *eu, long long *us)
{
	PGresult *r =
	        itest_sql_ok(T.db, "SELECT id FROM job WHERE parent_id = %lld ORDER BY id", parent);

	assert_int_equal(PQntuples(r), 2);
	*eu = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	*us = strtoll(PQgetvalue(r, 1, 0), NULL, 10);
	PQclear(r);
}

static long long post(const char *path, const char *body, int want)
{
	json_t *j = NULL;
	long long id;

	assert_int_equal(itest_call("POST", path, T.admin, body, &j), want);
	id = jint(j, "id");
	json_decref(j);
	return id;
}

/* Steps moved as the engine moves them: one device, several in one statement (two jobs at
 * once), an update that moves none, a transaction of several statements, one rolled back. */
static void move_steps(long long parent, long long eu, long long us)
{
	PQclear(itest_sql_ok(T.db,
	                     "UPDATE job_device SET step = 'mc_setup' WHERE job_id = %lld AND "
	                     "dev_eui = '6000000000000001'",
	                     eu));
	check_parent(parent);
	PQclear(itest_sql_ok(
	        T.db,
	        "UPDATE job_device SET step = (ARRAY['frag_setup', 'ready', 'session', "
	        "'failed'])[1 + right(dev_eui, 1)::int %% 4] WHERE job_id IN (%lld, %lld) "
	        "AND dev_eui <> '6000000000000001'",
	        eu, us));
	check_parent(parent);
	PQclear(itest_sql_ok(T.db,
	                     "UPDATE job_device SET deadline = now(), attempts = attempts + 1 "
	                     "WHERE job_id IN (%lld, %lld)",
	                     eu, us));
	check_parent(parent);
	PQclear(itest_sql_ok(
	        T.db,
	        "BEGIN; UPDATE job_device SET step = 'done' WHERE job_id = %lld AND "
	        "step = 'session'; UPDATE job_device SET step = 'failed' WHERE job_id = "
	        "%lld AND dev_eui = '6000000000000002'; UPDATE job_device SET step = "
	        "'frag_status' WHERE job_id = %lld AND step = 'done'; COMMIT",
	        eu, eu, eu));
	check_parent(parent);
	PQclear(itest_sql_ok(T.db,
	                     "BEGIN; UPDATE job_device SET step = 'done' WHERE job_id IN "
	                     "(%lld, %lld); ROLLBACK",
	                     eu, us));
	check_parent(parent);
	/* Done at the version check in two jobs at once, one done after its reboot. */
	PQclear(itest_sql_ok(
	        T.db,
	        "UPDATE job_device SET step = 'done', last_answer = CASE WHEN dev_eui = "
	        "'6000000000000003' THEN " REBOOTED "::jsonb ELSE " ON_TARGET "::jsonb "
	        "END WHERE job_id IN (%lld, %lld) AND dev_eui IN ('6000000000000001', "
	        "'6000000000000003', '6000000000000004', '6000000000000005', "
	        "'6000000000000011')",
	        eu, us));
	assert_int_equal(check_summary(parent), 4);
	check_parent(parent);
	/* One leaves done with its answer, one's answer is replaced, one's becomes that of the
	 * version check; then all answers replaced, rolled back. */
	PQclear(itest_sql_ok(
	        T.db,
	        "BEGIN; UPDATE job_device SET step = 'failed' WHERE job_id = %lld AND "
	        "dev_eui = '6000000000000004'; UPDATE job_device SET last_answer = " STATUS
	        " WHERE job_id = %lld AND dev_eui = '6000000000000005'; UPDATE job_device "
	        "SET last_answer = " ON_TARGET " WHERE job_id = %lld AND dev_eui = "
	        "'6000000000000003'; COMMIT",
	        eu, eu, eu));
	assert_int_equal(check_summary(parent), 3);
	check_parent(parent);
	PQclear(itest_sql_ok(T.db,
	                     "BEGIN; UPDATE job_device SET last_answer = " STATUS
	                     " WHERE job_id IN "
	                     "(%lld, %lld); ROLLBACK",
	                     eu, us));
	assert_int_equal(check_summary(parent), 3);
	check_parent(parent);
}

/* A job across regions through its life: created, its devices moved, cancelled, retried, a
 * device deleted (its rows in both jobs cascade), the first job deleted (its children and
 * their rows cascade), a row of the retry deleted. */
static void test_parent_counts(void **state)
{
	char path[64], body[1024];
	long long id, eu, us, retry, reu, rus;

	(void)state;
	snprintf(body, sizeof(body),
	         "{\"name\":\"counted\",\"firmware_id\":%lld,\"redundancy_frames\":4,"
	         "\"unicast_timeout_s\":60,\"multicast_class\":\"C\",\"regions\":[" EU "," US
	         "],\"devices\":" DEVICES "}",
	         T.firmware_id);
	id = post("/api/v1/jobs", body, 201);
	children(id, &eu, &us);
	check_parent(id);
	move_steps(id, eu, us);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/cancel", id);
	post(path, NULL, 200);
	check_parent(id);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/retry", id);
	retry = post(path, NULL, 201);
	children(retry, &reu, &rus);
	check_parent(retry);
	check_parent(id);
	/* Its device deleted, a failed device leaves both jobs. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/cancel", retry);
	post(path, NULL, 200);
	assert_int_equal(
	        itest_call("DELETE", "/api/v1/devices/6000000000000013", T.admin, NULL, NULL), 204);
	check_parent(id);
	check_parent(retry);
	/* A device done at the version check deleted: it leaves the count. */
	assert_int_equal(
	        itest_call("DELETE", "/api/v1/devices/6000000000000001", T.admin, NULL, NULL), 204);
	assert_int_equal(check_summary(id), 2);
	check_parent(id);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	assert_int_equal(itest_call("DELETE", path, T.admin, NULL, NULL), 204);
	{
		PGresult *r = itest_sql_ok(T.db,
		                           "SELECT count(*) FROM job_step_count WHERE job_id IN "
		                           "(%lld, %lld, %lld)",
		                           id, eu, us);

		assert_string_equal(PQgetvalue(r, 0, 0), "0");
		PQclear(r);
	}
	PQclear(itest_sql_ok(T.db,
	                     "DELETE FROM job_device WHERE job_id = %lld AND dev_eui = "
	                     "'6000000000000012'",
	                     rus));
	check_parent(retry);
}

/* A plain EU868 job of n new devices whose DevEUIs start with prefix: made through the API with
 * the first two, the other rows added with SQL; its id. */
static long long big_job(const char *prefix, int n)
{
	char body[1024];
	long long id;

	PQclear(itest_sql_ok(
	        T.db,
	        "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, "
	        "class, region, key_kind, key_box) SELECT 1, '%s' || lpad(to_hex(x), 14, "
	        "'0'), 'a', '1.0.3', 'C', 'EU868', 'gen_app_key', '\\x00' FROM "
	        "generate_series(1, %d) x",
	        prefix, n));
	snprintf(body, sizeof(body),
	         "{\"name\":\"bulk\",\"firmware_id\":%lld,\"redundancy_frames\":4,"
	         "\"unicast_timeout_s\":60,\"multicast_class\":\"C\",\"region\":\"EU868\","
	         "\"data_rate\":5,\"frequency_hz\":869525000,\"devices\":[\"%s00000000000001\","
	         "\"%s00000000000002\"]}",
	         T.firmware_id, prefix, prefix);
	id = post("/api/v1/jobs", body, 201);
	PQclear(itest_sql_ok(
	        T.db,
	        "INSERT INTO job_device (job_id, tenant_id, dev_eui) SELECT %lld, 1, '%s' "
	        "|| lpad(to_hex(x), 14, '0') FROM generate_series(3, %d) x",
	        id, prefix, n));
	return id;
}

/* Statements over thousands of rows: every device moved over seven steps at once, some moved
 * again, all touched without a move, a third deleted, the job's rows added back. */
static void test_bulk(void **state)
{
	long long id = big_job("71", 20000);
	PGresult *r;

	(void)state;
	check_job(id);
	PQclear(itest_sql_ok(
	        T.db,
	        "UPDATE job_device SET step = (ARRAY['pending', 'mc_setup', 'frag_setup', "
	        "'ready', 'frag_status', 'done', 'failed'])[1 + (hashtext(dev_eui) & 65535) %% 7] "
	        "WHERE job_id = %lld",
	        id));
	check_job(id);
	r = itest_sql_ok(T.db, "SELECT count(DISTINCT step) FROM job_device WHERE job_id = %lld",
	                 id);
	assert_int_equal(strtol(PQgetvalue(r, 0, 0), NULL, 10), 7);
	PQclear(r);
	/* The done devices' answers: a third at the version check, a third after a reboot, a
	 * third at their status. */
	PQclear(itest_sql_ok(T.db,
	                     "UPDATE job_device SET last_answer = (ARRAY[" ON_TARGET ", " REBOOTED
	                     ", " STATUS
	                     "]::jsonb[])[1 + (hashtext(dev_eui || 'a') & 65535) %% 3] WHERE "
	                     "job_id = %lld AND step = 'done'",
	                     id));
	assert_true(check_job(id) > 500);
	PQclear(itest_sql_ok(T.db,
	                     "UPDATE job_device SET step = 'done' WHERE job_id = %lld AND step IN "
	                     "('ready', 'frag_status')",
	                     id));
	check_job(id);
	/* In one statement, half the devices done at the version check leave done with their
	 * answer, others come into done with that answer. */
	PQclear(itest_sql_ok(
	        T.db,
	        "UPDATE job_device SET step = CASE WHEN step = 'done' THEN 'failed' ELSE "
	        "'done' END, last_answer = CASE WHEN step = 'done' THEN last_answer ELSE " ON_TARGET
	        "::jsonb END WHERE job_id = %lld AND ((" ON_TARGET_ROW " AND "
	        "hashtext(dev_eui) %% 2 = 0) OR step = 'mc_setup')",
	        id));
	assert_true(check_job(id) > 1000);
	/* Nothing moves: nothing is written. */
	r = itest_sql_ok(T.db, "SELECT count(*), sum(n) FROM job_step_count WHERE job_id = %lld",
	                 id);
	{
		char before[64];

		snprintf(before, sizeof(before), "%s %s", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
		PQclear(r);
		PQclear(itest_sql_ok(
		        T.db, "UPDATE job_device SET attempts = attempts + 1 WHERE job_id = %lld",
		        id));
		r = itest_sql_ok(T.db,
		                 "SELECT count(*) || ' ' || sum(n) FROM job_step_count WHERE "
		                 "job_id = %lld",
		                 id);
		assert_string_equal(PQgetvalue(r, 0, 0), before);
		PQclear(r);
	}
	PQclear(itest_sql_ok(
	        T.db, "DELETE FROM job_device WHERE job_id = %lld AND hashtext(dev_eui) %% 3 = 0",
	        id));
	check_job(id);
	PQclear(itest_sql_ok(
	        T.db,
	        "INSERT INTO job_device (job_id, tenant_id, dev_eui, step, last_answer) "
	        "SELECT %lld, 1, dev_eui, CASE WHEN hashtext(dev_eui) %% 2 = 0 THEN 'done' "
	        "ELSE 'failed' END, " ON_TARGET " FROM device WHERE dev_eui LIKE '71%%' "
	        "AND NOT EXISTS "
	        "(SELECT 1 FROM job_device d WHERE d.job_id = %lld AND d.dev_eui = "
	        "device.dev_eui)",
	        id, id));
	check_job(id);
	r = itest_sql_ok(T.db, "SELECT sum(n) FROM job_step_count WHERE job_id = %lld", id);
	assert_string_equal(PQgetvalue(r, 0, 0), "20000");
	PQclear(r);
}

/* Whether device eui of job id moves to step on conn within 5 s (one row updated). */
static bool moved_within(PGconn *conn, long long id, const char *eui, const char *step)
{
	struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
	char sql[256];
	PGresult *r;

	snprintf(sql, sizeof(sql),
	         "UPDATE job_device SET step = '%s' WHERE job_id = %lld AND dev_eui = '%s'", step,
	         id, eui);
	assert_int_equal(PQsendQuery(conn, sql), 1);
	while (PQisBusy(conn)) {
		if (poll(&p, 1, 5000) <= 0)
			return false;
		if (!PQconsumeInput(conn))
			return false;
	}
	while ((r = PQgetResult(conn)) != NULL) {
		assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
		assert_string_equal(PQcmdTuples(r), "1");
		PQclear(r);
	}
	return true;
}

/* Two transactions (the engine's uplink batch, a second instance's or a device delete) move
 * devices of one job between the same two steps in opposite directions: neither waits for the
 * other (one counter row per (job, step) would be locked by the first until it ends, and the
 * two would deadlock), and once both commit the counts are right. */
static void test_concurrent(void **state)
{
	long long id = big_job("72", 40);
	PGconn *a = PQconnectdb(T.dsn), *b = PQconnectdb(T.dsn);
	PGresult *r;

	(void)state;
	assert_int_equal(PQstatus(a), CONNECTION_OK);
	assert_int_equal(PQstatus(b), CONNECTION_OK);
	r = itest_sql_ok(T.db,
	                 "UPDATE job_device SET step = 'ready' WHERE job_id = %lld AND "
	                 "dev_eui > '7200000000000014'",
	                 id);
	assert_string_equal(PQcmdTuples(r), "20");
	PQclear(r);
	PQclear(itest_sql_ok(a, "BEGIN"));
	PQclear(itest_sql_ok(b, "BEGIN"));
	assert_true(moved_within(a, id, "7200000000000001", "ready"));
	assert_true(moved_within(b, id, "7200000000000021", "pending"));
	assert_true(moved_within(a, id, "7200000000000022", "pending"));
	assert_true(moved_within(b, id, "7200000000000002", "ready"));
	PQclear(itest_sql_ok(b, "COMMIT"));
	PQclear(itest_sql_ok(a, "COMMIT"));
	check_job(id);
	r = itest_sql_ok(T.db,
	                 "SELECT sum(n) FROM job_step_count WHERE job_id = %lld AND step = 'ready'",
	                 id);
	assert_string_equal(PQgetvalue(r, 0, 0), "20");
	PQclear(r);
	PQfinish(a);
	PQfinish(b);
}

/* A database made before the counters (the migrations before 047, a job's rows over three
 * steps, another's with none) gets them counted by the migration; a TRUNCATE empties them. */
static void test_migration_fill(void **state)
{
	char dsn[512], err[256], sql[256];
	struct store *s = NULL;
	char *json = NULL;
	json_t *sum;
	PGconn *c;
	PGresult *r;

	(void)state;
	assert_int_equal(itest_db_create(&T.env, "itest_step_counts_047", dsn, sizeof(dsn)), 0);
	c = PQconnectdb(dsn);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PQclear(itest_sql_ok(
	        c, "SET client_min_messages = warning; CREATE TABLE schema_version (version "
	           "integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL "
	           "DEFAULT now())"));
	for (const struct embedded_migration *m = embedded_migrations; m->version < 47; m++) {
		assert_int_not_equal(m->version, 0);
		PQclear(itest_sql_ok(c, "%s", m->sql));
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, '%s')",
		         m->version, m->name);
		PQclear(itest_sql_ok(c, "%s", sql));
	}
	PQclear(itest_sql_ok(
	        c, "INSERT INTO device (tenant_id, dev_eui, application_id, "
	           "lorawan_version, class, region, key_kind, key_box) SELECT 1, "
	           "'73' || lpad(to_hex(x), 14, '0'), 'a', '1.0.3', 'C', 'EU868', "
	           "'gen_app_key', '\\x00' FROM generate_series(1, 300) x; "
	           "INSERT INTO job (tenant_id, name, region, data_rate, frequency_hz, "
	           "unicast_timeout_s, unicast_attempts, multicast_class, "
	           "multicast_timeout_s, plan, device_count) SELECT 1, 'old', 'EU868', 5, "
	           "869525000, 60, 3, 'C', 60, '{}', 300 FROM generate_series(1, 2); "
	           "INSERT INTO job_device (job_id, tenant_id, dev_eui, step) SELECT 1, 1, "
	           "dev_eui, (ARRAY['done', 'failed', 'session'])[1 + "
	           "ascii(right(dev_eui, 1)) %% 3] FROM device; "
	           "UPDATE job_device SET last_answer = (ARRAY[" ON_TARGET ", " REBOOTED ", " STATUS
	           "]::jsonb[])[1 + ascii(substr(dev_eui, 15, 1)) %% 3] "
	           "WHERE step = 'done'"));
	assert_int_equal(store_open(dsn, 1, &s, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(store_migrate(s, NULL), FUOTA_OK);
	check_counters(c);
	/* The summary reads the counters the migration filled. */
	assert_int_equal(store_job_summary(s, 1, 1, &json), FUOTA_OK);
	sum = json_loads(json, 0, NULL);
	assert_non_null(sum);
	assert_true(check_summary_json(c, sum, 1) > 10);
	json_decref(sum);
	free(json);
	store_close(s);
	r = itest_sql_ok(c, "SELECT count(*), sum(n) FROM job_step_count");
	assert_string_equal(PQgetvalue(r, 0, 0), "3");
	assert_string_equal(PQgetvalue(r, 0, 1), "300");
	PQclear(r);
	/* Rows truncated, not deleted one by one: their counters go too. */
	PQclear(itest_sql_ok(c, "TRUNCATE job_device"));
	r = itest_sql_ok(c, "SELECT count(*) FROM job_step_count");
	assert_string_equal(PQgetvalue(r, 0, 0), "0");
	PQclear(r);
	PQfinish(c);
}

static int group_setup(void **state)
{
	static const uint8_t img[3000];
	static const char *const devs[] = {
	        "6000000000000001", "6000000000000002", "6000000000000003",
	        "6000000000000004", "6000000000000005", "6000000000000006",
	        "6000000000000011", "6000000000000012", "6000000000000013"};
	char body[512];

	(void)state;
	if (itest_fuotad_prepare(argv_env, "itest_step_counts", argv_bin, argv_dir, &T.env, T.dsn,
	                         sizeof(T.dsn), &T.fd) != 0)
		return -1;
	if (itest_api_start(&T.fd, T.admin, NULL) != 0)
		return -1;
	T.db = PQconnectdb(T.dsn);
	if (PQstatus(T.db) != CONNECTION_OK)
		return -1;
	T.firmware_id = itest_firmware(T.admin, img, sizeof(img));
	if (T.firmware_id <= 0)
		return -1;
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		snprintf(body, sizeof(body),
		         "{\"dev_eui\":\"%s\",\"application_id\":\"app\",\"lorawan_version\":"
		         "\"1.0.3\",\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\","
		         "\"class\":\"C\",\"region\":\"%s\"}",
		         devs[i], i < 6 ? "EU868" : "US915");
		if (itest_call("POST", "/api/v1/devices", T.admin, body, NULL) != 201)
			return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	PQfinish(T.db);
	return itest_fuotad_stop(&T.fd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parent_counts),
	        cmocka_unit_test(test_bulk),
	        cmocka_unit_test(test_concurrent),
	        cmocka_unit_test(test_migration_fill),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: itest_step_counts FUOTAD SERVICES_ENV WORKDIR\n");
		return 2;
	}
	argv_bin = argv[1];
	argv_env = argv[2];
	argv_dir = argv[3];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
