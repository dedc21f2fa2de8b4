/* The job engine against a real PostgreSQL, with a fake clock, a fake outbound sink and
 * simulated devices that answer with the protocol libraries (clocksync/, multicast/,
 * fragmentation/ frag_cmd + frag_dec, lorawan/ lw_frame): every message fuotad publishes is
 * decoded as a device or a gateway would, every answer is a hand-made uplink.
 *
 *   instance restart               fuotad killed with SIGKILL and restarted with the same
 *                                  configuration renews its own lease at once; a second fuotad
 *                                  with a running one's instance id is refused
 *   instance lock lost             the session holding fuotad A's instance lock ends and another
 *                                  takes the id: A stops sending at once and exits with an
 *                                  error; B with that id finishes the job, no FCnt twice
 *   end to end                     fuotad's engine on the broker, the job made through the REST
 *                                  API, devices and gateway answering over MQTT
 *   database outage               PostgreSQL cut between fuotad's McGroupSetupReq and the
 *                                  devices' answers: every answer is kept, handled once it is
 *                                  back, and nobody is asked twice
 *   a JSON gateway                 the same with gateway B speaking JSON (its stats and acks):
 *                                  its DownlinkFrames come in JSON, gateway A's in protobuf, and
 *                                  the REST gateway list shows each one's encoding
 *
 * The helpers are in itest_engine_lib.c.
 * usage: itest_engine_mqtt FUOTAD SERVICES_ENV WORKDIR */
#include "itest_engine_lib.h"

/* fuotad with its engine on the stack's broker; devices and a gateway played by this test over
 * MQTT (JSON uplinks, protobuf gateway frames and acks); the job created through the REST API. */
/* Whatever the end-to-end test left running, even when an assertion cut it short. */
static int e2e_teardown(void **state)
{
	(void)state;
	T.gw_b_json = false;
	T.unicast_timeout_s = 0;
	unsetenv("FUOTA_ENGINE_ADAPTIVE_REDUNDANCY");
	if (T.fd.pid > 0)
		itest_fuotad_stop(&T.fd);
	T.fd.pid = 0;
	if (T.mqtt) {
		mqtt_disconnect(T.mqtt, 1000);
		mqtt_destroy(T.mqtt);
		T.mqtt = NULL;
	}
	mqtt_queue_destroy(T.mq);
	T.mq = NULL;
	unsetenv("FUOTA_MQTT_URL");
	unsetenv("FUOTA_ENGINE_REGIONS");
	return 0;
}

/* fuotad killed with SIGKILL while it holds a job's lease, restarted with the same
 * configuration: it is the same instance (fuotad-<host>-<port>) and renews the lease at once
 * instead of waiting 30 s for it to expire. A second fuotad configured with an instance id a
 * running one holds is refused. */
static void test_instance_restart(void **state)
{
	struct itest_fuotad *fd = &T.fd, dup;
	char host[32] = "host", id[96], sql[256];
	long long until;
	int st = 0;

	(void)state;
	fresh_db();
	add_dev("00000000000000e1", 0xa1, 1);
	setenv("FUOTA_MQTT_URL", T.env.mqtt_url, 1);
	setenv("FUOTA_ENGINE_REGIONS", "EU868:eu868:off", 1);
	memset(fd, 0, sizeof(*fd));
	snprintf(fd->bin, sizeof(fd->bin), "%s", argv_bin);
	snprintf(fd->dsn, sizeof(fd->dsn), "%s", T.dsn);
	snprintf(fd->log, sizeof(fd->log), "%s/itest_engine_instance.log", argv_dir);
	unlink(fd->log);
	assert_int_equal(itest_fuotad_start(fd), 0);
	gethostname(host, sizeof(host) - 1);
	snprintf(id, sizeof(id), "fuotad-%s-%u", host, fd->port);
	add_job(0, 1, 2);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM job WHERE lease_owner = '%s'", id);
	assert_true(db_wait(sql, 1, 10000));
	kill(fd->pid, SIGKILL);
	waitpid(fd->pid, &st, 0);
	fd->pid = 0;
	until = db_count("SELECT (extract(epoch FROM lease_until) * 1000)::bigint FROM job");
	fd->want_port = fd->port;
	assert_int_equal(itest_fuotad_start(fd), 0);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM job WHERE lease_owner = '%s' AND "
	         "(extract(epoch FROM lease_until) * 1000)::bigint > %lld",
	         id, until);
	/* The lease had ~30 s to run: renewed within 5 s, it was taken back, not waited for. */
	assert_true(db_wait(sql, 1, 5000));
	/* Another fuotad with that id, given explicitly: refused at start, and says why. */
	memset(&dup, 0, sizeof(dup));
	snprintf(dup.bin, sizeof(dup.bin), "%s", argv_bin);
	snprintf(dup.dsn, sizeof(dup.dsn), "%s", T.dsn);
	snprintf(dup.log, sizeof(dup.log), "%s/itest_engine_instance_dup.log", argv_dir);
	unlink(dup.log);
	setenv("FUOTA_ENGINE_INSTANCE_ID", id, 1);
	/* Its API may answer /readyz while its engine still waits for the id (a killed
	 * predecessor's session may take a moment to end): it must exit within seconds. */
	if (itest_fuotad_start(&dup) == 0) {
		pid_t done = 0;

		for (int i = 0; i < 100 && done != dup.pid; i++) {
			struct timespec ts = {0, 100000000};

			done = waitpid(dup.pid, &st, WNOHANG);
			if (done != dup.pid)
				nanosleep(&ts, NULL);
		}
		if (done != dup.pid)
			itest_fuotad_stop(&dup);
		assert_int_equal(done, dup.pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
		dup.pid = 0;
	}
	unsetenv("FUOTA_ENGINE_INSTANCE_ID");
	assert_true(log_has(dup.log, "is held by another running fuotad: refused"));
	/* The first one still holds it and goes on. */
	assert_true(db_wait(sql, 1, 1000));
}

