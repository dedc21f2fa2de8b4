/* TS004 command codec. Layouts: PROTOCOL-NOTES §4.1/§4.2 (brocaar fragmentation.go for v1,
 * ChirpStack lrwn v2.rs and LBM v2.0.0 for v2). */
#include "fuota/frag_cmd.h"

#include <string.h>

#include "fuota/bytes.h"
#include "fuota/err.h"
#include "fuota/reader.h"

static const char *const cmd_names[FRAG_CMD_TYPE_COUNT] = {
        [FRAG_CMD_PACKAGE_VERSION_REQ] = "PackageVersionReq",
        [FRAG_CMD_PACKAGE_VERSION_ANS] = "PackageVersionAns",
        [FRAG_CMD_SESSION_STATUS_REQ] = "FragSessionStatusReq",
        [FRAG_CMD_SESSION_STATUS_ANS] = "FragSessionStatusAns",
        [FRAG_CMD_SESSION_SETUP_REQ] = "FragSessionSetupReq",
        [FRAG_CMD_SESSION_SETUP_ANS] = "FragSessionSetupAns",
        [FRAG_CMD_SESSION_DELETE_REQ] = "FragSessionDeleteReq",
        [FRAG_CMD_SESSION_DELETE_ANS] = "FragSessionDeleteAns",
        [FRAG_CMD_DATA_FRAGMENT] = "DataFragment",
        [FRAG_CMD_DATA_BLOCK_RECEIVED_REQ] = "FragDataBlockReceivedReq",
        [FRAG_CMD_DATA_BLOCK_RECEIVED_ANS] = "FragDataBlockReceivedAns",
};

const char *frag_cmd_name(enum frag_cmd_type type)
{
	if ((unsigned)type >= FRAG_CMD_TYPE_COUNT)
		return "?";
	return cmd_names[type];
}

enum frag_dir frag_cmd_dir(enum frag_cmd_type type)
{
	switch (type) {
	case FRAG_CMD_PACKAGE_VERSION_ANS:
	case FRAG_CMD_SESSION_STATUS_ANS:
	case FRAG_CMD_SESSION_SETUP_ANS:
	case FRAG_CMD_SESSION_DELETE_ANS:
	case FRAG_CMD_DATA_BLOCK_RECEIVED_REQ: return FRAG_UP;
	default: return FRAG_DOWN;
	}
}

bool frag_cmd_equal(const struct frag_cmd *a, const struct frag_cmd *b)
{
	if (!a || !b || a->type != b->type)
		return false;
	switch (a->type) {
	case FRAG_CMD_PACKAGE_VERSION_REQ: return true;
	case FRAG_CMD_PACKAGE_VERSION_ANS:
		return a->u.version_ans.package_id == b->u.version_ans.package_id &&
		       a->u.version_ans.package_version == b->u.version_ans.package_version;
	case FRAG_CMD_SESSION_STATUS_REQ:
		return a->u.status_req.participants == b->u.status_req.participants &&
		       a->u.status_req.frag_index == b->u.status_req.frag_index;
	case FRAG_CMD_SESSION_STATUS_ANS: {
		const struct frag_status_ans *x = &a->u.status_ans, *y = &b->u.status_ans;

		return x->frag_index == y->frag_index && x->nb_received == y->nb_received &&
		       x->missing_frag == y->missing_frag && x->memory_error == y->memory_error &&
		       x->mic_error == y->mic_error && x->session_not_exist == y->session_not_exist;
	}
	case FRAG_CMD_SESSION_SETUP_REQ: {
		const struct frag_setup_req *x = &a->u.setup_req, *y = &b->u.setup_req;

		return x->frag_index == y->frag_index && x->mc_group_mask == y->mc_group_mask &&
		       x->nb_frag == y->nb_frag && x->frag_size == y->frag_size &&
		       x->block_ack_delay == y->block_ack_delay && x->frag_algo == y->frag_algo &&
		       x->ack_reception == y->ack_reception && x->padding == y->padding &&
		       !memcmp(x->descriptor, y->descriptor, 4) &&
		       x->session_cnt == y->session_cnt && !memcmp(x->mic, y->mic, 4);
	}
	case FRAG_CMD_SESSION_SETUP_ANS: {
		const struct frag_setup_ans *x = &a->u.setup_ans, *y = &b->u.setup_ans;

		return x->frag_index == y->frag_index &&
		       x->algo_unsupported == y->algo_unsupported &&
		       x->not_enough_memory == y->not_enough_memory &&
		       x->index_not_supported == y->index_not_supported &&
		       x->wrong_descriptor == y->wrong_descriptor &&
		       x->session_cnt_replay == y->session_cnt_replay;
	}
	case FRAG_CMD_SESSION_DELETE_REQ:
		return a->u.delete_req.frag_index == b->u.delete_req.frag_index;
	case FRAG_CMD_SESSION_DELETE_ANS:
		return a->u.delete_ans.frag_index == b->u.delete_ans.frag_index &&
		       a->u.delete_ans.session_not_exist == b->u.delete_ans.session_not_exist;
	case FRAG_CMD_DATA_FRAGMENT: {
		const struct frag_data_fragment *x = &a->u.data_fragment, *y = &b->u.data_fragment;

		return x->frag_index == y->frag_index && x->n == y->n &&
		       x->payload_len == y->payload_len &&
		       (x->payload_len == 0 || (x->payload && y->payload &&
		                                !memcmp(x->payload, y->payload, x->payload_len)));
	}
	case FRAG_CMD_DATA_BLOCK_RECEIVED_REQ:
		return a->u.block_received_req.frag_index == b->u.block_received_req.frag_index &&
		       a->u.block_received_req.mic_error == b->u.block_received_req.mic_error;
	case FRAG_CMD_DATA_BLOCK_RECEIVED_ANS:
		return a->u.block_received_ans.frag_index == b->u.block_received_ans.frag_index;
	default: return false;
	}
}

