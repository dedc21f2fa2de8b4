/* One job across regions (fuota/job_regions.h): the checks of "regions" (each region known, its
 * DR and frequency valid, no region twice, every device's region listed) and the parent job's
 * state derived from its children's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/job_regions.h"

static void two_regions(struct job_region r[2])
{
	memset(r, 0, 2 * sizeof(*r));
	snprintf(r[0].region, sizeof(r[0].region), "eu868");
	r[0].data_rate = 5;
	r[0].frequency_hz = 869525000;
	r[0].ping_slot_periodicity = -1;
	snprintf(r[1].region, sizeof(r[1].region), "US902-928"); /* RP002 name */
	r[1].data_rate = 8;
	r[1].frequency_hz = 923300000;
	r[1].ping_slot_periodicity = -1;
}

static int check(struct job_region *r, size_t n, const char *const *dev, size_t n_dev,
                 struct api_error *e)
{
	memset(e, 0, sizeof(*e));
	return job_regions_check(r, n, dev, n_dev, e);
}

static void test_valid(void **state)
{
	struct job_region r[2];
	struct api_error e;
	const char *dev[] = {"EU868", "us915", "eu868"};

	(void)state;
	two_regions(r);
	assert_int_equal(check(r, 2, dev, 3, &e), FUOTA_OK);
	assert_int_equal(e.status, 0);
	/* Canonical names, so that the children hold what a single-region job would. */
	assert_string_equal(r[0].region, "EU868");
	assert_string_equal(r[1].region, "US915");
	assert_int_equal(job_regions_find(r, 2, "us902-928"), 1);
	assert_int_equal(job_regions_find(r, 2, "AS923"), -1);
	/* A region listed without devices is allowed here (the API refuses an empty child). */
	assert_int_equal(check(r, 2, dev, 1, &e), FUOTA_OK);
}

/* Each refusal names the field at fault. */
static void test_refused(void **state)
{
	struct job_region r[JOB_REGIONS_MAX + 1];
	struct api_error e;
	const char *dev[] = {"EU868", "AS923"};

	(void)state;
	two_regions(r);
	assert_int_equal(check(r, 0, NULL, 0, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "regions");
	assert_int_equal(e.status, 400);
	assert_int_equal(check(r, JOB_REGIONS_MAX + 1, NULL, 0, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "regions");

	snprintf(r[1].region, sizeof(r[1].region), "XX999");
	assert_int_equal(check(r, 2, NULL, 0, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "regions[1].region");
	assert_non_null(strstr(e.message, "XX999"));

	two_regions(r);
	r[1].data_rate = 0; /* US915 DR0 is uplink only */
	assert_int_equal(check(r, 2, NULL, 0, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "regions[1].data_rate");

	two_regions(r);
	r[0].frequency_hz = 923300000; /* US915's, not EU868's */
	assert_int_equal(check(r, 2, NULL, 0, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "regions[0].frequency_hz");
	r[0].frequency_hz = 1ull << 40;
	assert_int_equal(check(r, 2, NULL, 0, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "regions[0].frequency_hz");

	two_regions(r);
	snprintf(r[1].region, sizeof(r[1].region), "EU863-870"); /* EU868 again, other name */
	r[1].data_rate = 5;
	r[1].frequency_hz = 869525000;
	assert_int_equal(check(r, 2, NULL, 0, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "regions[1].region");
	assert_non_null(strstr(e.message, "twice"));

	two_regions(r);
	assert_int_equal(check(r, 2, dev, 2, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "devices");
	assert_non_null(strstr(e.message, "AS923"));
}

static void test_child(void **state)
{
	struct job_params base, child;
	struct job_region r[2];

	(void)state;
	job_params_init(&base);
	snprintf(base.name, sizeof(base.name), "fw 2");
	base.multicast_class = 'C';
	base.redundancy_frames = 10;
	base.fragment_size = 50;
	two_regions(r);
	r[1].has_tx_power = true;
	r[1].tx_power_dbm = 20;
	job_regions_child(&base, &r[1], &child);
	assert_string_equal(child.name, "fw 2");
	assert_string_equal(child.region, "US902-928");
	assert_int_equal(child.data_rate, 8);
	assert_int_equal(child.frequency_hz, 923300000);
	assert_int_equal(child.fragment_size, 0); /* the region's, not the job's */
	assert_int_equal(child.redundancy_frames, 10);
	assert_true(child.has_tx_power);
	assert_int_equal(child.tx_power_dbm, 20);
	assert_int_equal(child.ping_slot_periodicity, -1);
}

struct state_case {
	const char *children[4];
	const char *parent;
};

static void test_parent_state(void **state)
{
	static const struct state_case cases[] = {
	        {{"pending", "pending"}, "pending"},
	        {{"running", "pending"}, "running"},
	        {{"succeeded", "pending"}, "running"}, /* one region done, the next not started */
	        {{"running", "succeeded"}, "running"},
	        {{"running", "paused"}, "running"},
	        {{"paused", "paused"}, "paused"},
	        {{"paused", "succeeded"}, "paused"},
	        {{"paused", "pending"}, "paused"},
	        {{"succeeded", "succeeded", "succeeded"}, "succeeded"},
	        {{"succeeded", "failed"}, "failed"},
	        {{"failed", "cancelled"}, "failed"},
	        {{"succeeded", "cancelled"}, "cancelled"},
	        {{"cancelled", "cancelled"}, "cancelled"},
	        {{"succeeded", "migrating"}, "running"}, /* unknown: not finished */
	        {{"succeeded"}, "succeeded"},
	        {{"failed"}, "failed"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = 0;

		while (n < 4 && cases[i].children[n])
			n++;
		assert_string_equal(job_parent_state(cases[i].children, n), cases[i].parent);
	}
	assert_string_equal(job_parent_state(NULL, 0), "pending");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_valid),
	        cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_child),
	        cmocka_unit_test(test_parent_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
