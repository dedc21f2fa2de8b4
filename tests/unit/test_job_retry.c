/* Whether a job may be retried (fuota/job_retry.h): only a finished job, only when a device
 * failed, only while its image exists, one unfinished retry at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/job_retry.h"

static void test_verdicts(void **state)
{
	static const struct {
		const char *state;
		uint64_t failed;
		bool fw;
		int64_t open;
		enum job_retry_verdict want;
		const char *code;
		const char *says; /* a word the 409 message must hold */
	} cases[] = {
	        {"failed", 3, true, 0, JOB_RETRY_OK, "", ""},
	        {"succeeded", 1, true, 0, JOB_RETRY_OK, "", ""}, /* 1 of n failed */
	        {"cancelled", 2, true, 0, JOB_RETRY_OK, "", ""},
	        {"pending", 2, true, 0, JOB_RETRY_NOT_FINISHED, "invalid_state", "pending"},
	        {"running", 2, true, 0, JOB_RETRY_NOT_FINISHED, "invalid_state", "running"},
	        {"paused", 2, true, 0, JOB_RETRY_NOT_FINISHED, "invalid_state", "paused"},
	        {NULL, 2, true, 0, JOB_RETRY_NOT_FINISHED, "invalid_state", "unknown"},
	        {"bogus", 2, true, 0, JOB_RETRY_NOT_FINISHED, "invalid_state", "bogus"},
	        {"succeeded", 0, true, 0, JOB_RETRY_NOTHING, "nothing_to_retry", "no device"},
	        {"failed", 0, false, 9, JOB_RETRY_NOTHING, "nothing_to_retry", "nothing"},
	        {"running", 0, true, 0, JOB_RETRY_NOT_FINISHED, "invalid_state", "finished"},
	        {"failed", 1, false, 0, JOB_RETRY_NO_IMAGE, "firmware_deleted", "deleted"},
	        {"failed", 1, true, 42, JOB_RETRY_OPEN, "retry_running", "job 42"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct job_retry_facts f = {.state = cases[i].state,
		                            .devices_failed = cases[i].failed,
		                            .has_firmware = cases[i].fw,
		                            .open_retry = cases[i].open};
		char why[160];
		enum job_retry_verdict v = job_retry_decide(&f, why, sizeof(why));

		if (v != cases[i].want)
			fail_msg("case %zu: verdict %d, expected %d", i, (int)v,
			         (int)cases[i].want);
		assert_string_equal(job_retry_code(v), cases[i].code);
		if (v == JOB_RETRY_OK)
			assert_string_equal(why, "");
		else if (!strstr(why, cases[i].says))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, why, cases[i].says);
	}
}

/* The message is cut, never overrun, in a small buffer. */
static void test_small_buffer(void **state)
{
	struct job_retry_facts f = {.state = "running", .devices_failed = 1, .has_firmware = true};
	char why[8];

	(void)state;
	memset(why, 'x', sizeof(why));
	assert_int_equal(job_retry_decide(&f, why, sizeof(why)), JOB_RETRY_NOT_FINISHED);
	assert_int_equal(strlen(why), sizeof(why) - 1);
	assert_int_equal(job_retry_decide(&f, why, 0), JOB_RETRY_NOT_FINISHED);
}

/* The retry's reboot: a reboot_at still ahead is kept; one already past is not copied, the
 * retry reboots each device once it has the image (a 1 s countdown); a countdown is kept. */
static void test_reboot(void **state)
{
	struct job_retry_facts f = {.state = "failed", .now_ms = 1000000};
	bool keep = true;

	(void)state;
	assert_int_equal(job_retry_reboot(&f, &keep), 0); /* no reboot asked */
	assert_false(keep);
	f.reboot_at_ms = 1000001;
	assert_int_equal(job_retry_reboot(&f, &keep), 0);
	assert_true(keep);
	f.reboot_at_ms = 1000000; /* now: past, as the API's check has it */
	assert_int_equal(job_retry_reboot(&f, &keep), 1);
	assert_false(keep);
	f.reboot_at_ms = 5;
	assert_int_equal(job_retry_reboot(&f, &keep), 1);
	assert_false(keep);
	f.reboot_at_ms = 0;
	f.reboot_in_s = 30;
	assert_int_equal(job_retry_reboot(&f, &keep), 30);
	assert_false(keep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_verdicts),
	        cmocka_unit_test(test_small_buffer),
	        cmocka_unit_test(test_reboot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
