/* fuota-tool decode --port 200: TS005 remote multicast setup commands as JSON. McAddr is printed
 * as 8 hex digits of its value (0x01020304 -> "01020304", sent as 04 03 02 01); keys as bytes. */
#include <inttypes.h>
#include <stdio.h>

#include "fuota/err.h"
#include "fuota/mc.h"
#include "fuota/mc_session.h"
#include "tool.h"

static const char *bool_str(bool b)
{
	return b ? "true" : "false";
}

static void print_session_req(FILE *json, const struct mc_cmd *c)
{
	const struct mc_session_req *s = &c->u.session_req;
	bool class_b = c->cid == MC_CID_CLASS_B_SESSION;

	fprintf(json, ",\"McGroupID\":%u,\"SessionTime\":%" PRIu32 ",\"TimeOut\":%u", s->group_id,
	        s->session_time, s->timeout);
	if (class_b) {
		uint32_t ping_nb = 0;

		mc_ping_nb(s->periodicity, &ping_nb);
		fprintf(json, ",\"Periodicity\":%u,\"PingNb\":%" PRIu32, s->periodicity, ping_nb);
	}
	fprintf(json, ",\"SessionSeconds\":%" PRIu64 ",\"DLFrequ_Hz\":%" PRIu32 ",\"DR\":%u",
	        (uint64_t)(class_b ? MC_BEACON_PERIOD_S : 1) << s->timeout, s->dl_freq_hz, s->dr);
}

static void print_session_ans(FILE *json, const struct mc_session_ans *a)
{
	fprintf(json,
	        ",\"McGroupID\":%u,\"DRError\":%s,\"FreqError\":%s,\"McGroupUndefined\":%s,"
	        "\"StartMissed\":%s",
	        a->group_id, bool_str(a->dr_error), bool_str(a->freq_error),
	        bool_str(a->group_undefined), bool_str(a->start_missed));
	if (a->has_time_to_start)
		fprintf(json, ",\"TimeToStart\":%" PRIu32, a->time_to_start);
}

static void print_cmd(FILE *json, const struct mc_cmd *c)
{
	char key[33];

	fprintf(json, "{\"cid\":%u,\"name\":\"%s\"", c->cid, mc_cmd_name(c->cid, c->up));
	switch (c->cid) {
	case MC_CID_PACKAGE_VERSION:
		if (c->up)
			fprintf(json, ",\"PackageIdentifier\":%u,\"PackageVersion\":%u",
			        c->u.pkg_ans.package_id, c->u.pkg_ans.version);
		break;
	case MC_CID_GROUP_STATUS:
		if (!c->up) {
			fprintf(json, ",\"RegGroupMask\":%u", c->u.status_req.reg_group_mask);
			break;
		}
		fprintf(json, ",\"AnsGroupMask\":%u,\"NbTotalGroups\":%u,\"Groups\":[",
		        c->u.status_ans.ans_group_mask, c->u.status_ans.nb_total_groups);
		for (unsigned i = 0; i < c->u.status_ans.nb_items; i++)
			fprintf(json, "%s{\"McGroupID\":%u,\"McAddr\":\"%08" PRIx32 "\"}",
			        i ? "," : "", c->u.status_ans.items[i].group_id,
			        c->u.status_ans.items[i].mc_addr);
		fputc(']', json);
		break;
	case MC_CID_GROUP_SETUP:
		if (c->up) {
			fprintf(json, ",\"McGroupID\":%u,\"IDError\":%s", c->u.setup_ans.group_id,
			        bool_str(c->u.setup_ans.id_error));
			break;
		}
		tool_hex(c->u.setup_req.mc_key_encrypted, 16, key);
		fprintf(json,
		        ",\"McGroupID\":%u,\"McAddr\":\"%08" PRIx32 "\",\"McKey_encrypted\":\"%s\","
		        "\"minMcFCount\":%" PRIu32 ",\"maxMcFCount\":%" PRIu32,
		        c->u.setup_req.group_id, c->u.setup_req.mc_addr, key,
		        c->u.setup_req.min_fcnt, c->u.setup_req.max_fcnt);
		break;
	case MC_CID_GROUP_DELETE:
		if (c->up)
			fprintf(json, ",\"McGroupID\":%u,\"McGroupUndefined\":%s",
			        c->u.delete_ans.group_id,
			        bool_str(c->u.delete_ans.group_undefined));
		else
			fprintf(json, ",\"McGroupID\":%u", c->u.delete_req.group_id);
		break;
	case MC_CID_CLASS_C_SESSION:
	case MC_CID_CLASS_B_SESSION:
		if (c->up)
			print_session_ans(json, &c->u.session_ans);
		else
			print_session_req(json, c);
		break;
	}
	fputc('}', json);
}

static int step(const uint8_t *p, size_t len, size_t *pos, int up, int version, FILE *json,
                struct fuota_parse_err *e)
{
	struct mc_cmd c;
	int rc = mc_decode(p, len, pos, up != 0, version, &c, e);

	if (rc == FUOTA_OK)
		print_cmd(json, &c);
	return rc;
}

int tool_decode_port200(const uint8_t *p, size_t len, int up, int version, FILE *json, char *err,
                        size_t errlen)
{
	return tool_decode_walk(p, len, up, version, "multicast-setup", step, json, err, errlen);
}
