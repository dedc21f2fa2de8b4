/* The unicast side of a job: each device's requests (TS005 on port_mc, TS004 on port_frag, the
 * package versions on the three ports), their retries, and the answers that move the device on.
 *
 * A request is sent only after its attempt and its new deadline are committed, so a crash between
 * the two can only cost a retry. An answer is applied with a conditional update (only while the
 * device is in the step the answer belongs to), so a late or duplicated answer changes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine_int.h"
#include "fuota/cbox.h"
#include "fuota/clk.h"
#include "fuota/engine_judge.h"
#include "fuota/err.h"
#include "fuota/frag_part.h"
#include "fuota/plan_parts.h"
#include "fuota/fmp.h"
#include "fuota/frag_cmd.h"
#include "fuota/log.h"
#include "fuota/lw_gps.h"
#include "fuota/mc.h"
#include "fuota/mc_keys.h"
#include "fuota/round_wait.h"

#define MAX_DL 3

struct dl {
	uint8_t port;
	uint8_t data[64];
	size_t len;
};

/* Associated data of a device's key box, as the API seals it (api_device.c). */
static size_t dev_key_aad(int64_t tenant, const char *dev_eui, char *out, size_t cap)
{
	int n = snprintf(out, cap, "device:%lld:%s", (long long)tenant, dev_eui);

	return n > 0 ? (size_t)n : 0;
}

int engine_dev_root_key(struct engine *e, const struct seng_dev *d, uint8_t key[16])
{
	char aad[64];

	return cbox_open(e->cfg.master_key, d->key_box, d->key_box_len, (const uint8_t *)aad,
	                 dev_key_aad(d->tenant, d->dev_eui, aad, sizeof(aad)), key, 16);
}

static int frag_version_of(const struct seng_dev *d)
{
	return d->ts004 >= 2 ? 2 : 1;
}

static int mc_version_of(const struct seng_dev *d)
{
	return d->ts005 >= 2 ? 2 : 1;
}

static int add_mc(struct dl *dl, size_t *n, const struct mc_cmd *cmd, uint8_t port)
{
	size_t pos = 0;
	int rc = mc_encode(cmd, dl[*n].data, sizeof(dl[*n].data), &pos);

	if (rc != FUOTA_OK)
		return rc;
	dl[*n].port = port;
	dl[(*n)++].len = pos;
	return FUOTA_OK;
}

static int add_frag(struct dl *dl, size_t *n, const struct frag_cmd *cmd, int version, uint8_t port)
{
	size_t len = 0;
	int rc = frag_cmd_encode(cmd, version >= 2 ? FRAG_V2 : FRAG_V1, dl[*n].data,
	                         sizeof(dl[*n].data), &len);

	if (rc != FUOTA_OK)
		return rc;
	dl[*n].port = port;
	dl[(*n)++].len = len;
	return FUOTA_OK;
}

static int req_mc_setup(struct engine *e, const struct seng_job *j, const struct seng_dev *d,
                        struct dl *dl, size_t *n)
{
	struct engine_cache *c = engine_cache_get(e, j);
	uint8_t root[16], kek[16];
	struct mc_cmd cmd;
	int rc;

	if (!c)
		return FUOTA_ERR_IO;
	rc = engine_dev_root_key(e, d, root);
	if (rc != FUOTA_OK)
		return rc;
	/* P13: a 1.0.x device derives McRootKey from its GenAppKey, a 1.1 device from AppKey. */
	if (strcmp(d->key_kind, "app_key") == 0)
		rc = mc_root_key_from_app_key(root, root);
	else
		rc = mc_root_key_from_gen_app_key(root, root);
	if (rc == FUOTA_OK)
		rc = mc_ke_key_from_root(root, kek);
	memset(&cmd, 0, sizeof(cmd));
	cmd.cid = MC_CID_GROUP_SETUP;
	cmd.u.setup_req.group_id = 0;
	cmd.u.setup_req.mc_addr = c->mc_addr;
	/* In a group reused from an earlier job, the frames sent before are never accepted again.
	 */
	cmd.u.setup_req.min_fcnt = mc_reuse_min_fcnt(j->mc_reused, j->mc_fcnt);
	cmd.u.setup_req.max_fcnt = UINT32_MAX;
	if (rc == FUOTA_OK)
		rc = mc_key_encrypt(kek, c->mc_key, cmd.u.setup_req.mc_key_encrypted);
	if (rc == FUOTA_OK)
		rc = add_mc(dl, n, &cmd, e->cfg.port_mc);
	memset(root, 0, sizeof(root));
	memset(kek, 0, sizeof(kek));
	return rc;
}

