/* Jobs, their devices and events. Creating a job for 10,000 devices is two statements: one that
 * checks every DevEUI through unnest(), one that inserts the job, its devices and its first event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/store_live.h"
#include "store_array.h"
#include "store_int.h"
#include "store_stats.h"

/* A parent job's regions (sql/045_job_regions.sql): each child's region, session fields, state,
 * engine phase, part and devices per step (the database's counters, sql/047_job_step_count.sql:
 * a few rows a child, not a count of its devices); null for any other job. */
#define CHILD_STEPS STORE_STEPS_JSON("job_id = k.id")
#define REGIONS_JSON                                                                              \
	"CASE WHEN j.regions IS NULL THEN NULL ELSE (SELECT coalesce(json_agg(json_build_object(" \
	"'job_id', k.id, 'region', k.region, 'state', k.state, "                                  \
	"'phase', coalesce(ej.phase, 'setup'), 'part', k.part + 1, "                              \
	"'parts', greatest(coalesce((k.plan->>'parts')::int, 1), 1), "                            \
	"'data_rate', k.data_rate, 'frequency_hz', k.frequency_hz, "                              \
	"'fragment_size', k.fragment_size, 'tx_power_dbm', k.tx_power_dbm, "                      \
	"'ping_slot_periodicity', k.ping_slot_periodicity, 'device_count', k.device_count, "      \
	"'steps', " CHILD_STEPS ", "                                                              \
	"'error', k.error) "                                                                      \
	"ORDER BY k.id), '[]') FROM job k LEFT JOIN engine_job ej ON ej.job_id = k.id "           \
	"WHERE k.parent_id = j.id) END"

#define JOB_JSON                                                                                 \
	"json_build_object('id', j.id, 'name', j.name, 'firmware_id', j.firmware_id, "           \
	"'state', j.state, 'region', j.region, 'data_rate', j.data_rate, "                       \
	"'frequency_hz', j.frequency_hz, 'fragment_size', j.fragment_size, "                     \
	"'redundancy_frames', j.redundancy_frames, 'redundancy_percent', j.redundancy_percent, " \
	"'unicast_timeout_s', j.unicast_timeout_s, 'unicast_attempts', j.unicast_attempts, "     \
	"'multicast_class', j.multicast_class, 'multicast_timeout_s', j.multicast_timeout_s, "   \
	"'ping_slot_periodicity', j.ping_slot_periodicity, 'tx_power_dbm', j.tx_power_dbm, "     \
	"'start_at', j.start_at, 'retry_of', j.retry_of, "                                       \
	"'keep_multicast_group', j.keep_multicast_group, 'target_version', j.target_version, "   \
	"'reboot_in_s', j.reboot_in_s, 'reboot_at', j.reboot_at, "                               \
	"'parts', greatest(coalesce((j.plan->>'parts')::int, 1), 1), 'part', j.part + 1, "       \
	"'retries', (SELECT coalesce(json_agg(r.id ORDER BY r.id), '[]') FROM job r "            \
	"  WHERE r.retry_of = j.id), "                                                           \
	"'device_count', j.device_count, 'plan', j.plan, 'error', j.error, "                     \
	"'created_at', j.created_at, 'updated_at', j.updated_at, 'started_at', j.started_at, "   \
	"'finished_at', j.finished_at, 'parent_id', j.parent_id, 'regions', " REGIONS_JSON ")"

#define FINISHED "('succeeded', 'failed', 'cancelled')"

/* The job's DevEUIs as a text[] literal, *out malloc'd (store_array.h). A DevEUI that is not 16
 * lowercase hex digits is refused (FUOTA_ERR_INVALID_ARG), copied into bad_dev_eui with why
 * "malformed". */
