/* The gateway messages' JSON mapping (proto/src/cs_gw_json.c) and the gw.GatewayStats writers
 * (cs_gw_json.c, cs_proto.c) against hand-written text: a DownlinkFrame as ChirpStack writes it in
 * JSON (camelCase, base64, Duration strings, the Timing oneof) read, and what fuotad writes for it
 * compared with the expected JSON; snake_case keys, refusals of bad input, the ack in JSON, and the
 * stats message on the wire (field numbers of CHIRPSTACK-NOTES §9.5). test_cs_msg checks the same
 * functions by round trips; fuota-sim's JSON gateways use them as well, so these fixed texts are
 * what checks the mapping itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fuota/cs_msg.h"
#include "fuota/err.h"

static int parse(const char *text, struct cs_gw_downlink *d, char *err, size_t errlen)
{
	return cs_gw_downlink_from_json(text, strlen(text), d, err, errlen);
}

/* Whether text (NUL-terminated) holds the same JSON value as want. */
static bool same_json(const char *text, const char *want)
{
	json_t *a = json_loads(text, 0, NULL), *b = json_loads(want, 0, NULL);
	bool same = a && b && json_equal(a, b);
	json_decref(a);
	json_decref(b);
	return same;
}

/* Which encoding a gateway payload is in (cs_payload_is_json, as fuota-sim's gateways decide):
 * fuotad's DownlinkFrame in protobuf never passes for JSON, its JSON form does. */
static void test_is_json(void **state)
{
	(void)state;
	struct cs_gw_downlink d = {.downlink_id = 123, .frequency = 869525000, .phy_len = 3};
	memcpy(d.gateway_id, "0016c001ff000001", 17);
	uint8_t *buf = NULL;
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(cs_gw_downlink_to_proto(&d, &buf, &len), FUOTA_OK);
	assert_false(cs_payload_is_json(buf, len));
	free(buf);
	assert_int_equal(cs_gw_downlink_to_json(&d, &text, &len), FUOTA_OK);
	assert_true(cs_payload_is_json((const uint8_t *)text, len));
	free(text);
}

