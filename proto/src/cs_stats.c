/* gw.GatewayStats writers (cs_msg.h; the readers are in cs_gw_json.c and cs_proto.c): the periodic
 * message a gateway publishes on {prefix}/gateway/{id}/event/stats, in the protobuf JSON mapping or
 * binary protobuf. Field numbers as in ChirpStack's gw.proto (CHIRPSTACK-NOTES §9.5): time = 2,
 * rx_packets_received = 5, rx_packets_received_ok = 6, tx_packets_received = 7, tx_packets_emitted
 * = 8, gateway_id = 17. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chirpstack/gw.pb-c.h"
#include "fuota/cs_msg.h"
#include "fuota/err.h"

int cs_gw_stats_to_json(const struct cs_gw_stats *st, char **out, size_t *out_len)
{
	json_t *root = json_object();
	char when[64];
	int bad = !root;

	if (!bad) {
		bad |= json_object_set_new(root, "gatewayId", json_string(st->gateway_id));
		if (st->time.set) {
			cs_time_format_rfc3339(&st->time, when, sizeof(when));
			bad |= json_object_set_new(root, "time", json_string(when));
		}
		bad |= json_object_set_new(root, "rxPacketsReceived",
		                           json_integer(st->rx_received));
		bad |= json_object_set_new(root, "rxPacketsReceivedOk",
		                           json_integer(st->rx_received_ok));
		bad |= json_object_set_new(root, "txPacketsReceived",
		                           json_integer(st->tx_received));
		bad |= json_object_set_new(root, "txPacketsEmitted", json_integer(st->tx_emitted));
	}
	char *s = bad ? NULL : json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!s)
		return FUOTA_ERR_NO_MEMORY;
	*out = s;
	if (out_len)
		*out_len = strlen(s);
	return FUOTA_OK;
}

int cs_gw_stats_to_proto(const struct cs_gw_stats *st, uint8_t **out, size_t *out_len)
{
	Gw__GatewayStats m = GW__GATEWAY_STATS__INIT;
	Common__Timestamp t = COMMON__TIMESTAMP__INIT;

	m.gateway_id = (char *)st->gateway_id;
	if (st->time.set) {
		t.seconds = st->time.sec;
		t.nanos = st->time.nsec;
		m.time = &t;
	}
	m.rx_packets_received = st->rx_received;
	m.rx_packets_received_ok = st->rx_received_ok;
	m.tx_packets_received = st->tx_received;
	m.tx_packets_emitted = st->tx_emitted;

	size_t n = protobuf_c_message_get_packed_size(&m.base);
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return FUOTA_ERR_NO_MEMORY;
	*out_len = protobuf_c_message_pack(&m.base, buf);
	*out = buf;
	return FUOTA_OK;
}
