/* What the API may see: its own headers and the store's public ones (must compile). */
#include "api_int.h"
#include "fuota/api_decode.h"
#include "fuota/store.h"
#include "fuota/store_engine.h"
