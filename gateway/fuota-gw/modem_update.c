/* fuota-gw's modem updates (modem_update.h). */
#include "modem_update.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuota/err.h"
#include "fuota/gw_modem_cmd.h"
#include "fuota/gw_mu_saved.h"
#include "fuota/sara_fw.h"

#define EVENTS_MAX 256 /* events the main loop has not taken yet; past it the oldest goes */

enum job { JOB_NONE = 0, JOB_TRANSFER, JOB_WATCH, JOB_RESUME };

struct mu {
	struct mu_opts o;
	struct sara *s;
	struct fwu *u;
	char saved_path[1024], fw_path[1024];
	int64_t last_id;
	bool ids_lost; /* modem-update.gw did not read: the first command judged (gw_mu_lost) */
	struct gw_sessions sess;
	bool have_sess; /* nothing starts before fuotad's windows are known */
	/* the update fuotad asked for and that has not started (deferred or paused) */
	bool pending, paused;
	struct gw_mu_cmd cmd;
	int64_t deferred_until;
	/* the update under way: its id (0: a uFOTA push) and method (FWU_M_NONE: none), the
	 * manager's transition count when it became current */
	int64_t cur_id;
	enum fwu_method cur_method;
	uint32_t cur_seq;
	bool acked;        /* uFOTA: the pending request was answered */
	int64_t ack_until; /* ... and the download starts then */
	int64_t resume_at; /* uFOTA paused: fuotad's resume held until then (a window), 0 none */
	/* the worker */
	pthread_t th;
	bool running;
	enum job job;
	atomic_bool done;
	bool redo;          /* JOB_RESUME of a download: the transfer again after it */
	atomic_bool quiet;  /* ... and its failures until it goes again are not said */
	atomic_int request; /* uFOTA's FWU_UFOTA_* + 1 asked while the worker runs, 0 none */
	/* shared with the manager's reports (any thread) */
	pthread_mutex_t lock;
	char *events[EVENTS_MAX];
	size_t ev_head, ev_n;
	char last_state[16];
	int last_pct;
	struct gw_modem_update upd;
	char ver_before[48], ver_after[48]; /* of the manager's last report */
};

/* ---- Events ---- */

static void push_json(struct mu *m, char *js)
{
	pthread_mutex_lock(&m->lock);
	if (m->ev_n == EVENTS_MAX) {
		free(m->events[m->ev_head]);
		m->ev_head = (m->ev_head + 1) % EVENTS_MAX;
		m->ev_n--;
	}
	m->events[(m->ev_head + m->ev_n++) % EVENTS_MAX] = js;
	pthread_mutex_unlock(&m->lock);
}

/* An event of state naming the firmware before and after (with the lock not held); error may be
 * NULL. */
static void emit_fw(struct mu *m, int64_t id, enum fwu_method meth, const char *state, int pct,
                    int64_t until, const char *error, const char *before, const char *after)
{
	struct gw_mu_event e = {.id = id, .progress = pct, .deferred_until = until};
	bool refusal = !strcmp(state, "rejected");
	char *js = NULL;
	size_t len;

	snprintf(e.state, sizeof(e.state), "%s", state);
	snprintf(e.method, sizeof(e.method), "%s", fwu_method_name(meth));
	snprintf(e.fw_before, sizeof(e.fw_before), "%s", before);
	snprintf(e.fw, sizeof(e.fw), "%s", !strcmp(state, "done") ? after : "");
	snprintf(e.error, sizeof(e.error), "%s", error ? error : "");
	fprintf(stderr, "fuota-gw: modem update %" PRId64 " (%s): %s%s%s\n", id, e.method, state,
	        error && *error ? ": " : "", error ? error : "");
	if (gw_mu_event_to_json(&e, &js, &len) == FUOTA_OK)
		push_json(m, js);
	if (refusal)
		return; /* a command refused: the update under way (if any) is unchanged */
	pthread_mutex_lock(&m->lock);
	m->upd = (struct gw_modem_update){.id = id, .progress = pct, .active = true};
	snprintf(m->upd.state, sizeof(m->upd.state), "%s", state);
	snprintf(m->upd.method, sizeof(m->upd.method), "%s", e.method);
	if (!strcmp(state, "done") || !strcmp(state, "failed") || !strcmp(state, "cancelled"))
		m->upd.active = false;
	snprintf(m->last_state, sizeof(m->last_state), "%s", state);
	m->last_pct = pct;
	pthread_mutex_unlock(&m->lock);
}

/* An event of state with the manager's last versions (emit_fw). */
static void emit(struct mu *m, int64_t id, enum fwu_method meth, const char *state, int pct,
                 int64_t until, const char *error)
{
	char before[48], after[48];

	pthread_mutex_lock(&m->lock);
	snprintf(before, sizeof(before), "%s", m->ver_before);
	snprintf(after, sizeof(after), "%s", m->ver_after);
	pthread_mutex_unlock(&m->lock);
	emit_fw(m, id, meth, state, pct, until, error, before, after);
}

