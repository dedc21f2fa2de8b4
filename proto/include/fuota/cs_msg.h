/* The ChirpStack v4 MQTT messages fuota exchanges, as plain C structs, with both encodings the
 * network server uses: the protobuf JSON mapping (camelCase keys, bytes as base64, Timestamp as an
 * RFC 3339 string, Duration as "<seconds>.<fraction>s") and binary protobuf (proto/chirpstack/).
 *
 * fuotad reads uplinks and gateway acks and writes unicast downlinks and gateway downlink frames;
 * fuota-sim does the reverse, so every message has a parser and a writer.
 *
 * Parsers take bytes from the broker: they never trust a length, reject what does not fit the
 * struct with FUOTA_ERR_MALFORMED and a message in err (may be NULL), and leave *out zeroed on
 * error. Writers return a malloc'd buffer the caller frees. Functions return FUOTA_OK or a negative
 * enum fuota_err. */
#ifndef FUOTA_CS_MSG_H
#define FUOTA_CS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_ID_LEN      64  /* UUIDs and names, NUL included */
#define CS_EUI_LEN     17  /* 16 hex digits + NUL */
#define CS_MAX_PAYLOAD 256 /* LoRaWAN PHYPayload/FRMPayload never exceed this */
#define CS_MAX_RX      8   /* gateways kept per uplink (ChirpStack deduplicates into one event) */
#define CS_MAX_CONTEXT 64  /* gateway context bytes kept per rx_info */

/* A point in time: seconds + nanoseconds, with "set" telling whether the field was present. */
struct cs_time {
	int set;
	int64_t sec;
	int32_t nsec;
};

struct cs_rx_info {
	char gateway_id[CS_EUI_LEN];
	uint32_t uplink_id;
	struct cs_time gw_time;              /* Unix time the gateway stamped (GNSS or its clock) */
	struct cs_time time_since_gps_epoch; /* GNSS gateways only: GPS time of reception */
	struct cs_time ns_time;              /* Unix time the network server received it */
	int32_t rssi;
	float snr;
	uint8_t context[CS_MAX_CONTEXT];
	size_t context_len;
};

/* integration.UplinkEvent (application/{app}/device/{dev_eui}/event/up). */
struct cs_uplink {
	char deduplication_id[CS_ID_LEN];
	struct cs_time time;
	char tenant_id[CS_ID_LEN];
	char application_id[CS_ID_LEN];
	char dev_eui[CS_EUI_LEN]; /* lowercase hex */
	char dev_addr[9];
	uint32_t dr;
	uint32_t f_cnt;
	uint32_t f_port;
	int confirmed;
	uint8_t data[CS_MAX_PAYLOAD];
	size_t data_len;
	uint32_t frequency; /* tx_info.frequency, Hz */
	struct cs_rx_info rx[CS_MAX_RX];
	size_t n_rx; /* rx_info entries beyond CS_MAX_RX are dropped, not an error */
	char region_config_id[CS_ID_LEN];
};

/* integration.DownlinkCommand (application/{app}/device/{dev_eui}/command/down). */
struct cs_downlink {
	char id[CS_ID_LEN];
	char dev_eui[CS_EUI_LEN];
	int confirmed;
	uint32_t f_port; /* > 0 */
	uint8_t data[CS_MAX_PAYLOAD];
	size_t data_len;
};

enum cs_timing {
	CS_TIMING_IMMEDIATELY = 0,
	CS_TIMING_DELAY = 1,    /* timing_ns after the uplink the context refers to */
	CS_TIMING_GPS_EPOCH = 2 /* at timing_ns since the GPS epoch */
};

/* gw.UplinkFrame ({prefix}/gateway/{id}/event/up): one packet a gateway received, as fuota-gw
 * publishes it. (rx.ns_time, the network server's, is left unset by a gateway.) */
