/* TS004 command codec: the PROTOCOL-NOTES §4.3 vectors (brocaar v1, ChirpStack v2) both ways,
 * random round trips, every truncation and out-of-range case, and the FRMPayload walker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/err.h"
#include "fuota/frag_cmd.h"

static const uint8_t payload6[] = {1, 2, 3, 4, 5, 6};
static const uint8_t payload4[] = {1, 2, 3, 4};

struct vector {
	const char *what;
	enum frag_version v;
	struct frag_cmd cmd;
	size_t len;
	uint8_t bytes[32];
};

/* Bytes copied from PROTOCOL-NOTES §4.3; the field values from the same tables. */
static const struct vector vectors[] = {
        /* brocaar applayer/fragmentation/fragmentation_test.go (v1) */
        {"v1 FragSessionSetupReq",
         FRAG_V1,
         {.type = FRAG_CMD_SESSION_SETUP_REQ,
          .u.setup_req = {.frag_index = 3,
                          .mc_group_mask = 0x05, /* {1,0,1,0}: groups 0 and 2 */
                          .nb_frag = 513,
                          .frag_size = 255,
                          .frag_algo = 5,
                          .block_ack_delay = 4,
                          .padding = 129,
                          .descriptor = {1, 2, 3, 4}}},
         11,
         {0x02, 0x35, 0x01, 0x02, 0xff, 0x2c, 0x81, 0x01, 0x02, 0x03, 0x04}},
        {"v1 FragSessionSetupAns",
         FRAG_V1,
         {.type = FRAG_CMD_SESSION_SETUP_ANS,
          .u.setup_ans = {.frag_index = 3,
                          .algo_unsupported = true,
                          .not_enough_memory = true,
                          .index_not_supported = true,
                          .wrong_descriptor = true}},
         2,
         {0x02, 0xcf}},
        {"v1 FragSessionDeleteReq",
         FRAG_V1,
         {.type = FRAG_CMD_SESSION_DELETE_REQ, .u.delete_req = {.frag_index = 3}},
         2,
         {0x03, 0x03}},
        {"v1 FragSessionDeleteAns",
         FRAG_V1,
         {.type = FRAG_CMD_SESSION_DELETE_ANS,
          .u.delete_ans = {.frag_index = 3, .session_not_exist = true}},
         2,
         {0x03, 0x07}},
        {"v1 DataFragment",
         FRAG_V1,
         {.type = FRAG_CMD_DATA_FRAGMENT,
          .u.data_fragment = {.frag_index = 3, .n = 513, .payload = payload6, .payload_len = 6}},
         9,
         {0x08, 0x01, 0xc2, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06}},
        {"v1 FragSessionStatusReq",
         FRAG_V1,
         {.type = FRAG_CMD_SESSION_STATUS_REQ,
          .u.status_req = {.participants = true, .frag_index = 3}},
         2,
         {0x01, 0x07}},
        {"v1 FragSessionStatusAns",
         FRAG_V1,
         {.type = FRAG_CMD_SESSION_STATUS_ANS,
          .u.status_ans =
                  {.frag_index = 3, .nb_received = 513, .missing_frag = 255, .memory_error = true}},
         5,
         {0x01, 0x01, 0xc2, 0xff, 0x01}},
        {"v1 PackageVersionAns (brocaar 00 01 01 pattern, TS004 id)",
         FRAG_V1,
         {.type = FRAG_CMD_PACKAGE_VERSION_ANS,
          .u.version_ans = {.package_id = 3, .package_version = 1}},
         3,
         {0x00, 0x03, 0x01}},
        {"v1 PackageVersionReq", FRAG_V1, {.type = FRAG_CMD_PACKAGE_VERSION_REQ}, 1, {0x00}},
        /* ChirpStack lrwn/src/applayer/fragmentation/v2.rs (v2) */
        {"v2 PackageVersionAns",
         FRAG_V2,
         {.type = FRAG_CMD_PACKAGE_VERSION_ANS,
          .u.version_ans = {.package_id = 3, .package_version = 2}},
         3,
         {0x00, 0x03, 0x02}},
        {"v2 FragSessionStatusReq",
         FRAG_V2,
         {.type = FRAG_CMD_SESSION_STATUS_REQ,
          .u.status_req = {.participants = true, .frag_index = 2}},
         2,
         {0x01, 0x05}},
        {"v2 FragSessionStatusAns",
         FRAG_V2,
         {.type = FRAG_CMD_SESSION_STATUS_ANS,
          .u.status_ans = {.frag_index = 3,
                           .nb_received = 1024,
                           .missing_frag = 128,
                           .memory_error = true,
                           .session_not_exist = true}},
         5,
         {0x01, 0x05, 0x00, 0xc4, 0x80}},
        {"v2 FragSessionSetupReq",
         FRAG_V2,
         {.type = FRAG_CMD_SESSION_SETUP_REQ,
          .u.setup_req = {.frag_index = 3,
                          .mc_group_mask = 0x01,
                          .nb_frag = 1024,
                          .frag_size = 128,
                          .block_ack_delay = 5,
                          .frag_algo = 1,
                          .ack_reception = false,
                          .padding = 64,
                          .descriptor = {1, 2, 3, 4},
                          .session_cnt = 128,
                          .mic = {1, 2, 3, 4}}},
         17,
         {0x02, 0x31, 0x00, 0x04, 0x80, 0x0d, 0x40, 0x01, 0x02, 0x03, 0x04, 0x80, 0x00, 0x01, 0x02,
          0x03, 0x04}},
        {"v2 FragSessionSetupAns",
         FRAG_V2,
         {.type = FRAG_CMD_SESSION_SETUP_ANS,
          .u.setup_ans = {.frag_index = 2,
                          .algo_unsupported = true,
                          .not_enough_memory = true,
                          .wrong_descriptor = true}},
         2,
         {0x02, 0x8b}},
        {"v2 FragSessionDeleteReq",
         FRAG_V2,
         {.type = FRAG_CMD_SESSION_DELETE_REQ, .u.delete_req = {.frag_index = 3}},
         2,
         {0x03, 0x03}},
        {"v2 FragSessionDeleteAns",
         FRAG_V2,
         {.type = FRAG_CMD_SESSION_DELETE_ANS,
          .u.delete_ans = {.frag_index = 3, .session_not_exist = true}},
         2,
         {0x03, 0x07}},
        {"v2 DataFragment",
         FRAG_V2,
         {.type = FRAG_CMD_DATA_FRAGMENT,
          .u.data_fragment = {.frag_index = 2, .n = 1024, .payload = payload4, .payload_len = 4}},
         7,
         {0x08, 0x00, 0x84, 0x01, 0x02, 0x03, 0x04}},
        {"v2 FragDataBlockReceivedReq",
         FRAG_V2,
         {.type = FRAG_CMD_DATA_BLOCK_RECEIVED_REQ,
          .u.block_received_req = {.frag_index = 2, .mic_error = true}},
         2,
         {0x04, 0x06}},
        {"v2 FragDataBlockReceivedAns",
         FRAG_V2,
         {.type = FRAG_CMD_DATA_BLOCK_RECEIVED_ANS, .u.block_received_ans = {.frag_index = 2}},
         2,
         {0x04, 0x02}},
};

