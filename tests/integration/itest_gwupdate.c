/* Issue 12: modem updates driven through fuotad, against the real PostgreSQL and mosquitto. The
 * test plays the gateway's fuota-gw: it publishes state/modem and event/modem-update, and reads
 * the commands fuotad publishes (command/modem-update, command/sessions) and fuotad's
 * integration events.
 *
 *   usage: itest_gwupdate FUOTAD SERVICES_ENV WORKDIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "fuota/err.h"
#include "fuota/mqtt.h"
#include "itest.h"

#define DEV_FMT                                                                               \
	"{\"dev_eui\":\"%s\",\"application_id\":\"app-gwu\","                                 \
	"\"lorawan_version\":\"1.0.3\",\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\"," \
	"\"class\":\"C\",\"region\":\"EU868\"}"
#define MAX_SEEN 1024

static struct {
	struct itest_env env;
	struct itest_fuotad fd;
	char dsn[512], admin[80], other[80];
	char gw[17], base[96];
	struct mqtt_client *mqtt;
	struct mqtt_queue *q;
	char *seen_topic[MAX_SEEN], *seen_body[MAX_SEEN];
	size_t n_seen;
} T;

static const char *argv_bin, *argv_env, *argv_dir;

/* Publishes payload on the gateway's topic {base}/{sub}. */
static void gw_publish(const char *sub, const char *payload, bool retained)
{
	char topic[160];

	snprintf(topic, sizeof(topic), "%s/%s", T.base, sub);
	assert_int_equal(mqtt_publish(T.mqtt, topic, payload, strlen(payload),
	                              1 | (retained ? MQTT_RETAIN : 0)),
	                 FUOTA_OK);
}

/* The rows sql returns. */
static int sql_rows(const char *sql)
{
	PGconn *c = PQconnectdb(T.dsn);
	PGresult *r = PQexec(c, sql);
	int n = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : -1;

	PQclear(r);
	PQfinish(c);
	return n;
}

/* The first message received (from index *from on) whose topic ends with suffix and whose body
 * holds needle, waiting up to timeout_ms; its index in *from. NULL when none came. */
static json_t *wait_msg(const char *suffix, const char *needle, long timeout_ms, size_t *from)
{
	size_t start = from ? *from : 0;

	for (long waited = 0;; waited += 50) {
		struct mqtt_msg *m = NULL;

		for (size_t i = start; i < T.n_seen; i++) {
			size_t lt = strlen(T.seen_topic[i]), ls = strlen(suffix);

			if (lt >= ls && !strcmp(T.seen_topic[i] + lt - ls, suffix) &&
			    strstr(T.seen_body[i], needle)) {
				if (from)
					*from = i + 1;
				return json_loads(T.seen_body[i], 0, NULL);
			}
		}
		if (waited >= timeout_ms)
			return NULL;
		for (uint32_t wait = 50; mqtt_queue_pop(T.q, wait, &m) == FUOTA_OK && m; wait = 0) {
			if (T.n_seen < MAX_SEEN) {
				T.seen_topic[T.n_seen] = strdup(m->topic);
				T.seen_body[T.n_seen] = strndup((const char *)m->payload, m->len);
				T.n_seen++;
			}
			mqtt_msg_free(m);
			m = NULL;
		}
	}
}

static int create(const char *token, const char *gw, const char *body, json_t **out)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/v1/gateways/%s/modem-updates", gw);
	return api_call(T.fd.port, "POST", path, token, body, out);
}

static int action(const char *token, json_int_t id, const char *what, json_t **out)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/v1/modem-updates/%lld/%s", (long long)id, what);
	return api_call(T.fd.port, "POST", path, token, NULL, out);
}

static json_t *get_update(json_int_t id)
{
	char path[128];
	json_t *j = NULL;

	snprintf(path, sizeof(path), "/api/v1/modem-updates/%lld", (long long)id);
	assert_int_equal(api_call(T.fd.port, "GET", path, T.admin, NULL, &j), 200);
	return j;
}

static const char *str(json_t *j, const char *k)
{
	const char *s = json_string_value(json_object_get(j, k));

	return s ? s : "(null)";
}

/* Waits up to 10 s for update id's state to be state. */
static json_t *wait_state(json_int_t id, const char *state)
{
	for (int i = 0; i < 100; i++) {
		json_t *j = get_update(id);

		if (!strcmp(str(j, "state"), state))
			return j;
		json_decref(j);
		sleep_ms(100);
	}
	fail_msg("update %lld never %s", (long long)id, state);
	return NULL;
}

