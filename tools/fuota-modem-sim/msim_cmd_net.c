/* Radio, registration (+CFUN, +CEREG), the PDP context (+CGDCONT, +UPSD, +UPSDA, +UPSND) and the
 * sockets (+USOCR ... +USOCL). Sockets are real ones bound to 127.0.0.1: datagrams and streams
 * reach loopback addresses only, so the simulator never touches a real network. */
#include "msim_handlers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static bool registered(const struct msim *m)
{
	return m->cereg_stat == 1 || m->cereg_stat == 5;
}

/* +CEREG: <stat>[,"<tac>","<ci>",<AcT>] as the URC (n >= 1) */
static void cereg_urc(struct msim *m)
{
	if (m->cereg_n >= 2 && registered(m))
		msim_urc(m, "+CEREG: %d,\"0001\",\"01A2D001\",7", m->cereg_stat);
	else if (m->cereg_n >= 1)
		msim_urc(m, "+CEREG: %d", m->cereg_stat);
}

void msim_cereg_set(struct msim *m, int stat)
{
	if (stat == m->cereg_stat)
		return;
	m->cereg_stat = stat;
	cereg_urc(m);
	if (!registered(m) && m->psd_active) {
		m->psd_active = false;
		msim_netx_pdp_lost(m, false);
		msim_urc(m, "+UUPSDD: 0");
	}
}

static void reg_timer(struct msim *m, int arg)
{
	(void)arg;
	if (m->cfun == 1)
		msim_cereg_set(m, 1);
}

void msim_radio(struct msim *m, int cfun)
{
	if (cfun == 1 && m->cfun == 1 && (registered(m) || m->cereg_stat == 2))
		return; /* on already: registration goes on undisturbed */
	m->cfun = cfun;
	msim_timer_cancel(m, reg_timer);
	if (cfun == 1) {
		msim_cereg_set(m, 2);
		msim_timer_add(m, m->cfg.reg_ms, reg_timer, 0);
	} else {
		msim_cereg_set(m, 0);
	}
}

int msim_h_cfun(struct msim *m, const struct msim_cmd *c)
{
	long v;

	if (c->kind == MSIM_AT_READ) {
		msim_line(m, "+CFUN: %d", m->cfun);
		return 0;
	}
	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 16, &v) != 0)
		return MSIM_CME_BAD_PARAM;
	if (v == 15 || v == 16) {
		m->fw.uf.keep_bytes = v == 16 && m->fw.uf.cops2; /* FW app note §3.2.2 */
		msim_reboot_later(m);
		return 0;
	}
	if (v != 0 && v != 1 && v != 4)
		return MSIM_CME_BAD_PARAM;
	if (m->nvm.cfun4 != (v == 4)) {
		m->nvm.cfun4 = v == 4; /* +CFUN=4 is kept in NVM on SARA-R5 */
		msim_nvm_changed(m);
	}
	msim_radio(m, (int)v);
	return 0;
}

/* AT+CEREG? -> "+CEREG: <n>,<stat>" */
int msim_h_cereg(struct msim *m, const struct msim_cmd *c)
{
	long v;

	if (c->kind == MSIM_AT_READ) {
		if (m->cereg_n >= 2 && registered(m))
			msim_line(m, "+CEREG: %d,%d,\"0001\",\"01A2D001\",7", m->cereg_n,
			          m->cereg_stat);
		else
			msim_line(m, "+CEREG: %d,%d", m->cereg_n, m->cereg_stat);
		return 0;
	}
	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 5, &v) != 0)
		return MSIM_CME_BAD_PARAM;
	m->cereg_n = (int)v;
	return 0;
}

/* AT+COPS=<mode>: 2 deregisters, which only a uFOTA download's resume across +CFUN=16 notices
 * (msim_ufota_boot); 0 and 1 register again. */
