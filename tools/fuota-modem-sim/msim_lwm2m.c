/* The LwM2M client as the module plays it for uFOTA (FW app note §3.1.1, §3.6, Table 3): the
 * registration to the u-blox server 721 after each boot, which fails when the secure data suite
 * was off (+USECMODE: 0) before the client's first registration; AT+ULWM2MREG? / =721 (an
 * immediate check-in) / =102 (the Verizon DM server's registration update); AT+ULWM2MDEREG;
 * AT+ULWM2MREAD of /1/10 (the server object with the lifetime, SRLT) and of /5/0/1 (the package
 * URI); AT+ULWM2MWRITE of /1/10 resource 1 (a new SRLT, which checks in). A campaign offered by
 * the control ("ufota-offer FILE") waits on the server until the next check-in: the SRLT's
 * expiry, AT+ULWM2MREG=721 or an SRLT write. A Verizon campaign ("ufota-verizon FILE") is the DM
 * server's: it talks to the module only for 45 s after each AT+ULWM2MREG=102, so its download
 * moves and its install comes only while the host keeps registering every 30 s. */
#include <stdio.h>
#include <string.h>

#include "msim_handlers.h"

#define UF_SERVER  721
#define VZ_SERVER  102
#define VZ_SESSION 45000ul /* module ms the DM server stays after a registration update */

static long srlt(const struct msim *m)
{
	return m->fw.uf.srlt ? m->fw.uf.srlt : 86400;
}

static void lwstat(struct msim *m, int server, int status)
{
	if (m->fw.uf.lw_urcs)
		msim_urc(m, "+ULWM2MSTAT: 1,%d,%d", server, status);
}

static void srlt_expired(struct msim *m, int arg);

/* A registration (update) with server 721: it fails without the PSK the first registration with
 * the secure suite on gives (§3.1.1); a held campaign starts. */
static void checkin(struct msim *m)
{
	struct msim_ufota *uf = &m->fw.uf;
	const char *why;

	if (uf->secmode_off && !uf->psk) {
		uf->reg = 4;
		lwstat(m, UF_SERVER, 4);
		return;
	}
	uf->psk = true;
	uf->reg = 3;
	uf->checkins++;
	lwstat(m, UF_SERVER, 3);
	msim_timer_cancel(m, srlt_expired);
	msim_timer_add(m, msim_ufota_ms(m, (unsigned long)srlt(m) * 1000ul), srlt_expired, 0);
	if (uf->offer[0] && msim_ufota_campaign(m, uf->offer, false, &why) == 0)
		uf->offer[0] = 0;
}

static void srlt_expired(struct msim *m, int arg)
{
	(void)arg;
	if (m->fw.uf.reg == 3)
		checkin(m);
}

/* After a boot, once the network is there: the client's registration. */
static void boot_register(struct msim *m, int arg)
{
	(void)arg;
	if (!m->powered || m->mode == MSIM_MODE_OFF)
		return;
	if (m->cereg_stat != 1 && m->cereg_stat != 5) {
		msim_timer_add(m, 200, boot_register, 0);
		return;
	}
	if (m->fw.uf.urcs) /* Table 2: the client starts, not an installed update */
		msim_urc(m, "+UFOTASTAT: 3,1,0");
	checkin(m);
}

void msim_lwm2m_boot(struct msim *m)
{
	m->fw.uf.reg = 0;
	msim_timer_cancel(m, srlt_expired);
	msim_timer_cancel(m, boot_register);
	msim_timer_add(m, 200, boot_register, 0);
}

/* The DM server's session is open: a Verizon campaign may move. */
bool msim_lwm2m_vz_session(const struct msim *m)
{
	return m->fw.uf.vz_until_ms > m->now_ms;
}

/* AT+ULWM2MREG? → "+ULWM2MREG: 721,3,<s left>" / "+ULWM2MREG: 721,0" / "+ULWM2MREG: 721,4";
 * AT+ULWM2MREG=721: an immediate check-in; AT+ULWM2MREG=102: the Verizon registration update. */
int msim_h_ulwm2mreg(struct msim *m, const struct msim_cmd *c)
{
	struct msim_ufota *uf = &m->fw.uf;
	long srv;

	if (c->kind == MSIM_AT_READ) {
		if (uf->reg == 3)
			msim_line(m, "+ULWM2MREG: %d,3,%ld", UF_SERVER, srlt(m) - 1);
		else
			msim_line(m, "+ULWM2MREG: %d,%d", UF_SERVER, uf->reg);
		return 0;
	}
	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 65535, &srv) != 0 ||
	    (srv != UF_SERVER && srv != VZ_SERVER))
		return MSIM_CME_BAD_PARAM;
	if (m->cereg_stat != 1 && m->cereg_stat != 5)
		return MSIM_CME_NO_SERVICE;
	if (srv == UF_SERVER) {
		checkin(m);
		return 0;
	}
	uf->reg102++;
	if (uf->vz_failed) {
		uf->reg102_late++;
		fprintf(stderr, "msim: AT+ULWM2MREG=102 AFTER THE CAMPAIGN FAILED (Table 3)\n");
	}
	uf->vz_until_ms = m->now_ms + msim_ufota_ms(m, VZ_SESSION);
	msim_ufota_vz_kick(m);
	return 0;
}

