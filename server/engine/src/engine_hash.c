/* The engine's open-addressing tables (engine_hash.h). */
#include "engine_hash.h"

#include "fuota/hash.h"

#include <stdlib.h>
#include <string.h>

size_t engine_hash_home(const char *key, size_t cap)
{
	return (size_t)fuota_hash_str(key) & (cap - 1);
}

void *engine_hash_slot(void *slots, size_t cap, size_t size, const char *key, uint64_t *probes)
{
	size_t i = engine_hash_home(key, cap), n = 1;
	char *rec = (char *)slots + i * size;

	while (rec[0] && strcmp(rec, key) != 0) {
		i = (i + 1) & (cap - 1);
		rec = (char *)slots + i * size;
		n++;
	}
	if (probes)
		*probes += n;
	return rec;
}

void *engine_hash_rehash(const void *slots, size_t cap, size_t new_cap, size_t size)
{
	char *fresh = calloc(new_cap, size);

	for (size_t i = 0; fresh && i < cap; i++) {
		const char *rec = (const char *)slots + i * size;

		if (rec[0])
			memcpy(engine_hash_slot(fresh, new_cap, size, rec, NULL), rec, size);
	}
	return fresh;
}
