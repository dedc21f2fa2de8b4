/* Modem updates driven through fuota-gw (issue 12; see engine_gwmodem.h): the runner publishes
 * the commands the API queued and the starts that came due, reads the gateways' reports, and
 * tells every gateway its multicast session windows.
 *
 * Topics, all under {prefix}/gateway/{id}/ in JSON:
 *   command/modem-update (ours, QoS 1, retained): {"id", "action", "method", "url" | "package",
 *     "md5"}; ids grow per gateway (one sequence), fuota-gw ignores one not above its last.
 *   command/sessions (ours, QoS 1, retained, on change): {"guardS", "windows": [{"start", "end",
 *     "job"}]}.
 *   event/modem-update (fuota-gw's, QoS 1): gw_update_event in gw_state.h.
 * Integration events: {event_prefix}/{tenant}/gateway/{id}/event/modem-update, the update as the
 * API shows it with "change" (started, postponed, command, report, expired); a gateway's own
 * update goes to every tenant that uses the gateway. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_gwmodem.h"
#include "engine_int.h"
#include "fuota/err.h"
#include "fuota/gw_modem_cmd.h"
#include "fuota/gw_state.h"
#include "fuota/log.h"
#include "fuota/modem_gw.h"
#include "fuota/mqtt.h"
#include "fuota/store_modem.h"

_Static_assert(MODEM_GW_WINDOWS_MAX == GW_WINDOWS_MAX, "fuota-gw takes as many windows as we send");

#define DUE_EVERY_MS      1000
#define SESSIONS_EVERY_MS 5000
#define DUE_PER_TICK      8
#define CMDS_PER_TICK     16
/* A refused start (a session with no known end in the way, the modem busy) is asked again
 * this much later. */
#define REFUSED_RETRY_MS (5 * 60 * 1000)

void engine_gwmodem_attach(struct engine_gwmodem *g, struct engine *e, struct mqtt_client *m)
{
	g->engine = e;
	g->mqtt = m;
}

int engine_gwmodem_subscribe(struct engine_gwmodem *g, const char *group, const char *prefix,
                             void *queue)
{
	char filter[192];

	if (g->n_ev == ENGINE_GWMODEM_FILTERS || !g->mqtt)
		return FUOTA_OK;
	snprintf(g->ev_filter[g->n_ev], sizeof(g->ev_filter[0]), "%s/gateway/+/event/modem-update",
	         prefix);
	snprintf(filter, sizeof(filter), "$share/%s/%s", group, g->ev_filter[g->n_ev]);
	g->n_ev++;
	return mqtt_subscribe(g->mqtt, filter, 1, mqtt_queue_on_message, queue);
}

/* The update's JSON with "change" added, to the tenant's topic (every tenant that uses the
 * gateway for tenant 0). */
static void integration_event(struct engine_gwmodem *g, struct store *s, const char *gw,
                              int64_t tenant, const char *row, const char *change)
{
	json_t *j = json_loads(row, 0, NULL);
	int64_t *ids = NULL, one = tenant;
	size_t n = 1;
	char *text;

	if (!j || !g->engine)
		goto out;
	json_object_set_new(j, "change", json_string(change));
	text = json_dumps(j, JSON_COMPACT);
	if (tenant == 0 && seng_modem_gw_tenants(s, gw, &ids, &n) != FUOTA_OK)
		n = 0;
	for (size_t i = 0; text && i < n; i++) {
		char topic[192];

		snprintf(topic, sizeof(topic), "%s/%lld/gateway/%s/event/modem-update",
		         g->engine->cfg.event_prefix, (long long)(ids ? ids[i] : one), gw);
		(void)engine_pub(g->engine, topic, (const uint8_t *)text, strlen(text));
	}
	free(text);
out:
	free(ids);
	json_decref(j);
}

/* Update id changed (why: change): its integration event. */
static void changed(struct engine_gwmodem *g, struct store *s, const char *gw, int64_t id,
                    const char *change)
{
	int64_t tenant = 0;
	char *row = NULL;

	if (seng_modem_update_json(s, id, &tenant, &row) == FUOTA_OK)
		integration_event(g, s, gw, tenant, row, change);
	free(row);
}

/* The gateway id of topic when it is a report ({prefix}/gateway/{id}/event/modem-update). */
static bool report_topic(const struct engine_gwmodem *g, const char *topic, char gw[17])
{
	for (size_t i = 0; i < g->n_ev; i++) {
		const char *p;
		size_t k = 0;

		if (!mqtt_topic_match(g->ev_filter[i], topic))
			continue;
		p = strstr(topic, "/gateway/");
		p = p ? p + strlen("/gateway/") : topic;
		for (; k < 16 && strchr("0123456789abcdefABCDEF", p[k]) && p[k]; k++)
			gw[k] = (char)(p[k] | 0x20);
		gw[k] = 0;
		return k == 16 && p[k] == '/';
	}
	return false;
}

