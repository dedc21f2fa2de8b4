/* Modem updates as the engine's runner drives them (fuota/store_modem.h, seng_modem_*). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/store_modem.h"
#include "store_int.h"
#include "store_modem_int.h"

static void copy(char *dst, size_t cap, const PGresult *r, int row, int col)
{
	snprintf(dst, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

int seng_modem_prefix_set(struct store *s, const char *gw, const char *prefix)
{
	const char *vals[2] = {gw, prefix};
	long rows;

	return store_command(s,
	                     "UPDATE gateway_modem SET topic_prefix = $2 WHERE gateway_id = $1 AND "
	                     "topic_prefix IS DISTINCT FROM $2",
	                     2, vals, &rows);
}

static void read_due(const PGresult *r, int row, void *item)
{
	struct seng_modem_due *d = item;

	d->id = store_get_i64(r, row, 0);
	copy(d->gw, sizeof(d->gw), r, row, 1);
	copy(d->method, sizeof(d->method), r, row, 2);
	d->image_size = store_get_i64(r, row, 3);
	d->planned_ms = store_get_i64(r, row, 4);
	d->tenant_id = store_get_i64(r, row, 5);
}

int seng_modem_due_claim(struct store *s, int64_t now_ms, struct seng_modem_due *out)
{
	char now[24];
	const char *vals[1] = {store_i64(now, now_ms)};
	size_t n = 0;
	/* Claimed for a minute: another instance takes it over only when this one died. */
	int rc = store_read_rows(
	        s,
	        "UPDATE modem_update SET claim_ms = $1::bigint WHERE id = (SELECT id FROM "
	        "modem_update "
	        "WHERE state = 'scheduled' AND planned_start_ms <= $1::bigint AND (claim_ms IS "
	        "NULL "
	        "OR claim_ms < $1::bigint - 60000) ORDER BY planned_start_ms, id LIMIT 1 "
	        "FOR UPDATE SKIP LOCKED) "
	        "RETURNING id, gateway_id, method, image_size, planned_start_ms, tenant_id",
	        1, vals, read_due, out, sizeof(*out), 1, &n);

	return rc == FUOTA_OK && n == 0 ? FUOTA_ERR_NOT_FOUND : rc;
}

int seng_modem_due_start(struct store *s, int64_t id, int64_t now_ms)
{
	char uid[24], now[24];
	const char *vals[2] = {store_i64(uid, id), store_i64(now, now_ms)};
	long rows = 0;
	int rc = store_command(
	        s,
	        "WITH u AS (UPDATE modem_update SET state = 'sent', started_ms = $2::bigint, "
	        "updated_ms = $2::bigint, claim_ms = NULL, note = NULL "
	        "WHERE id = $1 AND state = 'scheduled' RETURNING id) "
	        "INSERT INTO modem_update_cmd (id, update_id, action, created_ms) "
	        "SELECT nextval('modem_update_cmd_id'), id, 'start', $2::bigint FROM u",
	        2, vals, &rows);

	return rc == FUOTA_OK && rows == 0 ? FUOTA_ERR_STATE : rc;
}

int seng_modem_due_postpone(struct store *s, int64_t id, int64_t at_ms, const char *why,
                            int64_t now_ms)
{
	char uid[24], at[24], now[24];
	const char *vals[4] = {store_i64(uid, id), store_i64(at, at_ms), why,
	                       store_i64(now, now_ms)};
	long rows = 0;

	return store_command(
	        s,
	        "UPDATE modem_update SET planned_start_ms = $2, note = $3, "
	        "claim_ms = NULL, updated_ms = $4 WHERE id = $1 AND state = 'scheduled'",
	        4, vals, &rows);
}

static void read_cmd(const PGresult *r, int row, void *item)
{
	struct seng_modem_cmd *c = item;

	c->id = store_get_i64(r, row, 0);
	c->update_id = store_get_i64(r, row, 1);
	copy(c->action, sizeof(c->action), r, row, 2);
	copy(c->gw, sizeof(c->gw), r, row, 3);
	copy(c->prefix, sizeof(c->prefix), r, row, 4);
	copy(c->method, sizeof(c->method), r, row, 5);
	copy(c->url, sizeof(c->url), r, row, 6);
	copy(c->package, sizeof(c->package), r, row, 7);
	copy(c->md5, sizeof(c->md5), r, row, 8);
	c->resent = PQgetvalue(r, row, 9)[0] == 't';
}

