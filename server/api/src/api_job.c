/* Jobs: create (JSON or multipart with the image), plan, list, get, devices, events, cancel,
 * pause, resume, delete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_int.h"
#include "api_job_int.h"
#include "fuota/api_decode.h"
#include "fuota/err.h"
#include "fuota/job_defaults.h"
#include "fuota/job_retry.h"
#include "fuota/log.h"
#include "fuota/multipart.h"
#include "fuota/plan_parts.h"

json_t *api_job_plan_json(const struct job_plan *pl)
{
	json_t *o = json_pack(
	        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:I, s:I, "
	        "s:I}",
	        "max_payload", (json_int_t)pl->max_payload, "fragment_size",
	        (json_int_t)pl->fragment_size, "fragments", (json_int_t)pl->nb_frag, "padding",
	        (json_int_t)pl->padding, "parity_frames", (json_int_t)pl->redundancy,
	        "total_frames", (json_int_t)pl->total_frames, "sessions", (json_int_t)pl->sessions,
	        "multicast_timeout_exp", (json_int_t)pl->mc_timeout_exp, "multicast_timeout_s",
	        (json_int_t)pl->mc_timeout_s, "frame_airtime_ms",
	        (double)pl->frame_airtime_us / 1000.0, "total_airtime_s",
	        (double)pl->total_airtime_ms / 1000.0, "duty_cycle", pl->duty_cycle,
	        "multicast_duration_s", (json_int_t)pl->multicast_s, "unicast_setup_s",
	        (json_int_t)pl->unicast_s, "estimated_duration_s", (json_int_t)pl->duration_s);

	if (o)
		json_object_set_new(o, "tx_power_dbm", json_integer(pl->tx_power_dbm));
	/* The image in parts (fuota/plan_parts.h), one session after the other; the engine reads
	 * parts and part_fragments back from the job's plan. */
	if (o)
		json_object_update_new(
		        o, json_pack("{s:I, s:I, s:I, s:I, s:I}", "parts", (json_int_t)pl->parts,
		                     "part_fragments", (json_int_t)pl->part_frags,
		                     "last_part_fragments", (json_int_t)pl->last_part_frags,
		                     "part_parity_frames", (json_int_t)pl->part_parity,
		                     "last_part_parity_frames", (json_int_t)pl->last_part_parity));
	/* Adaptive redundancy: what the session may send at most and how long that may take
	 * (multicast_duration_s and the TimeOut above are that worst case). */
	if (o && pl->adaptive)
		json_object_set_new(o, "adaptive",
		                    json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "mode",
		                              pl->rounds ? "rounds" : "stream", "max_parity_frames",
		                              (json_int_t)pl->max_parity, "max_frames",
		                              (json_int_t)pl->max_frames, "max_rounds",
		                              (json_int_t)pl->max_rounds, "round_wait_s",
		                              (json_int_t)pl->round_wait_s,
		                              "worst_case_multicast_s",
		                              (json_int_t)pl->worst_case_s));
	return o;
}

/* Adaptive redundancy as this server's engine is configured to run it. */
static void plan_adaptive_of(const struct cfg *cfg, struct plan_adaptive *a)
{
	memset(a, 0, sizeof(*a));
	a->on = cfg->engine_adaptive != 0;
	a->rounds = cfg->engine_adaptive_mode == CFG_ADAPTIVE_ROUNDS;
	a->wait_s = cfg->engine_adaptive_wait_s;
}

/* Turns the multipart form into the JSON object the decoder reads; the "file" part is kept
 * aside. */
static json_t *form_object(struct api_call *c, struct job_input *in)
{
	char boundary[80];
	struct api_error e;
	size_t n;
	json_t *obj;

	if (mp_boundary(api_content_type(c), boundary, sizeof(boundary)) != FUOTA_OK ||
	    mp_parse(boundary, (const uint8_t *)c->req->body, c->req->body_len, in->parts,
	             MAX_PARTS, &n) != FUOTA_OK) {
		api_reply(c, 400, "malformed_multipart", NULL,
		          "the multipart body is malformed or truncated");
		return NULL;
	}
	if (api_form_check(in->parts, n, "file", &e) != FUOTA_OK) {
		api_reply_error(c, &e);
		return NULL;
	}
	obj = json_object();
	for (size_t i = 0; obj && i < n; i++) {
		const struct mp_part *p = &in->parts[i];
		json_t *v;

		if (strcmp(p->name, "file") == 0) {
			in->file = p;
			continue;
		}
		v = api_form_value(p->name, (const char *)p->data, p->len);
		if (!v || json_object_set_new(obj, p->name, v) != 0) {
			json_decref(obj);
			obj = NULL;
		}
	}
	if (!obj)
		api_reply(c, 500, "internal", NULL, "out of memory");
	return obj;
}