static int add_device(const char *token, const char *eui, long tenant)
{
	char body[512], sql[256];
	json_t *j = NULL;
	int st;

	snprintf(body, sizeof(body), DEV_FMT, eui);
	st = api_call(T.fd.port, "POST", "/api/v1/devices", token, body, &j);
	json_decref(j);
	if (st != 201)
		return -1;
	snprintf(sql, sizeof(sql),
	         "INSERT INTO engine_device_gateway (tenant_id, dev_eui, gateway_id, quality, "
	         "seen_ms) VALUES (%ld, '%s', '%s', -80, 1700000000000)",
	         tenant, eui, T.gw);
	itest_sql_assert(T.dsn, "%s", sql);
	return 0;
}

/* The 400 answer's field for body. */
static void refused_400(const char *body, const char *field)
{
	json_t *j = NULL;

	assert_int_equal(create(T.admin, T.gw, body, &j), 400);
	assert_string_equal(str(json_object_get(j, "error"), "field"), field);
	json_decref(j);
}

static void test_bad_input(void **state)
{
	(void)state;
	refused_400("{\"url\":\"http://h/x\"}", "method");
	refused_400("{\"method\":\"xmodem\"}", "method");
	refused_400("{\"method\":\"http\"}", "url");
	/* fuota-gw refuses http and ftp without the image's MD5: refused here first. */
	refused_400("{\"method\":\"http\",\"url\":\"http://h/x\"}", "md5");
	refused_400("{\"method\":\"ftp\",\"url\":\"ftp://h/x\"}", "md5");
	refused_400("{\"method\":\"http\",\"url\":\"ftp://h/x\"}", "url");
	refused_400("{\"method\":\"http\",\"url\":\"http://user:pw@h/x\"}", "url");
	refused_400("{\"method\":\"http\",\"url\":\"http://h/a b\"}", "url");
	refused_400("{\"method\":\"ufota\",\"url\":\"http://h/x\"}", "url");
	refused_400("{\"method\":\"foat\"}", "package");
	refused_400("{\"method\":\"uart\",\"package\":\"relative.upd\"}", "package");
	refused_400("{\"method\":\"http\",\"url\":\"http://h/x\",\"package\":\"/a\"}", "package");
	refused_400("{\"method\":\"ufota\",\"md5\":\"123\"}", "md5");
	refused_400("{\"method\":\"ufota\",\"image_size\":0}", "image_size");
	refused_400("{\"method\":\"ufota\",\"start_at\":\"tomorrow\"}", "start_at");
	refused_400("{\"method\":\"ufota\",\"start_at\":\"2030-02-30T00:00:00Z\"}", "start_at");
	refused_400("{\"method\":\"ufota\",\"start_at\":\"2999-01-01T00:00:00Z\"}", "start_at");
	refused_400("{\"method\":\"ufota\",\"colour\":1}", "colour");
	assert_int_equal(create(T.admin, T.gw, "[]", NULL), 400);
	assert_int_equal(create(T.admin, "ffffffffffffff00", "{\"method\":\"ufota\"}", NULL), 404);
	assert_int_equal(create(T.admin, "nope", "{\"method\":\"ufota\"}", NULL), 404);
	/* The tenant whose devices the gateway never heard does not see it. */
	assert_int_equal(create(T.other, T.gw, "{\"method\":\"ufota\"}", NULL), 404);
	assert_int_equal(action(T.admin, 999999, "pause", NULL), 404);
	/* From now on the other tenant's device is heard there too. */
	assert_int_equal(add_device(T.other, "20000000000000d2", 2), 0);
}

/* A report from the gateway about command cmd. */
static void report(json_int_t cmd, const char *state, const char *more)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"id\":%lld,\"state\":\"%s\",\"method\":\"http\"%s}",
	         (long long)cmd, state, more);
	gw_publish("event/modem-update", body, false);
}

/* What update id shows in j to a tenant that did not make it: that it is planned or runs, how
 * and when, but none of the url, package, md5, note or error the maker gave or got. */
static void hidden_from_other(json_t *j, json_int_t id)
{
	static const char *const secret[] = {"url", "package", "md5", "note", "error"};

	assert_int_equal(json_integer_value(json_object_get(j, "id")), id);
	assert_true(json_is_false(json_object_get(j, "own")));
	assert_string_equal(str(j, "origin"), "api");
	assert_string_equal(str(j, "method"), "http");
	assert_true(json_is_string(json_object_get(j, "state")));
	assert_true(json_is_string(json_object_get(j, "planned_start")));
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (!json_is_null(json_object_get(j, secret[i])))
			fail_msg("another tenant sees the update's %s", secret[i]);
}

