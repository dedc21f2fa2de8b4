/* The job engine's session phase and the devices' clocks against a real PostgreSQL, with a fake
 * clock, a fake outbound sink and fuota-sim's device model (see itest_engine_jobs.c).
 *
 *   clock sync                     AppTimeReq of a device in no job is answered; a device whose
 *                                  clock is off is resynchronised before its session starts
 *   crash in the session phase     the engine dies right after fixing the session time and
 *                                  comes back after it: the start moves, every device updated
 *   unheard device                 its failure at the session start, when it cannot be stored,
 *                                  keeps the job in its session phase
 *   stale session answers          a StartMissed to the request before the start moved, and
 *                                  an answer the broker kept while fuotad was dead, move
 *                                  nothing: the device meets the moved start
 *   resync before the session      a device that sends its AppTimeReq 8 s after
 *                                  ForceDeviceResyncReq (LoRa Basics Modem) is asked again only
 *                                  after it, and meets the session
 *
 * The helpers are in itest_engine_lib.c.
 * usage: itest_engine_session FUOTAD SERVICES_ENV WORKDIR */
#include "itest_engine_lib.h"

static void test_clock_sync_and_resync(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("0000000000000031", 0x12, 1);
	add_dev("0000000000000032", 0x13, 1);
	add_dev("0000000000000033", 0x14, 1); /* in no job */
	e = new_engine("itest-a", false);
	/* AppTimeReq of a device 100 s late, in no job: answered with the correction. */
	dev_set_offset(&T.devs[2], -100000);
	dev_app_time_req(e, &T.devs[2]);
	pump(e);
	assert_int_equal(T.devs[2].time_answers, 1);
	assert_true(dev_offset_ms(&T.devs[2]) > -1000 && dev_offset_ms(&T.devs[2]) < 1000);
	/* A device 40 s ahead in a job: its TimeToStart disagrees, the engine forces a resync,
	 * and the session goes on with the corrected clock. */
	dev_set_offset(&T.devs[1], 40000);
	job = add_job(0, 2, 2);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_int_equal(T.devs[1].resyncs, 1);
	assert_int_equal(T.devs[0].resyncs, 0);
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	engine_destroy(e);
}

/* fuotad dies right after fixing the session time, its first McClassCSessionReq lost with it,
 * and comes back after the session start: the start moves (a later time, announced again to
 * every device, said in the event log) instead of failing every device as late. */
static void test_crash_in_session_phase(void **state)
{
	struct engine *a, *b;
	int64_t job, start_was;

	(void)state;
	fresh_db();
	for (int i = 0; i < 4; i++) {
		char eui[17];

		snprintf(eui, sizeof(eui), "00000000000000c%d", i);
		add_dev(eui, (uint8_t)(0x80 + i), 1);
	}
	job = add_job(0, 4, 4);
	a = new_engine("itest-a", true);
	run_to_phase(a, job, "session");
	start_was = db_count("SELECT session_start_ms FROM engine_job");
	/* Its next tick sends the session requests; it dies before any reaches a device. */
	T.now_ms += 100;
	assert_int_equal(engine_tick(a, T.now_ms, NULL), FUOTA_OK);
	assert_true(T.n_msgs > T.next_msg);
	T.next_msg = T.n_msgs;
	/* Back 10 s after the session start (the dead instance's lease long expired). */
	T.now_ms = start_was + 10000;
	lease_runs_out();
	b = new_engine("itest-b", true);
	run(b, job, 4000, 0);
	assert_all_done(job, 4);
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT session_moves FROM engine_job"), 1);
	assert_true(db_count("SELECT session_start_ms FROM engine_job") > start_was + 10000);
	assert_int_equal(db_count("SELECT count(*) FROM event WHERE kind = 'log' "
	                          "AND data ? 'session_moved'"),
	                 1);
	/* The devices' session time is the moved one. */
	{
		int64_t gps_s = 0;

		assert_int_equal(
		        lw_gps_from_unix(db_count("SELECT session_start_ms FROM engine_job") / 1000,
		                         &gps_s),
		        FUOTA_OK);
		for (size_t i = 0; i < 4; i++)
			assert_int_equal(T.devs[i].session_time, lw_gps_wrap32(gps_s));
	}
	engine_destroy(a);
	engine_destroy(b);
}

/* A fresh database with devices eui0 and eui1 (GenAppKeys from k0, k1), a job of both with
 * `redundancy` parity frames, and engine "itest-a" (duty cycle on) run to the job's session
 * phase: the engine; *job, and *start_ms the session start it fixed. */
