/* Binary protobuf form of the ChirpStack messages, through the protobuf-c code generated from
 * proto/chirpstack/. Parsing copies what fuota needs into the plain structs of cs_msg.h, checking
 * every length against the struct's room. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chirpstack/gw.pb-c.h"
#include "chirpstack/integration.pb-c.h"
#include "fuota/cs_msg.h"
#include "fuota/err.h"

static int copy_str(const char *src, char *dst, size_t cap)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		return -1;
	memcpy(dst, src ? src : "", n + 1);
	return 0;
}

static int copy_eui(const char *src, char *dst)
{
	if (copy_str(src, dst, CS_EUI_LEN) || strlen(dst) != 16)
		return -1;
	for (size_t i = 0; i < 16; i++) {
		if (!isxdigit((unsigned char)dst[i]))
			return -1;
		dst[i] = (char)tolower((unsigned char)dst[i]);
	}
	return 0;
}

static int copy_bytes(const ProtobufCBinaryData *src, uint8_t *dst, size_t cap, size_t *len)
{
	if (src->len > cap)
		return -1;
	if (src->len)
		memcpy(dst, src->data, src->len);
	*len = src->len;
	return 0;
}

static void copy_time(const Common__Timestamp *t, struct cs_time *dst)
{
	memset(dst, 0, sizeof(*dst));
	if (t) {
		dst->set = 1;
		dst->sec = t->seconds;
		dst->nsec = t->nanos;
	}
}

static void copy_duration(const Common__Duration *d, struct cs_time *dst)
{
	memset(dst, 0, sizeof(*dst));
	if (d) {
		dst->set = 1;
		dst->sec = d->seconds;
		dst->nsec = d->nanos;
	}
}

int cs_uplink_from_proto(const uint8_t *buf, size_t len, struct cs_uplink *out, char *err,
                         size_t errlen)
{
	Integration__UplinkEvent *ev;
	int rc = FUOTA_ERR_MALFORMED;

	memset(out, 0, sizeof(*out));
	ev = integration__uplink_event__unpack(NULL, len, buf);
	if (!ev)
		return fuota_malformed(err, errlen, "not a valid UplinkEvent protobuf message");
	if (!ev->device_info) {
		fuota_malformed(err, errlen, "deviceInfo: missing");
		goto out;
	}
	if (copy_str(ev->deduplication_id, out->deduplication_id, sizeof(out->deduplication_id)) ||
	    copy_str(ev->device_info->tenant_id, out->tenant_id, sizeof(out->tenant_id)) ||
	    copy_str(ev->device_info->application_id, out->application_id,
	             sizeof(out->application_id)) ||
	    copy_str(ev->dev_addr, out->dev_addr, sizeof(out->dev_addr)) ||
	    copy_str(ev->region_config_id, out->region_config_id, sizeof(out->region_config_id))) {
		fuota_malformed(err, errlen, "a string field is too long");
		goto out;
	}
	if (copy_eui(ev->device_info->dev_eui, out->dev_eui)) {
		fuota_malformed(err, errlen, "devEui: expected 16 hex digits");
		goto out;
	}
	if (ev->f_port > 255 ||
	    copy_bytes(&ev->data, out->data, sizeof(out->data), &out->data_len)) {
		fuota_malformed(err, errlen, "fPort or data out of range");
		goto out;
	}
	copy_time(ev->time, &out->time);
	out->dr = ev->dr;
	out->f_cnt = ev->f_cnt;
	out->f_port = ev->f_port;
	out->confirmed = ev->confirmed;
	out->frequency = ev->tx_info ? ev->tx_info->frequency : 0;
	for (size_t i = 0; i < ev->n_rx_info && out->n_rx < CS_MAX_RX; i++) {
		const Gw__UplinkRxInfo *r = ev->rx_info[i];
		struct cs_rx_info *dst = &out->rx[out->n_rx];

		if (copy_eui(r->gateway_id, dst->gateway_id) ||
		    copy_bytes(&r->context, dst->context, sizeof(dst->context),
		               &dst->context_len)) {
			fuota_malformed(err, errlen, "rxInfo[%zu]: bad gatewayId or context", i);
			goto out;
		}
		dst->uplink_id = r->uplink_id;
		copy_time(r->gw_time, &dst->gw_time);
		copy_duration(r->time_since_gps_epoch, &dst->time_since_gps_epoch);
		copy_time(r->ns_time, &dst->ns_time);
		dst->rssi = r->rssi;
		dst->snr = r->snr;
		out->n_rx++;
	}
	rc = FUOTA_OK;
out:
	integration__uplink_event__free_unpacked(ev, NULL);
	if (rc != FUOTA_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

int cs_downlink_from_proto(const uint8_t *buf, size_t len, struct cs_downlink *out, char *err,
                           size_t errlen)
{
	Integration__DownlinkCommand *cmd;
	int rc = FUOTA_ERR_MALFORMED;

	memset(out, 0, sizeof(*out));
	cmd = integration__downlink_command__unpack(NULL, len, buf);
	if (!cmd)
		return fuota_malformed(err, errlen, "not a valid DownlinkCommand protobuf message");
	if (copy_str(cmd->id, out->id, sizeof(out->id)) || copy_eui(cmd->dev_eui, out->dev_eui)) {
		fuota_malformed(err, errlen, "id or devEui invalid");
		goto out;
	}
	if (cmd->f_port == 0 || cmd->f_port > 255 ||
	    copy_bytes(&cmd->data, out->data, sizeof(out->data), &out->data_len)) {
		fuota_malformed(err, errlen, "fPort or data out of range");
		goto out;
	}
	out->f_port = cmd->f_port;
	out->confirmed = cmd->confirmed;
	rc = FUOTA_OK;
out:
	integration__downlink_command__free_unpacked(cmd, NULL);
	if (rc != FUOTA_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* Packs a message with its generated descriptor into a malloc'd buffer. */