/* ---- decoding ---------------------------------------------------------------------------- */

static int dec_version_ans(struct fuota_reader *r, struct frag_package_version_ans *a)
{
	fuota_reader_expect(r, 2);
	if (fuota_read_u8(r, "PackageIdentifier", &a->package_id) ||
	    fuota_read_u8(r, "PackageVersion", &a->package_version))
		return FUOTA_ERR_MALFORMED;
	return FUOTA_OK;
}

static int dec_status_req(struct fuota_reader *r, struct frag_status_req *q)
{
	uint8_t b;

	fuota_reader_expect(r, 1);
	if (fuota_read_u8(r, "FragStatusReqParam", &b))
		return FUOTA_ERR_MALFORMED;
	q->participants = b & 0x01; /* bits 7..3 RFU */
	q->frag_index = (b >> 1) & 0x03;
	return FUOTA_OK;
}

static int dec_status_ans(struct fuota_reader *r, enum frag_version v, struct frag_status_ans *a)
{
	uint16_t rai;
	uint8_t status = 0;

	fuota_reader_expect(r, FRAG_STATUS_ANS_LEN);
	if (v == FRAG_V2 && fuota_read_u8(r, "Status", &status))
		return FUOTA_ERR_MALFORMED;
	if (fuota_read_le16(r, "ReceivedAndIndex", &rai) ||
	    fuota_read_u8(r, "MissingFrag", &a->missing_frag))
		return FUOTA_ERR_MALFORMED;
	if (v == FRAG_V1 && fuota_read_u8(r, "Status", &status))
		return FUOTA_ERR_MALFORMED;
	a->nb_received = rai & 0x3fff;
	a->frag_index = (uint8_t)(rai >> 14);
	a->memory_error = status & 0x01;
	/* v1: bits 7..1 RFU; v2: bits 7..3 RFU. */
	a->mic_error = v == FRAG_V2 && (status & 0x02);
	a->session_not_exist = v == FRAG_V2 && (status & 0x04);
	return FUOTA_OK;
}

