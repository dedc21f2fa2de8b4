/* The firmware-update rules around the step function (sara_fw_sm.h): the command check of
 * Appendix B, URC lines mapped to events, and the restore plan of Table 16. Pure. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fuota/err.h"
#include "fuota/sara_fw_parse.h"
#include "fuota/sara_fw_sm.h"

enum kind {
	K_OTHER = 0,
	K_FTP_FOAT,   /* AT+UFTPC=100 */
	K_FTP_DIRECT, /* AT+UFTPC=6 / =7 */
	K_UDWN_FOAT,  /* AT+UDWNFILE=..,..,"FOAT" */
	K_USODL,      /* AT+USODL=<socket> */
	K_LWM2M,      /* starts or resumes a uFOTA download: AT+UFOTAACK=<n > 0>, AT+UFOTA=2 */
	K_UFWUPD,     /* AT+UFWUPD=... */
	K_HTTP_FOAT,  /* AT+UHTTPC=<p>,100,... */
	K_INSTALL,    /* AT+UFWINSTALL[=<port>,...] (not the URC enable ",,,1") */
	K_RESET,      /* AT+CFUN=15/16, AT+CPWROFF, AT+UFACTORY... */
	K_ROT         /* AT+USECFW=1 */
};

static bool head(const char *cmd, const char *h)
{
	return strncasecmp(cmd, h, strlen(h)) == 0;
}

/* cmd is h followed by the number num, then ',' or the end: "AT+UFTPC=100,\"/fw\"". */
static bool head_num(const char *cmd, const char *h, long num)
{
	const char *p = cmd + strlen(h);
	long v = 0;

	if (!head(cmd, h) || !isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p) && v < 100000; p++)
		v = v * 10 + (*p - '0');
	return v == num && (*p == ',' || *p == 0);
}

static bool has_foat_tag(const char *cmd)
{
	const char *p;

	for (p = cmd; *p; p++)
		if (strncasecmp(p, "\"FOAT\"", 6) == 0)
			return true;
	return false;
}

