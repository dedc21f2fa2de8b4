/* The end-to-end helpers of the itest_engine_* programs (see itest_engine_lib.h): fuotad
 * started on the stack, devices and gateway over the broker, the database cut and back. */
#include "itest_engine_lib.h"

int64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Gateway B tells it speaks JSON with a stats message (as one does every 30 s), until fuotad
 * stored it: its first frame is JSON already. */
void gw_b_says_json(void)
{
	struct cs_gw_stats st;
	char *json = NULL, topic[96];
	size_t n = 0;
	int64_t deadline = realtime_ms() + 10000;

	memset(&st, 0, sizeof(st));
	snprintf(st.gateway_id, sizeof(st.gateway_id), "%s", GW_B);
	assert_int_equal(cs_gw_stats_to_json(&st, &json, &n), FUOTA_OK);
	snprintf(topic, sizeof(topic), "eu868/gateway/%s/event/stats", GW_B);
	while (db_count("SELECT count(*) FROM engine_gateway WHERE gateway_id = '" GW_B "' "
	                "AND encoding = 'json'") != 1) {
		assert_true(realtime_ms() < deadline);
		assert_int_equal(mqtt_publish(T.mqtt, topic, json, n, 1), FUOTA_OK);
		usleep(200 * 1000);
	}
	free(json);
}

/* The plan of an adaptive job made through the API: what the engine may do at most, and a
 * TimeOut that covers it, which is the one the devices were given. */
void assert_adaptive_plan(unsigned port, const char *token, int64_t job)
{
	char path[64];
	json_t *out = NULL, *plan, *ad;
	json_int_t exp, worst;

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", (long long)job);
	assert_int_equal(api_call(port, "GET", path, token, NULL, &out), 200);
	plan = json_object_get(out, "plan");
	ad = json_object_get(plan, "adaptive");
	assert_non_null(ad);
	assert_string_equal(json_string_value(json_object_get(ad, "mode")), "rounds");
	assert_int_equal(json_integer_value(json_object_get(ad, "max_parity_frames")), 20);
	assert_int_equal(json_integer_value(json_object_get(ad, "max_frames")), 40);
	assert_int_equal(json_integer_value(json_object_get(ad, "max_rounds")), ENGINE_ROUNDS_MAX);
	/* 2^(BlockAckDelay 0 + 4) s + the job's 2 s unicast timeout. */
	assert_int_equal(json_integer_value(json_object_get(ad, "round_wait_s")), 16 + 2);
	worst = json_integer_value(json_object_get(ad, "worst_case_multicast_s"));
	assert_true(worst > ENGINE_ROUNDS_MAX * 18);
	assert_int_equal(json_integer_value(json_object_get(plan, "multicast_duration_s")), worst);
	exp = json_integer_value(json_object_get(plan, "multicast_timeout_exp"));
	assert_true((1ll << exp) >= worst && (1ll << exp) / 2 < worst);
	assert_int_equal(json_integer_value(json_object_get(plan, "multicast_timeout_s")),
	                 1ll << exp);
	for (size_t i = 0; i < T.n_devs; i++)
		assert_int_equal(T.devs[i].session_timeout, exp);
	json_decref(out);
}

bool log_has(const char *path, const char *what)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return found;
}

/* Waits up to ms for db_count(sql) to return want. */
bool db_wait(const char *sql, long long want, int ms)
{
	for (int i = 0; i < ms / 100; i++) {
		struct timespec ts = {0, 100000000};

		if (db_count(sql) == want)
			return true;
		nanosleep(&ts, NULL);
	}
	return db_count(sql) == want;
}

/* Plays the network and the gateways for a fuotad over the broker: every message it publishes,
 * tagged `tag`, until done() or the deadline (realtime ms) passes. */