/* Update id (tenant 1's, with a url and md5) as tenant 2 sees it, whose device the gateway
 * heard: by GET, in the gateway's list and in the gateways page; no integration event of it on
 * tenant 2's topic. */
static void other_sees(json_int_t id)
{
	char path[128], *dump;
	json_t *j = NULL, *it;

	snprintf(path, sizeof(path), "/api/v1/modem-updates/%lld", (long long)id);
	assert_int_equal(api_call(T.fd.port, "GET", path, T.other, NULL, &j), 200);
	hidden_from_other(j, id);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/gateways/%s/modem-updates", T.gw);
	assert_int_equal(api_call(T.fd.port, "GET", path, T.other, NULL, &j), 200);
	it = json_array_get(json_object_get(j, "items"), 0);
	hidden_from_other(it, id);
	json_decref(j);
	assert_int_equal(api_call(T.fd.port, "GET", "/api/v1/gateways", T.other, NULL, &j), 200);
	it = json_object_get(json_array_get(json_object_get(j, "items"), 0), "modem_update");
	assert_int_equal(json_integer_value(json_object_get(it, "id")), id);
	assert_null(json_object_get(it, "url"));
	dump = json_dumps(it, 0);
	assert_non_null(dump);
	assert_null(strstr(dump, "files.example"));
	free(dump);
	json_decref(j);
	/* The maker sees it all. */
	j = get_update(id);
	assert_string_equal(str(j, "url"), "http://files.example/r5.upd");
	assert_true(json_is_true(json_object_get(j, "own")));
	json_decref(j);
	assert_null(wait_msg("/never", "", 500, NULL)); /* what came meanwhile read */
	for (size_t i = 0; i < T.n_seen; i++)
		if (!strncmp(T.seen_topic[i], "fuota/2/", 8) &&
		    strstr(T.seen_body[i], "files.example"))
			fail_msg("tenant 2's event %s shows tenant 1's url", T.seen_topic[i]);
}

/* Schedules an http update with nothing in its way: its id, the start command's id (*at: where
 * the commands read so far end). */
static json_int_t scheduled_and_started(json_int_t *start_cmd, size_t *at)
{
	json_t *j, *c;
	json_int_t id;

	assert_int_equal(create(T.admin, T.gw,
	                        "{\"method\":\"http\",\"url\":\"http://files.example/r5.upd\","
	                        "\"md5\":\"0123456789abcdef0123456789ABCDEF\","
	                        "\"image_size\":4500000}",
	                        &j),
	                 201);
	id = json_integer_value(json_object_get(j, "id"));
	assert_string_equal(str(j, "state"), "scheduled");
	assert_true(json_is_true(json_object_get(j, "own")));
	json_decref(j);
	/* Another at the same time: one per modem. */
	assert_int_equal(create(T.admin, T.gw, "{\"method\":\"ufota\"}", &j), 409);
	json_decref(j);
	/* No session in the way: the start command, retained, within a few seconds. */
	c = wait_msg("/command/modem-update", "\"start\"", 8000, at);
	assert_non_null(c);
	*start_cmd = json_integer_value(json_object_get(c, "id"));
	assert_true(*start_cmd > 0);
	assert_string_equal(str(c, "method"), "http");
	assert_string_equal(str(c, "url"), "http://files.example/r5.upd");
	assert_string_equal(str(c, "md5"), "0123456789abcdef0123456789ABCDEF");
	assert_null(json_object_get(c, "package"));
	json_decref(c);
	json_decref(wait_state(id, "sent"));
	other_sees(id);
	/* Seen by the other tenant that uses the gateway, not acted on by it. */
	assert_int_equal(action(T.other, id, "pause", &j), 409);
	assert_string_equal(str(json_object_get(j, "error"), "code"), "not_owner");
	json_decref(j);
	c = wait_msg("/event/modem-update", "\"change\":\"started\"", 5000, NULL);
	assert_non_null(c);
	json_decref(c);
	return id;
}

