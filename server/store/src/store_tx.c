/* The job engine's SQL for multicast frames (see store_engine.h): FCnt, engine_tx rows,
 * gateway acks and resends, gateway busy times and encodings. Times come from the engine's
 * clock as Unix ms. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/cbox.h"
#include "fuota/engine_calc.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/store_engine.h"
#include "store_engine_int.h"

/* The first statements of a multicast frame's transaction: the group's FCnt (gid) moves first
 * and commits with the frame's record, so that a crash after the transaction can only skip a
 * value, never send one twice (P15); *fcnt receives it. Then one engine_tx row per gateway (gws,
 * their downlink ids) for frame n of session fi (n 0: a multicast FragSessionStatusReq). */
static int frame_record(PGconn *c, const char *gid, const char *ids, const char *jid,
                        const char *gws, const char *n, const char *now, const char *fi,
                        uint32_t *fcnt)
{
	char fc[24];
	PGresult *r = NULL;
	int rc;

	{
		const char *v[1] = {gid};

		rc = store_run(c,
		               "UPDATE multicast_group SET fcnt = fcnt + 1 WHERE id = $1 "
		               "AND fcnt < 4294967295 RETURNING fcnt - 1",
		               1, v, &r);
		if (rc != FUOTA_OK)
			return rc;
		if (PQntuples(r) != 1) {
			PQclear(r);
			return FUOTA_ERR_NO_SPACE;
		}
		*fcnt = (uint32_t)store_get_i64(r, 0, 0);
		PQclear(r);
	}
	{
		const char *v[7] = {ids, jid, gws, n, store_i64(fc, *fcnt), now, fi};

		return store_run(
		        c,
		        "INSERT INTO engine_tx (downlink_id, job_id, gateway_id, n, fcnt, sent_ms, "
		        "  frag_index) "
		        "SELECT unnest($1::bigint[]), $2, unnest($3::text[]), $4, $5, $6, $7",
		        7, v, NULL);
	}
}

/* The gateways gws are busy until free_ms (engine_gateway: the later time wins). */
static int gateways_busy(PGconn *c, const char *gws, int64_t free_ms)
{
	char fm[24];
	const char *v[2] = {gws, store_i64(fm, free_ms)};

	return store_run(c,
	                 "INSERT INTO engine_gateway AS g (gateway_id, free_ms) "
	                 "SELECT unnest($1::text[]), $2 ON CONFLICT (gateway_id) DO UPDATE "
	                 "SET free_ms = greatest(g.free_ms, excluded.free_ms)",
	                 2, v, NULL);
}

int seng_frame(struct store *s, const struct seng_frame *f, uint32_t *fcnt)
{
	char jid[24], gid[24], n[24], now[24], nt[24], ro[24], fi[24];
	char *ids = NULL, *gws = NULL;
	PGconn *c;
	int rc = id_array(f->downlink_ids, f->n_gateways, &ids);

	if (rc == FUOTA_OK)
		rc = gw_array(f->gateways, f->n_gateways, &gws);
	if (rc != FUOTA_OK)
		goto done;
	store_i64(jid, f->job_id);
	store_i64(gid, f->group_id);
	store_i64(n, f->n);
	store_i64(now, f->now_ms);
	store_i64(nt, f->next_tx_ms);
	store_i64(ro, f->resend_of);
	store_i64(fi, f->frag_index);
	c = store_acquire(s);
	rc = begin(c);
	if (rc == FUOTA_OK)
		rc = store_lease_hold(c, f->job_id, &f->lease);
	if (rc == FUOTA_OK)
		rc = frame_record(c, gid, ids, jid, gws, n, now, fi, fcnt);
	if (rc != FUOTA_OK)
		goto out;
	{
		const char *v[5] = {jid, b(f->new_frame), n, nt, now};

		rc = store_run(
		        c,
		        "UPDATE engine_job SET next_n = CASE WHEN $2 THEN greatest(next_n, $3 + 1) "
		        "ELSE next_n END, next_tx_ms = $4, tx_end_ms = $5, "
		        "frames_sent = frames_sent + CASE WHEN $2 THEN 1 ELSE 0 END, "
		        "frames_resent = frames_resent + CASE WHEN $2 THEN 0 ELSE 1 END "
		        "WHERE job_id = $1",
		        5, v, NULL);
		if (rc != FUOTA_OK)
			goto out;
		if (f->gateway_free_ms > 0) {
			rc = gateways_busy(c, gws, f->gateway_free_ms);
			if (rc != FUOTA_OK)
				goto out;
		}
		if (f->new_frame) {
			const char *w[3] = {jid, fi, n};

			rc = store_run(
			        c,
			        "UPDATE engine_session SET next_n = greatest(next_n, $3::int + 1), "
			        "frames_sent = frames_sent + 1 WHERE job_id = $1 AND frag_index = "
			        "$2",
			        3, w, NULL);
			if (rc != FUOTA_OK)
				goto out;
		}
		if (f->resend_of > 0) {
			const char *w[1] = {ro};

			rc = store_run(c, "UPDATE engine_tx SET resend = 2 WHERE downlink_id = $1",
			               1, w, NULL);
			if (rc != FUOTA_OK)
				goto out;
		}
	}
	rc = commit(c);
out:
	store_release(s, c);
done:
	free(ids);
	free(gws);
	return rc;
}