/* What the job's devices tell its plan (store_job_device_facts), read once per request at the first
 * need; `what` names them in the error replied when they cannot be read (then NULL). */
static json_t *job_devices(struct api_call *c, struct job_input *in, const char *what)
{
	char *json = NULL;
	int rc;

	if (in->devices)
		return in->devices;
	rc = store_job_device_facts(c->api->store, c->auth.tenant_id,
	                            (const char(*)[17])in->p.dev_euis, in->p.n_devices, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, what);
		return NULL;
	}
	in->devices = json ? json_loads(json, 0, NULL) : NULL;
	free(json);
	if (!in->devices)
		in->devices = json_object(); /* unreadable: as if no device were known */
	if (!in->devices)
		api_reply(c, 500, "internal", NULL, "out of memory");
	return in->devices;
}

/* With a target_version, the plan says which version and how many of the devices (those with
 * TS006) are asked DevVersionReq before their set-up. Returns false after replying. */
bool api_job_plan_version_check(struct api_call *c, struct job_input *in, json_t *pj)
{
	json_t *dev;
	json_int_t asked = 0;

	if (!pj || !in->p.has_target_version)
		return true;
	if (in->p.n_devices > 0) {
		dev = job_devices(c, in, "device");
		if (!dev)
			return false;
		asked = json_integer_value(json_object_get(dev, "ts006_devices"));
	}
	json_object_set_new(pj, "version_check",
	                    json_pack("{s:I, s:I}", "target_version",
	                              (json_int_t)in->p.target_version, "devices_asked", asked));
	return true;
}

/* A job without "region" takes its devices' (fuota/job_defaults.h). Returns false after
 * replying. */
static bool job_region(struct api_call *c, struct job_input *in)
{
	struct job_params *p = &in->p;
	const char *names[8];
	struct api_error e;
	json_t *dev = NULL, *arr;
	size_t n = 0;
	int rc;

	if (p->region[0])
		return true;
	if (p->n_devices > 0) {
		dev = job_devices(c, in, "device");
		if (!dev)
			return false;
	}
	arr = json_object_get(dev, "regions");
	/* Two names are enough to tell the operator the devices are in several regions. */
	for (size_t i = 0; i < json_array_size(arr) && n < 2; i++)
		if (json_is_string(json_array_get(arr, i)))
			names[n++] = json_string_value(json_array_get(arr, i));
	rc = job_defaults_region(p, names, n, &e);
	if (rc != FUOTA_OK)
		api_reply_error(c, &e);
	return rc == FUOTA_OK;
}

/* The most fragments a part may have (fuota/plan_parts.h): the smallest max_frags among the
 * job's devices that take parts. Returns false after replying. */
static bool job_part_limit(struct api_call *c, struct job_input *in)
{
	json_t *dev, *row;
	size_t i;

	in->p.part_frag_limit = 0;
	if (in->p.n_devices == 0)
		return true;
	dev = job_devices(c, in, "device limits");
	if (!dev)
		return false;
	json_array_foreach(json_object_get(dev, "limits"), i, row)
	{
		in->p.part_frag_limit = plan_part_limit(
		        in->p.part_frag_limit, json_string_value(json_object_get(row, "stack")),
		        json_integer_value(json_object_get(row, "max_frags")));
	}
	return true;
}

/* api_decode_job, then what needs the time: a reboot_at already past is refused
 * (job_reboot_at_check). False after replying 400. */
static bool decode_job(struct api_call *c, json_t *obj, bool firmware_required, bool create,
                       struct job_params *p)
{
	struct api_error e;
	int64_t reboot_at_ms = 0;

