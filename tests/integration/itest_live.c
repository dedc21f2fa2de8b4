/* The live event stream GET /api/v1/jobs/{id}/events/stream against a real fuotad and
 * PostgreSQL: events arrive within a second of their insertion, a reconnection with
 * Last-Event-ID (or ?after=) resumes after that event and repeats none, another tenant's job is
 * not found, quiet streams get heartbeats, the per-tenant bound answers 429 and frees its slots
 * when clients leave, and fuotad stops cleanly with streams open. Also what the UI's other pages
 * read: a job's summary, its devices by step with their missing fragments, the device search, a
 * device's jobs, the gateways' live jobs, and the regions' data rates and frequencies.
 * usage: itest_live FUOTAD SERVICES_ENV WORKDIR */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "itest.h"

#define PER_TENANT 4

static struct {
	struct itest_env env;
	struct itest_fuotad fd;
	char dsn[512];
	char admin[80];
	char tenant_b[80];
	long long job; /* the admin tenant's job, start far ahead (the engine is off anyway) */
} T;

static const char *argv_bin, *argv_env, *argv_dir;

/* One open stream: the socket and everything read from it. */
struct sse {
	int fd;
	char buf[65536];
	size_t len;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Opens path with token and extra header lines (or ""); returns 0 with the socket open. */
static int sse_open(struct sse *s, const char *path, const char *token, const char *extra)
{
	struct sockaddr_in sa;
	char req[1024];
	int n;

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)T.fd.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	n = snprintf(req, sizeof(req),
	             "GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
	             "Authorization: Bearer %s\r\n%s\r\n",
	             path, token, extra);
	return write(s->fd, req, (size_t)n) == n ? 0 : -1;
}

