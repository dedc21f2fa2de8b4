/* fuota-sim's device logic (tools/fuota-sim/sim_dev.c) driven by hand, without a broker: the
 * PROTOCOL-NOTES vectors where they apply, a whole session (setup commands, then multicast frames
 * built with lw_frame and the group keys, then the rebuilt image verified), wrong MIC, FCnt outside
 * the window, replayed SessionCnt, StartMissed, memory limits and the misbehaviour switches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "fuota/bytes.h"
#include "fuota/clk.h"
#include "fuota/err.h"
#include "fuota/frag_cmd.h"
#include "fuota/frag_mic.h"
#include "fuota/frag_ref.h"
#include "fuota/lw_frame.h"
#include "fuota/mc.h"
#include "fuota/mc_keys.h"
#include "fuota/mc_session.h"
#include "sim_dev.h"
#include "sim_device/fixture.h"

static void test_package_versions(void **state)
{
	(void)state;
	for (int v = 1; v <= 2; v++) {
		struct sim_dev_cfg c = base_cfg(v);
		struct sim_dev d;
		dev_init(&d, &c);
		struct sim_uplink ul;
		const uint8_t req = 0x00;
		/* PackageVersionAns: PackageIdentifier | PackageVersion (PROTOCOL-NOTES §2). */
		assert_true(exchange(&d, T0_MS, CLK_FPORT, &req, 1, &ul));
		assert_int_equal(ul.port, 202);
		assert_int_equal(ul.len, 3);
		assert_memory_equal(ul.data, ((uint8_t[]){0x00, 0x01, (uint8_t)v}), 3);
		assert_true(exchange(&d, T0_MS, MC_FPORT, &req, 1, &ul));
		assert_memory_equal(ul.data, ((uint8_t[]){0x00, 0x02, (uint8_t)v}), 3);
		assert_true(exchange(&d, T0_MS, FRAG_PORT, &req, 1, &ul));
		assert_memory_equal(ul.data, ((uint8_t[]){0x00, 0x03, (uint8_t)v}), 3);
		/* Chained on one port: one uplink with both answers. */
		const uint8_t two[] = {0x00, 0x00};
		assert_true(exchange(&d, T0_MS, FRAG_PORT, two, 2, &ul));
		assert_int_equal(ul.len, 6);
		struct sim_dev_report r;
		sim_dev_get_report(&d, T0_MS, &r);
		assert_true(r.steps & SIM_STEP_PKG_VERSION);
		sim_dev_free(&d);
	}
}

static void test_clock_sync(void **state)
{
	(void)state;
	struct sim_dev_cfg c = base_cfg(2);
	c.clock_offset_ms = 123456; /* 2 minutes ahead */
	c.drift_ppm = 50;
	struct sim_dev d;
	dev_init(&d, &c);
	struct sim_uplink ul;
	assert_true(sim_dev_uplink(&d, T0_MS, false, &ul));
	assert_int_equal(ul.port, CLK_FPORT);
	struct clk_cmd req;
	size_t pos = 0;
	assert_int_equal(clk_decode(ul.data, ul.len, &pos, true, &req, NULL), FUOTA_OK);
	assert_int_equal(req.u.time_req.device_time, (uint32_t)((T0_MS + 123456) / 1000));
	assert_true(req.u.time_req.ans_required); /* not yet synchronised */

	/* An answer with the wrong token is ignored. */
	const uint8_t bad[] = {0x01, 0x00, 0x00,
	                       0x00, 0x00, (uint8_t)(req.u.time_req.token_req + 1)};
	assert_int_equal(sim_dev_downlink(&d, T0_MS, CLK_FPORT, bad, sizeof(bad)), FUOTA_OK);
	assert_true(sim_dev_clock_ms(&d, T0_MS) - T0_MS > 100000);

	/* The device asks again after its retry period and gets a real answer. */
	assert_false(sim_dev_uplink(&d, T0_MS + 5000, false, &ul));
	sync_clock(&d, T0_MS + 11000);
	struct sim_dev_report r;
	sim_dev_get_report(&d, T0_MS + 11000, &r);
	assert_true(r.steps & SIM_STEP_TIME_SYNC);
	assert_true(r.clock_error_ms > -1000 && r.clock_error_ms < 1000);
	/* No more AppTimeReq once synchronised (no periodic resync configured). */
	assert_false(sim_dev_uplink(&d, T0_MS + 600000, false, &ul));
	/* The drift shows after a day: 50 ppm = 4.32 s. */
	sim_dev_get_report(&d, T0_MS + 86400000, &r);
	assert_true(r.clock_error_ms > 3000 && r.clock_error_ms < 5500);

	/* ForceDeviceResyncReq with NbTransmissions 1 brings a new AppTimeReq. */
	const uint8_t force[] = {0x03, 0x01};
	assert_true(exchange(&d, T0_MS + 12000, CLK_FPORT, force, 2, &ul));
	assert_int_equal(ul.port, CLK_FPORT);
	assert_int_equal(ul.data[0], 0x01);
	sim_dev_free(&d);
}

static void test_group_setup_key_vectors(void **state)
{
	(void)state;
	struct sim_dev_cfg c = base_cfg(1);
	struct sim_dev d;
	dev_init(&d, &c);
	group_setup(&d, T0_MS, GEN_APP_KEY, false, 2, 0, 0xffffffffu);
	/* The device decrypted McKey and derived the PROTOCOL-NOTES §5.4 session keys. */
	assert_true(d.groups[2].defined);
	assert_int_equal(d.groups[2].mc_addr, MC_ADDR);
	assert_memory_equal(d.groups[2].app_s_key, MC_APP_S_KEY, 16);
	assert_memory_equal(d.groups[2].nwk_s_key, MC_NWK_S_KEY, 16);

	/* A LoRaWAN 1.1 device derives from its AppKey with 0x20 (§5.3): same session keys when the
	 * server encrypted McKey for that device. */
	struct sim_dev_cfg c11 = base_cfg(2);
	c11.lorawan11 = true;
	struct sim_dev d11;
	dev_init(&d11, &c11);
	group_setup(&d11, T0_MS, GEN_APP_KEY, true, 0, 0, 10);
	assert_memory_equal(d11.groups[0].app_s_key, MC_APP_S_KEY, 16);

	/* The McKey direction bug (P13): the keys come out wrong. */
	struct sim_dev_cfg cw = base_cfg(2);
	cw.misbehave = SIM_MB_WRONG_MCKEY;
	struct sim_dev dw;
	dev_init(&dw, &cw);
	group_setup(&dw, T0_MS, GEN_APP_KEY, false, 1, 0, 10);
	assert_memory_not_equal(dw.groups[1].app_s_key, MC_APP_S_KEY, 16);

	/* McGroupStatusReq for groups 1 and 2 (vector layout of §5.5): one item, group 2. */
	const uint8_t st[] = {0x01, 0x06};
	struct sim_uplink ul;
	assert_true(exchange(&d, T0_MS, MC_FPORT, st, 2, &ul));
	assert_int_equal(ul.len, 7);
	assert_memory_equal(ul.data, ((uint8_t[]){0x01, 0x14, 0x02, 0x04, 0x03, 0x02, 0x01}), 7);
	/* McGroupDeleteReq for group 3 (undefined) then 2: `03 07`, `03 02`. */
	const uint8_t del[] = {0x03, 0x03, 0x03, 0x02};
	assert_true(exchange(&d, T0_MS, MC_FPORT, del, 4, &ul));
	assert_memory_equal(ul.data, ((uint8_t[]){0x03, 0x07, 0x03, 0x02}), 4);
	assert_false(d.groups[2].defined);
	sim_dev_free(&d);
	sim_dev_free(&d11);
	sim_dev_free(&dw);
}

