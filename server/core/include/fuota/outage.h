/* What fuotad says about a link that goes down (the broker, PostgreSQL): one line when it is
 * lost, one when it is back, and between them a reminder at most every `every_ms` with the
 * failures it did not log one by one. A pure state machine; the caller logs. */
#ifndef FUOTA_OUTAGE_H
#define FUOTA_OUTAGE_H

#include <stdbool.h>
#include <stdint.h>

struct outage {
	bool down;
	int64_t since_ms;  /* when it went down */
	int64_t warned_ms; /* the last line about it */
	uint64_t failures; /* failures seen since that line */
	uint64_t outages;  /* times it went down in all */
};

enum outage_say {
	OUTAGE_QUIET = 0, /* nothing to log */
	OUTAGE_LOST,      /* it just went down: log once */
	OUTAGE_STILL,     /* still down: a rate-limited reminder (failures, now - since_ms) */
	OUTAGE_BACK       /* it came back: log once (down for now - since_ms) */
};

/* Notes that the link worked (up) or failed at now_ms. Returns what to log; *failures receives
 * the failures since the previous line (STILL) and *down_ms how long it has been down (STILL,
 * BACK). o starts zeroed (up). */
enum outage_say outage_note(struct outage *o, bool up, int64_t now_ms, int64_t every_ms,
                            uint64_t *failures, int64_t *down_ms);

#endif