int seng_modem_cmds_take(struct store *s, int64_t now_ms, struct seng_modem_cmd *out, size_t max,
                         size_t *n)
{
	char now[24], lim[24], resend[24];
	const char *vals[3] = {store_i64(now, now_ms), store_i64(lim, (int64_t)max),
	                       store_i64(resend, SENG_MODEM_RESEND_MS)};

	return store_read_rows(
	        s,
	        "WITH c AS (UPDATE modem_update_cmd SET published_ms = $1::bigint FROM ("
	        "  SELECT c.id, c.published_ms IS NOT NULL AS resent FROM modem_update_cmd c "
	        "  JOIN modem_update u ON u.id = c.update_id "
	        "  JOIN gateway_modem g ON g.gateway_id = u.gateway_id "
	        "  WHERE g.topic_prefix IS NOT NULL AND (c.published_ms IS NULL OR ("
	        "    c.published_ms < $1::bigint - $3::bigint AND u.state = 'sent' AND c.id = ("
	        "    SELECT max(c2.id) FROM modem_update_cmd c2 JOIN modem_update u2 "
	        "    ON u2.id = c2.update_id WHERE u2.gateway_id = u.gateway_id))) "
	        "  ORDER BY c.id LIMIT $2 FOR UPDATE OF c SKIP LOCKED) p "
	        "  WHERE modem_update_cmd.id = p.id RETURNING modem_update_cmd.*, p.resent) "
	        "SELECT c.id, c.update_id, c.action, u.gateway_id, g.topic_prefix, u.method, "
	        "u.url, u.package, u.md5, c.resent FROM c JOIN modem_update u ON u.id = "
	        "c.update_id "
	        "JOIN gateway_modem g ON g.gateway_id = u.gateway_id ORDER BY c.id",
	        3, vals, read_cmd, out, sizeof(*out), max, n);
}

int seng_modem_cmd_untake(struct store *s, int64_t cmd_id)
{
	char cid[24];
	const char *vals[1] = {store_i64(cid, cmd_id)};
	long rows;

	return store_command(s, "UPDATE modem_update_cmd SET published_ms = NULL WHERE id = $1", 1,
	                     vals, &rows);
}

/* The update fuota-gw's report of command id (0: its own) is about; 0 in *uid when none.
 * The gateway's own without an active one: a new row. */
static int event_target(struct store *s, const char *gw, const struct seng_modem_report *ev,
                        int64_t now_ms, int64_t *uid)
{
	char cid[24], now[24];
	const char *vals[4] = {gw, ev->method, ev->state, store_i64(now, now_ms)};

	*uid = 0;
	if (ev->id > 0) {
		vals[1] = store_i64(cid, ev->id);
		return store_query_i64(
		        s,
		        "SELECT c.update_id FROM modem_update_cmd c JOIN modem_update u "
		        "ON u.id = c.update_id WHERE c.id = $2 AND u.gateway_id = $1",
		        2, vals, FUOTA_ERR_NOT_FOUND, uid);
	}
	/* The gateway's own active one; else one of the same method that ended in the last ten
	 * minutes (a report repeated, QoS 1, or a state/modem older than the end: nothing new);
	 * else a new one. */
	return store_query_i64(
	        s,
	        "WITH a AS (SELECT id FROM modem_update WHERE gateway_id = $1 AND tenant_id IS "
	        "NULL "
	        "  AND state NOT IN " MODEM_ENDED " ORDER BY id DESC LIMIT 1), "
	        "r AS (SELECT id FROM modem_update WHERE gateway_id = $1 AND tenant_id IS NULL "
	        "  AND state IN " MODEM_ENDED " AND method = $2 AND finished_ms > $4::bigint - "
	        "  600000 ORDER BY id DESC LIMIT 1), "
	        "i AS (INSERT INTO modem_update (gateway_id, method, image_size, state, "
	        "created_ms, updated_ms, started_ms, finished_ms) SELECT $1, $2, 0, $3, "
	        "$4::bigint, $4::bigint, $4::bigint, CASE WHEN $3 IN " MODEM_ENDED
	        " THEN $4::bigint END "
	        "  WHERE NOT EXISTS (SELECT 1 FROM a) AND NOT EXISTS (SELECT 1 FROM r) "
	        "  ON CONFLICT DO NOTHING RETURNING id) "
	        "SELECT id FROM a UNION ALL SELECT id FROM i UNION ALL "
	        "SELECT id FROM r WHERE NOT EXISTS (SELECT 1 FROM a)",
	        4, vals, FUOTA_ERR_NOT_FOUND, uid);
}

