/* The modem-state message read back (gw_modem_from_json, gw_state.h): what fuotad will take
 * from {prefix}/gateway/{id}/state/modem. Every field's type and range is checked; a bad one is
 * named in err. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/gw_state.h"

/* An optional string member into out (cap bytes, no NUL inside). */
static int opt_str(json_t *o, const char *k, char *out, size_t cap, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, k);
	size_t n;

	if (!v)
		return FUOTA_OK;
	if (!json_is_string(v) || (n = json_string_length(v)) >= cap ||
	    strlen(json_string_value(v)) != n)
		return fuota_malformed(err, errlen, "%s: not a string of at most %zu bytes", k,
		                       cap - 1);
	memcpy(out, json_string_value(v), n + 1);
	return FUOTA_OK;
}

/* An optional integer member in [lo, hi]. */
static int opt_int(json_t *o, const char *k, long long lo, long long hi, long long *out, char *err,
                   size_t errlen)
{
	json_t *v = json_object_get(o, k);

	if (!v)
		return FUOTA_OK;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fuota_malformed(err, errlen, "%s: not an integer in %lld..%lld", k, lo, hi);
	*out = json_integer_value(v);
	return FUOTA_OK;
}

static int reg_stat(json_t *o, int *stat, char *err, size_t errlen)
{
	static const char *const names[] = {"not",    "home",    "searching",
	                                    "denied", "unknown", "roaming"};
	char name[16] = "";
	int v;

	if (opt_str(o, "registration", name, sizeof(name), err, errlen) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	if (!name[0])
		return FUOTA_OK;
	for (size_t i = 0; i < 6; i++)
		if (!strcmp(name, names[i])) {
			*stat = (int)i;
			return FUOTA_OK;
		}
	if (sscanf(name, "stat-%d", &v) == 1 && v >= 0 && v <= 10) {
		*stat = v;
		return FUOTA_OK;
	}
	return fuota_malformed(err, errlen, "registration: unknown state");
}

static bool one_of(const char *s, const char *const *names)
{
	for (size_t i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return true;
	return false;
}

bool gw_update_state_valid(const char *s)
{
	static const char *const names[] = {"deferred", "starting", "downloading", "installing",
	                                    "done",     "failed",   "paused",      "cancelled",
	                                    "rejected", NULL};

	return s && one_of(s, names);
}

bool gw_update_method_valid(const char *s)
{
	static const char *const names[] = {"ufota", "foat", "http", "ftp", "uart", NULL};

	return s && one_of(s, names);
}

/* The required "state" and "method" members of an update (in state/modem or its event). */
static int upd_names(json_t *o, const char *where, char *state, size_t state_cap, char *method,
                     size_t method_cap, char *err, size_t errlen)
{
	json_t *s = json_object_get(o, "state"), *m = json_object_get(o, "method");

	if (!json_is_string(s) || json_string_length(s) >= state_cap ||
	    !gw_update_state_valid(json_string_value(s)))
		return fuota_malformed(err, errlen, "%sstate: not an update state", where);
	if (!json_is_string(m) || json_string_length(m) >= method_cap ||
	    !gw_update_method_valid(json_string_value(m)))
		return fuota_malformed(err, errlen, "%smethod: not ufota, foat, http, ftp or uart",
		                       where);
	snprintf(state, state_cap, "%s", json_string_value(s));
	snprintf(method, method_cap, "%s", json_string_value(m));
	return FUOTA_OK;
}

/* state/modem's optional "update" object. */
static int update_member(json_t *o, struct gw_modem_state *st, char *err, size_t errlen)
{
	json_t *u = json_object_get(o, "update");
	long long id = -1, progress = -1;
	struct gw_modem_update *up = &st->update;

	up->progress = -1;
	if (!u || json_is_null(u))
		return FUOTA_OK;
	if (!json_is_object(u))
		return fuota_malformed(err, errlen, "update: not an object");
	if (!json_is_integer(json_object_get(u, "id")) ||
	    (id = json_integer_value(json_object_get(u, "id"))) < 0)
		return fuota_malformed(err, errlen, "update.id: not an integer of at least 0");
	if (opt_int(u, "progress", 0, 100, &progress, err, errlen) ||
	    upd_names(u, "update.", up->state, sizeof(up->state), up->method, sizeof(up->method),
	              err, errlen))
		return FUOTA_ERR_MALFORMED;
	up->id = id;
	up->progress = (int)progress;
	st->update.active = true;
	return FUOTA_OK;
}

static int fields(json_t *o, struct gw_modem_state *st, char *err, size_t errlen)
{
	long long act = -1, csq = 99, ber = 99, depth = 0, dropped = 0, sessions = 0;
	json_t *link = json_object_get(o, "linkUp");
	int rc = FUOTA_OK;

	if (link && !json_is_boolean(link))
		return fuota_malformed(err, errlen, "linkUp: not a boolean");
	st->link_up = link && json_is_true(link);
	if (opt_str(o, "firmware", st->firmware, sizeof(st->firmware), err, errlen) ||
	    opt_str(o, "app", st->app, sizeof(st->app), err, errlen) ||
	    opt_str(o, "imei", st->imei, sizeof(st->imei), err, errlen) ||
	    opt_str(o, "cellId", st->ci, sizeof(st->ci), err, errlen) ||
	    opt_str(o, "tac", st->tac, sizeof(st->tac), err, errlen) ||
	    opt_str(o, "operator", st->oper, sizeof(st->oper), err, errlen) ||
	    reg_stat(o, &st->reg_stat, err, errlen) || opt_int(o, "act", 0, 9, &act, err, errlen) ||
	    opt_int(o, "csq", 0, 99, &csq, err, errlen) ||
	    opt_int(o, "ber", 0, 99, &ber, err, errlen) ||
	    opt_int(o, "queueDepth", 0, INT64_MAX, &depth, err, errlen) ||
	    opt_int(o, "queueDropped", 0, INT64_MAX, &dropped, err, errlen) ||
	    opt_int(o, "relaySessions", 0, INT64_MAX, &sessions, err, errlen) ||
	    update_member(o, st, err, errlen))
		rc = FUOTA_ERR_MALFORMED;
	st->act = (int)act;
	st->csq = (int)csq;
	st->ber = (int)ber;
	st->queue_depth = (uint64_t)depth;
	st->queue_dropped = (uint64_t)dropped;
	st->relay_sessions = (uint64_t)sessions;
	return rc;
}

int gw_modem_from_json(const char *buf, size_t len, struct gw_modem_state *out, char *err,
                       size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je), *id;
	int rc;

	memset(out, 0, sizeof(*out));
	out->reg_stat = -1;
	out->update.progress = -1;
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return fuota_malformed(err, errlen, "not a JSON object");
	}
	id = json_object_get(o, "gatewayId");
	if (!json_is_string(id) || json_string_length(id) != 16 ||
	    strspn(json_string_value(id), "0123456789abcdefABCDEF") != 16) {
		json_decref(o);
		return fuota_malformed(err, errlen, "gatewayId: not 16 hex digits");
	}
	for (size_t i = 0; i < 16; i++)
		out->gateway_id[i] = (char)((json_string_value(id)[i] | 0x20));
	rc = fields(o, out, err, errlen);
	json_decref(o);
	return rc;
}

