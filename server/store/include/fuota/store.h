/* fuotad's PostgreSQL store: a pool of libpq connections, the migrations, and one function per
 * operation of the API. Every query is parameterised. Reads hand back JSON text, malloc'd, which
 * the API sends as it is; the caller frees it. Single objects are built by PostgreSQL
 * (json_build_object), list pages by store_rows.c from plain columns (several times cheaper).
 *
 * Return codes: FUOTA_OK; FUOTA_ERR_NOT_FOUND (no such object in that tenant);
 * FUOTA_ERR_CONFLICT (exists already, or in use); FUOTA_ERR_STATE (not allowed in the object's
 * state); FUOTA_ERR_IO (the database failed: logged, never the client's fault). */
#ifndef FUOTA_STORE_H
#define FUOTA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/plan.h"
#include "fuota/store_attr.h"
#include "fuota/job_retry.h"

struct store;

/* Opens pool_size connections to dsn. Returns FUOTA_OK or FUOTA_ERR_IO (message in err; the DSN's
 * password is never copied into it). */
STORE_MUST_CHECK int store_open(const char *dsn, unsigned pool_size, struct store **out, char *err,
                                size_t errlen);
void store_close(struct store *s);

/* The name in the lines that report the server unreachable and back ("database (label): ...";
 * a process with several pools tells them apart). A server that cannot be reached is reported
 * once when lost, once when back, and every 10 s between with the failures summed up. */
void store_set_label(struct store *s, const char *label);
/* Whether the server was found unreachable and has not answered since. */
bool store_down(struct store *s);

/* on (the default): each statement with parameters is prepared once per connection and run by
 * name. off: every statement is sent unnamed (parse, bind and run in one exchange), which works
 * through PgBouncer in transaction mode before 1.21, where a server connection, and so a named
 * statement, is not the client's from one transaction to the next. Call before the store is
 * used ([database] prepared_statements). */
void store_set_prepared(struct store *s, bool on);

/* Applies the migrations not yet recorded in schema_version, each in its own transaction, which
 * holds a transaction-level advisory lock so that two fuotad starting at once do not race (and
 * PgBouncer in transaction mode does not strand it). A migration that waits more than 2 s for a
 * table's lock or is aborted to break a deadlock (a running fuotad's transaction, in a rolling
 * upgrade) is tried again after 500 ms, up to 20 times, each logged. *applied (may be NULL) =
 * how many were applied now. */
STORE_MUST_CHECK int store_migrate(struct store *s, int *applied);

/* FUOTA_OK when the database answers and every embedded migration is applied. */
STORE_MUST_CHECK int store_ready(struct store *s);

/* ---- notifications (store_listen.c) ---- */

/* A thread with a connection of its own (opened from dsn, outside the pool) that LISTENs on
 * channel. on_notify(ctx, payload) is called for each notification; on_state(ctx, listening)
 * when the connection starts listening (false -> true) and when it is lost (true -> false):
 * notifications committed while it did not listen are missed, so the owner forgets, on both
 * calls, whatever one of them could have changed. A lost or silent connection (a ping every 5 s,
 * answered within 5 s) is replaced, retried every second. Both callbacks run on the listener's
 * thread. Returns FUOTA_OK (*out to stop with store_listen_stop) or FUOTA_ERR_NO_MEMORY. */
struct store_listener;
typedef void (*store_notify_fn)(void *ctx, const char *payload);
typedef void (*store_listen_state_fn)(void *ctx, bool listening);
STORE_MUST_CHECK int store_listen_start(const char *dsn, const char *channel,
                                        store_notify_fn on_notify, store_listen_state_fn on_state,
                                        void *ctx, struct store_listener **out);
/* Stops the thread and closes its connection. NULL is a no-op. */
void store_listen_stop(struct store_listener *l);

/* The channel of token revocations: the payload is the revoked token's id. */
#define STORE_CHANNEL_TOKEN_REVOKED "fuota_token_revoked"

