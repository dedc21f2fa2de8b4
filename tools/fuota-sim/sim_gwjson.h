/* The gateway side of ChirpStack's JSON gateway encoding, for fuota-sim's JSON gateways: reading
 * a gw.DownlinkFrame and writing a gw.DownlinkTxAck in the protobuf JSON mapping (camelCase keys,
 * bytes as base64, Duration as "<seconds>.<fraction>s", enums by name). fuotad writes frames and
 * reads acks with proto/ (cs_msg.h); the simulator reads and writes with this independent code, so
 * an end-to-end run checks one implementation of the mapping against another.
 *
 * Pure: no I/O, no globals. The reader takes bytes from the broker and never trusts them. */
#ifndef FUOTA_SIM_GWJSON_H
#define FUOTA_SIM_GWJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/cs_msg.h"

/* Whether a gateway payload is in the JSON encoding: its first non-blank byte is '{' (a binary
 * DownlinkFrame never starts so: 0x7b would be field 15 with the deprecated group wire type). */
bool sim_gw_payload_is_json(const uint8_t *buf, size_t len);

/* gw.DownlinkFrame in JSON -> *out (its first item, as cs_gw_downlink_from_proto). Accepts
 * camelCase and snake_case keys, uint32 as a number or a decimal string; unknown keys are
 * ignored. Returns FUOTA_OK, or FUOTA_ERR_MALFORMED with a message in err (may be NULL) and *out
 * zeroed. */
int sim_gw_downlink_from_json(const char *buf, size_t len, struct cs_gw_downlink *out, char *err,
                              size_t errlen);

/* gw.DownlinkTxAck in JSON: {"gatewayId", "downlinkId", "items": [{"status": "<NAME>"}]}.
 * Returns FUOTA_OK with a malloc'd string in *out (the caller frees it), or
 * FUOTA_ERR_NO_MEMORY. */
int sim_gw_ack_to_json(const struct cs_gw_ack *a, char **out, size_t *out_len);

#endif
