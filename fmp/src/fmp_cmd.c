/* TS006 command codec: layouts in PROTOCOL-NOTES §8. */
#include <string.h>

#include "fuota/bytes.h"
#include "fuota/err.h"
#include "fuota/fmp.h"
#include "fuota/reader.h"

const char *fmp_cmd_name(uint8_t cid, bool up)
{
	switch (cid) {
	case FMP_CID_PACKAGE_VERSION: return up ? "PackageVersionAns" : "PackageVersionReq";
	case FMP_CID_DEV_VERSION: return up ? "DevVersionAns" : "DevVersionReq";
	case FMP_CID_DEV_REBOOT_TIME: return up ? "DevRebootTimeAns" : "DevRebootTimeReq";
	case FMP_CID_DEV_REBOOT_COUNTDOWN:
		return up ? "DevRebootCountdownAns" : "DevRebootCountdownReq";
	case FMP_CID_DEV_UPGRADE_IMAGE: return up ? "DevUpgradeImageAns" : "DevUpgradeImageReq";
	case FMP_CID_DEV_DELETE_IMAGE: return up ? "DevDeleteImageAns" : "DevDeleteImageReq";
	}
	return NULL;
}

static int decode_body(struct fuota_reader *r, struct fmp_cmd *cmd)
{
	uint8_t b;

	switch (cmd->cid) {
	case FMP_CID_PACKAGE_VERSION:
		if (!cmd->up)
			return FUOTA_OK;
		return fuota_read_u8(r, "PackageIdentifier", &cmd->u.pkg_ans.package_id) ||
		                       fuota_read_u8(r, "PackageVersion", &cmd->u.pkg_ans.version)
		               ? FUOTA_ERR_MALFORMED
		               : FUOTA_OK;
	case FMP_CID_DEV_VERSION:
		if (!cmd->up)
			return FUOTA_OK;
		return fuota_read_le32(r, "FWversion", &cmd->u.version_ans.fw_version) ||
		                       fuota_read_le32(r, "HWversion",
		                                       &cmd->u.version_ans.hw_version)
		               ? FUOTA_ERR_MALFORMED
		               : FUOTA_OK;
	case FMP_CID_DEV_REBOOT_TIME: return fuota_read_le32(r, "RebootTime", &cmd->u.reboot_time);
	case FMP_CID_DEV_REBOOT_COUNTDOWN:
		return fuota_read_le24(r, "Countdown", &cmd->u.countdown);
	case FMP_CID_DEV_UPGRADE_IMAGE:
		if (!cmd->up)
			return FUOTA_OK;
		if (fuota_read_u8(r, "Status", &b))
			return FUOTA_ERR_MALFORMED;
		cmd->u.upgrade_ans.status = b & 0x03;
		if (cmd->u.upgrade_ans.status != FMP_IMAGE_VALID)
			return FUOTA_OK;
		return fuota_read_le32(r, "nextFirmwareVersion",
		                       &cmd->u.upgrade_ans.next_fw_version);
	case FMP_CID_DEV_DELETE_IMAGE:
		if (!cmd->up)
			return fuota_read_le32(r, "FirmwareToDeleteVersion",
			                       &cmd->u.delete_version);
		if (fuota_read_u8(r, "Status", &b))
			return FUOTA_ERR_MALFORMED;
		cmd->u.delete_ans.error_no_valid_image = (b & 0x01) != 0;
		cmd->u.delete_ans.error_invalid_version = (b & 0x02) != 0;
		return FUOTA_OK;
	}
	return FUOTA_ERR_UNSUPPORTED;
}

int fmp_decode(const uint8_t *buf, size_t len, size_t *pos, bool up, struct fmp_cmd *cmd,
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
	if (fuota_reader_command(&r, fmp_cmd_name(cid, up), NULL) != FUOTA_OK)
		return FUOTA_ERR_UNSUPPORTED;
	rc = decode_body(&r, cmd);
	if (rc == FUOTA_OK)
		*pos = r.pos;
	return rc;
}

/* Encoded size including the CID, or 0 for an undefined CID or a field out of range. */
static size_t encoded_size(const struct fmp_cmd *cmd)
{
	switch (cmd->cid) {
	case FMP_CID_PACKAGE_VERSION: return cmd->up ? 3 : 1;
	case FMP_CID_DEV_VERSION: return cmd->up ? 9 : 1;
	case FMP_CID_DEV_REBOOT_TIME: return 5;
	case FMP_CID_DEV_REBOOT_COUNTDOWN: return cmd->u.countdown <= 0xFFFFFFu ? 4 : 0;
	case FMP_CID_DEV_UPGRADE_IMAGE:
		if (!cmd->up)
			return 1;
		if (cmd->u.upgrade_ans.status > FMP_IMAGE_VALID)
			return 0;
		return cmd->u.upgrade_ans.status == FMP_IMAGE_VALID ? 6 : 2;
	case FMP_CID_DEV_DELETE_IMAGE: return cmd->up ? 2 : 5;
	}
	return 0;
}

int fmp_encode(const struct fmp_cmd *cmd, uint8_t *buf, size_t cap, size_t *pos)
{
	size_t n = encoded_size(cmd);
	uint8_t *p;

	if (n == 0)
		return FUOTA_ERR_INVALID_ARG;
	if (*pos > cap || cap - *pos < n)
		return FUOTA_ERR_NO_SPACE;
	p = buf + *pos;
	p[0] = cmd->cid;
	switch (cmd->cid) {
	case FMP_CID_PACKAGE_VERSION:
		if (cmd->up) {
			p[1] = cmd->u.pkg_ans.package_id;
			p[2] = cmd->u.pkg_ans.version;
		}
		break;
	case FMP_CID_DEV_VERSION:
		if (cmd->up) {
			fuota_put_le32(p + 1, cmd->u.version_ans.fw_version);
			fuota_put_le32(p + 5, cmd->u.version_ans.hw_version);
		}
		break;
	case FMP_CID_DEV_REBOOT_TIME: fuota_put_le32(p + 1, cmd->u.reboot_time); break;
	case FMP_CID_DEV_REBOOT_COUNTDOWN: fuota_put_le24(p + 1, cmd->u.countdown); break;
	case FMP_CID_DEV_UPGRADE_IMAGE:
		if (cmd->up) {
			p[1] = cmd->u.upgrade_ans.status;
			if (n == 6)
				fuota_put_le32(p + 2, cmd->u.upgrade_ans.next_fw_version);
		}
		break;
	case FMP_CID_DEV_DELETE_IMAGE:
		if (cmd->up)
			p[1] = (uint8_t)((cmd->u.delete_ans.error_no_valid_image ? 0x01 : 0x00) |
			                 (cmd->u.delete_ans.error_invalid_version ? 0x02 : 0x00));
		else
			fuota_put_le32(p + 1, cmd->u.delete_version);
		break;
	}
	*pos += n;
	return FUOTA_OK;
}
