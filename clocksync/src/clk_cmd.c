/* TS003 command codec: layouts in PROTOCOL-NOTES §3.1, bit fields in §3.2. */
#include <string.h>

#include "fuota/bytes.h"
#include "fuota/clk.h"
#include "fuota/err.h"
#include "fuota/reader.h"

const char *clk_cmd_name(uint8_t cid, bool up, int version)
{
	switch (cid) {
	case CLK_CID_PACKAGE_VERSION: return up ? "PackageVersionAns" : "PackageVersionReq";
	case CLK_CID_APP_TIME: return up ? "AppTimeReq" : "AppTimeAns";
	case CLK_CID_PERIODICITY:
		return up ? "DeviceAppTimePeriodicityAns" : "DeviceAppTimePeriodicityReq";
	case CLK_CID_FORCE_RESYNC:
		if (up)
			return NULL;
		return version >= 2 ? "ForceDeviceResyncCmd" : "ForceDeviceResyncReq";
	}
	return NULL;
}

size_t clk_cmd_size(uint8_t cid, bool up)
{
	switch (cid) {
	case CLK_CID_PACKAGE_VERSION: return up ? 3 : 1;
	case CLK_CID_APP_TIME: return 6;
	case CLK_CID_PERIODICITY: return up ? 6 : 2;
	case CLK_CID_FORCE_RESYNC: return up ? 0 : 2;
	}
	return 0;
}

static int decode_body(struct fuota_reader *r, struct clk_cmd *cmd)
{
	uint8_t b = 0;
	uint32_t v = 0;

	switch (cmd->cid) {
	case CLK_CID_PACKAGE_VERSION:
		if (!cmd->up)
			return FUOTA_OK;
		if (fuota_read_u8(r, "PackageIdentifier", &cmd->u.pkg_ans.package_id) ||
		    fuota_read_u8(r, "PackageVersion", &cmd->u.pkg_ans.version))
			return FUOTA_ERR_MALFORMED;
		return FUOTA_OK;
	case CLK_CID_APP_TIME:
		if (cmd->up) {
			if (fuota_read_le32(r, "DeviceTime", &v) || fuota_read_u8(r, "Param", &b))
				return FUOTA_ERR_MALFORMED;
			cmd->u.time_req.device_time = v;
			cmd->u.time_req.token_req = b & 0x0F;
			cmd->u.time_req.ans_required = (b & 0x10) != 0;
			return FUOTA_OK;
		}
		if (fuota_read_le32(r, "TimeCorrection", &v) || fuota_read_u8(r, "Param", &b))
			return FUOTA_ERR_MALFORMED;
		/* Two's complement reinterpretation without implementation-defined conversion. */
		cmd->u.time_ans.time_correction =
		        v <= INT32_MAX ? (int32_t)v : (int32_t)(v - 0x80000000u) + INT32_MIN;
		cmd->u.time_ans.token_ans = b & 0x0F;
		return FUOTA_OK;
	case CLK_CID_PERIODICITY:
		if (!cmd->up) {
			if (fuota_read_u8(r, "Periodicity", &b))
				return FUOTA_ERR_MALFORMED;
			cmd->u.period_req.period = b & 0x0F;
			return FUOTA_OK;
		}
		if (fuota_read_u8(r, "Status", &b) || fuota_read_le32(r, "Time", &v))
			return FUOTA_ERR_MALFORMED;
		cmd->u.period_ans.not_supported = (b & 0x01) != 0;
		cmd->u.period_ans.time = v;
		return FUOTA_OK;
	case CLK_CID_FORCE_RESYNC:
		if (fuota_read_u8(r, "ForceConf", &b))
			return FUOTA_ERR_MALFORMED;
		cmd->u.force.nb_transmissions = b & 0x07;
		return FUOTA_OK;
	}
	return FUOTA_ERR_UNSUPPORTED;
}

int clk_decode(const uint8_t *buf, size_t len, size_t *pos, bool up, struct clk_cmd *cmd,
               struct fuota_parse_err *err)
{
	struct fuota_reader r;
	uint8_t cid;
	int rc;

	if (fuota_reader_begin(&r, buf, len, *pos, err, &cid) != FUOTA_OK)
		return FUOTA_ERR_INVALID_ARG;
	memset(cmd, 0, sizeof(*cmd));
	cmd->cid = cid;
	cmd->up = up;
	/* The name does not depend on the version except for CID 0x03, where both names say the
	 * same; the v1 name is recorded here and the tool asks clk_cmd_name for its version. */
	if (fuota_reader_command(&r, clk_cmd_name(cid, up, 1), NULL) != FUOTA_OK)
		return FUOTA_ERR_UNSUPPORTED;
	rc = decode_body(&r, cmd);
	if (rc == FUOTA_OK)
		*pos = r.pos;
	return rc;
}

int clk_encode(const struct clk_cmd *cmd, uint8_t *buf, size_t cap, size_t *pos)
{
	size_t n = clk_cmd_size(cmd->cid, cmd->up);
	uint8_t *p;

	if (n == 0)
		return FUOTA_ERR_INVALID_ARG;
	switch (cmd->cid) {
	case CLK_CID_APP_TIME:
		if ((cmd->up ? cmd->u.time_req.token_req : cmd->u.time_ans.token_ans) > 0x0F)
			return FUOTA_ERR_INVALID_ARG;
		break;
	case CLK_CID_PERIODICITY:
		if (!cmd->up && cmd->u.period_req.period > 0x0F)
			return FUOTA_ERR_INVALID_ARG;
		break;
	case CLK_CID_FORCE_RESYNC:
		if (cmd->u.force.nb_transmissions > 0x07)
			return FUOTA_ERR_INVALID_ARG;
		break;
	default: break;
	}
	if (*pos > cap || cap - *pos < n)
		return FUOTA_ERR_NO_SPACE;
	p = buf + *pos;
	p[0] = cmd->cid;
	switch (cmd->cid) {
	case CLK_CID_PACKAGE_VERSION:
		if (cmd->up) {
			p[1] = cmd->u.pkg_ans.package_id;
			p[2] = cmd->u.pkg_ans.version;
		}
		break;
	case CLK_CID_APP_TIME:
		if (cmd->up) {
			fuota_put_le32(p + 1, cmd->u.time_req.device_time);
			p[5] = (uint8_t)(cmd->u.time_req.token_req |
			                 (cmd->u.time_req.ans_required ? 0x10 : 0x00));
		} else {
			fuota_put_le32(p + 1, (uint32_t)cmd->u.time_ans.time_correction);
			p[5] = cmd->u.time_ans.token_ans;
		}
		break;
	case CLK_CID_PERIODICITY:
		if (cmd->up) {
			p[1] = cmd->u.period_ans.not_supported ? 0x01 : 0x00;
			fuota_put_le32(p + 2, cmd->u.period_ans.time);
		} else {
			p[1] = cmd->u.period_req.period;
		}
		break;
	case CLK_CID_FORCE_RESYNC: p[1] = cmd->u.force.nb_transmissions; break;
	}
	*pos += n;
	return FUOTA_OK;
}