/* Reads until needle is in what was read or timeout_ms passes; true when found. */
static bool sse_wait(struct sse *s, const char *needle, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	while (!strstr(s->buf, needle)) {
		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		uint64_t now = now_ms();
		ssize_t r;

		if (now >= end || s->len + 1 >= sizeof(s->buf))
			return false;
		if (poll(&p, 1, (int)(end - now)) <= 0)
			continue;
		r = read(s->fd, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
		if (r <= 0)
			return strstr(s->buf, needle) != NULL;
		s->len += (size_t)r;
		s->buf[s->len] = 0;
	}
	return true;
}

static void sse_close(struct sse *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static long long create_job(const char *token)
{
	static const char fw[300] = {1, 2, 3};
	struct form_part parts[2] = {{"file", "fw.bin", fw, sizeof(fw)}, {"name", NULL, "fw", 2}};
	char ct[128], body[1024];
	size_t blen;
	char *form = form_build(parts, 2, &blen, ct);
	struct http_resp r;
	long long fw_id, id = -1;
	json_t *j;

	assert_int_equal(itest_call("POST", "/api/v1/devices", token,
	                            "{\"dev_eui\":\"0102030405060708\",\"application_id\":\"a\","
	                            "\"lorawan_version\":\"1.0.3\",\"gen_app_key\":"
	                            "\"000102030405060708090a0b0c0d0e0f\",\"class\":\"C\","
	                            "\"region\":\"EU868\"}",
	                            NULL),
	                 201);
	assert_int_equal(http_req(T.fd.port, "POST", "/api/v1/firmware", token, ct, form, blen, &r),
	                 0);
	free(form);
	assert_int_equal(r.status, 201);
	j = http_json(&r);
	fw_id = (long long)json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	http_free(&r);
	snprintf(body, sizeof(body),
	         "{\"name\":\"live\",\"firmware_id\":%lld,\"devices\":[\"0102030405060708\"],"
	         "\"redundancy_frames\":1,\"unicast_timeout_s\":60,\"unicast_attempts\":1,"
	         "\"data_rate\":5,\"frequency_hz\":869525000,\"region\":\"EU868\","
	         "\"multicast_class\":\"C\",\"start_at\":\"2099-01-01T00:00:00Z\"}",
	         fw_id);
	assert_int_equal(itest_call("POST", "/api/v1/jobs", token, body, &j), 201);
	id = (long long)json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	return id;
}

static void action(const char *what)
{
	char path[96];

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/%s", T.job, what);
	assert_int_equal(itest_call("POST", path, T.admin, NULL, NULL), 200);
}

/* The id of the last "id: N" line in s (0: none). */
static long long last_event_id(const struct sse *s)
{
	const char *p = s->buf, *q;
	long long id = 0;

	while ((q = strstr(p, "\nid: ")) != NULL) {
		id = atoll(q + 5);
		p = q + 1;
	}
	return id;
}

/* The id of the event whose data holds needle (0: none). */
static long long id_before(const struct sse *s, const char *needle)
{
	const char *at = strstr(s->buf, needle), *p = s->buf, *q;
	long long id = 0;

	while (at && (q = strstr(p, "\nid: ")) != NULL && q < at) {
		id = atoll(q + 5);
		p = q + 1;
	}
	return id;
}

static void test_events_arrive(void **state)
{
	struct sse s;
	char path[96];
	uint64_t t0;

	(void)state;
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events/stream", T.job);
	assert_int_equal(sse_open(&s, path, T.admin, ""), 0);
	assert_true(sse_wait(&s, "retry: ", 3000));
	assert_non_null(strstr(s.buf, "HTTP/1.1 200"));
	assert_non_null(strstr(s.buf, "text/event-stream"));
	assert_non_null(strstr(s.buf, "no-cache"));
	/* The job's log so far: nothing before the first action. */
	assert_null(strstr(s.buf, "\"paused\""));
	t0 = now_ms();
	action("pause");
	assert_true(sse_wait(&s, "\"to\":\"paused\"", 3000));
	/* Pushed, not polled by the client: well within a second (poll 100 ms here). */
	assert_true(now_ms() - t0 < 1000);
	printf("live: the pause event arrived %llu ms after the request was sent\n",
	       (unsigned long long)(now_ms() - t0));
	assert_non_null(strstr(s.buf, "\nid: "));
	action("resume");
	assert_true(sse_wait(&s, "\"action\":\"resume\"", 3000));
	sse_close(&s);
}

static void test_resume(void **state)
{
	struct sse all, resumed, after;
	char path[96], hdr[64];
	long long first;

	(void)state;
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events/stream", T.job);
	/* The whole log: the pause and the resume of the previous test. */
	assert_int_equal(sse_open(&all, path, T.admin, ""), 0);
	assert_true(sse_wait(&all, "\"action\":\"resume\"", 3000));
	assert_non_null(strstr(all.buf, "\"action\":\"pause\""));
	first = id_before(&all, "\"action\":\"pause\"");
	assert_true(first > 0);
	/* From after the pause: the resume, never the pause again. */
	snprintf(hdr, sizeof(hdr), "Last-Event-ID: %lld\r\n", first);
	assert_int_equal(sse_open(&resumed, path, T.admin, hdr), 0);
	assert_true(sse_wait(&resumed, "\"action\":\"resume\"", 3000));
	assert_null(strstr(resumed.buf, "\"action\":\"pause\""));
	/* ?after= does the same for a page that has read the log itself... */
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events/stream?after=%lld", T.job,
	         last_event_id(&all));
	assert_int_equal(sse_open(&after, path, T.admin, ""), 0);
	assert_true(sse_wait(&after, "retry: ", 3000));
	action("pause");
	assert_true(sse_wait(&after, "\"action\":\"pause\"", 3000));
	assert_null(strstr(after.buf, "\"action\":\"resume\""));
	/* ...and the stream of every tab sees the new one. */
	assert_true(sse_wait(&all, "\"to\":\"paused\",\"action\":\"pause\"", 3000) ||
	            sse_wait(&all, "\"action\":\"pause\"", 100));
	assert_int_equal(last_event_id(&after), last_event_id(&all));
	action("resume");
	sse_close(&all);
	sse_close(&resumed);
	sse_close(&after);
}

static void test_refusals(void **state)
{
	char path[96];
	json_t *j;

	(void)state;
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events/stream", T.job);
	/* Another tenant's job is not found, as every other route answers it. */
	assert_int_equal(itest_call("GET", path, T.tenant_b, NULL, &j), 404);
	json_decref(j);
	assert_int_equal(itest_call("GET", path, NULL, NULL, NULL), 401);
	assert_int_equal(
	        itest_call("GET", "/api/v1/jobs/999999/events/stream", T.admin, NULL, NULL), 404);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events/stream?after=-1", T.job);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 400);
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(j, "error"), "field")), "after");
	json_decref(j);
}

static void test_bad_last_event_id(void **state)
{
	struct sse s;
	char path[96];

	(void)state;
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events/stream", T.job);
	assert_int_equal(sse_open(&s, path, T.admin, "Last-Event-ID: 12abc\r\n"), 0);
	assert_true(sse_wait(&s, "Last-Event-ID", 3000));
	assert_non_null(strstr(s.buf, "HTTP/1.1 400"));
	sse_close(&s);
}

