/* The job engine against a real PostgreSQL, with a fake clock, a fake outbound sink and
 * simulated devices that answer with the protocol libraries (clocksync/, multicast/,
 * fragmentation/ frag_cmd + frag_dec, lorawan/ lw_frame): every message fuotad publishes is
 * decoded as a device or a gateway would, every answer is a hand-made uplink.
 *
 *   class C v1 job, no loss        every device rebuilds the exact image; FCnts strictly increase
 *   loss + parity + a refusal      a device that loses frames rebuilds them from parity rows; a
 *                                  frame a gateway refuses goes out again with a new FCnt
 *   a silent device                fails with its reason, the others complete
 *   restart mid-transmission       a second engine (the first one's lease expires) finishes the
 *                                  job; no FCnt is reused
 *   clock sync                     AppTimeReq of a device in no job is answered; a device whose
 *                                  clock is off is resynchronised before its session starts
 *   cancel                         a cancelled job stops and deletes the groups it set up; each
 *                                  device it failed has its device event (log and MQTT)
 *   tenants                        the gateways that heard a device are stored under the
 *                                  tenant holding its DevEUI; a DevEUI changing hands starts
 *                                  with none of its former holder's
 *   another application           an uplink of the same DevEUI under another application
 *                                  answers nothing of the job's device
 *   stale session answers          a StartMissed to the request before the start moved, and
 *                                  an answer the broker kept while fuotad was dead, move
 *                                  nothing: the device meets the moved start
 *   crash in the session phase     the engine dies right after fixing the session time and
 *                                  comes back after it: the start moves, every device updated
 *   resync before the session      a device that sends its AppTimeReq 8 s after
 *                                  ForceDeviceResyncReq (LoRa Basics Modem) is asked again only
 *                                  after it, and meets the session
 *   a frame without ack            sent again (new FCnt) after the ack timeout
 *
 * The helpers are in itest_engine_lib.c.
 * usage: itest_engine_jobs FUOTAD SERVICES_ENV WORKDIR */
#include "itest_engine_lib.h"

/* Issue 15: what the engine learns from uplinks is the DevEUI's holder's. The gateways that heard
 * a device are stored under the tenant that holds its DevEUI (0 for a DevEUI no tenant holds);
 * another tenant cannot register a held DevEUI; a DevEUI that changes hands starts with nothing
 * of what the former holder's uplinks taught. */
static void test_tenant_keyed_gateways(void **state)
{
	struct engine *e;
	struct tdev *held, *loose;
	char *json = NULL, gws[256];
	int64_t t2;

	(void)state;
	fresh_db();
	assert_int_equal(store_tenant_create(T.store, "second", &json), FUOTA_OK);
	t2 = json_id(json);
	free(json);
	add_dev("00000000000000a1", 0x10, 1); /* tenant 1's */
	held = &T.devs[0];
	loose = &T.devs[T.n_devs++]; /* heard, registered nowhere */
	dev_setup(loose, "00000000000000a2", 0x20, 1);
	loose->in_range_b = true;
	e = new_engine("itest-tenant", false);
	dev_app_time_req(e, held);  /* through GW_A */
	dev_app_time_req(e, loose); /* through GW_B */
	idle(e, 3);
	assert_int_equal(db_count("SELECT count(*) FROM engine_device_gateway WHERE tenant_id = 1 "
	                          "AND dev_eui = '00000000000000a1' AND gateway_id = '" GW_A "'"),
	                 1);
	assert_int_equal(db_count("SELECT count(*) FROM engine_device_gateway WHERE tenant_id = 0 "
	                          "AND dev_eui = '00000000000000a2' AND gateway_id = '" GW_B "'"),
	                 1);
	assert_string_equal(tenant_gateways(1, gws, sizeof(gws)), GW_A);
	/* Tenant 2 cannot take tenant 1's DevEUI. */
	assert_int_equal(register_eui("00000000000000a1", t2), FUOTA_ERR_CONFLICT);
	assert_string_equal(tenant_gateways(t2, gws, sizeof(gws)), "");
	/* The DevEUI changes hands: tenant 2 sees none of tenant 1's gateway, then the one its
	 * own uplinks are heard through. */
	assert_int_equal(store_device_delete(T.store, 1, "00000000000000a1"), FUOTA_OK);
	assert_int_equal(register_eui("00000000000000a1", t2), FUOTA_OK);
	assert_string_equal(tenant_gateways(t2, gws, sizeof(gws)), "");
	T.now_ms += 120 * 1000;
	held->in_range_b = true;
	dev_app_time_req(e, held);
	idle(e, 3);
	assert_string_equal(tenant_gateways(t2, gws, sizeof(gws)), GW_B);
	assert_string_equal(tenant_gateways(1, gws, sizeof(gws)), "");
	assert_int_equal(db_count("SELECT count(*) FROM engine_device_gateway "
	                          "WHERE dev_eui = '00000000000000a1' AND tenant_id <> 1"),
	                 1);
	engine_destroy(e);
}

