/* Issue 14 against a real PostgreSQL: a job with only the seed's fields (JSON and multipart, create
 * and plan), the defaults it takes shown in the job; retrying a finished job's failed devices,
 * refused while it runs or when none failed, tenant-checked, linked both ways.
 * usage: itest_jobs FUOTAD SERVICES_ENV WORKDIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "itest.h"

static struct {
	struct itest_env env;
	struct itest_fuotad fd;
	char dsn[512];
	char admin[80];
	char tenant_b[80];
	long long firmware_id;
} T;

static const char *argv_bin, *argv_env, *argv_dir;

#define DEV_FMT                                                                         \
	"{\"dev_eui\":\"%s\",\"application_id\":\"app\",\"lorawan_version\":\"1.0.3\"," \
	"\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"%s\","        \
	"\"region\":\"%s\"}"

/* The seed's fields and nothing else: name, firmware, redundant frames, unicast timeout, data
 * rate, frequency, multicast group type, multicast timeout, devices. */
#define SEED_JOB                                                               \
	"{\"name\":\"seed\",\"firmware_id\":%lld,\"redundancy_frames\":4,"     \
	"\"unicast_timeout_s\":60,\"data_rate\":5,\"frequency_hz\":869525000," \
	"\"multicast_class\":\"%s\",\"multicast_timeout_s\":%u,\"devices\":%s}"

static const char *err(json_t *j, const char *key)
{
	return jstr(json_object_get(j, "error"), key);
}

static void make_device(const char *eui, const char *cls, const char *region)
{
	char body[512];
	json_t *j = NULL;

	snprintf(body, sizeof(body), DEV_FMT, eui, cls, region);
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, body, &j), 201);
	json_decref(j);
}

static void fixture(void)
{
	static uint8_t img[12000];

	if (T.firmware_id)
		return;
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7);
	T.firmware_id = itest_firmware(T.admin, img, sizeof(img));
	assert_true(T.firmware_id > 0);
	make_device("3000000000000001", "C", "EU868");
	make_device("3000000000000002", "C", "EU868");
	make_device("3000000000000003", "B", "EU868");
	make_device("3000000000000009", "C", "US915");
}

/* What a job took for the fields the seed does not name, as GET /jobs/{id} shows it. */
static void expect_defaults(long long id, const char *cls)
{
	char path[64];
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_string_equal(jstr(j, "region"), "EU868"); /* the devices' */
	assert_int_equal(jint(j, "unicast_attempts"), 3);
	/* The plan's fragment size and power, written in the job. */
	assert_int_equal(jint(j, "fragment_size"),
	                 jint(json_object_get(j, "plan"), "fragment_size"));
	assert_int_equal(jint(j, "fragment_size"), 239); /* EU868 DR5 */
	assert_int_equal(jint(j, "tx_power_dbm"), 29);   /* 869.525 MHz */
	if (cls[0] == 'B')
		assert_true(json_is_integer(json_object_get(j, "ping_slot_periodicity")));
	else
		assert_true(json_is_null(json_object_get(j, "ping_slot_periodicity")));
	assert_true(json_is_null(json_object_get(j, "retry_of")));
	assert_int_equal(json_array_size(json_object_get(j, "retries")), 0);
	json_decref(j);
}

static void test_seed_json(void **state)
{
	char body[1024];
	json_t *j, *s;
	long long id;

	(void)state;
	fixture();
	snprintf(body, sizeof(body), SEED_JOB, T.firmware_id, "C", 1024u,
	         "[\"3000000000000001\",\"3000000000000002\"]");
	assert_int_equal(itest_call("POST", "/api/v1/jobs:plan", T.admin, body, &j), 200);
	s = json_object_get(j, "settings");
	assert_string_equal(jstr(s, "region"), "EU868");
	assert_int_equal(jint(s, "unicast_attempts"), 3);
	assert_int_equal(jint(s, "fragment_size"), 239);
	/* 3 unicast steps x 3 attempts x 60 s */
	assert_int_equal(jint(json_object_get(j, "plan"), "unicast_setup_s"), 540);
	json_decref(j);
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	id = jint(j, "id");
	assert_int_equal(jint(j, "multicast_timeout_s"), 1024);
	json_decref(j);
	expect_defaults(id, "C");

	/* Class B: a periodicity chosen from the duty cycle, and kept. */
	snprintf(body, sizeof(body), SEED_JOB, T.firmware_id, "B", 128u << 6,
	         "[\"3000000000000003\"]");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	id = jint(j, "id");
	assert_in_range(jint(j, "ping_slot_periodicity"), 0, 7);
	json_decref(j);
	expect_defaults(id, "B");
}

