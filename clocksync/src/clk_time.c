/* TS003 time arithmetic: the server's AppTimeAns and the device's handling of it
 * (PROTOCOL-NOTES §3.3, P21). */
#include <string.h>

#include "fuota/clk.h"
#include "fuota/err.h"

#define GPS_MOD_MS (4294967296LL * 1000) /* 2^32 seconds, in milliseconds */

int clk_pick_rx_time(const struct clk_rx_time *gw, size_t n_gw, int64_t server_gps_ms,
                     int64_t *gps_ms, enum clk_time_source *src)
{
	if (!gw && n_gw > 0)
		return FUOTA_ERR_INVALID_ARG;
	for (size_t i = 0; i < n_gw; i++) {
		if (gw[i].has_gps_time) {
			*gps_ms = gw[i].gps_time_ms;
			*src = CLK_SRC_GW_GPS;
			return FUOTA_OK;
		}
	}
	for (size_t i = 0; i < n_gw; i++) {
		if (gw[i].has_gw_time) {
			*gps_ms = gw[i].gw_time_gps_ms;
			*src = CLK_SRC_GW_TIME;
			return FUOTA_OK;
		}
	}
	*gps_ms = server_gps_ms;
	*src = CLK_SRC_SERVER;
	return FUOTA_OK;
}

int clk_time_correction(int64_t net_gps_ms, uint32_t device_time, int32_t *correction)
{
	int64_t diff_s;

	if (net_gps_ms < 0)
		return FUOTA_ERR_INVALID_ARG;
	/* Both sides in the device's modulo-2^32-seconds frame: after GPS second 2^32 (year 2116)
	 * the network time wraps exactly as DeviceTime does. */
	diff_s = (net_gps_ms % GPS_MOD_MS - (int64_t)device_time * 1000) / 1000;
	if (diff_s > INT32_MAX)
		*correction = INT32_MAX;
	else if (diff_s < INT32_MIN)
		*correction = INT32_MIN;
	else
		*correction = (int32_t)diff_s;
	return FUOTA_OK;
}

int clk_server_answer(const struct clk_cmd *req, int64_t net_gps_ms, struct clk_cmd *ans,
                      bool *send)
{
	int32_t corr;
	int rc;

	if (req->cid != CLK_CID_APP_TIME || !req->up)
		return FUOTA_ERR_INVALID_ARG;
	rc = clk_time_correction(net_gps_ms, req->u.time_req.device_time, &corr);
	if (rc != FUOTA_OK)
		return rc;
	memset(ans, 0, sizeof(*ans));
	ans->cid = CLK_CID_APP_TIME;
	ans->up = false;
	ans->u.time_ans.time_correction = corr;
	ans->u.time_ans.token_ans = req->u.time_req.token_req & 0x0F;
	*send = corr != 0 || req->u.time_req.ans_required;
	return FUOTA_OK;
}

uint32_t clk_periodicity_s(uint8_t period)
{
	return 128u << (period & 0x0F);
}

int clk_dev_init(struct clk_dev *d, int version)
{
	if (version != 1 && version != 2)
		return FUOTA_ERR_INVALID_ARG;
	memset(d, 0, sizeof(*d));
	d->version = version;
	return FUOTA_OK;
}

void clk_dev_app_time_req(const struct clk_dev *d, uint32_t device_time, bool ans_required,
                          struct clk_cmd *req)
{
	memset(req, 0, sizeof(*req));
	req->cid = CLK_CID_APP_TIME;
	req->up = true;
	req->u.time_req.device_time = device_time;
	req->u.time_req.token_req = d->token_req & 0x0F;
	req->u.time_req.ans_required = ans_required;
}

int clk_dev_on_app_time_ans(struct clk_dev *d, const struct clk_cmd *ans, uint32_t device_time,
                            uint32_t *new_time, bool *resync)
{
	int32_t corr;

	if (ans->cid != CLK_CID_APP_TIME || ans->up)
		return FUOTA_ERR_INVALID_ARG;
	if ((ans->u.time_ans.token_ans & 0x0F) != d->token_req)
		return FUOTA_ERR_STATE;
	corr = ans->u.time_ans.time_correction;
	d->token_req = (uint8_t)((d->token_req + 1) & 0x0F);
	d->nb_transmissions = 0;
	/* Unsigned addition: the device clock is GPS seconds modulo 2^32. */
	*new_time = device_time + (uint32_t)corr;
	*resync = d->version >= 2 && (corr == INT32_MAX || corr == INT32_MIN);
	return FUOTA_OK;
}

int clk_dev_on_request(struct clk_dev *d, const struct clk_cmd *req)
{
	if (req->up)
		return FUOTA_ERR_INVALID_ARG;
	switch (req->cid) {
	case CLK_CID_PERIODICITY:
		d->periodicity_s = clk_periodicity_s(req->u.period_req.period);
		return FUOTA_OK;
	case CLK_CID_FORCE_RESYNC:
		d->nb_transmissions = req->u.force.nb_transmissions & 0x07;
		return FUOTA_OK;
	default: return FUOTA_ERR_INVALID_ARG;
	}
}