static int deveui_array(const struct job_params *p, char **out, char *bad_dev_eui, char *why)
{
	int rc = store_array_dev_euis((const char(*)[17])p->dev_euis, p->n_devices, out);

	for (size_t i = 0; rc == FUOTA_ERR_INVALID_ARG && i < p->n_devices; i++)
		if (strspn(p->dev_euis[i], "0123456789abcdef") != 16 || p->dev_euis[i][16]) {
			snprintf(bad_dev_eui, 17, "%s", p->dev_euis[i]);
			snprintf(why, 64, "malformed");
			break;
		}
	return rc;
}

static int check_devices(PGconn *c, const char *tenant, const char *array, const char *region,
                         char *bad_dev_eui, char *why)
{
	const char *vals[3] = {tenant, array, region};
	PGresult *r = NULL;
	int rc = store_run(c,
	                   "SELECT x.d, dv.region FROM unnest($2::text[]) x(d) "
	                   "LEFT JOIN device dv ON dv.tenant_id = $1 AND dv.dev_eui = x.d "
	                   "WHERE dv.dev_eui IS NULL OR upper(dv.region) <> upper($3) LIMIT 1",
	                   3, vals, &r);

	if (rc != FUOTA_OK)
		return rc;
	if (PQntuples(r) > 0) {
		snprintf(bad_dev_eui, 17, "%s", PQgetvalue(r, 0, 0));
		snprintf(why, 64, "%s", PQgetisnull(r, 0, 1) ? "unknown" : PQgetvalue(r, 0, 1));
		rc = FUOTA_ERR_INVALID_ARG;
	}
	PQclear(r);
	return rc;
}

static const char *opt_int(char *buf, long v)
{
	if (v < 0)
		return NULL;
	snprintf(buf, 24, "%ld", v);
	return buf;
}

/* store_job_create's insert: the job ($1..$16 and $18..$24 its columns, $17 its DevEUIs as a
 * text[]), its devices and its first event in one statement; answers the job as JOB_JSON. */
static const char JOB_CREATE_SQL[] =
        "WITH j AS (INSERT INTO job (tenant_id, name, firmware_id, region, data_rate, "
        "frequency_hz, fragment_size, redundancy_frames, redundancy_percent, "
        "unicast_timeout_s, unicast_attempts, multicast_class, multicast_timeout_s, "
        "ping_slot_periodicity, start_at, plan, device_count, tx_power_dbm, "
        "keep_multicast_group, target_version, reboot_in_s, reboot_at, parent_id, regions) "
        "VALUES ($1, $2, $3, coalesce((SELECT string_agg(x->>'region', ',') "
        "FROM jsonb_array_elements($24::jsonb) x), $4), $5, $6, $7, $8, $9, $10, $11, $12, $13, "
        "$14, $15, "
        "$16::jsonb, cardinality($17::text[]), $18, $19, $20, $21, $22, $23, $24::jsonb) "
        "RETURNING *), "
        "jd AS (INSERT INTO job_device (job_id, tenant_id, dev_eui) "
        "SELECT j.id, $1, x.d FROM j, unnest($17::text[]) x(d)), "
        "ev AS (INSERT INTO event (tenant_id, job_id, kind, data) "
        "SELECT $1, j.id, 'state', json_build_object('to', 'pending') FROM j) "
        "SELECT " JOB_JSON " FROM j";

/* Holds firmware fid of tenant tid until the transaction on c ends: FUOTA_ERR_NOT_FOUND when the
 * tenant has no such image. */
static int firmware_hold(PGconn *c, const char *tid, const char *fid)
{
	const char *vals[2] = {tid, fid};
	PGresult *r = NULL;
	int rc = store_run(c,
	                   "SELECT 1 FROM firmware WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE",
	                   2, vals, &r);

	if (rc == FUOTA_OK && PQntuples(r) == 0)
		rc = FUOTA_ERR_NOT_FOUND;
	PQclear(r);
	return rc;
}

/* Inserts job j of tenant tid (its devices checked first) on c, inside the caller's
 * transaction; *json = the job as JOB_JSON (malloc'd). Errors as store_job_create. */
