/* When a gateway's modem update may start (see fuota/modem_window.h). */
#include "fuota/modem_window.h"

#include <stdio.h>
#include <string.h>

#include "fuota/err.h"

/* CELLULAR-NOTES §2.2: FOAT's Xmodem handshake window is 109 s; installs take "25-32 minutes"
 * (Particle's R510 notes), so the longest is planned for; uFOTA retries a lost download for up
 * to 10 min in all. The rates are pessimistic on purpose: 115200 bit/s on the UART (10 bits a
 * byte, Xmodem-1k's 5 bytes a block ignored against the margin below) and 32 kbit/s over an
 * LTE-M/NB link at the cell edge. uart (+UDWNFILE) sends the raw bytes after a prompt: no
 * handshake window. */
#define HANDSHAKE_MS    INT64_C(109000)
#define INSTALL_MS      INT64_C(32 * 60 * 1000)
#define REGISTER_MS     INT64_C(3 * 60 * 1000)
#define UFOTA_RETRY_MS  INT64_C(10 * 60 * 1000)
#define UART_BPS        INT64_C(115200)
#define CELL_BPS        INT64_C(32000)
#define MAX_IMAGE_BYTES (UINT64_C(64) << 20)

/* Indexed by enum modem_method. */
static const char *const method_names[] = {"ufota", "foat", "http", "ftp", "uart"};

