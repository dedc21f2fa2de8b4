/* The values a job takes for the fields its request left out (issue 14: a job with only the
 * seed's fields is accepted). The seed (ChirpStack's firmware update job) names: name, firmware
 * file, redundant frames, unicast timeout, data rate, frequency, multicast group type, multicast
 * timeout and the devices; every other field of POST /api/v1/jobs has a default decided here, and
 * the job stores the value used so that GET shows it. Pure: no I/O. */
#ifndef FUOTA_JOB_DEFAULTS_H
#define FUOTA_JOB_DEFAULTS_H

#include <stddef.h>
#include <stdint.h>

#include "fuota/api_error.h"
#include "fuota/plan.h"

/* unicast_attempts when the request gives none: each unicast step is sent up to 3 times (the
 * chirpstack-fuota-server's sync_retries, CHIRPSTACK-NOTES). */
#define JOB_DEFAULT_UNICAST_ATTEMPTS 3u

/* Fills the fields of p that need no image or plan: unicast_attempts (0: not given). */
void job_defaults_fields(struct job_params *p);

/* The job's region when p->region is "" (not given): the region of its devices. regions holds
 * the distinct regions of p's devices (n of them, as the store has them, any case). One region:
 * p->region becomes its canonical name. Several, or none without devices: 400 on "region"
 * saying why; none with devices (none of them known): 400 on "devices". A region given is kept.
 * Returns
 * FUOTA_OK or FUOTA_ERR_INVALID_ARG (e). */
int job_defaults_region(struct job_params *p, const char *const *regions, size_t n,
                        struct api_error *e);

/* A job's reboot_at (TS006 DevRebootTimeReq, Unix ms; reboot_at_ms 0: not given) checked at
 * creation at now_ms: one at or before now_ms is refused (400 on "reboot_at"): the devices
 * would only be told to reboot at once (engine_reboot_late), which is not what a time asks for.
 * Returns FUOTA_OK or FUOTA_ERR_INVALID_ARG (e). */
int job_reboot_at_check(int64_t reboot_at_ms, int64_t now_ms, struct api_error *e);

/* Class B ping-slot periodicity when the request gives none: the sparsest ping slots (the largest
 * periodicity, the least listening for the devices) that still carry every frame the duty cycle
 * lets through a beacon period, frame_interval_us being one frame's airtime stretched by the
 * duty cycle (job_plan.frame_interval_us). The session is then no longer than with periodicity
 * 0. Returns 0..7. */
int job_default_periodicity(uint64_t frame_interval_us);

/* plan_compute_adaptive after the plan-dependent defaults: a class B job without periodicity
 * gets job_default_periodicity of its frame interval; fragment_size (0) becomes the plan's, and
 * tx_power_dbm (not given) the EIRP the plan sends at. p is updated so that the stored job holds
 * the values used; the plan is the same as with them given. Returns as plan_compute_adaptive. */
int job_defaults_plan(struct job_params *p, size_t firmware_size, const struct plan_adaptive *a,
                      struct job_plan *out, struct api_error *e);

#endif
