/* The ChirpStack MQTT messages: JSON mapping and binary protobuf, both directions, with
 * hand-written JSON in the shape ChirpStack v4 publishes, and every malformed case a broker could
 * deliver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/cs_msg.h"
#include "fuota/err.h"

/* An uplink as ChirpStack v4 publishes it (JSON mapping), with fields fuota does not use. */
static const char chirpstack_uplink[] =
        "{\"deduplicationId\":\"3b3b2b6c-1f8e-4b4e-9f1a-1b2c3d4e5f60\","
        "\"time\":\"2025-07-14T00:00:00.250+02:00\","
        "\"deviceInfo\":{\"tenantId\":\"t-1\",\"tenantName\":\"ACME\",\"applicationId\":\"app-1\","
        "\"applicationName\":\"meters\",\"deviceProfileId\":\"p\",\"deviceProfileName\":\"pn\","
        "\"deviceName\":\"m1\",\"devEui\":\"0102030405060A0B\",\"tags\":{\"site\":\"x\"},"
        "\"deviceClassEnabled\":\"CLASS_A\"},"
        "\"devAddr\":\"01020304\",\"adr\":true,\"dr\":5,\"fCnt\":\"77\",\"fPort\":202,"
        "\"confirmed\":false,\"data\":\"AQECBAgV\",\"object\":{\"a\":1},"
        "\"rxInfo\":[{\"gatewayId\":\"aabbccddeeff0011\",\"uplinkId\":4242,"
        "\"gwTime\":\"2025-07-13T22:00:00.25Z\",\"timeSinceGpsEpoch\":\"1436479218.250s\","
        "\"nsTime\":\"2025-07-13T22:00:00.300Z\",\"rssi\":-57,\"snr\":9.5,\"channel\":1,"
        "\"location\":{},\"context\":\"AAECAw==\",\"crcStatus\":\"CRC_OK\"},"
        "{\"gatewayId\":\"1122334455667788\",\"rssi\":-110,\"snr\":-7}],"
        "\"txInfo\":{\"frequency\":868100000,\"modulation\":{\"lora\":{\"bandwidth\":125000,"
        "\"spreadingFactor\":7,\"codeRate\":\"CR_4_5\"}}},\"regionConfigId\":\"eu868\"}";

static void check_uplink(const struct cs_uplink *u)
{
	const uint8_t data[] = {0x01, 0x01, 0x02, 0x04, 0x08, 0x15};
	const uint8_t ctx[] = {0, 1, 2, 3};

	assert_string_equal(u->deduplication_id, "3b3b2b6c-1f8e-4b4e-9f1a-1b2c3d4e5f60");
	assert_true(u->time.set);
	assert_int_equal(u->time.sec, 1752451200 - 7200); /* 2025-07-14T00:00+02:00 */
	assert_int_equal(u->time.nsec, 250000000);
	assert_string_equal(u->tenant_id, "t-1");
	assert_string_equal(u->application_id, "app-1");
	assert_string_equal(u->dev_eui, "0102030405060a0b"); /* normalised to lowercase */
	assert_string_equal(u->dev_addr, "01020304");
	assert_int_equal(u->dr, 5);
	assert_int_equal(u->f_cnt, 77);
	assert_int_equal(u->f_port, 202);
	assert_false(u->confirmed);
	assert_int_equal(u->data_len, sizeof(data));
	assert_memory_equal(u->data, data, sizeof(data));
	assert_int_equal(u->frequency, 868100000);
	assert_int_equal(u->n_rx, 2);
	assert_string_equal(u->rx[0].gateway_id, "aabbccddeeff0011");
	assert_int_equal(u->rx[0].uplink_id, 4242);
	assert_true(u->rx[0].time_since_gps_epoch.set);
	assert_int_equal(u->rx[0].time_since_gps_epoch.sec, 1436479218);
	assert_int_equal(u->rx[0].time_since_gps_epoch.nsec, 250000000);
	assert_true(u->rx[0].gw_time.set);
	assert_true(u->rx[0].ns_time.set);
	assert_int_equal(u->rx[0].ns_time.nsec, 300000000);
	assert_int_equal(u->rx[0].rssi, -57);
	assert_true(u->rx[0].snr > 9.4f && u->rx[0].snr < 9.6f);
	assert_int_equal(u->rx[0].context_len, sizeof(ctx));
	assert_memory_equal(u->rx[0].context, ctx, sizeof(ctx));
	assert_false(u->rx[1].time_since_gps_epoch.set);
	assert_int_equal(u->rx[1].rssi, -110);
	assert_string_equal(u->region_config_id, "eu868");
}

