/* TS006 answers: a device in step confirm asked DevUpgradeImageReq (engine_status.c) answers
 * DevUpgradeImageAns on the FMP port; Valid moves it to its clean-up, at once when fuotad keeps up.
 * A device in step fw_version (the job has a target_version) answers DevVersionReq: already on
 * the target, it is done without the image; else its set-up goes on.
 */
#include <stdio.h>
#include <string.h>

#include "engine_int.h"
#include "fuota/err.h"
#include "fuota/fmp.h"
#include "fuota/log.h"

/* DevUpgradeImageAns of a device in step confirm: UpImageStatus 3 (Valid) is the device's word
 * that it holds a valid image: done. NoFirmwarePresent, CorruptOrInvalidSignature and
 * IncorrectHardware fail it. */
static int on_upgrade_ans(struct engine *e, struct seng_dev *d, const struct fmp_cmd *a)
{
	static const char *const status[4] = {"NoFirmwarePresent", "CorruptOrInvalidSignature",
	                                      "IncorrectHardware", "Valid"};
	uint8_t st = a->u.upgrade_ans.status & 0x03;
	struct seng_dev_update u;
	char why[96], la[192];

	if (st != FMP_IMAGE_VALID) {
		snprintf(why, sizeof(why), "DevUpgradeImageAns: %s", status[st]);
		return engine_dev_fail(e, d, ENGINE_STEP_CONFIRM, why);
	}
	snprintf(la, sizeof(la),
	         "{\"answer\":\"DevUpgradeImageAns\",\"status\":\"valid\","
	         "\"next_fw_version\":%u,\"judged\":\"done (TS006: its image is valid)\"}",
	         a->u.upgrade_ans.next_fw_version);
	seng_dev_update_init(&u);
	u.last_answer = la;
	return engine_dev_enter(e, d, ENGINE_STEP_CONFIRM,
	                        engine_after_part(d->part, d->parts, false), 0, &u);
}

/* DevVersionAns of a device in step fw_version: FW_version equal to the job's target_version
 * ends it done ("already on the target version", not sent the image), else its set-up begins
 * (engine_fw_version_next). */
static int on_version_ans(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                          const struct fmp_cmd *a, int64_t now_ms)
{
	struct engine_versions v = {d->ts003, d->ts004, d->ts005, d->ts006, true};
	uint32_t fw = a->u.version_ans.fw_version;
	enum engine_step to = engine_fw_version_next(j->target_version, fw, &v);
	struct seng_dev_update u;
	char la[256];

	seng_dev_update_init(&u);
	/* The judged text "done (already on the target version" marks the device in the
	 * job's already_on_target count (sql/048_on_target_count.sql). */
	if (to == ENGINE_STEP_DONE)
		snprintf(la, sizeof(la),
		         "{\"answer\":\"DevVersionAns\",\"fw_version\":%u,\"hw_version\":%u,"
		         "\"judged\":\"done (already on the target version %u: not sent the "
		         "image)\"}",
		         fw, a->u.version_ans.hw_version, j->target_version);
	else
		snprintf(la, sizeof(la),
		         "{\"answer\":\"DevVersionAns\",\"fw_version\":%u,\"hw_version\":%u,"
		         "\"judged\":\"not on the target version %u: updated\"}",
		         fw, a->u.version_ans.hw_version, j->target_version);
	u.last_answer = la;
	if (to == ENGINE_STEP_MC_SETUP) {
		/* engine_dev_to_mc records its own answer (a reused group): ours first. */
		int rc = engine_dev_move(e, d, ENGINE_STEP_FW_VERSION, &u);

		return rc != FUOTA_OK
		               ? rc
		               : engine_dev_to_mc(e, d, ENGINE_STEP_FW_VERSION, now_ms, NULL);
	}
	return engine_dev_enter(e, d, ENGINE_STEP_FW_VERSION, to, now_ms, &u);
}

/* DevRebootCountdownAns of a device in step reboot: the countdown it runs (0xFFFFFF: it
 * cancelled, failed with that reason). It is asked its version once that time and a unicast
 * timeout (to boot) have passed: step fw_check, due then. */
