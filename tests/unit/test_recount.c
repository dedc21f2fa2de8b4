/* When the job engine counts a job's devices again (server/policy, fuota/recount.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fuota/recount.h"

static void test_due(void **state)
{
	(void)state;
	/* A count that took no time (a small job, a test clock): read at every tick, as before. */
	assert_true(policy_recount_due(1000, 1000, 0));
	/* 63 ms at 100,000 devices: kept for 20 times as long. */
	assert_false(policy_recount_due(1000 + 63 * POLICY_RECOUNT_FACTOR - 1, 1000, 63));
	assert_true(policy_recount_due(1000 + 63 * POLICY_RECOUNT_FACTOR, 1000, 63));
	/* 300 ms: at most POLICY_RECOUNT_MAX_MS old. */
	assert_false(policy_recount_due(1000 + POLICY_RECOUNT_MAX_MS - 1, 1000, 300));
	assert_true(policy_recount_due(1000 + POLICY_RECOUNT_MAX_MS, 1000, 300));
	/* A clock that went back: read again. */
	assert_true(policy_recount_due(999, 1000, 63));
}

static void test_act(void **state)
{
	unsigned c[ENGINE_STEP_COUNT] = {0};

	(void)state;
	/* Setup waits while a device is being set up; with none left it acts. */
	c[ENGINE_STEP_MC_SETUP] = 3;
	c[ENGINE_STEP_READY] = 10;
	assert_false(policy_counts_act(ENGINE_PHASE_SETUP, c, false));
	c[ENGINE_STEP_MC_SETUP] = 0;
	c[ENGINE_STEP_FW_VERSION] = 1;
	assert_false(policy_counts_act(ENGINE_PHASE_SETUP, c, false));
	c[ENGINE_STEP_FW_VERSION] = 0;
	assert_true(policy_counts_act(ENGINE_PHASE_SETUP, c, false));
	/* Session: the tick decides once the session started, whatever the counts. */
	c[ENGINE_STEP_MC_SESSION] = 5;
	assert_false(policy_counts_act(ENGINE_PHASE_SESSION, c, false));
	assert_true(policy_counts_act(ENGINE_PHASE_SESSION, c, true));
	/* Transmit while a device is in the session. */
	c[ENGINE_STEP_SESSION] = 1;
	assert_false(policy_counts_act(ENGINE_PHASE_TRANSMIT, c, true));
	c[ENGINE_STEP_SESSION] = 0;
	assert_true(policy_counts_act(ENGINE_PHASE_TRANSMIT, c, true));
	/* Status: the status answers and the TS006 confirmations. */
	c[ENGINE_STEP_CONFIRM] = 2;
	assert_false(policy_counts_act(ENGINE_PHASE_STATUS, c, true));
	c[ENGINE_STEP_CONFIRM] = 0;
	assert_true(policy_counts_act(ENGINE_PHASE_STATUS, c, true));
	/* Cleanup: the deletes, the reboot and the version check after it. */
	c[ENGINE_STEP_FW_CHECK] = 1;
	assert_false(policy_counts_act(ENGINE_PHASE_CLEANUP, c, true));
	c[ENGINE_STEP_FW_CHECK] = 0;
	assert_true(policy_counts_act(ENGINE_PHASE_CLEANUP, c, true));
	/* A phase with nothing to wait on: fresh counts. */
	assert_true(policy_counts_act(ENGINE_PHASE_DONE, c, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_due),
	        cmocka_unit_test(test_act),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
