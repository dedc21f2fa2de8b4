/* TS003 decoder harness. Byte 0 picks the direction (bit 0: uplink); the rest is one FRMPayload,
 * walked command by command. Every decoded command must re-encode to a payload that decodes to the
 * same command with the same length; the time arithmetic runs on the decoded values. */
#include <stdlib.h>
#include <string.h>

#include "fuota/clk.h"
#include "fuota/err.h"
#include "fuzz.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void exercise_time(const struct clk_cmd *c)
{
	struct clk_cmd ans;
	struct clk_dev d;
	uint32_t t;
	bool flag;
	int32_t corr;

	if (c->cid == CLK_CID_APP_TIME && c->up) {
		int64_t net_ms = (int64_t)c->u.time_req.device_time * 977;

		check(clk_server_answer(c, net_ms, &ans, &flag) == FUOTA_OK);
		check(ans.u.time_ans.token_ans == c->u.time_req.token_req);
		check(clk_time_correction(net_ms, c->u.time_req.device_time, &corr) == FUOTA_OK);
		check(corr == ans.u.time_ans.time_correction);
	}
	if (c->cid == CLK_CID_APP_TIME && !c->up) {
		check(clk_dev_init(&d, 2) == FUOTA_OK);
		d.token_req = c->u.time_ans.token_ans;
		check(clk_dev_on_app_time_ans(&d, c, 12345, &t, &flag) == FUOTA_OK);
		check(t == 12345u + (uint32_t)c->u.time_ans.time_correction);
	}
	if (!c->up && c->cid != CLK_CID_APP_TIME && c->cid != CLK_CID_PACKAGE_VERSION) {
		check(clk_dev_init(&d, 1) == FUOTA_OK);
		check(clk_dev_on_request(&d, c) == FUOTA_OK);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool up;
	size_t pos = 0;

	if (size < 1)
		return 0;
	up = data[0] & 1;
	data++;
	size--;
	while (pos < size) {
		struct clk_cmd c, again;
		struct fuota_parse_err err;
		uint8_t buf[16];
		size_t before = pos, n = 0, rpos = 0;
		int rc = clk_decode(data, size, &pos, up, &c, &err);

		if (rc != FUOTA_OK) {
			check(pos == before);
			check(rc == FUOTA_ERR_MALFORMED || rc == FUOTA_ERR_UNSUPPORTED);
			check(rc != FUOTA_ERR_MALFORMED ||
			      (err.command && err.field && err.left < err.need));
			break;
		}
		check(pos > before && pos <= size);
		check(clk_encode(&c, buf, sizeof(buf), &n) == FUOTA_OK);
		check(n == pos - before);
		check(clk_decode(buf, n, &rpos, up, &again, NULL) == FUOTA_OK);
		check(rpos == n && memcmp(&c, &again, sizeof(c)) == 0);
		exercise_time(&c);
	}
	return 0;
}