#define NVEC (sizeof(vectors) / sizeof(vectors[0]))

static void test_vectors_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVEC; i++) {
		const struct vector *t = &vectors[i];
		struct frag_cmd got;
		size_t used = 0;
		int rc;

		rc = frag_cmd_decode(t->bytes, t->len, t->v, frag_cmd_dir(t->cmd.type), 0, &got,
		                     &used, NULL);
		if (rc != FUOTA_OK || used != t->len || !frag_cmd_equal(&got, &t->cmd))
			fail_msg("%s: rc %d used %zu", t->what, rc, used);
	}
}

static void test_vectors_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVEC; i++) {
		const struct vector *t = &vectors[i];
		uint8_t out[FRAG_CMD_MAX_LEN];
		size_t len = 0;

		assert_int_equal(frag_cmd_encode(&t->cmd, t->v, out, sizeof(out), &len), FUOTA_OK);
		if (len != t->len || memcmp(out, t->bytes, len))
			fail_msg("%s: encoded %zu bytes, want %zu", t->what, len, t->len);
		/* One byte short of room is NO_SPACE, and exactly enough works. */
		assert_int_equal(frag_cmd_encode(&t->cmd, t->v, out, t->len - 1, &len),
		                 FUOTA_ERR_NO_SPACE);
		assert_int_equal(frag_cmd_encode(&t->cmd, t->v, out, t->len, &len), FUOTA_OK);
	}
}

/* Each truncation of each vector is MALFORMED and names a missing field; with frag_size known a
 * DataFragment is short too. */
static void test_truncations(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVEC; i++) {
		const struct vector *t = &vectors[i];
		uint32_t fsize = t->cmd.type == FRAG_CMD_DATA_FRAGMENT
		                         ? (uint32_t)t->cmd.u.data_fragment.payload_len
		                         : 0;

		for (size_t len = 0; len < t->len; len++) {
			struct frag_cmd got;
			struct fuota_parse_err err;
			size_t used = 0;
			int rc;

			rc = frag_cmd_decode(t->bytes, len, t->v, frag_cmd_dir(t->cmd.type), fsize,
			                     &got, &used, &err);
			/* Without a known FragSize, a DataFragment with >= 1 payload byte is
			 * complete: only lengths 0..3 are short then. */
			if (rc != FUOTA_ERR_MALFORMED)
				fail_msg("%s truncated to %zu: rc %d", t->what, len, rc);
			if (len > 0 && (!err.command || !err.field || err.left != len - 1 ||
			                err.need != t->len - 1))
				fail_msg("%s truncated to %zu: no field named", t->what, len);
		}
	}
}

