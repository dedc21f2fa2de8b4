/* TS005 harness. Byte 0: bit 0 direction (uplink), bit 1 package version (v2). The rest is one
 * FRMPayload walked command by command. A decoded command must re-encode (a McGroupStatusAns whose
 * items repeat a group or miss the mask may be refused) and decode back to itself; decoded session
 * requests drive the class B ping-slot and class C window computations. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/mc.h"
#include "fuota/mc_session.h"
#include "fuzz.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

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
		check(mc_classc_end(r->session_time, r->timeout, &end) == FUOTA_OK);
		check(end > (int64_t)r->session_time);
		return;
	}
	s.mc_addr = r->session_time ^ 0x5a5a5a5au;
	s.start_s = mc_classb_align(r->session_time);
	s.timeout = r->timeout;
	s.periodicity = r->periodicity;
	s.dl_freq_hz = r->dl_freq_hz;
	s.plan = (struct mc_classb_channels){8, 923300000, 600000};
	rc = mc_classb_next_slot(&s, (int64_t)r->session_time * 1000 + r->dr * 500, &slot);
	check(rc == FUOTA_OK || rc == FUOTA_ERR_NOT_FOUND);
	if (rc == FUOTA_OK) {
		check(mc_classb_end(s.start_s, s.timeout, &end) == FUOTA_OK);
		check(slot.start_ms >= s.start_s * 1000 && slot.start_ms < end * 1000);
		check(slot.start_ms > (int64_t)r->session_time * 1000 + r->dr * 500);
		check((slot.start_ms - slot.beacon_time_s * 1000 - MC_BEACON_RESERVED_MS) %
		              MC_PING_SLOT_MS ==
		      0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool up;
	int version;
	size_t pos = 0;

	if (size < 1)
		return 0;
	up = data[0] & 1;
	version = data[0] & 2 ? 2 : 1;
	data++;
	size--;
	while (pos < size) {
		struct mc_cmd c, again;
		struct fuota_parse_err err;
		uint8_t buf[32];
		size_t before = pos, n = 0, rpos = 0;
		int rc = mc_decode(data, size, &pos, up, version, &c, &err);

		if (rc != FUOTA_OK) {
			check(pos == before);
			check(rc == FUOTA_ERR_MALFORMED || rc == FUOTA_ERR_UNSUPPORTED);
			check(rc != FUOTA_ERR_MALFORMED ||
			      (err.command && err.field && err.left < err.need));
			break;
		}
		check(pos > before && pos <= size);
		rc = mc_encode(&c, buf, sizeof(buf), &n);
		if (rc == FUOTA_ERR_INVALID_ARG && c.cid == MC_CID_GROUP_STATUS && c.up)
			continue;
		check(rc == FUOTA_OK);
		check(n == pos - before);
		check(mc_decode(buf, n, &rpos, up, version, &again, NULL) == FUOTA_OK);
		check(rpos == n && memcmp(&c, &again, sizeof(c)) == 0);
		exercise_session(&c);
	}
	return 0;
}
