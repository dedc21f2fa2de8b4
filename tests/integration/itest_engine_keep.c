/* Reuse of a multicast group across jobs (issue 14, ChirpStack issue 1030), the job engine
 * against a real PostgreSQL with fuota-sim's device model (which keeps its groups across
 * sessions and refuses a multicast FCnt at or below the last one it took):
 *
 *   keep and reuse      a job with keep_multicast_group sends no McGroupDeleteReq to the
 *                       devices that verified; the next job reuses the group: no
 *                       McGroupSetupReq to them, one to the device that lacks it (minMcFCount
 *                       above the first job's frames), its FCnts continue above the first's,
 *                       its plan says the frames saved, every device verifies
 *   undefined group     a device that lost the group answers the session request with
 *                       McGroupUndefined: it is set up in full and verifies
 *   expired group       a device that kept the group longer ago than [engine]
 *                       keep_group_max_age_s (30 days) is set up again, unasked
 *   failed device       a device that fails in a job on a kept group no longer holds it
 *   busy group          a kept group is one job's at a time: another job is not started on it
 *   default             without the option every job sets up its group and deletes it
 *   deletes wait        a cancelled job's deletes wait for room in a full MQTT outbox: every
 *                       device gets both, none is lost (they went out in one burst, and at
 *                       100,000 devices 164,464 publishes were refused)
 *   deletes survive     the engine dies with most of a cancelled job's deletes still queued;
 *                       the next one sends them: no device keeps its session and group
 *   deletes in outbox   the engine dies with a cancelled job's deletes accepted by the MQTT
 *                       client but not sent: their rows stay set, the next engine sends them
 *   runner owes them    fuotad's MQTT runner clears those rows only once the broker
 *                       acknowledged them (a client that holds every message until the test
 *                       acknowledges it)
 *   busy outbox         the rows of the deletes acknowledged are cleared while later messages
 *                       are still in flight (the outbox never empty), the others' are not
 *   clean stop          a stop waits up to 3 s for the deletes to be acknowledged and clears
 *                       the rows of those that were
 *
 * The helpers are in itest_engine_lib.c.
 * usage: itest_engine_keep FUOTAD SERVICES_ENV WORKDIR */
#include <pthread.h>

#include "fuota/engine_mqtt.h"
#include "fuota/mc_reuse.h"
#include "fuota/store_engine.h"
#include "itest_engine_lib.h"

static int64_t keep_job(size_t first, size_t count)
{
	int64_t job = add_job(first, count, 3);
	char sql[128];

	snprintf(sql, sizeof(sql), "UPDATE job SET keep_multicast_group = true WHERE id = %lld",
	         (long long)job);
	db_exec(sql);
	return job;
}

/* Devices owed their deletes (job_device.deletes_pending). */
static long long owed(void)
{
	return db_count("SELECT count(*) FROM job_device WHERE deletes_pending");
}

static long long job_fcnt(const char *agg, int64_t job)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT %s(fcnt) FROM engine_tx WHERE job_id = %lld", agg,
	         (long long)job);
	return db_count(sql);
}

