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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_int.h"
#include "fuota/err.h"
#include "fuota/log.h"

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
	c->keep_group_max_age_s = MC_REUSE_MAX_AGE_S;
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
	engine_delq_free(e);
	pthread_mutex_unlock(&e->lock);
	pthread_mutex_destroy(&e->lock);
	free(e);
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
	engine_job_remember(e, &j, now_ms);
	if (strcmp(j.state, "cancelled") == 0) {
		rc = j.has_engine ? job_cancelled(e, &j, now_ms) : FUOTA_OK;
		goto out;
	}
	if (strcmp(j.state, "pending") == 0 && j.has_engine) {
		rc = seng_job_set_running(e->store, j.id);
		if (rc == FUOTA_OK)
			rc = engine_parent_sync(e, j.tenant, j.id);
		if (rc != FUOTA_OK)
			goto out;
		snprintf(j.state, sizeof(j.state), "running");
	}
	if (strcmp(j.state, "pending") == 0 && !j.has_engine) {
		rc = engine_job_start(e, &j, now_ms);
		if (rc == FUOTA_OK) /* pending -> running: the parent's state follows */
			rc = engine_parent_sync(e, j.tenant, j.id);
		seng_job_free(&j);
		if (rc != FUOTA_OK || (rc = seng_job_load(e->store, id, &j)) != FUOTA_OK)
			return rc;
		engine_job_remember(e, &j, now_ms);
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
	engine_delq_reload(e); /* the first tick: the deletes a stopped fuotad still owed */
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
	engine_delq_run(e, now_unix_ms, &next);
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

void engine_outbox_acked(struct engine *e, uint64_t acked_seq)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	engine_delq_acked(e, acked_seq);
	pthread_mutex_unlock(&e->lock);
}

uint64_t engine_outbox_owed_seq(struct engine *e)
{
	uint64_t seq;

	if (!e)
		return 0;
	pthread_mutex_lock(&e->lock);
	seq = engine_delq_owed_seq(e);
	pthread_mutex_unlock(&e->lock);
	return seq;
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
