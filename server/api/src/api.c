/* Routing, authentication, metrics and response helpers of the REST API. */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api_int.h"
#include "embedded_openapi.h"
#include "fuota/api_decode.h"
#include "fuota/clock.h"
#include "fuota/err.h"
#include "fuota/log.h"

enum route_auth { AUTH_NONE, AUTH_TENANT, AUTH_ADMIN };

struct route {
	const char *method;
	const char *pattern; /* {x} matches one non-empty segment */
	enum route_auth auth;
	void (*handler)(struct api_call *c);
};

static const struct route routes[] = {
        {"GET", "/healthz", AUTH_NONE, api_h_healthz},
        {"GET", "/readyz", AUTH_NONE, api_h_readyz},
        {"GET", "/metrics", AUTH_NONE, api_h_metrics},
        {"GET", "/api/v1/openapi.json", AUTH_NONE, api_h_openapi},
        {"GET", "/api/v1/me", AUTH_TENANT, api_h_me},
        {"POST", "/api/v1/tenants", AUTH_ADMIN, api_h_tenant_create},
        {"GET", "/api/v1/tenants", AUTH_ADMIN, api_h_tenant_list},
        {"GET", "/api/v1/tenants/{id}", AUTH_ADMIN, api_h_tenant_get},
        {"POST", "/api/v1/tokens", AUTH_ADMIN, api_h_token_create},
        {"GET", "/api/v1/tokens", AUTH_ADMIN, api_h_token_list},
        {"DELETE", "/api/v1/tokens/{id}", AUTH_ADMIN, api_h_token_revoke},
        {"POST", "/api/v1/firmware", AUTH_TENANT, api_h_firmware_create},
        {"GET", "/api/v1/firmware", AUTH_TENANT, api_h_firmware_list},
        {"GET", "/api/v1/firmware/{id}", AUTH_TENANT, api_h_firmware_get},
        {"DELETE", "/api/v1/firmware/{id}", AUTH_TENANT, api_h_firmware_delete},
        {"POST", "/api/v1/devices", AUTH_TENANT, api_h_device_create},
        {"GET", "/api/v1/devices", AUTH_TENANT, api_h_device_list},
        {"GET", "/api/v1/devices/{dev_eui}", AUTH_TENANT, api_h_device_get},
        {"DELETE", "/api/v1/devices/{dev_eui}", AUTH_TENANT, api_h_device_delete},
        {"GET", "/api/v1/devices/{dev_eui}/jobs", AUTH_TENANT, api_h_device_jobs},
        {"GET", "/api/v1/gateways", AUTH_TENANT, api_h_gateway_list},
        {"POST", "/api/v1/gateways/{id}/modem-update:plan", AUTH_TENANT, api_h_gateway_modem_plan},
        {"POST", "/api/v1/gateways/{id}/modem-updates", AUTH_TENANT, api_h_modem_update_create},
        {"GET", "/api/v1/gateways/{id}/modem-updates", AUTH_TENANT, api_h_modem_update_list},
        {"GET", "/api/v1/modem-updates/{id}", AUTH_TENANT, api_h_modem_update_get},
        {"POST", "/api/v1/modem-updates/{id}/pause", AUTH_TENANT, api_h_modem_update_pause},
        {"POST", "/api/v1/modem-updates/{id}/resume", AUTH_TENANT, api_h_modem_update_resume},
        {"POST", "/api/v1/modem-updates/{id}/cancel", AUTH_TENANT, api_h_modem_update_cancel},
        {"GET", "/api/v1/regions", AUTH_TENANT, api_h_regions},
        {"POST", "/api/v1/jobs", AUTH_TENANT, api_h_job_create},
        {"POST", "/api/v1/jobs:plan", AUTH_TENANT, api_h_job_plan},
        {"GET", "/api/v1/jobs", AUTH_TENANT, api_h_job_list},
        {"GET", "/api/v1/jobs/{id}", AUTH_TENANT, api_h_job_get},
        {"DELETE", "/api/v1/jobs/{id}", AUTH_TENANT, api_h_job_delete},
        {"GET", "/api/v1/jobs/{id}/devices", AUTH_TENANT, api_h_job_devices},
        {"GET", "/api/v1/jobs/{id}/events", AUTH_TENANT, api_h_job_events},
        {"GET", "/api/v1/jobs/{id}/events/stream", AUTH_TENANT, api_h_job_stream},
        {"GET", "/api/v1/jobs/{id}/summary", AUTH_TENANT, api_h_job_summary},
        {"POST", "/api/v1/jobs/{id}/cancel", AUTH_TENANT, api_h_job_cancel},
        {"POST", "/api/v1/jobs/{id}/pause", AUTH_TENANT, api_h_job_pause},
        {"POST", "/api/v1/jobs/{id}/resume", AUTH_TENANT, api_h_job_resume},
        {"POST", "/api/v1/jobs/{id}/retry", AUTH_TENANT, api_h_job_retry},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* Upper bounds of the latency histogram, seconds. */
static const double buckets[API_N_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

size_t api_route_count(void)
{
	return N_ROUTES;
}

void api_route_info(size_t i, const char **method, const char **pattern)
{
	*method = i < N_ROUTES ? routes[i].method : NULL;
	*pattern = i < N_ROUTES ? routes[i].pattern : NULL;
}

const char *api_openapi_json(void)
{
	return embedded_openapi;
}

int api_create(struct store *store, const struct cfg *cfg, struct api_ctx **out)
{
	struct api_ctx *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return FUOTA_ERR_NO_MEMORY;
	a->metrics = calloc(N_ROUTES + 1, sizeof(*a->metrics));
	if (!a->metrics) {
		free(a);
		return FUOTA_ERR_NO_MEMORY;
	}
	a->store = store;
	a->cfg = cfg;
	if (api_sse_create(a) != FUOTA_OK) {
		free(a->metrics);
		free(a);
		return FUOTA_ERR_NO_MEMORY;
	}
	pthread_mutex_init(&a->metrics_lock, NULL);
	pthread_mutex_init(&a->cache_lock, NULL);
	*out = a;
	return FUOTA_OK;
}

void api_destroy(struct api_ctx *a)
{
	if (!a)
		return;
	store_listen_stop(a->listener);
	api_sse_destroy(a);
	pthread_mutex_destroy(&a->metrics_lock);
	pthread_mutex_destroy(&a->cache_lock);
	free(a->metrics);
	free(a);
}

/* ---- responses ---- */

static void set_body(struct api_response *r, int status, char *body, const char *type)
{
	r->status = status;
	r->body = body;
	r->len = body ? strlen(body) : 0;
	r->content_type = type;
}

static char *error_json(int status, const char *code, const char *field, const char *message)
{
	char msg[512], fld[64], *text;
	json_t *inner, *outer;

	snprintf(msg, sizeof(msg), "%s", message);
	snprintf(fld, sizeof(fld), "%s", field ? field : "");
	/* A message quoting a client's bytes (or cut inside a character by a %.40s) must still
	 * become a JSON string, or the answer would be lost. */
	api_text_cut(msg);
	api_text_cut(fld);
	field = fld;
	inner = json_pack("{s:s, s:s}", "code", code, "message", msg);

	(void)status;
	if (inner && field && field[0])
		json_object_set_new(inner, "field", json_string(field));
	outer = json_pack("{s:o}", "error", inner);
	text = outer ? json_dumps(outer, JSON_COMPACT) : NULL;
	json_decref(outer);
	return text;
}

void api_error_response(struct api_response *resp, int status, const char *code, const char *field,
                        const char *message)
{
	/* A whole answer: http.c builds these on the stack, and a stale stream pointer or
	 * Retry-After would be sent as part of it. */
	memset(resp, 0, sizeof(*resp));
	set_body(resp, status, error_json(status, code, field, message), "application/json");
}

void api_error_response_of(struct api_response *resp, const struct api_error *e)
{
	api_error_response(resp, e->status, e->code, e->field, e->message);
	resp->retry_after_s = e->retry_after_s;
}

void api_reply_error(struct api_call *c, const struct api_error *e)
{
	set_body(c->resp, e->status ? e->status : 400,
	         error_json(e->status, e->code, e->field, e->message), "application/json");
	c->resp->retry_after_s = e->retry_after_s;
}

void api_reply(struct api_call *c, int status, const char *code, const char *field, const char *fmt,
               ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_body(c->resp, status, error_json(status, code, field, msg), "application/json");
}

void api_reply_text(struct api_call *c, int status, char *json_text)
{
	set_body(c->resp, status, json_text, "application/json");
}

void api_reply_store_error(struct api_call *c, int rc, const char *what)
{
	struct api_error e;

	api_error_from_rc(&e, rc, what);
	api_reply_error(c, &e);
}

void api_reply_list(struct api_call *c, char *items, unsigned limit, unsigned long offset)
{
	size_t n = strlen(items) + 96;
	char *body = malloc(n);

	if (body)
		snprintf(body, n, "{\"items\":%s,\"limit\":%u,\"offset\":%lu}", items, limit,
		         offset);
	free(items);
	if (!body) {
		api_reply(c, 500, "internal", NULL, "out of memory");
		return;
	}
	api_reply_text(c, 200, body);
}

bool api_parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;

	/* One spelling per number: no sign, no space, no leading zero ("01" is not job 1). */
	if (!s || !*s || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (unsigned)(*s - '0')) / 10)
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	return true;
}

