/* The job engine's SQL for devices (see store_engine.h): job_device rows read and updated one
 * at a time, package versions, SessionCnt, and which gateways heard whom. Times come from the
 * engine's clock as Unix ms. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/cbox.h"
#include "fuota/engine_calc.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/store_engine.h"
#include "store_array.h"
#include "store_engine_int.h"

#define DEV_COLUMNS                                                                               \
	"jd.job_id, jd.tenant_id, jd.dev_eui, d.application_id, d.lorawan_version, d.key_kind, "  \
	"encode(d.key_box, 'hex'), d.ts003_version, d.ts004_version, d.ts005_version, jd.step, "  \
	"jd.attempts, round(extract(epoch FROM jd.deadline) * 1000)::bigint, "                    \
	"coalesce(jd.frag_version, 0), coalesce(jd.mc_version, 0), coalesce(jd.frag_index, 0), "  \
	"coalesce(jd.session_cnt, -1), "                                                          \
	"jd.mc_group_set, jd.block_received, jd.resync_sent, jd.cleanup_mask, "                   \
	"jd.failure_reason IS NOT NULL, d.stack, coalesce(d.max_frags, 0), "                      \
	"coalesce(round(extract(epoch FROM jd.asked_at) * 1000)::bigint, 0), jd.block_reported, " \
	"d.ts006_version, jd.mc_reused, jd.mc_fell_back, "                                        \
	"(SELECT num_nonnulls(jb.reboot_in_s, jb.reboot_at) > 0 FROM job jb WHERE jb.id = "       \
	"jd.job_id), jd.part, (SELECT greatest(coalesce((jb.plan->>'parts')::int, 1), 1) "        \
	"FROM job jb WHERE jb.id = jd.job_id) "                                                   \
	"FROM job_device jd JOIN device d ON d.tenant_id = jd.tenant_id AND d.dev_eui = "         \
	"jd.dev_eui "

static void get_dev(const PGresult *r, int row, struct seng_dev *d)
{
	int k = 0;

	memset(d, 0, sizeof(*d));
	d->job_id = store_get_i64(r, row, k++);
	d->tenant = store_get_i64(r, row, k++);
	get_str(r, row, k++, d->dev_eui, sizeof(d->dev_eui));
	get_str(r, row, k++, d->application_id, sizeof(d->application_id));
	get_str(r, row, k++, d->lorawan_version, sizeof(d->lorawan_version));
	get_str(r, row, k++, d->key_kind, sizeof(d->key_kind));
	get_hex(r, row, k++, d->key_box, sizeof(d->key_box), &d->key_box_len);
	d->ts003 = (int)store_get_i64(r, row, k++);
	d->ts004 = (int)store_get_i64(r, row, k++);
	d->ts005 = (int)store_get_i64(r, row, k++);
	d->step = step_of(PQgetvalue(r, row, k++));
	d->attempts = (unsigned)store_get_i64(r, row, k++);
	d->has_deadline = !PQgetisnull(r, row, k);
	d->deadline_ms = store_get_i64(r, row, k++);
	d->frag_version = (int)store_get_i64(r, row, k++);
	d->mc_version = (int)store_get_i64(r, row, k++);
	d->frag_index = (int)store_get_i64(r, row, k++);
	d->session_cnt = (int)store_get_i64(r, row, k++);
	d->mc_group_set = get_bool(r, row, k++);
	d->block_received = get_bool(r, row, k++);
	d->resync_sent = get_bool(r, row, k++);
	d->cleanup_mask = (unsigned)store_get_i64(r, row, k++);
	d->failed = get_bool(r, row, k++);
	get_str(r, row, k++, d->stack, sizeof(d->stack));
	d->max_frags = (int)store_get_i64(r, row, k++);
	d->asked_ms = store_get_i64(r, row, k++);
	d->block_reported = get_bool(r, row, k++);
	d->ts006 = (int)store_get_i64(r, row, k++);
	d->mc_reused = get_bool(r, row, k++);
	d->mc_fell_back = get_bool(r, row, k++);
	d->reboot = get_bool(r, row, k++);
	d->part = (unsigned)store_get_i64(r, row, k++);
	d->parts = (unsigned)store_get_i64(r, row, k++);
}

static int devs_query(struct store *s, const char *sql, int n, const char *const *vals,
                      struct seng_dev **devs, size_t *count)
{
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run(c, sql, n, vals, &r);

	*devs = NULL;
	*count = 0;
	if (rc != FUOTA_OK)
		goto out;
	if (PQntuples(r) > 0) {
		*devs = calloc((size_t)PQntuples(r), sizeof(**devs));
		if (!*devs) {
			rc = FUOTA_ERR_NO_MEMORY;
			goto out;
		}
	}
	for (int i = 0; i < PQntuples(r); i++)
		get_dev(r, i, &(*devs)[(*count)++]);
out:
	PQclear(r);
	store_release(s, c);
	return rc;
}

int seng_devs_due(struct store *s, int64_t job_id, int64_t now_ms, unsigned max,
                  struct seng_dev **devs, size_t *n)
{
	char jid[24], now[24], lim[24];
	const char *vals[3] = {store_i64(jid, job_id), store_i64(now, now_ms), store_i64(lim, max)};

	return devs_query(
	        s,
	        "SELECT " DEV_COLUMNS "WHERE jd.job_id = $1 "
	        "AND jd.step NOT IN ('done', 'failed', 'unconfirmed', 'ready', 'session') "
	        "AND (jd.deadline IS NULL OR jd.deadline <= " TS(
	                "$2") ") "
	                      "ORDER BY jd.deadline NULLS FIRST, jd.dev_eui LIMIT $3",
	        3, vals, devs, n);
}

int seng_devs_with_group(struct store *s, int64_t job_id, bool active_too, struct seng_dev **devs,
                         size_t *n)
{
	char jid[24];
	const char *vals[2] = {store_i64(jid, job_id), b(active_too)};

	/* Marked owed (rows the clean-up's phase change marked already are not written again; a
	 * data-modifying WITH runs unreferenced, and the SELECT sees the rows as before it). */