static int dec_setup_req(struct fuota_reader *r, enum frag_version v, struct frag_setup_req *q)
{
	uint8_t session, control;

	fuota_reader_expect(r, v == FRAG_V2 ? FRAG_SETUP_REQ_LEN_V2 : FRAG_SETUP_REQ_LEN_V1);
	if (fuota_read_u8(r, "FragSession", &session) ||
	    fuota_read_le16(r, "NbFrag", &q->nb_frag) ||
	    fuota_read_u8(r, "FragSize", &q->frag_size) || fuota_read_u8(r, "Control", &control) ||
	    fuota_read_u8(r, "Padding", &q->padding))
		return FUOTA_ERR_MALFORMED;
	if (fuota_read_bytes(r, "Descriptor", q->descriptor, FRAG_DESCRIPTOR_LEN))
		return FUOTA_ERR_MALFORMED;
	q->session_cnt = 0;
	memset(q->mic, 0, sizeof(q->mic));
	if (v == FRAG_V2) {
		if (fuota_read_le16(r, "SessionCnt", &q->session_cnt) ||
		    fuota_read_bytes(r, "MIC", q->mic, FRAG_MIC_LEN))
			return FUOTA_ERR_MALFORMED;
	}
	q->mc_group_mask = session & 0x0f; /* bits 7..6 RFU */
	q->frag_index = (session >> 4) & 0x03;
	q->block_ack_delay = control & 0x07;
	q->frag_algo = (control >> 3) & 0x07;
	q->ack_reception = v == FRAG_V2 && (control & 0x40); /* v1: bit 6 RFU */
	/* NbFrag counts uncoded fragments, all numbered by DataFragment's 14-bit N. */
	if (q->nb_frag == 0 || q->nb_frag > FRAG_MAX_N)
		return fuota_reader_fail(r, "NbFrag", "out of range");
	if (q->frag_size == 0)
		return fuota_reader_fail(r, "FragSize", "out of range");
	if (q->padding >= q->frag_size)
		return fuota_reader_fail(r, "Padding", "out of range (not below FragSize)");
	return FUOTA_OK;
}

static int dec_setup_ans(struct fuota_reader *r, enum frag_version v, struct frag_setup_ans *a)
{
	uint8_t b;

	fuota_reader_expect(r, 1);
	if (fuota_read_u8(r, "StatusBitMask", &b))
		return FUOTA_ERR_MALFORMED;
	a->algo_unsupported = b & 0x01;
	a->not_enough_memory = b & 0x02;
	a->index_not_supported = b & 0x04;
	a->wrong_descriptor = b & 0x08;
	a->session_cnt_replay = v == FRAG_V2 && (b & 0x10); /* v1: bit 4 RFU; bit 5 RFU */
	a->frag_index = (b >> 6) & 0x03;
	return FUOTA_OK;
}

static int dec_delete_req(struct fuota_reader *r, struct frag_delete_req *q)
{
	uint8_t b;

	fuota_reader_expect(r, 1);
	if (fuota_read_u8(r, "Param", &b))
		return FUOTA_ERR_MALFORMED;
	q->frag_index = b & 0x03;
	return FUOTA_OK;
}

static int dec_delete_ans(struct fuota_reader *r, struct frag_delete_ans *a)
{
	uint8_t b;

	fuota_reader_expect(r, 1);
	if (fuota_read_u8(r, "Status", &b))
		return FUOTA_ERR_MALFORMED;
	a->frag_index = b & 0x03;
	a->session_not_exist = b & 0x04;
	return FUOTA_OK;
}

static int dec_data_fragment(struct fuota_reader *r, uint32_t frag_size,
                             struct frag_data_fragment *f)
{
	uint16_t ian;
	size_t plen;

	fuota_reader_expect(r, FRAG_DATA_FRAGMENT_HDR + (frag_size ? frag_size : 1u));
	if (fuota_read_le16(r, "IndexAndN", &ian))
		return FUOTA_ERR_MALFORMED;
	f->n = ian & 0x3fff;
	f->frag_index = (uint8_t)(ian >> 14);
	plen = frag_size ? frag_size : r->len - r->pos;
	f->payload_len = plen;
	if (fuota_read_span(r, "Payload", plen ? plen : 1u, &f->payload))
		return FUOTA_ERR_MALFORMED;
	if (plen > 255) /* FragSize is one byte */
		return fuota_reader_fail(r, "Payload", "out of range (more than 255 bytes)");
	if (f->n == 0) /* N is 1-based; 0 would underflow N - 1 (P3) */
		return fuota_reader_fail(r, "N", "out of range (0)");
	return FUOTA_OK;
}

