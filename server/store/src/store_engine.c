/* The job engine's SQL (see store_engine.h). Times come from the engine's clock as Unix ms and
 * go into timestamptz columns through to_timestamp(ms / 1000.0). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/cbox.h"
#include "fuota/engine_calc.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/store_engine.h"
#include "store_array.h"
#include "store_int.h"

#define TS(p) "to_timestamp(" p "::bigint / 1000.0)"

static const char *b(bool v)
{
	return v ? "true" : "false";
}

static bool get_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

static void get_str(const PGresult *r, int row, int col, char *out, size_t cap)
{
	snprintf(out, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* A hex column (encode(x, 'hex')) into out; *len = 0 when NULL or too long. */
static void get_hex(const PGresult *r, int row, int col, uint8_t *out, size_t cap, size_t *len)
{
	const char *h = PQgetvalue(r, row, col);
	size_t hl = strlen(h);

	*len = 0;
	if (PQgetisnull(r, row, col) || hl % 2 || hl / 2 > cap)
		return;
	if (cbox_hex_decode(h, hl, out, hl / 2) == FUOTA_OK)
		*len = hl / 2;
}

static int begin(PGconn *c)
{
	return store_run(c, "BEGIN", 0, NULL, NULL);
}

static int commit(PGconn *c)
{
	return store_run(c, "COMMIT", 0, NULL, NULL);
}

/* Undoes a failed transaction. A ROLLBACK that fails too has been logged, and store_release
 * rolls back or resets the connection before anyone uses it again. */
static void rollback(PGconn *c)
{
	if (store_run(c, "ROLLBACK", 0, NULL, NULL) != FUOTA_OK)
		return;
}

/* The job_device.step text of a step, NULL for what is none (ENGINE_STEP_COUNT and above):
 * steps are text at the SQL boundary only. */
static const char *step_text(enum engine_step st)
{
	return (unsigned)st < ENGINE_STEP_COUNT ? engine_step_name(st) : NULL;
}

/* A job_device.step text read back; ENGINE_STEP_UNKNOWN when it names no step. */
static enum engine_step step_of(const char *text)
{
	enum engine_step st;

	return engine_step_parse(text, &st) == FUOTA_OK ? st : ENGINE_STEP_UNKNOWN;
}

/* Every step's text as a text[] literal, *out malloc'd: what "names no step" is tested
 * against. */
static int steps_array(char **out)
{
	struct store_array a;

	store_array_init(&a, STORE_ARRAY_MAX);
	for (unsigned i = 0; i < ENGINE_STEP_COUNT; i++)
		store_array_text(&a, engine_step_name((enum engine_step)i));
	return store_array_end(&a, out);
}

/* The n gateway ids as a text[] literal, *out malloc'd (store_array.h). */
static int gw_array(const char (*gws)[SENG_EUI_LEN], size_t n, char **out)
{
	struct store_array a;

	store_array_init(&a, STORE_ARRAY_MAX);
	for (size_t i = 0; i < n; i++)
		store_array_text(&a, gws[i]);
	return store_array_end(&a, out);
}

/* The n downlink ids as a bigint[] literal, *out malloc'd. */
static int id_array(const uint32_t *ids, size_t n, char **out)
{
	struct store_array a;

	store_array_init(&a, STORE_ARRAY_MAX);
	for (size_t i = 0; i < n; i++)
		store_array_i64(&a, ids[i]);
	return store_array_end(&a, out);
}

void seng_job_free(struct seng_job *j)
{
	if (!j)
		return;
	free(j->gateways);
	j->gateways = NULL;
	j->n_gateways = 0;
}

static void parse_gateways(const char *list, struct seng_job *j)
{
	size_t count = 0;
	const char *p;

	if (!list[0])
		return;
	count = 1;
	for (p = list; *p; p++)
		count += *p == ',';
	j->gateways = calloc(count, SENG_EUI_LEN);
	if (!j->gateways)
		return;
	p = list;
	while (*p && j->n_gateways < count) {
		size_t len = strcspn(p, ",");

		if (len < SENG_EUI_LEN) {
			memcpy(j->gateways[j->n_gateways], p, len);
			j->gateways[j->n_gateways][len] = 0;
			j->n_gateways++;
		}
		p += len;
		if (*p == ',')
			p++;
	}
}

