/* What the web UI's pages read besides the stream: a job's devices counted per step
 * (GET /api/v1/jobs/{id}/summary) and a page of the devices in one step
 * (GET /api/v1/jobs/{id}/devices?step=), so that a 10,000-device job's page never reads every
 * device; and a device's jobs (GET /api/v1/devices/{dev_eui}/jobs), its Firmware tab. */
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

void api_h_device_jobs(struct api_call *c)
{
	char eui[17];
	unsigned limit;
	unsigned long offset;
	char *json;
	int rc;

	if (!api_param_deveui(c, eui) || !api_paging(c, &limit, &offset))
		return;
	rc = store_device_jobs(c->api->store, c->auth.tenant_id, eui, limit, offset, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "device");
		return;
	}
	api_reply_list(c, json, limit, offset);
}
