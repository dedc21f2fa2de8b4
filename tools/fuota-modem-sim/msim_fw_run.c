/* The firmware update's commands and their course: AT+UFWUPD (FOAT: the baud switch, the Xmodem
 * receiver in Firmware Update Mode, the 109 s window), AT+UFWINSTALL (the package of the FOAT
 * area), the validation and install URCs, power losses, the reboot into the new version and what
 * the update makes the module forget (FW app note §4, §6, Table 16). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msim_handlers.h"

static const unsigned fw_rates[] = {9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600};

static bool rate_ok(long v)
{
	for (size_t i = 0; i < sizeof(fw_rates) / sizeof(fw_rates[0]); i++)
		if (fw_rates[i] == (unsigned long)v)
			return true;
	return false;
}

static void power_back(struct msim *m, int arg)
{
	(void)arg;
	msim_power_on(m);
}

/* Power lost (a fault): the module goes dark and comes back 300 ms later. */
static void power_loss(struct msim *m)
{
	msim_power_off(m);
	msim_timer_add(m, 300, power_back, 0);
}

static void install_step(struct msim *m, int arg);

static unsigned step_ms(const struct msim *m)
{
	unsigned ms = m->fw.install_ms / 105u;

	return ms ? ms : 1;
}

/* The package validated and the install begun (FOAT after its transfer, +UFWINSTALL after its
 * reboot into the bootloader, either after a power loss). */
static void install_begin(struct msim *m)
{
	m->fw.phase = MSIM_FW_INSTALLING;
	m->fw.step = 0;
	m->mode = MSIM_MODE_OFF; /* the bootloader takes no AT */
	m->in_cmd = false;
	msim_timer_cancel(m, install_step);
	msim_timer_add(m, step_ms(m), install_step, 0);
}

static void result_urc(struct msim *m, int code)
{
	if (m->fw.uf.quiet_install)
		return; /* a uFOTA install on a 00B-00: the host polls AT (§3.7.1, Table 4) */
	if (m->fw.method == 1)
		msim_urc(m, "+UFWUPD: %d", code);
	else
		msim_urc(m, "+UUFWINSTALL: %d", code);
}

/* Table 16: FOAT forgets all NVM (the MNO profile back to global) and erases the USER files; a
 * delta installed by +UFWINSTALL resets the MNO profile to global. */
static void forget(struct msim *m)
{
	if (m->fw.method == 1) {
		m->factory_fs = 2;
		m->factory_nvm = 2;
	} else {
		m->nvm.mnoprof = 90;
	}
}

static void finished(struct msim *m)
{
	char path[4096];

	if (m->fw.lose_128 > 0)
		m->fw.lose_128--;
	else
		result_urc(m, MSIM_FW_OK);
	snprintf(m->nvm.version, sizeof(m->nvm.version), "%s", m->fw.to);
	forget(m);
	msim_nvm_changed(m);
	if (msim_fs_path(m, "FOAT", "updatePackage.bin", path, sizeof(path)) == 0)
		remove(path);
	m->fw.phase = MSIM_FW_IDLE;
	msim_ufota_updated(m);
	msim_reboot_later(m);
}

static void install_step(struct msim *m, int arg)
{
	int s = ++m->fw.step;

	(void)arg;
	if (s <= 5) {
		if (!m->fw.uf.quiet_install)
			msim_urc(m, "+UFWPREVAL: %d", (s - 1) * 25);
	} else if (s <= 105) {
		if (m->fw.power_pct >= 0 && s - 5 >= m->fw.power_pct) {
			m->fw.power_pct = -1;
			power_loss(m);
			return;
		}
		result_urc(m, s - 5);
	} else {
		finished(m);
		return;
	}
	msim_timer_add(m, step_ms(m), install_step, 0);
}

/* The package failed validation: the result code, then the old firmware goes on. */
static void refused(struct msim *m, int code)
{
	result_urc(m, code);
	m->fw.phase = MSIM_FW_IDLE;
	msim_reboot_later(m);
}

static int validate(struct msim *m, const uint8_t *d, size_t n)
{
	int code = msim_fw_check(d, n, m->nvm.version, m->fw.to, sizeof(m->fw.to));

	if (code == MSIM_FW_OK && m->fw.validate_fail) {
		code = m->fw.validate_fail;
		m->fw.validate_fail = 0;
	}
	return code;
}

static void rx_start(struct msim *m)
{
	m->fw.dl_seen = 0;
	m->in_cmd = false;
	msim_xmodem_start(m, "updatePackage.bin", "FOAT", -1);
}

