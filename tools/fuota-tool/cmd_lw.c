/* fuota-tool lw frame|parse: build a LoRaWAN data frame or parse, verify and decrypt one. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/lw_frame.h"
#include "tool.h"

static int usage(FILE *to, int rc)
{
	fprintf(to,
	        "usage: fuota-tool lw frame --dev-addr A --fcnt N --fport P --app-s-key K "
	        "--nwk-s-key K [--fctrl B] [--up] [--confirmed] PAYLOAD_HEX\n"
	        "  prints the PHYPayload of an unconfirmed data-down frame (with --up: data-up;\n"
	        "  --confirmed: confirmed) as lowercase hex. A = DevAddr/McAddr in display order\n"
	        "  (01020304 is sent as 04 03 02 01); N = the 32-bit FCnt (its low 16 bits go on\n"
	        "  air); P = FPort 0..255 (0 encrypts with the NwkSKey); keys are 32 hex digits;\n"
	        "  B = FCtrl byte (default 0; e.g. 0x80 = ADR; FOptsLen bits are ignored).\n"
	        "       fuota-tool lw parse --app-s-key K --nwk-s-key K [--fcnt-high H] PHY_HEX\n"
	        "  prints the frame as JSON: mtype, dir, dev_addr, fctrl bits, fcnt (32-bit, from\n"
	        "  H << 16 | FCnt on air; H defaults to 0), fport, fopts, mic, mic_ok and the\n"
	        "  decrypted payload. Exit status 0 if the MIC matches, 1 if not (JSON still\n"
	        "  printed) or if the frame is malformed.\n");
	return rc;
}

static const char *mtype_name(enum lw_mtype t)
{
	switch (t) {
	case LW_MTYPE_UNCONF_DATA_UP: return "UnconfirmedDataUp";
	case LW_MTYPE_UNCONF_DATA_DOWN: return "UnconfirmedDataDown";
	case LW_MTYPE_CONF_DATA_UP: return "ConfirmedDataUp";
	case LW_MTYPE_CONF_DATA_DOWN: return "ConfirmedDataDown";
	default: return "Other";
	}
}

struct lw_opts {
	uint64_t dev_addr, fcnt, fport, fcnt_high, fctrl;
	bool have_dev_addr, have_fcnt, have_fport, have_app, have_nwk, up, confirmed;
	uint8_t app[LW_KEY_LEN], nwk[LW_KEY_LEN];
};

/* Parses the options shared by frame and parse; returns -1 after printing usage or an error. */
static int parse_opts(int argc, char **argv, struct lw_opts *o)
{
	static const struct option opts[] = {
	        {"dev-addr", required_argument, NULL, 'a'},
	        {"fcnt", required_argument, NULL, 'c'},
	        {"fport", required_argument, NULL, 'p'},
	        {"app-s-key", required_argument, NULL, 'A'},
	        {"nwk-s-key", required_argument, NULL, 'N'},
	        {"fcnt-high", required_argument, NULL, 'H'},
	        {"fctrl", required_argument, NULL, 'f'},
	        {"up", no_argument, NULL, 'u'},
	        {"confirmed", no_argument, NULL, 'C'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	uint8_t addr[4];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (tool_parse_hex_exact(optarg, addr, 4) != 0) {
				tool_err("--dev-addr: expected 8 hex digits, got '%s'", optarg);
				return -1;
			}
			o->dev_addr = (uint64_t)addr[0] << 24 | (uint64_t)addr[1] << 16 |
			              (uint64_t)addr[2] << 8 | addr[3];
			o->have_dev_addr = true;
			break;
		case 'c':
			if (tool_parse_u64(optarg, UINT32_MAX, &o->fcnt) != 0) {
				tool_err("--fcnt: expected 0..4294967295, got '%s'", optarg);
				return -1;
			}
			o->have_fcnt = true;
			break;
		case 'p':
			if (tool_parse_u64(optarg, 255, &o->fport) != 0) {
				tool_err("--fport: expected 0..255, got '%s'", optarg);
				return -1;
			}
			o->have_fport = true;
			break;
		case 'A':
		case 'N':
			if (tool_parse_hex_exact(optarg, c == 'A' ? o->app : o->nwk, LW_KEY_LEN) !=
			    0) {
				tool_err("--%s: expected 32 hex digits",
				         c == 'A' ? "app-s-key" : "nwk-s-key");
				return -1;
			}
			if (c == 'A')
				o->have_app = true;
			else
				o->have_nwk = true;
			break;
		case 'H':
			if (tool_parse_u64(optarg, 0xffff, &o->fcnt_high) != 0) {
				tool_err("--fcnt-high: expected 0..65535, got '%s'", optarg);
				return -1;
			}
			break;
		case 'f':
			if (tool_parse_u64(optarg, 255, &o->fctrl) != 0) {
				tool_err("--fctrl: expected 0..255, got '%s'", optarg);
				return -1;
			}
			break;
		case 'u': o->up = true; break;
		case 'C': o->confirmed = true; break;
		case 'h': usage(stdout, TOOL_EXIT_OK); return -2;
		default: usage(stderr, TOOL_EXIT_USAGE); return -1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr, TOOL_EXIT_USAGE);
		return -1;
	}
	return 0;
}

