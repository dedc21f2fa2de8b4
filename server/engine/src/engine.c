/* The job engine: life cycle, leases, and the phases of a job (see fuota/engine.h).
 *
 *   setup     devices walk pending -> pkg_version -> mc_setup -> frag_setup -> ready, each on its
 *             own (engine_dev.c); when none is left in a setup step the session is fixed:
 *   session   start = now + attempts * unicast timeout + margin; ready -> mc_session; one
 *             fragmentation session per TS004 version among the devices (each on its own
 *             FragIndex, fixed when the first device of that version was set up);
 *   transmit  at the session start: the devices that answered are in the session, the smallest
 *             gateway set covering them is fixed, the sessions' frames go out interleaved,
 *             each session stopping on its own (engine_tx.c);
 *   status    after the last frame (P19: nothing is deleted before): session -> frag_status,
 *             or straight to cleanup for a device that already reported its block; a device
 *             whose answer cannot prove the image and that has TS006 is asked
 *             DevUpgradeImageReq (confirm) before its cleanup;
 *   cleanup   FragSessionDelete + McGroupDelete for the devices that answered their status or
 *             reported their block (one shot for those that failed after their group was set
 *             up);
 *   done      job succeeded (some device has the image) or failed, lease dropped.
 * Each phase change is one transaction with its device moves, written before anything is sent. */
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

#define DEVS_PER_TICK      256u
#define GATEWAY_MAX_AGE_MS (INT64_C(7) * 24 * 3600 * 1000)
#define JOB_CACHE_MS       1000
#define BACKLOG_RETRY_MS   250

void engine_cfg_defaults(struct engine_cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->instance_id, sizeof(c->instance_id), "fuotad-%ld", (long)getpid());
	c->json = true;
	snprintf(c->event_prefix, sizeof(c->event_prefix), "fuota");
	snprintf(c->app_topic, sizeof(c->app_topic), "application");
	c->port_mc = 200;
	c->port_frag = 201;
	c->port_clk = 202;
	c->port_fmp = 203;
	c->lease_ms = 30000;
	c->session_margin_ms = 5000;
	/* A gateway starts a frame when the command reaches it, a little after we send it: without
	 * a margin, back-to-back frames (no duty cycle) arrive while it is still on air. */
	c->frame_margin_ms = 250;
	c->ack_timeout_ms = 10000;
	c->clock_tolerance_s = 3;
	c->adaptive_cap_percent = PLAN_ADAPTIVE_CAP_PERCENT;
	c->adaptive_loss_percent = 10;
	c->adaptive_step_percent = 3;
	c->max_jobs_per_tick = 32;
}

int engine_create(struct store *store, const struct engine_cfg *cfg, engine_clock_unix_ms_fn clock,
                  void *clock_ctx, engine_publish_fn publish, void *publish_ctx,
                  struct engine **out)
{
	struct engine *e;

	if (!out)
		return FUOTA_ERR_INVALID_ARG;
	*out = NULL;
	if (!store || !cfg || !clock || !publish)
		return FUOTA_ERR_INVALID_ARG;
	e = calloc(1, sizeof(*e));
	if (!e)
		return FUOTA_ERR_NO_MEMORY;
	pthread_mutex_init(&e->lock, NULL);
	e->store = store;
	e->cfg = *cfg;
	if (e->cfg.max_jobs_per_tick == 0)
		e->cfg.max_jobs_per_tick = 32;
	e->clock = clock;
	e->clock_ctx = clock_ctx;
	e->publish = publish;
	e->publish_ctx = publish_ctx;
	e->heard_since_ms = clock(clock_ctx);
	*out = e;
	return FUOTA_OK;
}

