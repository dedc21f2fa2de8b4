/* The phases of a running job (see the overview atop engine.c): the devices due each tick,
 * the session fixed, the gateways picked, the session moved, the status and clean-up phases and
 * the end of the job. Each phase change is one transaction with its device moves
 * (seng_job_phase), written before anything is sent. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "engine_gwavoid.h"
#include "engine_int.h"
#include "fuota/store_modem.h"
#include "fuota/cbox.h"
#include "fuota/err.h"
#include "fuota/frag_row.h"
#include "fuota/log.h"
#include "fuota/lw_airtime.h"
#include "fuota/lw_gps.h"
#include "fuota/lw_region.h"
#include "fuota/mc_keys.h"
#include "fuota/plan.h"
#include "fuota/recount.h"

#define DEVS_PER_TICK      256u
#define GATEWAY_MAX_AGE_MS (INT64_C(7) * 24 * 3600 * 1000)
#define BACKLOG_RETRY_MS   250

/* ---- phases --------------------------------------------------------------------------------- */

static int devices_due(struct engine *e, const struct seng_job *j, int64_t now_ms,
                       int64_t *next_due)
{
	struct seng_dev *devs = NULL;
	size_t n = 0;
	int rc;

	/* The answers of what was sent wait in the inbound queue: they come first. */
	if (e->backlog > ENGINE_BACKLOG_PAUSE) {
		if (now_ms + BACKLOG_RETRY_MS < *next_due)
			*next_due = now_ms + BACKLOG_RETRY_MS;
		return FUOTA_OK;
	}
	rc = seng_devs_due(e->store, j->id, now_ms, DEVS_PER_TICK, &devs, &n);
	/* More may be due than one tick handles: come back at once. */
	if (n == DEVS_PER_TICK)
		*next_due = now_ms;
	for (size_t i = 0; rc == FUOTA_OK && i < n; i++) {
		int r = engine_dev_due(e, j, &devs[i], now_ms);

		if (r == FUOTA_ERR_IO || r == FUOTA_ERR_UNAVAILABLE)
			rc = r;
	}
	free(devs);
	return rc;
}

static int phase(struct engine *e, const struct seng_job *j, struct seng_phase *p)
{
	int rc;

	p->lease = engine_lease(e);
	rc = seng_job_phase(e->store, j->id, p);

	engine_job_forget(e, j->id);
	if (rc == FUOTA_OK) {
		const char *from = engine_phase_name(p->from_phase),
		           *to = engine_phase_name(p->to_phase);

		log_msg(LOG_LVL_INFO, "job %lld: phase %s -> %s", (long long)j->id, from, to);
		engine_job_event(e, j, "log",
		                 json_pack("{s:s, s:s}", "phase_from", from, "phase", to), true);
	}
	return rc;
}

static uint64_t unicast_timeout_ms(const struct seng_job *j)
{
	return (uint64_t)(j->unicast_timeout_s ? j->unicast_timeout_s : 1) * 1000u;
}

/* Frames one session may send: its uncoded fragments and every parity row it may need. */
static uint64_t session_frames_max(const struct seng_job *j)
{
	return (uint64_t)j->nb_frag +
	       (j->redundancy_cap > j->redundancy ? j->redundancy_cap : j->redundancy);
}

/* Fails the ready devices of group g with reason (a move of the phase change). */
static void fail_group(struct seng_move *m, const struct seng_group *g, const char *reason)
{
	memset(m, 0, sizeof(*m));
	m->from = ENGINE_STEP_READY;
	m->to = ENGINE_STEP_FAILED;
	m->reason = reason;
	m->frag_version = g->frag_version;
	m->by_index = true;
	m->frag_index = g->frag_index;
}

/* The estimate of the sessions the job is about to run, in its event log: per session its
 * devices and frames (fixed parity; frames_max with every adaptive row), then the frames, their
 * time on air and the session TimeOut in all. */
