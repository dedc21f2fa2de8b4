/* TS003 clock sync: PROTOCOL-NOTES §3.4 vectors (brocaar clocksync_test.go), ChirpStack v4
 * clocksync.rs answer cases, every truncation, RFU bits, chained payloads, random round trips,
 * the server's TimeCorrection and the device's handling of AppTimeAns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/clk.h"
#include "codec_check.h"
#include "fuota/err.h"

/* A single-command vector with the layout of its fields after the CID. */
struct vector {
	bool up;
	const char *name;
	uint8_t bytes[8];
	size_t len;
	struct field fields[3];
	struct clk_cmd cmd;
};

static struct clk_cmd mk(uint8_t cid, bool up)
{
	struct clk_cmd c;

	memset(&c, 0, sizeof(c));
	c.cid = cid;
	c.up = up;
	return c;
}

static struct vector vectors[8];
static size_t nb_vectors;

static void add(bool up, const char *name, const uint8_t *bytes, size_t len, struct clk_cmd cmd,
                const char *f0, size_t s0, const char *f1, size_t s1)
{
	struct vector *v = &vectors[nb_vectors++];

	v->up = up;
	v->name = name;
	memcpy(v->bytes, bytes, len);
	v->len = len;
	v->fields[0] = (struct field){f0, s0};
	v->fields[1] = (struct field){f1, s1};
	v->cmd = cmd;
}

static int setup_vectors(void **state)
{
	struct clk_cmd c;

	(void)state;
	nb_vectors = 0;
	/* brocaar clocksync_test.go (PROTOCOL-NOTES §3.4) */
	c = mk(CLK_CID_APP_TIME, true);
	c.u.time_req.device_time = 134480385;
	c.u.time_req.token_req = 5;
	c.u.time_req.ans_required = true;
	add(true, "AppTimeReq", (const uint8_t[]){0x01, 0x01, 0x02, 0x04, 0x08, 0x15}, 6, c,
	    "DeviceTime", 4, "Param", 1);
	c = mk(CLK_CID_APP_TIME, false);
	c.u.time_ans.time_correction = -134480385;
	c.u.time_ans.token_ans = 5;
	add(false, "AppTimeAns", (const uint8_t[]){0x01, 0xff, 0xfd, 0xfb, 0xf7, 0x05}, 6, c,
	    "TimeCorrection", 4, "Param", 1);
	c = mk(CLK_CID_PERIODICITY, false);
	c.u.period_req.period = 5;
	add(false, "DeviceAppTimePeriodicityReq", (const uint8_t[]){0x02, 0x05}, 2, c,
	    "Periodicity", 1, NULL, 0);
	c = mk(CLK_CID_PERIODICITY, true);
	c.u.period_ans.not_supported = true;
	c.u.period_ans.time = 134480385;
	add(true, "DeviceAppTimePeriodicityAns",
	    (const uint8_t[]){0x02, 0x01, 0x01, 0x02, 0x04, 0x08}, 6, c, "Status", 1, "Time", 4);
	c = mk(CLK_CID_FORCE_RESYNC, false);
	c.u.force.nb_transmissions = 5;
	add(false, "ForceDeviceResyncReq", (const uint8_t[]){0x03, 0x05}, 2, c, "ForceConf", 1,
	    NULL, 0);
	/* PackageVersionAns: brocaar `00 01 01` (id 1, version 1) */
	c = mk(CLK_CID_PACKAGE_VERSION, true);
	c.u.pkg_ans.package_id = 1;
	c.u.pkg_ans.version = 1;
	add(true, "PackageVersionAns", (const uint8_t[]){0x00, 0x01, 0x01}, 3, c,
	    "PackageIdentifier", 1, "PackageVersion", 1);
	c = mk(CLK_CID_PACKAGE_VERSION, false);
	add(false, "PackageVersionReq", (const uint8_t[]){0x00}, 1, c, NULL, 0, NULL, 0);
	return 0;
}