static int pack(const ProtobufCMessage *msg, uint8_t **out, size_t *out_len)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(n ? n : 1);

	if (!buf)
		return FUOTA_ERR_NO_MEMORY;
	*out_len = protobuf_c_message_pack(msg, buf);
	*out = buf;
	return FUOTA_OK;
}

/* One gw.Modulation and the parameters it points to. */
struct mod_pb {
	Gw__Modulation mod;
	Gw__LoraModulationInfo lora;
	Gw__FskModulationInfo fsk;
};

/* FSK at datarate (bit/s), else LoRa with bandwidth (Hz), spreading factor and code rate, in p
 * (every member initialised here); p->mod points into p. */
static void mod_to_pb(bool fsk, uint32_t datarate, uint32_t bandwidth, uint32_t sf,
                      Gw__CodeRate code_rate, struct mod_pb *p)
{
	gw__modulation__init(&p->mod);
	gw__lora_modulation_info__init(&p->lora);
	gw__fsk_modulation_info__init(&p->fsk);
	if (fsk) {
		p->fsk.datarate = datarate;
		p->mod.parameters_case = GW__MODULATION__PARAMETERS_FSK;
		p->mod.fsk = &p->fsk;
	} else {
		p->lora.bandwidth = bandwidth;
		p->lora.spreading_factor = sf;
		p->lora.code_rate = code_rate;
		p->mod.parameters_case = GW__MODULATION__PARAMETERS_LORA;
		p->mod.lora = &p->lora;
	}
}

/* One gw.UplinkRxInfo and the times it points to. */
struct rx_pb {
	Gw__UplinkRxInfo rx;
	Common__Timestamp gw_time, ns_time;
	Common__Duration gps;
};

/* The protobuf-c view of r (which it points into) in p, every member initialised here. */
static void rx_to_pb(const struct cs_rx_info *r, struct rx_pb *p)
{
	gw__uplink_rx_info__init(&p->rx);
	common__timestamp__init(&p->gw_time);
	common__timestamp__init(&p->ns_time);
	common__duration__init(&p->gps);
	p->rx.gateway_id = (char *)r->gateway_id;
	p->rx.uplink_id = r->uplink_id;
	if (r->gw_time.set) {
		p->gw_time.seconds = r->gw_time.sec;
		p->gw_time.nanos = r->gw_time.nsec;
		p->rx.gw_time = &p->gw_time;
	}
	if (r->time_since_gps_epoch.set) {
		p->gps.seconds = r->time_since_gps_epoch.sec;
		p->gps.nanos = r->time_since_gps_epoch.nsec;
		p->rx.time_since_gps_epoch = &p->gps;
	}
	if (r->ns_time.set) {
		p->ns_time.seconds = r->ns_time.sec;
		p->ns_time.nanos = r->ns_time.nsec;
		p->rx.ns_time = &p->ns_time;
	}
	p->rx.rssi = r->rssi;
	p->rx.snr = r->snr;
	p->rx.context.data = (uint8_t *)r->context;
	p->rx.context.len = r->context_len;
}

