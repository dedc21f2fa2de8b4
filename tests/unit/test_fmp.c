/* TS006 firmware management: brocaar firmwaremangement_test.go and SWL2001 fmp_test vectors
 * (PROTOCOL-NOTES §8), every truncation, RFU bits, random round trips.
 *
 * P10: brocaar's DevDeleteImageAns encoder writes ErrorNoValidImage into both bits. Its own
 * vector (`05 03`, both errors) cannot show that; SWL2001's `05 02` (bad version only) does, and
 * is checked here with the correct bit 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec_check.h"
#include "fuota/err.h"
#include "fuota/fmp.h"

struct vector {
	const char *name;
	uint8_t bytes[12];
	size_t len;
	struct field fields[2];
	struct fmp_cmd cmd;
};

#define V(nm, ...) .name = nm, .bytes = {__VA_ARGS__}

static const struct vector vectors[] = {
        /* brocaar */
        {V("DevVersionAns", 0x01, 0x01, 0x02, 0x00, 0x00, 0xf0, 0x04, 0x00, 0x00), .len = 9,
         .fields = {{"FWversion", 4}, {"HWversion", 4}},
         .cmd = {.cid = 1, .up = true, .u.version_ans = {.fw_version = 513, .hw_version = 1264}}},
        {V("DevRebootTimeReq", 0x02, 0x01, 0x02, 0x04, 0x08), .len = 5,
         .fields = {{"RebootTime", 4}}, .cmd = {.cid = 2, .up = false, .u.reboot_time = 134480385}},
        {V("DevRebootCountdownReq", 0x03, 0x01, 0x02, 0x04), .len = 4, .fields = {{"Countdown", 3}},
         .cmd = {.cid = 3, .up = false, .u.countdown = 262657}},
        {V("DevUpgradeImageAns", 0x04, 0x03, 0x01, 0x02, 0x04, 0x00), .len = 6,
         .fields = {{"Status", 1}, {"nextFirmwareVersion", 4}},
         .cmd = {.cid = 4,
                 .up = true,
                 .u.upgrade_ans = {.status = FMP_IMAGE_VALID, .next_fw_version = 262657}}},
        {V("DevUpgradeImageAns", 0x04, 0x01), .len = 2, .fields = {{"Status", 1}},
         .cmd = {.cid = 4, .up = true, .u.upgrade_ans = {.status = FMP_IMAGE_CORRUPT}}},
        {V("DevDeleteImageReq", 0x05, 0x01, 0x02, 0x03, 0x00), .len = 5,
         .fields = {{"FirmwareToDeleteVersion", 4}},
         .cmd = {.cid = 5, .up = false, .u.delete_version = 197121}},
        {V("DevDeleteImageAns", 0x05, 0x03), .len = 2, .fields = {{"Status", 1}},
         .cmd = {.cid = 5,
                 .up = true,
                 .u.delete_ans = {.error_no_valid_image = true, .error_invalid_version = true}}},
        /* SWL2001 fmp_test (FUOTA_BUILT_IN_TEST) */
        {V("DevVersionAns", 0x01, 0x44, 0x33, 0x22, 0x11, 0x78, 0x56, 0x34, 0x12), .len = 9,
         .fields = {{"FWversion", 4}, {"HWversion", 4}},
         .cmd = {.cid = 1,
                 .up = true,
                 .u.version_ans = {.fw_version = 0x11223344, .hw_version = 0x12345678}}},
        {V("DevRebootTimeAns", 0x02, 0xff, 0xff, 0xff, 0xff), .len = 5,
         .fields = {{"RebootTime", 4}},
         .cmd = {.cid = 2, .up = true, .u.reboot_time = FMP_REBOOT_TIME_CANCEL}},
        {V("DevRebootCountdownAns", 0x03, 0xff, 0xff, 0xff), .len = 4, .fields = {{"Countdown", 3}},
         .cmd = {.cid = 3, .up = true, .u.countdown = FMP_COUNTDOWN_CANCEL}},
        {V("DevUpgradeImageAns", 0x04, 0x03, 0x17, 0x01, 0x19, 0x73), .len = 6,
         .fields = {{"Status", 1}, {"nextFirmwareVersion", 4}},
         .cmd = {.cid = 4,
                 .up = true,
                 .u.upgrade_ans = {.status = FMP_IMAGE_VALID, .next_fw_version = 0x73190117}}},
        {V("DevDeleteImageAns", 0x05, 0x02), .len = 2, .fields = {{"Status", 1}},
         .cmd = {.cid = 5, .up = true, .u.delete_ans = {.error_invalid_version = true}}},
        {V("DevDeleteImageAns", 0x05, 0x00), .len = 2, .fields = {{"Status", 1}},
         .cmd = {.cid = 5, .up = true}},
        /* requests without payload, and PackageVersionAns (id 4, version 1) */
        {V("DevVersionReq", 0x01), .len = 1, .cmd = {.cid = 1, .up = false}},
        {V("DevUpgradeImageReq", 0x04), .len = 1, .cmd = {.cid = 4, .up = false}},
        {V("PackageVersionReq", 0x00), .len = 1, .cmd = {.cid = 0, .up = false}},
        {V("PackageVersionAns", 0x00, 0x04, 0x01), .len = 3,
         .fields = {{"PackageIdentifier", 1}, {"PackageVersion", 1}},
         .cmd = {.cid = 0, .up = true, .u.pkg_ans = {.package_id = 4, .version = 1}}},
};

