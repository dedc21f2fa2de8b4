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
 * queue for the next tick; only a request that cannot be encoded is dropped.
 *
 * The queue lives in this engine's memory, and at 100,000 devices it takes minutes to drain: a
 * fuotad killed meanwhile would leave devices holding a session and a group the server has
 * forgotten. So the database keeps the debt: job_device.deletes_pending is set by the
 * statement that picks the devices (seng_devs_with_group; for the failed ones, in the phase
 * change to cleanup too), cleared once the broker acknowledged both requests of a device,
 * and the first tick of an engine queues the rows still set (engine_delq_reload). Accepted by
 * the client is not enough: a publish waits in its outbox (paho async, QoS 1) until the broker
 * acknowledged it, and a SIGKILL loses the outbox. So each device keeps the outbox's sequence
 * number of its last delete, and its row is cleared once the client says every message up to
 * that number was acknowledged (engine_outbox_acked, from mqtt_status.acked_seq, which the MQTT
 * runner reads at every loop): under steady traffic too, when the outbox is never empty. A
 * device may get its deletes twice after a crash, never none. A clean stop waits a little for
 * the last ones to be acknowledged (engine_outbox_owed_seq); what is left then is logged, and
 * sent after the next start. */
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

int engine_delq_push(struct engine *e, int64_t job_id, const char *application_id,
                     const char *dev_eui, int frag_index)
{
	struct engine_delq *q = &e->delq;
	struct engine_del *d;

	if (q->done > 0 && q->n == q->cap) { /* the cleared ones' room first */
		memmove(q->v, q->v + q->done, (q->n - q->done) * sizeof(*q->v));
		q->n -= q->done;
		q->head -= q->done;
		q->done = 0;
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
	d->job_id = job_id;
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
		if (rc == FUOTA_OK)
			d->seq = e->pub_seq;
		d->sent |= 1;
	}
	rc = engine_unicast(e, d->application_id, d->dev_eui, e->cfg.port_mc, mc_del,
	                    sizeof(mc_del));
	if (rc != FUOTA_OK && rc != FUOTA_ERR_INVALID_ARG)
		return rc;
	if (rc == FUOTA_OK)
		d->seq = e->pub_seq;
	d->sent |= 2;
	return FUOTA_OK;
}

/* The rows of v[from..to), both their deletes acknowledged, no longer owe them. */
static void del_cleared(struct engine *e, size_t from, size_t to)
{
	size_t n = to - from;
	int64_t *jids;
	char(*euis)[SENG_EUI_LEN];
	int rc = FUOTA_ERR_NO_MEMORY;

	if (!e->store || n == 0)
		return;
	jids = calloc(n, sizeof(*jids));
	euis = calloc(n, sizeof(*euis));
	if (jids && euis) {
		for (size_t i = 0; i < n; i++) {
			jids[i] = e->delq.v[from + i].job_id;
			memcpy(euis[i], e->delq.v[from + i].dev_eui, SENG_EUI_LEN);
		}
		rc = seng_deletes_sent(e->store, jids, (const char(*)[SENG_EUI_LEN])euis, n);
	}
	if (rc != FUOTA_OK)
		log_msg(LOG_LVL_WARN,
		        "engine: %zu devices' deletes sent but still marked owed (%s): sent again "
		        "after a restart",
		        n, fuota_strerror(rc));
	free(jids);
	free(euis);
}

void engine_dev_cleanup_once(struct engine *e, const struct seng_dev *d)
{
	if (engine_delq_push(e, d->job_id, d->application_id, d->dev_eui, d->frag_index) !=
	    FUOTA_OK)
		log_msg(LOG_LVL_WARN, "job %lld device %s: no memory for its deletes",
		        (long long)d->job_id, d->dev_eui);
	/* It held the group the job reused: not any more (its answer is not waited for). */
	if (d->mc_reused && seng_mc_keep(e->store, d->dev_eui, 0, 0) != FUOTA_OK)
		log_msg(LOG_LVL_WARN, "job %lld device %s: its kept multicast group not forgotten",
		        (long long)d->job_id, d->dev_eui);
}

void engine_delq_reload(struct engine *e)
{
	struct seng_dev *devs = NULL;
	size_t n = 0;

	if (e->delq.reloaded)
		return;
	if (seng_devs_deletes_pending(e->store, &devs, &n) != FUOTA_OK) {
		log_msg(LOG_LVL_WARN, "engine: the deletes owed not read, asked again next tick");
		return;
	}
	e->delq.reloaded = true;
	for (size_t i = 0; i < n; i++)
		engine_dev_cleanup_once(e, &devs[i]);
	if (n > 0)
		log_msg(LOG_LVL_INFO,
		        "engine: %zu devices' deletes (FragSessionDeleteReq, McGroupDeleteReq) "
		        "owed from before the start, queued",
		        n);
	free(devs);
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
	/* Their rows stay set until their deletes are acknowledged (engine_delq_acked). */
	if (q->head == q->n)
		return;
	/* More to send: at once when the budget ran out, later when the backlog or the client
	 * held them back. */
	at = now_ms + (budget > 0 && sent == budget ? 0 : ENGINE_DELQ_RETRY_MS);
	if (next_due && at < *next_due)
		*next_due = at;
}

size_t engine_delq_unconfirmed(const struct engine *e)
{
	return e->delq.head - e->delq.done;
}

size_t engine_delq_clearable(const struct engine_del *v, size_t n, uint64_t acked_seq)
{
	size_t k = 0;

	while (k < n && v[k].seq <= acked_seq)
		k++;
	return k;
}

size_t engine_delq_acked(struct engine *e, uint64_t acked_seq)
{
	struct engine_delq *q = &e->delq;
	size_t n;

	if (q->head == q->done)
		return 0;
	n = engine_delq_clearable(q->v + q->done, q->head - q->done, acked_seq);
	del_cleared(e, q->done, q->done + n);
	q->done += n;
	if (q->done == q->n)
		q->done = q->head = q->n = 0;
	return n;
}

uint64_t engine_delq_owed_seq(const struct engine *e)
{
	const struct engine_delq *q = &e->delq;
	uint64_t seq = 0;

	for (size_t i = q->done; i < q->head; i++)
		if (q->v[i].seq > seq)
			seq = q->v[i].seq;
	return seq;
}

void engine_delq_free(struct engine *e)
{
	size_t left = engine_delq_pending(e), unsent = engine_delq_unconfirmed(e);

	if (unsent > 0)
		log_msg(LOG_LVL_INFO,
		        "engine: %zu devices' deletes published but not acknowledged by the "
		        "broker: still owed, sent again after the next start",
		        unsent);
	if (left > 0)
		log_msg(LOG_LVL_WARN,
		        "engine: %zu devices' deletes (FragSessionDeleteReq, "
		        "McGroupDeleteReq) not sent before the engine stopped (sent after the next "
		        "start)",
		        left);
	free(e->delq.v);
	e->delq.v = NULL;
	e->delq.done = e->delq.head = e->delq.n = e->delq.cap = 0;
}
