/* The job engine's SQL for adaptive rounds (store_engine.h, "adaptive rounds"): the batch each
 * fragmentation session is in, its multicast status requests and the devices' answers. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "store_engine.h"
#include "store_int.h"

static int64_t get_i64(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Runs sql; *res (when not NULL) receives a result to PQclear. */
static int run(PGconn *c, const char *sql, int n, const char *const *vals, PGresult **res)
{
	PGresult *r = store_exec(c, sql, n, vals, NULL);

	if (!r)
		return FUOTA_ERR_IO;
	if (res)
		*res = r;
	else
		PQclear(r);
	return FUOTA_OK;
}

/* '{a,b,...}' of the gateway ids (ids) or of the numbers (nums), malloc'd. */
static char *array_text(size_t n, const char (*ids)[SENG_EUI_LEN], const uint32_t *nums)
{
	size_t cap = n * (SENG_EUI_LEN + 24) + 3, pos = 0;
	char *a = malloc(cap);

	if (!a)
		return NULL;
	a[pos++] = '{';
	for (size_t i = 0; i < n; i++) {
		int w = ids ? snprintf(a + pos, cap - pos, "%s%s", i ? "," : "", ids[i])
		            : snprintf(a + pos, cap - pos, "%s%u", i ? "," : "", nums[i]);

		if (w < 0 || (size_t)w >= cap - pos) {
			free(a);
			return NULL;
		}
		pos += (size_t)w;
	}
	a[pos++] = '}';
	a[pos] = '\0';
	return a;
}

int seng_rounds(struct store *s, int64_t job_id, struct seng_round *out, size_t max, size_t *n)
{
	char jid[24];
	const char *v[1] = {store_i64(jid, job_id)};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = run(c,
	             "SELECT frag_index, round, round_end, asked_at FROM engine_session "
	             "WHERE job_id = $1 ORDER BY frag_index",
	             1, v, &r);

	*n = 0;
	if (rc == FUOTA_OK) {
		for (int i = 0; i < PQntuples(r) && *n < max; i++) {
			struct seng_round *o = &out[(*n)++];

			o->frag_index = (int)get_i64(r, i, 0);
			o->round = (uint32_t)get_i64(r, i, 1);
			o->round_end = (uint32_t)get_i64(r, i, 2);
			o->asked_at = (uint32_t)get_i64(r, i, 3);
		}
	}
	PQclear(r);
	store_release(s, c);
	return rc;
}

int seng_round_end_set(struct store *s, int64_t job_id, int frag_index, uint32_t round_end)
{
	char jid[24], fi[24], re[24];
	const char *v[3] = {store_i64(jid, job_id), store_i64(fi, frag_index),
	                    store_i64(re, round_end)};
	long rows = 0;
	int rc = store_command(s,
	                       "UPDATE engine_session SET round_end = $3 "
	                       "WHERE job_id = $1 AND frag_index = $2",
	                       3, v, &rows);

	if (rc == FUOTA_OK && rows != 1)
		rc = FUOTA_ERR_NOT_FOUND;
	return rc;
}

/* The statements of seng_status_frame after BEGIN; *fcnt set. */
static int status_frame_tx(PGconn *c, const struct seng_status_frame *f, const char *ids,
                           const char *gws, uint32_t *fcnt)
{
	char jid[24], gid[24], fi[24], now[24], nt[24], at[24], fc[24], fm[24];
	PGresult *r = NULL;
	int rc;

	store_i64(jid, f->job_id);
	store_i64(gid, f->group_id);
	store_i64(fi, f->frag_index);
	store_i64(now, f->now_ms);
	store_i64(nt, f->next_tx_ms);
	store_i64(at, f->asked_at);
	{
		const char *v[1] = {gid};

		/* The counter moves first and commits with the frame's record (as seng_frame). */
		rc = run(c,
		         "UPDATE multicast_group SET fcnt = fcnt + 1 WHERE id = $1 "
		         "AND fcnt < 4294967295 RETURNING fcnt - 1",
		         1, v, &r);
		if (rc != FUOTA_OK)
			return rc;
		if (PQntuples(r) != 1) {
			PQclear(r);
			return FUOTA_ERR_NO_SPACE;
		}
		*fcnt = (uint32_t)get_i64(r, 0, 0);
		PQclear(r);
		store_i64(fc, *fcnt);
	}
	{
		const char *v[6] = {ids, jid, gws, fc, now, fi};

		rc = run(
		        c,
		        "INSERT INTO engine_tx (downlink_id, job_id, gateway_id, n, fcnt, sent_ms, "
		        "  frag_index) "
		        "SELECT unnest($1::bigint[]), $2, unnest($3::text[]), 0, $4, $5, $6",
		        6, v, NULL);
		if (rc != FUOTA_OK)
			return rc;
	}
	{
		const char *v[3] = {jid, fi, at};

		rc = run(c,
		         "UPDATE engine_session SET round = round + 1, asked_at = $3 "
		         "WHERE job_id = $1 AND frag_index = $2",
		         3, v, NULL);
		if (rc != FUOTA_OK)
			return rc;
	}
	{
		const char *v[3] = {jid, nt, now};

		rc = run(c,
		         "UPDATE engine_job SET next_tx_ms = $2, tx_end_ms = $3 WHERE job_id = $1",
		         3, v, NULL);
		if (rc != FUOTA_OK)
			return rc;
	}
	if (f->gateway_free_ms > 0) {
		const char *v[2] = {gws, store_i64(fm, f->gateway_free_ms)};

		rc = run(c,
		         "INSERT INTO engine_gateway AS g (gateway_id, free_ms) "
		         "SELECT unnest($1::text[]), $2 ON CONFLICT (gateway_id) DO UPDATE "
		         "SET free_ms = greatest(g.free_ms, excluded.free_ms)",
		         2, v, NULL);
	}
	return rc;
}