static void test_error_message(void **state)
{
	const uint8_t setup[] = {0x02, 0x35, 0x01, 0x02, 0xff, 0x2c, 0x81};
	struct frag_cmd cmd;
	struct fuota_parse_err err;
	size_t used;
	char msg[128];

	(void)state;
	assert_int_equal(
	        frag_cmd_decode(setup, sizeof(setup), FRAG_V1, FRAG_DOWN, 0, &cmd, &used, &err),
	        FUOTA_ERR_MALFORMED);
	fuota_parse_err_format(&err, msg, sizeof(msg));
	assert_string_equal(msg,
	                    "FragSessionSetupReq: missing Descriptor (10 bytes needed, 6 left)");
	/* The same 11 bytes are short as v2 (16 needed): SessionCnt is missing. */
	{
		const uint8_t v1[] = {0x02, 0x35, 0x01, 0x02, 0xff, 0x2c,
		                      0x81, 0x01, 0x02, 0x03, 0x04};

		assert_int_equal(
		        frag_cmd_decode(v1, sizeof(v1), FRAG_V2, FRAG_DOWN, 0, &cmd, &used, &err),
		        FUOTA_ERR_MALFORMED);
		fuota_parse_err_format(&err, msg, sizeof(msg));
		assert_string_equal(
		        msg, "FragSessionSetupReq: missing SessionCnt (16 bytes needed, 10 left)");
	}
}

/* Out-of-range values of well-sized commands. */
static void test_out_of_range(void **state)
{
	struct frag_cmd cmd;
	struct fuota_parse_err err;
	size_t used;
	char msg[128];
	/* N = 0 with FragIndex 3 */
	const uint8_t n0[] = {0x08, 0x00, 0xc0, 0xaa};
	/* NbFrag 0, NbFrag 16384, FragSize 0, Padding == FragSize */
	const uint8_t nb0[] = {0x02, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 1, 2, 3, 4};
	const uint8_t nbbig[] = {0x02, 0x00, 0x00, 0x40, 0x10, 0x00, 0x00, 1, 2, 3, 4};
	const uint8_t fs0[] = {0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 1, 2, 3, 4};
	const uint8_t pad[] = {0x02, 0x00, 0x01, 0x00, 0x10, 0x00, 0x10, 1, 2, 3, 4};
	const uint8_t padok[] = {0x02, 0x00, 0x01, 0x00, 0x10, 0x00, 0x0f, 1, 2, 3, 4};

	(void)state;
	assert_int_equal(frag_cmd_decode(n0, sizeof(n0), FRAG_V1, FRAG_DOWN, 0, &cmd, &used, &err),
	                 FUOTA_ERR_MALFORMED);
	fuota_parse_err_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, "DataFragment: N out of range (0)");
	assert_int_equal(frag_cmd_decode(n0, sizeof(n0), FRAG_V2, FRAG_DOWN, 1, &cmd, &used, &err),
	                 FUOTA_ERR_MALFORMED);
	assert_int_equal(
	        frag_cmd_decode(nb0, sizeof(nb0), FRAG_V1, FRAG_DOWN, 0, &cmd, &used, &err),
	        FUOTA_ERR_MALFORMED);
	assert_string_equal(err.field, "NbFrag");
	assert_int_equal(
	        frag_cmd_decode(nbbig, sizeof(nbbig), FRAG_V1, FRAG_DOWN, 0, &cmd, &used, &err),
	        FUOTA_ERR_MALFORMED);
	assert_string_equal(err.field, "NbFrag");
	assert_int_equal(
	        frag_cmd_decode(fs0, sizeof(fs0), FRAG_V1, FRAG_DOWN, 0, &cmd, &used, &err),
	        FUOTA_ERR_MALFORMED);
	assert_string_equal(err.field, "FragSize");
	assert_int_equal(
	        frag_cmd_decode(pad, sizeof(pad), FRAG_V1, FRAG_DOWN, 0, &cmd, &used, &err),
	        FUOTA_ERR_MALFORMED);
	assert_string_equal(err.field, "Padding");
	assert_int_equal(
	        frag_cmd_decode(padok, sizeof(padok), FRAG_V1, FRAG_DOWN, 0, &cmd, &used, &err),
	        FUOTA_OK);
	assert_int_equal(cmd.u.setup_req.padding, 15);
	/* A DataFragment with a header but no payload byte. */
	assert_int_equal(frag_cmd_decode(n0, 3, FRAG_V1, FRAG_DOWN, 0, &cmd, &used, &err),
	                 FUOTA_ERR_MALFORMED);
	assert_string_equal(err.field, "Payload");
}

