/* MQTT transport for fuotad and fuota-sim: a small client interface (a table of function pointers,
 * so a test can put a fake behind it), its Eclipse Paho implementation (async client,
 * libpaho-mqtt3as), a thread-safe inbound queue, and MQTT topic-filter matching.
 *
 * Delivery guarantees of the Paho client (mqtt_paho_create):
 * - It reconnects by itself after the broker goes away, with exponential backoff between
 *   reconnect_min_ms and reconnect_max_ms, also when the very first connection attempt fails.
 * - Every subscription made with mqtt_subscribe is sent again after each (re)connection, so a
 *   clean-session client gets its subscriptions back after a broker restart.
 * - QoS 1 and 2 messages are kept in an outbox until the broker acknowledges them (PUBACK /
 *   PUBCOMP). Messages published while disconnected, and messages in flight when the connection
 *   broke, are sent again, in publish order, after the next connection: nothing is lost while the
 *   broker is away, but a message may arrive twice (MQTT "at least once"). QoS 0 messages are kept
 *   while disconnected too, and dropped once Paho accepted them. The outbox is bounded
 *   (max_buffered); mqtt_publish returns FUOTA_ERR_NO_SPACE when it is full and keeps nothing.
 * - Every message the outbox accepts gets the next sequence number (1, 2, 3 ...; a refused one
 *   uses none up), and mqtt_status.acked_seq says through which number every message was
 *   acknowledged. Acknowledgements that come out of order (a refused send retried, a
 *   reconnection that sends the outbox again) raise it only once the older messages are
 *   acknowledged too. A caller that keeps the sequence of its QoS 1 or 2 message
 *   (mqtt_publish_seq) knows it reached the broker once acked_seq is at or above it, however
 *   busy the outbox. A QoS 0 message counts as acknowledged once Paho accepted it, which only
 *   queues it for the socket: acked_seq past a QoS 0 message says nothing of its delivery (it
 *   may still be lost with the connection). The engine's deletes, which wait on acked_seq, are
 *   sent with QoS 1.
 * - Persistent session: clean_session = false with a fixed client_id makes the broker keep the
 *   subscriptions and queue QoS >= 1 messages for the client while it is away.
 * - Shared subscriptions ("$share/<group>/<filter>") are passed to the broker as they are; for the
 *   local dispatch to callbacks the "$share/<group>/" prefix is ignored.
 *
 * THREADS. Message callbacks (mqtt_msg_cb) run on one of Paho's internal threads, never on the
 * caller's. They must not block for long and must not call mqtt_destroy. A program that wants to
 * process messages on its own thread subscribes with mqtt_queue_on_message and a struct
 * mqtt_queue as ctx, then drains the queue from its loop with mqtt_queue_pop (thread-safe).
 * mqtt_publish, mqtt_subscribe and mqtt_status may be called from any thread, callbacks included.
 *
 * Every function returns FUOTA_OK or a negative enum fuota_err. */
#ifndef FUOTA_MQTT_H
#define FUOTA_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Called for every message whose topic matches the filter given to mqtt_subscribe. topic is
 * NUL-terminated; payload (len bytes, not NUL-terminated, may be NULL when len is 0) is valid only
 * during the call. Return FUOTA_OK once the message is consumed; any other value asks the client
 * to offer it again a little later (back-pressure: e.g. a full queue). */
typedef int (*mqtt_msg_cb)(void *ctx, const char *topic, const uint8_t *payload, size_t len);

struct mqtt_options {
	const char *client_id; /* required; fixed for a persistent session */
	bool clean_session;   /* false: persistent session (broker keeps subscriptions, QoS 1 queue)
	                       */
	const char *username; /* NULL: none */
	const char *password; /* NULL: none; never logged */
	uint32_t keepalive_s; /* 0: 30 s */
	uint32_t connect_timeout_s; /* 0: 5 s, per attempt */
	uint32_t reconnect_min_ms;  /* first backoff step; 0: 250 ms */
	uint32_t reconnect_max_ms;  /* backoff cap; 0: 10000 ms */
	size_t max_buffered;        /* outbox capacity in messages; 0: 10000 */
	/* The last will the broker publishes when the connection is lost without a DISCONNECT
	 * (ChirpStack's state/conn OFFLINE). will_topic NULL: none. Copied. */
	const char *will_topic;
	const void *will_payload;
	size_t will_len;
	int will_qos;
	bool will_retained;
};

/* OR'ed into mqtt_publish's qos: the broker keeps the message as the topic's retained one. */
#define MQTT_RETAIN 0x100

/* What a client is doing right now. */
struct mqtt_status {
	bool connected;     /* a connection is up */
	bool subscribed;    /* connected and every subscription acknowledged on this connection */
	uint32_t connects;  /* successful connections so far (the first one included) */
	size_t outbox;      /* messages not yet acknowledged (waiting + in flight) */
	uint64_t published; /* messages acknowledged by the broker (QoS 0: accepted by Paho) */
	uint64_t rejected;  /* mqtt_publish calls refused because the outbox was full */
	uint64_t received;  /* messages delivered to callbacks */
	uint64_t last_seq;  /* the sequence number of the last message accepted (0: none) */
	uint64_t acked_seq; /* every message numbered at or below it was acknowledged */
};

struct mqtt_client;

