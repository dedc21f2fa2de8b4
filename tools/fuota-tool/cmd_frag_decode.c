/* Placeholder until 'fuota-tool frag decode' lands; replaced by its implementation. */
#include "tool.h"

int cmd_frag_decode(int argc, char **argv)
{
	(void)argc;
	tool_err("%s: not built yet", argv[0]);
	return TOOL_EXIT_FAIL;
}
