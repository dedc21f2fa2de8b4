/* Health, readiness, Prometheus metrics, the OpenAPI document and who a token is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "fuota/err.h"

void api_h_healthz(struct api_call *c)
{
	api_reply_text(c, 200, strdup("{\"status\":\"ok\"}"));
}

void api_h_readyz(struct api_call *c)
{
	struct api_error e;

	if (store_ready(c->api->store) == FUOTA_OK) {
		api_reply_text(c, 200, strdup("{\"status\":\"ready\"}"));
		return;
	}
	api_error_unavailable(&e, "not_ready",
	                      "the database is unreachable or its migrations are not applied");
	api_reply_error(c, &e);
}

void api_h_metrics(struct api_call *c)
{
	char *req = api_metrics_text(c->api), *jobs = NULL, *all;
	size_t n;

	/* Jobs by state come from the database: every instance reports the same numbers. */
	if (store_job_counts(c->api->store, &jobs) != FUOTA_OK)
		jobs = NULL;
	n = (req ? strlen(req) : 0) + (jobs ? strlen(jobs) : 0) + 128;
	all = malloc(n);
	if (all)
		snprintf(all, n, "%s# HELP fuota_jobs Jobs by state.\n# TYPE fuota_jobs gauge\n%s",
		         req ? req : "", jobs ? jobs : "");
	free(req);
	free(jobs);
	api_reply_text(c, 200, all);
	c->resp->content_type = "text/plain; version=0.0.4";
}

void api_h_openapi(struct api_call *c)
{
	api_reply_text(c, 200, strdup(api_openapi_json()));
}

/* GET /api/v1/me: the caller's tenant and token, for any valid token. A token revoked since
 * the (cached) authentication answers 401 like any revoked one. */
void api_h_me(struct api_call *c)
{
	char *json = NULL;
	int rc = store_token_whoami(c->api->store, c->auth.token_id, &json);

	if (rc == FUOTA_ERR_NOT_FOUND)
		api_reply(c, 401, "unauthenticated", NULL, "invalid or revoked token");
	else if (rc != FUOTA_OK)
		api_reply_store_error(c, rc, "token");
	else
		api_reply_text(c, 200, json);
}
