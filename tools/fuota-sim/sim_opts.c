/* fuota-sim's command line. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sim.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: fuota-sim [options]\n"
	        "A simulated LoRaWAN network server integration, gateways and device fleet on "
	        "MQTT.\n"
	        "\n"
	        "Network and fleet:\n"
	        "  --mqtt URI              broker (tcp://127.0.0.1:1883)\n"
	        "  --client-id ID          MQTT client id (fuota-sim-<seed>)\n"
	        "  --devices N             devices (10)\n"
	        "  --gateways N            gateways (1)\n"
	        "  --coverage K            gateways that hear each device (1)\n"
	        "  --gnss-fraction F       gateways with GNSS time (1.0)\n"
	        "  --region NAME           EU868, US915, ... (EU868)\n"
	        "  --gw-prefix P           gateway topic prefix (the region name in lowercase)\n"
	        "  --app-prefix P          application topic prefix (application)\n"
	        "  --app-id ID             application id (fuota-sim)\n"
	        "  --proto                 uplinks as binary protobuf (default JSON)\n"
	        "  --seed N                seed of keys, clocks, losses (1)\n"
	        "  --dev-eui-base HEX      first DevEUI (70b3d57ed0000000)\n"
	        "  --gw-eui-base HEX       first gateway id (0016c001ff000000)\n"
	        "Devices:\n"
	        "  --class B|C             multicast class (C)\n"
	        "  --classb-fraction F     with --class C: this fraction is class B (0)\n"
	        "  --v2-fraction F         fraction with package versions v2, the rest v1 (0.5)\n"
	        "  --lorawan11-fraction F  fraction of LoRaWAN 1.1 devices (0)\n"
	        "  --loss P[:Q]            per-device multicast loss rate, uniform in [P, Q] (0)\n"
	        "  --burst L               mean loss burst length in frames (1: independent)\n"
	        "  --unicast-loss P        a class A downlink is lost with probability P; the\n"
	        "                          network server sends it once, as ChirpStack does (0)\n"
	        "  --uplink-period S       seconds between a device's uplinks (10)\n"
	        "  --clock-offset S        device clocks start up to +-S seconds off (30)\n"
	        "  --drift-ppm D           device clock drift up to +-D ppm (20)\n"
	        "  --resync S              AppTimeReq every S seconds once synchronised (0: "
	        "never)\n"
	        "  --mem-limit BYTES       memory per device: image flash + decoder RAM (262144)\n"
	        "  --v2-seed relative|absolute  TS004 v2 parity seed reading (relative)\n"
	        "  --misbehave KIND=F      KIND for a fraction F of the fleet, or KIND@I,J,... "
	        "for\n"
	        "                          device indices; KIND: silent, late, wrong-key,\n"
	        "                          reject-frag, wrong-mckey (repeatable); and how a\n"
	        "                          stack answers FragSessionStatusReq: loramac-node\n"
	        "                          (last counter seen, uncoded fragments lost so far),\n"
	        "                          lbm-missing (LBM v2: MissingFrag 1 after a lossless\n"
	        "                          session), lbm-resync (LBM's clock: synchronised only\n"
	        "                          when forced, its AppTimeReq 6-10 s after\n"
	        "                          ForceDeviceResyncReq); the fleet JSON registers those\n"
	        "                          devices with that \"stack\"; ts006 (answers TS006\n"
	        "                          DevUpgradeImageReq, registered with packages.ts006)\n"
	        "  --late S                delay of 'late' answers (60)\n"
	        "  --fw-version V[@I,J,...]  TS006: the firmware version devices with ts006\n"
	        "                          report in DevVersionAns (a 32-bit number, decimal or\n"
	        "                          0x hex; 0), for every device or the listed indices\n"
	        "                          (repeatable, the last naming a device wins)\n"
	        "  --image-fw-version V[@I,J,...]  TS006: the version of the image they receive;\n"
	        "                          a device that verified it runs it after its DevReboot\n"
	        "                          countdown or time (0: it boots its old firmware)\n"
	        "  --image FILE            the original image: devices check their rebuilt "
	        "image's\n"
	        "  --image-sha256 HEX      SHA-256 against it\n"
	        "Gateways:\n"
	        "  --gw-duty-cycle PCT     transmit duty cycle (default: the region's sub-band;\n"
	        "                          0: no limit)\n"
	        "  --duty-window S         duty-cycle window (3600)\n"
	        "  --max-ahead S           GPS-timed frames further ahead are TOO_EARLY (3600)\n"
	        "  --gw-encoding E         protobuf, json or mixed (odd-numbered gateways JSON):\n"
	        "                          the encoding of a gateway's acks and stats; it refuses\n"
	        "                          a DownlinkFrame in the other one (protobuf)\n"
	        "  --gw-stats-period S     gw.GatewayStats every S seconds per gateway (5; 0: "
	        "none)\n"
	        "  --semtech-udp H:P[,P..] gateway i is a Semtech UDP packet forwarder talking to\n"
	        "                          an adapter (fuota-gw) on H, the i-th port, not MQTT\n"
	        "Output and run:\n"
	        "  --print-fleet           print the fleet JSON and exit\n"
	        "  --fleet-out FILE        write the fleet JSON, then run\n"
	        "  --report FILE           write the JSON report at the end\n"
	        "  --until-done            stop once the server is done with every device that\n"
	        "                          got a FUOTA request (see the README)\n"
	        "  --done-grace S          quiet time after a device's part is over before it\n"
	        "                          counts as finished (default: 2 uplink periods +\n"
	        "                          2^(BlockAckDelay + 4) s)\n"
	        "  --timeout S             stop after S seconds\n"
	        "  -v, --verbose           log traffic on stderr (twice: more)\n"
	        "  -h, --help\n");
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_u64(const char *s, int base, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* "3,7,12": device indices into idx (at most max); -1 for anything else or none. */
static int parse_indices(const char *spec, uint32_t *idx, size_t max, size_t *n)
{
	char *copy = strdup(spec);
	if (!copy)
		return -1;
	int rc = 0;
	*n = 0;
	for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		if (*n == max || parse_u64(tok, 10, &v) != 0 || v > UINT32_MAX) {
			rc = -1;
			break;
		}
		idx[(*n)++] = (uint32_t)v;
	}
	free(copy);
	return rc != 0 || *n == 0 ? -1 : 0;
}

