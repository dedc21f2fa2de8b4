/* What a device's FragSessionStatusAns and FragDataBlockReceivedReq do to it (issue 16): the
 * answer is judged by the device's stack (fuota/engine_judge.h, pure); this file fetches what the
 * judgement needs and moves the device by the verdict.
 *
 * Only the device's own block report (v2 FragDataBlockReceivedReq without MICError) is final.
 * A round's answer that judged a device done only stops the rows for it (block_received): the
 * answer after the session is judged afresh, and an error in it fails the device. A LoRaMac-node
 * device whose answer cannot prove the image (ENGINE_VERDICT_UNCONFIRMED) is asked TS006
 * DevUpgradeImageReq when it has TS006 (step confirm): "Valid" makes it done, another status
 * fails it (the answer is read in engine_fmp.c); without TS006, or without an answer, it is cleaned
 * up like a done one but ends in step "unconfirmed", its reason saying why. */
#include <stdio.h>
#include <string.h>

#include "engine_int.h"
#include "fuota/engine_judge.h"
#include "fuota/err.h"
#include "fuota/frag_cmd.h"

uint32_t engine_status_sent(struct engine *e, int64_t job_id, int frag_index, enum dev_stack st)
{
	struct seng_session ss[ENGINE_MAX_SESSIONS];
	size_t n = 0;

	if (st != DEV_STACK_LORAMAC_NODE ||
	    seng_sessions(e->store, job_id, ss, ENGINE_MAX_SESSIONS, &n) != FUOTA_OK)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ss[i].frag_index == frag_index)
			return ss[i].next_n > 0 ? ss[i].next_n - 1 : 0;
	return 0;
}

/* A status round of adaptive redundancy, during the session: how far the device is. */
static int on_round_status(struct engine *e, struct seng_dev *d, const struct engine_judgement *v)
{
	struct seng_dev_update u;

	switch (v->verdict) {
	case ENGINE_VERDICT_MEMORY:
		return engine_dev_fail(e, d, ENGINE_STEP_SESSION,
		                       "FragSessionStatusAns: NotEnoughMatrixMemory");
	case ENGINE_VERDICT_SHORT:
		/* The next round is sized from the answers (engine_tx.c). */
		return seng_dev_status(e->store, d->job_id, d->dev_eui, d->frag_index,
		                       v->status.received, v->status.missing);
	case ENGINE_VERDICT_DONE:
	case ENGINE_VERDICT_UNCONFIRMED:
		/* No more rows for it (an unconfirmed LoRaMac-node counter stopped: more rows do
		 * not move it). Provisional: the answer after the session is judged again. */
		seng_dev_update_init(&u);
		u.set_block_received = true;
		return seng_dev_update(e->store, d->job_id, d->dev_eui, ENGINE_STEP_SESSION, &u);
	default: return FUOTA_OK; /* judged after the session, when it is asked alone */
	}
}

/* A v2 device that holds M frames or more, says it still misses some and has attempts left:
 * its FragDataBlockReceivedReq may be on its way (it goes after a random BlockAckDelay, like
 * this answer, and LoRa Basics Modem says MissingFrag 1 after a lossless session): it is asked
 * again at the step's next attempt rather than failed now, and a block report meanwhile moves
 * it on (engine_block_received). */
static bool block_may_come(const struct seng_job *j, const struct seng_dev *d,
                           const struct frag_status_ans *a, const struct engine_judgement *v)
{
	return v->verdict == ENGINE_VERDICT_SHORT && d->frag_version >= 2 &&
	       a->nb_received >= j->nb_frag && d->attempts < j->unicast_attempts;
}

/* The device's last_answer: the answer as sent and how it was judged. */
static void status_json(const struct seng_dev *d, const struct frag_status_ans *a,
                        const struct engine_judgement *v, bool block_ok, char *out, size_t cap)
{
	snprintf(out, cap,
	         "{\"answer\":\"FragSessionStatusAns\",\"received\":%u,\"missing\":%u,"
	         "\"memory_error\":%s,\"mic_error\":%s,\"no_session\":%s,\"stack\":\"%s\","
	         "\"judged\":\"%s\"}",
	         a->nb_received, a->missing_frag, a->memory_error ? "true" : "false",
	         a->mic_error ? "true" : "false", a->session_not_exist ? "true" : "false",
	         dev_stack_name(engine_dev_stack(d)), engine_verdict_words(v, block_ok));
}