static void test_heartbeat(void **state)
{
	struct sse s;
	char path[96];

	(void)state;
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events/stream?after=%d", T.job, 999999);
	assert_int_equal(sse_open(&s, path, T.admin, ""), 0);
	/* sse_heartbeat_s = 1 here. */
	assert_true(sse_wait(&s, ": heartbeat", 3500));
	sse_close(&s);
}

/* Opens up to n streams; returns how many answered 200, and the status of the first other. */
static int open_streams(struct sse *s, int n, int *other)
{
	char path[96];
	int ok = 0;

	*other = 0;
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/events/stream", T.job);
	for (int i = 0; i < n; i++) {
		assert_int_equal(sse_open(&s[i], path, T.admin, ""), 0);
		assert_true(sse_wait(&s[i], "\r\n\r\n", 3000));
		if (strstr(s[i].buf, "HTTP/1.1 200"))
			ok++;
		else if (!*other)
			*other = atoi(s[i].buf + 9);
	}
	return ok;
}

static void test_bounded(void **state)
{
	struct sse s[PER_TENANT + 1], again[PER_TENANT];
	int other, n;

	(void)state;
	/* A closed client's slot is held until a heartbeat (1 s here) fails to reach it, the
	 * second one at most: the earlier tests' slots are all free after 3 s. */
	sleep(3);
	n = open_streams(s, PER_TENANT + 1, &other);
	for (int i = 0; i < PER_TENANT + 1; i++)
		sse_close(&s[i]);
	assert_int_equal(n, PER_TENANT);
	assert_int_equal(other, 429);
	/* The slots come back once the heartbeats find the clients gone. */
	sleep(3);
	n = open_streams(again, PER_TENANT, &other);
	for (int i = 0; i < PER_TENANT; i++)
		sse_close(&again[i]);
	assert_int_equal(n, PER_TENANT);
}

static void test_summary_and_step(void **state)
{
	char path[96];
	json_t *j;

	(void)state;
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/summary", T.job);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
	assert_int_equal(
	        json_integer_value(json_object_get(json_object_get(j, "steps"), "pending")), 1);
	assert_true(json_integer_value(json_object_get(j, "last_event_id")) > 0);
	/* The engine is off here: no frame counters yet. */
	assert_true(json_is_null(json_object_get(j, "frames_sent")));
	json_decref(j);
	assert_int_equal(itest_call("GET", path, T.tenant_b, NULL, NULL), 404);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/devices?step=pending", T.job);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/devices?step=done", T.job);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/devices?step=Done%%27", T.job);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 400);
	json_decref(j);
}