int seng_job_load(struct store *s, int64_t id, struct seng_job *j)
{
	char jid[24];
	const char *vals[1] = {store_i64(jid, id)};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc, k = 0;
	bool phase_ok;

	memset(j, 0, sizeof(*j));
	rc = store_run(
	        c,
	        "SELECT j.id, j.tenant_id, j.state, j.region, j.data_rate, j.frequency_hz, "
	        "j.multicast_class, coalesce(j.ping_slot_periodicity, -1), j.unicast_timeout_s, "
	        "j.unicast_attempts, coalesce(j.firmware_id, 0), coalesce(f.size, -1), "
	        "coalesce(j.fragment_size, -1), coalesce(j.redundancy_frames, -1), "
	        "coalesce(j.redundancy_percent, -1), j.multicast_timeout_s, "
	        "coalesce((j.plan->>'fragment_size')::int, -1), "
	        "coalesce((j.plan->>'fragments')::int, -1), coalesce((j.plan->>'padding')::int, "
	        "-1), "
	        "coalesce((j.plan->>'parity_frames')::int, -1), "
	        "coalesce((j.plan->>'multicast_timeout_exp')::int, -1), "
	        "j.tx_power_dbm IS NOT NULL, coalesce(j.tx_power_dbm, 0), "
	        "e.job_id IS NOT NULL, e.phase, coalesce(e.mc_group_id, 0), "
	        "coalesce(g.mc_addr, 0), encode(g.mc_key_box, 'hex'), e.frag_size, e.nb_frag, "
	        "e.padding, e.redundancy, e.redundancy_cap, coalesce(e.adaptive, false), "
	        "e.session_timeout, e.session_start_ms, coalesce(e.next_n, 1), e.next_tx_ms, "
	        "array_to_string(e.gateways, ','), e.tx_end_ms, e.frames_sent, e.frames_resent, "
	        "coalesce(e.session_moves, 0) "
	        "FROM job j LEFT JOIN firmware f ON f.id = j.firmware_id "
	        "LEFT JOIN engine_job e ON e.job_id = j.id "
	        "LEFT JOIN multicast_group g ON g.id = e.mc_group_id WHERE j.id = $1",
	        1, vals, &r);
	if (rc != FUOTA_OK)
		goto out;
	rc = FUOTA_ERR_NOT_FOUND;
	if (PQntuples(r) != 1)
		goto out;
	j->id = store_get_i64(r, 0, k++);
	j->tenant = store_get_i64(r, 0, k++);
	get_str(r, 0, k++, j->state, sizeof(j->state));
	get_str(r, 0, k++, j->region, sizeof(j->region));
	j->dr = (unsigned)store_get_i64(r, 0, k++);
	j->freq_hz = (uint32_t)store_get_i64(r, 0, k++);
	j->mc_class = PQgetvalue(r, 0, k++)[0];
	j->ping_periodicity = (int)store_get_i64(r, 0, k++);
	j->unicast_timeout_s = (unsigned)store_get_i64(r, 0, k++);
	j->unicast_attempts = (unsigned)store_get_i64(r, 0, k++);
	j->firmware_id = store_get_i64(r, 0, k++);
	j->firmware_size = store_get_i64(r, 0, k++);
	j->fragment_size = (int)store_get_i64(r, 0, k++);
	j->redundancy_frames = (int)store_get_i64(r, 0, k++);
	j->redundancy_percent = (int)store_get_i64(r, 0, k++);
	j->multicast_timeout_s = (int)store_get_i64(r, 0, k++);
	j->plan_fragment_size = (int)store_get_i64(r, 0, k++);
	j->plan_fragments = (int)store_get_i64(r, 0, k++);
	j->plan_padding = (int)store_get_i64(r, 0, k++);
	j->plan_parity = (int)store_get_i64(r, 0, k++);
	j->plan_timeout_exp = (int)store_get_i64(r, 0, k++);
	j->has_tx_power = get_bool(r, 0, k++);
	j->tx_power_dbm = (int)store_get_i64(r, 0, k++);
	j->has_engine = get_bool(r, 0, k++);
	/* The phase is text in the database only (engine_job's CHECK names each one). */
	j->phase = ENGINE_PHASE_SETUP;
	phase_ok = !j->has_engine || engine_phase_parse(PQgetvalue(r, 0, k), &j->phase) == FUOTA_OK;
	k++;
	j->mc_group_id = store_get_i64(r, 0, k++);
	j->mc_addr = (uint32_t)store_get_i64(r, 0, k++);
	get_hex(r, 0, k++, j->mc_key_box, sizeof(j->mc_key_box), &j->mc_key_box_len);
	j->frag_size = (uint32_t)store_get_i64(r, 0, k++);
	j->nb_frag = (uint32_t)store_get_i64(r, 0, k++);
	j->padding = (uint32_t)store_get_i64(r, 0, k++);
	j->redundancy = (uint32_t)store_get_i64(r, 0, k++);
	j->redundancy_cap = (uint32_t)store_get_i64(r, 0, k++);
	j->adaptive = get_bool(r, 0, k++);
	j->session_timeout = (uint8_t)store_get_i64(r, 0, k++);
	j->has_session_start = !PQgetisnull(r, 0, k);
	j->session_start_ms = store_get_i64(r, 0, k++);
	j->next_n = (uint32_t)store_get_i64(r, 0, k++);
	j->has_next_tx = !PQgetisnull(r, 0, k);
	j->next_tx_ms = store_get_i64(r, 0, k++);
	parse_gateways(PQgetisnull(r, 0, k) ? "" : PQgetvalue(r, 0, k), j);
	k++;
	j->has_tx_end = !PQgetisnull(r, 0, k);
	j->tx_end_ms = store_get_i64(r, 0, k++);
	j->frames_sent = (uint32_t)store_get_i64(r, 0, k++);
	j->frames_resent = (uint32_t)store_get_i64(r, 0, k++);
	j->session_moves = (unsigned)store_get_i64(r, 0, k++);
	rc = phase_ok ? FUOTA_OK : FUOTA_ERR_MALFORMED;
out:
	PQclear(r);
	store_release(s, c);
	return rc;
}

int seng_job_start(struct store *s, const struct seng_start *st)
{
	char jid[24], tid[24], addr[24], now[24], fs[24], nf[24], pad[24], red[24], cap[24], to[24];
	char box_hex[2 * SENG_BOX_MAX + 1];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	if (st->mc_key_box_len > SENG_BOX_MAX)
		return FUOTA_ERR_INVALID_ARG;
	cbox_hex_encode(st->mc_key_box, st->mc_key_box_len, box_hex);
	store_i64(jid, st->job_id);
	store_i64(tid, st->tenant);
	store_i64(addr, st->mc_addr);
	store_i64(now, st->now_ms);
	store_i64(fs, st->frag_size);
	store_i64(nf, st->nb_frag);
	store_i64(pad, st->padding);
	store_i64(red, st->redundancy);
	store_i64(cap, st->redundancy_cap);
	store_i64(to, st->session_timeout);
	c = store_acquire(s);
	rc = begin(c);
	if (rc != FUOTA_OK)
		goto out;
	{
		const char *v[1] = {addr};

		rc = store_run(
		        c,
		        "SELECT 1 FROM multicast_group g JOIN job j ON j.id = g.job_id "
		        "WHERE g.mc_addr = $1 AND j.state IN ('pending', 'running', 'paused')",
		        1, v, &r);
		if (rc != FUOTA_OK)
			goto out;
		if (PQntuples(r) > 0) {
			rc = FUOTA_ERR_CONFLICT;
			goto out;
		}
		PQclear(r);
		r = NULL;
	}
	{
		const char *v[11] = {jid, tid, addr, box_hex, fs, nf, pad, red, b(st->adaptive),
		                     cap, to};

		rc = store_run(
		        c,
		        "WITH g AS (INSERT INTO multicast_group (tenant_id, job_id, mc_addr, "
		        "  mc_key_box) VALUES ($2, $1, $3, decode($4, 'hex')) RETURNING id) "
		        "INSERT INTO engine_job (job_id, mc_group_id, frag_size, nb_frag, padding, "
		        "  redundancy, adaptive, redundancy_cap, session_timeout) "
		        "SELECT $1, g.id, $5, $6, $7, $8, $9, $10, $11 FROM g",
		        11, v, NULL);
		if (rc != FUOTA_OK)
			goto out;
	}
	{
		const char *v[3] = {jid, tid, now};

		rc = store_run(
		        c,
		        "WITH u AS (UPDATE job SET state = 'running', updated_at = now(), "
		        "  started_at = coalesce(started_at, " TS(
		                "$3") ") "
		                      "  WHERE id = $1 AND state = 'pending' RETURNING id) "
		                      "INSERT INTO event (tenant_id, job_id, kind, data) SELECT "
		                      "$2, id, 'state', "
		                      "json_build_object('from', 'pending', 'to', 'running') FROM "
		                      "u",
		        3, v, NULL);
		if (rc != FUOTA_OK)
			goto out;
		rc = store_run(c,
		               "UPDATE job_device SET step = 'pending', attempts = 0, "
		               "deadline = " TS(
		                       "$3") ", updated_at = now() WHERE job_id = $1 AND $2 <> ''",
		               3, v, NULL);
		if (rc != FUOTA_OK)
			goto out;
	}
	rc = commit(c);
out:
	PQclear(r);
	store_release(s, c);
	return rc;
}

