/* fuota-sim's gateways as Semtech UDP packet forwarders (--semtech-udp): gateway i sends its
 * traffic to an adapter (fuota-gw) on HOST:PORT[i] instead of speaking MQTT itself, as a real
 * concentrator's lora_pkt_fwd does (PROTOCOL.TXT, CELLULAR-NOTES §6.1):
 *   - PULL_DATA every second (the keep-alive that opens the downlink path), PUSH_DATA with one
 *     rxpk per device uplink it hears, PUSH_DATA with "stat" every --gw-stats-period;
 *   - PULL_RESP: the txpk goes through the same radio checks as an MQTT DownlinkFrame
 *     (sim_gw_schedule) and is answered with TX_ACK (error NONE, TOO_LATE, ...).
 * The concentrator counter (tmst) is the true GPS time in microseconds modulo 2^32. The uplink's
 * PHYPayload is an unconfirmed data up frame signed and encrypted with the device's root key as
 * both session keys (the simulator has no join; nothing downstream checks them). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuota/err.h"
#include "fuota/lw_frame.h"
#include "fuota/lw_gps.h"
#include "fuota/sudp.h"
#include "sim.h"

#define PULL_EVERY_MS 1000

static uint32_t counter_us(int64_t gps_ms)
{
	return (uint32_t)((uint64_t)gps_ms * 1000u);
}

static void eui_of(const struct sim_gw *g, uint8_t eui[8])
{
	unsigned long long v = strtoull(g->id, NULL, 16);

	for (int i = 0; i < 8; i++)
		eui[i] = (uint8_t)(v >> (56 - 8 * i));
}

int sim_sudp_start(struct sim *s)
{
	for (size_t i = 0; i < s->o.n_sudp && i < s->n_gws; i++) {
		struct sim_gw *g = &s->gws[i];
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_port = htons(s->o.sudp_ports[i])};

		if (inet_pton(AF_INET, s->o.sudp_host, &sa.sin_addr) != 1)
			return FUOTA_ERR_INVALID_ARG;
		g->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (g->udp_fd < 0 || connect(g->udp_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			return FUOTA_ERR_IO;
		g->next_pull_ms = 0;
		g->next_stat_ms = 0;
	}
	return FUOTA_OK;
}

void sim_sudp_stop(struct sim *s)
{
	for (uint32_t i = 0; i < s->n_gws; i++)
		if (s->gws[i].udp_fd >= 0) {
			close(s->gws[i].udp_fd);
			s->gws[i].udp_fd = -1;
		}
}

static void send_dgram(struct sim_gw *g, const uint8_t *d, size_t n)
{
	/* ECONNREFUSED while the adapter is not up yet: the forwarder carries on, as the real one
	 */
	(void)send(g->udp_fd, d, n, MSG_DONTWAIT);
}

static void push(struct sim_gw *g, const struct sudp_rxpk *rx, const struct sudp_stat *st)
{
	uint8_t eui[8], *out = NULL;
	size_t len = 0;

	eui_of(g, eui);
	g->push_wait[g->push_next % 64].token = g->token;
	g->push_wait[g->push_next++ % 64].n_rxpk = rx ? 1 : 0;
	if (sudp_write_push_data(g->token++, eui, rx, rx ? 1 : 0, st, &out, &len) != FUOTA_OK)
		return;
	send_dgram(g, out, len);
	g->push_sent++;
	free(out);
}

void sim_sudp_uplink(struct sim *s, struct sim_gw *g, const struct sim_node *n,
                     const struct sim_uplink *ul, uint32_t freq_hz, int32_t rssi, float snr,
                     int64_t now_ms)
{
	static struct sudp_rxpk rx;
	struct lw_frame_tx f = {.mtype = LW_MTYPE_UNCONF_DATA_UP,
	                        .dev_addr = 0x26000000u | n->index,
	                        .fcnt = ul->fcnt,
	                        .has_fport = true,
	                        .fport = ul->port,
	                        .payload = ul->data,
	                        .payload_len = ul->len};

	(void)s;
	memset(&rx, 0, sizeof(rx));
	if (lw_frame_build(&f, n->registered_key, n->registered_key, rx.data, sizeof(rx.data),
	                   &rx.size) != FUOTA_OK)
		return;
	rx.tmst = counter_us(now_ms);
	if (g->gnss) {
		rx.has_tmms = 1;
		rx.tmms = (uint64_t)now_ms;
	}
	rx.freq_hz = freq_hz;
	rx.stat = 1;
	rx.mod = (struct sudp_mod){.sf = 7, .bw_hz = 125000, .codr = SUDP_CR_4_5}; /* DR5 */
	rx.rssi = rssi;
	rx.has_lsnr = 1;
	rx.lsnr = snr;
	push(g, &rx, NULL);
}