/* Every CID a side does not receive, for both directions and versions. */
static void test_unknown_cids(void **state)
{
	(void)state;
	for (int v = FRAG_V1; v <= FRAG_V2; v++) {
		for (int dir = FRAG_DOWN; dir <= FRAG_UP; dir++) {
			for (int cid = 0; cid < 256; cid++) {
				uint8_t buf[32] = {(uint8_t)cid,
				                   0x01,
				                   0x01,
				                   0x10,
				                   0x10,
				                   0,
				                   0,
				                   0,
				                   0,
				                   0,
				                   0,
				                   0,
				                   0,
				                   0,
				                   0,
				                   0,
				                   0,
				                   0};
				struct frag_cmd cmd;
				struct fuota_parse_err err;
				size_t used;
				int known = cid <= 3 || (cid == 4 && v == FRAG_V2) ||
				            (cid == 8 && dir == FRAG_DOWN);
				int rc = frag_cmd_decode(buf, sizeof(buf), (enum frag_version)v,
				                         (enum frag_dir)dir, 0, &cmd, &used, &err);

				if (known ? rc != FUOTA_OK : rc != FUOTA_ERR_MALFORMED)
					fail_msg("v%d dir %d cid %d: rc %d", v, dir, cid, rc);
				if (!known && (err.command || err.cid != cid || !err.reason))
					fail_msg("v%d dir %d cid %d: error detail", v, dir, cid);
				if (known && frag_cmd_dir(cmd.type) != (enum frag_dir)dir)
					fail_msg("v%d dir %d cid %d: wrong direction", v, dir, cid);
			}
		}
	}
}

/* RFU bits are ignored on decode; v2-only bits mean nothing in v1. */
static void test_rfu_ignored(void **state)
{
	struct frag_cmd cmd;
	size_t used;
	/* StatusReq with bits 7..3 set: Participants 1, FragIndex 3 */
	const uint8_t sreq[] = {0x01, 0xff};
	/* v1 SetupReq with FragSession bits 7..6 and Control bits 7..6 set */
	const uint8_t setup[] = {0x02, 0xf5, 0x01, 0x00, 0x10, 0xff, 0x00, 1, 2, 3, 4};
	/* SetupAns with bits 5 and 4 set, in v1 and v2 */
	const uint8_t sans[] = {0x02, 0x30};
	/* v1 StatusAns with every Status bit set */
	const uint8_t stat[] = {0x01, 0x00, 0x00, 0x00, 0xff};
	/* DeleteReq / DeleteAns / BlockReceived with every bit set */
	const uint8_t del[] = {0x03, 0xff};
	const uint8_t blk[] = {0x04, 0xff};

	(void)state;
	assert_int_equal(frag_cmd_decode(sreq, 2, FRAG_V1, FRAG_DOWN, 0, &cmd, &used, NULL),
	                 FUOTA_OK);
	assert_true(cmd.u.status_req.participants);
	assert_int_equal(cmd.u.status_req.frag_index, 3);

	assert_int_equal(
	        frag_cmd_decode(setup, sizeof(setup), FRAG_V1, FRAG_DOWN, 0, &cmd, &used, NULL),
	        FUOTA_OK);
	assert_int_equal(cmd.u.setup_req.frag_index, 3);
	assert_int_equal(cmd.u.setup_req.mc_group_mask, 5);
	assert_int_equal(cmd.u.setup_req.block_ack_delay, 7);
	assert_int_equal(cmd.u.setup_req.frag_algo, 7);
	assert_false(cmd.u.setup_req.ack_reception); /* bit 6 is RFU in v1 */
	assert_int_equal(
	        frag_cmd_decode(setup, sizeof(setup), FRAG_V1, FRAG_DOWN, 0, &cmd, &used, NULL),
	        FUOTA_OK);

	assert_int_equal(frag_cmd_decode(sans, 2, FRAG_V1, FRAG_UP, 0, &cmd, &used, NULL),
	                 FUOTA_OK);
	assert_false(cmd.u.setup_ans.session_cnt_replay);
	assert_int_equal(frag_cmd_decode(sans, 2, FRAG_V2, FRAG_UP, 0, &cmd, &used, NULL),
	                 FUOTA_OK);
	assert_true(cmd.u.setup_ans.session_cnt_replay);
	assert_false(cmd.u.setup_ans.algo_unsupported);

	assert_int_equal(frag_cmd_decode(stat, 5, FRAG_V1, FRAG_UP, 0, &cmd, &used, NULL),
	                 FUOTA_OK);
	assert_true(cmd.u.status_ans.memory_error);
	assert_false(cmd.u.status_ans.mic_error);
	assert_false(cmd.u.status_ans.session_not_exist);

	assert_int_equal(frag_cmd_decode(del, 2, FRAG_V2, FRAG_DOWN, 0, &cmd, &used, NULL),
	                 FUOTA_OK);
	assert_int_equal(cmd.u.delete_req.frag_index, 3);
	assert_int_equal(frag_cmd_decode(del, 2, FRAG_V2, FRAG_UP, 0, &cmd, &used, NULL), FUOTA_OK);
	assert_int_equal(cmd.u.delete_ans.frag_index, 3);
	assert_true(cmd.u.delete_ans.session_not_exist);
	assert_int_equal(frag_cmd_decode(blk, 2, FRAG_V2, FRAG_UP, 0, &cmd, &used, NULL), FUOTA_OK);
	assert_int_equal(cmd.u.block_received_req.frag_index, 3);
	assert_true(cmd.u.block_received_req.mic_error);
	assert_int_equal(frag_cmd_decode(blk, 2, FRAG_V2, FRAG_DOWN, 0, &cmd, &used, NULL),
	                 FUOTA_OK);
	assert_int_equal(cmd.u.block_received_ans.frag_index, 3);
}

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

