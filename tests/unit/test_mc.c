/* TS005 remote multicast setup: the brocaar and ChirpStack command vectors (PROTOCOL-NOTES §5.5),
 * key vectors (§5.4) with hand-built cross-checks, every truncation, masks (P9, P10), lenient
 * StartMissed answers (P22), random round trips, and class B/C session timing with ChirpStack's
 * classb.rs ping-slot vectors.
 *
 * P10: brocaar masks TimeOut with 0x1f and Periodicity with 0x17. None of the public vectors
 * below depends on it (0x48 and 0x4f decode the same either way); test_masks uses 0xf8, where
 * brocaar's TimeOut mask gives 24 instead of 8. (Its Periodicity mask only matters when encoding:
 * after `>> 4` a byte has 4 bits, and & 0x17 equals & 0x07 there.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec_check.h"
#include "fuota/err.h"
#include "fuota/lw_crypto.h"
#include "fuota/mc.h"
#include "fuota/mc_keys.h"
#include "fuota/mc_session.h"

#define KEY_0102                                               \
	{                                                      \
		1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 \
	}

struct vector {
	const char *source;
	const char *name;
	uint8_t bytes[32];
	size_t len;
	struct field fields[6];
	struct mc_cmd cmd;
};

static const struct field session_req_fields_c[6] = {{"McGroupIDHeader", 1},
                                                     {"SessionTime", 4},
                                                     {"SessionTimeOut", 1},
                                                     {"DLFrequ", 3},
                                                     {"DR", 1}};
static const struct field session_req_fields_b[6] = {{"McGroupIDHeader", 1},
                                                     {"SessionTime", 4},
                                                     {"TimeOutPeriodicity", 1},
                                                     {"DLFrequ", 3},
                                                     {"DR", 1}};
static const struct field setup_req_fields[6] = {{"McGroupIDHeader", 1},
                                                 {"McAddr", 4},
                                                 {"McKey_encrypted", 16},
                                                 {"minMcFCount", 4},
                                                 {"maxMcFCount", 4}};

#define V(src, nm, ...) .source = src, .name = nm, .bytes = {__VA_ARGS__}

static struct vector vectors[] = {
        /* brocaar multicastsetup_test.go */
        {V("brocaar", "McGroupStatusReq", 0x01, 0x0a), .len = 2, .fields = {{"CmdMask", 1}},
         .cmd = {.cid = 1, .up = false, .u.status_req = {.reg_group_mask = 0x0a}}},
        {V("brocaar", "McGroupStatusAns", 0x01, 0x4c, 0x03, 0x04, 0x03, 0x02, 0x01, 0x02, 0x01,
           0x02, 0x03, 0x04),
         .len = 12,
         .fields =
                 {{"Status", 1}, {"McGroupID", 1}, {"McAddr", 4}, {"McGroupID", 1}, {"McAddr", 4}},
         .cmd = {.cid = 1,
                 .up = true,
                 .u.status_ans = {.ans_group_mask = 0x0c,
                                  .nb_total_groups = 4,
                                  .nb_items = 2,
                                  .items = {{3, 0x01020304}, {2, 0x04030201}}}}},
        {V("brocaar", "McGroupSetupReq", 0x02, 0x02, 0x04, 0x03, 0x02, 0x01, 0x01, 0x02, 0x03, 0x04,
           0x05, 0x06, 0x07, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x64, 0x00, 0x00,
           0x00, 0xc8, 0x00, 0x00, 0x00),
         .len = 30,
         .cmd = {.cid = 2,
                 .up = false,
                 .u.setup_req = {.group_id = 2,
                                 .mc_addr = 0x01020304,
                                 .mc_key_encrypted = KEY_0102,
                                 .min_fcnt = 100,
                                 .max_fcnt = 200}}},
        {V("brocaar", "McGroupSetupAns", 0x02, 0x07), .len = 2, .fields = {{"Status", 1}},
         .cmd = {.cid = 2, .up = true, .u.setup_ans = {.group_id = 3, .id_error = true}}},
        {V("brocaar", "McGroupDeleteReq", 0x03, 0x03), .len = 2, .fields = {{"McGroupIDHeader", 1}},
         .cmd = {.cid = 3, .up = false, .u.delete_req = {.group_id = 3}}},
        {V("brocaar", "McGroupDeleteAns", 0x03, 0x05), .len = 2, .fields = {{"Status", 1}},
         .cmd = {.cid = 3, .up = true, .u.delete_ans = {.group_id = 1, .group_undefined = true}}},
        {V("brocaar", "McClassCSessionReq", 0x04, 0x03, 0x01, 0x02, 0x04, 0x08, 0x08, 0x28, 0x76,
           0x84, 0x04),
         .len = 11,
         .cmd = {.cid = 4,
                 .up = false,
                 .u.session_req = {.group_id = 3,
                                   .session_time = 134480385,
                                   .timeout = 8,
                                   .dl_freq_hz = 868100000,
                                   .dr = 4}}},
        {V("brocaar", "McClassCSessionAns", 0x04, 0x03, 0x01, 0x02, 0x04), .len = 5,
         .fields = {{"Status", 1}, {"TimeToStart", 3}},
         .cmd = {.cid = 4,
                 .up = true,
                 .u.session_ans = {.group_id = 3,
                                   .has_time_to_start = true,
                                   .time_to_start = 262657}}},
        {V("brocaar", "McClassCSessionAns", 0x04, 0x1f), .len = 2, .fields = {{"Status", 1}},
         .cmd = {.cid = 4,
                 .up = true,
                 .u.session_ans = {.group_id = 3,
                                   .dr_error = true,
                                   .freq_error = true,
                                   .group_undefined = true}}},
        {V("brocaar", "McClassBSessionReq", 0x05, 0x03, 0x01, 0x02, 0x04, 0x08, 0x48, 0x28, 0x76,
           0x84, 0x05),
         .len = 11,
         .cmd = {.cid = 5,
                 .up = false,
                 .u.session_req = {.group_id = 3,
                                   .session_time = 134480385,
                                   .timeout = 8,
                                   .periodicity = 4,
                                   .dl_freq_hz = 868100000,
                                   .dr = 5}}},
        {V("brocaar", "McClassBSessionAns", 0x05, 0x03, 0x01, 0x02, 0x04), .len = 5,
         .fields = {{"Status", 1}, {"TimeToStart", 3}},
         .cmd = {.cid = 5,
                 .up = true,
                 .u.session_ans = {.group_id = 3,
                                   .has_time_to_start = true,
                                   .time_to_start = 262657}}},
        {V("brocaar", "McClassBSessionAns", 0x05, 0x1f), .len = 2, .fields = {{"Status", 1}},
         .cmd = {.cid = 5,
                 .up = true,
                 .u.session_ans = {.group_id = 3,
                                   .dr_error = true,
                                   .freq_error = true,
                                   .group_undefined = true}}},
        /* ChirpStack lrwn/src/applayer/multicastsetup/v2.rs */
        {V("chirpstack", "McGroupStatusReq", 0x01, 0x03), .len = 2, .fields = {{"CmdMask", 1}},
         .cmd = {.cid = 1, .up = false, .u.status_req = {.reg_group_mask = 0x03}}},
        {V("chirpstack", "McGroupStatusAns", 0x01, 0x23, 0x00, 0x04, 0x03, 0x02, 0x01, 0x01, 0x04,
           0x03, 0x02, 0x02),
         .len = 12,
         .fields =
                 {{"Status", 1}, {"McGroupID", 1}, {"McAddr", 4}, {"McGroupID", 1}, {"McAddr", 4}},
         .cmd = {.cid = 1,
                 .up = true,
                 .u.status_ans = {.ans_group_mask = 0x03,
                                  .nb_total_groups = 2,
                                  .nb_items = 2,
                                  .items = {{0, 0x01020304}, {1, 0x02020304}}}}},
        {V("chirpstack", "McGroupSetupReq", 0x02, 0x02, 0x04, 0x03, 0x02, 0x01, 0x01, 0x02, 0x03,
           0x04, 0x05, 0x06, 0x07, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x04,
           0x00, 0x00, 0x00, 0x08, 0x00, 0x00),
         .len = 30,
         .cmd = {.cid = 2,
                 .up = false,
                 .u.setup_req = {.group_id = 2,
                                 .mc_addr = 0x01020304,
                                 .mc_key_encrypted = KEY_0102,
                                 .min_fcnt = 1024,
                                 .max_fcnt = 2048}}},
        {V("chirpstack", "McGroupSetupAns", 0x02, 0x06), .len = 2, .fields = {{"Status", 1}},
         .cmd = {.cid = 2, .up = true, .u.setup_ans = {.group_id = 2, .id_error = true}}},
        {V("chirpstack", "McClassCSessionReq", 0x04, 0x02, 0x00, 0x04, 0x00, 0x00, 0x0f, 0x28, 0x76,
           0x84, 0x05),
         .len = 11,
         .cmd = {.cid = 4,
                 .up = false,
                 .u.session_req = {.group_id = 2,
                                   .session_time = 1024,
                                   .timeout = 15,
                                   .dl_freq_hz = 868100000,
                                   .dr = 5}}},
        {V("chirpstack", "McClassCSessionAns", 0x04, 0x02, 0x00, 0x04, 0x00), .len = 5,
         .fields = {{"Status", 1}, {"TimeToStart", 3}},
         .cmd = {.cid = 4,
                 .up = true,
                 .u.session_ans = {.group_id = 2,
                                   .has_time_to_start = true,
                                   .time_to_start = 1024}}},
        {V("chirpstack", "McClassCSessionAns", 0x04, 0x1e), .len = 2, .fields = {{"Status", 1}},
         .cmd = {.cid = 4,
                 .up = true,
                 .u.session_ans = {.group_id = 2,
                                   .dr_error = true,
                                   .freq_error = true,
                                   .group_undefined = true}}},
        {V("chirpstack", "McClassBSessionReq", 0x05, 0x03, 0x00, 0x04, 0x00, 0x00, 0x4f, 0x28, 0x76,
           0x84, 0x05),
         .len = 11,
         .cmd = {.cid = 5,
                 .up = false,
                 .u.session_req = {.group_id = 3,
                                   .session_time = 1024,
                                   .timeout = 15,
                                   .periodicity = 4,
                                   .dl_freq_hz = 868100000,
                                   .dr = 5}}},
        /* PackageVersionAns of TS005 v2 (package id 2), and the request */
        {V("fuota", "PackageVersionAns", 0x00, 0x02, 0x02), .len = 3,
         .fields = {{"PackageIdentifier", 1}, {"PackageVersion", 1}},
         .cmd = {.cid = 0, .up = true, .u.pkg_ans = {.package_id = 2, .version = 2}}},
        {V("fuota", "PackageVersionReq", 0x00), .len = 1, .cmd = {.cid = 0, .up = false}},
};