static void sessions_event(struct engine *e, const struct seng_job *j, const struct seng_group *g,
                           size_t n_g, uint8_t timeout)
{
	uint64_t airtime = 0, interval = 0, frames = 0;
	json_t *a = json_array(), *o;
	unsigned sessions = 0;

	engine_frame_timing(j, j->frag_size, &airtime, &interval);
	for (size_t i = 0; a && i < n_g; i++) {
		if (g[i].count == 0)
			continue;
		sessions++;
		frames += (uint64_t)j->nb_frag + j->redundancy;
		json_array_append_new(
		        a, json_pack("{s:i, s:i, s:I, s:I, s:I}", "frag_index", g[i].frag_index,
		                     "ts004", g[i].frag_version, "devices", (json_int_t)g[i].count,
		                     "frames", (json_int_t)(j->nb_frag + j->redundancy),
		                     "frames_max", (json_int_t)session_frames_max(j)));
	}
	log_msg(LOG_LVL_INFO,
	        "job %lld: %u fragmentation session(s), %llu frames, %llu ms on air, TimeOut %u",
	        (long long)j->id, sessions, (unsigned long long)frames,
	        (unsigned long long)(frames * airtime / 1000), timeout);
	o = json_pack("{s:I, s:I, s:i}", "frames", (json_int_t)frames, "airtime_ms",
	              (json_int_t)(frames * airtime / 1000), "multicast_timeout", (int)timeout);
	if (o && a)
		json_object_set(o, "sessions", a);
	json_decref(a);
	engine_job_event(e, j, "log", o, true);
}

/* What the job's plan says when the job runs more than one session: n_sessions of M fragments
 * and the plan's parity each, and the TimeOut that covers them. malloc'd JSON, NULL when out of
 * memory (the plan then stays as it was). */
static char *plan_patch(const struct engine *e, const struct seng_job *j, size_t n_sessions,
                        uint8_t timeout)
{
	uint64_t airtime = 0, interval = 0, per = (uint64_t)j->nb_frag + j->redundancy, frames;
	json_t *o;
	char *text;

	/* A job in parts: every part's frames (its sessions run once per part). */
	for (unsigned k = 0; j->parts > 1 && k < j->parts; k++) {
		struct engine_counts c;

		if (k == 0)
			per = 0;
		if (!engine_counts(e, j, k, &c))
			per += (uint64_t)c.nb_frag + c.redundancy;
	}
	frames = n_sessions * per;
	engine_frame_timing(j, j->frag_size, &airtime, &interval);
	o = json_pack("{s:I, s:I, s:f, s:i, s:I}", "sessions", (json_int_t)n_sessions,
	              "total_frames", (json_int_t)frames, "total_airtime_s",
	              (double)(frames * airtime) / 1e6, "multicast_timeout_exp", (int)timeout,
	              "multicast_timeout_s",
	              (json_int_t)((UINT64_C(1) << timeout) * (j->mc_class == 'B' ? 128u : 1u)));
	text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
	json_decref(o);
	return text;
}

/* The sessions of a job about to fix its session time, from its ready devices grouped by
 * (FragIndex, TS004 version) and sorted by both: one session per group left with devices. One
 * FragIndex serves one version: v1 and v2 rows differ, and a device decoding rows of the other
 * code would rebuild a wrong image (a v1 device would not even notice). Only devices an engine
 * without sessions per version set up can share one; the larger group keeps it (v2 on a tie:
 * its MIC protects it). Two sessions carry twice the frames: *timeout grows to cover them, and
 * if even TS005's longest TimeOut cannot, the smaller group (v1 on a tie) fails. The groups that
 * fail get count 0 and a move in moves[] (reason in why[]); returns the number of moves. */
static size_t choose_sessions(const struct seng_job *j, struct seng_group *g, size_t n_g,
                              struct seng_move *moves, char (*why)[112], uint8_t *timeout)
{
	size_t n_moves = 0, keep = 0;