static void run_session(int version)
{
	struct fixture f;
	fixture_session(&f, version, 1000, true); /* M = 21, padding 8 */
	struct sim_dev *d = &f.d;

	/* Before the window opens the device is not listening. */
	assert_int_equal(fixture_frame(&f, 1, 0, f.start - 5000), FUOTA_ERR_STATE);

	int64_t t = f.start + 1500;
	sim_dev_tick(d, t);
	/* Uncoded fragments with 3 lost (indices 2, 9, 12: with M = 21 the v1 rows 1, 2 and 4 of
	 * PROTOCOL-NOTES §4.8 rebuild them), then parity frames. */
	uint32_t fcnt = 0;
	for (uint32_t n = 1; n <= f.ss.m + 10; n++, fcnt++, t += 200) {
		if (n == 3 || n == 10 || n == 13)
			continue;
		assert_int_equal(fixture_frame(&f, n, fcnt, t), FUOTA_OK);
		/* The same frame through a second gateway: a duplicate, not an error. */
		assert_int_equal(fixture_frame(&f, n, fcnt, t), FUOTA_OK);
		struct sim_dev_report r;
		sim_dev_get_report(d, t, &r);
		if (r.decoded)
			break;
	}
	struct sim_dev_report r;
	sim_dev_get_report(d, t, &r);
	assert_true(r.decoded);
	assert_true(r.verified);
	assert_true(r.sha_checked && r.sha_ok);
	assert_int_equal(r.frag_missing, 0);
	assert_int_equal(r.frag_recovered, 3);
	assert_true(r.duplicates > 0);
	assert_int_equal(r.mic_failures, 0);
	assert_int_equal(r.n_failures, 0);
	assert_true(r.steps & SIM_STEP_SESSION_OPEN);
	if (version == 2) {
		assert_true(r.mic_checked && r.mic_ok);
		/* FragDataBlockReceivedReq (FragIndex 0, no MICError) within BlockAckDelay 0 (16
		 * s). */
		struct sim_uplink ul;
		assert_true(sim_dev_uplink(d, t + 17000, false, &ul));
		assert_int_equal(ul.port, FRAG_PORT);
		assert_int_equal(ul.len, 2);
		assert_memory_equal(ul.data, ((uint8_t[]){0x04, 0x00}), 2);
		const uint8_t ack[] = {0x04, 0x00};
		assert_int_equal(sim_dev_downlink(d, t + 18000, FRAG_PORT, ack, 2), FUOTA_OK);
		sim_dev_get_report(d, t, &r);
		assert_true(r.steps & SIM_STEP_BLOCK_ACKED);
	} else {
		assert_false(r.mic_checked);
	}

	/* FragSessionStatusReq, all participants: received 28 (21 - 3 + 10... up to the end), no
	 * missing fragment, no error. */
	const uint8_t st[] = {0x01, 0x01};
	struct sim_uplink ul;
	assert_true(exchange(d, t, FRAG_PORT, st, 2, &ul));
	struct frag_cmd ans;
	size_t used = 0;
	assert_int_equal(frag_cmd_decode(ul.data, ul.len, version == 2 ? FRAG_V2 : FRAG_V1, FRAG_UP,
	                                 0, &ans, &used, NULL),
	                 FUOTA_OK);
	assert_int_equal(ans.type, FRAG_CMD_SESSION_STATUS_ANS);
	assert_int_equal(ans.u.status_ans.missing_frag, 0);
	assert_false(ans.u.status_ans.memory_error);
	/* Participants = 0: a complete device stays silent. */
	const uint8_t st0[] = {0x01, 0x00};
	assert_false(exchange(d, t, FRAG_PORT, st0, 2, &ul));

	/* FragSessionDeleteReq: `03 00`, then `03 04` (SessionDoesNotExist) the second time. */
	const uint8_t del[] = {0x03, 0x00};
	assert_true(exchange(d, t, FRAG_PORT, del, 2, &ul));
	assert_memory_equal(ul.data, ((uint8_t[]){0x03, 0x00}), 2);
	assert_true(exchange(d, t, FRAG_PORT, del, 2, &ul));
	assert_memory_equal(ul.data, ((uint8_t[]){0x03, 0x04}), 2);
	fixture_free(&f);
}

/* The device's FragSessionStatusAns (Participants as given) through exchange(), decoded; false
 * when it keeps quiet. */
static bool status_of(struct fixture *f, int64_t t, bool participants, struct frag_status_ans *a)
{
	const uint8_t req[] = {0x01, participants ? 0x01 : 0x00};
	struct sim_uplink ul;
	struct frag_cmd ans;
	size_t used = 0;

	if (!exchange(&f->d, t, FRAG_PORT, req, 2, &ul))
		return false;
	assert_int_equal(frag_cmd_decode(ul.data, ul.len, f->version == 2 ? FRAG_V2 : FRAG_V1,
	                                 FRAG_UP, 0, &ans, &used, NULL),
	                 FUOTA_OK);
	assert_int_equal(ans.type, FRAG_CMD_SESSION_STATUS_ANS);
	*a = ans.u.status_ans;
	return true;
}

/* --misbehave loramac-node: NbFragReceived is the last counter seen while decoding, MissingFrag
 * the uncoded fragments lost, kept once parity rebuilt them; Participants = 0 is answered while
 * that count is above 0, finished or not, and not while it is 0 (even with the tail lost). */
