/* uFOTA through the LwM2M client (sara_fw.h; FW app note §3): URC enables, +UFOTACONFIG modes,
 * +UFOTAACK, +UFOTA pause / resume / cancel / progress, the registration to server 721, and the
 * idle loop that follows a campaign. The URCs themselves are handled in sara_fw.c. */
#include <stdio.h>
#include <string.h>

#include "fuota/sara_fw_parse.h"
#include "sara_fw_private.h"

#define UFOTA_SERVER 721 /* the u-blox uFOTA server's short id (§3.1.1) */

int fwu_ufota_enable(struct fwu *u)
{
	int err;

	if (u->st.method == FWU_M_UFOTA) {
		u->pending |= FWU_A_ENABLE_URCS;
		return fwu_run(u);
	}
	err = fwu_start(u, FWU_M_UFOTA);
	return err == FUOTA_OK ? fwu_run(u) : err;
}

int fwu_ufota_config(struct fwu *u, int mode)
{
	int err;

	if (mode < 1 || mode > 3)
		return FUOTA_ERR_INVALID_ARG;
	err = sara_cmd(u->s, NULL, 0, "AT+UFOTACONFIG=%d,%d,255", UFOTA_SERVER, mode);
	if (err != FUOTA_OK)
		return fwu_fail(u, err, "%s", sara_last_error(u->s));
	u->st.ufota_mode = mode;
	return fwu_persist(u);
}

int fwu_ufota_ack(struct fwu *u, int delay_s)
{
	int err;

	if (delay_s < 0 || delay_s > 86400)
		return FUOTA_ERR_INVALID_ARG;
	if (u->st.state != FWU_S_ACK_PENDING)
		return fwu_fail(u, FUOTA_ERR_STATE, "no uFOTA request pending (%s)",
		                fwu_state_name(u->st.state));
	/* AT+UFOTAACK=30 accepts, the download starts 30 s later; =0 rejects (§3.4.2) */
	err = sara_cmd(u->s, NULL, 0, "AT+UFOTAACK=%d", delay_s);
	return err == FUOTA_OK ? FUOTA_OK : fwu_fail(u, err, "%s", sara_last_error(u->s));
}

int fwu_ufota_ctl(struct fwu *u, int op)
{
	struct fwu_event ev = {.kind = FWU_EV_CANCEL};
	int err;

	if (op < FWU_UFOTA_CANCEL || op > FWU_UFOTA_RESUME)
		return FUOTA_ERR_INVALID_ARG;
	if (op == FWU_UFOTA_CANCEL && (err = fwu_apply(u, &ev)) != FUOTA_OK)
		return err; /* §3.5: an install cannot be cancelled */
	if (op == FWU_UFOTA_CANCEL && u->st.state == FWU_S_ACK_PENDING)
		err = sara_cmd(u->s, NULL, 0, "AT+UFOTAACK=0");
	else
		err = sara_cmd(u->s, NULL, 0, "AT+UFOTA=%d", op);
	return err == FUOTA_OK ? FUOTA_OK : fwu_fail(u, err, "%s", sara_last_error(u->s));
}

int fwu_ufota_progress(struct fwu *u, int *state, uint32_t *total, uint32_t *done)
{
	const struct at_resp *r = &u->s->resp;
	int err = sara_cmd(u->s, "+UFOTA:", 0, "AT+UFOTA?");

	if (err != FUOTA_OK)
		return fwu_fail(u, err, "%s", sara_last_error(u->s));
	if (r->n == 0 || fwu_parse_ufota(r->line[0], r->len[0], state, total, done) != FUOTA_OK)
		return fwu_fail(u, FUOTA_ERR_MALFORMED, "AT+UFOTA?: cannot parse '%.80s'",
		                r->n ? r->line[0] : "");
	return FUOTA_OK;
}

