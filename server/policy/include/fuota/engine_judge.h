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
	 * a lossless session). Only the device's own report: a round's answer that judged it done
	 * is no proof a later answer cannot overturn. */
	bool block_ok;
	/* After the session (no more rows to come), rather than in a round of it. */
	bool final;
};

enum engine_verdict {
	ENGINE_VERDICT_DONE,        /* the answer (or a block report) proves the image is there */
	ENGINE_VERDICT_SHORT,       /* still misses fragments: `status` says how many */
	ENGINE_VERDICT_UNCONFIRMED, /* may have it, the answer cannot prove it (LoRaMac-node) */
	ENGINE_VERDICT_MEMORY,      /* Status bit 0: the decoder ran out of matrix memory */
	ENGINE_VERDICT_MIC_ERROR,   /* v2: rebuilt, but the data-block MIC does not match */
	ENGINE_VERDICT_NO_SESSION,  /* v2: SessionDoesNotExist */
};

struct engine_judgement {
	enum engine_verdict verdict;
	/* LoRaMac-node: its counter stands at the last frame sent (or frames sent unknown): it
	 * may still be counting. */
	bool counter_running;
	/* LoRaMac-node: its counter and the uncoded fragments it lost (MissingFrag, at most
	 * counter - 1); the frames sent when it was asked (0: unknown). For the reason text. */
	uint32_t counter, lost, sent;
	/* SHORT: the answer in the TS004 reading (what engine_status_need and the rounds expect):
	 * received = fragments the device can have at most, missing = rows it needs (<= 255). */
	struct engine_status status;
};

/* Judges answer a of a device of `stack` (see struct engine_judge_in).
 *
 * TS004 reading (ts004, lbm): MissingFrag 0 is done only with NbFragReceived >= M (a device
 * that counts fewer has not rebuilt anything); MICError counts with MissingFrag 0.
 *
 * LoRaMac-node: NbFragReceived c is the last fragment counter its decoder saw (it stops counting
 * once the image is rebuilt), MissingFrag L the uncoded fragments it lost before c. Lost parity
 * frames are counted nowhere, so c - L is only an upper bound of the frames it holds: below M
 * it is short of M - (c - L) rows. L = 0 with c >= M proves every uncoded fragment arrived:
 * done. With L > 0 and c - L >= M the answer proves nothing: a decoder that finished stops its
 * counter, and so does a device that left coverage (M = 10, 20 frames sent, frames 5-7 and
 * 12-14 lost, nothing after 15: c = 15, L = 3, and only 9 frames held). In a round, a counter at
 * the last frame sent may still be counting: short of one row (the next round tells); else
 * UNCONFIRMED: no more rows help it, but nothing shows it has the image. MissingFrag 0 with
 * c < M is a device that lost the last uncoded fragments: short. */
void engine_status_judge(enum dev_stack stack, const struct engine_judge_in *in,
                         const struct frag_status_ans *a, struct engine_judgement *out);

/* The judgement's words for a device's failure_reason, e.g. "FragSessionStatusAns: 3
 * fragments missing" (DONE: ""). Writes at most cap bytes, NUL-terminated. */
void engine_judgement_reason(const struct engine_judgement *j, char *out, size_t cap);

/* The verdict in a few words for the device's last_answer "judged" (block_ok: done because the
 * device reported its block). A static string. */
const char *engine_verdict_words(const struct engine_judgement *j, bool block_ok);

#endif