#define NB_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < NB_VECTORS; i++) {
		const struct vector *v = &vectors[i];
		struct fmp_cmd got;
		uint8_t buf[16];
		size_t pos = 0;

		assert_int_equal(fmp_decode(v->bytes, v->len, &pos, v->cmd.up, &got, NULL),
		                 FUOTA_OK);
		assert_int_equal(pos, v->len);
		assert_memory_equal(&got, &v->cmd, sizeof(got));
		assert_string_equal(fmp_cmd_name(got.cid, got.up), v->name);
		pos = 0;
		assert_int_equal(fmp_encode(&v->cmd, buf, sizeof(buf), &pos), FUOTA_OK);
		assert_int_equal(pos, v->len);
		assert_memory_equal(buf, v->bytes, v->len);
	}
}

static void test_every_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < NB_VECTORS; i++) {
		const struct vector *v = &vectors[i];

		for (size_t k = 1; k < v->len; k++) {
			struct fmp_cmd got;
			struct fuota_parse_err err;
			size_t pos = 0;

			assert_int_equal(fmp_decode(v->bytes, k, &pos, v->cmd.up, &got, &err),
			                 FUOTA_ERR_MALFORMED);
			assert_int_equal(pos, 0);
			assert_cut_reported(&err, v->name, v->fields, k);
		}
	}
}

static void test_rfu_chained_unknown(void **state)
{
	/* Status RFU bits: UpImageStatus 2 (IncorrectHardware) has no version after it, so the
	 * DevDeleteImageAns that follows is the next command. */
	const uint8_t up[] = {0x04, 0xfe, 0x05, 0xfc, 0x00, 0x04, 0x01};
	const uint8_t bad[] = {0x06};
	struct fmp_cmd c;
	struct fuota_parse_err err;
	size_t pos = 0;

	(void)state;
	assert_int_equal(fmp_decode(up, sizeof(up), &pos, true, &c, NULL), FUOTA_OK);
	assert_int_equal(c.u.upgrade_ans.status, FMP_IMAGE_WRONG_HW);
	assert_int_equal(fmp_decode(up, sizeof(up), &pos, true, &c, NULL), FUOTA_OK);
	assert_false(c.u.delete_ans.error_no_valid_image);
	assert_false(c.u.delete_ans.error_invalid_version);
	assert_int_equal(fmp_decode(up, sizeof(up), &pos, true, &c, NULL), FUOTA_OK);
	assert_int_equal(c.u.pkg_ans.package_id, 4);
	assert_int_equal(pos, sizeof(up));
	pos = 0;
	assert_int_equal(fmp_decode(bad, sizeof(bad), &pos, false, &c, &err),
	                 FUOTA_ERR_UNSUPPORTED);
	assert_null(err.command);
	assert_int_equal(fmp_decode(bad, 0, &pos, false, &c, &err), FUOTA_ERR_INVALID_ARG);
}

static void test_encode_rejects(void **state)
{
	struct fmp_cmd c;
	uint8_t buf[16];
	size_t pos = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.cid = FMP_CID_DEV_REBOOT_COUNTDOWN;
	c.u.countdown = 0x1000000;
	assert_int_equal(fmp_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.cid = FMP_CID_DEV_UPGRADE_IMAGE;
	c.up = true;
	c.u.upgrade_ans.status = 4;
	assert_int_equal(fmp_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.u.upgrade_ans.status = FMP_IMAGE_VALID;
	assert_int_equal(fmp_encode(&c, buf, 5, &pos), FUOTA_ERR_NO_SPACE);
	assert_int_equal(pos, 0);
	c.cid = 0x07;
	assert_int_equal(fmp_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
}

static uint32_t rng_state = 0x12345679u;

static uint32_t rnd(void)
{
	return xorshift32(&rng_state);
}

static void test_random_round_trip(void **state)
{
	(void)state;
	for (int i = 0; i < 20000; i++) {
		struct fmp_cmd c, got;
		uint8_t buf[16];
		size_t pos = 0, rpos = 0;

		memset(&c, 0, sizeof(c));
		c.cid = (uint8_t)(rnd() % 6);
		c.up = rnd() & 1;
		switch (c.cid) {
		case FMP_CID_PACKAGE_VERSION:
			if (c.up) {
				c.u.pkg_ans.package_id = (uint8_t)rnd();
				c.u.pkg_ans.version = (uint8_t)rnd();
			}
			break;
		case FMP_CID_DEV_VERSION:
			if (c.up) {
				c.u.version_ans.fw_version = rnd();
				c.u.version_ans.hw_version = rnd();
			}
			break;
		case FMP_CID_DEV_REBOOT_TIME: c.u.reboot_time = rnd(); break;
		case FMP_CID_DEV_REBOOT_COUNTDOWN: c.u.countdown = rnd() & 0xFFFFFF; break;
		case FMP_CID_DEV_UPGRADE_IMAGE:
			if (c.up) {
				c.u.upgrade_ans.status = (uint8_t)(rnd() & 3);
				if (c.u.upgrade_ans.status == FMP_IMAGE_VALID)
					c.u.upgrade_ans.next_fw_version = rnd();
			}
			break;
		default:
			if (c.up) {
				c.u.delete_ans.error_no_valid_image = rnd() & 1;
				c.u.delete_ans.error_invalid_version = rnd() & 1;
			} else {
				c.u.delete_version = rnd();
			}
			break;
		}
		assert_int_equal(fmp_encode(&c, buf, sizeof(buf), &pos), FUOTA_OK);
		assert_int_equal(fmp_decode(buf, pos, &rpos, c.up, &got, NULL), FUOTA_OK);
		assert_int_equal(rpos, pos);
		assert_memory_equal(&got, &c, sizeof(c));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vectors),
	        cmocka_unit_test(test_every_truncation),
	        cmocka_unit_test(test_rfu_chained_unknown),
	        cmocka_unit_test(test_encode_rejects),
	        cmocka_unit_test(test_random_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
