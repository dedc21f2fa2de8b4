/* FNV-1a (64-bit) over a NUL-terminated string: the one string hash of the project's in-memory
 * tables (the engine's device and gateway tables, the store's prepared statements). Not for
 * anything an attacker could choose to collide on at scale. */
#ifndef FUOTA_HASH_H
#define FUOTA_HASH_H

#include <stdint.h>

static inline uint64_t fuota_hash_str(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

#endif