int fwu_ufota_sync(struct fwu *u, int *state, uint32_t *total, uint32_t *done)
{
	enum fwu_state s = u->st.state;
	struct fwu_event ev;
	char ver[48];
	int err;

	*state = -1;
	*total = *done = 0;
	if (u->st.method != FWU_M_UFOTA || (s != FWU_S_DOWNLOADING && s != FWU_S_PAUSED &&
	                                    s != FWU_S_DOWNLOADED && s != FWU_S_ACK_PENDING))
		return FUOTA_OK;
	fwu_read_version(u, ver, sizeof(ver));
	if ((err = fwu_ufota_progress(u, state, total, done)) != FUOTA_OK)
		return err;
	if (fwu_ufota_sync_event(&u->st, ver, *total, *done, &ev) != FUOTA_OK)
		return FUOTA_OK;
	at_log_note(u->cfg.at, "uFOTA: the module went on while no host listened");
	err = fwu_apply(u, &ev);
	return err == FUOTA_OK ? fwu_run(u) : err;
}

/* AT+ULWM2MREG? answers a line per server, e.g. "+ULWM2MREG: 721,3,86281" (registered, 86281 s
 * left), "+ULWM2MREG: 721,0" (deregistered), "+ULWM2MREG: 721,4" (failed) (§3.1.1): the status
 * of server 721. A line that does not parse is an error naming it. */
static int reg_status(struct fwu *u, int *status)
{
	const struct at_resp *r = &u->s->resp;
	size_t i;

	for (i = 0; i < r->n; i++) {
		int srv, st;
		long left;

		if (fwu_parse_ulwm2mreg(r->line[i], r->len[i], &srv, &st, &left) != FUOTA_OK)
			return fwu_fail(u, FUOTA_ERR_MALFORMED,
			                "AT+ULWM2MREG?: cannot parse '%.80s'", r->line[i]);
		if (srv == UFOTA_SERVER)
			*status = st;
	}
	if (*status < 0)
		return fwu_fail(u, FUOTA_ERR_NOT_FOUND, "AT+ULWM2MREG?: no line for server 721");
	return FUOTA_OK;
}

/* AT+USECMODE? → "+USECMODE: 1" (the secure data suite on) or "+USECMODE: 0" (off: a client
 * that never registered cannot get the RoT's PSK, §3.1.1). */
static int secmode(struct fwu *u, int *mode)
{
	const struct at_resp *r = &u->s->resp;
	int err = sara_cmd(u->s, "+USECMODE:", 0, "AT+USECMODE?");

	if (err != FUOTA_OK)
		return fwu_fail(u, err, "AT+USECMODE?: %s", sara_last_error(u->s));
	if (r->n == 0 || fwu_parse_usecmode(r->line[0], r->len[0], mode) != FUOTA_OK)
		return fwu_fail(u, FUOTA_ERR_MALFORMED, "AT+USECMODE?: cannot parse '%.80s'",
		                r->n ? r->line[0] : "");
	return FUOTA_OK;
}

int fwu_ufota_register(struct fwu *u, bool checkin, int *status, int *sec)
{
	int err;

	*status = *sec = -1;
	if ((err = secmode(u, sec)) != FUOTA_OK)
		return err;
	if (*sec == 0)
		at_log_note(u->cfg.at,
		            "+USECMODE: 0: uFOTA registration needs the RoT PSK (§3.1.1)");
	if (checkin && (err = sara_cmd(u->s, NULL, 0, "AT+ULWM2MREG=%d", UFOTA_SERVER)) != FUOTA_OK)
		return fwu_fail(u, err, "AT+ULWM2MREG=721: %s", sara_last_error(u->s));
	if ((err = sara_cmd(u->s, "+ULWM2MREG:", 0, "AT+ULWM2MREG?")) != FUOTA_OK)
		return fwu_fail(u, err, "AT+ULWM2MREG?: %s", sara_last_error(u->s));
	if ((err = reg_status(u, status)) != FUOTA_OK || *status != 4)
		return err;
	if (*sec == 0)
		return fwu_fail(
		        u, FUOTA_ERR_STATE,
		        "uFOTA registration failed (+ULWM2MREG: 721,4) with +USECMODE: 0: the "
		        "secure data suite was off before the first registration, uFOTA is "
		        "not possible on this module (§3.1.1)");
	return fwu_fail(u, FUOTA_ERR_STATE, "uFOTA registration failed (+ULWM2MREG: 721,4)");
}

