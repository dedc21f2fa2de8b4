/* State, job, database and engine helpers of the itest_engine_* programs (see
 * itest_engine_lib.h). */
#include "itest_engine_lib.h"

/* The master key fuotad gets from itest_fuotad_start (TEST_MASTER_KEY of itest.c), so that the
 * key boxes this test seals open in fuotad too. */
const uint8_t master_key[32] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
                                0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

struct itest_engine_state T;

const char *argv_bin, *argv_env, *argv_dir;

/* ---- fakes ---------------------------------------------------------------------------------- */

void add_dev(const char *eui, uint8_t key_byte, int ts004)
{
	add_dev_in(eui, key_byte, ts004, "EU868");
}

void add_dev_in(const char *eui, uint8_t key_byte, int ts004, const char *region)
{
	struct tdev *d = &T.devs[T.n_devs++];
	struct store_device sd;
	uint8_t box[16 + CBOX_OVERHEAD];
	char aad[64], *json = NULL;
	int n;

	dev_setup(d, eui, key_byte, ts004);
	n = snprintf(aad, sizeof(aad), "device:1:%s", eui);
	assert_int_equal(cbox_seal(master_key, d->key, 16, (const uint8_t *)aad, (size_t)n, box,
	                           sizeof(box)),
	                 FUOTA_OK);
	memset(&sd, 0, sizeof(sd));
	snprintf(sd.dev_eui, sizeof(sd.dev_eui), "%s", eui);
	sd.application_id = APP_ID;
	sd.lorawan_version = "1.0.3";
	sd.dev_class = 'C';
	sd.region = region;
	sd.key_kind = "gen_app_key";
	sd.key_box = box;
	sd.key_box_len = sizeof(box);
	assert_int_equal(store_device_create(T.store, 1, &sd, &json), FUOTA_OK);
	free(json);
}

int64_t json_id(const char *json)
{
	json_t *j = json_loads(json, 0, NULL);
	int64_t id;

	assert_non_null(j);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	return id;
}

int64_t add_job_ex(size_t first, size_t count, int redundancy, char mc_class, int periodicity)
{
	struct job_params p;
	struct store_job_create jc = {0};
	char bad[17], why[64], *json = NULL;
	char(*euis)[PLAN_DEVEUI_LEN + 1] = calloc(count, PLAN_DEVEUI_LEN + 1);
	int64_t id;

	assert_non_null(euis);
	for (size_t i = 0; i < count; i++)
		snprintf(euis[i], PLAN_DEVEUI_LEN + 1, "%s", T.devs[first + i].eui);
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "engine test");
	snprintf(p.region, sizeof(p.region), "EU868");
	p.firmware_id = T.firmware_id;
	p.data_rate = 5;
	p.frequency_hz = 869525000;
	p.fragment_size = FRAG_SIZE;
	p.redundancy_frames = redundancy;
	p.redundancy_percent = -1;
	p.unicast_timeout_s = 5;
	p.unicast_attempts = 3;
	p.multicast_class = mc_class;
	p.multicast_timeout_s = 0;
	p.ping_slot_periodicity = periodicity;
	p.has_target_version = T.has_target_version;
	p.target_version = T.target_version;
	p.reboot_in_s = T.reboot_in_s;
	snprintf(p.reboot_at, sizeof(p.reboot_at), "%s", T.reboot_at);
	p.n_devices = count;
	p.dev_euis = euis;
	jc.params = &p;
	jc.plan_json = "{}";
	jc.firmware_id = T.firmware_id;
	assert_int_equal(store_job_create(T.store, 1, &jc, &json, bad, why), FUOTA_OK);
	id = json_id(json);
	free(json);
	free(euis);
	return id;
}

int64_t add_job(size_t first, size_t count, int redundancy)
{
	return add_job_ex(first, count, redundancy, 'C', -1);
}

/* The API's pause, resume or cancel of job. */
void job_action(int64_t job, const char *action)
{
	char *json = NULL;

	assert_int_equal(store_job_action(T.store, 1, job, action, &json), FUOTA_OK);
	free(json);
}

