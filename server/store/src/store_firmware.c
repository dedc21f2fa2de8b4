/* Firmware images: bytea blobs with their size and SHA-256. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "store_int.h"

#define FIRMWARE_JSON                                                              \
	"json_build_object('id', f.id, 'name', f.name, 'size', f.size, 'sha256', " \
	"encode(f.sha256, 'hex'), 'created_at', f.created_at)"

int store_firmware_create(struct store *s, int64_t tenant, const char *name, const uint8_t *data,
                          size_t len, char **json)
{
	char tid[24];
	const char *vals[3] = {store_i64(tid, tenant), name, (const char *)data};
	int lens[3] = {0, 0, (int)len}, fmts[3] = {0, 0, 1};

	*json = NULL;
	if (len > (size_t)INT32_MAX)
		return FUOTA_ERR_INVALID_ARG;
	if (!data)
		vals[2] = ""; /* an empty image is a zero-length value, not NULL */
	/* sha256() is computed by PostgreSQL from the stored bytes themselves. */
	return store_json_ex(s,
	                     "INSERT INTO firmware AS f (tenant_id, name, size, sha256, data) "
	                     "VALUES ($1, $2, length($3::bytea), sha256($3::bytea), $3) "
	                     "RETURNING " FIRMWARE_JSON,
	                     3, vals, lens, fmts, NULL, json);
}

static const struct store_col firmware_cols[] = {
        {"id", STORE_COL_INT},      {"name", STORE_COL_TEXT},       {"size", STORE_COL_INT},
        {"sha256", STORE_COL_TEXT}, {"created_at", STORE_COL_TIME},
};

int store_firmware_list(struct store *s, int64_t tenant, const struct store_paging *pg,
                        struct store_page *page)
{
	char tid[24], lim[24], off[24], aft[24];
	const char *vals[4] = {store_i64(tid, tenant), store_i64(lim, pg->limit),
	                       store_i64(off, (int64_t)pg->offset), store_i64(aft, pg->after)};

	return store_page_query(s,
	                        "SELECT id, name, size, encode(sha256, 'hex'), created_at "
	                        "FROM firmware WHERE tenant_id = $1 AND id > $4 "
	                        "ORDER BY tenant_id, id LIMIT $2 OFFSET $3",
	                        4, vals, firmware_cols, 5, page);
}

int store_firmware_get(struct store *s, int64_t tenant, int64_t id, char **json)
{
	char tid[24], fid[24];
	const char *vals[2] = {store_i64(tid, tenant), store_i64(fid, id)};

	return store_json(s,
	                  "SELECT " FIRMWARE_JSON " FROM firmware f "
	                  "WHERE f.tenant_id = $1 AND f.id = $2",
	                  2, vals, json);
}

int store_firmware_size(struct store *s, int64_t tenant, int64_t id, size_t *size)
{
	char tid[24], fid[24];
	const char *vals[2] = {store_i64(tid, tenant), store_i64(fid, id)};
	char *json = NULL;
	int rc = store_json(s, "SELECT size::text FROM firmware WHERE tenant_id = $1 AND id = $2",
	                    2, vals, &json);

	if (rc == FUOTA_OK)
		*size = (size_t)strtoull(json, NULL, 10);
	free(json);
	return rc;
}

/* Runs sql (parameters $1 tenant, $2 id) and tells whether it returned a row. */
static int has_row(PGconn *c, const char *sql, const char *const *vals, bool *yes)
{
	PGresult *r = NULL;

	if (store_run(c, sql, 2, vals, &r) != FUOTA_OK)
		return FUOTA_ERR_IO;
	*yes = PQntuples(r) > 0;
	PQclear(r);
	return FUOTA_OK;
}

int store_firmware_delete(struct store *s, int64_t tenant, int64_t id)
{
	char tid[24], fid[24];
	const char *vals[2] = {store_i64(tid, tenant), store_i64(fid, id)};
	PGconn *c = store_acquire(s);
	bool yes = false;
	int rc = FUOTA_ERR_IO;

	/* Two statements in a transaction, not one: a job being created holds a KEY SHARE lock on
	 * the firmware row (its foreign key) until it commits, and one statement would wait for
	 * that lock but still look for live jobs in the snapshot it took before, miss the new
	 * job, and delete its image from under it (ON DELETE SET NULL). Locking first, then looking
	 * with a fresh snapshot sees every job that holds the image; a job created after the lock
	 * waits for it and then finds the firmware gone. */
	if (store_run(c, "BEGIN", 0, NULL, NULL) != FUOTA_OK)
		goto out;
	if ((rc = has_row(c,
	                  "SELECT 1 FROM firmware WHERE tenant_id = $1 AND id = $2 "
	                  "FOR UPDATE",
	                  vals, &yes)) != FUOTA_OK)
		goto out;
	if (!yes) {
		rc = FUOTA_ERR_NOT_FOUND;
		goto out;
	}
	if ((rc = has_row(c,
	                  "SELECT 1 FROM job WHERE tenant_id = $1 AND firmware_id = $2 "
	                  "AND state IN ('pending', 'running', 'paused') LIMIT 1",
	                  vals, &yes)) != FUOTA_OK)
		goto out;
	if (yes) {
		rc = FUOTA_ERR_CONFLICT;
		goto out;
	}
	rc = FUOTA_ERR_IO;
	if (store_run(c, "DELETE FROM firmware WHERE tenant_id = $1 AND id = $2", 2, vals, NULL) ==
	            FUOTA_OK &&
	    store_run(c, "COMMIT", 0, NULL, NULL) == FUOTA_OK)
		rc = FUOTA_OK;
out:
	rc = store_release_rc(s, c, rc); /* rolls back what is still open */
	return rc;
}
