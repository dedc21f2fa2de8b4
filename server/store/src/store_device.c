/* Devices. The key box is written, never read back by the API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "store_int.h"

#define DEVICE_JSON                                                                        \
	"json_build_object('dev_eui', d.dev_eui, 'application_id', d.application_id, "     \
	"'lorawan_version', d.lorawan_version, 'class', d.class, 'region', d.region, "     \
	"'key_kind', d.key_kind, 'packages', json_build_object('ts003', d.ts003_version, " \
	"'ts004', d.ts004_version, 'ts005', d.ts005_version, 'ts006', d.ts006_version), "  \
	"'stack', d.stack, "                                                               \
	"'max_frags', d.max_frags, 'created_at', d.created_at)"

int store_device_create(struct store *s, int64_t tenant, const struct store_device *d, char **json)
{
	char tid[24], cls[2] = {d->dev_class, 0}, v3[8], v4[8], v5[8], v6[8], mf[12];
	const char *vals[14] = {store_i64(tid, tenant),
	                        d->dev_eui,
	                        d->application_id,
	                        d->lorawan_version,
	                        cls,
	                        d->region,
	                        d->key_kind,
	                        (const char *)d->key_box,
	                        v3,
	                        v4,
	                        v5,
	                        d->stack && d->stack[0] ? d->stack : "ts004",
	                        d->max_frags > 0 ? mf : NULL,
	                        v6};
	int lens[14] = {0, 0, 0, 0, 0, 0, 0, (int)d->key_box_len, 0, 0, 0, 0, 0, 0};
	int fmts[14] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	char state[6];
	int rc;

	snprintf(v3, sizeof(v3), "%d", d->ts003_version);
	snprintf(v4, sizeof(v4), "%d", d->ts004_version);
	snprintf(v5, sizeof(v5), "%d", d->ts005_version);
	snprintf(v6, sizeof(v6), "%d", d->ts006_version);
	snprintf(mf, sizeof(mf), "%d", d->max_frags);
	rc = store_json_ex(s,
	                   "INSERT INTO device AS d (tenant_id, dev_eui, application_id, "
	                   "lorawan_version, class, region, key_kind, key_box, ts003_version, "
	                   "ts004_version, ts005_version, stack, max_frags, ts006_version) "
	                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
	                   "RETURNING " DEVICE_JSON,
	                   14, vals, lens, fmts, state, json);
	/* The tenant has that DevEUI already. */
	if (rc == FUOTA_ERR_IO && strcmp(state, STORE_SQLSTATE_UNIQUE) == 0)
		rc = FUOTA_ERR_CONFLICT;
	return rc;
}

int store_device_list(struct store *s, int64_t tenant, const char *application_id,
                      const char *search, unsigned limit, unsigned long offset, char **json)
{
	char tid[24], lim[24], off[24];
	const char *vals[5] = {store_i64(tid, tenant), application_id, store_i64(lim, limit),
	                       store_i64(off, (int64_t)offset), search};

	/* strpos rather than LIKE: a search's % and _ are text, not wildcards. */
	return store_json(s,
	                  "SELECT coalesce(json_agg(" DEVICE_JSON
	                  " ORDER BY d.dev_eui), '[]') FROM "
	                  "(SELECT * FROM device WHERE tenant_id = $1 "
	                  "AND ($2::text IS NULL OR application_id = $2) "
	                  "AND ($5::text IS NULL OR strpos(dev_eui, lower($5)) > 0 "
	                  "OR strpos(lower(application_id), lower($5)) > 0) "
	                  "ORDER BY dev_eui LIMIT $3 OFFSET $4) d",
	                  5, vals, json);
}

int store_device_get(struct store *s, int64_t tenant, const char *dev_eui, char **json)
{
	char tid[24];
	const char *vals[2] = {store_i64(tid, tenant), dev_eui};

	return store_json(s,
	                  "SELECT " DEVICE_JSON " FROM device d "
	                  "WHERE d.tenant_id = $1 AND d.dev_eui = $2",
	                  2, vals, json);
}