static int dec_block_received_req(struct fuota_reader *r, struct frag_block_received_req *q)
{
	uint8_t b;

	fuota_reader_expect(r, 1);
	if (fuota_read_u8(r, "Status", &b))
		return FUOTA_ERR_MALFORMED;
	q->frag_index = b & 0x03;
	q->mic_error = b & 0x04;
	return FUOTA_OK;
}

static int dec_block_received_ans(struct fuota_reader *r, struct frag_block_received_ans *a)
{
	uint8_t b;

	fuota_reader_expect(r, 1);
	if (fuota_read_u8(r, "Param", &b))
		return FUOTA_ERR_MALFORMED;
	a->frag_index = b & 0x03;
	return FUOTA_OK;
}

/* Maps (CID, direction, version) to a command type; false for a CID this side never receives. */
static bool cid_type(uint8_t cid, enum frag_dir dir, enum frag_version v, enum frag_cmd_type *t)
{
	bool up = dir == FRAG_UP;

	switch (cid) {
	case FRAG_CID_PACKAGE_VERSION:
		*t = up ? FRAG_CMD_PACKAGE_VERSION_ANS : FRAG_CMD_PACKAGE_VERSION_REQ;
		return true;
	case FRAG_CID_SESSION_STATUS:
		*t = up ? FRAG_CMD_SESSION_STATUS_ANS : FRAG_CMD_SESSION_STATUS_REQ;
		return true;
	case FRAG_CID_SESSION_SETUP:
		*t = up ? FRAG_CMD_SESSION_SETUP_ANS : FRAG_CMD_SESSION_SETUP_REQ;
		return true;
	case FRAG_CID_SESSION_DELETE:
		*t = up ? FRAG_CMD_SESSION_DELETE_ANS : FRAG_CMD_SESSION_DELETE_REQ;
		return true;
	case FRAG_CID_DATA_BLOCK_RECEIVED:
		if (v != FRAG_V2)
			return false;
		*t = up ? FRAG_CMD_DATA_BLOCK_RECEIVED_REQ : FRAG_CMD_DATA_BLOCK_RECEIVED_ANS;
		return true;
	case FRAG_CID_DATA_FRAGMENT:
		if (up)
			return false;
		*t = FRAG_CMD_DATA_FRAGMENT;
		return true;
	default: return false;
	}
}

int frag_cmd_decode(const uint8_t *p, size_t len, enum frag_version version, enum frag_dir dir,
                    uint32_t frag_size, struct frag_cmd *cmd, size_t *used,
                    struct fuota_parse_err *err)
{
	struct fuota_reader r;
	uint8_t cid;
	int rc;

	/* Clears *err and takes the CID; an empty payload is reported once the arguments are
	 * known to be valid. */
	rc = fuota_reader_begin(&r, p, len, 0, err, &cid);
	if ((!p && len) || !cmd || !used || (version != FRAG_V1 && version != FRAG_V2) ||
	    (dir != FRAG_DOWN && dir != FRAG_UP) || frag_size > 255)
		return FUOTA_ERR_INVALID_ARG;
	if (rc != FUOTA_OK)
		return rc;
	memset(cmd, 0, sizeof(*cmd));
	if (!cid_type(cid, dir, version, &cmd->type)) {
		fuota_reader_command(&r, NULL,
		                     version == FRAG_V1 && cid == FRAG_CID_DATA_BLOCK_RECEIVED
		                             ? "FragDataBlockReceived is a v2-only command"
		                             : "unknown command for this direction and version");
		return FUOTA_ERR_MALFORMED;
	}
	fuota_reader_command(&r, frag_cmd_name(cmd->type), NULL);
	switch (cmd->type) {
	case FRAG_CMD_PACKAGE_VERSION_REQ: rc = FUOTA_OK; break;
	case FRAG_CMD_PACKAGE_VERSION_ANS: rc = dec_version_ans(&r, &cmd->u.version_ans); break;
	case FRAG_CMD_SESSION_STATUS_REQ: rc = dec_status_req(&r, &cmd->u.status_req); break;
	case FRAG_CMD_SESSION_STATUS_ANS:
		rc = dec_status_ans(&r, version, &cmd->u.status_ans);
		break;
	case FRAG_CMD_SESSION_SETUP_REQ: rc = dec_setup_req(&r, version, &cmd->u.setup_req); break;
	case FRAG_CMD_SESSION_SETUP_ANS: rc = dec_setup_ans(&r, version, &cmd->u.setup_ans); break;
	case FRAG_CMD_SESSION_DELETE_REQ: rc = dec_delete_req(&r, &cmd->u.delete_req); break;
	case FRAG_CMD_SESSION_DELETE_ANS: rc = dec_delete_ans(&r, &cmd->u.delete_ans); break;
	case FRAG_CMD_DATA_FRAGMENT:
		rc = dec_data_fragment(&r, frag_size, &cmd->u.data_fragment);
		break;
	case FRAG_CMD_DATA_BLOCK_RECEIVED_REQ:
		rc = dec_block_received_req(&r, &cmd->u.block_received_req);
		break;
	case FRAG_CMD_DATA_BLOCK_RECEIVED_ANS:
		rc = dec_block_received_ans(&r, &cmd->u.block_received_ans);
		break;
	default: rc = FUOTA_ERR_MALFORMED; break;
	}
	if (rc != FUOTA_OK)
		return rc;
	*used = r.pos;
	return FUOTA_OK;
}

