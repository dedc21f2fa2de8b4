/* A JSON gw.DownlinkFrame from the broker, as fuota-sim's JSON gateways read it
 * (tools/fuota-sim/sim_gwjson.c). What parses must survive a trip through the protobuf writer and
 * reader (cs_msg.h) unchanged. */
#include <stdlib.h>
#include <string.h>

#include "fuota/cs_msg.h"
#include "fuota/err.h"
#include "fuzz.h"
#include "sim_gwjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_gw_downlink d, back;
	char err[128];
	uint8_t *bin = NULL;
	size_t len = 0;

	(void)sim_gw_payload_is_json(data, size);
	if (sim_gw_downlink_from_json((const char *)data, size, &d, err, sizeof(err)) != FUOTA_OK)
		return 0;
	if (cs_gw_downlink_to_proto(&d, &bin, &len) != FUOTA_OK)
		return 0;
	if (cs_gw_downlink_from_proto(bin, len, &back, err, sizeof(err)) != FUOTA_OK ||
	    back.downlink_id != d.downlink_id || strcmp(back.gateway_id, d.gateway_id) ||
	    back.phy_len != d.phy_len || memcmp(back.phy, d.phy, d.phy_len) ||
	    back.frequency != d.frequency || back.fsk != d.fsk || back.timing != d.timing ||
	    back.timing_ns != d.timing_ns || back.context_len != d.context_len)
		abort();
	free(bin);
	return 0;
}
