/* Modem updates as the API writes and reads them (fuota/store_modem.h). */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/store_modem.h"
#include "store_int.h"
#include "store_modem_int.h"

int store_modem_update_create(struct store *s, int64_t tenant, const struct store_modem_new *u,
                              char **json)
{
	char tid[24], size[24], req[24], plan[24], now[24], state[6] = "";
	const char *vals[11] = {store_i64(tid, tenant),
	                        u->gw,
	                        u->method,
	                        u->url,
	                        u->package,
	                        u->md5,
	                        store_i64(size, u->image_size),
	                        u->requested_start_ms ? store_i64(req, u->requested_start_ms)
	                                              : NULL,
	                        store_i64(plan, u->planned_start_ms),
	                        u->note,
	                        store_i64(now, u->now_ms)};
	int rc = store_json_ex(
	        s,
	        "WITH m AS (INSERT INTO modem_update (tenant_id, gateway_id, method, url, package, "
	        "md5, "
	        "image_size, requested_start_ms, planned_start_ms, state, note, created_ms, "
	        "updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'scheduled', $10, $11, "
	        "$11) "
	        "RETURNING *) SELECT " MODEM_JSON " FROM m",
	        11, vals, NULL, NULL, state, json);

	if (rc != FUOTA_OK && strcmp(state, STORE_SQLSTATE_UNIQUE) == 0)
		rc = FUOTA_ERR_CONFLICT;
	if (rc == FUOTA_OK)
		log_msg(LOG_LVL_INFO, "gateway %s: modem update by %s scheduled by tenant %lld",
		        u->gw, u->method, (long long)tenant);
	return rc;
}

int store_modem_update_pending(struct store *s, const char *gw, bool scheduled, bool *busy)
{
	const char *vals[2] = {gw, scheduled ? "t" : "f"};
	int64_t v = 0;
	int rc = store_query_i64(s,
	                         "SELECT count(*) FROM modem_update WHERE gateway_id = $1 AND "
	                         "state NOT IN " MODEM_ENDED " AND ($2 OR state <> 'scheduled')",
	                         2, vals, FUOTA_OK, &v);

	*busy = v > 0;
	return rc;
}

int store_modem_update_list(struct store *s, int64_t tenant, const char *gw, unsigned limit,
                            unsigned long offset, char **json)
{
	char tid[24], lim[24], off[24];
	const char *vals[4] = {store_i64(tid, tenant), gw, store_i64(lim, limit),
	                       store_i64(off, (int64_t)offset)};

	/* The tenant's check first: a gateway it does not see is not found, even with no update. */
	return store_json(
	        s,
	        "SELECT CASE WHEN " MODEM_SEES(
	                "$2") " THEN (SELECT coalesce(json_agg("
	                      "x.j ORDER BY x.id DESC), '[]') FROM (SELECT m.id, " MODEM_JSON
	                      " AS j "
	                      "FROM modem_update m WHERE m.gateway_id = $2 ORDER BY m.id DESC "
	                      "LIMIT $3 OFFSET $4) x) END",
	        4, vals, json);
}

int store_modem_update_get(struct store *s, int64_t tenant, int64_t id, char **json)
{
	char tid[24], uid[24];
	const char *vals[2] = {store_i64(tid, tenant), store_i64(uid, id)};

	return store_json(s,
	                  "SELECT " MODEM_JSON " FROM modem_update m WHERE m.id = $2 AND "
	                  "(m.tenant_id = $1 OR " MODEM_SEES("m.gateway_id") ")",
	                  2, vals, json);
}

/* The action's outcome: the first column of store_modem_update_action's answer. */
static int action_rc(const char *verdict)
{
	if (!strcmp(verdict, "missing"))
		return FUOTA_ERR_NOT_FOUND;
	if (!strcmp(verdict, "notyours"))
		return FUOTA_ERR_CONFLICT;
	if (!strcmp(verdict, "state"))
		return FUOTA_ERR_STATE;
	return FUOTA_OK;
}

int store_modem_update_action(struct store *s, int64_t tenant, int64_t id, const char *action,
                              int64_t now_ms, char **json)
{
	char tid[24], uid[24], now[24];
	const char *vals[4] = {store_i64(tid, tenant), store_i64(uid, id), action,
	                       store_i64(now, now_ms)};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc;

	*json = NULL;
	/* Cancel before the start: nothing was sent, nothing to send. Otherwise a command for the
	 * engine to publish; the state changes when fuota-gw reports it. An install cannot be
	 * cancelled or paused (the module does it alone, CELLULAR-NOTES §2.2). */
	rc = store_run(
	        c,
	        "WITH x AS (SELECT * FROM modem_update WHERE id = $2 FOR UPDATE), "
	        "ok AS (SELECT x.id, CASE WHEN x.state = 'scheduled' THEN 'drop' ELSE 'send' END "
	        "AS how "
	        "  FROM x WHERE x.tenant_id = $1 AND ("
	        "  ($3 = 'cancel' AND x.state IN ('scheduled', 'sent', 'deferred', 'starting', "
	        "    'downloading', 'paused')) OR "
	        "  ($3 = 'pause' AND x.state IN ('sent', 'deferred', 'starting', 'downloading')) "
	        "OR "
	        "  ($3 = 'resume' AND x.state = 'paused'))), "
	        "cmd AS (INSERT INTO modem_update_cmd (id, update_id, action, created_ms) "
	        "  SELECT nextval('modem_update_cmd_id'), ok.id, $3, $4::bigint FROM ok "
	        "  WHERE ok.how = 'send'), "
	        "m AS (UPDATE modem_update m SET "
	        "  state = CASE WHEN ok.how = 'drop' THEN 'cancelled' ELSE m.state END, "
	        "  finished_ms = CASE WHEN ok.how = 'drop' THEN $4::bigint ELSE m.finished_ms END, "
	        "  note = CASE WHEN ok.how = 'drop' THEN 'cancelled before it started' "
	        "    ELSE $3 || ' requested' END, updated_ms = $4::bigint "
	        "  FROM ok WHERE m.id = ok.id RETURNING m.*) "
	        "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM x WHERE x.tenant_id = $1 "
	        "OR " MODEM_SEES("x.gateway_id") ") THEN 'missing' "
	                                         "  WHEN NOT EXISTS (SELECT 1 FROM x WHERE "
	                                         "x.tenant_id = $1) THEN 'notyours' "
	                                         "  WHEN NOT EXISTS (SELECT 1 FROM m) THEN 'state' "
	                                         "ELSE 'ok' END, "
	                                         "  (SELECT " MODEM_JSON
	                                         " FROM m), (SELECT state FROM x)",
	        4, vals, &r);
	if (rc != FUOTA_OK)
		goto out;
	rc = action_rc(PQgetvalue(r, 0, 0));
	if (rc == FUOTA_OK || rc == FUOTA_ERR_STATE) {
		*json = strdup(PQgetvalue(r, 0, rc == FUOTA_OK ? 1 : 2));
		if (!*json)
			rc = FUOTA_ERR_NO_MEMORY;
	}
	if (rc == FUOTA_OK)
		log_msg(LOG_LVL_INFO, "modem update %lld: %s by tenant %lld (was %s)",
		        (long long)id, action, (long long)tenant, PQgetvalue(r, 0, 2));
out:
	PQclear(r);
	return store_release_rc(s, c, rc);
}
