/* fuota-gw's messages of its own making, pure: the topics it uses, ChirpStack's gw.ConnState
 * (state/conn, retained, also the last will), and the modem-state message fuota adds for fuotad.
 *
 * The modem state is published retained, in JSON, on {prefix}/gateway/{id}/state/modem whenever
 * it changes (gw_modem_changed), so fuotad and an operator's dashboard always find the latest:
 *   {"gatewayId":"0102030405060708","firmware":"03.15","app":"A00.01","imei":"004999010640000",
 *    "registration":"home","cellId":"01A2D001","tac":"0001","act":7,"operator":"fuota-sim",
 *    "rssiDbm":-73,"csq":20,"ber":99,"linkUp":true,"queueDepth":0,"queueDropped":0,
 *    "relaySessions":1}
 * rssiDbm is absent when the module does not know it (+CSQ 99). While a module firmware update
 * runs it also carries "update":{"id":7,"state":"downloading","method":"http","progress":40}
 * (absent otherwise): id is fuotad's command id (command/modem-update), 0 for an update fuotad
 * did not start (a uFOTA push). */
#ifndef FUOTA_GW_STATE_H
#define FUOTA_GW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "{prefix}/gateway/{id}/{kind}/{name}" (no prefix level when prefix is NULL or "") into out.
 * FUOTA_ERR_NO_SPACE when it does not fit; FUOTA_ERR_INVALID_ARG for an empty id or a level
 * holding '/', '+' or '#'. */
int gw_topic(char *out, size_t cap, const char *prefix, const char *gateway_id, const char *kind,
             const char *name);

/* gw.ConnState (CHIRPSTACK-NOTES §9.5: state = 2, gateway_id = 3) in binary protobuf or JSON,
 * malloc'd (caller frees). */
int gw_conn_state(const char *gateway_id, bool online, bool json, uint8_t **out, size_t *out_len);

/* A modem update under way or waiting (deferred), shown as "update" in state/modem:
 *   "update":{"id":7,"state":"installing","method":"uart","progress":40}
 * (id 0 for an update fuotad did not start; progress absent when unknown). */
struct gw_modem_update {
	int64_t id;
	char state[16];
	char method[8];
	int progress; /* -1 unknown */
	bool active;
};

struct gw_modem_state {
	char gateway_id[17];
	char firmware[24], app[24], imei[20];
	int reg_stat; /* +CEREG stat (0..10), -1 unknown */
	char ci[12], tac[8];
	int act;       /* -1 unknown */
	char oper[33]; /* "" when not registered */
	int csq, ber;  /* +CSQ values, 99 unknown */
	bool link_up;  /* the PDP context carries the backhaul */
	uint64_t queue_depth, queue_dropped, relay_sessions;
	struct gw_modem_update update; /* absent from the JSON unless active */
};

/* The registration state's name: "not", "home", "searching", "denied", "unknown", "roaming",
 * or "stat-<n>" for the rest (buf holds the latter; cap ≥ 12). */
const char *gw_reg_name(int stat, char *buf, size_t cap);
/* Whether b is worth publishing after a: any modem field, the link, the queue going from empty
 * to not or back, drops, or the update (its state, or its progress by 10 points). Queue depth alone
 * changes every second under load and is not. */
bool gw_modem_changed(const struct gw_modem_state *a, const struct gw_modem_state *b);
/* What one look at the modem state came to (fuota-gw looks every --state-s seconds). */
enum gw_state_look {
	GW_STATE_SENT,    /* a changed state accepted by the MQTT client (in its outbox) */
	GW_STATE_SAME,    /* nothing new to say, or no broker connection (a reconnection says it) */
	GW_STATE_REFUSED, /* a changed state refused: outbox full, connection just gone */
};
/* The wait after a refused state/modem; it doubles at each further refusal in a row. */
#define GW_STATE_RETRY_MS 1000
/* When (monotonic ms) to look at the modem state next, after a look at now_ms that came to
 * look, the refusals-th refused in a row (counted only for GW_STATE_REFUSED; 0 read as 1). Sent
 * or same: every_ms later. Refused: GW_STATE_RETRY_MS, doubled for each earlier refusal in the
 * row, never more than every_ms; soon, so that a changed state does not wait a whole period,
 * but never at once (each look asks the modem a few AT commands). */
int64_t gw_state_next_ms(enum gw_state_look look, unsigned refusals, int64_t now_ms,
                         uint32_t every_ms);
/* The JSON message above, malloc'd NUL-terminated. */
int gw_modem_to_json(const struct gw_modem_state *st, char **out, size_t *out_len);
/* Reads it back (fuotad's side): gatewayId required (16 hex digits), every other field optional
 * with its type checked. FUOTA_ERR_MALFORMED with a message in err. */
int gw_modem_from_json(const char *buf, size_t len, struct gw_modem_state *out, char *err,
                       size_t errlen);

/* The states of an update as event/modem-update and state/modem name them: deferred, starting,
 * downloading, installing, done, failed, paused, cancelled, rejected. */
bool gw_update_state_valid(const char *s);
/* The update methods: ufota, foat, http, ftp, uart. */
bool gw_update_method_valid(const char *s);

/* fuota-gw's report of one step of a modem update, on {prefix}/gateway/{id}/event/modem-update
 * (QoS 1, not retained):
 *   {"id":7,"state":"installing","method":"http","progress":100,"deferredUntil":1765000000,
 *    "firmwareBefore":"03.15","firmware":"03.16","error":"..."}
 * id: the command id it answers (0: an update fuotad did not start, e.g. a uFOTA push); state
 * and method required, the rest optional. An error text longer than the field is cut (at a
 * UTF-8 character boundary), not refused: the report matters more than its last words. */
struct gw_update_event {
	int64_t id;
	char state[16], method[8];
	int progress;             /* -1 absent */
	int64_t deferred_until_s; /* 0 absent */
	char firmware_before[24]; /* "" absent */
	char firmware[24];        /* "" absent */
	char error[160];          /* "" absent */
};

/* Reads it (fuotad's side). FUOTA_ERR_MALFORMED with the field named in err. */
int gw_update_event_from_json(const char *buf, size_t len, struct gw_update_event *out, char *err,
                              size_t errlen);

#endif
