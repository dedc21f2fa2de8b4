/* fuota-sim's device assembling an image sent in parts (fuota/frag_part.h), driven by hand: a
 * 2,537-byte image in 3 parts of F = 20 fragments of 48 bytes (the last 13, 7 bytes of padding),
 * each part's parity built with the project's encoder (frag_enc), frames fed in order with
 * losses; a missing part, parts out of order and taken again, a part's wrong MIC, malformed
 * Descriptors, the memory a device holds, and the all-zero Descriptor still the whole image. */
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
#include "fuota/frag_enc.h"
#include "fuota/frag_lean.h"
#include "fuota/frag_mic.h"
#include "fuota/frag_part.h"
#include "fuota/lw_frame.h"
#include "fuota/mc.h"
#include "sim_dev.h"
#include "sim_device/fixture.h"

#define FS        48u
#define F         20u
#define NPARTS    3u
#define LAST_M    13u
#define LAST_PAD  7u
#define IMAGE_LEN ((NPARTS - 1u) * F * FS + LAST_M * FS - LAST_PAD) /* 2537 */
#define FREQ_HZ   869525000u

/* A device with a group and one long class C session open, and the image it expects. */
struct rig {
	struct fixture f; /* f.ss: the whole image, padded to 53 fragments; f.d: the device */
	int version;
	int64_t now;   /* true GPS ms */
	uint32_t fcnt; /* the next multicast FCnt */
	uint16_t cnt;  /* the next SessionCnt */
};

static void rig_init(struct rig *t, int version, size_t mem_limit)
{
	fixture_init(&t->f, version, IMAGE_LEN);
	if (mem_limit) {
		sim_dev_free(&t->f.d);
		t->f.c.mem_limit = mem_limit;
		dev_init(&t->f.d, &t->f.c);
	}
	t->version = version;
	t->now = T0_MS;
	t->fcnt = 1;
	t->cnt = 1;
	sync_clock(&t->f.d, t->now);
	group_setup(&t->f.d, t->now, GEN_APP_KEY, false, 0, 0, 0xffffffffu);
	struct mc_cmd cmd = {.cid = MC_CID_CLASS_C_SESSION};
	cmd.u.session_req.session_time = (uint32_t)(t->now / 1000 + 20);
	cmd.u.session_req.timeout = 12; /* 4096 s: every part's frames fit */
	cmd.u.session_req.dl_freq_hz = FREQ_HZ;
	cmd.u.session_req.dr = 5;
	uint8_t buf[64];
	struct sim_uplink ul;
	assert_true(exchange(&t->f.d, t->now, MC_FPORT, buf, mc_cmd_bytes(&cmd, buf), &ul));
	t->now = (t->now / 1000 + 21) * 1000;
	sim_dev_tick(&t->f.d, t->now);
}

static void rig_free(struct rig *t)
{
	fixture_free(&t->f);
}

/* Part k of the image as a session of its own: its bytes, M and padding. */
static struct session part_of(const struct rig *t, unsigned k)
{
	struct session p;
	memset(&p, 0, sizeof(p));
	p.s = FS;
	p.m = k + 1 < NPARTS ? F : LAST_M;
	p.padding = k + 1 < NPARTS ? 0 : LAST_PAD;
	p.image = t->f.ss.image + (size_t)k * F * FS;
	p.image_len = p.m * FS - p.padding;
	return p;
}

static void part_desc(unsigned k, uint8_t desc[4])
{
	struct frag_part p = {.index = (uint8_t)k, .count = NPARTS, .full_frags = F};
	assert_int_equal(frag_part_encode(&p, desc), FUOTA_OK);
}

/* FragSessionSetupReq of session p on FragIndex idx with this Descriptor (v2: AckReception, the
 * MIC over p's bytes, xor-ed with mic_xor); returns the FragSessionSetupAns StatusBitMask. */