static int job_insert(PGconn *c, const char *tid, const struct store_job_create *j, char **json,
                      char *bad_dev_eui, char *why)
{
	const struct job_params *p = j->params;
	char fid[24], dr[24], freq[24], fs[24], rf[24], rp[24], ut[24], ua[24], mt[24], ps[24],
	        tp[24], tv[24], rb[24], pid[24], cls[2] = {p->multicast_class, 0};
	char *array = NULL;
	char state[6];
	PGresult *r = NULL;
	int rc = deveui_array(p, &array, bad_dev_eui, why);

	*json = NULL;
	if (rc != FUOTA_OK)
		return rc;
	/* A parent (regions given) has no session of its own (sql/045_job_regions.sql). */
	const char *vals[24] = {tid,
	                        p->name,
	                        store_i64(fid, j->firmware_id),
	                        p->region,
	                        j->regions_json ? NULL : store_i64(dr, p->data_rate),
	                        j->regions_json ? NULL : store_i64(freq, (int64_t)p->frequency_hz),
	                        p->fragment_size ? store_i64(fs, p->fragment_size) : NULL,
	                        opt_int(rf, p->redundancy_frames),
	                        opt_int(rp, p->redundancy_percent),
	                        store_i64(ut, p->unicast_timeout_s),
	                        store_i64(ua, p->unicast_attempts),
	                        cls,
	                        store_i64(mt, p->multicast_timeout_s),
	                        opt_int(ps, p->ping_slot_periodicity),
	                        p->start_at[0] ? p->start_at : NULL,
	                        j->plan_json,
	                        array,
	                        p->has_tx_power ? store_i64(tp, p->tx_power_dbm) : NULL,
	                        p->keep_multicast_group ? "true" : "false",
	                        p->has_target_version ? store_i64(tv, p->target_version) : NULL,
	                        p->reboot_in_s ? store_i64(rb, p->reboot_in_s) : NULL,
	                        p->reboot_at[0] ? p->reboot_at : NULL,
	                        j->parent_id ? store_i64(pid, j->parent_id) : NULL,
	                        j->regions_json};

	if (!j->regions_json) {
		rc = check_devices(c, tid, array, p->region, bad_dev_eui, why);
		if (rc != FUOTA_OK)
			goto out;
	}
	rc = store_run_ex(c, JOB_CREATE_SQL, 24, vals, NULL, NULL, state, &r);
	if (rc != FUOTA_OK) {
		/* A device deleted between the check and the insert (the device delete locked it
		 * first): the job is not created. */
		if (strcmp(state, STORE_SQLSTATE_FK) == 0)
			rc = FUOTA_ERR_CONFLICT;
		goto out;
	}
	*json = strdup(PQgetvalue(r, 0, 0));
	rc = *json ? FUOTA_OK : FUOTA_ERR_NO_MEMORY;
out:
	PQclear(r);
	free(array);
	return rc;
}

/* The id in a job's JOB_JSON text, 0 when unreadable. */
static int64_t json_id(const char *json)
{
	const char *p = json ? strstr(json, "\"id\"") : NULL;

	return p ? strtoll(p + 4 + strspn(p + 4, " :"), NULL, 10) : 0;
}

/* A parent's device_count from its children's (store_int.h). */
int store_job_parent_count(PGconn *c, const char *tid, const char *parent)
{
	return store_run(c,
	                 "UPDATE job SET device_count = (SELECT coalesce(sum(device_count), 0) "
	                 "FROM job WHERE parent_id = $2) WHERE id = $2 AND tenant_id = $1",
	                 2, (const char *const[]){tid, parent}, NULL);
}

