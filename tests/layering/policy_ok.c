/* What the policy may see: its own headers and the pure libraries' (must compile). */
#include "fuota/engine_calc.h"
#include "fuota/engine_judge.h"
#include "fuota/plan.h"