/* Table 3: on SARA-R5xx-00B-00 with the Verizon MNO profile (+UMNOPROF: 3), a package URI without
 * "services.u-blox" means the Verizon DM server (id 102) runs the update, and the host must force
 * a registration update with AT+ULWM2MREG=102 every 30 s until the module reboots, stopping at
 * +UFOTASTAT: 2,3,x. The variant is told by the desired configuration: no +UFWINSTALL URCs. */
void fwu_verizon_tick(struct fwu *u)
{
	const struct at_resp *r = &u->s->resp;
	enum fwu_state s = u->st.state;
	uint64_t now = u->clk->now_ms(u->clk->ctx);
	char uri[256] = "";

	if (u->want.mno != 3 || u->want.urcs_install || u->st.method != FWU_M_UFOTA ||
	    (s != FWU_S_DOWNLOADING && s != FWU_S_PAUSED &&
	     !(s == FWU_S_INSTALL_START && u->just_sent))) {
		if (s != FWU_S_INSTALL_START)
			u->vz_checked = u->vz_active = false;
		return;
	}
	if (!u->vz_checked &&
	    sara_cmd(u->s, "+ULWM2MREAD:", 0, "AT+ULWM2MREAD=\"/5/0/1\"") == FUOTA_OK && r->n > 0 &&
	    fwu_parse_package_uri(r->line[0], r->len[0], uri, sizeof(uri)) == 0) {
		u->vz_checked = true;
		u->vz_active = strstr(uri, "services.u-blox") == NULL;
		u->vz_next_ms = now;
	}
	if (u->vz_active && now >= u->vz_next_ms) {
		(void)sara_cmd(u->s, NULL, 0, "AT+ULWM2MREG=102");
		u->vz_next_ms = now + u->cfg.verizon_period_ms;
	}
}

int fwu_ufota_srlt(struct fwu *u, long set_s, long *seconds)
{
	const struct at_resp *r = &u->s->resp;
	int err = FUOTA_OK;

	if (set_s > 0 && (set_s < 3600 || set_s > 99999999L))
		return FUOTA_ERR_INVALID_ARG;
	if (set_s > 0)
		err = sara_cmd(u->s, NULL, 0,
		               "AT+ULWM2MWRITE=\"{\\\"bn\\\":\\\"/1/10/\\\",\\\"e\\\":[{\\\"n\\\":"
		               "\\\"1\\\",\\\"v\\\":%ld}]}\"",
		               set_s);
	if (err == FUOTA_OK)
		err = sara_cmd(u->s, "+ULWM2MREAD:", 0, "AT+ULWM2MREAD=\"/1/10\"");
	if (err != FUOTA_OK)
		return fwu_fail(u, err, "%s", sara_last_error(u->s));
	if (r->n == 0 || fwu_parse_srlt(r->line[0], r->len[0], seconds) != FUOTA_OK)
		return fwu_fail(u, FUOTA_ERR_MALFORMED,
		                "AT+ULWM2MREAD=\"/1/10\": no lifetime in '%.80s'",
		                r->n ? r->line[0] : "");
	return FUOTA_OK;
}

int fwu_watch(struct fwu *u, uint32_t timeout_ms)
{
	uint64_t deadline = u->clk->now_ms(u->clk->ctx) + timeout_ms;
	uint32_t seq0 = u->st.seq;

	for (;;) {
		uint32_t left = cell_ms_left(u->clk, deadline);
		int err = fwu_run(u);

		if (err != FUOTA_OK)
			return err;
		/* an outcome reached while watching, or a state that waits for the host */
		if ((u->st.state == FWU_S_DONE || u->st.state == FWU_S_FAILED ||
		     u->st.state == FWU_S_ACK_PENDING || u->st.state == FWU_S_DOWNLOADED) &&
		    u->st.seq != seq0)
			return FUOTA_OK;
		if (left == 0)
			return FUOTA_ERR_TIMEOUT;
		fwu_verizon_tick(u);
		err = sara_poll(u->s, left < 1000 ? left : 1000);
		if (err != FUOTA_OK)
			return fwu_fail(u, err, "the port: %s", fuota_strerror(err));
	}
}