/* A command of the given type with random in-range fields (v2-only fields only in v2). */
static void random_cmd(uint64_t *s, enum frag_cmd_type type, enum frag_version v,
                       struct frag_cmd *c, uint8_t *payload)
{
	bool v2 = v == FRAG_V2;

	memset(c, 0, sizeof(*c));
	c->type = type;
	switch (type) {
	case FRAG_CMD_PACKAGE_VERSION_REQ: break;
	case FRAG_CMD_PACKAGE_VERSION_ANS:
		c->u.version_ans.package_id = (uint8_t)rnd(s);
		c->u.version_ans.package_version = (uint8_t)rnd(s);
		break;
	case FRAG_CMD_SESSION_STATUS_REQ:
		c->u.status_req.participants = rnd(s) & 1;
		c->u.status_req.frag_index = rnd(s) & 3;
		break;
	case FRAG_CMD_SESSION_STATUS_ANS:
		c->u.status_ans.frag_index = rnd(s) & 3;
		c->u.status_ans.nb_received = (uint16_t)(rnd(s) & 0x3fff);
		c->u.status_ans.missing_frag = (uint8_t)rnd(s);
		c->u.status_ans.memory_error = rnd(s) & 1;
		c->u.status_ans.mic_error = v2 && (rnd(s) & 1);
		c->u.status_ans.session_not_exist = v2 && (rnd(s) & 1);
		break;
	case FRAG_CMD_SESSION_SETUP_REQ: {
		struct frag_setup_req *q = &c->u.setup_req;

		q->frag_index = rnd(s) & 3;
		q->mc_group_mask = rnd(s) & 15;
		q->nb_frag = (uint16_t)(1 + rnd(s) % FRAG_MAX_N);
		q->frag_size = (uint8_t)(1 + rnd(s) % 255);
		q->block_ack_delay = rnd(s) & 7;
		q->frag_algo = rnd(s) & 7;
		q->ack_reception = v2 && (rnd(s) & 1);
		q->padding = (uint8_t)(rnd(s) % q->frag_size);
		for (int i = 0; i < 4; i++)
			q->descriptor[i] = (uint8_t)rnd(s);
		if (v2) {
			q->session_cnt = (uint16_t)rnd(s);
			for (int i = 0; i < 4; i++)
				q->mic[i] = (uint8_t)rnd(s);
		}
		break;
	}
	case FRAG_CMD_SESSION_SETUP_ANS: {
		struct frag_setup_ans *a = &c->u.setup_ans;

		a->frag_index = rnd(s) & 3;
		a->algo_unsupported = rnd(s) & 1;
		a->not_enough_memory = rnd(s) & 1;
		a->index_not_supported = rnd(s) & 1;
		a->wrong_descriptor = rnd(s) & 1;
		a->session_cnt_replay = v2 && (rnd(s) & 1);
		break;
	}
	case FRAG_CMD_SESSION_DELETE_REQ: c->u.delete_req.frag_index = rnd(s) & 3; break;
	case FRAG_CMD_SESSION_DELETE_ANS:
		c->u.delete_ans.frag_index = rnd(s) & 3;
		c->u.delete_ans.session_not_exist = rnd(s) & 1;
		break;
	case FRAG_CMD_DATA_FRAGMENT:
		c->u.data_fragment.frag_index = rnd(s) & 3;
		c->u.data_fragment.n = (uint16_t)(1 + rnd(s) % FRAG_MAX_N);
		c->u.data_fragment.payload_len = 1 + rnd(s) % 255;
		for (size_t i = 0; i < c->u.data_fragment.payload_len; i++)
			payload[i] = (uint8_t)rnd(s);
		c->u.data_fragment.payload = payload;
		break;
	case FRAG_CMD_DATA_BLOCK_RECEIVED_REQ:
		c->u.block_received_req.frag_index = rnd(s) & 3;
		c->u.block_received_req.mic_error = rnd(s) & 1;
		break;
	case FRAG_CMD_DATA_BLOCK_RECEIVED_ANS:
		c->u.block_received_ans.frag_index = rnd(s) & 3;
		break;
	default: break;
	}
}