int seng_job_phase(struct store *s, int64_t job_id, const struct seng_phase *p)
{
	char jid[24], ss[24], nt[24], dl[24];
	char *gws = NULL;
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	store_i64(jid, job_id);
	store_i64(ss, p->session_start_ms);
	store_i64(nt, p->next_tx_ms);
	store_i64(dl, p->deadline_ms);
	for (size_t i = 0; i < p->n_moves; i++)
		if (!step_text(p->moves[i].from) || !step_text(p->moves[i].to))
			return FUOTA_ERR_INVALID_ARG;
	if (p->gateways) {
		rc = gw_array(p->gateways, p->n_gateways, &gws);
		if (rc != FUOTA_OK)
			return rc;
	}
	c = store_acquire(s);
	rc = begin(c);
	if (rc == FUOTA_OK)
		rc = store_lease_hold(c, job_id, &p->lease);
	if (rc != FUOTA_OK)
		goto out;
	{
		char to[24];
		const char *v[10] = {jid,
		                     engine_phase_name(p->from_phase),
		                     engine_phase_name(p->to_phase),
		                     b(p->set_session_start),
		                     ss,
		                     b(p->set_next_tx),
		                     nt,
		                     gws,
		                     p->set_session_timeout ? store_i64(to, p->session_timeout)
		                                            : NULL,
		                     b(p->session_moved)};

		rc = store_run(
		        c,
		        "UPDATE engine_job SET phase = $3, "
		        "session_start_ms = CASE WHEN $4 THEN $5::bigint ELSE session_start_ms "
		        "END, "
		        "next_tx_ms = CASE WHEN $6 THEN $7::bigint ELSE next_tx_ms END, "
		        "gateways = coalesce($8::text[], gateways), "
		        "session_timeout = coalesce($9::smallint, session_timeout), "
		        "session_moves = session_moves + CASE WHEN $10 THEN 1 ELSE 0 END "
		        "WHERE job_id = $1 AND phase = $2",
		        10, v, &r);
		if (rc != FUOTA_OK)
			goto out;
		if (strcmp(PQcmdTuples(r), "1") != 0) {
			rc = FUOTA_ERR_STATE;
			goto out;
		}
		PQclear(r);
		r = NULL;
	}
	for (size_t i = 0; i < p->n_moves; i++) {
		char fv[24], fi[24], bl[24];
		const char *v[8] = {jid,
		                    step_text(p->moves[i].from),
		                    step_text(p->moves[i].to),
		                    dl,
		                    p->moves[i].reason,
		                    store_i64(fv, p->moves[i].frag_version),
		                    p->moves[i].by_index ? store_i64(fi, p->moves[i].frag_index)
		                                         : NULL,
		                    store_i64(bl, p->moves[i].block)};
		static const char sql[] =
		        "WITH u AS (UPDATE job_device SET step = $3, attempts = 0, "
		        "  deadline = to_timestamp($4::bigint / 1000.0), "
		        "  failure_reason = coalesce($5, failure_reason), updated_at = now() "
		        "  WHERE job_id = $1 AND step = $2 "
		        "  AND ($6::int = 0 OR coalesce(frag_version, 1) = $6) "
		        "  AND ($7::int IS NULL OR coalesce(frag_index, 0) = $7) "
		        "  AND ($8::int = 0 OR block_reported = ($8::int > 0)) "
		        "  RETURNING tenant_id, dev_eui) "
		        "INSERT INTO event (tenant_id, job_id, dev_eui, kind, data) "
		        "SELECT tenant_id, $1, dev_eui, 'device', "
		        "json_build_object('step', $3::text, 'reason', $5::text) FROM u";

		rc = store_run(c, sql, 8, v, NULL);
		if (rc != FUOTA_OK)
			goto out;
	}
	if (p->plan_patch) {
		const char *v[2] = {jid, p->plan_patch};

		rc = store_run(
		        c,
		        "UPDATE job SET plan = plan || $2::jsonb || jsonb_build_object("
		        "  'estimated_duration_s', coalesce((plan->>'unicast_setup_s')::bigint, 0) "
		        "  + ($2::jsonb->>'multicast_timeout_s')::bigint) "
		        "  || CASE WHEN plan ? 'multicast_duration_s' THEN jsonb_build_object("
		        "  'multicast_duration_s', (plan->>'multicast_duration_s')::bigint "
		        "  * ($2::jsonb->>'sessions')::int) ELSE '{}'::jsonb END, "
		        "updated_at = now() WHERE id = $1",
		        2, v, NULL);
		if (rc != FUOTA_OK)
			goto out;
	}
	if (p->create_sessions) {
		const char *v[1] = {jid};

		/* A v1 device is one whose frag_version is 1 or unknown, as everywhere else. */
		rc = store_run(c,
		               "INSERT INTO engine_session (job_id, frag_index, frag_version) "
		               "SELECT DISTINCT $1::bigint, coalesce(frag_index, 0), "
		               "  CASE WHEN coalesce(frag_version, 1) < 2 THEN 1 ELSE 2 END "
		               "FROM job_device WHERE job_id = $1 AND step = 'mc_session' "
		               "ON CONFLICT (job_id, frag_index) DO NOTHING",
		               1, v, NULL);
		if (rc != FUOTA_OK)
			goto out;
	}
	rc = commit(c);
out:
	PQclear(r);
	store_release(s, c);
	free(gws);
	return rc;
}