/* The parent's device count (its children's together) and its JOB_JSON again, on c. */
static int parent_reread(PGconn *c, const char *tid, int64_t parent, char **json)
{
	char jid[24];
	const char *vals[2] = {tid, store_i64(jid, parent)};
	PGresult *r = NULL;
	int rc = store_job_parent_count(c, tid, vals[1]);

	if (rc == FUOTA_OK)
		rc = store_run(
		        c, "SELECT " JOB_JSON " FROM job j WHERE j.tenant_id = $1 AND j.id = $2", 2,
		        vals, &r);
	if (rc == FUOTA_OK) {
		free(*json);
		*json = PQntuples(r) ? strdup(PQgetvalue(r, 0, 0)) : NULL;
		rc = *json ? FUOTA_OK : FUOTA_ERR_NO_MEMORY;
	}
	PQclear(r);
	return rc;
}

/* Job j, and its regions' jobs children[0..n) (none: n 0) under it, in one transaction that holds
 * the firmware row (KEY SHARE): the image is the tenant's and stays until the transaction ends; a
 * firmware delete waits for this lock, then sees the job (store_firmware_delete). */
int store_job_create_regions(struct store *s, int64_t tenant, const struct store_job_create *j,
                             const struct store_job_create *children, size_t n, char **json,
                             char *bad_dev_eui, char *why)
{
	char tid[24], fid[24];
	PGconn *c = store_acquire(s);
	int64_t pid = 0;
	int rc = FUOTA_ERR_IO;

	*json = NULL;
	store_i64(tid, tenant);
	store_i64(fid, j->firmware_id);
	if (store_run(c, "BEGIN", 0, NULL, NULL) != FUOTA_OK)
		goto out;
	rc = firmware_hold(c, tid, fid);
	if (rc != FUOTA_OK) {
		if (rc != FUOTA_ERR_NOT_FOUND)
			rc = FUOTA_ERR_IO;
		goto out;
	}
	rc = job_insert(c, tid, j, json, bad_dev_eui, why);
	pid = rc == FUOTA_OK && n > 0 ? json_id(*json) : 0;
	if (rc == FUOTA_OK && n > 0 && pid <= 0)
		rc = FUOTA_ERR_IO;
	for (size_t i = 0; rc == FUOTA_OK && i < n; i++) {
		struct store_job_create child = children[i];
		char *cj = NULL;

		child.parent_id = pid;
		child.regions_json = NULL;
		rc = job_insert(c, tid, &child, &cj, bad_dev_eui, why);
		free(cj);
	}
	if (rc == FUOTA_OK && n > 0)
		rc = parent_reread(c, tid, pid, json);
	if (rc == FUOTA_OK)
		rc = store_run(c, "COMMIT", 0, NULL, NULL);
out:
	if (rc != FUOTA_OK) {
		free(*json);
		*json = NULL;
	} else {
		/* Every region's rows: the parent has none of its own. */
		uint64_t rows = j->params->n_devices;

		for (size_t i = 0; i < n; i++)
			rows += children[i].params->n_devices;
		store_stats_refresh(c, "job_device", rows);
	}
	return store_release_rc(s, c, rc); /* rolls back an open transaction */
}

int store_job_create(struct store *s, int64_t tenant, const struct store_job_create *j, char **json,
                     char *bad_dev_eui, char *why)
{
	char *array = NULL;
	int rc = deveui_array(j->params, &array, bad_dev_eui, why);

	/* Malformed DevEUIs are refused before the database is asked. */
	*json = NULL;
	free(array);
	if (rc != FUOTA_OK)
		return rc;
	return store_job_create_regions(s, tenant, j, NULL, 0, json, bad_dev_eui, why);
}

/* A job in a list: what a dashboard shows. The plan and the transmission parameters are only in
 * GET /jobs/{id}: with them a page of 50 was 23 kB and PostgreSQL spent most of the request
 * building it. The first column is the page cursor. */