	memset(&e, 0, sizeof(e));
	if (api_decode_job(obj, firmware_required, create, p, &e) == FUOTA_OK &&
	    (!p->reboot_at[0] || api_rfc3339_ms(p->reboot_at, &reboot_at_ms) == FUOTA_OK) &&
	    job_reboot_at_check(reboot_at_ms, api_wall_ms(), &e) == FUOTA_OK)
		return true;
	if (!e.status) /* checked by api_decode_job already: not reached */
		api_error_field(&e, "reboot_at", "reboot_at must be an RFC 3339 time");
	api_reply_error(c, &e);
	return false;
}

/* The request's job object, read once: the JSON body, or the multipart form turned into one (its
 * "file" part kept in in->file). in is zeroed and job_params_init'ed here. NULL after replying. */
static json_t *job_request(struct api_call *c, struct job_input *in)
{
	struct api_error e;
	json_t *obj;

	memset(in, 0, sizeof(*in));
	job_params_init(&in->p);
	if (strncasecmp(api_content_type(c), "multipart/form-data", 19) == 0)
		return form_object(c, in);
	obj = api_parse_object(c->req->body, c->req->body_len, &e);
	if (!obj)
		api_reply_error(c, &e);
	return obj;
}

/* Reads the request into in (allocated by the caller). True when the caller goes on with the
 * single-region job in; false when the request was answered: an error, or a job across regions
 * (a body or form with "regions", read and answered by api_job_regions_create). */
static bool job_input(struct api_call *c, bool create, struct job_input *in)
{
	json_t *obj = job_request(c, in);
	bool ok = false;

	if (!obj)
		return false;
	if (json_object_get(obj, "regions"))
		api_job_regions_create(c, obj, create, in->file);
	else
		ok = api_job_input_obj(c, obj, create, in);
	json_decref(obj);
	return ok;
}

bool api_job_input_obj(struct api_call *c, json_t *obj, bool create, struct job_input *in)
{
	struct api_error e;
	struct plan_adaptive ad;
	json_t *fs;
	long long fw_size = -1;
	int rc;

	fs = json_object_get(obj, "firmware_size");
	if (fs && !create) {
		if (!json_is_integer(fs) || json_integer_value(fs) < 1 ||
		    (unsigned long long)json_integer_value(fs) > c->api->cfg->max_upload_bytes) {
			api_reply(c, 400, "invalid_field", "firmware_size",
			          "firmware_size must be in 1..%lu", c->api->cfg->max_upload_bytes);
			return false;
		}
		fw_size = json_integer_value(fs);
		json_object_del(obj, "firmware_size");
	}
	if (!decode_job(c, obj, !in->file && fw_size < 0, create, &in->p))
		return false;
	job_defaults_fields(&in->p);
	if (!job_region(c, in))
		return false;
	snprintf(in->p.image_field, sizeof(in->p.image_field), "%s",
	         in->file       ? "file"
	         : fw_size >= 0 ? "firmware_size"
	                        : "firmware_id");
	if (in->file) {
		if (in->file->len > c->api->cfg->max_upload_bytes) {
			api_reply(c, 413, "too_large", "file", "the image is larger than %lu bytes",
			          c->api->cfg->max_upload_bytes);
			return false;
		}
		in->firmware_size = in->file->len;
	} else if (fw_size >= 0) {
		in->firmware_size = (size_t)fw_size;
	} else {
		rc = store_firmware_size(c->api->store, c->auth.tenant_id, in->p.firmware_id,
		                         &in->firmware_size);
		if (rc == FUOTA_ERR_NOT_FOUND) {
			api_reply(c, 400, "invalid_field", "firmware_id", "unknown firmware %lld",
			          (long long)in->p.firmware_id);
			return false;
		}
		if (rc != FUOTA_OK) {
			api_reply_store_error(c, rc, "firmware");
			return false;
		}
	}
	if (!job_part_limit(c, in))
		return false;
	plan_adaptive_of(c->api->cfg, &ad);
	if (job_defaults_plan(&in->p, in->firmware_size, &ad, &in->plan, &e) != FUOTA_OK) {
		api_reply_error(c, &e);
		return false;
	}
	return true;
}

