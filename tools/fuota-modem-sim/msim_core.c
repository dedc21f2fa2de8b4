/* The simulator's core: output with the fault switches applied, line assembly and echo, prompts
 * and counted payloads, the Xmodem hand-over, timers, power and reboot. */
#include "msim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_MAX (16u << 20) /* the host stopped reading: drop rather than grow without end */
#define XR_MAX  (64u << 20) /* largest file the Xmodem receiver keeps */

static void buf_add(uint8_t **buf, size_t *n, size_t *cap, const void *d, size_t len)
{
	if (*n + len > OUT_MAX)
		return;
	if (*n + len > *cap) {
		size_t c = *cap ? *cap : 256;
		uint8_t *nb;

		while (c < *n + len)
			c *= 2;
		nb = realloc(*buf, c);
		if (!nb)
			return;
		*buf = nb;
		*cap = c;
	}
	memcpy(*buf + *n, d, len);
	*n += len;
}

void msim_out_raw(struct msim *m, const void *data, size_t len)
{
	if (!m->powered || m->silent)
		return;
	buf_add(&m->out, &m->out_n, &m->out_cap, data, len);
}

/* "\r\n<text>\r\n", corrupted when the garble fault is armed. */
static void emit(struct msim *m, const char *text, size_t len)
{
	char tmp[MSIM_LINE_MAX + 8];

	if (len > MSIM_LINE_MAX)
		len = MSIM_LINE_MAX;
	memcpy(tmp, text, len);
	if (m->faults.garble > 0 && len > 0) {
		m->faults.garble--;
		tmp[0] = (char)0xfe;
		tmp[len / 2] = (char)(tmp[len / 2] ^ 0x55);
	}
	msim_out_raw(m, "\r\n", 2);
	msim_out_raw(m, tmp, len);
	msim_out_raw(m, "\r\n", 2);
}

static void urc_mid(struct msim *m)
{
	if (m->faults.urc_mid <= 0 || m->urc_mid_done)
		return;
	m->faults.urc_mid--;
	m->urc_mid_done = true;
	emit(m, m->faults.urc_text, strlen(m->faults.urc_text));
}

__attribute__((format(printf, 1, 0))) static void vline(const char *fmt, va_list ap, char *buf,
                                                        size_t len, size_t *n)
{
	int k = vsnprintf(buf, len, fmt, ap);

	*n = k < 0 ? 0 : ((size_t)k >= len ? len - 1 : (size_t)k);
}

void msim_line_bytes(struct msim *m, const void *data, size_t len)
{
	emit(m, data, len);
	urc_mid(m);
}

void msim_line(struct msim *m, const char *fmt, ...)
{
	char buf[MSIM_LINE_MAX];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vline(fmt, ap, buf, sizeof(buf), &n);
	va_end(ap);
	emit(m, buf, n);
	urc_mid(m);
}

void msim_urc(struct msim *m, const char *fmt, ...)
{
	char buf[MSIM_LINE_MAX];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vline(fmt, ap, buf, sizeof(buf), &n);
	va_end(ap);
	if (!m->powered || m->silent)
		return;
	if (m->in_cmd || !m->rate_known || m->mode == MSIM_MODE_RAW ||
	    m->mode == MSIM_MODE_XMODEM) {
		/* the module holds URCs while a command runs or the line carries a payload */
		buf_add(&m->urcq, &m->urcq_n, &m->urcq_cap, "\r\n", 2);
		buf_add(&m->urcq, &m->urcq_n, &m->urcq_cap, buf, n);
		buf_add(&m->urcq, &m->urcq_n, &m->urcq_cap, "\r\n", 2);
		return;
	}
	emit(m, buf, n);
}

/* The URCs held back go out once the line is free. */
static void flush_urcs(struct msim *m)
{
	if (m->urcq_n && !m->in_cmd && m->rate_known && m->mode == MSIM_MODE_COMMAND) {
		msim_out_raw(m, m->urcq, m->urcq_n);
		m->urcq_n = 0;
	}
}

static const char *cme_text(int cme)
{
	switch (cme) {
	case MSIM_CME_NOT_ALLOWED: return "operation not allowed";
	case MSIM_CME_NOT_SUPPORTED: return "operation not supported";
	case MSIM_CME_MEMORY_FULL: return "memory full";
	case MSIM_CME_NOT_FOUND: return "not found";
	case MSIM_CME_NO_SERVICE: return "no network service";
	case MSIM_CME_BAD_PARAM: return "incorrect parameters";
	default: return "unknown";
	}
}