static void test_loramac_node_answers(void **state)
{
	(void)state;
	struct fixture f;
	struct frag_status_ans a;
	fixture_init(&f, 1, 1000); /* M = 21 */
	f.c.misbehave = SIM_MB_LORAMAC_NODE;
	sim_dev_free(&f.d);
	dev_init(&f.d, &f.c);
	f.start = setup_all(&f.d, &f.ss, 1, false);
	int64_t t = f.start + 1500;
	sim_dev_tick(&f.d, t);
	uint32_t fcnt = 0;
	/* Fragments 1..8: nothing lost yet; then 10..18, 9 lost. */
	for (uint32_t n = 1; n <= 8; n++, fcnt++, t += 200)
		assert_int_equal(fixture_frame(&f, n, fcnt, t), FUOTA_OK);
	assert_false(status_of(&f, t, false, &a));
	assert_true(status_of(&f, t, true, &a));
	assert_int_equal(a.nb_received, 8);
	assert_int_equal(a.missing_frag, 0);
	for (uint32_t n = 10; n <= 18; n++, fcnt++, t += 200)
		assert_int_equal(fixture_frame(&f, n, fcnt, t), FUOTA_OK);
	assert_true(status_of(&f, t, false, &a));
	assert_int_equal(a.nb_received, 18);
	assert_int_equal(a.missing_frag, 1);
	/* The rest and parity rows until the image is rebuilt: the counter stops there and the
	 * lost fragment stays counted (index 8 is in the v1 rows 1 and 2 of PROTOCOL-NOTES §4.8
	 * at most; whichever row rebuilds it, the answer says the counter of that row). */
	uint32_t done_n = 0;
	for (uint32_t n = 19; n <= f.ss.m + 10 && !done_n; n++, fcnt++, t += 200) {
		struct sim_dev_report r;
		assert_int_equal(fixture_frame(&f, n, fcnt, t), FUOTA_OK);
		sim_dev_get_report(&f.d, t, &r);
		if (r.decoded)
			done_n = n;
	}
	assert_true(done_n > f.ss.m);
	assert_int_equal(fixture_frame(&f, done_n + 1, fcnt, t), FUOTA_OK);
	assert_true(status_of(&f, t, false, &a));
	assert_int_equal(a.nb_received, done_n);
	assert_int_equal(a.missing_frag, 1);
	assert_false(a.memory_error);
	fixture_free(&f);
}

/* --misbehave lbm-missing: a v2 device after a lossless session answers MissingFrag 1,
 * NbFragReceived M; after a session with losses it answers as before. */
static void test_lbm_missing_answers(void **state)
{
	(void)state;
	for (int lossy = 0; lossy < 2; lossy++) {
		struct fixture f;
		struct frag_status_ans a;
		fixture_init(&f, 2, 1000); /* M = 21 */
		f.c.misbehave = SIM_MB_LBM_MISSING;
		sim_dev_free(&f.d);
		dev_init(&f.d, &f.c);
		f.start = setup_all(&f.d, &f.ss, 2, true);
		int64_t t = f.start + 1500;
		sim_dev_tick(&f.d, t);
		uint32_t fcnt = 0;
		struct sim_dev_report r = {0};
		for (uint32_t n = 1; n <= f.ss.m + 10 && !r.decoded; n++, fcnt++, t += 200) {
			if (lossy && n == 3)
				continue;
			assert_int_equal(fixture_frame(&f, n, fcnt, t), FUOTA_OK);
			sim_dev_get_report(&f.d, t, &r);
		}
		assert_true(r.verified);
		assert_true(status_of(&f, t, true, &a));
		assert_int_equal(a.missing_frag, lossy ? 0 : 1);
		if (!lossy)
			assert_int_equal(a.nb_received, f.ss.m);
		assert_false(a.mic_error);
		fixture_free(&f);
	}
}

/* --misbehave ts006: DevUpgradeImageReq (`04`) answers NoFirmwarePresent (`04 00`) before the
 * image, Valid with version 1 (`04 03 01 00 00 00`) once it is verified; a device without TS006
 * does not answer. */
static void test_ts006_upgrade_image(void **state)
{
	static const uint8_t req[1] = {0x04};
	struct fixture f;
	struct sim_uplink ul;
	struct sim_dev_report r = {0};

	(void)state;
	fixture_init(&f, 1, 1000);
	assert_false(exchange(&f.d, f.start, 203, req, sizeof(req), &ul));
	f.c.misbehave = SIM_MB_TS006;
	sim_dev_free(&f.d);
	dev_init(&f.d, &f.c);
	f.start = setup_all(&f.d, &f.ss, 1, true);
	int64_t t = f.start + 1500;
	sim_dev_tick(&f.d, t);
	assert_true(exchange(&f.d, t, 203, req, sizeof(req), &ul));
	assert_int_equal(ul.port, 203);
	assert_int_equal(ul.len, 2);
	assert_memory_equal(ul.data, ((uint8_t[]){0x04, 0x00}), 2);
	uint32_t fcnt = 0;
	for (uint32_t n = 1; n <= f.ss.m && !r.decoded; n++, fcnt++, t += 200) {
		assert_int_equal(fixture_frame(&f, n, fcnt, t), FUOTA_OK);
		sim_dev_get_report(&f.d, t, &r);
	}
	assert_true(r.verified);
	while (sim_dev_uplink(&f.d, t + 600000, false, &ul))
		; /* what it had queued */
	assert_true(exchange(&f.d, t, 203, req, sizeof(req), &ul));
	assert_int_equal(ul.len, 6);
	assert_memory_equal(ul.data, ((uint8_t[]){0x04, 0x03, 0x01, 0x00, 0x00, 0x00}), 6);
	fixture_free(&f);
}

/* --misbehave ts006: DevVersionReq (`01`) answers DevVersionAns with the configured FW_version
 * and HW_version, little-endian (`01 04 03 02 01 0b 0a 00 00`). */
static void test_ts006_dev_version(void **state)
{
	static const uint8_t req[1] = {0x01};
	struct sim_dev_cfg c = base_cfg(1);
	struct sim_dev d;
	struct sim_uplink ul;

	(void)state;
	c.misbehave = SIM_MB_TS006;
	c.fw_version = 0x01020304u;
	c.hw_version = 0x0a0bu;
	dev_init(&d, &c);
	assert_true(exchange(&d, T0_MS + 60000, 203, req, sizeof(req), &ul));
	assert_int_equal(ul.port, 203);
	assert_int_equal(ul.len, 9);
	assert_memory_equal(ul.data,
	                    ((uint8_t[]){0x01, 0x04, 0x03, 0x02, 0x01, 0x0b, 0x0a, 0x00, 0x00}), 9);
	sim_dev_free(&d);
}

