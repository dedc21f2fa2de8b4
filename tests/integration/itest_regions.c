/* One job across regions (issue 14) through the REST API against a real PostgreSQL: a job with
 * EU868 and US915 devices is one parent job and a child job per region (each with its region's
 * devices and session), listed once, planned per region, acted on as a whole; requests that
 * cannot be run are refused naming the field. The engine is off: the states are the API's.
 * usage: itest_regions FUOTAD SERVICES_ENV WORKDIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "itest.h"

static struct {
	struct itest_env env;
	struct itest_fuotad fd;
	char dsn[512];
	char admin[80];
	long long firmware_id;
} T;

static const char *argv_bin, *argv_env, *argv_dir;

#define EU      "\"region\":\"EU868\",\"data_rate\":5,\"frequency_hz\":869525000"
#define US      "\"region\":\"us915\",\"data_rate\":8,\"frequency_hz\":923300000"
#define DEVICES "[\"5000000000000001\",\"5000000000000002\",\"5000000000000009\"]"
/* A job of the seed's fields with regions instead of region, data rate and frequency. */
#define JOB_FMT                                                                   \
	"{\"name\":\"two regions\",\"firmware_id\":%lld,\"redundancy_frames\":4," \
	"\"unicast_timeout_s\":60,\"multicast_class\":\"C\",\"regions\":[%s],\"devices\":%s}"

static void make_device(const char *eui, const char *region)
{
	char body[512];
	json_t *j = NULL;

	snprintf(body, sizeof(body),
	         "{\"dev_eui\":\"%s\",\"application_id\":\"app\",\"lorawan_version\":\"1.0.3\","
	         "\"gen_app_key\":\"000102030405060708090a0b0c0d0e0f\",\"class\":\"C\","
	         "\"region\":\"%s\"}",
	         eui, region);
	assert_int_equal(itest_call("POST", "/api/v1/devices", T.admin, body, &j), 201);
	json_decref(j);
}

/* POSTs a job of regions and devices to path; the status, *out the answer. */
static int post_job(const char *path, const char *regions, const char *devices, json_t **out)
{
	size_t cap = sizeof(JOB_FMT) + 24 + strlen(regions) + strlen(devices);
	char *body = malloc(cap);
	int status;

	assert_non_null(body);
	snprintf(body, cap, JOB_FMT, T.firmware_id, regions, devices);
	status = itest_call("POST", path, T.admin, body, out);
	free(body);
	return status;
}

static json_t *get_job(long long id)
{
	char path[64];
	json_t *j = NULL;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	return j;
}

static const char *job_state(long long id, char *out)
{
	json_t *j = get_job(id);

	snprintf(out, 16, "%s", jstr(j, "state"));
	json_decref(j);
	return out;
}

/* The parent shows its regions, each child its region's devices and session. */
static void check_parent(json_t *p)
{
	json_t *regs = json_object_get(p, "regions"), *eu = json_array_get(regs, 0),
	       *us = json_array_get(regs, 1);

	assert_string_equal(jstr(p, "state"), "pending");
	assert_string_equal(jstr(p, "region"), "EU868,US915");
	assert_int_equal(jint(p, "device_count"), 3);
	assert_true(json_is_null(json_object_get(p, "data_rate")));
	assert_int_equal(json_array_size(regs), 2);
	assert_string_equal(jstr(eu, "region"), "EU868");
	assert_int_equal(jint(eu, "device_count"), 2);
	assert_int_equal(jint(eu, "data_rate"), 5);
	assert_int_equal(jint(eu, "fragment_size"), 239); /* EU868 DR5's payload */
	assert_string_equal(jstr(us, "region"), "US915");
	assert_int_equal(jint(us, "device_count"), 1);
	assert_int_equal(jint(us, "frequency_hz"), 923300000);
	assert_int_equal(jint(us, "fragment_size"), 50); /* US915 DR8: 53 bytes */
	assert_string_equal(jstr(us, "state"), "pending");
	assert_string_equal(jstr(us, "phase"), "setup");
	assert_int_equal(jint(json_object_get(us, "steps"), "pending"), 1);
	/* The parent's plan: the totals and each region's plan. */
	assert_int_equal(jint(json_object_get(p, "plan"), "devices"), 3);
	assert_int_equal(json_array_size(json_object_get(json_object_get(p, "plan"), "regions")),
	                 2);
}