static const struct store_col job_summary[] = {
        {"id", STORE_COL_INT},           {"name", STORE_COL_TEXT},
        {"state", STORE_COL_TEXT},       {"firmware_id", STORE_COL_INT},
        {"region", STORE_COL_TEXT},      {"multicast_class", STORE_COL_TEXT},
        {"device_count", STORE_COL_INT}, {"error", STORE_COL_TEXT},
        {"start_at", STORE_COL_TIME},    {"created_at", STORE_COL_TIME},
        {"updated_at", STORE_COL_TIME},  {"started_at", STORE_COL_TIME},
        {"finished_at", STORE_COL_TIME}, {"parent_id", STORE_COL_INT},
};
#define JOB_SUMMARY_COLS                                                                         \
	"id, name, state, firmware_id, region, multicast_class, device_count, error, start_at, " \
	"created_at, updated_at, started_at, finished_at, parent_id"

int store_job_list(struct store *s, int64_t tenant, const char *state, bool children,
                   const struct store_paging *pg, struct store_page *page)
{
	char tid[24], lim[24], off[24], aft[24];
	const char *vals[6] = {store_i64(tid, tenant),
	                       store_i64(lim, pg->limit),
	                       store_i64(off, (int64_t)pg->offset),
	                       pg->after > 0 ? store_i64(aft, pg->after) : NULL,
	                       children ? "true" : "false",
	                       state};
	int ncols = (int)(sizeof(job_summary) / sizeof(job_summary[0]));

	/* Two statements rather than "($5 IS NULL OR state = $5)", so that each has the plain shape
	 * of its index: job_tenant (tenant_id, id) or job_tenant_state (tenant_id, state, id),
	 * scanned backwards from the cursor, no sort. */
	if (!state)
		return store_page_query(s,
		                        "SELECT " JOB_SUMMARY_COLS " FROM job WHERE tenant_id = $1 "
		                        "AND ($4::bigint IS NULL OR id < $4) "
		                        "AND ($5::boolean OR parent_id IS NULL) "
		                        "ORDER BY tenant_id DESC, id DESC LIMIT $2 OFFSET $3",
		                        5, vals, job_summary, ncols, page);
	return store_page_query(s,
	                        "SELECT " JOB_SUMMARY_COLS " FROM job WHERE tenant_id = $1 "
	                        "AND state = $6 AND ($4::bigint IS NULL OR id < $4) "
	                        "AND ($5::boolean OR parent_id IS NULL) "
	                        "ORDER BY tenant_id DESC, state DESC, id DESC LIMIT $2 OFFSET $3",
	                        6, vals, job_summary, ncols, page);
}

int store_job_get(struct store *s, int64_t tenant, int64_t id, char **json)
{
	char tid[24], jid[24];
	const char *vals[2] = {store_i64(tid, tenant), store_i64(jid, id)};

	return store_json(s, "SELECT " JOB_JSON " FROM job j WHERE j.tenant_id = $1 AND j.id = $2",
	                  2, vals, json);
}

int store_job_devices(struct store *s, int64_t tenant, int64_t id, unsigned limit,
                      unsigned long offset, char **json)
{
	return store_job_devices_in(s, tenant, id, NULL, limit, offset, json);
}

int store_job_events(struct store *s, int64_t tenant, int64_t id, unsigned limit,
                     unsigned long offset, char **json)
{
	char tid[24], jid[24], lim[24], off[24];
	const char *vals[4] = {store_i64(tid, tenant), store_i64(jid, id), store_i64(lim, limit),
	                       store_i64(off, (int64_t)offset)};

	return store_json(s,
	                  "SELECT CASE WHEN EXISTS (SELECT 1 FROM job WHERE tenant_id = $1 "
	                  "AND id = $2) THEN (SELECT coalesce(json_agg(json_build_object("
	                  "'id', e.id, 'kind', e.kind, 'dev_eui', e.dev_eui, 'data', e.data, "
	                  "'job_id', e.job_id, 'region', (SELECT region FROM job WHERE id = "
	                  "e.job_id), 'created_at', e.created_at) ORDER BY e.id), '[]') FROM "
	                  "(" STORE_JOB_AND_CHILDREN("event", "id", "t.tenant_id = $1") ") e) END",
	                  4, vals, json);
}

