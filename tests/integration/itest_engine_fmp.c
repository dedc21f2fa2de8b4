/* The job engine against a real PostgreSQL, with a fake clock, a fake outbound sink and
 * fuota-sim's device model: TS006 Firmware Management in the campaign (issue 14).
 *
 *   target version                 a job with target_version asks its TS006 devices
 *                                  DevVersionReq before the set-up: a device already on the
 *                                  target ends done without the image, the other is updated
 *   reboot                         a job with reboot_in_s sends DevRebootCountdownReq after the
 *                                  clean-up, then DevVersionReq once the countdown ran out: a
 *                                  device on the target is done, one that booted its old
 *                                  firmware failed with both versions
 *
 * The helpers are in itest_engine_lib.c.
 * usage: itest_engine_fmp FUOTAD SERVICES_ENV WORKDIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuota/store_live.h"
#include "itest_engine_lib.h"

#define TARGET_FW 0x00010002u /* the image's FW_version, as DevVersionAns reports it */

/* Registers device i with TS006 in the database and in the simulator, on version fw. */
static void ts006_dev(size_t i, uint32_t fw)
{
	char sql[192];

	T.devs[i].m.cfg.misbehave |= SIM_MB_TS006;
	T.devs[i].m.cfg.fw_version = fw;
	T.devs[i].m.cfg.hw_version = 7;
	snprintf(sql, sizeof(sql),
	         "WITH u AS (UPDATE device SET ts006_version = 1 WHERE dev_eui = '%s' "
	         "RETURNING 1) SELECT count(*) FROM u",
	         T.devs[i].eui);
	assert_int_equal(db_count(sql), 1);
}

/* Two TS006 devices, device 0 already on the target version: it answers DevVersionReq, ends
 * done with that reason and is sent no set-up (no group, no session, no fragment); device 1
 * reports an older version, is set up, receives and verifies the image. A third device without
 * TS006 is not asked and is updated as before. */
static void test_target_version_skips_current(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32], sql[160], *job_json;
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("00000000000000b1", 0xb1, 1);
	add_dev("00000000000000b2", 0xb2, 1);
	add_dev("00000000000000b3", 0xb3, 1);
	ts006_dev(0, TARGET_FW);
	ts006_dev(1, 0x00010001u);
	T.has_target_version = true;
	T.target_version = TARGET_FW;
	job = add_job(0, 3, 4);
	T.has_target_version = false;
	job_json = job_get(job);
	assert_non_null(strstr(job_json, "\"target_version\" : 65538"));
	free(job_json);
	e = new_engine("itest-a", false);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	/* Device 0: asked once, done, nothing else sent. */
	assert_int_equal(T.devs[0].version_reqs, 1);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "done");
	assert_null(dev_field(devs, T.devs[0].eui, "failure_reason"));
	assert_int_equal(T.devs[0].setup_reqs, 0);
	assert_false(T.devs[0].had_session);
	assert_false(T.devs[0].decoded);
	assert_int_equal(T.devs[0].frames, 0);
	/* Device 1: asked, then updated and verified. */
	assert_int_equal(T.devs[1].version_reqs, 1);
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	assert_true(T.devs[1].had_session);
	assert_image(&T.devs[1]);
	/* Device 2 (no TS006): never asked, updated. */
	assert_int_equal(T.devs[2].version_reqs, 0);
	assert_string_equal(dev_field(devs, T.devs[2].eui, "step"), "done");
	assert_image(&T.devs[2]);
	json_decref(devs);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM job_device WHERE dev_eui = '%s' AND last_answer->>'judged' "
	         "LIKE 'done (already on the target version%%'",
	         T.devs[0].eui);
	assert_int_equal(db_count(sql), 1);
	/* The summary counts it apart (and in done). */
	assert_int_equal(store_job_summary(T.store, 1, job, &job_json), FUOTA_OK);
	assert_non_null(strstr(job_json, "\"already_on_target\" : 1,"));
	assert_non_null(strstr(job_json, "\"done\" : 3"));
	free(job_json);
	engine_destroy(e);
}

/* Device 0 runs the new image after the reboot, device 1 boots its old firmware again (an
 * image it could not boot); device 2 has no TS006: no reboot, done after its clean-up. */
