/* fuotad's modem-update commands, the session windows and the deferral rule (gw_modem_cmd.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/gw_modem_cmd.h"

static int cmd(const char *js, struct gw_mu_cmd *c, char *err, size_t cap)
{
	return gw_mu_cmd_parse(js, strlen(js), c, err, cap);
}

static void test_cmd_ok(void **state)
{
	struct gw_mu_cmd c;
	char err[160];

	(void)state;
	assert_int_equal(cmd("{\"id\":9007199254740993,\"action\":\"start\",\"method\":\"http\","
	                     "\"url\":\"http://fw.example:8080/fw/delta.upd\","
	                     "\"md5\":\"884a2d96fddaf1d957c604805b75b9f2\",\"extra\":1}",
	                     &c, err, sizeof(err)),
	                 0);
	assert_true(c.id == INT64_C(9007199254740993));
	assert_int_equal(c.action, GW_MU_START);
	assert_int_equal(c.method, FWU_M_HTTP);
	assert_string_equal(c.url, "http://fw.example:8080/fw/delta.upd");
	assert_string_equal(c.md5, "884a2d96fddaf1d957c604805b75b9f2");
	assert_int_equal(cmd("{\"id\":2,\"action\":\"start\",\"method\":\"uart\",\"package\":"
	                     "\"/var/lib/fw/delta.upd\"}",
	                     &c, err, sizeof(err)),
	                 0);
	assert_int_equal(c.method, FWU_M_UART);
	assert_string_equal(c.package, "/var/lib/fw/delta.upd");
	assert_string_equal(c.md5, "");
	assert_int_equal(cmd("{\"id\":3,\"action\":\"cancel\"}", &c, err, sizeof(err)), 0);
	assert_int_equal(c.action, GW_MU_CANCEL);
	assert_int_equal(c.method, FWU_M_NONE);
	assert_int_equal(
	        cmd("{\"id\":4,\"action\":\"start\",\"method\":\"ufota\"}", &c, err, sizeof(err)),
	        0);
}

static void test_cmd_bad(void **state)
{
	static const char *const bad[] = {
	        "",
	        "[]",
	        "{\"action\":\"start\",\"method\":\"ufota\"}",
	        "{\"id\":0,\"action\":\"start\",\"method\":\"ufota\"}",
	        "{\"id\":-5,\"action\":\"start\",\"method\":\"ufota\"}",
	        "{\"id\":\"1\",\"action\":\"start\",\"method\":\"ufota\"}",
	        "{\"id\":1.5,\"action\":\"start\",\"method\":\"ufota\"}",
	        "{\"id\":1,\"action\":\"reboot\"}",
	        "{\"id\":1,\"action\":\"start\"}",
	        "{\"id\":1,\"action\":\"start\",\"method\":\"rot\"}",
	        "{\"id\":1,\"action\":\"start\",\"method\":\"http\",\"md5\":"
	        "\"884a2d96fddaf1d957c604805b75b9f2\"}",
	        "{\"id\":1,\"action\":\"start\",\"method\":\"http\",\"url\":\"http://a/b\"}",
	        "{\"id\":1,\"action\":\"start\",\"method\":\"http\",\"url\":\"ftp://a/b\",\"md5\":"
	        "\"884a2d96fddaf1d957c604805b75b9f2\"}",
	        "{\"id\":1,\"action\":\"start\",\"method\":\"http\",\"url\":\"http://a/b\\\"\","
	        "\"md5\":\"884a2d96fddaf1d957c604805b75b9f2\"}",
	        "{\"id\":1,\"action\":\"start\",\"method\":\"http\",\"url\":\"http://u:p@a/b\","
	        "\"md5\":\"884a2d96fddaf1d957c604805b75b9f2\"}",
	        "{\"id\":1,\"action\":\"start\",\"method\":\"ftp\",\"url\":\"ftp://a/b\",\"md5\":"
	        "\"884a2d96fddaf1d957c604805b75b9fz\"}",
	        "{\"id\":1,\"action\":\"start\",\"method\":\"uart\",\"package\":\"rel/p\"}",
	        "{\"id\":1,\"action\":\"start\",\"method\":\"uart\",\"package\":\"/a\\nb\"}",
	        "{\"id\":1,\"id\":2,\"action\":\"cancel\"}",
	        "{\"id\":1,\"action\":\"cancel\",\"md5\":\"abc\"}",
	};
	struct gw_mu_cmd c;
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (cmd(bad[i], &c, err, sizeof(err)) != FUOTA_ERR_MALFORMED)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
		assert_true(c.id == 0);
	}
}

static void test_url(void **state)
{
	struct gw_url u;

	(void)state;
	assert_int_equal(gw_url_parse("ftp://10.0.0.1:2121/a/b.upd", &u), 0);
	assert_true(u.ftp);
	assert_string_equal(u.host, "10.0.0.1");
	assert_int_equal(u.port, 2121);
	assert_string_equal(u.path, "/a/b.upd");
	assert_int_equal(gw_url_parse("http://fw/x", &u), 0);
	assert_false(u.ftp);
	assert_int_equal(u.port, 0);
	assert_int_equal(gw_url_parse("http:///x", &u), FUOTA_ERR_MALFORMED);
	assert_int_equal(gw_url_parse("http://h:0/x", &u), FUOTA_ERR_MALFORMED);
	assert_int_equal(gw_url_parse("http://h:70000/x", &u), FUOTA_ERR_MALFORMED);
	assert_int_equal(gw_url_parse("http://h:/x", &u), FUOTA_ERR_MALFORMED);
	assert_int_equal(gw_url_parse("http://h", &u), FUOTA_ERR_MALFORMED);
	assert_int_equal(gw_url_parse("https://h/x", &u), FUOTA_ERR_MALFORMED);
}

/* fuotad's check of a request agrees with the parser: every url and package it takes makes a
 * start command gw_mu_cmd_parse takes. */
