/* fuota-gw's adapter (gw.h): the Semtech UDP socket, the queue, and the network side. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuota/err.h"
#include "fuota/gw.h"
#include "fuota/gw_sched.h"

#define N_PENDING 64 /* PULL_RESP tokens remembered for their TX_ACK */

struct pending {
	int used;
	uint16_t token;
	uint32_t downlink_id;
};

struct gw {
	struct gw_opts o;
	struct gw_net net;
	int fd;
	uint16_t port;
	struct gwq *q;
	int have_fwd; /* a PULL_DATA came: fwd is where PULL_RESP goes */
	struct sockaddr_in fwd;
	int have_eui;
	uint8_t eui[8];
	char eui_hex[CS_EUI_LEN];
	struct gw_timeref ref;
	uint32_t next_uplink_id;
	uint16_t next_token;
	struct pending pend[N_PENDING];
	size_t pend_next;
	struct gw_counters c;
	uint64_t send_seq;     /* with net.acked: the next record to hand over */
	uint64_t flight_first; /* the oldest record handed over and not confirmed */
	size_t inflight;
	struct sudp_msg msg;
	uint8_t rbuf[65536];
	uint8_t pbuf[GWQ_MAX_PAYLOAD];
};

static int bind_socket(struct gw *g)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(g->o.port)};
	socklen_t alen = sizeof(a);

	if (!g->o.bind_host || inet_pton(AF_INET, g->o.bind_host, &a.sin_addr) != 1)
		return FUOTA_ERR_INVALID_ARG;
	g->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (g->fd < 0 || bind(g->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(g->fd, (struct sockaddr *)&a, &alen) != 0)
		return FUOTA_ERR_IO;
	g->port = ntohs(a.sin_port);
	return FUOTA_OK;
}

static void set_eui(struct gw *g, const uint8_t eui[8])
{
	memcpy(g->eui, eui, 8);
	for (size_t i = 0; i < 8; i++)
		snprintf(g->eui_hex + 2 * i, 3, "%02x", eui[i]);
	g->have_eui = 1;
}

/* A backlog names its gateway: after a restart the backhaul can deliver it before the
 * forwarder has said anything. */
static void eui_from_queue(struct gw *g)
{
	uint8_t kind;
	uint64_t seq;
	size_t len;

	if (gwq_peek(g->q, &kind, &seq, g->pbuf, sizeof(g->pbuf), &len) == FUOTA_OK && len >= 8)
		set_eui(g, g->pbuf);
}

int gw_open(const struct gw_opts *o, const struct gw_net *net, struct gw **out)
{
	struct gw *g;
	int rc;

	*out = NULL;
	if (!(g = calloc(1, sizeof(*g))))
		return FUOTA_ERR_NO_MEMORY;
	g->o = *o;
	g->net = *net;
	g->fd = -1;
	/* uplink ids and tokens start anywhere: ChirpStack wants uplink ids random-looking */
	if (getrandom(&g->next_uplink_id, sizeof(g->next_uplink_id), 0) < 0 ||
	    getrandom(&g->next_token, sizeof(g->next_token), 0) < 0)
		g->next_uplink_id = (uint32_t)getpid();
	if ((rc = bind_socket(g)) != FUOTA_OK || (rc = gwq_open(&o->queue, &g->q)) != FUOTA_OK) {
		gw_close(g);
		return rc;
	}
	eui_from_queue(g);
	*out = g;
	return FUOTA_OK;
}

void gw_close(struct gw *g)
{
	if (!g)
		return;
	if (g->fd >= 0)
		close(g->fd);
	gwq_close(g->q);
	free(g);
}

int gw_fd(const struct gw *g)
{
	return g->fd;
}

uint16_t gw_port(const struct gw *g)
{
	return g->port;
}

const char *gw_gateway_id(const struct gw *g)
{
	return g->have_eui ? g->eui_hex : NULL;
}