/* ---- encoding ---------------------------------------------------------------------------- */

/* Payload length (after the CID) of a command we are about to write. */
static size_t enc_len(const struct frag_cmd *cmd, enum frag_version v)
{
	switch (cmd->type) {
	case FRAG_CMD_PACKAGE_VERSION_REQ: return 0;
	case FRAG_CMD_PACKAGE_VERSION_ANS: return 2;
	case FRAG_CMD_SESSION_STATUS_ANS: return FRAG_STATUS_ANS_LEN;
	case FRAG_CMD_SESSION_SETUP_REQ:
		return v == FRAG_V2 ? FRAG_SETUP_REQ_LEN_V2 : FRAG_SETUP_REQ_LEN_V1;
	case FRAG_CMD_DATA_FRAGMENT:
		return FRAG_DATA_FRAGMENT_HDR + cmd->u.data_fragment.payload_len;
	default: return 1;
	}
}

/* Range checks of our own values; false = FUOTA_ERR_INVALID_ARG. */
static bool enc_valid(const struct frag_cmd *cmd, enum frag_version v)
{
	const struct frag_setup_req *s = &cmd->u.setup_req;
	const struct frag_data_fragment *f = &cmd->u.data_fragment;
	bool v1 = v == FRAG_V1;

	switch (cmd->type) {
	case FRAG_CMD_PACKAGE_VERSION_REQ:
	case FRAG_CMD_PACKAGE_VERSION_ANS: return true;
	case FRAG_CMD_SESSION_STATUS_REQ: return cmd->u.status_req.frag_index <= 3;
	case FRAG_CMD_SESSION_STATUS_ANS:
		return cmd->u.status_ans.frag_index <= 3 &&
		       cmd->u.status_ans.nb_received <= FRAG_MAX_N &&
		       !(v1 &&
		         (cmd->u.status_ans.mic_error || cmd->u.status_ans.session_not_exist));
	case FRAG_CMD_SESSION_SETUP_REQ:
		if (s->frag_index > 3 || s->mc_group_mask > 0x0f || s->nb_frag == 0 ||
		    s->nb_frag > FRAG_MAX_N || s->frag_size == 0 || s->padding >= s->frag_size ||
		    s->block_ack_delay > 7 || s->frag_algo > 7)
			return false;
		if (v1 && (s->ack_reception || s->session_cnt ||
		           memcmp(s->mic, (const uint8_t[FRAG_MIC_LEN]){0}, FRAG_MIC_LEN)))
			return false;
		return true;
	case FRAG_CMD_SESSION_SETUP_ANS:
		return cmd->u.setup_ans.frag_index <= 3 &&
		       !(v1 && cmd->u.setup_ans.session_cnt_replay);
	case FRAG_CMD_SESSION_DELETE_REQ: return cmd->u.delete_req.frag_index <= 3;
	case FRAG_CMD_SESSION_DELETE_ANS: return cmd->u.delete_ans.frag_index <= 3;
	case FRAG_CMD_DATA_FRAGMENT:
		return f->frag_index <= 3 && f->n >= 1 && f->n <= FRAG_MAX_N && f->payload &&
		       f->payload_len >= 1 && f->payload_len <= 255;
	case FRAG_CMD_DATA_BLOCK_RECEIVED_REQ:
		return !v1 && cmd->u.block_received_req.frag_index <= 3;
	case FRAG_CMD_DATA_BLOCK_RECEIVED_ANS:
		return !v1 && cmd->u.block_received_ans.frag_index <= 3;
	default: return false;
	}
}

