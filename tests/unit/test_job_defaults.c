/* The defaults of the job fields the seed does not name (fuota/job_defaults.h): unicast attempts,
 * the region from the devices, class B periodicity from the duty cycle, fragment size and power
 * as the plan uses them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/job_defaults.h"

/* The seed's fields only: no region, no attempts, no fragment size, no power, no periodicity. */
static void seed_job(struct job_params *p, char mc_class, unsigned dr)
{
	job_params_init(p);
	p->data_rate = dr;
	p->frequency_hz = 869525000; /* EU868's 10 % sub-band */
	p->multicast_class = mc_class;
	p->redundancy_frames = 4;
	p->unicast_timeout_s = 60;
}

static void test_attempts(void **state)
{
	struct job_params p;

	(void)state;
	seed_job(&p, 'C', 5);
	job_defaults_fields(&p);
	assert_int_equal(p.unicast_attempts, JOB_DEFAULT_UNICAST_ATTEMPTS);
	p.unicast_attempts = 7; /* given: kept */
	job_defaults_fields(&p);
	assert_int_equal(p.unicast_attempts, 7);
}

/* reboot_at at creation: none or ahead is taken; now or earlier is a 400 on the field. */
static void test_reboot_at(void **state)
{
	struct api_error e;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(job_reboot_at_check(0, 1700000000000, &e), FUOTA_OK);
	assert_int_equal(job_reboot_at_check(1700000000001, 1700000000000, &e), FUOTA_OK);
	assert_int_equal(e.status, 0);
	assert_int_equal(job_reboot_at_check(1700000000000, 1700000000000, &e),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(e.status, 400);
	assert_string_equal(e.field, "reboot_at");
	assert_non_null(strstr(e.message, "in the past"));
	memset(&e, 0, sizeof(e));
	assert_int_equal(job_reboot_at_check(1000, 1700000000000, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "reboot_at");
}

static void test_region(void **state)
{
	static const char *const one[] = {"eu868"};
	static const char *const same[] = {"EU868", "eu868"};
	static const char *const two[] = {"EU868", "US915"};
	static const char *const bad[] = {"MARS"};
	struct job_params p;
	struct api_error e;

	(void)state;
	seed_job(&p, 'C', 5);
	assert_int_equal(job_defaults_region(&p, one, 1, &e), FUOTA_OK);
	assert_string_equal(p.region, "EU868"); /* the canonical name */
	p.region[0] = 0;
	assert_int_equal(job_defaults_region(&p, same, 2, &e), FUOTA_OK);
	assert_string_equal(p.region, "EU868");
	p.region[0] = 0;
	assert_int_equal(job_defaults_region(&p, two, 2, &e), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(e.status, 400);
	assert_string_equal(e.field, "region");
	assert_non_null(strstr(e.message, "US915"));
	assert_int_equal(job_defaults_region(&p, NULL, 0, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "region");
	p.n_devices = 2; /* devices given, none known: their fault */
	assert_int_equal(job_defaults_region(&p, NULL, 0, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "devices");
	p.n_devices = 0;
	assert_int_equal(job_defaults_region(&p, bad, 1, &e), FUOTA_ERR_INVALID_ARG);
	/* A region given wins over the devices' (the store then names a device outside it). */
	snprintf(p.region, sizeof(p.region), "US915");
	assert_int_equal(job_defaults_region(&p, one, 1, &e), FUOTA_OK);
	assert_string_equal(p.region, "US915");
}

/* The sparsest ping slots that still carry every frame the duty cycle allows in 128 s. */
static void test_periodicity(void **state)
{
	static const struct {
		uint64_t interval_us;
		int want;
	} cases[] = {
	        {0, 0},         /* no limit known: every slot */
	        {400000, 0},    /* 320 frames fit a period: 128 slots (k = 0) is short */
	        {1000000, 0},   /* 128 fit: k = 0 exactly */
	        {1000001, 0},   /* 127 fit: still needs 128 slots */
	        {2000000, 1},   /* 64 fit: 64 slots */
	        {2000001, 1},   /* 63 fit */
	        {16000000, 4},  /* 8 fit: 8 slots */
	        {64000000, 6},  /* 2 */
	        {128000000, 7}, /* 1 */
	        {300000000, 7}, /* less than one a period: one slot */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int k = job_default_periodicity(cases[i].interval_us);

		if (k != cases[i].want)
			fail_msg("interval %llu us: periodicity %d, expected %d",
			         (unsigned long long)cases[i].interval_us, k, cases[i].want);
		/* The slots cover what fits, and the next sparser periodicity would not. */
		if (cases[i].interval_us) {
			uint64_t fit = 128000000ull / cases[i].interval_us;

			assert_true((1ull << (7 - k)) >= fit || k == 0);
			assert_true(k == 7 || (1ull << (6 - k)) < fit);
		}
	}
}

/* A class B job without periodicity plans as long a session as with periodicity 0, and the job
 * keeps the periodicity, fragment size and power it was planned with. */
static void test_plan_class_b(void **state)
{
	struct job_params p, q;
	struct job_plan pl, fast;
	struct api_error e;

	(void)state;
	seed_job(&p, 'B', 5);
	snprintf(p.region, sizeof(p.region), "EU868");
	job_defaults_fields(&p);
	assert_int_equal(job_defaults_plan(&p, 12000, NULL, &pl, &e), FUOTA_OK);
	assert_in_range(p.ping_slot_periodicity, 0, 7);
	assert_int_equal(p.ping_slot_periodicity, job_default_periodicity(pl.frame_interval_us));
	/* DR5, 242-byte frames: 394.5 ms on air, one every 3.95 s at 10 %: 32 per beacon period,
	 * 32 ping slots (periodicity 2) carry them all. */
	assert_int_equal(p.ping_slot_periodicity, 2);
	assert_int_equal(p.fragment_size, pl.fragment_size);
	assert_true(p.has_tx_power);
	assert_int_equal(p.tx_power_dbm, pl.tx_power_dbm);
	q = p;
	q.ping_slot_periodicity = 0;
	assert_int_equal(plan_compute(&q, 12000, &fast, &e), FUOTA_OK);
	assert_int_equal(pl.multicast_s, fast.multicast_s);
	/* The stored values give the same plan again. */
	assert_int_equal(plan_compute(&p, 12000, &fast, &e), FUOTA_OK);
	assert_memory_equal(&pl, &fast, sizeof(pl));
	/* A periodicity given is kept; a class B plan error leaves it unset. */
	seed_job(&p, 'B', 5);
	snprintf(p.region, sizeof(p.region), "EU868");
	p.unicast_attempts = 1;
	p.ping_slot_periodicity = 6;
	assert_int_equal(job_defaults_plan(&p, 12000, NULL, &pl, &e), FUOTA_OK);
	assert_int_equal(p.ping_slot_periodicity, 6);
	seed_job(&p, 'B', 9);
	snprintf(p.region, sizeof(p.region), "EU868");
	assert_int_equal(job_defaults_plan(&p, 12000, NULL, &pl, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "data_rate");
	assert_int_equal(p.ping_slot_periodicity, -1);
}

/* Class C: fragment size and power given are kept; left out they become the plan's. */
static void test_plan_class_c(void **state)
{
	struct job_params p;
	struct job_plan pl;
	struct api_error e;

	(void)state;
	seed_job(&p, 'C', 0);
	snprintf(p.region, sizeof(p.region), "EU868");
	job_defaults_fields(&p);
	assert_int_equal(job_defaults_plan(&p, 3000, NULL, &pl, &e), FUOTA_OK);
	assert_int_equal(p.fragment_size, 48); /* DR0: N = 51 - 3 */
	assert_int_equal(p.tx_power_dbm, 29);  /* 869.525 MHz: 500 mW ERP = 29 dBm EIRP */
	assert_int_equal(p.ping_slot_periodicity, -1);
	seed_job(&p, 'C', 0);
	snprintf(p.region, sizeof(p.region), "EU868");
	p.unicast_attempts = 2;
	p.fragment_size = 20;
	p.has_tx_power = true;
	p.tx_power_dbm = 14;
	assert_int_equal(job_defaults_plan(&p, 3000, NULL, &pl, &e), FUOTA_OK);
	assert_int_equal(p.fragment_size, 20);
	assert_int_equal(pl.fragment_size, 20);
	assert_int_equal(p.tx_power_dbm, 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_attempts),     cmocka_unit_test(test_region),
	        cmocka_unit_test(test_periodicity),  cmocka_unit_test(test_plan_class_b),
	        cmocka_unit_test(test_plan_class_c), cmocka_unit_test(test_reboot_at),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