static void test_create(void **state)
{
	char path[96], st[16];
	json_t *j = NULL, *child, *items;
	long long id, eu_id, us_id;
	bool listed = false;

	(void)state;
	assert_int_equal(post_job("/api/v1/jobs", "{" EU "},{" US "}", DEVICES, &j), 201);
	check_parent(j);
	id = jint(j, "id");
	eu_id = jint(json_array_get(json_object_get(j, "regions"), 0), "job_id");
	us_id = jint(json_array_get(json_object_get(j, "regions"), 1), "job_id");
	json_decref(j);
	/* A device's jobs name the region's job and the job across regions it belongs to. */
	assert_int_equal(
	        itest_call("GET", "/api/v1/devices/5000000000000009/jobs", T.admin, NULL, &j), 200);
	items = json_is_array(j) ? j : json_object_get(j, "items");
	assert_int_equal(jint(json_array_get(items, 0), "job_id"), us_id);
	assert_int_equal(jint(json_array_get(items, 0), "parent_id"), id);
	json_decref(j);
	/* Counted once in the metrics, as listed. */
	{
		struct http_resp r;

		assert_int_equal(http_req(T.fd.port, "GET", "/metrics", NULL, NULL, NULL, 0, &r),
		                 0);
		assert_non_null(strstr(r.body, "fuota_jobs{state=\"pending\"} 1\n"));
		http_free(&r);
	}
	/* A child is an ordinary job of its region, linked to the parent. */
	child = get_job(us_id);
	assert_string_equal(jstr(child, "region"), "US915");
	assert_int_equal(jint(child, "parent_id"), id);
	assert_int_equal(jint(child, "data_rate"), 8);
	assert_true(json_is_null(json_object_get(child, "regions")));
	json_decref(child);
	/* Listed once: the parent stands for its children. */
	assert_int_equal(itest_call("GET", "/api/v1/jobs?limit=50", T.admin, NULL, &j), 200);
	items = json_object_get(j, "items");
	for (size_t i = 0; i < json_array_size(items); i++) {
		long long k = jint(json_array_get(items, i), "id");

		assert_true(k != eu_id && k != us_id);
		listed |= k == id;
	}
	assert_true(listed);
	json_decref(j);
	/* Asked for, the children are listed too. */
	assert_int_equal(
	        itest_call("GET", "/api/v1/jobs?limit=50&children=true", T.admin, NULL, &j), 200);
	items = json_object_get(j, "items");
	listed = false;
	for (size_t i = 0; i < json_array_size(items); i++)
		listed |= jint(json_array_get(items, i), "id") == us_id &&
		          jint(json_array_get(items, i), "parent_id") == id;
	assert_true(listed);
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/jobs?children=yes", T.admin, NULL, &j), 400);
	json_decref(j);
	/* Every region's devices, each row saying its region. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/devices", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	items = json_is_array(j) ? j : json_object_get(j, "items");
	assert_int_equal(json_array_size(items), 3);
	assert_string_equal(jstr(json_array_get(items, 2), "dev_eui"), "5000000000000009");
	assert_string_equal(jstr(json_array_get(items, 2), "region"), "US915");
	assert_string_equal(jstr(json_array_get(items, 0), "region"), "EU868");
	json_decref(j);
	/* The summary counts every region's devices. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/summary", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_int_equal(jint(j, "total"), 3);
	assert_int_equal(jint(json_object_get(j, "steps"), "pending"), 3);
	json_decref(j);
	/* Pause, resume and cancel act on every region. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/pause", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 200);
	assert_string_equal(jstr(j, "state"), "paused");
	json_decref(j);
	assert_string_equal(job_state(eu_id, st), "paused");
	assert_string_equal(job_state(us_id, st), "paused");
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/resume", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 200);
	assert_string_equal(jstr(j, "state"), "pending");
	json_decref(j);
	assert_string_equal(job_state(us_id, st), "pending");
	/* A child acted on alone: the parent follows (one region paused, none running). */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/pause", us_id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 200);
	json_decref(j);
	assert_string_equal(job_state(id, st), "paused");
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/cancel", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 200);
	assert_string_equal(jstr(j, "state"), "cancelled");
	json_decref(j);
	assert_string_equal(job_state(eu_id, st), "cancelled");
	assert_string_equal(job_state(us_id, st), "cancelled");
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 409); /* finished */
	json_decref(j);
	/* A region's job goes with its parent, never alone. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", us_id);
	assert_int_equal(itest_call("DELETE", path, T.admin, NULL, &j), 409);
	assert_string_equal(jstr(json_object_get(j, "error"), "code"), "region_job");
	json_decref(j);
	/* The parent's events: its own state changes and its regions'. */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events?limit=100", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	items = json_is_array(j) ? j : json_object_get(j, "items");
	assert_true(json_array_size(items) >= 9);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	assert_int_equal(itest_call("DELETE", path, T.admin, NULL, &j), 204);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", us_id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j),
	                 404); /* deleted with its parent */
	json_decref(j);
}

