/* Starting a job (engine.c runs it): the fragment size, counts and session TimeOut from the
 * job's plan or fields, a fresh multicast group with its sealed McKey, and the job's engine row,
 * in one transaction (seng_job_start). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "engine_int.h"
#include "fuota/cbox.h"
#include "fuota/err.h"
#include "fuota/frag_row.h"
#include "fuota/log.h"
#include "fuota/lw_airtime.h"
#include "fuota/lw_gps.h"
#include "fuota/lw_region.h"
#include "fuota/mc_keys.h"
#include "fuota/plan.h"
#include "fuota/plan_parts.h"
#include "fuota/store_modem.h"

/* ---- starting a job ------------------------------------------------------------------------ */

/* One DataFragment frame's time on air and the interval the sub-band's duty cycle sets between
 * two of them (the real sub-band's, whatever the gateways' configuration: this sizes the
 * session for real gateways). */
int engine_frame_timing(const struct seng_job *j, uint32_t frag_size, uint64_t *airtime_us,
                        uint64_t *interval_us)
{
	const struct lw_region *r = lw_region_find(j->region);
	const struct lw_dr *dr = NULL;
	const struct lw_subband *sb;
	int rc;

	*airtime_us = *interval_us = 0;
	if (!r || lw_region_dr(r, j->dr, &dr) != FUOTA_OK)
		return FUOTA_ERR_INVALID_ARG;
	sb = lw_region_subband(r, j->freq_hz);
	rc = lw_airtime_lorawan_us(dr, LW_DATA_FRAME_OVERHEAD + LW_FRAG_HEADER_LEN + frag_size,
	                           true, airtime_us);
	*interval_us = lw_duty_cycle_interval_us(*airtime_us, sb ? sb->duty_cycle_inv : 1);
	return rc;
}

/* A job's plan (plan_compute_adaptive) states what the engine does with these. */
_Static_assert(ENGINE_ROUNDS_MAX == PLAN_ADAPTIVE_ROUNDS, "plan and engine: rounds");
_Static_assert(PLAN_BLOCK_ACK_DELAY == 0, "plan and engine: BlockAckDelay (engine_cfg)");

/* Adaptive rounds: the waits after the batches, up to the parity cap (engine_tx.c). */
static uint64_t rounds_wait_s(const struct engine *e, const struct seng_job *j)
{
	/* One status request (a short frame) and one wait per round, ENGINE_ROUNDS_MAX at most. */
	return ENGINE_ROUNDS_MAX * (engine_round_wait_ms(e, j) + 1000u) / 1000u;
}

/* Part `part` of the image (fuota/plan_parts.h) into p->nb_frag and p->padding, the whole
 * image's when the job has one part. NULL, or why the job cannot run. */
static const char *part_frags(const struct seng_job *j, unsigned part, struct engine_counts *p)
{
	uint64_t size = (uint64_t)j->firmware_size, nb = (size + p->frag_size - 1) / p->frag_size;

	if (plan_part_at(nb, (unsigned)(nb * p->frag_size - size), j->parts, j->part_frags, part,
	                 &p->nb_frag, &p->padding) != FUOTA_OK)
		return "the plan's parts do not fit the image";
	if (p->nb_frag >= FRAG_MAX_N)
		return j->parts > 1 ? "a part needs more than 16383 fragments"
		                    : "the image needs more than 16383 fragments";
	return NULL;
}

/* Parity frames of a part, and the adaptive cap (per part). */
static void part_parity(const struct engine *e, const struct seng_job *j, struct engine_counts *p)
{
	if (j->parts <= 1 && j->plan_parity >= 0)
		p->redundancy = (uint32_t)j->plan_parity;
	else if (j->redundancy_frames >= 0 || j->redundancy_percent >= 0)
		p->redundancy =
		        plan_part_parity(p->nb_frag, j->redundancy_frames, j->redundancy_percent);
	else
		p->redundancy = (p->nb_frag + 9) / 10;
	if (p->redundancy > FRAG_MAX_N - p->nb_frag)
		p->redundancy = FRAG_MAX_N - p->nb_frag;
	p->cap = p->redundancy;
	if (e->cfg.adaptive) {
		uint64_t cap = (uint64_t)p->nb_frag * e->cfg.adaptive_cap_percent / 100;

		if (cap > p->cap)
			p->cap = (uint32_t)(cap > FRAG_MAX_N - p->nb_frag ? FRAG_MAX_N - p->nb_frag
			                                                  : cap);
	}
}