/* The receiver of Firmware Update Mode ended (msim_core.c's xmodem_end hands it over). */
void msim_fw_received(struct msim *m, int rc, const uint8_t *d, size_t n, unsigned long blocks)
{
	int code;

	if (rc != MSIM_XR_OK && blocks == 0 && !m->fw.broken) {
		/* §4.1.1: the window passed; "Timeout", then the old firmware */
		msim_line(m, "ERROR");
		m->fw.phase = MSIM_FW_IDLE;
		msim_reboot_later(m);
		return;
	}
	if (rc != MSIM_XR_OK) {
		/* a broken transfer: Firmware Update Mode waits for the package again */
		m->fw.broken = true;
		rx_start(m);
		return;
	}
	m->fw.broken = false;
	code = validate(m, d, n);
	if (code != MSIM_FW_OK)
		return refused(m, code);
	install_begin(m);
}

/* One byte of the host's Xmodem transfer in Firmware Update Mode (the corrupt-byte and power-loss
 * faults). False when the power went: the byte and the rest are lost. */
bool msim_fw_xm_byte(struct msim *m, uint8_t *b)
{
	if (m->fw.phase != MSIM_FW_UPDATE_MODE)
		return true;
	m->fw.dl_seen++;
	if (m->fw.xm_corrupt > 0 && (long)m->fw.dl_seen == m->fw.xm_corrupt) {
		*b ^= 0x40;
		m->fw.xm_corrupt = 0;
	}
	if (m->fw.power_dl_byte >= 0 && (long)m->fw.dl_seen >= m->fw.power_dl_byte) {
		m->fw.power_dl_byte = -1;
		m->fw.broken = true;
		power_loss(m);
		return false;
	}
	return true;
}

void msim_fw_host_byte(struct msim *m, uint8_t b)
{
	static const char *const resets[] = {"AT+CFUN=15", "AT+CFUN=16", "AT+CPWROFF",
	                                     "AT+UFACTORY"};
	size_t n = strlen(m->fw.tail);

	if (m->fw.phase == MSIM_FW_IDLE) {
		m->fw.tail[0] = 0;
		return;
	}
	if (n + 1 >= sizeof(m->fw.tail)) {
		memmove(m->fw.tail, m->fw.tail + 1, n);
		n--;
	}
	m->fw.tail[n] = b ? (char)b : ' ';
	m->fw.tail[n + 1] = 0;
	for (size_t i = 0; i < sizeof(resets) / sizeof(resets[0]); i++) {
		size_t k = strlen(resets[i]);

		if (n + 1 >= k && memcmp(m->fw.tail + n + 1 - k, resets[i], k) == 0) {
			m->fw.resets++;
			fprintf(stderr, "fuota-modem-sim: RESET DURING UPDATE: %s while %s\n",
			        resets[i],
			        m->fw.phase == MSIM_FW_INSTALLING ? "installing"
			                                          : "in update mode");
		}
	}
}

bool msim_fw_dl_cut(struct msim *m, const char *tag, const char *name, const uint8_t *d, size_t n)
{
	if (m->fw.power_dl_byte < 0 || strcmp(tag, "FOAT") != 0 || (long)n < m->fw.power_dl_byte)
		return false;
	/* what reached the flash stays: a stale partial package (§5.3: delete it first) */
	(void)msim_fs_write(m, tag, name, d, (size_t)m->fw.power_dl_byte, false);
	m->fw.power_dl_byte = -1;
	power_loss(m);
	return true;
}

/* At the end of a boot: Firmware Update Mode and an install survive it. True when the update
 * took the boot over. */
bool msim_fw_boot(struct msim *m)
{
	if (m->fw.phase == MSIM_FW_UPDATE_MODE) {
		rx_start(m);
		return true;
	}
	if (m->fw.phase == MSIM_FW_INSTALLING) {
		install_begin(m); /* the install starts again (FW app note §6) */
		return true;
	}
	m->fw.rate = 0;
	msim_ufota_boot(m);
	return false;
}

/* AT+UFWUPD=<filetype>[,<baud>]: a syntax error answers at the old rate; otherwise Firmware
 * Update Mode, "+UFWUPD: ONGOING" at the new rate, then the receiver's 'C's. */
int msim_h_ufwupd(struct msim *m, const struct msim_cmd *c)
{
	long ft = 0, baud = (long)msim_line_rate(m);

	if (c->kind == MSIM_AT_TEST) {
		msim_line(m, "+UFWUPD: (1-3),(9600-921600)");
		return 0;
	}
	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 3, &ft) != 0 ||
	    (msim_at_has(c, 1) && (msim_at_int(c, 1, 0, 3000000, &baud) != 0 || !rate_ok(baud))))
		return MSIM_ERROR;
	m->fw.phase = MSIM_FW_UPDATE_MODE;
	m->fw.method = 1;
	m->fw.broken = false;
	m->fw.rate = (unsigned)baud; /* the rate kept when it is the current one */
	m->in_cmd = false;
	msim_line(m, "+UFWUPD: ONGOING");
	rx_start(m);
	return MSIM_LATER;
}