/* A batch: the store calls the calling thread makes between store_batch_begin and store_batch_end
 * run in one transaction on one connection of the pool (the other threads use the others).
 * Its items (store_batch_item marks the start of each) are savepoints: a statement that fails
 * undoes the work of its item only, and store_batch_item_failed tells that item's caller so that
 * it does not act on it. store_batch_end commits (FUOTA_ERR_IO when that failed: nothing of the
 * batch is stored) and gives the connection back. BEGIN ... COMMIT of a store function inside a
 * batch is a savepoint of it. begin: FUOTA_ERR_STATE when a batch is open already. */
STORE_MUST_CHECK int store_batch_begin(struct store *s);
void store_batch_item(struct store *s);
bool store_batch_item_failed(struct store *s);
STORE_MUST_CHECK int store_batch_end(struct store *s);
/* Whether the batch should take another item: false once it cannot commit (its connection
 * broke) or it holds as many savepoints as PostgreSQL keeps cheaply in one transaction. */
bool store_batch_more(struct store *s);

/* ---- list pages ---- */
/* Which page of a list: at most limit rows, those after the cursor after (0: from the start; the
 * id of the last row of the previous page), then offset of them skipped. */
struct store_paging {
	unsigned limit;
	unsigned long offset;
	int64_t after;
};
/* One page: items is a malloc'd JSON array (the caller frees it) of count objects; last is the
 * order key of the last one ("" when empty), the after of the next page. */
struct store_page {
	char *items;
	size_t count;
	char last[24];
};

/* ---- tenants and tokens ---- */
struct store_auth {
	int64_t token_id;
	int64_t tenant_id;
	bool admin;
};
/* Looks a token up by its SHA-256; NOT_FOUND when unknown or revoked. */
STORE_MUST_CHECK int store_token_lookup(struct store *s, const uint8_t hash[32],
                                        struct store_auth *out);
/* Who token id is: {"tenant_id", "tenant_name", "admin", "token_id", "token_name"} (never the
 * token or its hash); NOT_FOUND when unknown or revoked. json: malloc'd. */
STORE_MUST_CHECK int store_token_whoami(struct store *s, int64_t id, char **json);
/* NOT_FOUND when the tenant does not exist. json: the token row without the secret. */
STORE_MUST_CHECK int store_token_create(struct store *s, int64_t tenant_id, const char *name,
                                        bool admin, const uint8_t hash[32], char **json);
/* tenant_id 0: every tenant. Pages by id, ascending (as the tenant and firmware lists). */
STORE_MUST_CHECK int store_token_list(struct store *s, int64_t tenant_id,
                                      const struct store_paging *pg, struct store_page *page);
/* Revokes token id and, in the same transaction, notifies STORE_CHANNEL_TOKEN_REVOKED with its
 * id (every fuotad listening drops it from its cache when the revocation commits). */
STORE_MUST_CHECK int store_token_revoke(struct store *s, int64_t id);
STORE_MUST_CHECK int store_tenant_create(struct store *s, const char *name, char **json);
STORE_MUST_CHECK int store_tenant_list(struct store *s, const struct store_paging *pg,
                                       struct store_page *page);
STORE_MUST_CHECK int store_tenant_get(struct store *s, int64_t id, char **json);

/* ---- firmware ---- */
STORE_MUST_CHECK int store_firmware_create(struct store *s, int64_t tenant, const char *name,
                                           const uint8_t *data, size_t len, char **json);
STORE_MUST_CHECK int store_firmware_list(struct store *s, int64_t tenant,
                                         const struct store_paging *pg, struct store_page *page);
STORE_MUST_CHECK int store_firmware_get(struct store *s, int64_t tenant, int64_t id, char **json);
STORE_MUST_CHECK int store_firmware_size(struct store *s, int64_t tenant, int64_t id, size_t *size);
/* CONFLICT while a job that is not finished uses it. The firmware row is locked before the check,
 * so a job being created with it either commits first (and is seen: CONFLICT) or finds the
 * firmware gone (store_job_create: NOT_FOUND); a job never loses its image. */
