/* ChirpStack's JSON gateway encoding, gateway side (see sim_gwjson.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuota/err.h"
#include "sim_gwjson.h"

struct perr {
	char *buf;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static int bad(struct perr *e, const char *fmt, ...)
{
	if (e->buf && e->len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->buf, e->len, fmt, ap);
		va_end(ap);
	}
	return FUOTA_ERR_MALFORMED;
}

bool sim_gw_payload_is_json(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n')
			continue;
		return buf[i] == '{';
	}
	return false;
}

/* The value of key camel (or its snake_case name); NULL when absent or null (the default). */
static json_t *member(json_t *obj, const char *camel, const char *snake)
{
	json_t *v = json_object_get(obj, camel);
	if (!v && snake)
		v = json_object_get(obj, snake);
	return v && !json_is_null(v) ? v : NULL;
}

static int get_obj(json_t *obj, const char *camel, const char *snake, json_t **out, struct perr *e)
{
	*out = member(obj, camel, snake);
	if (*out && !json_is_object(*out))
		return bad(e, "%s: expected an object", camel);
	return FUOTA_OK;
}

static int get_u32(json_t *obj, const char *camel, const char *snake, uint32_t *out, struct perr *e)
{
	json_t *v = member(obj, camel, snake);
	*out = 0;
	if (!v)
		return FUOTA_OK;
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);
		if (x < 0 || x > (json_int_t)UINT32_MAX)
			return bad(e, "%s: %lld out of range", camel, (long long)x);
		*out = (uint32_t)x;
		return FUOTA_OK;
	}
	if (json_is_string(v)) { /* the mapping allows numbers as decimal strings */
		const char *s = json_string_value(v);
		char *end = NULL;
		if (!isdigit((unsigned char)s[0]))
			return bad(e, "%s: expected an unsigned integer", camel);
		unsigned long long x = strtoull(s, &end, 10);
		if (*end || x > UINT32_MAX)
			return bad(e, "%s: expected an unsigned 32-bit integer", camel);
		*out = (uint32_t)x;
		return FUOTA_OK;
	}
	return bad(e, "%s: expected an unsigned integer", camel);
}

static int get_i32(json_t *obj, const char *camel, int32_t *out, struct perr *e)
{
	json_t *v = member(obj, camel, NULL);
	*out = 0;
	if (!v)
		return FUOTA_OK;
	if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
	    json_integer_value(v) > INT32_MAX)
		return bad(e, "%s: expected a 32-bit integer", camel);
	*out = (int32_t)json_integer_value(v);
	return FUOTA_OK;
}

static int get_bytes(json_t *obj, const char *camel, const char *snake, uint8_t *dst, size_t cap,
                     size_t *len, struct perr *e)
{
	json_t *v = member(obj, camel, snake);
	*len = 0;
	if (!v)
		return FUOTA_OK;
	if (!json_is_string(v) || cs_base64_decode(json_string_value(v), json_string_length(v), dst,
	                                           cap, len) != FUOTA_OK)
		return bad(e, "%s: expected base64 of at most %zu bytes", camel, cap);
	return FUOTA_OK;
}

/* A Duration ("12.5s") as nanoseconds >= 0 that fit int64. */
static int get_duration_ns(json_t *obj, const char *camel, const char *snake, int64_t *ns,
                           struct perr *e)
{
	json_t *v = member(obj, camel, snake);
	struct cs_time t;
	*ns = 0;
	if (!v)
		return bad(e, "%s: missing", camel);
	if (!json_is_string(v) || cs_duration_parse(json_string_value(v), &t) != FUOTA_OK)
		return bad(e, "%s: expected a duration such as \"12.5s\"", camel);
	if (t.sec < 0 || t.nsec < 0 || t.sec > INT64_MAX / 1000000000 - 1)
		return bad(e, "%s: out of range", camel);
	*ns = t.sec * 1000000000 + t.nsec;
	return FUOTA_OK;
}

static int parse_modulation(json_t *tx, struct cs_gw_downlink *d, struct perr *e)
{
	json_t *mod = NULL, *lora = NULL, *fsk = NULL;
	int rc = get_obj(tx, "modulation", NULL, &mod, e);
	if (rc == FUOTA_OK && mod)
		rc = get_obj(mod, "lora", NULL, &lora, e);
	if (rc == FUOTA_OK && mod)
		rc = get_obj(mod, "fsk", NULL, &fsk, e);
	if (rc != FUOTA_OK)
		return rc;
	if (lora) {
		json_t *pol = member(lora, "polarizationInversion", "polarization_inversion");
		if (pol && !json_is_boolean(pol))
			return bad(e, "polarizationInversion: expected true or false");
		d->polarization_inversion = pol && json_is_true(pol);
		rc = get_u32(lora, "bandwidth", NULL, &d->bandwidth, e);
		if (rc == FUOTA_OK)
			rc = get_u32(lora, "spreadingFactor", "spreading_factor",
			             &d->spreading_factor, e);
		return rc;
	}
	if (fsk) {
		d->fsk = 1;
		return get_u32(fsk, "datarate", NULL, &d->fsk_datarate, e);
	}
	return bad(e, "txInfo.modulation: missing (lora or fsk)");
}

