/* A device's step moves and its unicast downlinks, below the files that decide them (engine_dev.c,
 * engine_ans.c, engine_status.c, csr_clocksync.c): each move is a conditional update of the
 * device's row (only while it is in the step the caller saw) with its event, and nothing here calls
 * those files back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/mc.h"

int engine_unicast(struct engine *e, const char *application_id, const char *dev_eui, uint8_t port,
                   const uint8_t *data, size_t len)
{
	struct cs_downlink d;
	char topic[256];
	char *json = NULL;
	uint8_t *bin = NULL;
	size_t out_len = 0;
	int rc;

	if (len > sizeof(d.data))
		return FUOTA_ERR_INVALID_ARG;
	/* Both come from the database, but a topic level must never carry MQTT's separators or
	 * wildcards. */
	if (strpbrk(application_id, "/+#") || strpbrk(dev_eui, "/+#") || !application_id[0]) {
		log_msg(LOG_LVL_WARN, "device %s: application id unusable in a topic", dev_eui);
		return FUOTA_ERR_INVALID_ARG;
	}
	memset(&d, 0, sizeof(d));
	snprintf(d.dev_eui, sizeof(d.dev_eui), "%s", dev_eui);
	d.f_port = port;
	memcpy(d.data, data, len);
	d.data_len = len;
	snprintf(topic, sizeof(topic), "%s/%s/device/%s/command/down", e->cfg.app_topic,
	         application_id, dev_eui);
	if (e->cfg.json) {
		rc = cs_downlink_to_json(&d, &json, &out_len);
		if (rc == FUOTA_OK)
			rc = engine_pub(e, topic, (const uint8_t *)json, out_len);
	} else {
		rc = cs_downlink_to_proto(&d, &bin, &out_len);
		if (rc == FUOTA_OK)
			rc = engine_pub(e, topic, bin, out_len);
	}
	free(json);
	free(bin);
	return rc;
}

/* Updates the device (only while in `from`) and, when its step changes, publishes the device
 * event and moves *d along (step, attempts, deadline). Returns seng_dev_update's code. */
int engine_dev_move(struct engine *e, struct seng_dev *d, enum engine_step from,
                    const struct seng_dev_update *u)
{
	struct seng_dev_update up;
	char why[320];
	int rc;

	/* A job in parts: a failure says which part the device failed in. */
	if (d->parts > 1 && u->failure_reason && u->to == ENGINE_STEP_FAILED) {
		up = *u;
		snprintf(why, sizeof(why), "part %u of %u: %s", d->part + 1, d->parts,
		         u->failure_reason);
		up.failure_reason = why;
		u = &up;
	}
	rc = seng_dev_update(e->store, d->job_id, d->dev_eui, from, u);

	if (rc == FUOTA_OK && u->to != ENGINE_STEP_NONE) {
		d->step = u->to;
		if (u->reset_attempts)
			d->attempts = 0;
		if (u->set_deadline) {
			d->has_deadline = true;
			d->deadline_ms = u->deadline_ms;
		}
		engine_seen_moved(e, d->dev_eui);
	}
	if (rc == FUOTA_OK && u->to != ENGINE_STEP_NONE) {
		engine_device_event(e, d->tenant, d->job_id, d->dev_eui, u->to, u->failure_reason);
		if (u->failure_reason)
			log_msg(LOG_LVL_INFO, "job %lld: device %s failed: %s",
			        (long long)d->job_id, d->dev_eui, u->failure_reason);
	}
	return rc;
}

int engine_dev_fail(struct engine *e, struct seng_dev *d, enum engine_step from, const char *reason)
{
	struct seng_dev_update u;

	seng_dev_update_init(&u);
	u.to = ENGINE_STEP_FAILED;
	u.failure_reason = reason;
	return engine_dev_move(e, d, from, &u);
}

/* Moves the device to `to` with a fresh attempt count, due now. */
int engine_dev_enter(struct engine *e, struct seng_dev *d, enum engine_step from,
                     enum engine_step to, int64_t now_ms, struct seng_dev_update *extra)
{
	struct seng_dev_update u;

	if (extra)
		u = *extra;
	else
		seng_dev_update_init(&u);
	u.to = to;
	u.reset_attempts = true;
	u.set_deadline = true;
	u.deadline_ms = now_ms;
	return engine_dev_move(e, d, from, &u);
}

