/* The engine's instance id and its lock (engine_instance.c), for engine_mqtt.c's runner. */
#ifndef FUOTA_ENGINE_INSTANCE_H
#define FUOTA_ENGINE_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/engine.h"
#include "fuota/ilock.h"
#include "fuota/store_lock.h"

struct cfg;

struct engine_instance {
	struct store_lock *lock; /* NULL: none (not watched) */
	char id[64];
	int64_t checked_ms; /* the last query over the lock's connection */
	struct ilock st;    /* st.refused: another process holds the id now */
};

/* This fuotad's instance id into id (cap bytes) and its lock (*lock, owned by the caller):
 * FUOTA_OK, FUOTA_ERR_CONFLICT (a configured id another running fuotad holds: logged) or
 * FUOTA_ERR_IO (no database: logged). */
int engine_instance_claim(const struct cfg *c, char *id, size_t cap, struct store_lock **lock);

/* Looks at the lock at every loop of the runner (fuota/ilock.h) and sets e's lease fence.
 * Returns whether the engine may claim, tick and handle messages now. */
bool engine_instance_watch(struct engine_instance *in, struct engine *e, int64_t now_ms);

/* The wait of a paused loop (ILOCK_RETRY_MS). */
void engine_instance_pause(void);

#endif
