/* Nor the store's private header: this must fail, store_int.h not found. */
#include "store_int.h"
