/* The engine runner's table of gateways (engine_mqtt.c): per gateway, the encoding it speaks and
 * what the runner knows of it, found by a hash of its id (engine_hash.h: open addressing, linear
 * probing, kept at most half full), so that a fleet of thousands of gateways costs one or two
 * probes per ack, stats message or frame. Entries are never removed (one per gateway that
 * published or was sent a frame, 56 bytes each, in a table kept a quarter to half full).
 * Single-threaded: the runner thread only. */
#ifndef FUOTA_ENGINE_GWENC_H
#define FUOTA_ENGINE_GWENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/cs_msg.h"

struct engine_gwenc_entry {
	char id[CS_EUI_LEN]; /* 16 lower-case hex digits; "" : a free slot */
	bool json, known, stored;
	int64_t checked_ms;
	uint64_t stored_in; /* the batch item that stored it (runner item_seq) */
	/* Unreadable messages on its topics: the last time one was logged, and how many came
	 * since then (logged at most once a minute). */
	int64_t garbage_logged_ms;
	uint32_t garbage;
};

struct engine_gwenc {
	struct engine_gwenc_entry *slots; /* cap slots, cap a power of two (or 0) */
	size_t cap, n;
	uint64_t probes; /* slots looked at by every lookup so far (what the test measures) */
};

/* The entry of gateway id; when absent, a new zeroed one if create (the table may move: an
 * entry pointer is good until the next call with create), else NULL. NULL too for an id that
 * is empty or too long, and when out of memory. */
struct engine_gwenc_entry *engine_gwenc_get(struct engine_gwenc *t, const char *id, bool create);

/* Frees the slots; the table is empty and usable again. */
void engine_gwenc_free(struct engine_gwenc *t);

#endif
