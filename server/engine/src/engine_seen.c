/* What the engine remembers of each device from its uplinks (see engine_int.h, struct
 * engine_seen): the gateways that heard it, written to engine_device_gateway in batches; its
 * uplink period; and the delivery of its outstanding unicast request.
 *
 * A class A device receives a queued downlink only in the receive windows of its next uplink,
 * so a request fuotad publishes reaches it up to one uplink period later, and each more
 * request queued for it (PackageVersionReq on three ports) one uplink after the other. The
 * step's deadline therefore counts from the delivery: when the request is sent, the deadline is
 * now + the unicast timeout + one estimated uplink period per request queued; an uplink that
 * delivers one of them later than that allowed for moves it to that uplink's time + the unicast
 * timeout + one period per request still queued (a deadline is never brought forward). Without an
 * estimate (fewer than two uplinks seen by this engine) the period counts as zero, as before. The
 * table lives in this engine only: after a restart, or when another engine of the shared
 * subscription got the uplink, the deadline stays as sent and the step simply retries.
 *
 * The table answers for every device of the network that sends uplinks (clock sync is always
 * on), for months: a device neither heard nor sent a request for FORGET_AFTER_MS is forgotten
 * (its pairs are in engine_device_gateway already; a pair not yet written keeps it). Past twice
 * the longest period kept, nothing of the record is worth more than the memory; heard again, it
 * is a new record. The sweep runs once a minute, after the flush.
 *
 * Batches (engine_batch_*, engine.h): an inbound message whose database work is undone must leave
 * nothing in memory that the database does not hold. Its changes to a record are noted, and taken
 * back in reverse order when it is undone:
 *   - a request sent (engine_seen_sent) or a step left (engine_seen_moved): the whole request
 *     part comes back. The request was not published (the runner drops an undone message's
 *     publishes); kept, its `queued` would take later uplinks for deliveries of nothing, move
 *     a stored deadline for it, and its first_rx_ms would widen the clock check of
 *     McClassSessionAns.
 *   - a deadline stored by a delivery (engine_seen_delivered): deadline_ms comes back (it says
 *     what the database holds; kept, a later delivery would not write a deadline it needs, and
 *     the step would time out early). The delivery itself stays: the network server delivered
 *     the downlink at that uplink whatever our database did.
 *   - the uplink's own facts (engine_seen_uplink: when it was heard, the period, its gateways)
 *     stay: they happened. Its gateways are written by the tick's flush, in a transaction of
 *     its own.
 * An undone message that both left a step and delivered one of its requests comes back with that
 * request still queued: its next uplink is then taken for the delivery, and the deadline
 * moves up to one period later than it would have; a late retry, never an early one. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_hash.h"
#include "engine_int.h"
#include "fuota/err.h"
#include "fuota/log.h"

/* A pair already stored is written again only after this long (its seen_ms is compared with a
 * week, its quality is a hint). A new pair is written at the next flush (at most 1 s). It was a
 * minute: with 100,000 devices sending every 60 s every uplink rewrote its two pairs, 3,300 rows
 * a second and a 220 ms upsert every second, the largest cost of the engine between steps. */
#define GW_REFRESH_MS   (10 * 60 * 1000)
#define FLUSH_EVERY_MS  1000
#define FLUSH_BATCH     4096
#define PERIOD_MAX_MS   (3600u * 1000u)
#define PERIOD_DECAY_OF 8u
#define FORGET_AFTER_MS (3 * 3600 * 1000)
#define SWEEP_EVERY_MS  (60 * 1000)
#define TABLE_MIN       1024

/* A record's state before a change of the open batch (whole: its request part; else only
 * deadline_ms). */
struct engine_seen_undo {
	char dev_eui[SENG_EUI_LEN];
	bool whole;
	int64_t job_id;
	enum engine_step step;
	unsigned attempts, queued, ahead;
	uint64_t timeout_ms;
	int64_t sent_ms, first_rx_ms, deadline_ms, ahead_ms;
};

/* engine_hash.h keys a record by its first member. */
_Static_assert(offsetof(struct engine_seen, dev_eui) == 0, "dev_eui first");

static struct engine_seen *slot_of(struct engine_seen *slots, size_t cap, const char *dev_eui)
{
	return engine_hash_slot(slots, cap, sizeof(*slots), dev_eui, NULL);
}

