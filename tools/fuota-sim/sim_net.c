/* fuota-sim's network: the network server's MQTT application integration and the gateways.
 *
 * Uplinks: every device transmits every uplink period (its answers, AppTimeReq, or a 1-byte status
 * frame); the "network server" publishes an integration.UplinkEvent with one rx_info per gateway
 * in range, then hands the device ONE queued unicast downlink (class A: the next uplink's RX1).
 *
 * Gateways: gw.DownlinkFrame on {prefix}/gateway/{id}/command/down is checked and scheduled, and
 * answered at once with gw.DownlinkTxAck on .../event/ack:
 *   TOO_LATE           GPS-timed frame whose time has passed
 *   TOO_EARLY          GPS-timed frame more than --max-ahead ahead, or an immediate frame while
 *                      the gateway is still transmitting (time on air)
 *   COLLISION_PACKET   overlaps a frame already scheduled
 *   DUTY_CYCLE_OVERFLOW the sub-band's duty-cycle budget over the window is used up
 *   GPS_UNLOCKED       GPS-timed frame on a gateway without GNSS
 *   TX_FREQ            frequency outside the region
 * An FSK frame without a frequency deviation is refused without an ack, as the Semtech packet
 * forwarder aborts a txpk without "fdev" (counted in bad_messages).
 * At its start time the frame "goes on air": each device in range gets it, or not, per its loss
 * model (independent losses, or Gilbert-Elliott bursts with the mean length --burst). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fuota/err.h"
#include "fuota/lw_airtime.h"
#include "fuota/lw_frame.h"
#include "fuota/lw_gps.h"
#include "sim.h"

#define RX1_DELAY_MS 1000

int64_t sim_gps_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t gps_s = 0;
	if (lw_gps_from_unix((int64_t)ts.tv_sec, &gps_s) != FUOTA_OK)
		return 0;
	return gps_s * 1000 + ts.tv_nsec / 1000000;
}

static void unix_time(int64_t gps_ms, struct cs_time *t)
{
	int64_t unix_s = 0;
	lw_gps_to_unix(gps_ms / 1000, &unix_s);
	t->set = 1;
	t->sec = unix_s;
	t->nsec = (int32_t)(gps_ms % 1000) * 1000000;
}

/* ---- Lookups ----------------------------------------------------------------------------------
 */

static struct sim_node *find_node(struct sim *s, const char *eui)
{
	char *end;
	unsigned long long v = strtoull(eui, &end, 16);
	if (*end || end - eui != 16)
		return NULL;
	if (v >= s->o.dev_eui_base && v - s->o.dev_eui_base < s->n_nodes)
		return &s->nodes[v - s->o.dev_eui_base];
	return NULL;
}

static struct sim_gw *find_gw(struct sim *s, const char *id)
{
	char *end;
	unsigned long long v = strtoull(id, &end, 16);
	if (*end || end - id != 16)
		return NULL;
	if (v >= s->o.gw_eui_base && v - s->o.gw_eui_base < s->n_gws)
		return &s->gws[v - s->o.gw_eui_base];
	return NULL;
}

/* ---- Start / stop -----------------------------------------------------------------------------
 */

int sim_net_start(struct sim *s)
{
	char filter[256];
	int rc = mqtt_queue_create(0, &s->inq);
	if (rc == FUOTA_OK)
		rc = mqtt_paho_create(&s->mqtt);
	if (rc != FUOTA_OK)
		return rc;
	char id[64];
	if (s->o.client_id)
		snprintf(id, sizeof(id), "%s", s->o.client_id);
	else
		snprintf(id, sizeof(id), "fuota-sim-%llu-%ld", (unsigned long long)s->o.seed,
		         (long)time(NULL) % 100000);
	struct mqtt_options mo = {.client_id = id,
	                          .clean_session = true,
	                          .reconnect_min_ms = 200,
	                          .reconnect_max_ms = 5000,
	                          .max_buffered = 100000};
	rc = mqtt_connect(s->mqtt, s->o.mqtt_uri, &mo);
	if (rc != FUOTA_OK)
		return rc;
	snprintf(filter, sizeof(filter), "%s/%s/device/+/command/down", s->o.app_prefix,
	         s->o.app_id);
	rc = mqtt_subscribe(s->mqtt, filter, 1, mqtt_queue_on_message, s->inq);
	if (rc == FUOTA_OK) {
		snprintf(filter, sizeof(filter), "%s/gateway/+/command/down", s->o.gw_prefix);
		rc = mqtt_subscribe(s->mqtt, filter, 1, mqtt_queue_on_message, s->inq);
	}
	if (rc == FUOTA_OK)
		rc = sim_sudp_start(s);
	return rc;
}

