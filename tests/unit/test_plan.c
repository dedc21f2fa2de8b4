/* The job plan (fuota/plan.h): a fixed redundancy, and adaptive redundancy
 * (plan_compute_adaptive): what the session may send at most and how long that may take, against
 * a straightforward computation from the plan's own frame interval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/plan.h"

static void job(struct job_params *p, unsigned dr, char mc_class, unsigned unicast_timeout_s)
{
	job_params_init(p);
	snprintf(p->region, sizeof(p->region), "EU868");
	p->data_rate = dr;
	p->frequency_hz = 869525000; /* a 10 % sub-band */
	p->multicast_class = mc_class;
	p->redundancy_frames = 0;
	p->unicast_timeout_s = unicast_timeout_s;
	p->unicast_attempts = 2;
}

/* The smallest 2^t s (class C) covering need_s. */
static unsigned exp_for(uint64_t unit_s, uint64_t need_s)
{
	unsigned t = 0;

	while ((unit_s << t) < need_s)
		t++;
	return t;
}

static void test_off_is_fixed(void **state)
{
	struct job_params p;
	struct job_plan a, b;
	struct api_error e;
	struct plan_adaptive ad = {false, true, 0};

	(void)state;
	job(&p, 6, 'C', 12);
	assert_int_equal(plan_compute(&p, 65536, &a, &e), FUOTA_OK);
	assert_int_equal(plan_compute_adaptive(&p, 65536, &ad, &b, &e), FUOTA_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(plan_compute_adaptive(&p, 65536, NULL, &b, &e), FUOTA_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_false(b.adaptive);
}

/* The bench's job: 64 KiB at DR6, no fixed parity, unicast timeout 12 s, rounds. */
static void test_rounds(void **state)
{
	struct job_params p;
	struct job_plan fixed, pl;
	struct api_error e;
	struct plan_adaptive ad = {true, true, 0};
	uint64_t worst;

	(void)state;
	job(&p, 6, 'C', 12);
	assert_int_equal(plan_compute(&p, 65536, &fixed, &e), FUOTA_OK);
	assert_int_equal(plan_compute_adaptive(&p, 65536, &ad, &pl, &e), FUOTA_OK);
	assert_true(pl.adaptive && pl.rounds);
	assert_int_equal(pl.nb_frag, 275);
	assert_int_equal(pl.total_frames, 275); /* the minimum stays as it was */
	assert_int_equal(pl.max_parity, 275);   /* PLAN_ADAPTIVE_CAP_PERCENT = 100 % of M */
	assert_int_equal(pl.max_frames, 550);
	assert_int_equal(pl.max_rounds, PLAN_ADAPTIVE_ROUNDS);
	assert_int_equal(pl.round_wait_s, 16 + 12); /* 2^(0 + 4) s + the unicast timeout */
	/* Every frame up to the cap and every round's request at the duty-cycle interval, one
	 * second to start, and every wait. */
	worst = (556 * pl.frame_interval_us + 999999) / 1000000 + 1 + 6 * 28;
	assert_int_equal(pl.worst_case_s, worst);
	assert_int_equal(pl.multicast_s, worst);
	assert_int_equal(pl.mc_timeout_exp, exp_for(1, worst));
	assert_int_equal(pl.mc_timeout_s, 1u << pl.mc_timeout_exp);
	assert_true(pl.mc_timeout_s >= worst && pl.mc_timeout_s / 2 < worst);
	assert_true(pl.mc_timeout_exp > fixed.mc_timeout_exp);
	assert_int_equal(pl.duration_s, pl.unicast_s + pl.mc_timeout_s);
	/* [engine] adaptive_wait_s overrides the feedback window. */
	ad.wait_s = 100;
	assert_int_equal(plan_compute_adaptive(&p, 65536, &ad, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.round_wait_s, 100);
	assert_int_equal(pl.worst_case_s, worst - 6 * 28 + 6 * 100);
}

/* Stream mode: parity back to back, no requests and no waits; the job's own parity is the cap
 * when it is larger than 100 % of M. */
static void test_stream_and_cap(void **state)
{
	struct job_params p;
	struct job_plan pl;
	struct api_error e;
	struct plan_adaptive ad = {true, false, 0};

	(void)state;
	job(&p, 6, 'C', 12);
	assert_int_equal(plan_compute_adaptive(&p, 2390, &ad, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.nb_frag, 10);
	assert_int_equal(pl.max_rounds, 0);
	assert_int_equal(pl.round_wait_s, 0);
	assert_int_equal(pl.worst_case_s, (20 * pl.frame_interval_us + 999999) / 1000000 + 1);
	p.redundancy_frames = 15;
	assert_int_equal(plan_compute_adaptive(&p, 2390, &ad, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.max_parity, 15);
	assert_int_equal(pl.max_frames, 25);
}

/* A multicast_timeout_s the request gave is kept (it covers the fixed frames); the plan still
 * says the worst case. Class B waits count in whole beacon periods. */
static void test_given_timeout_and_class_b(void **state)
{
	struct job_params p;
	struct job_plan pl;
	struct api_error e;
	struct plan_adaptive ad = {true, true, 0};

	(void)state;
	job(&p, 6, 'C', 12);
	p.multicast_timeout_s = 1024;
	assert_int_equal(plan_compute_adaptive(&p, 65536, &ad, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.mc_timeout_s, 1024);
	assert_true(pl.worst_case_s > 1024);

	job(&p, 3, 'B', 12);
	p.ping_slot_periodicity = 7; /* one slot per 128 s period */
	assert_int_equal(plan_compute_adaptive(&p, 1120, &ad, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.nb_frag, 10);
	/* 20 frames + 6 requests, one a period, one period to start, 6 * 28 s = 2 periods. */
	assert_int_equal(pl.worst_case_s, (26 + 1 + 2) * 128);
	assert_int_equal(pl.mc_timeout_s, 128u << pl.mc_timeout_exp);
	assert_true(pl.mc_timeout_s >= pl.worst_case_s);
}

/* The frames' power: the sub-band's maximum EIRP by default (29 dBm on 869.525 MHz, 16 on
 * 868.1 MHz), the job's when given; above the maximum refused, naming tx_power_dbm. */
static void test_tx_power(void **state)
{
	struct job_params p;
	struct job_plan pl;
	struct api_error e;

	(void)state;
	job(&p, 5, 'C', 12);
	assert_int_equal(plan_compute(&p, 1000, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.tx_power_dbm, 29);
	p.frequency_hz = 868100000;
	assert_int_equal(plan_compute(&p, 1000, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.tx_power_dbm, 16);
	p.has_tx_power = true;
	p.tx_power_dbm = 14;
	assert_int_equal(plan_compute(&p, 1000, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.tx_power_dbm, 14);
	p.tx_power_dbm = 17;
	memset(&e, 0, sizeof(e));
	assert_int_equal(plan_compute(&p, 1000, &pl, &e), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(e.status, 400);
	assert_string_equal(e.field, "tx_power_dbm");
	assert_non_null(strstr(e.message, "16 dBm"));
	p.frequency_hz = 869525000;
	p.tx_power_dbm = 29;
	assert_int_equal(plan_compute(&p, 1000, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.tx_power_dbm, 29);
	p.tx_power_dbm = 30;
	assert_int_equal(plan_compute(&p, 1000, &pl, &e), FUOTA_ERR_INVALID_ARG);
	assert_string_equal(e.field, "tx_power_dbm");
}

/* A device's fragment limit against the plan (issue 16). */
static void test_frag_limit(void **state)
{
	(void)state;
	/* LoRa Basics Modem's default build: 100 fragments; its answer to 275 is NotEnoughMemory.
	 */
	assert_int_equal(plan_frag_limit_exceeded(275, "lbm", 0), 100);
	assert_int_equal(plan_frag_limit_exceeded(100, "lbm", 0), 0);
	/* The device's own limit wins over its stack's default. */
	assert_int_equal(plan_frag_limit_exceeded(275, "lbm", 300), 0);
	assert_int_equal(plan_frag_limit_exceeded(275, "loramac-node", 21), 21);
	assert_int_equal(plan_frag_limit_exceeded(275, "ts004", 274), 274);
	assert_int_equal(plan_frag_limit_exceeded(275, "ts004", 275), 0);
	/* No limit known: no warning; an unknown stack reads as ts004. */
	assert_int_equal(plan_frag_limit_exceeded(16000, "ts004", 0), 0);
	assert_int_equal(plan_frag_limit_exceeded(16000, NULL, 0), 0);
	assert_int_equal(plan_frag_limit_exceeded(16000, "zephyr", 0), 0);
}

static void fixed_job(struct job_params *p, const char *region, unsigned dr, uint64_t freq,
                      char cls)
{
	job_params_init(p);
	snprintf(p->region, sizeof(p->region), "%s", region);
	p->data_rate = dr;
	p->frequency_hz = freq;
	p->multicast_class = cls;
	p->redundancy_percent = 10;
	p->unicast_timeout_s = 60;
	p->unicast_attempts = 3;
}

/* A fixed redundancy: fragments, parity, airtime and the durations; errors name their field. */
static void test_fixed(void **state)
{
	struct job_params p;
	struct job_plan pl;
	struct api_error e;

	(void)state;
	/* EU868 DR5 (N 242): 65536 bytes -> 275 fragments of 239, 28 parity. */
	fixed_job(&p, "EU868", 5, 869525000, 'C');
	assert_int_equal(plan_compute(&p, 65536, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.fragment_size, 239);
	assert_int_equal(pl.nb_frag, 275);
	assert_int_equal(pl.padding, 275 * 239 - 65536);
	assert_int_equal(pl.redundancy, 28);
	assert_int_equal(pl.total_frames, 303);
	assert_true(pl.frame_airtime_us > 300000 && pl.frame_airtime_us < 500000);
	/* 10 % sub-band: each frame occupies 10x its airtime. */
	assert_true(pl.multicast_s * 1000000 >= 303 * pl.frame_airtime_us * 10);
	assert_int_equal(pl.mc_timeout_s, 1u << pl.mc_timeout_exp);
	assert_true(pl.mc_timeout_s >= pl.multicast_s && pl.mc_timeout_s / 2 < pl.multicast_s);
	assert_int_equal(pl.unicast_s, 3 * 3 * 60);
	/* A target_version adds the TS006 DevVersionReq step before the set-up. */
	p.has_target_version = true;
	assert_int_equal(plan_compute(&p, 65536, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.unicast_s, 4 * 3 * 60);
	assert_int_equal(pl.duration_s, pl.unicast_s + pl.mc_timeout_s);
	/* A reboot adds DevRebootCountdownReq, DevVersionReq after it, and its countdown. */
	p.reboot_in_s = 300;
	assert_int_equal(plan_compute(&p, 65536, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.unicast_s, 6 * 3 * 60);
	assert_int_equal(pl.duration_s, pl.unicast_s + pl.mc_timeout_s + 300);
	p.reboot_in_s = 0;
	snprintf(p.reboot_at, sizeof(p.reboot_at), "2030-01-31T03:00:00Z");
	assert_int_equal(plan_compute(&p, 65536, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.unicast_s, 6 * 3 * 60);
	p.reboot_at[0] = 0;
	p.has_target_version = false;

	/* Class B, periodicity 7: one ping slot per 128 s beacon period. */
	fixed_job(&p, "EU868", 3, 869525000, 'B');
	p.ping_slot_periodicity = 7;
	p.redundancy_percent = -1;
	p.redundancy_frames = 0;
	assert_int_equal(plan_compute(&p, 1150, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.fragment_size, 115 - 3);
	assert_int_equal(pl.nb_frag, 11);
	assert_int_equal(pl.multicast_s, (11 + 1) * 128);
	assert_int_equal(pl.mc_timeout_s, 128u << pl.mc_timeout_exp);

	/* Errors name their field. */
	fixed_job(&p, "EU868", 5, 869525000, 'C');
	p.fragment_size = 240;
	assert_int_not_equal(plan_compute(&p, 1000, &pl, &e), FUOTA_OK);
	assert_string_equal(e.field, "fragment_size");
	fixed_job(&p, "EU868", 5, 915000000, 'C');
	assert_int_not_equal(plan_compute(&p, 1000, &pl, &e), FUOTA_OK);
	assert_string_equal(e.field, "frequency_hz");
	fixed_job(&p, "US915", 3, 923300000, 'C');
	assert_int_not_equal(plan_compute(&p, 1000, &pl, &e), FUOTA_OK);
	assert_string_equal(e.field, "data_rate");
	fixed_job(&p, "EU868", 0, 869525000, 'C');
	/* More frames than a session carries: parts (fuota/plan_parts.h), each part's session
	 * within TS005's longest TimeOut at DR0 or the data rate is named. */
	assert_int_not_equal(plan_compute(&p, 16000 * 48, &pl, &e), FUOTA_OK);
	assert_string_equal(e.field, "data_rate");
	fixed_job(&p, "EU868", 5, 869525000, 'C');
	assert_int_equal(plan_compute(&p, 16000 * 48, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.nb_frag, 16000 * 48 / 239 + 1);
	assert_int_equal(pl.parts, 1);
	p.fragment_size = 50; /* 8800 frames per part, within TS005's longest TimeOut */
	assert_int_equal(plan_compute(&p, 16000 * 50, &pl, &e), FUOTA_OK);
	assert_int_equal(pl.parts, 2); /* 16000 + 1600 > 16383 */
	assert_int_equal(pl.part_frags, 8000);
	fixed_job(&p, "EU868", 5, 869525000, 'C');
	p.multicast_timeout_s = 10;
	assert_int_not_equal(plan_compute(&p, 65536, &pl, &e), FUOTA_OK);
	assert_string_equal(e.field, "multicast_timeout_s");
	fixed_job(&p, "EU868", 5, 869525000, 'C');
	assert_int_not_equal(plan_compute(&p, 0, &pl, &e), FUOTA_OK);
}

/* reboot_at before the estimated end (start + estimated_duration_s) warns, by how much. */
static void test_reboot_early(void **state)
{
	int64_t early = -1;

	(void)state;
	assert_false(plan_reboot_early(0, 1000, 600, &early)); /* no reboot_at */
	assert_int_equal(early, 0);
	assert_false(plan_reboot_early(601000, 1000, 600, &early)); /* at the end */
	assert_true(plan_reboot_early(600999, 1000, 600, &early));
	assert_int_equal(early, 1);
	assert_true(plan_reboot_early(61000, 1000, 600, &early));
	assert_int_equal(early, 540);
	assert_true(plan_reboot_early(500, 1000, 0, &early)); /* before the start */
	assert_int_equal(early, 1);
	/* A duration out of range does not overflow the end. */
	assert_true(plan_reboot_early(INT64_C(1) << 60, 1000, UINT64_MAX, &early));
	assert_true(early > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fixed),
	        cmocka_unit_test(test_off_is_fixed),
	        cmocka_unit_test(test_rounds),
	        cmocka_unit_test(test_stream_and_cap),
	        cmocka_unit_test(test_given_timeout_and_class_b),
	        cmocka_unit_test(test_tx_power),
	        cmocka_unit_test(test_frag_limit),
	        cmocka_unit_test(test_reboot_early),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