static void test_update_steps(void **state)
{
	json_t *j, *c;
	json_int_t id, start_cmd, pause_cmd;
	size_t at = 0, before;
	char topic[128];

	(void)state;
	id = scheduled_and_started(&start_cmd, &at);
	/* A start the broker never had (fuotad stopped just after marking it published): with no
	 * answer from the gateway it is published again, under the same id. */
	itest_sql_assert(T.dsn, "UPDATE modem_update_cmd SET published_ms = published_ms - 600000");
	c = wait_msg("/command/modem-update", "\"start\"", 8000, &at);
	assert_non_null(c);
	assert_int_equal(json_integer_value(json_object_get(c, "id")), start_cmd);
	json_decref(c);
	/* The gateway's steps. */
	report(start_cmd, "downloading", ",\"progress\":40,\"firmwareBefore\":\"03.15\"");
	for (int i = 0; i < 100; i++) {
		j = get_update(id);
		if (json_integer_value(json_object_get(j, "progress")) == 40)
			break;
		json_decref(j);
		j = NULL;
		sleep_ms(100);
	}
	assert_non_null(j);
	assert_string_equal(str(j, "state"), "downloading");
	assert_string_equal(str(j, "firmware_before"), "03.15");
	json_decref(j);
	/* The gateways list shows it on the gateway. */
	assert_int_equal(api_call(T.fd.port, "GET", "/api/v1/gateways", T.admin, NULL, &j), 200);
	c = json_object_get(json_array_get(json_object_get(j, "items"), 0), "modem_update");
	assert_int_equal(json_integer_value(json_object_get(c, "id")), id);
	assert_int_equal(json_integer_value(json_object_get(c, "progress")), 40);
	json_decref(j);
	/* Paused at once: a new command, a higher id. */
	assert_int_equal(action(T.admin, id, "pause", &j), 200);
	json_decref(j);
	c = wait_msg("/command/modem-update", "\"pause\"", 5000, &at);
	assert_non_null(c);
	pause_cmd = json_integer_value(json_object_get(c, "id"));
	assert_true(pause_cmd > start_cmd);
	json_decref(c);
	report(pause_cmd, "paused", "");
	json_decref(wait_state(id, "paused"));
	assert_int_equal(action(T.admin, id, "pause", &j), 409);
	json_decref(j);
	assert_int_equal(action(T.admin, id, "resume", &j), 200);
	json_decref(j);
	c = wait_msg("/command/modem-update", "\"resume\"", 5000, &at);
	assert_non_null(c);
	json_decref(c);
	report(start_cmd, "installing", ",\"progress\":100");
	json_decref(wait_state(id, "installing"));
	assert_int_equal(action(T.admin, id, "cancel", &j), 409); /* an install runs alone */
	json_decref(j);
	report(start_cmd, "done", ",\"firmware\":\"03.16\"");
	j = wait_state(id, "done");
	/* Over: the retained command cleared (an empty retained message), so that a fuota-gw
	 * that lost the last id it handled does not run it again. */
	before = at;
	json_decref(wait_msg("/command/modem-update", "", 5000, &at));
	assert_true(at > before);
	assert_string_equal(T.seen_body[at - 1], "");
	assert_string_equal(str(j, "firmware_after"), "03.16");
	assert_true(json_is_string(json_object_get(j, "finished_at")));
	json_decref(j);
	/* Its integration events went to the tenant's topic. */
	snprintf(topic, sizeof(topic), "fuota/1/gateway/%s/event/modem-update", T.gw);
	c = wait_msg(topic, "\"state\":\"done\"", 5000, NULL);
	assert_non_null(c);
	assert_string_equal(str(c, "change"), "report");
	json_decref(c);
	/* A report of no command of ours changes nothing. */
	report(start_cmd + 1000, "failed", "");
	sleep_ms(300);
	j = get_update(id);
	assert_string_equal(str(j, "state"), "done");
	json_decref(j);
}

static void test_start_at_limits(void **state)
{
	json_t *j;

	(void)state;
	assert_int_equal(create(T.admin, T.gw,
	                        "{\"method\":\"foat\",\"package\":\"/data/r5.upd\","
	                        "\"start_at\":\"2099-01-01T00:00:00Z\"}",
	                        &j),
	                 400); /* more than 366 days ahead */
	json_decref(j);
	assert_int_equal(create(T.admin, T.gw,
	                        "{\"method\":\"foat\",\"package\":\"/data/r5.upd\","
	                        "\"start_at\":\"2030-01-01T00:00:00+01:00\"}",
	                        &j),
	                 400);
	json_decref(j);
}

/* A job of tenant through the gateway whose session opens in start_s seconds and lasts
 * timeout_s. */