/* Job 1 (devices 0 and 1) keeps its group; job 2 (devices 0, 1, 2) reuses it. */
static void test_keep_and_reuse(void **state)
{
	struct engine *e;
	int64_t job1, job2;
	char st[32], *json;
	json_t *plan, *root;

	(void)state;
	fresh_db();
	add_dev("0000000000000a01", 0x31, 2);
	add_dev("0000000000000a02", 0x32, 1);
	add_dev("0000000000000a03", 0x33, 2);
	e = new_engine("itest-a", false);
	job1 = keep_job(0, 2);
	json = job_get(job1);
	plan = json_loads(json, 0, NULL);
	free(json);
	assert_true(json_is_true(json_object_get(plan, "keep_multicast_group")));
	json_decref(plan);
	run(e, job1, 2000, 0);
	assert_string_equal(job_state(job1, st, sizeof(st)), "succeeded");
	for (size_t i = 0; i < 2; i++) {
		assert_image(&T.devs[i]);
		assert_int_equal(T.devs[i].m.rep.counts.mc_setup, 1);
		assert_int_equal(T.devs[i].m.rep.counts.mc_delete, 0);
		assert_true(T.devs[i].m.groups[0].defined);
	}
	assert_int_equal(db_count("SELECT count(*) FROM engine_device WHERE mc_group_id IS NOT "
	                          "NULL"),
	                 2);

	job2 = keep_job(0, 3);
	run(e, job2, 2000, 0);
	assert_string_equal(job_state(job2, st, sizeof(st)), "succeeded");
	assert_all_done(job2, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_image(&T.devs[i]);
		/* the holders got no second McGroupSetupReq; device 2 its first */
		assert_int_equal(T.devs[i].m.rep.counts.mc_setup, 1);
		assert_int_equal(T.devs[i].m.rep.counts.mc_delete, 0); /* job 2 keeps it too */
		assert_int_equal(T.devs[i].m.rep.counts.malformed, 0);
	}
	/* The holders skipped the setup, their TS005 version recorded all the same. */
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE mc_reused"), 2);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE mc_version IS NULL"), 0);
	/* One group for both jobs, its counter going on above job 1's frames. */
	assert_int_equal(db_count("SELECT count(*) FROM multicast_group"), 1);
	assert_true(job_fcnt("min", job2) > job_fcnt("max", job1));
	/* Device 2 was set up with minMcFCount above job 1's frames, the holders kept theirs. */
	assert_true(T.devs[2].m.groups[0].min_fcnt > (uint32_t)job_fcnt("max", job1));
	assert_int_equal(T.devs[0].m.groups[0].min_fcnt, 0);
	assert_true(T.devs[0].m.groups[0].last_fcnt == (uint32_t)job_fcnt("max", job2));
	json = job_get(job2);
	root = json_loads(json, 0, NULL);
	free(json);
	plan = json_object_get(root, "plan");
	assert_non_null(plan);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(plan, "multicast_reuse"), "devices_holding")),
	                 2);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(plan, "multicast_reuse"), "frames_saved")),
	                 2);
	json_decref(root);
	assert_int_equal(db_count("SELECT count(*) FROM engine_device WHERE mc_group_id IS NOT "
	                          "NULL"),
	                 3);
	engine_destroy(e);
}

/* A fresh world of two v2 devices (DevEUIs prefix01, prefix02) that hold the group of a first
 * job with keep_multicast_group, run by *e. */
static void kept_pair(const char *prefix, uint8_t key_byte, struct engine **e)
{
	char eui[2][17], st[32];
	int64_t job;

	fresh_db();
	for (int i = 0; i < 2; i++) {
		snprintf(eui[i], sizeof(eui[i]), "%s%02d", prefix, i + 1);
		add_dev(eui[i], (uint8_t)(key_byte + i), 2);
	}
	*e = new_engine("itest-a", false);
	job = keep_job(0, 2);
	run(*e, job, 2000, 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
}

/* Device 1 lost the group it was recorded as holding (a reboot): McGroupUndefined, then a full
 * setup in job 2. */
static void test_undefined_group_falls_back(void **state)
{
	struct engine *e;
	int64_t job2;
	char st[32];
	json_t *devs;

	(void)state;
	kept_pair("0000000000000b", 0x41, &e);
	memset(&T.devs[1].m.groups[0], 0, sizeof(T.devs[1].m.groups[0]));
	job2 = keep_job(0, 2);
	run(e, job2, 2000, 0);
	assert_string_equal(job_state(job2, st, sizeof(st)), "succeeded");
	assert_all_done(job2, 2);
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	assert_int_equal(T.devs[0].m.rep.counts.mc_setup, 1);
	assert_int_equal(T.devs[1].m.rep.counts.mc_setup, 2);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE mc_fell_back"), 1);
	devs = job_devices(job2);
	assert_string_equal(dev_field(devs, T.devs[1].eui, "step"), "done");
	json_decref(devs);
	/* job 2 keeps too: both hold the group again, no delete sent */
	assert_int_equal(T.devs[0].m.rep.counts.mc_delete, 0);
	assert_int_equal(T.devs[1].m.rep.counts.mc_delete, 0);
	assert_int_equal(db_count("SELECT count(*) FROM engine_device WHERE mc_group_id IS NOT "
	                          "NULL"),
	                 2);
	engine_destroy(e);
}

/* Device 1 kept the group 31 days ago (the default maximum age is 30): job 2 does not trust the
 * record and sends it McGroupSetupReq (the same group: its counter goes on), without waiting
 * for a McGroupUndefined; device 0, kept now, skips it. Both then hold it, kept again now. */
static void test_expired_group_set_up_again(void **state)
{
	struct engine *e;
	int64_t job2;
	char st[32], sql[192];

	(void)state;
	kept_pair("0000000000000f", 0x81, &e);
	snprintf(sql, sizeof(sql),
	         "UPDATE engine_device SET mc_kept_ms = mc_kept_ms - 31::bigint * 86400000 WHERE "
	         "dev_eui = '%s'",
	         T.devs[1].eui);
	db_exec(sql);
	job2 = keep_job(0, 2);
	run(e, job2, 2000, 0);
	assert_string_equal(job_state(job2, st, sizeof(st)), "succeeded");
	assert_all_done(job2, 2);
	assert_image(&T.devs[1]);
	assert_int_equal(T.devs[0].m.rep.counts.mc_setup, 1);
	assert_int_equal(T.devs[1].m.rep.counts.mc_setup, 2);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE mc_reused"), 1);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE mc_fell_back"), 0);
	assert_int_equal(db_count("SELECT count(*) FROM multicast_group"), 1);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM engine_device WHERE mc_group_id IS NOT NULL AND "
	         "mc_kept_ms > %lld",
	         (long long)mc_reuse_kept_after_ms(T.now_ms, 0));
	assert_int_equal(db_count(sql), 2);
	engine_destroy(e);
}