/* The statements of seng_status_frame after BEGIN; *fcnt set. */
static int status_frame_tx(PGconn *c, const struct seng_status_frame *f, const char *ids,
                           const char *gws, uint32_t *fcnt)
{
	char jid[24], gid[24], fi[24], now[24], nt[24], at[24];
	int rc;

	store_i64(jid, f->job_id);
	store_i64(gid, f->group_id);
	store_i64(fi, f->frag_index);
	store_i64(now, f->now_ms);
	store_i64(nt, f->next_tx_ms);
	store_i64(at, f->asked_at);
	rc = frame_record(c, gid, ids, jid, gws, "0", now, fi, fcnt);
	if (rc != FUOTA_OK)
		return rc;
	{
		const char *v[3] = {jid, fi, at};

		rc = store_run(c,
		               "UPDATE engine_session SET round = round + 1, asked_at = $3 "
		               "WHERE job_id = $1 AND frag_index = $2",
		               3, v, NULL);
		if (rc != FUOTA_OK)
			return rc;
	}
	{
		const char *v[3] = {jid, nt, now};

		rc = store_run(
		        c,
		        "UPDATE engine_job SET next_tx_ms = $2, tx_end_ms = $3 WHERE job_id = $1",
		        3, v, NULL);
		if (rc != FUOTA_OK)
			return rc;
	}
	if (f->gateway_free_ms > 0)
		rc = gateways_busy(c, gws, f->gateway_free_ms);
	return rc;
}

int seng_status_frame(struct store *s, const struct seng_status_frame *f, uint32_t *fcnt)
{
	char *ids = NULL, *gws = NULL;
	PGconn *c;
	int rc = id_array(f->downlink_ids, f->n_gateways, &ids);

	if (rc == FUOTA_OK)
		rc = gw_array(f->gateways, f->n_gateways, &gws);
	if (rc != FUOTA_OK)
		goto done;
	c = store_acquire(s);
	rc = begin(c);
	if (rc == FUOTA_OK)
		rc = store_lease_hold(c, f->job_id, &f->lease);
	if (rc == FUOTA_OK)
		rc = status_frame_tx(c, f, ids, gws, fcnt);
	if (rc == FUOTA_OK)
		rc = commit(c);
	else
		rollback(c);
	store_release(s, c);
done:
	free(ids);
	free(gws);
	return rc;
}

int seng_resend_next(struct store *s, int64_t job_id, int64_t *downlink_id, char gw[SENG_EUI_LEN],
                     int *frag_index, uint32_t *n)
{
	char jid[24];
	const char *vals[1] = {store_i64(jid, job_id)};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run(
	        c,
	        "SELECT downlink_id, gateway_id, n, frag_index FROM engine_tx WHERE job_id = $1 "
	        "AND resend = 1 ORDER BY sent_ms, n LIMIT 1",
	        1, vals, &r);

	if (rc == FUOTA_OK) {
		if (PQntuples(r) == 1) {
			*downlink_id = store_get_i64(r, 0, 0);
			get_str(r, 0, 1, gw, SENG_EUI_LEN);
			*n = (uint32_t)store_get_i64(r, 0, 2);
			*frag_index = (int)store_get_i64(r, 0, 3);
		} else {
			rc = FUOTA_ERR_NOT_FOUND;
		}
	}
	PQclear(r);
	store_release(s, c);
	return rc;
}

