/* The Semtech UDP packet-forwarder protocol, version 2 (Lora-net/packet_forwarder PROTOCOL.TXT,
 * CELLULAR-NOTES §6.1), as a pure codec: no sockets, no clock, no globals.
 *
 * Every datagram starts with version (2), a 16-bit token (bytes 1-2, kept as sent), the type
 * identifier, then for PUSH_DATA, PULL_DATA and TX_ACK the gateway EUI (8 bytes) and for
 * PUSH_DATA, PULL_RESP and TX_ACK a JSON object. sudp_parse reads any of the six kinds; a datagram
 * that does not parse gives FUOTA_ERR_MALFORMED and a message naming the field at fault in err (may
 * be NULL), never a crash. Writers return a malloc'd buffer the caller frees (FUOTA_ERR_NO_MEMORY,
 * or FUOTA_ERR_INVALID_ARG for a struct that cannot be written).
 *
 * The conversions towards ChirpStack v4 (gw.UplinkFrame, gw.GatewayStats, gw.DownlinkFrame,
 * gw.DownlinkTxAck) are in the second half. */
#ifndef FUOTA_SUDP_H
#define FUOTA_SUDP_H

#include <stddef.h>
#include <stdint.h>

#include "fuota/cs_msg.h"

#define SUDP_VERSION 2
/* rxpk objects read from one PUSH_DATA. The reference forwarder sends at most NB_PKT_MAX (8) per
 * datagram, sx1302_hal at most 16; a longer array is refused whole (MALFORMED), not cut. */
#define SUDP_MAX_RXPK 32

enum sudp_type {
	SUDP_PUSH_DATA = 0x00, /* gateway -> server: rxpk and/or stat */
	SUDP_PUSH_ACK = 0x01,  /* server -> gateway */
	SUDP_PULL_DATA = 0x02, /* gateway -> server: keep-alive, opens the downlink path */
	SUDP_PULL_RESP = 0x03, /* server -> gateway: one txpk */
	SUDP_PULL_ACK = 0x04,  /* server -> gateway */
	SUDP_TX_ACK = 0x05     /* gateway -> server: the PULL_RESP's token and an optional error */
};

/* LoRa coding rates as written in "codr"; values are gw.CodeRate's. */
enum sudp_codr {
	SUDP_CR_NONE = 0,
	SUDP_CR_4_5 = 1,
	SUDP_CR_4_6 = 2,
	SUDP_CR_4_7 = 3,
	SUDP_CR_4_8 = 4
};

/* Modulation and data rate: LoRa "SF7BW125" (spreading factor, bandwidth in Hz) or FSK, whose
 * "datr" is a number in bit/s. */
struct sudp_mod {
	int fsk;
	uint32_t sf;         /* LoRa: 5..12 */
	uint32_t bw_hz;      /* LoRa: 125000, 250000 or 500000 */
	enum sudp_codr codr; /* LoRa: required in rxpk and txpk */
	uint32_t fsk_bps;    /* FSK: 500..250000 */
};

/* One received packet. Optional fields carry has_ flags; freq is kept in Hz (the JSON has MHz
 * with up to 6 decimals, read as the nearest Hz, which is exact for every such value). */
struct sudp_rxpk {
	int has_time;
	struct cs_time time; /* "time": UTC, ISO 8601 compact */
	int has_tmms;
	uint64_t tmms; /* GPS time of reception, ms since the GPS epoch */
	uint32_t tmst; /* concentrator counter, us, wraps */
	uint32_t freq_hz;
	uint32_t chan, rfch;
	int stat; /* 1 CRC ok, -1 CRC bad, 0 no CRC */
	struct sudp_mod mod;
	int32_t rssi; /* dBm */
	int has_lsnr;
	double lsnr; /* dB, LoRa only */
	uint8_t data[CS_MAX_PAYLOAD];
	size_t size;
};

/* Gateway statistics ("stat"). All counters are required; position and temp are optional. */
struct sudp_stat {
	struct cs_time time; /* "2014-01-12 08:59:28 GMT" */
	int has_pos;
	double lati, lon; /* degrees */
	int32_t alti;     /* m */
	uint32_t rxnb, rxok, rxfw, dwnb, txnb;
	double ackr; /* % */
};

/* One packet to send. Exactly one of imme, tmst (has_tmst) or tmms (has_tmms) says when. */
struct sudp_txpk {
	int imme;
	int has_tmst;
	uint32_t tmst;
	int has_tmms;
	uint64_t tmms;
	uint32_t freq_hz;
	uint32_t rfch;
	uint32_t powe; /* dBm */
	struct sudp_mod mod;
	uint32_t fdev_hz; /* FSK only, required by the forwarder */
	int ipol;
	int has_prea;
	uint32_t prea;
	int ncrc;
	uint8_t data[CS_MAX_PAYLOAD];
	size_t size;
};

