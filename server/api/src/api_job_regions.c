/* POST /jobs and /jobs:plan with "regions": one job across regions (fuota/job_regions.h), from a
 * JSON body or a multipart form (its "regions" field the same JSON array, its "file" the image).
 * Each region is read and planned as an ordinary job of that region's devices and session fields
 * (api_job_input_obj, so every check of a single-region job applies), then the image uploaded
 * with a form is stored once and the parent and its children are created in one transaction
 * (store_job_create_regions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_job_int.h"
#include "fuota/api_decode.h"
#include "fuota/err.h"
#include "fuota/job_regions.h"
#include "fuota/log.h"

struct regions_req {
	struct job_region r[JOB_REGIONS_MAX];
	size_t n;
	struct job_params all; /* the job's fields and every device, for the checks */
	json_t *region_of;     /* {dev_eui: REGION} (store_device_regions) */
	struct job_input *in[JOB_REGIONS_MAX];
	const struct mp_part *file; /* a form's image (in the request's body), or NULL */
};

static void req_free(struct regions_req *q)
{
	for (size_t i = 0; i < JOB_REGIONS_MAX; i++) {
		if (!q->in[i])
			continue;
		job_params_free(&q->in[i]->p);
		json_decref(q->in[i]->devices);
		free(q->in[i]);
	}
	job_params_free(&q->all);
	json_decref(q->region_of);
	free(q);
}

/* obj without "regions", with region i's fields and devices (none when NULL: a request without
 * devices, which the decoder answers). New reference, NULL: memory. */