const struct gw_counters *gw_counters(const struct gw *g)
{
	return &g->c;
}

struct gwq *gw_queue(struct gw *g)
{
	return g->q;
}

/* An event for the network side: the gateway EUI (8 bytes) then the message, encoded as the
 * adapter is configured (binary protobuf, or the JSON mapping). */
static int enqueue(struct gw *g, enum gw_event ev, uint8_t *pb, size_t len)
{
	int rc = FUOTA_ERR_NO_SPACE;

	if (len + 8 <= sizeof(g->pbuf)) {
		memcpy(g->pbuf, g->eui, 8);
		memcpy(g->pbuf + 8, pb, len);
		rc = gwq_append(g->q, (uint8_t)ev, g->pbuf, len + 8);
	}
	free(pb);
	return rc;
}

int gw_enqueue(struct gw *g, enum gw_event ev, const void *payload, size_t len)
{
	uint8_t *copy;

	if (!g->have_eui)
		return FUOTA_ERR_STATE;
	if (!(copy = malloc(len ? len : 1)))
		return FUOTA_ERR_NO_MEMORY;
	memcpy(copy, payload, len);
	return enqueue(g, ev, copy, len);
}

static int enqueue_ack(struct gw *g, uint32_t downlink_id, enum cs_tx_ack_status st)
{
	struct cs_gw_ack a = {.downlink_id = downlink_id, .status = st};
	uint8_t *pb = NULL;
	size_t len = 0;
	int rc;

	memcpy(a.gateway_id, g->eui_hex, sizeof(a.gateway_id));
	rc = g->o.json ? cs_gw_ack_to_json(&a, (char **)&pb, &len)
	               : cs_gw_ack_to_proto(&a, &pb, &len);
	if (rc != FUOTA_OK)
		return rc;
	return enqueue(g, GW_EV_ACK, pb, len);
}

static int on_push(struct gw *g, int64_t now_us)
{
	struct cs_gw_uplink up;
	struct cs_gw_stats st;
	uint8_t *pb = NULL;
	size_t len = 0;
	int rc = FUOTA_OK;

	for (size_t i = 0; i < g->msg.n_rxpk && rc == FUOTA_OK; i++) {
		const struct sudp_rxpk *rx = &g->msg.rxpk[i];
		g->ref.has_tmst = 1;
		g->ref.tmst = rx->tmst;
		g->ref.tmst_mono_us = now_us;
		sudp_rxpk_to_uplink(rx, g->msg.eui, g->next_uplink_id++, &up);
		rc = g->o.json ? cs_gw_uplink_to_json(&up, (char **)&pb, &len)
		               : cs_gw_uplink_to_proto(&up, &pb, &len);
		if (rc == FUOTA_OK)
			rc = enqueue(g, GW_EV_UP, pb, len);
		g->c.rxpk++;
	}
	if (rc == FUOTA_OK && g->msg.has_stat) {
		sudp_stat_to_stats(&g->msg.stat, g->msg.eui, &st);
		rc = g->o.json ? cs_gw_stats_to_json(&st, (char **)&pb, &len)
		               : cs_gw_stats_to_proto(&st, &pb, &len);
		if (rc == FUOTA_OK)
			rc = enqueue(g, GW_EV_STATS, pb, len);
		g->c.stats++;
	}
	return rc;
}

static int on_tx_ack(struct gw *g)
{
	for (size_t i = 0; i < N_PENDING; i++)
		if (g->pend[i].used && g->pend[i].token == g->msg.token) {
			g->pend[i].used = 0;
			g->c.tx_acks++;
			return enqueue_ack(g, g->pend[i].downlink_id, g->msg.ack);
		}
	g->c.bad_datagrams++; /* an ack of nothing we sent (or of one long forgotten) */
	return FUOTA_OK;
}

