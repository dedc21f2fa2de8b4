/* The Semtech UDP codec (gateway/src/sudp*.c) against the examples of PROTOCOL.TXT (rxpk §4, stat
 * §4, txpk §6, txpk_ack §5), refusals naming the field at fault, writers read back, the MHz <->
 * Hz exactness, and the conversions to and from ChirpStack's gateway messages. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "fuota/err.h"
#include "fuota/gw.h"
#include "fuota/sudp.h"

static const uint8_t eui[8] = {0xaa, 0x55, 0x5a, 0x00, 0x00, 0x00, 0x01, 0x01};

/* A datagram of the given type whose JSON body is text (header 12 bytes with the EUI, or 4). */
static size_t dgram(uint8_t *buf, size_t cap, uint8_t type, const char *text)
{
	size_t hdr = (type == 0 || type == 2 || type == 5) ? 12 : 4, n = strlen(text);
	assert_true(hdr + n <= cap);
	buf[0] = 2;
	buf[1] = 0xbe;
	buf[2] = 0xef;
	buf[3] = type;
	if (hdr == 12)
		memcpy(buf + 4, eui, 8);
	memcpy(buf + hdr, text, n);
	return hdr + n;
}

static struct sudp_msg msg;
static char err[256];

static int parse_text(uint8_t type, const char *text)
{
	static uint8_t buf[8192];
	size_t n = dgram(buf, sizeof(buf), type, text);
	err[0] = '\0';
	return sudp_parse(buf, n, &msg, err, sizeof(err));
}

/* PROTOCOL.TXT §4: the second and third rxpk of its PUSH_DATA example. */
static const char *push_example =
        "{\"rxpk\":[{\"time\":\"2013-03-31T16:21:17.530974Z\",\"tmst\":3512348514,\"chan\":9,"
        "\"rfch\":1,\"freq\":869.1,\"stat\":1,\"modu\":\"FSK\",\"datr\":50000,\"rssi\":-75,"
        "\"size\":16,\"data\":\"VEVTVF9QQUNLRVRfMTIzNA==\"},"
        "{\"time\":\"2013-03-31T16:21:17.532038Z\",\"tmst\":3316387610,\"chan\":0,\"rfch\":0,"
        "\"freq\":863.00981,\"stat\":1,\"modu\":\"LORA\",\"datr\":\"SF10BW125\",\"codr\":\"4/7\","
        "\"rssi\":-38,\"lsnr\":5.5,\"size\":32,"
        "\"data\":\"ysgRl452xNLep9S1NTIg2lomKDxUgn3DJ7DE+b00Ass\"}]}";

static void test_push_example(void **state)
{
	(void)state;
	assert_int_equal(parse_text(0, push_example), FUOTA_OK);
	assert_int_equal(msg.type, SUDP_PUSH_DATA);
	assert_int_equal(msg.token, 0xbeef);
	assert_memory_equal(msg.eui, eui, 8);
	assert_int_equal(msg.n_rxpk, 2);
	assert_false(msg.has_stat);
	const struct sudp_rxpk *f = &msg.rxpk[0], *l = &msg.rxpk[1];
	assert_true(f->mod.fsk);
	assert_int_equal(f->mod.fsk_bps, 50000);
	assert_int_equal(f->freq_hz, 869100000);
	assert_int_equal(f->tmst, 3512348514u);
	assert_int_equal(f->chan, 9);
	assert_int_equal(f->rfch, 1);
	assert_int_equal(f->rssi, -75);
	assert_false(f->has_lsnr);
	assert_int_equal(f->size, 16);
	assert_memory_equal(f->data, "TEST_PACKET_1234", 16);
	assert_true(f->has_time);
	assert_int_equal(f->time.sec, 1364746877);
	assert_int_equal(f->time.nsec, 530974000);
	assert_false(l->mod.fsk);
	assert_int_equal(l->mod.sf, 10);
	assert_int_equal(l->mod.bw_hz, 125000);
	assert_int_equal(l->mod.codr, SUDP_CR_4_7);
	assert_int_equal(l->freq_hz, 863009810);
	assert_true(l->has_lsnr);
	assert_true(l->lsnr > 5.49 && l->lsnr < 5.51);
	assert_int_equal(l->size, 32);
	assert_int_equal(l->data[0], 0xca);
}