#define NB_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

static int setup_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < NB_VECTORS; i++) {
		struct vector *v = &vectors[i];

		if (v->cmd.cid == MC_CID_GROUP_SETUP && !v->cmd.up)
			memcpy(v->fields, setup_req_fields, sizeof(v->fields));
		if (v->cmd.cid == MC_CID_CLASS_C_SESSION && !v->cmd.up)
			memcpy(v->fields, session_req_fields_c, sizeof(v->fields));
		if (v->cmd.cid == MC_CID_CLASS_B_SESSION && !v->cmd.up)
			memcpy(v->fields, session_req_fields_b, sizeof(v->fields));
	}
	return 0;
}

static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < NB_VECTORS; i++) {
		const struct vector *v = &vectors[i];

		for (int version = 1; version <= 2; version++) {
			struct mc_cmd got;
			uint8_t buf[40];
			size_t pos = 0;

			assert_int_equal(
			        mc_decode(v->bytes, v->len, &pos, v->cmd.up, version, &got, NULL),
			        FUOTA_OK);
			assert_int_equal(pos, v->len);
			assert_memory_equal(&got, &v->cmd, sizeof(got));
			assert_string_equal(mc_cmd_name(got.cid, got.up), v->name);
			pos = 0;
			assert_int_equal(mc_encode(&v->cmd, buf, sizeof(buf), &pos), FUOTA_OK);
			assert_int_equal(pos, v->len);
			assert_memory_equal(buf, v->bytes, v->len);
		}
	}
}

