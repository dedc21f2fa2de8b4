/* Adaptive rounds of a job's transmission (engine_tx.c asks, this sizes and waits). */
#include <stdio.h>
#include <stdlib.h>

#include "engine_int.h"
#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/round_wait.h"

/* Whether every session is stopped (or has no device): nothing is left to send or to size. */
bool engine_sessions_over(const struct seng_session *ss, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!ss[i].done && ss[i].devices > 0)
			return false;
	return true;
}

uint64_t engine_round_wait_ms(const struct engine *e, const struct seng_job *j)
{
	if (e->cfg.adaptive_pause_ms)
		return e->cfg.adaptive_pause_ms;
	return engine_round_pause_ms(e->cfg.block_ack_delay, j->unicast_timeout_s);
}

static void session_stop(struct engine *e, const struct seng_job *j, struct seng_session *s,
                         const char *why)
{
	if (seng_session_done(e->store, j->id, s->frag_index) != FUOTA_OK)
		return;
	s->done = true;
	log_msg(LOG_LVL_INFO, "job %lld: session %d (TS004 v%d) stops after %u frames: %s",
	        (long long)j->id, s->frag_index, s->frag_version, s->frames_sent, why);
}

/* The multicast status requests of session s in a row, the last one included, that no device
 * answered, when the last one was not (1 or 2: only whether there are two matters). An answer
 * to request r - 1 keeps status_round r - 1 while request r is unanswered. */
static unsigned silent_requests(struct engine *e, const struct seng_job *j,
                                const struct seng_session *s)
{
	uint32_t *rx = NULL, *mi = NULL;
	size_t n = 1;

	if (s->round >= 2 && seng_round_answers(e->store, j->id, s->frag_index, s->round - 1, &rx,
	                                        &mi, &n) != FUOTA_OK)
		n = 1;
	free(rx);
	free(mi);
	return n == 0 ? 2u : 1u;
}

/* The batch that follows the answers to the last status request of session s (its wait is
 * over): the new round_end, or `sent` when the session should stop. */
static uint32_t round_next_end(struct engine *e, const struct seng_job *j,
                               const struct seng_session *s, uint32_t sent)
{
	uint32_t *rx = NULL, *mi = NULL, end_max = j->nb_frag + j->redundancy_cap, batch;
	struct engine_status *a = NULL;
	struct engine_round_next nx;
	size_t n = 0, work_len = engine_round_work_len(j->nb_frag);
	double *work = malloc(work_len * sizeof(double));

	if (seng_round_answers(e->store, j->id, s->frag_index, s->round, &rx, &mi, &n) != FUOTA_OK)
		n = 0;
	a = calloc(n ? n : 1, sizeof(*a));
	if (!a || !work)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		a[i].received = rx[i];
		a[i].missing = mi[i];
	}
	/* rx is done with: it takes the needs. */
	engine_round_next(j->nb_frag, sent, a, rx, n, e->cfg.adaptive_loss_percent, work,
	                  work ? work_len : 0, &nx);
	free(work);
	free(a);
	free(rx);
	free(mi);
	batch = nx.batch;
	if (nx.answers == 0) {
		/* TS004 v1 devices that have the image do not answer Participants = 0 and never
		 * report otherwise: no answer means nobody left (the final unicast status checks
		 * each), once a second request in a row went unanswered (a device still short
		 * that lost one request is silent too) and if no answer can have been lost to a
		 * restart or a broker outage since the request (the wait ends next_tx_ms). A v2
		 * device reports its block itself: one still pending whose answer got lost gets a
		 * small step, as a v1 session does whose silence proves nothing yet. */
		int64_t asked_ms = j->next_tx_ms - (int64_t)engine_round_wait_ms(e, j);
		/* Whether fuotad heard every uplink since the request, whatever came before. */
		bool heard = policy_round_silence_proves(asked_ms, e->heard_since_ms,
		                                         POLICY_SILENT_REQUESTS);
		const char *why = heard ? "a device still missing fragments may have lost the "
		                          "request"
		                        : "answers may have been lost (fuotad or the broker "
		                          "restarted in the wait)";

		if (s->frag_version < 2 && heard &&
		    policy_round_silence_proves(asked_ms, e->heard_since_ms,
		                                silent_requests(e, j, s)))
			return sent;
		if (s->frag_version < 2)
			log_msg(LOG_LVL_INFO,
			        "job %lld: session %d round %u: no answer, but %s: asking again",
			        (long long)j->id, s->frag_index, s->round, why);
		batch = (uint32_t)(((uint64_t)j->nb_frag * e->cfg.adaptive_step_percent + 99) /
		                   100);
		if (batch == 0)
			batch = 1;
	}
	/* The last round takes the rest, unless it is a v1 session's silence to confirm (its
	 * devices most likely have the image). */
	if (s->round >= ENGINE_ROUNDS_MAX && (s->frag_version >= 2 || nx.answers > 0))
		batch = end_max > sent ? end_max - sent : 0;
	log_msg(LOG_LVL_INFO,
	        "job %lld: session %d round %u: %u answers, largest need %u, loss %.1f %%: %u "
	        "more parity rows",
	        (long long)j->id, s->frag_index, s->round, nx.answers, nx.need, nx.loss * 100.0,
	        batch);
	if (batch > end_max - (sent < end_max ? sent : end_max))
		batch = end_max > sent ? end_max - sent : 0;
	return sent + batch;
}