static const char *said(const char *s)
{
	return s && s[0] ? s : NULL;
}

/* The report applied to update uid: an ended update keeps its end; a rejected pause, resume or
 * cancel leaves the update as it was, with why in its note. only_change: nothing written when
 * state and progress are as stored. *rows: 1 when written. */
static int event_apply(struct store *s, int64_t uid, const struct seng_modem_report *ev,
                       int64_t now_ms, bool only_change, long *rows)
{
	char id[24], cid[24], prog[24], until[24], now[24];
	const char *vals[10] = {store_i64(id, uid),
	                        ev->state,
	                        ev->progress >= 0 ? store_i64(prog, ev->progress) : NULL,
	                        ev->deferred_until_s ? store_i64(until, ev->deferred_until_s * 1000)
	                                             : NULL,
	                        said(ev->firmware_before),
	                        said(ev->firmware),
	                        said(ev->error),
	                        store_i64(now, now_ms),
	                        store_i64(cid, ev->id),
	                        only_change ? "t" : "f"};

	return store_command(
	        s,
	        "WITH k AS (SELECT coalesce((SELECT action FROM modem_update_cmd WHERE id = $9 "
	        "  AND $9 > 0), 'start') AS action) "
	        "UPDATE modem_update m SET "
	        "state = CASE WHEN $2 = 'rejected' AND k.action <> 'start' THEN m.state ELSE $2 "
	        "END, "
	        "progress = coalesce($3::int, m.progress), deferred_until_ms = $4::bigint, "
	        "firmware_before = coalesce($5, m.firmware_before), "
	        "firmware_after = CASE WHEN $2 = 'done' THEN coalesce($6, m.firmware_after) "
	        "  ELSE m.firmware_after END, "
	        "error = coalesce($7, m.error), "
	        "note = CASE WHEN $2 = 'rejected' AND k.action <> 'start' "
	        "  THEN k.action || ' rejected by the gateway' ELSE m.note END, "
	        "updated_ms = $8::bigint, started_ms = coalesce(m.started_ms, $8::bigint), "
	        "finished_ms = CASE WHEN $2 IN " MODEM_ENDED " AND NOT ($2 = 'rejected' AND "
	        "  k.action <> 'start') THEN $8::bigint ELSE m.finished_ms END "
	        "FROM k WHERE m.id = $1 AND m.state NOT IN " MODEM_ENDED " AND NOT ($10::bool AND "
	        "  m.state = $2 AND m.progress IS NOT DISTINCT FROM $3::int)",
	        10, vals, rows);
}

static int event_do(struct store *s, const char *gw, const struct seng_modem_report *ev,
                    int64_t now_ms, bool only_change, int64_t *tenant, char **json)
{
	int64_t uid = 0;
	long rows = 0;
	int rc;

	*json = NULL;
	*tenant = 0;
	rc = event_target(s, gw, ev, now_ms, &uid);
	if (rc == FUOTA_OK && uid == 0)
		rc = FUOTA_ERR_NOT_FOUND;
	if (rc == FUOTA_OK)
		rc = event_apply(s, uid, ev, now_ms, only_change, &rows);
	if (rc == FUOTA_OK && rows > 0)
		rc = seng_modem_update_json(s, uid, tenant, json);
	return rc;
}

int seng_modem_event(struct store *s, const char *gw, const struct seng_modem_report *ev,
                     int64_t now_ms, int64_t *tenant, char **json)
{
	return event_do(s, gw, ev, now_ms, false, tenant, json);
}

int seng_modem_state_update(struct store *s, const char *gw, int64_t id, const char *state,
                            const char *method, int progress, int64_t now_ms, int64_t *tenant,
                            char **json)
{
	struct seng_modem_report ev = {
	        .id = id, .state = state, .method = method, .progress = progress};

	return event_do(s, gw, &ev, now_ms, true, tenant, json);
}