/* DevRebootCountdownReq 30 s (`03 1e 00 00`) is echoed; the device reboots once the countdown
 * ran out (seen at its next DevVersionReq). Without a verified image it runs its old firmware
 * again, whatever image_fw_version says. */
static void test_ts006_reboot_countdown(void **state)
{
	static const uint8_t countdown[4] = {0x03, 0x1e, 0x00, 0x00}, version[1] = {0x01};
	struct sim_dev_cfg c = base_cfg(1);
	struct sim_dev d;
	struct sim_uplink ul;
	int64_t t = T0_MS + 60000;

	(void)state;
	c.misbehave = SIM_MB_TS006;
	c.fw_version = 5;
	c.image_fw_version = 6;
	dev_init(&d, &c);
	assert_true(exchange(&d, t, 203, countdown, sizeof(countdown), &ul));
	assert_int_equal(ul.len, 4);
	assert_memory_equal(ul.data, countdown, 4);
	assert_true(exchange(&d, t + 29000, 203, version, sizeof(version), &ul));
	assert_int_equal(ul.data[1], 5);
	assert_int_equal(d.rep.counts.reboots, 0);
	assert_true(exchange(&d, t + 31000, 203, version, sizeof(version), &ul));
	assert_int_equal(d.rep.counts.reboots, 1);
	assert_int_equal(ul.data[1], 5); /* no verified image: the old firmware */
	sim_dev_free(&d);
}

/* --misbehave lbm-resync: no AppTimeReq of its own; after ForceDeviceResyncReq its AppTimeReq
 * leaves 6 to 10 s later, not at once (a plain device sends it at its next uplink). */
static void test_lbm_resync_delay(void **state)
{
	/* ForceDeviceResyncReq, NbTransmissions 1 (PROTOCOL-NOTES §3). */
	static const uint8_t force[] = {0x03, 0x01};

	(void)state;
	for (int lbm = 0; lbm < 2; lbm++) {
		struct sim_dev_cfg c = base_cfg(2);
		struct sim_dev d;
		struct sim_uplink ul;
		int64_t t = T0_MS + 60000, first = 0;

		c.misbehave = lbm ? SIM_MB_LBM_RESYNC : 0;
		dev_init(&d, &c);
		if (lbm)
			assert_false(sim_dev_uplink(&d, T0_MS + 1000, false, &ul));
		else
			sync_clock(&d, T0_MS);
		assert_int_equal(sim_dev_downlink(&d, t, CLK_FPORT, force, sizeof(force)),
		                 FUOTA_OK);
		for (int64_t at = t; at <= t + 20000 && !first; at += 500)
			if (sim_dev_uplink(&d, at, false, &ul)) {
				assert_int_equal(ul.port, CLK_FPORT);
				assert_int_equal(ul.data[0], CLK_CID_APP_TIME);
				first = at;
			}
		if (lbm) {
			assert_true(first >= t + SIM_LBM_RESYNC_MIN_MS);
			assert_true(first <= t + SIM_LBM_RESYNC_MAX_MS + 500);
		} else {
			assert_int_equal(first, t);
		}
		sim_dev_free(&d);
	}
}

static void test_whole_session_v1(void **state)
{
	(void)state;
	run_session(1);
}

static void test_whole_session_v2(void **state)
{
	(void)state;
	run_session(2);
}

static void test_wrong_mic(void **state)
{
	(void)state;
	struct fixture f;
	fixture_session(&f, 2, 480, false);
	struct sim_dev *d = &f.d;
	int64_t t = f.start + 1000;
	uint8_t phy[256], wrong[16];
	memcpy(wrong, MC_NWK_S_KEY, 16);
	wrong[0] ^= 1;
	size_t len = mc_frame(&f.ss, 2, 1, 0, MC_APP_S_KEY, wrong, phy);
	assert_int_equal(sim_dev_multicast(d, t, 869525000, phy, len), FUOTA_ERR_MALFORMED);
	/* An altered byte fails the same way. */
	len = mc_frame(&f.ss, 2, 1, 0, MC_APP_S_KEY, MC_NWK_S_KEY, phy);
	phy[12] ^= 0x40;
	assert_int_equal(sim_dev_multicast(d, t, 869525000, phy, len), FUOTA_ERR_MALFORMED);
	struct sim_dev_report r;
	sim_dev_get_report(d, t, &r);
	assert_int_equal(r.mic_failures, 2);
	assert_int_equal(r.fragments, 0);
	assert_int_equal(r.n_failures, 1);
	assert_non_null(strstr(r.failures[0].text, "MIC"));
	assert_int_equal(r.failures[0].count, 2);
	/* The genuine frame is still accepted afterwards. */
	assert_int_equal(fixture_frame(&f, 1, 0, t), FUOTA_OK);
	/* A frame on another channel is not heard. */
	len = mc_frame(&f.ss, 2, 2, 1, MC_APP_S_KEY, MC_NWK_S_KEY, phy);
	assert_int_equal(sim_dev_multicast(d, t, 868100000, phy, len), FUOTA_ERR_STATE);
	fixture_free(&f);
}

static void test_fcnt_window(void **state)
{
	(void)state;
	struct fixture f;
	fixture_session(&f, 2, 480, false);
	struct sim_dev *d = &f.d;
	/* Redefine the group with the window [100, 200]. */
	group_setup(d, T0_MS, GEN_APP_KEY, false, 0, 100, 200);
	/* ...which dropped the session: set it again. */
	uint8_t buf[16];
	struct mc_cmd cmd = {.cid = MC_CID_CLASS_C_SESSION};
	cmd.u.session_req.session_time = (uint32_t)(f.start / 1000);
	cmd.u.session_req.timeout = 8;
	cmd.u.session_req.dl_freq_hz = 869525000;
	cmd.u.session_req.dr = 5;
	size_t blen = mc_cmd_bytes(&cmd, buf);
	struct sim_uplink ul;
	assert_true(exchange(d, T0_MS, MC_FPORT, buf, blen, &ul));

	int64_t t = f.start + 1000;
	assert_int_equal(fixture_frame(&f, 1, 50, t), FUOTA_ERR_MALFORMED);
	assert_int_equal(fixture_frame(&f, 1, 150, t), FUOTA_OK);
	assert_int_equal(fixture_frame(&f, 2, 149, t), FUOTA_ERR_MALFORMED); /* replayed older */
	assert_int_equal(fixture_frame(&f, 2, 201, t), FUOTA_ERR_MALFORMED); /* past max */
	assert_int_equal(fixture_frame(&f, 2, 200, t), FUOTA_OK);
	struct sim_dev_report r;
	sim_dev_get_report(d, t, &r);
	assert_int_equal(r.fcnt_rejected, 3);
	assert_int_equal(r.mc_accepted, 2);
	assert_int_equal(r.fragments, 2);
	fixture_free(&f);
}