static bool http_foat(const char *cmd)
{
	const char *p = cmd + 10;

	if (!head(cmd, "AT+UHTTPC=") || !isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == ',' && head_num(p, ",", 100);
}

static enum kind classify(const char *c)
{
	if (head_num(c, "AT+UFTPC=", 100))
		return K_FTP_FOAT;
	if (head_num(c, "AT+UFTPC=", 6) || head_num(c, "AT+UFTPC=", 7))
		return K_FTP_DIRECT;
	if (head(c, "AT+UDWNFILE=") && has_foat_tag(c))
		return K_UDWN_FOAT;
	if (head(c, "AT+USODL="))
		return K_USODL;
	if ((head(c, "AT+UFOTAACK=") && !head_num(c, "AT+UFOTAACK=", 0)) ||
	    head_num(c, "AT+UFOTA=", 2))
		return K_LWM2M;
	if (head(c, "AT+UFWUPD="))
		return K_UFWUPD;
	if (http_foat(c))
		return K_HTTP_FOAT;
	if (strcasecmp(c, "AT+UFWINSTALL") == 0 || (head(c, "AT+UFWINSTALL=") && c[14] != ','))
		return K_INSTALL;
	if (head_num(c, "AT+CFUN=", 15) || head_num(c, "AT+CFUN=", 16) || head(c, "AT+CPWROFF") ||
	    head(c, "AT+UFACTORY") || head(c, "AT+CFUN=1,1"))
		return K_RESET;
	if (head_num(c, "AT+USECFW=", 1))
		return K_ROT;
	return K_OTHER;
}

static const char *const kind_names[] = {"",
                                         "AT+UFTPC=100",
                                         "AT+UFTPC=6/7",
                                         "AT+UDWNFILE \"FOAT\"",
                                         "AT+USODL",
                                         "a uFOTA download",
                                         "AT+UFWUPD",
                                         "AT+UHTTPC=..,100",
                                         "AT+UFWINSTALL",
                                         "a module reset",
                                         "AT+USECFW=1"};

/* The kinds forbidden while method m downloads. Table 17 of Appendix B, plus "only one download
 * method can be active at a time" for the FOAT-area downloads it does not list. */
static unsigned forbidden_during(enum fwu_method m)
{
#define B(k) (1u << (k))
	switch (m) {
	case FWU_M_UFOTA: /* Table 17 row 1, then the rule */
		return B(K_FTP_FOAT) | B(K_UDWN_FOAT) | B(K_USODL) | B(K_FTP_DIRECT) |
		       B(K_HTTP_FOAT) | B(K_UFWUPD) | B(K_INSTALL);
	case FWU_M_FTP: /* row 2 */
		return B(K_USODL) | B(K_LWM2M) | B(K_UDWN_FOAT) | B(K_HTTP_FOAT) | B(K_UFWUPD) |
		       B(K_INSTALL);
	case FWU_M_FOAT: /* row 3 */
		return B(K_FTP_FOAT) | B(K_USODL) | B(K_LWM2M) | B(K_HTTP_FOAT) | B(K_UDWN_FOAT) |
		       B(K_INSTALL) | B(K_RESET);
	case FWU_M_UART: /* row 4 */
		return B(K_FTP_FOAT) | B(K_USODL) | B(K_LWM2M) | B(K_HTTP_FOAT) | B(K_UFWUPD) |
		       B(K_INSTALL);
	case FWU_M_HTTP:
		return B(K_FTP_FOAT) | B(K_UDWN_FOAT) | B(K_LWM2M) | B(K_UFWUPD) | B(K_INSTALL);
	default: return 0;
	}
}

int fwu_cmd_check(const struct fwu_status *st, const char *cmd, char *why, size_t cap)
{
	enum kind k = classify(cmd);
	enum fwu_state s = st->state;
	unsigned bad = 0;

	if (k == K_OTHER)
		return FUOTA_OK;
	if (!fwu_reset_allowed(s) && s != FWU_S_UPDATE_MODE) /* an install: nothing but "AT" */
		bad = ~0u;
	else if (s == FWU_S_DOWNLOADING || s == FWU_S_PAUSED || s == FWU_S_UPDATE_MODE)
		bad = forbidden_during(s == FWU_S_UPDATE_MODE ? FWU_M_FOAT : st->method);
	if (!(bad & (1u << k)))
		return FUOTA_OK;
	if (why && cap)
		snprintf(why, cap, "%s refused: %s %s (%s)", kind_names[k],
		         fwu_method_name(st->method), fwu_state_name(s),
		         bad == ~0u ? "no reset and no second transfer during an install"
		                    : "Appendix B: one download method at a time");
	return FUOTA_ERR_STATE;
}

bool fwu_cmd_needs_dereg(const struct fwu_status *st, const char *cmd)
{
	return st->method == FWU_M_UFOTA &&
	       (st->state == FWU_S_DOWNLOADING || st->state == FWU_S_PAUSED) &&
	       classify(cmd) == K_RESET;
}

static int ufotastat_event(const struct fwu_status *st, const struct fwu_ufotastat *u,
                           struct fwu_event *ev)
{
	ev->method = FWU_M_UFOTA;
	if (u->event == 0 && u->p1 >= 1 && u->p1 <= 3) {
		static const enum fwu_ev_kind k[] = {FWU_EV_DL_PROGRESS, FWU_EV_DL_PAUSED,
		                                     FWU_EV_ACK_PENDING};
		ev->kind = k[u->p1 - 1];
		ev->pct = u->p2;
	} else if (u->event == 1) {
		ev->kind = FWU_EV_TRIGGERED;
	} else if (u->event == 2 && u->p1 == 2) {
		ev->kind = FWU_EV_DL_DONE;
	} else if (u->event == 2) {
		ev->kind = FWU_EV_DL_FAILED;
		ev->code = u->p2;
		ev->fail = u->p2 != 100 ? FWU_F_DOWNLOAD
		           : st->ufota_mode == 3 && st->state != FWU_S_ACK_PENDING
		                   ? FWU_F_REJECTED
		                   : FWU_F_CANCELLED;
	} else if (u->event == 3 && u->p1 == 1 && u->p2 == 0) {
		ev->kind = FWU_EV_CLIENT_START; /* Table 2: client start, not an install result */
	} else {
		return 1;
	}
	return FUOTA_OK;
}

int fwu_urc_event(const struct fwu_status *st, const char *line, size_t len, struct fwu_event *ev)
{
	struct fwu_ufotastat u;
	struct fwu_lwm2mstat l;
	bool ongoing;
	int n;

	memset(ev, 0, sizeof(*ev));
	if (len >= 11 && memcmp(line, "+UFOTASTAT:", 11) == 0)
		return fwu_parse_ufotastat(line, len, &u) ? FUOTA_ERR_MALFORMED
		                                          : ufotastat_event(st, &u, ev);
	if (len >= 11 && memcmp(line, "+UFWPREVAL:", 11) == 0) {
		ev->kind = FWU_EV_PREVAL;
		return fwu_parse_ufwpreval(line, len, &ev->pct) ? FUOTA_ERR_MALFORMED : FUOTA_OK;
	}
	if ((len >= 13 && memcmp(line, "+UUFWINSTALL:", 13) == 0) ||
	    (len >= 12 && memcmp(line, "+UFWINSTALL:", 12) == 0)) {
		ev->kind = FWU_EV_INSTALL;
		return fwu_parse_install(line, len, &ev->code) ? FUOTA_ERR_MALFORMED : FUOTA_OK;
	}
	if (len >= 8 && memcmp(line, "+UFWUPD:", 8) == 0) {
		if (fwu_parse_ufwupd(line, len, &ongoing, &n) != FUOTA_OK)
			return FUOTA_ERR_MALFORMED;
		ev->kind = ongoing ? FWU_EV_UPDATE_MODE : FWU_EV_INSTALL;
		ev->code = n;
		ev->method = FWU_M_FOAT;
		return FUOTA_OK;
	}
	if (len >= 12 && memcmp(line, "+ULWM2MSTAT:", 12) == 0)
		return fwu_parse_ulwm2mstat(line, len, &l) ? FUOTA_ERR_MALFORMED : 1;
	return FUOTA_ERR_NOT_FOUND;
}

void fwu_desired_init(struct fwu_desired *d)
{
	memset(d, 0, sizeof(*d));
	d->mno = -1;
	d->psm = -1;
	d->edrx = -1;
	d->edrx_act = 4;
}

static bool safe(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool bits(const char *s, size_t n)
{
	size_t i;

	if (s[0] == 0)
		return true;
	for (i = 0; i < n; i++)
		if (s[i] != '0' && s[i] != '1')
			return false;
	return s[n] == 0;
}

/* The next free row of cmds, NULL when all max are used. */
static char *row(char (*cmds)[160], size_t max, size_t *n)
{
	if (*n == max)
		return NULL;
	return cmds[(*n)++];
}

#define ROW(...)                                   \
	do {                                       \
		char *r_ = row(cmds, max, n);      \
		if (!r_)                           \
			return FUOTA_ERR_NO_SPACE; \
		snprintf(r_, 160, __VA_ARGS__);    \
	} while (0)

static bool plan_valid(const struct fwu_desired *d)
{
	size_t i;

	for (i = 0; i < FWU_APNS; i++)
		if (d->apn[i].cid != 0 &&
		    (d->apn[i].cid < 0 || d->apn[i].cid > 11 || !safe(d->apn[i].apn) ||
		     !safe(d->apn[i].pdp_type) || !d->apn[i].pdp_type[0]))
			return false;
	return bits(d->psm_tau, 8) && bits(d->psm_active, 8) && bits(d->edrx_value, 4) &&
	       d->edrx_act >= 0 && d->edrx_act <= 9;
}

/* Table 16 / §6.1: "All the configurations including APNs, eDRX, PSM, URCs, USECMNG profiles,
 * shall be restored by Host processor." The MNO profile goes first: setting it reboots the module
 * and loads that profile's defaults, which would overwrite anything set before it. */
int fwu_restore_plan(const struct fwu_desired *d, int cur_mno, bool *mno_change, char (*cmds)[160],
                     size_t max, size_t *n)
{
	size_t i;

	*n = 0;
	*mno_change = d->mno >= 0 && d->mno != cur_mno;
	if (!plan_valid(d))
		return FUOTA_ERR_INVALID_ARG;
	for (i = 0; i < FWU_APNS; i++)
		if (d->apn[i].cid != 0)
			ROW("AT+CGDCONT=%d,\"%s\",\"%s\"", d->apn[i].cid, d->apn[i].pdp_type,
			    d->apn[i].apn);
	if (d->psm == 1 && d->psm_tau[0] && d->psm_active[0])
		ROW("AT+CPSMS=1,,,\"%s\",\"%s\"", d->psm_tau, d->psm_active);
	else if (d->psm >= 0)
		ROW("AT+CPSMS=%d", d->psm ? 1 : 0);
	if (d->edrx == 1 && d->edrx_value[0])
		ROW("AT+CEDRXS=1,%d,\"%s\"", d->edrx_act, d->edrx_value);
	else if (d->edrx >= 0)
		ROW("AT+CEDRXS=%d", d->edrx ? 1 : 0);
	if (d->urcs) {
		ROW("AT+ULWM2MSTAT=1");
		ROW("AT+UFOTASTAT=1");
	}
	if (d->urcs && d->urcs_install)
		ROW("AT+UFWINSTALL=,,,1");
	return FUOTA_OK;
}

int fwu_ufota_sync_event(const struct fwu_status *st, const char *version_now, uint32_t total,
                         uint32_t done, struct fwu_event *ev)
{
	enum fwu_state s = st->state;

	memset(ev, 0, sizeof(*ev));
	ev->method = FWU_M_UFOTA;
	if (st->method != FWU_M_UFOTA || (s != FWU_S_DOWNLOADING && s != FWU_S_PAUSED &&
	                                  s != FWU_S_DOWNLOADED && s != FWU_S_ACK_PENDING))
		return 1;
	if (version_now && version_now[0] && st->ver_before[0] &&
	    strcmp(version_now, st->ver_before) != 0) {
		ev->kind = FWU_EV_MODULE_BACK;
		ev->version = version_now;
		return FUOTA_OK;
	}
	if (total == 0 || done > total || s == FWU_S_DOWNLOADED || s == FWU_S_ACK_PENDING)
		return 1;
	if (done == total && st->ufota_mode == 1) {
		ev->kind = FWU_EV_DL_DONE;
		return FUOTA_OK;
	}
	ev->kind = FWU_EV_DL_PROGRESS;
	ev->pct = (int)((uint64_t)done * 100u / total);
	return s == FWU_S_DOWNLOADING && ev->pct != st->pct ? FUOTA_OK : 1;
}
