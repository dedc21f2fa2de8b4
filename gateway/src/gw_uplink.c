/* gw.UplinkFrame in binary protobuf (protobuf-c, proto/chirpstack/gw.proto), from the struct
 * sudp_rxpk_to_uplink fills: what fuota-gw publishes on {prefix}/gateway/{id}/event/up. */
#include <stdlib.h>

#include "chirpstack/gw.pb-c.h"
#include "fuota/err.h"
#include "fuota/gw.h"

int gw_uplink_to_proto(const struct sudp_up_frame *f, uint8_t **out, size_t *out_len)
{
	Gw__UplinkFrame m = GW__UPLINK_FRAME__INIT;
	Gw__UplinkTxInfo tx = GW__UPLINK_TX_INFO__INIT;
	Gw__Modulation mod = GW__MODULATION__INIT;
	Gw__LoraModulationInfo lora = GW__LORA_MODULATION_INFO__INIT;
	Gw__FskModulationInfo fsk = GW__FSK_MODULATION_INFO__INIT;
	Gw__UplinkRxInfo rx = GW__UPLINK_RX_INFO__INIT;
	Common__Timestamp gw_time = COMMON__TIMESTAMP__INIT;
	Common__Duration gps = COMMON__DURATION__INIT;
	size_t n;
	uint8_t *buf;

	m.phy_payload.data = (uint8_t *)f->phy;
	m.phy_payload.len = f->phy_len;
	tx.frequency = f->frequency;
	if (f->mod.fsk) {
		fsk.datarate = f->mod.fsk_bps;
		mod.parameters_case = GW__MODULATION__PARAMETERS_FSK;
		mod.fsk = &fsk;
	} else {
		lora.bandwidth = f->mod.bw_hz;
		lora.spreading_factor = f->mod.sf;
		lora.code_rate = (Gw__CodeRate)f->mod.codr; /* same values */
		mod.parameters_case = GW__MODULATION__PARAMETERS_LORA;
		mod.lora = &lora;
	}
	tx.modulation = &mod;
	m.tx_info = &tx;
	rx.gateway_id = (char *)f->gateway_id;
	rx.uplink_id = f->uplink_id;
	if (f->gw_time.set) {
		gw_time.seconds = f->gw_time.sec;
		gw_time.nanos = f->gw_time.nsec;
		rx.gw_time = &gw_time;
	}
	if (f->time_since_gps_epoch.set) {
		gps.seconds = f->time_since_gps_epoch.sec;
		gps.nanos = f->time_since_gps_epoch.nsec;
		rx.time_since_gps_epoch = &gps;
	}
	rx.rssi = f->rssi;
	rx.snr = f->snr;
	rx.channel = f->channel;
	rx.rf_chain = f->rf_chain;
	rx.context.data = (uint8_t *)f->context;
	rx.context.len = f->context_len;
	rx.crc_status = (Gw__CRCStatus)f->crc_status;
	m.rx_info = &rx;
	n = protobuf_c_message_get_packed_size(&m.base);
	if (!(buf = malloc(n ? n : 1)))
		return FUOTA_ERR_NO_MEMORY;
	*out_len = protobuf_c_message_pack(&m.base, buf);
	*out = buf;
	return FUOTA_OK;
}