	for (size_t i = 0; i + 1 < n_g; i++) {
		struct seng_group *a = &g[i], *b = &g[i + 1], *lose;

		if (a->frag_index != b->frag_index || a->count == 0 || b->count == 0)
			continue;
		lose = a->count > b->count ? b : a;
		snprintf(why[n_moves], sizeof(why[0]),
		         "TS004 v%d device in a job whose session uses v%d", lose->frag_version,
		         lose == a ? b->frag_version : a->frag_version);
		fail_group(&moves[n_moves], lose, why[n_moves]);
		n_moves++;
		lose->count = 0;
	}
	for (size_t i = 0; i < n_g; i++)
		keep += g[i].count > 0;
	if (keep > 1) {
		uint64_t airtime = 0, interval = 0, need;
		struct seng_group *lose = NULL;
		uint8_t t = 0;

		engine_frame_timing(j, j->frag_size, &airtime, &interval);
		need = engine_multicast_need_s(j->mc_class == 'B', j->ping_periodicity,
		                               keep * session_frames_max(j), interval);
		if (engine_session_timeout(j->mc_class == 'B', need, &t) == FUOTA_OK) {
			if (t > *timeout)
				*timeout = t;
			return n_moves;
		}
		for (size_t i = 0; i < n_g; i++)
			if (g[i].count > 0 &&
			    (!lose || g[i].count < lose->count ||
			     (g[i].count == lose->count && g[i].frag_version < lose->frag_version)))
				lose = &g[i];
		snprintf(why[n_moves], sizeof(why[0]),
		         "TS004 v%d device: a second fragmentation session would exceed TS005's "
		         "longest TimeOut",
		         lose->frag_version);
		fail_group(&moves[n_moves], lose, why[n_moves]);
		n_moves++;
		lose->count = 0;
	}
	return n_moves;
}

/* The session start announced at now_ms: every device still to be reached must get
 * McClass{B,C}SessionReq through all its attempts before the session opens, each attempt waiting
 * for the device's next uplink to be delivered (class A): the longest uplink period seen among
 * the job's devices is added to every attempt. */
static int64_t session_start_from(struct engine *e, const struct seng_job *j, int64_t now_ms)
{
	int64_t start = engine_session_start_ms(
	        now_ms, j->unicast_attempts,
	        unicast_timeout_ms(j) + engine_seen_period_max(e, j->id), e->cfg.session_margin_ms);

	if (j->mc_class == 'B') {
		int64_t gps_s =
		        engine_classb_align_gps_s((engine_unix_to_gps_ms(start) + 999) / 1000);

		start = engine_gps_to_unix_ms(gps_s * 1000);
	}
	return start;
}

/* Setup is over with devices ready (POLICY_ACT_SESSION): the session is fixed. */
static int phase_setup(struct engine *e, const struct seng_job *j, int64_t now_ms)
{
	struct seng_group g[8];
	struct seng_move moves[8 + 1];
	struct seng_phase p;
	size_t n_g = 0, n_moves, keep = 0;
	int64_t start;
	char why[8][112], *patch = NULL;
	uint8_t timeout = j->session_timeout;
	int rc;

	memset(&p, 0, sizeof(p));
	p.from_phase = ENGINE_PHASE_SETUP;
	start = session_start_from(e, j, now_ms);
	p.to_phase = ENGINE_PHASE_SESSION;
	p.set_session_start = true;
	p.session_start_ms = start;
	p.deadline_ms = now_ms;
	rc = seng_step_groups(e->store, j->id, ENGINE_STEP_READY, g, 8, &n_g);
	if (rc != FUOTA_OK)
		return rc;
	n_moves = choose_sessions(j, g, n_g, moves, why, &timeout);
	if (timeout != j->session_timeout) {
		p.set_session_timeout = true;
		p.session_timeout = timeout;
	}
	memset(&moves[n_moves], 0, sizeof(moves[0]));
	moves[n_moves].from = ENGINE_STEP_READY;
	moves[n_moves].to = ENGINE_STEP_MC_SESSION;
	n_moves++;
	p.moves = moves;
	p.n_moves = n_moves;
	p.create_sessions = true;
	for (size_t i = 0; i < n_g; i++)
		keep += g[i].count > 0;
	/* Once per job: the parts after the first run the same sessions. */
	if (keep > 1 && j->part == 0)
		p.plan_patch = patch = plan_patch(e, j, keep, timeout);
	rc = phase(e, j, &p);
	if (rc == FUOTA_OK)
		sessions_event(e, j, g, n_g, timeout);
	free(patch);
	return rc;
}

