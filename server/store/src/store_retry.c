/* Retry the failed (issue 14): a new job for the devices of a finished job that did not get the
 * image, in functions of their own so that the job statements of store_job.c stay as they are. */
#include <stdio.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/log.h"
#include "store_int.h"

/* The facts job_retry_decide needs, read with the job's row locked (two retries of one job take
 * turns, and the second sees the first). NOT_FOUND when the job is not the tenant's. */
static int retry_facts(PGconn *c, const char *const *vals, char *state, size_t cap,
                       struct job_retry_facts *f)
{
	PGresult *r = NULL;
	int rc;

	/* The image stays until the retry commits: a firmware delete waits, then sees the job
	 * (as in store_job_create). */
	rc = store_run(c,
	               "SELECT 1 FROM firmware WHERE tenant_id = $1 AND id = "
	               "(SELECT firmware_id FROM job WHERE tenant_id = $1 AND id = $2) "
	               "FOR KEY SHARE",
	               2, vals, NULL);
	if (rc != FUOTA_OK)
		return rc;
	rc = store_run(c,
	               "SELECT j.state, "
	               "  EXISTS (SELECT 1 FROM firmware f WHERE f.id = j.firmware_id), "
	               "  (SELECT count(*) FROM job_device jd JOIN job k ON k.id = jd.job_id "
	               "    JOIN device dv "
	               "    ON dv.tenant_id = jd.tenant_id AND dv.dev_eui = jd.dev_eui "
	               "    WHERE (k.id = j.id OR k.parent_id = j.id) AND jd.step <> 'done' "
	               "    AND upper(dv.region) = upper(k.region)), "
	               "  (SELECT min(r.id) FROM job r WHERE r.retry_of = j.id "
	               "    AND r.state IN ('pending', 'running', 'paused')), "
	               "  coalesce(round(extract(epoch FROM j.reboot_at) * 1000)::bigint, 0), "
	               "  coalesce(j.reboot_in_s, 0), "
	               "  round(extract(epoch FROM now()) * 1000)::bigint "
	               "FROM job j WHERE j.tenant_id = $1 AND j.id = $2 FOR UPDATE OF j",
	               2, vals, &r);
	if (rc != FUOTA_OK)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return FUOTA_ERR_NOT_FOUND;
	}
	snprintf(state, cap, "%s", PQgetvalue(r, 0, 0));
	f->state = state;
	f->has_firmware = PQgetvalue(r, 0, 1)[0] == 't';
	f->devices_failed = (uint64_t)store_get_i64(r, 0, 2);
	f->open_retry = store_get_i64(r, 0, 3);
	f->reboot_at_ms = store_get_i64(r, 0, 4);
	f->reboot_in_s = (uint32_t)store_get_i64(r, 0, 5);
	f->now_ms = store_get_i64(r, 0, 6);
	PQclear(r);
	return FUOTA_OK;
}

/* The new job: the first one's image and settings (its plan too: the same image and settings
 * make the same plan), its devices that are not done and are still the tenant's in the job's
 * region, start at once; events on both jobs. Returns its id and whether it is across regions.
 * $3: the new job's parent (a region's retry in the retry of a job across regions), NULL for any
 * other. A parent's retry copies its regions and has no devices of its own (retry_regions adds
 * its children). $4, $5: its reboot_in_s (NULL: none) and whether it keeps the first one's
 * reboot_at (job_retry_reboot; one not kept is named in its state event). */
#define RETRY_INSERT                                                                             \
	"WITH src AS (SELECT * FROM job WHERE tenant_id = $1 AND id = $2), "                     \
	"devs AS (SELECT jd.dev_eui FROM job_device jd JOIN src ON src.id = jd.job_id "          \
	"  JOIN device dv ON dv.tenant_id = jd.tenant_id AND dv.dev_eui = jd.dev_eui "           \
	"  WHERE jd.step <> 'done' AND upper(dv.region) = upper(src.region)), "                  \
	"j AS (INSERT INTO job (tenant_id, name, firmware_id, region, data_rate, frequency_hz, " \
	"  fragment_size, redundancy_frames, redundancy_percent, unicast_timeout_s, "            \
	"  unicast_attempts, multicast_class, multicast_timeout_s, ping_slot_periodicity, "      \
	"  plan, device_count, tx_power_dbm, keep_multicast_group, target_version, "             \
	"  reboot_in_s, reboot_at, retry_of, regions, parent_id) "                               \
	"  SELECT tenant_id, left(name, 180) || ' (retry of ' || id || ')', firmware_id, "       \
	"  region, data_rate, frequency_hz, fragment_size, redundancy_frames, "                  \
	"  redundancy_percent, unicast_timeout_s, unicast_attempts, multicast_class, "           \
	"  multicast_timeout_s, ping_slot_periodicity, plan - 'multicast_reuse', "               \
	"  (SELECT count(*) FROM devs), tx_power_dbm, keep_multicast_group, target_version, "    \
	"  $4::integer, CASE WHEN $5::boolean THEN reboot_at END, "                              \
	"  id, regions, $3::bigint FROM src "                                                    \
	"  RETURNING id, regions IS NOT NULL AS across), "                                       \
	"jd AS (INSERT INTO job_device (job_id, tenant_id, dev_eui) "                            \
	"  SELECT j.id, $1, devs.dev_eui FROM j, devs), "                                        \
	"ev AS (INSERT INTO event (tenant_id, job_id, kind, data) SELECT $1, j.id, 'state', "    \
	"  json_strip_nulls(json_build_object('to', 'pending', 'retry_of', $2::bigint, "         \
	"  'reboot_at_passed', (SELECT CASE WHEN NOT $5::boolean THEN reboot_at END "            \
	"  FROM src))) "                                                                         \
	"  FROM j), "                                                                            \
	"ev0 AS (INSERT INTO event (tenant_id, job_id, kind, data) SELECT $1, $2, 'log', "       \
	"  json_build_object('retried_by', j.id, 'devices', (SELECT count(*) FROM devs)) "       \
	"  FROM j) "                                                                             \
	"SELECT id, across FROM j"

