/* fuotad's commands to fuota-gw, from MQTT: command/modem-update and command/sessions. Whatever
 * either parser accepts must keep the invariants fuota-gw relies on (a positive id, a start with
 * what its method needs, windows in order and bounded), and the deferral rule must answer a
 * start no earlier than now. */
#include <string.h>

#include "fuota/err.h"
#include "fuota/gw_modem_cmd.h"
#include "codec_walk.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_mu_cmd c;
	struct gw_sessions s;
	struct gw_url u;
	char err[160];

	if (gw_mu_cmd_parse((const char *)data, size, &c, err, sizeof(err)) == FUOTA_OK) {
		fuzz_check(c.id > 0 && c.action >= GW_MU_START && c.action <= GW_MU_CANCEL);
		fuzz_check(strlen(c.md5) == 0 || strlen(c.md5) == 32);
		if (c.action == GW_MU_START && (c.method == FWU_M_HTTP || c.method == FWU_M_FTP))
			fuzz_check(gw_url_parse(c.url, &u) == FUOTA_OK && c.md5[0]);
		if (c.action == GW_MU_START && (c.method == FWU_M_FOAT || c.method == FWU_M_UART))
			fuzz_check(c.package[0] == '/');
		fuzz_check(c.action != GW_MU_START || c.method != FWU_M_NONE);
	}
	if (gw_sessions_parse((const char *)data, size, &s, err, sizeof(err)) == FUOTA_OK) {
		int64_t now = 1765000000, t = gw_mu_earliest(&s, 1800, now);

		fuzz_check(s.n <= GW_WINDOWS_MAX && s.guard_s >= 0 && s.guard_s <= 86400);
		for (size_t i = 0; i < s.n; i++) {
			fuzz_check(s.w[i].start <= s.w[i].end);
			/* the answer meets no guarded window */
			fuzz_check(t >= s.w[i].end + s.guard_s ||
			           t + 1800 <= s.w[i].start - s.guard_s);
		}
		fuzz_check(t >= now);
	}
	return 0;
}
