/* The log's escaping of a client's bytes (fuota/log.h): nothing a client sends ends a log line
 * or forges another one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/log.h"

/* A client's bytes in a log line: nothing that ends the line or forges another one. */
static void test_log_escape(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
	        {"/api/v1/jobs", 12, "/api/v1/jobs"},
	        {"/a\nINFO forged", 14, "/a\\x0aINFO forged"},
	        {"/a\r\n\t\x1b[0m", 9, "/a\\x0d\\x0a\\x09\\x1b[0m"},
	        {"a\0b", 3, "a\\x00b"},
	        {"\\x0a", 4, "\\\\x0a"}, /* a literal backslash reads back apart from an escape */
	        {"\x7f\xc3\xa9\xff", 4, "\\x7f\\xc3\\xa9\\xff"},
	        {"", 0, ""},
	};
	char out[64], small[12];
	char buf[4096] = {0};
	FILE *f;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(log_escape(cases[i].in, cases[i].len, out, sizeof(out)),
		                    cases[i].out);
	/* Cut between escapes, with "..." and within cap. */
	assert_string_equal(log_escape("abcdefghijklmnop", 16, small, sizeof(small)),
	                    "abcdefgh...");
	assert_string_equal(log_escape("ab\n\n\n", 5, small, sizeof(small)), "ab\\x0a...");
	assert_string_equal(log_escape("abcdefghijk", 11, small, sizeof(small)), "abcdefghijk");
	/* The text sink keeps a message with a raw line feed on one line. */
	f = tmpfile();
	assert_non_null(f);
	log_setup(LOG_LVL_DEBUG, false, f);
	log_write(LOG_LVL_INFO, "GET %s", "/x\n2030-01-01T00:00:00.000Z INFO forged");
	log_setup(LOG_LVL_INFO, false, NULL);
	rewind(f);
	assert_true(fread(buf, 1, sizeof(buf) - 1, f) > 0);
	fclose(f);
	assert_non_null(strstr(buf, "GET /x\\x0a2030"));
	assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_log_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
