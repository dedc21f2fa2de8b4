/* LoRaWAN data frames: brocaar/lorawan vectors (PROTOCOL-NOTES §6), an independent cross-check
 * that builds the A_i and B0 blocks by hand and calls lw_aes128_encrypt / lw_aes_cmac directly,
 * round trips, and the rejection of altered frames, wrong keys, wrong counters and short input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/lw_crypto.h"
#include "fuota/lw_frame.h"

static const uint8_t key01[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
static const uint8_t key02[16] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};

/* brocaar TestPHYPayloadMACPayloadLoRaWAN10: unconfirmed uplink, DevAddr 01020304, ADR, FCnt 1,
 * FPort 1, "hello", NwkSKey 16 x 02, AppSKey 16 x 01. */
static const uint8_t brocaar_up[] = {0x40, 0x04, 0x03, 0x02, 0x01, 0x80, 0x01, 0x00, 0x01,
                                     0xa6, 0x94, 0x64, 0x26, 0x15, 0xd6, 0xc3, 0xb5, 0x82};

static void test_brocaar_uplink_build(void **state)
{
	struct lw_frame_tx tx = {
	        .mtype = LW_MTYPE_UNCONF_DATA_UP,
	        .dev_addr = 0x01020304,
	        .fctrl = LW_FCTRL_ADR,
	        .fcnt = 1,
	        .has_fport = true,
	        .fport = 1,
	        .payload = (const uint8_t *)"hello",
	        .payload_len = 5,
	};
	uint8_t out[64];
	size_t n = 0;

	(void)state;
	assert_int_equal(lw_frame_build(&tx, key01, key02, out, sizeof(out), &n), FUOTA_OK);
	assert_int_equal(n, sizeof(brocaar_up));
	assert_memory_equal(out, brocaar_up, sizeof(brocaar_up));
	/* Exactly enough room works, one byte less does not. */
	assert_int_equal(lw_frame_build(&tx, key01, key02, out, sizeof(brocaar_up), &n), FUOTA_OK);
	assert_int_equal(lw_frame_build(&tx, key01, key02, out, sizeof(brocaar_up) - 1, &n),
	                 FUOTA_ERR_NO_SPACE);
}