/* The final result of a command line: 0 OK, MSIM_ERROR, or a +CME ERROR number. */
void msim_final(struct msim *m, int rc)
{
	char buf[64];
	int n;

	urc_mid(m);
	m->urc_mid_done = false;
	m->in_cmd = false;
	if (m->faults.drop_final > 0) {
		m->faults.drop_final--;
		flush_urcs(m);
		return;
	}
	if (rc == 0)
		n = snprintf(buf, sizeof(buf), "OK");
	else if (rc == MSIM_ERROR || m->cmee == 0)
		n = snprintf(buf, sizeof(buf), "ERROR");
	else if (m->cmee == 1)
		n = snprintf(buf, sizeof(buf), "+CME ERROR: %d", rc);
	else
		n = snprintf(buf, sizeof(buf), "+CME ERROR: %s", cme_text(rc));
	emit(m, buf, (size_t)n);
	flush_urcs(m);
}

void msim_ok(struct msim *m)
{
	msim_final(m, 0);
}

void msim_error(struct msim *m, enum msim_cme cme)
{
	msim_final(m, (int)cme);
}

int msim_timer_add(struct msim *m, unsigned delay_ms, void (*fn)(struct msim *, int), int arg)
{
	for (int i = 0; i < MSIM_TIMERS; i++) {
		if (!m->timers[i].used) {
			m->timers[i] = (struct msim_timer){m->now_ms + delay_ms, fn, arg, true};
			return 0;
		}
	}
	return -1;
}

void msim_timer_cancel(struct msim *m, void (*fn)(struct msim *, int))
{
	for (int i = 0; i < MSIM_TIMERS; i++)
		if (m->timers[i].used && m->timers[i].fn == fn)
			m->timers[i].used = false;
}

/* Back to AT lines: the URCs held during a payload go out now. */
static void to_command_mode(struct msim *m)
{
	m->mode = MSIM_MODE_COMMAND;
	flush_urcs(m);
}

static void raw_end(struct msim *m, bool complete)
{
	void (*done)(struct msim *, bool) = m->raw.done;

	to_command_mode(m);
	m->raw.done = NULL;
	if (done)
		done(m, complete);
	free(m->raw.buf);
	m->raw.buf = NULL;
}

void msim_expect_raw(struct msim *m, size_t want, unsigned timeout_ms,
                     void (*done)(struct msim *, bool))
{
	m->raw.want = want;
	m->raw.got = 0;
	m->raw.buf = malloc(want ? want : 1);
	m->raw.done = done;
	m->raw.deadline_ms = m->now_ms + timeout_ms;
	m->mode = MSIM_MODE_RAW;
	if (!m->raw.buf)
		raw_end(m, false);
	else if (want == 0)
		raw_end(m, true);
}

static void xr_out(void *ctx, uint8_t byte)
{
	msim_out_raw(ctx, &byte, 1);
}

static int xr_data(void *ctx, const uint8_t *d, size_t n)
{
	struct msim *m = ctx;
	size_t before = m->xr_n;

	if (m->xr_n + n > XR_MAX)
		return -1;
	buf_add(&m->xr_buf, &m->xr_n, &m->xr_cap, d, n);
	return m->xr_n == before + n ? 0 : -1;
}

void msim_xmodem_start(struct msim *m, const char *name, const char *tag, long size)
{
	snprintf(m->xr_name, sizeof(m->xr_name), "%s", name);
	snprintf(m->xr_tag, sizeof(m->xr_tag), "%s", tag);
	m->xr_size = size;
	m->xr_n = 0;
	m->mode = MSIM_MODE_XMODEM;
	msim_xr_start(&m->xr, m->now_ms, m->cfg.xmodem_scale, xr_out, xr_data, m);
}

static void xmodem_report(struct msim *m, int rc)
{
	msim_line(m, "+USIMXRECV: %d,%zu,%lu,%lu", rc, rc == MSIM_XR_OK ? m->xr_n : 0, m->xr.blocks,
	          m->xr.errors);
	msim_final(m, rc == MSIM_XR_OK ? 0 : MSIM_ERROR);
}

/* The receiver finished: keep the file (trimmed to the announced size) and report 200 ms later,
 * when the sender has let go of the line. */
