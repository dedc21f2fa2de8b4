/* The live page's reads (fuota/store_live.h): events after a cursor, the newest event of
 * several jobs, a job's devices counted per step. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/store_live.h"
#include "store_array.h"
#include "store_int.h"

#define HEADS_MAX 1024

int store_events_after(struct store *s, int64_t tenant, int64_t id, int64_t after, unsigned limit,
                       struct store_page *page)
{
	static const struct store_col cols[] = {
	        {"id", STORE_COL_INT},          {"kind", STORE_COL_TEXT},
	        {"dev_eui", STORE_COL_TEXT},    {"data", STORE_COL_JSON},
	        {"created_at", STORE_COL_TIME}, {"job_id", STORE_COL_INT}};
	char tid[24], jid[24], aft[24], lim[24];
	const char *vals[4] = {store_i64(tid, tenant), store_i64(jid, id), store_i64(aft, after),
	                       store_i64(lim, limit)};

	/* event_job (job_id, id) serves it: the cursor costs no more than the first page. A
	 * parent job's stream carries its regions' events too, read the same way. */
	return store_page_query(s,
	                        "SELECT id, kind, dev_eui, data, created_at, job_id FROM ("
	                        "(SELECT * FROM event WHERE job_id = $2 AND tenant_id = $1 "
	                        "AND id > $3 ORDER BY id LIMIT $4) UNION ALL (SELECT e.* FROM "
	                        "event e JOIN job k ON k.id = e.job_id WHERE k.parent_id = $2 "
	                        "AND e.tenant_id = $1 AND e.id > $3 ORDER BY e.id LIMIT $4)) u "
	                        "ORDER BY id LIMIT $4",
	                        4, vals, cols, (int)(sizeof(cols) / sizeof(cols[0])), page);
}

int store_event_heads(struct store *s, const int64_t *jobs, size_t n, int64_t *heads)
{
	struct store_array a;
	const char *vals[1];
	char *arr = NULL;
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	if (n == 0)
		return FUOTA_OK;
	if (n > HEADS_MAX)
		return FUOTA_ERR_INVALID_ARG;
	/* The jobs as one array parameter. */
	store_array_init(&a, STORE_ARRAY_MAX);
	for (size_t i = 0; i < n; i++)
		store_array_i64(&a, jobs[i]);
	rc = store_array_end(&a, &arr);
	if (rc != FUOTA_OK)
		return rc;
	vals[0] = arr;
	c = store_acquire(s);
	/* One index probe per job (max of event_job backwards), not a scan of their logs; a
	 * parent job's head is its regions' too (no child: one probe of job_parent). */
	rc = store_run(c,
	               "SELECT greatest((SELECT max(e.id) FROM event e WHERE e.job_id = j.id), "
	               "(SELECT max(e.id) FROM event e JOIN job k ON k.id = e.job_id "
	               "WHERE k.parent_id = j.id)) "
	               "FROM unnest($1::bigint[]) WITH ORDINALITY AS j(id, ord) ORDER BY j.ord",
	               1, vals, &r);
	if (rc == FUOTA_OK && PQntuples(r) != (int)n)
		rc = FUOTA_ERR_IO;
	for (size_t i = 0; rc == FUOTA_OK && i < n; i++)
		heads[i] = store_get_i64(r, (int)i, 0);
	PQclear(r);
	rc = store_release_rc(s, c, rc);
	free(arr);
	return rc;
}

int store_job_summary(struct store *s, int64_t tenant, int64_t id, char **json)
{
	char tid[24], jid[24];
	const char *vals[2] = {store_i64(tid, tenant), store_i64(jid, id)};
#define JOBS       "ARRAY(SELECT $2::bigint UNION ALL SELECT id FROM job WHERE parent_id = $2)"
#define JOBS_STEPS STORE_STEPS_JSON("job_id = ANY (" JOBS ")")

	/* NULL (NOT_FOUND) when the job is not the tenant's. A parent job's devices and engine
	 * counters are its regions' children's together (sql/045_job_regions.sql); its events
	 * (last_event_id, the live stream's cursor) are its own. The devices, by step and done at
	 * the TS006 version check, are the database's counters (sql/047_job_step_count.sql,
	 * sql/048_on_target_count.sql): a few rows a job, not a scan of its devices at each of
	 * the live page's polls. */
	return store_json(
	        s,
	        "SELECT CASE WHEN EXISTS (SELECT 1 FROM job WHERE tenant_id = $1 "
	        "AND id = $2) THEN json_build_object('job_id', $2::bigint, "
	        "'total', (SELECT coalesce(sum(n), 0)::bigint FROM job_step_count "
	        "WHERE job_id = ANY (" JOBS ")), "
	        "'steps', " JOBS_STEPS ", "
	        "'already_on_target', (SELECT coalesce(sum(on_target), 0)::bigint "
	        "FROM job_step_count WHERE job_id = ANY (" JOBS ")), "
	        "'last_event_id', (SELECT coalesce(max(id), 0) FROM event "
	        "WHERE job_id = $2), "
	        /* The engine's counters (null before it took the job up). */
	        "'fragments', (SELECT sum(coalesce(nb_frag, 0)) FROM engine_job "
	        "WHERE job_id = ANY (" JOBS ")), "
	        "'frames_sent', (SELECT sum(coalesce(frames_sent, 0)) FROM engine_job "
	        "WHERE job_id = ANY (" JOBS ")), "
	        "'frames_resent', (SELECT sum(coalesce(frames_resent, 0)) FROM engine_job "
	        "WHERE job_id = ANY (" JOBS "))) END",
	        2, vals, json);
#undef JOBS_STEPS
#undef JOBS
}

