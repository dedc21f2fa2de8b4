/* The device model's knobs for a caller that times the uplinks itself (the engine itests) and
 * its request counts (struct sim_dev_counts): each knob off is the model fuota-sim plays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuota/clk.h"
#include "fuota/err.h"
#include "fuota/fmp.h"
#include "fuota/frag_cmd.h"
#include "fuota/frag_lean.h"
#include "fuota/mc.h"
#include "fixture.h"
#include "sim_dev.h"

/* The fixture's device set up again with knobs from cfg (which the caller changed in f->c). */
static void knob_session(struct fixture *f, int version, bool ack)
{
	sim_dev_free(&f->d);
	dev_init(&f->d, &f->c);
	f->start = setup_all(&f->d, &f->ss, version, ack);
}

/* Sends fragments first..last (FCnt = N) from t, 200 ms apart; returns the time after. */
static int64_t knob_frames(struct fixture *f, uint32_t first, uint32_t last, int64_t t)
{
	for (uint32_t n = first; n <= last; n++, t += 200)
		assert_int_equal(fixture_frame(f, n, n, t), FUOTA_OK);
	return t;
}

/* at_once: the status answer and FragDataBlockReceivedReq are due when asked, not spread over
 * BlockAckDelay; ack_tries 1: the report is not repeated. */
void test_knob_at_once(void **state)
{
	static const uint8_t status_req[] = {FRAG_CID_SESSION_STATUS, 0x01};
	struct fixture f;
	struct sim_uplink ul;
	int64_t t;

	(void)state;
	fixture_init(&f, 2, 1000);
	f.c.at_once = true;
	f.c.ack_tries = 1;
	knob_session(&f, 2, true);
	t = f.start + 1500;
	sim_dev_tick(&f.d, t);
	assert_int_equal(sim_dev_downlink(&f.d, t, FRAG_PORT, status_req, 2), FUOTA_OK);
	assert_int_equal(sim_dev_next_uplink_ms(&f.d), t);
	assert_true(sim_dev_uplink(&f.d, t, false, &ul));
	assert_int_equal(ul.data[0], FRAG_CID_SESSION_STATUS);
	t = knob_frames(&f, 1, f.ss.m, t);
	assert_true(f.d.rep.verified);
	assert_true(sim_dev_next_uplink_ms(&f.d) <= t);
	assert_true(sim_dev_uplink(&f.d, t, false, &ul));
	assert_int_equal(ul.port, FRAG_PORT);
	assert_int_equal(ul.data[0], FRAG_CID_DATA_BLOCK_RECEIVED);
	assert_int_equal(sim_dev_next_uplink_ms(&f.d), INT64_MAX);
	fixture_free(&f);
}

/* lose_frags: fragments 2 and 5 never reach the decoder (parity rebuilds them); the counts say
 * what the device got. */
void test_knob_lose_frags_and_counts(void **state)
{
	static const uint8_t status_req[] = {FRAG_CID_SESSION_STATUS, 0x01};
	static const uint8_t delete_req[] = {FRAG_CID_SESSION_DELETE, 0x00};
	const struct sim_dev_counts *c;
	struct fixture f;
	struct sim_uplink ul;
	int64_t t;

	(void)state;
	fixture_init(&f, 1, 1000);
	f.c.lose_frags = (1u << 1) | (1u << 4);
	knob_session(&f, 1, false);
	c = &f.d.rep.counts;
	assert_int_equal(c->mc_setup, 1);
	assert_int_equal(c->frag_setup, 1);
	assert_int_equal(c->last_delete_index, -1);
	t = f.start + 1500;
	sim_dev_tick(&f.d, t);
	t = knob_frames(&f, 1, f.ss.m, t);
	assert_int_equal(c->lost_frags, 2);
	assert_int_equal(c->session_frags, f.ss.m - 2);
	assert_int_equal(c->images, 0);
	t = knob_frames(&f, f.ss.m + 1, f.ss.m + 6, t);
	assert_int_equal(c->images, 1);
	assert_true(f.d.rep.verified);
	assert_int_equal(c->session_frags, f.ss.m + 4); /* the frames after the image count too */
	assert_true(exchange(&f.d, t, FRAG_PORT, status_req, 2, &ul));
	assert_int_equal(c->status_uc, 1);
	assert_true(exchange(&f.d, t, FRAG_PORT, delete_req, 2, &ul));
	assert_int_equal(c->frag_delete, 1);
	assert_int_equal(c->last_delete_index, 0);
	/* Asked about the session it no longer has: a v1 device cannot say it. */
	assert_false(exchange(&f.d, t, FRAG_PORT, status_req, 2, &ul));
	assert_int_equal(c->status_other, 1);
	assert_int_equal(c->malformed, 0);
	fixture_free(&f);
}