void world_run(const char *tag, bool (*done)(int64_t), int64_t job, int64_t deadline)
{
	while (!done(job)) {
		struct mqtt_msg *m = NULL;

		assert_true(realtime_ms() < deadline);
		T.now_ms = realtime_ms();
		deliver_answers(NULL);
		if (mqtt_queue_pop(T.mq, 100, &m) != FUOTA_OK)
			continue;
		fake_publish((void *)(uintptr_t)tag, m->topic, m->payload, m->len, NULL);
		mqtt_msg_free(m);
		T.now_ms = realtime_ms();
		pump(NULL);
	}
}

bool four_frames(int64_t job)
{
	(void)job;
	return T.n_fcnts >= 4;
}

/* The same for ms, whatever happens. */
void world_for(const char *tag, int64_t ms)
{
	int64_t end = realtime_ms() + ms;
	struct mqtt_msg *m = NULL;

	while (realtime_ms() < end) {
		T.now_ms = realtime_ms();
		deliver_answers(NULL);
		if (mqtt_queue_pop(T.mq, 50, &m) != FUOTA_OK)
			continue;
		fake_publish((void *)(uintptr_t)tag, m->topic, m->payload, m->len, NULL);
		mqtt_msg_free(m);
		T.now_ms = realtime_ms();
		pump(NULL);
	}
}

/* Starts fuotad (T.fd) with instance id `id` for the world of this test, logging to log. */
void lock_fuotad_start(const char *id, const char *log)
{
	struct itest_fuotad *fd = &T.fd;

	memset(fd, 0, sizeof(*fd));
	snprintf(fd->bin, sizeof(fd->bin), "%s", argv_bin);
	snprintf(fd->dsn, sizeof(fd->dsn), "%s", T.dsn);
	snprintf(fd->log, sizeof(fd->log), "%s/%s", argv_dir, log);
	unlink(fd->log);
	setenv("FUOTA_ENGINE_INSTANCE_ID", id, 1);
	assert_int_equal(itest_fuotad_start(fd), 0);
	unsetenv("FUOTA_ENGINE_INSTANCE_ID");
}

/* The test's own MQTT client: it is the network server and the gateway. */
void world_connect(void)
{
	static const char *const filters[] = {"application/+/device/+/command/down",
	                                      "eu868/gateway/+/command/down", "fuota/#"};
	struct mqtt_options opt;

	assert_int_equal(mqtt_queue_create(0, &T.mq), FUOTA_OK);
	assert_int_equal(mqtt_paho_create(&T.mqtt), FUOTA_OK);
	memset(&opt, 0, sizeof(opt));
	opt.client_id = "itest-engine-world";
	opt.clean_session = true;
	assert_int_equal(mqtt_connect(T.mqtt, T.env.mqtt_url, &opt), FUOTA_OK);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(mqtt_subscribe(T.mqtt, filters[i], 1, mqtt_queue_on_message, T.mq),
		                 FUOTA_OK);
	assert_int_equal(mqtt_wait_subscribed(T.mqtt, 10000), FUOTA_OK);
}