/* One plan per region and the totals, the regions' sessions side by side. */
static void test_plan(void **state)
{
	json_t *j = NULL, *regs, *tot;
	long long eu_s, us_s;

	(void)state;
	assert_int_equal(post_job("/api/v1/jobs:plan", "{" EU "},{" US ",\"fragment_size\":40}",
	                          DEVICES, &j),
	                 200);
	regs = json_object_get(j, "regions");
	tot = json_object_get(j, "plan");
	assert_int_equal(json_array_size(regs), 2);
	assert_int_equal(jint(j, "device_count"), 3);
	assert_int_equal(jint(json_object_get(json_array_get(regs, 1), "plan"), "fragment_size"),
	                 40);
	assert_int_equal(jint(json_array_get(regs, 0), "device_count"), 2);
	eu_s = jint(json_object_get(json_array_get(regs, 0), "plan"), "estimated_duration_s");
	us_s = jint(json_object_get(json_array_get(regs, 1), "plan"), "estimated_duration_s");
	assert_int_equal(jint(tot, "estimated_duration_s"), eu_s > us_s ? eu_s : us_s);
	assert_int_equal(jint(tot, "devices"), 3);
	json_decref(j);
}

/* o has n keys, in strictly increasing order as the answer gave them. */
static void keys_sorted(json_t *o, size_t n)
{
	const char *key, *prev = "";
	json_t *v;

	assert_int_equal(json_object_size(o), n);
	json_object_foreach(o, key, v)
	{
		assert_true(strcmp(prev, key) < 0);
		prev = key;
	}
}

/* Retrying a finished job across regions retries each region that has devices to retry, under
 * a new parent linked to the first. */
static void test_retry(void **state)
{
	char path[64], q[256];
	json_t *j = NULL, *regs;
	long long id, eu_id, us_id;

	(void)state;
	assert_int_equal(post_job("/api/v1/jobs", "{" EU "},{" US "}", DEVICES, &j), 201);
	id = jint(j, "id");
	eu_id = jint(json_array_get(json_object_get(j, "regions"), 0), "job_id");
	us_id = jint(json_array_get(json_object_get(j, "regions"), 1), "job_id");
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/retry", id);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 409); /* not finished */
	json_decref(j);
	/* Steps counted by name order whatever the plan, so an unchanged job reads the same. */
	snprintf(q, sizeof(q),
	         "UPDATE job_device SET step = CASE WHEN dev_eui = (SELECT min(dev_eui) FROM "
	         "job_device WHERE job_id = %lld) THEN 'session' ELSE 'failed' END "
	         "WHERE job_id = %lld",
	         eu_id, eu_id);
	assert_int_equal(itest_sql(T.dsn, q), 0);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	keys_sorted(json_object_get(json_array_get(json_object_get(j, "regions"), 0), "steps"), 2);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/summary", id);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	keys_sorted(json_object_get(j, "steps"), 3);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/retry", id);
	/* The engine's end, written here: EU868 done, the US915 device failed. */
	snprintf(q, sizeof(q),
	         "UPDATE job_device SET step = CASE WHEN job_id = %lld THEN 'done' ELSE "
	         "'failed' END WHERE job_id IN (%lld, %lld)",
	         eu_id, eu_id, us_id);
	assert_int_equal(itest_sql(T.dsn, q), 0);
	snprintf(q, sizeof(q),
	         "UPDATE job SET state = CASE WHEN id = %lld THEN 'succeeded' ELSE 'failed' END "
	         "WHERE id IN (%lld, %lld, %lld)",
	         eu_id, eu_id, us_id, id);
	assert_int_equal(itest_sql(T.dsn, q), 0);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, &j), 201);
	assert_int_equal(jint(j, "retry_of"), id);
	assert_int_equal(jint(j, "device_count"), 1);
	regs = json_object_get(j, "regions");
	assert_int_equal(json_array_size(regs), 1); /* EU868 has nothing to retry */
	assert_string_equal(jstr(json_array_get(regs, 0), "region"), "US915");
	assert_int_equal(jint(json_array_get(regs, 0), "device_count"), 1);
	assert_string_equal(jstr(j, "state"), "pending");
	json_decref(j);
	j = get_job(us_id);
	assert_int_equal(json_array_size(json_object_get(j, "retries")), 1);
	json_decref(j);
}

