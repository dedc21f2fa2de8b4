/* The job engine: life cycle and leases (see fuota/engine.h); a job is started in
 * engine_start.c and runs through these phases in engine_phase.c:
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

#define JOB_CACHE_MS 1000

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
void engine_job_event(struct engine *e, const struct seng_job *j, const char *kind, json_t *fields,
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

int engine_job_end(struct engine *e, const struct seng_job *j, const char *state, const char *error,
                   const char *final_reason, int64_t now_ms)
{
	struct seng_failed f;
	int rc = seng_job_finish(e->store, j->id, state, error, final_reason, now_ms, &f);

	/* The same device event a step change publishes (engine_dev.c), once the end committed. */
	for (size_t i = 0; rc == FUOTA_OK && i < f.n; i++) {
		json_t *o =
		        json_pack("{s:I, s:s, s:s, s:s}", "job_id", (json_int_t)j->id, "dev_eui",
		                  f.dev_euis[i], "step", "failed", "reason", f.reasons[i]);
		char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (text)
			engine_event(e, j->tenant, j->id, "device", text);
		free(text);
		json_decref(o);
	}
	seng_failed_free(&f);
	return rc;
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
size_t engine_mc_key_aad(int64_t job_id, char *out, size_t cap)
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
	              engine_mc_key_aad(j->id, aad, sizeof(aad)), c->mc_key,
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
	rc = engine_job_end(e, j, "cancelled", NULL, "job cancelled", now_ms);
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
		rc = engine_job_start(e, &j, now_ms);
		seng_job_free(&j);
		if (rc != FUOTA_OK || (rc = seng_job_load(e->store, id, &j)) != FUOTA_OK)
			return rc;
		job_remember(e, &j, now_ms);
	}
	if (strcmp(j.state, "running") != 0 || !j.has_engine)
		goto out;
	rc = engine_phase_run(e, &j, now_ms, next_due);
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
	if (u->f_port == e->cfg.port_clk)
		rc = csr_on_uplink(e, u, now);
	else if (u->f_port == e->cfg.port_mc || u->f_port == e->cfg.port_frag)
		rc = engine_dev_uplink(e, u, now);
	else if (u->f_port == e->cfg.port_fmp)
		rc = engine_fmp_uplink(e, u, now);
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
