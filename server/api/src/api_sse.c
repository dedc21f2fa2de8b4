/* GET /api/v1/jobs/{id}/events/stream: a job's events as Server-Sent Events, pushed within
 * [http] sse_poll_ms of their insertion by any fuotad on the database. The stream starts after
 * the Last-Event-ID header (an EventSource's reconnection) or ?after= (a page that has read the
 * log so far), so nothing is lost or repeated across a reconnection. A bounded number of streams
 * (in all and per tenant) is served from fixed slots; a quiet stream gets a comment line every
 * [http] sse_heartbeat_s, which keeps proxies from closing it and finds clients that left.
 * fuota/api_stream.h says how the HTTP layer drives it. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "fuota/api_stream.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/store_live.h"

/* Events read per query: a long backlog goes out in pages of this many. */
#define SSE_PAGE 200

struct api_stream {
	struct api_sse *hub;
	bool used, parked, fetch, greeted;
	int64_t tenant, job, last_id;
	uint64_t beat_due_ms;
	void *conn;
	char *out; /* pending bytes out[pos .. len) */
	size_t len, pos;
};

struct api_sse {
	struct api_ctx *api;
	pthread_mutex_t lock;
	bool closing;
	unsigned max, per_tenant;
	uint64_t beat_ms;
	struct api_stream *slots;
	/* The tick's work space (max each): the tick runs on one thread, and shutdown after it
	 * stopped, so they never share it. */
	int64_t *jobs, *heads;
	void **wake_list;
};

int api_sse_create(struct api_ctx *a)
{
	struct api_sse *h = calloc(1, sizeof(*h));

	if (!h)
		return FUOTA_ERR_NO_MEMORY;
	/* cfg_defaults and cfg_set keep each of them at 1 or more. */
	h->max = a->cfg->http_sse_max_streams;
	h->per_tenant = a->cfg->http_sse_max_per_tenant;
	h->beat_ms = (uint64_t)a->cfg->http_sse_heartbeat_s * 1000u;
	h->slots = calloc(h->max, sizeof(*h->slots));
	h->jobs = calloc(h->max, sizeof(*h->jobs));
	h->heads = calloc(h->max, sizeof(*h->heads));
	h->wake_list = calloc(h->max, sizeof(*h->wake_list));
	if (!h->slots || !h->jobs || !h->heads || !h->wake_list) {
		free(h->slots);
		free(h->jobs);
		free(h->heads);
		free(h->wake_list);
		free(h);
		return FUOTA_ERR_NO_MEMORY;
	}
	pthread_mutex_init(&h->lock, NULL);
	h->api = a;
	a->sse = h;
	return FUOTA_OK;
}

void api_sse_destroy(struct api_ctx *a)
{
	struct api_sse *h = a->sse;

	if (!h)
		return;
	for (unsigned i = 0; i < h->max; i++)
		free(h->slots[i].out);
	pthread_mutex_destroy(&h->lock);
	free(h->slots);
	free(h->jobs);
	free(h->heads);
	free(h->wake_list);
	free(h);
	a->sse = NULL;
}

bool api_sse_parse_id(const char *s, int64_t *out)
{
	unsigned long long v;

	if (!api_parse_u64(s, INT64_MAX, &v))
		return false;
	*out = (int64_t)v;
	return true;
}

char *api_sse_format(const char *json_array, size_t *len, int64_t *last_id)
{
	json_t *arr = json_loads(json_array, 0, NULL), *ev;
	size_t i, cap = 1, pos = 0;
	char *out = NULL, *line;
	int64_t last = *last_id;

	if (!json_is_array(arr))
		goto fail;
	json_array_foreach(arr, i, ev)
	{
		json_t *id = json_object_get(ev, "id");
		size_t need;
		char *grown;

		if (!json_is_integer(id) || json_integer_value(id) < 1)
			goto fail;
		/* Compact JSON escapes every newline in its strings: one data line per event. */
		line = json_dumps(ev, JSON_COMPACT);
		if (!line)
			goto fail;
		need = pos + strlen(line) + 48;
		if (need > cap) {
			cap = need * 2;
			grown = realloc(out, cap);
			if (!grown) {
				free(line);
				goto fail;
			}
			out = grown;
		}
		pos += (size_t)snprintf(out + pos, cap - pos, "id: %lld\ndata: %s\n\n",
		                        (long long)json_integer_value(id), line);
		last = (int64_t)json_integer_value(id);
		free(line);
	}
	if (!out)
		out = calloc(1, 1);
	json_decref(arr);
	*len = pos;
	*last_id = last;
	return out;
fail:
	json_decref(arr);
	free(out);
	return NULL;
}