/* The session's length (TS005 TimeOut: 2^exp s, class B in beacon periods of 128 s). */
static int64_t session_len_ms(const struct seng_job *j)
{
	return (INT64_C(1) << j->session_timeout) * (j->mc_class == 'B' ? 128000 : 1000);
}

/* The smallest gateway set that covers the devices in the session, leaving out the gateways
 * whose modem updates (skip, engine_gwavoid.h). Devices no gateway heard cannot receive the
 * multicast: they fail; so do those only such gateways heard, unless the session may still move
 * (then nothing is failed and FUOTA_ERR_TIMEOUT says to wait for them). */
static int pick_gateways(struct engine *e, const struct seng_job *j, char (**gws)[SENG_EUI_LEN],
                         size_t *n_gws, int64_t now_ms, struct engine_gw_skip *skip)
{
	struct seng_edges ed;
	struct engine_edge *edges = NULL;
	uint8_t *chosen = NULL, *work = NULL;
	size_t n_chosen = 0, n_uncovered = 0, n_edges;
	/* Only gateways that heard the device in the last week: an older entry is a gateway that
	 * may be gone, or a device that moved. */
	int rc = seng_job_edges(e->store, j->id, ENGINE_STEP_SESSION, now_ms - GATEWAY_MAX_AGE_MS,
	                        &ed);

	memset(skip, 0, sizeof(*skip));
	*gws = NULL;
	*n_gws = 0;
	if (rc != FUOTA_OK)
		return rc;
	rc = FUOTA_ERR_NO_MEMORY;
	edges = calloc(ed.n_edges + 1, sizeof(*edges));
	chosen = calloc(ed.n_gw + 1, 1);
	work = calloc(ed.n_dev + 1, 1);
	*gws = calloc(ed.n_gw + 1, SENG_EUI_LEN);
	if (!edges || !chosen || !work || !*gws)
		goto out;
	for (size_t i = 0; i < ed.n_edges; i++) {
		edges[i].dev = ed.edge_dev[i];
		edges[i].gw = ed.edge_gw[i];
		edges[i].quality = ed.edge_q[i];
	}
	n_edges = ed.n_edges;
	rc = engine_gw_avoid(e, &ed, edges, &n_edges, j->session_start_ms,
	                     j->session_start_ms + session_len_ms(j), now_ms, skip);
	if (rc == FUOTA_OK && skip->n_lost > 0 && engine_session_move(1, j->session_moves))
		rc = FUOTA_ERR_TIMEOUT;
	if (rc != FUOTA_OK)
		goto out;
	rc = engine_gw_cover(edges, n_edges, ed.n_dev, ed.n_gw, chosen, &n_chosen, &n_uncovered,
	                     work);
	if (rc != FUOTA_OK)
		goto out;
	for (size_t g = 0; g < ed.n_gw; g++)
		if (chosen[g])
			memcpy((*gws)[(*n_gws)++], ed.gw_ids[g], SENG_EUI_LEN);
	/* work[d] == 0: no gateway ever heard device d. */
	for (size_t d = 0; d < ed.n_dev; d++) {
		struct seng_dev_update u;

		if (work[d] != 0)
			continue;
		seng_dev_update_init(&u);
		u.to = ENGINE_STEP_FAILED;
		u.failure_reason = skip->lost[d]
		                           ? "the gateways that heard the device have a modem "
		                             "update running or due"
		                           : "no gateway has heard the device";
		/* STATE: the device left the session meanwhile. Any other failure leaves the phase
		 * unchanged, to be tried again, rather than run the session without failing it. */
		rc = seng_dev_update(e->store, j->id, ed.dev_euis[d], ENGINE_STEP_SESSION, &u);
		if (rc == FUOTA_ERR_STATE)
			rc = FUOTA_OK;
		if (rc != FUOTA_OK)
			goto out;
	}
	log_msg(LOG_LVL_INFO, "job %lld: %zu gateway(s) cover %zu device(s)", (long long)j->id,
	        *n_gws, ed.n_dev - n_uncovered);
out:
	if (rc != FUOTA_OK) {
		free(*gws);
		*gws = NULL;
	}
	free(edges);
	free(chosen);
	free(work);
	seng_edges_free(&ed);
	return rc;
}

