/* gw.UplinkFrame in the protobuf JSON mapping (what ChirpStack reads from a gateway that
 * publishes JSON): camelCase names, bytes in base64, enums by name, gwTime in RFC 3339 and
 * timeSinceGpsEpoch as a Duration ("1436486418.500s"). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/cs_msg.h"

static const char *const code_rates[] = {"CR_UNDEFINED", "CR_4_5", "CR_4_6", "CR_4_7", "CR_4_8"};
static const char *const crc_names[] = {"NO_CRC", "BAD_CRC", "CRC_OK"};

static json_t *b64(const uint8_t *d, size_t n)
{
	char buf[4 * ((CS_MAX_PAYLOAD + 2) / 3) + 1];

	cs_base64_encode(d, n, buf);
	return json_string(buf);
}

static json_t *tx_info(const struct cs_gw_uplink *f)
{
	json_t *mod;

	if (f->fsk)
		mod = json_pack("{s:{s:I}}", "fsk", "datarate", (json_int_t)f->fsk_datarate);
	else
		mod = json_pack("{s:{s:I,s:I,s:s}}", "lora", "bandwidth", (json_int_t)f->bandwidth,
		                "spreadingFactor", (json_int_t)f->spreading_factor, "codeRate",
		                code_rates[f->code_rate < 5 ? f->code_rate : 0]);
	return json_pack("{s:I,s:o}", "frequency", (json_int_t)f->frequency, "modulation", mod);
}

static json_t *rx_info(const struct cs_gw_uplink *f)
{
	char t[48];
	json_t *rx =
	        json_pack("{s:s,s:I,s:i,s:f,s:I,s:I,s:o,s:s}", "gatewayId", f->rx.gateway_id,
	                  "uplinkId", (json_int_t)f->rx.uplink_id, "rssi", (int)f->rx.rssi, "snr",
	                  (double)f->rx.snr, "channel", (json_int_t)f->channel, "rfChain",
	                  (json_int_t)f->rf_chain, "context", b64(f->rx.context, f->rx.context_len),
	                  "crcStatus", crc_names[(unsigned)f->crc_status < 3 ? f->crc_status : 0]);

	if (rx && f->rx.gw_time.set) {
		cs_time_format_rfc3339(&f->rx.gw_time, t, sizeof(t));
		json_object_set_new(rx, "gwTime", json_string(t));
	}
	if (rx && f->rx.time_since_gps_epoch.set) {
		cs_duration_format(&f->rx.time_since_gps_epoch, t, sizeof(t));
		json_object_set_new(rx, "timeSinceGpsEpoch", json_string(t));
	}
	return rx;
}

int cs_gw_uplink_to_json(const struct cs_gw_uplink *f, char **out, size_t *out_len)
{
	json_t *o = json_pack("{s:o,s:o,s:o}", "phyPayload", b64(f->phy, f->phy_len), "txInfo",
	                      tx_info(f), "rxInfo", rx_info(f));
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (!s)
		return FUOTA_ERR_NO_MEMORY;
	*out = s;
	*out_len = strlen(s);
	return FUOTA_OK;
}
