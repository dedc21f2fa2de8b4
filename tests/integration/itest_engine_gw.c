/* Issue 12's rule in the job engine: a gateway whose modem updates (state/modem, or an update of
 * ours running or due during the session) does not carry a new multicast session. The engine
 * picks another gateway that heard the devices, or, when only such a gateway heard some, moves
 * the session past the update (asking the devices again) and says so in the job's events and
 * plan. Driven directly (fake clock and sink, itest_engine_lib.h).
 *
 * usage: itest_engine_gw FUOTAD SERVICES_ENV WORKDIR */
#include "itest_engine_lib.h"

/* A running update of gateway gw's modem (as fuota-gw reported it). */
static void modem_updating(const char *gw)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "INSERT INTO modem_update (gateway_id, tenant_id, method, url, image_size, state, "
	         "created_ms, updated_ms, started_ms) VALUES ('%s', 1, 'http', 'http://h/x', "
	         "4500000, 'downloading', %lld, %lld, %lld)",
	         gw, (long long)T.now_ms, (long long)T.now_ms, (long long)T.now_ms);
	db_exec(sql);
}

/* Gateway B heard every device too, louder than A: without the rule it would carry the session
 * alone (it covers them all with the better quality), and the devices, served by A, would get
 * nothing. Its modem updates: A carries it and the job succeeds. */
static void test_other_gateway_picked(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32], sql[512];

	(void)state;
	fresh_db();
	add_dev("00000000000000e1", 0x11, 1);
	add_dev("00000000000000e2", 0x12, 1);
	job = add_job(0, 2, 4);
	e = new_engine("itest-gw-a", false);
	run_to_phase(e, job, "session");
	for (size_t i = 0; i < 2; i++) {
		snprintf(sql, sizeof(sql),
		         "INSERT INTO engine_device_gateway (tenant_id, dev_eui, gateway_id, "
		         "quality, "
		         "seen_ms) VALUES (1, '%s', '" GW_B "', 50, %lld) ON CONFLICT DO NOTHING",
		         T.devs[i].eui, (long long)T.now_ms);
		db_exec(sql);
	}
	modem_updating(GW_B);
	run(e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_all_done(job, 2);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM job WHERE id = %lld AND plan->'gateways_skipped'->0->>"
	         "'gateway_id' = '" GW_B "' AND plan->'gateways_skipped'->0->>'reason' = "
	         "'its modem is updating'",
	         (long long)job);
	assert_int_equal(db_count(sql), 1);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM event WHERE job_id = %lld AND data ? 'gateways_skipped' "
	         "AND (data->>'devices_lost')::int = 0",
	         (long long)job);
	assert_int_equal(db_count(sql), 1);
	assert_int_equal(db_count("SELECT count(*) FROM engine_job WHERE gateways = "
	                          "ARRAY['" GW_A "']"),
	                 1);
	engine_destroy(e);
}

/* Only gateway A heard the devices and its modem updates: the session waits (moved, the devices
 * asked again), and once the update is over it runs through A. */
static void test_session_waits_for_modem(void **state)
{
	struct engine *e;
	int64_t job, start_was;
	char st[32], sql[256];

	(void)state;
	fresh_db();
	add_dev("00000000000000e3", 0x13, 1);
	job = add_job(0, 1, 4);
	e = new_engine("itest-gw-b", false);
	run_to_phase(e, job, "session");
	snprintf(sql, sizeof(sql), "SELECT session_start_ms FROM engine_job WHERE job_id = %lld",
	         (long long)job);
	start_was = db_count(sql);
	modem_updating(GW_A);
	/* Past the session start: moved, not failed. */
	for (int i = 0; i < 200 && db_count("SELECT count(*) FROM event WHERE data->>"
	                                    "'session_moved' LIKE '%modem update%'") == 0;
	     i++) {
		int64_t next = 0;

		deliver_answers(e);
		pump(e);
		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		pump(e);
		T.now_ms = next > T.now_ms ? next : T.now_ms + 100;
	}
	assert_int_equal(db_count("SELECT count(*) FROM event WHERE data->>'session_moved' LIKE "
	                          "'%modem update%'"),
	                 1);
	/* Past the update's expected end (a 4.5 MB download and the install: over half an
	 * hour). */
	assert_true(db_count(sql) - start_was > 30 * 60 * 1000);
	assert_string_equal(dev_step(job, T.devs[0].eui, st, sizeof(st)), "mc_session");
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM job WHERE id = %lld AND (plan->>'waiting_for_modem')::bool "
	         "AND plan->'gateways_skipped'->0->>'gateway_id' = '" GW_A "'",
	         (long long)job);
	assert_int_equal(db_count(sql), 1);
	snprintf(sql, sizeof(sql), "SELECT session_start_ms FROM engine_job WHERE job_id = %lld",
	         (long long)job);
	/* The gateway reports the update done; the job completes through A. */
	db_exec("UPDATE modem_update SET state = 'done'");
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_all_done(job, 1);
	engine_destroy(e);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_other_gateway_picked),
	        cmocka_unit_test(test_session_waits_for_modem),
	};

	return itest_engine_main(argc, argv, "itest_engine_gw", tests,
	                         sizeof(tests) / sizeof(tests[0]));
}
