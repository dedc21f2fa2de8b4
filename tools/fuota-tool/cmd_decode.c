/* fuota-tool decode --port P --dir up|down --version 1|2 HEX: every application-layer command of
 * one FRMPayload as JSON. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/reader.h"
#include "tool.h"

static int usage(FILE *to, int rc)
{
	fprintf(to,
	        "usage: fuota-tool decode --port 200|201|202|203 --dir up|down --version 1|2 HEX\n"
	        "  prints {\"port\":P,\"dir\":..,\"version\":V,\"commands\":[...]} as JSON\n");
	return rc;
}

int tool_decode_walk(const uint8_t *p, size_t len, int up, int version, const char *package,
                     tool_decode_step step, FILE *json, char *err, size_t errlen)
{
	size_t pos = 0;

	while (pos < len) {
		struct fuota_parse_err e;
		int rc;

		if (pos > 0)
			fputc(',', json);
		rc = step(p, len, &pos, up, version, json, &e);
		if (rc == FUOTA_OK)
			continue;
		if (rc == FUOTA_ERR_MALFORMED)
			fuota_parse_err_format(&e, err, errlen);
		else if (rc == FUOTA_ERR_UNSUPPORTED)
			snprintf(err, errlen, "unknown %s %s CID 0x%02x at byte %zu",
			         up ? "uplink" : "downlink", package, e.cid, e.offset);
		else
			snprintf(err, errlen, "%s: %s", package, fuota_strerror(rc));
		return -1;
	}
	return 0;
}

int cmd_decode(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"port", required_argument, NULL, 'p'},
	        {"dir", required_argument, NULL, 'd'},
	        {"version", required_argument, NULL, 'v'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	uint64_t port = 0, version = 1;
	int up = -1, c;
	tool_port_decoder dec = NULL;
	uint8_t payload[256];
	size_t len = 0;
	char err[256] = "";
	char *json = NULL;
	size_t json_len = 0;
	FILE *out;
	int rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (tool_parse_u64(optarg, 255, &port) != 0)
				return usage(stderr, TOOL_EXIT_USAGE);
			break;
		case 'd':
			up = !strcmp(optarg, "up") ? 1 : !strcmp(optarg, "down") ? 0 : -1;
			if (up < 0)
				return usage(stderr, TOOL_EXIT_USAGE);
			break;
		case 'v':
			if (tool_parse_u64(optarg, 2, &version) != 0 || version < 1)
				return usage(stderr, TOOL_EXIT_USAGE);
			break;
		case 'h': return usage(stdout, TOOL_EXIT_OK);
		default: return usage(stderr, TOOL_EXIT_USAGE);
		}
	}
	if (up < 0 || optind != argc - 1)
		return usage(stderr, TOOL_EXIT_USAGE);
	switch (port) {
	case 200: dec = tool_decode_port200; break;
	case 201: dec = tool_decode_port201; break;
	case 202: dec = tool_decode_port202; break;
	case 203: dec = tool_decode_port203; break;
	default:
		tool_err("decode: port %llu is not an application-layer package port (200..203)",
		         (unsigned long long)port);
		return TOOL_EXIT_USAGE;
	}
	if (tool_parse_hex(argv[optind], payload, sizeof(payload), &len) != 0) {
		tool_err("decode: payload is not hex of at most %zu bytes", sizeof(payload));
		return TOOL_EXIT_USAGE;
	}
	out = open_memstream(&json, &json_len);
	if (!out) {
		tool_err("decode: out of memory");
		return TOOL_EXIT_FAIL;
	}
	rc = dec(payload, len, up, (int)version, out, err, sizeof(err));
	fclose(out);
	if (rc != 0) {
		tool_err("decode: %s", err[0] ? err : "malformed payload");
		free(json);
		return TOOL_EXIT_FAIL;
	}
	printf("{\"port\":%llu,\"dir\":\"%s\",\"version\":%llu,\"commands\":[%s]}\n",
	       (unsigned long long)port, up ? "up" : "down", (unsigned long long)version,
	       json ? json : "");
	free(json);
	return TOOL_EXIT_OK;
}