/* The retry (new_id) of a job across regions (vals: RETRY_INSERT's): a child per region
 * of the first that has devices to retry, each the retry of its region's child, then the new
 * parent's device count. */
static int retry_regions(PGconn *c, const char *const *vals, int64_t new_id)
{
	char nid[24];
	PGresult *k = NULL;
	int rc = store_run(c,
	                   "SELECT k.id FROM job k WHERE k.parent_id = $2 AND k.tenant_id = $1 "
	                   "AND EXISTS (SELECT 1 FROM job_device jd JOIN device dv ON "
	                   "dv.tenant_id = jd.tenant_id AND dv.dev_eui = jd.dev_eui WHERE "
	                   "jd.job_id = k.id AND jd.step <> 'done' AND upper(dv.region) = "
	                   "upper(k.region)) ORDER BY k.id",
	                   2, vals, &k);

	store_i64(nid, new_id);
	for (int i = 0; rc == FUOTA_OK && i < PQntuples(k); i++) {
		const char *cv[5] = {vals[0], PQgetvalue(k, i, 0), nid, vals[3], vals[4]};

		rc = store_run(c, RETRY_INSERT, 5, cv, NULL);
	}
	PQclear(k);
	if (rc == FUOTA_OK)
		rc = store_job_parent_count(c, vals[0], nid);
	return rc;
}

int store_job_retry(struct store *s, int64_t tenant, int64_t id, int64_t *new_id,
                    enum job_retry_verdict *verdict, char *why, size_t cap)
{
	char tid[24], jid[24], rb[24], state[16], sqlstate[6] = "";
	const char *vals[5] = {store_i64(tid, tenant), store_i64(jid, id), NULL, NULL, "f"};
	struct job_retry_facts f;
	bool keep_at = false;
	uint32_t reboot_in_s;
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc;

	*new_id = 0;
	*verdict = JOB_RETRY_OK;
	if (cap)
		why[0] = 0;
	rc = store_run(c, "BEGIN", 0, NULL, NULL);
	if (rc == FUOTA_OK)
		rc = retry_facts(c, vals, state, sizeof(state), &f);
	if (rc != FUOTA_OK)
		goto out;
	*verdict = job_retry_decide(&f, why, cap);
	if (*verdict != JOB_RETRY_OK) {
		rc = FUOTA_ERR_STATE;
		goto out;
	}
	reboot_in_s = job_retry_reboot(&f, &keep_at);
	vals[3] = reboot_in_s ? store_i64(rb, reboot_in_s) : NULL;
	vals[4] = keep_at ? "t" : "f";
	rc = store_run_ex(c, RETRY_INSERT, 5, vals, NULL, NULL, sqlstate, &r);
	if (rc == FUOTA_OK) {
		*new_id = store_get_i64(r, 0, 0);
		/* A job across regions (it copied the first one's regions) is retried per
		 * region. */
		if (PQntuples(r) == 1 && PQgetvalue(r, 0, 1)[0] == 't')
			rc = retry_regions(c, vals, *new_id);
	}
	if (rc != FUOTA_OK) {
		/* A device deleted meanwhile (its delete locked it first). */
		if (strcmp(sqlstate, STORE_SQLSTATE_FK) == 0)
			rc = FUOTA_ERR_CONFLICT;
		*new_id = 0;
		goto out;
	}
	rc = store_run(c, "COMMIT", 0, NULL, NULL);
	if (rc == FUOTA_OK)
		log_msg(LOG_LVL_INFO, "job %lld: retried as job %lld for %llu devices",
		        (long long)id, (long long)*new_id, (unsigned long long)f.devices_failed);
	else
		*new_id = 0;
out:
	PQclear(r);
	rc = store_release_rc(s, c, rc); /* rolls back an open transaction */
	return rc;
}