/* A device that fails in a job on a kept group is told to delete it and is no longer recorded
 * as holding it; the one that verified keeps it. */
static void test_failed_device_forgets(void **state)
{
	struct engine *e;
	int64_t job2;
	char st[32];

	(void)state;
	kept_pair("0000000000000e", 0x71, &e);
	T.devs[1].m.cfg.lose_frags = UINT32_MAX; /* hears none of job 2's frames */
	job2 = keep_job(0, 2);
	run(e, job2, 2000, 0);
	assert_string_equal(job_state(job2, st, sizeof(st)), "succeeded");
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE mc_reused"), 2);
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE step = 'failed'"), 1);
	assert_int_equal(T.devs[1].m.rep.counts.mc_delete, 1);
	assert_false(T.devs[1].m.groups[0].defined);
	assert_true(T.devs[0].m.groups[0].defined);
	/* The failed device's deletes were owed from the cleanup phase on, and are paid. */
	assert_int_equal(owed(), 0);
	assert_int_equal(db_count("SELECT count(*) FROM engine_device WHERE mc_group_id IS NOT "
	                          "NULL AND dev_eui = '0000000000000e01'"),
	                 1);
	assert_int_equal(db_count("SELECT count(*) FROM engine_device WHERE mc_group_id IS NOT "
	                          "NULL"),
	                 1);
	engine_destroy(e);
}

/* A kept group is one job's at a time: while a job runs on it, the store calls it busy and
 * refuses to start another job on it (that job gets a fresh group). */
