/* A gateway's modem updates (issue 12): POST and GET /api/v1/gateways/{id}/modem-updates,
 * GET /api/v1/modem-updates/{id}, POST /api/v1/modem-updates/{id}/pause|resume|cancel.
 *
 * Create body: {"method": "ufota" | "foat" | "http" | "ftp" | "uart", "url": "http://..." (http,
 * ftp; no credentials: the gateway holds those), "package": "/path on the gateway" (foat,
 * uart), "md5": 32 hex digits (required for http and ftp, optional otherwise), "image_size": bytes
 * (optional, for the planned duration; default MODEM_DEFAULT_SIZE), "start_at": RFC 3339
 * (optional)}. The session-window policy plans the start (policy_modem_plan, asked from start_at
 * when given): a refusal is a 409 naming why; the engine asks it again when the start comes and
 * publishes the start command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "fuota/api_decode.h"
#include "fuota/err.h"
#include "fuota/gw_modem_cmd.h"
#include "fuota/modem_gw.h"
#include "fuota/store_modem.h"

/* The largest uFOTA delta (CELLULAR-NOTES §4: 400 kB to 6 MB), above a typical 4.5 MB .upd. */
#define MODEM_DEFAULT_SIZE (INT64_C(6) << 20)
/* A start_at this far ahead at most. */
#define MODEM_MAX_AHEAD_MS (INT64_C(366) * 86400 * 1000)

struct upd_body {
	const char *method, *url, *package, *md5;
	int64_t image_size, start_at_ms;
	enum modem_method policy_method;
};

/* The member k, a string or absent (NULL); false when present and not a string. */
static bool opt_string(json_t *j, const char *k, const char **out)
{
	json_t *v = json_object_get(j, k);

	*out = json_is_string(v) ? json_string_value(v) : NULL;
	return !v || json_is_string(v);
}

/* url and package as fuota-gw takes them (gw_modem_cmd.h): a start it ignored would stay
 * "sent", holding the gateway's modem for every tenant. */
static bool url_ok(const char *url, const char *method)
{
	return gw_mu_url_ok(url, !strcmp(method, "ftp"));
}

static bool md5_ok(const char *s)
{
	return strlen(s) == 32 && strspn(s, "0123456789abcdefABCDEF") == 32;
}

/* The method's source: url (http, ftp), package (foat, uart), neither (ufota). */
static int source_fields(const struct upd_body *b, struct api_error *e)
{
	bool web = !strcmp(b->method, "http") || !strcmp(b->method, "ftp");
	bool file = !strcmp(b->method, "foat") || !strcmp(b->method, "uart");

	if (web && (!b->url || !url_ok(b->url, b->method)))
		return api_error_field(e, "url",
		                       "required for %s: %s://host[:port]/path, at most 255 "
		                       "printable ASCII bytes without a quote, backslash or "
		                       "credentials (the gateway holds those)",
		                       b->method, b->method);
	if (!web && b->url)
		return api_error_field(e, "url", "only for http and ftp");
	if (file && (!b->package || !gw_mu_package_ok(b->package)))
		return api_error_field(e, "package",
		                       "required for %s: the path of the file on the gateway, "
		                       "starting with /, at most 255 printable ASCII bytes "
		                       "without a quote or backslash",
		                       b->method);
	if (!file && b->package)
		return api_error_field(e, "package", "only for foat and uart");
	if (web && !b->md5)
		return api_error_field(e, "md5",
		                       "required for %s: the image's MD5, 32 hex digits (the "
		                       "module checks it)",
		                       b->method);
	if (b->md5 && !md5_ok(b->md5))
		return api_error_field(e, "md5", "32 hex digits");
	return FUOTA_OK;
}

static int body_fields(json_t *j, struct upd_body *b, struct api_error *e)
{
	static const char *const known[] = {"method",     "url",      "package", "md5",
	                                    "image_size", "start_at", NULL};
	json_t *v, *sz = json_object_get(j, "image_size");
	const char *key, *start = NULL;

	json_object_foreach(j, key, v)
	{
		size_t i = 0;

		while (known[i] && strcmp(known[i], key) != 0)
			i++;
		if (!known[i])
			return api_error_field(e, key, "unknown field \"%.40s\"", key);
	}
	if (!opt_string(j, "method", &b->method) ||
	    policy_modem_method_parse(b->method, &b->policy_method) != FUOTA_OK)
		return api_error_field(e, "method", "required: ufota, foat, http, ftp or uart");
	if (!opt_string(j, "url", &b->url))
		return api_error_field(e, "url", "a string");
	if (!opt_string(j, "package", &b->package))
		return api_error_field(e, "package", "a string");
	if (!opt_string(j, "md5", &b->md5))
		return api_error_field(e, "md5", "32 hex digits");
	if (source_fields(b, e) != FUOTA_OK)
		return FUOTA_ERR_INVALID_ARG;
	if (sz && (!json_is_integer(sz) || json_integer_value(sz) < 1 ||
	           json_integer_value(sz) > (INT64_C(64) << 20)))
		return api_error_field(e, "image_size", "1 to 67108864 bytes");
	b->image_size = sz ? json_integer_value(sz) : MODEM_DEFAULT_SIZE;
	if (!opt_string(j, "start_at", &start) ||
	    (start && api_rfc3339_ms(start, &b->start_at_ms) != FUOTA_OK))
		return api_error_field(
		        e, "start_at",
		        "start_at must be an RFC 3339 time, e.g. 2030-01-31T12:00:00Z");
	return FUOTA_OK;
}