void mqtt_end_to_end(bool gw_b_json, bool adaptive)
{
	struct itest_fuotad *fd = &T.fd;
	char token[80], body[1024], path[64], st[32];
	json_t *out = NULL;
	int64_t job, deadline;

	fresh_db();
	add_dev("0000000000000061", 0x21, 2);
	add_dev("0000000000000062", 0x22, 2);
	T.devs[0].m.cfg.lose_frags = 1u << 6;
	if (adaptive) /* more than the first batch brings back: a round */
		T.devs[0].m.cfg.lose_frags = (0x3Fu << 3) | (0xFu << 20);
	T.gw_b_json = gw_b_json;
	T.unicast_timeout_s = 2;
	T.tx_power_dbm = gw_b_json ? 20 : 0; /* a job's own power, in both encodings */
	T.devs[1].in_range_b = gw_b_json;    /* then each gateway serves one device */
	memset(T.gw_frames, 0, sizeof(T.gw_frames));
	T.gw_json_frames = 0;
	world_connect();
	memset(fd, 0, sizeof(*fd));
	snprintf(fd->bin, sizeof(fd->bin), "%s", argv_bin);
	snprintf(fd->dsn, sizeof(fd->dsn), "%s", T.dsn);
	snprintf(fd->log, sizeof(fd->log), "%s/itest_engine.fuotad.log", argv_dir);
	setenv("FUOTA_MQTT_URL", T.env.mqtt_url, 1);
	setenv("FUOTA_ENGINE_REGIONS", "EU868:eu868:off", 1);
	if (adaptive)
		setenv("FUOTA_ENGINE_ADAPTIVE_REDUNDANCY", "1", 1);
	assert_int_equal(itest_fuotad_start(fd), 0);
	assert_int_equal(itest_token(argv_bin, T.dsn, false, 1, token), 0);
	if (gw_b_json)
		gw_b_says_json();
	snprintf(body, sizeof(body),
	         "{\"name\":\"e2e\",\"firmware_id\":%lld,\"devices\":[\"%s\",\"%s\"],"
	         "\"redundancy_frames\":4,\"unicast_timeout_s\":2,\"unicast_attempts\":2,"
	         "\"data_rate\":5,\"frequency_hz\":869525000,\"region\":\"EU868\","
	         "\"fragment_size\":%d,\"multicast_class\":\"C\"%s}",
	         (long long)T.firmware_id, T.devs[0].eui, T.devs[1].eui, FRAG_SIZE,
	         T.tx_power_dbm ? ",\"tx_power_dbm\":20" : "");
	assert_int_equal(api_call(fd->port, "POST", "/api/v1/jobs", token, body, &out), 201);
	job = json_integer_value(json_object_get(out, "id"));
	json_decref(out);
	deadline = realtime_ms() + 90000;
	while (!job_finished(job)) {
		struct mqtt_msg *m = NULL;

		assert_true(realtime_ms() < deadline);
		T.now_ms = realtime_ms();
		deliver_answers(NULL);
		while (mqtt_queue_pop(T.mq, 200, &m) == FUOTA_OK) {
			fake_publish(NULL, m->topic, m->payload, m->len, NULL);
			mqtt_msg_free(m);
			T.now_ms = realtime_ms();
			pump(NULL);
			deliver_answers(NULL);
		}
	}
	/* The final state event is published after the state is committed: wait for it. */
	deadline = realtime_ms() + 5000;
	while (T.events_state < 2 && realtime_ms() < deadline) {
		struct mqtt_msg *m = NULL;

		if (mqtt_queue_pop(T.mq, 200, &m) != FUOTA_OK)
			continue;
		fake_publish(NULL, m->topic, m->payload, m->len, NULL);
		mqtt_msg_free(m);
		pump(NULL);
	}
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	assert_true(T.devs[0].mic_ok);
	assert_true(T.devs[1].mic_ok);
	if (adaptive) {
		/* Rounds: the batches the devices' answers called for, in a session as long as the
		 * plan said. */
		assert_true(check_rounds(T.devs[0].setup.frag_index, 2, 4) >= 1);
		assert_true(answers_of(0) >= 1);
		assert_adaptive_plan(fd->port, token, job);
		assert_fcnts_increase();
	} else if (!gw_b_json) {
		/* Every frame once, and once more each one its gateway did not ack in time (a
		 * loaded machine): the gateways received what engine_tx holds. */
		assert_int_equal(db_count("SELECT count(DISTINCT n) FROM engine_tx"), 24);
		assert_int_equal(T.n_fcnts, db_count("SELECT count(*) FROM engine_tx"));
		assert_fcnts_increase();
	} else {
		/* Every frame through both gateways, with the same FCnt (and a late-acked one again
		 * through its gateway). */
		assert_int_equal(db_count("SELECT count(DISTINCT (gateway_id, n)) FROM engine_tx"),
		                 48);
		assert_int_equal(T.n_fcnts, db_count("SELECT count(*) FROM engine_tx"));
	}
	assert_true(T.events_state >= 2);
	assert_true(T.events_device >= 2 * 6);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/devices", (long long)job);
	assert_int_equal(api_call(fd->port, "GET", path, token, NULL, &out), 200);
	{
		char *text = json_dumps(out, JSON_COMPACT);

		assert_non_null(text);
		assert_non_null(strstr(text, "\"step\":\"done\""));
		assert_null(strstr(text, "\"step\":\"failed\""));
		free(text);
	}
	json_decref(out);
	if (gw_b_json) {
		json_t *items, *a, *b;

		/* Each gateway received what engine_tx records for it: every frame once, and a
		 * late-acked one again (checked above). */
		assert_int_equal(
		        T.gw_frames[0],
		        db_count("SELECT count(*) FROM engine_tx WHERE gateway_id = '" GW_A "'"));
		assert_int_equal(
		        T.gw_frames[1],
		        db_count("SELECT count(*) FROM engine_tx WHERE gateway_id = '" GW_B "'"));
		assert_int_equal(T.gw_json_frames, T.gw_frames[1]);
		/* Gateway A was heard too (its protobuf acks). */
		assert_int_equal(api_call(fd->port, "GET", "/api/v1/gateways", token, NULL, &out),
		                 200);
		items = json_object_get(out, "items");
		assert_int_equal(json_array_size(items), 2);
		a = json_array_get(items, 0);
		b = json_array_get(items, 1);
		assert_string_equal(json_string_value(json_object_get(a, "gateway_id")), GW_A);
		assert_string_equal(json_string_value(json_object_get(a, "encoding")), "protobuf");
		assert_string_equal(json_string_value(json_object_get(b, "gateway_id")), GW_B);
		assert_string_equal(json_string_value(json_object_get(b, "encoding")), "json");
		json_decref(out);
	}
	/* A clean shutdown (and, in the ASan build, no sanitizer report). */
	assert_int_equal(itest_fuotad_stop(fd), 0);
	fd->pid = 0;
}

