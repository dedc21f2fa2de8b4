/* What the plan needs to know of a job's devices: their stacks and fragment limits (issue 16). */
#include <stdlib.h>

#include "fuota/err.h"
#include "store_array.h"
#include "store_int.h"

int store_device_limits(struct store *s, int64_t tenant, const char (*dev_euis)[17], size_t n,
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
	                "SELECT coalesce(json_agg(json_build_object('dev_eui', dev_eui, "
	                "'stack', stack, 'max_frags', max_frags) ORDER BY dev_eui), '[]') "
	                "FROM device WHERE tenant_id = $1 AND dev_eui = ANY ($2::text[]) "
	                "AND (max_frags IS NOT NULL OR stack <> 'ts004')",
	                2, vals, json);
	free(list);
	return rc;
}
