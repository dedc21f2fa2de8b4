/* Session windows for fuota-gw and gateways kept from sessions (see fuota/modem_gw.h). */
#include "fuota/modem_gw.h"

#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int by_start(const void *a, const void *b)
{
	const struct modem_gw_window *x = a, *y = b;

	if (x->start_s != y->start_s)
		return x->start_s < y->start_s ? -1 : 1;
	return (x->job_id > y->job_id) - (x->job_id < y->job_id);
}

size_t policy_modem_windows(const struct modem_session *ss, size_t n, int64_t now_ms,
                            struct modem_gw_window *out)
{
	int64_t now_s = floor_div(now_ms, 1000);
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t from, to;
		struct modem_gw_window w = {.job_id = ss[i].job_id};

		policy_modem_span(&ss[i], &from, &to);
		w.start_s = floor_div(from, 1000);
		if (to == INT64_MAX) {
			int64_t base = w.start_s > now_s ? w.start_s : now_s;

			w.start_s = floor_div(w.start_s, MODEM_OPEN_STEP_S) * MODEM_OPEN_STEP_S;
			w.end_s = (floor_div(base, MODEM_OPEN_STEP_S) + 2) * MODEM_OPEN_STEP_S;
		} else {
			w.end_s = floor_div(to + 999, 1000);
		}
		if (w.end_s * 1000 + MODEM_GUARD_MS <= now_ms)
			continue;
		out[k++] = w;
	}
	qsort(out, k, sizeof(*out), by_start);
	/* fuota-gw would refuse them all: the last ones as one window, which blocks more, never
	 * less */
	for (size_t i = MODEM_GW_WINDOWS_MAX; i < k; i++)
		if (out[i].end_s > out[MODEM_GW_WINDOWS_MAX - 1].end_s)
			out[MODEM_GW_WINDOWS_MAX - 1].end_s = out[i].end_s;
	return k < MODEM_GW_WINDOWS_MAX ? k : MODEM_GW_WINDOWS_MAX;
}

enum modem_gw_use policy_modem_gw_use(const struct modem_gw_update *u, size_t n, int64_t from_ms,
                                      int64_t to_ms)
{
	bool open = to_ms <= from_ms;
	enum modem_gw_use v = MODEM_GW_FREE;

	for (size_t i = 0; i < n; i++) {
		int64_t a = u[i].start_ms, b = u[i].start_ms + u[i].duration_ms;

		if (u[i].running)
			return MODEM_GW_UPDATING;
		/* Overlap with [from - guard, to + guard). */
		if (b > from_ms - MODEM_GUARD_MS && (open || a < to_ms + MODEM_GUARD_MS))
			v = MODEM_GW_UPDATE_DUE;
	}
	return v;
}

const char *policy_modem_gw_use_str(enum modem_gw_use v)
{
	switch (v) {
	case MODEM_GW_FREE: return "";
	case MODEM_GW_UPDATING: return "its modem is updating";
	case MODEM_GW_UPDATE_DUE: return "a modem update is due during the session";
	}
	return "unknown";
}