struct silent_row {
	int64_t id;
	char gw[17];
};

static void read_silent(const PGresult *r, int row, void *item)
{
	struct silent_row *x = item;

	x->id = store_get_i64(r, row, 0);
	copy(x->gw, sizeof(x->gw), r, row, 1);
}

int seng_modem_silent_end(struct store *s, int64_t now_ms, int64_t *id, char gw[17])
{
	char now[24], quiet[24];
	const char *vals[2] = {store_i64(now, now_ms), store_i64(quiet, SENG_MODEM_SILENT_MS)};
	struct silent_row x = {0};
	size_t n = 0;
	int rc = store_read_rows(
	        s,
	        "WITH x AS (UPDATE modem_update m SET state = 'failed', finished_ms = $1::bigint, "
	        "  updated_ms = $1::bigint, error = 'no word from the gateway for 24 hours', "
	        "  note = 'ended by fuotad: fuota-gw went silent' WHERE m.id = ("
	        "  SELECT u.id FROM modem_update u WHERE u.state IN ('sent', 'starting', "
	        "  'downloading', 'installing', 'deferred') AND greatest(u.updated_ms, "
	        "  coalesce(u.deferred_until_ms, 0)) < $1::bigint - $2::bigint AND coalesce(("
	        "  SELECT g.received_ms FROM gateway_modem g WHERE g.gateway_id = u.gateway_id), "
	        "0) "
	        "  < $1::bigint - $2::bigint ORDER BY u.id LIMIT 1 FOR UPDATE SKIP LOCKED) "
	        "  RETURNING m.id, m.gateway_id), "
	        "c AS (INSERT INTO modem_update_cmd (id, update_id, action, created_ms) "
	        "  SELECT nextval('modem_update_cmd_id'), x.id, 'cancel', $1::bigint FROM x "
	        "  WHERE EXISTS (SELECT 1 FROM modem_update_cmd k WHERE k.update_id = x.id)) "
	        "SELECT id, gateway_id FROM x",
	        2, vals, read_silent, &x, sizeof(x), 1, &n);

	if (rc == FUOTA_OK && n == 0)
		return FUOTA_ERR_NOT_FOUND;
	*id = x.id;
	memcpy(gw, x.gw, sizeof(x.gw));
	return rc;
}

static void read_prefix(const PGresult *r, int row, void *item)
{
	copy(item, 64, r, row, 0);
}

int seng_modem_cmds_over(struct store *s, const char *gw, char prefix[64])
{
	const char *vals[1] = {gw};
	size_t n = 0;
	int rc = store_read_rows(
	        s,
	        "SELECT g.topic_prefix FROM gateway_modem g WHERE g.gateway_id = $1 "
	        "AND g.topic_prefix IS NOT NULL AND EXISTS (SELECT 1 FROM modem_update_cmd c "
	        "  JOIN modem_update u ON u.id = c.update_id WHERE u.gateway_id = $1) "
	        "AND NOT EXISTS (SELECT 1 FROM modem_update_cmd c JOIN modem_update u "
	        "  ON u.id = c.update_id WHERE u.gateway_id = $1 AND (c.published_ms IS NULL "
	        "  OR u.state NOT IN " MODEM_ENDED "))",
	        1, vals, read_prefix, prefix, 64, 1, &n);

	return rc == FUOTA_OK && n == 0 ? FUOTA_ERR_NOT_FOUND : rc;
}

int seng_modem_update_json(struct store *s, int64_t id, int64_t *tenant, char **json)
{
	char uid[24];
	const char *vals[2] = {"-1", store_i64(uid, id)};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run(c,
	                   /* Seen by fuotad ($1 -1: nothing hidden), "own" set from the row: the
	                    * event goes to the tenant that made it, or, a gateway's own update,
	                    * to every tenant of the gateway (integration_event). */
	                   "SELECT coalesce(m.tenant_id, 0), jsonb_set((" MODEM_JSON
	                   ")::jsonb, '{own}', to_jsonb(m.tenant_id IS NOT NULL)) "
	                   "FROM modem_update m WHERE m.id = $2::bigint",
	                   2, vals, &r);

	*json = NULL;
	if (rc == FUOTA_OK && PQntuples(r) != 1)
		rc = FUOTA_ERR_NOT_FOUND;
	if (rc == FUOTA_OK) {
		*tenant = store_get_i64(r, 0, 0);
		*json = strdup(PQgetvalue(r, 0, 1));
		rc = *json ? FUOTA_OK : FUOTA_ERR_NO_MEMORY;
	}
	PQclear(r);
	return store_release_rc(s, c, rc);
}