static void test_busy_group(void **state)
{
	struct engine *e;
	int64_t job1, job2, job3;
	struct seng_mc_held *devs = NULL;
	struct mc_reuse_group *g = NULL;
	size_t n_devs = 0, n_g = 0;
	struct seng_start st;
	const char skip[1][SENG_EUI_LEN] = {"0000000000000d01"};
	char state_[32];

	(void)state;
	fresh_db();
	add_dev("0000000000000d01", 0x61, 2);
	e = new_engine("itest-a", false);
	job1 = keep_job(0, 1);
	run(e, job1, 2000, 0);
	assert_string_equal(job_state(job1, state_, sizeof(state_)), "succeeded");
	engine_destroy(e);
	job2 = add_job(0, 1, 3);
	job3 = add_job(0, 1, 3);
	assert_int_equal(seng_mc_held(T.store, job2, mc_reuse_kept_after_ms(T.now_ms, 0), &devs,
	                              &n_devs, &g, &n_g),
	                 FUOTA_OK);
	assert_int_equal(n_devs, 1);
	assert_int_equal(n_g, 1);
	assert_false(g[0].busy);
	assert_true(g[0].key_ok);
	assert_int_equal(mc_reuse_pick(g, n_g), devs[0].group_id);
	memset(&st, 0, sizeof(st));
	st.job_id = job2;
	st.tenant = 1;
	st.frag_size = FRAG_SIZE;
	st.nb_frag = 20;
	st.redundancy = st.redundancy_cap = 3;
	st.session_timeout = 7;
	st.reuse_group_id = g[0].id;
	st.skip = skip;
	st.n_skip = 1;
	assert_int_equal(seng_job_start(T.store, &st), FUOTA_OK);
	free(devs);
	free(g);
	/* job 2 runs on it: busy for job 3, not picked, and refused if asked */
	assert_int_equal(seng_mc_held(T.store, job3, mc_reuse_kept_after_ms(T.now_ms, 0), &devs,
	                              &n_devs, &g, &n_g),
	                 FUOTA_OK);
	assert_int_equal(n_g, 1);
	assert_true(g[0].busy);
	assert_int_equal(mc_reuse_pick(g, n_g), 0);
	st.job_id = job3;
	assert_int_equal(seng_job_start(T.store, &st), FUOTA_ERR_CONFLICT);
	assert_string_equal(job_state(job3, state_, sizeof(state_)), "pending");
	assert_int_equal(db_count("SELECT count(*) FROM job_device WHERE mc_reused"), 1);
	free(devs);
	free(g);
}

/* Without the option: a group per job, set up and deleted each time. */
static void test_default_unchanged(void **state)
{
	struct engine *e;
	int64_t job1, job2;
	char st[32];

	(void)state;
	fresh_db();
	add_dev("0000000000000c01", 0x51, 2);
	e = new_engine("itest-a", false);
	job1 = add_job(0, 1, 3);
	run(e, job1, 2000, 0);
	job2 = add_job(0, 1, 3);
	run(e, job2, 2000, 0);
	assert_string_equal(job_state(job2, st, sizeof(st)), "succeeded");
	assert_int_equal(T.devs[0].m.rep.counts.mc_setup, 2);
	assert_int_equal(T.devs[0].m.rep.counts.mc_delete, 2);
	assert_int_equal(db_count("SELECT count(*) FROM multicast_group"), 2);
	assert_int_equal(db_count("SELECT count(*) FROM engine_device WHERE mc_group_id IS NOT "
	                          "NULL"),
	                 0);
	engine_destroy(e);
}

/* Ticks e `ticks` times, 300 ms apart, the devices answering. */
static void ticks(struct engine *e, int ticks)
{
	for (int i = 0; i < ticks; i++) {
		int64_t next = 0;

		assert_int_equal(engine_tick(e, T.now_ms, &next), FUOTA_OK);
		pump(e);
		T.now_ms += 300;
	}
}

/* A fresh database with n v1 devices (DevEUIs eui_base, eui_base + 1 ...), a job of theirs run
 * by a new engine (*e, "itest-a", duty cycle on) until the devices hold its group, then
 * cancelled through the API. Returns the job. */
static int64_t cancelled_job(size_t n, size_t eui_base, struct engine **e)
{
	char eui[17];
	int64_t job;

	fresh_db();
	for (size_t i = 0; i < n; i++) {
		snprintf(eui, sizeof(eui), "%016zx", eui_base + i);
		add_dev(eui, (uint8_t)(0x40 + i), 1);
	}
	*e = new_engine("itest-a", true);
	job = add_job(0, n, 2);
	run(*e, job, 4000, 3);
	job_action(job, "cancel");
	return job;
}

/* Ticks a three times without pumping: the deletes are accepted by its MQTT client, never
 * sent. */
static void ticks_unpumped(struct engine *a)
{
	int64_t next = 0;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(engine_tick(a, T.now_ms, &next), FUOTA_OK);
		T.now_ms += 300;
	}
}

/* A cancelled job's FragSessionDeleteReq and McGroupDeleteReq to 40 devices, through an outbox
 * that holds 16 messages: the engine sends what fits and the rest at its next ticks. */
