/* Matching answers with the request in flight (fuota/ans_match.h). */
#include <string.h>

#include "fuota/ans_match.h"
#include "fuota/err.h"

enum ans_verdict ans_stale(const struct ans_in *in)
{
	if (in->attempts == 0)
		return ANS_NONE_IN_FLIGHT;
	if (in->asked_ms > 0 && in->rx_ms < in->asked_ms - ANS_CLOCK_SLACK_MS)
		return ANS_BEFORE_ASKED;
	/* The uplink that delivered the new request cannot carry its answer (class A: the
	 * answer goes in a later uplink), so a delivery seen at this very uplink does not count. */
	if (in->moved && in->disagrees && !(in->delivered_ms > 0 && in->delivered_ms < in->now_ms))
		return ANS_OLD_START;
	return ANS_CURRENT;
}

const char *ans_verdict_name(enum ans_verdict v)
{
	switch (v) {
	case ANS_CURRENT: return "current";
	case ANS_NONE_IN_FLIGHT: return "no request in flight";
	case ANS_BEFORE_ASKED: return "received before the request was sent";
	case ANS_OLD_START: return "answer of the request before the start moved";
	default: return "?";
	}
}

int64_t ans_rx_ms(bool time_set, int64_t time_ms, bool ns_set, int64_t ns_ms, int64_t now_ms)
{
	int64_t t = time_set ? time_ms : ns_set ? ns_ms : now_ms;

	return t < now_ms ? t : now_ms;
}

/* Copies the level starting at p (up to the next '/' or the end) into out; *next: after it. */
static int level(const char *p, char *out, size_t cap, const char **next)
{
	size_t n = strcspn(p, "/");

	if (n == 0 || n >= cap)
		return FUOTA_ERR_MALFORMED;
	memcpy(out, p, n);
	out[n] = 0;
	*next = p + n;
	return FUOTA_OK;
}

int ans_uplink_topic(const char *prefix, const char *topic, char *app, size_t app_cap, char *eui,
                     size_t eui_cap)
{
	size_t n = strlen(prefix);
	const char *p = topic;

	if (app_cap == 0 || eui_cap == 0)
		return FUOTA_ERR_INVALID_ARG;
	if (strncmp(p, prefix, n) != 0 || p[n] != '/')
		goto bad;
	p += n + 1;
	if (level(p, app, app_cap, &p) != FUOTA_OK || strncmp(p, "/device/", 8) != 0)
		goto bad;
	p += 8;
	if (level(p, eui, eui_cap, &p) != FUOTA_OK || strcmp(p, "/event/up") != 0)
		goto bad;
	return FUOTA_OK;
bad:
	app[0] = eui[0] = 0;
	return FUOTA_ERR_MALFORMED;
}