static void test_every_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < NB_VECTORS; i++) {
		const struct vector *v = &vectors[i];

		for (size_t k = 1; k < v->len; k++) {
			struct mc_cmd got;
			struct fuota_parse_err err;
			size_t pos = 0;

			assert_int_equal(mc_decode(v->bytes, k, &pos, v->cmd.up, 2, &got, &err),
			                 FUOTA_ERR_MALFORMED);
			assert_int_equal(pos, 0);
			assert_cut_reported(&err, v->name, v->fields, k);
		}
	}
}

static void test_chained_and_start_missed(void **state)
{
	/* brocaar: two answers chained */
	const uint8_t two[] = {0x05, 0x03, 0x01, 0x02, 0x04, 0x05, 0x1f};
	/* v2 StartMissed without TimeToStart (LBM, Zephyr), then a normal answer (P22) */
	const uint8_t missed[] = {0x05, 0x21, 0x04, 0x03, 0x01, 0x02, 0x04};
	struct mc_cmd c;
	size_t pos = 0;

	(void)state;
	assert_int_equal(mc_decode(two, sizeof(two), &pos, true, 1, &c, NULL), FUOTA_OK);
	assert_true(c.u.session_ans.has_time_to_start);
	assert_int_equal(c.u.session_ans.time_to_start, 262657);
	assert_int_equal(mc_decode(two, sizeof(two), &pos, true, 1, &c, NULL), FUOTA_OK);
	assert_false(c.u.session_ans.has_time_to_start);
	assert_true(c.u.session_ans.dr_error);
	assert_int_equal(pos, sizeof(two));

	for (int version = 1; version <= 2; version++) {
		pos = 0;
		assert_int_equal(mc_decode(missed, sizeof(missed), &pos, true, version, &c, NULL),
		                 FUOTA_OK);
		assert_int_equal(pos, 2);
		assert_true(c.u.session_ans.start_missed);
		assert_false(c.u.session_ans.has_time_to_start);
		assert_int_equal(c.u.session_ans.group_id, 1);
		assert_int_equal(mc_decode(missed, sizeof(missed), &pos, true, version, &c, NULL),
		                 FUOTA_OK);
		assert_int_equal(c.cid, MC_CID_CLASS_C_SESSION);
		assert_int_equal(c.u.session_ans.time_to_start, 262657);
		assert_int_equal(pos, sizeof(missed));
	}
	/* A lone 2-byte StartMissed answer is complete, and encodes back to 2 bytes. */
	{
		uint8_t buf[8];
		size_t n = 0;

		pos = 0;
		assert_int_equal(mc_decode(missed, 2, &pos, true, 2, &c, NULL), FUOTA_OK);
		assert_int_equal(mc_encode(&c, buf, sizeof(buf), &n), FUOTA_OK);
		assert_int_equal(n, 2);
		assert_memory_equal(buf, missed, 2);
	}
}