/* A new database with the firmware and no device. */
void fresh_db(void)
{
	char name[64], *json = NULL;
	int applied = 0;
	char err[256];

	store_close(T.store);
	T.store = NULL;
	msgs_clear();
	devs_free();
	T.n_fcnts = 0;
	T.refuse_every = T.acks = T.refused = T.vanish_at = 0;
	T.outbox_cap = 0;
	T.outbox_refused = 0;
	T.events_state = T.events_device = T.events_progress = 0;
	T.watch_job = 0;
	T.watch_states = 0;
	T.watch_last_to[0] = 0;
	json_decref(T.last_progress);
	T.last_progress = NULL;
	T.class_b = T.gps_timing = T.adaptive_stream = false;
	T.class_b_frames = 0;
	T.tx_power_dbm = 0;
	memset(T.mc_status, 0, sizeof(T.mc_status));
	T.n_answers = T.next_answer = T.stop_after_answers = 0;
	T.hold_uplinks = false;
	T.n_held = 0;
	/* The pid keeps a fuotad left over by a crashed run away from this run's databases. */
	snprintf(name, sizeof(name), "fuota_itest_engine_%ld_%d", (long)getpid(), T.db_seq++);
	assert_int_equal(itest_db_create(&T.env, name, T.dsn, sizeof(T.dsn)), 0);
	assert_int_equal(store_open(T.dsn, 2, &T.store, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(store_migrate(T.store, &applied), FUOTA_OK);
	for (size_t i = 0; i < FW_SIZE; i++)
		T.firmware[i] = (uint8_t)(i * 7 + (i >> 8) * 13 + 1);
	assert_int_equal(store_firmware_create(T.store, 1, "fw", T.firmware, FW_SIZE, &json),
	                 FUOTA_OK);
	T.firmware_id = json_id(json);
	free(json);
	T.now_ms = 1763700000000; /* 2025-11-21 */
}

struct engine *new_engine_tag(const char *instance, bool duty_cycle, bool adaptive,
                              unsigned max_jobs)
{
	struct engine_cfg cfg;
	struct engine *e = NULL;

	engine_cfg_defaults(&cfg);
	cfg.adaptive = adaptive;
	snprintf(cfg.instance_id, sizeof(cfg.instance_id), "%s", instance);
	memcpy(cfg.master_key, master_key, sizeof(master_key));
	cfg.lease_ms = 5000;
	cfg.n_regions = 1;
	snprintf(cfg.regions[0].name, sizeof(cfg.regions[0].name), "EU868");
	cfg.regions[0].duty_cycle = duty_cycle;
	if (max_jobs)
		cfg.max_jobs_per_tick = max_jobs;
	cfg.gps_timing = T.gps_timing;
	cfg.adaptive_stream = T.adaptive_stream;
	assert_int_equal(engine_create(T.store, &cfg, fake_clock, NULL, fake_publish,
	                               (void *)(uintptr_t)instance, &e),
	                 FUOTA_OK);
	return e;
}

struct engine *new_engine_ex(const char *instance, bool duty_cycle, bool adaptive)
{
	return new_engine_tag(instance, duty_cycle, adaptive, 0);
}

struct engine *new_engine(const char *instance, bool duty_cycle)
{
	return new_engine_ex(instance, duty_cycle, false);
}

char *job_get(int64_t id)
{
	char *json = NULL;

	assert_int_equal(store_job_get(T.store, 1, id, &json), FUOTA_OK);
	return json;
}

const char *job_state(int64_t id, char *out, size_t cap)
{
	char *json = job_get(id);
	json_t *j = json_loads(json, 0, NULL);

	assert_non_null(j);
	snprintf(out, cap, "%s", json_string_value(json_object_get(j, "state")));
	json_decref(j);
	free(json);
	return out;
}

bool job_finished(int64_t id)
{
	char st[32];

	job_state(id, st, sizeof(st));
	return strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0 ||
	       strcmp(st, "cancelled") == 0;
}

/* Runs the engine and the simulated world until the job ends or max_steps ticks passed.
 * stop_after_frames > 0: returns early once that many gateway frames were seen. */
void run(struct engine *e, int64_t job, unsigned max_steps, size_t stop_after_frames)
{
	for (unsigned i = 0; i < max_steps; i++) {
		int64_t next = 0;

		deliver_answers(e);
		pump(e);
		if (T.stop_after_answers && T.next_answer >= T.stop_after_answers)
			return;
		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		pump(e);
		if (job_finished(job))
			return;
		if (stop_after_frames && T.n_fcnts >= stop_after_frames)
			return;
		next = next > T.now_ms ? next : T.now_ms + 100;
		/* A device's answer is due before: it reaches fuotad on time. */
		T.now_ms = answer_due() > T.now_ms && answer_due() < next ? answer_due() : next;
	}
	fail_msg("job %lld did not finish", (long long)job);
}

/* Ticks e for `seconds` of fake time, the devices' answers arriving meanwhile. */
void idle(struct engine *e, int seconds)
{
	for (int i = 0; i < seconds; i++) {
		int64_t next = 0;

		deliver_answers(e);
		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		pump(e);
		T.now_ms += 1000;
	}
}

json_t *job_devices(int64_t id)
{
	char *json = NULL;
	json_t *j;

	assert_int_equal(store_job_devices(T.store, 1, id, 100, 0, &json), FUOTA_OK);
	j = json_loads(json, 0, NULL);
	assert_non_null(j);
	free(json);
	return j;
}

const char *dev_field(json_t *devs, const char *eui, const char *field)
{
	size_t i;
	json_t *d;

	json_array_foreach(devs, i, d)
	{
		if (strcmp(json_string_value(json_object_get(d, "dev_eui")), eui) == 0)
			return json_string_value(json_object_get(d, field));
	}
	return NULL;
}

/* The device rebuilt the image, the firmware to the byte (its SHA-256). */
void assert_image(const struct tdev *d)
{
	assert_true(d->decoded);
	assert_true(d->m.rep.sha_checked);
	assert_true(d->m.rep.sha_ok);
}

/* FCnts of the gateway frames (one gateway per frame here): strictly increasing, so none is
 * reused and they went out in order (P15). */
void assert_fcnts_increase(void)
{
	for (size_t i = 1; i < T.n_fcnts; i++)
		assert_true(T.fcnts[i] > T.fcnts[i - 1]);
}

long long db_count(const char *sql)
{
	PGconn *c = PQconnectdb(T.dsn);
	PGresult *r = PQexec(c, sql);
	long long v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}

/* A dead engine's lease runs out: by the database's clock, which the fake clock does not move. */
void lease_runs_out(void)
{
	db_count("UPDATE job SET lease_until = now() - interval '1 second' "
	         "WHERE lease_owner IS NOT NULL");
}

/* The job's plan as the API shows it (n_sessions 0: as it was made, "{}" here). A mixed job's
 * plan says what the engine runs: its sessions, their frames in all, and the TimeOut. */
void assert_plan_sessions(int64_t job, int n_sessions, int frames)
{
	char *json = job_get(job);
	json_t *j = json_loads(json, 0, NULL), *plan;

	assert_non_null(j);
	plan = json_object_get(j, "plan");
	assert_non_null(plan);
	if (n_sessions == 0) {
		assert_int_equal(json_object_size(plan), 0);
	} else {
		assert_int_equal(json_integer_value(json_object_get(plan, "sessions")), n_sessions);
		assert_int_equal(json_integer_value(json_object_get(plan, "total_frames")), frames);
		assert_true(json_real_value(json_object_get(plan, "total_airtime_s")) >
		            0.05 * frames);
		assert_int_equal(json_integer_value(json_object_get(plan, "multicast_timeout_s")),
		                 128);
		assert_int_equal(json_integer_value(json_object_get(plan, "multicast_timeout_exp")),
		                 7);
		/* unicast_setup_s + the TimeOut; the frames' duration grows with the sessions. */
		assert_int_equal(json_integer_value(json_object_get(plan, "estimated_duration_s")),
		                 45 + 128);
		assert_int_equal(json_integer_value(json_object_get(plan, "multicast_duration_s")),
		                 30 * n_sessions);
		assert_int_equal(json_integer_value(json_object_get(plan, "unicast_setup_s")), 45);
	}
	json_decref(j);
	free(json);
}

/* When the last answer of a device to multicast status request `req` of session frag_index
 * reached fuotad (0: none). */
int64_t last_answer_ms(int frag_index, unsigned req)
{
	int64_t last = 0;

	for (size_t k = 0; k < T.n_answers; k++) {
		const struct status_answer *x = &T.answers[k];

		if (x->frag_index == frag_index && x->req == req && !x->not_exist &&
		    x->due_ms > last)
			last = x->due_ms;
	}
	return last;
}

/* Whether, at at_ms, every device of session frag_index had told fuotad what request `req`
 * asks: it answered it (it still misses fragments) or it reported its block (v2). A device that
 * has the image but could not say so (v1, or its report lost) leaves an answer to come. */
bool no_answer_left(int frag_index, unsigned req, int64_t at_ms)
{
	for (size_t d = 0; d < T.n_devs; d++) {
		const struct tdev *dev = &T.devs[d];
		bool told = dev->reported_ms > 0 && dev->reported_ms <= at_ms;

		/* Set up for the session (its decoder stays after the session's deletion). */
		if (!dev->had_session || dev->setup.frag_index != frag_index)
			continue;
		for (size_t k = 0; k < T.n_answers && !told; k++) {
			const struct status_answer *x = &T.answers[k];

			told = x->dev == d && x->frag_index == frag_index && x->req == req &&
			       !x->not_exist && x->due_ms <= at_ms;
		}
		if (!told)
			return false;
	}
	return true;
}

/* Adaptive rounds of session frag_index (TS004 version `version`, the job's own parity
 * `redundancy`), checked frame by frame against what the devices said: the uncoded fragments
 * and the first batch (engine_round_first at the engine's expected loss), then, after each
 * multicast FragSessionStatusReq (Participants = 0) and a wait of one feedback window (shorter
 * only when every device of the session answered it or reported its block), the batch
 * that the answers to that request call for (engine_round_next over exactly those answers; with
 * no answer a small step, except that a v1 session stops at its second silent request in a row;
 * after ENGINE_ROUNDS_MAX requests the rest up to the cap, but for a v1 silence). A batch may end
 * early only once every device of the session reported its block (v2): then the session stops.
 * Returns the status requests sent. */
unsigned check_rounds(int frag_index, int version, uint32_t redundancy)
{
	struct engine_cfg cfg;
	const uint32_t m = FW_SIZE / FRAG_SIZE;
	uint32_t cap, expect, sent = 0;
	uint64_t pause_ms;
	size_t work_len = engine_round_work_len(m), last_data = 0;
	double *work = malloc(work_len * sizeof(double));
	unsigned req = 0;
	int64_t status_ms = -1, prev_ms = -1;
	bool prev_silent = false;

	assert_non_null(work);
	engine_cfg_defaults(&cfg);
	cap = m * cfg.adaptive_cap_percent / 100;
	cap = cap > redundancy ? cap : redundancy;
	pause_ms = engine_round_pause_ms(cfg.block_ack_delay,
	                                 T.unicast_timeout_s ? T.unicast_timeout_s : 5);
	expect = m + engine_round_first(m, redundancy, cfg.adaptive_loss_percent, work, work_len);
	expect = expect < m + cap ? expect : m + cap;
	for (size_t i = 0; i < T.n_fcnts; i++) {
		const struct frame_info *f = &T.frame_info[i];

		if (f->kind == FRAME_OTHER || f->frag_index != frag_index)
			continue;
		if (f->kind == FRAME_STATUS) {
			struct engine_status a[MAX_ANSWERS];
			uint32_t need[MAX_ANSWERS];
			struct engine_round_next nx;
			size_t n = 0;
			uint32_t batch;

			/* Only at the end of a whole batch, and only devices missing fragments. */
			assert_int_equal(sent, expect);
			assert_false(f->participants);
			req++;
			status_ms = T.frame_ms[i];
			for (size_t k = 0; k < T.n_answers; k++) {
				const struct status_answer *x = &T.answers[k];

				if (x->frag_index != frag_index || x->req != req || x->not_exist)
					continue;
				assert_true(x->missing > 0);
				a[n].received = x->received;
				a[n].missing = x->missing;
				n++;
			}
			engine_round_next(m, sent, a, need, n, cfg.adaptive_loss_percent, work,
			                  work_len, &nx);
			batch = nx.batch;
			/* v1: silence proves nothing until a second request in a row gets none
			 * (a device still short may have lost the first one). */
			if (n == 0)
				batch = version < 2 && prev_silent
				                ? 0
				                : (m * cfg.adaptive_step_percent + 99) / 100;
			prev_silent = n == 0;
			if ((req >= ENGINE_ROUNDS_MAX && (version >= 2 || n > 0)) ||
			    sent + batch > m + cap)
				batch = m + cap - sent;
			print_message(
			        "session %d: request %u after %u frames: %zu answers, largest "
			        "need %u, loss %.3f: %u more\n",
			        frag_index, req, sent, n, nx.need, nx.loss, batch);
			expect = sent + batch;
			continue;
		}
		/* In order, one N after the other. */
		assert_int_equal(f->n, sent + 1);
		if (status_ms >= 0) {
			/* The first frame after a request waits for the answers: never goes before
			 * one of them, and before the end of the feedback window only when none was
			 * left to come. */
			assert_true(T.frame_ms[i] >= last_answer_ms(frag_index, req));
			if (T.frame_ms[i] - status_ms < (int64_t)pause_ms)
				assert_true(no_answer_left(frag_index, req, T.frame_ms[i]));
			status_ms = -1;
		} else if (prev_ms >= 0) {
			assert_true(T.frame_ms[i] - prev_ms < (int64_t)pause_ms);
		}
		prev_ms = T.frame_ms[i];
		sent++;
		last_data = i + 1;
		assert_true(sent <= expect);
	}
	if (sent < expect) {
		/* Stopped inside a batch: every v2 device of the session had reported its block. */
		assert_int_equal(version, 2);
		for (size_t k = 0; k < T.n_devs; k++)
			if (T.devs[k].setup.frag_index == frag_index)
				assert_true(T.devs[k].done_at > 0 &&
				            T.devs[k].done_at <= last_data);
	}
	assert_int_equal(req, T.mc_status[frag_index & 3]);
	free(work);
	return req;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* Registers eui under tenant with a key sealed for that row; the store's answer. */
int register_eui(const char *eui, int64_t tenant)
{
	static const uint8_t key[16] = {1};
	struct store_device sd;
	uint8_t box[16 + CBOX_OVERHEAD];
	char aad[64], *json = NULL;
	int n = snprintf(aad, sizeof(aad), "device:%lld:%s", (long long)tenant, eui), rc;

	assert_int_equal(
	        cbox_seal(master_key, key, 16, (const uint8_t *)aad, (size_t)n, box, sizeof(box)),
	        FUOTA_OK);
	memset(&sd, 0, sizeof(sd));
	snprintf(sd.dev_eui, sizeof(sd.dev_eui), "%s", eui);
	sd.application_id = APP_ID;
	sd.lorawan_version = "1.0.3";
	sd.dev_class = 'C';
	sd.region = "EU868";
	sd.key_kind = "gen_app_key";
	sd.key_box = box;
	sd.key_box_len = sizeof(box);
	rc = store_device_create(T.store, tenant, &sd, &json);
	free(json);
	return rc;
}

/* The gateway ids GET /api/v1/gateways shows tenant, comma-separated, into out. */
const char *tenant_gateways(int64_t tenant, char *out, size_t cap)
{
	struct store_page page;
	json_t *items;
	size_t pos = 0;

	out[0] = 0;
	assert_int_equal(store_gateway_list(T.store, tenant, 100, 0, &page), FUOTA_OK);
	items = json_loads(page.items, 0, NULL);
	assert_non_null(items);
	for (size_t i = 0; i < json_array_size(items); i++)
		pos += (size_t)snprintf(
		        out + pos, cap - pos, "%s%s", i ? "," : "",
		        json_string_value(json_object_get(json_array_get(items, i), "gateway_id")));
	json_decref(items);
	free(page.items);
	return out;
}

void run_to_part(struct engine *e, int64_t job, int part, const char *phase)
{
	char q[200], of[32] = "";

	if (part >= 0)
		snprintf(of, sizeof(of), " AND j.part = %d", part);
	snprintf(q, sizeof(q),
	         "SELECT count(*) FROM engine_job ej JOIN job j ON j.id = ej.job_id "
	         "WHERE j.id = %lld AND ej.phase = '%s'%s",
	         (long long)job, phase, of);
	for (unsigned i = 0; i < 4000; i++) {
		int64_t next = 0;

		deliver_answers(e);
		pump(e);
		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		if (db_count(q) == 1)
			return;
		pump(e);
		next = next > T.now_ms ? next : T.now_ms + 100;
		/* A device's answer is due before: it reaches fuotad on time. */
		T.now_ms = answer_due() > T.now_ms && answer_due() < next ? answer_due() : next;
	}
	fail_msg("job %lld never reached part %d, phase %s", (long long)job, part, phase);
}

void run_to_phase(struct engine *e, int64_t job, const char *phase)
{
	run_to_part(e, job, -1, phase);
}

void assert_all_done(int64_t job, size_t count)
{
	char st[32];
	json_t *devs = job_devices(job);

	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < count; i++) {
		assert_image(&T.devs[i]);
		assert_string_equal(dev_field(devs, T.devs[i].eui, "step"), "done");
	}
	json_decref(devs);
}

/* Runs one statement that returns no rows on a connection of its own. */
void db_exec(const char *sql)
{
	PGconn *c = PQconnectdb(T.dsn);
	PGresult *r = PQexec(c, sql);

	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
}

/* The uplinks the network server kept (T.hold_uplinks) reach fuotad now, as of application
 * app; then forgotten. */
void feed_held(struct engine *e, const char *app)
{
	for (size_t i = 0; i < T.n_held; i++) {
		snprintf(T.held[i].application_id, sizeof(T.held[i].application_id), "%s", app);
		assert_int_equal(engine_on_uplink(e, &T.held[i]), FUOTA_OK);
	}
	T.n_held = 0;
}

const char *dev_step(int64_t job, const char *eui, char *out, size_t cap)
{
	json_t *devs = job_devices(job);

	snprintf(out, cap, "%s", dev_field(devs, eui, "step"));
	json_decref(devs);
	return out;
}

/* Sets a registered device's stack (device.stack, as the REST API stores it). */
void set_stack(const char *eui, const char *stack)
{
	char sql[192];

	snprintf(sql, sizeof(sql),
	         "WITH u AS (UPDATE device SET stack = '%s' WHERE dev_eui = '%s' RETURNING 1) "
	         "SELECT count(*) FROM u",
	         stack, eui);
	assert_int_equal(db_count(sql), 1);
}

/* Gateway frames of one kind (FRAME_DATA, FRAME_STATUS) so far. */
size_t frames_of(enum frame_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < T.n_fcnts; i++)
		n += T.frame_info[i].kind == kind;
	return n;
}

/* The status answers device i gave so far. */
unsigned answers_of(size_t i)
{
	unsigned n = 0;

	for (size_t k = 0; k < T.n_answers; k++)
		n += T.answers[k].dev == i;
	return n;
}

/* The parity rows of the first batch, as the engine sizes it (default settings). */
uint32_t first_batch(uint32_t redundancy)
{
	struct engine_cfg cfg;
	size_t work_len = engine_round_work_len(FW_SIZE / FRAG_SIZE);
	double *work = malloc(work_len * sizeof(double));
	uint32_t first;

	assert_non_null(work);
	engine_cfg_defaults(&cfg);
	first = engine_round_first(FW_SIZE / FRAG_SIZE, redundancy, cfg.adaptive_loss_percent, work,
	                           work_len);
	free(work);
	return first;
}

/* A fresh database with three v2 devices of one session, two of them losing frames (one of them
 * parity rows of the first batch too), in a job of parity 2 that an adaptive engine (*e) runs:
 * the frames sent follow the rounds the devices' answers call for. Returns the job. */
int64_t rounds_job(const char *eui_prefix, struct engine **e)
{
	char eui[17];

	fresh_db();
	for (int i = 0; i < 3; i++) {
		snprintf(eui, sizeof(eui), "%s%02d", eui_prefix, i);
		add_dev(eui, (uint8_t)(0x41 + i), 2);
	}
	/* Loses N = 4..9 (6 of the 20 fragments) and N = 21, 22 (parity of the first batch). */
	T.devs[0].m.cfg.lose_frags = (0x3Fu << 3) | (3u << 20);
	T.devs[1].m.cfg.lose_frags = (1u << 1) | (1u << 11); /* N = 2, 12 */
	*e = new_engine_ex("itest-a", true, true);
	return add_job(0, 3, 2);
}

/* Runs job (rounds_job, 3 devices) until its first status request is on the air. */
void run_to_first_request(struct engine *e, int64_t job)
{
	size_t upto = FW_SIZE / FRAG_SIZE + first_batch(2) + 1;

	run(e, job, 4000, upto);
	assert_int_equal(T.n_fcnts, upto);
	assert_int_equal(T.frame_info[upto - 1].kind, FRAME_STATUS);
}

/* Runs job (rounds_job) to its first status request and pauses or cancels it (action) during the
 * wait: a minute passes, the answers come in, and nothing goes on the air. */
void action_in_wait(struct engine *e, int64_t job, const char *action)
{
	size_t before;

	run_to_first_request(e, job);
	job_action(job, action);
	before = T.n_fcnts;
	idle(e, 60);
	assert_int_equal(T.n_fcnts, before);
}

/* Resumes the paused job (rounds_job) and runs it: it completes, every device has the image,
 * and the batches after the resume are those the answers call for. */
void resume_to_end(struct engine *e, int64_t job)
{
	char st[32];

	assert_string_equal(job_state(job, st, sizeof(st)), "paused");
	job_action(job, "resume");
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 3; i++)
		assert_image(&T.devs[i]);
	assert_true(check_rounds(T.devs[0].setup.frag_index, 2, 2) >= 1);
	assert_fcnts_increase();
}

