/* fuota-gw's saved modem-update state (modem-update.gw), read back at every start: a file cut
 * short or damaged on disk must be refused whole, never half-read. Whatever the parser accepts
 * writes back to a file that reads the same, and the start-up decision made from it keeps its
 * invariants against any manager status. */
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/gw_mu_saved.h"
#include "codec_walk.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_mu_saved s, back;
	struct gw_mu_boot b;
	struct fwu_status st = {0};
	char err[160], *js = NULL;
	size_t len;

	if (gw_mu_saved_parse((const char *)data, size, &s, err, sizeof(err)) != FUOTA_OK)
		return 0;
	fuzz_check(s.last_id >= 0 && s.cur_id >= 0);
	fuzz_check(!s.waiting || (s.cmd.action == GW_MU_START && s.cmd.method != FWU_M_UFOTA &&
	                          s.cmd.method != FWU_M_NONE));
	fuzz_check(gw_mu_saved_to_json(&s, &js, &len) == FUOTA_OK);
	fuzz_check(gw_mu_saved_parse(js, len, &back, err, sizeof(err)) == FUOTA_OK);
	fuzz_check(back.last_id == s.last_id && back.waiting == s.waiting &&
	           back.cur_method == s.cur_method && back.cur_id == s.cur_id);
	free(js);
	/* the decision against a few manager states drawn from the input */
	for (size_t i = 0; i < 4 && i < size; i++) {
		st.state = (enum fwu_state)(data[i] % FWU_S_COUNT);
		st.method = (enum fwu_method)(data[size - 1 - i] % (FWU_M_ROT + 1));
		st.seq = data[i];
		gw_mu_boot(&s, &st, 1765000000, &b);
		/* an install under way is always waited for, never dropped */
		fuzz_check(fwu_reset_allowed(st.state) || b.job != GW_MU_BOOT_NONE);
		fuzz_check(!b.paused || b.waiting);
		fuzz_check(!b.waiting || b.cmd.action == GW_MU_START);
		fuzz_check(strlen(b.state) < sizeof(b.state));
	}
	return 0;
}
