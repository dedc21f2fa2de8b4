/* The protobuf JSON mapping of the ChirpStack integration messages, read and written with jansson.
 * Reading follows the mapping's rules: lowerCamelCase keys (the original snake_case names are
 * accepted too), uint32 as a number or a decimal string, bytes as base64, unknown fields ignored
 * (newer ChirpStack versions add fields). A known field of the wrong type is an error that names
 * the field. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuota/cs_msg.h"
#include "fuota/err.h"

struct jerr {
	char *buf;
	size_t len;
};

static int fail(struct jerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct jerr *e, const char *fmt, ...)
{
	va_list ap;

	if (e->buf && e->len) {
		va_start(ap, fmt);
		vsnprintf(e->buf, e->len, fmt, ap);
		va_end(ap);
	}
	return FUOTA_ERR_MALFORMED;
}

static json_t *field(json_t *obj, const char *camel, const char *snake)
{
	json_t *v = json_object_get(obj, camel);

	if (!v && snake)
		v = json_object_get(obj, snake);
	if (v && json_is_null(v))
		return NULL; /* null means "default value" in the mapping */
	return v;
}

static int get_str(json_t *obj, const char *camel, const char *snake, char *dst, size_t cap,
                   struct jerr *e)
{
	json_t *v = field(obj, camel, snake);
	const char *s;
	size_t n;

	dst[0] = '\0';
	if (!v)
		return FUOTA_OK;
	if (!json_is_string(v))
		return fail(e, "%s: expected a string", camel);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n >= cap || strlen(s) != n)
		return fail(e, "%s: longer than %zu characters or contains NUL", camel, cap - 1);
	memcpy(dst, s, n + 1);
	return FUOTA_OK;
}

static int get_u64(json_t *obj, const char *camel, const char *snake, uint64_t max, uint64_t *dst,
                   struct jerr *e)
{
	json_t *v = field(obj, camel, snake);

	*dst = 0;
	if (!v)
		return FUOTA_OK;
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);

		if (x < 0 || (uint64_t)x > max)
			return fail(e, "%s: %lld out of range", camel, (long long)x);
		*dst = (uint64_t)x;
		return FUOTA_OK;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end = NULL;
		unsigned long long x;

		if (!isdigit((unsigned char)s[0]))
			return fail(e, "%s: expected an unsigned integer", camel);
		x = strtoull(s, &end, 10);
		if (*end || x > max)
			return fail(e, "%s: expected an unsigned integer up to %llu", camel,
			            (unsigned long long)max);
		*dst = x;
		return FUOTA_OK;
	}
	return fail(e, "%s: expected an unsigned integer", camel);
}

static int get_u32(json_t *obj, const char *camel, const char *snake, uint32_t *dst, struct jerr *e)
{
	uint64_t v;
	int rc = get_u64(obj, camel, snake, UINT32_MAX, &v, e);

	*dst = (uint32_t)v;
	return rc;
}

static int get_i32(json_t *obj, const char *camel, const char *snake, int32_t *dst, struct jerr *e)
{
	json_t *v = field(obj, camel, snake);
	json_int_t x;

	*dst = 0;
	if (!v)
		return FUOTA_OK;
	if (!json_is_integer(v))
		return fail(e, "%s: expected an integer", camel);
	x = json_integer_value(v);
	if (x < INT32_MIN || x > INT32_MAX)
		return fail(e, "%s: out of range", camel);
	*dst = (int32_t)x;
	return FUOTA_OK;
}

static int get_bool(json_t *obj, const char *camel, const char *snake, int *dst, struct jerr *e)
{
	json_t *v = field(obj, camel, snake);

	*dst = 0;
	if (!v)
		return FUOTA_OK;
	if (!json_is_boolean(v))
		return fail(e, "%s: expected true or false", camel);
	*dst = json_is_true(v);
	return FUOTA_OK;
}

