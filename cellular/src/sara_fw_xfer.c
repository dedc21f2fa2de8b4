/* The firmware-update transfers (sara_fw.h): FOAT over the raw stream with Xmodem, HTTP, FTP and
 * UART downloads into the FOAT area, +UFWINSTALL, and the RoT check and update. */
#include <stdio.h>
#include <string.h>

#include "fuota/sara_fw_parse.h"
#include "fuota/xmodem.h"
#include "sara_fw_private.h"

/* The raw stream with the bytes read past the +UFWUPD: ONGOING line put back in front. */
struct pushback {
	struct cell_io io;
	uint8_t buf[256];
	size_t len, pos;
};

static int pb_read(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms, size_t *got)
{
	struct pushback *pb = ctx;
	size_t n = pb->len - pb->pos;

	if (n == 0)
		return pb->io.read(pb->io.ctx, buf, cap, timeout_ms, got);
	n = n < cap ? n : cap;
	memcpy(buf, pb->buf + pb->pos, n);
	pb->pos += n;
	*got = n;
	return FUOTA_OK;
}

static int pb_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct pushback *pb = ctx;

	return pb->io.write(pb->io.ctx, buf, len);
}

/* Reads lines until "+UFWUPD: ONGOING" (Table 7), keeping what follows it (the first 'C') in pb.
 * A final "ERROR" (a syntax error, at the old rate) or silence fails. */
static int wait_ongoing(struct fwu *u, struct pushback *pb, uint32_t timeout_ms)
{
	uint64_t deadline = u->clk->now_ms(u->clk->ctx) + timeout_ms;
	char line[128];
	size_t ll = 0;

	for (;;) {
		uint8_t chunk[256];
		size_t got = 0, i;
		int err = pb->io.read(pb->io.ctx, chunk, sizeof(chunk),
		                      cell_ms_left(u->clk, deadline), &got);

		if (err != FUOTA_OK)
			return err;
		for (i = 0; i < got; i++) {
			if (chunk[i] != '\r' && chunk[i] != '\n') {
				if (ll + 1 < sizeof(line))
					line[ll++] = (char)chunk[i];
				continue;
			}
			line[ll] = 0;
			if (strcmp(line, "+UFWUPD: ONGOING") == 0) {
				pb->len = got - i - 1;
				memcpy(pb->buf, chunk + i + 1, pb->len);
				pb->pos = 0;
				return FUOTA_OK;
			}
			if (strcmp(line, "ERROR") == 0 || strncmp(line, "+CME ERROR", 10) == 0)
				return AT_ERR_DEVICE;
			ll = 0;
		}
		if (cell_ms_left(u->clk, deadline) == 0)
			return FUOTA_ERR_TIMEOUT;
	}
}

static bool on_xm_progress(void *ctx, size_t sent, size_t total)
{
	struct fwu *u = ctx;
	struct fwu_event ev = {.kind = FWU_EV_DL_PROGRESS, .method = FWU_M_FOAT};

	ev.pct = total ? (int)(sent * 100 / total) : 100;
	if (ev.pct != u->st.pct)
		(void)fwu_apply(u, &ev);
	return true;
}

static int set_baud(struct fwu *u, uint32_t baud)
{
	return u->cfg.serial->ops->set_baud(u->cfg.serial->ctx, baud);
}

/* What the module sent while no host listened (its handshakes, the CAN CAN of a receiver that gave
 * up) is stale: each old NAK would send a block again and an old CAN would cancel the transfer.
 * Dropped, so the transfer answers a fresh 'C' or NAK (it repeats them, §4.1). */
static void drain(struct pushback *pb)
{
	uint8_t junk[256];
	int i;

	for (i = 0; i < 256; i++) {
		size_t got = 0;

		if (pb->io.read(pb->io.ctx, junk, sizeof(junk), 20, &got) != FUOTA_OK || got == 0)
			break;
	}
}

/* "AT" at the port's normal rate, tries times with wait_ms each: whether the module answers
 * (OK, or an error: either is the normal firmware). A module in Firmware Update Mode takes the
 * bytes for noise before a block and goes on with its handshake (§4.1.1). */
static bool answers_at(struct fwu *u, int tries, uint32_t wait_ms)
{
	int err = FUOTA_ERR_TIMEOUT, i;

	(void)set_baud(u, u->cfg.baud);
	for (i = 0; i < tries && err != FUOTA_OK && err != AT_ERR_DEVICE; i++) {
		at_clear(u->cfg.at);
		err = at_cmdf(u->cfg.at, NULL, NULL, wait_ms, "AT");
		at_clear(u->cfg.at);
	}
	return err == FUOTA_OK || err == AT_ERR_DEVICE;
}