/* "V" or "V@I,J,...": a TS006 firmware version (decimal or 0x hex, 32 bits) for every device or
 * for the listed ones, appended to specs (at most max). */
static int parse_fw(const char *arg, struct sim_fw_spec *specs, size_t max, size_t *n)
{
	char num[32];
	size_t len = strcspn(arg, "@");
	uint64_t v;
	if (*n == max || len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, arg, len);
	num[len] = '\0';
	struct sim_fw_spec *f = &specs[*n];
	memset(f, 0, sizeof(*f));
	if (parse_u64(num, 0, &v) != 0 || v > UINT32_MAX)
		return -1;
	f->version = (uint32_t)v;
	if (arg[len] == '@' &&
	    parse_indices(arg + len + 1, f->idx, sizeof(f->idx) / sizeof(f->idx[0]), &f->n_idx))
		return -1;
	(*n)++;
	return 0;
}

static int parse_misbehave(const char *arg, struct sim_opts *o)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} kinds[SIM_N_MISBEHAVE] = {{"silent", SIM_MB_SILENT},
	                            {"late", SIM_MB_LATE},
	                            {"wrong-key", SIM_MB_WRONG_KEY},
	                            {"reject-frag", SIM_MB_REJECT_FRAG},
	                            {"wrong-mckey", SIM_MB_WRONG_MCKEY},
	                            {"loramac-node", SIM_MB_LORAMAC_NODE},
	                            {"lbm-missing", SIM_MB_LBM_MISSING},
	                            {"lbm-resync", SIM_MB_LBM_RESYNC},
	                            {"ts006", SIM_MB_TS006}};
	if (o->n_mb == sizeof(o->mb) / sizeof(o->mb[0]))
		return -1;
	size_t klen = strcspn(arg, "=@");
	struct sim_mb_spec *m = &o->mb[o->n_mb];
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < SIM_N_MISBEHAVE; i++)
		if (strlen(kinds[i].name) == klen && strncmp(arg, kinds[i].name, klen) == 0)
			m->flag = kinds[i].flag;
	if (!m->flag || !arg[klen])
		return -1;
	const char *spec = arg + klen + 1;
	if (arg[klen] == '=') {
		if (parse_double(spec, 0, 1, &m->fraction) != 0)
			return -1;
	} else if (parse_indices(spec, m->idx, sizeof(m->idx) / sizeof(m->idx[0]), &m->n_idx)) {
		return -1;
	}
	o->n_mb++;
	return 0;
}