struct refusal {
	const char *regions, *devices, *field;
};

static void test_refused(void **state)
{
	static const struct refusal cases[] = {
	        {"{" EU "},{\"region\":\"XX999\",\"data_rate\":8,\"frequency_hz\":923300000}",
	         DEVICES, "regions[1].region"},
	        {"{" EU "},{\"region\":\"US915\",\"data_rate\":0,\"frequency_hz\":923300000}",
	         DEVICES, "regions[1].data_rate"},
	        {"{" EU "},{\"region\":\"US915\",\"data_rate\":8,\"frequency_hz\":869525000}",
	         DEVICES, "regions[1].frequency_hz"},
	        {"{" EU "},{" EU "}", DEVICES, "regions[1].region"},
	        {"{" EU "}", DEVICES, "devices"}, /* the US915 device's region is missing */
	        {"{" EU "},{" US "}", "[\"5000000000000001\"]", "regions[1].region"},
	        {"{" EU "},{" US ",\"color\":1}", DEVICES, "regions[1].color"},
	        {"", DEVICES, "regions"},
	        /* Checked as a single-region job's, named in its region. */
	        {"{" EU ",\"tx_power_dbm\":40},{" US "}", DEVICES, "regions[0].tx_power_dbm"},
	        {"{" EU "},{" US ",\"fragment_size\":200}", DEVICES, "regions[1].fragment_size"},
	};
	json_t *j = NULL;
	char body[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(post_job("/api/v1/jobs", cases[i].regions, cases[i].devices, &j),
		                 400);
		assert_string_equal(jstr(json_object_get(j, "error"), "field"), cases[i].field);
		json_decref(j);
	}
	/* Without devices: the job needs some (a plan does not). */
	snprintf(body, sizeof(body),
	         "{\"name\":\"x\",\"firmware_id\":%lld,\"redundancy_frames\":4,"
	         "\"unicast_timeout_s\":60,\"multicast_class\":\"C\",\"regions\":[{" EU "}]}",
	         T.firmware_id);
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 400);
	assert_string_equal(jstr(json_object_get(j, "error"), "field"), "devices");
	json_decref(j);
	assert_int_equal(itest_call("POST", "/api/v1/jobs:plan", T.admin, body, &j), 200);
	assert_int_equal(jint(j, "device_count"), 0);
	json_decref(j);
	/* The per-region fields are refused beside regions. */
	snprintf(body, sizeof(body),
	         "{\"name\":\"x\",\"firmware_id\":%lld,\"redundancy_frames\":4,"
	         "\"unicast_timeout_s\":60,\"multicast_class\":\"C\",\"data_rate\":5,"
	         "\"regions\":[{" EU "}],\"devices\":[\"5000000000000001\"]}",
	         T.firmware_id);
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 400);
	assert_string_equal(jstr(json_object_get(j, "error"), "field"), "data_rate");
	json_decref(j);
}

/* POSTs a multipart job form to path: its fields (name, value) with regions, then the image
 * (when with_file); the status, *out the answer. */
