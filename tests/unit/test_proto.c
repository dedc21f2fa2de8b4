/* The generated protobuf-c code against wire bytes computed independently from the field numbers
 * of CHIRPSTACK-NOTES.md §9 (a tiny varint/length-delimited encoder, not protoc-c): proves that
 * proto/ is wire-compatible with ChirpStack v4, and that unknown fields of newer versions are
 * skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chirpstack/gw.pb-c.h"
#include "chirpstack/integration.pb-c.h"
#include "fuota/cs_msg.h"
#include "fuota/err.h"

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; s[0] && s[1]; s += 2) {
		unsigned v;

		sscanf(s, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* gw.DownlinkFrame{downlink_id 0x1234, gateway_id "0102030405060708", items [{phy_payload,
 * tx_info{frequency 869525000, power 14, lora{bw 125000, sf 12, polarization_inversion, CR_4_5},
 * timing immediately}}]} */
static const char downlink_frame_hex[] = "18b4242a2b0a0d6004030201000100c9aabbccdd1a1a0888cccf9e031"
                                         "00e1a0c1a0a08c8d007100c2001280132020a"
                                         "003a1030313032303330343035303630373038";

static void test_downlink_frame_wire(void **state)
{
	uint8_t phy[13], want[256], got[256];
	size_t want_len = unhex(downlink_frame_hex, want);
	Gw__LoraModulationInfo lora = GW__LORA_MODULATION_INFO__INIT;
	Gw__Modulation mod = GW__MODULATION__INIT;
	Gw__ImmediatelyTimingInfo now = GW__IMMEDIATELY_TIMING_INFO__INIT;
	Gw__Timing timing = GW__TIMING__INIT;
	Gw__DownlinkTxInfo tx = GW__DOWNLINK_TX_INFO__INIT;
	Gw__DownlinkFrameItem item = GW__DOWNLINK_FRAME_ITEM__INIT;
	Gw__DownlinkFrameItem *items[1] = {&item};
	Gw__DownlinkFrame frame = GW__DOWNLINK_FRAME__INIT;
	char gw[] = "0102030405060708";

	(void)state;
	unhex("6004030201000100c9aabbccdd", phy);
	lora.bandwidth = 125000;
	lora.spreading_factor = 12;
	lora.polarization_inversion = 1;
	lora.code_rate = GW__CODE_RATE__CR_4_5;
	mod.parameters_case = GW__MODULATION__PARAMETERS_LORA;
	mod.lora = &lora;
	timing.parameters_case = GW__TIMING__PARAMETERS_IMMEDIATELY;
	timing.immediately = &now;
	tx.frequency = 869525000;
	tx.power = 14;
	tx.modulation = &mod;
	tx.timing = &timing;
	item.phy_payload.data = phy;
	item.phy_payload.len = sizeof(phy);
	item.tx_info = &tx;
	frame.downlink_id = 0x1234;
	frame.n_items = 1;
	frame.items = items;
	frame.gateway_id = gw;

	assert_int_equal(gw__downlink_frame__get_packed_size(&frame), want_len);
	assert_int_equal(gw__downlink_frame__pack(&frame, got), want_len);
	assert_memory_equal(got, want, want_len);
}

/* integration.UplinkEvent with DeviceInfo (application "app-1", DevEUI, a tag), dr 5, f_cnt 77,
 * f_port 202, data = an AppTimeReq, one rx_info (gateway, time_since_gps_epoch 1436486418.5 s,
 * rssi -120), plus fields this proto does not declare: object (11), relay_rx_info (14) and
 * region_config_id (16 is declared). */
static const char uplink_event_hex[] = "0a04757569641a211a056170702d3142103031303230333034303530363"
                                       "03730384a060a016b1201763005384d40"
                                       "ca0152060101020408155a020a00622b0a1061616262636364646565666"
                                       "630303131220c089296fcac051080cab5"
                                       "ee013088ffffffffffffffff01720208018201056575383638";

static void test_uplink_event_wire(void **state)
{
	uint8_t buf[512];
	size_t len = unhex(uplink_event_hex, buf);
	Integration__UplinkEvent *ev;

	(void)state;
	ev = integration__uplink_event__unpack(NULL, len, buf);
	assert_non_null(ev);
	assert_string_equal(ev->deduplication_id, "uuid");
	assert_non_null(ev->device_info);
	assert_string_equal(ev->device_info->application_id, "app-1");
	assert_string_equal(ev->device_info->dev_eui, "0102030405060708");
	assert_int_equal(ev->device_info->n_tags, 1);
	assert_string_equal(ev->device_info->tags[0]->key, "k");
	assert_int_equal(ev->dr, 5);
	assert_int_equal(ev->f_cnt, 77);
	assert_int_equal(ev->f_port, 202);
	assert_int_equal(ev->data.len, 6);
	assert_int_equal(ev->data.data[0], 0x01);
	assert_int_equal(ev->n_rx_info, 1);
	assert_string_equal(ev->rx_info[0]->gateway_id, "aabbccddeeff0011");
	assert_non_null(ev->rx_info[0]->time_since_gps_epoch);
	assert_int_equal(ev->rx_info[0]->time_since_gps_epoch->seconds, 1436486418);
	assert_int_equal(ev->rx_info[0]->time_since_gps_epoch->nanos, 500000000);
	assert_int_equal(ev->rx_info[0]->rssi, -120);
	assert_string_equal(ev->region_config_id, "eu868");
	integration__uplink_event__free_unpacked(ev, NULL);
}