int msim_h_cops(struct msim *m, const struct msim_cmd *c)
{
	long mode;

	if (c->kind == MSIM_AT_SET) {
		if (msim_at_int(c, 0, 0, 4, &mode) != 0)
			return MSIM_CME_BAD_PARAM;
		if (mode <= 2)
			m->fw.uf.cops2 = mode == 2;
		return 0;
	}
	if (c->kind != MSIM_AT_READ)
		return MSIM_CME_NOT_SUPPORTED;
	if (registered(m))
		msim_line(m, "+COPS: 0,0,\"fuota-sim\",7");
	else
		msim_line(m, "+COPS: 0");
	return 0;
}

int msim_h_csq(struct msim *m, const struct msim_cmd *c)
{
	(void)c;
	msim_line(m, "+CSQ: %d,99", registered(m) ? msim_netx_csq(m) : 99);
	return 0;
}

int msim_h_cgatt(struct msim *m, const struct msim_cmd *c)
{
	if (c->kind != MSIM_AT_READ)
		return MSIM_CME_NOT_SUPPORTED;
	msim_line(m, "+CGATT: %d", registered(m) ? 1 : 0);
	return 0;
}

/* AT+CGDCONT=<cid>,"<type>","<apn>"; AT+CGDCONT=<cid> undefines; kept in NVM */
int msim_h_cgdcont(struct msim *m, const struct msim_cmd *c)
{
	long cid;
	char type[8], apn[MSIM_STR_MAX];

	if (c->kind == MSIM_AT_READ) {
		for (int i = 0; i < MSIM_CIDS; i++)
			if (m->nvm.pdp_type[i][0])
				msim_line(m, "+CGDCONT: %d,\"%s\",\"%s\",\"%s\",0,0", i + 1,
				          m->nvm.pdp_type[i], m->nvm.apn[i],
				          m->psd_active && m->upsd_cid == i + 1 ? m->upsd_ip
				                                                : "0.0.0.0");
		return 0;
	}
	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 1, MSIM_CIDS, &cid) != 0)
		return MSIM_CME_BAD_PARAM;
	type[0] = apn[0] = '\0';
	if (c->nparam > 1 && msim_at_str(c, 1, type, sizeof(type)) != 0)
		return MSIM_CME_BAD_PARAM;
	if (c->nparam > 2 && msim_at_str(c, 2, apn, sizeof(apn)) != 0)
		return MSIM_CME_BAD_PARAM;
	if (type[0] && strcmp(type, "IP") && strcmp(type, "IPV6") && strcmp(type, "IPV4V6"))
		return MSIM_CME_BAD_PARAM;
	if (strpbrk(apn, " \t\n"))
		return MSIM_CME_BAD_PARAM;
	snprintf(m->nvm.pdp_type[cid - 1], sizeof(m->nvm.pdp_type[0]), "%s", type);
	snprintf(m->nvm.apn[cid - 1], sizeof(m->nvm.apn[0]), "%s", type[0] ? apn : "");
	msim_nvm_changed(m);
	return 0;
}

/* AT+UPSD=0,<param>[,<value>]: 0 protocol, 100 the cid; 1 (APN) is not allowed on SARA-R5 */
int msim_h_upsd(struct msim *m, const struct msim_cmd *c)
{
	long p, par, v;

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 0, &p) != 0)
		return MSIM_CME_BAD_PARAM;
	if (c->nparam == 1) {
		msim_line(m, "+UPSD: 0,0,%d", m->upsd_proto);
		msim_line(m, "+UPSD: 0,100,%d", m->upsd_cid);
		return 0;
	}
	if (msim_at_int(c, 1, 0, 255, &par) != 0 || (par != 0 && par != 100))
		return par == 1 ? MSIM_CME_NOT_ALLOWED : MSIM_CME_BAD_PARAM;
	if (c->nparam == 2) {
		msim_line(m, "+UPSD: 0,%ld,%d", par, par ? m->upsd_cid : m->upsd_proto);
		return 0;
	}
	if (par == 0 && msim_at_int(c, 2, 0, 3, &v) == 0)
		m->upsd_proto = (int)v;
	else if (par == 100 && msim_at_int(c, 2, 1, MSIM_CIDS, &v) == 0)
		m->upsd_cid = (int)v;
	else
		return MSIM_CME_BAD_PARAM;
	return 0;
}