static void test_class_c_v1_no_loss(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("0000000000000001", 0x10, 1);
	add_dev("0000000000000002", 0x20, 1);
	add_dev("0000000000000003", 0x30, 1);
	job = add_job(0, 3, 4);
	e = new_engine("itest-a", true);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	for (size_t i = 0; i < 3; i++) {
		assert_image(&T.devs[i]);
		assert_string_equal(dev_field(devs, T.devs[i].eui, "step"), "done");
		assert_null(dev_field(devs, T.devs[i].eui, "failure_reason"));
		/* FragSessionDelete and McGroupDelete, after the last fragment. */
		assert_int_equal(T.devs[i].deletes, 2);
		assert_false(T.devs[i].has_group);
	}
	json_decref(devs);
	/* 20 uncoded fragments + 4 parity rows through the one gateway, no frame refused. */
	assert_int_equal(T.n_fcnts, 24);
	assert_int_equal(T.fcnts[0], 0);
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT fcnt FROM multicast_group"), 24);
	assert_plan_sessions(job, 0, 0);  /* one session: the plan stays as it was made */
	assert_true(T.events_state >= 2); /* running, succeeded */
	assert_true(T.events_device >= 3 * 6);
	assert_true(T.events_progress >= 1);
	/* The versions learnt from PackageVersionAns are the device's. */
	assert_int_equal(db_count("SELECT count(*) FROM device WHERE ts004_version = 1 AND "
	                          "ts005_version = 1 AND ts003_version = 1"),
	                 3);
	engine_destroy(e);
}

static void test_loss_parity_refusal_and_silent_device(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;
	const char *why;

	(void)state;
	fresh_db();
	add_dev("0000000000000011", 0x40, 1);
	add_dev("0000000000000012", 0x50, 1);
	add_dev("0000000000000013", 0x60, 1);
	add_dev("0000000000000014", 0x70, 1);
	T.devs[1].m.cfg.lose_frags = (1u << 2) | (1u << 9) | (1u << 16); /* loses N = 3, 10, 17 */
	T.devs[2].mute = true;
	T.devs[3].in_range_b = true; /* only gateway B hears it */
	T.refuse_every = 7;
	job = add_job(0, 4, 8);
	e = new_engine("itest-a", true);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	devs = job_devices(job);
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]); /* rebuilt three lost fragments from parity */
	assert_image(&T.devs[3]);
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	assert_string_equal(dev_field(devs, T.devs[3].eui, "step"), "done");
	assert_string_equal(dev_field(devs, T.devs[2].eui, "step"), "failed");
	why = dev_field(devs, T.devs[2].eui, "failure_reason");
	assert_non_null(why);
	assert_non_null(strstr(why, "no answer after 3 attempts"));
	json_decref(devs);
	/* Two gateways were needed; each refused frame went out again. */
	assert_true(T.refused > 0);
	assert_int_equal(
	        db_count("SELECT count(*) FROM engine_tx WHERE ack <> 'OK' AND resend <> 2"), 0);
	assert_int_equal(db_count("SELECT count(DISTINCT gateway_id) FROM engine_tx"), 2);
	assert_int_equal(db_count("SELECT count(*) FROM (SELECT fcnt FROM engine_tx GROUP BY fcnt, "
	                          "gateway_id HAVING count(*) > 1) x"),
	                 0);
	{
		char *json = job_get(job);

		assert_non_null(strstr(json, "1 of 4 devices failed"));
		free(json);
	}
	engine_destroy(e);
}

