/* The project's error helpers (fuota/err.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"

static void test_malformed_says_and_returns(void **state)
{
	char err[32] = "old";

	(void)state;
	assert_int_equal(fuota_malformed(err, sizeof(err), "%s: %d out of range", "port", 300),
	                 FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "port: 300 out of range");
}

static void test_malformed_truncates(void **state)
{
	char err[8];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(fuota_malformed(err, sizeof(err), "a message too long"),
	                 FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "a messa");
}

static void test_malformed_without_buffer(void **state)
{
	char err[4] = "abc";

	(void)state;
	assert_int_equal(fuota_malformed(NULL, 16, "ignored %d", 1), FUOTA_ERR_MALFORMED);
	assert_int_equal(fuota_malformed(err, 0, "ignored %d", 1), FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_malformed_says_and_returns),
	        cmocka_unit_test(test_malformed_truncates),
	        cmocka_unit_test(test_malformed_without_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