static void test_source_ok(void **state)
{
	char url[300], cmd[700], err[160];
	struct gw_mu_cmd c;

	(void)state;
	assert_true(gw_mu_url_ok("http://h/x", false));
	assert_true(gw_mu_url_ok("ftp://h:21/x", true));
	assert_false(gw_mu_url_ok("http://h/x", true));
	assert_false(gw_mu_url_ok("http://h/a\"b", false));
	assert_false(gw_mu_url_ok("http://h/a\\b", false));
	assert_false(gw_mu_url_ok("http://h/\xc3\xa9", false));
	assert_false(gw_mu_url_ok("http://h?x", false));
	assert_false(gw_mu_url_ok("http://h/p@q", false));
	memset(url, 'a', sizeof(url));
	memcpy(url, "http://h/", 9);
	url[256] = '\0';
	assert_false(gw_mu_url_ok(url, false));
	url[255] = '\0';
	assert_true(gw_mu_url_ok(url, false));
	snprintf(cmd, sizeof(cmd),
	         "{\"id\":1,\"action\":\"start\",\"method\":\"http\",\"url\":\"%s\","
	         "\"md5\":\"0123456789abcdef0123456789abcdef\"}",
	         url);
	assert_int_equal(gw_mu_cmd_parse(cmd, strlen(cmd), &c, err, sizeof(err)), FUOTA_OK);
	assert_true(gw_mu_package_ok("/a.bin"));
	assert_false(gw_mu_package_ok("a.bin"));
	assert_false(gw_mu_package_ok("/a\\b"));
	assert_false(gw_mu_package_ok("/a\tb"));
	assert_false(gw_mu_package_ok("/\xc3\xa9"));
}

static void test_sessions(void **state)
{
	struct gw_sessions s;
	char err[160];
	const char *ok = "{\"guardS\":60,\"windows\":[{\"start\":1000,\"end\":2000,\"job\":\"j1\"},"
	                 "{\"start\":5000,\"end\":5000}]}";
	const char *noguard = "{\"windows\":[]}";

	(void)state;
	assert_int_equal(gw_sessions_parse(ok, strlen(ok), &s, err, sizeof(err)), 0);
	assert_int_equal(s.guard_s, 60);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.w[0].job, "j1");
	assert_true(s.w[1].start == 5000 && s.w[1].end == 5000);
	assert_int_equal(gw_sessions_parse(noguard, strlen(noguard), &s, err, sizeof(err)), 0);
	assert_int_equal(s.guard_s, 120);
	assert_int_equal(s.n, 0);
	static const char *const bad[] = {
	        "{}",
	        "{\"guardS\":-1,\"windows\":[]}",
	        "{\"guardS\":90000,\"windows\":[]}",
	        "{\"windows\":[{\"start\":10,\"end\":5}]}",
	        "{\"windows\":[{\"start\":10}]}",
	        "{\"windows\":[{\"start\":-10,\"end\":5}]}",
	        "{\"windows\":[{\"start\":1,\"end\":2,\"job\":7}]}",
	        "{\"windows\":[5]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (gw_sessions_parse(bad[i], strlen(bad[i]), &s, err, sizeof(err)) !=
		    FUOTA_ERR_MALFORMED)
			fail_msg("accepted: %s", bad[i]);
}

static void test_sessions_too_many(void **state)
{
	char buf[8192];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "{\"windows\":[");
	struct gw_sessions s;
	char err[160];

	(void)state;
	for (int i = 0; i <= GW_WINDOWS_MAX; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s{\"start\":%d,\"end\":%d}",
		                      i ? "," : "", i * 10, i * 10 + 5);
	snprintf(buf + n, sizeof(buf) - n, "]}");
	assert_int_equal(gw_sessions_parse(buf, strlen(buf), &s, err, sizeof(err)),
	                 FUOTA_ERR_MALFORMED);
}

