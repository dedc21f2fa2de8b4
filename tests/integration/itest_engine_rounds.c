/* The job engine against a real PostgreSQL, with a fake clock, a fake outbound sink and
 * simulated devices that answer with the protocol libraries (clocksync/, multicast/,
 * fragmentation/ frag_cmd + frag_dec, lorawan/ lw_frame): every message fuotad publishes is
 * decoded as a device or a gateway would, every answer is a hand-made uplink.
 *
 *   mixed TS004 v1 and v2          one fragmentation session per version on the one group
 *                                  (own FragIndex, one FCnt sequence): every device rebuilds
 *                                  the exact image; adaptive redundancy stops each session on
 *                                  its own; a restart in the middle continues both sessions
 *   adaptive rounds                parity in batches; after each one multicast
 *                                  FragSessionStatusReq (Participants = 0) that only devices
 *                                  still missing fragments answer, a wait, and the next batch
 *                                  the answers call for (checked frame by frame against
 *                                  engine_round_next over the answers the devices gave);
 *                                  v1, v2 and mixed jobs; an engine restarted in the wait, a job
 *                                  paused or cancelled in it; stream mode sends parity back to
 *                                  back
 *
 * The helpers are in itest_engine_lib.c.
 * usage: itest_engine_rounds FUOTAD SERVICES_ENV WORKDIR */
#include "itest_engine_lib.h"

static void test_adaptive_v2(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	unsigned reqs;

	(void)state;
	job = rounds_job("00000000000081", &e);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 3; i++) {
		assert_image(&T.devs[i]);
		assert_true(T.devs[i].mic_ok);
	}
	reqs = check_rounds(T.devs[0].setup.frag_index, 2, 2);
	print_message("adaptive v2: %zu frames sent for 20 fragments, %u status requests, %zu "
	              "answers\n",
	              frames_of(FRAME_DATA), reqs, T.n_answers);
	/* The first batch cannot be enough for the device that lost 8 frames: at least one
	 * request, which it answered; the device that lost nothing never answered. */
	assert_true(first_batch(2) < 8);
	assert_true(reqs >= 1);
	assert_true(answers_of(0) >= 1);
	assert_int_equal(answers_of(2), 0);
	assert_int_equal(T.devs[2].mc_status_reqs, reqs);
	assert_int_equal(db_count("SELECT frames_sent FROM engine_job"),
	                 (long long)frames_of(FRAME_DATA));
	assert_int_equal(db_count("SELECT round FROM engine_session"), reqs);
	/* Each request took an FCnt of the group: one sequence for frames and requests. */
	assert_int_equal(db_count("SELECT fcnt FROM multicast_group"), (long long)T.n_fcnts);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE block_received"), 3);
	/* Each reported its block: no unicast FragSessionStatusReq, straight to the deletes. */
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(T.devs[i].status_reqs, 0);
		assert_int_equal(T.devs[i].deletes, 2); /* FragSessionDelete, McGroupDelete */
		assert_false(T.devs[i].has_group);
	}
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'done'"), 3);
	assert_fcnts_increase();
	engine_destroy(e);
}

/* The same in stream mode: parity back to back until the lossy device reports, no wait. */
static void test_adaptive_stream(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	long long sent;

	(void)state;
	fresh_db();
	add_dev("0000000000000081", 0x41, 2);
	add_dev("0000000000000082", 0x42, 2);
	T.devs[0].m.cfg.lose_frags = 0x3Fu << 3;
	T.adaptive_stream = true;
	e = new_engine_ex("itest-a", true, true);
	job = add_job(0, 2, 2);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	sent = db_count("SELECT frames_sent FROM engine_job");
	assert_true(sent >= 20 + 6);
	assert_true(sent <= 20 + 6 + 4);
	for (size_t i = 1; i < T.n_fcnts; i++)
		assert_true(T.frame_ms[i] - T.frame_ms[i - 1] < 5000);
	engine_destroy(e);
}

/* An engine dies during the wait after a status request, one device's answer stored and the
 * other's still on its way: the engine that takes the job over waits the round out, takes the
 * second answer, reads both from the database and sends the batch they call for, with the
 * group's FCnt going on (none reused). */
