/* One job across regions (issue 14) run by the job engine against a real PostgreSQL, with the
 * fake clock and sink and fuota-sim's device model (itest_engine_lib.h): a job of EU868 and US915
 * devices is a parent and one child job per region, each its own multicast session on its own
 * frequency (869.525 MHz, 923.3 MHz) and topic prefix (eu868/, us915/).
 *
 *   both regions complete     every device of both regions rebuilds the image; both children
 *                             and the parent succeed; the parent went running, then succeeded
 *                             (its events in the log and on MQTT)
 *   one region fails          the US915 device is out of range: its region fails, the EU868
 *                             devices complete, the parent is failed
 *   cancel the parent         every region stops and ends cancelled, the parent too
 *
 * usage: itest_engine_regions FUOTAD SERVICES_ENV WORKDIR */
#include "fuota/store_live.h"
#include "itest_engine_lib.h"

/* A job's fields as add_job_ex gives them, in region at dr and freq_hz; devices first..+count. */
static void region_params(struct job_params *p, const char *region, unsigned dr, uint64_t freq_hz,
                          size_t first, size_t count)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "regions test");
	snprintf(p->region, sizeof(p->region), "%s", region);
	p->firmware_id = T.firmware_id;
	p->data_rate = dr;
	p->frequency_hz = freq_hz;
	p->fragment_size = FRAG_SIZE;
	p->redundancy_frames = 4;
	p->redundancy_percent = -1;
	p->unicast_timeout_s = 5;
	p->unicast_attempts = 3;
	p->multicast_class = 'C';
	p->ping_slot_periodicity = -1;
	p->has_tx_power = true;
	p->tx_power_dbm = T.tx_power_dbm; /* both regions allow it on their frequency */
	p->n_devices = count;
	p->dev_euis = calloc(count, PLAN_DEVEUI_LEN + 1);
	assert_non_null(p->dev_euis);
	for (size_t i = 0; i < count; i++)
		snprintf(p->dev_euis[i], PLAN_DEVEUI_LEN + 1, "%s", T.devs[first + i].eui);
}

/* The parent of an EU868 child (devices 0..n_eu-1, DR5) and a US915 child (the n_us next,
 * DR13: SF7 as the EU868 one). */
static int64_t add_regions_job(size_t n_eu, size_t n_us)
{
	struct job_params eu, us, parent;
	struct store_job_create kids[2], pj;
	char bad[17], why[64], *json = NULL;
	int64_t id;

	region_params(&eu, "EU868", 5, 869525000, 0, n_eu);
	region_params(&us, "US915", 13, 923300000, n_eu, n_us);
	region_params(&parent, "", 0, 0, 0, 0);
	memset(kids, 0, sizeof(kids));
	memset(&pj, 0, sizeof(pj));
	kids[0] = (struct store_job_create){&eu, "{}", T.firmware_id, 0, NULL};
	kids[1] = (struct store_job_create){&us, "{}", T.firmware_id, 0, NULL};
	pj = (struct store_job_create){&parent, "{}", T.firmware_id, 0,
	                               "[{\"region\":\"EU868\"},{\"region\":\"US915\"}]"};
	assert_int_equal(store_job_create_regions(T.store, 1, &pj, kids, 2, &json, bad, why),
	                 FUOTA_OK);
	id = json_id(json);
	free(json);
	job_params_free(&eu);
	job_params_free(&us);
	job_params_free(&parent);
	return id;
}

static void add_fleet(void)
{
	fresh_db();
	T.tx_power_dbm = 20;
	add_dev_in("00000000000000e1", 0x10, 1, "EU868");
	add_dev_in("00000000000000e2", 0x20, 2, "EU868");
	add_dev_in("00000000000000f1", 0x30, 1, "US915");
}

static long long children_in(int64_t parent, const char *state)
{
	char q[160];

	snprintf(q, sizeof(q), "SELECT count(*) FROM job WHERE parent_id = %lld AND state = '%s'",
	         (long long)parent, state);
	return db_count(q);
}

/* The live stream of the parent (GET /jobs/{id}/events/stream) carries every region's events
 * after its own, oldest first, and its head is the newest of them. */