struct cs_gw_uplink {
	uint8_t phy[CS_MAX_PAYLOAD];
	size_t phy_len;
	uint32_t frequency;
	int fsk; /* 0: LoRa (bandwidth, spreading factor, code rate); 1: FSK (datarate) */
	uint32_t bandwidth; /* Hz */
	uint32_t spreading_factor;
	uint32_t code_rate;    /* gw.CodeRate: 1 CR_4_5 .. 4 CR_4_8, 0 undefined */
	uint32_t fsk_datarate; /* bit/s */
	struct cs_rx_info rx;
	uint32_t channel, rf_chain;
	int crc_status; /* gw.CRCStatus: 0 NO_CRC, 1 BAD_CRC, 2 CRC_OK */
};

/* gw.DownlinkFrame with one item ({prefix}/gateway/{id}/command/down). */
struct cs_gw_downlink {
	uint32_t downlink_id;
	char gateway_id[CS_EUI_LEN];
	uint8_t phy[CS_MAX_PAYLOAD];
	size_t phy_len;
	uint32_t frequency;
	int32_t power;
	int fsk; /* 0: LoRa (bandwidth, spreading factor); 1: FSK (datarate, deviation) */
	uint32_t bandwidth; /* Hz */
	uint32_t spreading_factor;
	uint32_t fsk_datarate; /* bit/s */
	/* FskModulationInfo.frequency_deviation, Hz: the Semtech packet forwarder aborts an FSK
	 * txpk without "fdev"; ChirpStack sends datarate / 2 (lw_dr.fsk_fdev_hz). */
	uint32_t fsk_fdev;
	int polarization_inversion;
	enum cs_timing timing;
	int64_t timing_ns;
	uint8_t context[CS_MAX_CONTEXT];
	size_t context_len;
};

/* gw.TxAckStatus values (CHIRPSTACK-NOTES §9.5). */
enum cs_tx_ack_status {
	CS_ACK_IGNORED = 0,
	CS_ACK_OK = 1,
	CS_ACK_TOO_LATE = 2,
	CS_ACK_TOO_EARLY = 3,
	CS_ACK_COLLISION_PACKET = 4,
	CS_ACK_COLLISION_BEACON = 5,
	CS_ACK_TX_FREQ = 6,
	CS_ACK_TX_POWER = 7,
	CS_ACK_GPS_UNLOCKED = 8,
	CS_ACK_QUEUE_FULL = 9,
	CS_ACK_INTERNAL_ERROR = 10,
	CS_ACK_DUTY_CYCLE_OVERFLOW = 11
};

/* gw.DownlinkTxAck ({prefix}/gateway/{id}/event/ack), reduced to its one meaningful status: OK if
 * any item is OK, otherwise the last item's status (the last item the gateway tried, as
 * ChirpStack reads it: the earlier ones are the refusals that led to it). */
struct cs_gw_ack {
	uint32_t downlink_id;
	char gateway_id[CS_EUI_LEN];
	enum cs_tx_ack_status status;
};

const char *cs_ack_status_name(enum cs_tx_ack_status s);

int cs_uplink_from_json(const char *buf, size_t len, struct cs_uplink *out, char *err,
                        size_t errlen);
int cs_uplink_from_proto(const uint8_t *buf, size_t len, struct cs_uplink *out, char *err,
                         size_t errlen);
int cs_uplink_to_json(const struct cs_uplink *u, char **out, size_t *out_len);
int cs_uplink_to_proto(const struct cs_uplink *u, uint8_t **out, size_t *out_len);

int cs_downlink_from_json(const char *buf, size_t len, struct cs_downlink *out, char *err,
                          size_t errlen);
int cs_downlink_from_proto(const uint8_t *buf, size_t len, struct cs_downlink *out, char *err,
                           size_t errlen);
int cs_downlink_to_json(const struct cs_downlink *d, char **out, size_t *out_len);
int cs_downlink_to_proto(const struct cs_downlink *d, uint8_t **out, size_t *out_len);

int cs_gw_downlink_from_proto(const uint8_t *buf, size_t len, struct cs_gw_downlink *out, char *err,
                              size_t errlen);