static void test_session_cnt_replay(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f, 2, 480);
	struct sim_dev *d = &f.d;
	struct session *ss = &f.ss;
	uint8_t buf[64];
	struct sim_uplink ul;
	size_t len = setup_req_bytes(ss, 2, 5, false, GEN_APP_KEY, buf, NULL);
	assert_true(exchange(d, T0_MS, FRAG_PORT, buf, len, &ul));
	assert_memory_equal(ul.data, ((uint8_t[]){0x02, 0x00}), 2);
	/* The same SessionCnt again: bit 4 (replay), the session is refused. */
	assert_true(exchange(d, T0_MS, FRAG_PORT, buf, len, &ul));
	assert_memory_equal(ul.data, ((uint8_t[]){0x02, 0x10}), 2);
	len = setup_req_bytes(ss, 2, 4, false, GEN_APP_KEY, buf, NULL);
	assert_true(exchange(d, T0_MS, FRAG_PORT, buf, len, &ul));
	assert_memory_equal(ul.data, ((uint8_t[]){0x02, 0x10}), 2);
	len = setup_req_bytes(ss, 2, 6, false, GEN_APP_KEY, buf, NULL);
	assert_true(exchange(d, T0_MS, FRAG_PORT, buf, len, &ul));
	assert_memory_equal(ul.data, ((uint8_t[]){0x02, 0x00}), 2);
	struct sim_dev_report r;
	sim_dev_get_report(d, T0_MS, &r);
	assert_int_equal(r.n_failures, 1);
	assert_non_null(strstr(r.failures[0].text, "SessionCnt replay"));
	assert_int_equal(r.failures[0].count, 2);
	fixture_free(&f);
}

static void test_start_missed(void **state)
{
	(void)state;
	for (int v = 1; v <= 2; v++) {
		struct sim_dev_cfg c = base_cfg(v);
		struct sim_dev d;
		dev_init(&d, &c);
		sync_clock(&d, T0_MS);
		group_setup(&d, T0_MS, GEN_APP_KEY, false, 1, 0, 0xffffffffu);
		uint8_t buf[16];
		struct mc_cmd cmd = {.cid = MC_CID_CLASS_C_SESSION};
		cmd.u.session_req.group_id = 1;
		cmd.u.session_req.session_time = (uint32_t)(T0_MS / 1000 - 30);
		cmd.u.session_req.timeout = 4;
		cmd.u.session_req.dl_freq_hz = 869525000;
		cmd.u.session_req.dr = 0;
		size_t len = mc_cmd_bytes(&cmd, buf);
		struct sim_uplink ul;
		assert_true(exchange(&d, T0_MS, MC_FPORT, buf, len, &ul));
		/* v2: StartMissed (0x20) without TimeToStart; v1: McGroupUndefined (0x10, P11). */
		assert_int_equal(ul.len, 2);
		assert_int_equal(ul.data[0], 0x04);
		assert_int_equal(ul.data[1], (v == 2 ? 0x20 : 0x10) | 0x01);
		assert_false(d.groups[1].has_session);
		/* An unknown group and a bad frequency/DR: McGroupUndefined, FreqError, DRError. */
		cmd.u.session_req.group_id = 3;
		cmd.u.session_req.session_time = (uint32_t)(T0_MS / 1000 + 30);
		cmd.u.session_req.dl_freq_hz = 915000000;
		cmd.u.session_req.dr = 12;
		len = mc_cmd_bytes(&cmd, buf);
		assert_true(exchange(&d, T0_MS, MC_FPORT, buf, len, &ul));
		assert_int_equal(ul.len, 2);
		assert_int_equal(ul.data[1], 0x1c | 0x03);
		/* Class B: TimeToStart of a synchronised device. */
		struct mc_cmd b = {.cid = MC_CID_CLASS_B_SESSION};
		b.u.session_req.group_id = 1;
		b.u.session_req.session_time = (uint32_t)(T0_MS / 1000 + 256);
		b.u.session_req.timeout = 2;
		b.u.session_req.periodicity = 4;
		b.u.session_req.dl_freq_hz = 869525000;
		b.u.session_req.dr = 3;
		len = mc_cmd_bytes(&b, buf);
		assert_true(exchange(&d, T0_MS, MC_FPORT, buf, len, &ul));
		assert_int_equal(ul.len, 5);
		assert_int_equal(ul.data[1], 0x01);
		assert_in_range(fuota_get_le24(ul.data + 2), 255, 257);
		assert_int_equal(d.groups[1].duration_s, 4 * 128);
		sim_dev_free(&d);
	}
}

static void test_memory_and_reject(void **state)
{
	(void)state;
	struct session ss;
	make_image(&ss, 4800, 48); /* M = 100 */
	uint8_t buf[64];
	struct sim_uplink ul;

	struct sim_dev_cfg c = base_cfg(1);
	c.mem_limit = sim_dev_frag_mem(ss.m, ss.s) - 1;
	struct sim_dev d;
	dev_init(&d, &c);
	size_t len = setup_req_bytes(&ss, 1, 0, false, GEN_APP_KEY, buf, NULL);
	assert_true(exchange(&d, T0_MS, FRAG_PORT, buf, len, &ul));
	assert_memory_equal(ul.data, ((uint8_t[]){0x02, 0x02}), 2); /* NotEnoughMemory */
	sim_dev_free(&d);

	c.mem_limit = 1 << 20;
	c.misbehave = SIM_MB_REJECT_FRAG;
	dev_init(&d, &c);
	assert_true(exchange(&d, T0_MS, FRAG_PORT, buf, len, &ul));
	assert_memory_equal(ul.data, ((uint8_t[]){0x02, 0x02}), 2);
	sim_dev_free(&d);

	/* A FragAlgo the device does not know. */
	c.misbehave = 0;
	dev_init(&d, &c);
	buf[5] |= 0x08; /* Control: FragAlgo 1 */
	assert_true(exchange(&d, T0_MS, FRAG_PORT, buf, len, &ul));
	assert_memory_equal(ul.data, ((uint8_t[]){0x02, 0x01}), 2);
	sim_dev_free(&d);

	/* Silent: nothing ever comes back; late: only after late_s. */
	c.misbehave = SIM_MB_SILENT;
	dev_init(&d, &c);
	const uint8_t req = 0x00;
	sim_dev_downlink(&d, T0_MS, FRAG_PORT, &req, 1);
	assert_false(sim_dev_uplink(&d, T0_MS + 3600000, false, &ul));
	sim_dev_free(&d);
	c.misbehave = SIM_MB_LATE;
	c.late_s = 30;
	dev_init(&d, &c);
	sim_dev_downlink(&d, T0_MS, FRAG_PORT, &req, 1);
	assert_true(sim_dev_uplink(&d, T0_MS + 1000, false, &ul));
	assert_int_equal(ul.port, CLK_FPORT); /* only its AppTimeReq */
	assert_false(sim_dev_uplink(&d, T0_MS + 2000, false, &ul));
	assert_true(sim_dev_uplink(&d, T0_MS + 31000, false, &ul));
	assert_int_equal(ul.port, FRAG_PORT);
	sim_dev_free(&d);
	free(ss.image);
}