static void test_adaptive_rounds_restart(void **state)
{
	struct engine *a, *b;
	int64_t job;
	char st[32];
	size_t before;
	unsigned reqs;

	(void)state;
	job = rounds_job("00000000000082", &a);
	T.devs[1].m.cfg.lose_frags = 0x1Fu << 2; /* N = 3..7: this one answers too (4 s later) */
	T.stop_after_answers = 1;
	run(a, job, 4000, 0);
	T.stop_after_answers = 0;
	before = T.n_fcnts;
	assert_int_equal(T.mc_status[T.devs[0].setup.frag_index], 1);
	assert_int_equal(T.frame_info[before - 1].kind, FRAME_STATUS);
	assert_int_equal(T.next_answer, 1);
	assert_true(T.n_answers >= 2); /* the second one not delivered yet */
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE status_round = 1"), 1);
	engine_destroy(a);
	b = new_engine_ex("itest-b", true, true);
	run(b, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 3; i++)
		assert_image(&T.devs[i]);
	assert_true(T.n_fcnts > before);
	for (size_t i = before; i < T.n_fcnts; i++)
		assert_string_equal(T.frame_from[i], "itest-b");
	/* The batch after the restart is the one both answers call for, after the wait. */
	reqs = check_rounds(T.devs[0].setup.frag_index, 2, 2);
	assert_true(reqs >= 1);
	assert_true(answers_of(0) >= 1 && answers_of(1) >= 1);
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT fcnt FROM multicast_group"), (long long)T.n_fcnts);
	assert_int_equal(db_count("SELECT count(*) FROM (SELECT fcnt FROM engine_tx GROUP BY fcnt "
	                          "HAVING count(*) > 1) x"),
	                 0);
	engine_destroy(b);
}

/* Paused during the wait after a status request: nothing goes out while paused (the answers
 * still arrive); resumed, the job sends the batch the answers call for and completes. */
static void test_adaptive_pause_in_wait(void **state)
{
	struct engine *e;
	int64_t job;

	(void)state;
	job = rounds_job("00000000000083", &e);
	action_in_wait(e, job, "pause");
	assert_int_equal(T.next_answer, T.n_answers); /* every answer in */
	resume_to_end(e, job);
	engine_destroy(e);
}

/* A v2 device that rebuilt its image in the first frames but whose FragDataBlockReceivedReq was
 * lost repeats it while the job is paused: the engine answers it and stores it, so the resumed
 * job does not count the device pending (nor sends it rows it no longer needs). */
static void test_adaptive_pause_block_received(void **state)
{
	struct engine *e;
	int64_t job;
	char sql[160];
	struct tdev *quiet;
	uint8_t req[2];
	long long pending;

	(void)state;
	job = rounds_job("00000000000085", &e);
	quiet = &T.devs[2]; /* loses nothing */
	quiet->lost_reports = 1;
	run_to_first_request(e, job);
	assert_true(quiet->done_at > 0 && quiet->mic_ok);
	assert_int_equal(quiet->block_acks, 0);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM job_device WHERE dev_eui = '%s' AND step = 'session' "
	         "AND NOT block_received",
	         quiet->eui);
	assert_int_equal(db_count(sql), 1);
	pending = db_count(PENDING_SQL);
	assert_true(pending >= 2); /* the lossy device too */
	job_action(job, "pause");
	/* The repeat (FragIndex, MICError 0) reaches the paused job. */
	req[0] = FRAG_CID_DATA_BLOCK_RECEIVED;
	req[1] = (uint8_t)quiet->setup.frag_index;
	uplink(e, quiet, FRAG_PORT, req, sizeof(req));
	pump(e);
	assert_int_equal(quiet->block_acks, 1);
	assert_int_equal(db_count(sql), 0);
	assert_int_equal(db_count(PENDING_SQL), pending - 1);
	idle(e, 30);
	resume_to_end(e, job);
	assert_int_equal(quiet->block_acks, 1);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE block_received"), 3);
	engine_destroy(e);
}

/* The wait after a status request ends as soon as every device still missing the image has
 * answered it (the one that has the image reported its block): the next batch goes right after
 * the last answer, not at the end of the feedback window. With one answer lost, nothing tells
 * the engine that no device is left to hear from: the whole window is waited. */
