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

static enum policy_phase_act act(enum engine_phase phase, const unsigned *c, bool started)
{
	return policy_phase_act(phase, c, started, 0, 1);
}

/* Each phase's way out, as engine_phase_run takes it. */
static void test_phase_act(void **state)
{
	unsigned c[ENGINE_STEP_COUNT] = {0};

	(void)state;
	/* Setup: waits on every set-up step, then fixes the session, or with nobody ready goes
	 * to the clean-up. */
	static const enum engine_step setup[] = {ENGINE_STEP_PENDING, ENGINE_STEP_FW_VERSION,
	                                         ENGINE_STEP_PKG_VERSION, ENGINE_STEP_MC_SETUP,
	                                         ENGINE_STEP_FRAG_SETUP};
	c[ENGINE_STEP_READY] = 4;
	for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++) {
		c[setup[i]] = 1;
		assert_int_equal(act(ENGINE_PHASE_SETUP, c, true), POLICY_ACT_WAIT);
		c[setup[i]] = 0;
	}
	assert_int_equal(act(ENGINE_PHASE_SETUP, c, false), POLICY_ACT_SESSION);
	c[ENGINE_STEP_READY] = 0;
	c[ENGINE_STEP_FAILED] = 3;
	assert_int_equal(act(ENGINE_PHASE_SETUP, c, false), POLICY_ACT_CLEANUP);
	/* Session: waits for its start, then the tick decides. */
	c[ENGINE_STEP_MC_SESSION] = 2;
	assert_int_equal(act(ENGINE_PHASE_SESSION, c, false), POLICY_ACT_WAIT);
	assert_int_equal(act(ENGINE_PHASE_SESSION, c, true), POLICY_ACT_START);
	c[ENGINE_STEP_MC_SESSION] = 0;
	/* Transmit: sends while a device is in the session, else goes to status. */
	c[ENGINE_STEP_SESSION] = 1;
	assert_int_equal(act(ENGINE_PHASE_TRANSMIT, c, true), POLICY_ACT_SEND);
	c[ENGINE_STEP_SESSION] = 0;
	assert_int_equal(act(ENGINE_PHASE_TRANSMIT, c, true), POLICY_ACT_STATUS);
	/* Status: waits on the answers and the TS006 confirmations; then the next part when
	 * devices have this one and a part follows, else the clean-up. */
	c[ENGINE_STEP_FRAG_STATUS] = 1;
	c[ENGINE_STEP_READY] = 5;
	assert_int_equal(policy_phase_act(ENGINE_PHASE_STATUS, c, true, 0, 2), POLICY_ACT_WAIT);
	c[ENGINE_STEP_FRAG_STATUS] = 0;
	c[ENGINE_STEP_CONFIRM] = 1;
	assert_int_equal(policy_phase_act(ENGINE_PHASE_STATUS, c, true, 0, 2), POLICY_ACT_WAIT);
	c[ENGINE_STEP_CONFIRM] = 0;
	assert_int_equal(policy_phase_act(ENGINE_PHASE_STATUS, c, true, 0, 2),
	                 POLICY_ACT_NEXT_PART);
	assert_int_equal(policy_phase_act(ENGINE_PHASE_STATUS, c, true, 1, 2), POLICY_ACT_CLEANUP);
	c[ENGINE_STEP_READY] = 0;
	assert_int_equal(policy_phase_act(ENGINE_PHASE_STATUS, c, true, 0, 2), POLICY_ACT_CLEANUP);
	/* Clean-up: waits on the deletes, the reboot and the version check, then ends the job. */
	static const enum engine_step cleanup[] = {ENGINE_STEP_CLEANUP, ENGINE_STEP_REBOOT,
	                                           ENGINE_STEP_FW_CHECK};
	for (size_t i = 0; i < sizeof(cleanup) / sizeof(cleanup[0]); i++) {
		c[cleanup[i]] = 1;
		assert_int_equal(act(ENGINE_PHASE_CLEANUP, c, true), POLICY_ACT_WAIT);
		c[cleanup[i]] = 0;
	}
	assert_int_equal(act(ENGINE_PHASE_CLEANUP, c, true), POLICY_ACT_FINISH);
	assert_int_equal(act(ENGINE_PHASE_DONE, c, true), POLICY_ACT_NONE);
}

/* Cached counts are used only while the tick would not act on them: the same decision. */
static void test_act_is_phase_act(void **state)
{
	(void)state;
	for (unsigned ph = 0; ph < ENGINE_PHASE_COUNT; ph++)
		for (unsigned step = 0; step < ENGINE_STEP_COUNT; step++)
			for (unsigned started = 0; started < 2; started++) {
				unsigned c[ENGINE_STEP_COUNT] = {0};
				enum policy_phase_act a;

				c[step] = 1;
				a = act((enum engine_phase)ph, c, started);
				assert_int_equal(
				        policy_counts_act((enum engine_phase)ph, c, started),
				        a != POLICY_ACT_WAIT && a != POLICY_ACT_SEND);
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_due),
	        cmocka_unit_test(test_act),
	        cmocka_unit_test(test_phase_act),
	        cmocka_unit_test(test_act_is_phase_act),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