/* The module answers AT: the old firmware runs. MODULE_BACK makes a FOAT in UPDATE_MODE a window
 * failure, after which foat_resume starts afresh. */
static int old_firmware_runs(struct fwu *u)
{
	struct fwu_event ev = {.kind = FWU_EV_MODULE_BACK};
	char ver[48];

	fwu_read_version(u, ver, sizeof(ver));
	ev.version = ver;
	return fwu_apply(u, &ev);
}

/* A package offered again found no handshake: the module answers AT (the old firmware runs), or
 * it stays silent (it still waits, or is off): the state stays, resets held. */
static int probe_failed(struct fwu *u)
{
	if (!answers_at(u, 3, 1000))
		return fwu_fail(u, FUOTA_ERR_TIMEOUT,
		                "no Xmodem handshake in %u ms and no answer to AT: the module may "
		                "still wait in Firmware Update Mode; run the update again",
		                u->cfg.foat_probe_ms);
	return old_firmware_runs(u);
}

/* Sends AT+UFWUPD (with_cmd) and waits for ONGOING on the new rate, then the package by Xmodem. */
static int foat_session(struct fwu *u, bool with_cmd)
{
	struct pushback pb = {0};
	struct cell_io io = {pb_read, pb_write, &pb};
	struct xm_config xc = {.io = io,
	                       .clock = u->clk,
	                       .use_1k = u->foat.use_1k,
	                       .retries = u->cfg.xm_retries,
	                       .ack_timeout_ms = u->cfg.xm_ack_timeout_ms,
	                       .handshake_ms = u->resending ? u->cfg.foat_probe_ms : 0,
	                       .progress = on_xm_progress,
	                       .progress_ctx = u};
	struct fwu_event ev = {.kind = FWU_EV_DL_FAILED, .fail = FWU_F_DOWNLOAD};
	struct xm_stats stats = {0};
	char cmd[48], why[200];
	int err;

	snprintf(cmd, sizeof(cmd), "AT+UFWUPD=%d,%u", u->foat.filetype, u->foat.baud);
	if (with_cmd && fwu_cmd_check(&u->st, cmd, why, sizeof(why)) != FUOTA_OK)
		return fwu_fail(u, FUOTA_ERR_STATE, "%s", why);
	if ((err = at_raw_begin(u->cfg.at, &pb.io)) != FUOTA_OK)
		return fwu_fail(u, err, "raw stream: %s", fuota_strerror(err));
	u->alt_baud = u->foat.baud;
	if (with_cmd) {
		at_log_note(u->cfg.at, cmd);
		err = pb.io.write(pb.io.ctx, (const uint8_t *)cmd, strlen(cmd));
		if (err == FUOTA_OK)
			err = pb.io.write(pb.io.ctx, (const uint8_t *)"\r", 1);
	}
	/* §4.1: the module answers at the new rate from the IRC on */
	if (err == FUOTA_OK)
		err = set_baud(u, u->foat.baud);
	if (err == FUOTA_OK && with_cmd && (err = wait_ongoing(u, &pb, 30000)) == FUOTA_OK) {
		struct fwu_event on = {.kind = FWU_EV_UPDATE_MODE, .method = FWU_M_FOAT};

		err = fwu_apply(u, &on);
		u->pending &= ~(unsigned)FWU_A_SEND_PACKAGE; /* sent right here */
	} else if (with_cmd && err != FUOTA_OK) {
		at_raw_end(u->cfg.at);
		(void)set_baud(u, u->cfg.baud);
		ev.code = err;
		(void)fwu_apply(u, &ev);
		return fwu_fail(u, err, "%s: no +UFWUPD: ONGOING (%s)", cmd, fuota_strerror(err));
	}
	if (err == FUOTA_OK && !with_cmd)
		drain(&pb);
	if (err == FUOTA_OK)
		err = xm_send(&xc, u->pkg, u->pkg_len, &stats);
	at_raw_end(u->cfg.at);
	if (err == FUOTA_OK) {
		ev.kind = FWU_EV_DL_DONE;
		return fwu_apply(u, &ev);
	}
	if (u->resending && err == FUOTA_ERR_TIMEOUT && stats.blocks == 0 && !stats.resends)
		return probe_failed(u);
	ev.fail = err == FUOTA_ERR_TIMEOUT && stats.blocks == 0 ? FWU_F_WINDOW : FWU_F_DOWNLOAD;
	ev.code = err;
	at_log_note(u->cfg.at, ev.fail == FWU_F_WINDOW ? "FOAT: the 109 s window passed"
	                                               : "FOAT: the transfer broke off");
	return fwu_apply(u, &ev);
}