bool api_paging(struct api_call *c, unsigned *limit, unsigned long *offset)
{
	const char *l = c->req->get(c->req->conn, API_KV_QUERY, "limit");
	const char *o = c->req->get(c->req->conn, API_KV_QUERY, "offset");
	unsigned long long v;

	*limit = API_PAGE_DEFAULT;
	*offset = 0;
	if (l) {
		if (!api_parse_u64(l, API_PAGE_MAX, &v) || v == 0) {
			api_reply(c, 400, "invalid_field", "limit", "limit must be in 1..%u",
			          API_PAGE_MAX);
			return false;
		}
		*limit = (unsigned)v;
	}
	if (o) {
		if (!api_parse_u64(o, API_OFFSET_MAX, &v)) {
			api_reply(c, 400, "invalid_field", "offset", "offset must be in 0..%lu",
			          API_OFFSET_MAX);
			return false;
		}
		*offset = (unsigned long)v;
	}
	return true;
}

bool api_page_params(struct api_call *c, struct store_paging *pg)
{
	const char *a = c->req->get(c->req->conn, API_KV_QUERY, "after");
	unsigned long long v;

	memset(pg, 0, sizeof(*pg));
	if (!api_paging(c, &pg->limit, &pg->offset))
		return false;
	if (a) {
		if (!api_parse_u64(a, INT64_MAX, &v) || v == 0) {
			api_reply(c, 400, "invalid_field", "after",
			          "after must be a positive id (next_after of the previous page)");
			return false;
		}
		pg->after = (int64_t)v;
	}
	return true;
}

