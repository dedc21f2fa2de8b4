/* Issue 12: fuotad reads the modem state each gateway's fuota-gw publishes, retained, on
 * {prefix}/gateway/{id}/state/modem, through the real mosquitto, stores it in PostgreSQL and
 * shows it on the gateway in GET /api/v1/gateways; a malformed one is logged once and ignored.
 *
 *   usage: itest_gwmodem FUOTAD SERVICES_ENV WORKDIR */
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

#define DEV                                                                                   \
	"{\"dev_eui\":\"20000000000000c1\",\"application_id\":\"app-gwm\","                   \
	"\"lorawan_version\":\"1.0.3\",\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\"," \
	"\"class\":\"C\",\"region\":\"EU868\"}"

static struct {
	struct itest_env env;
	struct itest_fuotad fd;
	char dsn[512], admin[80];
	char gw[17], topic[96];
	struct mqtt_client *mqtt;
} T;

static const char *argv_bin, *argv_env, *argv_dir;

static void publish(const char *payload, bool retained)
{
	assert_int_equal(mqtt_publish(T.mqtt, T.topic, payload, strlen(payload),
	                              1 | (retained ? MQTT_RETAIN : 0)),
	                 FUOTA_OK);
}

static char *modem_json(const char *gw, const char *firmware)
{
	static char buf[512];

	snprintf(buf, sizeof(buf),
	         "{\"gatewayId\":\"%s\",\"firmware\":\"%s\",\"app\":\"A00.01\","
	         "\"imei\":\"004999010640000\",\"registration\":\"home\",\"cellId\":\"01A2D001\","
	         "\"tac\":\"0001\",\"act\":7,\"operator\":\"fuota-sim\",\"rssiDbm\":-73,\"csq\":20,"
	         "\"ber\":99,\"linkUp\":true,\"queueDepth\":4,\"queueDropped\":0,"
	         "\"relaySessions\":1}",
	         gw, firmware);
	return buf;
}

/* The modem object of the test gateway in GET /api/v1/gateways (a new reference, NULL for a
 * JSON null), or fails when the gateway is not listed. */
static json_t *listed_modem(void)
{
	json_t *j, *items, *m = NULL;
	bool found = false;

	assert_int_equal(api_call(T.fd.port, "GET", "/api/v1/gateways", T.admin, NULL, &j), 200);
	items = json_object_get(j, "items");
	for (size_t i = 0; i < json_array_size(items); i++) {
		json_t *g = json_array_get(items, i);

		if (strcmp(json_string_value(json_object_get(g, "gateway_id")), T.gw) != 0)
			continue;
		found = true;
		m = json_object_get(g, "modem");
		m = json_is_object(m) ? json_incref(m) : NULL;
	}
	json_decref(j);
	assert_true(found);
	return m;
}

/* Waits up to 10 s for the listed modem firmware to be fw. */
static json_t *wait_firmware(const char *fw)
{
	for (int i = 0; i < 100; i++) {
		json_t *m = listed_modem();

		if (m && strcmp(json_string_value(json_object_get(m, "firmware")), fw) == 0)
			return m;
		json_decref(m);
		sleep_ms(100);
	}
	fail_msg("modem firmware %s never listed", fw);
	return NULL;
}