static void test_adaptive_wait_answered(void **state)
{
	const uint64_t pause_ms = engine_round_pause_ms(0, 5);
	int64_t wait_ms, answers_ms;

	(void)state;
	wait_after_request("00000000000086", false, &wait_ms, &answers_ms);
	print_message("every answer in %lld ms after the request, next frame after %lld ms (the "
	              "window: %llu ms)\n",
	              (long long)answers_ms, (long long)wait_ms, (unsigned long long)pause_ms);
	assert_true(answers_ms >= 4000); /* device 1 answers last */
	assert_true(wait_ms >= answers_ms);
	assert_true(wait_ms <= answers_ms + 1000); /* the engine's next tick */
	assert_true(wait_ms < (int64_t)pause_ms);

	wait_after_request("00000000000087", true, &wait_ms, &answers_ms);
	print_message("one answer lost: next frame after %lld ms\n", (long long)wait_ms);
	assert_true(answers_ms < 4000); /* only device 0's */
	assert_true(wait_ms >= (int64_t)pause_ms);
}

/* A v2 device whose every FragDataBlockReceivedReq is lost: the engine cannot tell that it has
 * the image, so it keeps the session going to its cap and then asks that device (and only that
 * one: the others reported) with the final FragSessionStatusReq before deleting its session. */
static void test_adaptive_report_lost(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];

	(void)state;
	job = rounds_job("00000000000088", &e);
	T.devs[2].lost_reports = 1000;
	run(e, job, 6000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 3; i++) {
		assert_image(&T.devs[i]);
		assert_int_equal(T.devs[i].status_reqs, i == 2 ? 1 : 0);
		assert_int_equal(T.devs[i].deletes, 2);
	}
	assert_int_equal(T.devs[2].reported_ms, 0);
	assert_true(check_rounds(T.devs[0].setup.frag_index, 2, 2) >= 1);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'done'"), 3);
	engine_destroy(e);
}

/* Cancelled during the wait after a status request: no batch follows, the answers that still
 * come in change nothing, the groups are deleted. */
static void test_adaptive_cancel_in_wait(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;

	(void)state;
	job = rounds_job("00000000000084", &e);
	action_in_wait(e, job, "cancel");
	assert_string_equal(job_state(job, st, sizeof(st)), "cancelled");
	devs = job_devices(job);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(dev_field(devs, T.devs[i].eui, "failure_reason"),
		                    "job cancelled");
		assert_false(T.devs[i].has_group);
	}
	json_decref(devs);
	engine_destroy(e);
}

static void test_adaptive_v1(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	unsigned reqs;

	(void)state;
	fresh_db();
	add_dev("00000000000000a1", 0x43, 1);
	add_dev("00000000000000a2", 0x44, 1);
	T.devs[1].m.cfg.lose_frags = 0x3Fu << 5;
	e = new_engine_ex("itest-a", true, true);
	job = add_job(0, 2, 2);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	reqs = check_rounds(T.devs[0].setup.frag_index, 1, 2);
	print_message("adaptive v1: %zu frames sent for 20 fragments, 6 lost, %u status "
	              "requests\n",
	              frames_of(FRAME_DATA), reqs);
	/* TS004 v1 has no completion report: the session stops after two requests in a row
	 * nobody answered (every device has the image), so two more requests than answered
	 * ones. */
	assert_true(reqs >= 3);
	assert_int_equal(answers_of(0), 0);
	assert_int_equal(answers_of(1), reqs - 2);
	/* The final unicast FragSessionStatusReq (Participants = 1) of each device. */
	assert_int_equal(T.devs[0].status_reqs, 1);
	assert_int_equal(T.devs[1].status_reqs, 1);
	assert_int_equal(db_count("SELECT frames_sent FROM engine_job"),
	                 (long long)frames_of(FRAME_DATA));
	assert_fcnts_increase();
	engine_destroy(e);
}

/* TS004 v1: the only device still missing fragments after the first batch does not answer the
 * multicast status request (it lost the request, or its answer was lost on the air: fuotad hears
 * the same silence). One silent request does not prove that every device has the image: a small
 * step and another request follow; the device answers it, gets its parity and the image, and the
 * session stops after two requests in a row nobody answered. */
