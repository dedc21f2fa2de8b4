/* uFOTA as the module plays it (FW app note §3, CELLULAR-NOTES §2.3) and +USECFW (§8): a campaign
 * of the u-blox server started from the control interface ("ufota-campaign FILE", a package of
 * --www), in each +UFOTACONFIG mode: default (download, then the server reboots the module into
 * the install), 1 download only (the host installs with +UFWINSTALL), 2 wait for the host's
 * +UFOTAACK (the device accepts on its own after an hour), 3 disabled (the device rejects). The
 * download runs at --net-rate with +UFOTASTAT progress; +UFOTA pauses, resumes (also after a
 * reboot) and cancels it, as do the control's "ufota-pause|resume|cancel" (the server side); a
 * power loss or a reset restarts it from the first byte, a +CFUN=16 after +COPS=2 resumes it
 * (§3.2.2). The install is +UFWINSTALL's, with the
 * +UUFWINSTALL URCs and the reboot into the new version, which forgets the URC enables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "msim_handlers.h"

#define UF_SERVER 721

static void ufstat(struct msim *m, int ev, int p1, int p2)
{
	if (ev == 2 && p1 == 3 && m->fw.uf.vz)
		m->fw.uf.vz_failed = true; /* Table 3: the host stops its =102 here */
	if (m->fw.uf.urcs)
		msim_urc(m, "+UFOTASTAT: %d,%d,%d", ev, p1, p2);
}

static int pct(const struct msim *m)
{
	return m->fw.uf.total ? (int)(m->fw.uf.done * 100 / m->fw.uf.total) : 0;
}

unsigned msim_ufota_ms(const struct msim *m, unsigned long module_ms)
{
	unsigned s = m->fw.uf.scale        ? m->fw.uf.scale
	             : m->cfg.xmodem_scale ? m->cfg.xmodem_scale
	                                   : 1;

	return (unsigned)(module_ms / s) + 1;
}

static void dl_step(struct msim *m, int arg);

static void schedule(struct msim *m)
{
	long chunk = m->fw.uf.total / 10 + 1;
	unsigned rate = m->cfg.net_bytes_per_s ? m->cfg.net_bytes_per_s : 100000;

	msim_timer_cancel(m, dl_step);
	msim_timer_add(m, 20u + (unsigned)((unsigned long)chunk * 1000u / rate), dl_step, 0);
}

static void dl_start(struct msim *m, int arg)
{
	(void)arg;
	if (m->fw.uf.phase != MSIM_UF_WAIT && m->fw.uf.phase != MSIM_UF_PAUSED)
		return;
	m->fw.uf.phase = MSIM_UF_DL;
	m->fw.uf.stalled = false;
	ufstat(m, 1, 0, 0); /* triggered, or resuming */
	schedule(m);
}

/* §3.2.2: after a signal loss the download is retried 60, 120, 180 and 240 s apart; it resumes
 * where it stopped at the first retry that finds the signal, and fails after the fourth. */
static void retry(struct msim *m, int arg)
{
	struct msim_ufota *uf = &m->fw.uf;

	(void)arg;
	if (uf->phase != MSIM_UF_DL || !uf->stalled)
		return;
	uf->retries++;
	if (!uf->sig_lost) { /* "Download is resuming...", then where it stands */
		uf->stalled = false;
		ufstat(m, 1, 0, 0);
		ufstat(m, 0, 1, pct(m));
		schedule(m);
		return;
	}
	if (uf->retries >= 4) {
		uf->stalled = false;
		uf->phase = MSIM_UF_NONE;
		ufstat(m, 2, 3, 105); /* connectivity loss (CELLULAR-NOTES §2.3) */
		return;
	}
	msim_timer_add(m, msim_ufota_ms(m, 60000ul * (unsigned long)(uf->retries + 1)), retry, 0);
}

static void stall(struct msim *m)
{
	msim_timer_cancel(m, dl_step);
	m->fw.uf.stalled = true;
	m->fw.uf.retries = 0;
	msim_timer_cancel(m, retry);
	msim_timer_add(m, msim_ufota_ms(m, 60000ul), retry, 0);
}

static void signal_back(struct msim *m, int arg)
{
	(void)arg;
	m->fw.uf.sig_lost = false;
}

static void power_back(struct msim *m, int arg)
{
	(void)arg;
	msim_power_on(m);
}

