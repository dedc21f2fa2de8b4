/* The firmware-update state machine (sara_fw_sm.h): the step function and its invariants. */
#include "fuota/sara_fw_sm.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/sara_fw_parse.h"

static bool installing(enum fwu_state s)
{
	return s == FWU_S_INSTALL_START || s == FWU_S_VALIDATING || s == FWU_S_INSTALLING ||
	       s == FWU_S_REBOOTING;
}

/* §3.7.4, §4.1.1, §6.1.1: "do not remove the power supply or reset the module during the
 * installation procedure"; a FOAT module in Firmware Update Mode has no usable firmware either. */
bool fwu_reset_allowed(enum fwu_state s)
{
	return !installing(s) && s != FWU_S_UPDATE_MODE;
}

bool fwu_transfer_allowed(enum fwu_state s, enum fwu_method m)
{
	if (s == FWU_S_UPDATE_MODE)
		return m == FWU_M_FOAT;
	return s == FWU_S_IDLE || s == FWU_S_DONE || s == FWU_S_FAILED || s == FWU_S_DOWNLOADED;
}

bool fwu_update_under_way(const struct fwu_status *st, enum fwu_method m)
{
	return m != FWU_M_UFOTA && m != FWU_M_NONE && st->method == m && st->state != FWU_S_IDLE &&
	       st->state != FWU_S_DONE && st->state != FWU_S_FAILED;
}

bool fwu_update_done(const struct fwu_status *st, enum fwu_method m, const char *md5,
                     const char *version_now)
{
	return st->state == FWU_S_DONE && st->method == m && fwu_md5_equal(st->pkg_md5, md5) &&
	       st->ver_after[0] && version_now && strcmp(st->ver_after, version_now) == 0;
}