/* A parsed datagram. Which members are meaningful depends on type. */
struct sudp_msg {
	uint8_t version;
	uint16_t token; /* bytes 1-2 as they came, big-endian read */
	enum sudp_type type;
	uint8_t eui[8]; /* PUSH_DATA, PULL_DATA, TX_ACK */
	/* PUSH_DATA */
	struct sudp_rxpk rxpk[SUDP_MAX_RXPK];
	size_t n_rxpk;
	int has_stat;
	struct sudp_stat stat;
	/* PULL_RESP */
	struct sudp_txpk txpk;
	/* TX_ACK: what the gateway reported; CS_ACK_OK when no error (or "NONE", or only a warn) */
	enum cs_tx_ack_status ack;
};

/* Reads one datagram of any kind into *out (zeroed first). FUOTA_ERR_MALFORMED with a message in
 * err for a wrong version, unknown type, short header, bad JSON or a bad field; trailing bytes
 * after a 4- or 12-byte datagram without JSON are refused too. */
int sudp_parse(const uint8_t *buf, size_t len, struct sudp_msg *out, char *err, size_t errlen);

/* PUSH_ACK or PULL_ACK (4 bytes) into out[4]. FUOTA_ERR_INVALID_ARG for another type. */
int sudp_write_ack(enum sudp_type type, uint16_t token, uint8_t out[4]);
/* PULL_DATA (12 bytes) into out[12]. */
void sudp_write_pull_data(uint16_t token, const uint8_t eui[8], uint8_t out[12]);
/* PUSH_DATA with n rxpk (n may be 0) and stat (may be NULL); n + stat must not both be empty. */
int sudp_write_push_data(uint16_t token, const uint8_t eui[8], const struct sudp_rxpk *rx, size_t n,
                         const struct sudp_stat *stat, uint8_t **out, size_t *out_len);
/* PULL_RESP carrying txpk. */
int sudp_write_pull_resp(uint16_t token, const struct sudp_txpk *tx, uint8_t **out,
                         size_t *out_len);
/* TX_ACK with {"txpk_ack":{"error":NAME}} (NAME "NONE" for CS_ACK_OK). Only the statuses the
 * protocol has a name for are accepted (FUOTA_ERR_INVALID_ARG otherwise). */
int sudp_write_tx_ack(uint16_t token, const uint8_t eui[8], enum cs_tx_ack_status st, uint8_t **out,
                      size_t *out_len);

/* The txpk_ack error name for a status ("NONE" for OK), NULL when the protocol has none; and
 * back: FUOTA_ERR_MALFORMED for a name the protocol does not define. */
const char *sudp_ack_error_name(enum cs_tx_ack_status st);
int sudp_ack_error_parse(const char *name, enum cs_tx_ack_status *st);

/* ---- Towards ChirpStack v4 ---- */

/* rxpk -> UplinkFrame. eui is the PUSH_DATA's gateway EUI (written as 16 lowercase hex digits);
 * uplink_id is the caller's (ChirpStack wants it random). Cannot fail on a parsed rxpk. */
void sudp_rxpk_to_uplink(const struct sudp_rxpk *rx, const uint8_t eui[8], uint32_t uplink_id,
                         struct cs_gw_uplink *out);
/* stat -> GatewayStats (rxnb, rxok, dwnb, txnb; time). */
void sudp_stat_to_stats(const struct sudp_stat *st, const uint8_t eui[8], struct cs_gw_stats *out);

/* DownlinkFrame (one item) -> txpk. IMMEDIATELY -> imme; DELAY -> tmst = the context's tmst
 * (4 bytes, big-endian, as sudp_rxpk_to_uplink wrote it) + delay in us, modulo 2^32; GPS_EPOCH ->
 * tmms = ms since the GPS epoch (sub-ms truncated). FSK without a deviation gets datarate / 2.
 * A frame the forwarder cannot carry is refused: FUOTA_ERR_INVALID_ARG, a message in err, and in
 * *refuse the status to ack it with (TX_POWER for a negative power, TX_FREQ for a frequency of 0,
 * INTERNAL_ERROR for a missing context or a bad modulation). */
int sudp_txpk_from_downlink(const struct cs_gw_downlink *d, struct sudp_txpk *out,
                            enum cs_tx_ack_status *refuse, char *err, size_t errlen);

#endif