static void test_deletes_wait_for_room(void **state)
{
	const size_t n = 40;
	struct engine *e;
	int64_t job;
	char st[32];

	(void)state;
	job = cancelled_job(n, 0x3000, &e);
	for (size_t i = 0; i < n; i++)
		assert_true(T.devs[i].m.groups[0].defined);
	T.outbox_cap = 16;
	ticks(e, 40);
	assert_string_equal(job_state(job, st, sizeof(st)), "cancelled");
	assert_true(T.outbox_refused > 0); /* the outbox was full at times */
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(T.devs[i].m.rep.counts.frag_delete, 1);
		assert_int_equal(T.devs[i].m.rep.counts.mc_delete, 1);
		assert_false(T.devs[i].m.groups[0].defined);
	}
	engine_destroy(e);
}

static void test_deletes_survive_a_crash(void **state)
{
	const size_t n = 40;
	struct engine *a, *b;
	int64_t job;
	char st[32];
	size_t untouched = 0;

	(void)state;
	job = cancelled_job(n, 0x3100, &a);
	T.outbox_cap = 16;
	ticks(a, 2);
	assert_string_equal(job_state(job, st, sizeof(st)), "cancelled");
	for (size_t i = 0; i < n; i++)
		if (T.devs[i].m.rep.counts.mc_delete == 0)
			untouched++;
	assert_true(untouched > n / 2); /* most still in a's queue */
	assert_int_equal(owed(), (long long)untouched);
	/* a dies there (never ticked again, its queue lost); b starts. */
	b = new_engine("itest-b", true);
	ticks(b, 20);
	for (size_t i = 0; i < n; i++) {
		assert_true(T.devs[i].m.rep.counts.frag_delete >= 1);
		assert_true(T.devs[i].m.rep.counts.mc_delete >= 1);
		assert_false(T.devs[i].m.groups[0].defined);
	}
	assert_int_equal(owed(), 0);
	engine_destroy(b);
	engine_destroy(a);
}

/* A cancelled job's deletes the MQTT client accepted but had not sent yet (the broker slow: the
 * outbox not pumped) when fuotad was killed: their rows are still set, and the next engine
 * sends them. */
static void test_deletes_in_the_outbox_survive_a_crash(void **state)
{
	const size_t n = 20;
	struct engine *a, *b;
	int64_t job;
	char st[32];
	size_t accepted;

	(void)state;
	job = cancelled_job(n, 0x3200, &a);
	accepted = T.n_msgs;
	ticks_unpumped(a);
	assert_string_equal(job_state(job, st, sizeof(st)), "cancelled");
	assert_true(T.n_msgs - accepted >= 2 * n); /* every device's two deletes in the outbox */
	assert_int_equal(owed(), (long long)n);
	/* a is killed with them in its outbox: lost. b starts. */
	T.next_msg = T.n_msgs;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(T.devs[i].m.rep.counts.mc_delete, 0);
	b = new_engine("itest-b", true);
	ticks(b, 5);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(T.devs[i].m.rep.counts.frag_delete, 1);
		assert_int_equal(T.devs[i].m.rep.counts.mc_delete, 1);
		assert_false(T.devs[i].m.groups[0].defined);
	}
	assert_int_equal(owed(), 0);
	engine_destroy(b);
	engine_destroy(a);
}

#define HELD_MAX 64

/* An MQTT client whose outbox keeps every message until the test says the broker acknowledged
 * it: messages numbered 1, 2, 3 ..., those up to `acked` acknowledged. */
struct held_client {
	struct mqtt_client base;
	pthread_mutex_t mu;
	uint64_t seq, acked;
	size_t deletes;                /* device downlinks published */
	uint64_t delete_seq[HELD_MAX]; /* the number of each */
	char delete_eui[HELD_MAX][17]; /* and its device */
	bool drain;                    /* acknowledged as soon as published */
};

static int held_connect(struct mqtt_client *c, const char *uri, const struct mqtt_options *o)
{
	(void)c;
	(void)uri;
	(void)o;
	return FUOTA_OK;
}

static int held_subscribe(struct mqtt_client *c, const char *filter, int qos, mqtt_msg_cb cb,
                          void *ctx)
{
	(void)c;
	(void)filter;
	(void)qos;
	(void)cb;
	(void)ctx;
	return FUOTA_OK;
}

