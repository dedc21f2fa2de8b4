/* The SARA-R5 driver (sara.h): start-up, identity, MNO profile, registration, the PDP context
 * and the URC handlers. Sockets, files, HTTP and FTP are in sara_svc.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sara_private.h"

int sara_fail(struct sara *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	at_log_note(s->at, s->err);
	return err;
}

int sara_bad_reply(struct sara *s, const char *cmd, const char *line, size_t len)
{
	char masked[128];

	at_mask_secrets(cmd, masked, sizeof(masked));
	return sara_fail(s, FUOTA_ERR_MALFORMED, "%s: cannot parse '%.*s'", masked,
	                 (int)(len > 120 ? 120 : len), line ? line : "");
}

int sara_cmd_ex(struct sara *s, const struct at_cmd *cmd)
{
	char masked[128];
	int err;

	if (s->check) {
		char why[200] = "";

		err = s->check(s->check_ctx, cmd->text, why, sizeof(why));
		if (err != FUOTA_OK) {
			memset(&s->resp, 0, sizeof(s->resp));
			return sara_fail(s, err, "%s", why[0] ? why : "command refused");
		}
	}
	at_clear(s->at);
	err = at_cmd(s->at, cmd, &s->resp);
	at_clear(s->at);
	if (err == FUOTA_OK)
		return FUOTA_OK;
	at_mask_secrets(cmd->text, masked, sizeof(masked));
	if (err == AT_ERR_DEVICE && s->resp.final != AT_FINAL_ERROR && s->resp.text[0])
		return sara_fail(s, err, "%s: %s ERROR: %s", masked,
		                 s->resp.final == AT_FINAL_CMS ? "+CMS" : "+CME", s->resp.text);
	if (err == AT_ERR_DEVICE)
		return sara_fail(s, err, "%s: %s", masked,
		                 s->resp.final == AT_FINAL_ABORTED ? "ABORTED" : "ERROR");
	return sara_fail(s, err, "%s: %s", masked, fuota_strerror(err));
}

int sara_cmd(struct sara *s, const char *prefix, uint32_t timeout_ms, const char *fmt, ...)
{
	struct at_cmd cmd = {.prefix = prefix, .timeout_ms = timeout_ms};
	char text[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text))
		return sara_fail(s, FUOTA_ERR_INVALID_ARG, "command too long");
	cmd.text = text;
	return sara_cmd_ex(s, &cmd);
}

int sara_wait_flag(struct sara *s, const bool *flag, uint64_t deadline_ms, const char *what)
{
	unsigned boots = s->boots;

	while (!*flag) {
		uint32_t left = cell_ms_left(s->clk, deadline_ms);
		int err;

		if (s->boots != boots) /* its greeting: the result will never come */
			return sara_fail(s, FUOTA_ERR_TIMEOUT, "%s: the module restarted", what);
		if (left == 0)
			return sara_fail(s, FUOTA_ERR_TIMEOUT, "%s: no result URC", what);
		err = at_poll(s->at, left < 200 ? left : 200);
		if (err != FUOTA_OK)
			return sara_fail(s, err, "%s: no result URC", what);
	}
	return FUOTA_OK;
}

bool sara_safe(const char *str)
{
	for (; str && *str; str++)
		if (*str == '"' || (unsigned char)*str < 0x20 || *str == 0x7f)
			return false;
	return str != NULL;
}

const char *sara_last_error(const struct sara *s)
{
	return s->err;
}

static void emit(struct sara *s, struct sara_event *ev)
{
	if (s->cfg.on_event)
		s->cfg.on_event(s->cfg.event_ctx, ev);
}

static void urc_bad(struct sara *s, const char *line, size_t len)
{
	sara_bad_reply(s, "URC", line, len);
}