static void test_uplink_json_from_chirpstack(void **state)
{
	struct cs_uplink u;
	char err[128] = "";

	(void)state;
	assert_int_equal(cs_uplink_from_json(chirpstack_uplink, strlen(chirpstack_uplink), &u, err,
	                                     sizeof(err)),
	                 FUOTA_OK);
	check_uplink(&u);
}

static void test_uplink_round_trips(void **state)
{
	struct cs_uplink u, back;
	char err[128] = "";
	char *json = NULL;
	uint8_t *bin = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(cs_uplink_from_json(chirpstack_uplink, strlen(chirpstack_uplink), &u, err,
	                                     sizeof(err)),
	                 FUOTA_OK);
	/* JSON -> struct -> JSON -> struct */
	assert_int_equal(cs_uplink_to_json(&u, &json, &len), FUOTA_OK);
	assert_int_equal(cs_uplink_from_json(json, len, &back, err, sizeof(err)), FUOTA_OK);
	check_uplink(&back);
	free(json);
	/* struct -> protobuf -> struct */
	assert_int_equal(cs_uplink_to_proto(&u, &bin, &len), FUOTA_OK);
	assert_int_equal(cs_uplink_from_proto(bin, len, &back, err, sizeof(err)), FUOTA_OK);
	check_uplink(&back);
	free(bin);
}

static void test_uplink_json_snake_case(void **state)
{
	const char *j =
	        "{\"device_info\":{\"application_id\":\"a\",\"dev_eui\":\"0000000000000001\"},"
	        "\"f_port\":\"201\",\"f_cnt\":3,\"data\":\"\"}";
	struct cs_uplink u;

	(void)state;
	assert_int_equal(cs_uplink_from_json(j, strlen(j), &u, NULL, 0), FUOTA_OK);
	assert_int_equal(u.f_port, 201);
	assert_int_equal(u.f_cnt, 3);
	assert_int_equal(u.data_len, 0);
	assert_string_equal(u.application_id, "a");
}

static void test_uplink_json_malformed(void **state)
{
	static const struct {
		const char *json;
		const char *field; /* what the error must name */
	} bad[] = {
	        {"", "invalid JSON"},
	        {"[1,2]", "object"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102\"}}", "devEui"},
	        {"{\"fPort\":1}", "deviceInfo"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"fPort\":-1}", "fPort"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"fPort\":256}", "fPort"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"fCnt\":\"12x\"}", "fCnt"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"fCnt\":4294967296}", "fCnt"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"data\":\"A\"}", "data"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"data\":\"@@@@\"}", "data"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"data\":5}", "data"},
	        {"{\"deviceInfo\":{\"devEui\":\"010203040506070g\"}}", "devEui"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"time\":\"yesterday\"}",
	         "time"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"rxInfo\":{}}", "rxInfo"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"rxInfo\":[{\"rssi\":1}]}",
	         "gatewayId"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"rxInfo\":[{\"gatewayId\":"
	         "\"0102030405060708\",\"timeSinceGpsEpoch\":\"12\"}]}",
	         "timeSinceGpsEpoch"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"confirmed\":\"yes\"}",
	         "confirmed"},
	        {"{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"fPort\":1,\"fPort\":2}",
	         "JSON"},
	};
	struct cs_uplink u;
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(
		        cs_uplink_from_json(bad[i].json, strlen(bad[i].json), &u, err, sizeof(err)),
		        FUOTA_ERR_MALFORMED);
		if (!strstr(err, bad[i].field))
			fail_msg("case %zu: error '%s' does not name '%s'", i, err, bad[i].field);
		assert_int_equal(u.dev_eui[0], 0); /* zeroed on error */
	}
}