#define WITH_GROUP                                                                           \
	"jd.job_id = $1 AND jd.mc_group_set AND jd.step NOT IN ('done', 'unconfirmed') AND " \
	"(jd.step = 'failed' OR $2)"
	return devs_query(
	        s,
	        "WITH m AS (UPDATE job_device jd SET deletes_pending = true WHERE " WITH_GROUP
	        " AND NOT jd.deletes_pending) SELECT " DEV_COLUMNS "WHERE " WITH_GROUP
	        " ORDER BY jd.dev_eui",
	        2, vals, devs, n);
#undef WITH_GROUP
}

int seng_devs_deletes_pending(struct store *s, struct seng_dev **devs, size_t *n)
{
	return devs_query(s,
	                  "SELECT " DEV_COLUMNS "WHERE jd.deletes_pending "
	                  "ORDER BY jd.job_id, jd.dev_eui",
	                  0, NULL, devs, n);
}

int seng_deletes_sent(struct store *s, const int64_t *job_ids, const char (*dev_euis)[SENG_EUI_LEN],
                      size_t n)
{
	struct store_array jids, euis;
	char *v[2] = {NULL, NULL};
	PGconn *c;
	int rc;

	if (n == 0)
		return FUOTA_OK;
	store_array_init(&jids, STORE_ARRAY_MAX);
	store_array_init(&euis, STORE_ARRAY_MAX);
	for (size_t i = 0; i < n; i++) {
		store_array_i64(&jids, job_ids[i]);
		store_array_text(&euis, dev_euis[i]);
	}
	rc = store_array_end(&jids, &v[0]);
	if (store_array_end(&euis, &v[1]) != FUOTA_OK && rc == FUOTA_OK)
		rc = FUOTA_ERR_NO_MEMORY;
	if (rc == FUOTA_OK) {
		c = store_acquire(s);
		rc = store_run(c,
		               "UPDATE job_device jd SET deletes_pending = false FROM "
		               "unnest($1::bigint[], $2::text[]) AS x(job_id, dev_eui) "
		               "WHERE jd.job_id = x.job_id AND jd.dev_eui = x.dev_eui "
		               "AND jd.deletes_pending",
		               2, (const char *const *)v, NULL);
		store_release(s, c);
	}
	free(v[0]);
	free(v[1]);
	return rc;
}