static void on_cereg(void *ctx, const char *line, size_t len)
{
	struct sara *s = ctx;
	struct sara_event ev = {.kind = SARA_EV_REG};

	if (sara_parse_cereg(line, len, &ev.reg) != FUOTA_OK)
		return urc_bad(s, line, len);
	s->reg = ev.reg;
	s->reg_seen = true;
	emit(s, &ev);
}

static void on_uupsda(void *ctx, const char *line, size_t len)
{
	struct sara *s = ctx;
	struct sara_event ev = {.kind = SARA_EV_PDP_UP};

	if (sara_parse_uupsda(line, len, &s->pdp_result, s->ip, sizeof(s->ip)) != FUOTA_OK)
		return urc_bad(s, line, len);
	s->pdp_seen = true;
	if (s->pdp_result == 0)
		emit(s, &ev);
}

static void on_uupsdd(void *ctx, const char *line, size_t len)
{
	struct sara *s = ctx;
	struct sara_event ev = {.kind = SARA_EV_PDP_DOWN};
	int profile;

	if (sara_parse_uupsdd(line, len, &profile) != FUOTA_OK)
		return urc_bad(s, line, len);
	s->ip[0] = 0;
	emit(s, &ev);
}

static void on_sock_data(void *ctx, const char *line, size_t len)
{
	struct sara *s = ctx;
	struct sara_event ev = {.kind = SARA_EV_SOCK_DATA};
	const char *prefix = strncmp(line, "+UUSORF:", 8) == 0 ? "+UUSORF:" : "+UUSORD:";

	if (sara_parse_sock_len(line, len, prefix, &ev.sock, &ev.bytes) != FUOTA_OK)
		return urc_bad(s, line, len);
	s->pending[ev.sock] = ev.bytes;
	emit(s, &ev);
}

static void on_sock_closed(void *ctx, const char *line, size_t len)
{
	struct sara *s = ctx;
	struct sara_event ev = {.kind = SARA_EV_SOCK_CLOSED};

	if (sara_parse_uusocl(line, len, &ev.sock) != FUOTA_OK)
		return urc_bad(s, line, len);
	s->pending[ev.sock] = 0;
	emit(s, &ev);
}

static void on_http(void *ctx, const char *line, size_t len)
{
	struct sara *s = ctx;
	struct sara_event ev = {.kind = SARA_EV_HTTP};

	if (sara_parse_uuhttpcr(line, len, &ev.xfer) != FUOTA_OK)
		return urc_bad(s, line, len);
	s->http = ev.xfer;
	s->http_seen = true;
	emit(s, &ev);
}

static void on_ftp(void *ctx, const char *line, size_t len)
{
	struct sara *s = ctx;
	struct sara_event ev = {.kind = SARA_EV_FTP};

	if (sara_parse_uuftpcr(line, len, &ev.xfer) != FUOTA_OK)
		return urc_bad(s, line, len);
	s->ftp = ev.xfer;
	s->ftp_seen = true;
	emit(s, &ev);
}

/* +CGEV: NW PDN DEACT 1 (after AT+CGEREP=1) */
static void on_cgev(void *ctx, const char *line, size_t len)
{
	struct sara *s = ctx;
	struct sara_event ev = {.kind = SARA_EV_CGEV};

	if (sara_parse_cgev(line, len, &ev.cgev) != FUOTA_OK)
		return urc_bad(s, line, len);
	emit(s, &ev);
}

/* The +CSGT greeting: the module (re)booted, whatever it was doing is lost. */
static void on_greeting(void *ctx, const char *line, size_t len)
{
	struct sara *s = ctx;

	(void)line;
	(void)len;
	s->boots++;
	at_log_note(s->at, "the module's boot greeting: it restarted");
}

static const struct {
	const char *prefix;
	at_urc_fn fn;
} urcs[] = {
        {"+CEREG:", on_cereg},      {"+UUPSDA:", on_uupsda},    {"+UUPSDD:", on_uupsdd},
        {"+UUSORD:", on_sock_data}, {"+UUSORF:", on_sock_data}, {"+UUSOCL:", on_sock_closed},
        {"+UUHTTPCR:", on_http},    {"+UUFTPCR:", on_ftp},      {"+CGEV:", on_cgev},
};

