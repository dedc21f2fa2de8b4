/* The REST API's request checks (fuota/api_decode.h): dates, UTF-8 text and forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/api_decode.h"
#include "fuota/err.h"
#include "fuota/multipart.h"
#include "fuota/plan.h"

/* A job with the usual fields and `extra` (",\"field\":value" or "") through the job decoder;
 * *keep, *has_tv and *tv (each may be NULL): the decoded keep_multicast_group and
 * target_version. */
static int decode_job_ex(const char *extra, bool *keep, bool *has_tv, uint32_t *tv,
                         struct api_error *e)
{
	char body[512];
	struct job_params p;
	json_t *obj;
	int rc;

	snprintf(body, sizeof(body),
	         "{\"name\":\"j\",\"firmware_id\":1,\"devices\":[\"0011223344556677\"],"
	         "\"redundancy_percent\":10,\"unicast_timeout_s\":60,\"unicast_attempts\":3,"
	         "\"data_rate\":5,\"frequency_hz\":869525000,\"region\":\"EU868\","
	         "\"multicast_class\":\"C\"%s}",
	         extra);
	obj = api_parse_object(body, strlen(body), e);
	assert_non_null(obj);
	rc = api_decode_job(obj, true, true, &p, e);
	if (keep)
		*keep = p.keep_multicast_group;
	if (has_tv)
		*has_tv = p.has_target_version;
	if (tv)
		*tv = p.target_version;
	job_params_free(&p);
	json_decref(obj);
	return rc;
}

static int decode_job(const char *extra, bool *keep, struct api_error *e)
{
	return decode_job_ex(extra, keep, NULL, NULL, e);
}

static int decode_job_tv(const char *extra, bool *has_tv, uint32_t *tv, struct api_error *e)
{
	return decode_job_ex(extra, NULL, has_tv, tv, e);
}

/* start_at through the job decoder: the pattern and the calendar. */
static int start_at(const char *when, struct api_error *e)
{
	char extra[128];

	snprintf(extra, sizeof(extra), ",\"start_at\":\"%s\"", when);
	return decode_job(extra, NULL, e);
}

static void test_start_at(void **state)
{
	static const char *const good[] = {
	        "2030-01-31T12:00:00Z",      "2028-02-29T00:00:00Z",
	        "2000-02-29T23:59:59z",      "2016-12-31T23:59:60Z",
	        "0001-01-01T00:00:00Z",      "9999-12-31T23:59:59.999999999+23:59",
	        "2030-04-30t00:00:00-12:30",
	};
	static const char *const bad[] = {
	        "9999-99-99T99:99:99Z",
	        "0000-00-00T00:00:00Z",
	        "2030-01-01T00:00:00+99:99",
	        "0000-01-01T00:00:00Z",
	        "2030-13-01T00:00:00Z",
	        "2030-00-01T00:00:00Z",
	        "2030-01-00T00:00:00Z",
	        "2030-01-32T00:00:00Z",
	        "2030-02-29T00:00:00Z",
	        "2100-02-29T00:00:00Z",
	        "2030-04-31T00:00:00Z",
	        "2030-01-01T24:00:00Z",
	        "2030-01-01T00:60:00Z",
	        "2030-01-01T00:00:61Z",
	        "2030-01-01T00:00:00+24:00",
	        "2030-01-01T00:00:00-00:60",
	        "2030-01-01T00:00:00.1234567890Z",
	        "2030-01-01T00:00:00",
	        "2030-01-01 00:00:00Z",
	        "now",
	};
	struct api_error e;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (start_at(good[i], &e) != FUOTA_OK)
			fail_msg("%s refused: %s", good[i], e.message);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (start_at(bad[i], &e) == FUOTA_OK)
			fail_msg("%s accepted", bad[i]);
		assert_int_equal(e.status, 400);
		assert_string_equal(e.field, "start_at");
	}
}

