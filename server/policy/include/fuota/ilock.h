/* What the engine does about its instance lock (fuota/store_lock.h, engine_mqtt.c) after each
 * look at it. Pure: the caller looks, logs what `say` names and acts.
 *
 *   held      run: claim, renew and send
 *   lost      stop claiming, renewing and sending at once; try to take the lock again every
 *             ILOCK_RETRY_MS (a reminder every ILOCK_WARN_EVERY_MS while it cannot)
 *   taken     taken again: nobody held it meanwhile, run again
 *   elsewhere another process holds the instance id now: it owns the id's leases, this one
 *             must never run again (refuse: stop the engine, exit with an error) */
#ifndef FUOTA_ILOCK_H
#define FUOTA_ILOCK_H

#include <stdbool.h>
#include <stdint.h>

#define ILOCK_RETRY_MS      250
#define ILOCK_WARN_EVERY_MS 10000

/* What one look found. */
enum ilock_look {
	ILOCK_HELD,      /* the lock's connection is alive (nothing else was tried) */
	ILOCK_GONE,      /* the connection broke: the lock may be anyone's */
	ILOCK_TAKEN,     /* a retake got it */
	ILOCK_ELSEWHERE, /* a retake found another session holding it */
	ILOCK_NO_DB      /* a retake could not reach the database */
};

enum ilock_act {
	ILOCK_RUN,   /* claim, tick, handle messages */
	ILOCK_PAUSE, /* none of that; look again (retake) at retry_at_ms */
	ILOCK_REFUSE /* never run again */
};

enum ilock_say {
	ILOCK_SAY_NOTHING,
	ILOCK_SAY_LOST,   /* once, when it is found lost */
	ILOCK_SAY_STILL,  /* reminder while it cannot be retaken (down_ms) */
	ILOCK_SAY_BACK,   /* once, when taken again (down_ms) */
	ILOCK_SAY_REFUSED /* once: another process holds the id */
};

struct ilock {
	bool lost, refused;
	int64_t lost_ms, warned_ms;
	int64_t retry_at_ms; /* while lost: the next retake */
};

struct ilock_step {
	enum ilock_act act;
	enum ilock_say say;
	int64_t down_ms; /* since it was found lost (STILL, BACK) */
};

/* Notes what a look at now_ms found and says what to do. A retake (TAKEN, ELSEWHERE, NO_DB) is
 * expected only when ilock_retake_due; a plain look (HELD, GONE) only while not lost. A refusal is
 * final: every later call answers ILOCK_REFUSE. st starts zeroed (held). */
void ilock_note(struct ilock *st, enum ilock_look look, int64_t now_ms, struct ilock_step *out);

/* Whether the caller should try a retake now (lost, not refused, retry time come). */
bool ilock_retake_due(const struct ilock *st, int64_t now_ms);

#endif