static void test_adaptive_v1_request_lost(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	unsigned reqs;

	(void)state;
	fresh_db();
	add_dev("00000000000000a5", 0x47, 1);
	add_dev("00000000000000a6", 0x48, 1);
	T.devs[1].m.cfg.lose_frags = 0xFFu << 5; /* N = 6..13 */
	T.devs[1].lost_answers = 1;
	e = new_engine_ex("itest-a", true, true);
	job = add_job(0, 2, 2);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'done'"), 2);
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	reqs = check_rounds(T.devs[0].setup.frag_index, 1, 2);
	print_message("adaptive v1, first answer lost: %zu frames sent for 20 fragments, 8 lost, "
	              "%u status requests\n",
	              frames_of(FRAME_DATA), reqs);
	assert_true(reqs >= 4);
	assert_int_equal(T.devs[1].mc_status_reqs, reqs);
	assert_int_equal(answers_of(0), 0);
	assert_int_equal(answers_of(1), reqs - 3); /* the first lost, the last two silent */
	assert_fcnts_increase();
	engine_destroy(e);
}

/* TS004 v1, an engine killed in the wait after a status request, and the lossy device's answer
 * sent while no engine runs (lost: the network server publishes uplinks at QoS 0). The engine
 * that takes over hears nothing in the round, which a v1 session would read as "every device
 * has the image": it must not, since it started after the request. It sends a small batch and
 * asks again; the device answers, gets its parity and the image. */
static void test_adaptive_v1_answer_lost_in_restart(void **state)
{
	struct engine *a, *b;
	int64_t job;
	char st[32];
	size_t upto = FW_SIZE / FRAG_SIZE + first_batch(2) + 1, lost;

	(void)state;
	fresh_db();
	add_dev("00000000000000b1", 0x45, 1);
	add_dev("00000000000000b2", 0x46, 1);
	T.devs[1].m.cfg.lose_frags = 0x3Fu << 5;
	a = new_engine_ex("itest-a", true, true);
	job = add_job(0, 2, 2);
	run(a, job, 4000, upto);
	assert_int_equal(T.frame_info[upto - 1].kind, FRAME_STATUS);
	engine_destroy(a);
	/* The request is on the air; its answers come while no engine runs. */
	lost = T.n_answers - T.next_answer;
	assert_true(lost >= 1);
	T.next_answer = T.n_answers;
	T.now_ms += 1000;
	b = new_engine_ex("itest-b", true, true);
	run(b, job, 4000, 0);
	print_message("v1 answer lost in a restart: %zu answer(s) lost, %zu frames sent in all\n",
	              lost, frames_of(FRAME_DATA));
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'done'"), 2);
	/* After the restart: more parity and another request (the first wait's silence proved
	 * nothing). */
	assert_true(frames_of(FRAME_DATA) > upto - 1);
	assert_true(frames_of(FRAME_STATUS) >= 2);
	assert_fcnts_increase();
	engine_destroy(b);
}

/* v1 and v2 parity rows differ: a mixed job runs one fragmentation session per version on its
 * one multicast group, and every device, of either version, rebuilds the exact image. */