static int on_datagram(struct gw *g, size_t n, const struct sockaddr_in *from, int64_t now_us)
{
	uint8_t ack[4];

	g->c.rx_datagrams++;
	if (sudp_parse(g->rbuf, n, &g->msg, NULL, 0) != FUOTA_OK) {
		g->c.bad_datagrams++;
		return FUOTA_OK;
	}
	switch (g->msg.type) {
	case SUDP_PULL_DATA:
		g->fwd = *from;
		g->have_fwd = 1;
		set_eui(g, g->msg.eui);
		sudp_write_ack(SUDP_PULL_ACK, g->msg.token, ack);
		sendto(g->fd, ack, 4, 0, (const struct sockaddr *)from, sizeof(*from));
		return FUOTA_OK;
	case SUDP_PUSH_DATA:
		set_eui(g, g->msg.eui);
		sudp_write_ack(SUDP_PUSH_ACK, g->msg.token, ack);
		sendto(g->fd, ack, 4, 0, (const struct sockaddr *)from, sizeof(*from));
		return on_push(g, now_us);
	case SUDP_TX_ACK: return on_tx_ack(g);
	default:
		g->c.bad_datagrams++; /* a server's datagram sent to us */
		return FUOTA_OK;
	}
}

int gw_on_readable(struct gw *g, int64_t now_mono_us)
{
	struct sockaddr_in from;
	socklen_t flen;
	ssize_t n;
	int rc = FUOTA_OK, r;

	for (;;) {
		flen = sizeof(from);
		n = recvfrom(g->fd, g->rbuf, sizeof(g->rbuf), 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
			               ? rc
			               : FUOTA_ERR_IO;
		if ((r = on_datagram(g, (size_t)n, &from, now_mono_us)) != FUOTA_OK &&
		    rc == FUOTA_OK)
			rc = r;
	}
}

/* Hands record g->pbuf[0..len) (kind) to the network side: FUOTA_OK when taken. */
static int hand_over(struct gw *g, uint8_t kind, size_t len)
{
	char hex[CS_EUI_LEN];

	for (size_t i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", g->pbuf[i]);
	if (!g->net.publish)
		return FUOTA_ERR_IO;
	return g->net.publish(g->net.ctx, (enum gw_event)kind, hex, g->pbuf + 8, len - 8);
}

/* Pops what the far end confirmed. */
static int confirm(struct gw *g)
{
	size_t n = 0, len;
	uint8_t kind;
	uint64_t seq;
	int rc;

	g->net.acked(g->net.ctx, &n);
	while (g->inflight &&
	       gwq_peek(g->q, &kind, &seq, g->pbuf, sizeof(g->pbuf), &len) == FUOTA_OK) {
		if (seq > g->flight_first) {
			/* the bound dropped records that were in flight: they are gone */
			size_t gone = seq - g->flight_first;
			g->inflight -= gone < g->inflight ? gone : g->inflight;
			g->flight_first = seq;
			continue;
		}
		if (!n)
			break;
		if ((rc = gwq_pop(g->q)) != FUOTA_OK)
			return rc;
		n--;
		g->inflight--;
		g->flight_first++;
	}
	return FUOTA_OK;
}

/* The windowed delivery of gw_flush (net.acked set). */
static int flush_window(struct gw *g, size_t *n_sent)
{
	size_t window = g->net.window ? g->net.window : 16, len;
	struct gwq_stats st;
	uint8_t kind;
	uint64_t seq;
	int rc;

	if ((rc = confirm(g)) != FUOTA_OK)
		return rc;
	if (!g->inflight) {
		if ((rc = gwq_peek(g->q, &kind, &seq, g->pbuf, sizeof(g->pbuf), &len)) != FUOTA_OK)
			return rc == FUOTA_ERR_NOT_FOUND || rc == FUOTA_ERR_NO_SPACE ? FUOTA_OK
			                                                             : rc;
		g->send_seq = g->flight_first = seq;
	}
	gwq_get_stats(g->q, &st);
	while (g->inflight < window && g->send_seq < st.next_seq) {
		rc = gwq_peek_seq(g->q, g->send_seq, &kind, g->pbuf, sizeof(g->pbuf), &len);
		if (rc == FUOTA_ERR_NOT_FOUND) { /* skipped as corrupt at open */
			g->send_seq++;
			continue;
		}
		if (rc == FUOTA_OK && len < 8 && !g->inflight) {
			/* nothing to send in it (never written so): delivered as it is */
			if (gwq_peek(g->q, &kind, &seq, g->pbuf, sizeof(g->pbuf), &len) !=
			            FUOTA_OK ||
			    gwq_pop(g->q) != FUOTA_OK)
				break;
			g->send_seq = g->flight_first = seq + 1;
			continue;
		}
		if (rc != FUOTA_OK || len < 8 || hand_over(g, kind, len) != FUOTA_OK)
			break; /* backhaul down: it stays queued */
		g->send_seq++;
		g->inflight++;
		(*n_sent)++;
	}
	return FUOTA_OK;
}

int gw_flush(struct gw *g, size_t *n_sent)
{
	uint8_t kind;
	uint64_t seq;
	size_t len;
	int rc;

	*n_sent = 0;
	if (g->net.acked)
		return flush_window(g, n_sent);
	while ((rc = gwq_peek(g->q, &kind, &seq, g->pbuf, sizeof(g->pbuf), &len)) == FUOTA_OK) {
		if (len >= 8) {
			if (hand_over(g, kind, len) != FUOTA_OK)
				return FUOTA_OK; /* backhaul down: it stays queued */
			(*n_sent)++;
		}
		if ((rc = gwq_pop(g->q)) != FUOTA_OK)
			return rc;
	}
	return rc == FUOTA_ERR_NOT_FOUND || rc == FUOTA_ERR_NO_SPACE ? FUOTA_OK : rc;
}

/* Before the forwarder has spoken, the gateway is the one the network server names. */
static void eui_from_downlink(struct gw *g, const struct cs_gw_downlink *d)
{
	uint8_t e[8];
	unsigned v;

	for (size_t i = 0; i < 8; i++) {
		if (sscanf(d->gateway_id + 2 * i, "%2x", &v) != 1)
			return;
		e[i] = (uint8_t)v;
	}
	set_eui(g, e);
}

int gw_downlink(struct gw *g, const struct cs_gw_downlink *d, int64_t now_mono_us)
{
	enum cs_tx_ack_status why = CS_ACK_INTERNAL_ERROR;
	struct sudp_txpk tx;
	struct pending *p;
	uint8_t *dg = NULL;
	size_t len = 0;
	int rc;

	if (!g->have_eui)
		eui_from_downlink(g, d);
	if (sudp_txpk_from_downlink(d, &tx, &why, NULL, 0) != FUOTA_OK) {
		g->c.refused++;
		return enqueue_ack(g, d->downlink_id, why);
	}
	if (gw_too_late(&tx, &g->ref, now_mono_us, g->o.carry_us)) {
		g->c.too_late++;
		return enqueue_ack(g, d->downlink_id, CS_ACK_TOO_LATE);
	}
	if (!g->have_fwd) {
		g->c.refused++;
		rc = enqueue_ack(g, d->downlink_id, CS_ACK_INTERNAL_ERROR);
		return rc == FUOTA_OK ? FUOTA_ERR_STATE : rc;
	}
	p = &g->pend[g->pend_next++ % N_PENDING];
	*p = (struct pending){.used = 1, .token = g->next_token++, .downlink_id = d->downlink_id};
	if ((rc = sudp_write_pull_resp(p->token, &tx, &dg, &len)) != FUOTA_OK)
		return rc;
	if (sendto(g->fd, dg, len, 0, (const struct sockaddr *)&g->fwd, sizeof(g->fwd)) < 0)
		rc = FUOTA_ERR_IO;
	free(dg);
	g->c.downlinks++;
	return rc;
}
