/* fuotad's engine instance id: claimed at start through an advisory lock (fuota/store_lock.h),
 * watched at every loop of the runner (see engine_instance.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_instance.h"
#include "engine_int.h"
#include "fuota/cfg.h"
#include "fuota/err.h"
#include "fuota/log.h"

/* The instance lock's connection is read at every loop (a closed connection shows at once);
 * a query goes over it this often too (a connection dropped silently shows only when used). */
#define LOCK_CHECK_MS 5000
/* At start, an instance id held by another session is tried again this many times, 250 ms
 * apart, before it counts as held by a running fuotad. */
#define LOCK_WAIT_TRIES 12

/* This fuotad's instance id, held (*lock) for as long as it runs: [engine] instance_id, else
 * [mqtt] client_id (refused when another running fuotad holds it), else fuotad-<host>-<http
 * port>, the same at every restart of one configuration on one host, so that a restarted
 * fuotad takes its own leases back at once instead of waiting for them to expire; when that
 * one is held (two fuotads started with one configuration), fuotad-<host>-<port>-<pid>. */
int engine_instance_claim(const struct cfg *c, char *id, size_t cap, struct store_lock **lock)
{
	const char *configured = c->engine_instance_id[0] ? c->engine_instance_id
	                         : c->mqtt_client_id[0]   ? c->mqtt_client_id
	                                                  : NULL;
	char host[32] = "host", err[256] = "";
	int rc;

	if (configured)
		snprintf(id, cap, "%s", configured);
	else {
		gethostname(host, sizeof(host) - 1);
		snprintf(id, cap, "fuotad-%s-%u", host, c->http_port);
	}
	rc = store_lock_take(c->db_dsn, id, lock, err, sizeof(err));
	/* A fuotad killed a moment ago: its server session may take a little to end. */
	for (int i = 0; rc == FUOTA_ERR_CONFLICT && i < LOCK_WAIT_TRIES; i++) {
		struct timespec ts = {0, 250000000};

		nanosleep(&ts, NULL);
		rc = store_lock_take(c->db_dsn, id, lock, err, sizeof(err));
	}
	if (rc == FUOTA_ERR_CONFLICT && configured) {
		log_msg(LOG_LVL_ERROR,
		        "engine: instance id %s is held by another running fuotad: refused (give "
		        "each fuotad its own [engine] instance_id)",
		        id);
		return rc;
	}
	if (rc == FUOTA_ERR_CONFLICT) {
		size_t n = strlen(id);

		snprintf(id + n, cap - n, "-%ld", (long)getpid());
		log_msg(LOG_LVL_WARN,
		        "engine: another running fuotad with this configuration holds instance id "
		        "%.*s: this one is %s (its leases are not taken back at a restart)",
		        (int)n, id, id);
		rc = store_lock_take(c->db_dsn, id, lock, err, sizeof(err));
	}
	if (rc != FUOTA_OK)
		log_msg(LOG_LVL_ERROR, "engine: instance id %s: %s", id,
		        err[0] ? err : fuota_strerror(rc));
	return rc;
}

/* Logs what ilock_note said about the lock. */
static void lock_say(const struct engine_instance *in, const struct ilock_step *st)
{
	if (st->say == ILOCK_SAY_LOST)
		log_msg(LOG_LVL_ERROR,
		        "engine: instance id %s: its lock's database session ended; no job is "
		        "claimed, renewed or sent until the lock is taken again",
		        in->id);
	else if (st->say == ILOCK_SAY_STILL)
		log_msg(LOG_LVL_WARN,
		        "engine: instance id %s: lock not taken again after %lld s (database "
		        "unreachable); jobs stay paused",
		        in->id, (long long)(st->down_ms / 1000));
	else if (st->say == ILOCK_SAY_BACK)
		log_msg(LOG_LVL_INFO,
		        "engine: instance id %s: lock taken again after %lld ms; jobs go on",
		        in->id, (long long)st->down_ms);
	else if (st->say == ILOCK_SAY_REFUSED)
		log_msg(LOG_LVL_ERROR,
		        "engine: instance id %s was taken by another running fuotad after this one "
		        "lost its lock: refused to continue, the other one runs its jobs; fuotad "
		        "exits",
		        in->id);
}

/* The instance lock, at every loop (fuota/ilock.h): the lock's connection read without waiting
 * (a query every LOCK_CHECK_MS); once lost, retaken every ILOCK_RETRY_MS. Returns whether the
 * engine may claim, tick and handle messages now. While the lock is lost the engine's fence is
 * -1, so that not even its lease release at a stop goes through (the leases may be another
 * process's with this id). */
bool engine_instance_watch(struct engine_instance *in, struct engine *e, int64_t now_ms)
{
	struct ilock_step st;
	enum ilock_look look;
	int rc;

	if (!in->lock)
		return true;
	if (in->st.refused)
		return false;
	if (in->st.lost && !ilock_retake_due(&in->st, now_ms))
		return false;
	if (in->st.lost) {
		rc = store_lock_retake(in->lock);
		look = rc == FUOTA_OK             ? ILOCK_TAKEN
		       : rc == FUOTA_ERR_CONFLICT ? ILOCK_ELSEWHERE
		                                  : ILOCK_NO_DB;
	} else {
		bool round_trip = now_ms - in->checked_ms >= LOCK_CHECK_MS;

		if (round_trip)
			in->checked_ms = now_ms;
		look = store_lock_poll(in->lock, round_trip) == FUOTA_OK ? ILOCK_HELD : ILOCK_GONE;
	}
	ilock_note(&in->st, look, now_ms, &st);
	if (look == ILOCK_GONE)
		engine_set_lock_pid(e, -1);
	else if (look == ILOCK_TAKEN)
		engine_set_lock_pid(e, store_lock_pid(in->lock));
	lock_say(in, &st);
	return st.act == ILOCK_RUN;
}

/* Paused (the instance lock lost): nothing handled, the messages wait in the queue. */
void engine_instance_pause(void)
{
	struct timespec ts = {0, ILOCK_RETRY_MS * 1000000L};

	nanosleep(&ts, NULL);
}

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
