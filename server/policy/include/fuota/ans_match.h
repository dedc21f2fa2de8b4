/* Whether an uplink answers the request fuotad has in flight (pure). A class A device answers
 * in an uplink after the one that delivered the request; an answer may also be read late (the
 * broker kept it while fuotad was dead, or the database was away and it waited), or belong to
 * a request fuotad has since replaced (the session start moved, the device was resynchronised).
 * An answer like that is stale: it must move nothing. */
#ifndef FUOTA_ANS_MATCH_H
#define FUOTA_ANS_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How far the network server's clock may be behind fuotad's when ans_stale compares the time it
 * received an uplink with the time fuotad sent a request. */
#define ANS_CLOCK_SLACK_MS 2000

/* What ans_stale weighs, about one device and one answer of its current step. */
struct ans_in {
	unsigned attempts;    /* requests of the step sent so far (0: none in flight) */
	int64_t asked_ms;     /* when the first of them went out (0: unknown) */
	int64_t rx_ms;        /* when the network server received the uplink (ans_rx_ms) */
	int64_t now_ms;       /* when fuotad reads it */
	int64_t delivered_ms; /* when this engine saw the first of them delivered (0: not seen) */
	/* McClass{B,C}SessionAns only: the session start moved since the job fixed it (the
	 * devices were asked before with another start), and the answer disagrees with the moved
	 * start (StartMissed, or a TimeToStart outside the window the request allows). */
	bool moved, disagrees;
};

/* Why the answer is stale, or ANS_CURRENT when it may answer the request in flight. */
enum ans_verdict {
	ANS_CURRENT = 0,
	ANS_NONE_IN_FLIGHT, /* no request of the step is out (reset, or not sent yet) */
	ANS_BEFORE_ASKED,   /* the network server had it before the request was sent */
	ANS_OLD_START,      /* disagrees, before the request with the moved start reached it */
};

/* The verdict on one answer:
 *   - no attempt out: stale;
 *   - received by the network server (rx_ms) more than ANS_CLOCK_SLACK_MS before asked_ms:
 *     stale;
 *   - StartMissed, or a TimeToStart that does not fit the moved start, after the start moved,
 *     with no delivery of the new request seen before this uplink: the answer of a request
 *     carrying the old start (it had passed when that request reached the device, or the
 *     device counted down to it), stale. A device whose clock is truly off says it again once
 *     the new request was delivered, and is judged then. */
enum ans_verdict ans_stale(const struct ans_in *in);

/* ans_stale's verdict in words (for the log). */
const char *ans_verdict_name(enum ans_verdict v);

/* The time the network server received an uplink, from its UplinkEvent: `time` (time_set, in
 * Unix ms) else the first rx_info's ns_time (ns_set), else now_ms. Never later than now_ms (a
 * network server clock ahead of ours, or a forged time, does not make an answer newer). */
int64_t ans_rx_ms(bool time_set, int64_t time_ms, bool ns_set, int64_t ns_ms, int64_t now_ms);

/* The application and DevEUI levels of an uplink topic {prefix}/{application_id}/device/
 * {dev_eui}/event/up, copied NUL-terminated into app and eui (both emptied on error).
 * FUOTA_ERR_MALFORMED when topic is not of that form under prefix, or a level is empty or does not
 * fit its buffer. */
int ans_uplink_topic(const char *prefix, const char *topic, char *app, size_t app_cap, char *eui,
                     size_t eui_cap);

#endif