void api_reply_page(struct api_call *c, struct store_page *page, const struct store_paging *pg)
{
	size_t n = strlen(page->items) + 128;
	char *body = malloc(n);

	/* A full page may have a successor: its last key is the cursor of the next one. */
	if (body)
		snprintf(body, n, "{\"items\":%s,\"limit\":%u,\"offset\":%lu,\"next_after\":%s}",
		         page->items, pg->limit, pg->offset,
		         page->count == pg->limit && page->last[0] ? page->last : "null");
	free(page->items);
	page->items = NULL;
	if (!body) {
		api_reply(c, 500, "internal", NULL, "out of memory");
		return;
	}
	api_reply_text(c, 200, body);
}

bool api_param_id(struct api_call *c, int64_t *id)
{
	unsigned long long v;

	if (!api_parse_u64(c->param, INT64_MAX, &v) || v == 0) {
		api_reply(c, 404, "not_found", NULL, "no such object");
		return false;
	}
	*id = (int64_t)v;
	return true;
}

const char *api_content_type(struct api_call *c)
{
	const char *ct = c->req->get(c->req->conn, API_KV_HEADER, "Content-Type");

	return ct ? ct : "";
}

/* ---- authentication ---- */

uint64_t api_now_ms(void)
{
	return (uint64_t)fuota_mono_ms();
}

void api_token_cache_clear(struct api_ctx *a)
{
	pthread_mutex_lock(&a->cache_lock);
	memset(a->cache, 0, sizeof(a->cache));
	a->cache_gen++;
	pthread_mutex_unlock(&a->cache_lock);
}

/* The cache's generation before a lookup in the database (see cache_put). */
static uint64_t cache_gen(struct api_ctx *a)
{
	uint64_t gen;

	pthread_mutex_lock(&a->cache_lock);
	gen = a->cache_gen;
	pthread_mutex_unlock(&a->cache_lock);
	return gen;
}

/* A verified token is remembered for [http] token_cache_ms so that GETs cost one query, not two
 * (GET of one job: 10,500 req/s with it, see README). A revocation on this instance clears the
 * cache; one through another instance drops the entry when its notification arrives
 * (api_listen.c), and without a listener once the entry expires. 0 turns the cache off. Unknown
 * or revoked tokens are never cached. */
