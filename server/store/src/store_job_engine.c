/* The job engine's SQL for jobs (see store_engine.h): the job and engine_job rows, phase
 * changes with their device moves, fragmentation sessions, events and the firmware. Times come
 * from the engine's clock as Unix ms and go into timestamptz columns through
 * to_timestamp(ms / 1000.0). */
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

/* seng_job_load's query: the job ($1), its image's size, its engine row and multicast group, in
 * the order job_from_row reads them. */
static const char JOB_LOAD_SQL[] =
        "SELECT j.id, j.tenant_id, j.state, j.region, j.data_rate, j.frequency_hz, "
        "j.multicast_class, coalesce(j.ping_slot_periodicity, -1), j.unicast_timeout_s, "
        "j.unicast_attempts, coalesce(j.firmware_id, 0), coalesce(f.size, -1), "
        "coalesce(j.fragment_size, -1), coalesce(j.redundancy_frames, -1), "
        "coalesce(j.redundancy_percent, -1), j.multicast_timeout_s, "
        "coalesce((j.plan->>'fragment_size')::int, -1), "
        "coalesce((j.plan->>'fragments')::int, -1), coalesce((j.plan->>'padding')::int, -1), "
        "coalesce((j.plan->>'parity_frames')::int, -1), "
        "coalesce((j.plan->>'multicast_timeout_exp')::int, -1), "
        "j.tx_power_dbm IS NOT NULL, coalesce(j.tx_power_dbm, 0), "
        "e.job_id IS NOT NULL, e.phase, coalesce(e.mc_group_id, 0), "
        "coalesce(g.mc_addr, 0), encode(g.mc_key_box, 'hex'), e.frag_size, e.nb_frag, "
        "e.padding, e.redundancy, e.redundancy_cap, coalesce(e.adaptive, false), "
        "e.session_timeout, e.session_start_ms, coalesce(e.next_n, 1), e.next_tx_ms, "
        "array_to_string(e.gateways, ','), e.tx_end_ms, e.frames_sent, e.frames_resent, "
        "coalesce(e.session_moves, 0), j.keep_multicast_group, coalesce(e.mc_reused, false), "
        "coalesce(g.key_job_id, j.id), coalesce(g.fcnt, 0), "
        "j.target_version IS NOT NULL, coalesce(j.target_version, 0), coalesce(j.reboot_in_s, 0), "
        "coalesce(round(extract(epoch FROM j.reboot_at) * 1000)::bigint, 0), "
        "greatest(coalesce((j.plan->>'parts')::int, 1), 1), "
        "coalesce((j.plan->>'part_fragments')::int, 0), j.part, "
        "greatest(coalesce((j.plan->>'estimated_duration_s')::bigint, 0), 0) "
        "FROM job j LEFT JOIN firmware f ON f.id = j.firmware_id "
        "LEFT JOIN engine_job e ON e.job_id = j.id "
        "LEFT JOIN multicast_group g ON g.id = e.mc_group_id WHERE j.id = $1";

/* The job's own columns of JOB_LOAD_SQL's row (0 to 22) into j. */
static void job_from_row(const PGresult *r, struct seng_job *j)
{
	int k = 0;

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
}

/* Its engine row's columns (23 on) into j: FUOTA_ERR_MALFORMED when the stored phase names none. */
static int engine_from_row(const PGresult *r, struct seng_job *j)
{
	int k = 23;
	bool phase_ok;

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
	j->keep_mc_group = get_bool(r, 0, k++);
	j->mc_reused = get_bool(r, 0, k++);
	j->mc_key_job_id = store_get_i64(r, 0, k++);
	j->mc_fcnt = (uint32_t)store_get_i64(r, 0, k++);
	j->has_target_version = get_bool(r, 0, k++);
	j->target_version = (uint32_t)store_get_i64(r, 0, k++);
	j->reboot_in_s = (uint32_t)store_get_i64(r, 0, k++);
	j->reboot_at_ms = store_get_i64(r, 0, k++);
	j->parts = (unsigned)store_get_i64(r, 0, k++);
	j->part_frags = (unsigned)store_get_i64(r, 0, k++);
	j->part = (unsigned)store_get_i64(r, 0, k++);
	j->estimated_s = (uint64_t)store_get_i64(r, 0, k++);
	return phase_ok ? FUOTA_OK : FUOTA_ERR_MALFORMED;
}

int seng_job_load(struct store *s, int64_t id, struct seng_job *j)
{
	char jid[24];
	const char *vals[1] = {store_i64(jid, id)};
	PGconn *c = store_acquire(s);
	PGresult *r = NULL;
	int rc;

	memset(j, 0, sizeof(*j));
	rc = store_run(c, JOB_LOAD_SQL, 1, vals, &r);
	if (rc != FUOTA_OK)
		goto out;
	rc = FUOTA_ERR_NOT_FOUND;
	if (PQntuples(r) != 1)
		goto out;
	job_from_row(r, j);
	rc = engine_from_row(r, j);
out:
	PQclear(r);
	store_release(s, c);
	return rc;
}