static void job_session(int id, long tenant, long start_s, long timeout_s)
{
	char sql[768];

	snprintf(sql, sizeof(sql),
	         "INSERT INTO job (id, tenant_id, name, state, region, data_rate, frequency_hz, "
	         "unicast_timeout_s, unicast_attempts, multicast_class, multicast_timeout_s, plan, "
	         "device_count) VALUES (%d, %ld, 'gwu', 'paused', 'EU868', 5, 869525000, 10, 3, "
	         "'C', %ld, '{}', 1)",
	         id, tenant, timeout_s);
	itest_sql_assert(T.dsn, "%s", sql);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO engine_job (job_id, frag_size, nb_frag, padding, redundancy, "
	         "redundancy_cap, session_timeout, session_start_ms, gateways) VALUES (%d, 50, "
	         "10, 0, 5, 5, 12, (extract(epoch FROM now()) * 1000)::bigint + %ld, ARRAY['%s'])",
	         id, start_s * 1000, T.gw);
	itest_sql_assert(T.dsn, "%s", sql);
}

/* Update id once the engine wrote its note (NULL after 10 s). */
static json_t *noted(json_int_t id)
{
	for (int i = 0; i < 100; i++) {
		json_t *j = get_update(id);

		if (json_is_string(json_object_get(j, "note")))
			return j;
		json_decref(j);
		sleep_ms(100);
	}
	return NULL;
}

/* An update of tenant 1 asked to start in 3 s (its id). */
static json_int_t update_in_3s(void)
{
	json_t *j;
	json_int_t id;
	char body[256], iso[40];
	time_t t = time(NULL) + 3;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(body, sizeof(body), "{\"method\":\"ufota\",\"start_at\":\"%s\"}", iso);
	assert_int_equal(create(T.admin, T.gw, body, &j), 201);
	id = json_integer_value(json_object_get(j, "id"));
	assert_string_equal(str(j, "state"), "scheduled");
	assert_true(json_is_null(json_object_get(j, "note")));
	json_decref(j);
	return id;
}

static void test_postponed_and_windows(void **state)
{
	json_t *j, *c, *w;
	json_int_t id;

	(void)state;
	/* Asked to start in 3 s; a session through the gateway appears meanwhile. */
	id = update_in_3s();
	job_session(9101, 1, 600, 1800);
	/* The gateway is told the window. */
	c = wait_msg("/command/sessions", "\"9101\"", 10000, NULL);
	assert_non_null(c);
	assert_int_equal(json_integer_value(json_object_get(c, "guardS")), 120);
	w = json_array_get(json_object_get(c, "windows"), 0);
	/* 1800 s, its ends rounded out to whole seconds. */
	assert_in_range(json_integer_value(json_object_get(w, "end")) -
	                        json_integer_value(json_object_get(w, "start")),
	                1800, 1801);
	json_decref(c);
	/* The start comes: postponed past the session, and said why. */
	j = noted(id);
	assert_non_null(j);
	assert_string_equal(str(j, "state"), "scheduled");
	assert_non_null(strstr(str(j, "note"), "job 9101"));
	json_decref(j);
	c = wait_msg("/event/modem-update", "\"change\":\"postponed\"", 5000, NULL);
	assert_non_null(c);
	json_decref(c);
	/* Cancelled before it started: nothing to tell the gateway. */
	assert_int_equal(action(T.admin, id, "cancel", &j), 200);
	assert_string_equal(str(j, "state"), "cancelled");
	json_decref(j);
	/* The job ends: an empty list. */
	itest_sql_assert(T.dsn, "UPDATE job SET state = 'cancelled' WHERE id = 9101");
	c = wait_msg("/command/sessions", "\"windows\":[]", 10000, NULL);
	assert_non_null(c);
	json_decref(c);
}

/* The session of another tenant's job in the way: the note, which the update's tenant reads, says
 * so without naming that job. */
static void test_postponed_other_tenant(void **state)
{
	json_t *j, *c;
	json_int_t id;

	(void)state;
	id = update_in_3s();
	job_session(9102, 2, 600, 1800);
	j = noted(id);
	assert_non_null(j);
	assert_string_equal(str(j, "state"), "scheduled");
	assert_non_null(strstr(str(j, "note"), "another tenant's job"));
	assert_null(strstr(str(j, "note"), "9102"));
	json_decref(j);
	assert_int_equal(action(T.admin, id, "cancel", &j), 200);
	json_decref(j);
	itest_sql_assert(T.dsn, "UPDATE job SET state = 'cancelled' WHERE id = 9102");
	c = wait_msg("/command/sessions", "\"windows\":[]", 10000, NULL);
	assert_non_null(c);
	json_decref(c);
}