int seng_job_finish(struct store *s, int64_t job_id, const char *state, const char *error,
                    const char *final_reason, int64_t now_ms)
{
	char jid[24], now[24];
	PGconn *c;
	int rc;

	store_i64(jid, job_id);
	store_i64(now, now_ms);
	c = store_acquire(s);
	rc = begin(c);
	if (rc != FUOTA_OK)
		goto out;
	{
		const char *v[2] = {jid, final_reason};

		rc = store_run(
		        c,
		        "UPDATE job_device SET step = 'failed', failure_reason = "
		        "coalesce(failure_reason, $2), updated_at = now() "
		        "WHERE job_id = $1 AND step NOT IN ('done', 'failed', 'unconfirmed')",
		        2, v, NULL);
		if (rc != FUOTA_OK)
			goto out;
	}
	{
		const char *v[1] = {jid};

		rc = store_run(c, "UPDATE engine_job SET phase = 'done' WHERE job_id = $1", 1, v,
		               NULL);
		if (rc != FUOTA_OK)
			goto out;
	}
	{
		const char *v[4] = {jid, state, error, now};

		rc = store_run(
		        c,
		        "WITH x AS (SELECT id, state FROM job WHERE id = $1 FOR UPDATE), "
		        "u AS (UPDATE job j SET state = CASE WHEN x.state = 'cancelled' "
		        "  THEN x.state ELSE $2 END, error = coalesce($3, j.error), "
		        "  finished_at = coalesce(j.finished_at, " TS(
		                "$4") "), "
		                      "  lease_owner = NULL, lease_until = NULL, updated_at = "
		                      "now() "
		                      "  FROM x WHERE j.id = x.id RETURNING j.tenant_id, j.state) "
		                      "INSERT INTO event (tenant_id, job_id, kind, data) SELECT "
		                      "u.tenant_id, $1, "
		                      "'state', json_build_object('from', x.state, 'to', u.state, "
		                      "'error', $3::text) "
		                      "FROM u, x WHERE x.state <> 'cancelled'",
		        4, v, NULL);
		if (rc != FUOTA_OK)
			goto out;
	}
	rc = commit(c);
out:
	store_release(s, c);
	return rc;
}

static void read_session(const PGresult *r, int row, void *item)
{
	struct seng_session *x = item;

	x->frag_index = (int)store_get_i64(r, row, 0);
	x->frag_version = (int)store_get_i64(r, row, 1);
	x->next_n = (uint32_t)store_get_i64(r, row, 2);
	x->frames_sent = (uint32_t)store_get_i64(r, row, 3);
	x->done = get_bool(r, row, 4);
	x->devices = (unsigned)store_get_i64(r, row, 5);
	x->pending = (unsigned)store_get_i64(r, row, 6);
	x->round = (uint32_t)store_get_i64(r, row, 7);
	x->round_end = (uint32_t)store_get_i64(r, row, 8);
	x->asked_at = (uint32_t)store_get_i64(r, row, 9);
	x->unanswered = (unsigned)store_get_i64(r, row, 10);
}

int seng_sessions(struct store *s, int64_t job_id, struct seng_session *out, size_t max, size_t *n)
{
	char jid[24];
	const char *vals[1] = {store_i64(jid, job_id)};

	return store_read_rows(
	        s,
	        "SELECT s.frag_index, s.frag_version, s.next_n, s.frames_sent, s.done, "
	        "  count(jd.dev_eui), count(jd.dev_eui) FILTER (WHERE NOT jd.block_received), "
	        "  s.round, s.round_end, s.asked_at, count(jd.dev_eui) FILTER (WHERE NOT "
	        "  jd.block_received AND jd.status_round < s.round) "
	        "FROM engine_session s LEFT JOIN job_device jd ON jd.job_id = s.job_id "
	        "  AND jd.step = 'session' AND coalesce(jd.frag_index, 0) = s.frag_index "
	        "WHERE s.job_id = $1 GROUP BY s.frag_index, s.frag_version, s.next_n, "
	        "  s.frames_sent, s.done, s.round, s.round_end, s.asked_at ORDER BY s.frag_index",
	        1, vals, read_session, out, sizeof(*out), max, n);
}

int seng_session_done(struct store *s, int64_t job_id, int frag_index)
{
	char jid[24], fi[24];
	const char *vals[2] = {store_i64(jid, job_id), store_i64(fi, frag_index)};
	long rows;

	return store_command(s,
	                     "UPDATE engine_session SET done = true "
	                     "WHERE job_id = $1 AND frag_index = $2",
	                     2, vals, &rows);
}

int seng_session_index(struct store *s, int64_t job_id, int version, int *frag_index)
{
	char jid[24], ver[24];
	const char *vals[2] = {store_i64(jid, job_id), store_i64(ver, version >= 2 ? 2 : 1)};
	int64_t v = 0;
	/* One statement, so the row lock orders two engines setting up the two versions at once:
	 * the second sees the first one's index. */
	int rc = store_query_i64(
	        s,
	        "UPDATE engine_job SET "
	        "frag_index_v1 = CASE WHEN $2::int = 1 THEN coalesce(frag_index_v1, "
	        "  CASE WHEN frag_index_v2 IS DISTINCT FROM 0 THEN 0 ELSE 1 END) "
	        "  ELSE frag_index_v1 END, "
	        "frag_index_v2 = CASE WHEN $2::int = 2 THEN coalesce(frag_index_v2, "
	        "  CASE WHEN frag_index_v1 IS DISTINCT FROM 0 THEN 0 ELSE 1 END) "
	        "  ELSE frag_index_v2 END "
	        "WHERE job_id = $1 RETURNING CASE WHEN $2::int = 1 THEN frag_index_v1 "
	        "  ELSE frag_index_v2 END",
	        2, vals, FUOTA_ERR_NOT_FOUND, &v);

	if (rc == FUOTA_OK)
		*frag_index = (int)v;
	return rc;
}