/* §3.5: after 2,2,100 the server executes /5/0/2 and the module reboots into the install. */
static void server_install(struct msim *m, int arg)
{
	(void)arg;
	if (m->fw.uf.phase == MSIM_UF_DONE && m->fw.phase == MSIM_FW_IDLE) {
		m->fw.uf.quiet_install = m->fw.uf.no_install_urcs; /* §3.5: not on 00B-00 */
		msim_fw_install(m);
	}
}

static void dl_done(struct msim *m)
{
	char src[4096];
	uint8_t *d = NULL;
	long n = m->fw.uf.total;
	FILE *f = NULL;
	bool ok = false;

	if (snprintf(src, sizeof(src), "%s/%s", m->cfg.www_dir ? m->cfg.www_dir : ".",
	             m->fw.uf.pkg) < (int)sizeof(src) &&
	    n > 0 && n <= MSIM_FW_PKG_MAX && (d = malloc((size_t)n)) && (f = fopen(src, "rb")))
		ok = fread(d, 1, (size_t)n, f) == (size_t)n &&
		     msim_fs_write(m, "FOAT", "updatePackage.bin", d, (size_t)n, false) == 0;
	if (f)
		fclose(f);
	free(d);
	if (!ok) {
		m->fw.uf.phase = MSIM_UF_NONE;
		ufstat(m, 2, 3, 101); /* memory */
		return;
	}
	m->fw.uf.phase = MSIM_UF_DONE;
	ufstat(m, 2, 2, 100);
	if (m->fw.uf.mode != 1 && !m->fw.uf.vz) /* the DM server: at its next session */
		msim_timer_add(m, 500, server_install, 0);
}

void msim_ufota_vz_kick(struct msim *m)
{
	if (m->fw.uf.vz && m->fw.uf.phase == MSIM_UF_DONE && m->fw.uf.mode != 1)
		msim_timer_add(m, 500, server_install, 0);
}

static void dl_step(struct msim *m, int arg)
{
	(void)arg;
	if (m->fw.uf.phase != MSIM_UF_DL)
		return;
	if (m->fw.uf.sig_lost) {
		stall(m);
		return;
	}
	if (m->fw.uf.vz && !msim_lwm2m_vz_session(m)) { /* Table 3: no =102, no download */
		msim_timer_add(m, 100, dl_step, 0);
		return;
	}
	m->fw.uf.done += m->fw.uf.total / 10 + 1;
	if (m->fw.power_dl_byte >= 0 && m->fw.uf.done >= m->fw.power_dl_byte &&
	    m->fw.uf.done < m->fw.uf.total) {
		m->fw.power_dl_byte = -1; /* §3.2.2: the download starts again at boot */
		msim_power_off(m);
		msim_timer_add(m, 300, power_back, 0);
		return;
	}
	if (m->fw.uf.done >= m->fw.uf.total) {
		m->fw.uf.done = m->fw.uf.total;
		dl_done(m);
		return;
	}
	ufstat(m, 0, 1, pct(m));
	schedule(m);
}

static void auto_accept(struct msim *m, int arg)
{
	(void)arg;
	if (m->fw.uf.phase == MSIM_UF_ACK) {
		m->fw.uf.phase = MSIM_UF_WAIT;
		dl_start(m, 0);
	}
}

int msim_ufota_campaign(struct msim *m, const char *file, bool vz, const char **why)
{
	char path[4096];
	struct stat st;

	if (m->fw.uf.phase != MSIM_UF_NONE && m->fw.uf.phase != MSIM_UF_DONE) {
		*why = "a campaign runs already";
		return -1;
	}
	if (!file[0] || strchr(file, '/') ||
	    snprintf(path, sizeof(path), "%s/%s", m->cfg.www_dir ? m->cfg.www_dir : ".", file) >=
	            (int)sizeof(path) ||
	    stat(path, &st) != 0 || st.st_size <= 0) {
		*why = "ufota-campaign wants a file of --www";
		return -1;
	}
	snprintf(m->fw.uf.pkg, sizeof(m->fw.uf.pkg), "%s", file);
	m->fw.uf.vz = vz;
	m->fw.uf.vz_failed = false;
	m->fw.uf.reg102 = 0;
	m->fw.uf.total = (long)st.st_size;
	m->fw.uf.done = 0;
	if (m->fw.uf.mode == 3) { /* §3.4.3: the device rejects it */
		m->fw.uf.phase = MSIM_UF_NONE;
		ufstat(m, 2, 3, 100);
	} else if (m->fw.uf.mode == 2) { /* §3.4.2: the server asks; an hour to answer */
		m->fw.uf.phase = MSIM_UF_ACK;
		ufstat(m, 0, 3, 0);
		msim_timer_add(m, msim_ufota_ms(m, 3600000ul), auto_accept, 0);
	} else {
		m->fw.uf.phase = MSIM_UF_WAIT;
		dl_start(m, 0);
	}
	return 0;
}

