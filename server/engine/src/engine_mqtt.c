/* The job engine glued to fuota_mqtt (see fuota/engine_mqtt.h): the runner's life. Its batches
 * are in engine_mqtt_batch.c, its message handlers in engine_mqtt_msg.c (engine_runner.h). */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fuota/cfg.h"
#include "fuota/clock.h"
#include "fuota/engine_mqtt.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/lw_region.h"
#include "fuota/mqtt.h"
#include "fuota/outage.h"
#include "fuota/store.h"
#include "fuota/store_lock.h"
#include "engine_int.h"
#include "engine_runner.h"

#define MAX_WAIT_MS    1000
#define DRAIN_PER_LOOP 1000
#define STATS_EVERY_MS 10000
/* While the broker is away: a reminder this often between the lost and back lines. */
#define MQTT_WARN_EVERY_MS 10000
/* A clean stop waits at most this long for the broker to acknowledge the deletes published
 * (engine_outbox_owed_seq), so that they are not owed, and sent again, after the restart. */
#define STOP_ACK_WAIT_MS 3000

/* The engine's clock (engine_create's now_ms). */
static int64_t realtime_ms(void *ctx)
{
	(void)ctx;
	return fuota_real_ms();
}

static void stats_maybe_log(struct engine_runner *r, int64_t now_ms)
{
	struct runner_stats *st = &r->st;
	size_t q = mqtt_queue_len(r->queue);
	int64_t span = now_ms - st->since_ms;

	if (q > st->queue_max)
		st->queue_max = q;
	if (span < STATS_EVERY_MS)
		return;
	if (st->uplinks + st->acks > 0 || st->queue_max > 0)
		log_msg(LOG_LVL_INFO,
		        "engine: %.0f uplinks/s, %.0f acks/s over %lld ms; queue %zu (max %zu); "
		        "busy %.0f %% on uplinks (%.0f us each), %.0f %% on ticks; %llu batches, "
		        "%llu messages undone, %llu unreadable gateway messages",
		        (double)st->uplinks * 1000.0 / (double)span,
		        (double)st->acks * 1000.0 / (double)span, (long long)span, q, st->queue_max,
		        (double)st->uplink_us / (double)span / 10.0,
		        st->uplinks ? (double)st->uplink_us / (double)st->uplinks : 0.0,
		        (double)st->tick_us / (double)span / 10.0, (unsigned long long)st->batches,
		        (unsigned long long)st->failed, (unsigned long long)st->unreadable);
	memset(st, 0, sizeof(*st));
	st->since_ms = now_ms;
}

int engine_cfg_parse_regions(struct engine_cfg *c, const char *spec, bool default_dc, char *err,
                             size_t errlen)
{
	const char *p = spec ? spec : "";

	c->n_regions = 0;
	while (*p) {
		char item[128], *name, *prefix, *dc;
		size_t len = strcspn(p, ",");
		struct engine_region_cfg *r;

		if (len >= sizeof(item)) {
			snprintf(err, errlen, "[engine] regions: entry too long");
			return FUOTA_ERR_INVALID_ARG;
		}
		memcpy(item, p, len);
		item[len] = 0;
		p += len + (p[len] == ',');
		name = item;
		while (isspace((unsigned char)*name))
			name++;
		if (!*name)
			continue;
		if (c->n_regions == ENGINE_MAX_REGIONS) {
			snprintf(err, errlen, "[engine] regions: at most %d", ENGINE_MAX_REGIONS);
			return FUOTA_ERR_INVALID_ARG;
		}
		prefix = strchr(name, ':');
		if (prefix)
			*prefix++ = 0;
		dc = prefix ? strchr(prefix, ':') : NULL;
		if (dc)
			*dc++ = 0;
		for (char *q = name + strlen(name); q > name && isspace((unsigned char)q[-1]);)
			*--q = 0;
		if (!lw_region_find(name)) {
			snprintf(err, errlen, "[engine] regions: unknown region \"%s\"", name);
			return FUOTA_ERR_INVALID_ARG;
		}
		r = &c->regions[c->n_regions++];
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s", lw_region_find(name)->name);
		if (prefix && *prefix)
			snprintf(r->topic_prefix, sizeof(r->topic_prefix), "%s", prefix);
		r->duty_cycle = default_dc;
		if (dc) {
			while (isspace((unsigned char)*dc))
				dc++;
			if (strncmp(dc, "on", 2) == 0)
				r->duty_cycle = true;
			else if (strncmp(dc, "off", 3) == 0)
				r->duty_cycle = false;
			else {
				snprintf(err, errlen,
				         "[engine] regions: duty cycle of %s: on or off", name);
				return FUOTA_ERR_INVALID_ARG;
			}
		}
	}
	return FUOTA_OK;
}

