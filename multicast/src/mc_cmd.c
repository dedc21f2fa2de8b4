/* TS005 command codec: layouts and masks in PROTOCOL-NOTES §5.1, P9, P10 and P22. */
#include <string.h>

#include "fuota/bytes.h"
#include "fuota/err.h"
#include "fuota/mc.h"
#include "fuota/reader.h"

const char *mc_cmd_name(uint8_t cid, bool up)
{
	switch (cid) {
	case MC_CID_PACKAGE_VERSION: return up ? "PackageVersionAns" : "PackageVersionReq";
	case MC_CID_GROUP_STATUS: return up ? "McGroupStatusAns" : "McGroupStatusReq";
	case MC_CID_GROUP_SETUP: return up ? "McGroupSetupAns" : "McGroupSetupReq";
	case MC_CID_GROUP_DELETE: return up ? "McGroupDeleteAns" : "McGroupDeleteReq";
	case MC_CID_CLASS_C_SESSION: return up ? "McClassCSessionAns" : "McClassCSessionReq";
	case MC_CID_CLASS_B_SESSION: return up ? "McClassBSessionAns" : "McClassBSessionReq";
	}
	return NULL;
}

static unsigned popcount4(uint8_t mask)
{
	return (unsigned)((mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1) + ((mask >> 3) & 1));
}

static int decode_status_ans(struct fuota_reader *r, struct mc_cmd *cmd)
{
	uint8_t b;

	if (fuota_read_u8(r, "Status", &b))
		return FUOTA_ERR_MALFORMED;
	cmd->u.status_ans.ans_group_mask = b & 0x0F;
	cmd->u.status_ans.nb_total_groups = (b >> 4) & 0x07;
	cmd->u.status_ans.nb_items = (uint8_t)popcount4(b & 0x0F);
	/* brocaar's encoder writes items in the caller's order (its vector lists group 3 first), so
	 * walk by count and keep each item's own McGroupID. */
	for (unsigned i = 0; i < cmd->u.status_ans.nb_items; i++) {
		struct mc_group_item *it = &cmd->u.status_ans.items[i];

		if (fuota_read_u8(r, "McGroupID", &b) || fuota_read_le32(r, "McAddr", &it->mc_addr))
			return FUOTA_ERR_MALFORMED;
		it->group_id = b & 0x03;
	}
	return FUOTA_OK;
}

static int decode_session_req(struct fuota_reader *r, struct mc_cmd *cmd)
{
	struct mc_session_req *s = &cmd->u.session_req;
	uint8_t b, to;
	uint32_t f;

	if (fuota_read_u8(r, "McGroupIDHeader", &b) ||
	    fuota_read_le32(r, "SessionTime", &s->session_time) ||
	    fuota_read_u8(
	            r, cmd->cid == MC_CID_CLASS_B_SESSION ? "TimeOutPeriodicity" : "SessionTimeOut",
	            &to) ||
	    fuota_read_le24(r, "DLFrequ", &f) || fuota_read_u8(r, "DR", &s->dr))
		return FUOTA_ERR_MALFORMED;
	s->group_id = b & 0x03;
	s->timeout = to & 0x0F;
	/* brocaar masks TimeOut with 0x1f and Periodicity with 0x17 (P10); the fields are 4 and 3
	 * bits wide, as in ChirpStack v4. */
	if (cmd->cid == MC_CID_CLASS_B_SESSION)
		s->periodicity = (to >> 4) & 0x07;
	s->dl_freq_hz = f * 100u;
	return FUOTA_OK;
}

static int decode_session_ans(struct fuota_reader *r, struct mc_cmd *cmd)
{
	struct mc_session_ans *a = &cmd->u.session_ans;
	uint8_t b;

	if (fuota_read_u8(r, "Status", &b))
		return FUOTA_ERR_MALFORMED;
	a->group_id = b & 0x03;
	a->dr_error = (b & MC_SESS_DR_ERROR) != 0;
	a->freq_error = (b & MC_SESS_FREQ_ERROR) != 0;
	a->group_undefined = (b & MC_SESS_GROUP_UNDEFINED) != 0;
	a->start_missed = (b & MC_SESS_START_MISSED) != 0;
	/* LBM and Zephyr omit TimeToStart with StartMissed; ChirpStack v2 wrongly demands it (P22).
	 */
	if (b & (MC_SESS_ERROR_BITS | MC_SESS_START_MISSED))
		return FUOTA_OK;
	if (fuota_read_le24(r, "TimeToStart", &a->time_to_start))
		return FUOTA_ERR_MALFORMED;
	a->has_time_to_start = true;
	return FUOTA_OK;
}

