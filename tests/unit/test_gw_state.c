/* fuota-gw's own messages (gw_state.h): topics, gw.ConnState, the modem state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/gw_state.h"

static void test_topic(void **state)
{
	char t[64];

	(void)state;
	assert_int_equal(gw_topic(t, sizeof(t), "eu868", "0102030405060708", "event", "up"), 0);
	assert_string_equal(t, "eu868/gateway/0102030405060708/event/up");
	assert_int_equal(gw_topic(t, sizeof(t), "", "0102030405060708", "state", "modem"), 0);
	assert_string_equal(t, "gateway/0102030405060708/state/modem");
	assert_int_equal(gw_topic(t, sizeof(t), NULL, "ab/cd", "event", "up"),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(gw_topic(t, sizeof(t), "eu+", "0102030405060708", "event", "up"),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(gw_topic(t, 20, "eu868", "0102030405060708", "event", "up"),
	                 FUOTA_ERR_NO_SPACE);
}

static void test_conn_state(void **state)
{
	uint8_t *b;
	size_t n;

	(void)state;
	assert_int_equal(gw_conn_state("0102030405060708", true, false, &b, &n), 0);
	/* state = 2 (varint 1), gateway_id = 3 (16 bytes) */
	assert_int_equal(n, 20);
	assert_memory_equal(b,
	                    "\x10\x01\x1a\x10"
	                    "0102030405060708",
	                    20);
	free(b);
	assert_int_equal(gw_conn_state("0102030405060708", false, false, &b, &n), 0);
	assert_int_equal(n, 18); /* OFFLINE is proto3's default: not written */
	assert_memory_equal(b, "\x1a\x10", 2);
	free(b);
	assert_int_equal(gw_conn_state("0102030405060708", false, true, &b, &n), 0);
	assert_string_equal((char *)b,
	                    "{\"gatewayId\":\"0102030405060708\",\"state\":\"OFFLINE\"}");
	free(b);
}

static struct gw_modem_state sample(void)
{
	struct gw_modem_state s = {.gateway_id = "0102030405060708",
	                           .firmware = "03.15",
	                           .app = "A00.01",
	                           .imei = "004999010640000",
	                           .reg_stat = 1,
	                           .ci = "01A2D001",
	                           .tac = "0001",
	                           .act = 7,
	                           .oper = "fuota-sim",
	                           .csq = 20,
	                           .ber = 99,
	                           .link_up = true,
	                           .relay_sessions = 1};
	return s;
}