static void test_masks(void **state)
{
	/* P10: TimeOutPeriodicity 0xf8 = TimeOut 8, Periodicity 7, bit 7 RFU (brocaar: 24 and 7) */
	const uint8_t b_req[] = {0x05, 0xfe, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x28, 0x76, 0x84, 0x03};
	/* P9: McGroupIDHeader and item McGroupID carry RFU bits above bit 1 */
	const uint8_t st_ans[] = {0x01, 0xc1, 0xfd, 0x04, 0x03, 0x02, 0x01};
	const uint8_t st_req[] = {0x01, 0xf5};
	const uint8_t setup_ans[] = {0x02, 0xfa};
	const uint8_t sess_ans[] = {0x04, 0xc0, 0x10, 0x00, 0x00}; /* bits 7..6 RFU */
	struct mc_cmd c;
	size_t pos;

	(void)state;
	pos = 0;
	assert_int_equal(mc_decode(b_req, sizeof(b_req), &pos, false, 2, &c, NULL), FUOTA_OK);
	assert_int_equal(c.u.session_req.group_id, 2);
	assert_int_equal(c.u.session_req.timeout, 8);
	assert_int_equal(c.u.session_req.periodicity, 7);
	pos = 0;
	assert_int_equal(mc_decode(st_ans, sizeof(st_ans), &pos, true, 2, &c, NULL), FUOTA_OK);
	assert_int_equal(c.u.status_ans.nb_total_groups, 4);
	assert_int_equal(c.u.status_ans.nb_items, 1);
	assert_int_equal(c.u.status_ans.items[0].group_id, 1);
	pos = 0;
	assert_int_equal(mc_decode(st_req, sizeof(st_req), &pos, false, 2, &c, NULL), FUOTA_OK);
	assert_int_equal(c.u.status_req.reg_group_mask, 5);
	pos = 0;
	assert_int_equal(mc_decode(setup_ans, sizeof(setup_ans), &pos, true, 2, &c, NULL),
	                 FUOTA_OK);
	assert_int_equal(c.u.setup_ans.group_id, 2);
	assert_false(c.u.setup_ans.id_error);
	pos = 0;
	assert_int_equal(mc_decode(sess_ans, sizeof(sess_ans), &pos, true, 2, &c, NULL), FUOTA_OK);
	assert_true(c.u.session_ans.has_time_to_start);
	assert_int_equal(c.u.session_ans.time_to_start, 16);
	/* McGroupStatusAns with an empty mask has no items. */
	{
		const uint8_t empty[] = {0x01, 0x40};

		pos = 0;
		assert_int_equal(mc_decode(empty, sizeof(empty), &pos, true, 1, &c, NULL),
		                 FUOTA_OK);
		assert_int_equal(c.u.status_ans.nb_items, 0);
		assert_int_equal(pos, 2);
	}
}

static void test_decode_errors(void **state)
{
	const uint8_t unknown[] = {0x06, 0x00};
	struct mc_cmd c;
	struct fuota_parse_err err;
	size_t pos = 0;

	(void)state;
	assert_int_equal(mc_decode(unknown, sizeof(unknown), &pos, false, 2, &c, &err),
	                 FUOTA_ERR_UNSUPPORTED);
	assert_null(err.command);
	assert_int_equal(err.cid, 6);
	assert_int_equal(mc_decode(unknown, sizeof(unknown), &pos, false, 3, &c, &err),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(mc_decode(unknown, 0, &pos, false, 1, &c, &err), FUOTA_ERR_INVALID_ARG);
}

static void test_encode_rejects(void **state)
{
	struct mc_cmd c;
	uint8_t buf[40];
	size_t pos = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.cid = MC_CID_CLASS_C_SESSION;
	c.u.session_req = (struct mc_session_req){.group_id = 1, .dl_freq_hz = 869525000};
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_OK);
	assert_int_equal(pos, 11);
	assert_memory_equal(buf + 7, ((const uint8_t[]){0xd2, 0xad, 0x84}), 3); /* 8695250 */
	pos = 0;
	c.u.session_req.dl_freq_hz = 869525050;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.u.session_req.dl_freq_hz = MC_DL_FREQ_MAX_HZ + 100;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.u.session_req.dl_freq_hz = MC_DL_FREQ_MAX_HZ;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_OK);
	pos = 0;
	c.u.session_req.periodicity = 1; /* class C has no periodicity */
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.cid = MC_CID_CLASS_B_SESSION;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_OK);
	pos = 0;
	c.u.session_req.periodicity = 8;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.u.session_req.periodicity = 0;
	c.u.session_req.timeout = 16;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.u.session_req.timeout = 0;
	c.u.session_req.group_id = 4;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);

	/* Session answers: TimeToStart iff no flag. */
	memset(&c, 0, sizeof(c));
	c.cid = MC_CID_CLASS_B_SESSION;
	c.up = true;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.u.session_ans.has_time_to_start = true;
	c.u.session_ans.time_to_start = MC_TIME_TO_START_MAX + 1;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.u.session_ans.time_to_start = MC_TIME_TO_START_MAX;
	c.u.session_ans.start_missed = true;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.u.session_ans.start_missed = false;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_OK);
	assert_memory_equal(buf, ((const uint8_t[]){0x05, 0x00, 0xff, 0xff, 0xff}), 5);

	/* Status answers: items must match the mask, once each. */
	memset(&c, 0, sizeof(c));
	c.cid = MC_CID_GROUP_STATUS;
	c.up = true;
	c.u.status_ans.ans_group_mask = 0x05;
	c.u.status_ans.nb_items = 2;
	c.u.status_ans.items[0].group_id = 2;
	c.u.status_ans.items[1].group_id = 1;
	pos = 0;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.u.status_ans.items[1].group_id = 2;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.u.status_ans.items[1].group_id = 0;
	c.u.status_ans.nb_total_groups = 8;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
	c.u.status_ans.nb_total_groups = 7;
	assert_int_equal(mc_encode(&c, buf, 11, &pos), FUOTA_ERR_NO_SPACE);
	assert_int_equal(pos, 0);
	assert_int_equal(mc_encode(&c, buf, 12, &pos), FUOTA_OK);
	assert_int_equal(pos, 12);
	assert_int_equal(buf[1], 0x75);
	c.cid = 9;
	assert_int_equal(mc_encode(&c, buf, sizeof(buf), &pos), FUOTA_ERR_INVALID_ARG);
}

