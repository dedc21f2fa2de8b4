/* The runner's reading of the gateways' modem states ({prefix}/gateway/{id}/state/modem, published
 * retained by fuota-gw, gateway/include/fuota/gw_state.h): checked, stored for the API, and a
 * malformed one logged once per gateway (until it publishes a good one again) and ignored. */
#ifndef FUOTA_ENGINE_GWMODEM_H
#define FUOTA_ENGINE_GWMODEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct engine;
struct mqtt_client;

#define ENGINE_GWMODEM_FILTERS 16

/* The gateways whose last state message was malformed (logged already), and the modem-update
 * runner's state (engine_gwupdate.c). Zeroed to start, then engine_gwmodem_attach. */
struct engine_gwmodem {
	char (*bad)[17];
	size_t n_bad, cap_bad;
	uint64_t malformed;                         /* malformed messages ignored, logged or not */
	struct engine *engine;                      /* integration events go through it */
	struct mqtt_client *mqtt;                   /* commands (retained) go straight to it */
	char ev_filter[ENGINE_GWMODEM_FILTERS][96]; /* {prefix}/gateway/+/event/modem-update */
	size_t n_ev;
	int64_t next_due_ms, next_sessions_ms;
	uint64_t bad_events;
};

/* A state message of gateway gw (16 lower-case hex digits, from topic
 * {prefix}/gateway/{gw}/state/modem), read at now_ms. Its prefix is kept (the gateway's
 * commands go there) and an update it says runs is recorded. Returns FUOTA_OK when stored,
 * FUOTA_ERR_MALFORMED when ignored (an empty payload, the retained message cleared, is ignored
 * silently), or the store's error. */
int engine_gwmodem_on(struct engine_gwmodem *g, struct store *s, const char *topic, const char *gw,
                      const uint8_t *payload, size_t len, int64_t now_ms);

/* engine_gwupdate.c: modem updates driven through fuota-gw. */
/* The engine (for integration events) and the MQTT client (for commands) to use. */
void engine_gwmodem_attach(struct engine_gwmodem *g, struct engine *e, struct mqtt_client *m);
/* Subscribes {prefix}/gateway/+/event/modem-update (shared by group: each report handled
 * once) into queue (mqtt_queue_on_message). */
int engine_gwmodem_subscribe(struct engine_gwmodem *g, const char *group, const char *prefix,
                             void *queue);
/* A message on topic: true when it was a modem-update report (handled: the update's row
 * changed, an integration event published; a malformed one logged and dropped). */
bool engine_gwmodem_dispatch(struct engine_gwmodem *g, struct store *s, const char *topic,
                             const uint8_t *payload, size_t len, int64_t now_ms);
/* The runner's periodic work at now_ms: due updates asked to the policy again and started or
 * postponed, queued commands published, every gateway's session windows published when they
 * changed. */
void engine_gwmodem_tick(struct engine_gwmodem *g, struct store *s, int64_t now_ms);
/* The modem update fuotad publishes as JSON (command/modem-update), malloc'd; NULL when out of
 * memory. Fields that do not apply are left out. */
struct seng_modem_cmd;
char *engine_gwmodem_cmd_json(const struct seng_modem_cmd *c);
/* state/modem said an update runs: recorded when news (engine_gwmodem_on). */
struct gw_modem_state;
void engine_gwmodem_state_update(struct engine_gwmodem *g, struct store *s, const char *gw,
                                 const struct gw_modem_state *st, int64_t now_ms);

/* Frees what g holds; g may be zeroed or NULL. */
void engine_gwmodem_free(struct engine_gwmodem *g);

#endif
