/* One job across regions (issue 14): a job created with "regions" is one parent job (what the
 * operator sees and acts on) and one child job per region, an ordinary job the engine runs with
 * that region's devices, data rate, frequency and gateways. Each region's session differs in
 * fragment size (its DR's payload), timing, duty cycle and gateways, so each is its own
 * campaign; the parent only derives its state from its children's. Pure: no I/O. */
#ifndef FUOTA_JOB_REGIONS_H
#define FUOTA_JOB_REGIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/api_error.h"
#include "fuota/plan.h"

/* The most regions one job may span. */
#define JOB_REGIONS_MAX 8

/* One region of a job: the session fields that differ per region (the others are the job's). */
struct job_region {
	char region[16]; /* as given; job_regions_check makes it the canonical name */
	unsigned data_rate;
	uint64_t frequency_hz;
	unsigned fragment_size;    /* 0: the largest the data rate carries */
	int ping_slot_periodicity; /* class B: 0..7, -1 unless given */
	bool has_tx_power;
	int tx_power_dbm;
};

/* Checks a job's regions r[0..n) against lorawan/'s tables as plan_compute does: n in
 * 1..JOB_REGIONS_MAX, each region known (then renamed to its canonical name), its data_rate a
 * downlink DR of it, its frequency_hz a downlink frequency of it, no region twice (any case).
 * dev_regions[0..n_dev) are the regions of the job's devices (as the store has them, any case,
 * repeats allowed): each must be one of r, else the device's region is named. Errors are 400 on
 * "regions[i].region", "regions[i].data_rate", "regions[i].frequency_hz", "regions" or
 * "devices". Returns FUOTA_OK or FUOTA_ERR_INVALID_ARG (e). */
int job_regions_check(struct job_region *r, size_t n, const char *const *dev_regions, size_t n_dev,
                      struct api_error *e);

/* The index in r[0..n) of the region named region (any case), or -1. */
int job_regions_find(const struct job_region *r, size_t n, const char *region);

/* A child job's parameters: base (the job's fields, without region ones) with r's region, data
 * rate, frequency and per-region session fields. out->dev_euis and n_devices are left as in
 * base: the caller gives the child its region's devices. */
void job_regions_child(const struct job_params *base, const struct job_region *r,
                       struct job_params *out);

/* The parent job's state from its children's states[0..n) (each one of pending, running,
 * paused, succeeded, failed, cancelled): running while any child runs; else paused while any is
 * paused; else, while any is pending, running if another child already started or ended, pending
 * if none did; once all ended: succeeded when all succeeded, failed when any failed (some regions
 * updated, some not: the job did not do what it was asked), cancelled otherwise. An unknown
 * state counts as running (unfinished and not waiting). n 0: "pending". Returns a static
 * string. */
const char *job_parent_state(const char *const *states, size_t n);

#endif