/* The document's first rxpk has "-" in its base64: read as the URL-safe alphabet (as
 * cs_base64_decode does for every ChirpStack message), 32 bytes as its size says; a character of
 * neither alphabet is refused, naming the packet and the field. */
static void test_push_example_first(void **state)
{
	(void)state;
	const char *text =
	        "{\"rxpk\":[{\"time\":\"2013-03-31T16:21:17.528002Z\",\"tmst\":3512348611,"
	        "\"chan\":2,\"rfch\":0,\"freq\":866.349812,\"stat\":1,\"modu\":\"LORA\","
	        "\"datr\":\"SF7BW125\",\"codr\":\"4/6\",\"rssi\":-35,\"lsnr\":5.1,"
	        "\"size\":32,\"data\":\"-DS4CGaDCdG+48eJNM3Vai-zDpsR71Pn9CPA9uCON84\"}]}";
	assert_int_equal(parse_text(0, text), FUOTA_OK);
	assert_int_equal(msg.n_rxpk, 1);
	assert_int_equal(msg.rxpk[0].size, 32);
	assert_int_equal(msg.rxpk[0].freq_hz, 866349812);
	assert_int_equal(msg.rxpk[0].mod.codr, SUDP_CR_4_6);
	assert_int_equal(msg.rxpk[0].data[0], 0xf8); /* "-D" = 62, 3 -> 0xf8 */
	char bad[600];
	snprintf(bad, sizeof(bad), "%s", text);
	memcpy(strstr(bad, "-DS4"), "!", 1);
	assert_int_equal(parse_text(0, bad), FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "rxpk[0]: rxpk.data: not base64");
	assert_int_equal(msg.n_rxpk, 0);
}

static void test_stat_example(void **state)
{
	(void)state;
	const char *text = "{\"stat\":{\"time\":\"2014-01-12 08:59:28 GMT\",\"lati\":46.24000,"
	                   "\"long\":3.25230,\"alti\":145,\"rxnb\":2,\"rxok\":2,\"rxfw\":2,"
	                   "\"ackr\":100.0,\"dwnb\":2,\"txnb\":2}}";
	struct cs_gw_stats st;
	assert_int_equal(parse_text(0, text), FUOTA_OK);
	assert_true(msg.has_stat);
	assert_int_equal(msg.n_rxpk, 0);
	assert_int_equal(msg.stat.time.sec, 1389517168);
	assert_true(msg.stat.has_pos);
	assert_true(msg.stat.lati > 46.239 && msg.stat.lati < 46.241);
	assert_true(msg.stat.lon > 3.2522 && msg.stat.lon < 3.2524);
	assert_int_equal(msg.stat.alti, 145);
	assert_int_equal(msg.stat.rxnb, 2);
	assert_true(msg.stat.ackr > 99.9);
	sudp_stat_to_stats(&msg.stat, eui, &st);
	assert_string_equal(st.gateway_id, "aa555a0000000101");
	assert_int_equal(st.time.sec, 1389517168);
	assert_int_equal(st.rx_received, 2);
	assert_int_equal(st.tx_emitted, 2);
}

/* PROTOCOL.TXT §6: both txpk examples (LoRa, FSK). */
static void test_txpk_examples(void **state)
{
	(void)state;
	const char *lora =
	        "{\"txpk\":{\"imme\":true,\"freq\":864.123456,\"rfch\":0,\"powe\":14,"
	        "\"modu\":\"LORA\",\"datr\":\"SF11BW125\",\"codr\":\"4/6\",\"ipol\":false,"
	        "\"size\":32,\"data\":\"H3P3N2i9qc4yt7rK7ldqoeCVJGBybzPY5h1Dd7P7p8v\"}}";
	const char *fsk = "{\"txpk\":{\"imme\":true,\"freq\":861.3,\"rfch\":0,\"powe\":12,"
	                  "\"modu\":\"FSK\",\"datr\":50000,\"fdev\":3000,\"size\":32,"
	                  "\"data\":\"H3P3N2i9qc4yt7rK7ldqoeCVJGBybzPY5h1Dd7P7p8v\"}}";
	assert_int_equal(parse_text(3, lora), FUOTA_OK);
	assert_int_equal(msg.type, SUDP_PULL_RESP);
	assert_true(msg.txpk.imme);
	assert_int_equal(msg.txpk.freq_hz, 864123456);
	assert_int_equal(msg.txpk.powe, 14);
	assert_int_equal(msg.txpk.mod.sf, 11);
	assert_int_equal(msg.txpk.mod.codr, SUDP_CR_4_6);
	assert_false(msg.txpk.ipol);
	assert_int_equal(msg.txpk.size, 32);
	assert_int_equal(parse_text(3, fsk), FUOTA_OK);
	assert_true(msg.txpk.mod.fsk);
	assert_int_equal(msg.txpk.freq_hz, 861300000);
	assert_int_equal(msg.txpk.fdev_hz, 3000);
	assert_int_equal(msg.txpk.mod.fsk_bps, 50000);
}