/* Moves the table into cap slots (a power of two, more than twice seen_n). */
static int resize(struct engine *e, size_t cap)
{
	struct engine_seen *slots = engine_hash_rehash(e->seen, e->seen_cap, cap, sizeof(*slots));

	if (!slots)
		return FUOTA_ERR_NO_MEMORY;
	free(e->seen);
	e->seen = slots;
	e->seen_cap = cap;
	return FUOTA_OK;
}

static int grow(struct engine *e)
{
	return resize(e, e->seen_cap ? e->seen_cap * 2 : TABLE_MIN);
}

struct engine_seen *engine_seen_get(struct engine *e, const char *dev_eui, bool create)
{
	struct engine_seen *r;

	if (!dev_eui[0] || strlen(dev_eui) >= SENG_EUI_LEN)
		return NULL;
	if (e->seen_cap == 0) {
		if (!create || grow(e) != FUOTA_OK)
			return NULL;
	}
	r = slot_of(e->seen, e->seen_cap, dev_eui);
	if (r->dev_eui[0] || !create)
		return r->dev_eui[0] ? r : NULL;
	/* Kept at most half full so that probing stays short. */
	if ((e->seen_n + 1) * 2 > e->seen_cap) {
		if (grow(e) != FUOTA_OK)
			return NULL;
		r = slot_of(e->seen, e->seen_cap, dev_eui);
	}
	memset(r, 0, sizeof(*r));
	r->step = ENGINE_STEP_NONE;
	memcpy(r->dev_eui, dev_eui, strlen(dev_eui) + 1);
	e->seen_n++;
	return r;
}

void engine_seen_free(struct engine *e)
{
	free(e->seen);
	e->seen = NULL;
	e->seen_cap = e->seen_n = 0;
	free(e->undo);
	e->undo = NULL;
	e->n_undo = e->cap_undo = 0;
}

/* Notes r's state before a change, while a batch is open. */
static void note(struct engine *e, const struct engine_seen *r, bool whole)
{
	struct engine_seen_undo *u;

	if (!e->batch)
		return;
	if (e->n_undo == e->cap_undo) {
		size_t cap = e->cap_undo ? e->cap_undo * 2 : 64;
		struct engine_seen_undo *n = realloc(e->undo, cap * sizeof(*n));

		if (!n) {
			e->undo_lost = true;
			return;
		}
		e->undo = n;
		e->cap_undo = cap;
	}
	u = &e->undo[e->n_undo++];
	memcpy(u->dev_eui, r->dev_eui, SENG_EUI_LEN);
	u->whole = whole;
	u->job_id = r->job_id;
	u->step = r->step;
	u->attempts = r->attempts;
	u->queued = r->queued;
	u->ahead = r->ahead;
	u->ahead_ms = r->ahead_ms;
	u->timeout_ms = r->timeout_ms;
	u->sent_ms = r->sent_ms;
	u->first_rx_ms = r->first_rx_ms;
	u->deadline_ms = r->deadline_ms;
}

void engine_batch_begin(struct engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->batch = true;
	e->n_undo = 0;
	e->undo_lost = false;
	pthread_mutex_unlock(&e->lock);
}

size_t engine_batch_mark(struct engine *e)
{
	size_t mark;

	if (!e)
		return 0;
	pthread_mutex_lock(&e->lock);
	mark = e->n_undo;
	pthread_mutex_unlock(&e->lock);
	return mark;
}