static void test_round_trips(void **state)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;
	uint8_t payload[255];

	(void)state;
	for (int iter = 0; iter < 2000; iter++) {
		for (int v = FRAG_V1; v <= FRAG_V2; v++) {
			for (int t = 0; t < FRAG_CMD_TYPE_COUNT; t++) {
				struct frag_cmd c, d;
				uint8_t out[FRAG_CMD_MAX_LEN];
				size_t len = 0, used = 0;
				bool v2only = t == FRAG_CMD_DATA_BLOCK_RECEIVED_REQ ||
				              t == FRAG_CMD_DATA_BLOCK_RECEIVED_ANS;
				int rc;

				random_cmd(&s, (enum frag_cmd_type)t, (enum frag_version)v, &c,
				           payload);
				rc = frag_cmd_encode(&c, (enum frag_version)v, out, sizeof(out),
				                     &len);
				if (v2only && v == FRAG_V1) {
					assert_int_equal(rc, FUOTA_ERR_INVALID_ARG);
					continue;
				}
				assert_int_equal(rc, FUOTA_OK);
				/* Decode with FragSize unknown and, for a DataFragment, known. */
				assert_int_equal(frag_cmd_decode(out, len, (enum frag_version)v,
				                                 frag_cmd_dir(c.type), 0, &d, &used,
				                                 NULL),
				                 FUOTA_OK);
				assert_int_equal(used, len);
				if (!frag_cmd_equal(&c, &d))
					fail_msg("round trip of %s v%d", frag_cmd_name(c.type), v);
				if (t == FRAG_CMD_DATA_FRAGMENT) {
					assert_int_equal(
					        frag_cmd_decode(
					                out, len, (enum frag_version)v, FRAG_DOWN,
					                (uint32_t)c.u.data_fragment.payload_len, &d,
					                &used, NULL),
					        FUOTA_OK);
					assert_true(frag_cmd_equal(&c, &d));
				}
			}
		}
	}
}

/* Our own out-of-range values are refused, never written. */
static void test_encode_invalid(void **state)
{
	struct frag_cmd c;
	uint8_t out[FRAG_CMD_MAX_LEN];
	size_t len;
	uint8_t p[1] = {0};

	(void)state;
	memset(&c, 0, sizeof(c));
	c.type = FRAG_CMD_SESSION_SETUP_REQ;
	c.u.setup_req = (struct frag_setup_req){.nb_frag = 1, .frag_size = 1};
	assert_int_equal(frag_cmd_encode(&c, FRAG_V1, out, sizeof(out), &len), FUOTA_OK);
	c.u.setup_req.frag_index = 4;
	assert_int_equal(frag_cmd_encode(&c, FRAG_V1, out, sizeof(out), &len),
	                 FUOTA_ERR_INVALID_ARG);
	c.u.setup_req.frag_index = 0;
	c.u.setup_req.nb_frag = 0;
	assert_int_equal(frag_cmd_encode(&c, FRAG_V1, out, sizeof(out), &len),
	                 FUOTA_ERR_INVALID_ARG);
	c.u.setup_req.nb_frag = FRAG_MAX_N + 1;
	assert_int_equal(frag_cmd_encode(&c, FRAG_V1, out, sizeof(out), &len),
	                 FUOTA_ERR_INVALID_ARG);
	c.u.setup_req.nb_frag = 1;
	c.u.setup_req.padding = 1; /* == frag_size */
	assert_int_equal(frag_cmd_encode(&c, FRAG_V1, out, sizeof(out), &len),
	                 FUOTA_ERR_INVALID_ARG);
	c.u.setup_req.padding = 0;
	c.u.setup_req.session_cnt = 1; /* v2-only field in v1 */
	assert_int_equal(frag_cmd_encode(&c, FRAG_V1, out, sizeof(out), &len),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_cmd_encode(&c, FRAG_V2, out, sizeof(out), &len), FUOTA_OK);
	assert_int_equal(len, 17);

	memset(&c, 0, sizeof(c));
	c.type = FRAG_CMD_DATA_FRAGMENT;
	c.u.data_fragment = (struct frag_data_fragment){.n = 0, .payload = p, .payload_len = 1};
	assert_int_equal(frag_cmd_encode(&c, FRAG_V1, out, sizeof(out), &len),
	                 FUOTA_ERR_INVALID_ARG);
	c.u.data_fragment.n = FRAG_MAX_N + 1;
	assert_int_equal(frag_cmd_encode(&c, FRAG_V1, out, sizeof(out), &len),
	                 FUOTA_ERR_INVALID_ARG);
	c.u.data_fragment.n = FRAG_MAX_N;
	assert_int_equal(frag_cmd_encode(&c, FRAG_V1, out, sizeof(out), &len), FUOTA_OK);
	c.u.data_fragment.payload_len = 0;
	assert_int_equal(frag_cmd_encode(&c, FRAG_V1, out, sizeof(out), &len),
	                 FUOTA_ERR_INVALID_ARG);

	memset(&c, 0, sizeof(c));
	c.type = FRAG_CMD_SESSION_STATUS_ANS;
	c.u.status_ans.mic_error = true;
	assert_int_equal(frag_cmd_encode(&c, FRAG_V1, out, sizeof(out), &len),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_cmd_encode(&c, FRAG_V2, out, sizeof(out), &len), FUOTA_OK);
	c.u.status_ans.nb_received = 0x4000;
	assert_int_equal(frag_cmd_encode(&c, FRAG_V2, out, sizeof(out), &len),
	                 FUOTA_ERR_INVALID_ARG);
	c.type = (enum frag_cmd_type)FRAG_CMD_TYPE_COUNT;
	assert_int_equal(frag_cmd_encode(&c, FRAG_V2, out, sizeof(out), &len),
	                 FUOTA_ERR_INVALID_ARG);
}