static uint8_t setup(struct rig *t, const struct session *p, uint8_t idx, const uint8_t desc[4],
                     uint8_t mic_xor)
{
	struct frag_cmd cmd = {.type = FRAG_CMD_SESSION_SETUP_REQ};
	struct frag_setup_req *r = &cmd.u.setup_req;
	r->frag_index = idx;
	r->mc_group_mask = 0x01;
	r->nb_frag = (uint16_t)p->m;
	r->frag_size = (uint8_t)p->s;
	r->padding = (uint8_t)p->padding;
	memcpy(r->descriptor, desc, 4);
	if (t->version == 2) {
		uint8_t key[16];
		struct frag_mic_params mp = {.session_cnt = t->cnt, .frag_index = idx};
		memcpy(mp.descriptor, desc, 4);
		r->session_cnt = t->cnt++;
		r->ack_reception = true;
		assert_int_equal(frag_mic_key(GEN_APP_KEY, key), FUOTA_OK);
		assert_int_equal(frag_mic_compute(key, &mp, p->image, p->image_len, r->mic),
		                 FUOTA_OK);
		r->mic[0] ^= mic_xor;
	}
	uint8_t buf[64];
	size_t len = 0;
	assert_int_equal(
	        frag_cmd_encode(&cmd, t->version == 2 ? FRAG_V2 : FRAG_V1, buf, sizeof(buf), &len),
	        FUOTA_OK);
	struct sim_uplink ul;
	assert_true(exchange(&t->f.d, t->now, FRAG_PORT, buf, len, &ul));
	assert_int_equal(ul.port, FRAG_PORT);
	assert_int_equal(ul.len, 2);
	assert_int_equal(ul.data[0], FRAG_CID_SESSION_SETUP);
	return ul.data[1];
}

static uint8_t setup_part(struct rig *t, unsigned k, uint8_t idx)
{
	uint8_t desc[4];
	struct session p = part_of(t, k);
	part_desc(k, desc);
	return setup(t, &p, idx, desc, 0);
}

/* DataFragments N = 1..M + parity of p on FragIndex idx as multicast frames, every lose_every-th
 * uncoded one lost (0: none); the coded rows from frag_enc. */
static void send_part(struct rig *t, const struct session *p, uint8_t idx, uint32_t lose_every,
                      uint32_t parity)
{
	struct frag_code code = {.nb_frag = p->m,
	                         .version = t->version == 2 ? FRAG_V2 : FRAG_V1,
	                         .seed = FRAG_SEED_RELATIVE};
	struct frag_enc enc;
	assert_int_equal(
	        frag_enc_init(&enc, &code, p->s, p->image, (size_t)p->m * p->s, FRAG_ENC_ISA_AUTO),
	        FUOTA_OK);
	size_t scratch_len = frag_enc_row_scratch_size(&enc);
	void *scratch = malloc(scratch_len);
	assert_non_null(scratch);
	for (uint32_t n = 1; n <= p->m + parity; n++) {
		uint8_t payload[3 + 255], phy[LW_PHY_MAX_LEN];
		payload[0] = FRAG_CID_DATA_FRAGMENT;
		payload[1] = (uint8_t)n;
		payload[2] = (uint8_t)((n >> 8 & 0x3f) | (unsigned)idx << 6);
		if (n <= p->m)
			memcpy(payload + 3, p->image + (size_t)(n - 1) * p->s, p->s);
		else
			assert_int_equal(
			        frag_enc_row(&enc, n - p->m, payload + 3, scratch, scratch_len),
			        FUOTA_OK);
		t->now += 200;
		if (lose_every && n <= p->m && n % lose_every == 0)
			continue;
		struct lw_frame_tx tx = {.mtype = LW_MTYPE_UNCONF_DATA_DOWN,
		                         .dev_addr = MC_ADDR,
		                         .fcnt = t->fcnt++,
		                         .has_fport = true,
		                         .fport = FRAG_PORT,
		                         .payload = payload,
		                         .payload_len = 3 + p->s};
		size_t len = 0;
		assert_int_equal(
		        lw_frame_build(&tx, MC_APP_S_KEY, MC_NWK_S_KEY, phy, sizeof(phy), &len),
		        FUOTA_OK);
		assert_int_equal(sim_dev_multicast(&t->f.d, t->now, FREQ_HZ, phy, len), FUOTA_OK);
	}
	free(scratch);
}

/* Part k set up on FragIndex idx and sent with a fifth of its uncoded fragments lost. */
static void part(struct rig *t, unsigned k, uint8_t idx)
{
	struct session p = part_of(t, k);
	assert_int_equal(setup_part(t, k, idx), (uint8_t)(idx << 6)); /* accepted */
	send_part(t, &p, idx, 5, 10);
}

static struct sim_dev_report report(const struct rig *t)
{
	struct sim_dev_report r;
	sim_dev_get_report(&t->f.d, t->now, &r);
	return r;
}

