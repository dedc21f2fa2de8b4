/* Outage reporting (see fuota/outage.h). */
#include "fuota/outage.h"

enum outage_say outage_note(struct outage *o, bool up, int64_t now_ms, int64_t every_ms,
                            uint64_t *failures, int64_t *down_ms)
{
	*failures = 0;
	*down_ms = 0;
	if (up) {
		if (!o->down)
			return OUTAGE_QUIET;
		o->down = false;
		*down_ms = now_ms - o->since_ms;
		o->failures = 0;
		return OUTAGE_BACK;
	}
	if (!o->down) {
		o->down = true;
		o->since_ms = o->warned_ms = now_ms;
		o->failures = 0;
		o->outages++;
		return OUTAGE_LOST;
	}
	o->failures++;
	if (now_ms - o->warned_ms < every_ms)
		return OUTAGE_QUIET;
	*failures = o->failures;
	*down_ms = now_ms - o->since_ms;
	o->failures = 0;
	o->warned_ms = now_ms;
	return OUTAGE_STILL;
}