STORE_MUST_CHECK int store_firmware_delete(struct store *s, int64_t tenant, int64_t id);

/* ---- devices ---- */
struct store_device {
	char dev_eui[17];
	const char *application_id;
	const char *lorawan_version;
	char dev_class; /* 'A', 'B', 'C' */
	const char *region;
	const char *key_kind; /* "gen_app_key" or "app_key" */
	const uint8_t *key_box;
	size_t key_box_len;
	int ts003_version, ts004_version, ts005_version; /* 0 unknown, 1, 2 */
	int ts006_version;                               /* 0: no TS006 Firmware Management, 1 */
	const char *stack;                               /* NULL or "": "ts004" */
	int max_frags;                                   /* 0: unknown (NULL) */
};
STORE_MUST_CHECK int store_device_create(struct store *s, int64_t tenant,
                                         const struct store_device *d, char **json);
/* application_id NULL: every application. search NULL: every device, else those whose DevEUI
 * or application id holds it (case-insensitive, taken as plain text: no wildcard). */
STORE_MUST_CHECK int store_device_list(struct store *s, int64_t tenant, const char *application_id,
                                       const char *search, unsigned limit, unsigned long offset,
                                       char **json);
STORE_MUST_CHECK int store_device_get(struct store *s, int64_t tenant, const char *dev_eui,
                                      char **json);
/* The region (upper case) of each of the tenant's devices among the n DevEUIs (lowercase), as
 * {"dev_eui": "REGION", ...} (unknown DevEUIs left out), for a job across regions to give each
 * region its devices. *json malloc'd. INVALID_ARG: a DevEUI not 16 lowercase hex digits.
 * (store_job_regions.c) */
STORE_MUST_CHECK int store_device_regions(struct store *s, int64_t tenant,
                                          const char (*dev_euis)[17], size_t n, char **json);
/* What a job's n devices (lowercase DevEUIs) tell its plan, read in one query: {"regions": the
 * distinct regions (upper case) of the tenant's devices among them, for the job's default region
 * (job_defaults_region), "limits": [{dev_eui, stack, max_frags}] for those with a fragment limit
 * or a stack other than ts004} (unknown DevEUIs are left out of both). *json malloc'd.
 * INVALID_ARG: a DevEUI not 16 lowercase hex digits. */
STORE_MUST_CHECK int store_job_device_facts(struct store *s, int64_t tenant,
                                            const char (*dev_euis)[17], size_t n, char **json);
/* CONFLICT while a job that is not finished includes it (locked first, as firmware is). */
STORE_MUST_CHECK int store_device_delete(struct store *s, int64_t tenant, const char *dev_eui);

/* A job that counts on a gateway (store_gateway_sessions). */
struct store_gw_job {
	int64_t job_id, tenant_id;
	int64_t session_start_ms; /* 0: not fixed yet */
	int64_t start_at_ms;      /* the job's requested start, 0: none */
	int64_t timeout_s;        /* multicast_timeout_s: the session's length */
	char mc_class;            /* 'B' or 'C' */
};

/* The unfinished jobs (pending, running, paused) of every tenant that count on gateway gw: its
 * id is in their gateway set, or it heard one of their devices. FUOTA_ERR_NOT_FOUND when the
 * tenant's devices were never heard through gw. *out malloc'd (caller frees), *n entries. */
STORE_MUST_CHECK int store_gateway_jobs(struct store *s, int64_t tenant, const char *gw,
                                        struct store_gw_job **out, size_t *n);

/* Gateways that heard the tenant's devices, from what the job engine records of every uplink
 * (engine_device_gateway): gateway_id, device_count, best_quality (RSSI + SNR), last_seen,
 * encoding, live_jobs (the tenant's unfinished jobs with a device it heard), modem (the state
 * its fuota-gw last published, gateway_modem; null when none). By gateway_id. Read-only. */