static int parse_timing(json_t *tx, struct cs_gw_downlink *d, struct perr *e)
{
	json_t *timing = NULL, *delay = NULL, *gps = NULL;
	int rc = get_obj(tx, "timing", NULL, &timing, e);
	d->timing = CS_TIMING_IMMEDIATELY;
	if (rc != FUOTA_OK || !timing)
		return rc;
	rc = get_obj(timing, "delay", NULL, &delay, e);
	if (rc == FUOTA_OK)
		rc = get_obj(timing, "gpsEpoch", "gps_epoch", &gps, e);
	if (rc != FUOTA_OK)
		return rc;
	if (gps) {
		d->timing = CS_TIMING_GPS_EPOCH;
		return get_duration_ns(gps, "timeSinceGpsEpoch", "time_since_gps_epoch",
		                       &d->timing_ns, e);
	}
	if (delay) {
		d->timing = CS_TIMING_DELAY;
		return get_duration_ns(delay, "delay", NULL, &d->timing_ns, e);
	}
	return FUOTA_OK; /* "immediately": {} or no known member */
}

static int parse_gateway_id(json_t *root, char *dst, struct perr *e)
{
	json_t *v = member(root, "gatewayId", "gateway_id");
	if (!v || !json_is_string(v) || json_string_length(v) != 16)
		return bad(e, "gatewayId: expected 16 hex digits");
	const char *s = json_string_value(v);
	for (size_t i = 0; i < 16; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return bad(e, "gatewayId: expected 16 hex digits");
		dst[i] = (char)tolower((unsigned char)s[i]);
	}
	dst[16] = '\0';
	return FUOTA_OK;
}

static int parse_frame(json_t *root, struct cs_gw_downlink *d, struct perr *e)
{
	if (!json_is_object(root))
		return bad(e, "not a JSON object");
	int rc = get_u32(root, "downlinkId", "downlink_id", &d->downlink_id, e);
	if (rc == FUOTA_OK)
		rc = parse_gateway_id(root, d->gateway_id, e);
	if (rc != FUOTA_OK)
		return rc;
	json_t *items = member(root, "items", NULL);
	if (!items || !json_is_array(items) || json_array_size(items) == 0)
		return bad(e, "items: expected a non-empty array");
	json_t *item = json_array_get(items, 0); /* the first item the gateway can emit */
	json_t *tx = NULL;
	if (!json_is_object(item))
		return bad(e, "items[0]: expected an object");
	rc = get_bytes(item, "phyPayload", "phy_payload", d->phy, sizeof(d->phy), &d->phy_len, e);
	if (rc == FUOTA_OK)
		rc = get_obj(item, "txInfo", "tx_info", &tx, e);
	if (rc != FUOTA_OK)
		return rc;
	if (!tx)
		return bad(e, "items[0].txInfo: missing");
	rc = get_u32(tx, "frequency", NULL, &d->frequency, e);
	if (rc == FUOTA_OK)
		rc = get_i32(tx, "power", &d->power, e);
	if (rc == FUOTA_OK)
		rc = get_bytes(tx, "context", NULL, d->context, sizeof(d->context), &d->context_len,
		               e);
	if (rc == FUOTA_OK)
		rc = parse_modulation(tx, d, e);
	if (rc == FUOTA_OK)
		rc = parse_timing(tx, d, e);
	return rc;
}

int sim_gw_downlink_from_json(const char *buf, size_t len, struct cs_gw_downlink *out, char *err,
                              size_t errlen)
{
	struct perr e = {err, errlen};
	json_error_t jerr;
	memset(out, 0, sizeof(*out));
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return bad(&e, "not valid JSON: %s", jerr.text);
	int rc = parse_frame(root, out, &e);
	json_decref(root);
	if (rc != FUOTA_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

int sim_gw_ack_to_json(const struct cs_gw_ack *a, char **out, size_t *out_len)
{
	json_t *root = json_pack("{s:s, s:I, s:[{s:s}]}", "gatewayId", a->gateway_id, "downlinkId",
	                         (json_int_t)a->downlink_id, "items", "status",
	                         cs_ack_status_name(a->status));
	char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (!s)
		return FUOTA_ERR_NO_MEMORY;
	*out = s;
	if (out_len)
		*out_len = strlen(s);
	return FUOTA_OK;
}
