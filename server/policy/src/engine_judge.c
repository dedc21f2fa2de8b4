/* Judging a device from its FragSessionStatusAns (see fuota/engine_judge.h). */
#include <stdio.h>
#include <string.h>

#include "fuota/engine_judge.h"

static void short_of(uint32_t nb_frag, uint32_t got, struct engine_judgement *out)
{
	uint32_t need = got < nb_frag ? nb_frag - got : 1;

	out->verdict = ENGINE_VERDICT_SHORT;
	out->status.received = got;
	out->status.missing = need < 255 ? need : 255;
}

static void judge_loramac_node(const struct engine_judge_in *in, const struct frag_status_ans *a,
                               struct engine_judgement *out)
{
	uint32_t counter = a->nb_received, lost = a->missing_frag, got;

	/* MissingFrag saturates at 255 and counts only uncoded fragments before the counter: at
	 * most counter - 1 of them. */
	if (lost >= counter)
		lost = counter > 0 ? counter - 1 : 0;
	out->counter = counter;
	out->lost = lost;
	/* Frames 1..counter minus the uncoded ones lost: an upper bound, since lost parity frames
	 * are counted nowhere. */
	got = counter - lost;
	if (got < in->nb_frag) {
		short_of(in->nb_frag, got, out);
		return;
	}
	if (lost == 0) {
		/* Its walk over the counters before `counter` found no uncoded fragment lost, and
		 * counter >= M: it holds every one of them. Proven. */
		out->verdict = ENGINE_VERDICT_DONE;
		return;
	}
	out->counter_running = in->sent == 0 || counter >= in->sent;
	if (out->counter_running && !in->final) {
		/* One more row tells: a counter that moves on was still counting. */
		short_of(in->nb_frag, got, out);
		out->status.missing = 1;
		return;
	}
	/* A counter that stopped is a decoder that finished, or a device that heard nothing
	 * more (it left coverage): the answer cannot tell them apart. */
	out->verdict = ENGINE_VERDICT_UNCONFIRMED;
}

void engine_status_judge(enum dev_stack stack, const struct engine_judge_in *in,
                         const struct frag_status_ans *a, struct engine_judgement *out)
{
	memset(out, 0, sizeof(*out));
	out->sent = in->sent;
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
	if (a->missing_frag == 0 && a->mic_error) {
		out->verdict = ENGINE_VERDICT_MIC_ERROR;
		return;
	}
	/* MissingFrag 0 from a device that counts fewer than M fragments received is not a
	 * rebuilt image: a device that lost the last uncoded fragments and heard nothing since
	 * (LoRaMac-node-like counting under the TS004 reading) says just that. */
	if (a->missing_frag == 0 && a->nb_received >= in->nb_frag) {
		out->verdict = ENGINE_VERDICT_DONE;
		return;
	}
	short_of(in->nb_frag, a->nb_received, out);
	if (a->missing_frag > 0)
		out->status.missing = a->missing_frag;
}

void engine_judgement_reason(const struct engine_judgement *j, char *out, size_t cap)
{
	switch (j->verdict) {
	case ENGINE_VERDICT_DONE: snprintf(out, cap, "%s", ""); break;
	case ENGINE_VERDICT_SHORT:
		snprintf(out, cap, "FragSessionStatusAns: %u fragments missing", j->status.missing);
		break;
	case ENGINE_VERDICT_UNCONFIRMED:
		snprintf(out, cap,
		         "unconfirmed: FragSessionStatusAns (loramac-node) counter %u, %u uncoded "
		         "fragments lost, %u frames sent: it may have rebuilt the image or have "
		         "heard nothing more; its answer does not count lost parity",
		         j->counter, j->lost, j->sent);
		break;
	case ENGINE_VERDICT_MEMORY:
		snprintf(out, cap, "FragSessionStatusAns: NotEnoughMatrixMemory");
		break;
	case ENGINE_VERDICT_MIC_ERROR: snprintf(out, cap, "FragSessionStatusAns: MICError"); break;
	case ENGINE_VERDICT_NO_SESSION:
	default: snprintf(out, cap, "FragSessionStatusAns: SessionDoesNotExist"); break;
	}
}

const char *engine_verdict_words(const struct engine_judgement *j, bool block_ok)
{
	switch (j->verdict) {
	case ENGINE_VERDICT_DONE: return block_ok ? "done (block reported)" : "done";
	case ENGINE_VERDICT_UNCONFIRMED:
		return "probably done, unconfirmed (its counter stopped; lost parity is not in its "
		       "answer)";
	case ENGINE_VERDICT_SHORT: return "short";
	case ENGINE_VERDICT_MEMORY: return "memory error";
	case ENGINE_VERDICT_MIC_ERROR: return "MIC error";
	case ENGINE_VERDICT_NO_SESSION:
	default: return "no session";
	}
}