int cs_uplink_to_proto(const struct cs_uplink *u, uint8_t **out, size_t *out_len)
{
	Integration__UplinkEvent ev = INTEGRATION__UPLINK_EVENT__INIT;
	Integration__DeviceInfo dev = INTEGRATION__DEVICE_INFO__INIT;
	Gw__UplinkTxInfo tx = GW__UPLINK_TX_INFO__INIT;
	Common__Timestamp time = COMMON__TIMESTAMP__INIT;
	struct rx_pb rx[CS_MAX_RX];
	Gw__UplinkRxInfo *rxp[CS_MAX_RX];
	size_t n_rx = u->n_rx < CS_MAX_RX ? u->n_rx : CS_MAX_RX;

	ev.deduplication_id = (char *)u->deduplication_id;
	if (u->time.set) {
		time.seconds = u->time.sec;
		time.nanos = u->time.nsec;
		ev.time = &time;
	}
	dev.tenant_id = (char *)u->tenant_id;
	dev.application_id = (char *)u->application_id;
	dev.dev_eui = (char *)u->dev_eui;
	ev.device_info = &dev;
	ev.dev_addr = (char *)u->dev_addr;
	ev.dr = u->dr;
	ev.f_cnt = u->f_cnt;
	ev.f_port = u->f_port;
	ev.confirmed = u->confirmed;
	ev.data.data = (uint8_t *)u->data;
	ev.data.len = u->data_len;
	ev.region_config_id = (char *)u->region_config_id;
	tx.frequency = u->frequency;
	ev.tx_info = &tx;
	for (size_t i = 0; i < n_rx; i++) {
		rx_to_pb(&u->rx[i], &rx[i]);
		rxp[i] = &rx[i].rx;
	}
	ev.n_rx_info = n_rx;
	ev.rx_info = rxp;
	return pack(&ev.base, out, out_len);
}

int cs_gw_uplink_to_proto(const struct cs_gw_uplink *f, uint8_t **out, size_t *out_len)
{
	Gw__UplinkFrame m = GW__UPLINK_FRAME__INIT;
	Gw__UplinkTxInfo tx = GW__UPLINK_TX_INFO__INIT;
	struct mod_pb mod;
	struct rx_pb rx;

	m.phy_payload.data = (uint8_t *)f->phy;
	m.phy_payload.len = f->phy_len;
	tx.frequency = f->frequency;
	mod_to_pb(f->fsk != 0, f->fsk_datarate, f->bandwidth, f->spreading_factor,
	          (Gw__CodeRate)f->code_rate, &mod);
	tx.modulation = &mod.mod;
	m.tx_info = &tx;
	rx_to_pb(&f->rx, &rx);
	rx.rx.channel = f->channel;
	rx.rx.rf_chain = f->rf_chain;
	rx.rx.crc_status = (Gw__CRCStatus)f->crc_status;
	m.rx_info = &rx.rx;
	return pack(&m.base, out, out_len);
}

int cs_downlink_to_proto(const struct cs_downlink *d, uint8_t **out, size_t *out_len)
{
	Integration__DownlinkCommand cmd = INTEGRATION__DOWNLINK_COMMAND__INIT;

	cmd.id = (char *)d->id;
	cmd.dev_eui = (char *)d->dev_eui;
	cmd.confirmed = d->confirmed;
	cmd.f_port = d->f_port;
	cmd.data.data = (uint8_t *)d->data;
	cmd.data.len = d->data_len;
	return pack(&cmd.base, out, out_len);
}