/* After a report that ended an update: gw's retained command cleared once no update of its
 * commands goes on, so that a fuota-gw that lost its state dir (the last id it handled) does not
 * run a finished update again. */
static void clear_retained(struct engine_gwmodem *g, struct store *s, const char *gw,
                           const char *state)
{
	char prefix[64], topic[160];

	if (!state || (strcmp(state, "done") && strcmp(state, "failed") &&
	               strcmp(state, "cancelled") && strcmp(state, "rejected")))
		return;
	if (seng_modem_cmds_over(s, gw, prefix) != FUOTA_OK)
		return;
	snprintf(topic, sizeof(topic), "%s/gateway/%s/command/modem-update", prefix, gw);
	if (mqtt_publish(g->mqtt, topic, "", 0, 1 | MQTT_RETAIN) != FUOTA_OK)
		log_msg(LOG_LVL_WARN, "engine: gateway %s: its last modem command not cleared", gw);
}

bool engine_gwmodem_dispatch(struct engine_gwmodem *g, struct store *s, const char *topic,
                             const uint8_t *payload, size_t len, int64_t now_ms)
{
	struct gw_update_event ev;
	struct seng_modem_report r;
	char gw[17], err[160], *row = NULL;
	int64_t tenant = 0;
	int rc;

	if (!report_topic(g, topic, gw))
		return false;
	if (gw_update_event_from_json((const char *)payload, len, &ev, err, sizeof(err)) !=
	    FUOTA_OK) {
		g->bad_events++;
		log_msg(LOG_LVL_WARN, "engine: gateway %s: modem-update report ignored: %s", gw,
		        err);
		return true;
	}
	r = (struct seng_modem_report){.id = ev.id,
	                               .state = ev.state,
	                               .method = ev.method,
	                               .progress = ev.progress,
	                               .deferred_until_s = ev.deferred_until_s,
	                               .firmware_before = ev.firmware_before,
	                               .firmware = ev.firmware,
	                               .error = ev.error};
	rc = seng_modem_event(s, gw, &r, now_ms, &tenant, &row);
	if (rc == FUOTA_ERR_NOT_FOUND)
		log_msg(LOG_LVL_WARN,
		        "engine: gateway %s: modem-update report of command %lld: no "
		        "such command of ours to it",
		        gw, (long long)ev.id);
	else if (rc != FUOTA_OK)
		log_msg(LOG_LVL_WARN, "engine: gateway %s: modem-update report not stored: %s", gw,
		        fuota_strerror(rc));
	else if (row) {
		log_msg(LOG_LVL_INFO, "engine: gateway %s: modem update (command %lld) %s%s%s", gw,
		        (long long)ev.id, ev.state, ev.error[0] ? ": " : "", ev.error);
		integration_event(g, s, gw, tenant, row, "report");
		clear_retained(g, s, gw, ev.state);
	}
	free(row);
	return true;
}

void engine_gwmodem_state_update(struct engine_gwmodem *g, struct store *s, const char *gw,
                                 const struct gw_modem_state *st, int64_t now_ms)
{
	int64_t tenant = 0;
	char *row = NULL;
	int rc = seng_modem_state_update(s, gw, st->update.id, st->update.state, st->update.method,
	                                 st->update.progress, now_ms, &tenant, &row);

	if (rc == FUOTA_OK && row) {
		integration_event(g, s, gw, tenant, row, "report");
		clear_retained(g, s, gw, st->update.state);
	} else if (rc != FUOTA_OK && rc != FUOTA_ERR_NOT_FOUND)
		log_msg(LOG_LVL_WARN,
		        "engine: gateway %s: modem update in its state not stored: %s", gw,
		        fuota_strerror(rc));
	free(row);
}

char *engine_gwmodem_cmd_json(const struct seng_modem_cmd *c)
{
	json_t *j = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)c->id, "action", c->action,
	                      "method", c->method);
	char *text = NULL;

	if (!j)
		return NULL;
	if (!strcmp(c->action, "start")) {
		if (c->url[0])
			json_object_set_new(j, "url", json_string(c->url));
		if (c->package[0])
			json_object_set_new(j, "package", json_string(c->package));
		if (c->md5[0])
			json_object_set_new(j, "md5", json_string(c->md5));
	}
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

/* The queued commands, published retained; one that cannot be is given back. A resent one
 * is no news for the integration. */