/* 0 cancel, 1 pause, 2 resume: the host's AT+UFOTA=<op> or the control's. -1 when refused. */
static int control_op(struct msim *m, int op)
{
	enum msim_uf_phase ph = m->fw.uf.phase;

	if (op == 0 &&
	    (ph == MSIM_UF_ACK || ph == MSIM_UF_WAIT || ph == MSIM_UF_DL || ph == MSIM_UF_PAUSED)) {
		m->fw.uf.phase = MSIM_UF_NONE;
		msim_timer_cancel(m, dl_step);
		ufstat(m, 2, 3, 100);
		return 0;
	}
	if (op == 1 && ph == MSIM_UF_DL) {
		m->fw.uf.phase = MSIM_UF_PAUSED;
		msim_timer_cancel(m, dl_step);
		ufstat(m, 0, 2, pct(m));
		return 0;
	}
	if (op == 2 && ph == MSIM_UF_PAUSED) {
		dl_start(m, 0);
		return 0;
	}
	return -1;
}

int msim_ufota_control(struct msim *m, const char *line, const char **why)
{
	static const char *const ops[] = {"ufota-cancel", "ufota-pause", "ufota-resume"};

	char *end;
	long v;
	int rc;

	if (!strncmp(line, "ufota-campaign ", 15))
		return msim_ufota_campaign(m, line + 15, false, why);
	if (!strncmp(line, "ufota-verizon ", 14))
		return msim_ufota_campaign(m, line + 14, true, why);
	if (!strncmp(line, "ufota-scale ", 12) || !strncmp(line, "ufota-signal ", 13)) {
		v = strtol(strchr(line, ' ') + 1, &end, 10);
		if (*end || v < 1 || v > 100000) {
			*why = "a number 1..100000";
			return -1;
		}
		if (line[6] == 's' && line[7] == 'c') {
			m->fw.uf.scale = (unsigned)v;
			return 0;
		}
		/* the signal lost for v module seconds */
		m->fw.uf.sig_lost = true;
		msim_timer_cancel(m, signal_back);
		msim_timer_add(m, msim_ufota_ms(m, (unsigned long)v * 1000ul), signal_back, 0);
		if (m->fw.uf.phase == MSIM_UF_DL && !m->fw.uf.stalled)
			stall(m);
		return 0;
	}
	if ((rc = msim_lwm2m_control(m, line, why)) != 1)
		return rc;
	if (!strncmp(line, "rot ", 4) &&
	    (!strcmp(line + 4, "0") || !strcmp(line + 4, "1") || !strcmp(line + 4, "3"))) {
		m->fw.uf.rot = line[4] - '0';
		return 0;
	}
	for (int i = 0; i < 3; i++)
		if (!strcmp(line, ops[i])) {
			if (control_op(m, i) == 0)
				return 0;
			*why = "no campaign in a state for that";
			return -1;
		}
	*why = "unknown ufota- control command";
	return -1;
}

/* At the end of a boot: a download cut by a power loss or reset starts again from its first
 * byte; "In case of reset caused by AT+CFUN=16, the uFOTA download will resume, only if
 * AT+COPS=2 is issued before AT+CFUN=16" (§3.2.2): then it goes on from its bytes. A paused
 * one stays paused. */
void msim_ufota_boot(struct msim *m)
{
	bool keep = m->fw.uf.keep_bytes;

	m->fw.uf.vz_failed = false; /* Table 3: =102 "until reboot" */
	m->fw.uf.stalled = false;
	m->fw.uf.quiet_install = false;
	m->fw.uf.cops2 = m->fw.uf.keep_bytes = false;
	msim_lwm2m_boot(m);
	if (m->fw.uf.phase == MSIM_UF_DL) {
		if (!keep)
			m->fw.uf.done = 0;
		m->fw.uf.phase = MSIM_UF_WAIT;
		dl_start(m, 0);
	} else if (m->fw.uf.phase == MSIM_UF_WAIT) {
		msim_timer_add(m, 100, dl_start, 0);
	}
}