static void test_seed_multipart(void **state)
{
	static uint8_t img[3000];
	struct form_part parts[] = {
	        {"name", NULL, "seed form", 9},
	        {"file", "image.bin", img, sizeof(img)},
	        {"redundancy_frames", NULL, "4", 1},
	        {"unicast_timeout_s", NULL, "60", 2},
	        {"data_rate", NULL, "5", 1},
	        {"frequency_hz", NULL, "869525000", 9},
	        {"multicast_class", NULL, "C", 1},
	        {"multicast_timeout_s", NULL, "512", 3},
	        {"devices", NULL, "3000000000000001 3000000000000002", 33},
	};
	const char *routes[] = {"/api/v1/jobs:plan", "/api/v1/jobs"};
	struct http_resp r;
	char ct[128];
	size_t len;
	char *body;
	json_t *j;

	(void)state;
	fixture();
	memset(img, 0x3c, sizeof(img));
	body = form_build(parts, sizeof(parts) / sizeof(parts[0]), &len, ct);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(http_req(T.fd.port, "POST", routes[i], T.admin, ct, body, len, &r),
		                 0);
		assert_int_equal(r.status, i ? 201 : 200);
		j = http_json(&r);
		if (i)
			expect_defaults(jint(j, "id"), "C");
		else
			assert_int_equal(jint(json_object_get(j, "settings"), "unicast_attempts"),
			                 3);
		json_decref(j);
		http_free(&r);
	}
	free(body);
}

/* A default never hides a mistake: devices of two regions, or none known, are refused. */
static void test_seed_region(void **state)
{
	char body[1024];
	json_t *j;

	(void)state;
	fixture();
	snprintf(body, sizeof(body), SEED_JOB, T.firmware_id, "C", 1024u,
	         "[\"3000000000000001\",\"3000000000000009\"]");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 400);
	assert_string_equal(err(j, "field"), "region");
	assert_non_null(strstr(err(j, "message"), "US915"));
	json_decref(j);
	snprintf(body, sizeof(body), SEED_JOB, T.firmware_id, "C", 1024u, "[\"30000000000000ff\"]");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 400);
	assert_string_equal(err(j, "field"), "devices");
	json_decref(j);
	/* Another tenant's devices are not known to this one either. */
	snprintf(body, sizeof(body), SEED_JOB, T.firmware_id, "C", 1024u, "[\"3000000000000001\"]");
	assert_int_equal(itest_call("POST", "/api/v1/jobs:plan", T.tenant_b, body, &j), 400);
	assert_string_equal(err(j, "field"), "devices");
	json_decref(j);
	/* A plan without devices needs the region. */
	assert_int_equal(itest_call("POST", "/api/v1/jobs:plan", T.admin,
	                            "{\"firmware_size\":1000,\"redundancy_frames\":2,"
	                            "\"unicast_timeout_s\":60,\"data_rate\":5,"
	                            "\"frequency_hz\":869525000,\"multicast_class\":\"C\"}",
	                            &j),
	                 400);
	assert_string_equal(err(j, "field"), "region");
	json_decref(j);
}