static int read_image_sha(const char *path, uint8_t sha[32]);

enum {
	O_MQTT = 256,
	O_CLIENT_ID,
	O_DEVICES,
	O_GATEWAYS,
	O_COVERAGE,
	O_GNSS,
	O_REGION,
	O_GW_PREFIX,
	O_APP_PREFIX,
	O_APP_ID,
	O_PROTO,
	O_SEED,
	O_DEV_EUI,
	O_GW_EUI,
	O_CLASS,
	O_CLASSB_FR,
	O_V2_FR,
	O_LW11_FR,
	O_LOSS,
	O_BURST,
	O_UC_LOSS,
	O_PERIOD,
	O_OFFSET,
	O_DRIFT,
	O_RESYNC,
	O_MEM,
	O_V2_SEED,
	O_MISBEHAVE,
	O_LATE,
	O_FW,
	O_IMAGE_FW,
	O_IMAGE,
	O_IMAGE_SHA,
	O_DUTY,
	O_DUTY_WIN,
	O_AHEAD,
	O_GW_ENC,
	O_GW_STATS,
	O_PRINT_FLEET,
	O_FLEET_OUT,
	O_REPORT,
	O_UNTIL_DONE,
	O_DONE_GRACE,
	O_TIMEOUT,
	O_SEMTECH_UDP,
};

