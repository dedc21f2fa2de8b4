/* fuota-tool airtime: LoRa/FSK time on air of a LoRaWAN data frame, and the region's DR table. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/lw_airtime.h"
#include "fuota/lw_region.h"
#include "tool.h"

static int usage(FILE *to, int rc)
{
	fprintf(to,
	        "usage: fuota-tool airtime --region R --dr DR (--size N | --phy-size L) [--up]\n"
	        "       fuota-tool airtime --region R --list\n"
	        "       fuota-tool airtime --regions\n"
	        "  prints the time on air in milliseconds (3 decimals) of one LoRaWAN data frame.\n"
	        "  --size N      N = FRMPayload bytes (the application payload, e.g. a\n"
	        "                DataFragment); the PHYPayload is N + 13 (MHDR, FHDR without "
	        "FOpts,\n"
	        "                FPort, MIC). N must not exceed the DR's maximum payload.\n"
	        "  --phy-size L  L = whole PHYPayload bytes (0..255), no limit check\n"
	        "  --up          an uplink (LoRa payload CRC on); default: a downlink (no CRC)\n"
	        "  LoRaWAN settings: 8-symbol preamble, explicit header, CR 4/5, low-data-rate\n"
	        "  optimisation for SF11/SF12 at 125 kHz; FSK: 5-byte preamble, CRC.\n"
	        "  --list        the region's DRs: modulation, max payload, max FragSize\n"
	        "  --regions     the known region names\n");
	return rc;
}

static void list_region(const struct lw_region *r)
{
	printf("%s (%s) %u-%u Hz, max EIRP %d dBm, RX2 %u Hz DR%u\n", r->name, r->rp_name,
	       (unsigned)r->min_hz, (unsigned)r->max_hz, r->max_eirp_dbm, (unsigned)r->rx2_freq_hz,
	       r->rx2_dr);
	for (size_t i = 0; i < r->n_drs; i++) {
		const struct lw_dr *d = &r->drs[i];
		const char *dirs = d->dirs == (LW_DIR_UP | LW_DIR_DOWN) ? "up+down"
		                   : d->dirs == LW_DIR_UP               ? "up"
		                                                        : "down";

		char mod[32];

		if (d->modulation == LW_MOD_LORA)
			snprintf(mod, sizeof(mod), "LoRa SF%u/%ukHz", d->sf,
			         (unsigned)(d->bandwidth_hz / 1000));
		else
			snprintf(mod, sizeof(mod), "FSK %ukbps",
			         (unsigned)(d->fsk_bitrate_bps / 1000));
		printf("DR%-2u %-7s %-16s", d->dr, dirs, mod);
		printf("  N %3u (repeater %3u)  max FragSize %3u\n", d->max_payload,
		       d->max_payload_repeater, d->max_payload - LW_FRAG_HEADER_LEN);
	}
}

int cmd_airtime(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"region", required_argument, NULL, 'r'},
	        {"dr", required_argument, NULL, 'd'},
	        {"size", required_argument, NULL, 's'},
	        {"phy-size", required_argument, NULL, 'p'},
	        {"up", no_argument, NULL, 'u'},
	        {"list", no_argument, NULL, 'l'},
	        {"regions", no_argument, NULL, 'R'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const struct lw_region *r = NULL;
	const struct lw_dr *d = NULL;
	uint64_t dr = 0, size = 0, us = 0;
	int c, have_dr = 0, have_size = 0, phy = 0, up = 0, list = 0, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			r = lw_region_find(optarg);
			if (!r) {
				tool_err("airtime: unknown region '%s' (see --regions)", optarg);
				return TOOL_EXIT_USAGE;
			}
			break;
		case 'd':
			if (tool_parse_u64(optarg, 15, &dr) != 0)
				return usage(stderr, TOOL_EXIT_USAGE);
			have_dr = 1;
			break;
		case 's':
		case 'p':
			if (have_size || tool_parse_u64(optarg, 255, &size) != 0)
				return usage(stderr, TOOL_EXIT_USAGE);
			have_size = 1;
			phy = c == 'p';
			break;
		case 'u': up = 1; break;
		case 'l': list = 1; break;
		case 'R':
			for (size_t i = 0; i < lw_region_count(); i++)
				printf("%s\n", lw_region_at(i)->name);
			return TOOL_EXIT_OK;
		case 'h': return usage(stdout, TOOL_EXIT_OK);
		default: return usage(stderr, TOOL_EXIT_USAGE);
		}
	}
	if (optind != argc || !r)
		return usage(stderr, TOOL_EXIT_USAGE);
	if (list) {
		list_region(r);
		return TOOL_EXIT_OK;
	}
	if (!have_dr || !have_size)
		return usage(stderr, TOOL_EXIT_USAGE);
	if (lw_region_dr_dir(r, (unsigned)dr, up ? LW_DIR_UP : LW_DIR_DOWN, &d) != FUOTA_OK) {
		tool_err("airtime: %s has no %s DR%u (see --list)", r->name,
		         up ? "uplink" : "downlink", (unsigned)dr);
		return TOOL_EXIT_FAIL;
	}
	if (!phy && size > d->max_payload) {
		tool_err("airtime: %s DR%u carries at most %u FRMPayload bytes, not %u", r->name,
		         (unsigned)dr, d->max_payload, (unsigned)size);
		return TOOL_EXIT_FAIL;
	}
	rc = lw_airtime_lorawan_us(d, (size_t)size + (phy ? 0 : LW_DATA_FRAME_OVERHEAD), !up, &us);
	if (rc != FUOTA_OK) {
		tool_err("airtime: %s", fuota_strerror(rc));
		return TOOL_EXIT_FAIL;
	}
	printf("%llu.%03llu\n", (unsigned long long)(us / 1000), (unsigned long long)(us % 1000));
	return TOOL_EXIT_OK;
}