/* A job of three devices the engine finished: one done, one failed, one failed at setup. */
static long long finished_job(const char *state, bool all_done)
{
	char body[1024];
	json_t *j;
	long long id;

	snprintf(body, sizeof(body), SEED_JOB, T.firmware_id, "C", 1024u,
	         "[\"3000000000000001\",\"3000000000000002\"]");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	id = jint(j, "id");
	json_decref(j);
	/* What the engine writes when a job ends (seng_job_finish). */
	itest_sql_assert(
	        T.dsn,
	        "UPDATE job_device SET step = CASE WHEN dev_eui = '3000000000000001' OR %s "
	        "THEN 'done' ELSE 'failed' END, failure_reason = 'FragSessionStatusAns: missing 3' "
	        "WHERE job_id = %lld",
	        all_done ? "true" : "false", id);
	itest_sql_assert(T.dsn, "UPDATE job SET state = '%s', finished_at = now() WHERE id = %lld",
	                 state, id);
	return id;
}

/* A reboot_at a minute ahead, before the job's estimated end (720 s of unicast steps alone):
 * POST /jobs:plan warns reboot_before_end and still plans it; the job is not refused for it. */
static void plan_reboot_soon(char *body, size_t size)
{
	char at[32];
	time_t t = time(NULL) + 60;
	json_t *j, *w;
	struct tm tm;

	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	snprintf(body, size, SEED_JOB, T.firmware_id, "C", 1024u,
	         "[\"3000000000000002\"],\"target_version\":65538,\"reboot_at\":\"");
	snprintf(body + strlen(body) - 1, size - strlen(body) + 1, "%s\"}", at);
	assert_int_equal(itest_call("POST", "/api/v1/jobs:plan", T.admin, body, &j), 200);
	w = json_array_get(json_object_get(j, "warnings"), 0);
	assert_string_equal(jstr(w, "code"), "reboot_before_end");
	assert_true(jint(w, "early_s") >= 720 - 60);
	assert_true(jint(w, "estimated_end_ms") > ((int64_t)t - 60) * 1000 + 720000 - 5000);
	json_decref(j);
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	json_decref(j);
}

/* TS006 in the campaign: target_version planned (the devices with TS006 are asked DevVersionReq,
 * one more unicast step), stored, shown, and kept by a retry. */
static void test_target_version(void **state)
{
	char body[1024];
	json_t *j, *vc;

	(void)state;
	fixture();
	itest_sql_assert(T.dsn,
	                 "UPDATE device SET ts006_version = 1 WHERE dev_eui = '3000000000000002'");
	snprintf(body, sizeof(body), SEED_JOB, T.firmware_id, "C", 1024u,
	         "[\"3000000000000001\",\"3000000000000002\"],\"target_version\":65538");
	assert_int_equal(itest_call("POST", "/api/v1/jobs:plan", T.admin, body, &j), 200);
	vc = json_object_get(json_object_get(j, "plan"), "version_check");
	assert_int_equal(jint(vc, "target_version"), 65538);
	assert_int_equal(jint(vc, "devices_asked"), 1);
	/* 4 unicast steps x 3 attempts x 60 s */
	assert_int_equal(jint(json_object_get(j, "plan"), "unicast_setup_s"), 720);
	json_decref(j);
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	assert_int_equal(jint(j, "target_version"), 65538);
	vc = json_object_get(json_object_get(j, "plan"), "version_check");
	assert_int_equal(jint(vc, "devices_asked"), 1);
	json_decref(j);
	/* With a reboot after the clean-up. */
	snprintf(body, sizeof(body), SEED_JOB, T.firmware_id, "C", 1024u,
	         "[\"3000000000000002\"],\"target_version\":65538,\"reboot_in_s\":30");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	assert_int_equal(jint(j, "reboot_in_s"), 30);
	json_decref(j);
	snprintf(body, sizeof(body), SEED_JOB, T.firmware_id, "C", 1024u,
	         "[\"3000000000000002\"],\"target_version\":65538,"
	         "\"reboot_at\":\"2030-01-31T03:00:00Z\"");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	assert_true(json_is_null(json_object_get(j, "reboot_in_s")));
	assert_non_null(strstr(jstr(j, "reboot_at"), "2030-01-31T03:00:00"));
	json_decref(j);
	assert_int_equal(itest_call("POST", "/api/v1/jobs:plan", T.admin, body, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "warnings")), 0);
	json_decref(j);
	plan_reboot_soon(body, sizeof(body));
	/* A reboot_at already past: refused by create and plan, naming the field (the devices
	 * would only be rebooted at once). */
	snprintf(body, sizeof(body), SEED_JOB, T.firmware_id, "C", 1024u,
	         "[\"3000000000000002\"],\"target_version\":65538,"
	         "\"reboot_at\":\"2020-01-31T03:00:00Z\"");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 400);
	assert_string_equal(err(j, "field"), "reboot_at");
	json_decref(j);
	assert_int_equal(itest_call("POST", "/api/v1/jobs:plan", T.admin, body, &j), 400);
	assert_string_equal(err(j, "field"), "reboot_at");
	json_decref(j);
	/* Out of 32 bits: refused, naming the field. */
	snprintf(body, sizeof(body), SEED_JOB, T.firmware_id, "C", 1024u,
	         "[\"3000000000000001\"],\"target_version\":4294967296");
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 400);
	assert_string_equal(err(j, "field"), "target_version");
	json_decref(j);
	itest_sql_assert(T.dsn,
	                 "UPDATE device SET ts006_version = 0 WHERE dev_eui = '3000000000000002'");
}

