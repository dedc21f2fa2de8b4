/* fuota-tool frag: TS004 fragmentation (encode, decode, bench). */
#include <stdio.h>
#include <string.h>

#include "tool.h"

int cmd_frag(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} subs[] = {
	        {"encode", cmd_frag_encode},
	        {"decode", cmd_frag_decode},
	        {"bench", cmd_frag_bench},
	        {"lean-bench", cmd_frag_lean_bench},
	};

	if (argc >= 2) {
		for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
			if (!strcmp(argv[1], subs[i].name))
				return subs[i].run(argc - 1, argv + 1);
	}
	fprintf(argc >= 2 && strcmp(argv[1], "--help") ? stderr : stdout,
	        "usage: fuota-tool frag encode|decode|bench|lean-bench [options] (--help for "
	        "each)\n");
	return argc >= 2 && !strcmp(argv[1], "--help") ? TOOL_EXIT_OK : TOOL_EXIT_USAGE;
}