/* Which state each action accepts: cancel any unfinished job, pause a pending or running one,
 * resume a paused one back to where it was. One statement, row locked; its first column says
 * missing, state (not accepted: the third column is the state) or ok (the second is the job). */
static const char JOB_ACTION_SQL[] =
        "WITH x AS (SELECT id, state FROM job WHERE tenant_id = $1 AND id = $2 "
        "  FOR UPDATE), "
        "u AS (UPDATE job j SET "
        "  state = CASE $3 WHEN 'cancel' THEN 'cancelled' WHEN 'pause' THEN 'paused' "
        "    ELSE coalesce(j.paused_from, 'pending') END, "
        "  paused_from = CASE WHEN $3 = 'pause' THEN j.state END, "
        "  finished_at = CASE WHEN $3 = 'cancel' THEN now() ELSE j.finished_at END, "
        "  updated_at = now() "
        "  FROM x WHERE j.id = x.id AND ("
        "    ($3 = 'cancel' AND x.state IN ('pending', 'running', 'paused')) OR "
        "    ($3 = 'pause' AND x.state IN ('pending', 'running')) OR "
        "    ($3 = 'resume' AND x.state = 'paused')) RETURNING j.*), "
        "ev AS (INSERT INTO event (tenant_id, job_id, kind, data) "
        "  SELECT $1, u.id, 'state', json_build_object('from', x.state, 'to', u.state, "
        "  'action', $3) FROM u, x) "
        "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM x) THEN 'missing' "
        "  WHEN NOT EXISTS (SELECT 1 FROM u) THEN 'state' ELSE 'ok' END, "
        "  (SELECT " JOB_JSON " FROM u j), (SELECT state FROM x)";

/* The action on a parent job (vals: tenant, id, action; its row locked by the caller, in state
 * was): the action on each child that accepts it, then the parent's state from theirs; r = its
 * answer in JOB_ACTION_SQL's shape. A parent no child of which accepts it answers 'state'. */
static int parent_action(PGconn *c, const char *const *vals, const char *was, PGresult **r)
{
	PGresult *k = NULL;
	long done = 0;
	int rc = store_run(c, "SELECT id FROM job WHERE parent_id = $1 ORDER BY id", 1, vals + 1,
	                   &k);

	for (int i = 0; rc == FUOTA_OK && i < PQntuples(k); i++) {
		const char *cv[3] = {vals[0], PQgetvalue(k, i, 0), vals[2]};
		PGresult *cr = NULL;

		rc = store_run(c, JOB_ACTION_SQL, 3, cv, &cr);
		if (rc == FUOTA_OK && strcmp(PQgetvalue(cr, 0, 0), "ok") == 0)
			done++;
		PQclear(cr);
	}
	PQclear(k);
	if (rc == FUOTA_OK && done > 0)
		rc = store_job_parent_sync(c, strtoll(vals[1], NULL, 10), vals[2], NULL);
	if (rc == FUOTA_OK)
		rc = store_run(c,
		               "SELECT CASE WHEN $4 THEN 'ok' ELSE 'state' END, (SELECT " JOB_JSON
		               " FROM job j WHERE j.id = $2 AND j.tenant_id = $1), $5::text, $3",
		               5,
		               (const char *const[]){vals[0], vals[1], vals[2],
		                                     done > 0 ? "true" : "false", was},
		               r);
	return rc;
}