/* An optional string cut to cap - 1 bytes at a character boundary (no NUL inside). */
static int cut_str(json_t *o, const char *k, char *out, size_t cap, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, k);
	size_t n;

	if (!v)
		return FUOTA_OK;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return fuota_malformed(err, errlen, "%s: not a string", k);
	n = json_string_length(v);
	if (n >= cap)
		for (n = cap - 1; n > 0 && (json_string_value(v)[n] & 0xC0) == 0x80; n--)
			;
	memcpy(out, json_string_value(v), n);
	out[n] = 0;
	return FUOTA_OK;
}

static int event_fields(json_t *o, struct gw_update_event *ev, char *err, size_t errlen)
{
	json_t *id = json_object_get(o, "id");
	long long progress = -1, until = 0;

	if (!json_is_integer(id) || json_integer_value(id) < 0)
		return fuota_malformed(err, errlen, "id: not an integer of at least 0");
	ev->id = json_integer_value(id);
	if (upd_names(o, "", ev->state, sizeof(ev->state), ev->method, sizeof(ev->method), err,
	              errlen) ||
	    opt_int(o, "progress", 0, 100, &progress, err, errlen) ||
	    opt_int(o, "deferredUntil", 1, INT64_C(1) << 40, &until, err, errlen) ||
	    opt_str(o, "firmwareBefore", ev->firmware_before, sizeof(ev->firmware_before), err,
	            errlen) ||
	    opt_str(o, "firmware", ev->firmware, sizeof(ev->firmware), err, errlen) ||
	    cut_str(o, "error", ev->error, sizeof(ev->error), err, errlen))
		return FUOTA_ERR_MALFORMED;
	ev->progress = (int)progress;
	ev->deferred_until_s = until;
	return FUOTA_OK;
}

int gw_update_event_from_json(const char *buf, size_t len, struct gw_update_event *out, char *err,
                              size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	int rc;

	memset(out, 0, sizeof(*out));
	out->progress = -1;
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return fuota_malformed(err, errlen, "not a JSON object");
	}
	rc = event_fields(o, out, err, errlen);
	json_decref(o);
	return rc;
}
