/* The instance lock's state machine (see fuota/ilock.h). */
#include <string.h>

#include "fuota/ilock.h"

static void lost(struct ilock *st, int64_t now_ms, struct ilock_step *out)
{
	out->down_ms = now_ms - st->lost_ms;
	out->act = ILOCK_PAUSE;
	st->retry_at_ms = now_ms + ILOCK_RETRY_MS;
	if (now_ms - st->warned_ms >= ILOCK_WARN_EVERY_MS) {
		out->say = ILOCK_SAY_STILL;
		st->warned_ms = now_ms;
	}
}

void ilock_note(struct ilock *st, enum ilock_look look, int64_t now_ms, struct ilock_step *out)
{
	memset(out, 0, sizeof(*out));
	out->act = ILOCK_RUN;
	if (st->refused) {
		out->act = ILOCK_REFUSE;
		return;
	}
	switch (look) {
	case ILOCK_HELD: out->act = st->lost ? ILOCK_PAUSE : ILOCK_RUN; return;
	case ILOCK_GONE:
		if (!st->lost) {
			st->lost = true;
			st->lost_ms = st->warned_ms = now_ms;
			/* The first retake at once: after a blip nobody else had the time to. */
			st->retry_at_ms = now_ms;
			out->say = ILOCK_SAY_LOST;
		}
		out->act = ILOCK_PAUSE;
		return;
	case ILOCK_TAKEN:
		if (st->lost) {
			out->say = ILOCK_SAY_BACK;
			out->down_ms = now_ms - st->lost_ms;
		}
		st->lost = false;
		return;
	case ILOCK_ELSEWHERE:
		st->refused = true;
		out->act = ILOCK_REFUSE;
		out->say = ILOCK_SAY_REFUSED;
		return;
	case ILOCK_NO_DB:
	default:
		if (!st->lost) { /* a retake without a loss: treat it as one */
			st->lost = true;
			st->lost_ms = st->warned_ms = now_ms;
			out->say = ILOCK_SAY_LOST;
		}
		lost(st, now_ms, out);
		return;
	}
}

bool ilock_retake_due(const struct ilock *st, int64_t now_ms)
{
	return st->lost && !st->refused && now_ms >= st->retry_at_ms;
}
