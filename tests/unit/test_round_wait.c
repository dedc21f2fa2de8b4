/* The wait for the devices' reports (server/policy, fuota/round_wait.h): one formula that the job
 * plan and the engine both use, so that the plan announces the wait the engine keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fuota/engine_calc.h"
#include "fuota/plan.h"
#include "fuota/round_wait.h"

static void test_feedback_window(void **state)
{
	(void)state;
	/* 2^(BlockAckDelay + 4) s, BlockAckDelay on 3 bits. */
	assert_int_equal(policy_feedback_window_s(0), 16);
	assert_int_equal(policy_feedback_window_s(2), 64);
	assert_int_equal(policy_feedback_window_s(7), 2048);
	assert_int_equal(policy_feedback_window_s(0x0A), 64);
	assert_int_equal(policy_round_wait_s(0, 12), 16 + 12);
	assert_int_equal(policy_round_wait_s(3, 0), 128);
}

static void test_plan_and_engine_agree(void **state)
{
	static const unsigned timeouts[] = {0, 1, 5, 12, 60, 3600};

	(void)state;
	for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
		unsigned t = timeouts[i];

		assert_int_equal(plan_round_wait_s(0, t) * 1000u,
		                 engine_round_pause_ms(PLAN_BLOCK_ACK_DELAY, t));
		assert_int_equal(plan_round_wait_s(0, t),
		                 policy_round_wait_s(PLAN_BLOCK_ACK_DELAY, t));
		for (uint8_t bad = 0; bad < 8; bad++)
			assert_int_equal(engine_round_pause_ms(bad, t),
			                 policy_round_wait_s(bad, t) * 1000u);
	}
	/* A configured wait replaces the formula in the plan. */
	assert_int_equal(plan_round_wait_s(100, 12), 100);
}

/* A v1 round nobody answered proves "every device has the image" only when fuotad heard every
 * uplink since the request (not after a restart or a broker reconnection in the wait), and only
 * after a second silent request in a row: a device still missing fragments that lost the first
 * request is as silent as one that has the image. */
static void test_round_silence(void **state)
{
	const int64_t asked = 1700000000000;

	(void)state;
	assert_true(policy_round_silence_proves(asked, asked - 60000, 2)); /* listening before */
	assert_true(policy_round_silence_proves(asked, asked, 2));
	assert_true(policy_round_silence_proves(asked, asked, 5));
	assert_false(policy_round_silence_proves(asked, asked + 1, 2)); /* restarted in the wait */
	assert_false(policy_round_silence_proves(asked, asked + 3600000, 2));
	assert_true(policy_round_silence_proves(asked, 0, 2));
	/* One silent request: the one device still short may have lost it. */
	assert_false(policy_round_silence_proves(asked, asked - 60000, 1));
	assert_false(policy_round_silence_proves(asked, 0, 1));
	assert_false(policy_round_silence_proves(asked, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_feedback_window),
	        cmocka_unit_test(test_plan_and_engine_agree),
	        cmocka_unit_test(test_round_silence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
