/* fuotad's REST API while its PostgreSQL database is unreachable: every route that needs the
 * database answers 503 database_unavailable with a Retry-After header (never 500), /readyz says
 * not ready, and once the database is back the same requests succeed on the same fuotad.
 * usage: itest_dbdown FUOTAD SERVICES_ENV WORKDIR */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "itest.h"

static struct {
	struct itest_env env;
	struct itest_fuotad fd;
	char dsn[512];
	char admin[80];
} T;

static const char *argv_bin, *argv_env, *argv_dir;

#define DEV_FMT                                                                         \
	"{\"dev_eui\":\"%s\",\"application_id\":\"app\",\"lorawan_version\":\"1.0.3\"," \
	"\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"A\","         \
	"\"region\":\"EU868\"}"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The test database down or back (itest_db_outage). With keep_listen, the token revocation
 * listener's session is spared too, so that fuotad keeps its token cache and the requests reach
 * their handlers (without it, authentication meets the outage first). */
static void db_outage(bool down, bool keep_listen)
{
	assert_int_equal(itest_db_outage(&T.env, T.dsn, down, keep_listen ? "fuotad-listen" : NULL),
	                 0);
}

/* One request: its status; a 503 must be database_unavailable with a Retry-After of 1..60 s. */
static int req(const char *method, const char *path, const char *body)
{
	struct http_resp r;
	int st;

	assert_int_equal(http_req(T.fd.port, method, path, T.admin,
	                          body ? "application/json" : NULL, body, body ? strlen(body) : 0,
	                          &r),
	                 0);
	st = r.status;
	if (st == 503) {
		json_t *j = http_json(&r);
		const char *ra = strcasestr(r.head, "\r\nRetry-After: ");
		const char *code =
		        json_string_value(json_object_get(json_object_get(j, "error"), "code"));
		long secs;

		assert_non_null(ra);
		secs = strtol(ra + 15, NULL, 10);
		assert_true(secs >= 1 && secs <= 60);
		assert_non_null(code);
		assert_string_equal(code, "database_unavailable");
		json_decref(j);
	}
	if (st >= 500 && st != 503)
		fprintf(stderr, "%s %s -> %d: %s\n", method, path, st, r.body ? r.body : "");
	http_free(&r);
	return st;
}

/* fuotad's token revocation listener is connected (its session is in pg_stat_activity). */
static bool listener_up(void)
{
	PGconn *c = itest_admin_connect(&T.env);
	PGresult *r;
	bool up;

	assert_non_null(c);
	r = PQexec(c, "SELECT 1 FROM pg_stat_activity WHERE application_name = 'fuotad-listen' "
	              "AND (query LIKE 'LISTEN%' OR query = 'SELECT 1')");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	up = PQntuples(r) > 0;
	PQclear(r);
	PQfinish(c);
	return up;
}

/* GET /readyz: its status; a 503 has the shape of every 503 (a JSON error not_ready and a
 * Retry-After of 1..60 s). */
static int readyz(void)
{
	struct http_resp r;
	int st;

	assert_int_equal(http_req(T.fd.port, "GET", "/readyz", NULL, NULL, NULL, 0, &r), 0);
	st = r.status;
	if (st == 503) {
		json_t *j = http_json(&r);
		const char *ra = strcasestr(r.head, "\r\nRetry-After: ");
		const char *code =
		        json_string_value(json_object_get(json_object_get(j, "error"), "code"));

		assert_non_null(ra);
		assert_true(strtol(ra + 15, NULL, 10) >= 1 && strtol(ra + 15, NULL, 10) <= 60);
		assert_non_null(code);
		assert_string_equal(code, "not_ready");
		json_decref(j);
	}
	http_free(&r);
	return st;
}

/* The routes that need the database, GET and POST and DELETE; job 1 and firmware 1 need not
 * exist (the database is asked first). */
#define JOB_FMT                                                                                \
	"{\"name\":\"job\",\"firmware_id\":1,\"devices\":[\"00000000000000d1\"],"              \
	"\"redundancy_percent\":10,\"unicast_timeout_s\":60,\"unicast_attempts\":3,"           \
	"\"data_rate\":5,\"frequency_hz\":869525000,\"region\":\"EU868\",\"multicast_class\":" \
	"\"C\"}"