/* The interface. A test builds its own table and client to replace the broker. */
struct mqtt_ops {
	/* Starts connecting to uri ("tcp://host:port"); returns at once. The client keeps trying
	 * until it is connected or destroyed. The options' strings are copied. */
	int (*connect)(struct mqtt_client *c, const char *uri, const struct mqtt_options *opt);
	/* Subscribes filter (may be "$share/<group>/...") with qos 0..2; cb(ctx, ...) receives the
	 * matching messages. Kept across reconnections. The filter string is copied. */
	int (*subscribe)(struct mqtt_client *c, const char *filter, int qos, mqtt_msg_cb cb,
	                 void *ctx);
	/* Queues payload[0..len) for topic with qos 0..2; the bytes and topic are copied. On
	 * FUOTA_OK, *seq (seq may be NULL) receives the message's sequence number. */
	int (*publish)(struct mqtt_client *c, const char *topic, const void *payload, size_t len,
	               int qos, uint64_t *seq);
	void (*status)(struct mqtt_client *c, struct mqtt_status *st);
	/* Waits up to timeout_ms for the outbox to drain, then disconnects; no reconnection after.
	 */
	int (*disconnect)(struct mqtt_client *c, uint32_t timeout_ms);
	/* Frees everything; no callback runs after it returns. Accepts a NULL client. */
	void (*destroy)(struct mqtt_client *c);
};

struct mqtt_client {
	const struct mqtt_ops *ops;
};

/* Creates a Paho-backed client (not yet connected; see struct mqtt_options for its settings).
 * Returns FUOTA_OK, FUOTA_ERR_NO_MEMORY. Free with mqtt_destroy. */
int mqtt_paho_create(struct mqtt_client **out);

static inline int mqtt_connect(struct mqtt_client *c, const char *uri,
                               const struct mqtt_options *opt)
{
	return c->ops->connect(c, uri, opt);
}

static inline int mqtt_subscribe(struct mqtt_client *c, const char *filter, int qos, mqtt_msg_cb cb,
                                 void *ctx)
{
	return c->ops->subscribe(c, filter, qos, cb, ctx);
}

static inline int mqtt_publish(struct mqtt_client *c, const char *topic, const void *payload,
                               size_t len, int qos)
{
	return c->ops->publish(c, topic, payload, len, qos, NULL);
}

/* mqtt_publish, the message's sequence number into *seq on FUOTA_OK (compare it with
 * mqtt_status.acked_seq). */
static inline int mqtt_publish_seq(struct mqtt_client *c, const char *topic, const void *payload,
                                   size_t len, int qos, uint64_t *seq)
{
	return c->ops->publish(c, topic, payload, len, qos, seq);
}

static inline void mqtt_get_status(struct mqtt_client *c, struct mqtt_status *st)
{
	c->ops->status(c, st);
}

static inline int mqtt_disconnect(struct mqtt_client *c, uint32_t timeout_ms)
{
	return c->ops->disconnect(c, timeout_ms);
}

static inline void mqtt_destroy(struct mqtt_client *c)
{
	if (c)
		c->ops->destroy(c);
}

/* Waits (polling mqtt_get_status) until the client is connected and every subscription is
 * acknowledged. Returns FUOTA_OK or FUOTA_ERR_TIMEOUT. */
int mqtt_wait_subscribed(struct mqtt_client *c, uint32_t timeout_ms);

/* ---- Topic filters ------------------------------------------------------------------------ */

/* true if topic matches filter under the MQTT rules: '+' matches one level, '#' (last level only)
 * the rest including the parent level, and a filter starting with '+' or '#' does not match a
 * topic starting with '$'. A "$share/<group>/" prefix of the filter is skipped. Malformed filters
 * ('#' not last, '+' or '#' inside a level) match nothing. Both strings are NUL-terminated. */
bool mqtt_topic_match(const char *filter, const char *topic);

/* Copies level `index` (0-based) of topic into out[0..cap) as a NUL-terminated string, e.g. level
 * 3 of "application/1/device/0102/event/up" is "0102". Returns FUOTA_OK, FUOTA_ERR_NOT_FOUND (the
 * topic has fewer levels) or FUOTA_ERR_NO_SPACE (the level does not fit). */
int mqtt_topic_level(const char *topic, unsigned index, char *out, size_t cap);

/* ---- Inbound queue ------------------------------------------------------------------------ */

/* A received message, owned by whoever popped it (free with mqtt_msg_free). */
struct mqtt_msg {
	struct mqtt_msg *next; /* private */
	char *topic;
	uint8_t *
	        payload; /* len bytes followed by a NUL (so text payloads can be used as strings) */
	size_t len;
};

void mqtt_msg_free(struct mqtt_msg *m);

struct mqtt_queue;

/* A bounded FIFO of messages, safe between any number of producer and consumer threads.
 * max_msgs 0 means 100000. Returns FUOTA_OK or FUOTA_ERR_NO_MEMORY. */
int mqtt_queue_create(size_t max_msgs, struct mqtt_queue **out);
/* Frees the queue and any message still in it. Accepts NULL. No thread may use it any more. */
void mqtt_queue_destroy(struct mqtt_queue *q);
/* Copies a message in. FUOTA_ERR_NO_SPACE when the queue is full, FUOTA_ERR_NO_MEMORY. */
int mqtt_queue_push(struct mqtt_queue *q, const char *topic, const uint8_t *payload, size_t len);
/* An mqtt_msg_cb that pushes into the struct mqtt_queue given as ctx (a full queue makes the
 * client offer the message again later). */
int mqtt_queue_on_message(void *ctx, const char *topic, const uint8_t *payload, size_t len);
/* Takes the oldest message, waiting up to timeout_ms (0: do not wait). Returns FUOTA_OK with
 * *out set, or FUOTA_ERR_TIMEOUT with *out NULL. */
int mqtt_queue_pop(struct mqtt_queue *q, uint32_t timeout_ms, struct mqtt_msg **out);
/* Messages waiting. */
size_t mqtt_queue_len(struct mqtt_queue *q);
/* Wakes every thread blocked in mqtt_queue_pop (they return FUOTA_ERR_TIMEOUT), e.g. on shutdown.
 */
void mqtt_queue_wake(struct mqtt_queue *q);

#endif