/* Warnings of the plan against the job's devices (issue 16): a device whose known limit (its
 * max_frags, or its stack's default build) is below the plan's fragments would refuse the
 * FragSessionSetupReq with NotEnoughMemory. Returns a new array (empty when none), NULL after
 * replying the error when the devices cannot be read (503 while the database is unreachable). */
json_t *api_job_plan_warnings(struct api_call *c, struct job_input *in)
{
	json_t *out = json_array(), *dev, *rows, *row;
	size_t i;

	if (!out) {
		api_reply(c, 500, "internal", NULL, "out of memory");
		return NULL;
	}
	if (in->p.n_devices == 0)
		return out;
	dev = job_devices(c, in, "device limits");
	if (!dev) {
		json_decref(out);
		return NULL;
	}
	rows = json_object_get(dev, "limits");
	json_array_foreach(rows, i, row)
	{
		const char *eui = json_string_value(json_object_get(row, "dev_eui"));
		const char *stack = json_string_value(json_object_get(row, "stack"));
		json_int_t max = json_integer_value(json_object_get(row, "max_frags"));
		uint32_t limit = plan_frag_limit_exceeded(in->plan.part_frags, stack, max);

		if (eui && in->plan.parts > 1 && !plan_stack_takes_parts(stack)) {
			json_array_append_new(
			        out, json_pack("{s:s, s:s, s:s, s:I, s:s}", "code", "device_parts",
			                       "dev_eui", eui, "stack", stack ? stack : "ts004",
			                       "parts", (json_int_t)in->plan.parts, "message",
			                       "the image goes in parts and the device's stack "
			                       "does not assemble parts: it would not be set up "
			                       "(declare it ts004 if its application reads the "
			                       "part Descriptor)"));
			continue;
		}
		if (!eui || limit == 0)
			continue;
		json_array_append_new(
		        out, json_pack("{s:s, s:s, s:s, s:I, s:I, s:s+}", "code", "device_memory",
		                       "dev_eui", eui, "stack", stack ? stack : "ts004",
		                       "max_frags", (json_int_t)limit, "fragments",
		                       (json_int_t)in->plan.part_frags, "message",
		                       "the device takes fewer fragments than the job sends: it "
		                       "would refuse FragSessionSetupReq with NotEnoughMemory ",
		                       "(use a larger fragment size or a smaller image)"));
	}
	return out;
}

/* The values a job created from this request would hold for the fields with a default
 * (fuota/job_defaults.h): given or defaulted, as GET /jobs/{id} then shows them. */
json_t *api_job_settings_json(const struct job_params *p)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:I}", "region", p->region, "unicast_attempts",
	                      (json_int_t)p->unicast_attempts, "fragment_size",
	                      (json_int_t)p->fragment_size, "tx_power_dbm",
	                      (json_int_t)p->tx_power_dbm);

	if (o)
		json_object_set_new(o, "ping_slot_periodicity",
		                    p->ping_slot_periodicity >= 0
		                            ? json_integer(p->ping_slot_periodicity)
		                            : json_null());
	return o;
}

/* reboot_before_end, as the engine notes it when the job starts (engine_start.c), appended to
 * warnings when reboot_at falls before the plan's estimated end from start_at (now without one,
 * or with one already past). Not among api_job_plan_warnings: those refuse a job (409). */
static void plan_reboot_warning(const struct job_input *in, json_t *warnings)
{
	int64_t now_ms = api_wall_ms(), start_ms = 0, reboot_ms = 0, early_s;

	if (!in->p.reboot_at[0] || api_rfc3339_ms(in->p.reboot_at, &reboot_ms) != FUOTA_OK)
		return;
	if (!in->p.start_at[0] || api_rfc3339_ms(in->p.start_at, &start_ms) != FUOTA_OK ||
	    start_ms < now_ms)
		start_ms = now_ms;
	if (!plan_reboot_early(reboot_ms, start_ms, in->plan.duration_s, &early_s))
		return;
	json_array_append_new(
	        warnings, json_pack("{s:s, s:I, s:I, s:s}", "code", "reboot_before_end", "early_s",
	                            (json_int_t)early_s, "estimated_end_ms",
	                            (json_int_t)(start_ms + (int64_t)in->plan.duration_s * 1000),
	                            "message", PLAN_REBOOT_EARLY_MSG));
}