int store_job_action(struct store *s, int64_t tenant, int64_t id, const char *action, char **json)
{
	char tid[24], jid[24];
	const char *vals[3] = {store_i64(tid, tenant), store_i64(jid, id), action};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL, *w = NULL;
	int rc;

	*json = NULL;
	/* A parent acts on its children, a child's change shows in its parent
	 * (sql/045_job_regions.sql): one transaction, parent row locked first. */
	rc = store_run(c, "BEGIN", 0, NULL, NULL);
	if (rc == FUOTA_OK)
		rc = store_run(c,
		               "SELECT regions IS NOT NULL, parent_id, state FROM job WHERE "
		               "tenant_id = $1 "
		               "AND id = $2 FOR UPDATE",
		               2, vals, &w);
	if (rc != FUOTA_OK)
		goto out;
	if (PQntuples(w) == 0) {
		rc = FUOTA_ERR_NOT_FOUND;
		goto out;
	}
	if (strcmp(PQgetvalue(w, 0, 0), "t") == 0) {
		rc = parent_action(c, vals, PQgetvalue(w, 0, 2), &r);
	} else {
		rc = store_run(c, JOB_ACTION_SQL, 3, vals, &r);
		if (rc == FUOTA_OK && !PQgetisnull(w, 0, 1))
			rc = store_job_parent_sync(c, store_get_i64(w, 0, 1), action, NULL);
	}
	if (rc != FUOTA_OK)
		goto out;
	if (strcmp(PQgetvalue(r, 0, 0), "missing") == 0) {
		rc = FUOTA_ERR_NOT_FOUND;
	} else if (strcmp(PQgetvalue(r, 0, 0), "state") == 0) {
		rc = FUOTA_ERR_STATE;
		*json = strdup(PQgetvalue(r, 0, 2)); /* the current state, for the message */
	} else {
		*json = strdup(PQgetvalue(r, 0, 1));
		rc = *json ? store_run(c, "COMMIT", 0, NULL, NULL) : FUOTA_ERR_NO_MEMORY;
		if (rc == FUOTA_OK)
			log_msg(LOG_LVL_INFO, "job %lld: %s (was %s)", (long long)id, action,
			        PQgetvalue(r, 0, 2));
	}
out:
	PQclear(r);
	PQclear(w);
	rc = store_release_rc(s, c, rc); /* rolls back an open transaction */
	if (rc != FUOTA_OK && rc != FUOTA_ERR_STATE) {
		free(*json);
		*json = NULL;
	}
	return rc;
}

int store_job_delete(struct store *s, int64_t tenant, int64_t id)
{
	char tid[24], jid[24];
	const char *vals[2] = {store_i64(tid, tenant), store_i64(jid, id)};
	char *json = NULL;
	int rc = store_json(
	        s,
	        "WITH x AS (SELECT id, state, parent_id FROM job WHERE tenant_id = $1 AND id = "
	        "$2), "
	        "d AS (DELETE FROM job WHERE id IN (SELECT id FROM x "
	        "  WHERE state IN " FINISHED " AND parent_id IS NULL) RETURNING 1) "
	        "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM x) THEN 'missing' "
	        "WHEN EXISTS (SELECT 1 FROM d) THEN 'deleted' "
	        "WHEN (SELECT parent_id FROM x) IS NOT NULL THEN 'child' ELSE 'busy' END",
	        2, vals, &json);

	if (rc == FUOTA_OK) {
		if (strcmp(json, "missing") == 0)
			rc = FUOTA_ERR_NOT_FOUND;
		else if (strcmp(json, "busy") == 0)
			rc = FUOTA_ERR_STATE;
		else if (strcmp(json, "child") == 0)
			rc = FUOTA_ERR_CONFLICT; /* deleted with its parent, never alone */
	}
	free(json);
	return rc;
}

int store_job_counts(struct store *s, char **text)
{
	return store_json(
	        s,
	        "SELECT string_agg(format('fuota_jobs{state=\"%s\"} %s', x.s, "
	        "coalesce(c.n, 0)), E'\\n' ORDER BY x.s) || E'\\n' "
	        "FROM unnest(ARRAY['pending', 'running', 'paused', 'succeeded', 'failed', "
	        "'cancelled']) x(s) LEFT JOIN (SELECT state, count(*) n FROM job "
	        "WHERE parent_id IS NULL GROUP BY state) c ON c.state = x.s",
	        0, NULL, text);
}
