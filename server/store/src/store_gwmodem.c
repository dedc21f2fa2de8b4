/* The gateways' modem states (sql/039_gateway_modem.sql): written by the engine's MQTT runner. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/store.h"
#include "fuota/store_engine.h"
#include "fuota/store_modem.h"
#include "store_int.h"

int seng_gw_modem_set(struct store *s, const char *gw, const char *state_json, int64_t now_ms)
{
	char now[24];
	const char *vals[3] = {gw, state_json, store_i64(now, now_ms)};
	long rows;

	/* Every instance reads the retained message (no shared subscription: a shared one gets no
	 * retained message); the latest read wins whichever instance commits last. */
	return store_command(s,
	                     "INSERT INTO gateway_modem AS g (gateway_id, state, received_ms) "
	                     "VALUES ($1, $2::jsonb, $3) ON CONFLICT (gateway_id) DO UPDATE "
	                     "SET state = $2::jsonb, received_ms = $3 WHERE g.received_ms <= $3",
	                     3, vals, &rows);
}

static int64_t col_i64(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* store_gateway_jobs; tenant -1: no tenant's check (the engine's own look). */
static int gateway_jobs(struct store *s, int64_t tenant, const char *gw, struct store_gw_job **out,
                        size_t *n)
{
	char tid[24];
	const char *vals[2] = {store_i64(tid, tenant), gw};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc, rows;

	*out = NULL;
	*n = 0;
	/* Every tenant's jobs: the gateway's modem is one for all of them. The first row tells
	 * whether the tenant may ask about gw at all. */
	rc = store_run(
	        c,
	        "SELECT -1, 0, ($1 = -1 OR EXISTS (SELECT 1 FROM engine_device_gateway "
	        " WHERE tenant_id = $1 AND gateway_id = $2))::int::bigint, "
	        "0::bigint, 0, 'C' "
	        "UNION ALL SELECT j.id, j.tenant_id, e.session_start_ms, "
	        "(extract(epoch FROM j.start_at) * 1000)::bigint, j.multicast_timeout_s, "
	        "j.multicast_class FROM job j LEFT JOIN engine_job e ON e.job_id = j.id "
	        "WHERE j.state IN ('pending', 'running', 'paused') AND ($2 = ANY(e.gateways) "
	        "OR EXISTS (SELECT 1 FROM job_device jd JOIN engine_device_gateway h "
	        " ON h.tenant_id = jd.tenant_id AND h.dev_eui = jd.dev_eui "
	        " WHERE jd.job_id = j.id AND h.gateway_id = $2))",
	        2, vals, &r);
	if (rc != FUOTA_OK)
		goto out;
	rows = PQntuples(r);
	if (rows < 1 || strcmp(PQgetvalue(r, 0, 2), "1") != 0) {
		rc = FUOTA_ERR_NOT_FOUND;
		goto out;
	}
	*out = calloc((size_t)rows, sizeof(**out));
	if (!*out) {
		rc = FUOTA_ERR_NO_MEMORY;
		goto out;
	}
	for (int i = 1; i < rows; i++) {
		struct store_gw_job *j = &(*out)[*n];

		j->job_id = col_i64(r, i, 0);
		j->tenant_id = col_i64(r, i, 1);
		j->session_start_ms = col_i64(r, i, 2);
		j->start_at_ms = col_i64(r, i, 3);
		j->timeout_s = col_i64(r, i, 4);
		j->mc_class = PQgetvalue(r, i, 5)[0];
		(*n)++;
	}
out:
	PQclear(r);
	store_release(s, c);
	return rc;
}

int store_gateway_jobs(struct store *s, int64_t tenant, const char *gw, struct store_gw_job **out,
                       size_t *n)
{
	return gateway_jobs(s, tenant < 0 ? 0 : tenant, gw, out, n);
}

int seng_gateway_jobs(struct store *s, const char *gw, struct store_gw_job **out, size_t *n)
{
	return gateway_jobs(s, -1, gw, out, n);
}