/* The session moved (why), to not before not_before_ms, every device of it asked again. */
static int move_session_why(struct engine *e, const struct seng_job *j, unsigned waiting,
                            int64_t now_ms, int64_t not_before_ms, const char *why,
                            int64_t *next_due)
{
	static const struct seng_move again[] = {
	        {.from = ENGINE_STEP_SESSION, .to = ENGINE_STEP_MC_SESSION},
	        {.from = ENGINE_STEP_MC_SESSION, .to = ENGINE_STEP_MC_SESSION}};
	struct seng_phase p;
	int64_t start = session_start_from(e, j, now_ms > not_before_ms ? now_ms : not_before_ms);
	int rc;

	memset(&p, 0, sizeof(p));
	p.from_phase = ENGINE_PHASE_SESSION;
	p.to_phase = ENGINE_PHASE_SESSION;
	p.set_session_start = true;
	p.session_start_ms = start;
	p.session_moved = true;
	p.deadline_ms = now_ms;
	p.moves = again;
	p.n_moves = 2;
	p.lease = engine_lease(e);
	rc = seng_job_phase(e->store, j->id, &p);
	engine_job_forget(e, j->id);
	if (rc != FUOTA_OK)
		return rc;
	log_msg(LOG_LVL_WARN,
	        "job %lld: session moved %lld ms later (%s; %u device(s)), every device asked "
	        "again",
	        (long long)j->id, (long long)(start - j->session_start_ms), why, waiting);
	engine_job_event(e, j, "log",
	                 json_pack("{s:s, s:I, s:I, s:I, s:i}", "session_moved", why,
	                           "session_start_was_ms", (json_int_t)j->session_start_ms,
	                           "session_start_ms", (json_int_t)start, "devices_waiting",
	                           (json_int_t)waiting, "moves", (int)j->session_moves + 1),
	                 true);
	*next_due = now_ms;
	return FUOTA_OK;
}

/* The session start has come with `waiting` devices still in mc_session, some of which may
 * still answer: the start moves to a time every device can meet, and every device of the session
 * is asked again with it (nothing has been sent on the multicast group yet). */
static int move_session(struct engine *e, const struct seng_job *j, unsigned waiting,
                        int64_t now_ms, int64_t *next_due)
{
	return move_session_why(e, j, waiting, now_ms, 0,
	                        "devices had not answered McClassSessionReq by the session start",
	                        next_due);
}

/* Gateways left out of job j's session for their modem (skip): said in the job's plan
 * ("gateways_skipped", and "waiting_for_modem" when the session waits for them) and events. */
static void skip_say(struct engine *e, const struct seng_job *j, const struct engine_gw_skip *skip,
                     bool waiting)
{
	json_t *o = json_pack("{s:O, s:b}", "gateways_skipped", skip->gateways, "waiting_for_modem",
	                      waiting);
	char *patch = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (!patch || seng_job_plan_note(e->store, j->id, patch) != FUOTA_OK)
		log_msg(LOG_LVL_WARN, "job %lld: gateways left out not noted in its plan",
		        (long long)j->id);
	free(patch);
	json_decref(o);
	log_msg(LOG_LVL_INFO,
	        "job %lld: %zu gateway(s) left out of the session (modem update), %zu device(s) "
	        "without another%s",
	        (long long)j->id, skip->n_skipped, skip->n_lost, waiting ? ": waiting" : "");
	engine_job_event(e, j, "log",
	                 json_pack("{s:O, s:I, s:b}", "gateways_skipped", skip->gateways,
	                           "devices_lost", (json_int_t)skip->n_lost, "waiting", waiting),
	                 true);
}

/* The gateways for the session (pick_gateways), those left out for their modem said
 * (skip_say). When devices only they heard may still be waited for, the session is moved past
 * their updates here and FUOTA_ERR_TIMEOUT returned. */
