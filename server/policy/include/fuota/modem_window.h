/* When a gateway's modem firmware update may start (issue 12's rule): never while a multicast
 * session window of a job that counts on that gateway is open, nor so late that the update would
 * still run when the next one opens. Pure: the caller reads the job sessions through the gateway
 * and the clock, asks policy_modem_plan, then schedules or refuses.
 *
 * Times are milliseconds on one clock (the engine's wall clock, as session starts are stored). */
#ifndef FUOTA_MODEM_WINDOW_H
#define FUOTA_MODEM_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A modem update method, one vocabulary for the plan, the update routes and fuota-gw. */
enum modem_method {
	MODEM_UFOTA, /* the u-blox LwM2M uFOTA server: delta download, then the install */
	MODEM_FOAT,  /* +UFWUPD: the full .upd over Xmodem on the UART, then the install */
	MODEM_HTTP,  /* HTTP download into the FOAT tag over the cellular link, install */
	MODEM_FTP,   /* the same over FTP */
	MODEM_UART,  /* +UDWNFILE: the package's raw bytes at the UART line rate, install */
};

/* "ufota", "foat", "http", "ftp", "uart". FUOTA_ERR_INVALID_ARG for anything else. */
int policy_modem_method_parse(const char *s, enum modem_method *out);
/* The same, plus "download", the plan's deprecated alias of "http". */
int policy_modem_method_parse_plan(const char *s, enum modem_method *out);
const char *policy_modem_method_name(enum modem_method m);

/* How long the backhaul may be gone for an update of image_bytes by method m, margins included
 * (CELLULAR-NOTES §2.2): the transfer at a pessimistic rate, the install as the longest one seen
 * (32 min), the re-registration. FUOTA_ERR_INVALID_ARG for 0 bytes or an image over 64 MiB. */
int policy_modem_update_ms(enum modem_method m, uint64_t image_bytes, int64_t *out_ms);

/* One multicast session of a job whose session uses the gateway. */
struct modem_session {
	int64_t job_id;
	int64_t start_ms; /* as stored now (a moved session: its new start) */
	int64_t end_ms;   /* the expected end, round waits included; <= 0 (or < start) unknown */
	bool class_b;     /* class B: the devices start at the beacon after start_ms */
};

/* A job's session window from what the store keeps: session_start_ms (0: not fixed yet, the job
 * still in its setup: it opens at the requested start_at_ms, or now when none or past, with no
 * known end) and timeout_s, the session's length (the job's multicast_timeout_s). */
void policy_modem_job_session(int64_t job_id, int64_t session_start_ms, int64_t start_at_ms,
                              int64_t timeout_s, bool class_b, int64_t now_ms,
                              struct modem_session *out);

/* Class B pings start at the first beacon period (128 s) boundary at or after the session start
 * (TS005 §1 with the GPS-time beacon grid) and its timeout counts whole periods: its window is
 * widened to those boundaries. Times on the GPS-aligned grid: the caller's epoch is 0. */
#define MODEM_BEACON_PERIOD_MS INT64_C(128000)
/* The backhaul must be up before a session opens (its setup answers, the gateway's downlinks)
 * and may need a moment after: the guard kept free either side of every window. */
#define MODEM_GUARD_MS INT64_C(120000)

/* The span of session s, guard not included: a class B session widened to its beacon periods;
 * *to INT64_MAX when its end is not known. */
void policy_modem_span(const struct modem_session *s, int64_t *from, int64_t *to);

enum modem_verdict {
	MODEM_START_NOW,
	MODEM_START_AT, /* start_ms: the next free window */
	MODEM_REFUSE,   /* reason */
};

enum modem_refusal {
	MODEM_OK,
	MODEM_BAD_REQUEST,  /* method or image size: policy_modem_update_ms refused it */
	MODEM_UPDATING,     /* an update of that modem is under way already */
	MODEM_UNKNOWN_END,  /* a session with no expected end is running or in the way */
	MODEM_BEYOND_LIMIT, /* the next free window starts after the caller's horizon */
};

struct modem_request {
	enum modem_method method;
	uint64_t image_bytes;
	int64_t now_ms;
	int64_t horizon_ms; /* refuse a start later than now + horizon; 0: no limit */
	bool updating;      /* the gateway's modem reports an update in progress */
};

struct modem_plan {
	enum modem_verdict verdict;
	enum modem_refusal reason;
	int64_t start_ms;     /* START_NOW: now; START_AT: when */
	int64_t duration_ms;  /* the update's expected duration (0 when not known) */
	int64_t blocking_job; /* START_AT, REFUSE: the job whose session ends
	                        last before the free window (the one it waits for), else 0 */
};

/* The decision for one gateway. ss: the sessions of every job that counts on it, upcoming and
 * running, in any order (NULL when n is 0). Never fails: bad input is a REFUSE with a reason. */
void policy_modem_plan(const struct modem_request *rq, const struct modem_session *ss, size_t n,
                       struct modem_plan *out);

/* The reason as text for the API and the log ("" for MODEM_OK). */
const char *policy_modem_refusal_str(enum modem_refusal r);

/* Why a due update waits, for its note (which its tenant reads), from the plan p asked again when
 * its start came (not MODEM_START_NOW): START_AT names the job in the way only when
 * own_job, the job is the update's tenant's; another tenant's job is not named (its id is that
 * tenant's business). Other verdicts say p's reason. Written into buf (cap bytes, terminated). */
void policy_modem_wait_note(const struct modem_plan *p, bool own_job, char *buf, size_t cap);

#endif