static const struct option longopts[] = {
        {"mqtt", required_argument, NULL, O_MQTT},
        {"client-id", required_argument, NULL, O_CLIENT_ID},
        {"devices", required_argument, NULL, O_DEVICES},
        {"gateways", required_argument, NULL, O_GATEWAYS},
        {"coverage", required_argument, NULL, O_COVERAGE},
        {"gnss-fraction", required_argument, NULL, O_GNSS},
        {"region", required_argument, NULL, O_REGION},
        {"gw-prefix", required_argument, NULL, O_GW_PREFIX},
        {"app-prefix", required_argument, NULL, O_APP_PREFIX},
        {"app-id", required_argument, NULL, O_APP_ID},
        {"proto", no_argument, NULL, O_PROTO},
        {"seed", required_argument, NULL, O_SEED},
        {"dev-eui-base", required_argument, NULL, O_DEV_EUI},
        {"gw-eui-base", required_argument, NULL, O_GW_EUI},
        {"class", required_argument, NULL, O_CLASS},
        {"classb-fraction", required_argument, NULL, O_CLASSB_FR},
        {"v2-fraction", required_argument, NULL, O_V2_FR},
        {"lorawan11-fraction", required_argument, NULL, O_LW11_FR},
        {"loss", required_argument, NULL, O_LOSS},
        {"burst", required_argument, NULL, O_BURST},
        {"unicast-loss", required_argument, NULL, O_UC_LOSS},
        {"uplink-period", required_argument, NULL, O_PERIOD},
        {"clock-offset", required_argument, NULL, O_OFFSET},
        {"drift-ppm", required_argument, NULL, O_DRIFT},
        {"resync", required_argument, NULL, O_RESYNC},
        {"mem-limit", required_argument, NULL, O_MEM},
        {"v2-seed", required_argument, NULL, O_V2_SEED},
        {"misbehave", required_argument, NULL, O_MISBEHAVE},
        {"late", required_argument, NULL, O_LATE},
        {"fw-version", required_argument, NULL, O_FW},
        {"image-fw-version", required_argument, NULL, O_IMAGE_FW},
        {"image", required_argument, NULL, O_IMAGE},
        {"image-sha256", required_argument, NULL, O_IMAGE_SHA},
        {"gw-duty-cycle", required_argument, NULL, O_DUTY},
        {"duty-window", required_argument, NULL, O_DUTY_WIN},
        {"max-ahead", required_argument, NULL, O_AHEAD},
        {"gw-encoding", required_argument, NULL, O_GW_ENC},
        {"gw-stats-period", required_argument, NULL, O_GW_STATS},
        {"print-fleet", no_argument, NULL, O_PRINT_FLEET},
        {"fleet-out", required_argument, NULL, O_FLEET_OUT},
        {"report", required_argument, NULL, O_REPORT},
        {"until-done", no_argument, NULL, O_UNTIL_DONE},
        {"done-grace", required_argument, NULL, O_DONE_GRACE},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"semtech-udp", required_argument, NULL, O_SEMTECH_UDP},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

/* "127.0.0.1:1700,1701" */
static int parse_sudp(const char *a, struct sim_opts *o)
{
	const char *c = strrchr(a, ':');
	char *end;

	if (!c || c == a || (size_t)(c - a) >= sizeof(o->sudp_host))
		return -1;
	memcpy(o->sudp_host, a, (size_t)(c - a));
	o->sudp_host[c - a] = '\0';
	o->n_sudp = 0;
	for (const char *p = c + 1;; p = end + 1) {
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || v == 0 || v > 65535 || o->n_sudp == 8 || (*end && *end != ','))
			return -1;
		o->sudp_ports[o->n_sudp++] = (uint16_t)v;
		if (!*end)
			return 0;
	}
}

static void defaults(struct sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mqtt_uri = "tcp://127.0.0.1:1883";
	o->n_devices = 10;
	o->n_gateways = 1;
	o->coverage = 1;
	o->gnss_fraction = 1.0;
	o->region_name = "EU868";
	o->app_prefix = "application";
	o->app_id = "fuota-sim";
	o->seed = 1;
	o->dev_eui_base = 0x70b3d57ed0000000ull;
	o->gw_eui_base = 0x0016c001ff000000ull;
	o->dev_class = 'C';
	o->v2_fraction = 0.5;
	o->burst_len = 1.0;
	o->uplink_period_s = 10;
	o->clock_offset_max_s = 30;
	o->drift_ppm_max = 20;
	o->mem_limit = 256 * 1024;
	o->late_s = 60;
	o->gw_duty_pct = -1;
	o->duty_window_s = 3600;
	o->max_ahead_s = 3600;
	o->gw_encoding = SIM_GW_PROTOBUF;
	o->gw_stats_period_s = 5;
	o->done_grace_s = -1;
}