static int held_publish(struct mqtt_client *base, const char *topic, const void *payload,
                        size_t len, int qos, uint64_t *seq)
{
	struct held_client *c = (struct held_client *)base;
	char eui[17];

	(void)payload;
	(void)len;
	(void)qos;
	pthread_mutex_lock(&c->mu);
	c->seq++;
	if (sscanf(topic, "application/%*[^/]/device/%16[^/]/command/down", eui) == 1) {
		if (c->deletes < HELD_MAX) {
			c->delete_seq[c->deletes] = c->seq;
			memcpy(c->delete_eui[c->deletes], eui, sizeof(eui));
		}
		c->deletes++;
	}
	if (c->drain)
		c->acked = c->seq;
	if (seq)
		*seq = c->seq;
	pthread_mutex_unlock(&c->mu);
	return FUOTA_OK;
}

static void held_status(struct mqtt_client *base, struct mqtt_status *st)
{
	struct held_client *c = (struct held_client *)base;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&c->mu);
	st->connected = st->subscribed = true;
	st->connects = 1;
	st->outbox = (size_t)(c->seq - c->acked);
	st->last_seq = c->seq;
	st->acked_seq = c->acked;
	pthread_mutex_unlock(&c->mu);
}

static int held_disconnect(struct mqtt_client *c, uint32_t timeout_ms)
{
	(void)c;
	(void)timeout_ms;
	return FUOTA_OK;
}

static void held_destroy(struct mqtt_client *c)
{
	(void)c;
}

static const struct mqtt_ops held_ops = {held_connect, held_subscribe,  held_publish,
                                         held_status,  held_disconnect, held_destroy};

static size_t held_deletes(struct held_client *c)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->deletes;
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* The broker acknowledges every message up to the number of device downlink k (0-based). */
static void held_ack_through(struct held_client *c, size_t k)
{
	pthread_mutex_lock(&c->mu);
	c->acked = c->delete_seq[k];
	pthread_mutex_unlock(&c->mu);
}

/* Devices whose DevEUI got one of device downlinks [from, to) and still owe deletes. */
static long long owed_of(struct held_client *c, size_t from, size_t to)
{
	long long n = 0;
	char sql[160];

	for (size_t k = from; k < to; k++) {
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM job_device WHERE deletes_pending AND dev_eui = '%s'",
		         c->delete_eui[k]);
		n += db_count(sql);
	}
	return n;
}

/* n devices owe their deletes: a cancelled job's engine was killed with them in its outbox.
 * Then fuotad's MQTT runner starts on hc and publishes all 2n of them. */
static struct engine_runner *runner_owing(size_t n, size_t eui_base, struct held_client *hc)
{
	struct engine_cfg ecfg;
	struct engine_runner *r = NULL;
	struct engine *a;

	assert_true(2 * n <= HELD_MAX);
	cancelled_job(n, eui_base, &a);
	ticks_unpumped(a); /* accepted, never pumped: a is killed with them */
	engine_destroy(a);
	T.next_msg = T.n_msgs;
	assert_int_equal(owed(), (long long)n);

	engine_cfg_defaults(&ecfg);
	snprintf(ecfg.instance_id, sizeof(ecfg.instance_id), "itest-runner");
	assert_int_equal(engine_runner_start_with(T.store, &hc->base, &ecfg, "itest-keep", &r),
	                 FUOTA_OK);
	for (int i = 0; i < 100 && held_deletes(hc) < 2 * n; i++)
		usleep(50 * 1000);
	assert_int_equal(held_deletes(hc), 2 * n);
	return r;
}

/* fuotad's MQTT runner restarts with a cancelled job's deletes owed, and its client holds them
 * in the outbox (the broker slow): the rows stay set while they wait there, and are cleared
 * once the broker acknowledged them. */
static void test_runner_owes_until_acknowledged(void **state)
{
	const size_t n = 10;
	struct held_client hc = {.base = {&held_ops}, .mu = PTHREAD_MUTEX_INITIALIZER};
	struct engine_runner *r;
	int i;

	(void)state;
	r = runner_owing(n, 0x3300, &hc);
	usleep(1500 * 1000); /* the runner looks at its outbox at least once a second */
	assert_int_equal(owed(), (long long)n);
	pthread_mutex_lock(&hc.mu);
	hc.acked = hc.seq; /* the broker takes them */
	hc.drain = true;
	pthread_mutex_unlock(&hc.mu);
	for (i = 0; i < 100; i++) {
		if (owed() == 0)
			break;
		usleep(50 * 1000);
	}
	assert_int_equal(owed(), 0);
	engine_runner_stop(r);
	assert_int_equal(held_deletes(&hc), 2 * n); /* each once */
}