static void test_uplink_too_much_data(void **state)
{
	char json[1024];
	char b64[600];
	uint8_t data[CS_MAX_PAYLOAD + 3];
	struct cs_uplink u;

	(void)state;
	memset(data, 0xab, sizeof(data));
	cs_base64_encode(data, sizeof(data), b64);
	snprintf(json, sizeof(json),
	         "{\"deviceInfo\":{\"devEui\":\"0102030405060708\"},\"data\":\"%s\"}", b64);
	assert_int_equal(cs_uplink_from_json(json, strlen(json), &u, NULL, 0), FUOTA_ERR_MALFORMED);
}

static void test_downlink_json_and_proto(void **state)
{
	struct cs_downlink d, back;
	char *json = NULL;
	uint8_t *bin = NULL;
	size_t len;
	char err[128];

	(void)state;
	memset(&d, 0, sizeof(d));
	strcpy(d.id, "abc");
	strcpy(d.dev_eui, "0102030405060708");
	d.f_port = 200;
	d.data_len = 3;
	memcpy(d.data, "\x02\x00\xff", 3);
	assert_int_equal(cs_downlink_to_json(&d, &json, &len), FUOTA_OK);
	assert_non_null(strstr(json, "\"fPort\":200"));
	assert_non_null(strstr(json, "\"data\":\"AgD/\""));
	assert_non_null(strstr(json, "\"devEui\":\"0102030405060708\""));
	assert_int_equal(cs_downlink_from_json(json, len, &back, err, sizeof(err)), FUOTA_OK);
	assert_memory_equal(&back, &d, sizeof(d));
	free(json);
	assert_int_equal(cs_downlink_to_proto(&d, &bin, &len), FUOTA_OK);
	assert_int_equal(cs_downlink_from_proto(bin, len, &back, err, sizeof(err)), FUOTA_OK);
	assert_memory_equal(&back, &d, sizeof(d));
	free(bin);
	/* fPort 0 is not a valid application downlink */
	assert_int_equal(cs_downlink_from_json("{\"devEui\":\"0102030405060708\",\"fPort\":0}", 39,
	                                       &back, err, sizeof(err)),
	                 FUOTA_ERR_MALFORMED);
	assert_non_null(strstr(err, "fPort"));
}

static bool has_bytes(const uint8_t *buf, size_t len, const uint8_t *pat, size_t n)
{
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(buf + i, pat, n) == 0)
			return true;
	return false;
}