int fwu_do_send_package(struct fwu *u)
{
	if (!u->pkg)
		return fwu_fail(
		        u, FUOTA_ERR_STATE,
		        "the module waits in Firmware Update Mode: run the FOAT update with "
		        "the package again");
	return foat_session(u, false);
}

/* A FOAT update under way when this process started (a host killed and run again): an install
 * goes on by itself and is waited for; a module in Firmware Update Mode, or one that may have got
 * +UFWUPD, is sent the package again without +UFWUPD at the rate it was put to, the handshake
 * waited for only foat_probe_ms (§4.1.1: it repeats its 'C'/NAK). A short AT probe goes first:
 * an answer (or, later, no handshake and an answer to AT) means the old firmware runs (window
 * passed, or +UFWUPD never arrived): a fresh FOAT. */
static int foat_resume(struct fwu *u)
{
	struct fwu_event ev = {.kind = FWU_EV_RESTART};
	bool resend = u->st.state == FWU_S_UPDATE_MODE || u->st.state == FWU_S_DOWNLOADING;
	int err;

	if (u->st.foat_baud)
		u->foat.baud = u->st.foat_baud; /* the rate Firmware Update Mode speaks */
	u->alt_baud = u->foat.baud;
	u->resending = resend;
	at_log_note(u->cfg.at, resend ? "FOAT under way: the package again, no +UFWUPD"
	                              : "FOAT under way: waiting for its install");
	err = fwu_apply(u, &ev);
	/* a short AT probe first: a module that runs normally is known at once, not after the
	 * foat_probe_ms wait for a handshake that will never come */
	if (err == FUOTA_OK && resend && answers_at(u, 2, 500)) {
		at_log_note(u->cfg.at, "FOAT under way, but the module answers AT");
		u->pending &= ~(unsigned)FWU_A_SEND_PACKAGE;
		err = old_firmware_runs(u);
	} else if (err == FUOTA_OK) {
		err = fwu_run(u);
	}
	u->resending = false;
	if (resend && u->st.state == FWU_S_FAILED && u->st.fail == FWU_F_WINDOW) {
		at_log_note(u->cfg.at, "no handshake, and AT answers: the old firmware runs");
		err = sara_boot(u->s, u->cfg.boot_timeout_ms);
		if (err == FUOTA_OK)
			err = fwu_start(u, FWU_M_FOAT);
		if (err == FUOTA_OK)
			err = foat_session(u, true);
	}
	return err;
}

int fwu_foat(struct fwu *u, const uint8_t *pkg, size_t len, const struct fwu_foat_opts *o)
{
	bool resend = u->st.state == FWU_S_UPDATE_MODE;
	int err;

	if (!pkg || len == 0 || !u->cfg.serial)
		return FUOTA_ERR_INVALID_ARG;
	u->foat.filetype = o && o->filetype ? o->filetype : 1;
	u->foat.baud = o && o->baud ? o->baud : 460800;
	u->foat.use_1k = o && o->use_1k;
	u->pkg = pkg;
	u->pkg_len = len;
	if (fwu_update_under_way(&u->st, FWU_M_FOAT) && !u->started) {
		err = foat_resume(u);
	} else {
		err = fwu_start(u, FWU_M_FOAT);
		if (err == FUOTA_OK && !resend)
			err = foat_session(u, true);
	}
	if (err == FUOTA_OK)
		err = fwu_finish(u);
	u->pkg = NULL;
	return err;
}

/* §5.3 (Particle): a stale package makes the install end early without the right version. */
static void delete_stale(struct fwu *u)
{
	if (sara_file_delete(u->s, "updatePackage.bin", "FOAT") != FUOTA_OK)
		at_log_note(u->cfg.at, "no stale package to delete");
}

static int dl_failed(struct fwu *u, int fail, int code, int err, const char *what)
{
	struct fwu_event ev = {.kind = FWU_EV_DL_FAILED, .fail = fail, .code = code};
	char msg[320];

	snprintf(msg, sizeof(msg), "%.300s", u->err[0] ? u->err : sara_last_error(u->s));
	(void)fwu_apply(u, &ev);
	return fwu_fail(u, err, "%s: %s", what, msg);
}