/* The device's status answer to a unicast FragSessionStatusReq (at_once), decoded. */
static struct frag_status_ans knob_status(struct fixture *f, int64_t t)
{
	static const uint8_t status_req[] = {FRAG_CID_SESSION_STATUS, 0x01};
	struct sim_uplink ul;
	struct frag_cmd ans;
	size_t used = 0;

	assert_true(exchange(&f->d, t, FRAG_PORT, status_req, 2, &ul));
	assert_int_equal(frag_cmd_decode(ul.data, ul.len, FRAG_V1, FRAG_UP, 0, &ans, &used, NULL),
	                 FUOTA_OK);
	assert_int_equal(ans.type, FRAG_CMD_SESSION_STATUS_ANS);
	return ans.u.status_ans;
}

/* A device whose memory leaves its lean decoder room for 2 lost fragments: with 2 lost it
 * rebuilds the image; with 3 it does what LoRaMac-node's FragDecoder does (PROTOCOL-NOTES §4.9
 * step 1, §4.10): at the first coded frame the session ends with MatrixError, its status answer
 * says MemoryError, and no later frame rebuilds anything. */
void test_knob_lost_beyond_memory(void **state)
{
	struct fixture f;
	struct frag_status_ans st;
	int64_t t;

	(void)state;
	for (int lose = 2; lose <= 3; lose++) {
		fixture_init(&f, 1, 1000);
		f.c.at_once = true;
		f.c.mem_limit = (size_t)f.ss.m * f.ss.s + frag_lean_mem_size(f.ss.m, f.ss.s, 2);
		f.c.lose_frags = (1u << 1) | (1u << 4) | (lose == 3 ? 1u << 8 : 0u);
		knob_session(&f, 1, false);
		assert_int_equal(f.d.frag[0].dec.max_lost, 2);
		t = f.start + 1500;
		sim_dev_tick(&f.d, t);
		t = knob_frames(&f, 1, f.ss.m + 1, t);
		st = knob_status(&f, t);
		assert_int_equal(st.memory_error, lose == 3);
		assert_int_equal(f.d.rep.n_failures, lose == 3 ? 1 : 0);
		if (lose == 3)
			assert_non_null(strstr(f.d.rep.failures[0].text, "NotEnoughMatrixMemory"));
		t = knob_frames(&f, f.ss.m + 2, f.ss.m + 12, t);
		/* a lost one late (FCnt after the others): too late for the ended session */
		assert_int_equal(fixture_frame(&f, 2, f.ss.m + 13, t), FUOTA_OK);
		assert_int_equal(f.d.rep.counts.images, lose == 3 ? 0 : 1);
		assert_int_equal(f.d.rep.verified, lose == 2);
		assert_int_equal(f.d.rep.decoded, lose == 2);
		st = knob_status(&f, t);
		assert_int_equal(st.memory_error, lose == 3);
		fixture_free(&f);
	}
}

/* SIM_MB_BAD_MIC: the rebuilt image fails its MIC check (MICError, Corrupt to TS006);
 * SIM_MB_CLAIM_VALID: Valid with no image at all; DevUpgradeImageReq is counted with TS006 or
 * not. */