int seng_tx_waiting(struct store *s, int64_t job_id, int64_t unacked_since_ms, unsigned *n)
{
	char jid[24], since[24];
	const char *vals[2] = {store_i64(jid, job_id), store_i64(since, unacked_since_ms)};
	int64_t v = 0;
	int rc = store_query_i64(
	        s,
	        "SELECT count(*) FILTER (WHERE resend = 1) + count(*) FILTER (WHERE "
	        "ack IS NULL AND sent_ms > $2) FROM engine_tx WHERE job_id = $1",
	        2, vals, FUOTA_ERR_IO, &v);

	if (rc == FUOTA_OK)
		*n = (unsigned)v;
	return rc;
}

int seng_tx_ack(struct store *s, uint32_t downlink_id, const char *status, bool ok, int64_t *job_id)
{
	char id[24];
	const char *vals[3] = {store_i64(id, downlink_id), status, b(ok)};

	return store_query_i64(s,
	                       "UPDATE engine_tx SET ack = $2, resend = CASE WHEN $3 THEN resend "
	                       "WHEN resend = 0 THEN 1 ELSE resend END "
	                       "WHERE downlink_id = $1 AND ack IS NULL RETURNING job_id",
	                       3, vals, FUOTA_ERR_NOT_FOUND, job_id);
}

int seng_gateways_free(struct store *s, const char (*gws)[SENG_EUI_LEN], size_t n, int64_t *free_ms)
{
	char *ids = NULL;
	const char *vals[1];
	PGconn *c;
	PGresult *r = NULL;
	int rc = gw_array(gws, n, &ids);

	if (rc != FUOTA_OK)
		return rc;
	vals[0] = ids;
	for (size_t i = 0; i < n; i++)
		free_ms[i] = 0;
	c = store_acquire(s);
	rc = store_run(c,
	               "SELECT gateway_id, free_ms FROM engine_gateway WHERE gateway_id = ANY($1)",
	               1, vals, &r);
	for (int row = 0; rc == FUOTA_OK && row < PQntuples(r); row++)
		for (size_t i = 0; i < n; i++)
			if (strcmp(gws[i], PQgetvalue(r, row, 0)) == 0)
				free_ms[i] = store_get_i64(r, row, 1);
	PQclear(r);
	store_release(s, c);
	free(ids);
	return rc;
}

int seng_gw_encoding_set(struct store *s, const char *gw, bool json, int64_t now_ms)
{
	char now[24];
	const char *vals[3] = {gw, json ? "json" : "protobuf", store_i64(now, now_ms)};
	long rows;

	/* The latest observation wins, not the latest write: an instance whose batch commits late
	 * must not put back the encoding a gateway has just left (another instance learnt the new
	 * one from a later message). */
	return store_command(s,
	                     "INSERT INTO engine_gateway AS g (gateway_id, free_ms, encoding, "
	                     "encoding_ms) VALUES ($1, 0, $2, $3) ON CONFLICT (gateway_id) DO "
	                     "UPDATE SET encoding = $2, encoding_ms = $3 "
	                     "WHERE g.encoding_ms IS NULL OR g.encoding_ms <= $3",
	                     3, vals, &rows);
}

int seng_gw_encoding_get(struct store *s, const char *gw, bool *json)
{
	const char *vals[1] = {gw};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run(c, "SELECT encoding FROM engine_gateway WHERE gateway_id = $1", 1, vals,
	                   &r);

	if (rc == FUOTA_OK && (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)))
		rc = FUOTA_ERR_NOT_FOUND;
	if (rc == FUOTA_OK)
		*json = strcmp(PQgetvalue(r, 0, 0), "json") == 0;
	PQclear(r);
	store_release(s, c);
	return rc;
}

int seng_tx_unacked_resend(struct store *s, int64_t job_id, int64_t sent_before_ms, long *rows)
{
	/* Each frame (gateway, FragIndex, N) at most once for want of an ack: its only row. */
	static const char sql[] =
	        "UPDATE engine_tx t SET ack = 'NO_ACK', resend = 1 WHERE t.job_id = $1 "
	        "AND t.ack IS NULL AND t.resend = 0 AND t.n > 0 AND t.sent_ms <= $2::bigint "
	        "AND NOT EXISTS (SELECT 1 FROM engine_tx o WHERE o.job_id = t.job_id "
	        "AND o.gateway_id = t.gateway_id AND o.frag_index = t.frag_index AND o.n = t.n "
	        "AND o.downlink_id <> t.downlink_id)";
	char jid[24], before[24];
	const char *vals[2] = {store_i64(jid, job_id), store_i64(before, sent_before_ms)};

	return store_command(s, sql, 2, vals, rows);
}