/* A free slot for the tenant, or NULL (*why: the limit reached). Under the lock. */
static struct api_stream *slot_take(struct api_sse *h, int64_t tenant, const char **why)
{
	struct api_stream *free_slot = NULL;
	unsigned mine = 0;

	for (unsigned i = 0; i < h->max; i++) {
		if (h->slots[i].used)
			mine += h->slots[i].tenant == tenant;
		else if (!free_slot)
			free_slot = &h->slots[i];
	}
	*why = !free_slot ? "server" : mine >= h->per_tenant ? "tenant" : NULL;
	return *why ? NULL : free_slot;
}

/* The stream's first id: after Last-Event-ID, else ?after=, else 0. False after replying. */
static bool start_id(struct api_call *c, int64_t *after)
{
	const char *hdr = c->req->get(c->req->conn, API_KV_HEADER, "Last-Event-ID");
	const char *q = c->req->get(c->req->conn, API_KV_QUERY, "after");

	*after = 0;
	if (hdr && !api_sse_parse_id(hdr, after)) {
		api_reply(c, 400, "invalid_field", "Last-Event-ID",
		          "Last-Event-ID must be an event id (digits)");
		return false;
	}
	if (!hdr && q && !api_sse_parse_id(q, after)) {
		api_reply(c, 400, "invalid_field", "after", "after must be an event id (digits)");
		return false;
	}
	return true;
}

void api_h_job_stream(struct api_call *c)
{
	struct api_sse *h = c->api->sse;
	struct api_stream *st;
	const char *why = NULL;
	int64_t id, after;
	char *json = NULL;
	int rc;

	if (!api_param_id(c, &id) || !start_id(c, &after))
		return;
	rc = store_job_get(c->api->store, c->auth.tenant_id, id, &json);
	free(json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "job");
		return;
	}
	pthread_mutex_lock(&h->lock);
	st = h->closing ? NULL : slot_take(h, c->auth.tenant_id, &why);
	if (st) {
		memset(st, 0, sizeof(*st));
		st->hub = h;
		st->used = true;
		st->fetch = true;
		st->tenant = c->auth.tenant_id;
		st->job = id;
		st->last_id = after;
		st->beat_due_ms = api_now_ms() + h->beat_ms;
	}
	pthread_mutex_unlock(&h->lock);
	if (!st && why && why[0] == 't') {
		api_reply(c, 429, "too_many_streams", NULL,
		          "too many live streams are open (%s limit); read the events by polling",
		          why);
		return;
	}
	if (!st) {
		struct api_error e;

		api_error_unavailable(
		        &e, "too_many_streams",
		        "too many live streams are open (%s limit); read the events by "
		        "polling",
		        why ? why : "shutting down");
		api_reply_error(c, &e);
		return;
	}
	log_msg(LOG_LVL_DEBUG, "job %lld: event stream opened after event %lld", (long long)id,
	        (long long)after);
	c->resp->status = 200;
	c->resp->content_type = "text/event-stream";
	c->resp->stream = st;
}

/* Reads the events after st->last_id into st->out. Returns FUOTA_OK or an error. */
static int fetch_events(struct api_ctx *a, struct api_stream *st)
{
	struct store_page page;
	int64_t last = st->last_id;
	char *text;
	int rc;

	rc = store_events_after(a->store, st->tenant, st->job, st->last_id, SSE_PAGE, &page);
	if (rc != FUOTA_OK)
		return rc;
	text = api_sse_format(page.items, &st->len, &last);
	free(page.items);
	if (!text)
		return FUOTA_ERR_NO_MEMORY;
	st->out = text;
	st->pos = 0;
	st->last_id = last;
	/* A full page may have more behind it: read on before parking. */
	st->fetch = page.count == SSE_PAGE;
	return FUOTA_OK;
}

/* The first bytes: how long a client waits before it reconnects (ms). */
static const char hello[] = "retry: 2000\n\n";
static const char beat[] = ": heartbeat\n\n";

static int set_out(struct api_stream *st, const char *text)
{
	st->out = strdup(text);
	st->len = st->out ? strlen(text) : 0;
	st->pos = 0;
	return st->out ? FUOTA_OK : FUOTA_ERR_NO_MEMORY;
}

enum api_stream_rc api_stream_read(struct api_stream *st, char *buf, size_t cap, size_t *n)
{
	struct api_sse *h = st->hub;
	bool closing, fetch;
	uint64_t now = api_now_ms();
	int rc = FUOTA_OK;

