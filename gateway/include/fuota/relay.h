/* fuota-gw's backhaul relay: a local TCP listening port whose one client (paho, speaking MQTT)
 * is bridged both ways onto one SARA-R5 TCP socket (AT+USOCR/USOCO, +USOWR out, +UUSORD then
 * +USORD in, at most 1024 bytes a command). The client never knows the modem is there.
 *
 * Flow control. Bytes from the client are read only while the up buffer has room, so a modem
 * whose send window is full (+USOWR takes part or none) pushes back on the client through TCP;
 * the bytes it did not take stay at the head of the buffer and go next, so nothing is lost or
 * reordered. Bytes from the modem are read only while the down buffer has room; the modem keeps
 * the rest (and its own TCP window pushes back on the broker).
 *
 * Reconnection. A TCP stream cannot survive the loss of its connection, so when the modem socket
 * closes (+UUSOCL) the relay hands the client what the modem still had, then closes the client;
 * the client (paho) reconnects and the relay opens a new modem socket for it. When the PDP
 * context drops (+UUPSDD, +CGEV NW PDN DEACT or DETACH) the same happens, and the relay
 * activates the context again with a backoff (1 s doubling to 30 s) before it takes a client.
 * A client that connects while the link is down is closed at once (paho retries).
 *
 * Threading: none. The owner of the SARA driver passes every driver event to relay_on_event
 * (the driver's on_event callback) and calls relay_step in its loop. */
#ifndef FUOTA_RELAY_H
#define FUOTA_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/sara.h"

struct relay_opts {
	const char *listen_host; /* numeric IPv4; NULL: "127.0.0.1" */
	uint16_t listen_port;    /* 0: a free port (relay_port) */
	const char *remote_host; /* what the modem connects to (the broker) */
	uint16_t remote_port;
	int pdp_profile, cid;    /* the PSD profile and context (0 and 1 on SARA-R5) */
	uint32_t op_timeout_ms;  /* +USOCO and PDP activation; 0: 10000 */
	size_t buf_bytes;        /* each direction; 0: 4096 */
	uint32_t backoff_min_ms; /* 0: 1000 */
	uint32_t backoff_max_ms; /* 0: 30000 */
	bool pdp_active;         /* the caller has activated the context already */
};

struct relay_stats {
	uint64_t up_bytes, down_bytes; /* client → modem (taken by it), modem → client */
	uint64_t writes, partial_writes, reads;
	uint64_t sessions;    /* modem sockets opened for a client */
	uint64_t sock_closed; /* +UUSOCL of the relay's socket */
	uint64_t pdp_drops;   /* context losses seen */
	uint64_t pdp_ups;     /* successful activations */
	uint64_t refused;     /* clients closed because the link was down or busy */
	bool link_up;         /* PDP context active */
	bool session;         /* a client is bridged now */
};

/* What the relay does next, decided from a snapshot of its state (relay_decide, pure). */
enum relay_action {
	RELAY_WAIT = 0,   /* nothing to do: poll */
	RELAY_PDP_UP,     /* activate the context */
	RELAY_OPEN,       /* open and connect the modem socket for the client */
	RELAY_WRITE,      /* +USOWR the head of the up buffer */
	RELAY_READ,       /* +USORD into the down buffer */
	RELAY_END_SESSION /* close the modem socket and, once drained, the client */
};

struct relay_view {
	bool link_up, client, sock_open, sock_closed; /* sock_closed: +UUSOCL or client EOF seen */
	bool client_eof;
	size_t up_n; /* bytes waiting for the modem */
	size_t down_n, down_cap;
	size_t modem_pending; /* bytes the modem said wait (+UUSORD), or 1 when a read filled up */
	int64_t now_ms, pdp_retry_ms, write_retry_ms;
};

/* The next action. Reading the modem comes before writing (it frees the modem's buffer and the
 * broker's window); a modem socket that closed is drained before the session ends; a write that
 * the window refused waits until write_retry_ms. */
enum relay_action relay_decide(const struct relay_view *v);

struct relay;

/* Binds the listening socket. The driver must be booted and registered; the relay activates the
 * context itself. *out is freed by relay_destroy (NULL ok). FUOTA_ERR_IO for a socket error. */
int relay_create(const struct relay_opts *o, struct sara *s, struct relay **out);
void relay_destroy(struct relay *r);
uint16_t relay_port(const struct relay *r);
void relay_get_stats(const struct relay *r, struct relay_stats *st);
/* Takes the driver's events (socket data and closes, PDP and +CGEV). Runs no AT command. */
void relay_on_event(struct relay *r, const struct sara_event *ev);
/* One turn: local sockets, then the AT work relay_decide asks for, then, when idle, up to
 * wait_ms of polling the modem and the local sockets. FUOTA_OK, or an error of the local
 * sockets (modem errors end the session and are counted, not returned). */
int relay_step(struct relay *r, uint32_t wait_ms);

#endif