static void xmodem_end(struct msim *m)
{
	int rc = m->xr.result;
	size_t keep = m->xr_n;

	if (m->fw.phase == MSIM_FW_UPDATE_MODE) {
		to_command_mode(m);
		m->mode = MSIM_MODE_OFF; /* Firmware Update Mode takes no AT */
		msim_fw_received(m, rc, m->xr_buf, m->xr_n, m->xr.blocks);
		return;
	}

	if (rc == MSIM_XR_OK && m->xr_size >= 0) {
		if ((size_t)m->xr_size > m->xr_n)
			rc = MSIM_XR_SEQUENCE; /* fewer bytes came than announced */
		else
			keep = (size_t)m->xr_size;
	}
	if (rc == MSIM_XR_OK &&
	    msim_fs_write(m, m->xr_tag, m->xr_name, m->xr_buf, keep, false) != 0)
		rc = MSIM_XR_REFUSED;
	m->xr_n = keep;
	to_command_mode(m);
	msim_timer_add(m, 200, xmodem_report, rc);
}

/* A CR ended the line: find "AT" in it (a real module skips what precedes) and run it. */
static void end_line(struct msim *m)
{
	size_t start = 0;

	if (m->line_overflow) {
		m->line_overflow = false;
		m->line_n = 0;
		msim_final(m, MSIM_ERROR);
		return;
	}
	while (start + 1 < m->line_n &&
	       !((m->line[start] | 0x20) == 'a' && (m->line[start + 1] | 0x20) == 't'))
		start++;
	if (start + 1 < m->line_n) {
		m->rate_known = true;
		msim_dispatch_line(m, m->line + start, m->line_n - start);
	}
	m->line_n = 0;
}

static void command_byte(struct msim *m, uint8_t b)
{
	if (m->echo)
		msim_out_raw(m, &b, 1);
	if (b == '\r') {
		end_line(m);
	} else if (b == '\n') {
		/* LF after CR is ignored */
	} else if (b == 0x08) {
		if (m->line_n)
			m->line_n--;
	} else if (m->line_n < sizeof(m->line)) {
		m->line[m->line_n++] = (char)b;
	} else {
		m->line_overflow = true;
	}
}

void msim_input(struct msim *m, const uint8_t *data, size_t len)
{
	size_t i = 0;

	for (size_t k = 0; m->powered && k < len; k++)
		msim_fw_host_byte(m, data[k]);
	while (i < len) {
		if (!m->powered || m->silent || m->mode == MSIM_MODE_OFF)
			return;
		if (m->mode == MSIM_MODE_RAW) {
			size_t take = m->raw.want - m->raw.got;

			if (take > len - i)
				take = len - i;
			memcpy(m->raw.buf + m->raw.got, data + i, take);
			m->raw.got += take;
			i += take;
			if (msim_fw_dl_cut(m, m->raw.tag, m->raw.name, m->raw.buf, m->raw.got))
				return; /* the power went (the buffer went with it) */
			if (m->raw.got == m->raw.want)
				raw_end(m, true);
		} else if (m->mode == MSIM_MODE_XMODEM) {
			uint8_t b = data[i++];

			if (!msim_fw_xm_byte(m, &b))
				return; /* the power went */
			msim_xr_input(&m->xr, &b, 1, m->now_ms);
			if (m->xr.state == MSIM_XR_DONE || m->xr.state == MSIM_XR_FAILED)
				xmodem_end(m);
		} else {
			command_byte(m, data[i++]);
		}
	}
}

void msim_tick(struct msim *m, uint64_t now_ms)
{
	m->now_ms = now_ms;
	for (int i = 0; i < MSIM_TIMERS; i++) {
		struct msim_timer t = m->timers[i];

		if (t.used && t.at_ms <= now_ms) {
			m->timers[i].used = false;
			t.fn(m, t.arg);
		}
	}
	if (m->mode == MSIM_MODE_RAW && now_ms >= m->raw.deadline_ms)
		raw_end(m, false);
	if (m->mode == MSIM_MODE_XMODEM) {
		msim_xr_tick(&m->xr, now_ms);
		if (m->xr.state == MSIM_XR_DONE || m->xr.state == MSIM_XR_FAILED)
			xmodem_end(m);
	}
}

uint64_t msim_next_deadline(const struct msim *m)
{
	uint64_t d = UINT64_MAX;

	for (int i = 0; i < MSIM_TIMERS; i++)
		if (m->timers[i].used && m->timers[i].at_ms < d)
			d = m->timers[i].at_ms;
	if (m->mode == MSIM_MODE_RAW && m->raw.deadline_ms < d)
		d = m->raw.deadline_ms;
	if (m->mode == MSIM_MODE_XMODEM && msim_xr_deadline(&m->xr) < d)
		d = msim_xr_deadline(&m->xr);
	return d;
}

unsigned msim_line_rate(const struct msim *m)
{
	if (m->fw.rate)
		return m->fw.rate; /* Firmware Update Mode or the install's URCs */
	return m->ipr ? m->ipr : m->cfg.baud;
}