/* An outage of this test's database, as fuotad sees a PostgreSQL restart (itest_db_outage).
 * The instance lock's session is spared: a lost lock stops the engine altogether
 * (test_lock_lost), while this is about the messages it reads while its pool is away. */
void db_outage(bool down)
{
	char err[256];

	assert_int_equal(itest_db_outage(&T.env, T.dsn, down, NULL), 0);
	if (down)
		return;
	/* The test's own pool lost its connections with the others. */
	store_close(T.store);
	T.store = NULL;
	assert_int_equal(store_open(T.dsn, 2, &T.store, err, sizeof(err)), FUOTA_OK);
}

/* The messages fuotad's log says it handled again once the database was back. */
size_t replayed(const char *log)
{
	FILE *f = fopen(log, "r");
	char line[1024];
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "engine: ");
		unsigned long k = 0;

		if (p && strstr(p, "messages handled again now that the database is back") &&
		    sscanf(p, "engine: %lu messages", &k) == 1)
			n += k;
	}
	fclose(f);
	return n;
}

/* McGroupSetupReq published by fuotad and not yet given to the devices. */
size_t setup_reqs_waiting(void)
{
	size_t n = 0;

	for (size_t i = T.next_msg; i < T.n_msgs; i++) {
		struct cs_downlink dl;

		if (!strstr(T.msgs[i].topic, "/command/down") ||
		    strncmp(T.msgs[i].topic, "application/", 12) != 0 ||
		    cs_downlink_from_json((const char *)T.msgs[i].data, T.msgs[i].len, &dl, NULL,
		                          0) != FUOTA_OK)
			continue;
		n += dl.f_port == 200 && dl.data_len > 0 && dl.data[0] == MC_CID_GROUP_SETUP;
	}
	return n;
}

/* Takes what the broker brought for `ms` (not given to the devices). */
void world_take(long ms)
{
	int64_t until = realtime_ms() + ms;
	struct mqtt_msg *m = NULL;

	while (realtime_ms() < until)
		if (mqtt_queue_pop(T.mq, 50, &m) == FUOTA_OK) {
			fake_publish(NULL, m->topic, m->payload, m->len, NULL);
			mqtt_msg_free(m);
		}
}
