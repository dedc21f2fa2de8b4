/* The engine's hash tables (engine_seen.c: the devices heard; engine_gwenc.c: the runner's
 * gateways) share one hash and one probe loop: open addressing with linear probing over cap
 * records of `size` bytes (cap a power of two), each record keyed by the NUL-terminated string
 * that is its first member, "" marking a free slot. The owners keep their tables at most half
 * full, so that a lookup looks at one or two slots. */
#ifndef FUOTA_ENGINE_HASH_H
#define FUOTA_ENGINE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The home slot of key in a table of cap slots (FNV-1a over its bytes). */
size_t engine_hash_home(const char *key, size_t cap);

/* The record of key in slots, or the free slot where it would go; the table has one free slot
 * at least. probes (NULL: not counted) is incremented by the slots looked at. */
void *engine_hash_slot(void *slots, size_t cap, size_t size, const char *key, uint64_t *probes);

/* new_cap new slots (calloc'd, the caller's) holding the records of slots (cap of them, none
 * when 0), which stay as they were; NULL when out of memory. */
void *engine_hash_rehash(const void *slots, size_t cap, size_t new_cap, size_t size);

#endif