int sim_opts_parse(int argc, char **argv, struct sim_opts *o)
{
	defaults(o);
	int c;
	uint64_t u;
	const char *bad = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		const char *a = optarg;
		switch (c) {
		case O_MQTT: o->mqtt_uri = a; break;
		case O_CLIENT_ID: o->client_id = a; break;
		case O_DEVICES:
			if (parse_u64(a, 10, &u) || u == 0 || u > 1000000)
				bad = "--devices";
			o->n_devices = (uint32_t)u;
			break;
		case O_GATEWAYS:
			if (parse_u64(a, 10, &u) || u == 0 || u > 10000)
				bad = "--gateways";
			o->n_gateways = (uint32_t)u;
			break;
		case O_COVERAGE:
			if (parse_u64(a, 10, &u) || u == 0 || u > 8)
				bad = "--coverage (1..8)";
			o->coverage = (uint32_t)u;
			break;
		case O_GNSS:
			if (parse_double(a, 0, 1, &o->gnss_fraction))
				bad = "--gnss-fraction";
			break;
		case O_REGION: o->region_name = a; break;
		case O_GW_PREFIX: o->gw_prefix = a; break;
		case O_APP_PREFIX: o->app_prefix = a; break;
		case O_APP_ID: o->app_id = a; break;
		case O_PROTO: o->proto = true; break;
		case O_SEED:
			if (parse_u64(a, 0, &o->seed))
				bad = "--seed";
			break;
		case O_DEV_EUI:
			if (parse_u64(a, 16, &o->dev_eui_base))
				bad = "--dev-eui-base";
			break;
		case O_GW_EUI:
			if (parse_u64(a, 16, &o->gw_eui_base))
				bad = "--gw-eui-base";
			break;
		case O_CLASS:
			if (strcmp(a, "B") && strcmp(a, "C") && strcmp(a, "b") && strcmp(a, "c"))
				bad = "--class (B or C)";
			o->dev_class = (char)toupper((unsigned char)a[0]);
			break;
		case O_CLASSB_FR:
			if (parse_double(a, 0, 1, &o->classb_fraction))
				bad = "--classb-fraction";
			break;
		case O_V2_FR:
			if (parse_double(a, 0, 1, &o->v2_fraction))
				bad = "--v2-fraction";
			break;
		case O_LW11_FR:
			if (parse_double(a, 0, 1, &o->lw11_fraction))
				bad = "--lorawan11-fraction";
			break;
		case O_LOSS: {
			char buf[64];
			snprintf(buf, sizeof(buf), "%s", a);
			char *colon = strchr(buf, ':');
			if (colon)
				*colon = '\0';
			if (parse_double(buf, 0, 1, &o->loss_min))
				bad = "--loss";
			o->loss_max = o->loss_min;
			if (colon && (parse_double(colon + 1, 0, 1, &o->loss_max) ||
			              o->loss_max < o->loss_min))
				bad = "--loss";
			break;
		}
		case O_BURST:
			if (parse_double(a, 1, 1e6, &o->burst_len))
				bad = "--burst (>= 1)";
			break;
		case O_UC_LOSS:
			if (parse_double(a, 0, 1, &o->unicast_loss))
				bad = "--unicast-loss (0..1)";
			break;
		case O_PERIOD:
			if (parse_double(a, 0.05, 86400, &o->uplink_period_s))
				bad = "--uplink-period";
			break;
		case O_OFFSET:
			if (parse_double(a, 0, 1e6, &o->clock_offset_max_s))
				bad = "--clock-offset";
			break;
		case O_DRIFT:
			if (parse_double(a, 0, 1e5, &o->drift_ppm_max))
				bad = "--drift-ppm";
			break;
		case O_RESYNC:
			if (parse_u64(a, 10, &u) || u > 86400 * 365)
				bad = "--resync";
			o->resync_s = (uint32_t)u;
			break;
		case O_MEM:
			if (parse_u64(a, 10, &u) || u > (1ull << 32))
				bad = "--mem-limit";
			o->mem_limit = (size_t)u;
			break;
		case O_V2_SEED:
			if (strcmp(a, "relative") == 0)
				o->v2_seed = FRAG_SEED_RELATIVE;
			else if (strcmp(a, "absolute") == 0)
				o->v2_seed = FRAG_SEED_ABSOLUTE;
			else
				bad = "--v2-seed";
			break;
		case O_MISBEHAVE:
			if (parse_misbehave(a, o))
				bad = "--misbehave";
			break;
		case O_LATE:
			if (parse_u64(a, 10, &u) || u > 86400)
				bad = "--late";
			o->late_s = (uint32_t)u;
			break;
		case O_FW:
			if (parse_fw(a, o->fw, sizeof(o->fw) / sizeof(o->fw[0]), &o->n_fw))
				bad = "--fw-version (V or V@I,J,...; at most 8)";
			break;
		case O_IMAGE_FW:
			if (parse_fw(a, o->image_fw, sizeof(o->image_fw) / sizeof(o->image_fw[0]),
			             &o->n_image_fw))
				bad = "--image-fw-version (V or V@I,J,...; at most 8)";
			break;
		case O_IMAGE:
			if (read_image_sha(a, o->sha256))
				bad = "--image (unreadable file)";
			o->has_sha256 = true;
			break;
		case O_IMAGE_SHA:
			if (parse_hex(a, o->sha256, 32))
				bad = "--image-sha256 (64 hex digits)";
			o->has_sha256 = true;
			break;
		case O_DUTY:
			if (parse_double(a, 0, 100, &o->gw_duty_pct))
				bad = "--gw-duty-cycle";
			break;
		case O_DUTY_WIN:
			if (parse_double(a, 1, 86400, &o->duty_window_s))
				bad = "--duty-window";
			break;
		case O_AHEAD:
			if (parse_double(a, 1, 1e7, &o->max_ahead_s))
				bad = "--max-ahead";
			break;
		case O_GW_ENC:
			if (strcmp(a, "protobuf") == 0)
				o->gw_encoding = SIM_GW_PROTOBUF;
			else if (strcmp(a, "json") == 0)
				o->gw_encoding = SIM_GW_JSON;
			else if (strcmp(a, "mixed") == 0)
				o->gw_encoding = SIM_GW_MIXED;
			else
				bad = "--gw-encoding (protobuf, json or mixed)";
			break;
		case O_GW_STATS:
			if (parse_double(a, 0, 86400, &o->gw_stats_period_s))
				bad = "--gw-stats-period";
			break;
		case O_PRINT_FLEET: o->print_fleet = true; break;
		case O_FLEET_OUT: o->fleet_out = a; break;
		case O_REPORT: o->report_path = a; break;
		case O_UNTIL_DONE: o->until_done = true; break;
		case O_DONE_GRACE:
			if (parse_double(a, 0, 1e6, &o->done_grace_s))
				bad = "--done-grace";
			break;
		case O_TIMEOUT:
			if (parse_double(a, 0, 1e9, &o->timeout_s))
				bad = "--timeout";
			break;
		case O_SEMTECH_UDP:
			if (parse_sudp(a, o))
				bad = "--semtech-udp (HOST:PORT[,PORT...], at most 8 ports)";
			break;
		case 'v': o->verbose++; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
		if (bad) {
			fprintf(stderr, "fuota-sim: bad value for %s: %s\n", bad, a ? a : "");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fuota-sim: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	o->region = lw_region_find(o->region_name);
	if (!o->region) {
		fprintf(stderr, "fuota-sim: unknown region %s\n", o->region_name);
		return -1;
	}
	if (o->coverage > o->n_gateways)
		o->coverage = o->n_gateways;
	return 0;
}

static int read_image_sha(const char *path, uint8_t sha[32])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? 0 : -1;
	uint8_t buf[65536];
	size_t n;
	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (EVP_DigestUpdate(ctx, buf, n) != 1)
			rc = -1;
	unsigned len = 0;
	if (rc == 0 && (ferror(f) || EVP_DigestFinal_ex(ctx, sha, &len) != 1 || len != 32))
		rc = -1;
	EVP_MD_CTX_free(ctx);
	fclose(f);
	return rc;
}
