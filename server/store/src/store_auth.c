/* Tenants and API tokens. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "store_int.h"

#define TOKEN_JSON                                                                          \
	"json_build_object('id', t.id, 'tenant_id', t.tenant_id, 'name', t.name, 'admin', " \
	"t.admin, "                                                                         \
	"'created_at', t.created_at, 'revoked_at', t.revoked_at)"
#define TENANT_JSON "json_build_object('id', n.id, 'name', n.name, 'created_at', n.created_at)"

int store_token_lookup(struct store *s, const uint8_t hash[32], struct store_auth *out)
{
	PGconn *c = store_acquire(s);
	const char *vals[1] = {(const char *)hash};
	int lens[1] = {32}, fmts[1] = {1};
	PGresult *r = NULL;
	int rc = store_run_ex(c,
	                      "SELECT id, tenant_id, admin FROM api_token "
	                      "WHERE token_hash = $1 AND revoked_at IS NULL",
	                      1, vals, lens, fmts, NULL, &r);

	if (rc != FUOTA_OK)
		goto out;
	rc = FUOTA_ERR_NOT_FOUND;
	if (PQntuples(r) != 1)
		goto out;
	out->token_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	out->tenant_id = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	out->admin = PQgetvalue(r, 0, 2)[0] == 't';
	rc = FUOTA_OK;
out:
	PQclear(r);
	rc = store_release_rc(s, c, rc);
	return rc;
}

int store_token_whoami(struct store *s, int64_t id, char **json)
{
	char tid[24];
	const char *vals[1] = {store_i64(tid, id)};

	return store_json(s,
	                  "SELECT json_build_object('tenant_id', n.id, 'tenant_name', n.name, "
	                  "'admin', t.admin, 'token_id', t.id, 'token_name', t.name) "
	                  "FROM api_token t JOIN tenant n ON n.id = t.tenant_id "
	                  "WHERE t.id = $1 AND t.revoked_at IS NULL",
	                  1, vals, json);
}

int store_token_create(struct store *s, int64_t tenant_id, const char *name, bool admin,
                       const uint8_t hash[32], char **json)
{
	char tid[24];
	const char *vals[4] = {store_i64(tid, tenant_id), name, admin ? "true" : "false",
	                       (const char *)hash};
	int lens[4] = {0, 0, 0, 32}, fmts[4] = {0, 0, 0, 1};
	char state[6];
	int rc = store_json_ex(s,
	                       "INSERT INTO api_token AS t (tenant_id, name, admin, token_hash) "
	                       "VALUES ($1, $2, $3, $4) RETURNING " TOKEN_JSON,
	                       4, vals, lens, fmts, state, json);

	/* A tenant that does not exist. */
	if (rc == FUOTA_ERR_IO && strcmp(state, STORE_SQLSTATE_FK) == 0)
		rc = FUOTA_ERR_NOT_FOUND;
	return rc;
}

static const struct store_col token_cols[] = {
        {"id", STORE_COL_INT},     {"tenant_id", STORE_COL_INT},   {"name", STORE_COL_TEXT},
        {"admin", STORE_COL_BOOL}, {"created_at", STORE_COL_TIME}, {"revoked_at", STORE_COL_TIME},
};

int store_token_list(struct store *s, int64_t tenant_id, const struct store_paging *pg,
                     struct store_page *page)
{
	char tid[24], lim[24], off[24], aft[24];
	const char *vals[4] = {store_i64(tid, tenant_id), store_i64(lim, pg->limit),
	                       store_i64(off, (int64_t)pg->offset), store_i64(aft, pg->after)};

	return store_page_query(s,
	                        "SELECT id, tenant_id, name, admin, created_at, revoked_at "
	                        "FROM api_token WHERE ($1::bigint = 0 OR tenant_id = $1) "
	                        "AND id > $4 ORDER BY id LIMIT $2 OFFSET $3",
	                        4, vals, token_cols, 6, page);
}

int store_token_revoke(struct store *s, int64_t id)
{
	char tid[24];
	const char *vals[1] = {store_i64(tid, id)};
	char *json = NULL;
	/* One statement, so one transaction: the notification goes out when (and only if) the
	 * revocation commits. */
	int rc = store_json(s,
	                    "WITH u AS (UPDATE api_token SET revoked_at = now() "
	                    "WHERE id = $1 AND revoked_at IS NULL RETURNING id) "
	                    "SELECT 'true', pg_notify('" STORE_CHANNEL_TOKEN_REVOKED
	                    "', id::text) FROM u",
	                    1, vals, &json);

	free(json);
	return rc;
}

int store_tenant_create(struct store *s, const char *name, char **json)
{
	const char *vals[1] = {name};

	return store_json(s, "INSERT INTO tenant AS n (name) VALUES ($1) RETURNING " TENANT_JSON, 1,
	                  vals, json);
}

static const struct store_col tenant_cols[] = {
        {"id", STORE_COL_INT},
        {"name", STORE_COL_TEXT},
        {"created_at", STORE_COL_TIME},
};

int store_tenant_list(struct store *s, const struct store_paging *pg, struct store_page *page)
{
	char lim[24], off[24], aft[24];
	const char *vals[3] = {store_i64(lim, pg->limit), store_i64(off, (int64_t)pg->offset),
	                       store_i64(aft, pg->after)};

	return store_page_query(s,
	                        "SELECT id, name, created_at FROM tenant WHERE id > $3 "
	                        "ORDER BY id LIMIT $1 OFFSET $2",
	                        3, vals, tenant_cols, 3, page);
}

int store_tenant_get(struct store *s, int64_t id, char **json)
{
	char tid[24];
	const char *vals[1] = {store_i64(tid, id)};

	return store_json(s, "SELECT " TENANT_JSON " FROM tenant n WHERE n.id = $1", 1, vals, json);
}