/* The number sql answers (its first column), -1 on failure. */
static long long sql_num(const char *sql)
{
	PGconn *c = PQconnectdb(T.dsn);
	PGresult *r = PQexec(c, sql);
	long long v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
	                      ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
	                      : -1;

	PQclear(r);
	PQfinish(c);
	return v;
}

#define N_FAKE_GW 40

/* The statements fuotad ran in this database for the gateways' session windows, as
 * pg_stat_statements counts them: those naming sessions_sent (the windows last published), the
 * jobs that count on one gateway, and the list of gateways with a fuota-gw. */
static long long window_statements(void)
{
	return sql_num(
	        "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = (SELECT "
	        "oid FROM pg_database WHERE datname = current_database()) AND query NOT "
	        "LIKE '%pg_stat_statements%' AND (query LIKE '%sessions_sent%' OR query "
	        "LIKE '%ANY(e.gateways)%' OR query LIKE '%FROM gateway_modem WHERE "
	        "topic_prefix IS NOT NULL%')");
}

/* command/sessions for every gateway every 5 s costs one statement, not one or two per gateway:
 * 41 gateways with a fuota-gw, two rounds of windows, a handful of statements. */
static void test_sessions_statements(void **state)
{
	char sql[256];
	long long before, after;

	(void)state;
	itest_sql_assert(T.dsn, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
	for (int i = 0; i < N_FAKE_GW; i++) {
		snprintf(sql, sizeof(sql),
		         "INSERT INTO gateway_modem (gateway_id, state, received_ms, topic_prefix) "
		         "VALUES ('c2%06x%08x', '{}', 1700000000000, 'itest-gwu')",
		         (unsigned)getpid() & 0xffffffu, (unsigned)i);
		itest_sql_assert(T.dsn, "%s", sql);
	}
	/* Each told its (empty) windows once. */
	for (int i = 0; i < 150 && sql_rows("SELECT 1 FROM gateway_modem WHERE sessions_sent IS "
	                                    "NULL") > 0;
	     i++)
		sleep_ms(100);
	assert_int_equal(sql_rows("SELECT 1 FROM gateway_modem WHERE sessions_sent IS NULL"), 0);
	before = window_statements();
	assert_true(before >= 0);
	sleep_ms(10500); /* two rounds, or three */
	after = window_statements();
	printf("# command/sessions for %d gateways: %lld statements in 10.5 s\n", N_FAKE_GW + 1,
	       after - before);
	assert_in_range(after - before, 1, 4);
	itest_sql_assert(T.dsn, "DELETE FROM gateway_modem WHERE topic_prefix = 'itest-gwu'");
	for (int i = 0; i < N_FAKE_GW; i++) { /* their retained windows cleared */
		char topic[96];

		snprintf(topic, sizeof(topic), "itest-gwu/gateway/c2%06x%08x/command/sessions",
		         (unsigned)getpid() & 0xffffffu, (unsigned)i);
		assert_int_equal(mqtt_publish(T.mqtt, topic, "", 0, 1 | MQTT_RETAIN), FUOTA_OK);
	}
}

static void test_gateway_own_update(void **state)
{
	json_t *j, *items;
	char path[128], path2[256];

	(void)state;
	/* A uFOTA push fuotad did not start: recorded, and it keeps fuotad from starting one. */
	gw_publish("event/modem-update",
	           "{\"id\":0,\"state\":\"downloading\",\"method\":\"ufota\",\"progress\":5}",
	           false);
	snprintf(path, sizeof(path), "/api/v1/gateways/%s/modem-updates", T.gw);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(api_call(T.fd.port, "GET", path, T.admin, NULL, &j), 200);
		items = json_object_get(j, "items");
		if (!strcmp(str(json_array_get(items, 0), "origin"), "gateway"))
			break;
		json_decref(j);
		j = NULL;
		sleep_ms(100);
	}
	assert_non_null(j);
	items = json_object_get(j, "items");
	assert_string_equal(str(json_array_get(items, 0), "state"), "downloading");
	assert_int_equal(action(T.admin,
	                        json_integer_value(json_object_get(json_array_get(items, 0), "id")),
	                        "cancel", NULL),
	                 409);
	json_decref(j);
	assert_int_equal(create(T.admin, T.gw, "{\"method\":\"ufota\"}", &j), 409);
	assert_string_equal(str(json_object_get(j, "error"), "code"), "modem_updating");
	json_decref(j);
	/* Its end, reported by state/modem's update member too. */
	gw_publish("event/modem-update", "{\"id\":0,\"state\":\"done\",\"method\":\"ufota\"}",
	           false);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(api_call(T.fd.port, "GET", path, T.other, NULL, &j), 200);
		items = json_object_get(j, "items");
		if (!strcmp(str(json_array_get(items, 0), "state"), "done"))
			break;
		json_decref(j);
		j = NULL;
		sleep_ms(100);
	}
	assert_non_null(j); /* the other tenant sees it once its device was heard there */
	assert_true(json_is_false(json_object_get(json_array_get(items, 0), "own")));
	json_decref(j);
	/* The end reported again (QoS 1), and a state/modem older than it: still one update. */
	gw_publish("event/modem-update", "{\"id\":0,\"state\":\"done\",\"method\":\"ufota\"}",
	           false);
	snprintf(path2, sizeof(path2),
	         "{\"gatewayId\":\"%s\",\"update\":{\"id\":0,\"state\":\"installing\","
	         "\"method\":\"ufota\"}}",
	         T.gw);
	gw_publish("state/modem", path2, false);
	sleep_ms(500);
	snprintf(path2, sizeof(path2),
	         "SELECT 1 FROM modem_update WHERE gateway_id = '%s' AND tenant_id IS NULL", T.gw);
	assert_int_equal(sql_rows(path2), 1);
	/* Paged, newest first: the fourth newest alone (after this one and the two postponed). */
	strcat(path, "?limit=1&offset=3");
	assert_int_equal(api_call(T.fd.port, "GET", path, T.admin, NULL, &j), 200);
	items = json_object_get(j, "items");
	assert_int_equal(json_array_size(items), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "limit")), 1);
	assert_string_equal(str(json_array_get(items, 0), "state"),
	                    "done"); /* test_update_steps' */
	assert_string_equal(str(json_array_get(items, 0), "method"), "http");
	json_decref(j);
	/* One whose first word is its end (a uFOTA request the module could not ack): recorded
	 * ended, with its end time, so that the same report repeated is still one update. */
	for (int k = 0; k < 2; k++)
		gw_publish("event/modem-update",
		           "{\"id\":0,\"state\":\"failed\",\"method\":\"foat\"}", false);
	snprintf(path2, sizeof(path2),
	         "SELECT 1 FROM modem_update WHERE gateway_id = '%s' AND method = 'foat' AND "
	         "finished_ms IS NOT NULL",
	         T.gw);
	for (int i = 0; i < 50 && sql_rows(path2) < 1; i++)
		sleep_ms(100);
	sleep_ms(300);
	assert_int_equal(sql_rows(path2), 1);
	snprintf(path2, sizeof(path2),
	         "SELECT 1 FROM modem_update WHERE gateway_id = '%s' AND method = 'foat'", T.gw);
	assert_int_equal(sql_rows(path2), 1);
}