void api_h_job_plan(struct api_call *c)
{
	struct job_input *in;
	json_t *out;

	in = malloc(sizeof(*in));
	if (!in) {
		api_reply(c, 500, "internal", NULL, "out of memory");
		return;
	}
	if (job_input(c, false, in)) {
		json_t *warnings = api_job_plan_warnings(c, in);

		if (!warnings)
			goto out;
		plan_reboot_warning(in, warnings);
		json_t *pj = api_job_plan_json(&in->plan);

		if (!api_job_plan_version_check(c, in, pj)) {
			json_decref(pj);
			json_decref(warnings);
			goto out;
		}
		out = json_pack("{s:o, s:I, s:I, s:o, s:o}", "plan", pj, "firmware_size",
		                (json_int_t)in->firmware_size, "device_count",
		                (json_int_t)in->p.n_devices, "warnings", warnings, "settings",
		                api_job_settings_json(&in->p));
		api_reply_text(c, 200,
		               out ? json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL);
		json_decref(out);
	}
out:
	job_params_free(&in->p);
	json_decref(in->devices);
	free(in);
}

/* A job whose image needs more fragments than a device of it takes is refused (issue 16): the
 * device would refuse FragSessionSetupReq with NotEnoughMemory, after the operator was told the
 * job started. 409 naming the devices (the first few) and their limits. Returns true when every
 * device fits (or no limit is known). */
bool api_job_devices_fit(struct api_call *c, struct job_input *in)
{
	json_t *w = api_job_plan_warnings(c, in), *row;
	char names[160];
	size_t i, n, pos = 0;

	if (!w)
		return false;
	n = json_array_size(w);
	names[0] = 0;
	json_array_foreach(w, i, row)
	{
		int k;

		if (i == 4)
			break;
		if (json_object_get(row, "parts"))
			k = snprintf(names + pos, sizeof(names) - pos, "%s%s (%s)",
			             i > 0 ? ", " : "",
			             json_string_value(json_object_get(row, "dev_eui")),
			             json_string_value(json_object_get(row, "stack")));
		else
			k = snprintf(
			        names + pos, sizeof(names) - pos, "%s%s (at most %lld)",
			        i > 0 ? ", " : "",
			        json_string_value(json_object_get(row, "dev_eui")),
			        (long long)json_integer_value(json_object_get(row, "max_frags")));
		if (k < 0 || (size_t)k >= sizeof(names) - pos)
			break;
		pos += (size_t)k;
	}
	if (n > 0 && in->plan.parts > 1)
		api_reply(c, 409, "device_parts", "devices",
		          "the image goes in %u parts of %u fragments; %zu device(s) cannot take "
		          "them: %s%s; leave out the devices whose stack (lbm, loramac-node) does "
		          "not assemble parts, declare them ts004 if their application reads the "
		          "part Descriptor, or set their max_frags",
		          in->plan.parts, in->plan.part_frags, n, names, n > 4 ? ", ..." : "");
	else if (n > 0)
		api_reply(c, 409, "device_memory", "devices",
		          "the job sends %u fragments, more than %zu device(s) take: %s%s; use a "
		          "larger fragment size or a smaller image, leave them out, or set their "
		          "max_frags if they take more",
		          in->plan.nb_frag, n, names, n > 4 ? ", ..." : "");
	json_decref(w);
	return n == 0;
}

bool api_job_store_upload(struct api_call *c, const struct mp_part *file, const char *job_name,
                          int64_t *id)
{
	const char *name = file->filename[0] ? file->filename : job_name;
	char *json = NULL;
	json_t *row;
	int rc = store_firmware_create(c->api->store, c->auth.tenant_id, name, file->data,
	                               file->len, &json);

	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "firmware");
		return false;
	}
	row = json_loads(json, 0, NULL);
	*id = row ? (int64_t)json_integer_value(json_object_get(row, "id")) : 0;
	json_decref(row);
	free(json);
	if (*id <= 0) {
		api_reply(c, 500, "internal", NULL, "firmware stored without id");
		return false;
	}
	return true;
}