	*n = 0;
	if (st->pos < st->len) {
		*n = st->len - st->pos < cap ? st->len - st->pos : cap;
		memcpy(buf, st->out + st->pos, *n);
		st->pos += *n;
		return API_STREAM_DATA;
	}
	free(st->out);
	st->out = NULL;
	st->len = st->pos = 0;
	pthread_mutex_lock(&h->lock);
	closing = h->closing;
	fetch = st->fetch;
	pthread_mutex_unlock(&h->lock);
	if (closing)
		return API_STREAM_END;
	if (!st->greeted) {
		st->greeted = true;
		rc = set_out(st, hello);
	} else if (fetch) {
		rc = fetch_events(h->api, st);
	}
	if (rc == FUOTA_OK && st->len == 0 && now >= st->beat_due_ms)
		rc = set_out(st, beat);
	if (rc != FUOTA_OK) {
		log_msg(LOG_LVL_WARN, "job %lld: event stream ended: %s", (long long)st->job,
		        fuota_strerror(rc));
		return API_STREAM_END;
	}
	if (st->len == 0)
		return API_STREAM_WAIT;
	st->beat_due_ms = now + h->beat_ms;
	return api_stream_read(st, buf, cap, n);
}

bool api_stream_park(struct api_stream *st, void *conn)
{
	struct api_sse *h = st->hub;
	bool ok;

	pthread_mutex_lock(&h->lock);
	ok = !h->closing;
	if (ok) {
		st->parked = true;
		st->conn = conn;
	}
	pthread_mutex_unlock(&h->lock);
	return ok;
}

void api_stream_close(struct api_stream *st)
{
	struct api_sse *h;

	if (!st)
		return;
	h = st->hub;
	log_msg(LOG_LVL_DEBUG, "job %lld: event stream closed after event %lld", (long long)st->job,
	        (long long)st->last_id);
	pthread_mutex_lock(&h->lock);
	free(st->out);
	memset(st, 0, sizeof(*st));
	pthread_mutex_unlock(&h->lock);
}

/* Unparks st and remembers its connection in wake_list. Under the lock. */
static void unpark(struct api_stream *st, void **wake_list, size_t *n_wake)
{
	st->parked = false;
	wake_list[(*n_wake)++] = st->conn;
	st->conn = NULL;
}

/* Whether job is one of jobs[0 .. n). */
static bool listed(const int64_t *jobs, size_t n, int64_t job)
{
	for (size_t k = 0; k < n; k++)
		if (jobs[k] == job)
			return true;
	return false;
}

void api_stream_tick(struct api_ctx *a, void (*wake)(void *conn))
{
	struct api_sse *h = a->sse;
	int64_t *jobs = h->jobs, *heads = h->heads;
	void **wake_list = h->wake_list;
	size_t n_jobs = 0, n_wake = 0;
	uint64_t now = api_now_ms();
	bool have_heads;

	pthread_mutex_lock(&h->lock);
	/* Each job once: the page of a busy job is open in many tabs, one head serves them all. */
	for (unsigned i = 0; i < h->max; i++)
		if (h->slots[i].used && h->slots[i].parked &&
		    !listed(jobs, n_jobs, h->slots[i].job))
			jobs[n_jobs++] = h->slots[i].job;
	pthread_mutex_unlock(&h->lock);
	/* Outside the lock: a stream parked meanwhile waits for the next tick. */
	have_heads = n_jobs && store_event_heads(a->store, jobs, n_jobs, heads) == FUOTA_OK;
	pthread_mutex_lock(&h->lock);
	for (unsigned i = 0; i < h->max; i++) {
		struct api_stream *st = &h->slots[i];
		bool news = false;

		if (!st->used || !st->parked)
			continue;
		for (size_t k = 0; have_heads && k < n_jobs; k++)
			if (jobs[k] == st->job && heads[k] > st->last_id)
				news = true;
		if (news)
			st->fetch = true;
		if (news || now >= st->beat_due_ms)
			unpark(st, wake_list, &n_wake);
	}
	pthread_mutex_unlock(&h->lock);
	for (size_t k = 0; k < n_wake; k++)
		wake(wake_list[k]);
}

void api_stream_shutdown(struct api_ctx *a, void (*wake)(void *conn))
{
	struct api_sse *h = a->sse;
	void **wake_list = h->wake_list;
	size_t n_wake = 0;

	pthread_mutex_lock(&h->lock);
	h->closing = true;
	for (unsigned i = 0; i < h->max; i++)
		if (h->slots[i].used && h->slots[i].parked)
			unpark(&h->slots[i], wake_list, &n_wake);
	pthread_mutex_unlock(&h->lock);
	for (size_t k = 0; k < n_wake; k++)
		wake(wake_list[k]);
}
