/* The MQTT runner's batches (engine_runner.h): inbound messages handled in database
 * transactions, kept for later while the database is away, and the engine's publishes held until
 * the batch that made them commits. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/log.h"
#include "fuota/mqtt.h"
#include "fuota/store.h"
#include "fuota/store_lock.h"
#include "engine_int.h"
#include "engine_runner.h"

/* Inbound messages handled in one database transaction at most. Each one that writes is a
 * subtransaction (two with a store function's own transaction in it), and PostgreSQL tracks up to
 * 64 of them per transaction in shared memory: the store ends a batch sooner when its
 * savepoints come near (store_batch_more), or when its connection broke, so that the messages
 * still queued wait for a connection that works instead of being lost with the batch. */
#define BATCH_MAX 48
/* Messages kept while the database is away, at most (then the newest are dropped). */
#define RETRY_MAX 65536

/* Whether a downlink (to a device or a gateway) may still go: not once the instance lock is seen
 * lost, even from a tick already under way (the lease fence stops its next write; this stops
 * what it wrote before). What was stored for it is then as if fuotad had died after the commit:
 * the FCnt skipped, the request counted as sent and asked again. Read on the runner's thread only
 * (the lock's connection is its own). */
static bool may_send(struct engine_runner *r, const char *topic)
{
	size_t n = strlen(topic), k = sizeof("/command/down") - 1;

	if (!r->inst.lock || n < k || strcmp(topic + n - k, "/command/down") != 0 ||
	    !pthread_equal(r->self, pthread_self()))
		return true;
	return !r->inst.st.lost && !r->inst.st.refused &&
	       store_lock_poll(r->inst.lock, false) == FUOTA_OK;
}

int engine_runner_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len,
                          uint64_t *seq)
{
	struct engine_runner *r = ctx;
	struct pending_pub *p;
	char *text = NULL;
	int rc;

	if (!may_send(r, topic))
		return FUOTA_ERR_STATE;
	rc = engine_runner_gw_frame(r, topic, &payload, &len, &text);
	if (rc != FUOTA_OK)
		return rc;
	if (!r->batching || !pthread_equal(r->self, pthread_self())) {
		rc = mqtt_publish_seq(r->mqtt, topic, payload, len, 1, seq);
		free(text);
		return rc;
	}
	*seq = UINT64_MAX; /* in the client only once the batch commits */
	/* "Every transition persisted before it is acted on": held until the batch commits. */
	if (r->n_pend == r->cap_pend) {
		size_t cap = r->cap_pend ? r->cap_pend * 2 : 64;
		struct pending_pub *np = realloc(r->pend, cap * sizeof(*np));

		if (!np) {
			free(text);
			return FUOTA_ERR_NO_MEMORY;
		}
		r->pend = np;
		r->cap_pend = cap;
	}
	p = &r->pend[r->n_pend];
	p->topic = strdup(topic);
	p->payload = malloc(len ? len : 1);
	p->len = len;
	if (!p->topic || !p->payload) {
		free(p->topic);
		free(p->payload);
		free(text);
		return FUOTA_ERR_NO_MEMORY;
	}
	memcpy(p->payload, payload, len);
	free(text);
	r->n_pend++;
	return FUOTA_OK;
}

void engine_runner_pending_drop(struct engine_runner *r, size_t from)
{
	for (size_t i = from; i < r->n_pend; i++) {
		free(r->pend[i].topic);
		free(r->pend[i].payload);
	}
	if (from < r->n_pend)
		r->n_pend = from;
}

static void pending_send(struct engine_runner *r)
{
	for (size_t i = 0; i < r->n_pend; i++)
		if (!may_send(r, r->pend[i].topic))
			log_msg(LOG_LVL_WARN, "mqtt: %s: not sent, the instance lock is lost",
			        r->pend[i].topic);
		else if (mqtt_publish(r->mqtt, r->pend[i].topic, r->pend[i].payload, r->pend[i].len,
		                      1) != FUOTA_OK)
			log_msg(LOG_LVL_WARN, "mqtt: %s: not published", r->pend[i].topic);
	engine_runner_pending_drop(r, 0);
}

/* Keeps m to be handled again once the database is back (its work was undone because the
 * server went away: an answer dropped now would cost the device its step). Owns m. */
static void retry_keep(struct engine_runner *r, struct mqtt_msg *m)
{
	if (r->n_retry == r->cap_retry) {
		size_t cap = r->cap_retry ? r->cap_retry * 2 : 64;
		struct mqtt_msg **p = cap <= RETRY_MAX ? realloc(r->retry, cap * sizeof(*p)) : NULL;

		if (!p) {
			r->retry_dropped++;
			mqtt_msg_free(m);
			return;
		}
		r->retry = p;
		r->cap_retry = cap;
	}
	r->retry[r->n_retry++] = m;
}

