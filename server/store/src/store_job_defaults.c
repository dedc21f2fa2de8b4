/* The region a job without one defaults to (fuota/job_defaults.h): its devices' regions, in a
 * function of its own so that the job statements of store_job.c stay as they are. */
#include <stdlib.h>

#include "fuota/err.h"
#include "store_array.h"
#include "store_int.h"

int store_device_regions(struct store *s, int64_t tenant, const char (*dev_euis)[17], size_t n,
                         char **json)
{
	char tid[24], *list = NULL;
	const char *vals[2];
	int rc;

	*json = NULL;
	rc = store_array_dev_euis(dev_euis, n, &list);
	if (rc != FUOTA_OK)
		return rc;
	vals[0] = store_i64(tid, tenant);
	vals[1] = list;
	rc = store_json(s,
	                "SELECT coalesce(json_agg(DISTINCT upper(region)), '[]') FROM device "
	                "WHERE tenant_id = $1 AND dev_eui = ANY($2::text[])",
	                2, vals, json);
	free(list);
	return rc;
}