static void test_device_jobs_and_gateways(void **state)
{
	PGconn *db = PQconnectdb(T.dsn);
	PGresult *r;
	json_t *j, *it;

	(void)state;
	assert_int_equal(PQstatus(db), CONNECTION_OK);
	r = PQexec(db,
	           "INSERT INTO engine_device_gateway (tenant_id, dev_eui, gateway_id, quality, "
	           "seen_ms) VALUES (1, '0102030405060708', 'bb00000000000001', -70, "
	           "1700000000000)");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(db);
	/* The job is unfinished: the gateway that heard its device carries it. */
	assert_int_equal(itest_call("GET", "/api/v1/gateways", T.admin, NULL, &j), 200);
	it = json_array_get(json_object_get(j, "items"), 0);
	assert_string_equal(json_string_value(json_object_get(it, "gateway_id")),
	                    "bb00000000000001");
	assert_int_equal(json_integer_value(json_object_get(it, "live_jobs")), 1);
	json_decref(j);
	/* The device's jobs (its Firmware tab): the job, its image, the device's step in it. */
	assert_int_equal(
	        itest_call("GET", "/api/v1/devices/0102030405060708/jobs", T.admin, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	it = json_array_get(json_object_get(j, "items"), 0);
	assert_int_equal(json_integer_value(json_object_get(it, "job_id")), T.job);
	assert_string_equal(json_string_value(json_object_get(it, "firmware_name")), "fw");
	assert_string_equal(json_string_value(json_object_get(it, "step")), "pending");
	assert_string_equal(json_string_value(json_object_get(it, "name")), "live");
	json_decref(j);
	/* Upper case in the path is the same device; another tenant's is not found. */
	assert_int_equal(
	        itest_call("GET", "/api/v1/devices/01020304050607AB/jobs", T.admin, NULL, NULL),
	        404);
	assert_int_equal(
	        itest_call("GET", "/api/v1/devices/0102030405060708/jobs", T.tenant_b, NULL, NULL),
	        404);
	assert_int_equal(itest_call("GET", "/api/v1/devices/zz/jobs", T.admin, NULL, NULL), 404);
	/* Cancelled, the job no longer counts against the gateway. */
	action("cancel");
	assert_int_equal(itest_call("GET", "/api/v1/gateways", T.admin, NULL, &j), 200);
	it = json_array_get(json_object_get(j, "items"), 0);
	assert_int_equal(json_integer_value(json_object_get(it, "live_jobs")), 0);
	json_decref(j);
}

/* Runs sql on the database (asserting it succeeds). */
/* After sql (NULL: none), the devices route gives the job's device these fragment counts
 * (-1: null). */
static void expect_fragments(const char *sql, long long received, long long missing)
{
	char path[96];
	json_t *j, *it, *rx, *mi;

	if (sql)
		itest_sql_assert(T.dsn, "%s", sql);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/devices", T.job);
	assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	it = json_array_get(json_object_get(j, "items"), 0);
	rx = json_object_get(it, "fragments_received");
	mi = json_object_get(it, "missing_fragments");
	if (received < 0)
		assert_true(json_is_null(rx));
	else
		assert_int_equal(json_integer_value(rx), received);
	if (missing < 0)
		assert_true(json_is_null(mi));
	else
		assert_int_equal(json_integer_value(mi), missing);
	json_decref(j);
}

/* The fragment counts of a device's last FragSessionStatusAns: a status round's during the
 * session, the answer after it while last_answer holds it, none once a later step's answer
 * replaced it (the round's counts are stale then). */
static void test_missing_fragments(void **state)
{
	(void)state;
	expect_fragments(NULL, -1, -1);
	expect_fragments("UPDATE job_device SET step = 'session', status_received = 10, "
	                 "status_missing = 3 WHERE dev_eui = '0102030405060708'",
	                 10, 3);
	expect_fragments("UPDATE job_device SET step = 'failed', last_answer = '{\"answer\": "
	                 "\"FragSessionStatusAns\", \"received\": 12, \"missing\": 1}' "
	                 "WHERE dev_eui = '0102030405060708'",
	                 12, 1);
	expect_fragments("UPDATE job_device SET step = 'done', last_answer = '{\"answer\": "
	                 "\"FragSessionDeleteAns\"}' WHERE dev_eui = '0102030405060708'",
	                 -1, -1);
}

/* The number of devices GET path lists (-1 when it answers anything but 200). */
static int listed(const char *path)
{
	json_t *j;
	int n = -1;

	if (itest_call("GET", path, T.admin, NULL, &j) == 200)
		n = (int)json_array_size(json_object_get(j, "items"));
	json_decref(j);
	return n;
}

/* The devices page's search, on the server so that it covers every page: a part of the DevEUI
 * or of the application id, any case; % and _ are text; bad text is refused by field. */
static void test_device_search(void **state)
{
	json_t *j;

	(void)state;
	assert_int_equal(listed("/api/v1/devices?q=0506"), 1);
	assert_int_equal(listed("/api/v1/devices?q=0506AB"), 0);
	assert_int_equal(listed("/api/v1/devices?q=A"), 1); /* application "a" */
	assert_int_equal(listed("/api/v1/devices?q=%25"), 0);
	assert_int_equal(listed("/api/v1/devices?q=_"), 0);
	assert_int_equal(listed("/api/v1/devices?q="), 1);
	assert_int_equal(itest_call("GET", "/api/v1/devices?q=%FF", T.admin, NULL, &j), 400);
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(j, "error"), "field")), "q");
	json_decref(j);
	assert_int_equal(itest_call("GET", "/api/v1/devices?application_id=%C3", T.admin, NULL, &j),
	                 400);
	json_decref(j);
	{
		char path[256] = "/api/v1/devices?q=";
		size_t n = strlen(path);

		memset(path + n, 'a', 101);
		path[n + 101] = 0;
		assert_int_equal(itest_call("GET", path, T.admin, NULL, &j), 400);
		json_decref(j);
		path[n + 100] = 0;
		assert_int_equal(listed(path), 0);
	}
	/* Another tenant's device is not found by its DevEUI. */
	assert_int_equal(
	        itest_call("GET", "/api/v1/devices?q=0102030405060708", T.tenant_b, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
}

/* Every region's listed downlink DR at each listed frequency is one the plan accepts: the lists
 * the job form offers are the server's own. */
static void test_regions(void **state)
{
	json_t *j, *r;
	size_t i, plans = 0;
	bool eu = false, us = false;

	(void)state;
	assert_int_equal(itest_call("GET", "/api/v1/regions", T.admin, NULL, &j), 200);
	assert_true(json_array_size(json_object_get(j, "items")) >= 6);
	json_array_foreach(json_object_get(j, "items"), i, r)
	{
		const char *name = json_string_value(json_object_get(r, "name"));
		json_t *drs = json_object_get(r, "downlink_data_rates"), *d, *f;
		size_t k, m;

		assert_non_null(name);
		assert_true(json_array_size(drs) > 0);
		assert_true(json_array_size(json_object_get(r, "frequencies")) > 0);
		if (strcmp(name, "EU868") == 0) {
			eu = json_integer_value(json_array_get(json_object_get(r, "frequencies"),
			                                       0)) == 869525000;
		}
		if (strcmp(name, "US915") == 0) {
			/* DR0..4 are uplink-only there: never offered for a multicast. */
			us = json_integer_value(json_object_get(json_array_get(drs, 0), "dr")) ==
			             8 &&
			     json_integer_value(json_object_get(
			             json_object_get(r, "frequency_grid"), "channels")) == 8;
		}
		json_array_foreach(drs, k, d)
		{
			json_array_foreach(json_object_get(r, "frequencies"), m, f)
			{
				char body[512];
				json_t *p;
				int st;

				snprintf(body, sizeof(body),
				         "{\"firmware_size\":1000,\"redundancy_frames\":2,"
				         "\"unicast_timeout_s\":60,\"unicast_attempts\":1,"
				         "\"data_rate\":%lld,\"frequency_hz\":%lld,\"region\":\"%"
				         "s\","
				         "\"multicast_class\":\"C\"}",
				         (long long)json_integer_value(json_object_get(d, "dr")),
				         (long long)json_integer_value(f), name);
				st = itest_call("POST", "/api/v1/jobs:plan", T.admin, body, &p);
				if (st != 200)
					fprintf(stderr, "refused: %s -> %s\n", body,
					        json_dumps(p, JSON_COMPACT));
				assert_int_equal(st, 200);
				assert_int_equal(
				        json_integer_value(json_object_get(
				                json_object_get(p, "plan"), "fragment_size")),
				        json_integer_value(
				                json_object_get(d, "max_fragment_size")));
				json_decref(p);
				plans++;
			}
		}
	}
	json_decref(j);
	assert_true(eu);
	assert_true(us);
	printf("regions: %zu (DR, frequency) pairs listed, every one planned\n", plans);
	assert_int_equal(itest_call("GET", "/api/v1/regions", NULL, NULL, NULL), 401);
}

/* Last: fuotad stops (exit 0) with two streams open and parked. */
static void test_stop_with_streams_open(void **state)
{
	struct sse s[2];
	int other;

	(void)state;
	sleep(3); /* the slots of the previous test's clients */
	assert_int_equal(open_streams(s, 2, &other), 2);
	sleep(1); /* both parked: fuotad resumes them to end them */
	assert_int_equal(itest_fuotad_stop(&T.fd), 0);
	for (int i = 0; i < 2; i++)
		sse_close(&s[i]);
}

static int group_setup(void **state)
{
	(void)state;
	if (itest_fuotad_prepare(argv_env, "itest_live", argv_bin, argv_dir, &T.env, T.dsn,
	                         sizeof(T.dsn), &T.fd) != 0)
		return -1;
	setenv("FUOTA_HTTP_SSE_HEARTBEAT_S", "1", 1);
	setenv("FUOTA_HTTP_SSE_POLL_MS", "100", 1);
	setenv("FUOTA_HTTP_SSE_MAX_STREAMS_PER_TENANT", "4", 1);
	if (itest_api_start(&T.fd, T.admin, T.tenant_b) != 0)
		return -1;
	T.job = create_job(T.admin);
	return T.job > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return T.fd.pid > 0 ? itest_fuotad_stop(&T.fd) == 0 ? 0 : -1 : 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_events_arrive),
	        cmocka_unit_test(test_resume),
	        cmocka_unit_test(test_refusals),
	        cmocka_unit_test(test_bad_last_event_id),
	        cmocka_unit_test(test_heartbeat),
	        cmocka_unit_test(test_bounded),
	        cmocka_unit_test(test_summary_and_step),
	        cmocka_unit_test(test_device_jobs_and_gateways),
	        cmocka_unit_test(test_missing_fragments),
	        cmocka_unit_test(test_device_search),
	        cmocka_unit_test(test_regions),
	        cmocka_unit_test(test_stop_with_streams_open),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: itest_live FUOTAD SERVICES_ENV WORKDIR\n");
		return 2;
	}
	argv_bin = argv[1];
	argv_env = argv[2];
	argv_dir = argv[3];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
