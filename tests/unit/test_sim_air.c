/* sim_air.c: fuota-sim hands a frame on air to the devices in slices of a budget, so the loop
 * reads the broker between them; the cursor walks the frames in start-time then gateway order,
 * and survives the gateways' frame arrays growing between two slices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "sim.h"

#define T0 1400000000000LL /* GPS ms */

static void fleet(struct sim *s, const char *devices, size_t budget)
{
	char a[9][16] = {"fuota-sim", "--devices",       "", "--gateways", "2", "--coverage",
	                 "2",         "--gw-duty-cycle", "0"};
	char *argv[10];

	snprintf(a[2], sizeof(a[2]), "%s", devices);
	for (int i = 0; i < 9; i++)
		argv[i] = a[i];
	argv[9] = NULL;
	memset(s, 0, sizeof(*s));
	assert_int_equal(sim_opts_parse(9, argv, &s->o), 0);
	assert_int_equal(sim_fleet_build(s, T0), FUOTA_OK);
	s->air.budget = budget;
}

/* A 20-byte LoRa SF7 frame on gateway gi starting at start_ms (about 50 ms on air). */
static void book(struct sim *s, uint32_t gi, int64_t start_ms)
{
	struct cs_gw_downlink d;

	memset(&d, 0, sizeof(d));
	d.frequency = 869525000;
	d.bandwidth = 125000;
	d.spreading_factor = 7;
	d.phy_len = 20;
	d.phy[0] = 0x60; /* unconfirmed data down */
	d.timing = CS_TIMING_DELAY;
	d.timing_ns = (start_ms - T0) * 1000000;
	assert_int_equal(sim_gw_schedule(s, &s->gws[gi], &d, T0), CS_ACK_OK);
}

static bool sent(const struct sim *s, uint32_t gi, int64_t start_ms)
{
	const struct sim_gw *g = &s->gws[gi];

	for (size_t i = 0; i < g->n_tx; i++)
		if (g->tx[i].start_ms == start_ms)
			return g->tx[i].sent;
	fail_msg("no frame at %lld on gateway %u", (long long)start_ms, gi);
	return false;
}

static int64_t step(struct sim *s, int64_t now_ms)
{
	int64_t next = now_ms + 1000;

	sim_air_step(s, now_ms, &next);
	return next;
}

static void test_slices_in_order(void **state)
{
	struct sim s;
	int64_t now = T0 + 500;

	(void)state;
	fleet(&s, "1000", 300);
	assert_int_equal(s.gws[0].n_devs, 1000);
	assert_int_equal(s.gws[1].n_devs, 1000);
	book(&s, 1, T0 + 100); /* same start on both: gateway 0 first */
	book(&s, 0, T0 + 100);
	book(&s, 0, T0 + 300);
	book(&s, 0, T0 + 1200); /* not due yet */

	assert_int_equal(step(&s, now), now); /* slices left: back at once */
	assert_int_equal(s.air.deliveries, 300);
	assert_false(sent(&s, 0, T0 + 100));
	/* DownlinkFrames handled between two slices grow gateway 0's array (reallocated). */
	for (int i = 0; i < 100; i++)
		book(&s, 0, T0 + 3000 + 200 * i);
	assert_true(s.gws[0].cap_tx > 64);
	step(&s, now);
	step(&s, now);
	step(&s, now);
	assert_int_equal(s.air.deliveries, 1200);
	assert_true(sent(&s, 0, T0 + 100));
	assert_false(sent(&s, 1, T0 + 100)); /* 200 of its 1,000 devices so far */
	assert_false(sent(&s, 0, T0 + 300));
	assert_int_equal(s.air.gi, 1);
	for (int i = 0; i < 100 && step(&s, now) == now; i++)
		;
	assert_int_equal(s.air.deliveries, 3000); /* each of the 3 frames to 1,000 devices */
	assert_true(sent(&s, 1, T0 + 100));
	assert_true(sent(&s, 0, T0 + 300));
	assert_false(sent(&s, 0, T0 + 1200));
	/* Nothing due is left: the next frame's start. */
	assert_int_equal(step(&s, now), T0 + 1200);
	assert_int_equal(s.air.deliveries, 3000);
	assert_int_equal(s.gws[0].frames_sent, 2);
	assert_int_equal(s.gws[1].frames_sent, 1);
	sim_fleet_free(&s);
}

/* Within the budget a step hands out every frame due, as before the slices. */
static void test_within_budget_at_once(void **state)
{
	struct sim s;
	int64_t now = T0 + 500;

	(void)state;
	fleet(&s, "1000", 0);
	book(&s, 0, T0 + 100);
	book(&s, 1, T0 + 100);
	assert_int_equal(step(&s, now), now + 1000);
	assert_int_equal(s.air.deliveries, 2000);
	assert_true(sent(&s, 0, T0 + 100));
	assert_true(sent(&s, 1, T0 + 100));
	assert_false(s.air.busy);
	sim_fleet_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_slices_in_order),
	        cmocka_unit_test(test_within_budget_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
