/* The job engine's SQL for adaptive rounds (store_engine.h, "adaptive rounds"): the end of the
 * batch each fragmentation session is in and the devices' answers to its multicast status
 * requests (the rounds are read with the sessions, seng_sessions; the requests themselves are
 * frames of the group: seng_status_frame, in store_tx.c beside seng_frame). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuota/err.h"
#include "fuota/store_engine.h"
#include "store_int.h"

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
	int rc = store_run(c,
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
		(*received)[i] = (uint32_t)store_get_i64(r, (int)i, 0);
		(*missing)[i] = (uint32_t)store_get_i64(r, (int)i, 1);
	}
	*n = k;
out:
	PQclear(r);
	rc = store_release_rc(s, c, rc);
	return rc;
}

int seng_dev_paused_session(struct store *s, const char *dev_eui, struct seng_paused *out)
{
	const char *v[1] = {dev_eui};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run(
	        c,
	        "SELECT jd.job_id, coalesce(jd.frag_index, 0), coalesce(jd.frag_version, 1), "
	        "  coalesce(e.nb_frag, 0), d.stack, d.application_id "
	        "FROM job_device jd JOIN job j ON j.id = jd.job_id "
	        "JOIN device d ON d.tenant_id = jd.tenant_id AND d.dev_eui = jd.dev_eui "
	        "LEFT JOIN engine_job e ON e.job_id = jd.job_id "
	        "WHERE jd.dev_eui = $1 AND j.state = 'paused' AND jd.step = 'session' "
	        "ORDER BY jd.job_id DESC LIMIT 1",
	        1, v, &r);

	if (rc == FUOTA_OK && PQntuples(r) != 1)
		rc = FUOTA_ERR_NOT_FOUND;
	if (rc == FUOTA_OK) {
		out->job_id = store_get_i64(r, 0, 0);
		out->frag_index = (int)store_get_i64(r, 0, 1);
		out->frag_version = (int)store_get_i64(r, 0, 2);
		out->nb_frag = (uint32_t)store_get_i64(r, 0, 3);
		snprintf(out->stack, sizeof(out->stack), "%s", PQgetvalue(r, 0, 4));
		snprintf(out->application_id, sizeof(out->application_id), "%s",
		         PQgetvalue(r, 0, 5));
	}
	PQclear(r);
	rc = store_release_rc(s, c, rc);
	return rc;
}
