/* One job across regions (sql/045_job_regions.sql, fuota/job_regions.h): the parent job's state
 * kept as its children's derive it, whenever a child's state changes (the engine starts or ends
 * it, an action moves it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/job_regions.h"
#include "fuota/log.h"
#include "fuota/store_engine.h"
#include "store_array.h"
#include "store_int.h"

static bool finished(const char *state)
{
	return strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0 ||
	       strcmp(state, "cancelled") == 0;
}

/* Writes the parent's new state `to` (from `from`) and its state event, on c. */
static int parent_set(PGconn *c, const char *pid, const char *from, const char *to,
                      const char *action)
{
	const char *vals[5] = {pid, to, finished(to) ? "true" : "false", from, action};

	return store_run(
	        c,
	        "WITH u AS (UPDATE job SET state = $2, updated_at = now(), "
	        "  paused_from = NULL, "
	        "  started_at = CASE WHEN $2 <> 'pending' THEN coalesce(started_at, "
	        "    now()) END, "
	        "  finished_at = CASE WHEN $3::boolean THEN coalesce(finished_at, now()) "
	        "  END WHERE id = $1 RETURNING tenant_id) "
	        "INSERT INTO event (tenant_id, job_id, kind, data) SELECT tenant_id, "
	        "$1::bigint, 'state', json_strip_nulls(json_build_object('from', $4::text, "
	        "'to', $2::text, 'action', $5::text)) FROM u",
	        5, vals, NULL);
}

int store_job_parent_sync(PGconn *c, int64_t parent_id, const char *action,
                          struct seng_parent_change *out)
{
	char pid[24];
	const char *vals[1] = {store_i64(pid, parent_id)};
	const char **states = NULL;
	const char *to;
	PGresult *p = NULL, *k = NULL;
	int rc = store_run(c, "SELECT state FROM job WHERE id = $1 FOR UPDATE", 1, vals, &p);

	if (rc == FUOTA_OK)
		rc = store_run(c, "SELECT state FROM job WHERE parent_id = $1 ORDER BY id", 1, vals,
		               &k);
	if (rc != FUOTA_OK || PQntuples(p) == 0)
		goto out;
	states = calloc((size_t)PQntuples(k) + 1, sizeof(*states));
	if (!states) {
		rc = FUOTA_ERR_NO_MEMORY;
		goto out;
	}
	for (int i = 0; i < PQntuples(k); i++)
		states[i] = PQgetvalue(k, i, 0);
	to = job_parent_state(states, (size_t)PQntuples(k));
	if (strcmp(to, PQgetvalue(p, 0, 0)) != 0) {
		rc = parent_set(c, pid, PQgetvalue(p, 0, 0), to, action);
		if (rc == FUOTA_OK)
			log_msg(LOG_LVL_INFO, "job %lld: %s (was %s), from its regions",
			        (long long)parent_id, to, PQgetvalue(p, 0, 0));
		if (rc == FUOTA_OK && out) {
			out->parent_id = parent_id;
			snprintf(out->from, sizeof(out->from), "%s", PQgetvalue(p, 0, 0));
			snprintf(out->to, sizeof(out->to), "%s", to);
		}
	}
out:
	free(states);
	PQclear(p);
	PQclear(k);
	return rc;
}

int seng_job_parent_sync(struct store *s, int64_t job_id, struct seng_parent_change *out)
{
	char jid[24];
	const char *vals[1] = {store_i64(jid, job_id)};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = store_run(c, "SELECT parent_id FROM job WHERE id = $1 AND parent_id IS NOT NULL", 1,
	               vals, &r);

	if (rc != FUOTA_OK || PQntuples(r) == 0)
		goto out;
	rc = store_run(c, "BEGIN", 0, NULL, NULL);
	if (rc == FUOTA_OK)
		rc = store_job_parent_sync(c, store_get_i64(r, 0, 0), NULL, out);
	if (rc == FUOTA_OK)
		rc = store_run(c, "COMMIT", 0, NULL, NULL);
out:
	PQclear(r);
	return store_release_rc(s, c, rc); /* rolls back an open transaction */
}

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
	rc = store_json(
	        s,
	        "SELECT coalesce(json_object_agg(dev_eui, upper(region)), '{}') FROM device "
	        "WHERE tenant_id = $1 AND dev_eui = ANY ($2::text[])",
	        2, vals, json);
	free(list);
	return rc;
}