static void pause_ms(struct sara *s, uint32_t ms)
{
	if (s->clk->sleep_ms)
		s->clk->sleep_ms(s->clk->ctx, ms);
	else
		(void)at_poll(s->at, ms);
}

/* The ladder's rungs (CELLULAR-NOTES §3.7, ubxlib's SARA-R5 timings): sacrificial ATs, a power
 * cycle through PWR_ON, the reset line. Runs after a timed-out command, with the client idle. */
static void recover(void *ctx, enum at_recovery rung, unsigned consecutive)
{
	struct sara *s = ctx;
	struct sara_event ev = {.kind = SARA_EV_RECOVERY, .rung = (int)rung};
	int i, err = FUOTA_ERR_UNSUPPORTED;

	(void)consecutive;
	if (s->booting)
		return;
	if (s->hold_resets && rung != AT_RECOVER_AT) {
		at_log_note(s->at, "recovery: no power cycle or reset while resets are held");
		return;
	}
	if (rung == AT_RECOVER_AT) {
		for (i = 0; i < 3 && err != FUOTA_OK; i++) {
			err = at_cmdf(s->at, NULL, NULL, 1000, "AT");
			at_clear(s->at);
		}
	} else if (rung == AT_RECOVER_POWER && s->cfg.hw.power_pulse) {
		err = s->cfg.hw.power_pulse(s->cfg.hw.ctx, 2000); /* off */
		pause_ms(s, 5000);
		if (err == FUOTA_OK)
			err = s->cfg.hw.power_pulse(s->cfg.hw.ctx, 1500); /* on */
		s->needs_boot = true;
	} else if (rung == AT_RECOVER_RESET && s->cfg.hw.reset) {
		err = s->cfg.hw.reset(s->cfg.hw.ctx, 150);
		s->needs_boot = true;
	}
	if (err == FUOTA_ERR_UNSUPPORTED)
		at_log_note(s->at, "recovery: no line wired for this rung");
	emit(s, &ev);
}

void sara_set_cmd_check(struct sara *s, sara_cmd_check_fn fn, void *ctx)
{
	s->check = fn;
	s->check_ctx = ctx;
}

void sara_hold_resets(struct sara *s, bool hold)
{
	s->hold_resets = hold;
}

bool sara_resets_held(const struct sara *s)
{
	return s->hold_resets;
}

bool sara_needs_boot(const struct sara *s)
{
	return s->needs_boot;
}

unsigned sara_boots(const struct sara *s)
{
	return s->boots;
}

int sara_create(const struct sara_config *cfg, struct sara **out)
{
	struct sara *s;
	size_t i;
	int err = FUOTA_OK;

	*out = NULL;
	if (!cfg || !cfg->at || (cfg->cmee != 0 && cfg->cmee != 1 && cfg->cmee != 2))
		return FUOTA_ERR_INVALID_ARG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return FUOTA_ERR_NO_MEMORY;
	s->cfg = *cfg;
	s->at = cfg->at;
	s->clk = cfg->clock ? cfg->clock : cell_clock_monotonic();
	s->reg.stat = SARA_REG_UNKNOWN;
	for (i = 0; i < sizeof(urcs) / sizeof(urcs[0]) && err == FUOTA_OK; i++)
		err = at_urc_add(s->at, urcs[i].prefix, urcs[i].fn, s);
	if (err == FUOTA_OK && cfg->greeting)
		err = sara_safe(cfg->greeting) && cfg->greeting[0] && strlen(cfg->greeting) < 64
		              ? at_urc_add(s->at, cfg->greeting, on_greeting, s)
		              : FUOTA_ERR_INVALID_ARG;
	if (err != FUOTA_OK) {
		sara_destroy(s);
		return err;
	}
	if (cfg->recovery)
		at_set_recover(s->at, recover, s);
	*out = s;
	return FUOTA_OK;
}

