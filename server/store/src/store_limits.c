/* What a job's plan needs to know of its devices, in one query: the region a job without one
 * defaults to (fuota/job_defaults.h), their stacks and fragment limits (issue 16), and how many
 * have TS006 (asked DevVersionReq when the job has a target_version). */
#include <stdlib.h>

#include "fuota/err.h"
#include "store_array.h"
#include "store_int.h"

/* $1 tenant, $2 the DevEUIs as a text[]: the devices read once (d), then both answers. */
static const char JOB_DEVICES_SQL[] =
        "WITH d AS (SELECT dev_eui, region, stack, max_frags, ts006_version FROM device "
        "  WHERE tenant_id = $1 AND dev_eui = ANY ($2::text[])) "
        "SELECT json_build_object("
        "'ts006_devices', (SELECT count(*) FROM d WHERE ts006_version >= 1), "
        "'regions', (SELECT coalesce(json_agg(DISTINCT upper(region)), '[]') FROM d), "
        "'limits', (SELECT coalesce(json_agg(json_build_object('dev_eui', dev_eui, "
        "  'stack', stack, 'max_frags', max_frags) ORDER BY dev_eui), '[]') "
        "  FROM d WHERE max_frags IS NOT NULL OR stack <> 'ts004'))";

int store_job_device_facts(struct store *s, int64_t tenant, const char (*dev_euis)[17], size_t n,
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
	rc = store_json(s, JOB_DEVICES_SQL, 2, vals, json);
	free(list);
	return rc;
}
