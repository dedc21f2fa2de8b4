/* MQTT payloads from the broker: every ChirpStack message parser, JSON and protobuf. The first
 * byte picks the parser (0-5 as before; 6: gw.DownlinkFrame JSON, 7: gw.DownlinkTxAck JSON,
 * 8: gw.GatewayStats JSON, 9: gw.GatewayStats protobuf); what parses must write back and parse
 * again to the same struct. */
#include <stdlib.h>
#include <string.h>

#include "fuota/cs_msg.h"
#include "fuota/err.h"
#include "fuzz.h"

static void uplink(const uint8_t *d, size_t n, int json)
{
	struct cs_uplink u, back;
	char err[128];
	char *text = NULL;
	uint8_t *bin = NULL;
	size_t len = 0;
	int rc = json ? cs_uplink_from_json((const char *)d, n, &u, err, sizeof(err))
	              : cs_uplink_from_proto(d, n, &u, err, sizeof(err));

	if (rc != FUOTA_OK)
		return;
	if (cs_uplink_to_proto(&u, &bin, &len) == FUOTA_OK) {
		if (cs_uplink_from_proto(bin, len, &back, err, sizeof(err)) != FUOTA_OK ||
		    back.data_len != u.data_len || memcmp(back.data, u.data, u.data_len) ||
		    strcmp(back.dev_eui, u.dev_eui) || back.n_rx != u.n_rx)
			abort();
		free(bin);
	}
	if (cs_uplink_to_json(&u, &text, &len) == FUOTA_OK) {
		/* a string with bytes that are not UTF-8 cannot be written as JSON: not checked */
		if (cs_uplink_from_json(text, len, &back, err, sizeof(err)) == FUOTA_OK &&
		    (back.data_len != u.data_len || memcmp(back.data, u.data, u.data_len)))
			abort();
		free(text);
	}
}

static void downlink(const uint8_t *d, size_t n, int json)
{
	struct cs_downlink dl, back;
	char err[128];
	uint8_t *bin = NULL;
	size_t len = 0;
	int rc = json ? cs_downlink_from_json((const char *)d, n, &dl, err, sizeof(err))
	              : cs_downlink_from_proto(d, n, &dl, err, sizeof(err));

	if (rc != FUOTA_OK)
		return;
	if (cs_downlink_to_proto(&dl, &bin, &len) == FUOTA_OK) {
		if (cs_downlink_from_proto(bin, len, &back, err, sizeof(err)) != FUOTA_OK ||
		    memcmp(&back, &dl, sizeof(dl)))
			abort();
		free(bin);
	}
}

/* A gateway's JSON: what parses writes back as JSON that parses to the same struct. */
static void gw_json(const uint8_t *d, size_t n, int ack)
{
	struct cs_gw_downlink g, gback;
	struct cs_gw_ack a, aback;
	char err[128], *text = NULL;
	size_t len = 0;

	if (ack) {
		if (cs_gw_ack_from_json((const char *)d, n, &a, err, sizeof(err)) != FUOTA_OK)
			return;
		if (cs_gw_ack_to_json(&a, &text, &len) != FUOTA_OK)
			return;
		if (cs_gw_ack_from_json(text, len, &aback, err, sizeof(err)) != FUOTA_OK ||
		    memcmp(&a, &aback, sizeof(a)))
			abort();
		free(text);
		return;
	}
	if (cs_gw_downlink_from_json((const char *)d, n, &g, err, sizeof(err)) != FUOTA_OK)
		return;
	if (cs_gw_downlink_to_json(&g, &text, &len) != FUOTA_OK)
		return;
	if (cs_gw_downlink_from_json(text, len, &gback, err, sizeof(err)) != FUOTA_OK ||
	    memcmp(&g, &gback, sizeof(g)))
		abort();
	free(text);
}

/* Stats as fuotad reads them: the encoding by cs_payload_is_json's rule, then that reader. */
static void gw_stats(const uint8_t *d, size_t n, int json)
{
	struct cs_gw_stats st, back;
	char err[128], *text = NULL;
	uint8_t *bin = NULL;
	size_t len = 0;
	int rc = json ? cs_gw_stats_from_json((const char *)d, n, &st, err, sizeof(err))
	              : cs_gw_stats_from_proto(d, n, &st, err, sizeof(err));

	if (cs_payload_is_json(d, n) != (n > 0 && d[0] == '{'))
		abort();
	if (rc != FUOTA_OK)
		return;
	if (strlen(st.gateway_id) != 16)
		abort();
	if (cs_gw_stats_to_proto(&st, &bin, &len) == FUOTA_OK) {
		if (cs_gw_stats_from_proto(bin, len, &back, err, sizeof(err)) != FUOTA_OK ||
		    memcmp(&back, &st, sizeof(st)))
			abort();
		free(bin);
	}
	if (json && cs_gw_stats_to_json(&st, &text, &len) == FUOTA_OK) {
		/* a time beyond year 9999 (an offset) may not write back as RFC 3339: not checked
		 */
		if (cs_gw_stats_from_json(text, len, &back, err, sizeof(err)) == FUOTA_OK &&
		    memcmp(&back, &st, sizeof(st)))
			abort();
		free(text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_gw_downlink g;
	struct cs_gw_ack a;
	char err[128];

	if (size < 1)
		return 0;
	switch (data[0] % 10) {
	case 0: uplink(data + 1, size - 1, 1); break;
	case 1: uplink(data + 1, size - 1, 0); break;
	case 2: downlink(data + 1, size - 1, 1); break;
	case 3: downlink(data + 1, size - 1, 0); break;
	case 4: (void)cs_gw_downlink_from_proto(data + 1, size - 1, &g, err, sizeof(err)); break;
	case 5: (void)cs_gw_ack_from_proto(data + 1, size - 1, &a, err, sizeof(err)); break;
	case 6: gw_json(data + 1, size - 1, 0); break;
	case 7: gw_json(data + 1, size - 1, 1); break;
	case 8: gw_stats(data + 1, size - 1, 1); break;
	case 9: gw_stats(data + 1, size - 1, 0); break;
	}
	return 0;
}