/* The radio's view of a txpk, through the same checks as an MQTT DownlinkFrame. */
static enum cs_tx_ack_status on_txpk(struct sim *s, struct sim_gw *g, const struct sudp_txpk *tx,
                                     int64_t now_ms)
{
	static struct cs_gw_downlink d;

	memset(&d, 0, sizeof(d));
	memcpy(d.gateway_id, g->id, sizeof(d.gateway_id));
	memcpy(d.phy, tx->data, tx->size);
	d.phy_len = tx->size;
	d.frequency = tx->freq_hz;
	d.power = (int32_t)tx->powe;
	d.fsk = tx->mod.fsk;
	d.bandwidth = tx->mod.bw_hz;
	d.spreading_factor = tx->mod.sf;
	d.fsk_datarate = tx->mod.fsk_bps;
	d.fsk_fdev = tx->fdev_hz;
	d.polarization_inversion = tx->ipol;
	if (tx->imme) {
		d.timing = CS_TIMING_IMMEDIATELY;
	} else if (tx->has_tmms) {
		d.timing = CS_TIMING_GPS_EPOCH;
		d.timing_ns = (int64_t)tx->tmms * 1000000;
	} else {
		int32_t ahead_us = (int32_t)(tx->tmst - counter_us(now_ms));

		if (ahead_us < 0)
			return CS_ACK_TOO_LATE;
		d.timing = CS_TIMING_DELAY;
		d.timing_ns = (int64_t)ahead_us * 1000;
	}
	return sim_gw_schedule(s, g, &d, now_ms);
}

static void pull_resp(struct sim *s, struct sim_gw *g, const struct sudp_msg *m, int64_t now_ms)
{
	enum cs_tx_ack_status st = on_txpk(s, g, &m->txpk, now_ms);
	uint8_t eui[8], *out = NULL;
	size_t len = 0;

	g->pull_resp++;
	g->downlinks++;
	if ((size_t)st < sizeof(g->acks) / sizeof(g->acks[0]))
		g->acks[st]++;
	/* a status the protocol has no name for (the simulator's duty-cycle budget, a full
	 * queue): the forwarder could not send it now, which TOO_EARLY says */
	if (!sudp_ack_error_name(st))
		st = CS_ACK_TOO_EARLY;
	eui_of(g, eui);
	if (sudp_write_tx_ack(m->token, eui, st, &out, &len) != FUOTA_OK)
		return;
	send_dgram(g, out, len);
	g->tx_ack_sent++;
	free(out);
	if (s->o.verbose > 1)
		fprintf(stderr, "fuota-sim: gateway %s: PULL_RESP -> %s\n", g->id,
		        cs_ack_status_name(st));
}

static void push_ack(struct sim_gw *g, uint16_t token)
{
	g->push_acked++;
	for (size_t i = 0; i < 64; i++)
		if (g->push_wait[i].n_rxpk && g->push_wait[i].token == token) {
			g->rxpk_acked += g->push_wait[i].n_rxpk;
			g->push_wait[i].n_rxpk = 0;
			return;
		}
}

static void receive(struct sim *s, struct sim_gw *g, int64_t now_ms)
{
	static struct sudp_msg m;
	uint8_t buf[65536];
	ssize_t k;

	while ((k = recv(g->udp_fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		if (sudp_parse(buf, (size_t)k, &m, NULL, 0) != FUOTA_OK) {
			g->bad_messages++;
			continue;
		}
		if (m.type == SUDP_PUSH_ACK)
			push_ack(g, m.token);
		else if (m.type == SUDP_PULL_ACK)
			g->pull_acked++;
		else if (m.type == SUDP_PULL_RESP)
			pull_resp(s, g, &m, now_ms);
		else
			g->bad_messages++;
	}
}

static void send_stat(struct sim *s, struct sim_gw *g, int64_t now_ms)
{
	struct sudp_stat st = {.rxnb = (uint32_t)g->uplinks,
	                       .rxok = (uint32_t)g->uplinks,
	                       .rxfw = (uint32_t)g->uplinks,
	                       .ackr = 100.0,
	                       .dwnb = (uint32_t)g->downlinks,
	                       .txnb = (uint32_t)g->frames_sent};
	int64_t unix_s = 0;

	(void)s;
	lw_gps_to_unix(now_ms / 1000, &unix_s);
	st.time.set = 1;
	st.time.sec = unix_s;
	push(g, NULL, &st);
	g->stats_sent++;
}

void sim_sudp_step(struct sim *s, int64_t now_ms, int64_t *next)
{
	for (uint32_t i = 0; i < s->n_gws; i++) {
		struct sim_gw *g = &s->gws[i];

		if (g->udp_fd < 0)
			continue;
		receive(s, g, now_ms);
		if (now_ms >= g->next_pull_ms) {
			uint8_t eui[8], d[12];

			eui_of(g, eui);
			sudp_write_pull_data(g->token++, eui, d);
			send_dgram(g, d, sizeof(d));
			g->next_pull_ms = now_ms + PULL_EVERY_MS;
		}
		if (s->o.gw_stats_period_s > 0 && now_ms >= g->next_stat_ms) {
			send_stat(s, g, now_ms);
			g->next_stat_ms = now_ms + (int64_t)(s->o.gw_stats_period_s * 1000);
		}
		if (g->next_pull_ms < *next)
			*next = g->next_pull_ms;
	}
}