static int decode_body(struct fuota_reader *r, struct mc_cmd *cmd)
{
	uint8_t b;

	switch (cmd->cid) {
	case MC_CID_PACKAGE_VERSION:
		if (!cmd->up)
			return FUOTA_OK;
		if (fuota_read_u8(r, "PackageIdentifier", &cmd->u.pkg_ans.package_id) ||
		    fuota_read_u8(r, "PackageVersion", &cmd->u.pkg_ans.version))
			return FUOTA_ERR_MALFORMED;
		return FUOTA_OK;
	case MC_CID_GROUP_STATUS:
		if (cmd->up)
			return decode_status_ans(r, cmd);
		if (fuota_read_u8(r, "CmdMask", &b))
			return FUOTA_ERR_MALFORMED;
		cmd->u.status_req.reg_group_mask = b & 0x0F;
		return FUOTA_OK;
	case MC_CID_GROUP_SETUP:
		if (cmd->up) {
			if (fuota_read_u8(r, "Status", &b))
				return FUOTA_ERR_MALFORMED;
			cmd->u.setup_ans.group_id = b & 0x03;
			cmd->u.setup_ans.id_error = (b & 0x04) != 0;
			return FUOTA_OK;
		}
		if (fuota_read_u8(r, "McGroupIDHeader", &b) ||
		    fuota_read_le32(r, "McAddr", &cmd->u.setup_req.mc_addr) ||
		    fuota_read_bytes(r, "McKey_encrypted", cmd->u.setup_req.mc_key_encrypted, 16) ||
		    fuota_read_le32(r, "minMcFCount", &cmd->u.setup_req.min_fcnt) ||
		    fuota_read_le32(r, "maxMcFCount", &cmd->u.setup_req.max_fcnt))
			return FUOTA_ERR_MALFORMED;
		cmd->u.setup_req.group_id = b & 0x03;
		return FUOTA_OK;
	case MC_CID_GROUP_DELETE:
		if (fuota_read_u8(r, cmd->up ? "Status" : "McGroupIDHeader", &b))
			return FUOTA_ERR_MALFORMED;
		if (cmd->up) {
			cmd->u.delete_ans.group_id = b & 0x03;
			cmd->u.delete_ans.group_undefined = (b & 0x04) != 0;
		} else {
			cmd->u.delete_req.group_id = b & 0x03;
		}
		return FUOTA_OK;
	case MC_CID_CLASS_C_SESSION:
	case MC_CID_CLASS_B_SESSION:
		return cmd->up ? decode_session_ans(r, cmd) : decode_session_req(r, cmd);
	}
	return FUOTA_ERR_UNSUPPORTED;
}

int mc_decode(const uint8_t *buf, size_t len, size_t *pos, bool up, int version, struct mc_cmd *cmd,
              struct fuota_parse_err *err)
{
	struct fuota_reader r;
	uint8_t cid;
	int rc;

	if (fuota_reader_begin(&r, buf, len, *pos, err, &cid) != FUOTA_OK ||
	    (version != 1 && version != 2))
		return FUOTA_ERR_INVALID_ARG;
	memset(cmd, 0, sizeof(*cmd));
	cmd->cid = cid;
	cmd->up = up;
	if (fuota_reader_command(&r, mc_cmd_name(cid, up), NULL) != FUOTA_OK)
		return FUOTA_ERR_UNSUPPORTED;
	rc = decode_body(&r, cmd);
	if (rc == FUOTA_OK)
		*pos = r.pos;
	return rc;
}

/* ---- Encoder ----------------------------------------------------------------------------- */

static int status_ans_valid(const struct mc_cmd *cmd)
{
	uint8_t seen = 0;

	if (cmd->u.status_ans.ans_group_mask > 0x0F || cmd->u.status_ans.nb_total_groups > 0x07 ||
	    cmd->u.status_ans.nb_items != popcount4(cmd->u.status_ans.ans_group_mask))
		return 0;
	for (unsigned i = 0; i < cmd->u.status_ans.nb_items; i++) {
		uint8_t id = cmd->u.status_ans.items[i].group_id;

		if (id > 3 || !(cmd->u.status_ans.ans_group_mask & (1u << id)) ||
		    (seen & (1u << id)))
			return 0;
		seen = (uint8_t)(seen | (1u << id));
	}
	return 1;
}

static int session_req_valid(const struct mc_cmd *cmd)
{
	const struct mc_session_req *s = &cmd->u.session_req;

	return s->group_id <= 3 && s->timeout <= 0x0F && s->periodicity <= 0x07 &&
	       (cmd->cid == MC_CID_CLASS_B_SESSION || s->periodicity == 0) &&
	       s->dl_freq_hz % 100u == 0 && s->dl_freq_hz <= MC_DL_FREQ_MAX_HZ;
}

static int session_ans_valid(const struct mc_session_ans *a)
{
	bool flagged = a->dr_error || a->freq_error || a->group_undefined || a->start_missed;

	return a->group_id <= 3 && a->has_time_to_start == !flagged &&
	       a->time_to_start <= MC_TIME_TO_START_MAX;
}

