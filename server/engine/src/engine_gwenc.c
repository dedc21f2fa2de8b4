/* The runner's gateway table (engine_gwenc.h). */
#include "engine_gwenc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "engine_hash.h"
#include "fuota/err.h"

#define TABLE_MIN 64

/* engine_hash.h keys a record by its first member. */
_Static_assert(offsetof(struct engine_gwenc_entry, id) == 0, "id first");

static struct engine_gwenc_entry *slot_of(struct engine_gwenc *t, const char *id)
{
	return engine_hash_slot(t->slots, t->cap, sizeof(*t->slots), id, &t->probes);
}

static int grow(struct engine_gwenc *t)
{
	size_t cap = t->cap ? t->cap * 2 : TABLE_MIN;
	struct engine_gwenc_entry *slots =
	        engine_hash_rehash(t->slots, t->cap, cap, sizeof(*slots));

	if (!slots)
		return FUOTA_ERR_NO_MEMORY;
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
	g = slot_of(t, id);
	if (g->id[0] || !create)
		return g->id[0] ? g : NULL;
	if ((t->n + 1) * 2 > t->cap) {
		if (grow(t) != FUOTA_OK)
			return NULL;
		g = slot_of(t, id);
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