void engine_destroy(struct engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	engine_seen_flush(e, e->clock(e->clock_ctx), true);
	engine_seen_free(e);
	for (size_t i = 0; i < ENGINE_JOB_CACHE; i++)
		seng_job_free(&e->jobs[i].j);
	/* Not released, the leases still expire: another engine only waits longer. */
	{
		struct seng_lease who = engine_lease(e);

		if (seng_release(e->store, &who, 0) != FUOTA_OK)
			log_msg(LOG_LVL_WARN, "engine: leases of %s not released",
			        e->cfg.instance_id);
	}
	while (e->cache) {
		struct engine_cache *c = e->cache;

		e->cache = c->next;
		engine_cache_free(c);
		free(c);
	}
	free(e->gws);
	pthread_mutex_unlock(&e->lock);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

int64_t engine_unix_to_gps_ms(int64_t unix_ms)
{
	int64_t gps_s = 0, sec = unix_ms / 1000, ms = unix_ms % 1000;

	if (lw_gps_from_unix(sec, &gps_s) != FUOTA_OK)
		return 0;
	return gps_s * 1000 + ms;
}

int64_t engine_gps_to_unix_ms(int64_t gps_ms)
{
	int64_t unix_s = 0;

	if (lw_gps_to_unix(gps_ms / 1000, &unix_s) != FUOTA_OK)
		return 0;
	return unix_s * 1000 + gps_ms % 1000;
}

int engine_pub(struct engine *e, const char *topic, const uint8_t *payload, size_t len)
{
	int rc = e->publish(e->publish_ctx, topic, payload, len);

	if (rc != FUOTA_OK)
		log_msg(LOG_LVL_WARN, "engine: publish to %s failed: %s", topic,
		        fuota_strerror(rc));
	return rc;
}

void engine_event(struct engine *e, int64_t tenant, int64_t job_id, const char *kind,
                  const char *json)
{
	char topic[192];

	snprintf(topic, sizeof(topic), "%s/%lld/job/%lld/event/%s", e->cfg.event_prefix,
	         (long long)tenant, (long long)job_id, kind);
	engine_pub(e, topic, (const uint8_t *)json, strlen(json));
}

/* Publishes {"job_id":..., <fields>} as an event, and logs it in the job's event log when
 * `store` is set. fields: a jansson object, consumed. */
static void job_event(struct engine *e, const struct seng_job *j, const char *kind, json_t *fields,
                      bool store)
{
	char *text;

	if (!fields)
		return;
	json_object_set_new(fields, "job_id", json_integer(j->id));
	text = json_dumps(fields, JSON_COMPACT);
	if (text) {
		if (store && seng_event(e->store, j->tenant, j->id, NULL, kind, text) != FUOTA_OK)
			log_msg(LOG_LVL_WARN, "job %lld: %s event not stored", (long long)j->id,
			        kind);
		engine_event(e, j->tenant, j->id, kind, text);
	}
	free(text);
	json_decref(fields);
}

void engine_region_cfg(const struct engine *e, const char *region, struct engine_region_cfg *out)
{
	for (size_t i = 0; i < e->cfg.n_regions && i < ENGINE_MAX_REGIONS; i++) {
		if (strcasecmp(e->cfg.regions[i].name, region) == 0) {
			*out = e->cfg.regions[i];
			if (!out->topic_prefix[0])
				goto prefix;
			return;
		}
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", region);
	out->duty_cycle = true;
prefix:
	for (size_t i = 0; region[i] && i + 1 < sizeof(out->topic_prefix); i++) {
		out->topic_prefix[i] = (char)tolower((unsigned char)region[i]);
		out->topic_prefix[i + 1] = 0;
	}
}

struct engine_gw *engine_gw_slot(struct engine *e, const char *id)
{
	for (size_t i = 0; i < e->n_gws; i++)
		if (strcmp(e->gws[i].id, id) == 0)
			return &e->gws[i];
	if (e->n_gws == e->cap_gws) {
		size_t cap = e->cap_gws ? e->cap_gws * 2 : 16;
		struct engine_gw *g = realloc(e->gws, cap * sizeof(*g));

		if (!g)
			return NULL;
		e->gws = g;
		e->cap_gws = cap;
	}
	memset(&e->gws[e->n_gws], 0, sizeof(e->gws[0]));
	snprintf(e->gws[e->n_gws].id, SENG_EUI_LEN, "%s", id);
	return &e->gws[e->n_gws++];
}

void engine_cache_drop(struct engine *e, int64_t job_id)
{
	for (struct engine_cache **p = &e->cache; *p; p = &(*p)->next) {
		if ((*p)->job_id == job_id) {
			struct engine_cache *c = *p;

			*p = c->next;
			engine_cache_free(c);
			free(c);
			return;
		}
	}
}

/* Keeps a copy of the job row j read at now_ms for the uplinks that follow. */
static void job_remember(struct engine *e, const struct seng_job *j, int64_t now_ms)
{
	struct engine_job_cached *slot = &e->jobs[0];

	for (size_t i = 0; i < ENGINE_JOB_CACHE; i++) {
		if (e->jobs[i].j.id == j->id) {
			slot = &e->jobs[i];
			break;
		}
		if (e->jobs[i].loaded_ms < slot->loaded_ms)
			slot = &e->jobs[i];
	}
	slot->j = *j;
	slot->j.gateways = NULL;
	slot->j.n_gateways = 0;
	slot->loaded_ms = now_ms;
}

void engine_job_forget(struct engine *e, int64_t id)
{
	for (size_t i = 0; i < ENGINE_JOB_CACHE; i++)
		if (e->jobs[i].j.id == id)
			memset(&e->jobs[i], 0, sizeof(e->jobs[i]));
}

int engine_job_get(struct engine *e, int64_t id, int64_t now_ms, struct seng_job *j)
{
	int rc;

	/* Another engine's phase change reaches the answers of a device only after the request
	 * it causes went out and came back: far more than the cache's second. */
	for (size_t i = 0; i < ENGINE_JOB_CACHE; i++) {
		const struct engine_job_cached *c = &e->jobs[i];

		if (c->j.id == id && c->loaded_ms <= now_ms &&
		    now_ms - c->loaded_ms < JOB_CACHE_MS) {
			*j = c->j;
			return FUOTA_OK;
		}
	}
	rc = seng_job_load(e->store, id, j);
	if (rc == FUOTA_OK)
		job_remember(e, j, now_ms);
	return rc;
}

/* Associated data of a job's McKey box: the group belongs to that job. */
static size_t mc_key_aad(int64_t job_id, char *out, size_t cap)
{
	int n = snprintf(out, cap, "mc_key:%lld", (long long)job_id);

	return n > 0 ? (size_t)n : 0;
}

struct engine_cache *engine_cache_get(struct engine *e, const struct seng_job *j)
{
	struct engine_cache *c;
	uint8_t *image = NULL;
	size_t len = 0;
	char aad[48];
	size_t total;

	for (c = e->cache; c; c = c->next)
		if (c->job_id == j->id)
			return c;
	if (!j->has_engine || j->frag_size == 0 || j->nb_frag == 0)
		return NULL;
	if (seng_firmware(e->store, j->id, &image, &len) != FUOTA_OK)
		return NULL;
	total = (size_t)j->nb_frag * j->frag_size;
	c = calloc(1, sizeof(*c));
	if (!c || len > total || total - len != j->padding)
		goto fail;
	c->frags = calloc(1, total);
	if (!c->frags)
		goto fail;
	memcpy(c->frags, image, len);
	c->image_len = len;
	c->job_id = j->id;
	c->frag_size = j->frag_size;
	c->nb_frag = j->nb_frag;
	c->mc_addr = j->mc_addr;
	if (cbox_open(e->cfg.master_key, j->mc_key_box, j->mc_key_box_len, (const uint8_t *)aad,
	              mc_key_aad(j->id, aad, sizeof(aad)), c->mc_key,
	              sizeof(c->mc_key)) != FUOTA_OK)
		goto fail;
	if (mc_session_keys(c->mc_key, c->mc_addr, c->app_s_key, c->nwk_s_key) != FUOTA_OK)
		goto fail;
	free(image);
	c->next = e->cache;
	e->cache = c;
	return c;
fail:
	log_msg(LOG_LVL_ERROR, "job %lld: cannot load its firmware or McKey", (long long)j->id);
	if (c)
		engine_cache_free(c);
	free(c);
	free(image);
	return NULL;
}

/* ---- starting a job ------------------------------------------------------------------------ */

struct job_params_eng {
	uint32_t frag_size, nb_frag, padding, redundancy, cap;
	uint8_t timeout;
};

/* One DataFragment frame's time on air and the interval the sub-band's duty cycle sets between
 * two of them (the real sub-band's, whatever the gateways' configuration: this sizes the
 * session for real gateways). */
static int frame_timing(const struct seng_job *j, uint32_t frag_size, uint64_t *airtime_us,
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

/* Fragment size, counts and session TimeOut: from the job's plan when it has them, else from
 * the job's fields and the region's tables. NULL on success, else why the job cannot run. */
static const char *job_params(const struct engine *e, const struct seng_job *j,
                              struct job_params_eng *p)
{
	const struct lw_region *r = lw_region_find(j->region);
	const struct lw_dr *dr = NULL;
	unsigned max_fs = 0;
	uint64_t size = (uint64_t)j->firmware_size;

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
	p->nb_frag = (uint32_t)((size + p->frag_size - 1) / p->frag_size);
	p->padding = (uint32_t)((uint64_t)p->nb_frag * p->frag_size - size);
	if (p->nb_frag >= FRAG_MAX_N)
		return "the image needs more than 16383 fragments";
	if (j->plan_parity >= 0)
		p->redundancy = (uint32_t)j->plan_parity;
	else if (j->redundancy_frames >= 0)
		p->redundancy = (uint32_t)j->redundancy_frames;
	else if (j->redundancy_percent >= 0)
		p->redundancy =
		        (uint32_t)(((uint64_t)p->nb_frag * (uint64_t)j->redundancy_percent + 99) /
		                   100);
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
	if (j->plan_timeout_exp >= 0 && j->plan_timeout_exp <= 15) {
		p->timeout = (uint8_t)j->plan_timeout_exp;
	} else {
		uint64_t airtime = 0, interval = 0, need_s;

		frame_timing(j, p->frag_size, &airtime, &interval);
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

static int job_start(struct engine *e, const struct seng_job *j, int64_t now_ms)
{
	struct job_params_eng p;
	const char *why = job_params(e, j, &p);
	uint8_t mc_key[16], box[16 + CBOX_OVERHEAD];
	char aad[48];
	struct seng_start st;
	int rc = FUOTA_ERR_CRYPTO;

	if (why) {
		log_msg(LOG_LVL_WARN, "job %lld: cannot start: %s", (long long)j->id, why);
		return seng_job_finish(e->store, j->id, "failed", why, why, now_ms);
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
	/* A random McKey and McAddr per job; the McKey is stored only sealed. */
	if (RAND_bytes(mc_key, sizeof(mc_key)) != 1)
		goto out;
	if (cbox_seal(e->cfg.master_key, mc_key, sizeof(mc_key), (const uint8_t *)aad,
	              mc_key_aad(j->id, aad, sizeof(aad)), box, sizeof(box)) != FUOTA_OK)
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
	if (rc == FUOTA_OK) {
		log_msg(LOG_LVL_INFO,
		        "job %lld: started: %u fragments of %u bytes, %u parity, TimeOut %u",
		        (long long)j->id, p.nb_frag, p.frag_size, p.redundancy, p.timeout);
		job_event(e, j, "state",
		          json_pack("{s:s, s:s}", "from", "pending", "to", "running"), false);
	}
out:
	memset(mc_key, 0, sizeof(mc_key));
	return rc;
}

/* ---- phases --------------------------------------------------------------------------------- */

static int devices_due(struct engine *e, const struct seng_job *j, int64_t now_ms,
                       int64_t *next_due)
{
	struct seng_dev *devs = NULL;
	size_t n = 0;
	int rc;

	/* The answers of what was sent wait in the inbound queue: they come first. */
	if (e->backlog > ENGINE_BACKLOG_PAUSE) {
		if (now_ms + BACKLOG_RETRY_MS < *next_due)
			*next_due = now_ms + BACKLOG_RETRY_MS;
		return FUOTA_OK;
	}
	rc = seng_devs_due(e->store, j->id, now_ms, DEVS_PER_TICK, &devs, &n);
	/* More may be due than one tick handles: come back at once. */
	if (n == DEVS_PER_TICK)
		*next_due = now_ms;
	for (size_t i = 0; rc == FUOTA_OK && i < n; i++) {
		int r = engine_dev_due(e, j, &devs[i], now_ms);

		if (r == FUOTA_ERR_IO || r == FUOTA_ERR_UNAVAILABLE)
			rc = r;
	}
	free(devs);
	return rc;
}

static int phase(struct engine *e, const struct seng_job *j, struct seng_phase *p)
{
	int rc;

	p->lease = engine_lease(e);
	rc = seng_job_phase(e->store, j->id, p);

	engine_job_forget(e, j->id);
	if (rc == FUOTA_OK) {
		const char *from = engine_phase_name(p->from_phase),
		           *to = engine_phase_name(p->to_phase);

		log_msg(LOG_LVL_INFO, "job %lld: phase %s -> %s", (long long)j->id, from, to);
		job_event(e, j, "log", json_pack("{s:s, s:s}", "phase_from", from, "phase", to),
		          true);
	}
	return rc;
}

static int enter_cleanup(struct engine *e, const struct seng_job *j, enum engine_phase from);

static uint64_t unicast_timeout_ms(const struct seng_job *j)
{
	return (uint64_t)(j->unicast_timeout_s ? j->unicast_timeout_s : 1) * 1000u;
}

/* Frames one session may send: its uncoded fragments and every parity row it may need. */
static uint64_t session_frames_max(const struct seng_job *j)
{
	return (uint64_t)j->nb_frag +
	       (j->redundancy_cap > j->redundancy ? j->redundancy_cap : j->redundancy);
}

/* Fails the ready devices of group g with reason (a move of the phase change). */
static void fail_group(struct seng_move *m, const struct seng_group *g, const char *reason)
{
	memset(m, 0, sizeof(*m));
	m->from = "ready";
	m->to = "failed";
	m->reason = reason;
	m->frag_version = g->frag_version;
	m->by_index = true;
	m->frag_index = g->frag_index;
}

/* The estimate of the sessions the job is about to run, in its event log: per session its
 * devices and frames (fixed parity; frames_max with every adaptive row), then the frames, their
 * time on air and the session TimeOut in all. */
static void sessions_event(struct engine *e, const struct seng_job *j, const struct seng_group *g,
                           size_t n_g, uint8_t timeout)
{
	uint64_t airtime = 0, interval = 0, frames = 0;
	json_t *a = json_array(), *o;
	unsigned sessions = 0;

	frame_timing(j, j->frag_size, &airtime, &interval);
	for (size_t i = 0; a && i < n_g; i++) {
		if (g[i].count == 0)
			continue;
		sessions++;
		frames += (uint64_t)j->nb_frag + j->redundancy;
		json_array_append_new(
		        a, json_pack("{s:i, s:i, s:I, s:I, s:I}", "frag_index", g[i].frag_index,
		                     "ts004", g[i].frag_version, "devices", (json_int_t)g[i].count,
		                     "frames", (json_int_t)(j->nb_frag + j->redundancy),
		                     "frames_max", (json_int_t)session_frames_max(j)));
	}
	log_msg(LOG_LVL_INFO,
	        "job %lld: %u fragmentation session(s), %llu frames, %llu ms on air, TimeOut %u",
	        (long long)j->id, sessions, (unsigned long long)frames,
	        (unsigned long long)(frames * airtime / 1000), timeout);
	o = json_pack("{s:I, s:I, s:i}", "frames", (json_int_t)frames, "airtime_ms",
	              (json_int_t)(frames * airtime / 1000), "multicast_timeout", (int)timeout);
	if (o && a)
		json_object_set(o, "sessions", a);
	json_decref(a);
	job_event(e, j, "log", o, true);
}

/* What the job's plan says when the job runs more than one session: n_sessions of M fragments
 * and the plan's parity each, and the TimeOut that covers them. malloc'd JSON, NULL when out of
 * memory (the plan then stays as it was). */
static char *plan_patch(const struct seng_job *j, size_t n_sessions, uint8_t timeout)
{
	uint64_t airtime = 0, interval = 0,
	         frames = n_sessions * (uint64_t)(j->nb_frag + j->redundancy);
	json_t *o;
	char *text;

	frame_timing(j, j->frag_size, &airtime, &interval);
	o = json_pack("{s:I, s:I, s:f, s:i, s:I}", "sessions", (json_int_t)n_sessions,
	              "total_frames", (json_int_t)frames, "total_airtime_s",
	              (double)(frames * airtime) / 1e6, "multicast_timeout_exp", (int)timeout,
	              "multicast_timeout_s",
	              (json_int_t)((UINT64_C(1) << timeout) * (j->mc_class == 'B' ? 128u : 1u)));
	text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
	json_decref(o);
	return text;
}

/* The sessions of a job about to fix its session time, from its ready devices grouped by
 * (FragIndex, TS004 version) and sorted by both: one session per group left with devices. One
 * FragIndex serves one version: v1 and v2 rows differ, and a device decoding rows of the other
 * code would rebuild a wrong image (a v1 device would not even notice). Only devices an engine
 * without sessions per version set up can share one; the larger group keeps it (v2 on a tie:
 * its MIC protects it). Two sessions carry twice the frames: *timeout grows to cover them, and
 * if even TS005's longest TimeOut cannot, the smaller group (v1 on a tie) fails. The groups that
 * fail get count 0 and a move in moves[] (reason in why[]); returns the number of moves. */
static size_t choose_sessions(const struct seng_job *j, struct seng_group *g, size_t n_g,
                              struct seng_move *moves, char (*why)[112], uint8_t *timeout)
{
	size_t n_moves = 0, keep = 0;

	for (size_t i = 0; i + 1 < n_g; i++) {
		struct seng_group *a = &g[i], *b = &g[i + 1], *lose;

		if (a->frag_index != b->frag_index || a->count == 0 || b->count == 0)
			continue;
		lose = a->count > b->count ? b : a;
		snprintf(why[n_moves], sizeof(why[0]),
		         "TS004 v%d device in a job whose session uses v%d", lose->frag_version,
		         lose == a ? b->frag_version : a->frag_version);
		fail_group(&moves[n_moves], lose, why[n_moves]);
		n_moves++;
		lose->count = 0;
	}
	for (size_t i = 0; i < n_g; i++)
		keep += g[i].count > 0;
	if (keep > 1) {
		uint64_t airtime = 0, interval = 0, need;
		struct seng_group *lose = NULL;
		uint8_t t = 0;

		frame_timing(j, j->frag_size, &airtime, &interval);
		need = engine_multicast_need_s(j->mc_class == 'B', j->ping_periodicity,
		                               keep * session_frames_max(j), interval);
		if (engine_session_timeout(j->mc_class == 'B', need, &t) == FUOTA_OK) {
			if (t > *timeout)
				*timeout = t;
			return n_moves;
		}
		for (size_t i = 0; i < n_g; i++)
			if (g[i].count > 0 &&
			    (!lose || g[i].count < lose->count ||
			     (g[i].count == lose->count && g[i].frag_version < lose->frag_version)))
				lose = &g[i];
		snprintf(why[n_moves], sizeof(why[0]),
		         "TS004 v%d device: a second fragmentation session would exceed TS005's "
		         "longest TimeOut",
		         lose->frag_version);
		fail_group(&moves[n_moves], lose, why[n_moves]);
		n_moves++;
		lose->count = 0;
	}
	return n_moves;
}

/* The session start announced at now_ms: every device still to be reached must get
 * McClass{B,C}SessionReq through all its attempts before the session opens, each attempt waiting
 * for the device's next uplink to be delivered (class A): the longest uplink period seen among
 * the job's devices is added to every attempt. */
static int64_t session_start_from(struct engine *e, const struct seng_job *j, int64_t now_ms)
{
	int64_t start = engine_session_start_ms(
	        now_ms, j->unicast_attempts,
	        unicast_timeout_ms(j) + engine_seen_period_max(e, j->id), e->cfg.session_margin_ms);

	if (j->mc_class == 'B') {
		int64_t gps_s =
		        engine_classb_align_gps_s((engine_unix_to_gps_ms(start) + 999) / 1000);

		start = engine_gps_to_unix_ms(gps_s * 1000);
	}
	return start;
}

static int phase_setup(struct engine *e, const struct seng_job *j, const unsigned *counts,
                       int64_t now_ms)
{
	struct seng_group g[8];
	struct seng_move moves[8 + 1];
	struct seng_phase p;
	size_t n_g = 0, n_moves, keep = 0;
	int64_t start;
	char why[8][112], *patch = NULL;
	uint8_t timeout = j->session_timeout;
	int rc;

	if (counts[ENGINE_STEP_PENDING] + counts[ENGINE_STEP_PKG_VERSION] +
	            counts[ENGINE_STEP_MC_SETUP] + counts[ENGINE_STEP_FRAG_SETUP] >
	    0)
		return FUOTA_OK;
	if (counts[ENGINE_STEP_READY] == 0)
		return enter_cleanup(e, j, ENGINE_PHASE_SETUP);
	memset(&p, 0, sizeof(p));
	p.from_phase = ENGINE_PHASE_SETUP;
	start = session_start_from(e, j, now_ms);
	p.to_phase = ENGINE_PHASE_SESSION;
	p.set_session_start = true;
	p.session_start_ms = start;
	p.deadline_ms = now_ms;
	rc = seng_step_groups(e->store, j->id, "ready", g, 8, &n_g);
	if (rc != FUOTA_OK)
		return rc;
	n_moves = choose_sessions(j, g, n_g, moves, why, &timeout);
	if (timeout != j->session_timeout) {
		p.set_session_timeout = true;
		p.session_timeout = timeout;
	}
	memset(&moves[n_moves], 0, sizeof(moves[0]));
	moves[n_moves].from = "ready";
	moves[n_moves].to = "mc_session";
	n_moves++;
	p.moves = moves;
	p.n_moves = n_moves;
	p.create_sessions = true;
	for (size_t i = 0; i < n_g; i++)
		keep += g[i].count > 0;
	if (keep > 1)
		p.plan_patch = patch = plan_patch(j, keep, timeout);
	rc = phase(e, j, &p);
	if (rc == FUOTA_OK)
		sessions_event(e, j, g, n_g, timeout);
	free(patch);
	return rc;
}

/* The smallest gateway set that covers the devices in the session. Devices no gateway heard
 * cannot receive the multicast: they fail. */
static int pick_gateways(struct engine *e, const struct seng_job *j, char (**gws)[SENG_EUI_LEN],
                         size_t *n_gws, int64_t now_ms)
{
	struct seng_edges ed;
	struct engine_edge *edges = NULL;
	uint8_t *chosen = NULL, *work = NULL;
	size_t n_chosen = 0, n_uncovered = 0;
	/* Only gateways that heard the device in the last week: an older entry is a gateway that
	 * may be gone, or a device that moved. */
	int rc = seng_job_edges(e->store, j->id, "session", now_ms - GATEWAY_MAX_AGE_MS, &ed);

	*gws = NULL;
	*n_gws = 0;
	if (rc != FUOTA_OK)
		return rc;
	rc = FUOTA_ERR_NO_MEMORY;
	edges = calloc(ed.n_edges + 1, sizeof(*edges));
	chosen = calloc(ed.n_gw + 1, 1);
	work = calloc(ed.n_dev + 1, 1);
	*gws = calloc(ed.n_gw + 1, SENG_EUI_LEN);
	if (!edges || !chosen || !work || !*gws)
		goto out;
	for (size_t i = 0; i < ed.n_edges; i++) {
		edges[i].dev = ed.edge_dev[i];
		edges[i].gw = ed.edge_gw[i];
		edges[i].quality = ed.edge_q[i];
	}
	rc = engine_gw_cover(edges, ed.n_edges, ed.n_dev, ed.n_gw, chosen, &n_chosen, &n_uncovered,
	                     work);
	if (rc != FUOTA_OK)
		goto out;
	for (size_t g = 0; g < ed.n_gw; g++)
		if (chosen[g])
			memcpy((*gws)[(*n_gws)++], ed.gw_ids[g], SENG_EUI_LEN);
	/* work[d] == 0: no gateway ever heard device d. */
	for (size_t d = 0; d < ed.n_dev; d++) {
		struct seng_dev_update u;

		if (work[d] != 0)
			continue;
		seng_dev_update_init(&u);
		u.to = "failed";
		u.failure_reason = "no gateway has heard the device";
		/* STATE: the device left the session meanwhile. Any other failure leaves the phase
		 * unchanged, to be tried again, rather than run the session without failing it. */
		rc = seng_dev_update(e->store, j->id, ed.dev_euis[d], "session", &u);
		if (rc == FUOTA_ERR_STATE)
			rc = FUOTA_OK;
		if (rc != FUOTA_OK)
			goto out;
	}
	log_msg(LOG_LVL_INFO, "job %lld: %zu gateway(s) cover %zu device(s)", (long long)j->id,
	        *n_gws, ed.n_dev - n_uncovered);
out:
	if (rc != FUOTA_OK) {
		free(*gws);
		*gws = NULL;
	}
	free(edges);
	free(chosen);
	free(work);
	seng_edges_free(&ed);
	return rc;
}

/* The session start has come with `waiting` devices still in mc_session, some of which may
 * still answer: the start moves to a time every device can meet, and every device of the session
 * is asked again with it (nothing has been sent on the multicast group yet). */
static int move_session(struct engine *e, const struct seng_job *j, unsigned waiting,
                        int64_t now_ms, int64_t *next_due)
{
	static const struct seng_move again[] = {{.from = "session", .to = "mc_session"},
	                                         {.from = "mc_session", .to = "mc_session"}};
	struct seng_phase p;
	int64_t start = session_start_from(e, j, now_ms);
	int rc;

	memset(&p, 0, sizeof(p));
	p.from_phase = ENGINE_PHASE_SESSION;
	p.to_phase = ENGINE_PHASE_SESSION;
	p.set_session_start = true;
	p.session_start_ms = start;
	p.session_moved = true;
	p.deadline_ms = now_ms;
	p.moves = again;
	p.n_moves = 2;
	p.lease = engine_lease(e);
	rc = seng_job_phase(e->store, j->id, &p);
	engine_job_forget(e, j->id);
	if (rc != FUOTA_OK)
		return rc;
	log_msg(LOG_LVL_WARN,
	        "job %lld: session start passed with %u device(s) yet to answer "
	        "McClassSessionReq: moved %lld ms later, every device asked again",
	        (long long)j->id, waiting, (long long)(start - j->session_start_ms));
	job_event(e, j, "log",
	          json_pack("{s:s, s:I, s:I, s:I, s:i}", "session_moved",
	                    "devices had not answered McClassSessionReq by the session start",
	                    "session_start_was_ms", (json_int_t)j->session_start_ms,
	                    "session_start_ms", (json_int_t)start, "devices_waiting",
	                    (json_int_t)waiting, "moves", (int)j->session_moves + 1),
	          true);
	*next_due = now_ms;
	return FUOTA_OK;
}

static int phase_session(struct engine *e, const struct seng_job *j, const unsigned *counts,
                         int64_t now_ms, int64_t *next_due)
{
	static const struct seng_move late[] = {
	        {.from = "mc_session",
	         .to = "failed",
	         .reason = "McClassSessionReq: no answer before the session start"}};
	struct seng_phase p;
	char(*gws)[SENG_EUI_LEN] = NULL;
	size_t n_gws = 0;
	int rc;

	if (now_ms < j->session_start_ms) {
		if (j->session_start_ms < *next_due)
			*next_due = j->session_start_ms;
		return FUOTA_OK;
	}
	if (counts[ENGINE_STEP_MC_SESSION] > 0) {
		unsigned can = 0;

		rc = seng_session_waiting(e->store, j->id, j->unicast_attempts, &can);
		if (rc != FUOTA_OK)
			return rc;
		if (engine_session_move(can, j->session_moves))
			return move_session(e, j, counts[ENGINE_STEP_MC_SESSION], now_ms, next_due);
	}
	/* The gateway set is chosen from the table: every pair heard so far goes in first. */
	if (engine_seen_flush(e, now_ms, true) != FUOTA_OK)
		return FUOTA_ERR_IO;
	rc = pick_gateways(e, j, &gws, &n_gws, now_ms);
	if (rc != FUOTA_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	p.from_phase = ENGINE_PHASE_SESSION;
	p.to_phase = ENGINE_PHASE_TRANSMIT;
	p.moves = late;
	p.n_moves = 1;
	p.deadline_ms = now_ms;
	p.gateways = (const char(*)[SENG_EUI_LEN])gws;
	p.n_gateways = n_gws;
	/* The devices open their class C window at SessionTime: the first frame goes a second
	 * later so that a device whose clock is a little late does not miss it. */
	p.set_next_tx = true;
	p.next_tx_ms = j->session_start_ms + 1000;
	rc = phase(e, j, &p);
	free(gws);
	return rc;
}

static int phase_transmit(struct engine *e, struct seng_job *j, const unsigned *counts,
                          int64_t now_ms, int64_t *next_due)
{
	/* A device that reported its block (v2 FragDataBlockReceivedReq without MICError) has
	 * told what the final FragSessionStatusReq would ask: it goes straight to cleanup. The
	 * others are asked, those a status round judged done too: that judgement was
	 * provisional (an error in the answer fails them, a LoRaMac-node answer that cannot prove
	 * the image leaves them unconfirmed). */
	static const struct seng_move to_status[] = {
	        {.from = "session", .to = "cleanup", .block = 1},
	        {.from = "session", .to = "frag_status", .block = -1}};
	struct seng_phase p;
	bool done = false;
	int rc = FUOTA_OK;

	if (counts[ENGINE_STEP_SESSION] == 0)
		done = true; /* nobody to send to */
	else
		rc = engine_tx_run(e, j, now_ms, &done, next_due);
	if (rc != FUOTA_OK || !done)
		return rc;
	memset(&p, 0, sizeof(p));
	p.from_phase = ENGINE_PHASE_TRANSMIT;
	p.to_phase = ENGINE_PHASE_STATUS;
	p.moves = to_status;
	p.n_moves = 2;
	p.deadline_ms = now_ms;
	engine_tx_progress(e, j, true);
	return phase(e, j, &p);
}

static int enter_cleanup(struct engine *e, const struct seng_job *j, enum engine_phase from)
{
	struct seng_phase p;
	struct seng_dev *devs = NULL;
	size_t n = 0;
	int rc;

	memset(&p, 0, sizeof(p));
	p.from_phase = from;
	p.to_phase = ENGINE_PHASE_CLEANUP;
	rc = phase(e, j, &p);
	if (rc != FUOTA_OK)
		return rc;
	/* Every fragment is out (P19): the devices that failed may now drop their group. */
	if (seng_devs_with_group(e->store, j->id, false, &devs, &n) == FUOTA_OK)
		for (size_t i = 0; i < n; i++)
			engine_dev_cleanup_once(e, &devs[i]);
	free(devs);
	return FUOTA_OK;
}

/* A job with a device that has the image, or may have it (unconfirmed), succeeded; the error
 * text counts the others. */
static int finish(struct engine *e, const struct seng_job *j, const unsigned *counts,
                  int64_t now_ms)
{
	unsigned total = 0, ok = counts[ENGINE_STEP_DONE], unsure = counts[ENGINE_STEP_UNCONFIRMED];
	char error[128];
	const char *state = ok + unsure > 0 ? "succeeded" : "failed";
	int rc, n = 0;

	for (unsigned i = 0; i < ENGINE_STEP_COUNT; i++)
		total += counts[i];
	error[0] = 0;
	if (ok + unsure < total)
		n = snprintf(error, sizeof(error), "%u of %u devices failed", total - ok - unsure,
		             total);
	if (unsure > 0 && n >= 0 && (size_t)n < sizeof(error))
		snprintf(error + n, sizeof(error) - (size_t)n, "%s%u of %u devices unconfirmed",
		         n > 0 ? ", " : "", unsure, total);
	rc = seng_job_finish(e->store, j->id, state, error[0] ? error : NULL, "job ended", now_ms);
	if (rc != FUOTA_OK)
		return rc;
	engine_job_forget(e, j->id);
	log_msg(LOG_LVL_INFO, "job %lld: %s, %u of %u devices have the image, %u unconfirmed",
	        (long long)j->id, state, ok, total, unsure);
	job_event(e, j, "state",
	          json_pack("{s:s, s:s, s:I, s:I, s:I}", "from", "running", "to", state,
	                    "devices_ok", (json_int_t)ok, "devices_unconfirmed", (json_int_t)unsure,
	                    "devices", (json_int_t)total),
	          false);
	engine_cache_drop(e, j->id);
	return FUOTA_OK;
}

/* A cancelled job: nothing more is sent but the deletes of the groups that were set up. */
static int job_cancelled(struct engine *e, const struct seng_job *j, int64_t now_ms)
{
	struct seng_dev *devs = NULL;
	size_t n = 0;
	int rc;

	if (seng_devs_with_group(e->store, j->id, true, &devs, &n) == FUOTA_OK)
		for (size_t i = 0; i < n; i++)
			engine_dev_cleanup_once(e, &devs[i]);
	free(devs);
	rc = seng_job_finish(e->store, j->id, "cancelled", NULL, "job cancelled", now_ms);
	engine_job_forget(e, j->id);
	if (rc == FUOTA_OK) {
		log_msg(LOG_LVL_INFO, "job %lld: cancelled, engine stopped", (long long)j->id);
		engine_cache_drop(e, j->id);
	}
	return rc;
}

static int job_run(struct engine *e, int64_t id, int64_t now_ms, int64_t *next_due)
{
	struct seng_job j;
	unsigned counts[ENGINE_STEP_COUNT], pending;
	int rc = seng_job_load(e->store, id, &j);

	if (rc != FUOTA_OK)
		return rc;
	job_remember(e, &j, now_ms);
	if (strcmp(j.state, "cancelled") == 0) {
		rc = j.has_engine ? job_cancelled(e, &j, now_ms) : FUOTA_OK;
		goto out;
	}
	if (strcmp(j.state, "pending") == 0 && j.has_engine) {
		rc = seng_job_set_running(e->store, j.id);
		if (rc != FUOTA_OK)
			goto out;
		snprintf(j.state, sizeof(j.state), "running");
	}
	if (strcmp(j.state, "pending") == 0 && !j.has_engine) {
		rc = job_start(e, &j, now_ms);
		seng_job_free(&j);
		if (rc != FUOTA_OK || (rc = seng_job_load(e->store, id, &j)) != FUOTA_OK)
			return rc;
		job_remember(e, &j, now_ms);
	}
	if (strcmp(j.state, "running") != 0 || !j.has_engine)
		goto out;
	rc = devices_due(e, &j, now_ms, next_due);
	if (rc != FUOTA_OK)
		goto out;
	rc = seng_dev_counts(e->store, j.id, counts, ENGINE_STEP_COUNT, &pending);
	if (rc != FUOTA_OK)
		goto out;
	if (j.phase == ENGINE_PHASE_SETUP)
		rc = phase_setup(e, &j, counts, now_ms);
	else if (j.phase == ENGINE_PHASE_SESSION)
		rc = phase_session(e, &j, counts, now_ms, next_due);
	else if (j.phase == ENGINE_PHASE_TRANSMIT)
		rc = phase_transmit(e, &j, counts, now_ms, next_due);
	else if (j.phase == ENGINE_PHASE_STATUS &&
	         counts[ENGINE_STEP_FRAG_STATUS] + counts[ENGINE_STEP_CONFIRM] == 0)
		rc = enter_cleanup(e, &j, ENGINE_PHASE_STATUS);
	else if (j.phase == ENGINE_PHASE_CLEANUP && counts[ENGINE_STEP_CLEANUP] == 0)
		rc = finish(e, &j, counts, now_ms);
out:
	seng_job_free(&j);
	return rc;
}

int engine_tick(struct engine *e, int64_t now_unix_ms, int64_t *next_due_ms)
{
	int64_t ids[256];
	size_t n = 0;
	unsigned max;
	int64_t next = now_unix_ms + 1000;
	int rc;

	if (!e)
		return FUOTA_ERR_INVALID_ARG;
	max = e->cfg.max_jobs_per_tick < 256 ? e->cfg.max_jobs_per_tick : 256;
	pthread_mutex_lock(&e->lock);
	engine_seen_flush(e, now_unix_ms, false);
	{
		struct seng_lease who = engine_lease(e);

		rc = seng_claim(e->store, &who, now_unix_ms, e->cfg.lease_ms, max, ids, &n);
	}
	for (size_t i = 0; rc == FUOTA_OK && i < n; i++) {
		int r = job_run(e, ids[i], now_unix_ms, &next);

		if (r != FUOTA_OK)
			log_msg(LOG_LVL_WARN, "job %lld: %s", (long long)ids[i], fuota_strerror(r));
		if (r == FUOTA_ERR_IO || r == FUOTA_ERR_UNAVAILABLE)
			rc = r;
	}
	pthread_mutex_unlock(&e->lock);
	if (next_due_ms)
		*next_due_ms = next;
	return rc;
}

int engine_on_uplink(struct engine *e, const struct cs_uplink *u)
{
	int64_t now;
	int rc = FUOTA_OK;

	if (!e || !u)
		return FUOTA_ERR_INVALID_ARG;
	pthread_mutex_lock(&e->lock);
	now = e->clock(e->clock_ctx);
	/* The gateways that heard it go to the database with the next tick's batch. */
	engine_seen_uplink(e, u, now);
	if (u->f_port == e->cfg.port_clk) {
		int r = csr_on_uplink(e, u, now);

		if (r != FUOTA_OK)
			rc = r;
	} else if (u->f_port == e->cfg.port_mc || u->f_port == e->cfg.port_frag) {
		int r = engine_dev_uplink(e, u, now);

		if (r != FUOTA_OK)
			rc = r;
	} else if (u->f_port == e->cfg.port_fmp) {
		int r = engine_fmp_uplink(e, u, now);

		if (r != FUOTA_OK)
			rc = r;
	}
	/* Any uplink delivers one queued request (class A). Looked up again: the answers may
	 * have grown the table. */
	if (engine_seen_delivered(e, engine_seen_get(e, u->dev_eui, false), now) != FUOTA_OK)
		rc = FUOTA_ERR_IO;
	pthread_mutex_unlock(&e->lock);
	return rc;
}

void engine_uplinks_resumed(struct engine *e, int64_t now_unix_ms)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	if (now_unix_ms > e->heard_since_ms)
		e->heard_since_ms = now_unix_ms;
	pthread_mutex_unlock(&e->lock);
}

void engine_set_backlog(struct engine *e, size_t waiting)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->backlog = waiting;
	pthread_mutex_unlock(&e->lock);
}

int engine_on_ack(struct engine *e, const struct cs_gw_ack *a)
{
	int64_t job_id = 0;
	bool ok;
	int rc;

	if (!e || !a)
		return FUOTA_ERR_INVALID_ARG;
	ok = a->status == CS_ACK_OK;
	pthread_mutex_lock(&e->lock);
	rc = seng_tx_ack(e->store, a->downlink_id, cs_ack_status_name(a->status), ok, &job_id);
	pthread_mutex_unlock(&e->lock);
	if (rc == FUOTA_ERR_NOT_FOUND)
		return FUOTA_OK; /* not ours, or acked already */
	if (rc == FUOTA_OK && !ok)
		log_msg(LOG_LVL_INFO,
		        "job %lld: gateway %s refused frame %u (%s): sent again later",
		        (long long)job_id, a->gateway_id, a->downlink_id,
		        cs_ack_status_name(a->status));
	return rc;
}