static void test_text_valid(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		bool ok;
	} cases[] = {
	        {"", 0, true},
	        {"plain", 5, true},
	        {"caf\xc3\xa9", 5, true},
	        {"\xe2\x82\xac", 3, true},
	        {"\xf0\x9f\x98\x80", 4, true},
	        {"\xf4\x8f\xbf\xbf", 4, true},  /* U+10FFFF */
	        {"a\0b", 3, false},             /* NUL */
	        {"\xff\xfe", 2, false},         /* never in UTF-8 */
	        {"\xc3", 1, false},             /* truncated */
	        {"\xf0\x9f\x98", 3, false},     /* truncated */
	        {"\xc0\xaf", 2, false},         /* overlong '/' */
	        {"\xe0\x80\xaf", 3, false},     /* overlong */
	        {"\xf0\x80\x80\xaf", 4, false}, /* overlong */
	        {"\xed\xa0\x80", 3, false},     /* surrogate U+D800 */
	        {"\xf4\x90\x80\x80", 4, false}, /* past U+10FFFF */
	        {"\x80", 1, false},             /* lone continuation */
	        {"\xc3\x28", 2, false},         /* bad continuation */
	};
	char cut[] = "abc\xc3\xa9\xc3";

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (api_text_valid(cases[i].s, cases[i].len) != cases[i].ok)
			fail_msg("case %zu: expected %s", i, cases[i].ok ? "valid" : "invalid");
	api_text_cut(cut);
	assert_string_equal(cut, "abc\xc3\xa9");
}

/* keep_multicast_group: a boolean, false when absent; a form's "true" / "false" are booleans. */
static int keep(const char *value, bool *out, struct api_error *e)
{
	char extra[64] = "";

	if (value)
		snprintf(extra, sizeof(extra), ",\"keep_multicast_group\":%s", value);
	return decode_job(extra, out, e);
}

static void test_keep_multicast_group(void **state)
{
	struct api_error e;
	bool v = true;
	json_t *f;

	(void)state;
	assert_int_equal(keep(NULL, &v, &e), FUOTA_OK);
	assert_false(v);
	assert_int_equal(keep("true", &v, &e), FUOTA_OK);
	assert_true(v);
	assert_int_equal(keep("false", &v, &e), FUOTA_OK);
	assert_false(v);
	assert_int_equal(keep("null", &v, &e), FUOTA_OK);
	assert_false(v);
	assert_int_not_equal(keep("1", &v, &e), FUOTA_OK);
	assert_int_equal(e.status, 400);
	assert_string_equal(e.field, "keep_multicast_group");
	assert_int_not_equal(keep("\"yes\"", &v, &e), FUOTA_OK);
	assert_string_equal(e.field, "keep_multicast_group");
	f = api_form_value("keep_multicast_group", "true", 4);
	assert_true(json_is_true(f));
	json_decref(f);
	f = api_form_value("keep_multicast_group", "false", 5);
	assert_true(json_is_false(f));
	json_decref(f);
	f = api_form_value("keep_multicast_group", "tru", 3); /* a string: refused by the decoder */
	assert_true(json_is_string(f));
	json_decref(f);
	/* A form's regions: the JSON array a JSON body gives; other text a string. */
	f = api_form_value("regions", "[{\"region\":\"EU868\"}]", 20);
	assert_true(json_is_array(f));
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "region")),
	                    "EU868");
	json_decref(f);
	f = api_form_value("regions", "EU868", 5);
	assert_true(json_is_string(f));
	json_decref(f);
	f = api_form_value("regions", "[{\"region\":1", 12); /* cut short */
	assert_true(json_is_string(f));
	json_decref(f);
}

static void test_form_check(void **state)
{
	struct mp_part p[3];
	struct api_error e;

	(void)state;
	memset(p, 0, sizeof(p));
	snprintf(p[0].name, sizeof(p[0].name), "name");
	p[0].data = (const uint8_t *)"fw";
	p[0].len = 2;
	snprintf(p[1].name, sizeof(p[1].name), "file");
	snprintf(p[1].filename, sizeof(p[1].filename), "a.bin");
	p[1].data = (const uint8_t *)"\xff\x00\xfe";
	p[1].len = 3;
	p[2] = p[1];
	assert_int_equal(api_form_check(p, 2, "file", &e), FUOTA_OK); /* binary file: fine */
	/* the binary file's part is not text when it is not the file part */
	assert_int_not_equal(api_form_check(p, 2, NULL, &e), FUOTA_OK);
	assert_string_equal(e.field, "file");
	assert_int_not_equal(api_form_check(p, 3, "file", &e), FUOTA_OK); /* file twice */
	assert_string_equal(e.field, "file");
	assert_non_null(strstr(e.message, "twice"));
	snprintf(p[1].filename, sizeof(p[1].filename), "\xff\xfe.bin");
	assert_int_not_equal(api_form_check(p, 2, "file", &e), FUOTA_OK);
	assert_string_equal(e.field, "file");
	p[0].data = (const uint8_t *)"\xff";
	p[0].len = 1;
	assert_int_not_equal(api_form_check(p, 1, "file", &e), FUOTA_OK);
	assert_string_equal(e.field, "name");
	assert_int_equal(e.status, 400);
}