/* The next message of a batch: from the retry list when the batch replays it, else from the
 * queue (NULL when none waits). */
static struct mqtt_msg *batch_next(struct engine_runner *r, struct mqtt_msg **list, size_t n,
                                   size_t *pos)
{
	struct mqtt_msg *m = NULL;

	if (list)
		return *pos < n ? list[(*pos)++] : NULL;
	if (mqtt_queue_pop(r->queue, 0, &m) != FUOTA_OK)
		return NULL;
	return m;
}

/* The end of a batch of taken messages held[]: committed, the held messages whose work failed
 * while the database was away (redo) are kept for later and the others freed; not committed,
 * every one of them is kept when the database is away, else they are lost (said). */
static void batch_close(struct engine_runner *r, struct mqtt_msg **held, const bool *redo,
                        int taken, bool committed)
{
	bool down = store_down(r->store);
	int kept = 0;

	for (int i = 0; i < taken; i++) {
		if ((committed && redo[i]) || (!committed && down)) {
			retry_keep(r, held[i]);
			kept++;
		} else {
			mqtt_msg_free(held[i]);
		}
	}
	if (!committed && !down)
		log_msg(LOG_LVL_ERROR, "engine: %d messages not stored: nothing of them is sent",
		        taken);
	else if (kept > 0)
		log_msg(LOG_LVL_DEBUG, "engine: %d messages kept until the database is back", kept);
}

/* Handles m and up to BATCH_MAX - 1 more messages (from the queue, or from list when it
 * replays kept ones) in one database transaction (each its own savepoint), then publishes
 * what they made the engine send: nothing of an item whose database work failed, nothing at
 * all when the commit failed (the devices' requests are then retried at their deadlines, as for
 * a lost answer). A message whose work failed because the database went away is handled again
 * once it is back (batch_close). Returns how many messages it took. */
int engine_runner_handle_batch(struct engine_runner *r, struct mqtt_msg *m, struct mqtt_msg **list,
                               size_t n_list, size_t *pos)
{
	bool batch = store_batch_begin(r->store) == FUOTA_OK, committed;
	struct mqtt_msg *held[BATCH_MAX];
	bool redo[BATCH_MAX];
	int taken = 0;

	r->batching = batch;
	r->batch_first = r->item_seq + 1;
	if (batch)
		engine_batch_begin(r->engine);
	while (m) {
		size_t mark = r->n_pend, engine_mark = engine_batch_mark(r->engine);

		r->item_seq++;
		if (batch)
			store_batch_item(r->store);
		engine_runner_dispatch(r, m);
		redo[taken] = false;
		if (batch && store_batch_item_failed(r->store)) {
			redo[taken] = store_down(r->store);
			if (!redo[taken])
				log_msg(LOG_LVL_WARN,
				        "mqtt: %s: its database work failed: not acted on",
				        m->topic);
			engine_runner_pending_drop(r, mark);
			engine_runner_gw_unstored(r, r->item_seq);
			engine_batch_undo(r->engine, engine_mark);
			r->st.failed++;
		}
		held[taken++] = m;
		m = NULL;
		if (taken < BATCH_MAX && (!batch || store_batch_more(r->store)))
			m = batch_next(r, list, n_list, pos);
	}
	if (!batch) {
		for (int i = 0; i < taken; i++)
			mqtt_msg_free(held[i]);
		return taken;
	}
	r->batching = false;
	r->st.batches++;
	committed = store_batch_end(r->store) == FUOTA_OK;
	if (committed) {
		pending_send(r);
	} else {
		r->st.failed += (uint64_t)taken;
		engine_runner_pending_drop(r, 0);
		engine_runner_gw_unstored(r, r->batch_first);
		engine_batch_undo(r->engine, 0);
	}
	batch_close(r, held, redo, taken, committed);
	engine_batch_end(r->engine);
	return taken;
}

/* The messages kept while the database was away, handled again (in their order) once it is
 * back; those that fail again are kept again. */
void engine_runner_retry_run(struct engine_runner *r)
{
	struct mqtt_msg **list = r->retry;
	size_t n = r->n_retry, pos = 0;

	if (n == 0 || store_down(r->store))
		return;
	r->retry = NULL;
	r->n_retry = r->cap_retry = 0;
	log_msg(LOG_LVL_INFO, "engine: %zu messages handled again now that the database is back%s",
	        n, r->retry_dropped ? " (some were dropped: too many)" : "");
	r->retry_dropped = 0;
	while (pos < n) {
		struct mqtt_msg *m = list[pos++];

		engine_runner_handle_batch(r, m, list, n, &pos);
	}
	free(list);
}