static void read_group(const PGresult *r, int row, void *item)
{
	struct seng_group *g = item;

	g->frag_index = (int)store_get_i64(r, row, 0);
	g->frag_version = (int)store_get_i64(r, row, 1);
	g->count = (unsigned)store_get_i64(r, row, 2);
}

int seng_step_groups(struct store *s, int64_t job_id, enum engine_step step, struct seng_group *out,
                     size_t max, size_t *n)
{
	char jid[24];
	const char *vals[2] = {store_i64(jid, job_id), step_text(step)};

	*n = 0;
	if (!vals[1])
		return FUOTA_ERR_INVALID_ARG;

	return store_read_rows(
	        s,
	        "SELECT coalesce(frag_index, 0) AS fi, "
	        "  CASE WHEN coalesce(frag_version, 1) < 2 THEN 1 ELSE 2 END AS fv, count(*) "
	        "FROM job_device WHERE job_id = $1 AND step = $2 GROUP BY fi, fv "
	        "ORDER BY fi, fv",
	        2, vals, read_group, out, sizeof(*out), max, n);
}

int seng_dev_counts(struct store *s, int64_t job_id, unsigned counts[], size_t n_counts,
                    unsigned *session_pending)
{
	char jid[24];
	const char *vals[1] = {store_i64(jid, job_id)};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc;

	memset(counts, 0, n_counts * sizeof(counts[0]));
	*session_pending = 0;
	rc = store_run(c,
	               "SELECT step, count(*), count(*) FILTER (WHERE NOT block_received) "
	               "FROM job_device WHERE job_id = $1 GROUP BY step",
	               1, vals, &r);
	if (rc == FUOTA_OK) {
		for (int i = 0; i < PQntuples(r); i++) {
			enum engine_step st;

			if (engine_step_parse(PQgetvalue(r, i, 0), &st) != FUOTA_OK ||
			    (size_t)st >= n_counts)
				continue;
			counts[st] = (unsigned)store_get_i64(r, i, 1);
			if (st == ENGINE_STEP_SESSION)
				*session_pending = (unsigned)store_get_i64(r, i, 2);
		}
	}
	PQclear(r);
	store_release(s, c);
	return rc;
}

#define DEV_COLUMNS                                                                               \
	"jd.job_id, jd.tenant_id, jd.dev_eui, d.application_id, d.lorawan_version, d.key_kind, "  \
	"encode(d.key_box, 'hex'), d.ts003_version, d.ts004_version, d.ts005_version, jd.step, "  \
	"jd.attempts, round(extract(epoch FROM jd.deadline) * 1000)::bigint, "                    \
	"coalesce(jd.frag_version, 0), coalesce(jd.mc_version, 0), coalesce(jd.frag_index, 0), "  \
	"coalesce(jd.session_cnt, -1), "                                                          \
	"jd.mc_group_set, jd.block_received, jd.resync_sent, jd.cleanup_mask, "                   \
	"jd.failure_reason IS NOT NULL, d.stack, coalesce(d.max_frags, 0), "                      \
	"coalesce(round(extract(epoch FROM jd.asked_at) * 1000)::bigint, 0), jd.block_reported, " \
	"d.ts006_version "                                                                        \
	"FROM job_device jd JOIN device d ON d.tenant_id = jd.tenant_id AND d.dev_eui = "         \
	"jd.dev_eui "

static void get_dev(const PGresult *r, int row, struct seng_dev *d)
{
	int k = 0;

	memset(d, 0, sizeof(*d));
	d->job_id = store_get_i64(r, row, k++);
	d->tenant = store_get_i64(r, row, k++);
	get_str(r, row, k++, d->dev_eui, sizeof(d->dev_eui));
	get_str(r, row, k++, d->application_id, sizeof(d->application_id));
	get_str(r, row, k++, d->lorawan_version, sizeof(d->lorawan_version));
	get_str(r, row, k++, d->key_kind, sizeof(d->key_kind));
	get_hex(r, row, k++, d->key_box, sizeof(d->key_box), &d->key_box_len);
	d->ts003 = (int)store_get_i64(r, row, k++);
	d->ts004 = (int)store_get_i64(r, row, k++);
	d->ts005 = (int)store_get_i64(r, row, k++);
	d->step = step_of(PQgetvalue(r, row, k++));
	d->attempts = (unsigned)store_get_i64(r, row, k++);
	d->has_deadline = !PQgetisnull(r, row, k);
	d->deadline_ms = store_get_i64(r, row, k++);
	d->frag_version = (int)store_get_i64(r, row, k++);
	d->mc_version = (int)store_get_i64(r, row, k++);
	d->frag_index = (int)store_get_i64(r, row, k++);
	d->session_cnt = (int)store_get_i64(r, row, k++);
	d->mc_group_set = get_bool(r, row, k++);
	d->block_received = get_bool(r, row, k++);
	d->resync_sent = get_bool(r, row, k++);
	d->cleanup_mask = (unsigned)store_get_i64(r, row, k++);
	d->failed = get_bool(r, row, k++);
	get_str(r, row, k++, d->stack, sizeof(d->stack));
	d->max_frags = (int)store_get_i64(r, row, k++);
	d->asked_ms = store_get_i64(r, row, k++);
	d->block_reported = get_bool(r, row, k++);
	d->ts006 = (int)store_get_i64(r, row, k++);
}

static int devs_query(struct store *s, const char *sql, int n, const char *const *vals,
                      struct seng_dev **devs, size_t *count)
{
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run(c, sql, n, vals, &r);

	*devs = NULL;
	*count = 0;
	if (rc != FUOTA_OK)
		goto out;
	if (PQntuples(r) > 0) {
		*devs = calloc((size_t)PQntuples(r), sizeof(**devs));
		if (!*devs) {
			rc = FUOTA_ERR_NO_MEMORY;
			goto out;
		}
	}
	for (int i = 0; i < PQntuples(r); i++)
		get_dev(r, i, &(*devs)[(*count)++]);
out:
	PQclear(r);
	store_release(s, c);
	return rc;
}

int seng_devs_due(struct store *s, int64_t job_id, int64_t now_ms, unsigned max,
                  struct seng_dev **devs, size_t *n)
{
	char jid[24], now[24], lim[24];
	const char *vals[3] = {store_i64(jid, job_id), store_i64(now, now_ms), store_i64(lim, max)};

