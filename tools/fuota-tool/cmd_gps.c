/* fuota-tool gps: convert between UTC and GPS seconds (leap seconds included). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "fuota/err.h"
#include "fuota/lw_gps.h"
#include "tool.h"

static int usage(FILE *to, int rc)
{
	fprintf(to,
	        "usage: fuota-tool gps --from-utc YYYY-MM-DDTHH:MM:SSZ | --to-utc GPS_SECONDS |\n"
	        "                      --from-unix UNIX_SECONDS | --to-unix GPS_SECONDS\n"
	        "  --from-utc   prints the GPS seconds of a UTC time (23:59:60 allowed on a\n"
	        "               leap second; the trailing Z is optional)\n"
	        "  --to-utc     prints the UTC time of GPS seconds as YYYY-MM-DDTHH:MM:SSZ\n"
	        "  --from-unix  prints the GPS seconds of a Unix time\n"
	        "  --to-unix    prints the Unix time of GPS seconds\n"
	        "  GPS seconds count from 1980-01-06T00:00:00Z and include leap seconds\n"
	        "  (GPS - UTC = 18 s since 2017-01-01). Add --wrap32 to print GPS seconds\n"
	        "  modulo 2^32, as sent on air.\n");
	return rc;
}

/* Parses exactly n decimal digits at s into *v. */
static int digits(const char *s, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS" with an optional "Z" (a space may replace the T). Field ranges are
 * left to the library. */
static int parse_iso(const char *s, struct lw_utc *u)
{
	unsigned y;
	size_t len = strlen(s);

	if (len == 20 && s[19] == 'Z')
		len = 19;
	if (len != 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &u->month) || digits(s + 8, 2, &u->day) ||
	    digits(s + 11, 2, &u->hour) || digits(s + 14, 2, &u->min) || digits(s + 17, 2, &u->sec))
		return -1;
	u->year = (int)y;
	return 0;
}

static void print_gps(int64_t gps, int wrap32)
{
	if (wrap32)
		printf("%u\n", (unsigned)lw_gps_wrap32(gps));
	else
		printf("%lld\n", (long long)gps);
}

int cmd_gps(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"from-utc", required_argument, NULL, 'f'},
	        {"to-utc", required_argument, NULL, 't'},
	        {"from-unix", required_argument, NULL, 'F'},
	        {"to-unix", required_argument, NULL, 'T'},
	        {"wrap32", no_argument, NULL, 'w'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *arg = NULL;
	int mode = 0, wrap32 = 0, c, rc;
	uint64_t v = 0;
	int64_t out = 0;
	struct lw_utc u;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
		case 't':
		case 'F':
		case 'T':
			if (mode)
				return usage(stderr, TOOL_EXIT_USAGE);
			mode = c;
			arg = optarg;
			break;
		case 'w': wrap32 = 1; break;
		case 'h': return usage(stdout, TOOL_EXIT_OK);
		default: return usage(stderr, TOOL_EXIT_USAGE);
		}
	}
	if (!mode || optind != argc)
		return usage(stderr, TOOL_EXIT_USAGE);

	if (mode == 'f') {
		if (parse_iso(arg, &u) != 0) {
			tool_err("gps: '%s' is not YYYY-MM-DDTHH:MM:SSZ", arg);
			return TOOL_EXIT_USAGE;
		}
		rc = lw_gps_from_utc(&u, &out);
		if (rc != FUOTA_OK) {
			tool_err("gps: %s is not a valid UTC time at or after 1980-01-06T00:00:00Z",
			         arg);
			return TOOL_EXIT_FAIL;
		}
		print_gps(out, wrap32);
		return TOOL_EXIT_OK;
	}
	if (tool_parse_u64(arg, (uint64_t)1 << 40, &v) != 0) {
		tool_err("gps: '%s' is not a number of seconds in 0..2^40", arg);
		return TOOL_EXIT_USAGE;
	}
	switch (mode) {
	case 't':
		rc = lw_gps_to_utc((int64_t)v, &u);
		if (rc == FUOTA_OK)
			printf("%04d-%02u-%02uT%02u:%02u:%02uZ\n", u.year, u.month, u.day, u.hour,
			       u.min, u.sec);
		break;
	case 'F':
		rc = lw_gps_from_unix((int64_t)v, &out);
		if (rc == FUOTA_OK)
			print_gps(out, wrap32);
		break;
	default:
		rc = lw_gps_to_unix((int64_t)v, &out);
		if (rc == FUOTA_OK)
			printf("%lld\n", (long long)out);
		break;
	}
	if (rc != FUOTA_OK) {
		tool_err("gps: %s: %s", arg, fuota_strerror(rc));
		return TOOL_EXIT_FAIL;
	}
	return TOOL_EXIT_OK;
}