/* Lines of fuotad's log holding needle. */
static int log_count(const char *needle)
{
	FILE *f = fopen(T.fd.log, "r");
	char line[1024];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static void test_state_listed(void **state)
{
	json_t *m;

	(void)state;
	/* Published before fuotad started (group_setup): the retained message reached it. */
	m = wait_firmware("03.15");
	assert_string_equal(json_string_value(json_object_get(m, "gatewayId")), T.gw);
	assert_string_equal(json_string_value(json_object_get(m, "registration")), "home");
	assert_string_equal(json_string_value(json_object_get(m, "operator")), "fuota-sim");
	assert_int_equal(json_integer_value(json_object_get(m, "rssiDbm")), -73);
	assert_int_equal(json_integer_value(json_object_get(m, "queueDepth")), 4);
	assert_true(json_is_true(json_object_get(m, "linkUp")));
	json_decref(m);
	/* A change replaces it. */
	publish(modem_json(T.gw, "03.16"), true);
	json_decref(wait_firmware("03.16"));
}

static void test_malformed_ignored(void **state)
{
	char other[17], bad_id[512];
	json_t *m;

	(void)state;
	assert_int_equal(log_count("modem state ignored"), 0);
	publish("{\"gatewayId\":\"nothex\"}", false);
	publish("not json at all", false);
	publish("{\"gatewayId\":\"", false);
	/* Well-formed, but another gateway's: not this one's state. */
	snprintf(other, sizeof(other), "%s", T.gw);
	other[15] = other[15] == '0' ? '1' : '0';
	snprintf(bad_id, sizeof(bad_id), "%s", modem_json(other, "09.99"));
	publish(bad_id, false);
	/* A good one after them, on its own gateway: read in order, so once it is listed the
	 * malformed ones were read before it and changed nothing. */
	publish(modem_json(T.gw, "03.17"), true);
	m = wait_firmware("03.17");
	json_decref(m);
	assert_int_equal(log_count("modem state ignored"), 1);
	/* After a good one, a malformed one is news again. */
	publish("[]", false);
	publish(modem_json(T.gw, "03.18"), true);
	json_decref(wait_firmware("03.18"));
	assert_int_equal(log_count("modem state ignored"), 2);
}

/* POST .../modem-update:plan for gateway gw with body; the status, *out the answer. */
static int plan(const char *gw, const char *body, json_t **out)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/v1/gateways/%s/modem-update:plan", gw);
	return api_call(T.fd.port, "POST", path, T.admin, body, out);
}

