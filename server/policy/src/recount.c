/* When the job engine counts a job's devices again (fuota/recount.h). */
#include "fuota/recount.h"

bool policy_recount_due(int64_t now_ms, int64_t read_ms, int64_t took_ms)
{
	int64_t every = took_ms > 0 ? took_ms * POLICY_RECOUNT_FACTOR : 0;

	if (every > POLICY_RECOUNT_MAX_MS)
		every = POLICY_RECOUNT_MAX_MS;
	return now_ms < read_ms || now_ms - read_ms >= every;
}

bool policy_counts_act(enum engine_phase phase, const unsigned *counts, bool session_started)
{
	switch (phase) {
	case ENGINE_PHASE_SETUP:
		return counts[ENGINE_STEP_PENDING] + counts[ENGINE_STEP_FW_VERSION] +
		               counts[ENGINE_STEP_PKG_VERSION] + counts[ENGINE_STEP_MC_SETUP] +
		               counts[ENGINE_STEP_FRAG_SETUP] ==
		       0;
	case ENGINE_PHASE_SESSION: return session_started;
	case ENGINE_PHASE_TRANSMIT: return counts[ENGINE_STEP_SESSION] == 0;
	case ENGINE_PHASE_STATUS:
		return counts[ENGINE_STEP_FRAG_STATUS] + counts[ENGINE_STEP_CONFIRM] == 0;
	case ENGINE_PHASE_CLEANUP:
		return counts[ENGINE_STEP_CLEANUP] + counts[ENGINE_STEP_REBOOT] +
		               counts[ENGINE_STEP_FW_CHECK] ==
		       0;
	default: return true;
	}
}