int cs_gw_downlink_to_proto(const struct cs_gw_downlink *d, uint8_t **out, size_t *out_len)
{
	Gw__DownlinkFrame frame = GW__DOWNLINK_FRAME__INIT;
	Gw__DownlinkFrameItem item = GW__DOWNLINK_FRAME_ITEM__INIT;
	Gw__DownlinkFrameItem *items[1] = {&item};
	Gw__DownlinkTxInfo tx = GW__DOWNLINK_TX_INFO__INIT;
	struct mod_pb mod;
	Gw__Timing timing = GW__TIMING__INIT;
	Gw__ImmediatelyTimingInfo now = GW__IMMEDIATELY_TIMING_INFO__INIT;
	Gw__DelayTimingInfo delay = GW__DELAY_TIMING_INFO__INIT;
	Gw__GPSEpochTimingInfo gps = GW__GPSEPOCH_TIMING_INFO__INIT;
	Common__Duration dur = COMMON__DURATION__INIT;

	frame.downlink_id = d->downlink_id;
	frame.gateway_id = (char *)d->gateway_id;
	frame.n_items = 1;
	frame.items = items;
	item.phy_payload.data = (uint8_t *)d->phy;
	item.phy_payload.len = d->phy_len;
	item.tx_info = &tx;
	tx.frequency = d->frequency;
	tx.power = d->power;
	tx.timing = &timing;
	tx.context.data = (uint8_t *)d->context;
	tx.context.len = d->context_len;
	mod_to_pb(d->fsk != 0, d->fsk_datarate, d->bandwidth, d->spreading_factor,
	          GW__CODE_RATE__CR_4_5, &mod);
	mod.fsk.frequency_deviation = d->fsk_fdev;
	mod.lora.polarization_inversion = d->polarization_inversion;
	tx.modulation = &mod.mod;
	dur.seconds = d->timing_ns / 1000000000;
	dur.nanos = (int32_t)(d->timing_ns % 1000000000);
	switch (d->timing) {
	case CS_TIMING_DELAY:
		delay.delay = &dur;
		timing.parameters_case = GW__TIMING__PARAMETERS_DELAY;
		timing.delay = &delay;
		break;
	case CS_TIMING_GPS_EPOCH:
		gps.time_since_gps_epoch = &dur;
		timing.parameters_case = GW__TIMING__PARAMETERS_GPS_EPOCH;
		timing.gps_epoch = &gps;
		break;
	case CS_TIMING_IMMEDIATELY:
	default:
		timing.parameters_case = GW__TIMING__PARAMETERS_IMMEDIATELY;
		timing.immediately = &now;
		break;
	}
	return pack(&frame.base, out, out_len);
}