/* The broker connection, at every loop (at most a second apart): one line when it is lost, one
 * when it is back, a reminder every MQTT_WARN_EVERY_MS between (fuota/outage.h); the messages
 * fuotad publishes meanwhile wait in the client's outbox. A reconnection between two looks
 * (the connection count grew) is both lines at once. */
static void mqtt_watch(struct engine_runner *r, int64_t now_ms)
{
	struct mqtt_status st;
	uint64_t n = 0;
	int64_t down_ms = 0;
	enum outage_say say;
	bool blip;

	memset(&st, 0, sizeof(st));
	mqtt_get_status(r->mqtt, &st);
	r->mqtt_outbox = st.outbox;
	r->mqtt_up = st.connected;
	/* The deletes acknowledged by now no longer owed, however full the outbox. */
	engine_outbox_acked(r->engine, st.acked_seq);
	/* The first connection is under way: not an outage yet. */
	if (st.connects == 0 && now_ms - r->started_ms < MQTT_WARN_EVERY_MS)
		return;
	blip = st.connected && r->mqtt_connects > 0 && st.connects > r->mqtt_connects &&
	       !r->mqtt_out.down;
	/* A (re)connection: the uplinks from before it are gone (QoS 0 from the network server),
	 * and the engine must not read their absence as silence. */
	if (st.connected && st.connects > r->mqtt_connects)
		engine_uplinks_resumed(r->engine, now_ms);
	r->mqtt_connects = st.connects;
	if (blip && outage_note(&r->mqtt_out, false, now_ms, MQTT_WARN_EVERY_MS, &n, &down_ms) ==
	                    OUTAGE_LOST)
		log_msg(LOG_LVL_WARN, "mqtt: connection to the broker lost; reconnecting");
	say = outage_note(&r->mqtt_out, st.connected, now_ms, MQTT_WARN_EVERY_MS, &n, &down_ms);
	if (say == OUTAGE_LOST)
		log_msg(LOG_LVL_WARN, "mqtt: connection to the broker lost; reconnecting");
	else if (say == OUTAGE_STILL)
		log_msg(LOG_LVL_WARN,
		        "mqtt: broker still unreachable after %lld s; %zu messages wait to be sent",
		        (long long)(down_ms / 1000), st.outbox);
	else if (say == OUTAGE_BACK)
		log_msg(LOG_LVL_INFO,
		        "mqtt: broker connection back after %lld ms; %zu messages wait to be sent",
		        (long long)down_ms, st.outbox);
}

bool engine_runner_refused(const struct engine_runner *r)
{
	return r && atomic_load(&r->refused);
}