/* Retry the failed (issue 14): the device that was silent in a finished job gets the image from
 * the retry job, which the engine runs like any other job, with its MQTT state events. */
static void test_retry_failed(void **state)
{
	enum job_retry_verdict v;
	struct engine *e;
	int64_t job, retry = 0;
	char st[32], why[160];
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("0000000000000021", 0x40, 1);
	add_dev("0000000000000022", 0x50, 1);
	add_dev("0000000000000023", 0x60, 1);
	T.devs[1].mute = true;
	job = add_job(0, 3, 4);
	e = new_engine("itest-a", true);
	/* Running: not yet. */
	assert_int_equal(store_job_retry(T.store, 1, job, &retry, &v, why, sizeof(why)),
	                 FUOTA_ERR_STATE);
	assert_int_equal(v, JOB_RETRY_NOT_FINISHED);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	/* Another tenant's job is not found. */
	assert_int_equal(store_job_retry(T.store, 2, job, &retry, &v, why, sizeof(why)),
	                 FUOTA_ERR_NOT_FOUND);
	T.devs[1].mute = false; /* back in range */
	assert_int_equal(store_job_retry(T.store, 1, job, &retry, &v, why, sizeof(why)), FUOTA_OK);
	assert_true(retry > job);
	T.watch_job = retry;
	run(e, retry, 4000, 0);
	assert_string_equal(job_state(retry, st, sizeof(st)), "succeeded");
	devs = job_devices(retry);
	assert_int_equal(json_array_size(devs), 1);
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	json_decref(devs);
	assert_image(&T.devs[1]);
	/* The usual MQTT state events: pending -> running, then running -> succeeded. */
	assert_true(T.watch_states >= 2);
	assert_string_equal(T.watch_last_to, "succeeded");
	/* Every device of the first job now has the image through one job or the other. */
	assert_int_equal(store_job_retry(T.store, 1, retry, &job, &v, why, sizeof(why)),
	                 FUOTA_ERR_STATE);
	assert_int_equal(v, JOB_RETRY_NOTHING);
	engine_destroy(e);
}

