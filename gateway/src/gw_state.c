/* fuota-gw's own messages: topics, gw.ConnState and the modem state (gw_state.h). */
#include "fuota/gw_state.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"

static bool level_ok(const char *s)
{
	return s && *s && !strpbrk(s, "/+#");
}

int gw_topic(char *out, size_t cap, const char *prefix, const char *gateway_id, const char *kind,
             const char *name)
{
	int n;

	if (!level_ok(gateway_id) || !level_ok(kind) || !level_ok(name) ||
	    (prefix && *prefix && strpbrk(prefix, "+#")))
		return FUOTA_ERR_INVALID_ARG;
	if (prefix && *prefix)
		n = snprintf(out, cap, "%s/gateway/%s/%s/%s", prefix, gateway_id, kind, name);
	else
		n = snprintf(out, cap, "gateway/%s/%s/%s", gateway_id, kind, name);
	return n < 0 || (size_t)n >= cap ? FUOTA_ERR_NO_SPACE : FUOTA_OK;
}

int64_t gw_state_next_ms(enum gw_state_look look, unsigned refusals, int64_t now_ms,
                         uint32_t every_ms)
{
	int64_t wait_ms = GW_STATE_RETRY_MS;

	if (look != GW_STATE_REFUSED)
		return now_ms + every_ms;
	for (unsigned i = 1; i < refusals && wait_ms < every_ms; i++)
		wait_ms *= 2;
	return now_ms + (wait_ms < every_ms ? wait_ms : every_ms);
}

int gw_conn_state(const char *gateway_id, bool online, bool json, uint8_t **out, size_t *out_len)
{
	size_t idlen = strlen(gateway_id), n = 0;
	uint8_t *b;

	if (idlen > 127)
		return FUOTA_ERR_INVALID_ARG;
	if (json) {
		json_t *o = json_pack("{s:s,s:s}", "gatewayId", gateway_id, "state",
		                      online ? "ONLINE" : "OFFLINE");
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

		json_decref(o);
		if (!s)
			return FUOTA_ERR_NO_MEMORY;
		*out = (uint8_t *)s;
		*out_len = strlen(s);
		return FUOTA_OK;
	}
	if (!(b = malloc(idlen + 4)))
		return FUOTA_ERR_NO_MEMORY;
	if (online) {          /* proto3: the default OFFLINE (0) is not written */
		b[n++] = 0x10; /* field 2, varint */
		b[n++] = 1;
	}
	b[n++] = 0x1a; /* field 3, length-delimited */
	b[n++] = (uint8_t)idlen;
	memcpy(b + n, gateway_id, idlen);
	*out = b;
	*out_len = n + idlen;
	return FUOTA_OK;
}

const char *gw_reg_name(int stat, char *buf, size_t cap)
{
	static const char *const names[] = {"not",    "home",    "searching",
	                                    "denied", "unknown", "roaming"};

	if (stat >= 0 && stat <= 5)
		return names[stat];
	snprintf(buf, cap, "stat-%d", stat);
	return buf;
}

static bool update_changed(const struct gw_modem_update *a, const struct gw_modem_update *b)
{
	if (a->active != b->active)
		return true;
	return a->active && (a->id != b->id || strcmp(a->state, b->state) ||
	                     strcmp(a->method, b->method) || a->progress / 10 != b->progress / 10);
}

bool gw_modem_changed(const struct gw_modem_state *a, const struct gw_modem_state *b)
{
	return update_changed(&a->update, &b->update) || strcmp(a->gateway_id, b->gateway_id) ||
	       strcmp(a->firmware, b->firmware) || strcmp(a->app, b->app) ||
	       strcmp(a->imei, b->imei) || a->reg_stat != b->reg_stat || strcmp(a->ci, b->ci) ||
	       strcmp(a->tac, b->tac) || a->act != b->act || strcmp(a->oper, b->oper) ||
	       a->csq != b->csq || a->ber != b->ber || a->link_up != b->link_up ||
	       (a->queue_depth == 0) != (b->queue_depth == 0) ||
	       a->queue_dropped != b->queue_dropped || a->relay_sessions != b->relay_sessions;
}

static void set_str(json_t *o, const char *k, const char *v)
{
	if (*v)
		json_object_set_new(o, k, json_string(v));
}

static json_t *update_json(const struct gw_modem_update *u)
{
	json_t *o = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)u->id, "state", u->state, "method",
	                      u->method);

	if (o && u->progress >= 0 && u->progress <= 100)
		json_object_set_new(o, "progress", json_integer(u->progress));
	return o;
}

int gw_modem_to_json(const struct gw_modem_state *st, char **out, size_t *out_len)
{
	char rb[16];
	json_t *o = json_pack("{s:s,s:i,s:i,s:b,s:I,s:I,s:I}", "gatewayId", st->gateway_id, "csq",
	                      st->csq, "ber", st->ber, "linkUp", st->link_up, "queueDepth",
	                      (json_int_t)st->queue_depth, "queueDropped",
	                      (json_int_t)st->queue_dropped, "relaySessions",
	                      (json_int_t)st->relay_sessions);
	char *s;

	if (!o)
		return FUOTA_ERR_NO_MEMORY;
	set_str(o, "firmware", st->firmware);
	set_str(o, "app", st->app);
	set_str(o, "imei", st->imei);
	if (st->reg_stat >= 0)
		json_object_set_new(o, "registration",
		                    json_string(gw_reg_name(st->reg_stat, rb, sizeof(rb))));
	set_str(o, "cellId", st->ci);
	set_str(o, "tac", st->tac);
	if (st->act >= 0)
		json_object_set_new(o, "act", json_integer(st->act));
	set_str(o, "operator", st->oper);
	if (st->csq >= 0 && st->csq <= 31)
		json_object_set_new(o, "rssiDbm", json_integer(-113 + 2 * st->csq));
	if (st->update.active)
		json_object_set_new(o, "update", update_json(&st->update));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!s)
		return FUOTA_ERR_NO_MEMORY;
	*out = s;
	*out_len = strlen(s);
	return FUOTA_OK;
}
