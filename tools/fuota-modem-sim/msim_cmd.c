/* The table of AT handlers (one row per command) and the handlers of the module itself: echo,
 * +CMEE, identification, the baud rate, the MNO profile, the greeting and the &W profile. */
#include "msim_handlers.h"

#include <stdio.h>
#include <string.h>

static const unsigned rates[] = {0,      9600,   19200,  38400,  57600,
                                 115200, 230400, 460800, 921600, 3000000};

static int h_at(struct msim *m, const struct msim_cmd *c)
{
	(void)m;
	(void)c;
	return 0;
}

/* ATE0 / ATE1 */
static int h_e(struct msim *m, const struct msim_cmd *c)
{
	long v = 0;

	if (c->nparam && msim_at_int(c, 0, 0, 1, &v) != 0)
		return MSIM_ERROR;
	m->echo = (int)v;
	return 0;
}

/* ATI: model; ATI9: "03.15,A00.01" (modem and application versions) */
static int h_i(struct msim *m, const struct msim_cmd *c)
{
	long v = 0;

	if (c->nparam && msim_at_int(c, 0, 0, 9, &v) != 0)
		return MSIM_ERROR;
	if (v == 9)
		msim_line(m, "%s", m->nvm.version);
	else
		msim_line(m, "SARA-R510M8S");
	return 0;
}

/* AT&W: the echo, +CMEE and +IPR settings go to NVM (the stored profile) */
static int h_amp_w(struct msim *m, const struct msim_cmd *c)
{
	(void)c;
	m->nvm.echo = m->echo;
	m->nvm.cmee = m->cmee;
	m->nvm.ipr = m->ipr;
	msim_nvm_changed(m);
	return 0;
}

/* ATZ: back to the stored profile */
static int h_z(struct msim *m, const struct msim_cmd *c)
{
	(void)c;
	m->echo = m->nvm.echo;
	m->cmee = m->nvm.cmee;
	return 0;
}

/* AT&C, AT&D, AT&K, ATV1, ATQ0: accepted, no effect on a pty */
static int h_accept(struct msim *m, const struct msim_cmd *c)
{
	(void)m;
	(void)c;
	return 0;
}

static int h_cmee(struct msim *m, const struct msim_cmd *c)
{
	long v;

	if (c->kind == MSIM_AT_READ)
		msim_line(m, "+CMEE: %d", m->cmee);
	else if (c->kind == MSIM_AT_TEST)
		msim_line(m, "+CMEE: (0-2)");
	else if (c->kind == MSIM_AT_SET && msim_at_int(c, 0, 0, 2, &v) == 0)
		m->cmee = (int)v;
	else
		return MSIM_CME_BAD_PARAM;
	return 0;
}

static int h_cgmi(struct msim *m, const struct msim_cmd *c)
{
	(void)c;
	msim_line(m, "u-blox");
	return 0;
}

static int h_cgmm(struct msim *m, const struct msim_cmd *c)
{
	(void)c;
	msim_line(m, "SARA-R510M8S");
	return 0;
}

/* AT+CGMR: the modem version, "03.15" of ATI9's "03.15,A00.01" */
static int h_cgmr(struct msim *m, const struct msim_cmd *c)
{
	(void)c;
	msim_line(m, "%.*s", (int)strcspn(m->nvm.version, ","), m->nvm.version);
	return 0;
}

static int h_cgsn(struct msim *m, const struct msim_cmd *c)
{
	(void)c;
	msim_line(m, "%s", m->cfg.imei);
	return 0;
}

static int h_cimi(struct msim *m, const struct msim_cmd *c)
{
	(void)c;
	msim_line(m, "001010123456789");
	return 0;
}

static int h_cpin(struct msim *m, const struct msim_cmd *c)
{
	if (c->kind != MSIM_AT_READ)
		return MSIM_CME_NOT_SUPPORTED;
	msim_line(m, "+CPIN: READY");
	return 0;
}

/* AT+IPR=<rate>: OK at the old rate, then the new one */
static int h_ipr(struct msim *m, const struct msim_cmd *c)
{
	long v;

	if (c->kind == MSIM_AT_READ) {
		msim_line(m, "+IPR: %u", m->ipr);
		return 0;
	}
	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 3000000, &v) != 0)
		return MSIM_CME_BAD_PARAM;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		if (rates[i] == (unsigned)v) {
			m->ipr = (unsigned)v;
			return 0;
		}
	}
	return MSIM_CME_BAD_PARAM;
}

/* AT+UMNOPROF=<n>: only with the radio off; applies at the next reboot */
static int h_umnoprof(struct msim *m, const struct msim_cmd *c)
{
	long v;

	if (c->kind == MSIM_AT_READ) {
		msim_line(m, "+UMNOPROF: %d", m->nvm.mnoprof);
		return 0;
	}
	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 201, &v) != 0)
		return MSIM_CME_BAD_PARAM;
	if (m->cfun == 1)
		return MSIM_CME_NOT_ALLOWED;
	m->nvm.mnoprof = (int)v;
	msim_nvm_changed(m);
	return 0;
}

