/* What a job's live page reads: the events after a given one (the Server-Sent Events stream and
 * its Last-Event-ID resume), the newest event id of several jobs at once (the stream hub's one
 * query per tick), and the job's devices counted per step (a 10,000-device job's page reads
 * the counts, not every device). */
#ifndef FUOTA_STORE_LIVE_H
#define FUOTA_STORE_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "fuota/store.h"

/* At most limit events of job id (the tenant's; a parent job's: its regions' too) with an id
 * above after, oldest first, as a JSON array of {id, kind, dev_eui, data, created_at, job_id}
 * in page (items malloc'd; last = the last id).
 * Does not check that the job exists (the stream did when it opened). FUOTA_ERR_IO. */
int store_events_after(struct store *s, int64_t tenant, int64_t id, int64_t after, unsigned limit,
                       struct store_page *page);

/* heads[i] = the newest event id of jobs[i] (a parent job's: of its regions' too; 0: none), for
 * n jobs (n <= 1024), one statement. FUOTA_OK, FUOTA_ERR_INVALID_ARG (n), FUOTA_ERR_IO. */
int store_event_heads(struct store *s, const int64_t *jobs, size_t n, int64_t *heads);

/* {"job_id", "total", "steps": {step: count, ...}, "already_on_target", "last_event_id",
 * "fragments", "frames_sent", "frames_resent"} of job id (a parent's: its regions' together;
 * the devices from the database's counters, the frame counters the engine's, null before it
 * took the job up). NOT_FOUND when the job is not the tenant's. *json malloc'd. */
int store_job_summary(struct store *s, int64_t tenant, int64_t id, char **json);

/* As store_job_devices, of the devices in step (NULL: any step), ordered by DevEUI. */
int store_job_devices_in(struct store *s, int64_t tenant, int64_t id, const char *step,
                         unsigned limit, unsigned long offset, char **json);

/* The jobs device dev_eui (lowercase) was in, newest first: {job_id, name, state, region,
 * firmware_id, firmware_name, created_at, finished_at, and the device's step, attempts,
 * failure_reason, last_answer, updated_at in it}. NOT_FOUND when the device is not the
 * tenant's. *json malloc'd (a JSON array). */
int store_device_jobs(struct store *s, int64_t tenant, const char *dev_eui, unsigned limit,
                      unsigned long offset, char **json);

#endif