int engine_status_ans(struct engine *e, const struct seng_job *j, struct seng_dev *d,
                      const struct frag_status_ans *a)
{
	struct engine_judgement v;
	struct engine_judge_in in = {.nb_frag = j->nb_frag};
	struct seng_dev_update u;
	char why[256], la[320];
	bool round = d->step == ENGINE_STEP_SESSION;

	if (a->frag_index != d->frag_index)
		return FUOTA_OK; /* another session of the device, not this job's */
	if (!round && d->step != ENGINE_STEP_FRAG_STATUS)
		return FUOTA_OK;
	/* Only the device's own block report without MICError: a round's provisional "done"
	 * (block_received) does not make later answers unheard. */
	in.block_ok = d->block_reported;
	in.final = !round;
	in.sent = engine_status_sent(e, j->id, d->frag_index, engine_dev_stack(d));
	engine_status_judge(engine_dev_stack(d), &in, a, &v);
	if (round)
		return on_round_status(e, d, &v);
	status_json(d, a, &v, in.block_ok, la, sizeof(la));
	seng_dev_update_init(&u);
	u.last_answer = la;
	if (v.verdict == ENGINE_VERDICT_DONE || v.verdict == ENGINE_VERDICT_UNCONFIRMED) {
		u.reset_attempts = true;
		u.set_deadline = true;
		u.deadline_ms = 0;
		if (v.verdict == ENGINE_VERDICT_UNCONFIRMED && d->ts006 >= 1) {
			u.to = ENGINE_STEP_CONFIRM; /* its own word on the image (TS006) */
		} else if (v.verdict == ENGINE_VERDICT_UNCONFIRMED) {
			/* The reason marks it: the clean-up ends it in "unconfirmed". */
			engine_judgement_reason(&v, why, sizeof(why));
			u.failure_reason = why;
			d->failed = true;
			u.to = engine_after_part(d->part, d->parts, true);
		} else {
			u.to = engine_after_part(d->part, d->parts, false);
		}
		return engine_dev_move(e, d, ENGINE_STEP_FRAG_STATUS, &u);
	}
	if (block_may_come(j, d, a, &v))
		return seng_dev_update(e->store, d->job_id, d->dev_eui, ENGINE_STEP_FRAG_STATUS,
		                       &u);
	engine_judgement_reason(&v, why, sizeof(why));
	u.to = ENGINE_STEP_FAILED;
	u.failure_reason = why;
	return engine_dev_move(e, d, ENGINE_STEP_FRAG_STATUS, &u);
}

int engine_block_received(struct engine *e, struct seng_dev *d,
                          const struct frag_block_received_req *req)
{
	uint8_t ans[2] = {FRAG_CID_DATA_BLOCK_RECEIVED, (uint8_t)(req->frag_index & 0x03)};
	struct seng_dev_update up;

	engine_unicast(e, d->application_id, d->dev_eui, e->cfg.port_frag, ans, sizeof(ans));
	if (req->frag_index != d->frag_index)
		return FUOTA_OK;
	if (req->mic_error)
		return engine_dev_fail(e, d, d->step, "FragDataBlockReceivedReq: MICError");
	seng_dev_update_init(&up);
	up.set_block_received = true;
	up.set_block_reported = true;
	if (d->step == ENGINE_STEP_FRAG_STATUS) {
		/* The report came after the session: it tells what the status request asks. */
		up.last_answer = "{\"answer\":\"FragDataBlockReceivedReq\",\"judged\":\"done "
		                 "(block reported)\"}";
		return engine_dev_enter(e, d, ENGINE_STEP_FRAG_STATUS,
		                        engine_after_part(d->part, d->parts, false), 0, &up);
	}
	return seng_dev_update(e->store, d->job_id, d->dev_eui, d->step, &up);
}

int engine_confirm_unanswered(struct engine *e, struct seng_dev *d)
{
	struct seng_dev_update u;
	char why[160];

	snprintf(why, sizeof(why),
	         "unconfirmed: its FragSessionStatusAns cannot prove the image (last_answer) and "
	         "DevUpgradeImageReq had no answer after %u attempts",
	         d->attempts);
	seng_dev_update_init(&u);
	u.failure_reason = why;
	d->failed = true;
	return engine_dev_enter(e, d, ENGINE_STEP_CONFIRM,
	                        engine_after_part(d->part, d->parts, true), 0, &u);
}
