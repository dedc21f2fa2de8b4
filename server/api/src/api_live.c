/* What a job's live page reads besides the stream: the devices counted per step
 * (GET /api/v1/jobs/{id}/summary) and a page of the devices in one step
 * (GET /api/v1/jobs/{id}/devices?step=). A 10,000-device job's page reads these, never every
 * device. */
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "fuota/err.h"
#include "fuota/store_live.h"

void api_h_job_summary(struct api_call *c)
{
	int64_t id;
	char *json;
	int rc;

	if (!api_param_id(c, &id))
		return;
	rc = store_job_summary(c->api->store, c->auth.tenant_id, id, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "job");
		return;
	}
	api_reply_text(c, 200, json);
}

bool api_step_valid(const char *step)
{
	size_t n = strlen(step);

	/* A step is a lowercase word (pending, mc_setup, ...): anything else names none. */
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((step[i] >= 'a' && step[i] <= 'z') || step[i] == '_'))
			return false;
	return true;
}

void api_h_job_devices(struct api_call *c)
{
	const char *step = c->req->get(c->req->conn, API_KV_QUERY, "step");
	unsigned limit;
	unsigned long offset;
	int64_t id;
	char *json;
	int rc;

	if (!api_param_id(c, &id) || !api_paging(c, &limit, &offset))
		return;
	if (step && !api_step_valid(step)) {
		api_reply(c, 400, "invalid_field", "step", "step must be a device step name");
		return;
	}
	rc = store_job_devices_in(c->api->store, c->auth.tenant_id, id, step, limit, offset, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "job");
		return;
	}
	api_reply_list(c, json, limit, offset);
}
