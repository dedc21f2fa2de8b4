/* fuota-sim's device logic fed with arbitrary downlinks: the input is a sequence of records
 * kind (1) | len (1) | bytes (len); kind % 4 selects port 200, 201, 202 or a multicast PHYPayload.
 * The device first gets a multicast group and a fragmentation session so that the deeper paths
 * (DataFragment, session requests, status) are reachable: bit 0 of the first byte picks TS004 v1
 * or v2, bit 1 a whole image (all-zero Descriptor) or part 1 of an image in 2 parts (F = 1027),
 * whose assembly (image store, more parts set up by the input) is then fuzzed too. Checks: no
 * crash, no over-read, and the uplinks it builds stay within SIM_UL_MAX. */
#include <string.h>

#include "fuota/err.h"
#include "fuota/lw_region.h"
#include "fuzz.h"
#include "sim_dev.h"

#define T0_MS (INT64_C(1436486418) * 1000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_dev_cfg c;
	memset(&c, 0, sizeof(c));
	c.dev_eui = 1;
	c.clk_version = c.mc_version = c.frag_version = size > 0 && (data[0] & 1) ? 1 : 2;
	c.region = lw_region_find("EU868");
	c.mem_limit = 1 << 16;
	struct sim_dev d;
	if (sim_dev_init(&d, &c, T0_MS) != FUOTA_OK)
		return 0;
	/* McGroupSetupReq group 0, McAddr 01020304, window [0, 0xffffffff]. */
	static const uint8_t setup[] = {0x02, 0x00, 0x04, 0x03, 0x02, 0x01, 1,    2,    3,    4,
	                                5,    6,    7,    8,    9,    10,   11,   12,   13,   14,
	                                15,   16,   0,    0,    0,    0,    0xff, 0xff, 0xff, 0xff};
	sim_dev_downlink(&d, T0_MS, 200, setup, sizeof(setup));
	/* FragSessionSetupReq (v1 layout, the v2 tail follows for v2 devices): M = 8, S = 16. */
	uint8_t frag[] = {0x02, 0x01, 0x08, 0x00, 0x10, 0x00, 0x00, 1, 2, 3, 4, 1, 0, 0, 0, 0, 0};
	if (size > 0 && (data[0] & 2))
		memset(frag + 7, 0, 4);
	sim_dev_downlink(&d, T0_MS, 201, frag, c.frag_version == 2 ? sizeof(frag) : 11);
	int64_t now = T0_MS;
	size_t pos = 0;
	while (pos + 2 <= size) {
		uint8_t kind = data[pos];
		size_t len = data[pos + 1];
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		const uint8_t *p = data + pos;
		pos += len;
		now += 1000;
		switch (kind % 4) {
		case 0: sim_dev_downlink(&d, now, 200, p, len); break;
		case 1: sim_dev_downlink(&d, now, 201, p, len); break;
		case 2: sim_dev_downlink(&d, now, 202, p, len); break;
		default: sim_dev_multicast(&d, now, 869525000, p, len); break;
		}
		sim_dev_tick(&d, now);
		struct sim_uplink ul;
		if (sim_dev_uplink(&d, now + 20000, true, &ul) && ul.len > SIM_UL_MAX)
			__builtin_trap();
	}
	struct sim_dev_report r;
	sim_dev_get_report(&d, now, &r);
	sim_dev_free(&d);
	return 0;
}