int policy_modem_method_parse(const char *s, enum modem_method *out)
{
	for (size_t i = 0; s && i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (strcmp(s, method_names[i]) == 0) {
			*out = (enum modem_method)i;
			return FUOTA_OK;
		}
	return FUOTA_ERR_INVALID_ARG;
}

int policy_modem_method_parse_plan(const char *s, enum modem_method *out)
{
	return policy_modem_method_parse(s && strcmp(s, "download") == 0 ? "http" : s, out);
}

const char *policy_modem_method_name(enum modem_method m)
{
	size_t i = (size_t)m;

	return i < sizeof(method_names) / sizeof(method_names[0]) ? method_names[i] : "unknown";
}

int policy_modem_update_ms(enum modem_method m, uint64_t image_bytes, int64_t *out_ms)
{
	int64_t bytes = (int64_t)image_bytes, t;

	if (image_bytes == 0 || image_bytes > MAX_IMAGE_BYTES)
		return FUOTA_ERR_INVALID_ARG;
	switch (m) {
	case MODEM_FOAT: t = HANDSHAKE_MS + bytes * 10 * 1000 / UART_BPS; break;
	case MODEM_UART: t = bytes * 10 * 1000 / UART_BPS; break;
	case MODEM_HTTP:
	case MODEM_FTP: t = bytes * 8 * 1000 / CELL_BPS; break;
	case MODEM_UFOTA: t = bytes * 8 * 1000 / CELL_BPS + UFOTA_RETRY_MS; break;
	default: return FUOTA_ERR_INVALID_ARG;
	}
	/* A quarter more for the transfer, then the install and the registration afterwards. */
	*out_ms = t + t / 4 + INSTALL_MS + REGISTER_MS;
	return FUOTA_OK;
}

void policy_modem_job_session(int64_t job_id, int64_t session_start_ms, int64_t start_at_ms,
                              int64_t timeout_s, bool class_b, int64_t now_ms,
                              struct modem_session *out)
{
	out->job_id = job_id;
	out->class_b = class_b;
	if (session_start_ms > 0 && timeout_s > 0) {
		out->start_ms = session_start_ms;
		out->end_ms = session_start_ms + timeout_s * 1000;
		return;
	}
	out->start_ms = session_start_ms > 0   ? session_start_ms
	                : start_at_ms > now_ms ? start_at_ms
	                                       : now_ms;
	out->end_ms = 0;
}

static int64_t floor_period(int64_t t)
{
	int64_t r = t % MODEM_BEACON_PERIOD_MS;

	return r < 0 ? t - r - MODEM_BEACON_PERIOD_MS : t - r;
}

void policy_modem_span(const struct modem_session *s, int64_t *from, int64_t *to)
{
	int64_t start = s->start_ms, end = s->end_ms;
	bool open = end <= 0 || end < start;

	if (s->class_b) {
		start = floor_period(start);
		if (!open && end % MODEM_BEACON_PERIOD_MS != 0)
			end = floor_period(end) + MODEM_BEACON_PERIOD_MS;
	}
	*from = start;
	*to = open ? INT64_MAX : end;
}

/* The span the modem must leave alone: the session's, the guard either side. */
static void window(const struct modem_session *s, int64_t *from, int64_t *to)
{
	policy_modem_span(s, from, to);
	*from -= MODEM_GUARD_MS;
	if (*to != INT64_MAX)
		*to += MODEM_GUARD_MS;
}

/* The session in the way of an update over [t, t + dur): the one whose window overlaps it and
 * ends last (-1 when none). */
static int in_the_way(const struct modem_session *ss, size_t n, int64_t t, int64_t dur,
                      int64_t *until)
{
	int hit = -1;

	*until = t;
	for (size_t i = 0; i < n; i++) {
		int64_t from, to;

		window(&ss[i], &from, &to);
		if (from < t + dur && to > t && to > *until) {
			*until = to;
			hit = (int)i;
		}
	}
	return hit;
}

static void refuse(struct modem_plan *out, enum modem_refusal why, int64_t job)
{
	out->verdict = MODEM_REFUSE;
	out->reason = why;
	out->blocking_job = job;
	out->start_ms = 0;
}

void policy_modem_plan(const struct modem_request *rq, const struct modem_session *ss, size_t n,
                       struct modem_plan *out)
{
	int64_t t = rq->now_ms, dur, until;
	int64_t last_job = 0;

	memset(out, 0, sizeof(*out));
	if (policy_modem_update_ms(rq->method, rq->image_bytes, &dur) != FUOTA_OK) {
		refuse(out, MODEM_BAD_REQUEST, 0);
		return;
	}
	out->duration_ms = dur;
	if (rq->updating) {
		refuse(out, MODEM_UPDATING, 0);
		return;
	}
	/* Each pass moves t past one window at least, so n + 1 passes suffice. */
	for (size_t pass = 0; pass <= n; pass++) {
		int i = in_the_way(ss, n, t, dur, &until);

		if (i < 0)
			break;
		last_job = ss[i].job_id;
		if (until == INT64_MAX) {
			refuse(out, MODEM_UNKNOWN_END, ss[i].job_id);
			return;
		}
		t = until;
	}
	if (rq->horizon_ms > 0 && t - rq->now_ms > rq->horizon_ms) {
		refuse(out, MODEM_BEYOND_LIMIT, last_job);
		return;
	}
	out->verdict = t == rq->now_ms ? MODEM_START_NOW : MODEM_START_AT;
	out->start_ms = t;
	out->blocking_job = last_job;
}

const char *policy_modem_refusal_str(enum modem_refusal r)
{
	switch (r) {
	case MODEM_OK: return "";
	case MODEM_BAD_REQUEST: return "unknown method or image size out of range (1 B to 64 MiB)";
	case MODEM_UPDATING: return "the modem is updating already";
	case MODEM_UNKNOWN_END:
		return "a multicast session through the gateway has no expected end";
	case MODEM_BEYOND_LIMIT: return "no free window before the horizon";
	}
	return "unknown";
}

void policy_modem_wait_note(const struct modem_plan *p, bool own_job, char *buf, size_t cap)
{
	if (p->verdict == MODEM_START_AT && own_job)
		snprintf(buf, cap,
		         "postponed: the multicast session of job %lld through the gateway is in "
		         "the way",
		         (long long)p->blocking_job);
	else if (p->verdict == MODEM_START_AT)
		snprintf(buf, cap,
		         "postponed: the multicast session of another tenant's job through the "
		         "gateway is in the way");
	else
		snprintf(buf, cap, "waiting: %s", policy_modem_refusal_str(p->reason));
}