static int req_frag_setup(struct engine *e, const struct seng_job *j, const struct seng_dev *d,
                          struct dl *dl, size_t *n, struct seng_dev_update *u)
{
	struct engine_cache *c = engine_cache_get(e, j);
	int version = frag_version_of(d);
	int index = 0;
	struct frag_cmd cmd;
	int rc;

	if (!c)
		return FUOTA_ERR_IO;
	/* Each TS004 version has its own session (FragIndex) in the job: v1 and v2 parity rows
	 * differ, and a device decodes only the fragments of its own session. */
	if (c->frag_index_known[version]) {
		index = c->frag_index[version];
	} else {
		rc = seng_session_index(e->store, j->id, version, &index);
		if (rc != FUOTA_OK)
			return rc == FUOTA_ERR_NOT_FOUND ? FUOTA_ERR_IO : rc;
		c->frag_index[version] = index;
		c->frag_index_known[version] = true;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = FRAG_CMD_SESSION_SETUP_REQ;
	cmd.u.setup_req.frag_index = (uint8_t)(index & 0x03);
	cmd.u.setup_req.mc_group_mask = 0x01; /* group 0 only */
	cmd.u.setup_req.nb_frag = (uint16_t)j->nb_frag;
	cmd.u.setup_req.frag_size = (uint8_t)j->frag_size;
	cmd.u.setup_req.block_ack_delay = e->cfg.block_ack_delay & 0x07;
	cmd.u.setup_req.frag_algo = 0;
	cmd.u.setup_req.padding = (uint8_t)j->padding;
	/* A job in parts: the Descriptor says which (fuota/frag_part.h); one part: all zero. */
	if (j->parts > 1) {
		struct frag_part part = {(uint8_t)j->part, (uint8_t)j->parts,
		                         (uint16_t)j->part_frags};

		rc = frag_part_encode(&part, cmd.u.setup_req.descriptor);
		if (rc != FUOTA_OK)
			return rc;
	}
	if (version >= 2) {
		uint8_t root[16], key[16];
		int cnt = 0;

		/* SessionCnt is committed before the request can leave: never sent twice. */
		rc = seng_session_cnt_next(e->store, d->dev_eui, &cnt);
		if (rc != FUOTA_OK)
			return rc;
		cmd.u.setup_req.session_cnt = (uint16_t)cnt;
		cmd.u.setup_req.ack_reception = true;
		rc = engine_dev_root_key(e, d, root);
		if (rc == FUOTA_OK)
			rc = engine_data_block_int_key(root, key);
		if (rc == FUOTA_OK)
			rc = engine_data_block_mic(key, (uint16_t)cnt, cmd.u.setup_req.frag_index,
			                           cmd.u.setup_req.descriptor, c->frags,
			                           c->image_len, cmd.u.setup_req.mic);
		memset(root, 0, sizeof(root));
		memset(key, 0, sizeof(key));
		if (rc != FUOTA_OK)
			return rc;
		u->session_cnt = cnt;
	}
	u->frag_version = version;
	u->frag_index = cmd.u.setup_req.frag_index;
	return add_frag(dl, n, &cmd, version, e->cfg.port_frag);
}

static int req_mc_session(struct engine *e, const struct seng_job *j, const struct seng_dev *d,
                          struct dl *dl, size_t *n)
{
	struct mc_cmd cmd;
	int64_t gps_s = engine_unix_to_gps_ms(j->session_start_ms) / 1000;

