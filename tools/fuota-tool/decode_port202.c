/* fuota-tool decode --port 202: TS003 clock synchronization commands as JSON. */
#include <inttypes.h>
#include <stdio.h>

#include "fuota/clk.h"
#include "fuota/err.h"
#include "tool.h"

static void print_cmd(FILE *json, const struct clk_cmd *c, int version)
{
	fprintf(json, "{\"cid\":%u,\"name\":\"%s\"", c->cid, clk_cmd_name(c->cid, c->up, version));
	switch (c->cid) {
	case CLK_CID_PACKAGE_VERSION:
		if (c->up)
			fprintf(json, ",\"PackageIdentifier\":%u,\"PackageVersion\":%u",
			        c->u.pkg_ans.package_id, c->u.pkg_ans.version);
		break;
	case CLK_CID_APP_TIME:
		if (c->up)
			fprintf(json,
			        ",\"DeviceTime\":%" PRIu32 ",\"TokenReq\":%u,\"AnsRequired\":%s",
			        c->u.time_req.device_time, c->u.time_req.token_req,
			        c->u.time_req.ans_required ? "true" : "false");
		else
			fprintf(json,
			        ",\"TimeCorrection\":%" PRId32 ",\"TokenAns\":%u,\"Saturated\":%s",
			        c->u.time_ans.time_correction, c->u.time_ans.token_ans,
			        c->u.time_ans.time_correction == INT32_MAX ||
			                        c->u.time_ans.time_correction == INT32_MIN
			                ? "true"
			                : "false");
		break;
	case CLK_CID_PERIODICITY:
		if (c->up)
			fprintf(json, ",\"NotSupported\":%s,\"Time\":%" PRIu32,
			        c->u.period_ans.not_supported ? "true" : "false",
			        c->u.period_ans.time);
		else
			fprintf(json, ",\"Period\":%u,\"PeriodicitySeconds\":%" PRIu32,
			        c->u.period_req.period, clk_periodicity_s(c->u.period_req.period));
		break;
	case CLK_CID_FORCE_RESYNC:
		fprintf(json, ",\"NbTransmissions\":%u", c->u.force.nb_transmissions);
		break;
	}
	fputc('}', json);
}

static int step(const uint8_t *p, size_t len, size_t *pos, int up, int version, FILE *json,
                struct fuota_parse_err *e)
{
	struct clk_cmd c;
	int rc = clk_decode(p, len, pos, up != 0, &c, e);

	if (rc == FUOTA_OK)
		print_cmd(json, &c, version);
	else if (e->command) /* CID 0x03 has another name in v2 */
		e->command = clk_cmd_name(e->cid, up != 0, version);
	return rc;
}

int tool_decode_port202(const uint8_t *p, size_t len, int up, int version, FILE *json, char *err,
                        size_t errlen)
{
	return tool_decode_walk(p, len, up, version, "clock-sync", step, json, err, errlen);
}
