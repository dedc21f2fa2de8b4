/* Multicast groups kept across jobs (sql/041_keep_multicast_group.sql, fuota/mc_reuse.h): which
 * group each device holds, a job started on a group of an earlier job, and the record of a
 * device keeping or losing its group. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/store_engine.h"
#include "store_engine_int.h"

/* The group a live job other than $1 uses is busy: its counter and its session are taken. */
#define MC_BUSY_SQL                                                         \
	"EXISTS (SELECT 1 FROM job o WHERE o.id = g.job_id AND o.id <> $1 " \
	"  AND o.state IN ('pending', 'running', 'paused'))"

/* Job $1 (tenant $2) takes group $3: the engine row ($4..$10 the session) on it. */
static const char REUSE_SQL[] =
        "WITH g AS (UPDATE multicast_group g SET job_id = $1 WHERE g.id = $3 "
        "  AND g.tenant_id = $2 AND g.key_job_id IS NOT NULL AND NOT " MC_BUSY_SQL
        "  RETURNING g.id) "
        "INSERT INTO engine_job (job_id, mc_group_id, frag_size, nb_frag, padding, "
        "  redundancy, adaptive, redundancy_cap, session_timeout, mc_reused) "
        "SELECT $1, g.id, $4, $5, $6, $7, $8, $9, $10, true FROM g RETURNING job_id";
static const char PLAN_SQL[] =
        "UPDATE job SET plan = plan || jsonb_build_object('multicast_reuse', "
        "  jsonb_build_object('group', $2::bigint, 'mc_addr', (SELECT lpad(to_hex(mc_addr), 8, "
        "  '0') FROM multicast_group WHERE id = $2::bigint), 'devices_holding', $3::bigint, "
        "  'frames_saved', $4::bigint)) WHERE id = $1";
static const char SKIP_SQL[] = "UPDATE job_device SET mc_reused = true "
                               "WHERE job_id = $1 AND dev_eui = ANY($2::text[])";

int store_mc_reuse_start(PGconn *c, const struct seng_start *st, const char *const *v)
{
	char gid[24], *euis = NULL;
	const char *rv[10] = {v[0], v[1], NULL, v[4], v[5], v[6], v[7], v[8], v[9], v[10]};
	PGresult *r = NULL;
	int rc;

	rv[2] = store_i64(gid, st->reuse_group_id);
	rc = store_run(c, REUSE_SQL, 10, rv, &r);
	if (rc == FUOTA_OK && PQntuples(r) != 1)
		rc = FUOTA_ERR_CONFLICT;
	PQclear(r);
	if (rc == FUOTA_OK && st->n_skip > 0)
		rc = store_array_dev_euis(st->skip, st->n_skip, &euis);
	if (rc == FUOTA_OK && euis) {
		const char *sv[2] = {v[0], euis};
		rc = store_run(c, SKIP_SQL, 2, sv, NULL);
	}
	free(euis);
	if (rc == FUOTA_OK) {
		char n[24], fs[24];
		const char *pv[4] = {v[0], gid, store_i64(n, (int64_t)st->n_skip),
		                     store_i64(fs, (int64_t)st->frames_saved)};
		rc = store_run(c, PLAN_SQL, 4, pv, NULL);
	}
	return rc;
}

/* The devices of job $1 that hold a group of the job's tenant, kept after $2 (Unix ms,
 * mc_reuse_kept_after_ms: older records, or ones of no known time, have expired), with the
 * group. */
#define HELD_FROM                                                                         \
	"FROM job_device jd JOIN engine_device ed ON ed.dev_eui = jd.dev_eui "            \
	"JOIN multicast_group g ON g.id = ed.mc_group_id AND g.tenant_id = jd.tenant_id " \
	"WHERE jd.job_id = $1 AND ed.mc_kept_ms > $2::bigint "
