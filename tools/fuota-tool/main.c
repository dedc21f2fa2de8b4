/* fuota-tool: offline command-line access to fuota's codec libraries. */
#include <stdio.h>
#include <string.h>

#include "tool.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
        {"frag", cmd_frag, "TS004 fragmentation: encode, decode, bench"},
        {"decode", cmd_decode, "decode application-layer commands from hex"},
        {"mc", cmd_mc, "TS005 multicast key derivation"},
        {"lw", cmd_lw, "build and parse LoRaWAN data-down frames"},
        {"gps", cmd_gps, "convert between UTC and GPS seconds"},
        {"airtime", cmd_airtime, "LoRa time on air of a frame"},
};

static void usage(FILE *to)
{
	fprintf(to, "usage: fuota-tool <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(to, "  %-8s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(to, "\n'fuota-tool <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return TOOL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return TOOL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);
	tool_err("unknown command '%s'", argv[1]);
	usage(stderr);
	return TOOL_EXIT_USAGE;
}
