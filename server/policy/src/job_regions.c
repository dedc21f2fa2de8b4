/* One job across regions: the checks of "regions" and the parent's derived state (see
 * fuota/job_regions.h). */
#include "fuota/job_regions.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fuota/err.h"
#include "fuota/lw_region.h"

int job_regions_find(const struct job_region *r, size_t n, const char *region)
{
	const struct lw_region *want = lw_region_find(region);

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(r[i].region, region) == 0 ||
		    (want && strcasecmp(r[i].region, want->name) == 0))
			return (int)i;
	return -1;
}

/* r's region known, its DR and frequency valid there (the checks plan_compute makes). */
static int region_check(struct job_region *r, size_t i, struct api_error *e)
{
	const struct lw_region *lr = lw_region_find(r->region);
	const struct lw_dr *dr;
	char field[40];

	if (!lr) {
		snprintf(field, sizeof(field), "regions[%zu].region", i);
		return api_error_field(e, field, "unknown region \"%.15s\"", r->region);
	}
	snprintf(r->region, sizeof(r->region), "%s", lr->name);
	if (lw_region_dr(lr, r->data_rate, &dr) != FUOTA_OK) {
		snprintf(field, sizeof(field), "regions[%zu].data_rate", i);
		return api_error_field(e, field, "DR%u is not a downlink data rate of %s",
		                       r->data_rate, lr->name);
	}
	if (r->frequency_hz > UINT32_MAX || !lw_region_dl_freq_ok(lr, (uint32_t)r->frequency_hz)) {
		snprintf(field, sizeof(field), "regions[%zu].frequency_hz", i);
		return api_error_field(e, field, "%llu Hz is not a downlink frequency of %s",
		                       (unsigned long long)r->frequency_hz, lr->name);
	}
	return FUOTA_OK;
}

int job_regions_check(struct job_region *r, size_t n, const char *const *dev_regions, size_t n_dev,
                      struct api_error *e)
{
	int rc;

	if (n == 0 || n > JOB_REGIONS_MAX)
		return api_error_field(e, "regions", "regions must list 1 to %d regions",
		                       JOB_REGIONS_MAX);
	for (size_t i = 0; i < n; i++) {
		if ((rc = region_check(&r[i], i, e)) != FUOTA_OK)
			return rc;
		if (job_regions_find(r, i, r[i].region) >= 0) {
			char field[40];

			snprintf(field, sizeof(field), "regions[%zu].region", i);
			return api_error_field(e, field, "region %s is given twice", r[i].region);
		}
	}
	for (size_t i = 0; i < n_dev; i++)
		if (dev_regions[i] && job_regions_find(r, n, dev_regions[i]) < 0)
			return api_error_field(
			        e, "devices",
			        "a device is in region %.20s, which regions does not "
			        "list: add it to regions or leave its devices out",
			        dev_regions[i]);
	return FUOTA_OK;
}

void job_regions_child(const struct job_params *base, const struct job_region *r,
                       struct job_params *out)
{
	*out = *base;
	snprintf(out->region, sizeof(out->region), "%s", r->region);
	out->data_rate = r->data_rate;
	out->frequency_hz = r->frequency_hz;
	out->fragment_size = r->fragment_size;
	out->ping_slot_periodicity = r->ping_slot_periodicity;
	out->has_tx_power = r->has_tx_power;
	out->tx_power_dbm = r->tx_power_dbm;
}

static bool is(const char *s, const char *name)
{
	return s && strcmp(s, name) == 0;
}

const char *job_parent_state(const char *const *states, size_t n)
{
	size_t running = 0, paused = 0, pending = 0, failed = 0, cancelled = 0, succeeded = 0;

	for (size_t i = 0; i < n; i++) {
		if (is(states[i], "pending"))
			pending++;
		else if (is(states[i], "paused"))
			paused++;
		else if (is(states[i], "succeeded"))
			succeeded++;
		else if (is(states[i], "failed"))
			failed++;
		else if (is(states[i], "cancelled"))
			cancelled++;
		else
			running++; /* "running", or a state this code does not know */
	}
	if (n == 0)
		return "pending";
	if (running)
		return "running";
	if (paused)
		return "paused";
	if (pending)
		return pending == n ? "pending" : "running";
	if (failed)
		return "failed";
	return cancelled ? "cancelled" : "succeeded";
}
