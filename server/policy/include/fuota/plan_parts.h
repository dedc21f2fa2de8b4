/* An image over several fragmentation sessions ("parts", issue 14): how many parts, how many
 * fragments each and how much parity. Each part is a TS004 session of its own whose
 * FragSessionSetupReq Descriptor says which part it is (fuota/frag_part.h). Pure, no I/O.
 *
 * The split: P is the fewest parts such that every part's uncoded fragments M_k plus its parity
 * R_k fit the 16383 frames of a session, and M_k is at most the smallest fragment limit among
 * the job's devices that take parts. The device limit bounds M_k, not M_k + R_k: a device's
 * limit (max_frags, LBM's FRAG_MAX_NB) is the uncoded fragments it holds, parity frames only
 * update its decoder, which is how the engine has always compared it (engine_dev.c, the
 * session's nb_frag against dev_stack_frag_limit). F = ceil(M / P): every part but the last
 * has F fragments, the last the rest (M - (P - 1) F, at least 1). Redundancy is per part:
 * redundancy_frames parity frames in every part, or redundancy_percent of each part's own
 * fragments. A single part (P = 1) is the whole image in one session as before. */
#ifndef FUOTA_PLAN_PARTS_H
#define FUOTA_PLAN_PARTS_H

#include <stdbool.h>
#include <stdint.h>

#include "fuota/api_error.h"

struct plan_split_in {
	uint64_t nb_frag;       /* M: the whole image's fragments, >= 1 */
	int redundancy_frames;  /* parity frames of every part, -1 unless given */
	int redundancy_percent; /* or % of each part's fragments (rounded up), -1 unless given */
	uint32_t frag_limit;    /* the most fragments a part may have (devices), 0: no limit */
	const char *img_field;  /* the request field naming the image, for errors */
};

struct plan_split {
	unsigned parts;       /* P, 1..255 */
	unsigned part_frags;  /* F: fragments of every part but the last (M when P = 1) */
	unsigned last_frags;  /* fragments of the last part */
	unsigned part_parity; /* parity frames of a part of F fragments */
	unsigned last_parity; /* parity frames of the last part */
	uint64_t parity;      /* every part's parity frames together */
};

/* Parity frames of a part of m fragments: redundancy_frames when given (>= 0), else
 * ceil(m * redundancy_percent / 100) (0 when neither is given). */
unsigned plan_part_parity(unsigned m, int redundancy_frames, int redundancy_percent);

/* Splits in->nb_frag fragments into parts. FUOTA_OK, or FUOTA_ERR_INVALID_ARG with e naming the
 * field when no split works: parity alone fills a session ("redundancy_frames"), or more than
 * 255 parts would be needed (in->img_field, or "devices" when their limit made it so). */
int plan_split(const struct plan_split_in *in, struct plan_split *out, struct api_error *e);

/* Fragments of part k (0-based) of split s. */
unsigned plan_part_frags(const struct plan_split *s, unsigned k);

/* Part k (0-based) of an image of nb fragments whose last fragment carries padding bytes, split
 * into `parts` parts of part_frags (as the plan's parts and part_fragments say): its fragments
 * *nb_k and padding *pad_k (0 but in the last part). parts <= 1 is the whole image. FUOTA_OK, or
 * FUOTA_ERR_INVALID_ARG when the split does not fit the image (k out of range, more or fewer
 * fragments than parts of part_frags hold, a last part left empty). */
int plan_part_at(uint64_t nb, unsigned padding, unsigned parts, unsigned part_frags, unsigned k,
                 uint32_t *nb_k, uint32_t *pad_k);

/* Whether a device of `stack` ("ts004", "loramac-node", "lbm"; NULL: ts004) takes an image in
 * parts. LoRaMac-node's and LoRa Basics Modem's own applications ignore the Descriptor and would
 * write every part over the first, so a device declared with those stacks is taken not to: an
 * operator whose application on such a stack assembles parts by the Descriptor declares the
 * device "ts004" (and its max_frags). Unknown names read as ts004. */
bool plan_stack_takes_parts(const char *stack);

/* The smallest fragment limit so far (cur, 0: none) with a device of stack and max_frags (0:
 * unknown) counted: only devices that take parts and whose max_frags is known bound the parts
 * (the others either have no limit known or cannot take parts at all, and a limit of theirs
 * must not split the image for everyone). */
uint32_t plan_part_limit(uint32_t cur, const char *stack, int64_t max_frags);

#endif