/* AT+CSGT=<mode>[,"<text>"]: the greeting sent at boot */
static int h_csgt(struct msim *m, const struct msim_cmd *c)
{
	long v;
	char text[sizeof(m->nvm.greeting_text)];

	if (c->kind == MSIM_AT_READ) {
		msim_line(m, "+CSGT: \"%s\",%d", m->nvm.greeting_text, m->nvm.greeting);
		return 0;
	}
	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 1, &v) != 0)
		return MSIM_CME_BAD_PARAM;
	if (msim_at_has(c, 1)) {
		if (msim_at_str(c, 1, text, sizeof(text)) != 0 || !text[0] || strchr(text, '\n'))
			return MSIM_CME_BAD_PARAM;
		snprintf(m->nvm.greeting_text, sizeof(m->nvm.greeting_text), "%s", text);
	}
	m->nvm.greeting = (int)v;
	msim_nvm_changed(m);
	return 0;
}

struct cmd_row {
	const char *name;
	msim_handler fn;
};

/* One row per command; issue 11's firmware-update commands are more rows. */
static const struct cmd_row table[] = {
        {"", h_at},
        {"E", h_e},
        {"I", h_i},
        {"Z", h_z},
        {"V", h_accept},
        {"Q", h_accept},
        {"&W", h_amp_w},
        {"&C", h_accept},
        {"&D", h_accept},
        {"&K", h_accept},
        {"+CMEE", h_cmee},
        {"+CGMI", h_cgmi},
        {"+CGMM", h_cgmm},
        {"+CGMR", h_cgmr},
        {"+CGSN", h_cgsn},
        {"+CIMI", h_cimi},
        {"+CPIN", h_cpin},
        {"+IPR", h_ipr},
        {"+UMNOPROF", h_umnoprof},
        {"+CSGT", h_csgt},
        {"+UFACTORY", msim_h_ufactory},
        {"+CFUN", msim_h_cfun},
        {"+CEREG", msim_h_cereg},
        {"+COPS", msim_h_cops},
        {"+CSQ", msim_h_csq},
        {"+CGATT", msim_h_cgatt},
        {"+CGDCONT", msim_h_cgdcont},
        {"+UPSD", msim_h_upsd},
        {"+UPSDA", msim_h_upsda},
        {"+UPSND", msim_h_upsnd},
        {"+UDCONF", msim_h_udconf},
        {"+CGEREP", msim_h_cgerep},
        {"+USOCR", msim_h_usocr},
        {"+USOCO", msim_h_usoco},
        {"+USOST", msim_h_usost},
        {"+USOWR", msim_h_usowr},
        {"+USORF", msim_h_usorf},
        {"+USORD", msim_h_usord},
        {"+USOCL", msim_h_usocl},
        {"+UDWNFILE", msim_h_udwnfile},
        {"+ULSTFILE", msim_h_ulstfile},
        {"+UDELFILE", msim_h_udelfile},
        {"+URDFILE", msim_h_urdfile},
        {"+UHTTP", msim_h_uhttp},
        {"+UHTTPC", msim_h_uhttpc},
        {"+UHTTPER", msim_h_uhttper},
        {"+UFTP", msim_h_uftp},
        {"+UFTPC", msim_h_uftpc},
        {"+UFTPER", msim_h_uftper},
        {"+UFWUPD", msim_h_ufwupd},
        {"+UFWINSTALL", msim_h_ufwinstall},
        {"+UFOTACONFIG", msim_h_ufotaconfig},
        {"+UFOTAACK", msim_h_ufotaack},
        {"+UFOTA", msim_h_ufota},
        {"+UFOTASTAT", msim_h_ufotastat},
        {"+ULWM2MSTAT", msim_h_ulwm2mstat},
        {"+ULWM2MREG", msim_h_ulwm2mreg},
        {"+ULWM2MDEREG", msim_h_ulwm2mdereg},
        {"+USECMODE", msim_h_usecmode},
        {"+ULWM2MREAD", msim_h_ulwm2mread},
        {"+ULWM2MWRITE", msim_h_ulwm2mwrite},
        {"+USECFW", msim_h_usecfw},
        /* not a u-blox command: the simulator's Xmodem receiver on its own (see README) */
        {"+USIMXRECV", msim_h_usimxrecv},
};

msim_handler msim_cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].name, name))
			return table[i].fn;
	return NULL;
}

void msim_dispatch_line(struct msim *m, const char *line, size_t len)
{
	size_t cur;
	struct msim_cmd c;
	int r;

	m->in_cmd = true;
	if (msim_at_begin(line, len, &cur) != 0) {
		msim_final(m, MSIM_ERROR);
		return;
	}
	while ((r = msim_at_next(line, len, &cur, &c)) == 1) {
		msim_handler fn = msim_cmd_find(c.name);
		int rc;

		if (!fn) {
			msim_final(m, MSIM_ERROR);
			return;
		}
		rc = fn(m, &c);
		if (rc == MSIM_LATER)
			return; /* the rest of the line is dropped, as after a prompt */
		if (rc != 0) {
			msim_final(m, rc);
			return;
		}
	}
	msim_final(m, r < 0 ? MSIM_ERROR : 0);
}