static json_t *region_object(json_t *obj, size_t i, json_t *devices)
{
	json_t *o = json_deep_copy(obj), *r = json_array_get(json_object_get(obj, "regions"), i);

	if (!o || json_object_del(o, "regions") != 0 || json_object_update(o, r) != 0 ||
	    (devices && json_object_set(o, "devices", devices) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Decodes and checks the regions and the job's fields, then finds every device's region. False
 * after replying. */
static bool regions_read(struct api_call *c, json_t *obj, bool create, struct regions_req *q)
{
	struct api_error e;
	const char **names = NULL;
	json_t *first;
	char *json = NULL;
	bool ok = false;
	int rc;

	memset(&e, 0, sizeof(e));
	if (api_decode_regions(obj, q->r, &q->n, &e) != FUOTA_OK)
		goto reply;
	first = region_object(obj, 0, json_object_get(obj, "devices"));
	if (!first) {
		api_reply(c, 500, "internal", NULL, "out of memory");
		return false;
	}
	json_object_del(first, "firmware_size");
	rc = api_decode_job(first, !q->file && !json_object_get(obj, "firmware_size"), create,
	                    &q->all, &e);
	json_decref(first);
	if (rc != FUOTA_OK)
		goto reply;
	rc = store_device_regions(c->api->store, c->auth.tenant_id,
	                          (const char(*)[17])q->all.dev_euis, q->all.n_devices, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "device");
		return false;
	}
	q->region_of = json_loads(json, 0, NULL);
	free(json);
	names = calloc(q->all.n_devices + 1, sizeof(*names));
	if (!q->region_of || !names) {
		api_reply(c, 500, "internal", NULL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < q->all.n_devices; i++) {
		names[i] = json_string_value(json_object_get(q->region_of, q->all.dev_euis[i]));
		if (!names[i]) {
			api_reply(c, 400, "invalid_field", "devices", "unknown device %s",
			          q->all.dev_euis[i]);
			goto out;
		}
	}
	if (job_regions_check(q->r, q->n, names, q->all.n_devices, &e) == FUOTA_OK)
		ok = true;
out:
	free(names);
	if (ok || e.status == 0)
		return ok;
reply:
	api_reply_error(c, &e);
	return false;
}

/* A 400 that names a field region i gives (tx_power_dbm above what its band allows, a
 * fragment_size its data rate does not carry...) is made to name it in regions[i]. */
static void region_field(struct api_call *c, size_t i)
{
	static const char *const own[] = {"region",
	                                  "data_rate",
	                                  "frequency_hz",
	                                  "fragment_size",
	                                  "tx_power_dbm",
	                                  "ping_slot_periodicity",
	                                  NULL};
	json_t *body, *err;
	const char *field;
	char name[64];

	if (c->resp->status != 400 || !c->resp->body)
		return;
	body = json_loads(c->resp->body, 0, NULL);
	err = json_object_get(body, "error");
	field = json_string_value(json_object_get(err, "field"));
	for (const char *const *f = own; field && *f; f++) {
		if (strcmp(*f, field) != 0)
			continue;
		snprintf(name, sizeof(name), "regions[%zu].%s", i, field);
		free(c->resp->body); /* replaced, not leaked */
		c->resp->body = NULL;
		api_reply(c, 400, json_string_value(json_object_get(err, "code")), name, "%s: %s",
		          name, json_string_value(json_object_get(err, "message")));
		break;
	}
	json_decref(body);
}

/* Reads and plans region i as a job of its devices. False after replying. */
static bool region_input(struct api_call *c, json_t *obj, bool create, struct regions_req *q,
                         size_t i)
{
	json_t *devs = json_array(), *o;
	bool ok;

	for (size_t k = 0; devs && k < q->all.n_devices; k++) {
		const char *rg =
		        json_string_value(json_object_get(q->region_of, q->all.dev_euis[k]));

		if (job_regions_find(&q->r[i], 1, rg) == 0)
			json_array_append_new(devs, json_string(q->all.dev_euis[k]));
	}
	if (devs && json_array_size(devs) == 0 && q->all.n_devices > 0) {
		char field[40];

		snprintf(field, sizeof(field), "regions[%zu].region", i);
		json_decref(devs);
		api_reply(c, 400, "invalid_field", field, "no device of the job is in %s",
		          q->r[i].region);
		return false;
	}
	o = devs ? region_object(obj, i, devs) : NULL;
	json_decref(devs);
	q->in[i] = calloc(1, sizeof(*q->in[i]));
	if (!o || !q->in[i]) {
		json_decref(o);
		api_reply(c, 500, "internal", NULL, "out of memory");
		return false;
	}
	job_params_init(&q->in[i]->p);
	q->in[i]->file = q->file;
	json_object_set_new(o, "region", json_string(q->r[i].region)); /* canonical */
	ok = api_job_input_obj(c, o, create, q->in[i]);
	json_decref(o);
	if (!ok)
		region_field(c, i);
	return ok;
}

/* The whole job's figures over its regions' plans: the regions' sessions run side by side, each
 * on its own gateways, so the job lasts as long as its longest region. */
static json_t *totals_json(const struct regions_req *q)
{
	uint64_t longest = 0, airtime_ms = 0, frames = 0, devices = 0;

	for (size_t i = 0; i < q->n; i++) {
		const struct job_plan *pl = &q->in[i]->plan;

		if (pl->duration_s > longest)
			longest = pl->duration_s;
		airtime_ms += pl->total_airtime_ms;
		frames += pl->total_frames;
		devices += q->in[i]->p.n_devices;
	}
	return json_pack("{s:I, s:I, s:I, s:f, s:I}", "regions", (json_int_t)q->n, "devices",
	                 (json_int_t)devices, "total_frames", (json_int_t)frames, "total_airtime_s",
	                 (double)airtime_ms / 1000.0, "estimated_duration_s", (json_int_t)longest);
}

/* Region i's plan (with its version check), NULL after replying. */
static json_t *region_plan(struct api_call *c, struct regions_req *q, size_t i)
{
	json_t *pj = api_job_plan_json(&q->in[i]->plan);

	if (!pj) {
		api_reply(c, 500, "internal", NULL, "out of memory");
		return NULL;
	}
	if (!api_job_plan_version_check(c, q->in[i], pj)) {
		json_decref(pj);
		return NULL;
	}
	return pj;
}

/* POST /jobs:plan with regions: one plan per region and the totals. */
static void regions_plan(struct api_call *c, struct regions_req *q)
{
	json_t *regions = json_array(), *warnings = json_array(), *out;

	for (size_t i = 0; regions && warnings && i < q->n; i++) {
		json_t *w = api_job_plan_warnings(c, q->in[i]), *pj;

		if (!w || !(pj = region_plan(c, q, i))) {
			json_decref(w);
			goto out;
		}
		json_array_extend(warnings, w);
		json_array_append_new(regions, json_pack("{s:s, s:I, s:o, s:o, s:o}", "region",
		                                         q->r[i].region, "device_count",
		                                         (json_int_t)q->in[i]->p.n_devices, "plan",
		                                         pj, "warnings", w, "settings",
		                                         api_job_settings_json(&q->in[i]->p)));
	}
	out = json_pack("{s:o, s:O, s:I, s:I, s:O}", "plan", totals_json(q), "regions", regions,
	                "firmware_size", (json_int_t)q->in[0]->firmware_size, "device_count",
	                (json_int_t)q->all.n_devices, "warnings", warnings);
	api_reply_text(c, 200, out ? json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL);
	json_decref(out);
out:
	json_decref(regions);
	json_decref(warnings);
}

/* The regions as created, with the values each child holds (defaults applied). */
static json_t *regions_json(const struct regions_req *q)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < q->n; i++) {
		const struct job_params *p = &q->in[i]->p;
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "region", p->region, "data_rate",
		                      (json_int_t)p->data_rate, "frequency_hz",
		                      (json_int_t)p->frequency_hz, "fragment_size",
		                      (json_int_t)p->fragment_size, "tx_power_dbm",
		                      (json_int_t)p->tx_power_dbm);

		if (o && p->ping_slot_periodicity >= 0)
			json_object_set_new(o, "ping_slot_periodicity",
			                    json_integer(p->ping_slot_periodicity));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* Dumps o (taken) compactly; NULL without memory. */
static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;

	json_decref(o);
	return s;
}

static void regions_store(struct api_call *c, struct regions_req *q)
{
	struct store_job_create parent = {0}, kids[JOB_REGIONS_MAX];
	struct job_params pp = q->in[0]->p;
	char *plans[JOB_REGIONS_MAX] = {0}, *pplan = NULL, *rj = NULL, *json = NULL;
	char bad[17] = "", why[64] = "";
	json_t *all = json_array(), *pj;
	int64_t uploaded = 0;
	int rc = FUOTA_ERR_NO_MEMORY;

	memset(kids, 0, sizeof(kids));
	pp.multicast_timeout_s = 0;
	for (size_t i = 0; i < q->n; i++) {
		struct job_input *in = q->in[i];

		/* An omitted multicast timeout is stored as the one the plan chose. */
		if (!in->p.multicast_timeout_s)
			in->p.multicast_timeout_s = (unsigned)in->plan.mc_timeout_s;
		if (in->p.multicast_timeout_s > pp.multicast_timeout_s)
			pp.multicast_timeout_s = in->p.multicast_timeout_s;
		if (!(pj = region_plan(c, q, i)))
			goto out;
		json_array_append(all, pj);
		plans[i] = dump(pj);
		kids[i] = (struct store_job_create){&in->p, plans[i], in->p.firmware_id, 0, NULL};
		if (!plans[i])
			goto fail;
	}
	pj = totals_json(q);
	if (pj)
		json_object_set(pj, "regions", all);
	pplan = dump(pj);
	rj = dump(regions_json(q));
	/* The parent: the job's fields, no devices and no session of its own. */
	pp.n_devices = 0;
	pp.dev_euis = NULL;
	pp.fragment_size = 0;
	pp.has_tx_power = false;
	pp.ping_slot_periodicity = -1;
	parent = (struct store_job_create){&pp, pplan, pp.firmware_id, 0, rj};
	if (!pplan || !rj)
		goto fail;
	/* Every job of the request takes the image uploaded with the form, stored once here. */
	if (q->file && !api_job_store_upload(c, q->file, pp.name, &uploaded))
		goto out;
	if (uploaded) {
		pp.firmware_id = parent.firmware_id = uploaded;
		for (size_t i = 0; i < q->n; i++)
			kids[i].firmware_id = uploaded;
	}
	rc = store_job_create_regions(c->api->store, c->auth.tenant_id, &parent, kids, q->n, &json,
	                              bad, why);
	api_job_create_reply(c, rc, json, bad, why, "the region given for it", pp.firmware_id);
	if (rc == FUOTA_OK)
		log_msg(LOG_LVL_INFO, "tenant %lld: job created for %zu devices in %zu regions",
		        (long long)c->auth.tenant_id, q->all.n_devices, q->n);
	else if (uploaded)
		api_job_upload_drop(c, uploaded);
	goto out;
fail:
	api_reply(c, 500, "internal", NULL, "out of memory");
out:
	for (size_t i = 0; i < q->n; i++)
		free(plans[i]);
	free(pplan);
	free(rj);
	free(json);
	json_decref(all);
}

void api_job_regions_create(struct api_call *c, json_t *obj, bool create,
                            const struct mp_part *file)
{
	struct regions_req *q = calloc(1, sizeof(*q));

	if (!q) {
		api_reply(c, 500, "internal", NULL, "out of memory");
		return;
	}
	q->file = file;
	job_params_init(&q->all);
	if (!regions_read(c, obj, create, q))
		goto out;
	for (size_t i = 0; i < q->n; i++)
		if (!region_input(c, obj, create, q, i))
			goto out;
	if (!create) {
		regions_plan(c, q);
		goto out;
	}
	for (size_t i = 0; i < q->n; i++)
		if (!api_job_devices_fit(c, q->in[i]))
			goto out;
	regions_store(c, q);
out:
	req_free(q);
}
