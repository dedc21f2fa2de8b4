/* The store pool's database sessions against a real PostgreSQL: what each session is set up
 * with and keeps.
 *
 *   prepared           statements run many times, in and out of batches, on both connections
 *   unnamed            [database] prepared_statements = off (FUOTA_DATABASE_PREPARED_STATEMENTS):
 *                      the same work, in and out of batches, prepares nothing on the session;
 *                      on prepares; fuotad runs with it off (token, readiness, API)
 *   no JIT             every session runs without JIT, the database's setting notwithstanding,
 *                      one opened again after its server process died included
 *
 * usage: itest_store_session FUOTAD SERVICES_ENV WORKDIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "fuota/cfg.h"
#include "fuota/err.h"
#include "fuota/store.h"
#include "itest.h"
/* store_acquire: the pool's sessions themselves. */
#include "../../server/store/src/store_int.h"

static struct itest_store T;

static void test_prepared(void **state)
{
	char name[32];

	(void)state;
	/* The same statements many times on both pooled connections, inside and outside batches:
	 * each text is prepared once per connection and runs with new parameters every time. */
	for (int round = 0; round < 3; round++) {
		if (round == 1)
			assert_int_equal(store_batch_begin(T.s), FUOTA_OK);
		for (int i = 0; i < 20; i++) {
			snprintf(name, sizeof(name), "prep-%d-%d", round, i);
			if (round == 1)
				store_batch_item(T.s);
			assert_true(itest_tenant(T.s, name) > 0);
		}
		if (round == 1)
			assert_int_equal(store_batch_end(T.s), FUOTA_OK);
	}
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM tenant WHERE name LIKE 'prep-%'"),
	                 60);
	assert_int_equal(itest_count(T.raw, "SELECT count(*) FROM tenant WHERE name = 'prep-1-7'"),
	                 1);
}

/* A one-connection store opened as fuotad would with FUOTA_DATABASE_PREPARED_STATEMENTS = env
 * (NULL: unset), put through a batch, a store function's own transaction and plain calls;
 * returns how many statements its server session holds prepared afterwards. */
static long session_prepared(const char *env, const char *prefix)
{
	struct cfg c;
	struct store *s = NULL;
	char err[256], name[48], sql[128], *json = NULL;
	long n;

	if (env)
		setenv("FUOTA_DATABASE_PREPARED_STATEMENTS", env, 1);
	else
		unsetenv("FUOTA_DATABASE_PREPARED_STATEMENTS");
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), FUOTA_OK);
	unsetenv("FUOTA_DATABASE_PREPARED_STATEMENTS");
	assert_int_equal(store_open(T.dsn, 1, &s, err, sizeof(err)), FUOTA_OK);
	store_set_prepared(s, c.db_prepared);
	assert_int_equal(store_batch_begin(s), FUOTA_OK);
	for (int i = 0; i < 3; i++) {
		store_batch_item(s);
		snprintf(name, sizeof(name), "%s-batch-%d", prefix, i);
		assert_true(itest_tenant(s, name) > 0);
	}
	store_batch_item(s);
	snprintf(name, sizeof(name), "%s-own", prefix);
	assert_int_equal(itest_own_transaction(s, name, "COMMIT"), 0);
	assert_false(store_batch_item_failed(s));
	assert_int_equal(store_batch_end(s), FUOTA_OK);
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "%s-plain-%d", prefix, i);
		assert_true(itest_tenant(s, name) > 0);
	}
	assert_int_equal(store_ready(s), FUOTA_OK);
	/* Without parameters: never prepared itself. */
	assert_int_equal(
	        store_json(s, "SELECT count(*)::text FROM pg_prepared_statements", 0, NULL, &json),
	        FUOTA_OK);
	n = strtol(json, NULL, 10);
	free(json);
	store_close(s);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tenant WHERE name LIKE '%s-%%'", prefix);
	assert_int_equal(itest_count(T.raw, sql), 7);
	return n;
}

static void test_unnamed(void **state)
{
	struct cfg c;
	struct itest_fuotad fd;
	char err[256], token[80];

	(void)state;
	assert_int_equal(session_prepared("off", "unnamed"), 0);
	assert_true(session_prepared(NULL, "named") >= 2);
	assert_true(session_prepared("on", "named-on") >= 2);
	setenv("FUOTA_DATABASE_PREPARED_STATEMENTS", "maybe", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), FUOTA_ERR_INVALID_ARG);
	assert_non_null(strstr(err, "prepared_statements"));

	/* fuotad itself with it off: migrations, a token, readiness and authenticated calls. */
	setenv("FUOTA_DATABASE_PREPARED_STATEMENTS", "off", 1);
	setenv("FUOTA_ENGINE_ENABLED", "0", 1);
	memset(&fd, 0, sizeof(fd));
	snprintf(fd.bin, sizeof(fd.bin), "%s", T.bin);
	snprintf(fd.dsn, sizeof(fd.dsn), "%s", T.dsn);
	snprintf(fd.log, sizeof(fd.log), "%s/itest_store_session_fuotad.log", T.dir);
	assert_int_equal(itest_token(T.bin, T.dsn, true, 1, token), 0);
	assert_int_equal(itest_fuotad_start(&fd), 0);
	assert_int_equal(api_call(fd.port, "GET", "/readyz", NULL, NULL, NULL), 200);
	for (int i = 0; i < 3; i++)
		assert_int_equal(
		        api_call(fd.port, "GET", "/api/v1/jobs?limit=1", token, NULL, NULL), 200);
	assert_int_equal(itest_fuotad_stop(&fd), 0);
	unsetenv("FUOTA_DATABASE_PREPARED_STATEMENTS");
	unsetenv("FUOTA_ENGINE_ENABLED");
}

/* Every session of the pool runs without JIT (store.c's session_setup), the database's own
 * setting notwithstanding: the sessions opened at store_open and one opened again after its
 * server process died. */
static void test_no_jit(void **state)
{
	PGconn *c[2];
	char sql[128];
	PGresult *a = PQexec(T.raw, "ALTER DATABASE itest_store_session SET jit = on");

	(void)state;
	assert_int_equal(PQresultStatus(a), PGRES_COMMAND_OK);
	PQclear(a);
	c[0] = store_acquire(T.s);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_terminate_backend(%d)",
	         PQbackendPID(c[0]));
	assert_int_equal(itest_count(T.raw, sql), 1);
	PQclear(PQexec(c[0], "SELECT 1"));
	assert_int_not_equal(PQstatus(c[0]), CONNECTION_OK);
	store_release(T.s, c[0]); /* reset: a new session */
	c[0] = store_acquire(T.s);
	c[1] = store_acquire(T.s);
	for (int i = 0; i < 2; i++) {
		PGresult *r = PQexec(c[i], "SHOW jit");

		assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
		assert_string_equal(PQgetvalue(r, 0, 0), "off");
		PQclear(r);
		store_release(T.s, c[i]);
	}
	PQclear(PQexec(T.raw, "ALTER DATABASE itest_store_session RESET jit"));
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_prepared),
	        cmocka_unit_test(test_unnamed),
	        cmocka_unit_test(test_no_jit),
	};
	static const struct itest_store_prog p = {"itest_store_session", 2, tests,
	                                          sizeof(tests) / sizeof(tests[0]), NULL};

	return itest_store_main(argc, argv, &T, &p);
}
