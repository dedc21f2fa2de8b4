/* Pure parsers of the firmware-update URCs (sara_fw_parse.h). Each quotes the lines it reads. */
#include "fuota/sara_fw_parse.h"

#include <string.h>

#include "fuota/bytes.h"
#include "fuota/err.h"
#include "fuota/sara_parse.h"

/* Splits line after prefix into exactly n unquoted integer fields in [min, max]. */
static int ints(const char *line, size_t len, const char *prefix, size_t want, const long *min,
                const long *max, long *out)
{
	struct sara_field f[SARA_FIELDS_MAX];
	size_t n, i;

	if (sara_fields(line, len, prefix, f, SARA_FIELDS_MAX, &n) != 0 || n != want)
		return FUOTA_ERR_MALFORMED;
	for (i = 0; i < n; i++)
		if (sara_field_int(&f[i], min[i], max[i], &out[i]) != 0)
			return FUOTA_ERR_MALFORMED;
	return FUOTA_OK;
}

/* "+UFOTASTAT: 2,2,100" (download complete), "+UFOTASTAT: 0,1,63" (63 % downloaded),
 * "+UFOTASTAT: 0,2,10" (paused), "+UFOTASTAT: 0,3,0" (ack pending), "+UFOTASTAT: 1,0,0"
 * (triggered / resuming), "+UFOTASTAT: 2,3,100" (cancelled / rejected), "+UFOTASTAT: 3,1,0"
 * (LwM2M client start). Events 0..4 (the R4 manual's table); p1, p2 0..255. */