static bool cache_get(struct api_ctx *a, const uint8_t *hash, struct store_auth *out)
{
	struct api_token_slot *s = &a->cache[hash[0]];
	bool hit = false;

	pthread_mutex_lock(&a->cache_lock);
	if ((!a->listen_mode || a->listen_armed) && s->expires_ms > api_now_ms() &&
	    cbox_equal(s->hash, hash, CBOX_HASH_LEN)) {
		*out = s->auth;
		hit = true;
	}
	pthread_mutex_unlock(&a->cache_lock);
	return hit;
}

/* Remembers a lookup that began at generation gen, unless the cache dropped anything since (a
 * revocation may have committed after the lookup read the row). */
static void cache_put(struct api_ctx *a, const uint8_t *hash, const struct store_auth *auth,
                      uint64_t gen)
{
	struct api_token_slot *s = &a->cache[hash[0]];

	pthread_mutex_lock(&a->cache_lock);
	if (gen == a->cache_gen && (!a->listen_mode || a->listen_armed)) {
		memcpy(s->hash, hash, CBOX_HASH_LEN);
		s->auth = *auth;
		s->expires_ms = api_now_ms() + a->cfg->token_cache_ms;
	}
	pthread_mutex_unlock(&a->cache_lock);
}

static bool authenticate(struct api_call *c)
{
	const char *h = c->req->get(c->req->conn, API_KV_HEADER, "Authorization");
	uint8_t hash[CBOX_HASH_LEN];
	size_t plen = strlen(CBOX_TOKEN_PREFIX);
	const char *tok;
	uint64_t gen;
	int rc;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
		api_reply(c, 401, "unauthenticated", NULL,
		          "an Authorization: Bearer token is needed");
		return false;
	}
	tok = h + 7;
	while (*tok == ' ')
		tok++;
	if (strlen(tok) != CBOX_TOKEN_LEN || strncmp(tok, CBOX_TOKEN_PREFIX, plen) != 0 ||
	    cbox_token_hash(tok, CBOX_TOKEN_LEN, hash) != FUOTA_OK) {
		api_reply(c, 401, "unauthenticated", NULL, "invalid token");
		return false;
	}
	if (c->api->cfg->token_cache_ms && cache_get(c->api, hash, &c->auth))
		return true;
	gen = cache_gen(c->api);
	rc = store_token_lookup(c->api->store, hash, &c->auth);
	if (rc == FUOTA_OK) {
		if (c->api->cfg->token_cache_ms)
			cache_put(c->api, hash, &c->auth, gen);
		return true;
	}
	if (rc == FUOTA_ERR_NOT_FOUND)
		api_reply(c, 401, "unauthenticated", NULL, "invalid or revoked token");
	else
		api_reply_store_error(c, rc, "token");
	return false;
}

/* ---- routing ---- */