void sim_net_stop(struct sim *s)
{
	sim_sudp_stop(s);
	if (s->mqtt) {
		mqtt_disconnect(s->mqtt, 3000);
		mqtt_destroy(s->mqtt);
		s->mqtt = NULL;
	}
	mqtt_queue_destroy(s->inq);
	s->inq = NULL;
	sim_sched_free(&s->sched);
}

/* ---- Unicast downlinks (application integration) --------------------------------------------- */

static void unicast_down(struct sim *s, const struct mqtt_msg *m, const char *eui)
{
	struct cs_downlink d;
	char err[128] = "";
	int rc = m->len > 0 && m->payload[0] == '{'
	                 ? cs_downlink_from_json((const char *)m->payload, m->len, &d, err,
	                                         sizeof(err))
	                 : cs_downlink_from_proto(m->payload, m->len, &d, err, sizeof(err));
	if (rc != FUOTA_OK) {
		s->bad_messages++;
		fprintf(stderr, "fuota-sim: %s: DownlinkCommand refused: %s\n", m->topic, err);
		return;
	}
	/* ChirpStack accepts only a payload whose dev_eui equals the topic's. */
	if (strcasecmp(d.dev_eui, eui) != 0 || d.f_port == 0 || d.f_port > 255) {
		s->bad_messages++;
		fprintf(stderr, "fuota-sim: %s: dev_eui %s or fPort %u does not fit the topic\n",
		        m->topic, d.dev_eui, d.f_port);
		return;
	}
	struct sim_node *n = find_node(s, eui);
	if (!n) {
		s->bad_messages++;
		if (s->o.verbose)
			fprintf(stderr, "fuota-sim: downlink for unknown device %s\n", eui);
		return;
	}
	s->downlinks_received++;
	if (n->nq == SIM_UNICAST_Q) {
		n->unicast_dropped++;
		fprintf(stderr, "fuota-sim: device %s: downlink queue full, dropped\n", n->eui);
		return;
	}
	struct sim_unicast *u = &n->q[n->nq++];
	u->port = (uint8_t)d.f_port;
	memcpy(u->data, d.data, d.data_len);
	u->len = d.data_len;
	if (s->o.verbose > 1)
		fprintf(stderr, "fuota-sim: device %s: queued downlink port %u, %zu bytes\n",
		        n->eui, u->port, u->len);
}

/* ---- Gateways ---------------------------------------------------------------------------------
 */

static void publish_ack(struct sim *s, struct sim_gw *g, uint32_t downlink_id,
                        enum cs_tx_ack_status st)
{
	struct cs_gw_ack a = {.downlink_id = downlink_id, .status = st};
	snprintf(a.gateway_id, sizeof(a.gateway_id), "%s", g->id);
	void *buf = NULL;
	size_t len = 0;
	int rc = g->json ? cs_gw_ack_to_json(&a, (char **)&buf, &len)
	                 : cs_gw_ack_to_proto(&a, (uint8_t **)&buf, &len);
	if (rc != FUOTA_OK)
		return;
	char topic[160];
	snprintf(topic, sizeof(topic), "%s/gateway/%s/event/ack", s->o.gw_prefix, g->id);
	if (mqtt_publish(s->mqtt, topic, buf, len, 1) != FUOTA_OK)
		fprintf(stderr, "fuota-sim: gateway %s: ack not published (outbox full)\n", g->id);
	free(buf);
	if ((size_t)st < sizeof(g->acks) / sizeof(g->acks[0]))
		g->acks[st]++;
	if (s->o.verbose > 1 || (s->o.verbose && st != CS_ACK_OK))
		fprintf(stderr, "fuota-sim: gateway %s: downlink %u -> %s\n", g->id, downlink_id,
		        cs_ack_status_name(st));
}

/* Duty-cycle limit of freq_hz as 1/inv of the time; 0 = none. */
static uint32_t duty_inv(const struct sim *s, uint32_t freq_hz)
{
	if (s->o.gw_duty_pct == 0)
		return 0;
	if (s->o.gw_duty_pct > 0)
		return (uint32_t)(100.0 / s->o.gw_duty_pct + 0.5);
	const struct lw_subband *sb = lw_region_subband(s->o.region, freq_hz);
	return sb && sb->duty_cycle_inv > 1 ? sb->duty_cycle_inv : 0;
}

