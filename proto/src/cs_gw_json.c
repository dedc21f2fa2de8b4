/* The gateway messages in the protobuf JSON mapping (cs_msg.h): ChirpStack talks JSON to a
 * gateway that publishes JSON (CHIRPSTACK-NOTES §9.4), with the field names of gw.proto in
 * lowerCamelCase, bytes in base64, enums by name, Durations as "12.5s". Readers accept the
 * original snake_case names too, numbers as decimal strings and enums as numbers, as protobuf's
 * JSON parsers do, and ignore unknown members.
 *
 *   gw.DownlinkFrame  {"downlinkId": 7, "gatewayId": "0102030405060708", "items": [{
 *                      "phyPayload": "…", "txInfo": {"frequency": 869525000, "power": 27,
 *                      "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 9,
 *                      "codeRate": "CR_4_5", "polarizationInversion": true}},
 *                      "timing": {"gpsEpoch": {"timeSinceGpsEpoch": "1436486418.5s"}},
 *                      "context": "…"}}]}
 *   gw.DownlinkTxAck  {"gatewayId": "0102030405060708", "downlinkId": 7,
 *                      "items": [{"status": "OK"}]}
 *   gw.GatewayStats   {"gatewayId": "0102030405060708", "time": "2025-07-14T00:00:00Z",
 *                      "rxPacketsReceived": 3, "rxPacketsReceivedOk": 2,
 *                      "txPacketsReceived": 1, "txPacketsEmitted": 1}   (the periodic message
 *                      a gateway publishes on {prefix}/gateway/{id}/event/stats)              */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuota/cs_msg.h"
#include "fuota/err.h"

/* The member camel (or snake); NULL when absent or null, which the mapping reads as the
 * field's default. */
static json_t *member(json_t *o, const char *camel, const char *snake)
{
	json_t *v = json_object_get(o, camel);

	if (!v && snake)
		v = json_object_get(o, snake);
	return v && !json_is_null(v) ? v : NULL;
}

/* An integer field in [min, max]: a JSON integer or its decimal string. 0 when absent. */
static int get_int(json_t *o, const char *camel, const char *snake, long long min, long long max,
                   long long *out, char *err, size_t errlen)
{
	json_t *v = member(o, camel, snake);
	long long x;

	*out = 0;
	if (!v)
		return FUOTA_OK;
	if (json_is_integer(v)) {
		x = json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end = NULL;

		if (!(isdigit((unsigned char)s[0]) ||
		      (s[0] == '-' && isdigit((unsigned char)s[1]))))
			return fuota_malformed(err, errlen, "%s: expected an integer", camel);
		x = strtoll(s, &end, 10);
		if (*end)
			return fuota_malformed(err, errlen, "%s: expected an integer", camel);
	} else {
		return fuota_malformed(err, errlen, "%s: expected an integer", camel);
	}
	if (x < min || x > max)
		return fuota_malformed(err, errlen, "%s: %lld out of range", camel, x);
	*out = x;
	return FUOTA_OK;
}

static int get_obj(json_t *o, const char *camel, const char *snake, json_t **out, char *err,
                   size_t errlen)
{
	*out = member(o, camel, snake);
	if (*out && !json_is_object(*out))
		return fuota_malformed(err, errlen, "%s: expected an object", camel);
	return FUOTA_OK;
}