static int post_form(const char *path, const char *regions, const char *extra_name,
                     const char *extra, bool with_file, json_t **out)
{
	static const uint8_t img[1000];
	struct form_part parts[8];
	struct http_resp r;
	char ct[128];
	size_t n = 0, len;
	char *form;
	int status;

#define PART(k, v) (parts[n++] = (struct form_part){k, NULL, v, strlen(v)})
	PART("name", "form regions");
	PART("redundancy_frames", "4");
	PART("unicast_timeout_s", "60");
	PART("multicast_class", "C");
	PART("devices", "5000000000000001, 5000000000000002,5000000000000009");
	PART("regions", regions);
	if (extra_name)
		PART(extra_name, extra);
#undef PART
	if (with_file)
		parts[n++] = (struct form_part){"file", "fw-regions.bin", img, sizeof(img)};
	form = form_build(parts, n, &len, ct);
	assert_non_null(form);
	assert_int_equal(http_req(T.fd.port, "POST", path, T.admin, ct, form, len, &r), 0);
	free(form);
	status = r.status;
	*out = http_json(&r);
	http_free(&r);
	return status;
}

/* A multipart form takes regions as its "regions" field, the JSON array a JSON body gives: the
 * image uploaded with it is stored once, and every region's job sends it. */
static void test_form(void **state)
{
	json_t *j = NULL, *regs, *child;
	long long fw, id;

	(void)state;
	assert_int_equal(
	        post_form("/api/v1/jobs:plan", "[{" EU "},{" US "}]", NULL, NULL, true, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "regions")), 2);
	assert_int_equal(jint(j, "firmware_size"), 1000);
	json_decref(j);
	assert_int_equal(post_form("/api/v1/jobs", "[{" EU "},{" US "}]", NULL, NULL, true, &j),
	                 201);
	id = jint(j, "id");
	fw = jint(j, "firmware_id");
	regs = json_object_get(j, "regions");
	assert_true(fw > 0 && fw != T.firmware_id); /* the form's image, stored */
	assert_int_equal(json_array_size(regs), 2);
	assert_int_equal(jint(j, "device_count"), 3);
	assert_string_equal(jstr(json_array_get(regs, 1), "region"), "US915");
	assert_int_equal(jint(json_array_get(regs, 1), "data_rate"), 8);
	child = get_job(jint(json_array_get(regs, 1), "job_id"));
	assert_int_equal(jint(child, "firmware_id"), fw);
	assert_int_equal(jint(child, "parent_id"), id);
	json_decref(child);
	json_decref(j);
	{
		char path[64];

		snprintf(path, sizeof(path), "/api/v1/firmware/%lld", fw);
		assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
		assert_int_equal(jint(j, "size"), 1000);
		json_decref(j);
	}
}

/* A form's regions refused as a JSON body's are, naming the field. */
static void test_form_refused(void **state)
{
	static const struct {
		const char *regions, *extra_name, *extra, *field;
		bool file;
	} cases[] = {
	        {"EU868", NULL, NULL, "regions", true},     /* not JSON */
	        {"[{" EU "}", NULL, NULL, "regions", true}, /* cut short */
	        {"{" EU "}", NULL, NULL, "regions", true},  /* an object, not an array */
	        {"[]", NULL, NULL, "regions", true},
	        {"[{" EU "},{\"region\":\"US915\",\"data_rate\":0,\"frequency_hz\":923300000}]",
	         NULL, NULL, "regions[1].data_rate", true},
	        {"[{" EU "},{" US "}]", "data_rate", "5", "data_rate", true},
	        {"[{" EU "},{" US "}]", "firmware_id", "1", "firmware_id", true}, /* and a file */
	        {"[{" EU "},{" US "}]", NULL, NULL, "firmware_id", false},        /* no image */
	};
	json_t *j = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(post_form("/api/v1/jobs", cases[i].regions, cases[i].extra_name,
		                           cases[i].extra, cases[i].file, &j),
		                 400);
		assert_string_equal(jstr(json_object_get(j, "error"), "field"), cases[i].field);
		json_decref(j);
	}
}

/* How many times job_device was analyzed by a statement (autovacuum's runs not counted). */
static long long analyze_count(void)
{
	PGconn *c = PQconnectdb(T.dsn);
	long long n = itest_count(c, "SELECT analyze_count FROM pg_stat_user_tables "
	                             "WHERE relname = 'job_device'");

	PQfinish(c);
	return n;
}