static void test_restart_mid_transmission(void **state)
{
	struct engine *a, *b;
	int64_t job;
	char st[32];
	size_t before;

	(void)state;
	fresh_db();
	add_dev("0000000000000021", 0x11, 1);
	add_dev("0000000000000022", 0x22, 1);
	job = add_job(0, 2, 4);
	T.gps_timing = true; /* class C frames timed at a GPS instant, this time */
	a = new_engine("itest-a", true);
	run(a, job, 2000, 9);
	before = T.n_fcnts;
	assert_true(before >= 9);
	/* Engine a "dies" holding its lease: b takes the job over once the lease has expired,
	 * and the FCnt goes on from the database. */
	lease_runs_out();
	b = new_engine("itest-b", true);
	run(b, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	assert_true(T.n_fcnts > before);
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT count(*) FROM job WHERE lease_owner IS NOT NULL"), 0);
	engine_destroy(a);
	engine_destroy(b);
}

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
	fresh_db();
	add_dev("00000000000000d0", 0x90, 1);
	add_dev("00000000000000d1", 0x91, 1);
	job = add_job(0, 2, 4);
	a = new_engine("itest-a", true);
	run_to_phase(a, job, "session");
	start = db_count("SELECT session_start_ms FROM engine_job");
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

/* Issue 15: the same DevEUI in another application (another network server's device, or a
 * forged uplink) answers nothing of a job's device: its PackageVersionAns, McGroupSetupAns and
 * AppTimeReq move nothing; the device's own answers then do. */
static void test_uplink_other_application(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("00000000000000f1", 0xb1, 1);
	job = add_job(0, 1, 2);
	e = new_engine("itest-a", false);
	T.hold_uplinks = true;
	for (int i = 0; i < 3 && T.n_held < 3; i++) {
		assert_int_equal(engine_tick(e, T.now_ms, NULL), FUOTA_OK);
		pump(e);
		T.now_ms += 100;
	}
	/* PackageVersionAns on the three ports. */
	assert_int_equal(T.n_held, 3);
	{
		struct cs_uplink keep[3];

		memcpy(keep, T.held, sizeof(keep));
		feed_held(e, "app-2");
		assert_string_equal(dev_step(job, T.devs[0].eui, st, sizeof(st)), "pkg_version");
		assert_int_equal(db_count("SELECT count(*) FROM device WHERE ts004_version > 0 "
		                          "OR ts005_version > 0 OR ts003_version > 0"),
		                 0);
		memcpy(T.held, keep, sizeof(keep));
		T.n_held = 3;
	}
	feed_held(e, APP_ID);
	assert_string_equal(dev_step(job, T.devs[0].eui, st, sizeof(st)), "mc_setup");
	pump(e); /* McGroupSetupReq, sent at once; its answer kept */
	assert_int_equal(T.n_held, 1);
	T.held[1] = T.held[0];
	feed_held(e, "app-2");
	assert_string_equal(dev_step(job, T.devs[0].eui, st, sizeof(st)), "mc_setup");
	T.held[0] = T.held[1];
	T.n_held = 1;
	feed_held(e, APP_ID);
	assert_string_equal(dev_step(job, T.devs[0].eui, st, sizeof(st)), "frag_setup");
	T.hold_uplinks = false;
	run(e, job, 4000, 0);
	assert_all_done(job, 1);
	engine_destroy(e);
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
	char st[32];

	(void)state;
	fresh_db();
	add_dev("00000000000000f2", 0xb2, 1);
	add_dev("00000000000000f3", 0xb3, 1);
	job = add_job(0, 2, 2);
	a = new_engine("itest-a", true);
	run_to_phase(a, job, "session");
	start_was = db_count("SELECT session_start_ms FROM engine_job");
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
	for (int i = 0; i < 3; i++) {
		assert_int_equal(engine_tick(b, T.now_ms, NULL), FUOTA_OK);
		pump(b);
		T.now_ms += 100;
	}
	assert_int_equal(db_count("SELECT session_moves FROM engine_job"), 1);
	/* The old request reaches device 1 now: StartMissed. */
	T.now_ms += 2000;
	T.devs[1].hold_down = false;
	dev_downlink(b, &T.devs[1], MC_FPORT, T.devs[1].held_dl, T.devs[1].held_dl_len);
	assert_string_equal(dev_step(job, T.devs[1].eui, st, sizeof(st)), "mc_session");
	run(b, job, 4000, 0);
	assert_all_done(job, 2);
	assert_int_equal(T.devs[1].resyncs, 0);
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
	fresh_db();
	add_dev("00000000000000f4", 0xb4, 1);
	add_dev("00000000000000f5", 0xb5, 1);
	job = add_job(0, 2, 2);
	a = new_engine("itest-a", true);
	run_to_phase(a, job, "session");
	start_was = db_count("SELECT session_start_ms FROM engine_job");
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
	for (int i = 0; i < 3; i++) {
		assert_int_equal(engine_tick(b, T.now_ms, NULL), FUOTA_OK);
		pump(b);
		T.now_ms += 100;
	}
	assert_int_equal(db_count("SELECT session_moves FROM engine_job"), 1);
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

	fresh_db();
	add_dev(eui0, k0, 1);
	add_dev(eui1, k1, 1);
	*job = add_job(0, 2, 2);
	*e = new_engine("itest-a", true);
	run_to_phase(*e, *job, "session");
	*start_was = db_count("SELECT session_start_ms FROM engine_job");
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
	char st[32];

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
	for (int i = 0; i < 3; i++) {
		assert_int_equal(engine_tick(e, T.now_ms, NULL), FUOTA_OK);
		pump(e);
		T.now_ms += 100;
	}
	assert_int_equal(db_count("SELECT session_moves FROM engine_job"), 1);
	/* The uplink with the old answer leaves now. */
	T.held[0].time.sec = T.now_ms / 1000;
	T.held[0].time.nsec = (int32_t)(T.now_ms % 1000) * 1000000;
	feed_held(e, APP_ID);
	assert_string_equal(dev_step(job, T.devs[1].eui, st, sizeof(st)), "mc_session");
	T.devs[1].hold_down = false;
	T.devs[1].held_dl_len = 0;
	run(e, job, 4000, 0);
	assert_all_done(job, 2);
	assert_int_equal(T.devs[1].resyncs, 0);
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
	char st[32];

	(void)state;
	session_req_held("00000000000000f8", 0xb8, "00000000000000f9", 0xb9, &e, &job, &start_was);
	/* The start passes before device 1 sends an uplink: moved, asked again. */
	T.now_ms = start_was + 100;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(engine_tick(e, T.now_ms, NULL), FUOTA_OK);
		pump(e);
		T.now_ms += 100;
	}
	assert_int_equal(db_count("SELECT session_moves FROM engine_job"), 1);
	/* Its next uplink delivers the old copy (StartMissed), answered in the uplink after. */
	uplink(e, &T.devs[1], 2, status, sizeof(status));
	T.now_ms += 1000;
	dev_downlink(e, &T.devs[1], MC_FPORT, T.devs[1].held_dl, T.devs[1].held_dl_len);
	assert_string_equal(dev_step(job, T.devs[1].eui, st, sizeof(st)), "mc_session");
	T.devs[1].hold_down = false;
	T.devs[1].held_dl_len = 0;
	run(e, job, 4000, 0);
	assert_all_done(job, 2);
	assert_int_equal(T.devs[1].resyncs, 0);
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

/* A frame that never reached the gateway (fuotad killed between storing it and publishing it,
 * or the broker restarted before the gateway subscribed again): no ack comes, and it goes out
 * again with a new FCnt after the ack timeout instead of counting as sent. Fixed redundancy 0:
 * without it both devices would miss that fragment. */
static void test_unacked_frame_sent_again(void **state)
{
	struct engine *e;
	int64_t job;

	(void)state;
	fresh_db();
	add_dev("00000000000000f1", 0xb1, 1);
	add_dev("00000000000000f2", 0xb2, 1);
	T.vanish_at = 5;
	job = add_job(0, 2, 0);
	e = new_engine("itest-a", false);
	run(e, job, 4000, 0);
	assert_all_done(job, 2);
	assert_int_equal(T.n_fcnts, 21); /* 20 fragments, one of them twice */
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT count(*) FROM engine_tx WHERE ack = 'NO_ACK'"), 1);
	engine_destroy(e);
}

static void test_cancel(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	json_t *devs;

	(void)state;
	fresh_db();
	add_dev("0000000000000051", 0x17, 1);
	add_dev("0000000000000052", 0x18, 1);
	e = new_engine("itest-a", true);
	job = add_job(0, 2, 2);
	run(e, job, 2000, 3);
	job_action(job, "cancel");
	T.n_fcnts = 0;
	T.events_device = 0;
	run(e, job, 50, 0);
	/* Once the engine saw the cancel, nothing more goes on the air. */
	for (int i = 0; i < 20; i++) {
		int64_t next = 0;

		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		pump(e);
		T.now_ms += 5000;
	}
	assert_int_equal(T.n_fcnts, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "cancelled");
	devs = job_devices(job);
	assert_string_equal(dev_field(devs, T.devs[0].eui, "step"), "failed");
	assert_string_equal(dev_field(devs, T.devs[0].eui, "failure_reason"), "job cancelled");
	json_decref(devs);
	/* Each device the end failed has its device event, logged and published, so a live page
	 * and the integrations end on the true step counts. */
	assert_int_equal(db_count("SELECT count(DISTINCT dev_eui) FROM event WHERE kind = 'device' "
	                          "AND data->>'step' = 'failed' "
	                          "AND data->>'reason' = 'job cancelled'"),
	                 2);
	assert_int_equal(T.events_device, 2);
	assert_false(T.devs[0].has_group);
	assert_false(T.devs[1].has_group);
	engine_destroy(e);
}

static void test_pause_resume(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];
	size_t before;

	(void)state;
	fresh_db();
	add_dev("0000000000000071", 0x31, 1);
	add_dev("0000000000000072", 0x32, 1);
	e = new_engine("itest-a", true);
	job = add_job(0, 2, 2);
	run(e, job, 2000, 5);
	job_action(job, "pause");
	/* Paused: a minute passes and nothing goes out. */
	before = T.n_msgs;
	idle(e, 60);
	assert_int_equal(T.n_msgs, before);
	assert_string_equal(job_state(job, st, sizeof(st)), "paused");
	job_action(job, "resume");
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	assert_fcnts_increase();
	engine_destroy(e);
}