/* The v2 device's FragDataBlockReceivedReq for FragIndex idx (then acknowledged). */
static void expect_block_received(struct rig *t, uint8_t idx, bool mic_error)
{
	struct sim_uplink ul;
	assert_true(sim_dev_uplink(&t->f.d, t->now + 600000, false, &ul));
	assert_int_equal(ul.port, FRAG_PORT);
	struct frag_cmd cmd;
	size_t used = 0;
	assert_int_equal(frag_cmd_decode(ul.data, ul.len, FRAG_V2, FRAG_UP, 0, &cmd, &used, NULL),
	                 FUOTA_OK);
	assert_int_equal(cmd.type, FRAG_CMD_DATA_BLOCK_RECEIVED_REQ);
	assert_int_equal(cmd.u.block_received_req.frag_index, idx);
	assert_int_equal(cmd.u.block_received_req.mic_error, mic_error);
	const uint8_t ans[] = {FRAG_CID_DATA_BLOCK_RECEIVED, idx};
	assert_int_equal(sim_dev_downlink(&t->f.d, t->now, FRAG_PORT, ans, 2), FUOTA_OK);
}

/* The unicast FragSessionStatusAns of FragIndex idx. */
static struct frag_status_ans status(struct rig *t, uint8_t idx)
{
	const uint8_t req[] = {FRAG_CID_SESSION_STATUS, (uint8_t)(idx << 1 | 1)};
	struct sim_uplink ul;
	assert_true(exchange(&t->f.d, t->now, FRAG_PORT, req, 2, &ul));
	struct frag_cmd cmd;
	size_t used = 0;
	assert_int_equal(frag_cmd_decode(ul.data, ul.len, t->version == 2 ? FRAG_V2 : FRAG_V1,
	                                 FRAG_UP, 0, &cmd, &used, NULL),
	                 FUOTA_OK);
	assert_int_equal(cmd.type, FRAG_CMD_SESSION_STATUS_ANS);
	return cmd.u.status_ans;
}

static bool has_failure(const struct sim_dev_report *r, const char *text)
{
	for (size_t i = 0; i < r->n_failures; i++)
		if (strstr(r->failures[i].text, text))
			return true;
	return false;
}

static void test_parts_in_order_with_losses(void **state)
{
	(void)state;
	for (int v = 1; v <= 2; v++) {
		struct rig t;
		rig_init(&t, v, 0);
		for (unsigned k = 0; k < NPARTS; k++) {
			uint8_t idx = (uint8_t)(k % 2);
			part(&t, k, idx);
			struct sim_dev_report r = report(&t);
			assert_int_equal(r.parts_expected, NPARTS);
			assert_int_equal(r.parts_received, k + 1);
			assert_int_equal(r.frag_recovered, k + 1 < NPARTS ? 4 : 2);
			/* verified only once every part is rebuilt and the whole matches */
			assert_int_equal(r.verified, k + 1 == NPARTS);
			assert_int_equal(r.decoded, k + 1 == NPARTS);
			/* the part's decoder RAM is released once it is rebuilt */
			assert_null(t.f.d.frag[idx].mem);
			if (v == 2)
				expect_block_received(&t, idx, false);
			struct frag_status_ans st = status(&t, idx);
			assert_int_equal(st.frag_index, idx);
			assert_int_equal(st.missing_frag, 0);
			assert_false(st.mic_error);
		}
		struct sim_dev_report r = report(&t);
		assert_true(r.sha_checked && r.sha_ok);
		assert_int_equal(r.mic_checked, v == 2);
		assert_int_equal(r.counts.parts, NPARTS);
		assert_int_equal(r.counts.images, 1);
		assert_int_equal(r.n_failures, 0);
		assert_true(r.steps & SIM_STEP_VERIFIED);
		rig_free(&t);
	}
}

static void test_part_missing(void **state)
{
	(void)state;
	struct rig t;
	rig_init(&t, 2, 0);
	part(&t, 0, 0);
	expect_block_received(&t, 0, false);
	part(&t, 2, 0);
	expect_block_received(&t, 0, false);
	struct sim_dev_report r = report(&t);
	assert_int_equal(r.parts_received, 2);
	assert_int_equal(r.parts_expected, NPARTS);
	assert_false(r.decoded);
	assert_false(r.verified);
	assert_false(r.sha_checked);
	/* The server deletes the session and the group: a device missing a part waits for the
	 * next one through the done grace instead of finishing at once. */
	struct sim_uplink ul;
	const uint8_t del_frag[] = {FRAG_CID_SESSION_DELETE, 0x00};
	const uint8_t del_group[] = {MC_CID_GROUP_DELETE, 0x00};
	assert_true(exchange(&t.f.d, t.now, FRAG_PORT, del_frag, 2, &ul));
	assert_true(exchange(&t.f.d, t.now, MC_FPORT, del_group, 2, &ul));
	assert_false(sim_dev_finished(&t.f.d, t.now));
	assert_true(sim_dev_finished(&t.f.d, t.now + GRACE_MS));
	rig_free(&t);

	/* A part whose session ends before it is rebuilt: the failure names it. */
	rig_init(&t, 1, 0);
	part(&t, 0, 0);
	struct session p = part_of(&t, 1);
	uint8_t desc[4];
	part_desc(1, desc);
	assert_int_equal(setup(&t, &p, 0, desc, 0), 0x00);
	send_part(&t, &p, 0, 2, 0);
	sim_dev_tick(&t.f.d, t.now + 4096 * 1000);
	r = report(&t);
	assert_true(has_failure(&r, "before part k=1 of 3 was rebuilt"));
	assert_int_equal(r.parts_received, 1);
	assert_null(t.f.d.frag[0].mem);
	rig_free(&t);
}