static void test_reboot_then_version(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32], sql[192];
	json_t *devs;
	const char *why;
	char *json;

	(void)state;
	fresh_db();
	add_dev("00000000000000c1", 0xc1, 1);
	add_dev("00000000000000c2", 0xc2, 1);
	add_dev("00000000000000c3", 0xc3, 1);
	ts006_dev(0, 0x00010001u);
	ts006_dev(1, 0x00010001u);
	T.devs[0].m.cfg.image_fw_version = TARGET_FW;
	T.has_target_version = true;
	T.target_version = TARGET_FW;
	T.reboot_in_s = 30;
	job = add_job(0, 3, 4);
	T.has_target_version = false;
	T.reboot_in_s = 0;
	e = new_engine("itest-a", false);
	run(e, job, 6000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	assert_image(&T.devs[0]);
	assert_int_equal(T.devs[0].m.rep.counts.reboots, 1);
	assert_int_equal(T.devs[0].version_reqs, 2); /* before the job, after the reboot */
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "done");
	assert_null(dev_field(devs, T.devs[0].eui, "failure_reason"));
	assert_image(&T.devs[1]);
	assert_int_equal(T.devs[1].m.rep.counts.reboots, 1);
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "failed");
	why = dev_field(devs, T.devs[1].eui, "failure_reason");
	assert_non_null(why);
	assert_string_equal(why, "DevVersionAns after the reboot: FW_version 65537, not the target "
	                         "65538 (it did not boot the new image)");
	assert_int_equal(T.devs[2].m.rep.counts.reboots, 0);
	assert_string_equal(dev_field(devs, T.devs[2].eui, "step"), "done");
	json_decref(devs);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM job_device WHERE dev_eui = '%s' AND last_answer->>'judged' "
	         "= 'done (rebooted into the target version)'",
	         T.devs[0].eui);
	assert_int_equal(db_count(sql), 1);
	/* Its last answer is a DevVersionAns too, but it was sent the image: not already on the
	 * target version. */
	assert_int_equal(store_job_summary(T.store, 1, job, &json), FUOTA_OK);
	assert_non_null(strstr(json, "\"already_on_target\" : 0,"));
	assert_non_null(strstr(json, "\"done\" : 2"));
	free(json);
	engine_destroy(e);
}

/* The job's plan warnings of code `code` (reboot_before_end). */
static long long plan_warnings(int64_t job, const char *code)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM job, jsonb_array_elements(plan->'warnings') w WHERE id = "
	         "%lld AND w->>'code' = '%s' AND (w->>'early_s')::bigint > 0",
	         (long long)job, code);
	return db_count(sql);
}

/* A fresh database with one TS006 device eui (key key_byte) on an older version whose image is
 * the target, and a job to the target version with reboot_at ahead_s seconds from now (*at) and a
 * plan that estimates 10 min: its id. */
static int64_t reboot_at_job(const char *eui, uint8_t key_byte, int ahead_s, time_t *at)
{
	char sql[160];
	struct tm tm;
	int64_t job;

	fresh_db();
	add_dev(eui, key_byte, 1);
	ts006_dev(0, 0x00010001u);
	T.devs[0].m.cfg.image_fw_version = TARGET_FW;
	*at = (time_t)(T.now_ms / 1000 + ahead_s);
	gmtime_r(at, &tm);
	strftime(T.reboot_at, sizeof(T.reboot_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	T.has_target_version = true;
	T.target_version = TARGET_FW;
	job = add_job(0, 1, 4);
	T.has_target_version = false;
	T.reboot_at[0] = 0;
	snprintf(sql, sizeof(sql),
	         "UPDATE job SET plan = '{\"estimated_duration_s\":600}' WHERE id = %lld",
	         (long long)job);
	db_exec(sql);
	return job;
}

/* reboot_at half an hour ahead: DevRebootTimeReq with that GPS second, the device's version asked
 * only once it has passed (the simulated device reboots then, not before). Within the job's
 * estimated end (10 min): no warning. */
static void test_reboot_at(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;
	time_t at;

	(void)state;
	job = reboot_at_job("00000000000000d1", 0xd1, 1800, &at);
	e = new_engine("itest-a", false);
	run(e, job, 20000, 0); /* the engine ticks at least once a second */
	assert_int_equal(plan_warnings(job, "reboot_before_end"), 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_true(T.now_ms >= (int64_t)at * 1000);
	assert_int_equal(T.devs[0].m.rep.counts.reboot_times, 1);
	assert_int_equal(T.devs[0].m.rep.counts.reboots, 1);
	assert_int_equal(T.devs[0].version_reqs, 2);
	devs = job_devices(job);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "done");
	json_decref(devs);
	engine_destroy(e);
}

/* reboot_at 2 s ahead when the job is created (the API refuses only one already past), passed by
 * the time the device has the image: it is told to reboot as soon as possible (a countdown, not
 * DevRebootTimeReq for a time gone), its answer and a job event say that reboot_at had passed,
 * and the job's plan warned at its start (reboot_at before its estimated end of 10 min),
 * and it ends done on the target version. */
static void test_reboot_at_passed(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32], sql[256];
	json_t *devs;
	time_t at;

	(void)state;
	job = reboot_at_job("00000000000000d2", 0xd2, 2, &at);
	e = new_engine("itest-a", false);
	run(e, job, 20000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_int_equal(plan_warnings(job, "reboot_before_end"), 1);
	assert_int_equal(T.devs[0].m.rep.counts.reboot_times, 0);
	assert_int_equal(T.devs[0].m.rep.counts.reboots, 1);
	devs = job_devices(job);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "done");
	json_decref(devs);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM event WHERE job_id = %lld AND kind = 'reboot_late' AND "
	         "data->>'dev_eui' = '%s' AND data->>'detail' LIKE 'reboot_at had passed%%'",
	         (long long)job, T.devs[0].eui);
	assert_int_equal(db_count(sql), 1);
	engine_destroy(e);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_target_version_skips_current),
	        cmocka_unit_test(test_reboot_then_version),
	        cmocka_unit_test(test_reboot_at),
	        cmocka_unit_test(test_reboot_at_passed),
	};

	return itest_engine_main(argc, argv, "itest_engine_fmp", tests,
	                         sizeof(tests) / sizeof(tests[0]));
}
