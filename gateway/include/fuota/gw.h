/* fuota-gw's adapter: the packet forwarder's side (Semtech UDP on a loopback socket) joined to a
 * network side behind struct gw_net (the modem's MQTT link, or a test's fake), with the
 * store-and-forward queue between them.
 *
 * Every event for the network server (an uplink, gateway stats, a downlink ack) is encoded in
 * ChirpStack's binary protobuf (or its JSON mapping, gw_opts.json) and appended to the queue first,
 * then handed to the network side in order by gw_flush while it accepts them; what it refuses stays
 * queued. A downlink is checked by the too-late rule, converted and sent as PULL_RESP to the
 * address of the forwarder's last PULL_DATA; the forwarder's TX_ACK (or the adapter's own refusal)
 * becomes a DownlinkTxAck. Single-threaded: the caller polls gw_fd and calls gw_on_readable,
 * gw_flush and gw_downlink. */
#ifndef FUOTA_GW_H
#define FUOTA_GW_H

#include <stddef.h>
#include <stdint.h>

#include "fuota/cs_msg.h"
#include "fuota/gwq.h"
#include "fuota/sudp.h"

/* GW_EV_MODEM: fuota's event/modem-update (JSON), queued like the others so that none is lost
 * while the modem installs an update and the backhaul is down. */
enum gw_event { GW_EV_UP = 1, GW_EV_STATS = 2, GW_EV_ACK = 3, GW_EV_MODEM = 4 };

/* The network side. publish hands one event over ({prefix}/gateway/{gateway_id}/event/{up,
 * stats, ack}, protobuf payload); FUOTA_OK when taken, any error when the backhaul cannot take it
 * now (the event stays queued and gw_flush stops). */
struct gw_net {
	void *ctx;
	int (*publish)(void *ctx, enum gw_event ev, const char *gateway_id, const uint8_t *payload,
	               size_t len);
	/* May be NULL: an event is then delivered (popped) once publish took it. Otherwise the
	 * events publish took stay in the queue until acked says the far end confirmed them (the
	 * broker's PUBACK), in the order they were taken: *n gets how many more are confirmed
	 * since the last call. A crash then redelivers what was not confirmed, and loses none. */
	void (*acked)(void *ctx, size_t *n);
	size_t window; /* with acked: events taken and not yet confirmed at most; 0: 16 */
};

struct gw_opts {
	const char *bind_host; /* numeric IPv4, e.g. "127.0.0.1" */
	uint16_t port;         /* 0: a free port (see gw_port) */
	struct gwq_opts queue;
	int64_t carry_us; /* what a downlink still needs to reach the concentrator (>=
	                     GW_FWD_LEAD_US) */
	int json;         /* events in ChirpStack's JSON mapping instead of binary protobuf (the
	                     queue keeps each record as it was encoded) */
};

/* Counters for the stats extension and the logs. */
struct gw_counters {
	uint64_t rx_datagrams, bad_datagrams, rxpk, stats, tx_acks, downlinks, too_late, refused;
};

struct gw;

/* Binds the UDP socket (non-blocking) and opens the queue. *out is freed by gw_close (NULL ok).
 * FUOTA_ERR_IO for a socket error, or gwq_open's errors. */
int gw_open(const struct gw_opts *o, const struct gw_net *net, struct gw **out);
void gw_close(struct gw *g);
int gw_fd(const struct gw *g);
uint16_t gw_port(const struct gw *g);
/* The gateway EUI as 16 lowercase hex digits, once a forwarder's datagram, a downlink or the
 * queue's oldest record (a backlog from an earlier run) named it; NULL before. */
const char *gw_gateway_id(const struct gw *g);
const struct gw_counters *gw_counters(const struct gw *g);
struct gwq *gw_queue(struct gw *g);

/* Reads and handles every datagram waiting on the socket: acks PUSH_DATA and PULL_DATA, queues
 * the events. A datagram that does not parse is counted and dropped (never acked). */
int gw_on_readable(struct gw *g, int64_t now_mono_us);
/* Pops the events the network side confirmed (acked), then hands queued events to it in order
 * until it refuses one, the window is full, or none is left. */
int gw_flush(struct gw *g, size_t *n_sent);
/* A downlink from the network server. FUOTA_OK when sent to the forwarder or refused with an ack
 * queued (TOO_LATE, or the conversion's status); FUOTA_ERR_STATE when no forwarder has pulled
 * yet (acked as INTERNAL_ERROR, the frame cannot be carried). */
int gw_downlink(struct gw *g, const struct cs_gw_downlink *d, int64_t now_mono_us);

/* Appends an event of the adapter's own (GW_EV_MODEM) to the queue, behind the uplinks already
 * there. FUOTA_ERR_STATE before the gateway id is known; gwq_append's errors. */
int gw_enqueue(struct gw *g, enum gw_event ev, const void *payload, size_t len);

#endif
