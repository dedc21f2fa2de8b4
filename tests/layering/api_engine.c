/* The API never sees the engine: this must fail, fuota/engine.h not found. */
#include "fuota/engine.h"
