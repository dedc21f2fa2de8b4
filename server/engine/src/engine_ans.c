/* The answers of TS005 (Remote Multicast Setup, on port_mc) that move a device on, and the
 * check every step answer passes first: that it answers the request in flight, not one fuotad
 * has replaced or one it reads late (fuota/ans_match.h), and that it comes from the device's
 * own application. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"
#include "fuota/ans_match.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/mc.h"

/* A time of the network server's message in ms; seconds out of any sensible range (bytes from
 * the broker) are bounded before they are scaled. */
static int64_t cs_ms(const struct cs_time *t)
{
	const int64_t max_s = INT64_MAX / 1000 - 1;
	int64_t sec = t->sec > max_s ? max_s : t->sec < -max_s ? -max_s : t->sec;

	return sec * 1000 + t->nsec / 1000000;
}

bool engine_ans_app_ok(const struct cs_uplink *u, const char *application_id)
{
	if (strcmp(u->application_id, application_id) == 0)
		return true;
	/* The same DevEUI under another application: not this job's device speaking. */
	log_msg(LOG_LVL_INFO, "device %s: uplink of application %.64s, not of its own: ignored",
	        u->dev_eui, u->application_id);
	return false;
}

int engine_ans_topic(const char *up_filter, const char *topic, struct cs_uplink *u)
{
	static const char tail[] = "/+/device/+/event/up";
	char prefix[192], app[CS_ID_LEN], eui[CS_EUI_LEN];
	size_t n = strlen(up_filter);

	if (n < sizeof(tail) - 1 || n - (sizeof(tail) - 1) >= sizeof(prefix))
		return FUOTA_ERR_INVALID_ARG;
	memcpy(prefix, up_filter, n - (sizeof(tail) - 1));
	prefix[n - (sizeof(tail) - 1)] = 0;
	if (ans_uplink_topic(prefix, topic, app, sizeof(app), eui, sizeof(eui)) != FUOTA_OK ||
	    strcasecmp(eui, u->dev_eui) != 0 ||
	    (u->application_id[0] && strcmp(app, u->application_id) != 0))
		return FUOTA_ERR_MALFORMED;
	/* The topic is what the broker's access rules guard: it names the application. */
	snprintf(u->application_id, sizeof(u->application_id), "%s", app);
	return FUOTA_OK;
}

bool engine_ans_stale(struct engine *e, const struct seng_job *j, const struct seng_dev *d,
                      const struct cs_uplink *u, const char *what, bool disagrees, int64_t now_ms)
{
	struct ans_in in;
	enum ans_verdict v;
	bool ns = u->n_rx > 0 && u->rx[0].ns_time.set;

	memset(&in, 0, sizeof(in));
	in.attempts = d->attempts;
	in.asked_ms = d->asked_ms;
	in.now_ms = now_ms;
	in.rx_ms = ans_rx_ms(u->time.set, cs_ms(&u->time), ns, ns ? cs_ms(&u->rx[0].ns_time) : 0,
	                     now_ms);
	in.moved = d->step == ENGINE_STEP_MC_SESSION && j->session_moves > 0;
	in.disagrees = disagrees;
	if (!engine_seen_first_rx(e, j->id, d->dev_eui, d->step, &in.delivered_ms))
		in.delivered_ms = 0;
	v = ans_stale(&in);
	if (v == ANS_CURRENT)
		return false;
	log_msg(LOG_LVL_INFO, "job %lld: device %s: %s in step %s ignored: %s",
	        (long long)d->job_id, d->dev_eui, what, engine_step_name(d->step),
	        ans_verdict_name(v));
	return true;
}

/* The device's clock disagrees with ours: it is resynchronised once (ForceDeviceResyncReq) and
 * asked again, with fresh attempts, once its AppTimeReq was answered (seng_dev_resynced makes it
 * due) or engine_resync_wait_ms later: asked before, a device that waits before its AppTimeReq
 * (LoRa Basics Modem: at least 6 s) would still answer with its old clock. */
