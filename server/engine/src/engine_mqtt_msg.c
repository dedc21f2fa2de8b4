/* The MQTT runner's message handlers (engine_runner.h): what an inbound message means to the
 * engine, and which encoding each gateway speaks. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/clock.h"
#include "fuota/cs_msg.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/mqtt.h"
#include "fuota/store_engine.h"
#include "engine_int.h"
#include "engine_runner.h"

/* The encoding of a gateway (CHIRPSTACK-NOTES §9.4): learnt from what it publishes (heard), or
 * read from engine_gateway, where any instance of the shared subscriptions stored it, at most
 * GW_RECHECK_MS ago (checked_ms). Kept in r->gws (engine_gwenc.h). A message on a gateway's
 * topic that is not a stats or ack message of the encoding its first byte tells, naming that
 * gateway, teaches nothing: it is counted, and logged at debug at most every GW_GARBAGE_LOG_MS
 * per gateway. */
#define GW_RECHECK_MS     60000
#define GW_GARBAGE_LOG_MS 60000

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

void engine_runner_gw_unstored(struct engine_runner *r, uint64_t first)
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
		gw_unreadable(r, gw, what, json, err, fuota_real_ms());
		return false;
	}
	gw_heard(r, gw, json, fuota_real_ms());
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

void engine_runner_dispatch(struct engine_runner *r, const struct mqtt_msg *m)
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
		(void)engine_gwmodem_on(&r->modems, r->store, m->topic, gw, m->payload, m->len,
		                        fuota_real_ms());
	else
		(void)engine_gwmodem_dispatch(&r->modems, r->store, m->topic, m->payload, m->len,
		                              fuota_real_ms());
}

int engine_runner_gw_frame(struct engine_runner *r, const char *topic, const uint8_t **payload,
                           size_t *len, char **text)
{
	char gw[CS_EUI_LEN];
	size_t n = 0;
	int rc;

	*text = NULL;
	if (!gw_topic(r->gw_down, r->n_gw_filters, topic, gw) ||
	    !gw_wants_json(r, gw, fuota_real_ms()))
		return FUOTA_OK;
	rc = gw_frame_json(*payload, *len, text, &n);
	if (rc != FUOTA_OK)
		return rc;
	*payload = (const uint8_t *)*text;
	*len = n;
	return FUOTA_OK;
}
