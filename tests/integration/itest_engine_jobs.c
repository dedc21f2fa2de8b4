/* The job engine against a real PostgreSQL, with a fake clock, a fake outbound sink and
 * simulated devices that answer with the protocol libraries (clocksync/, multicast/,
 * fragmentation/ frag_cmd + frag_dec, lorawan/ lw_frame): every message fuotad publishes is
 * decoded as a device or a gateway would, every answer is a hand-made uplink. A job from
 * start to end, and what an operator does to it.
 *
 *   class C v1 job, no loss        every device rebuilds the exact image; FCnts strictly increase
 *   loss + parity + a refusal      a device that loses frames rebuilds them from parity rows; a
 *                                  frame a gateway refuses goes out again with a new FCnt
 *   a silent device                fails with its reason, the others complete
 *   retry the failed               a finished job's failed device gets the image from its retry
 *   restart mid-transmission       a second engine (the first one's lease expires) finishes the
 *                                  job; no FCnt is reused
 *   tenants                        the gateways that heard a device are stored under the
 *                                  tenant holding its DevEUI; a DevEUI changing hands starts
 *                                  with none of its former holder's
 *   another application           an uplink of the same DevEUI under another application
 *                                  answers nothing of the job's device
 *   a frame without ack            sent again (new FCnt) after the ack timeout
 *   cancel                         a cancelled job stops and deletes the groups it set up; each
 *                                  device it failed has its device event (log and MQTT)
 *   pause, resume; two engines sharing jobs; class B; FUOTA_ITEST_SCALE devices (default 100)
 *
 * The session phase and the devices' clocks (resync, a moved start, stale answers) are
 * itest_engine_session's. The helpers are in itest_engine_lib.c.
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
	        cmocka_unit_test(test_uplink_other_application),
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