static void test_gps_frame(void **state)
{
	(void)state;
	/* PHYPayload 60 04 03 02 01 00 05 00 ca fe = "YAQDAgEABQDK/g==" */
	const char *text =
	        "{\"downlinkId\":3405691582,\"gatewayId\":\"0016C001FF000001\",\"items\":[{"
	        "\"phyPayload\":\"YAQDAgEABQDK/g==\",\"txInfo\":{\"frequency\":869525000,"
	        "\"power\":27,\"modulation\":{\"lora\":{\"bandwidth\":125000,\"spreadingFactor\":9,"
	        "\"codeRate\":\"CR_4_5\",\"polarizationInversion\":true}},\"board\":0,"
	        "\"antenna\":0,\"timing\":{\"gpsEpoch\":{\"timeSinceGpsEpoch\":"
	        "\"1436486418.120s\"}},\"context\":\"AQID\"}},{\"phyPayload\":\"AA==\"}],"
	        "\"newerField\":{\"x\":[1,2]}}";
	struct cs_gw_downlink d;
	char err[128] = "";
	assert_int_equal(parse(text, &d, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(d.downlink_id, 3405691582u);
	assert_string_equal(d.gateway_id, "0016c001ff000001");
	const uint8_t phy[] = {0x60, 0x04, 0x03, 0x02, 0x01, 0x00, 0x05, 0x00, 0xca, 0xfe};
	assert_int_equal(d.phy_len, sizeof(phy));
	assert_memory_equal(d.phy, phy, sizeof(phy));
	assert_int_equal(d.frequency, 869525000);
	assert_int_equal(d.power, 27);
	assert_int_equal(d.fsk, 0);
	assert_int_equal(d.bandwidth, 125000);
	assert_int_equal(d.spreading_factor, 9);
	assert_int_equal(d.polarization_inversion, 1);
	assert_int_equal(d.timing, CS_TIMING_GPS_EPOCH);
	assert_true(d.timing_ns == INT64_C(1436486418120000000));
	assert_int_equal(d.context_len, 3);
	assert_int_equal(d.context[2], 3);

	/* fuotad's writer gives that frame back in the same mapping (one item, no extras; the
	 * Duration with nine digits, which the mapping's readers take as they take three). */
	const char *want =
	        "{\"downlinkId\":3405691582,\"gatewayId\":\"0016c001ff000001\",\"items\":[{"
	        "\"phyPayload\":\"YAQDAgEABQDK/g==\",\"txInfo\":{\"frequency\":869525000,"
	        "\"power\":27,\"modulation\":{\"lora\":{\"bandwidth\":125000,\"spreadingFactor\":9,"
	        "\"codeRate\":\"CR_4_5\",\"polarizationInversion\":true}},\"timing\":{"
	        "\"gpsEpoch\":{\"timeSinceGpsEpoch\":\"1436486418.120000000s\"}},\"context\":"
	        "\"AQID\"}}]"
	        "}";
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(cs_gw_downlink_to_json(&d, &out, &len), FUOTA_OK);
	assert_true(same_json(out, want));
	free(out);
}

static void test_other_timings_and_names(void **state)
{
	(void)state;
	struct cs_gw_downlink d;
	/* snake_case names, numbers as strings, FSK, delay timing */
	assert_int_equal(parse("{\"downlink_id\":\"7\",\"gateway_id\":\"0016c001ff000002\","
	                       "\"items\":[{\"phy_payload\":\"AQ==\",\"tx_info\":{"
	                       "\"frequency\":\"868300000\",\"modulation\":{\"fsk\":{"
	                       "\"datarate\":50000}},\"timing\":{\"delay\":{\"delay\":\"1s\"}}}}]}",
	                       &d, NULL, 0),
	                 FUOTA_OK);
	assert_int_equal(d.downlink_id, 7);
	assert_int_equal(d.frequency, 868300000);
	assert_int_equal(d.fsk, 1);
	assert_int_equal(d.fsk_datarate, 50000);
	assert_int_equal(d.timing, CS_TIMING_DELAY);
	assert_true(d.timing_ns == INT64_C(1000000000));
	/* immediately, and no timing at all */
	assert_int_equal(
	        parse("{\"gatewayId\":\"0016c001ff000002\",\"items\":[{\"phyPayload\":"
	              "\"AQ==\",\"txInfo\":{\"modulation\":{\"lora\":{\"bandwidth\":125000}},"
	              "\"timing\":{\"immediately\":{}}}}]}",
	              &d, NULL, 0),
	        FUOTA_OK);
	assert_int_equal(d.timing, CS_TIMING_IMMEDIATELY);
	assert_int_equal(d.downlink_id, 0); /* absent: the default */
	assert_int_equal(
	        parse("{\"gatewayId\":\"0016c001ff000002\",\"items\":[{\"phyPayload\":"
	              "\"AQ==\",\"txInfo\":{\"modulation\":{\"lora\":{}},\"timing\":null}}]}",
	              &d, NULL, 0),
	        FUOTA_OK);
	assert_int_equal(d.timing, CS_TIMING_IMMEDIATELY);
}

static void test_refusals(void **state)
{
	(void)state;
	/* Each with a valid PHYPayload where it gets that far, so that it is refused for its own
	 * flaw, which the error names. */
#define GW   "{\"gatewayId\":\"0016c001ff000002\","
#define ITEM "\"items\":[{\"phyPayload\":\"AQ==\","
	static const struct {
		const char *text, *why;
	} bad[] = {
	        {"", "not JSON"},
	        {"[]", "not a JSON object"},
	        {GW "\"items\":[]", "not JSON"},
	        {GW "\"items\":[]}", "items: expected a non-empty array"},
	        {"{\"gatewayId\":\"0016c001ff00002\"," ITEM "\"txInfo\":{\"modulation\":{"
	         "\"lora\":{}}}}]}",
	         "gatewayId"},
	        {"{\"gatewayId\":\"0016c001ff00000g\"," ITEM "\"txInfo\":{\"modulation\":{"
	         "\"lora\":{}}}}]}",
	         "gatewayId"},
	        {"{" ITEM "\"txInfo\":{\"modulation\":{\"lora\":{}}}}]}", "gatewayId"},
	        {GW "\"items\":[{\"phyPayload\":\"AQ==\"}]}", "txInfo: missing"},
	        {GW "\"items\":[{\"txInfo\":{\"modulation\":{\"lora\":{}}}}]}", "phyPayload"},
	        {GW ITEM "\"txInfo\":{}}]}", "modulation: missing"},
	        {GW "\"items\":[{\"phyPayload\":\"A!==\",\"txInfo\":{\"modulation\":{"
	            "\"lora\":{}}}}]}",
	         "phyPayload"},
	        {GW ITEM "\"txInfo\":{\"frequency\":-1,\"modulation\":{\"lora\":{}}}}]}",
	         "frequency"},
	        {GW ITEM "\"txInfo\":{\"frequency\":4294967296,\"modulation\":{\"lora\":{}}}}]}",
	         "frequency"},
	        {GW ITEM "\"txInfo\":{\"modulation\":{\"lora\":{}},\"timing\":{\"gpsEpoch\":{"
	                 "\"timeSinceGpsEpoch\":\"-5s\"}}}}]}",
	         "timeSinceGpsEpoch"},
	        {GW ITEM "\"txInfo\":{\"modulation\":{\"lora\":{\"polarizationInversion\":1}}}}]}",
	         "polarizationInversion"},
	        {GW "\"gatewayId\":\"0016c001ff000003\"," ITEM "\"txInfo\":{\"modulation\":{"
	            "\"lora\":{}}}}]}",
	         "duplicate"},
	        {GW "\"items\":[\"x\"]}", "items[0]: expected an object"},
	        {GW ITEM "\"txInfo\":{\"modulation\":\"lora\"}}]}",
	         "modulation: expected an object"},
	};
#undef GW
#undef ITEM
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cs_gw_downlink d;
		char err[128] = "";
		memset(&d, 0x5a, sizeof(d));
		assert_int_equal(parse(bad[i].text, &d, err, sizeof(err)), FUOTA_ERR_MALFORMED);
		if (!strstr(err, bad[i].why))
			fail_msg("bad[%zu]: \"%s\" does not name %s", i, err, bad[i].why);
		assert_int_equal(d.downlink_id, 0); /* zeroed */
		assert_int_equal(d.phy_len, 0);
	}
	/* A PHYPayload longer than CS_MAX_PAYLOAD. */
	size_t n = 4 * ((CS_MAX_PAYLOAD + 3) / 3);
	char *big = malloc(n + 200);
	assert_non_null(big);
	int off = sprintf(big, "{\"gatewayId\":\"0016c001ff000002\",\"items\":[{\"phyPayload\":\"");
	memset(big + off, 'A', n);
	strcpy(big + off + n, "\",\"txInfo\":{\"modulation\":{\"lora\":{}}}}]}");
	struct cs_gw_downlink d;
	assert_int_equal(parse(big, &d, NULL, 0), FUOTA_ERR_MALFORMED);
	free(big);
}

static void test_ack_json(void **state)
{
	(void)state;
	struct cs_gw_ack a = {.downlink_id = 4000000000u, .status = CS_ACK_DUTY_CYCLE_OVERFLOW};
	memcpy(a.gateway_id, "0016c001ff000001", 17);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(cs_gw_ack_to_json(&a, &text, &len), FUOTA_OK);
	assert_int_equal(len, strlen(text));
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "gatewayId")),
	                    "0016c001ff000001");
	assert_true(json_integer_value(json_object_get(root, "downlinkId")) == 4000000000);
	json_t *items = json_object_get(root, "items");
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "status")),
	                    "DUTY_CYCLE_OVERFLOW");
	json_decref(root);
	assert_true(cs_payload_is_json((const uint8_t *)text, len));
	free(text);
}