static enum cs_tx_ack_status gw_check(struct sim *s, struct sim_gw *g,
                                      const struct cs_gw_downlink *d, int64_t now_ms,
                                      struct sim_tx *tx)
{
	if (!lw_region_freq_ok(s->o.region, d->frequency))
		return CS_ACK_TX_FREQ;
	struct lw_dr dr = {.dirs = LW_DIR_DOWN};
	if (d->fsk) {
		dr.modulation = LW_MOD_FSK;
		dr.fsk_bitrate_bps = d->fsk_datarate;
	} else {
		dr.modulation = LW_MOD_LORA;
		dr.sf = (uint8_t)d->spreading_factor;
		dr.bandwidth_hz = d->bandwidth;
	}
	uint64_t air_us = 0;
	if (lw_airtime_lorawan_us(&dr, d->phy_len, true, &air_us) != FUOTA_OK)
		return CS_ACK_INTERNAL_ERROR; /* modulation the radio cannot do */
	int64_t start = now_ms;
	switch (d->timing) {
	case CS_TIMING_IMMEDIATELY: break;
	case CS_TIMING_DELAY: start = now_ms + d->timing_ns / 1000000; break;
	case CS_TIMING_GPS_EPOCH:
		if (!g->gnss)
			return CS_ACK_GPS_UNLOCKED;
		start = d->timing_ns / 1000000;
		if (start < now_ms)
			return CS_ACK_TOO_LATE;
		if (start > now_ms + (int64_t)(s->o.max_ahead_s * 1000))
			return CS_ACK_TOO_EARLY;
		break;
	}
	int64_t end = start + (int64_t)((air_us + 999) / 1000);
	for (size_t i = 0; i < g->n_tx; i++) {
		const struct sim_tx *t = &g->tx[i];
		if (start < t->end_ms && t->start_ms < end)
			/* Still on air (or booked) then: an immediate frame came too early, a timed
			 * one collides. */
			return d->timing == CS_TIMING_IMMEDIATELY ? CS_ACK_TOO_EARLY
			                                          : CS_ACK_COLLISION_PACKET;
	}
	uint32_t inv = duty_inv(s, d->frequency);
	if (inv) {
		int64_t window_ms = (int64_t)(s->o.duty_window_s * 1000);
		int64_t used = end - start;
		const struct lw_subband *sb = lw_region_subband(s->o.region, d->frequency);
		for (size_t i = 0; i < g->n_tx; i++) {
			const struct sim_tx *t = &g->tx[i];
			if (t->start_ms > start - window_ms && t->start_ms <= start &&
			    (!sb || lw_region_subband(s->o.region, t->freq_hz) == sb))
				used += t->end_ms - t->start_ms;
		}
		if (used * (int64_t)inv > window_ms)
			return CS_ACK_DUTY_CYCLE_OVERFLOW;
	}
	tx->start_ms = start;
	tx->end_ms = end;
	tx->freq_hz = d->frequency;
	memcpy(tx->phy, d->phy, d->phy_len);
	tx->phy_len = d->phy_len;
	tx->sent = false;
	return CS_ACK_OK;
}

static void gw_down(struct sim *s, const struct mqtt_msg *m, const char *gw_id, int64_t now_ms)
{
	struct cs_gw_downlink d;
	char err[128] = "";
	struct sim_gw *g = find_gw(s, gw_id);
	if (!g || g->udp_fd >= 0)
		return; /* another simulator's or a real gateway, or one whose adapter (fuota-gw)
		         * takes its downlinks and forwards them by Semtech UDP */
	g->downlinks++;
	/* A gateway speaks one encoding (its bridge or forwarder is configured so); a frame in the
	 * other one does not decode there and is never transmitted nor acknowledged. */
	bool json = cs_payload_is_json(m->payload, m->len);
	int rc;
	if (json != g->json) {
		snprintf(err, sizeof(err), "%s payload on a %s gateway", json ? "JSON" : "protobuf",
		         g->json ? "JSON" : "protobuf");
		rc = FUOTA_ERR_MALFORMED;
	} else if (json) {
		rc = cs_gw_downlink_from_json((const char *)m->payload, m->len, &d, err,
		                              sizeof(err));
	} else {
		rc = cs_gw_downlink_from_proto(m->payload, m->len, &d, err, sizeof(err));
	}
	if (rc == FUOTA_OK && d.fsk && d.fsk_fdev == 0) {
		snprintf(err, sizeof(err),
		         "FSK without frequency_deviation (a packet forwarder aborts it)");
		rc = FUOTA_ERR_MALFORMED;
	}
	if (rc != FUOTA_OK) {
		s->bad_messages++;
		if (g->bad_messages++ < 5 || s->o.verbose)
			fprintf(stderr, "fuota-sim: gateway %s: DownlinkFrame refused: %s\n", g->id,
			        err);
		return;
	}
	publish_ack(s, g, d.downlink_id, sim_gw_schedule(s, g, &d, now_ms));
}