static uint32_t rng_state = 0x9e3779b9u;

static uint32_t rnd(void)
{
	return xorshift32(&rng_state);
}

static void random_cmd(struct mc_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->cid = (uint8_t)(rnd() % 6);
	c->up = rnd() & 1;
	switch (c->cid) {
	case MC_CID_PACKAGE_VERSION:
		if (c->up) {
			c->u.pkg_ans.package_id = (uint8_t)rnd();
			c->u.pkg_ans.version = (uint8_t)rnd();
		}
		break;
	case MC_CID_GROUP_STATUS:
		if (!c->up) {
			c->u.status_req.reg_group_mask = (uint8_t)(rnd() & 0x0F);
			break;
		}
		c->u.status_ans.ans_group_mask = (uint8_t)(rnd() & 0x0F);
		c->u.status_ans.nb_total_groups = (uint8_t)(rnd() & 0x07);
		for (uint8_t id = 0; id < 4; id++) {
			if (c->u.status_ans.ans_group_mask & (1u << id)) {
				struct mc_group_item *it =
				        &c->u.status_ans.items[c->u.status_ans.nb_items++];

				it->group_id = id;
				it->mc_addr = rnd();
			}
		}
		break;
	case MC_CID_GROUP_SETUP:
		if (c->up) {
			c->u.setup_ans.group_id = (uint8_t)(rnd() & 3);
			c->u.setup_ans.id_error = rnd() & 1;
			break;
		}
		c->u.setup_req.group_id = (uint8_t)(rnd() & 3);
		c->u.setup_req.mc_addr = rnd();
		for (int i = 0; i < 16; i++)
			c->u.setup_req.mc_key_encrypted[i] = (uint8_t)rnd();
		c->u.setup_req.min_fcnt = rnd();
		c->u.setup_req.max_fcnt = rnd();
		break;
	case MC_CID_GROUP_DELETE:
		if (c->up) {
			c->u.delete_ans.group_id = (uint8_t)(rnd() & 3);
			c->u.delete_ans.group_undefined = rnd() & 1;
		} else {
			c->u.delete_req.group_id = (uint8_t)(rnd() & 3);
		}
		break;
	default:
		if (!c->up) {
			struct mc_session_req *s = &c->u.session_req;

			s->group_id = (uint8_t)(rnd() & 3);
			s->session_time = rnd();
			s->timeout = (uint8_t)(rnd() & 0x0F);
			if (c->cid == MC_CID_CLASS_B_SESSION)
				s->periodicity = (uint8_t)(rnd() & 0x07);
			s->dl_freq_hz = (rnd() & 0xFFFFFF) * 100u;
			s->dr = (uint8_t)rnd();
		} else {
			struct mc_session_ans *a = &c->u.session_ans;
			uint32_t flags = rnd();

			a->group_id = (uint8_t)(rnd() & 3);
			a->dr_error = (flags & 0x30) == 0x10;
			a->freq_error = (flags & 0xc0) == 0x40;
			a->group_undefined = (flags & 0x300) == 0x100;
			a->start_missed = (flags & 0xc00) == 0x400;
			a->has_time_to_start = !(a->dr_error || a->freq_error ||
			                         a->group_undefined || a->start_missed);
			if (a->has_time_to_start)
				a->time_to_start = rnd() & 0xFFFFFF;
		}
		break;
	}
}

