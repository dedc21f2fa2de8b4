/* The checks an uplink passes before its answers move a job's device (engine_ans.c, through
 * the engine's private header): its topic and its payload name the same device and
 * application, and that application is the device's own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine_int.h"
#include "fuota/err.h"

#define FILTER "application/+/device/+/event/up"

static void up(struct cs_uplink *u, const char *app, const char *eui)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->application_id, sizeof(u->application_id), "%s", app);
	snprintf(u->dev_eui, sizeof(u->dev_eui), "%s", eui);
}

static void test_topic_names_the_application(void **state)
{
	struct cs_uplink u;

	(void)state;
	up(&u, "app-1", "0102030405060708");
	assert_int_equal(
	        engine_ans_topic(FILTER, "application/app-1/device/0102030405060708/event/up", &u),
	        FUOTA_OK);
	/* The topic's DevEUI may be upper case. */
	assert_int_equal(engine_ans_topic(FILTER,
	                                  "application/app-1/device/0102030405060A08/event/up",
	                                  &(struct cs_uplink){.dev_eui = "0102030405060a08"}),
	                 FUOTA_OK);
	/* Another application in the payload than in the topic, or another device: refused. */
	assert_int_equal(
	        engine_ans_topic(FILTER, "application/app-2/device/0102030405060708/event/up", &u),
	        FUOTA_ERR_MALFORMED);
	assert_int_equal(
	        engine_ans_topic(FILTER, "application/app-1/device/0102030405060709/event/up", &u),
	        FUOTA_ERR_MALFORMED);
	assert_int_equal(
	        engine_ans_topic(FILTER, "application/app-1/device/0102030405060708/event/ack", &u),
	        FUOTA_ERR_MALFORMED);
	/* A payload that names no application takes the topic's. */
	up(&u, "", "0102030405060708");
	assert_int_equal(
	        engine_ans_topic(FILTER, "application/app-3/device/0102030405060708/event/up", &u),
	        FUOTA_OK);
	assert_string_equal(u.application_id, "app-3");
	/* Under a configured prefix. */
	assert_int_equal(engine_ans_topic("as/x/+/device/+/event/up",
	                                  "as/x/app-3/device/0102030405060708/event/up", &u),
	                 FUOTA_OK);
	assert_int_equal(engine_ans_topic("as/x/+/device/+/event/up",
	                                  "application/app-3/device/0102030405060708/event/up", &u),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(engine_ans_topic("x", "x", &u), FUOTA_ERR_INVALID_ARG);
}

static void test_own_application_only(void **state)
{
	struct cs_uplink u;

	(void)state;
	up(&u, "app-1", "0102030405060708");
	assert_true(engine_ans_app_ok(&u, "app-1"));
	assert_false(engine_ans_app_ok(&u, "app-2"));
	assert_false(engine_ans_app_ok(&u, "app-10"));
	up(&u, "", "0102030405060708");
	assert_false(engine_ans_app_ok(&u, "app-1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_topic_names_the_application),
	        cmocka_unit_test(test_own_application_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