void sara_destroy(struct sara *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < sizeof(urcs) / sizeof(urcs[0]); i++)
		(void)at_urc_remove(s->at, urcs[i].prefix);
	if (s->cfg.greeting)
		(void)at_urc_remove(s->at, s->cfg.greeting);
	if (s->cfg.recovery)
		at_set_recover(s->at, NULL, NULL);
	free(s);
}

int sara_poll(struct sara *s, uint32_t timeout_ms)
{
	return at_poll(s->at, timeout_ms);
}

/* "AT" once a second until it answers (OK, or an error result: the module is alive either way);
 * PWR_ON is pulsed once if the module stays silent for 6 s (ubxlib's SARA-R5 boot wait). */
static int wait_alive(struct sara *s, uint32_t timeout_ms)
{
	uint64_t t0 = s->clk->now_ms(s->clk->ctx), deadline = t0 + timeout_ms;
	bool pulsed = false;

	for (;;) {
		int err;

		at_clear(s->at);
		err = at_cmdf(s->at, NULL, NULL, 1000, "AT");
		at_clear(s->at);
		if (err == FUOTA_OK || err == AT_ERR_DEVICE)
			return FUOTA_OK;
		if (err != FUOTA_ERR_TIMEOUT)
			return sara_fail(s, err, "AT: %s", fuota_strerror(err));
		if (cell_ms_left(s->clk, deadline) == 0)
			return sara_fail(s, FUOTA_ERR_TIMEOUT, "AT: no answer in %u ms",
			                 timeout_ms);
		if (!pulsed && !s->hold_resets && s->cfg.hw.power_pulse &&
		    s->clk->now_ms(s->clk->ctx) - t0 >= 6000) {
			pulsed = true;
			at_log_note(s->at, "no answer: pulsing PWR_ON");
			(void)s->cfg.hw.power_pulse(s->cfg.hw.ctx, 1500);
		}
	}
}

static int query(struct sara *s, const char *prefix, const char *text, const char **l, size_t *len);

/* A module at +IPR=0 learns the rate from each boot's first AT and until then holds its URCs and
 * sends no greeting: fix the port's rate and store it (CELLULAR-NOTES §3.7). The module answers
 * AT+IPR= at the old rate, which is the port's already; u-blox asks for 100 ms before the next
 * command. */
static int fix_baud(struct sara *s)
{
	const char *l = "";
	size_t len = 0;
	uint32_t rate = 0;
	int err = query(s, "+IPR:", "AT+IPR?", &l, &len);

	if (err == FUOTA_OK && sara_parse_ipr(l, len, &rate) != FUOTA_OK)
		return sara_bad_reply(s, "AT+IPR?", l, len);
	if (err != FUOTA_OK || rate != 0)
		return err;
	err = sara_cmd(s, NULL, 0, "AT+IPR=%u", s->cfg.fixed_baud);
	if (err == FUOTA_OK) {
		pause_ms(s, 100);
		err = sara_cmd(s, NULL, 0, "AT&W");
	}
	return err;
}