static int refuse(char *why, size_t cap, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int refuse(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (why && cap) {
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return FUOTA_ERR_STATE;
}

static void fresh(struct fwu_status *n, enum fwu_method m)
{
	n->method = m;
	n->pct = 0;
	n->result = 0;
	n->fail = FWU_F_NONE;
	n->fail_code = 0;
	n->sends = 0;
	n->foat_baud = 0;
	n->ver_after[0] = 0;
}

static void fail(struct fwu_status *n, int why, int code)
{
	n->state = FWU_S_FAILED;
	n->fail = why;
	n->fail_code = code;
}

static void copy_ver(char *dst, size_t cap, const char *v)
{
	snprintf(dst, cap, "%s", v ? v : "");
}

/* A FOAT transfer (again): counts it, or stops after FWU_FOAT_SENDS_MAX and reports. */
static unsigned foat_send(struct fwu_status *n)
{
	n->state = FWU_S_UPDATE_MODE;
	n->pct = 0;
	if (n->sends >= FWU_FOAT_SENDS_MAX)
		return FWU_A_REPORT;
	n->sends++;
	return FWU_A_SEND_PACKAGE;
}

static int on_start(struct fwu_status *n, const struct fwu_event *ev, unsigned *a, char *why,
                    size_t cap)
{
	if (ev->method == FWU_M_NONE || ev->method > FWU_M_ROT)
		return refuse(why, cap, "no update method");
	if (!fwu_transfer_allowed(n->state, ev->method))
		return refuse(why, cap, "%s %s: no second transfer now", fwu_method_name(n->method),
		              fwu_state_name(n->state));
	if (n->state == FWU_S_UPDATE_MODE) { /* §4.1.1: send the package again */
		n->sends = 0;
		n->foat_baud = ev->baud ? ev->baud : n->foat_baud;
		*a |= foat_send(n);
		return FUOTA_OK;
	}
	fresh(n, ev->method);
	n->foat_baud = ev->method == FWU_M_FOAT ? ev->baud : 0;
	if (ev->version)
		copy_ver(n->ver_before, sizeof(n->ver_before), ev->version);
	n->pkg_md5[0] = 0;
	if (fwu_md5_equal(ev->md5, ev->md5))
		copy_ver(n->pkg_md5, sizeof(n->pkg_md5), ev->md5);
	if (ev->method == FWU_M_UFOTA) {
		n->state = FWU_S_IDLE; /* the server starts uFOTA downloads; the host listens */
		*a |= FWU_A_ENABLE_URCS;
	} else {
		n->state = ev->method == FWU_M_ROT ? FWU_S_INSTALLING : FWU_S_DOWNLOADING;
	}
	return FUOTA_OK;
}

/* +UFOTASTAT 0,3,0 / 1,0,0 / 0,1,x / 0,2,x: a server-driven download starting or running. */
static void on_ufota_dl(struct fwu_status *n, const struct fwu_event *ev, unsigned *a)
{
	bool quiet = n->state == FWU_S_IDLE || n->state == FWU_S_DONE || n->state == FWU_S_FAILED;

	if (installing(n->state) || n->state == FWU_S_UPDATE_MODE || n->state == FWU_S_RESTORING ||
	    n->state == FWU_S_DOWNLOADED)
		return;
	if (n->state == FWU_S_DOWNLOADING && n->method != FWU_M_UFOTA)
		return; /* the module refuses a second method (Appendix B) */
	if (quiet)
		fresh(n, FWU_M_UFOTA);
	n->method = FWU_M_UFOTA;
	if (ev->kind == FWU_EV_ACK_PENDING) {
		n->state = FWU_S_ACK_PENDING;
		*a |= FWU_A_REPORT;
	} else if (ev->kind == FWU_EV_DL_PAUSED) {
		n->state = FWU_S_PAUSED;
		n->pct = ev->pct;
	} else {
		n->state = FWU_S_DOWNLOADING;
		if (ev->kind == FWU_EV_DL_PROGRESS)
			n->pct = ev->pct;
	}
}

static void on_progress(struct fwu_status *n, const struct fwu_event *ev, unsigned *a)
{
	if (ev->method == FWU_M_UFOTA) {
		on_ufota_dl(n, ev, a);
	} else if (n->state == FWU_S_UPDATE_MODE || n->state == FWU_S_DOWNLOADING) {
		n->pct = ev->pct;
	}
}

static void on_dl_done(struct fwu_status *n, const struct fwu_event *ev, unsigned *a)
{
	bool ufota = ev->method == FWU_M_UFOTA;

	if (ufota && (n->state == FWU_S_IDLE || n->state == FWU_S_DONE || n->state == FWU_S_FAILED))
		fresh(n, FWU_M_UFOTA);
	else if (n->state != FWU_S_DOWNLOADING && n->state != FWU_S_PAUSED &&
	         n->state != FWU_S_UPDATE_MODE)
		return;
	n->pct = 100;
	if (n->method == FWU_M_UFOTA) {
		/* §3.7.3: sockets closed at or before +UFOTASTAT: 2,2,100; outside "download only"
		 * the server reboots the module into the install whenever it likes */
		*a |= FWU_A_CLOSE_SOCKETS;
		n->state = n->ufota_mode == 1 ? FWU_S_DOWNLOADED : FWU_S_INSTALL_START;
		*a |= n->state == FWU_S_DOWNLOADED ? FWU_A_REPORT : FWU_A_WAIT_MODULE;
	} else if (n->method == FWU_M_FOAT) {
		n->state = FWU_S_INSTALL_START; /* validation and install follow by themselves */
		*a |= FWU_A_WAIT_MODULE;
	} else {
		n->state = FWU_S_DOWNLOADED;
		*a |= FWU_A_INSTALL;
	}
}

static void on_dl_failed(struct fwu_status *n, const struct fwu_event *ev, unsigned *a)
{
	if (n->method == FWU_M_FOAT &&
	    (n->state == FWU_S_UPDATE_MODE || n->state == FWU_S_DOWNLOADING)) {
		if (ev->fail == FWU_F_WINDOW) { /* §4.1.1: "Timeout", reboot to the old firmware */
			fail(n, FWU_F_WINDOW, ev->code);
			*a |= FWU_A_WAIT_MODULE | FWU_A_READ_VERSION | FWU_A_REPORT;
		} else if (n->state == FWU_S_DOWNLOADING) { /* +UFWUPD refused: still normal mode */
			fail(n, ev->fail, ev->code);
			*a |= FWU_A_REPORT;
		} else { /* power loss, cable, error: the module waits for a new handshake */
			n->fail = ev->fail;
			n->fail_code = ev->code;
			*a |= foat_send(n);
		}
		return;
	}
	if (installing(n->state) || n->state == FWU_S_RESTORING || n->state == FWU_S_UPDATE_MODE)
		return;
	/* a new campaign's end (a device rejection), also after one that failed */
	if (ev->method == FWU_M_UFOTA &&
	    (n->state == FWU_S_IDLE || n->state == FWU_S_DONE || n->state == FWU_S_FAILED))
		fresh(n, FWU_M_UFOTA);
	else if (n->state != FWU_S_DOWNLOADING && n->state != FWU_S_PAUSED &&
	         n->state != FWU_S_ACK_PENDING && n->state != FWU_S_DOWNLOADED)
		return;
	fail(n, ev->fail, ev->code);
	*a |= FWU_A_REPORT;
}

/* +UFWPREVAL / +UUFWINSTALL / +UFWUPD n: the module says it validates or installs, whatever we
 * thought: believe it (never reset from here on). */
static void on_install(struct fwu_status *n, const struct fwu_event *ev, unsigned *a)
{
	enum fwu_state was = n->state;

	if (n->method == FWU_M_NONE)
		n->method = FWU_M_UFOTA;
	if (ev->kind == FWU_EV_PREVAL || ev->code <= 100) {
		n->state = ev->kind == FWU_EV_PREVAL ? FWU_S_VALIDATING : FWU_S_INSTALLING;
		n->pct = ev->kind == FWU_EV_PREVAL ? ev->pct : ev->code;
		return;
	}
	n->result = ev->code;
	if (ev->code == 128) {
		n->pct = 100;
		n->state = n->method == FWU_M_ROT ? FWU_S_DONE : FWU_S_REBOOTING;
		*a |= n->method == FWU_M_ROT ? FWU_A_REPORT : FWU_A_WAIT_MODULE;
		return;
	}
	if (n->method == FWU_M_ROT) {
		fail(n, FWU_F_ROT, ev->code);
		*a |= FWU_A_REPORT;
	} else if (n->method == FWU_M_FOAT && was == FWU_S_INSTALLING) {
		n->fail =
		        FWU_F_INSTALL; /* §4.1.1: ERROR leaves the module in Firmware Update Mode */
		n->fail_code = ev->code;
		*a |= foat_send(n);
	} else {
		/* validation failed: firmware unchanged; install failed: §6.1.1 restarts it */
		fail(n, was == FWU_S_INSTALLING ? FWU_F_INSTALL : FWU_F_VALIDATION, ev->code);
		*a |= FWU_A_WAIT_MODULE | FWU_A_READ_VERSION | FWU_A_REPORT;
	}
}

static void on_back(struct fwu_status *n, const struct fwu_event *ev, unsigned *a)
{
	const char *v = ev->version ? ev->version : "";

	if (installing(n->state)) {
		if (!v[0]) {
			*a |= FWU_A_READ_VERSION;
			return;
		}
		copy_ver(n->ver_after, sizeof(n->ver_after), v);
		if (!n->ver_before[0] || strcmp(v, n->ver_before) != 0) {
			n->state = FWU_S_RESTORING;
			*a |= FWU_A_RESTORE | FWU_A_ENABLE_URCS | FWU_A_ROT_CHECK;
		} else {
			fail(n, FWU_F_VERSION, n->result);
			*a |= FWU_A_ENABLE_URCS | FWU_A_REPORT;
		}
	} else if (n->state == FWU_S_UPDATE_MODE) { /* it answers AT: the old firmware runs */
		copy_ver(n->ver_after, sizeof(n->ver_after), v);
		fail(n, FWU_F_WINDOW, 0);
		*a |= FWU_A_REPORT;
	} else if (n->state == FWU_S_FAILED) {
		copy_ver(n->ver_after, sizeof(n->ver_after), v);
		*a |= FWU_A_REPORT;
	} else if (n->state == FWU_S_RESTORING) {
		*a |= FWU_A_RESTORE; /* rebooted mid-restore (the MNO profile's reboot) */
	} else if (n->method == FWU_M_UFOTA && v[0] && n->ver_before[0] &&
	           strcmp(v, n->ver_before) != 0 &&
	           (n->state == FWU_S_DOWNLOADING || n->state == FWU_S_PAUSED ||
	            n->state == FWU_S_DOWNLOADED || n->state == FWU_S_ACK_PENDING)) {
		/* the campaign went on to its install while no host listened (fwu_ufota_sync_event)
		 */
		copy_ver(n->ver_after, sizeof(n->ver_after), v);
		n->pct = 100;
		n->state = FWU_S_RESTORING;
		*a |= FWU_A_RESTORE | FWU_A_ENABLE_URCS | FWU_A_ROT_CHECK;
	}
}

static void on_restart(struct fwu_status *n, unsigned *a)
{
	if (n->method == FWU_M_ROT && n->state == FWU_S_INSTALLING) {
		fail(n, FWU_F_INTERRUPTED, 0); /* §8: completes at the next boot; check it again */
		*a |= FWU_A_REPORT | FWU_A_ROT_CHECK;
	} else if (installing(n->state)) {
		*a |= FWU_A_WAIT_MODULE | FWU_A_READ_VERSION;
	} else if (n->state == FWU_S_RESTORING) {
		*a |= FWU_A_WAIT_MODULE | FWU_A_RESTORE;
	} else if (n->state == FWU_S_UPDATE_MODE ||
	           (n->state == FWU_S_DOWNLOADING && n->method == FWU_M_FOAT)) {
		n->sends = 0; /* a new process: resend (§4.1.1: no resume) */
		*a |= foat_send(n);
	} else if (n->method == FWU_M_UFOTA &&
	           (n->state == FWU_S_DOWNLOADING || n->state == FWU_S_PAUSED ||
	            n->state == FWU_S_ACK_PENDING)) {
		*a |= FWU_A_ENABLE_URCS; /* the module resumes by itself (§3.2.2) */
	} else if (n->state == FWU_S_DOWNLOADING) {
		fail(n, FWU_F_INTERRUPTED, 0); /* the partial file is stale */
		*a |= FWU_A_REPORT;
	} else if (n->state == FWU_S_DOWNLOADED && n->method != FWU_M_UFOTA) {
		*a |= FWU_A_INSTALL;
	}
}

static int on_cancel(struct fwu_status *n, unsigned *a, char *why, size_t cap)
{
	if (installing(n->state) || n->state == FWU_S_UPDATE_MODE)
		return refuse(why, cap, "an install in progress cannot be cancelled (%s)",
		              fwu_state_name(n->state));
	if (n->state != FWU_S_DOWNLOADING && n->state != FWU_S_PAUSED &&
	    n->state != FWU_S_ACK_PENDING && n->state != FWU_S_DOWNLOADED)
		return refuse(why, cap, "nothing to cancel (%s)", fwu_state_name(n->state));
	if (n->method != FWU_M_UFOTA) { /* uFOTA: the +UFOTASTAT: 2,3,100 that follows says it */
		fail(n, FWU_F_CANCELLED, 0);
		*a |= FWU_A_REPORT;
	}
	return FUOTA_OK;
}

static int dispatch(struct fwu_status *n, const struct fwu_event *ev, unsigned *a, char *why,
                    size_t cap)
{
	switch (ev->kind) {
	case FWU_EV_START: return on_start(n, ev, a, why, cap);
	case FWU_EV_ACK_PENDING:
	case FWU_EV_TRIGGERED:
	case FWU_EV_DL_PAUSED:
		if (ev->method == FWU_M_UFOTA)
			on_ufota_dl(n, ev, a);
		return FUOTA_OK;
	case FWU_EV_DL_PROGRESS: on_progress(n, ev, a); return FUOTA_OK;
	case FWU_EV_DL_DONE: on_dl_done(n, ev, a); return FUOTA_OK;
	case FWU_EV_DL_FAILED: on_dl_failed(n, ev, a); return FUOTA_OK;
	case FWU_EV_UPDATE_MODE:
		if (installing(n->state) || n->state == FWU_S_RESTORING)
			return FUOTA_OK;
		if (n->method != FWU_M_FOAT)
			fresh(n, FWU_M_FOAT);
		*a |= foat_send(n);
		return FUOTA_OK;
	case FWU_EV_INSTALL_SENT:
		if (n->state != FWU_S_DOWNLOADED)
			return refuse(why, cap, "no package downloaded (%s)",
			              fwu_state_name(n->state));
		n->state = FWU_S_INSTALL_START;
		n->pct = 0;
		*a |= FWU_A_WAIT_MODULE;
		return FUOTA_OK;
	case FWU_EV_PREVAL:
	case FWU_EV_INSTALL: on_install(n, ev, a); return FUOTA_OK;
	case FWU_EV_MODULE_BACK: on_back(n, ev, a); return FUOTA_OK;
	case FWU_EV_RESTORED:
		if (n->state != FWU_S_RESTORING)
			return refuse(why, cap, "nothing restored (%s)", fwu_state_name(n->state));
		n->state = FWU_S_DONE;
		n->pct = 100;
		n->fail = FWU_F_NONE; /* a transfer that broke off on the way is history */
		n->fail_code = 0;
		*a |= FWU_A_REPORT;
		return FUOTA_OK;
	case FWU_EV_TIMEOUT:
		if (n->method == FWU_M_FOAT && installing(n->state) &&
		    n->state != FWU_S_REBOOTING) {
			/* §4.1.1: after a power loss during the update the module stays in Firmware
			 * Update Mode, silent but for its handshake: offer the package again (it
			 * goes only if the module asks with 'C' or NAK) */
			n->fail = FWU_F_INSTALL;
			n->fail_code = -1;
			*a |= foat_send(n);
			return FUOTA_OK;
		}
		if (n->state == FWU_S_DOWNLOADING && n->method != FWU_M_UFOTA)
			fail(n, FWU_F_TIMEOUT, 0);
		*a |= FWU_A_REPORT; /* an install is never timed out into a reset */
		return FUOTA_OK;
	case FWU_EV_CLIENT_START:
		/* a boot, not an installed update (CELLULAR-NOTES §2.3); seen only with the URCs
		 * enabled already, so nothing to do */
		return FUOTA_OK;
	case FWU_EV_RESTART: on_restart(n, a); return FUOTA_OK;
	case FWU_EV_CANCEL: return on_cancel(n, a, why, cap);
	}
	return refuse(why, cap, "unknown event %d", (int)ev->kind);
}

static bool same(const struct fwu_status *a, const struct fwu_status *b)
{
	return a->state == b->state && a->method == b->method && a->pct == b->pct &&
	       a->result == b->result && a->fail == b->fail && a->fail_code == b->fail_code &&
	       a->ufota_mode == b->ufota_mode && a->sends == b->sends &&
	       a->foat_baud == b->foat_baud && strcmp(a->ver_before, b->ver_before) == 0 &&
	       strcmp(a->ver_after, b->ver_after) == 0;
}

int fwu_step(const struct fwu_status *cur, const struct fwu_event *ev, struct fwu_status *next,
             unsigned *actions, char *why, size_t why_cap)
{
	int err;

	*next = *cur;
	*actions = 0;
	if (why && why_cap)
		why[0] = 0;
	err = dispatch(next, ev, actions, why, why_cap);
	if (err != FUOTA_OK) {
		*next = *cur;
		*actions = 0;
		return err;
	}
	if (!same(cur, next)) {
		next->seq = cur->seq + 1;
		*actions |= FWU_A_PERSIST;
	}
	return FUOTA_OK;
}

const char *fwu_state_name(enum fwu_state s)
{
	static const char *const names[FWU_S_COUNT] = {
	        "idle",        "ack-pending", "downloading",     "paused",
	        "update-mode", "downloaded",  "install-started", "validating",
	        "installing",  "rebooting",   "restoring",       "done",
	        "failed"};

	return (unsigned)s < FWU_S_COUNT ? names[s] : "unknown";
}

const char *fwu_method_name(enum fwu_method m)
{
	static const char *const names[] = {"none", "ufota", "foat", "http", "ftp", "uart", "rot"};

	return (unsigned)m <= FWU_M_ROT ? names[m] : "unknown";
}

int fwu_method_parse(const char *s, enum fwu_method *m)
{
	int i;

	for (i = FWU_M_UFOTA; i <= FWU_M_ROT; i++)
		if (s && strcmp(s, fwu_method_name((enum fwu_method)i)) == 0) {
			*m = (enum fwu_method)i;
			return FUOTA_OK;
		}
	return FUOTA_ERR_INVALID_ARG;
}

const char *fwu_fail_name(int f)
{
	static const char *const names[] = {"none",
	                                    "download failed",
	                                    "md5 mismatch",
	                                    "foat window expired",
	                                    "validation failed",
	                                    "install failed",
	                                    "version unchanged",
	                                    "timeout",
	                                    "cancelled",
	                                    "rejected by the device",
	                                    "interrupted",
	                                    "rot update failed"};

	return f >= 0 && f <= FWU_F_ROT ? names[f] : "unknown";
}