	return devs_query(
	        s,
	        "SELECT " DEV_COLUMNS "WHERE jd.job_id = $1 "
	        "AND jd.step NOT IN ('done', 'failed', 'unconfirmed', 'ready', 'session') "
	        "AND (jd.deadline IS NULL OR jd.deadline <= " TS(
	                "$2") ") "
	                      "ORDER BY jd.deadline NULLS FIRST, jd.dev_eui LIMIT $3",
	        3, vals, devs, n);
}

int seng_devs_with_group(struct store *s, int64_t job_id, bool active_too, struct seng_dev **devs,
                         size_t *n)
{
	char jid[24];
	const char *vals[2] = {store_i64(jid, job_id), b(active_too)};

	return devs_query(
	        s,
	        "SELECT " DEV_COLUMNS "WHERE jd.job_id = $1 AND jd.mc_group_set "
	        "AND jd.step NOT IN ('done', 'unconfirmed') AND (jd.step = 'failed' OR $2) "
	        "ORDER BY jd.dev_eui",
	        2, vals, devs, n);
}

int seng_devs_session_pending_v1(struct store *s, int64_t job_id, int frag_index,
                                 struct seng_dev **devs, size_t *n)
{
	char jid[24], fi[24];
	const char *vals[2] = {store_i64(jid, job_id), store_i64(fi, frag_index)};

	return devs_query(s,
	                  "SELECT " DEV_COLUMNS "WHERE jd.job_id = $1 AND jd.step = 'session' "
	                  "AND NOT jd.block_received AND coalesce(jd.frag_version, 1) < 2 "
	                  "AND coalesce(jd.frag_index, 0) = $2 ORDER BY jd.dev_eui",
	                  2, vals, devs, n);
}

int seng_dev_load(struct store *s, int64_t job_id, const char *dev_eui, struct seng_dev *d)
{
	char jid[24];
	const char *vals[2] = {store_i64(jid, job_id), dev_eui};
	struct seng_dev *devs = NULL;
	size_t n = 0;
	int rc = devs_query(s, "SELECT " DEV_COLUMNS "WHERE jd.job_id = $1 AND jd.dev_eui = $2", 2,
	                    vals, &devs, &n);

	if (rc == FUOTA_OK && n != 1)
		rc = FUOTA_ERR_NOT_FOUND;
	if (rc == FUOTA_OK)
		*d = devs[0];
	free(devs);
	return rc;
}

int seng_dev_active(struct store *s, const char *dev_eui, struct seng_dev *d)
{
	const char *vals[1] = {dev_eui};
	struct seng_dev *devs = NULL;
	size_t n = 0;
	int rc = devs_query(s,
	                    "SELECT " DEV_COLUMNS "JOIN job j ON j.id = jd.job_id "
	                    "JOIN engine_job e ON e.job_id = j.id WHERE jd.dev_eui = $1 "
	                    "AND j.state = 'running' AND e.phase <> 'done' "
	                    "AND jd.step NOT IN ('done', 'failed', 'unconfirmed') "
	                    "ORDER BY jd.job_id DESC LIMIT 1",
	                    1, vals, &devs, &n);

	if (rc == FUOTA_OK && n != 1)
		rc = FUOTA_ERR_NOT_FOUND;
	if (rc == FUOTA_OK)
		*d = devs[0];
	free(devs);
	return rc;
}

void seng_dev_update_init(struct seng_dev_update *u)
{
	memset(u, 0, sizeof(*u));
	u->to = ENGINE_STEP_NONE;
	u->session_cnt = -1;
	u->frag_index = -1;
}

int seng_dev_update(struct store *s, int64_t job_id, const char *dev_eui, enum engine_step from,
                    const struct seng_dev_update *u)
{
	char jid[24], dl[24], fv[24], mv[24], sc[24], cm[24], tts[24], fi[24], at[24], ak[24];
	char *known = NULL;
	const char *vals[23] = {store_i64(jid, job_id),
	                        dev_eui,
	                        step_text(from),
	                        step_text(u->to),
	                        b(u->reset_attempts),
	                        b(u->attempts_inc),
	                        b(u->set_deadline),
	                        store_i64(dl, u->deadline_ms),
	                        u->failure_reason,
	                        u->last_answer,
	                        u->frag_version > 0 ? store_i64(fv, u->frag_version) : NULL,
	                        u->mc_version > 0 ? store_i64(mv, u->mc_version) : NULL,
	                        u->session_cnt >= 0 ? store_i64(sc, u->session_cnt) : NULL,
	                        b(u->set_mc_group),
	                        store_i64(cm, u->cleanup_or),
	                        b(u->set_block_received),
	                        b(u->set_resync_sent),
	                        u->set_time_to_start ? store_i64(tts, u->time_to_start_s) : NULL,
	                        u->frag_index >= 0 ? store_i64(fi, u->frag_index) : NULL,
	                        u->if_attempts ? store_i64(at, u->attempts) : NULL,
	                        u->set_asked ? store_i64(ak, u->asked_ms) : NULL,
	                        b(u->set_block_reported),
	                        NULL};
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	if ((!vals[2] && from != ENGINE_STEP_UNKNOWN) || (!vals[3] && u->to != ENGINE_STEP_NONE))
		return FUOTA_ERR_INVALID_ARG;
	/* A step text that names no step (a row another version wrote) is matched as such. */
	if (!vals[2]) {
		rc = steps_array(&known);
		if (rc != FUOTA_OK)
			return rc;
		vals[22] = known;
	}
	c = store_acquire(s);
	rc = store_run(
	        c,
	        "WITH u AS (UPDATE job_device SET step = coalesce($4, step), "
	        "  attempts = CASE WHEN $5 THEN 0 WHEN $6 THEN attempts + 1 ELSE attempts END, "
	        "  deadline = CASE WHEN $7 THEN " TS(
	                "$8") " ELSE deadline END, "
	                      "  failure_reason = coalesce($9, failure_reason), "
	                      "  last_answer = coalesce($10::jsonb, last_answer), "
	                      "  frag_version = coalesce($11::smallint, frag_version), "
	                      "  mc_version = coalesce($12::smallint, mc_version), "
	                      "  session_cnt = coalesce($13::integer, session_cnt), "
	                      "  mc_group_set = mc_group_set OR $14, "
	                      "  cleanup_mask = cleanup_mask | $15::smallint, "
	                      "  block_received = block_received OR $16, "
	                      "  block_reported = block_reported OR $22, "
	                      "  resync_sent = resync_sent OR $17, "
	                      "  time_to_start_s = coalesce($18::integer, time_to_start_s), "
	                      "  frag_index = coalesce($19::smallint, frag_index), "
	                      "  asked_at = coalesce(to_timestamp($21::bigint / 1000.0), "
	                      "asked_at), "
	                      "  updated_at = now() "
	                      "  WHERE job_id = $1 AND dev_eui = $2 "
	                      "  AND CASE WHEN $3::text IS NULL THEN step <> ALL($23::text[]) "
	                      "  ELSE step = $3 END "
	                      "  AND ($20::integer IS NULL OR attempts = $20::integer) "
	                      "  RETURNING tenant_id, dev_eui, step, failure_reason), "
	                      "ev AS (INSERT INTO event (tenant_id, job_id, dev_eui, kind, data) "
	                      "  SELECT tenant_id, $1, dev_eui, 'device', "
	                      "json_build_object('step', step, "
	                      "  'reason', failure_reason) FROM u WHERE $4::text IS NOT NULL) "
	                      "SELECT count(*) FROM u",
	        23, vals, &r);

	if (rc == FUOTA_OK && store_get_i64(r, 0, 0) != 1)
		rc = FUOTA_ERR_STATE;
	PQclear(r);
	store_release(s, c);
	free(known);
	return rc;
}

