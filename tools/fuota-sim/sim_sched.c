/* The uplink schedule of the fleet (sim_sched.h): a binary min-heap on at_ms. */
#include "sim_sched.h"

#include <stdlib.h>

#include "fuota/err.h"

int sim_sched_init(struct sim_sched *h, size_t cap)
{
	h->n = 0;
	h->cap = 0;
	h->e = calloc(cap ? cap : 1, sizeof(*h->e));
	if (!h->e)
		return FUOTA_ERR_NO_MEMORY;
	h->cap = cap;
	return FUOTA_OK;
}

void sim_sched_free(struct sim_sched *h)
{
	if (!h)
		return;
	free(h->e);
	h->e = NULL;
	h->n = h->cap = 0;
}

int sim_sched_push(struct sim_sched *h, uint32_t idx, int64_t at_ms)
{
	size_t i = h->n;

	if (h->n >= h->cap)
		return FUOTA_ERR_NO_SPACE;
	h->n++;
	/* Up from the new leaf while the parent is later. */
	while (i > 0 && h->e[(i - 1) / 2].at_ms > at_ms) {
		h->e[i] = h->e[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->e[i].at_ms = at_ms;
	h->e[i].idx = idx;
	return FUOTA_OK;
}

bool sim_sched_peek(const struct sim_sched *h, uint32_t *idx, int64_t *at_ms)
{
	if (h->n == 0)
		return false;
	*idx = h->e[0].idx;
	*at_ms = h->e[0].at_ms;
	return true;
}

void sim_sched_pop(struct sim_sched *h)
{
	struct sim_sched_entry last;
	size_t i = 0;

	if (h->n == 0)
		return;
	last = h->e[--h->n];
	/* The last leaf goes down from the root while a child is earlier. */
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->e[c + 1].at_ms < h->e[c].at_ms)
			c++;
		if (h->e[c].at_ms >= last.at_ms)
			break;
		h->e[i] = h->e[c];
		i = c;
	}
	if (h->n > 0)
		h->e[i] = last;
}