/* A JSON array of the DevEUIs "<p>" + i in 14 hex digits, i in [from, to), malloc'd. */
static char *eui_range(const char *p, unsigned from, unsigned to)
{
	size_t cap = 3 + (size_t)(to - from) * 19, n = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	s[n++] = '[';
	for (unsigned i = from; i < to; i++)
		n += (size_t)snprintf(s + n, cap - n, "%s\"%s%014x\"", i > from ? "," : "", p, i);
	snprintf(s + n, cap - n, "]");
	return s;
}

/* A job's job_device rows land in one insert, and the planner's statistics are refreshed after
 * a large one (store_stats.c, at STORE_STATS_MIN_ROWS = 1000 new rows): a job across regions
 * counts every region's rows, though none of its regions is that large alone, and a job of one
 * region still does. */
static void test_stats(void **state)
{
	char sql[512], *eu, *us, *devs, *body;
	json_t *j = NULL;
	long long before;

	(void)state;
	snprintf(sql, sizeof(sql),
	         "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, class, "
	         "region, key_kind, key_box) SELECT d.tenant_id, r.p || lpad(to_hex(i), 14, '0'), "
	         "'app', '1.0.3', 'C', r.region, 'gen_app_key', '\\x00' FROM device d, "
	         "(VALUES ('70', 'EU868', 1500), ('71', 'US915', 500)) r(p, region, n), "
	         "generate_series(0, r.n - 1) i WHERE d.dev_eui = '5000000000000001'");
	assert_int_equal(itest_sql(T.dsn, sql), 0);
	before = analyze_count();
	assert_true(before >= 0);
	/* 500 + 500 devices: 1000 rows, 500 in each region's job. */
	eu = eui_range("70", 0, 500);
	us = eui_range("71", 0, 500);
	devs = malloc(strlen(eu) + strlen(us) + 1);
	assert_non_null(devs);
	sprintf(devs, "%.*s,%s", (int)strlen(eu) - 1, eu, us + 1);
	assert_int_equal(post_job("/api/v1/jobs", "{" EU "},{" US "}", devs, &j), 201);
	assert_int_equal(jint(j, "device_count"), 1000);
	json_decref(j);
	assert_int_equal(analyze_count(), before + 1);
	free(eu);
	free(us);
	free(devs);
	/* One region, 1000 devices more. */
	eu = eui_range("70", 500, 1500);
	body = malloc(strlen(eu) + 512);
	assert_non_null(body);
	sprintf(body,
	        "{\"name\":\"one region\",\"firmware_id\":%lld,\"redundancy_frames\":4,"
	        "\"unicast_timeout_s\":60,\"multicast_class\":\"C\"," EU ",\"devices\":%s}",
	        T.firmware_id, eu);
	assert_int_equal(itest_call("POST", "/api/v1/jobs", T.admin, body, &j), 201);
	assert_int_equal(jint(j, "device_count"), 1000);
	json_decref(j);
	assert_int_equal(analyze_count(), before + 2);
	free(eu);
	free(body);
}

static int group_setup(void **state)
{
	static uint8_t img[3000];

	(void)state;
	if (itest_fuotad_prepare(argv_env, "itest_regions", argv_bin, argv_dir, &T.env, T.dsn,
	                         sizeof(T.dsn), &T.fd) != 0)
		return -1;
	if (itest_api_start(&T.fd, T.admin, NULL) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 3);
	T.firmware_id = itest_firmware(T.admin, img, sizeof(img));
	if (T.firmware_id <= 0)
		return -1;
	make_device("5000000000000001", "EU868");
	make_device("5000000000000002", "EU868");
	make_device("5000000000000009", "US915");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return itest_fuotad_stop(&T.fd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_create),  cmocka_unit_test(test_plan),
	        cmocka_unit_test(test_refused), cmocka_unit_test(test_retry),
	        cmocka_unit_test(test_form),    cmocka_unit_test(test_form_refused),
	        cmocka_unit_test(test_stats),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: itest_regions FUOTAD SERVICES_ENV WORKDIR\n");
		return 2;
	}
	argv_bin = argv[1];
	argv_env = argv[2];
	argv_dir = argv[3];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
