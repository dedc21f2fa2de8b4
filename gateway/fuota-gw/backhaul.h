/* fuota-gw's network side: the MQTT client (paho) towards the broker, either straight over TCP
 * or through the SARA-R5 by the relay (relay.h), the downlink topic, state/conn and the
 * modem-state topic. Private to the fuota-gw program. */
#ifndef FUOTA_GW_BACKHAUL_H
#define FUOTA_GW_BACKHAUL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fuota/gw.h"
#include "modem_update.h"

struct bh_opts {
	const char *broker_host; /* NULL: no backhaul, everything stays queued */
	uint16_t broker_port;
	const char *modem; /* the SARA-R5's tty; NULL: straight TCP to the broker */
	uint32_t baud;
	const char *apn;         /* NULL: the module's own */
	FILE *at_log;            /* may be NULL */
	const char *prefix;      /* topic prefix ("eu868"), may be "" */
	const char *gateway_id;  /* NULL: learnt from the forwarder */
	bool json;               /* events and state/conn in the JSON mapping */
	uint32_t state_every_ms; /* modem state refresh */
	uint32_t relay_port;     /* 0: any */
	uint32_t keepalive_s;    /* MQTT keepalive: how soon the broker sends the last will */
	struct mu_opts mu;       /* modem updates (with a modem; state_dir NULL: the queue's) */
};

struct bh;

/* Brings the modem up (boot, +CGEREP, registration) when there is one and starts the relay.
 * The MQTT client starts once the gateway id is known. */
int bh_open(const struct bh_opts *o, struct bh **out);
void bh_close(struct bh *b);
/* The network side for gw_open (publish refuses while not connected or while paho's outbox is
 * full, so events stay in the disk queue). */
struct gw_net bh_net(struct bh *b);
/* One turn: the relay (or a short sleep), the MQTT connection, downlinks to g, fuotad's modem
 * commands, the modem state; while a modem update runs, the backhaul is down (events queue in
 * g) and comes back after it. Waits up to wait_ms when idle. */
void bh_step(struct bh *b, struct gw *g, uint32_t wait_ms);

#endif