static void test_brocaar_uplink_open(void **state)
{
	struct lw_frame f;
	uint8_t pl[32];
	size_t n = 0;
	uint32_t fc = 0;

	(void)state;
	assert_int_equal(lw_frame_open(brocaar_up, sizeof(brocaar_up), key01, key02, 0, &f, &fc, pl,
	                               sizeof(pl), &n),
	                 FUOTA_OK);
	assert_int_equal(f.mtype, LW_MTYPE_UNCONF_DATA_UP);
	assert_false(f.downlink);
	assert_int_equal(f.dev_addr, 0x01020304);
	assert_int_equal(f.fctrl, 0x80);
	assert_int_equal(f.fcnt16, 1);
	assert_int_equal(fc, 1);
	assert_true(f.has_fport);
	assert_int_equal(f.fport, 1);
	assert_int_equal(n, 5);
	assert_memory_equal(pl, "hello", 5);
	/* Keys swapped: MIC fails, nothing decrypted. */
	memset(pl, 0xee, sizeof(pl));
	assert_int_equal(lw_frame_open(brocaar_up, sizeof(brocaar_up), key02, key01, 0, &f, NULL,
	                               pl, sizeof(pl), &n),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(pl[0], 0xee);
}

/* brocaar ExamplePHYPayload_lorawan10Encode: confirmed uplink, FCnt 0, FOpts = DevStatusAns
 * (06 73 07, battery 115, margin 7), FPort 10, payload 01020304, NwkSKey 01..10 (hex),
 * AppSKey 10..01; base64 "gAQDAgEDAAAGcwcK4mTU9+EX0sA=". */
static void test_brocaar_base64_example(void **state)
{
	static const uint8_t nwk[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	static const uint8_t app[16] = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
	static const uint8_t fopts[] = {0x06, 0x73, 0x07};
	static const uint8_t payload[] = {1, 2, 3, 4};
	static const uint8_t expect[] = {0x80, 0x04, 0x03, 0x02, 0x01, 0x03, 0x00,
	                                 0x00, 0x06, 0x73, 0x07, 0x0a, 0xe2, 0x64,
	                                 0xd4, 0xf7, 0xe1, 0x17, 0xd2, 0xc0};
	struct lw_frame_tx tx = {
	        .mtype = LW_MTYPE_CONF_DATA_UP,
	        .dev_addr = 0x01020304,
	        .fcnt = 0,
	        .fopts = fopts,
	        .fopts_len = sizeof(fopts),
	        .has_fport = true,
	        .fport = 10,
	        .payload = payload,
	        .payload_len = sizeof(payload),
	};
	struct lw_frame f;
	uint8_t out[64], pl[8];
	size_t n = 0;

	(void)state;
	assert_int_equal(lw_frame_build(&tx, app, nwk, out, sizeof(out), &n), FUOTA_OK);
	assert_int_equal(n, sizeof(expect));
	assert_memory_equal(out, expect, sizeof(expect));

	assert_int_equal(
	        lw_frame_open(expect, sizeof(expect), app, nwk, 0, &f, NULL, pl, sizeof(pl), &n),
	        FUOTA_OK);
	assert_int_equal(f.mtype, LW_MTYPE_CONF_DATA_UP);
	assert_int_equal(f.fopts_len, 3);
	assert_memory_equal(f.fopts, fopts, 3);
	assert_int_equal(f.fport, 10);
	assert_int_equal(n, 4);
	assert_memory_equal(pl, payload, 4);
}

/* Independent construction of a multicast downlink: header bytes, A_i, S_i and B0 are written
 * out here and fed to the raw AES / CMAC primitives; lw_frame_build must agree byte for byte. */
static void test_downlink_cross_check(void **state)
{
	static const uint8_t app[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
	                                0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
	static const uint8_t nwk[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	                                0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	const uint32_t fcnt = 0x00031234; /* high bits set: only 34 12 goes on air */
	uint8_t payload[40], expect[80], got[80], a[16], s[16], b0[16], tag[16];
	size_t n = 0, pos = 0;
	struct lw_frame_tx tx = {
	        .mtype = LW_MTYPE_UNCONF_DATA_DOWN,
	        .dev_addr = 0xa1b2c3d4,
	        .fcnt = fcnt,
	        .has_fport = true,
	        .fport = 201,
	        .payload = payload,
	        .payload_len = sizeof(payload),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);

	expect[pos++] = 0x60;
	expect[pos++] = 0xd4; /* DevAddr LE */
	expect[pos++] = 0xc3;
	expect[pos++] = 0xb2;
	expect[pos++] = 0xa1;
	expect[pos++] = 0x00; /* FCtrl */
	expect[pos++] = 0x34; /* FCnt LE, low 16 bits */
	expect[pos++] = 0x12;
	expect[pos++] = 201; /* FPort */
	for (size_t blk = 0; blk < 3; blk++) {
		const uint8_t ai[16] = {
		        0x01, 0,    0,    0,    0,    0x01, 0xd4, 0xc3,
		        0xb2, 0xa1, 0x34, 0x12, 0x03, 0x00, 0x00, (uint8_t)(blk + 1)};

		memcpy(a, ai, 16);
		assert_int_equal(lw_aes128_encrypt(app, a, s), FUOTA_OK);
		for (size_t k = 0; k < 16 && blk * 16 + k < sizeof(payload); k++)
			expect[pos++] = (uint8_t)(payload[blk * 16 + k] ^ s[k]);
	}
	{
		const uint8_t b[16] = {0x49, 0,    0,    0,    0,    0x01, 0xd4, 0xc3,
		                       0xb2, 0xa1, 0x34, 0x12, 0x03, 0x00, 0x00, (uint8_t)pos};
		uint8_t msg[16 + 80];

		memcpy(b0, b, 16);
		memcpy(msg, b0, 16);
		memcpy(msg + 16, expect, pos);
		assert_int_equal(lw_aes_cmac(nwk, msg, 16 + pos, tag), FUOTA_OK);
		memcpy(expect + pos, tag, 4);
		pos += 4;
	}

	assert_int_equal(lw_frame_build(&tx, app, nwk, got, sizeof(got), &n), FUOTA_OK);
	assert_int_equal(n, pos);
	assert_int_equal(n, 40 + 13);
	assert_memory_equal(got, expect, pos);

	/* The receiver needs the high bits: 3 works, 0 and 4 do not. */
	{
		struct lw_frame f;
		uint8_t pl[64];
		size_t pl_len = 0;
		uint32_t fc = 0;

		assert_int_equal(
		        lw_frame_open(got, n, app, nwk, 3, &f, &fc, pl, sizeof(pl), &pl_len),
		        FUOTA_OK);
		assert_int_equal(fc, fcnt);
		assert_true(f.downlink);
		assert_int_equal(pl_len, sizeof(payload));
		assert_memory_equal(pl, payload, sizeof(payload));
		assert_int_equal(
		        lw_frame_open(got, n, app, nwk, 0, &f, &fc, pl, sizeof(pl), &pl_len),
		        FUOTA_ERR_MALFORMED);
		assert_int_equal(
		        lw_frame_open(got, n, app, nwk, 4, &f, &fc, pl, sizeof(pl), &pl_len),
		        FUOTA_ERR_MALFORMED);
	}
}

static void test_round_trips(void **state)
{
	static const uint8_t fports[] = {0, 1, 200, 201, 255};
	uint8_t payload[255], out[LW_PHY_MAX_LEN + 1], pl[255];

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(0xa5 ^ i);
	for (size_t p = 0; p < sizeof(fports); p++) {
		for (size_t len = 0; len <= LW_PHY_MAX_LEN - 13; len += 17) {
			struct lw_frame_tx tx = {.mtype = LW_MTYPE_UNCONF_DATA_DOWN,
			                         .dev_addr = 0x26011234,
			                         .fcnt = 0x00010000u + (uint32_t)len,
			                         .has_fport = true,
			                         .fport = fports[p],
			                         .payload = payload,
			                         .payload_len = len};
			struct lw_frame f;
			size_t n = 0, m = 0;
			bool ok = false;

			assert_int_equal(lw_frame_build(&tx, key01, key02, out, sizeof(out), &n),
			                 FUOTA_OK);
			assert_int_equal(n, len + 13);
			if (len >= 16) /* encrypted: the clear text is not on air */
				assert_memory_not_equal(out + 9, payload, len);
			assert_int_equal(lw_frame_open(out, n, key01, key02, 1, &f, NULL, pl,
			                               sizeof(pl), &m),
			                 FUOTA_OK);
			assert_int_equal(m, len);
			if (len)
				assert_memory_equal(pl, payload, len);
			/* FPort 0 is encrypted with NwkSKey: decrypting with AppSKey in
			 * its place gives other bytes. */
			if (fports[p] == 0 && len) {
				assert_int_equal(lw_frame_decrypt(&f, tx.fcnt, NULL, key01, pl,
				                                  sizeof(pl), &m),
				                 FUOTA_OK);
				assert_memory_not_equal(pl, payload, len);
			}
			assert_int_equal(lw_frame_mic_check(&f, tx.fcnt, key02, &ok), FUOTA_OK);
			assert_true(ok);
		}
	}
}

static void test_no_fport(void **state)
{
	static const uint8_t fopts[] = {0x02}; /* LinkCheckReq */
	struct lw_frame_tx tx = {.mtype = LW_MTYPE_UNCONF_DATA_DOWN,
	                         .dev_addr = 1,
	                         .fctrl = LW_FCTRL_ACK | 0x0f, /* FOptsLen bits are ignored */
	                         .fcnt = 5,
	                         .fopts = fopts,
	                         .fopts_len = 1};
	uint8_t out[32], pl[4];
	struct lw_frame f;
	size_t n = 0, m = 9;

	(void)state;
	assert_int_equal(lw_frame_build(&tx, NULL, key02, out, sizeof(out), &n), FUOTA_OK);
	assert_int_equal(n, LW_DATA_MIN_LEN + 1);
	assert_int_equal(out[5], LW_FCTRL_ACK | 1);
	assert_int_equal(lw_frame_open(out, n, NULL, key02, 0, &f, NULL, pl, sizeof(pl), &m),
	                 FUOTA_OK);
	assert_false(f.has_fport);
	assert_int_equal(m, 0);
	assert_int_equal(f.fopts_len, 1);
	assert_int_equal(f.fopts[0], 0x02);
}

static void test_tampering(void **state)
{
	uint8_t buf[sizeof(brocaar_up)], pl[32];
	struct lw_frame f;
	size_t n = 0;
	bool ok = true;

	(void)state;
	/* Flip each bit of each byte: every change is rejected by the parser or by the MIC. */
	for (size_t i = 0; i < sizeof(buf); i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			int rc;

			memcpy(buf, brocaar_up, sizeof(buf));
			buf[i] ^= (uint8_t)(1u << bit);
			rc = lw_frame_open(buf, sizeof(buf), key01, key02, 0, &f, NULL, pl,
			                   sizeof(pl), &n);
			assert_int_not_equal(rc, FUOTA_OK);
		}
	}
	/* The parser ignores the MHDR RFU bits, the MIC still covers them. */
	memcpy(buf, brocaar_up, sizeof(buf));
	buf[0] ^= 0x04;
	assert_int_equal(
	        lw_frame_open(buf, sizeof(buf), key01, key02, 0, &f, NULL, pl, sizeof(pl), &n),
	        FUOTA_ERR_MALFORMED);
	/* Wrong counter given to the MIC check. */
	assert_int_equal(lw_frame_parse(brocaar_up, sizeof(brocaar_up), &f), FUOTA_OK);
	assert_int_equal(lw_frame_mic_check(&f, 1, key02, &ok), FUOTA_OK);
	assert_true(ok);
	assert_int_equal(lw_frame_mic_check(&f, 0x10001, key02, &ok), FUOTA_OK);
	assert_false(ok);
	assert_int_equal(lw_frame_mic_check(&f, 2, key02, &ok), FUOTA_OK);
	assert_false(ok);
	assert_int_equal(lw_frame_mic_check(&f, 1, key01, &ok), FUOTA_OK);
	assert_false(ok);
}

static void test_parse_malformed(void **state)
{
	uint8_t buf[LW_PHY_MAX_LEN + 1];
	struct lw_frame f;

	(void)state;
	/* Every proper prefix of a valid frame is MALFORMED (or OK where it is itself a frame). */
	for (size_t len = 0; len < sizeof(brocaar_up); len++) {
		int rc = lw_frame_parse(brocaar_up, len, &f);

		if (len < LW_DATA_MIN_LEN)
			assert_int_equal(rc, FUOTA_ERR_MALFORMED);
		else
			assert_int_equal(rc, FUOTA_OK); /* shorter FRMPayload, other MIC */
	}
	/* FOptsLen pointing past the end. */
	memcpy(buf, brocaar_up, sizeof(brocaar_up));
	buf[5] = 0x87;
	assert_int_equal(lw_frame_parse(buf, sizeof(brocaar_up), &f), FUOTA_ERR_MALFORMED);
	buf[5] = 0x86; /* 6 FOpts bytes: FHDR 7 + 6 + MIC 4 = 18 = len: no FPort */
	assert_int_equal(lw_frame_parse(buf, sizeof(brocaar_up), &f), FUOTA_OK);
	assert_false(f.has_fport);
	assert_int_equal(f.fopts_len, 6);
	/* FOpts with FPort 0. */
	buf[5] = 0x81;
	buf[9] = 0;
	assert_int_equal(lw_frame_parse(buf, sizeof(brocaar_up), &f), FUOTA_ERR_MALFORMED);
	/* Non-data MTypes and Major != 0. */
	memcpy(buf, brocaar_up, sizeof(brocaar_up));
	for (unsigned mt = 0; mt < 8; mt++) {
		buf[0] = (uint8_t)(mt << 5);
		assert_int_equal(lw_frame_parse(buf, sizeof(brocaar_up), &f),
		                 mt >= 2 && mt <= 5 ? FUOTA_OK : FUOTA_ERR_UNSUPPORTED);
	}
	buf[0] = 0x41;
	assert_int_equal(lw_frame_parse(buf, sizeof(brocaar_up), &f), FUOTA_ERR_UNSUPPORTED);
	/* Longer than a LoRa frame can be. */
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x60;
	assert_int_equal(lw_frame_parse(buf, LW_PHY_MAX_LEN, &f), FUOTA_OK);
	assert_int_equal(f.frm_payload_len, LW_PHY_MAX_LEN - 13);
	assert_int_equal(lw_frame_parse(buf, LW_PHY_MAX_LEN + 1, &f), FUOTA_ERR_MALFORMED);
	assert_int_equal(lw_frame_parse(NULL, 0, &f), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_frame_parse(buf, 12, NULL), FUOTA_ERR_INVALID_ARG);
}

static void test_build_invalid(void **state)
{
	uint8_t payload[255] = {0}, out[300];
	static const uint8_t fopts[16] = {0};
	struct lw_frame_tx tx = {.mtype = LW_MTYPE_UNCONF_DATA_DOWN,
	                         .has_fport = true,
	                         .fport = 1,
	                         .payload = payload,
	                         .payload_len = 242};
	size_t n = 0;

	(void)state;
	assert_int_equal(lw_frame_build(&tx, key01, key02, out, sizeof(out), &n), FUOTA_OK);
	tx.payload_len = 243; /* 243 + 13 = 256 > 255 */
	assert_int_equal(lw_frame_build(&tx, key01, key02, out, sizeof(out), &n),
	                 FUOTA_ERR_INVALID_ARG);
	tx.payload_len = 10;
	assert_int_equal(lw_frame_build(&tx, NULL, key02, out, sizeof(out), &n),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_frame_build(&tx, key01, NULL, out, sizeof(out), &n),
	                 FUOTA_ERR_INVALID_ARG);
	tx.mtype = LW_MTYPE_JOIN_ACCEPT;
	assert_int_equal(lw_frame_build(&tx, key01, key02, out, sizeof(out), &n),
	                 FUOTA_ERR_INVALID_ARG);
	tx.mtype = LW_MTYPE_UNCONF_DATA_DOWN;
	tx.fopts = fopts;
	tx.fopts_len = 16;
	assert_int_equal(lw_frame_build(&tx, key01, key02, out, sizeof(out), &n),
	                 FUOTA_ERR_INVALID_ARG);
	tx.fopts_len = 1;
	tx.fport = 0;
	assert_int_equal(lw_frame_build(&tx, key01, key02, out, sizeof(out), &n),
	                 FUOTA_ERR_INVALID_ARG);
	tx.fopts_len = 0;
	tx.has_fport = false;
	assert_int_equal(lw_frame_build(&tx, key01, key02, out, sizeof(out), &n),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(lw_frame_build(NULL, key01, key02, out, sizeof(out), &n),
	                 FUOTA_ERR_INVALID_ARG);
}

static void test_fcnt(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(lw_fcnt32(0, 1), 1);
	assert_int_equal(lw_fcnt32(3, 0x1234), 0x31234);
	assert_int_equal(lw_fcnt32(0xffff, 0xffff), 0xffffffffu);
	assert_int_equal(lw_fcnt_next(0, 5, &v), FUOTA_OK);
	assert_int_equal(v, 5);
	assert_int_equal(lw_fcnt_next(0x1fff0, 0xfff0, &v), FUOTA_OK);
	assert_int_equal(v, 0x1fff0);
	assert_int_equal(lw_fcnt_next(0x1fff1, 0xfff0, &v), FUOTA_OK);
	assert_int_equal(v, 0x2fff0);
	assert_int_equal(lw_fcnt_next(0x1fff1, 0x0002, &v), FUOTA_OK);
	assert_int_equal(v, 0x20002);
	assert_int_equal(lw_fcnt_next(0xffff0000u, 0xffff, &v), FUOTA_OK);
	assert_int_equal(v, 0xffffffffu);
	assert_int_equal(lw_fcnt_next(0xfffffff0u, 0x0001, &v), FUOTA_ERR_MALFORMED);
	assert_int_equal(lw_fcnt_next(0, 0, NULL), FUOTA_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_brocaar_uplink_build),
	        cmocka_unit_test(test_brocaar_uplink_open),
	        cmocka_unit_test(test_brocaar_base64_example),
	        cmocka_unit_test(test_downlink_cross_check),
	        cmocka_unit_test(test_round_trips),
	        cmocka_unit_test(test_no_fport),
	        cmocka_unit_test(test_tampering),
	        cmocka_unit_test(test_parse_malformed),
	        cmocka_unit_test(test_build_invalid),
	        cmocka_unit_test(test_fcnt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
