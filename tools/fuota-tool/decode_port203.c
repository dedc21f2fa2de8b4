/* fuota-tool decode --port 203: TS006 firmware management commands as JSON. */
#include <inttypes.h>
#include <stdio.h>

#include "fuota/err.h"
#include "fuota/fmp.h"
#include "tool.h"

static const char *image_status_name(uint8_t s)
{
	static const char *const names[] = {"NoFirmwarePresent", "CorruptOrInvalidSignature",
	                                    "IncorrectHardware", "Valid"};

	return names[s & 0x03];
}

static const char *bool_str(bool b)
{
	return b ? "true" : "false";
}

static void print_cmd(FILE *json, const struct fmp_cmd *c)
{
	fprintf(json, "{\"cid\":%u,\"name\":\"%s\"", c->cid, fmp_cmd_name(c->cid, c->up));
	switch (c->cid) {
	case FMP_CID_PACKAGE_VERSION:
		if (c->up)
			fprintf(json, ",\"PackageIdentifier\":%u,\"PackageVersion\":%u",
			        c->u.pkg_ans.package_id, c->u.pkg_ans.version);
		break;
	case FMP_CID_DEV_VERSION:
		if (c->up)
			fprintf(json, ",\"FWversion\":%" PRIu32 ",\"HWversion\":%" PRIu32,
			        c->u.version_ans.fw_version, c->u.version_ans.hw_version);
		break;
	case FMP_CID_DEV_REBOOT_TIME:
		fprintf(json, ",\"RebootTime\":%" PRIu32 ",\"Cancel\":%s", c->u.reboot_time,
		        bool_str(c->u.reboot_time == FMP_REBOOT_TIME_CANCEL));
		break;
	case FMP_CID_DEV_REBOOT_COUNTDOWN:
		fprintf(json, ",\"Countdown\":%" PRIu32 ",\"Cancel\":%s", c->u.countdown,
		        bool_str(c->u.countdown == FMP_COUNTDOWN_CANCEL));
		break;
	case FMP_CID_DEV_UPGRADE_IMAGE:
		if (!c->up)
			break;
		fprintf(json, ",\"UpImageStatus\":%u,\"UpImageStatusName\":\"%s\"",
		        c->u.upgrade_ans.status, image_status_name(c->u.upgrade_ans.status));
		if (c->u.upgrade_ans.status == FMP_IMAGE_VALID)
			fprintf(json, ",\"nextFirmwareVersion\":%" PRIu32,
			        c->u.upgrade_ans.next_fw_version);
		break;
	case FMP_CID_DEV_DELETE_IMAGE:
		if (c->up)
			fprintf(json, ",\"ErrorNoValidImage\":%s,\"ErrorInvalidVersion\":%s",
			        bool_str(c->u.delete_ans.error_no_valid_image),
			        bool_str(c->u.delete_ans.error_invalid_version));
		else
			fprintf(json, ",\"FirmwareToDeleteVersion\":%" PRIu32, c->u.delete_version);
		break;
	}
	fputc('}', json);
}

static int step(const uint8_t *p, size_t len, size_t *pos, int up, int version, FILE *json,
                struct fuota_parse_err *e)
{
	struct fmp_cmd c;
	int rc = fmp_decode(p, len, pos, up != 0, &c, e);

	(void)version; /* checked once by tool_decode_port203 */
	if (rc == FUOTA_OK)
		print_cmd(json, &c);
	return rc;
}

int tool_decode_port203(const uint8_t *p, size_t len, int up, int version, FILE *json, char *err,
                        size_t errlen)
{
	if (version != 1) {
		snprintf(err, errlen, "firmware management (port 203) has only version 1");
		return -1;
	}
	return tool_decode_walk(p, len, up, version, "firmware-management", step, json, err,
	                        errlen);
}