/* A fuota-gw that dies mid-update: after 24 hours without a word from it the update fails,
 * a cancel replaces its retained start, and the modem takes a new update. */
static void test_silent_gateway(void **state)
{
	json_t *j, *c;
	json_int_t id, start_cmd;
	size_t at = T.n_seen;
	char sql[256];

	(void)state;
	id = scheduled_and_started(&start_cmd, &at);
	report(start_cmd, "downloading", ",\"progress\":10");
	json_decref(wait_state(id, "downloading"));
	snprintf(sql, sizeof(sql),
	         "UPDATE modem_update SET updated_ms = updated_ms - 90000000 WHERE id = %lld",
	         (long long)id);
	itest_sql_assert(T.dsn, "%s", sql);
	itest_sql_assert(T.dsn, "UPDATE gateway_modem SET received_ms = received_ms - 90000000");
	j = wait_state(id, "failed");
	assert_non_null(strstr(str(j, "error"), "no word from the gateway"));
	json_decref(j);
	c = wait_msg("/command/modem-update", "\"cancel\"", 8000, &at);
	assert_non_null(c);
	assert_true(json_integer_value(json_object_get(c, "id")) > start_cmd);
	json_decref(c);
	/* The integration event, to the tenant that made it: its own. */
	c = wait_msg("/event/modem-update", "\"change\":\"expired\"", 5000, NULL);
	assert_non_null(c);
	assert_int_equal(json_integer_value(json_object_get(c, "id")), id);
	assert_true(json_is_true(json_object_get(c, "own")));
	json_decref(c);
	assert_int_equal(create(T.admin, T.gw, "{\"method\":\"ufota\"}", &j), 201);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	assert_int_equal(action(T.admin, id, "cancel", &j), 200);
	json_decref(j);
}