void engine_batch_undo(struct engine *e, size_t mark)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	/* Newest first, so that each record ends as it was at the mark. The sweep (the only
	 * removal) runs from the tick, never inside a batch: every noted record is still there. */
	while (e->n_undo > mark) {
		const struct engine_seen_undo *u = &e->undo[--e->n_undo];
		struct engine_seen *r = engine_seen_get(e, u->dev_eui, false);

		if (!r)
			continue;
		r->deadline_ms = u->deadline_ms;
		if (!u->whole)
			continue;
		r->job_id = u->job_id;
		r->step = u->step;
		r->attempts = u->attempts;
		r->queued = u->queued;
		r->ahead = u->ahead;
		r->ahead_ms = u->ahead_ms;
		r->timeout_ms = u->timeout_ms;
		r->sent_ms = u->sent_ms;
		r->first_rx_ms = u->first_rx_ms;
	}
	if (e->undo_lost)
		log_msg(LOG_LVL_WARN, "engine: out of memory: an undone message's requests may "
		                      "still be counted as queued (deadlines correct themselves)");
	/* Read again from the database when next needed: what it holds now. A job row read
	 * inside the batch may show the undone writes, and a FragIndex fixed by an undone
	 * FragSessionSetupReq is not fixed at all (another version's session could then take it).
	 */
	for (size_t i = 0; i < ENGINE_JOB_CACHE; i++)
		if (e->jobs[i].j.id)
			engine_job_forget(e, e->jobs[i].j.id);
	for (struct engine_cache *c = e->cache; c; c = c->next)
		memset(c->frag_index_known, 0, sizeof(c->frag_index_known));
	pthread_mutex_unlock(&e->lock);
}

void engine_batch_end(struct engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->batch = false;
	e->n_undo = 0;
	e->undo_lost = false;
	pthread_mutex_unlock(&e->lock);
}

static void note_gateway(struct engine_seen *r, const char *gw, int quality, int64_t now_ms)
{
	struct engine_seen_gw *g = NULL;

	if (!gw[0] || strlen(gw) >= SENG_EUI_LEN)
		return;
	for (size_t i = 0; i < r->n_gw && !g; i++)
		if (strcmp(r->gw[i].id, gw) == 0)
			g = &r->gw[i];
	if (!g && r->n_gw < ENGINE_SEEN_GWS) {
		g = &r->gw[r->n_gw++];
		memset(g, 0, sizeof(*g));
	}
	if (!g) {
		/* More gateways than slots: the one heard longest ago makes room (the table keeps
		 * every pair; this one is written again when it is heard again). */
		g = &r->gw[0];
		for (size_t i = 1; i < r->n_gw; i++)
			if (r->gw[i].seen_ms < g->seen_ms)
				g = &r->gw[i];
		memset(g, 0, sizeof(*g));
	}
	if (!g->id[0])
		memcpy(g->id, gw, strlen(gw) + 1);
	g->quality = quality;
	g->seen_ms = now_ms;
}

struct engine_seen *engine_seen_uplink(struct engine *e, const struct cs_uplink *u, int64_t now_ms)
{
	struct engine_seen *r = engine_seen_get(e, u->dev_eui, true);

	if (!r)
		return NULL;
	if (r->last_up_ms > 0 && now_ms > r->last_up_ms) {
		uint64_t gap = (uint64_t)(now_ms - r->last_up_ms);

		/* A slowly decaying maximum: a device's answers may come between its periodic
		 * uplinks, and one short gap must not hide its real period. */
		if (gap > PERIOD_MAX_MS)
			gap = PERIOD_MAX_MS;
		if (gap >= r->period_ms)
			r->period_ms = (uint32_t)gap;
		else
			r->period_ms -= (uint32_t)((r->period_ms - gap) / PERIOD_DECAY_OF);
	}
	r->last_up_ms = now_ms;
	for (size_t i = 0; i < u->n_rx && i < CS_MAX_RX; i++)
		note_gateway(r, u->rx[i].gateway_id, (int)(u->rx[i].rssi + (int32_t)u->rx[i].snr),
		             now_ms);
	return r;
}

/* Writes obs[0..*n) and marks them written. */
static int flush_batch(struct engine *e, struct seng_gw_obs *obs, struct engine_seen_gw **marked,
                       size_t *n)
{
	int rc = seng_gw_seen_batch(e->store, obs, *n);

	for (size_t k = 0; rc == FUOTA_OK && k < *n; k++)
		marked[k]->written_ms = obs[k].seen_ms;
	*n = 0;
	return rc;
}

bool engine_seen_gw_due(int64_t seen_ms, int64_t written_ms, bool all)
{
	if (seen_ms <= written_ms)
		return false;
	return all || written_ms == 0 || seen_ms - written_ms >= GW_REFRESH_MS;
}