/* fuotad A sends a job's frames; the session holding its instance lock is ended by the server
 * (pg_terminate_backend, as a database restart or a broken path would) and, before A can take
 * the lock again, another session holds the id: A stops sending at once, says it refuses to go
 * on, and exits with an error. fuotad B, started with the same id, takes the job over and
 * finishes it; no FCnt went out twice, and none A sent was taken after its lock was gone. */
static void test_lock_lost(void **state)
{
	char token[80], body[1024], st[32], sql[512];
	json_t *out = NULL;
	int64_t job, t_lost, t_exit;
	long long fcnt_fence;
	size_t a_frames;
	PGconn *hold;
	PGresult *r;
	int status = 0;

	(void)state;
	fresh_db();
	add_dev("0000000000000071", 0x31, 1);
	add_dev("0000000000000072", 0x32, 2);
	T.unicast_timeout_s = 2;
	world_connect();
	setenv("FUOTA_MQTT_URL", T.env.mqtt_url, 1);
	setenv("FUOTA_ENGINE_REGIONS", "EU868:eu868:off", 1);
	lock_fuotad_start("itest-lock", "itest_engine_lock_a.log");
	assert_int_equal(itest_token(argv_bin, T.dsn, false, 1, token), 0);
	snprintf(body, sizeof(body),
	         "{\"name\":\"lock\",\"firmware_id\":%lld,\"devices\":[\"%s\",\"%s\"],"
	         "\"redundancy_frames\":6,\"unicast_timeout_s\":2,\"unicast_attempts\":2,"
	         "\"data_rate\":5,\"frequency_hz\":869525000,\"region\":\"EU868\","
	         "\"fragment_size\":%d,\"multicast_class\":\"C\"}",
	         (long long)T.firmware_id, T.devs[0].eui, T.devs[1].eui, FRAG_SIZE);
	assert_int_equal(api_call(T.fd.port, "POST", "/api/v1/jobs", token, body, &out), 201);
	job = json_integer_value(json_object_get(out, "id"));
	json_decref(out);
	world_run("A", four_frames, job, realtime_ms() + 60000);
	/* A's lock session ended; this test's session queues for the lock in the same statement,
	 * so it holds the id before A can take it back. */
	hold = PQconnectdb(T.dsn);
	assert_int_equal(PQstatus(hold), CONNECTION_OK);
	t_lost = realtime_ms();
	/* Only this test's database: the other tests' fuotads, running beside it on the same
	 * PostgreSQL, hold locks of the same class. */
	r = PQexec(hold, "WITH t AS MATERIALIZED (SELECT pg_terminate_backend(pid) FROM pg_locks "
	                 "WHERE locktype = 'advisory' AND classid = 1718972276 AND objsubid = 2 "
	                 "AND database = (SELECT oid FROM pg_database WHERE datname = "
	                 "current_database()) AND granted AND pid <> pg_backend_pid()) "
	                 "SELECT pg_advisory_lock(1718972276, hashtext('itest-lock')) FROM t");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(r), 1);
	PQclear(r);
	/* A frame that passed the fence before the session ended has committed by now. */
	{
		struct timespec ts = {0, 300000000};

		nanosleep(&ts, NULL);
	}
	fcnt_fence = db_count("SELECT fcnt FROM multicast_group");
	/* A stops and exits by itself, with an error and the reason in its log. */
	for (int i = 0; i < 150 && T.fd.pid > 0; i++) {
		if (waitpid(T.fd.pid, &status, WNOHANG) == T.fd.pid)
			T.fd.pid = 0;
		else
			world_for("A", 100);
	}
	t_exit = realtime_ms();
	assert_int_equal(T.fd.pid, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	assert_true(log_has(T.fd.log, "its lock's database session ended"));
	assert_true(log_has(T.fd.log, "refused to continue"));
	print_message("lock lost: fuotad A exited %lld ms after its lock session ended\n",
	              (long long)(t_exit - t_lost));
	/* What A published before it stopped, still on its way. */
	world_for("A", 1000);
	a_frames = T.n_fcnts;
	for (size_t i = 0; i < a_frames; i++)
		assert_true(T.fcnts[i] < (uint32_t)fcnt_fence);
	/* Its leases are left as they were (another process with the id may own them). */
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM job WHERE id = %lld AND lease_owner = 'itest-lock'",
	         (long long)job);
	assert_int_equal(db_count(sql), 1);
	/* The other holder of the id lets go; B starts with it and finishes the job. */
	PQfinish(hold);
	lock_fuotad_start("itest-lock", "itest_engine_lock_b.log");
	world_run("B", job_finished, job, realtime_ms() + 90000);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	assert_true(T.n_fcnts > a_frames);
	assert_fcnts_increase();
	assert_int_equal(db_count("SELECT count(*) - count(DISTINCT fcnt) FROM engine_tx"), 0);
}

