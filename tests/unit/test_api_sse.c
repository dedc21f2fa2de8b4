/* The pure parts of the live event stream (fuota/api_stream.h): the Last-Event-ID parser and the
 * SSE text of a page of events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/api_stream.h"

static void test_parse_id(void **state)
{
	int64_t v = 77;

	(void)state;
	assert_true(api_sse_parse_id("0", &v));
	assert_int_equal(v, 0);
	assert_true(api_sse_parse_id("42", &v));
	assert_int_equal(v, 42);
	assert_true(api_sse_parse_id("9223372036854775807", &v));
	assert_true(v == INT64_MAX);
	v = 5;
	/* One spelling per number, nothing past INT64_MAX, no sign, space or hex. */
	static const char *const bad[] = {"",
	                                  "01",
	                                  "-1",
	                                  "+1",
	                                  " 1",
	                                  "1 ",
	                                  "0x10",
	                                  "1.0",
	                                  "9223372036854775808",
	                                  "99999999999999999999",
	                                  "abc"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(api_sse_parse_id(bad[i], &v));
		assert_int_equal(v, 5);
	}
	assert_false(api_sse_parse_id(NULL, &v));
}

static void test_format(void **state)
{
	size_t len = 99;
	int64_t last = 7;
	char *s;

	(void)state;
	s = api_sse_format("[{\"id\":12,\"kind\":\"state\",\"data\":{\"to\":\"paused\"}},"
	                   "{\"id\":13,\"kind\":\"log\",\"data\":{\"msg\":\"a\\nb\"}}]",
	                   &len, &last);
	assert_non_null(s);
	/* A newline inside a string stays escaped: one data line per event. */
	assert_string_equal(s, "id: 12\ndata: {\"id\":12,\"kind\":\"state\",\"data\":{\"to\":"
	                       "\"paused\"}}\n\n"
	                       "id: 13\ndata: {\"id\":13,\"kind\":\"log\",\"data\":{\"msg\":"
	                       "\"a\\nb\"}}\n\n");
	assert_int_equal(len, strlen(s));
	assert_int_equal(last, 13);
	free(s);

	s = api_sse_format("[]", &len, &last);
	assert_non_null(s);
	assert_int_equal(len, 0);
	assert_int_equal(last, 13);
	free(s);
}

static void test_format_refuses(void **state)
{
	static const char *const bad[] = {
	        "",           "{}", "[1]", "[{\"kind\":\"x\"}]", "[{\"id\":0}]", "[{\"id\":\"3\"}]",
	        "[{\"id\":1}"};
	size_t len = 0;
	int64_t last = 3;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(api_sse_format(bad[i], &len, &last));
		assert_int_equal(last, 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_id),
	        cmocka_unit_test(test_format),
	        cmocka_unit_test(test_format_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