int engine_dev_cleanup_ans(struct engine *e, struct seng_dev *d, unsigned bit, bool its_own)
{
	struct seng_dev_update up;
	int rc;

	if (d->step != ENGINE_STEP_CLEANUP || !its_own)
		return FUOTA_OK;
	seng_dev_update_init(&up);
	up.cleanup_or = bit;
	if (d->cleanup_mask & (3u ^ bit))
		up.to = engine_cleanup_end(d);
	rc = engine_dev_move(e, d, ENGINE_STEP_CLEANUP, &up);
	d->cleanup_mask |= bit;
	return rc;
}

void engine_dev_status_round(struct engine *e, const struct seng_job *j, int frag_index)
{
	struct seng_dev *devs = NULL;
	size_t n = 0;
	/* FragStatusReqParam: bit 0 Participants (1: every device answers), bits 2..1 FragIndex. */
	uint8_t req[2] = {FRAG_CID_SESSION_STATUS, (uint8_t)(0x01 | (frag_index & 0x03) << 1)};

	if (seng_devs_session_pending_v1(e->store, j->id, frag_index, &devs, &n) != FUOTA_OK)
		return;
	for (size_t i = 0; i < n; i++)
		engine_unicast(e, devs[i].application_id, devs[i].dev_eui, e->cfg.port_frag, req,
		               sizeof(req));
	free(devs);
}

int engine_dev_pkg_version(struct engine *e, struct seng_dev *d, int package_id, int version,
                           int64_t now_ms)
{
	int rc = seng_dev_version(e->store, d->dev_eui, d->application_id, package_id, version);

	if (rc != FUOTA_OK)
		return rc;
	if (package_id == MC_PACKAGE_ID)
		d->ts005 = version;
	else if (package_id == FRAG_PACKAGE_ID)
		d->ts004 = version;
	if (d->step == ENGINE_STEP_PKG_VERSION && d->ts004 != 0 && d->ts005 != 0) {
		rc = engine_dev_to_mc(e, d, ENGINE_STEP_PKG_VERSION, now_ms, NULL);
		return rc == FUOTA_ERR_STATE ? FUOTA_OK : rc;
	}
	return FUOTA_OK;
}

enum dev_stack engine_dev_stack(const struct seng_dev *d)
{
	enum dev_stack st = DEV_STACK_TS004;

	(void)dev_stack_parse(d->stack, &st);
	return st;
}

enum engine_step engine_cleanup_end(const struct seng_dev *d)
{
	return engine_after_cleanup(d->failed, d->reboot, d->ts006);
}

int engine_dev_to_mc(struct engine *e, struct seng_dev *d, enum engine_step from, int64_t now_ms,
                     enum engine_step *to)
{
	struct seng_dev_update up;
	enum engine_step st = ENGINE_STEP_MC_SETUP;

	seng_dev_update_init(&up);
	/* The store marked it at the start: it holds the group the job reuses (mc_reuse_device). */
	if (d->mc_reused && !d->mc_fell_back) {
		st = ENGINE_STEP_FRAG_SETUP;
		up.set_mc_group = true;
		up.mc_version = d->ts005 >= 2 ? 2 : 1; /* as its McGroupSetupReq would have said */
		up.last_answer = "{\"skipped\":\"McGroupSetupReq\",\"detail\":\"holds the group\"}";
	}
	if (to)
		*to = st;
	return engine_dev_enter(e, d, from, st, now_ms, &up);
}

bool engine_dev_keeps_group(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                            struct seng_dev_update *u)
{
	/* Only a device that verified the image keeps the group for the next job. */
	if (!j->keep_mc_group || d->failed || j->mc_group_id <= 0)
		return false;
	if (seng_mc_keep(e->store, d->dev_eui, j->mc_group_id, e->clock(e->clock_ctx)) != FUOTA_OK)
		return false; /* not recorded: deleted as usual, a later job sets it up again */
	u->cleanup_or |= 2;
	d->cleanup_mask |= 2;
	return true;
}

int engine_dev_mc_fall_back(struct engine *e, struct seng_dev *d, int64_t now_ms)
{
	struct seng_dev_update up;
	int rc = seng_mc_keep(e->store, d->dev_eui, 0, 0);

	if (rc != FUOTA_OK)
		return rc;
	log_msg(LOG_LVL_INFO,
	        "job %lld device %s: McGroupUndefined: the group it was said to "
	        "hold is set up in full",
	        (long long)d->job_id, d->dev_eui);
	seng_dev_update_init(&up);
	up.fall_back = true;
	up.last_answer = "{\"answer\":\"McClassSessionAns\",\"detail\":\"McGroupUndefined: "
	                 "set up again\"}";
	return engine_dev_enter(e, d, ENGINE_STEP_MC_SESSION, ENGINE_STEP_MC_SETUP, now_ms, &up);
}
