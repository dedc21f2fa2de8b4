/* Splitting an image into parts (see fuota/plan_parts.h). */
#include "fuota/plan_parts.h"

#include <string.h>

#include "fuota/dev_stack.h"
#include "fuota/err.h"
#include "fuota/frag_part.h"
#include "fuota/plan.h"

unsigned plan_part_parity(unsigned m, int redundancy_frames, int redundancy_percent)
{
	if (redundancy_frames >= 0)
		return (unsigned)redundancy_frames;
	if (redundancy_percent < 0)
		return 0;
	return (unsigned)(((uint64_t)m * (unsigned)redundancy_percent + 99) / 100);
}

/* The most fragments a part may have so that it and its parity fit one session (0: none). */
static uint64_t part_frags_max(const struct plan_split_in *in)
{
	uint64_t f;

	if (in->redundancy_frames >= 0)
		return (uint64_t)in->redundancy_frames >= PLAN_MAX_FRAMES
		               ? 0
		               : PLAN_MAX_FRAMES - (uint64_t)in->redundancy_frames;
	f = in->redundancy_percent > 0
	            ? (uint64_t)PLAN_MAX_FRAMES * 100 / (100u + (unsigned)in->redundancy_percent)
	            : PLAN_MAX_FRAMES;
	/* The parity rounds up: step down until fragments and parity fit. */
	while (f > 0 &&
	       f + plan_part_parity((unsigned)f, -1, in->redundancy_percent) > PLAN_MAX_FRAMES)
		f--;
	return f;
}

int plan_split(const struct plan_split_in *in, struct plan_split *out, struct api_error *e)
{
	const char *img = in->img_field && in->img_field[0] ? in->img_field : "firmware_id";
	uint64_t fmax = part_frags_max(in), parts, f;
	bool by_devices = false;

	memset(out, 0, sizeof(*out));
	if (in->nb_frag == 0)
		return api_error_field(e, img, "the firmware image is empty");
	if (fmax == 0)
		return api_error_field(e, "redundancy_frames",
		                       "%d parity frames leave no room for fragments in the %u "
		                       "frames of a fragmentation session",
		                       in->redundancy_frames, PLAN_MAX_FRAMES);
	if (in->frag_limit > 0 && in->frag_limit < fmax) {
		fmax = in->frag_limit;
		by_devices = true;
	}
	parts = (in->nb_frag + fmax - 1) / fmax;
	if (parts > FRAG_PART_MAX_PARTS)
		return api_error_field(
		        e, by_devices ? "devices" : img,
		        "the image needs %llu fragments: %llu parts of at most %llu fragments "
		        "(%s), more than the %u parts a job carries: %s",
		        (unsigned long long)in->nb_frag, (unsigned long long)parts,
		        (unsigned long long)fmax,
		        by_devices ? "the smallest max_frags of the job's devices"
		                   : "fragments and parity within one session",
		        FRAG_PART_MAX_PARTS,
		        by_devices ? "leave out the devices with the smallest max_frags"
		                   : "choose a faster data rate or a smaller image");
	/* Even parts; with the fewest parts the last one is never empty (ceil(M / F) = P). */
	f = (in->nb_frag + parts - 1) / parts;
	parts = (in->nb_frag + f - 1) / f;
	out->parts = (unsigned)parts;
	out->part_frags = (unsigned)f;
	out->last_frags = (unsigned)(in->nb_frag - (parts - 1) * f);
	out->part_parity =
	        plan_part_parity(out->part_frags, in->redundancy_frames, in->redundancy_percent);
	out->last_parity =
	        plan_part_parity(out->last_frags, in->redundancy_frames, in->redundancy_percent);
	out->parity = (parts - 1) * (uint64_t)out->part_parity + out->last_parity;
	return FUOTA_OK;
}

unsigned plan_part_frags(const struct plan_split *s, unsigned k)
{
	return k + 1 < s->parts ? s->part_frags : s->last_frags;
}

int plan_part_at(uint64_t nb, unsigned padding, unsigned parts, unsigned part_frags, unsigned k,
                 uint32_t *nb_k, uint32_t *pad_k)
{
	*nb_k = 0;
	*pad_k = 0;
	if (parts <= 1) {
		if (k > 0 || nb > UINT32_MAX)
			return FUOTA_ERR_INVALID_ARG;
		*nb_k = (uint32_t)nb;
		*pad_k = padding;
		return FUOTA_OK;
	}
	if (part_frags == 0 || parts > FRAG_PART_MAX_PARTS || k >= parts ||
	    (uint64_t)(parts - 1) * part_frags >= nb || (uint64_t)parts * part_frags < nb)
		return FUOTA_ERR_INVALID_ARG;
	if (k + 1 < parts) {
		*nb_k = part_frags;
		return FUOTA_OK;
	}
	*nb_k = (uint32_t)(nb - (uint64_t)(parts - 1) * part_frags);
	*pad_k = padding;
	return FUOTA_OK;
}

bool plan_stack_takes_parts(const char *stack)
{
	enum dev_stack st = DEV_STACK_TS004;

	if (dev_stack_parse(stack, &st) != 0)
		return true;
	return st == DEV_STACK_TS004;
}

uint32_t plan_part_limit(uint32_t cur, const char *stack, int64_t max_frags)
{
	uint32_t lim;

	if (!plan_stack_takes_parts(stack) || max_frags <= 0)
		return cur;
	lim = max_frags > UINT32_MAX ? UINT32_MAX : (uint32_t)max_frags;
	return cur == 0 || lim < cur ? lim : cur;
}