enum cs_tx_ack_status sim_gw_schedule(struct sim *s, struct sim_gw *g,
                                      const struct cs_gw_downlink *d, int64_t now_ms)
{
	struct sim_tx tx;
	enum cs_tx_ack_status st = gw_check(s, g, d, now_ms, &tx);
	if (st != CS_ACK_OK)
		return st;
	if (g->n_tx == g->cap_tx) {
		size_t cap = g->cap_tx ? 2 * g->cap_tx : 64;
		struct sim_tx *p = realloc(g->tx, cap * sizeof(*p));
		if (!p)
			return CS_ACK_QUEUE_FULL;
		g->tx = p;
		g->cap_tx = cap;
	}
	g->tx[g->n_tx++] = tx;
	return CS_ACK_OK;
}

/* gw.GatewayStats on {prefix}/gateway/{id}/event/stats in the gateway's encoding. */
static void publish_stats(struct sim *s, struct sim_gw *g, int64_t now_ms)
{
	struct cs_gw_stats st = {
	        .rx_received = (uint32_t)g->uplinks,
	        .rx_received_ok = (uint32_t)g->uplinks,
	        .tx_received = (uint32_t)g->downlinks,
	        .tx_emitted = (uint32_t)g->frames_sent,
	};
	snprintf(st.gateway_id, sizeof(st.gateway_id), "%s", g->id);
	unix_time(now_ms, &st.time);
	void *buf = NULL;
	size_t len = 0;
	int rc = g->json ? cs_gw_stats_to_json(&st, (char **)&buf, &len)
	                 : cs_gw_stats_to_proto(&st, (uint8_t **)&buf, &len);
	if (rc != FUOTA_OK)
		return;
	char topic[160];
	snprintf(topic, sizeof(topic), "%s/gateway/%s/event/stats", s->o.gw_prefix, g->id);
	if (mqtt_publish(s->mqtt, topic, buf, len, 0) == FUOTA_OK)
		g->stats_sent++;
	free(buf);
}

/* Topic levels of a prefix: "a/b" has 2. */
static unsigned levels(const char *prefix)
{
	unsigned n = 1;
	for (const char *p = prefix; *p; p++)
		n += *p == '/';
	return n;
}

void sim_net_handle(struct sim *s, const struct mqtt_msg *m, int64_t now_ms)
{
	char filter[256], level[80];
	snprintf(filter, sizeof(filter), "%s/%s/device/+/command/down", s->o.app_prefix,
	         s->o.app_id);
	if (mqtt_topic_match(filter, m->topic)) {
		/* {prefix}/{app}/device/{dev_eui}/...: the DevEUI follows the levels of prefix and
		 * app id, and "device". */
		unsigned idx = levels(s->o.app_prefix) + levels(s->o.app_id) + 1;
		if (mqtt_topic_level(m->topic, idx, level, sizeof(level)) == FUOTA_OK)
			unicast_down(s, m, level);
		return;
	}
	snprintf(filter, sizeof(filter), "%s/gateway/+/command/down", s->o.gw_prefix);
	if (mqtt_topic_match(filter, m->topic)) {
		/* {prefix}/gateway/{gateway_id}/command/down */
		if (mqtt_topic_level(m->topic, levels(s->o.gw_prefix) + 1, level, sizeof(level)) ==
		    FUOTA_OK)
			gw_down(s, m, level, now_ms);
	}
}

/* ---- Uplinks ----------------------------------------------------------------------------------
 */

