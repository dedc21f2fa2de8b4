/* fuota-gw's saved modem-update state and its start-up decision (gw_mu_saved.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/gw_mu_saved.h"

#define UNIX_MAX (INT64_C(1) << 40)

/* A start as command/modem-update carries it (the fields gw_mu_cmd_parse reads back). */
static json_t *cmd_json(const struct gw_mu_cmd *c)
{
	json_t *o = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)c->id, "action", "start", "method",
	                      fwu_method_name(c->method));

	if (o && c->url[0])
		json_object_set_new(o, "url", json_string(c->url));
	if (o && c->package[0])
		json_object_set_new(o, "package", json_string(c->package));
	if (o && c->md5[0])
		json_object_set_new(o, "md5", json_string(c->md5));
	return o;
}

static json_t *saved_json(const struct gw_mu_saved *s)
{
	json_t *o = json_pack("{s:i,s:I}", "v", 1, "lastId", (json_int_t)s->last_id), *w, *c;

	if (o && s->waiting) {
		w = json_pack("{s:b,s:o}", "paused", s->paused, "command", cmd_json(&s->cmd));
		json_object_set_new(o, "waiting", w);
	}
	if (o && s->cur_method != FWU_M_NONE) {
		c = json_pack("{s:I,s:s,s:I,s:b,s:I}", "id", (json_int_t)s->cur_id, "method",
		              fwu_method_name(s->cur_method), "seq", (json_int_t)s->cur_seq,
		              "acked", s->acked, "deferredUntil", (json_int_t)s->deferred_until);
		if (c && s->have_cur_cmd)
			json_object_set_new(c, "command", cmd_json(&s->cur_cmd));
		json_object_set_new(o, "current", c);
	}
	return o;
}

int gw_mu_saved_to_json(const struct gw_mu_saved *s, char **out, size_t *out_len)
{
	json_t *o = saved_json(s);
	char *js = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	struct gw_mu_saved back;
	char err[160];

	json_decref(o);
	if (!js)
		return FUOTA_ERR_NO_MEMORY;
	/* what is written must read back: a bad struct never becomes a file */
	if (gw_mu_saved_parse(js, strlen(js), &back, err, sizeof(err)) != FUOTA_OK) {
		free(js);
		return FUOTA_ERR_INVALID_ARG;
	}
	*out = js;
	*out_len = strlen(js);
	return FUOTA_OK;
}

/* A start under key k of o into c, of a host transfer unless ufota_ok. */
static int saved_cmd(json_t *o, const char *where, bool ufota_ok, struct gw_mu_cmd *c, char *err,
                     size_t errlen)
{
	json_t *v = json_object_get(o, "command");
	char *js = v ? json_dumps(v, JSON_COMPACT) : NULL;
	char why[160];
	int rc;

	if (!json_is_object(v) || !js) {
		free(js);
		return fuota_malformed(err, errlen, "%s.command: an object is required", where);
	}
	rc = gw_mu_cmd_parse(js, strlen(js), c, why, sizeof(why));
	free(js);
	if (rc != FUOTA_OK)
		return fuota_malformed(err, errlen, "%s.command: %s", where, why);
	if (c->action != GW_MU_START || (!ufota_ok && c->method == FWU_M_UFOTA))
		return fuota_malformed(err, errlen, "%s.command: a start of a host transfer",
		                       where);
	return FUOTA_OK;
}

static bool opt_bool(json_t *o, const char *k, bool *out)
{
	json_t *v = json_object_get(o, k);

	*out = json_is_true(v);
	return !v || json_is_boolean(v);
}

static bool int_in(json_t *o, const char *k, int64_t lo, int64_t hi, int64_t *out)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return false;
	*out = json_integer_value(v);
	return true;
}

