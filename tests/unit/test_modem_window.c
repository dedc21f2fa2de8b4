/* When a gateway's modem update may start (server/policy, fuota/modem_window.h): never across a
 * multicast session window of a job that counts on the gateway, without a database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/modem_window.h"

#define MIN INT64_C(60000)
#define NOW (INT64_C(1000) * MODEM_BEACON_PERIOD_MS) /* on a beacon boundary */
#define G   MODEM_GUARD_MS

/* A 450 kB uFOTA delta, the notes' example. */
static struct modem_request rq(void)
{
	struct modem_request r = {.method = MODEM_UFOTA, .image_bytes = 450000, .now_ms = NOW};

	return r;
}

static int64_t dur(void)
{
	int64_t d = 0;

	assert_int_equal(policy_modem_update_ms(MODEM_UFOTA, 450000, &d), FUOTA_OK);
	return d;
}

static void test_durations(void **state)
{
	int64_t foat = 0, dl = 0, uf = 0, uart = 0, ftp = 0;

	(void)state;
	/* FOAT of 4.5 MB: 109 s + 390.625 s at 115200, a quarter more, 32 + 3 min. */
	assert_int_equal(policy_modem_update_ms(MODEM_FOAT, 4500000, &foat), FUOTA_OK);
	assert_int_equal(foat, (109000 + 390625) + (109000 + 390625) / 4 + 35 * MIN);
	/* A download of 450 kB at 32 kbit/s: 112.5 s. */
	assert_int_equal(policy_modem_update_ms(MODEM_HTTP, 450000, &dl), FUOTA_OK);
	assert_int_equal(dl, 112500 + 112500 / 4 + 35 * MIN);
	assert_int_equal(policy_modem_update_ms(MODEM_FTP, 450000, &ftp), FUOTA_OK);
	assert_int_equal(ftp, dl);
	/* uart: the 4.5 MB at 115200 bit/s with no Xmodem handshake, then the install. */
	assert_int_equal(policy_modem_update_ms(MODEM_UART, 4500000, &uart), FUOTA_OK);
	assert_int_equal(uart, 390625 + 390625 / 4 + 35 * MIN);
	/* uFOTA adds its 10 min of download retries. */
	assert_int_equal(policy_modem_update_ms(MODEM_UFOTA, 450000, &uf), FUOTA_OK);
	assert_int_equal(uf, (112500 + 10 * MIN) + (112500 + 10 * MIN) / 4 + 35 * MIN);
	assert_int_equal(policy_modem_update_ms(MODEM_FOAT, 0, &foat), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(policy_modem_update_ms(MODEM_FOAT, (UINT64_C(64) << 20) + 1, &foat),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(policy_modem_update_ms((enum modem_method)7, 10, &foat),
	                 FUOTA_ERR_INVALID_ARG);
}

/* One vocabulary: what the plan and the update routes accept, fuota-gw's names. */
static void test_methods(void **state)
{
	static const char *const names[] = {"ufota", "foat", "http", "ftp", "uart"};
	static const enum modem_method ms[] = {MODEM_UFOTA, MODEM_FOAT, MODEM_HTTP, MODEM_FTP,
	                                       MODEM_UART};
	enum modem_method m = MODEM_FOAT;

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		m = (enum modem_method)99;
		assert_int_equal(policy_modem_method_parse(names[i], &m), FUOTA_OK);
		assert_int_equal(m, ms[i]);
		assert_string_equal(policy_modem_method_name(m), names[i]);
		m = (enum modem_method)99;
		assert_int_equal(policy_modem_method_parse_plan(names[i], &m), FUOTA_OK);
		assert_int_equal(m, ms[i]);
	}
	/* "download": the plan's deprecated alias of http, not a method of the update routes. */
	assert_int_equal(policy_modem_method_parse("download", &m), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(policy_modem_method_parse_plan("download", &m), FUOTA_OK);
	assert_int_equal(m, MODEM_HTTP);
	assert_int_equal(policy_modem_method_parse("UFOTA ", &m), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(policy_modem_method_parse("FOAT", &m), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(policy_modem_method_parse("rot", &m), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(policy_modem_method_parse(NULL, &m), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(policy_modem_method_parse_plan(NULL, &m), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(policy_modem_method_name((enum modem_method)7), "unknown");
}

static void test_free_gateway(void **state)
{
	struct modem_request r = rq();
	struct modem_plan p;

	(void)state;
	policy_modem_plan(&r, NULL, 0, &p);
	assert_int_equal(p.verdict, MODEM_START_NOW);
	assert_int_equal(p.start_ms, NOW);
	assert_int_equal(p.duration_ms, dur());
	assert_int_equal(p.blocking_job, 0);
}

/* A session that starts while the update would still run: after it, never before. */
static void test_about_to_start(void **state)
{
	struct modem_request r = rq();
	struct modem_session s = {
	        .job_id = 7, .start_ms = NOW + 30 * MIN, .end_ms = NOW + 50 * MIN};
	struct modem_plan p;

	(void)state;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_AT);
	assert_int_equal(p.start_ms, s.end_ms + G);
	assert_int_equal(p.blocking_job, 7);
	/* Exactly enough room before it (the guard included): now. */
	s.start_ms = NOW + dur() + G;
	s.end_ms = s.start_ms + 20 * MIN;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_NOW);
	/* One millisecond less: after it. */
	s.start_ms--;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_AT);
	assert_int_equal(p.start_ms, s.end_ms + G);
}

static void test_running(void **state)
{
	struct modem_request r = rq();
	struct modem_session s = {.job_id = 3, .start_ms = NOW - 5 * MIN, .end_ms = NOW + 5 * MIN};
	struct modem_plan p;

	(void)state;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_AT);
	assert_int_equal(p.start_ms, NOW + 5 * MIN + G);
	/* Ended, guard not yet over. */
	s.end_ms = NOW - G / 2;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_AT);
	assert_int_equal(p.start_ms, NOW + G / 2);
	/* Ended and guard over: now. */
	s.end_ms = NOW - G;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_NOW);
}

/* Back-to-back sessions of two jobs (given out of order): the gap between them is too short for
 * the update, so it goes after the second; a wide enough gap takes it. */
static void test_back_to_back(void **state)
{
	struct modem_request r = rq();
	struct modem_session ss[3] = {
	        {.job_id = 2, .start_ms = NOW + 20 * MIN, .end_ms = NOW + 30 * MIN},
	        {.job_id = 1, .start_ms = NOW - MIN, .end_ms = NOW + 10 * MIN},
	        {.job_id = 5, .start_ms = NOW + 400 * MIN, .end_ms = NOW + 410 * MIN},
	};
	struct modem_plan p;

	(void)state;
	policy_modem_plan(&r, ss, 3, &p);
	assert_int_equal(p.verdict, MODEM_START_AT);
	assert_int_equal(p.start_ms, NOW + 30 * MIN + G);
	assert_int_equal(p.blocking_job, 2); /* the one it waits for */
	/* The third one now follows right after the second: after the third. */
	ss[2].start_ms = NOW + 31 * MIN;
	ss[2].end_ms = NOW + 40 * MIN;
	policy_modem_plan(&r, ss, 3, &p);
	assert_int_equal(p.verdict, MODEM_START_AT);
	assert_int_equal(p.start_ms, NOW + 40 * MIN + G);
	/* A gap of exactly the duration and both guards fits. */
	ss[0].start_ms = NOW + 10 * MIN + 2 * G + dur();
	ss[0].end_ms = ss[0].start_ms + MIN;
	ss[2].start_ms = ss[0].end_ms;
	ss[2].end_ms = ss[2].start_ms + MIN;
	policy_modem_plan(&r, ss, 3, &p);
	assert_int_equal(p.verdict, MODEM_START_AT);
	assert_int_equal(p.start_ms, NOW + 10 * MIN + G);
}

/* The session's start was moved: the plan follows the start as stored now. */
static void test_session_moved(void **state)
{
	struct modem_request r = rq();
	struct modem_session s = {
	        .job_id = 9, .start_ms = NOW + 300 * MIN, .end_ms = NOW + 320 * MIN};
	struct modem_plan p;

	(void)state;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_NOW);
	s.start_ms = NOW + 10 * MIN; /* brought forward into the update */
	s.end_ms = NOW + 30 * MIN;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_AT);
	assert_int_equal(p.start_ms, NOW + 30 * MIN + G);
	assert_int_equal(p.blocking_job, 9);
}