static int on_countdown_ans(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                            const struct fmp_cmd *a, int64_t now_ms)
{
	uint32_t left = a->u.countdown & 0xFFFFFFu;
	int64_t boot_ms = (int64_t)(j->unicast_timeout_s ? j->unicast_timeout_s : 1) * 1000;
	bool late = engine_reboot_late(j->reboot_at_ms, now_ms);
	struct seng_dev_update u;
	char la[224];

	if (left == FMP_COUNTDOWN_CANCEL)
		return engine_dev_fail(e, d, ENGINE_STEP_REBOOT,
		                       "DevRebootCountdownAns: the device cancelled the reboot");
	/* A countdown in a job with reboot_at: the time had passed when the device was ready
	 * (engine_reboot_late): said in its answer and as a job event. */
	if (late)
		engine_job_event(e, j, "reboot_late",
		                 json_pack("{s:s, s:I, s:s}", "dev_eui", d->dev_eui, "countdown_s",
		                           (json_int_t)left, "detail",
		                           "reboot_at had passed when the device had the image: "
		                           "told to reboot as soon as possible"),
		                 true);
	snprintf(la, sizeof(la),
	         "{\"answer\":\"DevRebootCountdownAns\",\"countdown_s\":%u,"
	         "\"judged\":\"%sreboots in %u s, then asked its version\"}",
	         left, late ? "reboot_at had passed when the device had the image: " : "", left);
	seng_dev_update_init(&u);
	u.last_answer = la;
	return engine_dev_enter(e, d, ENGINE_STEP_REBOOT, ENGINE_STEP_FW_CHECK,
	                        now_ms + (int64_t)left * 1000 + boot_ms, &u);
}

/* DevRebootTimeAns of a device in step reboot asked to reboot at the job's reboot_at: 0 (LBM: the
 * time has passed or its clock is not synchronised) and 0xFFFFFFFF (cancelled) fail it; else it
 * is asked its version once reboot_at and a unicast timeout (to boot) have passed. */
static int on_time_ans(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                       const struct fmp_cmd *a, int64_t now_ms)
{
	int64_t boot_ms = (int64_t)(j->unicast_timeout_s ? j->unicast_timeout_s : 1) * 1000;
	int64_t at_ms = j->reboot_at_ms > now_ms ? j->reboot_at_ms : now_ms;
	struct seng_dev_update u;
	char la[192];

	if (a->u.reboot_time == 0)
		return engine_dev_fail(e, d, ENGINE_STEP_REBOOT,
		                       engine_reboot_late(j->reboot_at_ms, now_ms)
		                               ? "DevRebootTimeAns: 0, no reboot scheduled "
		                                 "(reboot_at had passed when the request reached "
		                                 "the device)"
		                               : "DevRebootTimeAns: 0, no reboot scheduled (the "
		                                 "time has passed for the device or its clock is "
		                                 "not synchronised)");
	if (a->u.reboot_time == FMP_REBOOT_TIME_CANCEL)
		return engine_dev_fail(e, d, ENGINE_STEP_REBOOT,
		                       "DevRebootTimeAns: the device cancelled the reboot");
	snprintf(la, sizeof(la),
	         "{\"answer\":\"DevRebootTimeAns\",\"reboot_time\":%u,"
	         "\"judged\":\"reboots at reboot_at, then asked its version\"}",
	         a->u.reboot_time);
	seng_dev_update_init(&u);
	u.last_answer = la;
	return engine_dev_enter(e, d, ENGINE_STEP_REBOOT, ENGINE_STEP_FW_CHECK, at_ms + boot_ms,
	                        &u);
}

/* DevVersionAns of a device in step fw_check (after its reboot): the target version is done,
 * another one failed with both versions in the reason (engine_fw_check_next). */
