/* The job engine glued to fuota_mqtt (see fuota/engine_mqtt.h). */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuota/cfg.h"
#include "fuota/clock.h"
#include "fuota/cs_msg.h"
#include "fuota/engine_mqtt.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/lw_region.h"
#include "fuota/mqtt.h"
#include "fuota/outage.h"
#include "fuota/store.h"
#include "fuota/store_lock.h"
#include "engine_gwenc.h"
#include "engine_gwmodem.h"
#include "engine_instance.h"
#include "engine_int.h"
#include "fuota/store_engine.h"

#define MAX_WAIT_MS    1000
#define DRAIN_PER_LOOP 1000
#define STATS_EVERY_MS 10000
/* While the broker is away: a reminder this often between the lost and back lines. */
#define MQTT_WARN_EVERY_MS 10000
/* Inbound messages handled in one database transaction at most. Each one that writes is a
 * subtransaction (two with a store function's own transaction in it), and PostgreSQL tracks up to
 * 64 of them per transaction in shared memory: the store ends a batch sooner when its
 * savepoints come near (store_batch_more), or when its connection broke, so that the messages
 * still queued wait for a connection that works instead of being lost with the batch. */
#define BATCH_MAX 48
/* Messages kept while the database is away, at most (then the newest are dropped). */
#define RETRY_MAX 65536

/* What the engine thread did since the last stats line (logged at info every 10 s while busy):
 * how far the inbound queue falls behind is the first thing to look at when a large job fails. */
struct runner_stats {
	int64_t since_ms;
	uint64_t uplinks, acks, batches, failed, unreadable;
	int64_t uplink_us, tick_us;
	size_t queue_max;
};

/* The encoding of a gateway (CHIRPSTACK-NOTES §9.4): learnt from what it publishes (heard), or
 * read from engine_gateway, where any instance of the shared subscriptions stored it, at most
 * GW_RECHECK_MS ago (checked_ms). Kept in r->gws (engine_gwenc.h). A message on a gateway's
 * topic that is not a stats or ack message of the encoding its first byte tells, naming that
 * gateway, teaches nothing: it is counted, and logged at debug at most every GW_GARBAGE_LOG_MS
 * per gateway. */
#define GW_RECHECK_MS     60000
#define GW_GARBAGE_LOG_MS 60000
#define GW_FILTERS        16

/* A message the engine published during a batch: sent once the batch is committed. */
struct pending_pub {
	char *topic;
	uint8_t *payload;
	size_t len;
};

struct engine_runner {
	struct engine *engine;
	struct store *store;      /* owned when own_store */
	struct mqtt_client *mqtt; /* owned when own_mqtt */
	bool own_store, own_mqtt;
	struct mqtt_queue *queue;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	char up_filter[192];
	/* Per region: {prefix}/gateway/+/event/ack, .../event/stats, .../command/down. */
	char gw_ack[GW_FILTERS][96], gw_stats[GW_FILTERS][96], gw_down[GW_FILTERS][96];
	char gw_modem[GW_FILTERS][96]; /* .../state/modem (fuota-gw's, retained) */
	size_t n_gw_filters;
	struct engine_gwmodem modems;
	bool gw_json_default;
	struct engine_gwenc gws;
	struct runner_stats st;
	/* Set by the runner thread itself: publishes of that thread while batching wait in pend. */
	pthread_t self;
	bool batching;
	uint64_t item_seq, batch_first; /* items handled, the first of the open batch */
	struct pending_pub *pend;
	size_t n_pend, cap_pend;
	/* The instance id and its lock (owned; no lock with engine_runner_start_with). */
	struct engine_instance inst;
	atomic_bool refused; /* another process holds the id now: stopped for good */
	/* Messages whose database work was undone because the server went away (retry_keep). */
	struct mqtt_msg **retry;
	size_t n_retry, cap_retry, retry_dropped;
	/* The broker connection as last seen (mqtt_watch). */
	struct outage mqtt_out;
	uint32_t mqtt_connects;
	int64_t started_ms;
};

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

/* The gateway id of topic when it matches one of filters ({prefix}/gateway/+/...): the level
 * after "gateway", 16 hex digits, lower-cased into id. */
static bool gw_topic(const char (*filters)[96], size_t n, const char *topic, char id[CS_EUI_LEN])
{
	for (size_t i = 0; i < n; i++) {
		const char *p;
		size_t k = 0;

		if (!mqtt_topic_match(filters[i], topic))
			continue;
		p = topic + (strstr(filters[i], "/gateway/+/") - filters[i]) + strlen("/gateway/");
		for (; k < CS_EUI_LEN - 1 && isxdigit((unsigned char)p[k]); k++)
			id[k] = (char)tolower((unsigned char)p[k]);
		id[k] = 0;
		return k == CS_EUI_LEN - 1 && p[k] == '/';
	}
	return false;
}