/* Bodies jansson refuses: the 400 names the member the error is in, as the decoders' own 400s
 * do, and the top level names none. */
static void test_json_error_field(void **state)
{
	static const struct {
		const char *body;
		const char *code, *field; /* field "" = none */
	} cases[] = {
	        {"{\"name\":\"a\\u0000b\",\"x\":1}", "invalid_field", "name"},
	        {"{\"name\":\"\\u0000\"}", "invalid_field", "name"},
	        {"{\"n\" : 99999999999999999999 ,\"x\":1}", "invalid_field", "n"},
	        {"{\"n\":9223372036854775808}", "invalid_field", "n"},
	        {"{\"n\":-9223372036854775809}", "invalid_field", "n"},
	        {"{\"n\":1e400}", "invalid_field", "n"},
	        {"{\"packages\":{\"ts003\":99999999999999999999}}", "invalid_field",
	         "packages.ts003"},
	        {"{\"devices\":[\"00000000000000a1\",\"a\\u0000\"]}", "invalid_field", "devices"},
	        {"{\"a\":[{},[1,{\"b\":\"\\u0000\"}]]}", "invalid_field", "a.b"},
	        {"{\"na\\u006de\":\"\\u0000\"}", "invalid_field", "name"},
	        {"{\"x\":{},\"a\":tru}", "malformed_json", "a"},
	        {"{\"a\":}", "malformed_json", "a"},
	        {"{\"a\":01}", "malformed_json", "a"},
	        {"{\"a\":\"\\ud800\"}", "malformed_json", "a"},
	        {"{\"a\":\"\xff\"}", "malformed_json", "a"},
	        {"{\"a\":[1 2]}", "malformed_json", "a"},
	        {"{\"a\":1 \"b\":2}", "malformed_json", ""},
	        {"{\"a\":1,}", "malformed_json", ""},
	        {"{\"a\\u0000\":1}", "malformed_json", "a\\u0000"}, /* the key as sent */
	        {"{\"a\":1,\"a\":2}", "malformed_json", "a"},
	        {"{\"p\":{\"b\":1,\"b\":2}}", "malformed_json", "p.b"},
	        {"99999999999999999999", "malformed_json", ""},
	        {"\"\\u0000\"", "malformed_json", ""},
	        {"{", "malformed_json", ""},
	        {"{}{}", "malformed_json", ""},
	};
	char deep[6000];
	struct api_error e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_null(api_parse_object(cases[i].body, strlen(cases[i].body), &e));
		printf("%s -> %s %s: %s\n", cases[i].body, e.code, e.field, e.message);
		assert_int_equal(e.status, 400);
		assert_string_equal(e.code, cases[i].code);
		assert_string_equal(e.field, cases[i].field);
	}
	/* Past jansson's depth limit, inside a member: named, without a walk past the limit. */
	snprintf(deep, sizeof(deep), "{\"a\":");
	memset(deep + 5, '[', 5000);
	deep[5005] = 0;
	assert_null(api_parse_object(deep, strlen(deep), &e));
	assert_string_equal(e.field, "a");
}