static void test_parts_out_of_order_and_repeated(void **state)
{
	(void)state;
	struct rig t;
	rig_init(&t, 2, 0);
	static const unsigned order[] = {2, 0, 1};
	for (unsigned i = 0; i < NPARTS; i++) {
		part(&t, order[i], 1);
		expect_block_received(&t, 1, false);
	}
	struct sim_dev_report r = report(&t);
	assert_true(r.verified);
	assert_int_equal(r.parts_received, NPARTS);

	/* fuotad restarted and sends part 1 again: its place is erased and taken again. */
	struct session p = part_of(&t, 1);
	uint8_t desc[4];
	part_desc(1, desc);
	assert_int_equal(setup(&t, &p, 2, desc, 0), 0x80);
	r = report(&t);
	assert_false(r.verified);
	assert_int_equal(r.parts_received, NPARTS - 1);
	send_part(&t, &p, 2, 3, 10);
	expect_block_received(&t, 2, false);
	r = report(&t);
	assert_true(r.verified);
	assert_int_equal(r.parts_received, NPARTS); /* not double counted */
	assert_int_equal(r.counts.parts, NPARTS + 1);
	assert_int_equal(r.counts.images, 2);
	assert_int_equal(r.n_failures, 0);
	rig_free(&t);
}

static void test_part_wrong_mic(void **state)
{
	(void)state;
	struct rig t;
	rig_init(&t, 2, 0);
	part(&t, 0, 0);
	expect_block_received(&t, 0, false);
	struct session p = part_of(&t, 1);
	uint8_t desc[4];
	part_desc(1, desc);
	assert_int_equal(setup(&t, &p, 0, desc, 0x5a), 0x00);
	send_part(&t, &p, 0, 0, 0);
	expect_block_received(&t, 0, true); /* MICError */
	part(&t, 2, 0);
	expect_block_received(&t, 0, false);
	struct sim_dev_report r = report(&t);
	assert_int_equal(r.parts_received, 2);
	assert_false(r.mic_ok);
	assert_false(r.verified);
	assert_true(has_failure(&r, "part k=1 of 3: data-block MIC"));
	/* Sent again with the right MIC, the image is whole and verified. */
	part(&t, 1, 0);
	expect_block_received(&t, 0, false);
	r = report(&t);
	assert_true(r.mic_ok);
	assert_true(r.verified);
	rig_free(&t);
}

static void test_wrong_descriptor(void **state)
{
	(void)state;
	static const struct {
		uint8_t desc[4];
		unsigned geometry; /* the part whose NbFrag and Padding are sent */
		const char *why;
	} bad[] = {
	        {{0x05, 0x03, 0x14, 0x00}, 0, "05031400 is not a part"}, /* k >= P */
	        {{0x00, 0x03, 0x00, 0x00}, 0, "00030000 is not a part"}, /* F = 0 */
	        {{0x00, 0x00, 0x14, 0x00}, 0, "00001400 is not a part"}, /* P = 0, F set */
	        {{0x00, 0x03, 0x00, 0x40}, 0, "00030040 is not a part"}, /* F = 16384 */
	        {{0x00, 0x03, 0x15, 0x00}, 0, "NbFrag 20 Padding 0, F 21"},
	        {{0x01, 0x03, 0x0d, 0x00}, 2, "NbFrag 13 Padding 7, F 13"},
	};
	for (int v = 1; v <= 2; v++) {
		struct rig t;
		rig_init(&t, v, 0);
		part(&t, 0, 0);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct session p = part_of(&t, bad[i].geometry);
			/* WrongDescriptor, bit 3 of the StatusBitMask, FragIndex 3 */
			assert_int_equal(setup(&t, &p, 3, bad[i].desc, 0), 0xc8);
			struct sim_dev_report r = report(&t);
			assert_true(has_failure(&r, "WrongDescriptor"));
			assert_true(has_failure(&r, bad[i].why));
			assert_false(t.f.d.frag[3].active);
			assert_int_equal(r.parts_received, 1); /* the image in parts is untouched */
		}
		rig_free(&t);
	}
}

