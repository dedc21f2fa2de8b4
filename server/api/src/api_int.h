/* Private to the api_*.c files: the context, one call's state, and response helpers. */
#ifndef FUOTA_API_INT_H
#define FUOTA_API_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "fuota/api.h"
#include "fuota/api_error.h"
#include "fuota/cbox.h"

#define API_MAX_STATUSES 16
#define API_N_BUCKETS    12
#define API_TOKEN_CACHE  256
#define API_PAGE_DEFAULT 50
#define API_PAGE_MAX     500
#define API_OFFSET_MAX   1000000000ul

struct api_route_metrics {
	int status[API_MAX_STATUSES];
	unsigned long count[API_MAX_STATUSES];
	unsigned long bucket[API_N_BUCKETS]; /* cumulative at render time, per bucket here */
	unsigned long total;
	double sum_s;
};

struct api_token_slot {
	uint8_t hash[CBOX_HASH_LEN];
	struct store_auth auth;
	uint64_t expires_ms; /* 0: empty */
};

struct api_ctx {
	struct store *store;
	const struct cfg *cfg;
	pthread_mutex_t metrics_lock;
	struct api_route_metrics *metrics; /* api_route_count() + 1 (unmatched) */
	pthread_mutex_t cache_lock;
	struct api_token_slot cache[API_TOKEN_CACHE];
	/* Under cache_lock. cache_gen grows with every drop: a lookup that began before one does
	 * not put its (maybe revoked) answer in the cache. With a revocation listener
	 * (api_listen_start), the cache is used only while it listens (listen_armed). */
	uint64_t cache_gen;
	bool listen_mode, listen_armed;
	struct store_listener *listener;
	struct api_sse *sse; /* the live event streams (api_sse.c) */
};

struct api_call {
	struct api_ctx *api;
	const struct api_request *req;
	struct api_response *resp;
	struct store_auth auth;
	const char *param; /* the {id} or {dev_eui} segment, NUL-terminated copy */
};

/* Responses. json_text is taken over (freed) by the response. */
void api_reply_text(struct api_call *c, int status, char *json_text);
void api_reply_error(struct api_call *c, const struct api_error *e);
void api_reply(struct api_call *c, int status, const char *code, const char *field, const char *fmt,
               ...) __attribute__((format(printf, 5, 6)));
/* Maps a store return code to 404 / 409 / 500 (rc != FUOTA_OK). what names the object. */
void api_reply_store_error(struct api_call *c, int rc, const char *what);
/* A list page: {"items": json_items, "limit": l, "offset": o}; json_items is freed. */
void api_reply_list(struct api_call *c, char *json_items, unsigned limit, unsigned long offset);

/* CLOCK_MONOTONIC in ms. */
uint64_t api_now_ms(void);
/* A decimal number of at most max, one spelling each: digits only, no leading zero ("0" is
 * one). */
bool api_parse_u64(const char *s, unsigned long long max, unsigned long long *out);
/* limit (1..API_PAGE_MAX, default API_PAGE_DEFAULT) and offset (0..API_OFFSET_MAX) from the
 * query string; false after replying 400. */
bool api_paging(struct api_call *c, unsigned *limit, unsigned long *offset);
/* The same and the cursor after (a positive id; absent: 0). */
bool api_page_params(struct api_call *c, struct store_paging *pg);
/* {"items": [...], "limit": l, "offset": o, "next_after": id of the last item when the page is
 * full, else null}; page->items is freed. */
void api_reply_page(struct api_call *c, struct store_page *page, const struct store_paging *pg);
/* The {id} segment as a positive integer; false after replying 404. */
bool api_param_id(struct api_call *c, int64_t *id);
/* The path segment as an EUI (16 hex digits), lowercased into out (EUIs in paths are accepted
 * in either case and stored lowercase); false after replying 404 with not_found as the message.
 * (api_device.c) */
bool api_param_eui(struct api_call *c, char out[17], const char *not_found);
/* The {dev_eui} segment (api_param_eui, "device not found"). */
bool api_param_deveui(struct api_call *c, char out[17]);
/* The Content-Type header or "". */
const char *api_content_type(struct api_call *c);

void api_token_cache_clear(struct api_ctx *a);
/* Drops the cached entries of token id (api_listen.c: a revocation through any instance). */
void api_token_cache_drop(struct api_ctx *a, int64_t token_id);

/* Handlers (one file per resource). */
void api_h_me(struct api_call *c);
void api_h_tenant_create(struct api_call *c);
void api_h_tenant_list(struct api_call *c);
void api_h_tenant_get(struct api_call *c);
void api_h_token_create(struct api_call *c);
void api_h_token_list(struct api_call *c);
void api_h_token_revoke(struct api_call *c);
void api_h_firmware_create(struct api_call *c);
void api_h_firmware_list(struct api_call *c);
void api_h_firmware_get(struct api_call *c);
void api_h_firmware_delete(struct api_call *c);
void api_h_device_create(struct api_call *c);
void api_h_device_list(struct api_call *c);
void api_h_device_get(struct api_call *c);
void api_h_device_delete(struct api_call *c);
void api_h_gateway_list(struct api_call *c);
void api_h_gateway_modem_plan(struct api_call *c); /* api_gwmodem.c */
/* The session-window policy's answer for gateway gw (api_gwmodem.c): the jobs that count on it
 * read (*jobs malloc'd, *n), rq asked at rq->now_ms. False after replying (404: the tenant does
 * not see gw; 500). */
struct modem_request;
struct modem_plan;
struct store_gw_job;
bool api_modem_plan_for(struct api_call *c, const char *gw, struct modem_request *rq,
                        struct modem_plan *p, struct store_gw_job **jobs, size_t *n);
/* CLOCK_REALTIME in ms. */
int64_t api_wall_ms(void);
/* Modem updates (api_gwupdate.c). */
void api_h_modem_update_create(struct api_call *c);
void api_h_modem_update_list(struct api_call *c);
void api_h_modem_update_get(struct api_call *c);
void api_h_modem_update_pause(struct api_call *c);
void api_h_modem_update_resume(struct api_call *c);
void api_h_modem_update_cancel(struct api_call *c);
void api_h_job_create(struct api_call *c);
void api_h_job_plan(struct api_call *c);
void api_h_job_list(struct api_call *c);
void api_h_job_get(struct api_call *c);
void api_h_job_delete(struct api_call *c);
void api_h_job_devices(struct api_call *c);
void api_h_job_events(struct api_call *c);
void api_h_job_cancel(struct api_call *c);
void api_h_job_pause(struct api_call *c);
void api_h_job_resume(struct api_call *c);
void api_h_job_stream(struct api_call *c);
void api_h_job_summary(struct api_call *c);
void api_h_device_jobs(struct api_call *c);
void api_h_regions(struct api_call *c);
/* A device step's name as ?step= gives it: a lowercase word of 1..32 letters or '_'. */
bool api_step_valid(const char *step);

/* The live streams' slots ([http] sse_*), made by api_create. FUOTA_OK or NO_MEMORY. */
int api_sse_create(struct api_ctx *a);
void api_sse_destroy(struct api_ctx *a);
/* POST /jobs/{id}/retry: a new job for the devices of a finished job that did not get the
 * image (store_job_retry); 201 with the new job, 409 naming why not. */
void api_h_job_retry(struct api_call *c);
void api_h_healthz(struct api_call *c);
void api_h_readyz(struct api_call *c);
void api_h_metrics(struct api_call *c);
void api_h_openapi(struct api_call *c);

/* Prometheus text of the request metrics (api.c), appended to by api_h_metrics. */
char *api_metrics_text(struct api_ctx *a);

#endif