/* Random chains of random commands: encode them all into one payload, walk it back. */
static void test_random_round_trip(void **state)
{
	(void)state;
	for (int i = 0; i < 5000; i++) {
		struct mc_cmd cmds[4], got;
		uint8_t buf[4 * 30];
		size_t len = 0, pos = 0;
		bool up = rnd() & 1;

		for (int j = 0; j < 4; j++) {
			random_cmd(&cmds[j]);
			/* re-draw until the direction matches the payload's */
			while (cmds[j].up != up || mc_encode(&cmds[j], buf, sizeof(buf), &len))
				random_cmd(&cmds[j]);
		}
		for (int j = 0; j < 4; j++) {
			assert_int_equal(mc_decode(buf, len, &pos, up, 2, &got, NULL), FUOTA_OK);
			assert_memory_equal(&got, &cmds[j], sizeof(got));
		}
		assert_int_equal(pos, len);
	}
}

/* ---- keys ---------------------------------------------------------------------------------- */

static void hex16(const char *s, uint8_t out[16])
{
	for (int i = 0; i < 16; i++) {
		unsigned v = 0;

		for (int j = 0; j < 2; j++) {
			char ch = s[2 * i + j];

			v = v * 16 + (unsigned)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
		}
		out[i] = (uint8_t)v;
	}
}

static void test_key_vectors(void **state)
{
	uint8_t in[16], want[16], got[16], nwk[16], want_nwk[16];

	(void)state;
	hex16("0302030405060708090a0b0c0d0e0f10", in);
	hex16("55344e82570eaec8bf03b99962d1f445", want);
	assert_int_equal(mc_root_key_from_gen_app_key(in, got), FUOTA_OK);
	assert_memory_equal(got, want, 16);

	hex16("0202030405060708090a0b0c0d0e0f10", in);
	hex16("264fd859583fcc670241ac071cc9f5bb", want);
	assert_int_equal(mc_root_key_from_app_key(in, got), FUOTA_OK);
	assert_memory_equal(got, want, 16);

	hex16("0402030405060708090a0b0c0d0e0f10", in);
	hex16("9083bebf704257883160dbfcde33ad71", want);
	assert_int_equal(mc_ke_key_from_root(in, got), FUOTA_OK);
	assert_memory_equal(got, want, 16);

	hex16("0102030405060708090a0b0c0d0e0f10", in);
	hex16("95cb4518ee375606735bbacbdce837fa", want);
	hex16("c3f6b388bad6c000b23291ad52c11c7b", want_nwk);
	assert_int_equal(mc_session_keys(in, 0x01020304, got, nwk), FUOTA_OK);
	assert_memory_equal(got, want, 16);
	assert_memory_equal(nwk, want_nwk, 16);
	/* in place: the outputs may alias McKey */
	assert_int_equal(mc_session_keys(in, 0x01020304, in, nwk), FUOTA_OK);
	assert_memory_equal(in, want, 16);
	assert_memory_equal(nwk, want_nwk, 16);

	/* ChirpStack v2.rs test_encrypt_mc_key */
	memset(in, 0x01, 16);
	memset(got, 0x02, 16);
	hex16("3437d6e231d702419b51b4947271b611", want);
	assert_int_equal(mc_key_encrypt(in, got, got), FUOTA_OK);
	assert_memory_equal(got, want, 16);
	/* the device side recovers McKey */
	assert_int_equal(mc_key_decrypt(in, want, got), FUOTA_OK);
	memset(want, 0x02, 16);
	assert_memory_equal(got, want, 16);
}

/* The derivations against blocks built here by hand and lw_aes128_encrypt / _decrypt. */
static void test_key_cross_check(void **state)
{
	uint8_t key[16], block[16], want[16], got[16], nwk[16];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)(0xa0 + i);
	/* 1.1: block 0x20 | zeros */
	memset(block, 0, 16);
	block[0] = 0x20;
	assert_int_equal(lw_aes128_encrypt(key, block, want), FUOTA_OK);
	assert_int_equal(mc_root_key_from_app_key(key, got), FUOTA_OK);
	assert_memory_equal(got, want, 16);
	/* McAddr 0x01FFFFFF is ff ff ff 01 in the block */
	memcpy(block, (const uint8_t[]){0x01, 0xff, 0xff, 0xff, 0x01}, 5);
	assert_int_equal(lw_aes128_encrypt(key, block, want), FUOTA_OK);
	assert_int_equal(mc_session_keys(key, 0x01FFFFFF, got, nwk), FUOTA_OK);
	assert_memory_equal(got, want, 16);
	block[0] = 0x02;
	assert_int_equal(lw_aes128_encrypt(key, block, want), FUOTA_OK);
	assert_memory_equal(nwk, want, 16);
	/* server McKey_encrypted is an AES decryption */
	memset(block, 0x5a, 16);
	assert_int_equal(lw_aes128_decrypt(key, block, want), FUOTA_OK);
	assert_int_equal(mc_key_encrypt(key, block, got), FUOTA_OK);
	assert_memory_equal(got, want, 16);
}

