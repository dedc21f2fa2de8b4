/* The "regions" of a job across regions (fuota/job_regions.h) from a job request's JSON object:
 * untrusted input, every element checked and named in the error ("regions[1].data_rate"). */
#include <stdio.h>
#include <string.h>

#include "fuota/api_decode.h"
#include "fuota/err.h"

/* The fields a region sets for its own session: given in each of regions, never beside it. */
static const char *const region_fields[] = {"region",
                                            "data_rate",
                                            "frequency_hz",
                                            "fragment_size",
                                            "tx_power_dbm",
                                            "ping_slot_periodicity",
                                            NULL};

/* regions[i].key as an integer in min..max: *has false when absent (required: an error). */
static int region_int(json_t *o, size_t i, const char *key, bool required, long long min,
                      long long max, long long *out, bool *has, struct api_error *e)
{
	json_t *v = json_object_get(o, key);
	char field[48];

	snprintf(field, sizeof(field), "regions[%zu].%s", i, key);
	*has = false;
	if (!v || json_is_null(v))
		return required ? api_error_field(e, field, "%s is required", field) : FUOTA_OK;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return api_error_field(e, field, "%s must be an integer in %lld..%lld", field, min,
		                       max);
	*out = json_integer_value(v);
	*has = true;
	return FUOTA_OK;
}

static int region_decode(json_t *o, size_t i, struct job_region *r, struct api_error *e)
{
	const char *key;
	json_t *v, *name;
	char field[64];
	long long n = 0;
	bool has;
	int rc;

	memset(r, 0, sizeof(*r));
	r->ping_slot_periodicity = -1;
	snprintf(field, sizeof(field), "regions[%zu]", i);
	if (!json_is_object(o))
		return api_error_field(e, field, "%s must be an object", field);
	json_object_foreach(o, key, v)
	{
		const char *const *f = region_fields;

		(void)v;
		while (*f && strcmp(*f, key) != 0)
			f++;
		if (!*f) {
			snprintf(field, sizeof(field), "regions[%zu].%.20s", i, key);
			return api_error_field(e, field, "unknown field \"%.20s\" in regions[%zu]",
			                       key, i);
		}
	}
	name = json_object_get(o, "region");
	snprintf(field, sizeof(field), "regions[%zu].region", i);
	if (!json_is_string(name) || json_string_length(name) == 0 ||
	    json_string_length(name) >= sizeof(r->region) ||
	    strlen(json_string_value(name)) != json_string_length(name))
		return api_error_field(e, field, "%s must be a region name (EU868, US915, ...)",
		                       field);
	memcpy(r->region, json_string_value(name), json_string_length(name) + 1);
	if ((rc = region_int(o, i, "data_rate", true, 0, 15, &n, &has, e)) != FUOTA_OK)
		return rc;
	r->data_rate = (unsigned)n;
	if ((rc = region_int(o, i, "frequency_hz", true, 1, 10000000000ll, &n, &has, e)) !=
	    FUOTA_OK)
		return rc;
	r->frequency_hz = (uint64_t)n;
	if ((rc = region_int(o, i, "fragment_size", false, 1, 252, &n, &has, e)) != FUOTA_OK)
		return rc;
	r->fragment_size = has ? (unsigned)n : 0;
	if ((rc = region_int(o, i, "ping_slot_periodicity", false, 0, 7, &n, &has, e)) != FUOTA_OK)
		return rc;
	r->ping_slot_periodicity = has ? (int)n : -1;
	if ((rc = region_int(o, i, "tx_power_dbm", false, 0, 100, &n, &r->has_tx_power, e)) !=
	    FUOTA_OK)
		return rc;
	r->tx_power_dbm = r->has_tx_power ? (int)n : 0;
	return FUOTA_OK;
}

int api_decode_regions(json_t *obj, struct job_region *out, size_t *n, struct api_error *e)
{
	json_t *arr = json_object_get(obj, "regions");
	int rc;

	*n = 0;
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > JOB_REGIONS_MAX)
		return api_error_field(e, "regions",
		                       "regions must be a JSON array of 1 to %d regions, each "
		                       "{region, data_rate, frequency_hz}",
		                       JOB_REGIONS_MAX);
	for (const char *const *f = region_fields; *f; f++)
		if (json_object_get(obj, *f))
			return api_error_field(e, *f,
			                       "%s is given per region with regions: give it in "
			                       "each of regions, not beside it",
			                       *f);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		rc = region_decode(json_array_get(arr, i), i, &out[i], e);
		if (rc != FUOTA_OK)
			return rc;
	}
	*n = json_array_size(arr);
	return FUOTA_OK;
}
