/* TS005 harness. Byte 0: bit 0 direction (uplink), bit 1 package version (v2). The rest is one
 * FRMPayload walked command by command. A decoded command must re-encode (a McGroupStatusAns whose
 * items repeat a group or miss the mask may be refused) and decode back to itself; decoded session
 * requests drive the class B ping-slot and class C window computations. */
#include "codec_walk.h"
#include "fuota/err.h"
#include "fuota/mc.h"
#include "fuota/mc_session.h"
#include "fuzz.h"

static void exercise_session(const struct mc_cmd *c)
{
	const struct mc_session_req *r = &c->u.session_req;
	struct mc_classb_session s = {0};
	struct mc_slot slot;
	int64_t end;
	int rc;

	if (c->up || (c->cid != MC_CID_CLASS_B_SESSION && c->cid != MC_CID_CLASS_C_SESSION))
		return;
	if (c->cid == MC_CID_CLASS_C_SESSION) {
		fuzz_check(mc_classc_end(r->session_time, r->timeout, &end) == FUOTA_OK);
		fuzz_check(end > (int64_t)r->session_time);
		return;
	}
	s.mc_addr = r->session_time ^ 0x5a5a5a5au;
	s.start_s = mc_classb_align(r->session_time);
	s.timeout = r->timeout;
	s.periodicity = r->periodicity;
	s.dl_freq_hz = r->dl_freq_hz;
	s.plan = (struct mc_classb_channels){8, 923300000, 600000};
	rc = mc_classb_next_slot(&s, (int64_t)r->session_time * 1000 + r->dr * 500, &slot);
	fuzz_check(rc == FUOTA_OK || rc == FUOTA_ERR_NOT_FOUND);
	if (rc == FUOTA_OK) {
		fuzz_check(mc_classb_end(s.start_s, s.timeout, &end) == FUOTA_OK);
		fuzz_check(slot.start_ms >= s.start_s * 1000 && slot.start_ms < end * 1000);
		fuzz_check(slot.start_ms > (int64_t)r->session_time * 1000 + r->dr * 500);
		fuzz_check((slot.start_ms - slot.beacon_time_s * 1000 - MC_BEACON_RESERVED_MS) %
		                   MC_PING_SLOT_MS ==
		           0);
	}
}

static int decode(const uint8_t *buf, size_t len, size_t *pos, bool up, int version, void *cmd,
                  struct fuota_parse_err *err)
{
	return mc_decode(buf, len, pos, up, version, cmd, err);
}

static int encode(const void *cmd, uint8_t *buf, size_t cap, size_t *pos)
{
	return mc_encode(cmd, buf, cap, pos);
}

/* The decoder walks McGroupStatusAns items by count; the encoder refuses items that repeat a
 * group or are missing from AnsGroupMask. */
static bool may_refuse(const void *cmd, int rc)
{
	const struct mc_cmd *c = cmd;

	return rc == FUOTA_ERR_INVALID_ARG && c->cid == MC_CID_GROUP_STATUS && c->up;
}

static void exercise(const void *cmd)
{
	exercise_session(cmd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_codec codec = {sizeof(struct mc_cmd), decode, encode, may_refuse,
	                                        exercise};
	struct mc_cmd c, again;

	if (size < 1)
		return 0;
	fuzz_walk(&codec, data + 1, size - 1, data[0] & 1, data[0] & 2 ? 2 : 1, &c, &again);
	return 0;
}