static void test_mqtt_end_to_end(void **state)
{
	(void)state;
	mqtt_end_to_end(false, false);
}

/* The same with [engine] adaptive_redundancy = 1: the job's plan says what rounds may take, its
 * TimeOut covers that, and the engine runs the job with that TimeOut and in rounds. */
static void test_mqtt_adaptive_api_job(void **state)
{
	(void)state;
	mqtt_end_to_end(false, true);
}

static void test_mqtt_json_gateway(void **state)
{
	(void)state;
	mqtt_end_to_end(true, false);
}

/* The uplinks that reach fuotad while its database is away are kept and handled once it is
 * back: with PostgreSQL cut between the McGroupSetupReq and the devices' answers, every answer
 * given during the outage moves its device on (none is asked twice: a lost answer would be
 * asked again after the unicast timeout), and the job completes. */
static void test_db_outage_replay(void **state)
{
	struct itest_fuotad *fd = &T.fd;
	int64_t job, deadline;
	size_t waiting = 0, n_devs = 3;
	unsigned answers_in_outage = 0;
	bool cut = false;

	(void)state;
	fresh_db();
	for (size_t i = 0; i < n_devs; i++) {
		char eui[17];

		snprintf(eui, sizeof(eui), "00000000000000a%zu", i);
		add_dev(eui, (uint8_t)(0x61 + i), 1);
	}
	world_connect();
	memset(fd, 0, sizeof(*fd));
	snprintf(fd->bin, sizeof(fd->bin), "%s", argv_bin);
	snprintf(fd->dsn, sizeof(fd->dsn), "%s", T.dsn);
	snprintf(fd->log, sizeof(fd->log), "%s/itest_engine_outage.log", argv_dir);
	unlink(fd->log);
	setenv("FUOTA_MQTT_URL", T.env.mqtt_url, 1);
	setenv("FUOTA_ENGINE_REGIONS", "EU868:eu868:off", 1);
	assert_int_equal(itest_fuotad_start(fd), 0);
	job = add_job(0, n_devs, 2);
	deadline = realtime_ms() + 120000;
	while (!cut || !job_finished(job)) {
		assert_true(realtime_ms() < deadline);
		world_take(200);
		T.now_ms = realtime_ms();
		if (!cut && setup_reqs_waiting() > 0) {
			/* Every device's request out (they go within moments of each other). */
			world_take(1000);
			waiting = setup_reqs_waiting();
			db_outage(true);
			sleep_ms(500);
			T.now_ms = realtime_ms();
			pump(NULL); /* the answers go to the broker while the database is away */
			for (size_t i = 0; i < n_devs; i++)
				answers_in_outage += T.devs[i].setup_reqs;
			sleep_ms(2000);
			db_outage(false);
			cut = true;
			continue;
		}
		pump(NULL);
		deliver_answers(NULL);
	}
	assert_int_equal(waiting, n_devs);
	assert_int_equal(answers_in_outage, n_devs);
	assert_all_done(job, n_devs);
	for (size_t i = 0; i < n_devs; i++)
		assert_int_equal(T.devs[i].setup_reqs, 1);
	/* fuotad read them during the outage, kept and handled them again. */
	assert_true(replayed(fd->log) >= n_devs);
	assert_int_equal(itest_fuotad_stop(fd), 0);
	fd->pid = 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_instance_restart, e2e_teardown),
	        cmocka_unit_test_teardown(test_lock_lost, e2e_teardown),
	        cmocka_unit_test_teardown(test_mqtt_end_to_end, e2e_teardown),
	        cmocka_unit_test_teardown(test_mqtt_json_gateway, e2e_teardown),
	        cmocka_unit_test_teardown(test_mqtt_adaptive_api_job, e2e_teardown),
	        cmocka_unit_test_teardown(test_db_outage_replay, e2e_teardown),
	};

	return itest_engine_main(argc, argv, "itest_engine_mqtt", tests,
	                         sizeof(tests) / sizeof(tests[0]));
}