static void test_vectors_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < nb_vectors; i++) {
		const struct vector *v = &vectors[i];
		struct clk_cmd got;
		struct fuota_parse_err err;
		size_t pos = 0;

		assert_int_equal(clk_decode(v->bytes, v->len, &pos, v->up, &got, &err), FUOTA_OK);
		assert_int_equal(pos, v->len);
		assert_memory_equal(&got, &v->cmd, sizeof(got));
		assert_string_equal(clk_cmd_name(got.cid, got.up, 1), v->name);
	}
}

static void test_vectors_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < nb_vectors; i++) {
		const struct vector *v = &vectors[i];
		uint8_t buf[16];
		size_t pos = 0;

		assert_int_equal(clk_encode(&v->cmd, buf, sizeof(buf), &pos), FUOTA_OK);
		assert_int_equal(pos, v->len);
		assert_memory_equal(buf, v->bytes, v->len);
		assert_int_equal(clk_cmd_size(v->cmd.cid, v->up), v->len);
	}
}

/* Every prefix of every vector is malformed and names the field it cuts. */
static void test_every_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < nb_vectors; i++) {
		const struct vector *v = &vectors[i];

		for (size_t k = 1; k < v->len; k++) {
			struct clk_cmd got;
			struct fuota_parse_err err;
			size_t pos = 0;

			assert_int_equal(clk_decode(v->bytes, k, &pos, v->up, &got, &err),
			                 FUOTA_ERR_MALFORMED);
			assert_int_equal(pos, 0);
			assert_cut_reported(&err, v->name, v->fields, k);
		}
	}
}

static void test_names_v2_and_unknown(void **state)
{
	const uint8_t up_03[] = {0x03, 0x01};
	const uint8_t bad[] = {0x04, 0x00};
	struct clk_cmd c;
	struct fuota_parse_err err;
	size_t pos = 0;

	(void)state;
	assert_string_equal(clk_cmd_name(0x03, false, 2), "ForceDeviceResyncCmd");
	assert_string_equal(clk_cmd_name(0x03, false, 1), "ForceDeviceResyncReq");
	assert_null(clk_cmd_name(0x03, true, 2));
	assert_int_equal(clk_decode(up_03, sizeof(up_03), &pos, true, &c, &err),
	                 FUOTA_ERR_UNSUPPORTED);
	assert_null(err.command);
	assert_int_equal(err.cid, 0x03);
	assert_int_equal(clk_decode(bad, sizeof(bad), &pos, false, &c, &err),
	                 FUOTA_ERR_UNSUPPORTED);
	assert_int_equal(pos, 0);
	assert_int_equal(clk_decode(bad, 0, &pos, false, &c, NULL), FUOTA_ERR_INVALID_ARG);
}

static void test_rfu_bits_ignored(void **state)
{
	const uint8_t req[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0xf5}; /* bits 7..5 RFU */
	const uint8_t ans[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0xfa}; /* bits 7..4 RFU */
	const uint8_t per[] = {0x02, 0xf3};                         /* bits 7..4 RFU */
	const uint8_t st[] = {0x02, 0xff, 0x00, 0x00, 0x00, 0x00};  /* bits 7..1 RFU */
	/* brocaar masks ForceConf with 0x17 (P10): 0x1d would give 21 there, 5 here. */
	const uint8_t force[] = {0x03, 0x1d};
	struct clk_cmd c;
	size_t pos;

	(void)state;
	pos = 0;
	assert_int_equal(clk_decode(req, sizeof(req), &pos, true, &c, NULL), FUOTA_OK);
	assert_int_equal(c.u.time_req.token_req, 5);
	assert_true(c.u.time_req.ans_required);
	pos = 0;
	assert_int_equal(clk_decode(ans, sizeof(ans), &pos, false, &c, NULL), FUOTA_OK);
	assert_int_equal(c.u.time_ans.token_ans, 0x0a);
	pos = 0;
	assert_int_equal(clk_decode(per, sizeof(per), &pos, false, &c, NULL), FUOTA_OK);
	assert_int_equal(c.u.period_req.period, 3);
	pos = 0;
	assert_int_equal(clk_decode(st, sizeof(st), &pos, true, &c, NULL), FUOTA_OK);
	assert_true(c.u.period_ans.not_supported);
	pos = 0;
	assert_int_equal(clk_decode(force, sizeof(force), &pos, false, &c, NULL), FUOTA_OK);
	assert_int_equal(c.u.force.nb_transmissions, 5);
}