/* Size of the encoded command, or 0 when a field is out of range. */
static size_t encoded_size(const struct mc_cmd *cmd)
{
	switch (cmd->cid) {
	case MC_CID_PACKAGE_VERSION: return cmd->up ? 3 : 1;
	case MC_CID_GROUP_STATUS:
		if (!cmd->up)
			return cmd->u.status_req.reg_group_mask <= 0x0F ? 2 : 0;
		return status_ans_valid(cmd) ? 2 + 5u * cmd->u.status_ans.nb_items : 0;
	case MC_CID_GROUP_SETUP:
		if (cmd->up)
			return cmd->u.setup_ans.group_id <= 3 ? 2 : 0;
		return cmd->u.setup_req.group_id <= 3 ? 30 : 0;
	case MC_CID_GROUP_DELETE:
		return (cmd->up ? cmd->u.delete_ans.group_id : cmd->u.delete_req.group_id) <= 3 ? 2
		                                                                                : 0;
	case MC_CID_CLASS_C_SESSION:
	case MC_CID_CLASS_B_SESSION:
		if (!cmd->up)
			return session_req_valid(cmd) ? 11 : 0;
		if (!session_ans_valid(&cmd->u.session_ans))
			return 0;
		return cmd->u.session_ans.has_time_to_start ? 5 : 2;
	}
	return 0;
}

static void encode_body(const struct mc_cmd *cmd, uint8_t *p)
{
	const struct mc_session_req *s = &cmd->u.session_req;
	const struct mc_session_ans *a = &cmd->u.session_ans;

	p[0] = cmd->cid;
	switch (cmd->cid) {
	case MC_CID_PACKAGE_VERSION:
		if (cmd->up) {
			p[1] = cmd->u.pkg_ans.package_id;
			p[2] = cmd->u.pkg_ans.version;
		}
		return;
	case MC_CID_GROUP_STATUS:
		if (!cmd->up) {
			p[1] = cmd->u.status_req.reg_group_mask;
			return;
		}
		p[1] = (uint8_t)(cmd->u.status_ans.ans_group_mask |
		                 (cmd->u.status_ans.nb_total_groups << 4));
		for (unsigned i = 0; i < cmd->u.status_ans.nb_items; i++) {
			p[2 + 5 * i] = cmd->u.status_ans.items[i].group_id;
			fuota_put_le32(p + 3 + 5 * i, cmd->u.status_ans.items[i].mc_addr);
		}
		return;
	case MC_CID_GROUP_SETUP:
		if (cmd->up) {
			p[1] = (uint8_t)(cmd->u.setup_ans.group_id |
			                 (cmd->u.setup_ans.id_error ? 0x04 : 0x00));
			return;
		}
		p[1] = cmd->u.setup_req.group_id;
		fuota_put_le32(p + 2, cmd->u.setup_req.mc_addr);
		memcpy(p + 6, cmd->u.setup_req.mc_key_encrypted, 16);
		fuota_put_le32(p + 22, cmd->u.setup_req.min_fcnt);
		fuota_put_le32(p + 26, cmd->u.setup_req.max_fcnt);
		return;
	case MC_CID_GROUP_DELETE:
		if (cmd->up)
			p[1] = (uint8_t)(cmd->u.delete_ans.group_id |
			                 (cmd->u.delete_ans.group_undefined ? 0x04 : 0x00));
		else
			p[1] = cmd->u.delete_req.group_id;
		return;
	case MC_CID_CLASS_C_SESSION:
	case MC_CID_CLASS_B_SESSION:
		if (!cmd->up) {
			p[1] = s->group_id;
			fuota_put_le32(p + 2, s->session_time);
			p[6] = (uint8_t)(s->timeout | (s->periodicity << 4));
			fuota_put_le24(p + 7, s->dl_freq_hz / 100u);
			p[10] = s->dr;
			return;
		}
		p[1] = (uint8_t)(a->group_id | (a->dr_error ? MC_SESS_DR_ERROR : 0) |
		                 (a->freq_error ? MC_SESS_FREQ_ERROR : 0) |
		                 (a->group_undefined ? MC_SESS_GROUP_UNDEFINED : 0) |
		                 (a->start_missed ? MC_SESS_START_MISSED : 0));
		if (a->has_time_to_start)
			fuota_put_le24(p + 2, a->time_to_start);
		return;
	}
}

int mc_encode(const struct mc_cmd *cmd, uint8_t *buf, size_t cap, size_t *pos)
{
	size_t n = encoded_size(cmd);

	if (n == 0)
		return FUOTA_ERR_INVALID_ARG;
	if (*pos > cap || cap - *pos < n)
		return FUOTA_ERR_NO_SPACE;
	encode_body(cmd, buf + *pos);
	*pos += n;
	return FUOTA_OK;
}