/* The new firmware runs: the URC enables are forgotten (§3.7.1), the campaign is over, and it
 * brought a RoT update (a choice of the simulator: §8 asks to check after every update). */
void msim_ufota_updated(struct msim *m)
{
	m->fw.uf.urcs = false;
	m->fw.uf.phase = MSIM_UF_NONE;
	m->fw.uf.rot = 1;
}

/* AT+UFOTACONFIG=721,<mode>,255 / AT+UFOTACONFIG? → +UFOTACONFIG: 721,<mode>,255 */
int msim_h_ufotaconfig(struct msim *m, const struct msim_cmd *c)
{
	long srv, mode, third = 255;

	if (c->kind == MSIM_AT_READ) {
		msim_line(m, "+UFOTACONFIG: %d,%d,255", UF_SERVER, m->fw.uf.mode);
		return 0;
	}
	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 65535, &srv) != 0 || srv != UF_SERVER ||
	    msim_at_int(c, 1, 0, 3, &mode) != 0 ||
	    (msim_at_has(c, 2) && msim_at_int(c, 2, 0, 255, &third) != 0))
		return MSIM_CME_BAD_PARAM;
	m->fw.uf.mode = (int)mode;
	return 0;
}

/* AT+UFOTAACK=<delay_s>: ≥ 1 accepts (the download starts that much later), 0 rejects; only
 * while the server's request waits (§3.4.2). */
int msim_h_ufotaack(struct msim *m, const struct msim_cmd *c)
{
	long d;

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 86400, &d) != 0)
		return MSIM_CME_BAD_PARAM;
	if (m->fw.uf.phase != MSIM_UF_ACK)
		return MSIM_CME_NOT_ALLOWED;
	msim_timer_cancel(m, auto_accept);
	if (d == 0) {
		m->fw.uf.phase = MSIM_UF_NONE;
		ufstat(m, 2, 3, 100);
		return 0;
	}
	m->fw.uf.phase = MSIM_UF_WAIT;
	msim_timer_add(m, msim_ufota_ms(m, (unsigned long)d * 1000ul), dl_start, 0);
	return 0;
}

/* AT+UFOTA=<0 cancel|1 pause|2 resume>; AT+UFOTA? → +UFOTA: <state>,<total>,<done>. The app
 * note's one example (§3.3) is a paused download: "+UFOTA: 1,6864144,710656", so paused is 1, the
 * pause op code. The other states follow the op codes too ([UNVERIFIED]: 0 none, 2 downloading
 * or about to, 3 downloaded). */
int msim_h_ufota(struct msim *m, const struct msim_cmd *c)
{
	static const int st[] = {0, 0, 2, 2, 1, 3}; /* by enum msim_uf_phase */
	long op;

	if (c->kind == MSIM_AT_READ) {
		msim_line(m, "+UFOTA: %d,%ld,%ld", st[m->fw.uf.phase], m->fw.uf.total,
		          m->fw.uf.done);
		return 0;
	}
	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 2, &op) != 0)
		return MSIM_CME_BAD_PARAM;
	return control_op(m, (int)op) == 0 ? 0 : MSIM_CME_NOT_ALLOWED;
}

/* AT+UFOTASTAT=<0|1> / ? ; AT+ULWM2MSTAT=<0|1> is taken and does nothing more here. */
int msim_h_ufotastat(struct msim *m, const struct msim_cmd *c)
{
	long v;

	if (c->kind == MSIM_AT_READ) {
		msim_line(m, "+UFOTASTAT: %d", m->fw.uf.urcs ? 1 : 0);
		return 0;
	}
	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 1, &v) != 0)
		return MSIM_CME_BAD_PARAM;
	if (!strcmp(c->name, "+UFOTASTAT"))
		m->fw.uf.urcs = v == 1;
	return 0;
}

/* AT+USECFW=0 → +USECFW: <1 update needed | 0 up to date | 3 no update file>; AT+USECFW=1 runs
 * the update when one is needed → +USECFW: 0 (§8). */
int msim_h_usecfw(struct msim *m, const struct msim_cmd *c)
{
	long v;

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 1, &v) != 0)
		return MSIM_CME_BAD_PARAM;
	if (v == 1 && m->fw.uf.rot == 1)
		m->fw.uf.rot = 0;
	msim_line(m, "+USECFW: %d", m->fw.uf.rot);
	return 0;
}