/* One uplink carrying PackageVersionAns, DeviceAppTimePeriodicityAns and AppTimeReq (the order
 * SWL2001 builds them in), and a downlink chaining all four requests. */
static void test_chained(void **state)
{
	const uint8_t up[] = {0x00, 0x01, 0x02, 0x02, 0x00, 0x10, 0x20, 0x30,
	                      0x40, 0x01, 0x01, 0x02, 0x04, 0x08, 0x03};
	const uint8_t down[] = {0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x02, 0x0c, 0x03, 0x07};
	const uint8_t cids_down[] = {0x00, 0x01, 0x02, 0x03};
	struct clk_cmd c;
	size_t pos = 0, n = 0;

	(void)state;
	assert_int_equal(clk_decode(up, sizeof(up), &pos, true, &c, NULL), FUOTA_OK);
	assert_int_equal(c.u.pkg_ans.version, 2);
	assert_int_equal(clk_decode(up, sizeof(up), &pos, true, &c, NULL), FUOTA_OK);
	assert_int_equal(c.u.period_ans.time, 0x40302010u);
	assert_false(c.u.period_ans.not_supported);
	assert_int_equal(clk_decode(up, sizeof(up), &pos, true, &c, NULL), FUOTA_OK);
	assert_int_equal(c.u.time_req.device_time, 134480385);
	assert_int_equal(c.u.time_req.token_req, 3);
	assert_false(c.u.time_req.ans_required);
	assert_int_equal(pos, sizeof(up));

	pos = 0;
	while (pos < sizeof(down)) {
		assert_int_equal(clk_decode(down, sizeof(down), &pos, false, &c, NULL), FUOTA_OK);
		assert_int_equal(c.cid, cids_down[n++]);
		if (c.cid == CLK_CID_APP_TIME)
			assert_int_equal(c.u.time_ans.time_correction, -1);
	}
	assert_int_equal(n, 4);
	/* A chain whose last command is cut short fails at that command only. */
	pos = 0;
	assert_int_equal(clk_decode(down, 9, &pos, false, &c, NULL), FUOTA_OK);
	assert_int_equal(clk_decode(down, 9, &pos, false, &c, NULL), FUOTA_OK);
	assert_int_equal(clk_decode(down, 9, &pos, false, &c, NULL), FUOTA_OK);
	assert_int_equal(pos, 9);
	assert_int_equal(clk_decode(down, 10, &pos, false, &c, NULL), FUOTA_ERR_MALFORMED);
	assert_int_equal(pos, 9);
}

static uint32_t rng_state = 0x2545f491u;

static uint32_t rnd(void)
{
	return xorshift32(&rng_state);
}