/* Two engines on one database share two jobs through the lease: each job is driven by one of
 * them only, while uplinks reach either (a shared subscription splits them). */
static void test_two_engines(void **state)
{
	struct engine *a, *b;
	int64_t job1, job2;
	char st[32];
	uint32_t addr_a = 0, addr_b = 0;

	(void)state;
	fresh_db();
	add_dev("00000000000000b1", 0x61, 1);
	add_dev("00000000000000b2", 0x62, 1);
	add_dev("00000000000000b3", 0x63, 2);
	add_dev("00000000000000b4", 0x64, 2);
	job1 = add_job(0, 2, 2);
	job2 = add_job(2, 2, 2);
	a = new_engine_tag("itest-a", true, false, 1);
	b = new_engine_tag("itest-b", true, false, 1);
	for (unsigned i = 0; i < 3000 && !(job_finished(job1) && job_finished(job2)); i++) {
		int64_t na = 0, nb = 0;

		assert_int_equal(engine_tick(a, T.now_ms, &na), FUOTA_OK);
		pump(i % 2 ? a : b);
		assert_int_equal(engine_tick(b, T.now_ms, &nb), FUOTA_OK);
		pump(i % 2 ? b : a);
		T.now_ms += 100;
	}
	assert_string_equal(job_state(job1, st, sizeof(st)), "succeeded");
	assert_string_equal(job_state(job2, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < T.n_devs; i++)
		assert_image(&T.devs[i]);
	/* Each group's frames came from one engine, and the two engines each had a job. */
	for (size_t i = 0; i < T.n_fcnts; i++) {
		if (strcmp(T.frame_from[i], "itest-a") == 0) {
			assert_true(addr_a == 0 || addr_a == T.frame_addr[i]);
			addr_a = T.frame_addr[i];
		} else {
			assert_string_equal(T.frame_from[i], "itest-b");
			assert_true(addr_b == 0 || addr_b == T.frame_addr[i]);
			addr_b = T.frame_addr[i];
		}
	}
	assert_true(addr_a != 0 && addr_b != 0 && addr_a != addr_b);
	/* Both jobs go through the one gateway: its duty cycle (10 % at 869.525 MHz, 118 ms on
	 * air) spaces every frame of either engine by 1.18 s, through the shared gateway table. */
	for (size_t i = 1; i < T.n_fcnts; i++)
		assert_true(T.frame_ms[i] - T.frame_ms[i - 1] >= 1180);
	engine_destroy(a);
	engine_destroy(b);
}

static void test_class_b(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("0000000000000091", 0x51, 1);
	add_dev("0000000000000092", 0x52, 1);
	T.class_b = true;
	e = new_engine("itest-a", true);
	job = add_job_ex(0, 2, 3, 'B', 2);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	assert_int_equal(T.class_b_frames, 23);
	assert_fcnts_increase();
	engine_destroy(e);
}

/* A bigger job: FUOTA_ITEST_SCALE devices (default 100), all answering, one of them losing
 * frames; reports how long the engine needed in wall-clock time. */
static void test_scale(void **state)
{
	const char *env = getenv("FUOTA_ITEST_SCALE");
	size_t n = env ? strtoul(env, NULL, 10) : 100;
	struct engine *e;
	int64_t job, t0, t1, fake0;
	char st[32], eui[17];
	unsigned ticks = 0;

	(void)state;
	if (n < 2 || n > MAX_DEVS)
		n = 100;
	fresh_db();
	for (size_t i = 0; i < n; i++) {
		snprintf(eui, sizeof(eui), "%016zx", 0x1000 + i);
		add_dev(eui, (uint8_t)i, 1);
	}
	T.devs[1].m.cfg.lose_frags = 1u << 3;
	job = add_job(0, n, 4);
	e = new_engine("itest-a", false);
	t0 = realtime_ms();
	fake0 = T.now_ms;
	for (; ticks < 20000 && !job_finished(job); ticks++) {
		int64_t next = 0;

		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		pump(e);
		T.now_ms = next > T.now_ms ? next : T.now_ms + 100;
	}
	t1 = realtime_ms();
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < n; i++)
		assert_image(&T.devs[i]);
	print_message("scale: %zu devices, %zu unicast+multicast messages, %u ticks, %lld ms wall, "
	              "%lld s simulated\n",
	              n, T.n_msgs, ticks, (long long)(t1 - t0),
	              (long long)((T.now_ms - fake0) / 1000));
	engine_destroy(e);
}

