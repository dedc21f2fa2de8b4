/* The two sides of issue 12's rule that fuotad keeps besides the update plan (modem_window.h):
 * the session windows each gateway's fuota-gw is told (command/sessions), and whether a gateway
 * may carry a new multicast session while its modem updates, or is about to. Pure. */
#ifndef FUOTA_MODEM_GW_H
#define FUOTA_MODEM_GW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuota/modem_window.h"

/* One window of command/sessions, Unix seconds. */
struct modem_gw_window {
	int64_t start_s, end_s;
	int64_t job_id;
};

/* A window whose end is not known yet (a job in its setup) is told as lasting until the next
 * whole hour after an hour from now: fuota-gw is told again before it ends, and the message
 * changes once an hour at most. */
#define MODEM_OPEN_STEP_S INT64_C(3600)

/* The windows of sessions ss[0..n) for fuota-gw (guard not included: it adds guardS), at
 * now_ms: those over before now - guard left out, the rest in start order (then job id) in out,
 * which holds n. Returns how many. A window with no known end starts at its start rounded down
 * to the hour, so that the message stays the same from one look to the next. At most
 * MODEM_GW_WINDOWS_MAX: past it, the last is one window from its start to the latest end. */
#define MODEM_GW_WINDOWS_MAX 64 /* fuota-gw's GW_WINDOWS_MAX: it refuses a message with more */
size_t policy_modem_windows(const struct modem_session *ss, size_t n, int64_t now_ms,
                            struct modem_gw_window *out);

/* A modem update of a gateway as fuotad knows it. */
struct modem_gw_update {
	bool running;        /* started (any state after scheduled), or the gateway's own */
	int64_t start_ms;    /* planned start (scheduled) */
	int64_t duration_ms; /* its expected length (policy_modem_update_ms) */
};

enum modem_gw_use {
	MODEM_GW_FREE,
	MODEM_GW_UPDATING,   /* an update runs: the backhaul may go at any moment */
	MODEM_GW_UPDATE_DUE, /* a scheduled one would overlap the session (guards included) */
};

/* Whether a gateway with updates u[0..n) may carry a multicast session over [from_ms, to_ms)
 * (to_ms <= from_ms: its end is not known, open). */
enum modem_gw_use policy_modem_gw_use(const struct modem_gw_update *u, size_t n, int64_t from_ms,
                                      int64_t to_ms);
/* Its reason as text ("" for FREE). */
const char *policy_modem_gw_use_str(enum modem_gw_use v);

#endif