static int session_gateways(struct engine *e, const struct seng_job *j, int64_t now_ms,
                            char (**gws)[SENG_EUI_LEN], size_t *n_gws, int64_t *next_due)
{
	struct engine_gw_skip skip;
	int rc = pick_gateways(e, j, gws, n_gws, now_ms, &skip);

	if ((rc == FUOTA_OK || rc == FUOTA_ERR_TIMEOUT) && skip.gateways)
		skip_say(e, j, &skip, rc == FUOTA_ERR_TIMEOUT);
	if (rc == FUOTA_ERR_TIMEOUT) {
		rc = move_session_why(e, j, (unsigned)skip.n_lost, now_ms, skip.until_ms,
		                      "the only gateways that heard some devices have a modem "
		                      "update running or due: waiting for it",
		                      next_due);
		if (rc == FUOTA_OK)
			rc = FUOTA_ERR_TIMEOUT;
	}
	engine_gw_skip_free(&skip);
	return rc;
}

/* The session start has come (POLICY_ACT_START): the session moves, or it starts. */
static int phase_session(struct engine *e, const struct seng_job *j, const unsigned *counts,
                         int64_t now_ms, int64_t *next_due)
{
	static const struct seng_move late[] = {
	        {.from = ENGINE_STEP_MC_SESSION,
	         .to = ENGINE_STEP_FAILED,
	         .reason = "McClassSessionReq: no answer before the session start"},
	        /* fell back to a full setup (McGroupUndefined) and not done in time */
	        {.from = ENGINE_STEP_MC_SETUP,
	         .to = ENGINE_STEP_FAILED,
	         .reason = "McGroupSetupReq: no answer before the session start"}};
	struct seng_phase p;
	char(*gws)[SENG_EUI_LEN] = NULL;
	size_t n_gws = 0;
	int rc;

	if (counts[ENGINE_STEP_MC_SESSION] > 0) {
		unsigned can = 0;

		rc = seng_session_waiting(e->store, j->id, j->unicast_attempts, &can);
		if (rc != FUOTA_OK)
			return rc;
		if (engine_session_move(can, j->session_moves))
			return move_session(e, j, counts[ENGINE_STEP_MC_SESSION], now_ms, next_due);
	}
	/* The gateway set is chosen from the table: every pair heard so far goes in first. */
	if (engine_seen_flush(e, now_ms, true) != FUOTA_OK)
		return FUOTA_ERR_IO;
	rc = session_gateways(e, j, now_ms, &gws, &n_gws, next_due);
	if (rc == FUOTA_ERR_TIMEOUT)
		return FUOTA_OK;
	if (rc != FUOTA_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	p.from_phase = ENGINE_PHASE_SESSION;
	p.to_phase = ENGINE_PHASE_TRANSMIT;
	p.moves = late;
	p.n_moves = 2;
	p.deadline_ms = now_ms;
	p.gateways = (const char(*)[SENG_EUI_LEN])gws;
	p.n_gateways = n_gws;
	/* The devices open their class C window at SessionTime: the first frame goes a second
	 * later so that a device whose clock is a little late does not miss it. */
	p.set_next_tx = true;
	p.next_tx_ms = j->session_start_ms + 1000;
	rc = phase(e, j, &p);
	free(gws);
	return rc;
}

/* Frames to the devices in the session (send: POLICY_ACT_SEND), then the status phase; with
 * nobody left to send to (POLICY_ACT_STATUS) at once. */
static int phase_transmit(struct engine *e, struct seng_job *j, bool send, int64_t now_ms,
                          int64_t *next_due)
{
	/* A device that reported its block (v2 FragDataBlockReceivedReq without MICError) has
	 * told what the final FragSessionStatusReq would ask: it goes straight to cleanup. The
	 * others are asked, those a status round judged done too: that judgement was
	 * provisional (an error in the answer fails them, a LoRaMac-node answer that cannot prove
	 * the image leaves them unconfirmed). */
	struct seng_move to_status[] = {
	        {.from = ENGINE_STEP_SESSION, .to = ENGINE_STEP_CLEANUP, .block = 1},
	        {.from = ENGINE_STEP_SESSION, .to = ENGINE_STEP_FRAG_STATUS, .block = -1}};
	struct seng_phase p;
	bool done = false;
	int rc = FUOTA_OK;

	if (!send)
		done = true; /* nobody to send to */
	else
		rc = engine_tx_run(e, j, now_ms, &done, next_due);
	if (rc != FUOTA_OK || !done)
		return rc;
	/* A part before the last: those with it wait, ready, for the next part (next_part). */
	to_status[0].to = engine_after_part(j->part, j->parts, false);
	memset(&p, 0, sizeof(p));
	p.from_phase = ENGINE_PHASE_TRANSMIT;
	p.to_phase = ENGINE_PHASE_STATUS;
	p.moves = to_status;
	p.n_moves = 2;
	p.deadline_ms = now_ms;
	engine_tx_progress(e, j, true);
	return phase(e, j, &p);
}

static int enter_cleanup(struct engine *e, const struct seng_job *j, enum engine_phase from)
{
	struct seng_phase p;
	struct seng_dev *devs = NULL;
	size_t n = 0;
	int rc;

	memset(&p, 0, sizeof(p));
	p.from_phase = from;
	p.to_phase = ENGINE_PHASE_CLEANUP;
	p.mark_deletes = true; /* owed from the phase change on, whatever happens to this engine */
	rc = phase(e, j, &p);
	if (rc != FUOTA_OK)
		return rc;
	/* Every fragment is out (P19): the devices that failed may now drop their group. */
	if (seng_devs_with_group(e->store, j->id, false, &devs, &n) == FUOTA_OK)
		for (size_t i = 0; i < n; i++)
			engine_dev_cleanup_once(e, &devs[i]);
	free(devs);
	return FUOTA_OK;
}

/* The job's next part (fuota/plan_parts.h): the devices that have this one (ready) are set up
 * for the next on the same FragIndex and multicast group (a new FragSessionSetupReq replaces
 * the session), then the phases run again; job.part moves with it, so a restarted fuotad goes
 * on with that part. */
static int next_part(struct engine *e, const struct seng_job *j, int64_t now_ms)
{
	static const struct seng_move to_setup[] = {
	        {.from = ENGINE_STEP_READY, .to = ENGINE_STEP_FRAG_SETUP}};
	struct engine_counts c;
	struct seng_next_part np;
	struct seng_phase p;
	const char *why = engine_counts(e, j, j->part + 1, &c);
	int rc;

	if (why) {
		log_msg(LOG_LVL_WARN, "job %lld: part %u: %s", (long long)j->id, j->part + 2, why);
		return engine_job_end(e, j, "failed", why, why, now_ms);
	}
	np = (struct seng_next_part){j->part + 1, c.nb_frag, c.padding, c.redundancy, c.cap};
	memset(&p, 0, sizeof(p));
	p.from_phase = ENGINE_PHASE_STATUS;
	p.to_phase = ENGINE_PHASE_SETUP;
	p.moves = to_setup;
	p.n_moves = 1;
	p.deadline_ms = now_ms;
	p.next_part = &np;
	rc = phase(e, j, &p);
	if (rc != FUOTA_OK)
		return rc;
	engine_cache_drop(e, j->id);
	log_msg(LOG_LVL_INFO, "job %lld: part %u of %u: %u fragments, %u parity", (long long)j->id,
	        np.part + 1, j->parts, c.nb_frag, c.redundancy);
	engine_job_event(e, j, "log",
	                 json_pack("{s:i, s:i, s:I, s:I}", "part", (int)np.part + 1, "parts",
	                           (int)j->parts, "fragments", (json_int_t)c.nb_frag, "parity",
	                           (json_int_t)c.redundancy),
	                 true);
	return FUOTA_OK;
}

/* A job with a device that has the image, or may have it (unconfirmed), succeeded; the error
 * text counts the others. */
static int finish(struct engine *e, const struct seng_job *j, const unsigned *counts,
                  int64_t now_ms)
{
	unsigned total = 0, ok = counts[ENGINE_STEP_DONE], unsure = counts[ENGINE_STEP_UNCONFIRMED];
	char error[128];
	const char *state = ok + unsure > 0 ? "succeeded" : "failed";
	int rc, n = 0;

	for (unsigned i = 0; i < ENGINE_STEP_COUNT; i++)
		total += counts[i];
	error[0] = 0;
	if (ok + unsure < total)
		n = snprintf(error, sizeof(error), "%u of %u devices failed", total - ok - unsure,
		             total);
	if (unsure > 0 && n >= 0 && (size_t)n < sizeof(error))
		snprintf(error + n, sizeof(error) - (size_t)n, "%s%u of %u devices unconfirmed",
		         n > 0 ? ", " : "", unsure, total);
	rc = engine_job_end(e, j, state, error[0] ? error : NULL, "job ended", now_ms);
	if (rc != FUOTA_OK)
		return rc;
	engine_job_forget(e, j->id);
	log_msg(LOG_LVL_INFO, "job %lld: %s, %u of %u devices have the image, %u unconfirmed",
	        (long long)j->id, state, ok, total, unsure);
	engine_job_event(e, j, "state",
	                 json_pack("{s:s, s:s, s:I, s:I, s:I}", "from", "running", "to", state,
	                           "devices_ok", (json_int_t)ok, "devices_unconfirmed",
	                           (json_int_t)unsure, "devices", (json_int_t)total),
	                 false);
	engine_cache_drop(e, j->id);
	return FUOTA_OK;
}

/* The job's devices by step: the counts kept in memory while they only make the tick wait and
 * are young enough (fuota/recount.h), else read again; a restarted engine reads them first. */
static int job_counts(struct engine *e, const struct seng_job *j, int64_t now_ms, unsigned *counts,
                      unsigned *pending)
{
	struct engine_job_cached *c = engine_job_slot(e, j->id);
	int64_t t0 = e->clock(e->clock_ctx);
	int rc;

	if (c && c->counted_phase == j->phase && engine_recount_fresh(&c->counts_rc, j->part, t0) &&
	    !policy_counts_act(j->phase, c->counts, now_ms >= j->session_start_ms)) {
		memcpy(counts, c->counts, sizeof(c->counts));
		*pending = c->pending;
		return FUOTA_OK;
	}
	rc = seng_dev_counts(e->store, j->id, counts, ENGINE_STEP_COUNT, pending);
	if (rc != FUOTA_OK || !c)
		return rc;
	memcpy(c->counts, counts, sizeof(c->counts));
	c->pending = *pending;
	c->counted_phase = j->phase;
	engine_recount_stamp(&c->counts_rc, j->part, t0, e->clock(e->clock_ctx));
	return FUOTA_OK;
}

int engine_phase_run(struct engine *e, struct seng_job *j, int64_t now_ms, int64_t *next_due)
{
	unsigned counts[ENGINE_STEP_COUNT], pending;
	int rc = devices_due(e, j, now_ms, next_due);

	if (rc != FUOTA_OK)
		return rc;
	rc = job_counts(e, j, now_ms, counts, &pending);
	if (rc != FUOTA_OK)
		return rc;
	/* The same decision tells job_counts when cached counts may do (fuota/recount.h). */
	switch (policy_phase_act(j->phase, counts, now_ms >= j->session_start_ms, j->part,
	                         j->parts)) {
	case POLICY_ACT_SESSION: return phase_setup(e, j, now_ms);
	case POLICY_ACT_START: return phase_session(e, j, counts, now_ms, next_due);
	case POLICY_ACT_SEND: return phase_transmit(e, j, true, now_ms, next_due);
	case POLICY_ACT_STATUS: return phase_transmit(e, j, false, now_ms, next_due);
	case POLICY_ACT_NEXT_PART: return next_part(e, j, now_ms);
	case POLICY_ACT_CLEANUP: return enter_cleanup(e, j, j->phase);
	case POLICY_ACT_FINISH: return finish(e, j, counts, now_ms);
	case POLICY_ACT_WAIT:
		if (j->phase == ENGINE_PHASE_SESSION && j->session_start_ms < *next_due)
			*next_due = j->session_start_ms;
		return FUOTA_OK;
	case POLICY_ACT_NONE:
	default: return FUOTA_OK;
	}
}