static void test_mixed_versions(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs, *sessions;
	int v1_index;

	(void)state;
	fresh_db();
	add_dev("00000000000000c1", 0x71, 1);
	add_dev("00000000000000c2", 0x72, 1);
	add_dev("00000000000000c3", 0x73, 1);
	add_dev("00000000000000c4", 0x74, 2);
	add_dev("00000000000000c5", 0x75, 2);
	T.devs[0].m.cfg.lose_frags = 1u << 2;                /* v1: loses N = 3 of its session */
	T.devs[3].m.cfg.lose_frags = (1u << 4) | (1u << 11); /* v2: loses N = 5 and 12 */
	e = new_engine("itest-a", false);
	job = add_job(0, 5, 3);
	/* The parts of an API plan the engine does not start from, for the update to keep. */
	assert_int_equal(db_count("WITH u AS (UPDATE job SET plan = '{\"sessions\":1,"
	                          "\"total_frames\":23,\"unicast_setup_s\":45,"
	                          "\"multicast_duration_s\":30}' RETURNING 1) "
	                          "SELECT count(*) FROM u"),
	                 1);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	for (size_t i = 0; i < 5; i++) {
		assert_image(&T.devs[i]);
		assert_string_equal(dev_field(devs, T.devs[i].eui, "step"), "done");
		assert_null(dev_field(devs, T.devs[i].eui, "failure_reason"));
		/* Every frame of the group reached it; it took its session's 23 (20 fragments + 3
		 * parity rows) and ignored the other session's 23. */
		assert_int_equal(T.devs[i].foreign, 23);
		assert_int_equal(T.devs[i].frames, 23 - bits_set(T.devs[i].m.cfg.lose_frags));
		/* Clean-up deleted its own session, then the group. */
		assert_int_equal(T.devs[i].deletes, 2);
		assert_int_equal(T.devs[i].delete_index, T.devs[i].setup.frag_index);
		assert_false(T.devs[i].has_group);
	}
	json_decref(devs);
	assert_true(T.devs[3].mic_ok); /* the v2 MIC covers its own FragIndex */
	assert_true(T.devs[4].mic_ok);
	v1_index = assert_two_sessions(0, 5);
	/* Two sessions of 23 frames on one group: one FCnt sequence, 46 frames. */
	assert_int_equal(T.n_fcnts, 46);
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT count(*) FROM multicast_group"), 1);
	assert_int_equal(db_count("SELECT fcnt FROM multicast_group"), 46);
	assert_int_equal(db_count("SELECT frames_sent FROM engine_job"), 46);
	assert_int_equal(session_frames(v1_index), 23);
	assert_int_equal(session_frames(1 - v1_index), 23);
	/* What the database says of each device's session matches what it was told. */
	assert_int_equal(db_count("SELECT count(DISTINCT frag_index) FROM job_device"), 2);
	assert_int_equal(db_count("SELECT count(DISTINCT (frag_index, frag_version)) FROM "
	                          "job_device"),
	                 2);
	/* The estimate in the job's event log and the last progress event name both sessions. */
	assert_int_equal(db_count("SELECT count(*) FROM event WHERE kind = 'log' AND "
	                          "jsonb_array_length(data->'sessions') = 2 AND "
	                          "(data->>'frames')::int = 46 AND (data->>'airtime_ms')::int > 0"),
	                 1);
	assert_plan_sessions(job, 2, 46);
	assert_non_null(T.last_progress);
	assert_int_equal(json_integer_value(json_object_get(T.last_progress, "frames_sent")), 46);
	assert_true(json_integer_value(json_object_get(T.last_progress, "airtime_ms")) > 46 * 50);
	sessions = json_object_get(T.last_progress, "sessions");
	assert_int_equal(json_array_size(sessions), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *x = json_array_get(sessions, i);

		assert_int_equal(json_integer_value(json_object_get(x, "frag_index")), (int)i);
		assert_int_equal(json_integer_value(json_object_get(x, "ts004")),
		                 (int)i == v1_index ? 1 : 2);
		assert_int_equal(json_integer_value(json_object_get(x, "frames_sent")), 23);
		assert_true(json_is_true(json_object_get(x, "done")));
	}
	engine_destroy(e);
}

/* Adaptive redundancy in a mixed job: each session (v1 and v2, own FragIndex) gets its own
 * multicast status requests and its batches from its own devices' answers; a v2 device asked
 * about the v1 session says SessionDoesNotExist, which changes nothing. The v2 session stops
 * once its devices reported their block, the v1 one after two requests in a row nobody
 * answered. */