/* The session closes before enough frames came: a failure with the reason; the device is finished
 * once the done grace passed without a request. */
static void test_session_end_unrebuilt(void **state)
{
	(void)state;
	struct fixture f;
	fixture_session(&f, 1, 480, false);
	struct sim_dev *d = &f.d;
	assert_int_equal(fixture_frame(&f, 1, 0, f.start + 1000), FUOTA_OK);
	assert_false(sim_dev_finished(d, f.start + 1000));
	int64_t end = f.start + SESSION_MS + 2000;
	sim_dev_tick(d, end);
	assert_false(sim_dev_finished(d, end));
	assert_false(sim_dev_finished(d, end + GRACE_MS - 1));
	assert_true(sim_dev_finished(d, end + GRACE_MS));
	struct sim_dev_report r;
	sim_dev_get_report(d, end + GRACE_MS, &r);
	assert_true(r.finished);
	assert_false(r.decoded);
	assert_true(r.steps & SIM_STEP_SESSION_END);
	assert_int_equal(r.n_failures, 1);
	assert_non_null(strstr(r.failures[0].text, "9 of 10 fragments missing"));
	fixture_free(&f);
}

/* Class B ping slots: ChirpStack classb.rs test_get_next_ping_slot_after (DevAddr 0, the vectors
 * test_mc.c checks) and mc_classb_next_slot for another McAddr; a frame a slot's length away, or
 * more than the tolerance off, is not on a slot. */
static void test_ping_slots(void **state)
{
	(void)state;
	static const struct {
		uint8_t periodicity;
		int64_t slot_ms;
	} v[] = {{7, 74300}, {7, 185620}, {6, 12860}, {6, 74300}, {0, 124220}};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t p = v[i].periodicity;
		int64_t t = v[i].slot_ms;
		assert_true(sim_dev_on_ping_slot(0, p, t, 0));
		assert_true(sim_dev_on_ping_slot(0, p, t + 5, 5));
		assert_true(sim_dev_on_ping_slot(0, p, t - 5, 5));
		assert_false(sim_dev_on_ping_slot(0, p, t + 6, 5));
		assert_false(sim_dev_on_ping_slot(0, p, t - 6, 5));
		assert_false(sim_dev_on_ping_slot(0, p, t + 15, 5));
	}
	/* pingNb 1: 74.300 s is the only slot of the first period; 64 slots (1.92 s) later is
	 * none, as is the same offset in a later period (the offset changes per beacon). */
	assert_false(sim_dev_on_ping_slot(0, 7, 74300 + 1920, 5));
	assert_false(sim_dev_on_ping_slot(0, 7, 74300 + 128000, 5));
	/* The beacon-reserved time holds no slot. */
	assert_false(sim_dev_on_ping_slot(0, 0, 1000, 5));
	assert_false(sim_dev_on_ping_slot(0, 8, 74300, 5)); /* no periodicity 8 */

	/* Every slot mc_classb_next_slot gives for MC_ADDR over a few periods is one, and the
	 * middle between two slots is none. */
	for (uint8_t p = 0; p < 8; p++) {
		struct mc_classb_session cs = {.mc_addr = MC_ADDR,
		                               .start_s = T0_MS / 1000 / 128 * 128,
		                               .timeout = 8,
		                               .periodicity = p,
		                               .dl_freq_hz = 869525000};
		int64_t after = cs.start_s * 1000;
		uint32_t period;
		assert_int_equal(mc_ping_period_slots(p, &period), FUOTA_OK);
		for (int k = 0; k < 40; k++) {
			struct mc_slot slot;
			assert_int_equal(mc_classb_next_slot(&cs, after, &slot), FUOTA_OK);
			assert_true(sim_dev_on_ping_slot(MC_ADDR, p, slot.start_ms, 0));
			assert_true(sim_dev_on_ping_slot(MC_ADDR, p, slot.start_ms + 3,
			                                 SIM_PING_SLOT_TOL_MS));
			assert_false(sim_dev_on_ping_slot(MC_ADDR, p,
			                                  slot.start_ms + (int64_t)period * 15,
			                                  SIM_PING_SLOT_TOL_MS));
			after = slot.start_ms + 1000 * (int64_t)(k % 3); /* skip a few at times */
		}
	}
}

/* A class B session: the device receives a frame that starts at one of its ping slots and drops
 * (and counts) one that starts between them, as its receiver is off then. */
static void test_classb_session_slots(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f, 1, 480);
	struct sim_dev *d = &f.d;
	int64_t now = T0_MS;
	sync_clock(d, now);
	group_setup(d, now, GEN_APP_KEY, false, 0, 0, 0xffffffffu);
	uint8_t buf[64];
	struct sim_uplink ul;
	size_t len = setup_req_bytes(&f.ss, 1, 0, false, GEN_APP_KEY, buf, NULL);
	assert_true(exchange(d, now, FRAG_PORT, buf, len, &ul));
	uint32_t start_s = mc_classb_align((uint32_t)(now / 1000 + 300));
	struct mc_cmd b = {.cid = MC_CID_CLASS_B_SESSION};
	b.u.session_req.group_id = 0;
	b.u.session_req.session_time = start_s;
	b.u.session_req.timeout = 1; /* 2 beacon periods */
	b.u.session_req.periodicity = 5;
	b.u.session_req.dl_freq_hz = 869525000;
	b.u.session_req.dr = 3;
	len = mc_cmd_bytes(&b, buf);
	assert_true(exchange(d, now, MC_FPORT, buf, len, &ul));
	assert_int_equal(ul.data[1], 0x00); /* accepted */

	struct mc_classb_session cs = {.mc_addr = MC_ADDR,
	                               .start_s = start_s,
	                               .timeout = 1,
	                               .periodicity = 5,
	                               .dl_freq_hz = 869525000};
	struct mc_slot slot;
	assert_int_equal(mc_classb_next_slot(&cs, (int64_t)start_s * 1000 + 2000, &slot), FUOTA_OK);
	uint8_t phy[256];
	len = mc_frame(&f.ss, 1, 1, 0, MC_APP_S_KEY, MC_NWK_S_KEY, phy);
	/* 40 ms late: between slots (they are 2^(5+5) x 30 ms = 30.72 s apart). */
	assert_int_equal(sim_dev_multicast_air(d, slot.start_ms + 40, slot.start_ms + 140,
	                                       869525000, phy, len),
	                 FUOTA_ERR_STATE);
	/* On the slot (2 ms late: within the tolerance), 100 ms on air. */
	assert_int_equal(sim_dev_multicast_air(d, slot.start_ms + 2, slot.start_ms + 102, 869525000,
	                                       phy, len),
	                 FUOTA_OK);
	struct sim_dev_report r;
	sim_dev_get_report(d, slot.start_ms + 200, &r);
	assert_int_equal(r.off_slot, 1);
	assert_int_equal(r.mc_accepted, 1);
	assert_int_equal(r.fragments, 1);
	assert_int_equal(r.n_failures, 0);
	fixture_free(&f);
}