static void test_random_round_trip(void **state)
{
	(void)state;
	for (int i = 0; i < 20000; i++) {
		struct clk_cmd c = mk((uint8_t)(rnd() % 4), rnd() & 1), got;
		uint8_t buf[8];
		size_t pos = 0, rpos = 0;

		if (c.cid == CLK_CID_FORCE_RESYNC)
			c.up = false;
		switch (c.cid) {
		case CLK_CID_PACKAGE_VERSION:
			if (c.up) {
				c.u.pkg_ans.package_id = (uint8_t)rnd();
				c.u.pkg_ans.version = (uint8_t)rnd();
			}
			break;
		case CLK_CID_APP_TIME:
			if (c.up) {
				c.u.time_req.device_time = rnd();
				c.u.time_req.token_req = (uint8_t)(rnd() & 0x0F);
				c.u.time_req.ans_required = rnd() & 1;
			} else {
				c.u.time_ans.time_correction = (int32_t)(rnd() & 0x7fffffff) -
				                               (int32_t)(rnd() & 0x7fffffff);
				c.u.time_ans.token_ans = (uint8_t)(rnd() & 0x0F);
			}
			break;
		case CLK_CID_PERIODICITY:
			if (c.up) {
				c.u.period_ans.not_supported = rnd() & 1;
				c.u.period_ans.time = rnd();
			} else {
				c.u.period_req.period = (uint8_t)(rnd() & 0x0F);
			}
			break;
		default: c.u.force.nb_transmissions = (uint8_t)(rnd() & 0x07); break;
		}
		assert_int_equal(clk_encode(&c, buf, sizeof(buf), &pos), FUOTA_OK);
		assert_int_equal(clk_decode(buf, pos, &rpos, c.up, &got, NULL), FUOTA_OK);
		assert_int_equal(rpos, pos);
		assert_memory_equal(&got, &c, sizeof(c));
	}
}