static void test_tx_ack(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		enum cs_tx_ack_status st;
	} cases[] = {
	        {"{\"txpk_ack\":{\"error\":\"COLLISION_PACKET\"}}", CS_ACK_COLLISION_PACKET},
	        {"{\"txpk_ack\":{\"error\":\"NONE\"}}", CS_ACK_OK},
	        {"{\"txpk_ack\":{\"error\":\"TOO_LATE\"}}", CS_ACK_TOO_LATE},
	        {"{\"txpk_ack\":{\"error\":\"TOO_EARLY\"}}", CS_ACK_TOO_EARLY},
	        {"{\"txpk_ack\":{\"error\":\"COLLISION_BEACON\"}}", CS_ACK_COLLISION_BEACON},
	        {"{\"txpk_ack\":{\"error\":\"TX_FREQ\"}}", CS_ACK_TX_FREQ},
	        {"{\"txpk_ack\":{\"error\":\"TX_POWER\"}}", CS_ACK_TX_POWER},
	        {"{\"txpk_ack\":{\"error\":\"GPS_UNLOCKED\"}}", CS_ACK_GPS_UNLOCKED},
	        /* sx1302_hal 1.5: power adjusted, packet sent */
	        {"{\"txpk_ack\":{\"warn\":\"TX_POWER\",\"value\":14}}", CS_ACK_OK},
	        {"{}", CS_ACK_OK},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse_text(5, cases[i].text), FUOTA_OK);
		assert_int_equal(msg.ack, cases[i].st);
	}
	/* no JSON at all: the reference forwarder's ack of a sent packet */
	assert_int_equal(parse_text(5, ""), FUOTA_OK);
	assert_int_equal(msg.ack, CS_ACK_OK);
	assert_int_equal(parse_text(5, "{\"txpk_ack\":{\"error\":\"ON_FIRE\"}}"),
	                 FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "txpk_ack.error: unknown \"ON_FIRE\"");
	/* every name written is read back as the same status */
	for (int st = CS_ACK_IGNORED; st <= CS_ACK_DUTY_CYCLE_OVERFLOW; st++) {
		uint8_t *out = NULL;
		size_t len = 0;
		int rc = sudp_write_tx_ack(0x0102, eui, (enum cs_tx_ack_status)st, &out, &len);
		if (!sudp_ack_error_name((enum cs_tx_ack_status)st)) {
			assert_int_equal(rc, FUOTA_ERR_INVALID_ARG);
			continue;
		}
		assert_int_equal(rc, FUOTA_OK);
		assert_int_equal(sudp_parse(out, len, &msg, err, sizeof(err)), FUOTA_OK);
		assert_int_equal(msg.type, SUDP_TX_ACK);
		assert_int_equal(msg.token, 0x0102);
		assert_int_equal(msg.ack, st);
		free(out);
	}
}

