/* Modem firmware updates of the gateways (sql/040_modem_update.sql): what the API writes and
 * reads (store_modem_update_*) and what the engine's runner does with them (seng_modem_*).
 * JSON answers are malloc'd (caller frees). Times are Unix ms. */
#ifndef FUOTA_STORE_MODEM_H
#define FUOTA_STORE_MODEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/store.h"

/* fuota-gw's report of a step (event/modem-update, gw_update_event in gw_state.h). */
struct seng_modem_report {
	int64_t id;                 /* the command it answers; 0: the gateway's own update */
	const char *state, *method; /* required */
	int progress;               /* -1: not said */
	int64_t deferred_until_s;   /* 0: not said */
	const char *firmware_before, *firmware, *error; /* "" or NULL: not said */
};

/* A new update of gateway gw's modem, as the API checked it. */
struct store_modem_new {
	const char *gw;
	const char *method;         /* ufota, foat, http, ftp, uart */
	const char *url, *package;  /* NULL when the method takes none */
	const char *md5;            /* NULL: none */
	int64_t image_size;         /* bytes, for the policy's duration */
	int64_t requested_start_ms; /* 0: as soon as the policy allows */
	int64_t planned_start_ms;   /* the policy's answer (or the request, later) */
	const char *note;           /* why it is planned then (NULL: no note) */
	int64_t now_ms;
};

/* Creates it for tenant (state scheduled); *json: the update as GET shows it.
 * FUOTA_ERR_CONFLICT when an update of that modem is scheduled or under way already. */
STORE_MUST_CHECK int store_modem_update_create(struct store *s, int64_t tenant,
                                               const struct store_modem_new *u, char **json);
/* Whether an update of gw's modem is under way (any tenant's, or the gateway's own), or with
 * scheduled, also one waiting for its start: *busy. */
STORE_MUST_CHECK int store_modem_update_pending(struct store *s, const char *gw, bool scheduled,
                                                bool *busy);
/* The updates of gw, newest first, limit from offset, as a JSON array. FUOTA_ERR_NOT_FOUND
 * when the tenant's devices were never heard through gw (the modem is shared by the tenants that
 * use the gateway, as for the :plan route). */
STORE_MUST_CHECK int store_modem_update_list(struct store *s, int64_t tenant, const char *gw,
                                             unsigned limit, unsigned long offset, char **json);
/* One update, seen under the same rule. FUOTA_ERR_NOT_FOUND otherwise. */
STORE_MUST_CHECK int store_modem_update_get(struct store *s, int64_t tenant, int64_t id,
                                            char **json);
/* "pause", "resume" or "cancel" of update id, by the tenant that created it: a command queued
 * for the engine to publish at once (a scheduled update is cancelled here, nothing to send).
 * FUOTA_OK with *json the update; FUOTA_ERR_STATE with *json the update's state (malloc'd
 * text) when the action does not apply to it; FUOTA_ERR_NOT_FOUND when the tenant may not see
 * it; FUOTA_ERR_CONFLICT when it sees it but did not create it (or fuota-gw started it). */
STORE_MUST_CHECK int store_modem_update_action(struct store *s, int64_t tenant, int64_t id,
                                               const char *action, int64_t now_ms, char **json);

/* ---- the engine's side ---- */

/* Where gateway gw's messages are: prefix ("eu868") of its state/modem topic. */
STORE_MUST_CHECK int seng_modem_prefix_set(struct store *s, const char *gw, const char *prefix);

/* A scheduled update whose planned start has come, claimed for a minute by the caller. */
struct seng_modem_due {
	int64_t id;
	int64_t tenant_id; /* the update's tenant, 0: none (a gateway's own) */
	char gw[17], method[8];
	int64_t image_size, planned_ms;
};
/* The next one due at now_ms: FUOTA_OK, FUOTA_ERR_NOT_FOUND when none. */
STORE_MUST_CHECK int seng_modem_due_claim(struct store *s, int64_t now_ms,
                                          struct seng_modem_due *out);
/* It starts: state sent and a start command queued. */
STORE_MUST_CHECK int seng_modem_due_start(struct store *s, int64_t id, int64_t now_ms);
/* It waits until at_ms, why in its note. */
STORE_MUST_CHECK int seng_modem_due_postpone(struct store *s, int64_t id, int64_t at_ms,
                                             const char *why, int64_t now_ms);

/* A command to publish on {prefix}/gateway/{gw}/command/modem-update. */
struct seng_modem_cmd {
	int64_t id, update_id;
	char gw[17], prefix[64], action[8], method[8], md5[33];
	char url[1024], package[256]; /* "" when none */
	bool resent;                  /* published before, not answered */
};
/* Claims up to max unpublished commands of gateways whose prefix is known, oldest first, marked
 * published at now_ms; *n of them. A gateway's latest command is taken again, resent, while
 * its update is still "sent" SENG_MODEM_RESEND_MS after it was published: a publish lost (fuotad
 * stopped before the broker had it) would otherwise leave the update "sent" for ever. */