/* AT+ULWM2MDEREG=721: deregistered until a reboot or AT+ULWM2MREG (§3.6). */
int msim_h_ulwm2mdereg(struct msim *m, const struct msim_cmd *c)
{
	long srv;

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 65535, &srv) != 0 || srv != UF_SERVER)
		return MSIM_CME_BAD_PARAM;
	m->fw.uf.reg = 0;
	msim_timer_cancel(m, srlt_expired);
	return 0;
}

/* AT+USECMODE? → "+USECMODE: <0|1>". */
int msim_h_usecmode(struct msim *m, const struct msim_cmd *c)
{
	if (c->kind != MSIM_AT_READ)
		return MSIM_CME_NOT_SUPPORTED;
	msim_line(m, "+USECMODE: %d", m->fw.uf.secmode_off ? 0 : 1);
	return 0;
}

/* AT+ULWM2MREAD="/1/10": the server object as §3.6 shows it, with the SRLT in resource 1;
 * AT+ULWM2MREAD="/5/0/1": the package URI of the running campaign (Table 3). */
int msim_h_ulwm2mread(struct msim *m, const struct msim_cmd *c)
{
	char path[32];

	if (c->kind != MSIM_AT_SET || msim_at_str(c, 0, path, sizeof(path)) != 0)
		return MSIM_CME_BAD_PARAM;
	if (!strcmp(path, "/1/10")) {
		msim_line(m,
		          "+ULWM2MREAD: "
		          "{\"bn\":\"/1/10/\",\"e\":[{\"n\":\"0\",\"v\":%d},{\"n\":\"1\","
		          "\"v\":%ld},{\"n\":\"2\",\"v\":10},{\"n\":\"3\",\"v\":60},{\"n\":\"6\","
		          "\"bv\":false},{\"n\":\"7\",\"sv\":\"UQS\"}]}",
		          UF_SERVER, srlt(m));
		return 0;
	}
	if (!strcmp(path, "/5/0/1")) {
		msim_line(m,
		          "+ULWM2MREAD: {\"bn\":\"/5/0/1/\",\"e\":[{\"n\":\"1\",\"sv\":\"%s%s\"}]}",
		          !m->fw.uf.pkg[0] ? ""
		          : m->fw.uf.vz    ? "http://fota.vzwdm.example/"
		                           : "http://ucsphttpcontent.services.u-blox.com/",
		          m->fw.uf.pkg);
		return 0;
	}
	return MSIM_CME_NOT_FOUND;
}

/* The value of "v" in the "e" entry of resource "1" of text with its JSON quotes escaped as \"
 * (the AT string form): -1 when absent. */
static long written_lifetime(const char *t)
{
	const char *p = strstr(t, "\\\"n\\\":\\\"1\\\"");
	long v = 0;

	if (!p || !(p = strstr(p, "\\\"v\\\":")))
		return -1;
	p += 6;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > 99999999L)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

/* AT+ULWM2MWRITE="{\"bn\":\"/1/10/\",\"e\":[{\"n\":\"1\",\"v\":604800}]}": a new SRLT, which
 * triggers a registration update (§3.6). */
int msim_h_ulwm2mwrite(struct msim *m, const struct msim_cmd *c)
{
	char t[512];
	long v;

	if (c->kind != MSIM_AT_SET || msim_at_str(c, 0, t, sizeof(t)) != 0 ||
	    !strstr(t, "\\\"bn\\\":\\\"/1/10/\\\"") || (v = written_lifetime(t)) < 1)
		return MSIM_CME_BAD_PARAM;
	m->fw.uf.srlt = v;
	if (m->fw.uf.reg == 3)
		checkin(m);
	return 0;
}

/* AT+ULWM2MSTAT=<0|1>: the +ULWM2MSTAT URCs. */
int msim_h_ulwm2mstat(struct msim *m, const struct msim_cmd *c)
{
	long v;

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 1, &v) != 0)
		return MSIM_CME_BAD_PARAM;
	m->fw.uf.lw_urcs = v == 1;
	return 0;
}

/* The control's "ufota-offer FILE", "ufota-secmode 0|1", "ufota-fresh" (the client never
 * registered: no PSK yet) and "ufota-00b" (a SARA-R5xx-00B-00: no install URCs for uFOTA, no
 * +UFWINSTALL=,,,1). 1 when line is none of them. */
int msim_lwm2m_control(struct msim *m, const char *line, const char **why)
{
	struct msim_ufota *uf = &m->fw.uf;

	if (!strncmp(line, "ufota-offer ", 12)) {
		if (!line[12] || strchr(line + 12, '/') || strlen(line + 12) >= sizeof(uf->offer)) {
			*why = "ufota-offer wants a file of --www";
			return -1;
		}
		snprintf(uf->offer, sizeof(uf->offer), "%s", line + 12);
		return 0;
	}
	if (!strcmp(line, "ufota-secmode 0") || !strcmp(line, "ufota-secmode 1")) {
		uf->secmode_off = line[14] == '0';
		return 0;
	}
	if (!strcmp(line, "ufota-fresh")) {
		uf->psk = false;
		return 0;
	}
	if (!strcmp(line, "ufota-00b")) {
		uf->no_install_urcs = true;
		return 0;
	}
	return 1;
}
