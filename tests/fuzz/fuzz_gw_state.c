/* The modem-state message and the modem-update event fuotad will read from
 * {prefix}/gateway/{id}/state/modem: whatever gw_modem_from_json accepts is written back with
 * gw_modem_to_json, read again and must be the same state. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/gw_state.h"
#include "codec_walk.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_modem_state a, b;
	struct gw_update_event ev;
	char err[128], *js = NULL;
	size_t len;

	/* The same bytes as fuota-gw's event/modem-update report. */
	if (gw_update_event_from_json((const char *)data, size, &ev, err, sizeof(err)) == FUOTA_OK)
		fuzz_check(ev.id >= 0 && ev.progress >= -1 && ev.progress <= 100 &&
		           gw_update_state_valid(ev.state) && gw_update_method_valid(ev.method) &&
		           strlen(ev.error) < sizeof(ev.error));
	if (gw_modem_from_json((const char *)data, size, &a, err, sizeof(err)) != FUOTA_OK)
		return 0;
	fuzz_check(!a.update.active || (a.update.id >= 0 && gw_update_state_valid(a.update.state) &&
	                                gw_update_method_valid(a.update.method)));
	fuzz_check(strlen(a.gateway_id) == 16 && a.reg_stat >= -1 && a.reg_stat <= 10 &&
	           a.act >= -1 && a.act <= 9 && a.csq >= 0 && a.csq <= 99);
	if (gw_modem_to_json(&a, &js, &len) != FUOTA_OK)
		abort();
	fuzz_check(gw_modem_from_json(js, len, &b, err, sizeof(err)) == FUOTA_OK);
	fuzz_check(!gw_modem_changed(&a, &b) && a.queue_depth == b.queue_depth);
	free(js);
	return 0;
}