static void assert_live_stream(int64_t job)
{
	struct store_page page;
	int64_t head = 0, newest = db_count("SELECT max(id) FROM event");
	json_t *items;
	size_t devices = 0, last = 0;

	assert_int_equal(store_events_after(T.store, 1, job, 0, 500, &page), FUOTA_OK);
	items = json_loads(page.items, 0, NULL);
	free(page.items);
	assert_non_null(items);
	for (size_t i = 0; i < json_array_size(items); i++) {
		json_t *ev = json_array_get(items, i);
		size_t id = (size_t)json_integer_value(json_object_get(ev, "id"));

		assert_true(id > last);
		last = id;
		devices += strcmp(json_string_value(json_object_get(ev, "kind")), "device") == 0;
	}
	assert_true(devices >= 3 * 6); /* each device's steps, in both regions */
	assert_int_equal((int64_t)last, newest);
	json_decref(items);
	assert_int_equal(store_event_heads(T.store, &job, 1, &head), FUOTA_OK);
	assert_int_equal(head, newest);
}

static void test_both_regions(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32], q[200];
	json_t *devs;

	(void)state;
	add_fleet();
	job = add_regions_job(2, 1);
	e = new_engine("itest-regions", true);
	T.watch_job = job;
	run(e, job, 4000, 0);
	/* Integrations see the parent's state change on MQTT: running, then succeeded. */
	assert_int_equal(T.watch_states, 2);
	assert_string_equal(T.watch_last_to, "succeeded");
	assert_live_stream(job);
	assert_string_equal(job_state(job, st, sizeof(st)), "succeeded");
	assert_int_equal(children_in(job, "succeeded"), 2);
	devs = job_devices(job); /* the parent's: every region's devices */
	assert_int_equal(json_array_size(devs), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_image(&T.devs[i]);
		assert_string_equal(dev_field(devs, T.devs[i].eui, "step"), "done");
	}
	assert_string_equal(dev_field(devs, "00000000000000f1", "region"), "US915");
	json_decref(devs);
	/* One multicast group per region, each on its own frequency (on_gateway_frame). */
	assert_int_equal(db_count("SELECT count(DISTINCT mc_addr) FROM multicast_group"), 2);
	/* The parent's own state events: running, then succeeded. */
	snprintf(q, sizeof(q),
	         "SELECT count(*) FROM event WHERE job_id = %lld AND kind = 'state' AND "
	         "data->>'to' IN ('running', 'succeeded')",
	         (long long)job);
	assert_int_equal(db_count(q), 2);
	engine_destroy(e);
}

static void test_one_region_fails(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];

	(void)state;
	add_fleet();
	T.devs[2].mute = true; /* the US915 device hears nothing */
	job = add_regions_job(2, 1);
	e = new_engine("itest-regions-fail", true);
	run(e, job, 6000, 0);
	assert_int_equal(children_in(job, "succeeded"), 1);
	assert_int_equal(children_in(job, "failed"), 1);
	assert_string_equal(job_state(job, st, sizeof(st)), "failed");
	assert_image(&T.devs[0]);
	assert_image(&T.devs[1]);
	engine_destroy(e);
}

static void test_cancel_parent(void **state)
{
	struct engine *e;
	int64_t job;
	char st[32];

	(void)state;
	add_fleet();
	job = add_regions_job(2, 1);
	e = new_engine("itest-regions-cancel", true);
	idle(e, 5);
	assert_string_equal(job_state(job, st, sizeof(st)), "running");
	job_action(job, "cancel");
	assert_string_equal(job_state(job, st, sizeof(st)), "cancelled");
	idle(e, 5); /* the engine ends each child: its groups deleted */
	assert_int_equal(children_in(job, "cancelled"), 2);
	assert_int_equal(db_count("SELECT count(*) FROM engine_job WHERE phase <> 'done'"), 0);
	assert_string_equal(job_state(job, st, sizeof(st)), "cancelled");
	engine_destroy(e);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_both_regions),
	        cmocka_unit_test(test_one_region_fails),
	        cmocka_unit_test(test_cancel_parent),
	};

	return itest_engine_main(argc, argv, "itest_engine_regions", tests,
	                         sizeof(tests) / sizeof(tests[0]));
}