static void test_mixed_adaptive(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	long long v1_sent, v2_sent;
	int v1_index;
	unsigned v1_reqs, v2_reqs;

	(void)state;
	fresh_db();
	add_dev("00000000000000d1", 0x81, 1);
	add_dev("00000000000000d2", 0x82, 2);
	add_dev("00000000000000d3", 0x83, 1);
	add_dev("00000000000000d4", 0x84, 2);
	T.devs[2].m.cfg.lose_frags = 0x3Fu << 5;         /* v1: loses 6 of the 20 fragments */
	T.devs[3].m.cfg.lose_frags = 0x3Fu | (7u << 20); /* v2: N = 1..6 and 21..23 */
	e = new_engine_ex("itest-a", true, true);
	job = add_job(0, 4, 2);
	run(e, job, 6000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 4; i++)
		assert_image(&T.devs[i]);
	assert_true(T.devs[1].mic_ok);
	assert_true(T.devs[3].mic_ok);
	v1_index = assert_two_sessions(0, 4);
	v1_sent = session_frames(v1_index);
	v2_sent = session_frames(1 - v1_index);
	v1_reqs = check_rounds(v1_index, 1, 2);
	v2_reqs = check_rounds(1 - v1_index, 2, 2);
	print_message("mixed adaptive: v1 session %lld frames, %u requests; v2 session %lld "
	              "frames, %u requests\n",
	              v1_sent, v1_reqs, v2_sent, v2_reqs);
	assert_true(v1_reqs >= 3);
	assert_true(v2_reqs >= 1);
	/* Each device answered only about its own session (or said it has no such one). */
	for (size_t i = 0; i < T.n_answers; i++) {
		const struct status_answer *x = &T.answers[i];

		assert_int_equal(x->not_exist, x->frag_index != T.devs[x->dev].setup.frag_index);
		if (x->not_exist)
			assert_int_equal(T.devs[x->dev].ts004, 2);
	}
	assert_true(T.devs[1].mc_status_other > 0); /* v2 devices heard the v1 requests */
	assert_int_equal(T.devs[1].mc_status_other, T.devs[0].mc_status_reqs);
	assert_int_equal(T.devs[0].mc_status_other, T.devs[1].mc_status_reqs);
	assert_int_equal(answers_of(0), 0);
	assert_true(answers_of(2) >= 1 && answers_of(3) >= 1);
	assert_int_equal(db_count("SELECT frames_sent FROM engine_job"), v1_sent + v2_sent);
	assert_int_equal((long long)frames_of(FRAME_DATA), v1_sent + v2_sent);
	assert_int_equal((long long)frames_of(FRAME_STATUS), v1_reqs + v2_reqs);
	assert_fcnts_increase();
	/* Unicast status requests: only the final one (Participants = 1) of each v1 device; a v2
	 * device reported its block, which tells what that request would ask: none. */
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(T.devs[i].status_reqs, T.devs[i].ts004 < 2 ? 1 : 0);
	/* The v2 devices reported their block; the v1 ones said so at the final status. */
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE block_received"), 2);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'done'"), 4);
	{
		char *json = job_get(job);

		assert_null(strstr(json, "failed"));
		free(json);
	}
	engine_destroy(e);
}

/* A mixed job whose engine dies in the middle of the transmission: another one continues both
 * sessions from the database, without a frame of a session sent twice, an FCnt, a McKey or a
 * SessionCnt used again. */