static void publish_cmds(struct engine_gwmodem *g, struct store *s, int64_t now_ms)
{
	struct seng_modem_cmd cmds[CMDS_PER_TICK];
	size_t n = 0;

	if (seng_modem_cmds_take(s, now_ms, cmds, CMDS_PER_TICK, &n) != FUOTA_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		char topic[160], *text = engine_gwmodem_cmd_json(&cmds[i]);
		int rc = FUOTA_ERR_NO_MEMORY;

		snprintf(topic, sizeof(topic), "%s/gateway/%s/command/modem-update", cmds[i].prefix,
		         cmds[i].gw);
		if (text)
			rc = mqtt_publish(g->mqtt, topic, text, strlen(text), 1 | MQTT_RETAIN);
		free(text);
		if (rc != FUOTA_OK) {
			log_msg(LOG_LVL_WARN,
			        "engine: gateway %s: modem-update %s not published: %s", cmds[i].gw,
			        cmds[i].action, fuota_strerror(rc));
			if (seng_modem_cmd_untake(s, cmds[i].id) != FUOTA_OK)
				log_msg(LOG_LVL_WARN, "engine: modem-update command %lld lost",
				        (long long)cmds[i].id);
			continue;
		}
		log_msg(LOG_LVL_INFO, "engine: gateway %s: modem-update command %lld (%s) %s",
		        cmds[i].gw, (long long)cmds[i].id, cmds[i].action,
		        cmds[i].resent ? "published again, the gateway has not answered"
		                       : "published");
		if (!cmds[i].resent)
			changed(g, s, cmds[i].gw, cmds[i].update_id, "command");
	}
}

/* The policy's sessions of jobs[0..n) at now_ms into *ss (malloc'd). */
static int sessions_of(const struct store_gw_job *jobs, size_t n, int64_t now_ms,
                       struct modem_session **ss)
{
	*ss = calloc(n + 1, sizeof(**ss));
	if (!*ss)
		return FUOTA_ERR_NO_MEMORY;
	for (size_t i = 0; i < n; i++)
		policy_modem_job_session(jobs[i].job_id, jobs[i].session_start_ms,
		                         jobs[i].start_at_ms, jobs[i].timeout_s,
		                         jobs[i].mc_class == 'B', now_ms, &(*ss)[i]);
	return FUOTA_OK;
}

/* The sessions of the jobs through gateway gw (*ss, *n), and those jobs (*jobs; both malloc'd,
 * the caller frees them, also on failure). */
static int gw_sessions(struct store *s, const char *gw, int64_t now_ms, struct modem_session **ss,
                       size_t *n, struct store_gw_job **jobs)
{
	int rc = seng_gateway_jobs(s, gw, jobs, n);

	*ss = NULL;
	if (rc == FUOTA_OK)
		rc = sessions_of(*jobs, *n, now_ms, ss);
	return rc;
}

/* Whether job id of jobs[0..n) is tenant's (a tenant > 0). */
static bool job_of(const struct store_gw_job *jobs, size_t n, int64_t id, int64_t tenant)
{
	for (size_t i = 0; tenant > 0 && i < n; i++)
		if (jobs[i].job_id == id)
			return jobs[i].tenant_id == tenant;
	return false;
}

/* One due update: the policy asked again with the sessions as they are now. */
static void start_due(struct engine_gwmodem *g, struct store *s, const struct seng_modem_due *d,
                      int64_t now_ms)
{
	struct modem_request rq = {.image_bytes = (uint64_t)d->image_size, .now_ms = now_ms};
	struct modem_session *ss = NULL;
	struct store_gw_job *jobs = NULL;
	struct modem_plan p;
	char why[200];
	size_t n = 0;
	int rc = policy_modem_method_parse(d->method, &rq.method);

	if (rc == FUOTA_OK)
		rc = gw_sessions(s, d->gw, now_ms, &ss, &n, &jobs);
	if (rc == FUOTA_OK)
		rc = store_modem_update_pending(s, d->gw, false, &rq.updating);
	if (rc != FUOTA_OK) {
		free(ss);
		free(jobs);
		return; /* claimed for a minute: asked again then */
	}
	policy_modem_plan(&rq, ss, n, &p);
	free(ss);
	/* The note is the update's tenant's to read: another tenant's job is not named. */
	policy_modem_wait_note(&p, job_of(jobs, n, p.blocking_job, d->tenant_id), why, sizeof(why));
	free(jobs);
	if (p.verdict == MODEM_START_NOW) {
		if (seng_modem_due_start(s, d->id, now_ms) == FUOTA_OK)
			changed(g, s, d->gw, d->id, "started");
		return;
	}
	if (seng_modem_due_postpone(
	            s, d->id, p.verdict == MODEM_START_AT ? p.start_ms : now_ms + REFUSED_RETRY_MS,
	            why, now_ms) == FUOTA_OK) {
		log_msg(LOG_LVL_INFO, "engine: gateway %s: modem update %lld %s", d->gw,
		        (long long)d->id, why);
		changed(g, s, d->gw, d->id, "postponed");
	}
}

