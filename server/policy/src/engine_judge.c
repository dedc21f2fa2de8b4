/* Judging a device from its FragSessionStatusAns (see fuota/engine_judge.h). */
#include <stdio.h>
#include <string.h>

#include "fuota/engine_judge.h"

static void judge_loramac_node(const struct engine_judge_in *in, const struct frag_status_ans *a,
                               struct engine_judgement *out)
{
	uint32_t counter = a->nb_received, lost = a->missing_frag, got, need;

	/* MissingFrag saturates at 255 and counts only fragments before the counter: at most
	 * counter - 1 of them. */
	if (lost >= counter)
		lost = counter > 0 ? counter - 1 : 0;
	got = counter - lost;
	if (got < in->nb_frag) {
		need = in->nb_frag - got;
		out->verdict = ENGINE_VERDICT_SHORT;
		out->status.received = got;
		out->status.missing = need < 255 ? need : 255;
		return;
	}
	out->counter_running = in->sent == 0 || counter >= in->sent;
	if (out->counter_running && !in->final) {
		/* One more row tells: a counter that moves on was still counting. */
		out->verdict = ENGINE_VERDICT_SHORT;
		out->status.received = got;
		out->status.missing = 1;
		return;
	}
	out->verdict = ENGINE_VERDICT_DONE;
	out->inferred = a->missing_frag > 0 || out->counter_running;
}

void engine_status_judge(enum dev_stack stack, const struct engine_judge_in *in,
                         const struct frag_status_ans *a, struct engine_judgement *out)
{
	memset(out, 0, sizeof(*out));
	if (in->block_ok) {
		out->verdict = ENGINE_VERDICT_DONE;
		return;
	}
	if (a->session_not_exist) {
		out->verdict = ENGINE_VERDICT_NO_SESSION;
		return;
	}
	if (a->memory_error) {
		out->verdict = ENGINE_VERDICT_MEMORY;
		return;
	}
	if (stack == DEV_STACK_LORAMAC_NODE) {
		judge_loramac_node(in, a, out);
		return;
	}
	/* MICError means something only once the image is rebuilt (MissingFrag 0). */
	if (a->missing_frag == 0) {
		out->verdict = a->mic_error ? ENGINE_VERDICT_MIC_ERROR : ENGINE_VERDICT_DONE;
		return;
	}
	out->verdict = ENGINE_VERDICT_SHORT;
	out->status.received = a->nb_received;
	out->status.missing = a->missing_frag;
}

void engine_judgement_reason(const struct engine_judgement *j, char *out, size_t cap)
{
	switch (j->verdict) {
	case ENGINE_VERDICT_DONE: snprintf(out, cap, "%s", ""); break;
	case ENGINE_VERDICT_SHORT:
		snprintf(out, cap, "FragSessionStatusAns: %u fragments missing", j->status.missing);
		break;
	case ENGINE_VERDICT_MEMORY:
		snprintf(out, cap, "FragSessionStatusAns: NotEnoughMatrixMemory");
		break;
	case ENGINE_VERDICT_MIC_ERROR: snprintf(out, cap, "FragSessionStatusAns: MICError"); break;
	case ENGINE_VERDICT_NO_SESSION:
	default: snprintf(out, cap, "FragSessionStatusAns: SessionDoesNotExist"); break;
	}
}