/* seng_job_start's statements: is multicast address $1 held by a live job; the multicast group
 * and engine row of job $1 (tenant $2, address $3, key box $4 in hex, $5..$11 the session); the
 * job running; its devices pending (deadline $3 in ms, none when tenant $2 is ''). */
static const char START_ADDR_SQL[] =
        "SELECT 1 FROM multicast_group g JOIN job j ON j.id = g.job_id "
        "WHERE g.mc_addr = $1 AND j.state IN ('pending', 'running', 'paused')";
static const char START_ENGINE_SQL[] =
        "WITH g AS (INSERT INTO multicast_group (tenant_id, job_id, mc_addr, "
        "  mc_key_box, key_job_id) VALUES ($2, $1, $3, decode($4, 'hex'), $1) RETURNING id) "
        "INSERT INTO engine_job (job_id, mc_group_id, frag_size, nb_frag, padding, "
        "  redundancy, adaptive, redundancy_cap, session_timeout) "
        "SELECT $1, g.id, $5, $6, $7, $8, $9, $10, $11 FROM g";
static const char START_STATE_SQL[] =
        "WITH u AS (UPDATE job SET state = 'running', updated_at = now(), "
        "  started_at = coalesce(started_at, to_timestamp($3::bigint / 1000.0)) "
        "  WHERE id = $1 AND state = 'pending' RETURNING id) "
        "INSERT INTO event (tenant_id, job_id, kind, data) "
        "SELECT $2, id, 'state', json_build_object('from', 'pending', 'to', 'running') FROM u";
static const char START_DEVICES_SQL[] =
        "UPDATE job_device SET step = 'pending', attempts = 0, "
        "deadline = to_timestamp($3::bigint / 1000.0), updated_at = now() "
        "WHERE job_id = $1 AND $2 <> ''";

/* FUOTA_ERR_CONFLICT when a pending, running or paused job holds multicast address addr. */
static int start_addr_free(PGconn *c, const char *addr)
{
	const char *v[1] = {addr};
	PGresult *r = NULL;
	int rc = store_run(c, START_ADDR_SQL, 1, v, &r);

	if (rc == FUOTA_OK && PQntuples(r) > 0)
		rc = FUOTA_ERR_CONFLICT;
	PQclear(r);
	return rc;
}

int seng_job_start(struct store *s, const struct seng_start *st)
{
	char jid[24], tid[24], addr[24], now[24], fs[24], nf[24], pad[24], red[24], cap[24], to[24];
	char box_hex[2 * SENG_BOX_MAX + 1];
	const char *v[11] = {jid, tid, addr, box_hex, fs, nf, pad, red, b(st->adaptive), cap, to};
	const char *v3[3] = {jid, tid, now};
	PGconn *c;
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
	if (rc == FUOTA_OK && st->reuse_group_id > 0)
		rc = store_mc_reuse_start(c, st, v);
	else if (rc == FUOTA_OK)
		rc = start_addr_free(c, addr);
	if (rc == FUOTA_OK && st->reuse_group_id <= 0)
		rc = store_run(c, START_ENGINE_SQL, 11, v, NULL);
	if (rc == FUOTA_OK)
		rc = store_run(c, START_STATE_SQL, 3, v3, NULL);
	if (rc == FUOTA_OK)
		rc = store_run(c, START_DEVICES_SQL, 3, v3, NULL);
	if (rc == FUOTA_OK)
		rc = commit(c);
	store_release(s, c);
	return rc;
}

/* seng_job_phase's statements. PHASE_SQL: engine row of job $1 from phase $2 to $3, the session
 * start ($5, when $4), the next transmission ($7, when $6), its gateways ($8), session timeout
 * ($9) and one more session move (when $10). */
static const char PHASE_SQL[] =
        "UPDATE engine_job SET phase = $3, "
        "session_start_ms = CASE WHEN $4 THEN $5::bigint ELSE session_start_ms END, "
        "next_tx_ms = CASE WHEN $6 THEN $7::bigint ELSE next_tx_ms END, "
        "gateways = coalesce($8::text[], gateways), "
        "session_timeout = coalesce($9::smallint, session_timeout), "
        "session_moves = session_moves + CASE WHEN $10 THEN 1 ELSE 0 END "
        "WHERE job_id = $1 AND phase = $2";
/* The devices of job $1 in step $2 moved to $3 (deadline $4, reason $5), those of version $6,
 * session $7 and block report $8 when given, each with its event. */
