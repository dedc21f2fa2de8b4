/* The instance lock's state machine (server/policy, fuota/ilock.h): what the engine does when
 * the connection holding its instance id breaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/ilock.h"

static void test_held_runs(void **state)
{
	struct ilock st;
	struct ilock_step out;

	(void)state;
	memset(&st, 0, sizeof(st));
	ilock_note(&st, ILOCK_HELD, 1000, &out);
	assert_int_equal(out.act, ILOCK_RUN);
	assert_int_equal(out.say, ILOCK_SAY_NOTHING);
	assert_false(ilock_retake_due(&st, 1000));
}

/* Lost: paused at once (the very look that found it), said once, retaken at once; taken back:
 * runs again and says how long it was out. */
static void test_lost_then_taken(void **state)
{
	struct ilock st;
	struct ilock_step out;

	(void)state;
	memset(&st, 0, sizeof(st));
	ilock_note(&st, ILOCK_GONE, 1000, &out);
	assert_int_equal(out.act, ILOCK_PAUSE);
	assert_int_equal(out.say, ILOCK_SAY_LOST);
	assert_true(ilock_retake_due(&st, 1000));
	/* A plain look while lost (the caller should not, but) keeps it paused. */
	ilock_note(&st, ILOCK_HELD, 1001, &out);
	assert_int_equal(out.act, ILOCK_PAUSE);
	ilock_note(&st, ILOCK_NO_DB, 1002, &out);
	assert_int_equal(out.act, ILOCK_PAUSE);
	assert_int_equal(out.say, ILOCK_SAY_NOTHING);
	assert_false(ilock_retake_due(&st, 1002 + ILOCK_RETRY_MS - 1));
	assert_true(ilock_retake_due(&st, 1002 + ILOCK_RETRY_MS));
	ilock_note(&st, ILOCK_TAKEN, 1600, &out);
	assert_int_equal(out.act, ILOCK_RUN);
	assert_int_equal(out.say, ILOCK_SAY_BACK);
	assert_int_equal(out.down_ms, 600);
	assert_false(ilock_retake_due(&st, 5000));
	ilock_note(&st, ILOCK_HELD, 1700, &out);
	assert_int_equal(out.act, ILOCK_RUN);
}

/* While the database stays away: paused, a reminder every ILOCK_WARN_EVERY_MS, not more. */
static void test_still_lost(void **state)
{
	struct ilock st;
	struct ilock_step out;
	unsigned still = 0;

	(void)state;
	memset(&st, 0, sizeof(st));
	ilock_note(&st, ILOCK_GONE, 0, &out);
	for (int64_t t = 0; t <= 30000; t += ILOCK_RETRY_MS) {
		ilock_note(&st, ILOCK_NO_DB, t, &out);
		assert_int_equal(out.act, ILOCK_PAUSE);
		if (out.say == ILOCK_SAY_STILL) {
			still++;
			assert_int_equal(out.down_ms, t);
		}
	}
	assert_int_equal(still, 3);
}

/* Another process holds the id now: refused, for good, whatever comes next. */
static void test_elsewhere_refuses(void **state)
{
	struct ilock st;
	struct ilock_step out;

	(void)state;
	memset(&st, 0, sizeof(st));
	ilock_note(&st, ILOCK_GONE, 0, &out);
	ilock_note(&st, ILOCK_ELSEWHERE, 10, &out);
	assert_int_equal(out.act, ILOCK_REFUSE);
	assert_int_equal(out.say, ILOCK_SAY_REFUSED);
	assert_false(ilock_retake_due(&st, 100000));
	ilock_note(&st, ILOCK_TAKEN, 20, &out);
	assert_int_equal(out.act, ILOCK_REFUSE);
	assert_int_equal(out.say, ILOCK_SAY_NOTHING);
	ilock_note(&st, ILOCK_HELD, 30, &out);
	assert_int_equal(out.act, ILOCK_REFUSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_held_runs),
	        cmocka_unit_test(test_lost_then_taken),
	        cmocka_unit_test(test_still_lost),
	        cmocka_unit_test(test_elsewhere_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