/* TS004 downlink command names by CID (frag_cmd names commands by type, not CID). */
static const char *frag_down_name(uint8_t cid)
{
	switch (cid) {
	case 0x00: return "PackageVersionReq";
	case 0x01: return "FragSessionStatusReq";
	case 0x02: return "FragSessionSetupReq";
	case 0x03: return "FragSessionDeleteReq";
	case 0x04: return "FragDataBlockReceivedAns";
	case 0x08: return "DataFragment";
	default: return "?";
	}
}

/* A downlink sent in the device's receive window that never reached it: the network server does
 * not repeat an unconfirmed downlink, so only fuotad's retry after its timeout brings it again. */
static void unicast_lost(struct sim *s, struct sim_node *n, const struct sim_unicast *q,
                         int64_t at_ms)
{
	uint8_t cid = q->len ? q->data[0] : 0xff;
	const char *name = "?";
	if (q->port == MC_FPORT)
		name = mc_cmd_name(cid, false);
	else if (q->port == CLK_FPORT)
		name = clk_cmd_name(cid, false, n->dev.cfg.clk_version);
	else if (q->port == FRAG_PORT)
		name = frag_down_name(cid);
	n->unicast_lost++;
	if (n->n_lost < SIM_LOST_MAX)
		n->lost[n->n_lost++] = (struct sim_lost){
		        .port = q->port, .cid = cid, .command = name ? name : "?", .at_ms = at_ms};
	if (s->o.verbose)
		fprintf(stderr, "fuota-sim: device %s: downlink on port %u (%s) lost\n", n->eui,
		        q->port, name ? name : "?");
}

static void uplink(struct sim *s, struct sim_node *n, int64_t now_ms)
{
	struct sim_uplink ul;
	if (!sim_dev_uplink(&n->dev, now_ms, true, &ul))
		return;
	struct cs_uplink *u = calloc(1, sizeof(*u));
	if (!u)
		return;
	uint64_t r1 = sim_rand(&n->rng), r2 = sim_rand(&n->rng);
	snprintf(u->deduplication_id, sizeof(u->deduplication_id), "%08x-%04x-4%03x-8%03x-%012llx",
	         (unsigned)(r1 >> 32), (unsigned)(r1 >> 16) & 0xffff, (unsigned)r1 & 0xfff,
	         (unsigned)(r2 >> 48) & 0xfff, (unsigned long long)(r2 & 0xffffffffffffull));
	unix_time(now_ms, &u->time);
	snprintf(u->application_id, sizeof(u->application_id), "%s", s->o.app_id);
	snprintf(u->dev_eui, sizeof(u->dev_eui), "%s", n->eui);
	snprintf(u->dev_addr, sizeof(u->dev_addr), "%08x", 0x26000000u | n->index);
	u->dr = 5;
	u->f_cnt = ul.fcnt;
	u->f_port = ul.port;
	memcpy(u->data, ul.data, ul.len);
	u->data_len = ul.len;
	u->frequency = 868100000u + 200000u * (ul.fcnt % 3);
	for (size_t k = 0; k < n->n_gws && k < CS_MAX_RX; k++) {
		struct sim_gw *g = &s->gws[n->gws[k]];
		struct cs_rx_info *rx = &u->rx[u->n_rx++];
		g->uplinks++;
		if (g->udp_fd >= 0)
			sim_sudp_uplink(s, g, n, &ul, u->frequency, -60 - 7 * (int32_t)k,
			                7.5f - 2.0f * (float)k, now_ms);
		snprintf(rx->gateway_id, sizeof(rx->gateway_id), "%s", g->id);
		rx->uplink_id = ++s->next_uplink_id;
		if (g->gnss) {
			unix_time(now_ms, &rx->gw_time);
			rx->time_since_gps_epoch.set = 1;
			rx->time_since_gps_epoch.sec = now_ms / 1000;
			rx->time_since_gps_epoch.nsec = (int32_t)(now_ms % 1000) * 1000000;
		}
		unix_time(now_ms, &rx->ns_time);
		rx->rssi = -60 - 7 * (int32_t)k;
		rx->snr = 7.5f - 2.0f * (float)k;
		rx->context_len = 4;
		memcpy(rx->context, &rx->uplink_id, 4);
	}
	char topic[256];
	snprintf(topic, sizeof(topic), "%s/%s/device/%s/event/up", s->o.app_prefix, s->o.app_id,
	         n->eui);
	int rc;
	if (s->o.proto) {
		uint8_t *buf = NULL;
		size_t len = 0;
		rc = cs_uplink_to_proto(u, &buf, &len);
		if (rc == FUOTA_OK)
			rc = mqtt_publish(s->mqtt, topic, buf, len, 1);
		free(buf);
	} else {
		char *buf = NULL;
		size_t len = 0;
		rc = cs_uplink_to_json(u, &buf, &len);
		if (rc == FUOTA_OK)
			rc = mqtt_publish(s->mqtt, topic, buf, len, 1);
		free(buf);
	}
	if (rc == FUOTA_OK)
		s->uplinks_published++;
	else
		fprintf(stderr, "fuota-sim: device %s: uplink not published: %s\n", n->eui,
		        fuota_strerror(rc));
	if (s->o.verbose > 1)
		fprintf(stderr, "fuota-sim: device %s: uplink port %u, %zu bytes\n", n->eui,
		        ul.port, ul.len);
	free(u);

	/* Class A: the network server sends one queued downlink in the receive window. */
	if (n->nq > 0) {
		struct sim_unicast q = n->q[0];
		memmove(&n->q[0], &n->q[1], (n->nq - 1) * sizeof(n->q[0]));
		n->nq--;
		if (s->o.unicast_loss > 0 && sim_rand01(&n->uc_rng) < s->o.unicast_loss) {
			unicast_lost(s, n, &q, now_ms + RX1_DELAY_MS);
			return;
		}
		n->unicast_delivered++;
		if (sim_dev_downlink(&n->dev, now_ms + RX1_DELAY_MS, q.port, q.data, q.len) !=
		            FUOTA_OK &&
		    s->o.verbose)
			fprintf(stderr,
			        "fuota-sim: device %s: downlink on port %u not understood\n",
			        n->eui, q.port);
	}
}

