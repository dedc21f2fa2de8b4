/* The firmware-update manager (sara_fw.h): the state file, events, the action loop, waiting for
 * the module without ever resetting it, reading its version and restoring what the update erased.
 * The transfers are in sara_fw_xfer.c. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuota/sara_fw_parse.h"
#include "sara_fw_private.h"

#define STATE_MAX 4096

static const char *const urc_prefixes[] = {
        "+UFOTASTAT:", "+UFWPREVAL:", "+UUFWINSTALL:", "+UFWINSTALL:", "+UFWUPD:", "+ULWM2MSTAT:"};

int fwu_fail(struct fwu *u, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->err, sizeof(u->err), fmt, ap);
	va_end(ap);
	at_log_note(u->cfg.at, u->err);
	if (u->cfg.on_report)
		u->cfg.on_report(u->cfg.ctx, &u->st, u->err);
	return err;
}

static int write_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return FUOTA_ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return FUOTA_OK;
}

/* The directory of path fsynced, so the rename itself survives a power loss. */
static void sync_dir(const char *path)
{
	char copy[1024];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int fwu_file_replace(const char *path, const void *data, size_t len)
{
	char tmp[1024];
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return FUOTA_ERR_INVALID_ARG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return FUOTA_ERR_IO;
	err = write_all(fd, data, len);
	if (err == FUOTA_OK && fsync(fd) != 0)
		err = FUOTA_ERR_IO;
	if (close(fd) != 0)
		err = FUOTA_ERR_IO;
	if (err == FUOTA_OK && rename(tmp, path) != 0)
		err = FUOTA_ERR_IO;
	if (err != FUOTA_OK) {
		(void)unlink(tmp);
		return err;
	}
	sync_dir(path);
	return FUOTA_OK;
}

int fwu_file_write(const char *path, const struct fwu_status *st, const struct fwu_desired *d)
{
	char buf[STATE_MAX];
	size_t len;
	int err = fwu_file_encode(st, d, buf, sizeof(buf), &len);

	return err != FUOTA_OK ? err : fwu_file_replace(path, buf, len);
}

int fwu_file_read(const char *path, struct fwu_status *st, struct fwu_desired *d)
{
	char buf[STATE_MAX];
	size_t len = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? FUOTA_ERR_NOT_FOUND : FUOTA_ERR_IO;
	while (len < sizeof(buf) && (r = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)r;
	close(fd);
	if (len == sizeof(buf))
		return FUOTA_ERR_MALFORMED;
	return fwu_file_decode(buf, len, st, d);
}

/* Write a temp file, fsync it, rename it over the state file: a reader sees the old file or the
 * new one, whole. */
int fwu_persist(struct fwu *u)
{
	int err = fwu_file_write(u->cfg.state_path, &u->st, &u->want);

	if (err != FUOTA_OK)
		return fwu_fail(u, err, "%s: %s (%s)", u->cfg.state_path, fuota_strerror(err),
		                strerror(errno));
	return FUOTA_OK;
}

static int load(struct fwu *u)
{
	int err = fwu_file_read(u->cfg.state_path, &u->st, &u->want);

	if (err == FUOTA_ERR_NOT_FOUND)
		return FUOTA_OK; /* a fresh start: idle */
	if (err == FUOTA_ERR_MALFORMED)
		return fwu_fail(u, err, "%s: not a complete state file", u->cfg.state_path);
	if (err != FUOTA_OK)
		return fwu_fail(u, err, "%s: %s", u->cfg.state_path, strerror(errno));
	return FUOTA_OK;
}

int fwu_apply(struct fwu *u, const struct fwu_event *ev)
{
	struct fwu_status next;
	unsigned acts;
	char why[200];
	int err = fwu_step(&u->st, ev, &next, &acts, why, sizeof(why));

	if (err != FUOTA_OK)
		return fwu_fail(u, err, "%s", why);
	if (next.state == FWU_S_INSTALL_START && u->st.state != FWU_S_INSTALL_START) {
		/* the module still answers until it reboots into the install: wait for silence */
		u->just_sent = true;
		u->sent_ms = u->clk->now_ms(u->clk->ctx);
	}
	u->st = next;
	sara_hold_resets(u->s, !fwu_reset_allowed(u->st.state));
	if (acts & FWU_A_PERSIST) {
		err = fwu_persist(u);
		if (err != FUOTA_OK)
			return err;
	}
	u->pending |= acts & ~(unsigned)(FWU_A_PERSIST | FWU_A_REPORT);
	if ((acts & (FWU_A_REPORT | FWU_A_PERSIST)) && u->cfg.on_report)
		u->cfg.on_report(u->cfg.ctx, &u->st,
		                 !(acts & FWU_A_REPORT) ? NULL
		                 : u->st.fail           ? fwu_fail_name(u->st.fail)
		                                        : "");
	return FUOTA_OK;
}

static void on_urc(void *ctx, const char *line, size_t len)
{
	struct fwu *u = ctx;
	struct fwu_event ev;
	int rc = fwu_urc_event(&u->st, line, len, &ev);

	if (rc == FUOTA_ERR_MALFORMED)
		at_log_note(u->cfg.at, "firmware update: cannot parse the URC");
	if (rc == FUOTA_OK)
		(void)fwu_apply(u, &ev);
}

/* The driver's hook before every command: Appendix B, no reset during an install, and a reset
 * during a uFOTA download preceded by a deregistration. FW app note §3.2.2: "In case of power
 * loss or unsolicited device reset, the uFOTA download is restarted. In case of reset caused by
 * AT+CFUN=16, the uFOTA download will resume, only if AT+COPS=2 is issued before AT+CFUN=16."
 * The hardware rungs of the recovery ladder (PWR_ON, RESET_N) are such unsolicited resets: no
 * command reaches a module that does not answer, so they restart it. */
static int check(void *ctx, const char *cmd, char *why, size_t cap)
{
	struct fwu *u = ctx;
	int err;

	if (u->own_cmd && strcmp(cmd, u->own_cmd) == 0)
		return FUOTA_OK;
	err = fwu_cmd_check(&u->st, cmd, why, cap);
	if (err == FUOTA_OK && fwu_cmd_needs_dereg(&u->st, cmd) &&
	    sara_cmd(u->s, NULL, 180000, "AT+COPS=2") != FUOTA_OK)
		at_log_note(u->cfg.at,
		            "AT+COPS=2 failed: the uFOTA download restarts after the reset");
	return err;
}

void fwu_read_version(struct fwu *u, char *ver, size_t cap)
{
	struct sara_info info;

	ver[0] = 0;
	if (sara_info(u->s, &info) == FUOTA_OK)
		snprintf(ver, cap, "%s,%s", info.fw, info.app);
}

void fwu_set_package_md5(struct fwu *u, const char *md5)
{
	snprintf(u->pkg_md5, sizeof(u->pkg_md5), "%s", fwu_md5_equal(md5, md5) ? md5 : "");
}

int fwu_start(struct fwu *u, enum fwu_method m)
{
	struct fwu_event ev = {.kind = FWU_EV_START, .method = m, .baud = u->foat.baud};
	char ver[48] = "";

	if (!fwu_transfer_allowed(u->st.state, m))
		return fwu_fail(u, FUOTA_ERR_STATE, "%s: no second transfer while %s %s",
		                fwu_method_name(m), fwu_method_name(u->st.method),
		                fwu_state_name(u->st.state));
	if (u->st.state != FWU_S_UPDATE_MODE)
		fwu_read_version(u, ver, sizeof(ver));
	ev.version = ver;
	ev.md5 = u->pkg_md5;
	u->err[0] = 0;
	u->started = true;
	return fwu_apply(u, &ev);
}

/* "AT" until the module answers after an install, never resetting it (resets are held). Right
 * after +UFWINSTALL answered OK the module still answers until it reboots: an answer counts only
 * once it has been silent, or silence_ms passed. */
static int wait_module(struct fwu *u)
{
	uint64_t t0 = u->clk->now_ms(u->clk->ctx), deadline = t0 + u->cfg.install_timeout_ms;
	bool silent = false, alt = false;

	for (;;) {
		int err;

		if (!silent)
			fwu_verizon_tick(u);
		at_clear(u->cfg.at);
		err = at_cmdf(u->cfg.at, NULL, NULL, 1000, "AT");
		at_clear(u->cfg.at);
		if (u->st.state == FWU_S_UPDATE_MODE)
			return FUOTA_OK; /* an install error sent it back to Xmodem */
		/* an answer to the recovery ladder's own "AT" resets the timeout count */
		if (err == FUOTA_ERR_TIMEOUT && at_timeouts(u->cfg.at) == 0)
			err = FUOTA_OK;
		/* a URC of the install (validation, progress, result) came from the bootloader:
		 * the module went away since, however briefly */
		if (u->st.state != FWU_S_INSTALL_START)
			silent = true;
		if (err == FUOTA_OK || err == AT_ERR_DEVICE) {
			uint64_t since = u->clk->now_ms(u->clk->ctx) - u->sent_ms;

			/* uFOTA: the server reboots the module when it likes (§3.5) */
			if (!u->just_sent || silent ||
			    (u->st.method != FWU_M_UFOTA && since >= u->cfg.silence_ms))
				break;
		} else if (err == FUOTA_ERR_TIMEOUT) {
			silent = true;
			if (u->alt_baud &&
			    u->cfg.serial) { /* try the FOAT rate and the normal one */
				alt = !alt;
				(void)u->cfg.serial->ops->set_baud(u->cfg.serial->ctx,
				                                   alt ? u->cfg.baud : u->alt_baud);
			}
		} else {
			return fwu_fail(u, err, "waiting for the module: %s", fuota_strerror(err));
		}
		if (cell_ms_left(u->clk, deadline) == 0) {
			struct fwu_event ev = {.kind = FWU_EV_TIMEOUT};

			(void)fwu_apply(u, &ev);
			if (u->st.state == FWU_S_UPDATE_MODE)
				return FUOTA_OK; /* FOAT: the package is offered again */
			return fwu_fail(u, FUOTA_ERR_TIMEOUT,
			                "the module did not come back in %u ms (%s); not reset",
			                u->cfg.install_timeout_ms, fwu_state_name(u->st.state));
		}
		(void)at_poll(u->cfg.at, u->cfg.poll_ms);
	}
	u->just_sent = false;
	u->pending &= ~(unsigned)FWU_A_WAIT_MODULE; /* asked again by URCs met while waiting */
	if (u->st.state != FWU_S_RESTORING)
		u->pending |= FWU_A_READ_VERSION;
	return FUOTA_OK;
}

static int read_version(struct fwu *u)
{
	struct fwu_event ev = {.kind = FWU_EV_MODULE_BACK};
	char ver[48];
	int err = sara_boot(u->s, u->cfg.boot_timeout_ms);

	if (err != FUOTA_OK)
		return fwu_fail(u, err, "boot after the update: %s", sara_last_error(u->s));
	fwu_read_version(u, ver, sizeof(ver));
	if (!ver[0])
		return fwu_fail(u, FUOTA_ERR_IO, "ATI9: %s", sara_last_error(u->s));
	ev.version = ver;
	return fwu_apply(u, &ev);
}

/* Table 16: the MNO profile first (its own reboot), then APNs, PSM, eDRX, URC enables. */
static int apply_plan(struct fwu *u)
{
	char cmds[16][160];
	bool mno_change;
	size_t n, i;
	int cur = -1, err;

	if (sara_mno_get(u->s, &cur) != FUOTA_OK)
		cur = -1;
	err = fwu_restore_plan(&u->want, cur, &mno_change, cmds, 16, &n);
	if (err != FUOTA_OK)
		return fwu_fail(u, err, "desired configuration: %s", fuota_strerror(err));
	if (mno_change && (err = sara_mno_set(u->s, u->want.mno, u->cfg.boot_timeout_ms)) != 0)
		return fwu_fail(u, err, "restore: %s", sara_last_error(u->s));
	for (i = 0; i < n; i++)
		if ((err = sara_cmd(u->s, NULL, 0, "%s", cmds[i])) != FUOTA_OK)
			return fwu_fail(u, err, "restore: %s", sara_last_error(u->s));
	return FUOTA_OK;
}

static int restore(struct fwu *u)
{
	struct fwu_event ev = {.kind = FWU_EV_RESTORED};
	int err = apply_plan(u);

	return err == FUOTA_OK ? fwu_apply(u, &ev) : err;
}

int fwu_restore_now(struct fwu *u)
{
	if (!fwu_reset_allowed(u->st.state) || u->st.state == FWU_S_RESTORING)
		return fwu_fail(u, FUOTA_ERR_STATE, "not now: %s %s", fwu_method_name(u->st.method),
		                fwu_state_name(u->st.state));
	return apply_plan(u);
}

/* +ULWM2MSTAT=1, +UFOTASTAT=1, +UFWINSTALL=,,,1 (§3.7.1): after every reboot. */
static int enable_urcs(struct fwu *u)
{
	if (!u->want.urcs && u->st.method != FWU_M_UFOTA)
		return FUOTA_OK;
	if (u->want.urcs && u->st.state == FWU_S_DONE)
		return FUOTA_OK; /* the restore plan has just sent them */
	(void)sara_cmd(u->s, NULL, 0, "AT+ULWM2MSTAT=1");
	(void)sara_cmd(u->s, NULL, 0, "AT+UFOTASTAT=1");
	if (u->want.urcs_install)
		(void)sara_cmd(u->s, NULL, 0, "AT+UFWINSTALL=,,,1");
	return FUOTA_OK;
}

/* §8: offered after every module update; the user decides (fuota-modem rot update). */
static int rot_check(struct fwu *u)
{
	int st;

	if (fwu_rot(u, false, &st) == FUOTA_OK && st == 1)
		at_log_note(u->cfg.at, "RoT firmware update available (AT+USECFW=1)");
	return FUOTA_OK;
}

static int do_action(struct fwu *u, unsigned a)
{
	switch (a) {
	case FWU_A_CLOSE_SOCKETS:
		if (u->cfg.close_sockets)
			u->cfg.close_sockets(u->cfg.ctx);
		return FUOTA_OK;
	case FWU_A_SEND_PACKAGE: return fwu_do_send_package(u);
	case FWU_A_INSTALL: return fwu_do_install(u);
	case FWU_A_WAIT_MODULE: return wait_module(u);
	case FWU_A_READ_VERSION: return read_version(u);
	case FWU_A_RESTORE: return restore(u);
	case FWU_A_ENABLE_URCS: return enable_urcs(u);
	case FWU_A_ROT_CHECK: return rot_check(u);
	default: return FUOTA_OK;
	}
}

int fwu_run(struct fwu *u)
{
	static const unsigned order[] = {FWU_A_CLOSE_SOCKETS, FWU_A_SEND_PACKAGE, FWU_A_INSTALL,
	                                 FWU_A_WAIT_MODULE,   FWU_A_READ_VERSION, FWU_A_RESTORE,
	                                 FWU_A_ENABLE_URCS,   FWU_A_ROT_CHECK};
	unsigned rounds = 0;

	while (u->pending && rounds++ < 64) {
		size_t i;
		int err;

		for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
			if (u->pending & order[i])
				break;
		if (i == sizeof(order) / sizeof(order[0])) {
			u->pending = 0;
			break;
		}
		u->pending &= ~order[i];
		err = do_action(u, order[i]);
		if (err != FUOTA_OK) {
			u->pending = 0;
			return err;
		}
	}
	return FUOTA_OK;
}

int fwu_finish(struct fwu *u)
{
	int err = fwu_run(u);

	if (err != FUOTA_OK)
		return err;
	if (u->st.state == FWU_S_DONE)
		return FUOTA_OK;
	if (!u->err[0])
		fwu_fail(u, FUOTA_ERR_STATE, "%s %s: %s", fwu_method_name(u->st.method),
		         fwu_state_name(u->st.state), fwu_fail_name(u->st.fail));
	return u->st.state == FWU_S_FAILED ? FUOTA_ERR_IO : FUOTA_ERR_STATE;
}

int fwu_resume(struct fwu *u)
{
	struct fwu_event ev = {.kind = FWU_EV_RESTART};
	int err = fwu_apply(u, &ev);

	return err == FUOTA_OK ? fwu_run(u) : err;
}

static void defaults(struct fwu_config *c)
{
	c->baud = c->baud ? c->baud : 115200;
	c->install_timeout_ms = c->install_timeout_ms ? c->install_timeout_ms : 40u * 60000u;
	c->poll_ms = c->poll_ms ? c->poll_ms : 10000;
	c->silence_ms = c->silence_ms ? c->silence_ms : 5u * 60000u;
	c->boot_timeout_ms = c->boot_timeout_ms ? c->boot_timeout_ms : 60000;
	c->foat_probe_ms = c->foat_probe_ms ? c->foat_probe_ms : 25000;
	c->verizon_period_ms = c->verizon_period_ms ? c->verizon_period_ms : 30000;
}

int fwu_open(const struct fwu_config *cfg, struct fwu **out)
{
	struct fwu *u;
	size_t i;
	int err = FUOTA_OK;

	*out = NULL;
	if (!cfg || !cfg->sara || !cfg->at || !cfg->state_path)
		return FUOTA_ERR_INVALID_ARG;
	u = calloc(1, sizeof(*u));
	if (!u)
		return FUOTA_ERR_NO_MEMORY;
	u->cfg = *cfg;
	defaults(&u->cfg);
	u->s = cfg->sara;
	u->clk = cfg->clock ? cfg->clock : cell_clock_monotonic();
	u->rot_status = -1;
	fwu_desired_init(&u->want);
	for (i = 0; i < sizeof(urc_prefixes) / sizeof(urc_prefixes[0]) && err == FUOTA_OK; i++)
		err = at_urc_add_now(u->cfg.at, urc_prefixes[i], on_urc, u);
	if (err == FUOTA_OK)
		err = load(u);
	if (err != FUOTA_OK) {
		fwu_close(u);
		return err;
	}
	sara_set_cmd_check(u->s, check, u);
	if (u->st.method == FWU_M_FOAT)
		u->alt_baud = u->st.foat_baud; /* a FOAT module may speak its FOAT rate still */
	sara_hold_resets(u->s, !fwu_reset_allowed(u->st.state));
	*out = u;
	return FUOTA_OK;
}

void fwu_close(struct fwu *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < sizeof(urc_prefixes) / sizeof(urc_prefixes[0]); i++)
		(void)at_urc_remove(u->cfg.at, urc_prefixes[i]);
	sara_set_cmd_check(u->s, NULL, NULL);
	free(u);
}

const struct fwu_status *fwu_get_status(const struct fwu *u)
{
	return &u->st;
}

const struct fwu_desired *fwu_get_desired(const struct fwu *u)
{
	return &u->want;
}

int fwu_set_desired(struct fwu *u, const struct fwu_desired *d)
{
	bool mno;
	char cmds[16][160];
	size_t n;

	if (fwu_restore_plan(d, -1, &mno, cmds, 16, &n) != FUOTA_OK)
		return fwu_fail(u, FUOTA_ERR_INVALID_ARG, "desired configuration: bad value");
	u->want = *d;
	return fwu_persist(u);
}

const char *fwu_last_error(const struct fwu *u)
{
	return u->err;
}