int fwu_parse_ufotastat(const char *line, size_t len, struct fwu_ufotastat *out)
{
	static const long min[3] = {0, 0, 0}, max[3] = {4, 255, 255};
	long v[3];

	if (ints(line, len, "+UFOTASTAT:", 3, min, max, v) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	if (v[0] == 0 && v[2] > 100)
		return FUOTA_ERR_MALFORMED; /* a percentage */
	out->event = (int)v[0];
	out->p1 = (int)v[1];
	out->p2 = (int)v[2];
	return FUOTA_OK;
}

/* "+UFWPREVAL: 0", "+UFWPREVAL: 3", ..., "+UFWPREVAL: 100" (steps may exceed 1; 100 may be
 * skipped). */
int fwu_parse_ufwpreval(const char *line, size_t len, int *pct)
{
	static const long min[1] = {0}, max[1] = {100};
	long v;

	if (ints(line, len, "+UFWPREVAL:", 1, min, max, &v) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*pct = (int)v;
	return FUOTA_OK;
}

static int progress_or_result(long v, int *n)
{
	if (v > 100 && v < 128)
		return FUOTA_ERR_MALFORMED;
	*n = (int)v;
	return FUOTA_OK;
}

/* "+UUFWINSTALL: 1", "+UUFWINSTALL: 92", "+UUFWINSTALL: 100", "+UUFWINSTALL: 128" (§3.5);
 * §6.2 Table 13 spells the same URCs "+UFWINSTALL: 1" ... "+UFWINSTALL: 128". */
int fwu_parse_install(const char *line, size_t len, int *n)
{
	static const long min[1] = {0}, max[1] = {255};
	long v;

	if (ints(line, len, "+UUFWINSTALL:", 1, min, max, &v) != FUOTA_OK &&
	    ints(line, len, "+UFWINSTALL:", 1, min, max, &v) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	return progress_or_result(v, n);
}

/* "+UFWUPD: ONGOING" (the IRC after AT+UFWUPD=1,460800), then "+UFWUPD: 1", "+UFWUPD: 3", ...
 * "+UFWUPD: 100", "+UFWUPD: 128" (Table 7). */
int fwu_parse_ufwupd(const char *line, size_t len, bool *ongoing, int *n)
{
	static const long min[1] = {0}, max[1] = {255};
	struct sara_field f[2];
	size_t nf;
	long v;

	if (sara_fields(line, len, "+UFWUPD:", f, 2, &nf) != 0 || nf != 1)
		return FUOTA_ERR_MALFORMED;
	if (!f[0].quoted && f[0].len == 7 && memcmp(f[0].p, "ONGOING", 7) == 0) {
		*ongoing = true;
		*n = -1;
		return FUOTA_OK;
	}
	if (ints(line, len, "+UFWUPD:", 1, min, max, &v) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*ongoing = false;
	return progress_or_result(v, n);
}

/* "+ULWM2MSTAT: 1,102,3" (event 1 registration, server 102, status 3 success) and
 * "+ULWM2MSTAT: 3,102,\"/5/0/3/\"" (notification of the firmware object's State). */
int fwu_parse_ulwm2mstat(const char *line, size_t len, struct fwu_lwm2mstat *out)
{
	struct sara_field f[3];
	size_t n;
	long ev, srv, st = -1;

	if (sara_fields(line, len, "+ULWM2MSTAT:", f, 3, &n) != 0 || n < 2 ||
	    sara_field_int(&f[0], 0, 255, &ev) != 0 || sara_field_int(&f[1], 0, 65535, &srv) != 0)
		return FUOTA_ERR_MALFORMED;
	out->path[0] = 0;
	if (n == 3 && f[2].quoted) {
		if (sara_field_str(&f[2], out->path, sizeof(out->path)) != 0)
			return FUOTA_ERR_MALFORMED;
	} else if (n == 3 && sara_field_int(&f[2], 0, 65535, &st) != 0) {
		return FUOTA_ERR_MALFORMED;
	}
	out->event = (int)ev;
	out->server = (int)srv;
	out->status = (int)st;
	return FUOTA_OK;
}

/* "+UFOTA: 1,6864144,710656": paused, 710656 of 6864144 bytes downloaded (§3.3). */
int fwu_parse_ufota(const char *line, size_t len, int *state, uint32_t *total, uint32_t *done)
{
	static const long min[3] = {0, 0, 0}, max[3] = {255, 999999999L, 999999999L};
	long v[3];

	if (ints(line, len, "+UFOTA:", 3, min, max, v) != FUOTA_OK || v[2] > v[1])
		return FUOTA_ERR_MALFORMED;
	*state = (int)v[0];
	*total = (uint32_t)v[1];
	*done = (uint32_t)v[2];
	return FUOTA_OK;
}

/* "+ULWM2MREG: 721,3,86281" (registered, 86281 s left), "+ULWM2MREG: 721,0" (deregistered),
 * "+ULWM2MREG: 721,4" (registration failed) (§3.1.1). */
int fwu_parse_ulwm2mreg(const char *line, size_t len, int *server, int *status, long *left)
{
	static const long min[3] = {0, 0, 0}, max[3] = {65535, 255, 999999999L};
	long v[3];

	if (ints(line, len, "+ULWM2MREG:", 3, min, max, v) == FUOTA_OK) {
		*left = v[2];
	} else if (ints(line, len, "+ULWM2MREG:", 2, min, max, v) == FUOTA_OK) {
		*left = -1;
	} else {
		return FUOTA_ERR_MALFORMED;
	}
	*server = (int)v[0];
	*status = (int)v[1];
	return FUOTA_OK;
}

/* "+USECFW: 1" update needed, "+USECFW: 0" up to date / update completed, "+USECFW: 3" update
 * file not present (§8, Tables 14-15). */
int fwu_parse_usecfw(const char *line, size_t len, int *status)
{
	static const long min[1] = {0}, max[1] = {255};
	long v;

	if (ints(line, len, "+USECFW:", 1, min, max, &v) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*status = (int)v;
	return FUOTA_OK;
}

/* "+USECMODE: 0": the secure data suite is off (§3.1.1). */
int fwu_parse_usecmode(const char *line, size_t len, int *mode)
{
	static const long min[1] = {0}, max[1] = {255};
	long v;

	if (ints(line, len, "+USECMODE:", 1, min, max, &v) != FUOTA_OK)
		return FUOTA_ERR_MALFORMED;
	*mode = (int)v;
	return FUOTA_OK;
}

/* The offset of needle in line[from, len), or len when absent. */
static size_t find(const char *line, size_t len, size_t from, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = from; i + n <= len; i++)
		if (memcmp(line + i, needle, n) == 0)
			return i;
	return len;
}

/* Table 3: "+ULWM2MREAD: {"bn":"/5/0/1/","e":[{"n":"1","sv":"<Delta_package_URI>"}]}": the
 * string value ("sv") of resource 1 of the firmware object, without JSON escapes (a URI has
 * none; one with a backslash is refused). */
int fwu_parse_package_uri(const char *line, size_t len, char *uri, size_t cap)
{
	static const char pre[] = "+ULWM2MREAD:", key[] = "\"sv\":\"";
	size_t i, start, n;

	if (len < sizeof(pre) - 1 || memcmp(line, pre, sizeof(pre) - 1) != 0 ||
	    find(line, len, sizeof(pre) - 1, "\"bn\":\"/5/0/1") == len)
		return FUOTA_ERR_MALFORMED;
	i = find(line, len, sizeof(pre) - 1, key);
	if (i == len)
		return FUOTA_ERR_MALFORMED;
	start = i + sizeof(key) - 1;
	for (i = start; i < len && line[i] != '"'; i++)
		if (line[i] == '\\' || (unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return FUOTA_ERR_MALFORMED;
	if (i == len || i == start)
		return FUOTA_ERR_MALFORMED;
	n = i - start;
	if (n + 1 > cap)
		return FUOTA_ERR_NO_SPACE;
	memcpy(uri, line + start, n);
	uri[n] = 0;
	return FUOTA_OK;
}

static size_t skip_spaces(const char *line, size_t len, size_t i)
{
	while (i < len && line[i] == ' ')
		i++;
	return i;
}

/* §3.6: "+ULWM2MREAD: {"bn":"/1/10/","e": {"n":"0","v":721}, {"n":"1","v":86400}, {"n":"2",
 * "v":10}, ...}": resource 1 of the server object /1/10 is the lifetime (SRLT) in seconds. The
 * app note's copy has spaces after some commas and colons; they are skipped. */
int fwu_parse_srlt(const char *line, size_t len, long *seconds)
{
	static const char pre[] = "+ULWM2MREAD:";
	size_t i;
	long v = 0;

	if (len < sizeof(pre) - 1 || memcmp(line, pre, sizeof(pre) - 1) != 0 ||
	    find(line, len, sizeof(pre) - 1, "\"bn\":\"/1/") == len)
		return FUOTA_ERR_MALFORMED;
	i = find(line, len, sizeof(pre) - 1, "{\"n\":\"1\",");
	if (i == len)
		return FUOTA_ERR_MALFORMED;
	i = skip_spaces(line, len, i + 9);
	if (len - i < 4 || memcmp(line + i, "\"v\":", 4) != 0)
		return FUOTA_ERR_MALFORMED;
	i = skip_spaces(line, len, i + 4);
	if (i == len || line[i] < '0' || line[i] > '9')
		return FUOTA_ERR_MALFORMED;
	for (; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
		if (v > 100000000L)
			return FUOTA_ERR_MALFORMED;
		v = v * 10 + (line[i] - '0');
	}
	if (i == len || (line[i] != '}' && line[i] != ' '))
		return FUOTA_ERR_MALFORMED;
	*seconds = v;
	return FUOTA_OK;
}

/* CELLULAR-NOTES §2.7, from ubxlib's uCellFotaStatusInstall_t. */
static const struct {
	int code;
	const char *name;
} results[] = {
        {128, "success"},
        {129, "generic failure"},
        {130, "flash access failure"},
        {131, "delta file access failure"},
        {140, "generic decomposition-engine error"},
        {141, "RAM error"},
        {144, "file not found"},
        {148, "delta file corrupted"},
        {158, "delta format not recognised"},
        {160, "flash write failure"},
        {168, "delta / flash firmware mismatch"},
        {173, "signature mismatch"},
        {174, "delta version not supported"},
        {178, "RAM corruption"},
        {180, "delta size mismatch"},
        {195, "updated flash corruption"},
        {224, "generic finalisation error"},
        {227, "public key error"},
        {247, "delta pre-validation failure"},
};

const char *fwu_install_result_name(int n)
{
	size_t i;

	if (n >= 0 && n <= 100)
		return "progress";
	for (i = 0; i < sizeof(results) / sizeof(results[0]); i++)
		if (results[i].code == n)
			return results[i].name;
	return "unknown result";
}

bool fwu_md5_equal(const char *a, const char *b)
{
	size_t i;

	if (!a || !b || strlen(a) != 32 || strlen(b) != 32)
		return false;
	for (i = 0; i < 32; i++)
		if (fuota_hex_digit(a[i]) < 0 || fuota_hex_digit(a[i]) != fuota_hex_digit(b[i]))
			return false;
	return true;
}
