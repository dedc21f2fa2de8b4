/* The region a job without one defaults to (fuota/job_defaults.h): its devices' regions, in a
 * function of its own so that the job statements of store_job.c stay as they are. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "store_int.h"

/* A text[] literal {eui,eui,...} of n DevEUIs (16 lowercase hex digits each, checked: they go
 * into the statement's parameter). NULL: no memory or a malformed DevEUI. */
static char *eui_array(const char (*dev_euis)[17], size_t n)
{
	char *list = malloc(n * 17 + 3);
	size_t pos = 0;

	if (!list)
		return NULL;
	list[pos++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (strspn(dev_euis[i], "0123456789abcdef") != 16 || dev_euis[i][16]) {
			free(list);
			return NULL;
		}
		if (i > 0)
			list[pos++] = ',';
		memcpy(list + pos, dev_euis[i], 16);
		pos += 16;
	}
	list[pos++] = '}';
	list[pos] = 0;
	return list;
}

int store_device_regions(struct store *s, int64_t tenant, const char (*dev_euis)[17], size_t n,
                         char **json)
{
	char tid[24], *list = eui_array(dev_euis, n);
	const char *vals[2] = {store_i64(tid, tenant), list};
	int rc;

	*json = NULL;
	if (!list)
		return FUOTA_ERR_INVALID_ARG;
	rc = store_json(s,
	                "SELECT coalesce(json_agg(DISTINCT upper(region)), '[]') FROM device "
	                "WHERE tenant_id = $1 AND dev_eui = ANY($2::text[])",
	                2, vals, json);
	free(list);
	return rc;
}