static void test_retry(void **state)
{
	char path[96];
	json_t *j, *d;
	long long id, retry;

	(void)state;
	fixture();
	id = finished_job("failed", false);
	itest_sql_assert(T.dsn, "UPDATE job SET target_version = 7 WHERE id = %lld", id);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/retry", id);
	/* Another tenant: not found, nothing created. */
	assert_int_equal(itest_call("POST", path, T.tenant_b, NULL, &j), 404);
	json_decref(j);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 201);
	retry = jint(j, "id");
	assert_true(retry > id);
	assert_int_equal(jint(j, "retry_of"), id);
	assert_string_equal(jstr(j, "state"), "pending");
	assert_int_equal(jint(j, "device_count"), 1);
	assert_int_equal(jint(j, "firmware_id"), T.firmware_id);
	/* Same settings, defaults included. */
	assert_int_equal(jint(j, "redundancy_frames"), 4);
	assert_int_equal(jint(j, "unicast_attempts"), 3);
	assert_int_equal(jint(j, "multicast_timeout_s"), 1024);
	assert_int_equal(jint(j, "fragment_size"), 239);
	assert_int_equal(jint(j, "target_version"), 7);
	assert_string_equal(jstr(j, "region"), "EU868");
	assert_non_null(strstr(jstr(j, "name"), "retry"));
	json_decref(j);
	/* Only the failed device. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/devices", retry);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	d = json_array_get(json_object_get(j, "items"), 0);
	assert_string_equal(jstr(d, "dev_eui"), "3000000000000002");
	assert_string_equal(jstr(d, "step"), "pending");
	json_decref(j);
	/* The first job lists it, and its event log says so. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "retries")), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "retries"), 0)),
	                 retry);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events?limit=50", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	d = json_array_get(json_object_get(j, "items"),
	                   json_array_size(json_object_get(j, "items")) - 1);
	assert_int_equal(jint(json_object_get(d, "data"), "retried_by"), retry);
	json_decref(j);

	/* While the retry is under way, a second one is refused. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/retry", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 409);
	assert_string_equal(err(j, "code"), "retry_running");
	json_decref(j);
	/* The retry itself runs: refused, clearly. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/retry", retry);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 409);
	assert_string_equal(err(j, "code"), "invalid_state");
	assert_string_equal(err(j, "field"), "state");
	assert_non_null(strstr(err(j, "message"), "pending"));
	json_decref(j);
	itest_sql_assert(T.dsn, "UPDATE job SET state = 'running' WHERE id = %lld", retry);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 409);
	assert_non_null(strstr(err(j, "message"), "running"));
	json_decref(j);
	/* Once it has finished, the first job may be retried again. */
	itest_sql_assert(T.dsn,
	                 "UPDATE job SET state = 'succeeded', finished_at = now() WHERE id = %lld",
	                 retry);
	itest_sql_assert(T.dsn, "UPDATE job_device SET step = 'done' WHERE job_id = %lld", retry);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/retry", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 201);
	json_decref(j);
	/* The retry succeeded for every device: nothing to retry. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/retry", retry);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 409);
	assert_string_equal(err(j, "code"), "nothing_to_retry");
	json_decref(j);
	assert_int_equal(itest_call("POST", "/api/v1/jobs/99999999/retry", T.admin, NULL, &j), 404);
	json_decref(j);
}

/* The retry of job id, answered 201; its state event's data in *ev (json_decref both). */
static json_t *retried(long long id, json_t **ev)
{
	char path[96];
	json_t *j, *l;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/retry", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 201);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events?limit=50", jint(j, "id"));
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &l), 200);
	*ev = json_incref(json_object_get(json_array_get(json_object_get(l, "items"), 0), "data"));
	json_decref(l);
	return j;
}