int seng_status_frame(struct store *s, const struct seng_status_frame *f, uint32_t *fcnt)
{
	char *ids = array_text(f->n_gateways, NULL, f->downlink_ids);
	char *gws = array_text(f->n_gateways, f->gateways, NULL);
	PGconn *c;
	int rc = FUOTA_ERR_NO_MEMORY;

	if (!ids || !gws)
		goto done;
	c = store_acquire(s);
	rc = run(c, "BEGIN", 0, NULL, NULL);
	if (rc == FUOTA_OK)
		rc = status_frame_tx(c, f, ids, gws, fcnt);
	if (rc == FUOTA_OK)
		rc = run(c, "COMMIT", 0, NULL, NULL);
	else
		run(c, "ROLLBACK", 0, NULL, NULL);
	store_release(s, c);
done:
	free(ids);
	free(gws);
	return rc;
}

int seng_dev_status(struct store *s, int64_t job_id, const char *dev_eui, int frag_index,
                    uint32_t received, uint32_t missing)
{
	char jid[24], fi[24], rx[24], mi[24];
	const char *v[5] = {store_i64(jid, job_id), dev_eui, store_i64(fi, frag_index),
	                    store_i64(rx, received), store_i64(mi, missing)};
	long rows = 0;

	return store_command(s,
	                     "UPDATE job_device jd SET status_round = es.round, "
	                     "status_received = $4, status_missing = $5 "
	                     "FROM engine_session es WHERE jd.job_id = $1 AND jd.dev_eui = $2 "
	                     "AND jd.step = 'session' AND es.job_id = $1 AND es.frag_index = $3",
	                     5, v, &rows);
}

int seng_round_answers(struct store *s, int64_t job_id, int frag_index, uint32_t round,
                       uint32_t **received, uint32_t **missing, size_t *n)
{
	char jid[24], fi[24], ro[24];
	const char *v[3] = {store_i64(jid, job_id), store_i64(fi, frag_index),
	                    store_i64(ro, round)};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = run(c,
	             "SELECT status_received, status_missing FROM job_device "
	             "WHERE job_id = $1 AND frag_index = $2 AND status_round = $3 "
	             "AND step = 'session' AND NOT block_received",
	             3, v, &r);
	size_t k = 0;

	*received = *missing = NULL;
	*n = 0;
	if (rc != FUOTA_OK)
		goto out;
	k = (size_t)PQntuples(r);
	*received = calloc(k ? k : 1, sizeof(uint32_t));
	*missing = calloc(k ? k : 1, sizeof(uint32_t));
	if (!*received || !*missing) {
		free(*received);
		free(*missing);
		*received = *missing = NULL;
		rc = FUOTA_ERR_NO_MEMORY;
		goto out;
	}
	for (size_t i = 0; i < k; i++) {
		(*received)[i] = (uint32_t)get_i64(r, (int)i, 0);
		(*missing)[i] = (uint32_t)get_i64(r, (int)i, 1);
	}
	*n = k;
out:
	PQclear(r);
	store_release(s, c);
	return rc;
}

int seng_dev_paused_session(struct store *s, const char *dev_eui, int64_t *job_id, int *frag_index,
                            int *frag_version)
{
	const char *v[1] = {dev_eui};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = run(c,
	             "SELECT jd.job_id, coalesce(jd.frag_index, 0), coalesce(jd.frag_version, 1) "
	             "FROM job_device jd JOIN job j ON j.id = jd.job_id "
	             "WHERE jd.dev_eui = $1 AND j.state = 'paused' AND jd.step = 'session' "
	             "ORDER BY jd.job_id DESC LIMIT 1",
	             1, v, &r);

	if (rc == FUOTA_OK && PQntuples(r) != 1)
		rc = FUOTA_ERR_NOT_FOUND;
	if (rc == FUOTA_OK) {
		*job_id = get_i64(r, 0, 0);
		*frag_index = (int)get_i64(r, 0, 1);
		*frag_version = (int)get_i64(r, 0, 2);
	}
	PQclear(r);
	store_release(s, c);
	return rc;
}
