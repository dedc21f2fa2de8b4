/* The TS003 clock-sync responder: every AppTimeReq on port_clk is answered, for every device,
 * whether it is in a job or not (PROTOCOL-NOTES §3, P21). The network time of the uplink's
 * reception is the best the uplink carries: a gateway's GPS timestamp, else a gateway's clock,
 * else the network server's (clk_pick_rx_time). */
#include <stdio.h>
#include <string.h>

#include "engine_int.h"
#include "fuota/clk.h"
#include "fuota/err.h"
#include "fuota/log.h"

static int64_t time_ms(const struct cs_time *t)
{
	return t->sec * 1000 + t->nsec / 1000000;
}

int64_t csr_rx_gps_ms(const struct cs_uplink *u, int64_t server_unix_ms)
{
	struct clk_rx_time rx[CS_MAX_RX];
	size_t n = 0;
	int64_t server = u->time.set ? time_ms(&u->time) : server_unix_ms;
	int64_t gps_ms = 0;
	enum clk_time_source src;

	for (size_t i = 0; i < u->n_rx && i < CS_MAX_RX; i++) {
		memset(&rx[n], 0, sizeof(rx[n]));
		if (u->rx[i].time_since_gps_epoch.set) {
			rx[n].has_gps_time = true;
			rx[n].gps_time_ms = time_ms(&u->rx[i].time_since_gps_epoch);
		}
		if (u->rx[i].gw_time.set) {
			rx[n].has_gw_time = true;
			rx[n].gw_time_gps_ms = engine_unix_to_gps_ms(time_ms(&u->rx[i].gw_time));
		}
		n++;
	}
	if (clk_pick_rx_time(rx, n, engine_unix_to_gps_ms(server), &gps_ms, &src) != FUOTA_OK)
		return engine_unix_to_gps_ms(server);
	return gps_ms;
}

int csr_force_resync(struct engine *e, const char *application_id, const char *dev_eui,
                     uint8_t nb_transmissions)
{
	struct clk_cmd cmd;
	uint8_t buf[4];
	size_t pos = 0;
	int rc;

	memset(&cmd, 0, sizeof(cmd));
	cmd.cid = CLK_CID_FORCE_RESYNC;
	cmd.up = false;
	cmd.u.force.nb_transmissions = nb_transmissions & 0x07;
	rc = clk_encode(&cmd, buf, sizeof(buf), &pos);
	if (rc != FUOTA_OK)
		return rc;
	/* Its AppTimeReq will be looked for, whatever the database said a moment ago. */
	e->resync_any = true;
	return engine_unicast(e, application_id, dev_eui, e->cfg.port_clk, buf, pos);
}

bool csr_resync_lookup(bool any, int64_t checked_ms, int64_t now_ms, bool *recheck)
{
	*recheck = checked_ms == 0 || now_ms < checked_ms ||
	           now_ms - checked_ms >= CSR_RESYNC_CHECK_MS;
	return *recheck || any;
}

/* The resync exchange a session request waits for (engine_dev.c clock_disagrees): the request
 * goes out behind this AppTimeReq's answer, queued after it for a class A device. Most
 * AppTimeReqs come from devices in no such wait (every device keeps its clock in sync, 100,000
 * of them in a campaign rehearsal): the database is asked at most once a second whether any
 * device waits, and the device's own row only while one may. Another instance that forces a
 * resync is seen within that second; a device's AppTimeReq comes an uplink after the force, and
 * one missed anyway leaves the request to its deadline's retry. */
static int resync_hook(struct engine *e, const struct cs_uplink *u, int64_t now_ms)
{
	bool recheck, due = false;

	if (!csr_resync_lookup(e->resync_any, e->resync_checked_ms, now_ms, &recheck))
		return FUOTA_OK;
	if (recheck) {
		if (seng_resync_waiting(e->store, &e->resync_any) != FUOTA_OK)
			return FUOTA_ERR_IO;
		e->resync_checked_ms = now_ms;
		if (!e->resync_any)
			return FUOTA_OK;
	}
	if (seng_dev_resynced(e->store, u->dev_eui, u->application_id, now_ms, &due) != FUOTA_OK)
		return FUOTA_ERR_IO;
	if (due)
		log_msg(LOG_LVL_INFO, "device %s: resynchronised: session request again",
		        u->dev_eui);
	return FUOTA_OK;
}

int csr_on_uplink(struct engine *e, const struct cs_uplink *u, int64_t now_ms)
{
	uint8_t out[64];
	size_t out_len = 0, pos = 0;
	bool app_time = false;
	int rc = FUOTA_OK;

	while (pos < u->data_len) {
		struct clk_cmd cmd, ans;
		struct fuota_parse_err err;
		bool send = false;

		if (clk_decode(u->data, u->data_len, &pos, true, &cmd, &err) != FUOTA_OK) {
			log_msg(LOG_LVL_WARN, "device %s: bad TS003 uplink: %s %s", u->dev_eui,
			        err.command ? err.command : "unknown command",
			        err.field ? err.field : "");
			rc = FUOTA_ERR_MALFORMED;
			break;
		}
		if (cmd.cid == CLK_CID_PACKAGE_VERSION) {
			if (seng_dev_version(e->store, u->dev_eui, u->application_id,
			                     CLK_PACKAGE_ID, cmd.u.pkg_ans.version) != FUOTA_OK)
				rc = FUOTA_ERR_IO;
			continue;
		}
		if (cmd.cid != CLK_CID_APP_TIME)
			continue;
		app_time = true;
		if (clk_server_answer(&cmd, csr_rx_gps_ms(u, now_ms), &ans, &send) != FUOTA_OK ||
		    !send)
			continue;
		/* Nothing is written: an answer depends on the uplink alone. */
		if (clk_encode(&ans, out, sizeof(out), &out_len) != FUOTA_OK)
			break;
	}
	/* Answers of a chained uplink go back chained in one downlink. */
	if (out_len > 0) {
		int r = engine_unicast(e, u->application_id, u->dev_eui, e->cfg.port_clk, out,
		                       out_len);

		if (r == FUOTA_OK)
			engine_seen_other(e, u->dev_eui, now_ms);
		else if (rc == FUOTA_OK)
			rc = r;
	}
	if (app_time && resync_hook(e, u, now_ms) != FUOTA_OK)
		rc = FUOTA_ERR_IO;
	return rc;
}