int seng_devs_session_pending_v1(struct store *s, int64_t job_id, int frag_index,
                                 struct seng_dev **devs, size_t *n)
{
	char jid[24], fi[24];
	const char *vals[2] = {store_i64(jid, job_id), store_i64(fi, frag_index)};

	return devs_query(s,
	                  "SELECT " DEV_COLUMNS "WHERE jd.job_id = $1 AND jd.step = 'session' "
	                  "AND NOT jd.block_received AND coalesce(jd.frag_version, 1) < 2 "
	                  "AND coalesce(jd.frag_index, 0) = $2 ORDER BY jd.dev_eui",
	                  2, vals, devs, n);
}

int seng_dev_load(struct store *s, int64_t job_id, const char *dev_eui, struct seng_dev *d)
{
	char jid[24];
	const char *vals[2] = {store_i64(jid, job_id), dev_eui};
	struct seng_dev *devs = NULL;
	size_t n = 0;
	int rc = devs_query(s, "SELECT " DEV_COLUMNS "WHERE jd.job_id = $1 AND jd.dev_eui = $2", 2,
	                    vals, &devs, &n);

	if (rc == FUOTA_OK && n != 1)
		rc = FUOTA_ERR_NOT_FOUND;
	if (rc == FUOTA_OK)
		*d = devs[0];
	free(devs);
	return rc;
}

int seng_dev_active(struct store *s, const char *dev_eui, struct seng_dev *d)
{
	const char *vals[1] = {dev_eui};
	struct seng_dev *devs = NULL;
	size_t n = 0;
	int rc = devs_query(s,
	                    "SELECT " DEV_COLUMNS "JOIN job j ON j.id = jd.job_id "
	                    "JOIN engine_job e ON e.job_id = j.id WHERE jd.dev_eui = $1 "
	                    "AND j.state = 'running' AND e.phase <> 'done' "
	                    "AND jd.step NOT IN ('done', 'failed', 'unconfirmed') "
	                    "ORDER BY jd.job_id DESC LIMIT 1",
	                    1, vals, &devs, &n);

	if (rc == FUOTA_OK && n != 1)
		rc = FUOTA_ERR_NOT_FOUND;
	if (rc == FUOTA_OK)
		*d = devs[0];
	free(devs);
	return rc;
}

/* seng_dev_update's one statement: $1 job, $2 DevEUI, $3 the step it is in (NULL: a step text no
 * step names, matched against $23, every known one), $4 its new step (NULL: stays), $5..$22 the
 * fields of struct seng_dev_update in order, $24 fall_back. Answers how many rows it changed (0 or
 * 1). */
static const char DEV_UPDATE_SQL[] =
        "WITH u AS (UPDATE job_device SET step = coalesce($4, step), "
        "  attempts = CASE WHEN $5 THEN 0 WHEN $6 THEN attempts + 1 ELSE attempts END, "
        "  deadline = CASE WHEN $7 THEN to_timestamp($8::bigint / 1000.0) ELSE deadline END, "
        "  failure_reason = coalesce($9, failure_reason), "
        "  last_answer = coalesce($10::jsonb, last_answer), "
        "  frag_version = coalesce($11::smallint, frag_version), "
        "  mc_version = coalesce($12::smallint, mc_version), "
        "  session_cnt = coalesce($13::integer, session_cnt), "
        "  mc_group_set = mc_group_set OR $14, "
        "  mc_reused = mc_reused AND NOT $24, mc_fell_back = mc_fell_back OR $24, "
        "  cleanup_mask = cleanup_mask | $15::smallint, "
        "  block_received = block_received OR $16, "
        "  block_reported = block_reported OR $22, "
        "  resync_sent = resync_sent OR $17, "
        "  time_to_start_s = coalesce($18::integer, time_to_start_s), "
        "  frag_index = coalesce($19::smallint, frag_index), "
        "  asked_at = coalesce(to_timestamp($21::bigint / 1000.0), asked_at), "
        "  updated_at = now() "
        "  WHERE job_id = $1 AND dev_eui = $2 "
        "  AND CASE WHEN $3::text IS NULL THEN step <> ALL($23::text[]) "
        "  ELSE step = $3 END "
        "  AND ($20::integer IS NULL OR attempts = $20::integer) "
        "  RETURNING tenant_id, dev_eui, step, failure_reason), "
        "ev AS (INSERT INTO event (tenant_id, job_id, dev_eui, kind, data) "
        "  SELECT tenant_id, $1, dev_eui, 'device', json_build_object('step', step, "
        "  'reason', failure_reason) FROM u WHERE $4::text IS NOT NULL) "
        "SELECT count(*) FROM u";

