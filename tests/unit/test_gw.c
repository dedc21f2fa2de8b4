/* fuota-gw's adapter (gateway/src/gw.c) against a fake packet forwarder (a UDP socket of the
 * test on loopback) and a fake network side that is down or up at the test's will: acks with the
 * forwarder's tokens, uplinks and stats queued while the backhaul is down and published in order
 * when it returns (decoded back from protobuf), a downlink carried as PULL_RESP to the address of
 * the last PULL_DATA and its TX_ACK turned into a DownlinkTxAck, the too-late rule, and a
 * malformed datagram dropped without an ack. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "chirpstack/gw.pb-c.h"
#include "fuota/err.h"
#include "fuota/gw.h"
#include "fuota/gw_sched.h"

static const uint8_t eui[8] = {0xaa, 0x55, 0x5a, 0x00, 0x00, 0x00, 0x01, 0x01};

struct published {
	enum gw_event ev;
	char gw[CS_EUI_LEN];
	uint8_t buf[1024];
	size_t len;
};

static struct {
	int up;
	struct published p[32];
	size_t n;
} net;

static int fake_publish(void *ctx, enum gw_event ev, const char *gateway_id, const uint8_t *payload,
                        size_t len)
{
	(void)ctx;
	if (!net.up || net.n == 32 || len > sizeof(net.p[0].buf))
		return FUOTA_ERR_IO;
	net.p[net.n].ev = ev;
	snprintf(net.p[net.n].gw, sizeof(net.p[0].gw), "%s", gateway_id);
	memcpy(net.p[net.n].buf, payload, len);
	net.p[net.n].len = len;
	net.n++;
	return FUOTA_OK;
}

/* The broker's PUBACKs for the windowed delivery: how many more it confirmed. */
static size_t net_confirm;

static void fake_acked(void *ctx, size_t *n)
{
	(void)ctx;
	*n = net_confirm;
	net_confirm = 0;
}

static char dir[64];
static struct gw *g;
static int fwd; /* the fake forwarder's socket */
static struct sockaddr_in gw_addr;

static int setup(void **state)
{
	(void)state;
	memset(&net, 0, sizeof(net));
	snprintf(dir, sizeof(dir), "/tmp/gw-test-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	struct gw_opts o = {.bind_host = "127.0.0.1",
	                    .queue = {.dir = dir, .seg_bytes = 4096, .max_bytes = 1 << 20},
	                    .carry_us = 200000};
	struct gw_net n = {.publish = fake_publish};
	if (gw_open(&o, &n, &g) != FUOTA_OK)
		return -1;
	fwd = socket(AF_INET, SOCK_DGRAM, 0);
	gw_addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(gw_port(g))};
	inet_pton(AF_INET, "127.0.0.1", &gw_addr.sin_addr);
	return fwd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[512];
	gw_close(g);
	close(fwd);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

/* The adapter's port, after it was opened again. */
static void fwd_addr_refresh(void)
{
	gw_addr.sin_port = htons(gw_port(g));
}

/* The forwarder sends; the adapter handles what is waiting. */
static void fwd_send(const void *buf, size_t len, int64_t now_us)
{
	assert_int_equal(sendto(fwd, buf, len, 0, (struct sockaddr *)&gw_addr, sizeof(gw_addr)),
	                 (ssize_t)len);
	struct pollfd p = {.fd = gw_fd(g), .events = POLLIN};
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_int_equal(gw_on_readable(g, now_us), FUOTA_OK);
}

/* What the adapter sent to the forwarder, or 0 bytes when nothing came within wait_ms. */
static size_t fwd_recv(uint8_t *buf, size_t cap, int wait_ms)
{
	struct pollfd p = {.fd = fwd, .events = POLLIN};
	if (poll(&p, 1, wait_ms) != 1)
		return 0;
	ssize_t n = recv(fwd, buf, cap, 0);
	assert_true(n > 0);
	return (size_t)n;
}

static const char *push_json =
        "{\"rxpk\":[{\"tmst\":1000000,\"chan\":2,\"rfch\":0,\"freq\":868.1,\"stat\":1,"
        "\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\",\"rssi\":-35,\"lsnr\":5.5,"
        "\"size\":3,\"data\":\"AQID\"},{\"tmst\":1000100,\"rfch\":1,\"freq\":868.3,\"stat\":1,"
        "\"modu\":\"FSK\",\"datr\":50000,\"rssi\":-70,\"size\":1,\"data\":\"BA==\"}],"
        "\"stat\":{\"time\":\"2026-12-07 05:00:00 GMT\",\"rxnb\":2,\"rxok\":2,\"rxfw\":2,"
        "\"ackr\":100.0,\"dwnb\":0,\"txnb\":0}}";