static int downloaded(struct fwu *u, const struct sara_xfer *x, const char *md5)
{
	struct fwu_event ev = {.kind = FWU_EV_DL_DONE};

	if (!fwu_md5_equal(x->md5, md5)) {
		u->err[0] = 0;
		fwu_fail(u, FUOTA_ERR_CONFLICT, "MD5 %s, the package's is %s", x->md5, md5);
		return dl_failed(u, FWU_F_MD5, 0, FUOTA_ERR_CONFLICT, "download");
	}
	return fwu_apply(u, &ev);
}

static int http_once(struct fwu *u, int profile, const struct sara_http_cfg *cfg, const char *path,
                     const char *md5, uint32_t timeout_ms)
{
	struct sara_xfer x;
	int err, cls = 0, code = 0;

	if (!fwu_md5_equal(md5, md5) || !cfg || !path)
		return FUOTA_ERR_INVALID_ARG;
	fwu_set_package_md5(u, md5);
	err = fwu_start(u, FWU_M_HTTP);
	if (err != FUOTA_OK)
		return err;
	delete_stale(u);
	err = u->cfg.data_up ? u->cfg.data_up(u->cfg.ctx) : FUOTA_OK;
	if (err != FUOTA_OK)
		return dl_failed(u, FWU_F_DOWNLOAD, err, err, "data connection");
	err = sara_http_config(u->s, profile, cfg);
	if (err == FUOTA_OK)
		err = sara_http_get(u->s, profile, path, NULL, timeout_ms, &x);
	if (err == FUOTA_ERR_IO && sara_http_error(u->s, profile, &cls, &code) == FUOTA_OK)
		return dl_failed(u, FWU_F_DOWNLOAD, cls * 1000 + code, err, "HTTP download");
	if (err != FUOTA_OK)
		return dl_failed(u, FWU_F_DOWNLOAD, err, err, "HTTP download");
	err = downloaded(u, &x, md5);
	return err == FUOTA_OK ? fwu_finish(u) : err;
}

static int ftp_once(struct fwu *u, const struct sara_ftp_cfg *cfg, const char *path,
                    const char *md5, uint32_t timeout_ms)
{
	struct sara_xfer x;
	int err, cls = 0, code = 0;

	if (!fwu_md5_equal(md5, md5) || !cfg || !path)
		return FUOTA_ERR_INVALID_ARG;
	fwu_set_package_md5(u, md5);
	err = fwu_start(u, FWU_M_FTP);
	if (err != FUOTA_OK)
		return err;
	delete_stale(u);
	err = u->cfg.data_up ? u->cfg.data_up(u->cfg.ctx) : FUOTA_OK;
	if (err != FUOTA_OK)
		return dl_failed(u, FWU_F_DOWNLOAD, err, err, "data connection");
	err = sara_ftp_config(u->s, cfg);
	if (err == FUOTA_OK)
		err = sara_ftp_login(u->s, 60000);
	if (err == FUOTA_OK)
		err = sara_ftp_get_foat(u->s, path, timeout_ms, &x);
	if (err == FUOTA_ERR_IO && sara_ftp_error(u->s, &cls, &code) == FUOTA_OK)
		return dl_failed(u, FWU_F_DOWNLOAD, cls * 1000 + code, err, "FTP download");
	if (err != FUOTA_OK)
		return dl_failed(u, FWU_F_DOWNLOAD, err, err, "FTP download");
	err = downloaded(u, &x, md5);
	return err == FUOTA_OK ? fwu_finish(u) : err;
}

static int uart_once(struct fwu *u, const uint8_t *pkg, size_t len, uint32_t timeout_ms)
{
	struct fwu_event ev = {.kind = FWU_EV_DL_DONE};
	size_t size = 0;
	int err;

	if (!pkg || len == 0)
		return FUOTA_ERR_INVALID_ARG;
	err = fwu_start(u, FWU_M_UART);
	if (err != FUOTA_OK)
		return err;
	delete_stale(u);
	err = sara_file_write(u->s, "delta", "FOAT", pkg, len, timeout_ms);
	if (err != FUOTA_OK)
		return dl_failed(u, FWU_F_DOWNLOAD, err, err, "AT+UDWNFILE");
	/* Table 12: the FOAT area lists the package as updatePackage.bin */
	err = sara_file_size(u->s, "updatePackage.bin", "FOAT", &size);
	if (err != FUOTA_OK)
		return dl_failed(u, FWU_F_DOWNLOAD, err, err, "AT+ULSTFILE");
	if (size != len) {
		u->err[0] = 0;
		fwu_fail(u, FUOTA_ERR_IO, "%zu bytes in the FOAT area, %zu sent", size, len);
		return dl_failed(u, FWU_F_DOWNLOAD, -1, FUOTA_ERR_IO, "AT+ULSTFILE");
	}
	err = fwu_apply(u, &ev);
	return err == FUOTA_OK ? fwu_finish(u) : err;
}

