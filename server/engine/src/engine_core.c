/* The engine's shared services, below every other engine file: the GPS clock of the air, what the
 * engine publishes (downlinks and events), the job table with its cache of padded fragments and
 * multicast keys, and the gateways' duty-cycle slots. Nothing here calls another engine file. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine_int.h"
#include "fuota/cbox.h"
#include "fuota/err.h"
#include "fuota/frag_part.h"
#include "fuota/log.h"
#include "fuota/lw_gps.h"
#include "fuota/lw_region.h"
#include "fuota/mc_keys.h"

#define JOB_CACHE_MS 1000

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
	uint64_t seq = UINT64_MAX;
	int rc = e->publish(e->publish_ctx, topic, payload, len, &seq);

	if (rc == FUOTA_OK)
		e->pub_seq = seq;
	else
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

/* Publishes o (consumed; NULL: nothing) as job job_id's event of this kind, not stored. */
static void event_publish(struct engine *e, int64_t tenant, int64_t job_id, const char *kind,
                          json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (text)
		engine_event(e, tenant, job_id, kind, text);
	free(text);
	json_decref(o);
}

void engine_device_event(struct engine *e, int64_t tenant, int64_t job_id, const char *dev_eui,
                         enum engine_step step, const char *reason)
{
	event_publish(e, tenant, job_id, "device",
	              json_pack("{s:I, s:s, s:s, s:s?}", "job_id", (json_int_t)job_id, "dev_eui",
	                        dev_eui, "step", engine_step_name(step), "reason", reason));
}

int engine_job_end(struct engine *e, const struct seng_job *j, const char *state, const char *error,
                   const char *final_reason, int64_t now_ms)
{
	struct seng_failed f;
	int rc = seng_job_finish(e->store, j->id, state, error, final_reason, now_ms, &f);

	/* The device event a step change publishes (engine_dev_move), once the end committed. */
	for (size_t i = 0; rc == FUOTA_OK && i < f.n; i++)
		engine_device_event(e, j->tenant, j->id, f.dev_euis[i], ENGINE_STEP_FAILED,
		                    f.reasons[i]);
	seng_failed_free(&f);
	/* A region's child job: its parent's state follows (fuota/job_regions.h). */
	if (rc == FUOTA_OK)
		rc = engine_parent_sync(e, j->tenant, j->id);
	return rc;
}

int engine_parent_sync(struct engine *e, int64_t tenant, int64_t job_id)
{
	struct seng_parent_change ch;
	int rc = seng_job_parent_sync(e->store, job_id, &ch);

	if (rc != FUOTA_OK || ch.parent_id == 0)
		return rc;
	event_publish(e, tenant, ch.parent_id, "state",
	              json_pack("{s:s, s:s, s:I}", "from", ch.from, "to", ch.to, "job_id",
	                        (json_int_t)ch.parent_id));
	return FUOTA_OK;
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
void engine_job_remember(struct engine *e, const struct seng_job *j, int64_t now_ms)
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
	if (slot->j.id != j->id)
		memset(slot, 0, sizeof(*slot)); /* another job's counts go */
	slot->j = *j;
	slot->j.gateways = NULL;
	slot->j.n_gateways = 0;
	slot->loaded_ms = now_ms;
}

struct engine_job_cached *engine_job_slot(struct engine *e, int64_t id)
{
	for (size_t i = 0; i < ENGINE_JOB_CACHE; i++)
		if (e->jobs[i].j.id == id)
			return &e->jobs[i];
	return NULL;
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
		engine_job_remember(e, j, now_ms);
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
	size_t total, off = 0;

	for (c = e->cache; c; c = c->next)
		if (c->job_id == j->id)
			break;
	/* The job went on to its next part since (nb_frag changes with it): the next one. */
	if (c && c->part == j->part && c->nb_frag == j->nb_frag)
		return c;
	if (c)
		engine_cache_drop(e, j->id);
	if (!j->has_engine || j->frag_size == 0 || j->nb_frag == 0)
		return NULL;
	if (seng_firmware(e->store, j->id, &image, &len) != FUOTA_OK)
		return NULL;
	total = (size_t)j->nb_frag * j->frag_size;
	/* A job in parts: the part under way, from k * F * FragSize on (fuota/frag_part.h). */
	if (j->parts > 1) {
		struct frag_part fp = {(uint8_t)j->part, (uint8_t)j->parts,
		                       (uint16_t)j->part_frags};

		off = (size_t)frag_part_offset(&fp, j->frag_size);
	}
	c = calloc(1, sizeof(*c));
	if (!c || off > len)
		goto fail;
	len -= off;
	if (j->parts > 1 && len > total && j->part + 1 < j->parts)
		len = total; /* a part before the last: F fragments, no padding */
	if (len > total || total - len != j->padding)
		goto fail;
	c->frags = calloc(1, total);
	if (!c->frags)
		goto fail;
	memcpy(c->frags, image + off, len);
	c->image_len = len;
	c->part = j->part;
	c->job_id = j->id;
	c->frag_size = j->frag_size;
	c->nb_frag = j->nb_frag;
	c->mc_addr = j->mc_addr;
	if (cbox_open(e->cfg.master_key, j->mc_key_box, j->mc_key_box_len, (const uint8_t *)aad,
	              engine_mc_key_aad(j->mc_key_job_id > 0 ? j->mc_key_job_id : j->id, aad,
	                                sizeof(aad)),
	              c->mc_key, sizeof(c->mc_key)) != FUOTA_OK)
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

void engine_cache_free(struct engine_cache *c)
{
	free(c->frags);
	free(c->scratch);
	c->frags = NULL;
	c->scratch = NULL;
}