static void send_push(uint16_t token, int64_t now_us)
{
	uint8_t b[1024] = {2, (uint8_t)(token >> 8), (uint8_t)token, 0};
	memcpy(b + 4, eui, 8);
	memcpy(b + 12, push_json, strlen(push_json));
	fwd_send(b, 12 + strlen(push_json), now_us);
}

static void send_pull(uint16_t token)
{
	uint8_t b[12];
	sudp_write_pull_data(token, eui, b);
	fwd_send(b, sizeof(b), 0);
}

static void test_store_and_forward(void **state)
{
	(void)state;
	uint8_t b[2048];
	size_t sent = 0;

	send_pull(0x1111);
	assert_int_equal(fwd_recv(b, sizeof(b), 1000), 4);
	assert_memory_equal(b, "\x02\x11\x11\x04", 4); /* PULL_ACK, same token */
	send_push(0x2222, 5000000);
	assert_int_equal(fwd_recv(b, sizeof(b), 1000), 4);
	assert_memory_equal(b, "\x02\x22\x22\x01", 4); /* PUSH_ACK */

	/* backhaul down: nothing published, all kept */
	assert_int_equal(gw_flush(g, &sent), FUOTA_OK);
	assert_int_equal(sent, 0);
	struct gwq_stats st;
	gwq_get_stats(gw_queue(g), &st);
	assert_int_equal(st.records, 3);

	net.up = 1;
	assert_int_equal(gw_flush(g, &sent), FUOTA_OK);
	assert_int_equal(sent, 3);
	assert_int_equal(net.n, 3);
	assert_int_equal(net.p[0].ev, GW_EV_UP);
	assert_int_equal(net.p[1].ev, GW_EV_UP);
	assert_int_equal(net.p[2].ev, GW_EV_STATS);
	assert_string_equal(net.p[0].gw, "aa555a0000000101");

	Gw__UplinkFrame *up = gw__uplink_frame__unpack(NULL, net.p[0].len, net.p[0].buf);
	assert_non_null(up);
	assert_int_equal(up->phy_payload.len, 3);
	assert_memory_equal(up->phy_payload.data, "\x01\x02\x03", 3);
	assert_int_equal(up->tx_info->frequency, 868100000);
	assert_int_equal(up->tx_info->modulation->parameters_case, GW__MODULATION__PARAMETERS_LORA);
	assert_int_equal(up->tx_info->modulation->lora->spreading_factor, 7);
	assert_int_equal(up->tx_info->modulation->lora->bandwidth, 125000);
	assert_int_equal(up->tx_info->modulation->lora->code_rate, GW__CODE_RATE__CR_4_5);
	assert_string_equal(up->rx_info->gateway_id, "aa555a0000000101");
	assert_int_equal(up->rx_info->rssi, -35);
	assert_true(up->rx_info->snr > 5.4f && up->rx_info->snr < 5.6f);
	assert_int_equal(up->rx_info->channel, 2);
	assert_int_equal(up->rx_info->crc_status, GW__CRCSTATUS__CRC_OK);
	assert_int_equal(up->rx_info->context.len, 4);
	assert_memory_equal(up->rx_info->context.data, "\x00\x0f\x42\x40", 4); /* tmst 1000000 */
	uint32_t id0 = up->rx_info->uplink_id;
	gw__uplink_frame__free_unpacked(up, NULL);
	up = gw__uplink_frame__unpack(NULL, net.p[1].len, net.p[1].buf);
	assert_non_null(up);
	assert_int_equal(up->tx_info->modulation->parameters_case, GW__MODULATION__PARAMETERS_FSK);
	assert_int_equal(up->tx_info->modulation->fsk->datarate, 50000);
	assert_int_equal(up->rx_info->rf_chain, 1);
	assert_int_equal(up->rx_info->uplink_id, id0 + 1);
	gw__uplink_frame__free_unpacked(up, NULL);
	struct cs_gw_stats gs;
	assert_int_equal(cs_gw_stats_from_proto(net.p[2].buf, net.p[2].len, &gs, NULL, 0),
	                 FUOTA_OK);
	assert_string_equal(gs.gateway_id, "aa555a0000000101");
	assert_int_equal(gs.rx_received, 2);
	gwq_get_stats(gw_queue(g), &st);
	assert_int_equal(st.records, 0);
}

/* With an acked callback, events stay queued until the broker confirms them: a window of them
 * is in flight, in order, and a crash before the confirmation delivers them again. */