static struct engine *to_session(const char *eui0, uint8_t k0, const char *eui1, uint8_t k1,
                                 int redundancy, int64_t *job, int64_t *start_ms)
{
	struct engine *e;

	fresh_db();
	add_dev(eui0, k0, 1);
	add_dev(eui1, k1, 1);
	*job = add_job(0, 2, redundancy);
	e = new_engine("itest-a", true);
	run_to_phase(e, *job, "session");
	*start_ms = db_count("SELECT session_start_ms FROM engine_job");
	return e;
}

/* At the session start a device no gateway has heard fails; when that failure cannot be stored
 * (here a trigger refuses it), the tick reports the database error and the job stays in its
 * session phase, to fail the device at a later tick, instead of transmitting to a device still
 * counted in the session. */
static void test_unheard_device_failure_not_stored(void **state)
{
	static const char *const refuse =
	        "CREATE FUNCTION itest_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
	        "RAISE EXCEPTION 'itest: refused'; END $$; "
	        "CREATE TRIGGER itest_refuse BEFORE UPDATE ON job_device FOR EACH ROW WHEN "
	        "(NEW.failure_reason = 'no gateway has heard the device') "
	        "EXECUTE FUNCTION itest_refuse()";
	struct engine *a, *b;
	int64_t job, start;
	json_t *devs;
	char q[160];

	(void)state;
	a = to_session("00000000000000d0", 0x90, "00000000000000d1", 0x91, 4, &job, &start);
	snprintf(q, sizeof(q),
	         "SELECT count(*) FROM job_device WHERE job_id = %lld AND step = "
	         "'session'",
	         (long long)job);
	while (db_count(q) < 2 && T.now_ms < start - 1000) {
		deliver_answers(a);
		pump(a);
		assert_int_equal(engine_tick(a, T.now_ms, NULL), FUOTA_OK);
		pump(a);
		T.now_ms += 100;
	}
	assert_int_equal(db_count(q), 2);
	/* a writes what it heard as it goes; then d1 is forgotten by every gateway. */
	engine_destroy(a);
	db_exec("DELETE FROM engine_device_gateway WHERE dev_eui = '00000000000000d1'");
	db_exec(refuse);
	T.now_ms = start;
	b = new_engine("itest-b", true);
	assert_int_equal(engine_tick(b, T.now_ms, NULL), FUOTA_ERR_IO);
	assert_int_equal(db_count("SELECT count(*) FROM engine_job WHERE phase = 'session'"), 1);
	assert_int_equal(db_count(q), 2);
	db_exec("DROP TRIGGER itest_refuse ON job_device; DROP FUNCTION itest_refuse()");
	run(b, job, 4000, 0);
	devs = job_devices(job);
	assert_string_equal(dev_field(devs, "00000000000000d0", "step"), "done");
	assert_string_equal(dev_field(devs, "00000000000000d1", "step"), "failed");
	assert_string_equal(dev_field(devs, "00000000000000d1", "failure_reason"),
	                    "no gateway has heard the device");
	json_decref(devs);
	assert_image(&T.devs[0]);
	engine_destroy(b);
}

/* Ticks e three times 100 ms apart, its messages delivered, once the session start has passed:
 * the start moves (once in the job) and the devices are asked again. */
static void start_moved(struct engine *e)
{
	for (int i = 0; i < 3; i++) {
		assert_int_equal(engine_tick(e, T.now_ms, NULL), FUOTA_OK);
		pump(e);
		T.now_ms += 100;
	}
	assert_int_equal(db_count("SELECT session_moves FROM engine_job"), 1);
}

/* Device 1 answered a request older than the moved start, and that answer moved nothing: it is
 * still asked for its session. Let it receive again: the job ends with both devices done, device
 * 1 never resynchronised (a StartMissed believed would have resynchronised or failed it). */
static void meets_moved_start(struct engine *e, int64_t job)
{
	char st[32];

	assert_string_equal(dev_step(job, T.devs[1].eui, st, sizeof(st)), "mc_session");
	T.devs[1].hold_down = false;
	T.devs[1].held_dl_len = 0;
	run(e, job, 4000, 0);
	assert_all_done(job, 2);
	assert_int_equal(T.devs[1].resyncs, 0);
}

