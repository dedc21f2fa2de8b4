/* The part Descriptor of an image carried over several fragmentation sessions (frag_part.h). */
#include "fuota/frag_part.h"

#include <stddef.h>

#include "fuota/err.h"

static bool part_valid(const struct frag_part *p)
{
	if (p->count == 0)
		return p->index == 0 && p->full_frags == 0;
	return p->index < p->count && p->full_frags >= 1 && p->full_frags <= FRAG_PART_MAX_FRAGS;
}

int frag_part_encode(const struct frag_part *p, uint8_t desc[FRAG_PART_DESC_LEN])
{
	if (!p || !desc || !part_valid(p))
		return FUOTA_ERR_INVALID_ARG;
	desc[0] = p->index;
	desc[1] = p->count;
	desc[2] = (uint8_t)(p->full_frags & 0xffu);
	desc[3] = (uint8_t)(p->full_frags >> 8);
	return FUOTA_OK;
}

int frag_part_decode(const uint8_t desc[FRAG_PART_DESC_LEN], struct frag_part *p)
{
	struct frag_part q;

	if (!desc || !p)
		return FUOTA_ERR_INVALID_ARG;
	q.index = desc[0];
	q.count = desc[1];
	q.full_frags = (uint16_t)(desc[2] | (unsigned)desc[3] << 8);
	if (!part_valid(&q))
		return FUOTA_ERR_MALFORMED;
	*p = q;
	return FUOTA_OK;
}

uint64_t frag_part_offset(const struct frag_part *p, unsigned frag_size)
{
	return (uint64_t)p->index * p->full_frags * frag_size;
}

bool frag_part_is_last(const struct frag_part *p)
{
	return p->count == 0 || p->index + 1u == p->count;
}