void test_knob_bad_mic_claim_valid(void **state)
{
	static const uint8_t upgrade_req[1] = {FMP_CID_DEV_UPGRADE_IMAGE};
	struct fixture f;
	struct sim_uplink ul;
	int64_t t;

	(void)state;
	fixture_init(&f, 2, 1000);
	f.c.misbehave = SIM_MB_BAD_MIC | SIM_MB_TS006;
	knob_session(&f, 2, true);
	t = f.start + 1500;
	sim_dev_tick(&f.d, t);
	t = knob_frames(&f, 1, f.ss.m, t);
	assert_true(f.d.rep.decoded && f.d.rep.sha_ok);
	assert_false(f.d.rep.mic_ok);
	assert_false(f.d.rep.verified);
	while (sim_dev_uplink(&f.d, t + 600000, false, &ul))
		; /* its report (MICError) */
	assert_true(exchange(&f.d, t, FMP_FPORT, upgrade_req, 1, &ul));
	assert_int_equal(ul.data[1], FMP_IMAGE_CORRUPT);
	f.c.misbehave = SIM_MB_TS006 | SIM_MB_CLAIM_VALID;
	sim_dev_free(&f.d);
	dev_init(&f.d, &f.c);
	assert_true(exchange(&f.d, t, FMP_FPORT, upgrade_req, 1, &ul));
	assert_int_equal(ul.data[1], FMP_IMAGE_VALID);
	f.c.misbehave = 0;
	f.c.clock_set = true; /* nothing of its own to send */
	sim_dev_free(&f.d);
	dev_init(&f.d, &f.c);
	assert_false(exchange(&f.d, t, FMP_FPORT, upgrade_req, 1, &ul));
	assert_int_equal(f.d.rep.counts.upgrade_image, 1);
	fixture_free(&f);
}

/* clock_set: synchronised from the start, no AppTimeReq of its own; sim_dev_ask_time asks with
 * AnsRequired; resync_delay_ms delays the AppTimeReq after ForceDeviceResyncReq;
 * v1_start_missed: a TS005 v1 device answers a start in its past with StartMissed. */
void test_knob_clock_set(void **state)
{
	static const uint8_t force[] = {CLK_CID_FORCE_RESYNC, 0x01};
	struct sim_dev_cfg c = base_cfg(1);
	struct mc_cmd cmd = {.cid = MC_CID_CLASS_C_SESSION};
	struct sim_dev d;
	struct sim_uplink ul;
	uint8_t buf[64];
	size_t len;
	int64_t t = T0_MS + 60000;

	(void)state;
	c.clock_set = c.v1_start_missed = true;
	c.resync_delay_ms = 8000;
	dev_init(&d, &c);
	assert_int_equal(sim_dev_next_uplink_ms(&d), INT64_MAX);
	assert_false(sim_dev_uplink(&d, t, false, &ul));
	sim_dev_ask_time(&d, t, true);
	assert_true(sim_dev_uplink(&d, t, false, &ul));
	assert_int_equal(ul.port, CLK_FPORT);
	assert_int_equal(ul.data[0], CLK_CID_APP_TIME);
	assert_int_equal(ul.data[5] & 0x10, 0x10); /* AnsRequired */
	assert_int_equal(sim_dev_downlink(&d, t, CLK_FPORT, force, sizeof(force)), FUOTA_OK);
	assert_int_equal(d.rep.counts.force_resync, 1);
	assert_int_equal(sim_dev_next_uplink_ms(&d), t + 8000);
	assert_false(sim_dev_uplink(&d, t + 7999, false, &ul));
	assert_true(sim_dev_uplink(&d, t + 8000, false, &ul));
	assert_int_equal(ul.data[0], CLK_CID_APP_TIME);
	group_setup(&d, t, GEN_APP_KEY, false, 0, 0, 0xffffffffu);
	cmd.u.session_req.session_time = (uint32_t)(t / 1000 - 5);
	cmd.u.session_req.timeout = 8;
	cmd.u.session_req.dl_freq_hz = 869525000;
	cmd.u.session_req.dr = 5;
	len = mc_cmd_bytes(&cmd, buf);
	assert_true(exchange(&d, t, MC_FPORT, buf, len, &ul));
	/* StartMissed, not McGroupUndefined */
	assert_int_equal(ul.data[1] & (MC_SESS_GROUP_UNDEFINED | MC_SESS_START_MISSED),
	                 MC_SESS_START_MISSED);
	sim_dev_free(&d);
}