static bool forgettable(const struct engine_seen *r, int64_t now_ms)
{
	if (now_ms - r->last_up_ms < FORGET_AFTER_MS || now_ms - r->sent_ms < FORGET_AFTER_MS)
		return false;
	for (size_t k = 0; k < r->n_gw; k++)
		if (r->gw[k].seen_ms > r->gw[k].written_ms && r->gw[k].written_ms == 0)
			return false; /* never stored */
	return true;
}

/* Empties slot i of the linear-probing table: the records after it in its probe run move back
 * into the hole when their home slot allows (so that every lookup still finds them). */
static void remove_at(struct engine *e, size_t i)
{
	size_t mask = e->seen_cap - 1;

	for (size_t j = (i + 1) & mask; e->seen[j].dev_eui[0]; j = (j + 1) & mask) {
		size_t home = engine_hash_home(e->seen[j].dev_eui, e->seen_cap);
		/* j's record may fill i unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);

		if (stays)
			continue;
		e->seen[i] = e->seen[j];
		i = j;
	}
	memset(&e->seen[i], 0, sizeof(e->seen[i]));
	e->seen_n--;
}

static size_t sweep(struct engine *e, int64_t now_ms)
{
	size_t gone = 0;

	for (size_t i = 0; i < e->seen_cap; i++)
		/* A record moved back into slot i is looked at too. */
		while (e->seen[i].dev_eui[0] && forgettable(&e->seen[i], now_ms)) {
			remove_at(e, i);
			gone++;
		}
	/* Gives memory back once the table is mostly empty (failing that, it stays as it is). */
	if (e->seen_cap > TABLE_MIN && e->seen_n * 8 < e->seen_cap) {
		size_t cap = TABLE_MIN;

		while (cap < e->seen_n * 4)
			cap *= 2;
		resize(e, cap);
	}
	return gone;
}

int engine_seen_flush(struct engine *e, int64_t now_ms, bool all)
{
	int64_t last = e->seen_flushed_ms;
	struct seng_gw_obs *obs;
	struct engine_seen_gw **marked;
	size_t n = 0;
	int rc = FUOTA_OK;

	if (!all && now_ms - e->seen_flushed_ms < FLUSH_EVERY_MS)
		return FUOTA_OK;
	e->seen_flushed_ms = now_ms;
	obs = malloc(FLUSH_BATCH * sizeof(*obs));
	marked = malloc(FLUSH_BATCH * sizeof(*marked));
	if (!obs || !marked)
		rc = FUOTA_ERR_NO_MEMORY;
	for (size_t i = 0; i < e->seen_cap && rc == FUOTA_OK; i++) {
		struct engine_seen *r = &e->seen[i];

		if (!r->dev_eui[0])
			continue;
		if (n + ENGINE_SEEN_GWS > FLUSH_BATCH)
			rc = flush_batch(e, obs, marked, &n);
		for (size_t k = 0; rc == FUOTA_OK && k < r->n_gw; k++) {
			struct engine_seen_gw *g = &r->gw[k];

			if (!engine_seen_gw_due(g->seen_ms, g->written_ms, all))
				continue;
			memcpy(obs[n].dev_eui, r->dev_eui, SENG_EUI_LEN);
			memcpy(obs[n].gw, g->id, SENG_EUI_LEN);
			obs[n].quality = g->quality;
			obs[n].seen_ms = g->seen_ms;
			marked[n++] = g;
		}
	}
	if (rc == FUOTA_OK && n > 0)
		rc = flush_batch(e, obs, marked, &n);
	free(obs);
	free(marked);
	if (rc != FUOTA_OK)
		log_msg(LOG_LVL_WARN, "engine: device gateways not written: %s",
		        fuota_strerror(rc));
	else if (now_ms / SWEEP_EVERY_MS != last / SWEEP_EVERY_MS) {
		size_t gone = sweep(e, now_ms);

		if (gone > 0)
			log_msg(LOG_LVL_DEBUG,
			        "engine: %zu devices not heard for %d h forgotten, %zu kept", gone,
			        FORGET_AFTER_MS / 3600000, e->seen_n);
	}
	return rc;
}

int64_t engine_seen_deadline(struct engine *e, const char *dev_eui, int64_t from_ms,
                             uint64_t timeout_ms, unsigned queued)
{
	struct engine_seen *r = engine_seen_get(e, dev_eui, false);
	uint64_t wait = timeout_ms + (r ? (uint64_t)r->period_ms * (queued + r->ahead) : 0);

	return from_ms + (int64_t)wait;
}

void engine_seen_sent(struct engine *e, int64_t job_id, const char *dev_eui, enum engine_step step,
                      unsigned attempts, unsigned n_requests, uint64_t timeout_ms, int64_t now_ms,
                      int64_t deadline_ms)
{
	struct engine_seen *r = engine_seen_get(e, dev_eui, true);

	if (!r)
		return;
	note(e, r, true);
	/* attempts 1: a new request (a new step, or the step asked again from the start, as after
	 * a session start moved): the deliveries of the former ones are not its, and the copies of
	 * them still queued reach the device first. */
	if (r->job_id != job_id || r->step != step || attempts <= 1) {
		r->first_rx_ms = 0;
		if (r->queued > 0) {
			r->ahead += r->queued;
			if (r->sent_ms > r->ahead_ms)
				r->ahead_ms = r->sent_ms;
		}
	}
	r->job_id = job_id;
	r->step = step;
	r->attempts = attempts;
	r->queued = n_requests;
	r->timeout_ms = timeout_ms;
	r->sent_ms = now_ms;
	r->deadline_ms = deadline_ms;
}

void engine_seen_moved(struct engine *e, const char *dev_eui)
{
	struct engine_seen *r = engine_seen_get(e, dev_eui, false);

	if (r) {
		note(e, r, true);
		r->queued = 0;
		r->step = ENGINE_STEP_NONE;
		r->first_rx_ms = 0;
	}
}

void engine_seen_other(struct engine *e, const char *dev_eui, int64_t now_ms)
{
	struct engine_seen *r = engine_seen_get(e, dev_eui, false);

	/* Queued behind a request still on its way: it delays no delivery of that request. */
	if (!r || r->queued > 0)
		return;
	note(e, r, true);
	r->ahead++;
	r->ahead_ms = now_ms;
}

int engine_seen_delivered(struct engine *e, struct engine_seen *r, int64_t now_ms)
{
	struct seng_dev_update u;
	int64_t deadline;
	int rc;

	/* The uplink that brought the answer to a request sent at this very moment is not one
	 * that delivered it. A downlink queued before the request goes first. */
	if (!r || (r->ahead > 0 && now_ms <= r->ahead_ms))
		return FUOTA_OK;
	if (r->ahead > 0) {
		r->ahead--; /* delivered, whatever becomes of this message (as below) */
		return FUOTA_OK;
	}
	if (r->queued == 0 || now_ms <= r->sent_ms)
		return FUOTA_OK;
	r->queued--;
	if (r->first_rx_ms == 0)
		r->first_rx_ms = now_ms;
	/* Written only when the delivery came later than the period estimate allowed for: a
	 * deadline is never brought forward (one write per request saved). */
	deadline = now_ms + (int64_t)(r->timeout_ms + (uint64_t)r->period_ms * r->queued);
	if (deadline <= r->deadline_ms)
		return FUOTA_OK;
	note(e, r, false);
	r->deadline_ms = deadline;
	seng_dev_update_init(&u);
	u.set_deadline = true;
	u.deadline_ms = deadline;
	u.if_attempts = true;
	u.attempts = r->attempts;
	rc = seng_dev_update(e->store, r->job_id, r->dev_eui, r->step, &u);
	if (rc == FUOTA_ERR_STATE) {
		r->queued = 0; /* answered, or sent again meanwhile */
		return FUOTA_OK;
	}
	return rc;
}

bool engine_seen_first_rx(struct engine *e, int64_t job_id, const char *dev_eui,
                          enum engine_step step, int64_t *rx_ms)
{
	struct engine_seen *r = engine_seen_get(e, dev_eui, false);

	if (!r || r->job_id != job_id || r->step != step || r->first_rx_ms == 0)
		return false;
	*rx_ms = r->first_rx_ms;
	return true;
}

uint64_t engine_seen_period_max(const struct engine *e, int64_t job_id)
{
	uint64_t max = 0;

	for (size_t i = 0; i < e->seen_cap; i++)
		if (e->seen[i].dev_eui[0] && e->seen[i].job_id == job_id &&
		    e->seen[i].period_ms > max)
			max = e->seen[i].period_ms;
	return max;
}