int seng_session_cnt_next(struct store *s, const char *dev_eui, int *cnt)
{
	const char *vals[1] = {dev_eui};
	int64_t v = 0;
	int rc = store_query_i64(
	        s,
	        "INSERT INTO engine_device AS e (dev_eui, session_cnt) VALUES ($1, 1) "
	        "ON CONFLICT (dev_eui) DO UPDATE SET session_cnt = e.session_cnt + 1 "
	        "WHERE e.session_cnt < 65535 RETURNING session_cnt",
	        1, vals, FUOTA_ERR_CONFLICT, &v);

	if (rc == FUOTA_OK)
		*cnt = (int)v;
	return rc;
}

int seng_dev_version(struct store *s, const char *dev_eui, const char *application_id,
                     int package_id, int version)
{
	char v[24];
	const char *vals[3] = {dev_eui, store_i64(v, version), application_id};
	const char *sql;
	long rows;

	switch (package_id) {
	case 1:
		sql = "UPDATE device SET ts003_version = $2 WHERE dev_eui = $1 "
		      "AND application_id = $3";
		break;
	case 2:
		sql = "UPDATE device SET ts005_version = $2 WHERE dev_eui = $1 "
		      "AND application_id = $3";
		break;
	case 3:
		sql = "UPDATE device SET ts004_version = $2 WHERE dev_eui = $1 "
		      "AND application_id = $3";
		break;
	default: return FUOTA_ERR_INVALID_ARG;
	}
	return store_command(s, sql, 3, vals, &rows);
}

/* The four columns of obs[0..n) as array literals (dev_eui, gw, quality, seen_ms), each
 * malloc'd into cols (store_array.h). */
static int obs_arrays(const struct seng_gw_obs *obs, size_t n, char *cols[4])
{
	struct store_array a[4];
	int rc = FUOTA_OK;

	for (int k = 0; k < 4; k++)
		store_array_init(&a[k], STORE_ARRAY_MAX);
	for (size_t i = 0; i < n; i++) {
		store_array_text(&a[0], obs[i].dev_eui);
		store_array_text(&a[1], obs[i].gw);
		store_array_i64(&a[2], obs[i].quality);
		store_array_i64(&a[3], obs[i].seen_ms);
	}
	for (int k = 0; k < 4; k++) {
		int r = store_array_end(&a[k], &cols[k]);

		rc = rc == FUOTA_OK ? r : rc;
	}
	return rc;
}

int seng_gw_seen_batch(struct store *s, const struct seng_gw_obs *obs, size_t n)
{
	char *cols[4] = {NULL, NULL, NULL, NULL};
	long rows;
	int rc;

	if (n == 0)
		return FUOTA_OK;
	rc = obs_arrays(obs, n, cols);
	if (rc == FUOTA_OK) {
		const char *vals[4] = {cols[0], cols[1], cols[2], cols[3]};

		/* Under the tenant that holds the DevEUI now (0: none), so that a DevEUI changing
		 * hands does not carry what its former holder's uplinks taught. A later uplink
		 * another engine wrote meanwhile is kept. */
		rc = store_command(s,
		                   "INSERT INTO engine_device_gateway AS g (tenant_id, dev_eui, "
		                   "gateway_id, quality, seen_ms) SELECT coalesce(d.tenant_id, 0), "
		                   "x.dev, x.gw, x.q, x.s FROM unnest($1::text[], $2::text[], "
		                   "$3::integer[], $4::bigint[]) x(dev, gw, q, s) "
		                   "LEFT JOIN device d ON d.dev_eui = x.dev "
		                   "ON CONFLICT (tenant_id, dev_eui, gateway_id) "
		                   "DO UPDATE SET quality = excluded.quality, seen_ms = "
		                   "excluded.seen_ms WHERE g.seen_ms <= excluded.seen_ms",
		                   4, vals, &rows);
	}
	for (int k = 0; k < 4; k++)
		free(cols[k]);
	return rc;
}

void seng_edges_free(struct seng_edges *e)
{
	free(e->dev_euis);
	free(e->gw_ids);
	free(e->edge_dev);
	free(e->edge_gw);
	free(e->edge_q);
	memset(e, 0, sizeof(*e));
}

static uint32_t intern(char (*ids)[SENG_EUI_LEN], size_t *n, const char *id)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(ids[i], id) == 0)
			return (uint32_t)i;
	snprintf(ids[*n], SENG_EUI_LEN, "%s", id);
	return (uint32_t)(*n)++;
}

int seng_job_edges(struct store *s, int64_t job_id, enum engine_step step, int64_t since_ms,
                   struct seng_edges *e)
{
	char jid[24], since[24];
	const char *vals[3] = {store_i64(jid, job_id), step_text(step), store_i64(since, since_ms)};
	PGconn *c;
	PGresult *r = NULL;
	int rc;
	size_t rows;