static int get_gateway_id(json_t *o, char out[CS_EUI_LEN], char *err, size_t errlen)
{
	json_t *v = member(o, "gatewayId", "gateway_id");
	const char *s;

	if (!v || !json_is_string(v) || json_string_length(v) != 16)
		return fuota_malformed(err, errlen, "gatewayId: expected 16 hex digits");
	s = json_string_value(v);
	for (size_t i = 0; i < 16; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return fuota_malformed(err, errlen, "gatewayId: expected 16 hex digits");
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[16] = 0;
	return FUOTA_OK;
}

static char *dump(json_t *root, size_t *out_len)
{
	char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;

	json_decref(root);
	if (s && out_len)
		*out_len = strlen(s);
	return s;
}

int cs_gw_downlink_to_json(const struct cs_gw_downlink *d, char **out, size_t *out_len)
{
	char phy[4 * ((CS_MAX_PAYLOAD + 2) / 3) + 1], ctx[4 * ((CS_MAX_CONTEXT + 2) / 3) + 1];
	char dur[48];
	struct cs_time t = {.set = 1,
	                    .sec = d->timing_ns / 1000000000,
	                    .nsec = (int32_t)(d->timing_ns % 1000000000)};
	json_t *mod, *timing, *root;

	*out = NULL;
	if (d->phy_len > CS_MAX_PAYLOAD || d->context_len > CS_MAX_CONTEXT)
		return FUOTA_ERR_INVALID_ARG;
	cs_base64_encode(d->phy, d->phy_len, phy);
	cs_base64_encode(d->context, d->context_len, ctx);
	cs_duration_format(&t, dur, sizeof(dur));
	if (d->fsk)
		mod = json_pack("{s:{s:I, s:I}}", "fsk", "frequencyDeviation",
		                (json_int_t)d->fsk_fdev, "datarate", (json_int_t)d->fsk_datarate);
	else
		mod = json_pack("{s:{s:I, s:I, s:s, s:b}}", "lora", "bandwidth",
		                (json_int_t)d->bandwidth, "spreadingFactor",
		                (json_int_t)d->spreading_factor, "codeRate", "CR_4_5",
		                "polarizationInversion", d->polarization_inversion != 0);
	switch (d->timing) {
	case CS_TIMING_DELAY: timing = json_pack("{s:{s:s}}", "delay", "delay", dur); break;
	case CS_TIMING_GPS_EPOCH:
		timing = json_pack("{s:{s:s}}", "gpsEpoch", "timeSinceGpsEpoch", dur);
		break;
	case CS_TIMING_IMMEDIATELY:
	default: timing = json_pack("{s:{}}", "immediately"); break;
	}
	root = json_pack("{s:I, s:s, s:[{s:s, s:{s:I, s:i, s:o, s:o, s:s}}]}", "downlinkId",
	                 (json_int_t)d->downlink_id, "gatewayId", d->gateway_id, "items",
	                 "phyPayload", phy, "txInfo", "frequency", (json_int_t)d->frequency,
	                 "power", (int)d->power, "modulation", mod, "timing", timing, "context",
	                 ctx);
	*out = dump(root, out_len);
	return *out ? FUOTA_OK : FUOTA_ERR_NO_MEMORY;
}

static int parse_duration_ns(json_t *o, const char *camel, const char *snake, int64_t *ns,
                             char *err, size_t errlen)
{
	json_t *v = member(o, camel, snake);
	struct cs_time t;

	*ns = 0;
	if (!v)
		return FUOTA_OK; /* a zero Duration */
	if (!json_is_string(v) || cs_duration_parse(json_string_value(v), &t) != FUOTA_OK)
		return fuota_malformed(err, errlen, "%s: expected a duration such as \"12.5s\"",
		                       camel);
	if (t.sec < 0 || t.nsec < 0 || t.sec > INT64_MAX / 1000000000 - 1)
		return fuota_malformed(err, errlen, "%s: out of range", camel);
	*ns = t.sec * 1000000000 + t.nsec;
	return FUOTA_OK;
}

static int parse_tx_info(json_t *tx, struct cs_gw_downlink *d, char *err, size_t errlen)
{
	json_t *mod = NULL, *lora = NULL, *fsk = NULL, *timing = NULL, *sub = NULL, *v;
	long long x;
	int rc = get_int(tx, "frequency", NULL, 0, UINT32_MAX, &x, err, errlen);

	d->frequency = (uint32_t)x;
	if (rc == FUOTA_OK &&
	    (rc = get_int(tx, "power", NULL, INT32_MIN, INT32_MAX, &x, err, errlen)) == FUOTA_OK)
		d->power = (int32_t)x;
	if (rc == FUOTA_OK && (v = member(tx, "context", NULL)) != NULL &&
	    (!json_is_string(v) ||
	     cs_base64_decode(json_string_value(v), json_string_length(v), d->context,
	                      sizeof(d->context), &d->context_len) != FUOTA_OK))
		rc = fuota_malformed(err, errlen,
		                     "txInfo.context: expected base64 of at most %d bytes",
		                     CS_MAX_CONTEXT);
	if (rc == FUOTA_OK)
		rc = get_obj(tx, "modulation", NULL, &mod, err, errlen);
	if (rc == FUOTA_OK && !mod)
		rc = fuota_malformed(err, errlen, "txInfo.modulation: missing (lora or fsk)");
	if (rc == FUOTA_OK)
		rc = get_obj(mod, "lora", NULL, &lora, err, errlen);
	if (rc == FUOTA_OK)
		rc = get_obj(mod, "fsk", NULL, &fsk, err, errlen);
	if (rc != FUOTA_OK)
		return rc;
	if (lora) {
		v = member(lora, "polarizationInversion", "polarization_inversion");
		if (v && !json_is_boolean(v))
			return fuota_malformed(err, errlen,
			                       "polarizationInversion: expected true or false");
		d->polarization_inversion = v && json_is_true(v);
		rc = get_int(lora, "bandwidth", NULL, 0, UINT32_MAX, &x, err, errlen);
		d->bandwidth = (uint32_t)x;
		if (rc == FUOTA_OK)
			rc = get_int(lora, "spreadingFactor", "spreading_factor", 0, UINT32_MAX, &x,
			             err, errlen);
		d->spreading_factor = (uint32_t)x;
	} else if (fsk) {
		d->fsk = 1;
		rc = get_int(fsk, "datarate", NULL, 0, UINT32_MAX, &x, err, errlen);
		d->fsk_datarate = (uint32_t)x;
		if (rc == FUOTA_OK)
			rc = get_int(fsk, "frequencyDeviation", "frequency_deviation", 0,
			             UINT32_MAX, &x, err, errlen);
		d->fsk_fdev = (uint32_t)x;
	} else {
		rc = fuota_malformed(err, errlen, "txInfo.modulation: missing (lora or fsk)");
	}
	if (rc == FUOTA_OK)
		rc = get_obj(tx, "timing", NULL, &timing, err, errlen);
	if (rc != FUOTA_OK || !timing)
		return rc;
	if ((rc = get_obj(timing, "gpsEpoch", "gps_epoch", &sub, err, errlen)) != FUOTA_OK)
		return rc;
	if (sub) {
		d->timing = CS_TIMING_GPS_EPOCH;
		return parse_duration_ns(sub, "timeSinceGpsEpoch", "time_since_gps_epoch",
		                         &d->timing_ns, err, errlen);
	}
	if ((rc = get_obj(timing, "delay", NULL, &sub, err, errlen)) != FUOTA_OK)
		return rc;
	if (sub) {
		d->timing = CS_TIMING_DELAY;
		return parse_duration_ns(sub, "delay", NULL, &d->timing_ns, err, errlen);
	}
	return FUOTA_OK; /* immediately */
}

static int parse_downlink(json_t *root, struct cs_gw_downlink *d, char *err, size_t errlen)
{
	json_t *items, *item, *v, *tx = NULL;
	long long x;
	int rc;

	if (!json_is_object(root))
		return fuota_malformed(err, errlen, "not a JSON object");
	if ((rc = get_int(root, "downlinkId", "downlink_id", 0, UINT32_MAX, &x, err, errlen)) !=
	    FUOTA_OK)
		return rc;
	d->downlink_id = (uint32_t)x;
	if ((rc = get_gateway_id(root, d->gateway_id, err, errlen)) != FUOTA_OK)
		return rc;
	items = member(root, "items", NULL);
	if (!items || !json_is_array(items) || json_array_size(items) == 0)
		return fuota_malformed(err, errlen, "items: expected a non-empty array");
	item = json_array_get(items, 0);
	if (!json_is_object(item))
		return fuota_malformed(err, errlen, "items[0]: expected an object");
	v = member(item, "phyPayload", "phy_payload");
	if (!v || !json_is_string(v) ||
	    cs_base64_decode(json_string_value(v), json_string_length(v), d->phy, sizeof(d->phy),
	                     &d->phy_len) != FUOTA_OK)
		return fuota_malformed(err, errlen,
		                       "items[0].phyPayload: expected base64 of at most %d bytes",
		                       CS_MAX_PAYLOAD);
	if ((rc = get_obj(item, "txInfo", "tx_info", &tx, err, errlen)) != FUOTA_OK)
		return rc;
	if (!tx)
		return fuota_malformed(err, errlen, "items[0].txInfo: missing");
	return parse_tx_info(tx, d, err, errlen);
}

/* Parses buf with parse into out (size bytes, all zero unless it succeeds). */
static int from_json(const char *buf, size_t len, void *out, size_t size,
                     int (*parse)(json_t *, void *, char *, size_t), char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;
	int rc;

	memset(out, 0, size);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return fuota_malformed(err, errlen, "not JSON: %s", je.text);
	rc = parse(root, out, err, errlen);
	json_decref(root);
	if (rc != FUOTA_OK)
		memset(out, 0, size);
	return rc;
}

static int parse_downlink_any(json_t *root, void *out, char *err, size_t errlen)
{
	return parse_downlink(root, out, err, errlen);
}

int cs_gw_downlink_from_json(const char *buf, size_t len, struct cs_gw_downlink *out, char *err,
                             size_t errlen)
{
	return from_json(buf, len, out, sizeof(*out), parse_downlink_any, err, errlen);
}

int cs_gw_ack_to_json(const struct cs_gw_ack *a, char **out, size_t *out_len)
{
	*out = dump(json_pack("{s:s, s:I, s:[{s:s}]}", "gatewayId", a->gateway_id, "downlinkId",
	                      (json_int_t)a->downlink_id, "items", "status",
	                      cs_ack_status_name(a->status)),
	            out_len);
	return *out ? FUOTA_OK : FUOTA_ERR_NO_MEMORY;
}

int cs_gw_stats_to_json(const struct cs_gw_stats *st, char **out, size_t *out_len)
{
	char when[64];

	if (st->time.set)
		cs_time_format_rfc3339(&st->time, when, sizeof(when));
	/* s*: no "time" member when the time is not set. */
	*out = dump(json_pack("{s:s, s:s*, s:I, s:I, s:I, s:I}", "gatewayId", st->gateway_id,
	                      "time", st->time.set ? when : NULL, "rxPacketsReceived",
	                      (json_int_t)st->rx_received, "rxPacketsReceivedOk",
	                      (json_int_t)st->rx_received_ok, "txPacketsReceived",
	                      (json_int_t)st->tx_received, "txPacketsEmitted",
	                      (json_int_t)st->tx_emitted),
	            out_len);
	return *out ? FUOTA_OK : FUOTA_ERR_NO_MEMORY;
}

/* A TxAckStatus by name, or by number as parsers of the mapping accept too. */
static int parse_status(json_t *v, enum cs_tx_ack_status *st)
{
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);

		if (x < 0 || x > INT32_MAX)
			return FUOTA_ERR_MALFORMED;
		/* An unknown future status is a refusal. */
		*st = x > CS_ACK_DUTY_CYCLE_OVERFLOW ? CS_ACK_INTERNAL_ERROR
		                                     : (enum cs_tx_ack_status)x;
		return FUOTA_OK;
	}
	if (!json_is_string(v))
		return FUOTA_ERR_MALFORMED;
	for (int i = CS_ACK_IGNORED; i <= CS_ACK_DUTY_CYCLE_OVERFLOW; i++)
		if (strcmp(json_string_value(v), cs_ack_status_name((enum cs_tx_ack_status)i)) ==
		    0) {
			*st = (enum cs_tx_ack_status)i;
			return FUOTA_OK;
		}
	*st = CS_ACK_INTERNAL_ERROR;
	return FUOTA_OK;
}

