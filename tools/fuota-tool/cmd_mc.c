/* fuota-tool mc keys: the TS005 multicast key hierarchy (fuota/mc_keys.h) from whatever root or
 * intermediate key is given, printed as one JSON object of lowercase hex keys. */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/mc_keys.h"
#include "tool.h"

enum { K_GEN_APP, K_APP, K_ROOT, K_KE, K_MC, K_MC_ENC, K_APP_S, K_NWK_S, K_COUNT };

static const char *const key_json[K_COUNT] = {"gen_app_key",  "app_key",     "mc_root_key",
                                              "mc_ke_key",    "mc_key",      "mc_key_encrypted",
                                              "mc_app_s_key", "mc_nwk_s_key"};

struct keys {
	uint8_t k[K_COUNT][MC_KEY_LEN];
	bool have[K_COUNT];
	bool have_addr;
	uint32_t mc_addr;
};

static int usage(FILE *to, int rc)
{
	fprintf(to,
	        "usage: fuota-tool mc keys [--gen-app-key K | --app-key K | --mc-root-key K |\n"
	        "                           --mc-ke-key K] [--mc-key K] [--mc-key-encrypted K]\n"
	        "                           [--mc-addr A]\n"
	        "  K: 16 bytes of hex in display order; A: McAddr as 8 hex digits of its value\n"
	        "  (01ffffff = 0x01FFFFFF, sent as ff ff ff 01).\n"
	        "  --gen-app-key: LoRaWAN 1.0.x GenAppKey; --app-key: LoRaWAN 1.1 AppKey.\n"
	        "  Prints every key derivable from the ones given, as JSON.\n");
	return rc;
}

/* Derives everything reachable; returns 0, or 1 with a message when libcrypto fails or a given
 * McKey and McKey_encrypted disagree. */
static int derive_all(struct keys *ks)
{
	uint8_t check[MC_KEY_LEN];
	int rc = FUOTA_OK;

	if (ks->have[K_GEN_APP]) {
		rc = mc_root_key_from_gen_app_key(ks->k[K_GEN_APP], ks->k[K_ROOT]);
		ks->have[K_ROOT] = true;
	} else if (ks->have[K_APP]) {
		rc = mc_root_key_from_app_key(ks->k[K_APP], ks->k[K_ROOT]);
		ks->have[K_ROOT] = true;
	}
	if (rc == FUOTA_OK && ks->have[K_ROOT] && !ks->have[K_KE]) {
		rc = mc_ke_key_from_root(ks->k[K_ROOT], ks->k[K_KE]);
		ks->have[K_KE] = true;
	}
	if (rc == FUOTA_OK && ks->have[K_KE] && ks->have[K_MC]) {
		rc = mc_key_encrypt(ks->k[K_KE], ks->k[K_MC], check);
		if (rc == FUOTA_OK && ks->have[K_MC_ENC] &&
		    memcmp(check, ks->k[K_MC_ENC], MC_KEY_LEN) != 0) {
			tool_err(
			        "mc keys: --mc-key-encrypted is not McKey encrypted under McKEKey");
			return TOOL_EXIT_FAIL;
		}
		memcpy(ks->k[K_MC_ENC], check, MC_KEY_LEN);
		ks->have[K_MC_ENC] = true;
	} else if (rc == FUOTA_OK && ks->have[K_KE] && ks->have[K_MC_ENC]) {
		rc = mc_key_decrypt(ks->k[K_KE], ks->k[K_MC_ENC], ks->k[K_MC]);
		ks->have[K_MC] = true;
	}
	if (rc == FUOTA_OK && ks->have[K_MC] && ks->have_addr) {
		rc = mc_session_keys(ks->k[K_MC], ks->mc_addr, ks->k[K_APP_S], ks->k[K_NWK_S]);
		ks->have[K_APP_S] = ks->have[K_NWK_S] = true;
	}
	if (rc != FUOTA_OK) {
		tool_err("mc keys: %s", fuota_strerror(rc));
		return TOOL_EXIT_FAIL;
	}
	return TOOL_EXIT_OK;
}

static void print_keys(const struct keys *ks)
{
	const char *sep = "";
	char hex[2 * MC_KEY_LEN + 1];

	putchar('{');
	/* The derived chain only; the root keys given are not repeated. */
	for (int i = K_ROOT; i < K_COUNT; i++) {
		if (!ks->have[i])
			continue;
		tool_hex(ks->k[i], MC_KEY_LEN, hex);
		printf("%s\"%s\":\"%s\"", sep, key_json[i], hex);
		sep = ",";
	}
	if (ks->have_addr)
		printf("%s\"mc_addr\":\"%08" PRIx32 "\"", sep, ks->mc_addr);
	printf("}\n");
}

static int cmd_mc_keys(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"gen-app-key", required_argument, NULL, K_GEN_APP},
	        {"app-key", required_argument, NULL, K_APP},
	        {"mc-root-key", required_argument, NULL, K_ROOT},
	        {"mc-ke-key", required_argument, NULL, K_KE},
	        {"mc-key", required_argument, NULL, K_MC},
	        {"mc-key-encrypted", required_argument, NULL, K_MC_ENC},
	        {"mc-addr", required_argument, NULL, 'a'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct keys ks;
	int c, roots = 0;

	memset(&ks, 0, sizeof(ks));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		uint8_t addr[4];

		if (c == 'h')
			return usage(stdout, TOOL_EXIT_OK);
		if (c == 'a') {
			if (tool_parse_hex_exact(optarg, addr, 4) != 0) {
				tool_err("mc keys: --mc-addr wants 8 hex digits, got '%s'", optarg);
				return TOOL_EXIT_USAGE;
			}
			ks.mc_addr = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
			             (uint32_t)addr[2] << 8 | addr[3];
			ks.have_addr = true;
			continue;
		}
		if (c < 0 || c >= K_COUNT)
			return usage(stderr, TOOL_EXIT_USAGE);
		if (tool_parse_hex_exact(optarg, ks.k[c], MC_KEY_LEN) != 0) {
			tool_err("mc keys: --%s wants 32 hex digits, got '%s'", opts[c].name,
			         optarg);
			return TOOL_EXIT_USAGE;
		}
		ks.have[c] = true;
		roots += c <= K_KE;
	}
	if (optind != argc)
		return usage(stderr, TOOL_EXIT_USAGE);
	if (roots > 1) {
		tool_err("mc keys: give at most one of --gen-app-key, --app-key, --mc-root-key, "
		         "--mc-ke-key");
		return TOOL_EXIT_USAGE;
	}
	if (roots == 0 && !ks.have[K_MC] && !ks.have[K_MC_ENC]) {
		tool_err("mc keys: no key given");
		return usage(stderr, TOOL_EXIT_USAGE);
	}
	c = derive_all(&ks);
	if (c == TOOL_EXIT_OK)
		print_keys(&ks);
	return c;
}

int cmd_mc(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "keys"))
		return cmd_mc_keys(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return usage(stdout, TOOL_EXIT_OK);
	return usage(stderr, TOOL_EXIT_USAGE);
}