/* {"guardS":120,"windows":[...]} of gateway g's sessions; NULL on failure. */
static char *sessions_json(const struct seng_gw_sessions *g, int64_t now_ms)
{
	struct modem_session *ss = NULL;
	struct modem_gw_window *w = NULL;
	json_t *arr = json_array(), *j;
	char *text = NULL;
	size_t k;

	if (!arr || sessions_of(g->jobs, g->n_jobs, now_ms, &ss) != FUOTA_OK)
		goto out;
	w = calloc(g->n_jobs + 1, sizeof(*w));
	if (!w)
		goto out;
	k = policy_modem_windows(ss, g->n_jobs, now_ms, w);
	for (size_t i = 0; i < k; i++) {
		char job[24];

		snprintf(job, sizeof(job), "%lld", (long long)w[i].job_id);
		json_array_append_new(arr, json_pack("{s:I, s:I, s:s}", "start",
		                                     (json_int_t)w[i].start_s, "end",
		                                     (json_int_t)w[i].end_s, "job", job));
	}
	j = json_pack("{s:I, s:O}", "guardS", (json_int_t)(MODEM_GUARD_MS / 1000), "windows", arr);
	text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
out:
	json_decref(arr);
	free(w);
	free(ss);
	return text;
}

/* Gateway g's windows text, published when it differs from the last published (g->sent, read
 * with the jobs: no statement for a gateway whose windows did not change); the mark in the
 * database decides which instance publishes a change. */
static void publish_windows(struct engine_gwmodem *g, struct store *s,
                            const struct seng_gw_sessions *gw, const char *text)
{
	char topic[160];
	bool change = false;

	if (gw->sent && !strcmp(gw->sent, text))
		return;
	if (seng_modem_sessions_mark(s, gw->gw, text, &change) != FUOTA_OK || !change)
		return;
	snprintf(topic, sizeof(topic), "%s/gateway/%s/command/sessions", gw->prefix, gw->gw);
	if (mqtt_publish(g->mqtt, topic, text, strlen(text), 1 | MQTT_RETAIN) != FUOTA_OK) {
		if (seng_modem_sessions_unmark(s, gw->gw) != FUOTA_OK)
			log_msg(LOG_LVL_WARN, "engine: gateway %s: session windows not published",
			        gw->gw);
	} else
		log_msg(LOG_LVL_DEBUG, "engine: gateway %s: session windows %s", gw->gw, text);
}

/* Every fuota-gw's session windows (one statement for all gateways), published when they
 * changed since the last publish. */
static void publish_sessions(struct engine_gwmodem *g, struct store *s, int64_t now_ms)
{
	struct seng_gw_sessions *gws = NULL;
	size_t n = 0;

	if (seng_modem_sessions_all(s, &gws, &n) != FUOTA_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		char *text = sessions_json(&gws[i], now_ms);

		if (text)
			publish_windows(g, s, &gws[i], text);
		free(text);
	}
	seng_gw_sessions_free(gws, n);
}

/* Updates whose fuota-gw went silent ended, so that they hold neither the modem nor the
 * gateway's multicast sessions for ever. */
static void end_silent(struct engine_gwmodem *g, struct store *s, int64_t now_ms)
{
	for (int i = 0; i < DUE_PER_TICK; i++) {
		char gw[17];
		int64_t id = 0;

		if (seng_modem_silent_end(s, now_ms, &id, gw) != FUOTA_OK)
			return;
		log_msg(LOG_LVL_WARN,
		        "engine: gateway %s: modem update %lld failed: no word from the gateway "
		        "for 24 hours",
		        gw, (long long)id);
		changed(g, s, gw, id, "expired");
	}
}

void engine_gwmodem_tick(struct engine_gwmodem *g, struct store *s, int64_t now_ms)
{
	if (!g->mqtt || now_ms < g->next_due_ms)
		return;
	g->next_due_ms = now_ms + DUE_EVERY_MS;
	for (int i = 0; i < DUE_PER_TICK; i++) {
		struct seng_modem_due d;

		if (seng_modem_due_claim(s, now_ms, &d) != FUOTA_OK)
			break;
		start_due(g, s, &d, now_ms);
	}
	publish_cmds(g, s, now_ms);
	if (now_ms >= g->next_sessions_ms) {
		g->next_sessions_ms = now_ms + SESSIONS_EVERY_MS;
		publish_sessions(g, s, now_ms);
		end_silent(g, s, now_ms);
	}
}