/* A message from gateway id in encoding json: remembered, and stored when it is news. */
static void gw_heard(struct engine_runner *r, const char *id, bool json, int64_t now_ms)
{
	struct engine_gwenc_entry *g = engine_gwenc_get(&r->gws, id, true);

	if (!g)
		return;
	if (g->known && g->json == json && g->stored) {
		g->checked_ms = now_ms;
		return;
	}
	if (!g->known || g->json != json)
		log_msg(LOG_LVL_INFO, "engine: gateway %s speaks %s", id,
		        json ? "JSON" : "protobuf");
	g->known = true;
	g->json = json;
	g->checked_ms = now_ms;
	g->stored = seng_gw_encoding_set(r->store, id, json, now_ms) == FUOTA_OK;
	g->stored_in = r->item_seq;
}

/* The gateways stored by the batch items from seq first on were not stored after all (the items
 * were undone): stored again when next heard. */
static void gw_unstored(struct engine_runner *r, uint64_t first)
{
	for (size_t i = 0; i < r->gws.cap; i++) {
		struct engine_gwenc_entry *g = &r->gws.slots[i];

		if (g->id[0] && g->stored && g->stored_in >= first)
			g->stored = false;
	}
}

/* A message on gateway id's topic (what: "ack" or "stats") that is not one of its own in the
 * encoding its first byte tells (why): changes nothing of the gateway. */
static void gw_unreadable(struct engine_runner *r, const char *id, const char *what, bool json,
                          const char *why, int64_t now_ms)
{
	struct engine_gwenc_entry *g = engine_gwenc_get(&r->gws, id, true);

	r->st.unreadable++;
	if (!g)
		return;
	g->garbage++;
	if (g->garbage_logged_ms != 0 && now_ms - g->garbage_logged_ms < GW_GARBAGE_LOG_MS)
		return;
	log_msg(LOG_LVL_DEBUG,
	        "mqtt: gateway %s: %u unreadable message(s) since the last line, the latest a %s "
	        "(%s): %s; its encoding stays %s",
	        id, g->garbage, what, json ? "JSON" : "protobuf", why,
	        g->known ? (g->json ? "JSON" : "protobuf") : "unknown");
	g->garbage = 0;
	g->garbage_logged_ms = now_ms;
}

/* Whether gateway id gets its DownlinkFrames in JSON. */
static bool gw_wants_json(struct engine_runner *r, const char *id, int64_t now_ms)
{
	struct engine_gwenc_entry *g = engine_gwenc_get(&r->gws, id, true);
	bool json;

	if (!g)
		return r->gw_json_default;
	/* Once a minute (a gateway not heard from included: not at every frame). What this
	 * instance heard itself but could not store yet stays as heard. */
	if (now_ms - g->checked_ms >= GW_RECHECK_MS && (g->stored || !g->known)) {
		int rc = seng_gw_encoding_get(r->store, id, &json);

		g->checked_ms = now_ms;
		if (rc == FUOTA_OK) {
			g->known = g->stored = true;
			g->json = json;
		}
	}
	return g->known ? g->json : r->gw_json_default;
}

/* A DownlinkFrame the engine built in binary protobuf, for a gateway that speaks JSON: the
 * same frame in the JSON mapping (malloc'd into *text). */
static int gw_frame_json(const uint8_t *payload, size_t len, char **text, size_t *text_len)
{
	struct cs_gw_downlink d;
	char err[128];
	int rc = cs_gw_downlink_from_proto(payload, len, &d, err, sizeof(err));

	if (rc != FUOTA_OK) {
		log_msg(LOG_LVL_ERROR, "engine: own DownlinkFrame unreadable: %s", err);
		return rc;
	}
	return cs_gw_downlink_to_json(&d, text, text_len);
}

/* Whether a downlink (to a device or a gateway) may still go: not once the instance lock is seen
 * lost, even from a tick already under way (the lease fence stops its next write; this stops
 * what it wrote before). What was stored for it is then as if fuotad had died after the commit:
 * the FCnt skipped, the request counted as sent and asked again. Read on the runner's thread only
 * (the lock's connection is its own). */