static int on_check_ans(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                        const struct fmp_cmd *a, int64_t now_ms)
{
	uint32_t fw = a->u.version_ans.fw_version;
	struct seng_dev_update u;
	char la[192], why[160];

	if (engine_fw_check_next(j->target_version, fw) != ENGINE_STEP_DONE) {
		snprintf(why, sizeof(why),
		         "DevVersionAns after the reboot: FW_version %u, not the target %u (it did "
		         "not boot the new image)",
		         fw, j->target_version);
		return engine_dev_fail(e, d, ENGINE_STEP_FW_CHECK, why);
	}
	snprintf(la, sizeof(la),
	         "{\"answer\":\"DevVersionAns\",\"fw_version\":%u,\"hw_version\":%u,"
	         "\"judged\":\"done (rebooted into the target version)\"}",
	         fw, a->u.version_ans.hw_version);
	seng_dev_update_init(&u);
	u.last_answer = la;
	return engine_dev_enter(e, d, ENGINE_STEP_FW_CHECK, ENGINE_STEP_DONE, now_ms, &u);
}

/* The TS006 commands of one uplink of d (in step confirm or fw_version, job j). */
static int fmp_answers(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                       const struct cs_uplink *u, int64_t now_ms)
{
	size_t pos = 0;
	int rc = FUOTA_OK;

	while (rc == FUOTA_OK && pos < u->data_len) {
		struct fmp_cmd cmd;
		struct fuota_parse_err err;

		if (fmp_decode(u->data, u->data_len, &pos, true, &cmd, &err) != FUOTA_OK) {
			log_msg(LOG_LVL_WARN, "device %s: bad TS006 uplink: %s %s", d->dev_eui,
			        err.command ? err.command : "unknown command",
			        err.field ? err.field : "");
			return FUOTA_ERR_MALFORMED;
		}
		if (cmd.cid == FMP_CID_DEV_UPGRADE_IMAGE && d->step == ENGINE_STEP_CONFIRM)
			rc = on_upgrade_ans(e, d, &cmd);
		else if (cmd.cid == FMP_CID_DEV_VERSION && d->step == ENGINE_STEP_FW_VERSION &&
		         j->has_target_version)
			rc = on_version_ans(e, j, d, &cmd, now_ms);
		else if (cmd.cid == FMP_CID_DEV_VERSION && d->step == ENGINE_STEP_FW_CHECK &&
		         d->attempts > 0)
			rc = on_check_ans(e, j, d, &cmd, now_ms);
		else if (cmd.cid == FMP_CID_DEV_REBOOT_COUNTDOWN && d->step == ENGINE_STEP_REBOOT)
			rc = on_countdown_ans(e, j, d, &cmd, now_ms);
		else if (cmd.cid == FMP_CID_DEV_REBOOT_TIME && d->step == ENGINE_STEP_REBOOT)
			rc = on_time_ans(e, j, d, &cmd, now_ms);
	}
	return rc;
}

int engine_fmp_uplink(struct engine *e, const struct cs_uplink *u, int64_t now_ms)
{
	struct seng_dev d;
	struct seng_job j;
	enum engine_step was;
	int rc = seng_dev_active(e->store, u->dev_eui, &d);

	if (rc == FUOTA_ERR_NOT_FOUND)
		return FUOTA_OK;
	if (rc != FUOTA_OK || (d.step != ENGINE_STEP_CONFIRM && d.step != ENGINE_STEP_FW_VERSION &&
	                       d.step != ENGINE_STEP_REBOOT && d.step != ENGINE_STEP_FW_CHECK))
		return rc;
	/* The same DevEUI under another application confirms nothing (as for ports 200-202). */
	if (!engine_ans_app_ok(u, d.application_id))
		return FUOTA_OK;
	rc = engine_job_get(e, d.job_id, now_ms, &j);
	if (rc != FUOTA_OK)
		return rc;
	was = d.step;
	rc = fmp_answers(e, &j, &d, u, now_ms);
	if (rc == FUOTA_ERR_STATE)
		rc = FUOTA_OK; /* moved meanwhile */
	/* Moved on: its next requests go at once, as after the other answers (fw_check waits for
	 * the reboot: its deadline). */
	else if (rc == FUOTA_OK && d.step != was && e->backlog <= ENGINE_BACKLOG_PAUSE &&
	         (!d.has_deadline || d.deadline_ms <= now_ms))
		rc = engine_dev_due(e, &j, &d, now_ms);
	seng_job_free(&j);
	return rc;
}