static void test_modem_plan(void **state)
{
	const char *ufota = "{\"method\":\"ufota\",\"image_size\":450000}";
	char sql[768];
	json_t *j;

	(void)state;
	/* No job counts on the gateway: now. */
	assert_int_equal(plan(T.gw, ufota, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "start_now");
	assert_int_equal(json_integer_value(json_object_get(j, "jobs_counted")), 0);
	assert_true(json_integer_value(json_object_get(j, "duration_s")) > 35 * 60);
	assert_true(json_is_null(json_object_get(j, "reason")));
	json_decref(j);
	/* The update routes' methods: uart, 4.5 MB at 115200 bit/s (a quarter more), then the
	 * 32-minute install and the 3-minute registration. */
	assert_int_equal(plan(T.gw, "{\"method\":\"uart\",\"image_size\":4500000}", &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "uart");
	assert_int_equal(json_integer_value(json_object_get(j, "duration_s")), 2589);
	json_decref(j);
	/* "download", deprecated, is http and answered as such. */
	assert_int_equal(plan(T.gw, "{\"method\":\"download\",\"image_size\":450000}", &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "http");
	json_decref(j);
	assert_int_equal(plan(T.gw, "{\"method\":\"ftp\",\"image_size\":450000}", &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "ftp");
	json_decref(j);
	/* A paused job of the tenant whose session through the gateway opens in 10 minutes. */
	itest_sql_assert(
	        T.dsn,
	        "INSERT INTO job (id, tenant_id, name, state, region, data_rate, frequency_hz, "
	        "unicast_timeout_s, unicast_attempts, multicast_class, multicast_timeout_s, plan, "
	        "device_count) VALUES (9001, 1, 'gwm', 'paused', 'EU868', 5, 869525000, 10, 3, "
	        "'C', 3600, '{}', 1)");
	snprintf(sql, sizeof(sql),
	         "INSERT INTO engine_job (job_id, frag_size, nb_frag, padding, redundancy, "
	         "redundancy_cap, session_timeout, session_start_ms, gateways) VALUES (9001, 50, "
	         "10, 0, 5, 5, 12, (extract(epoch FROM now()) * 1000)::bigint + 600000, "
	         "ARRAY['%s'])",
	         T.gw);
	itest_sql_assert(T.dsn, "%s", sql);
	assert_int_equal(plan(T.gw, ufota, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "start_at");
	assert_int_equal(json_integer_value(json_object_get(j, "blocking_job")), 9001);
	assert_int_equal(json_integer_value(json_object_get(j, "jobs_counted")), 1);
	assert_non_null(json_string_value(json_object_get(j, "start_at")));
	json_decref(j);
	/* Past the horizon: refused. */
	assert_int_equal(
	        plan(T.gw, "{\"method\":\"foat\",\"image_size\":4500000,\"horizon_s\":600}", &j),
	        200);
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "refuse");
	assert_non_null(json_string_value(json_object_get(j, "reason")));
	json_decref(j);
	/* Another tenant's job counts too, without being named. */
	itest_sql_assert(T.dsn, "INSERT INTO tenant (id, name) VALUES (9002, 'other')");
	itest_sql_assert(T.dsn, "UPDATE job SET tenant_id = 9002 WHERE id = 9001");
	assert_int_equal(plan(T.gw, ufota, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "start_at");
	assert_true(json_is_null(json_object_get(j, "blocking_job")));
	assert_true(json_is_true(json_object_get(j, "blocked_by_other_tenant")));
	json_decref(j);
	/* Bad requests, gateways not the tenant's. */
	assert_int_equal(plan(T.gw, "{\"method\":\"xmodem\",\"image_size\":1}", NULL), 400);
	assert_int_equal(plan(T.gw, "{\"method\":\"foat\"}", NULL), 400);
	assert_int_equal(plan(T.gw, "{\"method\":\"foat\",\"image_size\":0}", NULL), 400);
	assert_int_equal(plan(T.gw, "{\"method\":\"foat\",\"image_size\":9,\"x\":1}", NULL), 400);
	assert_int_equal(plan(T.gw, "[]", NULL), 400);
	assert_int_equal(plan("ffffffffffffff00", ufota, NULL), 404);
	assert_int_equal(plan("not-a-gateway", ufota, NULL), 404);
}

static int group_setup(void **state)
{
	struct mqtt_options opt;
	PGconn *c;
	PGresult *r;
	char sql[256];
	json_t *j = NULL;
	int st;

	(void)state;
	if (itest_env_load(argv_env, &T.env) != 0 ||
	    itest_db_create(&T.env, "itest_gwmodem", T.dsn, sizeof(T.dsn)) != 0)
		return -1;
	/* A gateway of this run only: the broker keeps retained messages of earlier runs. */
	snprintf(T.gw, sizeof(T.gw), "b1%014x", (unsigned)getpid() & 0xffffffu);
	snprintf(T.topic, sizeof(T.topic), "eu868/gateway/%s/state/modem", T.gw);
	memset(&opt, 0, sizeof(opt));
	opt.client_id = "itest-gwmodem";
	opt.clean_session = true;
	if (mqtt_paho_create(&T.mqtt) != FUOTA_OK ||
	    mqtt_connect(T.mqtt, T.env.mqtt_url, &opt) != FUOTA_OK)
		return -1;
	publish(modem_json(T.gw, "03.15"), true);
	sleep_ms(300);
	snprintf(T.fd.bin, sizeof(T.fd.bin), "%s", argv_bin);
	snprintf(T.fd.dsn, sizeof(T.fd.dsn), "%s", T.dsn);
	snprintf(T.fd.log, sizeof(T.fd.log), "%s/itest_gwmodem.fuotad.log", argv_dir);
	remove(T.fd.log);
	setenv("FUOTA_MQTT_URL", T.env.mqtt_url, 1);
	setenv("FUOTA_ENGINE_REGIONS", "EU868:eu868:off", 1);
	if (itest_token(argv_bin, T.dsn, true, 1, T.admin) != 0 || itest_fuotad_start(&T.fd) != 0)
		return -1;
	st = api_call(T.fd.port, "POST", "/api/v1/devices", T.admin, DEV, &j);
	json_decref(j);
	if (st != 201)
		return -1;
	/* The gateway heard tenant 1's device (what the engine writes on an uplink). */
	snprintf(sql, sizeof(sql),
	         "INSERT INTO engine_device_gateway (tenant_id, dev_eui, gateway_id, quality, "
	         "seen_ms) VALUES (1, '20000000000000c1', '%s', -80, 1700000000000)",
	         T.gw);
	c = PQconnectdb(T.dsn);
	r = PQexec(c, sql);
	st = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
	PQclear(r);
	PQfinish(c);
	return st;
}

static int group_teardown(void **state)
{
	(void)state;
	if (T.mqtt) {
		/* The retained state cleared: an empty message, which fuotad ignores. */
		mqtt_publish(T.mqtt, T.topic, "", 0, 1 | MQTT_RETAIN);
		mqtt_disconnect(T.mqtt, 2000);
		mqtt_destroy(T.mqtt);
	}
	return itest_fuotad_stop(&T.fd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_state_listed),
	        cmocka_unit_test(test_malformed_ignored),
	        cmocka_unit_test(test_modem_plan),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: itest_gwmodem FUOTAD SERVICES_ENV WORKDIR\n");
		return 2;
	}
	argv_bin = argv[1];
	argv_env = argv[2];
	argv_dir = argv[3];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