static int waiting(json_t *w, struct gw_mu_saved *s, char *err, size_t errlen)
{
	if (!json_is_object(w))
		return fuota_malformed(err, errlen, "waiting: an object is required");
	if (!opt_bool(w, "paused", &s->paused))
		return fuota_malformed(err, errlen, "waiting.paused: true or false");
	s->waiting = true;
	return saved_cmd(w, "waiting", false, &s->cmd, err, errlen);
}

static int current(json_t *c, struct gw_mu_saved *s, char *err, size_t errlen)
{
	json_t *m = json_object_get(c, "method");
	int64_t seq;

	if (!json_is_object(c))
		return fuota_malformed(err, errlen, "current: an object is required");
	if (!int_in(c, "id", 0, INT64_MAX, &s->cur_id))
		return fuota_malformed(err, errlen, "current.id: an integer >= 0 is required");
	if (!json_is_string(m) || fwu_method_parse(json_string_value(m), &s->cur_method) != 0 ||
	    s->cur_method == FWU_M_NONE || s->cur_method == FWU_M_ROT)
		return fuota_malformed(err, errlen,
		                       "current.method: ufota, foat, http, ftp or uart");
	if (!int_in(c, "seq", 0, UINT32_MAX, &seq))
		return fuota_malformed(err, errlen, "current.seq: 0..4294967295 is required");
	s->cur_seq = (uint32_t)seq;
	if (!opt_bool(c, "acked", &s->acked))
		return fuota_malformed(err, errlen, "current.acked: true or false");
	if (json_object_get(c, "deferredUntil") &&
	    !int_in(c, "deferredUntil", 0, UNIX_MAX, &s->deferred_until))
		return fuota_malformed(err, errlen, "current.deferredUntil: unix seconds");
	if (!json_object_get(c, "command"))
		return FUOTA_OK;
	s->have_cur_cmd = true;
	if (saved_cmd(c, "current", false, &s->cur_cmd, err, errlen) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	if (s->cur_cmd.method != s->cur_method || s->cur_cmd.id != s->cur_id)
		return fuota_malformed(err, errlen, "current.command: another update's");
	return FUOTA_OK;
}

static int fields(json_t *j, struct gw_mu_saved *s, char *err, size_t errlen)
{
	json_t *w = json_object_get(j, "waiting"), *c = json_object_get(j, "current");
	int64_t v;

	if (!json_is_object(j))
		return fuota_malformed(err, errlen, "not a JSON object");
	if (!int_in(j, "v", 1, 1, &v))
		return fuota_malformed(err, errlen, "v: version 1 is required");
	if (!int_in(j, "lastId", 0, INT64_MAX, &s->last_id))
		return fuota_malformed(err, errlen, "lastId: an integer >= 0 is required");
	if (w && waiting(w, s, err, errlen) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	if (c && current(c, s, err, errlen) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	return FUOTA_OK;
}

int gw_mu_saved_parse(const char *buf, size_t len, struct gw_mu_saved *out, char *err,
                      size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!j)
		return fuota_malformed(err, errlen, "not JSON: %s", je.text);
	rc = fields(j, out, err, errlen);
	json_decref(j);
	if (rc != FUOTA_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* ---- The start-up decision ---- */

static void say(struct gw_mu_boot *b, const char *state, bool event)
{
	snprintf(b->state, sizeof(b->state), "%s", state);
	b->event = event;
}

static void keep_cur(struct gw_mu_boot *b, const struct gw_mu_saved *s)
{
	b->cur_id = s->cur_id;
	b->cur_method = s->cur_method;
	b->acked = s->acked;
	b->deferred_until = s->deferred_until;
}

/* An install, or a host transfer, that the manager has under way. */
static void under_way(struct gw_mu_boot *b, const struct gw_mu_saved *s,
                      const struct fwu_status *st)
{
	bool ours = s->cur_method == st->method;

	b->job = GW_MU_BOOT_RESUME;
	b->cur_method = st->method;
	b->cur_id = ours ? s->cur_id : 0;
	/* FOAT before its install: fwu_foat sends the package again (§4.1.1), which a resume
	 * without the package cannot */
	if (ours && s->have_cur_cmd && st->method == FWU_M_FOAT &&
	    (st->state == FWU_S_UPDATE_MODE || st->state == FWU_S_DOWNLOADING))
		b->job = GW_MU_BOOT_TRANSFER;
	b->redo = ours && s->have_cur_cmd && st->state == FWU_S_DOWNLOADING &&
	          (st->method == FWU_M_HTTP || st->method == FWU_M_FTP || st->method == FWU_M_UART);
}

/* uFOTA: the module's campaign, or the server's request, of fuotad's start. */
static bool ufota(struct gw_mu_boot *b, const struct gw_mu_saved *s, const struct fwu_status *st,
                  int64_t now_s)
{
	bool moved = st->seq != s->cur_seq;

	if (s->cur_method != FWU_M_UFOTA)
		return false;
	if (st->method == FWU_M_UFOTA &&
	    (st->state == FWU_S_DOWNLOADING || st->state == FWU_S_DOWNLOADED)) {
		keep_cur(b, s);
		say(b, "downloading", false);
		return true;
	}
	if (st->method == FWU_M_UFOTA && st->state == FWU_S_PAUSED) {
		keep_cur(b, s);
		b->acked = false;
		/* a resume held past a window (deferredUntil) stays held */
		if (s->deferred_until > 0 && !s->acked)
			say(b, "deferred", false);
		else
			say(b, "paused", true);
		if (s->acked)
			b->deferred_until = 0;
		return true;
	}
	if (st->state == FWU_S_ACK_PENDING) {
		keep_cur(b, s);
		if (s->acked && s->deferred_until > now_s)
			say(b, "deferred", false);
		else
			say(b, "starting", false);
		return true;
	}
	if (!moved && s->cur_id > 0) { /* the server has not asked yet */
		keep_cur(b, s);
		say(b, "starting", false);
		return true;
	}
	return false;
}

void gw_mu_boot(const struct gw_mu_saved *s, const struct fwu_status *st, int64_t now_s,
                struct gw_mu_boot *out)
{
	bool moved = st->seq != s->cur_seq,
	     ended = st->state == FWU_S_DONE || st->state == FWU_S_FAILED;

	memset(out, 0, sizeof(*out));
	out->waiting = s->waiting;
	out->paused = s->waiting && s->paused;
	if (s->waiting)
		out->cmd = s->cmd;
	if (!fwu_reset_allowed(st->state) || fwu_update_under_way(st, st->method)) {
		under_way(out, s, st);
	} else if (s->cur_method != FWU_M_NONE && s->cur_method == st->method && moved && ended) {
		out->report_final = true;
		out->cur_id = s->cur_id;
		out->cur_method = st->method;
		say(out, gw_mu_state_of(st), true);
		out->cur_method = FWU_M_NONE; /* over: nothing stays current */
	} else if (ufota(out, s, st, now_s)) {
		/* kept */
	} else if (s->cur_method != FWU_M_NONE && s->cur_method != FWU_M_UFOTA && !moved &&
	           s->have_cur_cmd && !s->waiting) {
		/* killed after "starting", before the worker's first step: it waits again */
		out->waiting = true;
		out->paused = false;
		out->cmd = s->cur_cmd;
	}
	if (out->waiting && !out->state[0])
		say(out, out->paused ? "paused" : "deferred", out->paused);
}

enum gw_mu_lost gw_mu_lost_judge(const struct gw_mu_cmd *c, const struct fwu_status *st,
                                 const char *version_now)
{
	if (c->action != GW_MU_START || !c->md5[0])
		return GW_MU_LOST_TAKE;
	return fwu_update_done(st, c->method, c->md5, version_now) ? GW_MU_LOST_DONE
	                                                           : GW_MU_LOST_TAKE;
}