/* The devices whose uplink is due by now_ms send it (in time order), each ticked first, and
 * are booked one period later; lowers *next to the next uplink. The schedule is built at the
 * first call (the fleet's first uplinks are spread over one period). */
static void uplinks_due(struct sim *s, int64_t now_ms, int64_t *next)
{
	int64_t period_ms = (int64_t)(s->o.uplink_period_s * 1000), at;
	uint32_t i;

	if (!s->sched.e) {
		if (sim_sched_init(&s->sched, s->n_nodes) != FUOTA_OK) {
			fprintf(stderr, "fuota-sim: no memory for the uplink schedule\n");
			return;
		}
		for (i = 0; i < s->n_nodes; i++)
			(void)sim_sched_push(&s->sched, i, s->nodes[i].next_uplink_ms);
	}
	while (sim_sched_peek(&s->sched, &i, &at) && at <= now_ms) {
		struct sim_node *n = &s->nodes[i];

		sim_sched_pop(&s->sched);
		sim_dev_tick(&n->dev, now_ms);
		uplink(s, n, now_ms);
		n->next_uplink_ms += period_ms;
		if (n->next_uplink_ms <= now_ms)
			n->next_uplink_ms = now_ms + period_ms;
		(void)sim_sched_push(&s->sched, i, n->next_uplink_ms);
	}
	if (sim_sched_peek(&s->sched, &i, &at) && at < *next)
		*next = at;
}

int64_t sim_net_step(struct sim *s, int64_t now_ms)
{
	int64_t next = now_ms + 1000;
	for (uint32_t gi = 0; gi < s->n_gws; gi++) {
		struct sim_gw *g = &s->gws[gi];
		if (s->o.gw_stats_period_s > 0 && g->udp_fd < 0) {
			if (now_ms >= g->next_stats_ms) {
				publish_stats(s, g, now_ms);
				g->next_stats_ms =
				        now_ms + (int64_t)(s->o.gw_stats_period_s * 1000);
			}
			if (g->next_stats_ms < next)
				next = g->next_stats_ms;
		}
	}
	sim_air_step(s, now_ms, &next);
	sim_sudp_step(s, now_ms, &next);
	/* The devices' timers count in seconds: the whole fleet every SIM_TICK_MS is enough. */
	if (now_ms >= s->next_tick_ms) {
		for (uint32_t i = 0; i < s->n_nodes; i++)
			sim_dev_tick(&s->nodes[i].dev, now_ms);
		s->next_tick_ms = now_ms + SIM_TICK_MS;
	}
	if (s->next_tick_ms < next)
		next = s->next_tick_ms;
	uplinks_due(s, now_ms, &next);
	return next;
}