/* ---- the walker ---- */

static void test_walk_chain_down_v1(void **state)
{
	/* StatusReq | DeleteReq | SetupReq (v1) | DataFragment (FragSize 2) | PackageVersionReq */
	const uint8_t p[] = {0x01, 0x07, 0x03, 0x02, 0x02, 0x35, 0x01, 0x02, 0xff, 0x2c, 0x81,
	                     0x01, 0x02, 0x03, 0x04, 0x08, 0x05, 0x00, 0xaa, 0xbb, 0x00};
	const enum frag_cmd_type want[] = {FRAG_CMD_SESSION_STATUS_REQ, FRAG_CMD_SESSION_DELETE_REQ,
	                                   FRAG_CMD_SESSION_SETUP_REQ, FRAG_CMD_DATA_FRAGMENT,
	                                   FRAG_CMD_PACKAGE_VERSION_REQ};
	struct frag_cmd_iter it;
	struct frag_cmd cmd;
	size_t k = 0;

	(void)state;
	frag_cmd_iter_init(&it, p, sizeof(p), FRAG_V1, FRAG_DOWN, 2);
	while (frag_cmd_iter_more(&it)) {
		assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_OK);
		assert_true(k < 5);
		assert_int_equal(cmd.type, want[k]);
		if (cmd.type == FRAG_CMD_DATA_FRAGMENT) {
			assert_int_equal(cmd.u.data_fragment.n, 5);
			assert_int_equal(cmd.u.data_fragment.payload_len, 2);
			assert_int_equal(cmd.u.data_fragment.payload[1], 0xbb);
		}
		k++;
	}
	assert_int_equal(k, 5);
	assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_ERR_STATE);

	/* FragSize unknown: the DataFragment swallows the rest (3 bytes). */
	frag_cmd_iter_init(&it, p, sizeof(p), FRAG_V1, FRAG_DOWN, 0);
	for (k = 0; frag_cmd_iter_more(&it); k++)
		assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_OK);
	assert_int_equal(k, 4);
	assert_int_equal(cmd.u.data_fragment.payload_len, 3);
}