static void test_stats(void **state)
{
	(void)state;
	struct cs_gw_stats st = {
	        .rx_received = 300, .rx_received_ok = 299, .tx_received = 5, .tx_emitted = 4};
	memcpy(st.gateway_id, "0016c001ff000003", 17);
	st.time.set = 1;
	st.time.sec = 1752451200; /* 2025-07-14T00:00:00Z */
	st.time.nsec = 500000000;

	char *text = NULL;
	size_t len = 0;
	assert_int_equal(cs_gw_stats_to_json(&st, &text, &len), FUOTA_OK);
	json_t *root = json_loads(text, 0, NULL);
	assert_non_null(root);
	/* ChirpStack tells a JSON gateway by "gatewayId" in what it publishes. */
	assert_non_null(strstr(text, "\"gatewayId\""));
	assert_string_equal(json_string_value(json_object_get(root, "gatewayId")),
	                    "0016c001ff000003");
	struct cs_time t;
	assert_int_equal(
	        cs_time_parse_rfc3339(json_string_value(json_object_get(root, "time")), &t),
	        FUOTA_OK);
	assert_true(t.sec == st.time.sec);
	assert_int_equal(t.nsec, st.time.nsec);
	assert_int_equal(json_integer_value(json_object_get(root, "rxPacketsReceived")), 300);
	assert_int_equal(json_integer_value(json_object_get(root, "rxPacketsReceivedOk")), 299);
	assert_int_equal(json_integer_value(json_object_get(root, "txPacketsReceived")), 5);
	assert_int_equal(json_integer_value(json_object_get(root, "txPacketsEmitted")), 4);
	json_decref(root);
	free(text);

	/* Binary: time = 2 (tag 0x12), rx_packets_received = 5 (0x28), ..._ok = 6 (0x30),
	 * tx_packets_received = 7 (0x38), tx_packets_emitted = 8 (0x40), gateway_id = 17
	 * (0x8a 0x01), in field order. */
	uint8_t *buf = NULL;
	assert_int_equal(cs_gw_stats_to_proto(&st, &buf, &len), FUOTA_OK);
	const uint8_t want[] = {0x12, 0x0c, 0x08, 0x80, 0x91, 0xd1, 0xc3, 0x06, 0x10, 0x80, 0xca,
	                        0xb5, 0xee, 0x01, 0x28, 0xac, 0x02, 0x30, 0xab, 0x02, 0x38, 0x05,
	                        0x40, 0x04, 0x8a, 0x01, 0x10, '0',  '0',  '1',  '6',  'c',  '0',
	                        '0',  '1',  'f',  'f',  '0',  '0',  '0',  '0',  '0',  '3'};
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_false(cs_payload_is_json(buf, len));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_is_json),
	        cmocka_unit_test(test_gps_frame),
	        cmocka_unit_test(test_other_timings_and_names),
	        cmocka_unit_test(test_refusals),
	        cmocka_unit_test(test_ack_json),
	        cmocka_unit_test(test_stats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