static const uint8_t cids[FRAG_CMD_TYPE_COUNT] = {
        [FRAG_CMD_PACKAGE_VERSION_REQ] = FRAG_CID_PACKAGE_VERSION,
        [FRAG_CMD_PACKAGE_VERSION_ANS] = FRAG_CID_PACKAGE_VERSION,
        [FRAG_CMD_SESSION_STATUS_REQ] = FRAG_CID_SESSION_STATUS,
        [FRAG_CMD_SESSION_STATUS_ANS] = FRAG_CID_SESSION_STATUS,
        [FRAG_CMD_SESSION_SETUP_REQ] = FRAG_CID_SESSION_SETUP,
        [FRAG_CMD_SESSION_SETUP_ANS] = FRAG_CID_SESSION_SETUP,
        [FRAG_CMD_SESSION_DELETE_REQ] = FRAG_CID_SESSION_DELETE,
        [FRAG_CMD_SESSION_DELETE_ANS] = FRAG_CID_SESSION_DELETE,
        [FRAG_CMD_DATA_FRAGMENT] = FRAG_CID_DATA_FRAGMENT,
        [FRAG_CMD_DATA_BLOCK_RECEIVED_REQ] = FRAG_CID_DATA_BLOCK_RECEIVED,
        [FRAG_CMD_DATA_BLOCK_RECEIVED_ANS] = FRAG_CID_DATA_BLOCK_RECEIVED,
};

static void enc_status_ans(const struct frag_status_ans *a, enum frag_version v, uint8_t *q)
{
	uint8_t status = (uint8_t)((a->memory_error ? 0x01 : 0) | (a->mic_error ? 0x02 : 0) |
	                           (a->session_not_exist ? 0x04 : 0));
	uint16_t rai = (uint16_t)(a->nb_received | (uint16_t)(a->frag_index << 14));

	if (v == FRAG_V2) {
		q[0] = status;
		fuota_put_le16(q + 1, rai);
		q[3] = a->missing_frag;
	} else {
		fuota_put_le16(q, rai);
		q[2] = a->missing_frag;
		q[3] = status;
	}
}

static void enc_setup_req(const struct frag_setup_req *s, enum frag_version v, uint8_t *q)
{
	q[0] = (uint8_t)(s->mc_group_mask | (s->frag_index << 4));
	fuota_put_le16(q + 1, s->nb_frag);
	q[3] = s->frag_size;
	q[4] = (uint8_t)(s->block_ack_delay | (s->frag_algo << 3) | (s->ack_reception ? 0x40 : 0));
	q[5] = s->padding;
	memcpy(q + 6, s->descriptor, FRAG_DESCRIPTOR_LEN);
	if (v == FRAG_V2) {
		fuota_put_le16(q + 10, s->session_cnt);
		memcpy(q + 12, s->mic, FRAG_MIC_LEN);
	}
}

static uint8_t setup_ans_byte(const struct frag_setup_ans *a)
{
	return (uint8_t)((a->algo_unsupported ? 0x01 : 0) | (a->not_enough_memory ? 0x02 : 0) |
	                 (a->index_not_supported ? 0x04 : 0) | (a->wrong_descriptor ? 0x08 : 0) |
	                 (a->session_cnt_replay ? 0x10 : 0) | (a->frag_index << 6));
}