static void test_window(void **state)
{
	(void)state;
	struct gw_opts o = {.bind_host = "127.0.0.1",
	                    .queue = {.dir = dir, .seg_bytes = 4096, .max_bytes = 1 << 20},
	                    .carry_us = 200000};
	struct gw_net n = {.publish = fake_publish, .acked = fake_acked, .window = 4};
	struct gwq_stats st;
	uint8_t b[64];
	size_t sent = 0;

	gw_close(g); /* the setup's adapter pops at once; this one waits for PUBACKs */
	assert_int_equal(gw_open(&o, &n, &g), FUOTA_OK);
	fwd_addr_refresh();
	for (uint16_t t = 0; t < 3; t++) { /* 3 pushes: 6 uplinks + 3 stats */
		send_push(t, 5000000);
		assert_int_equal(fwd_recv(b, sizeof(b), 1000), 4);
	}
	net.up = 1;
	assert_int_equal(gw_flush(g, &sent), FUOTA_OK);
	assert_int_equal(sent, 4); /* the window */
	assert_int_equal(gw_flush(g, &sent), FUOTA_OK);
	assert_int_equal(sent, 0); /* nothing confirmed yet */
	gwq_get_stats(gw_queue(g), &st);
	assert_int_equal(st.records, 9);
	net_confirm = 3;
	assert_int_equal(gw_flush(g, &sent), FUOTA_OK);
	assert_int_equal(sent, 3);
	assert_int_equal(net.n, 7);
	gwq_get_stats(gw_queue(g), &st);
	assert_int_equal(st.records, 6);
	/* a crash now: the 4 in flight and the 2 never sent come again, in order */
	gw_close(g);
	net.n = 0;
	assert_int_equal(gw_open(&o, &n, &g), FUOTA_OK);
	/* the backlog names the gateway before its forwarder speaks */
	assert_non_null(gw_gateway_id(g));
	assert_string_equal(gw_gateway_id(g), "aa555a0000000101");
	fwd_addr_refresh();
	net_confirm = 0;
	assert_int_equal(gw_flush(g, &sent), FUOTA_OK);
	assert_int_equal(sent, 4);
	assert_int_equal(net.p[0].ev, GW_EV_UP); /* record 3: the second push's first uplink */
	assert_int_equal(net.p[2].ev, GW_EV_STATS);
	net_confirm = 4;
	assert_int_equal(gw_flush(g, &sent), FUOTA_OK);
	assert_int_equal(sent, 2);
	net_confirm = 2;
	assert_int_equal(gw_flush(g, &sent), FUOTA_OK);
	gwq_get_stats(gw_queue(g), &st);
	assert_int_equal(st.records, 0);
	assert_int_equal(net.n, 6);
}

static struct cs_gw_downlink class_a(uint32_t id, int64_t delay_ns)
{
	struct cs_gw_downlink d = {.downlink_id = id,
	                           .phy_len = 2,
	                           .phy = {0x60, 0x01},
	                           .frequency = 868100000,
	                           .power = 14,
	                           .bandwidth = 125000,
	                           .spreading_factor = 7,
	                           .polarization_inversion = 1,
	                           .timing = CS_TIMING_DELAY,
	                           .timing_ns = delay_ns,
	                           .context_len = 4,
	                           .context = {0x00, 0x0f, 0x42, 0x40}};
	memcpy(d.gateway_id, "aa555a0000000101", 17);
	return d;
}

