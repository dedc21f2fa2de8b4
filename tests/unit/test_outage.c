/* fuota/outage.h: one line when a link is lost, one when it is back, rate-limited reminders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fuota/outage.h"

static void test_outage_lines(void **state)
{
	struct outage o = {0};
	uint64_t n = 0;
	int64_t down = 0;

	(void)state;
	/* Up and staying up: nothing. */
	assert_int_equal(outage_note(&o, true, 0, 10000, &n, &down), OUTAGE_QUIET);
	/* Lost: one line, then silence for every failure within the interval. */
	assert_int_equal(outage_note(&o, false, 1000, 10000, &n, &down), OUTAGE_LOST);
	for (int i = 1; i <= 70; i++)
		assert_int_equal(outage_note(&o, false, 1000 + i * 100, 10000, &n, &down),
		                 OUTAGE_QUIET);
	/* A reminder 10 s after the last line, counting the failures it held back. */
	assert_int_equal(outage_note(&o, false, 11000, 10000, &n, &down), OUTAGE_STILL);
	assert_int_equal(n, 71);
	assert_int_equal(down, 10000);
	assert_int_equal(outage_note(&o, false, 12000, 10000, &n, &down), OUTAGE_QUIET);
	/* Back: one line with the outage's length, then quiet again. */
	assert_int_equal(outage_note(&o, true, 15500, 10000, &n, &down), OUTAGE_BACK);
	assert_int_equal(down, 14500);
	assert_int_equal(outage_note(&o, true, 16000, 10000, &n, &down), OUTAGE_QUIET);
	/* A second outage is a new one. */
	assert_int_equal(outage_note(&o, false, 20000, 10000, &n, &down), OUTAGE_LOST);
	assert_int_equal(o.outages, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_outage_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
