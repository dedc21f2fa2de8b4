/* fuotad's modem-update commands and fuota-gw's events (gw_modem_cmd.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/gw_modem_cmd.h"

#define UNIX_MAX INT64_C(1) << 40 /* far past any real date; keeps sums from overflowing */

/* Printable ASCII without a quote or backslash: the value goes into an AT command. */
static bool clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

/* buf as JSON handed to fields, which fills out (out_size bytes, zeroed first and again on an
 * error: never half-read). */
static int parse(const char *buf, size_t len, void *out, size_t out_size,
                 int (*fields)(json_t *j, void *out, char *err, size_t errlen), char *err,
                 size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	int rc;

	memset(out, 0, out_size);
	if (!j)
		return fuota_malformed(err, errlen, "not JSON: %s", je.text);
	rc = fields(j, out, err, errlen);
	json_decref(j);
	if (rc != FUOTA_OK)
		memset(out, 0, out_size);
	return rc;
}

/* An optional string field into out[cap]: 0, or -1 when present and not a clean string that
 * fits. */
static int opt_str(json_t *o, const char *k, char *out, size_t cap)
{
	json_t *v = json_object_get(o, k);
	const char *s;

	out[0] = '\0';
	if (!v)
		return 0;
	if (!json_is_string(v) || strlen(s = json_string_value(v)) >= cap || !clean(s))
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int parse_action(const char *s, enum gw_mu_action *a)
{
	static const char *const names[] = {"start", "pause", "resume", "cancel"};

	for (size_t i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*a = (enum gw_mu_action)(i + 1);
			return 0;
		}
	return -1;
}

static int parse_method(const char *s, enum fwu_method *m)
{
	static const char *const names[] = {"ufota", "foat", "http", "ftp", "uart"};
	static const enum fwu_method ms[] = {FWU_M_UFOTA, FWU_M_FOAT, FWU_M_HTTP, FWU_M_FTP,
	                                     FWU_M_UART};

	for (size_t i = 0; i < 5; i++)
		if (!strcmp(s, names[i])) {
			*m = ms[i];
			return 0;
		}
	return -1;
}

static bool hex32(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return i == 32;
}

/* What a start needs for its method. */
static int check_start(const struct gw_mu_cmd *c, char *err, size_t errlen)
{
	struct gw_url u;

	switch (c->method) {
	case FWU_M_HTTP:
	case FWU_M_FTP:
		if (gw_url_parse(c->url, &u) != FUOTA_OK || u.ftp != (c->method == FWU_M_FTP))
			return fuota_malformed(err, errlen, "url: an %s:// url is required",
			                       c->method == FWU_M_FTP ? "ftp" : "http");
		if (!c->md5[0])
			return fuota_malformed(err, errlen, "md5: required for %s",
			                       c->method == FWU_M_FTP ? "ftp" : "http");
		return FUOTA_OK;
	case FWU_M_FOAT:
	case FWU_M_UART:
		if (c->package[0] != '/')
			return fuota_malformed(err, errlen,
			                       "package: an absolute path is required");
		return FUOTA_OK;
	case FWU_M_UFOTA: return FUOTA_OK;
	default: return fuota_malformed(err, errlen, "method: required to start");
	}
}

static int cmd_fields(json_t *j, void *out, char *err, size_t errlen)
{
	struct gw_mu_cmd *c = out;
	json_t *id = json_object_get(j, "id"), *a = json_object_get(j, "action"),
	       *m = json_object_get(j, "method");

	if (!json_is_object(j))
		return fuota_malformed(err, errlen, "not a JSON object");
	if (!json_is_integer(id) || json_integer_value(id) <= 0)
		return fuota_malformed(err, errlen, "id: a positive integer is required");
	c->id = json_integer_value(id);
	if (!json_is_string(a) || parse_action(json_string_value(a), &c->action) != 0)
		return fuota_malformed(err, errlen, "action: start, pause, resume or cancel");
	if (m && (!json_is_string(m) || parse_method(json_string_value(m), &c->method) != 0))
		return fuota_malformed(err, errlen, "method: ufota, foat, http, ftp or uart");
	if (opt_str(j, "url", c->url, sizeof(c->url)) != 0)
		return fuota_malformed(err, errlen,
		                       "url: a string of printable characters, no quote");
	if (opt_str(j, "package", c->package, sizeof(c->package)) != 0)
		return fuota_malformed(err, errlen,
		                       "package: a string of printable characters, no quote");
	if (opt_str(j, "md5", c->md5, sizeof(c->md5)) != 0 || (c->md5[0] && !hex32(c->md5)))
		return fuota_malformed(err, errlen, "md5: 32 hex digits");
	return c->action == GW_MU_START ? check_start(c, err, errlen) : FUOTA_OK;
}

int gw_mu_cmd_parse(const char *buf, size_t len, struct gw_mu_cmd *out, char *err, size_t errlen)
{
	return parse(buf, len, out, sizeof(*out), cmd_fields, err, errlen);
}

int gw_url_parse(const char *url, struct gw_url *out)
{
	const char *h, *slash, *colon;
	size_t hl;
	unsigned long p = 0;
	char *end;

	memset(out, 0, sizeof(*out));
	if (!strncmp(url, "http://", 7))
		h = url + 7;
	else if (!strncmp(url, "ftp://", 6))
		h = url + 6, out->ftp = true;
	else
		return FUOTA_ERR_MALFORMED;
	if (!clean(url) || !(slash = strchr(h, '/')) || strchr(h, '@') || strchr(h, ' '))
		return FUOTA_ERR_MALFORMED;
	colon = memchr(h, ':', (size_t)(slash - h));
	hl = (size_t)((colon ? colon : slash) - h);
	if (hl == 0 || hl >= sizeof(out->host) || strlen(slash) >= sizeof(out->path))
		return FUOTA_ERR_MALFORMED;
	if (colon) {
		p = strtoul(colon + 1, &end, 10);
		if (end != slash || colon + 1 == slash || p == 0 || p > 65535)
			return FUOTA_ERR_MALFORMED;
	}
	memcpy(out->host, h, hl);
	out->port = (uint16_t)p;
	memcpy(out->path, slash, strlen(slash) + 1);
	return FUOTA_OK;
}

bool gw_mu_url_ok(const char *url, bool ftp)
{
	struct gw_url u;

	return strlen(url) < sizeof(((struct gw_mu_cmd *)0)->url) &&
	       gw_url_parse(url, &u) == FUOTA_OK && u.ftp == ftp;
}

bool gw_mu_package_ok(const char *package)
{
	return package[0] == '/' && strlen(package) < sizeof(((struct gw_mu_cmd *)0)->package) &&
	       clean(package);
}

static int window(json_t *w, struct gw_window *out, size_t i, char *err, size_t errlen)
{
	json_t *s = json_object_get(w, "start"), *e = json_object_get(w, "end");

	if (!json_is_object(w) || !json_is_integer(s) || !json_is_integer(e))
		return fuota_malformed(err, errlen,
		                       "windows[%zu]: start and end (unix seconds) required", i);
	out->start = json_integer_value(s);
	out->end = json_integer_value(e);
	if (out->start < 0 || out->end < out->start || out->end > UNIX_MAX)
		return fuota_malformed(err, errlen, "windows[%zu]: 0 <= start <= end required", i);
	if (opt_str(w, "job", out->job, sizeof(out->job)) != 0)
		return fuota_malformed(err, errlen, "windows[%zu]: job: a short string", i);
	return FUOTA_OK;
}

static int sessions_fields(json_t *j, void *out, char *err, size_t errlen)
{
	struct gw_sessions *s = out;
	json_t *g = json_object_get(j, "guardS"), *ws = json_object_get(j, "windows");
	size_t i;
	json_t *w;

	if (!json_is_object(j))
		return fuota_malformed(err, errlen, "not a JSON object");
	s->guard_s = 120;
	if (g &&
	    (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > 86400))
		return fuota_malformed(err, errlen, "guardS: 0..86400 seconds");
	if (g)
		s->guard_s = json_integer_value(g);
	if (!json_is_array(ws))
		return fuota_malformed(err, errlen, "windows: an array is required");
	if (json_array_size(ws) > GW_WINDOWS_MAX)
		return fuota_malformed(err, errlen, "windows: more than %d", GW_WINDOWS_MAX);
	json_array_foreach(ws, i, w)
	{
		int rc = window(w, &s->w[i], i, err, errlen);

		if (rc != FUOTA_OK)
			return rc;
		s->n = i + 1;
	}
	return FUOTA_OK;
}

int gw_sessions_parse(const char *buf, size_t len, struct gw_sessions *out, char *err,
                      size_t errlen)
{
	return parse(buf, len, out, sizeof(*out), sessions_fields, err, errlen);
}

int64_t gw_mu_earliest(const struct gw_sessions *s, int64_t duration_s, int64_t now_s)
{
	int64_t t = now_s, g = s->guard_s;
	bool moved = true;

	if (duration_s < 0)
		duration_s = 0;
	/* every move goes to some window's end + guard, later than before: at most n moves */
	for (size_t pass = 0; moved && pass <= s->n; pass++) {
		moved = false;
		for (size_t i = 0; i < s->n; i++) {
			const struct gw_window *w = &s->w[i];

			if (t < w->end + g && t + duration_s > w->start - g) {
				t = w->end + g;
				moved = true;
			}
		}
	}
	return t;
}

int64_t gw_mu_duration(enum fwu_method m, uint64_t pkg_bytes, uint32_t baud, int64_t dl_s,
                       int64_t install_s)
{
	int64_t xfer = dl_s;

	if ((m == FWU_M_FOAT || m == FWU_M_UART) && baud > 0)
		xfer = (int64_t)(pkg_bytes * 10 / baud) + 1; /* 10 bits a byte on the line */
	return xfer + install_s + 120;
}

const char *gw_mu_state_of(const struct fwu_status *st)
{
	switch (st->state) {
	case FWU_S_IDLE:
	case FWU_S_ACK_PENDING: return NULL;
	case FWU_S_DOWNLOADING:
	case FWU_S_UPDATE_MODE:
	case FWU_S_DOWNLOADED: return "downloading";
	case FWU_S_PAUSED: return "paused";
	case FWU_S_DONE: return "done";
	case FWU_S_FAILED: return st->fail == FWU_F_CANCELLED ? "cancelled" : "failed";
	default: return "installing";
	}
}

int gw_mu_event_to_json(const struct gw_mu_event *e, char **out, size_t *out_len)
{
	json_t *o =
	        json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)e->id, "state", e->state,
	                  "method", e->method, "firmwareBefore", e->fw_before, "firmware", e->fw);
	char *s;

	if (!o)
		return FUOTA_ERR_INVALID_ARG; /* a field that is not UTF-8 */
	if (e->progress >= 0 && e->progress <= 100)
		json_object_set_new(o, "progress", json_integer(e->progress));
	if (e->deferred_until > 0)
		json_object_set_new(o, "deferredUntil", json_integer(e->deferred_until));
	if (e->error[0])
		json_object_set_new(o, "error", json_string(e->error));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!s)
		return FUOTA_ERR_NO_MEMORY;
	*out = s;
	*out_len = strlen(s);
	return FUOTA_OK;
}
