/* The job engine against a real PostgreSQL, with a fake clock, a fake outbound sink and
 * simulated devices that answer with the protocol libraries (clocksync/, multicast/,
 * fragmentation/ frag_cmd + frag_dec, lorawan/ lw_frame): every message fuotad publishes is
 * decoded as a device or a gateway would, every answer is a hand-made uplink.
 *
 *   v2 device                      FragSessionSetupReq v2 with SessionCnt and a MIC the device
 *                                  checks over the rebuilt image; SessionCnt grows across jobs
 *   device stacks                  how a LoRaMac-node and a LoRa Basics Modem device's status
 *                                  answers are judged, TS006 DevUpgradeImageReq for a device
 *                                  whose answer cannot prove the image, a MIC error after a
 *                                  round judged the device done, a session too big for the
 *                                  device's memory
 *
 * The helpers are in itest_engine_lib.c.
 * usage: itest_engine_stacks FUOTAD SERVICES_ENV WORKDIR */
#include "itest_engine_lib.h"

static void test_v2_session_cnt_and_mic(void **state)
{
	struct engine *e;
	int64_t job1, job2;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("0000000000000041", 0x15, 2);
	add_dev("0000000000000042", 0x16, 2);
	T.devs[0].m.cfg.lose_frags = 1u << 4;
	e = new_engine("itest-a", false);
	job1 = add_job(0, 2, 3);
	run(e, job1, 2000, 0);
	assert_string_equal(job_state(job1, st, sizeof(st)), "succeeded");
	assert_true(T.devs[0].mic_ok);
	assert_true(T.devs[1].mic_ok);
	assert_image(&T.devs[0]);
	assert_int_equal(T.devs[0].setup.session_cnt, 1);
	/* A second job: SessionCnt continues from the database (the device refuses a replay). */
	job2 = add_job(0, 2, 3);
	run(e, job2, 2000, 0);
	assert_string_equal(job_state(job2, st, sizeof(st)), "succeeded");
	assert_int_equal(T.devs[0].setup.session_cnt, 2);
	assert_int_equal(db_count("SELECT min(session_cnt) FROM engine_device"), 2);
	/* Each job had its own group: a new McAddr. */
	assert_int_equal(db_count("SELECT count(DISTINCT mc_addr) FROM multicast_group"), 2);
	engine_destroy(e);
}

/* Issue 16: LoRaMac-node answers FragSessionStatusReq with the last counter it saw and the
 * uncoded fragments it lost, never lowered once parity rebuilt them, and counts lost parity
 * nowhere. Device 1 lost nothing: its answer proves the image (done). Device 0 lost fragment 2
 * and rebuilt the image; device 3 lost fragments 2 and 3 and parity 21, heard 22 and left
 * coverage: it holds 19 of 20 frames. Both answer a stopped counter with c - L >= M, which
 * cannot tell them apart: both end "unconfirmed", with the reason, and are cleaned up. The
 * same answers from a device registered with the TS004 reading still fail it. */
static void test_loramac_node_status(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;
	const char *why;

	(void)state;
	fresh_db();
	add_dev("0000000000000061", 0x61, 1);
	add_dev("0000000000000062", 0x62, 1);
	add_dev("0000000000000063", 0x63, 1);
	add_dev("0000000000000064", 0x64, 1);
	for (size_t i = 0; i < 4; i++)
		T.devs[i].m.cfg.misbehave |= SIM_MB_LORAMAC_NODE;
	T.devs[0].m.cfg.lose_frags = 1u << 1; /* fragment 2 */
	T.devs[2].m.cfg.lose_frags = 1u << 1;
	/* 2, 3, 21, then nothing after 22 (of 24 frames) */
	T.devs[3].m.cfg.lose_frags = (3u << 1) | (1u << 20) | (3u << 22);
	set_stack(T.devs[0].eui, "loramac-node");
	set_stack(T.devs[1].eui, "loramac-node");
	set_stack(T.devs[3].eui, "loramac-node");
	job = add_job(0, 4, 4);
	e = new_engine("itest-a", false);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	for (size_t i = 0; i < 3; i++)
		assert_image(&T.devs[i]);
	assert_int_not_equal(dev_dec_state(&T.devs[3]), FRAG_DEC_DONE);
	assert_int_equal(T.devs[3].lmn_counter, 22);
	for (size_t i = 0; i < 4; i += 3) {
		assert_string_equal(dev_field(devs, T.devs[i].eui, "step"), "unconfirmed");
		why = dev_field(devs, T.devs[i].eui, "failure_reason");
		assert_non_null(why);
		assert_non_null(strstr(why, "unconfirmed: FragSessionStatusAns (loramac-node)"));
		assert_false(T.devs[i].has_group); /* cleaned up like a done device */
	}
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	assert_null(dev_field(devs, T.devs[1].eui, "failure_reason"));
	assert_string_equal(dev_field(devs, T.devs[2].eui, "step"), "failed");
	why = dev_field(devs, T.devs[2].eui, "failure_reason");
	assert_non_null(why);
	assert_non_null(strstr(why, "1 fragments missing"));
	json_decref(devs);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE last_answer->>'judged' "
	                          "LIKE 'probably done, unconfirmed%'"),
	                 2);
	assert_int_equal(db_count("SELECT count(*) FROM job WHERE error LIKE '%1 of 4 devices "
	                          "failed, 2 of 4 devices unconfirmed%'"),
	                 1);
	engine_destroy(e);
}