static void test_gw_downlink_and_ack(void **state)
{
	struct cs_gw_downlink d, back;
	struct cs_gw_ack a, aback;
	uint8_t *bin = NULL;
	size_t len;
	char err[128];

	(void)state;
	memset(&d, 0, sizeof(d));
	d.downlink_id = 99;
	strcpy(d.gateway_id, "aabbccddeeff0011");
	d.phy_len = 20;
	memset(d.phy, 0x60, d.phy_len);
	d.frequency = 869525000;
	d.power = 27;
	d.bandwidth = 125000;
	d.spreading_factor = 12;
	d.polarization_inversion = 1;
	d.timing = CS_TIMING_GPS_EPOCH;
	d.timing_ns = 1436486418LL * 1000000000 + 5000000;
	assert_int_equal(cs_gw_downlink_to_proto(&d, &bin, &len), FUOTA_OK);
	assert_int_equal(cs_gw_downlink_from_proto(bin, len, &back, err, sizeof(err)), FUOTA_OK);
	assert_memory_equal(&back, &d, sizeof(d));
	/* every truncation of a valid message is rejected or parsed, never read out of bounds */
	for (size_t cut = 0; cut < len; cut++)
		(void)cs_gw_downlink_from_proto(bin, cut, &back, err, sizeof(err));
	free(bin);

	/* FSK (EU868 DR7): FskModulationInfo carries frequency_deviation = 1 and datarate = 2,
	 * i.e. the bytes 08 a8 c3 01 10 d0 86 03 (25000 and 50000 as varints). */
	d.fsk = 1;
	d.bandwidth = d.spreading_factor = 0;
	d.polarization_inversion = 0;
	d.fsk_datarate = 50000;
	d.fsk_fdev = 25000;
	assert_int_equal(cs_gw_downlink_to_proto(&d, &bin, &len), FUOTA_OK);
	assert_true(has_bytes(bin, len, (const uint8_t *)"\x08\xa8\xc3\x01\x10\xd0\x86\x03", 8));
	assert_int_equal(cs_gw_downlink_from_proto(bin, len, &back, err, sizeof(err)), FUOTA_OK);
	assert_memory_equal(&back, &d, sizeof(d));
	free(bin);

	memset(&a, 0, sizeof(a));
	a.downlink_id = 99;
	strcpy(a.gateway_id, "aabbccddeeff0011");
	a.status = CS_ACK_DUTY_CYCLE_OVERFLOW;
	assert_int_equal(cs_gw_ack_to_proto(&a, &bin, &len), FUOTA_OK);
	assert_int_equal(cs_gw_ack_from_proto(bin, len, &aback, err, sizeof(err)), FUOTA_OK);
	assert_memory_equal(&aback, &a, sizeof(a));
	assert_string_equal(cs_ack_status_name(aback.status), "DUTY_CYCLE_OVERFLOW");
	free(bin);

	/* Several items, none OK: the last one's status (downlink_id = 2: 5; items = 5: status
	 * TOO_LATE, then TX_FREQ; gateway_id = 6). With an OK among them: OK. */
	static const uint8_t two[] = "\x10\x05\x2a\x02\x08\x02\x2a\x02\x08\x06"
	                             "\x32\x10"
	                             "aabbccddeeff0011";
	static const uint8_t ok_first[] = "\x10\x05\x2a\x02\x08\x01\x2a\x02\x08\x00"
	                                  "\x32\x10"
	                                  "aabbccddeeff0011";
	assert_int_equal(cs_gw_ack_from_proto(two, sizeof(two) - 1, &aback, err, sizeof(err)),
	                 FUOTA_OK);
	assert_int_equal(aback.downlink_id, 5);
	assert_int_equal(aback.status, CS_ACK_TX_FREQ);
	assert_int_equal(
	        cs_gw_ack_from_proto(ok_first, sizeof(ok_first) - 1, &aback, err, sizeof(err)),
	        FUOTA_OK);
	assert_int_equal(aback.status, CS_ACK_OK);
}