static const struct {
	const char *method, *path, *body;
} routes[] = {
        {"GET", "/api/v1/jobs", NULL},
        {"GET", "/api/v1/jobs/1", NULL},
        {"GET", "/api/v1/jobs/1/devices", NULL},
        {"GET", "/api/v1/jobs/1/events", NULL},
        {"GET", "/api/v1/jobs/1/summary", NULL},
        {"GET", "/api/v1/jobs/1/events/stream", NULL},
        {"GET", "/api/v1/devices", NULL},
        {"GET", "/api/v1/devices/00000000000000d1", NULL},
        {"GET", "/api/v1/devices/00000000000000d1/jobs", NULL},
        {"GET", "/api/v1/firmware", NULL},
        {"GET", "/api/v1/firmware/1", NULL},
        {"GET", "/api/v1/tenants", NULL},
        {"GET", "/api/v1/tenants/1", NULL},
        {"GET", "/api/v1/tokens", NULL},
        {"GET", "/api/v1/gateways", NULL},
        {"POST", "/api/v1/devices", "DEV"},
        {"POST", "/api/v1/tenants", "{\"name\":\"t-down\"}"},
        {"POST", "/api/v1/tokens", "{\"tenant_id\":1,\"name\":\"t\"}"},
        {"POST", "/api/v1/jobs", JOB_FMT},
        {"POST", "/api/v1/jobs:plan", JOB_FMT},
        {"POST", "/api/v1/jobs/1/cancel", NULL},
        {"POST", "/api/v1/jobs/1/pause", NULL},
        {"POST", "/api/v1/jobs/1/resume", NULL},
        {"POST", "/api/v1/jobs/1/retry", NULL},
        {"DELETE", "/api/v1/jobs/1", NULL},
        {"DELETE", "/api/v1/devices/00000000000000d1", NULL},
        {"DELETE", "/api/v1/firmware/1", NULL},
        {"DELETE", "/api/v1/tokens/999", NULL},
};

/* Every route above answers 503 (three rounds: more requests than the pool has connections). */
static void every_route_unavailable(void)
{
	char dev[512];

	snprintf(dev, sizeof(dev), DEV_FMT, "00000000000000d1");
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
			const char *b = routes[i].body;

			if (req(routes[i].method, routes[i].path,
			        b && strcmp(b, "DEV") == 0 ? dev : b) != 503)
				fail_msg("%s %s is not 503", routes[i].method, routes[i].path);
		}
}

/* The database back: a broken connection is replaced when it is given back, so a request or
 * two may still meet one (503, never 500); then GET and POST succeed on the same fuotad. */
static void back(const char *eui, const char *tenant)
{
	char body[512];
	int64_t deadline = mono_ms() + 20000;
	int st = 0;

	db_outage(false, false);
	while (mono_ms() < deadline && (st = req("GET", "/api/v1/jobs", NULL)) != 200) {
		assert_int_equal(st, 503);
		usleep(200 * 1000);
	}
	assert_int_equal(st, 200);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(req("GET", "/api/v1/devices", NULL), 200);
	snprintf(body, sizeof(body), DEV_FMT, eui);
	assert_int_equal(req("POST", "/api/v1/devices", body), 201);
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", tenant);
	assert_int_equal(req("POST", "/api/v1/tenants", body), 201);
	assert_int_equal(readyz(), 200);
	assert_int_equal(kill(T.fd.pid, 0), 0);
}

/* Everything cut, as in a PostgreSQL restart: the requests meet the outage in authentication
 * (the token cache is emptied with the revocation listener's connection). */
static void test_db_unreachable(void **state)
{
	(void)state;
	assert_int_equal(req("GET", "/api/v1/jobs", NULL), 200);
	db_outage(true, false);
	every_route_unavailable();
	assert_int_equal(readyz(), 503);
	assert_int_equal(kill(T.fd.pid, 0), 0);
	back("00000000000000d2", "t-up");
}

/* The token cached and the listener up: the requests meet the outage in their handlers. */
static void test_db_unreachable_in_handlers(void **state)
{
	int64_t deadline = mono_ms() + 20000;

	(void)state;
	db_outage(false, false); /* whatever the previous test left */
	/* The listener reconnected after the previous test (it retries every second), and fuotad
	 * has heard so (it caches tokens again). */
	while (!listener_up() && mono_ms() < deadline)
		usleep(200 * 1000);
	assert_true(listener_up());
	usleep(500 * 1000);
	assert_int_equal(req("GET", "/api/v1/jobs", NULL), 200); /* the token into the cache */
	db_outage(true, true);
	every_route_unavailable();
	assert_int_equal(readyz(), 503);
	assert_int_equal(kill(T.fd.pid, 0), 0);
	back("00000000000000d3", "t-up2");
}

static int group_setup(void **state)
{
	(void)state;
	if (itest_fuotad_prepare(argv_env, "itest_dbdown", argv_bin, argv_dir, &T.env, T.dsn,
	                         sizeof(T.dsn), &T.fd) != 0)
		return -1;
	/* The API alone: the engine's own reaction to an outage is itest_engine's. */
	setenv("FUOTA_ENGINE_ENABLED", "0", 1);
	/* Long enough to outlast test_db_unreachable_in_handlers's outage. */
	setenv("FUOTA_HTTP_TOKEN_CACHE_MS", "60000", 1);
	if (itest_token(argv_bin, T.dsn, true, 1, T.admin) != 0)
		return -1;
	return itest_fuotad_start(&T.fd);
}

static int group_teardown(void **state)
{
	(void)state;
	/* fuotad outlived the outage and stops cleanly. */
	return itest_fuotad_stop(&T.fd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_db_unreachable),
	        cmocka_unit_test(test_db_unreachable_in_handlers),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: itest_dbdown FUOTAD SERVICES_ENV WORKDIR\n");
		return 2;
	}
	argv_bin = argv[1];
	argv_env = argv[2];
	argv_dir = argv[3];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
