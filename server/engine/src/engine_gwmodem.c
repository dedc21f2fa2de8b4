/* The gateways' modem states as the runner reads them (see engine_gwmodem.h). */
#include "engine_gwmodem.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/gw_state.h"
#include "fuota/log.h"
#include "fuota/store_engine.h"
#include "fuota/store_modem.h"

/* More gateways than this sending malformed states are counted, not remembered. */
#define BAD_MAX 4096

static long bad_find(const struct engine_gwmodem *g, const char *gw)
{
	for (size_t i = 0; i < g->n_bad; i++)
		if (strcmp(g->bad[i], gw) == 0)
			return (long)i;
	return -1;
}

/* True the first time gw sends a malformed state (since its last good one): log it then. */
static bool bad_first(struct engine_gwmodem *g, const char *gw)
{
	if (bad_find(g, gw) >= 0)
		return false;
	if (g->n_bad == g->cap_bad) {
		size_t cap = g->cap_bad ? g->cap_bad * 2 : 16;
		char(*p)[17] = cap <= BAD_MAX ? realloc(g->bad, cap * sizeof(*p)) : NULL;

		if (!p)
			return false; /* too many to remember: counted only */
		g->bad = p;
		g->cap_bad = cap;
	}
	snprintf(g->bad[g->n_bad++], sizeof(g->bad[0]), "%s", gw);
	return true;
}

static void bad_clear(struct engine_gwmodem *g, const char *gw)
{
	long i = bad_find(g, gw);

	if (i >= 0)
		memcpy(g->bad[i], g->bad[--g->n_bad], sizeof(g->bad[0]));
}

/* The prefix of topic {prefix}/gateway/...: into out ("" when none). */
static void topic_prefix(const char *topic, char *out, size_t cap)
{
	const char *p = strstr(topic, "/gateway/");
	size_t n = p ? (size_t)(p - topic) : 0;

	if (n >= cap)
		n = 0;
	memcpy(out, topic, n);
	out[n] = 0;
}

int engine_gwmodem_on(struct engine_gwmodem *g, struct store *s, const char *topic, const char *gw,
                      const uint8_t *payload, size_t len, int64_t now_ms)
{
	struct gw_modem_state st;
	char err[160], *json = NULL;
	size_t json_len = 0;
	int rc;

	if (len == 0)
		return FUOTA_ERR_MALFORMED; /* the retained state cleared: nothing to read */
	rc = gw_modem_from_json((const char *)payload, len, &st, err, sizeof(err));
	if (rc == FUOTA_OK && strcmp(st.gateway_id, gw) != 0) {
		snprintf(err, sizeof(err), "gatewayId %s is not its topic's", st.gateway_id);
		rc = FUOTA_ERR_MALFORMED;
	}
	if (rc != FUOTA_OK) {
		g->malformed++;
		if (bad_first(g, gw))
			log_msg(LOG_LVL_WARN,
			        "engine: gateway %s: modem state ignored (%s); "
			        "not logged again until a good one",
			        gw, err);
		return FUOTA_ERR_MALFORMED;
	}
	bad_clear(g, gw);
	rc = gw_modem_to_json(&st, &json, &json_len);
	if (rc == FUOTA_OK)
		rc = seng_gw_modem_set(s, gw, json, now_ms);
	if (rc == FUOTA_OK) {
		char prefix[64];

		topic_prefix(topic, prefix, sizeof(prefix));
		if (prefix[0])
			rc = seng_modem_prefix_set(s, gw, prefix);
	}
	if (rc == FUOTA_OK && st.update.active)
		engine_gwmodem_state_update(g, s, gw, &st, now_ms);
	if (rc != FUOTA_OK)
		log_msg(LOG_LVL_WARN, "engine: gateway %s: modem state not stored: %s", gw,
		        fuota_strerror(rc));
	free(json);
	return rc;
}

void engine_gwmodem_free(struct engine_gwmodem *g)
{
	if (!g)
		return;
	free(g->bad);
	memset(g, 0, sizeof(*g));
}