/* The manager's report, on whichever thread drives it: an event when the state changes or the
 * progress moves by 10 points. */
static void on_report(void *ctx, const struct fwu_status *st, const char *msg)
{
	struct mu *m = ctx;
	const char *name = gw_mu_state_of(st);
	bool news;
	int pct = st->pct;

	pthread_mutex_lock(&m->lock);
	if (st->ver_before[0])
		snprintf(m->ver_before, sizeof(m->ver_before), "%s", st->ver_before);
	snprintf(m->ver_after, sizeof(m->ver_after), "%s", st->ver_after);
	pthread_mutex_unlock(&m->lock);
	if (!name || st->method == FWU_M_ROT)
		return;
	if (atomic_load(&m->quiet) && st->state == FWU_S_FAILED)
		return; /* a download cut by the restart, going again (resume) */
	if (st->state == FWU_S_DONE)
		pct = 100;
	pthread_mutex_lock(&m->lock);
	news = strcmp(name, m->last_state) != 0 || pct / 10 != m->last_pct / 10;
	pthread_mutex_unlock(&m->lock);
	if (news)
		emit(m, m->cur_id, st->method, name, pct, 0,
		     st->state == FWU_S_FAILED ? (msg && *msg ? msg : fwu_fail_name(st->fail))
		                               : NULL);
}

bool mu_pop_event(struct mu *m, char **json, size_t *len)
{
	bool got = false;

	pthread_mutex_lock(&m->lock);
	if (m->ev_n) {
		*json = m->events[m->ev_head];
		*len = strlen(*json);
		m->ev_head = (m->ev_head + 1) % EVENTS_MAX;
		m->ev_n--;
		got = true;
	}
	pthread_mutex_unlock(&m->lock);
	return got;
}

void mu_update_state(struct mu *m, struct gw_modem_update *out)
{
	pthread_mutex_lock(&m->lock);
	*out = m->upd;
	pthread_mutex_unlock(&m->lock);
}

/* ---- What a restart takes up (gw_mu_saved.h): one file, written whole ---- */

/* The file from the update's fields; main thread only. A failure is logged: the state in
 * memory goes on, a restart would take up the previous file. */
static void save(struct mu *m)
{
	struct gw_mu_saved sv = {.last_id = m->last_id,
	                         .waiting = m->pending,
	                         .paused = m->pending && m->paused,
	                         .cur_id = m->cur_id,
	                         .cur_method = m->cur_method,
	                         .cur_seq = m->cur_seq,
	                         .acked = m->acked,
	                         .deferred_until = m->acked ? m->ack_until : m->resume_at};
	char *js = NULL;
	size_t len;

	if (m->pending)
		sv.cmd = m->cmd;
	if (m->cur_method != FWU_M_NONE && m->cur_method != FWU_M_UFOTA && m->cmd.id == m->cur_id &&
	    m->cmd.method == m->cur_method && !m->pending) {
		sv.have_cur_cmd = true;
		sv.cur_cmd = m->cmd;
	}
	if (gw_mu_saved_to_json(&sv, &js, &len) != FUOTA_OK ||
	    fwu_file_replace(m->saved_path, js, len) != FUOTA_OK)
		fprintf(stderr, "fuota-gw: cannot save the modem update's state in %s: %s\n",
		        m->saved_path, strerror(errno));
	free(js);
}

/* The update fuotad asked for becomes the one under way. */
static void make_current(struct mu *m, int64_t id, enum fwu_method meth)
{
	m->cur_id = id;
	m->cur_method = meth;
	m->cur_seq = fwu_get_status(m->u)->seq;
	m->acked = false;
	m->ack_until = 0;
}