static int parse_ack(json_t *root, struct cs_gw_ack *a, char *err, size_t errlen)
{
	json_t *items;
	long long x;
	int rc;

	if (!json_is_object(root))
		return fuota_malformed(err, errlen, "not a JSON object");
	if ((rc = get_gateway_id(root, a->gateway_id, err, errlen)) != FUOTA_OK)
		return rc;
	if ((rc = get_int(root, "downlinkId", "downlink_id", 0, UINT32_MAX, &x, err, errlen)) !=
	    FUOTA_OK)
		return rc;
	a->downlink_id = (uint32_t)x;
	items = member(root, "items", NULL);
	if (!items || !json_is_array(items) || json_array_size(items) == 0)
		return fuota_malformed(err, errlen, "items: expected a non-empty array");
	/* OK if any item is OK, otherwise the last item's status (as cs_gw_ack_from_proto). */
	for (size_t i = 0; i < json_array_size(items); i++) {
		json_t *it = json_array_get(items, i), *v;
		enum cs_tx_ack_status st = CS_ACK_IGNORED;

		if (!json_is_object(it))
			return fuota_malformed(err, errlen, "items[%zu]: expected an object", i);
		v = member(it, "status", NULL);
		if (v && parse_status(v, &st) != FUOTA_OK)
			return fuota_malformed(err, errlen,
			                       "items[%zu].status: expected a TxAckStatus", i);
		if (i == 0 || a->status != CS_ACK_OK)
			a->status = st;
	}
	return FUOTA_OK;
}