/* Rounds: whether a live session stands at the end of its batch without having asked yet: the
 * requests of the round are still going out, the wait has not begun. */
static bool rounds_asking(const struct seng_session *ss, size_t n_ss)
{
	for (size_t i = 0; i < n_ss; i++) {
		const struct seng_session *s = &ss[i];

		if (session_live(s) && s->round_end > 0 && sent_of(s) >= s->round_end &&
		    s->asked_at != s->round_end)
			return true;
	}
	return false;
}

/* Rounds: sizes the first batch of each session, and the next batch of a session whose status
 * request went out and whose wait is over: every session of the round has asked (in a mixed job
 * the last request starts the one wait) and the caller only calls once the job's next frame is
 * due, i.e. after that wait. Stored before any frame of the batch goes, so that a restart goes
 * on with it. */
int engine_rounds_size(struct engine *e, const struct seng_job *j, struct seng_session *ss,
                       size_t n_ss)
{
	bool asking = rounds_asking(ss, n_ss);

	for (size_t i = 0; i < n_ss; i++) {
		struct seng_session *s = &ss[i];
		uint32_t sent = sent_of(s), end;
		int rc;

		if (!session_live(s))
			continue;
		if (s->round_end == 0) {
			size_t work_len = engine_round_work_len(j->nb_frag);
			double *work = malloc(work_len * sizeof(double));

			end = j->nb_frag + engine_round_first(j->nb_frag, j->redundancy,
			                                      e->cfg.adaptive_loss_percent, work,
			                                      work ? work_len : 0);
			free(work);
			if (end > j->nb_frag + j->redundancy_cap)
				end = j->nb_frag + j->redundancy_cap;
		} else if (!asking && sent >= s->round_end && s->asked_at == s->round_end) {
			end = round_next_end(e, j, s, sent);
			if (end <= sent) {
				session_stop(e, j, s,
				             sent >= j->nb_frag + j->redundancy_cap
				                     ? "the parity cap is reached"
				                     : "no device asks for more");
				continue;
			}
		} else {
			continue;
		}
		rc = seng_round_end_set(e->store, j->id, s->frag_index, end);
		if (rc != FUOTA_OK)
			return rc;
		s->round_end = end;
	}
	return FUOTA_OK;
}

/* Rounds: the wait after the last status request of a round, or 0 when the session would end
 * before it is over (the frames left then go without waiting, as in stream mode). */
int64_t engine_round_wait_end(struct engine *e, const struct seng_job *j, int64_t on_air_end_ms,
                              int64_t session_end_ms)
{
	int64_t until = on_air_end_ms + (int64_t)engine_round_wait_ms(e, j);

	return until < session_end_ms ? until : 0;
}

/* Rounds, when the wait would outlast the session: no more status requests; each live session
 * takes every row up to the cap, sent until its devices report (as in stream mode). */
int engine_rounds_give_up(struct engine *e, const struct seng_job *j, struct seng_session *ss,
                          size_t n_ss)
{
	log_msg(LOG_LVL_INFO, "job %lld: no wait for answers: the session ends first",
	        (long long)j->id);
	for (size_t i = 0; i < n_ss; i++) {
		int rc;

		if (!session_live(&ss[i]))
			continue;
		rc = seng_round_end_set(e->store, j->id, ss[i].frag_index,
		                        j->nb_frag + j->redundancy_cap);
		if (rc != FUOTA_OK)
			return rc;
		ss[i].round_end = j->nb_frag + j->redundancy_cap;
	}
	return FUOTA_OK;
}

/* Rounds, during a wait: when every live session asked at the end of its batch and none of its
 * devices still missing the image has an answer to come (each answered the request, a v2 one
 * that has the image reported its block), the wait buys nothing: it ends now, stored (a restart
 * goes on from there), and the next batch is sized from the answers. A v1 device that has the
 * image never answers Participants = 0: its session waits the whole window, which alone tells
 * that it has the image. */
int engine_rounds_wait_answered(struct engine *e, struct seng_job *j, const struct seng_session *ss,
                                size_t n_ss, int64_t now_ms)
{
	size_t live = 0;
	int rc;

	for (size_t i = 0; i < n_ss; i++) {
		const struct seng_session *s = &ss[i];

		if (!session_live(s))
			continue;
		if (s->round == 0 || s->round_end == 0 || sent_of(s) < s->round_end ||
		    s->asked_at != s->round_end || s->unanswered > 0)
			return FUOTA_OK;
		live++;
	}
	if (live == 0)
		return FUOTA_OK;
	rc = seng_job_next_tx(e->store, j->id, now_ms);
	if (rc != FUOTA_OK)
		return rc;
	log_msg(LOG_LVL_INFO,
	        "job %lld: every device still missing the image answered: the wait ends %lld ms "
	        "early",
	        (long long)j->id, (long long)(j->next_tx_ms - now_ms));
	j->next_tx_ms = now_ms;
	return FUOTA_OK;
}
