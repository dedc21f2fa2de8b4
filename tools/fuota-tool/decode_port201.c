/* fuota-tool decode --port 201: every TS004 command of one FRMPayload as a JSON object, through
 * the frag_cmd walker (the session FragSize is unknown here, so a DataFragment takes the rest of
 * the payload). */
#include <stdio.h>

#include "fuota/err.h"
#include "fuota/frag_cmd.h"
#include "tool.h"

static const char *jbool(bool b)
{
	return b ? "true" : "false";
}

static void put_hex(FILE *json, const char *key, const uint8_t *p, size_t len)
{
	char hex[2 * 255 + 1];

	tool_hex(p, len, hex);
	fprintf(json, ",\"%s\":\"%s\"", key, hex);
}

static void put_setup_req(FILE *json, const struct frag_setup_req *q, bool v2)
{
	fprintf(json,
	        ",\"frag_index\":%u,\"mc_group_bit_mask\":%u,\"nb_frag\":%u,\"frag_size\":%u,"
	        "\"block_ack_delay\":%u,\"frag_algo\":%u",
	        q->frag_index, q->mc_group_mask, q->nb_frag, q->frag_size, q->block_ack_delay,
	        q->frag_algo);
	if (v2)
		fprintf(json, ",\"ack_reception\":%s", jbool(q->ack_reception));
	fprintf(json, ",\"padding\":%u", q->padding);
	put_hex(json, "descriptor", q->descriptor, sizeof(q->descriptor));
	if (v2) {
		fprintf(json, ",\"session_cnt\":%u", q->session_cnt);
		put_hex(json, "mic", q->mic, sizeof(q->mic));
	}
}

static void put_setup_ans(FILE *json, const struct frag_setup_ans *a, bool v2)
{
	bool ok = !a->algo_unsupported && !a->not_enough_memory && !a->index_not_supported &&
	          !a->wrong_descriptor && !a->session_cnt_replay;

	fprintf(json,
	        ",\"frag_index\":%u,\"encoding_unsupported\":%s,\"not_enough_memory\":%s,"
	        "\"frag_session_index_not_supported\":%s,\"wrong_descriptor\":%s",
	        a->frag_index, jbool(a->algo_unsupported), jbool(a->not_enough_memory),
	        jbool(a->index_not_supported), jbool(a->wrong_descriptor));
	if (v2)
		fprintf(json, ",\"session_cnt_replay\":%s", jbool(a->session_cnt_replay));
	fprintf(json, ",\"accepted\":%s", jbool(ok));
}

static void put_status_ans(FILE *json, const struct frag_status_ans *a, bool v2)
{
	fprintf(json, ",\"frag_index\":%u,\"nb_frag_received\":%u,\"missing_frag\":%u",
	        a->frag_index, a->nb_received, a->missing_frag);
	if (v2)
		fprintf(json, ",\"memory_error\":%s,\"mic_error\":%s,\"session_does_not_exist\":%s",
		        jbool(a->memory_error), jbool(a->mic_error), jbool(a->session_not_exist));
	else
		fprintf(json, ",\"not_enough_matrix_memory\":%s", jbool(a->memory_error));
}

static void put_cmd(FILE *json, const struct frag_cmd *c, bool v2, uint8_t cid)
{
	fprintf(json, "{\"cid\":%u,\"name\":\"%s\"", cid, frag_cmd_name(c->type));
	switch (c->type) {
	case FRAG_CMD_PACKAGE_VERSION_REQ: break;
	case FRAG_CMD_PACKAGE_VERSION_ANS:
		fprintf(json, ",\"package_identifier\":%u,\"package_version\":%u",
		        c->u.version_ans.package_id, c->u.version_ans.package_version);
		break;
	case FRAG_CMD_SESSION_STATUS_REQ:
		fprintf(json, ",\"participants\":%s,\"frag_index\":%u",
		        jbool(c->u.status_req.participants), c->u.status_req.frag_index);
		break;
	case FRAG_CMD_SESSION_STATUS_ANS: put_status_ans(json, &c->u.status_ans, v2); break;
	case FRAG_CMD_SESSION_SETUP_REQ: put_setup_req(json, &c->u.setup_req, v2); break;
	case FRAG_CMD_SESSION_SETUP_ANS: put_setup_ans(json, &c->u.setup_ans, v2); break;
	case FRAG_CMD_SESSION_DELETE_REQ:
		fprintf(json, ",\"frag_index\":%u", c->u.delete_req.frag_index);
		break;
	case FRAG_CMD_SESSION_DELETE_ANS:
		fprintf(json, ",\"frag_index\":%u,\"session_does_not_exist\":%s",
		        c->u.delete_ans.frag_index, jbool(c->u.delete_ans.session_not_exist));
		break;
	case FRAG_CMD_DATA_FRAGMENT:
		fprintf(json, ",\"frag_index\":%u,\"n\":%u,\"payload_len\":%zu",
		        c->u.data_fragment.frag_index, c->u.data_fragment.n,
		        c->u.data_fragment.payload_len);
		put_hex(json, "payload", c->u.data_fragment.payload,
		        c->u.data_fragment.payload_len);
		break;
	case FRAG_CMD_DATA_BLOCK_RECEIVED_REQ:
		fprintf(json, ",\"frag_index\":%u,\"mic_error\":%s",
		        c->u.block_received_req.frag_index,
		        jbool(c->u.block_received_req.mic_error));
		break;
	case FRAG_CMD_DATA_BLOCK_RECEIVED_ANS:
		fprintf(json, ",\"frag_index\":%u", c->u.block_received_ans.frag_index);
		break;
	default: break;
	}
	fputc('}', json);
}

int tool_decode_port201(const uint8_t *p, size_t len, int up, int version, FILE *json, char *err,
                        size_t errlen)
{
	struct frag_cmd_iter it;
	struct frag_cmd cmd;
	enum frag_version v = version == 2 ? FRAG_V2 : FRAG_V1;

	if (version != 1 && version != 2) {
		snprintf(err, errlen, "TS004 has versions 1 and 2, not %d", version);
		return -1;
	}
	frag_cmd_iter_init(&it, p, len, v, up ? FRAG_UP : FRAG_DOWN, 0);
	while (frag_cmd_iter_more(&it)) {
		size_t at = it.pos;

		if (frag_cmd_iter_next(&it, &cmd) != FUOTA_OK) {
			fuota_parse_err_format(&it.err, err, errlen);
			return -1;
		}
		if (it.count > 1)
			fputc(',', json);
		put_cmd(json, &cmd, v == FRAG_V2, p[at]);
	}
	return 0;
}
