/* The MQTT runner's private parts, shared by its three files:
 *   engine_mqtt.c        the runner's life: configuration, subscriptions, the thread's loop,
 *                        the broker connection watch, start and stop;
 *   engine_mqtt_batch.c  inbound messages in database batches, the retry list while the database
 *                        is away, and the publishes held until a batch commits;
 *   engine_mqtt_msg.c    what each inbound message means: uplinks, gateway acks, stats and modem
 *                        states, and the gateways' encodings.
 * Calls go one way only: engine_mqtt.c -> engine_mqtt_batch.c -> engine_mqtt_msg.c. */
#ifndef FUOTA_ENGINE_RUNNER_H
#define FUOTA_ENGINE_RUNNER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/cs_msg.h"
#include "fuota/engine_mqtt.h"
#include "fuota/mqtt.h"
#include "fuota/outage.h"
#include "engine_gwenc.h"
#include "engine_gwmodem.h"
#include "engine_instance.h"

/* Region prefixes the runner subscribes for at most. */
#define GW_FILTERS 16

/* What the engine thread did since the last stats line (logged at info every 10 s while busy):
 * how far the inbound queue falls behind is the first thing to look at when a large job fails. */
struct runner_stats {
	int64_t since_ms;
	uint64_t uplinks, acks, batches, failed, unreadable;
	int64_t uplink_us, tick_us;
	size_t queue_max;
};

/* A message the engine published during a batch: sent once the batch is committed. */
struct pending_pub {
	char *topic;
	uint8_t *payload;
	size_t len;
};

struct engine_runner {
	struct engine *engine;
	struct store *store;      /* owned when own_store */
	struct mqtt_client *mqtt; /* owned when own_mqtt */
	bool own_store, own_mqtt;
	struct mqtt_queue *queue;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	char up_filter[192];
	/* Per region: {prefix}/gateway/+/event/ack, .../event/stats, .../command/down. */
	char gw_ack[GW_FILTERS][96], gw_stats[GW_FILTERS][96], gw_down[GW_FILTERS][96];
	char gw_modem[GW_FILTERS][96]; /* .../state/modem (fuota-gw's, retained) */
	size_t n_gw_filters;
	struct engine_gwmodem modems;
	bool gw_json_default;
	struct engine_gwenc gws;
	struct runner_stats st;
	/* Set by the runner thread itself: publishes of that thread while batching wait in pend. */
	pthread_t self;
	bool batching;
	uint64_t item_seq, batch_first; /* items handled, the first of the open batch */
	struct pending_pub *pend;
	size_t n_pend, cap_pend;
	/* The instance id and its lock (owned; no lock with engine_runner_start_with). */
	struct engine_instance inst;
	atomic_bool refused; /* another process holds the id now: stopped for good */
	/* Messages whose database work was undone because the server went away (retry_keep). */
	struct mqtt_msg **retry;
	size_t n_retry, cap_retry, retry_dropped;
	/* The broker connection as last seen (mqtt_watch). */
	struct outage mqtt_out;
	uint32_t mqtt_connects;
	size_t mqtt_outbox; /* messages not yet handed to the broker, at the last mqtt_watch */
	bool mqtt_up;       /* connected to the broker at the last mqtt_watch */
	int64_t started_ms;
};

/* engine_mqtt_batch.c */

/* The engine's publish callback (ctx: the runner). A downlink to a gateway that speaks JSON goes
 * in JSON; while the runner thread batches, the message is held until the batch commits (its
 * *seq then UINT64_MAX: not in the client's outbox yet). */
int engine_runner_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len,
                          uint64_t *seq);

/* Handles m and up to BATCH_MAX - 1 more messages (from the queue, or from list when it replays
 * kept ones, list[*pos] on) in one database transaction. Owns the messages it takes. Returns how
 * many it took. */
int engine_runner_handle_batch(struct engine_runner *r, struct mqtt_msg *m, struct mqtt_msg **list,
                               size_t n_list, size_t *pos);

/* The messages kept while the database was away, handled again once it is back. */
void engine_runner_retry_run(struct engine_runner *r);

/* Drops the held publishes from index `from` on (not sent). */
void engine_runner_pending_drop(struct engine_runner *r, size_t from);

/* engine_mqtt_msg.c */

/* Acts on one inbound message (an uplink, or a gateway's ack, stats or modem state). */
void engine_runner_dispatch(struct engine_runner *r, const struct mqtt_msg *m);

/* The gateways stored by the batch items from seq first on were not stored after all (the items
 * were undone): stored again when next heard. */
void engine_runner_gw_unstored(struct engine_runner *r, uint64_t first);

/* A frame the engine publishes on topic: when topic is a gateway's command/down and that gateway
 * speaks JSON, the same DownlinkFrame in JSON into *text (malloc'd; *payload and *len then point
 * at it), else *text NULL and the frame as it is. Returns FUOTA_OK or the error that stops it. */
int engine_runner_gw_frame(struct engine_runner *r, const char *topic, const uint8_t **payload,
                           size_t *len, char **text);

#endif