static void test_unknown_end(void **state)
{
	struct modem_request r = rq();
	struct modem_session s = {.job_id = 4, .start_ms = NOW - MIN, .end_ms = 0};
	struct modem_plan p;

	(void)state;
	policy_modem_plan(&r, &s, 1, &p); /* running, no end: refused */
	assert_int_equal(p.verdict, MODEM_REFUSE);
	assert_int_equal(p.reason, MODEM_UNKNOWN_END);
	assert_int_equal(p.blocking_job, 4);
	assert_true(policy_modem_refusal_str(p.reason)[0] != '\0');
	/* An end before the start is unknown too. */
	s.end_ms = s.start_ms - 1;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.reason, MODEM_UNKNOWN_END);
	/* Far enough ahead, the update fits before it. */
	s.start_ms = NOW + dur() + G;
	s.end_ms = 0;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_NOW);
	/* A known session pushes the update into an open-ended one: refused. */
	struct modem_session ss[2] = {{.job_id = 1, .start_ms = NOW, .end_ms = NOW + MIN}, s};
	policy_modem_plan(&r, ss, 2, &p);
	assert_int_equal(p.verdict, MODEM_REFUSE);
	assert_int_equal(p.reason, MODEM_UNKNOWN_END);
	assert_int_equal(p.blocking_job, 4);
}