int sara_boot(struct sara *s, uint32_t timeout_ms)
{
	int err;

	/* a reboot loses the registration: whatever +CEREG said before is history */
	memset(&s->reg, 0, sizeof(s->reg));
	s->reg.stat = SARA_REG_NOT;
	s->reg_seen = false;
	s->booting = true;
	err = wait_alive(s, timeout_ms);
	s->booting = false;

	if (err == FUOTA_OK)
		s->needs_boot = false;

	if (err == FUOTA_OK)
		err = sara_cmd(s, NULL, 0, "ATE0");
	if (err == FUOTA_OK)
		err = sara_cmd(s, NULL, 0, "AT+CMEE=%d", s->cfg.cmee ? s->cfg.cmee : 2);
	/* SARA-R5xxx-01B remembers hex mode for sockets: binary mode, every boot (ubxlib) */
	if (err == FUOTA_OK)
		err = sara_cmd(s, NULL, 0, "AT+UDCONF=1,0");
	if (err == FUOTA_OK)
		err = sara_cmd(s, NULL, 0, "AT+CEREG=2");
	if (err == FUOTA_OK && s->cfg.fixed_baud)
		err = fix_baud(s);
	/* the greeting at every later boot; a module at +IPR=0 refuses it: the timeouts stay */
	if (err == FUOTA_OK && s->cfg.greeting &&
	    sara_cmd(s, NULL, 0, "AT+CSGT=1,\"%s\"", s->cfg.greeting) != FUOTA_OK)
		at_log_note(s->at, "no boot greeting: restarts are seen at timeouts only");
	return err;
}

/* The first kept line of s->resp, or a parse error naming cmd. */
static int first_line(struct sara *s, const char *cmd, const char **line, size_t *len)
{
	if (s->resp.n == 0)
		return sara_bad_reply(s, cmd, "(no information line)", 21);
	*line = s->resp.line[0];
	*len = s->resp.len[0];
	return FUOTA_OK;
}

/* Runs text and hands back its first information line. */
static int query(struct sara *s, const char *prefix, const char *text, const char **l, size_t *len)
{
	int err = sara_cmd(s, prefix, 0, "%s", text);

	if (err == FUOTA_OK)
		err = first_line(s, text, l, len);
	return err;
}

int sara_info(struct sara *s, struct sara_info *info)
{
	const char *l = "";
	size_t len = 0;
	int err;

	memset(info, 0, sizeof(*info));
	err = query(s, NULL, "ATI9", &l, &len);
	if (err == FUOTA_OK &&
	    sara_parse_ati9(l, len, info->fw, sizeof(info->fw), info->app, sizeof(info->app)))
		return sara_bad_reply(s, "ATI9", l, len);
	if (err == FUOTA_OK)
		err = query(s, NULL, "AT+CGMR", &l, &len);
	if (err == FUOTA_OK && sara_parse_cgmr(l, len, info->cgmr, sizeof(info->cgmr)) != FUOTA_OK)
		return sara_bad_reply(s, "AT+CGMR", l, len);
	if (err == FUOTA_OK)
		err = query(s, NULL, "AT+CGSN", &l, &len);
	if (err == FUOTA_OK && sara_parse_imei(l, len, info->imei, sizeof(info->imei)))
		return sara_bad_reply(s, "AT+CGSN", l, len);
	return err;
}

int sara_mno_get(struct sara *s, int *profile)
{
	const char *l = "";
	size_t len = 0;
	int err = sara_cmd(s, "+UMNOPROF:", 0, "AT+UMNOPROF?");

	if (err == FUOTA_OK && (err = first_line(s, "AT+UMNOPROF?", &l, &len)) == FUOTA_OK &&
	    sara_parse_umnoprof(l, len, profile) != FUOTA_OK)
		err = sara_bad_reply(s, "AT+UMNOPROF?", l, len);
	return err;
}

int sara_mno_set(struct sara *s, int profile, uint32_t boot_timeout_ms)
{
	int err;

	if (profile < 0 || profile > 255)
		return FUOTA_ERR_INVALID_ARG;
	/* only while deregistered, then a reboot (UBX-20009652 §6) */
	err = sara_cmd(s, NULL, 180000, "AT+CFUN=0");
	if (err == FUOTA_OK)
		err = sara_cmd(s, NULL, 0, "AT+UMNOPROF=%d", profile);
	if (err == FUOTA_OK)
		err = sara_cmd(s, NULL, 0, "AT+CFUN=16");
	if (err == FUOTA_OK)
		err = sara_boot(s, boot_timeout_ms);
	return err;
}