static int get_bytes(json_t *obj, const char *camel, const char *snake, uint8_t *dst, size_t cap,
                     size_t *len, struct jerr *e)
{
	json_t *v = field(obj, camel, snake);
	int rc;

	*len = 0;
	if (!v)
		return FUOTA_OK;
	if (!json_is_string(v))
		return fail(e, "%s: expected a base64 string", camel);
	rc = cs_base64_decode(json_string_value(v), json_string_length(v), dst, cap, len);
	if (rc == FUOTA_ERR_NO_SPACE)
		return fail(e, "%s: more than %zu bytes", camel, cap);
	if (rc != FUOTA_OK)
		return fail(e, "%s: not valid base64", camel);
	return FUOTA_OK;
}

static int get_time(json_t *obj, const char *camel, const char *snake, int duration,
                    struct cs_time *dst, struct jerr *e)
{
	json_t *v = field(obj, camel, snake);
	int rc;

	memset(dst, 0, sizeof(*dst));
	if (!v)
		return FUOTA_OK;
	if (!json_is_string(v))
		return fail(e, "%s: expected a %s string", camel,
		            duration ? "duration" : "timestamp");
	rc = duration ? cs_duration_parse(json_string_value(v), dst)
	              : cs_time_parse_rfc3339(json_string_value(v), dst);
	if (rc != FUOTA_OK)
		return fail(e, "%s: '%.40s' is not a valid %s", camel, json_string_value(v),
		            duration ? "duration (e.g. \"12.5s\")" : "RFC 3339 timestamp");
	return FUOTA_OK;
}

/* A DevEUI or gateway ID: exactly 16 hex digits, stored lowercase. */
static int get_eui(json_t *obj, const char *camel, const char *snake, char *dst, int required,
                   struct jerr *e)
{
	int rc = get_str(obj, camel, snake, dst, CS_EUI_LEN, e);

	if (rc != FUOTA_OK)
		return rc;
	if (!dst[0])
		return required ? fail(e, "%s: missing", camel) : FUOTA_OK;
	for (size_t i = 0; i < 16; i++) {
		if (!isxdigit((unsigned char)dst[i]))
			return fail(e, "%s: expected 16 hex digits", camel);
		dst[i] = (char)tolower((unsigned char)dst[i]);
	}
	if (strlen(dst) != 16)
		return fail(e, "%s: expected 16 hex digits", camel);
	return FUOTA_OK;
}

static int parse_rx_info(json_t *o, struct cs_rx_info *rx, struct jerr *e)
{
	int rc;

	if (!json_is_object(o))
		return fail(e, "rxInfo: expected objects");
	if ((rc = get_eui(o, "gatewayId", "gateway_id", rx->gateway_id, 1, e)) ||
	    (rc = get_u32(o, "uplinkId", "uplink_id", &rx->uplink_id, e)) ||
	    (rc = get_time(o, "gwTime", "gw_time", 0, &rx->gw_time, e)) ||
	    (rc = get_time(o, "timeSinceGpsEpoch", "time_since_gps_epoch", 1,
	                   &rx->time_since_gps_epoch, e)) ||
	    (rc = get_time(o, "nsTime", "ns_time", 0, &rx->ns_time, e)) ||
	    (rc = get_i32(o, "rssi", NULL, &rx->rssi, e)) ||
	    (rc = get_bytes(o, "context", NULL, rx->context, sizeof(rx->context), &rx->context_len,
	                    e)))
		return rc;
	{
		json_t *snr = field(o, "snr", NULL);

		if (snr && !json_is_number(snr))
			return fail(e, "snr: expected a number");
		rx->snr = snr ? (float)json_number_value(snr) : 0.0f;
	}
	return FUOTA_OK;
}