/* Issue 16: LoRa Basics Modem v2 after a lossless session reports its block (no MICError),
 * then answers FragSessionStatusReq with MissingFrag 1 (`0100120001` in an 18-fragment
 * session): it has the image, and that answer does not fail it. Device 1 answers first and
 * reports after: it is asked again rather than failed, and its report moves it on. */
static void test_lbm_block_then_status(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("0000000000000071", 0x71, 2);
	add_dev("0000000000000072", 0x72, 2);
	for (size_t i = 0; i < 2; i++) {
		T.devs[i].m.cfg.misbehave |= SIM_MB_LBM_MISSING;
		T.devs[i].report_late = true;
	}
	T.devs[1].report_after_status = true;
	set_stack(T.devs[0].eui, "lbm");
	job = add_job(0, 2, 2);
	e = new_engine("itest-a", false);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_true(T.devs[0].mic_ok);
	assert_true(T.devs[0].reported_ms > 0);
	assert_true(T.devs[0].status_reqs > 0); /* it was asked, and answered MissingFrag 1 */
	devs = job_devices(job);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "done");
	assert_null(dev_field(devs, T.devs[0].eui, "failure_reason"));
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	assert_null(dev_field(devs, T.devs[1].eui, "failure_reason"));
	assert_true(T.devs[1].reported_ms > 0);
	json_decref(devs);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE "
	                          "last_answer->>'judged' = 'done (block reported)'"),
	                 2);
	engine_destroy(e);
}

/* Issue 16: a device that cannot hold the session's fragments. One whose limit fuotad knows
 * (max_frags 10, the session has 20) is not sent FragSessionSetupReq: it fails at once, the
 * numbers in its reason. One whose limit fuotad does not know refuses it with NotEnoughMemory;
 * its reason says what the session asked. */
static void test_setup_not_enough_memory(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32], sql[256];
	json_t *devs;
	const char *why;

	(void)state;
	fresh_db();
	add_dev("0000000000000081", 0x81, 2);
	add_dev("0000000000000082", 0x82, 2);
	add_dev("0000000000000083", 0x83, 2);
	dev_max_frags(&T.devs[0], 10); /* the session has 20 */
	dev_max_frags(&T.devs[2], 10);
	snprintf(sql, sizeof(sql),
	         "WITH u AS (UPDATE device SET stack = 'lbm', max_frags = 10 WHERE dev_eui = '%s' "
	         "RETURNING 1) SELECT count(*) FROM u",
	         T.devs[0].eui);
	assert_int_equal(db_count(sql), 1);
	job = add_job(0, 3, 2);
	e = new_engine("itest-a", false);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "failed");
	why = dev_field(devs, T.devs[0].eui, "failure_reason");
	assert_non_null(why);
	assert_string_equal(why, "FragSessionSetupReq not sent: the session's 20 fragments are "
	                         "more than the device takes (10: its max_frags, or its stack's "
	                         "default build)");
	assert_false(T.devs[0].has_session); /* never asked */
	assert_string_equal(dev_field(devs, T.devs[2].eui, "step"), "failed");
	assert_string_equal(dev_field(devs, T.devs[2].eui, "failure_reason"),
	                    "FragSessionSetupAns: NotEnoughMemory: the device cannot hold the "
	                    "session's 20 fragments of 50 bytes");
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	json_decref(devs);
	engine_destroy(e);
}

/* Issue 16: a status round that judged a v2 device done only stops the rows for it
 * (block_received); it is no block report. Device 0's image fails its MIC check and its
 * FragDataBlockReceivedReq (MICError) is lost; a round marked it received. Its answer after the
 * session says MICError: it fails. Before, the round's mark made every later answer unheard and
 * the device was done. */
static void test_round_done_then_mic_error(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("0000000000000091", 0x91, 2);
	add_dev("0000000000000092", 0x92, 2);
	T.devs[0].m.cfg.misbehave |= SIM_MB_BAD_MIC;
	T.devs[0].lost_reports = 1000;
	job = add_job(0, 2, 2);
	e = new_engine("itest-a", false);
	run(e, job, 2000, 3);
	/* What a status round's "done" writes (engine_status.c on_round_status). */
	assert_int_equal(db_count("WITH u AS (UPDATE job_device SET block_received = true "
	                          "WHERE dev_eui = '0000000000000091' RETURNING 1) "
	                          "SELECT count(*) FROM u"),
	                 1);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_true(T.devs[0].status_reqs > 0);
	devs = job_devices(job);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "failed");
	assert_string_equal(dev_field(devs, T.devs[0].eui, "failure_reason"),
	                    "FragSessionStatusAns: MICError");
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	json_decref(devs);
	engine_destroy(e);
}