int cs_gw_downlink_from_proto(const uint8_t *buf, size_t len, struct cs_gw_downlink *out, char *err,
                              size_t errlen)
{
	Gw__DownlinkFrame *f;
	const Gw__DownlinkFrameItem *item;
	const Gw__DownlinkTxInfo *tx;
	int rc = FUOTA_ERR_MALFORMED;

	memset(out, 0, sizeof(*out));
	f = gw__downlink_frame__unpack(NULL, len, buf);
	if (!f)
		return fuota_malformed(err, errlen, "not a valid DownlinkFrame protobuf message");
	if (f->n_items == 0 || !f->items[0]->tx_info) {
		fuota_malformed(err, errlen, "items: no item with txInfo");
		goto out;
	}
	item = f->items[0]; /* the gateway emits the first item it can; fuota sends one */
	tx = item->tx_info;
	if (copy_eui(f->gateway_id, out->gateway_id) ||
	    copy_bytes(&item->phy_payload, out->phy, sizeof(out->phy), &out->phy_len) ||
	    copy_bytes(&tx->context, out->context, sizeof(out->context), &out->context_len)) {
		fuota_malformed(err, errlen, "gatewayId, phyPayload or context invalid");
		goto out;
	}
	out->downlink_id = f->downlink_id;
	out->frequency = tx->frequency;
	out->power = tx->power;
	if (tx->modulation && tx->modulation->parameters_case == GW__MODULATION__PARAMETERS_LORA) {
		out->bandwidth = tx->modulation->lora->bandwidth;
		out->spreading_factor = tx->modulation->lora->spreading_factor;
		out->polarization_inversion = tx->modulation->lora->polarization_inversion;
	} else if (tx->modulation &&
	           tx->modulation->parameters_case == GW__MODULATION__PARAMETERS_FSK) {
		out->fsk = 1;
		out->fsk_datarate = tx->modulation->fsk->datarate;
		out->fsk_fdev = tx->modulation->fsk->frequency_deviation;
	} else {
		fuota_malformed(err, errlen, "txInfo.modulation: missing");
		goto out;
	}
	out->timing = CS_TIMING_IMMEDIATELY;
	if (tx->timing && tx->timing->parameters_case == GW__TIMING__PARAMETERS_DELAY &&
	    tx->timing->delay->delay) {
		out->timing = CS_TIMING_DELAY;
		out->timing_ns = tx->timing->delay->delay->seconds * 1000000000 +
		                 tx->timing->delay->delay->nanos;
	} else if (tx->timing && tx->timing->parameters_case == GW__TIMING__PARAMETERS_GPS_EPOCH &&
	           tx->timing->gps_epoch->time_since_gps_epoch) {
		const Common__Duration *dd = tx->timing->gps_epoch->time_since_gps_epoch;

		if (dd->seconds < 0 || dd->seconds > INT64_MAX / 1000000000 - 1) {
			fuota_malformed(err, errlen, "timing.gpsEpoch out of range");
			goto out;
		}
		out->timing = CS_TIMING_GPS_EPOCH;
		out->timing_ns = dd->seconds * 1000000000 + dd->nanos;
	}
	rc = FUOTA_OK;
out:
	gw__downlink_frame__free_unpacked(f, NULL);
	if (rc != FUOTA_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

int cs_gw_ack_to_proto(const struct cs_gw_ack *a, uint8_t **out, size_t *out_len)
{
	Gw__DownlinkTxAck ack = GW__DOWNLINK_TX_ACK__INIT;
	Gw__DownlinkTxAckItem item = GW__DOWNLINK_TX_ACK_ITEM__INIT;
	Gw__DownlinkTxAckItem *items[1] = {&item};

	ack.downlink_id = a->downlink_id;
	ack.gateway_id = (char *)a->gateway_id;
	item.status = (Gw__TxAckStatus)a->status;
	ack.n_items = 1;
	ack.items = items;
	return pack(&ack.base, out, out_len);
}

/* gw.GatewayStats, the periodic message a gateway publishes on {prefix}/gateway/{id}/event/stats
 * (CHIRPSTACK-NOTES §9.5). */
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
	return pack(&m.base, out, out_len);
}

int cs_gw_ack_from_proto(const uint8_t *buf, size_t len, struct cs_gw_ack *out, char *err,
                         size_t errlen)
{
	Gw__DownlinkTxAck *ack;
	int rc = FUOTA_ERR_MALFORMED;

	memset(out, 0, sizeof(*out));
	ack = gw__downlink_tx_ack__unpack(NULL, len, buf);
	if (!ack)
		return fuota_malformed(err, errlen, "not a valid DownlinkTxAck protobuf message");
	if (ack->n_items == 0) {
		fuota_malformed(err, errlen, "items: empty");
		goto out;
	}
	if (copy_eui(ack->gateway_id, out->gateway_id)) {
		fuota_malformed(err, errlen, "gatewayId: expected 16 hex digits");
		goto out;
	}
	out->downlink_id = ack->downlink_id;
	/* OK if any item is OK, otherwise the last item's status, as ChirpStack reads it. */
	out->status = (enum cs_tx_ack_status)ack->items[ack->n_items - 1]->status;
	for (size_t i = 0; i < ack->n_items; i++)
		if (ack->items[i]->status == GW__TX_ACK_STATUS__OK)
			out->status = CS_ACK_OK;
	if ((unsigned)out->status > CS_ACK_DUTY_CYCLE_OVERFLOW)
		out->status = CS_ACK_INTERNAL_ERROR; /* an unknown future status is a refusal */
	rc = FUOTA_OK;
out:
	gw__downlink_tx_ack__free_unpacked(ack, NULL);
	if (rc != FUOTA_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

int cs_gw_stats_from_proto(const uint8_t *buf, size_t len, struct cs_gw_stats *out, char *err,
                           size_t errlen)
{
	Gw__GatewayStats *m;
	int rc = FUOTA_ERR_MALFORMED;

	memset(out, 0, sizeof(*out));
	m = gw__gateway_stats__unpack(NULL, len, buf);
	if (!m)
		return fuota_malformed(err, errlen, "not a valid GatewayStats protobuf message");
	if (copy_eui(m->gateway_id, out->gateway_id)) {
		fuota_malformed(err, errlen, "gatewayId: expected 16 hex digits");
		goto out;
	}
	copy_time(m->time, &out->time);
	out->rx_received = m->rx_packets_received;
	out->rx_received_ok = m->rx_packets_received_ok;
	out->tx_received = m->tx_packets_received;
	out->tx_emitted = m->tx_packets_emitted;
	rc = FUOTA_OK;
out:
	gw__gateway_stats__free_unpacked(m, NULL);
	if (rc != FUOTA_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

const char *cs_ack_status_name(enum cs_tx_ack_status s)
{
	static const char *const names[] = {
	        "IGNORED",          "OK",
	        "TOO_LATE",         "TOO_EARLY",
	        "COLLISION_PACKET", "COLLISION_BEACON",
	        "TX_FREQ",          "TX_POWER",
	        "GPS_UNLOCKED",     "QUEUE_FULL",
	        "INTERNAL_ERROR",   "DUTY_CYCLE_OVERFLOW",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "UNKNOWN";
}
