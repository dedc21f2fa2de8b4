/* Job leases (see fuota/store_engine.h, struct seng_lease). Every time a lease is compared with
 * is the database's now(), never a host's clock: two fuotads whose clocks disagree read the
 * same expiry. */
#include <stdio.h>

#include "fuota/err.h"
#include "fuota/store_engine.h"
#include "store_int.h"

/* SQL true while the session $pid (0: unchecked) holds the instance lock of name $owner (the
 * key store_lock.c takes). */
#define FENCE(owner, pid)                                                                    \
	"(" pid "::int = 0 OR EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "   \
	"AND granted AND pid = " pid "::int AND objsubid = 2 AND classid = " STORE_LOCK_KEY1 \
	" AND objid = (hashtext(" owner ")::bigint & 4294967295)::oid))"

int seng_claim(struct store *s, const struct seng_lease *who, int64_t now_ms, int64_t lease_ms,
               unsigned max, int64_t *ids, size_t *n)
{
	char now[24], ms[24], lim[24], pid[24];
	const char *vals[5] = {who->owner, store_i64(now, now_ms), store_i64(ms, lease_ms),
	                       store_i64(lim, max), store_i64(pid, who->lock_pid)};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc;

	*n = 0;
	rc = store_run(
	        c,
	        "WITH c AS (SELECT j.id FROM job j WHERE j.regions IS NULL "
	        "  AND (j.state IN ('pending', 'running') "
	        "  OR (j.state = 'cancelled' AND EXISTS (SELECT 1 FROM engine_job e "
	        "      WHERE e.job_id = j.id AND e.phase <> 'done'))) "
	        "  AND (j.start_at IS NULL OR j.start_at <= to_timestamp($2::bigint / 1000.0)) "
	        "  AND (j.lease_owner IS NULL OR j.lease_owner = $1 OR j.lease_until IS NULL "
	        "      OR j.lease_until < now()) "
	        "  AND " FENCE(
	                "$1", "$5") " "
	                            "  ORDER BY j.id LIMIT $4 FOR UPDATE SKIP LOCKED) "
	                            "UPDATE job SET lease_owner = $1, "
	                            "  lease_until = now() + $3::bigint * interval '1 millisecond' "
	                            "FROM c WHERE job.id = c.id RETURNING job.id",
	        5, vals, &r);
	if (rc == FUOTA_OK) {
		for (int i = 0; i < PQntuples(r) && *n < max; i++)
			ids[(*n)++] = store_get_i64(r, i, 0);
	}
	PQclear(r);
	store_release(s, c);
	return rc;
}

int seng_release(struct store *s, const struct seng_lease *who, int64_t job_id)
{
	char id[24], pid[24];
	const char *vals[3] = {who->owner, store_i64(id, job_id), store_i64(pid, who->lock_pid)};
	long rows;

	return store_command(s,
	                     "UPDATE job SET lease_owner = NULL, lease_until = NULL "
	                     "WHERE lease_owner = $1 AND ($2::bigint = 0 OR id = $2) "
	                     "AND " FENCE("$1", "$3"),
	                     3, vals, &rows);
}

int store_lease_hold(PGconn *c, int64_t job_id, const struct seng_lease *who)
{
	char jid[24], pid[24];
	const char *vals[3] = {store_i64(jid, job_id), who->owner ? who->owner : "",
	                       store_i64(pid, who->lock_pid)};
	PGresult *r = NULL;
	int rc;

	/* FOR KEY SHARE: a claim (FOR UPDATE SKIP LOCKED) passes the row by until we commit,
	 * while the API's updates of the job (state, plan) are not held up. */
	rc = store_run(
	        c,
	        "SELECT 1 FROM job WHERE id = $1 AND lease_owner = $2 AND lease_until > now() "
	        "AND " FENCE("$2", "$3") " FOR KEY SHARE",
	        3, vals, &r);
	if (rc == FUOTA_OK && PQntuples(r) != 1)
		rc = FUOTA_ERR_STATE;
	PQclear(r);
	return rc;
}
