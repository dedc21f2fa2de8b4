/* The too-late rule (gateway/src/gw_sched.c): a timed downlink that cannot reach the concentrator
 * before its emission time is refused; immediate frames and frames the adapter cannot judge pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fuota/gw_sched.h"

/* The last rxpk had tmst 1 000 000 and arrived at host time 50 s. */
static const struct gw_timeref ref = {.has_tmst = 1, .tmst = 1000000, .tmst_mono_us = 50000000};

static int late_tmst(uint32_t tmst, int64_t now_us, int64_t carry_us)
{
	struct sudp_txpk tx = {.has_tmst = 1, .tmst = tmst};
	return gw_too_late(&tx, &ref, now_us, carry_us);
}

static void test_tmst(void **state)
{
	(void)state;
	/* RX1 at uplink + 1 s, decided 200 ms after the uplink, 100 ms still to go: in time */
	assert_false(late_tmst(2000000, 50200000, 100000));
	/* the same decided 950 ms after: 50 ms ahead, the path needs 100 ms */
	assert_true(late_tmst(2000000, 50950000, 100000));
	/* exactly the lead needed: in time; one us less: late */
	assert_false(late_tmst(2000000, 50900000, 100000));
	assert_true(late_tmst(2000000, 50900001, 100000));
	/* already past */
	assert_true(late_tmst(2000000, 52000000, 0));
	/* a DELAY downlink that arrived during a 30-min outage: its time is long gone */
	assert_true(late_tmst(2000000, 50000000 + INT64_C(1800) * 1000000, GW_FWD_LEAD_US));
}

static void test_tmst_wrap(void **state)
{
	(void)state;
	struct gw_timeref r = {.has_tmst = 1, .tmst = 0xfff00000u, .tmst_mono_us = 0};
	/* the target is past the counter's wrap: 0xfff00000 + 1 048 576 + 1 000 000 */
	struct sudp_txpk tx = {.has_tmst = 1, .tmst = 1000000};
	assert_false(gw_too_late(&tx, &r, 500000, 100000));
	assert_true(gw_too_late(&tx, &r, 2000000, 100000));
	/* host time after the counter wrapped too: exactly on time, then one us late */
	assert_false(gw_too_late(&tx, &r, 2048576, 0));
	assert_true(gw_too_late(&tx, &r, 2048577, 0));
}

static void test_gps(void **state)
{
	(void)state;
	/* GPS time = host monotonic + 1e15 us */
	struct gw_timeref r = {.has_gps = 1, .gps_minus_mono_us = INT64_C(1000000000000000)};
	struct sudp_txpk tx = {.has_tmms = 1, .tmms = UINT64_C(1000000010000)}; /* mono 10 s */
	assert_false(gw_too_late(&tx, &r, 9000000, 500000));
	assert_true(gw_too_late(&tx, &r, 9600000, 500000));
	assert_true(gw_too_late(&tx, &r, 11000000, 0));
}

static void test_unjudged(void **state)
{
	(void)state;
	struct gw_timeref none = {0};
	struct sudp_txpk imme = {.imme = 1}, tmst = {.has_tmst = 1, .tmst = 5},
	                 tmms = {.has_tmms = 1, .tmms = 5};
	/* immediate frames are never late, whatever the path costs */
	assert_false(gw_too_late(&imme, &ref, INT64_C(1) << 50, INT64_C(1) << 40));
	/* no reference: the forwarder judges (and acks TOO_LATE itself) */
	assert_false(gw_too_late(&tmst, &none, INT64_C(1) << 40, 0));
	assert_false(gw_too_late(&tmms, &none, INT64_C(1) << 40, 0));
	/* a GPS frame is not judged by the counter reference, nor the reverse */
	assert_false(gw_too_late(&tmms, &ref, INT64_C(1) << 40, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_tmst),
	        cmocka_unit_test(test_tmst_wrap),
	        cmocka_unit_test(test_gps),
	        cmocka_unit_test(test_unjudged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
