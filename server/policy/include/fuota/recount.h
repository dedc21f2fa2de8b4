/* What a job's phase does on its devices' counts, and when the job engine counts them again
 * (engine_phase.c, engine_tx.c). Pure.
 *
 * The counts are GROUP BYs over the job's job_device rows: 50-140 ms at 100,000 devices, more
 * than a GPS-timed frame's lead leaves when they run before every frame. The engine keeps the
 * last counts of each job in memory and reads them again when they are older than
 * POLICY_RECOUNT_FACTOR times what the last read took (so a small job is counted at every tick,
 * as before), at most POLICY_RECOUNT_MAX_MS, and whenever they would make the job act. Within a
 * phase the counts the engine waits on only fall (devices leave a step, answer, report their
 * block), so old counts can only make it wait a little longer, never act too soon. */
#ifndef FUOTA_RECOUNT_H
#define FUOTA_RECOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "fuota/engine_calc.h"

#define POLICY_RECOUNT_FACTOR 20
#define POLICY_RECOUNT_MAX_MS 5000

/* Whether counts read at read_ms, a read that took took_ms, are to be read again at now_ms
 * (a clock that went back: yes). */
bool policy_recount_due(int64_t now_ms, int64_t read_ms, int64_t took_ms);

/* What a job's tick does in its phase, given its devices by step (engine_phase.c acts on it). */
enum policy_phase_act {
	POLICY_ACT_NONE = 0,  /* a phase with nothing to decide (done) */
	POLICY_ACT_WAIT,      /* devices are still in the phase's steps, or the session start has
	                         not come */
	POLICY_ACT_SESSION,   /* setup over with devices ready: fix the session (-> session) */
	POLICY_ACT_START,     /* the session start has come: move it or start sending */
	POLICY_ACT_SEND,      /* transmit: frames go on (the transmission decides when it ends) */
	POLICY_ACT_STATUS,    /* transmit with nobody left in the session (-> status) */
	POLICY_ACT_NEXT_PART, /* status over, a part before the last, devices ready for the next */
	POLICY_ACT_CLEANUP,   /* setup over with nobody ready, or status over (-> cleanup) */
	POLICY_ACT_FINISH,    /* cleanup over: the job ends */
};

/* The phase's act on counts (ENGINE_STEP_COUNT of them): setup waits while a device is in
 * pending, fw_version, pkg_version, mc_setup or frag_setup; status while one is in frag_status
 * or confirm; cleanup while one is in cleanup, reboot or fw_check. session_started: the
 * SESSION phase reached its session start. part (0-based) of parts: the image's part whose
 * sessions run (fuota/plan_parts.h). */
enum policy_phase_act policy_phase_act(enum engine_phase phase, const unsigned *counts,
                                       bool session_started, unsigned part, unsigned parts);

/* Whether the phase's tick would act on these counts: policy_phase_act is neither WAIT nor SEND
 * (leave the phase, end the job, or decide at the session start). Acting is done on fresh counts
 * only. */
bool policy_counts_act(enum engine_phase phase, const unsigned *counts, bool session_started);

#endif