static void test_modem_json(void **state)
{
	struct gw_modem_state a = sample(), b;
	char *js, err[128];
	size_t n;

	(void)state;
	assert_int_equal(gw_modem_to_json(&a, &js, &n), 0);
	assert_non_null(strstr(js, "\"rssiDbm\":-73"));
	assert_non_null(strstr(js, "\"registration\":\"home\""));
	assert_int_equal(gw_modem_from_json(js, n, &b, err, sizeof(err)), 0);
	assert_false(gw_modem_changed(&a, &b));
	assert_string_equal(b.oper, "fuota-sim");
	free(js);
	a.csq = 99; /* unknown signal: no rssiDbm */
	assert_int_equal(gw_modem_to_json(&a, &js, &n), 0);
	assert_null(strstr(js, "rssiDbm"));
	free(js);
#define BAD(s) gw_modem_from_json(s, strlen(s), &b, err, sizeof(err))
	assert_int_equal(BAD("{\"gatewayId\":\"01020304\"}"), FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "gatewayId: not 16 hex digits");
	assert_int_equal(BAD("{\"gatewayId\":\"0102030405060708\",\"csq\":\"20\"}"),
	                 FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "csq: not an integer in 0..99");
	assert_int_equal(BAD("{\"gatewayId\":\"0102030405060708\",\"registration\":\"x\"}"),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(BAD("{\"gatewayId\":\"0102030405060708\",\"operator\":\"a\\u0000b\"}"),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(BAD("{\"gatewayId\":\"0102030405060708\",\"linkUp\":1}"),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(BAD("[]"), FUOTA_ERR_MALFORMED);
#undef BAD
}

/* state/modem's optional "update" member (an update under way). */
static void test_modem_update_member(void **state)
{
	struct gw_modem_state b;
	char err[160];
#define RD(s) gw_modem_from_json(s, strlen(s), &b, err, sizeof(err))

	(void)state;
	assert_int_equal(RD("{\"gatewayId\":\"0102030405060708\"}"), 0);
	assert_false(b.update.active);
	assert_int_equal(RD("{\"gatewayId\":\"0102030405060708\",\"update\":{\"id\":7,"
	                    "\"state\":\"downloading\",\"method\":\"http\",\"progress\":40}}"),
	                 0);
	assert_true(b.update.active);
	assert_int_equal(b.update.id, 7);
	assert_string_equal(b.update.state, "downloading");
	assert_string_equal(b.update.method, "http");
	assert_int_equal(b.update.progress, 40);
	assert_int_equal(RD("{\"gatewayId\":\"0102030405060708\",\"update\":{\"id\":0,"
	                    "\"state\":\"installing\",\"method\":\"ufota\"}}"),
	                 0);
	assert_int_equal(b.update.progress, -1);
	assert_int_equal(RD("{\"gatewayId\":\"0102030405060708\",\"update\":{\"id\":-1,"
	                    "\"state\":\"done\",\"method\":\"ufota\"}}"),
	                 FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "update.id: not an integer of at least 0");
	assert_int_equal(RD("{\"gatewayId\":\"0102030405060708\",\"update\":{\"id\":1,"
	                    "\"state\":\"sleeping\",\"method\":\"ufota\"}}"),
	                 FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "update.state: not an update state");
	assert_int_equal(RD("{\"gatewayId\":\"0102030405060708\",\"update\":{\"id\":1,"
	                    "\"state\":\"done\",\"method\":\"xmodem\"}}"),
	                 FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "update.method: not ufota, foat, http, ftp or uart");
	assert_int_equal(RD("{\"gatewayId\":\"0102030405060708\",\"update\":{\"id\":1,"
	                    "\"state\":\"done\",\"method\":\"foat\",\"progress\":101}}"),
	                 FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "progress: not an integer in 0..100");
	assert_int_equal(RD("{\"gatewayId\":\"0102030405060708\",\"update\":[]}"),
	                 FUOTA_ERR_MALFORMED);
#undef RD
}

static void test_update_event(void **state)
{
	struct gw_update_event ev;
	char err[160], big[400];
#define RD(s) gw_update_event_from_json(s, strlen(s), &ev, err, sizeof(err))

	(void)state;
	assert_int_equal(RD("{\"id\":7,\"state\":\"done\",\"method\":\"http\",\"progress\":100,"
	                    "\"firmwareBefore\":\"03.15\",\"firmware\":\"03.16\"}"),
	                 0);
	assert_int_equal(ev.id, 7);
	assert_string_equal(ev.state, "done");
	assert_string_equal(ev.firmware_before, "03.15");
	assert_string_equal(ev.firmware, "03.16");
	assert_int_equal(ev.progress, 100);
	assert_int_equal(ev.deferred_until_s, 0);
	assert_string_equal(ev.error, "");
	assert_int_equal(RD("{\"id\":0,\"state\":\"deferred\",\"method\":\"ufota\","
	                    "\"deferredUntil\":1765000000}"),
	                 0);
	assert_int_equal(ev.progress, -1);
	assert_int_equal(ev.deferred_until_s, 1765000000);
	assert_int_equal(RD("{\"state\":\"done\",\"method\":\"http\"}"), FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "id: not an integer of at least 0");
	assert_int_equal(RD("{\"id\":3,\"state\":\"done\"}"), FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "method: not ufota, foat, http, ftp or uart");
	assert_int_equal(RD("{\"id\":3,\"state\":\"done\",\"method\":\"ftp\",\"firmware\":7}"),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(RD("not json"), FUOTA_ERR_MALFORMED);
	/* A long error is cut, before a two-byte character that would not fit whole. */
	memset(big, 0, sizeof(big));
	strcpy(big, "{\"id\":3,\"state\":\"failed\",\"method\":\"ftp\",\"error\":\"");
	memset(big + strlen(big), 'x', 158);
	strcat(big, "\u00e9tail\"}");
	assert_int_equal(RD(big), 0);
	assert_int_equal(strlen(ev.error), 158);
#undef RD
}

/* When state/modem is looked at again: a period after a publish or nothing to say, soon after a
 * refusal (doubling, up to the period), never at once. */
static void test_state_next(void **state)
{
	static const struct {
		enum gw_state_look look;
		unsigned refusals;
		uint32_t every_ms;
		int64_t wait_ms;
	} cases[] = {
	        {GW_STATE_SENT, 0, 30000, 30000},
	        {GW_STATE_SAME, 0, 30000, 30000},
	        {GW_STATE_SAME, 3, 30000, 30000}, /* the count means nothing here */
	        {GW_STATE_REFUSED, 1, 30000, GW_STATE_RETRY_MS},
	        {GW_STATE_REFUSED, 0, 30000, GW_STATE_RETRY_MS},
	        {GW_STATE_REFUSED, 2, 30000, 2 * GW_STATE_RETRY_MS},
	        {GW_STATE_REFUSED, 5, 30000, 16 * GW_STATE_RETRY_MS},
	        {GW_STATE_REFUSED, 6, 30000, 30000}, /* capped at the period */
	        {GW_STATE_REFUSED, 4000000000u, 30000, 30000},
	        {GW_STATE_REFUSED, 1, 1000, 1000}, /* --state-s 1: never slower than usual */
	        {GW_STATE_REFUSED, 30, 86400000, 86400000},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t at = gw_state_next_ms(cases[i].look, cases[i].refusals, 5000000,
		                              cases[i].every_ms);

		assert_int_equal(at - 5000000, cases[i].wait_ms);
	}
}

static void test_changed(void **state)
{
	struct gw_modem_state a = sample(), b = sample();

	(void)state;
	assert_false(gw_modem_changed(&a, &b));
	b.queue_depth = 5; /* the queue starts filling: worth saying */
	assert_true(gw_modem_changed(&a, &b));
	a.queue_depth = 3; /* only the depth moved */
	assert_false(gw_modem_changed(&a, &b));
	b.csq = 12;
	assert_true(gw_modem_changed(&a, &b));
	b = a;
	b.reg_stat = 2;
	assert_true(gw_modem_changed(&a, &b));
	b = a;
	b.link_up = false;
	assert_true(gw_modem_changed(&a, &b));
}

/* The update flag: written while active, absent otherwise, and a change worth publishing. */
static void test_modem_update(void **state)
{
	struct gw_modem_state a = sample(), b = sample();
	char *js;
	size_t n;

	(void)state;
	assert_int_equal(gw_modem_to_json(&a, &js, &n), 0);
	assert_null(strstr(js, "\"update\""));
	free(js);
	a.update = (struct gw_modem_update){
	        .id = 7, .state = "installing", .method = "uart", .progress = 40, .active = true};
	assert_true(gw_modem_changed(&b, &a));
	assert_int_equal(gw_modem_to_json(&a, &js, &n), 0);
	assert_non_null(strstr(js, "\"update\":{\"id\":7,\"method\":\"uart\",\"progress\":40,"
	                           "\"state\":\"installing\"}"));
	free(js);
	b = a;
	b.update.progress = 45; /* the same 10 points */
	assert_false(gw_modem_changed(&a, &b));
	b.update.progress = 50;
	assert_true(gw_modem_changed(&a, &b));
	b = a;
	b.update.progress = -1; /* unknown: no progress field */
	assert_int_equal(gw_modem_to_json(&b, &js, &n), 0);
	assert_null(strstr(js, "progress"));
	free(js);
	a.update.active = false;
	assert_int_equal(gw_modem_to_json(&a, &js, &n), 0);
	assert_null(strstr(js, "\"update\""));
	free(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_topic),        cmocka_unit_test(test_conn_state),
	        cmocka_unit_test(test_modem_json),   cmocka_unit_test(test_modem_update_member),
	        cmocka_unit_test(test_update_event), cmocka_unit_test(test_changed),
	        cmocka_unit_test(test_modem_update), cmocka_unit_test(test_state_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