	(void)d;
	memset(&cmd, 0, sizeof(cmd));
	cmd.cid = j->mc_class == 'B' ? MC_CID_CLASS_B_SESSION : MC_CID_CLASS_C_SESSION;
	cmd.u.session_req.group_id = 0;
	cmd.u.session_req.session_time = lw_gps_wrap32(gps_s);
	cmd.u.session_req.timeout = j->session_timeout;
	cmd.u.session_req.periodicity =
	        (uint8_t)(j->ping_periodicity >= 0 && j->ping_periodicity <= 7 ? j->ping_periodicity
	                                                                       : 0);
	cmd.u.session_req.dl_freq_hz = j->freq_hz;
	cmd.u.session_req.dr = (uint8_t)j->dr;
	return add_mc(dl, n, &cmd, e->cfg.port_mc);
}

/* TS006 DevRebootTimeReq at the job's reboot_at (GPS s, 32 bits) or DevRebootCountdownReq (24
 * bits, s; PROTOCOL-NOTES §8), as engine_reboot_countdown_s decides. */
static int req_reboot(struct engine *e, const struct seng_job *j, struct dl *dl, size_t *n,
                      int64_t now_ms)
{
	struct fmp_cmd cmd = {.cid = FMP_CID_DEV_REBOOT_COUNTDOWN, .up = false};
	size_t len = 0;
	bool by_time;

	cmd.u.countdown =
	        engine_reboot_countdown_s(j->reboot_at_ms, j->reboot_in_s, now_ms, &by_time);
	if (by_time) {
		cmd.cid = FMP_CID_DEV_REBOOT_TIME;
		cmd.u.reboot_time = lw_gps_wrap32(engine_unix_to_gps_ms(j->reboot_at_ms) / 1000);
	}
	if (fmp_encode(&cmd, dl[0].data, sizeof(dl[0].data), &len) != FUOTA_OK)
		return FUOTA_ERR_INVALID_ARG;
	dl[0].port = e->cfg.port_fmp;
	dl[0].len = len;
	*n = 1;
	return FUOTA_OK;
}

/* The requests of step st for device d at now_ms; u collects what the send must record. */
static int build(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                 enum engine_step st, struct dl *dl, size_t *n, struct seng_dev_update *u,
                 int64_t now_ms)
{
	struct frag_cmd fc;
	struct mc_cmd mc;

	*n = 0;
	memset(&fc, 0, sizeof(fc));
	memset(&mc, 0, sizeof(mc));
	switch (st) {
	case ENGINE_STEP_PKG_VERSION:
		/* PackageVersionReq (CID 0x00, no payload) on each port whose version is unknown.
		 */
		if (d->ts005 == 0)
			dl[(*n)++] = (struct dl){.port = e->cfg.port_mc, .data = {0x00}, .len = 1};
		if (d->ts004 == 0)
			dl[(*n)++] =
			        (struct dl){.port = e->cfg.port_frag, .data = {0x00}, .len = 1};
		if (d->ts003 == 0)
			dl[(*n)++] = (struct dl){.port = e->cfg.port_clk, .data = {0x00}, .len = 1};
		return FUOTA_OK;
	case ENGINE_STEP_MC_SETUP:
		u->mc_version = mc_version_of(d);
		return req_mc_setup(e, j, d, dl, n);
	case ENGINE_STEP_FRAG_SETUP: return req_frag_setup(e, j, d, dl, n, u);
	case ENGINE_STEP_MC_SESSION: return req_mc_session(e, j, d, dl, n);
	case ENGINE_STEP_REBOOT: return req_reboot(e, j, dl, n, now_ms);
	case ENGINE_STEP_FW_VERSION:
	case ENGINE_STEP_FW_CHECK:
	case ENGINE_STEP_CONFIRM:
		/* TS006 DevVersionReq (CID 0x01) or DevUpgradeImageReq (CID 0x04): no payload. */
		dl[0].port = e->cfg.port_fmp;
		dl[0].data[0] =
		        st == ENGINE_STEP_CONFIRM ? FMP_CID_DEV_UPGRADE_IMAGE : FMP_CID_DEV_VERSION;
		dl[0].len = 1;
		*n = 1;
		return FUOTA_OK;
	case ENGINE_STEP_FRAG_STATUS:
		fc.type = FRAG_CMD_SESSION_STATUS_REQ;
		fc.u.status_req.participants = true;
		fc.u.status_req.frag_index = (uint8_t)(d->frag_index & 0x03);
		return add_frag(dl, n, &fc, d->frag_version, e->cfg.port_frag);
	case ENGINE_STEP_CLEANUP:
		if (!(d->cleanup_mask & 1)) {
			fc.type = FRAG_CMD_SESSION_DELETE_REQ;
			fc.u.delete_req.frag_index = (uint8_t)(d->frag_index & 0x03);
			if (add_frag(dl, n, &fc, d->frag_version, e->cfg.port_frag) != FUOTA_OK)
				return FUOTA_ERR_INVALID_ARG;
		}
		if (!(d->cleanup_mask & 2) && engine_dev_keeps_group(e, j, d, u))
			return FUOTA_OK;
		if (!(d->cleanup_mask & 2)) {
			mc.cid = MC_CID_GROUP_DELETE;
			mc.u.delete_req.group_id = 0;
			return add_mc(dl, n, &mc, e->cfg.port_mc);
		}
		return FUOTA_OK;
	default: return FUOTA_ERR_INVALID_ARG;
	}
}

/* Records the attempt and its deadline, then sends. */
static int dev_send(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                    enum engine_step st, int64_t now_ms)
{
	struct dl dl[MAX_DL];
	size_t n = 0;
	struct seng_dev_update u;
	uint64_t timeout_ms;
	int rc;

	seng_dev_update_init(&u);
	rc = build(e, j, d, st, dl, &n, &u, now_ms);
	if (rc != FUOTA_OK) {
		char why[96];

		/* The database's failure, not the request's: the device is not failed for it. */
		if (rc == FUOTA_ERR_IO || rc == FUOTA_ERR_UNAVAILABLE)
			return rc;
		snprintf(why, sizeof(why), "cannot build %s request: %s", engine_step_name(st),
		         fuota_strerror(rc));
		return engine_dev_fail(e, d, d->step, why);
	}
	timeout_ms = (uint64_t)(j->unicast_timeout_s ? j->unicast_timeout_s : 1) * 1000u;
	/* A device delays its FragSessionStatusAns by a random time of up to 2^(BlockAckDelay + 4)
	 * seconds (PROTOCOL-NOTES §4.2 BlockAckDelay): wait for that on top of the unicast timeout.
	 */
	if (st == ENGINE_STEP_FRAG_STATUS)
		timeout_ms += policy_feedback_window_s(e->cfg.block_ack_delay) * 1000u;
	u.attempts_inc = true;
	/* The first request of the step: an answer received before it is stale (ans_match.h). */
	u.set_asked = d->attempts == 0;
	u.asked_ms = now_ms;
	u.set_deadline = true;
	/* The timeout counts from the delivery: a class A device gets one queued downlink per
	 * uplink (engine_seen.c moves the deadline when it does). */
	u.deadline_ms = engine_seen_deadline(e, d->dev_eui, now_ms, timeout_ms, (unsigned)n);
	rc = seng_dev_update(e->store, j->id, d->dev_eui, d->step, &u);
	if (rc == FUOTA_ERR_STATE)
		return FUOTA_OK; /* moved on meanwhile (an answer arrived) */
	if (rc != FUOTA_OK)
		return rc;
	d->attempts++;
	d->has_deadline = true;
	d->deadline_ms = u.deadline_ms;
	for (size_t i = 0; i < n; i++)
		engine_unicast(e, d->application_id, d->dev_eui, dl[i].port, dl[i].data, dl[i].len);
	engine_seen_sent(e, j->id, d->dev_eui, d->step, d->attempts, (unsigned)n, timeout_ms,
	                 now_ms, u.deadline_ms);
	return FUOTA_OK;
}

/* A device known to take fewer fragments than the session has (its max_frags, or its stack's
 * default build) is not sent FragSessionSetupReq: it fails at once with the numbers (the API
 * refuses such a job; a limit set after the job was created still lands here). */
static bool frag_setup_too_big(const struct seng_job *j, const struct seng_dev *d, char *why,
                               size_t cap)
{
	uint32_t limit = dev_stack_frag_limit(engine_dev_stack(d), d->max_frags);

	/* Its stack's own application ignores the Descriptor and would write each part over the
	 * first (fuota/plan_parts.h): not set up rather than left with a wrong image. */
	if (j->parts > 1 && !plan_stack_takes_parts(d->stack)) {
		snprintf(why, cap,
		         "FragSessionSetupReq not sent: the image is in %u parts and a %s device "
		         "does not assemble parts (declare it ts004 if its application reads the "
		         "part Descriptor)",
		         j->parts, d->stack);
		return true;
	}

	if (limit == 0 || j->nb_frag <= limit)
		return false;
	snprintf(why, cap,
	         "FragSessionSetupReq not sent: the session's %u fragments are more than the "
	         "device takes (%u: its max_frags, or its stack's default build)",
	         j->nb_frag, limit);
	return true;
}

int engine_dev_due(struct engine *e, const struct seng_job *j, struct seng_dev *d, int64_t now_ms)
{
	enum engine_step st = d->step;
	struct engine_versions v = {d->ts003, d->ts004, d->ts005, d->ts006, j->has_target_version};
	int rc;

	if ((unsigned)st >= ENGINE_STEP_COUNT)
		return engine_dev_fail(e, d, d->step, "unknown step");
	if (st == ENGINE_STEP_PENDING) {
		st = engine_step_next(ENGINE_STEP_PENDING, &v);
		if (st == ENGINE_STEP_MC_SETUP)
			rc = engine_dev_to_mc(e, d, ENGINE_STEP_PENDING, now_ms, &st);
		else
			rc = engine_dev_enter(e, d, ENGINE_STEP_PENDING, st, now_ms, NULL);
		if (rc != FUOTA_OK)
			return rc == FUOTA_ERR_STATE ? FUOTA_OK : rc;
	}
	if (st == ENGINE_STEP_PKG_VERSION && d->ts004 != 0 && d->ts005 != 0) {
		rc = engine_dev_to_mc(e, d, ENGINE_STEP_PKG_VERSION, now_ms, &st);
		if (rc != FUOTA_OK)
			return rc == FUOTA_ERR_STATE ? FUOTA_OK : rc;
	}
	if (!engine_step_is_unicast(st))
		return FUOTA_OK;
	/* A session request the device could no longer meet is not sent: the start moves once it
	 * has come (engine.c phase_session), and the device is asked again then. */
	if (st == ENGINE_STEP_MC_SESSION &&
	    !engine_session_reachable(j->session_start_ms, now_ms, e->cfg.clock_tolerance_s))
		return FUOTA_OK;
	if (st == ENGINE_STEP_FRAG_SETUP && d->attempts == 0) {
		char big[192];

		if (frag_setup_too_big(j, d, big, sizeof(big)))
			return engine_dev_fail(e, d, ENGINE_STEP_FRAG_SETUP, big);
	}
	if (d->attempts > 0) {
		char why[96];

		switch (engine_on_timeout(st, d->attempts, j->unicast_attempts)) {
		case ENGINE_RETRY: break;
		case ENGINE_SKIP: {
			struct seng_dev_update u;

			if (st == ENGINE_STEP_CONFIRM)
				return engine_confirm_unanswered(e, d);
			seng_dev_update_init(&u);
			u.to = engine_cleanup_end(d);
			u.last_answer = "{\"cleanup\":\"no answer\"}";
			return engine_dev_move(e, d, d->step, &u);
		}
		case ENGINE_FAIL:
		default:
			snprintf(why, sizeof(why), "%s: no answer after %u attempts",
			         engine_step_name(st), d->attempts);
			return engine_dev_fail(e, d, d->step, why);
		}
	}
	return dev_send(e, j, d, st, now_ms);
}

/* ---- answers -------------------------------------------------------------------------------- */

static void answer_json(char *out, size_t cap, const char *cmd, const char *detail)
{
	snprintf(out, cap, "{\"answer\":\"%s\",\"detail\":\"%s\"}", cmd, detail ? detail : "");
}

/* NotEnoughMemory, in words the operator can act on: what the session asked the device to hold,
 * and the limit known for it (its max_frags, or its stack's default build). */
static void memory_reason(const struct seng_job *j, const struct seng_dev *d, char *out, size_t cap)
{
	uint32_t limit = dev_stack_frag_limit(engine_dev_stack(d), d->max_frags);
	int n = snprintf(out, cap,
	                 "FragSessionSetupAns: NotEnoughMemory: the device cannot hold the "
	                 "session's %u fragments of %u bytes",
	                 j->nb_frag, j->frag_size);

	if (limit > 0 && n > 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, " (its limit: %u fragments)", limit);
}

static int on_setup_ans(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                        const struct frag_setup_ans *a, int64_t now_ms)
{
	char why[192], la[96];
	struct seng_dev_update up;

	if (d->step != ENGINE_STEP_FRAG_SETUP || a->frag_index != d->frag_index)
		return FUOTA_OK;
	if (a->not_enough_memory && !a->algo_unsupported && !a->index_not_supported &&
	    !a->wrong_descriptor && !a->session_cnt_replay) {
		memory_reason(j, d, why, sizeof(why));
		return engine_dev_fail(e, d, ENGINE_STEP_FRAG_SETUP, why);
	}
	if (a->algo_unsupported || a->not_enough_memory || a->index_not_supported ||
	    a->wrong_descriptor || a->session_cnt_replay) {
		snprintf(why, sizeof(why), "FragSessionSetupAns:%s%s%s%s%s",
		         a->algo_unsupported ? " EncodingUnsupported" : "",
		         a->not_enough_memory ? " NotEnoughMemory" : "",
		         a->index_not_supported ? " FragSessionIndexNotSupported" : "",
		         a->wrong_descriptor ? " WrongDescriptor" : "",
		         a->session_cnt_replay ? " SessionCntReplay" : "");
		return engine_dev_fail(e, d, ENGINE_STEP_FRAG_SETUP, why);
	}
	seng_dev_update_init(&up);
	answer_json(la, sizeof(la), "FragSessionSetupAns", "ok");
	up.last_answer = la;
	return engine_dev_enter(e, d, ENGINE_STEP_FRAG_SETUP, ENGINE_STEP_READY, now_ms, &up);
}

static int on_frag(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                   const struct cs_uplink *u, int64_t now_ms)
{
	struct frag_cmd_iter it;
	int version = d->frag_version ? d->frag_version : frag_version_of(d);
	int rc = FUOTA_OK;

	frag_cmd_iter_init(&it, u->data, u->data_len, version >= 2 ? FRAG_V2 : FRAG_V1, FRAG_UP, 0);
	while (frag_cmd_iter_more(&it)) {
		struct frag_cmd cmd;

		if (frag_cmd_iter_next(&it, &cmd) != FUOTA_OK) {
			char msg[160];

			fuota_parse_err_format(&it.err, msg, sizeof(msg));
			log_msg(LOG_LVL_WARN, "device %s: bad TS004 uplink: %s", d->dev_eui, msg);
			return FUOTA_ERR_MALFORMED;
		}
		switch (cmd.type) {
		case FRAG_CMD_PACKAGE_VERSION_ANS:
			rc = engine_dev_pkg_version(e, d, cmd.u.version_ans.package_id,
			                            cmd.u.version_ans.package_version, now_ms);
			break;
		case FRAG_CMD_SESSION_SETUP_ANS:
			if (!engine_ans_stale(e, j, d, u, "FragSessionSetupAns", false, now_ms))
				rc = on_setup_ans(e, j, d, &cmd.u.setup_ans, now_ms);
			break;
		case FRAG_CMD_SESSION_STATUS_ANS:
			rc = engine_status_ans(e, j, d, &cmd.u.status_ans);
			break;
		case FRAG_CMD_SESSION_DELETE_ANS:
			rc = engine_dev_cleanup_ans(e, d, 1,
			                            cmd.u.delete_ans.frag_index == d->frag_index);
			break;
		case FRAG_CMD_DATA_BLOCK_RECEIVED_REQ:
			rc = engine_block_received(e, d, &cmd.u.block_received_req);
			break;
		default: break;
		}
		if (rc == FUOTA_ERR_STATE)
			rc = FUOTA_OK;
		if (rc != FUOTA_OK)
			return rc;
	}
	return FUOTA_OK;
}

/* A TS004 uplink of a device in no running job: a job paused during its session still takes the
 * answers to a round's multicast status request (they size the batch after the resume; dropped,
 * a v1 session would stop as if nobody missed anything) and a v2 device's
 * FragDataBlockReceivedReq (answered as always; dropped, the resumed job would count the device
 * pending and send it rows it no longer needs). */
static int paused_status(struct engine *e, const struct cs_uplink *u)
{
	struct frag_cmd_iter it;
	struct seng_dev d;
	struct seng_paused p;
	enum dev_stack stack = DEV_STACK_TS004;
	bool loaded = false;
	int rc = seng_dev_paused_session(e->store, u->dev_eui, &p);

	if (rc == FUOTA_ERR_NOT_FOUND ||
	    (rc == FUOTA_OK && !engine_ans_app_ok(u, p.application_id)))
		return FUOTA_OK;
	if (rc != FUOTA_OK)
		return rc;
	(void)dev_stack_parse(p.stack, &stack);
	frag_cmd_iter_init(&it, u->data, u->data_len, p.frag_version >= 2 ? FRAG_V2 : FRAG_V1,
	                   FRAG_UP, 0);
	while (frag_cmd_iter_more(&it)) {
		struct frag_cmd cmd;
		struct engine_judgement v;
		struct engine_judge_in in = {.nb_frag = p.nb_frag};

		if (frag_cmd_iter_next(&it, &cmd) != FUOTA_OK)
			return FUOTA_OK; /* not ours to judge: the job is paused */
		if (cmd.type == FRAG_CMD_DATA_BLOCK_RECEIVED_REQ) {
			rc = loaded ? FUOTA_OK : seng_dev_load(e->store, p.job_id, u->dev_eui, &d);
			loaded = rc == FUOTA_OK;
			if (loaded)
				rc = engine_block_received(e, &d, &cmd.u.block_received_req);
			if (rc == FUOTA_ERR_STATE || rc == FUOTA_ERR_NOT_FOUND)
				rc = FUOTA_OK; /* it moved meanwhile: not this uplink's to change */
			if (rc != FUOTA_OK)
				return rc;
			continue;
		}
		if (cmd.type != FRAG_CMD_SESSION_STATUS_ANS ||
		    cmd.u.status_ans.frag_index != p.frag_index)
			continue;
		in.sent = engine_status_sent(e, p.job_id, p.frag_index, stack);
		engine_status_judge(stack, &in, &cmd.u.status_ans, &v);
		if (v.verdict != ENGINE_VERDICT_SHORT)
			continue; /* a device done reports nothing here: it stops counting as short
			             once the resumed job asks again */
		rc = seng_dev_status(e->store, p.job_id, u->dev_eui, p.frag_index,
		                     v.status.received, v.status.missing);
		if (rc != FUOTA_OK)
			return rc;
	}
	return FUOTA_OK;
}

int engine_dev_uplink(struct engine *e, const struct cs_uplink *u, int64_t now_ms)
{
	struct seng_job j;
	struct seng_dev d;
	enum engine_step step;
	int rc = seng_dev_active(e->store, u->dev_eui, &d);

	if (rc == FUOTA_ERR_NOT_FOUND)
		/* Not in a running job: nothing to apply, but a paused job's round answers. */
		return u->f_port == e->cfg.port_frag ? paused_status(e, u) : FUOTA_OK;
	if (rc != FUOTA_OK || !engine_ans_app_ok(u, d.application_id))
		return rc;
	rc = engine_job_get(e, d.job_id, now_ms, &j);
	if (rc != FUOTA_OK)
		return rc;
	step = d.step;
	if (u->f_port == e->cfg.port_mc)
		rc = engine_ans_mc(e, &j, &d, u, now_ms);
	else
		rc = on_frag(e, &j, &d, u, now_ms);
	/* An answer that moved the device: its new step acts at once (no wait for the tick), on
	 * the row as the moves left it; with a backlog the tick sends it once the queue drained. */
	if (rc == FUOTA_OK && step != d.step && e->backlog <= ENGINE_BACKLOG_PAUSE &&
	    (!d.has_deadline || d.deadline_ms <= now_ms))
		rc = engine_dev_due(e, &j, &d, now_ms);
	seng_job_free(&j);
	return rc;
}