/* A big job cancelled while its devices wait for their first answers: the end fails every
 * device, each with its device event (engine_job_end). FUOTA_ITEST_SCALE devices (default 100);
 * reports how long the tick that ended the job held the engine thread. */
static void test_cancel_scale(void **state)
{
	const char *env = getenv("FUOTA_ITEST_SCALE");
	size_t n = env ? strtoul(env, NULL, 10) : 100;
	struct engine *e;
	int64_t job, longest = 0;
	char st[32], eui[17];

	(void)state;
	if (n < 2 || n > MAX_DEVS)
		n = 100;
	fresh_db();
	for (size_t i = 0; i < n; i++) {
		snprintf(eui, sizeof(eui), "%016zx", 0x2000 + i);
		add_dev(eui, (uint8_t)i, 1);
		T.devs[i].mute = true; /* nobody answers: every device is still open at the end */
	}
	job = add_job(0, n, 2);
	e = new_engine("itest-a", false);
	for (int i = 0; i < 3; i++) { /* started, the first requests out */
		int64_t next = 0;

		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		pump(e);
		T.now_ms += 1000;
	}
	job_action(job, "cancel");
	T.events_device = 0;
	for (unsigned ticks = 0; ticks < 5; ticks++) {
		int64_t next = 0, t0 = realtime_ms(), t;

		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		t = realtime_ms() - t0;
		longest = t > longest ? t : longest;
		pump(e);
		T.now_ms += 1000;
	}
	assert_string_equal(job_state(job, st, sizeof(st)), "cancelled");
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'failed' "
	                          "AND failure_reason = 'job cancelled'"),
	                 (long long)n);
	assert_int_equal(T.events_device, n);
	print_message("cancel scale: %zu devices failed at the end, the longest tick %lld ms\n", n,
	              (long long)longest);
	engine_destroy(e);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_tenant_keyed_gateways),
	        cmocka_unit_test(test_class_c_v1_no_loss),
	        cmocka_unit_test(test_loss_parity_refusal_and_silent_device),
	        cmocka_unit_test(test_retry_failed),
	        cmocka_unit_test(test_restart_mid_transmission),
	        cmocka_unit_test(test_clock_sync_and_resync),
	        cmocka_unit_test(test_crash_in_session_phase),
	        cmocka_unit_test(test_unheard_device_failure_not_stored),
	        cmocka_unit_test(test_resync_waits_for_app_time),
	        cmocka_unit_test(test_uplink_other_application),
	        cmocka_unit_test(test_late_start_missed_after_move),
	        cmocka_unit_test(test_replayed_session_ans),
	        cmocka_unit_test(test_session_ans_in_flight_at_move),
	        cmocka_unit_test(test_start_missed_behind_old_copy),
	        cmocka_unit_test(test_unacked_frame_sent_again),
	        cmocka_unit_test(test_cancel),
	        cmocka_unit_test(test_pause_resume),
	        cmocka_unit_test(test_two_engines),
	        cmocka_unit_test(test_class_b),
	        cmocka_unit_test(test_scale),
	        cmocka_unit_test(test_cancel_scale),
	};

	return itest_engine_main(argc, argv, "itest_engine_jobs", tests,
	                         sizeof(tests) / sizeof(tests[0]));
}