static void test_headers(void **state)
{
	(void)state;
	uint8_t b[16];
	assert_int_equal(sudp_write_ack(SUDP_PUSH_ACK, 0x1234, b), FUOTA_OK);
	assert_memory_equal(b, "\x02\x12\x34\x01", 4);
	assert_int_equal(sudp_parse(b, 4, &msg, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(msg.type, SUDP_PUSH_ACK);
	assert_int_equal(msg.token, 0x1234);
	assert_int_equal(sudp_write_ack(SUDP_PULL_ACK, 0xfffe, b), FUOTA_OK);
	assert_memory_equal(b, "\x02\xff\xfe\x04", 4);
	assert_int_equal(sudp_write_ack(SUDP_PULL_DATA, 1, b), FUOTA_ERR_INVALID_ARG);
	sudp_write_pull_data(0x0a0b, eui, b);
	assert_memory_equal(b, "\x02\x0a\x0b\x02\xaa\x55\x5a\x00\x00\x00\x01\x01", 12);
	assert_int_equal(sudp_parse(b, 12, &msg, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(msg.type, SUDP_PULL_DATA);
	assert_memory_equal(msg.eui, eui, 8);

	static const struct {
		const char *bytes;
		size_t len;
		const char *msg;
	} bad[] = {
	        {"\x02\x00", 2, "datagram of 2 bytes, shorter than a header"},
	        {"\x01\x00\x00\x01", 4, "protocol version 1, not 2"},
	        {"\x02\x00\x00\x06", 4, "unknown identifier 0x06"},
	        {"\x02\x00\x00\x01\x00", 5, "type 1: 5 bytes, expected 4"},
	        {"\x02\x00\x00\x02\xaa\x55", 6, "type 2: 6 bytes, no room for the gateway EUI"},
	        {"\x02\x00\x00\x02\xaa\x55\x5a\x00\x00\x00\x01\x01{}", 14,
	         "type 2: 14 bytes, expected 12"},
	        {"\x02\x00\x00\x00\xaa\x55\x5a\x00\x00\x00\x01\x01", 12,
	         "type 0: JSON body missing"},
	        {"\x02\x00\x00\x03", 4, "type 3: JSON body missing"},
	        {"\x02\x00\x00\x03{}", 6, "PULL_RESP: no txpk"},
	        {"\x02\x00\x00\x03[1]", 7, "JSON: the body is not an object"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(sudp_parse((const uint8_t *)bad[i].bytes, bad[i].len, &msg, err,
		                            sizeof(err)),
		                 FUOTA_ERR_MALFORMED);
		assert_string_equal(err, bad[i].msg);
	}
	/* a NULL err is allowed */
	assert_int_equal(sudp_parse((const uint8_t *)"\x02", 1, &msg, NULL, 0),
	                 FUOTA_ERR_MALFORMED);
}

/* One field at a time made wrong in an otherwise valid rxpk: the message names it. */
static void test_rxpk_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *rxpk;
		const char *msg;
	} bad[] = {
	        {"\"freq\":868.1,\"rfch\":0,\"stat\":1,\"rssi\":-50",
	         "rxpk[0]: rxpk.tmst: missing"},
	        {"\"tmst\":-1", "rxpk[0]: rxpk.tmst: -1 out of [0, 4294967295]"},
	        {"\"tmst\":1,\"rfch\":0,\"stat\":1,\"rssi\":-50", "rxpk[0]: rxpk.freq: missing"},
	        {"\"tmst\":1,\"freq\":\"868.1\"", "rxpk[0]: rxpk.freq: not a number"},
	        {"\"tmst\":1,\"freq\":0", "rxpk[0]: rxpk.freq: 0 out of [1e-06, 4294.97]"},
	        {"\"tmst\":1,\"freq\":868.1,\"rfch\":0,\"stat\":2",
	         "rxpk[0]: rxpk.stat: 2 out of [-1, 1]"},
	        {"\"tmst\":1,\"freq\":868.1,\"rfch\":0,\"stat\":1", "rxpk[0]: rxpk.rssi: missing"},
	        {"\"tmst\":1,\"freq\":868.1,\"rfch\":0,\"stat\":1,\"rssi\":-50",
	         "rxpk[0]: rxpk.modu: missing"},
	        {"\"tmst\":1,\"freq\":868.1,\"rfch\":0,\"stat\":1,\"rssi\":-50,\"modu\":\"LR\"",
	         "rxpk[0]: rxpk.modu: \"LR\" is neither LORA nor FSK"},
	        {"\"tmst\":1,\"freq\":868.1,\"rfch\":0,\"stat\":1,\"rssi\":-50,\"modu\":\"LORA\","
	         "\"datr\":\"SF13BW125\"",
	         "rxpk[0]: rxpk.datr: \"SF13BW125\" is not SF5..12 BW125/250/500"},
	        {"\"tmst\":1,\"freq\":868.1,\"rfch\":0,\"stat\":1,\"rssi\":-50,\"modu\":\"LORA\","
	         "\"datr\":\"SF7BW125\"",
	         "rxpk[0]: rxpk.codr: missing"},
	        {"\"tmst\":1,\"freq\":868.1,\"rfch\":0,\"stat\":1,\"rssi\":-50,\"modu\":\"LORA\","
	         "\"datr\":\"SF7BW125\",\"codr\":\"4/9\"",
	         "rxpk[0]: rxpk.codr: \"4/9\" is not 4/5..4/8"},
	        {"\"tmst\":1,\"freq\":868.1,\"rfch\":0,\"stat\":1,\"rssi\":-50,\"modu\":\"FSK\","
	         "\"datr\":\"50000\"",
	         "rxpk[0]: rxpk.datr: not an integer"},
	        {"\"tmst\":1,\"freq\":868.1,\"rfch\":0,\"stat\":1,\"rssi\":-50,\"modu\":\"FSK\","
	         "\"datr\":50000,\"size\":3,\"data\":\"AQI=\"",
	         "rxpk[0]: rxpk.size: 3 but data holds 2 bytes"},
	        {"\"time\":\"yesterday\"",
	         "rxpk[0]: rxpk.time: \"yesterday\" is not ISO 8601 UTC after 1970"},
	        {"\"time\":\"0795-03-31T16:21:17Z\"",
	         "rxpk[0]: rxpk.time: \"0795-03-31T16:21:17Z\" is not ISO 8601 UTC after 1970"},
	};
	char text[512];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{\"rxpk\":[{%s}]}", bad[i].rxpk);
		assert_int_equal(parse_text(0, text), FUOTA_ERR_MALFORMED);
		assert_string_equal(err, bad[i].msg);
	}
	assert_int_equal(parse_text(0, "{\"rxpk\":{}}"), FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "rxpk: not an array");
	assert_int_equal(parse_text(0, "{\"rxpk\":[1]}"), FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "rxpk[0]: rxpk: an element is not an object");
	assert_int_equal(parse_text(0, "{\"stat\":{},\"stat\":{}}"), FUOTA_ERR_MALFORMED);
	assert_non_null(strstr(err, "duplicate"));
	assert_int_equal(parse_text(0, "{\"stat\":{\"time\":\"2014-01-12T08:59:28Z\"}}"),
	                 FUOTA_ERR_MALFORMED);
	assert_string_equal(
	        err, "stat.time: \"2014-01-12T08:59:28Z\" is not \"YYYY-MM-DD hh:mm:ss GMT\"");
}

static void test_too_many_rxpk(void **state)
{
	(void)state;
	struct sudp_rxpk rx[SUDP_MAX_RXPK + 1];
	uint8_t *out = NULL;
	size_t len = 0;
	memset(rx, 0, sizeof(rx));
	for (size_t i = 0; i < SUDP_MAX_RXPK + 1; i++) {
		rx[i].freq_hz = 868100000;
		rx[i].stat = 1;
		rx[i].mod = (struct sudp_mod){.sf = 7, .bw_hz = 125000, .codr = SUDP_CR_4_5};
		rx[i].size = 1;
	}
	assert_int_equal(sudp_write_push_data(1, eui, rx, SUDP_MAX_RXPK, NULL, &out, &len),
	                 FUOTA_OK);
	assert_int_equal(sudp_parse(out, len, &msg, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(msg.n_rxpk, SUDP_MAX_RXPK);
	free(out);
	/* one more than the bound: refused whole, never cut */
	assert_int_equal(sudp_write_push_data(1, eui, rx, SUDP_MAX_RXPK + 1, NULL, &out, &len),
	                 FUOTA_ERR_INVALID_ARG);
	char text[16384] = "{\"rxpk\":[";
	for (size_t i = 0; i <= SUDP_MAX_RXPK; i++)
		strcat(text, i ? ",{}" : "{}");
	strcat(text, "]}");
	assert_int_equal(parse_text(0, text), FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "rxpk: 33 packets, more than 32");
}

/* Every Hz from a sweep of the sub-GHz and 2.4 GHz bands goes out as MHz and back unchanged. */
static void test_freq_exact(void **state)
{
	(void)state;
	struct sudp_txpk tx = {.imme = 1,
	                       .mod = {.sf = 9, .bw_hz = 125000, .codr = SUDP_CR_4_5},
	                       .powe = 14,
	                       .size = 1};
	static const uint32_t fixed[] = {868100000, 869525000,   866349812,   923300000, 863009810,
	                                 1,         4294967295u, 2403000000u, 433175000};
	uint8_t *out = NULL;
	size_t len = 0;
	for (uint32_t i = 0; i < 20000 + sizeof(fixed) / sizeof(fixed[0]); i++) {
		tx.freq_hz = i < 20000 ? 860000000u + i * 7919u : fixed[i - 20000];
		assert_int_equal(sudp_write_pull_resp((uint16_t)i, &tx, &out, &len), FUOTA_OK);
		assert_int_equal(sudp_parse(out, len, &msg, err, sizeof(err)), FUOTA_OK);
		assert_int_equal(msg.txpk.freq_hz, tx.freq_hz);
		free(out);
	}
	tx.freq_hz = 868100000;
	assert_int_equal(sudp_write_pull_resp(7, &tx, &out, &len), FUOTA_OK);
	assert_non_null(memmem(out, len, "\"freq\":868.1,", 13));
	free(out);
}

/* Writers read back: a PUSH_DATA with two rxpk and a stat, a PULL_RESP per timing. */
static void test_round_trip(void **state)
{
	(void)state;
	struct sudp_rxpk rx[2] = {
	        {.has_time = 1,
	         .time = {1, 1700000000, 123456000},
	         .has_tmms = 1,
	         .tmms = 1384000000123u,
	         .tmst = 4000000000u,
	         .freq_hz = 868300000,
	         .chan = 1,
	         .stat = -1,
	         .mod = {.sf = 12, .bw_hz = 125000, .codr = SUDP_CR_4_8},
	         .rssi = -120,
	         .has_lsnr = 1,
	         .lsnr = -17.25,
	         .size = 3,
	         .data = {1, 2, 3}},
	        {.freq_hz = 868800000, .rfch = 1, .mod = {.fsk = 1, .fsk_bps = 50000}, .size = 0},
	};
	struct sudp_stat st = {.time = {1, 1389517168, 0},
	                       .rxnb = 7,
	                       .rxok = 6,
	                       .rxfw = 5,
	                       .ackr = 50,
	                       .dwnb = 4,
	                       .txnb = 3};
	uint8_t *out = NULL;
	size_t len = 0;
	assert_int_equal(sudp_write_push_data(0x4242, eui, rx, 2, &st, &out, &len), FUOTA_OK);
	assert_int_equal(sudp_parse(out, len, &msg, err, sizeof(err)), FUOTA_OK);
	free(out);
	assert_int_equal(msg.n_rxpk, 2);
	assert_memory_equal(&msg.rxpk[0].time, &rx[0].time, sizeof(rx[0].time));
	assert_int_equal(msg.rxpk[0].tmms, rx[0].tmms);
	assert_int_equal(msg.rxpk[0].tmst, rx[0].tmst);
	assert_int_equal(msg.rxpk[0].stat, -1);
	assert_true(msg.rxpk[0].lsnr == -17.25);
	assert_memory_equal(msg.rxpk[0].data, rx[0].data, 3);
	assert_int_equal(msg.rxpk[1].mod.fsk_bps, 50000);
	assert_int_equal(msg.rxpk[1].rfch, 1);
	assert_true(msg.has_stat);
	assert_false(msg.stat.has_pos);
	assert_int_equal(msg.stat.time.sec, st.time.sec);
	assert_int_equal(msg.stat.txnb, 3);
	/* nothing to send is not a datagram */
	assert_int_equal(sudp_write_push_data(1, eui, NULL, 0, NULL, &out, &len),
	                 FUOTA_ERR_INVALID_ARG);

	struct sudp_txpk tx = {.has_tmms = 1,
	                       .tmms = 1400000000000u,
	                       .freq_hz = 869525000,
	                       .powe = 27,
	                       .mod = {.sf = 9, .bw_hz = 125000, .codr = SUDP_CR_4_5},
	                       .ipol = 1,
	                       .size = 2,
	                       .data = {0xca, 0xfe}};
	assert_int_equal(sudp_write_pull_resp(9, &tx, &out, &len), FUOTA_OK);
	assert_int_equal(sudp_parse(out, len, &msg, err, sizeof(err)), FUOTA_OK);
	free(out);
	assert_memory_equal(&msg.txpk, &tx, sizeof(tx));
	tx.has_tmst = 1; /* two timings at once cannot be written */
	assert_int_equal(sudp_write_pull_resp(9, &tx, &out, &len), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(parse_text(3, "{\"txpk\":{\"imme\":true,\"tmst\":5}}"),
	                 FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "txpk: needs exactly one of imme:true, tmst, tmms");
	assert_int_equal(parse_text(3, "{\"txpk\":{\"imme\":true,\"freq\":861.3,\"rfch\":0,"
	                               "\"powe\":12,\"modu\":\"FSK\",\"datr\":50000,\"size\":0,"
	                               "\"data\":\"\"}}"),
	                 FUOTA_ERR_MALFORMED);
	assert_string_equal(err, "txpk.fdev: missing (FSK)");
}

static void test_to_uplink(void **state)
{
	(void)state;
	struct cs_gw_uplink up;
	assert_int_equal(parse_text(0, push_example), FUOTA_OK);
	msg.rxpk[1].has_tmms = 1;
	msg.rxpk[1].tmms = 1364746895532u;
	sudp_rxpk_to_uplink(&msg.rxpk[1], eui, 77, &up);
	assert_int_equal(up.phy_len, 32);
	assert_memory_equal(up.phy, msg.rxpk[1].data, 32);
	assert_int_equal(up.frequency, 863009810);
	assert_int_equal(up.spreading_factor, 10);
	assert_int_equal(up.code_rate, 3); /* gw.CodeRate CR_4_7 */
	assert_string_equal(up.rx.gateway_id, "aa555a0000000101");
	assert_int_equal(up.rx.uplink_id, 77);
	assert_int_equal(up.rx.gw_time.sec, 1364746877);
	assert_int_equal(up.rx.gw_time.nsec, 532038000);
	assert_true(up.rx.time_since_gps_epoch.set);
	assert_int_equal(up.rx.time_since_gps_epoch.sec, 1364746895);
	assert_int_equal(up.rx.time_since_gps_epoch.nsec, 532000000);
	assert_int_equal(up.rx.rssi, -38);
	assert_true(up.rx.snr > 5.49f && up.rx.snr < 5.51f);
	assert_int_equal(up.channel, 0);
	assert_int_equal(up.crc_status, 2);
	/* tmst 3316387610 = 0xc5 0xac 0x0f 0x1a */
	assert_int_equal(up.rx.context_len, 4);
	assert_memory_equal(up.rx.context, "\xc5\xac\x0f\x1a", 4);
	msg.rxpk[0].stat = -1;
	sudp_rxpk_to_uplink(&msg.rxpk[0], eui, 78, &up);
	assert_int_equal(up.crc_status, 1);
	assert_true(up.fsk);
	assert_false(up.rx.time_since_gps_epoch.set);
	msg.rxpk[0].stat = 0;
	sudp_rxpk_to_uplink(&msg.rxpk[0], eui, 79, &up);
	assert_int_equal(up.crc_status, 0);
}

/* gw.UplinkFrame in the JSON mapping, for a gateway configured to publish JSON. */
static void test_uplink_json(void **state)
{
	(void)state;
	struct cs_gw_uplink up;
	json_error_t je;
	json_t *o;
	char *js;
	size_t len;

	assert_int_equal(parse_text(0, push_example), FUOTA_OK);
	msg.rxpk[1].has_tmms = 1;
	msg.rxpk[1].tmms = 1364746895532u;
	sudp_rxpk_to_uplink(&msg.rxpk[1], eui, 77, &up);
	assert_int_equal(cs_gw_uplink_to_json(&up, &js, &len), FUOTA_OK);
	assert_int_equal(strlen(js), len);
	o = json_loads(js, 0, &je);
	assert_non_null(o);
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(o, "rxInfo"), "gatewayId")),
	        "aa555a0000000101");
	assert_int_equal(
	        json_integer_value(json_object_get(json_object_get(o, "rxInfo"), "uplinkId")), 77);
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(o, "rxInfo"), "crcStatus")),
	        "CRC_OK");
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(o, "rxInfo"), "context")),
	        "xawPGg==");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "rxInfo"),
	                                                      "timeSinceGpsEpoch")),
	                    "1364746895.532000000s");
	assert_int_equal(
	        json_integer_value(json_object_get(json_object_get(o, "txInfo"), "frequency")),
	        863009810);
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_object_get(json_object_get(json_object_get(o, "txInfo"), "modulation"),
	                                "lora"),
	                "codeRate")),
	        "CR_4_7");
	assert_non_null(json_object_get(o, "phyPayload"));
	json_decref(o);
	free(js);
}