/* Issue 16: a LoRaMac-node device whose answer cannot prove the image and that has TS006 is
 * asked DevUpgradeImageReq. Device 0 lost fragment 2 and rebuilt the image: Valid, done. Device
 * 1 lost 2, 3 and 21, heard 22 and left: NoFirmwarePresent, failed. Device 2 is registered with
 * TS006 but never answers it: unconfirmed after its attempts, and cleaned up. */
static void test_loramac_node_ts006(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32], sql[192];
	json_t *devs;
	const char *why;

	(void)state;
	fresh_db();
	add_dev("00000000000000a1", 0xa1, 1);
	add_dev("00000000000000a2", 0xa2, 1);
	add_dev("00000000000000a3", 0xa3, 1);
	for (size_t i = 0; i < 3; i++) {
		T.devs[i].m.cfg.misbehave |= SIM_MB_LORAMAC_NODE;
		T.devs[i].m.cfg.lose_frags = 1u << 1;
		if (i < 2)
			T.devs[i].m.cfg.misbehave |= SIM_MB_TS006;
		set_stack(T.devs[i].eui, "loramac-node");
		snprintf(sql, sizeof(sql),
		         "WITH u AS (UPDATE device SET ts006_version = 1 WHERE dev_eui = '%s' "
		         "RETURNING 1) SELECT count(*) FROM u",
		         T.devs[i].eui);
		assert_int_equal(db_count(sql), 1);
	}
	T.devs[1].m.cfg.lose_frags = (3u << 1) | (1u << 20) | (3u << 22);
	job = add_job(0, 3, 4);
	e = new_engine("itest-a", false);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	assert_image(&T.devs[0]);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "done");
	assert_null(dev_field(devs, T.devs[0].eui, "failure_reason"));
	assert_int_equal(T.devs[0].upgrade_reqs, 1);
	assert_false(T.devs[0].has_group);
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "failed");
	assert_string_equal(dev_field(devs, T.devs[1].eui, "failure_reason"),
	                    "DevUpgradeImageAns: NoFirmwarePresent");
	assert_string_equal(dev_field(devs, T.devs[2].eui, "step"), "unconfirmed");
	why = dev_field(devs, T.devs[2].eui, "failure_reason");
	assert_non_null(why);
	assert_non_null(strstr(why, "DevUpgradeImageReq had no answer after 3 attempts"));
	assert_int_equal(T.devs[2].upgrade_reqs, 3);
	assert_false(T.devs[2].has_group);
	json_decref(devs);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE last_answer->>'judged' "
	                          "= 'done (TS006: its image is valid)'"),
	                 1);
	engine_destroy(e);
}

/* Issue 15: a DevUpgradeImageAns "Valid" from the same DevEUI in another application confirms
 * nothing. The job's device (LoRaMac-node, lost a fragment, TS006 registered) never answers
 * itself: it ends unconfirmed, not done. */
static void test_ts006_answer_other_application(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32], sql[192];
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("00000000000000a4", 0xa4, 1);
	T.devs[0].m.cfg.misbehave |= SIM_MB_LORAMAC_NODE;
	T.devs[0].m.cfg.lose_frags = 1u << 1;
	dev_impostor(&T.devs[0]);
	set_stack(T.devs[0].eui, "loramac-node");
	snprintf(sql, sizeof(sql),
	         "WITH u AS (UPDATE device SET ts006_version = 1 WHERE dev_eui = '%s' "
	         "RETURNING 1) SELECT count(*) FROM u",
	         T.devs[0].eui);
	assert_int_equal(db_count(sql), 1);
	job = add_job(0, 1, 4);
	e = new_engine("itest-a", false);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_int_equal(T.devs[0].upgrade_reqs, 3);
	devs = job_devices(job);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "unconfirmed");
	json_decref(devs);
	engine_destroy(e);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_v2_session_cnt_and_mic),
	        cmocka_unit_test(test_loramac_node_status),
	        cmocka_unit_test(test_lbm_block_then_status),
	        cmocka_unit_test(test_setup_not_enough_memory),
	        cmocka_unit_test(test_round_done_then_mic_error),
	        cmocka_unit_test(test_loramac_node_ts006),
	        cmocka_unit_test(test_ts006_answer_other_application),
	};

	return itest_engine_main(argc, argv, "itest_engine_stacks", tests,
	                         sizeof(tests) / sizeof(tests[0]));
}