static void boot_done(struct msim *m, int arg)
{
	(void)arg;
	m->booting = false;
	m->mode = MSIM_MODE_COMMAND;
	/* --autobaud: at +IPR=0 the module learns the rate from the host's first "AT" and holds
	 * its URCs until then; the greeting needs a fixed rate (UBX-20009652 §3.2.2, §5.2) */
	m->rate_known = !(m->cfg.autobaud && m->ipr == 0);
	if (msim_fw_boot(m))
		return;
	if (m->nvm.greeting && m->rate_known)
		msim_urc(m, "%s", m->nvm.greeting_text);
	msim_radio(m, m->cfun);
}

/* Forget everything a reboot forgets: the volatile state comes from NVM again. */
static void volatile_reset(struct msim *m)
{
	free(m->raw.buf);
	memset(&m->raw, 0, sizeof(m->raw));
	memset(m->timers, 0, sizeof(m->timers));
	/* HTTP and FTP settings and transfers in flight are volatile: the timers that would have
	 * ended them are gone */
	memset(m->http, 0, sizeof(m->http));
	memset(&m->ftp, 0, sizeof(m->ftp));
	m->ftp_server[0] = '\0';
	m->ftp_logged_in = false;
	msim_net_reset(m);
	msim_fs_reset(m);
	if (m->cfg.state_path)
		msim_nvm_load(&m->nvm, m->cfg.state_path);
	m->echo = m->nvm.echo;
	m->cmee = m->nvm.cmee;
	m->ipr = m->nvm.ipr;
	m->cfun = m->nvm.cfun4 ? 4 : 1;
	m->cereg_n = 0;
	m->cereg_stat = 0;
	m->hexmode = m->nvm.hexmode != 0;
	m->line_n = 0;
	m->line_overflow = false;
	m->urcq_n = 0;
	m->xr_n = 0;
	m->urc_mid_done = false;
	m->in_cmd = false;
}

void msim_power_off(struct msim *m)
{
	m->powered = false;
	m->mode = MSIM_MODE_OFF;
	m->out_n = 0;                /* what was still in the UART is lost */
	m->fw.uf.keep_bytes = false; /* a power loss restarts a uFOTA download (§3.2.2) */
	volatile_reset(m);
}

void msim_power_on(struct msim *m)
{
	if (m->powered)
		return;
	volatile_reset(m);
	m->powered = true;
	m->silent = false;
	m->booting = true;
	m->mode = MSIM_MODE_OFF;
	m->boot_count++;
	msim_timer_add(m, m->cfg.boot_ms, boot_done, 0);
}

void msim_reboot(struct msim *m)
{
	bool keep = m->fw.uf.keep_bytes;

	msim_power_off(m);
	m->fw.uf.keep_bytes = keep; /* a reset is no power loss */
	msim_power_on(m);
}

static void reboot_timer(struct msim *m, int arg)
{
	(void)arg;
	msim_reboot(m);
}

void msim_reboot_later(struct msim *m)
{
	unsigned rate = msim_line_rate(m);
	uint64_t ms = (uint64_t)m->out_n * 10u * 1000u / (rate ? rate : 115200) + 20;

	msim_timer_add(m, (unsigned)ms, reboot_timer, 0);
}

int msim_init(struct msim *m, const struct msim_cfg *cfg, uint64_t now_ms)
{
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	if (!m->cfg.baud)
		m->cfg.baud = 115200;
	if (!m->cfg.xmodem_scale)
		m->cfg.xmodem_scale = 1;
	if (!m->cfg.net_bytes_per_s)
		m->cfg.net_bytes_per_s = 1000000;
	if (!m->cfg.install_ms)
		m->cfg.install_ms = 60000;
	if (!m->cfg.imei)
		m->cfg.imei = "004999010640000";
	m->now_ms = now_ms;
	for (int i = 0; i < MSIM_SOCKETS; i++)
		m->sock[i].fd = -1;
	m->fw.power_dl_byte = -1;
	m->fw.power_pct = -1;
	m->fw.install_ms = m->cfg.install_ms;
	snprintf(m->faults.urc_text, sizeof(m->faults.urc_text), "+CEREG: 1");
	msim_nvm_defaults(&m->nvm);
	if (cfg->state_path && msim_nvm_load(&m->nvm, cfg->state_path) != 0)
		return -1;
	return 0;
}

void msim_free(struct msim *m)
{
	msim_power_off(m);
	msim_net_reset(m);
	free(m->out);
	free(m->urcq);
	free(m->xr_buf);
	m->out = m->urcq = m->xr_buf = NULL;
}