static const char HELD_DEVS_SQL[] = "SELECT jd.dev_eui, g.id " HELD_FROM "ORDER BY jd.dev_eui";
static const char HELD_GROUPS_SQL[] =
        "SELECT g.id, count(*), " MC_BUSY_SQL ", g.key_job_id IS NOT NULL, g.fcnt " HELD_FROM
        "GROUP BY g.id ORDER BY g.id";

static int held_devs(PGconn *c, const char *const *v, struct seng_mc_held **devs, size_t *n)
{
	PGresult *r = NULL;
	int rc = store_run(c, HELD_DEVS_SQL, 2, v, &r);

	if (rc == FUOTA_OK && PQntuples(r) > 0) {
		*devs = calloc((size_t)PQntuples(r), sizeof(**devs));
		if (!*devs)
			rc = FUOTA_ERR_NO_MEMORY;
	}
	for (int i = 0; rc == FUOTA_OK && i < PQntuples(r); i++) {
		get_str(r, i, 0, (*devs)[i].dev_eui, sizeof((*devs)[i].dev_eui));
		(*devs)[i].group_id = store_get_i64(r, i, 1);
		(*n)++;
	}
	PQclear(r);
	return rc;
}

static int held_groups(PGconn *c, const char *const *v, struct mc_reuse_group **groups, size_t *n)
{
	PGresult *r = NULL;
	int rc = store_run(c, HELD_GROUPS_SQL, 2, v, &r);

	if (rc == FUOTA_OK && PQntuples(r) > 0) {
		*groups = calloc((size_t)PQntuples(r), sizeof(**groups));
		if (!*groups)
			rc = FUOTA_ERR_NO_MEMORY;
	}
	for (int i = 0; rc == FUOTA_OK && i < PQntuples(r); i++) {
		struct mc_reuse_group *g = &(*groups)[i];
		g->id = store_get_i64(r, i, 0);
		g->holders = (size_t)store_get_i64(r, i, 1);
		g->busy = get_bool(r, i, 2);
		g->key_ok = get_bool(r, i, 3);
		g->fcnt = (uint32_t)store_get_i64(r, i, 4);
		(*n)++;
	}
	PQclear(r);
	return rc;
}

int seng_mc_held(struct store *s, int64_t job_id, int64_t kept_after_ms, struct seng_mc_held **devs,
                 size_t *n_devs, struct mc_reuse_group **groups, size_t *n_groups)
{
	char jid[24], after[24];
	const char *v[2] = {store_i64(jid, job_id), store_i64(after, kept_after_ms)};
	PGconn *c = store_acquire(s);
	int rc;

	*devs = NULL;
	*groups = NULL;
	*n_devs = *n_groups = 0;
	rc = held_devs(c, v, devs, n_devs);
	if (rc == FUOTA_OK)
		rc = held_groups(c, v, groups, n_groups);
	store_release(s, c);
	if (rc != FUOTA_OK) {
		free(*devs);
		free(*groups);
		*devs = NULL;
		*groups = NULL;
		*n_devs = *n_groups = 0;
	}
	return rc;
}

static const char KEEP_SQL[] =
        "INSERT INTO engine_device AS e (dev_eui, mc_group_id, mc_kept_ms) "
        "VALUES ($1, $2::bigint, $3::bigint) ON CONFLICT (dev_eui) DO UPDATE "
        "SET mc_group_id = $2::bigint, mc_kept_ms = $3::bigint";
static const char FORGET_SQL[] = "UPDATE engine_device SET mc_group_id = NULL, mc_kept_ms = NULL "
                                 "WHERE dev_eui = $1 AND mc_group_id IS NOT NULL";

int seng_mc_keep(struct store *s, const char *dev_eui, int64_t group_id, int64_t now_ms)
{
	char gid[24], now[24];
	const char *v[3] = {dev_eui, store_i64(gid, group_id), store_i64(now, now_ms)};
	PGconn *c = store_acquire(s);
	int rc = store_run(c, group_id > 0 ? KEEP_SQL : FORGET_SQL, group_id > 0 ? 3 : 1, v, NULL);

	store_release(s, c);
	return rc;
}