static int clock_disagrees(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                           const struct mc_session_ans *a, int64_t now_ms)
{
	struct seng_dev_update u;
	uint64_t timeout_ms = (uint64_t)(j->unicast_timeout_s ? j->unicast_timeout_s : 1) * 1000u;

	if (d->resync_sent)
		return engine_dev_fail(e, d, ENGINE_STEP_MC_SESSION,
		                       a->start_missed ? "McClassSessionAns: StartMissed"
		                                       : "device clock out of sync after resync");
	seng_dev_update_init(&u);
	u.set_resync_sent = true;
	u.reset_attempts = true;
	u.set_deadline = true;
	u.deadline_ms =
	        engine_seen_deadline(e, d->dev_eui, now_ms, engine_resync_wait_ms(timeout_ms), 1);
	if (seng_dev_update(e->store, d->job_id, d->dev_eui, ENGINE_STEP_MC_SESSION, &u) !=
	    FUOTA_OK)
		return FUOTA_OK;
	d->attempts = 0;
	d->has_deadline = true;
	d->deadline_ms = u.deadline_ms;
	engine_seen_moved(e, d->dev_eui);
	log_msg(LOG_LVL_INFO, "job %lld: device %s: %s: clock resync, session request after it",
	        (long long)d->job_id, d->dev_eui,
	        a->start_missed ? "StartMissed" : "TimeToStart disagrees");
	if (csr_force_resync(e, d->application_id, d->dev_eui, 3) == FUOTA_OK)
		engine_seen_other(e, d->dev_eui, now_ms);
	return FUOTA_OK;
}

static int on_session_ans(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                          const struct cs_uplink *up, const struct mc_session_ans *a,
                          int64_t now_ms)
{
	struct seng_dev_update u;
	char why[128], la[160];
	int64_t start_gps_s, min_expected, max_expected, first_sent_ms;
	bool time_ok;

	if (d->step != ENGINE_STEP_MC_SESSION)
		return FUOTA_OK;
	/* The request of this step was first sent attempts x unicast timeout before the current
	 * deadline (dev_send); the device received one of its copies between then and now. */
	first_sent_ms = now_ms;
	if (d->asked_ms > 0)
		first_sent_ms = d->asked_ms; /* the step's first request went out then */
	else if (d->has_deadline && d->attempts > 0)
		first_sent_ms = d->deadline_ms -
		                (int64_t)d->attempts *
		                        (int64_t)(j->unicast_timeout_s ? j->unicast_timeout_s : 1) *
		                        1000;
	/* The deadline moved with the delivery (engine_seen.c): the copy that reached the device
	 * first may have come earlier than the computation above says. */
	{
		int64_t rx_ms = 0;

		if (engine_seen_first_rx(e, j->id, d->dev_eui, ENGINE_STEP_MC_SESSION, &rx_ms) &&
		    rx_ms < first_sent_ms)
			first_sent_ms = rx_ms;
	}
	if (first_sent_ms > now_ms)
		first_sent_ms = now_ms;
	start_gps_s = engine_unix_to_gps_ms(j->session_start_ms) / 1000;
	min_expected = start_gps_s - engine_unix_to_gps_ms(now_ms) / 1000;
	max_expected = start_gps_s - engine_unix_to_gps_ms(first_sent_ms) / 1000;
	time_ok = !a->start_missed && a->has_time_to_start &&
	          engine_time_to_start_ok(min_expected, max_expected, a->time_to_start,
	                                  e->cfg.clock_tolerance_s);
	/* A time that does not fit the moved start may answer the request it replaced. */
	if (engine_ans_stale(e, j, d, up, "McClassSessionAns",
	                     !time_ok && !a->dr_error && !a->freq_error && !a->group_undefined,
	                     now_ms))
		return FUOTA_OK;
	if (a->group_undefined && !a->dr_error && !a->freq_error &&
	    mc_reuse_fall_back(d->mc_reused, d->mc_fell_back))
		return engine_dev_mc_fall_back(e, d, now_ms);
	if (a->dr_error || a->freq_error || a->group_undefined) {
		snprintf(why, sizeof(why), "McClassSessionAns:%s%s%s",
		         a->dr_error ? " DRError" : "", a->freq_error ? " FreqError" : "",
		         a->group_undefined ? " McGroupUndefined" : "");
		return engine_dev_fail(e, d, ENGINE_STEP_MC_SESSION, why);
	}
	if (a->start_missed &&
	    !engine_session_reachable(j->session_start_ms, now_ms, e->cfg.clock_tolerance_s)) {
		/* By our clock too the start has (nearly) passed: not the device's fault. It waits,
		 * its attempts back, for the start to move (engine.c phase_session). */
		seng_dev_update_init(&u);
		u.reset_attempts = true;
		u.set_deadline = true;
		u.deadline_ms = j->session_start_ms;
		return seng_dev_update(e->store, d->job_id, d->dev_eui, ENGINE_STEP_MC_SESSION, &u);
	}
	if (!time_ok)
		return clock_disagrees(e, j, d, a, now_ms);
	seng_dev_update_init(&u);
	u.to = ENGINE_STEP_SESSION;
	u.set_time_to_start = true;
	u.time_to_start_s = a->time_to_start;
	snprintf(la, sizeof(la), "{\"answer\":\"McClassSessionAns\",\"time_to_start\":%u}",
	         a->time_to_start);
	u.last_answer = la;
	return engine_dev_move(e, d, ENGINE_STEP_MC_SESSION, &u);
}