/* Matches path against pattern; the {x} segment is copied into param (cap bytes). */
static bool match(const char *pattern, const char *path, char *param, size_t cap)
{
	while (*pattern && *path) {
		if (*pattern == '{') {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= cap)
				return false;
			memcpy(param, path, n);
			param[n] = 0;
			path += n;
			pattern += strcspn(pattern, "}");
			if (*pattern)
				pattern++;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return *pattern == 0 && *path == 0;
}

static void record(struct api_ctx *a, size_t route, int status, double secs)
{
	struct api_route_metrics *m = &a->metrics[route];
	int i;

	pthread_mutex_lock(&a->metrics_lock);
	for (i = 0; i < API_MAX_STATUSES - 1; i++)
		if (m->status[i] == status || m->status[i] == 0)
			break;
	m->status[i] = status; /* the last slot collects the rare overflow */
	m->count[i]++;
	for (int b = 0; b < API_N_BUCKETS; b++) {
		if (secs <= buckets[b]) {
			m->bucket[b]++;
			break;
		}
	}
	m->total++;
	m->sum_s += secs;
	pthread_mutex_unlock(&a->metrics_lock);
}

/* A request's log lines. Its method and path are the client's bytes (a decoded %0A is a line
 * feed): escaped, they cannot forge a line. A 500 is ours to fix: it leaves a line with the
 * route's pattern and the answer. */
static void log_request(const struct api_request *req, const struct api_response *resp,
                        size_t route, int64_t token_id)
{
	char method[64], path[512], body[400];

	if (resp->status == 500 && route < N_ROUTES && log_enabled(LOG_LVL_WARN)) {
		const char *b = resp->body ? resp->body : "(no body)";

		log_msg(LOG_LVL_WARN, "%s %s -> %d: %s", routes[route].method,
		        routes[route].pattern, resp->status,
		        log_escape(b, strlen(b), body, sizeof(body)));
	}
	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	log_msg(LOG_LVL_DEBUG, "%s %s -> %d (token %" PRId64 ")",
	        log_escape(req->method, strlen(req->method), method, sizeof(method)),
	        log_escape(req->path, strlen(req->path), path, sizeof(path)), resp->status,
	        token_id);
}

void api_handle(struct api_ctx *a, const struct api_request *req, struct api_response *resp)
{
	char param[128];
	struct api_call c;
	struct timespec t0, t1;
	size_t i, route = N_ROUTES;
	bool path_known = false;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&c, 0, sizeof(c));
	memset(resp, 0, sizeof(*resp));
	c.api = a;
	c.req = req;
	c.resp = resp;
	c.param = param;
	for (i = 0; i < N_ROUTES; i++) {
		if (!match(routes[i].pattern, req->path, param, sizeof(param)))
			continue;
		path_known = true;
		/* HEAD is GET without the body (RFC 9110 §9.3.2); MHD leaves the body out. */
		if (strcmp(routes[i].method, req->method) == 0 ||
		    (strcmp(req->method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
			route = i;
			break;
		}
	}
	if (route == N_ROUTES) {
		if (path_known)
			api_reply(&c, 405, "method_not_allowed", NULL, "%s is not allowed here",
			          req->method);
		else
			api_reply(&c, 404, "not_found", NULL, "no such route");
	} else if (routes[route].auth == AUTH_NONE || authenticate(&c)) {
		if (routes[route].auth == AUTH_ADMIN && !c.auth.admin)
			api_reply(&c, 403, "forbidden", NULL, "this route needs an admin token");
		else
			routes[route].handler(&c);
	}
	if (!resp->body && resp->status != 204 && !resp->stream) {
		/* Every path above sets a body; an allocation failure leaves none. */
		resp->status = 500;
		resp->content_type = "application/json";
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	record(a, route, resp->status,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	log_request(req, resp, route, c.auth.token_id);
}

char *api_metrics_text(struct api_ctx *a)
{
	size_t cap = 65536, pos = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
#define EMIT(...)                                                     \
	do {                                                          \
		int w_ = snprintf(out + pos, cap - pos, __VA_ARGS__); \
		if (w_ > 0 && (size_t)w_ < cap - pos)                 \
			pos += (size_t)w_;                            \
	} while (0)
	pthread_mutex_lock(&a->metrics_lock);
	EMIT("# HELP fuota_http_requests_total HTTP requests by route and status.\n"
	     "# TYPE fuota_http_requests_total counter\n");
	for (size_t r = 0; r <= N_ROUTES; r++) {
		const struct api_route_metrics *m = &a->metrics[r];
		const char *method = r < N_ROUTES ? routes[r].method : "";
		const char *pat = r < N_ROUTES ? routes[r].pattern : "unmatched";

		for (int i = 0; i < API_MAX_STATUSES && m->status[i]; i++)
			EMIT("fuota_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} "
			     "%lu\n",
			     method, pat, m->status[i], m->count[i]);
	}
	EMIT("# HELP fuota_http_request_duration_seconds Time spent handling a request.\n"
	     "# TYPE fuota_http_request_duration_seconds histogram\n");
	for (size_t r = 0; r <= N_ROUTES; r++) {
		const struct api_route_metrics *m = &a->metrics[r];
		const char *method = r < N_ROUTES ? routes[r].method : "";
		const char *pat = r < N_ROUTES ? routes[r].pattern : "unmatched";
		unsigned long cum = 0;

		if (!m->total)
			continue;
		for (int b = 0; b < API_N_BUCKETS; b++) {
			cum += m->bucket[b];
			EMIT("fuota_http_request_duration_seconds_bucket{method=\"%s\",route=\"%"
			     "s\","
			     "le=\"%g\"} %lu\n",
			     method, pat, buckets[b], cum);
		}
		EMIT("fuota_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\","
		     "le=\"+Inf\"} %lu\n",
		     method, pat, m->total);
		EMIT("fuota_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n",
		     method, pat, m->sum_s);
		EMIT("fuota_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %lu\n",
		     method, pat, m->total);
	}
	pthread_mutex_unlock(&a->metrics_lock);
#undef EMIT
	return out;
}