/* ---- session timing ------------------------------------------------------------------------ */

static uint8_t periodicity_of(uint32_t ping_nb)
{
	uint8_t p = 7;

	while (ping_nb > 1) {
		ping_nb >>= 1;
		p--;
	}
	return p;
}

/* ChirpStack chirpstack/src/downlink/classb.rs test_get_next_ping_slot_after (DevAddr 0). */
static void test_classb_chirpstack_vectors(void **state)
{
	static const struct {
		int64_t after_ms;
		uint32_t ping_nb;
		int64_t want_ms;
	} t[] = {
	        {0, 1, 74300},     {120000, 1, 185620},   {0, 2, 12860},
	        {13000, 2, 74300}, {124000, 128, 124220},
	};
	struct mc_classb_session s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.timeout = 15;
	s.dl_freq_hz = 869525000;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mc_slot slot;

		s.periodicity = periodicity_of(t[i].ping_nb);
		assert_int_equal(mc_classb_next_slot(&s, t[i].after_ms, &slot), FUOTA_OK);
		assert_int_equal(slot.start_ms, t[i].want_ms);
		assert_int_equal(slot.freq_hz, 869525000);
		assert_int_equal(slot.beacon_time_s, (t[i].want_ms / 128000) * 128);
	}
}

static void test_ping_offset_cross_check(void **state)
{
	static const uint8_t zero[16] = {0};
	uint32_t off, ping_nb, period;

	(void)state;
	/* 74.300 s = 2.120 s + 2406 slots of 30 ms: the first vector above */
	assert_int_equal(mc_ping_offset(0, 0, 7, &off), FUOTA_OK);
	assert_int_equal(off, 2406);
	for (uint32_t i = 0; i < 64; i++) {
		uint8_t block[16] = {0}, c[16];
		int64_t bt = (int64_t)i * 128 * 977 + 4294967296LL; /* beyond 2^32: only LE4 used */
		uint32_t addr = 0x01FFFFFF + i * 0x01010101u;
		uint8_t p = (uint8_t)(i % 8);

		block[0] = (uint8_t)bt;
		block[1] = (uint8_t)(bt >> 8);
		block[2] = (uint8_t)(bt >> 16);
		block[3] = (uint8_t)(bt >> 24);
		block[4] = (uint8_t)addr;
		block[5] = (uint8_t)(addr >> 8);
		block[6] = (uint8_t)(addr >> 16);
		block[7] = (uint8_t)(addr >> 24);
		assert_int_equal(lw_aes128_encrypt(zero, block, c), FUOTA_OK);
		assert_int_equal(mc_ping_offset(bt, addr, p, &off), FUOTA_OK);
		assert_int_equal(off, (c[0] + 256u * c[1]) % (32u << p));
	}
	for (uint8_t p = 0; p < 8; p++) {
		assert_int_equal(mc_ping_nb(p, &ping_nb), FUOTA_OK);
		assert_int_equal(mc_ping_period_slots(p, &period), FUOTA_OK);
		assert_int_equal(ping_nb * period, MC_BEACON_WINDOW_SLOTS);
		assert_int_equal(period, 32u << p);
	}
	assert_int_equal(mc_ping_nb(8, &ping_nb), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(mc_ping_offset(0, 0, 8, &off), FUOTA_ERR_INVALID_ARG);
}

static void test_classb_hopping_and_bounds(void **state)
{
	const struct mc_classb_channels us915 = {8, 923300000, 600000};
	const struct mc_classb_channels eu868 = {1, 869525000, 0};
	struct mc_classb_session s;
	struct mc_slot slot, next;
	uint32_t f;

	(void)state;
	/* k = (0x01FFFFFF + 5) mod 8 = 4 -> 923.3 + 2.4 MHz */
	assert_int_equal(mc_ping_slot_freq(&us915, 0x01FFFFFF, 5 * 128, &f), FUOTA_OK);
	assert_int_equal(f, 925700000);
	assert_int_equal(mc_ping_slot_freq(&us915, 0, 7 * 128 + 127, &f), FUOTA_OK);
	assert_int_equal(f, 923300000 + 7 * 600000);
	assert_int_equal(mc_ping_slot_freq(&eu868, 0x01FFFFFF, 5 * 128, &f), FUOTA_OK);
	assert_int_equal(f, 869525000);

	memset(&s, 0, sizeof(s));
	s.mc_addr = 0x01FFFFFF;
	s.start_s = 1280; /* beacon period 10 */
	s.timeout = 1;    /* 2 periods: [1280, 1536) s */
	s.periodicity = 7;
	s.plan = us915;
	/* From long before the start: the slot of the first period. */
	assert_int_equal(mc_classb_next_slot(&s, 0, &slot), FUOTA_OK);
	assert_int_equal(slot.beacon_time_s, 1280);
	assert_int_equal(mc_ping_slot_freq(&us915, s.mc_addr, 1280, &f), FUOTA_OK);
	assert_int_equal(slot.freq_hz, f);
	assert_int_equal(slot.n, 0);
	assert_true(slot.start_ms >= 1280000 + MC_BEACON_RESERVED_MS);
	assert_true(slot.start_ms < 1280000 + MC_BEACON_RESERVED_MS + 4096 * 30);
	assert_int_equal((slot.start_ms - 1280000 - MC_BEACON_RESERVED_MS) % 30, 0);
	/* Exactly at a slot: strictly after, so the next period's slot. */
	assert_int_equal(mc_classb_next_slot(&s, slot.start_ms, &next), FUOTA_OK);
	assert_int_equal(next.beacon_time_s, 1408);
	assert_int_equal(next.freq_hz, 923300000 + ((0x01FFFFFFu + 11) % 8) * 600000);
	/* After the last slot of the session there is none. */
	assert_int_equal(mc_classb_next_slot(&s, next.start_ms, &slot), FUOTA_ERR_NOT_FOUND);
	/* Bad parameters. */
	s.plan.nb_channels = 0;
	assert_int_equal(mc_classb_next_slot(&s, 0, &slot), FUOTA_ERR_INVALID_ARG);
	s.dl_freq_hz = 869525000; /* a fixed frequency needs no plan */
	assert_int_equal(mc_classb_next_slot(&s, 0, &slot), FUOTA_OK);
	assert_int_equal(slot.freq_hz, 869525000);
	s.periodicity = 8;
	assert_int_equal(mc_classb_next_slot(&s, 0, &slot), FUOTA_ERR_INVALID_ARG);
	s.periodicity = 0;
	s.start_s = -1;
	assert_int_equal(mc_classb_next_slot(&s, 0, &slot), FUOTA_ERR_INVALID_ARG);
	/* Periodicity 0: 128 slots per period, 0.96 s apart. */
	s.start_s = 1280;
	assert_int_equal(mc_classb_next_slot(&s, 1290000, &slot), FUOTA_OK);
	assert_int_equal(mc_classb_next_slot(&s, slot.start_ms, &next), FUOTA_OK);
	assert_int_equal(next.start_ms - slot.start_ms, 960);
	assert_int_equal(next.n, slot.n + 1);
}

static void test_session_windows(void **state)
{
	int64_t end;

	(void)state;
	assert_int_equal(mc_classc_end(1000, 8, &end), FUOTA_OK);
	assert_int_equal(end, 1256);
	assert_int_equal(mc_classc_end(1000, 15, &end), FUOTA_OK);
	assert_int_equal(end, 1000 + 32768);
	assert_int_equal(mc_classc_end(1000, 16, &end), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(mc_classb_end(1024, 8, &end), FUOTA_OK);
	assert_int_equal(end, 1024 + 128 * 256);
	assert_int_equal(mc_classb_end(0, 16, &end), FUOTA_ERR_INVALID_ARG);
	assert_int_equal(mc_classb_align(134480385), 134480384);
	assert_int_equal(mc_classb_align(1024), 1024);
	assert_int_equal(mc_classb_align(127), 0);
	assert_int_equal(mc_classb_align(0xFFFFFFFFu), 0xFFFFFF80u);
}

static void test_time_to_start(void **state)
{
	uint32_t tts;
	bool missed;

	(void)state;
	mc_time_to_start(1000, 900, true, &tts, &missed);
	assert_int_equal(tts, 100);
	assert_false(missed);
	mc_time_to_start(1000, 1000, true, &tts, &missed);
	assert_int_equal(tts, 0);
	assert_false(missed);
	mc_time_to_start(1000, 1001, true, &tts, &missed);
	assert_true(missed);
	mc_time_to_start(1000 + 0x1000000u, 1000, true, &tts, &missed);
	assert_int_equal(tts, 0xFFFFFF);
	assert_false(missed);
	mc_time_to_start(1000 + 0xFFFFFEu, 1000, true, &tts, &missed);
	assert_int_equal(tts, 0xFFFFFE);
	mc_time_to_start(5, 0xFFFFFFF0u, true, &tts, &missed); /* across the 2^32 wrap */
	assert_int_equal(tts, 21);
	assert_false(missed);
	mc_time_to_start(1000, 900, false, &tts, &missed);
	assert_int_equal(tts, 0xFFFFFF);
	assert_false(missed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_vectors, setup_fields),
	        cmocka_unit_test_setup(test_every_truncation, setup_fields),
	        cmocka_unit_test(test_chained_and_start_missed),
	        cmocka_unit_test(test_masks),
	        cmocka_unit_test(test_decode_errors),
	        cmocka_unit_test(test_encode_rejects),
	        cmocka_unit_test(test_random_round_trip),
	        cmocka_unit_test(test_key_vectors),
	        cmocka_unit_test(test_key_cross_check),
	        cmocka_unit_test(test_classb_chirpstack_vectors),
	        cmocka_unit_test(test_ping_offset_cross_check),
	        cmocka_unit_test(test_classb_hopping_and_bounds),
	        cmocka_unit_test(test_session_windows),
	        cmocka_unit_test(test_time_to_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
