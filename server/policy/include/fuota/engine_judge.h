/* How the job engine judges a device from its FragSessionStatusAns, by the device's stack
 * (fuota/dev_stack.h, issue 16). Pure: no I/O, no allocation. */
#ifndef FUOTA_ENGINE_JUDGE_H
#define FUOTA_ENGINE_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "fuota/dev_stack.h"
#include "fuota/engine_calc.h"
#include "fuota/frag_cmd.h"

/* What fuotad knows beside the answer. */
struct engine_judge_in {
	uint32_t nb_frag; /* M, the session's uncoded fragments */
	uint32_t sent;    /* frames of the session sent when it was asked (0: unknown) */
	/* The device (TS004 v2) reported FragDataBlockReceivedReq without MICError: it has the
	 * image, and no later answer says otherwise (LoRa Basics Modem's MissingFrag stays 1 after
	 * a lossless session). */
	bool block_ok;
	/* After the session (no more rows to come), rather than in a round of it. */
	bool final;
};

enum engine_verdict {
	ENGINE_VERDICT_DONE,       /* has the image, or at least is not provably short */
	ENGINE_VERDICT_SHORT,      /* still misses fragments: `status` says how many */
	ENGINE_VERDICT_MEMORY,     /* Status bit 0: the decoder ran out of matrix memory */
	ENGINE_VERDICT_MIC_ERROR,  /* v2: rebuilt, but the data-block MIC does not match */
	ENGINE_VERDICT_NO_SESSION, /* v2: SessionDoesNotExist */
};

struct engine_judgement {
	enum engine_verdict verdict;
	/* DONE inferred from the frames sent rather than reported (LoRaMac-node's MissingFrag
	 * stays above 0 once parity rebuilt the lost fragments); with counter_running, its
	 * counter stands at the last frame sent: not provably short, not provably done. */
	bool inferred;
	bool counter_running;
	/* SHORT: the answer in the TS004 reading (what engine_status_need and the rounds expect):
	 * received = fragments the device can have at most, missing = rows it needs (<= 255). */
	struct engine_status status;
};

/* Judges answer a of a device of `stack` (see struct engine_judge_in).
 *
 * LoRaMac-node: NbFragReceived c is the last fragment counter its decoder saw (it stops counting
 * once the image is rebuilt), MissingFrag L the uncoded fragments it lost before c. It holds at
 * most c - L of the frames 1..c: below M it is short of M - (c - L) rows. At M or more the frames
 * could have filled every gap: with c below the frames sent, the counter stopped before the last
 * one, as it does once the image is rebuilt (done, inferred); at the last frame sent, it may
 * still be counting: in a round it needs one more row (the next round tells), after the session
 * it is not provably short (done, inferred). MissingFrag 0 with c < M is a device that lost the
 * last uncoded fragments: short, where the TS004 reading would call it done. */
void engine_status_judge(enum dev_stack stack, const struct engine_judge_in *in,
                         const struct frag_status_ans *a, struct engine_judgement *out);

/* The judgement's words for a device's failure_reason, e.g. "FragSessionStatusAns: 3
 * fragments missing" (DONE: ""). Writes at most cap bytes, NUL-terminated. */
void engine_judgement_reason(const struct engine_judgement *j, char *out, size_t cap);

#endif