/* RFC 3339 times to Unix ms (modem updates' start_at). */
static void test_rfc3339_ms(void **state)
{
	int64_t ms = 0;

	(void)state;
	assert_int_equal(api_rfc3339_ms("2030-01-31T12:00:00Z", &ms), 0);
	assert_int_equal(ms, INT64_C(1896091200000));
	assert_int_equal(api_rfc3339_ms("2030-01-31T13:30:00.25+01:30", &ms), 0);
	assert_int_equal(ms, INT64_C(1896091200000));
	assert_int_equal(api_rfc3339_ms("2030-01-31t10:00:00-02:00", &ms), 0);
	assert_int_equal(ms, INT64_C(1896091200000));
	assert_int_equal(api_rfc3339_ms("2028-02-29T00:00:00Z", &ms), 0);
	assert_int_equal(api_rfc3339_ms("2030-02-29T00:00:00Z", &ms), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(api_rfc3339_ms("2030-01-31T24:00:00Z", &ms), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(api_rfc3339_ms("2030-01-31T12:00:00+24:00", &ms), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(api_rfc3339_ms("2030-01-31 12:00:00Z", &ms), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(api_rfc3339_ms("2030-01-31T12:00:00", &ms), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(api_rfc3339_ms("", &ms), FUOTA_ERR_INVALID_ARG);
}

/* target_version: the TS006 FW_version (32 bits), absent by default; value (NULL: absent) may
 * carry further fields. */
static int target(const char *value, bool *has, uint32_t *tv, struct api_error *e)
{
	char extra[160] = "";

	if (value)
		snprintf(extra, sizeof(extra), ",\"target_version\":%s", value);
	return decode_job_tv(extra, has, tv, e);
}

static void test_target_version(void **state)
{
	struct api_error e;
	bool has = true;
	uint32_t tv = 1;
	json_t *f;

	(void)state;
	assert_int_equal(target(NULL, &has, &tv, &e), FUOTA_OK);
	assert_false(has);
	assert_int_equal(target("4294967295", &has, &tv, &e), FUOTA_OK);
	assert_true(has);
	assert_int_equal(tv, 0xFFFFFFFFu);
	assert_int_equal(target("0", &has, &tv, &e), FUOTA_OK);
	assert_true(has);
	assert_int_equal(tv, 0);
	assert_int_not_equal(target("4294967296", &has, &tv, &e), FUOTA_OK);
	assert_string_equal(e.field, "target_version");
	assert_int_not_equal(target("-1", &has, &tv, &e), FUOTA_OK);
	assert_string_equal(e.field, "target_version");
	assert_int_not_equal(target("\"65538\"", &has, &tv, &e), FUOTA_OK);
	assert_string_equal(e.field, "target_version");
	/* reboot_in_s: a 24-bit countdown, only with the version to check after the reboot. */
	assert_int_equal(target("1,\"reboot_in_s\":30", &has, &tv, &e), FUOTA_OK);
	assert_int_not_equal(target("1,\"reboot_in_s\":16777215", &has, &tv, &e), FUOTA_OK);
	assert_string_equal(e.field, "reboot_in_s");
	assert_int_not_equal(target("1,\"reboot_in_s\":0", &has, &tv, &e), FUOTA_OK);
	assert_string_equal(e.field, "reboot_in_s");
	assert_int_not_equal(decode_job(",\"reboot_in_s\":30", NULL, &e), FUOTA_OK);
	assert_string_equal(e.field, "reboot_in_s");
	/* reboot_at: RFC 3339, not with reboot_in_s, only with target_version. */
	assert_int_equal(target("1,\"reboot_at\":\"2030-01-31T03:00:00Z\"", &has, &tv, &e),
	                 FUOTA_OK);
	assert_int_not_equal(target("1,\"reboot_at\":\"tomorrow\"", &has, &tv, &e), FUOTA_OK);
	assert_string_equal(e.field, "reboot_at");
	assert_int_not_equal(
	        target("1,\"reboot_at\":\"2030-01-31T03:00:00Z\",\"reboot_in_s\":5", &has, &tv, &e),
	        FUOTA_OK);
	assert_string_equal(e.field, "reboot_at");
	assert_int_not_equal(decode_job(",\"reboot_at\":\"2030-01-31T03:00:00Z\"", NULL, &e),
	                     FUOTA_OK);
	assert_string_equal(e.field, "reboot_at");
	f = api_form_value("target_version", "65538", 5); /* a form's number */
	assert_true(json_is_integer(f));
	assert_int_equal(json_integer_value(f), 65538);
	json_decref(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_start_at),       cmocka_unit_test(test_text_valid),
	        cmocka_unit_test(test_form_check),     cmocka_unit_test(test_json_error_field),
	        cmocka_unit_test(test_rfc3339_ms),     cmocka_unit_test(test_keep_multicast_group),
	        cmocka_unit_test(test_target_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
