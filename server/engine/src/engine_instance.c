/* fuotad's engine instance: the fence of the engine's lease writes (struct seng_lease). */
#include <pthread.h>

#include "engine_int.h"
#include "fuota/engine.h"

void engine_set_lock_pid(struct engine *e, int pid)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->lock_pid = pid;
	pthread_mutex_unlock(&e->lock);
}

struct seng_lease engine_lease(const struct engine *e)
{
	struct seng_lease who = {e->cfg.instance_id, e->lock_pid};

	return who;
}