/* A download into the FOAT area that got no result in time (the module went away: power lost
 * mid-download) starts again from scratch: such a download does not resume, and what reached the
 * FOAT area is a stale partial package, deleted first (§5.3). FWU_DL_TRIES in all. */
static bool dl_again(struct fwu *u, int err, unsigned *tries)
{
	if (err != FUOTA_ERR_TIMEOUT || ++*tries >= FWU_DL_TRIES || u->st.state != FWU_S_FAILED ||
	    u->st.fail != FWU_F_DOWNLOAD)
		return false;
	at_log_note(u->cfg.at, "no download result (the module restarted?): the download again");
	return sara_boot(u->s, u->cfg.boot_timeout_ms) == FUOTA_OK;
}

int fwu_http(struct fwu *u, int profile, const struct sara_http_cfg *cfg, const char *path,
             const char *md5, uint32_t timeout_ms)
{
	unsigned tries = 0;
	int err;

	do
		err = http_once(u, profile, cfg, path, md5, timeout_ms);
	while (dl_again(u, err, &tries));
	return err;
}

int fwu_ftp(struct fwu *u, const struct sara_ftp_cfg *cfg, const char *path, const char *md5,
            uint32_t timeout_ms)
{
	unsigned tries = 0;
	int err;

	do
		err = ftp_once(u, cfg, path, md5, timeout_ms);
	while (dl_again(u, err, &tries));
	return err;
}

int fwu_uart(struct fwu *u, const uint8_t *pkg, size_t len, uint32_t timeout_ms)
{
	unsigned tries = 0;
	int err;

	do
		err = uart_once(u, pkg, len, timeout_ms);
	while (dl_again(u, err, &tries));
	return err;
}

/* AT+UFWINSTALL=1,<baud> (Table 13). The state goes to INSTALL_START before the command is sent
 * (written ahead): a host that dies right after sending it must wait, not send it again. */
int fwu_do_install(struct fwu *u)
{
	struct fwu_event ev = {.kind = FWU_EV_INSTALL_SENT};
	char cmd[40];
	int err;

	if (u->cfg.close_sockets)
		u->cfg.close_sockets(u->cfg.ctx);
	snprintf(cmd, sizeof(cmd), "AT+UFWINSTALL=1,%u", u->cfg.baud);
	err = fwu_apply(u, &ev);
	if (err != FUOTA_OK)
		return err;
	u->own_cmd = cmd;
	err = sara_cmd(u->s, NULL, 60000, "%s", cmd);
	u->own_cmd = NULL;
	if (err != FUOTA_OK) {
		u->just_sent = false; /* it never started: the version will tell */
		fwu_fail(u, FUOTA_OK, "%s", sara_last_error(u->s));
	}
	return FUOTA_OK;
}

int fwu_install(struct fwu *u)
{
	if (u->st.state != FWU_S_DOWNLOADED)
		return fwu_fail(u, FUOTA_ERR_STATE, "no package downloaded (%s)",
		                fwu_state_name(u->st.state));
	u->pending |= FWU_A_INSTALL;
	return fwu_finish(u);
}

/* §8: "+USECFW: 1" update needed, "0" up to date (after =1: completed), "3" no update file. */
int fwu_rot(struct fwu *u, bool update, int *status)
{
	struct fwu_event ev = {.kind = FWU_EV_INSTALL, .code = 128};
	const struct at_resp *r = &u->s->resp;
	char cmd[16];
	int err;

	*status = -1;
	snprintf(cmd, sizeof(cmd), "AT+USECFW=%d", update ? 1 : 0);
	if (update && (err = fwu_start(u, FWU_M_ROT)) != FUOTA_OK)
		return err;
	u->own_cmd = cmd;
	err = sara_cmd(u->s, "+USECFW:", update ? 300000 : 0, "%s", cmd);
	u->own_cmd = NULL;
	if (err == FUOTA_OK && (r->n == 0 || fwu_parse_usecfw(r->line[0], r->len[0], status)))
		err = fwu_fail(u, FUOTA_ERR_MALFORMED, "%s: no +USECFW", cmd);
	if (err == FUOTA_OK)
		u->rot_status = *status;
	if (!update)
		return err;
	if (err != FUOTA_OK || *status != 0)
		ev.code = 129;
	(void)fwu_apply(u, &ev);
	if (err == FUOTA_OK && *status != 0)
		err = fwu_fail(u, FUOTA_ERR_IO, "RoT update: +USECFW: %d", *status);
	return err;
}