void api_job_upload_drop(struct api_call *c, int64_t id)
{
	if (store_firmware_delete(c->api->store, c->auth.tenant_id, id) != FUOTA_OK)
		log_msg(LOG_LVL_WARN, "tenant %lld: firmware %lld of a refused job not deleted",
		        (long long)c->auth.tenant_id, (long long)id);
}

void api_h_job_create(struct api_call *c)
{
	struct job_input *in = malloc(sizeof(*in));
	struct store_job_create sj = {0};
	char bad[17] = "", why[64] = "", *plan = NULL, *json = NULL;
	json_t *pj;
	int64_t uploaded = 0;
	int rc;

	if (!in) {
		api_reply(c, 500, "internal", NULL, "out of memory");
		return;
	}
	if (!job_input(c, true, in) || !api_job_devices_fit(c, in))
		goto out;
	/* An omitted multicast timeout is stored as the one the plan chose. */
	if (!in->p.multicast_timeout_s)
		in->p.multicast_timeout_s = (unsigned)in->plan.mc_timeout_s;
	pj = api_job_plan_json(&in->plan);
	if (!api_job_plan_version_check(c, in, pj)) {
		json_decref(pj);
		goto out;
	}
	plan = pj ? json_dumps(pj, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
	json_decref(pj);
	if (!plan) {
		api_reply(c, 500, "internal", NULL, "out of memory");
		goto out;
	}
	if (in->file && !api_job_store_upload(c, in->file, in->p.name, &uploaded))
		goto out;
	sj.params = &in->p;
	sj.plan_json = plan;
	sj.firmware_id = in->file ? uploaded : in->p.firmware_id;
	rc = store_job_create(c->api->store, c->auth.tenant_id, &sj, &json, bad, why);
	api_job_create_reply(c, rc, json, bad, why, in->p.region, sj.firmware_id);
	if (rc == FUOTA_OK)
		log_msg(LOG_LVL_INFO, "tenant %lld: job created for %zu devices (%u frames)",
		        (long long)c->auth.tenant_id, in->p.n_devices, in->plan.total_frames);
	if (rc != FUOTA_OK && uploaded)
		api_job_upload_drop(c, uploaded);
out:
	free(plan);
	free(json);
	job_params_free(&in->p);
	json_decref(in->devices);
	free(in);
}

void api_job_create_reply(struct api_call *c, int rc, const char *json, const char *bad,
                          const char *why, const char *region, int64_t firmware_id)
{
	if (rc == FUOTA_ERR_INVALID_ARG) {
		if (strcmp(why, "unknown") == 0 || strcmp(why, "malformed") == 0)
			api_reply(c, 400, "invalid_field", "devices", "%s device %s", why, bad);
		else
			api_reply(c, 400, "invalid_field", "devices",
			          "device %s is in region %s, the job in %s", bad, why, region);
	} else if (rc == FUOTA_ERR_NOT_FOUND) {
		api_reply(c, 400, "invalid_field", "firmware_id", "unknown firmware %lld",
		          (long long)firmware_id);
	} else if (rc == FUOTA_ERR_CONFLICT) {
		api_reply(c, 409, "conflict", "devices",
		          "a device of the job was deleted while the job was being created");
	} else if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "job");
	} else {
		api_reply_text(c, 201, strdup(json));
	}
}

static const char *const job_states[] = {"pending", "running",   "paused", "succeeded",
                                         "failed",  "cancelled", NULL};

void api_h_job_list(struct api_call *c)
{
	const char *state = c->req->get(c->req->conn, API_KV_QUERY, "state");
	const char *children = c->req->get(c->req->conn, API_KV_QUERY, "children");
	struct store_paging pg;
	struct store_page page;
	int rc;

	if (!api_page_params(c, &pg))
		return;
	if (state) {
		const char *const *s = job_states;

		while (*s && strcmp(*s, state) != 0)
			s++;
		if (!*s) {
			api_reply(c, 400, "invalid_field", "state",
			          "state must be pending, running, paused, succeeded, failed or "
			          "cancelled");
			return;
		}
	}
	/* A job across regions is listed as its parent unless the children are asked for. */
	if (children && strcmp(children, "true") != 0 && strcmp(children, "false") != 0) {
		api_reply(c, 400, "invalid_field", "children", "children must be true or false");
		return;
	}
	rc = store_job_list(c->api->store, c->auth.tenant_id, state,
	                    children && strcmp(children, "true") == 0, &pg, &page);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "job");
		return;
	}
	api_reply_page(c, &page, &pg);
}

