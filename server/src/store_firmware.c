/* Firmware images: bytea blobs with their size and SHA-256. */
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
	PGconn *c;
	PGresult *r;
	int rc = FUOTA_ERR_IO;

	*json = NULL;
	if (len > (size_t)INT32_MAX)
		return FUOTA_ERR_INVALID_ARG;
	if (!data)
		vals[2] = ""; /* an empty image is a zero-length value, not NULL */
	c = store_acquire(s);
	/* sha256() is computed by PostgreSQL from the stored bytes themselves. */
	r = store_exec_bin(c,
	                   "INSERT INTO firmware AS f (tenant_id, name, size, sha256, data) "
	                   "VALUES ($1, $2, length($3::bytea), sha256($3::bytea), $3) "
	                   "RETURNING " FIRMWARE_JSON,
	                   3, vals, lens, fmts, NULL);
	if (r) {
		*json = strdup(PQgetvalue(r, 0, 0));
		rc = *json ? FUOTA_OK : FUOTA_ERR_NO_MEMORY;
	}
	PQclear(r);
	store_release(s, c);
	return rc;
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

int store_firmware_delete(struct store *s, int64_t tenant, int64_t id)
{
	char tid[24], fid[24];
	const char *vals[2] = {store_i64(tid, tenant), store_i64(fid, id)};
	char *json = NULL;
	/* One statement: the answer says whether it existed and whether a live job holds it. */
	int rc = store_json(s,
	                    "WITH f AS (SELECT id FROM firmware WHERE tenant_id = $1 AND id = $2), "
	                    "busy AS (SELECT 1 FROM job j, f WHERE j.firmware_id = f.id "
	                    "  AND j.state IN ('pending', 'running', 'paused')), "
	                    "d AS (DELETE FROM firmware WHERE id IN (SELECT id FROM f) "
	                    "  AND NOT EXISTS (SELECT 1 FROM busy) RETURNING id) "
	                    "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM f) THEN 'missing' "
	                    "WHEN EXISTS (SELECT 1 FROM d) THEN 'deleted' ELSE 'busy' END",
	                    2, vals, &json);

	if (rc == FUOTA_OK) {
		if (strcmp(json, "missing") == 0)
			rc = FUOTA_ERR_NOT_FOUND;
		else if (strcmp(json, "busy") == 0)
			rc = FUOTA_ERR_CONFLICT;
	}
	free(json);
	return rc;
}