static void *runner_main(void *arg)
{
	struct engine_runner *r = arg;
	int64_t next_due = 0;

	r->self = pthread_self();
	r->st.since_ms = realtime_ms(NULL);
	r->started_ms = r->st.since_ms;
	while (!atomic_load(&r->stop)) {
		int64_t now = realtime_ms(NULL), wait;
		struct mqtt_msg *m = NULL;

		stats_maybe_log(r, now);
		mqtt_watch(r, now);
		if (!engine_instance_watch(&r->inst, r->engine, now)) {
			if (r->inst.st.refused)
				atomic_store(&r->refused, true);
			engine_instance_pause();
			continue;
		}
		/* What waits either way: the answers to come first, and the requests already
		 * made. The outbox holds 10,000 messages; a 100,000-device job's first ticks
		 * (256 requests each, back to back) filled it and 9,632 requests were refused,
		 * each then lost a whole attempt. Without the broker nothing reaches a device and
		 * no answer reaches fuotad: an attempt sent then, or judged then, is lost for
		 * nothing (a chaos run lost three of them to an 8 s broker restart), so the
		 * requests wait for the connection. */
		engine_set_backlog(r->engine, r->mqtt_up ? mqtt_queue_len(r->queue) + r->mqtt_outbox
		                                         : SIZE_MAX);
		engine_runner_retry_run(r);
		if (now >= next_due) {
			int64_t t0 = fuota_mono_us();

			if (engine_tick(r->engine, now, &next_due) != FUOTA_OK)
				next_due = now + MAX_WAIT_MS;
			r->st.tick_us += fuota_mono_us() - t0;
			now = realtime_ms(NULL);
		}
		engine_gwmodem_tick(&r->modems, r->store, now);
		wait = next_due - now;
		if (wait < 0)
			wait = 0;
		if (wait > MAX_WAIT_MS)
			wait = MAX_WAIT_MS;
		if (mqtt_queue_pop(r->queue, (uint32_t)wait, &m) != FUOTA_OK)
			continue;
		for (int i = 0; m && i < DRAIN_PER_LOOP;) {
			i += engine_runner_handle_batch(r, m, NULL, 0, NULL);
			m = NULL;
			if (i < DRAIN_PER_LOOP && mqtt_queue_pop(r->queue, 0, &m) != FUOTA_OK)
				m = NULL;
		}
		mqtt_msg_free(m);
	}
	return NULL;
}

/* Subscribes the shared uplink filter and the ack filter of every region prefix. */
static int subscribe_all(struct engine_runner *r, const struct engine_cfg *ecfg, const char *group)
{
	char filter[256];
	int rc;

	snprintf(r->up_filter, sizeof(r->up_filter), "%s/+/device/+/event/up", ecfg->app_topic);
	snprintf(filter, sizeof(filter), "$share/%s/%s", group, r->up_filter);
	rc = mqtt_subscribe(r->mqtt, filter, 1, mqtt_queue_on_message, r->queue);
	for (size_t i = 0; rc == FUOTA_OK && i < lw_region_count(); i++) {
		struct engine_region_cfg rc_;
		const struct lw_region *reg = lw_region_at(i);
		bool listed = ecfg->n_regions == 0;

		for (size_t k = 0; k < ecfg->n_regions; k++)
			listed |= strcasecmp(ecfg->regions[k].name, reg->name) == 0;
		if (!listed)
			continue;
		memset(&rc_, 0, sizeof(rc_));
		for (size_t k = 0; k < ecfg->n_regions; k++)
			if (strcasecmp(ecfg->regions[k].name, reg->name) == 0)
				rc_ = ecfg->regions[k];
		if (!rc_.topic_prefix[0])
			for (size_t k = 0; reg->name[k] && k + 1 < sizeof(rc_.topic_prefix); k++) {
				rc_.topic_prefix[k] = (char)tolower((unsigned char)reg->name[k]);
				rc_.topic_prefix[k + 1] = 0;
			}
		if (r->n_gw_filters == GW_FILTERS)
			break; /* more regions than lw_region knows */
		snprintf(r->gw_ack[r->n_gw_filters], sizeof(r->gw_ack[0]), "%s/gateway/+/event/ack",
		         rc_.topic_prefix);
		snprintf(r->gw_stats[r->n_gw_filters], sizeof(r->gw_stats[0]),
		         "%s/gateway/+/event/stats", rc_.topic_prefix);
		snprintf(r->gw_down[r->n_gw_filters], sizeof(r->gw_down[0]),
		         "%s/gateway/+/command/down", rc_.topic_prefix);
		snprintf(filter, sizeof(filter), "$share/%s/%s", group, r->gw_ack[r->n_gw_filters]);
		rc = mqtt_subscribe(r->mqtt, filter, 1, mqtt_queue_on_message, r->queue);
		snprintf(filter, sizeof(filter), "$share/%s/%s", group,
		         r->gw_stats[r->n_gw_filters]);
		if (rc == FUOTA_OK)
			rc = mqtt_subscribe(r->mqtt, filter, 1, mqtt_queue_on_message, r->queue);
		/* Not shared: a shared subscription gets no retained message (MQTT 5 §4.8.2). */
		snprintf(r->gw_modem[r->n_gw_filters], sizeof(r->gw_modem[0]),
		         "%s/gateway/+/state/modem", rc_.topic_prefix);
		if (rc == FUOTA_OK)
			rc = mqtt_subscribe(r->mqtt, r->gw_modem[r->n_gw_filters], 1,
			                    mqtt_queue_on_message, r->queue);
		if (rc == FUOTA_OK)
			rc = engine_gwmodem_subscribe(&r->modems, group, rc_.topic_prefix,
			                              r->queue);
		r->n_gw_filters++;
	}
	return rc;
}