static void test_truncated_uplink_rejected(void **state)
{
	uint8_t buf[512];
	size_t len = unhex(uplink_event_hex, buf);

	(void)state;
	/* Cut inside the DeviceInfo submessage: the length prefix promises more than there is. */
	assert_null(integration__uplink_event__unpack(NULL, 20, buf));
	(void)len;
}

/* cs_gw_uplink_to_proto, fuota-gw's gw.UplinkFrame: the radio parameters, and rx_info with its
 * times (the rx_info writer it shares with cs_uplink_to_proto); a time not set is left out. */
static void test_gw_uplink_frame_wire(void **state)
{
	struct cs_gw_uplink f;
	Gw__UplinkFrame *m;
	uint8_t *bin = NULL;
	size_t len = 0;

	(void)state;
	memset(&f, 0, sizeof(f));
	memcpy(f.phy, "\x40\x01\x02", 3);
	f.phy_len = 3;
	f.frequency = 868300000;
	f.bandwidth = 125000;
	f.spreading_factor = 9;
	f.code_rate = 1;
	snprintf(f.rx.gateway_id, sizeof(f.rx.gateway_id), "0102030405060708");
	f.rx.uplink_id = 4242;
	f.rx.gw_time = (struct cs_time){1, 1700000000, 250000000};
	f.rx.time_since_gps_epoch = (struct cs_time){1, 1384035218, 250000000};
	f.rx.ns_time = (struct cs_time){1, 1, 0};
	f.rx.rssi = -97;
	f.rx.snr = -3.5f;
	memcpy(f.rx.context, "\xde\xad\xbe\xef", 4);
	f.rx.context_len = 4;
	f.channel = 3;
	f.rf_chain = 1;
	f.crc_status = 2;
	assert_int_equal(cs_gw_uplink_to_proto(&f, &bin, &len), FUOTA_OK);
	m = gw__uplink_frame__unpack(NULL, len, bin);
	assert_non_null(m);
	assert_int_equal(m->phy_payload.len, 3);
	assert_int_equal(m->tx_info->frequency, 868300000);
	assert_int_equal(m->tx_info->modulation->parameters_case, GW__MODULATION__PARAMETERS_LORA);
	assert_int_equal(m->tx_info->modulation->lora->spreading_factor, 9);
	assert_int_equal(m->tx_info->modulation->lora->code_rate, GW__CODE_RATE__CR_4_5);
	assert_string_equal(m->rx_info->gateway_id, "0102030405060708");
	assert_int_equal(m->rx_info->uplink_id, 4242);
	assert_int_equal(m->rx_info->gw_time->seconds, 1700000000);
	assert_int_equal(m->rx_info->gw_time->nanos, 250000000);
	assert_int_equal(m->rx_info->time_since_gps_epoch->seconds, 1384035218);
	assert_non_null(m->rx_info->ns_time); /* what the struct holds is written */
	assert_int_equal(m->rx_info->rssi, -97);
	assert_true(m->rx_info->snr < -3.4f && m->rx_info->snr > -3.6f);
	assert_int_equal(m->rx_info->channel, 3);
	assert_int_equal(m->rx_info->rf_chain, 1);
	assert_int_equal(m->rx_info->crc_status, GW__CRCSTATUS__CRC_OK);
	assert_memory_equal(m->rx_info->context.data, "\xde\xad\xbe\xef", 4);
	gw__uplink_frame__free_unpacked(m, NULL);
	free(bin);
	/* FSK, no times. */
	f.fsk = 1;
	f.fsk_datarate = 50000;
	memset(&f.rx.gw_time, 0, sizeof(f.rx.gw_time));
	memset(&f.rx.time_since_gps_epoch, 0, sizeof(f.rx.time_since_gps_epoch));
	memset(&f.rx.ns_time, 0, sizeof(f.rx.ns_time));
	assert_int_equal(cs_gw_uplink_to_proto(&f, &bin, &len), FUOTA_OK);
	m = gw__uplink_frame__unpack(NULL, len, bin);
	assert_non_null(m);
	assert_int_equal(m->tx_info->modulation->parameters_case, GW__MODULATION__PARAMETERS_FSK);
	assert_int_equal(m->tx_info->modulation->fsk->datarate, 50000);
	assert_null(m->rx_info->gw_time);
	assert_null(m->rx_info->time_since_gps_epoch);
	assert_null(m->rx_info->ns_time);
	gw__uplink_frame__free_unpacked(m, NULL);
	free(bin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_downlink_frame_wire),
	        cmocka_unit_test(test_uplink_event_wire),
	        cmocka_unit_test(test_truncated_uplink_rejected),
	        cmocka_unit_test(test_gw_uplink_frame_wire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