/* Every fragment of the fixture's session from f.start + 1 s, 200 ms apart: the device rebuilds
 * and verifies the image. Returns the time of the last frame. */
static int64_t fixture_send_all(struct fixture *f)
{
	int64_t t = f->start + 1000;
	sim_dev_tick(&f->d, t);
	for (uint32_t n = 1; n <= f->ss.m; n++, t += 200)
		assert_int_equal(fixture_frame(f, n, n - 1, t), FUOTA_OK);
	struct sim_dev_report r;
	sim_dev_get_report(&f->d, t, &r);
	assert_true(r.verified);
	return t;
}

/* Sends a unicast downlink at t; the device is not finished before its answer, which goes at an
 * uplink 20 s later (after a BlockAckDelay-0 wait of up to 16 s). Returns that uplink's time. */
static int64_t answered(struct sim_dev *d, int64_t t, uint8_t port, const uint8_t *req, size_t len,
                        struct sim_uplink *ul)
{
	sim_dev_downlink(d, t, port, req, len);
	assert_false(sim_dev_finished(d, t)); /* its answer is still to be sent */
	assert_true(sim_dev_uplink(d, t + 20000, false, ul));
	assert_int_equal(ul->port, port);
	return t + 20000;
}

/* --until-done: a verified device is not finished while the server may still ask its status and
 * delete its session and group; it is once both deletes are answered (fuotad's cleanup:
 * FragSessionDeleteReq, then McGroupDeleteReq), in either order; one delete alone leaves
 * something set up. A delete of nothing does not finish a device either. */
static void test_finished_when_server_ends(void **state)
{
	(void)state;
	for (int order = 0; order < 2; order++) {
		for (int v = 1; v <= 2; v++) {
			struct fixture f;
			fixture_init(&f, v, 480);
			struct sim_dev *d = &f.d;
			struct sim_uplink ul;
			const uint8_t frag_del[] = {0x03, 0x00}, mc_del[] = {0x03, 0x00};
			/* Deleting what was never set up: answered, but not an end. */
			answered(d, T0_MS, FRAG_PORT, frag_del, 2, &ul);
			assert_int_equal(ul.data[1], 0x04); /* SessionDoesNotExist */
			answered(d, T0_MS, MC_FPORT, mc_del, 2, &ul);
			assert_false(sim_dev_finished(d, T0_MS + 40000));
			sim_dev_free(d);
			dev_init(d, &f.c);

			f.start = setup_all(d, &f.ss, v, false);
			int64_t t = fixture_send_all(&f);
			assert_false(sim_dev_finished(d, t));
			assert_false(sim_dev_finished(d, t + GRACE_MS)); /* the session is open */

			/* The status step: answered (after BlockAckDelay), still not finished. */
			const uint8_t st[] = {0x01, 0x01};
			t = answered(d, t + 5000, FRAG_PORT, st, 2, &ul);
			assert_false(sim_dev_finished(d, t));

			/* The cleanup step. */
			t = answered(d, t, order ? MC_FPORT : FRAG_PORT, order ? mc_del : frag_del,
			             2, &ul);
			assert_false(sim_dev_finished(d, t)); /* its group (or session) is left */
			t = answered(d, t, order ? FRAG_PORT : MC_FPORT, order ? frag_del : mc_del,
			             2, &ul);
			assert_true(sim_dev_finished(d, t)); /* at once, the session still open */
			struct sim_dev_report r;
			sim_dev_get_report(d, t, &r);
			assert_true(r.finished && r.in_campaign && r.verified);
			assert_true(r.steps & SIM_STEP_FRAG_DELETE);
			assert_true(r.steps & SIM_STEP_MC_DELETE);
			assert_true(t < f.start + SESSION_MS);
			fixture_free(&f);
		}
	}
}

/* A verified device whose multicast session ended is finished once the done grace passed with
 * no FUOTA downlink; a request within the grace starts it again. --done-grace sets it. */
static void test_finished_after_grace(void **state)
{
	(void)state;
	struct fixture f;
	fixture_session(&f, 1, 480, false);
	struct sim_dev *d = &f.d;
	fixture_send_all(&f);
	int64_t end = f.start + SESSION_MS + 500;
	sim_dev_tick(d, end);
	struct sim_dev_report r;
	sim_dev_get_report(d, end, &r);
	assert_true(r.steps & SIM_STEP_SESSION_END);
	assert_false(sim_dev_finished(d, end + GRACE_MS - 1));
	assert_true(sim_dev_finished(d, end + GRACE_MS));

	/* FragSessionStatusReq 10 s after the end: the grace counts from that downlink. */
	struct sim_uplink ul;
	const uint8_t st[] = {0x01, 0x01};
	int64_t t = end + 10000;
	answered(d, t, FRAG_PORT, st, 2, &ul);
	assert_false(sim_dev_finished(d, end + GRACE_MS));
	assert_false(sim_dev_finished(d, t + GRACE_MS - 1));
	assert_true(sim_dev_finished(d, t + GRACE_MS));
	fixture_free(&f);

	/* A larger BlockAckDelay lengthens the default grace; a set one (--done-grace) replaces
	 * it. */
	for (int set = 0; set < 2; set++) {
		struct fixture g;
		fixture_init(&g, 1, 480);
		g.c.done_grace_ms = set ? 5000 : -1;
		dev_init(&g.d, &g.c);
		g.start = setup_all(&g.d, &g.ss, 1, false);
		uint8_t buf[64];
		size_t len = setup_req_bytes(&g.ss, 1, 0, false, GEN_APP_KEY, buf, NULL);
		buf[5] |= 0x03; /* Control: BlockAckDelay 3, answers spread over 2^7 s */
		answered(&g.d, T0_MS, FRAG_PORT, buf, len, &ul);
		assert_int_equal(ul.data[1], 0x00);
		fixture_send_all(&g);
		sim_dev_tick(&g.d, end);
		int64_t grace = set ? 5000 : 2 * 10000 + 128000;
		assert_false(sim_dev_finished(&g.d, end + grace - 1));
		assert_true(sim_dev_finished(&g.d, end + grace));
		fixture_free(&g);
	}
}