STORE_MUST_CHECK int store_gateway_list(struct store *s, int64_t tenant, unsigned limit,
                                        unsigned long offset, struct store_page *page);

/* ---- jobs ---- */
struct store_job_create {
	const struct job_params *params;
	const char *plan_json;
	int64_t firmware_id;
	int64_t parent_id;        /* a region's child job: its parent (0: none) */
	const char *regions_json; /* a parent job: its regions as created (NULL: any other job) */
};
/* Checks every DevEUI (exists in the tenant, same region as the job) and inserts the job and its
 * devices with one statement each, in one transaction that holds the firmware row (KEY SHARE).
 * On a bad device returns FUOTA_ERR_INVALID_ARG with bad_dev_eui (17 bytes) and why (64 bytes):
 * "malformed" (not 16 lowercase hex digits), "unknown" or the device's region. NOT_FOUND: the
 * firmware is not (or no longer) the tenant's. CONFLICT: a device was deleted while the job was
 * being created. */
STORE_MUST_CHECK int store_job_create(struct store *s, int64_t tenant,
                                      const struct store_job_create *j, char **json,
                                      char *bad_dev_eui, char *why);
/* One job across regions (fuota/job_regions.h): the parent job (parent->params: the job's
 * fields, region the regions' names, no devices; regions_json set) and its n children (each
 * an ordinary job of one region with that region's devices, checked as store_job_create
 * checks them), in one transaction. *json = the parent as GET /jobs/{id} shows it. Errors as
 * store_job_create. */
STORE_MUST_CHECK int store_job_create_regions(struct store *s, int64_t tenant,
                                              const struct store_job_create *parent,
                                              const struct store_job_create *children, size_t n,
                                              char **json, char *bad_dev_eui, char *why);
/* state NULL: every state. children false: the regions' child jobs (parent_id set) are left
 * out, their parent stands for them. Newest first (pg->after: jobs with a smaller id). Each item is
 * the job's summary (no plan and no transmission parameters: GET /jobs/{id} has those). */
STORE_MUST_CHECK int store_job_list(struct store *s, int64_t tenant, const char *state,
                                    bool children, const struct store_paging *pg,
                                    struct store_page *page);
STORE_MUST_CHECK int store_job_get(struct store *s, int64_t tenant, int64_t id, char **json);
STORE_MUST_CHECK int store_job_devices(struct store *s, int64_t tenant, int64_t id, unsigned limit,
                                       unsigned long offset, char **json);
STORE_MUST_CHECK int store_job_events(struct store *s, int64_t tenant, int64_t id, unsigned limit,
                                      unsigned long offset, char **json);
/* action: "cancel", "pause", "resume". STATE when the job's state does not allow it. */
STORE_MUST_CHECK int store_job_action(struct store *s, int64_t tenant, int64_t id,
                                      const char *action, char **json);
/* Retry the failed (issue 14): a new job for the devices of job id that are not done and still
 * the tenant's in the job's region, with its image and settings, retry_of = id, pending (start at
 * once). OK: *new_id. STATE: job_retry_decide refused, *verdict and why (cap bytes) say why.
 * NOT_FOUND: not the tenant's job. CONFLICT: a device was deleted meanwhile. */
STORE_MUST_CHECK int store_job_retry(struct store *s, int64_t tenant, int64_t id, int64_t *new_id,
                                     enum job_retry_verdict *verdict, char *why, size_t cap);
/* STATE unless the job is finished (succeeded, failed, cancelled). CONFLICT for a region's child
 * job: it goes with its parent (whose delete deletes its children). */
STORE_MUST_CHECK int store_job_delete(struct store *s, int64_t tenant, int64_t id);
/* Prometheus lines "fuota_jobs{state=\"x\"} n\n" for every state, all tenants. */
STORE_MUST_CHECK int store_job_counts(struct store *s, char **text);

#endif