int store_job_devices_in(struct store *s, int64_t tenant, int64_t id, const char *step,
                         unsigned limit, unsigned long offset, char **json)
{
	char tid[24], jid[24], lim[24], off[24];
	const char *vals[5] = {store_i64(tid, tenant), store_i64(jid, id), store_i64(lim, limit),
	                       store_i64(off, (int64_t)offset), step};

	/* A parent job's devices are its regions' children's (sql/045_job_regions.sql). NULL
	 * (NOT_FOUND) when the job is not the tenant's. ($5 IS NULL) keeps one plan for
	 * both; job_device_due (job_id, step, ...) serves a step. The fragment counts are those of
	 * the device's last FragSessionStatusAns (TS004 NbFragReceived, MissingFrag): the answer
	 * after the session when last_answer still holds it, else a status round's during the
	 * session, kept while the device is in the session, its status step or failed (a later
	 * step's answer replaces last_answer, and a round's counts are stale once it is done). */
	return store_json(
	        s,
	        "SELECT CASE WHEN EXISTS (SELECT 1 FROM job WHERE tenant_id = $1 "
	        "AND id = $2) THEN (SELECT coalesce(json_agg(json_build_object("
	        "'dev_eui', d.dev_eui, 'job_id', d.job_id, 'region', (SELECT region FROM job "
	        "WHERE id = d.job_id), 'step', d.step, 'part', d.part + 1, "
	        "'attempts', d.attempts, 'deadline', d.deadline, 'last_answer', d.last_answer, "
	        "'failure_reason', d.failure_reason, 'updated_at', d.updated_at, "
	        "'fragments_received', CASE WHEN d.fsa THEN "
	        "d.last_answer->'received' WHEN d.round_kept THEN "
	        "to_jsonb(d.status_received) END, 'missing_fragments', CASE WHEN d.fsa THEN "
	        "d.last_answer->'missing' WHEN d.round_kept THEN "
	        "to_jsonb(d.status_missing) END) ORDER BY d.dev_eui), '[]') FROM (SELECT *, "
	        "coalesce(last_answer->>'answer' = 'FragSessionStatusAns', false) AS fsa, "
	        "step IN ('session', 'frag_status', 'failed') AS round_kept "
	        "FROM (" STORE_JOB_AND_CHILDREN("job_device", "dev_eui",
	                                        "($5::text IS NULL OR t.step = $5)") ") x) d) END",
	        5, vals, json);
}

int store_device_jobs(struct store *s, int64_t tenant, const char *dev_eui, unsigned limit,
                      unsigned long offset, char **json)
{
	char tid[24], lim[24], off[24];
	const char *vals[4] = {store_i64(tid, tenant), dev_eui, store_i64(lim, limit),
	                       store_i64(off, (int64_t)offset)};

	/* job_device_device (tenant_id, dev_eui) finds the device's rows. A region's child job
	 * says its parent (the job across regions the operator made). */
	return store_json(s,
	                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM device WHERE tenant_id = $1 "
	                  "AND dev_eui = $2) THEN (SELECT coalesce(json_agg(json_build_object("
	                  "'job_id', x.id, 'name', x.name, 'state', x.state, 'region', x.region, "
	                  "'firmware_id', x.firmware_id, 'firmware_name', x.firmware_name, "
	                  "'created_at', x.created_at, 'finished_at', x.finished_at, "
	                  "'step', x.step, 'attempts', x.attempts, "
	                  "'failure_reason', x.failure_reason, 'last_answer', x.last_answer, "
	                  "'updated_at', x.updated_at, 'parent_id', x.parent_id) "
	                  "ORDER BY x.id DESC), '[]') FROM "
	                  "(SELECT j.id, j.name, j.state, j.region, j.firmware_id, j.parent_id, "
	                  "f.name AS firmware_name, j.created_at, j.finished_at, d.step, "
	                  "d.attempts, d.failure_reason, d.last_answer, d.updated_at "
	                  "FROM job_device d JOIN job j ON j.id = d.job_id "
	                  "LEFT JOIN firmware f ON f.id = j.firmware_id "
	                  "WHERE d.tenant_id = $1 AND d.dev_eui = $2 AND j.tenant_id = $1 "
	                  "ORDER BY j.id DESC LIMIT $3 OFFSET $4) x) END",
	                  4, vals, json);
}