int frag_cmd_encode(const struct frag_cmd *cmd, enum frag_version version, uint8_t *out, size_t cap,
                    size_t *len)
{
	size_t n;
	uint8_t *q;

	if (!cmd || !out || !len || (version != FRAG_V1 && version != FRAG_V2) ||
	    (unsigned)cmd->type >= FRAG_CMD_TYPE_COUNT || !enc_valid(cmd, version))
		return FUOTA_ERR_INVALID_ARG;
	n = 1 + enc_len(cmd, version);
	if (cap < n)
		return FUOTA_ERR_NO_SPACE;
	out[0] = cids[cmd->type];
	q = out + 1;
	switch (cmd->type) {
	case FRAG_CMD_PACKAGE_VERSION_REQ: break;
	case FRAG_CMD_PACKAGE_VERSION_ANS:
		q[0] = cmd->u.version_ans.package_id;
		q[1] = cmd->u.version_ans.package_version;
		break;
	case FRAG_CMD_SESSION_STATUS_REQ:
		q[0] = (uint8_t)((cmd->u.status_req.participants ? 0x01 : 0) |
		                 (cmd->u.status_req.frag_index << 1));
		break;
	case FRAG_CMD_SESSION_STATUS_ANS: enc_status_ans(&cmd->u.status_ans, version, q); break;
	case FRAG_CMD_SESSION_SETUP_REQ: enc_setup_req(&cmd->u.setup_req, version, q); break;
	case FRAG_CMD_SESSION_SETUP_ANS: q[0] = setup_ans_byte(&cmd->u.setup_ans); break;
	case FRAG_CMD_SESSION_DELETE_REQ: q[0] = cmd->u.delete_req.frag_index; break;
	case FRAG_CMD_SESSION_DELETE_ANS:
		q[0] = (uint8_t)(cmd->u.delete_ans.frag_index |
		                 (cmd->u.delete_ans.session_not_exist ? 0x04 : 0));
		break;
	case FRAG_CMD_DATA_FRAGMENT:
		fuota_put_le16(q, (uint16_t)(cmd->u.data_fragment.n |
		                             (uint16_t)(cmd->u.data_fragment.frag_index << 14)));
		memcpy(q + 2, cmd->u.data_fragment.payload, cmd->u.data_fragment.payload_len);
		break;
	case FRAG_CMD_DATA_BLOCK_RECEIVED_REQ:
		q[0] = (uint8_t)(cmd->u.block_received_req.frag_index |
		                 (cmd->u.block_received_req.mic_error ? 0x04 : 0));
		break;
	case FRAG_CMD_DATA_BLOCK_RECEIVED_ANS: q[0] = cmd->u.block_received_ans.frag_index; break;
	default: return FUOTA_ERR_INVALID_ARG;
	}
	*len = n;
	return FUOTA_OK;
}

/* ---- walking a whole FRMPayload ---------------------------------------------------------- */

void frag_cmd_iter_init(struct frag_cmd_iter *it, const uint8_t *p, size_t len,
                        enum frag_version version, enum frag_dir dir, uint32_t frag_size)
{
	memset(it, 0, sizeof(*it));
	it->p = p;
	it->len = p ? len : 0;
	it->version = version;
	it->dir = dir;
	it->frag_size = frag_size;
}

bool frag_cmd_iter_more(const struct frag_cmd_iter *it)
{
	return it && !it->stopped && it->pos < it->len;
}

int frag_cmd_iter_next(struct frag_cmd_iter *it, struct frag_cmd *cmd)
{
	size_t used = 0;
	int rc;

	if (!it || !cmd)
		return FUOTA_ERR_INVALID_ARG;
	if (!frag_cmd_iter_more(it))
		return FUOTA_ERR_STATE;
	rc = frag_cmd_decode(it->p + it->pos, it->len - it->pos, it->version, it->dir,
	                     it->frag_size, cmd, &used, &it->err);
	it->err.offset = it->pos;
	if (rc != FUOTA_OK) {
		it->stopped = true;
		return rc;
	}
	if (cmd->type == FRAG_CMD_DATA_FRAGMENT && it->version == FRAG_V2) {
		/* v2: "the DataFragment command SHALL be the only command in a message's payload"
		 * (quoted by LBM v2, which then skips the rest of the buffer). */
		it->stopped = true;
		if (it->count > 0) {
			memset(&it->err, 0, sizeof(it->err));
			it->err.offset = it->pos;
			it->err.cid = FRAG_CID_DATA_FRAGMENT;
			it->err.command = frag_cmd_name(FRAG_CMD_DATA_FRAGMENT);
			it->err.reason = "must be the only command of its message (v2)";
			return FUOTA_ERR_MALFORMED;
		}
	}
	it->pos += used;
	it->count++;
	return FUOTA_OK;
}