#define SENG_MODEM_RESEND_MS (5 * 60 * 1000)
STORE_MUST_CHECK int seng_modem_cmds_take(struct store *s, int64_t now_ms,
                                          struct seng_modem_cmd *out, size_t max, size_t *n);
/* Gives one back unpublished (the publish failed). */
STORE_MUST_CHECK int seng_modem_cmd_untake(struct store *s, int64_t cmd_id);

/* fuota-gw's report ev about gw's modem update: the update it answers (by command id; id 0:
 * the gateway's own active one, created when none) updated. *json the update's row as the
 * API shows it (for the integration event), *tenant its tenant (0: the gateway's own).
 * FUOTA_ERR_NOT_FOUND when the id is no command of ours to gw. */
STORE_MUST_CHECK int seng_modem_event(struct store *s, const char *gw,
                                      const struct seng_modem_report *ev, int64_t now_ms,
                                      int64_t *tenant, char **json);
/* state/modem said an update runs (id, state, method, progress): recorded as seng_modem_event
 * does, unless it changes nothing. *json NULL when nothing changed. */
STORE_MUST_CHECK int seng_modem_state_update(struct store *s, const char *gw, int64_t id,
                                             const char *state, const char *method, int progress,
                                             int64_t now_ms, int64_t *tenant, char **json);

/* An update fuota-gw went silent on: one sent, starting, downloading, installing or deferred
 * (past its deferredUntil) with no report about it and no state/modem from its gateway for
 * SENG_MODEM_SILENT_MS. Ends the oldest such update as failed and queues a cancel in place of
 * its retained start (a gateway back later drops the start that waits); its id and gateway in
 * *id and gw. FUOTA_ERR_NOT_FOUND when there is none. */
#define SENG_MODEM_SILENT_MS (INT64_C(24) * 3600 * 1000)
STORE_MUST_CHECK int seng_modem_silent_end(struct store *s, int64_t now_ms, int64_t *id,
                                           char gw[17]);
/* Whether gw's retained command/modem-update is to be cleared: it had commands and every
 * update they were for has ended. FUOTA_OK with the gateway's topic prefix in prefix,
 * FUOTA_ERR_NOT_FOUND when not. */
STORE_MUST_CHECK int seng_modem_cmds_over(struct store *s, const char *gw, char prefix[64]);
/* Update id as the API shows it (*json) and its tenant (0: the gateway's own). */
STORE_MUST_CHECK int seng_modem_update_json(struct store *s, int64_t id, int64_t *tenant,
                                            char **json);
/* The tenants whose devices gw heard (those that see its modem); *ids malloc'd, *n. */
STORE_MUST_CHECK int seng_modem_gw_tenants(struct store *s, const char *gw, int64_t **ids,
                                           size_t *n);

/* The unfinished jobs of every tenant that count on gw (as store_gateway_jobs, unchecked). */
STORE_MUST_CHECK int seng_gateway_jobs(struct store *s, const char *gw, struct store_gw_job **out,
                                       size_t *n);
/* One fuota-gw gateway (a known prefix) with the unfinished jobs that count on it and the
 * session windows last published to it (sent: malloc'd, NULL when none). */
struct seng_gw_sessions {
	char gw[17], prefix[64];
	char *sent;
	struct store_gw_job *jobs; /* malloc'd, n_jobs of them (as seng_gateway_jobs) */
	size_t n_jobs;
};
/* Every such gateway in one statement (command/sessions for all gateways every few seconds:
 * one query, not one per gateway): *out malloc'd, *n; free with seng_gw_sessions_free. */
STORE_MUST_CHECK int seng_modem_sessions_all(struct store *s, struct seng_gw_sessions **out,
                                             size_t *n);
void seng_gw_sessions_free(struct seng_gw_sessions *g, size_t n);
/* Records json as gw's published session windows; *changed when it differs from the last
 * (only then is it to be published: one instance wins the change). */
STORE_MUST_CHECK int seng_modem_sessions_mark(struct store *s, const char *gw, const char *json,
                                              bool *changed);
/* Forgets it (a publish failed: the next look publishes again). */
STORE_MUST_CHECK int seng_modem_sessions_unmark(struct store *s, const char *gw);

/* The modem updates of gateway gw that keep it from a multicast session: state/modem or one
 * of ours running, or ours scheduled, with the start (planned or actual) and method; *n. */
struct seng_modem_busy {
	char gw[17], method[8], state[16];
	int64_t start_ms, image_size;
};
STORE_MUST_CHECK int seng_modem_busy(struct store *s, const char (*gws)[17], size_t n_gws,
                                     struct seng_modem_busy **out, size_t *n);

/* Merges the JSON object patch into job job_id's plan (what the engine decided and says there,
 * e.g. the gateways it left out of the session). */
STORE_MUST_CHECK int seng_job_plan_note(struct store *s, int64_t job_id, const char *patch);

#endif