/* Class B: the window covers whole beacon periods. */
static void test_class_b(void **state)
{
	struct modem_request r = rq();
	struct modem_session s = {.job_id = 6,
	                          .start_ms = NOW - 10 * MIN,
	                          .end_ms = NOW + 10 * MODEM_BEACON_PERIOD_MS + 1000,
	                          .class_b = true};
	struct modem_plan p;

	(void)state;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_AT);
	assert_int_equal(p.start_ms, NOW + 11 * MODEM_BEACON_PERIOD_MS + G);
	/* The same session in class C ends when it says. */
	s.class_b = false;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.start_ms, s.end_ms + G);
	/* An end on a boundary stays; a start inside a period opens at its beginning. */
	s.class_b = true;
	s.end_ms = NOW - MODEM_BEACON_PERIOD_MS - G;
	s.start_ms = NOW - 3 * MODEM_BEACON_PERIOD_MS;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_NOW);
	/* A start 1 s into a period: class C fits exactly before it, class B opens at the boundary.
	 */
	s.start_ms = NOW + 10 * MODEM_BEACON_PERIOD_MS + 1000;
	s.end_ms = s.start_ms + MODEM_BEACON_PERIOD_MS;
	r.now_ms = s.start_ms - G - dur();
	s.class_b = false;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_NOW);
	s.class_b = true;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_AT);
	assert_int_equal(p.start_ms, NOW + 12 * MODEM_BEACON_PERIOD_MS + G);
}

static void test_refusals(void **state)
{
	struct modem_request r = rq();
	struct modem_session s = {.job_id = 8, .start_ms = NOW, .end_ms = NOW + 600 * MIN};
	struct modem_plan p;

	(void)state;
	r.updating = true;
	policy_modem_plan(&r, NULL, 0, &p);
	assert_int_equal(p.verdict, MODEM_REFUSE);
	assert_int_equal(p.reason, MODEM_UPDATING);
	r.updating = false;
	r.image_bytes = 0;
	policy_modem_plan(&r, NULL, 0, &p);
	assert_int_equal(p.reason, MODEM_BAD_REQUEST);
	assert_int_equal(p.duration_ms, 0);
	r.image_bytes = 450000;
	r.horizon_ms = 60 * MIN; /* the free window is 10 h away */
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_REFUSE);
	assert_int_equal(p.reason, MODEM_BEYOND_LIMIT);
	assert_int_equal(p.blocking_job, 8);
	r.horizon_ms = 601 * MIN + G;
	policy_modem_plan(&r, &s, 1, &p);
	assert_int_equal(p.verdict, MODEM_START_AT);
}

static void test_job_session(void **state)
{
	struct modem_session s;

	(void)state;
	policy_modem_job_session(5, NOW + MIN, 0, 3600, true, NOW, &s);
	assert_int_equal(s.job_id, 5);
	assert_int_equal(s.start_ms, NOW + MIN);
	assert_int_equal(s.end_ms, NOW + 61 * MIN);
	assert_true(s.class_b);
	/* Not fixed yet: from the requested start, no known end. */
	policy_modem_job_session(5, 0, NOW + 90 * MIN, 3600, false, NOW, &s);
	assert_int_equal(s.start_ms, NOW + 90 * MIN);
	assert_int_equal(s.end_ms, 0);
	/* A requested start already past: from now. */
	policy_modem_job_session(5, 0, NOW - MIN, 3600, false, NOW, &s);
	assert_int_equal(s.start_ms, NOW);
	assert_int_equal(s.end_ms, 0);
}

/* The note of a postponed update names the job in the way only when it is the update's
 * tenant's. */
static void test_wait_note(void **state)
{
	struct modem_plan p = {.verdict = MODEM_START_AT, .blocking_job = 9102};
	char note[200];

	(void)state;
	policy_modem_wait_note(&p, true, note, sizeof(note));
	assert_non_null(strstr(note, "job 9102"));
	policy_modem_wait_note(&p, false, note, sizeof(note));
	assert_null(strstr(note, "9102"));
	assert_non_null(strstr(note, "another tenant's job"));
	p.verdict = MODEM_REFUSE;
	p.reason = MODEM_UPDATING;
	policy_modem_wait_note(&p, true, note, sizeof(note));
	assert_null(strstr(note, "9102"));
	assert_non_null(strstr(note, "waiting: "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_durations),     cmocka_unit_test(test_methods),
	        cmocka_unit_test(test_free_gateway),  cmocka_unit_test(test_about_to_start),
	        cmocka_unit_test(test_running),       cmocka_unit_test(test_back_to_back),
	        cmocka_unit_test(test_session_moved), cmocka_unit_test(test_unknown_end),
	        cmocka_unit_test(test_class_b),       cmocka_unit_test(test_refusals),
	        cmocka_unit_test(test_job_session),   cmocka_unit_test(test_wait_note),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
