/* Placeholder until the module behind 'fuota-tool gps' lands; replaced by its implementation. */
#include "tool.h"

int cmd_gps(int argc, char **argv)
{
	(void)argc;
	tool_err("%s: not built yet", argv[0]);
	return TOOL_EXIT_FAIL;
}