static bool may_send(struct engine_runner *r, const char *topic)
{
	size_t n = strlen(topic), k = sizeof("/command/down") - 1;

	if (!r->inst.lock || n < k || strcmp(topic + n - k, "/command/down") != 0 ||
	    !pthread_equal(r->self, pthread_self()))
		return true;
	return !r->inst.st.lost && !r->inst.st.refused &&
	       store_lock_poll(r->inst.lock, false) == FUOTA_OK;
}

static int publish(void *ctx, const char *topic, const uint8_t *payload, size_t len)
{
	struct engine_runner *r = ctx;
	struct pending_pub *p;
	char gw[CS_EUI_LEN], *text = NULL;
	int rc;

	if (!may_send(r, topic))
		return FUOTA_ERR_STATE;

	if (gw_topic(r->gw_down, r->n_gw_filters, topic, gw) &&
	    gw_wants_json(r, gw, realtime_ms(NULL))) {
		size_t n = 0;

		rc = gw_frame_json(payload, len, &text, &n);
		if (rc != FUOTA_OK)
			return rc;
		payload = (const uint8_t *)text;
		len = n;
	}
	if (!r->batching || !pthread_equal(r->self, pthread_self())) {
		rc = mqtt_publish(r->mqtt, topic, payload, len, 1);
		free(text);
		return rc;
	}
	/* "Every transition persisted before it is acted on": held until the batch commits. */
	if (r->n_pend == r->cap_pend) {
		size_t cap = r->cap_pend ? r->cap_pend * 2 : 64;
		struct pending_pub *np = realloc(r->pend, cap * sizeof(*np));

		if (!np) {
			free(text);
			return FUOTA_ERR_NO_MEMORY;
		}
		r->pend = np;
		r->cap_pend = cap;
	}
	p = &r->pend[r->n_pend];
	p->topic = strdup(topic);
	p->payload = malloc(len ? len : 1);
	p->len = len;
	if (!p->topic || !p->payload) {
		free(p->topic);
		free(p->payload);
		free(text);
		return FUOTA_ERR_NO_MEMORY;
	}
	memcpy(p->payload, payload, len);
	free(text);
	r->n_pend++;
	return FUOTA_OK;
}

/* Drops the held messages from index `from` on (not sent). */
static void pending_drop(struct engine_runner *r, size_t from)
{
	for (size_t i = from; i < r->n_pend; i++) {
		free(r->pend[i].topic);
		free(r->pend[i].payload);
	}
	if (from < r->n_pend)
		r->n_pend = from;
}

