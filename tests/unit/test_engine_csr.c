/* When an AppTimeReq looks for a session request waiting for its resync (csr_clocksync.c
 * csr_resync_lookup, through the engine's private header): the database is asked at most once
 * a second while no device waits, the device's row whenever one may. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine_int.h"

static void test_lookup(void **state)
{
	static const struct {
		bool any;
		int64_t checked_ms, now_ms;
		bool lookup, recheck;
	} cases[] = {
	        {false, 0, 5000, true, true},        /* never asked */
	        {false, 10000, 10000, false, false}, /* none waits, just asked */
	        {false, 10000, 10999, false, false}, /* ... within the second */
	        {false, 10000, 11000, true, true},   /* a second later: ask again */
	        {true, 10000, 10500, true, false},   /* one may wait: its row */
	        {true, 10000, 12000, true, true},    /* ... and the answer is old */
	        {false, 10000, 9000, true, true},    /* the clock went back */
	        {false, 10000, INT64_MAX, true, true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool recheck = !cases[i].recheck;

		assert_int_equal(csr_resync_lookup(cases[i].any, cases[i].checked_ms,
		                                   cases[i].now_ms, &recheck),
		                 cases[i].lookup);
		assert_int_equal(recheck, cases[i].recheck);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