/* Under steady traffic the outbox never reads empty: the broker acknowledges the first half of
 * the devices' deletes while the rest stay in flight. The first half's rows are cleared all the
 * same, the others' are not. */
static void test_runner_clears_the_acknowledged_in_a_busy_outbox(void **state)
{
	const size_t n = 10, half = n / 2;
	struct held_client hc = {.base = {&held_ops}, .mu = PTHREAD_MUTEX_INITIALIZER};
	struct engine_runner *r;
	struct mqtt_status st;

	(void)state;
	r = runner_owing(n, 0x3400, &hc);
	held_ack_through(&hc, 2 * half - 1); /* device half - 1's McGroupDeleteReq */
	assert_true(db_wait("SELECT count(*) FROM job_device WHERE deletes_pending",
	                    (long long)(n - half), 5000));
	usleep(1500 * 1000); /* a few more looks at the outbox: nothing more is cleared */
	held_status(&hc.base, &st);
	assert_true(st.outbox >= 2 * (n - half)); /* never empty */
	assert_int_equal(owed_of(&hc, 0, 2 * half), 0);
	assert_int_equal(owed_of(&hc, 2 * half, 2 * n), (long long)(2 * (n - half)));
	assert_int_equal(owed(), (long long)(n - half));
	engine_runner_stop(r);
}

struct late_ack {
	struct held_client *hc;
	size_t through; /* device downlink acknowledged up to */
};

/* The broker acknowledges 300 ms from now: while the runner stops. */
static void *ack_later(void *arg)
{
	struct late_ack *l = arg;

	usleep(300 * 1000);
	held_ack_through(l->hc, l->through);
	return NULL;
}

/* A clean stop (SIGTERM) while the broker has not yet acknowledged the deletes: the runner
 * waits a little (at most 3 s) before the engine goes, and the rows of the deletes acknowledged
 * meanwhile are no longer owed. The last device's, never acknowledged, still is. */
static void test_clean_stop_leaves_nothing_acknowledged_owed(void **state)
{
	const size_t n = 10;
	struct held_client hc = {.base = {&held_ops}, .mu = PTHREAD_MUTEX_INITIALIZER};
	struct late_ack late = {&hc, 2 * n - 3}; /* all but the last device's two */
	struct engine_runner *r;
	pthread_t th;
	int64_t t0, took;

	(void)state;
	r = runner_owing(n, 0x3500, &hc);
	assert_int_equal(owed(), (long long)n);
	assert_int_equal(pthread_create(&th, NULL, ack_later, &late), 0);
	t0 = realtime_ms();
	engine_runner_stop(r);
	took = realtime_ms() - t0;
	pthread_join(th, NULL);
	assert_int_equal(owed_of(&hc, 0, 2 * n - 2), 0);
	assert_int_equal(owed_of(&hc, 2 * n - 2, 2 * n), 2); /* its two downlinks, one row */
	assert_int_equal(owed(), 1);
	assert_true(took >= 2900 && took < 8000); /* waited for it: 3 s, and slack for ASan */
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_keep_and_reuse),
	        cmocka_unit_test(test_undefined_group_falls_back),
	        cmocka_unit_test(test_expired_group_set_up_again),
	        cmocka_unit_test(test_failed_device_forgets),
	        cmocka_unit_test(test_busy_group),
	        cmocka_unit_test(test_default_unchanged),
	        cmocka_unit_test(test_deletes_wait_for_room),
	        cmocka_unit_test(test_deletes_survive_a_crash),
	        cmocka_unit_test(test_deletes_in_the_outbox_survive_a_crash),
	        cmocka_unit_test(test_runner_owes_until_acknowledged),
	        cmocka_unit_test(test_runner_clears_the_acknowledged_in_a_busy_outbox),
	        cmocka_unit_test(test_clean_stop_leaves_nothing_acknowledged_owed),
	};

	return itest_engine_main(argc, argv, "itest_engine_keep", tests,
	                         sizeof(tests) / sizeof(tests[0]));
}