static void pending_send(struct engine_runner *r)
{
	for (size_t i = 0; i < r->n_pend; i++)
		if (!may_send(r, r->pend[i].topic))
			log_msg(LOG_LVL_WARN, "mqtt: %s: not sent, the instance lock is lost",
			        r->pend[i].topic);
		else if (mqtt_publish(r->mqtt, r->pend[i].topic, r->pend[i].payload, r->pend[i].len,
		                      1) != FUOTA_OK)
			log_msg(LOG_LVL_WARN, "mqtt: %s: not published", r->pend[i].topic);
	pending_drop(r, 0);
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

/* Whether a message on gateway gw's topic, read (rc) as a `what` in encoding json and naming
 * gateway `named`, is gw's own: its encoding is then learnt; anything else is counted and
 * changes nothing of the gateway. */
static bool gw_own(struct engine_runner *r, const char *gw, const char *what, bool json, int rc,
                   const char *named, char *err, size_t errlen)
{
	if (rc == FUOTA_OK && strcmp(named, gw) != 0) {
		snprintf(err, errlen, "it names gateway %s", named);
		rc = FUOTA_ERR_MALFORMED;
	}
	if (rc != FUOTA_OK) {
		gw_unreadable(r, gw, what, json, err, realtime_ms(NULL));
		return false;
	}
	gw_heard(r, gw, json, realtime_ms(NULL));
	return true;
}

/* An ack on gateway gw's topic: acted on when it is gw's own (gw_own). */
static void on_gw_ack(struct engine_runner *r, const char *gw, const struct mqtt_msg *m)
{
	struct cs_gw_ack a;
	char err[160];
	bool json = cs_payload_is_json(m->payload, m->len);
	int rc = json ? cs_gw_ack_from_json((const char *)m->payload, m->len, &a, err, sizeof(err))
	              : cs_gw_ack_from_proto(m->payload, m->len, &a, err, sizeof(err));

	if (gw_own(r, gw, "DownlinkTxAck", json, rc, a.gateway_id, err, sizeof(err))) {
		engine_on_ack(r->engine, &a);
		r->st.acks++;
	}
}

/* Stats tell the gateway's encoding only (one message per gateway every 30 s or so). */
static void on_gw_stats(struct engine_runner *r, const char *gw, const struct mqtt_msg *m)
{
	struct cs_gw_stats st;
	char err[160];
	bool json = cs_payload_is_json(m->payload, m->len);
	int rc = json ? cs_gw_stats_from_json((const char *)m->payload, m->len, &st, err,
	                                      sizeof(err))
	              : cs_gw_stats_from_proto(m->payload, m->len, &st, err, sizeof(err));

	gw_own(r, gw, "GatewayStats", json, rc, st.gateway_id, err, sizeof(err));
}

static void dispatch(struct engine_runner *r, const struct mqtt_msg *m)
{
	char err[160], gw[CS_EUI_LEN];
	int rc;

	if (mqtt_topic_match(r->up_filter, m->topic)) {
		struct cs_uplink *u = calloc(1, sizeof(*u));

		if (!u)
			return;
		if (cs_payload_is_json(m->payload, m->len))
			rc = cs_uplink_from_json((const char *)m->payload, m->len, u, err,
			                         sizeof(err));
		else
			rc = cs_uplink_from_proto(m->payload, m->len, u, err, sizeof(err));
		if (rc == FUOTA_OK && engine_ans_topic(r->up_filter, m->topic, u) != FUOTA_OK) {
			snprintf(err, sizeof(err), "its DevEUI or application is not its topic's");
			rc = FUOTA_ERR_MALFORMED;
		}
		if (rc == FUOTA_OK) {
			int64_t t0 = fuota_mono_us();

			engine_on_uplink(r->engine, u);
			r->st.uplinks++;
			r->st.uplink_us += fuota_mono_us() - t0;
		} else
			log_msg(LOG_LVL_WARN, "mqtt: %s: bad uplink: %s", m->topic, err);
		free(u);
		return;
	}
	if (gw_topic(r->gw_ack, r->n_gw_filters, m->topic, gw))
		on_gw_ack(r, gw, m);
	else if (gw_topic(r->gw_stats, r->n_gw_filters, m->topic, gw))
		on_gw_stats(r, gw, m);
	else if (gw_topic(r->gw_modem, r->n_gw_filters, m->topic, gw))
		(void)engine_gwmodem_on(&r->modems, r->store, gw, m->payload, m->len,
		                        realtime_ms(NULL));
}

/* Keeps m to be handled again once the database is back (its work was undone because the
 * server went away: an answer dropped now would cost the device its step). Owns m. */
static void retry_keep(struct engine_runner *r, struct mqtt_msg *m)
{
	if (r->n_retry == r->cap_retry) {
		size_t cap = r->cap_retry ? r->cap_retry * 2 : 64;
		struct mqtt_msg **p = cap <= RETRY_MAX ? realloc(r->retry, cap * sizeof(*p)) : NULL;

		if (!p) {
			r->retry_dropped++;
			mqtt_msg_free(m);
			return;
		}
		r->retry = p;
		r->cap_retry = cap;
	}
	r->retry[r->n_retry++] = m;
}

/* The next message of a batch: from the retry list when the batch replays it, else from the
 * queue (NULL when none waits). */
static struct mqtt_msg *batch_next(struct engine_runner *r, struct mqtt_msg **list, size_t n,
                                   size_t *pos)
{
	struct mqtt_msg *m = NULL;

	if (list)
		return *pos < n ? list[(*pos)++] : NULL;
	if (mqtt_queue_pop(r->queue, 0, &m) != FUOTA_OK)
		return NULL;
	return m;
}

/* The end of a batch of taken messages held[]: committed, the held messages whose work failed
 * while the database was away (redo) are kept for later and the others freed; not committed,
 * every one of them is kept when the database is away, else they are lost (said). */
static void batch_close(struct engine_runner *r, struct mqtt_msg **held, const bool *redo,
                        int taken, bool committed)
{
	bool down = store_down(r->store);
	int kept = 0;

	for (int i = 0; i < taken; i++) {
		if ((committed && redo[i]) || (!committed && down)) {
			retry_keep(r, held[i]);
			kept++;
		} else {
			mqtt_msg_free(held[i]);
		}
	}
	if (!committed && !down)
		log_msg(LOG_LVL_ERROR, "engine: %d messages not stored: nothing of them is sent",
		        taken);
	else if (kept > 0)
		log_msg(LOG_LVL_DEBUG, "engine: %d messages kept until the database is back", kept);
}

/* Handles m and up to BATCH_MAX - 1 more messages (from the queue, or from list when it
 * replays kept ones) in one database transaction (each its own savepoint), then publishes
 * what they made the engine send: nothing of an item whose database work failed, nothing at
 * all when the commit failed (the devices' requests are then retried at their deadlines, as for
 * a lost answer). A message whose work failed because the database went away is handled again
 * once it is back (batch_close). Returns how many messages it took. */
static int handle_batch(struct engine_runner *r, struct mqtt_msg *m, struct mqtt_msg **list,
                        size_t n_list, size_t *pos)
{
	bool batch = store_batch_begin(r->store) == FUOTA_OK, committed;
	struct mqtt_msg *held[BATCH_MAX];
	bool redo[BATCH_MAX];
	int taken = 0;

	r->batching = batch;
	r->batch_first = r->item_seq + 1;
	if (batch)
		engine_batch_begin(r->engine);
	while (m) {
		size_t mark = r->n_pend, engine_mark = engine_batch_mark(r->engine);

		r->item_seq++;
		if (batch)
			store_batch_item(r->store);
		dispatch(r, m);
		redo[taken] = false;
		if (batch && store_batch_item_failed(r->store)) {
			redo[taken] = store_down(r->store);
			if (!redo[taken])
				log_msg(LOG_LVL_WARN,
				        "mqtt: %s: its database work failed: not acted on",
				        m->topic);
			pending_drop(r, mark);
			gw_unstored(r, r->item_seq);
			engine_batch_undo(r->engine, engine_mark);
			r->st.failed++;
		}
		held[taken++] = m;
		m = NULL;
		if (taken < BATCH_MAX && (!batch || store_batch_more(r->store)))
			m = batch_next(r, list, n_list, pos);
	}
	if (!batch) {
		for (int i = 0; i < taken; i++)
			mqtt_msg_free(held[i]);
		return taken;
	}
	r->batching = false;
	r->st.batches++;
	committed = store_batch_end(r->store) == FUOTA_OK;
	if (committed) {
		pending_send(r);
	} else {
		r->st.failed += (uint64_t)taken;
		pending_drop(r, 0);
		gw_unstored(r, r->batch_first);
		engine_batch_undo(r->engine, 0);
	}
	batch_close(r, held, redo, taken, committed);
	engine_batch_end(r->engine);
	return taken;
}

/* The messages kept while the database was away, handled again (in their order) once it is
 * back; those that fail again are kept again. */
static void retry_run(struct engine_runner *r)
{
	struct mqtt_msg **list = r->retry;
	size_t n = r->n_retry, pos = 0;

	if (n == 0 || store_down(r->store))
		return;
	r->retry = NULL;
	r->n_retry = r->cap_retry = 0;
	log_msg(LOG_LVL_INFO, "engine: %zu messages handled again now that the database is back%s",
	        n, r->retry_dropped ? " (some were dropped: too many)" : "");
	r->retry_dropped = 0;
	while (pos < n) {
		struct mqtt_msg *m = list[pos++];

		handle_batch(r, m, list, n, &pos);
	}
	free(list);
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
		engine_set_backlog(r->engine, mqtt_queue_len(r->queue));
		retry_run(r);
		if (now >= next_due) {
			int64_t t0 = fuota_mono_us();

			if (engine_tick(r->engine, now, &next_due) != FUOTA_OK)
				next_due = now + MAX_WAIT_MS;
			r->st.tick_us += fuota_mono_us() - t0;
			now = realtime_ms(NULL);
		}
		wait = next_due - now;
		if (wait < 0)
			wait = 0;
		if (wait > MAX_WAIT_MS)
			wait = MAX_WAIT_MS;
		if (mqtt_queue_pop(r->queue, (uint32_t)wait, &m) != FUOTA_OK)
			continue;
		for (int i = 0; m && i < DRAIN_PER_LOOP;) {
			i += handle_batch(r, m, NULL, 0, NULL);
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
		rc = engine_create(s, ecfg, realtime_ms, NULL, publish, r, &r->engine);
	if (rc == FUOTA_OK)
		engine_set_lock_pid(r->engine, store_lock_pid(lock));
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

void engine_runner_stop(struct engine_runner *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, true);
	if (r->queue)
		mqtt_queue_wake(r->queue);
	if (r->started)
		pthread_join(r->thread, NULL);
	engine_destroy(r->engine);
	if (r->own_mqtt) {
		mqtt_disconnect(r->mqtt, 2000);
		mqtt_destroy(r->mqtt);
	}
	mqtt_queue_destroy(r->queue);
	pending_drop(r, 0);
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
