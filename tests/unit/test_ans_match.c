/* Whether an uplink answers the request in flight (server/policy, fuota/ans_match.h): stale
 * answers (read late, from before the request, or to a request with a session start since
 * moved) move nothing; and the application an uplink topic names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/ans_match.h"
#include "fuota/err.h"

#define T0 1763700000000LL

static void test_stale(void **state)
{
	/* The request went out at T0 (attempt 1); the answer is read 4 s later. */
	struct ans_in base = {
	        .attempts = 1, .asked_ms = T0, .rx_ms = T0 + 4000, .now_ms = T0 + 4000};
	struct ans_in in;

	(void)state;
	assert_int_equal(ans_stale(&base), ANS_CURRENT);
	/* Nothing out: the step was entered or reset, its request not sent yet. */
	in = base;
	in.attempts = 0;
	assert_int_equal(ans_stale(&in), ANS_NONE_IN_FLIGHT);
	/* Received by the network server while fuotad was dead, 30 s before the request it is
	 * read against: stale, however it reads. */
	in = base;
	in.rx_ms = T0 - 30000;
	assert_int_equal(ans_stale(&in), ANS_BEFORE_ASKED);
	/* A network server clock a little behind ours: not stale. */
	in.rx_ms = T0 - ANS_CLOCK_SLACK_MS;
	assert_int_equal(ans_stale(&in), ANS_CURRENT);
	in.rx_ms = T0 - ANS_CLOCK_SLACK_MS - 1;
	assert_int_equal(ans_stale(&in), ANS_BEFORE_ASKED);
	/* Any time a message may carry is compared without overflow. */
	in.rx_ms = INT64_MIN;
	assert_int_equal(ans_stale(&in), ANS_BEFORE_ASKED);
	/* Unknown send time (a row from before the column): judged by the rest. */
	in = base;
	in.asked_ms = 0;
	in.rx_ms = 0;
	assert_int_equal(ans_stale(&in), ANS_CURRENT);
}

static void test_start_missed_after_move(void **state)
{
	struct ans_in in = {.attempts = 1,
	                    .asked_ms = T0,
	                    .rx_ms = T0 + 9000,
	                    .now_ms = T0 + 9000,
	                    .moved = true,
	                    .disagrees = true};

	(void)state;
	/* No delivery of the request with the moved start seen: the old request's answer. */
	assert_int_equal(ans_stale(&in), ANS_OLD_START);
	/* This very uplink delivered it: its answer is still to come. */
	in.delivered_ms = in.now_ms;
	assert_int_equal(ans_stale(&in), ANS_OLD_START);
	/* Delivered at an earlier uplink: the device answers the new start. */
	in.delivered_ms = T0 + 3000;
	assert_int_equal(ans_stale(&in), ANS_CURRENT);
	/* Without a move, or with a TimeToStart that fits the moved start, it is judged as ever.
	 */
	in.delivered_ms = 0;
	in.moved = false;
	assert_int_equal(ans_stale(&in), ANS_CURRENT);
	in.moved = true;
	in.disagrees = false;
	assert_int_equal(ans_stale(&in), ANS_CURRENT);
	assert_string_equal(ans_verdict_name(ANS_OLD_START),
	                    "answer of the request before the start moved");
	assert_string_equal(ans_verdict_name((enum ans_verdict)42), "?");
}

/* Issue 16 after the merge: a resynchronised device answers the request it got just before the
 * start moved with a TimeToStart counted down to the old start, in flight while the request
 * with the moved start went out. It does not fit the moved start, and no delivery of that
 * request was seen before: the old request's answer, not a clock still out of sync. */
static void test_time_to_start_after_move(void **state)
{
	struct ans_in in = {.attempts = 1,
	                    .asked_ms = T0,
	                    .rx_ms = T0 + 600,
	                    .now_ms = T0 + 600,
	                    .moved = true,
	                    .disagrees = true};

	(void)state;
	assert_int_equal(ans_stale(&in), ANS_OLD_START);
	/* Once the new request was delivered at an earlier uplink, it is judged. */
	in.delivered_ms = T0 + 300;
	in.rx_ms = in.now_ms = T0 + 1300;
	assert_int_equal(ans_stale(&in), ANS_CURRENT);
}

static void test_rx_ms(void **state)
{
	(void)state;
	assert_int_equal(ans_rx_ms(true, T0 - 5, true, T0 - 9, T0), T0 - 5);
	assert_int_equal(ans_rx_ms(false, 0, true, T0 - 9, T0), T0 - 9);
	assert_int_equal(ans_rx_ms(false, 0, false, 0, T0), T0);
	/* A time ahead of ours never makes an answer newer than now. */
	assert_int_equal(ans_rx_ms(true, T0 + 60000, false, 0, T0), T0);
	assert_int_equal(ans_rx_ms(true, INT64_MAX, false, 0, T0), T0);
}

static void test_topic(void **state)
{
	static const char *const bad[] = {
	        "application//device/0102030405060708/event/up",
	        "application/app-1/device//event/up",
	        "application/app-1/device/0102030405060708/event/up/x",
	        "application/app-1/device/0102030405060708/event/ack",
	        "application/app-1/devices/0102030405060708/event/up",
	        "applications/app-1/device/0102030405060708/event/up",
	        "application",
	        "",
	        "application/app-1/device/01020304050607080/event/up", /* too long for eui */
	};
	char app[16], eui[17];

	(void)state;
	assert_int_equal(ans_uplink_topic("application",
	                                  "application/app-1/device/0102030405060708/event/up", app,
	                                  sizeof(app), eui, sizeof(eui)),
	                 FUOTA_OK);
	assert_string_equal(app, "app-1");
	assert_string_equal(eui, "0102030405060708");
	assert_int_equal(ans_uplink_topic("as/app", "as/app/x/device/0102030405060708/event/up",
	                                  app, sizeof(app), eui, sizeof(eui)),
	                 FUOTA_OK);
	assert_string_equal(app, "x");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		        ans_uplink_topic("application", bad[i], app, sizeof(app), eui, sizeof(eui)),
		        FUOTA_ERR_MALFORMED);
		assert_string_equal(app, "");
		assert_string_equal(eui, "");
	}
	/* An application id longer than its buffer is refused, not cut. */
	assert_int_equal(ans_uplink_topic("application",
	                                  "application/a-very-long-application/device/"
	                                  "0102030405060708/event/up",
	                                  app, sizeof(app), eui, sizeof(eui)),
	                 FUOTA_ERR_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_stale),
	        cmocka_unit_test(test_start_missed_after_move),
	        cmocka_unit_test(test_time_to_start_after_move),
	        cmocka_unit_test(test_rx_ms),
	        cmocka_unit_test(test_topic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
