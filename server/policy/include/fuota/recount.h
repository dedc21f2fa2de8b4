/* When the job engine counts a job's devices again (engine_phase.c, engine_tx.c). Pure.
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

/* Whether the phase's tick would act on these counts (ENGINE_STEP_COUNT of them): leave the
 * phase or end the job, rather than wait. Acting is done on fresh counts only.
 * session_started: the SESSION phase reached its session start (the tick then decides). */
bool policy_counts_act(enum engine_phase phase, const unsigned *counts, bool session_started);

#endif