/* rounds_job with two devices missing fragments after the first batch (device 1's answer to the
 * status request comes 4 s after device 0's) and one that reported its block: runs to the first
 * frame after the request; *wait_ms: from the request to that frame, *answers_ms: from the
 * request to the last answer. lost: device 1's answer is lost on the air. */
void wait_after_request(const char *eui_prefix, bool lost, int64_t *wait_ms, int64_t *answers_ms)
{
	struct engine *e;
	int64_t job, req_ms;
	size_t upto;
	char st[32];

	job = rounds_job(eui_prefix, &e);
	T.devs[1].m.cfg.lose_frags = 0x1Fu << 2; /* N = 3..7 */
	T.devs[1].lost_answers = lost ? 1 : 0;
	run_to_first_request(e, job);
	upto = T.n_fcnts;
	req_ms = T.frame_ms[upto - 1];
	assert_true(T.devs[2].reported_ms > 0 && T.devs[2].reported_ms <= req_ms);
	assert_int_equal(dev_dec_state(&T.devs[0]), FRAG_DEC_ONGOING);
	assert_int_equal(dev_dec_state(&T.devs[1]), FRAG_DEC_ONGOING);
	run(e, job, 4000, upto + 1);
	assert_int_equal(T.frame_info[upto].kind, FRAME_DATA);
	*wait_ms = T.frame_ms[upto] - req_ms;
	*answers_ms = last_answer_ms(T.devs[0].setup.frag_index, 1) - req_ms;
	assert_int_equal(T.n_answers, lost ? 1 : 2);
	run(e, job, 4000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 3; i++)
		assert_image(&T.devs[i]);
	assert_true(check_rounds(T.devs[0].setup.frag_index, 2, 2) >= 1);
	assert_fcnts_increase();
	engine_destroy(e);
}