void seng_dev_update_init(struct seng_dev_update *u)
{
	memset(u, 0, sizeof(*u));
	u->to = ENGINE_STEP_NONE;
	u->session_cnt = -1;
	u->frag_index = -1;
}

int seng_dev_update(struct store *s, int64_t job_id, const char *dev_eui, enum engine_step from,
                    const struct seng_dev_update *u)
{
	char jid[24], dl[24], fv[24], mv[24], sc[24], cm[24], tts[24], fi[24], at[24], ak[24];
	char *known = NULL;
	const char *vals[24] = {store_i64(jid, job_id),
	                        dev_eui,
	                        step_text(from),
	                        step_text(u->to),
	                        b(u->reset_attempts),
	                        b(u->attempts_inc),
	                        b(u->set_deadline),
	                        store_i64(dl, u->deadline_ms),
	                        u->failure_reason,
	                        u->last_answer,
	                        u->frag_version > 0 ? store_i64(fv, u->frag_version) : NULL,
	                        u->mc_version > 0 ? store_i64(mv, u->mc_version) : NULL,
	                        u->session_cnt >= 0 ? store_i64(sc, u->session_cnt) : NULL,
	                        b(u->set_mc_group),
	                        store_i64(cm, u->cleanup_or),
	                        b(u->set_block_received),
	                        b(u->set_resync_sent),
	                        u->set_time_to_start ? store_i64(tts, u->time_to_start_s) : NULL,
	                        u->frag_index >= 0 ? store_i64(fi, u->frag_index) : NULL,
	                        u->if_attempts ? store_i64(at, u->attempts) : NULL,
	                        u->set_asked ? store_i64(ak, u->asked_ms) : NULL,
	                        b(u->set_block_reported),
	                        NULL,
	                        b(u->fall_back)};
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	if ((!vals[2] && from != ENGINE_STEP_UNKNOWN) || (!vals[3] && u->to != ENGINE_STEP_NONE))
		return FUOTA_ERR_INVALID_ARG;
	/* A step text that names no step (a row another version wrote) is matched as such. */
	if (!vals[2]) {
		rc = steps_array(&known);
		if (rc != FUOTA_OK)
			return rc;
		vals[22] = known;
	}
	c = store_acquire(s);
	rc = store_run(c, DEV_UPDATE_SQL, 24, vals, &r);

	if (rc == FUOTA_OK && store_get_i64(r, 0, 0) != 1)
		rc = FUOTA_ERR_STATE;
	PQclear(r);
	store_release(s, c);
	free(known);
	return rc;
}

int seng_session_cnt_next(struct store *s, const char *dev_eui, int *cnt)
{
	const char *vals[1] = {dev_eui};
	int64_t v = 0;
	int rc = store_query_i64(
	        s,
	        "INSERT INTO engine_device AS e (dev_eui, session_cnt) VALUES ($1, 1) "
	        "ON CONFLICT (dev_eui) DO UPDATE SET session_cnt = e.session_cnt + 1 "
	        "WHERE e.session_cnt < 65535 RETURNING session_cnt",
	        1, vals, FUOTA_ERR_CONFLICT, &v);

	if (rc == FUOTA_OK)
		*cnt = (int)v;
	return rc;
}

int seng_dev_version(struct store *s, const char *dev_eui, const char *application_id,
                     int package_id, int version)
{
	char v[24];
	const char *vals[3] = {dev_eui, store_i64(v, version), application_id};
	const char *sql;
	long rows;

	switch (package_id) {
	case 1:
		sql = "UPDATE device SET ts003_version = $2 WHERE dev_eui = $1 "
		      "AND application_id = $3";
		break;
	case 2:
		sql = "UPDATE device SET ts005_version = $2 WHERE dev_eui = $1 "
		      "AND application_id = $3";
		break;
	case 3:
		sql = "UPDATE device SET ts004_version = $2 WHERE dev_eui = $1 "
		      "AND application_id = $3";
		break;
	default: return FUOTA_ERR_INVALID_ARG;
	}
	return store_command(s, sql, 3, vals, &rows);
}

