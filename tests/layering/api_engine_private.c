/* Nor the engine's private headers: this must fail, engine_int.h not found. */
#include "engine_int.h"
