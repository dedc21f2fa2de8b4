/* The too-late rule (gw_sched.h). */
#include "fuota/gw_sched.h"

int gw_too_late(const struct sudp_txpk *tx, const struct gw_timeref *ref, int64_t now_mono_us,
                int64_t carry_us)
{
	int64_t ahead_us; /* how far ahead of now the emission is */

	if (tx->imme)
		return 0;
	if (tx->has_tmst) {
		if (!ref->has_tmst)
			return 0;
		uint32_t counter_now = ref->tmst + (uint32_t)(now_mono_us - ref->tmst_mono_us);
		ahead_us = (int32_t)(tx->tmst - counter_now);
	} else if (tx->has_tmms) {
		if (!ref->has_gps)
			return 0;
		ahead_us = (int64_t)tx->tmms * 1000 - (now_mono_us + ref->gps_minus_mono_us);
	} else {
		return 0;
	}
	return ahead_us < carry_us;
}