const char *engine_counts(const struct engine *e, const struct seng_job *j, unsigned part,
                          struct engine_counts *p)
{
	const struct lw_region *r = lw_region_find(j->region);
	const struct lw_dr *dr = NULL;
	unsigned max_fs = 0;
	const char *why;

	if (!r || lw_region_dr(r, j->dr, &dr) != FUOTA_OK ||
	    lw_region_max_frag_size(r, j->dr, false, &max_fs) != FUOTA_OK)
		return "unknown region or data rate";
	if (j->firmware_size <= 0)
		return "the firmware is missing or empty";
	p->frag_size = j->plan_fragment_size > 0 ? (uint32_t)j->plan_fragment_size
	               : j->fragment_size > 0    ? (uint32_t)j->fragment_size
	                                         : max_fs;
	if (p->frag_size == 0 || p->frag_size > max_fs || p->frag_size > 255)
		return "fragment size does not fit the data rate";
	why = part_frags(j, part, p);
	if (why)
		return why;
	part_parity(e, j, p);
	if (j->plan_timeout_exp >= 0 && j->plan_timeout_exp <= 15) {
		p->timeout = (uint8_t)j->plan_timeout_exp;
	} else {
		uint64_t airtime = 0, interval = 0, need_s;

		engine_frame_timing(j, p->frag_size, &airtime, &interval);
		need_s = (uint64_t)(p->nb_frag + p->cap) * interval / 1000000u + 60u;
		if (e->cfg.adaptive && !e->cfg.adaptive_stream)
			need_s += rounds_wait_s(e, j);
		if (j->multicast_timeout_s > 0 && (uint64_t)j->multicast_timeout_s > need_s)
			need_s = (uint64_t)j->multicast_timeout_s;
		if (engine_session_timeout(j->mc_class == 'B', need_s, &p->timeout) != FUOTA_OK)
			return "the multicast session would exceed TS005's longest TimeOut";
	}
	return NULL;
}

/* The group job j reuses (mc_reuse_pick over the groups its devices hold) and the devices that
 * skip McGroupSetupReq (mc_reuse_device): into st, the DevEUIs in *skip (malloc'd, free()).
 * Nothing set when no group fits. */
static int start_reuse(struct engine *e, const struct seng_job *j, struct seng_start *st,
                       char (**skip)[SENG_EUI_LEN])
{
	struct seng_mc_held *devs = NULL;
	struct mc_reuse_group *g = NULL;
	size_t n_devs = 0, n_g = 0;
	int64_t pick;
	int rc = seng_mc_held(e->store, j->id,
	                      mc_reuse_kept_after_ms(st->now_ms, e->cfg.keep_group_max_age_s),
	                      &devs, &n_devs, &g, &n_g);

	if (rc != FUOTA_OK)
		return rc;
	pick = mc_reuse_pick(g, n_g);
	if (pick > 0 && n_devs > 0) {
		*skip = calloc(n_devs, sizeof(**skip));
		if (!*skip)
			rc = FUOTA_ERR_NO_MEMORY;
	}
	for (size_t i = 0; *skip && i < n_devs; i++)
		if (mc_reuse_device(devs[i].group_id, pick, true) == MC_REUSE_SKIP)
			memcpy((*skip)[st->n_skip++], devs[i].dev_eui, SENG_EUI_LEN);
	if (rc == FUOTA_OK && st->n_skip > 0) {
		st->reuse_group_id = pick;
		st->skip = (const char(*)[SENG_EUI_LEN]) * skip;
		st->frames_saved = mc_reuse_frames_saved(st->n_skip, 0);
	}
	free(devs);
	free(g);
	return rc;
}

/* Starts job j on a group an earlier job left on its devices, when one fits: *started. */
static int start_reusing(struct engine *e, const struct seng_job *j, struct seng_start *st,
                         bool *started)
{
	char(*skip)[SENG_EUI_LEN] = NULL;
	int rc = start_reuse(e, j, st, &skip);

	*started = false;
	if (rc == FUOTA_OK && st->reuse_group_id > 0) {
		rc = seng_job_start(e->store, st);
		*started = rc == FUOTA_OK;
		if (rc == FUOTA_ERR_CONFLICT)
			rc = FUOTA_OK; /* taken meanwhile: a fresh group */
	}
	if (*started) {
		log_msg(LOG_LVL_INFO, "job %lld: reuses multicast group %lld: %zu devices hold it",
		        (long long)j->id, (long long)st->reuse_group_id, st->n_skip);
		engine_job_event(e, j, "mc_reuse",
		                 json_pack("{s:I, s:I, s:I}", "group",
		                           (json_int_t)st->reuse_group_id, "devices_holding",
		                           (json_int_t)st->n_skip, "frames_saved",
		                           (json_int_t)st->frames_saved),
		                 true);
	}
	st->reuse_group_id = 0;
	st->skip = NULL;
	st->n_skip = 0;
	free(skip);
	return rc;
}