int cs_gw_downlink_to_proto(const struct cs_gw_downlink *d, uint8_t **out, size_t *out_len);
/* gw.UplinkFrame in binary protobuf (*out malloc'd, the caller frees it). NO_MEMORY. */
int cs_gw_uplink_to_proto(const struct cs_gw_uplink *f, uint8_t **out, size_t *out_len);
/* The same in the protobuf JSON mapping (camelCase names, bytes in base64, 64-bit and enum values
 * as protobuf's JSON writes them), malloc'd and NUL-terminated (cs_gw_uplink_json.c). */
int cs_gw_uplink_to_json(const struct cs_gw_uplink *f, char **out, size_t *out_len);

int cs_gw_ack_from_proto(const uint8_t *buf, size_t len, struct cs_gw_ack *out, char *err,
                         size_t errlen);
int cs_gw_ack_to_proto(const struct cs_gw_ack *a, uint8_t **out, size_t *out_len);

/* The same two messages in the protobuf JSON mapping (cs_gw_json.c), for gateways that speak
 * JSON: ChirpStack answers each gateway in the encoding it publishes in. Readers return
 * FUOTA_ERR_MALFORMED with a message in err; writers give a malloc'd NUL-terminated text. */
int cs_gw_downlink_from_json(const char *buf, size_t len, struct cs_gw_downlink *out, char *err,
                             size_t errlen);
int cs_gw_downlink_to_json(const struct cs_gw_downlink *d, char **out, size_t *out_len);
int cs_gw_ack_from_json(const char *buf, size_t len, struct cs_gw_ack *out, char *err,
                        size_t errlen);
int cs_gw_ack_to_json(const struct cs_gw_ack *a, char **out, size_t *out_len);
/* Whether a message from the broker is in the JSON mapping (else binary protobuf): its first
 * byte is '{'. One rule for every message fuota reads (uplinks, gateway acks and stats). */
bool cs_payload_is_json(const uint8_t *buf, size_t len);

/* gw.GatewayStats ({prefix}/gateway/{id}/event/stats), the fields a simulated gateway fills.
 * cs_gw_stats_to_json gives the protobuf JSON mapping ("gatewayId", "time" as RFC 3339, counters
 * as numbers), cs_gw_stats_to_proto the binary form. The readers require gatewayId (16 hex
 * digits, lower-cased into gateway_id) and take time and the counters when present (fuotad reads
 * stats only to learn a gateway's encoding); FUOTA_ERR_MALFORMED with a message in err. */
struct cs_gw_stats {
	char gateway_id[CS_EUI_LEN];
	struct cs_time time; /* Unix time */
	uint32_t rx_received, rx_received_ok;
	uint32_t tx_received, tx_emitted;
};

int cs_gw_stats_to_json(const struct cs_gw_stats *st, char **out, size_t *out_len);
int cs_gw_stats_to_proto(const struct cs_gw_stats *st, uint8_t **out, size_t *out_len);
int cs_gw_stats_from_json(const char *buf, size_t len, struct cs_gw_stats *out, char *err,
                          size_t errlen);
int cs_gw_stats_from_proto(const uint8_t *buf, size_t len, struct cs_gw_stats *out, char *err,
                           size_t errlen);

/* Base64 (RFC 4648, standard alphabet, padded), used by the JSON mapping for bytes.
 * cs_base64_encode writes NUL-terminated text into out (needs 4 * ceil(len / 3) + 1 bytes).
 * cs_base64_decode accepts padded or unpadded input; FUOTA_ERR_MALFORMED for a bad character or
 * length, FUOTA_ERR_NO_SPACE when more than cap bytes would come out. */
void cs_base64_encode(const uint8_t *in, size_t len, char *out);
int cs_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len);

/* RFC 3339 timestamps ("2025-07-14T00:00:00.5Z", offsets allowed) <-> struct cs_time (Unix). */
int cs_time_parse_rfc3339(const char *s, struct cs_time *t);
/* Writes e.g. "2025-07-14T00:00:00.500000000Z" (UTC) into out (>= 40 bytes). */
void cs_time_format_rfc3339(const struct cs_time *t, char *out, size_t outlen);
/* protobuf JSON Duration: "1436486418.500s" <-> struct cs_time. */
int cs_duration_parse(const char *s, struct cs_time *t);
void cs_duration_format(const struct cs_time *t, char *out, size_t outlen);

#endif
