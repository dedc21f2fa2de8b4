/* The policy is pure: the store is out of its reach, fuota/store.h not found. */
#include "fuota/store.h"
