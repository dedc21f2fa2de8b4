/* Private to api_job.c and api_job_regions.c: one job request as read and planned, and the
 * steps of its creation both files take. */
#ifndef FUOTA_API_JOB_INT_H
#define FUOTA_API_JOB_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api_int.h"
#include "fuota/multipart.h"
#include "fuota/plan.h"

#define MAX_PARTS 32

struct job_input {
	struct job_params p;
	struct mp_part parts[MAX_PARTS];
	const struct mp_part *file; /* the uploaded image, or NULL */
	size_t firmware_size;
	struct job_plan plan;
	json_t *devices; /* store_job_device_facts, read at first need (job_devices); NULL before */
};

/* Reads the job request obj (borrowed; its "firmware_size" is removed when read) into in (zeroed
 * and job_params_init'ed by the caller): decoded, defaulted, the image's size found, planned.
 * create: POST /jobs (devices required) rather than jobs:plan. False after replying the error. */
bool api_job_input_obj(struct api_call *c, json_t *obj, bool create, struct job_input *in);

/* The plan as the API shows it (new reference, NULL without memory). */
json_t *api_job_plan_json(const struct job_plan *pl);
/* Adds the version check of a job with a target_version to pj. False after replying. */
bool api_job_plan_version_check(struct api_call *c, struct job_input *in, json_t *pj);
/* The plan's warnings against the devices (new array), NULL after replying. */
json_t *api_job_plan_warnings(struct api_call *c, struct job_input *in);
/* The values of the defaulted fields the job would hold (new reference). */
json_t *api_job_settings_json(const struct job_params *p);
/* True when every device takes the plan; else false after replying 409. */
bool api_job_devices_fit(struct api_call *c, struct job_input *in);
/* Replies what store_job_create(_regions) answered: rc FUOTA_OK, 201 with json (copied); else
 * the error, bad and why as the store gave them, region the job's, firmware_id the image's. */
void api_job_create_reply(struct api_call *c, int rc, const char *json, const char *bad,
                          const char *why, const char *region, int64_t firmware_id);

/* Stores the image uploaded with a form (file, in the request's body) as a firmware object named
 * by its filename, else job_name; *id = its id. False after replying the error. */
bool api_job_store_upload(struct api_call *c, const struct mp_part *file, const char *job_name,
                          int64_t *id);
/* Deletes the image stored for a job that was then refused (a warning logged when it cannot). */
void api_job_upload_drop(struct api_call *c, int64_t id);

/* POST /jobs and /jobs:plan with "regions": one job across regions (fuota/job_regions.h). obj:
 * the request as an object (borrowed: a JSON body, or a form with "regions" as the same JSON
 * array); file: the image uploaded with a form (borrowed, in the request's body) or NULL.
 * (api_job_regions.c) */
void api_job_regions_create(struct api_call *c, json_t *obj, bool create,
                            const struct mp_part *file);

#endif