/* The session a mixed job's devices were set up on: the v1 devices share one FragIndex, the v2
 * devices another. Returns the v1 index. */
int assert_two_sessions(size_t first, size_t count)
{
	int idx[3] = {-1, -1, -1};

	for (size_t i = first; i < first + count; i++) {
		struct tdev *d = &T.devs[i];
		int v = d->ts004 >= 2 ? 2 : 1;

		if (idx[v] < 0)
			idx[v] = d->setup.frag_index;
		assert_int_equal(d->setup.frag_index, idx[v]);
	}
	assert_true(idx[1] >= 0 && idx[2] >= 0 && idx[1] != idx[2]);
	/* The first version set up gets FragIndex 0, the other 1. */
	assert_int_equal(idx[1] + idx[2], 1);
	return idx[1];
}

unsigned bits_set(uint32_t v)
{
	unsigned n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

long long session_frames(int frag_index)
{
	char sql[128];

	snprintf(sql, sizeof(sql),
	         "SELECT frames_sent FROM engine_session WHERE frag_index = %d AND done",
	         frag_index);
	return db_count(sql);
}

int itest_engine_main(int argc, char **argv, const char *name, const struct CMUnitTest *tests,
                      size_t n)
{
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: %s FUOTAD SERVICES_ENV [WORKDIR]\n", argv[0]);
		return 2;
	}
	argv_bin = argv[1];
	argv_env = argv[2];
	argv_dir = argc > 3 ? argv[3] : "/tmp";
	if (itest_env_load(argv_env, &T.env) != 0) {
		fprintf(stderr, "%s: cannot read %s\n", name, argv_env);
		return 1;
	}
	/* ITEST_ONLY=pattern (* and ? match) runs the tests of that name only. */
	if (getenv("ITEST_ONLY"))
		cmocka_set_test_filter(getenv("ITEST_ONLY"));
	rc = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
	store_close(T.store);
	msgs_clear();
	free(T.msgs);
	json_decref(T.last_progress);
	devs_free();
	return rc;
}
