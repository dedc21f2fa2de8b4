/* TS003 decoder harness. Byte 0 picks the direction (bit 0: uplink); the rest is one FRMPayload,
 * walked command by command. Every decoded command must re-encode to a payload that decodes to the
 * same command with the same length; the time arithmetic runs on the decoded values. */
#include "codec_walk.h"
#include "fuota/clk.h"
#include "fuota/err.h"
#include "fuzz.h"

static void exercise_time(const struct clk_cmd *c)
{
	struct clk_cmd ans;
	struct clk_dev d;
	uint32_t t;
	bool flag;
	int32_t corr;

	if (c->cid == CLK_CID_APP_TIME && c->up) {
		int64_t net_ms = (int64_t)c->u.time_req.device_time * 977;

		fuzz_check(clk_server_answer(c, net_ms, &ans, &flag) == FUOTA_OK);
		fuzz_check(ans.u.time_ans.token_ans == c->u.time_req.token_req);
		fuzz_check(clk_time_correction(net_ms, c->u.time_req.device_time, &corr) ==
		           FUOTA_OK);
		fuzz_check(corr == ans.u.time_ans.time_correction);
	}
	if (c->cid == CLK_CID_APP_TIME && !c->up) {
		fuzz_check(clk_dev_init(&d, 2) == FUOTA_OK);
		d.token_req = c->u.time_ans.token_ans;
		fuzz_check(clk_dev_on_app_time_ans(&d, c, 12345, &t, &flag) == FUOTA_OK);
		fuzz_check(t == 12345u + (uint32_t)c->u.time_ans.time_correction);
	}
	if (!c->up && c->cid != CLK_CID_APP_TIME && c->cid != CLK_CID_PACKAGE_VERSION) {
		fuzz_check(clk_dev_init(&d, 1) == FUOTA_OK);
		fuzz_check(clk_dev_on_request(&d, c) == FUOTA_OK);
	}
}

static int decode(const uint8_t *buf, size_t len, size_t *pos, bool up, int version, void *cmd,
                  struct fuota_parse_err *err)
{
	(void)version; /* one layout for v1 and v2 */
	return clk_decode(buf, len, pos, up, cmd, err);
}

static int encode(const void *cmd, uint8_t *buf, size_t cap, size_t *pos)
{
	return clk_encode(cmd, buf, cap, pos);
}

static void exercise(const void *cmd)
{
	exercise_time(cmd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_codec codec = {sizeof(struct clk_cmd), decode, encode, NULL,
	                                        exercise};
	struct clk_cmd c, again;

	if (size < 1)
		return 0;
	fuzz_walk(&codec, data + 1, size - 1, data[0] & 1, 1, &c, &again);
	return 0;
}