/* A device that failed (here: it refused FragSessionSetupReq) or never answers is finished once
 * the grace passed after the server's last request; a device that only synchronises its clock
 * took part in no campaign and is never counted. */
static void test_finished_failed_silent_outside(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f, 2, 480);
	f.c.misbehave = SIM_MB_REJECT_FRAG;
	dev_init(&f.d, &f.c);
	struct sim_uplink ul;
	uint8_t buf[64];
	size_t len = setup_req_bytes(&f.ss, 2, 1, false, GEN_APP_KEY, buf, NULL);
	int64_t t = answered(&f.d, T0_MS, FRAG_PORT, buf, len, &ul) - 20000;
	assert_int_equal(ul.data[1], 0x02); /* NotEnoughMemory */
	assert_false(sim_dev_finished(&f.d, t + GRACE_MS - 1));
	assert_true(sim_dev_finished(&f.d, t + GRACE_MS));
	/* The server asks again: not finished until the grace passed once more. */
	answered(&f.d, t + GRACE_MS + 1000, FRAG_PORT, buf, len, &ul);
	assert_false(sim_dev_finished(&f.d, t + 2 * GRACE_MS));
	assert_true(sim_dev_finished(&f.d, t + 2 * GRACE_MS + 1000));
	fixture_free(&f);

	/* Silent: its requests go unanswered; finished once the server stopped asking. */
	struct sim_dev_cfg c = base_cfg(1);
	c.misbehave = SIM_MB_SILENT;
	struct sim_dev d;
	dev_init(&d, &c);
	const uint8_t req = 0x00;
	for (int i = 0; i < 3; i++)
		sim_dev_downlink(&d, T0_MS + i * 30000, MC_FPORT, &req, 1);
	assert_true(sim_dev_in_campaign(&d));
	assert_false(sim_dev_finished(&d, T0_MS + 60000 + GRACE_MS - 1));
	assert_true(sim_dev_finished(&d, T0_MS + 60000 + GRACE_MS));
	sim_dev_free(&d);

	/* Clock sync only (port 202): in no campaign, never finished, not counted. */
	c = base_cfg(1);
	dev_init(&d, &c);
	sync_clock(&d, T0_MS);
	const uint8_t force[] = {0x03, 0x01};
	struct sim_uplink ul2;
	sim_dev_downlink(&d, T0_MS + 1000, CLK_FPORT, force, 2);
	assert_true(sim_dev_uplink(&d, T0_MS + 2000, false, &ul2));
	assert_int_equal(ul2.port, CLK_FPORT);
	assert_false(sim_dev_in_campaign(&d));
	assert_false(sim_dev_finished(&d, T0_MS + 86400000));
	struct sim_dev_report r;
	sim_dev_get_report(&d, T0_MS + 86400000, &r);
	assert_false(r.in_campaign || r.finished);
	sim_dev_free(&d);
}

/* Bytes that are no valid command do not crash the device and are reported. */
static void test_garbage(void **state)
{
	(void)state;
	struct sim_dev_cfg c = base_cfg(2);
	struct sim_dev d;
	dev_init(&d, &c);
	const uint8_t short_setup[] = {0x02, 0x00, 0x04};
	assert_int_equal(sim_dev_downlink(&d, T0_MS, MC_FPORT, short_setup, 3),
	                 FUOTA_ERR_MALFORMED);
	const uint8_t unknown[] = {0x7f};
	assert_int_equal(sim_dev_downlink(&d, T0_MS, FRAG_PORT, unknown, 1), FUOTA_ERR_MALFORMED);
	assert_int_equal(sim_dev_downlink(&d, T0_MS, CLK_FPORT, unknown, 1), FUOTA_ERR_MALFORMED);
	assert_int_equal(sim_dev_downlink(&d, T0_MS, 77, unknown, 1), FUOTA_OK);
	const uint8_t junk[] = {0x40, 0x01};
	assert_int_equal(sim_dev_multicast(&d, T0_MS, 869525000, junk, 2), FUOTA_ERR_NOT_FOUND);
	struct sim_dev_report r;
	sim_dev_get_report(&d, T0_MS, &r);
	assert_int_equal(r.n_failures, 3);
	sim_dev_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_package_versions),
	        cmocka_unit_test(test_clock_sync),
	        cmocka_unit_test(test_group_setup_key_vectors),
	        cmocka_unit_test(test_whole_session_v1),
	        cmocka_unit_test(test_whole_session_v2),
	        cmocka_unit_test(test_loramac_node_answers),
	        cmocka_unit_test(test_lbm_missing_answers),
	        cmocka_unit_test(test_lbm_resync_delay),
	        cmocka_unit_test(test_ts006_upgrade_image),
	        cmocka_unit_test(test_ts006_dev_version),
	        cmocka_unit_test(test_ts006_reboot_countdown),
	        cmocka_unit_test(test_wrong_mic),
	        cmocka_unit_test(test_fcnt_window),
	        cmocka_unit_test(test_session_cnt_replay),
	        cmocka_unit_test(test_start_missed),
	        cmocka_unit_test(test_memory_and_reject),
	        cmocka_unit_test(test_session_end_unrebuilt),
	        cmocka_unit_test(test_garbage),
	        cmocka_unit_test(test_ping_slots),
	        cmocka_unit_test(test_classb_session_slots),
	        cmocka_unit_test(test_finished_when_server_ends),
	        cmocka_unit_test(test_finished_after_grace),
	        cmocka_unit_test(test_finished_failed_silent_outside),
	        cmocka_unit_test(test_knob_at_once),
	        cmocka_unit_test(test_knob_lose_frags_and_counts),
	        cmocka_unit_test(test_knob_lost_beyond_memory),
	        cmocka_unit_test(test_knob_bad_mic_claim_valid),
	        cmocka_unit_test(test_knob_clock_set),
	        cmocka_unit_test(test_memo_three_gateways),
	        cmocka_unit_test(test_memo_other_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
