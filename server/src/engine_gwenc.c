/* The runner's gateway table (engine_gwenc.h). */
#include "engine_gwenc.h"

#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"

#define TABLE_MIN 64

static uint64_t id_hash(const char *s)
{
	uint64_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static struct engine_gwenc_entry *slot_of(struct engine_gwenc_entry *slots, size_t cap,
                                          const char *id, uint64_t *probes)
{
	size_t i = (size_t)id_hash(id) & (cap - 1);

	(*probes)++;
	while (slots[i].id[0] && strcmp(slots[i].id, id) != 0) {
		i = (i + 1) & (cap - 1);
		(*probes)++;
	}
	return &slots[i];
}

static int grow(struct engine_gwenc *t)
{
	size_t cap = t->cap ? t->cap * 2 : TABLE_MIN;
	struct engine_gwenc_entry *slots = calloc(cap, sizeof(*slots));
	uint64_t unused = 0;

	if (!slots)
		return FUOTA_ERR_NO_MEMORY;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].id[0])
			*slot_of(slots, cap, t->slots[i].id, &unused) = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return FUOTA_OK;
}

struct engine_gwenc_entry *engine_gwenc_get(struct engine_gwenc *t, const char *id, bool create)
{
	struct engine_gwenc_entry *g;
	size_t len = strlen(id);

	if (len == 0 || len >= CS_EUI_LEN)
		return NULL;
	if (t->cap == 0 && (!create || grow(t) != FUOTA_OK))
		return NULL;
	g = slot_of(t->slots, t->cap, id, &t->probes);
	if (g->id[0] || !create)
		return g->id[0] ? g : NULL;
	if ((t->n + 1) * 2 > t->cap) {
		if (grow(t) != FUOTA_OK)
			return NULL;
		g = slot_of(t->slots, t->cap, id, &t->probes);
	}
	memset(g, 0, sizeof(*g));
	memcpy(g->id, id, len + 1);
	t->n++;
	return g;
}

void engine_gwenc_free(struct engine_gwenc *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