/* A reboot_at before the job's estimated end, now that it starts (plan_reboot_early): a warning
 * in its plan ("warnings", as POST /jobs:plan words its own) and its event log. */
static void reboot_warn(struct engine *e, const struct seng_job *j, int64_t now_ms)
{
	int64_t early_s = 0;
	json_t *w, *o;
	char *patch;

	if (!plan_reboot_early(j->reboot_at_ms, now_ms, j->estimated_s, &early_s))
		return;
	w = json_pack("{s:s, s:I, s:I, s:s}", "code", "reboot_before_end", "early_s",
	              (json_int_t)early_s, "estimated_end_ms",
	              (json_int_t)(now_ms + (int64_t)j->estimated_s * 1000), "message",
	              PLAN_REBOOT_EARLY_MSG);
	o = w ? json_pack("{s:[O]}", "warnings", w) : NULL;
	patch = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (!patch || seng_job_plan_note(e->store, j->id, patch) != FUOTA_OK)
		log_msg(LOG_LVL_WARN, "job %lld: reboot warning not noted in its plan",
		        (long long)j->id);
	log_msg(LOG_LVL_WARN, "job %lld: reboot_at is %lld s before the estimated end",
	        (long long)j->id, (long long)early_s);
	if (w)
		engine_job_event(e, j, "log", json_pack("{s:O}", "warning", w), true);
	free(patch);
	json_decref(o);
	json_decref(w);
}

int engine_job_start(struct engine *e, const struct seng_job *j, int64_t now_ms)
{
	struct engine_counts p;
	const char *why = engine_counts(e, j, 0, &p);
	uint8_t mc_key[16], box[16 + CBOX_OVERHEAD];
	char aad[48];
	struct seng_start st;
	bool reused = false;
	int rc;

	if (why) {
		log_msg(LOG_LVL_WARN, "job %lld: cannot start: %s", (long long)j->id, why);
		return engine_job_end(e, j, "failed", why, why, now_ms);
	}
	memset(&st, 0, sizeof(st));
	st.job_id = j->id;
	st.tenant = j->tenant;
	st.frag_size = p.frag_size;
	st.nb_frag = p.nb_frag;
	st.padding = p.padding;
	st.redundancy = p.redundancy;
	st.redundancy_cap = p.cap;
	st.adaptive = e->cfg.adaptive;
	st.session_timeout = p.timeout;
	st.now_ms = now_ms;
	rc = start_reusing(e, j, &st, &reused);
	if (rc != FUOTA_OK || reused)
		goto started;
	rc = FUOTA_ERR_CRYPTO;
	/* A random McKey and McAddr per job; the McKey is stored only sealed. */
	if (RAND_bytes(mc_key, sizeof(mc_key)) != 1)
		goto out;
	if (cbox_seal(e->cfg.master_key, mc_key, sizeof(mc_key), (const uint8_t *)aad,
	              engine_mc_key_aad(j->id, aad, sizeof(aad)), box, sizeof(box)) != FUOTA_OK)
		goto out;
	st.mc_key_box = box;
	st.mc_key_box_len = sizeof(box);
	for (int tries = 0; tries < 8; tries++) {
		uint8_t a[4];

		if (RAND_bytes(a, sizeof(a)) != 1)
			goto out;
		st.mc_addr = (uint32_t)a[0] | (uint32_t)a[1] << 8 | (uint32_t)a[2] << 16 |
		             (uint32_t)a[3] << 24;
		if (st.mc_addr == 0)
			continue;
		rc = seng_job_start(e->store, &st);
		if (rc != FUOTA_ERR_CONFLICT)
			break;
	}
started:
	if (rc == FUOTA_OK) {
		log_msg(LOG_LVL_INFO,
		        "job %lld: started: %u fragments of %u bytes, %u parity, TimeOut %u",
		        (long long)j->id, p.nb_frag, p.frag_size, p.redundancy, p.timeout);
		engine_job_event(e, j, "state",
		                 json_pack("{s:s, s:s}", "from", "pending", "to", "running"),
		                 false);
		reboot_warn(e, j, now_ms);
	}
out:
	memset(mc_key, 0, sizeof(mc_key));
	return rc;
}