static struct cs_gw_downlink lora_down(void)
{
	struct cs_gw_downlink d = {.downlink_id = 1,
	                           .phy_len = 4,
	                           .phy = {0x60, 1, 2, 3},
	                           .frequency = 869525000,
	                           .power = 27,
	                           .bandwidth = 125000,
	                           .spreading_factor = 9,
	                           .polarization_inversion = 1};
	return d;
}

static void test_from_downlink(void **state)
{
	(void)state;
	struct cs_gw_downlink d = lora_down();
	struct sudp_txpk tx;
	enum cs_tx_ack_status why = CS_ACK_OK;

	assert_int_equal(sudp_txpk_from_downlink(&d, &tx, &why, err, sizeof(err)), FUOTA_OK);
	assert_true(tx.imme);
	assert_false(tx.has_tmst || tx.has_tmms);
	assert_int_equal(tx.freq_hz, 869525000);
	assert_int_equal(tx.powe, 27);
	assert_int_equal(tx.mod.sf, 9);
	assert_int_equal(tx.mod.codr, SUDP_CR_4_5);
	assert_true(tx.ipol);
	assert_int_equal(tx.size, 4);

	/* DELAY: the uplink's tmst (context) + 1 s, across the counter's wrap */
	d.timing = CS_TIMING_DELAY;
	d.timing_ns = 1000000000;
	d.context_len = 4;
	memcpy(d.context, "\xff\xff\xff\x00", 4);
	assert_int_equal(sudp_txpk_from_downlink(&d, &tx, &why, err, sizeof(err)), FUOTA_OK);
	assert_false(tx.imme);
	assert_true(tx.has_tmst);
	assert_int_equal(tx.tmst, (uint32_t)(0xffffff00u + 1000000u));
	d.context_len = 0;
	assert_int_equal(sudp_txpk_from_downlink(&d, &tx, &why, err, sizeof(err)),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(why, CS_ACK_INTERNAL_ERROR);
	assert_string_equal(err, "DELAY timing without the 4-byte tmst context");

	/* GPS epoch: ns -> ms */
	d.timing = CS_TIMING_GPS_EPOCH;
	d.timing_ns = INT64_C(1400000000123456789);
	assert_int_equal(sudp_txpk_from_downlink(&d, &tx, &why, err, sizeof(err)), FUOTA_OK);
	assert_true(tx.has_tmms);
	assert_int_equal(tx.tmms, 1400000000123u);

	/* FSK: fdev given, or datarate / 2 */
	d = lora_down();
	d.fsk = 1;
	d.fsk_datarate = 50000;
	assert_int_equal(sudp_txpk_from_downlink(&d, &tx, &why, err, sizeof(err)), FUOTA_OK);
	assert_true(tx.mod.fsk);
	assert_int_equal(tx.fdev_hz, 25000);
	d.fsk_fdev = 3000;
	assert_int_equal(sudp_txpk_from_downlink(&d, &tx, &why, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(tx.fdev_hz, 3000);

	d = lora_down();
	d.power = -1;
	assert_int_equal(sudp_txpk_from_downlink(&d, &tx, &why, err, sizeof(err)),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(why, CS_ACK_TX_POWER);
	d = lora_down();
	d.frequency = 0;
	assert_int_equal(sudp_txpk_from_downlink(&d, &tx, &why, NULL, 0), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(why, CS_ACK_TX_FREQ);
	d = lora_down();
	d.spreading_factor = 13;
	assert_int_equal(sudp_txpk_from_downlink(&d, &tx, &why, err, sizeof(err)),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(why, CS_ACK_INTERNAL_ERROR);

	/* what the conversion gives is a PULL_RESP the forwarder reads as written */
	d = lora_down();
	d.polarization_inversion = 0;
	uint8_t *out = NULL;
	size_t len = 0;
	assert_int_equal(sudp_txpk_from_downlink(&d, &tx, &why, err, sizeof(err)), FUOTA_OK);
	assert_int_equal(sudp_write_pull_resp(3, &tx, &out, &len), FUOTA_OK);
	assert_non_null(memmem(out, len, "\"ipol\":false", 12));
	assert_non_null(memmem(out, len, "\"datr\":\"SF9BW125\"", 17));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_push_example),  cmocka_unit_test(test_push_example_first),
	        cmocka_unit_test(test_stat_example),  cmocka_unit_test(test_txpk_examples),
	        cmocka_unit_test(test_tx_ack),        cmocka_unit_test(test_headers),
	        cmocka_unit_test(test_rxpk_refusals), cmocka_unit_test(test_too_many_rxpk),
	        cmocka_unit_test(test_freq_exact),    cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_to_uplink),     cmocka_unit_test(test_from_downlink),
	        cmocka_unit_test(test_uplink_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