/* The body into b; false after replying 400. */
static bool create_body(struct api_call *c, struct upd_body *b, json_t **j, int64_t now_ms)
{
	struct api_error e = {0};

	*j = api_parse_object(c->req->body, c->req->body_len, &e);
	if (*j && body_fields(*j, b, &e) == FUOTA_OK &&
	    b->start_at_ms - now_ms > MODEM_MAX_AHEAD_MS)
		api_error_field(&e, "start_at", "at most 366 days ahead");
	if (*j && !e.status)
		return true;
	api_reply_error(c, &e);
	return false;
}

/* Refused by the policy, or another update of the modem pending: 409 with why. */
static void refuse(struct api_call *c, const struct modem_plan *p)
{
	if (p->reason == MODEM_UPDATING)
		api_reply(c, 409, "modem_updating", NULL,
		          "an update of this modem is scheduled or under way already");
	else
		api_reply(c, 409, "no_free_window", NULL, "the modem update cannot be planned: %s",
		          policy_modem_refusal_str(p->reason));
}

void api_h_modem_update_create(struct api_call *c)
{
	struct upd_body b = {0};
	struct modem_request rq = {0};
	struct store_gw_job *jobs = NULL;
	struct modem_plan p;
	struct store_modem_new u = {0};
	char gw[17], note[160] = "", *json = NULL;
	int64_t now = api_wall_ms();
	bool busy = false;
	json_t *j = NULL;
	size_t n = 0;
	int rc;

	if (!api_param_eui(c, gw, "no such gateway") || !create_body(c, &b, &j, now))
		goto out;
	rq.method = b.policy_method;
	rq.image_bytes = (uint64_t)b.image_size;
	rq.now_ms = b.start_at_ms > now ? b.start_at_ms : now;
	rc = store_modem_update_pending(c->api->store, gw, true, &busy);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "gateway");
		goto out;
	}
	if (!api_modem_plan_for(c, gw, &rq, &p, &jobs, &n))
		goto out;
	if (busy) /* asked after the plan: a gateway the tenant does not see is a 404 first */
		p.reason = MODEM_UPDATING;
	if (busy || p.verdict == MODEM_REFUSE) {
		refuse(c, &p);
		goto out;
	}
	if (p.start_ms > rq.now_ms)
		snprintf(
		        note, sizeof(note),
		        "planned after the multicast session window of a job through the gateway%s",
		        b.start_at_ms ? " (later than start_at)" : "");
	u = (struct store_modem_new){.gw = gw,
	                             .method = b.method,
	                             .url = b.url,
	                             .package = b.package,
	                             .md5 = b.md5,
	                             .image_size = b.image_size,
	                             .requested_start_ms = b.start_at_ms,
	                             .planned_start_ms = p.start_ms,
	                             .note = note[0] ? note : NULL,
	                             .now_ms = now};
	rc = store_modem_update_create(c->api->store, c->auth.tenant_id, &u, &json);
	if (rc == FUOTA_ERR_CONFLICT)
		api_reply(c, 409, "modem_updating", NULL,
		          "an update of this modem is scheduled or under way already");
	else if (rc != FUOTA_OK)
		api_reply_store_error(c, rc, "gateway");
	else
		api_reply_text(c, 201, json);
out:
	free(jobs);
	json_decref(j);
}

void api_h_modem_update_list(struct api_call *c)
{
	char gw[17], *json = NULL;
	unsigned long offset;
	unsigned limit;
	int rc;

	if (!api_param_eui(c, gw, "no such gateway") || !api_paging(c, &limit, &offset))
		return;
	rc = store_modem_update_list(c->api->store, c->auth.tenant_id, gw, limit, offset, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "gateway");
		return;
	}
	api_reply_list(c, json, limit, offset);
}

void api_h_modem_update_get(struct api_call *c)
{
	char *json = NULL;
	int64_t id;
	int rc;

	if (!api_param_id(c, &id))
		return;
	rc = store_modem_update_get(c->api->store, c->auth.tenant_id, id, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "modem update");
		return;
	}
	api_reply_text(c, 200, json);
}

static void update_action(struct api_call *c, const char *action)
{
	char *json = NULL;
	int64_t id;
	int rc;

	if (!api_param_id(c, &id))
		return;
	rc = store_modem_update_action(c->api->store, c->auth.tenant_id, id, action, api_wall_ms(),
	                               &json);
	if (rc == FUOTA_ERR_STATE)
		api_reply(c, 409, "invalid_state", "state", "cannot %s a modem update that is %s",
		          action, json ? json : "in this state");
	else if (rc == FUOTA_ERR_CONFLICT)
		api_reply(c, 409, "not_owner", NULL,
		          "only the tenant that scheduled a modem update can %s it", action);
	else if (rc != FUOTA_OK)
		api_reply_store_error(c, rc, "modem update");
	else {
		api_reply_text(c, 200, json);
		json = NULL;
	}
	free(json);
}

void api_h_modem_update_pause(struct api_call *c)
{
	update_action(c, "pause");
}

void api_h_modem_update_resume(struct api_call *c)
{
	update_action(c, "resume");
}

void api_h_modem_update_cancel(struct api_call *c)
{
	update_action(c, "cancel");
}
