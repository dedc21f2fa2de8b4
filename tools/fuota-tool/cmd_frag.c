/* Placeholder until the module behind 'fuota-tool frag' lands; replaced by its implementation. */
#include "tool.h"

int cmd_frag(int argc, char **argv)
{
	(void)argc;
	tool_err("%s: not built yet", argv[0]);
	return TOOL_EXIT_FAIL;
}
