/* Semtech UDP <-> ChirpStack v4 gateway messages: rxpk -> gw.UplinkFrame, stat ->
 * gw.GatewayStats, gw.DownlinkFrame -> txpk. Pure. */
#include <stdio.h>
#include <string.h>

#include "fuota/err.h"
#include "sudp_private.h"

static void eui_hex(const uint8_t eui[8], char out[CS_EUI_LEN])
{
	for (size_t i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", eui[i]);
}

void sudp_rxpk_to_uplink(const struct sudp_rxpk *rx, const uint8_t eui[8], uint32_t uplink_id,
                         struct cs_gw_uplink *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->phy, rx->data, rx->size);
	out->phy_len = rx->size;
	out->frequency = rx->freq_hz;
	out->fsk = rx->mod.fsk;
	out->bandwidth = rx->mod.bw_hz;
	out->spreading_factor = rx->mod.sf;
	out->code_rate = (uint32_t)rx->mod.codr; /* the same values as gw.CodeRate */
	out->fsk_datarate = rx->mod.fsk_bps;
	eui_hex(eui, out->rx.gateway_id);
	out->rx.uplink_id = uplink_id;
	if (rx->has_time)
		out->rx.gw_time = rx->time;
	if (rx->has_tmms) {
		out->rx.time_since_gps_epoch.set = 1;
		out->rx.time_since_gps_epoch.sec = (int64_t)(rx->tmms / 1000u);
		out->rx.time_since_gps_epoch.nsec = (int32_t)(rx->tmms % 1000u) * 1000000;
	}
	out->rx.rssi = rx->rssi;
	out->rx.snr = (float)rx->lsnr;
	out->channel = rx->chan;
	out->rf_chain = rx->rfch;
	/* rxpk.stat 1 / -1 / 0 -> gw.CRCStatus CRC_OK (2) / BAD_CRC (1) / NO_CRC (0) */
	out->crc_status = rx->stat == 1 ? 2 : rx->stat == -1 ? 1 : 0;
	out->rx.context[0] = (uint8_t)(rx->tmst >> 24);
	out->rx.context[1] = (uint8_t)(rx->tmst >> 16);
	out->rx.context[2] = (uint8_t)(rx->tmst >> 8);
	out->rx.context[3] = (uint8_t)rx->tmst;
	out->rx.context_len = 4;
}

void sudp_stat_to_stats(const struct sudp_stat *st, const uint8_t eui[8], struct cs_gw_stats *out)
{
	memset(out, 0, sizeof(*out));
	eui_hex(eui, out->gateway_id);
	out->time = st->time;
	out->rx_received = st->rxnb;
	out->rx_received_ok = st->rxok;
	out->tx_received = st->dwnb;
	out->tx_emitted = st->txnb;
}

static int refuse(enum cs_tx_ack_status *why, enum cs_tx_ack_status st, char *err, size_t errlen,
                  const char *msg)
{
	if (why)
		*why = st;
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return FUOTA_ERR_INVALID_ARG;
}

static int down_timing(const struct cs_gw_downlink *d, struct sudp_txpk *tx,
                       enum cs_tx_ack_status *why, char *err, size_t errlen)
{
	uint32_t ctx;

	switch (d->timing) {
	case CS_TIMING_IMMEDIATELY: tx->imme = 1; return FUOTA_OK;
	case CS_TIMING_DELAY:
		if (d->context_len != 4)
			return refuse(why, CS_ACK_INTERNAL_ERROR, err, errlen,
			              "DELAY timing without the 4-byte tmst context");
		/* the counter wraps every 71.6 min; a longer delay cannot be expressed */
		if (d->timing_ns < 0 || d->timing_ns / 1000 > INT32_MAX)
			return refuse(why, CS_ACK_INTERNAL_ERROR, err, errlen,
			              "DELAY out of range");
		ctx = (uint32_t)d->context[0] << 24 | (uint32_t)d->context[1] << 16 |
		      (uint32_t)d->context[2] << 8 | d->context[3];
		tx->has_tmst = 1;
		tx->tmst = ctx + (uint32_t)(d->timing_ns / 1000);
		return FUOTA_OK;
	case CS_TIMING_GPS_EPOCH:
		if (d->timing_ns < 0)
			return refuse(why, CS_ACK_INTERNAL_ERROR, err, errlen, "negative GPS time");
		tx->has_tmms = 1;
		tx->tmms = (uint64_t)(d->timing_ns / 1000000);
		return FUOTA_OK;
	}
	return refuse(why, CS_ACK_INTERNAL_ERROR, err, errlen, "unknown timing");
}

static int down_mod(const struct cs_gw_downlink *d, struct sudp_txpk *tx,
                    enum cs_tx_ack_status *why, char *err, size_t errlen)
{
	if (d->fsk) {
		if (d->fsk_datarate < 500 || d->fsk_datarate > 250000)
			return refuse(why, CS_ACK_INTERNAL_ERROR, err, errlen,
			              "FSK datarate out of range");
		tx->mod.fsk = 1;
		tx->mod.fsk_bps = d->fsk_datarate;
		/* the forwarder refuses FSK without fdev; ChirpStack's own choice is datarate / 2
		 */
		tx->fdev_hz = d->fsk_fdev ? d->fsk_fdev : d->fsk_datarate / 2;
		if (tx->fdev_hz > 200000)
			return refuse(why, CS_ACK_INTERNAL_ERROR, err, errlen,
			              "FSK deviation too large");
		return FUOTA_OK;
	}
	if (d->spreading_factor < 5 || d->spreading_factor > 12 ||
	    (d->bandwidth != 125000 && d->bandwidth != 250000 && d->bandwidth != 500000))
		return refuse(why, CS_ACK_INTERNAL_ERROR, err, errlen,
		              "LoRa SF or bandwidth invalid");
	tx->mod.sf = d->spreading_factor;
	tx->mod.bw_hz = d->bandwidth;
	tx->mod.codr = SUDP_CR_4_5; /* every LoRaWAN downlink is coded 4/5 */
	return FUOTA_OK;
}

int sudp_txpk_from_downlink(const struct cs_gw_downlink *d, struct sudp_txpk *out,
                            enum cs_tx_ack_status *why, char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (d->frequency == 0)
		return refuse(why, CS_ACK_TX_FREQ, err, errlen, "frequency 0");
	if (d->power < 0 || d->power > 40)
		return refuse(why, CS_ACK_TX_POWER, err, errlen, "power outside 0..40 dBm");
	if (d->phy_len == 0 || d->phy_len > 255)
		return refuse(why, CS_ACK_INTERNAL_ERROR, err, errlen,
		              "PHYPayload of 0 or > 255 bytes");
	if ((rc = down_timing(d, out, why, err, errlen)) != FUOTA_OK ||
	    (rc = down_mod(d, out, why, err, errlen)) != FUOTA_OK) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	out->freq_hz = d->frequency;
	out->rfch = 0; /* the reference forwarders transmit on radio A */
	out->powe = (uint32_t)d->power;
	out->ipol = d->polarization_inversion ? 1 : 0;
	memcpy(out->data, d->phy, d->phy_len);
	out->size = d->phy_len;
	return FUOTA_OK;
}