/* The four columns of obs[0..n) as array literals (dev_eui, gw, quality, seen_ms), each
 * malloc'd into cols (store_array.h). */
static int obs_arrays(const struct seng_gw_obs *obs, size_t n, char *cols[4])
{
	struct store_array a[4];
	int rc = FUOTA_OK;

	for (int k = 0; k < 4; k++)
		store_array_init(&a[k], STORE_ARRAY_MAX);
	for (size_t i = 0; i < n; i++) {
		store_array_text(&a[0], obs[i].dev_eui);
		store_array_text(&a[1], obs[i].gw);
		store_array_i64(&a[2], obs[i].quality);
		store_array_i64(&a[3], obs[i].seen_ms);
	}
	for (int k = 0; k < 4; k++) {
		int r = store_array_end(&a[k], &cols[k]);

		rc = rc == FUOTA_OK ? r : rc;
	}
	return rc;
}

int seng_gw_seen_batch(struct store *s, const struct seng_gw_obs *obs, size_t n)
{
	char *cols[4] = {NULL, NULL, NULL, NULL};
	long rows;
	int rc;

	if (n == 0)
		return FUOTA_OK;
	rc = obs_arrays(obs, n, cols);
	if (rc == FUOTA_OK) {
		const char *vals[4] = {cols[0], cols[1], cols[2], cols[3]};

		/* Under the tenant that holds the DevEUI now (0: none), so that a DevEUI changing
		 * hands does not carry what its former holder's uplinks taught. A later uplink
		 * another engine wrote meanwhile is kept. */
		rc = store_command(s,
		                   "INSERT INTO engine_device_gateway AS g (tenant_id, dev_eui, "
		                   "gateway_id, quality, seen_ms) SELECT coalesce(d.tenant_id, 0), "
		                   "x.dev, x.gw, x.q, x.s FROM unnest($1::text[], $2::text[], "
		                   "$3::integer[], $4::bigint[]) x(dev, gw, q, s) "
		                   "LEFT JOIN device d ON d.dev_eui = x.dev "
		                   "ON CONFLICT (tenant_id, dev_eui, gateway_id) "
		                   "DO UPDATE SET quality = excluded.quality, seen_ms = "
		                   "excluded.seen_ms WHERE g.seen_ms <= excluded.seen_ms",
		                   4, vals, &rows);
	}
	for (int k = 0; k < 4; k++)
		free(cols[k]);
	return rc;
}

void seng_edges_free(struct seng_edges *e)
{
	free(e->dev_euis);
	free(e->gw_ids);
	free(e->edge_dev);
	free(e->edge_gw);
	free(e->edge_q);
	memset(e, 0, sizeof(*e));
}

/* The index of id in ids[0..*n), added at the end when new. For the few gateways of a job. */
static uint32_t intern(char (*ids)[SENG_EUI_LEN], size_t *n, const char *id)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(ids[i], id) == 0)
			return (uint32_t)i;
	snprintf(ids[*n], SENG_EUI_LEN, "%s", id);
	return (uint32_t)(*n)++;
}

/* The same for ids that come grouped (rows ordered by it): only the last one can match. A
 * search of every device per row was quadratic: 47 s of the engine's thread for a job of
 * 100,000 devices, longer than its lease, at every tick of the session's start. */
static uint32_t intern_grouped(char (*ids)[SENG_EUI_LEN], size_t *n, const char *id)
{
	if (*n > 0 && strcmp(ids[*n - 1], id) == 0)
		return (uint32_t)(*n - 1);
	snprintf(ids[*n], SENG_EUI_LEN, "%s", id);
	return (uint32_t)(*n)++;
}

int seng_job_edges(struct store *s, int64_t job_id, enum engine_step step, int64_t since_ms,
                   struct seng_edges *e)
{
	char jid[24], since[24];
	const char *vals[3] = {store_i64(jid, job_id), step_text(step), store_i64(since, since_ms)};
	PGconn *c;
	PGresult *r = NULL;
	int rc;
	size_t rows;