int store_device_delete(struct store *s, int64_t tenant, const char *dev_eui)
{
	char tid[24];
	const char *vals[2] = {store_i64(tid, tenant), dev_eui};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = FUOTA_ERR_IO;

	/* As store_firmware_delete: lock the row, then look for live jobs with a fresh snapshot, so
	 * that a job being created with the device (its job_device row holds a KEY SHARE lock) is
	 * seen once it commits instead of losing the device through ON DELETE CASCADE. */
	if (store_run(c, "BEGIN", 0, NULL, NULL) != FUOTA_OK ||
	    store_run(c, "SELECT 1 FROM device WHERE tenant_id = $1 AND dev_eui = $2 FOR UPDATE", 2,
	              vals, &r) != FUOTA_OK)
		goto out;
	if (PQntuples(r) == 0) {
		rc = FUOTA_ERR_NOT_FOUND;
		goto out;
	}
	PQclear(r);
	if (store_run(c,
	              "WITH busy AS (SELECT 1 FROM job_device jd JOIN job j ON j.id = jd.job_id "
	              "  WHERE jd.tenant_id = $1 AND jd.dev_eui = $2 "
	              "  AND j.state IN ('pending', 'running', 'paused') LIMIT 1), "
	              "d AS (DELETE FROM device WHERE tenant_id = $1 AND dev_eui = $2 "
	              "  AND NOT EXISTS (SELECT 1 FROM busy) RETURNING 1), "
	              /* What the engine learnt of it for this tenant goes with it. */
	              "g AS (DELETE FROM engine_device_gateway WHERE tenant_id = $1 "
	              "  AND dev_eui = $2 AND EXISTS (SELECT 1 FROM d)) "
	              "SELECT EXISTS (SELECT 1 FROM d)",
	              2, vals, &r) != FUOTA_OK)
		goto out;
	if (PQgetvalue(r, 0, 0)[0] != 't') {
		rc = FUOTA_ERR_CONFLICT;
		goto out;
	}
	PQclear(r);
	r = NULL;
	if (store_run(c, "COMMIT", 0, NULL, NULL) == FUOTA_OK)
		rc = FUOTA_OK;
out:
	PQclear(r);
	rc = store_release_rc(s, c, rc); /* rolls back what is still open */
	return rc;
}

static const struct store_col gateway_cols[] = {
        {"gateway_id", STORE_COL_TEXT},  {"device_count", STORE_COL_INT},
        {"best_quality", STORE_COL_INT}, {"last_seen", STORE_COL_TIME},
        {"encoding", STORE_COL_TEXT},    {"live_jobs", STORE_COL_INT},
        {"modem", STORE_COL_JSON},       {"modem_update", STORE_COL_JSON},
};

int store_gateway_list(struct store *s, int64_t tenant, unsigned limit, unsigned long offset,
                       struct store_page *page)
{
	char tid[24], lim[24], off[24];
	const char *vals[3] = {store_i64(tid, tenant), store_i64(lim, limit),
	                       store_i64(off, (int64_t)offset)};

	/* The tenant's gateways are those that heard one of its devices while it held it (the
	 * engine writes each pair under the DevEUI's holder; rows of a former holder, or of no
	 * tenant, are not shown). seen_ms is Unix milliseconds. */
	return store_page_query(s,
	                        "SELECT g.gateway_id, count(*), max(g.quality), "
	                        "to_timestamp(max(g.seen_ms) / 1000.0), "
	                        "(SELECT e.encoding FROM engine_gateway e "
	                        " WHERE e.gateway_id = g.gateway_id), "
	                        /* The tenant's unfinished jobs with a device it heard: what a
	                         * gateway's downtime (or modem update) would hold up. */
	                        "(SELECT count(DISTINCT jd.job_id) FROM engine_device_gateway h "
	                        " JOIN job_device jd ON jd.tenant_id = h.tenant_id "
	                        " AND jd.dev_eui = h.dev_eui JOIN job j ON j.id = jd.job_id "
	                        " WHERE h.gateway_id = g.gateway_id AND h.tenant_id = $1 "
	                        " AND j.state IN ('pending', 'running', 'paused')), "
	                        /* The modem state its fuota-gw published (null: none). */
	                        "(SELECT m.state FROM gateway_modem m "
	                        " WHERE m.gateway_id = g.gateway_id), "
	                        /* Its modem update not over yet (null: none; the modem is
	                         * shared: any tenant's, or the gateway's own). */
	                        "(SELECT json_build_object('id', u.id, 'state', u.state, "
	                        " 'method', u.method, 'progress', u.progress, 'planned_start', "
	                        " to_timestamp(u.planned_start_ms / 1000.0)) FROM modem_update u "
	                        " WHERE u.gateway_id = g.gateway_id AND u.state NOT IN ('done', "
	                        " 'failed', 'cancelled', 'rejected') ORDER BY u.id DESC LIMIT 1) "
	                        "FROM engine_device_gateway g JOIN device d "
	                        "ON d.tenant_id = g.tenant_id AND d.dev_eui = g.dev_eui "
	                        "WHERE g.tenant_id = $1 "
	                        "GROUP BY g.gateway_id ORDER BY g.gateway_id LIMIT $2 OFFSET $3",
	                        3, vals, gateway_cols, 8, page);
}