static void read_i64(const PGresult *r, int row, void *item)
{
	*(int64_t *)item = store_get_i64(r, row, 0);
}

#define MAX_TENANTS 4096

int seng_modem_gw_tenants(struct store *s, const char *gw, int64_t **ids, size_t *n)
{
	const char *vals[1] = {gw};
	int rc;

	*n = 0;
	*ids = calloc(MAX_TENANTS, sizeof(**ids));
	if (!*ids)
		return FUOTA_ERR_NO_MEMORY;
	rc = store_read_rows(s,
	                     "SELECT DISTINCT tenant_id FROM engine_device_gateway "
	                     "WHERE gateway_id = $1 ORDER BY 1",
	                     1, vals, read_i64, *ids, sizeof(**ids), MAX_TENANTS, n);
	if (rc != FUOTA_OK) {
		free(*ids);
		*ids = NULL;
	}
	return rc;
}

int seng_modem_sessions_mark(struct store *s, const char *gw, const char *json, bool *changed)
{
	const char *vals[2] = {gw, json};
	long rows = 0;
	int rc = store_command(s,
	                       "UPDATE gateway_modem SET sessions_sent = $2 WHERE gateway_id = $1 "
	                       "AND sessions_sent IS DISTINCT FROM $2",
	                       2, vals, &rows);

	*changed = rc == FUOTA_OK && rows > 0;
	return rc;
}

int seng_modem_sessions_unmark(struct store *s, const char *gw)
{
	const char *vals[1] = {gw};
	long rows;

	return store_command(s,
	                     "UPDATE gateway_modem SET sessions_sent = NULL WHERE gateway_id = $1",
	                     1, vals, &rows);
}

static void read_busy(const PGresult *r, int row, void *item)
{
	struct seng_modem_busy *b = item;

	copy(b->gw, sizeof(b->gw), r, row, 0);
	copy(b->method, sizeof(b->method), r, row, 1);
	copy(b->state, sizeof(b->state), r, row, 2);
	b->start_ms = store_get_i64(r, row, 3);
	b->image_size = store_get_i64(r, row, 4);
}

int seng_modem_busy(struct store *s, const char (*gws)[17], size_t n_gws,
                    struct seng_modem_busy **out, size_t *n)
{
	size_t cap = n_gws * 2 + 1, pos = 1;
	char *arr = malloc(n_gws * 17 + 3);
	const char *vals[1];
	int rc;

	*out = NULL;
	*n = 0;
	if (!arr)
		return FUOTA_ERR_NO_MEMORY;
	/* An array literal of hex ids: nothing in them to quote. */
	arr[0] = '{';
	for (size_t i = 0; i < n_gws; i++)
		pos += (size_t)snprintf(arr + pos, 18, "%s%.16s", i ? "," : "", gws[i]);
	memcpy(arr + pos, "}", 2);
	vals[0] = arr;
	*out = calloc(cap, sizeof(**out));
	rc = *out ? FUOTA_OK : FUOTA_ERR_NO_MEMORY;
	if (rc == FUOTA_OK)
		rc = store_read_rows(
		        s,
		        "SELECT gateway_id, method, state, coalesce(started_ms, "
		        "planned_start_ms, updated_ms), image_size FROM modem_update "
		        "WHERE gateway_id = ANY($1::text[]) AND state NOT IN " MODEM_ENDED
		        " ORDER BY gateway_id, id",
		        1, vals, read_busy, *out, sizeof(**out), cap, n);
	if (rc != FUOTA_OK) {
		free(*out);
		*out = NULL;
	}
	free(arr);
	return rc;
}

int seng_job_plan_note(struct store *s, int64_t job_id, const char *patch)
{
	char jid[24];
	const char *vals[2] = {store_i64(jid, job_id), patch};
	long rows;

	return store_command(s,
	                     "UPDATE job SET plan = plan || $2::jsonb, updated_at = now() "
	                     "WHERE id = $1",
	                     2, vals, &rows);
}