/* engine_runner_start_with, the runner owning lock (checked by its thread) once started. */
static int runner_start(struct store *s, struct mqtt_client *mqtt, const struct engine_cfg *ecfg,
                        const char *share_group, struct store_lock *lock,
                        struct engine_runner **out);

int engine_runner_start_with(struct store *s, struct mqtt_client *mqtt,
                             const struct engine_cfg *ecfg, const char *share_group,
                             struct engine_runner **out)
{
	return runner_start(s, mqtt, ecfg, share_group, NULL, out);
}

static int runner_start(struct store *s, struct mqtt_client *mqtt, const struct engine_cfg *ecfg,
                        const char *share_group, struct store_lock *lock,
                        struct engine_runner **out)
{
	struct engine_runner *r;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return FUOTA_ERR_NO_MEMORY;
	r->store = s;
	r->mqtt = mqtt;
	r->gw_json_default = ecfg->gw_json;
	r->inst.lock = lock;
	snprintf(r->inst.id, sizeof(r->inst.id), "%s", ecfg->instance_id);
	atomic_init(&r->stop, false);
	atomic_init(&r->refused, false);
	rc = mqtt_queue_create(0, &r->queue);
	if (rc == FUOTA_OK)
		rc = engine_create(s, ecfg, realtime_ms, NULL, engine_runner_publish, r,
		                   &r->engine);
	if (rc == FUOTA_OK)
		engine_set_lock_pid(r->engine, store_lock_pid(lock));
	if (rc == FUOTA_OK)
		engine_gwmodem_attach(&r->modems, r->engine, r->mqtt);
	if (rc == FUOTA_OK)
		rc = subscribe_all(r, ecfg, share_group);
	if (rc == FUOTA_OK) {
		rc = pthread_create(&r->thread, NULL, runner_main, r) == 0 ? FUOTA_OK
		                                                           : FUOTA_ERR_NO_MEMORY;
		r->started = rc == FUOTA_OK;
	}
	if (rc != FUOTA_OK) {
		r->inst.lock = NULL; /* the caller's still */
		engine_runner_stop(r);
		return rc;
	}
	*out = r;
	return FUOTA_OK;
}