	memset(e, 0, sizeof(*e));
	if (!vals[1])
		return FUOTA_ERR_INVALID_ARG;
	c = store_acquire(s);
	rc = store_run(c,
	               "SELECT jd.dev_eui, g.gateway_id, g.quality FROM job_device jd "
	               "LEFT JOIN LATERAL (SELECT DISTINCT ON (gateway_id) gateway_id, "
	               "quality FROM engine_device_gateway WHERE dev_eui = jd.dev_eui "
	               "AND tenant_id IN (jd.tenant_id, 0) AND seen_ms >= $3 "
	               "ORDER BY gateway_id, seen_ms DESC) g ON true "
	               "WHERE jd.job_id = $1 AND jd.step = $2 ORDER BY jd.dev_eui, g.gateway_id",
	               3, vals, &r);
	if (rc != FUOTA_OK)
		goto out;
	rows = (size_t)PQntuples(r);
	e->dev_euis = calloc(rows + 1, SENG_EUI_LEN);
	e->gw_ids = calloc(rows + 1, SENG_EUI_LEN);
	e->edge_dev = calloc(rows + 1, sizeof(uint32_t));
	e->edge_gw = calloc(rows + 1, sizeof(uint32_t));
	e->edge_q = calloc(rows + 1, sizeof(int32_t));
	if (!e->dev_euis || !e->gw_ids || !e->edge_dev || !e->edge_gw || !e->edge_q) {
		seng_edges_free(e);
		rc = FUOTA_ERR_NO_MEMORY;
		goto out;
	}
	for (size_t i = 0; i < rows; i++) {
		/* ORDER BY jd.dev_eui: a device's rows are together. */
		uint32_t d = intern_grouped(e->dev_euis, &e->n_dev, PQgetvalue(r, (int)i, 0));

		if (PQgetisnull(r, (int)i, 1))
			continue;
		e->edge_dev[e->n_edges] = d;
		e->edge_gw[e->n_edges] = intern(e->gw_ids, &e->n_gw, PQgetvalue(r, (int)i, 1));
		e->edge_q[e->n_edges] = (int32_t)store_get_i64(r, (int)i, 2);
		e->n_edges++;
	}
out:
	PQclear(r);
	store_release(s, c);
	return rc;
}

int seng_dev_resynced(struct store *s, const char *dev_eui, const char *application_id,
                      int64_t now_ms, bool *due)
{
	/* attempts = 0 with resync_sent: the session request waits for this exchange
	 * (engine_dev.c on_session_ans); nothing else in mc_session looks like that. */
	static const char sql[] =
	        "UPDATE job_device jd SET deadline = to_timestamp($2::bigint / 1000.0), "
	        "updated_at = now() WHERE jd.dev_eui = $1 AND jd.step = 'mc_session' "
	        "AND jd.resync_sent AND jd.attempts = 0 "
	        "AND jd.deadline > to_timestamp($2::bigint / 1000.0) "
	        "AND EXISTS (SELECT 1 FROM job j WHERE j.id = jd.job_id AND j.state = 'running') "
	        "AND EXISTS (SELECT 1 FROM device d WHERE d.tenant_id = jd.tenant_id "
	        "AND d.dev_eui = jd.dev_eui AND d.application_id = $3)";
	char now[24];
	const char *vals[3] = {dev_eui, store_i64(now, now_ms), application_id};
	long rows = 0;
	int rc = store_command(s, sql, 3, vals, &rows);

	*due = rc == FUOTA_OK && rows > 0;
	return rc;
}

int seng_resync_waiting(struct store *s, bool *any)
{
	/* job_device_due (job_id, step, deadline) per running job: the mc_session rows only. */
	static const char sql[] =
	        "SELECT EXISTS (SELECT 1 FROM job j JOIN job_device jd ON "
	        "jd.job_id = j.id AND jd.step = 'mc_session' "
	        "WHERE j.state = 'running' AND jd.resync_sent AND jd.attempts = 0)";
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run(c, sql, 0, NULL, &r);

	*any = true;
	if (rc == FUOTA_OK)
		*any = get_bool(r, 0, 0);
	PQclear(r);
	store_release(s, c);
	return rc;
}