static void test_mixed_restart(void **state)
{
	struct engine *a, *b;
	int64_t job;
	char st[32];
	size_t before;
	int v1_index;

	(void)state;
	fresh_db();
	add_dev("00000000000000e1", 0x91, 2);
	add_dev("00000000000000e2", 0x92, 1);
	add_dev("00000000000000e3", 0x93, 2);
	add_dev("00000000000000e4", 0x94, 1);
	T.devs[1].m.cfg.lose_frags = 1u << 2;  /* v1: N = 3, rebuilt from its parity rows */
	T.devs[2].m.cfg.lose_frags = 1u << 19; /* v2: N = 20 */
	job = add_job(0, 4, 3);
	a = new_engine("itest-a", true);
	run(a, job, 2000, 17);
	before = T.n_fcnts;
	assert_true(before >= 17 && before < 46);
	/* Both sessions are under way. */
	assert_true(db_count("SELECT min(frames_sent) FROM engine_session") > 0);
	lease_runs_out();
	b = new_engine("itest-b", true);
	run(b, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 4; i++) {
		assert_image(&T.devs[i]);
		assert_int_equal(T.devs[i].deletes, 2);
		assert_int_equal(T.devs[i].delete_index, T.devs[i].setup.frag_index);
	}
	assert_true(T.devs[0].mic_ok);
	assert_true(T.devs[2].mic_ok);
	/* The frames of both engines: one FCnt sequence, each session's N once. */
	assert_true(T.n_fcnts > before);
	assert_int_equal(T.n_fcnts, 46);
	assert_fcnts_increase();
	for (size_t i = 0; i < before; i++)
		assert_string_equal(T.frame_from[i], "itest-a");
	for (size_t i = before; i < T.n_fcnts; i++)
		assert_string_equal(T.frame_from[i], "itest-b");
	v1_index = assert_two_sessions(0, 4);
	assert_int_equal(session_frames(v1_index), 23);
	assert_int_equal(session_frames(1 - v1_index), 23);
	assert_int_equal(db_count("SELECT count(DISTINCT (frag_index, n)) FROM engine_tx"), 46);
	assert_int_equal(db_count("SELECT count(*) FROM engine_tx"), 46);
	/* One group, one McKey; each v2 device set up once (its SessionCnt never reused). */
	assert_int_equal(db_count("SELECT count(*) FROM multicast_group"), 1);
	assert_int_equal(T.devs[0].setup.session_cnt, 1);
	assert_int_equal(T.devs[2].setup.session_cnt, 1);
	assert_int_equal(db_count("SELECT max(session_cnt) FROM engine_device"), 1);
	assert_int_equal(db_count("SELECT count(*) FROM job WHERE lease_owner IS NOT NULL"), 0);
	engine_destroy(a);
	engine_destroy(b);
}

/* A job an engine without sessions per version set up: its v1 and v2 devices went out on
 * FragIndex 0 alike (migration 022 records that as both versions on 0). One FragIndex can serve
 * one code only: the larger group keeps it, the other fails with its reason. */
static void test_mixed_one_index(void **state)
{
	struct engine *e;
	int64_t job, next = 0;
	char st[32];
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("00000000000000f1", 0xa1, 1);
	add_dev("00000000000000f2", 0xa2, 2);
	add_dev("00000000000000f3", 0xa3, 1);
	e = new_engine("itest-a", false);
	job = add_job(0, 3, 3);
	/* The first tick starts the job; no FragSessionSetupReq is out yet. */
	assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
	assert_int_equal(db_count("WITH u AS (UPDATE engine_job SET frag_index_v1 = 0, "
	                          "frag_index_v2 = 0 RETURNING 1) SELECT count(*) FROM u"),
	                 1);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	assert_image(&T.devs[0]);
	assert_image(&T.devs[2]);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "done");
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "failed");
	assert_string_equal(dev_field(devs, T.devs[1].eui, "failure_reason"),
	                    "TS004 v2 device in a job whose session uses v1");
	json_decref(devs);
	assert_int_equal(T.devs[1].setup.frag_index, 0);
	assert_int_equal(T.devs[1].frames, 0); /* never in the multicast session */
	assert_false(T.devs[1].has_group);     /* its group was deleted after the session */
	assert_int_equal(db_count("SELECT count(*) FROM engine_session"), 1);
	assert_int_equal(T.n_fcnts, 23);
	engine_destroy(e);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_adaptive_v2),
	        cmocka_unit_test(test_adaptive_stream),
	        cmocka_unit_test(test_adaptive_rounds_restart),
	        cmocka_unit_test(test_adaptive_pause_in_wait),
	        cmocka_unit_test(test_adaptive_pause_block_received),
	        cmocka_unit_test(test_adaptive_cancel_in_wait),
	        cmocka_unit_test(test_adaptive_wait_answered),
	        cmocka_unit_test(test_adaptive_report_lost),
	        cmocka_unit_test(test_adaptive_v1),
	        cmocka_unit_test(test_adaptive_v1_request_lost),
	        cmocka_unit_test(test_adaptive_v1_answer_lost_in_restart),
	        cmocka_unit_test(test_mixed_versions),
	        cmocka_unit_test(test_mixed_adaptive),
	        cmocka_unit_test(test_mixed_restart),
	        cmocka_unit_test(test_mixed_one_index),
	};

	return itest_engine_main(argc, argv, "itest_engine_rounds", tests,
	                         sizeof(tests) / sizeof(tests[0]));
}