static void test_walk_chain_up(void **state)
{
	/* v2 uplink: PackageVersionAns | StatusAns | SetupAns | DeleteAns | BlockReceivedReq */
	const uint8_t p[] = {0x00, 0x03, 0x02, 0x01, 0x05, 0x00, 0xc4,
	                     0x80, 0x02, 0x8b, 0x03, 0x07, 0x04, 0x06};
	struct frag_cmd_iter it;
	struct frag_cmd cmd;
	char msg[128];
	int k = 0;

	(void)state;
	frag_cmd_iter_init(&it, p, sizeof(p), FRAG_V2, FRAG_UP, 0);
	while (frag_cmd_iter_more(&it)) {
		assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_OK);
		k++;
	}
	assert_int_equal(k, 5);
	assert_int_equal(cmd.type, FRAG_CMD_DATA_BLOCK_RECEIVED_REQ);

	/* The same bytes as v1: StatusAns is parsed in the v1 order, then CID 0x04 is unknown. */
	frag_cmd_iter_init(&it, p, sizeof(p), FRAG_V1, FRAG_UP, 0);
	for (k = 0; frag_cmd_iter_more(&it); k++)
		if (frag_cmd_iter_next(&it, &cmd) != FUOTA_OK)
			break;
	assert_int_equal(k, 4);
	assert_false(frag_cmd_iter_more(&it));
	assert_int_equal(it.err.offset, 12);
	fuota_parse_err_format(&it.err, msg, sizeof(msg));
	assert_non_null(strstr(msg, "0x04"));

	/* A truncated last command names itself and its field. */
	frag_cmd_iter_init(&it, p, 7, FRAG_V2, FRAG_UP, 0);
	assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_OK);
	assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_ERR_MALFORMED);
	fuota_parse_err_format(&it.err, msg, sizeof(msg));
	assert_string_equal(msg,
	                    "FragSessionStatusAns: missing MissingFrag (4 bytes needed, 3 left)");
	assert_int_equal(it.err.offset, 3);
}

static void test_walk_v2_data_fragment_alone(void **state)
{
	/* v2: DataFragment after another command is refused. */
	const uint8_t chained[] = {0x01, 0x05, 0x08, 0x01, 0x00, 0xaa};
	/* v2: DataFragment first with FragSize 1; the trailing bytes are skipped (LBM). */
	const uint8_t trailing[] = {0x08, 0x01, 0x00, 0xaa, 0x03, 0x03};
	struct frag_cmd_iter it;
	struct frag_cmd cmd;
	char msg[128];

	(void)state;
	frag_cmd_iter_init(&it, chained, sizeof(chained), FRAG_V2, FRAG_DOWN, 1);
	assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_OK);
	assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_ERR_MALFORMED);
	fuota_parse_err_format(&it.err, msg, sizeof(msg));
	assert_string_equal(msg, "DataFragment: must be the only command of its message (v2)");
	assert_false(frag_cmd_iter_more(&it));

	/* In v1 the same chain is fine. */
	frag_cmd_iter_init(&it, chained, sizeof(chained), FRAG_V1, FRAG_DOWN, 1);
	assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_OK);
	assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_OK);
	assert_int_equal(cmd.type, FRAG_CMD_DATA_FRAGMENT);

	frag_cmd_iter_init(&it, trailing, sizeof(trailing), FRAG_V2, FRAG_DOWN, 1);
	assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_OK);
	assert_int_equal(cmd.u.data_fragment.payload_len, 1);
	assert_false(frag_cmd_iter_more(&it));
	/* In v1 the trailing DeleteReq is a command of its own. */
	frag_cmd_iter_init(&it, trailing, sizeof(trailing), FRAG_V1, FRAG_DOWN, 1);
	assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_OK);
	assert_int_equal(frag_cmd_iter_next(&it, &cmd), FUOTA_OK);
	assert_int_equal(cmd.type, FRAG_CMD_SESSION_DELETE_REQ);
	assert_false(frag_cmd_iter_more(&it));
}

static void test_bad_args(void **state)
{
	struct frag_cmd cmd;
	size_t used;
	const uint8_t b[] = {0x00};

	(void)state;
	assert_int_equal(
	        frag_cmd_decode(b, 1, (enum frag_version)3, FRAG_DOWN, 0, &cmd, &used, NULL),
	        FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_cmd_decode(NULL, 1, FRAG_V1, FRAG_DOWN, 0, &cmd, &used, NULL),
	                 FUOTA_ERR_INVALID_ARG);
	assert_int_equal(frag_cmd_decode(b, 0, FRAG_V1, FRAG_DOWN, 0, &cmd, &used, NULL),
	                 FUOTA_ERR_MALFORMED);
	assert_string_equal(frag_cmd_name((enum frag_cmd_type)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vectors_decode),
	        cmocka_unit_test(test_vectors_encode),
	        cmocka_unit_test(test_truncations),
	        cmocka_unit_test(test_error_message),
	        cmocka_unit_test(test_out_of_range),
	        cmocka_unit_test(test_unknown_cids),
	        cmocka_unit_test(test_rfu_ignored),
	        cmocka_unit_test(test_round_trips),
	        cmocka_unit_test(test_encode_invalid),
	        cmocka_unit_test(test_walk_chain_down_v1),
	        cmocka_unit_test(test_walk_chain_up),
	        cmocka_unit_test(test_walk_v2_data_fragment_alone),
	        cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