static const char PHASE_MOVE_SQL[] =
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
/* Job $1's plan patched with $2 (the sessions' figures) and its estimates grown to match. */
static const char PHASE_PLAN_SQL[] =
        "UPDATE job SET plan = plan || $2::jsonb || jsonb_build_object("
        "  'estimated_duration_s', coalesce((plan->>'unicast_setup_s')::bigint, 0) "
        "  + ($2::jsonb->>'multicast_timeout_s')::bigint "
        "  * greatest(coalesce((plan->>'parts')::int, 1), 1)) "
        "  || CASE WHEN plan ? 'multicast_duration_s' THEN jsonb_build_object("
        "  'multicast_duration_s', (plan->>'multicast_duration_s')::bigint "
        "  * ($2::jsonb->>'sessions')::int) ELSE '{}'::jsonb END, "
        "updated_at = now() WHERE id = $1";
/* One session row per fragmentation session of job $1's devices in mc_session. A v1 device is
 * one whose frag_version is 1 or unknown, as everywhere else. */
static const char PHASE_SESSIONS_SQL[] =
        "INSERT INTO engine_session (job_id, frag_index, frag_version) "
        "SELECT DISTINCT $1::bigint, coalesce(frag_index, 0), "
        "  CASE WHEN coalesce(frag_version, 1) < 2 THEN 1 ELSE 2 END "
        "FROM job_device WHERE job_id = $1 AND step = 'mc_session' "
        "ON CONFLICT (job_id, frag_index) DO NOTHING";

/* The next part of job $1 (seng_next_part): its counts $2..$5 in the engine row, its index $2
 * in the job and its devices. */
static const char PART_ENGINE_SQL[] =
        "UPDATE engine_job SET nb_frag = $2, padding = $3, redundancy = $4, "
        "redundancy_cap = $5, session_start_ms = NULL, next_n = 1, next_tx_ms = NULL, "
        "gateways = '{}', tx_end_ms = NULL, session_moves = 0 WHERE job_id = $1";
static const char PART_JOB_SQL[] =
        "UPDATE job SET part = $2::smallint, updated_at = now() WHERE id = $1";
static const char PART_DEVICES_SQL[] =
        "UPDATE job_device SET part = $2::smallint, block_received = false, block_reported = "
        "false, "
        "status_round = 0, status_received = NULL, status_missing = NULL "
        "WHERE job_id = $1 AND step NOT IN ('done', 'failed', 'unconfirmed')";
static const char PART_SESSIONS_SQL[] = "DELETE FROM engine_session WHERE job_id = $1";
static const char PART_TX_SQL[] = "DELETE FROM engine_tx WHERE job_id = $1";

/* p->mark_deletes: the failed devices that hold the group are owed its deletes. */
static const char PHASE_DELETES_SQL[] =
        "UPDATE job_device SET deletes_pending = true WHERE job_id = $1 AND mc_group_set "
        "AND step = 'failed'";

/* The statements of p->next_part, after the devices' moves. */
static int phase_part(PGconn *c, const char *jid, const struct seng_next_part *np)
{
	char pt[24], nb[24], pad[24], red[24], cap[24];
	const char *v[2] = {jid, store_i64(pt, np->part)};
	const char *ve[5] = {jid, store_i64(nb, np->nb_frag), store_i64(pad, np->padding),
	                     store_i64(red, np->redundancy), store_i64(cap, np->redundancy_cap)};
	int rc = store_run(c, PART_ENGINE_SQL, 5, ve, NULL);

	if (rc == FUOTA_OK)
		rc = store_run(c, PART_JOB_SQL, 2, v, NULL);
	if (rc == FUOTA_OK)
		rc = store_run(c, PART_DEVICES_SQL, 2, v, NULL);
	if (rc == FUOTA_OK)
		rc = store_run(c, PART_SESSIONS_SQL, 1, v, NULL);
	if (rc == FUOTA_OK)
		rc = store_run(c, PART_TX_SQL, 1, v, NULL);
	return rc;
}

/* The engine row's move (PHASE_SQL): FUOTA_ERR_STATE when the job is no longer in from_phase. */
static int phase_row(PGconn *c, const char *jid, const struct seng_phase *p, const char *gws)
{
	char ss[24], nt[24], to[24];
	const char *v[10] = {jid,
	                     engine_phase_name(p->from_phase),
	                     engine_phase_name(p->to_phase),
	                     b(p->set_session_start),
	                     store_i64(ss, p->session_start_ms),
	                     b(p->set_next_tx),
	                     store_i64(nt, p->next_tx_ms),
	                     gws,
	                     p->set_session_timeout ? store_i64(to, p->session_timeout) : NULL,
	                     b(p->session_moved)};
	PGresult *r = NULL;
	int rc = store_run(c, PHASE_SQL, 10, v, &r);

	if (rc == FUOTA_OK && strcmp(PQcmdTuples(r), "1") != 0)
		rc = FUOTA_ERR_STATE;
	PQclear(r);
	return rc;
}