static void upsda_timer(struct msim *m, int arg)
{
	(void)arg;
	if (!registered(m))
		return;
	m->psd_active = true;
	snprintf(m->upsd_ip, sizeof(m->upsd_ip), "10.%u.%u.%u", m->boot_count % 250, 0u,
	         2u + (unsigned)m->upsd_cid);
	msim_urc(m, "+UUPSDA: 0,\"%s\"", m->upsd_ip);
}

static const char *proto_type(int proto)
{
	return proto == 0 ? "IP" : proto == 1 ? "IPV6" : "IPV4V6";
}

/* AT+UPSDA=0,<action>: 0 reset, 1 store, 2 load, 3 activate (+UUPSDA), 4 deactivate (+UUPSDD) */
int msim_h_upsda(struct msim *m, const struct msim_cmd *c)
{
	long p, a;
	const char *type;

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 0, &p) != 0 ||
	    msim_at_int(c, 1, 0, 4, &a) != 0)
		return MSIM_CME_BAD_PARAM;
	switch (a) {
	case 0:
		m->upsd_cid = -1;
		m->upsd_proto = 0;
		return 0;
	case 1:
		m->nvm.upsd_cid = m->upsd_cid;
		m->nvm.upsd_proto = m->upsd_proto;
		msim_nvm_changed(m);
		return 0;
	case 2:
		m->upsd_cid = m->nvm.upsd_cid;
		m->upsd_proto = m->nvm.upsd_proto;
		return 0;
	case 4:
		if (!m->psd_active)
			return MSIM_CME_NOT_ALLOWED;
		m->psd_active = false;
		msim_netx_pdp_lost(m, true);
		msim_urc(m, "+UUPSDD: 0");
		return 0;
	default: break;
	}
	if (!registered(m))
		return MSIM_CME_NO_SERVICE;
	if (m->psd_active || m->upsd_cid < 1)
		return MSIM_CME_NOT_ALLOWED;
	type = m->nvm.pdp_type[m->upsd_cid - 1];
	if (type[0] && strcmp(type, proto_type(m->upsd_proto)))
		return MSIM_CME_NOT_ALLOWED; /* "IP type configuration mismatch" */
	msim_timer_add(m, 100, upsda_timer, 0);
	return 0;
}

/* AT+UPSND=0,0 -> +UPSND: 0,0,"<ip>"; AT+UPSND=0,8 -> +UPSND: 0,8,<active> */
int msim_h_upsnd(struct msim *m, const struct msim_cmd *c)
{
	long p, par;

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 0, &p) != 0 ||
	    msim_at_int(c, 1, 0, 8, &par) != 0)
		return MSIM_CME_BAD_PARAM;
	if (par == 0 && m->psd_active)
		msim_line(m, "+UPSND: 0,0,\"%s\"", m->upsd_ip);
	else if (par == 8)
		msim_line(m, "+UPSND: 0,8,%d", m->psd_active ? 1 : 0);
	else
		return MSIM_CME_NOT_ALLOWED;
	return 0;
}

/* AT+UDCONF=1,<hex>: socket data in hex; kept in NVM, as SARA-R5xxx-01B keeps it (ubxlib sends
 * AT+UDCONF=1,0 at every power-on for that reason) */
int msim_h_udconf(struct msim *m, const struct msim_cmd *c)
{
	long op, v;

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 100, &op) != 0 || op != 1)
		return MSIM_CME_BAD_PARAM;
	if (c->nparam == 1) {
		msim_line(m, "+UDCONF: 1,%d", m->hexmode ? 1 : 0);
		return 0;
	}
	if (msim_at_int(c, 1, 0, 1, &v) != 0)
		return MSIM_CME_BAD_PARAM;
	m->hexmode = v == 1;
	m->nvm.hexmode = (int)v;
	msim_nvm_changed(m);
	return 0;
}