/* Issue 15: the session start moved (fuotad was down when it came) while a device's copy of the
 * first McClassCSessionReq was still on its way; it reaches the device after the old start,
 * which answers StartMissed, and that answer reaches fuotad after the request with the moved
 * start went out. It answers the old request: the device (resynchronised once already in this
 * job, so that a StartMissed believed fails it) is not failed, and meets the moved start. */
static void test_late_start_missed_after_move(void **state)
{
	struct engine *a, *b;
	int64_t job, start_was;

	(void)state;
	a = to_session("00000000000000f2", 0xb2, "00000000000000f3", 0xb3, 2, &job, &start_was);
	T.devs[1].hold_down = true;
	T.now_ms += 100;
	assert_int_equal(engine_tick(a, T.now_ms, NULL), FUOTA_OK);
	pump(a);
	assert_true(T.devs[1].held_dl_len > 0);
	assert_int_equal(db_count("UPDATE job_device SET resync_sent = true "
	                          "WHERE dev_eui = '00000000000000f3' RETURNING 1"),
	                 1);
	/* fuotad dies; back 10 s after the start: the start moves, both devices asked again
	 * (device 1's copy kept too: lost). */
	T.now_ms = start_was + 10000;
	lease_runs_out();
	b = new_engine("itest-b", true);
	start_moved(b);
	/* The old request reaches device 1 now: StartMissed. */
	T.now_ms += 2000;
	T.devs[1].hold_down = false;
	dev_downlink(b, &T.devs[1], MC_FPORT, T.devs[1].held_dl, T.devs[1].held_dl_len);
	meets_moved_start(b, job);
	engine_destroy(a);
	engine_destroy(b);
}

/* Issue 15: a device's McClassCSessionAns reached the network server while fuotad was dead; the
 * restarted fuotad moved the session start and asked again, and reads the old answer only now
 * (kept by the broker). Its TimeToStart fits the old start, and read against the new one at
 * the wrong moment it fits that too: it must not count as the answer (the device would wait
 * for the old start and miss the session). */
static void test_replayed_session_ans(void **state)
{
	struct engine *a, *b;
	int64_t job, start_was, start_now, t_ans, gps_s = 0;
	char st[32];

	(void)state;
	a = to_session("00000000000000f4", 0xb4, "00000000000000f5", 0xb5, 2, &job, &start_was);
	T.now_ms += 100;
	assert_int_equal(engine_tick(a, T.now_ms, NULL), FUOTA_OK);
	/* Device 1 answers at once; fuotad dies before it reads the answer. */
	T.hold_uplinks = true;
	pump(a);
	T.hold_uplinks = false;
	t_ans = T.now_ms;
	assert_int_equal(T.n_held, 2);
	T.held[0] = strcmp(T.held[0].dev_eui, T.devs[1].eui) == 0 ? T.held[0] : T.held[1];
	T.n_held = 1;
	/* Back after the start: moved, asked again (device 1 does not get it yet). */
	T.now_ms = start_was + 10000;
	lease_runs_out();
	b = new_engine("itest-b", true);
	T.devs[1].hold_down = true;
	start_moved(b);
	start_now = db_count("SELECT session_start_ms FROM engine_job");
	/* Read when the new start is as far ahead as the old one was when the device answered. */
	if (start_now - (start_was - t_ans) > T.now_ms)
		T.now_ms = start_now - (start_was - t_ans);
	feed_held(b, APP_ID);
	assert_string_equal(dev_step(job, T.devs[1].eui, st, sizeof(st)), "mc_session");
	T.devs[1].hold_down = false;
	T.devs[1].held_dl_len = 0;
	run(b, job, 4000, 0);
	assert_all_done(job, 2);
	assert_int_equal(lw_gps_from_unix(start_now / 1000, &gps_s), FUOTA_OK);
	assert_int_equal(T.devs[1].session_time, lw_gps_wrap32(gps_s));
	engine_destroy(a);
	engine_destroy(b);
}

/* Two devices (eui1 resynchronised once already) in a job's session phase on engine *e, the
 * McClassCSessionReq to the second one sent and held on its way; *start_was: the session start
 * as first planned. */
static void session_req_held(const char *eui0, uint8_t k0, const char *eui1, uint8_t k1,
                             struct engine **e, int64_t *job, int64_t *start_was)
{
	char sql[160];

	*e = to_session(eui0, k0, eui1, k1, 2, job, start_was);
	snprintf(sql, sizeof(sql),
	         "UPDATE job_device SET resync_sent = true WHERE dev_eui = '%s' RETURNING 1", eui1);
	assert_int_equal(db_count(sql), 1);
	T.devs[1].hold_down = true;
	T.now_ms += 100;
	assert_int_equal(engine_tick(*e, T.now_ms, NULL), FUOTA_OK);
	pump(*e);
	assert_true(T.devs[1].held_dl_len > 0);
}