/* The devices' moves of p (PHASE_MOVE_SQL), each to the deadline dl. */
static int phase_moves(PGconn *c, const char *jid, const struct seng_phase *p, const char *dl)
{
	int rc = FUOTA_OK;

	for (size_t i = 0; rc == FUOTA_OK && i < p->n_moves; i++) {
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

		rc = store_run(c, PHASE_MOVE_SQL, 8, v, NULL);
	}
	return rc;
}

int seng_job_phase(struct store *s, int64_t job_id, const struct seng_phase *p)
{
	char jid[24], dl[24];
	const char *v[2] = {jid, p->plan_patch};
	char *gws = NULL;
	PGconn *c;
	int rc;

	store_i64(jid, job_id);
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
	if (rc == FUOTA_OK)
		rc = phase_row(c, jid, p, gws);
	if (rc == FUOTA_OK)
		rc = phase_moves(c, jid, p, dl);
	if (rc == FUOTA_OK && p->next_part)
		rc = phase_part(c, jid, p->next_part);
	if (rc == FUOTA_OK && p->plan_patch)
		rc = store_run(c, PHASE_PLAN_SQL, 2, v, NULL);
	if (rc == FUOTA_OK && p->create_sessions)
		rc = store_run(c, PHASE_SESSIONS_SQL, 1, v, NULL);
	if (rc == FUOTA_OK && p->mark_deletes)
		rc = store_run(c, PHASE_DELETES_SQL, 1, v, NULL);
	if (rc == FUOTA_OK)
		rc = commit(c);
	store_release(s, c);
	free(gws);
	return rc;
}

void seng_failed_free(struct seng_failed *f)
{
	if (!f)
		return;
	for (size_t i = 0; f->reasons && i < f->n; i++)
		free(f->reasons[i]);
	free(f->reasons);
	free(f->dev_euis);
	memset(f, 0, sizeof(*f));
}

/* The rows (dev_eui, reason) of the devices seng_job_finish failed into *f. */
static int read_failed(const PGresult *r, struct seng_failed *f)
{
	size_t n = (size_t)PQntuples(r);

	if (n == 0)
		return FUOTA_OK;
	f->dev_euis = calloc(n, SENG_EUI_LEN);
	f->reasons = calloc(n, sizeof(*f->reasons));
	if (!f->dev_euis || !f->reasons)
		return FUOTA_ERR_NO_SPACE;
	for (size_t i = 0; i < n; i++) {
		get_str(r, (int)i, 0, f->dev_euis[i], SENG_EUI_LEN);
		f->reasons[i] = strdup(PQgetvalue(r, (int)i, 1));
		f->n = i + 1;
		if (!f->reasons[i])
			return FUOTA_ERR_NO_SPACE;
	}
	return FUOTA_OK;
}

int seng_job_finish(struct store *s, int64_t job_id, const char *state, const char *error,
                    const char *final_reason, int64_t now_ms, struct seng_failed *failed)
{
	char jid[24], now[24];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	if (failed)
		memset(failed, 0, sizeof(*failed));

	store_i64(jid, job_id);
	store_i64(now, now_ms);
	c = store_acquire(s);
	rc = begin(c);
	if (rc != FUOTA_OK)
		goto out;
	{
		const char *v[2] = {jid, final_reason};

		/* Each device failed here gets the device event a step change logs
		 * (store_dev_engine.c), so the job's event log and its live page end on the true
		 * step counts. */
		rc = store_run(
		        c,
		        "WITH u AS (UPDATE job_device SET step = 'failed', failure_reason = "
		        "  coalesce(failure_reason, $2), updated_at = now() "
		        "  WHERE job_id = $1 AND step NOT IN ('done', 'failed', 'unconfirmed') "
		        "  RETURNING tenant_id, dev_eui, step, failure_reason) "
		        "INSERT INTO event (tenant_id, job_id, dev_eui, kind, data) "
		        "SELECT tenant_id, $1, dev_eui, 'device', json_build_object('step', "
		        "  step, 'reason', failure_reason) FROM u "
		        "RETURNING dev_eui, data->>'reason'",
		        2, v, &r);
		if (rc != FUOTA_OK)
			goto out;
		if (failed)
			rc = read_failed(r, failed);
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
	PQclear(r);
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

int seng_sessions_rows(struct store *s, int64_t job_id, struct seng_session *out, size_t max,
                       size_t *n)
{
	char jid[24];
	const char *vals[1] = {store_i64(jid, job_id)};

	return store_read_rows(s,
	                       "SELECT frag_index, frag_version, next_n, frames_sent, done, 0, 0, "
	                       "  round, round_end, asked_at, 0 FROM engine_session "
	                       "WHERE job_id = $1 ORDER BY frag_index",
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
