/* The deletes a job sends without waiting for their answers (engine_dev_cleanup_once: a cancelled
 * job's devices, the devices that failed after their group was set up), paced.
 *
 * At the clean-up of a 100,000-device job every device had failed, and its FragSessionDeleteReq
 * and McGroupDeleteReq went out in one tick: 200,000 publishes into an MQTT outbox of 10,000,
 * and 164,464 of them were refused ("buffer too small"), each a device left holding its group.
 * They now wait in this queue, in the order they were asked for, and each tick hands out at most
 * engine_delq_budget of them: none while the engine's backlog (inbound messages and the outbox)
 * is above ENGINE_BACKLOG_PAUSE, so the answers and the requests already made go first. A
 * publish refused all the same (the outbox full, the broker away) stays at the head of the
 * queue for the next tick; only a request that cannot be encoded is dropped. The queue lives in
 * this engine's memory: what is left of it at shutdown is logged as not sent. */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "fuota/err.h"
#include "fuota/frag_cmd.h"
#include "fuota/log.h"
#include "fuota/mc.h"

size_t engine_delq_budget(size_t backlog, size_t pending)
{
	size_t room;

	if (backlog >= ENGINE_BACKLOG_PAUSE)
		return 0;
	room = ENGINE_BACKLOG_PAUSE - backlog;
	if (room > ENGINE_DELQ_PER_TICK)
		room = ENGINE_DELQ_PER_TICK;
	return pending < room ? pending : room;
}

int engine_delq_push(struct engine *e, const char *application_id, const char *dev_eui,
                     int frag_index)
{
	struct engine_delq *q = &e->delq;
	struct engine_del *d;

	if (q->head > 0 && q->n == q->cap) { /* the sent ones' room first */
		memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof(*q->v));
		q->n -= q->head;
		q->head = 0;
	}
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 256;
		struct engine_del *p = realloc(q->v, cap * sizeof(*p));

		if (!p)
			return FUOTA_ERR_NO_MEMORY;
		q->v = p;
		q->cap = cap;
	}
	d = &q->v[q->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->application_id, sizeof(d->application_id), "%s", application_id);
	snprintf(d->dev_eui, sizeof(d->dev_eui), "%s", dev_eui);
	d->frag_index = (uint8_t)(frag_index & 0x03);
	return FUOTA_OK;
}

size_t engine_delq_pending(const struct engine *e)
{
	return e->delq.n - e->delq.head;
}

/* One device's two requests, those not out yet. FUOTA_ERR_NO_SPACE (or another refusal): try
 * again later; FUOTA_OK: both out, or one that can never go (an application id unusable in a
 * topic, logged by engine_unicast). */
static int del_send(struct engine *e, struct engine_del *d)
{
	/* FragSessionDeleteReq Param: bits 1..0 FragIndex, the device's own session. */
	uint8_t frag_del[2] = {FRAG_CID_SESSION_DELETE, d->frag_index};
	uint8_t mc_del[2] = {MC_CID_GROUP_DELETE, 0x00};
	int rc;

	if (!(d->sent & 1)) {
		rc = engine_unicast(e, d->application_id, d->dev_eui, e->cfg.port_frag, frag_del,
		                    sizeof(frag_del));
		if (rc != FUOTA_OK && rc != FUOTA_ERR_INVALID_ARG)
			return rc;
		d->sent |= 1;
	}
	rc = engine_unicast(e, d->application_id, d->dev_eui, e->cfg.port_mc, mc_del,
	                    sizeof(mc_del));
	if (rc != FUOTA_OK && rc != FUOTA_ERR_INVALID_ARG)
		return rc;
	d->sent |= 2;
	return FUOTA_OK;
}

void engine_delq_run(struct engine *e, int64_t now_ms, int64_t *next_due)
{
	struct engine_delq *q = &e->delq;
	size_t budget = engine_delq_budget(e->backlog, engine_delq_pending(e)), sent = 0;
	int64_t at;

	while (sent < budget && q->head < q->n) {
		if (del_send(e, &q->v[q->head]) != FUOTA_OK)
			break; /* refused: it stays first, for the next tick */
		q->head++;
		sent++;
	}
	if (q->head == q->n) {
		q->head = q->n = 0;
		return;
	}
	/* More to send: at once when the budget ran out, later when the backlog or the client
	 * held them back. */
	at = now_ms + (budget > 0 && sent == budget ? 0 : ENGINE_DELQ_RETRY_MS);
	if (next_due && at < *next_due)
		*next_due = at;
}

void engine_delq_free(struct engine *e)
{
	size_t left = engine_delq_pending(e);

	if (left > 0)
		log_msg(LOG_LVL_WARN,
		        "engine: %zu devices' deletes (FragSessionDeleteReq, "
		        "McGroupDeleteReq) not sent before the engine stopped",
		        left);
	free(e->delq.v);
	memset(&e->delq, 0, sizeof(e->delq));
}