/* Issue 16 after the merge with issue 15: a device resynchronised once already gets the
 * McClassCSessionReq 2 s before the session start, and its answer (TimeToStart 2 s, right)
 * leaves in the uplink after the start passed and moved, the request with the moved start
 * already out. Read against the moved start it disagrees, but it answers the old request: the
 * device is not failed, and meets the moved start. */
static void test_session_ans_in_flight_at_move(void **state)
{
	struct engine *e;
	int64_t job, start_was;

	(void)state;
	session_req_held("00000000000000f6", 0xb6, "00000000000000f7", 0xb7, &e, &job, &start_was);
	/* The request reaches device 1 2 s before the start; its answer waits for an uplink. */
	T.now_ms = start_was - 2000;
	T.hold_uplinks = true;
	dev_downlink(e, &T.devs[1], MC_FPORT, T.devs[1].held_dl, T.devs[1].held_dl_len);
	T.hold_uplinks = false;
	assert_int_equal(T.n_held, 1);
	T.devs[1].held_dl_len = 0;
	/* The start passes: moved, device 1 asked again (that copy still on its way). */
	T.now_ms = start_was + 100;
	start_moved(e);
	/* The uplink with the old answer leaves now. */
	T.held[0].time.sec = T.now_ms / 1000;
	T.held[0].time.nsec = (int32_t)(T.now_ms % 1000) * 1000000;
	feed_held(e, APP_ID);
	meets_moved_start(e, job);
	engine_destroy(e);
}

/* The same with the old copy still queued when the start moved: the device's next uplink
 * delivers that copy, not the request with the moved start, and the StartMissed it answers
 * one uplink later is the old request's. Counted as the new request's delivery, it failed a
 * device resynchronised once already. */
static void test_start_missed_behind_old_copy(void **state)
{
	static const uint8_t status[1] = {0x01};
	struct engine *e;
	int64_t job, start_was;

	(void)state;
	session_req_held("00000000000000f8", 0xb8, "00000000000000f9", 0xb9, &e, &job, &start_was);
	/* The start passes before device 1 sends an uplink: moved, asked again. */
	T.now_ms = start_was + 100;
	start_moved(e);
	/* Its next uplink delivers the old copy (StartMissed), answered in the uplink after. */
	uplink(e, &T.devs[1], 2, status, sizeof(status));
	T.now_ms += 1000;
	dev_downlink(e, &T.devs[1], MC_FPORT, T.devs[1].held_dl, T.devs[1].held_dl_len);
	meets_moved_start(e, job);
	engine_destroy(e);
}

/* A device whose clock ran 60 s ahead answers StartMissed; it is forced to resync and, as LoRa
 * Basics Modem does, sends its AppTimeReq 8 s later (more than the unicast timeout): the session
 * request is asked again only after that exchange, with a start it can meet. */
static void test_resync_waits_for_app_time(void **state)
{
	struct engine *e;
	int64_t job;

	(void)state;
	fresh_db();
	add_dev("00000000000000d1", 0x91, 1);
	add_dev("00000000000000d2", 0x92, 1);
	dev_set_offset(&T.devs[1], 60000);
	T.devs[1].m.cfg.resync_delay_ms = 8000;
	job = add_job(0, 2, 2);
	e = new_engine("itest-a", false);
	run(e, job, 4000, 0);
	assert_all_done(job, 2);
	assert_int_equal(T.devs[1].resyncs, 1);
	assert_int_equal(T.devs[1].time_answers, 1);
	assert_int_equal(T.devs[0].resyncs, 0);
	engine_destroy(e);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_clock_sync_and_resync),
	        cmocka_unit_test(test_crash_in_session_phase),
	        cmocka_unit_test(test_unheard_device_failure_not_stored),
	        cmocka_unit_test(test_resync_waits_for_app_time),
	        cmocka_unit_test(test_late_start_missed_after_move),
	        cmocka_unit_test(test_replayed_session_ans),
	        cmocka_unit_test(test_session_ans_in_flight_at_move),
	        cmocka_unit_test(test_start_missed_behind_old_copy),
	};

	return itest_engine_main(argc, argv, "itest_engine_session", tests,
	                         sizeof(tests) / sizeof(tests[0]));
}
