/* The gateways' modem states (sql/039_gateway_modem.sql): written by the engine's MQTT runner. */
#include <stdio.h>
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

/* The live jobs, the gateways each counts on (those it sends through, and those that heard its
 * devices), for every gateway with a fuota-gw: one row per pair, ordered by gateway then job;
 * a gateway with no job has one row of NULL job columns. */
static const char SESSIONS_ALL_SQL[] =
        "WITH m AS (SELECT gateway_id, topic_prefix, sessions_sent FROM gateway_modem "
        "  WHERE topic_prefix IS NOT NULL), "
        "lj AS (SELECT j.id, j.tenant_id, e.session_start_ms, "
        "  (extract(epoch FROM j.start_at) * 1000)::bigint AS start_at_ms, "
        "  j.multicast_timeout_s, j.multicast_class, e.gateways FROM job j "
        "  LEFT JOIN engine_job e ON e.job_id = j.id "
        "  WHERE j.state IN ('pending', 'running', 'paused')), "
        "p AS (SELECT lj.id, g.gw FROM lj, unnest(lj.gateways) AS g(gw) "
        "  UNION SELECT jd.job_id, h.gateway_id FROM lj JOIN job_device jd ON jd.job_id = lj.id "
        "  JOIN engine_device_gateway h ON h.tenant_id = jd.tenant_id "
        "  AND h.dev_eui = jd.dev_eui WHERE h.gateway_id IN (SELECT gateway_id FROM m)) "
        "SELECT m.gateway_id, m.topic_prefix, m.sessions_sent, lj.id, lj.tenant_id, "
        "lj.session_start_ms, lj.start_at_ms, lj.multicast_timeout_s, lj.multicast_class "
        "FROM m LEFT JOIN p ON p.gw = m.gateway_id LEFT JOIN lj ON lj.id = p.id "
        "ORDER BY m.gateway_id, lj.id";

void seng_gw_sessions_free(struct seng_gw_sessions *g, size_t n)
{
	for (size_t i = 0; g && i < n; i++) {
		free(g[i].sent);
		free(g[i].jobs);
	}
	free(g);
}

/* Row i's job (columns 3..8) appended to g's jobs (room made by the caller). */
static void add_job_row(const PGresult *r, int i, struct seng_gw_sessions *g)
{
	struct store_gw_job *j = &g->jobs[g->n_jobs++];

	j->job_id = col_i64(r, i, 3);
	j->tenant_id = col_i64(r, i, 4);
	j->session_start_ms = col_i64(r, i, 5);
	j->start_at_ms = col_i64(r, i, 6);
	j->timeout_s = col_i64(r, i, 7);
	j->mc_class = PQgetvalue(r, i, 8)[0];
}

/* The rows of SESSIONS_ALL_SQL into out (one entry per gateway, room for rows of them). */
static int read_sessions(const PGresult *r, struct seng_gw_sessions *out, size_t *n)
{
	int rows = PQntuples(r);

	for (int i = 0; i < rows; i++) {
		struct seng_gw_sessions *g = &out[*n ? *n - 1 : 0];
		int k = i;

		if (*n == 0 || strcmp(g->gw, PQgetvalue(r, i, 0)) != 0) {
			g = &out[(*n)++];
			snprintf(g->gw, sizeof(g->gw), "%s", PQgetvalue(r, i, 0));
			snprintf(g->prefix, sizeof(g->prefix), "%s", PQgetvalue(r, i, 1));
			g->sent = PQgetisnull(r, i, 2) ? NULL : strdup(PQgetvalue(r, i, 2));
			while (k < rows && !strcmp(PQgetvalue(r, k, 0), g->gw))
				k++;
			g->jobs = calloc((size_t)(k - i) + 1, sizeof(*g->jobs));
			if (!g->jobs || (!PQgetisnull(r, i, 2) && !g->sent))
				return FUOTA_ERR_NO_MEMORY;
		}
		if (!PQgetisnull(r, i, 3))
			add_job_row(r, i, g);
	}
	return FUOTA_OK;
}

int seng_modem_sessions_all(struct store *s, struct seng_gw_sessions **out, size_t *n)
{
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run(c, SESSIONS_ALL_SQL, 0, NULL, &r);

	*out = NULL;
	*n = 0;
	if (rc == FUOTA_OK) {
		*out = calloc((size_t)PQntuples(r) + 1, sizeof(**out));
		rc = *out ? read_sessions(r, *out, n) : FUOTA_ERR_NO_MEMORY;
	}
	if (rc != FUOTA_OK) {
		seng_gw_sessions_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	PQclear(r);
	store_release(s, c);
	return rc;
}