	memset(e, 0, sizeof(*e));
	if (!vals[1])
		return FUOTA_ERR_INVALID_ARG;
	c = store_acquire(s);
	rc = store_run(c,
	               "SELECT jd.dev_eui, g.gateway_id, g.quality FROM job_device jd "
	               "LEFT JOIN LATERAL (SELECT DISTINCT ON (gateway_id) gateway_id, "
	               "quality FROM engine_device_gateway WHERE dev_eui = jd.dev_eui "
	               "AND tenant_id IN (jd.tenant_id, 0) AND seen_ms >= $3 "
	               "ORDER BY gateway_id, seen_ms DESC) g ON true "
	               "WHERE jd.job_id = $1 AND jd.step = $2 ORDER BY jd.dev_eui, g.gateway_id",
	               3, vals, &r);
	if (rc != FUOTA_OK)
		goto out;
	rows = (size_t)PQntuples(r);
	e->dev_euis = calloc(rows + 1, SENG_EUI_LEN);
	e->gw_ids = calloc(rows + 1, SENG_EUI_LEN);
	e->edge_dev = calloc(rows + 1, sizeof(uint32_t));
	e->edge_gw = calloc(rows + 1, sizeof(uint32_t));
	e->edge_q = calloc(rows + 1, sizeof(int32_t));
	if (!e->dev_euis || !e->gw_ids || !e->edge_dev || !e->edge_gw || !e->edge_q) {
		seng_edges_free(e);
		rc = FUOTA_ERR_NO_MEMORY;
		goto out;
	}
	for (size_t i = 0; i < rows; i++) {
		uint32_t d = intern(e->dev_euis, &e->n_dev, PQgetvalue(r, (int)i, 0));

		if (PQgetisnull(r, (int)i, 1))
			continue;
		e->edge_dev[e->n_edges] = d;
		e->edge_gw[e->n_edges] = intern(e->gw_ids, &e->n_gw, PQgetvalue(r, (int)i, 1));
		e->edge_q[e->n_edges] = (int32_t)store_get_i64(r, (int)i, 2);
		e->n_edges++;
	}
out:
	PQclear(r);
	store_release(s, c);
	return rc;
}

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

int seng_job_next_tx(struct store *s, int64_t job_id, int64_t next_tx_ms)
{
	char jid[24], nt[24];
	const char *vals[2] = {store_i64(jid, job_id), store_i64(nt, next_tx_ms)};
	long rows;

	return store_command(s, "UPDATE engine_job SET next_tx_ms = $2 WHERE job_id = $1", 2, vals,
	                     &rows);
}

int seng_firmware(struct store *s, int64_t job_id, uint8_t **data, size_t *len)
{
	char jid[24];
	const char *vals[1] = {store_i64(jid, job_id)};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc = store_run(c,
	                   "SELECT f.data FROM job j JOIN firmware f ON f.id = j.firmware_id "
	                   "WHERE j.id = $1",
	                   1, vals, &r);

	*data = NULL;
	*len = 0;
	if (rc != FUOTA_OK)
		goto out;
	rc = FUOTA_ERR_NOT_FOUND;
	if (PQntuples(r) != 1)
		goto out;
	{
		size_t n = 0;
		unsigned char *bytes =
		        PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);

		rc = FUOTA_ERR_NO_MEMORY;
		if (!bytes)
			goto out;
		*data = malloc(n ? n : 1);
		if (*data) {
			memcpy(*data, bytes, n);
			*len = n;
			rc = FUOTA_OK;
		}
		PQfreemem(bytes);
	}
out:
	PQclear(r);
	store_release(s, c);
	return rc;
}

int seng_event(struct store *s, int64_t tenant, int64_t job_id, const char *dev_eui,
               const char *kind, const char *json)
{
	char tid[24], jid[24];
	const char *vals[5] = {store_i64(tid, tenant), store_i64(jid, job_id), dev_eui, kind, json};
	long rows;

	return store_command(s,
	                     "INSERT INTO event (tenant_id, job_id, dev_eui, kind, data) "
	                     "VALUES ($1, $2, $3, $4, $5::jsonb)",
	                     5, vals, &rows);
}

int seng_job_set_running(struct store *s, int64_t job_id)
{
	char jid[24];
	const char *vals[1] = {store_i64(jid, job_id)};
	long rows;

	return store_command(s,
	                     "UPDATE job SET state = 'running', updated_at = now() "
	                     "WHERE id = $1 AND state = 'pending'",
	                     1, vals, &rows);
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

int seng_session_waiting(struct store *s, int64_t job_id, unsigned max_attempts, unsigned *n)
{
	char jid[24], ma[24];
	const char *vals[2] = {store_i64(jid, job_id), store_i64(ma, max_attempts)};
	int64_t v = 0;
	int rc = store_query_i64(s,
	                         "SELECT count(*) FROM job_device WHERE job_id = $1 "
	                         "AND step = 'mc_session' AND attempts < $2::int",
	                         2, vals, FUOTA_ERR_IO, &v);

	*n = (unsigned)v;
	return rc;
}

int seng_dev_resynced(struct store *s, const char *dev_eui, const char *application_id,
                      int64_t now_ms, bool *due)
{
	/* attempts = 0 with resync_sent: the session request waits for this exchange
	 * (engine_dev.c on_session_ans); nothing else in mc_session looks like that. */
	static const char sql[] =
	        "UPDATE job_device jd SET deadline = to_timestamp($2::bigint / 1000.0), "
	        "updated_at = now() WHERE jd.dev_eui = $1 AND jd.step = 'mc_session' "
	        "AND jd.resync_sent AND jd.attempts = 0 "
	        "AND jd.deadline > to_timestamp($2::bigint / 1000.0) "
	        "AND EXISTS (SELECT 1 FROM job j WHERE j.id = jd.job_id AND j.state = 'running') "
	        "AND EXISTS (SELECT 1 FROM device d WHERE d.tenant_id = jd.tenant_id "
	        "AND d.dev_eui = jd.dev_eui AND d.application_id = $3)";
	char now[24];
	const char *vals[3] = {dev_eui, store_i64(now, now_ms), application_id};
	long rows = 0;
	int rc = store_command(s, sql, 3, vals, &rows);

	*due = rc == FUOTA_OK && rows > 0;
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