static json_t *load(const char *buf, size_t len, struct jerr *e)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!root) {
		fail(e, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		fail(e, "expected a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

int cs_uplink_from_json(const char *buf, size_t len, struct cs_uplink *out, char *err,
                        size_t errlen)
{
	struct jerr e = {err, errlen};
	json_t *root, *dev, *rx, *tx;
	int rc;

	memset(out, 0, sizeof(*out));
	root = load(buf, len, &e);
	if (!root)
		return FUOTA_ERR_MALFORMED;
	dev = field(root, "deviceInfo", "device_info");
	if (!dev || !json_is_object(dev)) {
		rc = fail(&e, "deviceInfo: missing or not an object");
		goto out;
	}
	if ((rc = get_str(root, "deduplicationId", "deduplication_id", out->deduplication_id,
	                  sizeof(out->deduplication_id), &e)) ||
	    (rc = get_time(root, "time", NULL, 0, &out->time, &e)) ||
	    (rc = get_str(dev, "tenantId", "tenant_id", out->tenant_id, sizeof(out->tenant_id),
	                  &e)) ||
	    (rc = get_str(dev, "applicationId", "application_id", out->application_id,
	                  sizeof(out->application_id), &e)) ||
	    (rc = get_eui(dev, "devEui", "dev_eui", out->dev_eui, 1, &e)) ||
	    (rc = get_str(root, "devAddr", "dev_addr", out->dev_addr, sizeof(out->dev_addr), &e)) ||
	    (rc = get_u32(root, "dr", NULL, &out->dr, &e)) ||
	    (rc = get_u32(root, "fCnt", "f_cnt", &out->f_cnt, &e)) ||
	    (rc = get_u32(root, "fPort", "f_port", &out->f_port, &e)) ||
	    (rc = get_bool(root, "confirmed", NULL, &out->confirmed, &e)) ||
	    (rc = get_bytes(root, "data", NULL, out->data, sizeof(out->data), &out->data_len,
	                    &e)) ||
	    (rc = get_str(root, "regionConfigId", "region_config_id", out->region_config_id,
	                  sizeof(out->region_config_id), &e)))
		goto out;
	if (out->f_port > 255) {
		rc = fail(&e, "fPort: %u out of range", out->f_port);
		goto out;
	}
	tx = field(root, "txInfo", "tx_info");
	if (tx) {
		if (!json_is_object(tx)) {
			rc = fail(&e, "txInfo: expected an object");
			goto out;
		}
		if ((rc = get_u32(tx, "frequency", NULL, &out->frequency, &e)))
			goto out;
	}
	rx = field(root, "rxInfo", "rx_info");
	if (rx) {
		size_t i;
		json_t *item;

		if (!json_is_array(rx)) {
			rc = fail(&e, "rxInfo: expected an array");
			goto out;
		}
		json_array_foreach(rx, i, item)
		{
			if (out->n_rx == CS_MAX_RX)
				break;
			if ((rc = parse_rx_info(item, &out->rx[out->n_rx], &e)))
				goto out;
			out->n_rx++;
		}
	}
	rc = FUOTA_OK;
out:
	json_decref(root);
	if (rc != FUOTA_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

int cs_downlink_from_json(const char *buf, size_t len, struct cs_downlink *out, char *err,
                          size_t errlen)
{
	struct jerr e = {err, errlen};
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	root = load(buf, len, &e);
	if (!root)
		return FUOTA_ERR_MALFORMED;
	if ((rc = get_str(root, "id", NULL, out->id, sizeof(out->id), &e)) ||
	    (rc = get_eui(root, "devEui", "dev_eui", out->dev_eui, 1, &e)) ||
	    (rc = get_bool(root, "confirmed", NULL, &out->confirmed, &e)) ||
	    (rc = get_u32(root, "fPort", "f_port", &out->f_port, &e)) ||
	    (rc = get_bytes(root, "data", NULL, out->data, sizeof(out->data), &out->data_len, &e)))
		goto out;
	if (out->f_port == 0 || out->f_port > 255)
		rc = fail(&e, "fPort: %u out of range 1..255", out->f_port);
out:
	json_decref(root);
	if (rc != FUOTA_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* --- writers --- */

static int set_new(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? 0 : -1;
}

static json_t *bytes_value(const uint8_t *data, size_t len)
{
	char text[4 * ((CS_MAX_PAYLOAD + 2) / 3) + 1];

	cs_base64_encode(data, len, text);
	return json_string(text);
}

static int set_time(json_t *obj, const char *key, const struct cs_time *t, int duration)
{
	char text[64];

	if (!t->set)
		return 0;
	if (duration)
		cs_duration_format(t, text, sizeof(text));
	else
		cs_time_format_rfc3339(t, text, sizeof(text));
	return set_new(obj, key, json_string(text));
}

static int dump(json_t *root, int bad, char **out, size_t *out_len)
{
	char *s = bad ? NULL : json_dumps(root, JSON_COMPACT);

	json_decref(root);
	if (!s)
		return FUOTA_ERR_NO_MEMORY;
	*out = s;
	if (out_len)
		*out_len = strlen(s);
	return FUOTA_OK;
}

int cs_uplink_to_json(const struct cs_uplink *u, char **out, size_t *out_len)
{
	json_t *root = json_object(), *dev = json_object(), *rx = json_array(), *tx = json_object();
	int bad = !root || !dev || !rx || !tx;

	if (!bad) {
		bad |= set_new(dev, "tenantId", json_string(u->tenant_id));
		bad |= set_new(dev, "applicationId", json_string(u->application_id));
		bad |= set_new(dev, "devEui", json_string(u->dev_eui));
		bad |= set_new(root, "deduplicationId", json_string(u->deduplication_id));
		bad |= set_time(root, "time", &u->time, 0);
		bad |= set_new(root, "deviceInfo", json_incref(dev));
		bad |= set_new(root, "devAddr", json_string(u->dev_addr));
		bad |= set_new(root, "dr", json_integer(u->dr));
		bad |= set_new(root, "fCnt", json_integer(u->f_cnt));
		bad |= set_new(root, "fPort", json_integer(u->f_port));
		bad |= set_new(root, "confirmed", json_boolean(u->confirmed));
		bad |= set_new(root, "data", bytes_value(u->data, u->data_len));
		for (size_t i = 0; i < u->n_rx && i < CS_MAX_RX && !bad; i++) {
			const struct cs_rx_info *r = &u->rx[i];
			json_t *o = json_object();

			bad |= !o;
			bad |= set_new(o, "gatewayId", json_string(r->gateway_id));
			bad |= set_new(o, "uplinkId", json_integer(r->uplink_id));
			bad |= set_time(o, "gwTime", &r->gw_time, 0);
			bad |= set_time(o, "timeSinceGpsEpoch", &r->time_since_gps_epoch, 1);
			bad |= set_time(o, "nsTime", &r->ns_time, 0);
			bad |= set_new(o, "rssi", json_integer(r->rssi));
			bad |= set_new(o, "snr", json_real(r->snr));
			if (r->context_len)
				bad |= set_new(o, "context",
				               bytes_value(r->context, r->context_len));
			bad |= json_array_append_new(rx, o) != 0;
		}
		bad |= set_new(root, "rxInfo", json_incref(rx));
		bad |= set_new(tx, "frequency", json_integer(u->frequency));
		bad |= set_new(root, "txInfo", json_incref(tx));
		if (u->region_config_id[0])
			bad |= set_new(root, "regionConfigId", json_string(u->region_config_id));
	}
	json_decref(dev);
	json_decref(rx);
	json_decref(tx);
	return dump(root, bad, out, out_len);
}

int cs_downlink_to_json(const struct cs_downlink *d, char **out, size_t *out_len)
{
	json_t *root = json_object();
	int bad = !root;

	if (!bad) {
		if (d->id[0])
			bad |= set_new(root, "id", json_string(d->id));
		bad |= set_new(root, "devEui", json_string(d->dev_eui));
		bad |= set_new(root, "confirmed", json_boolean(d->confirmed));
		bad |= set_new(root, "fPort", json_integer(d->f_port));
		bad |= set_new(root, "data", bytes_value(d->data, d->data_len));
	}
	return dump(root, bad, out, out_len);
}