/* ---- The worker ---- */

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;
	int rc = FUOTA_ERR_IO;

	*out = NULL;
	if (!f)
		return FUOTA_ERR_NOT_FOUND;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (64L << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (*out = malloc((size_t)n)) &&
	    fread(*out, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
		rc = FUOTA_OK;
	}
	fclose(f);
	if (rc != FUOTA_OK) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

static int transfer(struct mu *m)
{
	const struct gw_mu_cmd *c = &m->cmd;
	uint32_t tmo = (m->o.xfer_s ? m->o.xfer_s : 600) * 1000u;
	struct gw_url url;
	uint8_t *pkg = NULL;
	size_t len = 0;
	int rc;

	fwu_set_package_md5(m->u, c->md5[0] ? c->md5 : NULL);
	if (c->method == FWU_M_HTTP || c->method == FWU_M_FTP) {
		(void)gw_url_parse(c->url, &url); /* checked by the parser */
		if (c->method == FWU_M_FTP) {
			struct sara_ftp_cfg f = {.server_name = url.host,
			                         .user = m->o.ftp_user,
			                         .password = m->o.ftp_pass,
			                         .port = url.port,
			                         .passive = true};
			return fwu_ftp(m->u, &f, url.path, c->md5, tmo);
		}
		struct sara_http_cfg h = {.server_name = url.host,
		                          .user = m->o.http_user,
		                          .password = m->o.http_pass,
		                          .port = url.port,
		                          .timeout_s = 60};
		return fwu_http(m->u, 0, &h, url.path, c->md5, tmo);
	}
	if ((rc = read_file(c->package, &pkg, &len)) != FUOTA_OK) {
		emit(m, m->cur_id, c->method, "failed", -1, 0, "cannot read the package");
		return rc;
	}
	if (c->method == FWU_M_FOAT) {
		struct fwu_foat_opts fo = {.use_1k = true};
		rc = fwu_foat(m->u, pkg, len, &fo);
	} else {
		rc = fwu_uart(m->u, pkg, len, tmo);
	}
	free(pkg);
	return rc;
}

/* uFOTA's download and install, which the module runs: followed until they end. A pause,
 * resume or cancel fuotad asks for meanwhile is sent between two slices of the watch. */
static int watch(struct mu *m)
{
	const struct fwu_status *st = fwu_get_status(m->u);
	int rc = FUOTA_OK;

	for (int slice = 0; slice < 4 * 3600; slice++) {
		int req = atomic_exchange(&m->request, 0);

		if (req && (rc = fwu_ufota_ctl(m->u, req - 1)) != FUOTA_OK)
			emit(m, m->cur_id, FWU_M_UFOTA, "rejected", -1, 0, fwu_last_error(m->u));
		if (st->state == FWU_S_DOWNLOADED)
			return fwu_install(m->u); /* "download only" mode */
		if (st->state == FWU_S_PAUSED)
			return FUOTA_OK; /* the backhaul comes back while it waits */
		if (st->state == FWU_S_DONE || st->state == FWU_S_FAILED ||
		    st->state == FWU_S_IDLE || st->state == FWU_S_ACK_PENDING)
			return rc;
		rc = fwu_watch(m->u, 1000);
		if (rc != FUOTA_OK && rc != FUOTA_ERR_TIMEOUT)
			return rc;
	}
	return FUOTA_ERR_TIMEOUT;
}

/* The manager goes on with what a restart found under way; a download it ends as
 * interrupted goes again from its command (gw_mu_boot's redo). */
static int resume(struct mu *m)
{
	int rc = fwu_resume(m->u);
	const struct fwu_status *st = fwu_get_status(m->u);
	uint32_t waited_s = 0, limit_s = m->o.xfer_s ? m->o.xfer_s : 600;

	if (!m->redo || st->state != FWU_S_FAILED || st->fail != FWU_F_INTERRUPTED) {
		atomic_store(&m->quiet, false);
		return rc;
	}
	m->redo = false;
	fprintf(stderr, "fuota-gw: modem update %" PRId64 " (%s): the download again\n", m->cur_id,
	        fwu_method_name(m->cmd.method));
	/* the module may still be busy with the download the restart cut from us (it refuses
	 * a new one until then): tried again every 2 s, its failures unsaid, up to the longest
	 * download */
	while ((rc = transfer(m)) != FUOTA_OK && st->state == FWU_S_FAILED &&
	       st->fail == FWU_F_DOWNLOAD && waited_s < limit_s) {
		sleep(2);
		waited_s += 2;
	}
	atomic_store(&m->quiet, false);
	return rc;
}

static void *worker(void *arg)
{
	struct mu *m = arg;
	int rc = m->job == JOB_TRANSFER ? transfer(m) : m->job == JOB_WATCH ? watch(m) : resume(m);

	if (rc != FUOTA_OK)
		fprintf(stderr, "fuota-gw: modem update: %s (%s)\n", fuota_strerror(rc),
		        fwu_last_error(m->u));
	/* the module may have rebooted: the backhaul's own settings and registration again */
	if (sara_boot(m->s, 30000) != FUOTA_OK || sara_cgev_enable(m->s) != FUOTA_OK ||
	    sara_register(m->s, m->o.apn, 180000, NULL) != FUOTA_OK)
		fprintf(stderr, "fuota-gw: modem after the update: %s\n", sara_last_error(m->s));
	/* an update erases the NVM, +UFOTACONFIG's mode with it: without wait-for-ack the next
	 * server campaign would download and install inside a session */
	if (m->o.ufota_ack && fwu_ufota_config(m->u, 2) != FUOTA_OK)
		fprintf(stderr, "fuota-gw: uFOTA wait-for-ack mode: %s\n", fwu_last_error(m->u));
	atomic_store(&m->done, true);
	return NULL;
}

void mu_go(struct mu *m)
{
	atomic_store(&m->done, false);
	atomic_store(&m->request, 0);
	if (pthread_create(&m->th, NULL, worker, m) != 0) {
		emit(m, m->cur_id, m->cur_method, "failed", -1, 0, "cannot start a thread");
		m->job = JOB_NONE;
		return;
	}
	m->running = true;
}

bool mu_busy(const struct mu *m)
{
	return m->running;
}

/* ---- Commands and the main loop's turn ---- */

static bool terminal(const char *state)
{
	return !*state || !strcmp(state, "done") || !strcmp(state, "failed") ||
	       !strcmp(state, "cancelled") || !strcmp(state, "rejected");
}

static int64_t duration(const struct mu *m, enum fwu_method meth, const char *package)
{
	struct stat sb;
	uint64_t bytes = package && stat(package, &sb) == 0 ? (uint64_t)sb.st_size : 0;

	return gw_mu_duration(meth, bytes, m->o.baud, m->o.dl_s ? m->o.dl_s : 300,
	                      m->o.install_s ? m->o.install_s : 1920);
}

/* pause, resume, cancel: of the update that waits, of a uFOTA download, or refused. */
/* A uFOTA download's resume while a window is near: held, deferred past it (a resume spans
 * the rest of the download and the install, as a start would). */
static bool hold_resume(struct mu *m, int64_t now_s)
{
	int64_t t = gw_mu_earliest(&m->sess, duration(m, FWU_M_UFOTA, NULL), now_s);

	if (t <= now_s)
		return false;
	m->resume_at = t;
	emit(m, m->cur_id, FWU_M_UFOTA, "deferred", -1, t, NULL);
	return true;
}

/* A pause or resume while a resume is held: the hold dropped (pause: paused again) or asked
 * again (resume: held anew, or sent now that no window is near). */
static void held_control(struct mu *m, const struct gw_mu_cmd *c, int64_t now_s)
{
	m->resume_at = 0;
	if (c->action == GW_MU_PAUSE) {
		emit(m, m->cur_id, FWU_M_UFOTA, "paused", -1, 0, NULL);
		return;
	}
	if (hold_resume(m, now_s))
		return;
	if (fwu_ufota_ctl(m->u, FWU_UFOTA_RESUME) != FUOTA_OK)
		emit(m, c->id, FWU_M_UFOTA, "rejected", -1, 0, fwu_last_error(m->u));
}

static void control(struct mu *m, const struct gw_mu_cmd *c, int64_t now_s)
{
	static const int op[] = {0, 0, FWU_UFOTA_PAUSE, FWU_UFOTA_RESUME, FWU_UFOTA_CANCEL};
	const struct fwu_status *st = fwu_get_status(m->u); /* read only while no worker runs */

	if (m->running) {
		if (m->cur_method == FWU_M_UFOTA)
			atomic_store(&m->request, op[c->action] + 1);
		else
			emit(m, c->id, c->method, "rejected", -1, 0,
			     "a transfer by the host cannot be paused or cancelled once started");
		return;
	}
	if (m->pending && c->action == GW_MU_CANCEL) {
		m->pending = false;
		emit(m, m->cmd.id, m->cmd.method, "cancelled", -1, 0, NULL);
	} else if (m->pending) {
		m->paused = c->action == GW_MU_PAUSE;
		m->deferred_until = 0;
		if (m->paused)
			emit(m, m->cmd.id, m->cmd.method, "paused", -1, 0, NULL);
	} else if (st->state == FWU_S_ACK_PENDING && c->action == GW_MU_CANCEL) {
		if (fwu_ufota_ack(m->u, 0) != FUOTA_OK)
			emit(m, c->id, FWU_M_UFOTA, "rejected", -1, 0, fwu_last_error(m->u));
	} else if (st->method == FWU_M_UFOTA && st->state == FWU_S_PAUSED && m->resume_at &&
	           c->action != GW_MU_CANCEL) {
		held_control(m, c, now_s);
	} else if (st->method == FWU_M_UFOTA && st->state == FWU_S_PAUSED &&
	           c->action == GW_MU_RESUME && m->have_sess && hold_resume(m, now_s)) {
		/* held: mu_tick resumes it once the windows allow */
	} else if (st->method == FWU_M_UFOTA &&
	           (st->state == FWU_S_DOWNLOADING || st->state == FWU_S_PAUSED)) {
		m->resume_at = 0;
		if (fwu_ufota_ctl(m->u, op[c->action]) != FUOTA_OK)
			emit(m, c->id, FWU_M_UFOTA, "rejected", -1, 0, fwu_last_error(m->u));
	} else if (c->action == GW_MU_CANCEL && m->cur_method == FWU_M_UFOTA && m->cur_id > 0 &&
	           !m->acked && !strcmp(m->last_state, "starting")) {
		/* a uFOTA start whose server has not asked yet: it ends here (a request that comes
		 * later is the gateway's own, id 0) */
		emit(m, m->cur_id, FWU_M_UFOTA, "cancelled", -1, 0, NULL);
		m->cur_method = FWU_M_NONE;
	} else {
		emit(m, c->id, c->method, "rejected", -1, 0, "no update to act on in this state");
	}
}

static void start(struct mu *m, const struct gw_mu_cmd *c)
{
	const struct fwu_status *st = fwu_get_status(m->u);

	if (m->pending || m->running || !fwu_transfer_allowed(st->state, c->method) ||
	    st->state == FWU_S_ACK_PENDING) {
		emit(m, c->id, c->method, "rejected", -1, 0, "another update is under way");
		return;
	}
	if (c->method == FWU_M_UFOTA) {
		/* the server's request comes back as +UFOTASTAT: 0,3,0 and is acked past the
		 * windows (wait-for-ack mode) */
		int reg = -1, sec = -1, rc = fwu_ufota_register(m->u, true, &reg, &sec);

		make_current(m, c->id, FWU_M_UFOTA);
		emit(m, c->id, FWU_M_UFOTA, rc == FUOTA_OK ? "starting" : "failed", -1, 0,
		     rc == FUOTA_OK ? NULL : fwu_last_error(m->u));
		if (rc != FUOTA_OK)
			m->cur_method = FWU_M_NONE;
		return;
	}
	m->cmd = *c;
	m->pending = true;
	m->paused = false;
	m->deferred_until = 0;
}

/* With the ids lost, a start whose update ran to its end already (gw_mu_lost_judge) is not run
 * again: its end is said again under its id, so that fuotad, which may not have had it yet (it
 * clears its retained command when it does), ends the update. Main thread, no worker. */
static bool ran_already(struct mu *m, const struct gw_mu_cmd *c)
{
	const struct fwu_status *st = fwu_get_status(m->u);
	char now[48];

	if (mu_busy(m))
		return false;
	pthread_mutex_lock(&m->lock);
	snprintf(now, sizeof(now), "%s", m->ver_before); /* the module's, read at start-up */
	pthread_mutex_unlock(&m->lock);
	if (gw_mu_lost_judge(c, st, now) != GW_MU_LOST_DONE)
		return false;
	fprintf(stderr,
	        "fuota-gw: modem command %" PRId64 ": its update ran already (firmware %s): not "
	        "run again\n",
	        c->id, now);
	emit_fw(m, c->id, c->method, "done", 100, 0, NULL, st->ver_before, st->ver_after);
	pthread_mutex_lock(&m->lock);
	snprintf(m->ver_after, sizeof(m->ver_after), "%s", st->ver_after);
	pthread_mutex_unlock(&m->lock);
	return true;
}

void mu_command(struct mu *m, const char *kind, const void *payload, size_t len, int64_t now_s)
{
	struct gw_mu_cmd c;
	struct gw_sessions s;
	char err[160];

	if (!strcmp(kind, "sessions")) {
		if (gw_sessions_parse(payload, len, &s, err, sizeof(err)) != FUOTA_OK) {
			fprintf(stderr, "fuota-gw: command/sessions ignored: %s\n", err);
			return;
		}
		m->sess = s;
		m->have_sess = true;
		fprintf(stderr, "fuota-gw: %zu session windows, guard %" PRId64 " s\n", s.n,
		        s.guard_s);
		return;
	}
	if (len == 0)
		return; /* fuotad cleared the retained command: its updates are over */
	if (gw_mu_cmd_parse(payload, len, &c, err, sizeof(err)) != FUOTA_OK) {
		fprintf(stderr, "fuota-gw: command/modem-update ignored: %s\n", err);
		return;
	}
	if (c.id <= m->last_id) {
		fprintf(stderr, "fuota-gw: modem command %" PRId64 " handled already\n", c.id);
		return;
	}
	m->last_id = c.id;
	if (m->ids_lost) {
		m->ids_lost = false;
		if (ran_already(m, &c)) {
			save(m);
			return;
		}
	}
	if (c.action == GW_MU_START)
		start(m, &c);
	else
		control(m, &c, now_s);
	save(m); /* the id handled and what it changed, in one write */
}

/* uFOTA's server asks (wait-for-ack mode): accepted with +UFOTAACK delayed past the windows. */
static void ack_request(struct mu *m, int64_t now_s)
{
	int64_t t = gw_mu_earliest(&m->sess, duration(m, FWU_M_UFOTA, NULL), now_s);
	int64_t delay = t - now_s < 1 ? 1 : t - now_s;

	if (m->cur_method != FWU_M_UFOTA || terminal(m->last_state))
		make_current(m, 0, FWU_M_UFOTA); /* a push fuotad did not ask for */
	if (delay > 86400)
		delay = 86400; /* +UFOTAACK's range; asked again is not possible: the module waits
		                */
	if (fwu_ufota_ack(m->u, (int)delay) != FUOTA_OK) {
		emit(m, m->cur_id, FWU_M_UFOTA, "failed", -1, 0, fwu_last_error(m->u));
		return;
	}
	m->acked = true;
	m->ack_until = now_s + delay;
	save(m); /* a restart must not ack again (the module refuses) nor lose the id */
	emit(m, m->cur_id, FWU_M_UFOTA, delay > 1 ? "deferred" : "starting", -1,
	     delay > 1 ? now_s + delay : 0, NULL);
}

/* A held uFOTA resume whose time came: sent, or held again when a window moved in. */
static void held_resume(struct mu *m, int64_t now_s)
{
	const struct fwu_status *st = fwu_get_status(m->u);

	m->resume_at = 0;
	if (st->method == FWU_M_UFOTA && st->state == FWU_S_PAUSED && !hold_resume(m, now_s) &&
	    fwu_ufota_ctl(m->u, FWU_UFOTA_RESUME) != FUOTA_OK)
		emit(m, m->cur_id, FWU_M_UFOTA, "failed", -1, 0, fwu_last_error(m->u));
	save(m);
}

/* The update fuotad asked for: started when no window is near, else deferred (once an event). */
static enum mu_tick pending_tick(struct mu *m, int64_t now_s)
{
	int64_t t;

	if (m->paused)
		return MU_IDLE;
	t = gw_mu_earliest(&m->sess, duration(m, m->cmd.method, m->cmd.package), now_s);
	if (t > now_s) {
		if (t != m->deferred_until)
			emit(m, m->cmd.id, m->cmd.method, "deferred", -1, t, NULL);
		m->deferred_until = t;
		return MU_IDLE;
	}
	m->pending = false;
	make_current(m, m->cmd.id, m->cmd.method);
	save(m); /* from here a restart goes on with it (or waits again if it never began) */
	m->job = JOB_TRANSFER;
	emit(m, m->cmd.id, m->cmd.method, "starting", -1, 0, NULL);
	return MU_START;
}

enum mu_tick mu_tick(struct mu *m, int64_t now_s)
{
	const struct fwu_status *st = fwu_get_status(m->u);

	if (m->running) {
		if (!atomic_load(&m->done))
			return MU_BUSY;
		pthread_join(m->th, NULL);
		m->running = false;
		m->job = JOB_NONE;
		m->acked = false;
		if (st->method == FWU_M_UFOTA && st->state == FWU_S_PAUSED) {
			/* paused: the backhaul comes back (a resume comes over it), the update
			 * stays the one under way */
			save(m);
			return MU_ENDED;
		}
		if (!terminal(m->last_state))
			emit(m, m->cur_id, m->cur_method, "failed", -1, 0,
			     *fwu_last_error(m->u) ? fwu_last_error(m->u) : "stopped");
		m->cur_method = FWU_M_NONE;
		save(m);
		return MU_ENDED;
	}
	if (m->job == JOB_RESUME || m->job == JOB_TRANSFER)
		return MU_START;
	if (m->cur_method != FWU_M_NONE && st->seq != m->cur_seq && terminal(m->last_state) &&
	    (st->state == FWU_S_DONE || st->state == FWU_S_FAILED)) {
		m->cur_method = FWU_M_NONE; /* a uFOTA start the server or the module ended */
		save(m);
	}
	if (st->method == FWU_M_UFOTA &&
	    (st->state == FWU_S_DOWNLOADING || st->state == FWU_S_DOWNLOADED ||
	     !fwu_reset_allowed(st->state))) {
		/* the module downloads: the backhaul's socket closes before it completes (§3.7.3)
		 */
		if (m->cur_method != FWU_M_UFOTA) {
			make_current(m, 0, FWU_M_UFOTA); /* a push fuotad did not ask for */
			save(m);
		}
		m->job = JOB_WATCH;
		return MU_START_NOW;
	}
	if (!m->have_sess)
		return MU_IDLE; /* after a start, the retained windows come with the connection */
	if (m->resume_at && now_s >= m->resume_at)
		held_resume(m, now_s);
	if (st->state == FWU_S_ACK_PENDING && !m->acked) {
		ack_request(m, now_s);
		return MU_IDLE;
	}
	return m->pending ? pending_tick(m, now_s) : MU_IDLE;
}

/* ---- Open and close ---- */

bool mu_module_away(const char *state_dir)
{
	char path[1024];
	struct fwu_status st;
	struct fwu_desired d;

	snprintf(path, sizeof(path), "%s/modem-update.state", state_dir);
	return fwu_file_read(path, &st, &d) == FUOTA_OK && !fwu_reset_allowed(st.state);
}

/* A number file of a fuota-gw of before modem-update.gw; 0 when missing or not a number. */
static int64_t legacy_id(const char *path)
{
	FILE *f = fopen(path, "r");
	long long v = 0;

	if (f) {
		if (fscanf(f, "%lld", &v) != 1 || v < 0)
			v = 0;
		fclose(f);
	}
	return v;
}

/* The saved file, or (a fuota-gw of before it) the three files it replaces, or nothing. A file
 * that does not read is set aside as <file>.bad and said so: the manager's own state still keeps
 * an install from a reset, and commands are judged from id 0. */
static void saved_load(struct mu *m, const struct fwu_status *st, struct gw_mu_saved *sv)
{
	char buf[4096], bad[1100], old[1100], err[160];
	size_t n;
	FILE *f = fopen(m->saved_path, "r");

	memset(sv, 0, sizeof(*sv));
	if (f) {
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (n < sizeof(buf) && gw_mu_saved_parse(buf, n, sv, err, sizeof(err)) == FUOTA_OK)
			return;
		if (n == sizeof(buf))
			snprintf(err, sizeof(err), "larger than %zu bytes", sizeof(buf) - 1);
		snprintf(bad, sizeof(bad), "%s.bad", m->saved_path);
		(void)rename(m->saved_path, bad);
		m->ids_lost = true;
		fprintf(stderr,
		        "fuota-gw: %s: %s; kept as %s, no modem update taken up, commands judged "
		        "from id 0 (a start whose update ran already is not run again)\n",
		        m->saved_path, err, bad);
		return;
	}
	snprintf(old, sizeof(old), "%s/modem-command-id", m->o.state_dir);
	sv->last_id = legacy_id(old);
	m->ids_lost = sv->last_id == 0; /* none at all: a state dir wiped, or a first start */
	(void)unlink(old);
	snprintf(old, sizeof(old), "%s/modem-update.current", m->o.state_dir);
	if ((sv->cur_id = legacy_id(old)) > 0 && st->method != FWU_M_NONE) {
		sv->cur_method = st->method;
		sv->cur_seq = st->seq + 1; /* it ran: what the manager says is its */
	}
	(void)unlink(old);
	snprintf(old, sizeof(old), "%s/modem-update.waiting", m->o.state_dir);
	if ((f = fopen(old, "r"))) {
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		sv->waiting = n < sizeof(buf) &&
		              gw_mu_cmd_parse(buf, n, &sv->cmd, err, sizeof(err)) == FUOTA_OK &&
		              sv->cmd.action == GW_MU_START && sv->cmd.method != FWU_M_UFOTA;
	}
	(void)unlink(old);
}

/* What the start-up decision says, said: an event, or only state/modem. */
static void announce(struct mu *m, const struct gw_mu_boot *b, const struct fwu_status *st)
{
	int64_t id = b->report_final || b->cur_method != FWU_M_NONE ? b->cur_id : b->cmd.id;
	enum fwu_method meth = b->report_final               ? st->method
	                       : b->cur_method != FWU_M_NONE ? b->cur_method
	                                                     : b->cmd.method;
	int64_t until = !strcmp(b->state, "deferred") ? b->deferred_until : 0;

	if (b->event) {
		emit(m, id, meth, b->state, st->state == FWU_S_DONE ? 100 : -1, until,
		     st->state == FWU_S_FAILED && b->report_final ? fwu_fail_name(st->fail) : NULL);
		return;
	}
	pthread_mutex_lock(&m->lock);
	m->upd = (struct gw_modem_update){.id = id, .progress = -1, .active = true};
	snprintf(m->upd.state, sizeof(m->upd.state), "%s", b->state);
	snprintf(m->upd.method, sizeof(m->upd.method), "%s", fwu_method_name(meth));
	snprintf(m->last_state, sizeof(m->last_state), "%s", b->state);
	pthread_mutex_unlock(&m->lock);
}

/* What an earlier run left (gw_mu_boot): an update under way (the manager goes on with it,
 * under its id), one that ended while no fuota-gw ran (its last event now), one that waits
 * (paused or not), a uFOTA start or request of fuotad's. */
static void recover(struct mu *m, int64_t now_s)
{
	const struct fwu_status *st = fwu_get_status(m->u);
	struct gw_mu_saved sv;
	struct gw_mu_boot b;
	struct sara_info info;

	snprintf(m->ver_before, sizeof(m->ver_before), "%s", st->ver_before);
	snprintf(m->ver_after, sizeof(m->ver_after), "%s", st->ver_after);
	saved_load(m, st, &sv);
	gw_mu_boot(&sv, st, now_s, &b);
	m->last_id = sv.last_id;
	m->cur_id = b.cur_id;
	m->cur_method = b.cur_method;
	m->cur_seq = b.cur_method == sv.cur_method ? sv.cur_seq : st->seq;
	m->acked = b.acked;
	m->ack_until = b.acked ? b.deferred_until : 0;
	m->resume_at = b.acked ? 0 : b.deferred_until;
	m->pending = b.waiting;
	m->paused = b.paused;
	if (b.waiting)
		m->cmd = b.cmd;
	if (b.job == GW_MU_BOOT_TRANSFER || b.redo)
		m->cmd = sv.cur_cmd;
	m->redo = b.redo;
	atomic_store(&m->quiet, b.redo);
	m->job = b.job == GW_MU_BOOT_RESUME     ? JOB_RESUME
	         : b.job == GW_MU_BOOT_TRANSFER ? JOB_TRANSFER
	                                        : JOB_NONE;
	if (m->job != JOB_NONE)
		fprintf(stderr, "fuota-gw: modem update %" PRId64 " (%s) under way: going on\n",
		        m->cur_id, fwu_method_name(m->cur_method));
	else if (sara_info(m->s, &info) == FUOTA_OK) /* firmwareBefore until the next */
		snprintf(m->ver_before, sizeof(m->ver_before), "%s,%s", info.fw, info.app);
	if (m->pending)
		fprintf(stderr, "fuota-gw: modem update %" PRId64 " still waits%s\n", m->cmd.id,
		        m->paused ? ", paused" : "");
	if (b.state[0])
		announce(m, &b, st);
	save(m);
}

/* The manager's state file does not decode (cut short, damaged): set aside as <file>.bad, said,
 * and the manager opened afresh (idle). Safe: the caller booted the module first, so it answers
 * AT and installs nothing (one that installs answers no AT: the boot fails and fuota-gw stops
 * before this, without a reset, until the install is over). */
static int manager_afresh(const struct fwu_config *fc, struct fwu **u)
{
	char bad[1100];

	snprintf(bad, sizeof(bad), "%s.bad", fc->state_path);
	if (rename(fc->state_path, bad) != 0)
		return FUOTA_ERR_MALFORMED;
	fprintf(stderr,
	        "fuota-gw: %s: not a modem-update state file (cut short or damaged); kept as %s, "
	        "the update manager starts idle\n",
	        fc->state_path, bad);
	return fwu_open(fc, u);
}

int mu_open(const struct mu_opts *o, struct sara *s, struct at_client *at, struct cell_serial *ser,
            struct mu **out)
{
	struct mu *m = calloc(1, sizeof(*m));
	struct fwu_config fc = {.sara = s,
	                        .at = at,
	                        .serial = ser,
	                        .baud = o->baud,
	                        .poll_ms = o->poll_ms,
	                        .on_report = on_report};
	struct fwu_desired d;
	const struct fwu_status *st;
	int rc;

	*out = NULL;
	if (!m)
		return FUOTA_ERR_NO_MEMORY;
	m->o = *o;
	m->s = s;
	m->last_pct = -1;
	m->sess.guard_s = 120;
	pthread_mutex_init(&m->lock, NULL);
	snprintf(m->saved_path, sizeof(m->saved_path), "%s/modem-update.gw", o->state_dir);
	snprintf(m->fw_path, sizeof(m->fw_path), "%s/modem-update.state", o->state_dir);
	fc.state_path = m->fw_path;
	fc.install_timeout_ms = o->install_timeout_s * 1000u;
	fc.ctx = m;
	if ((rc = fwu_open(&fc, &m->u)) == FUOTA_ERR_MALFORMED)
		rc = manager_afresh(&fc, &m->u);
	if (rc != FUOTA_OK) {
		free(m);
		return rc;
	}
	/* what an update erases and the manager restores (Table 16) */
	fwu_desired_init(&d);
	if (o->apn) {
		d.apn[0].cid = 1;
		snprintf(d.apn[0].pdp_type, sizeof(d.apn[0].pdp_type), "IP");
		snprintf(d.apn[0].apn, sizeof(d.apn[0].apn), "%s", o->apn);
	}
	d.urcs = o->ufota_ack;
	d.urcs_install = o->ufota_ack;
	(void)fwu_set_desired(m->u, &d);
	st = fwu_get_status(m->u);
	recover(m, (int64_t)time(NULL));
	if (m->job != JOB_RESUME && o->ufota_ack &&
	    (fwu_ufota_enable(m->u) != FUOTA_OK ||
	     (st->ufota_mode != 2 && fwu_ufota_config(m->u, 2) != FUOTA_OK)))
		fprintf(stderr, "fuota-gw: uFOTA wait-for-ack mode: %s\n", fwu_last_error(m->u));
	*out = m;
	return FUOTA_OK;
}

void mu_close(struct mu *m)
{
	if (!m)
		return;
	if (m->running)
		pthread_join(m->th, NULL);
	fwu_close(m->u);
	while (m->ev_n) {
		free(m->events[m->ev_head]);
		m->ev_head = (m->ev_head + 1) % EVENTS_MAX;
		m->ev_n--;
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}