int engine_runner_start(const struct cfg *c, struct engine_runner **out)
{
	struct engine_cfg ecfg;
	struct mqtt_options opt;
	struct store *s = NULL;
	struct mqtt_client *m = NULL;
	struct store_lock *lock = NULL;
	char err[256], client_id[64];
	int rc;

	*out = NULL;
	engine_cfg_defaults(&ecfg);
	memcpy(ecfg.master_key, c->master_key, sizeof(ecfg.master_key));
	ecfg.json = c->mqtt_encoding == CFG_ENC_JSON;
	ecfg.gw_json = c->mqtt_gw_encoding == CFG_ENC_JSON;
	snprintf(ecfg.app_topic, sizeof(ecfg.app_topic), "%s", c->mqtt_app_topic);
	snprintf(ecfg.event_prefix, sizeof(ecfg.event_prefix), "%s", c->mqtt_event_topic);
	ecfg.adaptive = c->engine_adaptive != 0;
	ecfg.adaptive_stream = c->engine_adaptive_mode == CFG_ADAPTIVE_STREAM;
	ecfg.adaptive_loss_percent = c->engine_adaptive_loss;
	ecfg.adaptive_step_percent = c->engine_adaptive_step;
	ecfg.adaptive_pause_ms = c->engine_adaptive_wait_s * 1000u;
	ecfg.gps_timing = c->engine_class_c_timing == CFG_CLASS_C_GPS;
	ecfg.keep_group_max_age_s = c->engine_keep_group_max_age_s;
	rc = engine_cfg_parse_regions(&ecfg, c->engine_regions, c->engine_duty_cycle != 0, err,
	                              sizeof(err));
	if (rc != FUOTA_OK) {
		log_msg(LOG_LVL_ERROR, "%s", err);
		return rc;
	}
	if (!c->have_master_key) {
		log_msg(LOG_LVL_ERROR, "engine: needs the master key ([security] master_key)");
		return FUOTA_ERR_INVALID_ARG;
	}
	rc = engine_instance_claim(c, ecfg.instance_id, sizeof(ecfg.instance_id), &lock);
	if (rc != FUOTA_OK)
		return rc;
	snprintf(client_id, sizeof(client_id), "%s",
	         c->mqtt_client_id[0] ? c->mqtt_client_id : ecfg.instance_id);
	rc = store_open(c->db_dsn, 2, &s, err, sizeof(err));
	if (rc != FUOTA_OK) {
		log_msg(LOG_LVL_ERROR, "engine: %s", err);
		store_lock_free(lock);
		return rc;
	}
	store_set_prepared(s, c->db_prepared);
	store_set_label(s, "engine");
	rc = mqtt_paho_create(&m);
	if (rc == FUOTA_OK) {
		memset(&opt, 0, sizeof(opt));
		opt.client_id = client_id;
		opt.clean_session = true;
		rc = mqtt_connect(m, c->mqtt_url, &opt);
	}
	if (rc == FUOTA_OK)
		rc = runner_start(s, m, &ecfg, c->mqtt_share_group, lock, out);
	if (rc != FUOTA_OK) {
		mqtt_destroy(m);
		store_close(s);
		store_lock_free(lock);
		return rc;
	}
	(*out)->own_store = true;
	(*out)->own_mqtt = true;
	log_msg(LOG_LVL_INFO,
	        "engine: %s on %s as %s (%s downlinks; %s to gateways not yet heard from)",
	        ecfg.instance_id, c->mqtt_url, c->mqtt_share_group, ecfg.json ? "JSON" : "protobuf",
	        ecfg.gw_json ? "JSON" : "protobuf");
	return FUOTA_OK;
}

/* Before the engine goes: the deletes it published are given up to STOP_ACK_WAIT_MS to be
 * acknowledged, and those that were are no longer owed. */
static void stop_wait_acked(struct engine_runner *r)
{
	uint64_t owed = engine_outbox_owed_seq(r->engine);
	int64_t until = fuota_mono_ms() + STOP_ACK_WAIT_MS;
	struct mqtt_status st;
	struct timespec ts = {0, 20 * 1000000L};

	if (owed == 0)
		return;
	for (;;) {
		memset(&st, 0, sizeof(st));
		mqtt_get_status(r->mqtt, &st);
		if (st.acked_seq >= owed || fuota_mono_ms() >= until)
			break;
		nanosleep(&ts, NULL);
	}
	engine_outbox_acked(r->engine, st.acked_seq);
}

void engine_runner_stop(struct engine_runner *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, true);
	if (r->queue)
		mqtt_queue_wake(r->queue);
	if (r->started)
		pthread_join(r->thread, NULL);
	if (r->engine && r->mqtt)
		stop_wait_acked(r);
	engine_destroy(r->engine);
	if (r->own_mqtt) {
		mqtt_disconnect(r->mqtt, 2000);
		mqtt_destroy(r->mqtt);
	}
	mqtt_queue_destroy(r->queue);
	engine_runner_pending_drop(r, 0);
	free(r->pend);
	for (size_t i = 0; i < r->n_retry; i++)
		mqtt_msg_free(r->retry[i]);
	free(r->retry);
	engine_gwenc_free(&r->gws);
	engine_gwmodem_free(&r->modems);
	if (r->own_store)
		store_close(r->store);
	/* After engine_destroy released the leases. */
	store_lock_free(r->inst.lock);
	free(r);
}
