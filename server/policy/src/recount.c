/* What a job's phase does on its devices' counts, and when the job engine counts them again
 * (fuota/recount.h). */
#include "fuota/recount.h"

bool policy_recount_due(int64_t now_ms, int64_t read_ms, int64_t took_ms)
{
	int64_t every = took_ms > 0 ? took_ms * POLICY_RECOUNT_FACTOR : 0;

	if (every > POLICY_RECOUNT_MAX_MS)
		every = POLICY_RECOUNT_MAX_MS;
	return now_ms < read_ms || now_ms - read_ms >= every;
}

enum policy_phase_act policy_phase_act(enum engine_phase phase, const unsigned *counts,
                                       bool session_started, unsigned part, unsigned parts)
{
	switch (phase) {
	case ENGINE_PHASE_SETUP:
		if (counts[ENGINE_STEP_PENDING] + counts[ENGINE_STEP_FW_VERSION] +
		            counts[ENGINE_STEP_PKG_VERSION] + counts[ENGINE_STEP_MC_SETUP] +
		            counts[ENGINE_STEP_FRAG_SETUP] >
		    0)
			return POLICY_ACT_WAIT;
		return counts[ENGINE_STEP_READY] > 0 ? POLICY_ACT_SESSION : POLICY_ACT_CLEANUP;
	case ENGINE_PHASE_SESSION: return session_started ? POLICY_ACT_START : POLICY_ACT_WAIT;
	case ENGINE_PHASE_TRANSMIT:
		return counts[ENGINE_STEP_SESSION] > 0 ? POLICY_ACT_SEND : POLICY_ACT_STATUS;
	case ENGINE_PHASE_STATUS:
		if (counts[ENGINE_STEP_FRAG_STATUS] + counts[ENGINE_STEP_CONFIRM] > 0)
			return POLICY_ACT_WAIT;
		/* Those with this part wait, ready, for the next (engine_phase.c next_part). */
		if (part + 1 < parts && counts[ENGINE_STEP_READY] > 0)
			return POLICY_ACT_NEXT_PART;
		return POLICY_ACT_CLEANUP;
	case ENGINE_PHASE_CLEANUP:
		if (counts[ENGINE_STEP_CLEANUP] + counts[ENGINE_STEP_REBOOT] +
		            counts[ENGINE_STEP_FW_CHECK] >
		    0)
			return POLICY_ACT_WAIT;
		return POLICY_ACT_FINISH;
	default: return POLICY_ACT_NONE;
	}
}

bool policy_counts_act(enum engine_phase phase, const unsigned *counts, bool session_started)
{
	enum policy_phase_act a = policy_phase_act(phase, counts, session_started, 0, 1);

	return a != POLICY_ACT_WAIT && a != POLICY_ACT_SEND;
}