/* McGroupSetupAns without IDError: the device holds the job's group under McGroupID 0 now, no
 * longer one an earlier job left it. A device that fell back to a full setup has its
 * fragmentation session already: back to the session request. */
static int on_setup_ans(struct engine *e, struct seng_dev *d, int64_t now_ms)
{
	struct seng_dev_update up;
	int rc = seng_mc_keep(e->store, d->dev_eui, 0, 0);

	if (rc != FUOTA_OK)
		return rc;
	seng_dev_update_init(&up);
	up.set_mc_group = true;
	up.last_answer = "{\"answer\":\"McGroupSetupAns\",\"detail\":\"ok\"}";
	return engine_dev_enter(e, d, ENGINE_STEP_MC_SETUP,
	                        d->mc_fell_back ? ENGINE_STEP_MC_SESSION : ENGINE_STEP_FRAG_SETUP,
	                        now_ms, &up);
}

int engine_ans_mc(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                  const struct cs_uplink *u, int64_t now_ms)
{
	size_t pos = 0;
	int rc = FUOTA_OK;

	while (pos < u->data_len) {
		struct mc_cmd cmd;
		struct fuota_parse_err err;

		if (mc_decode(u->data, u->data_len, &pos, true, d->ts005 >= 2 ? 2 : 1, &cmd,
		              &err) != FUOTA_OK) {
			log_msg(LOG_LVL_WARN, "device %s: bad TS005 uplink: %s %s", d->dev_eui,
			        err.command ? err.command : "unknown command",
			        err.field ? err.field : "");
			return FUOTA_ERR_MALFORMED;
		}
		switch (cmd.cid) {
		case MC_CID_PACKAGE_VERSION:
			rc = engine_dev_pkg_version(e, d, cmd.u.pkg_ans.package_id,
			                            cmd.u.pkg_ans.version, now_ms);
			break;
		case MC_CID_GROUP_SETUP:
			if (d->step != ENGINE_STEP_MC_SETUP || cmd.u.setup_ans.group_id != 0 ||
			    engine_ans_stale(e, j, d, u, "McGroupSetupAns", false, now_ms))
				break;
			if (cmd.u.setup_ans.id_error) {
				rc = engine_dev_fail(e, d, ENGINE_STEP_MC_SETUP,
				                     "McGroupSetupAns: IDError");
				break;
			}
			rc = on_setup_ans(e, d, now_ms);
			break;
		case MC_CID_CLASS_C_SESSION:
		case MC_CID_CLASS_B_SESSION:
			if (cmd.u.session_ans.group_id == 0)
				rc = on_session_ans(e, j, d, u, &cmd.u.session_ans, now_ms);
			break;
		case MC_CID_GROUP_DELETE:
			rc = engine_dev_cleanup_ans(e, d, 2, cmd.u.delete_ans.group_id == 0);
			if (rc == FUOTA_OK && cmd.u.delete_ans.group_id == 0)
				rc = seng_mc_keep(e->store, d->dev_eui, 0, 0);
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