/* The JSON mapping of the gateway messages: round trips, ChirpStack-style text, bad input. */
static void test_gw_json(void **state)
{
	static const char *const bad[] = {
	        "",
	        "[1]",
	        "{\"downlinkId\":1}",
	        "{\"gatewayId\":\"aabbccddeeff001\",\"downlinkId\":1,\"items\":[{}]}",
	        "{\"gatewayId\":\"aabbccddeeff0011\",\"downlinkId\":-1,\"items\":[{}]}",
	        "{\"gatewayId\":\"aabbccddeeff0011\",\"downlinkId\":1,\"items\":[]}",
	        "{\"gatewayId\":\"aabbccddeeff0011\",\"downlinkId\":1,\"items\":[{\"status\":[]}]}",
	        "{\"gatewayId\":\"aabbccddeeff0011\",\"downlinkId\":1,\"items\":[7]}",
	        "{\"gatewayId\":\"aabbccddeeff0011\",\"gatewayId\":\"aabbccddeeff0011\"}",
	};
	struct cs_gw_downlink d, back;
	struct cs_gw_ack a;
	char err[128], *text = NULL;
	size_t len;
	const char *ack;

	(void)state;
	for (int kind = 0; kind < 4; kind++) {
		memset(&d, 0, sizeof(d));
		d.downlink_id = 4000000000u;
		strcpy(d.gateway_id, "aabbccddeeff0011");
		d.phy_len = 33;
		memset(d.phy, 0xa5, d.phy_len);
		d.frequency = 869525000;
		d.power = kind == 3 ? -3 : 27;
		if (kind == 3) {
			d.fsk = 1;
			d.fsk_datarate = 50000;
			d.fsk_fdev = 25000;
		} else {
			d.bandwidth = 125000;
			d.spreading_factor = 9;
			d.polarization_inversion = 1;
		}
		d.timing = (enum cs_timing)(kind % 3);
		d.timing_ns = kind == 2   ? 1436486418LL * 1000000000 + 5000000
		              : kind == 1 ? 1000000000
		                          : 0;
		d.context_len = kind == 1 ? 4 : 0;
		memcpy(d.context, "\x01\x02\x03\x04", d.context_len);
		assert_int_equal(cs_gw_downlink_to_json(&d, &text, &len), FUOTA_OK);
		assert_int_equal(len, strlen(text));
		assert_true(cs_payload_is_json((const uint8_t *)text, len));
		assert_non_null(strstr(text, "\"gatewayId\":\"aabbccddeeff0011\""));
		/* A packet forwarder aborts an FSK txpk without "fdev". */
		if (kind == 3)
			assert_non_null(strstr(text, "\"frequencyDeviation\":25000"));
		assert_int_equal(cs_gw_downlink_from_json(text, len, &back, err, sizeof(err)),
		                 FUOTA_OK);
		assert_memory_equal(&back, &d, sizeof(d));
		for (size_t cut = 0; cut < len; cut++)
			assert_int_equal(
			        cs_gw_downlink_from_json(text, cut, &back, err, sizeof(err)),
			        FUOTA_ERR_MALFORMED);
		free(text);
	}

	/* As a JSON gateway writes it: upper-case id, the id as a string, any OK item wins. The
	 * reader takes a leading blank; the detection rule does not (test_payload_is_json). */
	ack = " {\"gatewayId\":\"AABBCCDDEEFF0011\",\"downlinkId\":\"77\","
	      "\"items\":[{\"status\":\"IGNORED\"},{\"status\":\"OK\"}]}";
	assert_false(cs_payload_is_json((const uint8_t *)ack, strlen(ack)));
	assert_true(cs_payload_is_json((const uint8_t *)ack + 1, strlen(ack) - 1));
	assert_int_equal(cs_gw_ack_from_json(ack, strlen(ack), &a, err, sizeof(err)), FUOTA_OK);
	assert_string_equal(a.gateway_id, "aabbccddeeff0011");
	assert_int_equal(a.downlink_id, 77);
	assert_int_equal(a.status, CS_ACK_OK);
	/* None OK: the last item's status, as ChirpStack takes it. */
	ack = "{\"gateway_id\":\"aabbccddeeff0011\",\"downlink_id\":5,"
	      "\"items\":[{\"status\":2},{\"status\":\"TX_FREQ\"}]}";
	assert_int_equal(cs_gw_ack_from_json(ack, strlen(ack), &a, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(a.status, CS_ACK_TX_FREQ);
	ack = "{\"gatewayId\":\"aabbccddeeff0011\",\"downlinkId\":5,"
	      "\"items\":[{\"status\":\"OK\"},{\"status\":\"IGNORED\"}]}";
	assert_int_equal(cs_gw_ack_from_json(ack, strlen(ack), &a, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(a.status, CS_ACK_OK);
	ack = "{\"gatewayId\":\"aabbccddeeff0011\",\"downlinkId\":5,\"items\":[{}]}";
	assert_int_equal(cs_gw_ack_from_json(ack, strlen(ack), &a, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(a.status, CS_ACK_IGNORED);
	ack = "{\"gatewayId\":\"aabbccddeeff0011\",\"downlinkId\":5,"
	      "\"items\":[{\"status\":\"SOMETHING_NEW\"}]}";
	assert_int_equal(cs_gw_ack_from_json(ack, strlen(ack), &a, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(a.status, CS_ACK_INTERNAL_ERROR);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(cs_gw_ack_from_json(bad[i], strlen(bad[i]), &a, err, sizeof(err)),
		                 FUOTA_ERR_MALFORMED);
		assert_true(err[0] != 0);
		assert_int_equal(a.downlink_id, 0);
		assert_int_equal(
		        cs_gw_downlink_from_json(bad[i], strlen(bad[i]), &back, err, sizeof(err)),
		        FUOTA_ERR_MALFORMED);
	}
	a.downlink_id = 9;
	strcpy(a.gateway_id, "0102030405060708");
	a.status = CS_ACK_COLLISION_BEACON;
	assert_int_equal(cs_gw_ack_to_json(&a, &text, &len), FUOTA_OK);
	assert_int_equal(cs_gw_ack_from_json(text, len, &a, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(a.status, CS_ACK_COLLISION_BEACON);
	assert_int_equal(a.downlink_id, 9);
	free(text);

	/* A binary message is not taken for JSON. */
	assert_false(cs_payload_is_json((const uint8_t *)"\x0a\x10{", 3));
	assert_false(cs_payload_is_json((const uint8_t *)"  ", 2));
	assert_false(cs_payload_is_json(NULL, 0));
}

/* gw.GatewayStats both ways, as a ChirpStack gateway publishes it (fields fuota does not read
 * included), and what fuotad must not learn a gateway's encoding from. */
static void test_gw_stats(void **state)
{
	static const char chirpstack[] =
	        "{\"gatewayId\":\"0016C001FF10D3F6\",\"time\":\"2025-07-14T00:00:30.5Z\","
	        "\"location\":{\"latitude\":48.1},\"configVersion\":\"1.2\","
	        "\"rxPacketsReceived\":12,\"rxPacketsReceivedOk\":\"10\",\"txPacketsReceived\":3,"
	        "\"txPacketsEmitted\":2,\"metadata\":{\"k\":\"v\"},"
	        "\"txPacketsPerStatus\":{\"OK\":2}}";
	static const char *const bad[] = {
	        "",
	        "{",
	        "[]",
	        "{}",
	        "{\"rxPacketsReceived\":1}",
	        "{\"gatewayId\":\"0016c001ff10d3f\"}",
	        "{\"gatewayId\":\"0016c001ff10d3fg\"}",
	        "{\"gatewayId\":16}",
	        "{\"gatewayId\":\"0016c001ff10d3f6\",\"time\":30}",
	        "{\"gatewayId\":\"0016c001ff10d3f6\",\"time\":\"yesterday\"}",
	        "{\"gatewayId\":\"0016c001ff10d3f6\",\"rxPacketsReceived\":-1}",
	        "{\"gatewayId\":\"0016c001ff10d3f6\",\"txPacketsEmitted\":4294967296}",
	        "{\"gatewayId\":\"0016c001ff10d3f6\",\"gatewayId\":\"0016c001ff10d3f6\"}",
	};
	static const char snake[] =
	        "{\"gateway_id\":\"0016c001ff10d3f6\",\"tx_packets_emitted\":\"7\"}";
	struct cs_gw_stats st, back;
	char err[128], *text = NULL;
	uint8_t *bin = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(
	        cs_gw_stats_from_json(chirpstack, strlen(chirpstack), &st, err, sizeof(err)),
	        FUOTA_OK);
	assert_string_equal(st.gateway_id, "0016c001ff10d3f6");
	assert_true(st.time.set);
	assert_int_equal(st.time.sec, 1752451230);
	assert_int_equal(st.time.nsec, 500000000);
	assert_int_equal(st.rx_received, 12);
	assert_int_equal(st.rx_received_ok, 10);
	assert_int_equal(st.tx_received, 3);
	assert_int_equal(st.tx_emitted, 2);

	/* Both writers and both readers agree, snake_case and no time included. */
	assert_int_equal(cs_gw_stats_to_proto(&st, &bin, &len), FUOTA_OK);
	assert_false(cs_payload_is_json(bin, len));
	assert_int_equal(cs_gw_stats_from_proto(bin, len, &back, err, sizeof(err)), FUOTA_OK);
	assert_memory_equal(&back, &st, sizeof(st));
	/* The same bytes are no JSON stats, and JSON stats are no protobuf. */
	assert_int_equal(cs_gw_stats_from_json((const char *)bin, len, &back, err, sizeof(err)),
	                 FUOTA_ERR_MALFORMED);
	free(bin);
	assert_int_equal(cs_gw_stats_to_json(&st, &text, &len), FUOTA_OK);
	assert_true(cs_payload_is_json((const uint8_t *)text, len));
	assert_int_equal(cs_gw_stats_from_json(text, len, &back, err, sizeof(err)), FUOTA_OK);
	assert_memory_equal(&back, &st, sizeof(st));
	assert_int_equal(
	        cs_gw_stats_from_proto((const uint8_t *)text, len, &back, err, sizeof(err)),
	        FUOTA_ERR_MALFORMED);
	free(text);
	assert_int_equal(cs_gw_stats_from_json(snake, strlen(snake), &back, err, sizeof(err)),
	                 FUOTA_OK);
	assert_string_equal(back.gateway_id, "0016c001ff10d3f6");
	assert_false(back.time.set);
	assert_int_equal(back.tx_emitted, 7);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&back, 0x5a, sizeof(back));
		err[0] = 0;
		assert_int_equal(
		        cs_gw_stats_from_json(bad[i], strlen(bad[i]), &back, err, sizeof(err)),
		        FUOTA_ERR_MALFORMED);
		assert_true(err[0] != 0);
		assert_int_equal(back.gateway_id[0], 0); /* zeroed on error */
	}
	/* Protobuf without gateway_id (field 17), with a bad one, and truncated. */
	memset(&st, 0, sizeof(st));
	st.rx_received = 5;
	assert_int_equal(cs_gw_stats_to_proto(&st, &bin, &len), FUOTA_OK);
	assert_int_equal(cs_gw_stats_from_proto(bin, len, &back, err, sizeof(err)),
	                 FUOTA_ERR_MALFORMED);
	free(bin);
	strcpy(st.gateway_id, "0016c001ff10d3fx");
	assert_int_equal(cs_gw_stats_to_proto(&st, &bin, &len), FUOTA_OK);
	assert_int_equal(cs_gw_stats_from_proto(bin, len, &back, err, sizeof(err)),
	                 FUOTA_ERR_MALFORMED);
	free(bin);
	strcpy(st.gateway_id, "0016c001ff10d3f6");
	assert_int_equal(cs_gw_stats_to_proto(&st, &bin, &len), FUOTA_OK);
	assert_int_equal(cs_gw_stats_from_proto(bin, len - 1, &back, err, sizeof(err)),
	                 FUOTA_ERR_MALFORMED);
	free(bin);
}

/* One rule for every message read from the broker: JSON when the first byte is '{'. */
static void test_payload_is_json(void **state)
{
	/* A protobuf message whose field 1 (tag 0x0a, length-delimited) is 123 bytes long: its
	 * second byte is '{', and 0x0a is also a JSON blank. */
	uint8_t field1[2 + 123];
	struct cs_uplink u;
	char *text = NULL;
	uint8_t *bin = NULL;
	size_t len = 0;

	(void)state;
	assert_true(cs_payload_is_json((const uint8_t *)"{", 1));
	assert_true(cs_payload_is_json((const uint8_t *)"{\"gatewayId\":1}", 15));
	assert_false(cs_payload_is_json(NULL, 0));
	assert_false(cs_payload_is_json((const uint8_t *)" {}", 3));
	assert_false(cs_payload_is_json((const uint8_t *)"\r\n{}", 4));
	field1[0] = 0x0a;
	field1[1] = 0x7b;
	memset(field1 + 2, 'x', 123);
	assert_false(cs_payload_is_json(field1, sizeof(field1)));
	/* Uplinks as ChirpStack writes them, both ways. */
	assert_true(
	        cs_payload_is_json((const uint8_t *)chirpstack_uplink, strlen(chirpstack_uplink)));
	assert_int_equal(
	        cs_uplink_from_json(chirpstack_uplink, strlen(chirpstack_uplink), &u, NULL, 0),
	        FUOTA_OK);
	assert_int_equal(cs_uplink_to_proto(&u, &bin, &len), FUOTA_OK);
	assert_false(cs_payload_is_json(bin, len));
	free(bin);
	assert_int_equal(cs_uplink_to_json(&u, &text, &len), FUOTA_OK);
	assert_true(cs_payload_is_json((const uint8_t *)text, len));
	free(text);
}

static void test_base64_rfc4648(void **state)
{
	static const char *const vec[][2] = {
	        {"", ""},
	        {"f", "Zg=="},
	        {"fo", "Zm8="},
	        {"foo", "Zm9v"},
	        {"foob", "Zm9vYg=="},
	        {"fooba", "Zm9vYmE="},
	        {"foobar", "Zm9vYmFy"},
	};
	char enc[16];
	uint8_t dec[16];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		cs_base64_encode((const uint8_t *)vec[i][0], strlen(vec[i][0]), enc);
		assert_string_equal(enc, vec[i][1]);
		assert_int_equal(
		        cs_base64_decode(vec[i][1], strlen(vec[i][1]), dec, sizeof(dec), &n),
		        FUOTA_OK);
		assert_int_equal(n, strlen(vec[i][0]));
		assert_memory_equal(dec, vec[i][0], n);
	}
	assert_int_equal(cs_base64_decode("Zm9v", 4, dec, 2, &n), FUOTA_ERR_NO_SPACE);
	assert_int_equal(cs_base64_decode("Zg=a", 4, dec, 16, &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(cs_base64_decode("Zg===", 5, dec, 16, &n), FUOTA_ERR_MALFORMED);
	assert_int_equal(cs_base64_decode("Z", 1, dec, 16, &n), FUOTA_ERR_MALFORMED);
}

static void test_time_text(void **state)
{
	struct cs_time t;
	char out[64];

	(void)state;
	assert_int_equal(cs_time_parse_rfc3339("1980-01-06T00:00:00Z", &t), FUOTA_OK);
	assert_int_equal(t.sec, 315964800);
	assert_int_equal(cs_time_parse_rfc3339("2025-07-14T00:00:00.123456789Z", &t), FUOTA_OK);
	assert_int_equal(t.nsec, 123456789);
	cs_time_format_rfc3339(&t, out, sizeof(out));
	assert_string_equal(out, "2025-07-14T00:00:00.123456789Z");
	assert_int_equal(cs_time_parse_rfc3339("2025-07-14T00:00:00.1234567891Z", &t),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(cs_time_parse_rfc3339("2025-13-14T00:00:00Z", &t), FUOTA_ERR_MALFORMED);
	assert_int_equal(cs_time_parse_rfc3339("2025-07-14T00:00:00", &t), FUOTA_ERR_MALFORMED);
	assert_int_equal(cs_duration_parse("1436486418.500s", &t), FUOTA_OK);
	assert_int_equal(t.sec, 1436486418);
	assert_int_equal(t.nsec, 500000000);
	cs_duration_format(&t, out, sizeof(out));
	assert_string_equal(out, "1436486418.500000000s");
	assert_int_equal(cs_duration_parse("12", &t), FUOTA_ERR_MALFORMED);
	assert_int_equal(cs_duration_parse("s", &t), FUOTA_ERR_MALFORMED);
	assert_int_equal(cs_duration_parse("9999999999999s", &t), FUOTA_ERR_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_uplink_json_from_chirpstack),
	        cmocka_unit_test(test_uplink_round_trips),
	        cmocka_unit_test(test_uplink_json_snake_case),
	        cmocka_unit_test(test_uplink_json_malformed),
	        cmocka_unit_test(test_uplink_too_much_data),
	        cmocka_unit_test(test_downlink_json_and_proto),
	        cmocka_unit_test(test_gw_downlink_and_ack),
	        cmocka_unit_test(test_gw_json),
	        cmocka_unit_test(test_gw_stats),
	        cmocka_unit_test(test_payload_is_json),
	        cmocka_unit_test(test_base64_rfc4648),
	        cmocka_unit_test(test_time_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
