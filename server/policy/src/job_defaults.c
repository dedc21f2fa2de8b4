/* Defaults of the job fields the seed does not name (see fuota/job_defaults.h). */
#include "fuota/job_defaults.h"

#include <stdio.h>
#include <strings.h>

#include "fuota/err.h"
#include "fuota/lw_region.h"

#define BEACON_PERIOD_US 128000000ull
#define MAX_PERIODICITY  7

void job_defaults_fields(struct job_params *p)
{
	if (p->unicast_attempts == 0)
		p->unicast_attempts = JOB_DEFAULT_UNICAST_ATTEMPTS;
}

int job_reboot_at_check(int64_t reboot_at_ms, int64_t now_ms, struct api_error *e)
{
	if (reboot_at_ms == 0 || reboot_at_ms > now_ms)
		return FUOTA_OK;
	return api_error_field(e, "reboot_at",
	                       "reboot_at is in the past: give a later time (the devices reboot "
	                       "then), or reboot_in_s");
}

int job_defaults_region(struct job_params *p, const char *const *regions, size_t n,
                        struct api_error *e)
{
	const struct lw_region *r;

	if (p->region[0])
		return FUOTA_OK;
	if (n == 0 && p->n_devices > 0)
		return api_error_field(e, "devices",
		                       "none of the job's devices is known (create them first)");
	if (n == 0)
		return api_error_field(e, "region",
		                       "region is required when the job names no known device "
		                       "(it defaults to the devices' region)");
	for (size_t i = 1; i < n; i++)
		if (strcasecmp(regions[i], regions[0]) != 0)
			return api_error_field(e, "region",
			                       "the devices are in several regions (%.20s, %.20s): "
			                       "give region, and only that region's devices",
			                       regions[0], regions[i]);
	r = lw_region_find(regions[0]);
	if (!r)
		return api_error_field(e, "region", "the devices' region \"%.20s\" is unknown",
		                       regions[0]);
	snprintf(p->region, sizeof(p->region), "%s", r->name);
	return FUOTA_OK;
}

int job_default_periodicity(uint64_t frame_interval_us)
{
	/* Frames the duty cycle lets through one beacon period; periodicity k opens
	 * 2^(7 - k) ping slots in it. */
	uint64_t fit = frame_interval_us ? BEACON_PERIOD_US / frame_interval_us : 128;
	int k = MAX_PERIODICITY;

	while (k > 0 && (1ull << (MAX_PERIODICITY - k)) < fit)
		k--;
	return k;
}

int job_defaults_plan(struct job_params *p, size_t firmware_size, const struct plan_adaptive *a,
                      struct job_plan *out, struct api_error *e)
{
	int rc;

	if (p->multicast_class == 'B' && p->ping_slot_periodicity < 0) {
		/* The frame interval does not depend on the periodicity: a first plan with any
		 * valid one gives it. */
		p->ping_slot_periodicity = 0;
		rc = plan_compute(p, firmware_size, out, e);
		if (rc != FUOTA_OK) {
			p->ping_slot_periodicity = -1;
			return rc;
		}
		p->ping_slot_periodicity = job_default_periodicity(out->frame_interval_us);
	}
	rc = plan_compute_adaptive(p, firmware_size, a, out, e);
	if (rc != FUOTA_OK)
		return rc;
	if (!p->fragment_size)
		p->fragment_size = out->fragment_size;
	if (!p->has_tx_power) {
		p->has_tx_power = true;
		p->tx_power_dbm = out->tx_power_dbm;
	}
	return FUOTA_OK;
}
