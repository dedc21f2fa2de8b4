/* TS006 answers: a device in step confirm asked DevUpgradeImageReq (engine_status.c) answers
 * DevUpgradeImageAns on the FMP port; Valid moves it to its clean-up, at once when fuotad keeps up.
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
	return engine_dev_enter(e, d, ENGINE_STEP_CONFIRM, ENGINE_STEP_CLEANUP, 0, &u);
}

int engine_fmp_uplink(struct engine *e, const struct cs_uplink *u, int64_t now_ms)
{
	struct seng_dev d;
	struct seng_job j;
	size_t pos = 0;
	int rc = seng_dev_active(e->store, u->dev_eui, &d);

	if (rc == FUOTA_ERR_NOT_FOUND)
		return FUOTA_OK;
	if (rc != FUOTA_OK || d.step != ENGINE_STEP_CONFIRM)
		return rc;
	/* The same DevEUI under another application confirms nothing (as for ports 200-202). */
	if (!engine_ans_app_ok(u, d.application_id))
		return FUOTA_OK;
	while (rc == FUOTA_OK && pos < u->data_len) {
		struct fmp_cmd cmd;
		struct fuota_parse_err err;

		if (fmp_decode(u->data, u->data_len, &pos, true, &cmd, &err) != FUOTA_OK) {
			log_msg(LOG_LVL_WARN, "device %s: bad TS006 uplink: %s %s", d.dev_eui,
			        err.command ? err.command : "unknown command",
			        err.field ? err.field : "");
			return FUOTA_ERR_MALFORMED;
		}
		if (cmd.cid == FMP_CID_DEV_UPGRADE_IMAGE && d.step == ENGINE_STEP_CONFIRM)
			rc = on_upgrade_ans(e, &d, &cmd);
	}
	if (rc == FUOTA_ERR_STATE)
		return FUOTA_OK; /* moved meanwhile */
	if (rc != FUOTA_OK || d.step == ENGINE_STEP_CONFIRM || e->backlog > ENGINE_BACKLOG_PAUSE)
		return rc;
	/* Moved on: its clean-up requests go at once, as after the other answers. */
	rc = engine_job_get(e, d.job_id, now_ms, &j);
	if (rc != FUOTA_OK)
		return rc;
	rc = engine_dev_due(e, &j, &d, now_ms);
	seng_job_free(&j);
	return rc;
}