static int parse_ack_any(json_t *root, void *out, char *err, size_t errlen)
{
	return parse_ack(root, out, err, errlen);
}

int cs_gw_ack_from_json(const char *buf, size_t len, struct cs_gw_ack *out, char *err,
                        size_t errlen)
{
	return from_json(buf, len, out, sizeof(*out), parse_ack_any, err, errlen);
}

static int parse_stats(json_t *root, struct cs_gw_stats *st, char *err, size_t errlen)
{
	static const struct {
		const char *camel, *snake;
		size_t off;
	} counters[] = {
	        {"rxPacketsReceived", "rx_packets_received",
	         offsetof(struct cs_gw_stats, rx_received)},
	        {"rxPacketsReceivedOk", "rx_packets_received_ok",
	         offsetof(struct cs_gw_stats, rx_received_ok)},
	        {"txPacketsReceived", "tx_packets_received",
	         offsetof(struct cs_gw_stats, tx_received)},
	        {"txPacketsEmitted", "tx_packets_emitted",
	         offsetof(struct cs_gw_stats, tx_emitted)},
	};
	json_t *v;
	long long x;
	int rc;

	if (!json_is_object(root))
		return fuota_malformed(err, errlen, "not a JSON object");
	if ((rc = get_gateway_id(root, st->gateway_id, err, errlen)) != FUOTA_OK)
		return rc;
	v = member(root, "time", NULL);
	if (v && (!json_is_string(v) ||
	          cs_time_parse_rfc3339(json_string_value(v), &st->time) != FUOTA_OK))
		return fuota_malformed(err, errlen, "time: expected an RFC 3339 timestamp");
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		rc = get_int(root, counters[i].camel, counters[i].snake, 0, UINT32_MAX, &x, err,
		             errlen);
		if (rc != FUOTA_OK)
			return rc;
		*(uint32_t *)(void *)((char *)st + counters[i].off) = (uint32_t)x;
	}
	return FUOTA_OK;
}

static int parse_stats_any(json_t *root, void *out, char *err, size_t errlen)
{
	return parse_stats(root, out, err, errlen);
}

int cs_gw_stats_from_json(const char *buf, size_t len, struct cs_gw_stats *out, char *err,
                          size_t errlen)
{
	return from_json(buf, len, out, sizeof(*out), parse_stats_any, err, errlen);
}

bool cs_payload_is_json(const uint8_t *buf, size_t len)
{
	/* The protobuf JSON mapping of a message is an object, and binary protobuf never starts
	 * with '{': 0x7b would be the tag of field 15 with wire type 3 (start group), which proto3
	 * never writes. The first byte alone decides. Skipping white space first would not be
	 * safe: each JSON blank byte is a valid tag too (0x0a: field 1, length-delimited, as in
	 * UplinkEvent.deduplication_id; 0x09, 0x0d, 0x20 as well), so "\n{" may be a protobuf
	 * field of length 123. ChirpStack itself looks for "gatewayId" in the text; a gateway
	 * naming it gateway_id still counts as JSON here. */
	return len > 0 && buf[0] == '{';
}
