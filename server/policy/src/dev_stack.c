/* Device stacks (see fuota/dev_stack.h). */
#include <string.h>

#include "fuota/dev_stack.h"

static const char *const names[] = {
        [DEV_STACK_TS004] = "ts004",
        [DEV_STACK_LORAMAC_NODE] = "loramac-node",
        [DEV_STACK_LBM] = "lbm",
};

int dev_stack_parse(const char *name, enum dev_stack *out)
{
	if (!name || !name[0]) {
		*out = DEV_STACK_TS004;
		return 0;
	}
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum dev_stack)i;
			return 0;
		}
	}
	return -1;
}

const char *dev_stack_name(enum dev_stack s)
{
	if ((unsigned)s >= sizeof(names) / sizeof(names[0]))
		return "ts004";
	return names[s];
}

uint32_t dev_stack_frag_limit(enum dev_stack s, int64_t max_frags)
{
	if (max_frags > 0)
		return max_frags > UINT32_MAX ? UINT32_MAX : (uint32_t)max_frags;
	return s == DEV_STACK_LBM ? DEV_STACK_LBM_MAX_FRAGS : 0;
}