static void to_bootloader(struct msim *m, int arg)
{
	char path[4096];
	uint8_t *d = NULL;
	long n = 0;
	int code = MSIM_FW_FORMAT;
	FILE *f;

	(void)arg;
	if (msim_fs_path(m, "FOAT", "updatePackage.bin", path, sizeof(path)) == 0 &&
	    (f = fopen(path, "rb"))) {
		if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n <= MSIM_FW_PKG_MAX &&
		    fseek(f, 0, SEEK_SET) == 0 && (d = malloc((size_t)n)) &&
		    fread(d, 1, (size_t)n, f) == (size_t)n)
			code = validate(m, d, (size_t)n);
		fclose(f);
	}
	free(d);
	m->mode = MSIM_MODE_OFF;
	if (code != MSIM_FW_OK)
		return refused(m, code);
	install_begin(m);
}

/* AT+UFWINSTALL=,,,<urc>: the URC switch. AT+UFWINSTALL[=<port>,<baud>]: the package of the FOAT
 * area installed: OK, then the bootloader (no AT) and its URCs at <baud>. */
int msim_h_ufwinstall(struct msim *m, const struct msim_cmd *c)
{
	long port = 1, baud = (long)msim_line_rate(m), urc = 0;
	char path[4096];
	FILE *f;

	if (c->kind == MSIM_AT_SET && !msim_at_has(c, 0) && msim_at_has(c, 3) &&
	    m->fw.uf.no_install_urcs)
		return MSIM_CME_NOT_SUPPORTED; /* §3.2: not on SARA-R5xx-00B-00 */
	if (c->kind == MSIM_AT_SET && !msim_at_has(c, 0) && msim_at_has(c, 3))
		return msim_at_int(c, 3, 0, 1, &urc) == 0 ? 0 : MSIM_CME_BAD_PARAM;
	if (c->kind == MSIM_AT_READ || c->kind == MSIM_AT_TEST)
		return MSIM_CME_NOT_SUPPORTED;
	if (c->kind == MSIM_AT_SET &&
	    ((msim_at_has(c, 0) && msim_at_int(c, 0, 0, 3, &port) != 0) ||
	     (msim_at_has(c, 1) && (msim_at_int(c, 1, 0, 3000000, &baud) != 0 || !rate_ok(baud)))))
		return MSIM_CME_BAD_PARAM;
	if (msim_fs_path(m, "FOAT", "updatePackage.bin", path, sizeof(path)) != 0 ||
	    !(f = fopen(path, "rb")))
		return MSIM_CME_NOT_FOUND;
	fclose(f);
	m->fw.method = 2;
	m->fw.rate = (unsigned)baud;
	msim_timer_add(m, 50, to_bootloader, 0);
	return 0;
}

void msim_fw_install(struct msim *m)
{
	m->fw.method = 2;
	m->fw.rate = 0;
	msim_timer_add(m, 50, to_bootloader, 0);
}

static int number(const char *rest, long lo, long hi, long dflt, long *v)
{
	char *end;

	if (!*rest) {
		*v = dflt;
		return dflt >= lo ? 0 : -1;
	}
	*v = strtol(rest, &end, 10);
	return end == rest || *end || *v < lo || *v > hi ? -1 : 0;
}

int msim_fw_control(struct msim *m, const char *line, const char **why)
{
	static const struct {
		const char *name;
		long lo, hi, dflt;
	} cmds[] = {{"fw-power-dl", 1, MSIM_FW_PKG_MAX, -1},
	            {"fw-power-install", 1, 100, -1},
	            {"fw-lose-128", 0, 1000, 1},
	            {"fw-validate-fail", 129, 255, 247},
	            {"fw-xm-corrupt", 1, MSIM_FW_PKG_MAX, -1}};
	long v;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		size_t n = strlen(cmds[i].name);
		const char *rest = line + n;

		if (strncmp(line, cmds[i].name, n) || (*rest && *rest != ' '))
			continue;
		while (*rest == ' ')
			rest++;
		if (number(rest, cmds[i].lo, cmds[i].hi, cmds[i].dflt, &v) != 0) {
			*why = "bad number";
			return -1;
		}
		switch (i) {
		case 0: m->fw.power_dl_byte = v; break;
		case 1: m->fw.power_pct = (int)v; break;
		case 2: m->fw.lose_128 = (int)v; break;
		case 3: m->fw.validate_fail = (int)v; break;
		default: m->fw.xm_corrupt = v; break;
		}
		return 0;
	}
	*why = "unknown fw- control command";
	return -1;
}