static int group_setup(void **state)
{
	struct mqtt_options opt;
	char filter[160], modem[512];

	(void)state;
	if (itest_env_load(argv_env, &T.env) != 0 ||
	    itest_db_create(&T.env, "itest_gwupdate", T.dsn, sizeof(T.dsn)) != 0)
		return -1;
	/* A gateway of this run only: the broker keeps retained messages of earlier runs. */
	snprintf(T.gw, sizeof(T.gw), "c1%014x", (unsigned)getpid() & 0xffffffu);
	snprintf(T.base, sizeof(T.base), "eu868/gateway/%s", T.gw);
	memset(&opt, 0, sizeof(opt));
	opt.client_id = "itest-gwupdate";
	opt.clean_session = true;
	if (mqtt_queue_create(0, &T.q) != FUOTA_OK || mqtt_paho_create(&T.mqtt) != FUOTA_OK ||
	    mqtt_connect(T.mqtt, T.env.mqtt_url, &opt) != FUOTA_OK)
		return -1;
	snprintf(filter, sizeof(filter), "%s/command/+", T.base);
	if (mqtt_subscribe(T.mqtt, filter, 1, mqtt_queue_on_message, T.q) != FUOTA_OK ||
	    mqtt_subscribe(T.mqtt, "fuota/+/gateway/+/event/modem-update", 1, mqtt_queue_on_message,
	                   T.q) != FUOTA_OK)
		return -1;
	snprintf(modem, sizeof(modem),
	         "{\"gatewayId\":\"%s\",\"firmware\":\"03.15\",\"linkUp\":true}", T.gw);
	gw_publish("state/modem", modem, true);
	snprintf(T.fd.bin, sizeof(T.fd.bin), "%s", argv_bin);
	snprintf(T.fd.dsn, sizeof(T.fd.dsn), "%s", T.dsn);
	snprintf(T.fd.log, sizeof(T.fd.log), "%s/itest_gwupdate.fuotad.log", argv_dir);
	remove(T.fd.log);
	setenv("FUOTA_MQTT_URL", T.env.mqtt_url, 1);
	setenv("FUOTA_ENGINE_REGIONS", "EU868:eu868:off", 1);
	itest_sql_assert(T.dsn, "SELECT 1");
	if (itest_token(argv_bin, T.dsn, true, 1, T.admin) != 0 || itest_fuotad_start(&T.fd) != 0)
		return -1;
	itest_sql_assert(T.dsn, "INSERT INTO tenant (id, name) VALUES (2, 'other')");
	if (itest_token(argv_bin, T.dsn, false, 2, T.other) != 0 ||
	    add_device(T.admin, "20000000000000d1", 1) != 0)
		return -1;
	/* The retained state/modem read: the gateway's prefix is known. */
	for (int i = 0; i < 100; i++) {
		if (sql_rows("SELECT 1 FROM gateway_modem WHERE topic_prefix = 'eu868'") == 1)
			return 0;
		sleep_ms(100);
	}
	return -1;
}

static int group_teardown(void **state)
{
	(void)state;
	if (T.mqtt) {
		char topic[160];

		/* Retained messages of this run cleared. */
		static const char *const subs[] = {"state/modem", "command/modem-update",
		                                   "command/sessions"};
		for (size_t i = 0; i < 3; i++) {
			snprintf(topic, sizeof(topic), "%s/%s", T.base, subs[i]);
			mqtt_publish(T.mqtt, topic, "", 0, 1 | MQTT_RETAIN);
		}
		mqtt_disconnect(T.mqtt, 2000);
		mqtt_destroy(T.mqtt);
	}
	mqtt_queue_destroy(T.q);
	for (size_t i = 0; i < T.n_seen; i++) {
		free(T.seen_topic[i]);
		free(T.seen_body[i]);
	}
	return itest_fuotad_stop(&T.fd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_bad_input),
	        cmocka_unit_test(test_update_steps),
	        cmocka_unit_test(test_start_at_limits),
	        cmocka_unit_test(test_postponed_and_windows),
	        cmocka_unit_test(test_postponed_other_tenant),
	        cmocka_unit_test(test_sessions_statements),
	        cmocka_unit_test(test_gateway_own_update),
	        cmocka_unit_test(test_silent_gateway),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: itest_gwupdate FUOTAD SERVICES_ENV WORKDIR\n");
		return 2;
	}
	argv_bin = argv[1];
	argv_env = argv[2];
	argv_dir = argv[3];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