static void test_downlink_and_ack(void **state)
{
	(void)state;
	uint8_t b[2048];
	struct sudp_msg *m = malloc(sizeof(*m));
	size_t n, sent = 0;
	struct cs_gw_ack a;

	assert_non_null(m);
	net.up = 1;
	/* before any PULL_DATA there is nowhere to send it */
	struct cs_gw_downlink d = class_a(7, 5000000000);
	assert_int_equal(gw_downlink(g, &d, 0), FUOTA_ERR_STATE);
	assert_int_equal(gw_flush(g, &sent), FUOTA_OK);
	assert_int_equal(cs_gw_ack_from_proto(net.p[0].buf, net.p[0].len, &a, NULL, 0), FUOTA_OK);
	assert_int_equal(a.status, CS_ACK_INTERNAL_ERROR);
	assert_int_equal(a.downlink_id, 7);
	assert_string_equal(a.gateway_id, "aa555a0000000101");

	send_pull(0x0101);
	fwd_recv(b, sizeof(b), 1000);
	send_push(0x0202, 10000000); /* rxpk tmst 1000000 seen at host time 10 s */
	fwd_recv(b, sizeof(b), 1000);
	/* RX1, 1 s after the uplink, decided 100 ms after it: sent, tmst = 2 000 000 */
	d = class_a(8, 1000000000);
	assert_int_equal(gw_downlink(g, &d, 10100000), FUOTA_OK);
	n = fwd_recv(b, sizeof(b), 1000);
	assert_true(n > 4);
	assert_int_equal(sudp_parse(b, n, m, NULL, 0), FUOTA_OK);
	assert_int_equal(m->type, SUDP_PULL_RESP);
	assert_true(m->txpk.has_tmst);
	assert_int_equal(m->txpk.tmst, 2000000);
	assert_true(m->txpk.ipol);
	assert_int_equal(m->txpk.freq_hz, 868100000);
	/* the forwarder reports a collision for that token */
	uint8_t *ack = NULL;
	size_t ack_len = 0;
	assert_int_equal(sudp_write_tx_ack(m->token, eui, CS_ACK_COLLISION_PACKET, &ack, &ack_len),
	                 FUOTA_OK);
	fwd_send(ack, ack_len, 10200000);
	free(ack);
	/* RX1 decided 900 ms after the uplink with 200 ms still to go: too late, never sent */
	d = class_a(9, 1000000000);
	assert_int_equal(gw_downlink(g, &d, 10900000), FUOTA_OK);
	assert_int_equal(fwd_recv(b, sizeof(b), 200), 0);
	net.n = 0;
	assert_int_equal(gw_flush(g, &sent), FUOTA_OK);
	/* the uplinks, the stats, then the two acks in order */
	assert_int_equal(net.p[net.n - 2].ev, GW_EV_ACK);
	assert_int_equal(
	        cs_gw_ack_from_proto(net.p[net.n - 2].buf, net.p[net.n - 2].len, &a, NULL, 0),
	        FUOTA_OK);
	assert_int_equal(a.downlink_id, 8);
	assert_int_equal(a.status, CS_ACK_COLLISION_PACKET);
	assert_int_equal(
	        cs_gw_ack_from_proto(net.p[net.n - 1].buf, net.p[net.n - 1].len, &a, NULL, 0),
	        FUOTA_OK);
	assert_int_equal(a.downlink_id, 9);
	assert_int_equal(a.status, CS_ACK_TOO_LATE);
	assert_string_equal(a.gateway_id, "aa555a0000000101");
	assert_int_equal(gw_counters(g)->too_late, 1);
	assert_int_equal(gw_counters(g)->downlinks, 1);
	free(m);
}

static void test_bad_datagram(void **state)
{
	(void)state;
	uint8_t b[64];
	const char *bad = "\x02\x33\x33\x00\xaa\x55\x5a\x00\x00\x00\x01\x01{\"rxpk\":[{}]}";
	fwd_send(bad, strlen(bad + 12) + 12, 0);
	assert_int_equal(fwd_recv(b, sizeof(b), 200), 0); /* no PUSH_ACK for what did not parse */
	assert_int_equal(gw_counters(g)->bad_datagrams, 1);
	assert_int_equal(gw_counters(g)->rx_datagrams, 1);
	struct gwq_stats st;
	gwq_get_stats(gw_queue(g), &st);
	assert_int_equal(st.records, 0);
}

/* The queue's disk use per uplink as fuota-gw stores it: a 23-byte PHYPayload (an unconfirmed
 * uplink with 10 bytes of FRMPayload) from a GPS gateway, as gw.UplinkFrame protobuf plus the
 * EUI and the record framing. */
static void test_disk_use(void **state)
{
	(void)state;
	const char *json = "{\"rxpk\":[{\"time\":\"2026-12-07T05:00:00.123456Z\","
	                   "\"tmms\":1449032418123,\"tmst\":3512348611,\"chan\":2,\"rfch\":0,"
	                   "\"freq\":868.1,\"stat\":1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
	                   "\"codr\":\"4/5\",\"rssi\":-35,\"lsnr\":5.5,\"size\":23,"
	                   "\"data\":\"QAEAAAGAAQABAAECAwQFBgcICaGyw9Q=\"}]}";
	uint8_t b[1024] = {2, 0, 1, 0};
	struct gwq_stats st;
	const int n = 200;
	memcpy(b + 4, eui, 8);
	memcpy(b + 12, json, strlen(json));
	for (int i = 0; i < n; i++)
		fwd_send(b, 12 + strlen(json), i);
	gwq_get_stats(gw_queue(g), &st);
	assert_int_equal(st.records, n);
	assert_int_equal(st.bytes % n, 0); /* every uplink the same size */
	print_message(
	        "gw disk use: %llu bytes per uplink (23-byte PHYPayload, %zu-byte rxpk JSON)\n",
	        (unsigned long long)(st.bytes / n), strlen(json) - 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_store_and_forward, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_downlink_and_ack, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_datagram, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_disk_use, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_window, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