void api_h_job_get(struct api_call *c)
{
	int64_t id;
	char *json;
	int rc;

	if (!api_param_id(c, &id))
		return;
	rc = store_job_get(c->api->store, c->auth.tenant_id, id, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "job");
		return;
	}
	api_reply_text(c, 200, json);
}

typedef int (*job_page_fn)(struct store *s, int64_t tenant, int64_t id, unsigned limit,
                           unsigned long offset, char **json);

static void job_page(struct api_call *c, job_page_fn fn)
{
	unsigned limit;
	unsigned long offset;
	int64_t id;
	char *json;
	int rc;

	if (!api_param_id(c, &id) || !api_paging(c, &limit, &offset))
		return;
	rc = fn(c->api->store, c->auth.tenant_id, id, limit, offset, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "job");
		return;
	}
	api_reply_list(c, json, limit, offset);
}

void api_h_job_events(struct api_call *c)
{
	job_page(c, store_job_events);
}

static void job_action(struct api_call *c, const char *action)
{
	int64_t id;
	char *json = NULL;
	int rc;

	if (!api_param_id(c, &id))
		return;
	rc = store_job_action(c->api->store, c->auth.tenant_id, id, action, &json);
	if (rc == FUOTA_ERR_STATE) {
		api_reply(c, 409, "invalid_state", "state", "cannot %s a job that is %s", action,
		          json ? json : "in this state");
		free(json);
		return;
	}
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "job");
		return;
	}
	api_reply_text(c, 200, json);
}

void api_h_job_cancel(struct api_call *c)
{
	job_action(c, "cancel");
}

void api_h_job_pause(struct api_call *c)
{
	job_action(c, "pause");
}

void api_h_job_resume(struct api_call *c)
{
	job_action(c, "resume");
}

void api_h_job_retry(struct api_call *c)
{
	enum job_retry_verdict v;
	int64_t id, new_id;
	char why[160], *json = NULL;
	int rc;

	if (!api_param_id(c, &id))
		return;
	rc = store_job_retry(c->api->store, c->auth.tenant_id, id, &new_id, &v, why, sizeof(why));
	if (rc == FUOTA_ERR_STATE) {
		api_reply(c, 409, job_retry_code(v), v == JOB_RETRY_NOT_FINISHED ? "state" : NULL,
		          "cannot retry job %lld: %s", (long long)id, why);
		return;
	}
	if (rc == FUOTA_ERR_CONFLICT) {
		api_reply(c, 409, "conflict", "devices",
		          "a device of the job was deleted while the retry was being created");
		return;
	}
	if (rc == FUOTA_OK)
		rc = store_job_get(c->api->store, c->auth.tenant_id, new_id, &json);
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "job");
		return;
	}
	api_reply_text(c, 201, json);
}

void api_h_job_delete(struct api_call *c)
{
	int64_t id;
	int rc;

	if (!api_param_id(c, &id))
		return;
	rc = store_job_delete(c->api->store, c->auth.tenant_id, id);
	if (rc == FUOTA_ERR_STATE) {
		api_reply(c, 409, "invalid_state", "state",
		          "only finished jobs (succeeded, failed, cancelled) can be deleted");
		return;
	}
	if (rc == FUOTA_ERR_CONFLICT) {
		api_reply(c, 409, "region_job", NULL,
		          "job %lld is a region of a job across regions: delete that job (its "
		          "parent_id), which deletes its regions",
		          (long long)id);
		return;
	}
	if (rc != FUOTA_OK) {
		api_reply_store_error(c, rc, "job");
		return;
	}
	c->resp->status = 204;
	c->resp->body = strdup("");
	c->resp->content_type = "application/json";
}
