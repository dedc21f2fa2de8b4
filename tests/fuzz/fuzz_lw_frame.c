/* Feeds arbitrary bytes to the LoRaWAN data-frame parser and, when it accepts them, to the MIC
 * check and the decryption with fixed keys; a frame that verifies must decrypt and rebuild to the
 * same bytes. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/lw_frame.h"
#include "fuzz.h"

static const uint8_t app_s_key[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
static const uint8_t nwk_s_key[16] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pl[LW_PHY_MAX_LEN], again[LW_PHY_MAX_LEN];
	struct lw_frame f;
	size_t n = 0, m = 0;
	uint32_t fc = 0;
	bool ok = false;

	if (lw_frame_parse(data, size, &f) != FUOTA_OK)
		return 0;
	if (f.msg_len + LW_MIC_LEN != size || f.fopts_len > LW_FOPTS_MAX ||
	    (f.fopts_len && f.fopts + f.fopts_len > data + size) ||
	    (f.frm_payload_len && f.frm_payload + f.frm_payload_len > data + size - LW_MIC_LEN))
		abort();
	fc = lw_fcnt32(0, f.fcnt16);
	if (lw_frame_mic_check(&f, fc, nwk_s_key, &ok) != FUOTA_OK)
		abort();
	if (lw_frame_decrypt(&f, fc, app_s_key, nwk_s_key, pl, sizeof(pl), &n) != FUOTA_OK ||
	    n != f.frm_payload_len)
		abort();
	if (ok) {
		struct lw_frame_tx tx = {.mtype = f.mtype,
		                         .dev_addr = f.dev_addr,
		                         .fctrl = f.fctrl,
		                         .fcnt = fc,
		                         .fopts = f.fopts,
		                         .fopts_len = f.fopts_len,
		                         .has_fport = f.has_fport,
		                         .fport = f.fport,
		                         .payload = pl,
		                         .payload_len = n};

		/* MHDR RFU bits are not rebuilt; compare from byte 1 only. */
		if (lw_frame_build(&tx, app_s_key, nwk_s_key, again, sizeof(again), &m) !=
		            FUOTA_OK ||
		    m != size || memcmp(again + 1, data + 1, size - 1) != 0)
			abort();
	}
	return 0;
}