/* The deferral rule, table-driven: windows, guard, duration, now -> earliest start. */
static void test_earliest(void **state)
{
	static const struct {
		int64_t guard, dur, now;
		size_t n;
		int64_t w[3][2];
		int64_t want;
	} v[] = {
	        {120, 600, 1000, 0, {{0}}, 1000},          /* no window */
	        {120, 600, 1000, 1, {{5000, 6000}}, 1000}, /* ends before the guard */
	        {120, 600, 1000, 1, {{1720, 2000}}, 1000}, /* ends as the guard opens */
	        {120, 600, 1000, 1, {{1719, 2000}}, 2120}, /* 1 s into the guard */
	        {120, 600, 1000, 1, {{800, 950}}, 1070},   /* inside the guard after */
	        {120, 600, 1000, 1, {{100, 500}}, 1000},   /* long past */
	        {120, 600, 1000, 1, {{900, 3000}}, 3120},  /* running now */
	        {0, 600, 1000, 1, {{1600, 1700}}, 1000},   /* no guard: just fits */
	        {120, 600, 1500, 2, {{2000, 2100}, {2500, 2600}}, 2720}, /* gap too short */
	        {120, 600, 1500, 2, {{2500, 2600}, {2000, 2100}}, 2720}, /* any order */
	        {120, 100, 1000, 2, {{2000, 2100}, {2600, 2700}}, 1000}, /* fits before both */
	        {120, 100, 1900, 2, {{2000, 2100}, {2600, 2700}}, 2220}, /* fits between */
	        {120, 600, 1500, 3, {{2000, 2100}, {2500, 2600}, {2900, 3000}}, 3120},
	        {120, 0, 1000, 1, {{1000, 1000}}, 1120}, /* an instant window still guarded */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct gw_sessions s = {.guard_s = v[i].guard, .n = v[i].n};

		for (size_t k = 0; k < v[i].n; k++) {
			s.w[k].start = v[i].w[k][0];
			s.w[k].end = v[i].w[k][1];
		}
		if (gw_mu_earliest(&s, v[i].dur, v[i].now) != v[i].want)
			fail_msg("case %zu: %lld, want %lld", i,
			         (long long)gw_mu_earliest(&s, v[i].dur, v[i].now),
			         (long long)v[i].want);
	}
}

static void test_duration(void **state)
{
	(void)state;
	/* 115200 bit/s, 10 bits a byte: 115200 bytes take 10 s */
	assert_true(gw_mu_duration(FWU_M_UART, 115200, 115200, 300, 1920) == 11 + 1920 + 120);
	assert_true(gw_mu_duration(FWU_M_HTTP, 115200, 115200, 300, 1920) == 300 + 1920 + 120);
}

static void test_state_of(void **state)
{
	struct fwu_status st = {.state = FWU_S_IDLE};

	(void)state;
	assert_null(gw_mu_state_of(&st));
	st.state = FWU_S_ACK_PENDING;
	assert_null(gw_mu_state_of(&st));
	st.state = FWU_S_UPDATE_MODE;
	assert_string_equal(gw_mu_state_of(&st), "downloading");
	st.state = FWU_S_REBOOTING;
	assert_string_equal(gw_mu_state_of(&st), "installing");
	st.state = FWU_S_FAILED;
	st.fail = FWU_F_CANCELLED;
	assert_string_equal(gw_mu_state_of(&st), "cancelled");
	st.fail = FWU_F_INSTALL;
	assert_string_equal(gw_mu_state_of(&st), "failed");
}

static void test_event_json(void **state)
{
	struct gw_mu_event e = {.id = 7,
	                        .state = "deferred",
	                        .method = "uart",
	                        .progress = -1,
	                        .deferred_until = 1765000000,
	                        .fw_before = "03.15,A00.01"};
	char *js;
	size_t n;

	(void)state;
	assert_int_equal(gw_mu_event_to_json(&e, &js, &n), 0);
	assert_string_equal(js, "{\"deferredUntil\":1765000000,\"firmware\":\"\","
	                        "\"firmwareBefore\":\"03.15,A00.01\",\"id\":7,\"method\":\"uart\","
	                        "\"state\":\"deferred\"}");
	free(js);
	e.progress = 40;
	e.deferred_until = 0;
	snprintf(e.error, sizeof(e.error), "md5 mismatch");
	assert_int_equal(gw_mu_event_to_json(&e, &js, &n), 0);
	assert_non_null(strstr(js, "\"progress\":40"));
	assert_non_null(strstr(js, "\"error\":\"md5 mismatch\""));
	assert_null(strstr(js, "deferredUntil"));
	free(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cmd_ok),   cmocka_unit_test(test_cmd_bad),
	        cmocka_unit_test(test_url),      cmocka_unit_test(test_source_ok),
	        cmocka_unit_test(test_sessions), cmocka_unit_test(test_sessions_too_many),
	        cmocka_unit_test(test_earliest), cmocka_unit_test(test_duration),
	        cmocka_unit_test(test_state_of), cmocka_unit_test(test_event_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