static void test_encode_limits(void **state)
{
	struct clk_cmd c = mk(CLK_CID_APP_TIME, true);
	uint8_t buf[8];
	size_t pos;

	(void)state;
	c.u.time_req.token_req = 16;
	pos = 0;
	assert_int_equal(clk_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.u.time_req.token_req = 15;
	pos = 3;
	assert_int_equal(clk_encode(&c, buf, 8, &pos), FUOTA_ERR_NO_SPACE); /* 3 + 6 > 8 */
	assert_int_equal(pos, 3);
	pos = 2;
	assert_int_equal(clk_encode(&c, buf, 8, &pos), FUOTA_OK);
	assert_int_equal(pos, 8);
	c = mk(CLK_CID_FORCE_RESYNC, false);
	c.u.force.nb_transmissions = 8;
	pos = 0;
	assert_int_equal(clk_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.up = true; /* no ForceDeviceResync answer exists */
	c.u.force.nb_transmissions = 1;
	assert_int_equal(clk_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c = mk(CLK_CID_PERIODICITY, false);
	c.u.period_req.period = 16;
	assert_int_equal(clk_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c = mk(7, false);
	assert_int_equal(clk_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
}

/* ChirpStack v4 chirpstack/src/applayer/clocksync.rs test_handle_v1_app_time_req. */
static void test_server_answer_chirpstack(void **state)
{
	static const struct {
		int64_t net_s;
		uint32_t device_time;
		bool ans_required;
		bool send;
		int32_t correction;
	} t[] = {
	        {1234, 1234, false, false, 0},
	        {1234, 1234, true, true, 0},
	        {1234, 1200, false, true, 34},
	        {1200, 1234, false, true, -34},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct clk_cmd req = mk(CLK_CID_APP_TIME, true), ans;
		uint8_t buf[8];
		size_t pos = 0;
		bool send = !t[i].send;

		req.u.time_req.device_time = t[i].device_time;
		req.u.time_req.token_req = 8;
		req.u.time_req.ans_required = t[i].ans_required;
		assert_int_equal(clk_server_answer(&req, t[i].net_s * 1000, &ans, &send), FUOTA_OK);
		assert_int_equal(send, t[i].send);
		assert_int_equal(ans.u.time_ans.time_correction, t[i].correction);
		assert_int_equal(ans.u.time_ans.token_ans, 8);
		assert_int_equal(clk_encode(&ans, buf, sizeof(buf), &pos), FUOTA_OK);
		assert_int_equal(buf[0], 0x01);
		assert_int_equal(buf[5], 0x08);
	}
}

static void test_time_correction_edges(void **state)
{
	const int64_t wrap_ms = 4294967296LL * 1000;
	int32_t c;

	(void)state;
	/* A device clock ahead of a network at GPS 0.999 s. */
	assert_int_equal(clk_time_correction(999, 134480385, &c), FUOTA_OK);
	assert_int_equal(c, -134480384); /* -134480384.001 s truncated toward zero */
	assert_int_equal(clk_time_correction(0, 134480385, &c), FUOTA_OK);
	assert_int_equal(c, -134480385);
	/* Sub-second network time truncates toward zero on both sides. */
	assert_int_equal(clk_time_correction(1234999, 1200, &c), FUOTA_OK);
	assert_int_equal(c, 34);
	assert_int_equal(clk_time_correction(1199500, 1234, &c), FUOTA_OK);
	assert_int_equal(c, -34);
	/* Saturation: an unsynchronised device (clock near 0) after GPS second 2^31 (year 2048). */
	assert_int_equal(clk_time_correction(2147483648LL * 1000, 0, &c), FUOTA_OK);
	assert_int_equal(c, INT32_MAX);
	assert_int_equal(clk_time_correction(2147483647LL * 1000, 0, &c), FUOTA_OK);
	assert_int_equal(c, INT32_MAX); /* exactly representable, and still the v2 marker */
	assert_int_equal(clk_time_correction(1000, 0xFFFFFFFFu, &c), FUOTA_OK);
	assert_int_equal(c, INT32_MIN);
	assert_int_equal(clk_time_correction(1436486418LL * 1000, 1436486418u + 3600u, &c),
	                 FUOTA_OK);
	assert_int_equal(c, -3600);
	/* After GPS second 2^32 the network time is taken modulo 2^32 like DeviceTime. */
	assert_int_equal(clk_time_correction(wrap_ms + 5000, 3, &c), FUOTA_OK);
	assert_int_equal(c, 2);
	assert_int_equal(clk_time_correction(2 * wrap_ms + 10000, 20, &c), FUOTA_OK);
	assert_int_equal(c, -10);
	assert_int_equal(clk_time_correction(-1, 0, &c), FUOTA_ERR_INVALID_ARG);
}

static void test_pick_rx_time(void **state)
{
	struct clk_rx_time gw[3];
	int64_t t;
	enum clk_time_source src;

	(void)state;
	memset(gw, 0, sizeof(gw));
	assert_int_equal(clk_pick_rx_time(NULL, 0, 777, &t, &src), FUOTA_OK);
	assert_int_equal(t, 777);
	assert_int_equal(src, CLK_SRC_SERVER);
	assert_int_equal(clk_pick_rx_time(gw, 3, 777, &t, &src), FUOTA_OK);
	assert_int_equal(src, CLK_SRC_SERVER);
	gw[0].has_gw_time = true;
	gw[0].gw_time_gps_ms = 500;
	gw[2].has_gw_time = true;
	gw[2].gw_time_gps_ms = 600;
	assert_int_equal(clk_pick_rx_time(gw, 3, 777, &t, &src), FUOTA_OK);
	assert_int_equal(t, 500);
	assert_int_equal(src, CLK_SRC_GW_TIME);
	gw[2].has_gps_time = true;
	gw[2].gps_time_ms = 650;
	assert_int_equal(clk_pick_rx_time(gw, 3, 777, &t, &src), FUOTA_OK);
	assert_int_equal(t, 650); /* a GPS timestamp beats an earlier gateway's gw_time */
	assert_int_equal(src, CLK_SRC_GW_GPS);
	assert_int_equal(clk_pick_rx_time(NULL, 1, 0, &t, &src), FUOTA_ERR_INVALID_ARG);
}

static void test_device_side(void **state)
{
	struct clk_dev d;
	struct clk_cmd req, ans, cmd;
	uint32_t now;
	bool resync, send;

	(void)state;
	assert_int_equal(clk_dev_init(&d, 3), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(clk_dev_init(&d, 2), FUOTA_OK);
	clk_dev_app_time_req(&d, 1000, false, &req);
	assert_int_equal(req.u.time_req.token_req, 0);
	/* The server sees the device 400 s late. */
	assert_int_equal(clk_server_answer(&req, 1400500, &ans, &send), FUOTA_OK);
	assert_true(send);
	/* A wrong token is ignored and changes nothing. */
	ans.u.time_ans.token_ans = 1;
	assert_int_equal(clk_dev_on_app_time_ans(&d, &ans, 1002, &now, &resync), FUOTA_ERR_STATE);
	assert_int_equal(d.token_req, 0);
	ans.u.time_ans.token_ans = 0;
	d.nb_transmissions = 3;
	assert_int_equal(clk_dev_on_app_time_ans(&d, &ans, 1002, &now, &resync), FUOTA_OK);
	assert_int_equal(now, 1402);
	assert_false(resync);
	assert_int_equal(d.token_req, 1);
	assert_int_equal(d.nb_transmissions, 0);
	/* The same answer again is now stale. */
	assert_int_equal(clk_dev_on_app_time_ans(&d, &ans, 1402, &now, &resync), FUOTA_ERR_STATE);
	/* Token wraps 15 -> 0. */
	d.token_req = 15;
	ans.u.time_ans.token_ans = 15;
	ans.u.time_ans.time_correction = -5;
	assert_int_equal(clk_dev_on_app_time_ans(&d, &ans, 3, &now, &resync), FUOTA_OK);
	assert_int_equal(now, 0xFFFFFFFEu); /* modulo 2^32 */
	assert_int_equal(d.token_req, 0);
	/* v2 saturation: apply, then resynchronise; v1 has no such rule. */
	ans.u.time_ans.token_ans = 0;
	ans.u.time_ans.time_correction = INT32_MAX;
	assert_int_equal(clk_dev_on_app_time_ans(&d, &ans, 0, &now, &resync), FUOTA_OK);
	assert_true(resync);
	assert_int_equal(now, 0x7FFFFFFFu);
	ans.u.time_ans.token_ans = 1;
	ans.u.time_ans.time_correction = INT32_MIN;
	assert_int_equal(clk_dev_on_app_time_ans(&d, &ans, 0x80000000u, &now, &resync), FUOTA_OK);
	assert_true(resync);
	assert_int_equal(now, 0);
	assert_int_equal(clk_dev_init(&d, 1), FUOTA_OK);
	ans.u.time_ans.token_ans = 0;
	assert_int_equal(clk_dev_on_app_time_ans(&d, &ans, 0x80000000u, &now, &resync), FUOTA_OK);
	assert_false(resync);
	assert_int_equal(clk_dev_on_app_time_ans(&d, &req, 0, &now, &resync),
	                 FUOTA_ERR_INVALID_ARG);
	/* Periodicity 5 = 128 * 32 s; ForceDeviceResync 5 transmissions. */
	cmd = mk(CLK_CID_PERIODICITY, false);
	cmd.u.period_req.period = 5;
	assert_int_equal(clk_dev_on_request(&d, &cmd), FUOTA_OK);
	assert_int_equal(d.periodicity_s, 4096);
	assert_int_equal(clk_periodicity_s(15), 128u << 15);
	cmd = mk(CLK_CID_FORCE_RESYNC, false);
	cmd.u.force.nb_transmissions = 5;
	assert_int_equal(clk_dev_on_request(&d, &cmd), FUOTA_OK);
	assert_int_equal(d.nb_transmissions, 5);
	assert_int_equal(clk_dev_on_request(&d, &ans), FUOTA_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_vectors_decode, setup_vectors),
	        cmocka_unit_test_setup(test_vectors_encode, setup_vectors),
	        cmocka_unit_test_setup(test_every_truncation, setup_vectors),
	        cmocka_unit_test(test_names_v2_and_unknown),
	        cmocka_unit_test(test_rfu_bits_ignored),
	        cmocka_unit_test(test_chained),
	        cmocka_unit_test(test_random_round_trip),
	        cmocka_unit_test(test_encode_limits),
	        cmocka_unit_test(test_server_answer_chirpstack),
	        cmocka_unit_test(test_time_correction_edges),
	        cmocka_unit_test(test_pick_rx_time),
	        cmocka_unit_test(test_device_side),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