/* A retry does not copy a reboot_at already past (the API would refuse it): it reboots each
 * device as soon as it has the image (reboot_in_s 1) and its state event says why; a reboot_at
 * still ahead, and a reboot_in_s, are copied. */
static void test_retry_reboot(void **state)
{
	json_t *j, *ev;
	long long id;

	(void)state;
	fixture();
	id = finished_job("failed", false);
	itest_sql_assert(T.dsn,
	                 "UPDATE job SET target_version = 7, reboot_at = now() - interval '1 hour' "
	                 "WHERE id = "
	                 "%lld",
	                 id);
	j = retried(id, &ev);
	assert_true(json_is_null(json_object_get(j, "reboot_at")));
	assert_int_equal(jint(j, "reboot_in_s"), 1);
	assert_true(json_is_string(json_object_get(ev, "reboot_at_passed")));
	json_decref(ev);
	json_decref(j);
	id = finished_job("failed", false);
	itest_sql_assert(T.dsn,
	                 "UPDATE job SET target_version = 7, reboot_at = '2030-01-31T03:00:00Z' "
	                 "WHERE id = %lld",
	                 id);
	j = retried(id, &ev);
	assert_non_null(strstr(jstr(j, "reboot_at"), "2030-01-31T03:00:00"));
	assert_true(json_is_null(json_object_get(j, "reboot_in_s")));
	assert_null(json_object_get(ev, "reboot_at_passed"));
	json_decref(ev);
	json_decref(j);
	id = finished_job("failed", false);
	itest_sql_assert(T.dsn,
	                 "UPDATE job SET target_version = 7, reboot_in_s = 30 WHERE id = %lld", id);
	j = retried(id, &ev);
	assert_int_equal(jint(j, "reboot_in_s"), 30);
	assert_true(json_is_null(json_object_get(j, "reboot_at")));
	json_decref(ev);
	json_decref(j);
}

/* A succeeded job with one device failed is retried; one where all are done is not. */
static void test_retry_succeeded(void **state)
{
	char path[96];
	json_t *j;
	long long id;

	(void)state;
	fixture();
	id = finished_job("succeeded", true);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/retry", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 409);
	assert_string_equal(err(j, "code"), "nothing_to_retry");
	json_decref(j);
	id = finished_job("succeeded", false);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/retry", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 201);
	assert_int_equal(jint(j, "device_count"), 1);
	json_decref(j);
}

static int group_setup(void **state)
{
	(void)state;
	if (itest_fuotad_prepare(argv_env, "itest_jobs", argv_bin, argv_dir, &T.env, T.dsn,
	                         sizeof(T.dsn), &T.fd) != 0)
		return -1;
	/* The API alone: the tests write the engine's final states themselves. */
	return itest_api_start(&T.fd, T.admin, T.tenant_b);
}

static int group_teardown(void **state)
{
	(void)state;
	return itest_fuotad_stop(&T.fd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_seed_json),      cmocka_unit_test(test_seed_multipart),
	        cmocka_unit_test(test_seed_region),    cmocka_unit_test(test_retry),
	        cmocka_unit_test(test_retry_reboot),   cmocka_unit_test(test_retry_succeeded),
	        cmocka_unit_test(test_target_version),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: itest_jobs FUOTAD SERVICES_ENV WORKDIR\n");
		return 2;
	}
	argv_bin = argv[1];
	argv_env = argv[2];
	argv_dir = argv[3];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