static int lw_frame_cmd(const struct lw_opts *o, const char *hex)
{
	uint8_t payload[LW_PHY_MAX_LEN], out[LW_PHY_MAX_LEN];
	char text[2 * LW_PHY_MAX_LEN + 1];
	struct lw_frame_tx tx;
	size_t len = 0, n = 0;
	int rc;

	if (!o->have_dev_addr || !o->have_fcnt || !o->have_fport || !o->have_app || !o->have_nwk) {
		tool_err("lw frame: --dev-addr, --fcnt, --fport, --app-s-key and --nwk-s-key are "
		         "required");
		return TOOL_EXIT_USAGE;
	}
	if (tool_parse_hex(hex, payload, sizeof(payload), &len) != 0) {
		tool_err("lw frame: payload is not hex (or longer than %u bytes)", LW_PHY_MAX_LEN);
		return TOOL_EXIT_USAGE;
	}
	memset(&tx, 0, sizeof(tx));
	tx.mtype = o->up ? (o->confirmed ? LW_MTYPE_CONF_DATA_UP : LW_MTYPE_UNCONF_DATA_UP)
	                 : (o->confirmed ? LW_MTYPE_CONF_DATA_DOWN : LW_MTYPE_UNCONF_DATA_DOWN);
	tx.dev_addr = (uint32_t)o->dev_addr;
	tx.fctrl = (uint8_t)(o->fctrl & ~LW_FCTRL_FOPTS_LEN_MSK);
	tx.fcnt = (uint32_t)o->fcnt;
	tx.has_fport = true;
	tx.fport = (uint8_t)o->fport;
	tx.payload = payload;
	tx.payload_len = len;
	rc = lw_frame_build(&tx, o->app, o->nwk, out, sizeof(out), &n);
	if (rc != FUOTA_OK) {
		tool_err("lw frame: %s (a frame holds at most %u payload bytes)",
		         fuota_strerror(rc), LW_PHY_MAX_LEN - 13);
		return TOOL_EXIT_FAIL;
	}
	tool_hex(out, n, text);
	printf("%s\n", text);
	return TOOL_EXIT_OK;
}

static int lw_parse_cmd(const struct lw_opts *o, const char *hex)
{
	uint8_t phy[LW_PHY_MAX_LEN + 1], pl[LW_PHY_MAX_LEN];
	char text[2 * (LW_PHY_MAX_LEN + 1) + 1];
	struct lw_frame f;
	size_t len = 0, n = 0;
	uint32_t fcnt;
	bool ok = false;
	int rc;

	if (!o->have_app || !o->have_nwk) {
		tool_err("lw parse: --app-s-key and --nwk-s-key are required");
		return TOOL_EXIT_USAGE;
	}
	if (tool_parse_hex(hex, phy, sizeof(phy), &len) != 0) {
		tool_err("lw parse: PHYPayload is not hex (or longer than %u bytes)",
		         LW_PHY_MAX_LEN);
		return TOOL_EXIT_USAGE;
	}
	rc = lw_frame_parse(phy, len, &f);
	if (rc != FUOTA_OK) {
		tool_err("lw parse: %s (%zu bytes; a data frame needs at least %u plus its FOpts)",
		         fuota_strerror(rc), len, LW_DATA_MIN_LEN);
		return TOOL_EXIT_FAIL;
	}
	fcnt = lw_fcnt32((uint16_t)o->fcnt_high, f.fcnt16);
	rc = lw_frame_mic_check(&f, fcnt, o->nwk, &ok);
	if (rc == FUOTA_OK)
		rc = lw_frame_decrypt(&f, fcnt, o->app, o->nwk, pl, sizeof(pl), &n);
	if (rc != FUOTA_OK) {
		tool_err("lw parse: %s", fuota_strerror(rc));
		return TOOL_EXIT_FAIL;
	}
	printf("{\"mtype\":\"%s\",\"dir\":\"%s\",\"dev_addr\":\"%08x\",", mtype_name(f.mtype),
	       f.downlink ? "down" : "up", (unsigned)f.dev_addr);
	printf("\"fctrl\":{\"adr\":%s,", f.fctrl & LW_FCTRL_ADR ? "true" : "false");
	if (f.downlink)
		printf("\"ack\":%s,\"fpending\":%s,", f.fctrl & LW_FCTRL_ACK ? "true" : "false",
		       f.fctrl & LW_FCTRL_FPENDING ? "true" : "false");
	else
		printf("\"adr_ack_req\":%s,\"ack\":%s,\"class_b\":%s,",
		       f.fctrl & LW_FCTRL_ADR_ACK_REQ ? "true" : "false",
		       f.fctrl & LW_FCTRL_ACK ? "true" : "false",
		       f.fctrl & LW_FCTRL_CLASS_B ? "true" : "false");
	printf("\"fopts_len\":%zu},\"fcnt\":%u,", f.fopts_len, (unsigned)fcnt);
	tool_hex(f.fopts, f.fopts_len, text);
	printf("\"fopts\":\"%s\",", text);
	if (f.has_fport)
		printf("\"fport\":%u,", f.fport);
	else
		printf("\"fport\":null,");
	tool_hex(f.mic, LW_MIC_LEN, text);
	printf("\"mic\":\"%s\",\"mic_ok\":%s,", text, ok ? "true" : "false");
	tool_hex(pl, n, text);
	printf("\"payload\":\"%s\"}\n", text);
	return ok ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
}

int cmd_lw(int argc, char **argv)
{
	struct lw_opts o;
	bool build;
	int rc;

	if (argc < 2 || (strcmp(argv[1], "frame") && strcmp(argv[1], "parse"))) {
		bool help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));

		return usage(help ? stdout : stderr, help ? TOOL_EXIT_OK : TOOL_EXIT_USAGE);
	}
	build = !strcmp(argv[1], "frame");
	memset(&o, 0, sizeof(o));
	rc = parse_opts(argc - 1, argv + 1, &o);
	if (rc == -2)
		return TOOL_EXIT_OK;
	if (rc != 0)
		return TOOL_EXIT_USAGE;
	return build ? lw_frame_cmd(&o, argv[argc - 1]) : lw_parse_cmd(&o, argv[argc - 1]);
}