int sara_reg_get(struct sara *s, struct sara_cereg *reg)
{
	const char *l = "";
	size_t len = 0;
	int err = sara_cmd(s, "+CEREG:", 0, "AT+CEREG?");

	if (err == FUOTA_OK && (err = first_line(s, "AT+CEREG?", &l, &len)) == FUOTA_OK &&
	    sara_parse_cereg(l, len, reg) != FUOTA_OK)
		err = sara_bad_reply(s, "AT+CEREG?", l, len);
	if (err == FUOTA_OK)
		s->reg = *reg;
	return err;
}

int sara_register(struct sara *s, const char *apn, uint32_t timeout_ms, int *stat)
{
	uint64_t deadline = s->clk->now_ms(s->clk->ctx) + timeout_ms;
	struct sara_cereg reg;
	int err = FUOTA_OK;

	if (apn && !sara_safe(apn))
		return sara_fail(s, FUOTA_ERR_INVALID_ARG, "APN with a quote or control byte");
	if (apn)
		err = sara_cmd(s, NULL, 0, "AT+CGDCONT=1,\"IP\",\"%s\"", apn);
	if (err == FUOTA_OK)
		err = sara_cmd(s, NULL, 180000, "AT+CFUN=1");
	while (err == FUOTA_OK) {
		if (s->reg.stat == SARA_REG_HOME || s->reg.stat == SARA_REG_ROAMING)
			break;
		if (s->reg.stat == SARA_REG_DENIED) {
			err = sara_fail(s, FUOTA_ERR_CONFLICT, "registration denied");
			break;
		}
		if (cell_ms_left(s->clk, deadline) == 0) {
			err = sara_fail(s, FUOTA_ERR_TIMEOUT, "not registered (+CEREG stat %d)",
			                s->reg.stat);
			break;
		}
		err = at_poll(s->at, cell_ms_left(s->clk, deadline) < 2000
		                             ? cell_ms_left(s->clk, deadline)
		                             : 2000);
		if (err == FUOTA_OK && s->reg.stat != SARA_REG_HOME &&
		    s->reg.stat != SARA_REG_ROAMING)
			err = sara_reg_get(s, &reg);
	}
	if (stat)
		*stat = s->reg.stat;
	return err;
}

int sara_pdp_up(struct sara *s, int profile, int cid, uint32_t timeout_ms, char *ip, size_t cap)
{
	uint64_t deadline = s->clk->now_ms(s->clk->ctx) + timeout_ms;
	char what[40];
	int err;

	if (profile < 0 || profile > 6 || cid < 1 || cid > 8)
		return FUOTA_ERR_INVALID_ARG;
	/* IPv4 always: some SARA-R5 versions default to IPv4v6 (ubxlib) */
	err = sara_cmd(s, NULL, 0, "AT+UPSD=%d,0,0", profile);
	if (err == FUOTA_OK)
		err = sara_cmd(s, NULL, 0, "AT+UPSD=%d,100,%d", profile, cid);
	s->pdp_seen = false;
	if (err == FUOTA_OK)
		err = sara_cmd(s, NULL, timeout_ms, "AT+UPSDA=%d,3", profile);
	snprintf(what, sizeof(what), "AT+UPSDA=%d,3 (+UUPSDA)", profile);
	if (err == FUOTA_OK)
		err = sara_wait_flag(s, &s->pdp_seen, deadline, what);
	if (err == FUOTA_OK && s->pdp_result != 0)
		err = sara_fail(s, FUOTA_ERR_IO, "+UUPSDA: %d", s->pdp_result);
	if (err == FUOTA_OK && ip && snprintf(ip, cap, "%s", s->ip) >= (int)cap)
		err = FUOTA_ERR_NO_SPACE;
	return err;
}

int sara_pdp_down(struct sara *s, int profile)
{
	return sara_cmd(s, NULL, 40000, "AT+UPSDA=%d,4", profile);
}