static void test_zero_descriptor_is_whole_image(void **state)
{
	(void)state;
	struct rig t;
	rig_init(&t, 2, 0);
	part(&t, 0, 0);
	expect_block_received(&t, 0, false);
	assert_int_equal(report(&t).parts_expected, NPARTS);
	/* The all-zero Descriptor: the session carries the whole image, as before parts; the image
	 * in parts is forgotten. */
	const uint8_t zero[4] = {0};
	assert_int_equal(setup(&t, &t.f.ss, 1, zero, 0), 0x40);
	assert_null(t.f.d.img);
	send_part(&t, &t.f.ss, 1, 7, 12);
	expect_block_received(&t, 1, false);
	struct sim_dev_report r = report(&t);
	assert_true(r.verified);
	assert_int_equal(r.parts_expected, 0);
	assert_int_equal(r.parts_received, 0);
	assert_int_equal(r.counts.images, 1);
	assert_int_equal(r.n_failures, 0);
	/* A new image in parts: what the report said of the whole image is gone. */
	assert_int_equal(setup_part(&t, 0, 2), 0x80);
	r = report(&t);
	assert_false(r.verified || r.sha_checked || r.mic_checked);
	assert_int_equal(r.parts_expected, NPARTS);
	rig_free(&t);
}

/* A device holds the image and the decoder of the part being decoded, no more. */
static void test_parts_memory(void **state)
{
	(void)state;
	size_t store = (size_t)NPARTS * F * FS; /* before the last part: P x F x S */
	size_t ram = frag_lean_mem_size(F, FS, F);
	struct rig t;
	rig_init(&t, 1, store + frag_lean_mem_size(F, FS, 0) - 1);
	assert_int_equal(setup_part(&t, 0, 0), 0x02); /* NotEnoughMemory */
	rig_free(&t);

	rig_init(&t, 1, store + ram);
	struct session p0 = part_of(&t, 0), p1 = part_of(&t, 1);
	assert_int_equal(setup_part(&t, 0, 0), 0x00);
	/* A second part while the first is decoding: two decoders do not fit. */
	assert_int_equal(setup_part(&t, 1, 1), 0x42);
	send_part(&t, &p0, 0, 5, 10);
	assert_int_equal(setup_part(&t, 1, 1), 0x40);
	send_part(&t, &p1, 1, 5, 10);
	part(&t, 2, 0);
	struct sim_dev_report r = report(&t);
	assert_true(r.verified);
	assert_int_equal(r.parts_received, NPARTS);
	rig_free(&t);
}

/* The last part set up again with fewer fragments (the same P, F and S) cuts the store: a
 * session still open for the old last part fails on its next flash access instead of writing
 * past the store. */
static void test_last_part_cut(void **state)
{
	(void)state;
	struct rig t;
	rig_init(&t, 1, 0);
	struct session last = part_of(&t, 2), shorter = last;
	uint8_t desc[4];
	part_desc(2, desc);
	assert_int_equal(setup(&t, &last, 0, desc, 0), 0x00);
	shorter.m = LAST_M - 3;
	shorter.padding = 0;
	shorter.image_len = shorter.m * FS;
	assert_int_equal(setup(&t, &shorter, 1, desc, 0), 0x40);
	send_part(&t, &last, 0, 0, 0);
	struct sim_dev_report r = report(&t);
	assert_true(has_failure(&r, "flash access error"));
	assert_int_equal(r.parts_received, 0);
	send_part(&t, &shorter, 1, 0, 0);
	assert_int_equal(report(&t).parts_received, 1);
	rig_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parts_in_order_with_losses),
	        cmocka_unit_test(test_part_missing),
	        cmocka_unit_test(test_parts_out_of_order_and_repeated),
	        cmocka_unit_test(test_part_wrong_mic),
	        cmocka_unit_test(test_wrong_descriptor),
	        cmocka_unit_test(test_zero_descriptor_is_whole_image),
	        cmocka_unit_test(test_parts_memory),
	        cmocka_unit_test(test_last_part_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
