/* POST /api/v1/gateways/{id}/modem-update:plan: whether and when a modem firmware update of the
 * gateway may start without breaking a multicast session (issue 12's rule, policy_modem_plan).
 * Body: {"method": "ufota" | "foat" | "http" | "ftp" | "uart" (as .../modem-updates; "download",
 * deprecated, is http), "image_size": bytes, "horizon_s": optional}. It only answers; nothing is
 * scheduled. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "fuota/api_decode.h"
#include "fuota/err.h"
#include "fuota/modem_window.h"

/* The body's fields into rq; FUOTA_OK or the error filled in e. */
static int plan_fields(json_t *j, struct modem_request *rq, struct api_error *e)
{
	json_t *m = json_object_get(j, "method"), *sz = json_object_get(j, "image_size"),
	       *h = json_object_get(j, "horizon_s"), *v;
	const char *key;
	int64_t dur;

	json_object_foreach(j, key, v)
	{
		if (strcmp(key, "method") != 0 && strcmp(key, "image_size") != 0 &&
		    strcmp(key, "horizon_s") != 0)
			return api_error_field(e, key, "unknown field \"%.40s\"", key);
	}
	if (!json_is_string(m) || policy_modem_method_parse_plan(json_string_value(m), &rq->method))
		return api_error_field(e, "method", "required: ufota, foat, http, ftp or uart");
	if (!json_is_integer(sz) || json_integer_value(sz) < 1 ||
	    policy_modem_update_ms(rq->method, (uint64_t)json_integer_value(sz), &dur) != FUOTA_OK)
		return api_error_field(e, "image_size", "required: 1 to 67108864 bytes");
	rq->image_bytes = (uint64_t)json_integer_value(sz);
	if (h && (!json_is_integer(h) || json_integer_value(h) < 1 ||
	          json_integer_value(h) > 366 * 86400))
		return api_error_field(e, "horizon_s", "1 s to 366 days");
	rq->horizon_ms = h ? json_integer_value(h) * 1000 : 0;
	return FUOTA_OK;
}

/* The body into rq; false after replying 400. */
static bool plan_body(struct api_call *c, struct modem_request *rq)
{
	struct api_error e = {0};
	json_t *j = api_parse_object(c->req->body, c->req->body_len, &e);
	bool ok = j != NULL && plan_fields(j, rq, &e) == FUOTA_OK;

	json_decref(j);
	if (!ok)
		api_reply_error(c, &e);
	return ok;
}

static json_t *iso_ms(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[40];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static const char *verdict_name(enum modem_verdict v)
{
	return v == MODEM_START_NOW ? "start_now" : v == MODEM_START_AT ? "start_at" : "refuse";
}

/* The answer. A job of another tenant in the way is named as such, not by its id. */
static void plan_reply(struct api_call *c, const char *gw, const struct modem_request *rq,
                       const struct modem_plan *p, const struct store_gw_job *jobs, size_t n)
{
	json_t *blocking = json_null();
	bool other = false;
	json_t *out;

	for (size_t i = 0; p->blocking_job && i < n; i++)
		if (jobs[i].job_id == p->blocking_job) {
			other = jobs[i].tenant_id != c->auth.tenant_id;
			if (!other)
				blocking = json_integer(p->blocking_job);
		}
	out = json_pack("{s:s, s:s, s:s, s:o, s:I, s:o, s:o, s:b, s:I}", "gateway_id", gw, "method",
	                policy_modem_method_name(rq->method), "verdict", verdict_name(p->verdict),
	                "start_at", p->verdict == MODEM_REFUSE ? json_null() : iso_ms(p->start_ms),
	                "duration_s", (json_int_t)((p->duration_ms + 999) / 1000), "reason",
	                p->verdict == MODEM_REFUSE
	                        ? json_string(policy_modem_refusal_str(p->reason))
	                        : json_null(),
	                "blocking_job", blocking, "blocked_by_other_tenant", other, "jobs_counted",
	                (json_int_t)n);
	api_reply_text(c, 200, out ? json_dumps(out, JSON_COMPACT) : NULL);
	json_decref(out);
}

bool api_modem_plan_for(struct api_call *c, const char *gw, struct modem_request *rq,
                        struct modem_plan *p, struct store_gw_job **jobs, size_t *n)
{
	struct modem_session *ss = NULL;
	int rc;

	*jobs = NULL;
	*n = 0;
	rc = store_gateway_jobs(c->api->store, c->auth.tenant_id, gw, jobs, n);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "gateway");
		return false;
	}
	ss = calloc(*n ? *n : 1, sizeof(*ss));
	if (!ss) {
		api_reply(c, 500, "internal", NULL, "out of memory");
		free(*jobs);
		*jobs = NULL;
		return false;
	}
	for (size_t i = 0; i < *n; i++)
		policy_modem_job_session((*jobs)[i].job_id, (*jobs)[i].session_start_ms,
		                         (*jobs)[i].start_at_ms, (*jobs)[i].timeout_s,
		                         (*jobs)[i].mc_class == 'B', rq->now_ms, &ss[i]);
	policy_modem_plan(rq, ss, *n, p);
	free(ss);
	return true;
}

int64_t api_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void api_h_gateway_modem_plan(struct api_call *c)
{
	struct modem_request rq = {0};
	struct store_gw_job *jobs = NULL;
	struct modem_plan p;
	char gw[17];
	size_t n = 0;

	if (!api_param_eui(c, gw, "no such gateway") || !plan_body(c, &rq))
		return;
	rq.now_ms = api_wall_ms();
	if (!api_modem_plan_for(c, gw, &rq, &p, &jobs, &n))
		return;
	plan_reply(c, gw, &rq, &p, jobs, n);
	free(jobs);
}
